//! `cirrus sso login` / `logout` and SSO profiles against the IAM Identity Center stand-in
//! (scripts/sso_server.py, started by scripts/test), each test in its own HOME, with botocore
//! on the other side of the shared caches.

use crate::{cirrus, command, ensure, Run};
use libtest_mimic::{Failed, Trial};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

fn sso_url() -> Result<String, Failed> {
    std::env::var("CIRRUS_SSO_URL")
        .map_err(|_| "CIRRUS_SSO_URL is not set: scripts/test starts the IAM Identity Center stand-in".into())
}

fn python() -> Result<String, Failed> {
    std::env::var("CIRRUS_PYTHON").map_err(|_| "CIRRUS_PYTHON is not set: scripts/test names the .venv Python".into())
}

const CONFIG: &str = "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Developer\nregion = eu-west-1\n\n\
[sso-session corp]\nsso_start_url = https://d-123.awsapps.com/start\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n\n\
[profile legacy]\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = us-east-2\nsso_account_id = 444455556666\nsso_role_name = ReadOnly\n";

/// A fresh HOME with the config above.
fn home(tag: &str) -> Result<PathBuf, Failed> {
    let h = std::env::temp_dir().join(format!("cirrus-cli-sso-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&h);
    std::fs::create_dir_all(h.join(".aws")).map_err(|e| e.to_string())?;
    std::fs::write(h.join(".aws/config"), CONFIG).map_err(|e| e.to_string())?;
    Ok(h)
}

fn env_for(home: &Path, url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("HOME", home.to_string_lossy().into_owned()),
        ("AWS_ENDPOINT_URL_SSO", url.to_owned()),
        ("AWS_ENDPOINT_URL_SSO_OIDC", url.to_owned()),
    ]
}

fn run(args: &[&str], env: &[(&'static str, String)]) -> Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    cirrus(args, &env, b"")
}

fn sha1_name(dir: &Path, key: &str, python: &str) -> Result<PathBuf, Failed> {
    let out = std::process::Command::new(python)
        .args(["-c", "import hashlib,sys; print(hashlib.sha1(sys.argv[1].encode()).hexdigest())", key])
        .output()
        .map_err(|e| e.to_string())?;
    Ok(dir.join(format!("{}.json", String::from_utf8_lossy(&out.stdout).trim())))
}

fn read_json(p: &Path) -> Result<Value, Failed> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_str(&text).map_err(|e| e.to_string().into())
}

/// botocore's side: `botocore_interop.py ARGS` with `env`.
fn interop(args: &[&str], env: &[(&'static str, String)]) -> Result<String, Failed> {
    let py = python()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/botocore_interop.py");
    let out = std::process::Command::new(py)
        .arg(script)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .map_err(|e| e.to_string())?;
    ensure(out.status.success(), format!("botocore_interop.py {args:?}: {}", String::from_utf8_lossy(&out.stderr)))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A device authorization whose code and URL hold escape sequences: printed escaped, and the
/// login goes on.
fn hostile_device_answer_is_escaped() -> Result<(), Failed> {
    let url = sso_url()?;
    let h = home("hostile")?;
    let config = CONFIG.replace("https://d-123.awsapps.com/start", "https://hostile.awsapps.com/start");
    std::fs::write(h.join(".aws/config"), config).map_err(|e| e.to_string())?;
    let r = run(&["--profile", "dev", "sso", "login", "--use-device-code"], &env_for(&h, &url));
    ensure(r.code == 0, format!("login exit {}: {}", r.code, r.stderr))?;
    ensure(!r.stderr.contains('\x1b') && !r.stderr.contains('\x07'), format!("{:?}", r.stderr))?;
    ensure(r.stderr.contains("CIRR\\x1b[2J-US42") && r.stderr.contains("/device\\x1b]0;pwned\\x07"), r.stderr)?;
    // At a terminal (where a browser would be opened), the server's file:// URL is not opened.
    let h = home("hostile-tty")?;
    std::fs::write(h.join(".aws/config"), CONFIG.replace("d-123.awsapps.com", "hostile.awsapps.com"))
        .map_err(|e| e.to_string())?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pty_run.py");
    let out = std::process::Command::new(python()?)
        .arg(script)
        .args(["and enter the code", "", "--", env!("CARGO_BIN_EXE_cirrus")])
        .args(["--profile", "dev", "sso", "login", "--use-device-code"])
        .env("HOME", &h)
        .env("AWS_ENDPOINT_URL_SSO", &url)
        .env("AWS_ENDPOINT_URL_SSO_OIDC", &url)
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    ensure(out.status.success(), format!("exit {:?}: {text}", out.status.code()))?;
    // The terminal echoes the answer's newline wherever the output has reached: read without
    // line breaks.
    let flat: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    ensure(flat.contains("(not opening file:///etc/passwd: not an http(s) URL)"), text)
}

/// `configure sso` answered from standard input: an [sso-session], a device-code login, the
/// account chosen from the two the portal lists (over two pages) and its only role taken
/// without asking; the profile written then gives that role's credentials.
fn configure_sso() -> Result<(), Failed> {
    let url = sso_url()?;
    let h = home("configure")?;
    std::fs::write(h.join(".aws/config"), "# mine\n[default]\nregion = eu-west-1\n").map_err(|e| e.to_string())?;
    let env = env_for(&h, &url);
    let answers = "corp\nhttps://d-123.awsapps.com/start\neu-west-1\n\n2\neu-central-1\njson\nprod\n";
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = cirrus(&["configure", "sso", "--use-device-code"], &env_ref, answers.as_bytes());
    ensure(r.code == 0, format!("configure sso exit {}: {}", r.code, r.stderr))?;
    ensure(
        r.stderr.contains("There are 2 AWS accounts available to you")
            && r.stderr.contains("Production (444455556666, prod@example.com)")
            && r.stderr.contains("The only role available to you is: ReadOnly")
            && r.stderr.contains("cirrus --profile prod s3 ls"),
        r.stderr.clone(),
    )?;
    let config = std::fs::read_to_string(h.join(".aws/config")).map_err(|e| e.to_string())?;
    let want = "# mine\n[default]\nregion = eu-west-1\n\n[sso-session corp]\nsso_start_url = https://d-123.awsapps.com/start\n\
                sso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n\n[profile prod]\nsso_session = corp\n\
                sso_account_id = 444455556666\nsso_role_name = ReadOnly\nregion = eu-central-1\noutput = json\n";
    ensure(config == want, config)?;
    // The profile works at once with the cached token: the role's credentials from the portal.
    let c = run(&["--profile", "prod", "credentials", "--format", "json"], &env);
    ensure(c.code == 0 && c.out().contains("ASIASSO"), format!("{} {}", c.stderr, c.out()))?;
    // A choice that is not on the list is asked again; answers that run out choose nothing.
    let h = home("configure-none")?;
    std::fs::remove_file(h.join(".aws/config")).map_err(|e| e.to_string())?;
    let env = env_for(&h, &url);
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let answers = "corp\nhttps://d-123.awsapps.com/start\neu-west-1\n\n9\n";
    let r = cirrus(&["configure", "sso", "--use-device-code"], &env_ref, answers.as_bytes());
    ensure(
        r.code == 2 && r.stderr.contains("9: not a number from 1 to 2") && r.stderr.contains("no Account chosen"),
        r.stderr,
    )?;
    let config = std::fs::read_to_string(h.join(".aws/config")).map_err(|e| e.to_string())?;
    ensure(!config.contains("sso_account_id"), config)?;
    let _ = std::fs::remove_dir_all(&h);
    Ok(())
}

/// `sso login` with a profile that does not use Identity Center says how to set one up.
fn login_points_at_configure_sso() -> Result<(), Failed> {
    let url = sso_url()?;
    let h = home("no-profile")?;
    std::fs::remove_file(h.join(".aws/config")).map_err(|e| e.to_string())?;
    let r = run(&["sso", "login"], &env_for(&h, &url));
    ensure(r.code == 2 && r.stderr.contains("`cirrus configure sso` sets one up"), r.stderr)?;
    std::fs::write(h.join(".aws/config"), "[profile plain]\nregion = eu-west-1\n").map_err(|e| e.to_string())?;
    let r = run(&["--profile", "plain", "sso", "login"], &env_for(&h, &url));
    ensure(r.code == 2 && r.stderr.contains("`cirrus configure sso` sets one up"), r.stderr)?;
    let _ = std::fs::remove_dir_all(&h);
    Ok(())
}

fn device_code_login() -> Result<(), Failed> {
    let url = sso_url()?;
    let h = home("device")?;
    let env = env_for(&h, &url);
    let r = run(&["--profile", "dev", "sso", "login", "--use-device-code"], &env);
    ensure(r.code == 0, format!("login exit {}: {}", r.code, r.stderr))?;
    ensure(r.stderr.contains("CIRR-US42") && r.stderr.contains("/device"), r.stderr.clone())?;
    // The AWS CLI's file: sha1 of the session name, 0600, its keys.
    let file = sha1_name(&h.join(".aws/sso/cache"), "corp", &python()?)?;
    let token = read_json(&file)?;
    for key in [
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
        "refreshToken",
    ] {
        ensure(token[key].is_string(), format!("no {key} in {token}"))?;
    }
    ensure(
        token["startUrl"] == "https://d-123.awsapps.com/start" && token["region"] == "eu-west-1",
        token.to_string(),
    )?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).map_err(|e| e.to_string())?.permissions().mode() & 0o777;
        ensure(mode == 0o600, format!("mode {mode:o}"))?;
    }
    // Role credentials through the login, named sso.
    let r = run(&["--profile", "dev", "credentials", "--format", "json"], &env);
    let v: Value = serde_json::from_slice(&r.stdout).map_err(|e| format!("{e}: {}", r.stderr))?;
    ensure(
        v["Provider"] == "sso" && v["AccessKeyId"].as_str().is_some_and(|k| k.starts_with("ASIASSO")),
        v.to_string(),
    )?;
    let r = run(&["--profile", "dev", "credentials", "--explain"], &env);
    ensure(r.out().contains("from sso"), r.out())?;
    // A second run while they are valid calls nothing: the SSO endpoints now lead nowhere.
    let mut dead = env.clone();
    dead.retain(|(k, _)| !k.starts_with("AWS_ENDPOINT_URL"));
    dead.push(("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:9".to_owned()));
    let r = run(&["--profile", "dev", "credentials", "--format", "json"], &dead);
    let again: Value = serde_json::from_slice(&r.stdout).map_err(|e| format!("{e}: {}", r.stderr))?;
    ensure(again["AccessKeyId"] == v["AccessKeyId"], format!("{again} vs {v}"))?;
    // botocore reads the token cirrus wrote and gets role credentials with it.
    let key = interop(&["credentials", "dev"], &env)?;
    ensure(key.starts_with("ASIASSO"), key)?;
    let _ = std::fs::remove_dir_all(&h);
    Ok(())
}

/// Sends one GET over a fresh connection; the status line and headers.
fn raw_get(url: &str) -> Result<String, Failed> {
    let rest = url.strip_prefix("http://").ok_or("not http")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = std::net::TcpStream::connect(authority).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).map_err(|e| e.to_string())?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

fn pkce_login_with_a_scripted_redirect() -> Result<(), Failed> {
    let url = sso_url()?;
    let h = home("pkce")?;
    let env = env_for(&h, &url);
    let envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut child =
        command(&["--profile", "dev", "sso", "login", "--no-browser"], &envs).spawn().map_err(|e| e.to_string())?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let authorize = loop {
        let line = lines.next().ok_or("cirrus ended without printing a URL")?.map_err(|e| e.to_string())?;
        if let Some(u) = line.trim().strip_prefix(&format!("{url}/authorize?")) {
            break format!("{url}/authorize?{u}");
        }
    };
    for want in ["response_type=code", "code_challenge_method=S256", "redirect_uri=http%3A%2F%2F127.0.0.1%3A", "state="]
    {
        ensure(authorize.contains(want), format!("{want} not in {authorize}"))?;
    }
    // The browser's part: the stand-in answers with a redirect to cirrus's loopback listener.
    let answer = raw_get(&authorize)?;
    let location = answer
        .lines()
        .find_map(|l| l.strip_prefix("location: ").or_else(|| l.strip_prefix("Location: ")))
        .ok_or(format!("no redirect: {answer}"))?
        .trim()
        .to_owned();
    // A connection that sends nothing (a browser's preconnect) is held open throughout; then a
    // stray request (a browser asks for the favicon), then one with a wrong state.
    let base = location.split("/oauth/callback").next().unwrap_or_default().to_owned();
    let mut idle = std::net::TcpStream::connect(base.trim_start_matches("http://")).map_err(|e| e.to_string())?;
    ensure(raw_get(&format!("{base}/favicon.ico"))?.starts_with("HTTP/1.1 404"), "favicon")?;
    // Served side by side: the favicon was answered while the idle connection is still open
    // (one at a time, the listener would have given up on it before taking the next).
    idle.set_nonblocking(true).map_err(|e| e.to_string())?;
    let still_open = matches!(idle.read(&mut [0u8; 1]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
    ensure(still_open, "the idle connection was dropped before the next request was served".to_owned())?;
    ensure(
        raw_get(&format!("{base}/oauth/callback?code=x&state=forged"))?.starts_with("HTTP/1.1 400"),
        "forged state",
    )?;
    let page = raw_get(&location)?;
    ensure(page.contains("logged in"), page)?;
    drop(idle);
    let status = child.wait().map_err(|e| e.to_string())?;
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    ensure(status.success(), format!("login failed: {rest:?}"))?;
    let token = read_json(&sha1_name(&h.join(".aws/sso/cache"), "corp", &python()?)?)?;
    ensure(token["accessToken"].as_str().is_some_and(|t| t.starts_with("access-")), token.to_string())?;
    let r = run(&["--profile", "dev", "credentials", "--format", "json"], &env);
    ensure(r.code == 0 && r.out().contains("ASIASSO"), format!("{}{}", r.out(), r.stderr))?;
    let _ = std::fs::remove_dir_all(&h);
    Ok(())
}

fn refresh_a_token_written_by_botocore() -> Result<(), Failed> {
    let url = sso_url()?;
    let h = home("refresh")?;
    let env = env_for(&h, &url);
    let cache = h.join(".aws/sso/cache");
    let cache_s = cache.to_string_lossy().into_owned();
    // As `aws sso login` writes it, five minutes from expiry: inside the 15-minute window. The
    // access token itself would be refused; the refresh token is good.
    let start = "https://d-123.awsapps.com/start";
    interop(&["write-token", &cache_s, "corp", start, "eu-west-1", "stale-token", "300", "refresh-ok-7"], &env)?;
    let r = run(&["--profile", "dev", "credentials", "--format", "json"], &env);
    ensure(r.code == 0 && r.out().contains("ASIASSO"), format!("{}{}", r.out(), r.stderr))?;
    let token = read_json(&sha1_name(&cache, "corp", &python()?)?)?;
    ensure(token["accessToken"] != "stale-token" && token["refreshToken"] != "refresh-ok-7", token.to_string())?;
    ensure(token["clientId"] == "client-from-botocore", token.to_string())?;
    // Expired and not refreshable: an error that says how to log in again.
    interop(&["write-token", &cache_s, "corp", start, "eu-west-1", "stale-token", "-60", "-"], &env)?;
    std::fs::remove_dir_all(h.join(".aws/cli/cache")).map_err(|e| e.to_string())?;
    let r = run(&["--profile", "dev", "credentials"], &env);
    ensure(
        r.code == 1 && r.stderr.contains("expired") && r.stderr.contains("cirrus sso login --profile dev"),
        r.stderr,
    )?;
    let _ = std::fs::remove_dir_all(&h);
    Ok(())
}

fn legacy_profile_and_missing_login() -> Result<(), Failed> {
    let url = sso_url()?;
    let h = home("legacy")?;
    let env = env_for(&h, &url);
    // No login yet: exit 1, the command to run named.
    let r = run(&["--profile", "dev", "sts", "whoami"], &env);
    ensure(r.code == 1 && r.stderr.contains("run `cirrus sso login --profile dev`"), r.stderr)?;
    // A legacy profile's token, keyed by its start URL, as the AWS CLI writes it.
    let cache = h.join(".aws/sso/cache").to_string_lossy().into_owned();
    let start = "https://legacy.awsapps.com/start";
    interop(&["write-token", &cache, start, start, "us-east-2", "valid-legacy", "3600", "-"], &env)?;
    let r = run(&["--profile", "legacy", "credentials", "--format", "json"], &env);
    ensure(r.code == 0 && r.out().contains("ASIASSO"), format!("{}{}", r.out(), r.stderr))?;
    // Beside the token: a client registration, another tool's file and a directory named like
    // a token file. Logout removes the token only, and goes on past the directory.
    let dir = h.join(".aws/sso/cache");
    std::fs::write(dir.join("botocore-client-id-us-east-2.json"), r#"{"clientId":"c","clientSecret":"s"}"#)
        .map_err(|e| e.to_string())?;
    std::fs::write(dir.join("notes.txt"), "mine").map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir.join("aaa-odd.json")).map_err(|e| e.to_string())?;
    // Logout: the token and the role credentials cached from it go.
    let r = run(&["sso", "logout"], &env);
    ensure(r.code == 0 && r.stderr.contains("Removed 1 cached IAM Identity Center token and 1 set"), r.stderr)?;
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    left.sort();
    ensure(left == ["aaa-odd.json", "botocore-client-id-us-east-2.json", "notes.txt"], format!("left: {left:?}"))?;
    let r = run(&["--profile", "legacy", "credentials"], &env);
    ensure(r.code == 1 && r.stderr.contains("cirrus sso login --profile legacy"), r.stderr)?;
    // A profile that does not use Identity Center cannot log in: exit 2.
    std::fs::write(h.join(".aws/config"), "[profile plain]\nregion = eu-west-1\n").map_err(|e| e.to_string())?;
    let r = run(&["--profile", "plain", "sso", "login"], &env);
    ensure(r.code == 2 && r.stderr.contains("does not use IAM Identity Center"), r.stderr)?;
    let _ = std::fs::remove_dir_all(&h);
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("sso::device_code_login_credentials_and_botocore", device_code_login),
        Trial::test("sso::configure_sso_writes_a_session_and_a_profile_that_works", configure_sso),
        Trial::test("sso::login_without_a_profile_points_at_configure_sso", login_points_at_configure_sso),
        Trial::test("sso::a_hostile_device_answer_is_printed_escaped", hostile_device_answer_is_escaped),
        Trial::test("sso::pkce_login_with_a_scripted_redirect", pkce_login_with_a_scripted_redirect),
        Trial::test("sso::refresh_a_token_written_by_botocore", refresh_a_token_written_by_botocore),
        Trial::test("sso::legacy_profile_missing_login_and_logout", legacy_profile_and_missing_login),
    ]
}
