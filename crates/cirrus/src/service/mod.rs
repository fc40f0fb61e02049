//! Who a service is: the names it goes by in messages, in signatures and in endpoints, and its
//! wire protocol, one [`ServiceSpec`] value per service; and where its requests go
//! ([`endpoint`]). A leaf: it stands only on the environment seam and the profile parser, so
//! configuration, transport and the services all stand on it.

pub mod endpoint;

/// A service's names for endpoint purposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceId {
    /// The hostname prefix (`sts`, `s3`, `email` for SES, `cognito-idp`...).
    pub host_prefix: &'static str,
    /// The suffix of `AWS_ENDPOINT_URL_<SERVICE>` (`STS`, `S3`, `SESV2`, `COGNITO_IDENTITY_PROVIDER`).
    pub env_suffix: &'static str,
}

/// An AWS wire protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protocol {
    /// awsQuery.
    Query,
    /// restXml.
    RestXml,
    /// restJson1.
    RestJson,
    /// awsJson 1.0 or 1.1 (the version is in the content type).
    Json,
}

/// Everything fixed about a service: one constant per service module (`cirrus::s3::SPEC`...).
///
/// ```
/// use cirrus::service::{Protocol, ServiceId, ServiceSpec};
///
/// const SQS: ServiceSpec = ServiceSpec {
///     name: "SQS",
///     signing_name: "sqs",
///     protocol: Protocol::Json,
///     id: ServiceId { host_prefix: "sqs", env_suffix: "SQS" },
/// };
/// assert_eq!(SQS.id.host_prefix, "sqs");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceSpec {
    /// The service as people name it in messages (`"STS"`, `"S3"`).
    pub name: &'static str,
    /// The SigV4 signing name (`"sts"`, `"s3"`, `"ses"`...).
    pub signing_name: &'static str,
    /// The wire protocol, for reading errors.
    pub protocol: Protocol,
    /// Its names for endpoints.
    pub id: ServiceId,
}
