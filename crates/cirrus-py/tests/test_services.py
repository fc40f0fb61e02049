"""SES, SNS, STS and Cognito against moto server, and SNS webhook verification against a
loopback HTTPS server that plays the SNS certificate host (a test CA made here).

What moto keeps is read back: the email SES received from /moto-api/data.json of the moto at
CIRRUS_MOTO_MAIL_URL, the SNS message from an SQS queue subscribed to the topic. What moto does
not keep (SES's configuration set and tags, the key a request was signed with) is read from a
relay in front of moto that records each request and passes it on unchanged.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import email
import email.policy
import http.client
import http.server
import json
import pathlib
import ssl
import threading
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import need

import cirrus_aws
from cirrus_aws import (
    AsyncSesClient,
    AsyncSnsClient,
    CognitoLogin,
    Config,
    Credentials,
    SesClient,
    SignatureError,
    SnsClient,
)
from cirrus_aws.sns import confirm_subscription, confirm_subscription_async, verify_webhook, verify_webhook_async

# ---- a recording relay in front of moto ----


@dataclasses.dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Relay:
    """Passes every request on to `target` and keeps a copy of it."""

    def __init__(self, target: str) -> None:
        self.target = urllib.parse.urlsplit(target)
        self.seen: list[Seen] = []
        relay = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def handle_one(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                relay.seen.append(Seen(self.command, self.path, headers, body))
                conn = http.client.HTTPConnection(relay.target.netloc, timeout=30)
                forward = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=forward)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_one

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mail_relay() -> Iterator[Relay]:
    relay = Relay(need("CIRRUS_MOTO_MAIL_URL"))
    yield relay
    relay.close()


@pytest.fixture
def moto_relay() -> Iterator[Relay]:
    relay = Relay(need("CIRRUS_MOTO_URL"))
    yield relay
    relay.close()


def moto_creds() -> Credentials:
    return Credentials("AKIDMOTO", "moto-secret")


def boto(service: str) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client(
        service,
        endpoint_url=need("CIRRUS_MOTO_URL"),
        region_name="us-east-1",
        aws_access_key_id="AKIDMOTO",
        aws_secret_access_key="moto-secret",
    )


# ---- SES ----


def sent_by_moto() -> list[dict[str, Any]]:
    """The raw messages the mail moto received."""
    with urllib.request.urlopen(f"{need('CIRRUS_MOTO_MAIL_URL')}/moto-api/data.json") as r:
        data = json.load(r)
    found: list[dict[str, Any]] = []
    for backend in data.get("ses", {}).get("RawMessage", []) or []:
        found.append(backend)
    return found


def find_sent(marker: str) -> tuple[dict[str, Any], email.message.EmailMessage]:
    for m in sent_by_moto():
        parsed = email.message_from_string(m["raw_data"], policy=email.policy.default)
        if marker in str(parsed["subject"]):
            assert isinstance(parsed, email.message.EmailMessage)
            return m, parsed
    raise AssertionError(f"moto holds no message with {marker!r} in its subject")


@dataclasses.dataclass
class AioawsAttachment:
    """aioaws's SesAttachment, as a caller of aioaws has it."""

    file: pathlib.Path | bytes
    name: str | None = None
    mime_type: str | None = None


@dataclasses.dataclass
class AioawsRecipient:
    """aioaws's SesRecipient."""

    email: str
    first_name: str | None = None
    last_name: str | None = None


