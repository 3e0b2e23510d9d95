# The --json outputs of verify, extract, inspect, pack and custody show are
# one JSON document ending with a newline, and validate with ajv (a real
# JSON Schema validator, installed from npm by scripts/ajv.sh) against
# docs/schema/evidence.{verify,inspect,custody}.schema.json. Deliberately
# broken copies must be rejected, so the schemas are not vacuous. Every
# problem code the reader's sources can emit, and every code seen here, is
# documented in docs/verify-codes.md.
. "$(dirname "$0")/lib.sh"

S="$EV_SOURCE_DIR/docs/schema"
J="$T/json"
mkdir -p "$J"

# --- documents ---------------------------------------------------------------------
mkdir -p "$T/in/sub"
head -c 100000 /dev/urandom >"$T/in/sub/blob.bin"
printf 'notes\n' >"$T/in/notes.txt"
A=(--case CASE/9 --exhibit "JS/1" --officer "Jo Smith" --org "Test Force")

# doc NAME EXIT cmd...: run, keep stdout as $J/NAME.json
doc() {
    local name=$1 want=$2
    shift 2
    expect_exit "$want" "$@" || return 1
    cp "$OUT" "$J/$name.json"
    ok "$name: one JSON document" python3 "$TOOLS/evjson.py" valid "$J/$name.json"
    ok "$name: ends with a newline" test "$(tail -c 1 "$J/$name.json" | od -An -c | tr -d ' ')" = '\n'
}

doc pack 0 "$EVIDENCE" pack --json -o "$T/b.zip" "${A[@]}" "$T/in"
expect_exit 0 "$EVIDENCE" pack --format dir -o "$T/bdir" "${A[@]}" "$T/in"
doc verify-valid 0 "$EVIDENCE" verify --json "$T/b.zip"
doc verify-fast 0 "$EVIDENCE" verify --fast --json "$T/bdir"
cp -a "$T/bdir" "$T/bad"
printf 'x' >>"$T/bad/data/JS_1/in/notes.txt"
printf 'extra\n' >"$T/bad/data/JS_1/in/added.txt"
doc verify-invalid 1 "$EVIDENCE" verify --json "$T/bad"
doc verify-missing 3 "$EVIDENCE" verify --json "$T/no-such.zip"
doc verify-many 3 "$EVIDENCE" verify --json "$T/b.zip" "$T/bad" "$T/no-such.zip"
python3 "$TOOLS/mkbag.py" valid-nfd-manifest "$T/foreign" && python3 "$TOOLS/mkbag.py" bagit-missing "$T/nobagit" ||
    die "mkbag failed"
doc verify-foreign 0 "$EVIDENCE" verify --json "$T/foreign"
doc verify-nobagit 3 "$EVIDENCE" verify --json "$T/nobagit"
doc extract-valid 0 "$EVIDENCE" extract --json "$T/b.zip" "$T/x1"
doc extract-invalid 1 "$EVIDENCE" extract --json "$T/bad" "$T/x2"
doc inspect-zip 0 "$EVIDENCE" inspect --json "$T/b.zip"
doc inspect-dir 0 "$EVIDENCE" inspect --json "$T/bdir"
doc inspect-foreign 0 "$EVIDENCE" inspect --json "$T/foreign"
# a foreign bag with a listed file gone and an unlisted one added
cp -a "$T/foreign" "$T/foreign2"
rm "$(find "$T/foreign2/data" -type f | sort | head -1)"
printf 'added later\n' >"$T/foreign2/data/added.txt"
doc inspect-foreign2 0 "$EVIDENCE" inspect --json "$T/foreign2"
doc custody-one 0 "$EVIDENCE" custody show --json "$T/b.zip"
cp "$T/b.zip" "$T/c.zip"
expect_exit 0 "$EVIDENCE" custody add "$T/c.zip" --action received --actor "Desk Officer" --org "Lab" --note "bag seal 1234 intact"
expect_exit 0 "$EVIDENCE" custody add "$T/c.zip" --action verified --actor "Analyst" --org "Lab"
doc custody-three 0 "$EVIDENCE" custody show --json "$T/c.zip"
doc inspect-custody 0 "$EVIDENCE" inspect --json "$T/c.zip"
cp -a "$T/bdir" "$T/cbroken"
sed -i 's/"actor":"Jo Smith"/"actor":"Someone Else"/' "$T/cbroken/custody.jsonl"
printf 'not json\n' >>"$T/cbroken/custody.jsonl"
doc custody-broken 1 "$EVIDENCE" custody show --json "$T/cbroken"

