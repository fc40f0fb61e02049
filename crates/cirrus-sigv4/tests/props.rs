//! Property tests: signing and parsing never panic on arbitrary input, and signing is a pure
//! function of its input.

use cirrus_sigv4::raw::RawRequest;
use cirrus_sigv4::{sign, Payload, SignableRequest, SigningParams, SigningSettings};
use proptest::prelude::*;
use std::time::{Duration, UNIX_EPOCH};

fn settings() -> impl Strategy<Value = SigningSettings> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>(), prop::option::of(0u64..700_000)).prop_map(
        |(normalize, double, sha, date, presign)| {
            let mut s = SigningSettings::default();
            s.normalize_path = normalize;
            s.double_encode_path = double;
            s.content_sha256_header = sha;
            s.use_date_header = date;
            match presign {
                Some(secs) => s.presigned(Duration::from_secs(secs)),
                None => s,
            }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn signing_arbitrary_parts_never_panics(
        method in "\\PC{0,8}",
        uri in "\\PC{0,64}",
        headers in prop::collection::vec(("\\PC{0,12}", "\\PC{0,24}"), 0..6),
        body in prop::collection::vec(any::<u8>(), 0..64),
        token in prop::option::of("\\PC{0,16}"),
        region in "\\PC{0,12}",
        service in "\\PC{0,12}",
        secs in 0u64..=u32::MAX as u64 * 4,
        settings in settings(),
    ) {
        let h: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        if let Ok(req) = SignableRequest::new(&method, &uri, h, Payload::Bytes(&body)) {
            let params = SigningParams::new("AKID", "secret", &region, &service, UNIX_EPOCH + Duration::from_secs(secs))
                .session_token(token.as_deref())
                .settings(settings);
            if let Ok(a) = sign(&req, &params) {
                let b = sign(&req, &params).unwrap();
                prop_assert_eq!(a.signature(), b.signature());
                prop_assert_eq!(a.signature().len(), 64);
                let _ = a.apply_to_uri(&uri);
            }
        }
    }

    #[test]
    fn raw_parser_never_panics(input in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = RawRequest::parse(&input);
    }

    #[test]
    fn raw_parser_round_trips_well_formed_requests(
        method in "[A-Z]{1,7}",
        path in "/[a-zA-Z0-9/._~%-]{0,30}",
        headers in prop::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,10}", "[ -~]{0,20}"), 0..5),
        body in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut text = format!("{method} {path} HTTP/1.1\r\nHost:h\r\n");
        for (n, v) in &headers {
            text.push_str(&format!("{n}:{v}\r\n"));
        }
        text.push_str("\r\n");
        let mut input = text.into_bytes();
        input.extend_from_slice(&body);
        let r = RawRequest::parse(&input).unwrap();
        prop_assert_eq!(r.method, method);
        prop_assert_eq!(r.target, path);
        prop_assert_eq!(r.body, body);
        prop_assert_eq!(r.headers.len(), headers.len() + 1);
    }
}

#[test]
fn presign_expiry_is_bounded() {
    let req = SignableRequest::new("GET", "/", [("host", "h")], Payload::Unsigned).unwrap();
    let p = |s| {
        SigningParams::new("A", "S", "r", "s3", UNIX_EPOCH)
            .settings(SigningSettings::s3().presigned(Duration::from_secs(s)))
    };
    assert!(sign(&req, &p(0)).unwrap_err().is_invalid_params());
    assert!(sign(&req, &p(604_801)).unwrap_err().is_invalid_params());
    assert!(sign(&req, &p(604_800)).is_ok());
}

#[test]
fn debug_output_redacts_secrets() {
    let params = SigningParams::new("AKID", "SECRETKEY", "r", "s", UNIX_EPOCH).session_token(Some("SESSIONTOKEN"));
    let s = format!("{params:?}");
    assert!(!s.contains("SECRETKEY") && !s.contains("SESSIONTOKEN"), "{s}");
    let req = SignableRequest::new("GET", "/", [("host", "h")], Payload::Unsigned).unwrap();
    let out = sign(&req, &params).unwrap();
    let s = format!("{out:?}");
    assert!(!s.contains("SESSIONTOKEN") && !s.contains("SECRETKEY"), "{s}");
}

