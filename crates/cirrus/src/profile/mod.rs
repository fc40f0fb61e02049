//! The shared config and credentials files (`~/.aws/config`, `~/.aws/credentials`).
//!
//! The format, as the AWS CLI and SDKs read it:
//! - `[default]`, and `[profile NAME]` in the config file, `[NAME]` in the credentials file. A
//!   config-file section without the `profile ` prefix (`[sso-session x]`, `[services y]`) is not a
//!   profile.
//! - `key = value` lines; the first `=` splits. A line starting with `#` or `;` is a comment, and
//!   so is ` #...` or ` ;...` after a value (whitespace before it).
//! - A property with an empty value followed by indented `key = value` lines holds sub-properties
//!   (`s3 =` / `  max_concurrent_requests = 10`); an indented line after a non-empty value
//!   continues that value.
//! - The credentials file wins over the config file for the same key of the same profile.
//!
//! A line that fits none of these is an error naming the file and line.
//!
//! A leaf: it stands on the environment and file system seams only, so the context, the
//! credential providers, endpoint resolution and configuration all read profiles through it.

mod edit;
pub use edit::{set_session_value, set_value};

use crate::env::Env;
use crate::fs::Fs;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The profile in use: the one asked for, then `AWS_PROFILE`, then `default`.
pub fn profile_name(explicit: Option<&str>, env: &dyn Env) -> String {
    explicit.map(str::to_owned).or_else(|| env.get("AWS_PROFILE")).unwrap_or_else(|| "default".to_owned())
}

/// One profile: its properties, and sub-properties under a property name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    name: String,
    properties: BTreeMap<String, String>,
    sub_properties: BTreeMap<String, BTreeMap<String, String>>,
}

impl Profile {
    /// An indented line under the property `key`: a sub-property (`k = v`) when `key` has no
    /// value of its own, else a continuation of its value.
    fn indented(&mut self, key: &str, line: &str) -> Result<(), String> {
        if !self.properties.get(key).is_none_or(|v| v.is_empty()) {
            if let Some(v) = self.properties.get_mut(key) {
                v.push('\n');
                v.push_str(line);
            }
            return Ok(());
        }
        let (k, v) =
            line.split_once('=').ok_or_else(|| format!("expected `key = value` under `{key}`, found {line:?}"))?;
        let k = k.trim();
        if k.is_empty() {
            return Err("a sub-property has no name".to_owned());
        }
        self.sub_properties.entry(key.to_owned()).or_default().insert(k.to_owned(), v.trim().to_owned());
        Ok(())
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A property, e.g. `region`. Empty values count as unset.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.properties.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A sub-property, e.g. `("s3", "addressing_style")`.
    pub fn get_sub(&self, property: &str, key: &str) -> Option<&str> {
        self.sub_properties.get(property)?.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// The property names, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.properties.keys().map(String::as_str)
    }
}

/// Where the profiles were read from, for messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileSources {
    /// The config file path, whether or not it exists.
    pub config_file: PathBuf,
    /// The credentials file path, whether or not it exists.
    pub credentials_file: PathBuf,
    /// Which of the two existed.
    pub found: Vec<PathBuf>,
}

/// Every profile of both files, merged, and the config file's other sections
/// (`[sso-session NAME]`, `[services NAME]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileSet {
    profiles: BTreeMap<String, Profile>,
    /// Sections that are not profiles, by (type, name): `("sso-session", "corp")`.
    sections: BTreeMap<(String, String), Profile>,
    sources: ProfileSources,
}

/// Where the lines under a section header go.
#[derive(Clone)]
enum Target {
    Profile(String),
    Section(String, String),
    /// A header cirrus does not read (`[preview]`...): its lines are skipped.
    Skip,
}

/// A malformed profile file, or one that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileFileError {
    path: PathBuf,
    line: usize,
    message: String,
}

impl ProfileFileError {
    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The 1-based line, 0 when the file could not be read.
    pub fn line(&self) -> usize {
        self.line
    }
}

impl fmt::Display for ProfileFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for ProfileFileError {}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Config,
    Credentials,
}

/// `~/.aws/<name>` with `~` from `HOME` (or `USERPROFILE`).
pub(crate) fn default_path(env: &dyn Env, name: &str) -> PathBuf {
    let home = env.get("HOME").or_else(|| env.get("USERPROFILE")).unwrap_or_else(|| ".".to_owned());
    Path::new(&home).join(".aws").join(name)
}

/// `p` with a leading `~/` replaced by `HOME` (or `USERPROFILE`), as the AWS CLI expands
/// paths in its settings.
pub fn expand_home(env: &dyn Env, p: &str) -> PathBuf {
    match p.strip_prefix("~/").or_else(|| p.strip_prefix("~\\")) {
        Some(rest) => {
            let home = env.get("HOME").or_else(|| env.get("USERPROFILE")).unwrap_or_else(|| ".".to_owned());
            Path::new(&home).join(rest)
        }
        None => PathBuf::from(p),
    }
}

