//! S3 against two real servers: moto (the API's shapes, ListMultipartUploads) and s3s-fs, which
//! checks every SigV4 signature, presigned URL and POST policy. Each test runs against the
//! servers it can use; both are started by scripts/test and missing is a failure.

use crate::common::{block_on, ctx_with, moto, temp_dir, trial, Reply};
use crate::ensure;
use cirrus::credentials::StaticCredentials;
use cirrus::loader::{ConfigLoader, CredentialsChoice};
use cirrus::s3::{
    Checksum, ChecksumAlgorithm, ListOptions, PostOptions, PresignOptions, PutOptions, S3Client, S3Settings,
};
use futures_util::{StreamExt, TryStreamExt};
use http::Method;
use libtest_mimic::Trial;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Server {
    Moto,
    S3s,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Moto => "moto",
            Server::S3s => "s3s",
        }
    }
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .map_err(|_| format!("{name} is not set: the S3 test servers are not running (scripts/test starts them)"))
}

pub(crate) fn client_with(server: Server, secret: Option<&str>, settings: S3Settings) -> Result<S3Client, String> {
    let (url, key, default_secret) = match server {
        Server::Moto => (moto()?, "AKIDMOTO".to_owned(), "moto-secret".to_owned()),
        Server::S3s => (env("CIRRUS_S3S_URL")?, env("CIRRUS_S3S_ACCESS_KEY")?, env("CIRRUS_S3S_SECRET_KEY")?),
    };
    let secret = secret.map(str::to_owned).unwrap_or(default_secret);
    let config = ConfigLoader::new(ctx_with(&[]))
        .region(Some("us-east-1"))
        .endpoint_url(Some(&url))
        .credentials(CredentialsChoice::Provider(Arc::new(StaticCredentials::new(key, secret, None))))
        .load()
        .map_err(|e| e.to_string())?;
    S3Client::with_settings(&config, settings).map_err(|e| e.to_string())
}

pub(crate) fn client(server: Server) -> Result<S3Client, String> {
    client_with(server, None, S3Settings::default())
}

