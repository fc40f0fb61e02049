//! `cirrus s3api` and the version flags of `cirrus s3` against moto (s3s-fs keeps no versions),
//! the JSON compared with what the AWS CLI v2 (`/usr/bin/aws`) prints for the same calls.

use crate::{aws_env, ensure, moto, run_with, Run};
use libtest_mimic::{Failed, Trial};
use serde_json::Value;
use std::process::Command;

fn bucket(tag: &str) -> String {
    format!("cli-{tag}-{}", std::process::id())
}

fn ok(r: Run, what: &str) -> Result<Run, Failed> {
    ensure(r.code == 0, format!("{what}: exit {} {}", r.code, r.stderr)).map(|()| r)
}

fn json(r: &Run) -> Result<Value, Failed> {
    serde_json::from_slice(&r.stdout).map_err(|e| format!("{e}: {}", r.out()).into())
}

/// `/usr/bin/aws --endpoint-url MOTO s3api ARGS` (the AWS CLI v2 of the machine), its JSON.
fn aws(moto: &str, args: &[&str]) -> Result<Value, Failed> {
    let out = Command::new("/usr/bin/aws")
        .args(["--endpoint-url", moto, "--output", "json", "s3api"])
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", "/nonexistent-cirrus-test-home")
        .env("AWS_ACCESS_KEY_ID", "AKIDAWSCLI")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .output()
        .map_err(|e| format!("/usr/bin/aws (the AWS CLI v2, from Debian's awscli): {e}"))?;
    ensure(out.status.success(), format!("aws {args:?}: {}", String::from_utf8_lossy(&out.stderr)))?;
    if out.stdout.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("aws {args:?}: {e}").into())
}