def test_ses_send_email_reaches_moto_whole(mail_relay: Relay, tmp_path: pathlib.Path) -> None:
    config = Config(region="us-east-1", endpoint_url=mail_relay.url, credentials=moto_creds())
    ses = SesClient(config)
    ses.create_email_identity("sender@example.com")
    marker = uuid.uuid4().hex
    csv = tmp_path / "report.csv"
    csv.write_bytes("id,name\n1,Zoë\n".encode())
    png = bytes(range(256)) * 12
    message_id = ses.send_email(
        "Zoë Sender <sender@example.com>",
        f"Grüße ✓ {marker}",
        ["Ann Lee <ann@example.com>"],
        "Hello in plain text",
        "<p>Hello in <b>HTML</b></p>",
        cc=[("Carl", "carl@example.com")],
        bcc=["hidden@example.com"],
        reply_to=[AioawsRecipient("replies@example.com", "Rita", "Reply")],
        attachments=[
            {"file": csv},
            AioawsAttachment(png, name="logo.bin", mime_type="image/png"),
            {"file": memoryview(png[:100]), "name": "inline.png", "content_id": "inline-logo"},
        ],
        unsubscribe_link="https://example.com/unsubscribe?u=42",
        configuration_set="marketing",
        message_tags={"campaign": "nov", "wave": 2},
        smtp_headers={"X-Campaign": "november"},
    )
    assert isinstance(message_id, str) and message_id
    stored, msg = find_sent(marker)
    assert stored["id"] == message_id
    assert stored["source"] == "sender@example.com"
    assert "hidden@example.com" in stored["destinations"]
    assert "hidden@example.com" not in stored["raw_data"]
    assert "\nbcc:" not in stored["raw_data"].lower()
    assert msg["subject"] == f"Grüße ✓ {marker}"
    assert msg["from"].addresses[0].display_name == "Zoë Sender"
    assert msg["to"].addresses[0].display_name == "Ann Lee"
    assert (msg["cc"].addresses[0].display_name, msg["cc"].addresses[0].addr_spec) == ("Carl", "carl@example.com")
    reply_to = msg["reply-to"].addresses[0]
    assert (reply_to.display_name, reply_to.addr_spec) == ("Rita Reply", "replies@example.com")
    assert msg["List-Unsubscribe"] == "<https://example.com/unsubscribe?u=42>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["X-Campaign"] == "november"
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and text.get_content().strip() == "Hello in plain text"
    assert html is not None and "<b>HTML</b>" in html.get_content()
    parts = {p.get_filename(): p for p in msg.iter_attachments()}
    assert parts["report.csv"].get_content_type() == "text/csv"
    assert parts["report.csv"].get_payload(decode=True) == csv.read_bytes()
    assert parts["logo.bin"].get_content_type() == "image/png"
    assert parts["logo.bin"].get_payload(decode=True) == png
    inline = [p for p in msg.walk() if p["Content-ID"] == "<inline-logo>"]
    assert len(inline) == 1 and inline[0].get_payload(decode=True) == png[:100]
    assert inline[0].get_content_type() == "image/png"
    # What moto does not keep: the configuration set and the tags, as sent.
    sends = [json.loads(s.body) for s in mail_relay.seen if s.path.endswith("/outbound-emails")]
    assert len(sends) == 1
    assert sends[0]["ConfigurationSetName"] == "marketing"
    assert sends[0]["EmailTags"] == [{"Name": "campaign", "Value": "nov"}, {"Name": "wave", "Value": "2"}]
    assert sends[0]["Destination"]["BccAddresses"] == ["hidden@example.com"]


def test_ses_unverified_sender_is_a_service_error(moto_config: Config) -> None:
    ses = SesClient(moto_config)
    with pytest.raises(cirrus_aws.ServiceError) as caught:
        ses.send_email("nobody-verified-this@example.org", "s", ["a@example.com"], "t")
    e = caught.value
    assert (e.service, e.operation, e.code) == ("SES", "SendEmail", "MessageRejected")
    assert e.response["Error"]["Code"] == "MessageRejected"


def test_ses_refuses_bad_arguments_before_sending(moto_config: Config) -> None:
    ses = SesClient(moto_config)
    with pytest.raises(cirrus_aws.ParamValidationError, match="e_from"):
        ses.send_email("not an address", "s", ["a@example.com"], "t")
    with pytest.raises(ValueError, match="file"):
        ses.send_email("a@example.com", "s", ["b@example.com"], "t", attachments=[{"name": "x"}])
    with pytest.raises(cirrus_aws.ParamValidationError, match="recipient"):
        ses.send_email("a@example.com", "s", text_body="t")
    with pytest.raises(cirrus_aws.ParamValidationError, match="no-such-file"):
        ses.send_email("a@example.com", "s", ["b@example.com"], "t", attachments=[{"file": "/no-such-file.pdf"}])
    with pytest.raises(cirrus_aws.ParamValidationError, match="line break"):
        ses.send_email("a@example.com", "s", ["b@example.com"], "t", smtp_headers={"X-A": "a\r\nBcc: e@example.com"})


