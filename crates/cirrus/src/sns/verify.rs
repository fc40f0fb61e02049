//! Verifying the messages SNS posts to HTTP(S) endpoints (and hands to Lambda).
//!
//! Every check a hand-written verifier tends to miss is made, in this order, cheapest first:
//!
//! 1. the body is one JSON object with the fields its type needs (Lambda's `SigningCertUrl`,
//!    `UnsubscribeUrl` and `Subject: null` accepted);
//! 2. `SignatureVersion` is `1` (SHA1withRSA) or `2` (SHA256withRSA), nothing else;
//! 3. `SigningCertURL` is `https://sns.<region>.amazonaws.com[.cn]/<name>.pem`: no user info, no
//!    port, no query or fragment, no encoded or dot segments; `SubscribeURL` is https on that
//!    same host;
//! 4. the topic is on the allow-list, and the message is not older than the maximum age (both
//!    optional);
//! 5. the certificate (fetched over https, cached) is one PEM certificate and nothing else, valid
//!    at the time of the check, with an RSA key;
//! 6. the signature over AWS's string to sign for the type.
//!
//! <https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html>

use super::fetch::CertFetcher;
use bytes::Bytes;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// The largest certificate body accepted (AWS's are under 2 KB).
pub const MAX_CERT_BYTES: usize = 10 * 1024;
/// The largest message body accepted. SNS messages are at most 256 KiB, but JSON escaping can
/// make the envelope several times larger (a control character becomes `\u00XX`).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The three kinds of message SNS posts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// A published message.
    Notification,
    /// Asks the endpoint to confirm a new subscription by visiting `SubscribeURL`.
    SubscriptionConfirmation,
    /// Says the subscription was deleted.
    UnsubscribeConfirmation,
}

impl MessageType {
    /// The name SNS uses in `Type`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Notification => "Notification",
            MessageType::SubscriptionConfirmation => "SubscriptionConfirmation",
            MessageType::UnsubscribeConfirmation => "UnsubscribeConfirmation",
        }
    }
}

/// The signature algorithm named by `SignatureVersion`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureVersion {
    /// `1`: SHA1withRSA.
    V1,
    /// `2`: SHA256withRSA.
    V2,
}

/// An SNS message, as posted to an HTTP endpoint. Only [`Verifier`] makes one from untrusted
/// input, and only after every check passed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Message {
    /// `Type`.
    pub kind: MessageType,
    /// `MessageId`.
    pub message_id: String,
    /// `TopicArn`.
    pub topic_arn: String,
    /// `Subject` (absent or `null`: none).
    pub subject: Option<String>,
    /// `Message`: the published text (for SES events, a JSON document; see
    /// [`super::SesEvent::from_message`]).
    pub message: String,
    /// `Timestamp` as sent (RFC 3339).
    pub timestamp: String,
    /// `SignatureVersion`.
    pub signature_version: SignatureVersion,
    /// `SigningCertURL`.
    pub signing_cert_url: String,
    /// `SubscribeURL` (confirmations only).
    pub subscribe_url: Option<String>,
    /// `Token` (confirmations only).
    pub token: Option<String>,
    /// `UnsubscribeURL` (notifications only; not signed by SNS).
    pub unsubscribe_url: Option<String>,
    /// `MessageAttributes` (not signed by SNS), as JSON.
    pub message_attributes: Option<serde_json::Value>,
}

impl Message {
    /// The message as JSON, with SNS's field names.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "Type": self.kind.as_str(),
            "MessageId": self.message_id,
            "TopicArn": self.topic_arn,
            "Message": self.message,
            "Timestamp": self.timestamp,
            "SignatureVersion": match self.signature_version { SignatureVersion::V1 => "1", SignatureVersion::V2 => "2" },
            "SigningCertURL": self.signing_cert_url,
        });
        let optional = [
            ("Subject", &self.subject),
            ("SubscribeURL", &self.subscribe_url),
            ("Token", &self.token),
            ("UnsubscribeURL", &self.unsubscribe_url),
        ];
        for (k, val) in optional {
            if let Some(s) = val {
                v[k] = s.clone().into();
            }
        }
        if let Some(a) = &self.message_attributes {
            v["MessageAttributes"] = a.clone();
        }
        v
    }
}

