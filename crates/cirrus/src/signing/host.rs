//! What an AWS host name says about the request sent to it: the signing name of the service and
//! the region, for signing a request to a URL with no more said (`cirrus sign`, `cirrus curl`).

/// The labels of an AWS host before `.amazonaws.com` (or `.amazonaws.com.cn`), port removed;
/// `None` for any other host.
fn aws_labels(host: &str) -> Option<Vec<&str>> {
    let host = host.trim();
    let host = host.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
    let rest = host.strip_suffix(".amazonaws.com").or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    Some(rest.split('.').collect())
}

/// The signing name of the service an AWS host belongs to: `s3` for any S3 host (virtual-hosted
/// or path-style, dualstack, the legacy `s3-<region>` forms), otherwise the host's first label
/// (`sts.us-east-2.amazonaws.com` is `sts`). `None` for a host that is not AWS's (a custom
/// endpoint, `localhost:9000`): the caller must name the service.
///
/// ```
/// use cirrus::signing::service_from_host;
///
/// assert_eq!(service_from_host("examplebucket.s3.eu-west-1.amazonaws.com:443").as_deref(), Some("s3"));
/// assert_eq!(service_from_host("sts.us-east-2.amazonaws.com").as_deref(), Some("sts"));
/// assert_eq!(service_from_host("abc123.execute-api.eu-west-1.amazonaws.com").as_deref(), Some("abc123"));
/// assert_eq!(service_from_host("localhost:9000"), None);
/// ```
///
/// The first label is a guess for hosts that put something else first (API Gateway's API id
/// above): pass the signing name yourself when you know it.
pub fn service_from_host(host: &str) -> Option<String> {
    let labels = aws_labels(host)?;
    if labels.iter().any(|l| *l == "s3" || l.starts_with("s3-")) {
        return Some("s3".to_owned());
    }
    labels.first().filter(|l| !l.is_empty()).map(|l| (*l).to_owned())
}

/// The region named in an AWS host: the first label shaped like a region
/// (`<area>-<place>-<number>`, such as `us-east-2` or `us-gov-west-1`). `None` for a global
/// endpoint (`iam.amazonaws.com`, `examplebucket.s3.amazonaws.com`) or a host that is not AWS's.
///
/// ```
/// use cirrus::signing::region_from_host;
///
/// assert_eq!(region_from_host("sts.us-east-2.amazonaws.com").as_deref(), Some("us-east-2"));
/// assert_eq!(region_from_host("b.s3.cn-north-1.amazonaws.com.cn").as_deref(), Some("cn-north-1"));
/// assert_eq!(region_from_host("examplebucket.s3.amazonaws.com"), None);
/// assert_eq!(region_from_host("localhost:9000"), None);
/// ```
pub fn region_from_host(host: &str) -> Option<String> {
    let labels = aws_labels(host)?;
    labels
        .iter()
        .find(|l| {
            let parts: Vec<&str> = l.split('-').collect();
            parts.len() >= 3 && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|l| (*l).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_from_aws_hosts_only() {
        for (host, want) in [
            ("examplebucket.s3.amazonaws.com", Some("s3")),
            ("b.s3.eu-west-1.amazonaws.com:443", Some("s3")),
            ("s3-eu-west-1.amazonaws.com", Some("s3")),
            ("b.s3.dualstack.us-east-1.amazonaws.com", Some("s3")),
            ("sts.us-east-2.amazonaws.com", Some("sts")),
            (" sqs.eu-west-1.amazonaws.com.cn ", Some("sqs")),
            ("localhost:9000", None),
            ("amazonaws.com", None),
            ("s3.amazonaws.com.evil.example", None),
        ] {
            assert_eq!(service_from_host(host).as_deref(), want, "{host}");
        }
    }

    #[test]
    fn regions_shaped_like_regions() {
        for (host, want) in [
            ("sts.us-east-2.amazonaws.com", Some("us-east-2")),
            ("b.s3.us-gov-west-1.amazonaws.com:8443", Some("us-gov-west-1")),
            ("example.amazonaws.com", None),
            ("my-api-v2.execute-api.eu-central-1.amazonaws.com", Some("eu-central-1")),
            ("sts.us-east-2.example.com", None),
        ] {
            assert_eq!(region_from_host(host).as_deref(), want, "{host}");
        }
    }
}
