"""A loopback server that checks SigV4 signatures with botocore, for scripts/test.

Prints its port, answers one request (or as many as the second argument says): 200 "signature
ok" when the Authorization header matches the signature botocore computes for the request
received (for the service and region of its credential scope), 403 otherwise. An
X-Amz-Content-SHA256 header (OpenSearch Serverless signs it) must be the body's SHA-256; when it
is signed, the answer says so.
"""
import hashlib
import re
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SECRET = sys.argv[1]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        auth = self.headers.get("authorization", "")
        m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$", auth)
        ok = False
        if m:
            access_key, region, service, signed, signature = m.groups()
            req = AWSRequest(method=self.command, url="http://" + self.headers["host"] + self.path, data=body)
            for name in signed.split(";"):
                req.headers[name] = self.headers[name]
            req.context["timestamp"] = self.headers["x-amz-date"]
            signer = SigV4Auth(Credentials(access_key, SECRET), service, region)
            creq = signer.canonical_request(req)
            ok = signer.signature(signer.string_to_sign(req, creq), req) == signature
            claimed = self.headers.get("x-amz-content-sha256")
            ok = ok and (claimed is None or claimed == hashlib.sha256(body).hexdigest())
        msg = b"signature mismatch\n"
        if ok:
            hashed = m.group(4).split(";").count("x-amz-content-sha256") == 1
            msg = b"signature ok, payload hash signed\n" if hashed else b"signature ok\n"
        self.send_response(200 if ok else 403)
        self.send_header("content-length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg)

    do_GET = do_PUT = do_DELETE = do_POST

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 1):
    server.handle_request()
