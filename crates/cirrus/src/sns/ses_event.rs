//! The SES events SNS carries in `Message`: event publishing through a configuration set
//! (`eventType`) and identity notifications (`notificationType`), typed so a handler can act on
//! a hard bounce in one match:
//!
//! ```
//! use cirrus::sns::{Bounce, BounceType, SesEvent, SesEventKind};
//! # fn suppress(_: &str) {}
//! # let text = r#"{"eventType":"Bounce","mail":{"messageId":"m","source":"a@example.com","destination":["b@example.com"]},"bounce":{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"b@example.com"}]}}"#;
//! let event = SesEvent::from_message(text).unwrap();
//! if let SesEventKind::Bounce(Bounce { bounce_type: BounceType::Permanent, bounced_recipients, .. }) = &event.kind {
//!     for r in bounced_recipients {
//!         suppress(&r.email_address);
//!     }
//! }
//! ```
//!
//! <https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html>,
//! <https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html>

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An SES event: the message it is about, and what happened.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SesEvent {
    /// The message the event is about.
    pub mail: Mail,
    /// What happened.
    pub kind: SesEventKind,
}

/// What happened to the message.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SesEventKind {
    /// The receiving server refused it, for good (`Permanent`: stop sending) or for now.
    Bounce(Bounce),
    /// The recipient marked it as spam.
    Complaint(Complaint),
    /// The receiving server accepted it.
    Delivery(Delivery),
    /// SES accepted the send request.
    Send,
    /// SES refused to send it (a virus).
    Reject(Reject),
    /// The recipient opened it.
    Open(Open),
    /// The recipient clicked a link.
    Click(Click),
    /// Delivery is delayed and still being tried.
    DeliveryDelay(DeliveryDelay),
    /// The recipient changed their subscription (list management).
    Subscription(Subscription),
    /// A template could not be rendered.
    RenderingFailure(RenderingFailure),
    /// An inbound message (receipt rules): the receipt as sent, and the raw content when the
    /// rule includes it.
    Received {
        /// The `receipt` object.
        receipt: serde_json::Value,
        /// The raw message, when the SNS action includes it.
        content: Option<String>,
    },
}

impl SesEventKind {
    /// The name SES gives the event (`Bounce`, `Rendering Failure`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            SesEventKind::Bounce(_) => "Bounce",
            SesEventKind::Complaint(_) => "Complaint",
            SesEventKind::Delivery(_) => "Delivery",
            SesEventKind::Send => "Send",
            SesEventKind::Reject(_) => "Reject",
            SesEventKind::Open(_) => "Open",
            SesEventKind::Click(_) => "Click",
            SesEventKind::DeliveryDelay(_) => "DeliveryDelay",
            SesEventKind::Subscription(_) => "Subscription",
            SesEventKind::RenderingFailure(_) => "Rendering Failure",
            SesEventKind::Received { .. } => "Received",
        }
    }
}

/// The `mail` object: the original message.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Mail {
    /// When it was sent.
    pub timestamp: String,
    /// SES's message id (what `send` returned).
    pub message_id: String,
    /// The envelope sender.
    pub source: String,
    /// The sending identity's ARN.
    pub source_arn: Option<String>,
    /// The sending account.
    pub sending_account_id: Option<String>,
    /// Every recipient.
    pub destination: Vec<String>,
    /// Whether `headers` was cut short.
    pub headers_truncated: bool,
    /// The headers, when the configuration includes them.
    pub headers: Vec<Header>,
    /// From, To, Subject... as SES parsed them.
    pub common_headers: Option<serde_json::Value>,
    /// The message tags (the ones sent with [`crate::ses::SendOptions`] and SES's own).
    pub tags: BTreeMap<String, Vec<String>>,
}

/// One header of the original message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Header {
    /// The name.
    pub name: String,
    /// The value.
    pub value: String,
}

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A value this version does not know.
            Other(String),
        }
        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $($text => $name::$variant,)*
                    _ => $name::Other(s),
                }
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                match v {
                    $($name::$variant => $text.to_owned(),)*
                    $name::Other(s) => s,
                }
            }
        }
        impl Default for $name {
            fn default() -> Self {
                $name::Other(String::new())
            }
        }
    };
}

string_enum!(
    /// `bounceType`.
    BounceType {
        /// A hard bounce: remove the address.
        Permanent = "Permanent",
        /// A soft bounce (mailbox full, too large...): may succeed later.
        Transient = "Transient",
        /// The receiving server's answer could not be classified.
        Undetermined = "Undetermined",
    }
);

