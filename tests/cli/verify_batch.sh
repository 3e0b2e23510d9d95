# Ingest at volume: evidence verify --jobs N --json-lines over many bundles
# and folders of bundles. Each bundle gives exactly one JSON line with the
# verdict a single verify gives it; an unreadable bundle is one line, not the
# end of the run; the exit code is the worst; a summary goes to stderr; a
# folder that holds no bundle, a bad --jobs and --json with --json-lines are
# errors; hidden unfinished files are passed over.
. "$(dirname "$0")/lib.sh"

S="$T/in"
mkdir -p "$S" "$T/batch/sub/deeper" "$T/batch/empty"
printf 'statement\n' >"$S/a.txt"
for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
    "$EVIDENCE" pack -q --no-media -o "$T/batch/b$i.zip" "$S" >/dev/null || die "pack $i"
done
"$EVIDENCE" pack -q --no-media -o "$T/batch/sub/deeper/d.zip" "$S" >/dev/null || die "pack d"
"$EVIDENCE" pack -q --no-media --format dir -o "$T/batch/sub/bag" "$S" >/dev/null || die "pack dir"
printf 'PK\003\004 not a zip' >"$T/batch/garbage.zip"
printf 'junk' >"$T/batch/.unfinished.zip.partial-1234"
# one bundle changed after packing: the payload byte flipped, CRC and hash fail
cp "$T/batch/b01.zip" "$T/batch/tampered.zip"
python3 "$TOOLS/flip.py" entry "$T/batch/tampered.zip" b01/data/1/in/a.txt 0 0x20 >/dev/null ||
    die "cannot tamper"

expect_exit 3 "$EVIDENCE" verify --jobs 2 --json-lines "$T/batch"
cp "$OUT" "$T/lines.jsonl"
cp "$ERR" "$T/lines.err"
ok "one line per bundle (16), nothing else on stdout" test "$(grep -c . "$T/lines.jsonl")" = 16
ok "every line is one evidence.verify document" python3 -c '
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    assert d["format"] == "evidence.verify", d
    assert "\n" not in l.rstrip("\n")' "$T/lines.jsonl"
ok "the hidden unfinished file is passed over" sh -c '! grep -q partial "$1"' _ "$T/lines.jsonl"
ok "summary on stderr" grep -q "^evidence: 16 bundle(s): 14 valid, 1 invalid, 1 unreadable" "$T/lines.err"

# the same verdicts as one verify per bundle
python3 - "$T/lines.jsonl" >"$T/verdicts" <<'EOF'
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    print(d["bundle"], d["verdict"])
EOF
bad=0
while read -r b v; do
    run "$EVIDENCE" verify --json "$b"
    single=$(json_get "$OUT" verdict)
    [ "$single" = "$v" ] || { fail "$b: $v in the batch, $single alone"; bad=1; }
done <"$T/verdicts"
[ $bad -eq 0 ] && pass
ok "tampered.zip is invalid" grep -q "tampered.zip invalid" "$T/verdicts"
ok "garbage.zip is unreadable" grep -q "garbage.zip unreadable" "$T/verdicts"
ok "the bag folder is verified, not entered" grep -q "sub/bag valid" "$T/verdicts"
ok "bundles in sub-folders are found" grep -q "sub/deeper/d.zip valid" "$T/verdicts"

# --jobs 1 and --jobs 2 agree; text output keeps each bundle's lines together
expect_exit 3 "$EVIDENCE" verify --json-lines "$T/batch"
ok "--jobs 1 gives the same documents" test "$(sort "$OUT" | python3 -c '
import json, sys
print(sorted((json.loads(l)["bundle"], json.loads(l)["verdict"]) for l in sys.stdin))')" = \
    "$(python3 -c '
import json, sys
print(sorted((json.loads(l)["bundle"], json.loads(l)["verdict"]) for l in open(sys.argv[1])))' "$T/lines.jsonl")"
expect_exit 3 "$EVIDENCE" verify -j 2 "$T/batch"
ok "text: a verdict line per bundle" test "$(grep -Ec ': (valid|INVALID|UNREADABLE) \(' "$OUT")" = 15
ok "text: summary on stdout" grep -q "^16 bundle(s): 14 valid, 1 invalid, 1 unreadable" "$OUT"
ok "text: tampered.zip's problems come just before its verdict" python3 -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
mine = [i for i, l in enumerate(lines) if l.startswith(sys.argv[2])]
assert mine == list(range(mine[0], mine[-1] + 1)), mine' "$OUT" "$T/batch/tampered.zip"

# only valid bundles: exit 0; one invalid: exit 1
expect_exit 0 "$EVIDENCE" verify -j 2 --json-lines "$T/batch/b02.zip" "$T/batch/b03.zip" "$T/batch/sub"
expect_exit 1 "$EVIDENCE" verify -j 2 --json-lines "$T/batch/b02.zip" "$T/batch/tampered.zip"

# usage and input errors
expect_exit 2 "$EVIDENCE" verify --jobs 0 "$T/batch"
ok "bad --jobs named" grep -q -- "--jobs takes a number" "$ERR"
expect_exit 2 "$EVIDENCE" verify --json --json-lines "$T/batch/b02.zip"
# a folder with no bundle in it is verified as a bag, which says what it lacks
expect_exit 3 "$EVIDENCE" verify --json-lines "$T/batch/empty"
ok "an empty folder: not a bag (no bagit.txt)" grep -q '"bagit-txt-missing"' "$OUT"
# a bag that lost its bagit.txt is verified as a bag, not searched for bundles
cp -R "$T/batch/sub/bag" "$T/nobagit"
rm "$T/nobagit/bagit.txt"
expect_exit 3 "$EVIDENCE" verify --json "$T/nobagit"
ok "a bag without bagit.txt: bagit-txt-missing" grep -q '"bagit-txt-missing"' "$OUT"

finish
