//! `cirrus cognito login` against moto server: the pools and the user are made with signed raw
//! calls (`cirrus curl`), then the login is made the ways a user would: COGNITO_* variables, a
//! profile, flags and a password on standard input.

use crate::{cirrus, ensure, moto, Run};
use libtest_mimic::{Failed, Trial};
use serde_json::Value;

const PASSWORD: &str = "Cli-Pass-1234";

fn admin(moto: &str, target: &str, body: &str) -> Result<Value, Failed> {
    let (service, prefix) = if target.starts_with("Create") && target.contains("Identity") {
        ("cognito-identity", "AWSCognitoIdentityService")
    } else {
        ("cognito-idp", "AWSCognitoIdentityProviderService")
    };
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDCLICOGNITO"),
        ("AWS_SECRET_ACCESS_KEY", "cli-cognito-secret"),
        ("AWS_REGION", "us-east-1"),
    ];
    let header = format!("x-amz-target: {prefix}.{target}");
    let r = cirrus(
        &[
            "curl",
            "--service",
            service,
            "-H",
            "content-type: application/x-amz-json-1.1",
            "-H",
            &header,
            "-d",
            body,
            moto,
        ],
        &env,
        b"",
    );
    ensure(r.code == 0, format!("{target}: {} {}", r.stderr, r.out()))?;
    let out = r.out();
    let json = out.split("\n\n").last().unwrap_or_default();
    serde_json::from_str(json).map_err(|e| format!("{target}: {e}: {out}").into())
}