#[test]
fn missing_host_is_an_error_not_a_panic() {
    let req = SignableRequest::new("GET", "/", [("x-a", "1")], Payload::Unsigned).unwrap();
    let params = SigningParams::new("A", "S", "r", "s", UNIX_EPOCH);
    assert!(sign(&req, &params).unwrap_err().is_missing_host());
    let req = SignableRequest::new("GET", "https://h.example/x", [], Payload::Unsigned).unwrap();
    assert!(sign(&req, &params).unwrap().canonical_request().contains("\nhost:h.example\n"));
}

#[test]
fn sign_request_applies_only_on_success() {
    let mut req = http::Request::get("https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15")
        .header("x-bad", http::HeaderValue::from_bytes(b"\xff").unwrap())
        .body(Vec::<u8>::new())
        .unwrap();
    let params = SigningParams::new("A", "S", "us-east-1", "sts", UNIX_EPOCH);
    assert!(cirrus_sigv4::sign_request(&mut req, &params).is_err());
    assert!(req.headers().get("authorization").is_none());
    req.headers_mut().remove("x-bad");
    let out = cirrus_sigv4::sign_request(&mut req, &params).unwrap();
    assert!(req.headers()["authorization"].is_sensitive());
    assert_eq!(req.headers()["x-amz-date"], "19700101T000000Z");
    assert!(out.canonical_request().starts_with("GET\n/\nAction=GetCallerIdentity&Version=2011-06-15\n"));
}

#[test]
fn presign_replaces_existing_params_whatever_their_case() {
    let req = SignableRequest::new("GET", "/k?x-amz-date=1&a=b", [("host", "h")], Payload::Unsigned).unwrap();
    let params = SigningParams::new("A", "S", "us-east-1", "s3", UNIX_EPOCH)
        .settings(SigningSettings::s3().presigned(Duration::from_secs(60)));
    let out = sign(&req, &params).unwrap();
    let uri = out.apply_to_uri("/k?x-amz-date=1&a=b");
    assert!(!uri.contains("x-amz-date=1"), "{uri}");
    assert!(!out.canonical_request().contains("x-amz-date=1"), "{}", out.canonical_request());
    assert!(uri.starts_with("/k?a=b&X-Amz-Algorithm="));
}

#[test]
fn header_signing_drops_an_old_token_it_does_not_cover() {
    let mut req = http::Request::get("https://h.example/")
        .header("x-amz-security-token", "OLD")
        .header("authorization", "stale")
        .body(Vec::<u8>::new())
        .unwrap();
    let params = SigningParams::new("A", "S", "us-east-1", "sts", UNIX_EPOCH);
    cirrus_sigv4::sign_request(&mut req, &params).unwrap();
    assert!(req.headers().get("x-amz-security-token").is_none());
    assert_eq!(req.headers().get_all("authorization").iter().count(), 1);
}

#[test]
fn presigned_post_debug_hides_the_token() {
    let form = cirrus_sigv4::post_policy::PostPolicy::builder(UNIX_EPOCH + Duration::from_secs(60))
        .bucket("b")
        .build()
        .unwrap()
        .sign("AKID", "SECRET", Some("SESSIONTOKEN"), "us-east-1", UNIX_EPOCH);
    let s = format!("{form:?}");
    assert!(!s.contains("SESSIONTOKEN") && !s.contains("SECRET\""), "{s}");
    assert!(form.fields.iter().any(|(k, v)| k == "x-amz-security-token" && v == "SESSIONTOKEN"));
}

#[test]
fn signable_request_debug_shows_no_header_values() {
    let req = SignableRequest::new("GET", "/", [("host", "h"), ("authorization", "AWS4 SECRETSIG")], Payload::Unsigned)
        .unwrap();
    let s = format!("{req:?}");
    assert!(!s.contains("SECRETSIG") && s.contains("authorization"), "{s}");
}

#[test]
fn continuation_lines_reject_control_characters() {
    assert!(RawRequest::parse(b"GET / HTTP/1.1\nHost:h\nX-A: a\n b\x1bc\n\n").is_err());
}
