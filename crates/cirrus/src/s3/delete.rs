//! DeleteObjects in batches of 1,000, and deleting everything under a prefix page by page.

use super::{check_bucket, xml_escape, S3Client};
use crate::transport::xml;
use crate::transport::Error;
use futures_util::StreamExt;
use http::Method;
use md5::Digest;

/// S3's limit of keys per DeleteObjects call.
const BATCH: usize = 1000;

/// A key S3 would not delete, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteFailure {
    /// The key.
    pub key: String,
    /// The version, for a delete of versions ([`S3Client::delete_versions`]).
    pub version_id: Option<String>,
    /// S3's error code (`AccessDenied`...).
    pub code: String,
    /// S3's message.
    pub message: String,
}

/// What a batch or recursive delete did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteReport {
    /// Keys deleted.
    pub deleted: u64,
    /// Keys S3 refused to delete, each with its reason. Never dropped silently.
    pub failed: Vec<DeleteFailure>,
}

impl DeleteReport {
    /// Whether every key was deleted.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }
}

impl S3Client {
    /// Deletes `keys` with DeleteObjects, 1,000 at a time. A key S3 refuses is reported in
    /// [`DeleteReport::failed`]; an error of a whole call stops and is returned.
    pub async fn delete_many<I>(&self, bucket: &str, keys: I) -> Result<DeleteReport, Error>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        check_bucket("DeleteObjects", bucket)?;
        let mut report = DeleteReport::default();
        let mut batch: Vec<String> = Vec::with_capacity(BATCH);
        for k in keys {
            batch.push(k.as_ref().to_owned());
            if batch.len() == BATCH {
                self.delete_batch(bucket, &batch, &mut report).await?;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            self.delete_batch(bucket, &batch, &mut report).await?;
        }
        Ok(report)
    }

