//! Cognito: the SRP arithmetic against pycognito (PyPI) with the same fixed ephemeral values,
//! one test per case of `tests/data/srp/cases.json`; logins, challenges, refresh, identity pool
//! credentials, the token cache and the chain end to end against moto server.

use crate::common::{block_on, ctx_with, moto, python, temp_dir, trial, Loopback, Reply, Seen};
use crate::ensure;
use cirrus::clock::ManualClock;
use cirrus::cognito::srp::{PasswordVerifier, SrpClient};
use cirrus::cognito::{
    AuthResult, AuthType, ChallengeAnswer, ChallengeKind, ClientMetadata, CognitoBuilder, CognitoCredentials,
    CognitoSettings, UserPoolClient,
};
use cirrus::credentials::{ProvideCredentials, StaticCredentials};
use cirrus::loader::{ConfigLoader, CredentialsChoice};
use cirrus::transport::protocol::json_request;
use cirrus::Config;
use libtest_mimic::Trial;
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/srp")
}

pub fn trials() -> Vec<Trial> {
    let mut trials = vec![
        trial("cognito::srp_login_gives_tokens_and_credentials_then_refreshes", srp_login_and_refresh),
        trial("cognito::password_login_with_a_client_secret", password_login_with_secret),
        trial("cognito::wrong_password_is_not_authorized", wrong_password),
        trial("cognito::temporary_password_returns_the_typed_challenge", new_password_challenge),
        trial("cognito::basic_flow_assumes_the_role", basic_flow),
        trial("cognito::unauthenticated_identity", unauthenticated),
        trial("cognito::token_cache_is_0600_without_password_and_reused", token_cache),
        trial("cognito::chain_uses_cognito_first_when_env_is_set", chain_from_env),
        trial("cognito::profile_file_and_precedence", profile_file),
        trial("cognito::configuration_errors_name_field_and_place", configuration_errors),
        trial("cognito::token_fetcher_runs_until_dropped", token_fetcher),
        trial("cognito::wire_secret_hash_metadata_mfa_answer_custom_role", wire),
    ];
    trials.extend(srp_trials());
    trials
}

fn srp_trials() -> Vec<Trial> {
    let text = std::fs::read_to_string(data().join("cases.json")).expect("tests/data/srp/cases.json");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("cases.json is JSON");
    cases
        .into_iter()
        .map(|case| {
            let name = format!("cognito::srp_matches_pycognito::{}", case["name"].as_str().unwrap_or("?"));
            trial(name, move || srp_case(&case))
        })
        .collect()
}

/// pycognito's values for a case (and the server side of SRP-6a, from the verifier).
fn reference(case: &Value) -> Result<Value, String> {
    let mut child = Command::new(python()?)
        .arg(data().join("reference.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the test Python: {e}"))?;
    child.stdin.take().unwrap().write_all(case.to_string().as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    ensure!(out.status.success(), "reference.py failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).map_err(|e| format!("reference.py printed no JSON: {e}"))
}

fn srp_case(case: &Value) -> Result<(), String> {
    let s = |k: &str| case[k].as_str().map(str::to_owned).ok_or(format!("case has no {k}"));
    let want = reference(case)?;
    let w = |k: &str| want[k].as_str().unwrap_or_default().to_owned();
    ensure!(w("S") == w("S_server"), "pycognito's S is not the server's S: the reference itself is wrong");

    let a = hex(&s("a")?)?;
    let client = SrpClient::with_secret(&s("pool_id")?, &a).map_err(|e| e.to_string())?;
    ensure!(client.srp_a() == w("A"), "A: {} != pycognito {}", client.srp_a(), w("A"));
    let d = client.derive(&s("user_id")?, &s("password")?, &s("salt")?, &w("B")).map_err(|e| e.to_string())?;
    ensure!(d.k == w("k"), "k: {} != {}", d.k, w("k"));
    ensure!(d.u == w("u"), "u: {} != {}", d.u, w("u"));
    ensure!(d.x == w("x"), "x: {} != {}", d.x, w("x"));
    ensure!(d.s == w("S"), "S differs from pycognito");
    ensure!(cirrus::sigv4::hex(&d.key) == w("key"), "HKDF key: {} != {}", cirrus::sigv4::hex(&d.key), w("key"));

    let time = cirrus::sigv4::parse_rfc3339(&s("time")?).ok_or("bad time")?;
    let challenge =
        PasswordVerifier { user_id: s("user_id")?, salt: s("salt")?, srp_b: w("B"), secret_block: s("secret_block")? };
    let claim = client.claim(&challenge, &s("password")?, time).map_err(|e| e.to_string())?;
    ensure!(claim.timestamp == s("timestamp")?, "timestamp {:?} != {:?}", claim.timestamp, s("timestamp")?);
    ensure!(claim.timestamp == w("timestamp"), "pycognito signed {:?}", w("timestamp"));
    ensure!(claim.signature == w("signature"), "signature {} != pycognito {}", claim.signature, w("signature"));
    Ok(())
}

fn hex(s: &str) -> Result<Vec<u8>, String> {
    let s = if s.len() % 2 == 1 { format!("0{s}") } else { s.to_owned() };
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| e.to_string())).collect()
}

