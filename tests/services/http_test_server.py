#!/usr/bin/python3
"""http_test_server.py: the HTTP server the http step's tests talk to.

Standard library only, threaded, 127.0.0.1 only, on the port given (0: a
free one, written to --portfile once listening).  With --tls-cert and
--tls-key it speaks HTTPS instead.

Routes (any method unless noted):
  /health              200 "ok"
  /status/<code>       that status, body "status <code>"
  /echo                200 JSON {method, path, query, headers, body}
  /delay/<ms>          waits, then 200 "late"
  /redirect?to=<path>  302 (or ?code=301/303/307/308) to <path>
  /json                200 a small JSON document with nested items
  /bytes/<n>           200 n bytes (application/octet-stream), streamed;
                       ?pace=<ms> sleeps that long after each MiB
  /token               POST, OAuth2 client credentials (RFC 6749 4.4):
                       client id/secret by HTTP Basic or in the form body;
                       returns a fresh bearer access token
  /auth                200 {"ok": true, "as": ...} for the test bearer
                       token, an access token /token issued, or the test
                       Basic user; 401 otherwise

The credentials are fixed test values (below); tests grep for them to prove
that the step never writes them anywhere.
"""
import argparse
import base64
import json
import os
import secrets
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

BEARER_TOKEN = "nf-test-bearer-4d1f9a27"
BASIC_USER = "nf-user"
BASIC_PASSWORD = "nf-test-pass-83be51c0"
CLIENT_ID = "nf-client"
CLIENT_SECRET = "nf-test-client-secret-c29e7d"

issued = set()
issued_lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nf-test"

    def log_message(self, fmt, *args):
        if os.environ.get("NF_HTTP_TEST_VERBOSE"):
            super().log_message(fmt, *args)

    def reply(self, code, body=b"", ctype="text/plain", headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def reply_json(self, code, obj, headers=None):
        self.reply(code, json.dumps(obj), "application/json", headers)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        u = urlparse(self.path)
        path = u.path.rstrip("/") or "/"
        query = parse_qs(u.query)
        body = self.read_body()
        parts = path.split("/")
        if path == "/health":
            return self.reply(200, "ok")
        if len(parts) == 3 and parts[1] == "status" and parts[2].isdigit():
            code = int(parts[2])
            return self.reply(code, "status %d" % code)
        if path == "/echo":
            return self.reply_json(200, {
                "method": self.command,
                "path": u.path,
                "query": {k: v[0] for k, v in query.items()},
                "headers": {k: v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
            })
        if len(parts) == 3 and parts[1] == "delay" and parts[2].isdigit():
            time.sleep(int(parts[2]) / 1000.0)
            return self.reply(200, "late")
        if path == "/redirect":
            code = int(query.get("code", ["302"])[0])
            return self.reply(code, "", headers={
                "Location": query.get("to", ["/health"])[0]})
        if path == "/json":
            return self.reply_json(200, {
                "hello": "world", "n": 42, "pi": 3.5, "ok": True,
                "none": None,
                "items": [{"id": 7, "name": "first"},
                          {"id": 8, "name": "second"}]})
        if len(parts) == 3 and parts[1] == "bytes" and parts[2].isdigit():
            return self.send_bytes(int(parts[2]),
                                   int(query.get("pace", ["0"])[0]))
        if path == "/token":
            return self.token(body)
        if path == "/auth":
            return self.auth()
        return self.reply(404, "not found")

    def send_bytes(self, n, pace_ms):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        if self.command == "HEAD":
            return
        chunk = b"0123456789abcdef" * 65536    # 1 MiB
        left = n
        while left > 0:
            k = min(left, len(chunk))
            self.wfile.write(chunk[:k])
            left -= k
            if pace_ms and left > 0:
                time.sleep(pace_ms / 1000.0)

    def basic_creds(self):
        h = self.headers.get("Authorization", "")
        if not h.startswith("Basic "):
            return None
        try:
            user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
        except Exception:
            return None
        return user, pw

    def token(self, body):
        if self.command != "POST":
            return self.reply_json(405, {"error": "invalid_request"})
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return self.reply_json(400, {
                "error": "unsupported_grant_type",
                "error_description": "only client_credentials"})
        creds = self.basic_creds() or (form.get("client_id"),
                                       form.get("client_secret"))
        if creds != (CLIENT_ID, CLIENT_SECRET):
            return self.reply_json(401, {
                "error": "invalid_client",
                "error_description": "unknown client or wrong secret"})
        tok = "nf-test-access-" + secrets.token_hex(12)
        with issued_lock:
            issued.add(tok)
        out = {"access_token": tok, "token_type": "Bearer",
               "expires_in": 3600}
        if "scope" in form:
            out["scope"] = form["scope"]
        return self.reply_json(200, out)

    def auth(self):
        h = self.headers.get("Authorization", "")
        if h.startswith("Bearer "):
            tok = h[7:]
            with issued_lock:
                known = tok in issued
            if tok == BEARER_TOKEN:
                return self.reply_json(200, {"ok": True, "as": "bearer"})
            if known:
                return self.reply_json(200, {"ok": True, "as": "oauth2"})
        if self.basic_creds() == (BASIC_USER, BASIC_PASSWORD):
            return self.reply_json(200, {"ok": True, "as": "basic"})
        return self.reply_json(401, {"ok": False},
                               {"WWW-Authenticate": 'Bearer realm="nf"'})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = \
        do_OPTIONS = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--portfile")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    if a.portfile:
        tmp = a.portfile + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(tmp, a.portfile)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
