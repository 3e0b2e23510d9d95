#!/usr/bin/env python3
"""Check the two views of a bundle record (docs/views.md) against the record.

    views_check.py case BAG     case.jsonld: JSON; every @type prefix is in
                                @context; every referenced @id is defined, and
                                defined once; one File per item with the
                                record's name, path, size, MIME type and
                                hashes, and hashes equal to manifest-*.txt;
                                @ids are the documented UUIDv5s; derivatives
                                linked to their master; one action per
                                custody event
    views_check.py html BAG     index.html: no script, no external resource,
                                no event handler attribute; every link is a
                                relative path to a file of the bag, or a
                                #fragment to an element of the page; every item
                                has a row with its exact names and hash;
                                derivatives right under their master; one row
                                per custody event
    views_check.py text BAG S.. each string S appears, exactly, as text in
                                index.html and as a value in case.jsonld

BAG is a bag folder, or a ZIP (read in place). Prints one line per failed
check and exits 1 when there is any. Standard library only.
"""
import html.parser
import json
import os
import sys
import urllib.parse
import uuid
import zipfile


class Bag:
    def __init__(self, path):
        self.path = path
        self.zip = None
        if os.path.isfile(path):
            self.zip = zipfile.ZipFile(path)
            names = self.zip.namelist()
            self.top = names[0].split("/", 1)[0] + "/"
            self.files = {n[len(self.top):] for n in names if not n.endswith("/")}
        else:
            self.files = set()
            for dp, _, fn in os.walk(path):
                for f in fn:
                    self.files.add(os.path.relpath(os.path.join(dp, f), path))

    def read(self, rel):
        if self.zip:
            return self.zip.read(self.top + rel)
        with open(os.path.join(self.path, rel), "rb") as f:
            return f.read()


def manifest(bag, alg):
    out = {}
    if "manifest-%s.txt" % alg not in bag.files:
        return out
    for line in bag.read("manifest-%s.txt" % alg).decode("utf-8").splitlines():
        h, p = line.split("  ", 1)
        p = p.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
        out[p] = h
    return out


def custody_events(bag):
    ev = []
    for line in bag.read("custody.jsonl").decode("utf-8").split("\n"):
        if line:
            ev.append(json.loads(line))
    return ev


def lenkey(kind, a="", b=""):
    a = a or ""
    b = b or ""
    return "%s/%d:%s%d:%s" % (kind, len(a.encode()), a, len(b.encode()), b)