// ---- against moto server ----

fn config_with(ctx: cirrus::Context) -> Result<Config, String> {
    let url = moto()?;
    ConfigLoader::new(ctx)
        .region(Some("us-east-1"))
        .endpoint_url(Some(&url))
        .credentials(CredentialsChoice::Provider(Arc::new(StaticCredentials::new("AKIDCOGNITO", "secret", None))))
        .load()
        .map_err(|e| e.to_string())
}

/// A signed administrative call (pool and user set-up).
async fn admin(config: &Config, identity: bool, op: &str, body: Value) -> Result<Value, String> {
    let (spec, target) = if identity {
        (cirrus::cognito::IDENTITY_POOL_SPEC, "AWSCognitoIdentityService")
    } else {
        (cirrus::cognito::USER_POOL_SPEC, "AWSCognitoIdentityProviderService")
    };
    let svc = config.service(spec, config.credentials().cloned()).map_err(|e| e.to_string())?;
    let op: &'static str = Box::leak(op.to_owned().into_boxed_str());
    let resp = svc.send(op, json_request(svc.endpoint(), "1.1", target, op, &body)).await.map_err(|e| e.to_string())?;
    serde_json::from_slice(&resp.body).map_err(|e| e.to_string())
}

/// A pool, an app client (with a secret if asked), a user with a permanent password, and an
/// identity pool trusting the app client.
struct Pool {
    user_pool_id: String,
    app_id: String,
    app_secret: Option<String>,
    identity_pool_id: String,
}

const USER: &str = "alice";
const PASSWORD: &str = "Correct-Horse-9";