    /// Deletes every object whose key starts with `prefix` (all of them for `""`), listing a
    /// page and deleting it before listing the next, so memory does not grow with the number
    /// of keys. Keys outside the prefix are never touched.
    ///
    /// ```no_run
    /// # async fn example(s3: &cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let report = s3.delete_prefix("my-bucket", "tmp/build-1234/").await?;
    /// println!("{} deleted", report.deleted);
    /// for failure in &report.failed {
    ///     eprintln!("{}: {} ({})", failure.key, failure.code, failure.message);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete_prefix(&self, bucket: &str, prefix: &str) -> Result<DeleteReport, Error> {
        let mut report = DeleteReport::default();
        // Keys as the tree's key ranges give them (in parallel past the first page), 1,000 a call.
        let mut objects = Box::pin(self.list_tree(bucket, prefix));
        let mut keys = Vec::with_capacity(BATCH);
        while let Some(object) = objects.next().await {
            let key = object?.key;
            if !key.starts_with(prefix) {
                continue;
            }
            keys.push(key);
            if keys.len() == BATCH {
                self.delete_batch(bucket, &keys, &mut report).await?;
                keys.clear();
            }
        }
        if !keys.is_empty() {
            self.delete_batch(bucket, &keys, &mut report).await?;
        }
        Ok(report)
    }

    async fn delete_batch(&self, bucket: &str, keys: &[String], report: &mut DeleteReport) -> Result<(), Error> {
        // XML 1.0 cannot carry most control characters, not even as references: such keys go
        // one by one with DeleteObject, whose key is in the URL.
        let (plain, odd): (Vec<&String>, Vec<&String>) = keys.iter().partition(|k| xml_safe(k));
        for k in odd {
            match self.delete(bucket, k).await {
                Ok(()) => report.deleted += 1,
                Err(e) => report.failed.push(DeleteFailure {
                    key: k.clone(),
                    version_id: None,
                    code: e.code().unwrap_or("DeleteObject").to_owned(),
                    message: crate::transport::Chain(&e).to_string(),
                }),
            }
        }
        if plain.is_empty() {
            return Ok(());
        }
        let plain: Vec<(&str, Option<&str>)> = plain.into_iter().map(|k| (k.as_str(), None)).collect();
        self.delete_xml_batch(bucket, &plain, report).await
    }

    /// Deletes these versions of these keys (a version id of `None`: the current version,
    /// which on a versioned bucket leaves a delete marker) with DeleteObjects, 1,000 at a time.
    /// A version S3 refuses is reported in [`DeleteReport::failed`] with its key and version;
    /// an error of a whole call stops and is returned.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>
    ///
    /// ```no_run
    /// # async fn example(s3: &cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let old = [("config.json", Some("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH")), ("draft.txt", None)];
    /// let report = s3.delete_versions("my-bucket", old).await?;
    /// assert!(report.is_complete());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete_versions<I, K, V>(&self, bucket: &str, versions: I) -> Result<DeleteReport, Error>
    where
        I: IntoIterator<Item = (K, Option<V>)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        const OP: &str = "DeleteObjects";
        check_bucket(OP, bucket)?;
        let mut report = DeleteReport::default();
        let mut batch: Vec<(String, Option<String>)> = Vec::with_capacity(BATCH);
        for (k, v) in versions {
            let (k, v) = (k.as_ref().to_owned(), v.map(|v| v.as_ref().to_owned()));
            if !xml_safe(&k) {
                // As in `delete_batch`: XML cannot carry the key; DeleteObject can.
                let Err(e) = self.delete_version(bucket, &k, v.as_deref()).await else {
                    report.deleted += 1;
                    continue;
                };
                report.failed.push(DeleteFailure {
                    key: k,
                    version_id: v,
                    code: e.code().unwrap_or("DeleteObject").to_owned(),
                    message: crate::transport::Chain(&e).to_string(),
                });
                continue;
            }
            if v.as_deref() == Some("") {
                return Err(Self::input_error(OP, format!("the version id of {k:?} is empty")));
            }
            batch.push((k, v));
            if batch.len() == BATCH {
                self.delete_pairs(bucket, &batch, &mut report).await?;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            self.delete_pairs(bucket, &batch, &mut report).await?;
        }
        Ok(report)
    }

    async fn delete_pairs(
        &self,
        bucket: &str,
        batch: &[(String, Option<String>)],
        report: &mut DeleteReport,
    ) -> Result<(), Error> {
        let pairs: Vec<(&str, Option<&str>)> = batch.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
        self.delete_xml_batch(bucket, &pairs, report).await
    }

    async fn delete_xml_batch(
        &self,
        bucket: &str,
        keys: &[(&str, Option<&str>)],
        report: &mut DeleteReport,
    ) -> Result<(), Error> {
        const OP: &str = "DeleteObjects";
        let mut body = String::from("<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>");
        for (k, v) in keys {
            body.push_str("<Object><Key>");
            body.push_str(&xml_escape(k));
            body.push_str("</Key>");
            if let Some(v) = v {
                body.push_str("<VersionId>");
                body.push_str(&xml_escape(v));
                body.push_str("</VersionId>");
            }
            body.push_str("</Object>");
        }
        body.push_str("</Delete>");
        // DeleteObjects requires an integrity header; Content-MD5 is the one every S3-compatible
        // store knows.
        let md5 = cirrus_sigv4::base64(&md5::Md5::digest(body.as_bytes()));
        let req = self
            .request(Method::POST, self.url(bucket, "", "delete="), body)
            .header("content-md5", &md5)
            .header("content-type", "application/xml");
        let r = self.send(bucket, OP, req).await?;
        let root = xml::parse(&r.body).map_err(|e| Self::response_error(OP, e))?;
        let mut failed = 0u64;
        for e in root.children_named("Error") {
            failed += 1;
            report.failed.push(DeleteFailure {
                key: e.text_of("Key").unwrap_or_default().to_owned(),
                version_id: e.text_of("VersionId").filter(|v| !v.is_empty()).map(str::to_owned),
                code: e.text_of("Code").unwrap_or_default().to_owned(),
                message: e.text_of("Message").unwrap_or_default().to_owned(),
            });
        }
        report.deleted += keys.len() as u64 - failed.min(keys.len() as u64);
        Ok(())
    }
}

/// Whether XML 1.0 can carry `key` (tab, line feed and carriage return are the only controls
/// it allows, as references).
fn xml_safe(key: &str) -> bool {
    key.chars().all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r') || (c as u32) >= 0x7f)
}
