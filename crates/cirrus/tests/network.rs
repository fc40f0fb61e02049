//! Proxies and private CAs with real parts: tinyproxy (open, and with basic auth) and stunnel
//! in front of moto with a certificate from a CA made by scripts/test. Every variable is
//! handed to the loader in its context, never set on the process.

use crate::common::{block_on, ctx_with, moto, trial, Loopback, Reply};
use crate::ensure;
use cirrus::credentials::{ContainerCredentials, ProvideCredentials, StaticCredentials};
use cirrus::loader::{ConfigLoader, CredentialsChoice};
use cirrus::transport::report;
use cirrus::Config;
use libtest_mimic::Trial;
use std::sync::Arc;

fn var(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set: scripts/test starts tinyproxy and stunnel"))
}

/// A configuration over these variables, calling `endpoint`, signing with static keys.
fn config(vars: &[(&str, &str)], endpoint: &str) -> Result<Config, String> {
    ConfigLoader::new(ctx_with(vars))
        .region(Some("us-east-1"))
        .endpoint_url(Some(endpoint))
        .credentials(CredentialsChoice::Provider(Arc::new(StaticCredentials::new("AKIDNETTEST", "secret", None))))
        .load()
        .map_err(|e| report(&e))
}

/// GetCallerIdentity through `config`: the account, or the whole error chain.
fn whoami(config: &Config) -> Result<String, String> {
    block_on(async { config.sts().get_caller_identity().await.map(|id| id.account).map_err(|e| report(&e)) })
}

/// The lines of a proxy's log that name `needle`.
fn log_lines(log_var: &str, needle: &str) -> Result<usize, String> {
    let text = std::fs::read_to_string(var(log_var)?).map_err(|e| e.to_string())?;
    Ok(text.lines().filter(|l| l.contains(needle)).count())
}

/// A port nothing listens on.
fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn trusted_with_the_bundle() -> Result<(), String> {
    let (url, ca) = (var("CIRRUS_TLS_URL")?, var("CIRRUS_TLS_CA")?);
    let c = config(&[("AWS_CA_BUNDLE", &ca)], &url)?;
    ensure!(whoami(&c)? == "123456789012", "wrong account");
    Ok(())
}

fn refused_without_the_bundle() -> Result<(), String> {
    let url = var("CIRRUS_TLS_URL")?;
    let c = config(&[], &url)?;
    let e = whoami(&c).err().ok_or("a server with a test CA's certificate was trusted with the built-in roots")?;
    ensure!(e.contains("could not connect") && e.contains("certificate"), "{e}");
    Ok(())
}

