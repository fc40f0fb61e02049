//! Object tagging: GetObjectTagging and PutObjectTagging.

use super::{check_bucket_key, check_version, encode_query, xml_escape, S3Client};
use crate::transport::xml;
use crate::transport::{Error, Request};
use http::Method;
use md5::Digest;

/// S3's limit of tags on one object.
const MAX_TAGS: usize = 10;

impl S3Client {
    /// The tags of an object (of one version of it, with `version_id`), in S3's order, and
    /// the version they belong to. <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html>
    ///
    /// ```no_run
    /// # async fn example(s3: &cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let (tags, _version) = s3.get_object_tagging("my-bucket", "report.pdf", None).await?;
    /// for (key, value) in tags {
    ///     println!("{key}={value}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_object_tagging(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<(Vec<(String, String)>, Option<String>), Error> {
        const OP: &str = "GetObjectTagging";
        check_bucket_key(OP, bucket, key)?;
        check_version(OP, version_id)?;
        let r =
            self.send(bucket, OP, self.request(Method::GET, tagging_url(self, bucket, key, version_id), "")).await?;
        let root = xml::parse(&r.body).map_err(|e| Self::response_error(OP, e))?;
        if root.name != "Tagging" {
            return Err(Self::response_error(OP, format!("expected Tagging, got <{}>", root.name)));
        }
        let mut tags = Vec::new();
        for tag in root.child("TagSet").into_iter().flat_map(|s| s.children_named("Tag")) {
            let key = tag.text_of("Key").ok_or_else(|| Self::response_error(OP, "a Tag without a Key"))?;
            tags.push((key.to_owned(), tag.text_of("Value").unwrap_or_default().to_owned()));
        }
        Ok((tags, super::header(&r.headers, "x-amz-version-id").map(str::to_owned)))
    }

    /// Replaces the tags of an object (of one version of it, with `version_id`) with `tags`
    /// (up to 10; none removes them all), and returns the version they were set on.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html>
    pub async fn put_object_tagging(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        tags: &[(String, String)],
    ) -> Result<Option<String>, Error> {
        const OP: &str = "PutObjectTagging";
        check_bucket_key(OP, bucket, key)?;
        check_version(OP, version_id)?;
        if tags.len() > MAX_TAGS {
            return Err(Self::input_error(OP, format!("{} tags; S3 allows {MAX_TAGS} on an object", tags.len())));
        }
        let mut seen = std::collections::HashSet::new();
        let mut body = String::from("<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>");
        for (k, v) in tags {
            if k.is_empty() || !seen.insert(k) {
                let why = if k.is_empty() {
                    "a tag key is empty".to_owned()
                } else {
                    format!("the tag key {k:?} is given twice")
                };
                return Err(Self::input_error(OP, why));
            }
            body.push_str(&format!("<Tag><Key>{}</Key><Value>{}</Value></Tag>", xml_escape(k), xml_escape(v)));
        }
        body.push_str("</TagSet></Tagging>");
        let req = with_md5(self.request(Method::PUT, tagging_url(self, bucket, key, version_id), body));
        let r = self.send(bucket, OP, req).await?;
        Ok(super::header(&r.headers, "x-amz-version-id").map(str::to_owned))
    }
}

fn tagging_url(s3: &S3Client, bucket: &str, key: &str, version_id: Option<&str>) -> String {
    match version_id {
        Some(v) => s3.url(bucket, key, &format!("tagging=&versionId={}", encode_query(v))),
        None => s3.url(bucket, key, "tagging="),
    }
}

/// `req` with `Content-MD5` of its body and an XML content type: S3 requires an integrity
/// header on its configuration calls, and MD5 is the one every S3-compatible store knows.
pub(super) fn with_md5(req: Request) -> Request {
    let md5 = cirrus_sigv4::base64(&md5::Md5::digest(&req.body));
    req.header("content-md5", &md5).header("content-type", "application/xml")
}
