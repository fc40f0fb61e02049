//! `cirrus sign`: read a raw HTTP request, print it signed (`cirrus_sigv4::raw_sign` does the
//! signing and the writing back).

use crate::{Failure, GlobalArgs};
use anyhow::{anyhow, Context};
use cirrus::signing::{region_from_host, service_from_host};
use cirrus::sigv4::raw::RawRequest;
use cirrus::sigv4::raw_sign::{line_ending, render, sign_raw};
use cirrus::sigv4::{SigningParams, SigningSettings};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

#[derive(clap::Args, Debug)]
pub(crate) struct SignArgs {
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

pub(crate) async fn run(global: &GlobalArgs, args: SignArgs) -> Result<(), Failure> {
    let file = args.file.as_deref().unwrap_or(Path::new("-"));
    let input = crate::read_limited("the request", file, crate::MAX_BODY_IN_MEMORY)?;
    let raw = RawRequest::parse(&input).map_err(|e| Failure::input(anyhow!("malformed request: {e}")))?;
    let host = raw.header("host").unwrap_or_default();
    let service = match args.service {
        Some(s) if s.trim().is_empty() => {
            return Err(Failure::input(anyhow!("--service is empty: name the signing name (s3, execute-api...)")))
        }
        Some(s) => s,
        None => service_from_host(host)
            .ok_or_else(|| Failure::input(anyhow!("cannot tell the service from Host {host:?}: pass --service")))?,
    };
    let config = crate::load_config(global)?;
    let region = match config.region().map(str::to_owned) {
        Some(r) => r,
        None => region_from_host(host)
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

    let mut settings = SigningSettings::for_service(&service);
    if args.presign {
        settings = settings.presigned(Duration::from_secs(args.expires));
    }
    let params = SigningParams::new(creds.access_key_id(), creds.secret_access_key(), &region, &service, time)
        .session_token(creds.session_token())
        .settings(settings);
    let out = sign_raw(&raw, &params, args.unsigned_payload).map_err(|e| {
        // An expiry out of range is the signer's refusal; anything else is the request's fault.
        let what = if e.is_invalid_params() { "cannot sign" } else { "malformed request" };
        Failure::input(anyhow!("{what}: {e}"))
    })?;
    if global.debug {
        // The canonical request carries the session token as a header or parameter: redacted.
        let canonical = out.redacted_canonical_request(creds.session_token());
        eprintln!("---- canonical request\n{canonical}\n---- string to sign\n{}\n----", out.string_to_sign());
    }
    crate::output::write_stdout_bytes(&render(&raw, &out, line_ending(&input)))
}
