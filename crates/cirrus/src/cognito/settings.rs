//! Where a Cognito login's settings come from: explicit arguments, then a profile of the
//! Cognito credentials file or a settings value, then the `COGNITO_*` variables.
//!
//! The credentials file is the path given to
//! [`CognitoBuilder::credentials_file`](super::CognitoBuilder::credentials_file) (`cirrus
//! cognito login --cognito-credentials-file`), else `COGNITO_CREDENTIALS_FILE`, else
//! `~/.aws/cognito_credentials`, an INI file like `~/.aws/credentials`:
//!
//! ```ini
//! [default]
//! username = alice
//! password = ...
//! app_id = 1example23456789
//! user_pool_id = us-east-1_AbC123
//! identity_pool_id = us-east-1:1a2b3c4d-...
//! auth_type = user_srp        ; or user_password
//! metadata = {"source": "cli"}
//! ```
//!
//! Other keys: `app_secret`, `role_arn`, `identity_flow` (`enhanced` or `basic`), `region` (for
//! STS in the basic flow; the pools' regions come from their ids), `cache` (`true`) and
//! `cache_dir`.

use super::ClientMetadata;
use crate::config::ConfigError;
use crate::context::Context;
use crate::profile::{default_path, expand_home, ProfileSet};
use std::fmt;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// How the user pool login is made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthType {
    /// `USER_SRP_AUTH`: the password never leaves the process. The default.
    #[default]
    UserSrp,
    /// `USER_PASSWORD_AUTH`: the password is sent to Cognito (over TLS).
    UserPassword,
}

impl AuthType {
    /// Parses `user_srp` / `srp` / `USER_SRP_AUTH` and `user_password` / `password` /
    /// `USER_PASSWORD_AUTH`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "user_srp" | "srp" | "user_srp_auth" => Some(AuthType::UserSrp),
            "user_password" | "password" | "user_password_auth" => Some(AuthType::UserPassword),
            _ => None,
        }
    }
}

/// How identity pool credentials are had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityFlow {
    /// GetCredentialsForIdentity, for the pool's role (or `role_arn` as its custom role).
    Enhanced,
    /// GetOpenIdToken, then STS AssumeRoleWithWebIdentity into `role_arn`.
    Basic,
}

/// A Cognito login's settings. Every field is optional here; what a login needs is checked when
/// the provider is built. Debug never shows the password or the app secret.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct CognitoSettings {
    /// The user name (or alias).
    pub username: Option<String>,
    /// The password.
    pub password: Option<Zeroizing<String>>,
    /// The user pool id (`us-east-1_AbC123`).
    pub user_pool_id: Option<String>,
    /// The app client id.
    pub app_id: Option<String>,
    /// The app client secret, for app clients that have one.
    pub app_secret: Option<Zeroizing<String>>,
    /// The identity pool id (`us-east-1:1a2b...`); without it there are tokens but no AWS
    /// credentials.
    pub identity_pool_id: Option<String>,
    /// A role: the basic flow assumes it; the enhanced flow asks for it as the custom role.
    pub role_arn: Option<String>,
    /// The identity flow: basic when `role_arn` is set, enhanced otherwise, unless set.
    pub identity_flow: Option<IdentityFlow>,
    /// The region for STS in the basic flow.
    pub region: Option<String>,
    /// Client metadata for the pool's Lambda triggers.
    pub metadata: Option<ClientMetadata>,
    /// SRP (the default) or password.
    pub auth_type: Option<AuthType>,
    /// Keep the tokens in an on-disk cache.
    pub cache: Option<bool>,
    /// Where the on-disk cache lives (`~/.aws/cognito/cache` by default); needs `cache`.
    pub cache_dir: Option<PathBuf>,
}

impl fmt::Debug for CognitoSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |o: &Option<Zeroizing<String>>| o.as_ref().map(|_| "** redacted **");
        f.debug_struct("CognitoSettings")
            .field("username", &self.username)
            .field("password", &redacted(&self.password))
            .field("user_pool_id", &self.user_pool_id)
            .field("app_id", &self.app_id)
            .field("app_secret", &redacted(&self.app_secret))
            .field("identity_pool_id", &self.identity_pool_id)
            .field("role_arn", &self.role_arn)
            .field("identity_flow", &self.identity_flow)
            .field("region", &self.region)
            .field("metadata", &self.metadata)
            .field("auth_type", &self.auth_type)
            .field("cache", &self.cache)
            .field("cache_dir", &self.cache_dir)
            .finish()
    }
}

