//! Providers that need a server no emulator offers (IMDS, the container endpoint), the default
//! chain and its explanation, and profile files written into a temporary HOME.

use crate::common::{block_on, ctx_with, moto, temp_dir, trial, Loopback, Reply, Seen};
use crate::ensure;
use cirrus::credentials::{ContainerCredentials, ImdsCredentials, LinkOutcome, ProvideCredentials};
use cirrus::fs::{Fs, RealFs};
use cirrus::loader::ConfigLoader;
use cirrus::Context;
use libtest_mimic::Trial;
use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

fn creds_json(key: &str, expires_in: i64) -> String {
    let now = SystemTime::now();
    let at = if expires_in >= 0 {
        now + Duration::from_secs(expires_in as u64)
    } else {
        now - Duration::from_secs(expires_in.unsigned_abs())
    };
    let rfc = cirrus::sigv4::format_rfc3339(at);
    format!(
        r#"{{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"{key}","SecretAccessKey":"imds-secret","Token":"imds-token","Expiration":"{rfc}"}}"#
    )
}

/// An IMDSv2 imitation: token flow, role listing, credentials. `rotate_after`: the token is
/// changed (old one gets 401) after that many credential documents; `expired_after`: documents
/// after that many are already expired.
struct Imds {
    token: Mutex<String>,
    docs: AtomicUsize,
    rotate_after: usize,
    expired_after: usize,
    /// The token lifetime the server answers with.
    ttl: &'static str,
}

impl Imds {
    fn handle(&self, seen: &Seen) -> Reply {
        match (seen.method.as_str(), seen.target.as_str()) {
            ("PUT", "/latest/api/token") => {
                if seen.header("x-aws-ec2-metadata-token-ttl-seconds").is_none() {
                    return Reply::status(400, "missing TTL");
                }
                let t = self.token.lock().unwrap().clone();
                Reply::ok(t).with_header("x-aws-ec2-metadata-token-ttl-seconds", self.ttl)
            }
            ("GET", path) => {
                if seen.header("x-aws-ec2-metadata-token") != Some(self.token.lock().unwrap().as_str()) {
                    return Reply::status(401, "");
                }
                match path {
                    "/latest/meta-data/iam/security-credentials/" => Reply::ok("test-role\n"),
                    "/latest/meta-data/placement/region" => Reply::ok("eu-central-1"),
                    "/latest/meta-data/iam/security-credentials/test-role" => {
                        let n = self.docs.fetch_add(1, Ordering::SeqCst);
                        if n + 1 == self.rotate_after {
                            *self.token.lock().unwrap() = "ROTATED".into();
                        }
                        let life = if n >= self.expired_after { -60 } else { 6 * 3600 };
                        Reply::ok(creds_json(&format!("IMDSKEY{n}"), life))
                    }
                    _ => Reply::status(404, ""),
                }
            }
            _ => Reply::status(405, ""),
        }
    }
}

async fn imds_server(rotate_after: usize, expired_after: usize) -> Loopback {
    imds_server_with_ttl(rotate_after, expired_after, "21600").await
}

async fn imds_server_with_ttl(rotate_after: usize, expired_after: usize, ttl: &'static str) -> Loopback {
    let imds = Arc::new(Imds {
        token: Mutex::new("TOKEN1".into()),
        docs: AtomicUsize::new(0),
        rotate_after,
        expired_after,
        ttl,
    });
    Loopback::start(move |_, s| imds.handle(s)).await
}

/// A token lifetime no clock can hold (u64::MAX seconds) is taken as IMDS's maximum, six hours,
/// rather than overflowing the time it is kept until.
fn imds_huge_token_ttl_is_bounded() -> Result<(), String> {
    block_on(async {
        let server = imds_server_with_ttl(usize::MAX, usize::MAX, "18446744073709551615").await;
        let p = ImdsCredentials::new(&ctx_with(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &server.url)]));
        let c = p.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(c.access_key_id() == "IMDSKEY0", "{c:?}");
        Ok(())
    })
}

