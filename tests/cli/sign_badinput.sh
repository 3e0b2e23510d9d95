# Bad input to evidence sign / timestamp / verify --ca: misbehaving TSAs
# (hanging, garbage, errors, refusals, wrong replies), bad keys, passphrases
# and certificates, malformed DER and PEM, truncated tokens. Each gives a
# clear message and the documented exit code, and leaves the bundle unchanged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign_env.sh"

sign_pki
tsa_start
B="$T/b.zip"
make_bundle "$B"
KEY=(--key "$PKI/signer.key" --cert "$PKI/signer.pem" --chain "$PKI/chain.pem")
orig=$(fingerprint "$B")

# sign_fails CODE TEXT ARGS...: sign fails with CODE, says TEXT, bundle unchanged
sign_fails() {
    local code=$1 text=$2
    shift 2
    expect_exit "$code" "$EVIDENCE" sign "$B" "$@" </dev/null
    expect_message
    expect_stderr "$text"
    expect_unchanged "$B" "$orig" "sign $*"
}

# --- the TSA ---------------------------------------------------------------------
start=$(date +%s)
sign_fails 4 "no answer from the TSA" "${KEY[@]}" --tsa-url "$TSA/hang" --tsa-timeout 2
elapsed=$(($(date +%s) - start))
# the server never answers /hang, so finishing at all shows the timeout
# worked; the bound is loose (a shared machine), not a measure of speed
ok "a hanging TSA is given up after the timeout (took ${elapsed}s)" test "$elapsed" -le 60
expect_stderr "within 2 s"
expect_stderr "the bundle is unchanged"
sign_fails 3 "did not answer with a timestamp reply" "${KEY[@]}" --tsa-url "$TSA/garbage"
sign_fails 3 "actual=text/html" "${KEY[@]}" --tsa-url "$TSA/html"
sign_fails 4 "HTTP error" "${KEY[@]}" --tsa-url "$TSA/http500"
sign_fails 4 "refused the request (status rejection, \"test TSA: request rejected\", failure badAlg" \
    "${KEY[@]}" --tsa-url "$TSA/reject"
sign_fails 3 "for other data" "${KEY[@]}" --tsa-url "$TSA/otherdata"
sign_fails 3 "nonce mismatch" "${KEY[@]}" --tsa-url "$TSA/othernonce"
sign_fails 3 "did not answer with a timestamp reply" "${KEY[@]}" --tsa-url "$TSA/truncated"
sign_fails 3 "https TSA URLs are not supported" "${KEY[@]}" --tsa-url "https://127.0.0.1:9/"
sign_fails 2 "is not a TSA URL" "${KEY[@]}" --tsa-url "ftp://127.0.0.1/"

# --- keys, passphrases, certificates -------------------------------------------------
printf 'not the passphrase\n' > "$T/wrong.pass"
sign_fails 3 "wrong passphrase" --key "$PKI/signer-enc.key" --cert "$PKI/signer.pem" \
    --passphrase-file "$T/wrong.pass"
sign_fails 3 "give --passphrase-file FILE" --key "$PKI/signer-enc.key" --cert "$PKI/signer.pem"
sign_fails 3 "cannot read the passphrase file" --key "$PKI/signer-enc.key" \
    --cert "$PKI/signer.pem" --passphrase-file "$T/nonexistent"
sign_fails 3 "does not belong to the certificate" --key "$PKI/signer-rsa.key" --cert "$PKI/signer.pem"
sign_fails 3 "expired on" --key "$PKI/expired.key" --cert "$PKI/expired.pem"
openssl pkey -in "$PKI/signer.key" -outform DER -out "$T/key.der" 2>/dev/null
sign_fails 3 "is not a PEM private key" --key "$T/key.der" --cert "$PKI/signer.pem"
head -c 100 "$PKI/signer.key" > "$T/trunc.key"
sign_fails 3 "no readable private key" --key "$T/trunc.key" --cert "$PKI/signer.pem"
sign_fails 3 "no readable private key" --key "$PKI/signer.pem" --cert "$PKI/signer.pem"
sed '3s/./#/' "$PKI/signer.pem" > "$T/bad.pem"
sign_fails 3 "damaged PEM certificate" --key "$PKI/signer.key" --cert "$T/bad.pem"
sign_fails 3 "no certificate in" --key "$PKI/signer.key" --cert "$PKI/signer.key"
sign_fails 3 "cannot open the key file" --key "$T/none.key" --cert "$PKI/signer.pem"
openssl genpkey -algorithm ED25519 -out "$T/ed.key" 2>/dev/null
sign_fails 3 "use an RSA (2048 bits or more) or EC" --key "$T/ed.key" --cert "$PKI/signer.pem"
sign_fails 2 "is not a dotted OID" "${KEY[@]}" --tsa-policy "not-an-oid" --tsa-url "$TSA/"

# --- usage ------------------------------------------------------------------------------
sign_fails 2 "--key KEY.pem is required (the signer's private key)" --cert "$PKI/signer.pem"
sign_fails 2 "cannot be combined" "${KEY[@]}" --tsa-url "$TSA/" --tsa-query "$T/q.tsq"
sign_fails 2 "--tsa-timeout takes whole seconds" "${KEY[@]}" --tsa-timeout 0
sign_fails 2 "unknown option" "${KEY[@]}" --passphrase "secret"
expect_exit 2 "$EVIDENCE" timestamp "$B"
expect_stderr "give exactly one of"
expect_exit 3 "$EVIDENCE" sign "$T/nonexistent.zip" "${KEY[@]}"
expect_message

