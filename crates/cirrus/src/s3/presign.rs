//! Presigned URLs (GET, PUT, HEAD, DELETE) and presigned POST forms.

use super::{check_bucket, check_bucket_key, encode_query, S3Client};
use crate::credentials::Credentials;
use crate::transport::Error;
use cirrus_sigv4::post_policy::PostPolicy;
use cirrus_sigv4::{Payload, SigningParams, SigningSettings};
use http::Method;
use std::time::{Duration, SystemTime};

/// The longest a SigV4 presigned URL can live.
pub(crate) const MAX_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

/// The largest upload a POST form can allow: S3 takes POST uploads of at most 5 GiB.
pub(crate) const MAX_POST_SIZE: u64 = 5 << 30;

/// Extras for a presigned URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PresignOptions {
    /// `response-*` overrides for a GET: (`content-disposition`, `attachment; filename="a.pdf"`)
    /// sets `response-content-disposition`; also `content-type`, `content-language`, `expires`,
    /// `cache-control`, `content-encoding`.
    pub response_overrides: Vec<(String, String)>,
}

impl PresignOptions {
    /// These options, overriding a response header (`content-disposition`, `content-type`...).
    #[must_use]
    pub fn with_response_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.response_overrides.push((name.to_ascii_lowercase(), value.into()));
        self
    }
}

/// A presigned URL and how long it works.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Presigned {
    /// The URL. It carries a signature (and a session token): treat it as a secret.
    pub url: String,
    /// When the signature expires.
    pub expires_at: SystemTime,
    /// When the credentials that signed it expire, if they do. After that the URL stops
    /// working, whatever `expires_at` says.
    pub credentials_expire_at: Option<SystemTime>,
}

impl Presigned {
    /// A sentence for the user when the credentials expire before the URL would.
    pub fn warning(&self) -> Option<String> {
        let creds = self.credentials_expire_at?;
        (creds < self.expires_at).then(|| {
            let left = creds.duration_since(SystemTime::now()).unwrap_or_default().as_secs();
            format!(
                "the URL stops working in {left} s, when the temporary credentials that signed it expire, before its own expiry"
            )
        })
    }
}

impl std::fmt::Debug for Presigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self.url.split_once('?').map(|(base, _)| base).unwrap_or(&self.url);
        f.debug_struct("Presigned")
            .field("url", &format_args!("{shown}?** signed query redacted **"))
            .field("expires_at", &self.expires_at)
            .field("credentials_expire_at", &self.credentials_expire_at)
            .finish()
    }
}

/// The aioaws-style upload form: a key (a prefix plus a file name, or a fixed key), and what
/// the upload may be.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostOptions {
    /// The key prefix (`user/42/`). With `filename`, the key is exactly prefix + filename;
    /// without, any key starting with the prefix is allowed.
    pub prefix: String,
    /// The file name appended to the prefix.
    pub filename: Option<String>,
    /// The exact `Content-Type` the upload must have.
    pub content_type: Option<String>,
    /// The largest file allowed, in bytes.
    pub max_size: Option<u64>,
    /// The file's exact size, declared before the upload (`content-length-range` from this
    /// size to this size, as aioaws's upload form pins it): a file of any other size is
    /// refused. Within `max_size` when both are set.
    pub size: Option<u64>,
    /// The name a browser saves the object under: the form carries `Content-Disposition:
    /// attachment; filename="..."` (a field and its policy condition), which S3 stores with
    /// the object and sends back on every GET. A name with quotes, backslashes, control or
    /// non-ASCII characters gets an ASCII fallback and an RFC 5987 `filename*` (RFC 6266).
    pub attachment: Option<String>,
    /// How long the form works. 1 hour.
    pub expires_in: Duration,
}

impl PostOptions {
    /// A form for keys under `prefix`, valid for an hour.
    pub fn new(prefix: impl Into<String>) -> Self {
        PostOptions {
            prefix: prefix.into(),
            filename: None,
            content_type: None,
            max_size: None,
            size: None,
            attachment: None,
            expires_in: Duration::from_secs(3600),
        }
    }