/// Which check refused a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Check {
    /// Not an SNS message: not JSON, a field missing or of the wrong type, an unknown `Type`.
    Format,
    /// `SignatureVersion` is not 1 or 2.
    SignatureVersion,
    /// `SigningCertURL` is not an SNS certificate URL.
    CertUrl,
    /// `SubscribeURL` is not https on the certificate's SNS host.
    SubscribeUrl,
    /// The topic is not on the allow-list.
    Topic,
    /// The message is older than the maximum age, or dated in the future.
    Age,
    /// The certificate could not be fetched.
    CertFetch,
    /// The certificate body is not one PEM certificate with an RSA key.
    Certificate,
    /// The certificate is not valid at the time of the check.
    CertValidity,
    /// The signature does not match.
    Signature,
}

impl Check {
    /// A short name: `format`, `signature-version`, `cert-url`, `subscribe-url`, `topic`, `age`,
    /// `cert-fetch`, `certificate`, `cert-validity`, `signature`.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Format => "format",
            Check::SignatureVersion => "signature-version",
            Check::CertUrl => "cert-url",
            Check::SubscribeUrl => "subscribe-url",
            Check::Topic => "topic",
            Check::Age => "age",
            Check::CertFetch => "cert-fetch",
            Check::Certificate => "certificate",
            Check::CertValidity => "cert-validity",
            Check::Signature => "signature",
        }
    }
}

/// Why a message was refused: the check and what it found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    check: Check,
    reason: String,
}

impl VerifyError {
    fn new(check: Check, reason: impl Into<String>) -> Self {
        VerifyError { check, reason: reason.into() }
    }

    /// The check that failed: what to match on (a webhook answers 403 for all of them).
    pub fn check(&self) -> Check {
        self.check
    }

    /// What the check found, in words (`the certificate URL's host is not SNS's`...).
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SNS message refused ({}): {}", self.check.as_str(), self.reason)
    }
}

impl std::error::Error for VerifyError {}

/// A message parsed but not yet verified.
pub(crate) struct Unverified {
    pub(crate) msg: Message,
    pub(crate) signature: Vec<u8>,
}

fn format_err(reason: impl Into<String>) -> VerifyError {
    VerifyError::new(Check::Format, reason)
}

/// Reads the envelope: an SNS HTTP body, a Lambda record (`{"Sns": {...}}`) or a Lambda event
/// with one record.
pub(crate) fn parse(body: &[u8]) -> Result<Unverified, VerifyError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(format_err(format!("the body is {} bytes; SNS messages are at most {MAX_BODY_BYTES}", body.len())));
    }
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| format_err(format!("not JSON: {e}")))?;
    let mut obj = v.as_object().ok_or_else(|| format_err("not a JSON object"))?;
    if let Some(records) = obj.get("Records") {
        match records.as_array().map(Vec::as_slice) {
            Some([one]) => obj = one.as_object().ok_or_else(|| format_err("Records[0] is not an object"))?,
            _ => return Err(format_err("a Lambda event must hold exactly one record")),
        }
    }
    if let Some(sns) = obj.get("Sns") {
        obj = sns.as_object().ok_or_else(|| format_err("Sns is not an object"))?;
    }
    // The value of the first of `names` present; `null` counts as absent.
    let get = |names: &[&str]| -> Result<Option<String>, VerifyError> {
        for n in names {
            match obj.get(*n) {
                None | Some(serde_json::Value::Null) => continue,
                Some(serde_json::Value::String(s)) => return Ok(Some(s.clone())),
                Some(_) => return Err(format_err(format!("{n} is not a string"))),
            }
        }
        Ok(None)
    };
    let need = |names: &[&str]| get(names)?.ok_or_else(|| format_err(format!("{} is missing", names[0])));

    let kind = match need(&["Type"])?.as_str() {
        "Notification" => MessageType::Notification,
        "SubscriptionConfirmation" => MessageType::SubscriptionConfirmation,
        "UnsubscribeConfirmation" => MessageType::UnsubscribeConfirmation,
        other => return Err(format_err(format!("unknown Type {other:?}"))),
    };
    let signature_version = match need(&["SignatureVersion"])?.as_str() {
        "1" => SignatureVersion::V1,
        "2" => SignatureVersion::V2,
        other => {
            return Err(VerifyError::new(
                Check::SignatureVersion,
                format!("SignatureVersion {other:?} is not supported (only 1, SHA1withRSA, and 2, SHA256withRSA)"),
            ))
        }
    };
    let confirmation = kind != MessageType::Notification;
    let signature_b64 = need(&["Signature"])?;
    // AWS sends one line; some tools wrap base64 at 60 or 76 columns.
    let compact: String = signature_b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let signature = <base64ct::Base64 as base64ct::Encoding>::decode_vec(&compact)
        .map_err(|_| VerifyError::new(Check::Signature, "Signature is not base64"))?;
    let msg = Message {
        kind,
        message_id: need(&["MessageId"])?,
        topic_arn: need(&["TopicArn"])?,
        subject: if confirmation { None } else { get(&["Subject"])? },
        message: need(&["Message"])?,
        timestamp: need(&["Timestamp"])?,
        signature_version,
        signing_cert_url: need(&["SigningCertURL", "SigningCertUrl"])?,
        subscribe_url: if confirmation { Some(need(&["SubscribeURL", "SubscribeUrl"])?) } else { None },
        token: if confirmation { Some(need(&["Token"])?) } else { None },
        unsubscribe_url: if confirmation { None } else { get(&["UnsubscribeURL", "UnsubscribeUrl"])? },
        message_attributes: obj.get("MessageAttributes").filter(|a| !a.is_null()).cloned(),
    };
    Ok(Unverified { msg, signature })
}

