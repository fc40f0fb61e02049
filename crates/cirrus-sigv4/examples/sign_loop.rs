//! Signs the benchmark's header case N times (default 10000): for instruction counts under
//! `valgrind --tool=callgrind`, which a shared, noisy machine cannot disturb.
//! `cargo build --release --example sign_loop && valgrind --tool=callgrind target/release/examples/sign_loop 10000`

use cirrus_sigv4::{sign, sign_http, Payload, SignableRequest, SigningParams};
use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let mode = args.next().unwrap_or_else(|| "borrowed".into());
    let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let params = SigningParams::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "s3", time);
    let headers = [
        ("host", "examplebucket.s3.us-east-1.amazonaws.com"),
        ("x-amz-meta-owner", "alice"),
        ("content-type", "image/jpeg"),
        ("range", "bytes=0-1023"),
    ];
    for _ in 0..n {
        if mode == "http" {
            let mut req = http::Request::get("https://examplebucket.s3.us-east-1.amazonaws.com/photos/2024/cat.jpg");
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let (mut parts, ()) = req.body(()).unwrap_or_default().into_parts();
            black_box(sign_http(&mut parts, Payload::Unsigned, &params).ok());
            black_box(parts);
        } else {
            let req = SignableRequest::new("GET", "/photos/2024/cat.jpg", headers, Payload::Unsigned);
            black_box(req.and_then(|r| sign(&r, black_box(&params))).ok());
        }
    }
}