    /// These options with a file name.
    #[must_use]
    pub fn with_filename(mut self, f: impl Into<String>) -> Self {
        self.filename = Some(f.into());
        self
    }

    /// These options with a required content type.
    #[must_use]
    pub fn with_content_type(mut self, t: impl Into<String>) -> Self {
        self.content_type = Some(t.into());
        self
    }

    /// These options with a size limit.
    #[must_use]
    pub fn with_max_size(mut self, n: u64) -> Self {
        self.max_size = Some(n);
        self
    }

    /// These options for a file of exactly `n` bytes (see [`size`](Self::size)).
    #[must_use]
    pub fn with_size(mut self, n: u64) -> Self {
        self.size = Some(n);
        self
    }

    /// These options with the object downloaded as an attachment named `name` (see
    /// [`attachment`](Self::attachment)).
    #[must_use]
    pub fn with_attachment(mut self, name: impl Into<String>) -> Self {
        self.attachment = Some(name.into());
        self
    }

    /// These options with another lifetime.
    #[must_use]
    pub fn with_expires_in(mut self, d: Duration) -> Self {
        self.expires_in = d;
        self
    }
}

/// A signed upload form: POST `fields` (in order) and then the file, as
/// `multipart/form-data`, to `url`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostForm {
    /// Where the form goes (the bucket's URL).
    pub url: String,
    /// Form fields to send before the file.
    pub fields: Vec<(String, String)>,
    /// When the form expires.
    pub expires_at: SystemTime,
}

impl std::fmt::Debug for PostForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.fields.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("PostForm").field("url", &self.url).field("fields", &names).finish_non_exhaustive()
    }
}

impl S3Client {
    async fn signing_credentials(&self, op: &'static str) -> Result<Credentials, Error> {
        match &self.service().credentials() {
            Some(p) => p.provide_credentials().await.map_err(|e| Error::credentials(super::NAME, op, e)),
            None => Err(Self::input_error(op, "cannot presign without credentials (anonymous mode)")),
        }
    }

