//! `cirrus sign`: read a raw HTTP request, print it signed.

use crate::{Failure, GlobalArgs};
use anyhow::{anyhow, Context};
use cirrus::sigv4::raw::RawRequest;
use cirrus::sigv4::{sign, Payload, SignableRequest, SigningParams, SigningSettings};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

#[derive(clap::Args, Debug)]
pub struct SignArgs {
    /// The signing name of the service (`s3`, `execute-api`, `sts`...). Default: taken from
    /// the Host (`<service>.<region>.amazonaws.com`, S3 hosts give `s3`).
    #[arg(long)]
    service: Option<String>,
    /// The signing time, `YYYYMMDDTHHMMSSZ`. Default: now.
    #[arg(long, value_name = "YYYYMMDDTHHMMSSZ")]
    time: Option<String>,
    /// Print a presigned request (signature in the query) instead of an Authorization header.
    #[arg(long)]
    presign: bool,
    /// Presigned URL lifetime in seconds (1 to 604800).
    #[arg(long, value_name = "SECS", default_value_t = 3600, requires = "presign")]
    expires: u64,
    /// Sign with `UNSIGNED-PAYLOAD` instead of the body's SHA-256.
    #[arg(long)]
    unsigned_payload: bool,
    /// The request file, or `-` (the default) for standard input.
    #[arg(value_name = "FILE|-")]
    file: Option<PathBuf>,
}

pub async fn run(global: &GlobalArgs, args: SignArgs) -> Result<(), Failure> {
    let input = match args.file.as_deref() {
        None => crate::read_limited("the request", std::path::Path::new("-"), crate::MAX_BODY_IN_MEMORY)?,
        Some(p) => crate::read_limited("the request", p, crate::MAX_BODY_IN_MEMORY)?,
    };
    let raw = RawRequest::parse(&input).map_err(|e| Failure::input(anyhow!("malformed request: {e}")))?;
    let host = raw.header("host").unwrap_or_default().to_owned();
    let service = match args.service {
        Some(s) if s.trim().is_empty() => {
            return Err(Failure::input(anyhow!("--service is empty: name the signing name (s3, execute-api...)")))
        }
        Some(s) => s,
        None => service_from_host(&host)
            .ok_or_else(|| Failure::input(anyhow!("cannot tell the service from Host {host:?}: pass --service")))?,
    };
    let config = crate::load_config(global)?;
    let region = match config.region().map(str::to_owned) {
        Some(r) => r,
        None => region_from_host(&host)
            .ok_or_else(|| Failure::input(anyhow!("no region: pass --region or set AWS_REGION")))?,
    };
    let time = match &args.time {
        Some(t) => cirrus::sigv4::parse_amz_date(t)
            .ok_or_else(|| Failure::input(anyhow!("--time must be YYYYMMDDTHHMMSSZ, got {t:?}")))?,
        None => SystemTime::now(),
    };
    let provider =
        config.credentials().ok_or_else(|| Failure::input(anyhow!("--no-sign-request: nothing to sign with")))?;
    let creds = provider.provide_credentials().await.context("no credentials to sign with")?;

    let given_sha = raw.header("x-amz-content-sha256").map(str::to_owned);
    let is_s3 = SigningSettings::for_service(&service) == SigningSettings::s3();
    let payload = match (&given_sha, args.unsigned_payload) {
        (Some(h), _) => Payload::Precomputed(h.trim()),
        (None, true) => Payload::Unsigned,
        (None, false) if args.presign && is_s3 => Payload::Unsigned,
        (None, false) => Payload::Bytes(&raw.body),
    };
    let mut settings = SigningSettings::for_service(&service);
    settings.use_date_header = raw.header("x-amz-date").is_none() && raw.header("date").is_some();
    if args.presign {
        settings = settings.presigned(Duration::from_secs(args.expires));
    }
    let headers = raw.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    let request = SignableRequest::new(&raw.method, &raw.target, headers, payload)
        .map_err(|e| Failure::input(anyhow!("malformed request: {e}")))?;
    let params = SigningParams::new(creds.access_key_id(), creds.secret_access_key(), &region, &service, time)
        .session_token(creds.session_token())
        .settings(settings);
    let out = sign(&request, &params).map_err(|e| Failure::input(anyhow!("cannot sign: {e}")))?;

    if global.debug {
        // The canonical request carries the session token as a header or parameter: redact it.
        let mut canonical = out.canonical_request().to_owned();
        if let Some(t) = creds.session_token() {
            canonical = canonical.replace(t, "** redacted **");
            let encoded: String = form_encode(t);
            canonical = canonical.replace(&encoded, "** redacted **");
        }
        eprintln!("---- canonical request\n{canonical}\n---- string to sign\n{}\n----", out.string_to_sign());
    }

    let eol = if first_line_crlf(&input) { "\r\n" } else { "\n" };
    let target = out.apply_to_uri(&raw.target);
    let mut text = format!("{} {} {}{eol}", raw.method, target, raw.version);
    // Headers in input order; the ones signing sets are replaced in place, the rest appended.
    let added: Vec<(&str, &str)> = out.headers().collect();
    let mut printed = vec![false; added.len()];
    let dropped = |name: &str| {
        name.eq_ignore_ascii_case("authorization")
            || name.eq_ignore_ascii_case("x-amz-security-token")
            || (args.presign && name.eq_ignore_ascii_case("x-amz-date"))
    };
    for (name, value) in &raw.headers {
        if let Some(i) = added.iter().position(|(n, _)| n.eq_ignore_ascii_case(name)) {
            if !printed[i] && !added[i].0.eq_ignore_ascii_case("authorization") {
                text.push_str(&format!("{name}:{}{eol}", added[i].1));
                printed[i] = true;
            }
            continue;
        }
        if dropped(name) {
            continue;
        }
        text.push_str(&format!("{name}:{value}{eol}"));
    }
    for (i, (name, value)) in added.iter().enumerate() {
        if !printed[i] {
            text.push_str(&format!("{name}:{value}{eol}"));
        }
    }
    text.push_str(eol);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.write_all(&raw.body))
        .and_then(|_| stdout.flush())
        .map_err(crate::output::stdout_error)?;
    Ok(())
}

