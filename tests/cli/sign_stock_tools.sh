# docs/auditing.md works: the audit script it contains (run as printed) and
# its individual openssl commands check a bundle we signed and timestamped,
# using only unzip, sha256sum and openssl; and they catch tampering.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign_env.sh"

sign_pki
tsa_start
DOC="$EV_SOURCE_DIR/docs/auditing.md"
# The script between the markers, without the ``` fence lines.
sed -n '/^<!-- BEGIN audit.sh -->$/,/^<!-- END audit.sh -->$/p' "$DOC" | sed '1,2d;$d' | sed '$d' \
    > "$T/audit.sh"
ok "audit script extracted from docs/auditing.md" grep -q '^echo "AUDIT FAILED"$' "$T/audit.sh"
ok "audit script starts with its shebang" bash -c "head -1 '$T/audit.sh' | grep -q '^#!/bin/sh'"

B="$T/CASE-1.zip"
make_bundle "$B"
# a file name with a % and a space, to exercise the %25 conversion
mkdir -p "$T/in2"
printf 'second\n' > "$T/in2/50% off.txt"
rm -f "$B"
"$EVIDENCE" pack -o "$B" --case C-1 --exhibit JS/1 --officer "Jane Smith" --org "Test Police" \
    --no-media "$T/in/photo.jpg" "$T/in2/50% off.txt" >/dev/null || die "pack"
"$EVIDENCE" sign "$B" --key "$PKI/signer.key" --cert "$PKI/signer.pem" --chain "$PKI/chain.pem" \
    --tsa-url "$TSA/" >/dev/null || die "sign 1"
"$EVIDENCE" custody add "$B" --action received --actor "Lab Clerk" --org "Lab" >/dev/null || die "custody"
"$EVIDENCE" sign "$B" --key "$PKI/signer-rsa.key" --cert "$PKI/signer-rsa.pem" \
    --chain "$PKI/chain.pem" --tsa-url "$TSA/" >/dev/null || die "sign 2"
expect_exit 0 "$EVIDENCE" verify "$B" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem" \
    --crl "$PKI/crl.pem"

# The whole audit, as printed in the guide.
expect_exit 0 sh "$T/audit.sh" "$B" "$PKI/root-ca.pem" "$PKI/tsa-root.pem" "$PKI/crl.pem"
ok "audit passed" grep -q "^AUDIT PASSED$" "$OUT"
ok "audit checked both signatures" test "$(grep -c '\.p7s: signed by' "$OUT")" -eq 2
ok "audit checked both tokens" test "$(grep -c '\.tsr: token over' "$OUT")" -eq 2
ok "audit named the signer" grep -q "signed by CN=Robert Roe,O=Test Police over custody events 1-3" "$OUT"

# The individual commands of the guide, on the unpacked bag.
mkdir -p "$T/a"
unzip -q "$B" -d "$T/a" || fail "unzip"
cd "$T/a/CASE-1" || die "no bag folder"
ok "sha256sum -c manifest" bash -c "sed 's/%25/%/g' manifest-sha256.txt | sha256sum -c --strict - >/dev/null"
ok "sha256sum -c tagmanifest" bash -c "sed 's/%25/%/g' tagmanifest-sha256.txt | sha256sum -c --strict - >/dev/null"
ok "sha256sum -c seal" sha256sum -c --strict --quiet tagseal-sha256.txt
head -n 3 custody.jsonl > "$T/prefix"
expect_exit 0 openssl cms -verify -binary -inform DER -in signatures/0003-robert-roe.p7s \
    -content "$T/prefix" -CAfile "$PKI/root-ca.pem" -purpose any -signer "$T/signer.pem" -out /dev/null
ok "openssl says so" grep -q "CMS Verification successful" "$ERR"
ok "the slug one-liner gives the file name's <who>" test "$(openssl x509 -in "$T/signer.pem" \
    -noout -subject -nameopt RFC2253,sep_multiline | sed -n 's/^ *CN=//p' | tr 'A-Z' 'a-z' |
    sed 's/[^a-z0-9][^a-z0-9]*/-/g; s/^-//; s/-$//' | cut -c1-40 | sed 's/-$//')" = robert-roe
expect_exit 0 openssl ts -verify -data signatures/0003-robert-roe.p7s \
    -in signatures/0003-robert-roe.tsr -CAfile "$PKI/tsa-root.pem"
ok "openssl ts says OK" grep -q "Verification: OK" "$OUT"
when=$(openssl ts -reply -in signatures/0003-robert-roe.tsr -text 2>/dev/null | sed -n 's/^Time stamp: //p')
ok "token time readable" test -n "$when"
expect_exit 0 openssl cms -verify -binary -inform DER -in signatures/0003-robert-roe.p7s \
    -content "$T/prefix" -CAfile "$PKI/root-ca.pem" -purpose any \
    -attime "$(date -u -d "$when" +%s)" -out /dev/null