# --- offline replies --------------------------------------------------------------------
expect_exit 0 "$EVIDENCE" sign "$B" "${KEY[@]}" --tsa-query "$T/q.tsq"
orig=$(fingerprint "$B")
openssl ts -reply -config "$PKI/tsa.cnf" -queryfile "$T/q.tsq" -out "$T/r.tsr" 2>/dev/null
# timestamp_fails CODE TEXT ARGS...
timestamp_fails() {
    local code=$1 text=$2
    shift 2
    expect_exit "$code" "$EVIDENCE" timestamp "$B" "$@"
    expect_message
    expect_stderr "$text"
    expect_unchanged "$B" "$orig" "timestamp $*"
}
head -c 300 "$T/r.tsr" > "$T/trunc.tsr"
timestamp_fails 3 "malformed or truncated" --tsa-reply "$T/trunc.tsr"
printf 'garbage' > "$T/garbage.tsr"
timestamp_fails 3 "malformed or truncated" --tsa-reply "$T/garbage.tsr"
: > "$T/empty.tsr"
timestamp_fails 3 "empty" --tsa-reply "$T/empty.tsr"
timestamp_fails 3 "cannot open the TSA reply" --tsa-reply "$T/none.tsr"
# a reply to a different query over the same signature: nonce mismatch
openssl ts -query -in "$T/q.tsq" -text 2>/dev/null | grep -q "Nonce" || fail "query has no nonce"
printf 'other\n' > "$T/other"
openssl ts -query -data "$T/other" -sha256 -cert -out "$T/other.tsq" 2>/dev/null
openssl ts -reply -config "$PKI/tsa.cnf" -queryfile "$T/other.tsq" -out "$T/other.tsr" 2>/dev/null
timestamp_fails 3 "matches no .p7s file" --tsa-reply "$T/other.tsr"
timestamp_fails 3 "nonce mismatch" --tsa-reply "$T/r.tsr" --query "$T/other.tsq"
timestamp_fails 3 "not a DER TimeStampReq" --tsa-reply "$T/r.tsr" --query "$T/garbage.tsr"
# a bare token (not a TimeStampResp) is refused with a hint
openssl ts -reply -in "$T/r.tsr" -token_out -out "$T/token.der" 2>/dev/null
timestamp_fails 3 "bare timestamp token" --tsa-reply "$T/token.der"
# a refusal saved as a reply
printf '\x30\x09\x30\x07\x02\x01\x02\x03\x02\x07\x80' > "$T/reject.tsr"
timestamp_fails 4 "refused the request" --tsa-reply "$T/reject.tsr"
timestamp_fails 4 "no answer from the TSA" --tsa-url "$TSA/hang" --tsa-timeout 1
timestamp_fails 3 "has no signature signatures/0009-x.p7s" --tsa-url "$TSA/" \
    --signature signatures/0009-x.p7s
# the right reply works
expect_exit 0 "$EVIDENCE" timestamp "$B" --tsa-reply "$T/r.tsr" --query "$T/q.tsq"

# --- verify: trust files and damaged signature files --------------------------------------
expect_exit 3 "$EVIDENCE" verify "$B" --ca "$T/nonexistent.pem"
expect_stderr "--ca: cannot open the CA certificate file"
expect_exit 3 "$EVIDENCE" verify "$B" --ca "$PKI/signer.key"
expect_stderr "no certificate in"
expect_exit 3 "$EVIDENCE" verify "$B" --ca "$PKI/root-ca.pem" --crl "$PKI/root-ca.pem"
expect_stderr "no CRL in"
expect_exit 3 "$EVIDENCE" verify "$B" --ca "$T/bad.pem"
expect_stderr "damaged PEM"
expect_exit 0 "$EVIDENCE" verify "$B" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem"

rm -rf "$T/x"
mkdir -p "$T/x"
unzip -q "$B" -d "$T/x"
C="$T/x/b"
head -c 200 "$C/signatures/0001-jane-smith.p7s" > "$T/t.p7s"
cp "$T/t.p7s" "$C/signatures/0001-jane-smith.p7s"
printf '\x30\x82\x7f\xff' > "$C/signatures/0001-jane-smith.tsr"
expect_exit 1 "$EVIDENCE" verify --json "$C" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem"
cp "$OUT" "$T/damaged.json"
expect_verdict "$T/damaged.json" 0001-jane-smith.p7s unreadable
expect_sig_problem "$T/damaged.json" 0001-jane-smith.p7s signature-malformed "not a DER CMS signature"
# a PEM signature instead of DER
openssl cms -sign -binary -in "$C/custody.jsonl" -signer "$PKI/signer.pem" -inkey "$PKI/signer.key" \
    -outform PEM -out "$C/signatures/0001-jane-smith.p7s" 2>/dev/null
rm -f "$C/signatures/0001-jane-smith.tsr"
expect_exit 1 "$EVIDENCE" verify --json "$C" --ca "$PKI/root-ca.pem"
cp "$OUT" "$T/pem.json"
expect_sig_problem "$T/pem.json" 0001-jane-smith.p7s signature-malformed

finish