async fn make_pool(config: &Config, secret: bool, permanent: bool) -> Result<Pool, String> {
    let pool = admin(config, false, "CreateUserPool", json!({"PoolName": "cirrus-test"})).await?;
    let user_pool_id = pool["UserPool"]["Id"].as_str().ok_or("no pool id")?.to_owned();
    let client = admin(
        config,
        false,
        "CreateUserPoolClient",
        json!({"UserPoolId": user_pool_id, "ClientName": "app", "GenerateSecret": secret,
               "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    )
    .await?;
    let app_id = client["UserPoolClient"]["ClientId"].as_str().ok_or("no client id")?.to_owned();
    let app_secret = client["UserPoolClient"]["ClientSecret"].as_str().map(str::to_owned);
    ensure!(app_secret.is_some() == secret, "client secret: {client}");
    admin(
        config,
        false,
        "AdminCreateUser",
        json!({"UserPoolId": user_pool_id, "Username": USER, "TemporaryPassword": "Temp-Pass-1"}),
    )
    .await?;
    if permanent {
        admin(
            config,
            false,
            "AdminSetUserPassword",
            json!({"UserPoolId": user_pool_id, "Username": USER, "Password": PASSWORD, "Permanent": true}),
        )
        .await?;
    }
    let provider = format!("cognito-idp.us-east-1.amazonaws.com/{user_pool_id}");
    let ip = admin(
        config,
        true,
        "CreateIdentityPool",
        json!({"IdentityPoolName": "cirrus_test", "AllowUnauthenticatedIdentities": true,
               "CognitoIdentityProviders": [{"ProviderName": provider, "ClientId": app_id}]}),
    )
    .await?;
    let identity_pool_id = ip["IdentityPoolId"].as_str().ok_or("no identity pool id")?.to_owned();
    Ok(Pool { user_pool_id, app_id, app_secret, identity_pool_id })
}

/// A builder for the pool's user with this password.
fn builder(config: &Config, pool: &Pool, password: &str) -> CognitoBuilder {
    let b = CognitoCredentials::builder(config)
        .username(USER)
        .password(password)
        .user_pool_id(&pool.user_pool_id)
        .app_id(&pool.app_id)
        .identity_pool_id(&pool.identity_pool_id);
    match &pool.app_secret {
        Some(s) => b.app_secret(s),
        None => b,
    }
}

fn provider(config: &Config, pool: &Pool, auth: AuthType) -> Result<CognitoCredentials, String> {
    builder(config, pool, PASSWORD).auth_type(auth).build().map_err(|e| e.to_string())
}

fn srp_login_and_refresh() -> Result<(), String> {
    let clock = ManualClock::new(SystemTime::now());
    let config = config_with(ctx_with(&[]).with_clock(Arc::new(clock.clone())))?;
    block_on(async {
        let pool = make_pool(&config, false, true).await?;
        let p = provider(&config, &pool, AuthType::UserSrp)?;
        let creds = p.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(creds.provider() == "cognito" && creds.session_token().is_some(), "{creds:?}");
        ensure!(creds.expiry().is_some(), "identity pool credentials have an expiry: {creds:?}");
        let id = p.identity_id().await.ok_or("no identity id")?;
        ensure!(id.starts_with("us-east-1:"), "{id}");
        let tokens = p.tokens().await.map_err(|e| e.to_string())?;
        ensure!(tokens.id_token.split('.').count() == 3, "the id token is a JWT");
        ensure!(tokens.refresh_token.is_some(), "a login returns a refresh token");
        ensure!(tokens.username().as_deref() == Some(USER), "cognito:username: {:?}", tokens.username());
        ensure!(!format!("{tokens:?}").contains(tokens.id_token.as_str()), "Debug shows the id token");
        ensure!(p.stats().logins == 1 && p.stats().refreshes == 0, "{:?}", p.stats());

        // A second fetch reuses the tokens and the identity.
        p.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(p.stats().logins == 1 && p.stats().refreshes == 0, "{:?}", p.stats());

        // Near expiry the refresh token is used, not the password.
        clock.advance(Duration::from_secs(3600 - 120));
        let fresh = p.tokens().await.map_err(|e| e.to_string())?;
        ensure!(p.stats().logins == 1 && p.stats().refreshes == 1, "{:?}", p.stats());
        ensure!(fresh.refresh_token.as_deref() == tokens.refresh_token.as_deref(), "the refresh token is kept");
        ensure!(fresh.expires_at > clock_now(&clock) + Duration::from_secs(3000), "refreshed tokens are new");
        p.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(p.stats().logins == 1, "{:?}", p.stats());

        // Concurrent callers share one refresh.
        clock.advance(Duration::from_secs(3600));
        let all = futures_join(&p, 8).await;
        ensure!(all.iter().all(Result::is_ok), "{all:?}");
        ensure!(p.stats().logins == 1 && p.stats().refreshes == 2, "one refresh for eight callers: {:?}", p.stats());
        Ok(())
    })
}

fn clock_now(clock: &ManualClock) -> SystemTime {
    cirrus::clock::Clock::now(clock)
}

async fn futures_join(p: &CognitoCredentials, n: usize) -> Vec<Result<(), String>> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let p = p.clone();
        tasks.push(tokio::spawn(async move { p.tokens().await.map(|_| ()).map_err(|e| e.to_string()) }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.map_err(|e| e.to_string()).and_then(|r| r));
    }
    out
}

fn password_login_with_secret() -> Result<(), String> {
    let config = config_with(ctx_with(&[]))?;
    block_on(async {
        let pool = make_pool(&config, true, true).await?;
        let p = provider(&config, &pool, AuthType::UserPassword)?;
        let creds = p.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(creds.provider() == "cognito", "{creds:?}");
        // SRP through a client with a secret, and client metadata.
        let client = UserPoolClient::new(&config, &pool.user_pool_id, &pool.app_id)
            .map_err(|e| e.to_string())?
            .with_client_secret(pool.app_secret.as_deref());
        ensure!(!format!("{client:?}").contains(pool.app_secret.as_deref().unwrap_or("?")), "Debug shows the secret");
        let meta = ClientMetadata::from_json(r#"{"source": "cirrus-test"}"#)?;
        let r = client.login_srp(USER, PASSWORD, &meta).await.map_err(|e| e.to_string())?;
        let t = r.into_tokens().map_err(|e| e.to_string())?;
        let refreshed = client
            .refresh(t.refresh_token.as_deref().ok_or("no refresh token")?, USER, &meta)
            .await
            .map_err(|e| e.to_string())?;
        ensure!(refreshed.access_token.len() > 10, "refresh gave an access token");
        Ok(())
    })
}

fn wrong_password() -> Result<(), String> {
    let config = config_with(ctx_with(&[]))?;
    block_on(async {
        let pool = make_pool(&config, false, true).await?;
        let client = UserPoolClient::new(&config, &pool.user_pool_id, &pool.app_id).map_err(|e| e.to_string())?;
        let e = client
            .login_password(USER, "Wrong-Pass-1", &ClientMetadata::default())
            .await
            .err()
            .ok_or("wrong password accepted")?;
        ensure!(e.code() == Some("NotAuthorizedException"), "{e}");
        let msg = e.to_string();
        ensure!(msg.contains("Cognito Identity Provider") && msg.contains("InitiateAuth"), "{msg}");
        ensure!(msg.contains("NotAuthorizedException") && msg.contains("Incorrect username or password"), "{msg}");
        ensure!(!msg.contains("Wrong-Pass-1"), "the password is in the error: {msg}");
        // Through the provider: a refusal, with the same message, and no password in it.
        let p = builder(&config, &pool, "Wrong-Pass-1")
            .auth_type(AuthType::UserPassword)
            .build()
            .map_err(|e| e.to_string())?;
        let e = p.provide_credentials().await.err().ok_or("wrong password gave credentials")?;
        let shown = cirrus::transport::report(&e);
        ensure!(!e.is_retryable() && shown.contains("NotAuthorizedException"), "{shown}");
        ensure!(!shown.contains("Wrong-Pass-1"), "{shown}");
        Ok(())
    })
}

fn new_password_challenge() -> Result<(), String> {
    let config = config_with(ctx_with(&[]))?;
    block_on(async {
        let pool = make_pool(&config, false, false).await?;
        let client = UserPoolClient::new(&config, &pool.user_pool_id, &pool.app_id).map_err(|e| e.to_string())?;
        let none = ClientMetadata::default();
        let r = client.login_password(USER, "Temp-Pass-1", &none).await.map_err(|e| e.to_string())?;
        let AuthResult::Challenge(c) = r else { return Err("a temporary password gave tokens".into()) };
        ensure!(matches!(c.kind, ChallengeKind::NewPasswordRequired { .. }), "{c:?}");
        ensure!(c.name() == "NEW_PASSWORD_REQUIRED" && c.username == USER, "{c:?}");
        ensure!(format!("{c:?}").contains("redacted"), "Debug shows the session");
        // The provider stops at it with a message that names it.
        let p = builder(&config, &pool, "Temp-Pass-1")
            .auth_type(AuthType::UserPassword)
            .build()
            .map_err(|e| e.to_string())?;
        let e = p.provide_credentials().await.err().ok_or("challenge gave credentials")?;
        ensure!(e.to_string().contains("NEW_PASSWORD_REQUIRED"), "{e}");
        ensure!(matches!(p.authenticate().await, Ok(AuthResult::Challenge(_))), "authenticate returns the challenge");
        // Answering it signs in.
        let answer =
            ChallengeAnswer::NewPassword { password: "Brand-New-Pass-2".to_owned().into(), attributes: vec![] };
        let r = client.respond(&c, answer, &none).await.map_err(|e| e.to_string())?;
        ensure!(matches!(r, AuthResult::Tokens(_)), "{r:?}");
        let r = client.login_password(USER, "Brand-New-Pass-2", &none).await.map_err(|e| e.to_string())?;
        ensure!(matches!(r, AuthResult::Tokens(_)), "the new password works: {r:?}");
        Ok(())
    })
}

fn basic_flow() -> Result<(), String> {
    let config = config_with(ctx_with(&[]))?;
    block_on(async {
        let pool = make_pool(&config, false, true).await?;
        let p = builder(&config, &pool, PASSWORD)
            .role_arn("arn:aws:iam::123456789012:role/cognito-basic")
            .build()
            .map_err(|e| e.to_string())?;
        let creds = p.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(creds.provider() == "cognito", "{creds:?}");
        // moto's STS knows the session it issued: the caller is the assumed role.
        let sts = config.sts().with_credentials(Some(Arc::new(StaticCredentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            creds.session_token().map(str::to_owned),
        ))));
        let who = sts.get_caller_identity().await.map_err(|e| e.to_string())?;
        ensure!(who.arn.contains("assumed-role/cognito-basic/cirrus-"), "{who:?}");
        Ok(())
    })
}

fn unauthenticated() -> Result<(), String> {
    let config = config_with(ctx_with(&[]))?;
    block_on(async {
        let pool = make_pool(&config, false, true).await?;
        let p = CognitoCredentials::builder(&config)
            .identity_pool_id(&pool.identity_pool_id)
            .build()
            .map_err(|e| e.to_string())?;
        let creds = p.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(creds.provider() == "cognito" && p.stats().logins == 0, "{creds:?} {:?}", p.stats());
        let e = p.tokens().await.err().ok_or("a guest has tokens")?;
        ensure!(e.to_string().contains("no user pool login"), "{e}");
        Ok(())
    })
}

fn token_cache() -> Result<(), String> {
    let config = config_with(ctx_with(&[]))?;
    let dir = temp_dir("cognito-cache");
    let cache_dir = dir.join("tokens");
    block_on(async {
        let pool = make_pool(&config, false, true).await?;
        let build =
            || builder(&config, &pool, PASSWORD).cache(true).cache_dir(&cache_dir).build().map_err(|e| e.to_string());
        let first = build()?;
        let tokens = first.tokens().await.map_err(|e| e.to_string())?;
        let files: Vec<_> = std::fs::read_dir(&cache_dir).map_err(|e| e.to_string())?.flatten().collect();
        ensure!(files.len() == 1, "one cache file, no temporary left: {files:?}");
        let path = files[0].path();
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        ensure!(!text.contains(PASSWORD), "the cache holds the password");
        let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        ensure!(
            v["refresh_token"].as_str() == tokens.refresh_token.as_deref().map(String::as_str),
            "refresh token in its slot"
        );
        ensure!(v["id_token"].as_str() == Some(tokens.id_token.as_str()), "id token in its slot");
        ensure!(v["access_token"].as_str() == Some(tokens.access_token.as_str()), "access token in its slot");
        ensure!(v["refresh_token"] != v["id_token"] && v["refresh_token"] != v["access_token"], "slots mixed up");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).map_err(|e| e.to_string())?.permissions().mode() & 0o777;
            ensure!(mode == 0o600, "cache file mode {mode:o}");
            let dmode = std::fs::metadata(&cache_dir).map_err(|e| e.to_string())?.permissions().mode() & 0o777;
            ensure!(dmode == 0o700, "cache dir mode {dmode:o}");
        }
        // A new provider (a new process) uses the cached tokens: no login.
        let second = build()?;
        second.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(second.stats().logins == 0, "the cache was not used: {:?}", second.stats());
        // A cache file others can read is not trusted: a login, and the file is private again.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).map_err(|e| e.to_string())?;
            let third = build()?;
            third.tokens().await.map_err(|e| e.to_string())?;
            ensure!(third.stats().logins == 1, "a world-readable cache was trusted: {:?}", third.stats());
            let mode = std::fs::metadata(&path).map_err(|e| e.to_string())?.permissions().mode() & 0o777;
            ensure!(mode == 0o600, "the rewritten cache file is {mode:o}");
        }
        // A cache dir without the cache enabled is a configuration error.
        let e = CognitoCredentials::builder(&config)
            .identity_pool_id(&pool.identity_pool_id)
            .cache_dir(&cache_dir)
            .build()
            .err()
            .ok_or("cache_dir without cache accepted")?;
        ensure!(e.to_string().contains("cache is not enabled"), "{e}");
        Ok(())
    })?;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

