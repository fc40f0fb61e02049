//! `presign` (a presigned GET or PUT URL) and `presign-post` (a browser upload form).

use super::{client, parse_s3};
use crate::{Failure, GlobalArgs};
use anyhow::anyhow;
use cirrus::s3::{PostOptions, PresignOptions};
use std::time::Duration;

// What `presign` takes.
#[derive(clap::Args, Debug)]
pub(crate) struct PresignArgs {
    /// Seconds the URL works (at most 604800, 7 days).
    #[arg(long, default_value_t = 3600)]
    expires_in: u64,
    /// GET (download) or PUT (upload).
    #[arg(long, default_value = "GET")]
    method: String,
    /// s3://BUCKET/KEY
    target: String,
}

// What `presign-post` takes.
#[derive(clap::Args, Debug)]
pub(crate) struct PresignPostArgs {
    /// The file name the key ends with (the key is PREFIX + FILENAME).
    #[arg(long)]
    filename: String,
    /// The Content-Type the upload must have.
    #[arg(long)]
    content_type: Option<String>,
    /// The largest upload allowed, in bytes (at most 5368709120, 5 GiB: S3's limit for POST).
    #[arg(long)]
    max_size: Option<u64>,
    /// The upload's exact size in bytes: a file of any other size is refused.
    #[arg(long, value_name = "BYTES")]
    size: Option<u64>,
    /// Downloads of the object save it as --filename: the form sets `Content-Disposition:
    /// attachment; filename="..."` (RFC 6266, non-ASCII names encoded), which S3 keeps.
    #[arg(long)]
    attachment: bool,
    /// Seconds the form works.
    #[arg(long, default_value_t = 3600)]
    expires_in: u64,
    /// s3://BUCKET/PREFIX/
    target: String,
}

/// `presign`: the URL on stdout, a warning on stderr when the credentials expire first.
pub(super) async fn presign(global: &GlobalArgs, args: PresignArgs) -> Result<(), Failure> {
    let (bucket, key) = parse_s3(&args.target)?;
    let method = match args.method.to_ascii_uppercase().as_str() {
        "GET" => http::Method::GET,
        "PUT" => http::Method::PUT,
        other => return Err(Failure::input(anyhow!("--method {other:?}: GET or PUT"))),
    };
    let s3 = client(global)?;
    let opts = PresignOptions::default();
    let expires_in = Duration::from_secs(args.expires_in);
    let p = s3.presign(method, &bucket, &key, expires_in, &opts).await.map_err(Failure::from)?;
    if let Some(w) = p.warning() {
        eprintln!("cirrus: warning: {w}");
    }
    outln!("{}", p.url)
}

/// `presign-post`: `{"url": ..., "fields": {...}}` on stdout.
pub(super) async fn presign_post(global: &GlobalArgs, args: PresignPostArgs) -> Result<(), Failure> {
    let (bucket, prefix) = parse_s3(&args.target)?;
    let mut opts = PostOptions::new(prefix).with_expires_in(Duration::from_secs(args.expires_in));
    if args.attachment {
        opts = opts.with_attachment(&args.filename);
    }
    opts = opts.with_filename(args.filename);
    if let Some(n) = args.size {
        opts = opts.with_size(n);
    }
    if let Some(t) = args.content_type {
        opts = opts.with_content_type(t);
    }
    if let Some(n) = args.max_size {
        opts = opts.with_max_size(n);
    }
    let s3 = client(global)?;
    let form = s3.presign_post(&bucket, &opts).await.map_err(Failure::from)?;
    let fields: serde_json::Map<String, serde_json::Value> =
        form.fields.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
    outln!("{}", serde_json::json!({"url": form.url, "fields": fields}))
}
