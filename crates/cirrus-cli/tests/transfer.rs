//! `cirrus s3 cp|rm` on the transfer engine, run as a user would: one connection pool for a
//! whole tree, the AWS CLI's lines, the summary and exit codes, and Ctrl-C (SIGINT) mid-upload
//! and mid-download that leaves no multipart upload and no temporary file behind.

use crate::{command, command_via, ensure, moto, Run};
use libtest_mimic::{Failed, Trial};
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) fn var(k: &str) -> Result<String, Failed> {
    std::env::var(k).map_err(|_| {
        Failed::from(format!("{k} is not set: the S3 test servers are not running (scripts/test starts them)"))
    })
}

/// Credentials and endpoint for s3s-fs (or `endpoint` in front of it), and a config file.
pub(crate) fn s3s_env(endpoint: Option<&str>, config: &Path) -> Result<Vec<(&'static str, String)>, Failed> {
    Ok(vec![
        ("AWS_ACCESS_KEY_ID", var("CIRRUS_S3S_ACCESS_KEY")?),
        ("AWS_SECRET_ACCESS_KEY", var("CIRRUS_S3S_SECRET_KEY")?),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL", endpoint.map(str::to_owned).unwrap_or(var("CIRRUS_S3S_URL")?)),
        ("AWS_CONFIG_FILE", config.to_string_lossy().into_owned()),
    ])
}

