//! PutObject, and uploads from any reader that switch to multipart above a threshold, with a
//! bounded number of parts in flight, and that abort the upload on any failure or cancellation.

use super::cancel::Cancel;
use super::ServerSideEncryption;
use super::{check_bucket_key, encode_query, xml_escape, Checksum, ChecksumAlgorithm, Expires, S3Client};
use crate::transport::xml;
use crate::transport::{Error, Request};
use bytes::Bytes;
use http::Method;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt};

/// S3's limit of parts in one upload.
pub(crate) const MAX_PARTS: u64 = 10_000;

/// Called with the number of bytes uploaded so far.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// Headers of a new object.
///
/// ```
/// use cirrus::s3::{ChecksumAlgorithm, PutOptions};
/// use std::sync::Arc;
///
/// let options = PutOptions::content_type("image/jpeg")
///     .with_metadata("camera", "front-door")
///     .with_checksum(ChecksumAlgorithm::Sha256)
///     .with_progress(Arc::new(|sent| eprintln!("{sent} bytes sent")));
/// assert_eq!(options.metadata, [("camera".to_owned(), "front-door".to_owned())]);
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct PutOptions {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `x-amz-meta-*` metadata (names without the prefix).
    pub metadata: Vec<(String, String)>,
    /// `x-amz-storage-class` (`STANDARD_IA`, `GLACIER_IR`...).
    pub storage_class: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Expires`: an HTTP date, as [`with_expires`](Self::with_expires) writes one from a
    /// time (a copy carries its source's over as S3 kept it, whatever the text).
    pub expires: Option<String>,
    /// `x-amz-acl`, a canned ACL (`private`, `public-read`, `bucket-owner-full-control`...).
    pub acl: Option<String>,
    /// `x-amz-server-side-encryption`: `AES256`, `aws:kms` or `aws:kms:dsse`, as bucket
    /// policies that demand encryption headers ask.
    pub server_side_encryption: Option<ServerSideEncryption>,
    /// `x-amz-server-side-encryption-aws-kms-key-id`, the KMS key for `aws:kms` (see
    /// [`with_kms_key`](Self::with_kms_key)).
    pub sse_kms_key_id: Option<String>,
    /// For S3 to S3 copies: keep the source's metadata (`Copy`, S3's default) or put these
    /// options' (`Replace`). When unset, giving any metadata (type, cache control, `x-amz-meta-*`
    /// ...) means `Replace`.
    pub metadata_directive: Option<MetadataDirective>,
    /// A checksum for S3 to verify: the whole object for a single PutObject, every part
    /// for a multipart upload (S3 then stores a checksum of the part checksums).
    pub checksum: Option<ChecksumAlgorithm>,
    /// The value of [`checksum`](Self::checksum) when the caller already has it (single
    /// PutObject only): sent as given instead of computed.
    pub checksum_value: Option<String>,
    /// Told of the bytes uploaded so far, as parts complete.
    pub progress: Option<Progress>,
    /// `If-None-Match: *` (an S3 conditional write): the object is written only if the key
    /// has none yet; otherwise S3 answers 412 Precondition Failed and keeps the object it has.
    /// Sent on PutObject, on CopyObject and on CompleteMultipartUpload (the parts of a
    /// multipart upload go up first; only its completion is refused). Some S3-compatible
    /// stores ignore it on CopyObject.
    /// See <https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html>.
    pub if_none_match: bool,
    /// `x-amz-tagging`: the object's tags as a URL query (`team=data&tier=2`), as
    /// `aws s3api put-object --tagging` takes them (PutObject and CreateMultipartUpload).
    pub tagging: Option<String>,
}

impl fmt::Debug for PutOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutOptions")
            .field("content_type", &self.content_type)
            .field("content_disposition", &self.content_disposition)
            .field("cache_control", &self.cache_control)
            .field("metadata", &self.metadata)
            .field("storage_class", &self.storage_class)
            .field("content_encoding", &self.content_encoding)
            .field("content_language", &self.content_language)
            .field("expires", &self.expires)
            .field("acl", &self.acl)
            .field("server_side_encryption", &self.server_side_encryption)
            .field("sse_kms_key_id", &self.sse_kms_key_id)
            .field("metadata_directive", &self.metadata_directive)
            .field("checksum", &self.checksum)
            .field("checksum_value", &self.checksum_value)
            .field("if_none_match", &self.if_none_match)
            .field("tagging", &self.tagging)
            .finish_non_exhaustive()
    }
}

impl PutOptions {
    /// Options with this content type.
    pub fn content_type(t: impl Into<String>) -> Self {
        PutOptions { content_type: Some(t.into()), ..PutOptions::default() }
    }

    /// These options with one more `x-amz-meta-<name>` value.
    #[must_use]
    pub fn with_metadata(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((name.into(), value.into()));
        self
    }

    /// These options with `If-None-Match: *`: never replace an existing object (see
    /// [`if_none_match`](Self::if_none_match)).
    ///
    /// ```no_run
    /// # async fn example(s3: &cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use cirrus::s3::PutOptions;
    ///
    /// let options = PutOptions::default().with_if_none_match();
    /// match s3.put("my-bucket", "locks/job-7", "mine", &options).await {
    ///     Ok(_) => println!("the lock is ours"),
    ///     Err(e) if e.status() == Some(412) => println!("someone else holds it"),
    ///     Err(e) => return Err(e.into()),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn with_if_none_match(mut self) -> Self {
        self.if_none_match = true;
        self
    }

    /// `If-None-Match: *` on `req` when these options ask for it.
    pub(crate) fn condition(&self, req: Request) -> Request {
        if self.if_none_match {
            req.header("if-none-match", "*")
        } else {
            req
        }
    }

    /// These options with a checksum S3 verifies (computed by cirrus).
    #[must_use]
    pub fn with_checksum(mut self, algorithm: ChecksumAlgorithm) -> Self {
        self.checksum = Some(algorithm);
        self
    }

    /// These options with a checksum already computed (base64, as S3 wants it). Only a
    /// single PutObject can carry it: an upload that goes multipart fails with an error.
    #[must_use]
    pub fn with_checksum_value(mut self, algorithm: ChecksumAlgorithm, value: impl Into<String>) -> Self {
        self.checksum = Some(algorithm);
        self.checksum_value = Some(value.into());
        self
    }

    /// These options with a progress callback.
    #[must_use]
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// These options with `Expires`, sent as an HTTP date.
    ///
    /// ```
    /// use cirrus::s3::{Expires, PutOptions};
    ///
    /// let options = PutOptions::default().with_expires("2037-10-21".parse::<Expires>()?);
    /// assert_eq!(options.expires.as_deref(), Some("Wed, 21 Oct 2037 00:00:00 GMT"));
    /// # Ok::<(), cirrus::transport::ParseError>(())
    /// ```
    #[must_use]
    pub fn with_expires(mut self, expires: impl Into<Expires>) -> Self {
        self.expires = Some(expires.into().to_string());
        self
    }

    /// These options with server-side encryption of this kind.
    #[must_use]
    pub fn with_server_side_encryption(mut self, sse: ServerSideEncryption) -> Self {
        self.server_side_encryption = Some(sse);
        self
    }

    /// These options encrypted with this KMS key: `aws:kms` unless a KMS kind is already set
    /// (`aws:kms:dsse` stays). With `AES256` set, [`check`](Self::check) refuses the pair.
    ///
    /// ```
    /// use cirrus::s3::{PutOptions, ServerSideEncryption};
    ///
    /// let kms = PutOptions::default().with_kms_key("alias/reports");
    /// assert_eq!(kms.server_side_encryption, Some(ServerSideEncryption::AwsKms));
    /// let dsse = PutOptions::default()
    ///     .with_server_side_encryption(ServerSideEncryption::AwsKmsDsse)
    ///     .with_kms_key("alias/reports");
    /// assert_eq!(dsse.server_side_encryption, Some(ServerSideEncryption::AwsKmsDsse));
    /// let aes = PutOptions::default()
    ///     .with_server_side_encryption(ServerSideEncryption::Aes256)
    ///     .with_kms_key("alias/reports");
    /// assert!(aes.check().is_err());
    /// ```
    #[must_use]
    pub fn with_kms_key(mut self, key_id: impl Into<String>) -> Self {
        if self.server_side_encryption.is_none() {
            self.server_side_encryption = Some(ServerSideEncryption::AwsKms);
        }
        self.sse_kms_key_id = Some(key_id.into());
        self
    }

    /// Checks that every header these options set is valid HTTP (no line break or control
    /// character in a value, a metadata name that is a header name) and that a KMS key id goes
    /// with a KMS kind of encryption, so that a bad value is one error up front rather than a
    /// failure of each request.
    ///
    /// ```
    /// let mut put = cirrus::s3::PutOptions::default();
    /// put.content_type = Some("text/plain\r\nX-Evil: 1".into());
    /// assert!(put.check().unwrap_err().to_string().contains("content-type"));
    /// ```
    pub fn check(&self) -> Result<(), Error> {
        self.apply("PutObject", Request::new(Method::PUT, "http://localhost/", Bytes::new())).map(drop)
    }

    pub(crate) fn apply(&self, op: &'static str, mut req: Request) -> Result<Request, Error> {
        let set = |req: Request, name: &'static str, v: &Option<String>| match v {
            Some(v) => req.try_header(http::HeaderName::from_static(name), v).map_err(|e| S3Client::input_error(op, e)),
            None => Ok(req),
        };
        req = set(req, "content-type", &self.content_type)?;
        req = set(req, "content-disposition", &self.content_disposition)?;
        req = set(req, "cache-control", &self.cache_control)?;
        req = set(req, "content-encoding", &self.content_encoding)?;
        req = set(req, "content-language", &self.content_language)?;
        req = set(req, "expires", &self.expires)?;
        req = set(req, "x-amz-tagging", &self.tagging)?;
        req = self.apply_to_copy(op, req)?;
        for (k, v) in &self.metadata {
            let name = http::HeaderName::from_bytes(format!("x-amz-meta-{k}").as_bytes())
                .map_err(|_| S3Client::input_error(op, format!("{k:?} is not a valid metadata name")))?;
            req = req.try_header(name, v).map_err(|e| S3Client::input_error(op, e))?;
        }
        Ok(req)
    }

    /// The headers that go on a CopyObject whatever the metadata directive: storage class,
    /// ACL and encryption.
    pub(crate) fn apply_to_copy(&self, op: &'static str, mut req: Request) -> Result<Request, Error> {
        let set = |req: Request, name: &'static str, v: &Option<String>| match v {
            Some(v) => req.try_header(http::HeaderName::from_static(name), v).map_err(|e| S3Client::input_error(op, e)),
            None => Ok(req),
        };
        req = set(req, "x-amz-storage-class", &self.storage_class)?;
        req = set(req, "x-amz-acl", &self.acl)?;
        if let Some(sse) = self.server_side_encryption {
            if self.sse_kms_key_id.is_some() && !sse.is_kms() {
                return Err(S3Client::input_error(
                    op,
                    format!("a KMS key id goes with aws:kms or aws:kms:dsse, not {sse}"),
                ));
            }
            req = req.header("x-amz-server-side-encryption", sse.as_str());
        }
        req = set(req, "x-amz-server-side-encryption-aws-kms-key-id", &self.sse_kms_key_id)?;
        Ok(req)
    }

    /// Whether these options carry metadata of their own (type, cache control, disposition,
    /// encoding, language, expiry, `x-amz-meta-*`).
    pub(crate) fn has_metadata(&self) -> bool {
        self.content_type.is_some()
            || self.content_disposition.is_some()
            || self.cache_control.is_some()
            || self.content_encoding.is_some()
            || self.content_language.is_some()
            || self.expires.is_some()
            || !self.metadata.is_empty()
    }

    /// Whether an S3 to S3 copy puts these options' metadata in place of the source's.
    pub(crate) fn replaces_metadata(&self) -> bool {
        match self.metadata_directive {
            Some(d) => d == MetadataDirective::Replace,
            None => self.has_metadata(),
        }
    }
}

