//! cirrus: a lean AWS toolkit.
//!
//! Today this crate holds the credential types and the first link of the default chain
//! (static credentials and the standard environment variables), plus region resolution from the
//! environment. Signing lives in [`cirrus_sigv4`], re-exported as [`sigv4`].

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod config;
pub mod credentials;
pub mod env;
pub mod fs;

pub use cirrus_sigv4 as sigv4;
pub use credentials::{Credentials, CredentialsError};
