//! The object options of cp, mv and sync (`ObjectArgs`: the headers of the objects written)
//! and the SSE flags among them (`SseArgs`), turned into the library's `PutOptions` and SSE-C
//! keys. The values are parsed by the library's types (`Expires`, `MetadataDirective`,
//! `ServerSideEncryption`, `SseCustomerKey`); this file words the errors as flags.

use crate::Failure;
use anyhow::anyhow;
use cirrus::s3::{Expires, MetadataDirective, PutOptions, S3Client, ServerSideEncryption, SseCustomerKey};

// The headers of the objects written, with the AWS CLI's names.
#[derive(clap::Args, Debug, Clone, Default)]
pub(super) struct ObjectArgs {
    /// Content-Type of the objects written (default: from the file name).
    #[arg(long)]
    content_type: Option<String>,
    /// Content-Disposition.
    #[arg(long)]
    content_disposition: Option<String>,
    /// Content-Encoding.
    #[arg(long)]
    content_encoding: Option<String>,
    /// Content-Language.
    #[arg(long)]
    content_language: Option<String>,
    /// Cache-Control.
    #[arg(long)]
    cache_control: Option<String>,
    /// Expires: an RFC 3339 time (`2026-12-01T00:00:00Z`), a date (`2026-12-01`), an HTTP
    /// date or seconds since 1970; sent as an HTTP date, as the AWS CLI sends it.
    #[arg(long, value_name = "TIME")]
    expires: Option<String>,
    /// Metadata: KEY=VALUE[,KEY=VALUE...].
    #[arg(long, value_name = "KEY=VALUE,...")]
    metadata: Option<String>,
    /// For S3 to S3 copies: COPY the source's metadata or REPLACE it with the options given
    /// (default: REPLACE when any is given).
    #[arg(long, value_name = "COPY|REPLACE")]
    metadata_directive: Option<String>,
    /// The storage class: STANDARD, STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR...
    #[arg(long)]
    storage_class: Option<String>,
    /// A canned ACL: private, public-read, bucket-owner-full-control...
    #[arg(long)]
    acl: Option<String>,
    #[command(flatten)]
    sse: SseArgs,
}

// Server-side encryption: by S3's keys (`--sse`, `--sse-kms-key-id`) or by the caller's
// (SSE-C, for the objects and for a copy's source).
#[derive(clap::Args, Debug, Clone, Default)]
pub(super) struct SseArgs {
    /// Server-side encryption: AES256 (when given without a value) or aws:kms.
    #[arg(long, num_args = 0..=1, default_missing_value = "AES256", value_name = "AES256|aws:kms")]
    sse: Option<String>,
    /// The KMS key for --sse aws:kms.
    #[arg(long, value_name = "KEY_ID")]
    sse_kms_key_id: Option<String>,
    /// SSE-C: objects written and read are encrypted with --sse-c-key (AES256).
    #[arg(long, num_args = 0..=1, default_missing_value = "AES256", value_name = "AES256")]
    sse_c: Option<String>,
    /// The 32-byte SSE-C key, as text or fileb://PATH. Never printed.
    #[arg(long, value_name = "KEY")]
    sse_c_key: Option<String>,
    /// SSE-C: a copy's source is encrypted with --sse-c-copy-source-key (AES256).
    #[arg(long, num_args = 0..=1, default_missing_value = "AES256", value_name = "AES256")]
    sse_c_copy_source: Option<String>,
    /// The 32-byte SSE-C key of a copy's source, as text or fileb://PATH.
    #[arg(long, value_name = "KEY")]
    sse_c_copy_source_key: Option<String>,
}

/// The SSE-C keys of a command: the objects', and a copy source's.
#[derive(Default)]
pub(crate) struct SseKeys {
    object: Option<SseCustomerKey>,
    source: Option<SseCustomerKey>,
}

impl SseKeys {
    /// `s3` reading and writing with these keys.
    pub(crate) fn client(&self, s3: S3Client) -> S3Client {
        if self.object.is_none() && self.source.is_none() {
            return s3;
        }
        s3.with_sse_customer_key(self.object.clone()).with_copy_source_sse_customer_key(self.source.clone())
    }
}