/// `COGNITO_*` for a new pool, app client, user (permanent password unless `temporary`) and
/// identity pool.
fn pool(moto: &str, temporary: bool) -> Result<Vec<(&'static str, String)>, Failed> {
    let p = admin(moto, "CreateUserPool", r#"{"PoolName": "cli"}"#)?;
    let pool_id = p["UserPool"]["Id"].as_str().ok_or("no pool id")?.to_owned();
    let c = admin(moto, "CreateUserPoolClient", &format!(r#"{{"UserPoolId": "{pool_id}", "ClientName": "cli"}}"#))?;
    let app = c["UserPoolClient"]["ClientId"].as_str().ok_or("no client id")?.to_owned();
    admin(
        moto,
        "AdminCreateUser",
        &format!(r#"{{"UserPoolId": "{pool_id}", "Username": "carol", "TemporaryPassword": "{PASSWORD}"}}"#),
    )?;
    if !temporary {
        admin(
            moto,
            "AdminSetUserPassword",
            &format!(
                r#"{{"UserPoolId": "{pool_id}", "Username": "carol", "Password": "{PASSWORD}", "Permanent": true}}"#
            ),
        )?;
    }
    let ip = admin(
        moto,
        "CreateIdentityPool",
        &format!(
            r#"{{"IdentityPoolName": "cli", "AllowUnauthenticatedIdentities": true, "CognitoIdentityProviders": [{{"ProviderName": "cognito-idp.us-east-1.amazonaws.com/{pool_id}", "ClientId": "{app}"}}]}}"#
        ),
    )?;
    let ip = ip["IdentityPoolId"].as_str().ok_or("no identity pool id")?.to_owned();
    Ok(vec![
        ("COGNITO_USERNAME", "carol".to_owned()),
        ("COGNITO_PASSWORD", PASSWORD.to_owned()),
        ("COGNITO_USER_POOL_ID", pool_id),
        ("COGNITO_APP_ID", app),
        ("COGNITO_IDENTITY_POOL_ID", ip),
    ])
}

fn login(args: &[&str], env: &[(&'static str, String)], moto: &str, stdin: &[u8]) -> Run {
    let mut all = vec!["--endpoint-url", moto, "cognito", "login"];
    all.extend_from_slice(args);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    cirrus(&all, &env, stdin)
}

fn json_login_redacts_tokens() -> Result<(), Failed> {
    let moto = moto()?;
    let env = pool(&moto, false)?;
    for auth in ["srp", "password"] {
        let r = login(&["--auth-type", auth], &env, &moto, b"");
        ensure(r.code == 0, format!("{auth}: {} {}", r.stderr, r.out()))?;
        let v: Value = serde_json::from_slice(&r.stdout).map_err(|e| e.to_string())?;
        ensure(v["Credentials"]["Provider"] == "cognito", format!("{v}"))?;
        ensure(v["Credentials"]["SessionToken"].is_string(), format!("{v}"))?;
        ensure(v["IdentityId"].as_str().is_some_and(|i| i.starts_with("us-east-1:")), format!("{v}"))?;
        for t in ["IdToken", "AccessToken", "RefreshToken"] {
            ensure(v["Tokens"][t] == "** redacted **", format!("{t} not redacted: {v}"))?;
        }
        ensure(!r.out().contains("eyJ"), "a JWT was printed without --show-tokens")?;
    }
    Ok(())
}

fn env_and_process_formats() -> Result<(), Failed> {
    let moto = moto()?;
    let env = pool(&moto, false)?;
    let r = login(&["--format", "env", "--show-tokens"], &env, &moto, b"");
    ensure(r.code == 0, format!("{} {}", r.stderr, r.out()))?;
    let out = r.out();
    ensure(out.contains("export AWS_ACCESS_KEY_ID=") && out.contains("export AWS_SESSION_TOKEN="), out.clone())?;
    ensure(out.contains("export COGNITO_ID_TOKEN='eyJ") && out.contains("export COGNITO_REFRESH_TOKEN="), out.clone())?;
    let r = login(&["--format", "process"], &env, &moto, b"");
    ensure(r.code == 0, format!("{} {}", r.stderr, r.out()))?;
    let v: Value = serde_json::from_slice(&r.stdout).map_err(|e| e.to_string())?;
    ensure(v["Version"] == 1 && v["AccessKeyId"].is_string() && v.get("Tokens").is_none(), format!("{v}"))?;
    let r = login(&["--format", "process", "--show-tokens"], &env, &moto, b"");
    ensure(r.code == 2 && r.stderr.contains("--show-tokens"), format!("{} {}", r.code, r.stderr))?;
    // Without an identity pool: tokens only, and no credentials to print as a process.
    let tokens_only: Vec<_> = env.iter().filter(|(k, _)| *k != "COGNITO_IDENTITY_POOL_ID").cloned().collect();
    let r = login(&[], &tokens_only, &moto, b"");
    ensure(r.code == 0, format!("tokens only: {} {}", r.stderr, r.out()))?;
    let v: Value = serde_json::from_slice(&r.stdout).map_err(|e| e.to_string())?;
    ensure(v.get("Credentials").is_none() && v["Tokens"]["IdToken"] == "** redacted **", format!("{v}"))?;
    let r = login(&["--format", "process"], &tokens_only, &moto, b"");
    ensure(r.code == 2 && r.stderr.contains("no identity pool"), format!("{} {}", r.code, r.stderr))
}

fn profile_flags_and_stdin() -> Result<(), Failed> {
    let moto = moto()?;
    let env = pool(&moto, false)?;
    let get = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("cirrus-cli-cognito-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join("cognito_credentials");
    std::fs::write(
        &file,
        format!(
            "[dev]\nusername = carol\npassword = {PASSWORD}\napp_id = {}\nuser_pool_id = {}\nidentity_pool_id = {}\nauth_type = user_password\n",
            get("COGNITO_APP_ID"),
            get("COGNITO_USER_POOL_ID"),
            get("COGNITO_IDENTITY_POOL_ID")
        ),
    )
    .map_err(|e| e.to_string())?;
    let file_env = vec![("COGNITO_CREDENTIALS_FILE", file.to_string_lossy().into_owned())];
    let r = login(&["--cognito-profile", "dev", "--format", "process"], &file_env, &moto, b"");
    ensure(r.code == 0, format!("profile: {} {}", r.stderr, r.out()))?;
    // --cognito-credentials-file comes before COGNITO_CREDENTIALS_FILE (here a file without
    // the profile).
    let other = dir.join("other_credentials");
    std::fs::write(&other, "[elsewhere]\nusername = nobody\n").map_err(|e| e.to_string())?;
    let other_env = vec![("COGNITO_CREDENTIALS_FILE", other.to_string_lossy().into_owned())];
    let path = file.to_string_lossy().into_owned();
    let args = ["--cognito-credentials-file", &path, "--cognito-profile", "dev", "--format", "process"];
    let r = login(&args, &other_env, &moto, b"");
    ensure(r.code == 0, format!("--cognito-credentials-file: {} {}", r.stderr, r.out()))?;
    let r = login(&["--cognito-profile", "dev"], &other_env, &moto, b"");
    ensure(r.code == 2 && r.stderr.contains("other_credentials"), format!("{} {}", r.code, r.stderr))?;
    // Flags and a password on stdin, no file, no variables.
    let r = login(
        &[
            "--username",
            "carol",
            "--user-pool-id",
            &get("COGNITO_USER_POOL_ID"),
            "--app-id",
            &get("COGNITO_APP_ID"),
            "--identity-pool-id",
            &get("COGNITO_IDENTITY_POOL_ID"),
            "--auth-type",
            "password",
            "--password-stdin",
            "--format",
            "process",
        ],
        &[],
        &moto,
        format!("{PASSWORD}\n").as_bytes(),
    );
    ensure(r.code == 0, format!("flags: {} {}", r.stderr, r.out()))?;
    // A password on stdin is read up to a limit, never whole.
    let r = login(&["--username", "carol", "--password-stdin"], &[], &moto, &[b'x'; 5000]);
    ensure(r.code == 2 && r.stderr.contains("more than 4096 bytes"), format!("{} {}", r.code, r.stderr))?;
    // A missing profile, and a missing field: exit 2 with what and where.
    let r = login(&["--cognito-profile", "nope"], &file_env, &moto, b"");
    ensure(r.code == 2 && r.stderr.contains("no Cognito profile \"nope\""), format!("{} {}", r.code, r.stderr))?;
    let r = login(&["--username", "carol"], &[], &moto, b"");
    ensure(
        r.code == 2 && r.stderr.contains("user_pool_id is not set") && r.stderr.contains("COGNITO_USER_POOL_ID"),
        format!("{} {}", r.code, r.stderr),
    )?;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

fn refusals_exit_1() -> Result<(), Failed> {
    let moto = moto()?;
    let mut env = pool(&moto, false)?;
    env[1].1 = "Wrong-Pass-9".to_owned();
    let r = login(&["--auth-type", "password"], &env, &moto, b"");
    ensure(r.code == 1, format!("wrong password: {} {}", r.code, r.stderr))?;
    ensure(
        r.stderr.contains("NotAuthorizedException") && r.stderr.contains("Incorrect username or password"),
        r.stderr.clone(),
    )?;
    ensure(!r.stderr.contains("Wrong-Pass-9"), "the password was printed")?;
    let env = pool(&moto, true)?;
    let r = login(&["--auth-type", "password"], &env, &moto, b"");
    ensure(r.code == 1 && r.stderr.contains("NEW_PASSWORD_REQUIRED"), format!("challenge: {} {}", r.code, r.stderr))
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("cognito::login_json_redacts_tokens", json_login_redacts_tokens),
        Trial::test("cognito::login_env_and_process_formats", env_and_process_formats),
        Trial::test("cognito::login_from_profile_flags_and_stdin", profile_flags_and_stdin),
        Trial::test("cognito::login_refusals_exit_1", refusals_exit_1),
    ]
}
