# evidence sign / timestamp / verify --ca: the normal flows. Signatures made
# online (local TSA), offline (query now, reply later), with RSA and EC keys,
# an encrypted key, ZIP and folder bundles; verification with and without
# trust anchors; signatures stay valid as the log grows.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign_env.sh"

sign_pki
tsa_start
B="$T/b.zip"
make_bundle "$B"

# Sign (EC P-256, chain embedded) with a token from the TSA.
expect_exit 0 "$EVIDENCE" sign "$B" --key "$PKI/signer.key" --cert "$PKI/signer.pem" \
    --chain "$PKI/chain.pem" --tsa-url "$TSA/"
ok "sign names the signature" grep -q "signatures/0001-jane-smith.p7s" "$OUT"
ok "sign names the token" grep -q "signatures/0001-jane-smith.tsr" "$OUT"

# A note from someone else, then a second signer (RSA key): the log now has
# 3 events.
expect_exit 0 "$EVIDENCE" custody add "$B" --action note --actor "Lab Clerk" --org "Lab" \
    --note "received for analysis"
expect_exit 0 "$EVIDENCE" sign "$B" --key "$PKI/signer-rsa.key" --cert "$PKI/signer-rsa.pem" \
    --chain "$PKI/chain.pem" --tsa-url "$TSA/" --actor "DC Roe" --org "Lab Police"
ok "second signature covers events 1-3" grep -q "signatures/0003-robert-roe.p7s" "$OUT"

# The "signed" events are in the log, each naming its signature.
expect_exit 0 "$EVIDENCE" custody show --json "$B"
ok "custody has 4 events, the last a signed event by DC Roe" python3 - "$OUT" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
ev = [e["event"] for e in doc["events"]]
assert [e["action"] for e in ev] == ["created", "signed", "note", "signed"], ev
assert ev[3]["actor"] == "DC Roe" and ev[3]["organisation"] == "Lab Police", ev[3]
assert "signatures/0003-robert-roe.p7s" in ev[3]["note"], ev[3]["note"]
assert ev[1]["actor"] == "Jane Smith" and ev[1]["organisation"] == "Test Police", ev[1]
PY

# Verify with trust anchors and the CRL: both valid, timestamps verified.
expect_exit 0 "$EVIDENCE" verify --json "$B" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem" \
    --crl "$PKI/crl.pem"
cp "$OUT" "$T/v.json"
expect_verdict "$T/v.json" 0001-jane-smith.p7s valid
expect_verdict "$T/v.json" 0003-robert-roe.p7s valid
ok "JSON summary: 2 present, verified, tokens checked" python3 - "$T/v.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["signatures"]
assert s["present"] == 2 and s["verified"] is True and s["verdict"] == "valid", s
for x in s["signatures"]:
    assert x["tsa_verified"] is True and x["token"].endswith(".tsr"), x
    assert x["signer"].startswith("CN=") and x["tsa"].startswith("CN=Test TSA"), x
    assert x["tsa_time"].endswith("Z") and x["signing_time"].endswith("Z"), x
    assert x["status"] == "ok", x
PY

# Human output names signer, time and verdict.
expect_exit 0 "$EVIDENCE" verify "$B" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem"
ok "human output: verdict line" grep -q "signature signatures/0001-jane-smith.p7s (custody events 1-1): valid" "$OUT"
ok "human output: signer" grep -q "signer: *CN=Robert Roe,O=Test Police" "$OUT"
ok "human output: timestamp" grep -q "timestamp: .*Z by CN=Test TSA.*(verified)" "$OUT"

# Without --ca: present but unverified, exit 0.
expect_exit 0 "$EVIDENCE" verify --json "$B"
cp "$OUT" "$T/u.json"
expect_verdict "$T/u.json" 0003-robert-roe.p7s unverified
ok "JSON: verified false" python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["signatures"]; assert s["verified"] is False and s["verdict"] == "unverified" and s["present"] == 2' "$T/u.json"
expect_exit 0 "$EVIDENCE" verify "$B"
ok "human: says how to verify" grep -q "2 signature(s) present, not verified: give --ca" "$OUT"

# Without --tsa-ca, tokens must chain to --ca: here they do not (other root).
expect_exit 1 "$EVIDENCE" verify --json "$B" --ca "$PKI/root-ca.pem"
cp "$OUT" "$T/n.json"
expect_sig_problem "$T/n.json" 0001-jane-smith.p7s tsa-untrusted "TSA trust anchor"

# Offline flow: encrypted key (passphrase from a file), query now, reply later.
expect_exit 0 "$EVIDENCE" custody add "$B" --action received --actor "Clerk" --org "Court"
expect_exit 0 "$EVIDENCE" sign "$B" --key "$PKI/signer-enc.key" --cert "$PKI/signer.pem" \
    --chain "$PKI/chain.pem" --passphrase-file "$PKI/passphrase.txt" --tsa-query "$T/q.tsq"
