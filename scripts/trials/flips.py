#!/usr/bin/env python3
"""Experiment 1: single-byte corruptions of whole bundle files.

usage: flips.py EVIDENCE WORK TRIALS [SEED]

WORK holds the bundles made by run.sh: plain.zip (packed from samples/),
signed.zip (the same, signed with the test PKI in WORK/pki) and, made here,
stream.zip: signed.zip rewritten with a data descriptor after every entry,
ZIP64 extra fields, a ZIP64 end record and locator, and a ZIP comment, so
that every ZIP structure occurs. TRIALS flips are shared between the three
bundles; in each, the flipped positions are stratified over (structure,
entry kind): local header, name, extra field, data of stored and deflated
payload, of tag files, of the seal and of the signature, data descriptor,
central header, name and extra field, end record, ZIP64 records, comment.
Every position gets the XOR with a random non-zero mask.

For each flip: `evidence verify --json` (with --ca for signed bundles) and
`unzip -t`. A flip FAILS when verify crashes or exits 4, or exits 0 while
`unzip -t` finds an error, or exits 0 although the byte lies in a field that
matters (anything but the version, time and date fields, attributes other
than the file type, a file type lost altogether (read by the name, as unzip
does), comments and unknown extra fields). A flip in a field
that does not matter may pass, but only with a warning: a silent pass is
listed and, unless TRIALS_SILENT_FAILS=0, makes the exit status 1 too.
Exit status 1 when anything failed.
"""
import concurrent.futures
import json
import os
import queue
import random
import struct
import subprocess
import sys
import zlib

import common


def unzip_t(path):
    p = subprocess.run(common.NICE + ["unzip", "-tqq", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)
    return p.returncode


def warnings(r):
    return {(p.get("code"), p.get("path"), p.get("message")) for p in r.problems()
            if p.get("severity") == "warning"}


def restream(src, dst, comment=b"bundle comment: not covered by any checksum"):
    """Rewrite src with a data descriptor (with signature) after every file's
    data, a ZIP64 extra field (real sizes) in every central header, a ZIP64
    end record and locator, and a comment. Entry data is copied unchanged."""
    d = open(src, "rb").read()
    e = d.rfind(b"PK\x05\x06")
    _, _, _, _, n, cd_size, cd_off, _ = struct.unpack_from("<IHHHHIIH", d, e)
    out = bytearray()
    central = []
    p = cd_off
    for _ in range(n):
        (sig, made, need, flags, method, tm, dt, crc, csize, usize, nlen, xlen, clen, disk,
         iattr, eattr, off) = struct.unpack_from("<IHHHHHHIIIHHHHHII", d, p)
        name = d[p + 46:p + 46 + nlen]
        p += 46 + nlen + xlen + clen
        lnlen, lxlen = struct.unpack_from("<HH", d, off + 26)
        data = d[off + 30 + lnlen + lxlen:off + 30 + lnlen + lxlen + csize]
        new_off = len(out)
        is_dir = name.endswith(b"/")
        fl = flags if is_dir else flags | 8
        if is_dir:
            out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, fl, method, tm, dt, crc, csize,
                               usize, len(name), 0) + name
        else:
            out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, fl, method, tm, dt, 0, 0, 0,
                               len(name), 0) + name
            out += data
            out += struct.pack("<IIII", 0x08074B50, crc, csize, usize)
        extra = struct.pack("<HHQQQ", 1, 24, usize, csize, new_off)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, made, 45, fl, method, tm,
                                   dt, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra), 0,
                                   0, iattr, eattr, 0xFFFFFFFF) + name + extra)
    cd_start = len(out)
    for c in central:
        out += c
    cd_len = len(out) - cd_start
    z64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (3 << 8) | 45, 45, 0, 0, n, n, cd_len,
                       cd_start)
    out += struct.pack("<IIQI", 0x07064B50, 0, z64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF,
                       len(comment)) + comment
    open(dst, "wb").write(bytes(out))


