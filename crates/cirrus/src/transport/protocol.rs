//! The four AWS wire formats: how requests are shaped and how errors are read.
//!
//! - **query** (STS, SNS, SES v1): `POST` of a form with `Action` and `Version`; XML answers;
//!   errors as `<ErrorResponse><Error><Code/><Message/></Error><RequestId/></ErrorResponse>`.
//! - **rest-xml** (S3): REST paths; XML answers; errors as `<Error><Code/><Message/><RequestId/></Error>`,
//!   sometimes inside a `200 OK`.
//! - **rest-json** (SES v2): REST paths; JSON answers; the code in `x-amzn-ErrorType` or the body.
//! - **json** 1.0 / 1.1 (Cognito): `POST /` with `X-Amz-Target: Service.Operation`; errors with `__type`.

use super::xml;
use bytes::Bytes;
use http::HeaderMap;

pub use crate::service::Protocol;

/// The parts of an error answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ErrorParts {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// S3: the bucket's region, from `x-amz-bucket-region` or the error's `<Region>`.
    pub region: Option<String>,
}

/// Reads the error out of a failed response. Never fails: an unreadable body gives the start
/// of the body as the message and a code from the status (`NotFound`, `Http428`...).
pub(crate) fn parse_error(protocol: Protocol, status: u16, headers: &HeaderMap, body: &[u8]) -> ErrorParts {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let request_id = header("x-amzn-requestid").or_else(|| header("x-amz-request-id"));
    let mut parts = match protocol {
        Protocol::Query | Protocol::RestXml => xml_error(body),
        Protocol::RestJson | Protocol::Json => json_error(header("x-amzn-errortype"), body),
    };
    if parts.request_id.is_none() {
        parts.request_id = request_id;
    }
    if let Some(r) = header("x-amz-bucket-region") {
        parts.region = Some(r);
    }
    if parts.code.is_empty() && parts.message.is_empty() {
        parts.message = snippet(body);
        if parts.code.is_empty() {
            parts.code = status_code_name(status);
        }
    }
    parts
}

fn xml_error(body: &[u8]) -> ErrorParts {
    let Ok(root) = xml::parse(body) else { return ErrorParts::default() };
    let err = if root.name == "Error" { Some(&root) } else { root.child("Error") };
    let text = |e: Option<&xml::Element>, name: &str| e.and_then(|e| e.text_of(name)).unwrap_or_default().to_owned();
    let request_id = err
        .and_then(|e| e.text_of("RequestId"))
        .or_else(|| root.text_of("RequestId"))
        .or_else(|| root.text_of("RequestID"))
        .map(str::to_owned);
    let region = err.and_then(|e| e.text_of("Region")).filter(|r| !r.is_empty()).map(str::to_owned);
    ErrorParts { code: text(err, "Code"), message: text(err, "Message"), request_id, region }
}

fn json_error(header_type: Option<String>, body: &[u8]) -> ErrorParts {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let raw = header_type.or_else(|| s("__type")).or_else(|| s("code")).or_else(|| s("Code")).unwrap_or_default();
    ErrorParts {
        code: clean_code(&raw).to_owned(),
        message: s("message").or_else(|| s("Message")).unwrap_or_default(),
        request_id: None,
        region: None,
    }
}

/// `aws.protocoltests#FooError:http://...` is `FooError`.
fn clean_code(raw: &str) -> &str {
    let raw = raw.split(':').next().unwrap_or(raw);
    raw.rsplit('#').next().unwrap_or(raw)
}

/// A `200 OK` from S3 that is an error in disguise (CompleteMultipartUpload, CopyObject...).
pub(crate) fn is_error_body(body: &[u8]) -> bool {
    let head = &body[..body.len().min(256)];
    let s = String::from_utf8_lossy(head);
    let s = s.trim_start();
    let s = if s.starts_with("<?xml") { s.split_once("?>").map(|(_, r)| r.trim_start()).unwrap_or("") } else { s };
    s.starts_with("<Error>")
}

fn snippet(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(200)]);
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A code for an answer whose body names none: the status's name for the common ones, else
/// `Http` and the number (`Http428`), which no AWS error code looks like. Never empty.
fn status_code_name(status: u16) -> String {
    let known = match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        412 => "PreconditionFailed",
        429 => "TooManyRequests",
        500 => "InternalError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => return format!("Http{status}"),
    };
    known.to_owned()
}

/// A query-protocol request body: `Action=...&Version=...` and the parameters, form-encoded.
pub fn query_body<'a>(action: &str, version: &str, params: impl IntoIterator<Item = (&'a str, &'a str)>) -> Bytes {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", action).append_pair("Version", version);
    for (k, v) in params {
        form.append_pair(k, v);
    }
    Bytes::from(form.finish())
}