async def test_async_ses_send_email() -> None:
    config = Config(region="us-east-1", endpoint_url=need("CIRRUS_MOTO_MAIL_URL"), credentials=moto_creds())
    ses = AsyncSesClient(config)
    await ses.create_email_identity("async@example.com")
    marker = uuid.uuid4().hex
    message_id = await ses.send_email(
        "async@example.com", f"async {marker}", "to@example.com", html_body="<i>only html</i>"
    )
    assert message_id
    stored, msg = find_sent(marker)
    assert set(stored["destinations"]) == {"to@example.com"}
    body = msg.get_body(preferencelist=("html", "plain"))
    assert body is not None and body.get_content_type() == "text/html"
    assert "<i>only html</i>" in body.get_content()


# ---- SNS ----


def sqs_queue_for(sns: SnsClient, topic: str) -> tuple[Any, str]:
    """An SQS queue subscribed to `topic` (boto3 for SQS, which cirrus has no client for)."""
    sqs = boto("sqs")
    url = sqs.create_queue(QueueName=f"py-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert sns.subscribe(topic, "sqs", arn).startswith(topic)
    return sqs, url


def test_sns_publish_is_delivered_with_subject_and_attributes(moto_config: Config) -> None:
    sns = SnsClient(moto_config)
    topic = sns.create_topic(f"py-{uuid.uuid4().hex[:12]}")
    assert topic.startswith("arn:aws:sns:us-east-1:")
    sqs, queue = sqs_queue_for(sns, topic)
    message_id = sns.publish(
        topic,
        "order 42 shipped ✓",
        subject="Order shipped",
        message_attributes={"env": "prod", "n": 7, "blob": b"\x00\x01", "tags": ["a", "b"]},
    )
    got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2)["Messages"]
    envelope = json.loads(got[0]["Body"])
    assert envelope["MessageId"] == message_id
    assert (envelope["Message"], envelope["Subject"]) == ("order 42 shipped ✓", "Order shipped")
    attrs = envelope["MessageAttributes"]
    assert attrs["env"] == {"Type": "String", "Value": "prod"}
    assert attrs["n"] == {"Type": "Number", "Value": "7"}
    assert attrs["tags"] == {"Type": "String.Array", "Value": '["a", "b"]'}
    assert base64.b64decode(attrs["blob"]["Value"]) == b"\x00\x01"
    sns.delete_topic(topic)


def test_sns_publish_to_a_missing_topic_says_what_aws_said(moto_config: Config) -> None:
    missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
    with pytest.raises(cirrus_aws.ServiceError) as caught:
        SnsClient(moto_config).publish(missing, "hello")
    e = caught.value
    assert (e.service, e.operation, e.status, e.code) == ("SNS", "Publish", 404, "NotFound")
    assert isinstance(e, cirrus_aws.NotFoundError)
    assert e.request_id
    assert e.response["Error"]["Code"] == "NotFound"
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "Publish" in str(e) and "NotFound" in str(e)


def test_sns_refuses_bad_attributes(moto_config: Config) -> None:
    sns = SnsClient(moto_config)
    with pytest.raises(ValueError, match="bool"):
        sns.publish("arn:aws:sns:us-east-1:123456789012:t", "m", message_attributes={"flag": True})
    with pytest.raises(cirrus_aws.ParamValidationError, match="empty"):
        sns.publish("arn:aws:sns:us-east-1:123456789012:t", "")


