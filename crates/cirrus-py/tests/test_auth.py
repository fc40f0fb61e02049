"""cirrus_aws.auth: requests and httpx requests signed by each auth class, sent to the
signature-checking S3 server (s3s-fs) and to moto; the native signer against botocore's SigV4 on
every vector of the AWS SigV4 test suite (testdata/sigv4/v4)."""

from __future__ import annotations

import datetime
import io
import json
import os
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Optional

import botocore.auth
import botocore.credentials
import httpx
import pytest
import requests
from botocore.awsrequest import AWSRequest

import cirrus_aws
from cirrus_aws import Config, Credentials, ParamValidationError
from cirrus_aws._cirrus import sign_headers
from cirrus_aws.auth import AWS4Auth, AWSRequestsAuth, BotoAWSRequestsAuth, HttpxSigV4Auth, SigV4Auth

from conftest import need

# --- the AWS SigV4 test suite, one case per vector -------------------------------------------

SUITE = Path(os.environ.get("CIRRUS_TESTDATA", Path(__file__).parents[3] / "testdata")) / "sigv4" / "v4"
CASES = sorted(p.name for p in SUITE.iterdir() if p.is_dir()) if SUITE.is_dir() else []
SUITE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def test_the_suite_is_there() -> None:
    assert len(CASES) >= 40, f"the SigV4 suite is missing or cut short under {SUITE}"


def read(case: Path, name: str) -> str:
    return (case / name).read_text(encoding="utf-8").replace("\r\n", "\n").rstrip()


def context(case: Path) -> dict[str, Any]:
    """The case's context.json, or for the two cases without one the suite's common inputs at
    the time and scope their canonical request and string to sign show."""
    if (case / "context.json").exists():
        ctx: dict[str, Any] = json.loads(read(case, "context.json"))
        ctx["time"] = datetime.datetime.strptime(ctx["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
        ctx["check_signature"] = True
        return ctx
    creq = read(case, "header-canonical-request.txt")
    amz_date = next(line.split(":", 1)[1] for line in creq.splitlines() if line.startswith("x-amz-date:"))
    sts = case / "header-string-to-sign.txt"
    scope = read(case, sts.name).splitlines()[2].split("/") if sts.exists() else ["", "us-east-1", "service"]
    return {
        "credentials": {"access_key_id": "AKIDEXAMPLE", "secret_access_key": SUITE_SECRET},
        "region": scope[1],
        "service": scope[2],
        "time": datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ"),
        "normalize": True,
        "sign_body": False,
        "check_signature": False,
    }


def parse_request(case: Path) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """request.txt: method, target, headers (folded lines joined by a space), body."""
    raw = (case / "request.txt").read_bytes().replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    lines = head.decode("utf-8").split("\n")
    method, rest = lines[0].split(" ", 1)
    target = rest.rsplit(" ", 1)[0]
    headers: list[tuple[str, str]] = []
    for line in filter(None, lines[1:]):
        if line[:1] in (" ", "\t"):
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}".strip())
        else:
            name, value = line.split(":", 1)
            headers.append((name, value))
    signed = case / "header-signed-request.txt"
    if signed.exists():
        # get-space-normalized: the copy of the suite rewrote `/example space/` as
        # `/example%20space/` in request.txt but kept the outputs for the raw space (as the
        # Rust suite test says); the request signed is the one the signed request shows.
        shown = read(case, "header-signed-request.txt").splitlines()[0].split(" ", 1)[1].rsplit(" ", 1)[0]
        if shown.split("?")[0] != target.split("?")[0]:
            target = shown
    return method, target, headers, body


def botocore_authorization(
    monkeypatch: pytest.MonkeyPatch, ctx: dict[str, Any], method: str, url: str, headers: list[tuple[str, str]], body: bytes
) -> str:
    """The Authorization header botocore's SigV4Auth.add_auth gives, at the case's time."""
    c = ctx["credentials"]
    creds = botocore.credentials.Credentials(c["access_key_id"], c["secret_access_key"], c.get("token"))
    auth = botocore.auth.SigV4Auth(creds, ctx["service"], ctx["region"])
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        request.headers.add_header(name, value)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: ctx["time"])
    auth.add_auth(request)
    return str(request.headers["Authorization"])


