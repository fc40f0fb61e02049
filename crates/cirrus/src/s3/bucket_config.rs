//! A bucket's settings: GetBucketLocation, Get/PutBucketVersioning, Get/Put/DeleteBucketPolicy.

use super::tagging::with_md5;
use super::{check_bucket, S3Client};
use crate::transport::xml;
use crate::transport::Error;
use http::Method;

/// A bucket's versioning, as GetBucketVersioning reports it and PutBucketVersioning sets it.
///
/// ```
/// use cirrus::s3::VersioningConfiguration;
///
/// let on = VersioningConfiguration::status("Enabled");
/// assert_eq!(on.status.as_deref(), Some("Enabled"));
/// assert_eq!(on.mfa_delete, None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersioningConfiguration {
    /// `Enabled` or `Suspended`; none when versioning was never enabled.
    pub status: Option<String>,
    /// `Enabled` or `Disabled`, when S3 says (or the caller sets it).
    pub mfa_delete: Option<String>,
}

impl VersioningConfiguration {
    /// Versioning `Enabled` or `Suspended`.
    pub fn status(status: impl Into<String>) -> Self {
        VersioningConfiguration { status: Some(status.into()), mfa_delete: None }
    }

    /// This configuration with MFA delete `Enabled` or `Disabled`.
    #[must_use]
    pub fn with_mfa_delete(mut self, mfa_delete: impl Into<String>) -> Self {
        self.mfa_delete = Some(mfa_delete.into());
        self
    }
}

impl S3Client {
    /// The region the bucket is in, as GetBucketLocation names it: `None` for us-east-1 (S3
    /// sends an empty `LocationConstraint`), `EU` for the oldest eu-west-1 buckets.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html>
    pub async fn get_bucket_location(&self, bucket: &str) -> Result<Option<String>, Error> {
        const OP: &str = "GetBucketLocation";
        check_bucket(OP, bucket)?;
        let r = self.send(bucket, OP, self.request(Method::GET, self.url(bucket, "", "location="), "")).await?;
        let root = xml::parse(&r.body).map_err(|e| Self::response_error(OP, e))?;
        if root.name != "LocationConstraint" {
            return Err(Self::response_error(OP, format!("expected LocationConstraint, got <{}>", root.name)));
        }
        Ok(Some(root.text.trim().to_owned()).filter(|r| !r.is_empty()))
    }

    /// The bucket's versioning. <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html>
    ///
    /// ```no_run
    /// # async fn example(s3: &cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use cirrus::s3::VersioningConfiguration;
    ///
    /// if s3.get_bucket_versioning("my-bucket").await?.status.is_none() {
    ///     s3.put_bucket_versioning("my-bucket", &VersioningConfiguration::status("Enabled")).await?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_bucket_versioning(&self, bucket: &str) -> Result<VersioningConfiguration, Error> {
        const OP: &str = "GetBucketVersioning";
        check_bucket(OP, bucket)?;
        let r = self.send(bucket, OP, self.request(Method::GET, self.url(bucket, "", "versioning="), "")).await?;
        let root = xml::parse(&r.body).map_err(|e| Self::response_error(OP, e))?;
        // AWS names the root VersioningConfiguration, moto GetBucketVersioningResponse; the SDKs
        // read the fields whatever the root.
        if !root.name.contains("Versioning") {
            return Err(Self::response_error(OP, format!("expected VersioningConfiguration, got <{}>", root.name)));
        }
        let field = |name| root.text_of(name).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        Ok(VersioningConfiguration { status: field("Status"), mfa_delete: field("MfaDelete") })
    }

    /// Turns versioning on (`Enabled`) or off for new writes (`Suspended`; versions already
    /// made stay). MFA delete can only be changed with the root account's MFA device, which
    /// this call does not send. <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html>
    pub async fn put_bucket_versioning(&self, bucket: &str, config: &VersioningConfiguration) -> Result<(), Error> {
        const OP: &str = "PutBucketVersioning";
        check_bucket(OP, bucket)?;
        let mut body = String::from("<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
        match config.status.as_deref() {
            Some(s @ ("Enabled" | "Suspended")) => body.push_str(&format!("<Status>{s}</Status>")),
            Some(other) => {
                return Err(Self::input_error(OP, format!("the status is {other:?}, not Enabled or Suspended")));
            }
            None => {}
        }
        match config.mfa_delete.as_deref() {
            Some(m @ ("Enabled" | "Disabled")) => body.push_str(&format!("<MfaDelete>{m}</MfaDelete>")),
            Some(other) => {
                return Err(Self::input_error(OP, format!("MFA delete is {other:?}, not Enabled or Disabled")));
            }
            None => {}
        }
        body.push_str("</VersioningConfiguration>");
        let req = with_md5(self.request(Method::PUT, self.url(bucket, "", "versioning="), body));
        self.send(bucket, OP, req).await?;
        Ok(())
    }

    /// The bucket's policy, the JSON document as S3 keeps it. A bucket without one is an error
    /// whose code is `NoSuchBucketPolicy`. <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html>
    pub async fn get_bucket_policy(&self, bucket: &str) -> Result<String, Error> {
        const OP: &str = "GetBucketPolicy";
        check_bucket(OP, bucket)?;
        let r = self.send(bucket, OP, self.request(Method::GET, self.url(bucket, "", "policy="), "")).await?;
        String::from_utf8(r.body.to_vec()).map_err(|_| Self::response_error(OP, "the policy is not UTF-8"))
    }

    /// Sets the bucket's policy to `policy`, a JSON document (S3 checks it).
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html>
    pub async fn put_bucket_policy(&self, bucket: &str, policy: &str) -> Result<(), Error> {
        const OP: &str = "PutBucketPolicy";
        check_bucket(OP, bucket)?;
        if policy.trim().is_empty() {
            return Err(Self::input_error(OP, "the policy is empty"));
        }
        let req = with_md5(self.request(Method::PUT, self.url(bucket, "", "policy="), policy.to_owned()))
            .header("content-type", "application/json");
        self.send(bucket, OP, req).await?;
        Ok(())
    }

    /// Removes the bucket's policy (no error when it has none).
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html>
    pub async fn delete_bucket_policy(&self, bucket: &str) -> Result<(), Error> {
        const OP: &str = "DeleteBucketPolicy";
        check_bucket(OP, bucket)?;
        self.send(bucket, OP, self.request(Method::DELETE, self.url(bucket, "", "policy="), "")).await?;
        Ok(())
    }
}