async def test_async_sns_publish_and_error(moto_config: Config) -> None:
    sns = AsyncSnsClient(moto_config)
    topic = await sns.create_topic(f"py-{uuid.uuid4().hex[:12]}")
    message_id = await sns.publish(
        topic, "hi", message_attributes={"k": {"DataType": "String", "StringValue": "v"}}
    )
    assert message_id
    with pytest.raises(cirrus_aws.NotFoundError) as caught:
        await sns.publish(topic + "-missing", "hi")
    assert caught.value.operation == "Publish"
    await sns.delete_topic(topic)


# ---- SNS webhook verification ----

HOST = "sns.us-east-1.amazonaws.com"
TOPIC = "arn:aws:sns:us-east-1:123456789012:orders"


SUBSCRIPTION = f"{TOPIC}:0f7d5ba1-5d5b-4c4a-b0a9-1f9c1a1b2c3d"
CONFIRMED = (
    '<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
    f"<ConfirmSubscriptionResult><SubscriptionArn>{SUBSCRIPTION}</SubscriptionArn></ConfirmSubscriptionResult>"
    "<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>"
)


@dataclasses.dataclass
class Pki:
    """A test CA, the SNS signing certificate and its key, and a TLS server for the SNS host."""

    ca_file: str
    signing_key: Any
    signing_pem: bytes
    connect_to: str
    hits: list[str]


def make_pki(tmp: pathlib.Path) -> tuple[bytes, Any, bytes, bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def cert(subject: str, key: Any, issuer: str, issuer_key: Any, ca: bool) -> Any:
        b = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    def key() -> Any:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    ca_key, sign_key, tls_key = key(), key(), key()
    ca = cert("cirrus py test CA", ca_key, "cirrus py test CA", ca_key, True)
    signing = cert(HOST, sign_key, "cirrus py test CA", ca_key, False)
    tls = cert(HOST, tls_key, "cirrus py test CA", ca_key, False)
    pem = serialization.Encoding.PEM
    tls_key_pem = tls_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca.public_bytes(pem), sign_key, signing.public_bytes(pem), tls.public_bytes(pem), tls_key_pem


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pki]:
    tmp = tmp_path_factory.mktemp("pki")
    ca_pem, sign_key, signing_pem, tls_pem, tls_key_pem = make_pki(tmp)
    (tmp / "ca.pem").write_bytes(ca_pem)
    (tmp / "tls.pem").write_bytes(tls_pem + ca_pem)
    (tmp / "tls-key.pem").write_bytes(tls_key_pem)
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            hits.append(self.path)
            if self.path.startswith("/?Action=ConfirmSubscription"):
                body = CONFIRMED.encode()
            else:
                body = signing_pem
            self.send_response(200 if self.path.endswith(".pem") or body is not signing_pem else 404)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp / "tls.pem", tmp / "tls-key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Pki(str(tmp / "ca.pem"), sign_key, signing_pem, f"127.0.0.1:{server.server_address[1]}", hits)
    server.shutdown()


def string_to_sign(f: dict[str, str]) -> bytes:
    """AWS's canonical form, written out from its documentation."""
    if f["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{n}\n{f[n]}\n" for n in names if n in f).encode()


def signed(pki: Pki, f: dict[str, str], version: int = 2) -> dict[str, str]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    algorithm = hashes.SHA1() if version == 1 else hashes.SHA256()
    signature = pki.signing_key.sign(string_to_sign(f), padding.PKCS1v15(), algorithm)
    return {**f, "SignatureVersion": str(version), "Signature": base64.b64encode(signature).decode()}


def notification(message: str = "order 42 shipped", cert: str | None = None) -> dict[str, str]:
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": TOPIC,
        "Subject": "Order shipped",
        "Message": message,
        "Timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "SigningCertURL": cert or f"https://{HOST}/SimpleNotificationService-{uuid.uuid4().hex}.pem",
        "UnsubscribeURL": f"https://{HOST}/?Action=Unsubscribe&SubscriptionArn={TOPIC}:1",
    }


