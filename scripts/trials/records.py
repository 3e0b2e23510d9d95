#!/usr/bin/env python3
"""Experiment 3: hostile records.

usage: records.py EVIDENCE WORK [--big-mb N] [--items N] [--events N] [--depth N]

A folder bundle packed from samples/media with two more custody events is
changed so that evidence.json, custody.jsonl or a view tells one lie, and
every other trace of the change is hidden: the last custody event's
record_sha256 and manifest_sha256, the tag manifests and the seal are
re-made to agree with the new files (as tests/tools/record_lie.py does), and
the views are dropped unless the lie is about them. Each lie is run four
ways: `verify --json` on the folder, `verify --json` on the same bag as a ZIP
(tests/tools/mkbag.py --zip), `extract` of the ZIP into an empty DEST (must
refuse and leave DEST empty, no .partial-*), and `custody add` on the ZIP
(must refuse with exit 1 and leave the ZIP unchanged, since nothing may be
added to a bundle that fails). A few controls (changes that are not lies)
must stay valid.

Then the sizes: a record of N items (default 10^6) and of N+1 in a small
ZIP, a custody log of 100,000 and 100,001 events, JSON nested DEPTH deep
(default 100,000) in the record and in a custody note, a record of BIG_MB
(default 200) MB and one over the 256 MiB limit, each with its max RSS
(/usr/bin/time -v) and time. A run FAILS on a crash, exit 4, an exit code
other than expected, a missing expected problem code, a refused extraction
that leaves anything, or a custody add that changes a lying bundle.
"""
import concurrent.futures
import copy
import hashlib
import json
import os
import shutil
import sys
import time
import uuid

import common
import mkbag

PACK = ["--case", "C/1", "--exhibit", "JS/1", "--officer", "O", "--org", "G"]


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _num(x):
    """A JSON number as RFC 8785 (ECMAScript) prints it."""
    if isinstance(x, int) and abs(x) <= 2**53:
        return str(x)
    x = float(x)
    if x == 0:
        return "0"
    m, _, e = repr(abs(x)).partition("e")
    ip, _, fp = m.partition(".")
    d, n = ip + fp, len(ip) + int(e or 0)
    while d[0] == "0":
        d, n = d[1:], n - 1
    d = d.rstrip("0")
    k, sg = len(d), "-" if x < 0 else ""
    if k <= n <= 21:
        return sg + d + "0" * (n - k)
    if 0 < n <= 21:
        return sg + d[:n] + "." + d[n:]
    if -6 < n <= 0:
        return sg + "0." + "0" * -n + d
    return sg + d[0] + ("." + d[1:] if k > 1 else "") + "e" + ("+" if n > 0 else "-") + str(abs(n - 1))


def _jcs(v):
    """RFC 8785 canonical JSON (docs/disclosure.md)."""
    if isinstance(v, dict):
        return "{" + ",".join(_jcs(k) + ":" + _jcs(v[k])
                              for k in sorted(v, key=lambda k: k.encode("utf-16-be"))) + "}"
    if isinstance(v, list):
        return "[" + ",".join(map(_jcs, v)) + "]"
    if isinstance(v, str) or v is None or isinstance(v, bool):
        return json.dumps(v, ensure_ascii=False)
    return _num(v)


def disclosure_root(bag, rec):
    """The RFC 9162 root over the items' salted leaves (docs/disclosure.md),
    as an attacker who edits a record re-makes it: it holds no secret."""
    H = lambda b: hashlib.sha256(b).digest()
    leaves = []
    for it in rec["items"]:
        d = it.get("derived_from") or {}
        files = [it["path"]] + ([d["record"]] if "record" in d else []) + list(it.get("meta", []))
        e = _jcs({k: v for k, v in it.items() if k != "salt"}).encode()
        leaves.append(H(b"\0" + bytes.fromhex(it["salt"]) + len(e).to_bytes(8, "big") + e +
                        b"".join(H(open(os.path.join(bag, f), "rb").read()) for f in files)))

    def mth(v):
        if len(v) == 1:
            return v[0]
        k = 1
        while k * 2 < len(v):
            k *= 2
        return H(b"\1" + mth(v[:k]) + mth(v[k:]))
    return mth(leaves).hex()


