//! Configuration: the shared config files and the region.

pub mod profile;

use crate::env::Env;
pub use profile::{Profile, ProfileFileError, ProfileSet};

/// The region from `AWS_REGION`, then `AWS_DEFAULT_REGION`. No network probe.
pub fn region_from_env(env: &dyn Env) -> Option<String> {
    env.get("AWS_REGION").or_else(|| env.get("AWS_DEFAULT_REGION"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_region_wins_over_default_region() {
        assert_eq!(
            region_from_env(&[("AWS_REGION", "eu-west-1"), ("AWS_DEFAULT_REGION", "us-east-2")]),
            Some("eu-west-1".into())
        );
        assert_eq!(
            region_from_env(&[("AWS_REGION", ""), ("AWS_DEFAULT_REGION", "us-east-2")]),
            Some("us-east-2".into())
        );
        assert_eq!(region_from_env(&[("HOME", "/root")]), None);
    }
}
