//! Verifying what SNS posts to an HTTP(S) endpoint: `SnsVerifier` over `cirrus::sns::Verifier`
//! (the signature over the canonical fields, SignatureVersion 1 and 2, the certificate fetched
//! only from an SNS host and cached), the verified `SnsMessage`, and the `SesEvent` it carries
//! when SES publishes through it. `cirrus_aws.sns.verify_webhook` is the front door.

use crate::errors::Failure;
use crate::runtime::{block_on, to_asyncio};
use crate::show::py_str;
use cirrus::sns::{BounceType, CertFetcher, Message, MessageType, SesEventKind, SignatureVersion, Verifier};
use cirrus::sns::{SesEvent as Event, VerifyError};
use cirrus::transport::TlsRoots;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView};
use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SnsVerifier>()?;
    m.add_class::<SnsMessage>()?;
    m.add_class::<SesEvent>()?;
    Ok(())
}

/// An argument refused before anything was sent: `ParamValidationError` (a ValueError).
fn invalid(message: impl Into<String>) -> PyErr {
    Python::attach(|py| Failure::Input(message.into()).into_py_err(py))
}

/// A `cirrus_aws.errors.SignatureError` (a ValueError) with `.check` (`signature`, `cert-url`,
/// `format`...) and `.reason`.
fn signature_error(py: Python<'_>, e: &VerifyError) -> PyErr {
    let made = (|| -> PyResult<Bound<'_, PyAny>> {
        let error = py.import("cirrus_aws.errors")?.getattr("SignatureError")?.call1((e.to_string(),))?;
        error.setattr("check", e.check().as_str())?;
        error.setattr("reason", e.reason())?;
        Ok(error)
    })();
    match made {
        Ok(error) => PyErr::from_value(error),
        Err(err) => err,
    }
}

fn body_of(body: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = body.extract::<&str>() {
        return Ok(s.as_bytes().to_vec());
    }
    if let Ok(b) = body.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = body.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if let Ok(v) = body.cast::<PyMemoryView>() {
        return Ok(v.call_method0("tobytes")?.cast_into::<PyBytes>()?.as_bytes().to_vec());
    }
    Err(invalid(format!("the body must be bytes or str, not {}", body.get_type().name()?)))
}

/// The fetcher with the test and private-deployment knobs: other roots, another address.
fn fetcher(ca_file: Option<PathBuf>, connect_to: Option<String>, timeout: Option<f64>) -> PyResult<CertFetcher> {
    let mut fetcher = CertFetcher::new();
    if let Some(path) = ca_file {
        let pem = std::fs::read(&path).map_err(|e| invalid(format!("ca_file {}: {e}", path.display())))?;
        let roots = TlsRoots::from_pem(&pem).map_err(|e| invalid(format!("ca_file {}: {e}", path.display())))?;
        let TlsRoots::Bundle(certs) = roots else {
            return Err(invalid(format!("ca_file {}: no certificates", path.display())));
        };
        fetcher = fetcher
            .with_root_certificates(certs.iter().map(|c| &**c))
            .map_err(|e| invalid(format!("ca_file {}: {e}", path.display())))?;
    }
    if let Some(addr) = connect_to {
        let found = addr.to_socket_addrs().map_err(|e| invalid(format!("connect_to {addr:?}: {e}")))?.next();
        let found = found.ok_or_else(|| invalid(format!("connect_to {addr:?}: no address")))?;
        fetcher = fetcher.connect_to(found);
    }
    if let Some(t) = timeout {
        if !(t.is_finite() && t > 0.0) {
            return Err(invalid("timeout must be a positive number of seconds"));
        }
        fetcher = fetcher.timeout(Duration::from_secs_f64(t));
    }
    Ok(fetcher)
}

/// Checks SNS messages posted to a webhook. Keep one: the certificates it fetched are cached.
///
/// `topics` allows only these topic ARNs; `max_age` (seconds) refuses older messages. For
/// tests and private deployments only: `ca_file` (PEM) trusts these roots in place of the
/// built-in ones for the certificate's host, `connect_to` (`"host:port"`) fetches from that
/// address whatever the URL's host (whose name TLS still checks). Neither lets a certificate
/// come from a URL that is not an SNS host's.
#[pyclass(frozen, module = "cirrus_aws", name = "SnsVerifier")]
pub(crate) struct SnsVerifier {
    inner: Verifier,
    topics: Option<Vec<String>>,
}

#[pymethods]
impl SnsVerifier {
    #[new]
    #[pyo3(signature = (*, topics=None, max_age=None, ca_file=None, connect_to=None, timeout=None))]
    fn new(
        topics: Option<Vec<String>>,
        max_age: Option<f64>,
        ca_file: Option<PathBuf>,
        connect_to: Option<String>,
        timeout: Option<f64>,
    ) -> PyResult<Self> {
        let mut inner = Verifier::new().fetcher(fetcher(ca_file, connect_to, timeout)?);
        if let Some(t) = &topics {
            inner = inner.allow_topics(t.iter().cloned());
        }
        if let Some(age) = max_age {
            if !(age.is_finite() && age > 0.0) {
                return Err(invalid("max_age must be a positive number of seconds"));
            }
            inner = inner.max_age(Duration::from_secs_f64(age));
        }
        Ok(SnsVerifier { inner, topics })
    }