@pytest.mark.parametrize("name", CASES)
def test_suite_vector_signs_as_botocore_does(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = SUITE / name
    ctx = context(case)
    method, target, headers, body = parse_request(case)
    host = next(v for n, v in headers if n.lower() == "host")
    # The query as an HTTP client sends it, non-ASCII percent-encoded (botocore signs the query
    # as it is given; the path, both signers encode).
    path, question, query = target.partition("?")
    query = urllib.parse.quote(query, safe="".join(chr(c) for c in range(33, 127)))
    url = f"https://{host}{path}{question}{query}"
    c = ctx["credentials"]
    creds = Credentials(c["access_key_id"], c["secret_access_key"], c.get("token"))
    when = ctx["time"].replace(tzinfo=datetime.timezone.utc)
    ours = sign_headers(method, url, headers, body, ctx["region"], ctx["service"], creds, time=when)
    assert ours["X-Amz-Date"] == when.strftime("%Y%m%dT%H%M%SZ")
    assert ours["Authorization"] == botocore_authorization(monkeypatch, ctx, method, url, headers, body)
    # Where the case asks for what the signer does for a service (normalized paths, the token
    # signed), its own expected signature too.
    if ctx["check_signature"] and ctx["normalize"] and not ctx.get("omit_session_token") and not ctx["sign_body"]:
        expected = next(
            line.split(":", 1)[1]
            for line in read(case, "header-signed-request.txt").splitlines()
            if line.startswith("Authorization:")
        )
        assert ours["Authorization"] == expected.strip()


# --- the native function's contract ----------------------------------------------------------

CREDS = Credentials("AKIDEXAMPLE", SUITE_SECRET)
WHEN = datetime.datetime(2015, 8, 30, 12, 36, tzinfo=datetime.timezone.utc)


def test_default_ports_are_left_out_of_host_as_clients_send_it() -> None:
    plain = sign_headers("GET", "https://example.amazonaws.com/", {}, None, "us-east-1", "service", CREDS, time=WHEN)
    port = sign_headers("GET", "https://example.amazonaws.com:443/", {}, None, "us-east-1", "service", CREDS, time=WHEN)
    other = sign_headers("GET", "https://example.amazonaws.com:8443/", {}, None, "us-east-1", "service", CREDS, time=WHEN)
    assert plain == port != other
    assert plain["Authorization"].endswith("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")


def test_payload_hash_unsigned_and_precomputed() -> None:
    body = b'{"a": 1}'
    digest = "f9d86028c6e0d64e225186f96acb69338b2c59764df79162107f5c4bb34d1310"
    by_body = sign_headers("PUT", "https://h/b/k", {}, body, "us-east-1", "s3", CREDS, time=WHEN)
    by_hash = sign_headers("PUT", "https://h/b/k", {}, None, "us-east-1", "s3", CREDS, payload_hash=digest, time=WHEN)
    assert by_body == by_hash and by_body["X-Amz-Content-SHA256"] == digest
    unsigned = sign_headers(
        "PUT", "https://h/b/k", {}, None, "us-east-1", "s3", CREDS, payload_hash="UNSIGNED-PAYLOAD", time=WHEN
    )
    assert unsigned["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    assert "X-Amz-Content-SHA256" not in sign_headers("POST", "https://h/", {}, body, "us-east-1", "sts", CREDS)
    with pytest.raises(ParamValidationError, match="not both"):
        sign_headers("PUT", "https://h/", {}, body, "us-east-1", "s3", CREDS, payload_hash=digest)
    with pytest.raises(ParamValidationError, match="payload_hash"):
        sign_headers("PUT", "https://h/", {}, None, "us-east-1", "s3", CREDS, payload_hash="nope")
    with pytest.raises(TypeError, match="body"):
        sign_headers("PUT", "https://h/", {}, 42, "us-east-1", "s3", CREDS)  # type: ignore[arg-type]


def test_session_token_is_sent_and_bad_input_is_refused_without_secrets() -> None:
    secret, token = "s3cr3t-EXAMPLE-KEY", "T0KEN-EXAMPLE"
    creds = Credentials("AKIDEXAMPLE", secret, token)
    out = sign_headers("GET", "https://h/", [("Accept", "*/*")], None, "eu-west-1", "es", creds)
    assert out["X-Amz-Security-Token"] == token
    assert "x-amz-security-token" in out["Authorization"]
    for bad in ([("X-Bad", "a\r\nInjected: 1")], [("Bad Name", "v")], {"X": 42}):
        with pytest.raises((ParamValidationError, TypeError)) as caught:
            sign_headers("GET", "https://h/", bad, None, "eu-west-1", "es", creds)  # type: ignore[arg-type]
        assert secret not in str(caught.value) and token not in str(caught.value)
    with pytest.raises(TypeError, match="Credentials"):
        sign_headers("GET", "https://h/", {}, None, "eu-west-1", "es", "AKID:secret")  # type: ignore[arg-type]
    for auth in (
        SigV4Auth("eu-west-1", "es", credentials=creds),
        HttpxSigV4Auth("eu-west-1", "es", credentials=creds),
        AWSRequestsAuth("AKIDEXAMPLE", secret, "h", "eu-west-1", "es", token),
        AWS4Auth("AKIDEXAMPLE", secret, "eu-west-1", "es", session_token=token),
    ):
        shown = repr(auth)
        assert "AKIDEXAMPLE" in shown and secret not in shown and token not in shown


def test_config_credentials_come_from_its_cache_and_are_refreshed() -> None:
    calls: list[float] = []

    def fresh() -> Credentials:
        calls.append(1)
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        return Credentials("AKIDFRESH", "secret", "token", expiry=expiry)

    config = Config(region="us-east-1", credentials=fresh)
    for _ in range(200):
        out = sign_headers("GET", "https://h/", {}, None, "us-east-1", "es", config)
    assert len(calls) == 1 and "AKIDFRESH/" in out["Authorization"]

    expiring: list[float] = []

    def nearly_expired() -> Credentials:
        expiring.append(1)
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=30)
        return Credentials(f"AKIDSHORT{len(expiring)}", "secret", expiry=expiry)

    config = Config(region="us-east-1", credentials=nearly_expired)
    first = sign_headers("GET", "https://h/", {}, None, "us-east-1", "es", config)
    second = sign_headers("GET", "https://h/", {}, None, "us-east-1", "es", config)
    # Inside the last minute before expiry every signature waits for new credentials.
    assert "AKIDSHORT1/" in first["Authorization"] and "AKIDSHORT2/" in second["Authorization"]

    with pytest.raises(cirrus_aws.CredentialsError):
        sign_headers("GET", "https://h/", {}, None, "us-east-1", "es", Config(region="us-east-1", signed=False))


# --- real requests: s3s-fs checks every signature --------------------------------------------

KEY = "dir/a key with spaces ü €.txt"


def s3s_credentials() -> Credentials:
    return Credentials(need("CIRRUS_S3S_ACCESS_KEY"), need("CIRRUS_S3S_SECRET_KEY"))


def s3s_host() -> str:
    return urllib.parse.urlsplit(need("CIRRUS_S3S_URL")).netloc


def sigv4_auth() -> Any:
    return SigV4Auth("us-east-1", "s3", credentials=s3s_credentials())


def sigv4_auth_config() -> Any:
    return SigV4Auth("us-east-1", "s3", config=Config(region="us-east-1", credentials=s3s_credentials()))


def aws_requests_auth() -> Any:
    return AWSRequestsAuth(need("CIRRUS_S3S_ACCESS_KEY"), need("CIRRUS_S3S_SECRET_KEY"), s3s_host(), "us-east-1", "s3")


def boto_aws_requests_auth() -> Any:
    # The default chain: here the environment (conftest cleared every other AWS setting).
    os.environ["AWS_ACCESS_KEY_ID"] = need("CIRRUS_S3S_ACCESS_KEY")
    os.environ["AWS_SECRET_ACCESS_KEY"] = need("CIRRUS_S3S_SECRET_KEY")
    return BotoAWSRequestsAuth(s3s_host(), "us-east-1", "s3")


def aws4auth() -> Any:
    return AWS4Auth(need("CIRRUS_S3S_ACCESS_KEY"), need("CIRRUS_S3S_SECRET_KEY"), "us-east-1", "s3")


def aws4auth_refreshable() -> Any:
    creds = botocore.credentials.RefreshableCredentials.create_from_metadata(
        {
            "access_key": need("CIRRUS_S3S_ACCESS_KEY"),
            "secret_key": need("CIRRUS_S3S_SECRET_KEY"),
            "token": None,
            "expiry_time": (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).isoformat(),
        },
        refresh_using=lambda: {},
        method="test",
    )
    return AWS4Auth(region="us-east-1", service="s3", refreshable_credentials=creds)


REQUESTS_AUTHS: dict[str, Callable[[], Any]] = {
    "SigV4Auth": sigv4_auth,
    "SigV4Auth-config": sigv4_auth_config,
    "AWSRequestsAuth": aws_requests_auth,
    "BotoAWSRequestsAuth": boto_aws_requests_auth,
    "AWS4Auth": aws4auth,
    "AWS4Auth-refreshable": aws4auth_refreshable,
}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lets a test set AWS_* variables that are undone after it."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unset")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unset")


