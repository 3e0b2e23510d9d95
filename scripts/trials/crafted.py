#!/usr/bin/env python3
"""Experiment 2: crafted ZIPs.

usage: crafted.py EVIDENCE WORK [--bomb-entries N] [--bomb-kernel BYTES]

Every case of tests/tools/hostile_zip.py (names, entry types, duplicates and
collisions, lying sizes, bombs, local headers that disagree with the central
directory, data descriptors, overlaps, ZIP64 lies, uncovered bytes, no single
top folder), plus the cases below, built with python struct the same way:

  better-zip-bomb        D. Fifield's overlapping-entries bomb at full size:
                         N entries (default 5000) quoting each other's local
                         headers, all ending in one deflate kernel of
                         zeros, with correct CRCs (about 600 KB declaring
                         about 6.3 GB)
  overlap-small          three entries sharing one small kernel (the claimed
                         total stays under the ratio limit: only the overlap
                         check can refuse it)
  overlap-quoted         a stored entry whose data holds a whole second entry
                         (header and data), which the directory also lists
  zip64-eocd-cd-offset   the ZIP64 end record puts the central directory
                         outside the file
  zip64-eocd-count       the ZIP64 end record claims 2^40 entries
  zip64-eocd-cd-size     the ZIP64 end record claims a 2^50-byte directory
  zip64-sizes-lie        ZIP64 sizes of 2^60 bytes, local and central agreeing
  zip64-extra-short      a ZIP64 extra field too short for the sizes it stands for
  local-zip64-differs    the local ZIP64 sizes differ from the central ones
  local-name-nfd         the local header names the entry in NFD, the central
                         directory in NFC
  descriptor-size-lie    the data descriptor gives other sizes
  descriptor-missing     the flag announces a data descriptor that is not there
  eocd-count-lie         the end record counts one entry more than the directory
  cd-offset-inside-entry the end record points the directory into an entry's data

For each: `evidence verify --json` and `evidence extract` into an empty DEST
(in a sandbox folder, with a canary folder that escaping names aim at).
A case FAILS when verify or extract crash, exit 4, or exit with another code
than the case's expected one, when a ZIP64 lie is not exit 3 / "unreadable",
when the invalid UTF-8 name is not exactly one unsafe-path problem, when a
refused extraction leaves anything in DEST or beside it, when any
.partial-* remains, or when anything appears outside DEST.
"""
import os
import shutil
import struct
import sys
import unicodedata
import zlib

import common
import hostile_zip as hz
from hostile_zip import Entry

