# The integrator's guides work as printed: every command block of
# docs/ingest.md and docs/scaling.md marked "run by tests/cli/docs_examples.sh"
# runs as written (tests/tools/doccmds.py extract), in a folder with an inbox
# of bundles (valid, tampered, not a ZIP, signed), the library installed in a
# fresh prefix for pkg-config, and `evidence` on PATH:
# - docs/examples/ingest.c compiles warning-free and decides accept,
#   quarantine and reject as docs/ingest.md's table says;
# - docs/examples/ingest.sh sorts an inbox into the three folders;
# - the xargs -P example of docs/scaling.md gives the same documents as
#   `verify --json-lines`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign_env.sh"

B=${EV_BUILD_DIR:?ctest sets EV_BUILD_DIR}
P="$T/prefix"
run cmake --install "$B" --prefix "$P"
[ "$RC" -eq 0 ] || { show_last; die "cmake --install failed"; }
export PATH="$P/bin:$PATH"
export PKG_CONFIG_PATH="$P/lib/pkgconfig" LD_LIBRARY_PATH="$P/lib"
unset EVIDENCE_PROFILE_PATH
CC=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$B/CMakeCache.txt")
SAN=$(sed -n 's/^EVIDENCE_SANITIZE:[A-Z]*=//p' "$B/CMakeCache.txt")
[ -n "$SAN" ] && CC="$CC -fsanitize=${SAN//;/,} -fno-omit-frame-pointer"
# the guide says "cc": that is the compiler this build used
mkdir -p "$T/bin"
printf '#!/bin/sh\nexec %s -std=c11 -Wall -Wextra -Werror "$@"\n' "$CC" >"$T/bin/cc"
chmod +x "$T/bin/cc"
export PATH="$T/bin:$PATH"

sign_pki
tsa_start
mkdir -p "$T/src"
printf 'statement\n' >"$T/src/a.txt"
evidence pack -q --no-media -o "$T/good.zip" --exhibit JS/1 "$T/src" >/dev/null || die "pack"
evidence pack -q --no-media -o "$T/signed.zip" --exhibit JS/2 "$T/src" >/dev/null || die "pack"
evidence sign "$T/signed.zip" --key "$PKI/signer.key" --cert "$PKI/signer.pem" \
    --chain "$PKI/chain.pem" --tsa-url "$TSA/" >/dev/null || die "sign"
cp "$T/good.zip" "$T/tampered.zip"
python3 "$TOOLS/flip.py" entry "$T/tampered.zip" good/data/JS_1/src/a.txt 0 0x20 >/dev/null ||
    die "cannot tamper"
printf 'PK\003\004 not a zip' >"$T/garbage.zip"

W="$T/work"
fresh_inbox() {
    rm -rf "$W"
    mkdir -p "$W/inbox" "$W/docs"
    ln -s "$EV_SOURCE_DIR/docs/examples" "$W/docs/examples"
    cp "$T/good.zip" "$T/signed.zip" "$T/tampered.zip" "$T/garbage.zip" "$W/inbox/"
    cp "$PKI/root-ca.pem" "$W/roots.pem"
    cp "$PKI/tsa-root.pem" "$W/tsa-roots.pem"
}
run_block() { # FILE: one extracted block, as printed, in $W
    (cd "$W" && bash "$1") >"$OUT" 2>"$ERR"
    RC=$?
}

D="$T/blocks"
for doc in ingest scaling; do
    n=$(python3 "$TOOLS/doccmds.py" extract "$EV_SOURCE_DIR" "docs/$doc.md" \
        tests/cli/docs_examples.sh "$D/$doc") || die "no blocks in docs/$doc.md"
    note "docs/$doc.md: $n block(s)"
done

# docs/ingest.md 1: verify --jobs 2 --json-lines inbox/
fresh_inbox
run_block "$D/ingest/01.sh"
ok "ingest 1: exit 3 (the worst: one bundle is not a ZIP)" test "$RC" -eq 3
ok "ingest 1: four documents" test "$(grep -c . "$W/reports.jsonl")" -eq 4
ok "ingest 1: verdicts" test "$(python3 -c '
import json, os, sys
print(sorted((os.path.basename(json.loads(l)["bundle"]), json.loads(l)["verdict"]) for l in open(sys.argv[1])))' "$W/reports.jsonl")" = \
    "[('garbage.zip', 'unreadable'), ('good.zip', 'valid'), ('signed.zip', 'valid'), ('tampered.zip', 'invalid')]"

# docs/ingest.md 2: ingest.sh sorts the inbox
fresh_inbox
run_block "$D/ingest/02.sh"
ok "ingest 2: ingest.sh ran" test "$RC" -eq 0 || show_last
ok "ingest 2: valid ones accepted" test -f "$W/accepted/good.zip" -a -f "$W/accepted/signed.zip"
ok "ingest 2: tampered one quarantined, with its report" \
    test -f "$W/quarantine/tampered.zip" -a -f "$W/quarantine/tampered.zip.verify.json"
ok "ingest 2: the report names the changed file" grep -q '"modified"' "$W/quarantine/tampered.zip.verify.json"
ok "ingest 2: garbage rejected" test -f "$W/rejected/garbage.zip"
ok "ingest 2: inbox empty" test -z "$(ls -A "$W/inbox")"

# docs/ingest.md 3: the C program, with the signers' roots
fresh_inbox
cat "$PKI/chain.pem" >>"$W/roots.pem"
run_block "$D/ingest/03.sh"
ok "ingest 3: exit 3 (one rejected)" test "$RC" -eq 3
ok "ingest 3: compiled warning-free" test -x "$W/ingest"
ok "ingest 3: signed bundle accepted" grep -q "^accept inbox/signed.zip" "$OUT"
ok "ingest 3: unsigned bundle quarantined under --ca" grep -q "^quarantine inbox/good.zip: not signed" "$OUT"
ok "ingest 3: tampered bundle quarantined, naming the code" grep -q "^quarantine inbox/tampered.zip: \[modified\]" "$OUT"
ok "ingest 3: garbage rejected" grep -q "^reject inbox/garbage.zip" "$OUT"
ok "ingest 3: the accepted bundle's items are listed" grep -q "item-0001	JS/2	master	data/JS_2/src/a.txt	10	" "$OUT"
# without --ca, an unsigned valid bundle is accepted
(cd "$W" && ./ingest inbox/good.zip) >"$OUT" 2>"$ERR"
ok "ingest.c: good.zip accepted without --ca" grep -q "^accept inbox/good.zip" "$OUT"

# docs/scaling.md 1: xargs -P gives what --json-lines gives
fresh_inbox
run_block "$D/scaling/01.sh"
ok "scaling 1: ran" test "$RC" -eq 0 || show_last
(cd "$W" && evidence verify --json-lines inbox/*.zip) >"$T/lines.jsonl" 2>/dev/null
ok "scaling 1: same documents as --json-lines (but for order)" test \
    "$(python3 -c 'import json,sys; print(sorted(json.dumps(json.loads(l), sort_keys=True) for l in open(sys.argv[1])))' "$W/backlog.jsonl" |
       sed 's/"elapsed[^,]*,//g' | sha256sum)" = \
    "$(python3 -c 'import json,sys; print(sorted(json.dumps(json.loads(l), sort_keys=True) for l in open(sys.argv[1])))' "$T/lines.jsonl" |
       sed 's/"elapsed[^,]*,//g' | sha256sum)"
# docs/scaling.md 2: counting the verdicts
run_block "$D/scaling/02.sh"
ok "scaling 2: the count" grep -q "'valid': 2" "$OUT"

finish
