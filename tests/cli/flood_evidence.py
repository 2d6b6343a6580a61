#!/usr/bin/env python3
"""A client that floods a runtime with fresh-evidence requests from one address.

Usage: flood_evidence.py PORT SECONDS [WORKERS] [SOURCE_ADDRESS]
WORKERS threads (default 16) each open TLS connections from SOURCE_ADDRESS (default
127.0.0.2) and ask GET /.well-known/cloak/evidence?nonce=RANDOM, one request per connection,
as fast as the runtime answers, until SECONDS have passed. Prints one JSON line: how many
answers of each status it got. Certificates are not checked: this client wants nothing but to
use up what it can.
"""
import json, os, socket, ssl, sys, threading, time

port, seconds = int(sys.argv[1]), float(sys.argv[2])
workers = int(sys.argv[3]) if len(sys.argv) > 3 else 16
source = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.2"
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
counts, lock = {}, threading.Lock()
deadline = time.monotonic() + seconds


def worker():
    while time.monotonic() < deadline:
        status = "error"
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=5,
                                           source_address=(source, 0))
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                nonce = os.urandom(16).hex()
                s.sendall(("GET /.well-known/cloak/evidence?nonce=%s HTTP/1.1\r\n"
                           "Host: localhost\r\nConnection: close\r\n\r\n" % nonce).encode())
                head = s.recv(64)
                status = head.split(b" ")[1].decode() if head.startswith(b"HTTP/1.1 ") else "bad"
                while s.recv(65536):
                    pass
        except (OSError, ssl.SSLError, IndexError):
            pass
        with lock:
            counts[status] = counts.get(status, 0) + 1


threads = [threading.Thread(target=worker) for _ in range(workers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(counts))
