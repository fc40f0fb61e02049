"""Signs requests with botocore, for the differential test of cirrus-sigv4.

Reads a JSON array of cases on stdin, writes a JSON array of
{"canonical_request": ..., "signature": ...} on stdout. Each case: method, host, path, query
(already canonical: unreserved bytes and uppercase %XX), headers [[name, value], ...], body
(latin-1 text), service, region, token (or null), amz_date. Uses botocore's own canonical request,
string to sign and signature code, with the time fixed by the case.
"""
import hashlib
import json
import sys

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(case):
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", case["token"])
    auth_cls = S3SigV4Auth if case["service"] == "s3" else SigV4Auth
    auth = auth_cls(creds, case["service"], case["region"])
    url = "https://" + case["host"] + case["path"] + ("?" + case["query"] if case["query"] else "")
    body = case["body"].encode("latin-1")
    request = AWSRequest(method=case["method"], url=url, data=body)
    for name, value in case["headers"]:
        request.headers.add_header(name, value)
    request.headers["X-Amz-Date"] = case["amz_date"]
    if case["token"]:
        request.headers["X-Amz-Security-Token"] = case["token"]
    if case["service"] == "s3":
        request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    request.context["timestamp"] = case["amz_date"]
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    return {"canonical_request": canonical, "signature": auth.signature(string_to_sign, request)}


json.dump([sign(c) for c in json.load(sys.stdin)], sys.stdout)