/// `x-amz-metadata-directive`: what an S3 to S3 copy does with the source's metadata. Parsed
/// from `COPY` or `REPLACE` in any case, displayed as S3 writes it.
///
/// ```
/// use cirrus::s3::MetadataDirective;
///
/// assert_eq!("replace".parse::<MetadataDirective>()?, MetadataDirective::Replace);
/// assert_eq!(MetadataDirective::Copy.to_string(), "COPY");
/// assert!("MOVE".parse::<MetadataDirective>().is_err());
/// # Ok::<(), cirrus::transport::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataDirective {
    /// Keep the source's (S3's default).
    Copy,
    /// Use the request's.
    Replace,
}

impl MetadataDirective {
    /// The header value: `COPY` or `REPLACE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Copy => "COPY",
            Self::Replace => "REPLACE",
        }
    }
}

impl fmt::Display for MetadataDirective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MetadataDirective {
    type Err = crate::transport::ParseError;

    /// `COPY` or `REPLACE`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Copy, Self::Replace].into_iter().find(|d| d.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| {
            crate::transport::ParseError::new("the metadata directive", format!("expected COPY or REPLACE, not {s:?}"))
        })
    }
}

/// What S3 says about a new object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PutOutput {
    /// The ETag (a multipart upload's ends in `-<parts>`).
    pub etag: Option<String>,
    /// The version id, on versioned buckets.
    pub version_id: Option<String>,
    /// The checksum S3 verified and stored, when one was sent.
    pub checksum: Option<Checksum>,
    /// Parts used; 0 for a single PutObject.
    pub parts: u32,
}