impl ObjectArgs {
    /// The SSE-C keys these flags give.
    pub(super) fn sse_keys(&self) -> Result<SseKeys, Failure> {
        let s = &self.sse;
        Ok(SseKeys {
            object: sse_c_key("sse-c", s.sse_c.as_deref(), s.sse_c_key.as_deref())?,
            source: sse_c_key("sse-c-copy-source", s.sse_c_copy_source.as_deref(), s.sse_c_copy_source_key.as_deref())?,
        })
    }

    /// The upload options these flags describe; bad values are exit 2.
    pub(super) fn put_options(&self) -> Result<PutOptions, Failure> {
        let mut put = PutOptions::default();
        put.content_type = self.content_type.clone();
        put.content_disposition = self.content_disposition.clone();
        put.content_encoding = self.content_encoding.clone();
        put.content_language = self.content_language.clone();
        put.cache_control = self.cache_control.clone();
        if let Some(text) = &self.expires {
            let expires = text.parse::<Expires>().map_err(|_| {
                Failure::input(anyhow!(
                    "--expires {text:?} is not a time: give 2026-12-01T00:00:00Z, 2026-12-01, an HTTP date or seconds since 1970"
                ))
            })?;
            put = put.with_expires(expires);
        }
        put.storage_class = self.storage_class.clone();
        put.acl = self.acl.clone();
        if let Some(m) = &self.metadata {
            for pair in m.split(',').filter(|p| !p.trim().is_empty()) {
                let (k, v) = pair.split_once('=').ok_or_else(|| {
                    Failure::input(anyhow!("--metadata {pair:?}: expected KEY=VALUE (pairs separated by commas)"))
                })?;
                put.metadata.push((k.trim().to_owned(), v.to_owned()));
            }
        }
        if let Some(d) = &self.metadata_directive {
            let directive = d.parse::<MetadataDirective>().map_err(|_| {
                Failure::input(anyhow!("--metadata-directive {:?}: COPY or REPLACE", d.to_ascii_uppercase()))
            })?;
            put.metadata_directive = Some(directive);
        }
        put = self.sse.apply(put)?;
        // Once, before anything is sent: a value no header can hold is bad input, not a
        // failure of every object.
        put.check().map_err(Failure::input)?;
        Ok(put)
    }
}

impl SseArgs {
    /// `put` with `--sse` and `--sse-kms-key-id` (a KMS key alone means aws:kms).
    fn apply(&self, mut put: PutOptions) -> Result<PutOptions, Failure> {
        if let Some(v) = &self.sse {
            let kind = v
                .parse::<ServerSideEncryption>()
                .map_err(|_| Failure::input(anyhow!("--sse {v:?}: AES256 or aws:kms")))?;
            put = put.with_server_side_encryption(kind);
        }
        if let Some(key) = &self.sse_kms_key_id {
            if put.server_side_encryption.is_some_and(|s| !s.is_kms()) {
                return Err(Failure::input(anyhow!("--sse-kms-key-id goes with --sse aws:kms")));
            }
            put = put.with_kms_key(key);
        }
        Ok(put)
    }
}

/// `--sse-c AES256 --sse-c-key K`: both or neither; the key as text or `fileb://PATH`.
fn sse_c_key(flag: &str, alg: Option<&str>, key: Option<&str>) -> Result<Option<SseCustomerKey>, Failure> {
    let (alg, key) = match (alg, key) {
        (None, None) => return Ok(None),
        (Some(a), Some(k)) => (a, k),
        (Some(_), None) => return Err(Failure::input(anyhow!("--{flag} needs --{flag}-key"))),
        (None, Some(_)) => return Err(Failure::input(anyhow!("--{flag}-key goes with --{flag} AES256"))),
    };
    if alg != "AES256" {
        return Err(Failure::input(anyhow!("--{flag} {alg:?}: SSE-C is AES256")));
    }
    let bytes = match key.strip_prefix("fileb://") {
        // A key is 32 bytes: anything much larger is not one.
        Some(path) => zeroize::Zeroizing::new(crate::read_limited(
            &format!("--{flag}-key fileb://"),
            std::path::Path::new(path),
            1024,
        )?),
        None => zeroize::Zeroizing::new(key.as_bytes().to_vec()),
    };
    SseCustomerKey::new(&bytes)
        .map(Some)
        .map_err(|e| Failure::input(anyhow::Error::new(e).context(format!("--{flag}-key"))))
}
