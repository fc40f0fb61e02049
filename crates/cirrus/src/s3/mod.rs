//! S3 (feature `s3`): buckets, listing as a stream, objects streamed in and out, multipart
//! uploads that are aborted on failure, batch and recursive deletes, presigned URLs and POST
//! forms. Works against AWS and S3-compatible stores (MinIO, Ceph, Garage, R2, s3s).
//!
//! Keys are used exactly as given: spaces, `+`, unicode, `//`, `.` and `..` segments and a
//! leading `/` are percent-encoded byte for byte and never normalized.
//!
//! Addressing: virtual-hosted (`https://bucket.s3.REGION.amazonaws.com/key`) or path-style
//! ([`S3Settings::path_style`]); a bucket that is its own host name, CNAME'd to S3
//! ([`S3Settings::bucket_as_host`]); and access points, by alias (a bucket name) or by ARN
//! (`arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap` wherever a bucket goes: addressed at
//! the access point's host and signed for the ARN's region; with a custom endpoint an ARN is
//! an input error, as the endpoint could not be the access point's). Requester-pays buckets:
//! [`S3Settings::request_payer`].
//!
//! API reference: <https://docs.aws.amazon.com/AmazonS3/latest/API/Welcome.html>

mod access_point;
mod bucket_config;
mod cancel;
pub(crate) mod checksum;
mod delete;
mod expires;
mod folder;
pub(crate) mod list;
mod list_tree;
mod presign;
pub(crate) mod settings;
mod sse;
mod tagging;
pub mod transfer;
mod upload;
pub(crate) mod upload_streamed;
mod versions;

pub use bucket_config::VersioningConfiguration;
pub use checksum::{Checksum, ChecksumAlgorithm};
pub use delete::{DeleteFailure, DeleteReport};
pub use expires::Expires;
pub use folder::{folder_key, is_folder_key};
pub use list::{Bucket, ListOptions, ListPage, Object};
pub use presign::{PostForm, PostOptions, PresignOptions, Presigned};
pub use settings::S3Settings;
pub use sse::{ServerSideEncryption, SseCustomerKey};
pub use upload::{CompletedPart, MetadataDirective, Progress, PutOptions, PutOutput, UploadedPart};
pub use versions::{DeleteOutput, ObjectVersion, VersionMarker, VersionPage};

use crate::config::{Config, ConfigError};
use crate::service::{Protocol, ServiceId, ServiceSpec};
use crate::transport::{ByteStream, Error, Request, Response, ServiceConfig};
use http::{HeaderMap, Method};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// Endpoint names of S3.
pub const ID: ServiceId = SPEC.id;
/// S3: names, signing name, protocol, endpoint names.
pub const SPEC: ServiceSpec = ServiceSpec {
    name: "S3",
    signing_name: "s3",
    protocol: Protocol::RestXml,
    id: ServiceId { host_prefix: "s3", env_suffix: "S3" },
};
const NAME: &str = SPEC.name;

/// The S3 client. Cheap to clone.
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// use cirrus::s3::{PutOptions, S3Client};
/// use cirrus::Config;
///
/// let s3 = S3Client::from_config(&Config::from_env()?)?;
/// let options = PutOptions::content_type("text/plain");
/// s3.put("my-bucket", "notes/hello.txt", "Hello, world!", &options).await?;
/// let info = s3.head("my-bucket", "notes/hello.txt").await?;
/// println!("{} bytes, ETag {:?}", info.content_length, info.etag);
/// let bytes = s3.get_bytes("my-bucket", "notes/hello.txt").await?;
/// assert_eq!(&bytes[..], b"Hello, world!");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct S3Client {
    inner: Arc<Inner>,
}

struct Inner {
    svc: Arc<ServiceConfig>,
    settings: S3Settings,
    /// The endpoint is a custom one (not `s3.<region>.amazonaws.com`).
    custom_endpoint: bool,
    /// Buckets S3 said are in another region than the client's, with the service config of
    /// that region: every later request about them (and every presigned URL) goes there.
    regions: std::sync::Mutex<std::collections::HashMap<String, Arc<ServiceConfig>>>,
    /// SSE-C: the key of the objects written and read.
    sse_c: Option<SseCustomerKey>,
    /// SSE-C: the key of copies' sources.
    sse_c_source: Option<SseCustomerKey>,
    /// One object (bucket, key) whose reads (GetObject, HeadObject, copies from it) go to this
    /// version id: how the transfer engine copies or downloads a version.
    pinned: Option<(String, String, String)>,
}

