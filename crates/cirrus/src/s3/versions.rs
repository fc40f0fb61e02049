//! Object versions: ListObjectVersions as a page, a stream of pages or a stream of versions and
//! delete markers, and DeleteObject of one version.

use super::{check_bucket, check_bucket_key, check_version, encode_query, ListOptions, S3Client};
use crate::transport::xml::{self, Element};
use crate::transport::{Error, ParseError};
use futures_util::stream::{self, Stream, StreamExt};
use http::Method;
use std::collections::HashSet;
use std::time::SystemTime;

/// A version of an object, or a delete marker, as ListObjectVersions reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectVersion {
    /// The key, exactly as stored.
    pub key: String,
    /// The version id (`null` for what was written while versioning was never enabled or
    /// suspended).
    pub version_id: String,
    /// Whether it is the current version of its key.
    pub is_latest: bool,
    /// A delete marker (no bytes, no ETag): the key reads as missing while it is the latest.
    pub is_delete_marker: bool,
    /// When it was written.
    pub last_modified: Option<SystemTime>,
    /// The size in bytes (0 for a delete marker).
    pub size: u64,
    /// The ETag, quotes included (none for a delete marker).
    pub etag: Option<String>,
    /// The storage class (none for a delete marker).
    pub storage_class: Option<String>,
    /// The owner's canonical id, when S3 sent it.
    pub owner_id: Option<String>,
    /// The owner's display name, when S3 sent it.
    pub owner_display_name: Option<String>,
}

/// Where a ListObjectVersions page starts: after this key (and, within it, after this
/// version).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct VersionMarker {
    /// `key-marker`.
    pub key: String,
    /// `version-id-marker` (only with a key).
    pub version_id: Option<String>,
}

impl VersionMarker {
    /// After `key` and the versions of `version_id` and older, when given.
    pub fn new(key: impl Into<String>, version_id: Option<String>) -> Self {
        VersionMarker { key: key.into(), version_id }
    }
}

/// One page of ListObjectVersions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionPage {
    /// Versions and delete markers, in S3's order: by key, and within a key newest first.
    pub versions: Vec<ObjectVersion>,
    /// The common prefixes (with a delimiter).
    pub common_prefixes: Vec<String>,
    /// Where the next page starts; `None` on the last one.
    pub next: Option<VersionMarker>,
}

impl VersionPage {
    /// Reads a ListObjectVersions answer (`<ListVersionsResult>`), decoding keys when the page
    /// says it is URL-encoded.
    pub fn from_xml(body: &[u8]) -> Result<VersionPage, ParseError> {
        let root = xml::parse(body)?;
        parse_versions(&root).map_err(|m| ParseError::new("a ListObjectVersions page", m))
    }
}

/// What DeleteObject said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteOutput {
    /// The version deleted, or the delete marker's when one was made (versioned buckets).
    pub version_id: Option<String>,
    /// A delete marker was made, or the version deleted was one.
    pub delete_marker: bool,
}

impl S3Client {
    /// One page of ListObjectVersions: what `options` asks for (`prefix`, `delimiter`,
    /// `page_size`; `start_after` is the first key marker), after `marker` (the previous page's
    /// [`VersionPage::next`]). <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html>
    pub async fn list_object_versions_page(
        &self,
        bucket: &str,
        options: &ListOptions,
        marker: Option<&VersionMarker>,
    ) -> Result<VersionPage, Error> {
        const OP: &str = "ListObjectVersions";
        check_bucket(OP, bucket)?;
        // Sorted by name, as the canonical query has them.
        let mut q = Vec::new();
        if let Some(d) = &options.delimiter {
            q.push(format!("delimiter={}", encode_query(d)));
        }
        q.push("encoding-type=url".to_owned());
        let key_marker = marker.map(|m| m.key.as_str()).or(options.start_after.as_deref());
        if let Some(k) = key_marker.filter(|k| !k.is_empty()) {
            q.push(format!("key-marker={}", encode_query(k)));
        }
        if let Some(n) = options.page_size.or(self.settings().list_page_size) {
            q.push(format!("max-keys={n}"));
        }
        if let Some(p) = &options.prefix {
            q.push(format!("prefix={}", encode_query(p)));
        }
        if let Some(v) = marker.and_then(|m| m.version_id.as_deref()).filter(|v| !v.is_empty()) {
            q.push(format!("version-id-marker={}", encode_query(v)));
        }
        q.push("versions=".to_owned());
        let r = self.send(bucket, OP, self.request(Method::GET, self.url(bucket, "", &q.join("&")), "")).await?;
        VersionPage::from_xml(&r.body).map_err(|e| Self::response_error(OP, e))
    }

