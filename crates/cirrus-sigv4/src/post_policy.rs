//! S3 POST policies: a typed builder for browser form uploads.
//!
//! A policy is a JSON document with an expiration and conditions; S3 checks the form against it
//! and the signature over its base64. See
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html>.
//!
//! ```
//! use cirrus_sigv4::post_policy::PostPolicy;
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let form = PostPolicy::builder(now + Duration::from_secs(3600))
//!     .bucket("uploads")
//!     .key_starts_with("user/42/")
//!     .content_length_range(1, 10 * 1024 * 1024)
//!     .build()?
//!     .sign("AKIDEXAMPLE", "secret", None, "us-east-1", now);
//! assert!(form.fields.iter().any(|(k, _)| k == "x-amz-signature"));
//! # Ok::<(), cirrus_sigv4::SigningError>(())
//! ```

use crate::encode::base64;
use crate::error::{ErrorKind, SigningError};
use crate::key::SigningKey;
use crate::time::Civil;
use std::time::SystemTime;

/// One policy condition.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Condition {
    /// The form field must equal the value exactly (`{"field": "value"}`).
    Equals(String, String),
    /// The form field must start with the prefix (`["starts-with", "$field", "prefix"]`); an
    /// empty prefix allows any value.
    StartsWith(String, String),
    /// The file size must be within `min..=max` bytes.
    ContentLengthRange(u64, u64),
}

/// A POST policy ready to sign.
///
/// A form that lets a browser upload one avatar image of at most 2 MiB:
///
/// ```
/// use cirrus_sigv4::post_policy::PostPolicy;
/// use std::time::{Duration, SystemTime};
///
/// let now = SystemTime::now();
/// let policy = PostPolicy::builder(now + Duration::from_secs(600))
///     .bucket("avatars")
///     .key("user/42/avatar.png")
///     .content_type_starts_with("image/")
///     .content_length_range(1, 2 * 1024 * 1024)
///     .success_action_status(201)
///     .build()?;
/// let form = policy.sign("AKIDEXAMPLE", "secret", None, "eu-west-1", now);
/// // Send the fields in order, then `Content-Type` and the file as the last part.
/// for (name, value) in &form.fields {
///     println!("{name}: {value}");
/// }
/// assert!(form.policy.contains(r#"["starts-with","$Content-Type","image/"]"#));
/// # Ok::<(), cirrus_sigv4::SigningError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostPolicy {
    expiration: SystemTime,
    conditions: Vec<Condition>,
    /// Form fields whose value is fixed by an `Equals` condition and must be sent.
    fixed_fields: Vec<(String, String)>,
}

/// Builds a [`PostPolicy`]. Invalid values are kept until [`PostPolicyBuilder::build`] reports them.
#[derive(Clone, Debug)]
#[must_use]
pub struct PostPolicyBuilder {
    expiration: SystemTime,
    conditions: Vec<Condition>,
    fixed_fields: Vec<(String, String)>,
    error: Option<String>,
}

/// The signed form: post `fields` (in order) and then the file, as `multipart/form-data`.
///
/// Debug hides the session token (in the fields and inside the policy).
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedPost {
    /// The policy JSON.
    pub policy: String,
    /// The policy, base64: the string that was signed.
    pub policy_base64: String,
    /// The signature (lowercase hex).
    pub signature: String,
    /// Form fields to send before the file.
    pub fields: Vec<(String, String)>,
}

impl std::fmt::Debug for PresignedPost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(k, v)| {
                let secret = k == "x-amz-security-token" || k == "policy";
                (k.as_str(), if secret { "** redacted **" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("PresignedPost")
            .field("policy", &"** redacted **")
            .field("signature", &self.signature)
            .field("fields", &fields)
            .finish_non_exhaustive()
    }
}

impl PostPolicy {
    /// Starts a policy that expires at `expiration`.
    pub fn builder(expiration: SystemTime) -> PostPolicyBuilder {
        PostPolicyBuilder { expiration, conditions: Vec::new(), fixed_fields: Vec::new(), error: None }
    }

