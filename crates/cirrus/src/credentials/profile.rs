//! Credentials from a profile of the shared config and credentials files.
//!
//! A profile leads to credentials through a chain: static keys, a `credential_process`, a web
//! identity token file, or a `credential_source`, then zero or more roles to assume
//! (`role_arn` + `source_profile`). [`ProfileChain::resolve`] works the chain out from the files
//! alone, with cycles detected; [`ProfileCredentials`] runs it.
//!
//! The rules are the SDKs': in the profile asked for, `role_arn` comes first; in a source profile,
//! static keys come first (so a profile may name itself as `source_profile` to assume a role with
//! its own keys).

use super::{
    cli_cache, AssumeRoleProvider, BoxFuture, ContainerCredentials, Credentials, CredentialsError, EnvCredentials,
    ImdsCredentials, ProcessCredentials, ProvideCredentials, SharedCredentialsProvider, SsoCredentials, SsoSettings,
    StaticCredentials, WebIdentityCredentials,
};
use crate::context::Context;
use crate::profile::{profile_name, Profile, ProfileSet};
use crate::sts::{AssumeRoleRequest, StsClient};
use std::fmt;
use std::sync::Arc;

/// Where the chain's first credentials come from.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BaseCredentials {
    /// `aws_access_key_id` / `aws_secret_access_key` (/ `aws_session_token`) of `profile`.
    Static {
        /// The profile holding them.
        profile: String,
        /// The credentials.
        credentials: Credentials,
    },
    /// `credential_process` of `profile`.
    Process {
        /// The profile naming the command.
        profile: String,
        /// The command line.
        command: String,
    },
    /// `web_identity_token_file` with `role_arn` of `profile` (AssumeRoleWithWebIdentity).
    WebIdentity {
        /// The profile.
        profile: String,
        /// The role to assume.
        role_arn: String,
        /// The token file.
        token_file: String,
        /// `role_session_name`, if set.
        session_name: Option<String>,
    },
    /// IAM Identity Center: a role of an account, through the login of an `sso-session` (or
    /// of a legacy profile's start URL).
    Sso(SsoSettings),
    /// `credential_source` of `profile`: `Environment`, `Ec2InstanceMetadata` or `EcsContainer`.
    Source {
        /// The profile.
        profile: String,
        /// The source named.
        source: CredentialSource,
    },
}

impl fmt::Debug for BaseCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Credentials' own Debug redacts the secret and token.
            BaseCredentials::Static { profile, credentials } => {
                f.debug_struct("Static").field("profile", profile).field("credentials", credentials).finish()
            }
            BaseCredentials::Process { profile, command } => {
                f.debug_struct("Process").field("profile", profile).field("command", command).finish()
            }
            BaseCredentials::WebIdentity { profile, role_arn, token_file, session_name } => f
                .debug_struct("WebIdentity")
                .field("profile", profile)
                .field("role_arn", role_arn)
                .field("token_file", token_file)
                .field("session_name", session_name)
                .finish(),
            BaseCredentials::Source { profile, source } => {
                f.debug_struct("Source").field("profile", profile).field("source", source).finish()
            }
            BaseCredentials::Sso(s) => f.debug_tuple("Sso").field(s).finish(),
        }
    }
}

/// The `credential_source` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    /// The environment variables.
    Environment,
    /// The EC2 instance metadata service.
    Ec2InstanceMetadata,
    /// The ECS/EKS container credentials endpoint.
    EcsContainer,
}

/// One role to assume with the credentials before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleLink {
    /// The profile that names the role.
    pub profile: String,
    /// `role_arn`.
    pub role_arn: String,
    /// `external_id`.
    pub external_id: Option<String>,
    /// `role_session_name`.
    pub session_name: Option<String>,
    /// `duration_seconds`.
    pub duration_seconds: Option<u32>,
    /// `mfa_serial`: the MFA device whose code the role asks for.
    pub mfa_serial: Option<String>,
}

/// A profile's way to credentials: a base, then roles to assume in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileChain {
    /// The first credentials.
    pub base: BaseCredentials,
    /// Roles assumed one after the other, the last one giving the final credentials.
    pub roles: Vec<RoleLink>,
}

