//! Signed requests to Amazon OpenSearch Service, the aws-requests-auth use case: a search on a
//! managed domain (service `es`) and a document indexed in an OpenSearch Serverless collection
//! (service `aoss`, which wants the payload's SHA-256 in a signed `X-Amz-Content-SHA256`
//! header). Each request is signed with `cirrus-sigv4` and sent with cirrus's HTTP client; any
//! client would do (copy the parts onto its request).
//!
//! Credentials and region come from where the AWS CLI finds them (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_PROFILE`, `AWS_REGION`...). Exits 1 when a
//! request is refused.
//!
//! ```sh
//! cargo run -p cirrus --example opensearch -- https://search-movies-abc123.eu-west-1.es.amazonaws.com \
//!     https://abc123.eu-west-1.aoss.amazonaws.com
//! ```
//!
//! With one endpoint, both requests go to it (scripts/test points it at a loopback server that
//! checks each signature with botocore).

use bytes::Bytes;
use cirrus::credentials::ProvideCredentials;
use cirrus::sigv4::{sign_http, Payload, SigningParams, SigningSettings};
use cirrus::Config;
use std::process::ExitCode;

type BoxError = Box<dyn std::error::Error>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("opensearch: {}", cirrus::transport::report(&*e));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let domain = args.next().ok_or("usage: opensearch DOMAIN_URL [SERVERLESS_URL]")?;
    let serverless = args.next().unwrap_or_else(|| domain.clone());
    let config = Config::from_env()?;
    let region = config.region().unwrap_or("us-east-1").to_owned();

    // A managed domain: the payload hash goes into the signature only.
    let search = r#"{"query":{"match":{"title":"cirrus"}}}"#;
    let url = format!("{}/movies/_search", domain.trim_end_matches('/'));
    send(&config, &region, "es", http::Method::POST, &url, search, SigningSettings::default()).await?;

    // Serverless: the same, plus the hash in a signed X-Amz-Content-SHA256 header.
    let mut aoss = SigningSettings::default();
    aoss.content_sha256_header = true;
    let doc = r#"{"title":"cirrus","year":2026}"#;
    let url = format!("{}/movies/_doc/1", serverless.trim_end_matches('/'));
    send(&config, &region, "aoss", http::Method::PUT, &url, doc, aoss).await
}

/// Signs a JSON request for `service` and sends it; an answer other than 2xx is an error.
async fn send(
    config: &Config,
    region: &str,
    service: &str,
    method: http::Method,
    url: &str,
    body: &str,
    settings: SigningSettings,
) -> Result<(), BoxError> {
    let creds = config.credentials().ok_or("no credentials configured")?.provide_credentials().await?;
    let (mut parts, ()) = http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(())?
        .into_parts();
    let params = SigningParams::new(
        creds.access_key_id(),
        creds.secret_access_key(),
        region,
        service,
        config.context().clock().now(),
    )
    .session_token(creds.session_token())
    .settings(settings);
    sign_http(&mut parts, Payload::Bytes(body.as_bytes()), &params)?;
    let request = http::Request::from_parts(parts, Bytes::copy_from_slice(body.as_bytes()));
    let response = config.http().call(request, None).await?;
    let status = response.status();
    let text = String::from_utf8_lossy(response.body());
    println!("{service}: {status} {}", text.trim());
    if !status.is_success() {
        return Err(format!("{service}: the request was refused ({status})").into());
    }
    Ok(())
}