/// A json-protocol (awsJson 1.0 / 1.1) request: `POST /` with `X-Amz-Target: {target_prefix}.{operation}`
/// and the JSON body. `version` is `"1.0"` or `"1.1"`.
pub fn json_request(
    endpoint: &str,
    version: &str,
    target_prefix: &str,
    operation: &str,
    body: &serde_json::Value,
) -> super::Request {
    super::Request::new(http::Method::POST, format!("{}/", endpoint.trim_end_matches('/')), body.to_string())
        .header("content-type", &format!("application/x-amz-json-{version}"))
        .header("x-amz-target", &format!("{target_prefix}.{operation}"))
}

/// Parses a query-protocol answer and returns its `<{Action}Result>` element.
pub fn query_result(action: &str, body: &[u8]) -> Result<xml::Element, super::ParseError> {
    let mut root = xml::parse(body)?;
    let want = format!("{action}Result");
    match root.children.iter().position(|c| c.name == want) {
        Some(i) => Ok(root.children.swap_remove(i)),
        None => Err(super::ParseError::new("the answer", format!("no <{want}> in the <{}> answer", root.name))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_answer_with_any_status_still_has_a_code() {
        // Found by the error_body fuzz target: a 428 with no body gave an empty code and message.
        for (status, want) in [(428, "Http428"), (599, "Http599"), (408, "Http408"), (503, "ServiceUnavailable")] {
            for protocol in [Protocol::Query, Protocol::RestXml, Protocol::RestJson, Protocol::Json] {
                let p = parse_error(protocol, status, &HeaderMap::new(), b" \n");
                assert_eq!((p.code.as_str(), p.message.as_str()), (want, ""), "{status} {protocol:?}");
            }
        }
    }

    #[test]
    fn query_errors() {
        let body = br#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>abc-123</RequestId></ErrorResponse>"#;
        let p = parse_error(Protocol::Query, 403, &HeaderMap::new(), body);
        assert_eq!(p.code, "InvalidClientTokenId");
        assert_eq!(p.request_id.as_deref(), Some("abc-123"));
        assert!(p.message.starts_with("The security token"));
    }

    #[test]
    fn rest_xml_errors_and_disguised_ones() {
        let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>gone</Message><RequestId>R</RequestId></Error>";
        let p = parse_error(Protocol::RestXml, 404, &HeaderMap::new(), body);
        assert_eq!((p.code.as_str(), p.message.as_str(), p.request_id.as_deref()), ("NoSuchKey", "gone", Some("R")));
        assert!(is_error_body(body));
        assert!(!is_error_body(b"<?xml version=\"1.0\"?><CompleteMultipartUploadResult/>"));
    }

    #[test]
    fn json_errors() {
        let mut h = HeaderMap::new();
        let p = parse_error(
            Protocol::Json,
            400,
            &h,
            br#"{"__type":"com.amazon#NotAuthorizedException","message":"Incorrect username or password."}"#,
        );
        assert_eq!(
            (p.code.as_str(), p.message.as_str()),
            ("NotAuthorizedException", "Incorrect username or password.")
        );
        h.insert("x-amzn-errortype", "MessageRejected:http://internal".parse().unwrap());
        h.insert("x-amzn-requestid", "id-9".parse().unwrap());
        let p = parse_error(Protocol::RestJson, 400, &h, br#"{"message":"Email address is not verified."}"#);
        assert_eq!((p.code.as_str(), p.request_id.as_deref()), ("MessageRejected", Some("id-9")));
    }

    #[test]
    fn unreadable_bodies_still_say_something() {
        let p = parse_error(Protocol::RestXml, 503, &HeaderMap::new(), b"<html>  upstream\n down</html>");
        assert_eq!(p.code, "ServiceUnavailable");
        assert_eq!(p.message, "<html> upstream down</html>");
    }

    #[test]
    fn json_requests_carry_the_target() {
        let r = json_request(
            "https://cognito-idp.eu-west-1.amazonaws.com/",
            "1.1",
            "AWSCognitoIdentityProviderService",
            "InitiateAuth",
            &serde_json::json!({"AuthFlow": "USER_SRP_AUTH"}),
        );
        assert_eq!(r.url, "https://cognito-idp.eu-west-1.amazonaws.com/");
        assert_eq!(r.headers["x-amz-target"], "AWSCognitoIdentityProviderService.InitiateAuth");
        assert_eq!(r.headers["content-type"], "application/x-amz-json-1.1");
        assert_eq!(&r.body[..], br#"{"AuthFlow":"USER_SRP_AUTH"}"#);
    }

    #[test]
    fn query_bodies_are_form_encoded() {
        let b = query_body("AssumeRole", "2011-06-15", [("RoleSessionName", "a b&c")]);
        assert_eq!(&b[..], b"Action=AssumeRole&Version=2011-06-15&RoleSessionName=a+b%26c");
    }
}