fn static_keys(p: &Profile) -> Result<Option<Credentials>, CredentialsError> {
    match (p.get("aws_access_key_id"), p.get("aws_secret_access_key")) {
        (Some(ak), Some(sk)) => {
            Ok(Some(Credentials::new(ak, sk, p.get("aws_session_token").map(str::to_owned), None, "profile")))
        }
        (Some(_), None) => Err(CredentialsError::invalid(format!(
            "profile `{}` has aws_access_key_id but no aws_secret_access_key",
            p.name()
        ))),
        (None, Some(_)) => Err(CredentialsError::invalid(format!(
            "profile `{}` has aws_secret_access_key but no aws_access_key_id",
            p.name()
        ))),
        (None, None) => Ok(None),
    }
}

/// The IAM Identity Center settings of `p`, if it has any: `sso_session` naming an
/// `[sso-session]` section (start URL and region there), or a legacy `sso_start_url` and
/// `sso_region` in the profile; with `sso_account_id` and `sso_role_name`.
fn sso_settings(set: &ProfileSet, p: &Profile) -> Result<Option<SsoSettings>, CredentialsError> {
    let name = p.name();
    let bad = |what: String| Err(CredentialsError::invalid(format!("profile `{name}`: {what}")));
    let (session, start_url, region) = match (p.get("sso_session"), p.get("sso_start_url")) {
        (None, None) => return Ok(None),
        (Some(session), _) => {
            let Some(section) = set.section("sso-session", session) else {
                return bad(format!(
                    "sso_session `{session}` names no [sso-session {session}] section in {}",
                    set.sources().config_file.display()
                ));
            };
            let (Some(url), Some(region)) = (section.get("sso_start_url"), section.get("sso_region")) else {
                return bad(format!("[sso-session {session}] needs sso_start_url and sso_region"));
            };
            // As botocore: the profile may repeat them, but not differently.
            for (key, value) in [("sso_start_url", url), ("sso_region", region)] {
                if p.get(key).is_some_and(|v| v != value) {
                    return bad(format!("{key} differs from the one of [sso-session {session}]"));
                }
            }
            (Some(session.to_owned()), url.to_owned(), region.to_owned())
        }
        (None, Some(url)) => {
            let Some(region) = p.get("sso_region") else {
                return bad("sso_start_url needs sso_region".to_owned());
            };
            (None, url.to_owned(), region.to_owned())
        }
    };
    let (Some(account_id), Some(role_name)) = (p.get("sso_account_id"), p.get("sso_role_name")) else {
        return bad("IAM Identity Center credentials need sso_account_id and sso_role_name".to_owned());
    };
    Ok(Some(SsoSettings {
        profile: name.to_owned(),
        session,
        start_url,
        region,
        account_id: account_id.to_owned(),
        role_name: role_name.to_owned(),
    }))
}

fn role_link(p: &Profile, role_arn: &str) -> Result<RoleLink, CredentialsError> {
    let duration_seconds = match p.get("duration_seconds") {
        None => None,
        // STS's range for AssumeRole: 15 minutes to 12 hours.
        Some(d) => Some(d.trim().parse::<u32>().ok().filter(|n| (900..=43_200).contains(n)).ok_or_else(|| {
            CredentialsError::invalid(format!(
                "profile `{}`: duration_seconds must be a whole number from 900 to 43200, got {d:?}",
                p.name()
            ))
        })?),
    };
    Ok(RoleLink {
        profile: p.name().to_owned(),
        role_arn: role_arn.to_owned(),
        external_id: p.get("external_id").map(str::to_owned),
        session_name: p.get("role_session_name").map(str::to_owned),
        duration_seconds,
        mfa_serial: p.get("mfa_serial").map(str::to_owned),
    })
}

fn credential_source(p: &Profile, value: &str) -> Result<CredentialSource, CredentialsError> {
    match value {
        "Environment" => Ok(CredentialSource::Environment),
        "Ec2InstanceMetadata" => Ok(CredentialSource::Ec2InstanceMetadata),
        "EcsContainer" => Ok(CredentialSource::EcsContainer),
        other => Err(CredentialsError::invalid(format!(
            "profile `{}`: credential_source {other:?} is not one of Environment, Ec2InstanceMetadata, EcsContainer",
            p.name()
        ))),
    }
}

/// The chain with its roles in the order they are assumed: collected from the profile asked for
/// inwards, assumed from the base outwards.
fn outward(base: BaseCredentials, mut roles: Vec<RoleLink>) -> ProfileChain {
    roles.reverse();
    ProfileChain { base, roles }
}

