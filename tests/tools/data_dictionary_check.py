#!/usr/bin/env python3
"""Check docs/data-dictionary.json against the JSON Schemas it describes.

usage: data_dictionary_check.py ROOT [--dictionary FILE]
            check the dictionary (default ROOT/docs/data-dictionary.json)
            against the schemas; exit 1 on any difference
       data_dictionary_check.py ROOT --record EVIDENCE.JSON [--dictionary FILE]
            every field of a real record must be in the dictionary; exit 1
            naming those that are not
       data_dictionary_check.py ROOT --paths
            print every field path of the schemas

Every field of evidence.json (docs/schema/evidence.schema.json, with the
media, capture and content_hashes definitions of media.schema.json it refers
to) must have exactly one entry in the dictionary with "source": "record",
every field of an exhibit schedule (docs/schema/schedule.schema.json)
one with "source": "schedule", and every field of a custody event (a line of
custody.jsonl, $defs/event of docs/schema/evidence.custody.schema.json) one
with "source": "custody"; an entry whose field is in no schema fails too. A field path is the JSON path from the top of the document: "a.b" for
a member, "a[]" for the items of a list, "a.*" for the values of a map
(additionalProperties). Each entry must also give every column of the
dictionary, with a POLE entity among Person, Object, Location, Event, none.
An entry marked "in_schema": false is a field pack writes that the schema
does not list yet: it must not be in the schema (once it is, drop the mark).

Standard library only.
"""
import json
import os
import sys

POLE = ("Person", "Object", "Location", "Event", "none")
COLUMNS = ("path", "source", "type", "meaning", "format", "required", "pole", "case_uco",
           "bag_info", "schedule_column")


def load(root, name):
    with open(os.path.join(root, "docs", "schema", name), encoding="utf-8") as f:
        return json.load(f)


class Walker:
    def __init__(self, root):
        self.docs = {}
        for name in ("evidence.schema.json", "media.schema.json", "schedule.schema.json",
                     "evidence.custody.schema.json"):
            d = load(root, name)
            self.docs[d["$id"]] = d
        self.paths = {}

    def resolve(self, node, doc):
        while "$ref" in node:
            ref = node["$ref"]
            base, _, frag = ref.partition("#")
            if base:
                doc = self.docs[base]
            target = doc
            for part in frag.split("/")[1:]:
                target = target[part]
            extra = {k: v for k, v in node.items() if k != "$ref"}
            node = dict(target, **extra)
        return node, doc

    def types(self, node):
        t = node.get("type")
        if t is None and "const" in node:
            c = node["const"]
            t = {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(c), "string")
        if t is None and "enum" in node:
            t = "string"
        if t is None and "oneOf" in node:
            t = "object"
        return t if isinstance(t, list) else [t] if t else []

    def walk(self, node, doc, path, required):
        node, doc = self.resolve(node, doc)
        if path:
            self.paths[path] = {"types": self.types(node), "required": required}
        branches = node.get("oneOf", []) + node.get("anyOf", [])
        for b in [node] + branches:
            b, bdoc = self.resolve(b, doc)
            req = set(b.get("required", []))
            for k, v in b.get("properties", {}).items():
                if k == "$schema":
                    continue
                self.walk(v, bdoc, (path + "." if path else "") + k, k in req)
            ap = b.get("additionalProperties")
            if isinstance(ap, dict):
                self.walk(ap, bdoc, path + ".*", False)
            if "items" in b and isinstance(b["items"], dict):
                self.walk(b["items"], bdoc, path + "[]", False)


def schema_paths(root):
    out = {}
    for src, name in (("record", "urn:libevidence:schema:evidence"),
                      ("schedule", "urn:libevidence:schema:schedule")):
        w = Walker(root)
        w.walk(w.docs[name], w.docs[name], "", True)
        out[src] = w.paths
    # a custody event: one line of custody.jsonl
    w = Walker(root)
    doc = w.docs["urn:libevidence:schema:evidence.custody"]
    w.walk(doc["$defs"]["event"], doc, "", True)
    out["custody"] = w.paths
    return out


def record_paths(doc, entries):
    """Field paths of a real record that the dictionary lacks."""
    missing = set()

    def walk(v, path):
        e = entries.get(path)
        if e is not None and e.get("see"):
            return      # described elsewhere
        if isinstance(v, dict):
            for k, c in v.items():
                sub = (path + "." if path else "") + k
                if sub not in entries and (path + ".*") in entries:
                    sub = path + ".*"
                if sub not in entries:
                    missing.add(sub)
                    continue
                walk(c, sub)
        elif isinstance(v, list):
            for c in v:
                if path + "[]" not in entries:
                    missing.add(path + "[]")
                    return
                walk(c, path + "[]")
    walk(doc, "")
    return sorted(missing)


def main(argv):
    root = argv[1]
    opts = dict(zip(argv[2::2], argv[3::2]))
    paths = schema_paths(root)
    if "--paths" in argv:
        for src in paths:
            for p, v in paths[src].items():
                print("%s\t%s\t%s\t%s" % (src, p, "|".join(v["types"]), v["required"]))
        return 0
    dpath = opts.get("--dictionary", os.path.join(root, "docs", "data-dictionary.json"))
    with open(dpath, encoding="utf-8") as f:
        dd = json.load(f)
    if "--record" in opts:
        with open(opts["--record"], encoding="utf-8") as f:
            rec = json.load(f)
        entries = {e["path"]: e for e in dd.get("fields", []) if e.get("source") == "record"}
        missing = record_paths(rec, entries)
        for m in missing:
            print("data-dictionary: the record has field '%s', which is not in the dictionary" % m)
        if not missing:
            print("data-dictionary: every field of %s is in the dictionary" % opts["--record"])
        return 1 if missing else 0
    bad = []
    seen = {}
    for i, e in enumerate(dd.get("fields", [])):
        key = (e.get("source"), e.get("path"))
        where = "fields[%d] (%s %s)" % (i, key[0], key[1])
        for c in COLUMNS:
            if c not in e:
                bad.append("%s: no '%s'" % (where, c))
        if key in seen:
            bad.append("%s: listed twice" % where)
        seen[key] = e
        if e.get("pole") not in POLE:
            bad.append("%s: pole must be one of %s" % (where, ", ".join(POLE)))
        if not e.get("meaning"):
            bad.append("%s: no meaning" % where)
        sp = paths.get(key[0], {}).get(key[1])
        if e.get("in_schema") is False:
            if sp is not None:
                bad.append("%s: marked in_schema false, but the schema has it now: drop the mark" % where)
            continue
        if sp is None:
            bad.append("%s: in the dictionary but in no schema" % where)
            continue
        if sp["types"] and e.get("type") not in sp["types"] and \
                not (e.get("type") == "number" and "integer" in sp["types"]):
            bad.append("%s: type '%s', the schema says %s" % (where, e.get("type"), "/".join(sp["types"])))
        if e.get("required") is not sp["required"]:
            bad.append("%s: required %s, the schema says %s" % (where, e.get("required"), sp["required"]))
    for src in paths:
        for p in paths[src]:
            if (src, p) not in seen:
                bad.append("%s field '%s' is in the schema but not in the dictionary" % (src, p))
    for b in bad:
        print("data-dictionary: " + b)
    if not bad:
        print("data-dictionary: %d fields, all in step with the schemas" % len(seen))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
