//! What scripts drive: `--output json` lines from cp, mv, rm and sync (field names a contract),
//! `--concurrency` and `--part-size` over the profile's keys, and `cirrus s3 run FILE`, against
//! s3s-fs.

use crate::transfer::{
    config_file, counting_proxy, finish, moto_env, run, s3s_env, scratch, sigint, spawn, uploads_in_progress, var,
    wait_until,
};
use crate::{ensure, Run};
use libtest_mimic::{Failed, Trial};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::Ordering;

fn write(path: &Path, text: impl AsRef<[u8]>) -> Result<(), Failed> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::write(path, text).map_err(|e| e.to_string().into())
}

/// Every line of stdout as JSON (an error names a line that is not).
fn json_lines(r: &Run) -> Result<Vec<Value>, Failed> {
    r.out().lines().map(|l| serde_json::from_str::<Value>(l).map_err(|e| Failed::from(format!("{e}: {l:?}")))).collect()
}

/// The field names of `v`.
fn fields(v: &Value) -> BTreeSet<&str> {
    v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

const DONE: &[&str] = &["event", "action", "source", "destination", "bytes"];
const DRYRUN: &[&str] = &["event", "action", "source", "destination"];
const FAILED: &[&str] = &["event", "action", "source", "destination", "error", "error_kind"];
const SKIPPED: &[&str] = &["event", "source", "error", "error_kind"];
const SUMMARY: &[&str] = &[
    "event",
    "done",
    "failed",
    "skipped",
    "bytes",
    "elapsed_seconds",
    "verified",
    "unverified",
    "left_behind",
    "resumable",
    "not_overwritten",
    "interrupted",
];

/// The events of `lines` named `event`.
fn events<'a>(lines: &'a [Value], event: &str) -> Vec<&'a Value> {
    lines.iter().filter(|v| v["event"] == event).collect()
}

/// The last line is the summary, with its fields; its counts.
fn summary(lines: &[Value]) -> Result<(u64, u64, u64), Failed> {
    let last = lines.last().ok_or("no summary line")?;
    ensure(last["event"] == "summary" && fields(last) == set(SUMMARY), format!("summary: {last}"))?;
    let n = |k: &str| last[k].as_u64().unwrap_or(u64::MAX);
    Ok((n("done"), n("failed"), n("skipped")))
}