pub(crate) fn moto_env(config: &Path) -> Result<Vec<(&'static str, String)>, Failed> {
    Ok(vec![
        ("AWS_ACCESS_KEY_ID", "AKIDTRANSFER".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "transfer-secret".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL", moto()?),
        ("AWS_CONFIG_FILE", config.to_string_lossy().into_owned()),
    ])
}

pub(crate) fn scratch(tag: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("cirrus-cli-transfer-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    Scratch(d)
}

/// A test's scratch folder, removed with everything in it when the test is done with it (kept
/// when the test panicked, to look at).
pub(crate) struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for Scratch {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() && std::fs::remove_dir_all(&self.0).is_err() && self.0.exists() {
            // Unreadable corners made by a test (chmod 000) opened again first.
            let _ = std::process::Command::new("chmod").args(["-R", "u+rwx"]).arg(&self.0).status();
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A profile whose `s3` section sets these values, as the AWS CLI reads them.
pub(crate) fn config_file(dir: &Path, s3: &[(&str, &str)]) -> Result<PathBuf, Failed> {
    let mut text = String::from("[default]\ns3 =\n");
    for (k, v) in s3 {
        text.push_str(&format!("  {k} = {v}\n"));
    }
    let path = dir.join("config");
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    Ok(path)
}

pub(crate) fn run(args: &[&str], env: &[(&'static str, String)]) -> Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    crate::cirrus(args, &env, b"")
}

pub(crate) fn spawn(args: &[&str], env: &[(&'static str, String)]) -> Result<Child, Failed> {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    command(args, &env).spawn().map_err(|e| Failed::from(e.to_string()))
}

/// Waits for the child (killing it after 60 s: a test must fail, not hang) and reads what it
/// printed.
pub(crate) fn finish(mut child: Child) -> Result<Run, Failed> {
    let start = Instant::now();
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("cirrus did not end within 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut stderr = String::new();
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut stderr);
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    Ok(Run { code: out.status.code().unwrap_or(-1), stdout: out.stdout, stderr })
}

pub(crate) fn sigint(child: &Child) -> Result<(), Failed> {
    signal(child, "-INT")
}

fn signal(child: &Child, which: &str) -> Result<(), Failed> {
    let ok = std::process::Command::new("kill")
        .args([which, &child.id().to_string()])
        .status()
        .map_err(|e| e.to_string())?;
    ensure(ok.success(), format!("kill {which} failed"))
}

/// Polls `check` every 5 ms for up to 60 s.
pub(crate) fn wait_until(what: &str, mut check: impl FnMut() -> bool) -> Result<(), Failed> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if check() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Err(format!("timed out waiting for {what}").into())
}

/// A loopback TCP relay that counts the connections made through it.
pub(crate) fn counting_proxy(target: &str) -> Result<(String, Arc<AtomicUsize>), Failed> {
    let target = target.trim_start_matches("http://").to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            let Ok(server) = TcpStream::connect(&target) else { continue };
            let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else { continue };
            std::thread::spawn(move || pipe(client, server));
            std::thread::spawn(move || pipe(s2, c2));
        }
    });
    Ok((format!("http://{addr}"), count))
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// 200 files go up through one connection pool: about as many connections as requests allowed
/// in flight (8, from the profile's `s3` section; 16 at most), where one runtime per file opened
/// 200.
fn one_pool_for_a_tree() -> Result<(), Failed> {
    let dir = scratch("pool");
    std::fs::create_dir_all(dir.join("tree")).map_err(|e| e.to_string())?;
    for i in 0..200 {
        std::fs::write(dir.join(format!("tree/f{i:03}.txt")), format!("file {i}")).map_err(|e| e.to_string())?;
    }
    let config = config_file(&dir, &[("max_concurrent_requests", "8")])?;
    let (proxy, connections) = counting_proxy(&var("CIRRUS_S3S_URL")?)?;
    let env = s3s_env(Some(&proxy), &config)?;
    let b = format!("cli-pool-{}", std::process::id());
    let r = run(&["s3", "mb", &format!("s3://{b}")], &env);
    ensure(r.code == 0, r.stderr)?;
    let before = connections.load(Ordering::SeqCst);
    let r = run(&["s3", "cp", "--recursive", &dir.join("tree").to_string_lossy(), &format!("s3://{b}/t/")], &env);
    ensure(r.code == 0, format!("{} {}", r.code, r.stderr))?;
    let used = connections.load(Ordering::SeqCst) - before;
    ensure(r.out().matches("upload: ").count() == 200, r.out())?;
    ensure(r.stderr.contains("cirrus: 200 done, 0 failed, 0 skipped"), r.stderr.clone())?;
    // A connection goes back to the pool a moment after its answer is read, so a request that
    // starts in that moment opens another: a few more than 8, never one per file.
    ensure((1..=16).contains(&used), format!("{used} connections for 200 files"))?;
    let r = run(&["s3", "ls", "--recursive", &format!("s3://{b}")], &env);
    ensure(r.out().lines().count() == 200, r.out())?;
    let r = run(&["s3", "rb", "--force", &format!("s3://{b}")], &env);
    ensure(r.code == 0, r.stderr)
}

/// The keys under `prefix` of `bucket`, relative, sorted (from `cirrus s3 ls --recursive`).
pub(crate) fn keys_under(bucket: &str, prefix: &str, env: &[(&'static str, String)]) -> Result<Vec<String>, Failed> {
    let r = run(&["s3", "ls", "--recursive", &format!("s3://{bucket}/{prefix}")], env);
    ensure(r.code == 0, r.stderr.clone())?;
    let mut keys: Vec<String> = r
        .out()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3))
        .map(|k| k.strip_prefix(prefix).unwrap_or(k).to_owned())
        .collect();
    keys.sort();
    Ok(keys)
}

/// `--exclude` / `--include` against the AWS CLI v2 (Debian's, /usr/bin/aws): the same tree
/// uploaded by both with the same filters, in the same order, against moto; the keys each
/// leaves in the bucket must be the same. Then `rm --recursive` with filters, the same way.
fn filters_agree_with_the_aws_cli() -> Result<(), Failed> {
    let aws = "/usr/bin/aws";
    ensure(Path::new(aws).exists(), "the AWS CLI v2 is not at /usr/bin/aws (Debian's awscli package)")?;
    let dir = scratch("filters");
    let src = dir.join("src");
    for rel in [
        "a.txt",
        "b.log",
        "c.TXT",
        "keep/today.log",
        "keep/x.bin",
        "raw/c.txt",
        "raw/d.jpg",
        "raw/deep/e.jpg",
        "[x].md",
        "sub/a.txt",
    ] {
        let p = src.join(rel);
        std::fs::create_dir_all(p.parent().unwrap_or(&src)).map_err(|e| e.to_string())?;
        std::fs::write(&p, rel).map_err(|e| e.to_string())?;
    }
    let config = config_file(&dir, &[])?;
    let env = moto_env(&config)?;
    let endpoint = moto()?;
    let b = format!("cli-filters-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let cases: &[&[&str]] = &[
        &["--exclude", "*.log"],
        &["--exclude", "*", "--include", "*.txt"],
        &["--exclude", "*.log", "--include", "keep/*"],
        &["--exclude", "raw/*", "--include", "raw/*.jpg", "--exclude", "raw/deep/*"],
        &["--exclude", "?.txt"],
        &["--exclude", "[ab].*"],
        &["--exclude", "[!a]*"],
        &["--include", "*.jpg"],
        &["--exclude", "sub*"],
        &["--exclude", "*.txt", "--include", "*"],
    ];
    // The AWS CLI reads an empty `s3 =` as a string and fails: give it a plain config.
    let aws_config = dir.join("aws-config");
    std::fs::write(&aws_config, "[default]\n").map_err(|e| e.to_string())?;
    let aws_env = |cmd: &mut std::process::Command| {
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &dir)
            .env("AWS_ACCESS_KEY_ID", "AKIDTRANSFER")
            .env("AWS_SECRET_ACCESS_KEY", "transfer-secret")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", &aws_config);
    };
    for (i, filters) in cases.iter().enumerate() {
        let src_s = src.to_string_lossy().into_owned();
        let theirs = format!("aws{i}/");
        let mut cmd = std::process::Command::new(aws);
        aws_env(&mut cmd);
        let out = cmd
            .args(["--endpoint-url", &endpoint, "s3", "cp", "--recursive", "--only-show-errors", &src_s])
            .arg(format!("s3://{b}/{theirs}"))
            .args(*filters)
            .output()
            .map_err(|e| e.to_string())?;
        ensure(out.status.success(), format!("aws {filters:?}: {}", String::from_utf8_lossy(&out.stderr)))?;
        let ours = format!("cirrus{i}/");
        let mut args = vec!["s3", "cp", "--recursive", "--only-show-errors", &src_s];
        let dst = format!("s3://{b}/{ours}");
        args.push(&dst);
        args.extend_from_slice(filters);
        let r = run(&args, &env);
        ensure(r.code == 0, format!("cirrus {filters:?}: {}", r.stderr))?;
        let (a, c) = (keys_under(&b, &theirs, &env)?, keys_under(&b, &ours, &env)?);
        ensure(a == c, format!("cp {filters:?}: the AWS CLI left {a:?}, cirrus {c:?}"))?;
        // rm with the same filters over a full copy made by each: the same keys remain.
        let all = format!("all{i}/");
        ensure(
            run(&["s3", "cp", "--recursive", "--only-show-errors", &src_s, &format!("s3://{b}/{all}aws/")], &env).code
                == 0,
            "cp",
        )?;
        ensure(
            run(&["s3", "cp", "--recursive", "--only-show-errors", &src_s, &format!("s3://{b}/{all}cirrus/")], &env)
                .code
                == 0,
            "cp",
        )?;
        let mut cmd = std::process::Command::new(aws);
        aws_env(&mut cmd);
        let out = cmd
            .args(["--endpoint-url", &endpoint, "s3", "rm", "--recursive", "--only-show-errors"])
            .arg(format!("s3://{b}/{all}aws/"))
            .args(*filters)
            .output()
            .map_err(|e| e.to_string())?;
        ensure(out.status.success(), format!("aws rm {filters:?}: {}", String::from_utf8_lossy(&out.stderr)))?;
        let target = format!("s3://{b}/{all}cirrus/");
        let mut args = vec!["s3", "rm", "--recursive", "--only-show-errors", &target];
        args.extend_from_slice(filters);
        ensure(run(&args, &env).code == 0, "cirrus rm")?;
        let (a, c) = (keys_under(&b, &format!("{all}aws/"), &env)?, keys_under(&b, &format!("{all}cirrus/"), &env)?);
        ensure(a == c, format!("rm {filters:?}: the AWS CLI left {a:?}, cirrus {c:?}"))?;
    }
    let r = run(&["s3", "rb", "--force", &format!("s3://{b}")], &env);
    let _ = std::fs::remove_dir_all(&dir);
    ensure(r.code == 0, r.stderr)
}

/// The AWS CLI v2 with this test's credentials against moto: its output, or its error.
fn aws_cli(dir: &Path, args: &[&str]) -> Result<String, Failed> {
    let config = dir.join("aws-config");
    std::fs::write(&config, "[default]\n").map_err(|e| e.to_string())?;
    let out = std::process::Command::new("/usr/bin/aws")
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir)
        .env("TZ", "UTC")
        .env("AWS_ACCESS_KEY_ID", "AKIDTRANSFER")
        .env("AWS_SECRET_ACCESS_KEY", "transfer-secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", &config)
        .args(["--endpoint-url", &moto()?])
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    ensure(out.status.success(), format!("aws {args:?}: {}", String::from_utf8_lossy(&out.stderr)))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The object flags of cp, read back by the AWS CLI's `s3api head-object`; `ls
/// --human-readable --summarize` printed as the AWS CLI prints it, byte for byte.
fn object_flags_and_ls_agree_with_the_aws_cli() -> Result<(), Failed> {
    let dir = scratch("flags");
    let file = dir.join("report.csv");
    std::fs::write(&file, vec![b'x'; 1536]).map_err(|e| e.to_string())?;
    let config = config_file(&dir, &[])?;
    let mut env = moto_env(&config)?;
    env.push(("TZ", "UTC".to_owned()));
    let b = format!("cli-flags-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let file_s = file.to_string_lossy().into_owned();
    let r = run(
        &[
            "s3",
            "cp",
            &file_s,
            &format!("s3://{b}/r/report.csv"),
            "--storage-class",
            "STANDARD_IA",
            "--metadata",
            "team=data,stage=prod",
            "--cache-control",
            "max-age=60",
            "--content-language",
            "fr",
            "--content-disposition",
            "attachment",
            "--content-type",
            "text/csv",
            "--sse",
            "--acl",
            "private",
            "--expires",
            "Wed, 21 Oct 2037 07:28:00 GMT",
        ],
        &env,
    );
    ensure(r.code == 0, format!("{}{}", r.out(), r.stderr))?;
    let head: serde_json::Value =
        serde_json::from_str(&aws_cli(&dir, &["s3api", "head-object", "--bucket", &b, "--key", "r/report.csv"])?)
            .map_err(|e| e.to_string())?;
    for (field, want) in [
        ("StorageClass", "STANDARD_IA"),
        ("CacheControl", "max-age=60"),
        ("ContentLanguage", "fr"),
        ("ContentDisposition", "attachment"),
        ("ContentType", "text/csv"),
        ("ServerSideEncryption", "AES256"),
    ] {
        ensure(head[field] == want, format!("{field}: {head}"))?;
    }
    ensure(head["Metadata"]["team"] == "data" && head["Metadata"]["stage"] == "prod", head.to_string())?;
    let r = run(&["s3", "cp", &file_s, &format!("s3://{b}/x"), "--metadata", "novalue"], &env);
    ensure(r.code == 2 && r.stderr.contains("KEY=VALUE"), r.stderr)?;
    let r = run(&["s3", "cp", &file_s, &format!("s3://{b}/x"), "--sse", "rot13"], &env);
    ensure(r.code == 2 && r.stderr.contains("AES256 or aws:kms"), r.stderr)?;
    // SSE-C: the key goes with the flag, is 32 bytes, and never shows, even with --debug.
    let key = "0123456789abcdef0123456789abcdef";
    let key_b64 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    for (args, says) in [
        (vec!["--sse-c"], "needs --sse-c-key"),
        (vec!["--sse-c-key", key], "goes with --sse-c"),
        (vec!["--sse-c", "--sse-c-key", "short"], "AES-256 takes 32"),
        (vec!["--sse-c", "--sse-c-key", "fileb:///nonexistent/key"], "fileb:///nonexistent/key"),
    ] {
        let mut all = vec!["s3", "cp", file_s.as_str(), "s3://b/x"];
        all.extend(args);
        let r = run(&all, &env);
        ensure(r.code == 2 && r.stderr.contains(says), format!("{says}: {}", r.stderr))?;
    }
    let r = run(&["--debug", "s3", "cp", &file_s, &format!("s3://{b}/enc"), "--sse-c", "--sse-c-key", key], &env);
    ensure(r.code == 0, r.stderr.clone())?;
    ensure(
        !r.stderr.contains(key) && !r.stderr.contains(key_b64) && !r.out().contains(key_b64),
        "the SSE-C key was printed",
    )?;
    // A second object, then ls both ways.
    let small = dir.join("one.txt");
    std::fs::write(&small, "1").map_err(|e| e.to_string())?;
    ensure(run(&["s3", "cp", &small.to_string_lossy(), &format!("s3://{b}/one.txt")], &env).code == 0, "cp")?;
    for args in [
        vec!["s3", "ls", "--recursive", "--human-readable", "--summarize"],
        vec!["s3", "ls", "--summarize"],
        vec!["s3", "ls", "--human-readable"],
    ] {
        let mut theirs_args = args.clone();
        let target = format!("s3://{b}/");
        theirs_args.push(&target);
        let theirs = aws_cli(&dir, &theirs_args)?;
        let ours = run(&theirs_args, &env);
        ensure(
            ours.code == 0 && ours.out() == theirs,
            format!("{args:?}\nAWS CLI:\n{theirs}\ncirrus:\n{}", ours.out()),
        )?;
    }
    let r = run(&["s3", "rb", "--force", &format!("s3://{b}")], &env);
    let _ = std::fs::remove_dir_all(&dir);
    ensure(r.code == 0, r.stderr)
}

/// The `(dryrun)` lines of a sync, as a sorted set with paths made relative (the two tools
/// print the local root as given).
fn dryrun_set(out: &str, marker: &str) -> Vec<String> {
    // The AWS CLI prints local paths relative to the working directory, cirrus as given: both
    // cut to start at the scratch folder's name.
    let cut = |t: &str| t.find(marker).map_or(t.to_owned(), |i| t[i..].to_owned());
    let mut lines: Vec<String> = out
        .lines()
        .filter(|l| l.starts_with("(dryrun)"))
        .map(|l| l.split(' ').map(cut).collect::<Vec<_>>().join(" "))
        .collect();
    lines.sort();
    lines
}

/// `sync --dryrun` against the AWS CLI v2 on moto: the same trees, changes, filters and flags;
/// the planned actions compared as sets, for uploads, downloads and copies.
fn sync_plans_agree_with_the_aws_cli() -> Result<(), Failed> {
    let dir = scratch("sync-diff");
    let src = dir.join("src");
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    let write = |rel: &str, body: &str, when: std::time::SystemTime| -> Result<(), Failed> {
        let p = src.join(rel);
        std::fs::create_dir_all(p.parent().unwrap_or(&src)).map_err(|e| e.to_string())?;
        std::fs::write(&p, body).map_err(|e| e.to_string())?;
        std::fs::File::options()
            .write(true)
            .open(&p)
            .and_then(|f| f.set_modified(when))
            .map_err(|e| e.to_string().into())
    };
    for rel in ["a.txt", "b.log", "sub/c.txt", "sub-d.txt", "sub/deep/e.jpg", "z.txt"] {
        write(rel, rel, old)?;
    }
    let config = config_file(&dir, &[])?;
    let env = moto_env(&config)?;
    let b = format!("cli-sync-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let src_s = src.to_string_lossy().into_owned();
    let dst = format!("s3://{b}/site/");
    // The starting point, made by cirrus (then checked: nothing left to do, for both tools).
    let r = run(&["s3", "sync", &src_s, &dst], &env);
    ensure(r.code == 0, r.stderr)?;
    // Changes: one file grown, one removed, one new, one extra key.
    write("a.txt", "a.txt, longer now", old)?;
    std::fs::remove_file(src.join("z.txt")).map_err(|e| e.to_string())?;
    write("sub/new.txt", "new", old)?;
    ensure(
        run(&["s3", "cp", &src.join("b.log").to_string_lossy(), &format!("s3://{b}/site/extra.log")], &env).code == 0,
        "cp",
    )?;
    let down = dir.join("down");
    std::fs::create_dir_all(&down).map_err(|e| e.to_string())?;
    let down_s = down.to_string_lossy().into_owned();
    let mirror = format!("s3://{b}/mirror/");
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (vec![], &src_s, &dst),
        (vec!["--delete"], &src_s, &dst),
        (vec!["--delete", "--exclude", "*.log"], &src_s, &dst),
        (vec!["--exclude", "*", "--include", "sub/*"], &src_s, &dst),
        (vec!["--size-only"], &src_s, &dst),
        (vec![], &dst, &down_s),
        (vec!["--exclude", "*.txt"], &dst, &down_s),
        (vec![], &dst, &mirror),
        (vec!["--delete"], &dst, &mirror),
    ];
    for (flags, from, to) in &cases {
        let mut args = vec!["s3", "sync", "--dryrun", *from, *to];
        args.extend(flags.iter().copied());
        let marker = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let theirs = dryrun_set(&aws_cli(&dir, &args)?, &marker);
        let ours = run(&args, &env);
        ensure(ours.code == 0, ours.stderr.clone())?;
        let ours = dryrun_set(&ours.out(), &marker);
        ensure(ours == theirs, format!("sync {flags:?} {from} {to}\nAWS CLI: {theirs:#?}\ncirrus: {ours:#?}"))?;
        ensure(!ours.is_empty() || flags.is_empty(), format!("{flags:?}: nothing planned"))?;
    }
    let r = run(&["s3", "rb", "--force", &format!("s3://{b}")], &env);
    let _ = std::fs::remove_dir_all(&dir);
    ensure(r.code == 0, r.stderr)
}

/// `cirrus s3 mv`: the AWS CLI's `move:` lines, sources gone, filters kept, streams refused.
fn mv_moves() -> Result<(), Failed> {
    let dir = scratch("mv");
    let src = dir.join("src");
    for rel in ["a.txt", "b.log", "sub/c.txt"] {
        let p = src.join(rel);
        std::fs::create_dir_all(p.parent().unwrap_or(&src)).map_err(|e| e.to_string())?;
        std::fs::write(&p, rel).map_err(|e| e.to_string())?;
    }
    let config = config_file(&dir, &[])?;
    let env = moto_env(&config)?;
    let b = format!("cli-mv-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let src_s = src.to_string_lossy().into_owned();
    let r = run(&["s3", "mv", "--recursive", &src_s, &format!("s3://{b}/in/"), "--exclude", "*.log"], &env);
    ensure(r.code == 0 && r.out().matches("move: ").count() == 2, format!("{}{}", r.out(), r.stderr))?;
    ensure(!src.join("a.txt").exists() && !src.join("sub/c.txt").exists() && src.join("b.log").exists(), "sources")?;
    ensure(keys_under(&b, "in/", &env)? == ["a.txt", "sub/c.txt"], "keys")?;
    let r = run(&["s3", "mv", "-", &format!("s3://{b}/x")], &env);
    ensure(r.code == 2 && r.stderr.contains("use cp"), r.stderr)?;
    let r = run(&["s3", "rb", "--force", &format!("s3://{b}")], &env);
    let _ = std::fs::remove_dir_all(&dir);
    ensure(r.code == 0, r.stderr)
}

/// `rm --recursive` lists as sync and `ls --recursive` do (`S3Client::list_tree`), and deletes
/// exactly the keys a flat listing gives under the folder, in key order: keys that sort around
/// the folders' names (`a` < `a-b/` < `a.txt` < `a/`), a folder marker, deep keys; nothing
/// beside it.
fn rm_recursive_deletes_exactly_the_tree() -> Result<(), Failed> {
    let dir = scratch("rm-tree");
    let config = config_file(&dir, &[])?;
    let env = moto_env(&config)?;
    let b = format!("cli-rm-tree-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let under = ["t/0", "t/a", "t/a-b/c", "t/a.txt", "t/a/", "t/a/b", "t/a/b/c/d", "t/z/y/x", "t/\u{e4}"];
    let beside = ["t-other", "u/t/x"];
    let envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for k in under.iter().chain(&beside) {
        let r = crate::cirrus(&["s3api", "put-object", "--bucket", &b, "--key", k], &envs, b"");
        ensure(r.code == 0, format!("put {k}: {}", r.stderr))?;
    }
    // Listed by `list_tree` (its ranges are tested at every page size in the library's tests).
    let r = run(&["s3", "rm", "--recursive", &format!("s3://{b}/t/")], &env);
    ensure(r.code == 0, format!("exit {}: {}", r.code, r.stderr))?;
    let (out, line_start) = (r.out(), format!("delete: s3://{b}/"));
    let deleted: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix(line_start.as_str())).collect();
    let mut want: Vec<String> = under.iter().map(|k| k.to_string()).collect();
    want.sort();
    ensure(deleted == want, format!("deleted {deleted:?}, want {want:?}"))?;
    ensure(keys_under(&b, "", &env)? == beside, "the keys beside the folder")?;
    let r = run(&["s3", "rb", "--force", &format!("s3://{b}")], &env);
    let _ = std::fs::remove_dir_all(&dir);
    ensure(r.code == 0, r.stderr)
}

/// The AWS CLI's lines, --quiet and --only-show-errors, a recursive rm of a folder, and a tree
/// where one file fails (a key over 1,024 bytes) and a FIFO is skipped: the rest goes up, the
/// summary says so, exit 1.
fn lines_summary_and_exit_codes() -> Result<(), Failed> {
    let dir = scratch("lines");
    let tree = dir.join("tree");
    std::fs::create_dir_all(&tree).map_err(|e| e.to_string())?;
    for name in ["a.txt", "b.txt", "c.txt"] {
        std::fs::write(tree.join(name), name).map_err(|e| e.to_string())?;
    }
    let config = config_file(&dir, &[])?;
    let env = s3s_env(None, &config)?;
    let b = format!("cli-lines-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let t = tree.to_string_lossy().into_owned();
    let r = run(&["s3", "cp", "--recursive", "--quiet", &t, &format!("s3://{b}/data")], &env);
    ensure(r.code == 0 && r.stdout.is_empty() && r.stderr.is_empty(), format!("--quiet: {} {}", r.out(), r.stderr))?;
    let r = run(&["s3", "cp", "--recursive", "--only-show-errors", &t, &format!("s3://{b}/data-backup/")], &env);
    ensure(r.code == 0 && r.stdout.is_empty() && r.stderr.is_empty(), format!("--only-show-errors: {}", r.stderr))?;
    let r = run(&["s3", "cp", &tree.join("a.txt").to_string_lossy(), &format!("s3://{b}/database.sql")], &env);
    ensure(r.out() == format!("upload: {}/a.txt to s3://{b}/database.sql\n", t), r.out())?;

    let down = dir.join("down");
    let r = run(&["s3", "cp", "--recursive", &format!("s3://{b}/data"), &down.to_string_lossy()], &env);
    ensure(
        r.code == 0 && r.out().contains(&format!("download: s3://{b}/data/a.txt to {}", down.join("a.txt").display())),
        r.out(),
    )?;
    let r = run(&["s3", "cp", "--recursive", &format!("s3://{b}/data/"), &format!("s3://{b}/copy/")], &env);
    ensure(r.code == 0 && r.out().contains(&format!("copy: s3://{b}/data/b.txt to s3://{b}/copy/b.txt")), r.out())?;

    // `data` is the folder `data/`: data-backup/ and database.sql stay.
    let r = run(&["s3", "rm", "--recursive", &format!("s3://{b}/data")], &env);
    ensure(r.code == 0 && r.out().matches(&format!("delete: s3://{b}/data/")).count() == 3, r.out())?;
    let r = run(&["s3", "ls", "--recursive", &format!("s3://{b}")], &env);
    ensure(r.out().lines().count() == 7 && r.out().contains("database.sql") && !r.out().contains(" data/"), r.out())?;

    // Keep going: one failure, one skip, the rest done; exit 1 after the summary.
    let deep: PathBuf = (0..6).map(|i| format!("{i}{}", "d".repeat(199))).collect();
    std::fs::create_dir_all(tree.join(&deep)).map_err(|e| e.to_string())?;
    std::fs::write(tree.join(&deep).join("f"), b"x").map_err(|e| e.to_string())?;
    let fifo = tree.join("fifo");
    ensure(std::process::Command::new("mkfifo").arg(&fifo).status().map_err(|e| e.to_string())?.success(), "mkfifo")?;
    let r = run(&["s3", "cp", "--recursive", &t, &format!("s3://{b}/going/")], &env);
    ensure(r.code == 1, format!("exit {}: {}", r.code, r.stderr))?;
    ensure(r.out().matches("upload: ").count() == 3, r.out())?;
    ensure(r.stderr.contains("upload failed: ") && r.stderr.contains("1024"), r.stderr.clone())?;
    ensure(r.stderr.contains(&format!("warning: skipping {}", fifo.display())), r.stderr.clone())?;
    ensure(r.stderr.contains("cirrus: 3 done, 1 failed, 1 skipped"), r.stderr.clone())?;
    let r = run(&["s3", "rb", "--force", &format!("s3://{b}")], &env);
    ensure(r.code == 0, r.stderr)
}

/// `ListMultipartUploads` of `bucket` through `cirrus curl`: the upload ids in progress.
pub(crate) fn uploads_in_progress(env: &[(&'static str, String)], bucket: &str) -> Result<usize, Failed> {
    let r = run(&["curl", "--service", "s3", &format!("{}/{bucket}?uploads", moto()?)], env);
    ensure(r.code == 0, r.stderr.clone())?;
    Ok(r.out().matches("<UploadId>").count())
}

/// Ctrl-C mid multipart upload: exit 130 once the upload is aborted (moto lists none, no
/// object); SIGTERM mid download: exit 130, no temporary file, no target.
fn interrupt_cleans_up() -> Result<(), Failed> {
    let dir = scratch("sigint");
    let big = dir.join("big.bin");
    let data: Vec<u8> = (0..(100u32 << 20)).map(|i| (i % 251) as u8).collect();
    std::fs::write(&big, &data).map_err(|e| e.to_string())?;
    drop(data);
    let config = config_file(
        &dir,
        &[("max_concurrent_requests", "1"), ("multipart_chunksize", "5MB"), ("multipart_threshold", "5MB")],
    )?;
    let env = moto_env(&config)?;
    let b = format!("cli-sigint-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;

    let child = spawn(&["s3", "cp", &big.to_string_lossy(), &format!("s3://{b}/big.bin")], &env)?;
    wait_until("the multipart upload to start", || uploads_in_progress(&env, &b).unwrap_or(0) > 0)?;
    sigint(&child)?;
    let r = finish(child)?;
    ensure(r.code == 130, format!("exit {}: {}", r.code, r.stderr))?;
    ensure(r.stderr.contains("interrupted"), r.stderr.clone())?;
    ensure(uploads_in_progress(&env, &b)? == 0, "the multipart upload was left behind")?;
    let r = run(&["s3", "ls", "--recursive", &format!("s3://{b}")], &env);
    ensure(r.out().is_empty(), format!("an object appeared: {}", r.out()))?;

    let plain = config_file(&dir, &[])?;
    let r = run(&["s3", "cp", &big.to_string_lossy(), &format!("s3://{b}/big.bin")], &moto_env(&plain)?);
    ensure(r.code == 0, r.stderr)?;
    let config = config_file(
        &dir,
        &[("max_concurrent_requests", "1"), ("multipart_chunksize", "5MB"), ("multipart_threshold", "5MB")],
    )?;
    let env = moto_env(&config)?;
    let down = dir.join("down");
    std::fs::create_dir_all(&down).map_err(|e| e.to_string())?;
    let child = spawn(&["s3", "cp", &format!("s3://{b}/big.bin"), &format!("{}/", down.display())], &env)?;
    wait_until("the temporary file", || std::fs::read_dir(&down).map(|d| d.count() > 0).unwrap_or(false))?;
    signal(&child, "-TERM")?;
    let r = finish(child)?;
    ensure(r.code == 130, format!("exit {}: {}", r.code, r.stderr))?;
    let left: Vec<_> = std::fs::read_dir(&down).map_err(|e| e.to_string())?.flatten().map(|e| e.file_name()).collect();
    ensure(left.is_empty(), format!("left in the destination: {left:?}"))?;
    let r = run(&["s3", "rb", "--force", &format!("s3://{b}")], &env);
    ensure(r.code == 0, r.stderr)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `cp --resume`: Ctrl-C once two parts are in keeps the upload (moto lists it) and its
/// journal, and says how to go on; the same command again sends only the rest (`resume:` with
/// the parts reused) and the object is the file.
fn resume_after_ctrl_c() -> Result<(), Failed> {
    let dir = scratch("resume");
    let big = dir.join("big.bin");
    let data: Vec<u8> = (0..(40u32 << 20)).map(|i| (i % 239) as u8 ^ (i >> 20) as u8).collect();
    std::fs::write(&big, &data).map_err(|e| e.to_string())?;
    let config = config_file(
        &dir,
        &[("max_concurrent_requests", "1"), ("multipart_chunksize", "5MB"), ("multipart_threshold", "5MB")],
    )?;
    let mut env = moto_env(&config)?;
    let cache = dir.join("cache");
    env.push(("XDG_CACHE_HOME", cache.to_string_lossy().into_owned()));
    let journals = cache.join("cirrus/uploads");
    let b = format!("cli-resume-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let dst = format!("s3://{b}/big.bin");
    let args = ["s3", "cp", "--resume", &big.to_string_lossy(), &dst];
    let child = spawn(&args, &env)?;
    let parts_recorded = || {
        let files: Vec<_> = std::fs::read_dir(&journals).map(|d| d.flatten().collect()).unwrap_or_default();
        files
            .first()
            .and_then(|f| std::fs::read_to_string(f.path()).ok())
            .map_or(0, |t| t.lines().count().saturating_sub(1))
    };
    wait_until("two parts in the journal", || parts_recorded() >= 2)?;
    sigint(&child)?;
    let r = finish(child)?;
    ensure(r.code == 130, format!("exit {}: {}", r.code, r.stderr))?;
    ensure(r.stderr.contains("run the same command with --resume"), r.stderr.clone())?;
    ensure(uploads_in_progress(&env, &b)? == 1, "the upload was not kept")?;
    let r = run(&args, &env);
    ensure(r.code == 0, format!("exit {}: {}", r.code, r.stderr))?;
    let resumed = r.stderr.lines().find(|l| l.starts_with("resume: ")).unwrap_or_default().to_owned();
    let reused: u32 =
        resumed.split('(').nth(1).and_then(|t| t.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or(0);
    ensure((2..8).contains(&reused), format!("{}\n{}", r.stderr, r.out()))?;
    ensure(uploads_in_progress(&env, &b)? == 0, "an upload was left")?;
    ensure(std::fs::read_dir(&journals).map(|d| d.count()).unwrap_or(0) == 0, "the journal was left")?;
    let back = dir.join("back.bin");
    let r = run(&["s3", "cp", &dst, &back.to_string_lossy()], &env);
    ensure(r.code == 0, r.stderr)?;
    ensure(std::fs::read(&back).map_err(|e| e.to_string())? == data, "the object is not the file")?;
    ensure(run(&["s3", "rb", "--force", &format!("s3://{b}")], &env).code == 0, "rb")?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Names in `dir` that are not hidden (s3s-fs keeps an object as a file of its key's name; a
/// download's temporary file starts with a dot).
fn visible_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().filter(|e| !e.file_name().to_string_lossy().starts_with('.')).count())
        .unwrap_or(0)
}

/// `N done` of the summary line.
fn done_in_summary(stderr: &str) -> Option<usize> {
    let line = stderr.lines().rev().find(|l| l.contains(" done, "))?;
    line.trim_start_matches("cirrus: ").split(' ').next()?.parse().ok()
}

/// Ctrl-C in the middle of a bulk upload, then of a bulk download: the summary counts what was
/// done, as many as the lines printed and the objects stored or files written (a job past its
/// point of no return, a PUT sent or a rename started, finishes and is counted).
fn interrupt_summary_counts_what_was_done() -> Result<(), Failed> {
    let dir = scratch("sigint-count");
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|e| e.to_string())?;
    for i in 0..2000 {
        std::fs::write(src.join(format!("f{i:04}")), format!("file {i}\n")).map_err(|e| e.to_string())?;
    }
    let env = s3s_env(None, &config_file(&dir, &[("max_concurrent_requests", "32")])?)?;
    let b = format!("cli-sigint-count-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let stored = Path::new(&var("CIRRUS_S3S_DATA")?).join(&b).join("up");
    let child = spawn(&["s3", "cp", "--recursive", &src.to_string_lossy(), &format!("s3://{b}/up/")], &env)?;
    wait_until("200 objects stored", || visible_files(&stored) >= 200)?;
    sigint(&child)?;
    let r = finish(child)?;
    let lines = r.out().lines().filter(|l| l.starts_with("upload: ")).count();
    let (done, objects) = (done_in_summary(&r.stderr), visible_files(&stored));
    ensure(r.code == 130 && objects < 2000, format!("exit {}: {}", r.code, r.stderr))?;
    ensure(
        done == Some(lines) && lines == objects,
        format!("upload: {lines} lines, summary {done:?} done, {objects} objects stored: {}", r.stderr),
    )?;
    // The rest uploaded, then a download interrupted the same way.
    ensure(run(&["s3", "sync", &src.to_string_lossy(), &format!("s3://{b}/up/")], &env).code == 0, "sync")?;
    let down = dir.join("down");
    let child = spawn(&["s3", "cp", "--recursive", &format!("s3://{b}/up/"), &down.to_string_lossy()], &env)?;
    wait_until("200 files written", || visible_files(&down) >= 200)?;
    sigint(&child)?;
    let r = finish(child)?;
    let lines = r.out().lines().filter(|l| l.starts_with("download: ")).count();
    let (done, files) = (done_in_summary(&r.stderr), visible_files(&down));
    let all = std::fs::read_dir(&down).map(|d| d.count()).unwrap_or(0);
    ensure(r.code == 130 && files < 2000, format!("exit {}: {}", r.code, r.stderr))?;
    ensure(
        done == Some(lines) && lines == files && all == files,
        format!("download: {lines} lines, summary {done:?} done, {files} files ({all} with hidden ones): {}", r.stderr),
    )?;
    ensure(run(&["s3", "rb", "--force", &format!("s3://{b}")], &env).code == 0, "rb")
}

/// `cp s3://b/k - | head -c 10`: the reader goes away, cirrus ends quietly with 141.
fn closed_pipe_on_download_to_stdout() -> Result<(), Failed> {
    let dir = scratch("pipe");
    let config = config_file(&dir, &[])?;
    let env = s3s_env(None, &config)?;
    let b = format!("cli-pipe-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let big = dir.join("big");
    std::fs::write(&big, vec![b'x'; 8 << 20]).map_err(|e| e.to_string())?;
    ensure(run(&["s3", "cp", &big.to_string_lossy(), &format!("s3://{b}/big")], &env).code == 0, "cp up")?;
    let mut child = spawn(&["s3", "cp", &format!("s3://{b}/big"), "-"], &env)?;
    let mut head = [0u8; 10];
    child.stdout.take().ok_or("no stdout")?.read_exact(&mut head).map_err(|e| e.to_string())?;
    let r = finish(child)?;
    ensure(r.code == 141 && r.stderr.is_empty(), format!("exit {}: {}", r.code, r.stderr))?;
    ensure(run(&["s3", "rb", "--force", &format!("s3://{b}")], &env).code == 0, "rb")
}

/// `cirrus s3 cp --recursive ... | head -0`: the first line cannot be written, so the transfer
/// stops as for an interrupt (the big file's multipart upload aborted), then exits 141. And
/// `s3 ls` into a closed pipe ends quietly with 141.
fn closed_pipe_during_a_transfer_cleans_up() -> Result<(), Failed> {
    let dir = scratch("pipe-up");
    let tree = dir.join("tree");
    std::fs::create_dir_all(&tree).map_err(|e| e.to_string())?;
    std::fs::write(tree.join("a-small.txt"), "x").map_err(|e| e.to_string())?;
    std::fs::write(tree.join("big.bin"), vec![5u8; 60 << 20]).map_err(|e| e.to_string())?;
    let config = config_file(
        &dir,
        &[("max_concurrent_requests", "2"), ("multipart_chunksize", "5MB"), ("multipart_threshold", "5MB")],
    )?;
    let env = moto_env(&config)?;
    let b = format!("cli-pipe-up-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let mut child = spawn(&["s3", "cp", "--recursive", &tree.to_string_lossy(), &format!("s3://{b}/t/")], &env)?;
    drop(child.stdout.take());
    let r = finish(child)?;
    ensure(r.code == 141 && !r.stderr.contains("panicked"), format!("exit {}: {}", r.code, r.stderr))?;
    ensure(uploads_in_progress(&env, &b)? == 0, "a multipart upload was left behind")?;
    let r = run(&["s3", "ls", "--recursive", &format!("s3://{b}")], &env);
    ensure(!r.out().contains("big.bin"), format!("the big file was completed: {}", r.out()))?;
    let small = tree.join("a-small.txt");
    ensure(run(&["s3", "cp", &small.to_string_lossy(), &format!("s3://{b}/listed")], &env).code == 0, "cp")?;
    let mut child = spawn(&["s3", "ls", "--recursive", &format!("s3://{b}")], &env)?;
    drop(child.stdout.take());
    let r = finish(child)?;
    ensure(r.code == 141 && r.stderr.is_empty(), format!("ls: exit {}: {}", r.code, r.stderr))?;
    let mut child = spawn(&["curl", "--service", "s3", &format!("{}/{b}/listed", moto()?)], &env)?;
    drop(child.stdout.take());
    let r = finish(child)?;
    ensure(r.code == 141 && r.stderr.is_empty(), format!("curl: exit {}: {}", r.code, r.stderr))?;
    ensure(run(&["s3", "rb", "--force", &format!("s3://{b}")], &env).code == 0, "rb")
}

/// Ctrl-C while standard input streams into a multipart upload: exit 130 after the abort.
/// The test feeds 6 MiB (past the 5 MiB threshold, so the upload is created) and holds the
/// pipe open.
fn interrupt_stdin_upload() -> Result<(), Failed> {
    use std::io::Write;
    let dir = scratch("stdin");
    let config = config_file(&dir, &[("multipart_chunksize", "5MB"), ("multipart_threshold", "5MB")])?;
    let env = moto_env(&config)?;
    let b = format!("cli-stdin-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let mut child = spawn(&["s3", "cp", "-", &format!("s3://{b}/from-stdin")], &env)?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    stdin.write_all(&vec![7u8; 6 << 20]).map_err(|e| e.to_string())?;
    wait_until("the multipart upload to start", || uploads_in_progress(&env, &b).unwrap_or(0) > 0)?;
    sigint(&child)?;
    let r = finish(child)?;
    drop(stdin);
    ensure(r.code == 130, format!("exit {}: {}", r.code, r.stderr))?;
    ensure(uploads_in_progress(&env, &b)? == 0, "the multipart upload was left behind")?;
    let r = run(&["s3", "ls", "--recursive", &format!("s3://{b}")], &env);
    ensure(r.out().is_empty(), format!("an object appeared: {}", r.out()))?;
    ensure(run(&["s3", "rb", "--force", &format!("s3://{b}")], &env).code == 0, "rb")
}

/// A file the user cannot read is reported and skipped; the others go up; exit 1. As root,
/// which reads everything, cirrus runs as `nobody` (setpriv) so the permission holds.
fn unreadable_file_is_skipped() -> Result<(), Failed> {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("unreadable");
    let tree = dir.join("tree");
    std::fs::create_dir_all(&tree).map_err(|e| e.to_string())?;
    for d in [&*dir, &*tree] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
    }
    for name in ["a.txt", "b.txt", "secret.txt"] {
        std::fs::write(tree.join(name), name).map_err(|e| e.to_string())?;
        std::fs::set_permissions(tree.join(name), std::fs::Permissions::from_mode(0o644)).map_err(|e| e.to_string())?;
    }
    std::fs::set_permissions(tree.join("secret.txt"), std::fs::Permissions::from_mode(0o000))
        .map_err(|e| e.to_string())?;
    let config = config_file(&dir, &[])?;
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).map_err(|e| e.to_string())?;
    let env = s3s_env(None, &config)?;
    let b = format!("cli-unreadable-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let root = std::process::Command::new("id").arg("-u").output().map_err(|e| e.to_string())?.stdout == b"0\n";
    let wrapper: &[&str] =
        if root { &["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] } else { &[] };
    let envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let child =
        command_via(wrapper, &["s3", "cp", "--recursive", &tree.to_string_lossy(), &format!("s3://{b}/u/")], &envs)
            .spawn()
            .map_err(|e| e.to_string())?;
    let r = finish(child)?;
    ensure(r.code == 1, format!("exit {}: {}", r.code, r.stderr))?;
    ensure(r.out().matches("upload: ").count() == 2, r.out())?;
    ensure(
        r.stderr.contains("warning: skipping")
            && r.stderr.contains("secret.txt")
            && r.stderr.contains("ermission denied"),
        r.stderr.clone(),
    )?;
    ensure(r.stderr.contains("2 done, 0 failed, 1 skipped"), r.stderr.clone())?;
    ensure(run(&["s3", "rb", "--force", &format!("s3://{b}")], &env).code == 0, "rb")
}

/// A key holding ESC, BEL and CR (a file may be named so) reaches the terminal written out, in
/// the transfer lines and in `ls`, never as raw control characters.
fn control_characters_are_escaped() -> Result<(), Failed> {
    let dir = scratch("escape");
    let tree = dir.join("tree");
    std::fs::create_dir_all(&tree).map_err(|e| e.to_string())?;
    std::fs::write(tree.join("evil\x1b]0;pwned\x07\rname.txt"), b"x").map_err(|e| e.to_string())?;
    // A right-to-left override shows `invoice[U+202E]txt.exe` as `invoiceexe.txt`.
    std::fs::write(tree.join("invoice\u{202e}txt.exe"), b"x").map_err(|e| e.to_string())?;
    let config = config_file(&dir, &[])?;
    let env = s3s_env(None, &config)?;
    let b = format!("cli-escape-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let raw = |r: &Run| r.stdout.iter().any(|c| matches!(c, 0x1b | 0x07 | b'\r')) || r.out().contains('\u{202e}');
    let r = run(&["s3", "cp", "--recursive", &tree.to_string_lossy(), &format!("s3://{b}/")], &env);
    ensure(r.code == 0 && !raw(&r) && r.out().contains("evil\\x1b]0;pwned\\x07\\rname.txt"), r.out())?;
    let r = run(&["s3", "ls", "--recursive", &format!("s3://{b}")], &env);
    ensure(r.code == 0 && !raw(&r) && r.out().contains("evil\\x1b]0;pwned\\x07\\rname.txt"), r.out())?;
    ensure(r.out().contains("invoice\\u{202e}txt.exe") && !r.out().contains('\u{202e}'), r.out())?;
    // The line of an upload from standard input names the key too.
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = crate::cirrus(&["s3", "cp", "-", &format!("s3://{b}/in\x1b[2Jput.txt")], &env_refs, b"x");
    ensure(r.code == 0 && !raw(&r) && r.out().contains("in\\x1b[2Jput.txt"), r.out())?;
    ensure(run(&["s3", "rb", "--force", &format!("s3://{b}")], &env).code == 0, "rb")
}

/// A loopback S3 that answers every ListObjectsV2 with `listing` and every other request with
/// `answer` (status line onwards, without Content-Length, then a blank line and the body).
fn fake_s3(listing: String, answer: (&'static str, &'static str, &'static str)) -> Result<String, Failed> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let listing = Arc::new(listing);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let listing = listing.clone();
            std::thread::spawn(move || serve_fake(stream, &listing, answer));
        }
    });
    Ok(format!("http://{addr}"))
}

fn serve_fake(stream: TcpStream, listing: &str, (status, headers, body): (&str, &str, &str)) {
    use std::io::{BufRead, BufReader, Write};
    let Ok(mut out) = stream.try_clone() else { return };
    let mut lines = BufReader::new(stream);
    loop {
        let mut request = String::new();
        if lines.read_line(&mut request).unwrap_or(0) == 0 {
            return;
        }
        let mut line = String::new();
        while lines.read_line(&mut line).is_ok_and(|n| n > 2) {
            line.clear();
        }
        let (status, headers, body) =
            if request.contains("list-type=2") { ("200 OK", "", listing) } else { (status, headers, body) };
        let answer = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n{headers}\r\n{}",
            body.len(),
            if request.starts_with("HEAD ") { "" } else { body }
        );
        if out.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// A ListObjectsV2 page of `(key, size)`, in the order given.
fn listing(objects: &[(&str, &str)]) -> String {
    let contents: String = objects
        .iter()
        .map(|(key, size)| {
            format!(
                "<Contents><Key>{key}</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>\
                 <ETag>&quot;e&quot;</ETag><Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>b</Name><Prefix></Prefix>\
         <KeyCount>{}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{contents}</ListBucketResult>",
        objects.len()
    )
}

fn fake_env(endpoint: String, dir: &Path) -> Result<Vec<(&'static str, String)>, Failed> {
    let config = config_file(dir, &[("addressing_style", "path")])?;
    Ok(vec![
        ("AWS_ACCESS_KEY_ID", "AKIDFAKE".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "fake-secret".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_CONFIG_FILE", config.to_string_lossy().into_owned()),
    ])
}

/// Sizes from a hostile listing cannot overflow a total: `ls --summarize` and a recursive
/// download of two objects that claim u64::MAX bytes each end with an answer, not a panic.
fn lying_sizes_do_not_overflow() -> Result<(), Failed> {
    const HUGE: &str = "18446744073709551615";
    let dir = scratch("lying");
    // Every GET answers 8 bytes of a range that says the object is u64::MAX bytes long.
    let get = ("206 Partial Content", "Content-Range: bytes 0-7/18446744073709551615\r\nETag: \"e\"\r\n", "12345678");
    let env = fake_env(fake_s3(listing(&[("big1", HUGE), ("big2", HUGE)]), get)?, &dir)?;
    let r = run(&["s3", "ls", "--summarize", "s3://b/"], &env);
    ensure(r.code == 0 && !r.stderr.contains("panicked"), format!("exit {}: {}", r.code, r.stderr))?;
    ensure(r.out().contains("Total Objects: 2") && r.out().contains("Total Size: 18446744073709551615"), r.out())?;
    let r = run(&["s3", "cp", "--recursive", "s3://b/", &dir.join("down").to_string_lossy()], &env);
    ensure(r.code == 1 && !r.stderr.contains("panicked"), format!("exit {}: {}", r.code, r.stderr))?;
    ensure(r.stderr.contains("download failed: s3://b/big1"), r.stderr)
}

/// A listing out of key order ends a sync with an error before anything is deleted: read side
/// by side, `c` then `a` would make the local `a` look like a file S3 does not have.
fn sync_refuses_a_listing_out_of_order() -> Result<(), Failed> {
    let dir = scratch("disorder");
    let local = dir.join("local");
    std::fs::create_dir_all(&local).map_err(|e| e.to_string())?;
    for name in ["a", "c"] {
        std::fs::write(local.join(name), "x").map_err(|e| e.to_string())?;
    }
    let env = fake_env(fake_s3(listing(&[("c", "1"), ("a", "1")]), ("200 OK", "ETag: \"e\"\r\n", "x"))?, &dir)?;
    let r = run(&["s3", "sync", "--delete", "s3://b/", &local.to_string_lossy()], &env);
    ensure(r.code == 1 && r.stderr.contains("out of key order"), format!("exit {}: {} {}", r.code, r.out(), r.stderr))?;
    ensure(!r.out().contains("delete:") && local.join("a").exists(), r.out())
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("transfer::cli::sync_refuses_a_listing_out_of_key_order", sync_refuses_a_listing_out_of_order),
        Trial::test("transfer::cli::lying_sizes_do_not_overflow_a_total", lying_sizes_do_not_overflow),
        Trial::test("transfer::cli::control_characters_in_keys_are_escaped", control_characters_are_escaped),
        Trial::test("transfer::cli::an_unreadable_file_is_reported_and_skipped", unreadable_file_is_skipped),
        Trial::test("transfer::cli::sigint_aborts_a_stdin_upload", interrupt_stdin_upload),
        Trial::test("transfer::cli::a_closed_pipe_ends_cp_to_stdout_with_141", closed_pipe_on_download_to_stdout),
        Trial::test(
            "transfer::cli::a_closed_pipe_stops_a_transfer_and_cleans_up",
            closed_pipe_during_a_transfer_cleans_up,
        ),
        Trial::test("transfer::cli::one_connection_pool_for_200_files", one_pool_for_a_tree),
        Trial::test("transfer::cli::filters_agree_with_the_aws_cli", filters_agree_with_the_aws_cli),
        Trial::test("transfer::cli::mv_moves", mv_moves),
        Trial::test("transfer::cli::rm_recursive_deletes_exactly_the_tree", rm_recursive_deletes_exactly_the_tree),
        Trial::test("transfer::cli::sync_plans_agree_with_the_aws_cli", sync_plans_agree_with_the_aws_cli),
        Trial::test(
            "transfer::cli::object_flags_and_ls_agree_with_the_aws_cli",
            object_flags_and_ls_agree_with_the_aws_cli,
        ),
        Trial::test("transfer::cli::lines_summary_and_exit_codes", lines_summary_and_exit_codes),
        Trial::test("transfer::cli::sigint_aborts_uploads_and_removes_temporary_files", interrupt_cleans_up),
        Trial::test("transfer::cli::resume_takes_up_an_upload_after_ctrl_c", resume_after_ctrl_c),
        Trial::test("transfer::cli::sigint_summary_counts_what_was_done", interrupt_summary_counts_what_was_done),
    ]
}
