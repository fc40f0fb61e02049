//! The transport against loopback fault injection: storms that clear and ones that do not,
//! resets, a server clock 20 minutes off, errors that must not be retried, timeouts.

use crate::common::{block_on, trial, Loopback, Reply, Seen};
use crate::ensure;
use cirrus::credentials::{BoxFuture, ProvideCredentials, StaticCredentials};
use cirrus::service::{Protocol, ServiceId, ServiceSpec};
use cirrus::transport::{HttpClient, Request, RetryConfig, RetryMode, ServiceConfig, TransportSettings};
use cirrus::{Credentials, CredentialsError};
use http::Method;
use libtest_mimic::Trial;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// S3's spec, spelled out: these tests run without the `s3` feature.
const S3_SPEC: ServiceSpec = ServiceSpec {
    name: "S3",
    signing_name: "s3",
    protocol: Protocol::RestXml,
    id: ServiceId { host_prefix: "s3", env_suffix: "S3" },
};

fn settings() -> TransportSettings {
    TransportSettings::default().with_retry(RetryConfig::default().with_base_delay(Duration::from_millis(5)))
}

fn service(url: &str, settings: TransportSettings) -> ServiceConfig {
    let creds = StaticCredentials::new("AKIDTEST", "SECRETTEST", None);
    ServiceConfig::builder(S3_SPEC, "us-east-1", url)
        .credentials(Some(Arc::new(creds)))
        .http(HttpClient::new(settings))
        .build()
}

fn xml_error(code: &str) -> Vec<u8> {
    format!("<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>{code} happened</Message><RequestId>REQ-{code}</RequestId></Error>").into_bytes()
}

fn get(
    svc: &ServiceConfig,
) -> impl std::future::Future<Output = Result<cirrus::transport::Response, cirrus::Error>> + '_ {
    svc.send("GetObject", Request::new(Method::GET, format!("{}/bucket/key", svc.endpoint()), ""))
}

/// After a throttle, the adaptive mode spaces requests out on the client; the standard mode
/// sends them all at once. Counted at the server 300 ms after ten requests start together.
fn adaptive_mode_slows_down_after_a_throttle() -> Result<(), String> {
    block_on(async {
        let mut seen = Vec::new();
        for mode in [RetryMode::Adaptive, RetryMode::Standard] {
            let server =
                Loopback::start(
                    |i, _| {
                        if i == 0 {
                            Reply::status(503, xml_error("SlowDown"))
                        } else {
                            Reply::ok("done")
                        }
                    },
                )
                .await;
            let retry = RetryConfig::for_mode(mode).with_max_attempts(1);
            let svc = Arc::new(service(&server.url, TransportSettings::default().with_retry(retry)));
            let e = get(&svc).await.err().ok_or("the throttle was not an error")?;
            ensure!(e.is_throttling(), "{e}");
            let tasks: Vec<_> = (0..10)
                .map(|_| {
                    let svc = svc.clone();
                    tokio::spawn(async move { get(&svc).await.map(drop) })
                })
                .collect();
            tokio::time::sleep(Duration::from_millis(300)).await;
            seen.push(server.count());
            for t in tasks {
                t.abort();
            }
        }
        // Adaptive: the bucket's floor (a token now and then) lets one or two through.
        ensure!(seen[0] <= 3, "adaptive let {} requests through in 300 ms", seen[0]);
        ensure!(seen[1] == 11, "standard sent {} requests", seen[1]);
        Ok(())
    })
}

fn storm_clears() -> Result<(), String> {
    block_on(async {
        let server =
            Loopback::start(|i, _| if i < 2 { Reply::status(503, xml_error("SlowDown")) } else { Reply::ok("done") })
                .await;
        let svc = service(&server.url, settings());
        let r = get(&svc).await.map_err(|e| e.to_string())?;
        ensure!(&r.body[..] == b"done", "body {:?}", r.body);
        ensure!(server.count() == 3, "{} requests", server.count());
        // Each attempt is signed afresh.
        let auths: Vec<String> =
            server.requests().iter().filter_map(|s| s.header("authorization").map(str::to_owned)).collect();
        ensure!(auths.len() == 3, "unsigned attempts: {auths:?}");
        Ok(())
    })
}

fn storm_persists() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|_, _| Reply::status(503, xml_error("SlowDown"))).await;
        let svc = service(&server.url, settings());
        let e = get(&svc).await.err().ok_or("a storm that never clears succeeded")?;
        ensure!(server.count() == 3, "{} requests, want exactly 3", server.count());
        ensure!(e.attempts() == 3 && e.is_throttling() && e.status() == Some(503), "{e}");
        let s = e.to_string();
        ensure!(s == "S3 GetObject: HTTP 503 SlowDown: SlowDown happened (request id REQ-SlowDown, 3 attempts)", "{s}");
        Ok(())
    })
}