class Bag:
    def __init__(self, path):
        self.path = path
        self.rec_text = open(os.path.join(path, "evidence.json"), "rb").read()
        self.rec = json.loads(self.rec_text)
        self.lines = open(os.path.join(path, "custody.jsonl"), "rb").read().decode().splitlines()
        self.events = [json.loads(x) for x in self.lines]
        self.keep_views = False
        self.rehash_last = True      # re-make the last event's record/manifest hashes
        self.raw_record = None       # bytes written as evidence.json instead of self.rec
        self.raw_custody = None      # bytes written as custody.jsonl
        self.record_changed = False
        self.remake_root = True      # re-make disclosure.root after a record change

    def item(self, mime=None, index=0):
        its = [i for i in self.rec["items"] if mime is None or i.get("mime") == mime]
        return its[index]

    def write(self):
        p = self.path
        rp = os.path.join(p, "evidence.json")
        if self.raw_record is not None:
            open(rp, "wb").write(self.raw_record)
        elif self.record_changed:
            # the root is re-made, as an attacker would, unless the lie is the root
            dc = self.rec.get("disclosure") if isinstance(self.rec, dict) else None
            if self.remake_root and isinstance(dc, dict) and isinstance(self.rec.get("items"), list):
                try:
                    dc["root"] = disclosure_root(p, self.rec)
                except (KeyError, TypeError, ValueError, AttributeError, OSError):
                    pass  # a lie the root cannot be made over: verify says so
            open(rp, "w", encoding="utf-8").write(json.dumps(self.rec, indent=2,
                                                             ensure_ascii=False) + "\n")
        cp = os.path.join(p, "custody.jsonl")
        if self.raw_custody is not None:
            open(cp, "wb").write(self.raw_custody)
        else:
            evs = self.events
            lines = [json.dumps(e, ensure_ascii=False, separators=(",", ":")) if e is not None
                     else None for e in evs]
            # unchanged events keep their exact bytes
            for i, e in enumerate(evs):
                if e is None or (i < len(self.lines) and _same(self.lines[i], e)):
                    lines[i] = self.lines[i]
            if self.rehash_last and evs and isinstance(evs[-1], dict):
                evs[-1]["record_sha256"] = sha(rp)
                evs[-1]["manifest_sha256"] = sha(os.path.join(p, "manifest-sha256.txt"))
                lines[-1] = json.dumps(evs[-1], ensure_ascii=False, separators=(",", ":"))
            open(cp, "wb").write(("\n".join(lines) + "\n").encode("utf-8") if lines else b"")
        if not self.keep_views:
            for v in ("case.jsonld", "index.html"):
                if os.path.exists(os.path.join(p, v)):
                    os.remove(os.path.join(p, v))
        reseal(p)


def _same(line, e):
    try:
        return json.loads(line) == e
    except ValueError:
        return False


def reseal(p):
    seal = []
    for name in sorted(os.listdir(p)):
        if not (name.startswith("tagmanifest-") and name.endswith(".txt")):
            continue
        out = []
        for l in open(os.path.join(p, name), encoding="utf-8").read().splitlines():
            _, f = l.split("  ", 1)
            if os.path.exists(os.path.join(p, f)):
                out.append("%s  %s\n" % (sha(os.path.join(p, f)), f))
        open(os.path.join(p, name), "w", encoding="utf-8").write("".join(out))
        seal.append("%s  %s\n" % (sha(os.path.join(p, name)), name))
    if os.path.exists(os.path.join(p, "tagseal-sha256.txt")):
        open(os.path.join(p, "tagseal-sha256.txt"), "w").write("".join(seal))


def chain(events):
    """Re-link prev_sha256 and seq (a history rewritten consistently)."""
    prev = None
    out = []
    for i, e in enumerate(events):
        e["seq"] = i + 1
        e["prev_sha256"] = prev
        line = json.dumps(e, ensure_ascii=False, separators=(",", ":"))
        prev = hashlib.sha256(line.encode()).hexdigest()
        out.append(e)
    return out


LIES = []   # (name, expected verify exit, expected error codes, function)


def lie(name, rc=1, codes=()):
    def deco(fn):
        LIES.append((name, rc, tuple(codes), fn))
        return fn
    return deco