ok "offline: signature covers events 1-5" grep -q "signatures/0005-jane-smith.p7s" "$OUT"
ok "offline: query written" test -s "$T/q.tsq"
ok "offline: the query asks for SHA-256 and the TSA certificate" bash -c \
    "openssl ts -query -in '$T/q.tsq' -text | grep -q 'Hash Algorithm: sha256' && openssl ts -query -in '$T/q.tsq' -text | grep -q 'Certificate required: yes'"
expect_exit 0 "$EVIDENCE" verify --json "$B" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem"
cp "$OUT" "$T/o1.json"
expect_verdict "$T/o1.json" 0005-jane-smith.p7s valid
# an air-gapped TSA answers with the openssl command line
openssl ts -reply -config "$PKI/tsa.cnf" -queryfile "$T/q.tsq" -out "$T/r.tsr" 2>/dev/null ||
    fail "openssl ts -reply"
expect_exit 0 "$EVIDENCE" timestamp "$B" --tsa-reply "$T/r.tsr" --query "$T/q.tsq"
ok "timestamp names the token" grep -q "signatures/0005-jane-smith.tsr" "$OUT"
expect_exit 0 "$EVIDENCE" verify --json "$B" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem"
cp "$OUT" "$T/o2.json"
ok "offline: token verified" python3 -c 'import json,sys; s=[x for x in json.load(open(sys.argv[1]))["signatures"]["signatures"] if x["path"].endswith("0005-jane-smith.p7s")][0]; assert s["tsa_verified"] and s["verdict"] == "valid", s' "$T/o2.json"
# the same reply again: the signature has a token already
expect_exit 3 "$EVIDENCE" timestamp "$B" --tsa-reply "$T/r.tsr"
expect_stderr "has a timestamp token already"

# The passphrase asked on a terminal (a pseudo-terminal from script(1)), not echoed.
if command -v script >/dev/null 2>&1; then
    PT="$T/prompt.zip"
    make_bundle "$PT"
    (sleep 2; printf 'correct horse battery staple\n') | timeout 60 script -qec \
        "'$EVIDENCE' sign '$PT' --key '$PKI/signer-enc.key' --cert '$PKI/signer.pem' --chain '$PKI/chain.pem'" \
        /dev/null > "$T/prompt.out" 2>&1
    ok "prompt: asked on the terminal" grep -q "Passphrase for .*signer-enc.key" "$T/prompt.out"
    ok "prompt: signed" grep -q "signatures/0001-jane-smith.p7s" "$T/prompt.out"
    ok "prompt: the passphrase is not echoed" bash -c "! grep -q 'correct horse' '$T/prompt.out'"
else
    skip_case "no script(1) to test the passphrase prompt"
fi

# A signature made without a TSA gets its token later, online.
expect_exit 0 "$EVIDENCE" sign "$B" --key "$PKI/signer-rsa.key" --cert "$PKI/signer-rsa.pem" \
    --chain "$PKI/chain.pem"
ok "no-TSA signature covers events 1-6" grep -q "0006-robert-roe.p7s" "$OUT"
expect_exit 0 "$EVIDENCE" timestamp "$B" --tsa-url "$TSA/"
ok "timestamp picks the newest signature without a token" grep -q "0006-robert-roe.tsr" "$OUT"
expect_exit 3 "$EVIDENCE" timestamp "$B" --tsa-url "$TSA/"
expect_stderr "every signature in the bundle has a timestamp token already"
# a query for a named signature that has a token already
expect_exit 3 "$EVIDENCE" timestamp "$B" --tsa-query "$T/q2.tsq" \
    --signature signatures/0001-jane-smith.p7s
ok "no query written" test ! -e "$T/q2.tsq"

# Everything still verifies; the bag itself too.
expect_exit 0 "$EVIDENCE" verify --json "$B" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem" \
    --crl "$PKI/crl.pem"
ok "4 signatures, all valid" python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["signatures"]; assert s["present"] == 4 and s["verdict"] == "valid", s' "$OUT"

# A folder bundle works the same.
D="$T/folder"
make_bundle "$D" --format dir
expect_exit 0 "$EVIDENCE" sign "$D" --key "$PKI/signer.key" --cert "$PKI/signer.pem" \
    --chain "$PKI/chain.pem" --tsa-url "$TSA/"
ok "folder: files written" test -f "$D/signatures/0001-jane-smith.p7s" -a -f "$D/signatures/0001-jane-smith.tsr"
expect_exit 0 "$EVIDENCE" verify "$D" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem"

# Signing again after a change adds the next signature; nothing is overwritten.
expect_exit 0 "$EVIDENCE" custody add "$D" --action note --actor "X" --org "Y"
expect_exit 0 "$EVIDENCE" sign "$D" --key "$PKI/signer.key" --cert "$PKI/signer.pem" \
    --chain "$PKI/chain.pem"
ok "folder: second signature of the same signer" test -f "$D/signatures/0003-jane-smith.p7s" -a -f "$D/signatures/0001-jane-smith.p7s"
expect_exit 0 "$EVIDENCE" verify "$D" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem"
finish
