"""Shared helpers of the attack-trial harness (scripts/trials/run.sh).

Running the binary under test (always through `nice -n 10`), reading its
--json output, telling a crash from an exit code, printing tables, and a
ZIP structure map that names the field every byte of a ZIP belongs to.
Standard library only.
"""
import json
import os
import re
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
TOOLS = os.path.join(SOURCE, "tests", "tools")
sys.path.insert(0, TOOLS)

SANITIZER = re.compile(r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|"
                       r"SUMMARY: UndefinedBehaviorSanitizer|Segmentation fault|core dumped")
NICE = ["nice", "-n", "10"]


class Result:
    def __init__(self, rc, out, err, secs):
        self.rc, self.out, self.err, self.secs = rc, out, err, secs
        self._doc = None

    @property
    def crashed(self):
        return self.rc < 0 or self.rc >= 128 or bool(SANITIZER.search(self.err))

    @property
    def doc(self):
        if self._doc is None:
            try:
                self._doc = json.loads(self.out.decode("utf-8"))
            except ValueError:
                self._doc = {}
        return self._doc

    @property
    def verdict(self):
        v = self.doc.get("verdict") if isinstance(self.doc, dict) else None
        return v if isinstance(v, str) else "-"

    def problems(self):
        d = self.doc
        if not isinstance(d, dict):
            return []
        return [p for p in (d.get("problems") or []) if isinstance(p, dict)]

    def codes(self, severity=None):
        return sorted({p.get("code") for p in self.problems()
                       if severity is None or p.get("severity") == severity})

    def has_warning(self):
        return any(p.get("severity") == "warning" for p in self.problems())


def run(cmd, timeout=300, env=None, cwd=None):
    t0 = time.time()
    try:
        p = subprocess.run(NICE + list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, env=env, cwd=cwd, stdin=subprocess.DEVNULL)
        rc, out, err = p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        rc, out, err = -1000, e.stdout or b"", "TIMEOUT after %d s" % timeout
    return Result(rc, out, err, time.time() - t0)


def evidence_env():
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":exitcode=86").lstrip(":")
    env["UBSAN_OPTIONS"] = (env.get("UBSAN_OPTIONS", "") + ":exitcode=86").lstrip(":")
    env["LC_ALL"] = "C.UTF-8"
    return env


def table(title, header, rows, note=None):
    """Print a Markdown table (the same text goes into docs/hardening.md)."""
    print()
    print("### " + title)
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")
    if note:
        print()
        print(note)
    sys.stdout.flush()


def count_codes(results):
    """'0:12 1:30 3:2' from a list of exit codes."""
    c = {}
    for rc in results:
        c[rc] = c.get(rc, 0) + 1
    return " ".join("%s:%d" % (k, c[k]) for k in sorted(c))


def partials(folder, name=None):
    """Hidden temporary outputs in folder (of target `name`, or all)."""
    try:
        ls = os.listdir(folder)
    except OSError:
        return []
    out = []
    for n in ls:
        if ".partial-" not in n and ".amend-" not in n:
            continue
        if name is None or n.startswith("." + name + ".") or n.startswith(".." + name + "."):
            out.append(n)
    return sorted(out)


# --- ZIP structure map -------------------------------------------------------------
class Span:
    __slots__ = ("start", "end", "struct", "field", "entry", "kind")

    def __init__(self, start, end, struct_, field, entry, kind):
        self.start, self.end, self.struct, self.field = start, end, struct_, field
        self.entry, self.kind = entry, kind


LH = [(0, 4, "signature"), (4, 6, "version-needed"), (6, 8, "flags"), (8, 10, "method"),
      (10, 12, "mod-time"), (12, 14, "mod-date"), (14, 18, "crc32"), (18, 22, "csize"),
      (22, 26, "usize"), (26, 28, "name-length"), (28, 30, "extra-length")]
CH = [(0, 4, "signature"), (4, 6, "version-made-by"), (6, 8, "version-needed"), (8, 10, "flags"),
      (10, 12, "method"), (12, 14, "mod-time"), (14, 16, "mod-date"), (16, 20, "crc32"),
      (20, 24, "csize"), (24, 28, "usize"), (28, 30, "name-length"), (30, 32, "extra-length"),
      (32, 34, "comment-length"), (34, 36, "disk-start"), (36, 38, "internal-attr"),
      (38, 40, "external-attr-dos"), (40, 42, "external-attr-mode"), (42, 46, "local-offset")]
