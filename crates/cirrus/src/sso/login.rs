//! Logging in to IAM Identity Center, as `aws sso login` does: the device authorization grant
//! (a code to type at a URL; the client polls), or the authorization-code grant with PKCE and
//! a loopback redirect (the AWS CLI's default). Either way the token lands in the AWS CLI's
//! cache.

use super::{DeviceAuthorization, Grant, OidcClient, Registration, SsoToken, TokenCache, DEFAULT_SCOPE};
use crate::profile::ProfileSet;
use crate::transport::Error;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What to log in to.
#[derive(Clone, Debug)]
pub struct LoginTarget {
    /// The `sso-session` name; `None` for a legacy profile.
    pub session: Option<String>,
    /// The start URL.
    pub start_url: String,
    /// The Identity Center region.
    pub region: String,
    /// `sso_registration_scopes` (default `sso:account:access`).
    pub scopes: Vec<String>,
}

impl LoginTarget {
    /// The login of `[sso-session NAME]`: its `sso_start_url`, `sso_region` and
    /// `sso_registration_scopes` (comma-separated).
    pub fn for_session(set: &ProfileSet, name: &str) -> Result<LoginTarget, LoginError> {
        let file = set.sources().config_file.display();
        let s = set
            .section("sso-session", name)
            .ok_or_else(|| LoginError::settings(format!("there is no [sso-session {name}] section in {file}")))?;
        let (Some(url), Some(region)) = (s.get("sso_start_url"), s.get("sso_region")) else {
            return Err(LoginError::settings(format!(
                "[sso-session {name}] in {file} needs sso_start_url and sso_region"
            )));
        };
        let scopes = s
            .get("sso_registration_scopes")
            .map(|v| v.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect())
            .unwrap_or_default();
        Ok(LoginTarget { session: Some(name.to_owned()), start_url: url.to_owned(), region: region.to_owned(), scopes })
    }

    /// The login a profile uses: its `sso_session`, or its own `sso_start_url` and `sso_region`
    /// (a legacy profile).
    pub fn for_profile(set: &ProfileSet, profile: &str) -> Result<LoginTarget, LoginError> {
        let files = set.sources();
        let p = set.get(profile).ok_or_else(|| {
            LoginError::settings(format!(
                "the profile `{profile}` is in neither {} nor {}",
                files.config_file.display(),
                files.credentials_file.display()
            ))
        })?;
        if let Some(session) = p.get("sso_session") {
            return LoginTarget::for_session(set, session);
        }
        match (p.get("sso_start_url"), p.get("sso_region")) {
            (Some(url), Some(region)) => Ok(LoginTarget {
                session: None,
                start_url: url.to_owned(),
                region: region.to_owned(),
                scopes: Vec::new(),
            }),
            _ => Err(LoginError::settings(format!(
                "the profile `{profile}` has no sso_session, nor sso_start_url and sso_region: it does not use IAM Identity Center"
            ))),
        }
    }

    /// The token cache's key: the session name, or the start URL.
    pub fn cache_key(&self) -> &str {
        self.session.as_deref().unwrap_or(&self.start_url)
    }

    fn scopes(&self) -> Vec<String> {
        if self.scopes.is_empty() {
            vec![DEFAULT_SCOPE.to_owned()]
        } else {
            self.scopes.clone()
        }
    }
}

/// Why a login did not finish: the settings do not say what to log in to (bad input), the
/// person did not approve, the redirect did not come back as expected, a call to SSO OIDC
/// failed, or the token could not be cached. Display says what; the cause is the
/// [`source`](std::error::Error::source).
#[derive(Debug)]
pub struct LoginError(Why);

#[derive(Debug)]
enum Why {
    Settings(String),
    Call(Error),
    NotApproved(String),
    Redirect(String, Option<std::io::Error>),
    Cache(std::io::Error),
    /// SSO OIDC gave a token that has already expired.
    Expired,
}

impl LoginError {
    fn settings(message: String) -> Self {
        LoginError(Why::Settings(message))
    }

    fn not_approved(message: String) -> Self {
        LoginError(Why::NotApproved(message))
    }

    fn redirect(message: &str, source: std::io::Error) -> Self {
        LoginError(Why::Redirect(message.to_owned(), Some(source)))
    }

    /// The profile or session does not say what to log in to: the user's input to fix.
    pub fn is_settings(&self) -> bool {
        matches!(self.0, Why::Settings(_))
    }

    /// The person did not approve in time, or denied.
    pub fn is_not_approved(&self) -> bool {
        matches!(self.0, Why::NotApproved(_))
    }

    /// The SSO OIDC call's error, when a call failed.
    pub fn call_error(&self) -> Option<&Error> {
        match &self.0 {
            Why::Call(e) => Some(e),
            _ => None,
        }
    }
}

impl std::fmt::Display for LoginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Why::Call(_) => f.write_str("the login call failed"),
            Why::Settings(m) | Why::NotApproved(m) | Why::Redirect(m, _) => f.write_str(m),
            Why::Cache(_) => f.write_str("cannot write the token to the SSO cache"),
            Why::Expired => f.write_str("SSO OIDC gave a token that has already expired (its clock or the server's is off?); nothing was cached"),
        }
    }
}

