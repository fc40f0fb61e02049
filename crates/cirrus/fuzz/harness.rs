//! Entry points for the fuzz targets in `fuzz_targets/` beside this file (not an API).
//!
//! This file is not in the library's `src/`: `lib.rs` compiles it in as `cirrus::fuzzing`
//! with `#[path = "../fuzz/harness.rs"]`, so that it reaches the crate's internals, and only
//! for the tests and for the feature `fuzzing`, which is off by default (the fuzz crate turns
//! it on).
//!
//! Each function takes arbitrary bytes, feeds them to the parsers that read input from outside
//! (servers, files, the command line) and checks what must hold whatever the input. A panic is
//! a finding. The tests at the bottom replay the saved corpora and every crash found, so a
//! fixed defect stays fixed.

#![allow(missing_docs)]

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Bytes as text, the way a file or an argument reaches a parser: invalid UTF-8 is the
/// caller's error before any parser sees it.
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A fixed time for every check that needs one (2015-08-30).
fn at() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

/// What Debug prints in place of a secret.
const REDACTED: &str = "** redacted **";

/// Whether `secret` appearing in what is printed would be a leak: long enough to mean
/// something, and not one of the values printed openly (or the placeholder).
fn worth_checking(secret: &str, open: &[&str]) -> bool {
    secret.len() >= 8 && !REDACTED.contains(secret) && !open.iter().any(|o| o.contains(secret))
}

/// Credentials made from input must never show their secrets in Debug or Display.
fn secrets_hidden(c: &crate::Credentials) {
    let shown = format!("{c:?} {c}");
    let secret = c.secret_access_key();
    if worth_checking(secret, &[c.access_key_id(), c.provider()]) {
        assert!(!shown.contains(&format!("{secret:?}")), "a secret key was printed: {shown}");
    }
}

/// An S3 `ListObjectsV2` page, and the same bytes as a `ListObjectVersions` page.
#[cfg(feature = "s3")]
pub fn s3_list_page(data: &[u8]) {
    let _ = crate::s3::list::parse_list_page(data);
    let _ = crate::s3::VersionPage::from_xml(data);
}

/// The error answer of each of the four protocols (the first byte picks the protocol and
/// the status), the XML tree parser and the query protocol's result reader.
pub fn error_body(data: &[u8]) {
    use crate::transport::protocol::{parse_error, query_result, Protocol};
    let Some((&pick, body)) = data.split_first() else { return };
    let protocol = match pick % 4 {
        0 => Protocol::Query,
        1 => Protocol::RestXml,
        2 => Protocol::RestJson,
        _ => Protocol::Json,
    };
    let status = 400 + u16::from(pick / 4);
    let mut headers = http::HeaderMap::new();
    if pick & 0x80 != 0 {
        headers.insert("x-amzn-errortype", http::HeaderValue::from_static("Throttling:http://x/"));
    }
    let parts = parse_error(protocol, status, &headers, body);
    assert!(!parts.code.is_empty() || !parts.message.is_empty(), "an error always says something");
    let _ = crate::transport::xml::parse(body);
    let _ = query_result("Fuzz", body);
    let _ = crate::transport::protocol::is_error_body(body);
}

#[cfg(feature = "sns")]
const SNS_CERT: &[u8] = include_bytes!("../../../testdata/sns/synthetic/certificate.pem");
#[cfg(feature = "sns")]
const SNS_MESSAGE: &[u8] = include_bytes!("../../../testdata/sns/synthetic/valid_signature.json");

#[cfg(feature = "sns")]
fn verifier() -> &'static crate::sns::Verifier {
    static V: std::sync::OnceLock<crate::sns::Verifier> = std::sync::OnceLock::new();
    V.get_or_init(|| crate::sns::Verifier::new().max_age(Duration::from_secs(3600)))
}

/// An SNS message body (HTTP, Lambda record or event), its URLs, its string to sign, the SES
/// event it may carry, and the whole verification against a fixed certificate.
#[cfg(feature = "sns")]
pub fn sns_message(data: &[u8]) {
    use crate::sns::verify;
    if let Ok(u) = verify::parse(data) {
        let s = verify::string_to_sign(&u.msg);
        assert!(s.ends_with('\n'), "a string to sign ends with a newline");
        if let Ok(host) = verify::check_cert_url(&u.msg.signing_cert_url) {
            let aws = host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn");
            assert!(host.starts_with("sns.") && aws && !host.contains(['@', ':', '/']), "{host:?}");
            if let Some(url) = &u.msg.subscribe_url {
                let _ = verify::check_subscribe_url(url, host);
            }
        }
        if let Ok(event) = crate::sns::SesEvent::from_message(&u.msg.message) {
            let _ = event.to_json();
        }
        let _ = u.msg.to_json();
    }
    let _ = verifier().verify_with_certificate(data, SNS_CERT, at());
}

