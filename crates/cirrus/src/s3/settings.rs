//! How the S3 client and its transfers behave: addressing, multipart sizes, requests in flight
//! and the memory they may hold; read from code or from the profile's `s3` section.

use super::ChecksumAlgorithm;
use crate::config::{Config, ConfigError};

/// How the client talks to the store, and how hard its transfers push.
///
/// ```
/// use cirrus::s3::S3Settings;
///
/// // MinIO on a slow link: path-style, fewer requests in flight, bigger parts.
/// let mut settings = S3Settings::s3_compatible();
/// settings.concurrency = 16;
/// settings.part_size = 32 << 20;
/// assert_eq!(settings.path_style, Some(true));
/// ```
///
/// Then [`S3Client::with_settings`](super::S3Client::with_settings) makes a client with them.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct S3Settings {
    /// Path-style addressing (`https://host/bucket/key`): `Some(true)` always, `Some(false)`
    /// never, `None` (default) for custom endpoints and for bucket names that cannot be a DNS
    /// label, virtual-hosted (`https://bucket.host/key`) otherwise.
    pub path_style: Option<bool>,
    /// Uploads, downloads and copies at least this large go in parts. 8 MiB, as the AWS CLI.
    pub multipart_threshold: u64,
    /// The size of each part. 8 MiB, as the AWS CLI; raised when needed to stay within 10,000
    /// parts.
    pub part_size: u64,
    /// Requests in flight at once, across every object of a transfer and the parts of each.
    /// 128 by default: small objects spend their time waiting on round trips, and 128 requests
    /// keep a 20 ms link busy where the AWS CLI's 10 leave it idle (see BENCHMARKS.md, "Why
    /// 128 requests in flight"). Fewer when the open-file limit is low.
    pub concurrency: usize,
    /// Bytes of object data held in memory at once by the parts and buffers of transfers. 40
    /// MiB by default; together with the rest of the program that keeps a transfer of any size
    /// under 64 MiB of memory. The transfer engine streams a file's upload parts from the file,
    /// so a part in flight costs 768 KiB of it, whatever the part size.
    pub memory_budget: u64,
    /// The checksum every upload carries when its [`PutOptions`](super::PutOptions) name none:
    /// the whole object's for a single PutObject, each part's for a multipart upload. S3
    /// verifies it before it stores anything and keeps it, so that a download is verified
    /// against it too. CRC32 by default, as the AWS SDKs send it; `None` with
    /// `request_checksum_calculation = when_required` (the profile, or
    /// `AWS_REQUEST_CHECKSUM_CALCULATION`), for stores that refuse checksum headers.
    pub upload_checksum: Option<ChecksumAlgorithm>,
    /// The bucket is its own host name (a bucket named `files.example.com`, CNAME'd to S3, or
    /// a store that serves buckets under names of their own): requests go to
    /// `https://BUCKET/KEY`, with the scheme and port of the endpoint, and are signed for
    /// that host; presigned URLs and POST forms point there too. The Go SDK's
    /// `BucketEndpoint`, aioaws's custom-domain mode. Off by default, and never guessed from
    /// the name: a dotted bucket is also an ordinary bucket. An access point ARN is addressed
    /// at its own host whatever this says.
    pub bucket_as_host: bool,
    /// Requester pays: every request carries `x-amz-request-payer: requester` and presigned
    /// URLs the `x-amz-request-payer=requester` parameter, as the AWS CLI's `--request-payer
    /// requester`, so that a bucket whose owner made requesters pay answers (and bills the
    /// caller). POST forms carry nothing of it (S3 takes no such form field). Off by default.
    pub request_payer: bool,
    /// The keys each listing page asks for (`max-keys` on ListObjectsV2 and
    /// ListObjectVersions) when a call's [`ListOptions`](super::ListOptions) name no page size:
    /// the AWS CLI's `--page-size`. `None` (the default) leaves it to the store: 1,000 on S3,
    /// which is also its most. Fewer keys a page help a store that times out on large pages;
    /// more help one whose every page costs as much as the whole listing.
    pub list_page_size: Option<u32>,
}

impl Default for S3Settings {
    fn default() -> Self {
        S3Settings {
            path_style: None,
            multipart_threshold: 8 << 20,
            part_size: 8 << 20,
            concurrency: 128,
            memory_budget: 40 << 20,
            upload_checksum: Some(ChecksumAlgorithm::Crc32),
            bucket_as_host: false,
            request_payer: false,
            list_page_size: None,
        }
    }
}

impl S3Settings {
    /// Settings for an S3-compatible store (MinIO, Ceph, Garage, R2...): path-style
    /// addressing. cirrus never sends aws-chunked bodies; a store that refuses the upload
    /// checksum headers needs `upload_checksum = None` (`request_checksum_calculation =
    /// when_required`).
    pub fn s3_compatible() -> Self {
        S3Settings { path_style: Some(true), ..S3Settings::default() }
    }

