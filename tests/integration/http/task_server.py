#!/usr/bin/python3
"""A local server for the http runner's tests: 200, 500-then-200, slow, text, binary; TLS with --cert.

Prints its port on the first line of stdout, then serves until killed.
"""
import http.server
import json
import ssl
import sys
import threading
import time

FLAKY = {"left": 2}
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def send(self, code, ctype, body, extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.path = self.path.split("?")[0]
        if self.path == "/ok":
            body = json.dumps({"ok": True,
                               "auth": self.headers.get("Authorization", "")},
                              indent=2).encode()
            self.send(200, "application/json", body,
                      [("Set-Cookie", "session=s3cret"), ("X-Trace", "a"), ("X-Trace", "b")])
        elif self.path == "/flaky":
            with LOCK:
                fail = FLAKY["left"] > 0
                FLAKY["left"] -= 1
            if fail:
                self.send(500, "text/plain", b"try again\n")
            else:
                self.send(200, "text/plain", b"recovered\n")
        elif self.path == "/slow":
            time.sleep(3)
            self.send(200, "text/plain", b"late\n")
        elif self.path == "/bin":
            self.send(200, "application/octet-stream", bytes(range(256)))
        elif self.path == "/big":
            self.send(200, "text/plain", b"x" * 100000)
        else:
            self.send(404, "text/plain", b"no\n")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n)
        self.send(200, "application/json", json.dumps({"got": data.decode()}).encode())

    def log_message(self, *args):
        pass


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if len(sys.argv) > 2:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[1], sys.argv[2])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
