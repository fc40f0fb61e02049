//! `POST /sns`: an SNS HTTPS subscription endpoint.
//!
//! - Every message is verified first; anything that fails is answered 403 with the failed
//!   check, and never acted on.
//! - A SubscriptionConfirmation from an allowed topic is confirmed by visiting its SubscribeURL
//!   (the verifier only visits https URLs on the certificate's SNS host).
//! - A Notification carrying an SES event is matched: a hard bounce or a complaint means "stop
//!   mailing this address".
//!
//! Environment: `SNS_TOPIC_ARN` (comma-separated; unset: any topic), `PORT` (default 8080),
//! `SNS_MAX_AGE_SECS` (default 3600: SNS retries for up to an hour).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use cirrus::sns::{Bounce, BounceType, Complaint, MessageType, SesEvent, SesEventKind, Verifier};
use std::time::Duration;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut verifier = Verifier::new();
    if let Ok(topics) = std::env::var("SNS_TOPIC_ARN") {
        verifier = verifier.allow_topics(topics.split(',').map(str::trim).filter(|t| !t.is_empty()));
    }
    let max_age = std::env::var("SNS_MAX_AGE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3600);
    let verifier = verifier.max_age(Duration::from_secs(max_age));
    let app = Router::new().route("/sns", post(receive)).with_state(verifier);
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    eprintln!("listening on http://{}/sns", listener.local_addr()?);
    axum::serve(listener, app).await
}

async fn receive(State(verifier): State<Verifier>, body: Bytes) -> (StatusCode, String) {
    let msg = match verifier.verify(&body).await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("refused: {e}");
            return (StatusCode::FORBIDDEN, format!("refused ({}): {}\n", e.check().as_str(), e.reason()));
        }
    };
    match msg.kind {
        MessageType::SubscriptionConfirmation => match verifier.confirm_subscription(&msg).await {
            Ok(arn) => (StatusCode::OK, format!("subscribed: {arn}\n")),
            Err(e) => (StatusCode::BAD_GATEWAY, format!("could not confirm: {e}\n")),
        },
        MessageType::UnsubscribeConfirmation => (StatusCode::OK, "unsubscribed\n".into()),
        MessageType::Notification => {
            let Ok(event) = SesEvent::from_message(&msg.message) else {
                return (StatusCode::OK, format!("notification {}\n", msg.message_id));
            };
            match &event.kind {
                SesEventKind::Bounce(Bounce { bounce_type: BounceType::Permanent, bounced_recipients, .. }) => {
                    for r in bounced_recipients {
                        eprintln!("hard bounce: stop mailing {}", r.email_address);
                    }
                }
                SesEventKind::Complaint(Complaint { complained_recipients, .. }) => {
                    for r in complained_recipients {
                        eprintln!("complaint: stop mailing {}", r.email_address);
                    }
                }
                other => eprintln!("SES {} for message {}", other.name(), event.mail.message_id),
            }
            (StatusCode::OK, format!("{}\n", event.kind.name()))
        }
    }
}
