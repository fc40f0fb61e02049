//! One S3 operation with one client, timed from inside: the same work for cirrus and for
//! aws-sdk-s3 (multipart upload with 8 MiB parts, 4 in flight; a streamed download to a file;
//! listing every key). `bench/compare/s3.sh` runs it against one loopback s3s-fs server, each
//! run in its own process under `/usr/bin/time -v` for the peak RSS.
//!
//!   s3 <cirrus|sdk> <mb|put|get|list|fill> BUCKET [KEY] [FILE|COUNT]
//!
//! Credentials, region and endpoint come from the usual AWS_* variables.

use std::path::Path;
use std::time::Instant;

const PART: u64 = 8 << 20;
const CONCURRENCY: usize = 4;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: s3 <cirrus|sdk> <mb|put|get|list|fill> BUCKET [KEY] [FILE|COUNT]");
        std::process::exit(2);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let started = Instant::now();
    let result = rt.block_on(async {
        match args[0].as_str() {
            "cirrus" => cirrus_op(&args[1], &args[2..]).await,
            "sdk" => sdk_op(&args[1], &args[2..]).await,
            other => Err(format!("unknown client {other}").into()),
        }
    });
    match result {
        Ok(detail) => println!("elapsed_s={:.4} {detail}", started.elapsed().as_secs_f64()),
        Err(e) => {
            eprintln!("s3 {}: {e}", args.join(" "));
            std::process::exit(1);
        }
    }
}

async fn cirrus_op(op: &str, a: &[String]) -> Res<String> {
    use cirrus::s3::{ListOptions, PutOptions, S3Client, S3Settings};
    use futures_util::TryStreamExt;
    use tokio::io::AsyncWriteExt;
    let config = cirrus::config::Config::from_env()?;
    let settings = S3Settings::s3_compatible().with_part_size(PART, PART).with_concurrency(CONCURRENCY);
    let s3 = S3Client::with_settings(&config, settings)?;
    let bucket = &a[0];
    match op {
        "mb" => {
            s3.create_bucket(bucket).await?;
            Ok(String::new())
        }
        "put" => {
            let out = s3.upload_file(bucket, &a[1], Path::new(&a[2]), &PutOptions::default()).await?;
            Ok(format!("parts={}", out.parts))
        }
        "get" => {
            let mut got = s3.get(bucket, &a[1], None).await?;
            let mut file = tokio::fs::File::create(&a[2]).await?;
            let mut n = 0u64;
            while let Some(chunk) = got.body.try_next().await? {
                n += chunk.len() as u64;
                file.write_all(&chunk).await?;
            }
            file.flush().await?;
            Ok(format!("bytes={n}"))
        }
        "list" => {
            let n = s3.list(bucket, ListOptions::default()).try_fold(0u64, |n, _| async move { Ok(n + 1) }).await?;
            Ok(format!("keys={n}"))
        }
        "fill" => {
            // Many small objects, 16 at a time (setup, not timed in the report).
            let count: usize = a[1].parse()?;
            let s3 = &s3;
            futures_util::stream::iter(0..count)
                .map(|i| async move {
                    s3.put(bucket, &format!("many/key-{i:06}.txt"), format!("{i}"), &PutOptions::default()).await
                })
                .buffer_unordered(16)
                .try_collect::<Vec<_>>()
                .await?;
            Ok(format!("keys={count}"))
        }
        _ => Err(format!("unknown operation {op}").into()),
    }
}

use futures_util::StreamExt;

async fn sdk_op(op: &str, a: &[String]) -> Res<String> {
    use aws_sdk_s3::primitives::ByteStream;
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    // Path-style for the loopback endpoint; checksums only where required, as cirrus sends
    // them, so both clients do the same work.
    let conf = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(true)
        .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(conf);
    let bucket = &a[0];
    match op {
        "mb" => {
            s3.create_bucket().bucket(bucket).send().await?;
            Ok(String::new())
        }
        "put" => {
            // What the SDK leaves to its users: a multipart upload by hand, the same part
            // size and parts in flight as cirrus (aborted on failure).
            let key = &a[1];
            let created = s3.create_multipart_upload().bucket(bucket).key(key).send().await?;
            let upload_id = created.upload_id().ok_or("no upload id")?.to_owned();
            let mut file = tokio::fs::File::open(&a[2]).await?;
            let mut tasks = tokio::task::JoinSet::new();
            let mut parts = Vec::new();
            let mut number = 0i32;
            let result: Res<()> = async {
                loop {
                    let mut buf = Vec::with_capacity(PART as usize);
                    (&mut file).take(PART).read_to_end(&mut buf).await?;
                    if buf.is_empty() {
                        break;
                    }
                    number += 1;
                    while tasks.len() >= CONCURRENCY {
                        parts.push(tasks.join_next().await.ok_or("no task")???);
                    }
                    let (s3, bucket, key, id, n) = (s3.clone(), bucket.clone(), key.clone(), upload_id.clone(), number);
                    tasks.spawn(async move {
                        let out = s3
                            .upload_part()
                            .bucket(bucket)
                            .key(key)
                            .upload_id(id)
                            .part_number(n)
                            .body(ByteStream::from(buf))
                            .send()
                            .await?;
                        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(
                            CompletedPart::builder().part_number(n).set_e_tag(out.e_tag().map(str::to_owned)).build(),
                        )
                    });
                }
                while let Some(done) = tasks.join_next().await {
                    parts.push(done??);
                }
                Ok(())
            }
            .await;
            if let Err(e) = result {
                let _ = s3.abort_multipart_upload().bucket(bucket).key(key).upload_id(&upload_id).send().await;
                return Err(e);
            }
            parts.sort_by_key(|p| p.part_number());
            let n = parts.len();
            s3.complete_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                .send()
                .await?;
            Ok(format!("parts={n}"))
        }
        "get" => {
            let mut got = s3.get_object().bucket(bucket).key(&a[1]).send().await?;
            let mut file = tokio::fs::File::create(&a[2]).await?;
            let mut n = 0u64;
            while let Some(chunk) = got.body.try_next().await? {
                n += chunk.len() as u64;
                file.write_all(&chunk).await?;
            }
            file.flush().await?;
            Ok(format!("bytes={n}"))
        }
        "list" => {
            let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
            let mut n = 0u64;
            while let Some(page) = pages.next().await {
                n += page?.contents().len() as u64;
            }
            Ok(format!("keys={n}"))
        }
        _ => Err(format!("unknown operation {op}").into()),
    }
}
