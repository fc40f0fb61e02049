//! Integration tests of the cirrus crate, one binary (libtest-mimic, so data-driven cases are
//! one test each).

// Tests are registered by hand (libtest-mimic): a test function that no list names is dead
// code, and dead code fails the build, so no test can be forgotten.
#![deny(dead_code)]

#[cfg(feature = "cognito")]
mod cognito;
mod common;
#[cfg(feature = "s3")]
mod conditional;
mod credential_refresh;
#[cfg(feature = "s3")]
mod faults;
mod network;
mod providers;
#[cfg(feature = "s3")]
mod s3;
#[cfg(feature = "s3")]
mod s3_addressing;
#[cfg(feature = "ses")]
mod ses;
mod signing;
#[cfg(feature = "sns")]
mod sns;
mod sts;
#[cfg(feature = "s3")]
mod transfer;
mod transport;
#[cfg(feature = "s3")]
mod versions;

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let mut trials = Vec::new();
    trials.extend(credential_refresh::trials());
    trials.extend(transport::trials());
    trials.extend(sts::trials());
    trials.extend(providers::trials());
    trials.extend(signing::trials());
    trials.extend(network::trials());
    #[cfg(feature = "s3")]
    trials.extend(s3::trials());
    #[cfg(feature = "s3")]
    trials.extend(s3_addressing::trials());
    #[cfg(feature = "s3")]
    trials.extend(transfer::trials());
    #[cfg(feature = "s3")]
    trials.extend(conditional::trials());
    #[cfg(feature = "s3")]
    trials.extend(faults::trials());
    #[cfg(feature = "s3")]
    trials.extend(versions::trials());
    #[cfg(feature = "ses")]
    trials.extend(ses::trials());
    #[cfg(feature = "sns")]
    trials.extend(sns::trials());
    #[cfg(feature = "cognito")]
    trials.extend(cognito::trials());
    libtest_mimic::run(&args, trials).exit();
}
