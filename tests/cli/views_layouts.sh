# index.html in a bundle written by an earlier build is still checked
# against the record, in the layout it was written in (docs/views.md,
# "Layouts of index.html"):
# - fixtures/views-layout1.zip was packed by evidence 0.1.0 before the page
#   named its layout (durations as "3.6e+03 s"); custody tool_version is this
#   version's, so a mismatch would be an error: it verifies valid, with no
#   view-mismatch at all;
# - custody add rewrites the page in the current layout (the generator meta,
#   the exact duration, the full timeline), and that verifies valid too;
# - every tampered page fails with view-mismatch, the tag manifests and seal
#   made to agree with it so that only the views check can see it: a changed
#   fact on a layout-1 page, a layout-1 page that claims layout 2, a current
#   page that claims layout 1 or names no layout, one that names a layout
#   this version does not know, a changed fact on a current page.
. "$(dirname "$0")/lib.sh"

FIX="$EV_SOURCE_DIR/tests/cli/fixtures/views-layout1.zip"
[ -f "$FIX" ] || die "no fixture $FIX"
cd "$T" || die "no scratch folder"

# edit BAG/index.html with a python expression on its text t, then retag
edit() { # BAG EXPR
    python3 - "$1/index.html" "$2" <<'EOF' || die "edit failed"
import sys
p, expr = sys.argv[1], sys.argv[2]
t = open(p, encoding="utf-8").read()
n = eval(expr)
assert n != t, "the edit changed nothing"
open(p, "w", encoding="utf-8").write(n)
EOF
    python3 "$TOOLS/retag.py" "$1" || die "retag failed"
}
# BAG must verify invalid with one view-mismatch error on index.html, and
# only that; the message must contain TEXT
mismatch() { # WHAT BAG TEXT
    expect_exit 1 "$EVIDENCE" verify --json "$2"
    ok "$1: view-mismatch on index.html, an error" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["problems"]
assert [(x["code"], x["path"], x["severity"]) for x in p] == [("view-mismatch", "index.html", "error")], p
assert sys.argv[2] in p[0]["message"], p[0]["message"]' "$OUT" "$3"
}

# --- the bundle written before layouts were named ------------------------------------
ok "the fixture's page is layout 1 (no generator, 3.6e+03 s)" bash -c \
    "unzip -p '$FIX' layout1/index.html | grep -q '; 3.6e+03 s' &&
     ! unzip -p '$FIX' layout1/index.html | grep -q 'name=\"generator\"'"
ok "the fixture was written by this version" bash -c \
    "unzip -p '$FIX' layout1/custody.jsonl | grep -q '\"tool_version\":\"$("$EVIDENCE" --version | sed -n '1s/^evidence //p')\"'"
expect_exit 0 "$EVIDENCE" verify --json "$FIX"
ok "layout 1 (ZIP): valid, no problem at all" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"] == "valid" and d["problems"] == [], d["problems"]' "$OUT"
mkdir -p old && (cd old && unzip -q "$FIX") || die "unzip"
expect_exit 0 "$EVIDENCE" verify old/layout1
ok "layout 1 (folder): valid, 0 warnings" grep -q "valid (.*0 error(s), 0 warning(s))" "$OUT"

# a changed fact on a layout-1 page
cp -r old/layout1 l1fact
edit l1fact 't.replace("3.6e+03 s", "3.5e+03 s")'
mismatch "layout 1 page with a changed duration" l1fact "in its layout 1"
# a layout-1 page that claims the current layout
cp -r old/layout1 l1claims2
edit l1claims2 't.replace("<meta charset=\"utf-8\">\n", "<meta charset=\"utf-8\">\n<meta name=\"generator\" content=\"evidence index.html layout 2\">\n")'
mismatch "layout 1 page that names layout 2" l1claims2 "index.html is not what evidence.json"

# --- rewritten in the current layout ---------------------------------------------------
cp -r old/layout1 cur
expect_exit 0 "$EVIDENCE" custody add cur --action verified --actor 'A Reviewer' --org 'Test Force'
ok "custody add writes the current layout" grep -q '<meta name="generator" content="evidence index.html layout 2">' cur/index.html
ok "the duration exactly: 3599.280 s (59 min 59.280 s)" grep -q 'mpeg2video 32x32 25/2 fps; 3599.280 s (59 min 59.280 s)' cur/index.html
ok "the full timeline: the gap with its frames and times" \
    grep -q 'gap after frame 25: 3595.420 s (59 min 55.420 s) missing, between frame 25 at 2.500 s \[+00:00:01.920\] and frame 26 at 3598.000 s \[+00:59:57.420\]' cur/index.html
expect_exit 0 "$EVIDENCE" verify cur
ok "current layout: valid, 0 warnings" grep -q "valid (.*0 error(s), 0 warning(s))" "$OUT"

cp -r cur c1
edit c1 't.replace("layout 2\">", "layout 1\">")'
mismatch "current page that claims layout 1" c1 "in its layout 1"
cp -r cur c0
edit c0 't.replace("<meta name=\"generator\" content=\"evidence index.html layout 2\">\n", "")'
mismatch "current page with its layout name removed" c0 "in its layout 1"
cp -r cur c9
edit c9 't.replace("layout 2\">", "layout 9\">")'
mismatch "a page naming an unknown layout" c9 "names a layout this version does not know"
cp -r cur cfact
edit cfact 't.replace("frame 25 at 2.500 s", "frame 24 at 2.500 s")'
mismatch "current page with a changed fact" cfact "index.html is not what evidence.json and custody.jsonl generate; "

# --- verify --fast does not rebuild views; nothing else changed ------------------------
expect_exit 0 "$EVIDENCE" verify --fast l1fact
ok "--fast: views not rebuilt" grep -q "valid" "$OUT"

finish