def rec_lie(name, rc, codes, mutate):
    def fn(b):
        mutate(b.rec)
        b.record_changed = True
    LIES.append((name, rc, tuple(codes), fn))


def ev_lie(name, rc, codes, mutate):
    def fn(b):
        mutate(b.events[-1])
    LIES.append((name, rc, tuple(codes), fn))


def setk(path, value):
    def m(d):
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value
    return m


def delk(path):
    def m(d):
        for k in path[:-1]:
            d = d[k]
        del d[path[-1]]
    return m


# --- controls: not lies ------------------------------------------------------------------
@lie("control: nothing but views dropped", 0)
def _c0(b):
    pass


@lie("control: case.reference with surrounding whitespace", 0)
def _c1(b):
    b.rec["case"]["reference"] = " C/1\t"
    b.record_changed = True


@lie("control: WAV typed audio/wav (same family)", 0)
def _c2(b):
    b.item("audio/x-wav").update(mime="audio/wav")
    b.record_changed = True


@lie("control: text typed application/octet-stream", 0)
def _c3(b):
    b.item("text/plain").update(mime="application/octet-stream")
    b.record_changed = True


# --- the record against bag-info.txt ---------------------------------------------------
rec_lie("case.reference differs", 1, ["record-baginfo-mismatch"],
        setk(["case", "reference"], "OTHER/9"))
rec_lie("case.organisation differs", 1, ["record-baginfo-mismatch"],
        setk(["case", "organisation"], "Other Police"))
rec_lie("case.operation given, absent in bag-info", 1, ["record-baginfo-mismatch"],
        setk(["case", "operation"], "Op X"))
rec_lie("case.description given, absent in bag-info", 1, ["record-baginfo-mismatch"],
        setk(["case", "description"], "something else"))
rec_lie("bundle_id differs", 1, ["record-baginfo-mismatch"],
        setk(["bundle_id"], "urn:uuid:" + str(uuid.UUID(int=7))))


@lie("exhibit of every item differs", 1, ["record-exhibit-mismatch"])
def _e1(b):
    for it in b.rec["items"]:
        it["exhibit"] = "OTHER"
    b.record_changed = True


@lie("exhibit of one item differs", 1, ["record-exhibit-mismatch"])
def _e2(b):
    b.rec["items"][1]["exhibit"] = "JS/2"
    b.record_changed = True


@lie("bag-info lists an exhibit no item has", 1, ["record-exhibit-mismatch"])
def _e3(b):
    p = os.path.join(b.path, "bag-info.txt")
    open(p, "a").write("Evidence-Exhibit: JS/9\n")


# --- wrong types ---------------------------------------------------------------------------
rec_lie("format: 5", 1, ["record-schema"], setk(["format"], 5))
rec_lie("created: []", 1, ["record-schema"], setk(["created"], []))
rec_lie('format_version: "1"', 1, ["record-schema"], setk(["format_version"], "1"))
rec_lie('format: "evidence-bundle " (trailing space)', 1, ["record-schema"],
        setk(["format"], "evidence-bundle "))
rec_lie('created: "yesterday"', 1, ["record-schema"], setk(["created"], "yesterday"))
rec_lie('created: 2024-02-30 (no such day)', 1, ["record-schema"],
        setk(["created"], "2024-02-30T10:00:00Z"))
rec_lie("case: []", 1, ["record-schema"], setk(["case"], []))
rec_lie("bundle_id: 7", 1, ["record-schema"], setk(["bundle_id"], 7))
rec_lie('tool: "x"', 1, ["record-schema"], setk(["tool"], "x"))
rec_lie("items: {}", 1, ["record-invalid"], setk(["items"], {}))
rec_lie("items: null", 1, ["record-invalid"], setk(["items"], None))
rec_lie('item size: "16784"', 1, [], lambda r: r["items"][0].update(size=str(r["items"][0]["size"])))
rec_lie("item size: -1", 1, [], lambda r: r["items"][0].update(size=-1))
rec_lie("item hashes: []", 1, [], lambda r: r["items"][0].update(hashes=[]))
rec_lie("item id: null", 1, ["record-invalid"], lambda r: r["items"][0].update(id=None))
rec_lie("item path: 5", 1, ["record-invalid"], lambda r: r["items"][0].update(path=5))
rec_lie("item mime: 5", 1, [], lambda r: r["items"][0].update(mime=5))
rec_lie("item role: boss", 1, ["record-schema"], lambda r: r["items"][0].update(role="boss"))
rec_lie("item without exhibit", 1, [], lambda r: r["items"][0].pop("exhibit"))


