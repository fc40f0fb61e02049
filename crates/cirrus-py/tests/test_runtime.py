"""The runtime under the clients: threads, fork, Ctrl-C and asyncio cancellation, credentials
from a callable, secrets kept out of repr()."""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

import cirrus_aws
from cirrus_aws import S3Client


def boto_moto() -> "boto3.client":  # type: ignore[valid-type]
    """An independent look at moto's state (multipart uploads in progress)."""
    return boto3.client(
        "s3",
        endpoint_url=os.environ["CIRRUS_MOTO_URL"],
        region_name="us-east-1",
        aws_access_key_id="AKIDMOTO",
        aws_secret_access_key="moto-secret",
    )


def uploads_in_progress(bucket: str) -> list[str]:
    return [u["Key"] for u in boto_moto().list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def test_sixteen_threads_share_one_client(s3: S3Client, bucket: str) -> None:
    def work(i: int) -> bytes:
        key = f"t/{i}"
        s3.put(bucket, key, f"thread {i}".encode())
        return s3.get(bucket, key)

    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(work, range(64)))
    assert got == [f"thread {i}".encode() for i in range(64)]
    assert len(list(s3.list(bucket, "t/"))) == 64


def test_calls_let_go_of_the_gil(s3: S3Client, bucket: str, tmp_path: pathlib.Path) -> None:
    """While one thread downloads, another runs Python code."""
    (tmp_path / "f").write_bytes(os.urandom(4 << 20))
    s3.upload_file(str(tmp_path / "f"), bucket, "f")
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    t = threading.Thread(target=count)
    t.start()
    for _ in range(5):
        s3.download_file(bucket, "f", str(tmp_path / "g"))
    stop.set()
    t.join()
    assert ticks > 1000


def test_a_forked_child_makes_its_own_runtime(s3: S3Client, bucket: str) -> None:
    s3.put(bucket, "before-fork", b"parent")
    pid = os.fork()
    if pid == 0:  # the child: the parent's runtime threads are not here
        code = 0
        try:
            s3.put(bucket, "from-child", b"child")
            code = 0 if s3.get(bucket, "before-fork") == b"parent" else 3
        except BaseException:
            code = 4
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert s3.get(bucket, "from-child") == b"child"


CHILD = """
import os, signal, sys, threading, cirrus_aws
cfg = cirrus_aws.Config(region="us-east-1", endpoint_url=os.environ["CIRRUS_MOTO_URL"],
                        credentials=cirrus_aws.Credentials("AKIDMOTO", "moto-secret"))
s3 = cirrus_aws.S3Client(cfg)
interrupted = threading.Event()
told = threading.Event()

def on_sigint(signum, frame):
    interrupted.set()
    raise KeyboardInterrupt

signal.signal(signal.SIGINT, on_sigint)

def hold(event):
    # Once bytes move, the transfer waits here (in the engine's threads) until Ctrl-C: the
    # interrupt always comes in the middle.
    if event.kind == "bytes":
        if not told.is_set():
            told.set()
            print("moving", flush=True)
        interrupted.wait(30)

def hold_bytes(n):
    hold(type("Bytes", (), {"kind": "bytes"})())

try:
    if sys.argv[3] == "upload_file":
        bucket, key = sys.argv[2][len("s3://"):].split("/", 1)
        s3.upload_file(sys.argv[1], bucket, key, callback=hold_bytes)
    else:
        s3.cp(sys.argv[1], sys.argv[2], recursive=sys.argv[3] == "1", progress=hold)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    # Gone at once, with nothing left to run: the clean-up must have ended before the raise.
    os._exit(130)
print("finished", flush=True)
"""


