//! The AWS transfer manager for Rust as a small command line tool, for the side-by-side transfer
//! benchmark (`bench/compare/transfer.sh`, tool `s3transfer`). Everything is the crate's default
//! (part size, multipart threshold, concurrency), as its own `cp` example shows a user, except
//! path-style addressing, which s3s-fs needs.
//!
//!   s3transfer upload DIR BUCKET PREFIX           (every file under DIR, recursively)
//!   s3transfer download BUCKET PREFIX DIR         (every object under PREFIX, the prefix stripped)
//!   s3transfer upload-file FILE BUCKET KEY
//!   s3transfer download-file BUCKET KEY FILE
//!
//! The crate has no S3 -> S3 copy. Credentials, region and endpoint come from the usual AWS_*
//! variables (AWS_ENDPOINT_URL for s3s-fs), as aws-config reads them.
//!
//! The crate is `aws-sdk-s3-transfer-manager` 0.3.x, the newest in the registry this project can
//! reach: the 1.0 release (`aws-s3-transfer`) is not there. A single download is written by the
//! crate itself (`write_to_file`: positioned writes of its ranged parts), as its docs show.

use std::path::Path;

use aws_sdk_s3_transfer_manager::io::walk::FsWalker;
use aws_sdk_s3_transfer_manager::io::InputStream;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const USAGE: &str = "usage: s3transfer upload DIR BUCKET PREFIX | download BUCKET PREFIX DIR | \
                     upload-file FILE BUCKET KEY | download-file BUCKET KEY FILE";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 4 {
        eprintln!("{USAGE}");
        std::process::exit(2);
    }
    if let Err(e) = run(&args).await {
        eprintln!("s3transfer {}: {}", args.join(" "), aws_sdk_s3::error::DisplayErrorContext(e.as_ref()));
        std::process::exit(1);
    }
}

async fn run(a: &[String]) -> Res<()> {
    let tm = client().await;
    match a[0].as_str() {
        "upload" => {
            let out = tm
                .upload_objects()
                .source(&a[1])
                .bucket(&a[2])
                .key_prefix(&a[3])
                .walker(FsWalker::builder().recursive(true).build())
                .initiate()?
                .join()
                .await?;
            let failed = out.failed_transfers().len();
            println!("uploaded {} objects, {failed} failed", out.objects_uploaded());
            if failed > 0 {
                return Err(format!("{failed} uploads failed").into());
            }
        }
        "download" => {
            tokio::fs::create_dir_all(&a[3]).await?;
            let out =
                tm.download_objects().bucket(&a[1]).key_prefix(&a[2]).destination(&a[3]).initiate()?.join().await?;
            let failed = out.failed_transfers().len();
            println!("downloaded {} objects, {failed} failed", out.objects_downloaded());
            if failed > 0 {
                return Err(format!("{failed} downloads failed").into());
            }
        }
        "upload-file" => {
            let body = InputStream::from_path(Path::new(&a[1]))?;
            tm.upload().bucket(&a[2]).key(&a[3]).body(body).initiate()?.join().await?;
        }
        "download-file" => {
            let file = std::fs::File::create(&a[3])?;
            tm.download().bucket(&a[1]).key(&a[2]).write_to_file(file)?.join().await?;
        }
        other => return Err(format!("unknown operation {other}; {USAGE}").into()),
    }
    Ok(())
}

/// The crate's `from_env().load()` with one change: an S3 client that forces path-style
/// addressing (the loader builds the same client from the same shared config, without it).
async fn client() -> aws_sdk_s3_transfer_manager::Client {
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::config::Builder::from(&shared).force_path_style(true).build();
    let config = aws_sdk_s3_transfer_manager::Config::builder().client(aws_sdk_s3::Client::from_conf(s3)).build();
    aws_sdk_s3_transfer_manager::Client::new(config)
}
