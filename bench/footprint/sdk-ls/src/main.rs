//! Prints `size key` for every object in the bucket named on the command line. Credentials,
//! region and endpoint come from the AWS_* environment variables.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(bucket) = std::env::args().nth(1) else {
        eprintln!("usage: sdk-ls BUCKET");
        return ExitCode::from(2);
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let listed = rt.block_on(async {
        let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        // Path-style: a loopback endpoint has no bucket subdomains.
        let conf = aws_sdk_s3::config::Builder::from(&shared).force_path_style(true).build();
        let s3 = aws_sdk_s3::Client::from_conf(conf);
        let mut pages = s3.list_objects_v2().bucket(&bucket).into_paginator().send();
        while let Some(page) = pages.next().await {
            for o in page?.contents() {
                println!("{} {}", o.size().unwrap_or(0), o.key().unwrap_or_default());
            }
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    });
    match listed {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sdk-ls: {e}");
            ExitCode::FAILURE
        }
    }
}
