//! SES: build a MIME message (over `mail-builder`) and send it with SES v2 `SendEmail`.
//!
//! API reference: <https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html>

use crate::config::{Config, ConfigError};
use crate::service::{Protocol, ServiceId, ServiceSpec};
use crate::transport::{Error, Request, ServiceConfig};
use http::Method;
use mail_builder::headers::address::Address;
use mail_builder::headers::raw::Raw;
use mail_builder::MessageBuilder;
use std::fmt;
use std::path::Path;

/// SES v2's endpoint: `email.<region>.amazonaws.com`, `AWS_ENDPOINT_URL_SESV2`.
pub const ID: ServiceId = SPEC.id;
/// SES v2: names, signing name, protocol, endpoint names.
pub const SPEC: ServiceSpec = ServiceSpec {
    name: "SES",
    signing_name: "ses",
    protocol: Protocol::RestJson,
    id: ServiceId { host_prefix: "email", env_suffix: "SESV2" },
};
const NAME: &str = SPEC.name;

/// The largest message SES v2 accepts, after MIME encoding.
pub const MAX_MESSAGE_BYTES: usize = 40 * 1024 * 1024;

/// A mailbox: an address and an optional display name (any Unicode; encoded as RFC 2047).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    /// The display name.
    pub name: Option<String>,
    /// The address.
    pub address: String,
}

impl Mailbox {
    /// A mailbox with a display name.
    pub fn new(name: impl Into<String>, address: impl Into<String>) -> Self {
        Mailbox { name: Some(name.into()), address: address.into() }
    }

    /// Reads `Name <addr@example.com>` or `addr@example.com`.
    pub fn parse(s: &str) -> Result<Mailbox, crate::transport::ParseError> {
        let s = s.trim();
        let (name, address) = match (s.rfind('<'), s.ends_with('>')) {
            (Some(lt), true) => {
                let name = s[..lt].trim().trim_matches('"').trim();
                (Some(name).filter(|n| !n.is_empty()).map(str::to_owned), &s[lt + 1..s.len() - 1])
            }
            _ => (None, s),
        };
        let address = address.trim();
        let valid = address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.is_empty()
                && !address.chars().any(|c| c.is_whitespace() || "<>,;\"".contains(c))
        });
        if !valid {
            return Err(crate::transport::ParseError::new(
                "an email address",
                format!("{s:?}: expected addr@example.com or Name <addr@example.com>"),
            ));
        }
        Ok(Mailbox { name, address: address.to_owned() })
    }

    fn to_address(&self) -> Address<'_> {
        Address::new_address(self.name.as_deref(), self.address.as_str())
    }
}

impl From<&str> for Mailbox {
    /// A bare address, no display name (use [`Mailbox::parse`] for `Name <addr>`).
    fn from(address: &str) -> Self {
        Mailbox { name: None, address: address.to_owned() }
    }
}

/// A file carried by the message: an attachment, or an inline part an HTML body shows by
/// `cid:`.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name shown to the reader.
    pub filename: String,
    /// The MIME type.
    pub content_type: String,
    /// The bytes.
    pub data: Vec<u8>,
    /// For an inline part, its content id (without `<>`).
    pub content_id: Option<String>,
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("bytes", &self.data.len())
            .field("content_id", &self.content_id)
            .finish()
    }
}

/// An email to send. Recipients in `bcc` get the message but appear in no header.
///
/// ```
/// use cirrus::ses::{Email, Mailbox};
///
/// let email = Email::new(Mailbox::new("Shop", "orders@example.com"), "Your order #1042")
///     .to("alice@example.net")
///     .bcc("archive@example.com")
///     .text("Thanks! Your order ships today.")
///     .html("<p>Thanks! Your order <b>ships today</b>.</p>")
///     .attach("invoice.pdf", b"%PDF-1.7 ...".to_vec())
///     .unsubscribe("https://example.com/unsubscribe?u=42");
/// let mime = String::from_utf8(email.to_mime()?)?;
/// assert!(mime.contains("Your order #1042"));
/// assert!(!mime.contains("archive@example.com")); // blind copies are in no header
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Email {
    /// The sender.
    pub from: Option<Mailbox>,
    /// `To`.
    pub to: Vec<Mailbox>,
    /// `Cc`.
    pub cc: Vec<Mailbox>,
    /// Blind copies: delivered, never in the headers.
    pub bcc: Vec<Mailbox>,
    /// `Reply-To`.
    pub reply_to: Vec<Mailbox>,
    /// The subject (any Unicode).
    pub subject: String,
    /// The plain text body.
    pub text: Option<String>,
    /// The HTML body (sent with the text one as multipart/alternative).
    pub html: Option<String>,
    /// Attachments and inline parts.
    pub attachments: Vec<Attachment>,
    /// The one-click unsubscribe URL (RFC 8058): `List-Unsubscribe` and
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
    pub unsubscribe: Option<String>,
    /// Other headers, as given.
    pub headers: Vec<(String, String)>,
}