fn reset_mid_body() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|i, _| if i == 0 { Reply::CutBody(1000) } else { Reply::ok("whole") }).await;
        let svc = service(&server.url, settings());
        let r = get(&svc).await.map_err(|e| e.to_string())?;
        ensure!(&r.body[..] == b"whole" && server.count() == 2, "{:?} after {}", r.body, server.count());
        Ok(())
    })
}

/// A server whose clock is 20 minutes ahead refuses requests signed more than 5 minutes off,
/// as AWS does, and says its time in `Date`.
fn skewed_server(seen: &Seen) -> Reply {
    let server_now = SystemTime::now() + Duration::from_secs(20 * 60);
    let date = httpdate::fmt_http_date(server_now);
    let signed = seen.header("x-amz-date").and_then(cirrus::sigv4::parse_amz_date);
    let ok = signed.is_some_and(|t| {
        let d = t.duration_since(server_now).or_else(|e| Ok::<_, ()>(e.duration())).unwrap_or_default();
        d < Duration::from_secs(300)
    });
    if ok {
        Reply::ok("in time").with_header("Date", &date)
    } else {
        Reply::status(403, xml_error("RequestTimeTooSkewed")).with_header("Date", &date)
    }
}

fn clock_skew_corrected() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|_, s| skewed_server(s)).await;
        let svc = service(&server.url, settings());
        let r = get(&svc).await.map_err(|e| e.to_string())?;
        ensure!(&r.body[..] == b"in time", "{:?}", r.body);
        ensure!(server.count() == 2, "{} requests", server.count());
        let skew = svc.http().clock_skew();
        ensure!(skew > Duration::from_secs(19 * 60) && skew < Duration::from_secs(21 * 60), "skew {skew:?}");
        // The next call is signed with the corrected time at once.
        get(&svc).await.map_err(|e| e.to_string())?;
        ensure!(server.count() == 3, "{} requests", server.count());
        Ok(())
    })
}

fn bad_request_not_retried() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|_, _| Reply::status(400, xml_error("InvalidArgument"))).await;
        let svc = service(&server.url, settings());
        let e = get(&svc).await.err().ok_or("succeeded")?;
        ensure!(server.count() == 1, "{} requests", server.count());
        ensure!(
            e.code() == Some("InvalidArgument") && e.attempts() == 1 && e.request_id() == Some("REQ-InvalidArgument"),
            "{e}"
        );
        Ok(())
    })
}

fn s3_error_in_a_200() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|i, _| {
            if i == 0 {
                Reply::ok(xml_error("InternalError"))
            } else {
                Reply::ok("<CopyObjectResult/>")
            }
        })
        .await;
        let svc = service(&server.url, settings());
        let r = get(&svc).await.map_err(|e| e.to_string())?;
        ensure!(&r.body[..] == b"<CopyObjectResult/>" && server.count() == 2, "{:?}", r.body);
        Ok(())
    })
}

fn retry_after_is_honoured() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|i, _| {
            if i == 0 {
                Reply::status(429, xml_error("TooManyRequests")).with_header("x-amz-retry-after", "300")
            } else {
                Reply::ok("ok")
            }
        })
        .await;
        let svc = service(&server.url, settings());
        let t = std::time::Instant::now();
        get(&svc).await.map_err(|e| e.to_string())?;
        ensure!(t.elapsed() >= Duration::from_millis(300), "waited only {:?}", t.elapsed());
        Ok(())
    })
}

fn read_timeout_then_operation_timeout() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|_, _| Reply::Slow(Duration::from_secs(5), Box::new(Reply::ok("late")))).await;
        let s = settings().with_read_timeout(Some(Duration::from_millis(200)));
        let svc = service(&server.url, s);
        let e = get(&svc).await.err().ok_or("a slow server did not time out")?;
        ensure!(e.is_timeout() && e.attempts() == 3, "{e}");
        let s = settings().with_read_timeout(None).with_operation_timeout(Some(Duration::from_millis(300)));
        let svc = service(&server.url, s);
        let t = std::time::Instant::now();
        let e = get(&svc).await.err().ok_or("no operation timeout")?;
        ensure!(e.is_timeout() && t.elapsed() < Duration::from_secs(2), "{e} after {:?}", t.elapsed());
        Ok(())
    })
}

