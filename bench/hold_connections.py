#!/usr/bin/env python3
"""Opens N keep-alive HTTP/1.1 connections to HOST:PORT, sends one GET PATH on each, reads the
complete response, and then holds every connection open until stdin closes or SIGTERM arrives.

Prints "ready <open> <ok>" once all requests are answered (so the caller can sample the server's
memory while the connections are open), then "closed" at exit. Exit status 1 when any
connection failed or answered non-2xx.

    hold_connections.py HOST PORT [N=1000] [PATH=/actuator/health/liveness]
"""
import selectors
import signal
import socket
import sys
import time


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    path = sys.argv[4] if len(sys.argv) > 4 else "/actuator/health/liveness"
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: keep-alive\r\n\r\n").encode()

    sel = selectors.DefaultSelector()
    socks, pending = [], {}
    failed = 0
    for _ in range(count):
        s = socket.create_connection((host, port), timeout=10)
        s.setblocking(False)
        socks.append(s)
        pending[s] = b""
        s.sendall(request)  # tiny; fits in the send buffer of a fresh connection
        sel.register(s, selectors.EVENT_READ)

    ok = 0
    deadline = time.monotonic() + 30
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            data = s.recv(65536)
            if not data:  # closed by the server: counts as a failure
                sel.unregister(s)
                del pending[s]
                failed += 1
                continue
            buf = pending[s] + data
            head, sep, body = buf.partition(b"\r\n\r\n")
            if not sep:
                pending[s] = buf
                continue
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if len(body) < length:
                pending[s] = buf
                continue
            sel.unregister(s)
            del pending[s]
            status = int(head.split(b" ", 2)[1])
            if 200 <= status < 300:
                ok += 1
            else:
                failed += 1
    failed += len(pending)

    print(f"ready {len(socks)} {ok}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        sys.stdin.read()  # hold until the caller closes our stdin (or kills us)
    finally:
        for s in socks:
            s.close()
        print("closed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
