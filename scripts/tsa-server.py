#!/usr/bin/env python3
"""A tiny RFC 3161 time-stamp responder for tests, around 'openssl ts -reply'.

    scripts/tsa-server.py --config PKI/tsa.cnf --port-file FILE [--port N]

Listens on 127.0.0.1 only (port 0 = a free port, written to FILE once the
server is ready, followed by a line with the server's process id). Answers HTTP POSTs of application/timestamp-query. The path
chooses the behaviour, so one server covers every test case:

    /            a good reply (also /tsa)
    /hang        accepts the request and never answers
    /garbage     200 application/timestamp-reply with random bytes
    /html        200 text/html
    /reject      a TimeStampResp with status rejection (2)
    /http500     HTTP 500
    /otherdata   a good reply, but for a different message imprint
    /othernonce  a good reply for the same imprint, with a different nonce
    /truncated   a good reply cut in half

Only the Python standard library and the openssl command line are used.
Stop it with SIGTERM (or SIGINT).
"""
import argparse
import hashlib
import http.server
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def der_read(buf, pos):
    """Returns (tag, start of content, end of content)."""
    tag = buf[pos]
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    return tag, pos, pos + n


def query_imprint(tsq):
    """(digest algorithm OID text, digest bytes) of a TimeStampReq."""
    _, s, _ = der_read(tsq, 0)            # TimeStampReq SEQUENCE
    _, _, e = der_read(tsq, s)            # version INTEGER
    _, s2, _ = der_read(tsq, e)           # MessageImprint SEQUENCE
    _, s3, e3 = der_read(tsq, s2)         # AlgorithmIdentifier
    _, os_s, os_e = der_read(tsq, e3)     # hashedMessage OCTET STRING
    _, oid_s, oid_e = der_read(tsq, s3)   # algorithm OID
    return tsq[oid_s:oid_e], tsq[os_s:os_e]


SHA_BY_LEN = {32: "-sha256", 48: "-sha384", 64: "-sha512"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("tsa-server: " + (fmt % args) + "\n")

    def send(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reply(self, tsq):
        with tempfile.TemporaryDirectory() as tmp:
            q = os.path.join(tmp, "q.tsq")
            r = os.path.join(tmp, "r.tsr")
            with open(q, "wb") as f:
                f.write(tsq)
            with self.server.lock:  # the serial file is shared
                p = subprocess.run(["openssl", "ts", "-reply", "-config", self.server.config,
                                    "-queryfile", q, "-out", r],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if p.returncode != 0 or not os.path.exists(r):
                raise RuntimeError(p.stderr.decode(errors="replace"))
            with open(r, "rb") as f:
                return f.read()

    def new_query(self, digest, nonce=True):
        alg = SHA_BY_LEN.get(len(digest), "-sha256")
        cmd = ["openssl", "ts", "-query", "-digest", digest.hex(), alg, "-cert"]
        if not nonce:
            cmd.append("-no_nonce")
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
        return p.stdout

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        tsq = self.rfile.read(n) if n > 0 else b""
        mode = self.path.split("?")[0].strip("/") or "tsa"
        try:
            if mode == "hang":
                # Read the request, then never answer (until the server stops).
                while not self.server.stopping:
                    time.sleep(0.2)
                return
            if mode == "garbage":
                return self.send(200, "application/timestamp-reply", os.urandom(200))
            if mode == "html":
                return self.send(200, "text/html", b"<html><body>Welcome</body></html>\n")
            if mode == "http500":
                return self.send(500, "text/plain", b"internal error\n")
            if mode == "reject":
                status = der(0x02, b"\x02")                                   # rejection
                text = der(0x30, der(0x0C, b"test TSA: request rejected"))   # PKIFreeText
                fail = der(0x03, b"\x07\x80")                                 # badAlg
                body = der(0x30, der(0x30, status + text + fail))
                return self.send(200, "application/timestamp-reply", body)
            if mode == "otherdata":
                _, digest = query_imprint(tsq)
                other = hashlib.new({32: "sha256", 48: "sha384", 64: "sha512"}.get(len(digest), "sha256"),
                                    b"some other data").digest()
                return self.send(200, "application/timestamp-reply", self.reply(self.new_query(other)))
            if mode == "othernonce":
                _, digest = query_imprint(tsq)
                return self.send(200, "application/timestamp-reply", self.reply(self.new_query(digest)))
            if mode == "truncated":
                r = self.reply(tsq)
                return self.send(200, "application/timestamp-reply", r[: len(r) // 2])
            if mode == "tsa":
                return self.send(200, "application/timestamp-reply", self.reply(tsq))
            return self.send(404, "text/plain", b"no such TSA path\n")
        except Exception as e:  # a test helper: report and answer 500
            sys.stderr.write("tsa-server: %s\n" % e)
            try:
                self.send(500, "text/plain", b"error\n")
            except OSError:
                pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="openssl ts config (tsa.cnf from test-pki.sh)")
    ap.add_argument("--port-file", required=True, help="write the port here when ready")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()

    srv = Server(("127.0.0.1", a.port), Handler)
    srv.config = os.path.abspath(a.config)
    srv.verbose = a.verbose
    srv.lock = threading.Lock()
    srv.stopping = False

    def stop(signum, frame):
        srv.stopping = True
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:  # the port, then our pid (a launcher may stand between)
        f.write("%d\n%d\n" % (srv.server_address[1], os.getpid()))
    os.replace(tmp, a.port_file)
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()


if __name__ == "__main__":
    main()
