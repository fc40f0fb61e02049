"""S3Client against the signature-checking server: objects, listing, presigned URLs."""

from __future__ import annotations

import datetime
import urllib.request

import pytest

import cirrus_aws
from cirrus_aws import NotFoundError, S3Client


def test_put_get_head_roundtrip(s3: S3Client, bucket: str) -> None:
    out = s3.put(bucket, "dir/hello.txt", b"hello", content_type="text/plain", metadata={"who": "me"})
    assert out["etag"] == '"5d41402abc4b2a76b9719d911017c592"'
    assert s3.get(bucket, "dir/hello.txt") == b"hello"
    assert s3.get(bucket, "dir/hello.txt", range="bytes=1-3") == b"ell"
    info = s3.head(bucket, "dir/hello.txt")
    assert (info.size, info.content_length, info.content_type) == (5, 5, "text/plain")
    assert info.metadata == {"who": "me"}
    assert isinstance(info.last_modified, datetime.datetime) and info.last_modified.tzinfo is not None


def test_put_takes_str_bytearray_and_memoryview(s3: S3Client, bucket: str) -> None:
    s3.put(bucket, "s", "naïve")
    s3.put(bucket, "b", bytearray(b"\x00\x01"))
    s3.put(bucket, "m", memoryview(b"view"))
    assert [s3.get(bucket, k) for k in ("s", "b", "m")] == ["naïve".encode(), b"\x00\x01", b"view"]
    with pytest.raises(ValueError):
        s3.put(bucket, "n", 42)


def test_list_goes_past_one_page(s3: S3Client, bucket: str) -> None:
    keys = sorted(f"k/{i:04}" for i in range(1005))
    for key in keys:
        s3.put(bucket, key, b"")
    listed = [o.key for o in s3.list(bucket, "k/")]
    assert listed == keys
    small = [o.key for o in s3.list(bucket, "k/", page_size=100, start_after="k/0999")]
    assert small == keys[1000:]


def test_missing_key_is_not_found_and_a_file_not_found_error(s3: S3Client, bucket: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        s3.get(bucket, "missing")
    e = caught.value
    assert isinstance(e, FileNotFoundError) and isinstance(e, cirrus_aws.ServiceError)
    assert (e.code, e.status, e.service, e.operation) == ("NoSuchKey", 404, "S3", "GetObject")
    assert e.response["Error"]["Code"] == "NoSuchKey"
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert e.attempts == 1


def test_wrong_secret_is_access_denied_and_never_shown(s3_config: cirrus_aws.Config, bucket: str) -> None:
    import os

    bad = cirrus_aws.Config(
        region="us-east-1",
        endpoint_url=os.environ["CIRRUS_S3S_URL"],
        credentials=cirrus_aws.Credentials(os.environ["CIRRUS_S3S_ACCESS_KEY"], "not-the-secret-xyz"),
    )
    with pytest.raises(cirrus_aws.ServiceError) as caught:
        S3Client(bad).get(bucket, "x")
    assert caught.value.status == 403
    assert isinstance(caught.value, PermissionError)
    assert "not-the-secret-xyz" not in str(caught.value) + repr(caught.value)
    assert "not-the-secret-xyz" not in repr(bad)


def test_presigned_get_and_put_work_without_credentials(s3: S3Client, bucket: str) -> None:
    put_url = s3.presign_put(bucket, "p.txt", expires_in=60)
    req = urllib.request.Request(put_url, data=b"presigned", method="PUT")
    with urllib.request.urlopen(req) as r:
        assert r.status == 200
    with urllib.request.urlopen(s3.presign_get(bucket, "p.txt")) as r:
        assert r.read() == b"presigned"


def test_delete_one_many_and_prefix(s3: S3Client, bucket: str) -> None:
    for k in ("a", "b", "c", "d/1", "d/2"):
        s3.put(bucket, k, b"x")
    assert s3.delete(bucket, "a") == 1
    assert s3.delete(bucket, "b", "c") == 2
    assert s3.delete_prefix(bucket, "d/") == 2
    assert list(s3.list(bucket)) == []
    with pytest.raises(ValueError):
        s3.delete_prefix(bucket, "")


def test_upload_and_download_file_with_callback(s3: S3Client, bucket: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "big.bin"
    data = bytes(range(256)) * 40_000  # 10 MB: a multipart upload
    src.write_bytes(data)
    sent: list[int] = []
    s3.upload_file(str(src), bucket, "big.bin", callback=sent.append)
    assert sum(sent) == len(data)
    dst = tmp_path / "back.bin"
    assert s3.download_file(bucket, "big.bin", str(dst)) == len(data)
    assert dst.read_bytes() == data


def test_upload_file_of_a_missing_file_is_file_not_found(s3: S3Client, bucket: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nope.bin"
    with pytest.raises(FileNotFoundError) as raised:
        s3.upload_file(str(missing), bucket, "nope.bin")
    assert raised.value.filename == str(missing)


def test_presigned_post_form_with_requests(s3: S3Client, bucket: str) -> None:
    import requests

    form = s3.presign_post(bucket, "uploads/42/avatar.png", content_type="image/png", max_size=1000)
    assert set(form) == {"url", "fields"} and form["fields"]["key"] == "uploads/42/avatar.png"
    ok = requests.post(form["url"], data=form["fields"], files={"file": ("a.png", b"\x01" * 100)}, timeout=30)
    assert 200 <= ok.status_code < 300, ok.text
    assert s3.get(bucket, "uploads/42/avatar.png") == b"\x01" * 100
    too_big = requests.post(form["url"], data=form["fields"], files={"file": ("a.png", b"\x01" * 5000)}, timeout=30)
    assert too_big.status_code >= 400
    elsewhere = dict(form["fields"], key="elsewhere/avatar.png")
    moved = requests.post(form["url"], data=elsewhere, files={"file": ("a.png", b"\x01" * 100)}, timeout=30)
    assert moved.status_code >= 400
    # A prefix form: the browser names the file.
    open_form = s3.presign_post(bucket, "drop/${filename}")
    assert open_form["fields"]["key"] == "drop/${filename}"
    named = requests.post(open_form["url"], data=open_form["fields"], files={"file": ("notes.txt", b"hi")}, timeout=30)
    assert 200 <= named.status_code < 300, named.text
    # S3 puts the file's name for ${filename}; s3s-fs keeps the key as the form gives it.
    [dropped] = [o.key for o in s3.list(bucket, "drop/")]
    assert dropped in ("drop/notes.txt", "drop/${filename}") and s3.get(bucket, dropped) == b"hi"


def test_multipart_upload_on_moto(moto_s3: S3Client, moto_bucket: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import hashlib
    import os

    data = os.urandom(17 * 1024 * 1024)  # 3 parts of 8 MiB
    (tmp_path / "f").write_bytes(data)
    out = moto_s3.upload_file(str(tmp_path / "f"), moto_bucket, "f")
    assert out["etag"] is not None and out["etag"].endswith('-3"')
    assert hashlib.md5(moto_s3.get(moto_bucket, "f")).digest() == hashlib.md5(data).digest()
