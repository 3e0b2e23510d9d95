# Every command shown in the documentation runs (tests/tools/doccmds.py):
# - every command block in README.md and docs/**/*.md is run here, or is
#   marked as run by another named test, or as skipped with a reason;
# - README.md's blocks and the help pages' examples run here, in order, as
#   printed, with `evidence` on PATH, in a folder holding the files they
#   name (photos/, interview.wav, clip.mp4, master.mp4, anyfile.mp4, test
#   keys and certificates, a local TSA standing in for tsa.example);
# - docs/auditing.md's step-by-step commands run as printed on a bundle
#   signed by "Jane Smith" after three custody events.
# A failure names the file and line of the block that failed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign_env.sh"

command -v ffmpeg >/dev/null || { skip_case "ffmpeg missing"; finish; }
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

expect_exit 0 python3 "$TOOLS/doccmds.py" check "$EV_SOURCE_DIR"
ok "every command block of the docs is run or marked" true

BIN="$T/bin"
mkdir -p "$BIN"
ln -s "$(cd "$(dirname "$EVIDENCE")" && pwd)/$(basename "$EVIDENCE")" "$BIN/evidence"
export PATH="$BIN:$PATH"

sign_pki
tsa_start

# --- the files the README and the help pages name -------------------------
W="$T/work"
mkdir -p "$W/photos" "$W/phone/DCIM"
ff -f lavfi -i testsrc2=size=64x48 -frames:v 1 "$W/photos/IMG_0001.jpg" || die "no jpg"
cp "$W/photos/IMG_0001.jpg" "$W/phone/DCIM/IMG_0002.jpg"
ff -f lavfi -i sine=sample_rate=16000 -t 1 -c:a pcm_s16le "$W/interview.wav" || die "no wav"
ff -f lavfi -i testsrc2=size=128x96:rate=25 -f lavfi -i sine=sample_rate=48000 -t 1 \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -b:a 32k "$W/clip.mp4" || die "no mp4"
cp "$W/clip.mp4" "$W/master.mp4"
# a file that meets the profile the README checks it against
"$EVIDENCE" transcode --profile working-copy-h264 "$W/clip.mp4" "$T/conforming.mp4" >/dev/null ||
    die "cannot make a conforming working copy"
cp "$T/conforming.mp4" "$W/anyfile.mp4"
cp "$PKI/signer.key" "$W/signer.key"
cp "$PKI/signer.pem" "$W/signer.pem"
cp "$PKI/root-ca.pem" "$W/roots.pem"
cp "$PKI/tsa-root.pem" "$W/tsa-roots.pem"
cp "$PKI/crl.pem" "$W/crl.pem"
# the issuing CA travels in the signature (the README's sign has no --chain)
cat "$PKI/chain.pem" >>"$W/roots.pem"

# run_doc FILE: its blocks in order, in $W, with tsa.example on this machine
run_doc() {
    python3 "$TOOLS/doccmds.py" script "$EV_SOURCE_DIR" "$1" |
        sed "s#http://tsa.example/tsr#$TSA/#g; s#http://tsa.example/#$TSA/#g" >"$T/doc.sh"
    (cd "$W" && bash "$T/doc.sh") >"$OUT" 2>"$ERR"
    RC=$?
    if [ "$RC" -eq 0 ]; then
        pass
    else
        fail "$1: block $(grep '^== ' "$ERR" | tail -1 | cut -c4-) failed (exit $RC)"
        show_last
    fi
}

run_doc README.md
ok "README: the bundle verified" grep -q "CASE-23-1234_JS-1.zip: valid" "$OUT"
ok "README: the working-copy bundle was signed and verifies with its roots" \
    grep -q "^CASE.zip: valid" "$OUT"
ok "README: extracted" test -d "$W/out"

for page in "$EV_SOURCE_DIR"/docs/cli/evidence.md "$EV_SOURCE_DIR"/docs/cli/evidence-*.md; do
    rel=docs/cli/$(basename "$page")
    grep -q '^Examples\?:' "$page" || continue
    rm -rf "$W"/CASE-23-1234*.zip "$W"/CASE-1.zip
    run_doc "$rel"
done

# --- docs/officer-guide.md, as an officer would type it ---------------------
rm -rf "$W"/CASE-23-1234*.zip "$W/handover-check"
run_doc docs/officer-guide.md
ok "officer guide: the bundle verified" grep -q "^CASE-23-1234.zip: valid" "$OUT"
ok "officer guide: the signature checked" grep -q "signature" "$OUT"
ok "officer guide: the custody chain is intact" grep -q "chain: intact" "$OUT"
ok "officer guide: the receipt was logged" grep -q "received.*B. Example" "$OUT"
ok "officer guide: the page was extracted" test -s "$W/handover-check/index.html"

# --- docs/auditing.md, step by step ---------------------------------------
A="$T/audit-work"
mkdir -p "$A"
"$EVIDENCE" pack -o "$A/CASE-1.zip" --case C-1 --exhibit JS/1 --officer "Jane Smith" \
    --org "Test Police" --no-media "$W/photos/IMG_0001.jpg" >/dev/null || die "pack"
for who in "Lab Clerk" "Exhibits Officer"; do
    "$EVIDENCE" custody add "$A/CASE-1.zip" --action received --actor "$who" --org Lab \
        >/dev/null || die "custody"
done
"$EVIDENCE" sign "$A/CASE-1.zip" --key "$PKI/signer.key" --cert "$PKI/signer.pem" \
    --chain "$PKI/chain.pem" --tsa-url "$TSA/" >/dev/null || die "sign"
mkdir -p "$A/audit/CASE-1"
cp "$PKI/root-ca.pem" "$A/audit/CASE-1/ca.pem"
cp "$PKI/signer.pem" "$A/audit/CASE-1/signer.pem"
cp "$PKI/tsa-root.pem" "$A/audit/CASE-1/tsa-ca.pem"
cp "$PKI/crl.pem" "$A/audit/CASE-1/crl.pem"
W="$A" run_doc docs/auditing.md
ok "auditing: openssl verified the signature" grep -q "CMS Verification successful\|Verification successful" "$ERR"
ok "auditing: openssl verified the token" grep -q "Verification: OK" "$OUT"

finish
