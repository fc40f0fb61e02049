//! SNS: the client against moto (what it received read back from `/moto-api/data.json`), webhook
//! verification with certificates made here (a test CA, rcgen, over a fixed RSA key), the
//! synthetic messages of `testdata/sns` with their certificate, a loopback HTTPS
//! certificate server that shows the cache at work, and the typed SES events.

use crate::common::{block_on, ctx_with, testdata, trial, Loopback, Reply};
use crate::ensure;
use cirrus::credentials::StaticCredentials;
use cirrus::loader::{ConfigLoader, CredentialsChoice};
use cirrus::sns::{
    AttributeValue, BounceType, CertFetcher, Check, MessageType, PublishOptions, SesEvent, SesEventKind, SnsClient,
    Verifier,
};
use libtest_mimic::Trial;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

const HOST: &str = "sns.us-east-1.amazonaws.com";
const CERT_URL: &str = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:orders";
/// The messages are dated 2026-03-01T12:00:00Z; the test certificate runs 2026-01-01 to 2027-01-01.
const SENT: &str = "2026-03-01T12:00:00.000Z";

fn at(s: &str) -> SystemTime {
    cirrus::sigv4::parse_rfc3339(s).expect("a test time")
}

/// The test PKI: a CA, the SNS signing certificate (RSA, the fixed key), a TLS certificate for
/// the SNS host.
struct Pki {
    ca_der: Vec<u8>,
    ca_pem: String,
    signing_pem: String,
    tls: Arc<rustls::ServerConfig>,
}

const SIGNING_KEY: &str = include_str!("data/sns-signing-key.pem");

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name = DistinguishedName::new();
        ca.distinguished_name.push(DnType::CommonName, "cirrus test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);

        let mut signing = CertificateParams::new(vec![HOST.to_owned()]).unwrap();
        signing.distinguished_name.push(DnType::CommonName, HOST);
        signing.not_before = rcgen::date_time_ymd(2026, 1, 1);
        signing.not_after = rcgen::date_time_ymd(2027, 1, 1);
        let signing_key = KeyPair::from_pem(SIGNING_KEY).unwrap();
        let signing_cert = signing.signed_by(&signing_key, &issuer).unwrap();

        let tls_key = KeyPair::generate().unwrap();
        let tls_cert = CertificateParams::new(vec![HOST.to_owned()]).unwrap().signed_by(&tls_key, &issuer).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::try_from(tls_key.serialize_der()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![tls_cert.der().clone(), ca_cert.der().clone()], key)
            .unwrap();
        Pki {
            ca_der: ca_cert.der().to_vec(),
            ca_pem: ca_cert.pem(),
            signing_pem: signing_cert.pem(),
            tls: Arc::new(tls),
        }
    })
}

/// The string to sign, written out here from AWS's documentation (not the library's).
fn string_to_sign(fields: &serde_json::Map<String, serde_json::Value>) -> String {
    let kind = fields["Type"].as_str().unwrap();
    let names: &[&str] = if kind == "Notification" {
        &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    } else {
        &["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    };
    let mut s = String::new();
    for n in names {
        if let Some(v) = fields.get(*n).and_then(|v| v.as_str()) {
            s.push_str(&format!("{n}\n{v}\n"));
        }
    }
    s
}

fn sign(data: &[u8], version: u8) -> String {
    use base64ct::Encoding;
    let sig = if version == 1 {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::signature::{SignatureEncoding, Signer};
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(SIGNING_KEY).unwrap();
        rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(key).sign(data).to_vec()
    } else {
        let pem = SIGNING_KEY.lines().filter(|l| !l.starts_with("-----")).collect::<String>();
        let der = base64ct::Base64::decode_vec(&pem).unwrap();
        let key = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
        let mut sig = vec![0; key.public().modulus_len()];
        key.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), data, &mut sig).unwrap();
        sig
    };
    base64ct::Base64::encode_string(&sig)
}

/// An unsigned message of this type with the usual fields.
fn fields(kind: MessageType) -> serde_json::Map<String, serde_json::Value> {
    let mut v = serde_json::json!({
        "Type": kind.as_str(),
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC,
        "Timestamp": SENT,
        "SigningCertURL": CERT_URL,
    });
    match kind {
        MessageType::Notification => {
            v["Subject"] = "Order shipped".into();
            v["Message"] = "{\"order\": 42, \"note\": \"line one\\nline two ✓\"}".into();
            v["UnsubscribeURL"] = format!(
                "https://{HOST}/?Action=Unsubscribe&SubscriptionArn={TOPIC}:0f7d5ba1-5d5b-4c4a-b0a9-1f9c1a1b2c3d"
            )
            .into();
        }
        _ => {
            v["Message"] = format!("You have chosen to subscribe to the topic {TOPIC}.").into();
            v["Token"] = "2336412f37fb687f5d51e6e2425dacbbab2e7d8a00d2a5c4a0e1".into();
            v["SubscribeURL"] =
                format!("https://{HOST}/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f37fb687f5d51")
                    .into();
        }
    }
    v.as_object().unwrap().clone()
}

