"""One timed case of bench/python (run.sh drives it through report.py): a fresh process per run,
so each tool starts cold and /usr/bin/time sees its own peak RSS.

    cases.py TOOL OP ENDPOINT BUCKET PREFIX LOCAL [N]

TOOL picks the library and the way it is used (see TOOLS), OP one of
  up      the files LOCAL/00000.bin.. (N of them) -> s3://BUCKET/PREFIX/<name>
  down    those keys -> LOCAL/<name> (LOCAL is a fresh directory)
  put     the file LOCAL -> s3://BUCKET/PREFIX (one large object)
  get     s3://BUCKET/PREFIX -> the file LOCAL
  list    count the keys under PREFIX/ (expects N)

Prints one JSON line: {"seconds": ..., "count": ...}. The seconds cover the operation only:
the imports and the client are made before the clock starts (the cold start is its own case).
Credentials: BENCH_ACCESS_KEY, BENCH_SECRET_KEY; region: BENCH_REGION (us-east-1); requests in
flight of the gather cases: BENCH_CONC (128).
"""
import asyncio
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

AK, SK = os.environ["BENCH_ACCESS_KEY"], os.environ["BENCH_SECRET_KEY"]
CONC = int(os.environ.get("BENCH_CONC", "128"))
REGION = os.environ.get("BENCH_REGION", "us-east-1")


def names(n):
    return [f"{i:05d}.bin" for i in range(n)]


# -- cirrus_aws -----------------------------------------------------------------------------------

def cirrus_config(endpoint):
    import cirrus_aws

    return cirrus_aws.Config(region=REGION, endpoint_url=endpoint, credentials=cirrus_aws.Credentials(AK, SK))


def cirrus_cp(endpoint, bucket, prefix, local, n, op):
    import cirrus_aws

    s3 = cirrus_aws.S3Client(cirrus_config(endpoint))
    url = f"s3://{bucket}/{prefix}"
    src, dst = {"up": (local, url + "/"), "down": (url + "/", local), "put": (local, url), "get": (url, local)}[op]
    t = time.perf_counter()
    summary = s3.cp(src, dst, recursive=op in ("up", "down"))
    return time.perf_counter() - t, summary.done


def cirrus_file(endpoint, bucket, prefix, local, n, op):
    import cirrus_aws

    return one_file(cirrus_aws.S3Client(cirrus_config(endpoint)), bucket, prefix, local, op)


def one_file(s3, bucket, key, local, op):
    """upload_file or download_file (boto3's names and argument order, which cirrus_aws shares), timed."""
    t = time.perf_counter()
    if op == "put":
        s3.upload_file(local, bucket, key)
    else:
        s3.download_file(bucket, key, local)
    return time.perf_counter() - t, 1


def cirrus_async(endpoint, bucket, prefix, local, n, op):
    import cirrus_aws

    async def main():
        s3 = cirrus_aws.AsyncS3Client(cirrus_config(endpoint))
        if op == "list":
            t = time.perf_counter()
            count = 0
            async for _ in s3.list(bucket, prefix + "/"):
                count += 1
            return time.perf_counter() - t, count
        return await gather(op, local, n, lambda k, d: s3.put(bucket, f"{prefix}/{k}", d),
                            lambda k: s3.get(bucket, f"{prefix}/{k}"))

    return asyncio.run(main())


def cirrus_list(endpoint, bucket, prefix, local, n, op):
    import cirrus_aws

    s3 = cirrus_aws.S3Client(cirrus_config(endpoint))
    t = time.perf_counter()
    count = sum(1 for _ in s3.list(bucket, prefix + "/"))
    return time.perf_counter() - t, count


async def gather(op, local, n, put, get):
    """put/get (async, one object each) for the N files under asyncio.gather, CONC at a time."""
    sem = asyncio.Semaphore(CONC)
    local = Path(local)

    async def up(k):
        async with sem:
            await put(k, (local / k).read_bytes())

    async def down(k):
        async with sem:
            (local / k).write_bytes(bytes(await get(k)))

    one = up if op == "up" else down
    t = time.perf_counter()
    await asyncio.gather(*(one(k) for k in names(n)))
    return time.perf_counter() - t, n


# -- boto3 / aioboto3 -----------------------------------------------------------------------------

def boto3_client(endpoint, pool):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=AK,
                        aws_secret_access_key=SK,
                        config=Config(max_pool_connections=pool, s3={"addressing_style": "path"}))


def boto3_threads(workers):
    def run(endpoint, bucket, prefix, local, n, op):
        # The pool as large as the threads (botocore's default is 10 connections).
        s3 = boto3_client(endpoint, max(10, workers))

        def up(k):
            s3.upload_file(os.path.join(local, k), bucket, f"{prefix}/{k}")

        def down(k):
            s3.download_file(bucket, f"{prefix}/{k}", os.path.join(local, k))

        t = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(up if op == "up" else down, names(n)))
        return time.perf_counter() - t, n

    return run


def boto3_file(endpoint, bucket, prefix, local, n, op):
    # its TransferManager's defaults: 8 MiB parts, 10 threads
    return one_file(boto3_client(endpoint, 10), bucket, prefix, local, op)


def boto3_list(endpoint, bucket, prefix, local, n, op):
    s3 = boto3_client(endpoint, 10)
    t = time.perf_counter()
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        count += len(page.get("Contents", []))
    return time.perf_counter() - t, count