# expected exit codes of verify and extract, from tests/cli/bundle_hostile_zip.sh
EXPECT = {
    "valid": (0, 0),
    "abs-path": (1, 1), "dotdot": (1, 1), "dotdot-listed": (1, 1), "backslash": (1, 1),
    "nul-name": (1, 1), "drive-letter": (1, 1), "control-chars": (1, 1), "tilde": (1, 1),
    "invalid-utf8-name": (1, 1),
    "symlink": (1, 1), "symlink-listed": (1, 1), "symlink-escape": (1, 1),
    "special-file": (1, 1),
    "duplicate": (1, 1), "duplicate-first-evil": (1, 1), "case-collision": (1, 1),
    "normalization-collision": (1, 1),
    "stored-size-lie": (1, 1), "deflate-longer-than-claimed": (1, 1),
    "deflate-shorter-than-claimed": (1, 1), "csize-beyond-file": (1, 1), "crc-wrong": (1, 1),
    "huge-claim": (1, 1), "bomb": (1, 1), "bomb-listed": (1, 1), "bomb-lying": (1, 1),
    "encrypted": (1, 1), "unknown-method": (1, 1),
    "deep-path": (0, 1), "long-component": (0, 1),
    "local-name": (1, 1), "local-method": (1, 1), "local-crc": (1, 1), "local-size": (1, 1),
    "local-flags": (1, 1), "local-extra": (1, 1), "local-signature": (1, 1),
    "descriptor-ok": (0, 0), "descriptor-lie": (1, 1),
    "unlisted-crc-wrong": (1, 1), "unlisted-deflate-broken": (1, 1),
    "overlap-bomb": (3, 3), "overlap-same-header": (3, 3), "overlap-central": (3, 3),
    "zip64-offset-lie": (3, 3), "zip64-eocd-lie": (3, 3),
    "dir-with-data": (0, 0), "prepended-stub": (0, 0), "appended-data": (0, 0),
    "big-comment": (0, 0),
    "dir-csize-beyond-file": (1, 1), "file-mode-dir": (1, 1), "version-needed-high": (1, 1),
    "flag-bit5": (1, 1), "flag-bit13": (1, 1), "local-time": (0, 0),
    "mode-undefined-type": (1, 1), "mode-no-type": (0, 0), "made-by-host": (0, 0),
    "made-by-version": (0, 0), "internal-attr": (0, 0), "ours-perm": (0, 0),
    "ours-made-by": (0, 0), "local-ut-mtime": (0, 0), "local-ut-flags": (0, 0),
    "central-ut-missing": (0, 0), "local-ux-differs": (0, 0), "local-deflate-option": (0, 0),
    "foreign-attrs": (0, 0), "foreign-untyped": (0, 0), "ours-valid": (0, 0),
    "zip64-eocd-ok": (0, 0), "zip64-eocd-version": (0, 0),
    "no-top-folder": (3, 3), "two-top-folders": (3, 3), "top-level-file": (3, 3),
    "empty-zip": (3, 3),
    # added here
    "better-zip-bomb": (3, 3), "overlap-small": (3, 3), "overlap-quoted": (3, 3),
    "zip64-eocd-cd-offset": (3, 3), "zip64-eocd-count": (3, 3), "zip64-eocd-cd-size": (3, 3),
    "zip64-sizes-lie": (3, 3), "zip64-extra-short": (3, 3),
    "local-zip64-differs": (1, 1), "local-name-nfd": (1, 1),
    "descriptor-size-lie": (1, 1), "descriptor-missing": (1, 1),
    "eocd-count-lie": (3, 3), "cd-offset-inside-entry": (3, 3),
}
# ZIP64 lies: exit 3 and "unreadable" (never 4). For sizes the reader may
# also refuse the one entry (exit 1, zip-size-mismatch); both are accepted
# and the table says which happened.
ALSO_OK = {"zip64-sizes-lie": {1}, "zip64-extra-short": {1}}
WARN = {"dir-with-data", "prepended-stub", "appended-data", "big-comment"}
# valid, with this warning
WARN_CODE = {"local-time": "zip-local-field-mismatch", "mode-no-type": "zip-mode-no-type",
             "made-by-host": "zip-header-unusual", "made-by-version": "zip-header-unusual",
             "internal-attr": "zip-header-unusual", "ours-perm": "zip-header-unusual",
             "ours-made-by": "zip-header-unusual",
             "local-ut-mtime": "zip-local-field-mismatch",
             "local-ut-flags": "zip-local-field-mismatch",
             "central-ut-missing": "zip-local-field-mismatch",
             "local-ux-differs": "zip-local-field-mismatch",
             "local-deflate-option": "zip-local-field-mismatch",
             "zip64-eocd-version": "zip-header-unusual"}
# valid, with no problem at all: ordinary writers' header fields
CLEAN = {"foreign-attrs", "foreign-untyped", "ours-valid", "zip64-eocd-ok"}
NEW = {}


def new(fn):
    NEW[fn.__name__.replace("_", "-")] = fn
    return fn


def gf2_affine(kernel):
    """crc32(kernel, s) is affine in s: returns f(s) computed by a 32x32
    matrix, so that the CRC of (prefix + kernel) costs the prefix only."""
    c = zlib.crc32(kernel, 0)
    cols = [zlib.crc32(kernel, 1 << b) ^ c for b in range(32)]

    def f(s):
        r = c
        b = 0
        while s:
            if s & 1:
                r ^= cols[b]
            s >>= 1
            b += 1
        return r
    return f


