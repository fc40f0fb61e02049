//! cirrus: a lean AWS toolkit.
//!
//! - [`credentials`]: every standard credential source, a default chain that explains itself,
//!   and a cache that refreshes ahead of expiry with one fetch at a time.
//! - [`config`]: region, endpoints and the shared config files.
//! - [`transport`]: one pooled HTTP client with the SDKs' standard retries, timeouts, clock-skew
//!   correction and errors that name service, operation, code, message and request id.
//! - `s3` (feature `s3`): buckets, streamed listing, uploads and downloads, multipart, batch and
//!   recursive deletes, presigned URLs and POST forms.
//! - `ses` (feature `ses`): an email builder over mail-builder, sent with SES v2.
//! - `cognito` (feature `cognito`): user pool login (SRP, password, refresh token) and identity
//!   pool credentials, as a provider for the chain.
//! - `sns` (feature `sns`): publish and subscribe, webhook signature verification, typed SES
//!   events.
//!
//! Signing lives in [`cirrus_sigv4`], re-exported as [`sigv4`].

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]
// Two exceptions, allowed where they stand: the coarse clock read in `clock.rs`, and killing a
// credential process group in `credentials/process.rs`.
#![deny(unsafe_code)]

pub mod clock;
#[cfg(feature = "cognito")]
pub mod cognito;
pub mod config;
pub mod content_type;
pub mod context;
pub mod credentials;
pub mod env;
pub mod fs;
// The fuzz targets' entry points (not an API): kept with the targets in `fuzz/`, compiled in
// here so they reach the crate's internals, only for tests and the off-by-default `fuzzing`
// feature. See FUZZING.md.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
#[path = "../fuzz/harness.rs"]
pub mod fuzzing;
pub mod identity;
pub mod loader;
mod origin;
pub mod profile;
#[cfg(feature = "s3")]
pub mod s3;
pub mod service;
#[cfg(feature = "ses")]
pub mod ses;
pub mod signing;
#[cfg(feature = "sns")]
pub mod sns;
pub mod sso;
pub mod sts;
pub mod transport;

pub use cirrus_sigv4 as sigv4;
pub use config::Config;
pub use context::Context;
pub use credentials::{Credentials, CredentialsError, ProvideCredentials};
pub use origin::Origin;
pub use transport::Error;