    /// The conditions, in order.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// Signs the policy at `time` for S3 in `region`, adding the `x-amz-*` conditions and fields.
    pub fn sign(
        &self,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<&str>,
        region: &str,
        time: SystemTime,
    ) -> PresignedPost {
        let amz_date = Civil::from_system_time(time).amz_date();
        let date = &amz_date[..8];
        let credential = format!("{access_key_id}/{date}/{region}/s3/aws4_request");
        let mut conditions = self.conditions.clone();
        let mut fields = self.fixed_fields.clone();
        let mut signing = vec![
            ("x-amz-algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
            ("x-amz-credential".to_owned(), credential),
            ("x-amz-date".to_owned(), amz_date.clone()),
        ];
        if let Some(t) = session_token.filter(|t| !t.is_empty()) {
            signing.push(("x-amz-security-token".to_owned(), t.to_owned()));
        }
        for (k, v) in &signing {
            conditions.push(Condition::Equals(k.clone(), v.clone()));
        }
        let policy = policy_json(self.expiration, &conditions);
        let policy_base64 = base64(policy.as_bytes());
        let signature = sign_policy(&policy_base64, secret_access_key, date, region);
        fields.extend(signing);
        fields.push(("policy".to_owned(), policy_base64.clone()));
        fields.push(("x-amz-signature".to_owned(), signature.clone()));
        PresignedPost { policy, policy_base64, signature, fields }
    }
}

/// Signs a base64 policy with the S3 signing key for `date` (`YYYYMMDD`) and `region`.
pub fn sign_policy(policy_base64: &str, secret_access_key: &str, date: &str, region: &str) -> String {
    SigningKey::cached(secret_access_key, date, region, "s3").sign(policy_base64)
}

impl PostPolicyBuilder {
    fn check_field(&mut self, field: &str) {
        if self.error.is_none() && (field.is_empty() || field.starts_with('$')) {
            self.error = Some(format!("form field name {field:?} must be non-empty and without `$`"));
        }
    }

    /// The field must equal `value`; the value is also sent as a form field.
    pub fn equals(mut self, field: &str, value: &str) -> Self {
        self.check_field(field);
        self.conditions.push(Condition::Equals(field.to_owned(), value.to_owned()));
        self.fixed_fields.push((field.to_owned(), value.to_owned()));
        self
    }

    /// The field must start with `prefix` (the caller sends the field).
    pub fn starts_with(mut self, field: &str, prefix: &str) -> Self {
        self.check_field(field);
        self.conditions.push(Condition::StartsWith(field.to_owned(), prefix.to_owned()));
        self
    }

    /// The bucket (a condition only: the bucket is in the URL).
    pub fn bucket(mut self, bucket: &str) -> Self {
        if bucket.is_empty() && self.error.is_none() {
            self.error = Some("bucket name is empty".to_owned());
        }
        self.conditions.push(Condition::Equals("bucket".to_owned(), bucket.to_owned()));
        self
    }

    /// The object key, exactly (sent as the `key` field). `${filename}` in it is replaced by S3
    /// with the uploaded file's name.
    pub fn key(self, key: &str) -> Self {
        self.equals("key", key)
    }

    /// The object key must start with `prefix`; the caller sends `key`.
    pub fn key_starts_with(self, prefix: &str) -> Self {
        self.starts_with("key", prefix)
    }

    /// The `Content-Type` field must equal `content_type` (and is sent).
    pub fn content_type(self, content_type: &str) -> Self {
        self.equals("Content-Type", content_type)
    }

    /// The `Content-Type` field must start with `prefix` (e.g. `image/`).
    pub fn content_type_starts_with(self, prefix: &str) -> Self {
        self.starts_with("Content-Type", prefix)
    }

    /// The file must be `min..=max` bytes.
    pub fn content_length_range(mut self, min: u64, max: u64) -> Self {
        if min > max && self.error.is_none() {
            self.error = Some(format!("content-length-range minimum {min} is above maximum {max}"));
        }
        self.conditions.push(Condition::ContentLengthRange(min, max));
        self
    }

    /// The status S3 answers with on success (200, 201 or 204; sent as a field).
    pub fn success_action_status(mut self, status: u16) -> Self {
        if !matches!(status, 200 | 201 | 204) && self.error.is_none() {
            self.error = Some(format!("success_action_status must be 200, 201 or 204, not {status}"));
        }
        self.equals("success_action_status", &status.to_string())
    }

    /// User metadata `x-amz-meta-<name>`, exactly `value` (sent as a field).
    pub fn meta(self, name: &str, value: &str) -> Self {
        self.equals(&format!("x-amz-meta-{name}"), value)
    }