EOCD = [(0, 4, "signature"), (4, 6, "disk"), (6, 8, "cd-disk"), (8, 10, "entries-on-disk"),
        (10, 12, "entries"), (12, 16, "cd-size"), (16, 20, "cd-offset"), (20, 22, "comment-length")]
Z64EOCD = [(0, 4, "signature"), (4, 12, "record-size"), (12, 14, "version-made-by"),
           (14, 16, "version-needed"), (16, 20, "disk"), (20, 24, "cd-disk"),
           (24, 32, "entries-on-disk"), (32, 40, "entries"), (40, 48, "cd-size"),
           (48, 56, "cd-offset")]
Z64LOC = [(0, 4, "signature"), (4, 8, "eocd64-disk"), (8, 16, "eocd64-offset"), (16, 20, "disks")]

# Fields that no checksum, no comparison and no reader needs: a flip there
# leaves every byte of the bag intact. A flip in any other field changes
# what the ZIP says, and must not pass as valid.
UNCOVERED = {"version-made-by", "version-needed", "mod-time", "mod-date", "internal-attr",
             "external-attr-dos", "external-attr-perm", "external-attr-notype", "comment",
             "extra-id-other", "extra-other", "flags-unused", "gap"}

# General-purpose flag bits that change how an entry must be read:
# encryption (0), data descriptor (3), compressed patched data (5), strong
# encryption (6), UTF-8 names (11), masked local header (13). The others are
# deflate options or reserved.
FLAG_BITS_MEANINGFUL = (1 << 0) | (1 << 3) | (1 << 5) | (1 << 6) | (1 << 11) | (1 << 13)


def effective_field(span, off, mask, orig=None):
    """The field name a flip at off with mask is judged by (orig: the byte
    before the flip)."""
    rel = off - span.start
    if span.field == "external-attr-mode" and (rel == 0 or not mask & 0xF0):
        return "external-attr-perm"       # permission bits, not the file type
    if span.field == "external-attr-mode" and orig is not None and not (orig ^ mask) & 0xF0:
        # the mode lost its file type: read as a file or folder by its
        # name, as unzip does; harmless to what is read, but must warn
        return "external-attr-notype"
    if span.field == "flags":
        bits = mask << (8 * rel)
        return "flags" if bits & FLAG_BITS_MEANINGFUL else "flags-unused"
    return span.field


def entry_kind(name, is_dir, method):
    rel = name.split("/", 1)[1] if "/" in name else name
    if is_dir:
        return "folder"
    if rel.startswith("data/"):
        return "payload-deflated" if method == 8 else "payload-stored"
    if rel == "tagseal-sha256.txt":
        return "seal"
    if rel.startswith("signatures/"):
        return "signature"
    if rel.startswith("meta/"):
        return "meta"
    return "tag"


def _extra_spans(spans, base, data, prefix, entry, kind):
    i = 0
    while i + 4 <= len(data):
        hid, ln = struct.unpack_from("<HH", data, i)
        spans.append(Span(base + i, base + i + 2, prefix + "-extra",
                          "extra-id-zip64" if hid == 1 else "extra-id-other", entry, kind))
        spans.append(Span(base + i + 2, base + i + 4, prefix + "-extra", "extra-length", entry,
                          kind))
        field = "extra-zip64" if hid == 1 else "extra-other"
        end = min(i + 4 + ln, len(data))
        if end > i + 4:
            spans.append(Span(base + i + 4, base + end, prefix + "-extra", field, entry, kind))
        i = i + 4 + ln
    if i < len(data):
        spans.append(Span(base + i, base + len(data), prefix + "-extra", "extra-other", entry,
                          kind))


