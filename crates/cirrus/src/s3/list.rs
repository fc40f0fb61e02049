//! ListBuckets, and ListObjectsV2 as a page, a stream of pages, or a stream of objects.

use super::{check_bucket, encode_query, S3Client};
use crate::transport::paginate::{self, Page};
use crate::transport::xml;
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

impl Object {
    /// Whether it is a folder marker (an empty object whose key ends in `/`, as the S3 console
    /// makes): a directory, not a file, to a recursive download, copy or sync.
    pub fn is_folder_marker(&self) -> bool {
        self.size == 0 && self.key.ends_with('/')
    }
}

/// What to list.
///
/// ```
/// use cirrus::s3::ListOptions;
///
/// // The "folders" right under `photos/`, 100 keys a page.
/// let options = ListOptions::prefix("photos/").with_delimiter("/").with_page_size(100);
/// assert_eq!(options.prefix.as_deref(), Some("photos/"));
/// assert_eq!(options.delimiter.as_deref(), Some("/"));
/// ```
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

impl ListPage {
    /// Reads a ListObjectsV2 answer (`<ListBucketResult>`), decoding keys when the page says
    /// it is URL-encoded. For pages fetched some other way; [`S3Client::list_page`] uses it.
    pub fn from_xml(body: &[u8]) -> Result<ListPage, crate::transport::ParseError> {
        parse_list_page(body).map_err(|m| crate::transport::ParseError::new("a ListObjectsV2 page", m))
    }
}

impl S3Client {
    /// Every bucket of the account.
    pub async fn list_buckets(&self) -> Result<Vec<Bucket>, Error> {
        const OP: &str = "ListBuckets";
        let endpoint = &self.service().endpoint();
        let r = self.send("", OP, self.request(Method::GET, format!("{endpoint}/"), "")).await?;
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
        if let Some(n) = options.page_size.or(self.settings().list_page_size) {
            q.push(format!("max-keys={n}"));
        }
        if let Some(p) = &options.prefix {
            q.push(format!("prefix={}", encode_query(p)));
        }
        if let Some(s) = &options.start_after {
            q.push(format!("start-after={}", encode_query(s)));
        }
        let r = self.send(bucket, OP, self.request(Method::GET, self.url(bucket, "", &q.join("&")), "")).await?;
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
    ///
    /// ```no_run
    /// # async fn example(s3: &cirrus::s3::S3Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use cirrus::s3::ListOptions;
    /// use futures_util::StreamExt;
    ///
    /// let mut objects = std::pin::pin!(s3.list("my-bucket", ListOptions::prefix("logs/2024/")));
    /// let mut total = 0;
    /// while let Some(object) = objects.next().await {
    ///     let object = object?;
    ///     println!("{} {}", object.key, object.size);
    ///     total += object.size;
    /// }
    /// println!("{total} bytes in all");
    /// # Ok(())
    /// # }
    /// ```
    pub fn list(&self, bucket: &str, options: ListOptions) -> impl Stream<Item = Result<Object, Error>> + Send {
        self.list_pages(bucket, options).flat_map(|page| {
            futures_util::stream::iter(match page {
                Ok(p) => p.objects.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            })
        })
    }
}

/// The fields of a ListObjectsV2 page cirrus reads, by where they sit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Key,
    Size,
    ETag,
    LastModified,
    StorageClass,
    Prefix,
    EncodingType,
    IsTruncated,
    NextToken,
    KeyCount,
}

/// One pass over the events, no tree: a 1,000-key page is the common case, so this path is
/// measured (`cargo bench -p cirrus --features s3 --bench s3`). Same rules as `xml::parse`:
/// no DOCTYPE, predefined entities only, a depth limit, errors that say where.
pub(crate) fn parse_list_page(body: &[u8]) -> Result<ListPage, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut page = PageReader::default();
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|e| format!("malformed XML at byte {at}: {e}"))?;
        match event {
            Event::Start(e) => page.open(e.local_name().as_ref(), at)?,
            Event::Empty(e) => {
                page.open(e.local_name().as_ref(), at)?;
                page.close(at)?;
            }
            Event::End(_) => page.close(at)?,
            Event::Text(t) if page.in_field() => {
                // References come as their own events: text holds none to unescape.
                let t = t.decode().map_err(|e| format!("bad text at byte {at}: {e}"))?;
                page.text.push_str(&t);
            }
            Event::CData(t) if page.in_field() => {
                page.text.push_str(std::str::from_utf8(&t).map_err(|_| format!("CDATA not UTF-8 at byte {at}"))?)
            }
            Event::GeneralRef(r) => {
                // Resolved (so an unknown entity is refused) even where the text is skipped.
                let mut scratch = String::new();
                let out = if page.in_field() { &mut page.text } else { &mut scratch };
                xml::push_reference(out, &r, at)?;
            }
            Event::DocType(_) => return Err(format!("DOCTYPE not allowed at byte {at}")),
            Event::Eof => break,
            Event::Text(_) | Event::CData(_) | Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    page.finish()
}

