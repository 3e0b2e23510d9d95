#!/bin/bash
# The Library of Congress BagIt conformance suite, recreated at test time by
# tests/tools/loc_conformance.py (its top says where each case comes from).
# Every case is verified as a folder and as a ZIP (python zipfile, by
# tests/tools/mkbag.py's zip_folder) with `evidence verify --json`, and scored:
#   valid    exit 0
#   warning  exit 0, and the case's warning code reported as a warning
#   invalid  exit 1 (or 3: the bag could not be checked), and the case's
#            error code reported as an error
# Every problem whose code concerns a line of a tag file must name the file
# and the line ("manifest-md5.txt line 3: ..."). The score printed is cases
# right / applicable (a case is right when both forms are); the cases the
# generator marks not applicable are run (no crash allowed) and listed with
# the reason. A TCP canary on 127.0.0.1 proves fetch.txt is never fetched.
# bagit-python, the reference validator, is not packaged in Debian 12
# (no python3-bagit), so its verdicts are not compared here.
. "$(dirname "$0")/lib.sh"

"$EV_PYTHON" "$TOOLS/tcp_canary.py" "$T/canary.port" "$T/canary.log" 600 </dev/null >/dev/null 2>&1 &
CANARY=$!
on_exit "kill $CANARY"
for _ in $(seq 100); do [ -s "$T/canary.port" ] && break; sleep 0.05; done
[ -s "$T/canary.port" ] || die "the TCP canary did not start"

python3 "$TOOLS/loc_conformance.py" "$T/cases" --zip --fetch-port "$(cat "$T/canary.port")" >"$T/cases.jsonl" ||
    die "loc_conformance.py could not write the cases"

# run every case, both forms; results in $T/results.tsv: bag form exit json
: >"$T/results.tsv"
python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.loads(l)["bag"])' "$T/cases.jsonl" >"$T/bags.txt"
while IFS= read -r bag; do
    for form in folder zip; do
        target=$bag
        [ "$form" = zip ] && target=$bag.zip
        run timeout 60 "$EVIDENCE" verify --json "$target"
        if ev__crashed; then
            fail "crash or sanitizer report (exit $RC) on $target"
            show_last
        fi
        cp "$OUT" "$target.json"
        printf '%s\t%s\t%s\t%s\n' "$bag" "$form" "$RC" "$target.json" >>"$T/results.tsv"
    done
done <"$T/bags.txt"

if python3 - "$T/cases.jsonl" "$T/results.tsv" >"$T/score.txt" 2>&1 <<'EOF'
import json, re, sys

# codes whose problem concerns one line of a tag file: the message names both
LINE_CODES = {"manifest-bad-line", "manifest-bad-digest", "manifest-unsafe-path",
              "manifest-outside-data", "manifest-duplicate", "manifest-conflict",
              "manifest-md5sum-style", "manifest-dot-slash", "manifest-path-relative",
              "tagmanifest-lists-payload", "tagmanifest-lists-tagmanifest", "missing",
              "fetch-not-fetched", "fetch-bad-line", "fetch-bad-path", "baginfo-bad-line",
              "baginfo-no-space", "oxum-invalid", "oxum-mismatch", "oxum-repeated",
              "bagit-txt-invalid", "bagit-version-legacy", "bagit-encoding-unsupported",
              "tag-encoding-invalid", "tag-not-utf8", "tag-bom", "payload-system-file",
              "normalization-mismatch", "tag-encoding-not-utf8"}
LINE_RE = re.compile(r"[^\s:]+\.txt line \d+")

cases = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
res = {}
for l in open(sys.argv[2], encoding="utf-8"):
    bag, form, rc, js = l.rstrip("\n").split("\t")
    try:
        doc = json.load(open(js, encoding="utf-8"))
    except ValueError:
        doc = {}
    res[(bag, form)] = (int(rc), doc)

