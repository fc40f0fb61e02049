//! The send loop of every AWS call, in named steps: [`build`](ServiceConfig::build) the request
//! line and headers, [`sign`](ServiceConfig::sign) them, [`dispatch`](ServiceConfig::dispatch)
//! through the pool, [`classify`](ServiceConfig::classify) the answer, and
//! [`back_off`](ServiceConfig::back_off) before the next attempt. Re-signed every attempt, so a
//! retry carries a fresh date and, after an expired token, fresh credentials.

use super::client::{self, CallError};
use super::{protocol, retry, Error, Request, Response, ServiceConfig, StreamingResponse};
use crate::identity::Credentials;
use cirrus_sigv4::{Payload, SigningParams, SigningSettings};
use futures_util::stream::StreamExt;
use http::HeaderMap;
use hyper::body::Incoming;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// A successful answer: read whole, or handed over as a stream.
enum Answer {
    Buffered(Response),
    Streaming(StreamingResponse),
}

/// How one attempt ended.
enum Attempt {
    Done(Answer),
    Failed { error: Error, retry: bool, timeout: bool, hint: Option<Duration> },
}

/// What the loop remembers between attempts.
#[derive(Default)]
struct Retries {
    attempt: u32,
    /// Retry quota spent, given back on success.
    spent: u32,
    /// A clock-skew correction was retried (once).
    skew_retried: bool,
    /// Expired credentials were invalidated and retried (once).
    token_refreshed: bool,
}

impl ServiceConfig {
    /// Signs and sends `request`, retrying as the standard retry mode does and re-signing each
    /// attempt. Non-2xx answers (and S3's errors in a `200`) become [`Error`]s.
    pub async fn send(&self, operation: &'static str, request: Request) -> Result<Response, Error> {
        match self.send_answer(operation, request, false).await? {
            Answer::Buffered(r) => Ok(r),
            Answer::Streaming(_) => {
                Err(Error::response(self.spec.name, operation, "a streamed answer to a buffered call"))
            }
        }
    }

    /// Like [`send`](Self::send), but a successful answer's body is handed over unread, as a
    /// stream (errors are still read whole, and retried as `send` does). The operation timeout
    /// covers the wait for the response head, not the reading of the body.
    pub async fn send_streaming(&self, operation: &'static str, request: Request) -> Result<StreamingResponse, Error> {
        match self.send_answer(operation, request, true).await? {
            Answer::Streaming(r) => Ok(r),
            Answer::Buffered(r) => {
                let body = r.body;
                Ok(StreamingResponse {
                    status: r.status,
                    headers: r.headers,
                    body: futures_util::stream::once(async move { Ok(body) }).boxed(),
                })
            }
        }
    }

    /// The whole loop, within the operation timeout when there is one.
    async fn send_answer(&self, operation: &'static str, request: Request, stream: bool) -> Result<Answer, Error> {
        match self.http.inner.settings.operation_timeout {
            None => self.send_with_retries(operation, request, stream).await,
            Some(t) => match tokio::time::timeout(t, self.send_with_retries(operation, request, stream)).await {
                Ok(r) => r,
                Err(_) => Err(Error::transport(self.spec.name, operation, CallError::operation_timed_out(t))),
            },
        }
    }

    async fn send_with_retries(
        &self,
        operation: &'static str,
        request: Request,
        stream: bool,
    ) -> Result<Answer, Error> {
        let mut state = Retries::default();
        loop {
            state.attempt += 1;
            let used_skew = self.http.inner.skew_ms.load(Ordering::Relaxed);
            self.http.before_attempt().await;
            let (outcome, access_key) = self.attempt(operation, &request, stream).await?;
            let (error, retryable, timeout, hint) = match outcome {
                Attempt::Done(r) => {
                    self.http.after_attempt(false);
                    self.http.inner.quota.release(state.spent);
                    return Ok(r);
                }
                Attempt::Failed { error, retry, timeout, hint } => (error, retry, timeout, hint),
            };
            self.http.after_attempt(error.is_throttling());
            let retryable = retryable || self.retry_anyway(&error, used_skew, access_key, &mut state);
            if !retryable || state.attempt >= self.http.inner.settings.retry.max_attempts {
                return Err(error.with_attempts(state.attempt));
            }
            if !self.back_off(operation, &error, timeout, hint, &mut state).await {
                return Err(error.with_attempts(state.attempt));
            }
        }
    }