@pytest.mark.parametrize("make", REQUESTS_AUTHS.values(), ids=REQUESTS_AUTHS.keys())
def test_requests_signed_by_each_class_are_accepted_by_s3s(
    make: Callable[[], Any], bucket: str, aws_env: None
) -> None:
    auth = make()
    base = need("CIRRUS_S3S_URL").rstrip("/")
    url = f"{base}/{bucket}/{KEY}"  # requests percent-encodes the space and the UTF-8
    put = requests.put(url, data="naïve body", headers={"Content-Type": "text/plain"}, auth=auth, timeout=30)
    assert put.status_code == 200, put.text
    got = requests.get(url, params={"response-content-type": "text/x-test; a=b"}, auth=auth, timeout=30)
    assert got.status_code == 200, got.text
    assert got.content == "naïve body".encode() and got.headers["Content-Type"] == "text/x-test; a=b"
    listed = requests.get(f"{base}/{bucket}", params={"list-type": "2", "prefix": "dir/a key"}, auth=auth, timeout=30)
    assert listed.status_code == 200 and KEY in urllib.parse.unquote(listed.text)


def test_requests_streamed_body_is_unsigned_for_s3_and_refused_elsewhere(bucket: str) -> None:
    url = f"{need('CIRRUS_S3S_URL').rstrip('/')}/{bucket}/streamed.bin"
    put = requests.put(url, data=io.BytesIO(b"x" * 100_000), auth=sigv4_auth(), timeout=30)
    assert put.status_code == 200, put.text
    assert put.request.headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    assert requests.get(url, auth=sigv4_auth(), timeout=30).content == b"x" * 100_000
    es = SigV4Auth("us-east-1", "es", credentials=s3s_credentials())
    with pytest.raises(ParamValidationError, match="streamed body"):
        requests.put(url, data=io.BytesIO(b"x"), auth=es, timeout=30)