/// A ListObjectsV2 page as its events come.
#[derive(Default)]
struct PageReader {
    page: ListPage,
    url_encoded: bool,
    truncated: bool,
    depth: usize,
    root_done: bool,
    /// The field being read and its depth; its text accumulates in `text`.
    field: Option<(Field, usize)>,
    text: String,
    /// The `<Contents>` being read, and whether it had a `<Key>`.
    object: Option<Object>,
    has_key: bool,
    /// The `<CommonPrefixes>` being read.
    prefix: Option<String>,
}

impl PageReader {
    /// Whether text here is the value of a field.
    fn in_field(&self) -> bool {
        self.field.is_some_and(|(_, d)| d == self.depth)
    }

    /// A start tag (or an empty element's) named `name`, at byte `at`.
    fn open(&mut self, name: &[u8], at: u64) -> Result<(), String> {
        if self.root_done {
            return Err(format!("content after the root element at byte {at}"));
        }
        self.depth += 1;
        if self.depth > xml::MAX_DEPTH {
            return Err(format!("XML nested deeper than {} levels at byte {at}", xml::MAX_DEPTH));
        }
        let in_contents = self.object.is_some();
        let f = match (self.depth, name) {
            (1, b"ListBucketResult") => None,
            (1, other) => {
                return Err(format!("expected ListBucketResult, got <{}>", String::from_utf8_lossy(other)));
            }
            (2, b"Contents") => {
                self.has_key = false;
                let empty =
                    Object { key: String::new(), size: 0, etag: None, last_modified: None, storage_class: None };
                self.object = Some(empty);
                None
            }
            (2, b"CommonPrefixes") => {
                self.prefix = None;
                None
            }
            (2, b"EncodingType") => Some(Field::EncodingType),
            (2, b"IsTruncated") => Some(Field::IsTruncated),
            (2, b"KeyCount") => Some(Field::KeyCount),
            (2, b"NextContinuationToken") => Some(Field::NextToken),
            (3, b"Key") if in_contents => Some(Field::Key),
            (3, b"Size") if in_contents => Some(Field::Size),
            (3, b"ETag") if in_contents => Some(Field::ETag),
            (3, b"LastModified") if in_contents => Some(Field::LastModified),
            (3, b"StorageClass") if in_contents => Some(Field::StorageClass),
            (3, b"Prefix") if !in_contents => Some(Field::Prefix),
            _ => None,
        };
        if let Some(f) = f {
            self.field = Some((f, self.depth));
            self.text.clear();
        }
        Ok(())
    }

    /// An end tag (or an empty element's end), at byte `at`: a field's value kept, an object
    /// or a common prefix added to the page.
    fn close(&mut self, at: u64) -> Result<(), String> {
        if self.depth == 0 {
            return Err(format!("unbalanced end tag at byte {at}"));
        }
        if let Some((f, _)) = self.field.filter(|(_, d)| *d == self.depth) {
            self.field = None;
            self.keep(f, at)?;
        }
        if self.depth == 2 {
            if let Some(o) = self.object.take() {
                if !self.has_key {
                    return Err(format!("an object without a Key, ending at byte {at}"));
                }
                self.page.objects.push(o);
            } else if let Some(p) = self.prefix.take() {
                self.page.common_prefixes.push(p);
            }
        }
        self.depth -= 1;
        self.root_done = self.depth == 0;
        Ok(())
    }

    /// The text read for field `f`. One exact allocation per string kept; the buffer is reused.
    fn keep(&mut self, f: Field, at: u64) -> Result<(), String> {
        let t = self.text.as_str();
        match (f, self.object.as_mut()) {
            (Field::Key, Some(o)) => {
                o.key = t.to_owned();
                self.has_key = true;
            }
            (Field::Size, Some(o)) => o.size = t.trim().parse().map_err(|_| format!("bad Size {t:?} at byte {at}"))?,
            (Field::ETag, Some(o)) => o.etag = Some(t.to_owned()),
            (Field::LastModified, Some(o)) => o.last_modified = cirrus_sigv4::parse_rfc3339(t),
            (Field::StorageClass, Some(o)) => o.storage_class = Some(t.to_owned()),
            (Field::Prefix, _) => self.prefix = Some(t.to_owned()),
            (Field::EncodingType, _) => self.url_encoded = t.eq_ignore_ascii_case("url"),
            (Field::IsTruncated, _) => self.truncated = t == "true",
            (Field::NextToken, _) => self.page.next_token = Some(t.to_owned()),
            (Field::KeyCount, _) => {
                // Room for the page up front (S3 sends KeyCount before the keys).
                let n: usize = t.trim().parse().unwrap_or(0);
                self.page.objects.reserve(n.min(1000));
            }
            _ => {}
        }
        Ok(())
    }

