//! SES v2 against moto server: the message is read back from moto (`/moto-api/data.json`) and
//! parsed with mail-parser, so the MIME structure, both bodies, the attachment bytes, the
//! display names, the unsubscribe headers and the blind copies are checked as a mail client
//! would see them.

use crate::common::{block_on, ctx_with, trial};
use crate::ensure;
use cirrus::credentials::StaticCredentials;
use cirrus::loader::{ConfigLoader, CredentialsChoice};
use cirrus::ses::{Email, Mailbox, SendOptions, SesClient};
use libtest_mimic::Trial;
use mail_parser::{MessageParser, MimeHeaders};
use std::sync::Arc;

/// The moto server kept for tests that read back what it received (see scripts/test).
fn moto() -> Result<String, String> {
    std::env::var("CIRRUS_MOTO_MAIL_URL").map_err(|_| {
        "CIRRUS_MOTO_MAIL_URL is not set: the second moto server is not running (scripts/test starts it)".into()
    })
}

fn client() -> Result<SesClient, String> {
    let config = ConfigLoader::new(ctx_with(&[]))
        .region(Some("us-east-1"))
        .endpoint_url(Some(&moto()?))
        .credentials(CredentialsChoice::Provider(Arc::new(StaticCredentials::new("AKIDMOTO", "moto-secret", None))))
        .load()
        .map_err(|e| e.to_string())?;
    SesClient::new(&config).map_err(|e| e.to_string())
}

fn parse(raw: &str) -> Option<mail_parser::Message<'_>> {
    MessageParser::default().parse(raw.as_bytes())
}

/// The raw messages moto received: `(destinations, raw MIME)`.
fn sent_by_moto() -> Result<Vec<(Vec<String>, String)>, String> {
    let url = format!("{}/moto-api/data.json", moto()?);
    let out = std::process::Command::new("curl").args(["-sS", "-f", &url]).output().map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("moto's data.json: {e}; curl said {}", String::from_utf8_lossy(&out.stderr).trim()))?;
    let mut found = Vec::new();
    for m in v["ses"]["RawMessage"].as_array().into_iter().flatten() {
        let dest = m["destinations"].as_array().into_iter().flatten().filter_map(|d| d.as_str().map(str::to_owned));
        found.push((dest.collect(), m["raw_data"].as_str().unwrap_or_default().to_owned()));
    }
    Ok(found)
}

fn send_and_read_back() -> Result<(), String> {
    let ses = client()?;
    let png: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let csv = b"id,name\n1,Zo\xc3\xab\n".to_vec();
    let marker = format!("run-{}", std::process::id());
    let email = Email::new(Mailbox::new("Zoë Sender", "sender@example.com"), format!("Grüße ✓ {marker}"))
        .to(Mailbox::new("Ann Lee", "ann@example.com"))
        .cc("carl@example.com")
        .bcc("hidden@example.com")
        .reply_to("replies@example.com")
        .text("Hello in plain text")
        .html("<p>Hello in <b>HTML</b> <img src=\"cid:logo\"></p>")
        .attach("report.csv", csv.clone())
        .inline("logo", "logo.png", png.clone())
        .unsubscribe("https://example.com/unsubscribe?u=42")
        .header("X-Campaign", "november");
    block_on(async {
        ses.create_email_identity("sender@example.com").await.map_err(|e| e.to_string())?;
        let id = ses
            .send(&email, &SendOptions::configuration_set("marketing").with_tag("campaign", "nov"))
            .await
            .map_err(|e| e.to_string())?;
        ensure!(!id.is_empty(), "empty message id");
        Ok::<_, String>(())
    })?;
    let sent = sent_by_moto()?;
    // The subject is RFC 2047-encoded in the raw message: find ours by its parsed subject.
    let (dest, raw) = sent
        .iter()
        .find(|(_, raw)| parse(raw).is_some_and(|m| m.subject().is_some_and(|s| s.contains(&marker))))
        .ok_or("moto holds no such message")?;
    // moto adds the header recipients to the ones the request names; bcc is only in the latter.
    ensure!(dest.iter().any(|d| d == "hidden@example.com"), "bcc not delivered: {dest:?}");
    ensure!(!raw.contains("hidden@example.com") && !raw.to_ascii_lowercase().contains("\nbcc:"), "bcc in the headers");
    let msg = parse(raw).ok_or("mail-parser cannot read the message")?;
    ensure!(msg.subject() == Some(&format!("Grüße ✓ {marker}")[..]), "{:?}", msg.subject());
    let from = msg.from().and_then(|a| a.first()).ok_or("no From")?;
    ensure!(from.name() == Some("Zoë Sender") && from.address() == Some("sender@example.com"), "{from:?}");
    let to = msg.to().and_then(|a| a.first()).ok_or("no To")?;
    ensure!(to.name() == Some("Ann Lee"), "{to:?}");
    ensure!(msg.cc().and_then(|a| a.first()).and_then(|a| a.address()) == Some("carl@example.com"), "cc");
    ensure!(
        msg.reply_to().and_then(|a| a.first()).and_then(|a| a.address()) == Some("replies@example.com"),
        "reply-to"
    );
    ensure!(msg.body_text(0).as_deref() == Some("Hello in plain text"), "{:?}", msg.body_text(0));
    ensure!(msg.body_html(0).is_some_and(|h| h.contains("<b>HTML</b>")), "{:?}", msg.body_html(0));
    let header = |name: &'static str| msg.header_raw(name).map(str::trim);
    ensure!(
        header("List-Unsubscribe") == Some("<https://example.com/unsubscribe?u=42>"),
        "{:?}",
        header("List-Unsubscribe")
    );
    ensure!(header("List-Unsubscribe-Post") == Some("List-Unsubscribe=One-Click"), "one-click");
    ensure!(header("X-Campaign") == Some("november"), "custom header");
    ensure!(raw.contains("multipart/alternative"), "no multipart/alternative");
    let report = msg.attachments().find(|a| a.attachment_name() == Some("report.csv")).ok_or("no report.csv")?;
    ensure!(report.contents() == &csv[..], "the CSV changed");
    let logo = msg.attachments().chain(msg.html_bodies()).find(|a| a.content_id() == Some("logo"));
    let logo = logo.ok_or("no inline part with content id logo")?;
    ensure!(logo.contents() == &png[..], "the inline image changed");
    Ok(())
}

fn unverified_sender_is_refused_with_the_reason() -> Result<(), String> {
    let ses = client()?;
    let email = Email::new("nobody-verified-this@example.org", "s").to("a@example.com").text("t");
    let err = block_on(ses.send(&email, &SendOptions::default())).unwrap_err();
    let text = err.to_string();
    ensure!(text.contains("SES SendEmail") && text.contains("MessageRejected"), "{text}");
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    vec![
        trial("ses::moto::send_with_attachments_bcc_and_unsubscribe_read_back", send_and_read_back),
        trial("ses::moto::unverified_sender_is_refused", unverified_sender_is_refused_with_the_reason),
    ]
}