/// Signs `f` (after `edit_signed`, before `edit_after`) and returns the JSON body.
fn signed(
    mut f: serde_json::Map<String, serde_json::Value>,
    version: u8,
) -> serde_json::Map<String, serde_json::Value> {
    let sig = sign(string_to_sign(&f).as_bytes(), version);
    f.insert("SignatureVersion".into(), version.to_string().into());
    f.insert("Signature".into(), sig.into());
    f
}

fn body(f: &serde_json::Map<String, serde_json::Value>) -> Vec<u8> {
    serde_json::to_vec(f).unwrap()
}

fn check_with_cert(body: &[u8], verifier: &Verifier) -> Result<cirrus::sns::Message, cirrus::sns::VerifyError> {
    verifier.verify_with_certificate(body, pki().signing_pem.as_bytes(), at(SENT))
}

fn refused(body: &[u8], verifier: &Verifier, want: Check, words: &str) -> Result<(), String> {
    match check_with_cert(body, verifier) {
        Ok(_) => Err(format!("accepted, but should fail the {} check", want.as_str())),
        Err(e) if e.check() == want && e.reason().contains(words) => Ok(()),
        Err(e) => Err(format!("refused for the wrong reason: {e} (wanted {} with {words:?})", want.as_str())),
    }
}

/// A message of `kind` with `field` set to `value`, signed: refused by `want` with `words`.
fn refused_with(kind: MessageType, field: &str, value: &str, want: Check, words: &str) -> Result<(), String> {
    let mut f = fields(kind);
    f.insert(field.into(), value.into());
    refused(&body(&signed(f, 2)), &Verifier::new(), want, words).map_err(|e| format!("{field} {value}: {e}"))
}

const KINDS: [MessageType; 3] =
    [MessageType::Notification, MessageType::SubscriptionConfirmation, MessageType::UnsubscribeConfirmation];