ok "the signed event repeats the prefix digest" grep -q "$(sha256sum < "$T/prefix" | cut -c1-64)" custody.jsonl
ok "prev_sha256 of line 2 is the SHA-256 of line 1" grep -q \
    "\"prev_sha256\":\"$(sed -n 1p custody.jsonl | tr -d '\n' | sha256sum | cut -c1-64)\"" \
    <(sed -n 2p custody.jsonl)
# the wrong prefix length fails with stock openssl too
head -n 2 custody.jsonl > "$T/prefix2"
expect_exit 4 openssl cms -verify -binary -inform DER -in signatures/0003-robert-roe.p7s \
    -content "$T/prefix2" -CAfile "$PKI/root-ca.pem" -purpose any -out /dev/null
# the token does not verify against the signers' root
run openssl ts -verify -data signatures/0003-robert-roe.p7s -in signatures/0003-robert-roe.tsr \
    -CAfile "$PKI/root-ca.pem"
ok "token against the wrong root fails" test "$RC" -ne 0
cd "$T" || die "cd"

# A folder bundle: the script accepts it as is.
D="$T/folder"
make_bundle "$D" --format dir
"$EVIDENCE" sign "$D" --key "$PKI/signer.key" --cert "$PKI/signer.pem" --chain "$PKI/chain.pem" \
    --tsa-url "$TSA/" >/dev/null || die "sign folder"
expect_exit 0 sh "$T/audit.sh" "$D" "$PKI/root-ca.pem" "$PKI/tsa-root.pem"

# Tampering: the audit fails and says where.
tampered() { # NAME: a folder copy of the ZIP's bag in $T/tp/NAME
    rm -rf "$T/tp"
    mkdir -p "$T/tp"
    unzip -q "$B" -d "$T/tp"
    C="$T/tp/CASE-1"
}
tampered
sed -i '2s/"actor":"Jane Smith"/"actor":"Jane Smyth"/' "$C/custody.jsonl"
expect_exit 1 sh "$T/audit.sh" "$C" "$PKI/root-ca.pem" "$PKI/tsa-root.pem"
ok "audit: custody line 3 no longer links" grep -q "custody.jsonl line 3: prev_sha256" "$OUT"
ok "audit: signature over 1-3 fails" grep -q "FAILED: signatures/0003-robert-roe.p7s: openssl cms -verify fails" "$OUT"
ok "audit: signature over 1-1 still holds" grep -q "ok: signatures/0001-jane-smith.p7s: signed by" "$OUT"

tampered
printf 'x' >> "$C/data/JS_1/photo.jpg"
expect_exit 1 sh "$T/audit.sh" "$C" "$PKI/root-ca.pem" "$PKI/tsa-root.pem"
ok "audit: payload change" grep -q "FAILED: manifest-sha256.txt" "$OUT"

tampered
mv "$C/signatures/0003-robert-roe.p7s" "$C/signatures/0003-jane-smith.p7s"
mv "$C/signatures/0003-robert-roe.tsr" "$C/signatures/0003-jane-smith.tsr"
expect_exit 1 sh "$T/audit.sh" "$C" "$PKI/root-ca.pem" "$PKI/tsa-root.pem"
ok "audit: renamed signature" grep -q "named for 'jane-smith' but signed by 'Robert Roe'" "$OUT"

tampered
cp "$C/signatures/0001-jane-smith.tsr" "$C/signatures/0003-robert-roe.tsr"
expect_exit 1 sh "$T/audit.sh" "$C" "$PKI/root-ca.pem" "$PKI/tsa-root.pem"
ok "audit: token for other data" grep -q "FAILED: signatures/0003-robert-roe.tsr: openssl ts -verify fails" "$OUT"

expect_exit 1 sh "$T/audit.sh" "$B" "$PKI/other-ca.pem" "$PKI/tsa-root.pem"
ok "audit: untrusted root" grep -q "FAILED: signatures/0001-jane-smith.p7s" "$OUT"

# A revoked signer fails the stock CRL check.
R="$T/revoked.zip"
make_bundle "$R"
"$EVIDENCE" sign "$R" --key "$PKI/revoked.key" --cert "$PKI/revoked.pem" --chain "$PKI/chain.pem" \
    >/dev/null || die "sign revoked"
expect_exit 1 sh "$T/audit.sh" "$R" "$PKI/root-ca.pem" "$PKI/tsa-root.pem" "$PKI/crl.pem"
ok "audit: revoked" grep -q "signer revoked" "$OUT"

finish
