#!/usr/bin/env python3
"""A throwaway HTTPS server for the ssl runner's tests: fixed, chunked, SSE and sized bodies."""
import http.server
import os
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, body, ctype="text/plain"):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "session=server-secret")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/hello":
            self.send_body(b"hello over tls\n")
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"first chunk;", b"second chunk;", b"third"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/events":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"event: greeting\ndata: hello\n\n")
            self.wfile.flush()
            self.wfile.write(b"id: 2\ndata: line one\ndata: line two\n\n")
            self.wfile.flush()
            self.close_connection = True
        elif self.path.startswith("/bytes/"):
            n = int(self.path.split("/")[2])
            self.send_body(bytes(ord("a") + i % 26 for i in range(n)))
        elif self.path.startswith("/encoded/") and ENCODED:
            # A body stored compressed (ENCODED/body.CODING), sent with its Content-Encoding.
            coding = self.path.split("/")[2]
            with open(os.path.join(ENCODED, "body." + coding), "rb") as f:
                body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Encoding", coding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/events-one-write":
            # The head and the first event in one write, hence one TLS call.
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                             b"Connection: close\r\n\r\nevent: first\ndata: in the head's write\n\n")
            self.wfile.flush()
            self.wfile.write(b"data: second\n\n")
            self.close_connection = True
        elif self.path == "/binary":
            self.send_body(bytes(range(256)), "application/octet-stream")
        else:
            self.send_error(404)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self.send_body(b"got " + body)


# Usage: server.py PORT CERT KEY [DIR]: DIR holds the bodies /encoded/CODING sends.
ENCODED = sys.argv[4] if len(sys.argv) > 4 else None


def main():
    port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("ready", srv.server_address[1], flush=True)
    srv.serve_forever()


main()