/// A `bounce` object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Bounce {
    /// Permanent, Transient or Undetermined.
    pub bounce_type: BounceType,
    /// General, NoEmail, Suppressed, OnAccountSuppressionList, MailboxFull, MessageTooLarge,
    /// ContentRejected, AttachmentRejected...
    pub bounce_sub_type: String,
    /// Who bounced.
    pub bounced_recipients: Vec<BouncedRecipient>,
    /// When.
    pub timestamp: String,
    /// The feedback id.
    pub feedback_id: String,
    /// The MTA that reported it.
    #[serde(rename = "reportingMTA")]
    pub reporting_mta: Option<String>,
    /// The IP address of the MTA SES tried.
    pub remote_mta_ip: Option<String>,
}

/// A recipient that bounced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct BouncedRecipient {
    /// The address.
    pub email_address: String,
    /// `failed`, ...
    pub action: Option<String>,
    /// The SMTP enhanced status code (`5.1.1`).
    pub status: Option<String>,
    /// The receiving server's words.
    pub diagnostic_code: Option<String>,
}

/// An address, alone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Recipient {
    /// The address.
    pub email_address: String,
}

/// A `complaint` object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Complaint {
    /// Who complained.
    pub complained_recipients: Vec<Recipient>,
    /// When.
    pub timestamp: String,
    /// The feedback id.
    pub feedback_id: String,
    /// `OnAccountSuppressionList`, or none.
    pub complaint_sub_type: Option<String>,
    /// The reporting agent.
    pub user_agent: Option<String>,
    /// `abuse`, `fraud`, `not-spam`, ...
    pub complaint_feedback_type: Option<String>,
    /// When the message reached the reporter.
    pub arrival_date: Option<String>,
}

/// A `delivery` object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Delivery {
    /// When.
    pub timestamp: String,
    /// From send to acceptance.
    pub processing_time_millis: u64,
    /// Who accepted it.
    pub recipients: Vec<String>,
    /// The receiving server's answer.
    pub smtp_response: String,
    /// The MTA that accepted it.
    #[serde(rename = "reportingMTA")]
    pub reporting_mta: Option<String>,
    /// Its IP address.
    pub remote_mta_ip: Option<String>,
}

/// A `reject` object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Reject {
    /// Why (`Bad content`).
    pub reason: String,
}

/// An `open` object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Open {
    /// The reader's address.
    pub ip_address: String,
    /// When.
    pub timestamp: String,
    /// The reader's user agent.
    pub user_agent: String,
}

/// A `click` object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Click {
    /// The reader's address.
    pub ip_address: String,
    /// When.
    pub timestamp: String,
    /// The reader's user agent.
    pub user_agent: String,
    /// The link.
    pub link: String,
    /// The link's tags.
    pub link_tags: BTreeMap<String, Vec<String>>,
}

/// A `deliveryDelay` object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct DeliveryDelay {
    /// `InternalFailure`, `General`, `MailboxFull`, `SpamDetected`, `RecipientServerError`,
    /// `IPFailure`, `TransientCommunicationFailure`, `BYOIPHostNameLookupUnavailable`,
    /// `Undetermined`, `SendingDeferral`.
    pub delay_type: String,
    /// Who is delayed.
    pub delayed_recipients: Vec<BouncedRecipient>,
    /// When SES gives up.
    pub expiration_time: String,
    /// The MTA that reported the delay.
    #[serde(rename = "reportingMTA")]
    pub reporting_mta: Option<String>,
    /// When.
    pub timestamp: String,
}

/// A `subscription` object (list management).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Subscription {
    /// The contact list.
    pub contact_list: String,
    /// When.
    pub timestamp: String,
    /// The address.
    pub source: String,
    /// The preferences now.
    pub new_topic_preferences: Option<serde_json::Value>,
    /// The preferences before.
    pub old_topic_preferences: Option<serde_json::Value>,
}

/// A `failure` object (Rendering Failure).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct RenderingFailure {
    /// The template.
    pub template_name: String,
    /// What went wrong.
    pub error_message: String,
}

