# The command blocks of docs/disclosure.md, run as printed and in order
# (tests/tools/doccmds.py extract): a part is cut from a signed and
# timestamped 4-item bundle, verified, and one proof is checked with
# openssl, sha256sum and the python script the page gives. Then the same
# script must refuse a proof of the part that was tampered with.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign_env.sh"

sign_pki
tsa_start
BIN="$T/bin"
mkdir -p "$BIN"
ln -s "$(cd "$(dirname "$EVIDENCE")" && pwd)/$(basename "$EVIDENCE")" "$BIN/evidence"
export PATH="$BIN:$PATH"
W="$T/work"
mkdir -p "$W"
for i in 1 2 3 4; do printf 'statement %s\n' "$i" > "$T/statement-$i.txt"; done
expect_exit 0 "$EVIDENCE" pack -o "$W/case.zip" --case C-1 --exhibit JS/1 --officer "Jane Smith" \
    --org "Test Police" --no-media "$T"/statement-*.txt || die "pack"
expect_exit 0 "$EVIDENCE" sign "$W/case.zip" --key "$PKI/signer.key" --cert "$PKI/signer.pem" \
    --chain "$PKI/chain.pem" --tsa-url "$TSA/" || die "sign"
cp "$PKI/root-ca.pem" "$W/roots.pem"
cp "$PKI/tsa-root.pem" "$W/tsa-roots.pem"

expect_exit 0 python3 "$TOOLS/doccmds.py" extract "$EV_SOURCE_DIR" docs/disclosure.md \
    tests/cli/disclose_docs.sh "$T/blocks"
ok "three blocks of docs/disclosure.md" test "$(ls "$T/blocks" | wc -l)" -eq 3
for b in "$T"/blocks/*.sh; do
    where=$(head -1 "$b" | sed 's/^# //')
    if (cd "$W" && bash -e -o pipefail "$b") >>"$T/doc.out" 2>&1; then
        pass
    else
        fail "docs/disclosure.md block $where failed"
        tail -20 "$T/doc.out" >&2
    fi
done
ok "verify: proven" grep -q "1 of 4 items of bundle urn:uuid:.*; 3 withheld: proven" "$T/doc.out"
ok "the attribute matches the script" grep -q "the signature commits to the root" "$T/doc.out"
ok "openssl cms: successful" grep -q "CMS Verification successful" "$T/doc.out"
ok "openssl ts: OK" grep -q "Verification: OK" "$T/doc.out"
ok "sha256sum agrees with the entry" python3 - "$T/doc.out" <<'PY'
import sys
t = open(sys.argv[1]).read()
h = [l.split()[0] for l in t.splitlines() if l.endswith("statement-2.txt")][0]
assert "['" + h + "']" in t, t
PY

# The script refuses a changed entry, salt or payload.
for change in 'i["original_name"]="x"' 'i["salt"]="00"*32' 'i["size"]=1'; do
    rm -rf "$T/t" && cp -r "$W/part" "$T/t"
    python3 - "$T/t/evidence.json" "$change" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
i = r["items"][0]
exec(sys.argv[2])
json.dump(r, open(sys.argv[1], "w"), indent=2)
PY
    run python3 "$W/audit.py" "$T/t" item-0002
    ok "audit.py refuses: $change" bash -c "[ $RC -ne 0 ] && grep -q 'does not lead to the root' '$ERR'"
done
finish
