//! Calls STS GetCallerIdentity, signed by cirrus-sigv4, sent by reqwest.
//!
//! Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional `AWS_SESSION_TOKEN` and
//! `AWS_REGION` (default `us-east-1`), and `AWS_ENDPOINT_URL` to talk to a local server
//! instead of AWS (for example `http://127.0.0.1:5000` for moto).

use cirrus_sigv4::{sign, Payload, SignableRequest, SigningParams};
use std::time::SystemTime;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let access_key = var("AWS_ACCESS_KEY_ID").ok_or("AWS_ACCESS_KEY_ID is not set")?;
    let secret_key = var("AWS_SECRET_ACCESS_KEY").ok_or("AWS_SECRET_ACCESS_KEY is not set")?;
    let token = var("AWS_SESSION_TOKEN");
    let region = var("AWS_REGION").unwrap_or_else(|| "us-east-1".into());
    let endpoint = var("AWS_ENDPOINT_URL").unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com"));
    let host = endpoint.split("://").nth(1).unwrap_or(&endpoint).trim_end_matches('/').to_owned();

    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let headers = [("host", host.as_str()), ("content-type", "application/x-www-form-urlencoded")];
    let request = SignableRequest::new("POST", "/", headers, Payload::Bytes(body.as_bytes()))?;
    let params = SigningParams::new(&access_key, &secret_key, &region, "sts", SystemTime::now())
        .session_token(token.as_deref());
    let signed = sign(&request, &params)?;

    // Any client works: copy the headers the signer returns onto the request it sends.
    let mut builder = reqwest::Client::new()
        .post(format!("{}/", endpoint.trim_end_matches('/')))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    for (name, value) in signed.headers() {
        builder = builder.header(name, value);
    }
    let response = builder.send().await?;
    println!("{}", response.status());
    println!("{}", response.text().await?);
    Ok(())
}