impl SesEvent {
    /// Reads an SNS `Message` that carries an SES event. An error says what is missing or of
    /// the wrong shape.
    ///
    /// ```
    /// use cirrus::sns::{SesEvent, SesEventKind};
    ///
    /// let message = r#"{
    ///     "eventType": "Complaint",
    ///     "mail": {"messageId": "0100018f-example", "source": "news@example.com",
    ///              "destination": ["bob@example.net"], "tags": {"campaign": ["june"]}},
    ///     "complaint": {"complainedRecipients": [{"emailAddress": "bob@example.net"}],
    ///                   "complaintFeedbackType": "abuse"}
    /// }"#;
    /// let event = SesEvent::from_message(message)?;
    /// assert_eq!(event.mail.message_id, "0100018f-example");
    /// if let SesEventKind::Complaint(complaint) = &event.kind {
    ///     for recipient in &complaint.complained_recipients {
    ///         println!("stop mailing {}", recipient.email_address);
    ///     }
    /// }
    /// # Ok::<(), cirrus::transport::ParseError>(())
    /// ```
    pub fn from_message(message: &str) -> Result<SesEvent, crate::transport::ParseError> {
        const WHAT: &str = "an SES event";
        let v: serde_json::Value = serde_json::from_str(message)
            .map_err(|e| crate::transport::ParseError::with_source(WHAT, "not JSON", e))?;
        Self::from_value(&v).map_err(|m| crate::transport::ParseError::new(WHAT, m))
    }

    fn from_value(v: &serde_json::Value) -> Result<SesEvent, String> {
        let kind = v
            .get("eventType")
            .or_else(|| v.get("notificationType"))
            .and_then(|t| t.as_str())
            .ok_or("not an SES event: no eventType or notificationType")?;
        let mail: Mail = part(v, "mail")?;
        fn part<T: for<'de> Deserialize<'de>>(v: &serde_json::Value, key: &str) -> Result<T, String> {
            let p = v.get(key).ok_or_else(|| format!("the SES event has no {key:?} object"))?;
            T::deserialize(p).map_err(|e| format!("the SES event's {key:?}: {e}"))
        }
        let kind = match kind {
            "Bounce" => SesEventKind::Bounce(part(v, "bounce")?),
            "Complaint" => SesEventKind::Complaint(part(v, "complaint")?),
            "Delivery" => SesEventKind::Delivery(part(v, "delivery")?),
            "Send" => SesEventKind::Send,
            "Reject" => SesEventKind::Reject(part(v, "reject")?),
            "Open" => SesEventKind::Open(part(v, "open")?),
            "Click" => SesEventKind::Click(part(v, "click")?),
            "DeliveryDelay" => SesEventKind::DeliveryDelay(part(v, "deliveryDelay")?),
            "Subscription" => SesEventKind::Subscription(part(v, "subscription")?),
            "Rendering Failure" => SesEventKind::RenderingFailure(part(v, "failure")?),
            "Received" => SesEventKind::Received {
                receipt: v.get("receipt").cloned().unwrap_or_default(),
                content: v.get("content").and_then(|c| c.as_str()).map(str::to_owned),
            },
            other => return Err(format!("unknown SES event type {other:?}")),
        };
        Ok(SesEvent { mail, kind })
    }

    /// The event as JSON in SES's shape (`eventType`, `mail` and the event's object).
    pub fn to_json(&self) -> serde_json::Value {
        let value = |x: Result<serde_json::Value, serde_json::Error>| x.unwrap_or_default();
        let (key, payload) = match &self.kind {
            SesEventKind::Bounce(b) => ("bounce", value(serde_json::to_value(b))),
            SesEventKind::Complaint(c) => ("complaint", value(serde_json::to_value(c))),
            SesEventKind::Delivery(d) => ("delivery", value(serde_json::to_value(d))),
            SesEventKind::Send => ("send", serde_json::json!({})),
            SesEventKind::Reject(r) => ("reject", value(serde_json::to_value(r))),
            SesEventKind::Open(o) => ("open", value(serde_json::to_value(o))),
            SesEventKind::Click(c) => ("click", value(serde_json::to_value(c))),
            SesEventKind::DeliveryDelay(d) => ("deliveryDelay", value(serde_json::to_value(d))),
            SesEventKind::Subscription(s) => ("subscription", value(serde_json::to_value(s))),
            SesEventKind::RenderingFailure(f) => ("failure", value(serde_json::to_value(f))),
            SesEventKind::Received { receipt, .. } => ("receipt", receipt.clone()),
        };
        let mut v =
            serde_json::json!({ "eventType": self.kind.name(), "mail": value(serde_json::to_value(&self.mail)) });
        v[key] = payload;
        if let SesEventKind::Received { content: Some(c), .. } = &self.kind {
            v["content"] = c.clone().into();
        }
        v
    }
}