@lie("record is a JSON array", 1, ["record-invalid"])
def _t1(b):
    b.raw_record = b"[]\n"


@lie("record has a duplicate key", 1, ["record-invalid"])
def _t2(b):
    b.raw_record = b.rec_text.replace(b'"format": "evidence-bundle",',
                                      b'"format": "evidence-bundle", "format": "other",', 1)


@lie("record holds \\u0000 in a string", 1, [])
def _t3(b):
    b.raw_record = b.rec_text.replace(b'"C/1"', b'"C/1\\u0000x"', 1)


@lie("record starts with a BOM", 1, ["tag-bom|record-invalid"])
def _t4(b):
    b.raw_record = b"\xef\xbb\xbf" + b.rec_text


@lie("record holds invalid UTF-8", 1, [])
def _t5(b):
    b.raw_record = b.rec_text.replace(b'"C/1"', b'"C/1\xff"', 1)


# --- items against the payload --------------------------------------------------------------
@lie("two items for one file (swap)", 1, ["record-item-duplicate"])
def _i1(b):
    twin = copy.deepcopy(b.rec["items"][0])
    twin["id"] = b.rec["items"][1]["id"]
    b.rec["items"][1] = twin
    b.record_changed = True


@lie("one item more, for a described file", 1, ["record-items-exceed-payload"])
def _i2(b):
    extra = copy.deepcopy(b.rec["items"][0])
    extra["id"] = "item-9999"
    b.rec["items"].append(extra)
    b.record_changed = True


@lie("two items with one id", 1, ["record-item-duplicate"])
def _i3(b):
    b.rec["items"][1]["id"] = b.rec["items"][0]["id"]
    b.record_changed = True


@lie("item names a file not in the bag", 1, ["record-item-missing"])
def _i4(b):
    b.rec["items"][0]["path"] = "data/JS_1/media/NOPE.mp4"
    b.record_changed = True


@lie("a payload file without item", 1, ["record-missing-item"])
def _i5(b):
    b.rec["items"].pop()
    b.record_changed = True


@lie("item path with ..", 1, [])
def _i6(b):
    b.rec["items"][0]["path"] = "data/JS_1/../JS_1/media/CLIP_0001.mp4"
    b.record_changed = True


@lie("item sha256 wrong", 1, ["record-hash-mismatch"])
def _i7(b):
    h = b.rec["items"][0]["hashes"]["sha256"]
    b.rec["items"][0]["hashes"]["sha256"] = ("0" if h[0] != "0" else "1") + h[1:]
    b.record_changed = True


@lie("item sha256 in upper case", 1, [])
def _i8(b):
    b.rec["items"][0]["hashes"]["sha256"] = b.rec["items"][0]["hashes"]["sha256"].upper()
    b.record_changed = True


@lie("item size wrong", 1, ["record-size-mismatch"])
def _i9(b):
    b.rec["items"][0]["size"] += 1
    b.record_changed = True


# --- MIME types against the content ----------------------------------------------------------
for _name, _from, _to in (("JPEG typed application/x-msdownload", "image/jpeg",
                           "application/x-msdownload"),
                          ("JPEG typed application/zip", "image/jpeg", "application/zip"),
                          ("JPEG typed text/plain", "image/jpeg", "text/plain"),
                          ("WAV typed application/pdf", "audio/x-wav", "application/pdf"),
                          ("MP4 typed image/jpeg", "video/mp4", "image/jpeg"),
                          ("text typed application/x-executable", "text/plain",
                           "application/x-executable")):
    def _m(b, f=_from, t=_to):
        b.item(f).update(mime=t)
        b.record_changed = True
    LIES.append((_name, 1, ("record-mime-mismatch",), _m))

