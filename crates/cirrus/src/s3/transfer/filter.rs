//! `--exclude` and `--include`, as the AWS CLI applies them: each pattern is relative to the
//! source (a directory, or a prefix taken as a folder; the folder of a single file or object),
//! matched against the whole rest of the path with Python's `fnmatch` rules (`*` matches
//! anything, `/` included; `?` one character; `[seq]` and `[!seq]` one character in or out of
//! the set), case-sensitively. Everything passes to begin with; every rule that matches decides
//! again, so the last matching rule wins.

/// Exclude or include.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// `--exclude`: what matches is left out.
    Exclude,
    /// `--include`: what matches is taken back in.
    Include,
}

/// An ordered list of `--exclude` / `--include` patterns.
///
/// ```
/// use cirrus::s3::transfer::Filters;
///
/// // Everything but the logs, except the last one.
/// let f = Filters::default().exclude("*.log").include("today.log");
/// assert!(f.accepts("src/main.rs") && f.accepts("today.log"));
/// assert!(!f.accepts("old/yesterday.log"));
/// // `*` crosses folders, as in the AWS CLI.
/// assert!(!Filters::default().exclude("src*").accepts("src/deep/file.rs"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    rules: Vec<(Rule, String)>,
}

impl Filters {
    /// These filters with an `--exclude PATTERN` after the others.
    #[must_use]
    pub fn exclude(mut self, pattern: impl Into<String>) -> Self {
        self.rules.push((Rule::Exclude, pattern.into()));
        self
    }

    /// These filters with an `--include PATTERN` after the others.
    #[must_use]
    pub fn include(mut self, pattern: impl Into<String>) -> Self {
        self.rules.push((Rule::Include, pattern.into()));
        self
    }

    /// Adds a rule after the others.
    pub fn push(&mut self, rule: Rule, pattern: impl Into<String>) {
        self.rules.push((rule, pattern.into()));
    }

    /// No rules: everything passes.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[(Rule, String)] {
        &self.rules
    }

    /// Whether `rel`, a path relative to the source with `/` between its parts, passes.
    pub fn accepts(&self, rel: &str) -> bool {
        let mut keep = true;
        for (rule, pattern) in &self.rules {
            if fnmatch(pattern.as_bytes(), rel.as_bytes()) {
                keep = *rule == Rule::Include;
            }
        }
        keep
    }
}

/// Python's `fnmatch.fnmatchcase`: `*`, `?`, `[seq]`, `[!seq]` (a `]` first in a set is
/// literal; a `[` with no closing `]` is literal). Backtracks only to the last `*`, so it runs
/// in time proportional to pattern times text, whatever the input.
pub(crate) fn fnmatch(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = set(pattern, p, text[t]) {
                        if matched {
                            p = next;
                            t += 1;
                            continue;
                        }
                    } else if text[t] == b'[' {
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
                c if c == text[t] => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// The set starting at `pattern[at]` (a `[`): whether `c` is in it and where the pattern goes
/// on; `None` when the `[` opens no set (no closing `]`).
fn set(pattern: &[u8], at: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = at + 1;
    let negate = pattern.get(i) == Some(&b'!');
    if negate {
        i += 1;
    }
    let start = i;
    let mut found = false;
    loop {
        let &x = pattern.get(i)?;
        if x == b']' && i > start {
            return Some((found != negate, i + 1));
        }
        if pattern.get(i + 1) == Some(&b'-') && pattern.get(i + 2).is_some_and(|&y| y != b']') {
            let y = pattern[i + 2];
            if x <= c && c <= y {
                found = true;
            }
            i += 3;
        } else {
            if x == c {
                found = true;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_as_python_matches() {
        // Each case checked with Python 3: fnmatch.fnmatchcase(text, pattern).
        for (pattern, text, want) in [
            ("*", "a/b/c", true),
            ("*.txt", "dir/a.txt", true),
            ("*.txt", "a.txt.bak", false),
            ("a?c", "abc", true),
            ("a?c", "a/c", true),
            ("a?c", "ac", false),
            ("[abc]x", "bx", true),
            ("[!abc]x", "bx", false),
            ("[!abc]x", "dx", true),
            ("[a-c]1", "b1", true),
            ("[a-c]1", "d1", false),
            ("[]]", "]", true),
            ("[!]]", "a", true),
            ("[", "[", true),
            ("a[b", "a[b", true),
            ("dir/*", "dir/x/y", true),
            ("dir/*", "dirx/y", false),
            ("*a*b*", "xxaxxbxx", true),
            ("*a*b", "xxaxxbxxc", false),
            ("", "", true),
            ("", "a", false),
            ("**", "", true),
            ("Foo", "foo", false),
        ] {
            assert_eq!(fnmatch(pattern.as_bytes(), text.as_bytes()), want, "{pattern:?} vs {text:?}");
        }
    }

    #[test]
    fn the_last_matching_rule_wins() {
        let f = Filters::default().exclude("*").include("*.jpg").exclude("raw/*");
        assert!(f.accepts("a.jpg") && !f.accepts("a.png") && !f.accepts("raw/a.jpg"));
        assert!(Filters::default().accepts("anything"));
        let f = Filters::default().include("*.jpg");
        assert!(f.accepts("a.png"), "include alone takes nothing out");
    }

    #[test]
    fn long_hostile_patterns_stay_linear() {
        let pattern = "*a".repeat(50) + "b";
        let text = "a".repeat(5000);
        assert!(!fnmatch(pattern.as_bytes(), text.as_bytes()));
    }
}
