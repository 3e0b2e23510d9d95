# case.jsonld of a bundle packed with an exhibit schedule before the
# schedule was shown in case.jsonld (fixtures/schedule-case1.zip: its
# record has people, places, events and exhibits, its case.jsonld none of
# them) is checked against the record in that layout (docs/views.md,
# "Layouts of case.jsonld"):
# - it verifies valid with no problem at all (custody tool_version is this
#   version's, so a mismatch would be an error);
# - custody add rewrites case.jsonld with the schedule's nodes, and that
#   verifies valid too;
# - a changed fact in the old case.jsonld, or the new one with its schedule
#   nodes taken out, is a view-mismatch (tag manifests and seal made to
#   agree, so that only the views check can see it).
. "$(dirname "$0")/lib.sh"

FIX="$EV_SOURCE_DIR/tests/cli/fixtures/schedule-case1.zip"
[ -f "$FIX" ] || die "no fixture $FIX"
cd "$T" || die "no scratch folder"

edit() { # BAG EXPR: edit BAG/case.jsonld with a python expression on its text t, then retag
    python3 - "$1/case.jsonld" "$2" <<'PY' || die "edit failed"
import sys
p, expr = sys.argv[1], sys.argv[2]
t = open(p, encoding="utf-8").read()
n = eval(expr)
assert n != t, "the edit changed nothing"
open(p, "w", encoding="utf-8").write(n)
PY
    python3 "$TOOLS/retag.py" "$1" || die "retag failed"
}
mismatch() { # WHAT BAG
    expect_exit 1 "$EVIDENCE" verify --json "$2"
    ok "$1: view-mismatch on case.jsonld, an error" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["problems"]
assert [(x["code"], x["path"], x["severity"]) for x in p] == [("view-mismatch", "case.jsonld", "error")], p' "$OUT"
}

ok "the fixture's record has a schedule, its case.jsonld none" bash -c \
    "unzip -p '$FIX' schedule-case1/evidence.json | grep -q '\"people\"' &&
     ! unzip -p '$FIX' schedule-case1/case.jsonld | grep -q 'InvestigativeAction\",\"uco-core:name\":\"seized'"
expect_exit 0 "$EVIDENCE" verify --json "$FIX"
ok "case.jsonld layout 1 (ZIP): valid, no problem at all" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"] == "valid" and d["problems"] == [], d["problems"]' "$OUT"
mkdir -p old && (cd old && unzip -q "$FIX") || die "unzip"

cp -r old/schedule-case1 l1fact
edit l1fact 't.replace("\"case-investigation:exhibitNumber\":\"JS/2\"", "\"case-investigation:exhibitNumber\":\"JS/3\"")'
mismatch "layout 1 with a changed exhibit number" l1fact

cp -r old/schedule-case1 cur
expect_exit 0 "$EVIDENCE" custody add cur --action verified --actor 'A Reviewer' --org 'Test Force'
ok "custody add writes the schedule's nodes" grep -q '"uco-core:name":"seized"' cur/case.jsonld
ok "... with the uco-role prefix" grep -q '"uco-role": ' cur/case.jsonld
expect_exit 0 "$EVIDENCE" verify cur
ok "layout 2: valid, 0 warnings" grep -q "valid (.*0 error(s), 0 warning(s))" "$OUT"

# the current case.jsonld with the event of JS/2 taken out
cp -r cur c1
edit c1 '"".join(l for l in t.splitlines(True) if "\"uco-core:name\":\"seized\"" not in l)'
mismatch "layout 2 with a schedule event removed" c1

finish