impl Email {
    /// An email from `from` with this subject.
    pub fn new(from: impl Into<Mailbox>, subject: impl Into<String>) -> Self {
        Email { from: Some(from.into()), subject: subject.into(), ..Email::default() }
    }

    /// Adds a `To` recipient.
    #[must_use]
    pub fn to(mut self, m: impl Into<Mailbox>) -> Self {
        self.to.push(m.into());
        self
    }

    /// Adds a `Cc` recipient.
    #[must_use]
    pub fn cc(mut self, m: impl Into<Mailbox>) -> Self {
        self.cc.push(m.into());
        self
    }

    /// Adds a blind copy recipient.
    #[must_use]
    pub fn bcc(mut self, m: impl Into<Mailbox>) -> Self {
        self.bcc.push(m.into());
        self
    }

    /// Adds a `Reply-To` address.
    #[must_use]
    pub fn reply_to(mut self, m: impl Into<Mailbox>) -> Self {
        self.reply_to.push(m.into());
        self
    }

    /// Sets the plain text body.
    #[must_use]
    pub fn text(mut self, body: impl Into<String>) -> Self {
        self.text = Some(body.into());
        self
    }

    /// Sets the HTML body.
    #[must_use]
    pub fn html(mut self, body: impl Into<String>) -> Self {
        self.html = Some(body.into());
        self
    }

    /// Attaches bytes; the content type is guessed from the file name.
    #[must_use]
    pub fn attach(mut self, filename: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        let filename = filename.into();
        let content_type = content_type_for(&filename);
        self.attachments.push(Attachment { filename, content_type, data: data.into(), content_id: None });
        self
    }

    /// Attaches a file, named by its file name. A file larger than a message may be
    /// ([`MAX_MESSAGE_BYTES`]) is refused from its size, before it is read.
    pub fn attach_file(self, path: &Path) -> std::io::Result<Self> {
        use std::io::Read;
        let file = crate::fs::open_file(path)?;
        let too_big = |n: u64| {
            std::io::Error::other(format!("{n} bytes; a message carries at most {MAX_MESSAGE_BYTES} bytes (40 MB)"))
        };
        let size = file.metadata()?.len();
        if size > MAX_MESSAGE_BYTES as u64 {
            return Err(too_big(size));
        }
        // Read at most one byte past the limit: a file that grows meanwhile is caught too.
        let mut data = Vec::with_capacity(size as usize);
        file.take(MAX_MESSAGE_BYTES as u64 + 1).read_to_end(&mut data)?;
        if data.len() > MAX_MESSAGE_BYTES {
            return Err(too_big(data.len() as u64));
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "attachment".into());
        Ok(self.attach(name, data))
    }

    /// Adds an inline part that the HTML body shows as `<img src="cid:CONTENT_ID">`.
    #[must_use]
    pub fn inline(
        mut self,
        content_id: impl Into<String>,
        filename: impl Into<String>,
        data: impl Into<Vec<u8>>,
    ) -> Self {
        let filename = filename.into();
        let content_type = content_type_for(&filename);
        self.attachments.push(Attachment {
            filename,
            content_type,
            data: data.into(),
            content_id: Some(content_id.into()),
        });
        self
    }