/// AWS's string to sign: `Name\nvalue\n` for each signed field of the type, in this order.
pub fn string_to_sign(msg: &Message) -> String {
    let mut s = String::with_capacity(msg.message.len() + 512);
    let mut add = |k: &str, v: &str| {
        s.push_str(k);
        s.push('\n');
        s.push_str(v);
        s.push('\n');
    };
    add("Message", &msg.message);
    add("MessageId", &msg.message_id);
    match msg.kind {
        MessageType::Notification => {
            if let Some(subject) = &msg.subject {
                add("Subject", subject);
            }
            add("Timestamp", &msg.timestamp);
            add("TopicArn", &msg.topic_arn);
        }
        MessageType::SubscriptionConfirmation | MessageType::UnsubscribeConfirmation => {
            add("SubscribeURL", msg.subscribe_url.as_deref().unwrap_or_default());
            add("Timestamp", &msg.timestamp);
            add("Token", msg.token.as_deref().unwrap_or_default());
            add("TopicArn", &msg.topic_arn);
        }
    }
    add("Type", msg.kind.as_str());
    s
}

/// Checks an SNS URL: `https://sns.<region>.amazonaws.com[.cn]` and a plain path. Returns
/// `(host, path and query)`.
fn sns_url(url: &str) -> Result<(&str, &str), String> {
    let rest = url.strip_prefix("https://").ok_or_else(|| format!("{url:?} is not https"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, target) = rest.split_at(end);
    if host.contains('@') {
        return Err(format!("{url:?} has user info"));
    }
    if host.contains(':') {
        return Err(format!("{url:?} names a port"));
    }
    let region = host
        .strip_prefix("sns.")
        .and_then(|h| h.strip_suffix(".amazonaws.com").or_else(|| h.strip_suffix(".amazonaws.com.cn")))
        .filter(|r| {
            !r.is_empty()
                && r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !r.starts_with('-')
                && !r.ends_with('-')
        });
    if region.is_none() {
        return Err(format!("host {host:?} is not sns.<region>.amazonaws.com or sns.<region>.amazonaws.com.cn"));
    }
    if !target.starts_with('/') {
        return Err(format!("{url:?} has no path"));
    }
    Ok((host, target))
}

/// The `SigningCertURL` rules; returns the host.
pub fn check_cert_url(url: &str) -> Result<&str, VerifyError> {
    let fail = |r: String| VerifyError::new(Check::CertUrl, format!("SigningCertURL: {r}"));
    let (host, path) = sns_url(url).map_err(fail)?;
    if path.contains(['?', '#']) {
        return Err(fail(format!("{url:?} has a query or fragment")));
    }
    if !path.ends_with(".pem") {
        return Err(fail(format!("{url:?}: the path does not end in .pem")));
    }
    let plain = path.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
    if !plain || path.contains("/.") || path.contains("//") {
        return Err(fail(format!("{url:?}: the path holds characters or segments a certificate path never has")));
    }
    Ok(host)
}

/// The `SubscribeURL` rules: https on the same SNS host as the certificate, path `/`.
pub fn check_subscribe_url(url: &str, cert_host: &str) -> Result<(), VerifyError> {
    let fail = |r: String| VerifyError::new(Check::SubscribeUrl, format!("SubscribeURL: {r}"));
    let (host, target) = sns_url(url).map_err(fail)?;
    if host != cert_host {
        return Err(fail(format!("host {host:?} is not the certificate's host {cert_host:?}")));
    }
    if !(target == "/" || target.starts_with("/?")) || target.contains('#') {
        return Err(fail(format!("{url:?}: expected https://{host}/?Action=ConfirmSubscription&...")));
    }
    Ok(())
}

/// A parsed signing certificate: its RSA key and validity.
#[derive(Clone)]
pub struct SigningCert {
    rsa_key: Vec<u8>,
    not_before: SystemTime,
    not_after: SystemTime,
}

impl fmt::Debug for SigningCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningCert")
            .field("not_before", &cirrus_sigv4::format_rfc3339(self.not_before))
            .field("not_after", &cirrus_sigv4::format_rfc3339(self.not_after))
            .finish_non_exhaustive()
    }
}

