"""Signing N requests (default 100,000) with cirrus_aws.auth against the pure-Python signers.

    CASES=start bench/python/run.sh 1    # makes .tools/pybench, builds and installs the wheel
    .tools/pybench/bin/python bench/python/sign.py [--n 100000] [--runs 3]

Each signer signs the same requests `PreparedRequest` (botocore: the same `AWSRequest`) N times:
an S3 PUT of a 1 KiB body with the headers a requests Session sends. Prints the median of
`--runs` runs for each and its ratio to `SigV4Auth`. Not part of CI.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

import botocore.auth
import botocore.credentials
import requests
from aws_requests_auth.aws_auth import AWSRequestsAuth as LegacyAWSRequestsAuth
from botocore.awsrequest import AWSRequest
from requests_aws4auth import AWS4Auth as LegacyAWS4Auth

import cirrus_aws
from cirrus_aws import auth as cirrus_auth

ACCESS, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
HOST = "examplebucket.s3.us-east-1.amazonaws.com"
URL = f"https://{HOST}/photos/2024/a%20key.jpg?x-id=PutObject"
BODY = bytes(range(256)) * 4


def prepared() -> Any:
    session = requests.Session()
    request = requests.Request("PUT", URL, data=BODY, headers={"Content-Type": "image/jpeg"})
    return session.prepare_request(request)


def requests_signer(auth: Any) -> Callable[[int], None]:
    r = prepared()

    def run(n: int) -> None:
        for _ in range(n):
            auth(r)
        assert r.headers["Authorization"].startswith("AWS4-HMAC-SHA256 ")

    return run


def botocore_signer() -> Callable[[int], None]:
    creds = botocore.credentials.Credentials(ACCESS, SECRET)
    signer = botocore.auth.S3SigV4Auth(creds, "s3", "us-east-1")
    r = prepared()
    request = AWSRequest(method="PUT", url=URL, data=BODY, headers=dict(r.headers))

    def run(n: int) -> None:
        for _ in range(n):
            signer.add_auth(request)
        assert request.headers["Authorization"].startswith("AWS4-HMAC-SHA256 ")

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="requests signed per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per signer (the median is shown)")
    args = parser.parse_args()
    creds = cirrus_aws.Credentials(ACCESS, SECRET)
    config = cirrus_aws.Config(region="us-east-1", credentials=creds)
    signers: list[tuple[str, Callable[[int], None]]] = [
        ("cirrus_aws SigV4Auth", requests_signer(cirrus_auth.SigV4Auth("us-east-1", "s3", credentials=creds))),
        ("cirrus_aws SigV4Auth(config=)", requests_signer(cirrus_auth.SigV4Auth("us-east-1", "s3", config=config))),
        ("cirrus_aws AWS4Auth (drop-in)", requests_signer(cirrus_auth.AWS4Auth(ACCESS, SECRET, "us-east-1", "s3"))),
        (
            "cirrus_aws AWSRequestsAuth (drop-in)",
            requests_signer(cirrus_auth.AWSRequestsAuth(ACCESS, SECRET, HOST, "us-east-1", "s3")),
        ),
        ("requests-aws4auth AWS4Auth", requests_signer(LegacyAWS4Auth(ACCESS, SECRET, "us-east-1", "s3"))),
        (
            "aws-requests-auth AWSRequestsAuth",
            requests_signer(LegacyAWSRequestsAuth(ACCESS, SECRET, HOST, "us-east-1", "s3")),
        ),
        ("botocore S3SigV4Auth", botocore_signer()),
    ]
    medians: dict[str, float] = {}
    for name, run in signers:
        run(1000)  # warm up
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            run(args.n)
            times.append(time.perf_counter() - start)
        medians[name] = statistics.median(times)
        print(f"{name:40} {medians[name]:8.3f} s  ({medians[name] / args.n * 1e6:6.2f} us/request)", flush=True)
    base = medians["cirrus_aws SigV4Auth"]
    print(f"\nsigning {args.n:,} requests, median of {args.runs}; ratio = time / cirrus_aws SigV4Auth's")
    for name, t in medians.items():
        print(f"{name:40} {t / base:6.1f}x")


if __name__ == "__main__":
    main()