impl ProfileChain {
    /// Works out the chain for profile `name` from the files. `not configured` when the profile
    /// does not exist or holds no credential settings; an error for a broken chain (a cycle, a
    /// missing source profile, conflicting settings).
    pub fn resolve(set: &ProfileSet, name: &str) -> Result<ProfileChain, CredentialsError> {
        let mut roles: Vec<RoleLink> = Vec::new();
        let mut visited: Vec<String> = Vec::new();
        let mut current = name.to_owned();
        loop {
            let first = visited.is_empty();
            let Some(p) = set.get(&current) else {
                let files = set.sources();
                let where_ = format!("{} or {}", files.config_file.display(), files.credentials_file.display());
                return Err(if first {
                    CredentialsError::not_configured(format!("profile `{current}` not found in {where_}"))
                } else {
                    CredentialsError::invalid(format!(
                        "profile `{}` names source_profile `{current}`, which is not found in {where_}",
                        visited.last().map(String::as_str).unwrap_or_default()
                    ))
                });
            };
            if visited.contains(&current) {
                visited.push(current);
                return Err(CredentialsError::invalid(format!("source_profile cycle: {}", visited.join(" -> "))));
            }
            visited.push(current.clone());
            match link_of(set, p, current, first, &mut roles)? {
                Link::Base(base) => return Ok(outward(base, roles)),
                Link::Source(next) => current = next,
            }
        }
    }
}

/// Where one profile of a chain leads.
enum Link {
    /// To the credentials the chain starts from.
    Base(BaseCredentials),
    /// To its source profile (its role is pushed on the way).
    Source(String),
}

/// What profile `p` (named `name`; `first` when the chain starts there) gives: its role, when
/// it has one, goes on `roles`.
fn link_of(
    set: &ProfileSet,
    p: &Profile,
    name: String,
    first: bool,
    roles: &mut Vec<RoleLink>,
) -> Result<Link, CredentialsError> {
    // In a source profile, static keys end the chain before its own role.
    if !first {
        if let Some(creds) = static_keys(p)? {
            return Ok(Link::Base(BaseCredentials::Static { profile: name, credentials: creds }));
        }
    }
    if let Some(role_arn) = p.get("role_arn") {
        return role_of(p, role_arn, name, roles);
    }
    if let Some(creds) = static_keys(p)? {
        return Ok(Link::Base(BaseCredentials::Static { profile: name, credentials: creds }));
    }
    if let Some(command) = p.get("credential_process") {
        return Ok(Link::Base(BaseCredentials::Process { profile: name, command: command.to_owned() }));
    }
    if let Some(sso) = sso_settings(set, p)? {
        return Ok(Link::Base(BaseCredentials::Sso(sso)));
    }
    Err(if first {
        CredentialsError::not_configured(format!("profile `{name}` has no credentials"))
    } else {
        CredentialsError::invalid(format!("source_profile `{name}` has no credentials"))
    })
}

/// The role of profile `p` (named `name`) and where its credentials come from: a source
/// profile (itself, for its own keys), a `credential_source`, or a web identity token.
fn role_of(p: &Profile, role_arn: &str, name: String, roles: &mut Vec<RoleLink>) -> Result<Link, CredentialsError> {
    match (p.get("source_profile"), p.get("credential_source")) {
        (Some(_), Some(_)) => Err(CredentialsError::invalid(format!(
            "profile `{name}` sets both source_profile and credential_source: choose one"
        ))),
        (Some(source), None) => {
            roles.push(role_link(p, role_arn)?);
            if source != name {
                return Ok(Link::Source(source.to_owned()));
            }
            // Assume the role with this profile's own keys.
            let creds = static_keys(p)?.ok_or_else(|| {
                CredentialsError::invalid(format!("profile `{name}` is its own source_profile but has no static keys"))
            })?;
            Ok(Link::Base(BaseCredentials::Static { profile: name, credentials: creds }))
        }
        (None, Some(src)) => {
            roles.push(role_link(p, role_arn)?);
            let source = credential_source(p, src)?;
            Ok(Link::Base(BaseCredentials::Source { profile: name, source }))
        }
        (None, None) => match p.get("web_identity_token_file") {
            Some(token_file) => Ok(Link::Base(BaseCredentials::WebIdentity {
                profile: name,
                role_arn: role_arn.to_owned(),
                token_file: token_file.to_owned(),
                session_name: p.get("role_session_name").map(str::to_owned),
            })),
            None => Err(CredentialsError::invalid(format!(
                "profile `{name}` has role_arn but no source_profile, credential_source or web_identity_token_file"
            ))),
        },
    }
}

