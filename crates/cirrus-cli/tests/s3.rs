//! `cirrus s3` against s3s-fs, the server that checks every signature, presigned URL and POST
//! policy (started by scripts/test; missing is a failure).

use crate::{cirrus, ensure, Run};
use libtest_mimic::{Failed, Trial};
use std::process::Command;

fn s3s_env() -> Result<Vec<(&'static str, String)>, Failed> {
    let get = |k: &str| {
        std::env::var(k)
            .map_err(|_| Failed::from(format!("{k} is not set: s3s-fs is not running (scripts/test starts it)")))
    };
    Ok(vec![
        ("AWS_ACCESS_KEY_ID", get("CIRRUS_S3S_ACCESS_KEY")?),
        ("AWS_SECRET_ACCESS_KEY", get("CIRRUS_S3S_SECRET_KEY")?),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL", get("CIRRUS_S3S_URL")?),
    ])
}

fn run(args: &[&str], env: &[(&'static str, String)], stdin: &[u8]) -> Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    cirrus(args, &env, stdin)
}

fn ok(r: &Run, what: &str) -> Result<(), Failed> {
    ensure(r.code == 0, format!("{what}: exit {} {}", r.code, r.stderr))
}

fn bucket(tag: &str) -> String {
    format!("cli-{tag}-{}", std::process::id())
}

fn round_trip() -> Result<(), Failed> {
    let env = s3s_env()?;
    let b = bucket("trip");
    let dir = std::env::temp_dir().join(format!("cirrus-cli-s3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("tree/sub")).map_err(|e| e.to_string())?;
    let file = dir.join("my file+1.txt");
    std::fs::write(&file, b"first file").map_err(|e| e.to_string())?;
    std::fs::write(dir.join("tree/a.json"), b"{}").map_err(|e| e.to_string())?;
    std::fs::write(dir.join("tree/sub/b.txt"), b"bee").map_err(|e| e.to_string())?;
    let path = |p: &std::path::Path| p.to_string_lossy().into_owned();

    ok(&run(&["s3", "mb", &format!("s3://{b}")], &env, b""), "mb")?;
    let r = run(&["s3", "cp", &path(&file), &format!("s3://{b}/docs/")], &env, b"");
    ok(&r, "cp up")?;
    ensure(r.out().contains(&format!("s3://{b}/docs/my file+1.txt")), r.out())?;
    ok(&run(&["s3", "cp", "-", &format!("s3://{b}/docs/stdin.txt")], &env, b"from stdin"), "cp stdin")?;
    ok(&run(&["s3", "cp", "--recursive", &path(&dir.join("tree")), &format!("s3://{b}/tree")], &env, b""), "cp -r up")?;

    let r = run(&["s3", "ls", &format!("s3://{b}/docs/")], &env, b"");
    ok(&r, "ls")?;
    ensure(r.out().contains(" 10 my file+1.txt\n") && r.out().contains(" 10 stdin.txt\n"), r.out())?;
    let r = run(&["s3", "ls", &format!("s3://{b}/")], &env, b"");
    ensure(r.out().contains("PRE docs/") && r.out().contains("PRE tree/"), r.out())?;
    let r = run(&["s3", "ls", "--recursive", &format!("s3://{b}")], &env, b"");
    let keys: Vec<&str> = r
        .stdout
        .split(|c| *c == b'\n')
        .filter_map(|l| std::str::from_utf8(l).ok())
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    ensure(keys.len() == 4 && r.out().contains("tree/sub/b.txt"), r.out())?;

    let r = run(&["s3", "cp", &format!("s3://{b}/docs/stdin.txt"), "-"], &env, b"");
    ensure(r.code == 0 && r.stdout == b"from stdin", r.out())?;
    let down = dir.join("down/");
    ok(&run(&["s3", "cp", "--recursive", &format!("s3://{b}/tree/"), &path(&down)], &env, b""), "cp -r down")?;
    ensure(std::fs::read(down.join("sub/b.txt")).ok().as_deref() == Some(&b"bee"[..]), "b.txt not downloaded")?;
    let one = dir.join("one.txt");
    ok(&run(&["s3", "cp", &format!("s3://{b}/docs/my file+1.txt"), &path(&one)], &env, b""), "cp down")?;
    ensure(std::fs::read(&one).ok().as_deref() == Some(&b"first file"[..]), "download differs")?;
    // The checksum goes out (the debug log names the header) and the server, which checks it,
    // accepts it.
    let to = format!("s3://{b}/summed/");
    let r = run(&["--debug", "s3", "cp", "--checksum-algorithm", "sha256", &path(&file), &to], &env, b"");
    ok(&r, "cp --checksum-algorithm")?;
    ensure(r.stderr.contains("x-amz-checksum-sha256"), r.stderr.clone())?;
    ok(&run(&["s3", "cp", &format!("s3://{b}/docs/stdin.txt"), &format!("s3://{b}/copied/")], &env, b""), "cp s3 s3")?;

    let r = run(&["s3", "presign", &format!("s3://{b}/docs/my file+1.txt"), "--expires-in", "120"], &env, b"");
    ok(&r, "presign")?;
    let url = r.out().trim().to_owned();
    let got = Command::new("curl").args(["-sS", "-f", &url]).output().map_err(|e| e.to_string())?;
    ensure(got.stdout == b"first file", format!("curl {url}: {}", String::from_utf8_lossy(&got.stderr)))?;

    let r = run(
        &[
            "s3",
            "presign-post",
            &format!("s3://{b}/forms/"),
            "--filename",
            "f.txt",
            "--content-type",
            "text/plain",
            "--max-size",
            "100",
        ],
        &env,
        b"",
    );
    ok(&r, "presign-post")?;
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).map_err(|e| format!("{e}: {}", r.out()))?;
    let mut args: Vec<String> = vec!["-sS".into(), "-o".into(), "/dev/null".into(), "-w".into(), "%{http_code}".into()];
    for (k, val) in v["fields"].as_object().ok_or("no fields")? {
        args.push("-F".into());
        args.push(format!("{k}={}", val.as_str().unwrap_or_default()));
    }
    args.push("-F".into());
    args.push(format!("file=@{}", path(&one)));
    args.push(v["url"].as_str().unwrap_or_default().to_owned());
    let got = Command::new("curl").args(&args).output().map_err(|e| e.to_string())?;
    let status = String::from_utf8_lossy(&got.stdout).trim().to_owned();
    ensure(status.starts_with('2'), format!("form upload got {status}"))?;
    let r = run(&["s3", "cp", &format!("s3://{b}/forms/f.txt"), "-"], &env, b"");
    ensure(r.stdout == b"first file", r.out())?;

    let r = run(&["s3", "rm", "--recursive", &format!("s3://{b}/tree/")], &env, b"");
    ensure(r.code == 0 && r.out().matches(&format!("delete: s3://{b}/tree/")).count() == 2, r.out())?;
    ok(&run(&["s3", "rm", &format!("s3://{b}/copied/stdin.txt")], &env, b""), "rm")?;
    ok(&run(&["s3", "rb", "--force", &format!("s3://{b}")], &env, b""), "rb --force")?;
    let r = run(&["s3", "ls"], &env, b"");
    ensure(r.code == 0 && !r.out().contains(&b), r.out())?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn bad_input() -> Result<(), Failed> {
    let env = s3s_env()?;
    let r = run(&["s3", "ls", "bucket/key"], &env, b"");
    ensure(r.code == 2 && r.stderr.contains("not an s3:// URL"), r.stderr)?;
    let r = run(&["s3", "presign", "s3://b/k", "--expires-in", "700000"], &env, b"");
    ensure(r.code == 2 && r.stderr.contains("7 days"), r.stderr)?;
    // The largest number a flag takes is refused with the range, never a panic.
    for big in ["18446744073709551615", "315360000000"] {
        let r = run(&["s3", "presign-post", "s3://b/p/", "--filename", "f", "--expires-in", big], &env, b"");
        ensure(r.code == 2 && r.stderr.contains("7 days") && !r.stderr.contains("panicked"), r.stderr)?;
    }
    // S3 takes POST uploads of at most 5 GiB: a larger limit would make a form S3 refuses.
    for big in ["5368709121", "18446744073709551615"] {
        let r = run(&["s3", "presign-post", "s3://b/p/", "--filename", "f", "--max-size", big], &env, b"");
        ensure(r.code == 2 && r.stderr.contains("5368709120") && !r.stderr.contains("panicked"), r.stderr)?;
    }
    // A value no header can hold is refused once, before anything is sent (exit 2).
    for (flag, value, words) in [
        ("--content-type", "text/plain\r\nX-Evil: 1", "content-type"),
        ("--metadata", "a=b\nc", "x-amz-meta-a"),
        ("--metadata", "a b=c", "\"a b\" is not a valid metadata name"),
        ("--sse-kms-key-id", "k\r\nX: y", "kms-key-id"),
        ("--cache-control", "\u{7f}", "cache-control"),
    ] {
        let r = run(&["s3", "cp", flag, value, "Cargo.toml", "s3://b/k"], &env, b"");
        ensure(r.code == 2 && r.stderr.contains(words) && !r.stderr.contains("upload failed"), r.stderr)?;
    }
    let r = run(&["s3", "cp", "/no/such/file", "s3://b/k"], &env, b"");
    ensure(r.code == 2 && r.stderr.contains("/no/such/file"), r.stderr)?;
    let r = run(&["s3", "cp", "--checksum-algorithm", "md5", "a", "s3://b/k"], &env, b"");
    ensure(r.code == 2 && r.stderr.contains("CRC32, CRC32C, SHA256 or CRC64NVME"), r.stderr)?;
    let r = run(&["s3", "cp", "a", "b"], &env, b"");
    ensure(r.code == 2 && r.stderr.contains("s3://"), r.stderr)?;
    let r = run(&["s3", "ls", "s3://no-such-bucket-cirrus/"], &env, b"");
    ensure(r.code == 1 && r.stderr.contains("NoSuchBucket"), r.stderr)
}

/// With no credentials anywhere: one short line of what is missing, one of what to do; the
/// detail of each source is left to `credentials --explain`. A profile named by AWS_PROFILE
/// that no file has is its own error, exit 2.
fn no_credentials_said_once() -> Result<(), Failed> {
    let env = [("AWS_REGION", "eu-west-1"), ("AWS_ENDPOINT_URL", "http://127.0.0.1:9")];
    let r = cirrus(&["s3", "ls", "s3://some-bucket/"], &env, b"");
    let lines: Vec<&str> = r.stderr.lines().collect();
    ensure(r.code == 1 && lines.len() == 2, r.stderr.clone())?;
    ensure(lines[0].starts_with("cirrus: S3 ListObjectsV2: no credentials: no source has any ("), r.stderr.clone())?;
    ensure(lines[0].len() < 140 && !r.stderr.contains("AWS_ACCESS_KEY_ID not set"), r.stderr.clone())?;
    ensure(lines[1].contains("AWS_ACCESS_KEY_ID") && lines[1].contains("--profile"), r.stderr.clone())?;
    ensure(lines[1].contains("sso login") && lines[1].contains("credentials --explain"), r.stderr.clone())?;
    ensure(lines[1].contains("`cirrus configure`") && lines[1].contains("`cirrus configure sso`"), r.stderr.clone())?;
    let env = [("AWS_REGION", "eu-west-1"), ("AWS_PROFILE", "nowhere")];
    let r = cirrus(&["s3", "ls"], &env, b"");
    ensure(r.code == 2 && r.stderr.contains("the profile `nowhere` is named by AWS_PROFILE, but neither "), r.stderr)
}

/// With keys and no region, S3 commands start from us-east-1, as the AWS CLI's do (a bucket
/// elsewhere is followed to its region); STS still asks for one. `ls s3://` lists buckets.
fn s3_needs_no_region() -> Result<(), Failed> {
    let mut env = s3s_env()?;
    env.retain(|(k, _)| *k != "AWS_REGION");
    let b = bucket("noregion");
    ok(&run(&["s3", "mb", &format!("s3://{b}")], &env, b""), "mb without a region")?;
    let listed = run(&["s3", "ls", &format!("s3://{b}/")], &env, b"");
    ok(&listed, "ls without a region")?;
    // `s3://` alone lists the buckets, as `s3 ls` does.
    let buckets = run(&["s3", "ls", "s3://"], &env, b"");
    ensure(buckets.code == 0 && buckets.out().lines().any(|l| l.ends_with(&format!(" {b}"))), buckets.out())?;
    ok(&run(&["s3", "rb", &format!("s3://{b}")], &env, b""), "rb without a region")?;
    let sts = run(&["sts", "whoami"], &env, b"");
    ensure(sts.code == 2 && sts.stderr.contains("no region"), sts.stderr)
}

/// `--dryrun` on cp, mv and rm says each step as `(dryrun) ...` and does none of it: no object
/// written or deleted, no file moved, no folder made.
fn dryrun_does_nothing() -> Result<(), Failed> {
    let env = s3s_env()?;
    let b = bucket("dryrun");
    let dir = std::env::temp_dir().join(format!("cirrus-cli-dryrun-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("tree")).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("tree/a.txt"), b"a").map_err(|e| e.to_string())?;
    let tree = dir.join("tree").to_string_lossy().into_owned();
    let file = dir.join("tree/a.txt").to_string_lossy().into_owned();
    ok(&run(&["s3", "mb", &format!("s3://{b}")], &env, b""), "mb")?;
    ok(&run(&["s3", "cp", &file, &format!("s3://{b}/kept.txt")], &env, b""), "cp")?;
    let listing =
        |env: &[(&'static str, String)]| run(&["s3", "ls", "--recursive", &format!("s3://{b}/")], env, b"").out();
    let before = listing(&env);

    let r = run(&["s3", "cp", "--dryrun", "--recursive", &tree, &format!("s3://{b}/dry/")], &env, b"");
    ensure(r.code == 0 && r.out().contains(&format!("(dryrun) upload: {file} to s3://{b}/dry/a.txt")), r.out())?;
    let r = run(&["s3", "mv", "--dryrun", &file, &format!("s3://{b}/moved.txt")], &env, b"");
    ensure(r.code == 0 && r.out().contains(&format!("(dryrun) move: {file} to s3://{b}/moved.txt")), r.out())?;
    ensure(std::path::Path::new(&file).exists(), "mv --dryrun moved the file".to_owned())?;
    let r = run(&["s3", "rm", "--dryrun", "--recursive", &format!("s3://{b}/")], &env, b"");
    ensure(r.code == 0 && r.out().contains(&format!("(dryrun) delete: s3://{b}/kept.txt")), r.out())?;
    let r = run(&["s3", "rm", "--dryrun", &format!("s3://{b}/kept.txt")], &env, b"");
    ensure(r.code == 0 && r.out().contains(&format!("(dryrun) delete: s3://{b}/kept.txt")), r.out())?;
    let target = dir.join("new/sub/x.txt").to_string_lossy().into_owned();
    let r = run(&["s3", "cp", "--dryrun", &format!("s3://{b}/kept.txt"), &target], &env, b"");
    ensure(r.code == 0 && r.out().contains("(dryrun) download: "), r.out())?;
    ensure(!dir.join("new").exists(), "cp --dryrun made the local folders".to_owned())?;
    let r = run(&["s3", "cp", "--dryrun", "-", &format!("s3://{b}/stdin.txt")], &env, b"never read");
    ensure(r.code == 0 && r.out().contains("(dryrun) upload: - to "), r.out())?;
    ensure(listing(&env) == before, format!("a dry run changed the bucket: {} -> {}", before, listing(&env)))?;
    ok(&run(&["s3", "rb", "--force", &format!("s3://{b}")], &env, b""), "rb --force")?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A download from a bucket that does not exist fails before anything local is made: no empty
/// folder is left behind by `sync` or `cp --recursive`.
fn missing_bucket_makes_no_folder() -> Result<(), Failed> {
    let env = s3s_env()?;
    let dir = std::env::temp_dir().join(format!("cirrus-cli-nobucket-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for cmd in [&["s3", "sync"][..], &["s3", "cp", "--recursive"][..]] {
        let target = dir.join("new").to_string_lossy().into_owned();
        let mut args = cmd.to_vec();
        args.extend(["s3://no-such-bucket-cirrus/data/", target.as_str()]);
        let r = run(&args, &env, b"");
        ensure(r.code == 1 && r.stderr.contains("NoSuchBucket"), format!("{cmd:?}: exit {} {}", r.code, r.stderr))?;
        ensure(!dir.join("new").exists(), format!("{cmd:?} made the local folder"))?;
    }
    Ok(())
}

/// `--page-size N`, as the AWS CLI's s3 commands take it: every listing request of ls, sync and
/// rm asks for N keys, and the whole tree still comes (a sync into a new folder sends no
/// request of its own to see that the source can be read); 0 is bad input.
fn page_size_pages_every_listing() -> Result<(), Failed> {
    let env = s3s_env()?;
    let b = bucket("pagesize");
    let dir = std::env::temp_dir().join(format!("cirrus-cli-pagesize-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(|e| e.to_string())?;
    for i in 0..5 {
        std::fs::write(src.join(format!("f{i}.txt")), format!("file {i}")).map_err(|e| e.to_string())?;
    }
    let (src, down) = (src.to_string_lossy().into_owned(), dir.join("down").to_string_lossy().into_owned());
    let prefix = format!("s3://{b}/p/");
    ok(&run(&["s3", "mb", &format!("s3://{b}")], &env, b""), "mb")?;
    ok(&run(&["s3", "cp", "--recursive", &src, &prefix], &env, b""), "cp up")?;
    // Five keys in pages of two: at least three requests, each asking for two.
    let paged = |r: &Run, what: &str| -> Result<(), Failed> {
        ok(r, what)?;
        let asked = r.stderr.matches("max-keys=2&").count();
        let other = r.stderr.matches("max-keys=").count() - asked;
        ensure(asked >= 3 && other == 0, format!("{what}: {asked} requests for 2 keys, {other} for others"))
    };
    let ls = run(&["--debug", "s3", "ls", "--recursive", "--page-size", "2", &prefix], &env, b"");
    paged(&ls, "ls")?;
    let listed = String::from_utf8_lossy(&ls.stdout);
    ensure(listed.lines().count() == 5, format!("ls listed:\n{listed}"))?;
    paged(&run(&["--debug", "s3", "sync", "--page-size", "2", &prefix, &down], &env, b""), "sync down")?;
    let got = std::fs::read_dir(&down).map_err(|e| e.to_string())?.count();
    ensure(got == 5, format!("sync brought {got} files"))?;
    let rm = run(&["--debug", "s3", "rm", "--recursive", "--page-size", "2", &prefix], &env, b"");
    paged(&rm, "rm")?;
    let said = String::from_utf8_lossy(&rm.stdout);
    ensure(said.matches("delete: ").count() == 5, format!("rm said:\n{said}"))?;
    let bad = run(&["s3", "ls", "--page-size", "0", &prefix], &env, b"");
    ensure(bad.code == 2 && bad.stderr.contains("--page-size"), format!("exit {}: {}", bad.code, bad.stderr))?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `s3 ls --output json`: one JSON object a line with ListObjectsV2's names (machine-readable
/// ls, aws-cli #371); without --output, the AWS CLI's text as before.
fn ls_as_json_lines() -> Result<(), Failed> {
    let env = s3s_env()?;
    let b = bucket("lsjson");
    let dir = std::env::temp_dir().join(format!("cirrus-cli-lsjson-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join("f.txt");
    std::fs::write(&file, b"twelve bytes").map_err(|e| e.to_string())?;
    let file = file.to_string_lossy().into_owned();
    ok(&run(&["s3", "mb", &format!("s3://{b}")], &env, b""), "mb")?;
    for key in ["top.txt", "a/one.txt", "a/two.txt"] {
        ok(&run(&["s3", "cp", &file, &format!("s3://{b}/{key}")], &env, b""), "cp")?;
    }
    let lines = |args: &[&str]| -> Result<Vec<serde_json::Value>, Failed> {
        let r = run(args, &env, b"");
        ensure(r.code == 0, r.stderr.clone())?;
        r.out().lines().map(|l| serde_json::from_str(l).map_err(|e| Failed::from(format!("{e}: {l}")))).collect()
    };
    let all = lines(&["--output", "json", "s3", "ls", "--recursive", "--summarize", &format!("s3://{b}/")])?;
    ensure(all.len() == 4, format!("{all:?}"))?;
    ensure(all[0]["Key"] == "a/one.txt" && all[0]["Size"] == 12 && all[0].get("ETag").is_some(), format!("{all:?}"))?;
    ensure(all[0]["LastModified"].as_str().is_some_and(|t| t.ends_with('Z')), format!("{all:?}"))?;
    ensure(all[3] == serde_json::json!({"TotalObjects": 3, "TotalSize": 36}), format!("{all:?}"))?;
    let top = lines(&["--output", "json", "s3", "ls", &format!("s3://{b}/")])?;
    ensure(
        top.len() == 2 && top[0] == serde_json::json!({"Prefix": "a/"}) && top[1]["Key"] == "top.txt",
        format!("{top:?}"),
    )?;
    let buckets = lines(&["--output", "json", "s3", "ls"])?;
    ensure(buckets.iter().any(|v| v["Name"] == b.as_str()), format!("{buckets:?}"))?;
    let text = run(&["s3", "ls", &format!("s3://{b}/")], &env, b"");
    ensure(text.code == 0 && text.out().contains("PRE a/"), text.out())?;
    ok(&run(&["s3", "rb", "--force", &format!("s3://{b}")], &env, b""), "rb --force")?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Configuration errors exit 2 by their kind, their cause said once: a broken shared config
/// file names its file and line; no region says how to set one.
fn config_errors_exit_2() -> Result<(), Failed> {
    let dir = std::env::temp_dir().join(format!("cirrus-cli-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let config = dir.join("config");
    std::fs::write(&config, "[default]\nthis line is not ini\n").map_err(|e| e.to_string())?;
    let path = config.to_string_lossy().into_owned();
    let env = [("AWS_CONFIG_FILE", path.as_str()), ("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "S")];
    let r = cirrus(&["s3", "ls"], &env, b"");
    let want = format!("cirrus: cannot read the shared config files: {path}:2: ");
    ensure(r.code == 2 && r.stderr.starts_with(&want), format!("exit {}: {}", r.code, r.stderr))?;
    ensure(r.stderr.matches(&path).count() == 1, r.stderr.clone())?;
    let r = cirrus(&["sts", "whoami"], &[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "S")], b"");
    ensure(
        r.code == 2 && r.stderr == "cirrus: no region: pass --region, set AWS_REGION, or set region in the profile\n",
        format!("exit {}: {}", r.code, r.stderr),
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Signatures, tokens and passwords in URLs never reach stderr; a URL with user info is
/// refused before anything is sent.
fn secrets_in_urls_are_not_printed() -> Result<(), Failed> {
    let creds = [("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "S"), ("AWS_REGION", "us-east-1")];
    let presigned =
        "http://127.0.0.1:9/b/k?X-Amz-Credential=AKID%2Fx&X-Amz-Security-Token=TOKENVALUE&X-Amz-Signature=SIGVALUE";
    let r = cirrus(&["curl", "--service", "s3", presigned], &creds, b"");
    ensure(r.code == 1 && r.stderr.contains("X-Amz-Signature=REDACTED"), r.stderr.clone())?;
    ensure(!r.stderr.contains("SIGVALUE") && !r.stderr.contains("TOKENVALUE"), r.stderr.clone())?;
    let r = cirrus(&["curl", "--service", "s3", "http://user:PASSWORDVALUE@127.0.0.1:9/"], &creds, b"");
    ensure(r.code == 2 && r.stderr.contains("user info") && !r.stderr.contains("PASSWORDVALUE"), r.stderr.clone())?;
    let r = cirrus(&["--endpoint-url", "http://user:PASSWORDVALUE@127.0.0.1:9", "s3", "ls"], &creds, b"");
    ensure(r.code == 2 && r.stderr.contains("user info") && !r.stderr.contains("PASSWORDVALUE"), r.stderr.clone())?;
    // From a service's own variable too: refused at the request, as bad input.
    let mut env = creds.to_vec();
    env.push(("AWS_ENDPOINT_URL_STS", "http://user:PASSWORDVALUE@127.0.0.1:9"));
    let r = cirrus(&["sts", "whoami"], &env, b"");
    ensure(r.code == 2 && r.stderr.contains("user info") && !r.stderr.contains("PASSWORDVALUE"), r.stderr)
}

/// An unsigned curl needs no service or region; an empty --service or --region is refused.
fn curl_unsigned_and_empty_names() -> Result<(), Failed> {
    let env = s3s_env()?;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let url = format!("{}/", env.iter().find(|(k, _)| *k == "AWS_ENDPOINT_URL").map(|(_, v)| *v).unwrap_or(""));
    // s3s-fs refuses unsigned requests (403): the answer shows the request went out, where
    // before it stopped at "pass --service".
    let r = cirrus(&["--no-sign-request", "curl", &url], &[], b"");
    ensure(r.code == 1 && r.stderr.contains("HTTP 403"), format!("exit {}: {}", r.code, r.stderr))?;
    let r = cirrus(&["curl", "--service", "", &url], &env, b"");
    ensure(r.code == 2 && r.stderr.contains("--service is empty"), r.stderr.clone())?;
    let r = cirrus(&["--region", "", "curl", "--service", "s3", &url], &env, b"");
    ensure(r.code == 2 && r.stderr.contains("is not a region name"), r.stderr.clone())?;
    let r = cirrus(&["--region", "x@127.0.0.1:9/", "s3", "ls"], &env, b"");
    ensure(r.code == 2 && r.stderr.contains("is not a region name"), r.stderr.clone())?;
    // The source named as the user wrote it.
    let r = cirrus(&["--region", "us east 1", "s3", "ls"], &env, b"");
    ensure(r.code == 2 && r.stderr.contains("\"us east 1\" (from --region) is not a region name"), r.stderr.clone())?;
    let home = std::env::temp_dir().join(format!("cirrus-cli-region-from-{}", std::process::id()));
    std::fs::create_dir_all(home.join(".aws")).map_err(|e| e.to_string())?;
    std::fs::write(home.join(".aws/config"), "[profile dev]\nregion = us east 1\n").map_err(|e| e.to_string())?;
    let h = home.to_string_lossy().into_owned();
    let mut env: Vec<(&str, &str)> = env.iter().filter(|(k, _)| *k != "AWS_REGION").copied().collect();
    env.push(("HOME", &h));
    let r = cirrus(&["--profile", "dev", "s3", "ls"], &env, b"");
    let _ = std::fs::remove_dir_all(&home);
    ensure(r.code == 2 && r.stderr.contains("\"us east 1\" (from profile dev, "), r.stderr)
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("s3::curl_unsigned_and_empty_names", curl_unsigned_and_empty_names),
        Trial::test("s3::secrets_in_urls_are_not_printed", secrets_in_urls_are_not_printed),
        Trial::test("s3::config_errors_exit_2_with_their_cause_once", config_errors_exit_2),
        Trial::test("s3::s3_commands_need_no_region", s3_needs_no_region),
        Trial::test("s3::dryrun_on_cp_mv_rm_does_nothing", dryrun_does_nothing),
        Trial::test("s3::a_missing_bucket_makes_no_local_folder", missing_bucket_makes_no_folder),
        Trial::test("s3::ls_as_json_lines", ls_as_json_lines),
        Trial::test("s3::page_size_pages_every_listing", page_size_pages_every_listing),
        Trial::test("s3::cli_round_trip_against_a_signature_checking_server", round_trip),
        Trial::test("s3::bad_input_exits_2_with_a_reason", bad_input),
        Trial::test("s3::no_credentials_is_said_once", no_credentials_said_once),
    ]
}