fn chain_from_env() -> Result<(), String> {
    let setup = config_with(ctx_with(&[]))?;
    let pool = block_on(make_pool(&setup, false, true))?;
    let url = moto()?;
    let vars = [
        ("COGNITO_USERNAME", USER),
        ("COGNITO_PASSWORD", PASSWORD),
        ("COGNITO_USER_POOL_ID", pool.user_pool_id.as_str()),
        ("COGNITO_APP_ID", pool.app_id.as_str()),
        ("COGNITO_IDENTITY_POOL_ID", pool.identity_pool_id.as_str()),
        ("COGNITO_METADATA", r#"{"k": "v"}"#),
        ("AWS_ACCESS_KEY_ID", "AKIDENVIRONMENT"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("HOME", "/nonexistent"),
    ];
    let config = ConfigLoader::new(ctx_with(&vars))
        .region(Some("us-east-1"))
        .endpoint_url(Some(&url))
        .load()
        .map_err(|e| e.to_string())?;
    block_on(async {
        let chain = config.chain().ok_or("no default chain")?;
        ensure!(chain.links()[0].name == "cognito", "{chain:?}");
        let ex = chain.explain().await;
        ensure!(ex.winner() == Some("cognito"), "{ex}");
        let c = ex.result.map_err(|e| cirrus::transport::report(&e))?;
        ensure!(c.provider() == "cognito", "{c:?}");
        // Without COGNITO_* the link is skipped and says why.
        let plain =
            ConfigLoader::new(ctx_with(&vars[6..])).region(Some("us-east-1")).load().map_err(|e| e.to_string())?;
        let ex = plain.chain().ok_or("no chain")?.explain().await;
        ensure!(ex.winner() == Some("environment"), "{ex}");
        ensure!(
            ex.to_string()
                .starts_with("cognito      skipped: COGNITO_USER_POOL_ID and COGNITO_IDENTITY_POOL_ID not set"),
            "{ex}"
        );
        // A user pool login without an identity pool gives no AWS credentials: skipped, and the
        // environment's keys are used.
        let no_pool: Vec<_> = vars.iter().filter(|(k, _)| *k != "COGNITO_IDENTITY_POOL_ID").copied().collect();
        let c = ConfigLoader::new(ctx_with(&no_pool)).region(Some("us-east-1")).load().map_err(|e| e.to_string())?;
        let ex = c.chain().ok_or("no chain")?.explain().await;
        ensure!(
            ex.winner() == Some("environment") && ex.to_string().contains("COGNITO_IDENTITY_POOL_ID not set"),
            "{ex}"
        );
        // A half-set environment fails with the missing field named.
        let half = ConfigLoader::new(ctx_with(&[
            ("COGNITO_USERNAME", USER),
            ("COGNITO_IDENTITY_POOL_ID", "us-east-1:x"),
            ("HOME", "/nonexistent"),
        ]))
        .region(Some("us-east-1"))
        .load()
        .map_err(|e| e.to_string())?;
        let ex = half.chain().ok_or("no chain")?.explain().await;
        let e = ex.result.err().ok_or("half-set Cognito gave credentials")?;
        let e = cirrus::transport::report(&e);
        ensure!(
            e.contains("the COGNITO_* settings are not valid: Cognito user_pool_id is not set")
                && e.contains("COGNITO_USER_POOL_ID"),
            "{e}"
        );
        Ok(())
    })
}

fn profile_file() -> Result<(), String> {
    let setup = config_with(ctx_with(&[]))?;
    let pool = block_on(make_pool(&setup, false, true))?;
    let dir = temp_dir("cognito-profile");
    let file = dir.join("cognito_credentials");
    std::fs::write(
        &file,
        format!(
            "[dev]\nusername = {USER}\npassword = {PASSWORD}\napp_id = {}\nuser_pool_id = {}\nidentity_pool_id = {}\nregion = us-east-1\nauth_type = user_password\nmetadata = {{\"team\": \"cirrus\"}}\n",
            pool.app_id, pool.user_pool_id, pool.identity_pool_id
        ),
    )
    .map_err(|e| e.to_string())?;
    let f = file.to_string_lossy().into_owned();
    // The environment names another user: the profile wins over it.
    let config = config_with(ctx_with(&[("COGNITO_CREDENTIALS_FILE", &f), ("COGNITO_USERNAME", "mallory")]))?;
    block_on(async {
        let p = CognitoCredentials::builder(&config).profile("dev").build().map_err(|e| e.to_string())?;
        let c = p.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(c.provider() == "cognito", "{c:?}");
        // An explicit argument wins over the profile.
        let p = CognitoCredentials::builder(&config)
            .profile("dev")
            .password("Wrong-Pass-1")
            .build()
            .map_err(|e| e.to_string())?;
        let e = p.tokens().await.err().ok_or("explicit password ignored")?;
        let shown = cirrus::transport::report(&e);
        ensure!(shown.contains("NotAuthorizedException"), "{shown}");
        // A profile and a settings value at once.
        let e = CognitoCredentials::builder(&config)
            .profile("dev")
            .settings(CognitoSettings::default())
            .build()
            .err()
            .ok_or("profile + settings accepted")?;
        ensure!(e.to_string().contains("a profile and a settings value were both given"), "{e}");
        Ok(())
    })?;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

fn configuration_errors() -> Result<(), String> {
    let config = config_with(ctx_with(&[("HOME", "/nonexistent")]))?;
    let err =
        |b: cirrus::cognito::CognitoBuilder| b.build().err().map(|e| cirrus::transport::report(&e)).unwrap_or_default();
    let e = err(CognitoCredentials::builder(&config).username(USER).password("p").app_id("a"));
    ensure!(e.contains("user_pool_id is not set (looked in the arguments, COGNITO_USER_POOL_ID)"), "{e}");
    let e = err(CognitoCredentials::builder(&config).username(USER).user_pool_id("us-east-1_X").app_id("a"));
    ensure!(e.contains("password is not set") && e.contains("COGNITO_PASSWORD"), "{e}");
    let e = err(CognitoCredentials::builder(&config).profile("missing"));
    ensure!(e.contains("/nonexistent/.aws/cognito_credentials cannot be read"), "{e}");
    let e = err(CognitoCredentials::builder(&config).username(USER).password("p").app_id("a").user_pool_id("nope"));
    ensure!(e.contains("user_pool_id") && e.contains("is not <region>_<name>"), "{e}");
    let e = err(CognitoCredentials::builder(&config).identity_pool_id("no-colon"));
    ensure!(e.contains("is not <region>:<id>"), "{e}");
    let e = err(CognitoCredentials::builder(&config)
        .identity_pool_id("us-east-1:x")
        .identity_flow(cirrus::cognito::IdentityFlow::Basic));
    ensure!(e.contains("role_arn"), "{e}");
    let e = err(CognitoCredentials::builder(&config));
    ensure!(e.contains("user_pool_id or identity_pool_id is not set"), "{e}");
    Ok(())
}

fn token_fetcher() -> Result<(), String> {
    let clock = ManualClock::new(SystemTime::now());
    let config = config_with(ctx_with(&[]).with_clock(Arc::new(clock.clone())))?;
    block_on(async {
        let pool = make_pool(&config, false, true).await?;
        let p = provider(&config, &pool, AuthType::UserSrp)?;
        let fetcher = p.spawn_token_fetcher_checking_every(Duration::from_millis(20));
        let t = fetcher.tokens().await.map_err(|e| e.to_string())?;
        ensure!(t.id_token.len() > 10 && fetcher.is_running(), "fetcher tokens");
        tokio::time::sleep(Duration::from_millis(200)).await;
        ensure!(p.stats().logins == 1 && p.stats().refreshes == 0, "the fetcher logged in once: {:?}", p.stats());
        // Near expiry the task refreshes without anyone asking.
        clock.advance(Duration::from_secs(3600 - 200));
        let mut waited = 0;
        while p.stats().refreshes == 0 && waited < 100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited += 1;
        }
        ensure!(p.stats().refreshes == 1 && p.stats().logins == 1, "no background refresh: {:?}", p.stats());
        // Dropped, it stops: time passes and nothing refreshes.
        drop(fetcher);
        clock.advance(Duration::from_secs(3600));
        tokio::time::sleep(Duration::from_millis(300)).await;
        ensure!(p.stats().refreshes == 1, "the task ran after drop: {:?}", p.stats());
        Ok(())
    })
}

// ---- what goes on the wire (moto checks neither SECRET_HASH nor metadata) ----

/// A stand-in for both pools that records every request: SMS_MFA for the password "mfa",
/// tokens for `cognito:username` "internal-u" otherwise.
fn answer(seen: &Seen) -> Reply {
    let body: Value = serde_json::from_slice(&seen.body).unwrap_or_default();
    let claims = cirrus::sigv4::base64(br#"{"cognito:username":"internal-u"}"#);
    let tokens = json!({"AuthenticationResult": {"IdToken": format!("e30.{}.sig", claims.trim_end_matches('=')),
        "AccessToken": "access", "RefreshToken": "refresh", "ExpiresIn": 3600}});
    let reply = match seen.header("x-amz-target").unwrap_or_default().rsplit('.').next().unwrap_or_default() {
        "InitiateAuth" if body["AuthParameters"]["PASSWORD"] == "mfa" => json!({"ChallengeName": "SMS_MFA",
            "Session": "sess-1", "ChallengeParameters": {"USERNAME": "internal-u", "CODE_DELIVERY_DESTINATION": "+***1"}}),
        "InitiateAuth" | "RespondToAuthChallenge" => tokens,
        "GetId" => json!({"IdentityId": "us-east-1:abc"}),
        "GetCredentialsForIdentity" => json!({"IdentityId": "us-east-1:abc", "Credentials":
            {"AccessKeyId": "AKIDLOOP", "SecretKey": "s", "SessionToken": "t", "Expiration": 1.9e9}}),
        other => return Reply::status(400, format!("unexpected {other}")),
    };
    Reply::ok(reply.to_string())
}

fn wire() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|_, seen| answer(seen)).await;
        let clock = ManualClock::new(SystemTime::now());
        let ctx = ctx_with(&[("COGNITO_USERNAME", "from-env"), ("COGNITO_APP_ID", "env-app")])
            .with_clock(Arc::new(clock.clone()));
        let config = ConfigLoader::new(ctx)
            .region(Some("us-east-1"))
            .endpoint_url(Some(&server.url))
            .credentials(CredentialsChoice::Anonymous)
            .load()
            .map_err(|e| e.to_string())?;
        let bodies = || -> Vec<Value> {
            server.requests().iter().map(|s| serde_json::from_slice(&s.body).unwrap_or_default()).collect()
        };
        let hash = |user: &str| cirrus::cognito::srp::secret_hash("sekret", user, "app-1");
        let meta = ClientMetadata::from_json(r#"{"k": "v"}"#)?;

        // The client: SECRET_HASH and metadata on every call, the MFA code under its name.
        let client = UserPoolClient::new(&config, "us-east-1_Pool", "app-1")
            .map_err(|e| e.to_string())?
            .with_client_secret(Some("sekret"));
        let r = client.login_password("alias@example.com", "mfa", &meta).await.map_err(|e| e.to_string())?;
        let AuthResult::Challenge(c) = r else { return Err("no SMS_MFA challenge".into()) };
        ensure!(c.kind == ChallengeKind::SmsMfa { destination: Some("+***1".into()) }, "{c:?}");
        let r =
            client.respond(&c, ChallengeAnswer::MfaCode("123456".into()), &meta).await.map_err(|e| e.to_string())?;
        ensure!(matches!(r, AuthResult::Tokens(_)), "{r:?}");
        let b = bodies();
        ensure!(b[0]["AuthFlow"] == "USER_PASSWORD_AUTH" && b[0]["ClientId"] == "app-1", "{}", b[0]);
        ensure!(b[0]["AuthParameters"]["SECRET_HASH"] == hash("alias@example.com").as_str(), "{}", b[0]);
        ensure!(b[0]["ClientMetadata"] == json!({"k": "v"}), "{}", b[0]);
        ensure!(b[1]["ChallengeName"] == "SMS_MFA" && b[1]["Session"] == "sess-1", "{}", b[1]);
        let cr = &b[1]["ChallengeResponses"];
        ensure!(cr["SMS_MFA_CODE"] == "123456" && cr["USERNAME"] == "internal-u", "{}", b[1]);
        ensure!(
            cr["SECRET_HASH"] == hash("internal-u").as_str() && b[1]["ClientMetadata"] == json!({"k": "v"}),
            "{}",
            b[1]
        );
        ensure!(server.requests().iter().all(|s| s.header("authorization").is_none()), "a Cognito call was signed");

        // The provider from a settings value (over COGNITO_* in the environment), the enhanced
        // flow with a custom role, and a refresh hashed over Cognito's user name.
        let mut settings = CognitoSettings::default();
        settings.username = Some("alias@example.com".into());
        settings.password = Some("pw".to_owned().into());
        settings.user_pool_id = Some("us-east-1_Pool".into());
        settings.app_id = Some("app-1".into());
        settings.app_secret = Some("sekret".to_owned().into());
        settings.identity_pool_id = Some("us-east-1:pool".into());
        settings.role_arn = Some("arn:aws:iam::123456789012:role/custom".into());
        settings.identity_flow = Some(cirrus::cognito::IdentityFlow::Enhanced);
        let p = CognitoCredentials::builder(&config).settings(settings).build().map_err(|e| e.to_string())?;
        let c = p.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(c.access_key_id() == "AKIDLOOP" && c.provider() == "cognito", "{c:?}");
        let b = bodies();
        let login = &b[2];
        ensure!(
            login["AuthParameters"]["USERNAME"] == "alias@example.com" && login["ClientId"] == "app-1",
            "the settings value lost to the environment: {login}"
        );
        let creds = b
            .iter()
            .find(|v| v.get("IdentityId").is_some() && v.get("CustomRoleArn").is_some())
            .ok_or("no CustomRoleArn sent")?;
        ensure!(creds["CustomRoleArn"] == "arn:aws:iam::123456789012:role/custom", "{creds}");
        ensure!(
            creds["Logins"]["cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool"]
                .as_str()
                .is_some_and(|t| t.starts_with("e30.")),
            "{creds}"
        );
        clock.advance(Duration::from_secs(3600));
        p.tokens().await.map_err(|e| e.to_string())?;
        let b = bodies();
        let refresh = b.last().ok_or("no refresh")?;
        ensure!(
            refresh["AuthFlow"] == "REFRESH_TOKEN_AUTH" && refresh["AuthParameters"]["REFRESH_TOKEN"] == "refresh",
            "{refresh}"
        );
        ensure!(
            refresh["AuthParameters"]["SECRET_HASH"] == hash("internal-u").as_str(),
            "refresh hashed the alias: {refresh}"
        );
        ensure!(p.stats().logins == 1 && p.stats().refreshes == 1, "{:?}", p.stats());
        Ok(())
    })
}
