//! Wildcards in S3 sources (`s3 ls|cp|mv|rm 's3://b/logs/*.gz'`) and `--no-overwrite` on cp, mv
//! and sync, run as a user would against s3s-fs (which checks signatures).

use crate::ensure;
use crate::transfer::{config_file, keys_under, run, s3s_env, scratch};
use libtest_mimic::{Failed, Trial};
use std::path::Path;

/// The keys every glob test starts from: files at two depths, a key with a real `*`, and keys
/// outside `logs/` that would match the pattern's tail.
const KEYS: [&str; 8] =
    ["logs/a.gz", "logs/b.gz", "logs/c.txt", "logs/x/d.gz", "logs/x/y/e.gz", "logs/st*r.gz", "other/a.gz", "logsa.gz"];

/// The environment of a `cirrus` run.
type Env = Vec<(&'static str, String)>;

/// A bucket holding [`KEYS`] (each object's bytes are its key), and the environment to reach it.
fn glob_bucket(dir: &Path, tag: &str) -> Result<(String, Env), Failed> {
    let config = config_file(dir, &[])?;
    let env = s3s_env(None, &config)?;
    let b = format!("cli-glob-{tag}-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let file = dir.join("object");
    for k in KEYS {
        std::fs::write(&file, k).map_err(|e| e.to_string())?;
        let r = run(&["s3", "cp", "--no-glob", &file.to_string_lossy(), &format!("s3://{b}/{k}")], &env);
        ensure(r.code == 0, r.stderr)?;
    }
    Ok((b, env))
}

/// The keys `s3 ls PATTERN` prints (whole), sorted, and its exit code.
fn ls(b: &str, pattern: &str, env: &[(&'static str, String)]) -> (Vec<String>, i32, String) {
    let r = run(&["s3", "ls", &format!("s3://{b}/{pattern}")], env);
    let mut keys: Vec<String> =
        r.out().lines().filter_map(|l| l.split_whitespace().nth(3)).map(str::to_owned).collect();
    keys.sort();
    (keys, r.code, r.stderr)
}

/// Files under `root`, relative, sorted.
fn files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(root) {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// `s3 ls` with `*` (one level), `**` (any depth), `?`, `[a-c]`, an escaped `*`, no match
/// (exit 1); only the literal prefix is listed (the request says `prefix=logs%2F`).
fn ls_matches_keys() -> Result<(), Failed> {
    let dir = scratch("glob-ls");
    let (b, env) = glob_bucket(&dir, "ls")?;
    let cases: [(&str, &[&str]); 6] = [
        ("logs/*.gz", &["logs/a.gz", "logs/b.gz", "logs/st*r.gz"]),
        ("logs/**.gz", &["logs/a.gz", "logs/b.gz", "logs/st*r.gz", "logs/x/d.gz", "logs/x/y/e.gz"]),
        ("logs/**/*.gz", &["logs/a.gz", "logs/b.gz", "logs/st*r.gz", "logs/x/d.gz", "logs/x/y/e.gz"]),
        ("logs/?.gz", &["logs/a.gz", "logs/b.gz"]),
        ("logs/[a-c].*", &["logs/a.gz", "logs/b.gz", "logs/c.txt"]),
        ("logs/[!a-b].*", &["logs/c.txt"]),
    ];
    for (pattern, want) in cases {
        let (keys, code, stderr) = ls(&b, pattern, &env);
        ensure(code == 0 && keys == want, format!("{pattern}: exit {code} {keys:?} {stderr}"))?;
    }
    let r = run(&["s3", "ls", &format!("s3://{b}/logs/st\\*r.gz")], &env);
    ensure(r.code == 0 && r.out().lines().count() == 1 && r.out().contains("st*r.gz"), r.out())?;
    let (keys, code, stderr) = ls(&b, "logs/*.zip", &env);
    ensure(code == 1 && keys.is_empty() && stderr.contains("nothing matched"), format!("exit {code} {stderr}"))?;
    // One listing, of the literal prefix only.
    let r = run(&["--debug", "s3", "ls", &format!("s3://{b}/logs/*.gz")], &env);
    let lists: Vec<&str> =
        r.stderr.lines().filter(|l| l.contains("operation=\"ListObjectsV2\"") && l.contains(" url=")).collect();
    ensure(!lists.is_empty() && lists.iter().all(|l| l.contains("prefix=logs%2F")), r.stderr.clone())?;
    let r = run(&["s3", "rb", "--force", &format!("s3://{b}")], &env);
    let _ = std::fs::remove_dir_all(&dir);
    ensure(r.code == 0, r.stderr)
}

/// `cp` with a pattern: `*` gives flat names, `**` keeps the folders under the prefix's
/// folder, filters still apply, an escaped `*` and `--no-glob` name the literal key, S3 to S3
/// too; a pattern that matches nothing exits 1 saying so.
fn cp_matches_keys() -> Result<(), Failed> {
    let dir = scratch("glob-cp");
    let (b, env) = glob_bucket(&dir, "cp")?;
    let flat = dir.join("flat");
    let r = run(&["s3", "cp", &format!("s3://{b}/logs/*.gz"), &flat.to_string_lossy()], &env);
    ensure(r.code == 0 && r.out().matches("download: ").count() == 3, format!("{}{}", r.out(), r.stderr))?;
    ensure(files(&flat) == ["a.gz", "b.gz", "st*r.gz"], format!("{:?}", files(&flat)))?;
    let deep = dir.join("deep");
    let args = ["s3", "cp", &format!("s3://{b}/logs/**"), &deep.to_string_lossy(), "--exclude", "*.txt"];
    let r = run(&args, &env);
    ensure(r.code == 0, r.stderr)?;
    ensure(files(&deep) == ["a.gz", "b.gz", "st*r.gz", "x/d.gz", "x/y/e.gz"], format!("{:?}", files(&deep)))?;
    let one = dir.join("one");
    let r = run(&["s3", "cp", &format!("s3://{b}/logs/st\\*r.gz"), &one.to_string_lossy()], &env);
    ensure(r.code == 0 && std::fs::read(&one).ok().as_deref() == Some(b"logs/st*r.gz".as_slice()), r.stderr)?;
    let two = dir.join("two");
    let r = run(&["s3", "cp", "--no-glob", &format!("s3://{b}/logs/st*r.gz"), &two.to_string_lossy()], &env);
    ensure(r.code == 0 && std::fs::read(&two).ok().as_deref() == Some(b"logs/st*r.gz".as_slice()), r.stderr)?;
    let r = run(&["s3", "cp", &format!("s3://{b}/logs/x/*"), &format!("s3://{b}/copy/")], &env);
    ensure(r.code == 0 && r.out().contains(&format!("copy: s3://{b}/logs/x/d.gz to s3://{b}/copy/d.gz")), r.out())?;
    ensure(keys_under(&b, "copy/", &env)? == ["d.gz"], "copy/")?;
    let r = run(&["s3", "cp", &format!("s3://{b}/logs/*.zip"), &dir.join("none").to_string_lossy()], &env);
    ensure(r.code == 1 && r.stderr.contains("nothing matched"), format!("exit {}: {}", r.code, r.stderr))?;
    let r = run(&["s3", "rb", "--force", &format!("s3://{b}")], &env);
    let _ = std::fs::remove_dir_all(&dir);
    ensure(r.code == 0, r.stderr)
}

/// `mv` and `rm` with a pattern move or delete the matches and nothing else: not the keys
/// outside the prefix that match its tail, not the keys of other levels, not the key with a
/// real `*` unless it is named (escaped, or with --no-glob).
fn mv_and_rm_touch_only_matches() -> Result<(), Failed> {
    let dir = scratch("glob-mvrm");
    let (b, env) = glob_bucket(&dir, "mvrm")?;
    let r = run(&["s3", "mv", &format!("s3://{b}/logs/[ab].gz"), &format!("s3://{b}/moved/")], &env);
    ensure(r.code == 0 && r.out().matches("move: ").count() == 2, format!("{}{}", r.out(), r.stderr))?;
    ensure(keys_under(&b, "moved/", &env)? == ["a.gz", "b.gz"], "moved/")?;
    let r = run(&["s3", "rm", &format!("s3://{b}/logs/x/**")], &env);
    ensure(r.code == 0 && r.out().matches("delete: ").count() == 2, format!("{}{}", r.out(), r.stderr))?;
    let r = run(&["s3", "rm", &format!("s3://{b}/logs/st\\*r.gz")], &env);
    ensure(r.code == 0 && r.out().matches("delete: ").count() == 1, format!("{}{}", r.out(), r.stderr))?;
    let r = run(&["s3", "rm", &format!("s3://{b}/*.gz")], &env);
    ensure(r.code == 0 && r.out().matches("delete: ").count() == 1, format!("{}{}", r.out(), r.stderr))?;
    let r = run(&["s3", "rm", &format!("s3://{b}/logs/*.zip")], &env);
    ensure(r.code == 1 && r.stderr.contains("nothing matched"), format!("exit {}: {}", r.code, r.stderr))?;
    let left = keys_under(&b, "", &env)?;
    ensure(left == ["logs/c.txt", "moved/a.gz", "moved/b.gz", "other/a.gz"], format!("{left:?}"))?;
    let r = run(&["s3", "rb", "--force", &format!("s3://{b}")], &env);
    let _ = std::fs::remove_dir_all(&dir);
    ensure(r.code == 0, r.stderr)
}

/// `--no-overwrite`: an upload (one PUT and multipart), a download, an S3 to S3 copy and a
/// sync leave what is there (a `skip:` line, exit 0) and write what is not; `mv` keeps the
/// sources it did not write.
fn no_overwrite() -> Result<(), Failed> {
    let dir = scratch("no-overwrite");
    let config = config_file(&dir, &[("multipart_threshold", "5MB"), ("multipart_chunksize", "5MB")])?;
    let env = s3s_env(None, &config)?;
    let b = format!("cli-no-overwrite-{}", std::process::id());
    ensure(run(&["s3", "mb", &format!("s3://{b}")], &env).code == 0, "mb")?;
    let (old, src) = (dir.join("old"), dir.join("src"));
    std::fs::create_dir_all(&src).map_err(|e| e.to_string())?;
    std::fs::write(&old, "old").map_err(|e| e.to_string())?;
    std::fs::write(src.join("small"), "new").map_err(|e| e.to_string())?;
    std::fs::write(src.join("big"), vec![7u8; 6 << 20]).map_err(|e| e.to_string())?;
    std::fs::write(src.join("fresh"), "fresh").map_err(|e| e.to_string())?;
    for k in ["up/small", "up/big", "copy/small"] {
        ensure(run(&["s3", "cp", &old.to_string_lossy(), &format!("s3://{b}/{k}")], &env).code == 0, "put")?;
    }
    let get = |k: &str| run(&["s3", "cp", &format!("s3://{b}/{k}"), "-"], &env).stdout;
    let s = src.to_string_lossy().into_owned();
    let r = run(&["s3", "cp", "--no-overwrite", &src.join("small").to_string_lossy(), &format!("s3://{b}/up/")], &env);
    ensure(
        r.code == 0 && r.out().starts_with("skip: ") && get("up/small") == b"old",
        format!("{}{}", r.out(), r.stderr),
    )?;
    let envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = crate::cirrus(&["s3", "cp", "--no-overwrite", "-", &format!("s3://{b}/up/small")], &envs, b"stdin");
    ensure(
        r.code == 0 && r.out().starts_with("skip: -: ") && get("up/small") == b"old",
        format!("stdin: {}", r.stderr),
    )?;
    // A dry run says what the run would leave alone, and what it would send.
    let r = run(&["s3", "cp", "--dryrun", "--no-overwrite", "--recursive", &s, &format!("s3://{b}/up/")], &env);
    let said = format!("{}{}", r.out(), r.stderr);
    ensure(r.code == 0 && r.out().matches("skip: ").count() == 2, said.clone())?;
    ensure(r.out().matches("(dryrun) upload: ").count() == 1 && r.out().contains("up/fresh"), said)?;
    let r = run(&["s3", "cp", "--no-overwrite", "--recursive", &s, &format!("s3://{b}/up/")], &env);
    ensure(r.code == 0 && r.out().matches("skip: ").count() == 2, format!("{}{}", r.out(), r.stderr))?;
    ensure(get("up/big") == b"old" && get("up/fresh") == b"fresh", "an upload replaced an object")?;
    let down = dir.join("down");
    std::fs::create_dir_all(&down).map_err(|e| e.to_string())?;
    std::fs::write(down.join("small"), "mine").map_err(|e| e.to_string())?;
    let r =
        run(&["s3", "cp", "--no-overwrite", "--recursive", &format!("s3://{b}/up/"), &down.to_string_lossy()], &env);
    ensure(r.code == 0 && r.out().matches("skip: ").count() == 1, format!("{}{}", r.out(), r.stderr))?;
    ensure(std::fs::read(down.join("small")).map_err(|e| e.to_string())? == b"mine", "the download replaced a file")?;
    let r =
        run(&["s3", "mv", "--no-overwrite", "--recursive", &format!("s3://{b}/up/"), &format!("s3://{b}/copy/")], &env);
    ensure(r.code == 0 && r.out().matches("move: ").count() == 2, format!("{}{}", r.out(), r.stderr))?;
    ensure(get("copy/small") == b"old", "the copy replaced an object")?;
    ensure(keys_under(&b, "up/", &env)? == ["small"], "mv removed a source it did not write")?;
    // sync: a file that differs is not sent again; one that is missing is.
    std::fs::write(src.join("small"), "changed").map_err(|e| e.to_string())?;
    std::fs::write(src.join("later"), "later").map_err(|e| e.to_string())?;
    let r = run(&["s3", "sync", "--no-overwrite", &s, &format!("s3://{b}/up/")], &env);
    ensure(r.code == 0, r.stderr.clone())?;
    ensure(get("up/small") == b"old" && get("up/later") == b"later", format!("sync: {}", r.out()))?;
    let r = run(&["s3", "rb", "--force", &format!("s3://{b}")], &env);
    let _ = std::fs::remove_dir_all(&dir);
    ensure(r.code == 0, r.stderr)
}

pub(crate) fn trials() -> Vec<Trial> {
    vec![
        Trial::test("globs::s3s::ls_matches_keys_under_the_literal_prefix", ls_matches_keys),
        Trial::test("globs::s3s::cp_names_matches_from_the_prefix_folder", cp_matches_keys),
        Trial::test("globs::s3s::mv_and_rm_touch_only_matches", mv_and_rm_touch_only_matches),
        Trial::test("globs::s3s::no_overwrite_leaves_what_is_there", no_overwrite),
    ]
}
