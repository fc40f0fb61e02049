//! A raw HTTP/1.1 request in the format of the AWS SigV4 test suite's `.req` files.
//!
//! - A request line `METHOD TARGET HTTP/1.1`: the method is the first word, the version the last,
//!   and the target everything between (it may contain spaces).
//! - Header lines `Name:value`; a line starting with a space or tab continues the previous
//!   header's value (joined with one space).
//! - An empty line, then the body to the end of the input, byte for byte.
//!
//! Lines may end in `\n` or `\r\n`. A `Host` header is required. The parser never panics: every
//! malformed input is a [`ParseError`] that names the line.

use std::fmt;

/// A parsed raw request. Header names keep their case; values are as written, minus the
/// whitespace right after the colon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRequest {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The request target as written (path and query, or an absolute URI).
    pub target: String,
    /// The protocol version as written, e.g. `HTTP/1.1`.
    pub version: String,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// The body: everything after the empty line.
    pub body: Vec<u8>,
}

/// Why a raw request could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    line: usize,
    message: String,
}

impl ParseError {
    fn at(line: usize, message: impl Into<String>) -> Self {
        ParseError { line, message: message.into() }
    }

    /// The 1-based line the error is on (0 when it is about the request as a whole).
    pub fn line(&self) -> usize {
        self.line
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

impl RawRequest {
    /// Parses `input`. See the [module docs](self) for the format.
    pub fn parse(input: &[u8]) -> Result<RawRequest, ParseError> {
        let (head, body_start) = head_lines(input)?;
        let Some(&(first_no, first)) = head.first() else {
            return Err(ParseError::at(0, "empty input: expected a request line `METHOD TARGET HTTP/1.1`"));
        };
        let (method, target, version) = request_line(first_no, first)?;
        let headers = header_lines(&head[1..])?;
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            return Err(ParseError::at(0, "missing Host header"));
        }
        Ok(RawRequest {
            method: method.to_owned(),
            target: target.to_owned(),
            version: version.to_owned(),
            headers,
            body: input[body_start..].to_vec(),
        })
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A line of the head and its number (from 1).
type Line<'a> = (usize, &'a [u8]);

/// The lines before the first empty one, numbered from 1 (`\r\n` or `\n`), and where the
/// body starts.
fn head_lines(input: &[u8]) -> Result<(Vec<Line<'_>>, usize), ParseError> {
    let mut pos = 0;
    let mut line_no = 0;
    let mut head: Vec<Line<'_>> = Vec::new();
    while pos < input.len() {
        let end = input[pos..].iter().position(|&b| b == b'\n').map(|i| pos + i);
        let (raw, next) = match end {
            Some(e) => (&input[pos..e], e + 1),
            None => (&input[pos..], input.len()),
        };
        line_no += 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.is_empty() {
            if head.is_empty() {
                return Err(ParseError::at(line_no, "expected a request line, found an empty line"));
            }
            return Ok((head, next));
        }
        head.push((line_no, line));
        pos = next;
    }
    Ok((head, input.len()))
}

/// `METHOD TARGET HTTP/x`, each part checked.
fn request_line(no: usize, line: &[u8]) -> Result<(&str, &str, &str), ParseError> {
    let line = std::str::from_utf8(line).map_err(|_| ParseError::at(no, "request line is not UTF-8"))?;
    let shape = || ParseError::at(no, "request line must be `METHOD TARGET HTTP/1.1`");
    let (method, rest) = line.split_once(' ').ok_or_else(shape)?;
    let (target, version) = rest.rsplit_once(' ').ok_or_else(shape)?;
    if method.is_empty() || !method.bytes().all(crate::request::is_tchar) {
        return Err(ParseError::at(no, format!("invalid method {method:?}")));
    }
    if target.is_empty() || target.bytes().any(|b| b.is_ascii_control()) {
        return Err(ParseError::at(no, format!("invalid request target {target:?}")));
    }
    if !version.starts_with("HTTP/") {
        return Err(ParseError::at(no, format!("expected an HTTP version at the end, found {version:?}")));
    }
    Ok((method, target, version))
}

/// `Name: value` lines, a line that starts with a space or tab continuing the one before.
fn header_lines(lines: &[Line<'_>]) -> Result<Vec<(String, String)>, ParseError> {
    let controls = |v: &str| v.bytes().any(|b| b == 0 || (b.is_ascii_control() && b != b'\t'));
    let mut headers: Vec<(String, String)> = Vec::new();
    for &(no, line) in lines {
        let line = std::str::from_utf8(line).map_err(|_| ParseError::at(no, "header line is not UTF-8"))?;
        if line.starts_with([' ', '\t']) {
            let Some(last) = headers.last_mut() else {
                return Err(ParseError::at(no, "continuation line before any header"));
            };
            let more = line.trim_matches([' ', '\t']);
            if controls(more) {
                return Err(ParseError::at(no, "a continuation line has a control character"));
            }
            if !more.is_empty() {
                if !last.1.is_empty() {
                    last.1.push(' ');
                }
                last.1.push_str(more);
            }
            continue;
        }
        let (name, value) =
            line.split_once(':').ok_or_else(|| ParseError::at(no, format!("expected `Name:value`, found {line:?}")))?;
        if name.is_empty() || !name.bytes().all(crate::request::is_tchar) {
            return Err(ParseError::at(no, format!("invalid header name {name:?}")));
        }
        if controls(value) {
            return Err(ParseError::at(no, format!("header {name:?} has a control character in its value")));
        }
        headers.push((name.to_owned(), value.trim_start_matches([' ', '\t']).to_owned()));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets_with_spaces_and_folded_headers() {
        let r =
            RawRequest::parse(b"GET /example space/ HTTP/1.1\r\nHost:h\r\nX-A: one\r\n  two\r\n\r\nbody\n").unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, "/example space/");
        assert_eq!(r.headers, vec![("Host".into(), "h".into()), ("X-A".into(), "one two".into())]);
        assert_eq!(r.body, b"body\n");
    }

    #[test]
    fn no_blank_line_means_no_body() {
        let r = RawRequest::parse(b"GET / HTTP/1.1\nHost:h\n").unwrap();
        assert!(r.body.is_empty());
    }

    #[test]
    fn errors_name_the_line() {
        let cases: [(&[u8], &str); 7] = [
            (b"", "empty input"),
            (b"GET\nHost:h\n", "line 1"),
            (b"GET / FTP\nHost:h\n", "line 1"),
            (b"GET / HTTP/1.1\nX-A: 1\n", "missing Host"),
            (b"GET / HTTP/1.1\nHost:h\nbad\n", "line 3"),
            (b"GET / HTTP/1.1\nHost:h\nX: \xff\n", "line 3: header line is not UTF-8"),
            (b"GET / HTTP/1.1\n folded\nHost:h\n", "line 2"),
        ];
        for (input, want) in cases {
            let e = RawRequest::parse(input).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} should contain {want:?}");
        }
    }
}