    /// ListObjectVersions page by page, following the markers. A page that would start where
    /// an earlier one did ends the stream with an error (a server looping).
    pub fn list_object_version_pages(
        &self,
        bucket: &str,
        options: ListOptions,
    ) -> impl Stream<Item = Result<VersionPage, Error>> + Send {
        struct St {
            client: S3Client,
            bucket: String,
            options: ListOptions,
            marker: Option<VersionMarker>,
            seen: HashSet<VersionMarker>,
            done: bool,
        }
        let st = St {
            client: self.clone(),
            bucket: bucket.to_owned(),
            options,
            marker: None,
            seen: HashSet::new(),
            done: false,
        };
        stream::unfold(st, |mut st| async move {
            if st.done {
                return None;
            }
            let page = st.client.list_object_versions_page(&st.bucket, &st.options, st.marker.as_ref()).await;
            st.done = true;
            let page = match page {
                Ok(p) => p,
                Err(e) => return Some((Err(e), st)),
            };
            if let Some(next) = &page.next {
                if !st.seen.insert(next.clone()) {
                    let why = "S3 returned a version marker it had already returned";
                    return Some((Err(Self::response_error("ListObjectVersions", why)), st));
                }
                st.marker = Some(next.clone());
                st.done = false;
            }
            Some((Ok(page), st))
        })
    }

    /// Every version and delete marker (common prefixes left out), one at a time, page by
    /// page: memory holds one page.
    ///
    /// ```no_run
    /// # async fn example(s3: &cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use cirrus::s3::ListOptions;
    /// use futures_util::StreamExt;
    ///
    /// let mut versions = std::pin::pin!(s3.list_object_versions("my-bucket", ListOptions::prefix("config/")));
    /// while let Some(v) = versions.next().await {
    ///     let v = v?;
    ///     let what = if v.is_delete_marker { "delete marker" } else { "version" };
    ///     println!("{} {what} {} latest={}", v.key, v.version_id, v.is_latest);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn list_object_versions(
        &self,
        bucket: &str,
        options: ListOptions,
    ) -> impl Stream<Item = Result<ObjectVersion, Error>> + Send {
        self.list_object_version_pages(bucket, options).flat_map(|page| {
            stream::iter(match page {
                Ok(p) => p.versions.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            })
        })
    }

    /// DeleteObject of one version (`None`: the current one, which on a versioned bucket
    /// leaves a delete marker on top). Deleting a version removes it for good.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html>
    pub async fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<DeleteOutput, Error> {
        const OP: &str = "DeleteObject";
        check_bucket_key(OP, bucket, key)?;
        check_version(OP, version_id)?;
        let url = match version_id {
            Some(v) => self.url(bucket, key, &format!("versionId={}", encode_query(v))),
            None => self.url(bucket, key, ""),
        };
        let r = self.send(bucket, OP, self.request(Method::DELETE, url, "")).await?;
        Ok(DeleteOutput {
            version_id: super::header(&r.headers, "x-amz-version-id").map(str::to_owned),
            delete_marker: super::header(&r.headers, "x-amz-delete-marker") == Some("true"),
        })
    }
}

/// The page in `root`, a `<ListVersionsResult>`.
fn parse_versions(root: &Element) -> Result<VersionPage, String> {
    if root.name != "ListVersionsResult" {
        return Err(format!("expected ListVersionsResult, got <{}>", root.name));
    }
    let url_encoded = root.text_of("EncodingType").is_some_and(|t| t.eq_ignore_ascii_case("url"));
    let mut page = VersionPage::default();
    for e in &root.children {
        match e.name.as_str() {
            "Version" | "DeleteMarker" => page.versions.push(parse_version(e)?),
            "CommonPrefixes" => page.common_prefixes.push(e.text_of("Prefix").unwrap_or_default().to_owned()),
            _ => {}
        }
    }
    let truncated = match root.text_of("IsTruncated").map(str::trim) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(format!("IsTruncated is {other:?}, not true or false")),
    };
    let mut next_key = root.text_of("NextKeyMarker").unwrap_or_default().to_owned();
    // As in list.rs: a store that says `url` but sends raw names (a space, a control character,
    // non-ASCII) did not encode them.
    let evidently_raw = {
        let mut names = page.versions.iter().map(|v| &v.key).chain(&page.common_prefixes).chain([&next_key]);
        names.any(|k| k.bytes().any(|b| !(0x21..0x80).contains(&b)))
    };
    if url_encoded && !evidently_raw {
        for k in page.versions.iter_mut().map(|v| &mut v.key).chain(&mut page.common_prefixes) {
            if k.contains('%') {
                super::list::percent_decode(k)?;
            }
        }
        if next_key.contains('%') {
            super::list::percent_decode(&mut next_key)?;
        }
    }
    if truncated {
        if next_key.is_empty() {
            return Err("the page is truncated but has no NextKeyMarker".to_owned());
        }
        let version_id = root.text_of("NextVersionIdMarker").filter(|v| !v.is_empty()).map(str::to_owned);
        page.next = Some(VersionMarker { key: next_key, version_id });
    }
    Ok(page)
}