    /// One attempt: credentials, build, sign, dispatch, classify. `Err` only for what no retry
    /// can mend (no credentials, a request that cannot be built or signed, a body too large).
    async fn attempt(
        &self,
        operation: &'static str,
        request: &Request,
        stream: bool,
    ) -> Result<(Attempt, Option<String>), Error> {
        let credentials = match &self.credentials {
            None => None,
            Some(p) => {
                Some(p.provide_credentials().await.map_err(|e| Error::credentials(self.spec.name, operation, e))?)
            }
        };
        let mut parts = self.build(operation, request)?;
        if let Some(c) = &credentials {
            self.sign(operation, &mut parts, request, c)?;
        }
        let access_key = credentials.as_ref().map(|c| c.access_key_id().to_owned());
        let uri = parts.uri.clone();
        let outcome = match self.dispatch(operation, parts, request).await {
            Ok(resp) => self.classify(operation, resp, uri, stream).await?,
            Err(e) => transport_failure(self.spec.name, operation, e),
        };
        Ok((outcome, access_key))
    }

    /// The request line and headers, `Host` set from the URL.
    fn build(&self, operation: &'static str, request: &Request) -> Result<http::request::Parts, Error> {
        request.head().map_err(|m| Error::input(self.spec.name, operation, m))
    }