/// A role name that is not one (`../../user-data`) is refused: the next request would go to the
/// path it names.
fn imds_role_name_cannot_redirect_the_request() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|_, s| match (s.method.as_str(), s.target.as_str()) {
            ("PUT", _) => Reply::ok("T").with_header("x-aws-ec2-metadata-token-ttl-seconds", "21600"),
            ("GET", "/latest/meta-data/iam/security-credentials/") => Reply::ok("../../user-data\n"),
            ("GET", _) => Reply::ok(creds_json("STOLEN", 3600)),
            _ => Reply::status(405, ""),
        })
        .await;
        let p = ImdsCredentials::new(&ctx_with(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &server.url)]));
        let e = p.provide_credentials().await.err().ok_or("credentials from a path the role name pointed to")?;
        ensure!(e.to_string().contains("not an IAM role name"), "{e}");
        // A port no socket has is not quietly the default one.
        let p = ImdsCredentials::new(&ctx_with(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:99999")]));
        let e = p.provide_credentials().await.err().ok_or("a port past 65535 was used")?;
        ensure!(e.to_string().contains("is not a URL"), "{e}");
        ensure!(
            server.count() == 2,
            "{} requests: {:?}",
            server.count(),
            server.requests().iter().map(|r| r.target.clone()).collect::<Vec<_>>()
        );
        Ok(())
    })
}

fn imds_token_flow_and_stale_token() -> Result<(), String> {
    block_on(async {
        let server = imds_server(1, usize::MAX).await;
        let p = ImdsCredentials::new(&ctx_with(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &server.url)]));
        let c = p.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(
            c.access_key_id() == "IMDSKEY0" && c.session_token() == Some("imds-token") && c.provider() == "imds",
            "{c:?}"
        );
        // The server rotated its token: the next fetch gets a 401, renews once, and succeeds.
        let c = p.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(c.access_key_id() == "IMDSKEY1", "{c:?}");
        let puts = server.requests().iter().filter(|s| s.method == "PUT").count();
        ensure!(puts == 2, "{puts} token requests");
        Ok(())
    })
}

fn imds_expired_credentials_keep_the_last_good() -> Result<(), String> {
    block_on(async {
        let server = imds_server(usize::MAX, 1).await;
        let p = ImdsCredentials::new(&ctx_with(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &server.url)]));
        let good = p.provide_credentials().await.map_err(|e| e.to_string())?;
        let again = p.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(again.access_key_id() == good.access_key_id(), "served {again:?}");
        ensure!(!again.is_expired_at(SystemTime::now() + Duration::from_secs(240)), "{again:?} expires too soon");
        Ok(())
    })
}

fn imds_timeouts_and_disabled() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|_, _| Reply::Slow(Duration::from_secs(5), Box::new(Reply::ok("late")))).await;
        let p = ImdsCredentials::new(&ctx_with(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &server.url)]));
        let t = std::time::Instant::now();
        let e = p.provide_credentials().await.err().ok_or("a silent IMDS gave credentials")?;
        ensure!(t.elapsed() < Duration::from_millis(2500), "took {:?}", t.elapsed());
        ensure!(e.is_not_configured() && cirrus::transport::report(&e).contains("timed out"), "{e}");
        let off = Loopback::start(|_, _| Reply::ok("")).await;
        let p = ImdsCredentials::new(&ctx_with(&[
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &off.url),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]));
        let e = p.provide_credentials().await.err().ok_or("disabled IMDS gave credentials")?;
        ensure!(e.to_string() == "AWS_EC2_METADATA_DISABLED is true" && off.count() == 0, "{e}");
        Ok(())
    })
}

fn container_endpoint_with_token_file() -> Result<(), String> {
    block_on(async {
        let server = Loopback::start(|_, s| {
            if s.header("authorization") == Some("Bearer pod-token") && s.target == "/creds" {
                Reply::ok(creds_json("ECSKEY", 3600))
            } else {
                Reply::status(403, r#"{"code":"AccessDenied","message":"bad token"}"#)
            }
        })
        .await;
        let dir = temp_dir("ecs");
        let token_file = dir.join("token");
        std::fs::write(&token_file, "Bearer pod-token\n").map_err(|e| e.to_string())?;
        let url = format!("{}/creds", server.url);
        let tf = token_file.to_string_lossy().into_owned();
        let ctx =
            ctx_with(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &url), ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &tf)]);
        let c = ContainerCredentials::new(&ctx).provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(c.access_key_id() == "ECSKEY" && c.provider() == "container", "{c:?}");
        let ctx =
            ctx_with(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &url), ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong")]);
        let e = ContainerCredentials::new(&ctx).provide_credentials().await.err().ok_or("wrong token accepted")?;
        ensure!(e.to_string().contains("403") && e.to_string().contains("bad token"), "{e}");
        Ok(())
    })
}

/// A file system that counts reads.
#[derive(Debug, Default)]
struct CountingFs {
    reads: AtomicUsize,
}

