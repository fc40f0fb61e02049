//! `s3://` access point ARNs, `--bucket-as-host`, `--request-payer` and the exact-size,
//! attachment form of `presign-post`: presigned URLs read offline, then round trips against
//! s3s-fs, which checks every signature.

use crate::{cirrus, creds, ensure};
use libtest_mimic::{Failed, Trial};
use std::process::Command;

const ARN: &str = "arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap";

fn presign(extra: &[&str], target: &str) -> crate::Run {
    let mut args = extra.to_vec();
    args.extend(["s3", "presign", target]);
    cirrus(&args, &creds(), b"")
}

/// Offline: where the presigned URL of each addressing form points, and what it is signed for.
fn presigned_addresses() -> Result<(), Failed> {
    let r = presign(&["--region", "eu-west-1"], &format!("s3://{ARN}/dir/a b.txt"));
    let url = r.out();
    ensure(r.code == 0, r.stderr.clone())?;
    ensure(
        url.starts_with("https://my-ap-123456789012.s3-accesspoint.us-west-2.amazonaws.com/dir/a%20b.txt?")
            && url.contains("%2Fus-west-2%2Fs3%2Faws4_request"),
        url,
    )?;
    // The ARN's other form, `accesspoint:NAME`, as the AWS CLI splits it.
    let r = presign(&[], "s3://arn:aws:s3:us-west-2:123456789012:accesspoint:my-ap/k");
    ensure(r.out().starts_with("https://my-ap-123456789012.s3-accesspoint.us-west-2.amazonaws.com/k?"), r.out())?;
    let r = presign(&["--bucket-as-host"], "s3://files.example.com/report.pdf");
    ensure(r.out().starts_with("https://files.example.com/report.pdf?X-Amz-"), r.out())?;
    let r = presign(&[], "s3://files.example.com/report.pdf");
    ensure(!r.out().starts_with("https://files.example.com/"), r.out())?;
    let r = presign(&["--request-payer", "requester"], "s3://my-bucket/k");
    ensure(r.out().contains("x-amz-request-payer=requester"), r.out())?;
    let r = presign(&["--request-payer", "owner"], "s3://my-bucket/k");
    ensure(r.code == 2, format!("--request-payer owner: exit {}", r.code))?;
    // Alone, as the AWS CLI takes it: requester.
    let r = cirrus(&["s3", "presign", "s3://my-bucket/k", "--request-payer"], &creds(), b"");
    ensure(r.code == 0 && r.out().contains("x-amz-request-payer=requester"), format!("{}{}", r.out(), r.stderr))?;
    // An alias is a bucket name.
    let alias = "my-ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias";
    let r = presign(&[], &format!("s3://{alias}/k"));
    ensure(r.out().starts_with(&format!("https://{alias}.s3.us-east-1.amazonaws.com/k?")), r.out())?;
    // What cannot be addressed is bad input, said before anything is sent.
    let r = presign(&["--endpoint-url", "http://127.0.0.1:9"], &format!("s3://{ARN}/k"));
    ensure(r.code == 2 && r.stderr.contains("custom endpoint"), r.stderr)?;
    let r = presign(&[], "s3://arn:aws:s3::123456789012:accesspoint/x.mrap/k");
    ensure(r.code == 2 && r.stderr.contains("SigV4a"), r.stderr)?;
    Ok(())
}

fn s3s_env() -> Result<Vec<(&'static str, String)>, Failed> {
    let get = |k: &str| std::env::var(k).map_err(|_| Failed::from(format!("{k} is not set: s3s-fs is not running")));
    Ok(vec![
        ("AWS_ACCESS_KEY_ID", get("CIRRUS_S3S_ACCESS_KEY")?),
        ("AWS_SECRET_ACCESS_KEY", get("CIRRUS_S3S_SECRET_KEY")?),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL", get("CIRRUS_S3S_URL")?),
    ])
}