fn verification_trials() -> Vec<Trial> {
    let mut t = Vec::new();
    for kind in KINDS {
        for version in [1u8, 2] {
            t.push(trial(format!("sns::verify::valid_{}_v{version}", kind.as_str()), move || {
                let f = signed(fields(kind), version);
                let m = check_with_cert(&body(&f), &Verifier::new()).map_err(|e| e.to_string())?;
                ensure!(m.kind == kind && m.topic_arn == TOPIC && m.message == f["Message"], "{m:?}");
                ensure!(m.token.is_some() == (kind != MessageType::Notification), "token {:?}", m.token);
                Ok(())
            }));
            // Every signed field matters.
            t.push(trial(format!("sns::verify::tampered_{}_v{version}", kind.as_str()), move || {
                let f = signed(fields(kind), version);
                let signed_names: Vec<String> = f
                    .keys()
                    .filter(|k| string_to_sign(&fields(kind)).contains(&format!("{k}\n")) && *k != "Type")
                    .cloned()
                    .collect();
                ensure!(signed_names.len() >= 4, "{signed_names:?}");
                for name in signed_names {
                    let mut g = f.clone();
                    let v = g[&name].as_str().unwrap().to_owned();
                    // Keep URLs valid so the signature is what fails.
                    let changed = if v.starts_with("https://") { format!("{v}0") } else { format!("{v}x") };
                    g.insert(name.clone(), changed.into());
                    refused(&body(&g), &Verifier::new(), Check::Signature, "does not match")
                        .map_err(|e| format!("{name}: {e}"))?;
                }
                // Type is signed too: a Notification replayed as the other kinds fails.
                let mut g = f.clone();
                let other = if kind == MessageType::UnsubscribeConfirmation {
                    "SubscriptionConfirmation"
                } else {
                    "UnsubscribeConfirmation"
                };
                if kind != MessageType::Notification {
                    g.insert("Type".into(), other.into());
                    refused(&body(&g), &Verifier::new(), Check::Signature, "does not match")?;
                }
                Ok(())
            }));
        }
    }
    t.push(trial("sns::verify::unsigned_fields_may_change_signed_subject_may_not_be_dropped", || {
        let f = signed(fields(MessageType::Notification), 2);
        let mut g = f.clone();
        g.insert("MessageAttributes".into(), serde_json::json!({"k": {"Type": "String", "Value": "v"}}));
        let m = check_with_cert(&body(&g), &Verifier::new()).map_err(|e| e.to_string())?;
        ensure!(m.message_attributes.is_some(), "attributes kept");
        let mut g = f.clone();
        g.remove("Subject");
        refused(&body(&g), &Verifier::new(), Check::Signature, "SHA256withRSA")
    }));
    t.push(trial("sns::verify::a_256_kib_message_that_escapes_large_passes", || {
        // 256 KiB of control characters, quotes and backslashes: over 1 MiB once escaped as JSON.
        let mut f = fields(MessageType::Notification);
        f.insert("Message".into(), "\u{1}\"\\\u{2}".repeat(64 * 1024).into());
        let b = body(&signed(f, 2));
        ensure!(b.len() > 1024 * 1024, "only {} bytes", b.len());
        check_with_cert(&b, &Verifier::new()).map(drop).map_err(|e| e.to_string())
    }));
    t.push(trial("sns::verify::lambda_style_names_and_null_subject", || {
        let mut f = fields(MessageType::Notification);
        f.remove("Subject");
        let mut f = signed(f, 1);
        let url = f.remove("SigningCertURL").unwrap();
        f.insert("SigningCertUrl".into(), url);
        let unsub = f.remove("UnsubscribeURL").unwrap();
        f.insert("UnsubscribeUrl".into(), unsub);
        f.insert("Subject".into(), serde_json::Value::Null);
        let event = serde_json::json!({ "Records": [{ "EventSource": "aws:sns", "Sns": f }] });
        let m = check_with_cert(&serde_json::to_vec(&event).unwrap(), &Verifier::new()).map_err(|e| e.to_string())?;
        ensure!(m.subject.is_none() && m.unsubscribe_url.is_some() && m.signing_cert_url == CERT_URL, "{m:?}");
        // The record alone also works.
        let record = serde_json::json!({ "Sns": f });
        check_with_cert(&serde_json::to_vec(&record).unwrap(), &Verifier::new()).map_err(|e| e.to_string())?;
        Ok(())
    }));
    t.push(trial("sns::verify::signature_versions_swapped_3_and_others_refused", || {
        let v1 = signed(fields(MessageType::Notification), 1);
        let mut g = v1.clone();
        g.insert("SignatureVersion".into(), "2".into());
        refused(&body(&g), &Verifier::new(), Check::Signature, "SHA256withRSA")?;
        let mut g = signed(fields(MessageType::Notification), 2);
        g.insert("SignatureVersion".into(), "1".into());
        refused(&body(&g), &Verifier::new(), Check::Signature, "SHA1withRSA")?;
        for bad in ["3", "0", "", "1.0", " 1"] {
            let mut g = v1.clone();
            g.insert("SignatureVersion".into(), bad.into());
            refused(&body(&g), &Verifier::new(), Check::SignatureVersion, "only 1")?;
        }
        let mut g = v1.clone();
        g.insert("SignatureVersion".into(), 1.into());
        refused(&body(&g), &Verifier::new(), Check::Format, "SignatureVersion is not a string")?;
        let mut g = v1.clone();
        g.insert("Signature".into(), "not base64!".into());
        refused(&body(&g), &Verifier::new(), Check::Signature, "not base64")
    }));
    t.push(trial("sns::verify::spoofed_certificate_urls", || {
        let bad = [
            ("http://sns.us-east-1.amazonaws.com/cert.pem", "not https"),
            ("HTTPS://sns.us-east-1.amazonaws.com/cert.pem", "not https"),
            ("https://sns.us-east-1.amazonaws.com.evil.com/cert.pem", "is not sns."),
            ("https://evil.com/sns.us-east-1.amazonaws.com/cert.pem", "is not sns."),
            ("https://sns.us-east-1.amazonaws.com@evil.com/cert.pem", "user info"),
            ("https://evil.com@sns.us-east-1.amazonaws.com/cert.pem", "user info"),
            ("https://sns.us-east-1.amazonaws.com:8443/cert.pem", "port"),
            ("https://sns.us-east-1.amazonaws.com:443/cert.pem", "port"),
            ("https://sns.us-east-1.amazonaws.com/cert?.pem", "query"),
            ("https://sns.us-east-1.amazonaws.com/cert.pem?x=1", "query"),
            ("https://sns.us-east-1.amazonaws.com/cert.pem#x", "fragment"),
            ("https://sns.us-east-1.amazonaws.com/?x=cert.pem", "query"),
            ("https://sns.us-east-1.amazonaws.com/cert.txt", "does not end in .pem"),
            ("https://sns.us-east-1.amazonaws.com", "no path"),
            ("https://sns.us-east-1.amazonaws.com/%2e%2e/cert.pem", "characters or segments"),
            ("https://sns.us-east-1.amazonaws.com/../cert.pem", "characters or segments"),
            ("https://sns.us-east-1.amazonaws.com//evil.com/cert.pem", "characters or segments"),
            ("https://sns.us-east-1.amazonaws.com\\@evil.com/cert.pem", "user info"),
            ("https://snsXus-east-1.amazonaws.com/cert.pem", "is not sns."),
            ("https://sns.us-east-1.evilamazonaws.com/cert.pem", "is not sns."),
            ("https://mysns.us-east-1.amazonaws.com/cert.pem", "is not sns."),
            ("https://sns.amazonaws.com/cert.pem", "is not sns."),
            ("https://sns.evil.com.us-east-1.amazonaws.com/cert.pem", "is not sns."),
            ("https://SNS.us-east-1.amazonaws.com/cert.pem", "is not sns."),
            ("https://sns.us-east-1.amazonaws.co/cert.pem", "is not sns."),
            ("https://s3.amazonaws.com/cert.pem", "is not sns."),
            ("https://sns.us-east-1.amazonaws.com.cn.evil.com/cert.pem", "is not sns."),
            ("https://sns.-.amazonaws.com/cert.pem", "is not sns."),
            (" https://sns.us-east-1.amazonaws.com/cert.pem", "not https"),
        ];
        for (url, words) in bad {
            refused_with(MessageType::Notification, "SigningCertURL", url, Check::CertUrl, words)?;
        }
        for good in [
            "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
            "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
        ] {
            cirrus::sns::check_cert_url(good).map_err(|e| format!("{good}: {e}"))?;
        }
        Ok(())
    }));
    t.push(trial("sns::verify::subscribe_url_only_https_on_the_certificate_host", || {
        let bad = [
            ("http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription", "not https"),
            ("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription", "not the certificate's host"),
            ("https://evil.example/?Action=ConfirmSubscription", "is not sns."),
            ("https://169.254.169.254/latest/meta-data/", "is not sns."),
            ("https://sns.us-east-1.amazonaws.com@169.254.169.254/", "user info"),
            ("https://sns.us-east-1.amazonaws.com:8080/?Action=ConfirmSubscription", "port"),
            ("https://sns.us-east-1.amazonaws.com/admin?Action=ConfirmSubscription", "expected https://"),
        ];
        for (url, words) in bad {
            refused_with(MessageType::SubscriptionConfirmation, "SubscribeURL", url, Check::SubscribeUrl, words)?;
        }
        Ok(())
    }));
    t.push(trial("sns::verify::certificate_bodies_other_than_one_pem_certificate", || {
        let f = body(&signed(fields(MessageType::Notification), 2));
        let pem = pki().signing_pem.clone();
        let der = {
            use base64ct::Encoding;
            let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            base64ct::Base64::decode_vec(&b64).unwrap()
        };
        let cases: Vec<(String, Vec<u8>, &str)> = vec![
            ("DER".into(), der, "not text"),
            ("html".into(), format!("<html><body>{pem}</body></html>").into_bytes(), "not exactly one PEM"),
            ("trailing".into(), format!("{pem}\nextra").into_bytes(), "not exactly one PEM"),
            ("two".into(), format!("{pem}{}", pki().ca_pem).into_bytes(), "not exactly one PEM"),
            ("key".into(), format!("{SIGNING_KEY}{pem}").into_bytes(), "not exactly one PEM"),
            ("empty".into(), Vec::new(), "not exactly one PEM"),
            ("broken base64".into(), pem.replacen("MII", "M*I", 1).into_bytes(), "not a valid certificate"),
            ("oversized".into(), format!("{pem}{}", " ".repeat(11 * 1024)).into_bytes(), "at most 10240"),
            ("ECDSA key".into(), pki().ca_pem.clone().into_bytes(), "not RSA"),
        ];
        for (name, cert, words) in cases {
            match Verifier::new().verify_with_certificate(&f, &cert, at(SENT)) {
                Err(e) if e.check() == Check::Certificate && e.reason().contains(words) => {}
                other => return Err(format!("{name}: {other:?}")),
            }
        }
        // Surrounding whitespace (a trailing newline) is fine.
        Verifier::new()
            .verify_with_certificate(&f, format!("\n{pem}\n\n").as_bytes(), at(SENT))
            .map_err(|e| e.to_string())?;
        // Another RSA certificate: the signature does not match.
        let other = std::fs::read(testdata().join("sns/synthetic/certificate.pem")).map_err(|e| e.to_string())?;
        match Verifier::new().verify_with_certificate(&f, &other, at("2024-06-01T00:00:00Z")) {
            Err(e) if e.check() == Check::Signature => Ok(()),
            other => Err(format!("another certificate: {other:?}")),
        }
    }));
    t.push(trial("sns::verify::certificate_validity_at_the_time_of_the_check", || {
        let f = body(&signed(fields(MessageType::Notification), 2));
        let pem = pki().signing_pem.as_bytes();
        for when in ["2025-12-31T23:59:59Z", "2027-01-01T00:00:01Z"] {
            match Verifier::new().verify_with_certificate(&f, pem, at(when)) {
                Err(e) if e.check() == Check::CertValidity && e.reason().contains(when) => {}
                other => return Err(format!("{when}: {other:?}")),
            }
        }
        Verifier::new()
            .verify_with_certificate(&f, pem, at("2026-12-31T23:00:00Z"))
            .map(drop)
            .map_err(|e| e.to_string())
    }));
    t.push(trial("sns::verify::topic_allow_list_and_maximum_age", || {
        let f = body(&signed(fields(MessageType::Notification), 2));
        let pem = pki().signing_pem.as_bytes();
        let v = Verifier::new().allow_topics(["arn:aws:sns:us-east-1:123456789012:other"]);
        refused(&f, &v, Check::Topic, "not on the allow-list")?;
        let v = Verifier::new().allow_topics([TOPIC]).max_age(Duration::from_secs(300));
        v.verify_with_certificate(&f, pem, at("2026-03-01T12:04:00Z")).map_err(|e| e.to_string())?;
        match v.verify_with_certificate(&f, pem, at("2026-03-01T12:06:00Z")) {
            Err(e) if e.check() == Check::Age && e.reason().contains("360s old") => {}
            other => return Err(format!("too old: {other:?}")),
        }
        match v.verify_with_certificate(&f, pem, at("2026-03-01T11:50:00Z")) {
            Err(e) if e.check() == Check::Age && e.reason().contains("future") => Ok(()),
            other => Err(format!("from the future: {other:?}")),
        }
    }));
    t.push(trial("sns::verify::malformed_bodies_say_what", || {
        let cases: &[(&[u8], &str)] = &[
            (b"", "not JSON"),
            (b"[1,2]", "not a JSON object"),
            (b"{\"Type\":\"Notification\"", "not JSON"),
            (b"{\"Type\":\"Other\",\"SignatureVersion\":\"1\"}", "unknown Type"),
            (b"{\"Records\":[]}", "exactly one record"),
            (b"{\"Type\":\"Notification\",\"SignatureVersion\":\"1\",\"Signature\":\"AAAA\"}", "MessageId is missing"),
        ];
        for (b, words) in cases {
            refused(b, &Verifier::new(), Check::Format, words)?;
        }
        let huge = vec![b' '; cirrus::sns::MAX_BODY_BYTES + 1];
        refused(&huge, &Verifier::new(), Check::Format, "at most")
    }));
    t
}

