//! A small element tree over quick-xml for AWS responses: no DTDs, no entity expansion beyond the
//! five predefined ones, a depth limit, and errors that say where the document broke.

use quick_xml::events::{BytesRef, Event};
use quick_xml::Reader;

/// Deeper documents are refused: no AWS response comes near.
pub(crate) const MAX_DEPTH: usize = 64;

/// One element: its local name (namespace prefix dropped), its text, its children.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    /// The local name.
    pub name: String,
    /// The text directly inside, unescaped.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The element at this path of child names.
    pub fn path(&self, path: &[&str]) -> Option<&Element> {
        path.iter().try_fold(self, |e, name| e.child(name))
    }

    /// The text of the first child named `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Appends what the entity or character reference `r` stands for: the five predefined
/// entities and `&#...;` only, anything else is an error (no DTD, so no other entity exists).
pub(crate) fn push_reference(out: &mut String, r: &BytesRef<'_>, at: u64) -> Result<(), String> {
    let name = r.decode().map_err(|e| format!("bad reference at byte {at}: {e}"))?;
    match &*name {
        "lt" => out.push('<'),
        "gt" => out.push('>'),
        "amp" => out.push('&'),
        "apos" => out.push('\''),
        "quot" => out.push('"'),
        n if n.starts_with('#') => {
            let c = r
                .resolve_char_ref()
                .ok()
                .flatten()
                .ok_or_else(|| format!("bad character reference &{n}; at byte {at}"))?;
            out.push(c);
        }
        n => return Err(format!("unknown entity &{n}; at byte {at}")),
    }
    Ok(())
}

/// Parses a whole document into its root element.
pub fn parse(body: &[u8]) -> Result<Element, super::ParseError> {
    parse_document(body).map_err(|e| match e {
        Bad::Syntax(at, cause) => super::ParseError::with_source("XML", format!("malformed at byte {at}"), cause),
        Bad::Other(m) => super::ParseError::new("XML", m),
    })
}

/// Why a document was refused: quick-xml's syntax error (kept as the cause), or a rule of ours.
enum Bad {
    Syntax(u64, quick_xml::Error),
    Other(String),
}

impl From<String> for Bad {
    fn from(m: String) -> Self {
        Bad::Other(m)
    }
}

fn parse_document(body: &[u8]) -> Result<Element, Bad> {
    let mut reader = Reader::from_reader(body);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|e| Bad::Syntax(at, e))?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err(format!("content after the root element at byte {at}").into());
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("XML nested deeper than {MAX_DEPTH} levels at byte {at}").into());
                }
                stack.push(Element { name: local_name(start.local_name().as_ref()), ..Element::default() });
            }
            Event::Empty(start) => {
                let e = Element { name: local_name(start.local_name().as_ref()), ..Element::default() };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(e),
                    None if root.is_none() => root = Some(e),
                    None => return Err(format!("content after the root element at byte {at}").into()),
                }
            }
            Event::End(_) => {
                let mut done = stack.pop().ok_or_else(|| format!("unbalanced end tag at byte {at}"))?;
                // Text is kept exactly (S3 keys may end in spaces), except the indentation
                // between child elements.
                if !done.children.is_empty() && done.text.trim().is_empty() {
                    done.text.clear();
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                // References come as their own events: text holds none to unescape.
                let text = t.decode().map_err(|e| format!("bad text at byte {at}: {e}"))?;
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&text);
                }
            }
            Event::CData(t) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(cur) = stack.last_mut() {
                    push_reference(&mut cur.text, &r, at)?;
                }
            }
            Event::DocType(_) => return Err(format!("DOCTYPE not allowed at byte {at}").into()),
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("document ended inside an element".to_owned().into());
    }
    root.ok_or_else(|| Bad::Other("no root element".to_owned()))
}

fn local_name(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_text() {
        let doc = br#"<?xml version="1.0"?><A xmlns="x"><B><C>1 &amp; 2</C><C>&#65;</C></B><D/></A>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "A");
        assert_eq!(root.path(&["B", "C"]).unwrap().text, "1 & 2");
        assert_eq!(root.child("B").unwrap().children_named("C").nth(1).unwrap().text, "A");
        assert!(root.child("D").is_some());
        let spaced = parse(b"<A>\n  <K> key with spaces </K>\n</A>").unwrap();
        assert_eq!((spaced.text.as_str(), spaced.text_of("K")), ("", Some(" key with spaces ")));
    }

    #[test]
    fn refuses_hostile_documents() {
        let laughs = br#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><r>&a;</r>"#;
        assert!(parse(laughs).unwrap_err().to_string().contains("DOCTYPE"));
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(parse(deep.as_bytes()).unwrap_err().to_string().contains("deeper"));
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(b"<a>").unwrap_err().to_string().contains("ended inside"));
        assert!(parse(b"").is_err());
        assert!(parse(b"<a>&bogus;</a>").unwrap_err().to_string().contains("bogus"));
    }
}
