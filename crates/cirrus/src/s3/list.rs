//! ListBuckets, and ListObjectsV2 as a page, a stream of pages, or a stream of objects.

use super::{check_bucket, encode_query, S3Client};
use crate::transport::paginate::{self, Page};
use crate::transport::xml::{self, Element};
use crate::transport::Error;
use futures_util::stream::{Stream, StreamExt};
use http::Method;
use std::time::SystemTime;

/// A bucket, as ListBuckets reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Bucket {
    /// The name.
    pub name: String,
    /// When it was created.
    pub created: Option<SystemTime>,
}

/// An object, as ListObjectsV2 reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Object {
    /// The key, exactly as stored.
    pub key: String,
    /// The size in bytes.
    pub size: u64,
    /// The ETag, quotes included.
    pub etag: Option<String>,
    /// When it was last written.
    pub last_modified: Option<SystemTime>,
    /// The storage class (`STANDARD`...).
    pub storage_class: Option<String>,
}

/// What to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListOptions {
    /// Only keys that start with this.
    pub prefix: Option<String>,
    /// Group keys by this (usually `/`): keys with it after the prefix come back once, as a
    /// common prefix, instead of one by one.
    pub delimiter: Option<String>,
    /// Only keys after this one.
    pub start_after: Option<String>,
    /// Keys per page (S3's maximum and default is 1,000).
    pub page_size: Option<u32>,
}

impl ListOptions {
    /// Everything under `prefix`.
    pub fn prefix(prefix: impl Into<String>) -> Self {
        ListOptions { prefix: Some(prefix.into()), ..ListOptions::default() }
    }

    /// These options, grouping by `delimiter`.
    #[must_use]
    pub fn with_delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = Some(delimiter.into());
        self
    }

    /// These options, starting after `key`.
    #[must_use]
    pub fn with_start_after(mut self, key: impl Into<String>) -> Self {
        self.start_after = Some(key.into());
        self
    }

    /// These options with `n` keys a page.
    #[must_use]
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n);
        self
    }
}

/// One page of ListObjectsV2.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListPage {
    /// The objects.
    pub objects: Vec<Object>,
    /// The common prefixes (with a delimiter).
    pub common_prefixes: Vec<String>,
    /// The token of the next page; `None` on the last one.
    pub next_token: Option<String>,
}

impl S3Client {
    /// Every bucket of the account.
    pub async fn list_buckets(&self) -> Result<Vec<Bucket>, Error> {
        const OP: &str = "ListBuckets";
        let endpoint = &self.service().endpoint;
        let r = self.send(OP, self.request(Method::GET, format!("{endpoint}/"), "")).await?;
        let root = xml::parse(&r.body).map_err(|e| Self::response_error(OP, e))?;
        let buckets = root.child("Buckets").map(|b| b.children_named("Bucket").collect()).unwrap_or_else(Vec::new);
        Ok(buckets
            .into_iter()
            .map(|b| Bucket {
                name: b.text_of("Name").unwrap_or_default().to_owned(),
                created: b.text_of("CreationDate").and_then(cirrus_sigv4::parse_rfc3339),
            })
            .collect())
    }

    /// One page of ListObjectsV2; `token` is the previous page's `next_token`.
    pub async fn list_page(&self, bucket: &str, options: &ListOptions, token: Option<&str>) -> Result<ListPage, Error> {
        const OP: &str = "ListObjectsV2";
        check_bucket(OP, bucket)?;
        // Sorted by name, as the signer's canonical query would have them anyway.
        let mut q = Vec::new();
        if let Some(t) = token {
            q.push(format!("continuation-token={}", encode_query(t)));
        }
        if let Some(d) = &options.delimiter {
            q.push(format!("delimiter={}", encode_query(d)));
        }
        // Keys come back percent-encoded, so any byte survives the XML.
        q.push("encoding-type=url".to_owned());
        q.push("list-type=2".to_owned());
        if let Some(n) = options.page_size {
            q.push(format!("max-keys={n}"));
        }
        if let Some(p) = &options.prefix {
            q.push(format!("prefix={}", encode_query(p)));
        }
        if let Some(s) = &options.start_after {
            q.push(format!("start-after={}", encode_query(s)));
        }
        let r = self.send(OP, self.request(Method::GET, self.url(bucket, "", &q.join("&")), "")).await?;
        parse_list_page(&r.body).map_err(|e| Self::response_error(OP, e))
    }

    /// ListObjectsV2 page by page, following continuation tokens.
    pub fn list_pages(&self, bucket: &str, options: ListOptions) -> impl Stream<Item = Result<ListPage, Error>> + Send {
        let (client, bucket) = (self.clone(), bucket.to_owned());
        paginate::pages(None, move |token| {
            let (client, bucket, options) = (client.clone(), bucket.clone(), options.clone());
            async move {
                let page = client.list_page(&bucket, &options, token.as_deref()).await?;
                let next = page.next_token.clone();
                Ok(Page { items: vec![page], next_token: next })
            }
        })
        .map(|r| r.map(|mut p| p.items.pop().unwrap_or_default()))
    }