    /// The page, once the document ended: keys decoded when the page says they are encoded,
    /// the continuation token checked.
    fn finish(self) -> Result<ListPage, String> {
        if self.depth != 0 {
            return Err("document ended inside an element".to_owned());
        }
        if !self.root_done {
            return Err("no root element".to_owned());
        }
        let mut page = self.page;
        // Some stores echo EncodingType without encoding anything (s3s-fs 0.14). An encoder always
        // escapes spaces, control characters and non-ASCII, so a page holding one of those raw
        // was not encoded, whatever it says.
        let mut raw_names = page.objects.iter().map(|o| &o.key).chain(&page.common_prefixes);
        let evidently_raw = raw_names.any(|k| k.bytes().any(|b| !(0x21..0x80).contains(&b)));
        if !evidently_raw && self.url_encoded {
            for k in page.objects.iter_mut().map(|o| &mut o.key).chain(&mut page.common_prefixes) {
                if k.contains('%') {
                    percent_decode(k)?;
                }
            }
        }
        page.next_token = page.next_token.filter(|t| self.truncated && !t.is_empty());
        if self.truncated && page.next_token.is_none() {
            return Err("the page is truncated but has no NextContinuationToken".to_owned());
        }
        Ok(page)
    }
}

/// Decodes `%XX` escapes in place (`+` is a plus: S3 escapes a space as `%20`). Decoding
/// only shortens, so the key keeps its allocation.
pub(super) fn percent_decode(key: &mut String) -> Result<(), String> {
    fn nibble(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let mut bytes = std::mem::take(key).into_bytes();
    let (mut read, mut write) = (0, 0);
    while read < bytes.len() {
        let b = bytes[read];
        if b == b'%' {
            let decoded = match bytes.get(read + 1..read + 3) {
                Some(&[h, l]) => nibble(h).zip(nibble(l)).map(|(h, l)| h << 4 | l),
                _ => None,
            };
            let Some(d) = decoded else {
                let s = String::from_utf8_lossy(&bytes).into_owned();
                return Err(format!("bad escape in {s:?}"));
            };
            bytes[write] = d;
            read += 3;
        } else {
            bytes[write] = b;
            read += 1;
        }
        write += 1;
    }
    bytes.truncate(write);
    *key = String::from_utf8(bytes).map_err(|e| format!("{:?} does not decode to UTF-8", e.as_bytes()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_markers_are_empty_keys_ending_in_a_slash() {
        let o =
            |key: &str, size| Object { key: key.into(), size, etag: None, last_modified: None, storage_class: None };
        assert!(o("photos/", 0).is_folder_marker());
        assert!(!o("photos/", 3).is_folder_marker() && !o("photos", 0).is_folder_marker());
    }

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
    fn entities_owner_and_empty_elements() {
        let body = br#"<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a&amp;b&#x20;c</Key>
<Owner><ID>x</ID><Key>not this</Key></Owner><ETag>&quot;e&quot;</ETag><StorageClass/></Contents>
<CommonPrefixes><Prefix/></CommonPrefixes></ListBucketResult>"#;
        let p = parse_list_page(body).unwrap();
        assert_eq!(p.objects.len(), 1);
        assert_eq!(p.objects[0].key, "a&b c");
        assert_eq!(p.objects[0].etag.as_deref(), Some("\"e\""));
        assert_eq!(p.objects[0].storage_class.as_deref(), Some(""));
        assert_eq!(p.common_prefixes, [""]);
        assert_eq!(p.next_token, None);
    }

    #[test]
    fn hostile_or_broken_pages_are_refused_with_a_reason() {
        let cases: &[(&[u8], &str)] = &[
            (b"<!DOCTYPE l [<!ENTITY a \"aaaa\">]><ListBucketResult>&a;</ListBucketResult>", "DOCTYPE"),
            (b"<ListBucketResult><Contents><Key>&bogus;</Key></Contents></ListBucketResult>", "bogus"),
            (b"<ListBucketResult><Name>&bogus;</Name></ListBucketResult>", "bogus"),
            (b"<ListBucketResult><Contents><Size>3</Size></Contents></ListBucketResult>", "without a Key"),
            (b"<ListBucketResult><Contents><Key>k</Key><Size>lots</Size></Contents></ListBucketResult>", "Size"),
            (b"<Error><Code>x</Code></Error>", "expected ListBucketResult"),
            (b"<ListBucketResult><Contents>", "ended inside"),
            (b"<ListBucketResult></Contents>", "malformed"),
            (b"<ListBucketResult/><ListBucketResult/>", "after the root"),
            (b"", "no root"),
            (b"<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated><Contents><Key>%zz</Key></Contents></ListBucketResult>", "bad escape"),
        ];
        for (body, want) in cases {
            let err = parse_list_page(body).unwrap_err();
            assert!(err.contains(want), "{}: {err}", String::from_utf8_lossy(body));
        }
        let deep = format!("<ListBucketResult>{}{}</ListBucketResult>", "<a>".repeat(100), "</a>".repeat(100));
        assert!(parse_list_page(deep.as_bytes()).unwrap_err().contains("deeper"));
    }

    #[test]
    fn a_truncated_page_needs_a_token() {
        let body = b"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
        assert!(parse_list_page(body).unwrap_err().contains("NextContinuationToken"));
    }
}
