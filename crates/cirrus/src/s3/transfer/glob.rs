//! Wildcards in S3 source keys, as s5cmd reads them: `*`, `?` and `[...]` within one folder
//! level, `**` across levels, `\` before a character to take it literally. Only the literal
//! prefix before the first wildcard is listed; each key under it is matched whole.

use super::filter::{Pattern, Syntax};
use super::Location;
use std::borrow::Cow;

/// A key pattern: what a transfer lists, matches and names its copies by.
///
/// ```
/// use cirrus::s3::transfer::Glob;
///
/// let g = Glob::new("logs/2024-*/app-?.gz").expect("wildcards");
/// assert_eq!(g.prefix(), "logs/2024-"); // all that is listed
/// assert_eq!(g.base(), "logs/"); // copies are named from here
/// assert!(g.matches("logs/2024-01/app-1.gz"));
/// assert!(!g.matches("logs/2024-01/old/app-1.gz")); // `*` and `?` stay in one level
/// assert_eq!(g.name("logs/2024-01/app-1.gz"), "2024-01/app-1.gz");
/// assert!(Glob::new("logs/**.gz").unwrap().matches("logs/a/b/c.gz")); // `**` crosses levels
/// assert!(Glob::new(r"odd\*name").is_none()); // escaped: no wildcard left
/// assert_eq!(Glob::unescape(r"odd\*name"), "odd*name");
/// ```
#[derive(Clone, Debug)]
pub struct Glob {
    text: String,
    prefix: String,
    pattern: Pattern,
}

impl Glob {
    /// The pattern in `key`, or `None` when it holds no wildcard (then
    /// [`unescape`](Self::unescape) gives the key it names).
    pub fn new(key: &str) -> Option<Glob> {
        let (prefix, wild) = literal_prefix(key);
        wild.then(|| Glob { text: key.to_owned(), prefix, pattern: Pattern::new(key.as_bytes(), Syntax::Path) })
    }

    /// `key` with its escapes taken away (`a\*b` is the key `a*b`).
    pub fn unescape(key: &str) -> Cow<'_, str> {
        if key.contains('\\') {
            Cow::Owned(literal_prefix(key).0)
        } else {
            Cow::Borrowed(key)
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// What comes before the first wildcard, unescaped: the prefix listed (never more).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The folder that holds [`prefix`](Self::prefix) (up to its last `/`; `""` at the top of
    /// the bucket): the names of the matches are their keys relative to it.
    pub fn base(&self) -> &str {
        &self.prefix[..self.prefix.rfind('/').map_or(0, |i| i + 1)]
    }

    /// Whether the whole of `key` matches.
    pub fn matches(&self, key: &str) -> bool {
        key.starts_with(&self.prefix) && self.pattern.matches(key.as_bytes())
    }

    /// The name a match takes at the destination: its key relative to [`base`](Self::base)
    /// (so `*.gz` gives flat names and `**` keeps the folders under the base).
    pub fn name<'k>(&self, key: &'k str) -> &'k str {
        key.strip_prefix(self.base()).unwrap_or(key)
    }
}

impl std::fmt::Display for Glob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Location {
    /// The pattern in an S3 location's key, when it holds a wildcard (see [`Glob`]); `None` for
    /// a local path or a plain key.
    pub fn glob(&self) -> Option<Glob> {
        match self {
            Location::S3 { key, .. } => Glob::new(key),
            Location::Local(_) => None,
        }
    }
}

/// The key up to its first unescaped wildcard, unescaped, and whether there is one. A `[`
/// counts only when a `]` closes it, as the matcher reads it.
fn literal_prefix(key: &str) -> (String, bool) {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if i + 1 < bytes.len() => {
                out.push(bytes[i + 1]);
                i += 2;
                continue;
            }
            b'*' | b'?' => return (lossless(out), true),
            b'[' if opens_a_set(bytes, i) => return (lossless(out), true),
            c => out.push(c),
        }
        i += 1;
    }
    (lossless(out), false)
}

/// Whether the `[` at `at` opens a set (a `]` after its first member closes it).
fn opens_a_set(bytes: &[u8], at: usize) -> bool {
    let mut i = at + 1;
    if bytes.get(i) == Some(&b'!') {
        i += 1;
    }
    bytes.get(i + 1..).is_some_and(|rest| rest.contains(&b']'))
}

/// Bytes cut from a `str` at ASCII characters are still UTF-8 (an escaped multi-byte
/// character is taken whole, its bytes one by one).
fn lossless(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_as_paths() {
        for (pattern, key, want) in [
            ("logs/*.gz", "logs/a.gz", true),
            ("logs/*.gz", "logs/x/a.gz", false),
            ("logs/*.gz", "logsa.gz", false),
            ("logs/**.gz", "logs/x/y/a.gz", true),
            ("logs/**/*.gz", "logs/a.gz", true),
            ("logs/**/*.gz", "logs/x/y/a.gz", true),
            ("logs/**/*.gz", "logs/x/y/a.txt", false),
            ("a?c", "abc", true),
            ("a?c", "a/c", false),
            ("[a-c]x", "bx", true),
            ("[a-c]x", "dx", false),
            ("[!a-c]x", "dx", true),
            ("[!a-c]x", "/x", false),
            ("*", "a/b", false),
            ("**", "a/b", true),
            (r"a\*b*", "a*bc", true),
            (r"a\*b*", "axbc", false),
            (r"a\??", "a?b", true),
            (r"a\??", "axb", false),
            ("x/*/z", "x//z", true),
            ("a?c", "aéc", true),
            ("a??c", "aéc", false),
            ("*/?", "dir/ファ", false),
            ("*/??", "dir/ファ", true),
        ] {
            let g = Glob::new(pattern).unwrap_or_else(|| panic!("{pattern} has wildcards"));
            assert_eq!(g.matches(key), want, "{pattern:?} vs {key:?}");
        }
    }

    #[test]
    fn prefixes_bases_and_names() {
        let g = Glob::new("a/b/c*/d").unwrap();
        assert_eq!((g.prefix(), g.base(), g.name("a/b/cx/d")), ("a/b/c", "a/b/", "cx/d"));
        let g = Glob::new("*.txt").unwrap();
        assert_eq!((g.prefix(), g.base()), ("", ""));
        let g = Glob::new(r"w\*x/y?").unwrap();
        assert_eq!((g.prefix(), g.base(), g.name("w*x/yz")), ("w*x/y", "w*x/", "yz"));
        assert!(Glob::new("plain/key").is_none());
        assert!(Glob::new("no[set").is_none(), "an unclosed [ is literal");
        assert!(Glob::new(r"esc\[a]").is_none());
        assert_eq!(Glob::unescape(r"esc\[a]\\"), r"esc[a]\");
        assert_eq!(Glob::unescape("é\\é"), "éé");
        assert_eq!(Location::s3("b", "x/*").glob().map(|g| g.prefix().to_owned()), Some("x/".to_owned()));
    }
}