# --- the custody log --------------------------------------------------------------------------
ev_lie('custody time "yesterday"', 1, ["custody-time-invalid"], setk(["time"], "yesterday"))
ev_lie("custody time 2024-02-30", 1, ["custody-time-invalid"],
       setk(["time"], "2024-02-30T10:00:00Z"))
ev_lie("custody time with +01:00", 1, ["custody-time-invalid"],
       setk(["time"], "2024-01-01T10:00:00+01:00"))
ev_lie("custody time 5", 1, [], setk(["time"], 5))
ev_lie("custody time missing", 1, [], delk(["time"]))
ev_lie('custody action "teleported"', 1, ["custody-action-unknown"],
       setk(["action"], "teleported"))
ev_lie('custody action ""', 1, ["custody-action-unknown"], setk(["action"], ""))
ev_lie('custody action "CREATED"', 1, ["custody-action-unknown"], setk(["action"], "CREATED"))
ev_lie('custody actor ""', 1, ["custody-event-invalid"], setk(["actor"], ""))
ev_lie("custody tool_version missing", 1, ["custody-event-invalid"], delk(["tool_version"]))
ev_lie("custody note 5", 1, ["custody-event-invalid"], setk(["note"], 5))


@lie("custody prev_sha256 wrong", 1, ["custody-chain-broken"])
def _k1(b):
    p = b.events[-1]["prev_sha256"]
    b.events[-1]["prev_sha256"] = ("0" if p[0] != "0" else "1") + p[1:]


@lie("custody seq skips", 1, ["custody-chain-broken"])
def _k2(b):
    b.events[-1]["seq"] += 1


@lie("custody middle event deleted", 1, ["custody-chain-broken"])
def _k3(b):
    del b.events[1]
    del b.lines[1]


@lie("custody events swapped", 1, ["custody-chain-broken"])
def _k4(b):
    b.events[0], b.events[1] = b.events[1], b.events[0]
    b.lines[0], b.lines[1] = b.lines[1], b.lines[0]


@lie("custody first prev_sha256 not null", 1, ["custody-chain-broken"])
def _k5(b):
    b.events[0]["prev_sha256"] = "0" * 64


@lie("custody last line without newline", 1, ["custody-chain-broken"])
def _k6(b):
    b.write_orig = b.write

    def w():
        b.write_orig()
        cp = os.path.join(b.path, "custody.jsonl")
        text = open(cp, "rb").read()
        open(cp, "wb").write(text.rstrip(b"\n"))
        reseal(b.path)
    b.write = w


@lie("custody line that is not JSON", 1, ["custody-chain-broken"])
def _k7(b):
    b.events.insert(1, None)
    b.lines.insert(1, "not json")


@lie("custody manifest_sha256 stale", 1, ["custody-manifest-mismatch"])
def _k8(b):
    b.rehash_last = False
    b.events[-1]["manifest_sha256"] = "0" * 64


@lie("custody record_sha256 stale", 1, ["custody-record-mismatch"])
def _k9(b):
    b.rec["case"]["reference"] = "C/1 "     # same after trimming: only the hash tells
    b.record_changed = True
    b.rehash_last = False


@lie("custody log empty", 1, ["custody-empty"])
def _k10(b):
    b.raw_custody = b""


@lie("custody log removed", 1, ["custody-missing"])
def _k11(b):
    b.write_orig = b.write

    def w():
        b.write_orig()
        os.remove(os.path.join(b.path, "custody.jsonl"))
        reseal(b.path)
    b.write = w


@lie("custody history rewritten, chain re-linked", 0)
def _k12(b):
    # a consistent rewrite of an unsigned log cannot be told from the truth;
    # listed to show what verify can and cannot know (signatures can: sign_tamper.sh)
    b.events[1]["note"] = "rewritten"
    b.events = chain(b.events)
    b.lines = [json.dumps(e, separators=(",", ":")) for e in b.events]


# --- views --------------------------------------------------------------------------------------
@lie("case.jsonld says another case", 1, ["view-mismatch"])
def _v1(b):
    b.keep_views = True
    p = os.path.join(b.path, "case.jsonld")
    t = open(p, encoding="utf-8").read()
    open(p, "w", encoding="utf-8").write(t.replace('"C/1"', '"OTHER/9"'))