def fifield(n, kernel_bytes, prefix_names="bag/bomb"):
    """(stream, offsets, names, sizes, csizes, crcs): entry i's local header,
    then a stored block quoting entry i+1's header, ..., then one deflate
    kernel of kernel_bytes zeros that every entry ends in."""
    zeros = bytes(kernel_bytes)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    kernel = c.compress(zeros) + c.flush()
    after_kernel = gf2_affine(zeros)
    names = [("%s%05d.txt" % (prefix_names, i)).encode() for i in range(n)]
    sizes, csizes, crcs = [0] * n, [0] * n, [0] * n
    suffix = b""          # the quoted headers of entries i+1.. (uncompressed prefix)
    hdrs = [b""] * n
    for i in reversed(range(n)):
        if i == n - 1:
            csizes[i], sizes[i] = len(kernel), kernel_bytes
        else:
            csizes[i] = 5 + len(hdrs[i + 1]) + csizes[i + 1]
            sizes[i] = len(hdrs[i + 1]) + sizes[i + 1]
            suffix = hdrs[i + 1] + suffix
        crcs[i] = after_kernel(zlib.crc32(suffix)) & 0xFFFFFFFF
        hdrs[i] = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crcs[i],
                              csizes[i], sizes[i], len(names[i]), 0) + names[i]
    stream = bytearray()
    offs = []
    for i in range(n):
        offs.append(len(stream))
        stream += hdrs[i]
        if i < n - 1:
            ln = len(hdrs[i + 1])
            stream += struct.pack("<BHH", 0, ln, ln ^ 0xFFFF)
    stream += kernel
    return bytes(stream), offs, names, sizes, csizes, crcs


def fifield_entries(n, kernel_bytes):
    stream, offs, names, sizes, csizes, crcs = fifield(n, kernel_bytes)
    es = hz.bag()
    k = len(es)
    for i in range(n):
        e = Entry(names[i], method=8, comp=b"", size=sizes[i], csize=csizes[i], crc=crcs[i])
        if i == 0:
            e.raw = stream
        else:
            e.lho_ref = (k, offs[i])
        es.append(e)
    return es


BOMB = {"n": 5000, "kernel": 1150000}


@new
def better_zip_bomb(c):
    return fifield_entries(BOMB["n"], BOMB["kernel"])


@new
def overlap_small(c):
    return fifield_entries(3, 4096)


@new
def overlap_quoted(c):
    inner_data = b"inner entry, also listed on its own\n"
    inner = Entry("bag/inner.txt", inner_data)
    inner_bytes = hz.local_header(inner) + inner.comp
    es = hz.bag()
    k = len(es)
    outer = Entry("bag/outer.txt", inner_bytes)
    es.append(outer)
    inner.lho_ref = (k, 30 + len(outer.name))
    es.append(inner)
    return es


def zip64_end(entries, n_lie=None, cd_off_lie=None, cd_size_lie=None):
    """(entries, write_zip options) with a correct ZIP64 end record and
    locator whose fields can lie; built by patching write_zip's output."""
    return entries, {"_zip64": (n_lie, cd_off_lie, cd_size_lie)}


@new
def zip64_eocd_cd_offset(c):
    return zip64_end(hz.bag(), cd_off_lie=1 << 62)


@new
def zip64_eocd_count(c):
    return zip64_end(hz.bag(), n_lie=1 << 40)


@new
def zip64_eocd_cd_size(c):
    return zip64_end(hz.bag(), cd_size_lie=1 << 50)


@new
def zip64_sizes_lie(c):
    es = hz.bag()
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.zip64 = True
            e.size = e.csize = 1 << 60
    return es


@new
def zip64_extra_short(c):
    es = hz.bag()
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.zip64 = True
            e.local = {"extra": struct.pack("<HHI", 1, 4, e.size)}
            e.short_central = True
    return es


@new
def local_zip64_differs(c):
    es = hz.bag()
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.zip64 = True
            e.local = {"extra": struct.pack("<HHQQ", 1, 16, e.size + 1, e.csize + 1)}
    return es


@new
def local_name_nfd(c):
    nfc = unicodedata.normalize("NFC", "data/caf\u00e9.txt")
    nfd = unicodedata.normalize("NFD", "data/caf\u00e9.txt")
    es = hz.bag(payload={"data/a.txt": hz.GOOD, nfc: hz.GOOD})
    for e in es:
        if e.name == ("bag/" + nfc).encode():
            e.local = {"name": ("bag/" + nfd).encode()}
    return es