impl SigningCert {
    /// Reads a certificate body: one PEM `CERTIFICATE` block, surrounding whitespace allowed,
    /// nothing else; at most [`MAX_CERT_BYTES`]; an RSA public key.
    pub fn from_pem(body: &[u8]) -> Result<SigningCert, VerifyError> {
        use x509_cert::der::DecodePem;
        let fail = |r: String| VerifyError::new(Check::Certificate, r);
        if body.len() > MAX_CERT_BYTES {
            return Err(fail(format!(
                "the certificate body is {} bytes; at most {MAX_CERT_BYTES} allowed",
                body.len()
            )));
        }
        let text = std::str::from_utf8(body).map_err(|_| fail("the certificate body is not text".into()))?;
        let pem = text.trim();
        const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
        const END: &str = "-----END CERTIFICATE-----";
        if !pem.starts_with(BEGIN) || !pem.ends_with(END) || pem.matches("-----BEGIN").count() != 1 {
            return Err(fail("the certificate body is not exactly one PEM certificate".into()));
        }
        let cert = x509_cert::Certificate::from_pem(pem).map_err(|e| fail(format!("not a valid certificate: {e}")))?;
        let tbs = cert.tbs_certificate();
        let spki = tbs.subject_public_key_info();
        const RSA_ENCRYPTION: x509_cert::der::oid::ObjectIdentifier =
            x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
        if spki.algorithm.oid != RSA_ENCRYPTION {
            return Err(fail(format!("the certificate's key is not RSA (algorithm {})", spki.algorithm.oid)));
        }
        let rsa_key =
            spki.subject_public_key.as_bytes().ok_or_else(|| fail("the public key is not whole bytes".into()))?;
        Ok(SigningCert {
            rsa_key: rsa_key.to_vec(),
            not_before: tbs.validity().not_before.to_system_time(),
            not_after: tbs.validity().not_after.to_system_time(),
        })
    }

    /// The first instant the certificate is valid.
    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    /// The last instant the certificate is valid.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    fn check_validity(&self, at: SystemTime) -> Result<(), VerifyError> {
        if at < self.not_before || at > self.not_after {
            return Err(VerifyError::new(
                Check::CertValidity,
                format!(
                    "the certificate is valid from {} to {}, not at {}",
                    cirrus_sigv4::format_rfc3339(self.not_before),
                    cirrus_sigv4::format_rfc3339(self.not_after),
                    cirrus_sigv4::format_rfc3339(at)
                ),
            ));
        }
        Ok(())
    }

    fn check_signature(&self, version: SignatureVersion, data: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        use ring::signature::{
            UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256,
        };
        let alg = match version {
            SignatureVersion::V1 => &RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            SignatureVersion::V2 => &RSA_PKCS1_2048_8192_SHA256,
        };
        UnparsedPublicKey::new(alg, &self.rsa_key).verify(data, signature).map_err(|_| {
            let alg = if version == SignatureVersion::V1 { "SHA1withRSA" } else { "SHA256withRSA" };
            VerifyError::new(Check::Signature, format!("the {alg} signature does not match the message"))
        })
    }
}

/// Fetched certificates by URL: bounded, each kept for a time-to-live, one fetch per URL at a
/// time (concurrent messages signed with a new certificate wait for the same fetch).
struct CertCache {
    capacity: usize,
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, CertSlot)>>,
}

