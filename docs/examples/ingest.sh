#!/bin/sh
# ingest.sh INBOX ACCEPTED QUARANTINE REJECTED: sort incoming bundles by what
# `evidence verify --json-lines` says of them, and keep the verification
# report beside each one (BUNDLE.verify.json). Needs evidence and python3.
# Part of libevidence's documentation; CI runs it (tests/cli/docs_examples.sh).
set -eu
INBOX=$1 ACCEPTED=$2 QUARANTINE=$3 REJECTED=$4
mkdir -p "$ACCEPTED" "$QUARANTINE" "$REJECTED"
# one JSON document per bundle, two at a time; exit code 1 or 3 is expected
# when a bundle fails, so the documents, not the exit code, decide
evidence verify --jobs 2 --json-lines "$INBOX" > "$INBOX.reports.jsonl" || true
python3 - "$INBOX.reports.jsonl" "$ACCEPTED" "$QUARANTINE" "$REJECTED" <<'PY'
import json, os, shutil, sys
reports, accepted, quarantine, rejected = sys.argv[1:5]
where = {"valid": accepted, "invalid": quarantine}
for line in open(reports):
    doc = json.loads(line)
    dest = where.get(doc["verdict"], rejected)       # unreadable, error: rejected
    src = doc["bundle"]
    base = os.path.basename(os.path.normpath(src))
    shutil.move(src, os.path.join(dest, base))
    with open(os.path.join(dest, base + ".verify.json"), "w") as f:
        json.dump(doc, f, indent=2)
    first = next((p for p in doc.get("problems", []) if p["severity"] == "error"), None)
    why = "%s: %s" % (first["code"], first["message"]) if first else \
          doc.get("error", {}).get("message", "ok")
    print("%-10s %s (%s)" % (os.path.basename(dest), base, why))
PY
