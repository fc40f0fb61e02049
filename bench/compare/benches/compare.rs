//! cirrus-sigv4 vs aws-sigv4 vs reqsign on the same requests, in one run, printed as ratios.
//! `cd bench/compare && cargo bench` (add `-- --quick` for a fast pass).
//!
//! The `header` and `presign` groups time what each signer does to an `http::Request` a program
//! already has: the request is built before the timed call and the signed one dropped after it
//! (criterion's `iter_batched`), the same for every signer. `build_request` times that building
//! alone, the same work whichever signer follows.

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    sign as aws_sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest as AwsSignable,
    SignatureLocation, SigningSettings as AwsSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use cirrus_sigv4::{sign_http, Payload, SigningParams, SigningSettings};
use criterion::{BatchSize, Criterion};
use std::hint::black_box;
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const AK: &str = "AKIDEXAMPLE";
const SK: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const HOST: &str = "examplebucket.s3.us-east-1.amazonaws.com";
const URL: &str = "https://examplebucket.s3.us-east-1.amazonaws.com/photos/2024/cat.jpg";

const BORROWED_HEADERS: [(&str, &str); 4] =
    [("host", HOST), ("x-amz-meta-owner", "alice"), ("content-type", "image/jpeg"), ("range", "bytes=0-1023")];

/// The header case: GET with 3 extra headers, UNSIGNED-PAYLOAD, built fresh every time.
fn request() -> http::Request<()> {
    http::Request::get(URL)
        .header("host", HOST)
        .header("x-amz-meta-owner", "alice")
        .header("content-type", "image/jpeg")
        .header("range", "bytes=0-1023")
        .body(())
        .unwrap()
}

/// The presign case: a bare GET.
fn get() -> http::Request<()> {
    http::Request::get(URL).body(()).unwrap()
}

fn time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn cirrus_header(req: http::Request<()>) -> http::Request<()> {
    let params = SigningParams::new(AK, SK, "us-east-1", "s3", time());
    let (mut parts, body) = req.into_parts();
    sign_http(&mut parts, Payload::Unsigned, &params).unwrap();
    http::Request::from_parts(parts, body)
}

fn cirrus_presign(req: http::Request<()>) -> http::Request<()> {
    let params = SigningParams::new(AK, SK, "us-east-1", "s3", time())
        .settings(SigningSettings::s3().presigned(Duration::from_secs(3600)));
    let (mut parts, body) = req.into_parts();
    sign_http(&mut parts, Payload::Unsigned, &params).unwrap();
    http::Request::from_parts(parts, body)
}

fn aws_settings(presign: bool) -> AwsSettings {
    let mut s = AwsSettings::default();
    s.percent_encoding_mode = PercentEncodingMode::Single;
    s.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    if presign {
        s.signature_location = SignatureLocation::QueryParams;
        s.expires_in = Some(Duration::from_secs(3600));
    } else {
        s.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    s
}

fn aws_request(identity: &Identity, mut req: http::Request<()>, presign: bool) -> http::Request<()> {
    let settings = aws_settings(presign);
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region("us-east-1")
        .name("s3")
        .time(time())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let uri = req.uri().to_string();
    let headers: Vec<(&str, &str)> = req.headers().iter().map(|(k, v)| (k.as_str(), v.to_str().unwrap())).collect();
    let signable =
        AwsSignable::new(req.method().as_str(), &uri, headers.into_iter(), SignableBody::UnsignedPayload).unwrap();
    let (instructions, _) = aws_sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut req);
    req
}

/// Polls a future that never waits (reqsign's signer does no I/O here) to completion.
fn now_or_never<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = TaskContext::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn reqsign_request(
    signer: &reqsign::aws::RequestSigner,
    ctx: &reqsign::Context,
    cred: &reqsign::aws::Credential,
    req: http::Request<()>,
    presign: bool,
) -> http::Request<()> {
    use reqsign::SignRequest;
    let (mut parts, body) = req.into_parts();
    let expires = presign.then_some(Duration::from_secs(3600));
    now_or_never(signer.sign_request(ctx, &mut parts, Some(cred), expires)).unwrap();
    http::Request::from_parts(parts, body)
}

