#!/usr/bin/env python3
"""A TLS client for the ssl runner's tests: exact bytes on one connection, then a 1 MiB upload."""
import socket
import ssl
import sys


def connect(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)))


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int([h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")][0])
    while len(body) < length:
        body += s.recv(65536)
    return head + b"\r\n\r\n" + body


def main():
    port, out, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    with open(go) as f:  # wait until the tracer is ready
        f.read()
    s = connect(port)
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: test\r\nX-Api-Key: k-123\r\n\r\n")
    with open(out, "wb") as f:
        f.write(read_response(s))
    s.close()
    s = connect(port)
    body = b"z" * (1 << 20)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    read_response(s)
    s.close()


main()
