#!/usr/bin/env python3
"""Listen on 127.0.0.1 and log every connection: proves that nothing is
fetched (e.g. the URLs of a fetch.txt).

usage: tcp_canary.py PORTFILE LOGFILE [SECONDS]
  writes the port number to PORTFILE, then appends one line to LOGFILE per
  connection (and the first bytes received); exits after SECONDS (default
  600) or when killed. Standard library only; binds to 127.0.0.1 only.
"""
import socket
import sys
import time


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    limit = float(argv[3]) if len(argv) == 4 else 600.0
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    s.settimeout(0.5)
    with open(argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    import os
    os.replace(argv[1] + ".tmp", argv[1])
    end = time.time() + limit
    while time.time() < end:
        try:
            c, addr = s.accept()
        except socket.timeout:
            continue
        c.settimeout(1.0)
        try:
            data = c.recv(200)
        except OSError:
            data = b""
        with open(argv[2], "a") as f:
            f.write("connection from %s:%d %r\n" % (addr[0], addr[1], data))
        c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
