#!/usr/bin/env python3
"""Load generator for bench-ssl: N keep-alive HTTP exchanges (1 KiB response bodies) between a
TLS client and a TLS server in this one process, over memory BIOs: every byte still goes
through OpenSSL's SSL_write_ex/SSL_read_ex, with no socket in the way.
Prints the exchanges per second it achieved and the CPU microseconds (user + system, the
uprobes' traps included) each exchange cost this process."""
import ssl
import sys
import time


def pump(src, dst):
    data = src.read()
    if data:
        dst.write(data)


def main():
    n, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = cctx.wrap_bio(c_in, c_out)
    server = sctx.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        for end in (client, server):
            try:
                end.do_handshake()
            except ssl.SSLWantReadError:
                pass
        pump(c_out, s_in)
        pump(s_out, c_in)
    body = b"b" * 1024
    request = b"GET /item HTTP/1.1\r\nHost: bench\r\n\r\n"
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n" + body
    start, cpu = time.monotonic(), time.process_time()
    for _ in range(n):
        client.write(request)
        pump(c_out, s_in)
        server.read(65536)
        server.write(response)
        pump(s_out, c_in)
        got = client.read(65536)
        while len(got) < len(response):
            got += client.read(65536)
    elapsed, cpu = time.monotonic() - start, time.process_time() - cpu
    print(f"{n / elapsed:.0f} {cpu / n * 1e6:.1f}")


main()
