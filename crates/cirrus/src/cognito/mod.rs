//! Cognito: log in to a user pool (SRP or password) and turn the tokens into AWS credentials
//! through an identity pool.

pub mod srp;
