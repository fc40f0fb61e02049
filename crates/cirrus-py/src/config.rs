//! `Config`, `Credentials` and `CognitoLogin`: what every client is made from.
//!
//! A `Config` keeps its arguments and loads a `cirrus::Config` from them on first use, once per
//! process: a forked child loads its own (its parent's connection pool belongs to a runtime the
//! child does not have).

use crate::errors::Failure;
use crate::runtime::block_on;
use crate::show::py_str;
use cirrus::credentials::{CredentialsCache, SharedCredentialsProvider};
use cirrus::loader::CredentialsChoice;
use cirrus::{CredentialsError, ProvideCredentials};
use futures_util::future::BoxFuture;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A value made once per process from something that can be made again.
#[derive(Debug)]
pub(crate) struct PerProcess<T>(Mutex<Option<(u32, T)>>);

impl<T> Default for PerProcess<T> {
    fn default() -> Self {
        PerProcess(Mutex::new(None))
    }
}

impl<T: Clone> PerProcess<T> {
    pub(crate) fn get_or_try(&self, make: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
        let pid = std::process::id();
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match slot.as_ref() {
            Some((owner, value)) if *owner == pid => Ok(value.clone()),
            _ => {
                let value = make()?;
                *slot = Some((pid, value.clone()));
                Ok(value)
            }
        }
    }
}

/// AWS credentials: an access key id, its secret and an optional session token. `repr()` and
/// `str()` show the access key id only.
#[pyclass(frozen, from_py_object, module = "cirrus_aws", name = "Credentials")]
#[derive(Clone)]
pub(crate) struct PyCredentials {
    pub(crate) inner: cirrus::Credentials,
}

pub(crate) fn system_time(value: &Bound<'_, PyAny>) -> PyResult<SystemTime> {
    let seconds: f64 = match value.call_method0("timestamp") {
        Ok(ts) => ts.extract()?,
        Err(_) => value.extract()?,
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(crate::errors::value_error("expiry must be a datetime or seconds since 1970"));
    }
    Ok(UNIX_EPOCH + Duration::from_secs_f64(seconds))
}

#[pymethods]
impl PyCredentials {
    #[new]
    #[pyo3(signature = (access_key_id, secret_access_key, session_token=None, *, expiry=None))]
    fn new(
        access_key_id: String,
        secret_access_key: String,
        session_token: Option<String>,
        expiry: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        if access_key_id.is_empty() || secret_access_key.is_empty() {
            return Err(crate::errors::value_error("Credentials need an access key id and a secret access key"));
        }
        let expiry = expiry.map(system_time).transpose()?;
        Ok(PyCredentials {
            inner: cirrus::Credentials::new(access_key_id, secret_access_key, session_token, expiry, "python"),
        })
    }

    #[getter]
    fn access_key_id(&self) -> &str {
        self.inner.access_key_id()
    }

    #[getter]
    fn secret_access_key(&self) -> &str {
        self.inner.secret_access_key()
    }

    #[getter]
    fn session_token(&self) -> Option<&str> {
        self.inner.session_token()
    }

    /// Seconds since 1970 when they expire, or None.
    #[getter]
    fn expiry(&self) -> Option<f64> {
        self.inner.expiry().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs_f64())
    }

    /// Where they came from: `environment`, `profile`, `sso`, `python`...
    #[getter]
    fn provider(&self) -> &'static str {
        self.inner.provider()
    }

    fn __repr__(&self) -> String {
        let token = if self.inner.session_token().is_some() { ", session_token=***" } else { "" };
        format!("Credentials(access_key_id={}, secret_access_key=***{token})", py_str(Some(self.inner.access_key_id())))
    }
}

/// A login to a Cognito user pool (SRP, or a password), turned into AWS credentials through an
/// identity pool, refreshed before they expire. `repr()` never shows the password.
#[pyclass(frozen, from_py_object, module = "cirrus_aws", name = "CognitoLogin")]
#[derive(Clone)]
pub(crate) struct CognitoLogin {
    #[pyo3(get)]
    user_pool_id: String,
    #[pyo3(get)]
    client_id: String,
    #[pyo3(get)]
    username: String,
    password: String,
    #[pyo3(get)]
    identity_pool_id: Option<String>,
    #[pyo3(get)]
    auth_flow: String,
    client_secret: Option<String>,
}