    /// A presigned URL for `method` (GET, PUT, HEAD or DELETE) on `key`, valid for
    /// `expires_in` (at most 7 days).
    ///
    /// ```
    /// # use cirrus::{loader::CredentialsChoice, credentials::StaticCredentials, Config};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let keys = std::sync::Arc::new(StaticCredentials::new("AKIDEXAMPLE", "secret", None));
    /// # let config = Config::loader()
    /// #     .region(Some("us-east-1"))
    /// #     .credentials(CredentialsChoice::Provider(keys))
    /// #     .load()?;
    /// use cirrus::s3::{PresignOptions, S3Client};
    /// use std::time::Duration;
    ///
    /// let s3 = S3Client::new(&config)?;
    /// let options = PresignOptions::default()
    ///     .with_response_header("content-disposition", r#"attachment; filename="report.pdf""#);
    /// let (get, expires_in) = (http::Method::GET, Duration::from_secs(3600));
    /// let link = s3.presign(get, "my-bucket", "reports/q2.pdf", expires_in, &options).await?;
    /// if let Some(warning) = link.warning() {
    ///     eprintln!("{warning}");
    /// }
    /// assert!(link.url.contains("X-Amz-Signature="));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn presign(
        &self,
        method: Method,
        bucket: &str,
        key: &str,
        expires_in: Duration,
        options: &PresignOptions,
    ) -> Result<Presigned, Error> {
        const OP: &str = "Presign";
        check_bucket_key(OP, bucket, key)?;
        self.check_addressable(OP, bucket)?;
        if !matches!(method, Method::GET | Method::PUT | Method::HEAD | Method::DELETE) {
            return Err(Self::input_error(OP, format!("cannot presign {method}: GET, PUT, HEAD or DELETE")));
        }
        if expires_in.is_zero() || expires_in > MAX_EXPIRY {
            return Err(Self::input_error(
                OP,
                format!("expiry {} s is not within 1 s to 7 days (604800 s)", expires_in.as_secs()),
            ));
        }
        let mut query: Vec<String> = Vec::new();
        for (name, value) in &options.response_overrides {
            let allowed = [
                "content-type",
                "content-language",
                "expires",
                "cache-control",
                "content-disposition",
                "content-encoding",
            ];
            if !allowed.contains(&name.as_str()) {
                return Err(Self::input_error(OP, format!("response-{name} is not a header S3 lets a URL override")));
            }
            query.push(format!("response-{name}={}", encode_query(value)));
        }
        if self.settings().request_payer {
            query.push(format!("{}=requester", super::REQUEST_PAYER));
        }
        query.sort();
        let url = self.url(bucket, key, &query.join("&"));
        let creds = self.signing_credentials(OP).await?;
        let svc = self.svc_for(bucket);
        let now = svc.clock().now();
        let mut parts = crate::transport::Request::new(method, url, bytes::Bytes::new())
            .head()
            .map_err(|m| Self::input_error(OP, m))?;
        let params = SigningParams::new(creds.access_key_id(), creds.secret_access_key(), svc.region(), "s3", now)
            .session_token(creds.session_token())
            .settings(SigningSettings::s3().presigned(expires_in));
        cirrus_sigv4::sign_http(&mut parts, Payload::Unsigned, &params)
            .map_err(|e| Self::input_error(OP, format!("cannot sign: {e}")))?;
        Ok(Presigned {
            url: parts.uri.to_string(),
            expires_at: now + expires_in,
            credentials_expire_at: creds.expiry(),
        })
    }

    /// A presigned POST form in the aioaws shape: the key, content type and size limits of
    /// `options`. For other conditions, build a [`PostPolicy`] and use
    /// [`presign_post_policy`](Self::presign_post_policy).
    ///
    /// ```
    /// # use cirrus::{loader::CredentialsChoice, credentials::StaticCredentials, Config};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let keys = std::sync::Arc::new(StaticCredentials::new("AKIDEXAMPLE", "secret", None));
    /// # let config = Config::loader()
    /// #     .region(Some("us-east-1"))
    /// #     .credentials(CredentialsChoice::Provider(keys))
    /// #     .load()?;
    /// use cirrus::s3::{PostOptions, S3Client};
    ///
    /// let s3 = S3Client::new(&config)?;
    /// let options = PostOptions::new("uploads/user-42/")
    ///     .with_content_type("image/png")
    ///     .with_max_size(5 * 1024 * 1024);
    /// let form = s3.presign_post("my-bucket", &options).await?;
    /// // The browser POSTs to `form.url`: these fields in order, then the file.
    /// for (name, value) in &form.fields {
    ///     println!("{name} = {value}");
    /// }
    /// assert!(form.fields.iter().any(|(name, _)| name == "x-amz-signature"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn presign_post(&self, bucket: &str, options: &PostOptions) -> Result<PostForm, Error> {
        const OP: &str = "PresignPost";
        check_bucket(OP, bucket)?;
        if options.expires_in.is_zero() || options.expires_in > MAX_EXPIRY {
            return Err(Self::input_error(
                OP,
                format!("expiry {} s is not within 1 s to 7 days (604800 s)", options.expires_in.as_secs()),
            ));
        }
        for (what, n) in [("max size", options.max_size), ("size", options.size)] {
            if let Some(n) = n.filter(|&m| m > MAX_POST_SIZE) {
                return Err(Self::input_error(
                    OP,
                    format!("{what} {n} bytes is above {MAX_POST_SIZE} (5 GiB), the largest POST upload S3 takes"),
                ));
            }
        }
        if let (Some(size), Some(max)) = (options.size, options.max_size) {
            if size > max {
                return Err(Self::input_error(OP, format!("size {size} bytes is above the max size {max}")));
            }
        }
        let now = self.service().clock().now();
        let mut b = PostPolicy::builder(now + options.expires_in).bucket(bucket);
        let mut fixed = Vec::new();
        match &options.filename {
            Some(f) => {
                if f.is_empty() || f.contains('/') {
                    return Err(Self::input_error(OP, format!("file name {f:?} must be non-empty and have no '/'")));
                }
                let key = format!("{}{f}", options.prefix);
                b = b.key(&key);
                fixed.push(("key".to_owned(), key));
            }
            None => {
                b = b.key_starts_with(&options.prefix);
                fixed.push(("key".to_owned(), format!("{}${{filename}}", options.prefix)));
            }
        }
        if let Some(t) = &options.content_type {
            b = b.content_type(t);
        }
        match (options.size, options.max_size) {
            (Some(size), _) => b = b.content_length_range(size, size),
            (None, Some(max)) => b = b.content_length_range(0, max),
            (None, None) => {}
        }
        if let Some(name) = &options.attachment {
            if name.is_empty() {
                return Err(Self::input_error(OP, "the attachment's file name is empty"));
            }
            b = b.equals("Content-Disposition", &attachment_disposition(name));
        }
        let policy = b.build().map_err(|e| Self::input_error(OP, e.to_string()))?;
        let mut form = self.presign_post_policy(bucket, &policy, now + options.expires_in).await?;
        // The key field: fixed keys come from the policy already; a prefix form gets S3's
        // ${filename} substitution.
        if !form.fields.iter().any(|(k, _)| k == "key") {
            form.fields.splice(0..0, fixed);
        }
        Ok(form)
    }

    /// Signs any [`PostPolicy`] for `bucket`.
    pub async fn presign_post_policy(
        &self,
        bucket: &str,
        policy: &PostPolicy,
        expires_at: SystemTime,
    ) -> Result<PostForm, Error> {
        const OP: &str = "PresignPost";
        check_bucket(OP, bucket)?;
        if super::access_point::is_arn(bucket) {
            return Err(Self::input_error(
                OP,
                format!("{bucket:?} is an access point ARN; cirrus signs POST forms for buckets only"),
            ));
        }
        let creds = self.signing_credentials(OP).await?;
        let svc = self.svc_for(bucket);
        let signed = policy.sign(
            creds.access_key_id(),
            creds.secret_access_key(),
            creds.session_token(),
            svc.region(),
            svc.clock().now(),
        );
        let url = self.url(bucket, "", "");
        Ok(PostForm { url, fields: signed.fields, expires_at })
    }
}