/// The synthetic messages of `testdata/sns` (made with their own certificate, valid
/// 2024-05-15 to 2025-05-15; the messages are dated 2020, so no maximum age).
fn testdata_trials() -> Vec<Trial> {
    let dir = testdata().join("sns/synthetic");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".json"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let n = names.len();
    let mut t = vec![trial("sns::testdata::complete", move || {
        ensure!(n >= 6, "only {n} messages in sns/synthetic");
        Ok(())
    })];
    for name in names {
        let dir = dir.clone();
        t.push(trial(format!("sns::testdata::{}", name.trim_end_matches(".json")), move || {
            let b = std::fs::read(dir.join(&name)).map_err(|e| e.to_string())?;
            let cert = std::fs::read(dir.join("certificate.pem")).map_err(|e| e.to_string())?;
            let r = Verifier::new().verify_with_certificate(&b, &cert, at("2024-06-01T00:00:00Z"));
            if name.starts_with("invalid") {
                return match r {
                    Err(e) if e.check() == Check::Signature => Ok(()),
                    other => Err(format!("should fail the signature check: {other:?}")),
                };
            }
            let m = r.map_err(|e| e.to_string())?;
            if name.starts_with("inbound_email") {
                let event = SesEvent::from_message(&m.message)?;
                ensure!(matches!(event.kind, SesEventKind::Received { .. }), "{:?}", event.kind);
                ensure!(event.mail.destination == ["recipient@example.com"], "{:?}", event.mail.destination);
            }
            // The same message, out of the certificate's validity: refused for that.
            match Verifier::new().verify_with_certificate(&b, &cert, at("2025-06-01T00:00:00Z")) {
                Err(e) if e.check() == Check::CertValidity => Ok(()),
                other => Err(format!("after the certificate expired: {other:?}")),
            }
        }));
    }
    t
}