fn a_ca_bundle_from_the_profile() -> Result<(), String> {
    let (url, ca) = (var("CIRRUS_TLS_URL")?, var("CIRRUS_TLS_CA")?);
    let dir = crate::common::temp_dir("ca-profile");
    let cfg = dir.join("config");
    std::fs::write(&cfg, format!("[profile corp]\nca_bundle = {ca}\n")).map_err(|e| e.to_string())?;
    let cfg = cfg.to_string_lossy().into_owned();
    let vars =
        [("AWS_CONFIG_FILE", cfg.as_str()), ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"), ("AWS_PROFILE", "corp")];
    let c = config(&vars, &url)?;
    ensure!(whoami(&c)? == "123456789012", "wrong account");
    Ok(())
}

fn a_broken_bundle_is_a_config_error() -> Result<(), String> {
    let url = var("CIRRUS_TLS_URL")?;
    let e = config(&[("AWS_CA_BUNDLE", "/nonexistent/ca.pem")], &url).err().ok_or("a missing bundle was accepted")?;
    ensure!(e.contains("the CA bundle /nonexistent/ca.pem (from AWS_CA_BUNDLE) cannot be read"), "{e}");
    let dir = crate::common::temp_dir("ca-bad");
    let bad = dir.join("bad.pem");
    std::fs::write(&bad, "no certificates here\n").map_err(|e| e.to_string())?;
    let e = config(&[("AWS_CA_BUNDLE", &bad.to_string_lossy())], &url).err().ok_or("an empty bundle was accepted")?;
    ensure!(e.contains("is not a PEM bundle") && e.contains("no certificate"), "{e}");
    Ok(())
}

fn https_through_the_proxy_in_a_tunnel() -> Result<(), String> {
    let (url, ca, proxy) = (var("CIRRUS_TLS_URL")?, var("CIRRUS_TLS_CA")?, var("CIRRUS_PROXY_URL")?);
    let port = url.rsplit(':').next().unwrap_or_default().to_owned();
    let before = log_lines("CIRRUS_PROXY_LOG", &format!("CONNECT localhost:{port} "))?;
    let c = config(&[("AWS_CA_BUNDLE", &ca), ("HTTPS_PROXY", &proxy)], &url)?;
    ensure!(whoami(&c)? == "123456789012", "wrong account");
    let after = log_lines("CIRRUS_PROXY_LOG", &format!("CONNECT localhost:{port} "))?;
    ensure!(after > before, "the proxy's log shows no CONNECT localhost:{port}");
    Ok(())
}

fn http_through_the_proxy_in_absolute_form() -> Result<(), String> {
    let (moto, proxy) = (moto()?, var("CIRRUS_PROXY_URL")?);
    let request_line = format!("POST {moto}/ HTTP/1.1");
    let before = log_lines("CIRRUS_PROXY_LOG", &request_line)?;
    let c = config(&[("http_proxy", &proxy)], &moto)?;
    ensure!(whoami(&c)? == "123456789012", "wrong account");
    let after = log_lines("CIRRUS_PROXY_LOG", &request_line)?;
    ensure!(after > before, "the proxy's log shows no '{request_line}'");
    Ok(())
}

fn no_proxy_bypasses_it() -> Result<(), String> {
    let moto = moto()?;
    let dead = format!("http://127.0.0.1:{}", dead_port());
    // Through a proxy that is not there: a clear error that names it.
    let c = config(&[("HTTP_PROXY", &dead)], &moto)?;
    let e = whoami(&c).err().ok_or("a request through a dead proxy succeeded")?;
    ensure!(e.contains(&format!("through the proxy {dead}")), "{e}");
    // The same with the host in NO_PROXY: direct, and it works.
    for no_proxy in ["127.0.0.1", "localhost,127.0.0.0/8", "*"] {
        let c = config(&[("HTTP_PROXY", &dead), ("NO_PROXY", no_proxy)], &moto)?;
        ensure!(whoami(&c)? == "123456789012", "NO_PROXY={no_proxy} did not bypass the proxy");
    }
    Ok(())
}

fn basic_auth_right_and_wrong() -> Result<(), String> {
    let (url, ca, proxy) = (var("CIRRUS_TLS_URL")?, var("CIRRUS_TLS_CA")?, var("CIRRUS_AUTH_PROXY_URL")?);
    let with = |user: &str| proxy.replacen("http://", &format!("http://{user}@"), 1);
    // Right credentials: tunnelled (https) and in absolute form (http).
    let right = with("alice:proxy-secret-1");
    let c = config(&[("AWS_CA_BUNDLE", &ca), ("HTTPS_PROXY", &right)], &url)?;
    ensure!(whoami(&c)? == "123456789012", "wrong account");
    let c = config(&[("HTTP_PROXY", &right)], &moto()?)?;
    ensure!(whoami(&c)? == "123456789012", "wrong account");
    // Wrong and missing credentials: a 407 said in words, never the password.
    for (proxy_url, says) in
        [(with("alice:wrong-secret-2"), "refused its credentials"), (proxy.clone(), "asks for credentials")]
    {
        for (var_name, endpoint) in [("HTTPS_PROXY", url.clone()), ("HTTP_PROXY", moto()?)] {
            let c = config(&[("AWS_CA_BUNDLE", &ca), (var_name, &proxy_url)], &endpoint)?;
            let e = whoami(&c).err().ok_or(format!("{var_name}: wrong proxy credentials accepted"))?;
            ensure!(e.contains(says) && (e.contains("407") || e.contains("401")), "{var_name}: {e}");
            ensure!(!e.contains("wrong-secret-2") && !e.contains("proxy-secret-1"), "a password is in: {e}");
            let shown = format!("{:?}", c.http());
            ensure!(!shown.contains("wrong-secret-2"), "a password is in the client's Debug: {shown}");
        }
    }
    Ok(())
}

/// An `https://` proxy (stunnel in front of tinyproxy, with the test CA's certificate): TLS to
/// the proxy, checked against the configured CA bundle, then a CONNECT tunnel inside it for an
/// https destination, or the request in absolute form for an http one.
fn https_proxy_over_tls() -> Result<(), String> {
    let (url, ca, proxy) = (var("CIRRUS_TLS_URL")?, var("CIRRUS_TLS_CA")?, var("CIRRUS_TLS_PROXY_URL")?);
    let port = url.rsplit(':').next().unwrap_or_default().to_owned();
    let connect = format!("CONNECT localhost:{port} ");
    let before = log_lines("CIRRUS_PROXY_LOG", &connect)?;
    let c = config(&[("AWS_CA_BUNDLE", &ca), ("HTTPS_PROXY", &proxy)], &url)?;
    ensure!(whoami(&c)? == "123456789012", "wrong account");
    ensure!(log_lines("CIRRUS_PROXY_LOG", &connect)? > before, "the proxy's log shows no {connect}");
    let moto = moto()?;
    let request_line = format!("POST {moto}/ HTTP/1.1");
    let before = log_lines("CIRRUS_PROXY_LOG", &request_line)?;
    let c = config(&[("AWS_CA_BUNDLE", &ca), ("HTTP_PROXY", &proxy)], &moto)?;
    ensure!(whoami(&c)? == "123456789012", "wrong account");
    ensure!(log_lines("CIRRUS_PROXY_LOG", &request_line)? > before, "the proxy's log shows no {request_line}");
    // The proxy's certificate is checked: without the CA bundle, refused, and said so.
    let c = config(&[("HTTPS_PROXY", &proxy)], &url)?;
    let e = whoami(&c).err().ok_or("a proxy with a test CA's certificate was trusted with the built-in roots")?;
    ensure!(e.contains("could not reach the proxy") && e.contains("certificate"), "{e}");
    Ok(())
}

/// A context built without the loader reads the proxies of its environment too: a client made
/// on `Context::http()` goes through tinyproxy, honours NO_PROXY, and fails on a proxy URL it
/// cannot use rather than going around it.
fn context_http_reads_the_proxies() -> Result<(), String> {
    use cirrus::transport::ServiceConfig;
    let (moto, proxy) = (moto()?, var("CIRRUS_PROXY_URL")?);
    let whoami_via = |vars: &[(&str, &str)]| {
        let ctx = ctx_with(vars);
        let creds = Arc::new(StaticCredentials::new("AKIDNETTEST", "secret", None));
        let svc = ServiceConfig::builder(cirrus::sts::SPEC, "us-east-1", moto.as_str())
            .credentials(Some(creds))
            .http(ctx.http().clone())
            .build();
        let sts = cirrus::sts::StsClient::new(svc);
        block_on(async { sts.get_caller_identity().await.map(|id| id.account).map_err(|e| report(&e)) })
    };
    let request_line = format!("POST {moto}/ HTTP/1.1");
    let before = log_lines("CIRRUS_PROXY_LOG", &request_line)?;
    ensure!(whoami_via(&[("HTTP_PROXY", &proxy)])? == "123456789012", "wrong account");
    ensure!(log_lines("CIRRUS_PROXY_LOG", &request_line)? > before, "the proxy's log shows no '{request_line}'");
    let dead = format!("http://127.0.0.1:{}", dead_port());
    let e = whoami_via(&[("http_proxy", &dead)]).err().ok_or("a request through a dead proxy succeeded")?;
    ensure!(e.contains(&format!("through the proxy {dead}")), "{e}");
    ensure!(whoami_via(&[("HTTP_PROXY", &dead), ("NO_PROXY", "127.0.0.1")])? == "123456789012", "NO_PROXY ignored");
    let e = whoami_via(&[("HTTP_PROXY", "socks5://u:pw-4@127.0.0.1:1080")]).err().ok_or("a SOCKS proxy was ignored")?;
    ensure!(e.contains("HTTP_PROXY") && e.contains("not an http://") && !e.contains("pw-4"), "{e}");
    // The container endpoint is reached directly, whatever the proxy settings say.
    block_on(async {
        let server = Loopback::start(|_, _| {
            Reply::ok(r#"{"AccessKeyId":"AKIDCONTAINER","SecretAccessKey":"s","Token":"t","Expiration":"2100-01-01T00:00:00Z"}"#)
        })
        .await;
        let full = format!("{}/creds", server.url);
        let ctx = ctx_with(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &full), ("HTTP_PROXY", "socks5://127.0.0.1:1")]);
        let c = ContainerCredentials::new(&ctx).provide_credentials().await.map_err(|e| report(&e))?;
        ensure!(c.access_key_id() == "AKIDCONTAINER", "{c:?}");
        Ok(())
    })
}

