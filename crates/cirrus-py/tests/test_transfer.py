"""cp, sync, mv and rm: filters, progress totals, dry runs, deletes only of what was seen whole."""

from __future__ import annotations

import hashlib
import os
import pathlib

import pytest

import cirrus_aws
from cirrus_aws import S3Client, TransferError, TransferEvent


def make_tree(root: pathlib.Path) -> dict[str, bytes]:
    files = {
        "index.html": b"<h1>home</h1>",
        "a.txt": b"alpha",
        "docs/b.txt": b"bravo" * 100,
        "docs/c.log": b"charlie",
        "docs/deep/d.txt": os.urandom(3000),
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def keys(s3: S3Client, bucket: str, prefix: str = "") -> list[str]:
    return [o.key for o in s3.list(bucket, prefix)]


def test_cp_recursive_up_and_down_with_progress_totals(s3: S3Client, bucket: str, tmp_path: pathlib.Path) -> None:
    files = make_tree(tmp_path / "src")
    events: list[TransferEvent] = []
    summary = s3.cp(tmp_path / "src", f"s3://{bucket}/site/", recursive=True, progress=events.append)
    assert (summary.done, summary.failed, summary.skipped) == (5, 0, 0)
    total = sum(len(d) for d in files.values())
    assert summary.bytes == total and summary.ok
    done = [e for e in events if e.kind == "done"]
    assert sorted(e.dst for e in done) == sorted(f"s3://{bucket}/site/{k}" for k in files)
    assert all(e.action == "upload" for e in done)
    assert sum(e.bytes for e in events if e.kind == "bytes") == total
    assert [e.bytes for e in events if e.kind == "listed"] == [total]
    assert str(done[0]).startswith("upload: ")

    back = s3.cp(f"s3://{bucket}/site/", tmp_path / "back", recursive=True)
    assert back.done == 5 and back.verified == 5
    for rel, data in files.items():
        assert (tmp_path / "back" / rel).read_bytes() == data


def test_filters_follow_the_aws_cli(s3: S3Client, bucket: str, tmp_path: pathlib.Path) -> None:
    make_tree(tmp_path)
    s3.cp(tmp_path, f"s3://{bucket}/f/", recursive=True, exclude="*", include=["*.txt"])
    assert keys(s3, bucket) == ["f/a.txt", "f/docs/b.txt", "f/docs/deep/d.txt"]
    # Ordered rules: the later wins, as with --include ... --exclude ...
    s3.cp(tmp_path, f"s3://{bucket}/g/", recursive=True, filters=[("include", "docs/*"), ("exclude", "docs/deep/*")])
    assert keys(s3, bucket, "g/") == ["g/a.txt", "g/docs/b.txt", "g/docs/c.log", "g/index.html"]
    with pytest.raises(ValueError):
        s3.cp(tmp_path, f"s3://{bucket}/h/", recursive=True, filters=[("keep", "*")])
    with pytest.raises(TypeError):
        s3.cp(tmp_path, f"s3://{bucket}/h/", recursive=True, recursve=True)  # type: ignore[call-arg]


def test_sync_sends_only_changes_and_deletes_only_what_the_source_lacks(
    s3: S3Client, bucket: str, tmp_path: pathlib.Path
) -> None:
    make_tree(tmp_path)
    first = s3.sync(tmp_path, f"s3://{bucket}/s/")
    assert first.done == 5
    assert s3.sync(tmp_path, f"s3://{bucket}/s/").done == 0
    (tmp_path / "a.txt").write_bytes(b"alpha, longer now")
    (tmp_path / "docs" / "c.log").unlink()
    s3.put(bucket, "s-other/keep", b"outside the prefix")

    planned: list[TransferEvent] = []
    dry = s3.sync(tmp_path, f"s3://{bucket}/s/", delete=True, dryrun=True, progress=planned.append)
    assert sorted(str(e) for e in planned if e.kind == "dryrun") == [
        f"(dryrun) delete: s3://{bucket}/s/docs/c.log",
        f"(dryrun) upload: {tmp_path}/a.txt to s3://{bucket}/s/a.txt",
    ]
    assert dry.done == 0 and "s/docs/c.log" in keys(s3, bucket)

    again = s3.sync(tmp_path, f"s3://{bucket}/s/", delete=True)
    assert again.done == 2
    assert s3.get(bucket, "s/a.txt") == b"alpha, longer now"
    assert "s/docs/c.log" not in keys(s3, bucket)
    assert s3.get(bucket, "s-other/keep") == b"outside the prefix"




def test_mv_removes_each_source_once_its_copy_is_there(s3: S3Client, bucket: str, tmp_path: pathlib.Path) -> None:
    files = make_tree(tmp_path)
    s3.cp(tmp_path, f"s3://{bucket}/m/", recursive=True)
    summary = s3.mv(f"s3://{bucket}/m/docs/", f"s3://{bucket}/moved/", recursive=True)
    assert summary.done == 3
    assert keys(s3, bucket, "m/docs/") == []
    assert s3.get(bucket, "moved/deep/d.txt") == files["docs/deep/d.txt"]


def test_rm_recursive_and_dryrun(s3: S3Client, bucket: str) -> None:
    for i in range(30):
        s3.put(bucket, f"r/{i:02}", b"x")
    s3.put(bucket, "r-sibling", b"stays")
    dry = s3.rm(f"s3://{bucket}/r/", recursive=True, dryrun=True)
    assert dry.done == 0 and len(keys(s3, bucket, "r/")) == 30
    gone = s3.rm(f"s3://{bucket}/r/", recursive=True)
    assert gone.done == 30
    assert keys(s3, bucket) == ["r-sibling"]


def test_a_failed_object_raises_transfer_error_with_the_summary(
    s3: S3Client, moto_s3: S3Client, bucket: str, tmp_path: pathlib.Path
) -> None:
    with pytest.raises(cirrus_aws.NotFoundError):
        s3.cp(f"s3://{bucket}/missing", tmp_path / "x")
    # Objects a bucket that does not exist refuses (moto; s3s-fs makes buckets as it goes):
    # each fails, the transfer raises.
    make_tree(tmp_path / "src")
    with pytest.raises(TransferError) as caught:
        moto_s3.cp(tmp_path / "src", f"s3://{bucket}-missing/x/", recursive=True)
    summary = caught.value.summary
    assert (summary.done, summary.failed) == (0, 5)
    assert len(summary.errors) == 5 and all("upload failed" in e and "NoSuchBucket" in e for e in summary.errors)
    quiet = moto_s3.cp(tmp_path / "src", f"s3://{bucket}-missing/x/", recursive=True, raise_on_failure=False)
    assert quiet.failed == 5 and not quiet.ok


def test_a_skip_is_told_not_raised(s3: S3Client, bucket: str, tmp_path: pathlib.Path) -> None:
    s3.put(bucket, "ok/a", b"a")
    s3.put(bucket, "ok/b", b"b")
    # A folder where a file must go: that download is skipped with a warning, and the folder kept.
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "inside").write_text("keep")
    summary = s3.cp(f"s3://{bucket}/ok/", tmp_path, recursive=True)
    assert (summary.done, summary.skipped, summary.ok) == (1, 1, False)
    assert summary.errors == [f"warning: skipping s3://{bucket}/ok/b: {tmp_path}/b is a directory, where the key needs a file"]
    assert (tmp_path / "b" / "inside").read_text() == "keep"


def test_checksums_of_what_was_moved(s3: S3Client, bucket: str, tmp_path: pathlib.Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024))  # above the 8 MiB threshold: multipart
    s3.cp(big, f"s3://{bucket}/big.bin")
    out = tmp_path / "out.bin"
    s3.cp(f"s3://{bucket}/big.bin", out)
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(big.read_bytes()).digest()


async def test_async_cp_and_sync(s3_config: cirrus_aws.Config, bucket: str, tmp_path: pathlib.Path) -> None:
    files = make_tree(tmp_path / "src")
    a = cirrus_aws.AsyncS3Client(s3_config)
    summary = await a.cp(str(tmp_path / "src"), f"s3://{bucket}/as/", recursive=True)
    assert summary.done == len(files)
    assert (await a.sync(str(tmp_path / "src"), f"s3://{bucket}/as/")).done == 0
    listed = [o.key async for o in a.list(bucket, "as/", page_size=2)]
    assert listed == sorted(f"as/{k}" for k in files)