def stratify(spans, n, rng):
    """n positions over the strata (structure, entry kind), as evenly as the
    strata's sizes allow."""
    strata = {}
    for s in spans:
        strata.setdefault((s.struct, s.kind), []).append(s)
    sizes = {k: sum(s.end - s.start for s in v) for k, v in strata.items()}
    alloc = {k: 0 for k in strata}
    left = n
    keys = sorted(strata)
    while left > 0:
        open_keys = [k for k in keys if alloc[k] < sizes[k]]
        if not open_keys:
            break
        for k in open_keys:
            if left == 0:
                break
            alloc[k] += 1
            left -= 1
    picks = []
    for k in keys:
        total = sizes[k]
        for r in sorted(rng.sample(range(total), alloc[k])):
            for s in strata[k]:
                if r < s.end - s.start:
                    picks.append((s.start + r, s))
                    break
                r -= s.end - s.start
    return picks


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    evidence, work, trials = argv[1], argv[2], int(argv[3])
    seed = int(argv[4]) if len(argv) > 4 else 1
    rng = random.Random(seed)
    njobs = max(1, int(os.environ.get("TRIALS_JOBS", "2")))
    env = common.evidence_env()
    ca = os.path.join(work, "pki", "root-ca.pem")
    restream(os.path.join(work, "signed.zip"), os.path.join(work, "stream.zip"))
    bundles = [("plain.zip", []), ("signed.zip", ["--ca", ca]), ("stream.zip", ["--ca", ca])]
    per = [trials // 3 + (1 if i < trials % 3 else 0) for i in range(3)]
    failures = []
    silent = []
    harmless = []
    rows_struct = {}
    rows_bundle = []
    all_rc = []
    for (bname, vopts), count in zip(bundles, per):
        path = os.path.join(work, bname)
        base = common.run([evidence, "verify", "--json"] + vopts + [path], env=env)
        uz = unzip_t(path)
        if base.rc != 0 or uz != 0:
            failures.append("%s: the untouched bundle: verify exit %d (%s), unzip -t exit %d"
                            % (bname, base.rc, ",".join(base.codes()), uz))
            continue
        base_warn = warnings(base)
        spans = common.zip_map(path)
        picks = stratify(spans, count, rng)
        orig = open(path, "rb").read()
        jobs = [(off, span, rng.randrange(1, 256)) for off, span in picks]

        def one(k, job, bname=bname, vopts=vopts, orig=orig):
            off, span, mask = job
            slot = slots.get()
            copy = os.path.join(work, "flip-%d-%s" % (slot, bname))
            d = bytearray(orig)
            d[off] ^= mask
            with open(copy, "wb") as f:
                f.write(d)
            try:
                r = common.run([evidence, "verify", "--json"] + vopts + [copy], env=env,
                               timeout=120)
                return r, unzip_t(copy)
            finally:
                slots.put(slot)

        slots = queue.Queue()
        for i in range(njobs):
            slots.put(i)
        with concurrent.futures.ThreadPoolExecutor(njobs) as pool:
            outcomes = list(pool.map(one, *zip(*enumerate(jobs))))
        rcs = []
        for (off, span, mask), (r, uz) in zip(jobs, outcomes):
            rcs.append(r.rc)
            all_rc.append(r.rc)
            field = common.effective_field(span, off, mask, orig[off])
            key = (span.struct, span.kind)
            row = rows_struct.setdefault(key, {"n": 0, "rc": [], "unzip_fail": 0, "fail": 0,
                                               "warn_pass": 0, "silent": 0})
            row["n"] += 1
            row["rc"].append(r.rc)
            if uz >= 2:
                row["unzip_fail"] += 1
            where = "%s @%d (%s %s.%s of %s, mask 0x%02x)" % (bname, off, span.struct, span.kind,
                                                              field, span.entry or "-",
                                                              mask)
            why = None
            if r.crashed:
                why = "crash or sanitizer report (exit %d): %s" % (r.rc, r.err[-300:])
            elif r.rc == 4:
                why = "exit 4 (internal error): %s" % r.err.strip()[:200]
            elif r.rc == 0 and uz >= 2:
                why = "valid, but unzip -t exits %d" % uz
            elif r.rc == 0 and field not in common.UNCOVERED:
                why = "valid although the byte is in %s.%s" % (span.struct, field)
            elif r.rc == 0:
                new_warn = warnings(r) - base_warn
                if new_warn or (field == "comment" and base_warn):
                    harmless.append("%s: valid with warning %s" % (where, ",".join(
                        sorted({w[0] for w in new_warn} or {"(as before the flip)"}))))
                    row["warn_pass"] += 1
                else:
                    silent.append(((span.struct, field), "%s: valid with no warning" % where))
                    row["silent"] += 1
            elif r.rc not in (1, 3):
                why = "exit %d" % r.rc
            elif r.rc in (1, 3) and r.verdict not in ("invalid", "unreadable"):
                why = "exit %d with verdict %r" % (r.rc, r.verdict)
            if why:
                row["fail"] += 1
                failures.append("%s: %s" % (where, why))
        rows_bundle.append((bname, len(rcs), common.count_codes(rcs),
                            sum(1 for x in rcs if x == 0)))
    common.table("Experiment 1: single-byte flips, per bundle",
                 ["bundle", "trials", "exit codes (code:count)", "exit 0"], rows_bundle)
    rows = []
    for (st, kind), row in sorted(rows_struct.items()):
        rows.append((st, kind, row["n"], common.count_codes(row["rc"]), row["unzip_fail"],
                     row["warn_pass"], row["silent"], row["fail"]))
    common.table("Experiment 1: single-byte flips, per ZIP structure (all bundles)",
                 ["structure", "entry kind", "trials", "verify exit codes", "unzip -t failed",
                  "valid+warning", "valid, silent", "FAILED"], rows,
                 "%d trials; exit codes %s; %d failed, %d passed silently (valid, no warning), "
                 "%d passed with a warning (harmless bytes)."
                 % (len(all_rc), common.count_codes(all_rc), len(failures), len(silent),
                    len(harmless)))
    if harmless:
        print("\nHarmless bytes (valid with a warning):")
        for h in harmless:
            print("  " + h)
    if silent:
        by = {}
        for k, _ in silent:
            by[k] = by.get(k, 0) + 1
        common.table("Experiment 1: bytes that do not matter, passed valid with no warning",
                     ["structure", "field", "trials"],
                     [(k[0], k[1], v) for k, v in sorted(by.items())],
                     "Every such flip is listed in %s." % os.path.join(work, "flips-silent.txt"))
        with open(os.path.join(work, "flips-silent.txt"), "w") as f:
            for _, line in silent:
                f.write(line + "\n")
    if failures:
        print("\nFAILED:")
        for f in failures:
            print("  " + f)
    summary = {"trials": len(all_rc), "failed": len(failures), "silent": len(silent),
               "harmless": len(harmless)}
    open(os.path.join(work, "flips.json"), "w").write(json.dumps(summary) + "\n")
    strict = os.environ.get("TRIALS_SILENT_FAILS", "1") != "0"
    return 1 if failures or (silent and strict) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
