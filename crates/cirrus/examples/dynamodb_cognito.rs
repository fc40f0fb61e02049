//! A browser-style app's data call: a user logs in to a Cognito user pool, the identity pool
//! turns the login into temporary AWS credentials, and those sign DynamoDB calls (the JSON 1.0
//! protocol: `PutItem`, then `GetItem` of the same key) — the cognito-assume-role use case,
//! for a service cirrus has no client for. Any request can be signed this way with
//! [`RequestSigner`] and sent with any HTTP client; here cirrus's own.
//!
//! The login comes from the `COGNITO_*` variables (`COGNITO_USER_POOL_ID`, `COGNITO_APP_ID`,
//! `COGNITO_USERNAME`, `COGNITO_PASSWORD`, `COGNITO_IDENTITY_POOL_ID`), the region and endpoint
//! from `AWS_REGION` and `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_DYNAMODB`). TABLE must exist,
//! with a string partition key `pk`, and the identity pool's role must allow `PutItem` and
//! `GetItem` on it. Prints no token and no secret. Exits 1 when a step fails or the item read
//! back differs.
//!
//! ```sh
//! COGNITO_USER_POOL_ID=eu-west-1_AbCdEf123 COGNITO_APP_ID=4example COGNITO_USERNAME=ana \
//! COGNITO_PASSWORD=... COGNITO_IDENTITY_POOL_ID=eu-west-1:1111-2222 AWS_REGION=eu-west-1 \
//!   cargo run -p cirrus --features cognito --example dynamodb_cognito -- notes
//! ```

use bytes::Bytes;
use cirrus::cognito::CognitoCredentials;
use cirrus::credentials::{CredentialsCache, ProvideCredentials};
use cirrus::service::ServiceId;
use cirrus::signing::RequestSigner;
use cirrus::Config;
use serde_json::{json, Value};
use std::process::ExitCode;
use std::sync::Arc;

type BoxError = Box<dyn std::error::Error>;

/// DynamoDB's endpoint names: `dynamodb.REGION.amazonaws.com`, `AWS_ENDPOINT_URL_DYNAMODB`.
const DYNAMODB: ServiceId = ServiceId { host_prefix: "dynamodb", env_suffix: "DYNAMODB" };

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dynamodb_cognito: {}", cirrus::transport::report(&*e));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let table = std::env::args().nth(1).ok_or("usage: dynamodb_cognito TABLE")?;
    let config = Config::from_env()?;
    let region = config.region().ok_or("no region: set AWS_REGION")?.to_owned();

    // 1. The login and the identity pool's credentials, cached until shortly before expiry.
    let cognito = CognitoCredentials::builder(&config).build()?;
    if !cognito.has_identity_pool() {
        return Err("COGNITO_IDENTITY_POOL_ID is not set: a user pool login alone gives no AWS credentials".into());
    }
    let credentials = Arc::new(CredentialsCache::new(cognito.clone()));
    let key_id = credentials.provide_credentials().await?.access_key_id().to_owned();
    let identity = cognito.identity_id().await.unwrap_or_default();
    println!("logged in: identity {identity}, AWS access key id {key_id}");

    // 2. DynamoDB calls, each signed with those credentials.
    let signer = RequestSigner::new(credentials, region.as_str(), "dynamodb");
    let (endpoint, _) = config.endpoint(DYNAMODB, &region);
    let item = json!({"pk": {"S": format!("note-{identity}")}, "text": {"S": "written with Cognito credentials"}});
    call(&config, (&signer, &key_id), &endpoint, "PutItem", &json!({"TableName": table, "Item": item})).await?;
    let pk = item["pk"]["S"].as_str().unwrap_or_default();
    println!("PutItem (signed with {key_id}): stored {pk}");
    let key = json!({"pk": item["pk"].clone()});
    let got = call(&config, (&signer, &key_id), &endpoint, "GetItem", &json!({"TableName": table, "Key": key})).await?;
    if got["Item"] != item {
        return Err(format!("GetItem returned {}, not the item stored", got["Item"]).into());
    }
    println!("GetItem: read back {pk}: {}", got["Item"]["text"]["S"].as_str().unwrap_or_default());
    Ok(())
}

/// One DynamoDB call (`X-Amz-Target: DynamoDB_20120810.OP`, a JSON 1.0 body), signed and sent;
/// the answer's JSON, or an error with DynamoDB's `__type` and message.
/// The signature must use `key_id`, the identity pool's key.
async fn call(
    config: &Config,
    (signer, key_id): (&RequestSigner, &str),
    endpoint: &str,
    op: &str,
    body: &Value,
) -> Result<Value, BoxError> {
    let mut request = http::Request::post(format!("{}/", endpoint.trim_end_matches('/')))
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("DynamoDB_20120810.{op}"))
        .body(Bytes::from(body.to_string()))?;
    signer.sign_http(&mut request).await?;
    let auth = request.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !auth.contains(&format!("Credential={key_id}/")) || !auth.contains("/dynamodb/aws4_request") {
        return Err(format!("{op}: not signed for dynamodb with the identity pool's key").into());
    }
    let response = config.http().call(request, None).await?;
    let status = response.status();
    let answer: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
    if !status.is_success() {
        let kind = answer["__type"].as_str().unwrap_or("unknown error");
        let message = answer["message"].as_str().or(answer["Message"].as_str()).unwrap_or("");
        return Err(format!("{op}: HTTP {status}: {kind}: {message}").into());
    }
    Ok(answer)
}