impl fmt::Debug for S3Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Client")
            .field("svc", &self.inner.svc)
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// What HeadObject (and GetObject) say about an object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectInfo {
    /// The size in bytes (of the range, for a ranged get).
    pub content_length: u64,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// The ETag, quotes included, as S3 sends it.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<SystemTime>,
    /// `x-amz-meta-*` headers, names without the prefix.
    pub metadata: Vec<(String, String)>,
    /// The version id, on versioned buckets.
    pub version_id: Option<String>,
    /// `Content-Range`, for a ranged get.
    pub content_range: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Expires`, as S3 keeps it.
    pub expires: Option<String>,
    /// `x-amz-storage-class` (S3 leaves it out for `STANDARD`).
    pub storage_class: Option<String>,
    /// `x-amz-server-side-encryption`.
    pub server_side_encryption: Option<String>,
    /// `x-amz-server-side-encryption-aws-kms-key-id`.
    pub sse_kms_key_id: Option<String>,
    /// `Accept-Ranges` (`bytes`).
    pub accept_ranges: Option<String>,
    /// `x-amz-delete-marker`: the version read is a delete marker.
    pub delete_marker: bool,
    /// The checksum stored with the object, when S3 sent it (see
    /// [`head_with_checksum`](S3Client::head_with_checksum)).
    pub checksum: Option<Checksum>,
}

/// A GetObject answer: what S3 says about the object, and its bytes as they arrive.
pub struct GetObject {
    /// Size, type, ETag...
    pub info: ObjectInfo,
    /// The bytes.
    pub body: ByteStream,
}

impl fmt::Debug for GetObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetObject").field("info", &self.info).finish_non_exhaustive()
    }
}

/// The region S3 requests start from when none is configured (the AWS CLI's and s5cmd's
/// choice): a bucket elsewhere answers with its region, and the client follows it.
pub const DEFAULT_REGION: &str = "us-east-1";

impl S3Client {
    /// A client for `config`'s region, endpoint and credentials, with default settings. With
    /// no region configured, S3 starts from [`DEFAULT_REGION`] (us-east-1), as the AWS CLI
    /// does, and follows each bucket to its own region from its first answer.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        Self::with_settings(config, S3Settings::default())
    }

    /// A client with the settings of the profile's `s3` section, as the AWS CLI reads them
    /// (see [`S3Settings::from_config`]).
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        Self::with_settings(config, S3Settings::from_config(config)?)
    }

    /// A client with these settings.
    pub fn with_settings(config: &Config, settings: S3Settings) -> Result<Self, ConfigError> {
        let region = config.region().unwrap_or(DEFAULT_REGION);
        let svc = config.service_in(SPEC, region, config.credentials().cloned());
        let (_, source) = config.endpoint(ID, svc.region());
        Ok(Self::from_service(svc, settings, source != crate::Origin::Default))
    }

    /// A client over a service config built elsewhere. `custom_endpoint` chooses path-style
    /// addressing when the settings leave it open.
    pub fn from_service(svc: ServiceConfig, settings: S3Settings, custom_endpoint: bool) -> Self {
        S3Client {
            inner: Arc::new(Inner {
                svc: Arc::new(svc),
                settings,
                custom_endpoint,
                regions: Default::default(),
                sse_c: None,
                sse_c_source: None,
                pinned: None,
            }),
        }
    }

    /// The same client writing and reading objects encrypted with this customer key (SSE-C):
    /// PutObject, multipart uploads, GetObject, HeadObject and copy destinations carry it.
    #[must_use]
    pub fn with_sse_customer_key(&self, key: Option<SseCustomerKey>) -> Self {
        self.rebuilt(key, self.inner.sse_c_source.clone(), self.inner.pinned.clone())
    }

    /// The same client copying from objects encrypted with this customer key (SSE-C): the
    /// source of CopyObject and UploadPartCopy.
    #[must_use]
    pub fn with_copy_source_sse_customer_key(&self, key: Option<SseCustomerKey>) -> Self {
        self.rebuilt(self.inner.sse_c.clone(), key, self.inner.pinned.clone())
    }

    /// The same client reading `key` of `bucket` at `version_id`: its GetObject, HeadObject and
    /// the copies made from it carry the version (nothing else, deletes included).
    pub(crate) fn pinned_to(&self, bucket: &str, key: &str, version_id: &str) -> Self {
        let pinned = Some((bucket.to_owned(), key.to_owned(), version_id.to_owned()));
        self.rebuilt(self.inner.sse_c.clone(), self.inner.sse_c_source.clone(), pinned)
    }

    /// The version reads of `key` in `bucket` go to, when the client is pinned to it.
    fn pinned_version(&self, bucket: &str, key: &str) -> Option<&str> {
        match &self.inner.pinned {
            Some((b, k, v)) if b == bucket && k == key => Some(v),
            _ => None,
        }
    }

    /// The URL of `key` at `version_id` (none: the current version, or the pinned one).
    pub(crate) fn object_url(&self, bucket: &str, key: &str, version_id: Option<&str>) -> String {
        match version_id.or_else(|| self.pinned_version(bucket, key)) {
            Some(v) => self.url(bucket, key, &format!("versionId={}", encode_query(v))),
            None => self.url(bucket, key, ""),
        }
    }

    /// `x-amz-copy-source` for `key` of `bucket` at `version_id` (or the pinned one).
    pub(crate) fn copy_source(&self, bucket: &str, key: &str, version_id: Option<&str>) -> String {
        let mut source = copy_source(bucket, key);
        if let Some(v) = version_id.or_else(|| self.pinned_version(bucket, key)) {
            source.push_str("?versionId=");
            source.push_str(&encode_query(v));
        }
        source
    }

    fn rebuilt(
        &self,
        sse_c: Option<SseCustomerKey>,
        sse_c_source: Option<SseCustomerKey>,
        pinned: Option<(String, String, String)>,
    ) -> Self {
        let regions = self.inner.regions.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        S3Client {
            inner: Arc::new(Inner {
                svc: self.inner.svc.clone(),
                settings: self.inner.settings.clone(),
                custom_endpoint: self.inner.custom_endpoint,
                regions: std::sync::Mutex::new(regions),
                sse_c,
                sse_c_source,
                pinned,
            }),
        }
    }

    /// `req` with the SSE-C key of the objects, if there is one.
    pub(crate) fn sse_c(&self, req: Request) -> Request {
        match &self.inner.sse_c {
            Some(k) => k.apply(req, false),
            None => req,
        }
    }

    /// Whether requests carry an SSE-C key (the ETags of such objects are no MD5s).
    pub(crate) fn has_sse_c(&self) -> bool {
        self.inner.sse_c.is_some()
    }

    /// `req` with the SSE-C key of a copy's source, under the copy-source names (or, for a HEAD
    /// of the source itself, `as_object`, under the object's names).
    pub(crate) fn sse_c_source(&self, req: Request, as_object: bool) -> Request {
        match &self.inner.sse_c_source {
            Some(k) => k.apply(req, !as_object),
            None => req,
        }
    }

    /// HeadObject of a copy's source (its SSE-C key, if any, is the source's).
    pub(crate) async fn head_source(&self, bucket: &str, key: &str) -> Result<ObjectInfo, Error> {
        check_bucket_key("HeadObject", bucket, key)?;
        let req = self.sse_c_source(self.request(Method::HEAD, self.object_url(bucket, key, None), ""), true);
        let r = self.send(bucket, "HeadObject", req).await?;
        Ok(object_info(&r.headers))
    }

    /// The service config (region, endpoint, credentials).
    pub fn service(&self) -> &ServiceConfig {
        &self.inner.svc
    }

    /// The settings.
    pub fn settings(&self) -> &S3Settings {
        &self.inner.settings
    }

    /// The service config for requests about `bucket`: the client's, the one of the region S3
    /// said the bucket is in, or for an access point ARN the one of its region and host (made
    /// on first use).
    pub(crate) fn svc_for(&self, bucket: &str) -> Arc<ServiceConfig> {
        let mut regions = self.inner.regions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(svc) = regions.get(bucket) {
            return svc.clone();
        }
        match access_point::AccessPoint::parse(bucket) {
            Some(Ok(ap)) if !self.inner.custom_endpoint => {
                let svc = Arc::new(self.service_at(&self.inner.svc, ap.region, ap.endpoint()));
                regions.insert(bucket.to_owned(), svc.clone());
                svc
            }
            _ => self.inner.svc.clone(),
        }
    }

    /// `current`'s credentials, HTTP client and clock, for another region and endpoint.
    fn service_at(&self, current: &ServiceConfig, region: &str, endpoint: String) -> ServiceConfig {
        ServiceConfig::builder(SPEC, region, endpoint)
            .credentials(current.credentials().cloned())
            .http(current.http().clone())
            .clock(current.clock().clone())
            .build()
    }

    /// An input error when `bucket` cannot be addressed: an access point ARN that is not one
    /// cirrus can use, or any ARN with a custom endpoint (whose host cannot be the access
    /// point's).
    pub(crate) fn check_addressable(&self, op: &'static str, bucket: &str) -> Result<(), Error> {
        match access_point::AccessPoint::parse(bucket) {
            None => Ok(()),
            Some(Err(why)) => Err(Self::input_error(op, why)),
            Some(Ok(_)) if self.inner.custom_endpoint => Err(Self::input_error(
                op,
                format!(
                    "{bucket:?} is an access point ARN, which is addressed at the access point's own AWS host; it cannot go to a custom endpoint ({}): drop the endpoint, or use the access point's alias as the bucket",
                    self.inner.svc.endpoint()
                ),
            )),
            Some(Ok(_)) => Ok(()),
        }
    }

    /// The region requests about `bucket` are signed for.
    pub fn bucket_region(&self, bucket: &str) -> String {
        self.svc_for(bucket).region().to_owned()
    }

    /// After an answer that names another region for `bucket` (S3's `PermanentRedirect`, a
    /// `301` to a `HEAD`, `AuthorizationHeaderMalformed`...): the service config of that region,
    /// remembered for the bucket. `None` when the error is something else, or the region named
    /// is not a region name (a hostile server cannot send signed requests to a host of its
    /// choosing).
    fn follow_region(&self, bucket: &str, current: &ServiceConfig, e: &Error) -> Option<Arc<ServiceConfig>> {
        let region = e.bucket_region()?;
        let wrong_region = matches!(e.status(), Some(301 | 307 | 400)) && region != current.region();
        let label = (1..=63).contains(&region.len())
            && region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !region.starts_with('-')
            && !region.ends_with('-');
        if bucket.is_empty() || !wrong_region || !label || access_point::is_arn(bucket) {
            return None;
        }
        let endpoint = if self.inner.custom_endpoint {
            self.inner.svc.endpoint().to_owned()
        } else {
            crate::service::endpoint::standard_endpoint(ID, region)
        };
        let svc = Arc::new(self.service_at(current, region, endpoint));
        tracing::info!(bucket, from = current.region(), to = region, "the bucket is in another region; following S3");
        let mut regions = self.inner.regions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        regions.insert(bucket.to_owned(), svc.clone());
        Some(svc)
    }

    fn path_style(&self, bucket: &str) -> bool {
        match self.inner.settings.path_style {
            Some(p) => p,
            None => {
                self.inner.custom_endpoint || !dns_compatible(bucket, self.inner.svc.endpoint().starts_with("https:"))
            }
        }
    }

    /// The URL of `key` in `bucket` (`key` empty: the bucket itself), with `query` appended
    /// (already encoded, without `?`).
    pub(crate) fn url(&self, bucket: &str, key: &str, query: &str) -> String {
        let svc = self.svc_for(bucket);
        let endpoint = &svc.endpoint();
        let mut url = if access_point::is_arn(bucket) && !self.inner.custom_endpoint {
            // The access point's own host (svc_for made its endpoint).
            format!("{endpoint}/")
        } else if self.inner.settings.bucket_as_host {
            let (scheme, rest) = endpoint.split_once("://").unwrap_or(("https", endpoint));
            format!("{scheme}://{bucket}{}/", port_of(rest))
        } else if self.path_style(bucket) {
            format!("{endpoint}/{bucket}/")
        } else {
            let (scheme, host) = endpoint.split_once("://").unwrap_or(("https", endpoint));
            format!("{scheme}://{bucket}.{host}/")
        };
        encode_key_into(key, &mut url);
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        url
    }

    /// A request; the payload is left unsigned over https (as botocore does for S3) and hashed
    /// over plain http. With [`S3Settings::request_payer`], it says the requester pays.
    pub(crate) fn request(&self, method: Method, url: String, body: impl Into<bytes::Bytes>) -> Request {
        let mut r = Request::new(method, url, body);
        r.unsigned_payload = self.inner.svc.endpoint().starts_with("https:");
        if self.inner.settings.request_payer {
            r = r.header(REQUEST_PAYER, "requester");
        }
        r
    }

    /// Sends a request about `bucket` (empty: none), following S3 once to the bucket's region
    /// when it answers that the request went to the wrong one.
    pub(crate) async fn send(&self, bucket: &str, op: &'static str, request: Request) -> Result<Response, Error> {
        self.check_addressable(op, bucket)?;
        let svc = self.svc_for(bucket);
        match svc.send(op, request.clone()).await {
            Err(e) => match self.follow_region(bucket, &svc, &e) {
                Some(other) => other.send(op, rebase(request, svc.endpoint(), other.endpoint())).await,
                None => Err(e),
            },
            answer => answer,
        }
    }

    /// [`send`](Self::send) with the body of a successful answer left as a stream.
    pub(crate) async fn send_streaming(
        &self,
        bucket: &str,
        op: &'static str,
        request: Request,
    ) -> Result<crate::transport::StreamingResponse, Error> {
        self.check_addressable(op, bucket)?;
        let svc = self.svc_for(bucket);
        match svc.send_streaming(op, request.clone()).await {
            Err(e) => match self.follow_region(bucket, &svc, &e) {
                Some(other) => other.send_streaming(op, rebase(request, svc.endpoint(), other.endpoint())).await,
                None => Err(e),
            },
            answer => answer,
        }
    }

    pub(crate) fn input_error(op: &'static str, msg: impl Into<String>) -> Error {
        Error::input(NAME, op, msg)
    }

    pub(crate) fn response_error(op: &'static str, msg: impl Into<String>) -> Error {
        Error::response(NAME, op, msg)
    }

    /// Creates `bucket` in the client's region.
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), Error> {
        check_bucket("CreateBucket", bucket)?;
        if access_point::is_arn(bucket) {
            return Err(Self::input_error(
                "CreateBucket",
                format!("{bucket:?} is an access point ARN, not a bucket name"),
            ));
        }
        let region = self.inner.svc.region().to_owned();
        let body = if region == "us-east-1" {
            String::new()
        } else {
            format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                xml_escape(&region)
            )
        };
        self.send("", "CreateBucket", self.request(Method::PUT, self.url(bucket, "", ""), body)).await?;
        Ok(())
    }

    /// Deletes `bucket`, which must be empty.
    pub async fn delete_bucket(&self, bucket: &str) -> Result<(), Error> {
        check_bucket("DeleteBucket", bucket)?;
        self.send(bucket, "DeleteBucket", self.request(Method::DELETE, self.url(bucket, "", ""), "")).await?;
        Ok(())
    }

    /// HeadObject.
    pub async fn head(&self, bucket: &str, key: &str) -> Result<ObjectInfo, Error> {
        self.head_version(bucket, key, None).await
    }

    /// HeadObject of one version of the object (`None`: the current one), as
    /// `aws s3api head-object --version-id` asks. The version of a delete marker is refused by S3
    /// (405 MethodNotAllowed). <https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html>
    pub async fn head_version(&self, bucket: &str, key: &str, version_id: Option<&str>) -> Result<ObjectInfo, Error> {
        check_bucket_key("HeadObject", bucket, key)?;
        check_version("HeadObject", version_id)?;
        let req = self.sse_c(self.request(Method::HEAD, self.object_url(bucket, key, version_id), ""));
        let r = self.send(bucket, "HeadObject", req).await?;
        Ok(object_info(&r.headers))
    }

    /// HeadObject with `x-amz-checksum-mode: ENABLED`, so that
    /// [`ObjectInfo::checksum`] holds the checksum stored at upload, if there is one. (On
    /// AWS, for a KMS-encrypted object this needs `kms:Decrypt`, hence not the default.)
    pub async fn head_with_checksum(&self, bucket: &str, key: &str) -> Result<ObjectInfo, Error> {
        check_bucket_key("HeadObject", bucket, key)?;
        let req = self
            .sse_c(self.request(Method::HEAD, self.object_url(bucket, key, None), ""))
            .header("x-amz-checksum-mode", "ENABLED");
        let r = self.send(bucket, "HeadObject", req).await?;
        Ok(object_info(&r.headers))
    }

    /// GetObject, the body streamed. `range` is an HTTP range (`bytes=0-99`, `bytes=-100`).
    pub async fn get(&self, bucket: &str, key: &str, range: Option<&str>) -> Result<GetObject, Error> {
        self.get_if(bucket, key, range, None).await
    }

    /// GetObject of one version of the object (`None`: the current one), the body streamed, as
    /// `aws s3api get-object --version-id` asks. <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html>
    ///
    /// ```no_run
    /// # async fn example(s3: &cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let old = s3.get_version("my-bucket", "config.json", Some("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH"), None).await?;
    /// println!("{} bytes of version {:?}", old.info.content_length, old.info.version_id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        range: Option<&str>,
    ) -> Result<GetObject, Error> {
        check_version("GetObject", version_id)?;
        self.get_at(bucket, key, version_id, range, None).await
    }

    /// GetObject of the version whose ETag is `if_match` (`If-Match`): when the object has
    /// changed since that ETag was read, S3 answers 412 PreconditionFailed instead of mixing
    /// two versions in one download.
    pub async fn get_if(
        &self,
        bucket: &str,
        key: &str,
        range: Option<&str>,
        if_match: Option<&str>,
    ) -> Result<GetObject, Error> {
        self.get_at(bucket, key, None, range, if_match).await
    }

    async fn get_at(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        range: Option<&str>,
        if_match: Option<&str>,
    ) -> Result<GetObject, Error> {
        check_bucket_key("GetObject", bucket, key)?;
        let mut req = self.sse_c(self.request(Method::GET, self.object_url(bucket, key, version_id), ""));
        if let Some(r) = range {
            req = req.try_header(http::header::RANGE, r).map_err(|e| Self::input_error("GetObject", e))?;
        }
        if let Some(etag) = if_match {
            req = req.try_header(http::header::IF_MATCH, etag).map_err(|e| Self::input_error("GetObject", e))?;
        }
        let r = self.send_streaming(bucket, "GetObject", req).await?;
        Ok(GetObject { info: object_info(&r.headers), body: r.body })
    }

    /// GetObject of the whole object with `x-amz-checksum-mode: ENABLED` (as the current SDKs
    /// send it), and the check its answer allows of the body: the stored checksum, or the MD5
    /// in the ETag of a single-part object.
    pub(crate) async fn get_checked(
        &self,
        bucket: &str,
        key: &str,
        if_match: Option<&str>,
    ) -> Result<(GetObject, Option<checksum::BodyCheck>), Error> {
        check_bucket_key("GetObject", bucket, key)?;
        let mut req = self
            .sse_c(self.request(Method::GET, self.object_url(bucket, key, None), ""))
            .header("x-amz-checksum-mode", "ENABLED");
        if let Some(etag) = if_match {
            req = req.try_header(http::header::IF_MATCH, etag).map_err(|e| Self::input_error("GetObject", e))?;
        }
        let r = self.send_streaming(bucket, "GetObject", req).await?;
        let check = checksum::BodyCheck::for_answer(&r.headers);
        Ok((GetObject { info: object_info(&r.headers), body: r.body }, check))
    }

    /// GetObject, the whole body in memory.
    pub async fn get_bytes(&self, bucket: &str, key: &str) -> Result<bytes::Bytes, Error> {
        use futures_util::TryStreamExt;
        let got = self.get(bucket, key, None).await?;
        let mut buf = bytes::BytesMut::with_capacity(got.info.content_length.min(64 << 20) as usize);
        let mut body = got.body;
        while let Some(chunk) = body.try_next().await? {
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }

    /// DeleteObject. Deleting a key that does not exist succeeds, as in S3.
    pub async fn delete(&self, bucket: &str, key: &str) -> Result<(), Error> {
        check_bucket_key("DeleteObject", bucket, key)?;
        self.send(bucket, "DeleteObject", self.request(Method::DELETE, self.url(bucket, key, ""), "")).await?;
        Ok(())
    }

    /// CopyObject, server side (objects up to 5 GiB), the source's metadata kept.
    pub async fn copy(&self, from_bucket: &str, from_key: &str, bucket: &str, key: &str) -> Result<(), Error> {
        self.copy_with(from_bucket, from_key, bucket, key, &PutOptions::default()).await
    }

    /// CopyObject with these options: storage class, ACL and encryption always; the metadata
    /// (type, cache control, `x-amz-meta-*`...) with `x-amz-metadata-directive: REPLACE` when
    /// the options replace it (see [`PutOptions::metadata_directive`]).
    pub async fn copy_with(
        &self,
        from_bucket: &str,
        from_key: &str,
        bucket: &str,
        key: &str,
        options: &PutOptions,
    ) -> Result<(), Error> {
        self.copy_version_with(from_bucket, from_key, None, bucket, key, options).await
    }

    /// [`copy_with`](Self::copy_with) from one version of the source (`None`: the current
    /// one): CopyObject with `x-amz-copy-source: bucket/key?versionId=...`.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html>
    pub async fn copy_version_with(
        &self,
        from_bucket: &str,
        from_key: &str,
        from_version_id: Option<&str>,
        bucket: &str,
        key: &str,
        options: &PutOptions,
    ) -> Result<(), Error> {
        const OP: &str = "CopyObject";
        check_bucket_key(OP, from_bucket, from_key)?;
        check_bucket_key(OP, bucket, key)?;
        check_version(OP, from_version_id)?;
        let source = self.copy_source(from_bucket, from_key, from_version_id);
        let req = self
            .request(Method::PUT, self.url(bucket, key, ""), "")
            .try_header(http::HeaderName::from_static("x-amz-copy-source"), &source)
            .map_err(|e| Self::input_error(OP, e))?;
        let req = self.sse_c_source(self.sse_c(req), false);
        let req = if options.replaces_metadata() {
            let mut put = options.clone();
            put.checksum = None;
            put.checksum_value = None;
            put.apply(OP, req)?.header("x-amz-metadata-directive", MetadataDirective::Replace.as_str())
        } else {
            options.apply_to_copy(OP, req)?.header("x-amz-metadata-directive", MetadataDirective::Copy.as_str())
        };
        let req = options.condition(req);
        // A copy that fails after the 200 went out reports it in the body; the transport
        // turns that into an error.
        self.send(bucket, "CopyObject", req).await?;
        Ok(())
    }
}

