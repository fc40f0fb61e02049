//! `credential_process`: run a command that prints credentials as JSON (Version 1).
//!
//! ```json
//! {"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "...", "SessionToken": "...", "Expiration": "2030-01-01T00:00:00Z"}
//! ```
//! The command's standard error goes to ours, as the AWS CLI does; its output is never put in an
//! error message, since it holds secrets.

use super::{Credentials, CredentialsError};
use std::process::{Command, Stdio};

/// Runs `command` through the shell and parses what it prints.
pub(crate) fn run_credential_process(profile: &str, command: &str) -> Result<Credentials, CredentialsError> {
    let fail = |what: String| CredentialsError::invalid(format!("credential_process of profile `{profile}` {what}"));
    let mut cmd = if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(command);
        c
    };
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| fail(format!("could not start: {e}")))?;
    if !out.status.success() {
        return Err(fail(format!("failed ({})", out.status)));
    }
    parse_process_output(&out.stdout).map_err(fail)
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

    #[cfg(unix)]
    #[test]
    fn runs_the_command() {
        let c = run_credential_process("p", r#"printf '{"Version":1,"AccessKeyId":"FROMPROC","SecretAccessKey":"s"}'"#)
            .unwrap();
        assert_eq!(c.access_key_id(), "FROMPROC");
        let e = run_credential_process("p", "exit 3").unwrap_err().to_string();
        assert!(e.contains("credential_process of profile `p` failed") && e.contains('3'), "{e}");
    }
}
