//! Tests of the `cirrus` binary, run as a user would: a process, its stdin, stdout, stderr and
//! exit code. `cirrus sign` is run on every request of the AWS SigV4 suite (one test per case).

// Tests are registered by hand (libtest-mimic): a test function that no list names is dead
// code, and dead code fails the build, so no test can be forgotten.
#![deny(dead_code)]

mod batch;
mod cognito;
mod globs;
mod mfa;
mod nothing_lost;
mod s3;
mod s3_addressing;
mod s3api;
mod ses;
mod sns;
mod sso;
mod transfer;
mod trust;

use libtest_mimic::{Arguments, Failed, Trial};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const AK: &str = "AKIDEXAMPLE";
const SK: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    fn header(&self, name: &str) -> Vec<String> {
        let out = self.out();
        let head = out.split("\n\n").next().unwrap_or_default().to_owned();
        head.lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim_end_matches('\r').to_owned())
            .collect()
    }
}

fn cirrus(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Run {
    let mut child = command(args, env).spawn().expect("spawn cirrus");
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for cirrus");
    let _ = writer.join();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `cirrus ARGS` with a hermetic environment (no AWS variables, profile files or IMDS of the
/// machine) plus `env`, every stream piped.
fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    command_via(&[], args, env)
}

/// Like [`command`], run through `wrapper` (e.g. `setpriv --reuid=...`) when it is not empty.
fn command_via(wrapper: &[&str], args: &[&str], env: &[(&str, &str)]) -> Command {
    let bin = env!("CARGO_BIN_EXE_cirrus");
    let mut cmd = match wrapper.split_first() {
        None => Command::new(bin),
        Some((program, rest)) => {
            let mut c = Command::new(program);
            c.args(rest).arg(bin);
            c
        }
    };
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_ENDPOINT_URL",
        "AWS_CA_BUNDLE",
        "AWS_RETRY_MODE",
        "AWS_MAX_ATTEMPTS",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
        "COGNITO_USERNAME",
        "COGNITO_PASSWORD",
        "COGNITO_USER_POOL_ID",
        "COGNITO_IDENTITY_POOL_ID",
        "COGNITO_APP_ID",
        "COGNITO_METADATA",
        "COGNITO_CREDENTIALS_FILE",
    ] {
        cmd.env_remove(k);
    }
    // Hermetic: no profile files of the machine, no instance metadata.
    cmd.env("HOME", "/nonexistent-cirrus-test-home").env("AWS_EC2_METADATA_DISABLED", "true");
    cmd.envs(env.iter().copied());
    cmd
}

fn creds() -> Vec<(&'static str, &'static str)> {
    vec![("AWS_ACCESS_KEY_ID", AK), ("AWS_SECRET_ACCESS_KEY", SK)]
}

const SUITE_ARGS: [&str; 7] = ["sign", "--service", "service", "--region", "us-east-1", "--time", "20150830T123600Z"];

fn ensure(cond: bool, what: impl Into<String>) -> Result<(), Failed> {
    if cond {
        Ok(())
    } else {
        Err(what.into().into())
    }
}

fn testdata() -> PathBuf {
    match std::env::var_os("CIRRUS_TESTDATA") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata"),
    }
}

/// Runs `cirrus sign` on one suite case's `request.txt` and compares the signature.
///
/// `cirrus sign` normalizes the path of every service but S3, as the contract says, so a case
/// with `normalize: false` must come out exactly as its `-normalized` sibling does.
///
/// Two inputs need a word: the suite's `sign_body` cases expect `X-Amz-Content-SHA256` signed,
/// which a non-S3 request gets from `cirrus sign` by carrying that header (its value is used as
/// given), so it is added to the input; and `omit_session_token` expects the token left out of
/// the signature, which is what signing without a token gives. `get-space-normalized` is signed
/// with the target the suite's signed request records (see the signer's suite test).
fn suite_case(dir: &Path, presign: bool) -> Result<(), Failed> {
    let ctx: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("context.json"))?)?;
    let mut input = std::fs::read_to_string(dir.join("request.txt"))?;
    let form = if presign { "query" } else { "header" };
    let signed = std::fs::read_to_string(dir.join(format!("{form}-signed-request.txt")))?;
    let signed_target = signed
        .lines()
        .next()
        .and_then(|l| l.split_once(' '))
        .and_then(|(_, r)| r.strip_suffix(" HTTP/1.1"))
        .unwrap_or_default();
    let signed_path = signed_target.split('?').next().unwrap_or_default();
    let req_target = input
        .lines()
        .next()
        .and_then(|l| l.split_once(' '))
        .and_then(|(_, r)| r.rsplit_once(' '))
        .map(|(t, _)| t.to_owned())
        .unwrap_or_default();
    if !req_target.starts_with(signed_path) && !req_target.contains('?') {
        input = input.replacen(&req_target, signed_path, 1);
    }
    if ctx["sign_body"].as_bool() == Some(true) && !presign {
        let (head, body) = input.split_once("\n\n").unwrap_or((&input, ""));
        let hash = cirrus::sigv4::sha256_hex(body.as_bytes());
        input = format!("{head}\nX-Amz-Content-SHA256:{hash}\n\n{body}");
    }
    let mut env = creds();
    let token = ctx["credentials"]["token"].as_str().unwrap_or_default();
    if !token.is_empty() && ctx["omit_session_token"].as_bool() != Some(true) {
        env.push(("AWS_SESSION_TOKEN", token));
    }
    let mut args = SUITE_ARGS.to_vec();
    if presign {
        args.extend(["--presign", "--expires", "3600"]);
    }
    let run = cirrus(&args, &env, input.as_bytes());
    ensure(run.code == 0, format!("exit {}: {}", run.code, run.stderr))?;
    let expect_dir = match dir.file_name().and_then(|n| n.to_str()) {
        Some(n) if ctx["normalize"].as_bool() == Some(false) => {
            dir.with_file_name(n.replace("-unnormalized", "-normalized"))
        }
        _ => dir.to_path_buf(),
    };
    let signed = std::fs::read_to_string(expect_dir.join(format!("{form}-signed-request.txt")))?;
    let expected_sig = std::fs::read_to_string(expect_dir.join(format!("{form}-signature.txt")))?.trim().to_owned();
    if presign {
        let first = run.out().lines().next().unwrap_or_default().to_owned();
        ensure(
            first.contains(&format!("&X-Amz-Signature={expected_sig} HTTP/1.1")),
            format!("{first}\nwanted signature {expected_sig} last"),
        )?;
    } else {
        let expected =
            signed.lines().find_map(|l| l.strip_prefix("Authorization:")).unwrap_or_default().trim().to_owned();
        let got = run.header("Authorization");
        ensure(got == vec![expected.clone()], format!("Authorization {got:?}, wanted {expected}"))?;
    }
    Ok(())
}