/// A part of a multipart upload in progress, as ListParts says it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadedPart {
    /// The part number, from 1.
    pub number: u32,
    /// Its size in bytes.
    pub size: u64,
    /// Its ETag, quotes included (some S3-compatible stores give none).
    pub etag: Option<String>,
}

/// One uploaded part, as CompleteMultipartUpload needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompletedPart {
    /// The part number, from 1.
    pub number: u32,
    /// The ETag S3 gave the part.
    pub etag: String,
    /// The part's checksum, when the upload has one.
    pub checksum: Option<Checksum>,
    /// The part's size in bytes (what a full-object checksum is combined with).
    pub size: u64,
}

impl S3Client {
    /// PutObject from memory.
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: impl Into<Bytes>,
        options: &PutOptions,
    ) -> Result<PutOutput, Error> {
        const OP: &str = "PutObject";
        check_bucket_key(OP, bucket, key)?;
        let body = body.into();
        let len = body.len() as u64;
        let mut req =
            options.apply(OP, self.sse_c(self.request(Method::PUT, self.url(bucket, key, ""), body.clone())))?;
        req = options.condition(req);
        let mut sent = None;
        if let Some(algorithm) = options.checksum.or(self.settings().upload_checksum) {
            let value = match &options.checksum_value {
                Some(v) => v.clone(),
                None => algorithm.checksum(&body),
            };
            // The SDKs name the algorithm too; some S3-compatible stores go by that header.
            req = req
                .header("x-amz-sdk-checksum-algorithm", algorithm.as_str())
                .try_header(http::HeaderName::from_static(algorithm.header_name()), &value)
                .map_err(|e| Self::input_error(OP, e))?;
            sent = Some(Checksum { algorithm, value });
        }
        let r = self.send(bucket, OP, req).await?;
        check_stored(OP, sent.as_ref(), &r.headers)?;
        if let Some(p) = &options.progress {
            p(len);
        }
        Ok(PutOutput {
            etag: super::header(&r.headers, "etag").map(str::to_owned),
            version_id: super::header(&r.headers, "x-amz-version-id").map(str::to_owned),
            checksum: Checksum::from_headers(&r.headers),
            parts: 0,
        })
    }

    /// Uploads a file: one PutObject below the multipart threshold; above it, a regular file's
    /// parts are streamed from the file, never held (a first pass over each part computes its
    /// checksum and a CRC32, then the part is read again as it is sent and checked against that
    /// CRC32, so a file changed meanwhile is not stored), as many in flight as
    /// [`concurrency`](super::S3Settings::concurrency) allows within the memory budget (768 KiB
    /// each). Anything else (a pipe, a device) is read as a stream, as [`upload`](Self::upload)
    /// does.
    ///
    /// ```no_run
    /// # async fn example(s3: &cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use cirrus::s3::{ChecksumAlgorithm, PutOptions};
    /// use std::path::Path;
    ///
    /// let options = PutOptions::content_type("video/mp4")
    ///     .with_checksum(ChecksumAlgorithm::Crc32c);
    /// let path = Path::new("clip.mp4");
    /// let out = s3.upload_file("my-bucket", "videos/clip.mp4", path, &options).await?;
    /// println!("ETag {:?}, checksum {:?}", out.etag, out.checksum);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn upload_file(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        options: &PutOptions,
    ) -> Result<PutOutput, Error> {
        self.upload_file_cancellable(bucket, key, path, options, None).await
    }

    /// Like [`upload_file`](Self::upload_file), stopping when `cancel` fires: a multipart
    /// upload in progress is aborted (and awaited) before the error returns.
    pub async fn upload_file_with_cancel(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        options: &PutOptions,
        cancel: &Cancel,
    ) -> Result<PutOutput, Error> {
        self.upload_file_cancellable(bucket, key, path, options, Some(cancel)).await
    }

    async fn upload_file_cancellable(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        options: &PutOptions,
        cancel: Option<&Cancel>,
    ) -> Result<PutOutput, Error> {
        check_bucket_key("PutObject", bucket, key)?;
        let owned = path.to_path_buf();
        let opened = tokio::task::spawn_blocking(move || {
            let file = crate::fs::open_file(&owned)?;
            let meta = file.metadata()?;
            Ok::<_, std::io::Error>((file, meta))
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r);
        let (file, meta) =
            opened.map_err(|e| Self::input_error("PutObject", format!("cannot open {}: {e}", path.display())))?;
        // A regular file big enough for parts: each part streamed from the file, never held.
        if meta.is_file() && meta.len() >= self.settings().multipart_threshold && options.checksum_value.is_none() {
            return self.upload_streamed((bucket, key), Arc::new(file), meta.len(), options, cancel).await;
        }
        let file = tokio::fs::File::from_std(file);
        self.upload_sized(bucket, key, file, Some(meta.len()), options, cancel).await
    }

    /// Uploads everything `reader` yields: one PutObject below the multipart threshold,
    /// otherwise a multipart upload with as many parts in flight as
    /// [`memory_budget`](super::S3Settings::memory_budget) holds (at least one, at most
    /// [`concurrency`](super::S3Settings::concurrency)), so memory stays bounded whatever the
    /// size.
    /// If anything fails, or the returned future is dropped, the multipart upload is aborted
    /// so no parts are left behind.
    ///
    /// A stream of unknown size, such as the output of a command:
    ///
    /// ```no_run
    /// # async fn example(s3: &cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use cirrus::s3::PutOptions;
    /// use std::process::Stdio;
    /// use tokio::process::Command;
    ///
    /// let mut dump = Command::new("pg_dump").arg("shop").stdout(Stdio::piped()).spawn()?;
    /// let stdout = dump.stdout.take().expect("piped");
    /// let options = PutOptions::content_type("application/sql");
    /// let out = s3.upload("my-bucket", "backups/shop.sql", stdout, &options).await?;
    /// dump.wait().await?;
    /// println!("{} parts, ETag {:?}", out.parts, out.etag);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn upload<R: AsyncRead + Unpin + Send>(
        &self,
        bucket: &str,
        key: &str,
        reader: R,
        options: &PutOptions,
    ) -> Result<PutOutput, Error> {
        self.upload_sized(bucket, key, reader, None, options, None).await
    }

    /// Like [`upload`](Self::upload), stopping when `cancel` fires: a multipart upload in
    /// progress is aborted (and awaited) before the error returns; an abort that fails is
    /// named in the error with its upload id.
    pub async fn upload_with_cancel<R: AsyncRead + Unpin + Send>(
        &self,
        bucket: &str,
        key: &str,
        reader: R,
        options: &PutOptions,
        cancel: &Cancel,
    ) -> Result<PutOutput, Error> {
        self.upload_sized(bucket, key, reader, None, options, Some(cancel)).await
    }

    async fn upload_sized<R: AsyncRead + Unpin + Send>(
        &self,
        bucket: &str,
        key: &str,
        mut reader: R,
        size_hint: Option<u64>,
        options: &PutOptions,
        cancel: Option<&Cancel>,
    ) -> Result<PutOutput, Error> {
        let interrupted = |op| Self::response_error(op, "interrupted");
        let stop = || async move {
            match cancel {
                Some(c) => c.cancelled().await,
                None => std::future::pending().await,
            }
        };
        check_bucket_key("PutObject", bucket, key)?;
        let settings = self.settings();
        let mut part_size = settings.part_size;
        if let Some(n) = size_hint {
            // Stay within 10,000 parts.
            part_size = part_size.max(n.div_ceil(MAX_PARTS));
        }
        let threshold = settings.multipart_threshold;
        let first = tokio::select! {
            read = read_up_to(&mut reader, threshold as usize) => read,
            () = stop() => return Err(interrupted("PutObject")),
        }
        .map_err(|e| Self::input_error("PutObject", format!("reading the upload: {e}")))?;
        if (first.len() as u64) < threshold {
            return self.put(bucket, key, first, options).await;
        }
        if options.checksum_value.is_some() {
            return Err(Self::input_error(
                "CreateMultipartUpload",
                "a given checksum value covers one PutObject, but this upload needs multipart: \
                 set only the algorithm and let each part be checksummed",
            ));
        }
        let options = &self.with_upload_checksum(options);
        let mut guard = self.create_guarded(bucket, key, options).await?;
        let upload_id = guard.upload_id.clone().unwrap_or_default();
        let result = tokio::select! {
            r = self.upload_parts(bucket, key, &upload_id, first, reader, part_size, options) => r,
            () = stop() => Err(interrupted("UploadPart")),
        };
        self.complete_guarded(&mut guard, (bucket, key), result, options).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn upload_parts<R: AsyncRead + Unpin + Send>(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        first: Bytes,
        mut reader: R,
        part_size: u64,
        options: &PutOptions,
    ) -> Result<Vec<CompletedPart>, Error> {
        let settings = self.settings();
        let fit = (settings.memory_budget / part_size.max(1)).saturating_sub(1).max(1);
        let concurrency = settings.concurrency.min(fit as usize).max(1);
        let mut in_flight = tokio::task::JoinSet::new();
        let mut etags: Vec<CompletedPart> = Vec::new();
        let mut pending = first;
        let mut number = 0u32;
        let uploaded = Arc::new(std::sync::atomic::AtomicU64::new(0));
        loop {
            // Cut the first read into parts, then read one part at a time.
            let chunk = if pending.is_empty() {
                read_up_to(&mut reader, part_size as usize)
                    .await
                    .map_err(|e| Self::input_error("UploadPart", format!("reading the upload: {e}")))?
            } else {
                let take = pending.len().min(part_size as usize);
                pending.split_to(take)
            };
            if chunk.is_empty() {
                break;
            }
            number += 1;
            if u64::from(number) > MAX_PARTS {
                return Err(Self::input_error("UploadPart", "more than 10,000 parts: raise the part size"));
            }
            while in_flight.len() >= concurrency {
                if let Some(done) = in_flight.join_next().await {
                    etags.push(joined(done)?);
                }
            }
            let (client, bucket, key, upload_id) =
                (self.clone(), bucket.to_owned(), key.to_owned(), upload_id.to_owned());
            let (progress, uploaded) = (options.progress.clone(), uploaded.clone());
            let (n, checksum) = (number, options.checksum);
            in_flight.spawn(async move {
                let len = chunk.len() as u64;
                let part = client.upload_part(&bucket, &key, &upload_id, n, chunk, checksum).await?;
                let total = uploaded.fetch_add(len, std::sync::atomic::Ordering::Relaxed) + len;
                if let Some(p) = progress {
                    p(total);
                }
                Ok::<_, Error>(part)
            });
        }
        while let Some(done) = in_flight.join_next().await {
            etags.push(joined(done)?);
        }
        etags.sort_by_key(|p| p.number);
        Ok(etags)
    }

    /// CreateMultipartUpload; returns the upload id.
    pub async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        options: &PutOptions,
    ) -> Result<String, Error> {
        const OP: &str = "CreateMultipartUpload";
        check_bucket_key(OP, bucket, key)?;
        let mut req =
            options.apply(OP, self.sse_c(self.request(Method::POST, self.url(bucket, key, "uploads="), "")))?;
        if let Some(algorithm) = options.checksum {
            req = req.header("x-amz-checksum-algorithm", algorithm.as_str());
            // A CRC is kept as a checksum of the whole object (S3 allows nothing else for
            // CRC-64/NVME); SHA-256 only as a checksum of the parts' checksums.
            if algorithm.full_object() {
                req = req.header("x-amz-checksum-type", "FULL_OBJECT");
            }
        }
        let r = self.send(bucket, OP, req).await?;
        let root = xml::parse(&r.body).map_err(|e| Self::response_error(OP, e))?;
        root.text_of("UploadId")
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| Self::response_error(OP, "no UploadId in the answer"))
    }

    /// UploadPart, with the part's checksum when the upload was created with one.
    pub async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        body: Bytes,
        checksum: Option<ChecksumAlgorithm>,
    ) -> Result<CompletedPart, Error> {
        let query = format!("partNumber={number}&uploadId={}", encode_query(upload_id));
        let sent = checksum.map(|algorithm| Checksum { algorithm, value: algorithm.checksum(&body) });
        let size = body.len() as u64;
        let req = self.sse_c(self.request(Method::PUT, self.url(bucket, key, &query), body));
        self.send_part(bucket, number, req, sent, size).await
    }

    /// UploadPart of a byte range of a file, streamed from it (read in chunks as it is sent,
    /// and again on a retry), with the checksum and payload hash a first pass over the range
    /// found (`body` carries the SHA-256 when the payload is signed, [`Self::signs_payload`]).
    /// The server checks both against the bytes it receives: a file changed since that pass
    /// is refused.
    pub(crate) async fn upload_part_file(
        &self,
        (bucket, key, upload_id): (&str, &str, &str),
        number: u32,
        body: crate::transport::FileBody,
        sent: Option<Checksum>,
    ) -> Result<CompletedPart, Error> {
        let query = format!("partNumber={number}&uploadId={}", encode_query(upload_id));
        let size = body.len();
        let req = self.sse_c(self.request(Method::PUT, self.url(bucket, key, &query), Bytes::new()).with_file(body));
        self.send_part(bucket, number, req, sent, size).await
    }

    /// Whether request payloads are signed with their SHA-256 (plain http), not sent as
    /// `UNSIGNED-PAYLOAD` (https).
    pub(crate) fn signs_payload(&self) -> bool {
        !self.request(Method::PUT, String::new(), Bytes::new()).unsigned_payload
    }

    /// Sends an UploadPart request with its checksum headers and reads the part's ETag.
    async fn send_part(
        &self,
        bucket: &str,
        number: u32,
        mut req: Request,
        sent: Option<Checksum>,
        size: u64,
    ) -> Result<CompletedPart, Error> {
        const OP: &str = "UploadPart";
        if let Some(c) = &sent {
            req = req
                .header("x-amz-sdk-checksum-algorithm", c.algorithm.as_str())
                .header(c.algorithm.header_name(), &c.value);
        }
        let r = self.send(bucket, OP, req).await?;
        check_stored(OP, sent.as_ref(), &r.headers)?;
        let etag = super::header(&r.headers, "etag")
            .map(str::to_owned)
            .ok_or_else(|| Self::response_error(OP, "no ETag in the answer"))?;
        Ok(CompletedPart { number, etag, checksum: sent, size })
    }

    /// The checksum this client adds to uploads whose options name none (see
    /// [`S3Settings::upload_checksum`](super::S3Settings::upload_checksum)).
    pub(crate) fn with_upload_checksum(&self, options: &PutOptions) -> PutOptions {
        let mut options = options.clone();
        if options.checksum.is_none() {
            options.checksum = self.settings().upload_checksum;
        }
        options
    }

    /// CompleteMultipartUpload with the parts in order.
    pub async fn complete_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<PutOutput, Error> {
        self.complete_multipart_upload_with(bucket, key, upload_id, parts, &PutOptions::default()).await
    }

    /// CompleteMultipartUpload with the parts in order, and `If-None-Match: *` when `options`
    /// ask for it ([`PutOptions::if_none_match`]): a key that has an object by now keeps it,
    /// and the answer is 412 (the upload is still there, to be aborted).
    pub async fn complete_multipart_upload_with(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
        options: &PutOptions,
    ) -> Result<PutOutput, Error> {
        use std::fmt::Write;
        const OP: &str = "CompleteMultipartUpload";
        let mut body = String::from("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
        for p in parts {
            let _ = write!(body, "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag>", p.number, xml_escape(&p.etag));
            if let Some(c) = &p.checksum {
                let tag = c.algorithm.xml_tag();
                let _ = write!(body, "<{tag}>{}</{tag}>", xml_escape(&c.value));
            }
            body.push_str("</Part>");
        }
        body.push_str("</CompleteMultipartUpload>");
        let query = format!("uploadId={}", encode_query(upload_id));
        // A failure after the 200 went out comes back in the body: the transport reads it as
        // the error it is (and retries it when it is transient).
        let mut req = options.condition(self.sse_c(self.request(Method::POST, self.url(bucket, key, &query), body)));
        // The whole object's CRC, from the parts' CRCs: S3 checks it against what it stored.
        let sums: Vec<_> = parts.iter().map(|p| (p.checksum.as_ref(), p.size)).collect();
        let full = super::checksum::full_object(&sums);
        if let Some(c) = &full {
            req = req.header("x-amz-checksum-type", "FULL_OBJECT").header(c.algorithm.header_name(), &c.value);
        }
        let r = self.send(bucket, OP, req).await?;
        let root = xml::parse(&r.body).map_err(|e| Self::response_error(OP, e))?;
        let stored = ChecksumAlgorithm::ALL.into_iter().find_map(|algorithm| {
            let value = root.text_of(algorithm.xml_tag()).filter(|v| !v.is_empty())?;
            Some(Checksum { algorithm, value: value.to_owned() })
        });
        // A store that kept a whole-object checksum must have kept this one.
        if let (Some(full), Some(stored)) = (&full, &stored) {
            if stored.algorithm == full.algorithm && !stored.value.contains('-') && stored.value != full.value {
                return Err(Self::response_error(
                    OP,
                    format!(
                        "the server stored the {} checksum {}, but the parts make {}",
                        full.algorithm, stored.value, full.value
                    ),
                ));
            }
        }
        Ok(PutOutput {
            etag: root.text_of("ETag").map(str::to_owned),
            version_id: super::header(&r.headers, "x-amz-version-id").map(str::to_owned),
            checksum: stored,
            parts: parts.len() as u32,
        })
    }

    /// AbortMultipartUpload: S3 drops the parts uploaded so far.
    pub async fn abort_multipart_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(), Error> {
        const OP: &str = "AbortMultipartUpload";
        let query = format!("uploadId={}", encode_query(upload_id));
        self.send(bucket, OP, self.request(Method::DELETE, self.url(bucket, key, &query), "")).await?;
        Ok(())
    }

    /// ListParts, every page: the parts a multipart upload in progress holds, in order. An
    /// upload that was completed or aborted is the error `NoSuchUpload`.
    pub async fn list_parts(&self, bucket: &str, key: &str, upload_id: &str) -> Result<Vec<UploadedPart>, Error> {
        const OP: &str = "ListParts";
        check_bucket_key(OP, bucket, key)?;
        let mut parts: Vec<UploadedPart> = Vec::new();
        let mut marker = 0u32;
        // 10,000 parts at most, 1,000 a page: a server that never stops is stopped.
        for _ in 0..=(MAX_PARTS / 1000) {
            let query = format!("part-number-marker={marker}&uploadId={}", encode_query(upload_id));
            let r = self.send(bucket, OP, self.request(Method::GET, self.url(bucket, key, &query), "")).await?;
            let root = xml::parse(&r.body).map_err(|e| Self::response_error(OP, e))?;
            for p in root.children_named("Part") {
                let number = p.text_of("PartNumber").and_then(|n| n.parse().ok());
                let size = p.text_of("Size").and_then(|n| n.parse().ok());
                let (Some(number), Some(size)) = (number, size) else {
                    return Err(Self::response_error(OP, "a <Part> without a PartNumber or a Size"));
                };
                let etag = p.text_of("ETag").filter(|e| !e.is_empty()).map(str::to_owned);
                parts.push(UploadedPart { number, size, etag });
            }
            let next = root.text_of("NextPartNumberMarker").and_then(|n| n.parse::<u32>().ok());
            match (root.text_of("IsTruncated"), next) {
                (Some("true"), Some(n)) if n > marker => marker = n,
                _ => {
                    parts.sort_by_key(|p| p.number);
                    parts.dedup_by_key(|p| p.number);
                    return Ok(parts);
                }
            }
        }
        Err(Self::response_error(OP, format!("more than {MAX_PARTS} parts listed")))
    }

    /// ListMultipartUploads (first page): `(key, upload id)` of the uploads in progress.
    pub async fn list_multipart_uploads(&self, bucket: &str) -> Result<Vec<(String, String)>, Error> {
        const OP: &str = "ListMultipartUploads";
        super::check_bucket(OP, bucket)?;
        let r = self.send(bucket, OP, self.request(Method::GET, self.url(bucket, "", "uploads="), "")).await?;
        let root = xml::parse(&r.body).map_err(|e| Self::response_error(OP, e))?;
        Ok(root
            .children_named("Upload")
            .map(|u| {
                (u.text_of("Key").unwrap_or_default().to_owned(), u.text_of("UploadId").unwrap_or_default().to_owned())
            })
            .collect())
    }
}

