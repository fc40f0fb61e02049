//! `credential_process`: run a command that prints credentials as JSON (Version 1).
//!
//! ```json
//! {"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "...", "SessionToken": "...", "Expiration": "2030-01-01T00:00:00Z"}
//! ```
//! The command's standard error goes to ours, as the AWS CLI does; its output is never put in an
//! error message, since it holds secrets.

use super::{BoxFuture, Credentials, CredentialsError, ProvideCredentials};
use std::process::Stdio;
use std::time::Duration;

/// A `credential_process` command as a provider. The command runs through the shell, with its
/// standard error passed through; it is killed if it runs longer than the timeout (60 s).
#[derive(Clone, Debug)]
pub struct ProcessCredentials {
    profile: String,
    command: String,
    timeout: Duration,
}

impl ProcessCredentials {
    /// The command of `profile`.
    pub fn new(profile: impl Into<String>, command: impl Into<String>) -> Self {
        ProcessCredentials { profile: profile.into(), command: command.into(), timeout: Duration::from_secs(60) }
    }

    /// Kills the command after this long.
    #[must_use]
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    async fn run(&self) -> Result<Credentials, CredentialsError> {
        let profile = &self.profile;
        let fail =
            |what: String| CredentialsError::invalid(format!("credential_process of profile `{profile}` {what}"));
        let mut cmd = if cfg!(windows) {
            let mut c = tokio::process::Command::new("cmd");
            c.arg("/C").arg(&self.command);
            c
        } else {
            let mut c = tokio::process::Command::new("sh");
            c.arg("-c").arg(&self.command);
            c
        };
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit()).kill_on_drop(true);
        // Its own process group: on a timeout the shell and everything it started go together.
        #[cfg(unix)]
        cmd.process_group(0);
        let mut child = cmd.spawn().map_err(|e| fail("could not start".to_owned()).with_source(e))?;
        let pid = child.id();
        let Some(mut stdout) = child.stdout.take() else { return Err(fail("has no standard output".to_owned())) };
        let run = async {
            use tokio::io::AsyncReadExt;
            let mut out = Vec::new();
            (&mut stdout).take(MAX_OUTPUT as u64 + 1).read_to_end(&mut out).await?;
            if out.len() > MAX_OUTPUT {
                return Ok(None);
            }
            let status = child.wait().await?;
            Ok::<_, std::io::Error>(Some((status, out)))
        };
        let (status, stdout) = match tokio::time::timeout(self.timeout, run).await {
            Ok(Ok(Some(done))) => done,
            Ok(Ok(None)) => {
                kill_group(pid);
                return Err(fail(format!("printed more than {MAX_OUTPUT} bytes; credentials are a few hundred")));
            }
            Ok(Err(e)) => {
                kill_group(pid);
                return Err(fail("failed".to_owned()).with_source(e));
            }
            Err(_) => {
                kill_group(pid);
                return Err(fail(format!("did not finish within {:?}", self.timeout)));
            }
        };
        if !status.success() {
            return Err(fail(format!("failed ({status})")));
        }
        let out = std::process::Output { status, stdout, stderr: Vec::new() };
        parse_process_output(&out.stdout).map_err(fail)
    }
}

/// The most a credential process may print: credentials are a few hundred bytes.
const MAX_OUTPUT: usize = 64 * 1024;

/// Kills the process group led by `pid` (the shell and whatever it started), so no child lives
/// on holding our standard error.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(unsafe_code)]
fn kill_group(pid: Option<u32>) {
    let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()).filter(|p| *p > 0) else { return };
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is shared.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn kill_group(_pid: Option<u32>) {}

impl ProvideCredentials for ProcessCredentials {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(self.run())
    }
}

/// Parses the Version 1 JSON document.
pub(crate) fn parse_process_output(stdout: &[u8]) -> Result<Credentials, String> {
    let v: serde_json::Value = serde_json::from_slice(stdout)
        .map_err(|e| format!("did not print a JSON object (line {}, column {})", e.line(), e.column()))?;
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).filter(|s| !s.is_empty());
    match v.get("Version").and_then(|x| x.as_u64()) {
        Some(1) => {}
        Some(n) => return Err(format!("printed Version {n}; only Version 1 is supported")),
        None => return Err("printed no \"Version\": 1".to_owned()),
    }
    let ak = field("AccessKeyId").ok_or("printed no AccessKeyId")?;
    let sk = field("SecretAccessKey").ok_or("printed no SecretAccessKey")?;
    let expiry = match field("Expiration") {
        None => None,
        Some(e) => Some(
            cirrus_sigv4::parse_rfc3339(e)
                .ok_or_else(|| format!("printed an Expiration that is not an RFC 3339 UTC time: {e:?}"))?,
        ),
    };
    Ok(Credentials::new(ak, sk, field("SessionToken").map(str::to_owned), expiry, "credential_process"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_version_1() {
        let c = parse_process_output(
            br#"{"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": "SK", "SessionToken": "T", "Expiration": "2030-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!((c.access_key_id(), c.secret_access_key(), c.session_token()), ("AK", "SK", Some("T")));
        assert!(c.expiry().is_some());
        assert_eq!(c.provider(), "credential_process");
    }

    #[test]
    fn rejects_bad_documents_without_echoing_them() {
        for (doc, want) in [
            (&br#"{"Version": 2, "AccessKeyId": "AK", "SecretAccessKey": "SECRET"}"#[..], "Version 2"),
            (br#"{"AccessKeyId": "AK", "SecretAccessKey": "SECRET"}"#, "no \"Version\""),
            (br#"{"Version": 1, "SecretAccessKey": "SECRET"}"#, "no AccessKeyId"),
            (
                br#"{"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": "SECRET", "Expiration": "tomorrow"}"#,
                "Expiration",
            ),
            (b"SECRET not json", "did not print a JSON object"),
        ] {
            let e = parse_process_output(doc).unwrap_err();
            assert!(e.contains(want) && !e.contains("SECRET"), "{e}");
        }
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    #[cfg(unix)]
    #[test]
    fn runs_the_command_and_kills_a_hung_one() {
        let ok =
            ProcessCredentials::new("p", r#"printf '{"Version":1,"AccessKeyId":"FROMPROC","SecretAccessKey":"s"}'"#);
        assert_eq!(block(ok.run()).unwrap().access_key_id(), "FROMPROC");
        let e = block(ProcessCredentials::new("p", "exit 3").run()).unwrap_err().to_string();
        assert!(e.contains("credential_process of profile `p` failed") && e.contains('3'), "{e}");
        let hung = ProcessCredentials::new("p", "sleep 30").timeout(Duration::from_millis(200));
        let t = std::time::Instant::now();
        let e = block(hung.run()).unwrap_err().to_string();
        assert!(e.contains("did not finish") && t.elapsed() < Duration::from_secs(5), "{e}");
    }
}
