#!/usr/bin/env python3
"""Flip bytes in a file or inside a ZIP entry, and sweep a bundle with flips.

usage:
  flip.py file FILE OFFSET [MASK]
        XOR the byte at OFFSET (negative: from the end) with MASK (default 1).
        Flipping twice restores the file.
  flip.py entry ZIP ENTRY OFFSET [MASK]
        the same inside the stored bytes of ZIP entry ENTRY (its compressed
        data for a deflated entry), found through the local header
  flip.py offsets SIZE [N]
        print N (default 8) offsets spread over SIZE bytes, first and last
        included
  flip.py sweep EVIDENCE BUNDLE [--zip-payload] [--per-file N] [--mask M]
        for every file of a folder bundle (or, with --zip-payload, every
        payload entry of a ZIP bundle) and N offsets in each: flip one byte,
        run `EVIDENCE verify --json BUNDLE`, flip it back. A flip passes when
        verify exits 1 and reports an error whose path is the flipped file.
        Prints one line per flip ("ok" or "FAIL ...") and "NOTE" lines when
        another file is also blamed as modified; exits 1 if any flip failed.

Standard library only.
"""
import json
import os
import re
import struct
import subprocess
import sys
import zipfile

SANITIZER = re.compile(r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|"
                       r"SUMMARY: UndefinedBehaviorSanitizer")


def flip_at(path, offset, mask=1):
    with open(path, "r+b") as f:
        f.seek(0, 2)
        size = f.tell()
        if offset < 0:
            offset += size
        if not 0 <= offset < size:
            raise ValueError("offset %d outside %s (%d bytes)" % (offset, path, size))
        f.seek(offset)
        b = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([b ^ mask]))
    return offset


def entry_span(zpath, name):
    """(offset of the entry's stored data in the ZIP file, its length)."""
    with zipfile.ZipFile(zpath) as z:
        zi = z.getinfo(name)
    with open(zpath, "rb") as f:
        f.seek(zi.header_offset)
        hdr = f.read(30)
        sig, _, _, _, _, _, _, _, _, nlen, xlen = struct.unpack("<IHHHHHIIIHH", hdr)
        if sig != 0x04034B50:
            raise ValueError("no local header for %s" % name)
    return zi.header_offset + 30 + nlen + xlen, zi.compress_size


def spread(size, n=8):
    if size <= 0:
        return []
    if size <= n:
        return list(range(size))
    return sorted({round(k * (size - 1) / (n - 1)) for k in range(n)})


def verify(evidence, bundle):
    p = subprocess.run([evidence, "verify", "--json", bundle], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def judge(rc, out, err, target):
    """Returns (ok, reason, other_blamed)."""
    if SANITIZER.search(err):
        return False, "sanitizer report: " + err[:500], []
    if rc != 1:
        return False, "exit %d, expected 1; stderr: %s" % (rc, err.strip()[:300]), []
    try:
        doc = json.loads(out.decode("utf-8"))
    except ValueError as e:
        return False, "--json output is not JSON: %s" % e, []
    probs = doc.get("problems") or []
    errs = [p for p in probs if p.get("severity") == "error"]
    other = sorted({p.get("path") for p in errs
                    if p.get("code") in ("modified", "tag-modified") and p.get("path") != target})
    if doc.get("verdict") != "invalid":
        return False, "verdict %r" % doc.get("verdict"), other
    if not any(p.get("path") == target for p in errs):
        return False, "no error names %s; errors: %s" % (
            target, "; ".join("%s %s" % (p.get("code"), p.get("path")) for p in errs)), other
    return True, "", other


def sweep(evidence, bundle, zip_payload, per_file, mask):
    failures = 0
    total = 0
    if zip_payload:
        with zipfile.ZipFile(bundle) as z:
            names = [i.filename for i in z.infolist()
                     if not i.is_dir() and "/data/" in i.filename and i.compress_size > 0]
        targets = []
        for n in names:
            start, length = entry_span(bundle, n)
            targets.append((n.split("/", 1)[1], bundle, start, length))
    else:
        targets = []
        for dp, dn, fn in os.walk(bundle):
            for f in fn:
                full = os.path.join(dp, f)
                rel = os.path.relpath(full, bundle)
                size = os.path.getsize(full)
                if size:
                    targets.append((rel, full, 0, size))
    rc, out, err = verify(evidence, bundle)
    if rc != 0:
        print("FAIL baseline: the untouched bundle does not verify (exit %d): %s"
              % (rc, err.strip()[:300]))
        return 1
    for rel, path, start, length in sorted(targets):
        for off in spread(length, per_file):
            total += 1
            flip_at(path, start + off, mask)
            try:
                rc, out, err = verify(evidence, bundle)
            finally:
                flip_at(path, start + off, mask)
            ok, reason, other = judge(rc, out, err, rel)
            if ok:
                print("ok %s @%d" % (rel, off))
            else:
                failures += 1
                print("FAIL %s @%d: %s" % (rel, off, reason))
            if other:
                print("NOTE %s @%d: also blamed as modified: %s" % (rel, off, ", ".join(other)))
    rc, out, err = verify(evidence, bundle)
    if rc != 0:
        print("FAIL restore: the bundle does not verify after the sweep (exit %d)" % rc)
        failures += 1
    print("%d flips, %d failed" % (total, failures))
    return 1 if failures else 0


def main(argv):
    try:
        if len(argv) >= 4 and argv[1] == "file":
            flip_at(argv[2], int(argv[3]), int(argv[4], 0) if len(argv) > 4 else 1)
            return 0
        if len(argv) >= 5 and argv[1] == "entry":
            start, length = entry_span(argv[2], argv[3])
            off = int(argv[4])
            if off < 0:
                off += length
            if not 0 <= off < length:
                raise ValueError("offset outside the entry (%d bytes)" % length)
            flip_at(argv[2], start + off, int(argv[5], 0) if len(argv) > 5 else 1)
            return 0
        if len(argv) >= 3 and argv[1] == "offsets":
            print(" ".join(str(o) for o in spread(int(argv[2]), int(argv[3]) if len(argv) > 3
                                                   else 8)))
            return 0
        if len(argv) >= 4 and argv[1] == "sweep":
            rest = argv[4:]
            per, mask = 8, 1
            if "--per-file" in rest:
                per = int(rest[rest.index("--per-file") + 1])
            if "--mask" in rest:
                mask = int(rest[rest.index("--mask") + 1], 0)
            return sweep(argv[2], argv[3], "--zip-payload" in rest, per, mask)
    except (OSError, ValueError, KeyError) as e:
        sys.stderr.write("flip.py: %s\n" % e)
        return 2
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
