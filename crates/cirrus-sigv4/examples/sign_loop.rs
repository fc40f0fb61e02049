//! Signs the benchmark's cases N times (default 10000): for instruction counts under
//! `valgrind --tool=callgrind`, which a shared, noisy machine cannot disturb. The mode is
//! `borrowed` (the default: header signing from borrowed strings), `http` (header signing of a
//! freshly built `http::Request`), `presign` (presigning from borrowed strings, URL string
//! produced) or `presign-http` (presigning a freshly built `http::Request`).
//! `cargo build --release --example sign_loop && valgrind --tool=callgrind target/release/examples/sign_loop 10000 http`

use cirrus_sigv4::{sign, sign_http, Payload, SignableRequest, SigningParams, SigningSettings};
use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

const URL: &str = "https://examplebucket.s3.us-east-1.amazonaws.com/photos/2024/cat.jpg";

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let mode = args.next().unwrap_or_else(|| "borrowed".into());
    let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let params = SigningParams::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "s3", time);
    let presign = params.settings(SigningSettings::s3().presigned(Duration::from_secs(3600)));
    let headers = [
        ("host", "examplebucket.s3.us-east-1.amazonaws.com"),
        ("x-amz-meta-owner", "alice"),
        ("content-type", "image/jpeg"),
        ("range", "bytes=0-1023"),
    ];
    for _ in 0..n {
        match mode.as_str() {
            "http" => {
                let mut req = http::Request::get(URL);
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                let (mut parts, ()) = req.body(()).unwrap_or_default().into_parts();
                black_box(sign_http(&mut parts, Payload::Unsigned, &params).ok());
                black_box(parts);
            }
            "presign" => {
                let req = SignableRequest::new(
                    "GET",
                    "/photos/2024/cat.jpg",
                    headers[..1].iter().copied(),
                    Payload::Unsigned,
                );
                let out = req.and_then(|r| sign(&r, black_box(&presign)));
                black_box(out.map(|o| o.apply_to_uri("/photos/2024/cat.jpg")).ok());
            }
            "presign-http" => {
                let (mut parts, ()) = http::Request::get(URL).body(()).unwrap_or_default().into_parts();
                black_box(sign_http(&mut parts, Payload::Unsigned, &presign).ok());
                black_box(parts);
            }
            _ => {
                let req = SignableRequest::new("GET", "/photos/2024/cat.jpg", headers, Payload::Unsigned);
                black_box(req.and_then(|r| sign(&r, black_box(&params))).ok());
            }
        }
    }
}