def judge(c, rc, doc):
    """'' when right, else why not."""
    probs = doc.get("problems") or []
    for p in probs:
        if p.get("code") in LINE_CODES and not LINE_RE.search(p.get("message", "")):
            return "message without file and line: %s: %s" % (p.get("code"), p.get("message"))
    have = {(p.get("code"), p.get("severity")) for p in probs}
    if rc not in (0, 1, 3):
        return "exit %d" % rc
    if c["expect"] in ("valid", "warning"):
        if rc != 0:
            errs = sorted({p["code"] for p in probs if p.get("severity") == "error"})
            return "exit %d (%s), expected valid" % (rc, " ".join(errs))
        sev = "warning"
    else:
        if rc == 0:
            return "exit 0, expected not valid"
        sev = "error"
    for code in c["codes"]:
        if (code, sev) not in have:
            return "no %s %s" % (sev, code)
    return ""

right = appl = xright = xtotal = 0
bad = 0
na = []
for c in cases:
    verdicts, why = [], []
    for form in ("folder", "zip"):
        rc, doc = res.get((c["bag"], form), (-1, {}))
        verdicts.append("%s=%s" % (form, doc.get("verdict", "exit %d" % rc)))
        w = judge(c, rc, doc)
        if w:
            why.append("%s: %s" % (form, w))
    if not c["applicable"]:
        na.append(c)
        print("n/a    %-75s %s" % (c["id"], " ".join(verdicts)))
        continue
    ok = not why
    if c["extra"]:
        xtotal += 1
        xright += ok
    else:
        appl += 1
        right += ok
    bad += not ok
    print("%-6s %-75s %s%s" % ("ok" if ok else "WRONG", c["id"], " ".join(verdicts),
                                "" if ok else "  <- " + "; ".join(why)))
print()
print("LoC conformance suite: %d/%d applicable cases right (%d not applicable); "
      "extra cases: %d/%d right" % (right, appl, len(na), xright, xtotal))
for c in na:
    print("  not applicable: %s: %s" % (c["id"], c["why"]))
sys.exit(1 if bad else 0)
EOF
then
    pass
else
    fail "conformance cases wrong (see below)"
fi
cat "$T/score.txt"

# inspect on a bag from another tool: bagit.txt's version and encoding, its
# bag-info fields (decoded; package-info.txt in 0.93-0.95, named), and its
# items: every payload file with its size, the manifests that list it and
# the checksums they give, marked as coming from the manifests (no record)
bag_of() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    c = json.loads(l)
    if c["id"] == sys.argv[2]: print(c["bag"])' "$T/cases.jsonl" "$1"; }
U16=$(bag_of v0.97/valid/UTF-16-encoded-tag-files)
for target in "$U16" "$U16.zip"; do
    if expect_exit 0 "$EVIDENCE" inspect --json "$target"; then
        cp "$OUT" "$T/inspect.json"
        ok "inspect: version" test "$(json_get "$T/inspect.json" bagit_version)" = 0.97
        ok "inspect: encoding" test "$(json_get "$T/inspect.json" tag_file_encoding)" = UTF-16BE
        ok "inspect: UTF-16 bag-info decoded" test "$(json_get "$T/inspect.json" bag_info.Source-Organization)" = "Bibliothèque d'essai"
        ok "inspect: items from the manifests" test "$(json_get "$T/inspect.json" items.0.source)" = manifest
        ok "inspect: item, size" test "$(json_get "$T/inspect.json" items.0.size)" = 14
        ok "inspect: item, its manifest" test "$(json_get "$T/inspect.json" items.0.manifests.0)" = manifest-md5.txt
        ok "inspect: item, no exhibit invented" test "$(json_get "$T/inspect.json" items.0.exhibit)" = ""
        ok "inspect: item, libmagic's content type" test "$(json_get "$T/inspect.json" items.0.mime)/$(json_get "$T/inspect.json" items.0.mime_source)" = text/plain/libmagic
        ok "inspect: no package-info.txt" test "$(json_get "$T/inspect.json" bag_info_file)" = ""
        ok "inspect: item, md5 from the manifest" test "$(json_get "$T/inspect.json" items.0.hashes.md5)" = \
            "$(python3 -c 'import hashlib;print(hashlib.md5(b"bare filename\n").hexdigest())')"
    fi
