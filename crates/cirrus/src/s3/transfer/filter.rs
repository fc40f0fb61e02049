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
    /// The rules' patterns, compiled once (`accepts` runs for every key and file).
    compiled: Vec<Pattern>,
}

impl Filters {
    /// These filters with an `--exclude PATTERN` after the others.
    #[must_use]
    pub fn exclude(mut self, pattern: impl Into<String>) -> Self {
        self.push(Rule::Exclude, pattern);
        self
    }

    /// These filters with an `--include PATTERN` after the others.
    #[must_use]
    pub fn include(mut self, pattern: impl Into<String>) -> Self {
        self.push(Rule::Include, pattern);
        self
    }

    /// Adds a rule after the others.
    pub fn push(&mut self, rule: Rule, pattern: impl Into<String>) {
        let pattern = pattern.into();
        self.compiled.push(Pattern::new(pattern.as_bytes(), Syntax::Fnmatch));
        self.rules.push((rule, pattern));
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
        for ((rule, _), pattern) in self.rules.iter().zip(&self.compiled) {
            if pattern.matches(rel.as_bytes()) {
                keep = *rule == Rule::Include;
            }
        }
        keep
    }
}

/// Python's `fnmatch.fnmatchcase`: `*`, `?`, `[seq]`, `[!seq]` (a `]` first in a set is
/// literal; a `[` with no closing `]` is literal), `*` crossing `/`.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn fnmatch(pattern: &[u8], text: &[u8]) -> bool {
    Pattern::new(pattern, Syntax::Fnmatch).matches(text)
}

/// How a pattern reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// Python's `fnmatch`, as the AWS CLI's filters: every wildcard crosses `/`, a backslash
    /// is itself.
    Fnmatch,
    /// Paths, as s5cmd and shells read them: `*`, `?` (one character, of any length in
    /// UTF-8) and `[...]` (one byte: ASCII sets) stay within one segment (never match `/`), `**` crosses segments (and `**/` matches zero or more whole
    /// folders), a backslash makes the next character literal.
    Path,
}

/// One element of a compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Byte(u8),
    /// `?`: any one byte.
    One,
    /// `[...]` starting at this offset of the pattern.
    Set(usize),
    /// `*` (within a segment, for [`Syntax::Path`]).
    Star,
    /// `**`, or any `*` of [`Syntax::Fnmatch`]: anything.
    Any,
    /// `**/` at the start or after a `/`: nothing, or anything that ends in `/`.
    Folders,
}

/// A compiled pattern: matched by walking the set of text offsets each token can reach, so the
/// time is at most the pattern's length times the text's, whatever either holds (no
/// backtracking to blow up).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pattern {
    source: Vec<u8>,
    tokens: Vec<Token>,
    syntax: Syntax,
}

impl Pattern {
    pub(crate) fn new(pattern: &[u8], syntax: Syntax) -> Pattern {
        let path = syntax == Syntax::Path;
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < pattern.len() {
            let (token, next) = match pattern[i] {
                b'\\' if path && i + 1 < pattern.len() => (Token::Byte(pattern[i + 1]), i + 2),
                b'*' => {
                    let mut end = i;
                    while pattern.get(end) == Some(&b'*') {
                        end += 1;
                    }
                    let at_segment_start = i == 0 || pattern[i - 1] == b'/';
                    match (path, end - i) {
                        (true, 1) => (Token::Star, end),
                        (true, _) if at_segment_start && pattern.get(end) == Some(&b'/') => (Token::Folders, end + 1),
                        _ => (Token::Any, end),
                    }
                }
                b'?' => (Token::One, i + 1),
                b'[' => match set(pattern, i, 0) {
                    Some((_, next)) => (Token::Set(i), next),
                    None => (Token::Byte(b'['), i + 1),
                },
                c => (Token::Byte(c), i + 1),
            };
            tokens.push(token);
            i = next;
        }
        Pattern { source: pattern.to_vec(), tokens, syntax }
    }

    /// Whether the whole of `text` matches.
    pub(crate) fn matches(&self, text: &[u8]) -> bool {
        let path = self.syntax == Syntax::Path;
        // `reach[j]`: the tokens so far can match exactly `text[..j]`.
        let mut reach = vec![false; text.len() + 1];
        reach[0] = true;
        let mut next = vec![false; text.len() + 1];
        for token in &self.tokens {
            next.iter_mut().for_each(|r| *r = false);
            let mut any = false;
            let mut carry = false;
            for j in 0..=text.len() {
                let one_from_before = j > 0 && reach[j - 1] && {
                    let c = text[j - 1];
                    match token {
                        Token::Byte(b) => c == *b,
                        Token::One => !(path && c == b'/'),
                        Token::Set(at) => !(path && c == b'/') && set(&self.source, *at, c).is_some_and(|(m, _)| m),
                        _ => false,
                    }
                };
                let here = match token {
                    // In path syntax `?` is one character, however many bytes it takes.
                    Token::One if path => one_char_before(text, j).is_some_and(|i| reach[i] && text[i] != b'/'),
                    Token::Byte(_) | Token::One | Token::Set(_) => one_from_before,
                    Token::Any => {
                        carry |= reach[j];
                        carry
                    }
                    Token::Star => {
                        // Anything since a reachable offset with no `/` in between.
                        if j > 0 && text[j - 1] == b'/' {
                            carry = false;
                        }
                        carry |= reach[j];
                        carry
                    }
                    Token::Folders => {
                        let ends_a_folder = j > 0 && text[j - 1] == b'/' && carry;
                        carry |= reach[j];
                        reach[j] || ends_a_folder
                    }
                };
                next[j] = here;
                any |= here;
            }
            if !any {
                return false;
            }
            std::mem::swap(&mut reach, &mut next);
        }
        reach[text.len()]
    }
}

/// Where the UTF-8 character that ends at `text[j]` starts (`None` when `j` is not at the end
/// of one).
fn one_char_before(text: &[u8], j: usize) -> Option<usize> {
    let continues = |b: u8| b & 0xC0 == 0x80;
    if j == 0 || text.get(j).is_some_and(|&b| continues(b)) {
        return None;
    }
    let mut i = j - 1;
    while i > 0 && continues(text[i]) && j - i < 4 {
        i -= 1;
    }
    Some(i)
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
