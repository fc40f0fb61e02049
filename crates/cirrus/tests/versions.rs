//! Object versions, tagging and bucket settings against moto (s3s-fs keeps no versions), and a
//! loopback S3 whose version listing fails half way (what no emulator does on demand).

use crate::common::{block_on, temp_dir, trial, Loopback, Reply};
use crate::ensure;
use crate::s3::{bucket, client, e, Server};
use cirrus::credentials::StaticCredentials;
use cirrus::s3::transfer::{Cancel, Event, Filters, Location, Rule, TransferOptions, Transfers};
use cirrus::s3::{ListOptions, ObjectVersion, PutOptions, S3Client, S3Settings, VersioningConfiguration};
use futures_util::TryStreamExt;
use libtest_mimic::Trial;
use std::sync::{Arc, Mutex};

/// A versioned bucket on moto.
async fn versioned(tag: &str) -> Result<(S3Client, String), String> {
    let s3 = client(Server::Moto)?;
    let b = bucket(tag);
    s3.create_bucket(&b).await.map_err(e)?;
    s3.put_bucket_versioning(&b, &VersioningConfiguration::status("Enabled")).await.map_err(e)?;
    Ok((s3, b))
}

async fn all_versions(s3: &S3Client, b: &str, options: ListOptions) -> Result<Vec<ObjectVersion>, String> {
    s3.list_object_versions(b, options).try_collect().await.map_err(e)
}

/// Versions listed across pages (one entry a page), delete markers told apart, and each
/// version read, headed, copied and deleted by its id.
fn versions_listed_read_and_deleted() -> Result<(), String> {
    block_on(async {
        let (s3, b) = versioned("vers").await?;
        let none = PutOptions::default();
        let v1 = s3.put(&b, "doc", "one", &none).await.map_err(e)?.version_id.ok_or("no version id")?;
        let v2 = s3.put(&b, "doc", "two!", &none).await.map_err(e)?.version_id.ok_or("no version id")?;
        s3.put(&b, "other", "x", &none).await.map_err(e)?;
        let marker = s3.delete_version(&b, "doc", None).await.map_err(e)?;
        ensure!(marker.delete_marker && marker.version_id.is_some(), "no delete marker: {marker:?}");

        let all = all_versions(&s3, &b, ListOptions::prefix("doc").with_page_size(1)).await?;
        ensure!(all.len() == 3 && all.iter().all(|v| v.key == "doc"), "{all:?}");
        let markers: Vec<&ObjectVersion> = all.iter().filter(|v| v.is_delete_marker).collect();
        ensure!(markers.len() == 1 && markers[0].is_latest, "{all:?}");
        ensure!(Some(&markers[0].version_id) == marker.version_id.as_ref(), "{all:?}");
        let old = all.iter().find(|v| v.version_id == v1).ok_or("v1 not listed")?;
        ensure!(old.size == 3 && !old.is_latest && !old.is_delete_marker && old.etag.is_some(), "{old:?}");

        let head = s3.head_version(&b, "doc", Some(&v1)).await.map_err(e)?;
        ensure!(head.content_length == 3 && head.version_id.as_deref() == Some(v1.as_str()), "{head:?}");
        ensure!(s3.head(&b, "doc").await.is_err(), "the current version is a delete marker");
        let got = s3.get_version(&b, "doc", Some(&v2), None).await.map_err(e)?;
        let chunks: Vec<bytes::Bytes> = got.body.try_collect().await.map_err(e)?;
        let body = chunks.concat();
        ensure!(body == b"two!", "got {body:?}");
        s3.copy_version_with(&b, "doc", Some(&v1), &b, "restored", &none).await.map_err(e)?;
        ensure!(&s3.get_bytes(&b, "restored").await.map_err(e)?[..] == b"one", "the copy is not v1");

        let gone = s3.delete_version(&b, "doc", Some(&v1)).await.map_err(e)?;
        ensure!(gone.version_id.as_deref() == Some(v1.as_str()), "{gone:?}");
        ensure!(s3.head_version(&b, "doc", Some(&v1)).await.is_err(), "v1 is still there");
        ensure!(s3.head_version(&b, "doc", Some("")).await.is_err_and(|e| e.is_input()), "an empty id was sent");
        Ok(())
    })
}

/// delete_versions removes exactly the pairs named.
fn delete_versions_removes_the_pairs_named() -> Result<(), String> {
    block_on(async {
        let (s3, b) = versioned("delvers").await?;
        let mut ids = Vec::new();
        for i in 0..3 {
            let out = s3.put(&b, "k", format!("v{i}"), &PutOptions::default()).await.map_err(e)?;
            ids.push(out.version_id.ok_or("no version id")?);
        }
        let report = s3.delete_versions(&b, [("k", Some(&ids[0])), ("k", Some(&ids[2]))]).await.map_err(e)?;
        ensure!(report.deleted == 2 && report.is_complete(), "{report:?}");
        let left = all_versions(&s3, &b, ListOptions::default()).await?;
        ensure!(left.len() == 1 && left[0].version_id == ids[1], "{left:?}");
        Ok(())
    })
}