def test_a_wrong_secret_is_refused_by_s3s(bucket: str) -> None:
    url = f"{need('CIRRUS_S3S_URL').rstrip('/')}/{bucket}/{KEY}"
    wrong = SigV4Auth("us-east-1", "s3", credentials=Credentials(need("CIRRUS_S3S_ACCESS_KEY"), "not-the-secret"))
    put = requests.put(url, data=b"body", auth=wrong, timeout=30)
    assert put.status_code == 403 and "SignatureDoesNotMatch" in put.text
    wrong_httpx = HttpxSigV4Auth("us-east-1", "s3", credentials=Credentials(need("CIRRUS_S3S_ACCESS_KEY"), "nope"))
    assert httpx.put(url, content=b"body", auth=wrong_httpx).status_code == 403


def test_httpx_sync_put_get_and_streamed_upload(bucket: str) -> None:
    auth = HttpxSigV4Auth("us-east-1", "s3", credentials=s3s_credentials())
    url = f"{need('CIRRUS_S3S_URL').rstrip('/')}/{bucket}/{KEY}"
    with httpx.Client(auth=auth, timeout=30) as client:
        put = client.put(url, content="naïve body".encode(), headers={"Content-Type": "text/plain"})
        assert put.status_code == 200, put.text
        got = client.get(url, params={"response-content-type": "text/x-test"})
        assert got.status_code == 200 and got.content == "naïve body".encode(), got.text
        chunks = iter([b"a" * 70_000, b"b" * 30_000])
        streamed = client.put(f"{url}.streamed", content=chunks, headers={"Content-Length": "100000"})
        assert streamed.status_code == 200, streamed.text
        assert streamed.request.headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
        assert client.get(f"{url}.streamed").content == b"a" * 70_000 + b"b" * 30_000


