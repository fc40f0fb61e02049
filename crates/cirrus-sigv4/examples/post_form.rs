//! Prints a signed S3 POST form (`{"url": ..., "fields": {...}}`) for a browser upload.
//!
//! `cargo run -p cirrus-sigv4 --example post_form -- BUCKET PREFIX` with `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY` (and optionally `AWS_SESSION_TOKEN`, `AWS_REGION`) set.

use cirrus_sigv4::post_policy::PostPolicy;
use std::time::{Duration, SystemTime};

fn main() {
    let mut args = std::env::args().skip(1);
    let bucket = args.next().unwrap_or_else(|| "examplebucket".into());
    let prefix = args.next().unwrap_or_else(|| "uploads/".into());
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (Some(ak), Some(sk)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) else {
        eprintln!("post_form: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        std::process::exit(2);
    };
    let region = var("AWS_REGION").unwrap_or_else(|| "us-east-1".into());
    let now = SystemTime::now();
    let policy = PostPolicy::builder(now + Duration::from_secs(3600))
        .bucket(&bucket)
        .key_starts_with(&prefix)
        .content_type_starts_with("image/")
        .content_length_range(1, 5 * 1024 * 1024)
        .success_action_status(201)
        .build();
    let policy = match policy {
        Ok(p) => p,
        Err(e) => {
            eprintln!("post_form: {e}");
            std::process::exit(2);
        }
    };
    let form = policy.sign(&ak, &sk, var("AWS_SESSION_TOKEN").as_deref(), &region, now);
    let fields: serde_json::Map<String, serde_json::Value> =
        std::iter::once(("key".to_owned(), format!("{prefix}${{filename}}")))
            .chain(form.fields.iter().cloned())
            .map(|(k, v)| (k, v.into()))
            .collect();
    let url = format!("https://{bucket}.s3.{region}.amazonaws.com/");
    let json = serde_json::json!({ "url": url, "fields": fields });
    println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    eprintln!("policy: {}", form.policy);
}
