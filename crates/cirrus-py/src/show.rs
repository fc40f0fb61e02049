//! Values as Python's `repr()` shows them.

/// A str or None as Python's `repr()` shows it (quotes and backslashes escaped).
pub(crate) fn py_str(s: Option<&str>) -> String {
    match s {
        Some(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        None => "None".to_owned(),
    }
}
