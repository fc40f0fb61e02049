//! An object's `Expires`: a time, read in the forms the AWS CLI takes for a timestamp and sent
//! as the HTTP date S3 keeps.

use crate::transport::ParseError;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// When an object's cached copies go stale: the `Expires` header of a new object
/// ([`PutOptions::with_expires`](super::PutOptions::with_expires)). Displayed as an HTTP date.
///
/// Parsed from an RFC 3339 UTC time (`2026-12-01T00:00:00Z`, or `+00:00`), a bare date
/// (`2026-12-01`, midnight UTC), an HTTP date (`Tue, 01 Dec 2026 00:00:00 GMT`) or seconds
/// since 1970, as the AWS CLI reads a timestamp; spaces around it are ignored.
///
/// ```
/// use cirrus::s3::Expires;
///
/// let expires: Expires = "2037-10-21T07:28:00Z".parse()?;
/// assert_eq!(expires.to_string(), "Wed, 21 Oct 2037 07:28:00 GMT");
/// assert_eq!("2139722880".parse::<Expires>()?, expires);
/// assert!("tomorrow".parse::<Expires>().is_err());
/// # Ok::<(), cirrus::transport::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expires(SystemTime);

impl Expires {
    /// The last second an HTTP date can say: 9999-12-31T23:59:59Z.
    const LAST_SECOND: u64 = 253_402_300_799;

    /// Expires at `time`.
    pub fn at(time: SystemTime) -> Self {
        Expires(time)
    }

    /// The time.
    pub fn time(self) -> SystemTime {
        self.0
    }
}

impl From<SystemTime> for Expires {
    fn from(time: SystemTime) -> Self {
        Expires(time)
    }
}

impl fmt::Display for Expires {
    /// The HTTP date (`Wed, 21 Oct 2037 07:28:00 GMT`), as the header carries it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&cirrus_sigv4::format_http_date(self.0))
    }
}

impl std::str::FromStr for Expires {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        let date = || (t.len() == 10).then(|| cirrus_sigv4::parse_rfc3339(&format!("{t}T00:00:00Z"))).flatten();
        let epoch = || {
            let secs = t.parse::<u64>().ok().filter(|&s| s <= Self::LAST_SECOND)?;
            Some(UNIX_EPOCH + Duration::from_secs(secs))
        };
        cirrus_sigv4::parse_rfc3339(t)
            .or_else(date)
            .or_else(|| httpdate::parse_http_date(t).ok())
            .or_else(epoch)
            .map(Expires)
            .ok_or_else(|| {
                let why = format!(
                    "{text:?} is not a time: give 2026-12-01T00:00:00Z, 2026-12-01, an HTTP date or seconds since 1970"
                );
                ParseError::new("the expiry", why)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::Expires;

    #[test]
    fn every_form_is_sent_as_an_http_date() {
        for given in
            ["2037-10-21T07:28:00Z", "Wed, 21 Oct 2037 07:28:00 GMT", "2139722880", " 2037-10-21T07:28:00+00:00 "]
        {
            let e = given.parse::<Expires>().map(|e| e.to_string());
            assert_eq!(e.ok().as_deref(), Some("Wed, 21 Oct 2037 07:28:00 GMT"), "{given}");
        }
        let midnight = "2037-10-21".parse::<Expires>().map(|e| e.to_string());
        assert_eq!(midnight.ok().as_deref(), Some("Wed, 21 Oct 2037 00:00:00 GMT"));
        assert_eq!(
            "253402300799".parse::<Expires>().map(|e| e.to_string()).ok().as_deref(),
            Some("Fri, 31 Dec 9999 23:59:59 GMT")
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_forms_taken() {
        for bad in ["tomorrow", "", "2037-13-01", "99999999999999", "253402300800", "-1"] {
            let e = bad.parse::<Expires>().expect_err(bad);
            assert!(e.to_string().contains("is not a time: give 2026-12-01T00:00:00Z"), "{e}");
        }
    }
}
