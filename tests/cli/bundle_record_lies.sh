# A record that lies about its bag is caught, even when every hash agrees.
# Each case makes one lie in a folder bundle packed from samples/media and
# re-makes the manifests, tag manifests, seal and the last custody event's
# hashes so that only the lie is left (tests/tools/record_lie.py): the case
# and exhibits against bag-info.txt, wrong types at the top of the record,
# two items for one file, a JPEG said to be a Windows program, a custody
# event at "yesterday" doing something unknown, a view that says another
# case. Then the limits: a record of 1,000,001 items, a log of 100,001
# events, and more items than payload files; each is refused cheaply with
# its own code, never a crash or exit 4.
. "$(dirname "$0")/lib.sh"

PACK=(--case C/1 --exhibit "JS/1" --officer O --org G)
expect_exit 0 "$EVIDENCE" pack --format dir -o "$T/bag" "${PACK[@]}" "$EV_SOURCE_DIR/samples/media" ||
    die "pack failed"
# a packed bundle raises none of the new problems
expect_exit 0 "$EVIDENCE" verify --json "$T/bag" || die "a fresh bundle does not verify"

lie() {
    rm -rf "$T/w"
    cp -a "$T/bag" "$T/w"
    python3 "$TOOLS/record_lie.py" "$T/w" "$@" || die "record_lie.py $* failed"
}
check() { python3 "$TOOLS/evjson.py" check "$OUT" "$@"; }

# the tool alone (views dropped, hashes re-made) leaves a valid bundle:
# whatever is found below is the lie
lie none
expect_exit 0 "$EVIDENCE" verify --json "$T/w"

lie case
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "case differs from bag-info.txt" check invalid record-baginfo-mismatch evidence.json error

lie exhibit
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "exhibit differs from bag-info.txt" check invalid \
        record-exhibit-mismatch evidence.json error record-exhibit-mismatch bag-info.txt error

lie types
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "wrong types at the top" check invalid record-schema evidence.json error &&
    ok "both named" test "$(python3 "$TOOLS/evjson.py" problems "$OUT" | grep -c record-schema)" -eq 2

lie dup-swap
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "two items for one file" check invalid record-item-duplicate data/JS_1/media/CLIP_0001.mp4 error

lie dup-extra
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "an extra item for one file" check invalid record-items-exceed-payload evidence.json error

lie mime
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "a JPEG said to be a program" check invalid \
        record-mime-mismatch data/JS_1/media/IMG_0001.jpg error

lie custody-time
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "custody time 'yesterday'" check invalid custody-time-invalid custody.jsonl error

lie custody-action
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "unknown custody action" check invalid custody-action-unknown custody.jsonl error

lie view
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "a view that says another case" check invalid view-mismatch case.jsonld error
# the same with only a SHA-512 tag manifest: the view is then compared
# byte for byte (verify compares a view by SHA-256 only where a SHA-256 tag
# manifest lists it), and the files' results name no SHA-256 for it
mv "$T/w/tagmanifest-sha256.txt" "$T/w/tagmanifest-sha512.txt"
python3 "$TOOLS/retag.py" "$T/w" || die "retag.py failed"
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "a view that says another case (SHA-512 tag manifest)" \
        check invalid view-mismatch case.jsonld error &&
    ok "no SHA-256 named for a view only SHA-512 lists" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
f = [x for x in d["files"] if x["path"] in ("case.jsonld", "index.html")]
sys.exit(not (len(f) == 2 and all(x["sha256"] is None for x in f)))' "$OUT"

# the same lie in a ZIP
lie mime
python3 "$TOOLS/mkbag.py" --zip "$T/w" "$T/w.zip" || die "mkbag.py --zip failed"
expect_exit 1 "$EVIDENCE" verify --json "$T/w.zip" &&
    ok "a JPEG said to be a program (ZIP)" check invalid \
        record-mime-mismatch data/JS_1/media/IMG_0001.jpg error

# --- limits ------------------------------------------------------------------------------
lie items-many 1000001
expect_exit 3 "$EVIDENCE" verify --json "$T/w" &&
    ok "1,000,001 items" check unreadable limit-items evidence.json error
# the same record deflated in a ZIP: a million items in a small file
mkdir -p "$T/z"
python3 - "$T/w" "$T/z/w.zip" <<'EOF' || die "zip failed"
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for d, _, fs in os.walk(src):
        for f in sorted(fs):
            p = os.path.join(d, f)
            z.write(p, os.path.join("w", os.path.relpath(p, src)))
EOF
ok "the ZIP of a million items is small" test "$(stat -c %s "$T/z/w.zip")" -lt 2000000
expect_exit 3 "$EVIDENCE" verify --json "$T/z/w.zip" &&
    ok "1,000,001 items (ZIP)" check unreadable limit-items evidence.json error

lie items-many 1000
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "1,000 items for 4 files" check invalid record-items-exceed-payload evidence.json error
ok "the report stays small" test "$(stat -c %s "$OUT")" -lt 20000

lie events-many 100000
expect_exit 3 "$EVIDENCE" verify --json "$T/w" &&
    ok "100,001 custody events" check unreadable limit-custody-events custody.jsonl error
run "$EVIDENCE" custody show --json "$T/w"
ok "custody show refuses the log (exit 3, no crash)" test "$RC" -eq 3
ok "no crash in custody show" bash -c '! grep -Eq "Sanitizer|Segmentation" "$1"' _ "$ERR"

finish
