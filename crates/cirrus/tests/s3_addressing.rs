//! Where S3 requests go and what they say beyond the object: a bucket that is its own host,
//! requester pays, and the aioaws upload form (an exact size, an attachment name). A loopback
//! server records the Host, target and headers each request arrived with; s3s-fs, which checks
//! every signature, proves the requests are signed as sent.

use crate::common::{block_on, temp_dir, trial, Loopback, Reply, Seen};
use crate::ensure;
use crate::s3::{bucket, client, client_with, curl, curl_status, e, Server};
use cirrus::credentials::StaticCredentials;
use cirrus::s3::{PostOptions, PresignOptions, PutOptions, S3Client, S3Settings};
use cirrus::transport::{HttpClient, ServiceConfig};
use http::Method;
use libtest_mimic::Trial;
use std::sync::Arc;
use std::time::Duration;

/// A client of the loopback server (a custom endpoint) with these settings.
fn loopback_client(server: &Loopback, settings: S3Settings) -> S3Client {
    let svc = ServiceConfig::builder(cirrus::s3::SPEC, "us-east-1", server.url.clone())
        .credentials(Some(Arc::new(StaticCredentials::new("AKIDADDRESS", "secret", None))))
        .http(HttpClient::default())
        .build();
    S3Client::from_service(svc, settings, true)
}

fn signed_headers(seen: &Seen) -> String {
    let auth = seen.header("authorization").unwrap_or_default();
    auth.split("SignedHeaders=").nth(1).and_then(|s| s.split(',').next()).unwrap_or_default().to_owned()
}

/// PutObject, GetObject, HeadObject, ListObjectsV2 and DeleteObject on `bucket`.
async fn five_calls(s3: &S3Client, bucket: &str) -> Result<(), String> {
    s3.put(bucket, "dir/a b.txt", "hello", &PutOptions::default()).await.map_err(|x| cirrus::transport::report(&x))?;
    let body = s3.get_bytes(bucket, "dir/a b.txt").await.map_err(e)?;
    ensure!(&body[..] == b"hello", "{body:?}");
    s3.head(bucket, "dir/a b.txt").await.map_err(e)?;
    s3.list_page(bucket, &cirrus::s3::ListOptions::default(), None).await.map_err(e)?;
    s3.delete(bucket, "dir/a b.txt").await.map_err(e)?;
    Ok(())
}

fn loopback_reply(seen: &Seen) -> Reply {
    if seen.target.contains("list-type=2") {
        return Reply::ok("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
    }
    match seen.method.as_str() {
        "DELETE" => Reply::status(204, ""),
        "HEAD" => Reply::ok("").with_header("etag", "\"e\""),
        _ => Reply::ok(if seen.method == "GET" { "hello" } else { "" }).with_header("etag", "\"e\""),
    }
}

/// `bucket_as_host`: every call goes to http://BUCKET:PORT/KEY (the endpoint's scheme and
/// port), signed with that Host; without it, the same calls are path-style on the endpoint.
/// `request_payer`: every call carries a signed `x-amz-request-payer: requester`.
fn loopback_bucket_as_host_and_request_payer() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|_, seen| loopback_reply(seen)).await;
        let host = format!("localhost:{}", server.port);
        five_calls(&loopback_client(&server, S3Settings::default().with_bucket_as_host(true)), "localhost").await?;
        let seen = server.requests();
        ensure!(seen.len() == 5, "{} requests", seen.len());
        for s in &seen {
            ensure!(
                s.header("host") == Some(host.as_str()),
                "{} {} went to {:?}",
                s.method,
                s.target,
                s.header("host")
            );
            ensure!(s.target.starts_with("/dir/a%20b.txt") || s.target.starts_with("/?"), "{}", s.target);
            ensure!(signed_headers(s).split(';').any(|h| h == "host"), "{}", signed_headers(s));
            ensure!(s.header("x-amz-request-payer").is_none(), "the requester pays unasked");
        }
        five_calls(&loopback_client(&server, S3Settings::default().with_request_payer(true)), "my-bucket").await?;
        let seen = &server.requests()[5..];
        ensure!(seen.len() == 5, "{} requests", seen.len());
        for s in seen {
            let path_style = format!("127.0.0.1:{}", server.port);
            ensure!(s.header("host") == Some(path_style.as_str()), "{:?}", s.header("host"));
            ensure!(s.target.starts_with("/my-bucket"), "{}", s.target);
            ensure!(
                s.header("x-amz-request-payer") == Some("requester"),
                "{} {}: no request payer",
                s.method,
                s.target
            );
            ensure!(signed_headers(s).split(';').any(|h| h == "x-amz-request-payer"), "{}", signed_headers(s));
        }
        Ok(())
    })
}