async def test_httpx_async_put_get(bucket: str) -> None:
    auth = HttpxSigV4Auth("us-east-1", "s3", config=Config(region="us-east-1", credentials=s3s_credentials()))
    url = f"{need('CIRRUS_S3S_URL').rstrip('/')}/{bucket}/{KEY}"
    async with httpx.AsyncClient(auth=auth, timeout=30) as client:
        put = await client.put(url, content=b"async body")
        assert put.status_code == 200, put.text
        got = await client.get(url, params={"response-content-type": "text/x-test", "x-id": "GetObject"})
        assert got.status_code == 200 and got.content == b"async body", got.text

        async def body() -> Any:
            yield b"streamed "
            yield b"async"

        streamed = await client.put(f"{url}.2", content=body(), headers={"Content-Length": "14"})
        assert streamed.status_code == 200, streamed.text
        assert (await client.get(f"{url}.2")).content == b"streamed async"


async def test_httpx_async_awaits_a_slow_refresh_with_the_loop_going_on(bucket: str) -> None:
    import asyncio
    import time

    fetched: list[str] = []

    def slow_source() -> Credentials:
        time.sleep(0.5)  # an SSO or STS call: the event loop must not wait for it
        fetched.append("once")
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        return Credentials(need("CIRRUS_S3S_ACCESS_KEY"), need("CIRRUS_S3S_SECRET_KEY"), expiry=expiry)

    auth = HttpxSigV4Auth("us-east-1", "s3", config=Config(region="us-east-1", credentials=slow_source))
    url = f"{need('CIRRUS_S3S_URL').rstrip('/')}/{bucket}/slow.txt"
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        async with httpx.AsyncClient(auth=auth, timeout=30) as client:
            put = await client.put(url, content=b"slow")
            assert put.status_code == 200, put.text
            assert (await client.get(url)).content == b"slow"
    finally:
        task.cancel()
    assert fetched == ["once"]
    assert ticks >= 20, f"the event loop stood still while the credentials were fetched ({ticks} ticks)"


# --- moto: STS GetCallerIdentity, a form POST signed for `sts` -------------------------------

STS_BODY = "Action=GetCallerIdentity&Version=2011-06-15"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def moto_auths() -> list[Any]:
    host = urllib.parse.urlsplit(need("CIRRUS_MOTO_URL")).netloc
    creds = Credentials("AKIDMOTO", "moto-secret")
    return [
        SigV4Auth("us-east-1", "sts", credentials=creds),
        AWSRequestsAuth("AKIDMOTO", "moto-secret", host, "us-east-1", "sts"),
        AWS4Auth("AKIDMOTO", "moto-secret", "us-east-1", "sts"),
    ]