/// The middle layer of settings: a named profile of the Cognito credentials file, or a value.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Source {
    /// A profile of `COGNITO_CREDENTIALS_FILE` / `~/.aws/cognito_credentials`.
    Profile(String),
    /// A profile of a credentials file named by the program, whatever the environment says.
    ProfileAt(String, PathBuf),
    /// Settings from the program's own configuration.
    Config(CognitoSettings),
}

/// The `COGNITO_*` variables (and `AWS_ROLE_ARN`) the environment layer reads.
pub(crate) const ENV_VARS: [&str; 5] =
    ["COGNITO_USERNAME", "COGNITO_PASSWORD", "COGNITO_USER_POOL_ID", "COGNITO_IDENTITY_POOL_ID", "COGNITO_APP_ID"];

/// Settings merged from the three layers, with where each layer was.
pub(crate) struct Layers {
    pub(crate) merged: CognitoSettings,
    /// "the arguments, profile \"dev\" of ~/.aws/cognito_credentials, COGNITO_USERNAME": filled
    /// per field by [`Layers::missing`].
    middle: Option<String>,
}

impl Layers {
    /// Merges `explicit`, then `source`, then the environment.
    pub(crate) fn resolve(
        ctx: &Context,
        explicit: &CognitoSettings,
        source: Option<&Source>,
    ) -> Result<Layers, ConfigError> {
        let (middle, middle_name) = match source {
            None => (CognitoSettings::default(), None),
            Some(Source::Config(s)) => (s.clone(), Some("the settings value".to_owned())),
            Some(Source::Profile(name)) => {
                let (settings, path) = from_profile(ctx, name, None)?;
                (settings, Some(format!("profile {name:?} of {}", path.display())))
            }
            Some(Source::ProfileAt(name, file)) => {
                let (settings, path) = from_profile(ctx, name, Some(file))?;
                (settings, Some(format!("profile {name:?} of {}", path.display())))
            }
        };
        let env = from_env(ctx)?;
        let merged = merge(explicit, &merge(&middle, &env));
        Ok(Layers { merged, middle: middle_name })
    }

    /// "username is not set (looked in the arguments, profile "dev" of F, and COGNITO_USERNAME)".
    pub(crate) fn missing(&self, field: &str, var: &str) -> String {
        let mut places = vec!["the arguments".to_owned()];
        places.extend(self.middle.clone());
        places.push(var.to_owned());
        format!("Cognito {field} is not set (looked in {})", places.join(", "))
    }
}

/// The Cognito credentials file's path.
pub(crate) fn credentials_file(ctx: &Context) -> PathBuf {
    let env = ctx.env();
    env.get("COGNITO_CREDENTIALS_FILE")
        .map_or_else(|| default_path(env, "cognito_credentials"), |p| expand_home(env, &p))
}

/// Profile `name` of `file`, else of [`credentials_file`].
fn from_profile(ctx: &Context, name: &str, file: Option<&PathBuf>) -> Result<(CognitoSettings, PathBuf), ConfigError> {
    let path = match file {
        Some(f) => expand_home(ctx.env(), &f.to_string_lossy()),
        None => credentials_file(ctx),
    };
    let text = ctx.fs().read_to_string(&path).map_err(|e| {
        ConfigError::because(
            format!("Cognito profile {name:?} was asked for, but {} cannot be read", path.display()),
            e,
        )
    })?;
    let set = ProfileSet::parse_credentials(&path, &text).map_err(|e| {
        ConfigError::because(format!("the Cognito credentials file {} cannot be parsed", path.display()), e)
    })?;
    let profile = set.get(name).ok_or_else(|| {
        let names: Vec<&str> = set.names().collect();
        ConfigError::new(format!("no Cognito profile {name:?} in {} (it has: {})", path.display(), names.join(", ")))
    })?;
    let at = |key: &str| format!("{key} in profile {name:?} of {}", path.display());
    let get = |k: &str| profile.get(k).map(str::to_owned);
    let settings = layer(&get, &at)?;
    Ok((settings, path))
}

fn from_env(ctx: &Context) -> Result<CognitoSettings, ConfigError> {
    let env = ctx.env();
    let get = |k: &str| env.get(&format!("COGNITO_{}", k.to_ascii_uppercase()));
    let at = |key: &str| format!("COGNITO_{}", key.to_ascii_uppercase());
    let mut s = layer(&get, &at)?;
    // COGNITO_ROLE_ARN, else the SDKs' AWS_ROLE_ARN.
    s.role_arn = s.role_arn.or_else(|| env.get("AWS_ROLE_ARN"));
    Ok(s)
}