fn auth(req: &http::Request<()>) -> String {
    req.headers().get("authorization").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

fn median_ns(group: &str, name: &str) -> Option<f64> {
    let path =
        format!("{}/criterion/{group}/{name}/new/estimates.json", env!("CARGO_TARGET_TMPDIR").trim_end_matches("/tmp"));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn main() {
    let identity: Identity = AwsCredentials::new(AK, SK, None, None, "bench").into();
    let cred = reqsign::aws::Credential {
        access_key_id: AK.into(),
        secret_access_key: SK.into(),
        session_token: None,
        expires_in: None,
    };
    let ctx = reqsign::Context::new();
    let rs = reqsign::aws::RequestSigner::new("s3", "us-east-1");

    // Same request, same signature: checked before anything is timed.
    let ours = auth(&cirrus_header(request()));
    let theirs = auth(&aws_request(&identity, request(), false));
    assert_eq!(ours, theirs, "cirrus and aws-sigv4 disagree on the header case");
    let ours = cirrus_presign(get()).uri().to_string();
    let theirs = aws_request(&identity, get(), true).uri().to_string();
    let sig = |u: &str| u.split("X-Amz-Signature=").nth(1).unwrap_or_default().to_owned();
    assert_eq!(sig(&ours), sig(&theirs), "cirrus and aws-sigv4 disagree on the presign case\n{ours}\n{theirs}");
    let reqsign_auth = auth(&reqsign_request(&rs, &ctx, &cred, request(), false));
    assert!(
        reqsign_auth.contains("SignedHeaders=content-type;host;range;x-amz-content-sha256;x-amz-date;x-amz-meta-owner"),
        "{reqsign_auth}"
    );
    println!("signatures agree (cirrus == aws-sigv4; reqsign signs the same headers at its own clock)");

    let mut c = Criterion::default().configure_from_args();
    {
        // The request is built before each timed call and dropped after it: signing alone.
        let mut g = c.benchmark_group("header");
        g.bench_function("cirrus", |b| b.iter_batched(request, cirrus_header, BatchSize::SmallInput));
        g.bench_function("aws-sigv4", |b| {
            b.iter_batched(request, |r| aws_request(&identity, r, false), BatchSize::SmallInput)
        });
        g.bench_function("reqsign", |b| {
            b.iter_batched(request, |r| reqsign_request(&rs, &ctx, &cred, r, false), BatchSize::SmallInput)
        });
        g.finish();
    }
    {
        // Each signer's own request type, built from borrowed strings: no http::Request.
        let mut g = c.benchmark_group("header_borrowed");
        g.bench_function("cirrus", |b| {
            let params = SigningParams::new(AK, SK, "us-east-1", "s3", time());
            b.iter(|| {
                let req = cirrus_sigv4::SignableRequest::new("GET", URL, BORROWED_HEADERS, Payload::Unsigned).unwrap();
                black_box(cirrus_sigv4::sign(&req, black_box(&params)).unwrap())
            })
        });
        g.bench_function("aws-sigv4", |b| {
            b.iter(|| {
                let params = v4::SigningParams::builder()
                    .identity(&identity)
                    .region("us-east-1")
                    .name("s3")
                    .time(time())
                    .settings(aws_settings(false))
                    .build()
                    .unwrap()
                    .into();
                let req =
                    AwsSignable::new("GET", URL, BORROWED_HEADERS.into_iter(), SignableBody::UnsignedPayload).unwrap();
                black_box(aws_sign(req, black_box(&params)).unwrap())
            })
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("presign");
        g.bench_function("cirrus", |b| b.iter_batched(get, cirrus_presign, BatchSize::SmallInput));
        g.bench_function("aws-sigv4", |b| {
            b.iter_batched(get, |r| aws_request(&identity, r, true), BatchSize::SmallInput)
        });
        g.bench_function("reqsign", |b| {
            b.iter_batched(get, |r| reqsign_request(&rs, &ctx, &cred, r, true), BatchSize::SmallInput)
        });
        g.finish();
    }
    {
        // What the groups above leave out, the same for every signer: building the request
        // (and dropping it).
        let mut g = c.benchmark_group("build_request");
        g.bench_function("header", |b| b.iter(|| black_box(request())));
        g.bench_function("presign", |b| b.iter(|| black_box(get())));
        g.finish();
    }
    c.final_summary();

    println!("\nmedians and ratios (other / cirrus), one run:");
    for group in ["header", "header_borrowed", "presign"] {
        let base = median_ns(group, "cirrus");
        // With the request's building added back to every signer (header and presign only).
        let build = match group {
            "header" => median_ns("build_request", "header"),
            "presign" => median_ns("build_request", "presign"),
            _ => None,
        };
        for name in ["cirrus", "aws-sigv4", "reqsign"] {
            match (median_ns(group, name), base) {
                (Some(m), Some(b)) => {
                    print!("  {group:15} {name:10} {:8.3} µs   {:5.2}x", m / 1000.0, m / b);
                    if let Some(f) = build {
                        print!(
                            "   with the build ({:.3} µs): {:8.3} µs  {:5.2}x",
                            f / 1000.0,
                            (m + f) / 1000.0,
                            (m + f) / (b + f)
                        );
                    }
                    println!();
                }
                _ => println!("  {group:15} {name:10} (no estimate)"),
            }
        }
    }
}
