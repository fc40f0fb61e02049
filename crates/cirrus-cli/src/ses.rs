//! `cirrus ses send`: one email through SES v2 (raw MIME built by `cirrus::ses::Email`).

use crate::{load_config, Failure, GlobalArgs, Output};
use anyhow::anyhow;
use cirrus::ses::{Email, Mailbox, SendOptions, SesClient};
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
#[command(defer = true)]
pub(crate) enum SesCommand {
    /// Send an email; print the message id SES gives it.
    #[command(
        after_help = "Examples:\n  cirrus ses send --from reports@example.com --to ana@example.org --subject 'Weekly report' --text-file report.txt\n  cirrus ses send --from a@example.com --to b@example.org --subject Logs --text 'attached' --attach app.log"
    )]
    Send(Box<SendArgs>),
}

#[derive(clap::Args, Debug)]
pub(crate) struct SendArgs {
    /// The sender: `address` or `Name <address>`.
    #[arg(long)]
    from: String,
    /// A recipient. Repeatable.
    #[arg(long, num_args = 1..)]
    to: Vec<String>,
    /// A copy recipient. Repeatable.
    #[arg(long, num_args = 1..)]
    cc: Vec<String>,
    /// A blind copy recipient (delivered, never named in the headers). Repeatable.
    #[arg(long, num_args = 1..)]
    bcc: Vec<String>,
    /// Where replies go. Repeatable.
    #[arg(long)]
    reply_to: Vec<String>,
    /// The subject (any script).
    #[arg(long)]
    subject: String,
    /// The plain text body.
    #[arg(long, conflicts_with = "text_file")]
    text: Option<String>,
    /// The plain text body, from a file (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    text_file: Option<PathBuf>,
    /// The HTML body.
    #[arg(long, conflicts_with = "html_file")]
    html: Option<String>,
    /// The HTML body, from a file (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    html_file: Option<PathBuf>,
    /// A file to attach (content type from its name). Repeatable.
    #[arg(long, value_name = "FILE")]
    attach: Vec<PathBuf>,
    /// A one-click unsubscribe URL (List-Unsubscribe and List-Unsubscribe-Post, RFC 8058).
    #[arg(long, value_name = "URL")]
    unsubscribe: Option<String>,
    /// The configuration set whose event destinations get this message's events.
    #[arg(long, value_name = "NAME")]
    configuration_set: Option<String>,
    /// A message tag, NAME=VALUE, reported with the message's events. Repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    tag: Vec<String>,
}

/// Adds one recipient of a kind (to, cc, bcc, reply-to) to the message.
type AddRecipient = fn(Email, Mailbox) -> Email;

fn mailbox(flag: &str, s: &str) -> Result<Mailbox, Failure> {
    Mailbox::parse(s).map_err(|e| Failure::input(anyhow!("--{flag} {s:?}: {e}")))
}

/// A text or HTML body: at most 40 MiB, the largest message SES sends.
fn read_body(flag: &str, path: &std::path::Path) -> Result<String, Failure> {
    let bytes = crate::read_limited(&format!("--{flag}"), path, 40 << 20)?;
    String::from_utf8(bytes).map_err(|_| Failure::input(anyhow!("--{flag} {}: not UTF-8 text", path.display())))
}

pub(crate) async fn run(global: &GlobalArgs, cmd: SesCommand) -> Result<(), Failure> {
    match cmd {
        SesCommand::Send(args) => send(global, *args).await,
    }
}

async fn send(global: &GlobalArgs, args: SendArgs) -> Result<(), Failure> {
    if args.to.is_empty() && args.cc.is_empty() && args.bcc.is_empty() {
        return Err(Failure::input(anyhow!("no recipient: pass --to, --cc or --bcc")));
    }
    if args.text_file.as_deref().is_some_and(|p| p.as_os_str() == "-")
        && args.html_file.as_deref().is_some_and(|p| p.as_os_str() == "-")
    {
        return Err(Failure::input(anyhow!("--text-file and --html-file cannot both read standard input")));
    }
    let mut email = Email::new(mailbox("from", &args.from)?, args.subject);
    let lists: [(&str, &[String], AddRecipient); 4] = [
        ("to", &args.to, Email::to),
        ("cc", &args.cc, Email::cc),
        ("bcc", &args.bcc, Email::bcc),
        ("reply-to", &args.reply_to, Email::reply_to),
    ];
    for (flag, list, add) in lists {
        for s in list {
            email = add(email, mailbox(flag, s)?);
        }
    }
    let text = match (&args.text, &args.text_file) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(p)) => Some(read_body("text-file", p)?),
        (None, None) => None,
    };
    let html = match (&args.html, &args.html_file) {
        (Some(h), _) => Some(h.clone()),
        (None, Some(p)) => Some(read_body("html-file", p)?),
        (None, None) => None,
    };
    if text.is_none() && html.is_none() {
        return Err(Failure::input(anyhow!("no body: pass --text, --text-file, --html or --html-file")));
    }
    if let Some(t) = text {
        email = email.text(t);
    }
    if let Some(h) = html {
        email = email.html(h);
    }
    for path in &args.attach {
        email = email.attach_file(path).map_err(|e| Failure::input(anyhow!("--attach {}: {e}", path.display())))?;
    }
    if let Some(url) = args.unsubscribe {
        email = email.unsubscribe(url);
    }
    let mut options = SendOptions::default();
    options.configuration_set = args.configuration_set;
    for t in &args.tag {
        let (name, value) = t
            .split_once('=')
            .filter(|(n, _)| !n.is_empty())
            .ok_or_else(|| Failure::input(anyhow!("--tag {t:?}: expected NAME=VALUE")))?;
        options = options.with_tag(name, value);
    }
    let config = load_config(global)?;
    let ses = SesClient::new(&config).map_err(Failure::config)?;
    // A message the builder refuses (a line break in a header, over 40 MB) is bad input: exit 2.
    let id = ses.send(&email, &options).await.map_err(|e| {
        if e.is_input() {
            Failure::input(anyhow::Error::new(e))
        } else {
            Failure::from(anyhow::Error::new(e))
        }
    })?;
    match global.output {
        Output::Json => outln!("{}", serde_json::json!({ "MessageId": id }))?,
        Output::Text => outln!("{}", crate::output::printable(&id))?,
    }
    Ok(())
}