/// `attachment; filename="NAME"` for a plain name; for one with quotes, backslashes, control or
/// non-ASCII characters an ASCII fallback (each such character as `_`) and the exact name as
/// RFC 5987's `filename*=UTF-8''...` (RFC 6266, section 4.3).
pub(crate) fn attachment_disposition(name: &str) -> String {
    let plain = |c: char| (' '..='~').contains(&c) && c != '"' && c != '\\';
    if name.chars().all(plain) {
        return format!("attachment; filename=\"{name}\"");
    }
    let fallback: String = name.chars().map(|c| if plain(c) { c } else { '_' }).collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        // RFC 5987 attr-char: letters, digits and !#$&+-.^_`|~ go as they are.
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::attachment_disposition;

    #[test]
    fn attachment_names_are_encoded_per_rfc_6266() {
        assert_eq!(attachment_disposition("report 2024.pdf"), r#"attachment; filename="report 2024.pdf""#);
        assert_eq!(
            attachment_disposition("naïve \"q\".txt"),
            r#"attachment; filename="na_ve _q_.txt"; filename*=UTF-8''na%C3%AFve%20%22q%22.txt"#
        );
        assert_eq!(
            attachment_disposition("a\\b\r\n.txt"),
            r#"attachment; filename="a_b__.txt"; filename*=UTF-8''a%5Cb%0D%0A.txt"#
        );
        assert_eq!(
            attachment_disposition("日本.txt"),
            r#"attachment; filename="__.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt"#
        );
    }
}
