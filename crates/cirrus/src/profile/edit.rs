//! Writing a setting into the shared config or credentials file, as `aws configure set` does:
//! the file edited in place (comments, order and every other line kept), written whole to a
//! temporary file and renamed over the old one, readable by its owner only.

use super::{default_path, expand_home};
use crate::env::Env;
use std::io;
use std::path::PathBuf;

/// The keys `aws configure set` writes to the credentials file; every other key goes to the
/// config file.
const CREDENTIAL_KEYS: [&str; 3] = ["aws_access_key_id", "aws_secret_access_key", "aws_session_token"];

/// Sets `key` to `value` in profile `profile`, in the file the AWS CLI would write it to: the
/// three credential keys in the credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default
/// `~/.aws/credentials`, section `[NAME]`), everything else in the config file
/// (`AWS_CONFIG_FILE`, default `~/.aws/config`, section `[default]` or `[profile NAME]`). A key
/// with a dot (`s3.max_concurrent_requests`) is a nested setting, written indented under its
/// parent (`s3 =`). The section and the key are added when missing; every other line stays as
/// it was. Returns the file written.
///
/// A value, key or profile name holding a new line, or a key or name holding `[`, `]` or `=`,
/// is refused: it would write more than the one setting.
///
/// ```no_run
/// let env = [("HOME", "/home/ana")];
/// let path = cirrus::profile::set_value(&env, "dev", "region", "eu-west-1")?;
/// assert!(path.ends_with(".aws/config"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set_value(env: &dyn Env, profile: &str, key: &str, value: &str) -> io::Result<PathBuf> {
    set_in(env, Section::Profile(profile), key, value)
}

/// Sets `key` to `value` in `[sso-session NAME]` of the config file (`AWS_CONFIG_FILE`, default
/// `~/.aws/config`), as `aws configure sso` writes it; the section and the key are added when
/// missing, every other line stays as it was. The same names and values as [`set_value`] are
/// refused.
///
/// ```no_run
/// let env = [("HOME", "/home/ana")];
/// cirrus::profile::set_session_value(&env, "corp", "sso_region", "eu-west-1")?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set_session_value(env: &dyn Env, session: &str, key: &str, value: &str) -> io::Result<PathBuf> {
    set_in(env, Section::SsoSession(session), key, value)
}

