//! STS against moto server: whoami, AssumeRole (and its refresh through the cache), web
//! identity, and a profile that assumes a role over a source profile.

use crate::common::{block_on, ctx_with, moto, temp_dir, trial};
use crate::ensure;
use cirrus::clock::ManualClock;
use cirrus::credentials::{
    AssumeRoleProvider, CacheSettings, CredentialsCache, ProfileCredentials, ProvideCredentials, StaticCredentials,
    WebIdentityCredentials,
};
use cirrus::loader::{ConfigLoader, CredentialsChoice};
use cirrus::sts::AssumeRoleRequest;
use cirrus::Config;
use libtest_mimic::Trial;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const ROLE: &str = "arn:aws:iam::123456789012:role/cirrus-test";

fn config(vars: &[(&str, &str)]) -> Result<Config, String> {
    let url = moto()?;
    ConfigLoader::new(ctx_with(vars))
        .region(Some("us-east-1"))
        .endpoint_url(Some(&url))
        .credentials(CredentialsChoice::Provider(Arc::new(StaticCredentials::new("AKIDSTSTEST", "secret", None))))
        .load()
        .map_err(|e| e.to_string())
}

fn whoami() -> Result<(), String> {
    let c = config(&[])?;
    block_on(async {
        let id = c.sts().get_caller_identity().await.map_err(|e| e.to_string())?;
        ensure!(id.account == "123456789012" && id.arn.starts_with("arn:aws:"), "{id:?}");
        Ok(())
    })
}

fn assume_role_and_refresh() -> Result<(), String> {
    let c = config(&[])?;
    block_on(async {
        let source = c.credentials().cloned().ok_or("no credentials")?;
        let mut req = AssumeRoleRequest::new(ROLE, "refresh-test");
        req.duration_seconds = Some(900);
        req.external_id = Some("ext-1".into());
        let provider = AssumeRoleProvider::new(c.sts(), source, req);
        let clock = ManualClock::new(SystemTime::now());
        let cache = Arc::new(CredentialsCache::with_settings(
            Arc::new(provider),
            CacheSettings::default(),
            Arc::new(clock.clone()),
        ));
        let first = cache.credentials().await.map_err(|e| e.to_string())?;
        ensure!(first.session_token().is_some() && first.expiry().is_some(), "{first:?}");
        let lifetime = first.expiry().unwrap().duration_since(SystemTime::now()).unwrap_or_default();
        ensure!(lifetime > Duration::from_secs(800) && lifetime <= Duration::from_secs(900), "lifetime {lifetime:?}");
        // The assumed credentials are who moto says they are.
        let as_role = c.sts().with_credentials(Some(cache.clone()));
        let id = as_role.get_caller_identity().await.map_err(|e| e.to_string())?;
        ensure!(id.arn.contains("assumed-role/cirrus-test/refresh-test"), "{id:?}");
        // Still fresh: served from the cache.
        ensure!(
            cache.credentials().await.map_err(|e| e.to_string())?.access_key_id() == first.access_key_id(),
            "refetched"
        );
        // Into the mandatory window: a new AssumeRole.
        clock.advance(lifetime - Duration::from_secs(30));
        let second = cache.credentials().await.map_err(|e| e.to_string())?;
        ensure!(second.access_key_id() != first.access_key_id(), "not refreshed");
        ensure!(cache.stats().fetches == 2, "{:?}", cache.stats());
        Ok(())
    })
}

fn web_identity_from_env() -> Result<(), String> {
    let dir = temp_dir("webid");
    let token = dir.join("token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl\n").map_err(|e| e.to_string())?;
    let token = token.to_string_lossy().into_owned();
    let vars = [
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token.as_str()),
        ("AWS_ROLE_ARN", ROLE),
        ("AWS_ROLE_SESSION_NAME", "web-sess"),
    ];
    let c = config(&vars)?;
    block_on(async {
        let p = WebIdentityCredentials::from_env(c.context(), c.sts());
        let creds = p.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(creds.provider() == "web_identity" && creds.session_token().is_some(), "{creds:?}");
        let none = WebIdentityCredentials::from_env(&ctx_with(&[]), c.sts());
        let e = none.provide_credentials().await.unwrap_err();
        ensure!(e.is_not_configured() && e.to_string() == "AWS_WEB_IDENTITY_TOKEN_FILE not set", "{e}");
        Ok(())
    })
}

fn profile_role_chain() -> Result<(), String> {
    let url = moto()?;
    let home = temp_dir("home");
    std::fs::create_dir_all(home.join(".aws")).map_err(|e| e.to_string())?;
    std::fs::write(
        home.join(".aws/config"),
        format!(
            "[profile admin]\nrole_arn = {ROLE}\nsource_profile = base\nrole_session_name = chained\nexternal_id = x\n\
             [profile twice]\nrole_arn = arn:aws:iam::123456789012:role/second\nsource_profile = admin\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(
        home.join(".aws/credentials"),
        "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = basesecret\n",
    )
    .map_err(|e| e.to_string())?;
    let home_s = home.to_string_lossy().into_owned();
    let c = ConfigLoader::new(ctx_with(&[("HOME", &home_s), ("AWS_ENDPOINT_URL", &url)]))
        .region(Some("us-east-1"))
        .profile(Some("admin"))
        .load()
        .map_err(|e| e.to_string())?;
    block_on(async {
        let creds = c.credentials().ok_or("anonymous")?.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(creds.provider() == "assume_role" && creds.session_token().is_some(), "{creds:?}");
        let id = c.sts().get_caller_identity().await.map_err(|e| e.to_string())?;
        ensure!(id.arn.contains("assumed-role/cirrus-test/chained"), "{id:?}");
        let p = ProfileCredentials::new(c.context(), c.sts()).profile(Some("twice"));
        ensure!(p.chain().map_err(|e| e.to_string())?.roles.len() == 2, "two roles");
        let creds = p.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(creds.provider() == "assume_role", "{creds:?}");
        Ok(())
    })
}

fn get_session_token() -> Result<(), String> {
    let c = config(&[])?;
    block_on(async {
        let creds = c.sts().get_session_token(Some(900), None).await.map_err(|e| e.to_string())?;
        ensure!(creds.session_token().is_some() && creds.expiry().is_some(), "{creds:?}");
        Ok(())
    })
}

pub fn trials() -> Vec<Trial> {
    vec![
        trial("sts::get_caller_identity", whoami),
        trial("sts::assume_role_then_refresh_through_the_cache", assume_role_and_refresh),
        trial("sts::web_identity_from_env", web_identity_from_env),
        trial("sts::profile_assumes_roles_over_a_source_profile", profile_role_chain),
        trial("sts::get_session_token", get_session_token),
    ]
}