/// A versioned bucket with `doc` written twice then deleted (a marker on top), and `keep`.
fn versioned(env: &[(&'static str, String)], tag: &str, file: &str) -> Result<String, Failed> {
    let b = bucket(tag);
    ok(run_with(&["s3", "mb", &format!("s3://{b}")], env), "mb")?;
    let on = ["s3api", "put-bucket-versioning", "--bucket", &b, "--versioning-configuration", "Status=Enabled"];
    ok(run_with(&on, env), "put-bucket-versioning")?;
    for key in ["doc", "doc", "keep"] {
        ok(run_with(&["s3api", "put-object", "--bucket", &b, "--key", key, "--body", file], env), "put-object")?;
    }
    ok(run_with(&["s3api", "delete-object", "--bucket", &b, "--key", "doc"], env), "delete-object")?;
    Ok(b)
}

/// Each read call prints what the AWS CLI prints for the same state: the same names, nesting
/// and values.
fn reads_print_what_the_aws_cli_prints() -> Result<(), Failed> {
    let moto = moto()?;
    let env = aws_env(&moto);
    let dir = std::env::temp_dir().join(format!("cirrus-cli-s3api-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("body.txt");
    std::fs::write(&file, b"hello")?;
    let b = versioned(&env, "api", &file.to_string_lossy())?;
    let tagging = "TagSet=[{Key=team,Value=data},{Key=tier,Value=2}]";
    ok(run_with(&["s3api", "put-object-tagging", "--bucket", &b, "--key", "keep", "--tagging", tagging], &env), "tag")?;
    let policy = dir.join("policy.json");
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{b}/*"}}]}}"#
    );
    std::fs::write(&policy, &doc)?;
    let from_file = format!("file://{}", policy.display());
    ok(run_with(&["s3api", "put-bucket-policy", "--bucket", &b, "--policy", &from_file], &env), "policy")?;

    let versions = json(&ok(run_with(&["s3api", "list-object-versions", "--bucket", &b], &env), "list")?)?;
    let old = versions["Versions"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["Key"] == "doc" && v["IsLatest"] == false))
        .and_then(|v| v["VersionId"].as_str())
        .ok_or(format!("no old version of doc: {versions}"))?
        .to_owned();
    let calls: Vec<Vec<&str>> = vec![
        vec!["list-object-versions", "--bucket", &b],
        vec!["list-object-versions", "--bucket", &b, "--prefix", "do"],
        vec!["head-object", "--bucket", &b, "--key", "keep"],
        vec!["head-object", "--bucket", &b, "--key", "doc", "--version-id", &old],
        vec!["get-object-tagging", "--bucket", &b, "--key", "keep"],
        vec!["get-bucket-versioning", "--bucket", &b],
        vec!["get-bucket-location", "--bucket", &b],
        vec!["get-bucket-policy", "--bucket", &b],
    ];
    for call in calls {
        let mut args = vec!["s3api"];
        args.extend(&call);
        let ours = json(&ok(run_with(&args, &env), &call.join(" "))?)?;
        let theirs = aws(&moto, &call)?;
        ensure(ours == theirs, format!("{call:?}:\ncirrus: {ours}\naws:    {theirs}"))?;
    }
    let policy_back: Value = serde_json::from_str(
        json(&run_with(&["s3api", "get-bucket-policy", "--bucket", &b], &env))?["Policy"].as_str().unwrap_or_default(),
    )?;
    ensure(policy_back == serde_json::from_str::<Value>(&doc)?, format!("policy {policy_back}"))?;

    // get-object writes the version asked for and prints head-object's fields.
    let out = dir.join("old.txt");
    let args = ["s3api", "get-object", "--bucket", &b, "--key", "doc", "--version-id", &old, &out.to_string_lossy()];
    let got = json(&ok(run_with(&args, &env), "get-object")?)?;
    ensure(std::fs::read(&out)? == b"hello" && got["VersionId"] == old.as_str(), format!("{got}"))?;
    ensure(got["ContentLength"] == 5 && got["Metadata"].is_object(), format!("{got}"))?;
    let text = ok(
        run_with(&["--output", "text", "s3api", "get-object-tagging", "--bucket", &b, "--key", "keep"], &env),
        "text",
    )?;
    ensure(text.out().ends_with("TAGSET\tteam\tdata\nTAGSET\ttier\t2\n"), text.out())?;

    // delete-object of a version: gone for good, said as the AWS CLI says it.
    let gone = json(&ok(
        run_with(&["s3api", "delete-object", "--bucket", &b, "--key", "doc", "--version-id", &old], &env),
        "rm v",
    )?)?;
    ensure(gone == serde_json::json!({ "VersionId": old }), format!("{gone}"))?;
    let head = run_with(&["s3api", "head-object", "--bucket", &b, "--key", "doc", "--version-id", &old], &env);
    ensure(
        head.code == 1 && head.stdout.is_empty(),
        format!("head of a deleted version: {} {}", head.code, head.stderr),
    )?;
    ok(run_with(&["s3api", "delete-bucket-policy", "--bucket", &b], &env), "delete-bucket-policy")?;
    let none = run_with(&["s3api", "get-bucket-policy", "--bucket", &b], &env);
    ensure(none.code == 1 && none.stderr.contains("NoSuchBucketPolicy"), none.stderr.clone())
}

/// Structures in the AWS CLI's shorthand or JSON are read; bad ones exit 2 saying where,
/// before anything is sent.
fn shorthand_and_json_arguments() -> Result<(), Failed> {
    let env = aws_env(&moto()?);
    let b = bucket("shorthand");
    ok(run_with(&["s3", "mb", &format!("s3://{b}")], &env), "mb")?;
    ok(run_with(&["s3api", "put-object", "--bucket", &b, "--key", "k"], &env), "put-object")?;
    // put-object's metadata (shorthand, then JSON) and tags (a URL query), read back.
    let put = ["s3api", "put-object", "--bucket", &b, "--key", "m", "--metadata", "team=data,run=7"];
    ok(run_with(&[&put[..], &["--tagging", "tier=2&owner=ana"]].concat(), &env), "put-object --metadata")?;
    let head = json(&run_with(&["s3api", "head-object", "--bucket", &b, "--key", "m"], &env))?;
    ensure(head["Metadata"] == serde_json::json!({"team": "data", "run": "7"}), format!("{head}"))?;
    let tags = json(&run_with(&["s3api", "get-object-tagging", "--bucket", &b, "--key", "m"], &env))?;
    let want = serde_json::json!([{"Key": "tier", "Value": "2"}, {"Key": "owner", "Value": "ana"}]);
    ensure(tags["TagSet"] == want, format!("{tags}"))?;
    let put = ["s3api", "put-object", "--bucket", &b, "--key", "m", "--metadata", r#"{"from": "json"}"#];
    ok(run_with(&put, &env), "put-object --metadata JSON")?;
    let head = json(&run_with(&["s3api", "head-object", "--bucket", &b, "--key", "m"], &env))?;
    ensure(head["Metadata"] == serde_json::json!({"from": "json"}), format!("{head}"))?;
    let bad = run_with(&["s3api", "put-object", "--bucket", &b, "--key", "m", "--metadata", "[1]"], &env);
    ensure(bad.code == 2 && bad.stderr.contains("--metadata"), bad.stderr.clone())?;
    let json_tags = r#"{"TagSet": [{"Key": "a", "Value": "1"}]}"#;
    ok(run_with(&["s3api", "put-object-tagging", "--bucket", &b, "--key", "k", "--tagging", json_tags], &env), "json")?;
    let tags = json(&run_with(&["s3api", "get-object-tagging", "--bucket", &b, "--key", "k"], &env))?;
    ensure(tags["TagSet"] == serde_json::json!([{"Key": "a", "Value": "1"}]), format!("{tags}"))?;
    let file = std::env::temp_dir().join(format!("cirrus-cli-tags-{}.txt", std::process::id()));
    std::fs::write(&file, "TagSet=[{Key=from,Value=file}]\n")?;
    let from_file = format!("file://{}", file.display());
    ok(
        run_with(&["s3api", "put-object-tagging", "--bucket", &b, "--key", "k", "--tagging", &from_file], &env),
        "file",
    )?;
    let tags = json(&run_with(&["s3api", "get-object-tagging", "--bucket", &b, "--key", "k"], &env))?;
    ensure(tags["TagSet"] == serde_json::json!([{"Key": "from", "Value": "file"}]), format!("{tags}"))?;
    let missing = run_with(
        &["s3api", "put-object-tagging", "--bucket", &b, "--key", "k", "--tagging", "file:///nonexistent/t"],
        &env,
    );
    ensure(missing.code == 2 && missing.stderr.contains("/nonexistent/t"), missing.stderr.clone())?;
    let json_on = r#"{"Status": "Suspended"}"#;
    ok(
        run_with(&["s3api", "put-bucket-versioning", "--bucket", &b, "--versioning-configuration", json_on], &env),
        "v",
    )?;
    let v = json(&run_with(&["s3api", "get-bucket-versioning", "--bucket", &b], &env))?;
    ensure(v == serde_json::json!({"Status": "Suspended"}), format!("{v}"))?;
    let bad: [(&str, &str, &str); 5] = [
        ("--tagging", "TagSet=[{Key=a,Value=1},{Key}]", "at character 29"),
        ("--tagging", "TagSet=[{Key=a,Value=1}", "expected ']'"),
        ("--tagging", "Tags=[]", "unknown key \"Tags\""),
        ("--versioning-configuration", "Status=On", "not Enabled or Suspended"),
        ("--versioning-configuration", "{\"Status\": ", "not valid JSON"),
    ];
    for (flag, value, says) in bad {
        let args: Vec<&str> = if flag == "--tagging" {
            vec!["s3api", "put-object-tagging", "--bucket", &b, "--key", "k", flag, value]
        } else {
            vec!["s3api", "put-bucket-versioning", "--bucket", &b, flag, value]
        };
        let r = run_with(&args, &env);
        ensure(r.code == 2, format!("{value}: exit {} {}", r.code, r.stderr))?;
        ensure(r.stderr.contains(flag) && r.stderr.contains(says), format!("{value}: {}", r.stderr))?;
        ensure(r.stderr.lines().count() == 1, format!("not one line: {}", r.stderr))?;
    }
    let tags = json(&run_with(&["s3api", "get-object-tagging", "--bucket", &b, "--key", "k"], &env))?;
    ensure(tags["TagSet"].as_array().map(Vec::len) == Some(1), format!("bad input changed the tags: {tags}"))
}

/// `rb --force` empties a versioned bucket of every version and delete marker, then removes it
/// (the AWS CLI leaves such a bucket in place).
fn rb_force_removes_a_versioned_bucket() -> Result<(), Failed> {
    let moto = moto()?;
    let env = aws_env(&moto);
    let file = std::env::temp_dir().join(format!("cirrus-cli-rb-{}.txt", std::process::id()));
    std::fs::write(&file, b"x")?;
    let b = versioned(&env, "rbforce", &file.to_string_lossy())?;
    ok(run_with(&["s3", "rm", &format!("s3://{b}/keep")], &env), "rm keep")?;
    let plain = run_with(&["s3", "rb", &format!("s3://{b}")], &env);
    ensure(plain.code == 1 && plain.stderr.contains("BucketNotEmpty"), plain.stderr.clone())?;
    let r = ok(run_with(&["s3", "rb", "--force", &format!("s3://{b}")], &env), "rb --force")?;
    ensure(r.out().matches(" (version ").count() == 5, r.out())?;
    ensure(r.out().ends_with(&format!("remove_bucket: {b}\n")), r.out())?;
    let ls = ok(run_with(&["s3", "ls"], &env), "ls")?;
    ensure(!ls.out().contains(&b), format!("{b} is still there"))
}

/// `rm --recursive --all-versions`: every version and marker under the folder, and none
/// outside it or left out by the filters; `--dryrun` deletes nothing; `--version-id` one.
fn rm_all_versions_and_one_version() -> Result<(), Failed> {
    let env = aws_env(&moto()?);
    let file = std::env::temp_dir().join(format!("cirrus-cli-rmv-{}.txt", std::process::id()));
    std::fs::write(&file, b"v")?;
    let f = file.to_string_lossy().into_owned();
    let b = versioned(&env, "rmvers", &f)?;
    for key in ["dir/a", "dir/a", "dir/skip.log", "dirt", "other"] {
        ok(run_with(&["s3api", "put-object", "--bucket", &b, "--key", key, "--body", &f], &env), "put")?;
    }
    ok(run_with(&["s3", "rm", &format!("s3://{b}/dir/a")], &env), "marker")?;
    let listing = |env: &[(&'static str, String)]| -> Result<Vec<String>, Failed> {
        let r = ok(
            run_with(&["--output", "json", "s3", "ls", "--versions", "--recursive", &format!("s3://{b}")], env),
            "ls",
        )?;
        let mut lines: Vec<String> = r.out().lines().map(str::to_owned).collect();
        lines.sort();
        Ok(lines)
    };
    let before = listing(&env)?;
    ensure(before.len() == 10, format!("{before:#?}"))?;
    let target = format!("s3://{b}/dir");
    let dry = ok(run_with(&["s3", "rm", "--recursive", "--all-versions", "--dryrun", &target], &env), "dryrun")?;
    ensure(dry.out().lines().all(|l| l.starts_with(&format!("(dryrun) delete: s3://{b}/dir/"))), dry.out())?;
    ensure(dry.out().lines().count() == 4 && listing(&env)? == before, "the dry run deleted something")?;
    let r = run_with(&["s3", "rm", "--recursive", "--all-versions", "--exclude", "*.log", &target], &env);
    let r = ok(r, "rm --all-versions")?;
    ensure(r.out().lines().count() == 3, r.out())?;
    ensure(r.out().lines().all(|l| l.starts_with(&format!("delete: s3://{b}/dir/a (version "))), r.out())?;
    let after = listing(&env)?;
    let keys: Vec<String> =
        after.iter().filter_map(|l| serde_json::from_str::<Value>(l).ok()).map(|v| v["Key"].to_string()).collect();
    let left = ["\"dir/skip.log\"", "\"dirt\"", "\"doc\"", "\"doc\"", "\"doc\"", "\"keep\"", "\"other\""];
    let mut sorted = keys.clone();
    sorted.sort();
    ensure(sorted == left, format!("{keys:?}"))?;

    // Without --recursive, the versions of that one key: `dir` names no key, `dirt` one.
    let none = ok(run_with(&["s3", "rm", "--all-versions", &format!("s3://{b}/dir")], &env), "rm dir")?;
    ensure(none.out().is_empty() && listing(&env)? == after, format!("rm --all-versions dir: {}", none.out()))?;
    let one = ok(run_with(&["s3", "rm", "--all-versions", &format!("s3://{b}/dirt")], &env), "rm dirt")?;
    ensure(
        one.out().lines().count() == 1 && one.out().starts_with(&format!("delete: s3://{b}/dirt (version ")),
        one.out(),
    )?;
    ensure(listing(&env)?.len() == after.len() - 1, "rm --all-versions of one key took more")?;

    // One version of one key, for good; a download of another version.
    let text = ok(run_with(&["s3", "ls", "--versions", &format!("s3://{b}/doc")], &env), "ls text")?;
    let ids: Vec<String> = text
        .out()
        .lines()
        .filter(|l| !l.contains("deleted"))
        .filter_map(|l| l.split_whitespace().nth(3).map(str::to_owned))
        .collect();
    ensure(ids.len() == 2, text.out())?;
    let down = std::env::temp_dir().join(format!("cirrus-cli-rmv-{}.down", std::process::id()));
    let down_s = down.to_string_lossy().into_owned();
    ok(run_with(&["s3", "cp", "--version-id", &ids[1], &format!("s3://{b}/doc"), &down_s], &env), "cp --version-id")?;
    ensure(std::fs::read(&down)? == b"v", "the download is not the version")?;
    // The same as a line of `s3 run`.
    let _ = std::fs::remove_file(&down);
    let line = format!("cp --version-id {} s3://{b}/doc '{down_s}'\n", ids[1]);
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = crate::cirrus(&["s3", "run", "-"], &env_refs, line.as_bytes());
    ensure(r.code == 0, format!("s3 run: {} {}", r.code, r.stderr))?;
    ensure(std::fs::read(&down)? == b"v", "s3 run's cp --version-id did not download the version")?;
    let r = ok(run_with(&["s3", "rm", "--version-id", &ids[0], &format!("s3://{b}/doc")], &env), "rm --version-id")?;
    ensure(r.out() == format!("delete: s3://{b}/doc (version {})\n", ids[0]), r.out())?;
    let text = ok(run_with(&["s3", "ls", "--versions", &format!("s3://{b}/doc")], &env), "ls text")?;
    ensure(!text.out().contains(&ids[0]) && text.out().contains(&ids[1]), text.out())?;
    let mv = run_with(&["s3", "mv", "--version-id", &ids[1], &format!("s3://{b}/doc"), &down_s], &env);
    ensure(mv.code == 2, format!("mv --version-id: exit {} {}", mv.code, mv.stderr))
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("s3api::reads_print_what_the_aws_cli_prints", reads_print_what_the_aws_cli_prints),
        Trial::test("s3api::shorthand_and_json_arguments", shorthand_and_json_arguments),
        Trial::test("s3api::rb_force_removes_a_versioned_bucket", rb_force_removes_a_versioned_bucket),
        Trial::test("s3api::rm_all_versions_and_one_version", rm_all_versions_and_one_version),
    ]
}
