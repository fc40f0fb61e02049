"""AsyncS3Client against the signature-checking server."""

from __future__ import annotations

import asyncio

import cirrus_aws
from cirrus_aws import S3Client


async def test_async_list_goes_page_by_page_in_key_order(
    s3: S3Client, s3_config: cirrus_aws.Config, bucket: str
) -> None:
    keys = sorted(f"k/{i:03}" for i in range(250))
    for key in keys:
        s3.put(bucket, key, b"x")
    client = cirrus_aws.AsyncS3Client(s3_config)
    listed = [o async for o in client.list(bucket, "k/", page_size=100)]
    assert [o.key for o in listed] == keys
    assert {o.size for o in listed} == {1}
    # Objects of the page in hand come from a future already done, a page from the runtime:
    # asked for all at once, each still comes once, and every one comes.
    it = client.list(bucket, "k/", page_size=100)
    got = await asyncio.gather(*(it.__anext__() for _ in range(len(keys))))
    assert sorted(o.key for o in got) == keys
    assert [o.key async for o in it] == []
    assert [o.key async for o in client.list(bucket, "none/")] == []
