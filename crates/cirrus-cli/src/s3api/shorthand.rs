//! The AWS CLI's ways of giving a structure on the command line: its shorthand
//! (`TagSet=[{Key=a,Value=1},{Key=b,Value=2}]`, `Status=Enabled`), JSON, and either one read
//! from a file with `file://`. Every value of the shorthand is a string, as in the AWS CLI.

use crate::Failure;
use anyhow::anyhow;
use serde_json::{Map, Value};

/// The most a `file://` argument may hold.
const MAX_FILE: usize = 1 << 20;

/// The text of an argument: as given, or a file's when it starts with `file://`.
pub(super) fn argument_text(flag: &str, given: &str) -> Result<String, Failure> {
    match given.strip_prefix("file://") {
        Some(path) => {
            let bytes = crate::read_limited("file://", std::path::Path::new(path), MAX_FILE)?;
            String::from_utf8(bytes).map_err(|_| Failure::input(anyhow!("{flag}: {given} is not UTF-8 text")))
        }
        None => Ok(given.to_owned()),
    }
}

/// A structure argument: JSON when it starts with `{` or `[`, the shorthand otherwise
/// (`file://` read first). Errors say where the text is wrong; they are bad input (exit 2).
pub(super) fn structure(flag: &str, given: &str) -> Result<Value, Failure> {
    let text = argument_text(flag, given)?;
    let trimmed = text.trim();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return serde_json::from_str(trimmed).map_err(|e| Failure::input(anyhow!("{flag}: not valid JSON: {e}")));
    }
    parse(trimmed).map_err(|e| Failure::input(anyhow!("{flag}: {e}")))
}

/// Where the shorthand is wrong: what was expected, at which character (from 1).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ShorthandError {
    message: String,
    at: usize,
    input: String,
}

impl std::fmt::Display for ShorthandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rest: String = self.input.chars().skip(self.at).take(20).collect();
        let here = if rest.is_empty() { "the end".to_owned() } else { format!("{rest:?}") };
        write!(f, "{} at character {} of {:?} (at {here})", self.message, self.at + 1, self.input)
    }
}

impl std::error::Error for ShorthandError {}

/// Parses the shorthand: `key=value,key=value` where a value is a string (bare, or in single
/// or double quotes with `\` escapes), a list `[a,b]`, a structure `{k=v,...}`, or several
/// bare strings `a,b,c` (a list).
pub(super) fn parse(input: &str) -> Result<Value, ShorthandError> {
    let mut p = Parser { chars: input.chars().collect(), at: 0, input, depth: 0 };
    let v = p.keyvals(None)?;
    p.skip_space();
    if p.at < p.chars.len() {
        return Err(p.error(format!("unexpected {:?}", p.chars[p.at])));
    }
    Ok(v)
}

/// Lists and structures nested deeper are refused (no AWS structure comes near; the stack
/// would).
const MAX_DEPTH: usize = 32;