/// Tagging, location, versioning and policy round trips.
fn tagging_and_bucket_settings() -> Result<(), String> {
    block_on(async {
        let s3 = client(Server::Moto)?;
        let b = bucket("settings");
        s3.create_bucket(&b).await.map_err(e)?;
        ensure!(s3.get_bucket_versioning(&b).await.map_err(e)?.status.is_none(), "versioning before enabling");
        ensure!(s3.get_bucket_location(&b).await.map_err(e)?.is_none(), "us-east-1 has no location constraint");
        s3.put(&b, "t", "x", &PutOptions::default()).await.map_err(e)?;
        let tags = vec![("team".to_owned(), "data + more=x:y/z@".to_owned()), ("tier".to_owned(), "2".to_owned())];
        s3.put_object_tagging(&b, "t", None, &tags).await.map_err(e)?;
        let (got, _) = s3.get_object_tagging(&b, "t", None).await.map_err(e)?;
        ensure!(got == tags, "{got:?}");
        let twice = vec![("a".to_owned(), "1".to_owned()), ("a".to_owned(), "2".to_owned())];
        ensure!(s3.put_object_tagging(&b, "t", None, &twice).await.is_err_and(|e| e.is_input()), "a key twice");

        s3.put_bucket_versioning(&b, &VersioningConfiguration::status("Suspended")).await.map_err(e)?;
        ensure!(s3.get_bucket_versioning(&b).await.map_err(e)?.status.as_deref() == Some("Suspended"), "suspended");
        let bad = VersioningConfiguration::status("On");
        ensure!(s3.put_bucket_versioning(&b, &bad).await.is_err_and(|e| e.is_input()), "On was sent");

        let policy = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{b}/*"}}]}}"#
        );
        s3.put_bucket_policy(&b, &policy).await.map_err(e)?;
        let back: serde_json::Value = serde_json::from_str(&s3.get_bucket_policy(&b).await.map_err(e)?).map_err(e)?;
        ensure!(back == serde_json::from_str::<serde_json::Value>(&policy).map_err(e)?, "{back}");
        s3.delete_bucket_policy(&b).await.map_err(e)?;
        let none = s3.get_bucket_policy(&b).await.err().ok_or("a policy after the delete")?;
        ensure!(none.code() == Some("NoSuchBucketPolicy"), "{none}");
        Ok(())
    })
}

/// remove_versions deletes every version and marker under the folder the filters accept, and
/// nothing else; a download and a copy read the version asked for.
fn remove_versions_and_copy_a_version() -> Result<(), String> {
    block_on(async {
        let (s3, b) = versioned("rmvers").await?;
        let none = PutOptions::default();
        let first = s3.put(&b, "dir/a", "first", &none).await.map_err(e)?.version_id.ok_or("no id")?;
        for (k, body) in [("dir/a", "second"), ("dir/keep.log", "log"), ("dirt", "outside"), ("other/x", "x")] {
            s3.put(&b, k, body, &none).await.map_err(e)?;
        }
        s3.delete_version(&b, "dir/a", None).await.map_err(e)?;

        let engine = Transfers::new(s3.clone());
        let local = temp_dir("version").join("a.txt");
        let one = TransferOptions::default().with_version_id(Some(first.clone()));
        let summary = engine
            .copy(&Location::s3(&b, "dir/a"), &Location::Local(local.clone()), &one, |_| {}, &Cancel::new())
            .await
            .map_err(e)?;
        ensure!(summary.done == 1 && std::fs::read(&local).map_err(e)? == b"first", "{summary}");
        let to = Location::s3(&b, "copy/a");
        engine.copy(&Location::s3(&b, "dir/a"), &to, &one, |_| {}, &Cancel::new()).await.map_err(e)?;
        ensure!(&s3.get_bytes(&b, "copy/a").await.map_err(e)?[..] == b"first", "the copy is not the first version");
        let moved = engine.mv(&Location::s3(&b, "dir/a"), &to, &one, |_| {}, &Cancel::new()).await;
        ensure!(moved.is_err_and(|e| e.is_input()), "mv took a version id");

        let mut filters = Filters::default();
        filters.push(Rule::Exclude, "*.log");
        let options = TransferOptions::recursive().with_filters(filters);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let summary = engine
            .remove_versions(
                &Location::s3(&b, "dir"),
                &options,
                move |ev| log.lock().unwrap().push(ev.to_string()),
                &Cancel::new(),
            )
            .await
            .map_err(e)?;
        let lines = seen.lock().unwrap().clone();
        ensure!(summary.done == 3 && summary.is_complete(), "{summary}: {lines:?}");
        ensure!(lines.iter().all(|l| l.starts_with(&format!("delete: s3://{b}/dir/a (version "))), "{lines:?}");
        let mut left: Vec<String> =
            all_versions(&s3, &b, ListOptions::default()).await?.into_iter().map(|v| v.key).collect();
        left.sort();
        ensure!(left == ["copy/a", "dir/keep.log", "dirt", "other/x"], "left {left:?}");
        Ok(())
    })
}

const PAGE_ONE: &str = r#"<ListVersionsResult><IsTruncated>true</IsTruncated><NextKeyMarker>b</NextKeyMarker><NextVersionIdMarker>vb</NextVersionIdMarker>
<Version><Key>a</Key><VersionId>va</VersionId><IsLatest>true</IsLatest><Size>1</Size></Version>
<DeleteMarker><Key>b</Key><VersionId>vb</VersionId><IsLatest>true</IsLatest></DeleteMarker></ListVersionsResult>"#;

/// The second page of the listing is refused: what the first page named is deleted, nothing
/// else is asked for, and the run ends failed.
fn a_failed_listing_deletes_only_what_was_listed() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|_, seen| match (seen.method.as_str(), seen.target.as_str()) {
            ("GET", t) if t.contains("versions") && !t.contains("key-marker") => Reply::ok(PAGE_ONE),
            ("GET", _) => Reply::status(403, "<Error><Code>AccessDenied</Code><Message>no</Message></Error>"),
            ("POST", _) => Reply::ok("<DeleteResult/>"),
            _ => Reply::status(400, "<Error><Code>Unexpected</Code><Message>?</Message></Error>"),
        })
        .await;
        let s3 = loopback_client(&server);
        let failed = Arc::new(Mutex::new(0));
        let count = failed.clone();
        let summary = Transfers::new(s3)
            .remove_versions(
                &Location::s3("bkt", ""),
                &TransferOptions::recursive(),
                move |ev| {
                    if matches!(ev.event, Event::Failed { .. }) {
                        *count.lock().unwrap() += 1;
                    }
                },
                &Cancel::new(),
            )
            .await
            .map_err(e)?;
        ensure!(summary.done == 2 && summary.failed == 1 && !summary.is_complete(), "{summary}");
        ensure!(*failed.lock().unwrap() == 1, "the failed listing was not reported");
        let deletes: Vec<String> = server
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect();
        ensure!(deletes.len() == 1, "{deletes:?}");
        let body = &deletes[0];
        ensure!(body.matches("<Object>").count() == 2, "{body}");
        ensure!(body.contains("<Key>a</Key><VersionId>va</VersionId>"), "{body}");
        ensure!(body.contains("<Key>b</Key><VersionId>vb</VersionId>"), "{body}");
        Ok(())
    })
}

/// A client of a loopback server.
fn loopback_client(server: &Loopback) -> S3Client {
    use cirrus::transport::{HttpClient, ServiceConfig};
    let svc = ServiceConfig::builder(cirrus::s3::SPEC, "us-east-1", server.url.clone())
        .credentials(Some(Arc::new(StaticCredentials::new("AKIDVERS", "secret", None))))
        .http(HttpClient::default())
        .build();
    S3Client::from_service(svc, S3Settings::default(), true)
}

/// 1,001 versions go in two DeleteObjects calls: 1,000, then 1.
fn delete_versions_goes_1000_a_call() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|_, _| Reply::ok("<DeleteResult/>")).await;
        let pairs: Vec<(String, Option<String>)> =
            (0..1001).map(|i| (format!("k{i}"), Some(format!("v{i}")))).collect();
        let report = loopback_client(&server).delete_versions("bkt", pairs).await.map_err(e)?;
        ensure!(report.deleted == 1001 && report.is_complete(), "{report:?}");
        let bodies: Vec<String> =
            server.requests().into_iter().map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect();
        let counts: Vec<usize> = bodies.iter().map(|b| b.matches("<VersionId>").count()).collect();
        ensure!(counts == [1000, 1], "{counts:?}");
        ensure!(bodies[1].contains("<Key>k1000</Key><VersionId>v1000</VersionId>"), "{}", bodies[1]);
        Ok(())
    })
}

pub fn trials() -> Vec<Trial> {
    vec![
        trial("versions::moto::versions_listed_read_and_deleted", versions_listed_read_and_deleted),
        trial("versions::moto::delete_versions_removes_the_pairs_named", delete_versions_removes_the_pairs_named),
        trial("versions::loopback::delete_versions_goes_1000_a_call", delete_versions_goes_1000_a_call),
        trial("versions::moto::tagging_and_bucket_settings", tagging_and_bucket_settings),
        trial("versions::moto::remove_versions_and_copy_a_version", remove_versions_and_copy_a_version),
        trial(
            "versions::loopback::a_failed_listing_deletes_only_what_was_listed",
            a_failed_listing_deletes_only_what_was_listed,
        ),
    ]
}