def zip_map(path):
    """Spans covering every byte of the ZIP at path, each naming its structure
    (local-header, local-name, local-extra, data, descriptor, central-header,
    central-name, central-extra, central-comment, eocd, eocd-comment,
    zip64-eocd, zip64-locator, gap), field, entry name and entry kind."""
    d = open(path, "rb").read()
    spans = []
    e = d.rfind(b"PK\x05\x06")
    if e < 0:
        raise ValueError("no end record in " + path)
    _, _, _, _, n, cd_size, cd_off, clen = struct.unpack_from("<IHHHHIIH", d, e)
    for a, b, f in EOCD:
        spans.append(Span(e + a, e + b, "eocd", f, "", "eocd"))
    if clen:
        spans.append(Span(e + 22, e + 22 + clen, "eocd-comment", "comment", "", "eocd"))
    if e >= 20 and d[e - 20:e - 16] == b"PK\x06\x07":
        loc = e - 20
        for a, b, f in Z64LOC:
            spans.append(Span(loc + a, loc + b, "zip64-locator", f, "", "zip64"))
        z = struct.unpack_from("<Q", d, loc + 8)[0]
        rsize = struct.unpack_from("<Q", d, z + 4)[0]
        for a, b, f in Z64EOCD:
            spans.append(Span(z + a, z + b, "zip64-eocd", f, "", "zip64"))
        if rsize > 44:
            spans.append(Span(z + 56, z + 12 + rsize, "zip64-eocd", "extensible-data", "", "zip64"))
        n, cd_size, cd_off = struct.unpack_from("<QQQ", d, z + 32)
    p = cd_off
    for _ in range(n):
        (sig, _, _, flags, method, _, _, crc, csize, usize, nlen, xlen, clen2, _, _, eattr,
         off) = struct.unpack_from("<IHHHHHHIIIHHHHHII", d, p)
        name = d[p + 46:p + 46 + nlen].decode("utf-8", "replace")
        is_dir = name.endswith("/")
        kind = entry_kind(name, is_dir, method)
        for a, b, f in CH:
            spans.append(Span(p + a, p + b, "central-header", f, name, kind))
        spans.append(Span(p + 46, p + 46 + nlen, "central-name", "name", name, kind))
        cx = d[p + 46 + nlen:p + 46 + nlen + xlen]
        _extra_spans(spans, p + 46 + nlen, cx, "central", name, kind)
        if clen2:
            spans.append(Span(p + 46 + nlen + xlen, p + 46 + nlen + xlen + clen2,
                              "central-comment", "comment", name, kind))
        # ZIP64 values from the central extra field
        i = 0
        while i + 4 <= len(cx):
            hid, ln = struct.unpack_from("<HH", cx, i)
            if hid == 1:
                vals = cx[i + 4:i + 4 + ln]
                k = 0
                if usize == 0xFFFFFFFF:
                    usize = struct.unpack_from("<Q", vals, k)[0]
                    k += 8
                if csize == 0xFFFFFFFF:
                    csize = struct.unpack_from("<Q", vals, k)[0]
                    k += 8
                if off == 0xFFFFFFFF:
                    off = struct.unpack_from("<Q", vals, k)[0]
            i += 4 + ln
        p += 46 + nlen + xlen + clen2
        # the local header and data
        lnlen, lxlen = struct.unpack_from("<HH", d, off + 26)
        for a, b, f in LH:
            spans.append(Span(off + a, off + b, "local-header", f, name, kind))
        spans.append(Span(off + 30, off + 30 + lnlen, "local-name", "name", name, kind))
        _extra_spans(spans, off + 30 + lnlen, d[off + 30 + lnlen:off + 30 + lnlen + lxlen],
                     "local", name, kind)
        ds = off + 30 + lnlen + lxlen
        if csize:
            spans.append(Span(ds, ds + csize, "data", "data-" + kind, name, kind))
        if flags & 8:
            q = ds + csize
            zip64 = usize >= 0xFFFFFFFF or csize >= 0xFFFFFFFF or lxlen and \
                d[off + 30 + lnlen:off + 32 + lnlen] == b"\x01\x00"
            w = 8 if zip64 else 4
            fields = []
            if d[q:q + 4] == b"PK\x07\x08":
                fields.append((0, 4, "signature"))
                q0 = 4
            else:
                q0 = 0
            fields += [(q0, q0 + 4, "crc32"), (q0 + 4, q0 + 4 + w, "csize"),
                       (q0 + 4 + w, q0 + 4 + 2 * w, "usize")]
            for a, b, f in fields:
                spans.append(Span(q + a, q + b, "descriptor", f, name, kind))
    spans.sort(key=lambda s: s.start)
    # gaps: bytes no structure claims
    out = []
    pos = 0
    for s in spans:
        if s.start > pos:
            out.append(Span(pos, s.start, "gap", "gap", "", "gap"))
        if s.end > pos:
            out.append(s)
            pos = max(pos, s.end)
    if pos < len(d):
        out.append(Span(pos, len(d), "gap", "gap", "", "gap"))
    return out