def interrupt_midway(tmp_path: pathlib.Path, src: str, dst: str, recursive: bool | str) -> tuple[int, str, str]:
    """Runs a cp (or, with "upload_file", that) in a child, sends Ctrl-C once bytes move, and
    returns its exit and output."""
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    child = subprocess.Popen(
        [sys.executable, str(script), src, dst, recursive if isinstance(recursive, str) else str(int(recursive))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    first = child.stdout.readline().strip()
    if first != "moving":
        child.kill()
        pytest.fail(f"the child said {first!r} before any bytes moved: {child.communicate()[1]}")
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    return child.returncode, out.strip(), err


def test_ctrl_c_aborts_the_multipart_upload(moto_bucket: str, tmp_path: pathlib.Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(40 << 20))  # 5 parts of 8 MiB
    code, out, err = interrupt_midway(tmp_path, str(big), f"s3://{moto_bucket}/big.bin", False)
    assert (code, out) == (130, "interrupted"), err
    assert uploads_in_progress(moto_bucket) == []
    keys = [o["Key"] for o in boto_moto().list_objects_v2(Bucket=moto_bucket).get("Contents", [])]
    assert keys == []


def test_ctrl_c_aborts_an_upload_file(moto_bucket: str, tmp_path: pathlib.Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(40 << 20))
    code, out, err = interrupt_midway(tmp_path, str(big), f"s3://{moto_bucket}/big.bin", "upload_file")
    assert (code, out) == (130, "interrupted"), err
    assert uploads_in_progress(moto_bucket) == []
    keys = [o["Key"] for o in boto_moto().list_objects_v2(Bucket=moto_bucket).get("Contents", [])]
    assert keys == []


def test_ctrl_c_leaves_no_partial_download(moto_s3: S3Client, moto_bucket: str, tmp_path: pathlib.Path) -> None:
    for i in range(40):
        moto_s3.put(moto_bucket, f"d/{i:02}", os.urandom(256 << 10))
    out_dir = tmp_path / "out"
    code, out, err = interrupt_midway(tmp_path, f"s3://{moto_bucket}/d/", str(out_dir), True)
    assert (code, out) == (130, "interrupted"), err
    written = sorted(p.name for p in out_dir.iterdir()) if out_dir.exists() else []
    assert len(written) < 40
    # Every file there is whole and named as its object: no temporary file was left behind.
    for name in written:
        assert name.isdigit() and (out_dir / name).stat().st_size == 256 << 10


async def test_cancelling_the_task_aborts_the_upload(moto_config: cirrus_aws.Config, moto_bucket: str, tmp_path: pathlib.Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(40 << 20))
    a = cirrus_aws.AsyncS3Client(moto_config)
    moving, cancelled = threading.Event(), threading.Event()

    def hold(event: cirrus_aws.TransferEvent) -> None:
        if event.kind == "bytes":
            moving.set()
            cancelled.wait(30)  # the upload stays in the middle until the task is cancelled

    task = asyncio.create_task(a.cp(str(big), f"s3://{moto_bucket}/big.bin", progress=hold))
    assert await asyncio.to_thread(moving.wait, 30)
    assert await asyncio.to_thread(uploads_in_progress, moto_bucket) == ["big.bin"]
    task.cancel()
    cancelled.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The cancelled task ended after the clean-up: nothing is left to wait for.
    assert uploads_in_progress(moto_bucket) == []


async def test_cancelling_a_get_drops_it(s3_config: cirrus_aws.Config, bucket: str) -> None:
    a = cirrus_aws.AsyncS3Client(s3_config)
    await a.put(bucket, "k", b"v")
    task = asyncio.create_task(a.get(bucket, "k"))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await a.get(bucket, "k") == b"v"


def test_credentials_from_a_callable_are_cached_until_they_expire(bucket: str) -> None:
    calls = 0

    def fetch() -> cirrus_aws.Credentials:
        nonlocal calls
        calls += 1
        expiry = time.time() + 3600
        return cirrus_aws.Credentials(os.environ["CIRRUS_S3S_ACCESS_KEY"], os.environ["CIRRUS_S3S_SECRET_KEY"], expiry=expiry)

    cfg = cirrus_aws.Config(region="us-east-1", endpoint_url=os.environ["CIRRUS_S3S_URL"], credentials=fetch)
    s3 = S3Client(cfg)
    for i in range(5):
        s3.put(bucket, f"c/{i}", b"x")
    assert calls == 1
    assert cfg.credentials().provider == "python"


def test_a_failing_callable_is_a_credentials_error(bucket: str) -> None:
    def broken() -> cirrus_aws.Credentials:
        raise RuntimeError("vault is down")

    cfg = cirrus_aws.Config(region="us-east-1", endpoint_url=os.environ["CIRRUS_S3S_URL"], credentials=broken)
    with pytest.raises(cirrus_aws.CredentialsError, match="vault is down"):
        S3Client(cfg).get(bucket, "x")


def test_secrets_never_in_repr() -> None:
    creds = cirrus_aws.Credentials("AKIDSHOWN", "hidden-secret-1", "hidden-token-2")
    login = cirrus_aws.CognitoLogin("us-east-1_pool", "client", "alice", "hidden-password-3")
    cfg = cirrus_aws.Config(region="us-east-1", credentials=creds)
    shown = repr(creds) + str(creds) + repr(login) + repr(cfg)
    assert "AKIDSHOWN" in shown
    for secret in ("hidden-secret-1", "hidden-token-2", "hidden-password-3"):
        assert secret not in shown


def test_bad_config_says_what_and_where(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(cirrus_aws.ConfigError, match="not an http"):
        cirrus_aws.Config(region="us-east-1", endpoint_url="ftp://example.com")
    with pytest.raises(cirrus_aws.ConfigError, match="region"):
        cirrus_aws.Config(region="us east 1")
    config = tmp_path / "config"
    config.write_text("[profile broken\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    with pytest.raises(cirrus_aws.ConfigError, match=str(config)):
        cirrus_aws.Config(profile="broken")
