//! Prints `size key` for every object in the bucket named on the command line. Credentials,
//! region and endpoint come from the AWS_* environment variables.

use futures_util::TryStreamExt;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(bucket) = std::env::args().nth(1) else {
        eprintln!("usage: cirrus-ls BUCKET");
        return ExitCode::from(2);
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let listed = rt.block_on(async {
        let config = cirrus::config::Config::from_env()?;
        let s3 = cirrus::s3::S3Client::new(&config)?;
        let mut objects = std::pin::pin!(s3.list(&bucket, cirrus::s3::ListOptions::default()));
        while let Some(o) = objects.try_next().await? {
            println!("{} {}", o.size, o.key);
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    });
    match listed {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cirrus-ls: {e}");
            ExitCode::FAILURE
        }
    }
}