def test_requests_sts_get_caller_identity_on_moto() -> None:
    for auth in moto_auths():
        r = requests.post(need("CIRRUS_MOTO_URL"), data=STS_BODY, headers=FORM, auth=auth, timeout=30)
        assert r.status_code == 200 and "<Arn>" in r.text, (auth, r.text)
        assert r.request.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDMOTO/")


async def test_httpx_sts_get_caller_identity_on_moto_sync_and_async() -> None:
    auth = HttpxSigV4Auth("us-east-1", "sts", credentials=Credentials("AKIDMOTO", "moto-secret", "tok"))
    with httpx.Client(auth=auth) as client:
        r = client.post(need("CIRRUS_MOTO_URL"), content=STS_BODY.encode(), headers=FORM)
        assert r.status_code == 200 and "<Arn>" in r.text, r.text
        assert r.request.headers["X-Amz-Security-Token"] == "tok"

    async def form() -> Any:
        yield STS_BODY.encode()

    async with httpx.AsyncClient(auth=auth) as aclient:
        # A streamed body for a service other than S3 is read first, then signed.
        ar = await aclient.post(need("CIRRUS_MOTO_URL"), content=form(), headers=FORM)
        assert ar.status_code == 200 and "<Arn>" in ar.text, ar.text
        assert "UNSIGNED" not in ar.request.headers["Authorization"]


# --- the drop-ins' constructors ---------------------------------------------------------------


def test_aws_requests_auth_attributes_set_new_keys() -> None:
    auth = AWSRequestsAuth("AKIDOLD", "old-secret", "h.example", "eu-west-1", "es")
    shown = (auth.aws_access_key, auth.aws_token, auth.aws_host, auth.aws_region)
    assert shown == ("AKIDOLD", None, "h.example", "eu-west-1")
    auth.aws_access_key, auth.aws_secret_access_key, auth.aws_token = "AKIDNEW", "new-secret", "new-token"
    prepared = auth(requests.Request("GET", "https://h.example/").prepare())
    assert prepared.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDNEW/")
    assert prepared.headers["X-Amz-Security-Token"] == "new-token"
    assert "new-secret" not in repr(auth) and "new-token" not in repr(auth)


class SigningKey:
    """requests-aws4auth's AWS4SigningKey, as far as AWS4Auth(access_id, signing_key) reads it."""

    def __init__(self, secret_key: Optional[str]) -> None:
        self.secret_key, self.region, self.service, self.date = secret_key, "us-east-1", "s3", "20240101"


def test_aws4auth_constructor_forms() -> None:
    by_key = AWS4Auth("AKIDEXAMPLE", SigningKey(SUITE_SECRET))
    assert (by_key.access_id, by_key.region, by_key.service) == ("AKIDEXAMPLE", "us-east-1", "s3")
    with pytest.raises(ValueError, match="store_secret_key=False"):
        AWS4Auth("AKIDEXAMPLE", SigningKey(None))
    with pytest.raises(TypeError, match="2, 4 or 5 arguments, 3 given"):
        AWS4Auth("AKIDEXAMPLE", SUITE_SECRET, "us-east-1")
    with pytest.raises(TypeError, match="region must be provided"):
        AWS4Auth(service="s3", refreshable_credentials=botocore.credentials.Credentials("a", "b"))
    dated = AWS4Auth("AKIDEXAMPLE", SUITE_SECRET, "us-east-1", "s3", "20150830", session_token="t")
    assert dated.date == "20150830" and dated.session_token == "t"
    only_host = AWS4Auth("AKIDEXAMPLE", SUITE_SECRET, "us-east-1", "es", include_hdrs=["host"])
    prepared = requests.Request("GET", "https://h/", headers={"X-Amz-Meta": "1", "Content-Type": "a/b"}).prepare()
    signed = only_host(prepared)
    assert "SignedHeaders=host;x-amz-date," in signed.headers["Authorization"]
