//! Standard output as the commands write it: through `out!`/`outln!` (or a writer mapped the
//! same way), so that a reader that went away ends the program with 141; and `printable`, for
//! text from outside on the lines a person reads.

use crate::Failure;

/// Writes to standard output and flushes; a closed pipe (told by the error's kind) is exit 141
/// with nothing said, any other failure an error.
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>, newline: bool) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let written = out
        .write_fmt(args)
        .and_then(|()| if newline { out.write_all(b"\n") } else { Ok(()) })
        .and_then(|()| out.flush());
    written.map_err(stdout_error)
}

/// Writes `bytes` to standard output and flushes, as [`write_stdout`] does.
pub(crate) fn write_stdout_bytes(bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).map_err(stdout_error)
}

/// A failed write to standard output: a reader that went away ends the program quietly with
/// 141, as SIGPIPE ends C tools; anything else is an error.
pub(crate) fn stdout_error(e: std::io::Error) -> Failure {
    if is_closed_pipe(&e) {
        Failure::silent(141)
    } else {
        anyhow::anyhow!("cannot write to standard output: {e}").into()
    }
}

/// `value` as the AWS CLI prints a response: JSON indented by four spaces, keys in the order
/// given, non-ASCII characters as they are.
pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let mut text = Vec::new();
    let mut json =
        serde_json::Serializer::with_formatter(&mut text, serde_json::ser::PrettyFormatter::with_indent(b"    "));
    value.serialize(&mut json).map_err(|e| anyhow::anyhow!("cannot write the answer as JSON: {e}"))?;
    text.push(b'\n');
    write_stdout_bytes(&text)
}

/// Whether a write failed because the reader went away.
pub(crate) fn is_closed_pipe(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
}

/// `text` with its control characters written out (`\x1b`, `\r`...), for the lines a person
/// reads: a key holding ESC or CR could otherwise rewrite the screen. JSON output stays exact.
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    use std::fmt::Write;
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One JSON object, its fields in the order given, as one line that a terminal shows as it is:
/// serde_json escapes the control characters below U+0020; the other invisible ones (C1
/// controls such as U+009B, which some terminals take for the start of an escape, bidi
/// overrides, zero-width characters) are written `\uXXXX` here. Outside strings JSON is ASCII,
/// so each such character is inside a string, where the escape means the same character.
pub(crate) fn json_object(fields: &[(&str, serde_json::Value)]) -> String {
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}:{v}", serde_json::Value::from(*k))).collect();
    json_visible(format!("{{{}}}", body.join(",")))
}

/// `value` as one line of JSON that a terminal shows as it is (see [`json_object`]).
pub(crate) fn json_text(value: &serde_json::Value) -> String {
    json_visible(value.to_string())
}

fn json_visible(text: String) -> String {
    use std::fmt::Write;
    if text.is_ascii() {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{u:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters that change how a line reads without showing themselves: control characters,
/// and the invisible format characters a name can hide behind (bidirectional overrides and
/// isolates such as U+202E, which shows `exe.txt` for `txt.exe`; zero-width spaces and joiners;
/// line and paragraph separators; the byte-order mark).
fn hidden(c: char) -> bool {
    c.is_control() || matches!(c as u32, 0x061C | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x2069 | 0xFEFF)
}

#[cfg(test)]
mod tests {
    use super::{hidden, json_object, json_text, printable};
    use serde_json::json;

    #[test]
    fn json_lines_hide_nothing_from_the_terminal() {
        let v = json!({"source": "s3://b/a\u{1b}[2J\u{9b}31m\u{202e}txt.exe\"\n\u{1f600}", "n": 1});
        let text = json_text(&v);
        assert!(text.chars().all(|c| !hidden(c)), "{text}");
        assert!(text.contains("\\u001b") && text.contains("\\u009b") && text.contains("\\u202e"), "{text}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
        assert_eq!(json_text(&json!({"k": "é"})), "{\"k\":\"é\"}");
        let line = json_object(&[("event", "done".into()), ("a\u{202e}", json!(null)), ("n", 2.into())]);
        assert_eq!(line, "{\"event\":\"done\",\"a\\u202e\":null,\"n\":2}");
    }

    #[test]
    fn invisible_characters_are_written_out() {
        assert_eq!(printable("plain/é.txt"), "plain/é.txt");
        assert_eq!(printable("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(printable("invoice\u{202e}txt.exe"), "invoice\\u{202e}txt.exe");
        assert_eq!(printable("a\u{200b}b\u{2066}c\u{feff}"), "a\\u{200b}b\\u{2066}c\\u{feff}");
        assert_eq!(printable("line\u{2028}break"), "line\\u{2028}break");
    }
}