/// The SES event an SNS notification carries (`Message`), and its JSON form.
#[cfg(feature = "sns")]
pub fn ses_event(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(event) = crate::sns::SesEvent::from_message(text) {
        let _ = (event.kind.name(), event.to_json());
    }
}

/// Cognito: the InitiateAuth / RespondToAuthChallenge answer and the user name in the id token
/// it carries, client metadata, and the SRP derivation over a server's salt and `SRP_B` (the
/// first byte picks; the SRP input is salt, NUL, SRP_B, NUL, user id).
#[cfg(feature = "cognito")]
pub fn cognito(data: &[u8]) {
    use crate::cognito::{srp::SrpClient, AuthResult, ClientMetadata};
    let Some((&pick, body)) = data.split_first() else { return };
    match pick % 3 {
        0 => {
            let Ok(answer) = serde_json::from_slice(body) else { return };
            if let Ok(AuthResult::Tokens(t)) = crate::cognito::user_pool::parse_result("InitiateAuth", answer, at()) {
                assert!(t.expires_at <= at() + Duration::from_secs(86_400));
                let shown = format!("{t:?}");
                if worth_checking(&t.id_token, &[]) {
                    assert!(!shown.contains(&format!("{:?}", t.id_token.as_str())), "{shown}");
                }
                let _ = t.username();
            }
        }
        1 => {
            if let Some(t) = text(body) {
                let _ = ClientMetadata::from_json(t);
            }
        }
        _ => {
            let Some(t) = text(body) else { return };
            let mut parts = t.splitn(3, '\0');
            let (salt, srp_b, user) =
                (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            static CLIENT: std::sync::OnceLock<SrpClient> = std::sync::OnceLock::new();
            let client = CLIENT.get_or_init(|| SrpClient::with_secret("us-east-1_Fuzz", &[7; 32]).expect("a client"));
            let _ = client.derive(user, "password", salt, srp_b);
        }
    }
}

/// Certificates: the SNS signing certificate (through a whole verification) and a CA bundle.
pub fn pem(data: &[u8]) {
    #[cfg(feature = "sns")]
    {
        if let Ok(cert) = crate::sns::SigningCert::from_pem(data) {
            let _ = (cert.not_before(), cert.not_after());
        }
        let _ = verifier().verify_with_certificate(SNS_MESSAGE, data, at());
    }
    if let Ok(roots) = crate::transport::TlsRoots::from_pem(data) {
        let _ = format!("{roots:?}");
    }
}

/// The shared config and credentials files, and every profile's credential chain.
pub fn profile(data: &[u8]) {
    use crate::profile::ProfileSet;
    let Some(text) = text(data) else { return };
    for parsed in [
        ProfileSet::parse_config(Path::new("/fuzz/config"), text),
        ProfileSet::parse_credentials(Path::new("/fuzz/credentials"), text),
    ] {
        let set = match parsed {
            Ok(set) => set,
            Err(e) => {
                let shown = e.to_string();
                assert!(shown.contains("/fuzz/"), "the error names the file: {shown}");
                continue;
            }
        };
        let names: Vec<String> = set.names().take(32).map(str::to_owned).collect();
        for name in &names {
            let profile = set.get(name).expect("a listed profile exists");
            for key in profile.keys() {
                let _ = profile.get(key);
            }
            let _ = crate::credentials::ProfileChain::resolve(&set, name);
        }
        let _ = crate::credentials::ProfileChain::resolve(&set, "default");
    }
}

/// The JSON documents credentials come in; the first byte picks the document:
/// `credential_process` output, the container endpoint and IMDS, the AWS CLI's cache, the SSO
/// token cache, and the four SSO answers.
pub fn credentials_json(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else { return };
    let json = || serde_json::from_slice::<serde_json::Value>(body).ok();
    match pick % 8 {
        0 => {
            if let Ok(c) = crate::credentials::process::parse_process_output(body) {
                secrets_hidden(&c);
            }
        }
        1 => {
            if let Ok(c) = crate::credentials::container::parse_json_credentials(body, "container") {
                secrets_hidden(&c);
            }
        }
        2 => {
            if let Some(c) = text(body).and_then(|t| crate::credentials::cli_cache::parse(t, at(), "assume-role")) {
                secrets_hidden(&c);
                assert!(c.expiry().is_some_and(|e| e > at()));
            }
        }
        3 => {
            if let Some(t) = json().as_ref().and_then(crate::sso::SsoToken::from_json) {
                let shown = format!("{t:?}");
                let open = [t.start_url.as_str(), t.region.as_str(), t.client_id.as_deref().unwrap_or_default()];
                if worth_checking(&t.access_token, &open) {
                    assert!(!shown.contains(&format!("{:?}", t.access_token.as_str())), "{shown}");
                }
                let _ = t.can_refresh(at());
            }
        }
        4 => {
            if let Some(v) = json() {
                let _ = crate::sso::registration_from(&v);
            }
        }
        5 => {
            if let Some(Ok(d)) = json().map(|v| crate::sso::device_authorization_from(&v)) {
                assert!(d.interval > Duration::ZERO && d.interval <= Duration::from_secs(60));
                let _ = SystemTime::now().checked_add(d.expires_in).expect("a lifetime fits in a time");
            }
        }
        6 => {
            if let Some(Ok(t)) = json().map(|v| crate::sso::token_grant_from(&v)) {
                let _ = SystemTime::now().checked_add(t.expires_in).expect("a lifetime fits in a time");
            }
        }
        _ => {
            if let Ok(c) = crate::sso::role_credentials_from(body) {
                secrets_hidden(&c);
            }
        }
    }
}

/// `s3://` URLs, and the local path a key takes under a download's destination: never outside
/// it.
#[cfg(feature = "s3")]
pub fn s3_url(data: &[u8]) {
    use crate::s3::transfer::Location;
    let Some(text) = text(data) else { return };
    match Location::parse(text) {
        Ok(Location::S3 { bucket, key }) => {
            assert!(!bucket.is_empty() && !bucket.contains('/'));
            key_stays_inside(&key);
        }
        Ok(Location::Local(path)) => assert!(!path.as_os_str().is_empty()),
        Err(_) => {}
    }
    key_stays_inside(text);
}

#[cfg(feature = "s3")]
fn key_stays_inside(key: &str) {
    let Ok(segments) = crate::s3::transfer::local::key_segments(key) else { return };
    let mut path = std::path::PathBuf::from("/dest");
    for s in &segments {
        assert!(!s.is_empty() && !s.contains(['/', '\0']) && *s != "." && *s != "..", "segment {s:?}");
        path.push(s);
    }
    let normal = path.components().skip(2).all(|c| matches!(c, std::path::Component::Normal(_)));
    assert!(normal && path.starts_with("/dest"), "{key:?} -> {}", path.display());
}

/// `--include` / `--exclude` patterns against names: the linear matcher must agree with a
/// plain recursive one. The input is the pattern, a NUL, then the name.
#[cfg(feature = "s3")]
pub fn filters(data: &[u8]) {
    use crate::s3::transfer::filter::fnmatch;
    let Some(split) = data.iter().position(|&b| b == 0) else { return };
    let (pattern, name) = (&data[..split], &data[split + 1..]);
    let want = reference_match(pattern, name);
    assert_eq!(
        fnmatch(pattern, name),
        want,
        "pattern {:?} name {:?}",
        String::from_utf8_lossy(pattern),
        String::from_utf8_lossy(name)
    );
    let (Some(p), Some(n)) = (text(pattern), text(name)) else { return };
    let _ = crate::s3::transfer::Filters::default().exclude(p).include("*").accepts(n);
    // The same pattern as an S3 key glob (path syntax, escapes): never a panic, and a match
    // always starts with the literal prefix listed.
    if let Some(g) = crate::s3::transfer::Glob::new(p) {
        assert!(!g.matches(n) || n.starts_with(g.prefix()), "{p:?} matched {n:?} outside {:?}", g.prefix());
        let _ = g.name(n);
    }
}

/// fnmatch by its definition, as a table: `m[i][j]` says whether `p[i..]` matches `t[j..]`.
/// `*` matches nothing or one more byte, `?` one byte, `[...]` one byte of the set (or a literal
/// `[` when it is not closed), anything else itself.
#[cfg(feature = "s3")]
fn reference_match(p: &[u8], t: &[u8]) -> bool {
    let width = t.len() + 1;
    let mut m = vec![false; (p.len() + 1) * width];
    m[p.len() * width + t.len()] = true;
    for i in (0..p.len()).rev() {
        for j in (0..=t.len()).rev() {
            let here = if p[i] == b'*' {
                m[(i + 1) * width + j] || (j < t.len() && m[i * width + j + 1])
            } else if j == t.len() {
                false
            } else {
                let next = match p[i] {
                    b'?' => Some(i + 1),
                    b'[' => match reference_set(p, i, t[j]) {
                        Some((true, next)) => Some(next),
                        Some((false, _)) => None,
                        None => (t[j] == b'[').then_some(i + 1),
                    },
                    c => (c == t[j]).then_some(i + 1),
                };
                next.is_some_and(|n| m[n * width + j + 1])
            };
            m[i * width + j] = here;
        }
    }
    m[0]
}

/// The set at `p[at]` as Python's fnmatch reads it: `!` negates, a `]` first is literal,
/// `a-z` is a range; `None` when no `]` closes it.
#[cfg(feature = "s3")]
fn reference_set(p: &[u8], at: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = at + 1;
    let negate = p.get(i) == Some(&b'!');
    if negate {
        i += 1;
    }
    let body_start = i;
    // The closing `]`: the first one after the set's first member.
    let close = (body_start + 1..p.len()).find(|&k| p[k] == b']')?;
    let body = &p[body_start..close];
    let mut found = false;
    let mut k = 0;
    while k < body.len() {
        if k + 2 < body.len() && body[k + 1] == b'-' {
            found |= body[k] <= c && c <= body[k + 2];
            k += 3;
        } else {
            found |= body[k] == c;
            k += 1;
        }
    }
    Some((found != negate, close + 1))
}

/// Values read from settings, arguments and headers: sizes, `Content-Range`, times, mailboxes,
/// retry modes, regions, endpoints and proxies.
pub fn values(data: &[u8]) {
    let Some(text) = text(data) else { return };
    #[cfg(feature = "s3")]
    {
        let _ = crate::s3::settings::parse_size(text);
        let _ = crate::s3::transfer::download::parse_total(text);
    }
    #[cfg(feature = "ses")]
    {
        if let Ok(m) = crate::ses::Mailbox::parse(text) {
            let _ = format!("{m:?}");
        }
    }
    if let Some(t) = cirrus_sigv4::parse_rfc3339(text) {
        // Written back in whole seconds: read again, the same second.
        let again = crate::sso::format_time(t);
        let secs = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let whole = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        assert_eq!(cirrus_sigv4::parse_rfc3339(&again), Some(whole), "{text:?} -> {again:?}");
    }
    let _ = crate::sso::parse_time(text);
    let _ = crate::transport::RetryMode::parse(text);
    if crate::loader::check_region(text, "explicit").is_ok() {
        assert!(!text.contains(['/', '@', ':', '.', '?', '#']), "{text:?} went into a host name");
    }
    if let Err(e) = crate::loader::check_endpoint(text, "fuzz") {
        let _ = e.to_string();
    }
    let _ = crate::transport::redact_url(text);
    let _ = crate::transport::ProxySettings::none().with_https_proxy(text);
    let _ = crate::transport::ProxySettings::none().with_no_proxy(text).matcher();
}

/// Not a fuzz target: what [`set_after_first_pass`] takes.
pub type AfterFirstPass = Box<dyn Fn(&std::fs::File) + Send + Sync>;

/// Not a fuzz target: a seam for the tests. `hook` is called with the file between an upload
/// part's first pass (its checksum and payload hash) and its sending, so a test can change
/// the file there; `None` clears it.
#[cfg(feature = "s3")]
pub fn set_after_first_pass(hook: Option<AfterFirstPass>) {
    crate::s3::transfer::upload::test_hook::set(hook);
}

#[cfg(test)]
mod tests {
    //! The saved corpora and every crash found, replayed: one test per target.

    include!("../../cirrus-sigv4/fuzz/saved_inputs.rs");

    fn replay(target: &str, run: fn(&[u8])) {
        let fuzz = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let inputs = saved_inputs(&fuzz, target);
        assert!(!inputs.is_empty(), "no saved inputs for {target} under {}", fuzz.display());
        for (name, data) in &inputs {
            let result = std::panic::catch_unwind(|| run(data));
            assert!(result.is_ok(), "{name} panicked");
        }
    }

    #[cfg(feature = "s3")]
    #[test]
    fn s3_list_page() {
        replay("s3_list_page", super::s3_list_page);
    }

    #[test]
    fn error_body() {
        replay("error_body", super::error_body);
    }

    #[cfg(feature = "sns")]
    #[test]
    fn sns_message() {
        replay("sns_message", super::sns_message);
    }

    #[cfg(feature = "sns")]
    #[test]
    fn ses_event() {
        replay("ses_event", super::ses_event);
    }

    #[cfg(feature = "cognito")]
    #[test]
    fn cognito() {
        replay("cognito", super::cognito);
    }

    #[test]
    fn pem() {
        replay("pem", super::pem);
    }

    #[test]
    fn profile() {
        replay("profile", super::profile);
    }

    #[test]
    fn credentials_json() {
        replay("credentials_json", super::credentials_json);
    }

    #[cfg(feature = "s3")]
    #[test]
    fn s3_url() {
        replay("s3_url", super::s3_url);
    }

    #[cfg(feature = "s3")]
    #[test]
    fn filters() {
        replay("filters", super::filters);
    }

    #[test]
    fn values() {
        replay("values", super::values);
    }
}