fn sign_vanilla(extra_headers: &str, env: &[(&str, &str)], args: &[&str]) -> Run {
    let input = format!("GET / HTTP/1.1\nHost:example.amazonaws.com\n{extra_headers}\n");
    let mut a = SUITE_ARGS.to_vec();
    a.extend_from_slice(args);
    cirrus(&a, env, input.as_bytes())
}

fn malformed(input: &'static [u8], message: &'static str) -> impl FnOnce() -> Result<(), Failed> {
    move || {
        let run = cirrus(&SUITE_ARGS, &creds(), input);
        ensure(run.code == 2, format!("exit {} (wanted 2): {}", run.code, run.stderr))?;
        ensure(run.stderr.lines().count() == 1, format!("stderr is not one line: {:?}", run.stderr))?;
        ensure(run.stderr.contains(message), format!("{:?} should say {message:?}", run.stderr))?;
        ensure(!run.stderr.contains("panicked"), "panicked")?;
        ensure(run.stdout.is_empty(), "printed a request anyway")
    }
}

/// Local files are checked against a limit before they are read: a request to sign, a body to
/// send, an email body and an SSE-C key file that are too large are refused from their size
/// (sparse files: nothing is allocated), and a key read from a device stops at the limit.
fn local_inputs_are_capped() -> Result<(), Failed> {
    let dir = std::env::temp_dir().join(format!("cirrus-cli-capped-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let sparse = |name: &str, size: u64| -> Result<String, Failed> {
        let path = dir.join(name);
        std::fs::File::create(&path).and_then(|f| f.set_len(size)).map_err(|e| e.to_string())?;
        Ok(path.to_string_lossy().into_owned())
    };
    let big = sparse("big", 2 << 30)?;
    let mail = sparse("mail.txt", 41 << 20)?;
    let key = sparse("key", 2048)?;
    let at_big = format!("@{big}");
    let key_file = format!("fileb://{key}");
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["sign", "--region", "us-east-1", "--service", "s3", &big],
            format!("{big}: 2147483648 bytes; at most 1073741824"),
        ),
        (vec!["--no-sign-request", "curl", "-d", &at_big, "http://127.0.0.1:9/"], "at most 1073741824".to_owned()),
        (
            vec![
                "ses",
                "send",
                "--from",
                "a@example.com",
                "--to",
                "b@example.com",
                "--subject",
                "s",
                "--text-file",
                &mail,
            ],
            "42991616 bytes; at most 41943040".to_owned(),
        ),
        (
            vec!["s3", "cp", "--sse-c", "AES256", "--sse-c-key", &key_file, &big, "s3://b/k"],
            "2048 bytes; at most 1024".to_owned(),
        ),
        (
            vec!["s3", "cp", "--sse-c", "AES256", "--sse-c-key", "fileb:///dev/zero", &big, "s3://b/k"],
            "more than the 1024 bytes allowed".to_owned(),
        ),
    ];
    for (args, words) in cases {
        let r = cirrus(&args, &creds(), b"");
        ensure(
            r.code == 2 && r.stderr.contains(&words) && !r.stderr.contains("panicked"),
            format!("{args:?}: exit {}: {}", r.code, r.stderr),
        )?;
    }
    // A settings file that is a device is read up to a limit, never whole.
    let r = cirrus(&["credentials"], &[("AWS_CONFIG_FILE", "/dev/zero")], b"");
    ensure(r.code == 2 && r.stderr.contains("/dev/zero") && r.stderr.contains("16777216"), r.stderr)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A reader that closes the pipe early gets no panic: exit 141, nothing on stderr.
fn closed_stdout_is_quiet() -> Result<(), Failed> {
    for args in [&["credentials", "--format", "env"][..], &["sign", "--region", "us-east-1", "--service", "sts"][..]] {
        // Standard output is a socket whose reader is gone before the program starts, so its
        // first write fails whenever it comes (a pipe dropped after the start races it).
        let (reader, writer) = std::os::unix::net::UnixStream::pair().map_err(|e| e.to_string())?;
        drop(reader);
        let mut child = Command::new(env!("CARGO_BIN_EXE_cirrus"))
            .args(args)
            .env("AWS_ACCESS_KEY_ID", AK)
            .env("AWS_SECRET_ACCESS_KEY", SK)
            .env("AWS_REGION", "us-east-1")
            .stdin(Stdio::piped())
            .stdout(Stdio::from(std::os::fd::OwnedFd::from(writer)))
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"GET / HTTP/1.1\nHost: example.amazonaws.com\n\n")
            .map_err(|e| e.to_string())?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        ensure(out.status.code() == Some(141) && stderr.is_empty(), format!("{args:?}: {:?} {stderr}", out.status))?;
    }
    Ok(())
}

