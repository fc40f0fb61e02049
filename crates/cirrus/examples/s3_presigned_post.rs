//! A presigned POST form (a browser uploads straight to S3, without your credentials), then
//! the upload a browser would make with it.
//!
//! 1. [`S3Client::presign_post`] signs a form for one key, `PREFIX` + the file's name, of one
//!    content type and at most 1 MiB, valid for 10 minutes.
//! 2. The file is posted with the form as `multipart/form-data` (the form's fields in order,
//!    the file last), through the same HTTP client as every cirrus call, unsigned: the form
//!    is the permission. `HeadObject` then shows that the object arrived whole.
//! 3. A file over the form's size limit is posted with the same form and refused by S3.
//!
//! In a web page, each field becomes `<input type="hidden" name="…" value="…">` in a
//! `<form action="URL" method="post" enctype="multipart/form-data">`, followed by
//! `<input type="file" name="file">`. The bucket is made if it does not exist. Exits 1 if the
//! upload fails, the object differs, or the oversized file is accepted.
//!
//! Credentials, region and endpoint come from where the AWS CLI finds them: `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_PROFILE`, and
//! `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`) for an S3-compatible server.
//!
//! ```sh
//! cargo run -p cirrus --features s3 --example s3_presigned_post -- s3://my-bucket/uploads/ [FILE]
//! ```
//!
//! Without FILE, a small text file is made and posted.

use bytes::Bytes;
use cirrus::s3::transfer::Location;
use cirrus::s3::{ListOptions, PostForm, PostOptions, S3Client};
use cirrus::Config;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

type BoxError = Box<dyn std::error::Error>;

/// The largest file the form allows.
const MAX_SIZE: u64 = 1 << 20;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("s3_presigned_post: {}", cirrus::transport::report(&*e));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let target = args.next().ok_or("usage: s3_presigned_post s3://BUCKET/PREFIX/ [FILE]")?;
    let Location::S3 { bucket, key } = Location::parse(&target)? else {
        return Err(format!("{target:?} is not an s3:// URL").into());
    };
    let prefix = if key.is_empty() || key.ends_with('/') { key } else { format!("{key}/") };
    let (name, data) = match args.next() {
        Some(path) => {
            let path = std::path::PathBuf::from(path);
            let name = path.file_name().ok_or("FILE names no file")?.to_string_lossy().into_owned();
            (name, std::fs::read(&path)?)
        }
        None => ("hello.txt".to_owned(), b"Uploaded with a presigned POST form.\n".to_vec()),
    };
    if data.len() as u64 > MAX_SIZE {
        return Err(format!("{name} is larger than the form's limit of {MAX_SIZE} bytes").into());
    }
    let content_type = cirrus::content_type::guess(&name).unwrap_or("application/octet-stream");

    let config = Config::from_env()?;
    let s3 = S3Client::from_config(&config)?;
    ensure_bucket(&s3, &bucket).await?;

    // 1. The form: where to post, and the signed fields.
    let options = PostOptions::new(&prefix)
        .with_filename(&name)
        .with_content_type(content_type)
        .with_max_size(MAX_SIZE)
        .with_expires_in(Duration::from_secs(600));
    let form = s3.presign_post(&bucket, &options).await?;
    let key = format!("{prefix}{name}");
    let minutes = form.expires_at.duration_since(SystemTime::now()).unwrap_or_default().as_secs().div_ceil(60);
    println!("a form for s3://{bucket}/{key} ({content_type}, at most {MAX_SIZE} bytes), valid {minutes} min:");
    println!("  POST {}", form.url);
    let names: Vec<&str> = form.fields.iter().map(|(k, _)| k.as_str()).collect();
    println!("  fields: {}, then the file", names.join(", "));

    // 2. What a browser does with it.
    let (status, answer) = post(&config, &form, &name, content_type, &data).await?;
    if !(200..300).contains(&status) {
        return Err(format!("S3 refused the upload: HTTP {status} {}", error_code(&answer)).into());
    }
    let info = s3.head(&bucket, &key).await?;
    if info.content_length != data.len() as u64 || s3.get_bytes(&bucket, &key).await? != data {
        return Err(format!("s3://{bucket}/{key} is not the file that was posted").into());
    }
    let stored_type = info.content_type.as_deref().unwrap_or("no content type");
    println!("posted {name}: HTTP {status}; s3://{bucket}/{key} holds its {} bytes ({stored_type})", data.len());

    // 3. The policy holds: one byte over the limit is refused.
    let too_big = vec![b'x'; MAX_SIZE as usize + 1];
    let (status, answer) = post(&config, &form, &name, content_type, &too_big).await?;
    if (200..300).contains(&status) {
        return Err(format!("a file over the limit was accepted (HTTP {status})").into());
    }
    println!("a file of {} bytes was refused: HTTP {status} {}", too_big.len(), error_code(&answer));
    Ok(())
}

/// Posts `form` with `data` as the file, as `multipart/form-data`: the form's fields in order,
/// the file last (S3 ignores fields after it).
async fn post(
    config: &Config,
    form: &PostForm,
    filename: &str,
    content_type: &str,
    data: &[u8],
) -> Result<(u16, Bytes), BoxError> {
    let boundary = format!("cirrus-form-{:016x}", fastrand::u64(..));
    let filename = filename.replace(['"', '\r', '\n'], "_");
    let mut body = Vec::with_capacity(data.len() + 4096);
    for (name, value) in &form.fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = http::Request::post(&form.url)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(Bytes::from(body))?;
    // The pooled client every cirrus call goes through (proxies, CA bundle, timeouts), without
    // signing: the form carries its own signature.
    let response = config.http().call(request, Some(Duration::from_secs(60))).await?;
    Ok((response.status().as_u16(), response.into_body()))
}

/// The `<Code>` of an S3 error answer (`EntityTooLarge`), or nothing.
fn error_code(answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(answer);
    match text.split_once("<Code>").and_then(|(_, rest)| rest.split_once("</Code>")) {
        Some((code, _)) => code.to_owned(),
        None => String::new(),
    }
}

/// Makes `bucket` unless it is there (a listing of one key tells).
async fn ensure_bucket(s3: &S3Client, bucket: &str) -> Result<(), cirrus::Error> {
    match s3.list_page(bucket, &ListOptions::prefix("").with_page_size(1), None).await {
        Err(e) if e.code() == Some("NoSuchBucket") => {
            s3.create_bucket(bucket).await?;
            println!("made bucket {bucket}");
            Ok(())
        }
        other => other.map(|_| ()),
    }
}