@lie("index.html says another case", 1, ["view-mismatch"])
def _v2(b):
    b.keep_views = True
    p = os.path.join(b.path, "index.html")
    t = open(p, encoding="utf-8").read()
    assert "C/1" in t
    open(p, "w", encoding="utf-8").write(t.replace("C/1", "OTHER/9"))


@lie("case.jsonld with one statement more", 1, ["view-mismatch"])
def _v3(b):
    b.keep_views = True
    p = os.path.join(b.path, "case.jsonld")
    d = json.load(open(p, encoding="utf-8"))
    d["@graph"].append({"@id": "kb:extra", "@type": "uco-core:Annotation",
                        "uco-core:statement": "planted"})
    open(p, "w", encoding="utf-8").write(json.dumps(d, indent=2))


@lie("views stale after an edit of record and bag-info", 1, ["view-mismatch"])
def _v4(b):
    b.keep_views = True
    b.rec["case"]["description"] = "edited later"
    b.record_changed = True
    p = os.path.join(b.path, "bag-info.txt")
    open(p, "a").write("External-Description: edited later\n")


@lie("control: only case.jsonld dropped", 0)
def _v5(b):
    b.keep_views = True
    os.remove(os.path.join(b.path, "case.jsonld"))


def make_base(evidence, work, env):
    src = os.path.join(work, "rec-base")
    shutil.rmtree(src, ignore_errors=True)
    r = common.run([evidence, "pack", "--format", "dir", "-o", src] + PACK +
                   [os.path.join(common.SOURCE, "samples", "media")], env=env)
    if r.rc != 0:
        raise SystemExit("pack failed: " + r.err)
    for action, note in (("received", "into the store"), ("note", "seal 00123 intact")):
        r = common.run([evidence, "custody", "add", src, "--action", action, "--actor", "A",
                        "--org", "G", "--note", note], env=env)
        if r.rc != 0:
            raise SystemExit("custody add failed: " + r.err)
    return src


def tree(folder):
    out = []
    for dp, dn, fn in os.walk(folder):
        out += [os.path.relpath(os.path.join(dp, n), folder) for n in dn + fn]
    return out


def run_rss(cmd, env, timeout=600):
    """(Result, max RSS in MB) through /usr/bin/time -v."""
    tf = cmd[-1] + ".time"
    r = common.run(["/usr/bin/time", "-v", "-o", tf] + cmd, env=env, timeout=timeout)
    rss = None
    try:
        for l in open(tf):
            if "Maximum resident set size" in l:
                rss = int(l.split(":")[1]) / 1024.0
        os.remove(tf)
    except OSError:
        pass
    return r, rss