/// Percent-encodes as SigV4 does in query strings (unreserved characters kept).
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn first_line_crlf(input: &[u8]) -> bool {
    match input.iter().position(|&b| b == b'\n') {
        Some(i) => i > 0 && input[i - 1] == b'\r',
        None => false,
    }
}

/// Host labels before `amazonaws.com` (or `.com.cn`), port removed.
fn aws_labels(host: &str) -> Option<Vec<&str>> {
    let host = host
        .trim()
        .rsplit_once(':')
        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host.trim(), |(h, _)| h);
    let rest = host.strip_suffix(".amazonaws.com").or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    Some(rest.split('.').collect())
}

pub fn service_from_host(host: &str) -> Option<String> {
    let labels = aws_labels(host)?;
    if labels.iter().any(|l| *l == "s3" || l.starts_with("s3-")) {
        return Some("s3".to_owned());
    }
    labels.first().filter(|l| !l.is_empty()).map(|l| (*l).to_owned())
}

pub fn region_from_host(host: &str) -> Option<String> {
    let labels = aws_labels(host)?;
    labels
        .iter()
        .find(|l| {
            let parts: Vec<&str> = l.split('-').collect();
            parts.len() >= 3 && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|l| (*l).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_service_and_region() {
        assert_eq!(service_from_host("examplebucket.s3.amazonaws.com").as_deref(), Some("s3"));
        assert_eq!(service_from_host("b.s3.eu-west-1.amazonaws.com:443").as_deref(), Some("s3"));
        assert_eq!(service_from_host("sts.us-east-2.amazonaws.com").as_deref(), Some("sts"));
        assert_eq!(service_from_host("localhost:9000"), None);
        assert_eq!(region_from_host("sts.us-east-2.amazonaws.com").as_deref(), Some("us-east-2"));
        assert_eq!(region_from_host("example.amazonaws.com"), None);
    }
}