#[pymethods]
impl CognitoLogin {
    #[new]
    #[pyo3(signature = (user_pool_id, client_id, username, password, identity_pool_id=None, *, auth_flow="USER_SRP_AUTH", client_secret=None))]
    fn new(
        user_pool_id: String,
        client_id: String,
        username: String,
        password: String,
        identity_pool_id: Option<String>,
        auth_flow: &str,
        client_secret: Option<String>,
    ) -> PyResult<Self> {
        let auth_flow = auth_flow.to_owned();
        if cirrus::cognito::AuthType::parse(&auth_flow).is_none() {
            return Err(crate::errors::value_error(format!(
                "auth_flow {auth_flow:?} is not USER_SRP_AUTH or USER_PASSWORD_AUTH"
            )));
        }
        Ok(CognitoLogin { user_pool_id, client_id, username, password, identity_pool_id, auth_flow, client_secret })
    }

    fn __repr__(&self) -> String {
        format!(
            "CognitoLogin(user_pool_id={}, client_id={}, username={}, password=***, identity_pool_id={})",
            py_str(Some(&self.user_pool_id)),
            py_str(Some(&self.client_id)),
            py_str(Some(&self.username)),
            py_str(self.identity_pool_id.as_deref())
        )
    }
}

impl CognitoLogin {
    fn provider(&self, config: &cirrus::Config) -> Result<SharedCredentialsProvider, Failure> {
        let auth = cirrus::cognito::AuthType::parse(&self.auth_flow).unwrap_or_default();
        let mut builder = cirrus::cognito::CognitoCredentials::builder(config)
            .user_pool_id(&self.user_pool_id)
            .app_id(&self.client_id)
            .username(&self.username)
            .password(&self.password)
            .auth_type(auth);
        if let Some(pool) = &self.identity_pool_id {
            builder = builder.identity_pool_id(pool);
        }
        if let Some(secret) = &self.client_secret {
            builder = builder.app_secret(secret);
        }
        Ok(Arc::new(builder.build()?))
    }
}

/// Credentials from a Python callable, called on a blocking thread (it may do I/O) whenever
/// the cache around it needs new ones.
struct CallableProvider(Py<PyAny>);

impl std::fmt::Debug for CallableProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallableProvider")
    }
}

impl ProvideCredentials for CallableProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<cirrus::Credentials, CredentialsError>> {
        let callable = Python::attach(|py| self.0.clone_ref(py));
        Box::pin(async move {
            let called = tokio::task::spawn_blocking(move || {
                crate::runtime::attach_unless_exiting(|py| -> Result<cirrus::Credentials, String> {
                    let value = callable.call0(py).map_err(|e| e.to_string())?;
                    let creds = value
                        .extract::<PyCredentials>(py)
                        .map_err(|_| "the credentials callable must return cirrus_aws.Credentials".to_owned())?;
                    Ok(creds.inner.with_provider("python"))
                })
                .unwrap_or_else(|| Err("the interpreter is exiting".to_owned()))
            })
            .await;
            match called {
                Ok(Ok(creds)) => Ok(creds),
                Ok(Err(why)) => Err(CredentialsError::unavailable(format!("the credentials callable failed: {why}"))),
                Err(_) => Err(CredentialsError::unavailable("the credentials callable did not return")),
            }
        })
    }
}

#[derive(Clone)]
enum CredentialsArg {
    Chain,
    Static(cirrus::Credentials),
    Cognito(CognitoLogin),
    Callable(Arc<Py<PyAny>>),
    Anonymous,
}

/// Region, profile, endpoint and credentials, shared by every client made from it.
#[pyclass(frozen, module = "cirrus_aws", name = "Config")]
pub(crate) struct PyConfig {
    region: Option<String>,
    profile: Option<String>,
    endpoint_url: Option<String>,
    credentials: CredentialsArg,
    loaded: PerProcess<cirrus::Config>,
}

impl PyConfig {
    /// The `cirrus::Config` of this process, loaded on first use.
    pub(crate) fn load(&self) -> Result<cirrus::Config, Failure> {
        self.loaded.get_or_try(|| {
            let loader = || {
                cirrus::Config::loader()
                    .region(self.region.as_deref())
                    .profile(self.profile.as_deref())
                    .endpoint_url(self.endpoint_url.as_deref())
            };
            let choice = match &self.credentials {
                CredentialsArg::Chain => CredentialsChoice::Default,
                CredentialsArg::Anonymous => CredentialsChoice::Anonymous,
                CredentialsArg::Static(c) => CredentialsChoice::Provider(Arc::new(
                    cirrus::credentials::StaticCredentials::from_credentials(c.clone()),
                )),
                CredentialsArg::Callable(f) => {
                    let f = Python::attach(|py| f.clone_ref(py));
                    CredentialsChoice::Provider(Arc::new(CredentialsCache::new(CallableProvider(f))))
                }
                CredentialsArg::Cognito(login) => {
                    let base = loader().credentials(CredentialsChoice::Anonymous).load()?;
                    CredentialsChoice::Provider(Arc::new(CredentialsCache::new(login.provider(&base)?)))
                }
            };
            Ok(loader().credentials(choice).load()?)
        })
    }
}

