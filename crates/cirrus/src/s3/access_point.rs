//! S3 access points named by their ARN, accepted wherever a bucket name is:
//! `arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap` (or `accesspoint:my-ap`) is addressed
//! at `https://my-ap-123456789012.s3-accesspoint.us-west-2.amazonaws.com/KEY` and signed for
//! the ARN's region, whatever the client's region is (botocore's `use_arn_region`, on by
//! default). An access point's alias (`my-ap-...-s3alias`) is a bucket name and needs nothing
//! of this. Multi-Region access points (no region in the ARN: SigV4a), Object Lambda and
//! Outposts access points are refused with a message that says so, before anything is sent.
//!
//! See <https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-access-points.html>.

/// An access point ARN, split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AccessPoint<'a> {
    /// The ARN's region: requests are signed for it.
    pub(crate) region: &'a str,
    account: &'a str,
    name: &'a str,
}

impl<'a> AccessPoint<'a> {
    /// `None` when `bucket` is no ARN (a bucket name or an alias); the ARN split, or why
    /// cirrus cannot address it, when it starts with `arn:`.
    pub(crate) fn parse(bucket: &'a str) -> Option<Result<AccessPoint<'a>, String>> {
        if !bucket.starts_with("arn:") {
            return None;
        }
        Some(
            Self::split(bucket)
                .map_err(|why| format!("{bucket:?} is not an S3 access point ARN that cirrus can address: {why}")),
        )
    }

    fn split(arn: &'a str) -> Result<AccessPoint<'a>, String> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [_, partition, service, region, account, resource] = parts[..] else {
            return Err("the form is arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME".to_owned());
        };
        if !partition.starts_with("aws") {
            return Err(format!("{partition:?} is not an AWS partition"));
        }
        match service {
            "s3" => {}
            "s3-object-lambda" | "s3-outposts" => {
                return Err(format!("{service} access points are not supported; use a plain S3 access point"))
            }
            other => return Err(format!("the service is {other:?}, not s3")),
        }
        if region.is_empty() {
            return Err("a Multi-Region access point (no region in the ARN) needs SigV4a, which the S3 client does not sign with".to_owned());
        }
        let label = |s: &str| s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !label(region) || region.starts_with('-') || region.ends_with('-') || region.len() > 63 {
            return Err(format!("{region:?} is not a region name"));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("the account {account:?} is not 12 digits"));
        }
        let name = resource
            .strip_prefix("accesspoint/")
            .or_else(|| resource.strip_prefix("accesspoint:"))
            .ok_or_else(|| format!("the resource {resource:?} is not accesspoint/NAME"))?;
        let valid = (3..=50).contains(&name.len()) && label(name) && !name.starts_with('-') && !name.ends_with('-');
        if !valid {
            return Err(format!("the access point name {name:?} is not 3 to 50 lowercase letters, digits and '-'"));
        }
        Ok(AccessPoint { region, account, name })
    }

    /// `https://NAME-ACCOUNT.s3-accesspoint.REGION.amazonaws.com` (`.com.cn` in China).
    pub(crate) fn endpoint(&self) -> String {
        let suffix = crate::service::endpoint::dns_suffix(self.region);
        format!("https://{}-{}.s3-accesspoint.{}.{suffix}", self.name, self.account, self.region)
    }
}

/// Whether `bucket` is an ARN (valid or not), rather than a bucket name or an alias.
pub(crate) fn is_arn(bucket: &str) -> bool {
    bucket.starts_with("arn:")
}

/// `s3://arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME/KEY` split as the AWS CLI splits it: the
/// ARN (its name ends at the first `/` after `accesspoint/` or `accesspoint:`), then the key.
/// `None` when `path` (after `s3://`) does not start with an access point ARN.
pub(crate) fn split_path(path: &str) -> Option<(&str, &str)> {
    if !is_arn(path) {
        return None;
    }
    let at = path.find(":accesspoint/").or_else(|| path.find(":accesspoint:"))?;
    let name_start = at + ":accesspoint/".len();
    let end = path[name_start..].find('/').map_or(path.len(), |i| name_start + i);
    let key = path.get(end + 1..).unwrap_or("");
    Some((&path[..end], key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_point_arns_are_addressed_in_their_region() {
        let ap = AccessPoint::parse("arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap").unwrap().unwrap();
        assert_eq!(ap.endpoint(), "https://my-ap-123456789012.s3-accesspoint.us-west-2.amazonaws.com");
        assert_eq!(ap.region, "us-west-2");
        let cn = AccessPoint::parse("arn:aws-cn:s3:cn-north-1:123456789012:accesspoint:data").unwrap().unwrap();
        assert_eq!(cn.endpoint(), "https://data-123456789012.s3-accesspoint.cn-north-1.amazonaws.com.cn");
        assert!(AccessPoint::parse("my-ap-abcdefghijklmnopqrstuvwxyz0123-s3alias").is_none());
        for (bad, why) in [
            ("arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap", "SigV4a"),
            ("arn:aws:s3-object-lambda:us-west-2:123456789012:accesspoint/ol", "not supported"),
            ("arn:aws:s3:us-west-2:1234:accesspoint/my-ap", "12 digits"),
            ("arn:aws:s3:us-west-2:123456789012:bucket/my-ap", "accesspoint/NAME"),
            ("arn:aws:s3:us-west-2:123456789012:accesspoint/My_AP", "3 to 50"),
            ("arn:aws:s3:us-west-2:123456789012:accesspoint/a/b", "3 to 50"),
            ("arn:aws:sqs:us-west-2:123456789012:accesspoint/my-ap", "not s3"),
            ("arn:aws:s3", "the form is"),
        ] {
            let e = AccessPoint::parse(bad).unwrap().unwrap_err();
            assert!(e.contains(why) && e.contains("access point ARN"), "{bad}: {e}");
        }
    }

    #[test]
    fn paths_split_as_the_aws_cli_splits_them() {
        let arn = "arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap";
        assert_eq!(split_path(&format!("{arn}/dir/key.txt")), Some((arn, "dir/key.txt")));
        assert_eq!(split_path(arn), Some((arn, "")));
        assert_eq!(split_path(&format!("{arn}/")), Some((arn, "")));
        let colon = "arn:aws:s3:us-west-2:123456789012:accesspoint:my-ap";
        assert_eq!(split_path(&format!("{colon}/k")), Some((colon, "k")));
        assert_eq!(split_path("my-bucket/k"), None);
    }
}