/// A certificate, or the one fetch of it in flight.
type CertSlot = Arc<tokio::sync::OnceCell<Arc<SigningCert>>>;

impl CertCache {
    fn slot(&self, url: &str) -> CertSlot {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if let Some((at, cell)) = map.get(url) {
            if now.duration_since(*at) < self.ttl {
                return cell.clone();
            }
        }
        map.retain(|_, (at, _)| now.duration_since(*at) < self.ttl);
        while map.len() >= self.capacity.max(1) {
            let oldest = map.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => map.remove(&k),
                None => break,
            };
        }
        let cell = Arc::new(tokio::sync::OnceCell::new());
        map.insert(url.to_owned(), (now, cell.clone()));
        cell
    }
}

/// Verifies SNS messages. Cheap to clone (the certificate cache is shared); keep one for the
/// life of the program.
///
/// ```no_run
/// # async fn example(body: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// use cirrus::sns::{MessageType, SesEvent, Verifier};
/// use std::time::Duration;
///
/// // Once, at startup.
/// let verifier = Verifier::new()
///     .allow_topics(["arn:aws:sns:eu-west-1:123456789012:ses-events"])
///     .max_age(Duration::from_secs(3600));
///
/// // For each POST to the webhook, `body` being the raw request body:
/// let message = verifier.verify(body).await?;
/// match message.kind {
///     MessageType::SubscriptionConfirmation => {
///         verifier.confirm_subscription(&message).await?;
///     }
///     MessageType::Notification => println!("{:?}", SesEvent::from_message(&message.message)?),
///     MessageType::UnsubscribeConfirmation => {}
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Verifier {
    fetcher: CertFetcher,
    cache: Arc<CertCache>,
    topics: Option<Arc<[String]>>,
    max_age: Option<Duration>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("topics", &self.topics)
            .field("max_age", &self.max_age)
            .field("cache_capacity", &self.cache.capacity)
            .field("cache_ttl", &self.cache.ttl)
            .finish_non_exhaustive()
    }
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier::new()
    }
}

/// How far in the future a `Timestamp` may be when a maximum age is set (clock differences).
const FUTURE_SLACK: Duration = Duration::from_secs(300);

impl Verifier {
    /// A verifier that fetches certificates over https (the webpki roots), caches up to 32 of
    /// them for 24 hours, and accepts any topic at any age.
    pub fn new() -> Self {
        Verifier {
            fetcher: CertFetcher::new(),
            cache: Arc::new(CertCache { capacity: 32, ttl: Duration::from_secs(86_400), entries: Mutex::default() }),
            topics: None,
            max_age: None,
        }
    }

    /// Accepts only messages from these topics (exact ARNs).
    #[must_use]
    pub fn allow_topics<I: IntoIterator<Item = S>, S: Into<String>>(mut self, arns: I) -> Self {
        self.topics = Some(arns.into_iter().map(Into::into).collect());
        self
    }

    /// Refuses messages whose `Timestamp` is older than this (a replay guard; SNS retries for
    /// up to an hour by default, so less than that drops retries).
    #[must_use]
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// Keeps at most `capacity` certificates, each for `ttl`.
    #[must_use]
    pub fn cache(mut self, capacity: usize, ttl: Duration) -> Self {
        self.cache = Arc::new(CertCache { capacity, ttl, entries: Mutex::default() });
        self
    }

    /// Fetches certificates (and visits `SubscribeURL`) with this fetcher.
    #[must_use]
    pub fn fetcher(mut self, fetcher: CertFetcher) -> Self {
        self.fetcher = fetcher;
        self
    }

    /// Verifies a message body now.
    pub async fn verify(&self, body: &[u8]) -> Result<Message, VerifyError> {
        self.verify_at(body, SystemTime::now()).await
    }

    /// Verifies a message body as of `at` (certificate validity and message age).
    pub async fn verify_at(&self, body: &[u8], at: SystemTime) -> Result<Message, VerifyError> {
        let unverified = self.precheck(body, at)?;
        let cert = self.certificate(&unverified.msg.signing_cert_url).await?;
        finish(unverified, &cert, at)
    }