@pytest.mark.parametrize("version", [1, 2])
def test_verify_webhook_accepts_a_signed_notification(pki: Pki, version: int) -> None:
    f = signed(pki, notification(), version)
    before = len(pki.hits)
    m = verify_webhook(json.dumps(f).encode(), ca_file=pki.ca_file, connect_to=pki.connect_to)
    assert (m.type, m.message_id, m.topic_arn) == ("Notification", f["MessageId"], TOPIC)
    assert (m.subject, m.message, m.signature_version) == ("Order shipped", "order 42 shipped", version)
    assert m.timestamp == f["Timestamp"] and m.sent_at is not None and m.sent_at.tzinfo is not None
    assert m.unsubscribe_url == f["UnsubscribeURL"] and m.subscribe_url is None
    assert m.ses_event is None
    assert m.to_dict()["MessageId"] == f["MessageId"]
    # The certificate was fetched once, from the loopback server, and is cached.
    assert pki.hits[before:] == [urllib.parse.urlsplit(f["SigningCertURL"]).path]
    again = signed(pki, {**notification(), "SigningCertURL": f["SigningCertURL"]}, version)
    verify_webhook(json.dumps(again), ca_file=pki.ca_file, connect_to=pki.connect_to)
    assert len(pki.hits) == before + 1


async def test_verify_webhook_and_confirm_a_subscription(pki: Pki) -> None:
    f = {
        "Type": "SubscriptionConfirmation",
        "MessageId": str(uuid.uuid4()),
        "Token": "2336412f37fb687f5d51e6e2425d",
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.",
        "SubscribeURL": f"https://{HOST}/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f",
        "Timestamp": "2026-03-01T12:00:00.000Z",
        "SigningCertURL": f"https://{HOST}/SimpleNotificationService-confirm.pem",
    }
    m = verify_webhook(json.dumps(signed(pki, f, 1)), ca_file=pki.ca_file, connect_to=pki.connect_to)
    assert m.type == "SubscriptionConfirmation"
    assert (m.subscribe_url, m.token) == (f["SubscribeURL"], f["Token"])
    before = len(pki.hits)
    assert confirm_subscription(m, ca_file=pki.ca_file, connect_to=pki.connect_to) == SUBSCRIPTION
    assert pki.hits[before:] == [urllib.parse.urlsplit(f["SubscribeURL"])._replace(scheme="", netloc="").geturl()]
    assert await confirm_subscription_async(m, ca_file=pki.ca_file, connect_to=pki.connect_to) == SUBSCRIPTION
    # A notification has no subscription to confirm.
    n = verify_webhook(json.dumps(signed(pki, notification())), ca_file=pki.ca_file, connect_to=pki.connect_to)
    with pytest.raises(SignatureError, match="no subscription to confirm"):
        confirm_subscription(n, ca_file=pki.ca_file, connect_to=pki.connect_to)


@pytest.mark.parametrize("field", ["Message", "MessageId", "Subject", "Timestamp", "TopicArn"])
def test_verify_webhook_refuses_a_changed_field(pki: Pki, field: str) -> None:
    f = signed(pki, notification())
    f[field] = f[field] + "x"
    with pytest.raises(SignatureError) as caught:
        verify_webhook(json.dumps(f), ca_file=pki.ca_file, connect_to=pki.connect_to)
    assert isinstance(caught.value, ValueError)
    assert caught.value.check == "signature"
    assert "does not match" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/SimpleNotificationService-x.pem",
        f"https://{HOST}.evil.example.com/SimpleNotificationService-x.pem",
        f"http://{HOST}/SimpleNotificationService-x.pem",
        f"https://{HOST}/SimpleNotificationService-x.txt",
    ],
)
def test_verify_webhook_refuses_a_certificate_url_that_is_not_aws(pki: Pki, url: str) -> None:
    f = signed(pki, notification(cert=url))
    before = len(pki.hits)
    with pytest.raises(SignatureError) as caught:
        verify_webhook(json.dumps(f), ca_file=pki.ca_file, connect_to=pki.connect_to)
    assert caught.value.check == "cert-url" and "SigningCertURL" in caught.value.reason
    assert len(pki.hits) == before, "a certificate was fetched from a URL that is not SNS's"


