# custody add/show, inspect and the command-line contract of the bundle
# commands: events append and chain, the payload is copied untouched, a
# bundle that fails verification is never amended, a broken chain is shown,
# concurrent amendments lose no event; usage errors exit 2; several bundles
# give the worst exit code.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/in" "$T/z"
head -c 1500000 /dev/urandom >"$T/in/video.bin"
printf 'statement\n' >"$T/in/statement.txt"
A=(--case "OP/77" --exhibit "AB/2" --officer "Jo Smith" --org "Test Force")
Z="$T/z/c.zip"
expect_exit 0 "$EVIDENCE" pack -o "$Z" "${A[@]}" "$T/in" || die "pack failed"
expect_exit 0 "$EVIDENCE" pack --format dir -o "$T/cdir" "${A[@]}" "$T/in" || die "pack failed"

# --- show --------------------------------------------------------------------------
expect_exit 0 "$EVIDENCE" custody show "$Z"
grep -q 'created *Jo Smith (Test Force)' "$OUT" && grep -q '^chain: intact' "$OUT" && pass ||
    { fail "custody show of a new bundle"; show_last; }

# --- add ------------------------------------------------------------------------------
payload_digest() { # ZIP -> one line per payload entry: name crc method size sha256
    python3 -c '
import hashlib, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for i in z.infolist():
    if "/data/" in i.filename and not i.is_dir():
        print(i.filename, i.CRC, i.compress_type, i.file_size, hashlib.sha256(z.read(i)).hexdigest())
' "$1"
}
payload_digest "$Z" >"$T/before.txt"
id_before=$("$EVIDENCE" inspect --json "$Z" | python3 "$TOOLS/evjson.py" get /dev/stdin bundle_id)
expect_exit 0 "$EVIDENCE" custody add "$Z" --action received --actor "Desk Officer" --org "Property Store" \
    --note "seal 00123 intact"
expect_exit 0 "$EVIDENCE" custody add "$Z" --action note --actor "Analyst" --org "Lab"
expect_exit 0 "$EVIDENCE" custody show "$Z"
grep -q 'received *Desk Officer (Property Store)' "$OUT" && grep -q 'note: seal 00123 intact' "$OUT" &&
    grep -q '^chain: intact' "$OUT" && [ "$(grep -c 'link ok' "$OUT")" -eq 3 ] && pass ||
    { fail "custody show after two additions"; show_last; }
expect_exit 0 "$EVIDENCE" verify "$Z"
payload_digest "$Z" >"$T/after.txt"
ok "payload entries copied untouched (bytes, CRC, stored/deflated)" cmp -s "$T/before.txt" "$T/after.txt"
id_after=$("$EVIDENCE" inspect --json "$Z" | python3 "$TOOLS/evjson.py" get /dev/stdin bundle_id)
[ -n "$id_before" ] && [ "$id_before" = "$id_after" ] && pass || fail "bundle id changed: $id_before -> $id_after"
ok "no temporary files left beside the bundle" test "$(ls -A "$T/z")" = c.zip
ok "the amended bundle passes the independent validator" python3 "$TOOLS/bagit_validate.py" "$Z" >/dev/null

# the folder form
cp -a "$T/cdir/data" "$T/cdir-data-before"
expect_exit 0 "$EVIDENCE" custody add "$T/cdir" --action verified --actor "QA" --org "Lab"
expect_exit 0 "$EVIDENCE" verify "$T/cdir"
ok "folder payload untouched" diff -r "$T/cdir-data-before" "$T/cdir/data"
ok "no temporary folders left" test -z "$(ls -A "$T" | grep -E 'amend|old|partial')"

# --- refusals ---------------------------------------------------------------------------
# a bundle that fails verification is not amended, and is left as it was
cp -a "$T/cdir" "$T/bad"
printf 'x' >>"$T/bad/data/AB_2/in/statement.txt"
tar -C "$T" -cf "$T/bad-before.tar" bad
expect_exit 1 "$EVIDENCE" custody add "$T/bad" --action received --actor X --org Y && expect_message
tar -C "$T" -cf "$T/bad-after.tar" bad
ok "a bundle that fails verification is left unchanged" cmp -s "$T/bad-before.tar" "$T/bad-after.tar"
expect_exit 3 "$EVIDENCE" custody add "$T/none.zip" --action received --actor X --org Y && expect_message
# a plain BagIt bag has no custody log to append to
python3 "$TOOLS/mkbag.py" valid-basic "$T/plain" || die "mkbag failed"
tar -C "$T" -cf "$T/plain-before.tar" plain
run "$EVIDENCE" custody add "$T/plain" --action received --actor X --org Y
[ "$RC" -ne 0 ] && ! ev__crashed && pass || { fail "custody add on a bag without custody.jsonl: exit $RC"; show_last; }
tar -C "$T" -cf "$T/plain-after.tar" plain
ok "a plain bag is left unchanged" cmp -s "$T/plain-before.tar" "$T/plain-after.tar"
expect_exit 3 "$EVIDENCE" custody show "$T/plain" && expect_message

# a broken chain is shown, and exits 1 (an earlier line is edited: the next
# line's prev_sha256 no longer matches; an edit of the last line is left to
# the tag manifest, see below)
cp -a "$T/cdir" "$T/broken"
sed -i '1s/"actor":"Jo Smith"/"actor":"Someone"/' "$T/broken/custody.jsonl"
expect_exit 1 "$EVIDENCE" custody show "$T/broken"
grep -q '^chain: BROKEN' "$OUT" && pass || { fail "broken chain not shown"; show_last; }
expect_exit 1 "$EVIDENCE" verify --json "$T/broken" &&
    expect_problem "$OUT" custody-chain-broken custody.jsonl error