impl std::error::Error for LoginError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            Why::Call(e) => Some(e),
            Why::Cache(e) | Why::Redirect(_, Some(e)) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for LoginError {
    fn from(e: Error) -> Self {
        LoginError(Why::Call(e))
    }
}

const CLIENT_NAME: &str = "cirrus";

fn token(target: &LoginTarget, registration: &Registration, grant: super::TokenGrant, now: SystemTime) -> SsoToken {
    SsoToken {
        start_url: target.start_url.clone(),
        region: target.region.clone(),
        access_token: grant.access_token,
        expires_at: now + grant.expires_in,
        client_id: Some(registration.client_id.clone()),
        client_secret: Some(registration.client_secret.clone()),
        registration_expires_at: Some(registration.expires_at),
        refresh_token: grant.refresh_token,
    }
}

/// Caches the token of a login that worked; a token that is already expired is no login.
fn store(cache: &TokenCache, target: &LoginTarget, t: &SsoToken) -> Result<(), LoginError> {
    if t.expires_at <= SystemTime::now() {
        return Err(LoginError(Why::Expired));
    }
    cache.store(target.cache_key(), t).map_err(|e| LoginError(Why::Cache(e)))
}

/// The device authorization grant: registers a client, starts the authorization, hands it to
/// `show` (print the URL and code), polls at the server's interval (slower on
/// `SlowDownException`) until the person approves, and caches the token.
pub async fn device_login(
    oidc: &OidcClient,
    cache: &TokenCache,
    target: &LoginTarget,
    show: impl FnOnce(&DeviceAuthorization),
) -> Result<SsoToken, LoginError> {
    let registration = oidc.register_client(CLIENT_NAME, &target.scopes(), None).await?;
    let auth = oidc.start_device_authorization(&registration, &target.start_url).await?;
    show(&auth);
    let deadline = tokio::time::Instant::now() + auth.expires_in;
    let mut interval = auth.interval;
    loop {
        tokio::time::sleep(interval).await;
        match oidc.create_token(&registration, Grant::DeviceCode(&auth.device_code)).await {
            Ok(grant) => {
                let t = token(target, &registration, grant, SystemTime::now());
                store(cache, target, &t)?;
                return Ok(t);
            }
            Err(e) if e.code() == Some("AuthorizationPendingException") => {}
            Err(e) if e.code() == Some("SlowDownException") => interval += Duration::from_secs(5),
            Err(e) if matches!(e.code(), Some("AccessDeniedException" | "ExpiredTokenException")) => {
                return Err(LoginError::not_approved(format!(
                    "the device authorization was {} ({})",
                    if e.code() == Some("AccessDeniedException") { "denied" } else { "not approved in time" },
                    e.code().unwrap_or_default()
                )));
            }
            Err(e) => return Err(e.into()),
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(LoginError::not_approved(format!(
                "the device authorization was not approved within {} s",
                auth.expires_in.as_secs()
            )));
        }
    }
}

/// 32 random bytes, base64url without padding (a PKCE verifier, a state).
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    let rng = ring::rand::SystemRandom::new();
    if ring::rand::SecureRandom::fill(&rng, &mut bytes).is_err() {
        // No system randomness is no login: fall back to fastrand, still unpredictable enough
        // for a one-minute loopback exchange, and never silent.
        tracing::warn!("no system randomness; using fastrand for the PKCE verifier");
        bytes.iter_mut().for_each(|b| *b = fastrand::u8(..));
    }
    base64url(&bytes)
}

fn base64url(bytes: &[u8]) -> String {
    cirrus_sigv4::base64(bytes).trim_end_matches('=').replace('+', "-").replace('/', "_")
}

/// The PKCE S256 challenge of `verifier`.
pub fn pkce_challenge(verifier: &str) -> String {
    base64url(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref())
}