done
if expect_exit 0 "$EVIDENCE" inspect --json "$(bag_of v0.93/valid/duplicate-metadata-entries)"; then
    ok "inspect: package-info.txt of a 0.93 bag, repeated labels" \
        test "$(json_get "$OUT" bag_info.Contact-Name.1)" = "foo Janssen"
    ok "inspect: package-info.txt is named" test "$(json_get "$OUT" bag_info_file)" = package-info.txt
    ok "inspect: five items, in name order" test "$(json_get "$OUT" items.4.path)" = data/test2.txt
fi
if expect_exit 0 "$EVIDENCE" inspect --json "$(bag_of v0.97/valid/holey-bag)"; then
    ok "inspect: a file to be fetched is listed as missing" test "$(json_get "$OUT" items.1.missing)" = true
    ok "inspect: a missing file has no size" test "$(json_get "$OUT" items.1.size)" = ""
fi
# a 1.0 bag in ISO-8859-1: bag-info decoded, the Latin-1 manifest name
# matched with the UTF-8 name on disk
L1=$(bag_of extra/v1.0-ISO-8859-1-tag-files)
for target in "$L1" "$L1.zip"; do
    if expect_exit 0 "$EVIDENCE" inspect --json "$target"; then
        ok "inspect 1.0 Latin-1: encoding" test "$(json_get "$OUT" tag_file_encoding)" = ISO-8859-1
        ok "inspect 1.0 Latin-1: bag-info decoded" test "$(json_get "$OUT" bag_info.Contact-Name)" = "Zoë"
        ok "inspect 1.0 Latin-1: the Latin-1 name matched, with its sha512" python3 -c '
import hashlib, json, sys
its = {i["path"]: i for i in json.load(open(sys.argv[1]))["items"]}
c = its["data/café.txt"]
assert c["size"] == 6 and not c.get("missing"), c
assert c["hashes"] == {"sha512": hashlib.sha512("café\n".encode()).hexdigest()}, c
assert len(its) == 3, its
' "$OUT"
    fi
done

# the same as text, for people: the declaration, the decoded bag-info fields
# and the payload files with the manifests' checksums
if expect_exit 0 "$EVIDENCE" inspect "$U16"; then
    ok "inspect text: no record, the bag's version" grep -q "^record:   none (BagIt 0.97 bag made by another tool" "$OUT"
    ok "inspect text: the encoding" grep -q "^encoding: UTF-16BE" "$OUT"
    ok "inspect text: bag-info decoded" grep -q "^  Source-Organization: Bibliothèque d'essai" "$OUT"
    ok "inspect text: an item with its size and type" grep -q "^  data/.*  14 bytes, text/plain (libmagic)" "$OUT"
    ok "inspect text: its md5 from the manifest" grep -q "^      md5 $(python3 -c 'import hashlib;print(hashlib.md5(b"bare filename\n").hexdigest())')" "$OUT"
fi
if expect_exit 0 "$EVIDENCE" inspect "$(bag_of v0.93/valid/duplicate-metadata-entries)"; then
    ok "inspect text: repeated labels, each on its line" test "$(grep -c '^  Contact-Name: ' "$OUT")" -ge 2
    ok "inspect text: package-info.txt named" grep -q "^package-info.txt (the name of bag-info.txt before BagIt 0.96):" "$OUT"
fi
if expect_exit 0 "$EVIDENCE" inspect "$(bag_of v0.97/valid/holey-bag)"; then
    ok "inspect text: a file to be fetched is missing" grep -q "missing (listed in a manifest, not in the bag)" "$OUT"
fi

# nothing connected to the fetch.txt URLs
sleep 0.2
if [ -s "$T/canary.log" ]; then
    fail "something connected to a fetch.txt URL: $(cat "$T/canary.log")"
else
    pass
fi

finish