impl Fs for CountingFs {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        RealFs.read_to_string(path)
    }
}

fn env_credentials_touch_nothing_else() -> Result<(), String> {
    block_on(async {
        let imds = Loopback::start(|_, _| Reply::ok("")).await;
        let vars: HashMap<String, String> = [
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "envsecret"),
            ("AWS_REGION", "eu-west-1"),
            ("HOME", "/nonexistent-home"),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.as_str()),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let fs = Arc::new(CountingFs::default());
        let config = ConfigLoader::new(Context::new(Arc::new(vars), fs.clone())).load().map_err(|e| e.to_string())?;
        let c = config.credentials().ok_or("anonymous")?.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(c.access_key_id() == "AKIDENV" && config.region() == Some("eu-west-1"), "{c:?}");
        let explained = config.chain().ok_or("no chain")?.explain().await;
        ensure!(explained.winner() == Some("environment"), "{explained}");
        let from_env = cirrus::Origin::Env("AWS_ACCESS_KEY_ID".into());
        ensure!(explained.origin() == Some(&from_env), "{:?}", explained.origin());
        // Every link after the environment is left alone (with the cognito feature, a skipped
        // Cognito link comes first).
        let mut after = explained.links.iter().skip_while(|(n, _)| *n != "environment").skip(1);
        ensure!(after.clone().count() == 4 && after.all(|(_, o)| matches!(o, LinkOutcome::NotTried)), "{explained}");
        // The loader looks for the profile's ca_bundle in the two shared files; the chain reads nothing.
        ensure!(fs.reads.load(Ordering::SeqCst) <= 2, "{} file reads", fs.reads.load(Ordering::SeqCst));
        ensure!(imds.count() == 0, "IMDS was contacted {} times", imds.count());
        Ok(())
    })
}

const ASSUMED: &str = "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
<Credentials><AccessKeyId>ASIAMFAROLE</AccessKeyId><SecretAccessKey>role-secret</SecretAccessKey>\
<SessionToken>role-token</SessionToken><Expiration>2100-01-01T00:00:00Z</Expiration></Credentials>\
<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>\
</AssumeRoleResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></AssumeRoleResponse>";

/// mfa_serial: the code comes from the context's prompt and goes out with the serial; the
/// result is cached in the AWS CLI's cache, so the next resolution asks and sends nothing.
fn mfa_code_sent_and_cached() -> Result<(), String> {
    block_on(async {
        let sts = Loopback::start(|_, _| Reply::ok(ASSUMED)).await;
        let home = temp_dir("mfa");
        std::fs::create_dir_all(home.join(".aws")).map_err(|e| e.to_string())?;
        std::fs::write(
            home.join(".aws/config"),
            "[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\nmfa_serial = arn:aws:iam::123456789012:mfa/me\nduration_seconds = 1800\n",
        )
        .map_err(|e| e.to_string())?;
        std::fs::write(home.join(".aws/credentials"), "[base]\naws_access_key_id = AKIDB\naws_secret_access_key = b\n")
            .map_err(|e| e.to_string())?;
        let home_s = home.to_string_lossy().into_owned();
        let asked = Arc::new(AtomicUsize::new(0));
        let load = |code: &'static str| {
            let asked = asked.clone();
            let prompt: cirrus::context::MfaPrompt = Arc::new(move |serial: String| {
                asked.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move {
                    assert_eq!(serial, "arn:aws:iam::123456789012:mfa/me");
                    Ok(code.to_owned())
                })
            });
            let ctx = ctx_with(&[("HOME", &home_s), ("AWS_ENDPOINT_URL", &sts.url)]).with_mfa_prompt(prompt);
            ConfigLoader::new(ctx).region(Some("us-east-1")).profile(Some("mfa")).load().map_err(|e| e.to_string())
        };
        let config = load("123456")?;
        let c = config.credentials().ok_or("anonymous")?.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(c.access_key_id() == "ASIAMFAROLE" && asked.load(Ordering::SeqCst) == 1, "{c:?}");
        let body = String::from_utf8_lossy(&sts.requests()[0].body).into_owned();
        ensure!(
            body.contains("SerialNumber=arn%3Aaws%3Aiam%3A%3A123456789012%3Amfa%2Fme")
                && body.contains("TokenCode=123456")
                && body.contains("DurationSeconds=1800"),
            "{body}"
        );
        // The entry: botocore's key (its JSON of RoleArn, SerialNumber, DurationSeconds), 0600.
        let entries: Vec<_> =
            std::fs::read_dir(home.join(".aws/cli/cache")).map_err(|e| e.to_string())?.flatten().collect();
        ensure!(entries.len() == 1, "{} entries", entries.len());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = entries[0].metadata().map_err(|e| e.to_string())?.permissions().mode() & 0o777;
            ensure!(mode == 0o600, "mode {mode:o}");
        }
        // A new configuration (a new run): from the cache, no code asked, nothing sent.
        let again = load("123456")?;
        let c2 = again.credentials().ok_or("anonymous")?.provide_credentials().await.map_err(|e| e.to_string())?;
        ensure!(c2.access_key_id() == "ASIAMFAROLE" && sts.count() == 1 && asked.load(Ordering::SeqCst) == 1, "{c2:?}");
        // Without the cache: a code that is not 6 digits, and no prompt at all, are errors.
        std::fs::remove_dir_all(home.join(".aws/cli/cache")).map_err(|e| e.to_string())?;
        let e = load("12ab")?
            .credentials()
            .ok_or("anonymous")?
            .provide_credentials()
            .await
            .err()
            .ok_or("bad code taken")?;
        ensure!(e.to_string().contains("must be 6 digits") && sts.count() == 1, "{e}");
        let bare = ConfigLoader::new(ctx_with(&[("HOME", &home_s), ("AWS_ENDPOINT_URL", &sts.url)]))
            .region(Some("us-east-1"))
            .profile(Some("mfa"))
            .load()
            .map_err(|e| e.to_string())?;
        let e =
            bare.credentials().ok_or("anonymous")?.provide_credentials().await.err().ok_or("no prompt, yet a code")?;
        ensure!(e.to_string().contains("needs a code") && e.to_string().contains("mfa_serial"), "{e}");
        Ok(())
    })
}