/// The authorization-code grant with PKCE: registers a client for a loopback redirect, listens
/// on 127.0.0.1 (a free port), hands the authorization URL to `open` (a browser, or print it),
/// waits up to `wait` for the redirect, checks its state, trades the code for a token and caches
/// it.
pub async fn pkce_login(
    oidc: &OidcClient,
    cache: &TokenCache,
    target: &LoginTarget,
    wait: Duration,
    open: impl FnOnce(&str),
) -> Result<SsoToken, LoginError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| LoginError::redirect("cannot listen on 127.0.0.1 for the redirect", e))?;
    let port =
        listener.local_addr().map_err(|e| LoginError::redirect("cannot read the redirect listener's port", e))?.port();
    let redirect_uri = format!("http://127.0.0.1:{port}/oauth/callback");
    let registration = oidc
        .register_client(CLIENT_NAME, &target.scopes(), Some(("http://127.0.0.1/oauth/callback", &target.start_url)))
        .await?;
    let verifier = random_token();
    let state = random_token();
    let mut url = oidc.authorize_url();
    let scopes = target.scopes().join(" ");
    for (i, (k, v)) in [
        ("response_type", "code"),
        ("client_id", registration.client_id.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("state", state.as_str()),
        ("code_challenge_method", "S256"),
        ("scopes", scopes.as_str()),
        ("code_challenge", pkce_challenge(&verifier).as_str()),
    ]
    .iter()
    .enumerate()
    {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(k);
        url.push('=');
        cirrus_sigv4::uri_encode_into(&mut url, v, false);
    }
    open(&url);
    let code = tokio::time::timeout(wait, receive_code(&listener, &state))
        .await
        .map_err(|_| LoginError::not_approved(format!("no redirect came back within {} s", wait.as_secs())))??;
    let grant = oidc
        .create_token(
            &registration,
            Grant::AuthorizationCode { code: &code, verifier: &verifier, redirect_uri: &redirect_uri },
        )
        .await?;
    let t = token(target, &registration, grant, SystemTime::now());
    store(cache, target, &t)?;
    Ok(t)
}

/// A request's head, up to 16 KiB: until the blank line, the end of the stream or an error.
async fn read_head(conn: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    head
}

/// Serves the redirect: the first `GET /oauth/callback` with our state gives the code; anything
/// else is answered and ignored (a browser also asks for `/favicon.ico`).
async fn receive_code(listener: &tokio::net::TcpListener, state: &str) -> Result<String, LoginError> {
    // Connections are served side by side: one that sends nothing (a browser's preconnect, a
    // stray local program) times out on its own without holding up the redirect. At most
    // `AT_ONCE` are open; the others wait to be accepted.
    const AT_ONCE: usize = 32;
    let mut open: tokio::task::JoinSet<Option<Result<String, String>>> = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept(), if open.len() < AT_ONCE => {
                let (conn, _) = accepted.map_err(|e| LoginError::redirect("cannot accept the redirect", e))?;
                open.spawn(serve_redirect(conn, state.to_owned()));
            }
            Some(done) = open.join_next(), if !open.is_empty() => match done {
                Ok(Some(Ok(code))) => return Ok(code),
                Ok(Some(Err(error))) => {
                    return Err(LoginError::not_approved(format!("the login was refused: {error}")))
                }
                _ => {}
            },
        }
    }
}

/// One connection to the redirect listener: the code (or the error) of a redirect for the
/// login in progress, `None` for anything else (answered 404 or 400, or silent for 2 s).
async fn serve_redirect(mut conn: tokio::net::TcpStream, state: String) -> Option<Result<String, String>> {
    let head = tokio::time::timeout(Duration::from_secs(2), read_head(&mut conn)).await.ok()?;
    let line = String::from_utf8_lossy(head.split(|&b| b == b'\r').next().unwrap_or_default()).into_owned();
    let target = line.split(' ').nth(1).unwrap_or_default();
    let Some(query) = target.strip_prefix("/oauth/callback?") else {
        let _ = conn.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
        return None;
    };
    let params: Vec<(String, String)> = query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (status, page, result) = if get("state").as_deref() != Some(state.as_str()) {
        ("400 Bad Request", "cirrus: this redirect is not for the login in progress.", None)
    } else if let Some(error) = get("error") {
        ("200 OK", "cirrus: the login was refused. You can close this window.", Some(Err(error)))
    } else if let Some(code) = get("code") {
        ("200 OK", "cirrus: logged in. You can close this window.", Some(Ok(code)))
    } else {
        ("400 Bad Request", "cirrus: the redirect has no code.", None)
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = conn.write_all(reply.as_bytes()).await;
    result
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let v = random_token();
        assert_eq!(v.len(), 43);
        assert!(v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    /// A grant whose token has already expired is no login: an error, and nothing cached.
    #[test]
    fn an_expired_token_is_not_a_login() {
        let dir = std::env::temp_dir().join(format!("cirrus-sso-expired-{}", std::process::id()));
        let cache = TokenCache::new(&dir);
        let target = LoginTarget {
            session: Some("s".into()),
            start_url: "https://x.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            scopes: Vec::new(),
        };
        let registration = super::super::Registration {
            client_id: "c".into(),
            client_secret: String::from("s").into(),
            expires_at: SystemTime::now() + Duration::from_secs(3600),
        };
        let grant = |secs| super::super::TokenGrant {
            access_token: String::from("tok").into(),
            expires_in: Duration::from_secs(secs),
            refresh_token: None,
        };
        let expired = token(&target, &registration, grant(0), SystemTime::now() - Duration::from_secs(1));
        let e = store(&cache, &target, &expired).unwrap_err();
        assert!(e.to_string().contains("already expired"), "{e}");
        assert!(cache.load(target.cache_key()).is_none());
        let fresh = token(&target, &registration, grant(3600), SystemTime::now());
        store(&cache, &target, &fresh).unwrap();
        assert!(cache.load(target.cache_key()).is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(percent_decode("a%2Fb+c%zz%4"), "a/b c%zz%4");
    }
}