/// A bucket name no other test uses.
pub(crate) fn bucket(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("cirrus-{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

pub(crate) fn e<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

async fn keys(s3: &S3Client, b: &str, opts: ListOptions) -> Result<Vec<String>, String> {
    s3.list(b, opts).map_ok(|o| o.key).try_collect().await.map_err(e)
}

/// The keys the issue names as awkward: none may be normalized.
const AWKWARD: &[&str] = &[
    "plain.txt",
    "with space.txt",
    "plus+sign",
    "unicodé/ファイル.txt",
    "double//slash",
    "dots/../up",
    "./dot",
    "/leading-slash",
    "percent%20literal",
    "query?and#hash&amp",
    "tilde~and'quote\"",
];

/// A loopback S3 that enforces SSE-C as S3 does (moto and s3s-fs accept any key, or none):
/// an object written with a key is read, headed and copied only with the same key (its MD5),
/// and every request of a multipart upload must carry it.
fn ssec_server() -> impl Fn(usize, &crate::common::Seen) -> crate::common::Reply + Send + Sync + 'static {
    use crate::common::Reply;
    use std::collections::HashMap;
    use std::sync::Mutex;
    // (path -> (body, md5 of its key)), (upload id -> (path, md5, parts)).
    type Objects = HashMap<String, (Vec<u8>, String)>;
    type Uploads = HashMap<String, (String, String, Vec<(u32, Vec<u8>)>)>;
    let objects: Arc<Mutex<Objects>> = Arc::default();
    let uploads: Arc<Mutex<Uploads>> = Arc::default();
    move |_, seen| {
        let md5 = |prefix: &str| {
            let alg = seen.header(&format!("{prefix}server-side-encryption-customer-algorithm"));
            let key = seen.header(&format!("{prefix}server-side-encryption-customer-key"));
            let md5 = seen.header(&format!("{prefix}server-side-encryption-customer-key-md5"));
            match (alg, key, md5) {
                (Some("AES256"), Some(k), Some(m)) if KEYS.iter().any(|(kk, mm)| *kk == k && *mm == m) => {
                    Some(m.to_owned())
                }
                _ => None,
            }
        };
        let refuse = |why: &str| {
            Reply::status(400, format!("<Error><Code>InvalidRequest</Code><Message>{why}</Message></Error>"))
        };
        let (path, query) = seen.target.split_once('?').unwrap_or((&seen.target, ""));
        let path = path.to_owned();
        let mut objects = objects.lock().unwrap();
        let mut uploads = uploads.lock().unwrap();
        match (seen.method.as_str(), query) {
            ("POST", "uploads=") | ("POST", "uploads") => {
                let Some(m) = md5("x-amz-") else { return refuse("CreateMultipartUpload without the key") };
                let id = format!("up{}", uploads.len() + 1);
                uploads.insert(id.clone(), (path, m, Vec::new()));
                Reply::ok(format!(
                    "<InitiateMultipartUploadResult><UploadId>{id}</UploadId></InitiateMultipartUploadResult>"
                ))
            }
            ("PUT", q) if q.starts_with("partNumber=") => {
                let n: u32 = q
                    .split('&')
                    .next()
                    .and_then(|p| p.strip_prefix("partNumber="))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                let id = q.split("uploadId=").nth(1).unwrap_or_default().to_owned();
                let Some((_, m, parts)) = uploads.get_mut(&id) else { return refuse("no such upload") };
                if md5("x-amz-").as_ref() != Some(m) {
                    return refuse("UploadPart without the upload's key");
                }
                parts.push((n, seen.body.clone()));
                Reply::ok("").with_header("etag", &format!("\"p{n}\""))
            }
            ("POST", q) if q.starts_with("uploadId=") => {
                let id = q.trim_start_matches("uploadId=").to_owned();
                let Some((p, m, mut parts)) = uploads.remove(&id) else { return refuse("no such upload") };
                parts.sort_by_key(|(n, _)| *n);
                objects.insert(p, (parts.into_iter().flat_map(|(_, b)| b).collect(), m));
                Reply::ok("<CompleteMultipartUploadResult><ETag>\"done\"</ETag></CompleteMultipartUploadResult>")
            }
            ("PUT", _) => {
                let Some(m) = md5("x-amz-") else { return refuse("PutObject without a key") };
                let body = match seen.header("x-amz-copy-source") {
                    Some(src) => {
                        let src = format!("/{}", src.trim_start_matches('/'));
                        let Some((body, src_md5)) = objects.get(&src).cloned() else { return Reply::status(404, "") };
                        if md5("x-amz-copy-source-").as_ref() != Some(&src_md5) {
                            return refuse("CopyObject without the source's key");
                        }
                        body
                    }
                    None => seen.body.clone(),
                };
                objects.insert(path, (body, m));
                Reply::ok("<CopyObjectResult><ETag>\"c\"</ETag></CopyObjectResult>")
            }
            ("GET" | "HEAD", _) => {
                let Some((body, m)) = objects.get(&path).cloned() else { return Reply::status(404, "") };
                if md5("x-amz-").as_ref() != Some(&m) {
                    return refuse("The object was stored using a form of SSE-C; give the same key");
                }
                let len = body.len().to_string();
                let body = if seen.method == "HEAD" { Vec::new() } else { body };
                Reply::ok(body).with_header("x-amz-meta-len", &len)
            }
            _ => refuse("not emulated"),
        }
    }
}

/// The two keys the SSE-C stand-in knows: base64 of the key, base64 of its MD5 (from Python).
const KEYS: [(&str, &str); 2] = [
    ("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "hRasmdxgYDKV3nvbahU1MA=="),
    ("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=", "dT1y7SEiqn6YCJ3QeqwoIw=="),
];

fn ssec_round_trips() -> Result<(), String> {
    use cirrus::s3::SseCustomerKey;
    use cirrus::transport::{HttpClient, ServiceConfig};
    block_on(async {
        let server = crate::common::Loopback::start(ssec_server()).await;
        let svc = ServiceConfig::builder(cirrus::s3::SPEC, "us-east-1", server.url.clone())
            .credentials(Some(Arc::new(StaticCredentials::new("AKIDSSEC", "secret", None))))
            .http(HttpClient::default())
            .build();
        let plain = S3Client::from_service(svc, S3Settings::default().with_part_size(5 << 20, 5 << 20), true);
        let a = SseCustomerKey::new(b"0123456789abcdef0123456789abcdef").map_err(|e| e.to_string())?;
        let b = SseCustomerKey::new(b"fedcba9876543210fedcba9876543210").map_err(|e| e.to_string())?;
        ensure!(a.md5() == KEYS[0].1, "md5 {}", a.md5());
        let s3 = plain.with_sse_customer_key(Some(a.clone()));
        s3.put("bkt", "small", "secret words", &PutOptions::default()).await.map_err(e)?;
        ensure!(&s3.get_bytes("bkt", "small").await.map_err(e)?[..] == b"secret words", "get");
        s3.head("bkt", "small").await.map_err(e)?;
        let refused = plain.get_bytes("bkt", "small").await.err().ok_or("read without the key")?;
        ensure!(refused.status() == Some(400), "{refused}");
        // Multipart: every request of the upload carries the key.
        let big: Vec<u8> = (0..(11u32 << 20)).map(|i| (i % 251) as u8).collect();
        let out = s3.upload("bkt", "big", &big[..], &PutOptions::default()).await.map_err(e)?;
        ensure!(out.parts == 3, "{out:?}");
        ensure!(s3.get_bytes("bkt", "big").await.map_err(e)?[..] == big[..], "multipart round trip");
        // A copy from key A to key B.
        let copier = plain.with_sse_customer_key(Some(b.clone())).with_copy_source_sse_customer_key(Some(a.clone()));
        copier.copy("bkt", "small", "bkt", "copied").await.map_err(e)?;
        let reader_b = plain.with_sse_customer_key(Some(b));
        ensure!(&reader_b.get_bytes("bkt", "copied").await.map_err(e)?[..] == b"secret words", "copy");
        ensure!(s3.get_bytes("bkt", "copied").await.is_err(), "read a B object with key A");
        ensure!(!format!("{copier:?} {a:?}").contains(KEYS[0].0), "a key in Debug");
        Ok(())
    })
}

/// Every object option, read back with HEAD on moto: on a PutObject, a multipart upload, and
/// copies that keep (COPY) or replace (REPLACE) the source's metadata.
fn object_options_read_back() -> Result<(), String> {
    use cirrus::s3::{Expires, MetadataDirective, ServerSideEncryption};
    let s3 = client_with(Server::Moto, None, S3Settings::default().with_part_size(5 << 20, 5 << 20))?;
    let b = bucket("options");
    let mut put = PutOptions::content_type("text/csv").with_metadata("team", "data");
    put.cache_control = Some("max-age=60".into());
    put.content_disposition = Some("attachment; filename=\"r.csv\"".into());
    put.content_encoding = Some("identity".into());
    put.content_language = Some("fr".into());
    let expires = "2037-10-21T07:28:00Z".parse::<Expires>().map_err(|e| e.to_string())?;
    put = put.with_expires(expires);
    put.storage_class = Some("STANDARD_IA".into());
    put.server_side_encryption = Some(ServerSideEncryption::Aes256);
    put.acl = Some("private".into());
    let check = |info: &cirrus::s3::ObjectInfo, what: &str| -> Result<(), String> {
        ensure!(info.content_type.as_deref() == Some("text/csv"), "{what}: {info:?}");
        ensure!(info.metadata.contains(&("team".into(), "data".into())), "{what}: {info:?}");
        ensure!(info.cache_control.as_deref() == Some("max-age=60"), "{what}: {info:?}");
        ensure!(info.content_language.as_deref() == Some("fr"), "{what}: {info:?}");
        ensure!(info.content_disposition.as_deref() == Some("attachment; filename=\"r.csv\""), "{what}: {info:?}");
        ensure!(info.storage_class.as_deref() == Some("STANDARD_IA"), "{what}: {info:?}");
        ensure!(info.server_side_encryption.as_deref() == Some("AES256"), "{what}: {info:?}");
        Ok(())
    };
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        s3.put(&b, "small.csv", "a,b\n", &put).await.map_err(e)?;
        check(&s3.head(&b, "small.csv").await.map_err(e)?, "PutObject")?;
        let big = vec![7u8; 11 << 20];
        let out = s3.upload(&b, "big.csv", &big[..], &put).await.map_err(e)?;
        ensure!(out.parts == 3, "{out:?}");
        check(&s3.head(&b, "big.csv").await.map_err(e)?, "multipart")?;
        // COPY keeps the source's metadata; storage class and encryption are the request's.
        let mut copy = PutOptions::default();
        copy.storage_class = Some("STANDARD_IA".into());
        copy.server_side_encryption = Some(ServerSideEncryption::Aes256);
        s3.copy_with(&b, "small.csv", &b, "kept.csv", &copy).await.map_err(e)?;
        check(&s3.head(&b, "kept.csv").await.map_err(e)?, "CopyObject COPY")?;
        // REPLACE: the request's metadata only.
        let mut replace = PutOptions::content_type("text/plain").with_metadata("team", "ops");
        replace.metadata_directive = Some(MetadataDirective::Replace);
        s3.copy_with(&b, "small.csv", &b, "replaced.csv", &replace).await.map_err(e)?;
        let info = s3.head(&b, "replaced.csv").await.map_err(e)?;
        ensure!(info.content_type.as_deref() == Some("text/plain"), "{info:?}");
        ensure!(info.metadata == [("team".to_owned(), "ops".to_owned())], "{info:?}");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

fn lifecycle(server: Server) -> Result<(), String> {
    let s3 = client(server)?;
    let b = bucket("life");
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let listed = s3.list_buckets().await.map_err(e)?;
        ensure!(listed.iter().any(|x| x.name == b), "{b} not in {listed:?}");
        let opts = PutOptions::content_type("text/plain").with_metadata("color", "blue");
        s3.put(&b, "hello.txt", "hello world", &opts).await.map_err(e)?;
        let info = s3.head(&b, "hello.txt").await.map_err(e)?;
        ensure!(info.content_length == 11, "{info:?}");
        ensure!(info.content_type.as_deref() == Some("text/plain"), "{info:?}");
        ensure!(info.metadata.contains(&("color".into(), "blue".into())), "{info:?}");
        let body = s3.get_bytes(&b, "hello.txt").await.map_err(e)?;
        ensure!(&body[..] == b"hello world", "{body:?}");
        let ranged = s3.get(&b, "hello.txt", Some("bytes=6-10")).await.map_err(e)?;
        let chunks: Vec<bytes::Bytes> = ranged.body.try_collect().await.map_err(e)?;
        ensure!(chunks.concat() == b"world", "range gave {:?}", chunks.concat());
        let missing = s3.head(&b, "nope").await.unwrap_err();
        ensure!(missing.status() == Some(404) && missing.is_not_found(), "{missing}");
        let missing = s3.get(&b, "nope", None).await.unwrap_err();
        ensure!(missing.code() == Some("NoSuchKey"), "{missing}");
        ensure!(missing.to_string().contains("S3 GetObject"), "{missing}");
        s3.delete(&b, "hello.txt").await.map_err(e)?;
        ensure!(keys(&s3, &b, ListOptions::default()).await?.is_empty(), "not deleted");
        s3.delete_bucket(&b).await.map_err(e)?;
        let gone = s3.list_buckets().await.map_err(e)?;
        ensure!(!gone.iter().any(|x| x.name == b), "{b} still listed");
        Ok(())
    })
}

/// Keys s3s-fs cannot store faithfully: it keeps objects as files, so the file system resolves
/// `.`, `..` and `//`, and refuses a leading `/`. moto stores them all; against s3s-fs the
/// test only checks that they are signed correctly.
const FS_UNSAFE: &[&str] = &["double//slash", "dots/../up", "./dot", "/leading-slash"];

fn awkward_keys_round_trip(server: Server) -> Result<(), String> {
    let s3 = client(server)?;
    let b = bucket("keys");
    let keys_here: Vec<&str> = match server {
        Server::Moto => AWKWARD.to_vec(),
        Server::S3s => AWKWARD.iter().copied().filter(|k| !FS_UNSAFE.contains(k)).collect(),
    };
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        if let Server::S3s = server {
            // The signature checks pass (a wrong one is a 403) before the store says it has
            // no such key.
            for k in FS_UNSAFE {
                let err = s3.head(&b, k).await.unwrap_err();
                ensure!(
                    err.status() == Some(404) || (k.starts_with('/') && err.status() == Some(500)),
                    "HEAD {k:?}: {err}"
                );
            }
        }
        let awkward = &keys_here[..];
        for k in awkward {
            s3.put(&b, k, format!("body of {k}"), &PutOptions::default())
                .await
                .map_err(|x| format!("put {k:?}: {x}"))?;
        }
        let mut listed = keys(&s3, &b, ListOptions::default()).await?;
        listed.sort();
        let mut want: Vec<String> = awkward.iter().map(|k| (*k).to_owned()).collect();
        want.sort();
        ensure!(listed == want, "listed {listed:?}\nwanted {want:?}");
        for k in awkward {
            let body = s3.get_bytes(&b, k).await.map_err(|x| format!("get {k:?}: {x}"))?;
            ensure!(body == format!("body of {k}").as_bytes(), "get {k:?} gave {body:?}");
            let copy = format!("copy/{k}");
            s3.copy(&b, k, &b, &copy).await.map_err(|x| format!("copy {k:?}: {x}"))?;
            let body = s3.get_bytes(&b, &copy).await.map_err(|x| format!("get {copy:?}: {x}"))?;
            ensure!(body == format!("body of {k}").as_bytes(), "copy of {k:?} gave {body:?}");
            let url = s3
                .presign(Method::GET, &b, k, Duration::from_secs(300), &PresignOptions::default())
                .await
                .map_err(e)?;
            let got = curl(&["-sS", "-f", "--path-as-is", &url.url])?;
            ensure!(
                got == format!("body of {k}").as_bytes(),
                "presigned GET of {k:?} gave {:?}",
                String::from_utf8_lossy(&got)
            );
        }
        let report = s3.delete_many(&b, awkward).await.map_err(e)?;
        ensure!(report.deleted == awkward.len() as u64 && report.is_complete(), "{report:?}");
        let left = keys(&s3, &b, ListOptions::default()).await?;
        ensure!(left.iter().all(|k| k.starts_with("copy/")) && left.len() == awkward.len(), "left: {left:?}");
        let report = s3.delete_prefix(&b, "copy/").await.map_err(e)?;
        ensure!(report.deleted == awkward.len() as u64, "{report:?}");
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

fn listing(server: Server) -> Result<(), String> {
    let s3 = client(server)?;
    let b = bucket("list");
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let all = ["a/1", "a/2", "a/b/3", "a/b/4", "c/5", "top"];
        for k in all {
            s3.put(&b, k, "x", &PutOptions::default()).await.map_err(e)?;
        }
        // Pages of 2 are followed to the end.
        let got = keys(&s3, &b, ListOptions::default().with_page_size(2)).await?;
        ensure!(got == all, "{got:?}");
        let pages: Vec<_> =
            s3.list_pages(&b, ListOptions::default().with_page_size(2)).try_collect().await.map_err(e)?;
        ensure!(pages.len() == 3 && pages[2].next_token.is_none(), "{} pages", pages.len());
        // Prefix and delimiter.
        let page = s3.list_page(&b, &ListOptions::prefix("a/").with_delimiter("/"), None).await.map_err(e)?;
        let names: Vec<&str> = page.objects.iter().map(|o| o.key.as_str()).collect();
        ensure!(names == ["a/1", "a/2"] && page.common_prefixes == ["a/b/"], "{page:?}");
        // Start after.
        let got = keys(&s3, &b, ListOptions::default().with_start_after("a/b/4")).await?;
        ensure!(got == ["c/5", "top"], "{got:?}");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

fn multipart_upload(server: Server) -> Result<(), String> {
    let settings = S3Settings::default().with_part_size(5 << 20, 5 << 20).with_concurrency(2);
    let s3 = client_with(server, None, settings)?;
    let b = bucket("mpu");
    let data: Vec<u8> = (0..(12u32 << 20)).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let seen = Arc::new(AtomicUsize::new(0));
        let s = seen.clone();
        let opts = PutOptions::content_type("application/octet-stream")
            .with_progress(Arc::new(move |n| s.store(n as usize, Ordering::SeqCst)));
        let out = s3.upload(&b, "big.bin", &data[..], &opts).await.map_err(e)?;
        ensure!(out.parts == 3, "{out:?}");
        ensure!(seen.load(Ordering::SeqCst) == data.len(), "progress ended at {}", seen.load(Ordering::SeqCst));
        let got = s3.get_bytes(&b, "big.bin").await.map_err(e)?;
        ensure!(got.len() == data.len() && got[..] == data[..], "downloaded {} bytes, different", got.len());
        // Below the threshold: one PutObject.
        let out = s3.upload(&b, "small.bin", &data[..1000], &PutOptions::default()).await.map_err(e)?;
        ensure!(out.parts == 0, "{out:?}");
        // From a file.
        let dir = temp_dir("mpu");
        let path = dir.join("f.bin");
        std::fs::write(&path, &data).map_err(e)?;
        let out = s3.upload_file(&b, "file.bin", &path, &PutOptions::default()).await.map_err(e)?;
        ensure!(out.parts == 3, "{out:?}");
        ensure!(s3.head(&b, "file.bin").await.map_err(e)?.content_length == data.len() as u64, "size");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// Checksums: each algorithm on a single PutObject is stored and read back; a wrong value is
/// refused and stores nothing; a multipart upload with CRC32C checksums every part.
fn checksums(server: Server) -> Result<(), String> {
    let settings = S3Settings::default().with_part_size(5 << 20, 5 << 20);
    let s3 = client_with(server, None, settings)?;
    let b = bucket("sum");
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        for algorithm in ChecksumAlgorithm::ALL {
            let key = format!("small-{algorithm}");
            let opts = PutOptions::default().with_checksum(algorithm);
            s3.put(&b, &key, "hello world", &opts).await.map_err(e)?;
            let want = Checksum { algorithm, value: algorithm.checksum(b"hello world") };
            let info = s3.head_with_checksum(&b, &key).await.map_err(e)?;
            ensure!(info.checksum.as_ref() == Some(&want), "{algorithm}: stored {:?}, sent {want:?}", info.checksum);

            // moto stores what it is given without checking; s3s-fs checks (but keeps the
            // refused bytes on disk, so only the answer is checked).
            if matches!(server, Server::S3s) {
                let wrong = PutOptions::default().with_checksum_value(algorithm, algorithm.checksum(b"hello there"));
                match s3.put(&b, "wrong", "hello world", &wrong).await {
                    Err(err) => ensure!(err.code() == Some("BadDigest"), "{algorithm}: a wrong checksum gave {err}"),
                    Ok(out) => return Err(format!("{algorithm}: a wrong checksum was accepted: {out:?}")),
                }
            }
        }
        let data: Vec<u8> = (0..(11u32 << 20)).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        let opts = PutOptions::default().with_checksum(ChecksumAlgorithm::Crc32c);
        let out = s3.upload(&b, "big", &data[..], &opts).await.map_err(e)?;
        ensure!(out.parts == 3, "{out:?}");
        let got = s3.get_bytes(&b, "big").await.map_err(e)?;
        ensure!(got[..] == data[..], "the multipart object differs");
        // A CRC of a multipart upload is kept as the whole object's (FULL_OBJECT): cirrus sends
        // it, combined from the parts' CRCs, and the store keeps it. (s3s-fs accepts the part
        // checksums but keeps none for multipart objects.)
        if matches!(server, Server::Moto) {
            let want = ChecksumAlgorithm::Crc32c.checksum(&data);
            let info = s3.head_with_checksum(&b, "big").await.map_err(e)?;
            let stored = info.checksum.as_ref().map(|c| (c.algorithm, c.value.as_str()));
            ensure!(
                stored == Some((ChecksumAlgorithm::Crc32c, want.as_str())),
                "multipart stored {:?}, expected {want}",
                info.checksum
            );
        }
        let given = PutOptions::default().with_checksum_value(ChecksumAlgorithm::Crc32, "AAAAAA==");
        match s3.upload(&b, "big2", &data[..], &given).await {
            Err(err) => ensure!(err.to_string().contains("multipart"), "{err}"),
            Ok(out) => return Err(format!("a given checksum was applied to a multipart upload: {out:?}")),
        }
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// A reader that yields `ok` bytes, then fails (or, with `stall`, never answers again).
struct Faulty {
    left: usize,
    stall: bool,
}

impl tokio::io::AsyncRead for Faulty {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.left == 0 {
            if self.stall {
                return std::task::Poll::Pending;
            }
            return std::task::Poll::Ready(Err(std::io::Error::other("disk unplugged")));
        }
        let n = buf.remaining().min(self.left).min(64 << 10);
        buf.put_slice(&vec![7u8; n]);
        self.left -= n;
        std::task::Poll::Ready(Ok(()))
    }
}

/// A source that fails mid-upload, and an upload cancelled mid-way: both aborted, nothing left
/// in ListMultipartUploads (moto implements it; s3s-fs does not).
fn multipart_fault_aborts() -> Result<(), String> {
    let settings = S3Settings::default().with_part_size(5 << 20, 5 << 20).with_concurrency(2);
    let s3 = client_with(Server::Moto, None, settings)?;
    let b = bucket("abort");
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let err = s3
            .upload(&b, "broken.bin", Faulty { left: 12 << 20, stall: false }, &PutOptions::default())
            .await
            .unwrap_err();
        ensure!(err.to_string().contains("disk unplugged"), "{err}");
        let uploads = s3.list_multipart_uploads(&b).await.map_err(e)?;
        ensure!(uploads.is_empty(), "left behind after a failure: {uploads:?}");

        let cancelled = tokio::time::timeout(
            Duration::from_millis(1500),
            s3.upload(&b, "stalled.bin", Faulty { left: 11 << 20, stall: true }, &PutOptions::default()),
        )
        .await;
        ensure!(cancelled.is_err(), "the stalled upload finished");
        // The abort runs on its own task once the upload is dropped.
        let mut uploads = Vec::new();
        for _ in 0..50 {
            uploads = s3.list_multipart_uploads(&b).await.map_err(e)?;
            if uploads.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure!(uploads.is_empty(), "left behind after a cancellation: {uploads:?}");
        ensure!(keys(&s3, &b, ListOptions::default()).await?.is_empty(), "an object appeared");
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// 5,000 keys under a prefix are all deleted; keys beside it (including one that shares the
/// prefix's first characters) stay.
fn recursive_delete_5000() -> Result<(), String> {
    let s3 = client(Server::Moto)?;
    let b = bucket("rm");
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let names: Vec<String> = (0..5000).map(|i| format!("logs/{:02}/{i}.txt", i % 7)).collect();
        let plain = PutOptions::default();
        futures_util::stream::iter(names.iter().map(|k| s3.put(&b, k, "x", &plain)))
            .buffer_unordered(16)
            .try_collect::<Vec<_>>()
            .await
            .map_err(e)?;
        for k in ["logs", "logsmore/a", "other/logs/b"] {
            s3.put(&b, k, "keep", &PutOptions::default()).await.map_err(e)?;
        }
        let report = s3.delete_prefix(&b, "logs/").await.map_err(e)?;
        ensure!(report.deleted == 5000 && report.is_complete(), "{report:?}");
        let mut left = keys(&s3, &b, ListOptions::default()).await?;
        left.sort();
        ensure!(left == ["logs", "logsmore/a", "other/logs/b"], "left: {left:?}");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// A wrong secret is refused by the server that checks signatures.
fn wrong_secret_is_refused() -> Result<(), String> {
    let good = client(Server::S3s)?;
    let bad = client_with(Server::S3s, Some("not-the-secret"), S3Settings::default())?;
    let b = bucket("sig");
    block_on(async {
        good.create_bucket(&b).await.map_err(e)?;
        let err = bad.put(&b, "k", "v", &PutOptions::default()).await.unwrap_err();
        ensure!(matches!(err.status(), Some(403) | Some(500)), "{err}");
        ensure!(err.to_string().contains("S3 PutObject"), "{err}");
        good.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

pub(crate) fn curl(args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("curl").args(args).output().map_err(|x| format!("cannot run curl: {x}"))?;
    if !out.status.success() {
        return Err(format!("curl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(out.stdout)
}

/// curl's status code for a request (`-w %{http_code}`), the body thrown away.
pub(crate) fn curl_status(args: &[&str]) -> Result<u16, String> {
    let mut all = vec!["-sS", "-o", "/dev/null", "-w", "%{http_code}"];
    all.extend_from_slice(args);
    let out = Command::new("curl").args(&all).output().map_err(|x| format!("cannot run curl: {x}"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| format!("curl {all:?}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// Presigned PUT and GET with curl against the server that checks them; a tampered URL and an
/// expired one are refused.
fn presigned_urls_with_curl() -> Result<(), String> {
    let s3 = client(Server::S3s)?;
    let b = bucket("presign");
    let dir = temp_dir("presign");
    let file = dir.join("up.txt");
    std::fs::write(&file, "uploaded with curl").map_err(e)?;
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let put = s3
            .presign(Method::PUT, &b, "dir/up load.txt", Duration::from_secs(600), &PresignOptions::default())
            .await
            .map_err(e)?;
        let status = curl_status(&["-X", "PUT", "-T", file.to_str().unwrap_or_default(), &put.url])?;
        ensure!(status == 200, "presigned PUT got {status}");
        let opts =
            PresignOptions::default().with_response_header("content-disposition", "attachment; filename=\"x.txt\"");
        let get = s3.presign(Method::GET, &b, "dir/up load.txt", Duration::from_secs(600), &opts).await.map_err(e)?;
        ensure!(get.url.contains("response-content-disposition="), "{}", get.url);
        let body = curl(&["-sS", "-f", &get.url])?;
        ensure!(body == b"uploaded with curl", "{:?}", String::from_utf8_lossy(&body));
        // Another key with the same signature.
        let tampered = get.url.replace("up%20load", "up%20loaD");
        let status = curl_status(&[&tampered])?;
        ensure!(status == 403 || status == 500, "tampered URL got {status}");
        // Expired: signed a minute ago for one second.
        let expired = {
            let clock = cirrus::clock::ManualClock::new(std::time::SystemTime::now() - Duration::from_secs(60));
            let svc = s3.service().clone().with_clock(Arc::new(clock));
            S3Client::from_service(svc, S3Settings::default(), true)
                .presign(Method::GET, &b, "dir/up load.txt", Duration::from_secs(1), &PresignOptions::default())
                .await
                .map_err(e)?
        };
        let status = curl_status(&[&expired.url])?;
        ensure!(status == 403 || status == 500, "expired URL got {status}");
        let too_long =
            s3.presign(Method::GET, &b, "k", Duration::from_secs(8 * 24 * 3600), &PresignOptions::default()).await;
        ensure!(too_long.unwrap_err().to_string().contains("7 days"), "8 days accepted");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// A presigned POST form submitted with `curl -F`: accepted as signed, refused when the upload
/// breaks the policy (too large, another key, another content type).
fn presigned_post_with_curl() -> Result<(), String> {
    let s3 = client(Server::S3s)?;
    let b = bucket("post");
    let dir = temp_dir("post");
    let small = dir.join("small.png");
    std::fs::write(&small, vec![1u8; 100]).map_err(e)?;
    let large = dir.join("large.png");
    std::fs::write(&large, vec![1u8; 5000]).map_err(e)?;
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let opts = PostOptions::new("uploads/42/")
            .with_filename("avatar.png")
            .with_content_type("image/png")
            .with_max_size(1000);
        let form = s3.presign_post(&b, &opts).await.map_err(e)?;
        let submit = |fields: &[(String, String)], file: &std::path::Path| -> Result<u16, String> {
            let mut args: Vec<String> = Vec::new();
            for (k, v) in fields {
                args.push("-F".into());
                args.push(format!("{k}={v}"));
            }
            args.push("-F".into());
            args.push(format!("file=@{}", file.display()));
            args.push(form.url.clone());
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            curl_status(&refs)
        };
        let status = submit(&form.fields, &small)?;
        ensure!((200..300).contains(&status), "the form upload got {status}; fields {:?}", form.fields);
        let body = s3.get_bytes(&b, "uploads/42/avatar.png").await.map_err(e)?;
        ensure!(body.len() == 100, "uploaded {} bytes", body.len());

        let status = submit(&form.fields, &large)?;
        ensure!(status >= 400, "a file over max_size got {status}");
        let other_key: Vec<(String, String)> = form
            .fields
            .iter()
            .map(
                |(k, v)| {
                    if k == "key" {
                        (k.clone(), "elsewhere/avatar.png".to_owned())
                    } else {
                        (k.clone(), v.clone())
                    }
                },
            )
            .collect();
        let status = submit(&other_key, &small)?;
        ensure!(status >= 400, "another key got {status}");
        let other_type: Vec<(String, String)> = form
            .fields
            .iter()
            .map(|(k, v)| {
                if k.eq_ignore_ascii_case("content-type") {
                    (k.clone(), "text/html".to_owned())
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect();
        ensure!(other_type != form.fields, "the form has no Content-Type field: {:?}", form.fields);
        let status = submit(&other_type, &small)?;
        ensure!(status >= 400, "another content type got {status}");
        let left = keys(&s3, &b, ListOptions::default()).await?;
        ensure!(left == ["uploads/42/avatar.png"], "{left:?}");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// A loopback S3 that keeps its buckets in eu-west-1 and answers a request signed for another
/// region as S3 does: a `301 PermanentRedirect` with `x-amz-bucket-region` (no body to a HEAD),
/// or, for the bucket `far-auth`, `400 AuthorizationHeaderMalformed` naming the region in the
/// body. The bucket `evil` names a "region" that is a host name.
fn wrong_region_reply(seen: &crate::common::Seen) -> crate::common::Reply {
    use crate::common::Reply;
    let auth = seen.header("authorization").unwrap_or_default().to_owned();
    let signed_for = auth.split("Credential=").nth(1).and_then(|c| c.split('/').nth(2)).unwrap_or_default().to_owned();
    let bucket = seen.target.trim_start_matches('/').split(['/', '?']).next().unwrap_or_default().to_owned();
    if bucket == "evil" {
        return Reply::status(301, "").with_header("x-amz-bucket-region", "attacker.example/x");
    }
    if signed_for == "eu-west-1" {
        return Reply::ok(if seen.method == "HEAD" { "" } else { "far away" }).with_header("etag", "\"e\"");
    }
    if bucket == "far-auth" {
        let body = "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region><RequestId>r1</RequestId></Error>";
        return Reply::status(400, body);
    }
    let body = if seen.method == "HEAD" {
        ""
    } else {
        "<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message><Bucket>far-bucket</Bucket><RequestId>r2</RequestId></Error>"
    };
    Reply::status(301, body).with_header("x-amz-bucket-region", "eu-west-1")
}

fn follows_the_bucket_to_its_region() -> Result<(), String> {
    use cirrus::transport::{HttpClient, ServiceConfig};
    block_on(async {
        let server = crate::common::Loopback::start(|_, seen| wrong_region_reply(seen)).await;
        let client = || {
            let svc = ServiceConfig::builder(cirrus::s3::SPEC, "us-east-1", server.url.clone())
                .credentials(Some(Arc::new(StaticCredentials::new("AKIDREGION", "secret", None))))
                .http(HttpClient::default())
                .build();
            S3Client::from_service(svc, S3Settings::default(), true)
        };
        let s3 = client();
        // PermanentRedirect: signed again for eu-west-1 and sent once more.
        let body = s3.get_bytes("far-bucket", "k").await.map_err(|e| cirrus::transport::report(&e))?;
        ensure!(&body[..] == b"far away" && server.count() == 2, "{} requests", server.count());
        // Remembered: the next operation and presigned URLs go to eu-west-1 at once.
        s3.head("far-bucket", "k").await.map_err(|e| e.to_string())?;
        ensure!(server.count() == 3 && s3.bucket_region("far-bucket") == "eu-west-1", "{} requests", server.count());
        let url = s3
            .presign(Method::GET, "far-bucket", "k", Duration::from_secs(60), &PresignOptions::default())
            .await
            .map_err(|e| e.to_string())?
            .url;
        ensure!(url.contains("%2Feu-west-1%2Fs3%2F"), "{url}");
        // A HEAD first: a 301 with no body, the region in the header.
        let s3 = client();
        s3.head("far-bucket", "k").await.map_err(|e| e.to_string())?;
        ensure!(server.count() == 5, "{} requests", server.count());
        // AuthorizationHeaderMalformed, the region in the body.
        let body = s3.get_bytes("far-auth", "k").await.map_err(|e| e.to_string())?;
        ensure!(&body[..] == b"far away" && server.count() == 7, "{} requests", server.count());
        // A "region" that is not one: not followed, the error stands.
        let e = s3.get_bytes("evil", "k").await.err().ok_or("a hostile region was followed")?;
        ensure!(e.status() == Some(301) && server.count() == 8, "{e} ({} requests)", server.count());
        ensure!(s3.bucket_region("evil") == "us-east-1", "remembered a hostile region");
        Ok(())
    })
}

/// An upload dropped while CreateMultipartUpload's answer is on its way (a caller's timeout)
/// still aborts the upload the answer names: the id is not lost with the dropped future.
fn dropped_during_create_aborts_the_upload() -> Result<(), String> {
    use cirrus::transport::{HttpClient, ServiceConfig};
    block_on(async {
        let server = crate::common::Loopback::start(|_, seen| {
            if seen.method == "POST" && seen.target.contains("uploads") {
                let body =
                    "<InitiateMultipartUploadResult><UploadId>UP-SLOW</UploadId></InitiateMultipartUploadResult>";
                Reply::Slow(Duration::from_millis(400), Box::new(Reply::ok(body)))
            } else if seen.method == "DELETE" {
                Reply::status(204, "")
            } else {
                Reply::ok("")
            }
        })
        .await;
        let svc = ServiceConfig::builder(cirrus::s3::SPEC, "us-east-1", server.url.clone())
            .credentials(Some(Arc::new(StaticCredentials::new("AKIDDROP", "secret", None))))
            .http(HttpClient::default())
            .build();
        let s3 = S3Client::from_service(svc, S3Settings::default().with_part_size(5 << 20, 5 << 20), true);
        let data = vec![3u8; 6 << 20];
        let options = PutOptions::default();
        let upload = s3.upload("bkt", "big", &data[..], &options);
        let timed_out = tokio::time::timeout(Duration::from_millis(100), upload).await.is_err();
        ensure!(timed_out, "the upload ended before the timeout");
        // The answer comes 300 ms later; the abort follows it.
        let aborted =
            || server.requests().iter().any(|r| r.method == "DELETE" && r.target.contains("uploadId=UP-SLOW"));
        for _ in 0..50 {
            if aborted() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("no abort of UP-SLOW: {:?}", server.requests().iter().map(|r| &r.target).collect::<Vec<_>>()))
    })
}

/// Every upload carries a CRC32 unless told otherwise, as the AWS SDKs do: a PutObject's and
/// each part's, stored by the server (moto keeps and returns them); `when_required` sends none.
fn uploads_carry_a_crc32_by_default() -> Result<(), String> {
    use cirrus::s3::ChecksumAlgorithm;
    let s3 = client(Server::Moto)?;
    let b = bucket("crc-default");
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let out = s3.put(&b, "small", "checked bytes", &PutOptions::default()).await.map_err(e)?;
        let want = ChecksumAlgorithm::Crc32.checksum(b"checked bytes");
        ensure!(out.checksum.as_ref().is_some_and(|c| c.value == want), "{out:?}");
        let info = s3.head_with_checksum(&b, "small").await.map_err(e)?;
        ensure!(info.checksum.is_some_and(|c| c.algorithm == ChecksumAlgorithm::Crc32 && c.value == want), "head");
        // A multipart upload: each part checksummed, the object's checksum composite (`-N`).
        let parts = client_with(Server::Moto, None, S3Settings::default().with_part_size(5 << 20, 5 << 20))?;
        let big: Vec<u8> = (0..(11u32 << 20)).map(|i| (i % 253) as u8).collect();
        let out = parts.upload(&b, "big", &big[..], &PutOptions::default()).await.map_err(e)?;
        ensure!(out.parts == 3, "{out:?}");
        let info = s3.head_with_checksum(&b, "big").await.map_err(e)?;
        let whole = ChecksumAlgorithm::Crc32.checksum(&big);
        ensure!(
            info.checksum.as_ref().is_some_and(|c| c.algorithm == ChecksumAlgorithm::Crc32 && c.value == whole),
            "multipart head: {:?}",
            info.checksum
        );
        // Downloaded in ranges of another size (8 MiB, where the upload had 5): the stored
        // whole-object CRC verifies it all the same.
        use cirrus::s3::transfer::{Cancel, Location, TransferOptions, Transfers};
        let dir = crate::common::temp_dir("crc-default");
        let summary = Transfers::new(s3.clone())
            .copy(
                &Location::s3(&b, "big"),
                &Location::Local(dir.join("big")),
                &TransferOptions::default(),
                |_| {},
                &Cancel::new(),
            )
            .await
            .map_err(e)?;
        ensure!(summary.verified == 1 && summary.verified_by_checksum == 1, "{summary}");
        ensure!(std::fs::read(dir.join("big")).map_err(e)? == big, "the download differs");
        // Opted out, as botocore's request_checksum_calculation = when_required.
        let config = ConfigLoader::new(ctx_with(&[("AWS_REQUEST_CHECKSUM_CALCULATION", "WHEN_REQUIRED")]))
            .region(Some("us-east-1"))
            .endpoint_url(Some(&moto()?))
            .credentials(CredentialsChoice::Provider(Arc::new(StaticCredentials::new("AKIDMOTO", "moto-secret", None))))
            .load()
            .map_err(e)?;
        let bare = S3Client::from_config(&config).map_err(e)?;
        bare.put(&b, "bare", "no checksum", &PutOptions::default()).await.map_err(e)?;
        ensure!(s3.head_with_checksum(&b, "bare").await.map_err(e)?.checksum.is_none(), "when_required sent one");
        let bad = ConfigLoader::new(ctx_with(&[("AWS_REQUEST_CHECKSUM_CALCULATION", "sometimes")]))
            .region(Some("us-east-1"))
            .endpoint_url(Some(&moto()?))
            .load()
            .map_err(e)?;
        let err = S3Client::from_config(&bad).err().ok_or("a bad value was taken")?;
        ensure!(err.to_string().contains("AWS_REQUEST_CHECKSUM_CALCULATION"), "{err}");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// CRC-64/NVME (S3's default since 2025) on request: a PutObject stores it, a multipart upload
/// asks for a full-object checksum (moto accepts both), and a download is verified against it.
fn crc64nvme_uploads_are_stored_and_verified() -> Result<(), String> {
    use cirrus::s3::ChecksumAlgorithm;
    let s3 = client_with(Server::Moto, None, S3Settings::default().with_part_size(5 << 20, 5 << 20))?;
    let b = bucket("crc64");
    let dir = crate::common::temp_dir("crc64");
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let options = PutOptions::default().with_checksum(ChecksumAlgorithm::Crc64Nvme);
        s3.put(&b, "small", "nvme bytes", &options).await.map_err(e)?;
        let info = s3.head_with_checksum(&b, "small").await.map_err(e)?;
        let want = ChecksumAlgorithm::Crc64Nvme.checksum(b"nvme bytes");
        ensure!(info.checksum.is_some_and(|c| c.algorithm == ChecksumAlgorithm::Crc64Nvme && c.value == want), "head");
        let n = s3.download_file(&b, "small", &dir.join("small")).await.map_err(e)?;
        ensure!(n == 10 && std::fs::read(dir.join("small")).map_err(e)? == b"nvme bytes", "download");
        let big: Vec<u8> = (0..(11u32 << 20)).map(|i| (i % 239) as u8).collect();
        let out = s3.upload(&b, "big", &big[..], &options).await.map_err(e)?;
        ensure!(out.parts == 3, "{out:?}");
        ensure!(&s3.get_bytes(&b, "big").await.map_err(e)?[..] == big.as_slice(), "multipart round trip");
        ensure!("crc64nvme".parse::<ChecksumAlgorithm>().ok() == Some(ChecksumAlgorithm::Crc64Nvme), "parse");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// A store that answers an upload with another checksum than the one sent stored other bytes:
/// the upload fails, saying so.
fn a_stored_checksum_that_differs_fails_the_upload() -> Result<(), String> {
    use cirrus::transport::{HttpClient, ServiceConfig};
    block_on(async {
        let server = crate::common::Loopback::start(|_, _| {
            Reply::ok("").with_header("etag", "\"x\"").with_header("x-amz-checksum-crc32", "AAAAAA==")
        })
        .await;
        let svc = ServiceConfig::builder(cirrus::s3::SPEC, "us-east-1", server.url.clone())
            .credentials(Some(Arc::new(StaticCredentials::new("AKID", "secret", None))))
            .http(HttpClient::default())
            .build();
        let s3 = S3Client::from_service(svc, S3Settings::default(), true);
        let err = s3.put("bkt", "k", "some bytes", &PutOptions::default()).await.err().ok_or("accepted")?;
        ensure!(err.to_string().contains("stored the CRC32 checksum AAAAAA=="), "{err}");
        let sent = server.requests();
        ensure!(sent[0].header("x-amz-checksum-crc32").is_some(), "no checksum was sent");
        Ok(())
    })
}

/// A multipart upload's CRC32 goes as the whole object's (`FULL_OBJECT` at create, the value
/// combined from the parts' at complete); a store that answers the complete with another whole
/// checksum stored other bytes, and the upload fails, saying so.
fn a_multipart_upload_sends_and_checks_the_whole_crc() -> Result<(), String> {
    use cirrus::transport::{HttpClient, ServiceConfig};
    block_on(async {
        let server = crate::common::Loopback::start(|_, seen| {
            let t = &seen.target;
            if seen.method == "POST" && t.contains("uploads") {
                Reply::ok("<InitiateMultipartUploadResult><UploadId>up-1</UploadId></InitiateMultipartUploadResult>")
            } else if seen.method == "PUT" {
                Reply::ok("").with_header("etag", "\"p\"")
            } else if seen.method == "POST" {
                Reply::ok("<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></CompleteMultipartUploadResult>")
            } else {
                Reply::ok("")
            }
        })
        .await;
        let svc = ServiceConfig::builder(cirrus::s3::SPEC, "us-east-1", server.url.clone())
            .credentials(Some(Arc::new(StaticCredentials::new("AKID", "secret", None))))
            .http(HttpClient::default())
            .build();
        let s3 = S3Client::from_service(svc, S3Settings::default().with_part_size(5 << 20, 5 << 20), true);
        let data: Vec<u8> = (0..(7u32 << 20)).map(|i| (i % 233) as u8).collect();
        let err = s3.upload("bkt", "k", &data[..], &PutOptions::default()).await.err().ok_or("accepted")?;
        ensure!(err.to_string().contains("the parts make"), "{err}");
        let seen = server.requests();
        let create = seen.iter().find(|r| r.target.contains("uploads")).ok_or("no create")?;
        ensure!(create.header("x-amz-checksum-type") == Some("FULL_OBJECT"), "create: {:?}", create.headers);
        let complete =
            seen.iter().find(|r| r.method == "POST" && r.target.contains("uploadId")).ok_or("no complete")?;
        let want = cirrus::s3::ChecksumAlgorithm::Crc32.checksum(&data);
        ensure!(complete.header("x-amz-checksum-crc32") == Some(want.as_str()), "complete: {:?}", complete.headers);
        Ok(())
    })
}

/// `list_tree` (key ranges listed in parallel) gives exactly the flat listing, in the same order,
/// with keys that sort around the folders' names (`a` < `a-b/` < `a.txt` < `a/`...), folder
/// markers, deep folders, more small folders than are listed at once, a prefix that is not a
/// folder; at pages of 1 to 4 keys (so that the first page, the first level's pages and every
/// range's pages end anywhere) and at S3's 1,000.
fn list_tree_is_the_flat_listing() -> Result<(), String> {
    let s3 = client(Server::Moto)?;
    let b = bucket("tree");
    let mut keys: Vec<String> =
        ["t/0", "t/a", "t/a-b/c", "t/a.txt", "t/a/", "t/a/b", "t/a/b/c/d", "t/b", "t/\u{e4}", "t/z/y/x", "u/outside"]
            .map(String::from)
            .into();
    keys.extend(["t/c/", "t/c/1", "t/c/2", "t/c0", "t/c0/x"].map(String::from));
    keys.extend((0..20).map(|i| format!("t/f{i:02}/k{}", i % 3)));
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        for k in &keys {
            s3.put(&b, k, k.as_bytes().to_vec(), &PutOptions::default()).await.map_err(e)?;
        }
        for prefix in ["t/", "t", "t/a", ""] {
            let flat: Vec<String> =
                s3.list(&b, ListOptions::prefix(prefix)).map_ok(|o| o.key).try_collect().await.map_err(e)?;
            let tree: Vec<String> = s3.list_tree(&b, prefix).map_ok(|o| o.key).try_collect().await.map_err(e)?;
            ensure!(tree == flat && !flat.is_empty(), "prefix {prefix:?}: tree {tree:?}, flat {flat:?}");
            for page in 1..=4 {
                let tree: Vec<String> = s3
                    .list_tree_with_page_size(&b, prefix, Some(page))
                    .map_ok(|o| o.key)
                    .try_collect()
                    .await
                    .map_err(e)?;
                ensure!(tree == flat, "prefix {prefix:?}, {page} a page: tree {tree:?}, flat {flat:?}");
            }
        }
        let missing: Result<Vec<_>, _> = s3.list_tree("no-such-bucket-cirrus", "").try_collect().await;
        ensure!(missing.is_err(), "a missing bucket listed");
        Ok(())
    })
}

pub fn trials() -> Vec<Trial> {
    let mut out = vec![
        trial("s3::moto::list_tree_is_the_flat_listing", list_tree_is_the_flat_listing),
        trial("s3::moto::uploads_carry_a_crc32_by_default", uploads_carry_a_crc32_by_default),
        trial("s3::moto::crc64nvme_uploads_are_stored_and_verified", crc64nvme_uploads_are_stored_and_verified),
        trial(
            "s3::loopback::a_stored_checksum_that_differs_fails_the_upload",
            a_stored_checksum_that_differs_fails_the_upload,
        ),
        trial(
            "s3::loopback::a_multipart_upload_sends_and_checks_the_whole_crc",
            a_multipart_upload_sends_and_checks_the_whole_crc,
        ),
        trial("s3::a_dropped_upload_aborts_what_create_returned", dropped_during_create_aborts_the_upload),
        trial("s3::follows_the_bucket_to_its_region", follows_the_bucket_to_its_region),
        trial("s3::moto::object_options_read_back", object_options_read_back),
        trial("s3::loopback::ssec_round_trips", ssec_round_trips),
    ];
    for server in [Server::Moto, Server::S3s] {
        let n = server.name();
        out.push(trial(format!("s3::{n}::bucket_and_object_lifecycle"), move || lifecycle(server)));
        out.push(trial(format!("s3::{n}::awkward_keys_round_trip"), move || awkward_keys_round_trip(server)));
        out.push(trial(format!("s3::{n}::listing_pages_prefixes_delimiter_start_after"), move || listing(server)));
        out.push(trial(format!("s3::{n}::multipart_upload"), move || multipart_upload(server)));
        out.push(trial(format!("s3::{n}::upload_checksums"), move || checksums(server)));
    }
    out.push(trial("s3::moto::multipart_fault_and_cancel_abort_the_upload", multipart_fault_aborts));
    out.push(trial("s3::moto::recursive_delete_of_5000_keys", recursive_delete_5000));
    out.push(trial("s3::s3s::wrong_secret_is_refused", wrong_secret_is_refused));
    out.push(trial("s3::s3s::presigned_put_get_with_curl", presigned_urls_with_curl));
    out.push(trial("s3::s3s::presigned_post_with_curl", presigned_post_with_curl));
    out
}
