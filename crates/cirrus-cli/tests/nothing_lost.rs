//! Nothing lost: `sync --delete`, `mv` and recursive downloads run as a careless user would run
//! them (a low open-file limit, a tree the walk cannot see all of, symlinked folders, a FIFO
//! where a key lands), against the signature-checking S3 server. Whatever happens, no object or
//! file the user still has is deleted, and nothing hangs.

use crate::transfer::{config_file, finish, keys_under, moto_env, run, s3s_env, scratch};
use crate::{command_via, ensure, Run};
use libtest_mimic::{Failed, Trial};
use std::path::Path;
use std::time::{Duration, SystemTime};

fn write(root: &Path, rel: &str, body: &str) -> Result<(), Failed> {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap_or(root)).map_err(|e| e.to_string())?;
    std::fs::write(&p, body).map_err(|e| e.to_string())?;
    Ok(())
}

fn mode(path: &Path, mode: u32) -> Result<(), Failed> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| e.to_string().into())
}

/// Runs cirrus through `wrapper` (a shell that lowers a limit, setpriv), killed after 60 s.
fn run_via(wrapper: &[&str], args: &[&str], env: &[(&'static str, String)]) -> Result<Run, Failed> {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    finish(command_via(wrapper, args, &env).spawn().map_err(|e| e.to_string())?)
}

/// As an unprivileged user when the tests run as root (so that a directory can be unreadable).
fn unprivileged() -> Result<&'static [&'static str], Failed> {
    let root = std::process::Command::new("id").arg("-u").output().map_err(|e| e.to_string())?.stdout == b"0\n";
    Ok(if root { &["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] } else { &[] })
}

fn mb(b: &str, env: &[(&'static str, String)]) -> Result<(), Failed> {
    let r = run(&["s3", "mb", &format!("s3://{b}")], env);
    ensure(r.code == 0, format!("mb: {}", r.stderr))
}

fn rb(b: &str, env: &[(&'static str, String)]) -> Result<(), Failed> {
    let r = run(&["s3", "rb", "--force", &format!("s3://{b}")], env);
    ensure(r.code == 0, format!("rb: {}", r.stderr))
}

/// The report's case: every local file touched (so each needs an upload) and an open-file limit
/// far below the concurrency. Before, directories that could not be opened ("Too many open
/// files") were taken as deleted and `sync --delete` removed most of the bucket. Now the
/// concurrency fits the limit, a shortage is waited out, and only the key whose file is really
/// gone is deleted.
fn a_low_open_file_limit_deletes_nothing() -> Result<(), Failed> {
    let dir = scratch("nofile");
    let tree = dir.join("tree");
    let mut expect = Vec::new();
    for d in 0..20 {
        for f in 0..20 {
            let rel = format!("d{d:02}/f{f:02}.txt");
            write(&tree, &rel, &rel)?;
            expect.push(rel);
        }
    }
    expect.sort();
    let config = config_file(&dir, &[])?;
    let env = s3s_env(None, &config)?;
    let b = format!("cli-nofile-{}", std::process::id());
    mb(&b, &env)?;
    let (t, dst) = (tree.to_string_lossy().into_owned(), format!("s3://{b}/p/"));
    let r = run(&["s3", "sync", &t, &dst], &env);
    ensure(r.code == 0, format!("first sync: {}", r.stderr))?;
    write(&dir, "gone.txt", "gone")?;
    let r = run(&["s3", "cp", &dir.join("gone.txt").to_string_lossy(), &format!("{dst}gone.txt")], &env);
    ensure(r.code == 0, r.stderr)?;
    // Every file newer than its object: all 400 go again.
    let later = SystemTime::now() + Duration::from_secs(3600);
    for rel in &expect {
        let f = std::fs::File::options().write(true).open(tree.join(rel)).map_err(|e| e.to_string())?;
        f.set_modified(later).map_err(|e| e.to_string())?;
    }
    // Soft and hard limit both: cirrus cannot raise it.
    let low = ["bash", "-c", "ulimit -n 110 && exec \"$@\"", "bash"];
    let r = run_via(&low, &["s3", "sync", "--delete", &t, &dst], &env)?;
    let keys = keys_under(&b, "p/", &env)?;
    ensure(keys == expect, format!("keys after the sync: {} of {} ({})", keys.len(), expect.len(), r.stderr))?;
    ensure(r.code == 0, format!("exit {}: {}", r.code, r.stderr))?;
    ensure(r.out().matches("upload: ").count() == 400, format!("{} uploads", r.out().matches("upload: ").count()))?;
    ensure(r.out().contains(&format!("delete: {dst}gone.txt")), r.out())?;
    // Down at the same limit: every object arrives.
    let down = dir.join("down");
    let r = run_via(&low, &["s3", "cp", "--recursive", &dst, &down.to_string_lossy()], &env)?;
    ensure(r.code == 0, format!("cp down: exit {}: {}", r.code, r.stderr))?;
    for rel in &expect {
        ensure(std::fs::read_to_string(down.join(rel)).map_err(|e| e.to_string())? == *rel, rel.clone())?;
    }
    rb(&b, &env)
}

/// Parts of the source tree the walk cannot see: a directory the user cannot read, a symlinked
/// directory whose target is gone (an unmounted disk), a symlink loop. `sync --delete` deletes
/// nothing beneath any of them, says so, and exits 1; what is really gone is still deleted.
fn an_unseen_part_of_the_tree_deletes_nothing() -> Result<(), Failed> {
    let dir = scratch("unseen");
    let tree = dir.join("tree");
    write(&tree, "ok/a.txt", "a")?;
    write(&tree, "locked/x.txt", "x")?;
    std::os::unix::fs::symlink(dir.join("unmounted-disk"), tree.join("mnt")).map_err(|e| e.to_string())?;
    std::os::unix::fs::symlink(&tree, tree.join("ok/loop")).map_err(|e| e.to_string())?;
    for d in [&*dir, &*tree, &*tree.join("ok")] {
        mode(d, 0o755)?;
    }
    mode(&tree.join("ok/a.txt"), 0o644)?;
    let config = config_file(&dir, &[])?;
    mode(&config, 0o644)?;
    let env = s3s_env(None, &config)?;
    let b = format!("cli-unseen-{}", std::process::id());
    mb(&b, &env)?;
    let dst = format!("s3://{b}/p/");
    // The dangling link and the loop are reported already: exit 1.
    let r = run(&["s3", "sync", &tree.to_string_lossy(), &dst], &env);
    ensure(r.code == 1 && r.stderr.contains("2 done, 0 failed, 2 skipped"), r.stderr)?;
    for (rel, body) in [("mnt/data.bin", "on the disk"), ("ok/loop/y.txt", "y"), ("gone.txt", "gone")] {
        write(&dir, "body", body)?;
        let r = run(&["s3", "cp", &dir.join("body").to_string_lossy(), &format!("{dst}{rel}")], &env);
        ensure(r.code == 0, r.stderr)?;
    }
    mode(&tree.join("locked"), 0o700)?;
    let r = run_via(unprivileged()?, &["s3", "sync", "--delete", &tree.to_string_lossy(), &dst], &env)?;
    mode(&tree.join("locked"), 0o755)?;
    let keys = keys_under(&b, "p/", &env)?;
    ensure(keys == ["locked/x.txt", "mnt/data.bin", "ok/a.txt", "ok/loop/y.txt"], format!("{keys:?} {}", r.stderr))?;
    ensure(r.code == 1, format!("exit {}: {}", r.code, r.stderr))?;
    ensure(r.out().contains(&format!("delete: {dst}gone.txt")), r.out())?;
    for held in ["locked/x.txt", "mnt/data.bin", "ok/loop/y.txt"] {
        ensure(r.stderr.contains(&format!("{dst}{held}: not deleted")), format!("{held}: {}", r.stderr))?;
    }
    ensure(r.stderr.contains("ermission denied"), r.stderr.clone())?;
    rb(&b, &env)
}

/// Deletes never go through a symlinked directory: `sync --delete` down into a folder holding
/// `link -> elsewhere` leaves `elsewhere` alone (writes through it were already refused), and
/// `mv` of a tree holding one copies what is behind it but removes nothing there.
fn deletes_never_go_through_symlinks() -> Result<(), Failed> {
    let dir = scratch("links");
    let config = config_file(&dir, &[])?;
    let env = s3s_env(None, &config)?;
    let b = format!("cli-links-{}", std::process::id());
    mb(&b, &env)?;
    write(&dir, "elsewhere/important.txt", "keep me")?;
    write(&dir, "down/stale.txt", "stale")?;
    std::os::unix::fs::symlink(dir.join("elsewhere"), dir.join("down/link")).map_err(|e| e.to_string())?;
    write(&dir, "body", "a")?;
    let r = run(&["s3", "cp", &dir.join("body").to_string_lossy(), &format!("s3://{b}/p/a.txt")], &env);
    ensure(r.code == 0, r.stderr)?;
    let down = dir.join("down").to_string_lossy().into_owned();
    let r = run(&["s3", "sync", "--delete", &format!("s3://{b}/p/"), &down], &env);
    ensure(dir.join("elsewhere/important.txt").exists(), format!("deleted through the link: {}", r.out()))?;
    ensure(!dir.join("down/stale.txt").exists() && dir.join("down/a.txt").exists(), r.out())?;
    ensure(r.code == 1 && r.stderr.contains("symlinked directory"), format!("exit {}: {}", r.code, r.stderr))?;

    write(&dir, "outside/keep.txt", "outside")?;
    write(&dir, "src/own.txt", "own")?;
    std::os::unix::fs::symlink(dir.join("outside"), dir.join("src/link")).map_err(|e| e.to_string())?;
    let r = run(&["s3", "mv", "--recursive", &dir.join("src").to_string_lossy(), &format!("s3://{b}/m/")], &env);
    ensure(dir.join("outside/keep.txt").exists(), format!("mv removed a file outside the tree: {}", r.out()))?;
    ensure(!dir.join("src/own.txt").exists(), "own.txt was not moved")?;
    ensure(keys_under(&b, "m/", &env)? == ["link/keep.txt", "own.txt"], "keys")?;
    ensure(r.code == 1 && r.stderr.contains("copied, not moved"), format!("exit {}: {}", r.code, r.stderr))?;
    rb(&b, &env)
}

/// A FIFO where a key lands, in a recursive download or a download into a folder, is refused
/// at once: opening it to write would wait for a reader that never comes.
fn a_fifo_where_a_key_lands_is_refused() -> Result<(), Failed> {
    let dir = scratch("fifo");
    let config = config_file(&dir, &[])?;
    let env = s3s_env(None, &config)?;
    let b = format!("cli-fifo-{}", std::process::id());
    mb(&b, &env)?;
    write(&dir, "body", "a")?;
    for key in ["p/a.txt", "p/b.txt"] {
        let r = run(&["s3", "cp", &dir.join("body").to_string_lossy(), &format!("s3://{b}/{key}")], &env);
        ensure(r.code == 0, r.stderr)?;
    }
    std::fs::create_dir_all(dir.join("down")).map_err(|e| e.to_string())?;
    let made = std::process::Command::new("mkfifo").arg(dir.join("down/a.txt")).status().map_err(|e| e.to_string())?;
    ensure(made.success(), "mkfifo")?;
    let down = dir.join("down").to_string_lossy().into_owned();
    for args in [
        vec!["s3", "cp", "--recursive", &format!("s3://{b}/p/"), &down],
        vec!["s3", "sync", &format!("s3://{b}/p/"), &down],
        vec!["s3", "cp", &format!("s3://{b}/p/a.txt"), &format!("{down}/")],
    ] {
        let r = run_via(&[], &args, &env)?;
        ensure(r.code == 1 && r.stderr.contains("FIFO"), format!("{args:?}: exit {}: {}", r.code, r.stderr))?;
    }
    ensure(std::fs::read(dir.join("down/b.txt")).map_err(|e| e.to_string())? == b"a", "b.txt")?;
    rb(&b, &env)
}

/// Files written just now go up; a second sync sends nothing, though s3s keeps milliseconds in
/// `LastModified` and the files were written in the same second as their upload (the fraction
/// was dropped before, so the objects looked older than their files).
fn a_second_sync_sends_nothing() -> Result<(), Failed> {
    let dir = scratch("second");
    let tree = dir.join("tree");
    for i in 0..20 {
        write(&tree, &format!("f{i}.txt"), "fresh")?;
    }
    let config = config_file(&dir, &[])?;
    let env = s3s_env(None, &config)?;
    let b = format!("cli-second-{}", std::process::id());
    mb(&b, &env)?;
    let (t, dst) = (tree.to_string_lossy().into_owned(), format!("s3://{b}/p/"));
    let r = run(&["s3", "sync", &t, &dst], &env);
    ensure(r.code == 0 && r.out().matches("upload: ").count() == 20, format!("{} {}", r.out(), r.stderr))?;
    let r = run(&["s3", "sync", &t, &dst], &env);
    ensure(r.code == 0 && r.out().is_empty(), format!("the second sync: {}", r.out()))?;
    let down = dir.join("down").to_string_lossy().into_owned();
    let r = run(&["s3", "sync", &dst, &down], &env);
    ensure(r.code == 0 && r.out().matches("download: ").count() == 20, r.out())?;
    // Uploaded with cirrus's default CRC32, which s3s-fs keeps: every download checked by it.
    ensure(r.stderr.contains("20 of 20 downloads verified (20 by stored checksum, 0 by MD5 ETag)"), r.stderr.clone())?;
    let r = run(&["s3", "sync", &dst, &down], &env);
    ensure(r.code == 0 && r.out().is_empty(), format!("the second download: {}", r.out()))?;
    rb(&b, &env)
}

/// Keys that name one local file (`p/a//b`, `p//a/b` and `p/a/b` are all `a/b`): none of them
/// is downloaded and, with `mv`, none is deleted; each is reported. `sync` neither downloads the
/// key in another form nor deletes the file it names. (moto keeps such keys apart; s3s-fs
/// stores them as one file.)
fn keys_that_name_one_file_are_all_kept() -> Result<(), Failed> {
    let dir = scratch("collide");
    let config = config_file(&dir, &[])?;
    let env = moto_env(&config)?;
    let b = format!("cli-collide-{}", std::process::id());
    mb(&b, &env)?;
    for (key, body) in [("p/a//b", "one"), ("p/a/b", "two"), ("p//a/b", "three"), ("p/c.txt", "c"), ("q/x//y", "x")] {
        write(&dir, "body", body)?;
        let r = run(&["s3", "cp", &dir.join("body").to_string_lossy(), &format!("s3://{b}/{key}")], &env);
        ensure(r.code == 0, r.stderr)?;
    }
    let down = dir.join("down");
    let r = run(&["s3", "mv", "--recursive", &format!("s3://{b}/p/"), &down.to_string_lossy()], &env);
    ensure(r.code == 1, format!("exit {}: {} {}", r.code, r.out(), r.stderr))?;
    ensure(!down.join("a/b").exists(), "one of the colliding keys was written")?;
    ensure(std::fs::read(down.join("c.txt")).map_err(|e| e.to_string())? == b"c", "c.txt")?;
    ensure(keys_under(&b, "p/", &env)? == ["/a/b", "a//b", "a/b"], "the colliding keys were not all kept")?;
    ensure(r.stderr.matches("name the same local file").count() == 3, r.stderr.clone())?;

    // sync: the local file the other form names is neither overwritten nor deleted.
    write(&dir, "down2/x/y", "mine")?;
    let down2 = dir.join("down2").to_string_lossy().into_owned();
    let r = run(&["s3", "sync", "--delete", &format!("s3://{b}/q/"), &down2], &env);
    ensure(r.code == 1 && r.stderr.contains("in another form"), format!("exit {}: {}", r.code, r.stderr))?;
    ensure(std::fs::read(dir.join("down2/x/y")).map_err(|e| e.to_string())? == b"mine", "x/y was touched")?;
    rb(&b, &env)
}

/// The source inside the destination (`s3://b/a/sub/` into `s3://b/a/`) where a copy would land
/// on a source not yet read (`a/sub/sub/y` onto `a/sub/y`): refused before anything is sent,
/// exit 2. Without such a key the same copy goes.
fn a_source_inside_its_destination_is_never_overwritten() -> Result<(), Failed> {
    let dir = scratch("overlap");
    let config = config_file(&dir, &[])?;
    let env = s3s_env(None, &config)?;
    let b = format!("cli-overlap-{}", std::process::id());
    mb(&b, &env)?;
    let mut keys = Vec::new();
    for i in 0..20 {
        keys.push(format!("a/sub/f{i:02}"));
        keys.push(format!("a/sub/sub/f{i:02}"));
    }
    keys.sort();
    for key in &keys {
        write(&dir, "body", key)?;
        let r = run(&["s3", "cp", &dir.join("body").to_string_lossy(), &format!("s3://{b}/{key}")], &env);
        ensure(r.code == 0, r.stderr)?;
    }
    for verb in ["mv", "cp"] {
        let r = run(&["s3", verb, "--recursive", &format!("s3://{b}/a/sub/"), &format!("s3://{b}/a/")], &env);
        ensure(r.code == 2 && r.stderr.contains("lies inside"), format!("{verb}: exit {}: {}", r.code, r.stderr))?;
        ensure(r.out().is_empty(), r.out())?;
    }
    let now: Vec<String> = keys_under(&b, "", &env)?;
    ensure(now == keys, format!("{now:?}"))?;
    for i in 0..20 {
        let r = run(&["s3", "cp", &format!("s3://{b}/a/sub/sub/f{i:02}"), &dir.join("got").to_string_lossy()], &env);
        ensure(r.code == 0, r.stderr)?;
        let got = std::fs::read_to_string(dir.join("got")).map_err(|e| e.to_string())?;
        ensure(got == format!("a/sub/sub/f{i:02}"), format!("overwritten: {got}"))?;
    }
    let r = run(&["s3", "rm", "--recursive", &format!("s3://{b}/a/sub/sub/")], &env);
    ensure(r.code == 0, r.stderr)?;
    let r = run(&["s3", "mv", "--recursive", &format!("s3://{b}/a/sub/"), &format!("s3://{b}/a/")], &env);
    ensure(r.code == 0 && r.out().matches("move: ").count() == 20, format!("{} {}", r.out(), r.stderr))?;
    rb(&b, &env)
}

/// A FIFO where cirrus reads a file it found on its own (the CA bundle) or a file to upload is
/// refused at once with an error that says so; before, the CA bundle waited for a writer
/// forever. A pipe the user names as an input (`fileb://<(...)`) is read as it comes.
fn a_fifo_where_a_file_is_read_is_refused() -> Result<(), Failed> {
    let dir = scratch("fifo-read");
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().map_err(|e| e.to_string())?;
    ensure(made.success(), "mkfifo")?;
    let config = config_file(&dir, &[])?;
    let mut env = s3s_env(None, &config)?;
    let b = format!("cli-fifo-read-{}", std::process::id());
    mb(&b, &env)?;
    let f = fifo.to_string_lossy().into_owned();
    let (key, dst) = (format!("fileb://{f}"), format!("s3://{b}/k"));
    write(&dir, "small", "small")?;
    let small = dir.join("small").to_string_lossy().into_owned();
    let start = std::time::Instant::now();
    let r = run_via(&[], &["s3", "cp", &f, &dst], &env)?;
    ensure(r.code == 2 && r.stderr.contains("FIFO"), format!("cp of a FIFO: exit {}: {}", r.code, r.stderr))?;
    ensure(start.elapsed() < Duration::from_secs(20), "it waited")?;
    // A named pipe with a writer, as `<(...)` gives: read.
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, b"0123456789abcdef0123456789abcdef"))
    };
    let r = run_via(&[], &["s3", "cp", "--sse-c", "AES256", "--sse-c-key", &key, &small, &dst], &env)?;
    ensure(r.code == 0, format!("a pipe with a writer as fileb://: exit {}: {}", r.code, r.stderr))?;
    writer.join().map_err(|_| "the writer panicked".to_owned())?.map_err(|e| e.to_string())?;
    let start = std::time::Instant::now();
    env.push(("AWS_CA_BUNDLE", f.clone()));
    let r = run_via(&[], &["s3", "ls"], &env)?;
    ensure(r.code != 0 && r.stderr.contains("FIFO"), format!("AWS_CA_BUNDLE: exit {}: {}", r.code, r.stderr))?;
    ensure(start.elapsed() < Duration::from_secs(20), "it waited")?;
    env.pop();
    rb(&b, &env)
}

/// `sync --checksum`: a tree rebuilt with new times and the same bytes uploads nothing (by the
/// MD5 ETag, and by the multipart ETag of a file in two 8 MiB parts), while a file changed in
/// place at the same size goes; down, a local file changed at the same size and an older time
/// (which times alone keep, as the AWS CLI does) is fetched again.
fn sync_checksum_compares_content() -> Result<(), Failed> {
    let dir = scratch("checksum");
    let tree = dir.join("tree");
    for i in 0..10 {
        write(&tree, &format!("f{i}.txt"), &format!("content {i}"))?;
    }
    let big: Vec<u8> = (0..(9u32 << 20)).map(|i| (i % 241) as u8).collect();
    std::fs::write(tree.join("big.bin"), &big).map_err(|e| e.to_string())?;
    let config = config_file(&dir, &[])?;
    let env = s3s_env(None, &config)?;
    let b = format!("cli-checksum-{}", std::process::id());
    mb(&b, &env)?;
    let (t, dst) = (tree.to_string_lossy().into_owned(), format!("s3://{b}/p/"));
    let r = run(&["s3", "sync", &t, &dst], &env);
    ensure(r.code == 0 && r.out().matches("upload: ").count() == 11, format!("{} {}", r.out(), r.stderr))?;
    // Rebuilt: every file written again, an hour newer; one changed at the same size.
    let later = SystemTime::now() + Duration::from_secs(3600);
    write(&tree, "f3.txt", "CONTENT 3")?;
    for name in std::fs::read_dir(&tree).map_err(|e| e.to_string())? {
        let p = name.map_err(|e| e.to_string())?.path();
        let f = std::fs::File::options().write(true).open(&p).map_err(|e| e.to_string())?;
        f.set_modified(later).map_err(|e| e.to_string())?;
    }
    let r = run(&["s3", "sync", "--dryrun", &t, &dst], &env);
    ensure(r.out().matches("(dryrun) upload: ").count() == 11, format!("times alone: {}", r.out()))?;
    let r = run(&["s3", "sync", "--checksum", &t, &dst], &env);
    ensure(r.code == 0, r.stderr.clone())?;
    ensure(r.out().trim() == format!("upload: {t}/f3.txt to {dst}f3.txt"), format!("--checksum sent: {}", r.out()))?;
    // Down: a local file changed at the same size, newer than its object.
    let down = dir.join("down").to_string_lossy().into_owned();
    let r = run(&["s3", "sync", &dst, &down], &env);
    ensure(r.code == 0, r.stderr.clone())?;
    write(&dir, "down/f5.txt", "CONTENT 5")?;
    let f = std::fs::File::options().write(true).open(dir.join("down/f5.txt")).map_err(|e| e.to_string())?;
    f.set_modified(SystemTime::now() - Duration::from_secs(3600)).map_err(|e| e.to_string())?;
    let r = run(&["s3", "sync", &dst, &down], &env);
    ensure(r.out().is_empty(), format!("times alone fetched: {}", r.out()))?;
    let r = run(&["s3", "sync", "--checksum", &dst, &down], &env);
    ensure(r.out().matches("download: ").count() == 1 && r.out().contains("f5.txt"), r.out())?;
    ensure(std::fs::read(dir.join("down/f5.txt")).map_err(|e| e.to_string())? == b"content 5", "f5.txt")?;
    let r = run(&["s3", "sync", "--checksum", "--size-only", &dst, &down], &env);
    ensure(r.code == 2, format!("--checksum with --size-only: {}", r.code))?;
    rb(&b, &env)
}

/// Ranged downloads check a multipart ETag with the ranges the ETag suggests, and never fail an
/// object on a wrong guess. To s3s-fs (which keeps no checksum for a multipart object):
/// - 12 MiB in 5 MiB parts (ETag `-3`): fetched in 5 MiB ranges, verified by the ETag;
/// - 9.5 MiB in 5 MiB parts (`-2`, which 8 MiB parts give too): fetched in 8 MiB ranges that do
///   not make the ETag, then read back from the disk in 5 MiB parts, which do: verified, without
///   a second download;
/// - 12 MiB in 6 MiB parts (ETag `-2`, which 8 MiB parts would give too): the 8 MiB ranges do
///   not make the ETag, a second download gives the same bytes, so the file is kept and named
///   as not verified (before this, such an object could not be downloaded at all);
/// - 30 MiB in 7 MiB parts (`-5`, no usual part size fits): named as not verified at once.
fn ranged_downloads_use_the_uploads_parts() -> Result<(), Failed> {
    let dir = scratch("unverified");
    let env = s3s_env(None, &config_file(&dir, &[])?)?;
    let b = format!("cli-unverified-{}", std::process::id());
    mb(&b, &env)?;
    let mut files = Vec::new();
    let mib = |n: u32| n << 20;
    for (name, size, part) in [
        ("five.bin", mib(12), "5MB"),
        ("nine.bin", mib(9) + mib(1) / 2, "5MB"),
        ("six.bin", mib(12), "6MB"),
        ("seven.bin", mib(30), "7MB"),
    ] {
        let data: Vec<u8> = (0..size).map(|i| (i % 227) as u8).collect();
        let path = dir.join(name);
        std::fs::write(&path, &data).map_err(|e| e.to_string())?;
        let cfg = scratch(&format!("unverified-{part}"));
        let up = s3s_env(None, &config_file(&cfg, &[("multipart_threshold", part), ("multipart_chunksize", part)])?)?;
        let r = run(&["s3", "cp", &path.to_string_lossy(), &format!("s3://{b}/p/{name}")], &up);
        ensure(r.code == 0, r.stderr.clone())?;
        files.push((name, data));
    }
    let down = dir.join("down");
    let r = run(&["s3", "cp", "--recursive", &format!("s3://{b}/p/"), &down.to_string_lossy()], &env);
    ensure(r.code == 0, format!("exit {}: {}", r.code, r.stderr))?;
    for (name, data) in &files {
        ensure(std::fs::read(down.join(name)).map_err(|e| e.to_string())? == *data, format!("{name} differs"))?;
    }
    ensure(r.stderr.contains("2 of 4 downloads verified (0 by stored checksum, 2 by MD5 ETag)"), r.stderr.clone())?;
    ensure(!r.stderr.contains("nine.bin was not verified"), r.stderr.clone())?;
    let named =
        |name: &str, why: &str| r.stderr.contains(&format!("warning: s3://{b}/p/{name} was not verified: {why}"));
    ensure(named("six.bin", "the same bytes came twice"), r.stderr.clone())?;
    ensure(named("seven.bin", "downloaded in ranges"), r.stderr.clone())?;
    ensure(!r.stderr.contains("five.bin was not verified"), r.stderr.clone())?;
    rb(&b, &env)
}

/// `sync --dryrun` over a tree with more things to report than the walk's channel holds (70
/// dangling symlinks): it ends, reporting each. Before, the walk waited for a reader that only
/// came after the plan's end.
fn a_dryrun_with_many_skips_ends() -> Result<(), Failed> {
    let dir = scratch("dryrun-skips");
    let tree = dir.join("tree");
    write(&tree, "a.txt", "a")?;
    for i in 0..70 {
        std::os::unix::fs::symlink(dir.join(format!("gone{i}")), tree.join(format!("link{i:02}")))
            .map_err(|e| e.to_string())?;
    }
    let env = s3s_env(None, &config_file(&dir, &[])?)?;
    let b = format!("cli-dryrun-skips-{}", std::process::id());
    mb(&b, &env)?;
    let r = run_via(&[], &["s3", "sync", "--dryrun", &tree.to_string_lossy(), &format!("s3://{b}/p/")], &env)?;
    ensure(r.code == 1 && r.out().contains("(dryrun) upload: "), format!("exit {}: {}", r.code, r.out()))?;
    ensure(r.stderr.matches("a symlink to nothing readable").count() == 70, r.stderr.clone())?;
    rb(&b, &env)
}

pub(crate) fn trials() -> Vec<Trial> {
    vec![
        Trial::test("nothing_lost::a_low_open_file_limit_deletes_nothing", a_low_open_file_limit_deletes_nothing),
        Trial::test(
            "nothing_lost::an_unseen_part_of_the_tree_deletes_nothing",
            an_unseen_part_of_the_tree_deletes_nothing,
        ),
        Trial::test("nothing_lost::deletes_never_go_through_symlinks", deletes_never_go_through_symlinks),
        Trial::test("nothing_lost::a_fifo_where_a_key_lands_is_refused", a_fifo_where_a_key_lands_is_refused),
        Trial::test("nothing_lost::a_second_sync_sends_nothing", a_second_sync_sends_nothing),
        Trial::test("nothing_lost::a_dryrun_with_many_skips_ends", a_dryrun_with_many_skips_ends),
        Trial::test("nothing_lost::sync_checksum_compares_content", sync_checksum_compares_content),
        Trial::test("nothing_lost::ranged_downloads_use_the_uploads_parts", ranged_downloads_use_the_uploads_parts),
        Trial::test("nothing_lost::a_fifo_where_a_file_is_read_is_refused", a_fifo_where_a_file_is_read_is_refused),
        Trial::test("nothing_lost::keys_that_name_one_file_are_all_kept", keys_that_name_one_file_are_all_kept),
        Trial::test(
            "nothing_lost::a_source_inside_its_destination_is_never_overwritten",
            a_source_inside_its_destination_is_never_overwritten,
        ),
    ]
}