fn bad_proxy_urls_are_config_errors() -> Result<(), String> {
    let moto = moto()?;
    for (value, says) in
        [("socks5://127.0.0.1:1080", "not an http:// or https:// proxy"), ("ftp://u:pw-3@proxy:21", "SOCKS")]
    {
        let e = config(&[("HTTPS_PROXY", value)], &moto).err().ok_or(format!("{value} accepted"))?;
        ensure!(e.contains("HTTPS_PROXY") && e.contains(says) && !e.contains("pw-3"), "{e}");
    }
    Ok(())
}

fn container_endpoint_skips_the_proxy() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|_, _| {
            Reply::ok(r#"{"AccessKeyId":"AKIDCONTAINER","SecretAccessKey":"s","Token":"t","Expiration":"2100-01-01T00:00:00Z"}"#)
        })
        .await;
        let dead = format!("http://127.0.0.1:{}", dead_port());
        let full = format!("{}/creds", server.url);
        let vars =
            [("AWS_CONTAINER_CREDENTIALS_FULL_URI", full.as_str()), ("HTTP_PROXY", &dead), ("HTTPS_PROXY", &dead)];
        let config = ConfigLoader::new(ctx_with(&vars))
            .region(Some("us-east-1"))
            .credentials(CredentialsChoice::Anonymous)
            .load()
            .map_err(|e| report(&e))?;
        let c = ContainerCredentials::new(config.context()).provide_credentials().await.map_err(|e| report(&e))?;
        ensure!(c.access_key_id() == "AKIDCONTAINER" && server.count() == 1, "{c:?}");
        Ok(())
    })
}

