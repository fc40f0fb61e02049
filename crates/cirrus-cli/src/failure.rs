//! `Failure`: an error with the exit code it maps to.

/// An error with the exit code it maps to: 2 for bad input, 1 for everything else; or only an
/// exit code, when the command has already said why (a transfer's summary, an interrupt).
#[derive(Debug)]
pub struct Failure {
    pub(crate) code: u8,
    pub(crate) error: Option<anyhow::Error>,
}

impl Failure {
    /// Bad input (a malformed request, an invalid flag value): exit 2.
    pub fn input(error: impl Into<anyhow::Error>) -> Self {
        Failure { code: 2, error: Some(error.into()) }
    }

    /// Exit with `code`, printing nothing more.
    pub fn silent(code: u8) -> Self {
        Failure { code, error: None }
    }

    /// A configuration that cannot be built (no region, a broken shared config file, a bad
    /// setting): nothing was sent, so exit 2 whatever the kind.
    pub fn config(error: cirrus::config::ConfigError) -> Self {
        Failure::input(error)
    }
}

/// `error` and its causes on one line (`what: why: cause`), as `main` prints an error.
pub(crate) fn one_line(error: &anyhow::Error) -> String {
    let msg: Vec<String> = error.chain().map(|e| e.to_string()).collect();
    msg.join(": ").replace('\n', " ")
}

/// A library error: bad input (exit 2) when cirrus refused it before sending (`is_input`), a
/// failure (exit 1) otherwise.
impl From<cirrus::Error> for Failure {
    fn from(error: cirrus::Error) -> Self {
        if error.is_input() {
            Failure::input(error)
        } else {
            anyhow::Error::new(error).into()
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure { code: 1, error: Some(error) }
    }
}
