//! Sends an email with an attachment through SES v2: a plain text and an HTML body (shown as
//! one message by mail clients), a display name in any script, and a file attached with its
//! content type guessed from its name.
//!
//! SES sends only from verified identities: verify FROM (or its domain) first, e.g. with
//! `aws sesv2 create-email-identity --email-identity FROM`. Prints the message id SES returns;
//! exits 1 when SES refuses the message.
//!
//! Credentials, region and endpoint come from where the AWS CLI finds them: `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_PROFILE`, and
//! `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_SESV2`) for a local stand-in.
//!
//! ```sh
//! cargo run -p cirrus --features ses --example ses_email -- reports@example.com ana@example.org [FILE]
//! ```
//!
//! Without FILE, a small CSV report made here is attached.

use cirrus::ses::{Email, Mailbox, SendOptions, SesClient};
use cirrus::Config;
use std::path::Path;
use std::process::ExitCode;

type BoxError = Box<dyn std::error::Error>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ses_email: {}", cirrus::transport::report(&*e));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let (Some(from), Some(to)) = (args.next(), args.next()) else {
        return Err("usage: ses_email FROM TO [FILE]".into());
    };
    let from = Mailbox::parse(&from)?;
    let to = Mailbox::parse(&to)?;

    let email = Email::new(Mailbox::new("Zoë at Reports", from.address.clone()), "Your weekly report")
        .to(to.clone())
        .text("Hello,\n\nyour weekly report is attached.\n\n-- \nReports")
        .html("<p>Hello,</p><p>your <b>weekly report</b> is attached.</p><p>— Reports</p>");
    // `attach_file` refuses a file larger than a message may be before reading it.
    let email = match args.next() {
        Some(path) => email.attach_file(Path::new(&path)).map_err(|e| format!("cannot attach {path}: {e}"))?,
        None => email.attach("report.csv", "week,orders,revenue\n2025-W48,112,8450.00\n2025-W49,131,9902.50\n"),
    };
    let mime = email.to_mime()?;

    let config = Config::from_env()?;
    let ses = SesClient::new(&config)?;
    let message_id = ses.send(&email, &SendOptions::default()).await?;
    println!("sent {:?} from {} to {}", email.subject, from.address, to.address);
    for a in &email.attachments {
        println!("  attached {} ({}, {} bytes)", a.filename, a.content_type, a.data.len());
    }
    println!("  {} bytes of MIME, text and HTML bodies; SES message id {message_id}", mime.len());
    Ok(())
}