# --- ajv ------------------------------------------------------------------------------
# One ajv run per schema (node starts slowly): every good document must be
# "valid", every deliberately broken copy "invalid".
AJV_SKIP=0
BROKEN=()
# broken SCHEMA SRC NAME PYTHON: a copy of SRC changed by PYTHON (on d)
broken() {
    local schema=$1 src=$2 name=$3 expr=$4
    python3 - "$J/$src.json" "$J/broken-$name.json" "$expr" <<'EOF2' || { fail "cannot make broken-$name"; return; }
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"))
EOF2
    BROKEN+=("$schema:broken-$name:$expr")
}
# check_schema SCHEMA GOOD-DOC...: run ajv on the good documents and on the
# broken ones made for SCHEMA
check_schema() {
    local schema=$1 d args=() refs=() b rc line
    shift
    [ "$schema" != evidence.custody.schema.json ] && refs=(-r "$S/evidence.custody.schema.json")
    for d in "$@"; do args+=(-d "$J/$d.json"); done
    for b in "${BROKEN[@]}"; do
        [ "${b%%:*}" = "$schema" ] || continue
        d=${b#*:}
        args+=(-d "$J/${d%%:*}.json")
    done
    EV_BUILD_DIR="${EV_BUILD_DIR:-$T}" bash "$EV_SOURCE_DIR/scripts/ajv.sh" validate --spec=draft2020 \
        --strict=false -c ajv-formats -s "$S/$schema" "${refs[@]}" "${args[@]}" >"$T/ajv.txt" 2>&1
    rc=$?
    if [ "$rc" -eq 77 ]; then
        if command -v npm >/dev/null 2>&1; then
            fail "npm is here but ajv could not be installed: $(cat "$T/ajv.txt")"
        else
            AJV_SKIP=1
        fi
        return
    fi
    if grep -q 'is invalid$\|^error:' "$T/ajv.txt"; then
        fail "ajv cannot compile $schema:"
        sed 's/^/    /' "$T/ajv.txt" | head -20 >&2
        return
    fi
    for d in "$@"; do
        if grep -qxF "$J/$d.json valid" "$T/ajv.txt"; then
            pass
        else
            fail "$d.json does not match $schema:"
            awk -v f="$J/$d.json invalid" '$0 == f { p = 1; next } / (in)?valid$/ { p = 0 } p' "$T/ajv.txt" |
                head -30 | sed 's/^/    /' >&2
        fi
    done
    for b in "${BROKEN[@]}"; do
        [ "${b%%:*}" = "$schema" ] || continue
        d=${b#*:}
        if grep -qxF "$J/${d%%:*}.json invalid" "$T/ajv.txt"; then
            pass
        else
            fail "$schema accepts a broken document (${d#*:})"
        fi
    done
}

# the schema files are JSON
for f in evidence.verify evidence.inspect evidence.custody; do
    ok "$f.schema.json is JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$S/$f.schema.json"
done

V=evidence.verify.schema.json
broken $V verify-valid verdict 'd["verdict"] = "maybe"'
broken $V verify-valid valid-flag 'd["valid"] = False'
broken $V verify-valid no-files 'del d["files"]'
broken $V verify-valid upper-sha 'd["files"][0]["sha256"] = d["files"][0]["sha256"].upper()'
broken $V verify-valid size-string 'd["files"][0]["size"] = str(d["files"][0]["size"])'
broken $V verify-invalid severity 'd["problems"][0]["severity"] = "fatal"'
broken $V verify-invalid valid-but-errors 'd["verdict"] = "valid"; d["valid"] = True'
broken $V verify-invalid code-case 'd["problems"][0]["code"] = "Modified"'
broken $V verify-missing no-error 'del d["error"]'
broken $V verify-many bad-member 'd["bundles"][0]["format_version"] = 2'
I=evidence.inspect.schema.json
broken $I inspect-zip container 'd["container"] = "tar"'
broken $I inspect-zip item-path 'd["items"][0]["path"] = "evidence.json"'
broken $I inspect-zip tag-payload 'd["tag_files"].append("data/x")'
broken $I inspect-zip no-bundle-id 'del d["bundle_id"]'
broken $I inspect-custody event-action 'd["custody"][1]["event"]["action"] = "deleted"'
broken $I inspect-foreign foreign-null-items 'd["items"] = None'
broken $I inspect-foreign foreign-no-source 'del d["items"][0]["source"]'
broken $I inspect-foreign foreign-invented-exhibit 'd["items"][0]["exhibit"] = "JS/1"'
broken $I inspect-foreign foreign-invented-case 'd["case"] = {"reference": "CASE/9"}'
broken $I inspect-foreign2 foreign-missing-with-size '[i for i in d["items"] if i.get("missing")][0]["size"] = 1'
broken $I inspect-zip record-item-from-manifest 'd["items"][0]["source"] = "manifest"; [d["items"][0].pop(k) for k in ("id", "exhibit", "role", "original_name", "mime")]; d["items"][0]["manifests"] = []'
C=evidence.custody.schema.json
broken $C custody-three chain-claim 'd["events"][1]["link_ok"] = False; d["events"][1]["problem"] = "x"'
broken $C custody-three first-prev 'd["events"][0]["event"]["prev_sha256"] = "0" * 64'
broken $C custody-three later-null 'd["events"][2]["event"]["prev_sha256"] = None'
broken $C custody-broken no-problem 'del [e for e in d["events"] if not e["link_ok"]][0]["problem"]'
broken $C custody-three time 'd["events"][0]["event"]["time"] = "yesterday"'

check_schema $C custody-one custody-three custody-broken
if [ "$AJV_SKIP" -eq 1 ]; then
    skip_case "npm is not available, so ajv cannot be installed: the schema checks were skipped"
else
    check_schema $V verify-valid verify-fast verify-invalid verify-missing verify-many \
        verify-foreign verify-nobagit extract-valid extract-invalid
    check_schema $I pack inspect-zip inspect-dir inspect-foreign inspect-foreign2 inspect-custody
fi

# --- what the documents say ---------------------------------------------------------------
ok "verify-many lists three bundles" test "$(json_get "$J/verify-many.json" bundles.2.verdict)" = unreadable
ok "custody-three has three linked events with the note" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert d["chain_ok"] is True and len(d["events"]) == 3, d
assert [e["event"]["action"] for e in d["events"]] == ["created", "received", "verified"]
assert d["events"][1]["event"]["note"] == "bag seal 1234 intact"
assert all(e["event"]["seq"] == e["line"] for e in d["events"])
' "$J/custody-three.json"
ok "custody-broken names the broken links" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert d["chain_ok"] is False
assert [e["link_ok"] for e in d["events"]] == [True, False], [e["link_ok"] for e in d["events"]]
assert d["events"][1]["event"] is None
' "$J/custody-broken.json"
ok "inspect keeps the exact exhibit reference and case" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert d["exhibits"] == ["JS/1"] and d["case"]["reference"] == "CASE/9", (d["exhibits"], d["case"])
assert d["payload"] == {"files": 2, "bytes": 100006}, d["payload"]
assert d["bag_info"]["External-Identifier"] == "CASE/9"
' "$J/inspect-zip.json"
ok "inspect of a foreign bag lists its payload files as items, from the manifests" python3 -c '
import hashlib, json, os, sys
d = json.load(open(sys.argv[1]))
its = d["items"]
assert isinstance(its, list) and len(its) == d["payload"]["files"] > 0, its
for it in its:
    assert it["source"] == "manifest", it
    assert sorted(it["manifests"]) == ["manifest-sha256.txt", "manifest-sha512.txt"], it
    assert not {"id", "exhibit", "role", "original_name"} & set(it), it
    data = open(os.path.join(sys.argv[2], it["path"]), "rb").read()
    assert it["size"] == len(data), it
    assert it["hashes"] == {"sha256": hashlib.sha256(data).hexdigest(),
                            "sha512": hashlib.sha512(data).hexdigest()}, it
assert "bundle_id" not in d and "exhibits" not in d and "bag_info_file" not in d, d
' "$J/inspect-foreign.json" "$T/foreign"
ok "inspect of a foreign bag: a listed file gone is missing, an added one is in no manifest" python3 -c '
import json, sys
its = {i["path"]: i for i in json.load(open(sys.argv[1]))["items"]}
gone = [i for i in its.values() if i.get("missing")]
assert len(gone) == 1 and "size" not in gone[0] and "mime" not in gone[0] and gone[0]["hashes"], gone
a = its["data/added.txt"]
assert a["manifests"] == [] and a["hashes"] == {} and a["size"] == 12 and not a.get("missing"), a
assert a["mime"] == "text/plain" and a["mime_source"] == "libmagic", a
' "$J/inspect-foreign2.json"

# --- docs/verify-codes.md covers every code ---------------------------------------------------
python3 - "$EV_SOURCE_DIR" "$J" <<'EOF' >"$T/codes.txt" 2>&1 && pass || { fail "problem codes missing from docs/verify-codes.md"; cat "$T/codes.txt" >&2; }
import glob, json, os, re, sys
root, jdir = sys.argv[1], sys.argv[2]
doc = open(os.path.join(root, "docs/verify-codes.md")).read()
documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", doc, re.M))
codes = {}
src = os.path.join(root, "libevidence/src")
# every module but sign/, whose signature codes docs/signing.md lists
for f in sorted(os.path.relpath(p, src) for p in glob.glob(os.path.join(src, "*", "*.c"))
                if not p.startswith(os.path.join(src, "sign") + os.sep)):
    text = open(os.path.join(src, f)).read()
    # literal codes right after a severity, and the ?: alternatives
    for m in re.finditer(r"EV_SEVERITY_[A-Z]+,\s*(?:[^,;]*\?\s*)?\"([a-z0-9-]+)\"(?:\s*:\s*\"([a-z0-9-]+)\")?", text):
        for c in m.groups():
            if c:
                codes.setdefault(c, "libevidence/src/" + f)
    for m in re.finditer(r"codes\[\d*\]\s*=\s*\{([^}]*)\}", text):
        for c in re.findall(r"\"([a-z0-9-]+)\"", m.group(1)):
            codes.setdefault(c, "libevidence/src/" + f)
for p in glob.glob(os.path.join(jdir, "*.json")):
    if os.path.basename(p).startswith("broken-"):
        continue
    try:
        d = json.load(open(p))
    except ValueError:
        continue
    for r in (d.get("bundles") or [d]) if isinstance(d, dict) else []:
        for pr in (r.get("problems") or []) if isinstance(r, dict) else []:
            codes.setdefault(pr["code"], os.path.basename(p))
missing = sorted(c for c in codes if c not in documented)
for c in missing:
    print("%s (from %s) is not in docs/verify-codes.md" % (c, codes[c]))
if len(codes) < 40:
    print("only %d codes found in the sources: the scan is broken" % len(codes))
    sys.exit(1)
sys.exit(1 if missing else 0)
EOF

finish