def judge(r, want, codes, what):
    why = []
    if r.crashed:
        why.append("%s crashed or sanitizer report (exit %d): %s" % (what, r.rc, r.err[-200:]))
    elif r.rc == 4:
        why.append("%s exit 4: %s" % (what, r.err.strip()[:200]))
    elif r.rc != want:
        why.append("%s exit %d, expected %d (errors: %s)" % (what, r.rc, want,
                                                           ",".join(r.codes("error"))))
    else:
        missing = [c for c in codes if not set(c.split("|")) & set(r.codes("error"))]
        if missing:
            why.append("NOTE %s: refused, but without %s (errors: %s)"
                       % (what, ",".join(missing), ",".join(r.codes("error"))))
    return why


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    evidence, work = argv[1], argv[2]

    def opt(name, default):
        return int(argv[argv.index(name) + 1]) if name in argv else default
    big_mb = opt("--big-mb", 200)
    n_items = opt("--items", 1000000)
    n_events = opt("--events", 100000)
    depth = opt("--depth", 100000)
    env = common.evidence_env()
    base = make_base(evidence, work, env)
    v = common.run([evidence, "verify", "--json", base], env=env)
    if v.rc != 0:
        print("FAILED: the base bundle does not verify: %s" % ",".join(v.codes()))
        return 1
    root = os.path.join(work, "records")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    rows, failures, runs, notes = [], [], [], []
    def one(k):
        name, want, codes, fn = LIES[k]
        w = os.path.join(root, "c%03d" % k)
        os.makedirs(w)
        bag = os.path.join(w, "b")
        shutil.copytree(base, bag)
        b = Bag(bag)
        fn(b)
        b.write()
        z = os.path.join(w, "z", "b.zip")
        os.makedirs(os.path.dirname(z))
        mkbag.zip_folder(bag, z)
        why = []
        r1 = common.run([evidence, "verify", "--json", bag], env=env)
        why += judge(r1, want, codes, "verify folder")
        r2 = common.run([evidence, "verify", "--json", z], env=env)
        why += judge(r2, want, codes, "verify zip")
        dest = os.path.join(w, "x", "dest")
        os.makedirs(dest)
        r3 = common.run([evidence, "extract", z, dest], env=env)
        why += judge(r3, want, (), "extract")
        if r3.rc != 0 and os.listdir(dest):
            why.append("refused extraction left %d paths in DEST" % len(os.listdir(dest)))
        left = [p for p in tree(os.path.join(w, "x")) + tree(os.path.join(w, "z"))
                if ".partial-" in p or ".amend-" in p]
        before = sha(z)
        r4 = common.run([evidence, "custody", "add", z, "--action", "note", "--actor", "T",
                         "--org", "T", "--note", "trial"], env=env)
        if want != 0:
            if r4.rc not in (1, 3):
                why += judge(r4, 1, (), "custody add")
            if sha(z) != before:
                why.append("custody add changed a bundle that fails verification")
        else:
            why += judge(r4, 0, (), "custody add")
        left += [p for p in tree(os.path.join(w, "z")) if ".partial-" in p or ".amend-" in p]
        if left:
            why.append("temporary output left: %s" % left[:3])
        shutil.rmtree(w)
        return name, want, (r1, r2, r3, r4), why

    jobs = max(1, int(os.environ.get("TRIALS_JOBS", "2")))
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        every = max(1, int(os.environ.get("TRIALS_RECORD_EVERY", "1")))
        results = list(pool.map(one, range(0, len(LIES), every)))
    for name, want, rs, why in results:
        runs += [r.rc for r in rs]
        bad = [x for x in why if not x.startswith("NOTE ")]
        rows.append((name, want) + tuple(r.rc for r in rs) +
                    (",".join(rs[0].codes("error"))[:70],
                     "FAIL" if bad else "other code" if why else "ok"))
        if bad:
            failures.append("%s: %s" % (name, "; ".join(bad)))
        elif why:
            notes.append("%s: %s" % (name, "; ".join(why)))
    common.table("Experiment 3: hostile records (%d lies x 4 runs = %d runs)"
                 % (len(results), len(runs)),
                 ["lie", "want", "verify dir", "verify zip", "extract zip", "custody add zip",
                  "error codes (folder)", "result"], rows,
                 "exit codes over all %d runs: %s." % (len(runs), common.count_codes(runs)))

    # --- sizes ---------------------------------------------------------------------------
    srows = []
    big = []

    def size_case(name, want, codes, fn, zip_too=True, dir_too=True):
        w = os.path.join(root, "size-%d" % len(srows))
        shutil.rmtree(w, ignore_errors=True)
        os.makedirs(w)
        bag = os.path.join(w, "b")
        shutil.copytree(base, bag)
        t0 = time.time()
        b = Bag(bag)
        fn(b)
        b.write()
        rec_mb = os.path.getsize(os.path.join(bag, "evidence.json")) / 1e6
        log_mb = os.path.getsize(os.path.join(bag, "custody.jsonl")) / 1e6
        forms = []
        if dir_too:
            forms.append(("folder", bag))
        if zip_too:
            z = os.path.join(w, "b.zip")
            zip_deflated(bag, z)
            forms.append(("zip %.1f MB" % (os.path.getsize(z) / 1e6), z))
        for form, target in forms:
            r, rss = run_rss([evidence, "verify", "--json", target], env)
            why = judge(r, want, codes, "verify " + form)
            if why and all(x.startswith("NOTE ") for x in why):
                notes.append("%s (%s): %s" % (name, form, "; ".join(why)))
                why = []
            srows.append((name, "%.1f" % rec_mb, "%.1f" % log_mb, form, r.rc,
                          ",".join(r.codes("error"))[:60] or
                          str((r.doc.get("error") or {}).get("code", "")
                              if isinstance(r.doc, dict) else ""),
                          "%.0f" % rss if rss else "?", "%.1f" % r.secs,
                          "FAIL" if why else "ok"))
            runs.append(r.rc)
            if why:
                failures.append("%s (%s): %s" % (name, form, "; ".join(why)))
        big.append(time.time() - t0)
        shutil.rmtree(w)

    def items_many(n):
        def fn(b):
            b.raw_record = (b.rec_text[:b.rec_text.index(b'"items"')] + b'"items": [' +
                            b",".join([b"{}"] * n) + b"]}\n")
        return fn

    def events_many(n):
        def fn(b):
            b.write_orig = b.write

            def w():
                b.write_orig()
                cp = os.path.join(b.path, "custody.jsonl")
                with open(cp, "ab") as f:
                    f.write(b"{}\n" * (n - len(b.events)))
                reseal(b.path)
            b.write = w
        return fn

    def nested(where, d):
        def fn(b):
            deep = b"[" * d + b"]" * d
            if where == "record":
                b.raw_record = b.rec_text.replace(b'"description": null',
                                                  b'"description": ' + deep, 1)
            else:
                b.events[-1]["note"] = "@@DEEP@@"
                b.write_orig = b.write

                def w():
                    b.write_orig()
                    cp = os.path.join(b.path, "custody.jsonl")
                    t = open(cp, "rb").read().replace(b'"@@DEEP@@"', deep)
                    open(cp, "wb").write(t)
                    reseal(b.path)
                b.write = w
        return fn

    def padded(mb):
        def fn(b):
            pad = b"A" * (mb * 1000 * 1000)
            # at the top level: an item's entry is a leaf of the disclosure
            # tree, so a key added there is (rightly) a root mismatch
            i = b.rec_text.index(b'{') + 1
            b.raw_record = b.rec_text[:i] + b'"x_pad": "' + pad + b'", ' + b.rec_text[i:]
        return fn

    size_case("%d items in the record" % n_items, 1, ["record-items-exceed-payload"],
              items_many(n_items))
    size_case("%d items in the record" % (n_items + 1), 3 if n_items >= 1000000 else 1,
              ["limit-items"] if n_items >= 1000000 else [], items_many(n_items + 1))
    size_case("%d custody events" % n_events, 1, [], events_many(n_events))
    size_case("%d custody events" % (n_events + 1), 3 if n_events >= 100000 else 1,
              ["limit-custody-events"] if n_events >= 100000 else [], events_many(n_events + 1))
    size_case("record nested %d deep" % depth, 1, [], nested("record", depth))
    size_case("custody note nested %d deep" % depth, 1, [], nested("custody", depth))
    # an unknown top-level key is allowed (the schema is open): valid, only the cost counts
    size_case("record of %d MB (one long string)" % big_mb, 0, [], padded(big_mb))
    if big_mb >= 200:
        size_case("record of 270 MB (over the 256 MiB limit)", 3, ["limit-record-size"],
                  padded(270))
    common.table("Experiment 3: sizes and limits (max RSS of verify by /usr/bin/time -v)",
                 ["case", "evidence.json MB", "custody.jsonl MB", "form", "verify exit",
                  "codes", "max RSS MB", "seconds", "result"], srows)
    print("\nExperiment 3: %d runs in all; exit codes %s; %d failed."
          % (len(runs), common.count_codes(runs), len(failures)))
    if notes:
        print("\nRefused as expected, but with another problem code than documented:")
        for n in notes:
            print("  " + n)
    if failures:
        print("\nFAILED:")
        for f in failures:
            print("  " + f)
    return 1 if failures else 0


def zip_deflated(src, out):
    """src as a ZIP, every file deflated except those over 50 MB, which are
    stored: a long run of one byte deflates over 1000:1, and the reader
    rightly refuses that as a ZIP bomb before it could count the record."""
    import zipfile
    top = os.path.basename(src.rstrip("/"))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as z:
        for d, dn, fs in os.walk(src):
            dn.sort()
            for f in sorted(fs):
                p = os.path.join(d, f)
                big = os.path.getsize(p) > 50 * 1000 * 1000
                z.write(p, os.path.join(top, os.path.relpath(p, src)),
                        compress_type=zipfile.ZIP_STORED if big else zipfile.ZIP_DEFLATED)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
