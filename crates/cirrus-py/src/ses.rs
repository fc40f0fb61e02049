//! `SesClient` and `AsyncSesClient`: `send_email` with aioaws's arguments, over
//! `cirrus::ses` (a MIME message built in Rust, sent with SES v2 SendEmail).
//!
//! The arguments are read into plain Rust values while the GIL is held; files named by an
//! attachment are read on the runtime, with the rest of the work.

use crate::config::{PerProcess, PyConfig};
use crate::errors::Failure;
use crate::s3::{awaitable, blocking};
use cirrus::ses::{Email, Mailbox, SendOptions, SesClient};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyMemoryView};
use std::path::PathBuf;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySesClient>()?;
    m.add_class::<AsyncSesClient>()?;
    Ok(())
}

/// An argument refused before anything was sent: `ParamValidationError` (a ValueError).
fn invalid(message: impl Into<String>) -> PyErr {
    Python::attach(|py| Failure::Input(message.into()).into_py_err(py))
}

/// The config, and the Rust client made from it once per process.
struct Shared {
    config: Py<PyConfig>,
    client: PerProcess<SesClient>,
}

impl Shared {
    fn new(py: Python<'_>, config: Option<Py<PyConfig>>) -> PyResult<Self> {
        let config = match config {
            Some(c) => c,
            None => py.import("cirrus_aws")?.getattr("Config")?.call0()?.extract()?,
        };
        let shared = Shared { config, client: PerProcess::default() };
        shared.client(py)?;
        Ok(shared)
    }

    fn client(&self, py: Python<'_>) -> PyResult<SesClient> {
        self.client.get_or_try(|| Ok(SesClient::new(&self.config.get().load()?)?)).map_err(|f| f.into_py_err(py))
    }
}

/// Where an attachment's bytes come from.
enum Source {
    Bytes(Vec<u8>),
    File(PathBuf),
}

struct Part {
    source: Source,
    name: Option<String>,
    mime_type: Option<String>,
    content_id: Option<String>,
}

/// Everything `send_email` was given, read from Python.
struct Message {
    email: Email,
    parts: Vec<Part>,
    options: SendOptions,
}

/// `key` of a dict, or attribute `key` of anything else (aioaws's `SesAttachment` and
/// `SesRecipient` dataclasses); None when absent or None.
fn field<'py>(value: &Bound<'py, PyAny>, key: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    let found = match value.cast::<PyDict>() {
        Ok(d) => d.get_item(key)?,
        Err(_) => value.getattr(key).ok(),
    };
    Ok(found.filter(|v| !v.is_none()))
}

/// A recipient: `"addr@example.com"`, `"Name <addr@example.com>"`, a `(name, address)` tuple,
/// or an object with `email` (and `first_name`, `last_name`), as aioaws's `SesRecipient`.
fn mailbox(arg: &str, value: &Bound<'_, PyAny>) -> PyResult<Mailbox> {
    let bad = |why: String| invalid(format!("{arg}: {why}"));
    if let Ok(s) = value.extract::<String>() {
        return Mailbox::parse(&s).map_err(|e| bad(e.to_string()));
    }
    if let Ok((name, address)) = value.extract::<(Option<String>, String)>() {
        let m = Mailbox::parse(&address).map_err(|e| bad(e.to_string()))?;
        return Ok(Mailbox { name: name.filter(|n| !n.is_empty()), address: m.address });
    }
    let Some(email) = field(value, "email")? else {
        return Err(bad(format!("{} is not an address, a (name, address) pair or a recipient", value.repr()?)));
    };
    let address = Mailbox::parse(&email.extract::<String>()?).map_err(|e| bad(e.to_string()))?.address;
    let mut names = Vec::new();
    for key in ["first_name", "last_name"] {
        if let Some(n) = field(value, key)? {
            names.push(n.extract::<String>()?);
        }
    }
    let name = Some(names.join(" ")).filter(|n| !n.trim().is_empty());
    Ok(Mailbox { name, address })
}