/// cp, mv, rm and sync with `--output json`: one object a line on stdout with the documented
/// field names, the summary last, keys from outside escaped (no raw control or bidi character),
/// failures and skips as events with the exit code still 1, `--quiet` without done lines.
fn json_lines_for_transfers() -> Result<(), Failed> {
    let dir = scratch("json");
    let tree = dir.join("tree");
    write(&tree.join("a.txt"), "a")?;
    write(&tree.join("with space.txt"), "bb")?;
    write(&tree.join("evil\x1b[2J\u{9b}\u{202e}txt.exe"), "ccc")?;
    let config = config_file(&dir, &[])?;
    let env = s3s_env(None, &config)?;
    let b = format!("cli-json-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let t = tree.to_string_lossy().into_owned();

    let r = run(&["--output", "json", "s3", "cp", "--recursive", &t, &format!("s3://{b}/up/")], &env);
    ensure(r.code == 0 && r.stderr.is_empty(), format!("exit {}: {}", r.code, r.stderr))?;
    let raw = |r: &Run| r.out().chars().any(|c| c.is_control() && c != '\n' || c == '\u{202e}');
    ensure(!raw(&r), format!("raw control characters: {:?}", r.out()))?;
    ensure(r.out().lines().all(|l| l.starts_with("{\"event\":")), format!("`event` first: {}", r.out()))?;
    let lines = json_lines(&r)?;
    let done = events(&lines, "done");
    ensure(done.len() == 3 && done.iter().all(|v| fields(v) == set(DONE)), r.out())?;
    let spaced = done.iter().find(|v| v["source"] == tree.join("with space.txt").to_string_lossy().as_ref());
    let spaced = spaced.ok_or_else(|| format!("no line for `with space.txt`: {}", r.out()))?;
    ensure(
        spaced["action"] == "upload"
            && spaced["destination"] == format!("s3://{b}/up/with space.txt")
            && spaced["bytes"] == 2,
        spaced.to_string(),
    )?;
    let evil = format!("s3://{b}/up/evil\x1b[2J\u{9b}\u{202e}txt.exe");
    ensure(done.iter().any(|v| v["destination"] == evil.as_str()), format!("the key, exact, in JSON: {}", r.out()))?;
    ensure(summary(&lines)? == (3, 0, 0), r.out())?;
    let r = run(&["--output", "json", "s3", "ls", "--recursive", &format!("s3://{b}/up/")], &env);
    ensure(r.code == 0 && !raw(&r), format!("ls: {:?}", r.out()))?;
    let listed = json_lines(&r)?;
    ensure(listed.iter().any(|v| v["Key"] == evil.trim_start_matches(&format!("s3://{b}/"))), r.out())?;
    let last = lines.last().cloned().unwrap_or_default();
    ensure(last["bytes"] == 6 && last["interrupted"] == false, last.to_string())?;

    // --quiet: no done lines; the summary stays, last.
    let r = run(&["--output", "json", "s3", "cp", "--quiet", "--recursive", &t, &format!("s3://{b}/q/")], &env);
    let lines = json_lines(&r)?;
    ensure(r.code == 0 && lines.len() == 1 && summary(&lines)? == (3, 0, 0), r.out())?;

    // A dry run: dryrun lines, nothing sent.
    let r = run(&["--output", "json", "s3", "sync", "--dryrun", &t, &format!("s3://{b}/dry/")], &env);
    let lines = json_lines(&r)?;
    let dry = events(&lines, "dryrun");
    ensure(r.code == 0 && dry.len() == 3 && dry.iter().all(|v| fields(v) == set(DRYRUN)), r.out())?;
    ensure(dry.iter().all(|v| v["action"] == "upload") && summary(&lines)?.0 == 0, r.out())?;

    // mv of one object, then rm of a folder: `move`, and `delete` with a null destination.
    let r = run(&["--output", "json", "s3", "mv", &format!("s3://{b}/up/a.txt"), &format!("s3://{b}/moved.txt")], &env);
    let lines = json_lines(&r)?;
    ensure(r.code == 0 && events(&lines, "done")[..] == [&lines[0]] && lines[0]["action"] == "move", r.out())?;
    let r = run(&["--output", "json", "s3", "rm", "--recursive", &format!("s3://{b}/q/")], &env);
    let lines = json_lines(&r)?;
    let deleted = events(&lines, "done");
    ensure(r.code == 0 && deleted.len() == 3 && summary(&lines)? == (3, 0, 0), r.out())?;
    ensure(
        deleted.iter().all(|v| v["action"] == "delete" && v["destination"].is_null() && fields(v) == set(DONE)),
        r.out(),
    )?;

    // A failure (a key over 1,024 bytes) and a skip (a FIFO): events on stdout, exit 1.
    let deep: std::path::PathBuf = (0..6).map(|i| format!("{i}{}", "d".repeat(199))).collect();
    write(&tree.join(&deep).join("f"), "x")?;
    let fifo = tree.join("fifo");
    ensure(std::process::Command::new("mkfifo").arg(&fifo).status().map_err(|e| e.to_string())?.success(), "mkfifo")?;
    let r = run(&["--output", "json", "s3", "cp", "--recursive", &t, &format!("s3://{b}/going/")], &env);
    ensure(r.code == 1, format!("exit {}: {} {}", r.code, r.out(), r.stderr))?;
    let lines = json_lines(&r)?;
    let failed = events(&lines, "failed");
    ensure(failed.len() == 1 && fields(failed[0]) == set(FAILED), r.out())?;
    ensure(
        failed[0]["action"] == "upload" && failed[0]["error"].as_str().is_some_and(|e| e.contains("1024")),
        r.out(),
    )?;
    let skipped = events(&lines, "skipped");
    ensure(skipped.len() == 1 && fields(skipped[0]) == set(SKIPPED), r.out())?;
    ensure(skipped[0]["source"] == fifo.to_string_lossy().as_ref() && skipped[0]["error_kind"] == "refused", r.out())?;
    ensure(summary(&lines)? == (3, 1, 1), r.out())?;

    // Standard input: one done line and the summary.
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = crate::cirrus(&["--output", "json", "s3", "cp", "-", &format!("s3://{b}/stdin.txt")], &env_refs, b"12345");
    let lines = json_lines(&r)?;
    ensure(r.code == 0 && lines.len() == 2 && lines[0]["source"] == "-" && lines[0]["bytes"] == 5, r.out())?;
    ensure(summary(&lines)? == (1, 0, 0), r.out())?;

    // Without --output, the AWS CLI's text as before.
    let r = run(&["s3", "rm", &format!("s3://{b}/moved.txt")], &env);
    ensure(r.code == 0 && r.out() == format!("delete: s3://{b}/moved.txt\n"), r.out())?;
    let _ = std::fs::remove_file(&fifo);
    let _ = std::fs::remove_dir_all(&dir);
    // rb --force: its deletes and the bucket's removal as JSON lines too.
    let r = run(&["--output", "json", "s3", "rb", "--force", &format!("s3://{b}")], &env);
    let lines = json_lines(&r)?;
    ensure(r.code == 0 && lines.iter().all(|v| v["event"] == "done" && fields(v) == set(DONE)), r.out())?;
    let last = lines.last().map(|v| (v["action"].clone(), v["source"].clone()));
    ensure(last == Some(("remove_bucket".into(), format!("s3://{b}").into())), r.out())?;
    ensure(lines.iter().filter(|v| v["action"] == "delete").count() >= 3, r.out())
}

/// Every key of `bucket`, sorted (from `s3 ls --recursive --output json`: keys with spaces whole).
fn keys_of(bucket: &str, env: &[(&'static str, String)]) -> Result<Vec<String>, Failed> {
    let r = run(&["--output", "json", "s3", "ls", "--recursive", &format!("s3://{bucket}")], env);
    ensure(r.code == 0, r.stderr.clone())?;
    let mut keys: Vec<String> = json_lines(&r)?.iter().filter_map(|v| v["Key"].as_str().map(str::to_owned)).collect();
    keys.sort();
    Ok(keys)
}

/// The ETag of `s3://bucket/key` (through `cirrus curl -I`).
fn etag(env: &[(&'static str, String)], bucket: &str, key: &str) -> Result<String, Failed> {
    let url = format!("{}/{bucket}/{key}", var("CIRRUS_S3S_URL")?);
    let r = run(&["curl", "--service", "s3", "-X", "HEAD", "-i", &url], env);
    ensure(r.code == 0, format!("HEAD {key}: {}", r.stderr))?;
    r.header("etag").first().map(|e| e.trim().trim_matches('"').to_owned()).ok_or_else(|| r.out().into())
}

/// `--part-size` over the profile's `s3.multipart_chunksize` (a 12 MiB upload: one 16 MiB part
/// by the profile, three of 5 MiB by the flag, told by the ETag's `-N`), `--concurrency` over
/// `s3.max_concurrent_requests` (one request at a time: one or two connections where 64 open
/// many), and values out of range refused with exit 2 before anything is sent.
fn part_size_and_concurrency_flags() -> Result<(), Failed> {
    let dir = scratch("tuning");
    let big = dir.join("big");
    write(&big, vec![7u8; 12 << 20])?;
    let config = config_file(&dir, &[("multipart_chunksize", "16MB"), ("max_concurrent_requests", "64")])?;
    let env = s3s_env(None, &config)?;
    let b = format!("cli-tuning-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let big_s = big.to_string_lossy().into_owned();
    let r = run(&["s3", "cp", &big_s, &format!("s3://{b}/profile")], &env);
    ensure(r.code == 0, r.stderr)?;
    let r = run(&["s3", "cp", "--part-size", "5MB", &big_s, &format!("s3://{b}/flag")], &env);
    ensure(r.code == 0, r.stderr)?;
    let r = run(&["s3", "cp", "--part-size", "6291456", &format!("s3://{b}/flag"), &format!("s3://{b}/copied")], &env);
    ensure(r.code == 0, r.stderr)?;
    let (by_profile, by_flag, copied) =
        (etag(&env, &b, "profile")?, etag(&env, &b, "flag")?, etag(&env, &b, "copied")?);
    ensure(by_profile.ends_with("-1") && by_flag.ends_with("-3"), format!("{by_profile} {by_flag}"))?;
    ensure(copied.ends_with("-2"), format!("a copy in 6 MiB parts: {copied}"))?;

    // --concurrency 1 through a relay that counts connections.
    let tree = dir.join("tree");
    for i in 0..40 {
        write(&tree.join(format!("f{i:02}")), format!("{i}"))?;
    }
    let (proxy, connections) = counting_proxy(&var("CIRRUS_S3S_URL")?)?;
    let via = s3s_env(Some(&proxy), &config)?;
    let t = tree.to_string_lossy().into_owned();
    let mut used = Vec::new();
    for flags in [&["--concurrency", "1"][..], &[]] {
        let before = connections.load(Ordering::SeqCst);
        let mut args = vec!["s3", "cp", "--recursive", "--quiet"];
        args.extend(flags);
        let dst = format!("s3://{b}/t{}/", used.len());
        args.extend([t.as_str(), &dst]);
        let r = run(&args, &via);
        ensure(r.code == 0, r.stderr)?;
        used.push(connections.load(Ordering::SeqCst) - before);
    }
    ensure(used[0] <= 2 && used[1] > 2, format!("connections: {used:?} (--concurrency 1, then the default)"))?;
    let r = run(&["s3", "rm", "--recursive", "--concurrency", "1", &format!("s3://{b}/t0/")], &env);
    ensure(r.code == 0 && r.out().matches("delete: ").count() == 40, r.out())?;

    for bad in [
        &["cp", "--part-size", "4MB", &big_s, "s3://x/y"][..],
        &["cp", "--part-size", "6GiB", &big_s, "s3://x/y"],
        &["sync", "--part-size", "lots", &big_s, "s3://x/y"],
        &["mv", "--concurrency", "0", &big_s, "s3://x/y"],
        &["rm", "--concurrency", "0", "s3://x/y"],
    ] {
        let args: Vec<&str> = ["s3"].iter().chain(bad).copied().collect();
        let r = run(&args, &env);
        ensure(
            r.code == 2 && (r.stderr.contains("--part-size") || r.stderr.contains("--concurrency")),
            format!("{bad:?}: {}", r.stderr),
        )?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    ensure(run(&["s3", "rb", "--force", &format!("s3://{b}")], &env).code == 0, "rb")
}

/// `cirrus s3 run FILE`: cp, mv and rm lines (comments, blank lines, quoted names with spaces)
/// run at once on one connection pool with one summary; a line that fails is counted and the
/// others go on (exit 1); a bad line is exit 2 naming its line, before anything runs; lines
/// from standard input with `--output json`.
fn run_a_file_of_commands() -> Result<(), Failed> {
    let dir = scratch("run");
    let local = dir.join("local dir");
    for name in ["a.txt", "my file.txt", "it's.txt", "go.txt"] {
        write(&local.join(name), name)?;
    }
    let config = config_file(&dir, &[])?;
    let (proxy, connections) = counting_proxy(&var("CIRRUS_S3S_URL")?)?;
    let env = s3s_env(Some(&proxy), &config)?;
    let b = format!("cli-run-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    for key in ["old/1", "old/2", "gone"] {
        let r = run(&["s3", "cp", &local.join("a.txt").to_string_lossy(), &format!("s3://{b}/{key}")], &env);
        ensure(r.code == 0, r.stderr)?;
    }
    let l = local.to_string_lossy().into_owned();
    let mut text = format!(
        "# uploads\n\
         cp '{l}/a.txt' s3://{b}/new/a.txt\n\
         \n\
         cp \"{l}/my file.txt\" 's3://{b}/new/my file.txt'\n\
         cp \"{l}/it's.txt\" s3://{b}/new/\n   \
         mv '{l}/go.txt' s3://{b}/moved/go.txt\n\
         rm --recursive s3://{b}/old\n\
         rm s3://{b}/gone\n"
    );
    for i in 0..12 {
        text.push_str(&format!("cp '{l}/a.txt' s3://{b}/many/{i}\n"));
    }
    let file = dir.join("commands");
    write(&file, &text)?;

    // A bad line anywhere: exit 2 naming it, and nothing done.
    let bad_file = dir.join("bad");
    for (bad, says) in [
        ("cp --no-such-flag a s3://x/y", "--no-such-flag"),
        ("cp 'unclosed s3://x/y", "quote"),
        ("ls s3://x", "only cp, mv, rm and sync"),
        ("cp - s3://x/y", "standard input"),
        ("cp --part-size 5MB a s3://x/y", "cirrus s3 run"),
        // A version is never taken for the current object.
        ("rm --version-id V s3://x/y", "run them alone"),
        ("rm --all-versions s3://x/y", "run them alone"),
        ("mv --version-id V s3://x/y s3://x/z", "mv takes no --version-id"),
    ] {
        write(&bad_file, format!("{text}# then\n{bad}\n"))?;
        let r = run(&["s3", "run", &bad_file.to_string_lossy()], &env);
        let at = format!("line {}", text.lines().count() + 2);
        ensure(
            r.code == 2 && r.stderr.contains(&at) && r.stderr.contains(says),
            format!("{bad}: {} {}", r.code, r.stderr),
        )?;
        ensure(r.out().is_empty() && local.join("go.txt").exists(), format!("{bad}: something ran: {}", r.out()))?;
    }
    let r = run(&["s3", "ls", "--recursive", &format!("s3://{b}/new/")], &env);
    ensure(r.out().is_empty(), format!("a bad file ran: {}", r.out()))?;

    let before = connections.load(Ordering::SeqCst);
    let r = run(&["s3", "run", "--concurrency", "4", &file.to_string_lossy()], &env);
    let used = connections.load(Ordering::SeqCst) - before;
    ensure(r.code == 0, format!("exit {}: {} {}", r.code, r.out(), r.stderr))?;
    ensure(r.out().matches("upload: ").count() == 15 && r.out().matches("delete: ").count() == 3, r.out())?;
    ensure(r.out().contains(&format!("move: {l}/go.txt to s3://{b}/moved/go.txt")), r.out())?;
    ensure(r.stderr.contains("cirrus: 19 done, 0 failed, 0 skipped"), r.stderr.clone())?;
    // One pool, four requests at most in flight: a few connections, not one a line.
    ensure((1..=8).contains(&used), format!("{used} connections for 19 commands"))?;
    let mut keys = keys_of(&b, &env)?;
    keys.retain(|k| !k.starts_with("many/"));
    ensure(keys == ["moved/go.txt", "new/a.txt", "new/it's.txt", "new/my file.txt"], format!("{keys:?}"))?;
    ensure(!local.join("go.txt").exists(), "the moved file is still there")?;

    // From standard input, as JSON: a line that fails (its source is gone) is counted, the
    // others go on, exit 1.
    let lines = format!("cp '{l}/go.txt' s3://{b}/x\nrm s3://{b}/new/a.txt\ncp '{l}/a.txt' s3://{b}/y\n");
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = crate::cirrus(&["--output", "json", "s3", "run", "-"], &env_refs, lines.as_bytes());
    ensure(r.code == 1, format!("exit {}: {} {}", r.code, r.out(), r.stderr))?;
    let out = json_lines(&r)?;
    ensure(events(&out, "done").len() == 2 && summary(&out)? == (2, 1, 0), r.out())?;
    let failed = events(&out, "failed");
    ensure(
        failed.len() == 1
            && failed[0]["line"] == 1
            && failed[0]["error"].as_str().is_some_and(|e| e.contains("go.txt")),
        r.out(),
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    ensure(run(&["s3", "rb", "--force", &format!("s3://{b}")], &env).code == 0, "rb")
}

/// `s3 run` stopped: by SIGINT (exit 130, the multipart upload aborted, the lines not started
/// never run) and by the reader of its JSON going away (exit 141, nothing left behind), on moto,
/// which lists multipart uploads in progress.
fn run_stops_cleanly() -> Result<(), Failed> {
    let dir = scratch("run-stop");
    write(&dir.join("big.bin"), vec![3u8; 60 << 20])?;
    write(&dir.join("small.txt"), "small")?;
    let config = config_file(&dir, &[])?;
    let env = moto_env(&config)?;
    let b = format!("cli-run-stop-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let small = dir.join("small.txt").to_string_lossy().into_owned();
    ensure(run(&["s3", "cp", &small, &format!("s3://{b}/keep")], &env).code == 0, "cp")?;
    let file = dir.join("commands");
    let big = dir.join("big.bin").to_string_lossy().into_owned();
    write(
        &file,
        format!(
            "cp '{big}' s3://{b}/big.bin
rm s3://{b}/keep
cp '{small}' s3://{b}/late
"
        ),
    )?;
    let file = file.to_string_lossy().into_owned();
    let args = ["s3", "run", "--concurrency", "1", "--part-size", "5MB", &file];

    let child = spawn(&args, &env)?;
    wait_until("the multipart upload to start", || uploads_in_progress(&env, &b).unwrap_or(0) > 0)?;
    sigint(&child)?;
    let r = finish(child)?;
    ensure(r.code == 130, format!("exit {}: {} {}", r.code, r.out(), r.stderr))?;
    ensure(uploads_in_progress(&env, &b)? == 0, "the multipart upload was left behind")?;
    let r = run(&["--output", "json", "s3", "ls", "--recursive", &format!("s3://{b}")], &env);
    let keys: Vec<Value> = json_lines(&r)?.into_iter().map(|v| v["Key"].clone()).collect();
    ensure(keys == ["keep"], format!("lines ran after the interrupt: {keys:?}"))?;

    let json_args: Vec<&str> = ["--output", "json"].iter().chain(&args).copied().collect();
    let mut child = spawn(&json_args, &env)?;
    drop(child.stdout.take());
    let r = finish(child)?;
    ensure(r.code == 141 && !r.stderr.contains("panicked"), format!("exit {}: {}", r.code, r.stderr))?;
    ensure(uploads_in_progress(&env, &b)? == 0, "a multipart upload was left behind")?;
    let _ = std::fs::remove_dir_all(&dir);
    ensure(run(&["s3", "rb", "--force", &format!("s3://{b}")], &env).code == 0, "rb")
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("transfer::cli::output_json_lines_for_cp_mv_rm_sync", json_lines_for_transfers),
        Trial::test("transfer::cli::part_size_and_concurrency_flags_over_the_profile", part_size_and_concurrency_flags),
        Trial::test("transfer::cli::s3_run_a_file_of_commands", run_a_file_of_commands),
        Trial::test("transfer::cli::s3_run_stops_cleanly_on_sigint_and_a_closed_pipe", run_stops_cleanly),
    ]
}
