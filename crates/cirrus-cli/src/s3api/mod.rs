//! `cirrus s3api ...`: the S3 API calls scripts use every day, with the AWS CLI's names, flags
//! and JSON (`--output text` as the AWS CLI lays it out). Structures take the AWS CLI's
//! shorthand, JSON, or `file://` (`shorthand.rs`); answers are printed by `format.rs`.

mod format;
mod shorthand;

use crate::{Failure, GlobalArgs};
use anyhow::anyhow;
use cirrus::s3::{ListOptions, PutOptions, S3Client};
use futures_util::StreamExt;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

// `--bucket` and `--key`, as every object call takes them.
#[derive(clap::Args, Debug)]
pub(crate) struct ObjectRef {
    /// The bucket.
    #[arg(long)]
    bucket: String,
    /// The key.
    #[arg(long)]
    key: String,
}

// An object call that may name a version.
#[derive(clap::Args, Debug)]
pub(crate) struct VersionRef {
    #[command(flatten)]
    object: ObjectRef,
    /// The version of the object (default: the current one).
    #[arg(long, value_name = "ID")]
    version_id: Option<String>,
}

// `--bucket` alone.
#[derive(clap::Args, Debug)]
pub(crate) struct BucketRef {
    /// The bucket.
    #[arg(long)]
    bucket: String,
}

#[derive(clap::Subcommand, Debug)]
#[command(defer = true)]
pub(crate) enum S3apiCommand {
    /// What S3 says about an object (HeadObject), or one version of it.
    #[command(
        after_help = "Examples:\n  cirrus s3api head-object --bucket my-bucket --key report.pdf\n  cirrus s3api head-object --bucket my-bucket --key config.json --version-id 3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH"
    )]
    HeadObject(VersionRef),
    /// Download an object (or one version) to OUTFILE and print what S3 says about it (GetObject).
    #[command(
        after_help = "Examples:\n  cirrus s3api get-object --bucket my-bucket --key config.json --version-id 3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH old.json\n  cirrus s3api get-object --bucket my-bucket --key big.bin --range bytes=0-1023 head.bin"
    )]
    GetObject {
        #[command(flatten)]
        at: VersionRef,
        /// Only these bytes (`bytes=0-99`).
        #[arg(long)]
        range: Option<String>,
        /// The file to write.
        outfile: PathBuf,
    },
    /// Write an object from a file, in one PutObject (files up to 1 GiB; larger: `s3 cp`).
    #[command(
        after_help = "Examples:\n  cirrus s3api put-object --bucket my-bucket --key notes.txt --body notes.txt\n  \
                            cirrus s3api put-object --bucket my-bucket --key r.csv --body r.csv --metadata \
                            team=data,run=7 --tagging 'tier=2&owner=ana'"
    )]
    PutObject {
        #[command(flatten)]
        object: ObjectRef,
        /// The file to upload (none: an empty object).
        #[arg(long, value_name = "FILE")]
        body: Option<PathBuf>,
        /// The object's Content-Type.
        #[arg(long)]
        content_type: Option<String>,
        /// `x-amz-meta-*` metadata: `key1=value1,key2=value2`, the same as JSON
        /// (`{"key1":"value1"}`), or file://FILE.
        #[arg(long, value_name = "MAP")]
        metadata: Option<String>,
        /// Tags as a URL query: `key1=value1&key2=value2`.
        #[arg(long, value_name = "QUERY")]
        tagging: Option<String>,
    },
    /// Delete an object; with --version-id, that version for good (DeleteObject).
    #[command(
        after_help = "Examples:\n  cirrus s3api delete-object --bucket my-bucket --key old.txt --version-id 3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH\n  cirrus s3api delete-object --bucket my-bucket --key tmp/scratch.txt"
    )]
    DeleteObject(VersionRef),
    /// Every version and delete marker under a prefix (ListObjectVersions, all pages).
    #[command(
        after_help = "Examples:\n  cirrus s3api list-object-versions --bucket my-bucket --prefix config/\n  cirrus --output text s3api list-object-versions --bucket my-bucket"
    )]
    ListObjectVersions {
        #[command(flatten)]
        bucket: BucketRef,
        /// Only keys that start with this.
        #[arg(long)]
        prefix: Option<String>,
        /// Group keys by this (CommonPrefixes).
        #[arg(long)]
        delimiter: Option<String>,
    },
    /// The tags of an object (GetObjectTagging).
    #[command(
        after_help = "Examples:\n  cirrus s3api get-object-tagging --bucket my-bucket --key report.pdf\n  cirrus s3api get-object-tagging --bucket my-bucket --key report.pdf --version-id 3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH"
    )]
    GetObjectTagging(VersionRef),
    /// Replace the tags of an object (PutObjectTagging).
    #[command(
        after_help = "Examples:\n  cirrus s3api put-object-tagging --bucket my-bucket --key report.pdf --tagging 'TagSet=[{Key=team,Value=data},{Key=tier,Value=2}]'\n  cirrus s3api put-object-tagging --bucket my-bucket --key report.pdf --tagging file://tags.json"
    )]
    PutObjectTagging {
        #[command(flatten)]
        at: VersionRef,
        /// `TagSet=[{Key=k,Value=v},...]`, the same as JSON, or file://FILE.
        #[arg(long)]
        tagging: String,
    },
    /// The region a bucket is in (GetBucketLocation; null for us-east-1).
    #[command(
        after_help = "Examples:\n  cirrus s3api get-bucket-location --bucket my-bucket\n  cirrus --output text s3api get-bucket-location --bucket my-bucket"
    )]
    GetBucketLocation(BucketRef),
    /// A bucket's versioning (GetBucketVersioning; nothing when never enabled).
    #[command(
        after_help = "Examples:\n  cirrus s3api get-bucket-versioning --bucket my-bucket\n  cirrus --profile prod s3api get-bucket-versioning --bucket my-bucket"
    )]
    GetBucketVersioning(BucketRef),
    /// Turn a bucket's versioning on or off (PutBucketVersioning).
    #[command(
        after_help = "Examples:\n  cirrus s3api put-bucket-versioning --bucket my-bucket --versioning-configuration Status=Enabled\n  cirrus s3api put-bucket-versioning --bucket my-bucket --versioning-configuration Status=Suspended"
    )]
    PutBucketVersioning {
        #[command(flatten)]
        bucket: BucketRef,
        /// `Status=Enabled|Suspended`, the same as JSON, or file://FILE.
        #[arg(long)]
        versioning_configuration: String,
    },
    /// A bucket's policy (GetBucketPolicy).
    #[command(
        after_help = "Examples:\n  cirrus s3api get-bucket-policy --bucket my-bucket --output text\n  cirrus s3api get-bucket-policy --bucket my-bucket"
    )]
    GetBucketPolicy(BucketRef),
    /// Set a bucket's policy (PutBucketPolicy).
    #[command(
        after_help = "Examples:\n  cirrus s3api put-bucket-policy --bucket my-bucket --policy file://policy.json\n  cirrus --profile prod s3api put-bucket-policy --bucket my-bucket --policy file://deny-http.json"
    )]
    PutBucketPolicy {
        #[command(flatten)]
        bucket: BucketRef,
        /// The policy: JSON, or file://FILE.
        #[arg(long)]
        policy: String,
    },
    /// Remove a bucket's policy (DeleteBucketPolicy).
    #[command(
        after_help = "Examples:\n  cirrus s3api delete-bucket-policy --bucket my-bucket\n  cirrus --profile prod s3api delete-bucket-policy --bucket my-bucket"
    )]
    DeleteBucketPolicy(BucketRef),
}

