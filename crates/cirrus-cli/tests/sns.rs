//! `cirrus sns verify` on the synthetic messages of `testdata/sns` (with their
//! certificate, as of a time it is valid), and `cirrus sns publish` against moto.

use crate::{cirrus, ensure, testdata, Run};
use libtest_mimic::{Failed, Trial};
use std::path::PathBuf;

fn dir() -> PathBuf {
    testdata().join("sns/synthetic")
}

fn verify(extra: &[&str], stdin: &[u8]) -> Run {
    let cert = dir().join("certificate.pem");
    let mut args = vec!["sns", "verify", "--cert", cert.to_str().unwrap_or_default()];
    args.extend_from_slice(extra);
    cirrus(&args, &[], stdin)
}

fn json(r: &Run) -> Result<serde_json::Value, Failed> {
    serde_json::from_slice(&r.stdout).map_err(|e| format!("{e}: {}", r.out()).into())
}

fn verified_with_the_ses_event() -> Result<(), Failed> {
    let file = dir().join("inbound_email.json");
    let r = verify(&["--at", "2024-06-01T00:00:00Z", file.to_str().unwrap_or_default()], b"");
    ensure(r.code == 0, format!("exit {}: {}", r.code, r.stderr))?;
    let v = json(&r)?;
    ensure(v["verified"] == true && v["message"]["Type"] == "Notification", r.out())?;
    ensure(v["message"]["TopicArn"] == "arn:aws:sns:eu-west-1:111111111111:example-topic", r.out())?;
    ensure(v["ses_event"]["eventType"] == "Received", r.out())?;
    ensure(v["ses_event"]["mail"]["destination"][0] == "recipient@example.com", r.out())?;
    // From standard input, as text.
    let body = std::fs::read(dir().join("valid_signature.json")).map_err(|e| e.to_string())?;
    let r = verify(
        &["--at", "2024-06-01T00:00:00Z", "--allow-topic", "arn:aws:sns:eu-west-1:111111111111:example-topic"],
        &body,
    );
    let r2 = cirrus(
        &[
            "--output",
            "text",
            "sns",
            "verify",
            "--cert",
            dir().join("certificate.pem").to_str().unwrap_or_default(),
            "--at",
            "2024-06-01T00:00:00Z",
            "-",
        ],
        &[],
        &body,
    );
    ensure(r.code == 0 && json(&r)?["message"]["Type"] == "SubscriptionConfirmation", r.out())?;
    ensure(r2.code == 0 && r2.out().starts_with("verified\tSubscriptionConfirmation\t"), r2.out())
}

fn refusals_name_the_check() -> Result<(), Failed> {
    let at = ["--at", "2024-06-01T00:00:00Z"];
    let valid = std::fs::read_to_string(dir().join("valid_signature.json")).map_err(|e| e.to_string())?;
    let invalid = std::fs::read(dir().join("invalid_signature.json")).map_err(|e| e.to_string())?;
    let spoofed = valid.replace(
        "https://sns.eu-west-1.amazonaws.com/Simple",
        "https://sns.eu-west-1.amazonaws.com.evil.example/Simple",
    );
    let tampered = valid.replace("example-topic. To confirm", "example-topic! To confirm");
    let cases: Vec<(Vec<&str>, Vec<u8>, &str)> = vec![
        (at.to_vec(), invalid, "signature"),
        (at.to_vec(), tampered.into_bytes(), "signature"),
        (at.to_vec(), spoofed.into_bytes(), "cert-url"),
        (vec!["--at", "2025-06-01T00:00:00Z"], valid.clone().into_bytes(), "cert-validity"),
        (
            vec!["--at", "2024-06-01T00:00:00Z", "--allow-topic", "arn:aws:sns:eu-west-1:111111111111:other"],
            valid.clone().into_bytes(),
            "topic",
        ),
        (vec!["--at", "2024-06-01T00:00:00Z", "--max-age", "3600"], valid.clone().into_bytes(), "age"),
        (at.to_vec(), b"not json".to_vec(), "format"),
    ];
    for (args, body, check) in cases {
        let r = verify(&args, &body);
        ensure(r.code == 1, format!("{check}: exit {} {}", r.code, r.stderr))?;
        ensure(json(&r)?["check"] == check, format!("{check}: {}", r.out()))?;
        ensure(r.stderr.starts_with(&format!("cirrus: SNS message refused ({check}): ")), r.stderr.clone())?;
    }
    // A certificate file that is not one PEM certificate: the same checks as a fetched one.
    let not_pem = std::env::temp_dir().join(format!("cirrus-cli-not-pem-{}", std::process::id()));
    std::fs::write(&not_pem, b"<html>certificate.pem</html>").map_err(|e| e.to_string())?;
    let r = cirrus(
        &["sns", "verify", "--cert", not_pem.to_str().unwrap_or_default(), "--at", "2024-06-01T00:00:00Z"],
        &[],
        valid.as_bytes(),
    );
    let _ = std::fs::remove_file(&not_pem);
    ensure(r.code == 1 && json(&r)?["check"] == "certificate", r.out())?;
    // Bad input: exit 2.
    for (args, words) in [
        (vec!["--at", "yesterday"], "--at \"yesterday\""),
        (vec!["/nonexistent/message.json"], "the message /nonexistent/message.json"),
        (vec!["--max-age", "18446744073709551616"], "--max-age"),
        (vec!["--max-age", "315360001"], "1..=315360000"),
        (vec!["--max-age", "0"], "1..=315360000"),
    ] {
        let r = verify(&args, valid.as_bytes());
        ensure(r.code == 2 && r.stderr.contains(words), format!("{args:?}: exit {} {}", r.code, r.stderr))?;
    }
    Ok(())
}