impl ProfileSet {
    /// Reads `AWS_CONFIG_FILE` (default `~/.aws/config`) and `AWS_SHARED_CREDENTIALS_FILE`
    /// (default `~/.aws/credentials`). A missing file is an empty one.
    pub fn load(env: &dyn Env, fs: &dyn Fs) -> Result<ProfileSet, ProfileFileError> {
        let config_file =
            env.get("AWS_CONFIG_FILE").map_or_else(|| default_path(env, "config"), |p| expand_home(env, &p));
        let credentials_file = env
            .get("AWS_SHARED_CREDENTIALS_FILE")
            .map_or_else(|| default_path(env, "credentials"), |p| expand_home(env, &p));
        let mut set = ProfileSet {
            profiles: BTreeMap::new(),
            sections: BTreeMap::new(),
            sources: ProfileSources {
                config_file: config_file.clone(),
                credentials_file: credentials_file.clone(),
                found: vec![],
            },
        };
        for (path, kind) in [(config_file, FileKind::Config), (credentials_file, FileKind::Credentials)] {
            match fs.read_to_string(&path) {
                Ok(text) => {
                    set.parse_into(&path, &text, kind)?;
                    set.sources.found.push(path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(ProfileFileError { path, line: 0, message: format!("cannot read: {e}") });
                }
            }
        }
        Ok(set)
    }

    /// Parses the text of a config file (`[profile x]` sections).
    pub fn parse_config(path: &Path, text: &str) -> Result<ProfileSet, ProfileFileError> {
        let mut set = ProfileSet::default();
        set.parse_into(path, text, FileKind::Config)?;
        Ok(set)
    }

    /// Parses the text of a credentials file (`[x]` sections).
    pub fn parse_credentials(path: &Path, text: &str) -> Result<ProfileSet, ProfileFileError> {
        let mut set = ProfileSet::default();
        set.parse_into(path, text, FileKind::Credentials)?;
        Ok(set)
    }

    /// A profile by name.
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// A section of the config file that is not a profile: `section("sso-session", "corp")`
    /// is `[sso-session corp]`.
    pub fn section(&self, kind: &str, name: &str) -> Option<&Profile> {
        self.sections.get(&(kind.to_owned(), name.to_owned()))
    }

    /// The profile names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }

    /// The files behind this set.
    pub fn sources(&self) -> &ProfileSources {
        &self.sources
    }

    fn parse_into(&mut self, path: &Path, text: &str, kind: FileKind) -> Result<(), ProfileFileError> {
        let err = |line: usize, message: String| ProfileFileError { path: path.to_owned(), line, message };
        // The profile being filled (None: a section that is not a profile, skipped), and the
        // last property, for continuations and sub-properties.
        let mut current: Option<Target> = None;
        let mut last_key: Option<String> = None;
        for (i, raw) in text.lines().enumerate() {
            let no = i + 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let indented = line.starts_with([' ', '\t']);
            if indented && !trimmed.starts_with('[') {
                // A continuation or a sub-property of the last property.
                let (Some(target), Some(key)) = (&current, &last_key) else {
                    if matches!(current, Some(Target::Skip)) {
                        continue;
                    }
                    return Err(err(no, "an indented line must follow a property".to_owned()));
                };
                if let Some(p) = self.target(target) {
                    p.indented(key, trimmed).map_err(|m| err(no, m))?;
                }
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                let target = section_header(rest, kind).map_err(|m| err(no, m))?;
                if let Some(p) = self.target(&target) {
                    p.name = match &target {
                        Target::Profile(n) | Target::Section(_, n) => n.clone(),
                        Target::Skip => String::new(),
                    };
                }
                current = Some(target);
                last_key = None;
                continue;
            }
            let Some((key, value)) = trimmed.split_once('=') else {
                return Err(err(no, format!("expected `[section]` or `key = value`, found {trimmed:?}")));
            };
            let key = key.trim();
            if key.is_empty() {
                return Err(err(no, "a property has no name".to_owned()));
            }
            let Some(section) = &current else {
                return Err(err(no, format!("property `{key}` before any [section]")));
            };
            last_key = Some(key.to_owned());
            let value = strip_inline_comment(value.trim());
            if let Some(p) = self.target(section) {
                p.properties.insert(key.to_owned(), value.to_owned());
            }
        }
        Ok(())
    }

    fn target(&mut self, target: &Target) -> Option<&mut Profile> {
        match target {
            Target::Profile(n) => Some(self.profiles.entry(n.clone()).or_default()),
            Target::Section(k, n) => Some(self.sections.entry((k.clone(), n.clone())).or_default()),
            Target::Skip => None,
        }
    }
}

/// What a section header (`rest`: after its `[`) names in a file of `kind`: a profile, an
/// `sso-session` or `services` section, or something else, skipped.
fn section_header(rest: &str, kind: FileKind) -> Result<Target, String> {
    let Some(end) = rest.find(']') else {
        return Err(format!("section header without `]`: {:?}", format!("[{rest}")));
    };
    let after = rest[end + 1..].trim();
    if !after.is_empty() && !after.starts_with('#') && !after.starts_with(';') {
        return Err(format!("unexpected text after the section header: {after:?}"));
    }
    let header = rest[..end].trim();
    if header.is_empty() {
        return Err("empty section name `[]`".to_owned());
    }
    Ok(match kind {
        FileKind::Credentials => Target::Profile(header.to_owned()),
        FileKind::Config if header == "default" => Target::Profile("default".to_owned()),
        FileKind::Config => match header.split_once([' ', '\t']) {
            Some(("profile", n)) if !n.trim().is_empty() => Target::Profile(n.trim().to_owned()),
            Some((k @ ("sso-session" | "services"), n)) if !n.trim().is_empty() => {
                Target::Section(k.to_owned(), n.trim().to_owned())
            }
            _ => Target::Skip,
        },
    })
}

/// Drops ` #...` / ` ;...` (a comment preceded by whitespace) from a value.
fn strip_inline_comment(value: &str) -> &str {
    let bytes = value.as_bytes();
    for i in 1..bytes.len() {
        if matches!(bytes[i], b'#' | b';') && matches!(bytes[i - 1], b' ' | b'\t') {
            return value[..i].trim_end();
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::MemFs;

    fn cfg(text: &str) -> ProfileSet {
        ProfileSet::parse_config(Path::new("config"), text).unwrap()
    }

    #[test]
    fn sso_session_sections_are_kept_apart_from_profiles() {
        let set = cfg("[profile dev]\nsso_session = corp\n[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1\n[preview]\ncloudfront = true\n");
        assert_eq!(set.get("dev").and_then(|p| p.get("sso_session")), Some("corp"));
        let s = set.section("sso-session", "corp").unwrap();
        assert_eq!((s.name(), s.get("sso_region")), ("corp", Some("eu-west-1")));
        assert!(set.get("corp").is_none() && set.section("sso-session", "dev").is_none());
        assert_eq!(set.names().collect::<Vec<_>>(), ["dev"]);
    }

    #[test]
    fn config_sections_need_the_profile_prefix() {
        let set = cfg("[default]\nregion = us-east-1\n[profile dev]\nregion=eu-west-1\n[dev2]\nregion = x\n[sso-session s]\nsso_region = y\n");
        assert_eq!(set.names().collect::<Vec<_>>(), ["default", "dev"]);
        assert_eq!(set.get("dev").unwrap().get("region"), Some("eu-west-1"));
        let creds =
            ProfileSet::parse_credentials(Path::new("credentials"), "[dev]\naws_access_key_id = A\n[profile x]\nk=v\n")
                .unwrap();
        assert_eq!(creds.names().collect::<Vec<_>>(), ["dev", "profile x"]);
    }

    #[test]
    fn comments_sub_properties_and_continuations() {
        let set = cfg("# top\n[profile a] ; note\nregion = us-west-2 # inline\nname=a#b\ns3 =\n  addressing_style = path\n  max_concurrent_requests=10\nlong = first\n  second\n");
        let a = set.get("a").unwrap();
        assert_eq!(a.get("region"), Some("us-west-2"));
        assert_eq!(a.get("name"), Some("a#b"));
        assert_eq!(a.get_sub("s3", "addressing_style"), Some("path"));
        assert_eq!(a.get_sub("s3", "max_concurrent_requests"), Some("10"));
        assert_eq!(a.get("long"), Some("first\nsecond"));
    }

    #[test]
    fn errors_name_file_and_line() {
        for (text, line, what) in [
            ("region = x\n", 1, "before any [section]"),
            ("[default]\nregion\n", 2, "expected `[section]` or `key = value`"),
            ("[default\n", 1, "without `]`"),
            ("[default]\n= v\n", 2, "no name"),
            ("\n\n  indented = 1\n", 3, "must follow a property"),
        ] {
            let e = ProfileSet::parse_config(Path::new("/home/u/.aws/config"), text).unwrap_err();
            assert_eq!(e.line(), line, "{text:?}: {e}");
            let s = e.to_string();
            assert!(s.starts_with(&format!("/home/u/.aws/config:{line}: ")) && s.contains(what), "{s}");
        }
    }

    #[test]
    fn credentials_file_wins_and_paths_follow_the_environment() {
        let fs = MemFs::new([
            ("/h/.aws/config", "[default]\nregion = us-east-1\naws_access_key_id = FROMCONFIG\n"),
            ("/h/.aws/credentials", "[default]\naws_access_key_id = FROMCREDS\n"),
            ("/elsewhere/cfg", "[profile z]\nregion = ap-south-1\n"),
        ]);
        let set = ProfileSet::load(&[("HOME", "/h")], &fs).unwrap();
        let d = set.get("default").unwrap();
        assert_eq!((d.get("region"), d.get("aws_access_key_id")), (Some("us-east-1"), Some("FROMCREDS")));
        assert_eq!(set.sources().found.len(), 2);
        let set = ProfileSet::load(&[("HOME", "/h"), ("AWS_CONFIG_FILE", "/elsewhere/cfg")], &fs).unwrap();
        assert_eq!(set.get("z").unwrap().get("region"), Some("ap-south-1"));
        assert_eq!(set.get("default").unwrap().get("region"), None);
        let set = ProfileSet::load(&[("HOME", "/nobody")], &fs).unwrap();
        assert_eq!(set.names().count(), 0);
    }
}