    /// Verifies a message body with a certificate body the caller has (instead of fetching
    /// `SigningCertURL`, which is still checked). The certificate gets the checks a fetched one
    /// gets.
    pub fn verify_with_certificate(
        &self,
        body: &[u8],
        cert_pem: &[u8],
        at: SystemTime,
    ) -> Result<Message, VerifyError> {
        let unverified = self.precheck(body, at)?;
        let cert = SigningCert::from_pem(cert_pem)?;
        finish(unverified, &cert, at)
    }

    /// Everything but the certificate and the signature.
    fn precheck(&self, body: &[u8], at: SystemTime) -> Result<Unverified, VerifyError> {
        let u = parse(body)?;
        let host = check_cert_url(&u.msg.signing_cert_url)?;
        if let Some(url) = &u.msg.subscribe_url {
            check_subscribe_url(url, host)?;
        }
        if let Some(topics) = &self.topics {
            if !topics.contains(&u.msg.topic_arn) {
                return Err(VerifyError::new(
                    Check::Topic,
                    format!("topic {} is not on the allow-list", u.msg.topic_arn),
                ));
            }
        }
        if let Some(max) = self.max_age {
            let sent = cirrus_sigv4::parse_rfc3339(&u.msg.timestamp)
                .ok_or_else(|| format_err(format!("Timestamp {:?} is not an RFC 3339 time", u.msg.timestamp)))?;
            match at.duration_since(sent) {
                Ok(age) if age > max => {
                    return Err(VerifyError::new(
                        Check::Age,
                        format!("the message is {}s old; at most {}s allowed", age.as_secs(), max.as_secs()),
                    ))
                }
                Err(e) if e.duration() > FUTURE_SLACK => {
                    return Err(VerifyError::new(
                        Check::Age,
                        format!("the message is dated {}s in the future", e.duration().as_secs()),
                    ))
                }
                _ => {}
            }
        }
        Ok(u)
    }

    /// The certificate at `url` (already checked), from the cache or fetched once.
    async fn certificate(&self, url: &str) -> Result<Arc<SigningCert>, VerifyError> {
        let slot = self.cache.slot(url);
        let cert = slot
            .get_or_try_init(|| async {
                let body = self.fetch(url, MAX_CERT_BYTES).await?;
                SigningCert::from_pem(&body).map(Arc::new)
            })
            .await?;
        Ok(cert.clone())
    }

    async fn fetch(&self, url: &str, limit: usize) -> Result<Bytes, VerifyError> {
        self.fetcher.get(url, limit).await.map_err(|e| match e {
            super::fetch::FetchError::TooLarge(n) => {
                VerifyError::new(Check::Certificate, format!("the certificate body is larger than {n} bytes"))
            }
            super::fetch::FetchError::Other(r) => VerifyError::new(Check::CertFetch, format!("{url}: {r}")),
        })
    }

    /// Confirms the subscription a verified `SubscriptionConfirmation` asks for by visiting its
    /// `SubscribeURL` (https, on the certificate's SNS host: checked again here); returns the
    /// subscription ARN from the answer.
    pub async fn confirm_subscription(&self, msg: &Message) -> Result<String, VerifyError> {
        if msg.kind != MessageType::SubscriptionConfirmation {
            return Err(format_err(format!("a {} has no subscription to confirm", msg.kind.as_str())));
        }
        let host = check_cert_url(&msg.signing_cert_url)?;
        let url = msg.subscribe_url.as_deref().unwrap_or_default();
        check_subscribe_url(url, host)?;
        let body = self
            .fetcher
            .get(url, 64 * 1024)
            .await
            .map_err(|e| VerifyError::new(Check::SubscribeUrl, format!("visiting SubscribeURL: {}", e.reason())))?;
        let result = crate::transport::protocol::query_result("ConfirmSubscription", &body)
            .map_err(|e| VerifyError::new(Check::SubscribeUrl, format!("the answer to SubscribeURL: {e}")))?;
        result
            .text_of("SubscriptionArn")
            .map(str::to_owned)
            .ok_or_else(|| VerifyError::new(Check::SubscribeUrl, "the answer to SubscribeURL has no SubscriptionArn"))
    }
}

fn finish(u: Unverified, cert: &SigningCert, at: SystemTime) -> Result<Message, VerifyError> {
    cert.check_validity(at)?;
    cert.check_signature(u.msg.signature_version, string_to_sign(&u.msg).as_bytes(), &u.signature)?;
    Ok(u.msg)
}