fn publish_against_moto() -> Result<(), Failed> {
    let moto = std::env::var("CIRRUS_MOTO_URL")
        .map_err(|_| "CIRRUS_MOTO_URL is not set: moto server is not running (scripts/test starts it)")?;
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDCLISNS"),
        ("AWS_SECRET_ACCESS_KEY", "cli-sns-secret"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", moto.as_str()),
    ];
    let topic = format!("cli-topic-{}", std::process::id());
    let r = cirrus(
        &[
            "curl",
            "--service",
            "sns",
            "-H",
            "content-type: application/x-www-form-urlencoded",
            "-d",
            &format!("Action=CreateTopic&Version=2010-03-31&Name={topic}"),
            &format!("{moto}/"),
        ],
        &env,
        b"",
    );
    ensure(r.code == 0, format!("CreateTopic: {} {}", r.stderr, r.out()))?;
    let arn = format!("arn:aws:sns:us-east-1:123456789012:{topic}");
    let r = cirrus(&["sns", "publish", "--topic-arn", &arn, "--message", "hello", "--subject", "greeting"], &env, b"");
    ensure(r.code == 0, format!("publish: exit {} {}", r.code, r.stderr))?;
    ensure(json(&r)?["MessageId"].as_str().is_some_and(|id| !id.is_empty()), r.out())?;
    let missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic";
    let r = cirrus(&["sns", "publish", "--topic-arn", missing, "--message", "hello"], &env, b"");
    ensure(r.code == 1 && r.stderr.contains("SNS Publish") && r.stderr.contains("NotFound"), r.stderr)
}

/// A message or certificate file over its limit is refused from its size (sparse files: they
/// are never read).
fn oversized_files_are_refused_unread() -> Result<(), Failed> {
    let tmp = std::env::temp_dir();
    let (msg, cert) = (
        tmp.join(format!("cirrus-big-msg-{}", std::process::id())),
        tmp.join(format!("cirrus-big-cert-{}", std::process::id())),
    );
    std::fs::File::create(&msg).and_then(|f| f.set_len(512 << 20)).map_err(|e| e.to_string())?;
    std::fs::File::create(&cert).and_then(|f| f.set_len(64 << 10)).map_err(|e| e.to_string())?;
    let r = cirrus(&["sns", "verify", msg.to_str().unwrap_or("")], &[], b"");
    ensure(r.code == 2 && r.stderr.contains("536870912 bytes; at most 2097152"), r.stderr.clone())?;
    let ok_msg = dir().join("valid_signature.json");
    let r = cirrus(&["sns", "verify", "--cert", cert.to_str().unwrap_or(""), ok_msg.to_str().unwrap_or("")], &[], b"");
    ensure(r.code == 2 && r.stderr.contains("65536 bytes; at most 10240"), r.stderr.clone())?;
    let _ = (std::fs::remove_file(&msg), std::fs::remove_file(&cert));
    Ok(())
}