    /// Verifies a posted body (bytes or str): the message, or `SignatureError`.
    fn verify(&self, py: Python<'_>, body: &Bound<'_, PyAny>) -> PyResult<SnsMessage> {
        let body = body_of(body)?;
        block_on(py, check(self.inner.clone(), body), None)
    }

    /// `verify` for asyncio.
    fn verify_async<'py>(&self, py: Python<'py>, body: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let body = body_of(body)?;
        to_asyncio(py, check(self.inner.clone(), body), None)
    }

    /// Confirms the subscription a verified `SubscriptionConfirmation` asks for by visiting its
    /// `SubscribeURL` (checked again: https, on the certificate's SNS host): the subscription ARN.
    fn confirm_subscription(&self, py: Python<'_>, message: &Bound<'_, SnsMessage>) -> PyResult<String> {
        block_on(py, confirm(self.inner.clone(), message.get().inner.clone()), None)
    }

    /// `confirm_subscription` for asyncio.
    fn confirm_subscription_async<'py>(
        &self,
        py: Python<'py>,
        message: &Bound<'py, SnsMessage>,
    ) -> PyResult<Bound<'py, PyAny>> {
        to_asyncio(py, confirm(self.inner.clone(), message.get().inner.clone()), None)
    }

    fn __repr__(&self) -> String {
        format!("SnsVerifier(topics={:?})", self.topics)
    }
}

async fn confirm(verifier: Verifier, message: Message) -> Result<String, Failure> {
    verifier
        .confirm_subscription(&message)
        .await
        .map_err(|e| Failure::Python(Python::attach(|py| signature_error(py, &e))))
}

async fn check(verifier: Verifier, body: Vec<u8>) -> Result<SnsMessage, Failure> {
    match verifier.verify(&body).await {
        Ok(inner) => Ok(SnsMessage { inner }),
        Err(e) => Err(Failure::Python(Python::attach(|py| signature_error(py, &e)))),
    }
}

/// Text that is JSON, as Python values (`json.loads`).
fn json<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

fn datetime<'py>(py: Python<'py>, text: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(seconds) = cirrus::sigv4::parse_rfc3339(text).and_then(|t| t.duration_since(UNIX_EPOCH).ok()) else {
        return Ok(None);
    };
    let dt = py.import("datetime")?;
    let utc = dt.getattr("timezone")?.getattr("utc")?;
    Ok(Some(dt.getattr("datetime")?.call_method1("fromtimestamp", (seconds.as_secs_f64(), utc))?))
}

/// A verified SNS message.
#[pyclass(frozen, module = "cirrus_aws", name = "SnsMessage")]
pub(crate) struct SnsMessage {
    inner: Message,
}

#[pymethods]
impl SnsMessage {
    /// `Notification`, `SubscriptionConfirmation` or `UnsubscribeConfirmation`.
    #[getter]
    #[pyo3(name = "type")]
    fn kind(&self) -> &'static str {
        self.inner.kind.as_str()
    }

    #[getter]
    fn message_id(&self) -> &str {
        &self.inner.message_id
    }

    #[getter]
    fn topic_arn(&self) -> &str {
        &self.inner.topic_arn
    }

    #[getter]
    fn subject(&self) -> Option<&str> {
        self.inner.subject.as_deref()
    }

    /// The published text (for SES events, JSON: see `ses_event`).
    #[getter]
    fn message(&self) -> &str {
        &self.inner.message
    }

    /// `Timestamp` as sent (RFC 3339).
    #[getter]
    fn timestamp(&self) -> &str {
        &self.inner.timestamp
    }

    /// `Timestamp` as an aware datetime (UTC), or None if it is not RFC 3339.
    #[getter]
    fn sent_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        datetime(py, &self.inner.timestamp)
    }

    /// 1 (SHA1withRSA) or 2 (SHA256withRSA).
    #[getter]
    fn signature_version(&self) -> u8 {
        match self.inner.signature_version {
            SignatureVersion::V1 => 1,
            SignatureVersion::V2 => 2,
        }
    }

    #[getter]
    fn signing_cert_url(&self) -> &str {
        &self.inner.signing_cert_url
    }

    /// Confirmations only: the URL that confirms the subscription.
    #[getter]
    fn subscribe_url(&self) -> Option<&str> {
        self.inner.subscribe_url.as_deref()
    }

    /// Confirmations only: the token ConfirmSubscription takes.
    #[getter]
    fn token(&self) -> Option<&str> {
        self.inner.token.as_deref()
    }

    /// Notifications only (not signed by SNS).
    #[getter]
    fn unsubscribe_url(&self) -> Option<&str> {
        self.inner.unsubscribe_url.as_deref()
    }

    /// `MessageAttributes` as sent (not signed by SNS), or None.
    #[getter]
    fn message_attributes<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner.message_attributes.as_ref().map(|a| json(py, &a.to_string())).transpose()
    }

    /// The SES event the message carries (SES event publishing or identity notifications), or
    /// None if it is not one. A message that says it is an SES event but is not well formed
    /// raises ValueError.
    #[getter]
    fn ses_event(&self) -> PyResult<Option<SesEvent>> {
        if self.inner.kind != MessageType::Notification {
            return Ok(None);
        }
        let text = self.inner.message.trim_start();
        let claims = text.starts_with('{') && (text.contains("\"eventType\"") || text.contains("\"notificationType\""));
        if !claims {
            return Ok(None);
        }
        match Event::from_message(text) {
            Ok(event) => Ok(Some(SesEvent { inner: event })),
            Err(e) if e.to_string().contains("no eventType or notificationType") => Ok(None),
            Err(e) => Err(invalid(cirrus::transport::report(&e))),
        }
    }

    /// The message as SNS sent it (its field names), without the signature.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json(py, &self.inner.to_json().to_string())
    }

    fn __repr__(&self) -> String {
        format!(
            "SnsMessage(type={}, message_id={}, topic_arn={}, subject={})",
            py_str(Some(self.inner.kind.as_str())),
            py_str(Some(&self.inner.message_id)),
            py_str(Some(&self.inner.topic_arn)),
            py_str(self.inner.subject.as_deref())
        )
    }
}

