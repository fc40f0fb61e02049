//! Calls an API Gateway (`execute-api`) style endpoint with a signed request, the
//! aws-requests-auth use case. The endpoint is a loopback server started here that recomputes
//! the signature with `cirrus-sigv4` and answers 200 only when it matches, so the example proves
//! the signing end to end. With `--features middleware` it also sends through a
//! `reqwest-middleware` client.
//!
//! ```sh
//! cargo run -p cirrus --example execute_api --features middleware
//! ```

use cirrus::credentials::StaticCredentials;
use cirrus::signing::RequestSigner;
use cirrus::sigv4::{sign, Payload, SignableRequest, SigningParams};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "example-secret-key";
const REGION: &str = "eu-west-1";

/// Checks the request's SigV4 signature the way API Gateway would: rebuild the canonical
/// request from the signed headers, sign it with the known secret, compare.
fn verify(method: &str, target: &str, headers: &[(String, String)], body: &[u8]) -> Result<(), String> {
    let get = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.as_str());
    let auth = get("authorization").ok_or("no Authorization header")?;
    let signed: Vec<&str> = auth
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .ok_or("no SignedHeaders")?
        .split(';')
        .collect();
    let given = auth.split("Signature=").nth(1).ok_or("no Signature")?.trim();
    let time = get("x-amz-date").and_then(cirrus::sigv4::parse_amz_date).ok_or("no X-Amz-Date")?;
    let pairs: Vec<(&str, &str)> =
        headers.iter().filter(|(k, _)| signed.contains(&k.as_str())).map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let req = SignableRequest::new(method, target, pairs, Payload::Bytes(body)).map_err(|e| e.to_string())?;
    let params = SigningParams::new(ACCESS_KEY, SECRET, REGION, "execute-api", time);
    let expected = sign(&req, &params).map_err(|e| e.to_string())?;
    if expected.signature() == given {
        Ok(())
    } else {
        Err("signature mismatch".to_owned())
    }
}

async fn serve(listener: TcpListener) {
    loop {
        let Ok((mut conn, _)) = listener.accept().await else { return };
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let head_end = loop {
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i;
                }
                match conn.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
            let mut lines = head.split("\r\n");
            let mut first = lines.next().unwrap_or_default().split(' ');
            let (method, target) =
                (first.next().unwrap_or_default().to_owned(), first.next().unwrap_or_default().to_owned());
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            let len: usize =
                headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
            let mut body = buf[head_end + 4..].to_vec();
            while body.len() < len {
                match conn.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => body.extend_from_slice(&chunk[..n]),
                }
            }
            let (status, text) = match verify(&method, &target, &headers, &body) {
                Ok(()) => ("200 OK", "signature ok".to_owned()),
                Err(e) => ("403 Forbidden", e),
            };
            let reply =
                format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}", text.len());
            let _ = conn.write_all(reply.as_bytes()).await;
        });
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://127.0.0.1:{}/prod/pets?type=dog&limit=2", listener.local_addr()?.port());
    tokio::spawn(serve(listener));

    let credentials = Arc::new(StaticCredentials::new(ACCESS_KEY, SECRET, None));
    let signer = RequestSigner::new(credentials, REGION, "execute-api");
    let client = reqwest::Client::new();

    let mut request = client.post(&url).header("content-type", "application/json").body(r#"{"name":"rex"}"#).build()?;
    signer.sign_reqwest(&mut request).await?;
    let response = client.execute(request).await?;
    let status = response.status();
    println!("signed reqwest::Request: {status} {}", response.text().await?);
    if !status.is_success() {
        return Err("the server refused the signature".into());
    }

    let mut wrong = client.get(&url).build()?;
    RequestSigner::new(Arc::new(StaticCredentials::new(ACCESS_KEY, "wrong-secret", None)), REGION, "execute-api")
        .sign_reqwest(&mut wrong)
        .await?;
    let refused = client.execute(wrong).await?.status();
    println!("signed with a wrong secret: {refused}");
    if refused.as_u16() != 403 {
        return Err("a wrong signature was accepted".into());
    }

    #[cfg(feature = "middleware")]
    {
        let mw = reqwest_middleware::ClientBuilder::new(client.clone())
            .with(cirrus::signing::SigningMiddleware(signer.clone()))
            .build();
        let response = mw.get(&url).send().await?;
        let status = response.status();
        println!("through reqwest-middleware: {status} {}", response.text().await?);
        if !status.is_success() {
            return Err("the middleware's signature was refused".into());
        }
    }
    Ok(())
}