pub(super) fn joined(
    done: Result<Result<CompletedPart, Error>, tokio::task::JoinError>,
) -> Result<CompletedPart, Error> {
    match done {
        Ok(r) => r,
        Err(e) => Err(S3Client::response_error("UploadPart", format!("an upload task failed: {e}"))),
    }
}

/// Reads until `limit` bytes or the end.
async fn read_up_to<R: AsyncRead + Unpin>(reader: &mut R, limit: usize) -> std::io::Result<Bytes> {
    let mut buf = Vec::with_capacity(limit.min(16 << 20));
    let mut taken = (&mut *reader).take(limit as u64);
    taken.read_to_end(&mut buf).await?;
    Ok(Bytes::from(buf))
}

/// Where an upload id nobody took goes: `(bucket, key, upload id)`, to be aborted.
pub(crate) type Orphaned = Arc<dyn Fn(String, String, String) + Send + Sync>;

/// The waiting end of a detached CreateMultipartUpload (see `S3Client::create_detached`).
pub(crate) struct PendingCreate {
    rx: Option<tokio::sync::oneshot::Receiver<Result<String, Error>>>,
    orphaned: Orphaned,
    bucket: String,
    key: String,
}

impl PendingCreate {
    /// The upload id, or why there is none.
    pub(crate) async fn answer(mut self) -> Result<String, Error> {
        let ended = || S3Client::response_error("CreateMultipartUpload", "the request's task ended");
        let answer = match self.rx.as_mut() {
            Some(rx) => rx.await.unwrap_or_else(|_| Err(ended())),
            None => Err(ended()),
        };
        self.rx = None;
        answer
    }
}