def check_case(bag):
    bad = []
    rec = json.loads(bag.read("evidence.json"))
    doc = json.loads(bag.read("case.jsonld"))
    ctx = doc.get("@context", {})
    graph = doc.get("@graph", [])
    ns = uuid.UUID(rec["bundle_id"][len("urn:uuid:"):])
    if ctx.get("kb") != "urn:uuid:%s#" % ns:
        bad.append("kb prefix is %r, not the bundle id with '#'" % ctx.get("kb"))

    defined, refs, types = {}, [], []

    def walk(o, top):
        if isinstance(o, dict):
            if "@id" in o and len(o) == 1:
                refs.append(o["@id"])
                return
            if "@id" in o:
                if o["@id"] in defined:
                    bad.append("@id defined twice: %s" % o["@id"])
                defined[o["@id"]] = o
            if "@type" in o:
                types.append(o["@type"])
            for k, v in o.items():
                if k not in ("@id", "@type", "@value") and ":" not in k:
                    bad.append("property without a prefix: %r" % k)
                elif ":" in k and k.split(":", 1)[0] not in ctx:
                    bad.append("property prefix not in @context: %r" % k)
                walk(v, False)
        elif isinstance(o, list):
            for v in o:
                walk(v, False)

    for n in graph:
        if "@id" not in n or "@type" not in n:
            bad.append("top-level node without @id or @type: %s" % json.dumps(n)[:200])
        walk(n, True)
    for t in types:
        if not isinstance(t, str) or ":" not in t or t.split(":", 1)[0] not in ctx:
            bad.append("@type with no prefix in @context: %r" % (t,))
    for r in refs:
        if r not in defined:
            bad.append("@id referenced but not defined: %s" % r)
    for i in defined:
        if not i.startswith("kb:"):
            bad.append("@id outside kb: %s" % i)

    def uid(slug, key):
        return "kb:%s-%s" % (slug, uuid.uuid5(ns, key))

    files = [n for n in graph if n.get("@type") == "uco-observable:File"]
    items = rec.get("items", [])
    if len(files) != len(items):
        bad.append("%d File nodes for %d items" % (len(files), len(items)))
    m256, m512 = manifest(bag, "sha256"), manifest(bag, "sha512")
    by_item = {}
    for it in items:
        fid = uid("file", lenkey("item", it["id"]))
        by_item[it["id"]] = fid
        f = defined.get(fid)
        if not f:
            bad.append("no File %s for %s" % (fid, it["id"]))
            continue
        facets = {x["@type"]: x for x in f.get("uco-core:hasFacet", [])}
        ff = facets.get("uco-observable:FileFacet", {})
        cd = facets.get("uco-observable:ContentDataFacet", {})
        want = {"uco-observable:fileName": it["original_name"],
                "uco-observable:filePath": it["path"],
                "uco-observable:sizeInBytes": it["size"]}
        for k, v in want.items():
            if ff.get(k) != v:
                bad.append("%s: FileFacet %s is %r, record %r" % (it["id"], k, ff.get(k), v))
        if cd.get("uco-observable:mimeType") != it["mime"]:
            bad.append("%s: mimeType %r" % (it["id"], cd.get("uco-observable:mimeType")))
        hashes = {h["uco-types:hashMethod"]: h["uco-types:hashValue"]
                  for h in cd.get("uco-observable:hash", [])}
        for alg, man in (("sha256", m256), ("sha512", m512)):
            v = hashes.get(alg.upper())
            if alg not in it.get("hashes", {}):
                if v:
                    bad.append("%s: %s hash not in the record" % (it["id"], alg))
                continue
            if not v or v.get("@type") != "xsd:hexBinary":
                bad.append("%s: no %s xsd:hexBinary hash" % (it["id"], alg))
                continue
            if v["@value"] != it["hashes"][alg] or v["@value"] != man.get(it["path"]):
                bad.append("%s: %s %s differs from the record or manifest-%s.txt"
                           % (it["id"], alg, v["@value"], alg))

    # derivatives: one action, object = master, result = copy
    for it in items:
        d = it.get("derived_from")
        if not d:
            continue
        aid = uid("investigative-action", lenkey("derivation", by_item[it["id"]]))
        a = defined.get(aid)
        if not a:
            bad.append("%s: no derivation action" % it["id"])
            continue
        if a.get("uco-action:object") != [{"@id": by_item.get(d["item"])}] or \
                a.get("uco-action:result") != [{"@id": by_item[it["id"]]}]:
            bad.append("%s: derivation action does not link master -> copy" % it["id"])
        if a.get("uco-core:name") != d.get("action"):
            bad.append("%s: derivation action name %r" % (it["id"], a.get("uco-core:name")))
        instr = [defined.get(x["@id"], {}) for x in a.get("uco-action:instrument", [])]
        if not any(x.get("@type") == "uco-tool:ConfiguredTool" and
                   x.get("uco-core:name") == d.get("profile") for x in instr):
            bad.append("%s: no ConfiguredTool for profile %r" % (it["id"], d.get("profile")))

    # custody: one InvestigativeAction per event, with its time
    events = custody_events(bag)
    for e in events:
        aid = uid("investigative-action", lenkey("custody", str(e["seq"])))
        a = defined.get(aid)
        if not a:
            bad.append("custody event %d: no action" % e["seq"])
            continue
        if a.get("uco-core:name") != e["action"] or \
                a.get("uco-action:startTime", {}).get("@value") != e["time"]:
            bad.append("custody event %d: name/time differ" % e["seq"])
        p = defined.get(a.get("uco-action:performer", {}).get("@id"), {})
        if p.get("uco-core:name") != e["actor"]:
            bad.append("custody event %d: performer %r" % (e["seq"], p.get("uco-core:name")))
        if e.get("note") is not None and a.get("uco-core:description") != e["note"]:
            bad.append("custody event %d: note lost" % e["seq"])
    acts = [n for n in graph if n.get("@type") == "case-investigation:InvestigativeAction"]
    nder = sum(1 for it in items if it.get("derived_from"))
    if len(acts) != len(events) + nder:
        bad.append("%d investigative actions for %d events and %d derivatives"
                   % (len(acts), len(events), nder))
    inv = [n for n in graph if n.get("@type") == "case-investigation:Investigation"]
    if len(inv) != 1 or inv[0].get("uco-core:name") != (rec.get("case") or {}).get("reference"):
        bad.append("not one Investigation named by the case reference")
    return bad


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.links, self.text = [], [], []
        self.rows, self.row, self.cell, self.table = [], None, None, None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        a = dict(attrs)
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        if tag == "table":
            self.table = a.get("class")
        if tag == "tr":
            self.row = {"table": self.table, "attrs": a, "cells": []}
        if tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row["cells"].append("".join(self.cell))
            self.cell = None
        if tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, data):
        self.text.append(data)
        if self.cell is not None:
            self.cell.append(data)