pub(crate) async fn run(global: &GlobalArgs, cmd: S3apiCommand) -> Result<(), Failure> {
    // Structures are read before anything is sent: bad input never reaches S3.
    let answer = match cmd {
        S3apiCommand::PutObjectTagging { at, tagging } => {
            let tags = shorthand::tags("--tagging", &shorthand::structure("--tagging", &tagging)?)?;
            let VersionRef { object: ObjectRef { bucket, key }, version_id } = at;
            let version = client(global)?.put_object_tagging(&bucket, &key, version_id.as_deref(), &tags).await?;
            version_only(version)
        }
        S3apiCommand::PutBucketVersioning { bucket, versioning_configuration: given } => {
            let flag = "--versioning-configuration";
            let config = shorthand::versioning(flag, &shorthand::structure(flag, &given)?)?;
            client(global)?.put_bucket_versioning(&bucket.bucket, &config).await?;
            json!({})
        }
        S3apiCommand::PutBucketPolicy { bucket, policy } => {
            let policy = shorthand::argument_text("--policy", &policy)?;
            client(global)?.put_bucket_policy(&bucket.bucket, &policy).await?;
            json!({})
        }
        S3apiCommand::PutObject { object, body, content_type, metadata, tagging } => {
            let mut options = content_type.map(PutOptions::content_type).unwrap_or_default();
            if let Some(given) = metadata {
                options.metadata = shorthand::string_map("--metadata", &shorthand::structure("--metadata", &given)?)?;
            }
            options.tagging = tagging;
            let bytes = match &body {
                Some(path) => crate::read_limited("--body", path, crate::MAX_BODY_IN_MEMORY)?,
                None => Vec::new(),
            };
            let out = client(global)?.put(&object.bucket, &object.key, bytes, &options).await?;
            let mut m = Map::new();
            m.insert("ETag".into(), json!(out.etag));
            if let Some(v) = out.version_id {
                m.insert("VersionId".into(), json!(v));
            }
            if let Some(c) = out.checksum {
                m.insert(format!("Checksum{}", c.algorithm.as_str()), json!(c.value));
            }
            Value::Object(m)
        }
        other => reads(client(global)?, other).await?,
    };
    format::print(global.output, &answer)
}