/// Whether `bucket` can be the first label of a virtual-hosted name (no dots over https, where
/// they would break the wildcard certificate).
fn dns_compatible(bucket: &str, https: bool) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || (b == b'.' && !https))
        && !bucket.starts_with('-')
        && !bucket.ends_with('-')
}

/// The `x-amz-copy-source` of `key` in `bucket`: `bucket/key`, or for an access point ARN
/// `ARN/object/key`, the key percent-encoded.
pub(crate) fn copy_source(bucket: &str, key: &str) -> String {
    let mut source = if access_point::is_arn(bucket) { format!("{bucket}/object/") } else { format!("{bucket}/") };
    encode_key_into(key, &mut source);
    source
}

/// `:9000` of `host:9000/...` (an IPv6 literal's brackets skipped), or nothing.
fn port_of(authority_and_path: &str) -> &str {
    let authority = authority_and_path.split('/').next().unwrap_or("");
    let after_literal = authority.rfind(']').map_or(0, |i| i + 1);
    authority[after_literal..].find(':').map_or("", |i| &authority[after_literal + i..])
}

/// The header of a request whose requester pays for it.
pub(crate) const REQUEST_PAYER: &str = "x-amz-request-payer";

/// A bucket name (letters, digits, `-`, `.`, `_`: S3's names and the wider ones other stores
/// allow, and access point aliases) or an access point ARN cirrus can address.
fn check_bucket(op: &'static str, bucket: &str) -> Result<(), Error> {
    if let Some(ap) = access_point::AccessPoint::parse(bucket) {
        return ap.map(|_| ()).map_err(|why| S3Client::input_error(op, why));
    }
    let ok = !bucket.is_empty()
        && bucket.len() <= 255
        && bucket.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(S3Client::input_error(op, format!("{bucket:?} is not a bucket name (letters, digits, '-', '.', '_')")))
    }
}