/// Completions for each shell and the man page come from the binary's own clap definition:
/// every subcommand and a nested flag are in them.
fn completions_and_man_page() -> Result<(), Failed> {
    for (shell, marker) in [
        ("bash", "complete -F _cirrus"),
        ("zsh", "#compdef cirrus"),
        ("fish", "complete -c cirrus"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let r = cirrus(&["completions", shell], &[], b"");
        let out = r.out();
        ensure(r.code == 0 && out.contains(marker), format!("{shell}: exit {} {}", r.code, r.stderr))?;
        for word in ["presign-post", "credentials", "no-follow-symlinks", "cognito"] {
            ensure(out.contains(word), format!("{shell} completions lack {word}"))?;
        }
    }
    let r = cirrus(&["completions", "tcsh"], &[], b"");
    ensure(r.code == 2, format!("an unknown shell: exit {}", r.code))?;
    let r = cirrus(&["man"], &[], b"");
    let page = r.out();
    ensure(r.code == 0 && page.contains(".TH cirrus 1"), format!("exit {}: {}", r.code, r.stderr))?;
    for word in ["\\-\\-region", "completions", "sign"] {
        ensure(page.contains(word), format!("the man page lacks {word}"))?;
    }
    Ok(())
}

fn cli_trials() -> Vec<Trial> {
    vec![
        Trial::test("cli::completions_and_man_page_from_the_binary", completions_and_man_page),
        Trial::test("cli::closed_stdout_is_quiet", closed_stdout_is_quiet),
        Trial::test("cli::local_inputs_are_capped_before_reading", local_inputs_are_capped),
        Trial::test("sign::malformed::empty", malformed(b"", "empty input")),
        Trial::test("sign::malformed::request_line", malformed(b"GET\nHost:h\n", "line 1")),
        Trial::test("sign::malformed::no_host", malformed(b"GET / HTTP/1.1\nX-A:1\n\n", "missing Host")),
        Trial::test(
            "sign::malformed::non_utf8_header",
            malformed(b"GET / HTTP/1.1\nHost:h\nX-A:\xff\xfe\n\n", "not UTF-8"),
        ),
        Trial::test(
            "sign::malformed::header_without_colon",
            malformed(b"GET / HTTP/1.1\nHost:h\nnocolon\n\n", "line 3"),
        ),
        Trial::test("sign::malformed::bad_time", || {
            let run = cirrus(
                &["sign", "--service", "s", "--region", "r", "--time", "yesterday"],
                &creds(),
                b"GET / HTTP/1.1\nHost:h\n\n",
            );
            ensure(run.code == 2 && run.stderr.contains("YYYYMMDDTHHMMSSZ"), run.stderr)
        }),
        Trial::test("sign::no_credentials_is_an_error", || {
            let run = sign_vanilla("", &[], &[]);
            ensure(run.code == 1 && run.stderr.contains("no credentials to sign with: no source has any"), run.stderr)
        }),
        Trial::test("sign::vanilla_matches_the_sanity_value", || {
            let run = sign_vanilla("", &creds(), &[]);
            ensure(run.code == 0, &run.stderr)?;
            let auth = run.header("Authorization");
            ensure(
                auth.len() == 1
                    && auth[0].ends_with("Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
                format!("{auth:?}"),
            )
        }),
        Trial::test("sign::replaces_existing_signing_headers", || {
            let mut env = creds();
            env.push(("AWS_SESSION_TOKEN", "NEWTOKEN"));
            let run = sign_vanilla(
                "Authorization:AWS4-HMAC-SHA256 old\nX-Amz-Date:20000101T000000Z\nX-Amz-Security-Token:OLDTOKEN\n",
                &env,
                &[],
            );
            ensure(run.code == 0, &run.stderr)?;
            ensure(run.header("Authorization").len() == 1, "Authorization doubled")?;
            ensure(
                run.header("X-Amz-Date") == vec!["20150830T123600Z".to_owned()],
                format!("{:?}", run.header("X-Amz-Date")),
            )?;
            ensure(run.header("X-Amz-Security-Token") == vec!["NEWTOKEN".to_owned()], "token not replaced")?;
            ensure(
                run.header("Authorization")[0].contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"),
                "token not signed",
            )
        }),
        Trial::test("sign::date_header_takes_the_time", || {
            let run = sign_vanilla("Date:Mon, 01 Jan 2001 00:00:00 GMT\n", &creds(), &["--debug"]);
            ensure(run.code == 0, &run.stderr)?;
            ensure(
                run.header("Date") == vec!["Sun, 30 Aug 2015 12:36:00 GMT".to_owned()],
                format!("{:?}", run.header("Date")),
            )?;
            ensure(run.header("X-Amz-Date").is_empty(), "X-Amz-Date added next to Date")?;
            ensure(run.stderr.contains("date:Sun, 30 Aug 2015 12:36:00 GMT\n"), &run.stderr)?;
            ensure(run.header("Authorization")[0].contains("SignedHeaders=date;host,"), "date not signed")
        }),
        Trial::test("sign::unsigned_headers_are_left_out", || {
            let run = sign_vanilla(
                "User-Agent:curl/8\nX-Amzn-Trace-Id:Root=1\nExpect:100-continue\nConnection:keep-alive\ntraceparent:00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\nX-Custom:a\n",
                &creds(),
                &[],
            );
            ensure(run.code == 0, &run.stderr)?;
            let auth = &run.header("Authorization")[0];
            ensure(auth.contains("SignedHeaders=host;x-amz-date;x-custom,"), auth.clone())?;
            ensure(run.header("User-Agent") == vec!["curl/8".to_owned()], "User-Agent not passed through")
        }),
        Trial::test("sign::debug_prints_canonical_request_and_string_to_sign", || {
            let run = sign_vanilla("", &creds(), &["--debug"]);
            ensure(
                run.stderr.contains(
                    "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c442",
                ),
                &run.stderr,
            )?;
            ensure(
                run.stderr.contains("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"),
                &run.stderr,
            )?;
            ensure(!run.stderr.contains(SK), "secret printed")
        }),
        Trial::test("sign::s3_rules", || {
            let input = b"PUT /my bucket//a/../b+c.txt HTTP/1.1\nHost:examplebucket.s3.amazonaws.com\n\nhello";
            let run =
                cirrus(&["sign", "--region", "us-east-1", "--time", "20130524T000000Z", "--debug"], &creds(), input);
            ensure(run.code == 0, &run.stderr)?;
            ensure(run.stderr.contains("PUT\n/my%20bucket//a/../b%2Bc.txt\n"), &run.stderr)?;
            let sha = cirrus::sigv4::sha256_hex(b"hello");
            ensure(run.header("X-Amz-Content-SHA256") == vec![sha], "payload hash header")?;
            ensure(run.out().ends_with("\n\nhello"), "body not passed through")
        }),
        Trial::test("sign::s3_presign_is_unsigned_payload", || {
            let input = b"GET /test.txt HTTP/1.1\nHost:examplebucket.s3.amazonaws.com\n\n";
            let run = cirrus(
                &["sign", "--region", "us-east-1", "--time", "20130524T000000Z", "--presign", "--expires", "86400"],
                &creds(),
                input,
            );
            ensure(run.code == 0, &run.stderr)?;
            // The S3 API reference's presigned URL example.
            ensure(run.out().starts_with("GET /test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="), run.out())?;
            ensure(run.header("Authorization").is_empty(), "presign printed Authorization")
        }),
        Trial::test("sign::unsigned_payload_flag", || {
            let run = cirrus(
                &["sign", "--service", "service", "--region", "us-east-1", "--unsigned-payload", "--debug"],
                &creds(),
                b"POST / HTTP/1.1\nHost:h\n\nbody",
            );
            ensure(run.code == 0 && run.stderr.contains("\nhost;x-amz-date\nUNSIGNED-PAYLOAD\n"), &run.stderr)
        }),
        Trial::test("sign::given_content_sha256_is_used_as_given", || {
            let run = cirrus(&["sign", "--region", "us-east-1", "--debug"], &creds(), b"PUT /k HTTP/1.1\nHost:b.s3.amazonaws.com\nX-Amz-Content-SHA256:STREAMING-UNSIGNED-PAYLOAD-TRAILER\n\n");
            ensure(run.code == 0, &run.stderr)?;
            ensure(
                run.header("X-Amz-Content-SHA256") == vec!["STREAMING-UNSIGNED-PAYLOAD-TRAILER".to_owned()],
                run.out(),
            )?;
            ensure(run.stderr.contains("\nSTREAMING-UNSIGNED-PAYLOAD-TRAILER\n----"), &run.stderr)
        }),
        Trial::test("sign::crlf_input_gives_crlf_output", || {
            let run = cirrus(&SUITE_ARGS, &creds(), b"GET / HTTP/1.1\r\nHost:example.amazonaws.com\r\n\r\n");
            ensure(run.code == 0, &run.stderr)?;
            ensure(run.out().starts_with("GET / HTTP/1.1\r\nHost:example.amazonaws.com\r\n"), run.out())?;
            ensure(
                run.out()
                    .contains("Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\r\n\r\n"),
                run.out(),
            )
        }),
        Trial::test("sign::reads_a_file_argument", || {
            let p = std::env::temp_dir().join(format!("cirrus-sign-{}.req", std::process::id()));
            std::fs::write(&p, "GET / HTTP/1.1\nHost:example.amazonaws.com\n")?;
            let mut args = SUITE_ARGS.to_vec();
            let ps = p.to_string_lossy().into_owned();
            args.push(&ps);
            let run = cirrus(&args, &creds(), b"");
            let _ = std::fs::remove_file(&p);
            ensure(run.code == 0 && run.out().contains("Signature=5fa00fa3"), run.stderr)
        }),
    ]
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = cli_trials();
    trials.extend(service_trials());
    trials.extend(s3::trials());
    trials.extend(s3_addressing::trials());
    trials.extend(s3api::trials());
    trials.extend(transfer::trials());
    trials.extend(batch::trials());
    trials.extend(globs::trials());
    trials.extend(nothing_lost::trials());
    trials.extend(ses::trials());
    trials.extend(sns::trials());
    trials.extend(cognito::trials());
    trials.extend(sso::trials());
    trials.extend(mfa::trials());
    trials.extend(trust::trials());
    let root = testdata().join("sigv4/v4");
    let mut dirs: Vec<PathBuf> = match std::fs::read_dir(&root) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("context.json").exists()).collect(),
        Err(e) => {
            eprintln!("the SigV4 suite is missing at {}: {e}", root.display());
            std::process::exit(1);
        }
    };
    dirs.sort();
    let n = dirs.len();
    trials.push(Trial::test("sign::suite::complete", move || ensure(n >= 38, format!("only {n} cases"))));
    for dir in dirs {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let d = dir.clone();
        trials.push(Trial::test(format!("sign::suite::{name}::header"), move || suite_case(&d, false)));
        trials.push(Trial::test(format!("sign::suite::{name}::query"), move || suite_case(&dir, true)));
    }
    libtest_mimic::run(&args, trials).exit();
}