    /// Every object (common prefixes left out), one at a time, following continuation tokens.
    /// Memory holds one page at a time.
    pub fn list(&self, bucket: &str, options: ListOptions) -> impl Stream<Item = Result<Object, Error>> + Send {
        self.list_pages(bucket, options).flat_map(|page| {
            futures_util::stream::iter(match page {
                Ok(p) => p.objects.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            })
        })
    }
}

fn parse_list_page(body: &[u8]) -> Result<ListPage, String> {
    let root = xml::parse(body)?;
    if root.name != "ListBucketResult" {
        return Err(format!("expected ListBucketResult, got <{}>", root.name));
    }
    // Some stores echo EncodingType without encoding anything (s3s-fs 0.14). An encoder always
    // escapes spaces, control characters and non-ASCII, so a page holding one of those raw
    // was not encoded, whatever it says.
    let mut raw_names = root
        .children_named("Contents")
        .filter_map(|c| c.text_of("Key"))
        .chain(root.children_named("CommonPrefixes").filter_map(|p| p.text_of("Prefix")));
    let evidently_raw = raw_names.any(|k| k.bytes().any(|b| !(0x21..0x80).contains(&b)));
    let url_encoded = !evidently_raw && root.text_of("EncodingType").is_some_and(|t| t.eq_ignore_ascii_case("url"));
    let decode = |s: &str| -> Result<String, String> {
        if url_encoded {
            percent_decode(s)
        } else {
            Ok(s.to_owned())
        }
    };
    let mut objects = Vec::new();
    for c in root.children_named("Contents") {
        objects.push(object(c, &decode)?);
    }
    let mut common_prefixes = Vec::new();
    for p in root.children_named("CommonPrefixes") {
        if let Some(prefix) = p.text_of("Prefix") {
            common_prefixes.push(decode(prefix)?);
        }
    }
    let truncated = root.text_of("IsTruncated").is_some_and(|t| t == "true");
    let next_token = root.text_of("NextContinuationToken").filter(|t| truncated && !t.is_empty()).map(str::to_owned);
    if truncated && next_token.is_none() {
        return Err("the page is truncated but has no NextContinuationToken".to_owned());
    }
    Ok(ListPage { objects, common_prefixes, next_token })
}

fn object(c: &Element, decode: &dyn Fn(&str) -> Result<String, String>) -> Result<Object, String> {
    let key = c.text_of("Key").ok_or("an object without a Key")?;
    Ok(Object {
        key: decode(key)?,
        size: c.text_of("Size").and_then(|s| s.parse().ok()).unwrap_or(0),
        etag: c.text_of("ETag").map(str::to_owned),
        last_modified: c.text_of("LastModified").and_then(cirrus_sigv4::parse_rfc3339),
        storage_class: c.text_of("StorageClass").map(str::to_owned),
    })
}

/// Decodes `%XX` escapes (`+` is a plus: S3 escapes a space as `%20`).
fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                let b =
                    hex.and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or_else(|| format!("bad escape in {s:?}"))?;
                out.push(b);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} does not decode to UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_with_encoded_keys_and_prefixes() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><EncodingType>url</EncodingType>
<IsTruncated>true</IsTruncated><NextContinuationToken>tok</NextContinuationToken>
<Contents><Key>a%20b%2Bc%C3%A9</Key><Size>3</Size><ETag>"e"</ETag><LastModified>2024-01-02T03:04:05.000Z</LastModified></Contents>
<CommonPrefixes><Prefix>dir%2F</Prefix></CommonPrefixes></ListBucketResult>"#;
        let p = parse_list_page(body).unwrap();
        assert_eq!(p.objects[0].key, "a b+cé");
        assert_eq!(p.objects[0].size, 3);
        assert!(p.objects[0].last_modified.is_some());
        assert_eq!(p.common_prefixes, ["dir/"]);
        assert_eq!(p.next_token.as_deref(), Some("tok"));
    }

    #[test]
    fn keys_are_not_decoded_unless_the_server_encoded_them() {
        let body = b"<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>100%+</Key></Contents></ListBucketResult>";
        assert_eq!(parse_list_page(body).unwrap().objects[0].key, "100%+");
    }

    #[test]
    fn a_page_that_says_url_but_holds_raw_keys_is_not_decoded() {
        let body = b"<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated><Contents><Key>with space</Key></Contents><Contents><Key>100%25</Key></Contents></ListBucketResult>";
        let p = parse_list_page(body).unwrap();
        assert_eq!(p.objects[0].key, "with space");
        assert_eq!(p.objects[1].key, "100%25");
    }

    #[test]
    fn a_truncated_page_needs_a_token() {
        let body = b"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
        assert!(parse_list_page(body).unwrap_err().contains("NextContinuationToken"));
    }
}