/// One layer from a key lookup; `at(key)` says where a bad value was.
fn layer(get: &dyn Fn(&str) -> Option<String>, at: &dyn Fn(&str) -> String) -> Result<CognitoSettings, ConfigError> {
    let auth_type =
        match get("auth_type") {
            None => None,
            Some(v) => Some(AuthType::parse(&v).ok_or_else(|| {
                ConfigError::new(format!("{}: {v:?} is not user_srp or user_password", at("auth_type")))
            })?),
        };
    let identity_flow = match get("identity_flow").map(|v| v.to_ascii_lowercase()) {
        None => None,
        Some(v) if v == "enhanced" => Some(IdentityFlow::Enhanced),
        Some(v) if v == "basic" => Some(IdentityFlow::Basic),
        Some(v) => return Err(ConfigError::new(format!("{}: {v:?} is not enhanced or basic", at("identity_flow")))),
    };
    let metadata = match get("metadata") {
        None => None,
        Some(v) => Some(ClientMetadata::from_json(&v).map_err(|e| ConfigError::because(at("metadata"), e))?),
    };
    let cache = match get("cache").map(|v| v.to_ascii_lowercase()) {
        None => None,
        Some(v) if v == "true" || v == "1" => Some(true),
        Some(v) if v == "false" || v == "0" => Some(false),
        Some(v) => return Err(ConfigError::new(format!("{}: {v:?} is not true or false", at("cache")))),
    };
    Ok(CognitoSettings {
        username: get("username"),
        password: get("password").map(Zeroizing::new),
        user_pool_id: get("user_pool_id"),
        app_id: get("app_id"),
        app_secret: get("app_secret").map(Zeroizing::new),
        identity_pool_id: get("identity_pool_id"),
        role_arn: get("role_arn"),
        identity_flow,
        region: get("region"),
        metadata,
        auth_type,
        cache,
        cache_dir: get("cache_dir").map(PathBuf::from),
    })
}