/// `TlsRoots::System` trusts the operating system's store, which rustls-native-certs reads
/// (honouring `SSL_CERT_FILE`). The machine's store does not hold the test CA; this test binary
/// run again with `SSL_CERT_FILE` naming it (a child process, so no thread sees the variable
/// change) does.
#[cfg(feature = "native-roots")]
fn system_roots() -> Result<(), String> {
    use cirrus::transport::{TlsRoots, TransportSettings};
    const NAME: &str = "network::tls_system_roots";
    let url = var("CIRRUS_TLS_URL")?;
    let system = |url: &str| {
        ConfigLoader::new(ctx_with(&[]))
            .region(Some("us-east-1"))
            .endpoint_url(Some(url))
            .transport(TransportSettings::default().with_tls_roots(TlsRoots::System))
            .credentials(CredentialsChoice::Provider(Arc::new(StaticCredentials::new("AKIDNETTEST", "secret", None))))
            .load()
            .map_err(|e| report(&e))
    };
    if std::env::var_os("CIRRUS_TEST_CHILD").is_some() {
        return whoami(&system(&url)?).map(drop);
    }
    let e = whoami(&system(&url)?).err().ok_or("the system's store trusted the test CA")?;
    ensure!(e.contains("certificate"), "{e}");
    let out = std::process::Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args(["--exact", NAME])
        .env("CIRRUS_TEST_CHILD", "1")
        .env("SSL_CERT_FILE", var("CIRRUS_TLS_CA")?)
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    ensure!(out.status.success() && text.contains("1 passed"), "the child with SSL_CERT_FILE failed: {text}");
    Ok(())
}

#[cfg(not(feature = "native-roots"))]
fn system_roots() -> Result<(), String> {
    Err("built without the native-roots feature".into())
}

pub fn trials() -> Vec<Trial> {
    let mut trials = vec![
        trial("network::tls_trusted_with_the_ca_bundle", trusted_with_the_bundle),
        trial("network::tls_refused_without_the_ca_bundle", refused_without_the_bundle),
        trial("network::tls_ca_bundle_from_the_profile", a_ca_bundle_from_the_profile),
        trial("network::tls_broken_bundle_is_a_config_error", a_broken_bundle_is_a_config_error),
        trial("network::proxy_https_in_a_connect_tunnel", https_through_the_proxy_in_a_tunnel),
        trial("network::proxy_http_in_absolute_form", http_through_the_proxy_in_absolute_form),
        trial("network::proxy_bypassed_by_no_proxy", no_proxy_bypasses_it),
        trial("network::proxy_basic_auth_right_and_wrong", basic_auth_right_and_wrong),
        trial("network::proxy_bad_urls_are_config_errors", bad_proxy_urls_are_config_errors),
        trial("network::proxy_https_over_tls", https_proxy_over_tls),
        trial("network::proxy_read_by_context_http_without_the_loader", context_http_reads_the_proxies),
        trial("network::proxy_not_used_for_the_container_endpoint", container_endpoint_skips_the_proxy),
    ];
    // Only with the feature that brings the system's store.
    trials.extend(cfg!(feature = "native-roots").then(|| trial("network::tls_system_roots", system_roots)));
    trials
}
