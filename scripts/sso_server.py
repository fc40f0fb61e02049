"""A loopback stand-in for IAM Identity Center (no emulator implements it): SSO OIDC
(RegisterClient, StartDeviceAuthorization, CreateToken with the device code, authorization code
with PKCE and refresh token grants, and the /authorize redirect) and the SSO portal's
GetRoleCredentials, ListAccounts and ListAccountRoles, on one port.

Usage: sso_server.py  (prints the port on stdout, then serves until killed)

Behaviour the tests rely on:
- a device code is approved on the third poll: the first answers AuthorizationPendingException,
  the second SlowDownException;
- /authorize redirects at once to the redirect URI with a code and the state; the code is
  traded only with the verifier whose S256 challenge was given;
- access tokens it issued, and any starting with "valid-", are accepted by GetRoleCredentials;
  refresh tokens it issued, and any starting with "refresh-ok-", are accepted by CreateToken;
- ListAccounts answers ACCOUNTS one per page (nextToken "page-N"); ListAccountRoles answers
  the account's roles from ROLES, all on one page;
- GET /_calls answers how many times each operation was called.
"""
import base64
import hashlib
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
ACCOUNTS = [
    {"accountId": "111122223333", "accountName": "Development", "emailAddress": "dev@example.com"},
    {"accountId": "444455556666", "accountName": "Production", "emailAddress": "prod@example.com"},
]
ROLES = {"111122223333": ["Developer", "ReadOnly"], "444455556666": ["ReadOnly"]}
STATE = {"n": 0, "clients": {}, "devices": {}, "codes": {}, "access": set(), "refresh": set(), "calls": {}}


def next_id(prefix):
    STATE["n"] += 1
    return f"{prefix}-{STATE['n']}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, code, message):
        self.reply(status, {"error": code, "error_description": message, "message": message},
                   {"x-amzn-ErrorType": code})

    def count(self, op):
        STATE["calls"][op] = STATE["calls"].get(op, 0) + 1

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        with LOCK:
            if url.path == "/_calls":
                return self.reply(200, STATE["calls"])
            if url.path == "/authorize":
                self.count("Authorize")
                client = STATE["clients"].get(q.get("client_id"))
                if not client or q.get("code_challenge_method") != "S256" or "code_challenge" not in q:
                    return self.error(400, "InvalidRequestException", "bad authorize request")
                code = next_id("code")
                STATE["codes"][code] = (q["client_id"], q["code_challenge"], q["redirect_uri"])
                location = q["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": q.get("state", "")})
                self.send_response(302)
                self.send_header("location", location)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            if url.path in ("/assignment/accounts", "/assignment/roles"):
                self.count("ListAccounts" if url.path.endswith("accounts") else "ListAccountRoles")
                token = self.headers.get("x-amz-sso_bearer_token", "")
                if token not in STATE["access"] and not token.startswith("valid-"):
                    return self.error(401, "UnauthorizedException", "Session token not found or invalid")
                if url.path.endswith("roles"):
                    roles = ROLES.get(q.get("account_id"), [])
                    return self.reply(200, {"roleList": [{"accountId": q.get("account_id"), "roleName": r}
                                                         for r in roles]})
                page = int(q.get("next_token", "page-0").split("-")[1])
                answer = {"accountList": ACCOUNTS[page:page + 1]}
                if page + 1 < len(ACCOUNTS):
                    answer["nextToken"] = f"page-{page + 1}"
                return self.reply(200, answer)
            if url.path == "/federation/credentials":
                self.count("GetRoleCredentials")
                token = self.headers.get("x-amz-sso_bearer_token", "")
                if token not in STATE["access"] and not token.startswith("valid-"):
                    return self.error(401, "UnauthorizedException", "Session token not found or invalid")
                n = next_id("role")
                return self.reply(200, {"roleCredentials": {
                    "accessKeyId": "ASIASSO" + n.split("-")[1].rjust(6, "0"),
                    "secretAccessKey": "sso-secret-" + n,
                    "sessionToken": "sso-session-" + n,
                    "expiration": int((time.time() + 3600) * 1000),
                    "account": q.get("account_id"), "role": q.get("role_name"),
                }})
        self.error(404, "ResourceNotFoundException", "no such path " + url.path)

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self.error(400, "InvalidRequestException", "not JSON")
        with LOCK:
            if self.path == "/client/register":
                self.count("RegisterClient")
                cid = next_id("client")
                STATE["clients"][cid] = body
                return self.reply(200, {"clientId": cid, "clientSecret": "secret-" + cid,
                                        "clientIdIssuedAt": int(time.time()),
                                        "clientSecretExpiresAt": int(time.time()) + 90 * 86400})
            if self.path == "/device_authorization":
                self.count("StartDeviceAuthorization")
                if body.get("clientId") not in STATE["clients"]:
                    return self.error(400, "InvalidClientException", "unknown client")
                device = next_id("device")
                STATE["devices"][device] = 0
                host = self.headers.get("host")
                if "hostile" in body.get("startUrl", ""):
                    # A server that tries to write to the terminal and to open a local file.
                    return self.reply(200, {"deviceCode": device, "userCode": "CIRR\x1b[2J-US42",
                                            "verificationUri": f"http://{host}/device\x1b]0;pwned\x07",
                                            "verificationUriComplete": "file:///etc/passwd",
                                            "expiresIn": 600, "interval": 1})
                return self.reply(200, {"deviceCode": device, "userCode": "CIRR-US42",
                                        "verificationUri": f"http://{host}/device",
                                        "verificationUriComplete": f"http://{host}/device?user_code=CIRR-US42",
                                        "expiresIn": 600, "interval": 1})
            if self.path == "/token":
                self.count("CreateToken")
                grant = body.get("grantType")
                if grant == "urn:ietf:params:oauth:grant-type:device_code":
                    polls = STATE["devices"].get(body.get("deviceCode"))
                    if polls is None:
                        return self.error(400, "InvalidGrantException", "unknown device code")
                    STATE["devices"][body["deviceCode"]] = polls + 1
                    if polls == 0:
                        return self.error(400, "AuthorizationPendingException", "waiting for the user")
                    if polls == 1:
                        return self.error(400, "SlowDownException", "polling too fast")
                elif grant == "authorization_code":
                    entry = STATE["codes"].pop(body.get("code"), None)
                    verifier = body.get("codeVerifier", "")
                    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                    if not entry or entry[0] != body.get("clientId") or entry[1] != digest \
                            or entry[2] != body.get("redirectUri"):
                        return self.error(400, "InvalidGrantException", "bad code, verifier or redirect")
                elif grant == "refresh_token":
                    rt = body.get("refreshToken", "")
                    if rt not in STATE["refresh"] and not rt.startswith("refresh-ok-"):
                        return self.error(400, "InvalidGrantException", "unknown refresh token")
                    STATE["refresh"].discard(rt)
                else:
                    return self.error(400, "UnsupportedGrantTypeException", str(grant))
                access, refresh = next_id("access"), next_id("refresh")
                STATE["access"].add(access)
                STATE["refresh"].add(refresh)
                return self.reply(200, {"accessToken": access, "tokenType": "Bearer", "expiresIn": 8 * 3600,
                                        "refreshToken": refresh})
        self.error(404, "ResourceNotFoundException", "no such path " + self.path)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
