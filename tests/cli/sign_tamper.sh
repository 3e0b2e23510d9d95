# evidence verify --ca on signed bundles that were tampered with: each change
# is detected (exit 1) and named. The signed bundle is unzipped into a folder
# bag and changed there, as an attacker with file access would.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign_env.sh"

sign_pki
tsa_start
B="$T/b.zip"
make_bundle "$B"
SIGN=(--key "$PKI/signer.key" --cert "$PKI/signer.pem" --chain "$PKI/chain.pem" --tsa-url "$TSA/")
"$EVIDENCE" sign "$B" "${SIGN[@]}" >/dev/null || die "sign 1"
"$EVIDENCE" custody add "$B" --action note --actor "Clerk" --org "Court" >/dev/null || die "custody"
"$EVIDENCE" custody add "$B" --action received --actor "Lab" --org "Lab" >/dev/null || die "custody"
"$EVIDENCE" sign "$B" --key "$PKI/signer-rsa.key" --cert "$PKI/signer-rsa.pem" \
    --chain "$PKI/chain.pem" --tsa-url "$TSA/" >/dev/null || die "sign 2"
# events: 1 created, 2 signed, 3 note, 4 received, 5 signed;
# signatures: 0001-jane-smith (.tsr), 0004-robert-roe (.tsr)
TRUST=(--ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem" --crl "$PKI/crl.pem")
expect_exit 0 "$EVIDENCE" verify "$B" "${TRUST[@]}"

# fresh CASE: a folder copy of the bag to tamper with
fresh() {
    rm -rf "$T/x"
    mkdir -p "$T/x"
    unzip -q "$B" -d "$T/x" || die "unzip"
    C="$T/x/b"
}
# verify_json NAME: verify the folder, expect exit 1, keep the JSON as $T/NAME.json
verify_json() {
    expect_exit 1 "$EVIDENCE" verify --json "$C" "${TRUST[@]}"
    cp "$OUT" "$T/$1.json"
    J="$T/$1.json"
}
# edit_line N SED-EXPR: change line N of custody.jsonl
edit_line() {
    sed -i "$1s/$2/" "$C/custody.jsonl"
}

# 1. A custody line altered (event 3's actor): the signature over 1-4 fails
#    and the line is named; the signature over 1-1 still holds.
fresh
edit_line 3 '"actor":"Clerk"/"actor":"Clerc"'
verify_json line
expect_sig_problem "$J" 0004-robert-roe.p7s custody-mismatch "line 3 was altered"
expect_verdict "$J" 0001-jane-smith.p7s valid
expect_problem "$J" custody-chain-broken

# 2. The last signed line altered (event 4), with event 5 linking to it.
fresh
edit_line 4 '"actor":"Lab"/"actor":"Bob"'
verify_json last
expect_sig_problem "$J" 0004-robert-roe.p7s custody-mismatch "line 4 was altered"

# 3. An event deleted (event 3).
fresh
sed -i 3d "$C/custody.jsonl"
verify_json deleted
expect_sig_problem "$J" 0004-robert-roe.p7s custody-mismatch "line 3 holds event seq 4"

# 4. Two events swapped (3 and 4).
fresh
sed -n 1,2p "$T/x/b/custody.jsonl" > "$T/c.new"
sed -n 4p "$T/x/b/custody.jsonl" >> "$T/c.new"
sed -n 3p "$T/x/b/custody.jsonl" >> "$T/c.new"
sed -n '5,$p' "$T/x/b/custody.jsonl" >> "$T/c.new"
cp "$T/c.new" "$C/custody.jsonl"
verify_json reordered
expect_sig_problem "$J" 0004-robert-roe.p7s custody-mismatch "line 3 holds event seq 4"

# 5. The log cut back to 2 events.
fresh
sed -i '3,$d' "$C/custody.jsonl"
verify_json truncated
expect_sig_problem "$J" 0004-robert-roe.p7s custody-short "has 2 events"

# 6. A signature file swapped: Robert's signature (with its token) renamed
#    over Jane's name.
fresh
mv "$C/signatures/0004-robert-roe.p7s" "$C/signatures/0004-jane-smith.p7s"
mv "$C/signatures/0004-robert-roe.tsr" "$C/signatures/0004-jane-smith.tsr"
verify_json swapped
expect_sig_problem "$J" 0004-jane-smith.p7s signer-mismatch "Robert Roe"

# 7. A signature renamed to claim more events (0001 -> 0004).
fresh
rm "$C/signatures/0004-robert-roe.p7s" "$C/signatures/0004-robert-roe.tsr"
mv "$C/signatures/0001-jane-smith.p7s" "$C/signatures/0004-jane-smith.p7s"
mv "$C/signatures/0001-jane-smith.tsr" "$C/signatures/0004-jane-smith.tsr"
verify_json renamed
expect_sig_problem "$J" 0004-jane-smith.p7s signature-misnamed "events 1-1, not 1-4"

# 8. Tokens swapped between the two signatures.
fresh
mv "$C/signatures/0001-jane-smith.tsr" "$T/t1"
mv "$C/signatures/0004-robert-roe.tsr" "$C/signatures/0001-jane-smith.tsr"
mv "$T/t1" "$C/signatures/0004-robert-roe.tsr"
verify_json tokens
expect_sig_problem "$J" 0001-jane-smith.p7s token-imprint "token for signatures/0004-robert-roe.p7s"

# 9. A token for other data.
fresh
printf 'other\n' > "$T/other"
openssl ts -query -data "$T/other" -sha256 -cert -out "$T/o.tsq" 2>/dev/null
openssl ts -reply -config "$PKI/tsa.cnf" -queryfile "$T/o.tsq" -out "$C/signatures/0001-jane-smith.tsr" 2>/dev/null
verify_json otherdata
expect_sig_problem "$J" 0001-jane-smith.p7s token-imprint "other data"

# 10. A byte of the signature changed (inside the signature value).
fresh
python3 - "$C/signatures/0001-jane-smith.p7s" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[-10] ^= 0x01
open(p, "wb").write(bytes(b))
PY
verify_json flipped
ok "a damaged signature is invalid or unreadable" python3 - "$J" <<'PY'
import json, sys
s = [x for x in json.load(open(sys.argv[1]))["signatures"]["signatures"] if x["path"].endswith("0001-jane-smith.p7s")][0]
assert s["verdict"] in ("invalid", "unreadable"), s
codes = {p["code"] for p in s["problems"]}
assert codes & {"signature-invalid", "signature-malformed", "token-imprint"}, codes
PY
# the text summary never says "valid" for a bundle that exits 1
expect_exit 1 "$EVIDENCE" verify "$C" "${TRUST[@]}"
ok "text summary: INVALID, the bag intact but a signature failed" \
    grep -q "^$C: INVALID (.*the bag itself is intact, but a signature failed)$" "$OUT"

# 11. Payload and evidence.json changed: the bag checks catch these; the
#     signatures themselves still match the (unchanged) log.
fresh
printf 'x' >> "$C/data/JS_1/photo.jpg"
verify_json payload
expect_problem "$J" modified data/JS_1/photo.jpg
fresh
sed -i 's/"C-1"/"C-2"/' "$C/evidence.json"
verify_json record
ok "evidence.json change reported" python3 - "$J" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert any(p.get("path") == "evidence.json" for p in d["problems"]), d["problems"]
PY

# 12. Signed by someone outside the trusted PKI.
U="$T/untrusted.zip"
make_bundle "$U"
expect_exit 0 "$EVIDENCE" sign "$U" --key "$PKI/other-signer.key" --cert "$PKI/other-signer.pem"
expect_exit 1 "$EVIDENCE" verify --json "$U" "${TRUST[@]}"
cp "$OUT" "$T/untrusted.json"
expect_sig_problem "$T/untrusted.json" 0001-mallory.p7s signer-untrusted "Mallory"

# 13. A revoked signer: signing works (sign does not look at CRLs), verify
#     with the CRL says revoked, without it the signature is valid.
R="$T/revoked.zip"
make_bundle "$R"
expect_exit 0 "$EVIDENCE" sign "$R" --key "$PKI/revoked.key" --cert "$PKI/revoked.pem" \
    --chain "$PKI/chain.pem" --tsa-url "$TSA/"
expect_exit 1 "$EVIDENCE" verify --json "$R" "${TRUST[@]}"
cp "$OUT" "$T/revoked.json"
expect_sig_problem "$T/revoked.json" 0001-revoked-signer.p7s signer-revoked
expect_exit 0 "$EVIDENCE" verify "$R" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem"

# 14. An expired signer: 'evidence sign' refuses it; a signature made anyway
#     (stock openssl) and slipped into the bag is caught.
X="$T/expired"
make_bundle "$X" --format dir
before=$(fingerprint "$X")
expect_exit 3 "$EVIDENCE" sign "$X" --key "$PKI/expired.key" --cert "$PKI/expired.pem"
expect_stderr "expired on 2021-01-01"
expect_unchanged "$X" "$before" "sign with an expired certificate"
head -n 1 "$X/custody.jsonl" > "$T/prefix1"
mkdir -p "$X/signatures"
openssl cms -sign -binary -in "$T/prefix1" -signer "$PKI/expired.pem" -inkey "$PKI/expired.key" \
    -certfile "$PKI/chain.pem" -outform DER -out "$X/signatures/0001-old-signer.p7s" -md sha256 \
    -nosmimecap || fail "openssl cms -sign"
expect_exit 1 "$EVIDENCE" verify --json "$X" "${TRUST[@]}"
cp "$OUT" "$T/expired.json"
expect_sig_problem "$T/expired.json" 0001-old-signer.p7s signer-expired "Old Signer"
expect_sig_problem "$T/expired.json" 0001-old-signer.p7s signing-time-invalid

# 15. The wrong TSA root.
expect_exit 1 "$EVIDENCE" verify --json "$B" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/other-ca.pem"
cp "$OUT" "$T/wrongtsa.json"
expect_sig_problem "$T/wrongtsa.json" 0001-jane-smith.p7s tsa-untrusted "Test TSA"

# 16. Without --ca the integrity checks still run: a changed log fails.
fresh
edit_line 3 '"actor":"Clerk"/"actor":"Clerc"'
expect_exit 1 "$EVIDENCE" verify --json "$C"
cp "$OUT" "$T/noca.json"
expect_sig_problem "$T/noca.json" 0004-robert-roe.p7s custody-mismatch
expect_verdict "$T/noca.json" 0001-jane-smith.p7s unverified

# 17. A stray token and an odd file in signatures/.
fresh
cp "$C/signatures/0001-jane-smith.tsr" "$C/signatures/0002-nobody.tsr"
printf 'hello\n' > "$C/signatures/notes.txt"
verify_json stray
expect_sig_problem "$J" 0002-nobody.tsr token-orphan
expect_sig_problem "$J" notes.txt signature-name

# 18. A byte of a signature's data damaged inside the ZIP (its CRC fails):
#     the bundle is invalid (exit 1, not 3 "could not be checked"), the
#     signature is unreadable and says why (not "empty"), and the other
#     signature is still checked.
cp "$B" "$T/crc.zip"
python3 "$TOOLS/flip.py" entry "$T/crc.zip" b/signatures/0001-jane-smith.p7s 100 0x10
expect_exit 1 "$EVIDENCE" verify --json "$T/crc.zip" "${TRUST[@]}"
cp "$OUT" "$T/crc.json"
ok "damaged signature entry: verdict invalid" test "$(json_get "$T/crc.json" verdict)" = invalid
expect_sig_problem "$T/crc.json" 0001-jane-smith.p7s signature-malformed "cannot be read from the bundle"
expect_verdict "$T/crc.json" 0004-robert-roe.p7s valid

finish