#[pymethods]
impl PyConfig {
    #[new]
    #[pyo3(signature = (region=None, profile=None, endpoint_url=None, credentials=None, *, signed=true))]
    fn new(
        region: Option<String>,
        profile: Option<String>,
        endpoint_url: Option<String>,
        credentials: Option<&Bound<'_, PyAny>>,
        signed: bool,
    ) -> PyResult<Self> {
        let credentials = match credentials {
            None if signed => CredentialsArg::Chain,
            None => CredentialsArg::Anonymous,
            Some(c) => {
                if let Ok(creds) = c.extract::<PyCredentials>() {
                    CredentialsArg::Static(creds.inner)
                } else if let Ok(login) = c.extract::<CognitoLogin>() {
                    CredentialsArg::Cognito(login)
                } else if c.is_callable() {
                    CredentialsArg::Callable(Arc::new(c.clone().unbind()))
                } else {
                    return Err(crate::errors::value_error(
                        "credentials must be None, Credentials, CognitoLogin or a callable returning Credentials",
                    ));
                }
            }
        };
        let config = PyConfig { region, profile, endpoint_url, credentials, loaded: PerProcess::default() };
        // Read the files and the environment now, so that a broken profile or an endpoint that
        // is not a URL is said where the Config is made.
        Python::attach(|py| config.load().map_err(|f| f.into_py_err(py)))?;
        Ok(config)
    }

    /// The region the clients use (explicit, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile).
    #[getter]
    fn region(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let config = self.load().map_err(|f| f.into_py_err(py))?;
        Ok(config.region().map(str::to_owned))
    }

    #[getter]
    fn profile(&self) -> Option<&str> {
        self.profile.as_deref()
    }

    #[getter]
    fn endpoint_url(&self) -> Option<&str> {
        self.endpoint_url.as_deref()
    }

    /// The credentials the clients would sign with now (fetched or refreshed if they must be).
    fn credentials(&self, py: Python<'_>) -> PyResult<PyCredentials> {
        let config = self.load().map_err(|f| f.into_py_err(py))?;
        block_on(py, async move { fetch_credentials(&config).await.map(|inner| PyCredentials { inner }) }, None)
    }

    /// Who these credentials are (STS GetCallerIdentity), and which source gave them:
    /// `{"account", "arn", "user_id", "source"}`.
    fn whoami<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let config = self.load().map_err(|f| f.into_py_err(py))?;
        let (me, source) = block_on(
            py,
            async move {
                let creds = fetch_credentials(&config).await?;
                let me = config.sts().get_caller_identity().await?;
                Ok((me, creds.provider()))
            },
            None,
        )?;
        let d = PyDict::new(py);
        d.set_item("account", me.account)?;
        d.set_item("arn", me.arn)?;
        d.set_item("user_id", me.user_id)?;
        d.set_item("source", source)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let creds = match &self.credentials {
            CredentialsArg::Chain => "the default chain".to_owned(),
            CredentialsArg::Anonymous => "none (unsigned)".to_owned(),
            CredentialsArg::Static(c) => format!("Credentials(access_key_id={}, ...)", py_str(Some(c.access_key_id()))),
            CredentialsArg::Cognito(l) => l.__repr__(),
            CredentialsArg::Callable(_) => "a callable".to_owned(),
        };
        format!(
            "Config(region={}, profile={}, endpoint_url={}, credentials={creds})",
            py_str(self.region.as_deref()),
            py_str(self.profile.as_deref()),
            py_str(self.endpoint_url.as_deref())
        )
    }
}

pub(crate) async fn fetch_credentials(config: &cirrus::Config) -> Result<cirrus::Credentials, Failure> {
    match config.credentials() {
        Some(provider) => Ok(provider.provide_credentials().await?),
        None => Err(Failure::Credentials(CredentialsError::not_configured("this Config signs nothing (signed=False)"))),
    }
}