/// A fetcher that trusts the test CA and sends every connection to the loopback server.
fn loopback_fetcher(server: &Loopback) -> CertFetcher {
    CertFetcher::new()
        .with_root_certificates([pki().ca_der.as_slice()])
        .unwrap()
        .connect_to(([127, 0, 0, 1], server.port).into())
        .timeout(Duration::from_secs(5))
}

fn fetch_trials() -> Vec<Trial> {
    vec![
        trial("sns::fetch::many_messages_one_certificate_fetch", || {
            block_on(async {
                let pem = pki().signing_pem.clone();
                let server = Loopback::start_tls(pki().tls.clone(), move |_, seen| {
                    if seen.target.ends_with(".pem") {
                        Reply::ok(pem.clone())
                    } else {
                        Reply::status(404, "no")
                    }
                })
                .await;
                let v = Verifier::new().fetcher(loopback_fetcher(&server));
                // 20 at once (they wait for one fetch), then 30 more one by one.
                let mut tasks = Vec::new();
                for i in 0..20 {
                    let v = v.clone();
                    let mut f = fields(MessageType::Notification);
                    f.insert("MessageId".into(), format!("m-{i}").into());
                    let b = body(&signed(f, if i % 2 == 0 { 1 } else { 2 }));
                    tasks.push(tokio::spawn(async move { v.verify_at(&b, at(SENT)).await }));
                }
                for t in tasks {
                    t.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
                }
                for i in 0..30 {
                    let mut f = fields(MessageType::SubscriptionConfirmation);
                    f.insert("MessageId".into(), format!("n-{i}").into());
                    v.verify_at(&body(&signed(f, 2)), at(SENT)).await.map_err(|e| e.to_string())?;
                }
                let seen = server.requests();
                ensure!(seen.len() == 1, "{} fetches for 50 messages", seen.len());
                ensure!(seen[0].target.starts_with("/SimpleNotificationService-"), "{}", seen[0].target);
                ensure!(seen[0].header("host") == Some(HOST), "{:?}", seen[0].header("host"));
                // A zero time-to-live fetches again.
                let v = Verifier::new().fetcher(loopback_fetcher(&server)).cache(4, Duration::ZERO);
                for _ in 0..3 {
                    v.verify_at(&body(&signed(fields(MessageType::Notification), 2)), at(SENT))
                        .await
                        .map_err(|e| e.to_string())?;
                }
                ensure!(server.count() == 4, "{} fetches; a zero TTL should fetch every time", server.count());
                Ok(())
            })
        }),
        trial("sns::fetch::bad_answers_are_refused_and_not_cached", || {
            block_on(async {
                let pem = pki().signing_pem.clone();
                let server = Loopback::start_tls(pki().tls.clone(), move |i, _| match i {
                    0 => Reply::status(404, "not here"),
                    1 => Reply::ok(vec![b'A'; 64 * 1024]),
                    2 => Reply::ok(format!("<html>{pem}</html>")),
                    3 => Reply::status(301, "").with_header("location", "https://evil.example/cert.pem"),
                    _ => Reply::ok(pem.clone()),
                })
                .await;
                let v = Verifier::new().fetcher(loopback_fetcher(&server));
                let b = body(&signed(fields(MessageType::Notification), 2));
                let want = [
                    (Check::CertFetch, "HTTP 404"),
                    (Check::Certificate, "larger than 10240"),
                    (Check::Certificate, "not exactly one PEM"),
                    (Check::CertFetch, "redirects are not followed"),
                ];
                for (check, words) in want {
                    match v.verify_at(&b, at(SENT)).await {
                        Err(e) if e.check() == check && e.reason().contains(words) => {}
                        other => return Err(format!("wanted {} {words:?}: {other:?}", check.as_str())),
                    }
                }
                // Failures were not cached: the fifth fetch succeeds.
                v.verify_at(&b, at(SENT)).await.map_err(|e| e.to_string())?;
                ensure!(server.count() == 5, "{} fetches", server.count());
                // A server the fetcher does not trust: TLS refuses it.
                let untrusting = CertFetcher::new().connect_to(([127, 0, 0, 1], server.port).into());
                match Verifier::new().fetcher(untrusting).verify_at(&b, at(SENT)).await {
                    Err(e) if e.check() == Check::CertFetch && e.reason().contains("TLS") => Ok(()),
                    other => Err(format!("untrusted server: {other:?}")),
                }
            })
        }),
        trial("sns::fetch::confirm_subscription_visits_the_subscribe_url", || {
            block_on(async {
                let pem = pki().signing_pem.clone();
                let server = Loopback::start_tls(pki().tls.clone(), move |_, seen| {
                    if seen.target.ends_with(".pem") {
                        Reply::ok(pem.clone())
                    } else if seen.target.starts_with("/?Action=ConfirmSubscription") {
                        Reply::ok(format!(
                            "<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>{TOPIC}:sub-1</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>"
                        ))
                    } else {
                        Reply::status(404, "")
                    }
                })
                .await;
                let v = Verifier::new().fetcher(loopback_fetcher(&server));
                let m = v
                    .verify_at(&body(&signed(fields(MessageType::SubscriptionConfirmation), 2)), at(SENT))
                    .await
                    .map_err(|e| e.to_string())?;
                let arn = v.confirm_subscription(&m).await.map_err(|e| e.to_string())?;
                ensure!(arn == format!("{TOPIC}:sub-1"), "{arn}");
                let last = server.requests().pop().ok_or("no request")?;
                ensure!(last.target.contains("Token=2336412f37fb687f5d51"), "{}", last.target);
                // A notification has nothing to confirm.
                let n = v
                    .verify_at(&body(&signed(fields(MessageType::Notification), 2)), at(SENT))
                    .await
                    .map_err(|e| e.to_string())?;
                ensure!(v.confirm_subscription(&n).await.is_err(), "a notification was 'confirmed'");
                Ok(())
            })
        }),
    ]
}