    /// Sets the one-click unsubscribe URL (RFC 8058).
    #[must_use]
    pub fn unsubscribe(mut self, url: impl Into<String>) -> Self {
        self.unsubscribe = Some(url.into());
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The message as MIME, without the blind copies: what SES sends. A message that cannot be
    /// sent (no sender, body or recipient; a line break in a header) is an input error.
    pub fn to_mime(&self) -> Result<Vec<u8>, Error> {
        self.mime().map_err(|m| Error::input(NAME, "SendEmail", m))
    }

    fn mime(&self) -> Result<Vec<u8>, String> {
        let from = self.from.as_ref().ok_or("the message has no sender (from)")?;
        if self.to.is_empty() && self.cc.is_empty() && self.bcc.is_empty() {
            return Err("the message has no recipient (to, cc or bcc)".to_owned());
        }
        if self.text.is_none() && self.html.is_none() {
            return Err("the message has no body (text or html)".to_owned());
        }
        for m in [from].into_iter().chain(&self.to).chain(&self.cc).chain(&self.bcc).chain(&self.reply_to) {
            Mailbox::parse(&m.address)?;
            if m.name.as_deref().is_some_and(has_line_break) {
                return Err(format!("the display name of {} holds a line break", m.address));
            }
        }
        if has_line_break(&self.subject) {
            return Err("the subject holds a line break".to_owned());
        }
        fn list(ms: &[Mailbox]) -> Address<'_> {
            Address::new_list(ms.iter().map(Mailbox::to_address).collect())
        }
        let mut b = MessageBuilder::new().from(from.to_address()).subject(self.subject.as_str());
        if !self.to.is_empty() {
            b = b.to(list(&self.to));
        }
        if !self.cc.is_empty() {
            b = b.cc(list(&self.cc));
        }
        if !self.reply_to.is_empty() {
            b = b.reply_to(list(&self.reply_to));
        }
        if let Some(url) = &self.unsubscribe {
            if has_line_break(url) || url.contains(['<', '>']) {
                return Err(format!("{url:?} cannot be an unsubscribe URL"));
            }
            b = b
                .header("List-Unsubscribe", Raw::new(format!("<{url}>")))
                .header("List-Unsubscribe-Post", Raw::new("List-Unsubscribe=One-Click"));
        }
        for (name, value) in &self.headers {
            let name_ok = !name.is_empty() && name.bytes().all(|c| c.is_ascii_graphic() && c != b':');
            if !name_ok {
                return Err(format!("{name:?} is not a header name"));
            }
            if has_line_break(value) {
                return Err(format!("the {name} header holds a line break"));
            }
            if name.eq_ignore_ascii_case("bcc") {
                return Err("Bcc is not a header here: add the address with bcc()".to_owned());
            }
            b = b.header(name.as_str(), Raw::new(value.as_str()));
        }
        if let Some(t) = &self.text {
            b = b.text_body(t.as_str());
        }
        if let Some(h) = &self.html {
            b = b.html_body(h.as_str());
        }
        for a in &self.attachments {
            let bad_cid = |c: &str| {
                c.is_empty() || c.chars().any(|ch| ch.is_whitespace() || ch.is_control() || "<>".contains(ch))
            };
            if let Some(cid) = a.content_id.as_deref().filter(|c| bad_cid(c)) {
                return Err(format!("{cid:?} is not a content id (no spaces, line breaks or angle brackets)"));
            }
            b = match &a.content_id {
                Some(cid) => b.inline(a.content_type.as_str(), cid.as_str(), a.data.as_slice()),
                None => b.attachment(a.content_type.as_str(), a.filename.as_str(), a.data.as_slice()),
            };
        }
        b.write_to_vec().map_err(|e| format!("cannot write the message: {e}"))
    }
}

/// The type [`crate::content_type::guess`] gives, `application/octet-stream` otherwise.
fn content_type_for(filename: &str) -> String {
    crate::content_type::guess(filename).unwrap_or("application/octet-stream").to_owned()
}

fn has_line_break(s: &str) -> bool {
    s.contains(['\r', '\n'])
}

/// How to send: the configuration set and the message tags SES reports events with.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct SendOptions {
    /// `ConfigurationSetName`.
    pub configuration_set: Option<String>,
    /// `EmailTags`, as name and value.
    pub tags: Vec<(String, String)>,
}

impl SendOptions {
    /// Options with this configuration set.
    pub fn configuration_set(name: impl Into<String>) -> Self {
        SendOptions { configuration_set: Some(name.into()), ..SendOptions::default() }
    }

    /// These options with one more tag.
    #[must_use]
    pub fn with_tag(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((name.into(), value.into()));
        self
    }
}

