//! The process environment behind a seam, so tests hand in a fixed map instead of mutating the
//! real environment.

use std::collections::HashMap;

/// Reads environment variables.
pub trait Env: Send + Sync {
    /// The value of `key`, or `None` when unset. Empty values count as unset, as in the AWS SDKs.
    fn get(&self, key: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
}

impl Env for HashMap<String, String> {
    fn get(&self, key: &str) -> Option<String> {
        HashMap::get(self, key).filter(|v| !v.is_empty()).cloned()
    }
}

impl<const N: usize> Env for [(&'static str, &'static str); N] {
    fn get(&self, key: &str) -> Option<String> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| (*v).to_owned()).filter(|v| !v.is_empty())
    }
}
