#!/usr/bin/env python3
"""Helpers for the node's shell tests (test_node_api.sh), each a subcommand:

  body MANIFEST PACKAGE OUT        a deploy's body: manifest length (u32 LE), manifest, package
  raw PORT FILE [SRC]              sends FILE's bytes over TLS to 127.0.0.1:PORT (from address
                                   SRC), prints the status line's code and the body
  partial PORT TOKEN FILE HOLD     a deploy of FILE whose body stops halfway; holds the
                                   connection HOLD seconds, then closes it
  memscan PID MARKER...            exits 1 (naming it) if any MARKER is in the memory of PID
"""
import socket
import ssl
import struct
import sys
import time


def tls(port, src=None):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = socket.create_connection(("127.0.0.1", port), timeout=10,
                                 source_address=(src, 0) if src else None)
    return ctx.wrap_socket(s, server_hostname="localhost")


def read_all(s):
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (ConnectionError, socket.timeout, ssl.SSLError):
        pass
    return out


def main():
    cmd = sys.argv[1]
    if cmd == "body":
        m = open(sys.argv[2], "rb").read().rstrip(b"\n")
        p = open(sys.argv[3], "rb").read()
        open(sys.argv[4], "wb").write(struct.pack("<I", len(m)) + m + p)
    elif cmd == "raw":
        s = tls(int(sys.argv[2]), sys.argv[4] if len(sys.argv) > 4 else None)
        s.sendall(open(sys.argv[3], "rb").read())
        r = read_all(s)
        head, _, body = r.partition(b"\r\n\r\n")
        code = head.split(b" ")[1].decode() if head.startswith(b"HTTP/1.1 ") else "none"
        print(code)
        print(body.decode(errors="replace"))
    elif cmd == "partial":
        body = open(sys.argv[4], "rb").read()
        s = tls(int(sys.argv[2]))
        s.sendall(b"POST /v1/apps HTTP/1.1\r\nHost: n\r\nAuthorization: Bearer "
                  + sys.argv[3].encode() + b"\r\nContent-Length: "
                  + str(len(body)).encode() + b"\r\n\r\n" + body[: len(body) // 2])
        print("sent", flush=True)
        time.sleep(float(sys.argv[5]))
        s.close()
    elif cmd == "memscan":
        pid, markers = sys.argv[2], [m.encode() for m in sys.argv[3:]]
        found, step, keep = set(), 16 << 20, max(len(m) for m in markers)
        with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
            for line in maps:
                f = line.split()
                lo, hi = (int(x, 16) for x in f[0].split("-"))
                # readable mappings; not the kernel's, nor a sanitizer's shadow (terabytes of
                # reserved zero pages, no heap or stack of the process is ever that large)
                if "r" not in f[1] or "[vvar]" in line or "[vsyscall]" in line or hi - lo > 1 << 34:
                    continue
                tail = b""
                for at in range(lo, hi, step):
                    try:
                        mem.seek(at)
                        chunk = tail + mem.read(min(step, hi - at))
                    except (OSError, ValueError, OverflowError):
                        break
                    found |= {m.decode() for m in markers if m in chunk}
                    tail = chunk[-keep:]
        if found:
            print("in the memory of", pid, ":", " ".join(sorted(found)))
            sys.exit(1)
    else:
        sys.exit("unknown command " + cmd)


main()
