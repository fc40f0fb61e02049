//! The ECS / EKS Pod Identity container credentials endpoint.
//!
//! `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is a path on `http://169.254.170.2`;
//! `AWS_CONTAINER_CREDENTIALS_FULL_URI` is a whole URL, allowed over https to any host and over
//! http only to a loopback address, 169.254.170.2, 169.254.170.23 or fd00:ec2::23 (so a
//! variable set by an attacker cannot send the token elsewhere in clear). The authorization
//! token comes from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read each time) or
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`; one holding CR or LF is refused.

use super::{BoxFuture, Credentials, CredentialsError, ProvideCredentials};
use crate::context::Context;
use std::time::Duration;

const ECS_HOST: &str = "http://169.254.170.2";
const TIMEOUT: Duration = Duration::from_secs(2);
const ATTEMPTS: u32 = 3;

/// The container provider.
#[derive(Clone, Debug)]
pub struct ContainerCredentials {
    ctx: Context,
}

impl ContainerCredentials {
    /// Reads its settings through `ctx` on each fetch.
    pub fn new(ctx: &Context) -> Self {
        ContainerCredentials { ctx: ctx.clone() }
    }

    /// The URL to ask, or why there is none.
    pub fn endpoint(&self) -> Result<String, CredentialsError> {
        let env = self.ctx.env();
        if let Some(rel) = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            if !rel.starts_with('/') {
                return Err(CredentialsError::invalid(format!(
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with /, got {rel:?}"
                )));
            }
            return Ok(format!("{ECS_HOST}{rel}"));
        }
        let Some(full) = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI") else {
            return Err(CredentialsError::not_configured(
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set",
            ));
        };
        // A port past 65535 would otherwise become the scheme's default port, unsaid.
        let url = full
            .parse::<http::Uri>()
            .ok()
            .filter(|u| u.host().is_some() && crate::transport::valid_url(&full))
            .ok_or_else(|| {
            CredentialsError::invalid(format!("AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL: {full:?}"))
        })?;
        match url.scheme_str().unwrap_or("") {
            "https" => {}
            "http" if allowed_http_host(url.host().unwrap_or("")) => {}
            "http" => {
                return Err(CredentialsError::invalid(format!(
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI host {:?} is not allowed over http: use https, a loopback address, 169.254.170.2, 169.254.170.23 or fd00:ec2::23",
                    url.host().unwrap_or("")
                )))
            }
            other => {
                return Err(CredentialsError::invalid(format!(
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI scheme {other:?} is not http or https"
                )))
            }
        }
        Ok(full)
    }

    fn token(&self) -> Result<Option<String>, CredentialsError> {
        let env = self.ctx.env();
        let token = match env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            Some(path) => Some(self.ctx.fs().read_to_string(path.as_ref()).map_err(|e| {
                CredentialsError::invalid(format!("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {path}"))
                    .with_source(e)
            })?),
            None => env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
        };
        let token = token.map(|t| t.trim_end_matches(['\r', '\n']).to_owned());
        if token.as_deref().is_some_and(|t| t.contains(['\r', '\n'])) {
            return Err(CredentialsError::invalid(
                "the container authorization token contains CR or LF; refusing to send it",
            ));
        }
        Ok(token)
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let url = self.endpoint()?;
        let token = self.token()?;
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
            let mut req = http::Request::get(&url);
            if let Some(t) = &token {
                req = req.header("authorization", t);
            }
            let req = req.body(bytes::Bytes::new()).map_err(|e| {
                CredentialsError::invalid(format!("container credentials request to {url} cannot be built: {e}"))
            })?;
            let resp = match self.ctx.http().call_direct(req, Some(TIMEOUT)).await {
                Ok(r) => r,
                Err(e) => {
                    last = Some(
                        CredentialsError::unavailable("no answer from the container credentials endpoint")
                            .with_source(e),
                    );
                    continue;
                }
            };
            let status = resp.status().as_u16();
            let body = resp.into_body();
            if status >= 500 || status == 429 {
                last = Some(CredentialsError::unavailable(format!(
                    "container credentials endpoint {url} answered {status}"
                )));
                continue;
            }
            if status != 200 {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let msg = v.get("message").or_else(|| v.get("Message")).and_then(|m| m.as_str()).unwrap_or("");
                return Err(CredentialsError::rejected(format!(
                    "container credentials endpoint {url} answered {status} {msg}"
                )));
            }
            return parse_json_credentials(&body, "container").map_err(|e| {
                CredentialsError::invalid(format!("container credentials endpoint {url} sent a bad document: {e}"))
            });
        }
        Err(last
            .unwrap_or_else(|| CredentialsError::unavailable(format!("container credentials endpoint {url} failed"))))
    }
}

/// The hosts the SDKs allow over plain http: loopback, and the ECS and EKS agents.
fn allowed_http_host(host: &str) -> bool {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    if let Some(v6) = bare {
        return v6
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|ip| ip.is_loopback() || ip == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23));
    }
    match host.parse::<std::net::Ipv4Addr>() {
        Ok(ip) => {
            ip.is_loopback()
                || ip == std::net::Ipv4Addr::new(169, 254, 170, 2)
                || ip == std::net::Ipv4Addr::new(169, 254, 170, 23)
        }
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// The JSON document of the container endpoint and IMDS: `AccessKeyId`, `SecretAccessKey`,
/// `Token`, `Expiration`.
pub(crate) fn parse_json_credentials(body: &[u8], provider: &'static str) -> Result<Credentials, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("not JSON (line {}, column {})", e.line(), e.column()))?;
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).filter(|s| !s.is_empty());
    if let Some(code) = field("Code") {
        if code != "Success" {
            return Err(format!("Code is {code:?}, not \"Success\""));
        }
    }
    let ak = field("AccessKeyId").ok_or("no AccessKeyId")?;
    let sk = field("SecretAccessKey").ok_or("no SecretAccessKey")?;
    let expiry = match field("Expiration") {
        None => None,
        Some(e) => {
            Some(cirrus_sigv4::parse_rfc3339(e).ok_or_else(|| format!("Expiration {e:?} is not an RFC 3339 time"))?)
        }
    };
    Ok(Credentials::new(ak, sk, field("Token").map(str::to_owned), expiry, provider))
}

impl ProvideCredentials for ContainerCredentials {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(self.fetch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn endpoint<const N: usize>(vars: [(&'static str, &'static str); N]) -> Result<String, String> {
        let ctx = Context::new(Arc::new(vars), Arc::new(crate::fs::MemFs::default()));
        ContainerCredentials::new(&ctx).endpoint().map_err(|e| e.to_string())
    }

    #[test]
    fn full_uri_allow_list() {
        for ok in [
            "http://127.0.0.1:8080/creds",
            "http://127.1.2.3/x",
            "http://localhost/x",
            "http://[::1]:9/x",
            "http://169.254.170.2/x",
            "http://169.254.170.23/v1/credentials",
            "http://[fd00:ec2::23]/v1/credentials",
            "https://anywhere.example.com/creds",
        ] {
            let vars = [("AWS_CONTAINER_CREDENTIALS_FULL_URI", ok)];
            assert_eq!(endpoint(vars).as_deref(), Ok(ok), "{ok}");
        }
        for bad in
            // 169.254.170.2:99999 went to port 80 before: http::Uri takes the port and reports none.
            [
                "http://169.254.169.254/x",
                "http://example.com/x",
                "http://10.0.0.1/",
                "ftp://127.0.0.1/",
                "not a url",
                "http://169.254.170.2:99999/x",
            ]
        {
            assert!(endpoint([("AWS_CONTAINER_CREDENTIALS_FULL_URI", bad)]).is_err(), "{bad}");
        }
        assert_eq!(
            endpoint([("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds")]).unwrap(),
            "http://169.254.170.2/v2/creds"
        );
        assert!(endpoint([]).unwrap_err().contains("not set"));
    }

    #[test]
    fn tokens_with_line_breaks_are_refused() {
        let ctx = Context::new(
            Arc::new([("AWS_CONTAINER_AUTHORIZATION_TOKEN", "abc\r\nX-Evil: 1")]),
            Arc::new(crate::fs::MemFs::default()),
        );
        assert!(ContainerCredentials::new(&ctx).token().unwrap_err().to_string().contains("CR or LF"));
        let ctx = Context::new(
            Arc::new([("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/t"), ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "env")]),
            Arc::new(crate::fs::MemFs::new([("/t", "from-file\n")])),
        );
        assert_eq!(ContainerCredentials::new(&ctx).token().unwrap().as_deref(), Some("from-file"));
    }
}