/// The section a setting is written to.
#[derive(Clone, Copy)]
enum Section<'a> {
    /// `[default]`, `[profile NAME]`, or `[NAME]` in the credentials file.
    Profile(&'a str),
    /// `[sso-session NAME]`.
    SsoSession(&'a str),
}

fn set_in(env: &dyn Env, section: Section<'_>, key: &str, value: &str) -> io::Result<PathBuf> {
    let (kind, name) = match section {
        Section::Profile(p) => ("profile", p),
        Section::SsoSession(s) => ("sso-session", s),
    };
    let bad = |what: &str, s: &str, also: &[char]| {
        let broken = s.contains(['\n', '\r']) || s.chars().any(|c| also.contains(&c));
        let empty = s.trim().is_empty() && what != "value";
        (broken || empty)
            .then(|| io::Error::new(io::ErrorKind::InvalidInput, format!("{what} {s:?} cannot be written")))
    };
    let names = ['[', ']', '='];
    if let Some(e) = bad(kind, name, &names).or_else(|| bad("key", key, &names)).or_else(|| bad("value", value, &[])) {
        return Err(e);
    }
    let credentials = matches!(section, Section::Profile(_)) && CREDENTIAL_KEYS.contains(&key);
    let (path, header) = if credentials {
        let path = env
            .get("AWS_SHARED_CREDENTIALS_FILE")
            .map_or_else(|| default_path(env, "credentials"), |p| expand_home(env, &p));
        (path, name.to_owned())
    } else {
        let path = env.get("AWS_CONFIG_FILE").map_or_else(|| default_path(env, "config"), |p| expand_home(env, &p));
        let header = match section {
            Section::Profile("default") => "default".to_owned(),
            Section::Profile(p) => format!("profile {p}"),
            Section::SsoSession(s) => format!("sso-session {s}"),
        };
        (path, header)
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let setting = match key.split_once('.').filter(|_| !credentials) {
        Some((parent, sub)) => Setting::Nested { parent, sub },
        None => Setting::Plain(key),
    };
    crate::fs::write_private(&path, with_value(&text, &header, setting, value.trim()).as_bytes())?;
    Ok(path)
}

/// A key of a section: `key = value`, or `parent =` with `sub = value` indented under it.
#[derive(Clone, Copy)]
enum Setting<'a> {
    Plain(&'a str),
    Nested { parent: &'a str, sub: &'a str },
}

/// `text` with the setting in section `[header]` set to `value`.
fn with_value(text: &str, header: &str, setting: Setting<'_>, value: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let Some(start) = lines.iter().position(|l| section_of(l).is_some_and(|h| same_header(h, header))) else {
        // A new section at the end, after a blank line.
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(format!("[{header}]"));
        lines.extend(new_lines(setting, value));
        return joined(lines);
    };
    let end = lines[start + 1..].iter().position(|l| section_of(l).is_some()).map_or(lines.len(), |i| start + 1 + i);
    let key_line = |name: &str| (start + 1..end).find(|&i| property_of(&lines[i]).is_some_and(|k| k == name));
    match setting {
        Setting::Plain(key) => match key_line(key) {
            Some(i) => lines[i] = format!("{key} = {value}"),
            None => lines.insert(last_filled(&lines, start, end) + 1, format!("{key} = {value}")),
        },
        Setting::Nested { parent, sub } => match key_line(parent) {
            Some(p) => {
                // The indented lines under the parent.
                let under = (p + 1..end).take_while(|&i| lines[i].starts_with([' ', '\t'])).collect::<Vec<_>>();
                let found =
                    under.iter().find(|&&i| lines[i].trim().split_once('=').is_some_and(|(k, _)| k.trim() == sub));
                match found {
                    Some(&i) => lines[i] = format!("  {sub} = {value}"),
                    None => lines.insert(under.last().map_or(p, |l| *l) + 1, format!("  {sub} = {value}")),
                }
            }
            None => {
                let at = last_filled(&lines, start, end) + 1;
                for (n, line) in new_lines(setting, value).into_iter().enumerate() {
                    lines.insert(at + n, line);
                }
            }
        },
    }
    joined(lines)
}

/// The lines a setting takes in a section that lacks it.
fn new_lines(setting: Setting<'_>, value: &str) -> Vec<String> {
    match setting {
        Setting::Plain(key) => vec![format!("{key} = {value}")],
        Setting::Nested { parent, sub } => vec![format!("{parent} ="), format!("  {sub} = {value}")],
    }
}

/// The last line of the section from `start` (its header) to `end` that is not blank.
fn last_filled(lines: &[String], start: usize, end: usize) -> usize {
    (start..end).rev().find(|&i| !lines[i].trim().is_empty()).unwrap_or(start)
}

/// The inside of a section header line (`[profile dev]` -> `profile dev`).
fn section_of(line: &str) -> Option<&str> {
    let t = line.trim();
    t.strip_prefix('[')?.split_once(']').map(|(h, _)| h.trim())
}

/// Headers that name the same section (`profile  dev` is `profile dev`).
fn same_header(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
}

/// The key of a property line (not indented, not a comment).
fn property_of(line: &str) -> Option<&str> {
    if line.starts_with([' ', '\t']) || line.trim_start().starts_with(['#', ';']) {
        return None;
    }
    line.split_once('=').map(|(k, _)| k.trim())
}

fn joined(lines: Vec<String>) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_order_and_other_sections_stay() {
        let text = "# mine\n[default]\nregion = us-east-1 # home\n\n[profile dev]\n; dev account\noutput = text\n";
        let got = with_value(text, "profile dev", Setting::Plain("region"), "eu-west-1");
        assert_eq!(got, "# mine\n[default]\nregion = us-east-1 # home\n\n[profile dev]\n; dev account\noutput = text\nregion = eu-west-1\n");
        let got = with_value(&got, "default", Setting::Plain("region"), "us-west-2");
        assert!(got.contains("[default]\nregion = us-west-2\n") && got.starts_with("# mine\n"), "{got}");
        let got = with_value(&got, "profile  new", Setting::Plain("region"), "ap-south-1");
        assert!(got.ends_with("region = eu-west-1\n\n[profile  new]\nregion = ap-south-1\n"), "{got}");
    }

    #[test]
    fn nested_settings_go_under_their_parent() {
        let text = "[default]\ns3 =\n  max_concurrent_requests = 10\nregion = eu-west-1\n";
        let got = with_value(text, "default", Setting::Nested { parent: "s3", sub: "multipart_chunksize" }, "16MB");
        assert_eq!(
            got,
            "[default]\ns3 =\n  max_concurrent_requests = 10\n  multipart_chunksize = 16MB\nregion = eu-west-1\n"
        );
        let got = with_value(&got, "default", Setting::Nested { parent: "s3", sub: "max_concurrent_requests" }, "64");
        assert!(got.contains("  max_concurrent_requests = 64\n") && !got.contains("= 10"), "{got}");
        let got = with_value("", "default", Setting::Nested { parent: "s3", sub: "max_concurrent_requests" }, "8");
        assert_eq!(got, "[default]\ns3 =\n  max_concurrent_requests = 8\n");
    }

    #[test]
    fn files_and_sections_as_the_aws_cli_writes_them() {
        let home = std::env::temp_dir().join(format!("cirrus-configure-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        let env: std::collections::HashMap<String, String> =
            [("HOME".to_owned(), home.to_string_lossy().into_owned())].into_iter().collect();
        let creds = set_value(&env, "dev", "aws_access_key_id", "AKIDDEV").unwrap();
        assert_eq!(std::fs::read_to_string(&creds).unwrap(), "[dev]\naws_access_key_id = AKIDDEV\n");
        let config = set_value(&env, "dev", "region", "eu-west-1").unwrap();
        assert_eq!(std::fs::read_to_string(&config).unwrap(), "[profile dev]\nregion = eu-west-1\n");
        set_value(&env, "default", "output", "json").unwrap();
        assert!(std::fs::read_to_string(&config).unwrap().ends_with("\n[default]\noutput = json\n"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777, 0o600);
        }
        for (p, k, v) in
            [("dev", "region", "x\n[evil]"), ("d]ev", "region", "x"), ("dev", "a=b", "x"), ("dev", " ", "x")]
        {
            assert!(set_value(&env, p, k, v).is_err(), "{p:?} {k:?} {v:?}");
        }
        // An sso-session goes to the config file, even for a key named like a credential.
        let path = set_session_value(&env, "corp", "sso_region", "eu-west-1").unwrap();
        set_session_value(&env, "corp", "aws_access_key_id", "x").unwrap();
        assert_eq!(path, config);
        let text = std::fs::read_to_string(&config).unwrap();
        assert!(text.ends_with("\n[sso-session corp]\nsso_region = eu-west-1\naws_access_key_id = x\n"), "{text}");
        assert!(set_session_value(&env, "co]rp", "sso_region", "x").is_err());
        let _ = std::fs::remove_dir_all(&home);
    }
}
