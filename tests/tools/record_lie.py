#!/usr/bin/env python3
"""Make a folder bundle tell one lie in its record, and hide every other
trace of the change: the manifests, the tag manifests, the seal and the last
custody event's hashes are made to agree with the new files, so that only
the lie itself is left for `evidence verify` to find.

usage: record_lie.py BAG LIE

BAG is a folder bundle made by `evidence pack --format dir` (changed in
place). LIE is one of:
  case            evidence.json's case.reference differs from bag-info.txt
  exhibit         every item's exhibit differs from bag-info.txt
  types           wrong types at the top: "format": 5, "created": []
  dup-extra       one more item describing the first item's file
  dup-swap        the second item is replaced by a copy of the first (new id)
  mime            the JPEG's item says application/x-msdownload
  custody-time    the last custody event's time is "yesterday"
  custody-action  the last custody event's action is "teleported"
  items-many N    the items list is replaced by N empty objects
  events-many N   N events (one "{}" line each) are appended to custody.jsonl
  view            case.jsonld names another case reference (record unchanged)
  none            nothing changes except that the views are dropped

The views (case.jsonld, index.html) are generated from the record, so after
a change of the record they would tell; they are removed (a bundle without
views is valid) except for the "view" lie. Standard library only.
"""
import copy
import hashlib
import json
import os
import sys
from retag import retag


def sha(path, alg="sha256"):
    return hashlib.new(alg, open(path, "rb").read()).hexdigest()


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    bag, lie = argv[1], argv[2]
    arg = int(argv[3]) if len(argv) > 3 else 0
    rec_path = os.path.join(bag, "evidence.json")
    cust_path = os.path.join(bag, "custody.jsonl")
    rec = json.load(open(rec_path, encoding="utf-8"))
    lines = open(cust_path, "rb").read().decode("utf-8").splitlines()
    last = json.loads(lines[-1])
    items = rec["items"]
    drop_views = lie != "view"
    if lie == "case":
        rec["case"]["reference"] = "OTHER/9"
    elif lie == "exhibit":
        for it in items:
            it["exhibit"] = "OTHER"
    elif lie == "types":
        rec["format"] = 5
        rec["created"] = []
    elif lie == "dup-extra":
        extra = copy.deepcopy(items[0])
        extra["id"] = "item-9999"
        items.append(extra)
    elif lie == "dup-swap":
        twin = copy.deepcopy(items[0])
        twin["id"] = items[1]["id"]
        items[1] = twin
    elif lie == "mime":
        hits = [it for it in items if it.get("mime") == "image/jpeg"]
        if not hits:
            sys.stderr.write("record_lie: no image/jpeg item\n")
            return 2
        hits[0]["mime"] = "application/x-msdownload"
    elif lie == "custody-time":
        last["time"] = "yesterday"
    elif lie == "custody-action":
        last["action"] = "teleported"
    elif lie == "items-many":
        rec["items"] = [{} for _ in range(arg)]
    elif lie == "view":
        p = os.path.join(bag, "case.jsonld")
        text = open(p, encoding="utf-8").read()
        ref = rec["case"]["reference"]
        if not ref or ref not in text:
            sys.stderr.write("record_lie: the case reference is not in case.jsonld\n")
            return 2
        open(p, "w", encoding="utf-8").write(text.replace(ref, "OTHER/9"))
    elif lie != "none" and lie != "events-many":
        sys.stderr.write("record_lie: unknown lie %r\n" % lie)
        return 2
    if lie in ("none", "view", "custody-time", "custody-action", "events-many"):
        pass  # the record keeps its bytes
    else:
        with open(rec_path, "w", encoding="utf-8") as f:
            f.write(json.dumps(rec, indent=2, ensure_ascii=False) + "\n")
    # the last event vouches for the record and the manifest as they are now
    last["record_sha256"] = sha(rec_path)
    last["manifest_sha256"] = sha(os.path.join(bag, "manifest-sha256.txt"))
    lines[-1] = json.dumps(last, ensure_ascii=False, separators=(",", ":"))
    if lie == "events-many":
        lines += ["{}"] * arg
    with open(cust_path, "wb") as f:
        f.write(("\n".join(lines) + "\n").encode("utf-8"))
    if drop_views:
        for v in ("case.jsonld", "index.html"):
            if os.path.exists(os.path.join(bag, v)):
                os.remove(os.path.join(bag, v))
    # tag manifests and seal
    retag(bag)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
