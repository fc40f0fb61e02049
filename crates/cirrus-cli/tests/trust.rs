//! Which certificates TLS trusts, from the command line: `--ca-bundle` (the AWS CLI's flag,
//! over AWS_CA_BUNDLE and the profile's ca_bundle) and `--ca-native` / CIRRUS_CA_NATIVE (the
//! system's store), against stunnel with a certificate of a CA made by scripts/test, directly
//! and as an `https://` proxy in front of tinyproxy.

use crate::{aws_env, ensure, run_with};
use libtest_mimic::{Failed, Trial};

/// The machine's own store, which does not hold the test CA.
const SYSTEM: &str = "/etc/ssl/certs/ca-certificates.crt";

fn var(name: &str) -> Result<String, Failed> {
    std::env::var(name).map_err(|_| format!("{name} is not set: scripts/test starts stunnel and tinyproxy").into())
}

fn ca_bundle_flag() -> Result<(), Failed> {
    let (tls, ca) = (var("CIRRUS_TLS_URL")?, var("CIRRUS_TLS_CA")?);
    let dir = std::env::temp_dir().join(format!("cirrus-cli-trust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let config = dir.join("config");
    std::fs::write(&config, format!("[default]\nca_bundle = {SYSTEM}\n")).map_err(|e| e.to_string())?;
    let mut env = aws_env(&tls);
    env.push(("AWS_CA_BUNDLE", SYSTEM.to_owned()));
    env.push(("AWS_CONFIG_FILE", config.to_string_lossy().into_owned()));
    // The flag wins over AWS_CA_BUNDLE (and the profile's ca_bundle), which name the system's
    // bundle without the test CA.
    let run = run_with(&["--ca-bundle", &ca, "sts", "whoami"], &env);
    ensure(run.code == 0 && run.out().contains("123456789012"), format!("exit {}: {}", run.code, run.stderr))?;
    // Without it: refused, and told what to do.
    let run = run_with(&["sts", "whoami"], &env);
    ensure(
        run.code == 1
            && run.stderr.contains("UnknownIssuer")
            && run.stderr.contains("not signed by a CA cirrus trusts")
            && run.stderr.contains("--ca-bundle PATH"),
        format!("exit {}: {}", run.code, run.stderr),
    )?;
    // A file that is no bundle: bad input, nothing sent.
    let run = run_with(&["--ca-bundle", &config.to_string_lossy(), "sts", "whoami"], &env);
    ensure(
        run.code == 2 && run.stderr.contains("(from --ca-bundle) is not a PEM bundle"),
        format!("exit {}: {}", run.code, run.stderr),
    )?;
    let run = run_with(&["--ca-bundle", "/nonexistent/ca.pem", "sts", "whoami"], &env);
    ensure(run.code == 2 && run.stderr.contains("/nonexistent/ca.pem"), format!("exit {}: {}", run.code, run.stderr))?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `--ca-native` reads the system's store (rustls-native-certs, which honours SSL_CERT_FILE:
/// the test CA stands in for the machine's store), over AWS_CA_BUNDLE.
fn ca_native() -> Result<(), Failed> {
    let (tls, ca) = (var("CIRRUS_TLS_URL")?, var("CIRRUS_TLS_CA")?);
    let mut env = aws_env(&tls);
    env.push(("SSL_CERT_FILE", ca.clone()));
    env.push(("SSL_CERT_DIR", "/nonexistent".to_owned()));
    env.push(("AWS_CA_BUNDLE", SYSTEM.to_owned()));
    let run = run_with(&["--ca-native", "sts", "whoami"], &env);
    ensure(run.code == 0 && run.out().contains("123456789012"), format!("--ca-native: {}", run.stderr))?;
    env.push(("CIRRUS_CA_NATIVE", "1".to_owned()));
    let run = run_with(&["sts", "whoami"], &env);
    ensure(run.code == 0, format!("CIRRUS_CA_NATIVE=1: {}", run.stderr))?;
    // The system's store without the test CA, and AWS_CA_BUNDLE with it: the store is used.
    env.retain(|(k, _)| !matches!(*k, "SSL_CERT_FILE" | "AWS_CA_BUNDLE"));
    env.push(("SSL_CERT_FILE", SYSTEM.to_owned()));
    env.push(("AWS_CA_BUNDLE", ca.clone()));
    let run = run_with(&["sts", "whoami"], &env);
    ensure(run.code == 1 && run.stderr.contains("UnknownIssuer"), format!("exit {}: {}", run.code, run.stderr))?;
    // --ca-bundle wins over --ca-native.
    let run = run_with(&["--ca-bundle", &ca, "sts", "whoami"], &env);
    ensure(run.code == 0, format!("--ca-bundle with CIRRUS_CA_NATIVE: {}", run.stderr))?;
    env.push(("CIRRUS_CA_NATIVE", "maybe".to_owned()));
    let run = run_with(&["sts", "whoami"], &env);
    ensure(run.code == 2 && run.stderr.contains("maybe"), format!("exit {}: {}", run.code, run.stderr))
}

/// HTTPS_PROXY=https://...: TLS to the proxy, its certificate checked against --ca-bundle too.
fn https_proxy() -> Result<(), Failed> {
    let (tls, ca, proxy) = (var("CIRRUS_TLS_URL")?, var("CIRRUS_TLS_CA")?, var("CIRRUS_TLS_PROXY_URL")?);
    let log = var("CIRRUS_PROXY_LOG")?;
    let port = tls.rsplit(':').next().unwrap_or_default().to_owned();
    let connects = || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        text.lines().filter(|l| l.contains(&format!("CONNECT localhost:{port} "))).count()
    };
    let before = connects();
    let mut env = aws_env(&tls);
    env.push(("HTTPS_PROXY", proxy));
    let run = run_with(&["--ca-bundle", &ca, "sts", "whoami"], &env);
    ensure(run.code == 0 && run.out().contains("123456789012"), format!("exit {}: {}", run.code, run.stderr))?;
    ensure(connects() > before, "the proxy's log shows no CONNECT")?;
    let run = run_with(&["sts", "whoami"], &env);
    ensure(
        run.code == 1 && run.stderr.contains("could not reach the proxy") && run.stderr.contains("UnknownIssuer"),
        format!("exit {}: {}", run.code, run.stderr),
    )
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("trust::ca_bundle_flag_wins_and_its_absence_is_explained", ca_bundle_flag),
        Trial::test("trust::ca_native_reads_the_system_store", ca_native),
        Trial::test("trust::https_proxy_checked_against_the_bundle", https_proxy),
    ]
}