    /// The defaults, changed by the `s3` section of the profile in use, as the AWS CLI reads
    /// it:
    ///
    /// ```ini
    /// [profile dev]
    /// s3 =
    ///   max_concurrent_requests = 20
    ///   multipart_threshold = 64MB
    ///   multipart_chunksize = 16MB
    ///   addressing_style = path
    /// ```
    ///
    /// Sizes are bytes or a number with `KB`, `MB`, `GB`, `TB` (powers of 1024, as the AWS
    /// CLI counts them; `KiB`... too). A value that cannot be read is an error naming it.
    ///
    /// ```
    /// # use cirrus::{loader::ConfigLoader, fs::MemFs, Context};
    /// # use std::sync::Arc;
    /// # let ini = concat!(
    /// #     "[profile dev]\nregion = eu-west-1\ns3 =\n",
    /// #     "  max_concurrent_requests = 20\n  multipart_chunksize = 16MB\n",
    /// # );
    /// # let env = Arc::new([("HOME", "/home/me"), ("AWS_PROFILE", "dev")]);
    /// # let fs = Arc::new(MemFs::new([("/home/me/.aws/config", ini)]));
    /// # let config = ConfigLoader::new(Context::new(env, fs)).load()?;
    /// use cirrus::s3::{S3Client, S3Settings};
    ///
    /// // With the profile above in ~/.aws/config and AWS_PROFILE=dev:
    /// let settings = S3Settings::from_config(&config)?;
    /// assert_eq!(settings.concurrency, 20);
    /// assert_eq!(settings.part_size, 16 << 20);
    /// let s3 = S3Client::with_settings(&config, settings)?;
    /// # let _ = s3;
    /// # Ok::<(), cirrus::config::ConfigError>(())
    /// ```
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let mut s = S3Settings::default();
        let profile = config.profile()?;
        // botocore's setting and names: the environment first, then the profile.
        let calculation = config
            .context()
            .env()
            .get("AWS_REQUEST_CHECKSUM_CALCULATION")
            .filter(|v| !v.is_empty())
            .map(|v| (v, "AWS_REQUEST_CHECKSUM_CALCULATION".to_owned()))
            .or_else(|| {
                let p = profile.as_ref()?;
                let v = p.get("request_checksum_calculation")?;
                Some((v.to_owned(), format!("profile {:?}: request_checksum_calculation", p.name())))
            });
        if let Some((v, from)) = calculation {
            s.upload_checksum = match v.trim().to_ascii_lowercase().as_str() {
                "when_supported" => Some(ChecksumAlgorithm::Crc32),
                "when_required" => None,
                _ => return Err(ConfigError::new(format!("{from} = {v:?} is not when_supported or when_required"))),
            };
        }
        let Some(profile) = profile else { return Ok(s) };
        let bad = |key: &str, value: &str, want: &str| {
            ConfigError::new(format!("profile {:?}: s3.{key} = {value:?} is not {want}", profile.name()))
        };
        // As the AWS CLI, any positive value is taken; cirrus keeps it within what works
        // (S3's 5 MiB to 5 GiB parts, at most 10,000 requests in flight).
        if let Some(v) = profile.get_sub("s3", "max_concurrent_requests") {
            s.concurrency = match v.trim().parse::<u64>() {
                Ok(n) if n >= 1 => n.min(10_000) as usize,
                _ => return Err(bad("max_concurrent_requests", v, "a positive number")),
            };
        }
        if let Some(v) = profile.get_sub("s3", "multipart_threshold") {
            s.multipart_threshold = match parse_size(v) {
                Some(n) if n >= 1 => n,
                _ => return Err(bad("multipart_threshold", v, "a positive size (e.g. 8MB)")),
            };
        }
        if let Some(v) = profile.get_sub("s3", "multipart_chunksize") {
            s.part_size = match parse_size(v) {
                Some(n) if n >= 1 => n.clamp(5 << 20, 5 << 30),
                _ => return Err(bad("multipart_chunksize", v, "a positive size (e.g. 8MB)")),
            };
        }
        if let Some(v) = profile.get_sub("s3", "addressing_style") {
            s.path_style = match v.trim() {
                "path" => Some(true),
                "virtual" => Some(false),
                "auto" => None,
                _ => return Err(bad("addressing_style", v, "auto, path or virtual")),
            };
        }
        Ok(s)
    }

    /// These settings with path-style addressing on or off.
    #[must_use]
    pub fn with_path_style(mut self, on: bool) -> Self {
        self.path_style = Some(on);
        self
    }

    /// These settings with the bucket as its own host (see [`bucket_as_host`](Self::bucket_as_host)).
    ///
    /// ```
    /// use cirrus::s3::S3Settings;
    ///
    /// // The bucket `files.example.com` is a CNAME of files.example.com.s3.amazonaws.com.
    /// let settings = S3Settings::default().with_bucket_as_host(true);
    /// assert!(settings.bucket_as_host);
    /// ```
    #[must_use]
    pub fn with_bucket_as_host(mut self, on: bool) -> Self {
        self.bucket_as_host = on;
        self
    }

    /// These settings with the requester paying, or not (see
    /// [`request_payer`](Self::request_payer)).
    #[must_use]
    pub fn with_request_payer(mut self, on: bool) -> Self {
        self.request_payer = on;
        self
    }

    /// These settings with another multipart threshold and part size (at least 5 MiB each,
    /// S3's minimum part size, except for tests against stores that allow less).
    #[must_use]
    pub fn with_part_size(mut self, threshold: u64, part_size: u64) -> Self {
        self.multipart_threshold = threshold.max(1);
        self.part_size = part_size.max(1);
        self
    }

    /// These settings with listing pages of `n` keys (at least 1) when a call names no page
    /// size (see [`list_page_size`](Self::list_page_size)).
    #[must_use]
    pub fn with_list_page_size(mut self, n: u32) -> Self {
        self.list_page_size = Some(n.max(1));
        self
    }

    /// These settings with another number of requests in flight (at least 1).
    #[must_use]
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// `1048576`, `8MB`, `8 MiB`, `1.5GB`: a size as the profile's `s3` keys take it (bytes,
    /// or a number with `KB`, `MB`, `GB`, `TB`, each a power of 1024, or `KiB`...); `None`
    /// when it is not one.
    ///
    /// ```
    /// use cirrus::s3::S3Settings;
    ///
    /// assert_eq!(S3Settings::parse_size("16MiB"), Some(16 << 20));
    /// assert_eq!(S3Settings::parse_size("lots"), None);
    /// ```
    pub fn parse_size(text: &str) -> Option<u64> {
        parse_size(text)
    }

    /// These settings with another memory budget for object data (at least one part is always
    /// allowed in flight, whatever the budget).
    #[must_use]
    pub fn with_memory_budget(mut self, bytes: u64) -> Self {
        self.memory_budget = bytes.max(1);
        self
    }
}