impl Drop for PendingCreate {
    /// Dropped before the answer was read: an upload id that came is an orphan. Closing first
    /// makes a later answer fail to send, so the request's task hands that one over instead.
    fn drop(&mut self) {
        let Some(mut rx) = self.rx.take() else { return };
        rx.close();
        if let Ok(Ok(id)) = rx.try_recv() {
            (self.orphaned)(std::mem::take(&mut self.bucket), std::mem::take(&mut self.key), id);
        }
    }
}

impl S3Client {
    /// CreateMultipartUpload in a task of its own, so that a caller dropped while the answer is
    /// on its way (a timeout, a `select!`, an interrupted transfer) does not lose the id:
    /// whichever side ends up holding an id nobody took hands it to `orphaned`. Returns the task
    /// (a caller may wait for it before aborting its orphans) and the answer to come.
    pub(crate) fn create_detached(
        &self,
        bucket: &str,
        key: &str,
        options: &PutOptions,
        orphaned: Orphaned,
    ) -> (tokio::task::JoinHandle<()>, PendingCreate) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (client, b, k, put, on_orphan) =
            (self.clone(), bucket.to_owned(), key.to_owned(), options.clone(), orphaned.clone());
        let task = tokio::spawn(async move {
            let created = client.create_multipart_upload(&b, &k, &put).await;
            if let Err(Ok(id)) = tx.send(created) {
                on_orphan(b, k, id);
            }
        });
        (task, PendingCreate { rx: Some(rx), orphaned, bucket: bucket.to_owned(), key: key.to_owned() })
    }

    /// CreateMultipartUpload, its id handed over inside an armed [`AbortGuard`]; an id whose
    /// caller was dropped is aborted on the runtime.
    pub(super) async fn create_guarded(
        &self,
        bucket: &str,
        key: &str,
        options: &PutOptions,
    ) -> Result<AbortGuard, Error> {
        let client = self.clone();
        let orphaned: Orphaned = Arc::new(move |bucket, key, id| {
            drop(AbortGuard { client: client.clone(), bucket, key, upload_id: Some(id) });
        });
        let (_task, pending) = self.create_detached(bucket, key, options, orphaned);
        let id = pending.answer().await?;
        Ok(AbortGuard { client: self.clone(), bucket: bucket.to_owned(), key: key.to_owned(), upload_id: Some(id) })
    }
}

