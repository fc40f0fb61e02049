//! Differential test against botocore's signer (PyPI, pinned in `scripts/test`): 400 generated
//! requests, S3 and other services, with and without session tokens, mixed-case and repeated
//! headers, values with runs of spaces and tabs, encoded paths and queries. The canonical request
//! and the signature must be byte for byte botocore's.
//!
//! botocore runs from `.venv` (made by `scripts/test`) or `$CIRRUS_PYTHON`. Without it this test
//! fails: it is never skipped.
//!
//! Inputs stay where the two signers agree by design: queries already in canonical form (botocore
//! signs the query as given, cirrus decodes and re-encodes it), and paths without a trailing
//! `/.` or `/..` (RFC 3986, which cirrus follows, keeps a trailing slash there; botocore drops it).

use cirrus_sigv4::{sign, Payload, SignableRequest, SigningParams, SigningSettings};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

struct Case {
    method: String,
    host: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: String,
    service: String,
    region: String,
    token: Option<String>,
}

const AMZ_DATE: &str = "20150830T123600Z";

fn segment(rng: &mut Rng) -> String {
    let pieces = ["a", "Photos", "2024", "x-y_z.~", "%20", "%2F", "%E1%88%B4", "caf%C3%A9", "k%2Bv", "."];
    let n = 1 + rng.below(3);
    (0..n).map(|_| rng.pick(&pieces)).collect()
}

fn generate(rng: &mut Rng) -> Case {
    let service = rng.pick(&["s3", "execute-api", "sts", "es", "s3", "lambda"]).to_owned();
    let mut path = String::new();
    for _ in 0..rng.below(5) {
        path.push('/');
        if rng.below(6) == 0 {
            path.push_str(rng.pick(&["..", ".", ""]));
        }
        path.push_str(&segment(rng));
    }
    if path.ends_with("/.") || path.ends_with("/..") {
        path.push_str("/end");
    }
    if rng.below(3) == 0 {
        path.push('/');
    }
    if path.is_empty() {
        path.push('/');
    }
    if service == "s3" {
        // S3 keys are sent as given: no dot segments, no empty segments.
        path = path.replace("/..", "/dd").replace("/./", "/d/").replace("//", "/e/");
    }
    let query = (0..rng.below(4))
        .map(|_| {
            let k = rng.pick(&["prefix", "max-keys", "list-type", "Action", "continuation-token", "a%20b", "X-Y"]);
            let v = rng.pick(&["", "2", "J", "photos%2F2024%2F", "%E1%88%B4", "a~b", "value%20with%20spaces"]);
            if v.is_empty() && rng.below(2) == 0 {
                k.to_owned()
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join("&");
    let host = if service == "s3" {
        "examplebucket.s3.us-west-2.amazonaws.com".to_owned()
    } else {
        format!("{service}.us-west-2.amazonaws.com")
    };
    let mut headers = vec![("Host".to_owned(), host.clone())];
    for _ in 0..rng.below(5) {
        let name = rng.pick(&[
            "Content-Type",
            "x-amz-meta-Owner",
            "X-Custom",
            "range",
            "X-Custom",
            "Cache-Control",
            "user-agent",
        ]);
        let value = rng.pick(&["text/plain", "  padded  ", "a   b\tc", "bytes=0-9", "v1", "max-age=0, no-cache", ""]);
        headers.push((name.to_owned(), value.to_owned()));
    }
    let body =
        rng.pick(&["", "Action=GetCallerIdentity&Version=2011-06-15", "{\"a\": 1}", "hello\r\nworld"]).to_owned();
    let token = (rng.below(3) == 0).then(|| "FQoGZXIvYXdzEPT//////////wEXAMPLE+token=".to_owned());
    let method = rng.pick(&["GET", "PUT", "POST", "DELETE", "HEAD"]).to_owned();
    Case { method, host, path, query, headers, body, service, region: "us-west-2".to_owned(), token }
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("CIRRUS_PYTHON") {
        return p.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(venv.exists(), "botocore is not installed: run scripts/test, which makes .venv, or set CIRRUS_PYTHON");
    venv
}

#[test]
fn matches_botocore_on_generated_requests() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let cases: Vec<Case> = (0..400).map(|_| generate(&mut rng)).collect();
    let input = format!(
        "[{}]",
        cases
            .iter()
            .map(|c| {
                let headers: Vec<String> =
                    c.headers.iter().map(|(n, v)| format!("[{},{}]", json_str(n), json_str(v))).collect();
                format!(
                    "{{\"method\":{},\"host\":{},\"path\":{},\"query\":{},\"headers\":[{}],\"body\":{},\"service\":{},\"region\":{},\"token\":{},\"amz_date\":{}}}",
                    json_str(&c.method),
                    json_str(&c.host),
                    json_str(&c.path),
                    json_str(&c.query),
                    headers.join(","),
                    json_str(&c.body),
                    json_str(&c.service),
                    json_str(&c.region),
                    c.token.as_deref().map_or("null".to_owned(), json_str),
                    json_str(AMZ_DATE),
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/botocore_sign.py");
    let mut child = Command::new(python())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write cases");
    let out = child.wait_with_output().expect("python");
    assert!(out.status.success(), "botocore script failed: {}", String::from_utf8_lossy(&out.stderr));
    let expected: serde_json::Value = serde_json::from_slice(&out.stdout).expect("botocore output is JSON");
    let expected = expected.as_array().expect("an array");
    assert_eq!(expected.len(), cases.len());

    let time = cirrus_sigv4::parse_amz_date(AMZ_DATE).unwrap();
    let mut failures = Vec::new();
    for (case, want) in cases.iter().zip(expected) {
        let target = if case.query.is_empty() { case.path.clone() } else { format!("{}?{}", case.path, case.query) };
        let headers = case.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        let req = SignableRequest::new(&case.method, &target, headers, Payload::Bytes(case.body.as_bytes())).unwrap();
        let params = SigningParams::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            &case.region,
            &case.service,
            time,
        )
        .session_token(case.token.as_deref())
        .settings(SigningSettings::for_service(&case.service));
        let got = sign(&req, &params).unwrap();
        let want_creq = want["canonical_request"].as_str().unwrap_or_default();
        if got.canonical_request() != want_creq || got.signature() != want["signature"].as_str().unwrap_or_default() {
            failures.push(format!(
                "{} {} ({})\n--- botocore\n{want_creq}\n--- cirrus\n{}",
                case.method,
                target,
                case.service,
                got.canonical_request()
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} differ; first:\n{}", failures.len(), cases.len(), failures[0]);
}