def parse_page(bag):
    p = Page()
    p.feed(bag.read("index.html").decode("utf-8"))
    p.close()
    return p


def check_html(bag):
    bad = []
    rec = json.loads(bag.read("evidence.json"))
    p = parse_page(bag)
    imgs = []
    for tag, attrs in p.tags:
        if tag in ("script", "iframe", "object", "embed", "link", "base", "form"):
            bad.append("<%s> in index.html" % tag)
        a = dict(attrs)
        if tag == "img":
            # only thumbnails: a relative meta/<item>/thumb.jpg of the bag, with alt text
            src = a.get("src") or ""
            imgs.append(urllib.parse.unquote(src))
            u = urllib.parse.urlsplit(src)
            if u.scheme or u.netloc or u.query or u.fragment or not src.startswith("meta/") or \
                    not src.endswith("/thumb.jpg") or \
                    urllib.parse.unquote(src) not in bag.files:
                bad.append("<img> that is not a thumbnail of the bag: %r" % src)
            if not a.get("alt"):
                bad.append("<img> without alt text: %r" % src)
        for k, v in attrs:
            if k.startswith("on"):
                bad.append("event handler attribute %s on <%s>" % (k, tag))
            if k in ("srcset", "action", "formaction") or (k == "src" and tag != "img"):
                bad.append("%s= on <%s>" % (k, tag))
            if k == "http-equiv" and v.lower() == "refresh":
                bad.append("meta refresh")
    ids = {dict(a).get("id") for t, a in p.tags} - {None}
    for h in p.links:
        u = urllib.parse.urlsplit(h)
        # a link within the page (an item's exhibit, an exhibit's files):
        # only to an element the page has
        if h.startswith("#") and len(h) > 1:
            if urllib.parse.unquote(h[1:], errors="strict") not in ids:
                bad.append("link to no element of the page: %r" % h)
            continue
        if u.scheme or u.netloc or h.startswith("/") or u.query or u.fragment:
            bad.append("link is not a plain relative path: %r" % h)
            continue
        if any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/%"
               for c in h):
            bad.append("link is not percent-encoded: %r" % h)
        target = urllib.parse.unquote(h, errors="strict")
        if target not in bag.files:
            bad.append("link to a file that is not in the bag: %r" % h)
    items = rec.get("items", [])
    thumbs = ["meta/%s/thumb.jpg" % it["id"] for it in items
              if "meta/%s/thumb.jpg" % it["id"] in (it.get("meta") or [])]
    if sorted(imgs) != sorted(thumbs):
        bad.append("thumbnails shown %s, listed in the record %s" % (sorted(imgs), sorted(thumbs)))
    csp = [dict(a).get("content", "") for t, a in p.tags
           if t == "meta" and dict(a).get("http-equiv", "").lower() == "content-security-policy"]
    if len(csp) != 1 or "default-src 'none'" not in csp[0] or "script-src" in csp[0] or \
            (thumbs and "img-src 'self'" not in csp[0]):
        bad.append("Content-Security-Policy %r" % csp)
    rows = [r for r in p.rows if r["table"] == "items" and r["attrs"].get("id")]
    if [r["attrs"]["id"] for r in rows] != [r for r in order(items)]:
        bad.append("item rows are not masters each followed by their copies: %s"
                   % [r["attrs"]["id"] for r in rows])
    linked = {urllib.parse.unquote(h) for h in p.links if not h.startswith("#")}
    byid = {r["attrs"]["id"]: r for r in rows}
    for it in items:
        r = byid.get(it["id"])
        if not r:
            bad.append("no row for %s" % it["id"])
            continue
        c = r["cells"]
        # with an exhibit schedule, the reference is followed by its summary
        ex_ok = c[0] == it["exhibit"] or (bool(rec.get("exhibits")) and
                                          c[0].startswith(it["exhibit"]))
        if not ex_ok or c[2] != it["original_name"] or c[3] != str(it["size"]) or \
                c[4] != it["mime"] or c[6] != it["hashes"]["sha256"]:
            bad.append("row %s differs from the record: %r" % (it["id"], c))
        if it["path"] not in c[1]:
            bad.append("row %s does not show its path" % it["id"])
        if it["path"] not in linked:
            bad.append("no link to %r" % it["path"])
        if it.get("derived_from"):
            d = it["derived_from"]
            for w in (d["profile"], d["verdict"]):
                if w not in c[1]:
                    bad.append("row %s does not show %r" % (it["id"], w))
    crow = [r for r in p.rows if r["table"] == "custody" and r["cells"] and r["cells"][0].isdigit()]
    events = custody_events(bag)
    if len(crow) != len(events):
        bad.append("%d custody rows for %d events" % (len(crow), len(events)))
    for r, e in zip(crow, events):
        if r["cells"][1:5] != [e["time"], e["action"], e["actor"], e["organisation"]] or \
                r["cells"][6] != (e.get("note") or ""):
            bad.append("custody row %s differs: %r" % (e["seq"], r["cells"]))
    return bad