fn explain_says_why_each_link_was_skipped() -> Result<(), String> {
    block_on(async {
        let imds = imds_server(usize::MAX, usize::MAX).await;
        let home = temp_dir("explain");
        let home_s = home.to_string_lossy().into_owned();
        // A profile named by AWS_PROFILE that no file has stops the loader, as in the AWS CLI.
        let missing = ConfigLoader::new(ctx_with(&[("HOME", &home_s), ("AWS_PROFILE", "dev")])).load();
        let e = missing.err().ok_or("a missing AWS_PROFILE profile was accepted")?;
        ensure!(e.is_profile_not_found() && e.to_string().contains("`dev` is named by AWS_PROFILE"), "{e}");
        let config =
            ConfigLoader::new(ctx_with(&[("HOME", &home_s), ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url)]))
                .region(Some("us-east-1"))
                .load()
                .map_err(|e| e.to_string())?;
        let e = config.chain().ok_or("no chain")?.explain().await;
        ensure!(e.winner() == Some("imds") && e.origin() == Some(&cirrus::Origin::Imds), "{e}");
        let why: HashMap<&str, String> = e
            .links
            .iter()
            .map(|(n, o)| {
                (*n, if let LinkOutcome::Skipped(w) = o { cirrus::transport::report(w) } else { String::new() })
            })
            .collect();
        ensure!(why["environment"] == "AWS_ACCESS_KEY_ID not set", "{e}");
        ensure!(
            why["profile"]
                == format!("profile `default` not found in {home_s}/.aws/config or {home_s}/.aws/credentials"),
            "{e}"
        );
        ensure!(why["web_identity"] == "AWS_WEB_IDENTITY_TOKEN_FILE not set", "{e}");
        ensure!(why["container"].contains("not set"), "{e}");
        let text = e.to_string();
        ensure!(text.contains("imds         used") && !text.contains("imds-secret"), "{text}");
        Ok(())
    })
}

