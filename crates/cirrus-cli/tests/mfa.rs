//! A role profile with `mfa_serial`: the code asked on a real pseudo-terminal
//! (scripts/pty_run.py), the assumed-role credentials kept in the AWS CLI's cache so a second
//! run asks nothing and calls nothing, and botocore sharing that cache both ways. Against moto.

use crate::{command_via, ensure, moto, Run};
use libtest_mimic::{Failed, Trial};
use serde_json::Value;
use std::path::{Path, PathBuf};

const SERIAL: &str = "arn:aws:iam::123456789012:mfa/dev";
const DEAD: &str = "http://127.0.0.1:9";

fn home(tag: &str) -> Result<PathBuf, Failed> {
    let h = std::env::temp_dir().join(format!("cirrus-cli-mfa-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&h);
    std::fs::create_dir_all(h.join(".aws")).map_err(|e| e.to_string())?;
    let config = format!(
        "[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/cirrus-mfa\nsource_profile = base\nmfa_serial = {SERIAL}\nregion = us-east-1\n"
    );
    std::fs::write(h.join(".aws/config"), config).map_err(|e| e.to_string())?;
    std::fs::write(
        h.join(".aws/credentials"),
        "[base]\naws_access_key_id = AKIDMFABASE\naws_secret_access_key = base-secret\n",
    )
    .map_err(|e| e.to_string())?;
    Ok(h)
}

fn python() -> Result<String, Failed> {
    std::env::var("CIRRUS_PYTHON").map_err(|_| "CIRRUS_PYTHON is not set: scripts/test names the .venv Python".into())
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts").join(name)
}

/// cirrus with no controlling terminal (`setsid -w`): any prompt would fail.
fn detached(args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = command_via(&["setsid", "-w"], args, env).output().expect("run cirrus under setsid");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn access_key(r: &Run) -> Result<String, Failed> {
    let v: Value = serde_json::from_slice(&r.stdout).map_err(|e| format!("{e}: {}{}", r.out(), r.stderr))?;
    Ok(v["AccessKeyId"].as_str().unwrap_or_default().to_owned())
}

/// botocore, as the AWS CLI sets it up, for the role profile.
fn botocore(home: &Path, endpoint: &str, code: &str) -> Result<String, Failed> {
    let out = std::process::Command::new(python()?)
        .arg(script("botocore_interop.py"))
        .args(["assume-role-credentials", "mfa", code])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .map_err(|e| e.to_string())?;
    ensure(out.status.success(), format!("botocore: {}", String::from_utf8_lossy(&out.stderr)))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn asked_on_a_terminal_then_cached() -> Result<(), Failed> {
    let moto = moto()?;
    let h = home("tty")?;
    let hs = h.to_string_lossy().into_owned();
    let bin = env!("CARGO_BIN_EXE_cirrus");
    // On a pseudo-terminal: the AWS CLI's prompt, answered.
    let out = std::process::Command::new(python()?)
        .arg(script("pty_run.py"))
        .args(["Enter MFA code for", "123456", "--", bin, "--profile", "mfa", "sts", "whoami"])
        .env("HOME", &hs)
        .env("AWS_ENDPOINT_URL", &moto)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_PROFILE")
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    ensure(out.status.success(), format!("exit {:?}: {text}", out.status.code()))?;
    ensure(text.contains(&format!("Enter MFA code for {SERIAL}: ")) && text.contains("assumed-role/cirrus-mfa"), text)?;
    // A second run, with no terminal and no STS: from the cache, nothing asked, nothing sent.
    let env = [("HOME", hs.as_str()), ("AWS_ENDPOINT_URL", DEAD)];
    let cached = detached(&["--profile", "mfa", "credentials", "--format", "json"], &env);
    ensure(cached.code == 0, format!("second run: {}", cached.stderr))?;
    let key = access_key(&cached)?;
    ensure(key.starts_with("ASIA"), key.clone())?;
    // botocore, set up as the AWS CLI, finds the same entry: no STS, no code.
    ensure(botocore(&h, DEAD, "-")? == key, "botocore read another entry")?;
    // Without the cache and without a terminal: a clear error, at once.
    std::fs::remove_dir_all(h.join(".aws/cli/cache")).map_err(|e| e.to_string())?;
    let r = detached(&["--profile", "mfa", "credentials"], &env);
    ensure(r.code == 1 && r.stderr.contains("no terminal to ask on"), r.stderr)?;
    let _ = std::fs::remove_dir_all(&h);
    Ok(())
}

/// `pty_run.py` answering the MFA prompt with `answer` (`^C` types Ctrl-C): the exit code,
/// what the terminal showed, and what the script said on stderr (the terminal's echo at the
/// end, a signal that killed cirrus).
fn on_a_pty(home: &Path, answer: &str) -> Result<(i32, String, String), Failed> {
    let out = std::process::Command::new(python()?)
        .arg(script("pty_run.py"))
        .args(["Enter MFA code for", answer, "--", env!("CARGO_BIN_EXE_cirrus"), "--profile", "mfa", "sts", "whoami"])
        .env("HOME", home)
        .env("AWS_ENDPOINT_URL", moto()?)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_PROFILE")
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Ok((out.status.code().unwrap_or(-1), text, String::from_utf8_lossy(&out.stderr).into_owned()))
}

/// The code is not echoed as it is typed, and the terminal echoes again afterwards: once the
/// code is read, and when Ctrl-C interrupts the prompt (exit 130, from cirrus, not the signal).
fn the_code_is_not_echoed() -> Result<(), Failed> {
    let h = home("echo")?;
    let (code, text, said) = on_a_pty(&h, "740213")?;
    ensure(code == 0 && said.contains("echo: on"), format!("exit {code}: {text} {said}"))?;
    let after = text.split(&format!("Enter MFA code for {SERIAL}: ")).nth(1).unwrap_or_default();
    // Between the prompt and the answer's JSON: only the new line cirrus writes.
    let between = after.split('{').next().unwrap_or_default();
    ensure(after.contains("assumed-role/cirrus-mfa") && between.trim().is_empty(), format!("echoed: {text:?}"))?;
    std::fs::remove_dir_all(h.join(".aws/cli")).map_err(|e| e.to_string())?;
    let (code, text, said) = on_a_pty(&h, "^C")?;
    ensure(
        code == 130 && said.contains("echo: on") && !said.contains("killed by signal"),
        format!("Ctrl-C: exit {code}: {text:?} {said}"),
    )?;
    ensure(!h.join(".aws/cli/cache").exists(), "credentials cached after Ctrl-C")?;
    let _ = std::fs::remove_dir_all(&h);
    Ok(())
}

fn reads_what_the_aws_cli_cached() -> Result<(), Failed> {
    let moto = moto()?;
    let h = home("botocore")?;
    let hs = h.to_string_lossy().into_owned();
    // botocore assumes the role with a code against moto and caches it as the AWS CLI does.
    let theirs = botocore(&h, &moto, "654321")?;
    let entries = std::fs::read_dir(h.join(".aws/cli/cache")).map_err(|e| e.to_string())?.count();
    ensure(entries == 1, format!("{entries} cache entries"))?;
    // cirrus reads it: no STS, no terminal.
    let r = detached(
        &["--profile", "mfa", "credentials", "--format", "json"],
        &[("HOME", hs.as_str()), ("AWS_ENDPOINT_URL", DEAD)],
    );
    ensure(r.code == 0 && access_key(&r)? == theirs, format!("{}{}", r.out(), r.stderr))?;
    let _ = std::fs::remove_dir_all(&h);
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("mfa::asked_on_a_terminal_then_cached_for_both_tools", asked_on_a_terminal_then_cached),
        Trial::test("mfa::reads_what_the_aws_cli_cached", reads_what_the_aws_cli_cached),
        Trial::test("mfa::the_code_is_not_echoed_and_echo_comes_back", the_code_is_not_echoed),
    ]
}