/// The profile provider: the profile from `AWS_PROFILE` (or the one given), resolved through
/// its chain: base credentials, then each role assumed with the credentials before it.
#[derive(Clone, Debug)]
pub struct ProfileCredentials {
    ctx: Context,
    sts: StsClient,
    profile: Option<String>,
}

impl ProfileCredentials {
    /// Reads the files and variables through `ctx`; roles are assumed through `sts`.
    pub fn new(ctx: &Context, sts: StsClient) -> Self {
        ProfileCredentials { ctx: ctx.clone(), sts, profile: None }
    }

    /// Uses this profile instead of `AWS_PROFILE` / `default`.
    #[must_use]
    pub fn profile(mut self, name: Option<&str>) -> Self {
        self.profile = name.map(str::to_owned);
        self
    }

    /// The profile name in use: the one given, `AWS_PROFILE`, or `default`.
    pub fn profile_name(&self) -> String {
        profile_name(self.profile.as_deref(), self.ctx.env())
    }

    /// The chain for the profile in use, from the files alone.
    pub fn chain(&self) -> Result<ProfileChain, CredentialsError> {
        let set = self
            .ctx
            .profiles()
            .map_err(|e| CredentialsError::invalid("cannot read the shared config files").with_source(e))?;
        ProfileChain::resolve(&set, &self.profile_name())
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let chain = self.chain()?;
        let base: SharedCredentialsProvider = match &chain.base {
            BaseCredentials::Static { credentials, .. } => {
                Arc::new(StaticCredentials::from_credentials(credentials.clone()))
            }
            BaseCredentials::Process { profile, command } => Arc::new(ProcessCredentials::new(profile, command)),
            BaseCredentials::Sso(settings) => Arc::new(SsoCredentials::new(&self.ctx, settings.clone())),
            BaseCredentials::WebIdentity { role_arn, token_file, session_name, .. } => Arc::new(
                WebIdentityCredentials::new(&self.ctx, self.sts.clone(), token_file, role_arn, session_name.as_deref()),
            ),
            BaseCredentials::Source { source: CredentialSource::Environment, .. } => {
                Arc::new(EnvCredentials::new(&self.ctx))
            }
            BaseCredentials::Source { source: CredentialSource::Ec2InstanceMetadata, .. } => {
                Arc::new(ImdsCredentials::new(&self.ctx))
            }
            BaseCredentials::Source { source: CredentialSource::EcsContainer, .. } => {
                Arc::new(ContainerCredentials::new(&self.ctx))
            }
        };
        let mut creds = base.provide_credentials().await.map_err(|e| {
            // A source that is missing here is an error: the profile asked for it.
            if e.is_not_configured() { CredentialsError::invalid(e.to_string()) } else { e }
                .context(format!("profile `{}`", self.profile_name()))
        })?;
        let env = self.ctx.env();
        for role in &chain.roles {
            let mut req = AssumeRoleRequest::new(
                &role.role_arn,
                role.session_name.clone().unwrap_or_else(|| super::web_identity::default_session_name(&self.ctx)),
            );
            req.external_id = role.external_id.clone();
            req.duration_seconds = role.duration_seconds;
            req.mfa = role.mfa_serial.clone().map(|serial| (serial, String::new()));
            // The AWS CLI's cache: a second run while the credentials last calls nothing and
            // asks for no code.
            let key = cli_cache::assume_role_key(&req, role.session_name.is_some());
            if let Some(cached) = cli_cache::load(env, &key, self.ctx.clock().now(), "assume_role") {
                tracing::debug!(role = role.role_arn, "assumed-role credentials from the AWS CLI's cache");
                creds = cached;
                continue;
            }
            if let Some(serial) = &role.mfa_serial {
                req.mfa = Some((serial.clone(), self.mfa_code(&role.profile, serial).await?));
            }
            let source = Arc::new(StaticCredentials::from_credentials(creds));
            creds = AssumeRoleProvider::new(self.sts.clone(), source, req)
                .provide_credentials()
                .await
                .map_err(|e| e.context(format!("profile `{}` assuming {}", role.profile, role.role_arn)))?;
            let account = role.role_arn.split(':').nth(4).filter(|a| !a.is_empty());
            cli_cache::store(env, &key, &creds, account, serde_json::json!({}));
        }
        // Static keys and processes are "profile"; SSO and assumed roles keep their own name.
        let keep = !chain.roles.is_empty() || matches!(chain.base, BaseCredentials::Sso(_));
        Ok(if keep { creds } else { creds.with_provider("profile") })
    }
}