/// The moto server scripts/test starts; missing is a failure.
fn moto() -> Result<String, Failed> {
    std::env::var("CIRRUS_MOTO_URL")
        .map_err(|_| "CIRRUS_MOTO_URL is not set: moto server is not running (scripts/test starts it)".into())
}

const SECRET: &str = "SECRETMUSTNEVERBEPRINTED0000000000000000";
const TOKEN: &str = "TOKENMUSTNEVERBEPRINTED/with+special=chars";

fn aws_env(moto: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "AKIDCLITEST".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", SECRET.to_owned()),
        ("AWS_SESSION_TOKEN", TOKEN.to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL", moto.to_owned()),
    ]
}

fn run_with(args: &[&str], env: &[(&'static str, String)]) -> Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    cirrus(args, &env, b"")
}

/// `configure set/get/list-profiles`: the AWS CLI's files, in the AWS CLI's layout, and what
/// was set is what the credential chain then reads.
fn configure_set_get_list() -> Result<(), Failed> {
    let home = std::env::temp_dir().join(format!("cirrus-cli-configure-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let h = home.to_string_lossy().into_owned();
    let env = [("HOME", h.as_str()), ("AWS_EC2_METADATA_DISABLED", "true")];
    let ok = |args: &[&str]| {
        let r = cirrus(args, &env, b"");
        ensure(r.code == 0, format!("{args:?}: exit {} {}", r.code, r.stderr)).map(|()| r)
    };
    ok(&["configure", "set", "region", "eu-west-1"])?;
    ok(&["--profile", "dev", "configure", "set", "aws_access_key_id", "AKIDCONFIGURED"])?;
    ok(&["--profile", "dev", "configure", "set", "aws_secret_access_key", "configured-secret"])?;
    ok(&["--profile", "dev", "configure", "set", "region", "us-west-2"])?;
    ok(&["--profile", "dev", "configure", "set", "s3.max_concurrent_requests", "64"])?;
    let config = std::fs::read_to_string(home.join(".aws/config")).map_err(|e| e.to_string())?;
    let want =
        "[default]\nregion = eu-west-1\n\n[profile dev]\nregion = us-west-2\ns3 =\n  max_concurrent_requests = 64\n";
    ensure(config == want, config.clone())?;
    let creds = std::fs::read_to_string(home.join(".aws/credentials")).map_err(|e| e.to_string())?;
    ensure(creds == "[dev]\naws_access_key_id = AKIDCONFIGURED\naws_secret_access_key = configured-secret\n", creds)?;
    ensure(ok(&["--profile", "dev", "configure", "get", "region"])?.out() == "us-west-2\n", "get region")?;
    ensure(ok(&["--profile", "dev", "configure", "get", "s3.max_concurrent_requests"])?.out() == "64\n", "get s3")?;
    let missing = cirrus(&["--profile", "dev", "configure", "get", "output"], &env, b"");
    ensure(missing.code == 1 && missing.out().is_empty() && missing.stderr.is_empty(), missing.stderr)?;
    ensure(ok(&["configure", "list-profiles"])?.out() == "default\ndev\n", "list-profiles")?;
    let c = ok(&["--profile", "dev", "credentials", "--format", "json"])?;
    ensure(c.out().contains("AKIDCONFIGURED"), c.out())?;
    // `configure list`: each setting, where it comes from, no secret.
    let l = ok(&["--profile", "dev", "configure", "list"])?.out();
    ensure(l.lines().any(|x| x.split_whitespace().eq(["profile", "dev", "manual", "--profile"])), l.clone())?;
    let key = l.lines().find(|x| x.trim_start().starts_with("access_key")).unwrap_or_default();
    ensure(key.contains("****************URED") && key.contains("shared-credentials-file"), l.clone())?;
    let region = l.lines().find(|x| x.trim_start().starts_with("region")).unwrap_or_default();
    ensure(
        region.contains("us-west-2") && region.contains("config-file") && region.contains(".aws/config"),
        l.clone(),
    )?;
    ensure(!l.contains("configured-secret") && !l.contains("ured-secret"), l.clone())?;
    let bad = cirrus(&["configure", "set", "region", "x\n[evil]"], &env, b"");
    ensure(
        bad.code == 2 && !std::fs::read_to_string(home.join(".aws/config")).unwrap_or_default().contains("evil"),
        bad.stderr,
    )?;
    let _ = std::fs::remove_dir_all(&home);
    Ok(())
}

/// `configure` alone, answered from standard input as a script would: the four questions of
/// `aws configure`, the current values shown masked, an empty answer keeping what is set.
fn configure_asks_for_keys() -> Result<(), Failed> {
    let home = std::env::temp_dir().join(format!("cirrus-cli-configure-ask-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let h = home.to_string_lossy().into_owned();
    let env = [("HOME", h.as_str()), ("AWS_EC2_METADATA_DISABLED", "true")];
    let first = cirrus(&["configure"], &env, b"AKIDASKED0001\nasked-secret\neu-north-1\n\n");
    ensure(first.code == 0, first.stderr.clone())?;
    ensure(first.stderr.contains("AWS Access Key ID [None]: ") && first.out().is_empty(), first.stderr.clone())?;
    let creds = std::fs::read_to_string(home.join(".aws/credentials")).map_err(|e| e.to_string())?;
    ensure(
        creds == "[default]\naws_access_key_id = AKIDASKED0001\naws_secret_access_key = asked-secret\n",
        creds.clone(),
    )?;
    let config = std::fs::read_to_string(home.join(".aws/config")).map_err(|e| e.to_string())?;
    ensure(config == "[default]\nregion = eu-north-1\n", config)?;
    // Again: what is set is shown (the key's last four characters, nothing of the secret), and
    // empty answers keep it; input that ends early answers nothing more.
    let again = cirrus(&["configure"], &env, b"\n\nus-west-2\n");
    ensure(again.code == 0, again.stderr.clone())?;
    ensure(
        again.stderr.contains("AWS Access Key ID [****************0001]")
            && again.stderr.contains("AWS Secret Access Key [****************]")
            && again.stderr.contains("Default region name [eu-north-1]")
            && !again.stderr.contains("secret"),
        again.stderr.clone(),
    )?;
    let creds_after = std::fs::read_to_string(home.join(".aws/credentials")).map_err(|e| e.to_string())?;
    ensure(creds_after == creds, creds_after)?;
    let config = std::fs::read_to_string(home.join(".aws/config")).map_err(|e| e.to_string())?;
    ensure(config == "[default]\nregion = us-west-2\n", config)?;
    // A named profile, and the credentials it gives.
    let dev = cirrus(&["--profile", "dev", "configure"], &env, b"AKIDDEV\ndev-secret\n\njson\n");
    ensure(dev.code == 0, dev.stderr)?;
    let c = cirrus(&["--profile", "dev", "credentials", "--format", "json"], &env, b"");
    ensure(c.code == 0 && c.out().contains("AKIDDEV"), c.stderr)?;
    let _ = std::fs::remove_dir_all(&home);
    Ok(())
}

/// `sts` JSON byte for byte as the AWS CLI v2 (Debian's, /usr/bin/aws) prints it for the same
/// moto: key order, four-space indent; assume-role's keys in its order and times as it writes them.
fn sts_json_as_the_aws_cli() -> Result<(), Failed> {
    let moto = moto()?;
    let aws = "/usr/bin/aws";
    ensure(std::path::Path::new(aws).exists(), "the AWS CLI v2 is not at /usr/bin/aws (Debian's awscli package)")?;
    let env = aws_env(&moto);
    let theirs = |args: &[&str]| -> Result<String, Failed> {
        let out = Command::new(aws)
            .args(["--endpoint-url", moto.as_str()])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::temp_dir())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .map_err(|e| e.to_string())?;
        ensure(out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let ours = run_with(&["sts", "get-caller-identity"], &env);
    ensure(ours.code == 0, ours.stderr.clone())?;
    let want = theirs(&["sts", "get-caller-identity"])?;
    ensure(ours.out() == want, format!("cirrus:\n{}\naws:\n{want}", ours.out()))?;
    // Credentials differ on each call: the layout is compared with the values blanked.
    let shape = |text: &str| -> String {
        text.lines()
            .map(|l| match l.split_once(": ") {
                Some((key, value)) if value.starts_with('"') => format!("{key}: \"\""),
                _ => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let role =
        ["sts", "assume-role", "--role-arn", "arn:aws:iam::123456789012:role/deploy", "--role-session-name", "ci"];
    let ours = run_with(&role, &env);
    ensure(ours.code == 0, ours.stderr.clone())?;
    // moto adds PackedPolicySize, which AWS sends only for a session policy.
    let want = theirs(&role)?.replace(",\n    \"PackedPolicySize\": 6", "");
    ensure(shape(&ours.out()) == shape(&want), format!("cirrus:\n{}\naws:\n{want}", ours.out()))?;
    let expiration = ours.out().lines().find(|l| l.contains("\"Expiration\"")).unwrap_or_default().to_owned();
    ensure(expiration.ends_with("+00:00\""), expiration)
}

fn service_trials() -> Vec<Trial> {
    vec![
        Trial::test("configure::set_get_list_as_the_aws_cli", configure_set_get_list),
        Trial::test("configure::asks_for_keys_as_the_aws_cli", configure_asks_for_keys),
        Trial::test("sts::json_as_the_aws_cli_prints_it", sts_json_as_the_aws_cli),
        Trial::test("sts::assume_role_and_get_session_token_as_the_aws_cli_prints_them", || {
            let env = aws_env(&moto()?);
            let role = "arn:aws:iam::123456789012:role/deploy";
            let run = run_with(&["sts", "assume-role", "--role-arn", role, "--role-session-name", "ci"], &env);
            ensure(run.code == 0, run.stderr.clone())?;
            let v: serde_json::Value = serde_json::from_slice(&run.stdout).map_err(|e| e.to_string())?;
            let c = &v["Credentials"];
            ensure(c["AccessKeyId"].as_str().is_some_and(|k| k.len() >= 16), run.out())?;
            ensure(c["SessionToken"].as_str().is_some_and(|t| !t.is_empty()), run.out())?;
            ensure(c["Expiration"].as_str().is_some_and(|t| t.ends_with("+00:00")), run.out())?;
            let arn = v["AssumedRoleUser"]["Arn"].as_str().unwrap_or_default();
            ensure(arn.ends_with(":assumed-role/deploy/ci"), run.out())?;
            let run = run_with(&["--output", "text", "sts", "get-session-token", "--duration-seconds", "900"], &env);
            ensure(run.code == 0 && run.out().starts_with("CREDENTIALS\t"), run.out())?;
            ensure(run.out().trim_end().split('\t').count() == 5, run.out())?;
            // An MFA code without its device is refused before anything is sent.
            let run = run_with(&["sts", "get-session-token", "--token-code", "123456"], &env);
            ensure(run.code == 2 && run.stderr.contains("--serial-number"), run.stderr)
        }),
        Trial::test("sts::whoami_json_and_text", || {
            let env = aws_env(&moto()?);
            let run = run_with(&["sts", "whoami"], &env);
            ensure(run.code == 0, run.stderr.clone())?;
            let v: serde_json::Value = serde_json::from_slice(&run.stdout).map_err(|e| e.to_string())?;
            ensure(
                v["Account"] == "123456789012" && v["Arn"].as_str().is_some_and(|a| a.starts_with("arn:aws:")),
                run.out(),
            )?;
            let run = run_with(&["--output", "text", "sts", "whoami"], &env);
            ensure(run.code == 0 && run.out().starts_with("123456789012\tarn:aws:"), run.out())?;
            // The AWS CLI's name for it.
            let run = run_with(&["--output", "text", "sts", "get-caller-identity"], &env);
            ensure(run.code == 0 && run.out().starts_with("123456789012\tarn:aws:"), run.out())
        }),
        Trial::test("sts::whoami_without_region_is_exit_2", || {
            let mut env = aws_env(&moto()?);
            env.retain(|(k, _)| *k != "AWS_REGION");
            let run = run_with(&["sts", "whoami"], &env);
            ensure(run.code == 2 && run.stderr.contains("no region"), run.stderr)
        }),
        Trial::test("credentials::formats", || {
            let env = aws_env(&moto()?);
            let run = run_with(&["credentials", "--format", "process"], &env);
            let v: serde_json::Value =
                serde_json::from_slice(&run.stdout).map_err(|e| format!("{e}: {}", run.stderr))?;
            ensure(
                v["Version"] == 1
                    && v["AccessKeyId"] == "AKIDCLITEST"
                    && v["SecretAccessKey"] == SECRET
                    && v["SessionToken"] == TOKEN,
                run.out(),
            )?;
            let run = run_with(&["credentials", "--format", "env"], &env);
            ensure(
                run.out().contains("export AWS_ACCESS_KEY_ID='AKIDCLITEST'\n")
                    && run.out().contains(&format!("export AWS_SESSION_TOKEN='{TOKEN}'")),
                run.out(),
            )?;
            let run = run_with(&["credentials", "--format", "json"], &env);
            let v: serde_json::Value = serde_json::from_slice(&run.stdout).map_err(|e| e.to_string())?;
            ensure(v["Provider"] == "environment" && v.get("Version").is_none(), run.out())
        }),
        Trial::test("credentials::shell_formats_of_the_aws_cli", || {
            let env = aws_env(&moto()?);
            for (format, want) in [
                ("env-no-export", format!("AWS_ACCESS_KEY_ID='AKIDCLITEST'\nAWS_SECRET_ACCESS_KEY='{SECRET}'\n")),
                (
                    "powershell",
                    format!("$Env:AWS_ACCESS_KEY_ID='AKIDCLITEST'\n$Env:AWS_SECRET_ACCESS_KEY='{SECRET}'\n"),
                ),
                ("windows-cmd", format!("set AWS_ACCESS_KEY_ID=AKIDCLITEST\nset AWS_SECRET_ACCESS_KEY={SECRET}\n")),
                (
                    "fish",
                    format!("set -gx AWS_ACCESS_KEY_ID 'AKIDCLITEST'\nset -gx AWS_SECRET_ACCESS_KEY '{SECRET}'\n"),
                ),
            ] {
                let run = run_with(&["credentials", "--format", format], &env);
                ensure(
                    run.code == 0 && run.out().starts_with(&want),
                    format!("{format}: {}{}", run.out(), run.stderr),
                )?;
                ensure(run.out().contains(TOKEN), format!("{format}: no session token"))?;
            }
            Ok(())
        }),
        Trial::test("credentials::explicit_profile_beats_the_environment", || {
            let moto = moto()?;
            let dir = std::env::temp_dir().join(format!("cirrus-precedence-{}", std::process::id()));
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let cfg = dir.join("config");
            std::fs::write(
                &cfg,
                "[profile dev]\naws_access_key_id = AKIDPROFILEDEV\naws_secret_access_key = devsecret\n",
            )
            .map_err(|e| e.to_string())?;
            let mut env = aws_env(&moto);
            env.push(("AWS_CONFIG_FILE", cfg.to_string_lossy().into_owned()));
            // --profile: the profile's keys, not the environment's.
            let run = run_with(&["--profile", "dev", "credentials", "--format", "json"], &env);
            ensure(
                run.out().contains("\"AKIDPROFILEDEV\"") && run.out().contains("\"profile\""),
                run.out() + &run.stderr,
            )?;
            let run = run_with(&["--profile", "dev", "credentials", "--explain"], &env);
            ensure(
                run.out().contains("environment  skipped: the profile `dev` was named explicitly")
                    && run.out().contains("profile      used"),
                run.out(),
            )?;
            // AWS_PROFILE: environment credentials stay first, as in botocore.
            env.push(("AWS_PROFILE", "dev".to_owned()));
            let run = run_with(&["credentials", "--format", "json"], &env);
            ensure(run.out().contains("\"AKIDCLITEST\"") && run.out().contains("\"environment\""), run.out())?;
            // A profile named explicitly that does not exist: exit 2, named, even with keys in the environment.
            let run = run_with(&["--profile", "nope", "sts", "whoami"], &env);
            let _ = std::fs::remove_dir_all(&dir);
            ensure(
                run.code == 2 && run.stderr.contains("the profile `nope` was asked for") && run.stdout.is_empty(),
                format!("exit {}: {}", run.code, run.stderr),
            )
        }),
        Trial::test("global::through_a_proxy_to_a_private_ca", || {
            let var = |n: &str| {
                std::env::var(n).map_err(|_| format!("{n} is not set: scripts/test starts tinyproxy and stunnel"))
            };
            let (tls, ca, proxy) = (var("CIRRUS_TLS_URL")?, var("CIRRUS_TLS_CA")?, var("CIRRUS_AUTH_PROXY_URL")?);
            let mut env = aws_env(&tls);
            env.push(("AWS_CA_BUNDLE", ca));
            env.push(("HTTPS_PROXY", proxy.replacen("http://", "http://alice:proxy-secret-1@", 1)));
            let run = run_with(&["sts", "whoami"], &env);
            ensure(run.code == 0 && run.out().contains("123456789012"), format!("{}{}", run.out(), run.stderr))?;
            // Wrong proxy credentials: exit 1, the proxy's answer, no password.
            env.pop();
            env.push(("HTTPS_PROXY", proxy.replacen("http://", "http://alice:wrong-pw-9@", 1)));
            let run = run_with(&["sts", "whoami"], &env);
            ensure(
                run.code == 1
                    && run.stderr.contains("the proxy refused its credentials")
                    && !run.stderr.contains("wrong-pw-9"),
                format!("exit {}: {}", run.code, run.stderr),
            )?;
            // No bundle: the test CA is not trusted.
            env.retain(|(k, _)| *k != "AWS_CA_BUNDLE");
            env.pop();
            let run = run_with(&["sts", "whoami"], &env);
            ensure(run.code == 1 && run.stderr.contains("certificate"), format!("exit {}: {}", run.code, run.stderr))
        }),
        Trial::test("global::cli_timeouts", || {
            let env = aws_env(&moto()?);
            let run = run_with(&["--cli-connect-timeout", "5", "--cli-read-timeout", "0", "sts", "whoami"], &env);
            ensure(run.code == 0 && run.out().contains("123456789012"), run.stderr)?;
            let run = run_with(&["--cli-read-timeout", "soon", "sts", "whoami"], &env);
            ensure(run.code == 2 && run.stderr.contains("is not a number of seconds"), run.stderr)?;
            // Retry settings from the environment: used, and checked.
            let mut env = env;
            env.push(("AWS_RETRY_MODE", "adaptive".to_owned()));
            env.push(("AWS_MAX_ATTEMPTS", "5".to_owned()));
            let run = run_with(&["sts", "whoami"], &env);
            ensure(run.code == 0, run.stderr)?;
            env.pop();
            env.push(("AWS_MAX_ATTEMPTS", "many".to_owned()));
            let run = run_with(&["sts", "whoami"], &env);
            ensure(run.code == 2 && run.stderr.contains("\"many\" (from AWS_MAX_ATTEMPTS)"), run.stderr)
        }),
        Trial::test("credentials::explain_names_the_winner_and_the_rest", || {
            let run = run_with(&["credentials", "--explain"], &aws_env(&moto()?));
            let out = run.out();
            ensure(
                run.code == 0 && out.contains("environment  used") && out.contains("imds         not tried"),
                out.clone(),
            )?;
            ensure(out.contains("access key   AKIDCLITEST from environment") && !out.contains(SECRET), out.clone())?;
            // A profile named by AWS_PROFILE that is nowhere: its own error, nothing explained.
            let run = cirrus(&["credentials", "--explain"], &[("AWS_PROFILE", "dev")], b"");
            ensure(run.code == 2 && run.stderr.contains("the profile `dev` is named by AWS_PROFILE"), run.stderr)?;
            let run = cirrus(&["credentials", "--explain"], &[], b"");
            let out = run.out();
            ensure(run.code == 1, format!("exit {}", run.code))?;
            ensure(out.contains("environment  skipped: AWS_ACCESS_KEY_ID not set"), out.clone())?;
            ensure(
                out.contains(
                    "profile      skipped: profile `default` not found in /nonexistent-cirrus-test-home/.aws/config",
                ),
                out.clone(),
            )?;
            // Each source is said once: on standard output, not again in the error.
            ensure(!run.stderr.contains("AWS_ACCESS_KEY_ID not set"), run.stderr.clone())?;
            ensure(out.contains("imds         skipped: AWS_EC2_METADATA_DISABLED is true"), out)
        }),
        Trial::test("curl::signs_and_sends", || {
            let moto = moto()?;
            let env = aws_env(&moto);
            let url = format!("{moto}/");
            let run = run_with(
                &[
                    "curl",
                    "--service",
                    "sts",
                    "-i",
                    "-H",
                    "Content-Type: application/x-www-form-urlencoded",
                    "-d",
                    "Action=GetCallerIdentity&Version=2011-06-15",
                    &url,
                ],
                &env,
            );
            ensure(
                run.code == 0 && run.out().contains("200 OK") && run.out().contains("<GetCallerIdentityResult>"),
                format!("{}{}", run.out(), run.stderr),
            )
        }),
        Trial::test("debug_output_never_shows_secrets", || {
            let moto = moto()?;
            let env = aws_env(&moto);
            let url = format!("{moto}/");
            let runs = [
                run_with(&["--debug", "sts", "whoami"], &env),
                run_with(&["--debug", "credentials", "--explain"], &env),
                run_with(
                    &["--debug", "curl", "--service", "sts", "-d", "Action=GetCallerIdentity&Version=2011-06-15", &url],
                    &env,
                ),
            ];
            for run in &runs {
                let all = format!("{}{}", run.out(), run.stderr);
                ensure(run.code == 0, all.clone())?;
                ensure(
                    run.stderr.contains("TRACE") || run.stderr.contains("DEBUG"),
                    format!("no tracing output: {}", run.stderr),
                )?;
                for secret in [SECRET, TOKEN, "Signature=", "TOKENMUSTNEVER"] {
                    ensure(!all.contains(secret), format!("{secret} appears in:\n{all}"))?;
                }
            }
            // `sign --debug` prints the canonical request on stderr: the token is redacted there.
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let run =
                cirrus(&["--debug", "sign", "--service", "sts"], &env, b"GET / HTTP/1.1\nHost: sts.amazonaws.com\n\n");
            ensure(run.code == 0 && run.stderr.contains("canonical request"), run.stderr.clone())?;
            ensure(!run.stderr.contains("TOKENMUSTNEVER") && !run.stderr.contains(SECRET), run.stderr)
        }),
    ]
}