def test_verify_webhook_default_roots_do_not_trust_the_test_ca(pki: Pki) -> None:
    """`connect_to` alone does not weaken TLS: the test server's CA is not trusted."""
    f = signed(pki, notification())
    with pytest.raises(SignatureError) as caught:
        verify_webhook(json.dumps(f), connect_to=pki.connect_to)
    assert caught.value.check == "cert-fetch"


def test_verify_webhook_refuses_what_is_not_an_sns_message(pki: Pki) -> None:
    for body in (b"not json", b"{}", json.dumps({**signed(pki, notification()), "SignatureVersion": "3"})):
        with pytest.raises(SignatureError):
            verify_webhook(body, ca_file=pki.ca_file, connect_to=pki.connect_to)
    f = signed(pki, notification())
    with pytest.raises(SignatureError) as caught:
        verify_webhook(json.dumps(f), topics=["arn:aws:sns:us-east-1:123456789012:other"], ca_file=pki.ca_file)
    assert caught.value.check == "topic"


def test_verify_webhook_reads_an_ses_event(pki: Pki) -> None:
    event = {
        "eventType": "Bounce",
        "mail": {
            "timestamp": "2026-03-01T11:59:00.000Z",
            "messageId": "0100018f-example",
            "source": "shop@example.com",
            "destination": ["gone@example.net", "ok@example.net"],
            "tags": {"campaign": ["nov"]},
        },
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "NoEmail",
            "bouncedRecipients": [{"emailAddress": "gone@example.net"}],
            "timestamp": "2026-03-01T12:00:00.000Z",
            "feedbackId": "f-1",
        },
    }
    f = signed(pki, notification(json.dumps(event)))
    m = verify_webhook(json.dumps(f), ca_file=pki.ca_file, connect_to=pki.connect_to)
    e = m.ses_event
    assert e is not None
    assert (e.event_type, e.message_id, e.source) == ("Bounce", "0100018f-example", "shop@example.com")
    assert (e.bounce_type, e.bounce_sub_type, e.unsubscribe) == ("Permanent", "NoEmail", True)
    assert e.recipients == ["gone@example.net"]
    assert e.destination == ["gone@example.net", "ok@example.net"]
    assert e.tags == {"campaign": ["nov"]}
    assert e.to_dict()["bounce"]["feedbackId"] == "f-1"
    delivery = dict(event, eventType="Delivery", delivery={"recipients": ["ok@example.net"], "smtpResponse": "250"})
    m = verify_webhook(
        json.dumps(signed(pki, notification(json.dumps(delivery)))), ca_file=pki.ca_file, connect_to=pki.connect_to
    )
    assert m.ses_event is not None
    assert (m.ses_event.event_type, m.ses_event.unsubscribe, m.ses_event.recipients) == (
        "Delivery",
        False,
        ["ok@example.net"],
    )


def test_sns_verifier_refuses_bad_options(tmp_path: pathlib.Path) -> None:
    with pytest.raises(cirrus_aws.ParamValidationError, match="ca_file"):
        cirrus_aws.SnsVerifier(ca_file=tmp_path / "missing.pem")
    (tmp_path / "empty.pem").write_text("no certificate here")
    with pytest.raises(cirrus_aws.ParamValidationError, match="no certificate"):
        cirrus_aws.SnsVerifier(ca_file=tmp_path / "empty.pem")
    with pytest.raises(cirrus_aws.ParamValidationError, match="connect_to"):
        cirrus_aws.SnsVerifier(connect_to="no port")
    with pytest.raises(cirrus_aws.ParamValidationError, match="max_age"):
        cirrus_aws.SnsVerifier(max_age=-1)


