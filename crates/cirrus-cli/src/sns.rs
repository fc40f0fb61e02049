//! `cirrus sns verify` (an SNS HTTP message: checked, printed with the SES event inside) and
//! `cirrus sns publish`.

use crate::{load_config, Failure, GlobalArgs, Output};
use anyhow::anyhow;
use cirrus::sns::{PublishOptions, SesEvent, SnsClient, Verifier};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

#[derive(clap::Subcommand, Debug)]
#[command(defer = true)]
pub(crate) enum SnsCommand {
    /// Verify an SNS HTTP message (or a Lambda SNS record); print it, and the SES event inside,
    /// as JSON. Exit 1 naming the check that failed.
    #[command(
        after_help = "Examples:\n  cirrus sns verify message.json\n  cirrus sns verify --allow-topic arn:aws:sns:eu-west-1:123456789012:orders --max-age 3600 < message.json"
    )]
    Verify(VerifyArgs),
    /// Publish a message to a topic; print the message id.
    #[command(
        after_help = "Examples:\n  cirrus sns publish --topic-arn arn:aws:sns:eu-west-1:123456789012:orders --message 'order 42 shipped'\n  cirrus sns publish --topic-arn arn:aws:sns:eu-west-1:123456789012:alerts --subject 'Disk full' --message 'db-1 at 95%'"
    )]
    Publish {
        /// The topic.
        #[arg(long, value_name = "ARN")]
        topic_arn: String,
        /// The message.
        #[arg(long)]
        message: String,
        /// The subject (email subscribers see it).
        #[arg(long)]
        subject: Option<String>,
    },
}

#[derive(clap::Args, Debug)]
pub(crate) struct VerifyArgs {
    /// Use this certificate (PEM) instead of fetching SigningCertURL; it gets the same checks,
    /// and the URL is still checked.
    #[arg(long, value_name = "PEM")]
    cert: Option<PathBuf>,
    /// Check certificate validity and message age as of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Refuse messages older than this many seconds (1 to 315360000, ten years).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=315_360_000))]
    max_age: Option<u64>,
    /// Accept only this topic. Repeatable.
    #[arg(long, value_name = "ARN")]
    allow_topic: Vec<String>,
    /// The message: a file, or `-` (default) for standard input.
    #[arg(default_value = "-")]
    file: PathBuf,
}

pub(crate) async fn run(global: &GlobalArgs, cmd: SnsCommand) -> Result<(), Failure> {
    match cmd {
        SnsCommand::Verify(args) => verify(global, args).await,
        SnsCommand::Publish { topic_arn, message, subject } => {
            let config = load_config(global)?;
            let sns = SnsClient::new(&config).map_err(Failure::config)?;
            let mut options = PublishOptions::default();
            options.subject = subject;
            let id = sns.publish(&topic_arn, &message, &options).await?;
            match global.output {
                Output::Json => outln!("{}", serde_json::json!({ "MessageId": id }))?,
                Output::Text => outln!("{}", crate::output::printable(&id))?,
            }
            Ok(())
        }
    }
}

async fn verify(global: &GlobalArgs, args: VerifyArgs) -> Result<(), Failure> {
    let at = match &args.at {
        Some(s) => cirrus::sigv4::parse_rfc3339(s).ok_or_else(|| {
            Failure::input(anyhow!("--at {s:?}: expected an RFC 3339 time like 2026-03-01T12:00:00Z"))
        })?,
        None => SystemTime::now(),
    };
    let body = crate::read_limited("the message", &args.file, cirrus::sns::MAX_BODY_BYTES)?;
    let cert = args.cert.as_ref().map(|p| crate::read_limited("--cert", p, cirrus::sns::MAX_CERT_BYTES)).transpose()?;
    // The certificate is fetched through the proxies the environment names, as every call is.
    let proxy = cirrus::transport::ProxySettings::from_env(&cirrus::env::ProcessEnv)
        .map_err(|e| Failure::input(anyhow::Error::new(e)))?;
    // An https:// proxy's certificate is checked against what every other call trusts
    // (--ca-bundle, --ca-native, AWS_CA_BUNDLE, the profile's ca_bundle); SNS's own against
    // the built-in roots. Settings that cannot be read leave the built-in roots.
    let roots = match crate::trusted_roots(global)? {
        Some(roots) => roots,
        None => crate::load_config(global).map(|c| c.http().settings().tls_roots.clone()).unwrap_or_default(),
    };
    let fetcher = cirrus::sns::CertFetcher::new().proxy(proxy).proxy_roots(&roots);
    let mut verifier = Verifier::new().fetcher(fetcher);
    if !args.allow_topic.is_empty() {
        verifier = verifier.allow_topics(args.allow_topic);
    }
    if let Some(secs) = args.max_age {
        verifier = verifier.max_age(Duration::from_secs(secs));
    }
    let result = match cert {
        Some(pem) => verifier.verify_with_certificate(&body, &pem, at),
        None => verifier.verify_at(&body, at).await,
    };
    match result {
        Ok(msg) => {
            let event = SesEvent::from_message(&msg.message).ok();
            match global.output {
                Output::Json => {
                    let mut out = serde_json::json!({ "verified": true, "message": msg.to_json() });
                    if let Some(e) = &event {
                        out["ses_event"] = e.to_json();
                    }
                    outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default())?;
                }
                Output::Text => {
                    let kind = event.as_ref().map(|e| e.kind.name()).unwrap_or("-");
                    // Text from the message itself: no escape sequence reaches the terminal.
                    let (topic, id) =
                        (crate::output::printable(&msg.topic_arn), crate::output::printable(&msg.message_id));
                    outln!("verified\t{}\t{topic}\t{id}\t{kind}", msg.kind.as_str())?;
                }
            }
            Ok(())
        }
        Err(e) => {
            if global.output == Output::Json {
                outln!(
                    "{}",
                    serde_json::json!({ "verified": false, "check": e.check().as_str(), "reason": e.reason() })
                )?;
            }
            Err(Failure::from(anyhow::Error::new(e)))
        }
    }
}