struct Parser<'a> {
    chars: Vec<char>,
    at: usize,
    input: &'a str,
    /// Lists and structures open.
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> ShorthandError {
        ShorthandError { message: message.into(), at: self.at, input: self.input.to_owned() }
    }

    /// Steps over the `[` or `{` at the cursor into a list or structure.
    fn open(&mut self) -> Result<(), ShorthandError> {
        if self.depth == MAX_DEPTH {
            return Err(self.error(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        self.depth += 1;
        self.at += 1;
        Ok(())
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn expect(&mut self, c: char) -> Result<(), ShorthandError> {
        self.skip_space();
        match self.peek() {
            Some(got) if got == c => {
                self.at += 1;
                Ok(())
            }
            Some(got) => Err(self.error(format!("expected {c:?}, found {got:?}"))),
            None => Err(self.error(format!("expected {c:?}, found the end"))),
        }
    }

    /// `key=value` pairs separated by commas, up to `close` (or the end).
    fn keyvals(&mut self, close: Option<char>) -> Result<Value, ShorthandError> {
        let mut map = Map::new();
        loop {
            self.skip_space();
            if close.is_some() && self.peek() == close && map.is_empty() {
                return Ok(Value::Object(map));
            }
            let key_at = self.at;
            let key = self.key()?;
            self.expect('=')?;
            let value = self.value(close)?;
            if map.insert(key.clone(), value).is_some() {
                self.at = key_at;
                return Err(self.error(format!("the key {key:?} is given twice")));
            }
            self.skip_space();
            match self.peek() {
                Some(',') => self.at += 1,
                c if c == close => return Ok(Value::Object(map)),
                Some(c) => {
                    let end = close.map_or("the end".to_owned(), |e| format!("{e:?}"));
                    return Err(self.error(format!("expected ',' or {end}, found {c:?}")));
                }
                None => return Err(self.error(format!("expected {:?}, found the end", close.unwrap_or(' ')))),
            }
        }
    }

    fn key(&mut self) -> Result<String, ShorthandError> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || "-_.#/:".contains(c)) {
            self.at += 1;
        }
        if start == self.at {
            let what = self.peek().map_or("the end".to_owned(), |c| format!("{c:?}"));
            return Err(self.error(format!("expected a key, found {what}")));
        }
        Ok(self.chars[start..self.at].iter().collect())
    }

    /// The value after `key=`: a list, a structure, or a string; bare strings followed by
    /// `,other` (not `,key=`) make a list.
    fn value(&mut self, close: Option<char>) -> Result<Value, ShorthandError> {
        self.skip_space();
        match self.peek() {
            Some('[') => {
                self.open()?;
                self.list()
            }
            Some('{') => {
                self.open()?;
                let v = self.keyvals(Some('}'))?;
                self.expect('}')?;
                self.depth -= 1;
                Ok(v)
            }
            _ => {
                let first = self.scalar(close)?;
                let mut more = Vec::new();
                while self.peek() == Some(',') && !self.keyval_follows() {
                    self.at += 1;
                    more.push(Value::String(self.scalar(close)?));
                }
                if more.is_empty() {
                    Ok(Value::String(first))
                } else {
                    more.insert(0, Value::String(first));
                    Ok(Value::Array(more))
                }
            }
        }
    }

    /// Whether `,key=` comes next (a new pair, not another bare value).
    fn keyval_follows(&self) -> bool {
        let mut i = self.at + 1;
        while self.chars.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        let start = i;
        while self.chars.get(i).is_some_and(|c| c.is_alphanumeric() || "-_.#/:".contains(*c)) {
            i += 1;
        }
        i > start && self.chars.get(i) == Some(&'=')
    }

    /// `[a, {k=v}, [..]]`, after the `[`.
    fn list(&mut self) -> Result<Value, ShorthandError> {
        let mut items = Vec::new();
        loop {
            self.skip_space();
            match self.peek() {
                Some(']') if items.is_empty() => {
                    self.at += 1;
                    self.depth -= 1;
                    return Ok(Value::Array(items));
                }
                Some('[') => {
                    self.open()?;
                    items.push(self.list()?);
                }
                Some('{') => {
                    self.open()?;
                    items.push(self.keyvals(Some('}'))?);
                    self.expect('}')?;
                    self.depth -= 1;
                }
                None => return Err(self.error("expected ']', found the end")),
                _ => items.push(Value::String(self.scalar(Some(']'))?)),
            }
            self.skip_space();
            match self.peek() {
                Some(',') => self.at += 1,
                Some(']') => {
                    self.at += 1;
                    self.depth -= 1;
                    return Ok(Value::Array(items));
                }
                Some(c) => return Err(self.error(format!("expected ',' or ']', found {c:?}"))),
                None => return Err(self.error("expected ']', found the end")),
            }
        }
    }

    /// A string: quoted (`'..'`, `".."`, `\` escapes the next character), or bare up to a
    /// `,`, the closing bracket, or the end, trimmed.
    fn scalar(&mut self, close: Option<char>) -> Result<String, ShorthandError> {
        self.skip_space();
        if let Some(q @ ('\'' | '"')) = self.peek() {
            let open = self.at;
            self.at += 1;
            let mut s = String::new();
            loop {
                match self.peek() {
                    None => {
                        self.at = open;
                        return Err(self.error(format!("the quote {q:?} is never closed")));
                    }
                    Some('\\') if self.chars.get(self.at + 1).is_some() => {
                        s.push(self.chars[self.at + 1]);
                        self.at += 2;
                    }
                    Some(c) if c == q => {
                        self.at += 1;
                        return Ok(s);
                    }
                    Some(c) => {
                        s.push(c);
                        self.at += 1;
                    }
                }
            }
        }
        let start = self.at;
        while let Some(c) = self.peek() {
            if c == ',' || Some(c) == close || matches!(c, '[' | ']' | '{' | '}') {
                break;
            }
            self.at += 1;
        }
        if let Some(c @ ('[' | '{')) = self.peek() {
            return Err(self.error(format!("unexpected {c:?} inside a value (quote the value)")));
        }
        Ok(self.chars[start..self.at].iter().collect::<String>().trim().to_owned())
    }
}

/// `--tagging` as S3 takes it: `{"TagSet": [{"Key": .., "Value": ..}, ...]}`.
pub(super) fn tags(flag: &str, v: &Value) -> Result<Vec<(String, String)>, Failure> {
    let bad = |m: String| Failure::input(anyhow!("{flag}: {m}"));
    let obj = v.as_object().ok_or_else(|| bad("expected a structure with TagSet".to_owned()))?;
    if let Some(k) = obj.keys().find(|k| *k != "TagSet") {
        return Err(bad(format!("unknown key {k:?} (expected TagSet)")));
    }
    let set = obj.get("TagSet").ok_or_else(|| bad("TagSet is missing".to_owned()))?;
    let set = set.as_array().ok_or_else(|| bad("TagSet is not a list".to_owned()))?;
    let mut tags = Vec::with_capacity(set.len());
    for (i, tag) in set.iter().enumerate() {
        let n = i + 1;
        let tag = tag.as_object().ok_or_else(|| bad(format!("tag {n} is not a structure {{Key=..,Value=..}}")))?;
        if let Some(k) = tag.keys().find(|k| *k != "Key" && *k != "Value") {
            return Err(bad(format!("tag {n}: unknown key {k:?} (expected Key and Value)")));
        }
        let field = |name: &str| match tag.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(bad(format!("tag {n}: {name} is not a string"))),
            None => Err(bad(format!("tag {n}: {name} is missing"))),
        };
        tags.push((field("Key")?, field("Value")?));
    }
    Ok(tags)
}