/// Against s3s-fs, which recomputes every signature from the request it receives: calls and a
/// presigned URL signed for the host `localhost:PORT` (the bucket as host: s3s-fs reads such a
/// request path-style, so the key holds the real bucket's name), and calls and a presigned URL
/// with the requester paying.
fn s3s_bucket_as_host_and_request_payer() -> Result<(), String> {
    let s3 = client(Server::S3s)?;
    let b = bucket("addressing");
    let as_host = client_with(Server::S3s, None, S3Settings::default().with_bucket_as_host(true))?;
    let payer = client_with(Server::S3s, None, S3Settings::default().with_request_payer(true))?;
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let key = format!("{b}/via-host.txt");
        as_host.put("localhost", &key, "by host", &PutOptions::default()).await.map_err(e)?;
        let body = as_host.get_bytes("localhost", &key).await.map_err(e)?;
        ensure!(&body[..] == b"by host", "{body:?}");
        ensure!(&s3.get_bytes(&b, "via-host.txt").await.map_err(e)?[..] == b"by host", "not stored");
        let url = as_host
            .presign(Method::GET, "localhost", &key, Duration::from_secs(60), &PresignOptions::default())
            .await
            .map_err(e)?
            .url;
        ensure!(url.starts_with("http://localhost:"), "{url}");
        ensure!(curl(&["-sS", "-f", &url])? == b"by host", "the presigned URL failed");

        payer.put(&b, "paid.txt", "paid", &PutOptions::default()).await.map_err(e)?;
        ensure!(&payer.get_bytes(&b, "paid.txt").await.map_err(e)?[..] == b"paid", "not read back");
        let url = payer
            .presign(Method::GET, &b, "paid.txt", Duration::from_secs(60), &PresignOptions::default())
            .await
            .map_err(e)?
            .url;
        ensure!(url.contains("x-amz-request-payer=requester"), "{url}");
        ensure!(curl(&["-sS", "-f", &url])? == b"paid", "the presigned URL failed");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// The aioaws upload form against s3s-fs: a file of the declared size is taken and stored
/// with the form's Content-Disposition (a non-ASCII name, RFC 6266); one byte more or less is
/// refused.
fn s3s_post_form_exact_size_and_attachment() -> Result<(), String> {
    let s3 = client(Server::S3s)?;
    let b = bucket("post-exact");
    let dir = temp_dir("post-exact");
    let files: Vec<_> = [99usize, 100, 101]
        .iter()
        .map(|&n| {
            let p = dir.join(format!("f{n}"));
            std::fs::write(&p, vec![b'x'; n]).map(|()| p)
        })
        .collect::<Result<_, _>>()
        .map_err(e)?;
    block_on(async {
        s3.create_bucket(&b).await.map_err(e)?;
        let opts = PostOptions::new("inbox/")
            .with_filename("report.pdf")
            .with_size(100)
            .with_attachment("Résumé \"final\".pdf");
        let form = s3.presign_post(&b, &opts).await.map_err(e)?;
        let submit = |file: &std::path::Path| -> Result<u16, String> {
            let mut args: Vec<String> = Vec::new();
            for (k, v) in &form.fields {
                args.extend(["--form-string".to_owned(), format!("{k}={v}")]);
            }
            args.extend(["-F".to_owned(), format!("file=@{}", file.display()), form.url.clone()]);
            curl_status(&args.iter().map(String::as_str).collect::<Vec<_>>())
        };
        for wrong in [&files[0], &files[2]] {
            let status = submit(wrong)?;
            ensure!(status >= 400, "{} got {status}", wrong.display());
        }
        let status = submit(&files[1])?;
        ensure!((200..300).contains(&status), "the declared size got {status}; fields {:?}", form.fields);
        let info = s3.head(&b, "inbox/report.pdf").await.map_err(e)?;
        let want = "attachment; filename=\"R_sum_ _final_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf";
        ensure!(info.content_length == 100, "{} bytes", info.content_length);
        ensure!(info.content_disposition.as_deref() == Some(want), "{:?}", info.content_disposition);
        // A size over the maximum, or the 5 GiB S3 allows, is refused before anything is signed.
        let e1 = s3.presign_post(&b, &PostOptions::new("p/").with_size(10).with_max_size(5)).await.unwrap_err();
        ensure!(e1.is_input() && e1.to_string().contains("above the max size"), "{e1}");
        s3.delete_prefix(&b, "").await.map_err(e)?;
        s3.delete_bucket(&b).await.map_err(e)?;
        Ok(())
    })
}

/// With AWS's endpoint, where a request goes, seen by a loopback HTTPS proxy as the host of
/// its `CONNECT` (the proxy refuses the tunnel, so nothing leaves the machine): an access point
/// ARN to the access point's host, a bucket as its own host to the bucket, a bucket otherwise
/// to its virtual host.
fn aws_hosts_through_a_proxy() -> Result<(), String> {
    block_on(async {
        let proxy = Loopback::start(|_, _| Reply::status(403, "no tunnels here")).await;
        let config = cirrus::loader::ConfigLoader::new(crate::common::ctx_with(&[("HTTPS_PROXY", &proxy.url)]))
            .region(Some("us-east-1"))
            .credentials(cirrus::loader::CredentialsChoice::Provider(Arc::new(StaticCredentials::new(
                "AKIDPROXY",
                "secret",
                None,
            ))))
            .load()
            .map_err(e)?;
        let cases = [
            (
                S3Settings::default(),
                "arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap",
                "my-ap-123456789012.s3-accesspoint.us-west-2.amazonaws.com:443",
            ),
            (S3Settings::default().with_bucket_as_host(true), "files.example.com", "files.example.com:443"),
            (S3Settings::default(), "my-bucket", "my-bucket.s3.us-east-1.amazonaws.com:443"),
        ];
        for (settings, bucket, host) in cases {
            let s3 = S3Client::with_settings(&config, settings).map_err(e)?;
            let before = proxy.count();
            ensure!(s3.get_bytes(bucket, "k").await.is_err(), "{bucket}: the refused tunnel succeeded");
            let seen = proxy.requests();
            let first = seen.get(before).ok_or(format!("{bucket}: nothing reached the proxy"))?;
            ensure!(first.method == "CONNECT" && first.target == host, "{bucket}: {} {}", first.method, first.target);
        }
        Ok(())
    })
}

pub fn trials() -> Vec<Trial> {
    vec![
        trial("s3::loopback::aws_hosts_through_a_proxy", aws_hosts_through_a_proxy),
        trial("s3::loopback::bucket_as_host_and_request_payer", loopback_bucket_as_host_and_request_payer),
        trial("s3::s3s::bucket_as_host_and_request_payer", s3s_bucket_as_host_and_request_payer),
        trial("s3::s3s::post_form_exact_size_and_attachment", s3s_post_form_exact_size_and_attachment),
    ]
}
