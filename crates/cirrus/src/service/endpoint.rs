//! Where a service's requests go: an explicit URL, `AWS_ENDPOINT_URL_<SERVICE>`,
//! `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, then the standard AWS endpoint of the
//! region's partition (aws, aws-cn, aws-us-gov). `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`
//! skips the variables and the profile.

use super::ServiceId;
use crate::env::Env;
use crate::profile::Profile;
use crate::Origin;

/// The DNS suffix of the region's partition.
pub fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        // aws and aws-us-gov share it.
        "amazonaws.com"
    }
}

/// The standard endpoint of `service` in `region`.
pub fn standard_endpoint(service: ServiceId, region: &str) -> String {
    format!("https://{}.{region}.{}", service.host_prefix, dns_suffix(region))
}

/// Resolves the endpoint for `service`, saying where it came from.
pub fn resolve(
    service: ServiceId,
    region: &str,
    explicit: Option<&str>,
    env: &dyn Env,
    profile: Option<&Profile>,
) -> (String, Origin) {
    if let Some(e) = explicit {
        return (e.trim_end_matches('/').to_owned(), Origin::Explicit);
    }
    let ignore = env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || profile
            .and_then(|p| p.get("ignore_configured_endpoint_urls"))
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !ignore {
        let var = format!("AWS_ENDPOINT_URL_{}", service.env_suffix);
        if let Some(e) = env.get(&var) {
            return (e.trim_end_matches('/').to_owned(), Origin::Env(var.into()));
        }
        if let Some(e) = env.get("AWS_ENDPOINT_URL") {
            return (e.trim_end_matches('/').to_owned(), Origin::Env("AWS_ENDPOINT_URL".into()));
        }
        if let Some(e) = profile.and_then(|p| p.get("endpoint_url")) {
            return (e.trim_end_matches('/').to_owned(), Origin::Profile("endpoint_url"));
        }
    }
    (standard_endpoint(service, region), Origin::Default)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STS: ServiceId = ServiceId { host_prefix: "sts", env_suffix: "STS" };

    #[test]
    fn precedence_and_partitions() {
        let none: [(&str, &str); 0] = [];
        assert_eq!(resolve(STS, "eu-west-1", None, &none, None).0, "https://sts.eu-west-1.amazonaws.com");
        assert_eq!(resolve(STS, "cn-north-1", None, &none, None).0, "https://sts.cn-north-1.amazonaws.com.cn");
        assert_eq!(resolve(STS, "us-gov-west-1", None, &none, None).0, "https://sts.us-gov-west-1.amazonaws.com");
        let env = [("AWS_ENDPOINT_URL", "http://all:1/"), ("AWS_ENDPOINT_URL_STS", "http://sts:2")];
        assert_eq!(
            resolve(STS, "us-east-1", None, &env, None),
            ("http://sts:2".into(), Origin::Env("AWS_ENDPOINT_URL_STS".into()))
        );
        assert_eq!(resolve(STS, "us-east-1", Some("http://x:3/"), &env, None), ("http://x:3".into(), Origin::Explicit));
        assert_eq!(resolve(STS, "us-east-1", None, &[("AWS_ENDPOINT_URL", "http://all:1/")], None).0, "http://all:1");
        let ignored = [("AWS_ENDPOINT_URL", "http://all:1"), ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")];
        assert_eq!(resolve(STS, "us-east-1", None, &ignored, None).1, Origin::Default);
    }
}