/// One sample per SES event type, shaped as in AWS's documentation.
fn ses_event_trials() -> Vec<Trial> {
    let mail = r#""mail":{"timestamp":"2026-03-01T12:00:00.000Z","source":"Ops <ops@example.com>","sourceArn":"arn:aws:ses:us-east-1:123456789012:identity/example.com","sendingAccountId":"123456789012","messageId":"0100018e-abc","destination":["ann@example.com"],"headersTruncated":false,"headers":[{"name":"Subject","value":"Hi"}],"commonHeaders":{"subject":"Hi"},"tags":{"campaign":["october"],"ses:configuration-set":["newsletters"]}}"#;
    let cases: Vec<(&str, String)> = vec![
        (
            "Bounce",
            format!(
                r#"{{"eventType":"Bounce","bounce":{{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{{"emailAddress":"ann@example.com","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}}],"timestamp":"2026-03-01T12:00:01.000Z","feedbackId":"f-1","reportingMTA":"dsn; a.example.com"}},{mail}}}"#
            ),
        ),
        (
            "Complaint",
            format!(
                r#"{{"eventType":"Complaint","complaint":{{"complainedRecipients":[{{"emailAddress":"ann@example.com"}}],"timestamp":"2026-03-01T12:00:01.000Z","feedbackId":"f-2","userAgent":"Mail","complaintFeedbackType":"abuse","arrivalDate":"2026-03-01T12:00:00.000Z"}},{mail}}}"#
            ),
        ),
        (
            "Delivery",
            format!(
                r#"{{"eventType":"Delivery","delivery":{{"timestamp":"2026-03-01T12:00:01.000Z","processingTimeMillis":546,"recipients":["ann@example.com"],"smtpResponse":"250 ok","reportingMTA":"a.example.com","remoteMtaIp":"192.0.2.1"}},{mail}}}"#
            ),
        ),
        ("Send", format!(r#"{{"eventType":"Send","send":{{}},{mail}}}"#)),
        ("Reject", format!(r#"{{"eventType":"Reject","reject":{{"reason":"Bad content"}},{mail}}}"#)),
        (
            "Open",
            format!(
                r#"{{"eventType":"Open","open":{{"ipAddress":"192.0.2.1","timestamp":"2026-03-01T12:00:05.000Z","userAgent":"Mozilla/5.0"}},{mail}}}"#
            ),
        ),
        (
            "Click",
            format!(
                r#"{{"eventType":"Click","click":{{"ipAddress":"192.0.2.1","timestamp":"2026-03-01T12:00:06.000Z","userAgent":"Mozilla/5.0","link":"https://example.com/a","linkTags":{{"section":["top"]}}}},{mail}}}"#
            ),
        ),
        (
            "DeliveryDelay",
            format!(
                r#"{{"eventType":"DeliveryDelay","deliveryDelay":{{"delayType":"MailboxFull","delayedRecipients":[{{"emailAddress":"ann@example.com","status":"4.2.2","diagnosticCode":"452 full"}}],"expirationTime":"2026-03-02T12:00:00.000Z","reportingMTA":"a.example.com","timestamp":"2026-03-01T12:10:00.000Z"}},{mail}}}"#
            ),
        ),
        (
            "Subscription",
            format!(
                r#"{{"eventType":"Subscription","subscription":{{"contactList":"news","timestamp":"2026-03-01T12:00:07.000Z","source":"ann@example.com","newTopicPreferences":{{"unsubscribeAll":true}},"oldTopicPreferences":{{"unsubscribeAll":false}}}},{mail}}}"#
            ),
        ),
        (
            "Rendering Failure",
            format!(
                r#"{{"eventType":"Rendering Failure","failure":{{"templateName":"welcome","errorMessage":"Attribute 'name' is not present"}},{mail}}}"#
            ),
        ),
        (
            "notificationType Bounce",
            format!(
                r#"{{"notificationType":"Bounce","bounce":{{"bounceType":"Transient","bounceSubType":"MailboxFull","bouncedRecipients":[{{"emailAddress":"ann@example.com"}}],"timestamp":"2026-03-01T12:00:01.000Z","feedbackId":"f-3"}},{mail}}}"#
            ),
        ),
    ];
    let mut t = Vec::new();
    for (name, text) in cases {
        t.push(trial(format!("sns::ses_event::{}", name.replace(' ', "_")), move || {
            let e = SesEvent::from_message(&text)?;
            ensure!(e.mail.message_id == "0100018e-abc" && e.mail.tags["campaign"] == ["october"], "{:?}", e.mail);
            let ok = match (&e.kind, name) {
                (SesEventKind::Bounce(b), "Bounce") => {
                    b.bounce_type == BounceType::Permanent
                        && b.bounced_recipients[0].diagnostic_code.as_deref() == Some("smtp; 550 5.1.1 user unknown")
                        && b.reporting_mta.as_deref() == Some("dsn; a.example.com")
                }
                (SesEventKind::Bounce(b), "notificationType Bounce") => b.bounce_type == BounceType::Transient,
                (SesEventKind::Complaint(c), _) => c.complaint_feedback_type.as_deref() == Some("abuse"),
                (SesEventKind::Delivery(d), _) => d.processing_time_millis == 546 && d.smtp_response == "250 ok",
                (SesEventKind::Send, _) => true,
                (SesEventKind::Reject(r), _) => r.reason == "Bad content",
                (SesEventKind::Open(o), _) => o.ip_address == "192.0.2.1",
                (SesEventKind::Click(c), _) => c.link == "https://example.com/a" && c.link_tags["section"] == ["top"],
                (SesEventKind::DeliveryDelay(d), _) => d.delay_type == "MailboxFull",
                (SesEventKind::Subscription(s), _) => s.contact_list == "news",
                (SesEventKind::RenderingFailure(f), _) => f.template_name == "welcome",
                _ => false,
            };
            ensure!(ok, "{name}: {:?}", e.kind);
            // Back to JSON in SES's shape, and read again to the same event.
            let again = SesEvent::from_message(&e.to_json().to_string())?;
            ensure!(again == e, "{name}: the JSON form does not read back: {}", e.to_json());
            Ok(())
        }));
    }
    t.push(trial("sns::ses_event::not_an_event_or_broken", || {
        for (text, words) in [
            ("hello", "not JSON"),
            ("{\"order\":1}", "no eventType"),
            ("{\"eventType\":\"Bounce\"}", "no \"mail\""),
            ("{\"eventType\":\"Bounce\",\"mail\":{},\"bounce\":{\"bouncedRecipients\":5}}", "\"bounce\""),
            ("{\"eventType\":\"Teleport\",\"mail\":{}}", "unknown SES event type"),
        ] {
            match SesEvent::from_message(text) {
                Err(e) if e.to_string().contains(words) => {}
                other => return Err(format!("{text}: {other:?}")),
            }
        }
        Ok(())
    }));
    t
}

/// The moto server kept for read-back (its data.json lists what each topic was sent).
fn mail_moto() -> Result<String, String> {
    std::env::var("CIRRUS_MOTO_MAIL_URL").map_err(|_| {
        "CIRRUS_MOTO_MAIL_URL is not set: the second moto server is not running (scripts/test starts it)".into()
    })
}

fn client_trials() -> Vec<Trial> {
    vec![trial("sns::client::create_subscribe_publish_confirm_against_moto", || {
        let moto = mail_moto()?;
        let config = ConfigLoader::new(ctx_with(&[]))
            .region(Some("us-east-1"))
            .endpoint_url(Some(&moto))
            .credentials(CredentialsChoice::Provider(Arc::new(StaticCredentials::new("AKIDMOTO", "moto-secret", None))))
            .load()
            .map_err(|e| e.to_string())?;
        let sns = SnsClient::new(&config).map_err(|e| e.to_string())?;
        block_on(async {
            let name = format!("cirrus-{}", std::process::id());
            let arn = sns.create_topic(&name).await.map_err(|e| e.to_string())?;
            ensure!(arn == format!("arn:aws:sns:us-east-1:123456789012:{name}"), "{arn}");
            let sub = sns.subscribe(&arn, "email", "ann@example.com").await.map_err(|e| e.to_string())?;
            ensure!(sub.starts_with(&arn), "{sub}");
            let confirmed = sns.confirm_subscription(&arn, "token-from-the-email").await.map_err(|e| e.to_string())?;
            ensure!(confirmed.starts_with(&arn), "{confirmed}");
            let options = PublishOptions::subject("Grüße")
                .with_attribute("color", AttributeValue::String("red".into()))
                .with_attribute("count", AttributeValue::Number("3".into()))
                .with_attribute("blob", AttributeValue::Binary(vec![0, 1, 2, 255]));
            let id = sns.publish(&arn, "hello & goodbye ✓", &options).await.map_err(|e| e.to_string())?;
            ensure!(!id.is_empty(), "no message id");
            let e = sns.publish(&arn, "", &PublishOptions::default()).await.expect_err("empty message");
            ensure!(e.to_string().contains("SNS Publish") && e.to_string().contains("empty"), "{e}");
            let e = sns
                .publish("arn:aws:sns:us-east-1:123456789012:missing", "x", &PublishOptions::default())
                .await
                .expect_err("no such topic");
            ensure!(e.to_string().contains("SNS Publish") && e.to_string().contains("NotFound"), "{e}");

            let out = std::process::Command::new("curl")
                .args(["-sS", "-f", &format!("{moto}/moto-api/data.json")])
                .output()
                .map_err(|e| e.to_string())?;
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
            let topic = v["sns"]["Topic"]
                .as_array()
                .and_then(|ts| ts.iter().find(|t| t["arn"] == arn.as_str()))
                .ok_or("moto has no such topic")?;
            let sent = &topic["sent_notifications"][0];
            ensure!(sent[0] == id.as_str() && sent[1] == "hello & goodbye ✓" && sent[2] == "Grüße", "{sent}");
            ensure!(sent[3]["color"]["Value"] == "red" && sent[3]["count"]["Type"] == "Number", "{sent}");
            ensure!(sent[3]["blob"]["Type"] == "Binary", "{sent}");
            sns.delete_topic(&arn).await.map_err(|e| e.to_string())
        })
    })]
}

pub fn trials() -> Vec<Trial> {
    let mut t = verification_trials();
    t.extend(testdata_trials());
    t.extend(fetch_trials());
    t.extend(ses_event_trials());
    t.extend(client_trials());
    t
}