/// `a`'s fields, else `b`'s.
fn merge(a: &CognitoSettings, b: &CognitoSettings) -> CognitoSettings {
    CognitoSettings {
        username: a.username.clone().or_else(|| b.username.clone()),
        password: a.password.clone().or_else(|| b.password.clone()),
        user_pool_id: a.user_pool_id.clone().or_else(|| b.user_pool_id.clone()),
        app_id: a.app_id.clone().or_else(|| b.app_id.clone()),
        app_secret: a.app_secret.clone().or_else(|| b.app_secret.clone()),
        identity_pool_id: a.identity_pool_id.clone().or_else(|| b.identity_pool_id.clone()),
        role_arn: a.role_arn.clone().or_else(|| b.role_arn.clone()),
        identity_flow: a.identity_flow.or(b.identity_flow),
        region: a.region.clone().or_else(|| b.region.clone()),
        metadata: a.metadata.clone().or_else(|| b.metadata.clone()),
        auth_type: a.auth_type.or(b.auth_type),
        cache: a.cache.or(b.cache),
        cache_dir: a.cache_dir.clone().or_else(|| b.cache_dir.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::MemFs;
    use std::collections::HashMap;
    use std::sync::Arc;

    fn ctx(vars: &[(&str, &str)], files: &[(&str, &str)]) -> Context {
        let env: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Context::new(Arc::new(env), Arc::new(MemFs::new(files.iter().copied())))
    }

    const FILE: &str =
        "[dev]\nusername = from-profile\napp_id = profile-app\nauth_type = user_password\nmetadata = {\"a\": \"b\"}\n";

    #[test]
    fn an_explicit_credentials_file_comes_first() {
        let c = ctx(
            &[("HOME", "/h"), ("COGNITO_CREDENTIALS_FILE", "/env-file")],
            &[
                ("/h/.aws/cognito_credentials", "[dev]\nusername = from-default\n"),
                ("/env-file", "[dev]\nusername = from-env-file\n"),
                ("/h/given", "[dev]\nusername = from-given\n"),
            ],
        );
        let none = CognitoSettings::default();
        let given = Source::ProfileAt("dev".into(), PathBuf::from("~/given"));
        let l = Layers::resolve(&c, &none, Some(&given)).unwrap();
        assert_eq!(l.merged.username.as_deref(), Some("from-given"));
        assert!(l.missing("password", "COGNITO_PASSWORD").contains("profile \"dev\" of /h/given"));
        let l = Layers::resolve(&c, &none, Some(&Source::Profile("dev".into()))).unwrap();
        assert_eq!(l.merged.username.as_deref(), Some("from-env-file"));
        let missing = Source::ProfileAt("dev".into(), PathBuf::from("/nowhere"));
        let e = Layers::resolve(&c, &none, Some(&missing)).err().map(|e| e.to_string()).unwrap();
        assert!(e.contains("/nowhere cannot be read"), "{e}");
    }

    #[test]
    fn explicit_then_profile_then_env() {
        let c = ctx(
            &[
                ("HOME", "/h"),
                ("COGNITO_USERNAME", "from-env"),
                ("COGNITO_APP_ID", "env-app"),
                ("COGNITO_USER_POOL_ID", "us-east-1_Env"),
            ],
            &[("/h/.aws/cognito_credentials", FILE)],
        );
        let explicit = CognitoSettings { app_id: Some("explicit-app".into()), ..Default::default() };
        let l = Layers::resolve(&c, &explicit, Some(&Source::Profile("dev".into()))).unwrap();
        assert_eq!(l.merged.app_id.as_deref(), Some("explicit-app"));
        assert_eq!(l.merged.username.as_deref(), Some("from-profile"));
        assert_eq!(l.merged.user_pool_id.as_deref(), Some("us-east-1_Env"));
        assert_eq!(l.merged.auth_type, Some(AuthType::UserPassword));
        assert_eq!(l.merged.metadata.clone().unwrap().pairs(), &[("a".to_owned(), "b".to_owned())]);
        let msg = l.missing("password", "COGNITO_PASSWORD");
        assert!(
            msg.contains("profile \"dev\" of /h/.aws/cognito_credentials") && msg.contains("COGNITO_PASSWORD"),
            "{msg}"
        );
    }

    #[test]
    fn bad_values_name_the_key_and_the_place() {
        let c = ctx(
            &[("COGNITO_CREDENTIALS_FILE", "/c"), ("COGNITO_AUTH_TYPE", "magic")],
            &[("/c", "[p]\ncache = maybe\n")],
        );
        let e =
            Layers::resolve(&c, &CognitoSettings::default(), None).err().map(|e| crate::transport::report(&e)).unwrap();
        assert!(e.contains("COGNITO_AUTH_TYPE") && e.contains("magic"), "{e}");
        let c = ctx(&[("COGNITO_CREDENTIALS_FILE", "/c")], &[("/c", "[p]\ncache = maybe\n")]);
        let e = Layers::resolve(&c, &CognitoSettings::default(), Some(&Source::Profile("p".into())))
            .err()
            .map(|e| crate::transport::report(&e))
            .unwrap();
        assert!(e.contains("cache in profile \"p\" of /c"), "{e}");
        let e = Layers::resolve(&c, &CognitoSettings::default(), Some(&Source::Profile("q".into())))
            .err()
            .map(|e| crate::transport::report(&e))
            .unwrap();
        assert!(e.contains("no Cognito profile \"q\" in /c (it has: p)"), "{e}");
        let c = ctx(&[("HOME", "/h")], &[]);
        let e = Layers::resolve(&c, &CognitoSettings::default(), Some(&Source::Profile("p".into())))
            .err()
            .map(|e| crate::transport::report(&e))
            .unwrap();
        assert!(e.contains("/h/.aws/cognito_credentials cannot be read"), "{e}");
        let c = ctx(&[("COGNITO_METADATA", "{\"n\": 1}")], &[]);
        let e =
            Layers::resolve(&c, &CognitoSettings::default(), None).err().map(|e| crate::transport::report(&e)).unwrap();
        assert!(e.contains("COGNITO_METADATA") && e.contains("not a string"), "{e}");
    }

    #[test]
    fn role_from_cognito_role_arn_then_aws_role_arn() {
        let c = ctx(&[("COGNITO_USER_POOL_ID", "us-east-1_X"), ("AWS_ROLE_ARN", "arn:aws")], &[]);
        let l = Layers::resolve(&c, &CognitoSettings::default(), None).unwrap();
        assert_eq!(l.merged.role_arn.as_deref(), Some("arn:aws"));
        let c = ctx(&[("COGNITO_ROLE_ARN", "arn:cognito"), ("AWS_ROLE_ARN", "arn:aws")], &[]);
        let l = Layers::resolve(&c, &CognitoSettings::default(), None).unwrap();
        assert_eq!(l.merged.role_arn.as_deref(), Some("arn:cognito"));
    }

    #[test]
    fn debug_hides_secrets() {
        let s = CognitoSettings {
            password: Some(Zeroizing::new("hunter2".into())),
            app_secret: Some(Zeroizing::new("appsecret".into())),
            ..Default::default()
        };
        let d = format!("{s:?}");
        assert!(!d.contains("hunter2") && !d.contains("appsecret") && d.contains("redacted"), "{d}");
    }
}
