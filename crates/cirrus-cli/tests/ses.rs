//! `cirrus ses send` against the moto server kept for read-back (CIRRUS_MOTO_MAIL_URL): the
//! message moto received is parsed with mail-parser.

use crate::{cirrus, ensure, Run};
use libtest_mimic::{Failed, Trial};
use mail_parser::{MessageParser, MimeHeaders};

fn moto() -> Result<String, Failed> {
    std::env::var("CIRRUS_MOTO_MAIL_URL").map_err(|_| {
        "CIRRUS_MOTO_MAIL_URL is not set: the second moto server is not running (scripts/test starts it)".into()
    })
}

fn run(args: &[&str], moto: &str, stdin: &[u8]) -> Run {
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDCLISES"),
        ("AWS_SECRET_ACCESS_KEY", "cli-ses-secret"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", moto),
    ];
    cirrus(args, &env, stdin)
}

/// `(destinations, raw MIME)` of every message moto received.
fn received(moto: &str) -> Result<Vec<(Vec<String>, String)>, Failed> {
    let out = std::process::Command::new("curl")
        .args(["-sS", "-f", &format!("{moto}/moto-api/data.json")])
        .output()
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("moto's data.json: {e}"))?;
    let mut found = Vec::new();
    for m in v["ses"]["RawMessage"].as_array().into_iter().flatten() {
        let dest = m["destinations"].as_array().into_iter().flatten().filter_map(|d| d.as_str().map(str::to_owned));
        found.push((dest.collect(), m["raw_data"].as_str().unwrap_or_default().to_owned()));
    }
    Ok(found)
}

