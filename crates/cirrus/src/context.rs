//! The world as providers and clients see it: environment, files, clock and HTTP, each behind a
//! seam so tests hand in their own (reqsign's `Context`).

use crate::clock::{SharedClock, SystemClock};
use crate::env::{Env, ProcessEnv};
use crate::fs::{Fs, RealFs};
use crate::identity::{BoxFuture, CredentialsError};
use crate::profile::{ProfileFileError, ProfileSet};
use crate::transport::{HttpClient, ProxySettings, TransportSettings};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// Asks a person for the current code of an MFA device, given its serial number (`mfa_serial`):
/// the AWS CLI's `Enter MFA code for ARN:` prompt, or whatever a program does instead.
pub type MfaPrompt = Arc<dyn Fn(String) -> BoxFuture<'static, Result<String, CredentialsError>> + Send + Sync>;

/// Environment, files, clock and HTTP client, shared by providers and clients, and the way to
/// ask a person for an MFA code. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    env: Arc<dyn Env>,
    fs: Arc<dyn Fs>,
    clock: SharedClock,
    mfa: Option<MfaPrompt>,
    http: Arc<OnceLock<HttpClient>>,
    profiles: Arc<OnceLock<Result<Arc<ProfileSet>, ProfileFileError>>>,
}

impl Context {
    /// The real process environment, file system and clock. The HTTP client is built on first use.
    pub fn from_process() -> Self {
        Context::new(Arc::new(ProcessEnv), Arc::new(RealFs))
    }

    /// A context over this environment and file system, with the system clock.
    pub fn new(env: Arc<dyn Env>, fs: Arc<dyn Fs>) -> Self {
        Context {
            env,
            fs,
            clock: Arc::new(SystemClock),
            mfa: None,
            http: Arc::new(OnceLock::new()),
            profiles: Arc::new(OnceLock::new()),
        }
    }

    /// Uses this clock.
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Asks for MFA codes with `prompt` (a role profile with `mfa_serial`). Without one, such a
    /// profile is an error that says a code is needed.
    ///
    /// ```
    /// use cirrus::context::MfaPrompt;
    /// use std::sync::Arc;
    ///
    /// // A program that keeps the code somewhere else (a test, a GUI) hands it over here.
    /// let prompt: MfaPrompt = Arc::new(|serial: String| {
    ///     Box::pin(async move {
    ///         assert!(serial.starts_with("arn:aws:iam::"));
    ///         Ok("123456".to_owned())
    ///     })
    /// });
    /// let ctx = cirrus::Context::from_process().with_mfa_prompt(prompt);
    /// assert!(ctx.mfa_prompt().is_some());
    /// ```
    #[must_use]
    pub fn with_mfa_prompt(mut self, prompt: MfaPrompt) -> Self {
        self.mfa = Some(prompt);
        self
    }

    /// The MFA prompt, if one was given.
    pub fn mfa_prompt(&self) -> Option<&MfaPrompt> {
        self.mfa.as_ref()
    }

    /// Uses this HTTP client.
    #[must_use]
    pub fn with_http(mut self, http: HttpClient) -> Self {
        self.http = Arc::new(OnceLock::from(http));
        self
    }

    /// The environment.
    pub fn env(&self) -> &dyn Env {
        &*self.env
    }

    /// The file system.
    pub fn fs(&self) -> &dyn Fs {
        &*self.fs
    }

    /// The clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The shared config and credentials files, read on first use and then kept (missing files
    /// are empty; a malformed line is an error naming the file and line).
    pub fn profiles(&self) -> Result<Arc<ProfileSet>, ProfileFileError> {
        self.profiles.get_or_init(|| ProfileSet::load(self.env(), self.fs()).map(Arc::new)).clone()
    }

    /// Whether an HTTP client was handed in or already built.
    pub(crate) fn has_http(&self) -> bool {
        self.http.get().is_some()
    }

    /// The HTTP client, built on first use with default settings and the proxies this
    /// context's environment names (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, as
    /// [`ProxySettings::from_env`] reads them). Proxy settings that are not valid fail every
    /// request with the reason, rather than going around the proxy. The config loader builds
    /// its own client (CA bundles and retry settings too).
    pub fn http(&self) -> &HttpClient {
        self.http.get_or_init(|| {
            let proxy = ProxySettings::from_env_or_broken(self.env());
            HttpClient::new(TransportSettings::default().with_proxy(proxy))
        })
    }
}

impl Default for Context {
    fn default() -> Self {
        Context::from_process()
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").field("clock", &self.clock).finish_non_exhaustive()
    }
}