/// The calls that read (and delete-object, get-object).
async fn reads(s3: S3Client, cmd: S3apiCommand) -> Result<Value, Failure> {
    Ok(match cmd {
        S3apiCommand::HeadObject(at) => {
            format::object_info(&s3.head_version(&at.object.bucket, &at.object.key, at.version_id.as_deref()).await?)
        }
        S3apiCommand::GetObject { at, range, outfile } => get_object(&s3, &at, range.as_deref(), &outfile).await?,
        S3apiCommand::DeleteObject(at) => {
            let out = s3.delete_version(&at.object.bucket, &at.object.key, at.version_id.as_deref()).await?;
            let mut m = Map::new();
            if out.delete_marker {
                m.insert("DeleteMarker".into(), json!(true));
            }
            if let Some(v) = out.version_id {
                m.insert("VersionId".into(), json!(v));
            }
            Value::Object(m)
        }
        S3apiCommand::ListObjectVersions { bucket, prefix, delimiter } => {
            let mut options = ListOptions::default();
            options.prefix = prefix;
            options.delimiter = delimiter;
            list_versions(&s3, &bucket.bucket, options).await?
        }
        S3apiCommand::GetObjectTagging(at) => {
            let (tags, version) =
                s3.get_object_tagging(&at.object.bucket, &at.object.key, at.version_id.as_deref()).await?;
            let mut v = version_only(version);
            let set: Vec<Value> = tags.into_iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect();
            v["TagSet"] = Value::Array(set);
            v
        }
        S3apiCommand::GetBucketLocation(b) => json!({"LocationConstraint": s3.get_bucket_location(&b.bucket).await?}),
        S3apiCommand::GetBucketVersioning(b) => {
            let config = s3.get_bucket_versioning(&b.bucket).await?;
            let mut m = Map::new();
            if let Some(s) = config.status {
                m.insert("Status".into(), json!(s));
            }
            if let Some(s) = config.mfa_delete {
                m.insert("MFADelete".into(), json!(s));
            }
            Value::Object(m)
        }
        S3apiCommand::GetBucketPolicy(b) => json!({"Policy": s3.get_bucket_policy(&b.bucket).await?}),
        S3apiCommand::DeleteBucketPolicy(b) => {
            s3.delete_bucket_policy(&b.bucket).await?;
            json!({})
        }
        S3apiCommand::PutObjectTagging { .. }
        | S3apiCommand::PutBucketVersioning { .. }
        | S3apiCommand::PutBucketPolicy { .. }
        | S3apiCommand::PutObject { .. } => return Err(anyhow!("not a read").into()),
    })
}

/// `{"VersionId": ...}`, or `{}` when S3 named none.
fn version_only(version: Option<String>) -> Value {
    match version {
        Some(v) => json!({ "VersionId": v }),
        None => json!({}),
    }
}

/// GetObject into `outfile` (created or truncated, as the AWS CLI writes it); the answer's
/// fields printed as head-object prints them.
async fn get_object(s3: &S3Client, at: &VersionRef, range: Option<&str>, outfile: &PathBuf) -> Result<Value, Failure> {
    use tokio::io::AsyncWriteExt;
    let got = s3.get_version(&at.object.bucket, &at.object.key, at.version_id.as_deref(), range).await?;
    let fail = |e: std::io::Error| Failure::from(anyhow!("cannot write {}: {e}", outfile.display()));
    let mut file = tokio::fs::File::create(outfile).await.map_err(fail)?;
    let mut body = got.body;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(anyhow::Error::new)?;
        file.write_all(&chunk).await.map_err(fail)?;
    }
    file.flush().await.map_err(fail)?;
    Ok(format::object_info(&got.info))
}

/// Every page of ListObjectVersions gathered (as the AWS CLI gathers them):
/// `{"Versions": [...], "DeleteMarkers": [...], "CommonPrefixes": [...]}`, empty lists left out.
async fn list_versions(s3: &S3Client, bucket: &str, options: ListOptions) -> Result<Value, Failure> {
    let (mut versions, mut markers, mut prefixes) = (Vec::new(), Vec::new(), Vec::new());
    let mut pages = Box::pin(s3.list_object_version_pages(bucket, options));
    while let Some(page) = pages.next().await {
        let page = page?;
        for v in &page.versions {
            if v.is_delete_marker { &mut markers } else { &mut versions }.push(format::version(v));
        }
        prefixes.extend(page.common_prefixes.into_iter().map(|p| json!({ "Prefix": p })));
    }
    let mut m = Map::new();
    for (name, list) in [("Versions", versions), ("DeleteMarkers", markers), ("CommonPrefixes", prefixes)] {
        if !list.is_empty() {
            m.insert(name.into(), Value::Array(list));
        }
    }
    Ok(Value::Object(m))
}

/// The S3 client the global flags and the profile describe.
/// The s3 commands' client: the profile's `s3` settings, `--bucket-as-host`, `--request-payer`.
fn client(global: &GlobalArgs) -> Result<S3Client, Failure> {
    crate::s3::client(global)
}