/// The SES v2 client.
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// use cirrus::ses::{Email, SendOptions, SesClient};
/// use cirrus::Config;
///
/// let ses = SesClient::new(&Config::from_env()?)?;
/// let email = Email::new("orders@example.com", "Your receipt")
///     .to("alice@example.net")
///     .text("Thanks for your order.");
/// let options = SendOptions::configuration_set("transactional").with_tag("kind", "receipt");
/// let message_id = ses.send(&email, &options).await?;
/// println!("sent {message_id}");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct SesClient {
    svc: ServiceConfig,
}

impl SesClient {
    /// A client for `config`'s region, endpoint and credentials.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        Ok(SesClient { svc: config.service(SPEC, config.credentials().cloned())? })
    }

    /// A client over a service config built elsewhere.
    pub fn from_service(svc: ServiceConfig) -> Self {
        SesClient { svc }
    }

    /// CreateEmailIdentity: starts verifying an address or a domain as a sender.
    pub async fn create_email_identity(&self, identity: &str) -> Result<(), Error> {
        const OP: &str = "CreateEmailIdentity";
        let url = format!("{}/v2/email/identities", self.svc.endpoint().trim_end_matches('/'));
        let body = serde_json::to_vec(&serde_json::json!({ "EmailIdentity": identity }))
            .map_err(|e| Error::input(NAME, OP, e.to_string()))?;
        let req = Request::new(Method::POST, url, body).header("content-type", "application/json");
        self.svc.send(OP, req).await?;
        Ok(())
    }

    /// Sends the message (SendEmail with raw content) to every recipient, blind copies
    /// included; returns SES's message id. A message over 40 MB is refused before sending.
    pub async fn send(&self, email: &Email, options: &SendOptions) -> Result<String, Error> {
        const OP: &str = "SendEmail";
        let mime = email.mime().map_err(|e| Error::input(NAME, OP, e))?;
        let body = send_email_body(email, &mime, options).map_err(|e| Error::input(NAME, OP, e))?;
        let url = format!("{}/v2/email/outbound-emails", self.svc.endpoint().trim_end_matches('/'));
        let req = Request::new(Method::POST, url, body).header("content-type", "application/json");
        let r = self.svc.send(OP, req).await?;
        let v: serde_json::Value =
            serde_json::from_slice(&r.body).map_err(|e| Error::response(NAME, OP, format!("not JSON: {e}")))?;
        v.get("MessageId")
            .and_then(|m| m.as_str())
            .map(str::to_owned)
            .ok_or_else(|| Error::response(NAME, OP, "no MessageId in the answer"))
    }
}