fn profile_files_in_a_temp_home() -> Result<(), String> {
    let url = moto()?;
    block_on(async {
        let imds = imds_server(usize::MAX, usize::MAX).await;
        let ecs = Loopback::start(|_, _| Reply::ok(creds_json("ECSKEY", 3600))).await;
        let home = temp_dir("profiles");
        let aws = home.join(".aws");
        std::fs::create_dir_all(&aws).map_err(|e| e.to_string())?;
        let token = home.join("web-token");
        std::fs::write(&token, "header.payload.sig").map_err(|e| e.to_string())?;
        let role = "arn:aws:iam::123456789012:role/p";
        std::fs::write(
            aws.join("config"),
            format!(
                "[default]\nregion = us-west-2\n[profile keys]\nregion = eu-central-1\n\
                 [profile proc]\ncredential_process = printf '{{\"Version\":1,\"AccessKeyId\":\"PROCKEY\",\"SecretAccessKey\":\"s\"}}'\n\
                 [profile web]\nrole_arn = {role}\nweb_identity_token_file = {}\n\
                 [profile from-env]\nrole_arn = {role}\ncredential_source = Environment\n\
                 [profile from-ecs]\nrole_arn = {role}\ncredential_source = EcsContainer\n\
                 [profile from-imds]\nrole_arn = {role}\ncredential_source = Ec2InstanceMetadata\n\
                 [profile loop-a]\nrole_arn = {role}\nsource_profile = loop-b\n\
                 [profile loop-b]\nrole_arn = {role}\nsource_profile = loop-a\n",
                token.display()
            ),
        )
        .map_err(|e| e.to_string())?;
        std::fs::write(
            aws.join("credentials"),
            "[keys]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n",
        )
        .map_err(|e| e.to_string())?;
        let home_s = home.to_string_lossy().into_owned();
        let ecs_url = format!("{}/creds", ecs.url);
        let base = [
            ("HOME", home_s.as_str()),
            ("AWS_ENDPOINT_URL", url.as_str()),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url.as_str()),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", ecs_url.as_str()),
        ];
        let resolve = |profile: &'static str, extra: &'static [(&'static str, &'static str)]| {
            let mut vars: Vec<(&str, &str)> = base.to_vec();
            vars.extend_from_slice(extra);
            let config = ConfigLoader::new(ctx_with(&vars)).profile(Some(profile)).load();
            async move {
                let config = config.map_err(|e| cirrus::transport::report(&e))?;
                let chain = config.chain().ok_or("no chain")?;
                let link = chain.links().iter().find(|l| l.name == "profile").ok_or("no profile link")?;
                let p = link.provider.clone();
                p.provide_credentials().await.map_err(|e| e.to_string()).map(|c| (c, config))
            }
        };
        let (c, config) = resolve("keys", &[]).await?;
        ensure!(c.access_key_id() == "FILEKEY" && c.provider() == "profile", "{c:?}");
        ensure!(
            config.region() == Some("eu-central-1") && *config.region_source() == cirrus::Origin::Profile("region"),
            "{config:?}"
        );
        let (c, _) = resolve("proc", &[]).await?;
        ensure!(c.access_key_id() == "PROCKEY", "{c:?}");
        for p in ["web", "from-ecs", "from-imds"] {
            let (c, _) = resolve(p, &[]).await.map_err(|e| format!("{p}: {e}"))?;
            ensure!(c.session_token().is_some(), "{p}: {c:?}");
        }
        let (c, _) = resolve("from-env", &[("AWS_ACCESS_KEY_ID", "AKIDENV"), ("AWS_SECRET_ACCESS_KEY", "s")]).await?;
        ensure!(c.provider() == "assume_role", "{c:?}");
        let e = resolve("from-env", &[]).await.err().ok_or("no env, yet credentials")?;
        ensure!(e.contains("AWS_ACCESS_KEY_ID not set") && e.contains("from-env"), "{e}");
        let e = resolve("loop-a", &[]).await.err().ok_or("a cycle resolved")?;
        ensure!(e == "source_profile cycle: loop-a -> loop-b -> loop-a", "{e}");
        // A profile named explicitly that is not there: the loader says so before any chain.
        let e = resolve("nobody", &[]).await.err().ok_or("a missing profile resolved")?;
        ensure!(e.starts_with("the profile `nobody` was asked for, but neither"), "{e}");
        // A malformed line: the error names the file and the line.
        std::fs::write(aws.join("credentials"), "[keys]\naws_access_key_id = FILEKEY\nthis line is wrong\n")
            .map_err(|e| e.to_string())?;
        let e = resolve("keys", &[]).await.err().ok_or("a malformed file parsed")?;
        let want = format!("{}:3", aws.join("credentials").display());
        ensure!(e.contains(&want), "{e} (want {want})");
        Ok(())
    })
}

