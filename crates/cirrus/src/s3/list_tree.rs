//! Every object under a prefix, in key order, listed folder by folder in parallel: a listing is
//! a chain of pages, each waiting for the one before (and some stores walk the whole prefix for
//! every page), so a tree of folders listed as one chain takes a round trip and a server walk
//! per 1,000 keys. Here the first level is listed with `/` as delimiter, each folder found there
//! is listed whole by a task of its own, up to [`LIST_AHEAD`] at once, in key order from the
//! one being read, and the folders are read in turn: the order stays S3's, and memory and the
//! requests in flight stay bounded (a channel of objects per folder listed ahead; a level of a
//! thousand folders starts them sixteen at a time, not all at once).

use super::{ListOptions, ListPage, Object, S3Client};
use crate::transport::Error;
use futures_util::{stream, Stream, StreamExt};
use std::collections::VecDeque;
use tokio::sync::mpsc;

/// Folders listed ahead of the one being read.
const LIST_AHEAD: usize = 16;

/// Objects a folder's task may list ahead of its reader.
const FOLDER_CHANNEL: usize = 1024;

/// One item of the first level, in key order.
enum Segment {
    Object(Object),
    /// A folder not listed yet.
    Waiting(String),
    /// A folder being listed (every key under it) by a task of its own.
    Folder(mpsc::Receiver<Result<Object, Error>>),
}

impl S3Client {
    /// Every object under `prefix` (all levels, as [`list`](Self::list) without a delimiter
    /// gives them), in key order, with the folders of the first level listed in parallel. A
    /// listing error is the last item.
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
        let (tx, rx) = mpsc::channel::<Result<Object, Error>>(FOLDER_CHANNEL);
        tokio::spawn(async move { feed(client, bucket, options, tx).await });
        stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|o| (o, rx)) })
    }
}

/// Lists the first level ahead while few folders are known, starts the folders in key order
/// ([`LIST_AHEAD`] at once), and hands over the front segment (a folder whole) in turn, until
/// the listing ends, fails or the reader goes away.
async fn feed(client: S3Client, bucket: String, options: ListOptions, tx: mpsc::Sender<Result<Object, Error>>) {
    let mut pages = Box::pin(client.list_pages(&bucket, options.clone().with_delimiter("/")));
    let mut queue: VecDeque<Segment> = VecDeque::new();
    let (mut folders_ahead, mut top_done) = (0usize, false);
    // The segments at the front of the queue already looked at for starting, and the folders
    // started and not read yet.
    let (mut looked, mut started) = (0usize, 0usize);
    loop {
        while !top_done && folders_ahead < LIST_AHEAD && queue.len() < 4096 {
            match pages.next().await {
                None => top_done = true,
                Some(Err(e)) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
                Some(Ok(page)) => folders_ahead += merge_page(page, &mut queue),
            }
        }
        while (started < LIST_AHEAD || looked == 0) && looked < queue.len() {
            if let Segment::Waiting(folder) = &mut queue[looked] {
                let folder = std::mem::take(folder);
                queue[looked] = Segment::Folder(list_folder(client.clone(), bucket.clone(), folder, options.page_size));
                started += 1;
            }
            looked += 1;
        }
        let sent = match queue.pop_front() {
            None if top_done => return,
            None => continue,
            Some(Segment::Object(o)) => tx.send(Ok(o)).await.is_ok(),
            // Never: the front is always looked at (and started) first.
            Some(Segment::Waiting(_)) => true,
            Some(Segment::Folder(frx)) => {
                (folders_ahead, started) = (folders_ahead - 1, started - 1);
                forward(&tx, frx).await
            }
        };
        looked = looked.saturating_sub(1);
        if !sent {
            return;
        }
    }
}

/// Queues a page's keys and folders, merged in key order; how many folders it had.
fn merge_page(page: ListPage, queue: &mut VecDeque<Segment>) -> usize {
    let mut objects = page.objects.into_iter().peekable();
    let mut folders = page.common_prefixes.into_iter().peekable();
    let mut n = 0;
    loop {
        let take_object = match (objects.peek(), folders.peek()) {
            (None, None) => return n,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(o), Some(f)) => o.key.as_bytes() < f.as_bytes(),
        };
        if take_object {
            queue.extend(objects.next().map(Segment::Object));
        } else if let Some(folder) = folders.next() {
            queue.push_back(Segment::Waiting(folder));
            n += 1;
        }
    }
}

/// Hands a folder to the reader, whole; false when the reader went away or the folder's
/// listing failed (its error is the last item).
async fn forward(tx: &mpsc::Sender<Result<Object, Error>>, mut frx: mpsc::Receiver<Result<Object, Error>>) -> bool {
    while let Some(item) = frx.recv().await {
        let failed = item.is_err();
        if tx.send(item).await.is_err() || failed {
            return false;
        }
    }
    true
}

/// Every key under `folder`, listed by a task of its own; a listing error is the last item.
fn list_folder(
    client: S3Client,
    bucket: String,
    folder: String,
    page_size: Option<u32>,
) -> mpsc::Receiver<Result<Object, Error>> {
    let (tx, rx) = mpsc::channel(FOLDER_CHANNEL);
    tokio::spawn(async move {
        let options = ListOptions { page_size, ..ListOptions::prefix(folder) };
        let mut objects = Box::pin(client.list(&bucket, options));
        while let Some(item) = objects.next().await {
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                return;
            }
        }
    });
    rx
}
