//! `RequestSigner` on requests cirrus does not send itself: an `http::Request` and a
//! `reqwest::Request` built from cases of the AWS SigV4 test suite must carry exactly the
//! suite's signature.

use crate::common::{block_on, testdata, trial};
use crate::ensure;
use cirrus::clock::ManualClock;
use cirrus::credentials::StaticCredentials;
use cirrus::signing::RequestSigner;
use libtest_mimic::Trial;
use serde_json::Value;
use std::sync::Arc;

/// The suite's case: the request line, its headers, the signer and the expected signature.
struct Case {
    method: http::Method,
    url: String,
    headers: Vec<(String, String)>,
    signer: RequestSigner,
    signature: String,
}

fn load(name: &str) -> Result<Case, String> {
    let dir = testdata().join("sigv4/v4").join(name);
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).map_err(|e| format!("{}/{f}: {e}", dir.display()));
    let ctx: Value = serde_json::from_str(&read("context.json")?).map_err(|e| e.to_string())?;
    let request = read("request.txt")?;
    let mut lines = request.lines();
    let first = lines.next().ok_or("empty request.txt")?;
    let mut words = first.split(' ');
    let method = words.next().ok_or("no method")?.parse::<http::Method>().map_err(|e| e.to_string())?;
    let target = words.next().ok_or("no target")?;
    let mut headers = Vec::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        let (k, v) = line.split_once(':').ok_or_else(|| format!("bad header line {line:?}"))?;
        headers.push((k.to_owned(), v.to_owned()));
    }
    let host = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("host")).map(|(_, v)| v.clone()).ok_or("no Host")?;
    let c = &ctx["credentials"];
    let creds = StaticCredentials::new(
        c["access_key_id"].as_str().unwrap_or_default(),
        c["secret_access_key"].as_str().unwrap_or_default(),
        c["token"].as_str().map(str::to_owned),
    );
    let stamp = ctx["timestamp"].as_str().unwrap_or_default();
    let at = cirrus_sigv4::parse_rfc3339(stamp).ok_or_else(|| format!("bad timestamp {stamp:?}"))?;
    let signer = RequestSigner::new(
        Arc::new(creds),
        ctx["region"].as_str().unwrap_or_default(),
        ctx["service"].as_str().unwrap_or_default(),
    )
    .with_clock(Arc::new(ManualClock::new(at)));
    Ok(Case {
        method,
        url: format!("https://{host}{target}"),
        headers,
        signer,
        signature: read("header-signature.txt")?.trim().to_owned(),
    })
}

fn signature_of(authorization: Option<&http::HeaderValue>) -> String {
    authorization
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit_once("Signature="))
        .map(|(_, s)| s.to_owned())
        .unwrap_or_default()
}

fn http_request(name: &'static str) -> Result<(), String> {
    let case = load(name)?;
    let mut builder = http::Request::builder().method(case.method.clone()).uri(&case.url);
    for (k, v) in &case.headers {
        builder = builder.header(k, v);
    }
    let mut request = builder.body(Vec::<u8>::new()).map_err(|e| e.to_string())?;
    block_on(case.signer.sign_http(&mut request)).map_err(|e| e.to_string())?;
    let got = signature_of(request.headers().get(http::header::AUTHORIZATION));
    ensure!(got == case.signature, "signature {got:?}, the suite says {:?}", case.signature);
    ensure!(request.headers().contains_key("x-amz-date"), "no X-Amz-Date: {:?}", request.headers());
    Ok(())
}

#[cfg(feature = "reqwest")]
fn reqwest_request(name: &'static str) -> Result<(), String> {
    let case = load(name)?;
    let mut request = reqwest::Request::new(case.method.clone(), case.url.parse().map_err(|e| format!("{e}"))?);
    for (k, v) in &case.headers {
        let name = http::HeaderName::from_bytes(k.as_bytes()).map_err(|e| e.to_string())?;
        request.headers_mut().append(name, v.parse().map_err(|e| format!("{e}"))?);
    }
    block_on(case.signer.sign_reqwest(&mut request)).map_err(|e| e.to_string())?;
    let got = signature_of(request.headers().get(http::header::AUTHORIZATION));
    ensure!(got == case.signature, "signature {got:?}, the suite says {:?}", case.signature);
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    let mut out = Vec::new();
    for name in ["get-vanilla", "get-vanilla-query-order-key-case", "get-vanilla-with-session-token", "post-vanilla"] {
        out.push(trial(format!("signing::sign_http::{name}"), move || http_request(name)));
        #[cfg(feature = "reqwest")]
        out.push(trial(format!("signing::sign_reqwest::{name}"), move || reqwest_request(name)));
    }
    out
}