@new
def descriptor_size_lie(c):
    es = hz.descriptor_ok(c)
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.descriptor = struct.pack("<IIII", 0x08074B50, e.crc, e.csize + 1, e.size + 1)
    return es


@new
def descriptor_missing(c):
    es = hz.descriptor_ok(c)
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.descriptor = b""
    return es


@new
def eocd_count_lie(c):
    return hz.bag(), {"_eocd_n": 1}


@new
def cd_offset_inside_entry(c):
    return hz.bag(), {"_cd_off": 30 + len(b"bag/")}


def write_case(name, path, canary):
    fn = NEW.get(name) or hz.CASES[name]
    es = fn(canary)
    opts = {}
    if isinstance(es, tuple):
        es, opts = es
    patch = {k: opts.pop(k) for k in list(opts) if k.startswith("_")}
    short = [e for e in es if getattr(e, "short_central", False)]
    hz.write_zip(path, es, **opts)
    if not patch and not short:
        return
    d = bytearray(open(path, "rb").read())
    e = d.rfind(b"PK\x05\x06")
    _, _, _, _, n, cd_size, cd_off, clen = struct.unpack_from("<IHHHHIIH", d, e)
    if short:
        # shorten the central ZIP64 extra of that entry to 4 bytes (sizes need 16)
        p = cd_off
        for _ in range(n):
            nlen, xlen, cl = struct.unpack_from("<HHH", d, p + 28)
            name_b = bytes(d[p + 46:p + 46 + nlen])
            if any(s.name == name_b for s in short):
                x = p + 46 + nlen
                d[x:x + xlen] = struct.pack("<HHI", 1, 4, 13)
                struct.pack_into("<H", d, p + 30, 8)
                delta = 8 - xlen
                cd_size += delta
                e += delta
                struct.pack_into("<I", d, e + 12, cd_size)
            p += 46 + nlen + (8 if any(s.name == name_b for s in short) else xlen) + cl
    if "_eocd_n" in patch:
        struct.pack_into("<HH", d, e + 8, n + 1, n + 1)
    if "_cd_off" in patch:
        struct.pack_into("<I", d, e + 16, patch["_cd_off"])
    if "_zip64" in patch:
        n_lie, off_lie, size_lie = patch["_zip64"]
        z64 = e
        rec = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (3 << 8) | 45, 45, 0, 0,
                          n_lie or n, n_lie or n, size_lie or cd_size, off_lie or cd_off)
        loc = struct.pack("<IIQI", 0x07064B50, 0, z64, 1)
        eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                           0xFFFFFFFF, 0)
        d = d[:e] + rec + loc + eocd
    open(path, "wb").write(bytes(d))