fn connection_refused() -> Result<(), String> {
    block_on(async {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let svc = service(&format!("http://127.0.0.1:{port}"), settings());
        let e = get(&svc).await.err().ok_or("connected to nothing")?;
        ensure!(e.is_transport() && e.attempts() == 3, "{e}");
        let shown = cirrus::transport::report(&e);
        ensure!(e.to_string() == "S3 GetObject: no answer (3 attempts)", "{e}");
        ensure!(shown.contains("could not connect (http://127.0.0.1:") && shown.contains("refused"), "{shown}");
        Ok(())
    })
}

/// Credentials that change each time they are asked after an invalidation.
#[derive(Debug, Default)]
struct Rotating {
    generation: AtomicUsize,
}

impl ProvideCredentials for Rotating {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        let g = self.generation.load(Ordering::SeqCst);
        Box::pin(async move { Ok(Credentials::new(format!("AKID{g}"), "s", Some("t".into()), None, "rotating")) })
    }

    fn invalidate(&self, _: &str) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

fn expired_token_refreshes_once() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|_, s| {
            if s.header("authorization").is_some_and(|a| a.contains("Credential=AKID0/")) {
                Reply::status(400, xml_error("ExpiredToken"))
            } else {
                Reply::ok("fresh")
            }
        })
        .await;
        let svc = service(&server.url, settings()).with_credentials(Some(Arc::new(Rotating::default())));
        let r = get(&svc).await.map_err(|e| e.to_string())?;
        ensure!(&r.body[..] == b"fresh" && server.count() == 2, "{:?}", r.body);
        Ok(())
    })
}

fn anonymous_requests_are_unsigned() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|_, _| Reply::ok("public")).await;
        let svc = service(&server.url, settings()).with_credentials(None);
        get(&svc).await.map_err(|e| e.to_string())?;
        let seen = server.requests();
        ensure!(seen[0].header("authorization").is_none() && seen[0].header("x-amz-date").is_none(), "{:?}", seen[0]);
        Ok(())
    })
}

/// Calls through one client share its connection pool: twenty sequential calls, from two services
/// built on the same `HttpClient`, open at most three connections. (hyper hands a connection
/// back to the pool from a task of its own; a call that arrives before that races a new connect
/// against the wait, so an extra connection can appear, more often on a loaded machine: the
/// calls are a few milliseconds apart. A client per call would open 20.)
fn connection_pool_is_reused() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|_, _| Reply::ok("x")).await;
        let http = HttpClient::new(settings());
        let creds = Arc::new(StaticCredentials::new("AKIDTEST", "SECRETTEST", None));
        let s3 = ServiceConfig::builder(S3_SPEC, "us-east-1", &server.url)
            .credentials(Some(creds.clone()))
            .http(http.clone())
            .build();
        let sts = ServiceConfig::builder(cirrus::sts::SPEC, "us-east-1", &server.url)
            .credentials(Some(creds))
            .http(http)
            .build();
        for _ in 0..10 {
            get(&s3).await.map_err(|e| e.to_string())?;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            get(&sts).await.map_err(|e| e.to_string())?;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        ensure!(server.count() == 20, "{} requests", server.count());
        ensure!(server.connections() <= 3, "{} connections for 20 sequential calls", server.connections());
        Ok(())
    })
}

pub fn trials() -> Vec<Trial> {
    vec![
        trial("transport::slowdown_storm_that_clears_succeeds_within_3_attempts", storm_clears),
        trial("transport::slowdown_storm_that_persists_fails_after_exactly_3", storm_persists),
        trial("transport::connection_reset_mid_body_is_retried", reset_mid_body),
        trial("transport::server_clock_20_minutes_off_is_corrected", clock_skew_corrected),
        trial("transport::a_400_is_not_retried", bad_request_not_retried),
        trial("transport::s3_error_inside_a_200_is_retried", s3_error_in_a_200),
        trial("transport::retry_after_is_honoured", retry_after_is_honoured),
        trial("transport::read_and_operation_timeouts", read_timeout_then_operation_timeout),
        trial("transport::connection_refused_is_a_transport_error", connection_refused),
        trial("transport::adaptive_mode_slows_down_after_a_throttle", adaptive_mode_slows_down_after_a_throttle),
        trial("transport::expired_token_invalidates_and_retries_once", expired_token_refreshes_once),
        trial("transport::anonymous_requests_are_unsigned", anonymous_requests_are_unsigned),
        trial("transport::connection_pool_is_reused_across_calls", connection_pool_is_reused),
    ]
}
