//! Where a setting came from: what `--explain`-style output says, and what decides between two
//! sources of one setting.

use std::borrow::Cow;
use std::fmt;

/// Where a setting (the region, an endpoint, the retry mode, the CA bundle...) came from, in
/// the order the AWS SDKs look: the first that has it wins.
///
/// ```
/// use cirrus::Origin;
///
/// let env = Origin::Env("AWS_REGION".into());
/// assert!(Origin::Explicit.overrides(&env) && env.overrides(&Origin::Profile("region")));
/// assert_eq!(env.to_string(), "AWS_REGION");
/// assert_eq!(Origin::Flag("--region").to_string(), "--region");
/// assert_eq!(Origin::Profile("region").to_string(), "the profile's region");
/// assert!(!Origin::Default.is_configured());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Origin {
    /// Given by the program (`ConfigLoader::region`).
    Explicit,
    /// Given on the command line, by this flag (`--region`): as explicit, named as the user
    /// wrote it.
    Flag(&'static str),
    /// An environment variable, by name (`AWS_REGION`, `AWS_ENDPOINT_URL_S3`...).
    Env(Cow<'static, str>),
    /// A key of the profile in the shared config or credentials file (`region`, `endpoint_url`).
    Profile(&'static str),
    /// The EC2 instance metadata service (the region of the instance, the SDKs' last region
    /// source).
    Imds,
    /// What applies when nothing is set (the service's standard endpoint...).
    Default,
    /// Set nowhere, with no default.
    Unset,
}

impl Origin {
    /// Its rank: lower wins.
    fn rank(&self) -> u8 {
        match self {
            Origin::Explicit | Origin::Flag(_) => 0,
            Origin::Env(_) => 1,
            Origin::Profile(_) => 2,
            Origin::Imds => 3,
            Origin::Default => 4,
            Origin::Unset => 5,
        }
    }

    /// Whether a value from here wins over one from `other` (the program over the environment,
    /// the environment over the profile, any of them over a default).
    pub fn overrides(&self, other: &Origin) -> bool {
        self.rank() < other.rank()
    }

    /// Whether someone set it (the program, the environment or a profile), not a default or
    /// a guess from where the program runs.
    pub fn is_configured(&self) -> bool {
        self.rank() <= 2
    }
}

impl fmt::Display for Origin {
    /// `explicit`, the flag (`--region`), the variable's name, `the profile's region`, `the instance metadata
    /// service`, `the default`, `nowhere`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Explicit => f.write_str("explicit"),
            Origin::Flag(flag) => f.write_str(flag),
            Origin::Env(var) => f.write_str(var),
            Origin::Profile(key) => write!(f, "the profile's {key}"),
            Origin::Imds => f.write_str("the instance metadata service"),
            Origin::Default => f.write_str("the default"),
            Origin::Unset => f.write_str("nowhere"),
        }
    }
}