/// An SES event (a bounce, a complaint, a delivery, an open...) carried by an SNS message.
#[pyclass(frozen, module = "cirrus_aws", name = "SesEvent")]
pub(crate) struct SesEvent {
    inner: Event,
}

#[pymethods]
impl SesEvent {
    /// SES's name: `Bounce`, `Complaint`, `Delivery`, `Send`, `Reject`, `Open`, `Click`,
    /// `DeliveryDelay`, `Subscription`, `Rendering Failure`, `Received`.
    #[getter]
    fn event_type(&self) -> &'static str {
        self.inner.kind.name()
    }

    /// The SES message id of the email the event is about (what `send_email` returned).
    #[getter]
    fn message_id(&self) -> &str {
        &self.inner.mail.message_id
    }

    /// The sender.
    #[getter]
    fn source(&self) -> &str {
        &self.inner.mail.source
    }

    /// Every recipient of the email.
    #[getter]
    fn destination(&self) -> Vec<String> {
        self.inner.mail.destination.clone()
    }

    /// The email's tags (`message_tags` and SES's own), each name with its values.
    #[getter]
    fn tags(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        self.inner.mail.tags.clone()
    }

    /// The addresses the event is about: those that bounced, complained, received it or are
    /// delayed; for the other events, every recipient of the email.
    #[getter]
    fn recipients(&self) -> Vec<String> {
        match &self.inner.kind {
            SesEventKind::Bounce(b) => b.bounced_recipients.iter().map(|r| r.email_address.clone()).collect(),
            SesEventKind::Complaint(c) => c.complained_recipients.iter().map(|r| r.email_address.clone()).collect(),
            SesEventKind::Delivery(d) => d.recipients.clone(),
            SesEventKind::DeliveryDelay(d) => d.delayed_recipients.iter().map(|r| r.email_address.clone()).collect(),
            _ => self.inner.mail.destination.clone(),
        }
    }

    /// Bounces only: `Permanent`, `Transient` or `Undetermined`.
    #[getter]
    fn bounce_type(&self) -> Option<String> {
        match &self.inner.kind {
            SesEventKind::Bounce(b) => Some(String::from(b.bounce_type.clone())),
            _ => None,
        }
    }

    /// Bounces only: SES's sub-type (`General`, `NoEmail`, `MailboxFull`...).
    #[getter]
    fn bounce_sub_type(&self) -> Option<&str> {
        match &self.inner.kind {
            SesEventKind::Bounce(b) => Some(&b.bounce_sub_type),
            _ => None,
        }
    }

    /// Whether to stop mailing `recipients`: a permanent bounce or a complaint.
    #[getter]
    fn unsubscribe(&self) -> bool {
        match &self.inner.kind {
            SesEventKind::Bounce(b) => b.bounce_type == BounceType::Permanent,
            SesEventKind::Complaint(_) => true,
            _ => false,
        }
    }

    /// Clicks only: the link.
    #[getter]
    fn link(&self) -> Option<&str> {
        match &self.inner.kind {
            SesEventKind::Click(c) => Some(&c.link),
            _ => None,
        }
    }

    /// The event as SES sent it (`eventType`, `mail` and the event's own object).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json(py, &self.inner.to_json().to_string())
    }

    fn __repr__(&self) -> String {
        format!(
            "SesEvent(event_type={}, message_id={}, recipients={:?})",
            py_str(Some(self.inner.kind.name())),
            py_str(Some(&self.inner.mail.message_id)),
            self.recipients()
        )
    }
}