def tree(folder):
    out = []
    for dp, dn, fn in os.walk(folder):
        for n in dn + fn:
            out.append(os.path.relpath(os.path.join(dp, n), folder))
    return sorted(out)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    evidence, work = argv[1], argv[2]
    if "--bomb-entries" in argv:
        BOMB["n"] = int(argv[argv.index("--bomb-entries") + 1])
    if "--bomb-kernel" in argv:
        BOMB["kernel"] = int(argv[argv.index("--bomb-kernel") + 1])
    env = common.evidence_env()
    base = os.path.join(work, "crafted")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    canary = os.path.join(base, "canary")
    os.makedirs(canary)
    names = sorted(set(hz.CASES) | set(NEW))
    rows = []
    failures = []
    vrcs, xrcs = [], []
    for name in names:
        z = os.path.join(base, name + ".zip")
        write_case(name, z, canary)
        size = os.path.getsize(z)
        v = common.run([evidence, "verify", "--json", z], env=env, timeout=300)
        sb = os.path.join(base, "sb-" + name)
        dest = os.path.join(sb, "x", "dest")
        os.makedirs(dest)
        x = common.run([evidence, "extract", z, dest], env=env, timeout=300)
        vrcs.append(v.rc)
        xrcs.append(x.rc)
        want_v, want_x = EXPECT.get(name, (None, None))
        why = []
        for what, r, want in (("verify", v, want_v), ("extract", x, want_x)):
            if r.crashed:
                why.append("%s crashed or sanitizer report (exit %d): %s" % (what, r.rc,
                                                                           r.err[-300:]))
            elif r.rc == 4:
                why.append("%s exit 4: %s" % (what, r.err.strip()[:200]))
            elif want is not None and r.rc != want and r.rc not in ALSO_OK.get(name, ()):
                why.append("%s exit %d, expected %d" % (what, r.rc, want))
        if want_v is None:
            why.append("no expectation for this case")
        if want_v == 3 and v.rc == 3 and v.verdict != "unreadable":
            why.append("exit 3 with verdict %r" % v.verdict)
        if want_v == 0 and v.rc == 0 and name in WARN and "zip-uncovered-bytes" not in v.codes(
                "warning"):
            why.append("valid without the zip-uncovered-bytes warning")
        if want_v == 0 and v.rc == 0 and name in WARN_CODE and WARN_CODE[name] not in v.codes(
                "warning"):
            why.append("valid without the %s warning" % WARN_CODE[name])
        if name in CLEAN and v.rc == 0 and v.problems():
            why.append("problems reported for an ordinary ZIP: %s" % ",".join(v.codes()))
        if name == "invalid-utf8-name" and v.rc == 1:
            unsafe = [p for p in v.problems() if p.get("code") == "unsafe-path"]
            if len(unsafe) != 1:
                why.append("%d unsafe-path problems, expected exactly 1" % len(unsafe))
        # what the extraction left
        inside = tree(dest) if os.path.isdir(dest) else []
        around = [p for p in tree(sb) if p != "x" and not p.startswith("x/dest")]
        partial = [p for p in tree(sb) if ".partial-" in p]
        escaped = tree(canary) + [p for p in os.listdir(base) if p.startswith("canary-")]
        if x.rc != 0 and inside:
            why.append("refused, but DEST holds %d paths (%s)" % (len(inside), inside[:3]))
        if around:
            why.append("written beside DEST: %s" % around[:3])
        if partial:
            why.append("temporary output left: %s" % partial[:3])
        if escaped:
            why.append("written outside the sandbox: %s" % escaped[:3])
        if x.rc == 0 and not os.path.exists(os.path.join(dest, "bagit.txt")):
            why.append("extract exit 0 but no bagit.txt in DEST")
        errs = v.codes("error")
        warns = v.codes("warning")
        codes = ",".join(errs) + ("; warn " + ",".join(warns) if warns else "")
        if v.rc == 3 and not errs:
            codes = (v.doc.get("error") or {}).get("code", "") if isinstance(v.doc, dict) else ""
            codes = "unreadable " + str(codes)
        rows.append((name, "%d B" % size if size < 10000 else "%d KB" % (size // 1000),
                     "%s (want %s)" % (v.rc, want_v), v.verdict, codes[:90],
                     "%s (want %s)" % (x.rc, want_x), len(inside) if x.rc != 0 else "ok",
                     len(partial), "FAIL" if why else "ok"))
        if why:
            failures.append("%s: %s" % (name, "; ".join(why)))
        shutil.rmtree(sb, ignore_errors=True)
        if size > 1000000:
            os.remove(z)
    common.table("Experiment 2: crafted ZIPs (%d kinds)" % len(names),
                 ["kind", "size", "verify exit", "verdict", "problem codes", "extract exit",
                  "paths in DEST after refusal", ".partial-* left", "result"], rows,
                 "verify exit codes %s; extract exit codes %s; %d failed."
                 % (common.count_codes(vrcs), common.count_codes(xrcs), len(failures)))
    if "better-zip-bomb" in names:
        stream, _, _, sizes, _, _ = fifield(BOMB["n"], BOMB["kernel"])
        print("\nbetter-zip-bomb: %d entries, %d bytes of entries, %.2f GB declared (ratio %d)"
              % (BOMB["n"], len(stream), sum(sizes) / 1e9, sum(sizes) // len(stream)))
    if failures:
        print("\nFAILED:")
        for f in failures:
            print("  " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
