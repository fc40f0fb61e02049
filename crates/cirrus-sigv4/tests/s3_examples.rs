//! The S3 examples of `testdata/sigv4/s3-examples.md`, one test per example. The requests
//! are described in prose there, so they are built here; every expected value (hashes,
//! signatures, the URL, the policy) is read from the file in place.

use cirrus_sigv4::chunked::{signed_encoded_length, ChunkSigner};
use cirrus_sigv4::post_policy::sign_policy;
use cirrus_sigv4::{sha256_hex, sign, Payload, SignableRequest, SigningOutput, SigningParams, SigningSettings};
use std::path::Path;
use std::time::{Duration, SystemTime};

const AK: &str = "AKIAIOSFODNN7EXAMPLE";
const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn doc() -> String {
    let root = match std::env::var_os("CIRRUS_TESTDATA") {
        Some(p) => p.into(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata"),
    };
    let path = root.join("sigv4/s3-examples.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text of section `## N.`.
fn section(n: u32) -> String {
    let doc = doc();
    let start = doc.find(&format!("\n## {n}. ")).unwrap_or_else(|| panic!("no section {n}"));
    let rest = &doc[start + 1..];
    let end = rest[3..].find("\n## ").map(|i| i + 3).unwrap_or(rest.len());
    rest[..end].to_owned()
}

/// Every 64-hex-digit value in backticks, in order.
fn hexes(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
        .collect()
}

/// The backticked value following `label` in `text`.
fn after(text: &str, label: &str) -> String {
    let i = text.find(label).unwrap_or_else(|| panic!("no {label:?}")) + label.len();
    let rest = &text[i..];
    let a = rest.find('`').expect("opening backtick") + 1;
    let b = rest[a..].find('`').expect("closing backtick") + a;
    rest[a..b].to_owned()
}

fn time() -> SystemTime {
    cirrus_sigv4::parse_amz_date("20130524T000000Z").unwrap()
}

fn s3_sign(
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    payload: Payload<'_>,
    settings: SigningSettings,
) -> SigningOutput {
    let req = SignableRequest::new(method, uri, headers.iter().copied(), payload).unwrap();
    let params = SigningParams::new(AK, SK, "us-east-1", "s3", time()).settings(settings);
    sign(&req, &params).unwrap()
}

fn assert_hash_and_signature(out: &SigningOutput, text: &str) {
    assert_eq!(
        sha256_hex(out.canonical_request().as_bytes()),
        after(text, "CanonicalRequest hash"),
        "{}",
        out.canonical_request()
    );
    assert_eq!(out.signature(), after(text, "Signature **"));
}

#[test]
fn example_1_get_object_with_range() {
    let text = section(1);
    let out = s3_sign(
        "GET",
        "/test.txt",
        &[("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9")],
        Payload::Bytes(b""),
        SigningSettings::s3(),
    );
    assert_hash_and_signature(&out, &text);
    let auth = out.headers().find(|(n, _)| *n == "Authorization").unwrap().1;
    assert!(auth.contains("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date"));
    assert!(out
        .canonical_request()
        .starts_with("GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"));
}

#[test]
fn example_2_put_object_encodes_dollar_once() {
    let text = section(2);
    let body = b"Welcome to Amazon S3.";
    assert_eq!(sha256_hex(body), hexes(&text)[0]);
    let out = s3_sign(
        "PUT",
        "/test$file.text",
        &[
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ],
        Payload::Bytes(body),
        SigningSettings::s3(),
    );
    assert!(out.canonical_request().starts_with(&format!("PUT\n{}\n", after(&text, "Canonical URI"))));
    assert_hash_and_signature(&out, &text);
}

#[test]
fn example_3_bucket_lifecycle_valueless_key() {
    let text = section(3);
    let out = s3_sign(
        "GET",
        "/?lifecycle",
        &[("Host", "examplebucket.s3.amazonaws.com")],
        Payload::Bytes(b""),
        SigningSettings::s3(),
    );
    assert!(out.canonical_request().starts_with(&format!("GET\n/\n{}\n", after(&text, "Canonical query"))));
    assert_hash_and_signature(&out, &text);
}

#[test]
fn example_4_list_objects_sorted_query() {
    let text = section(4);
    let out = s3_sign(
        "GET",
        "/?max-keys=2&prefix=J",
        &[("Host", "examplebucket.s3.amazonaws.com")],
        Payload::Bytes(b""),
        SigningSettings::s3(),
    );
    assert!(out.canonical_request().contains(&format!("\n{}\n", after(&text, "Canonical query"))));
    assert_hash_and_signature(&out, &text);
}

#[test]
fn example_5_presigned_get() {
    let text = section(5);
    let out = s3_sign(
        "GET",
        "/test.txt",
        &[("Host", "examplebucket.s3.amazonaws.com")],
        Payload::Unsigned,
        SigningSettings::s3().presigned(Duration::from_secs(86_400)),
    );
    let creq = text.split("```").nth(1).unwrap().trim();
    assert_eq!(out.canonical_request(), creq);
    assert_hash_and_signature(&out, &text);
    let url = format!("https://examplebucket.s3.amazonaws.com{}", out.apply_to_uri("/test.txt"));
    let expected = after(&text, "URL:");
    let expected = expected.split("X-Amz-Signature=").next().unwrap();
    assert_eq!(url, format!("{expected}X-Amz-Signature={}", out.signature()));
}

#[test]
fn example_6_post_policy_signature() {
    let text = section(6);
    let policy = text.split("```").nth(1).unwrap().trim();
    let expected = after(&text, "Signature\n**");
    assert_eq!(sign_policy(policy, SK, "20151229", "us-east-1"), expected);
}

fn chunk_headers(trailer: bool) -> Vec<(&'static str, &'static str)> {
    let mut h = vec![
        ("Host", "s3.amazonaws.com"),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
    ];
    if trailer {
        h.push(("x-amz-trailer", "x-amz-checksum-crc32c"));
    } else {
        h.push(("Content-Length", "66824"));
    }
    h
}

#[test]
fn example_7_chunked_upload() {
    let text = section(7);
    let out = s3_sign(
        "PUT",
        "/examplebucket/chunkObject.txt",
        &chunk_headers(false),
        Payload::StreamingSigned,
        SigningSettings::s3(),
    );
    assert!(out.canonical_request().ends_with("\nSTREAMING-AWS4-HMAC-SHA256-PAYLOAD"));
    assert!(out.canonical_request().contains(&format!("\n{}\n", after(&text, "Signed headers"))));
    assert_eq!(sha256_hex(out.canonical_request().as_bytes()), after(&text, "CanonicalRequest hash"));
    assert_eq!(out.signature(), after(&text, "Seed signature **"));

    let sigs = hexes(text.split("| chunk |").nth(1).unwrap());
    let data = vec![b'a'; 66_560];
    let mut signer = ChunkSigner::new(out.signature(), SK, "us-east-1", "s3", time());
    let mut wire = Vec::new();
    for chunk in data.chunks(65_536) {
        signer.encode_chunk(chunk, &mut wire);
    }
    signer.encode_chunk(b"", &mut wire);
    let text_wire = String::from_utf8_lossy(&wire);
    for sig in &sigs {
        assert!(text_wire.contains(&format!(";chunk-signature={sig}\r\n")), "missing chunk signature {sig}");
    }
    assert_eq!(sigs.len(), 3);
    assert!(text_wire.starts_with(&format!("10000;chunk-signature={}\r\n", sigs[0])));
    assert!(text_wire.ends_with(&format!("0;chunk-signature={}\r\n\r\n", sigs[2])));
    assert_eq!(wire.len() as u64, 66_824);
    assert_eq!(signed_encoded_length(66_560, 65_536), Some(66_824));
}

#[test]
fn example_8_chunked_upload_with_trailer() {
    let text = section(8);
    let out = s3_sign(
        "PUT",
        "/examplebucket/chunkObject.txt",
        &chunk_headers(true),
        Payload::StreamingSignedTrailer,
        SigningSettings::s3(),
    );
    assert!(out.canonical_request().contains(&format!("\n{}\n", after(&text, "signed headers"))));
    assert!(out.canonical_request().ends_with("\nSTREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"));
    assert_eq!(out.signature(), after(&text, "Seed **"));

    let chunk_sigs = hexes(&text[text.find("Chunk sigs").unwrap()..text.find("Trailer string").unwrap()]);
    let trailer_sig = after(&text, "x-amz-trailer-signature:` **");
    let data = vec![b'a'; 66_560];
    let mut signer = ChunkSigner::new(out.signature(), SK, "us-east-1", "s3", time());
    let mut wire = Vec::new();
    for chunk in data.chunks(65_536) {
        signer.encode_chunk(chunk, &mut wire);
    }
    signer.encode_final_with_trailer(&[("x-amz-checksum-crc32c", "sOO8/Q==")], &mut wire);
    let w = String::from_utf8_lossy(&wire);
    for sig in &chunk_sigs {
        assert!(w.contains(&format!(";chunk-signature={sig}\r\n")), "missing chunk signature {sig}");
    }
    assert!(w.ends_with(&format!(
        "0;chunk-signature={}\r\nx-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:{trailer_sig}\r\n\r\n",
        chunk_sigs[2]
    )));
}

#[test]
fn unsigned_trailer_marker_is_the_payload_hash() {
    let out = s3_sign(
        "PUT",
        "/examplebucket/chunkObject.txt",
        &[("Host", "s3.amazonaws.com"), ("x-amz-trailer", "x-amz-checksum-crc32")],
        Payload::StreamingUnsignedTrailer,
        SigningSettings::s3(),
    );
    assert!(out.canonical_request().ends_with("\nSTREAMING-UNSIGNED-PAYLOAD-TRAILER"));
    assert!(out.canonical_request().contains("x-amz-content-sha256:STREAMING-UNSIGNED-PAYLOAD-TRAILER\n"));
    let h: Vec<_> = out.headers().collect();
    assert!(h.contains(&("X-Amz-Content-SHA256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")));
}