async def test_verify_webhook_async(pki: Pki) -> None:
    f = signed(pki, notification())
    m = await verify_webhook_async(json.dumps(f).encode(), ca_file=pki.ca_file, connect_to=pki.connect_to)
    assert m.message_id == f["MessageId"]
    f["Message"] = "forged"
    with pytest.raises(SignatureError):
        await verify_webhook_async(json.dumps(f), ca_file=pki.ca_file, connect_to=pki.connect_to)


# ---- STS and Cognito ----


def test_whoami_against_moto(moto_relay: Relay) -> None:
    config = Config(region="us-east-1", endpoint_url=moto_relay.url, credentials=moto_creds())
    me = config.whoami()
    assert me["account"] == "123456789012"
    assert me["arn"].startswith("arn:aws:")
    assert me["source"] == "python"
    calls = [s for s in moto_relay.seen if b"Action=GetCallerIdentity" in s.body]
    assert len(calls) == 1
    assert "Credential=AKIDMOTO/" in calls[0].headers["authorization"]


USER, PASSWORD = "alice", "Correct-Horse-9"


@pytest.fixture
def cognito_pools() -> tuple[str, str, str]:
    """A user pool, an app client, a user with a permanent password and an identity pool, set
    up as an administrator would (boto3)."""
    idp, identity = boto("cognito-idp"), boto("cognito-identity")
    pool = idp.create_user_pool(PoolName=f"py-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    app = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username=USER, TemporaryPassword="Temp-Pass-1")
    idp.admin_set_user_password(UserPoolId=pool, Username=USER, Password=PASSWORD, Permanent=True)
    ids = identity.create_identity_pool(
        IdentityPoolName=f"py_{uuid.uuid4().hex[:8]}",
        AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[{"ProviderName": f"cognito-idp.us-east-1.amazonaws.com/{pool}", "ClientId": app}],
    )
    return pool, app, ids["IdentityPoolId"]


@pytest.mark.parametrize("flow", ["USER_PASSWORD_AUTH", "USER_SRP_AUTH"])
def test_cognito_login_gives_credentials_that_sign(
    moto_relay: Relay, cognito_pools: tuple[str, str, str], flow: str
) -> None:
    pool, app, identity_pool = cognito_pools
    login = CognitoLogin(pool, app, USER, PASSWORD, identity_pool, auth_flow=flow)
    config = Config(region="us-east-1", endpoint_url=moto_relay.url, credentials=login)
    assert PASSWORD not in repr(login) and PASSWORD not in repr(config)
    assert "password=***" in repr(login)
    creds = config.credentials()
    assert creds.provider == "cognito"
    assert creds.session_token and creds.access_key_id != "AKIDMOTO"
    targets = [s.headers.get("x-amz-target", "") for s in moto_relay.seen]
    auth = "InitiateAuth"
    assert f"AWSCognitoIdentityProviderService.{auth}" in targets
    if flow == "USER_SRP_AUTH":
        assert "AWSCognitoIdentityProviderService.RespondToAuthChallenge" in targets
    assert "AWSCognitoIdentityService.GetCredentialsForIdentity" in targets
    config.whoami()
    sts = [s for s in moto_relay.seen if b"Action=GetCallerIdentity" in s.body]
    assert len(sts) == 1
    assert f"Credential={creds.access_key_id}/" in sts[0].headers["authorization"]
    assert sts[0].headers["x-amz-security-token"] == creds.session_token
    assert not any(PASSWORD.encode() in s.body for s in moto_relay.seen if flow == "USER_SRP_AUTH")


def test_cognito_wrong_password_is_a_credentials_error(cognito_pools: tuple[str, str, str]) -> None:
    pool, app, identity_pool = cognito_pools
    wrong = "Wrong-Horse-1"
    login = CognitoLogin(pool, app, USER, wrong, identity_pool, auth_flow="USER_PASSWORD_AUTH")
    config = Config(region="us-east-1", endpoint_url=need("CIRRUS_MOTO_URL"), credentials=login)
    with pytest.raises(cirrus_aws.CredentialsError) as caught:
        config.credentials()
    assert wrong not in str(caught.value) and wrong not in repr(caught.value)
