//! SNS: publish, subscribe and confirm ([`SnsClient`]); verify what SNS posts to a webhook
//! ([`Verifier`]); read the SES events it carries ([`SesEvent`]).
//!
//! API reference: <https://docs.aws.amazon.com/sns/latest/api/welcome.html>

mod fetch;
mod ses_event;
pub(crate) mod verify;

pub use fetch::CertFetcher;
pub use ses_event::{
    Bounce, BounceType, BouncedRecipient, Click, Complaint, Delivery, DeliveryDelay, Header, Mail, Open, Recipient,
    Reject, RenderingFailure, SesEvent, SesEventKind, Subscription,
};
pub use verify::{
    check_cert_url, check_subscribe_url, string_to_sign, Check, Message, MessageType, SignatureVersion, SigningCert,
    Verifier, VerifyError, MAX_BODY_BYTES, MAX_CERT_BYTES,
};

use crate::config::{Config, ConfigError};
use crate::service::{Protocol, ServiceId, ServiceSpec};
use crate::transport::protocol::{query_body, query_result};
use crate::transport::xml::Element;
use crate::transport::{Error, Request, ServiceConfig};
use http::Method;

const NAME: &str = SPEC.name;
const VERSION: &str = "2010-03-31";
/// How SNS's endpoint is found: `sns.<region>.amazonaws.com`, `AWS_ENDPOINT_URL_SNS`.
pub const ID: ServiceId = SPEC.id;
/// SNS: names, signing name, protocol, endpoint names.
pub const SPEC: ServiceSpec = ServiceSpec {
    name: "SNS",
    signing_name: "sns",
    protocol: Protocol::Query,
    id: ServiceId { host_prefix: "sns", env_suffix: "SNS" },
};

/// A message attribute's value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttributeValue {
    /// `String`.
    String(String),
    /// `Number` (as text, as SNS keeps it).
    Number(String),
    /// `String.Array`: a JSON array, as text.
    StringArray(String),
    /// `Binary`.
    Binary(Vec<u8>),
}

/// Publish's options.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct PublishOptions {
    /// The subject (email subscriptions use it; at most 100 characters).
    pub subject: Option<String>,
    /// Message attributes (subscription filter policies match on them).
    pub attributes: Vec<(String, AttributeValue)>,
    /// FIFO topics: the message group.
    pub message_group_id: Option<String>,
    /// FIFO topics: the deduplication id.
    pub message_deduplication_id: Option<String>,
}

impl PublishOptions {
    /// Options with this subject.
    pub fn subject(subject: impl Into<String>) -> Self {
        PublishOptions { subject: Some(subject.into()), ..PublishOptions::default() }
    }

    /// These options with one more attribute.
    #[must_use]
    pub fn with_attribute(mut self, name: impl Into<String>, value: AttributeValue) -> Self {
        self.attributes.push((name.into(), value));
        self
    }
}

/// The SNS client.
#[derive(Clone, Debug)]
pub struct SnsClient {
    svc: ServiceConfig,
}