fn send_with_attachment() -> Result<(), Failed> {
    let moto = moto()?;
    let sender = format!("cli-{}@example.com", std::process::id());
    // Verify the sender with a signed raw call (cirrus curl), as the demo does.
    let r = run(
        &[
            "curl",
            "--service",
            "ses",
            "-H",
            "content-type: application/json",
            "-d",
            &format!(r#"{{"EmailIdentity":"{sender}"}}"#),
            &format!("{moto}/v2/email/identities"),
        ],
        &moto,
        b"",
    );
    ensure(r.code == 0, format!("CreateEmailIdentity: {} {}", r.stderr, r.out()))?;

    let dir = std::env::temp_dir().join(format!("cirrus-cli-ses-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let report = dir.join("report.csv");
    let csv = b"month,total\n2026-10,42\n";
    std::fs::write(&report, csv).map_err(|e| e.to_string())?;
    let subject = format!("Rapport mensuel {}", std::process::id());
    let r = run(
        &[
            "ses",
            "send",
            "--from",
            &format!("Zoë Ops <{sender}>"),
            "--to",
            "ann@example.com",
            "Bob <bob@example.com>",
            "--bcc",
            "audit@example.com",
            "--subject",
            &subject,
            "--text-file",
            "-",
            "--html",
            "<p>See the <b>report</b></p>",
            "--attach",
            &report.to_string_lossy(),
            "--unsubscribe",
            "https://example.com/unsub?u=1",
            "--configuration-set",
            "newsletters",
            "--tag",
            "campaign=october",
        ],
        &moto,
        b"Plain text from stdin\n",
    );
    let _ = std::fs::remove_dir_all(&dir);
    ensure(r.code == 0, format!("ses send: exit {} {}", r.code, r.stderr))?;
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).map_err(|e| format!("{e}: {}", r.out()))?;
    ensure(v["MessageId"].as_str().is_some_and(|id| !id.is_empty()), r.out())?;

    let all = received(&moto)?;
    let (dest, raw) = all
        .iter()
        .find(|(_, raw)| raw.contains(&sender))
        .ok_or_else(|| format!("moto received no message from {sender}"))?;
    for who in ["ann@example.com", "bob@example.com", "audit@example.com"] {
        ensure(dest.iter().any(|d| d == who), format!("{who} not among the destinations {dest:?}"))?;
    }
    let msg = MessageParser::default().parse(raw.as_bytes()).ok_or("moto's message does not parse as MIME")?;
    ensure(msg.subject() == Some(subject.as_str()), format!("subject {:?}", msg.subject()))?;
    ensure(msg.from().and_then(|f| f.first()).and_then(|a| a.name()) == Some("Zoë Ops"), "from's display name")?;
    ensure(msg.bcc().is_none() && !raw.to_ascii_lowercase().contains("audit@"), "the blind copy shows in the MIME")?;
    ensure(msg.body_text(0).is_some_and(|t| t.contains("Plain text from stdin")), "text body")?;
    ensure(msg.body_html(0).is_some_and(|t| t.contains("<b>report</b>")), "html body")?;
    ensure(msg.header_raw("List-Unsubscribe").is_some_and(|u| u.contains("https://example.com/unsub?u=1")), "unsub")?;
    ensure(
        msg.header_raw("List-Unsubscribe-Post").is_some_and(|u| u.trim() == "List-Unsubscribe=One-Click"),
        "one-click header",
    )?;
    let att = msg.attachments().next().ok_or("no attachment")?;
    ensure(att.attachment_name() == Some("report.csv"), format!("attachment name {:?}", att.attachment_name()))?;
    ensure(att.content_type().is_some_and(|c| c.ctype() == "text" && c.subtype() == Some("csv")), "csv type")?;
    ensure(att.contents() == csv, "the attachment does not decode to the file's bytes")
}

fn bad_input() -> Result<(), Failed> {
    let moto = moto()?;
    let base = ["ses", "send", "--from", "a@example.com", "--subject", "s"];
    let cases: &[(&[&str], &str)] = &[
        (&["--to", "b@example.com"], "no body"),
        (&["--text", "t"], "no recipient"),
        (&["--to", "not-an-address", "--text", "t"], "--to \"not-an-address\""),
        (&["--to", "b@example.com", "--text", "t", "--tag", "novalue"], "--tag \"novalue\": expected NAME=VALUE"),
        (&["--to", "b@example.com", "--text", "t", "--attach", "/nonexistent/x.pdf"], "--attach /nonexistent/x.pdf"),
        (&["--to", "b@example.com", "--text-file", "/nonexistent/body.txt"], "--text-file /nonexistent/body.txt"),
    ];
    for (extra, want) in cases {
        let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        let r = run(&args, &moto, b"");
        ensure(r.code == 2 && r.stderr.contains(want), format!("{extra:?}: exit {} {}", r.code, r.stderr))?;
    }
    // A 600 MB attachment (sparse: no disk) is refused from its size, not read into memory.
    let huge = std::env::temp_dir().join(format!("cirrus-huge-{}.bin", std::process::id()));
    std::fs::File::create(&huge).and_then(|f| f.set_len(600 << 20)).map_err(|e| e.to_string())?;
    let args: Vec<&str> = base
        .iter()
        .copied()
        .chain(["--to", "b@example.com", "--text", "t", "--attach", huge.to_str().unwrap_or("")])
        .collect();
    let r = run(&args, &moto, b"");
    let _ = std::fs::remove_file(&huge);
    ensure(r.code == 2 && r.stderr.contains("629145600 bytes") && r.stderr.contains("40 MB"), r.stderr.clone())?;
    // A sender moto never verified: SES's own refusal, named.
    let r = run(
        &["ses", "send", "--from", "stranger@example.com", "--to", "b@example.com", "--subject", "s", "--text", "t"],
        &moto,
        b"",
    );
    ensure(r.code == 1 && r.stderr.contains("SES SendEmail") && r.stderr.contains("MessageRejected"), r.stderr)
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("ses::send_with_attachment_read_back_from_moto", send_with_attachment),
        Trial::test("ses::bad_input_exits_2_and_ses_refusals_exit_1", bad_input),
    ]
}