/// Aborts the multipart upload unless it completed: awaited on failure, spawned when the
/// upload's future is dropped mid-way.
pub(super) struct AbortGuard {
    client: S3Client,
    bucket: String,
    key: String,
    pub(super) upload_id: Option<String>,
}

impl AbortGuard {
    /// Aborts after `error`; an abort that fails too is added to the error, upload id and all.
    pub(super) async fn abort_after(&mut self, error: Error) -> Error {
        let Some(id) = self.upload_id.clone() else { return error };
        // Still armed while the abort is awaited: dropped mid-way, Drop aborts it again.
        let aborted = self.client.abort_multipart_upload(&self.bucket, &self.key, &id).await;
        self.upload_id = None;
        match aborted {
            Ok(()) => error,
            Err(e) if e.code() == Some("NoSuchUpload") => error,
            Err(e) => {
                let (op, left) = (
                    error.operation(),
                    format!(
                        "{error}; and the multipart upload of s3://{}/{} (upload id {id}) could not be aborted: {e}",
                        self.bucket, self.key
                    ),
                );
                S3Client::response_error(op, left)
            }
        }
    }
}

impl Drop for AbortGuard {
    fn drop(&mut self) {
        let Some(id) = self.upload_id.take() else { return };
        let (client, bucket, key) =
            (self.client.clone(), std::mem::take(&mut self.bucket), std::mem::take(&mut self.key));
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn(async move {
                    if let Err(e) = client.abort_multipart_upload(&bucket, &key, &id).await {
                        tracing::warn!(error = %e, upload_id = %id, "could not abort the cancelled multipart upload");
                    }
                });
            }
            Err(_) => tracing::warn!(upload_id = %id, "multipart upload cancelled outside a runtime; not aborted"),
        }
    }
}

/// The server's answer to an upload that carried a checksum: when it names the checksum it
/// stored, that must be the one sent (a store that verified nothing and computed its own from
/// other bytes says so here).
fn check_stored(op: &'static str, sent: Option<&Checksum>, headers: &http::HeaderMap) -> Result<(), Error> {
    let (Some(sent), Some(stored)) = (sent, Checksum::from_headers(headers)) else { return Ok(()) };
    if stored.algorithm == sent.algorithm && stored.value != sent.value {
        return Err(S3Client::response_error(
            op,
            format!("the server stored the {} checksum {}, but {} was sent", sent.algorithm, stored.value, sent.value),
        ));
    }
    Ok(())
}