    /// Checks the policy.
    pub fn build(self) -> Result<PostPolicy, SigningError> {
        if let Some(e) = self.error {
            return Err(SigningError::new(ErrorKind::PolicyInvalid(e)));
        }
        // ISO 8601 as S3 reads it has four-digit years: 9999-12-31T23:59:59Z at the latest.
        let last = std::time::UNIX_EPOCH + std::time::Duration::from_secs(253_402_300_799);
        if self.expiration > last {
            return Err(SigningError::new(ErrorKind::PolicyInvalid(
                "the expiration is after the year 9999, which a policy cannot say".to_owned(),
            )));
        }
        Ok(PostPolicy { expiration: self.expiration, conditions: self.conditions, fixed_fields: self.fixed_fields })
    }
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn policy_json(expiration: SystemTime, conditions: &[Condition]) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("{\"expiration\":");
    push_json_string(&mut out, &Civil::from_system_time(expiration).iso8601());
    out.push_str(",\"conditions\":[");
    for (i, c) in conditions.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match c {
            Condition::Equals(k, v) => {
                out.push('{');
                push_json_string(&mut out, k);
                out.push(':');
                push_json_string(&mut out, v);
                out.push('}');
            }
            Condition::StartsWith(k, p) => {
                out.push_str("[\"starts-with\",");
                push_json_string(&mut out, &format!("${k}"));
                out.push(',');
                push_json_string(&mut out, p);
                out.push(']');
            }
            Condition::ContentLengthRange(min, max) => {
                out.push_str(&format!("[\"content-length-range\",{min},{max}]"));
            }
        }
    }
    out.push_str("]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn an_expiration_past_the_year_9999_is_refused() {
        let far = UNIX_EPOCH + Duration::from_secs(253_402_300_800);
        let e = PostPolicy::builder(far).bucket("b").build().unwrap_err();
        assert!(e.to_string().contains("9999"), "{e}");
        assert!(PostPolicy::builder(far - Duration::from_secs(1)).bucket("b").build().is_ok());
    }

    #[test]
    fn builds_and_escapes() {
        let t = UNIX_EPOCH + Duration::from_secs(1_451_347_200); // 2015-12-29
        let p = PostPolicy::builder(t + Duration::from_secs(129_600))
            .bucket("b")
            .key_starts_with("user/\"q\"/")
            .content_type("image/png")
            .content_length_range(1, 1024)
            .success_action_status(201)
            .meta("uuid", "14365123651274")
            .build()
            .unwrap();
        let s = p.sign("AKID", "secret", Some("tok"), "us-east-1", t);
        assert_eq!(
            s.policy,
            "{\"expiration\":\"2015-12-30T12:00:00.000Z\",\"conditions\":[{\"bucket\":\"b\"},\
             [\"starts-with\",\"$key\",\"user/\\\"q\\\"/\"],{\"Content-Type\":\"image/png\"},\
             [\"content-length-range\",1,1024],{\"success_action_status\":\"201\"},\
             {\"x-amz-meta-uuid\":\"14365123651274\"},{\"x-amz-algorithm\":\"AWS4-HMAC-SHA256\"},\
             {\"x-amz-credential\":\"AKID/20151229/us-east-1/s3/aws4_request\"},\
             {\"x-amz-date\":\"20151229T000000Z\"},{\"x-amz-security-token\":\"tok\"}]}"
        );
        let names: Vec<&str> = s.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "Content-Type",
                "success_action_status",
                "x-amz-meta-uuid",
                "x-amz-algorithm",
                "x-amz-credential",
                "x-amz-date",
                "x-amz-security-token",
                "policy",
                "x-amz-signature"
            ]
        );
        assert_eq!(s.signature, sign_policy(&s.policy_base64, "secret", "20151229", "us-east-1"));
    }

    #[test]
    fn rejects_bad_values() {
        let t = UNIX_EPOCH;
        assert!(PostPolicy::builder(t).content_length_range(5, 1).build().unwrap_err().is_invalid_params());
        assert!(PostPolicy::builder(t).success_action_status(302).build().is_err());
        assert!(PostPolicy::builder(t).equals("$key", "x").build().is_err());
        assert!(PostPolicy::builder(t).bucket("").build().is_err());
    }
}