impl ProfileCredentials {
    /// The current code of the MFA device `serial`, from the context's prompt.
    async fn mfa_code(&self, profile: &str, serial: &str) -> Result<String, CredentialsError> {
        let Some(prompt) = self.ctx.mfa_prompt() else {
            return Err(CredentialsError::invalid(format!(
                "profile `{profile}` assumes its role with MFA (mfa_serial {serial}) and needs a code: \
                 run on a terminal, or give the library an MFA prompt (Context::with_mfa_prompt)"
            )));
        };
        let code = prompt(serial.to_owned()).await?;
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CredentialsError::invalid(format!(
                "profile `{profile}`: the MFA code for {serial} must be 6 digits"
            )));
        }
        Ok(code.to_owned())
    }
}

impl ProvideCredentials for ProfileCredentials {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(self.fetch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(config: &str, credentials: &str) -> ProfileSet {
        let fs = crate::fs::MemFs::new([("/h/.aws/config", config), ("/h/.aws/credentials", credentials)]);
        ProfileSet::load(&[("HOME", "/h")], &fs).unwrap()
    }

    fn err(set: &ProfileSet, name: &str) -> String {
        ProfileChain::resolve(set, name).unwrap_err().to_string()
    }

    #[test]
    fn every_link_type() {
        let s = set(
            "[profile keys]\naws_access_key_id = AK\naws_secret_access_key = SK\naws_session_token = TOK\n\
             [profile proc]\ncredential_process = /bin/echo {}\n\
             [profile web]\nrole_arn = arn:aws:iam::1:role/web\nweb_identity_token_file = /t\nrole_session_name = s\n\
             [profile ecs]\nrole_arn = arn:aws:iam::1:role/e\ncredential_source = EcsContainer\n\
             [profile admin]\nrole_arn = arn:aws:iam::1:role/admin\nsource_profile = dev\nexternal_id = X\nduration_seconds = 900\n\
             [profile dev]\nrole_arn = arn:aws:iam::1:role/dev\nsource_profile = base\n",
            "[base]\naws_access_key_id = BASE\naws_secret_access_key = BASESECRET\n\
             [self]\naws_access_key_id = SELF\naws_secret_access_key = S\nrole_arn = arn:aws:iam::1:role/self\nsource_profile = self\n",
        );
        let keys = ProfileChain::resolve(&s, "keys").unwrap();
        assert!(keys.roles.is_empty());
        match keys.base {
            BaseCredentials::Static { credentials, .. } => assert_eq!(credentials.session_token(), Some("TOK")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(ProfileChain::resolve(&s, "proc").unwrap().base, BaseCredentials::Process { .. }));
        assert!(matches!(ProfileChain::resolve(&s, "web").unwrap().base, BaseCredentials::WebIdentity { .. }));
        let ecs = ProfileChain::resolve(&s, "ecs").unwrap();
        assert!(matches!(ecs.base, BaseCredentials::Source { source: CredentialSource::EcsContainer, .. }));
        assert_eq!(ecs.roles.len(), 1);

        let admin = ProfileChain::resolve(&s, "admin").unwrap();
        assert!(matches!(&admin.base, BaseCredentials::Static { profile, .. } if profile == "base"));
        let arns: Vec<&str> = admin.roles.iter().map(|r| r.role_arn.as_str()).collect();
        assert_eq!(arns, ["arn:aws:iam::1:role/dev", "arn:aws:iam::1:role/admin"]);
        assert_eq!(admin.roles[1].external_id.as_deref(), Some("X"));
        assert_eq!(admin.roles[1].duration_seconds, Some(900));

        let own = ProfileChain::resolve(&s, "self").unwrap();
        assert!(matches!(&own.base, BaseCredentials::Static { profile, .. } if profile == "self"));
        assert_eq!(own.roles.len(), 1);
    }

    #[test]
    fn duration_seconds_is_within_what_sts_allows() {
        for bad in ["0", "899", "43201", "4294967296", "-1", "1h"] {
            let s = set(
                &format!(
                    "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = b\nduration_seconds = {bad}\n"
                ),
                "[b]\naws_access_key_id = A\naws_secret_access_key = S\n",
            );
            let e = err(&s, "r");
            assert!(e.contains("from 900 to 43200") && e.contains(bad), "{e}");
        }
        let s = set(
            "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = b\nduration_seconds = 43200\n",
            "[b]\naws_access_key_id = A\naws_secret_access_key = S\n",
        );
        assert_eq!(ProfileChain::resolve(&s, "r").unwrap().roles[0].duration_seconds, Some(43_200));
    }

    #[test]
    fn broken_chains_say_what_and_where() {
        let s = set(
            "[profile a]\nrole_arn = r\nsource_profile = b\n[profile b]\nrole_arn = r\nsource_profile = a\n\
             [profile lost]\nrole_arn = r\nsource_profile = nowhere\n\
             [profile both]\nrole_arn = r\nsource_profile = a\ncredential_source = Environment\n\
             [profile bad-source]\nrole_arn = r\ncredential_source = Laptop\n\
             [profile half]\naws_access_key_id = AK\n\
             [profile empty]\nregion = us-east-1\n\
             [profile sso]\nsso_session = x\n\
             [profile sso-half]\nsso_session = s\nsso_account_id = 1\n\
             [profile sso-other-url]\nsso_session = s\nsso_start_url = https://other\nsso_account_id = 1\nsso_role_name = r\n\
             [profile sso-ok]\nsso_session = s\nsso_account_id = 111111111111\nsso_role_name = Dev\n\
             [profile sso-legacy]\nsso_start_url = https://l\nsso_region = us-east-2\nsso_account_id = 2\nsso_role_name = R\n\
             [sso-session s]\nsso_start_url = https://s\nsso_region = eu-west-1\n",
            "",
        );
        assert_eq!(err(&s, "a"), "source_profile cycle: a -> b -> a");
        assert!(err(&s, "lost")
            .contains("names source_profile `nowhere`, which is not found in /h/.aws/config or /h/.aws/credentials"));
        assert!(err(&s, "both").contains("both source_profile and credential_source"));
        assert!(err(&s, "bad-source").contains("\"Laptop\" is not one of"));
        assert!(err(&s, "half").contains("no aws_secret_access_key"));
        assert!(err(&s, "sso").contains("sso_session `x` names no [sso-session x] section"));
        assert!(err(&s, "sso-half").contains("need sso_account_id and sso_role_name"));
        assert!(err(&s, "sso-other-url").contains("sso_start_url differs from the one of [sso-session s]"));
        let chain = ProfileChain::resolve(&s, "sso-ok").unwrap();
        let BaseCredentials::Sso(sso) = chain.base else { panic!("{chain:?}") };
        assert_eq!(
            (sso.session.as_deref(), sso.start_url.as_str(), sso.region.as_str()),
            (Some("s"), "https://s", "eu-west-1")
        );
        assert_eq!((sso.account_id.as_str(), sso.role_name.as_str(), sso.cache_key()), ("111111111111", "Dev", "s"));
        let chain = ProfileChain::resolve(&s, "sso-legacy").unwrap();
        let BaseCredentials::Sso(sso) = chain.base else { panic!("{chain:?}") };
        assert_eq!((sso.session.as_deref(), sso.cache_key()), (None, "https://l"));
        let e = ProfileChain::resolve(&s, "empty").unwrap_err();
        assert!(e.is_not_configured(), "{e}");
        let e = ProfileChain::resolve(&s, "dev").unwrap_err();
        assert!(e.is_not_configured());
        assert_eq!(e.to_string(), "profile `dev` not found in /h/.aws/config or /h/.aws/credentials");
    }

    #[test]
    fn chain_uses_aws_profile_and_redacts() {
        let fs = crate::fs::MemFs::new([(
            "/h/.aws/credentials",
            "[dev]\naws_access_key_id = AK\naws_secret_access_key = SECRET\n",
        )]);
        let env = [("HOME", "/h"), ("AWS_PROFILE", "dev")];
        let set = ProfileSet::load(&env, &fs).unwrap();
        let chain = ProfileChain::resolve(&set, "dev").unwrap();
        assert!(
            matches!(&chain.base, BaseCredentials::Static { credentials, .. } if credentials.access_key_id() == "AK")
        );
        assert!(!format!("{chain:?}").contains("SECRET"));
    }
}