# an edit of the last event is caught by the tag manifest
cp -a "$T/cdir" "$T/lastedit"
sed -i '2s/"actor":"QA"/"actor":"Someone"/' "$T/lastedit/custody.jsonl"
expect_exit 1 "$EVIDENCE" verify --json "$T/lastedit" &&
    expect_problem "$OUT" tag-modified custody.jsonl error

# --- concurrent amendments lose no event ------------------------------------------------------
# B runs completely while A is stopped in the middle of its rewrite; then A
# goes on. Every command that exits 0 must have its event in the final log
# (a command may refuse, e.g. because the bundle is busy, with a message).
# On a busy machine A may finish before the watcher sees its temporary
# file: then the race is set up again (up to 5 times) from a fresh copy.
for attempt in 1 2 3 4 5; do
    rm -rf "$T/race"
    mkdir -p "$T/race"
    cp "$Z" "$T/race/r.zip"
    r=$(python3 "$TOOLS/pack_race.py" "$T/race" ".r.zip.partial-*" stop \
        "timeout 120 '$EVIDENCE' custody add '$T/race/r.zip' --action received --actor B-actor --org B \
            >'$T/race-b.out' 2>'$T/race-b.err'; echo \$? >'$T/race-b.rc'" \
        "$T/race-a.out" "$T/race-a.err" -- \
        "$EVIDENCE" custody add "$T/race/r.zip" --action received --actor A-actor --org A)
    race=$?
    [ "$race" -eq 0 ] && break
    note "concurrent custody add: A finished before it could be stopped (attempt $attempt)"
done
if [ "$race" -ne 0 ]; then
    skip_case "concurrent custody add: A always finished before it could be stopped"
else
    rb=$(cat "$T/race-b.rc" 2>/dev/null || echo missing)
    expect_exit 0 "$EVIDENCE" custody show "$T/race/r.zip"
    for who in A B; do
        rc=$r
        [ "$who" = B ] && rc=$rb
        if [ "$rc" = 0 ]; then
            grep -q "$who-actor" "$OUT" && pass ||
                fail "concurrent custody add: $who exited 0 but its event is not in the log"
        elif [ "$rc" = 124 ] || [ "$rc" = missing ]; then
            fail "concurrent custody add: $who did not finish ($rc)"
        else
            grep -q '^evidence: ' "$T/race-$(echo $who | tr AB ab).err" && pass ||
                fail "concurrent custody add: $who failed ($rc) without a message"
        fi
    done
    [ "$r" = 0 ] || [ "$rb" = 0 ] && pass || fail "concurrent custody add: both refused"
    expect_exit 0 "$EVIDENCE" verify "$T/race/r.zip"
fi

# --- inspect -----------------------------------------------------------------------------
expect_exit 0 "$EVIDENCE" inspect "$Z"
for want in 'case: *OP/77' 'officer: *Jo Smith' 'exhibits: AB/2' 'video.bin' 'received *Desk Officer'; do
    grep -q "$want" "$OUT" && pass || fail "inspect output lacks '$want'"
done
expect_exit 0 "$EVIDENCE" inspect "$T/plain"
expect_exit 3 "$EVIDENCE" inspect "$T/none.zip" && expect_message

# --- command-line contract -----------------------------------------------------------------
expect_exit 2 "$EVIDENCE" custody && expect_message
expect_exit 2 "$EVIDENCE" custody frob "$Z" && expect_message
expect_exit 2 "$EVIDENCE" custody add "$Z" --action received --org Y && expect_message
expect_exit 2 "$EVIDENCE" custody add "$Z" --action deleted --actor X --org Y && expect_message
expect_exit 2 "$EVIDENCE" custody show "$Z" "$Z" && expect_message
expect_exit 2 "$EVIDENCE" verify && expect_message
expect_exit 2 "$EVIDENCE" verify --fast --deep "$Z" && expect_message
expect_exit 2 "$EVIDENCE" verify --bogus "$Z" && expect_message
expect_exit 2 "$EVIDENCE" extract "$Z" && expect_message
expect_exit 2 "$EVIDENCE" extract "$Z" "$T/a" "$T/b" && expect_message
expect_exit 2 "$EVIDENCE" inspect && expect_message
for c in pack verify extract inspect custody; do
    expect_exit 0 "$EVIDENCE" "$c" --help
    [ -s "$OUT" ] && [ ! -s "$ERR" ] && pass || fail "$c --help: expected text on stdout only"
done
touch "$T/a-file"
expect_exit 4 "$EVIDENCE" extract "$Z" "$T/a-file" && expect_message
# several bundles: every one is checked, the worst exit code wins (3 > 1 > 0)
expect_exit 1 "$EVIDENCE" verify "$Z" "$T/bad"
grep -q "c.zip: valid" "$OUT" && grep -q "bad: INVALID" "$OUT" && pass || { fail "verify of two bundles"; show_last; }
expect_exit 3 "$EVIDENCE" verify "$T/none.zip" "$T/bad" "$Z"
grep -q "bad: INVALID" "$OUT" && grep -q "c.zip: valid" "$OUT" && pass ||
    { fail "verify goes on after an unreadable bundle"; show_last; }
# progress goes to stderr only on a terminal: nothing on stderr here
expect_exit 0 "$EVIDENCE" verify "$Z"
[ ! -s "$ERR" ] && pass || { fail "verify wrote to stderr without a terminal"; show_last; }

finish