/// A version id, when given, is not empty (S3 would take `versionId=` for the current version).
fn check_version(op: &'static str, version_id: Option<&str>) -> Result<(), Error> {
    match version_id {
        Some("") => Err(S3Client::input_error(op, "the version id is empty")),
        _ => Ok(()),
    }
}

fn check_bucket_key(op: &'static str, bucket: &str, key: &str) -> Result<(), Error> {
    check_bucket(op, bucket)?;
    if key.is_empty() {
        return Err(S3Client::input_error(op, "the key is empty"));
    }
    if key.len() > 1024 {
        return Err(S3Client::input_error(op, format!("the key is {} bytes; S3 allows 1024", key.len())));
    }
    Ok(())
}

/// Percent-encodes a key for a URL path: every byte but the unreserved ones and `/`, so the key
/// reaches S3 exactly as given.
pub(crate) fn encode_key_into(key: &str, out: &mut String) {
    cirrus_sigv4::uri_encode_into(out, key, true);
}

/// Percent-encodes a query parameter value (everything but the unreserved bytes).
pub(crate) fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    cirrus_sigv4::uri_encode_into(&mut out, value, false);
    out
}

pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters even escaped as text; a numeric
            // reference is how S3 accepts them in DeleteObjects.
            c if (c as u32) < 0x20 => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn object_info(h: &HeaderMap) -> ObjectInfo {
    let metadata = h
        .iter()
        .filter_map(|(k, v)| {
            let name = k.as_str().strip_prefix("x-amz-meta-")?;
            Some((name.to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        })
        .collect();
    ObjectInfo {
        content_length: header(h, "content-length").and_then(|v| v.parse().ok()).unwrap_or(0),
        content_type: header(h, "content-type").map(str::to_owned),
        etag: header(h, "etag").map(str::to_owned),
        last_modified: header(h, "last-modified").and_then(|v| httpdate::parse_http_date(v).ok()),
        metadata,
        version_id: header(h, "x-amz-version-id").map(str::to_owned),
        content_range: header(h, "content-range").map(str::to_owned),
        cache_control: header(h, "cache-control").map(str::to_owned),
        content_disposition: header(h, "content-disposition").map(str::to_owned),
        content_encoding: header(h, "content-encoding").map(str::to_owned),
        content_language: header(h, "content-language").map(str::to_owned),
        expires: header(h, "expires").map(str::to_owned),
        storage_class: header(h, "x-amz-storage-class").map(str::to_owned),
        server_side_encryption: header(h, "x-amz-server-side-encryption").map(str::to_owned),
        sse_kms_key_id: header(h, "x-amz-server-side-encryption-aws-kms-key-id").map(str::to_owned),
        accept_ranges: header(h, "accept-ranges").map(str::to_owned),
        delete_marker: header(h, "x-amz-delete-marker") == Some("true"),
        checksum: Checksum::from_headers(h),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_byte_for_byte() {
        let mut s = String::new();
        encode_key_into("/a b+c//../é?#%", &mut s);
        assert_eq!(s, "/a%20b%2Bc//../%C3%A9%3F%23%25");
    }

    #[test]
    fn dns_compatibility() {
        assert!(dns_compatible("my-bucket", true));
        assert!(!dns_compatible("my.bucket", true));
        assert!(dns_compatible("my.bucket", false));
        assert!(!dns_compatible("My_Bucket", false));
        assert!(!dns_compatible("ab", false));
    }

    fn client(endpoint: &str, custom: bool, settings: S3Settings) -> S3Client {
        let keys = crate::credentials::StaticCredentials::new("AKIDEXAMPLE", "secret", None);
        let svc = ServiceConfig::builder(SPEC, "us-east-1", endpoint).credentials(Some(Arc::new(keys))).build();
        S3Client::from_service(svc, settings, custom)
    }

    fn presigned(s3: &S3Client, bucket: &str) -> Result<String, Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| Error::input(NAME, "t", e.to_string()))?;
        let opts = PresignOptions::default();
        rt.block_on(s3.presign(Method::GET, bucket, "a b/k", std::time::Duration::from_secs(60), &opts)).map(|p| p.url)
    }

    #[test]
    fn a_bucket_can_be_its_own_host() {
        let aws = "https://s3.us-east-1.amazonaws.com";
        let s3 = client(aws, false, S3Settings::default().with_bucket_as_host(true));
        assert_eq!(s3.url("files.example.com", "a b/k", "x=1"), "https://files.example.com/a%20b/k?x=1");
        let url = presigned(&s3, "files.example.com").unwrap();
        assert!(url.starts_with("https://files.example.com/a%20b/k?X-Amz-Algorithm="), "{url}");
        // A custom endpoint lends its scheme and port; without the setting, nothing changes.
        let s3 = client("http://127.0.0.1:9000/", true, S3Settings::default().with_bucket_as_host(true));
        assert_eq!(s3.url("localhost", "k", ""), "http://localhost:9000/k");
        let s3 = client("http://[::1]:9000", true, S3Settings::default().with_bucket_as_host(true));
        assert_eq!(s3.url("localhost", "", ""), "http://localhost:9000/");
        let s3 = client(aws, false, S3Settings::default());
        assert_eq!(s3.url("files.example.com", "k", ""), "https://s3.us-east-1.amazonaws.com/files.example.com/k");
    }

    #[test]
    fn access_points_by_arn_and_alias() {
        let arn = "arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap";
        let s3 = client("https://s3.us-east-1.amazonaws.com", false, S3Settings::default());
        assert_eq!(
            s3.url(arn, "a b/k", "list-type=2"),
            "https://my-ap-123456789012.s3-accesspoint.us-west-2.amazonaws.com/a%20b/k?list-type=2"
        );
        assert_eq!(s3.bucket_region(arn), "us-west-2");
        let url = presigned(&s3, arn).unwrap();
        assert!(url.starts_with("https://my-ap-123456789012.s3-accesspoint.us-west-2.amazonaws.com/a%20b/k?"), "{url}");
        assert!(url.contains("%2Fus-west-2%2Fs3%2Faws4_request"), "{url}");
        assert_eq!(copy_source(arn, "a b"), format!("{arn}/object/a%20b"));
        // An alias is a bucket name: virtual-hosted as any other.
        let alias = "my-ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias";
        assert!(check_bucket("GetObject", alias).is_ok());
        assert_eq!(s3.url(alias, "k", ""), format!("https://{alias}.s3.us-east-1.amazonaws.com/k"));
        // A custom endpoint cannot be an access point's host.
        let custom = client("http://127.0.0.1:9000", true, S3Settings::default());
        let e = presigned(&custom, arn).unwrap_err();
        assert!(e.is_input() && e.to_string().contains("custom endpoint"), "{e}");
        let e = presigned(&s3, "arn:aws:s3::123456789012:accesspoint/x.mrap").unwrap_err();
        assert!(e.is_input() && e.to_string().contains("SigV4a"), "{e}");
    }

    #[test]
    fn the_requester_pays_in_presigned_urls() {
        let s3 = client("https://s3.us-east-1.amazonaws.com", false, S3Settings::default().with_request_payer(true));
        let url = presigned(&s3, "my-bucket").unwrap();
        assert!(url.contains("?x-amz-request-payer=requester&X-Amz-Algorithm="), "{url}");
        let plain = client("https://s3.us-east-1.amazonaws.com", false, S3Settings::default());
        assert!(!presigned(&plain, "my-bucket").unwrap().contains("request-payer"));
        let req = s3.request(Method::GET, s3.url("my-bucket", "k", ""), "");
        assert_eq!(req.headers.get(REQUEST_PAYER).map(|v| v.as_bytes()), Some(&b"requester"[..]));
    }

    #[test]
    fn xml_escaping() {
        assert_eq!(xml_escape("a&b<c>\"d'\u{1}"), "a&amp;b&lt;c&gt;&quot;d&apos;&#1;");
    }
}

/// `request` sent to `new_endpoint` instead of `old_endpoint` (path style: the URL's prefix;
/// virtual-hosted: the host after the bucket's label). The same request when they are equal.
fn rebase(mut request: Request, old_endpoint: &str, new_endpoint: &str) -> Request {
    if old_endpoint != new_endpoint {
        request.url = rebase_url(&request.url, old_endpoint, new_endpoint);
    }
    request
}

fn rebase_url(url: &str, old_endpoint: &str, new_endpoint: &str) -> String {
    if let Some(rest) = url.strip_prefix(old_endpoint) {
        return format!("{new_endpoint}{rest}");
    }
    let host = |e: &str| e.split_once("://").map_or(e, |(_, h)| h).split('/').next().unwrap_or("").to_owned();
    let (old_host, new_host) = (host(old_endpoint), host(new_endpoint));
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.strip_suffix(&old_host).filter(|b| b.ends_with('.')) {
        Some(bucket_label) => format!("{scheme}://{bucket_label}{new_host}{path}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod rebase_tests {
    use super::rebase_url;

    #[test]
    fn urls_move_to_the_other_regions_endpoint() {
        let (old, new) = ("https://s3.us-east-1.amazonaws.com", "https://s3.eu-west-1.amazonaws.com");
        assert_eq!(
            rebase_url("https://s3.us-east-1.amazonaws.com/my.bucket/k?x=1", old, new),
            "https://s3.eu-west-1.amazonaws.com/my.bucket/k?x=1"
        );
        assert_eq!(
            rebase_url("https://bkt.s3.us-east-1.amazonaws.com/a/b", old, new),
            "https://bkt.s3.eu-west-1.amazonaws.com/a/b"
        );
        assert_eq!(rebase_url("https://elsewhere.example/a", old, new), "https://elsewhere.example/a");
    }
}
