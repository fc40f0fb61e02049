//! Every object under a prefix, in key order, listed in parallel key ranges. A listing is a chain
//! of pages, each waiting for the one before, so a large tree listed as one chain takes a round
//! trip per 1,000 keys. Here:
//! - the first page is asked for flat, as usual: a tree of up to 1,000 keys is one request;
//! - when there is more, the first level after that page is listed with `/` as delimiter, and
//!   its folders cut the rest of the tree into key ranges, each listed flat (`start-after` its
//!   first key, stopping past its last) by a task of its own, up to [`LIST_AHEAD`] at once;
//! - the ranges are read in turn, so the order stays S3's and memory stays bounded (a channel
//!   of objects per range listed ahead).
//!
//! Ranges rather than one task per folder: a thousand folders of ten keys are a few ranges of a
//! page or two, not a thousand requests (and some stores walk the whole bucket for every page).

use super::{ListOptions, ListPage, Object, S3Client};
use crate::transport::Error;
use futures_util::{stream, Stream, StreamExt};
use std::collections::VecDeque;
use tokio::sync::mpsc;

/// Ranges listed ahead of the one being read.
const LIST_AHEAD: usize = 16;

/// The folders of one page of the first level are cut into at most this many ranges.
const RANGES_PER_PAGE: usize = 16;

/// Objects a range's task may list ahead of its reader.
const RANGE_CHANNEL: usize = 1024;

type Sender = mpsc::Sender<Result<Object, Error>>;
type Receiver = mpsc::Receiver<Result<Object, Error>>;

/// What the reader takes next, in key order.
enum Segment {
    /// The first page's objects.
    Objects(Vec<Object>),
    /// A key range being listed by a task of its own.
    Range(Receiver),
    /// The first level failed: the last item, after what came before it.
    Failed(Error),
}

impl S3Client {
    /// Every object under `prefix` (all levels, as [`list`](Self::list) without a delimiter
    /// gives them), in key order, with the rest of the tree listed in parallel key ranges when
    /// it is more than a page. A listing error is the last item.
    ///
    /// ```no_run
    /// # async fn example(s3: cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use futures_util::TryStreamExt;
    ///
    /// let keys: Vec<String> = s3.list_tree("my-bucket", "logs/").map_ok(|o| o.key).try_collect().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn list_tree(&self, bucket: &str, prefix: &str) -> impl Stream<Item = Result<Object, Error>> + Send + 'static {
        self.list_tree_with_page_size(bucket, prefix, None)
    }

    /// [`list_tree`](Self::list_tree), every request asking for `page_size` keys a page (S3's
    /// default and most is 1,000).
    pub fn list_tree_with_page_size(
        &self,
        bucket: &str,
        prefix: &str,
        page_size: Option<u32>,
    ) -> impl Stream<Item = Result<Object, Error>> + Send + 'static {
        let options = ListOptions { page_size, ..ListOptions::prefix(prefix) };
        let (client, bucket) = (self.clone(), bucket.to_owned());
        let (tx, rx) = mpsc::channel::<Result<Object, Error>>(RANGE_CHANNEL);
        tokio::spawn(async move { feed(client, bucket, options, tx).await });
        stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|o| (o, rx)) })
    }
}

/// The first page; then, when there is more, ranges cut at the first level's folders, listed
/// ahead and handed over in turn, until the listing ends, fails or the reader goes away.
async fn feed(client: S3Client, bucket: String, options: ListOptions, tx: Sender) {
    let first = match client.list_page(&bucket, &options, None).await {
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            return;
        }
        Ok(page) => page,
    };
    let mut cuts = Cuts::new(&client, &bucket, &options, &first);
    let mut queue = VecDeque::from([Segment::Objects(first.objects)]);
    let mut ranges_ahead = 0usize;
    loop {
        while ranges_ahead < LIST_AHEAD && !cuts.done {
            match cuts.next_ranges().await {
                Ok(ranges) => {
                    ranges_ahead += ranges.len();
                    queue.extend(ranges.into_iter().map(Segment::Range));
                }
                Err(e) => {
                    queue.push_back(Segment::Failed(e));
                    cuts.done = true;
                }
            }
            if tx.is_closed() {
                return;
            }
        }
        let sent = match queue.pop_front() {
            None => return,
            Some(Segment::Objects(objects)) => forward_all(&tx, objects).await,
            Some(Segment::Range(rx)) => {
                ranges_ahead -= 1;
                forward_range(&tx, rx).await
            }
            Some(Segment::Failed(e)) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        };
        if !sent {
            return;
        }
    }
}

