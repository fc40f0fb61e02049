//! The AWS CLI's credential cache, `~/.aws/cli/cache/<key>.json`: assumed-role and SSO role
//! credentials kept across runs, each file holding `{"Credentials": {"AccessKeyId",
//! "SecretAccessKey", "SessionToken", "Expiration"}, ...}` under a key made as botocore makes
//! it (the SHA-1 of the call's arguments as Python's `json.dumps(..., sort_keys=True)` writes
//! them). Entries within 15 minutes of expiry are not used, as in the AWS CLI.

use super::Credentials;
use crate::env::Env;
use crate::sts::AssumeRoleRequest;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// How close to expiry a cached entry is no longer used.
pub(crate) const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Removes the role credentials SSO logins cached (`~/.aws/cli/cache/*.json` with
/// `"ProviderType": "sso"`), as `aws sso logout` does; how many. Assumed-role entries and
/// anything else stay; an entry that cannot be read or removed is passed over.
pub fn remove_sso_role_credentials(env: &dyn Env) -> usize {
    let dir = crate::profile::expand_home(env, "~/.aws/cli/cache");
    let Ok(entries) = std::fs::read_dir(&dir) else { return 0 };
    let mut removed = 0;
    for path in entries.flatten().map(|e| e.path()) {
        let is_sso = path.extension().is_some_and(|x| x == "json")
            && crate::fs::read_text(&path)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|v| v["ProviderType"] == "sso");
        if is_sso && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

fn path(env: &dyn Env, key: &str) -> PathBuf {
    crate::profile::expand_home(env, "~/.aws/cli/cache").join(format!("{key}.json"))
}

/// The cached credentials of `key`, if they last beyond the window at `now`; named `provider`.
pub(crate) fn load(env: &dyn Env, key: &str, now: SystemTime, provider: &'static str) -> Option<Credentials> {
    let text = crate::fs::read_text(&path(env, key)).ok()?;
    parse(&text, now, provider)
}

/// An entry's text: its credentials, if they last beyond the window at `now`.
pub(crate) fn parse(text: &str, now: SystemTime, provider: &'static str) -> Option<Credentials> {
    let v: Value = serde_json::from_str(text).ok()?;
    let c = v.get("Credentials")?;
    let s = |k: &str| c.get(k).and_then(Value::as_str);
    let expiry = crate::sso::parse_time(s("Expiration")?)?;
    if expiry.duration_since(now).unwrap_or_default() < WINDOW {
        return None;
    }
    Some(Credentials::new(
        s("AccessKeyId")?,
        s("SecretAccessKey")?,
        s("SessionToken").map(str::to_owned),
        Some(expiry),
        provider,
    ))
}

/// Caches `c` under `key` (0600, atomically), with `extra` top-level fields (`ProviderType`,
/// `AssumedRoleUser`...). A failure to write is logged, never an error: the credentials stand.
pub(crate) fn store(env: &dyn Env, key: &str, c: &Credentials, account_id: Option<&str>, extra: Value) {
    let Some(expiry) = c.expiry() else { return };
    let mut creds = json!({
        "AccessKeyId": c.access_key_id(),
        "SecretAccessKey": c.secret_access_key(),
        "SessionToken": c.session_token(),
        "Expiration": crate::sso::format_time(expiry),
    });
    if let Some(a) = account_id {
        creds["AccountId"] = json!(a);
    }
    let mut doc = match extra {
        Value::Object(m) => Value::Object(m),
        _ => json!({}),
    };
    doc["Credentials"] = creds;
    if let Err(e) = crate::fs::write_private(&path(env, key), doc.to_string().as_bytes()) {
        tracing::warn!(error = %e, "could not write to the AWS CLI's credential cache");
    }
}

/// `json.dumps(value, sort_keys=True)` as Python writes it: `", "` and `": "` between items (or
/// `","` and `":"` when `compact`), non-ASCII escaped as `\uXXXX`.
pub(crate) fn python_json(value: &Value, compact: bool) -> String {
    let (comma, colon) = if compact { (",", ":") } else { (", ", ": ") };
    match value {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> =
                keys.iter().map(|k| format!("{}{colon}{}", python_string(k), python_json(&m[*k], compact))).collect();
            format!("{{{}}}", items.join(comma))
        }
        Value::Array(a) => {
            format!("[{}]", a.iter().map(|v| python_json(v, compact)).collect::<Vec<_>>().join(comma))
        }
        Value::String(s) => python_string(s),
        other => other.to_string(),
    }
}

fn python_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7f => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The key botocore gives an AssumeRole call: its arguments without the token code, and without
/// the session name when it was generated rather than configured.
pub(crate) fn assume_role_key(req: &AssumeRoleRequest, session_configured: bool) -> String {
    let mut args = serde_json::Map::new();
    args.insert("RoleArn".into(), json!(req.role_arn));
    if session_configured {
        args.insert("RoleSessionName".into(), json!(req.session_name));
    }
    if let Some(e) = &req.external_id {
        args.insert("ExternalId".into(), json!(e));
    }
    if let Some((serial, _)) = &req.mfa {
        args.insert("SerialNumber".into(), json!(serial));
    }
    if let Some(d) = req.duration_seconds {
        args.insert("DurationSeconds".into(), json!(d));
    }
    if let Some(p) = &req.policy {
        let policy = serde_json::from_str::<Value>(p).unwrap_or_else(|_| json!(p));
        args.insert("Policy".into(), policy);
    }
    file_safe(&crate::sso::sha1_hex(&python_json(&Value::Object(args), false)))
}

/// botocore's `_make_file_safe` (a hex digest is already safe; kept for the same names).
fn file_safe(s: &str) -> String {
    s.replace([':', '/', '\\'], "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_botocores() {
        // Computed with Python: hashlib.sha1(json.dumps(args, sort_keys=True).encode()).hexdigest()
        let mut req = AssumeRoleRequest::new("arn:aws:iam::123456789012:role/cirrus-mfa", "cirrus-123");
        req.mfa = Some(("arn:aws:iam::123456789012:mfa/dev".into(), "123456".into()));
        req.duration_seconds = Some(1800);
        req.external_id = Some("ext-é".into());
        assert_eq!(assume_role_key(&req, false), "4b1242f111642e75e26684a71b97f4fd28cb7720");
        let req = AssumeRoleRequest::new("arn:aws:iam::123456789012:role/r", "named");
        assert_eq!(assume_role_key(&req, true), "32f83863f437daa0bb4bb17065b3032821c0d52e");
    }

    #[test]
    fn python_json_escapes_as_python_does() {
        let v = json!({"b": [1, "x"], "a": "é\u{1F600}\"", "c": {"z": null}});
        assert_eq!(python_json(&v, false), r#"{"a": "\u00e9\ud83d\ude00\"", "b": [1, "x"], "c": {"z": null}}"#);
        assert_eq!(python_json(&v, true), r#"{"a":"\u00e9\ud83d\ude00\"","b":[1,"x"],"c":{"z":null}}"#);
    }
}