/// A `<Version>` or `<DeleteMarker>`.
fn parse_version(e: &Element) -> Result<ObjectVersion, String> {
    let what = &e.name;
    let key = e.text_of("Key").ok_or_else(|| format!("a {what} without a Key"))?.to_owned();
    let version_id = e.text_of("VersionId").ok_or_else(|| format!("the {what} of {key:?} has no VersionId"))?;
    let size = match e.text_of("Size") {
        Some(t) => t.trim().parse().map_err(|_| format!("bad Size {t:?} in the {what} of {key:?}"))?,
        None => 0,
    };
    let owner = e.child("Owner");
    Ok(ObjectVersion {
        version_id: version_id.to_owned(),
        is_latest: e.text_of("IsLatest").map(str::trim) == Some("true"),
        is_delete_marker: what == "DeleteMarker",
        last_modified: e.text_of("LastModified").and_then(cirrus_sigv4::parse_rfc3339),
        size,
        etag: e.text_of("ETag").map(str::to_owned),
        storage_class: e.text_of("StorageClass").map(str::to_owned),
        owner_id: owner.and_then(|o| o.text_of("ID")).map(str::to_owned),
        owner_display_name: owner.and_then(|o| o.text_of("DisplayName")).map(str::to_owned),
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &[u8]) -> Result<VersionPage, String> {
        VersionPage::from_xml(body).map_err(|e| crate::transport::Chain(&e).to_string())
    }

    #[test]
    fn versions_and_markers_in_order_with_the_next_marker() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><EncodingType>url</EncodingType>
<IsTruncated>true</IsTruncated><NextKeyMarker>z%2B1</NextKeyMarker><NextVersionIdMarker>v9</NextVersionIdMarker>
<DeleteMarker><Key>a%20b</Key><VersionId>m1</VersionId><IsLatest>true</IsLatest><LastModified>2024-01-02T03:04:05.000Z</LastModified><Owner><ID>o</ID><DisplayName>me</DisplayName></Owner></DeleteMarker>
<Version><Key>a%20b</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest><Size>3</Size><ETag>&quot;e&quot;</ETag><StorageClass>STANDARD</StorageClass></Version>
<CommonPrefixes><Prefix>dir%2F</Prefix></CommonPrefixes></ListVersionsResult>"#;
        let p = page(body).unwrap();
        assert_eq!(p.versions.len(), 2);
        let (m, v) = (&p.versions[0], &p.versions[1]);
        assert!(m.is_delete_marker && m.is_latest && m.key == "a b" && m.version_id == "m1" && m.size == 0);
        assert_eq!((m.owner_id.as_deref(), m.owner_display_name.as_deref()), (Some("o"), Some("me")));
        assert!(m.last_modified.is_some() && m.etag.is_none());
        assert!(!v.is_delete_marker && !v.is_latest && v.size == 3 && v.etag.as_deref() == Some("\"e\""));
        assert_eq!(p.common_prefixes, ["dir/"]);
        assert_eq!(p.next, Some(VersionMarker::new("z+1", Some("v9".to_owned()))));
    }

    #[test]
    fn the_last_page_has_no_marker_and_raw_keys_stay_raw() {
        let body = b"<ListVersionsResult><IsTruncated>false</IsTruncated><Version><Key>100%+</Key><VersionId>null</VersionId></Version></ListVersionsResult>";
        let p = page(body).unwrap();
        assert_eq!((p.versions[0].key.as_str(), p.versions[0].version_id.as_str()), ("100%+", "null"));
        assert_eq!(p.next, None);
    }

    #[test]
    fn hostile_or_broken_pages_are_refused_with_a_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"<!DOCTYPE l [<!ENTITY a \"aaaa\">]><ListVersionsResult>&a;</ListVersionsResult>", "DOCTYPE"),
            (b"<ListVersionsResult><Version><Key>&bogus;</Key></Version></ListVersionsResult>", "bogus"),
            (b"<ListVersionsResult><Version><VersionId>v</VersionId></Version></ListVersionsResult>", "without a Key"),
            (b"<ListVersionsResult><DeleteMarker><Key>k</Key></DeleteMarker></ListVersionsResult>", "no VersionId"),
            (
                b"<ListVersionsResult><Version><Key>k</Key><VersionId>v</VersionId><Size>-1</Size></Version></ListVersionsResult>",
                "bad Size",
            ),
            (b"<ListBucketResult></ListBucketResult>", "expected ListVersionsResult"),
            (b"<ListVersionsResult><IsTruncated>true</IsTruncated></ListVersionsResult>", "NextKeyMarker"),
            (b"<ListVersionsResult><IsTruncated>maybe</IsTruncated></ListVersionsResult>", "IsTruncated"),
            (b"<ListVersionsResult><Version>", "ended inside"),
            (b"<ListVersionsResult></Version>", "malformed"),
            (b"", "no root"),
            (b"\xff\xfe<ListVersionsResult/>", ""),
            (
                b"<ListVersionsResult><EncodingType>url</EncodingType><Version><Key>%zz</Key><VersionId>v</VersionId></Version></ListVersionsResult>",
                "bad escape",
            ),
        ];
        for (body, want) in cases {
            let err = page(body).unwrap_err();
            assert!(err.contains(want), "{}: {err}", String::from_utf8_lossy(body));
        }
        let deep = format!("<ListVersionsResult>{}{}</ListVersionsResult>", "<a>".repeat(100), "</a>".repeat(100));
        assert!(page(deep.as_bytes()).unwrap_err().contains("deeper"));
    }
}
