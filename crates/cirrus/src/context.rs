//! The world as providers and clients see it: environment, files, clock and HTTP, each behind a
//! seam so tests hand in their own (reqsign's `Context`).

use crate::clock::{SharedClock, SystemClock};
use crate::env::{Env, ProcessEnv};
use crate::fs::{Fs, RealFs};
use crate::profile::{ProfileFileError, ProfileSet};
use crate::transport::HttpClient;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// Environment, files, clock and HTTP client, shared by providers and clients. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    env: Arc<dyn Env>,
    fs: Arc<dyn Fs>,
    clock: SharedClock,
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

    /// The HTTP client, built with default settings on first use.
    pub fn http(&self) -> &HttpClient {
        self.http.get_or_init(HttpClient::default)
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