    /// Signs the head with SigV4 at the clock corrected by the measured skew.
    fn sign(
        &self,
        operation: &'static str,
        parts: &mut http::request::Parts,
        request: &Request,
        credentials: &Credentials,
    ) -> Result<(), Error> {
        let time = self.http.signing_time(&self.clock);
        let settings = SigningSettings::for_service(self.spec.signing_name);
        let params = SigningParams::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            &self.region,
            self.spec.signing_name,
            time,
        )
        .session_token(credentials.session_token())
        .settings(settings);
        let payload = match (&request.file, request.unsigned_payload) {
            (_, true) => Payload::Unsigned,
            (None, false) => Payload::Bytes(&request.body),
            (Some(f), false) => match f.sha256() {
                Some(hash) => Payload::Precomputed(hash),
                None => {
                    let why = "a file body is signed with its SHA-256, and none was given (FileBody::with_sha256)";
                    return Err(Error::input(self.spec.name, operation, why));
                }
            },
        };
        cirrus_sigv4::sign_http(parts, payload, &params)
            .map(drop)
            .map_err(|e| Error::input(self.spec.name, operation, format!("cannot sign the request: {e}")))
    }

    /// Sends through the pool and waits for the response head (within the read timeout).
    async fn dispatch(
        &self,
        operation: &'static str,
        parts: http::request::Parts,
        request: &Request,
    ) -> Result<http::Response<Incoming>, CallError> {
        let http_req = http::Request::from_parts(parts, request.send_body());
        tracing::debug!(service = self.spec.name, operation, method = %request.method, url = %request.url, "sending");
        if tracing::enabled!(tracing::Level::TRACE) {
            // Names only: values carry the signature and the session token.
            let names: Vec<&str> = http_req.headers().keys().map(|k| k.as_str()).collect();
            tracing::trace!(service = self.spec.name, operation, headers = ?names, "request headers");
        }
        client::send(self.http.pool(), http_req, self.http.inner.settings.read_timeout).await
    }

    /// What the answer means: a success (read whole or streamed), or an AWS error read for the
    /// protocol and judged retryable or not. Records the server's clock from `Date`.
    async fn classify(
        &self,
        operation: &'static str,
        resp: http::Response<Incoming>,
        uri: http::Uri,
        stream: bool,
    ) -> Result<Attempt, Error> {
        let settings = &self.http.inner.settings;
        let status = resp.status().as_u16();
        self.http.record_skew(resp.headers(), &self.clock);
        let (head, incoming) = resp.into_parts();
        let headers = head.headers;
        if stream && (200..300).contains(&status) {
            tracing::debug!(service = self.spec.name, operation, status, "answered; streaming the body");
            let (name, wait) = (self.spec.name, settings.read_timeout);
            let body = client::stream_body(incoming, wait, uri)
                .map(move |r| r.map_err(|e| Error::transport(name, operation, e)))
                .boxed();
            return Ok(Attempt::Done(Answer::Streaming(StreamingResponse { status, headers, body })));
        }
        let body = match client::read_all(incoming, settings.max_response_bytes, settings.read_timeout, &uri).await {
            Ok(b) => b,
            Err(e) if e.is_too_large() => return Err(Error::response(self.spec.name, operation, e.to_string())),
            Err(e) => return Ok(transport_failure(self.spec.name, operation, e)),
        };
        tracing::debug!(service = self.spec.name, operation, status, bytes = body.len(), "answered");
        let disguised =
            self.spec.protocol == crate::service::Protocol::RestXml && status == 200 && protocol::is_error_body(&body);
        if (200..300).contains(&status) && !disguised {
            return Ok(Attempt::Done(Answer::Buffered(Response { status, headers, body })));
        }
        let p = protocol::parse_error(self.spec.protocol, status, &headers, &body);
        let retry = retry::is_throttling_code(&p.code)
            || retry::is_transient_code(&p.code)
            || (retry::is_transient_status(status) && !retry::is_clock_skew_code(&p.code));
        let hint = retry_after(&headers);
        let error =
            Error::service(self.spec.name, operation, status, p.code, p.message, p.request_id).with_region(p.region);
        Ok(Attempt::Failed { error, retry, timeout: false, hint })
    }

    /// The two errors worth one more try although the standard mode would not retry them: a
    /// clock-skew refusal once the skew has been measured anew, and an expired token once the
    /// cached credentials are invalidated.
    fn retry_anyway(&self, error: &Error, used_skew: i64, access_key: Option<String>, state: &mut Retries) -> bool {
        if !state.skew_retried && error.code().is_some_and(retry::is_clock_skew_code) {
            let now_skew = self.http.inner.skew_ms.load(Ordering::Relaxed);
            if (now_skew - used_skew).abs() >= 60_000 {
                tracing::debug!(skew_ms = now_skew, "clock skew corrected; retrying");
                state.skew_retried = true;
                return true;
            }
        }
        if !state.token_refreshed && error.is_expired_token() {
            if let (Some(p), Some(ak)) = (&self.credentials, access_key) {
                p.invalidate(&ak);
                state.token_refreshed = true;
                return true;
            }
        }
        false
    }

    /// Takes a retry from the quota and sleeps the backoff (full jitter, or the server's
    /// `Retry-After`); `false` when the quota is spent and the error should stand.
    async fn back_off(
        &self,
        operation: &'static str,
        error: &Error,
        timeout: bool,
        hint: Option<Duration>,
        state: &mut Retries,
    ) -> bool {
        let Some(cost) = self.http.inner.quota.acquire(timeout) else {
            tracing::debug!("retry quota spent; not retrying");
            return false;
        };
        state.spent += cost;
        let delay = self.http.inner.settings.retry.backoff(state.attempt, hint);
        tracing::debug!(service = self.spec.name, operation, attempt = state.attempt, ?delay, error = %error, "retrying");
        tokio::time::sleep(delay).await;
        true
    }
}

/// No answer (could not connect, timed out, the connection broke): always worth a retry.
fn transport_failure(service: &'static str, operation: &'static str, e: CallError) -> Attempt {
    Attempt::Failed { timeout: e.is_timeout(), error: Error::transport(service, operation, e), retry: true, hint: None }
}

/// `x-amz-retry-after` (milliseconds) or `Retry-After` (seconds).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).and_then(|s| s.trim().parse::<u64>().ok());
    get("x-amz-retry-after").map(Duration::from_millis).or_else(|| get("retry-after").map(Duration::from_secs))
}