/// The region comes from IMDS only when asked, and only when nothing else sets one.
fn imds_region_only_when_asked() -> Result<(), String> {
    block_on(async {
        let server = imds_server(usize::MAX, usize::MAX).await;
        let home = temp_dir("imds-region").join("no-such-home");
        let home = home.to_string_lossy().into_owned();
        let vars = [("HOME", home.as_str()), ("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url.as_str())];

        let plain = ConfigLoader::new(ctx_with(&vars)).load().map_err(|e| e.to_string())?;
        ensure!(plain.region().is_none() && *plain.region_source() == cirrus::Origin::Unset, "{:?}", plain.region());
        ensure!(server.count() == 0, "load() contacted IMDS");

        let with_env = [vars[0], vars[1], ("AWS_REGION", "us-west-2")];
        let c = ConfigLoader::new(ctx_with(&with_env)).load_with_imds_region().await.map_err(|e| e.to_string())?;
        ensure!(
            c.region() == Some("us-west-2") && *c.region_source() == cirrus::Origin::Env("AWS_REGION".into()),
            "{:?}",
            c.region()
        );
        ensure!(server.count() == 0, "IMDS was asked although AWS_REGION is set");

        let c = ConfigLoader::new(ctx_with(&vars)).load_with_imds_region().await.map_err(|e| e.to_string())?;
        ensure!(c.region() == Some("eu-central-1") && *c.region_source() == cirrus::Origin::Imds, "{:?}", c.region());
        let paths: Vec<String> = server.requests().iter().map(|s| format!("{} {}", s.method, s.target)).collect();
        ensure!(paths == ["PUT /latest/api/token", "GET /latest/meta-data/placement/region"], "IMDS saw {paths:?}");

        let off = [vars[0], vars[1], ("AWS_EC2_METADATA_DISABLED", "true")];
        let c = ConfigLoader::new(ctx_with(&off)).load_with_imds_region().await.map_err(|e| e.to_string())?;
        ensure!(c.region().is_none(), "{:?}", c.region());
        ensure!(server.count() == 2, "IMDS was asked although disabled");
        Ok(())
    })
}

/// A credential process that runs too long is killed with everything it started (its process
/// group), and one that prints without end is stopped at the cap, its memory never grown.
fn runaway_credential_process_is_stopped() -> Result<(), String> {
    use cirrus::credentials::ProcessCredentials;
    let marker = format!("{}.{}", 40 + std::process::id() % 50, std::process::id() % 997);
    let pgrep = |m: &str| {
        std::process::Command::new("pgrep").args(["-f", &format!("sleep {m}")]).output().map(|o| !o.stdout.is_empty())
    };
    block_on(async {
        // The shell starts a child in the background, then waits on another.
        let slow = ProcessCredentials::new("slow", format!("sleep {marker} & sleep {marker}"))
            .timeout(Duration::from_millis(500));
        let e = slow.provide_credentials().await.err().ok_or("a sleeping process gave credentials")?;
        ensure!(e.to_string().contains("did not finish"), "{e}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        ensure!(!pgrep(&marker).map_err(|e| e.to_string())?, "a child of the credential process lives on");

        let chatty = ProcessCredentials::new("chatty", "yes").timeout(Duration::from_secs(20));
        let started = std::time::Instant::now();
        let e = chatty.provide_credentials().await.err().ok_or("endless output gave credentials")?;
        ensure!(e.to_string().contains("printed more than 65536 bytes"), "{e}");
        ensure!(started.elapsed() < Duration::from_secs(10), "the cap took {:?}", started.elapsed());
        Ok(())
    })
}

pub fn trials() -> Vec<Trial> {
    vec![
        trial("providers::runaway_credential_process_is_stopped", runaway_credential_process_is_stopped),
        trial("providers::imds_token_flow_and_stale_token", imds_token_flow_and_stale_token),
        trial("providers::imds_expired_credentials_keep_the_last_good", imds_expired_credentials_keep_the_last_good),
        trial("providers::imds_timeouts_and_disabled", imds_timeouts_and_disabled),
        trial("providers::imds_region_only_when_asked", imds_region_only_when_asked),
        trial("providers::container_endpoint_with_token_file", container_endpoint_with_token_file),
        trial("chain::env_credentials_read_no_file_and_never_contact_imds", env_credentials_touch_nothing_else),
        trial("chain::explain_says_why_each_link_was_skipped", explain_says_why_each_link_was_skipped),
        trial("profiles::mfa_code_sent_and_cached", mfa_code_sent_and_cached),
        trial("imds::a_huge_token_ttl_is_bounded", imds_huge_token_ttl_is_bounded),
        trial("imds::a_role_name_cannot_redirect_the_request", imds_role_name_cannot_redirect_the_request),
        trial("profiles::every_link_type_cycle_missing_and_malformed", profile_files_in_a_temp_home),
    ]
}
