//! `mb` and `rb`: make a bucket, remove one (with `--force`, emptied first on the engine).

use super::{client, json, parse_s3, transfer, versions};
use crate::{Failure, GlobalArgs};

/// `mb s3://BUCKET`.
pub(super) async fn mb(global: &GlobalArgs, target: &str) -> Result<(), Failure> {
    let (bucket, _) = parse_s3(target)?;
    client(global)?.create_bucket(&bucket).await?;
    said(global, "make_bucket", &bucket)
}

/// `make_bucket: B` / `remove_bucket: B`, or with `--output json` a `done` line as the
/// transfers print them (`{"event":"done","action":"make_bucket","source":"s3://B",...}`).
fn said(global: &GlobalArgs, action: &str, bucket: &str) -> Result<(), Failure> {
    if json(global) {
        let line = crate::output::json_object(&[
            ("event", "done".into()),
            ("action", action.into()),
            ("source", format!("s3://{bucket}").into()),
            ("destination", serde_json::Value::Null),
            ("bytes", 0.into()),
        ]);
        return outln!("{line}");
    }
    outln!("{action}: {}", crate::output::printable(bucket))
}

/// `rb [--force] s3://BUCKET`: with `force`, every object is deleted first (of a bucket that
/// has or had versioning, every version and delete marker), and the bucket is left when any
/// could not be.
pub(super) async fn rb(global: &GlobalArgs, force: bool, target: &str) -> Result<(), Failure> {
    let (bucket, _) = parse_s3(target)?;
    let s3 = client(global)?;
    if force {
        // A store that cannot say (no GetBucketVersioning, or not allowed) is emptied of its
        // current objects, as the AWS CLI empties every bucket.
        let versioned = s3.get_bucket_versioning(&bucket).await.is_ok_and(|v| v.status.is_some());
        if versioned {
            versions::empty_bucket(&s3, &bucket, json(global)).await?;
        } else {
            transfer::empty_bucket(&s3, &bucket, json(global)).await?;
        }
    }
    s3.delete_bucket(&bucket).await?;
    said(global, "remove_bucket", &bucket)
}