/// A map of strings (`--metadata key1=value1,key2=value2`, or `{"key1": "value1"}`), in the
/// order given.
pub(super) fn string_map(flag: &str, v: &Value) -> Result<Vec<(String, String)>, Failure> {
    let bad = |m: String| Failure::input(anyhow!("{flag}: {m}"));
    let obj = v.as_object().ok_or_else(|| bad("expected KEY=VALUE,... or a JSON object".to_owned()))?;
    obj.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Number(n) => Ok((k.clone(), n.to_string())),
            _ => Err(bad(format!("the value of {k:?} is not a string"))),
        })
        .collect()
}

/// `--versioning-configuration`: `{"Status": "Enabled"|"Suspended", "MFADelete": ...}`.
pub(super) fn versioning(flag: &str, v: &Value) -> Result<cirrus::s3::VersioningConfiguration, Failure> {
    let bad = |m: String| Failure::input(anyhow!("{flag}: {m}"));
    let obj = v.as_object().ok_or_else(|| bad("expected a structure with Status".to_owned()))?;
    let mut config = cirrus::s3::VersioningConfiguration::default();
    for (k, v) in obj {
        let s = v.as_str().ok_or_else(|| bad(format!("{k} is not a string")))?;
        match (k.as_str(), s) {
            ("Status", "Enabled" | "Suspended") => config.status = Some(s.to_owned()),
            ("Status", _) => return Err(bad(format!("Status is {s:?}, not Enabled or Suspended"))),
            ("MFADelete", "Enabled" | "Disabled") => config.mfa_delete = Some(s.to_owned()),
            ("MFADelete", _) => return Err(bad(format!("MFADelete is {s:?}, not Enabled or Disabled"))),
            _ => return Err(bad(format!("unknown key {k:?} (expected Status or MFADelete)"))),
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_aws_cli_forms() {
        let tagging = parse("TagSet=[{Key=a,Value=1},{Key=b,Value=2}]").unwrap();
        assert_eq!(tagging, json!({"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}));
        assert_eq!(parse("Status=Enabled").unwrap(), json!({"Status": "Enabled"}));
        assert_eq!(
            parse("Status=Suspended, MFADelete=Disabled").unwrap(),
            json!({"Status": "Suspended", "MFADelete": "Disabled"})
        );
        assert_eq!(parse("K=a,b,c,L=d").unwrap(), json!({"K": ["a", "b", "c"], "L": "d"}));
        assert_eq!(parse("TagSet=[]").unwrap(), json!({"TagSet": []}));
        let quoted = parse(r#"TagSet=[{Key="a,b",Value='x]y'},{Key=e,Value=}]"#).unwrap();
        assert_eq!(quoted, json!({"TagSet": [{"Key": "a,b", "Value": "x]y"}, {"Key": "e", "Value": ""}]}));
        assert_eq!(parse(r#"K="say \"hi\"""#).unwrap(), json!({"K": "say \"hi\""}));
    }

    #[test]
    fn bad_shorthand_says_where() {
        for (input, want, at) in [
            ("TagSet=[{Key}]", "expected '='", 13),
            ("TagSet=[{Key=a,Value=1}", "expected ']'", 24),
            ("TagSet=[{Key=a,Value=1]", "expected ',' or '}', found ']'", 23),
            ("Status", "expected '='", 7),
            ("=Enabled", "expected a key", 1),
            ("Status=Enabled}", "expected ',' or the end, found '}'", 15),
            ("K='open", "never closed", 3),
            ("A=1,A=2", "given twice", 5),
            ("K=a{b}", "inside a value", 4),
            ("", "expected a key", 1),
            ("K=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]", "nested deeper than 32", 35),
        ] {
            let e = parse(input).unwrap_err();
            assert!(e.message.contains(want), "{input}: {e}");
            assert_eq!(e.at + 1, at, "{input}: {e}");
            assert!(e.to_string().contains(&format!("at character {at} of")), "{e}");
        }
    }

    #[test]
    fn no_input_of_up_to_five_characters_panics() {
        // Every string of the shorthand's own characters up to five long: an answer or an
        // error pointing inside the input (or just past it), never a panic.
        let alphabet: Vec<char> = "a=,[]{}'\"\\ ".chars().collect();
        let mut words = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> =
                words.iter().flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}"))).collect();
            for w in &longer {
                if let Err(e) = parse(w) {
                    assert!(e.at <= w.chars().count(), "{w:?}: {e}");
                }
            }
            words = longer;
        }
    }

    #[test]
    fn typed_values_are_checked() {
        let bad_tags = [
            json!({"TagSet": [{"Key": "a"}]}),
            json!({"TagSet": [{"Key": "a", "Value": 1}]}),
            json!({"Tags": []}),
            json!({"TagSet": "a"}),
            json!({"TagSet": [{"Key": "a", "Value": "1", "Other": "x"}]}),
        ];
        for v in bad_tags {
            assert!(tags("--tagging", &v).is_err(), "{v}");
        }
        let ok = tags("--tagging", &json!({"TagSet": [{"Key": "a", "Value": "1"}]})).unwrap();
        assert_eq!(ok, [("a".to_owned(), "1".to_owned())]);
        assert!(versioning("--v", &json!({"Status": "On"})).is_err());
        assert!(versioning("--v", &json!({"State": "Enabled"})).is_err());
        assert_eq!(versioning("--v", &json!({"Status": "Enabled"})).unwrap().status.as_deref(), Some("Enabled"));
    }
}