fn run(args: &[&str], env: &[(&'static str, String)], stdin: &[u8]) -> crate::Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    cirrus(args, &env, stdin)
}

/// Against s3s-fs: `--request-payer requester` sends the signed header on uploads, listings
/// and downloads; `--bucket-as-host` sends to `localhost:PORT` (s3s-fs reads it path-style, so
/// the key starts with the real bucket) and is accepted as signed for that host; the form of
/// `presign-post --size --attachment` takes a file of that size and no other.
fn s3s_flags() -> Result<(), Failed> {
    let env = s3s_env()?;
    let b = format!("cli-addressing-{}", std::process::id());
    let s3s = env.iter().find(|(k, _)| *k == "AWS_ENDPOINT_URL").map(|(_, v)| v.clone()).unwrap_or_default();
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env, b"").code == 0, "mb")?;
    let payer = ["--debug", "--request-payer", "requester", "s3"];
    let r = run(&[&payer[..], &["cp", "-", &format!("s3://{b}/paid.txt")]].concat(), &env, b"paid");
    ensure(r.code == 0 && r.stderr.contains("x-amz-request-payer"), format!("cp: {}", r.code))?;
    let r = run(&[&payer[..], &["ls", &format!("s3://{b}/")]].concat(), &env, b"");
    ensure(r.code == 0 && r.out().contains("paid.txt") && r.stderr.contains("x-amz-request-payer"), r.out())?;
    let r = run(&["s3", "cp", "--request-payer", "requester", &format!("s3://{b}/paid.txt"), "-"], &env, b"");
    ensure(r.code == 0 && r.stdout == b"paid", format!("{} {}", r.out(), r.stderr))?;

    let localhost = s3s.replace("127.0.0.1", "localhost");
    ensure(localhost != s3s, format!("{s3s} is not on 127.0.0.1"))?;
    let r = run(&["--bucket-as-host", "--debug", "s3", "cp", &format!("s3://localhost/{b}/paid.txt"), "-"], &env, b"");
    ensure(r.code == 0 && r.stdout == b"paid", format!("{} {}", r.out(), r.stderr))?;
    ensure(r.stderr.contains(&format!("{localhost}/{b}/paid.txt")), "the request did not go to localhost")?;

    let form =
        ["s3", "presign-post", &format!("s3://{b}/forms/"), "--filename", "f.txt", "--size", "4", "--attachment"];
    let r = run(&form, &env, b"");
    ensure(r.code == 0, r.stderr.clone())?;
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).map_err(|e| format!("{e}: {}", r.out()))?;
    let fields = v["fields"].as_object().ok_or("no fields")?;
    ensure(fields["Content-Disposition"] == "attachment; filename=\"f.txt\"", r.out())?;
    let dir = std::env::temp_dir().join(format!("cirrus-cli-addressing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    for (body, want) in [(&b"five!"[..], '4'), (&b"four"[..], '2')] {
        let file = dir.join("f.txt");
        std::fs::write(&file, body).map_err(|e| e.to_string())?;
        let mut args: Vec<String> =
            vec!["-sS".into(), "-o".into(), "/dev/null".into(), "-w".into(), "%{http_code}".into()];
        for (k, val) in fields {
            args.extend(["--form-string".into(), format!("{k}={}", val.as_str().unwrap_or_default())]);
        }
        args.extend(["-F".into(), format!("file=@{}", file.display()), v["url"].as_str().unwrap_or_default().into()]);
        let got = Command::new("curl").args(&args).output().map_err(|e| e.to_string())?;
        let status = String::from_utf8_lossy(&got.stdout).trim().to_owned();
        ensure(status.starts_with(want), format!("{} bytes: {status}", body.len()))?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    ensure(run(&["s3", "rb", "--force", &format!("s3://{b}")], &env, b"").code == 0, "rb")
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("s3::addressing::presigned_addresses", presigned_addresses),
        Trial::test("s3::addressing::s3s_request_payer_bucket_as_host_and_exact_forms", s3s_flags),
    ]
}
