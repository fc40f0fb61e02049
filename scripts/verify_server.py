"""A loopback server that checks SigV4 signatures with botocore, for scripts/test.

Prints its port, answers one POST: 200 "signature ok" when the Authorization header matches the
signature botocore computes for the request received (service sts), 403 otherwise.
"""
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
            req = AWSRequest(method="POST", url="http://" + self.headers["host"] + self.path, data=body)
            for name in signed.split(";"):
                req.headers[name] = self.headers[name]
            req.context["timestamp"] = self.headers["x-amz-date"]
            signer = SigV4Auth(Credentials(access_key, SECRET), service, region)
            creq = signer.canonical_request(req)
            ok = signer.signature(signer.string_to_sign(req, creq), req) == signature
        msg = b"signature ok\n" if ok else b"signature mismatch\n"
        self.send_response(200 if ok else 403)
        self.send_header("content-length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.handle_request()
