//! Signing costs: `cargo bench -p cirrus-sigv4`. Results go in BENCHMARKS.md.

use cirrus_sigv4::post_policy::PostPolicy;
use cirrus_sigv4::{sha256_hex, sign, sign_http, Payload, SignableRequest, SigningParams, SigningSettings};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

const AK: &str = "AKIDEXAMPLE";
const SK: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const URL: &str = "https://examplebucket.s3.us-east-1.amazonaws.com/photos/2024/cat.jpg";

fn request() -> http::Request<()> {
    http::Request::get(URL)
        .header("host", "examplebucket.s3.us-east-1.amazonaws.com")
        .header("x-amz-meta-owner", "alice")
        .header("content-type", "image/jpeg")
        .header("range", "bytes=0-1023")
        .body(())
        .unwrap()
}

fn benches(c: &mut Criterion) {
    let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let params = SigningParams::new(AK, SK, "us-east-1", "s3", time);

    c.bench_function("header_sign_get_3_headers_unsigned_payload", |b| {
        b.iter(|| {
            let (mut parts, ()) = request().into_parts();
            sign_http(&mut parts, Payload::Unsigned, black_box(&params)).unwrap();
            black_box(parts)
        })
    });

    // What the header case costs before any signing: building and dropping the request.
    c.bench_function("floor_build_request_only", |b| b.iter(|| black_box(request().into_parts())));

    // The cryptographic floor with a warm key: one SHA-256 of a canonical request, one HMAC.
    let creq = {
        let headers = [("host", "examplebucket.s3.us-east-1.amazonaws.com"), ("range", "bytes=0-1023")];
        let req = SignableRequest::new("GET", "/photos/2024/cat.jpg", headers, Payload::Unsigned).unwrap();
        sign(&req, &params).unwrap()
    };
    let key = cirrus_sigv4::SigningKey::cached(SK, "20231114", "us-east-1", "s3");
    c.bench_function("floor_sha256_plus_hmac", |b| {
        b.iter(|| {
            let h = sha256_hex(black_box(creq.canonical_request()).as_bytes());
            black_box(key.sign_bytes(&[creq.string_to_sign().as_bytes(), h.as_bytes()]))
        })
    });

    c.bench_function("header_sign_borrowed_request", |b| {
        let headers = [
            ("host", "examplebucket.s3.us-east-1.amazonaws.com"),
            ("x-amz-meta-owner", "alice"),
            ("content-type", "image/jpeg"),
            ("range", "bytes=0-1023"),
        ];
        b.iter(|| {
            let req = SignableRequest::new("GET", "/photos/2024/cat.jpg", headers, Payload::Unsigned).unwrap();
            black_box(sign(&req, black_box(&params)).unwrap())
        })
    });

    let presign = params.settings(SigningSettings::s3().presigned(Duration::from_secs(3600)));
    c.bench_function("presign_get_1h", |b| {
        b.iter(|| {
            let (mut parts, ()) = http::Request::get(URL).body(()).unwrap().into_parts();
            sign_http(&mut parts, Payload::Unsigned, black_box(&presign)).unwrap();
            black_box(parts)
        })
    });

    c.bench_function("presign_borrowed_request_1h", |b| {
        let headers = [("host", "examplebucket.s3.us-east-1.amazonaws.com")];
        b.iter(|| {
            let req = SignableRequest::new("GET", "/photos/2024/cat.jpg", headers, Payload::Unsigned).unwrap();
            let out = sign(&req, black_box(&presign)).unwrap();
            black_box(out.apply_to_uri("/photos/2024/cat.jpg"))
        })
    });

    c.bench_function("post_policy_sign", |b| {
        b.iter(|| {
            let policy = PostPolicy::builder(time + Duration::from_secs(3600))
                .bucket("examplebucket")
                .key_starts_with("user/42/")
                .content_type_starts_with("image/")
                .content_length_range(1, 10 << 20)
                .build()
                .unwrap();
            black_box(policy.sign(AK, SK, None, "us-east-1", time))
        })
    });

    let data = vec![0x5au8; 64 << 20];
    let mut g = c.benchmark_group("payload_hash");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(10);
    g.bench_function("sha256_64MiB", |b| b.iter(|| black_box(sha256_hex(black_box(&data)))));
    g.finish();
}

criterion_group!(signing, benches);
criterion_main!(signing);
