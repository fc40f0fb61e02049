//! Every object under a prefix, in key order, listed folder by folder in parallel: a listing is
//! a chain of pages, each waiting for the one before (and some stores walk the whole prefix for
//! every page), so a tree of folders listed as one chain takes a round trip and a server walk
//! per 1,000 keys. Here the first level is listed with `/` as delimiter, each folder found there
//! is listed whole by a task of its own, up to [`LIST_AHEAD`] ahead of the one being read, and
//! the folders are read in turn: the order stays S3's, and memory stays bounded (a channel of
//! objects per folder listed ahead).

use super::{ListOptions, Object, S3Client};
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
        let (client, bucket, prefix) = (self.clone(), bucket.to_owned(), prefix.to_owned());
        let (tx, rx) = mpsc::channel::<Result<Object, Error>>(FOLDER_CHANNEL);
        tokio::spawn(async move { feed(client, bucket, prefix, tx).await });
        stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|o| (o, rx)) })
    }
}

/// Lists the first level ahead while few folders are listed, and hands over the front segment
/// (a folder whole) in turn, until the listing ends, fails or the reader goes away.
async fn feed(client: S3Client, bucket: String, prefix: String, tx: mpsc::Sender<Result<Object, Error>>) {
    let top = ListOptions::prefix(prefix).with_delimiter("/");
    let mut pages = Box::pin(client.list_pages(&bucket, top));
    let mut queue: VecDeque<Segment> = VecDeque::new();
    let (mut folders_ahead, mut top_done) = (0usize, false);
    loop {
        while !top_done && folders_ahead < LIST_AHEAD && queue.len() < 4096 {
            match pages.next().await {
                None => top_done = true,
                Some(Err(e)) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
                Some(Ok(page)) => {
                    // Keys and folders of a page, merged in key order.
                    let mut objects = page.objects.into_iter().peekable();
                    let mut folders = page.common_prefixes.into_iter().peekable();
                    loop {
                        let take_object = match (objects.peek(), folders.peek()) {
                            (None, None) => break,
                            (Some(_), None) => true,
                            (None, Some(_)) => false,
                            (Some(o), Some(f)) => o.key.as_bytes() < f.as_bytes(),
                        };
                        if take_object {
                            queue.extend(objects.next().map(Segment::Object));
                        } else if let Some(folder) = folders.next() {
                            queue.push_back(Segment::Folder(list_folder(client.clone(), bucket.clone(), folder)));
                            folders_ahead += 1;
                        }
                    }
                }
            }
        }
        match queue.pop_front() {
            None if top_done => return,
            None => continue,
            Some(Segment::Object(o)) => {
                if tx.send(Ok(o)).await.is_err() {
                    return;
                }
            }
            Some(Segment::Folder(mut frx)) => {
                folders_ahead -= 1;
                while let Some(item) = frx.recv().await {
                    let failed = item.is_err();
                    if tx.send(item).await.is_err() || failed {
                        return;
                    }
                }
            }
        }
    }
}

/// Every key under `folder`, listed by a task of its own; a listing error is the last item.
fn list_folder(client: S3Client, bucket: String, folder: String) -> mpsc::Receiver<Result<Object, Error>> {
    let (tx, rx) = mpsc::channel(FOLDER_CHANNEL);
    tokio::spawn(async move {
        let mut objects = Box::pin(client.list(&bucket, ListOptions::prefix(folder)));
        while let Some(item) = objects.next().await {
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                return;
            }
        }
    });
    rx
}