/// Where the rest of the tree is cut into ranges: the first level's folders after the first
/// page, read page by page with `/` as delimiter.
struct Cuts {
    client: S3Client,
    bucket: String,
    options: ListOptions,
    /// The key the next range starts after.
    cursor: String,
    /// The first level's next page.
    token: Option<String>,
    /// No more ranges to make.
    done: bool,
}

impl Cuts {
    fn new(client: &S3Client, bucket: &str, options: &ListOptions, first: &ListPage) -> Self {
        let cursor = match first.objects.last() {
            Some(o) => o.key.clone(),
            None => options.start_after.clone().unwrap_or_default(),
        };
        Cuts {
            client: client.clone(),
            bucket: bucket.to_owned(),
            options: options.clone(),
            cursor,
            token: None,
            done: first.next_token.is_none(),
        }
    }

    /// The ranges one more page of the first level cuts; the last range (to the end of the
    /// tree) once that level is read, or once a page of it names no folder (a level of keys
    /// alone is not worth listing twice).
    async fn next_ranges(&mut self) -> Result<Vec<Receiver>, Error> {
        let level = self.options.clone().with_delimiter("/").with_start_after(self.cursor.clone());
        let page = self.client.list_page(&self.bucket, &level, self.token.as_deref()).await?;
        let folders: Vec<&String> = page.common_prefixes.iter().filter(|f| **f > self.cursor).collect();
        let step = folders.len().div_ceil(RANGES_PER_PAGE).max(1);
        let mut ranges = Vec::new();
        for cut in folders.iter().step_by(step) {
            ranges.push(self.range(Some((*cut).clone())));
            self.cursor = (*cut).clone();
        }
        self.token = page.next_token;
        if self.token.is_none() || folders.is_empty() {
            ranges.push(self.range(None));
            self.done = true;
        }
        Ok(ranges)
    }

    /// The keys after the cursor, up to `last` (itself included) or to the end. Every such key
    /// starts with what the cursor and `last` share, so that is the range's prefix: a store
    /// that reads every key under the prefix for each page reads only the range's.
    fn range(&self, last: Option<String>) -> Receiver {
        let (tx, rx) = mpsc::channel(RANGE_CHANNEL);
        let mut options = self.options.clone().with_start_after(self.cursor.clone());
        if let Some(last) = &last {
            let shared = common_prefix(&self.cursor, last);
            if shared.len() > options.prefix.as_deref().map_or(0, str::len) {
                options.prefix = Some(shared.to_owned());
            }
        }
        let (client, bucket) = (self.client.clone(), self.bucket.clone());
        tokio::spawn(async move {
            let mut objects = Box::pin(client.list(&bucket, options));
            while let Some(item) = objects.next().await {
                let (failed, past) = match &item {
                    Ok(o) => (false, last.as_ref().is_some_and(|l| o.key > *l)),
                    Err(_) => (true, false),
                };
                if past || tx.send(item).await.is_err() || failed {
                    return;
                }
            }
        });
        rx
    }
}

/// The longest prefix `a` and `b` share, cut at a character boundary.
fn common_prefix<'a>(a: &'a str, b: &str) -> &'a str {
    let n = a.char_indices().zip(b.chars()).find(|((_, x), y)| x != y).map_or(a.len().min(b.len()), |((i, _), _)| i);
    &a[..n]
}

/// Hands `objects` to the reader; false when it went away.
async fn forward_all(tx: &Sender, objects: Vec<Object>) -> bool {
    for o in objects {
        if tx.send(Ok(o)).await.is_err() {
            return false;
        }
    }
    true
}

/// Hands a range to the reader, whole; false when the reader went away or the range failed
/// (its error is the last item).
async fn forward_range(tx: &Sender, mut rx: Receiver) -> bool {
    while let Some(item) = rx.recv().await {
        let failed = item.is_err();
        if tx.send(item).await.is_err() || failed {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::common_prefix;

    #[test]
    fn the_shared_prefix_of_two_keys() {
        assert_eq!(common_prefix("t/d00/f1", "t/d06/"), "t/d0");
        assert_eq!(common_prefix("t/a", "t/a/b"), "t/a");
        assert_eq!(common_prefix("", "t/"), "");
        assert_eq!(common_prefix("t/\u{e4}x", "t/\u{e4}y"), "t/\u{e4}");
        assert_eq!(common_prefix("t/\u{e4}", "t/\u{f6}"), "t/");
    }
}