def aioboto3_gather(endpoint, bucket, prefix, local, n, op):
    import aioboto3
    from aiobotocore.config import AioConfig

    async def main():
        config = AioConfig(max_pool_connections=CONC, s3={"addressing_style": "path"})
        session = aioboto3.Session()
        async with session.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=AK,
                                  aws_secret_access_key=SK, config=config) as s3:
            async def put(k, d):
                await s3.put_object(Bucket=bucket, Key=f"{prefix}/{k}", Body=d)

            async def get(k):
                r = await s3.get_object(Bucket=bucket, Key=f"{prefix}/{k}")
                async with r["Body"] as body:
                    return await body.read()

            return await gather(op, local, n, put, get)

    return asyncio.run(main())


# -- obstore --------------------------------------------------------------------------------------

def obstore_store(endpoint, bucket):
    from obstore.store import S3Store

    return S3Store(bucket, endpoint=endpoint, region=REGION, access_key_id=AK, secret_access_key=SK,
                   virtual_hosted_style_request=False, client_options={"allow_http": True})


def obstore_async(endpoint, bucket, prefix, local, n, op):
    import obstore

    store = obstore_store(endpoint, bucket)

    async def put(k, d):
        await obstore.put_async(store, f"{prefix}/{k}", d)

    async def get(k):
        r = await obstore.get_async(store, f"{prefix}/{k}")
        return await r.bytes_async()

    return asyncio.run(gather(op, local, n, put, get))


def obstore_file(endpoint, bucket, prefix, local, n, op):
    import obstore

    store = obstore_store(endpoint, bucket)
    t = time.perf_counter()
    if op == "put":
        obstore.put(store, prefix, Path(local))  # its defaults: 5 MiB parts, 12 at once
    else:
        with open(local, "wb") as f:
            for chunk in obstore.get(store, prefix):
                f.write(chunk)
    return time.perf_counter() - t, 1


def obstore_list(endpoint, bucket, prefix, local, n, op):
    import obstore

    store = obstore_store(endpoint, bucket)
    t = time.perf_counter()
    count = 0
    for batch in obstore.list(store, prefix + "/"):
        count += len(batch)
    return time.perf_counter() - t, count


# -- aioaws ---------------------------------------------------------------------------------------

def aioaws_gather(endpoint, bucket, prefix, local, n, op):
    """aioaws 0.15 as far as it goes against a custom endpoint: it always speaks https and PUTs
    by a presigned POST to the bucket's virtual host, so the scheme is set to http on its
    client and the POST goes to the path-style URL (its own form fields, unchanged); GETs use
    its presigned URL with the bucket in the path. Its header signing (used by list and delete)
    signs the host without the port, which no server on a non-default port accepts."""
    import httpx
    from aioaws.s3 import S3Client, S3Config

    host = endpoint.split("://", 1)[1]

    async def main():
        limits = httpx.Limits(max_connections=CONC, max_keepalive_connections=CONC)
        async with httpx.AsyncClient(limits=limits, timeout=60) as http:
            s3 = S3Client(http, S3Config(AK, SK, REGION, bucket, aws_host=host))
            s3._aws_client.schema = "http"

            async def put(k, d):
                form = s3.signed_upload_url(path=f"{prefix}/", filename=k, content_type="application/octet-stream",
                                            size=len(d))
                r = await http.post(f"{endpoint}/{bucket}/", data=form["fields"], files={"file": d})
                if r.status_code != 204:
                    raise RuntimeError(f"POST {k}: {r.status_code} {r.text[:300]}")

            async def get(k):
                return await s3.download(f"{bucket}/{prefix}/{k}")

            return await gather(op, local, n, put, get)

    return asyncio.run(main())


TOOLS = {
    ("cirrus-cp", "up"): cirrus_cp, ("cirrus-cp", "down"): cirrus_cp,
    ("cirrus-cp", "put"): cirrus_cp, ("cirrus-cp", "get"): cirrus_cp,
    ("cirrus-async", "up"): cirrus_async, ("cirrus-async", "down"): cirrus_async,
    ("cirrus-async", "list"): cirrus_async,
    ("cirrus", "put"): cirrus_file, ("cirrus", "get"): cirrus_file, ("cirrus", "list"): cirrus_list,
    ("boto3-10", "up"): boto3_threads(10), ("boto3-10", "down"): boto3_threads(10),
    ("boto3-64", "up"): boto3_threads(64), ("boto3-64", "down"): boto3_threads(64),
    ("boto3", "put"): boto3_file, ("boto3", "get"): boto3_file, ("boto3", "list"): boto3_list,
    ("aioboto3", "up"): aioboto3_gather, ("aioboto3", "down"): aioboto3_gather,
    ("obstore-async", "up"): obstore_async, ("obstore-async", "down"): obstore_async,
    ("obstore", "put"): obstore_file, ("obstore", "get"): obstore_file, ("obstore", "list"): obstore_list,
    ("aioaws", "up"): aioaws_gather, ("aioaws", "down"): aioaws_gather,
}


def main():
    tool, op, endpoint, bucket, prefix, local = sys.argv[1:7]
    n = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    run = TOOLS.get((tool, op))
    if run is None:
        raise SystemExit(f"no case {tool} {op} (known: {sorted(TOOLS)})")
    seconds, count = run(endpoint, bucket, prefix, local, n, op)
    print(json.dumps({"seconds": seconds, "count": count}), flush=True)


if __name__ == "__main__":
    main()
