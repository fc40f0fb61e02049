//! `cirrus curl`: sign and send any request (awscurl). Prints the body; `-i` prints the status
//! line and headers first. Exits 1 when the status is 400 or more (the body is still printed).

use crate::{load_config, Failure, GlobalArgs};
use anyhow::{anyhow, Context};
use cirrus::signing::RequestSigner;
use cirrus::transport::redact_url;
use std::io::Write;

#[derive(clap::Args, Debug)]
pub struct CurlArgs {
    /// The signing name of the service (`execute-api`, `es`, `s3`...). Default: from the host.
    #[arg(long)]
    service: Option<String>,
    /// The method. Default: GET, or POST with -d.
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    method: Option<String>,
    /// A header, `Name: value`. Repeatable.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The body, or `@FILE` to read it from a file (`@-` for standard input).
    #[arg(short = 'd', long = "data", value_name = "DATA|@FILE")]
    data: Option<String>,
    /// Print the status line and the response headers before the body.
    #[arg(short = 'i', long = "include")]
    include: bool,
    /// The URL.
    url: String,
}

pub async fn run(global: &GlobalArgs, args: CurlArgs) -> Result<(), Failure> {
    let url = args
        .url
        .parse::<http::Uri>()
        .ok()
        .filter(|u| u.host().is_some() && matches!(u.scheme_str(), Some("http" | "https")))
        .ok_or_else(|| {
            Failure::input(anyhow!("bad URL {:?}: expected http:// or https://HOST/...", redact_url(&args.url)))
        })?;
    if url.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(Failure::input(anyhow!(
            "{:?} holds user info (user:password@): cirrus signs with AWS credentials and would send it in Host",
            redact_url(&args.url)
        )));
    }
    let host = url.host().unwrap_or_default().to_owned();
    if args.service.as_deref().is_some_and(|s| s.trim().is_empty()) {
        return Err(Failure::input(anyhow!("--service is empty: name the signing name (s3, execute-api...)")));
    }
    let config = load_config(global)?;
    // Unsigned (--no-sign-request): no service or region is needed.
    let signing = if config.credentials().is_some() {
        let service = match args.service.clone().or_else(|| crate::sign::service_from_host(&host)) {
            Some(s) => s,
            None => return Err(Failure::input(anyhow!("cannot tell the service from host {host:?}: pass --service"))),
        };
        let region = match config.region().map(str::to_owned).or_else(|| crate::sign::region_from_host(&host)) {
            Some(r) => r,
            None => return Err(Failure::input(anyhow!("no region: pass --region or set AWS_REGION"))),
        };
        Some((service, region))
    } else {
        None
    };
    let body = match args.data.as_deref() {
        None => Vec::new(),
        Some(d) if d.starts_with('@') => {
            crate::read_limited("--data", std::path::Path::new(&d[1..]), crate::MAX_BODY_IN_MEMORY)?
        }
        Some(d) => d.as_bytes().to_vec(),
    };
    let method = args.method.clone().unwrap_or_else(|| if args.data.is_some() { "POST".into() } else { "GET".into() });
    let method = http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| Failure::input(anyhow!("bad method {method:?}")))?;
    let mut req = http::Request::builder()
        .method(method)
        .uri(url.clone())
        .body(bytes::Bytes::from(body))
        .context("cannot build the request")?;
    for h in &args.headers {
        let (name, value) =
            h.split_once(':').ok_or_else(|| Failure::input(anyhow!("header {h:?} is not `Name: value`")))?;
        let name = http::HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| Failure::input(anyhow!("bad header name in {h:?}")))?;
        let value = http::HeaderValue::from_str(value.trim())
            .map_err(|_| Failure::input(anyhow!("bad header value in {h:?}")))?;
        req.headers_mut().append(name, value);
    }
    let response = async move {
        if let (Some(provider), Some((service, region))) = (config.credentials(), signing) {
            let signer = RequestSigner::new(provider.clone(), region, service);
            signer.sign_http(&mut req).await.map_err(anyhow::Error::new)?;
        }
        let resp = config.http().call(req, None).await.map_err(|e| {
            anyhow::Error::new(e).context(format!("request to {} failed", redact_url(&url.to_string())))
        })?;
        Ok::<_, anyhow::Error>((resp.status(), resp.version(), resp.headers().clone(), resp.into_body()))
    }
    .await?;
    let (status, version, headers, body) = response;
    let mut out = std::io::stdout().lock();
    if args.include {
        let mut head = format!("{version:?} {status}\n");
        for (k, v) in &headers {
            head.push_str(&format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())));
        }
        head.push('\n');
        out.write_all(head.as_bytes()).map_err(crate::output::stdout_error)?;
    }
    out.write_all(&body).and_then(|_| out.flush()).map_err(crate::output::stdout_error)?;
    if status.as_u16() >= 400 {
        return Err(anyhow!("HTTP {status}").into());
    }
    Ok(())
}