def order(items):
    out = []
    ids = {it["id"] for it in items}
    for it in items:
        if it.get("derived_from"):
            continue
        out.append(it["id"])
        out += [d["id"] for d in items
                if d.get("derived_from") and d["derived_from"]["item"] == it["id"]]
    out += [d["id"] for d in items if d.get("derived_from") and d["derived_from"]["item"] not in ids]
    return out


def strings_in(o):
    if isinstance(o, str):
        yield o
    elif isinstance(o, dict):
        for v in o.values():
            yield from strings_in(v)
    elif isinstance(o, list):
        for v in o:
            yield from strings_in(v)


def check_text(bag, wanted):
    bad = []
    text = "".join(parse_page(bag).text)
    values = set(strings_in(json.loads(bag.read("case.jsonld"))))
    for s in wanted:
        if s not in text:
            bad.append("index.html does not show %r as text" % s)
        if not any(s in v for v in values):
            bad.append("case.jsonld has no value holding %r" % s)
    return bad


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("case", "html", "text"):
        print(__doc__, file=sys.stderr)
        return 2
    bag = Bag(sys.argv[2])
    if sys.argv[1] == "case":
        bad = check_case(bag)
    elif sys.argv[1] == "html":
        bad = check_html(bag)
    else:
        bad = check_text(bag, sys.argv[3:])
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