/// `1048576`, `8MB`, `8 MiB`, `1.5GB`: bytes, as the AWS CLI reads its size settings (every
/// unit a power of 1024).
pub(crate) fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "kib" => 1 << 10,
        "mb" | "mib" => 1 << 20,
        "gb" | "gib" => 1 << 30,
        "tb" | "tib" => 1 << 40,
        _ => return None,
    };
    if let Ok(n) = number.parse::<u64>() {
        return n.checked_mul(scale);
    }
    let f: f64 = number.parse().ok()?;
    let bytes = f * scale as f64;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::{ConfigLoader, CredentialsChoice};
    use std::collections::HashMap;
    use std::sync::Arc;

    fn from_profile(text: &str) -> Result<S3Settings, ConfigError> {
        let env: HashMap<String, String> = [("AWS_CONFIG_FILE", "/cfg"), ("AWS_SHARED_CREDENTIALS_FILE", "/none")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let fs = crate::fs::MemFs::new([("/cfg", text)]);
        let config = ConfigLoader::new(crate::Context::new(Arc::new(env), Arc::new(fs)))
            .region(Some("us-east-1"))
            .credentials(CredentialsChoice::Anonymous)
            .load()?;
        S3Settings::from_config(&config)
    }

    #[test]
    fn the_profiles_s3_section() {
        let s = from_profile(
            "[default]\ns3 =\n  max_concurrent_requests = 20\n  multipart_threshold = 64MB\n  \
             multipart_chunksize = 16MB\n  addressing_style = path\n",
        )
        .unwrap();
        assert_eq!(
            (s.concurrency, s.multipart_threshold, s.part_size, s.path_style),
            (20, 64 << 20, 16 << 20, Some(true))
        );
        let s = from_profile("[default]\nregion = x\n").unwrap();
        assert_eq!((s.concurrency, s.part_size, s.path_style), (128, 8 << 20, None));
        // Taken as the AWS CLI takes them, kept within what S3 allows.
        let s =
            from_profile("[default]\ns3 =\n  multipart_chunksize = 1KB\n  max_concurrent_requests = 99999\n").unwrap();
        assert_eq!((s.part_size, s.concurrency), (5 << 20, 10_000));
        let virt = from_profile("[default]\ns3 =\n  addressing_style = virtual\n").unwrap();
        assert_eq!(virt.path_style, Some(false));
        for (bad, key) in [
            ("max_concurrent_requests = 0", "max_concurrent_requests"),
            ("multipart_threshold = lots", "multipart_threshold"),
            ("addressing_style = sideways", "addressing_style"),
        ] {
            let e = from_profile(&format!("[default]\ns3 =\n  {bad}\n")).unwrap_err().to_string();
            assert!(e.contains(key) && e.contains("default"), "{e}");
        }
    }

    #[test]
    fn sizes_as_the_aws_cli_reads_them() {
        assert_eq!(parse_size("1048576"), Some(1 << 20));
        assert_eq!(parse_size("8MB"), Some(8 << 20));
        assert_eq!(parse_size("8 MiB"), Some(8 << 20));
        assert_eq!(parse_size("64kb"), Some(64 << 10));
        assert_eq!(parse_size("1.5GB"), Some(3 << 29));
        assert_eq!(parse_size("2TB"), Some(2 << 40));
        for bad in ["", "MB", "8 XB", "-1", "1e99GB", "99999999999999999999TB", "8M B"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }
}