impl SnsClient {
    /// A client for `config`'s region, endpoint and credentials.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        Ok(SnsClient { svc: config.service(SPEC, config.credentials().cloned())? })
    }

    /// A client over a service config built elsewhere.
    pub fn from_service(svc: ServiceConfig) -> Self {
        SnsClient { svc }
    }

    async fn send(&self, action: &'static str, params: Vec<(String, String)>) -> Result<bytes::Bytes, Error> {
        let body = query_body(action, VERSION, params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let req = Request::new(Method::POST, format!("{}/", self.svc.endpoint().trim_end_matches('/')), body)
            .header("content-type", "application/x-www-form-urlencoded; charset=utf-8");
        Ok(self.svc.send(action, req).await?.body)
    }

    async fn call(&self, action: &'static str, params: Vec<(String, String)>) -> Result<Element, Error> {
        let body = self.send(action, params).await?;
        query_result(action, &body).map_err(|e| Error::response(NAME, action, e))
    }

    fn text(action: &'static str, result: &Element, name: &str) -> Result<String, Error> {
        result
            .text_of(name)
            .map(str::to_owned)
            .ok_or_else(|| Error::response(NAME, action, format!("no {name} in the answer")))
    }

    /// CreateTopic (idempotent): returns the topic ARN.
    pub async fn create_topic(&self, name: &str) -> Result<String, Error> {
        let r = self.call("CreateTopic", vec![("Name".into(), name.into())]).await?;
        Self::text("CreateTopic", &r, "TopicArn")
    }

    /// DeleteTopic.
    pub async fn delete_topic(&self, topic_arn: &str) -> Result<(), Error> {
        // The answer has no DeleteTopicResult, only response metadata.
        self.send("DeleteTopic", vec![("TopicArn".into(), topic_arn.into())]).await.map(drop)
    }

    /// Publish: returns the message id.
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// use cirrus::sns::{AttributeValue, PublishOptions, SnsClient};
    /// use cirrus::Config;
    ///
    /// let sns = SnsClient::new(&Config::from_env()?)?;
    /// let topic = "arn:aws:sns:eu-west-1:123456789012:deploys";
    /// let options = PublishOptions::subject("Deploy finished")
    ///     .with_attribute("env", AttributeValue::String("prod".to_owned()));
    /// let message_id = sns.publish(topic, "v1.4.2 is live", &options).await?;
    /// println!("published {message_id}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn publish(&self, topic_arn: &str, message: &str, options: &PublishOptions) -> Result<String, Error> {
        const OP: &str = "Publish";
        if message.is_empty() {
            return Err(Error::input(NAME, OP, "the message is empty"));
        }
        let mut p = vec![("TopicArn".to_owned(), topic_arn.to_owned()), ("Message".to_owned(), message.to_owned())];
        if let Some(s) = &options.subject {
            if s.contains(['\r', '\n']) {
                return Err(Error::input(NAME, OP, "the subject holds a line break"));
            }
            p.push(("Subject".into(), s.clone()));
        }
        for (i, (name, value)) in options.attributes.iter().enumerate() {
            let k = format!("MessageAttributes.entry.{}", i + 1);
            let (data_type, field, v) = match value {
                AttributeValue::String(s) => ("String", "StringValue", s.clone()),
                AttributeValue::Number(n) => ("Number", "StringValue", n.clone()),
                AttributeValue::StringArray(a) => ("String.Array", "StringValue", a.clone()),
                AttributeValue::Binary(b) => ("Binary", "BinaryValue", cirrus_sigv4::base64(b)),
            };
            p.push((format!("{k}.Name"), name.clone()));
            p.push((format!("{k}.Value.DataType"), data_type.into()));
            p.push((format!("{k}.Value.{field}"), v));
        }
        if let Some(g) = &options.message_group_id {
            p.push(("MessageGroupId".into(), g.clone()));
        }
        if let Some(d) = &options.message_deduplication_id {
            p.push(("MessageDeduplicationId".into(), d.clone()));
        }
        let r = self.call(OP, p).await?;
        Self::text(OP, &r, "MessageId")
    }

    /// Subscribe: `protocol` is `https`, `http`, `email`, `sqs`, `lambda`...; returns the
    /// subscription ARN (`pending confirmation` until the endpoint confirms).
    pub async fn subscribe(&self, topic_arn: &str, protocol: &str, endpoint: &str) -> Result<String, Error> {
        let p = vec![
            ("TopicArn".to_owned(), topic_arn.to_owned()),
            ("Protocol".to_owned(), protocol.to_owned()),
            ("Endpoint".to_owned(), endpoint.to_owned()),
            ("ReturnSubscriptionArn".to_owned(), "true".to_owned()),
        ];
        let r = self.call("Subscribe", p).await?;
        Self::text("Subscribe", &r, "SubscriptionArn")
    }

    /// ConfirmSubscription with the `Token` of a SubscriptionConfirmation; returns the
    /// subscription ARN. (A webhook can also visit the message's `SubscribeURL` with
    /// [`Verifier::confirm_subscription`].)
    pub async fn confirm_subscription(&self, topic_arn: &str, token: &str) -> Result<String, Error> {
        let p = vec![("TopicArn".to_owned(), topic_arn.to_owned()), ("Token".to_owned(), token.to_owned())];
        let r = self.call("ConfirmSubscription", p).await?;
        Self::text("ConfirmSubscription", &r, "SubscriptionArn")
    }
}
