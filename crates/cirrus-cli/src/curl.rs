//! `cirrus curl`: sign and send any request (awscurl). Prints the body; `-i` prints the status
//! line and headers first. Exits 1 when the status is 400 or more (the body is still printed).

use crate::{load_config, Failure, GlobalArgs};
use anyhow::{anyhow, Context};
use cirrus::signing::{region_from_host, service_from_host, RequestSigner};
use cirrus::transport::redact_url;

#[derive(clap::Args, Debug)]
pub(crate) struct CurlArgs {
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

pub(crate) async fn run(global: &GlobalArgs, args: CurlArgs) -> Result<(), Failure> {
    let url = checked_url(&args.url)?;
    let host = url.host().unwrap_or_default().to_owned();
    if args.service.as_deref().is_some_and(|s| s.trim().is_empty()) {
        return Err(Failure::input(anyhow!("--service is empty: name the signing name (s3, execute-api...)")));
    }
    let config = load_config(global)?;
    // Unsigned (--no-sign-request): no service or region is needed.
    let scope = match config.credentials() {
        Some(_) => Some(signing_scope(args.service.clone(), config.region(), &host)?),
        None => None,
    };
    let mut req = request(&args, &url)?;
    let response = async move {
        if let (Some(provider), Some((service, region))) = (config.credentials(), scope) {
            let signer = RequestSigner::new(provider.clone(), region, service);
            signer.sign_http(&mut req).await.map_err(anyhow::Error::new)?;
        }
        let resp = config.http().call(req, None).await.map_err(|e| {
            anyhow::Error::new(e).context(format!("request to {} failed", redact_url(&url.to_string())))
        })?;
        Ok::<_, anyhow::Error>(resp)
    }
    .await?;
    let status = response.status();
    if args.include {
        let mut head = format!("{:?} {status}\n", response.version());
        for (k, v) in response.headers() {
            head.push_str(&format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())));
        }
        head.push('\n');
        crate::output::write_stdout_bytes(head.as_bytes())?;
    }
    crate::output::write_stdout_bytes(response.body())?;
    if status.as_u16() >= 400 {
        return Err(anyhow!("HTTP {status}").into());
    }
    Ok(())
}

/// The URL, when it is http(s) with a host and no user info (which would go out in `Host`).
fn checked_url(given: &str) -> Result<http::Uri, Failure> {
    let url = given
        .parse::<http::Uri>()
        .ok()
        .filter(|u| u.host().is_some() && matches!(u.scheme_str(), Some("http" | "https")))
        .ok_or_else(|| {
            Failure::input(anyhow!("bad URL {:?}: expected http:// or https://HOST/...", redact_url(given)))
        })?;
    if url.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(Failure::input(anyhow!(
            "{:?} holds user info (user:password@): cirrus signs with AWS credentials and would send it in Host",
            redact_url(given)
        )));
    }
    Ok(url)
}

/// The signing name and region: as given, else read from the host.
fn signing_scope(service: Option<String>, region: Option<&str>, host: &str) -> Result<(String, String), Failure> {
    let Some(service) = service.or_else(|| service_from_host(host)) else {
        return Err(Failure::input(anyhow!("cannot tell the service from host {host:?}: pass --service")));
    };
    let Some(region) = region.map(str::to_owned).or_else(|| region_from_host(host)) else {
        return Err(Failure::input(anyhow!("no region: pass --region or set AWS_REGION")));
    };
    Ok((service, region))
}

/// The request the flags describe: method, URL, `-H` headers, `-d` body.
fn request(args: &CurlArgs, url: &http::Uri) -> Result<http::Request<bytes::Bytes>, Failure> {
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
    Ok(req)
}