fn mailboxes(arg: &str, values: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Mailbox>> {
    let Some(values) = values.filter(|v| !v.is_none()) else { return Ok(Vec::new()) };
    if values.extract::<String>().is_ok() {
        // One address alone, not a list of its characters.
        return Ok(vec![mailbox(arg, values)?]);
    }
    values.try_iter()?.map(|v| mailbox(arg, &v?)).collect()
}

/// An attachment: a dict or an object with `file` (bytes, or a path), and optional `name`,
/// `mime_type` and `content_id` (an inline part the HTML shows as `cid:`).
fn part(value: &Bound<'_, PyAny>) -> PyResult<Part> {
    let file = field(value, "file")?.ok_or_else(|| invalid("an attachment needs file= (bytes or a path)"))?;
    let source = if let Ok(b) = file.cast::<PyBytes>() {
        Source::Bytes(b.as_bytes().to_vec())
    } else if let Ok(b) = file.cast::<PyByteArray>() {
        Source::Bytes(b.to_vec())
    } else if let Ok(view) = file.cast::<PyMemoryView>() {
        Source::Bytes(view.call_method0("tobytes")?.extract()?)
    } else if let Ok(path) = file.extract::<PathBuf>() {
        Source::File(path)
    } else {
        return Err(invalid(format!("an attachment's file must be bytes or a path, not {}", file.get_type().name()?)));
    };
    let text = |key: &str| -> PyResult<Option<String>> { field(value, key)?.map(|v| v.extract()).transpose() };
    Ok(Part { source, name: text("name")?, mime_type: text("mime_type")?, content_id: text("content_id")? })
}

/// The arguments of `send_email`, as aioaws names them.
struct Args<'a, 'py> {
    e_from: &'a Bound<'py, PyAny>,
    subject: String,
    to: Option<&'a Bound<'py, PyAny>>,
    text_body: String,
    html_body: Option<String>,
    cc: Option<&'a Bound<'py, PyAny>>,
    bcc: Option<&'a Bound<'py, PyAny>>,
    reply_to: Option<&'a Bound<'py, PyAny>>,
    attachments: Option<&'a Bound<'py, PyAny>>,
    unsubscribe_link: Option<String>,
    configuration_set: Option<String>,
    message_tags: Option<&'a Bound<'py, PyDict>>,
    smtp_headers: Option<&'a Bound<'py, PyDict>>,
}

impl Args<'_, '_> {
    fn read(self) -> PyResult<Message> {
        let mut email = Email::new(mailbox("e_from", self.e_from)?, self.subject);
        email.to = mailboxes("to", self.to)?;
        email.cc = mailboxes("cc", self.cc)?;
        email.bcc = mailboxes("bcc", self.bcc)?;
        email.reply_to = mailboxes("reply_to", self.reply_to)?;
        // aioaws always has a text part; an empty one only when there is no HTML.
        if !self.text_body.is_empty() || self.html_body.is_none() {
            email.text = Some(self.text_body);
        }
        email.html = self.html_body;
        email.unsubscribe = self.unsubscribe_link;
        for (k, v) in self.smtp_headers.into_iter().flat_map(|d| d.iter()) {
            email.headers.push((k.extract()?, v.extract()?));
        }
        let mut options = SendOptions::default();
        options.configuration_set = self.configuration_set;
        for (k, v) in self.message_tags.into_iter().flat_map(|d| d.iter()) {
            // aioaws takes any value and writes it with str().
            options.tags.push((k.extract()?, v.str()?.extract()?));
        }
        let mut parts = Vec::new();
        if let Some(list) = self.attachments.filter(|a| !a.is_none()) {
            for a in list.try_iter()? {
                parts.push(part(&a?)?);
            }
        }
        Ok(Message { email, parts, options })
    }
}

/// Reads the attachments' files, builds the message and sends it: SES's message id.
async fn send(ses: SesClient, m: Message) -> Result<String, Failure> {
    let mut email = m.email;
    for p in m.parts {
        let (name, data) = match p.source {
            Source::Bytes(data) => (p.name.unwrap_or_else(|| "attachment".to_owned()), data),
            Source::File(path) => {
                // attach_file reads at most a message's size (40 MB), whatever the file holds.
                let read = tokio::task::spawn_blocking(move || {
                    let e = Email::default().attach_file(&path);
                    e.map_err(|e| format!("attachment {}: {e}", path.display()))
                })
                .await
                .map_err(|e| Failure::Input(format!("reading an attachment: {e}")))?
                .map_err(Failure::Input)?;
                let Some(a) = read.attachments.into_iter().next() else {
                    return Err(Failure::Input("an attachment could not be read".into()));
                };
                (p.name.unwrap_or(a.filename), a.data)
            }
        };
        email = match p.content_id {
            Some(cid) => email.inline(cid, name, data),
            None => email.attach(name, data),
        };
        if let (Some(t), Some(last)) = (p.mime_type, email.attachments.last_mut()) {
            last.content_type = t;
        }
    }
    Ok(ses.send(&email, &m.options).await?)
}

async fn create_identity(ses: SesClient, identity: String) -> Result<(), Failure> {
    Ok(ses.create_email_identity(&identity).await?)
}

/// SES: send email. Blocking: each call lets go of the GIL while it waits.
#[pyclass(frozen, module = "cirrus_aws", name = "SesClient")]
pub(crate) struct PySesClient(Shared);

/// The same client for asyncio: every method returns an awaitable.
#[pyclass(frozen, module = "cirrus_aws", name = "AsyncSesClient")]
pub(crate) struct AsyncSesClient(Shared);

macro_rules! ses_methods {
    ($client:ident, $run:ident, $out:ty) => {
        #[pymethods]
        impl $client {
            #[new]
            #[pyo3(signature = (config=None))]
            fn new(py: Python<'_>, config: Option<Py<PyConfig>>) -> PyResult<Self> {
                Ok($client(Shared::new(py, config)?))
            }

            /// The Config this client was made from.
            #[getter]
            fn config(&self, py: Python<'_>) -> Py<PyConfig> {
                self.0.config.clone_ref(py)
            }

            /// Sends an email (aioaws's arguments) and returns SES's message id. Recipients
            /// are addresses, `"Name <addr>"`, `(name, addr)` or objects with `.email`; `bcc`
            /// recipients get it but appear in no header. `attachments` are dicts (or objects)
            /// with `file` (bytes or a path) and optional `name`, `mime_type`, `content_id`.
            #[pyo3(signature = (e_from, subject, to=None, text_body="", html_body=None, *, cc=None, bcc=None, reply_to=None, attachments=None, unsubscribe_link=None, configuration_set=None, message_tags=None, smtp_headers=None))]
            #[allow(clippy::too_many_arguments)]
            fn send_email<'py>(
                &self,
                py: Python<'py>,
                e_from: &Bound<'py, PyAny>,
                subject: String,
                to: Option<&Bound<'py, PyAny>>,
                text_body: &str,
                html_body: Option<String>,
                cc: Option<&Bound<'py, PyAny>>,
                bcc: Option<&Bound<'py, PyAny>>,
                reply_to: Option<&Bound<'py, PyAny>>,
                attachments: Option<&Bound<'py, PyAny>>,
                unsubscribe_link: Option<String>,
                configuration_set: Option<String>,
                message_tags: Option<&Bound<'py, PyDict>>,
                smtp_headers: Option<&Bound<'py, PyDict>>,
            ) -> PyResult<$out> {
                let args = Args {
                    e_from,
                    subject,
                    to,
                    text_body: text_body.to_owned(),
                    html_body,
                    cc,
                    bcc,
                    reply_to,
                    attachments,
                    unsubscribe_link,
                    configuration_set,
                    message_tags,
                    smtp_headers,
                };
                let message = args.read()?;
                $run(py, send(self.0.client(py)?, message), None)
            }

            /// CreateEmailIdentity: starts verifying an address or a domain as a sender.
            fn create_email_identity<'py>(&self, py: Python<'py>, identity: String) -> PyResult<$out> {
                $run(py, create_identity(self.0.client(py)?, identity), None)
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                Ok(format!("{}({})", stringify!($client).trim_start_matches("Py"), self.0.config.bind(py).repr()?))
            }
        }
    };
}

ses_methods!(PySesClient, blocking, Py<PyAny>);
ses_methods!(AsyncSesClient, awaitable, Bound<'py, PyAny>);