/// The SendEmail request: every recipient in `Destination` (that is how bcc is delivered),
/// the MIME in `Content.Raw.Data`.
fn send_email_body(email: &Email, mime: &[u8], options: &SendOptions) -> Result<Vec<u8>, String> {
    if mime.len() > MAX_MESSAGE_BYTES {
        return Err(format!(
            "the message is {:.1} MB once encoded; SES accepts at most 40 MB",
            mime.len() as f64 / 1_048_576.0
        ));
    }
    let addresses = |ms: &[Mailbox]| ms.iter().map(|m| m.address.clone()).collect::<Vec<_>>();
    let mut req = serde_json::json!({
        "FromEmailAddress": email.from.as_ref().map(|m| m.address.clone()),
        "Destination": {
            "ToAddresses": addresses(&email.to),
            "CcAddresses": addresses(&email.cc),
            "BccAddresses": addresses(&email.bcc),
        },
        "Content": { "Raw": { "Data": cirrus_sigv4::base64(mime) } },
    });
    if let Some(set) = &options.configuration_set {
        req["ConfigurationSetName"] = set.clone().into();
    }
    if !options.tags.is_empty() {
        req["EmailTags"] =
            options.tags.iter().map(|(n, v)| serde_json::json!({ "Name": n, "Value": v })).collect::<Vec<_>>().into();
    }
    serde_json::to_vec(&req).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Email {
        Email::new(Mailbox::new("Zoë Sender", "zoe@example.com"), "Grüße ✓")
            .to(Mailbox::new("Ann", "ann@example.com"))
            .cc("cc@example.com")
            .bcc("hidden@example.com")
            .text("plain")
            .html("<p>rich</p>")
            .attach("report.csv", b"a,b\n1,2\n".to_vec())
            .unsubscribe("https://example.com/u?id=1")
    }

    #[test]
    fn attachment_names_and_content_ids_cannot_add_headers() {
        // A file name is encoded (RFC 2231), whatever it holds.
        let e = sample().attach("a\r\nBcc: evil@example.com\r\nX-A: \".txt", b"x".to_vec()).inline(
            "logo",
            "i\r\nBcc: evil3@example.com.png",
            b"y".to_vec(),
        );
        let mime = String::from_utf8(e.to_mime().unwrap()).unwrap();
        assert!(!mime.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "{mime}");
        // A content id is written as it is: one that could end the header is refused.
        for cid in ["c>\r\nBcc: evil2@example.com", "a\nb", "<c>", "", "two words"] {
            let e = sample().inline(cid, "i.png", b"y".to_vec());
            let err = e.to_mime().unwrap_err().to_string();
            assert!(err.contains("content id"), "{cid:?}: {err}");
        }
    }

    #[test]
    fn bcc_is_delivered_but_never_a_header() {
        let e = sample();
        let mime = String::from_utf8(e.to_mime().unwrap()).unwrap();
        // No Bcc header (the random Message-ID and boundaries may hold the letters "bcc").
        assert!(!mime.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "{mime}");
        assert!(!mime.contains("hidden@example.com"), "{mime}");
        let body = send_email_body(&e, mime.as_bytes(), &SendOptions::default()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["Destination"]["BccAddresses"][0], "hidden@example.com");
        assert_eq!(v["Destination"]["ToAddresses"][0], "ann@example.com");
        assert!(v.get("ConfigurationSetName").is_none());
    }

    #[test]
    fn headers_are_encoded_and_unsubscribe_is_one_click() {
        let mime = String::from_utf8(sample().to_mime().unwrap()).unwrap();
        assert!(mime.contains("List-Unsubscribe: <https://example.com/u?id=1>\r\n"), "{mime}");
        assert!(mime.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), "{mime}");
        assert!(mime.contains("=?utf-8?"), "non-ASCII not encoded: {mime}");
        assert!(mime.contains("multipart/alternative"), "{mime}");
        assert!(mime.is_ascii());
    }

    #[test]
    fn configuration_set_and_tags_go_in_the_request() {
        let e = sample();
        let opts = SendOptions::configuration_set("marketing").with_tag("campaign", "nov");
        let body = send_email_body(&e, b"x", &opts).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["ConfigurationSetName"], "marketing");
        assert_eq!(v["EmailTags"][0]["Name"], "campaign");
        assert_eq!(v["EmailTags"][0]["Value"], "nov");
    }

    #[test]
    fn bad_messages_are_refused_with_a_reason() {
        let no_body = Email::new("a@example.com", "s").to("b@example.com");
        assert!(no_body.to_mime().unwrap_err().to_string().contains("no body"));
        let nobody = Email::new("a@example.com", "s").text("t");
        assert!(nobody.to_mime().unwrap_err().to_string().contains("no recipient"));
        let injected = sample().header("X-Note", "a\r\nBcc: evil@example.com");
        assert!(injected.to_mime().unwrap_err().to_string().contains("line break"));
        let subject = Email::new("a@example.com", "hi\nBcc: x@example.com").to("b@example.com").text("t");
        assert!(subject.to_mime().unwrap_err().to_string().contains("subject"));
        let bad = Email::new("not-an-address", "s").to("b@example.com").text("t");
        assert!(bad.to_mime().unwrap_err().to_string().contains("email address"));
        let big = vec![0u8; MAX_MESSAGE_BYTES + 1];
        assert!(send_email_body(&sample(), &big, &SendOptions::default()).unwrap_err().contains("40 MB"));
    }

    #[test]
    fn mailboxes_parse() {
        assert_eq!(Mailbox::parse("Ann Lee <ann@example.com>").unwrap(), Mailbox::new("Ann Lee", "ann@example.com"));
        assert_eq!(Mailbox::parse("\"Ann\" <ann@example.com>").unwrap().name.as_deref(), Some("Ann"));
        assert_eq!(Mailbox::parse("ann@example.com").unwrap().name, None);
        assert!(Mailbox::parse("Ann <ann>").is_err());
        assert!(Mailbox::parse("a b@example.com").is_err());
    }
}