/// The certificate fetch goes through HTTPS_PROXY too. The proxy here wants credentials and is
/// given none, so it answers the CONNECT with 407 before looking anything up: the fetch is
/// refused naming the proxy, and the proxy's log shows the tunnel asked for.
fn certificate_fetch_goes_through_the_proxy() -> Result<(), Failed> {
    let proxy = std::env::var("CIRRUS_AUTH_PROXY_URL")
        .map_err(|_| "CIRRUS_AUTH_PROXY_URL is not set: scripts/test starts tinyproxy")?;
    let log = std::env::var("CIRRUS_AUTH_PROXY_LOG").map_err(|_| "CIRRUS_AUTH_PROXY_LOG is not set")?;
    let line = "CONNECT sns.eu-west-1.amazonaws.com:443";
    let count = || std::fs::read_to_string(&log).map(|t| t.matches(line).count()).unwrap_or(0);
    let before = count();
    let file = dir().join("inbound_email.json");
    let r = cirrus(
        &["sns", "verify", "--at", "2024-06-01T00:00:00Z", file.to_str().unwrap_or_default()],
        &[("HTTPS_PROXY", &proxy)],
        b"",
    );
    ensure(
        r.code == 1 && r.out().contains("asks for credentials"),
        format!("exit {}: {}{}", r.code, r.out(), r.stderr),
    )?;
    ensure(count() > before, format!("the proxy's log has no {line}"))
}

/// Through an https:// proxy (stunnel in front of tinyproxy): TLS to the proxy checked against
/// the CA bundle the other calls trust, then the tunnel asked for inside it (the proxy's log
/// shows it; tinyproxy cannot resolve SNS here, so its refusal ends the fetch). Without that
/// CA, the fetch stops at the proxy's certificate.
fn certificate_fetch_through_an_https_proxy() -> Result<(), Failed> {
    let proxy = std::env::var("CIRRUS_TLS_PROXY_URL")
        .map_err(|_| "CIRRUS_TLS_PROXY_URL is not set: scripts/test starts stunnel in front of tinyproxy")?;
    let ca = std::env::var("CIRRUS_TLS_CA").map_err(|_| "CIRRUS_TLS_CA is not set")?;
    let log = std::env::var("CIRRUS_PROXY_LOG").map_err(|_| "CIRRUS_PROXY_LOG is not set")?;
    let line = "CONNECT sns.eu-west-1.amazonaws.com:443";
    let count = || std::fs::read_to_string(&log).map(|t| t.matches(line).count()).unwrap_or(0);
    let file = dir().join("inbound_email.json");
    let args = ["sns", "verify", "--at", "2024-06-01T00:00:00Z", file.to_str().unwrap_or_default()];
    let before = count();
    let r = cirrus(&args, &[("HTTPS_PROXY", &proxy), ("AWS_CA_BUNDLE", &ca)], b"");
    let said = format!("exit {}: {}{}", r.code, r.out(), r.stderr);
    ensure(r.code == 1 && r.out().contains("the proxy refused the CONNECT tunnel"), said.clone())?;
    ensure(!said.contains("not supported"), said)?;
    ensure(count() > before, format!("the proxy's log has no {line}"))?;
    let r = cirrus(&args, &[("HTTPS_PROXY", &proxy)], b"");
    ensure(r.code == 1 && r.out().contains("TLS to the proxy"), format!("exit {}: {}{}", r.code, r.out(), r.stderr))
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("sns::certificate_fetch_goes_through_the_proxy", certificate_fetch_goes_through_the_proxy),
        Trial::test("sns::certificate_fetch_through_an_https_proxy", certificate_fetch_through_an_https_proxy),
        Trial::test("sns::verify_prints_the_message_and_the_ses_event", verified_with_the_ses_event),
        Trial::test("sns::verify_refusals_exit_1_naming_the_check", refusals_name_the_check),
        Trial::test("sns::publish_against_moto", publish_against_moto),
        Trial::test("sns::oversized_files_are_refused_unread", oversized_files_are_refused_unread),
    ]
}
