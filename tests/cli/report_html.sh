# evidence report: one verification as a self-contained HTML page.
# - a valid bundle gives exit 0 and a page that says VALID; a tampered one
#   exit 1 and a page that says INVALID and names the modified file; a file
#   that is not a bundle exit 3 and no page (no temporary left either);
# - the page holds no script and loads nothing (no <script>, no URL, no
#   link, no image, no @import), and hostile labels from the record
#   (<script>, quotes) are escaped;
# - capture facts keep their source and zone: a camera-local time with no
#   zone says "zone unknown" and never looks like UTC;
# - what was not checked is named (no --ca, no timestamp, no --deep);
# - signatures with --ca show the signer's subject and the timestamp;
# - --key/--cert write REPORT.html.p7s that stock openssl cms -verify
#   accepts, and that fails once the page changes;
# - headless Chromium renders the valid and the tampered page (screenshots,
#   their verdict colours checked) and prints them to PDF, whose text
#   (pdftotext) carries the verdict. Without a working Chromium or
#   pdftotext that part is skipped (exit 77 when all else passed);
# - the openssl check shown in docs/auditing.md runs as printed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign_env.sh"

command -v ffmpeg >/dev/null || { skip_case "ffmpeg missing"; finish; }
command -v exiftool >/dev/null || { skip_case "exiftool missing"; finish; }

sign_pki
tsa_start

# A photo whose EXIF has a local time (no offset) and hostile make/model,
# packed with a hostile case reference and officer.
mkdir -p "$T/in"
ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=64x48 -frames:v 1 \
    "$T/in/IMG_0001.jpg" || die "ffmpeg"
exiftool -q -overwrite_original -DateTimeOriginal="2024:05:01 10:20:30" \
    -Make='Evil "Cam"' -Model='<script>alert(1)</script>' "$T/in/IMG_0001.jpg" || die "exiftool"
B="$T/CASE-1.zip"
"$EVIDENCE" pack -o "$B" --case '23/1234 <script>alert("case")</script>' --exhibit JS/1 \
    --officer "Jane O'Smith" --org 'Test <Police>' "$T/in/IMG_0001.jpg" >/dev/null || die "pack"

# --- a valid bundle --------------------------------------------------------
R="$T/valid.html"
expect_exit 0 "$EVIDENCE" report "$B" -o "$R"
ok "the report was written" test -s "$R"
ok "stdout names the verdict" grep -q "valid.html: report of .*CASE-1.zip: valid" "$OUT"
ok "the page says VALID" grep -q 'Verdict: VALID' "$R"
# no script, nothing loaded from anywhere
ok "no <script> element in the page" bash -c "! grep -qi '<script' '$R'"
ok "no URL, link, image, frame, object or import in the page" \
    bash -c "! grep -Eqi 'https?:|ftp:|file:|data:|//[a-z0-9]|<link|<img|<iframe|<object|<embed|<base|src=|href=|url\\(|@import' '$R'"
ok "a Content-Security-Policy that forbids everything else" \
    grep -q "content=\"default-src 'none'; style-src 'unsafe-inline'\"" "$R"
ok "only inline CSS" test "$(grep -c '<style>' "$R")" -eq 1
# hostile strings arrive escaped
ok "the hostile model is escaped" grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$R"
ok "the hostile case is escaped" grep -q '23/1234 &lt;script&gt;alert(&quot;case&quot;)' "$R"
ok "quotes in the make are escaped" grep -q 'Evil &quot;Cam&quot;' "$R"
ok "the officer's apostrophe is escaped (custody log)" grep -q "Jane O&#39;Smith" "$R"
# what, when, by what, on which file
ok "the bundle file's SHA-256" grep -q "$(sha256sum "$B" | cut -c1-64)" "$R"
ok "the tool and its version" grep -q "evidence $("$EVIDENCE" --version | sed -n '1s/^evidence //p')" "$R"
ok "the libraries" grep -q 'libevidence .*libavformat .*openssl' "$R"
ok "the check time (UTC)" grep -Eq 'checked at</th><td>20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z' "$R"
# the item, its hashes and its capture facts with their sources
item_sha=$(unzip -p "$B" 'CASE-1/data/JS_1/IMG_0001.jpg' | sha256sum | cut -c1-64)
ok "the item's SHA-256" grep -q "$item_sha" "$R"
ok "the local time is shown as camera-local, zone unknown" \
    grep -q '2024-05-01T10:20:30 <strong>camera-local time, zone unknown</strong>' "$R"
ok "the local time never looks like UTC" bash -c "! grep -Eq '2024-05-01T10:20:30(Z|\\+00:00)' '$R'"
ok "the capture time's source" grep -q 'zone unknown.*</td><td class="src">exif:ExifIFD</td>' "$R"
ok "the make's source" grep -q 'Evil &quot;Cam&quot;</td><td class="src">exif:IFD0</td>' "$R"
# what was not checked, and why
ok "deep checks: not asked" grep -q 'Deep content checks: not asked' "$R"
ok "signatures: none in the bundle" grep -q 'Signatures: the bundle holds none' "$R"
ok "derivations: nothing to check" grep -q 'nothing to check' "$R"
ok "every check passed" test "$(grep -c '<span class="pass">passed</span>' "$R")" -eq 7

# --json: the verify document, the same as verify --json (but the time)
expect_exit 0 "$EVIDENCE" report "$B" -o "$T/j.html" --json
cp "$OUT" "$T/report.json"
expect_exit 0 "$EVIDENCE" verify --json "$B"
ok "--json prints the verify document" cmp -s "$OUT" "$T/report.json"
# --quiet: nothing on stdout
expect_exit 0 "$EVIDENCE" --quiet report "$B" -o "$T/q.html"
ok "--quiet prints nothing" test ! -s "$OUT"
# --deep: the deep checks ran
expect_exit 0 "$EVIDENCE" report --deep "$B" -o "$T/deep.html"
ok "--deep: the deep content checks passed" \
    grep -q 'Deep content checks</td><td><span class="pass">passed' "$T/deep.html"
ok "--deep: not listed as not checked" bash -c "! grep -q 'Deep content checks: not asked' '$T/deep.html'"

# an existing report is not replaced without --force
before=$(sha256sum < "$R")
expect_exit 3 "$EVIDENCE" report "$B" -o "$R"
ok "says it exists" grep -q "exists already" "$ERR"
ok "the old report is untouched" test "$(sha256sum < "$R")" = "$before"
expect_exit 0 "$EVIDENCE" report "$B" -o "$R" --force
# usage errors
expect_exit 2 "$EVIDENCE" report "$B"
expect_exit 2 "$EVIDENCE" report "$B" -o "$T/u.html" --fast --deep
expect_exit 2 "$EVIDENCE" report "$B" -o "$T/u.html" --key "$PKI/signer.key"
ok "no report after usage errors" test ! -e "$T/u.html"

# --- a tampered bundle -----------------------------------------------------
BT="$T/CASE-1-tampered.zip"
python3 - "$B" "$BT" <<'EOF' || die "tamper"
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w") as zo:
    for info in zi.infolist():
        data = zi.read(info)
        if info.filename.endswith("IMG_0001.jpg"):
            data = data[:200] + bytes([data[200] ^ 1]) + data[201:]
        zo.writestr(info, data)
EOF
RT="$T/tampered.html"
expect_exit 1 "$EVIDENCE" report "$BT" -o "$RT"
ok "the report of a tampered bundle is written" test -s "$RT"
ok "stdout says INVALID" grep -q "report of .*tampered.zip: INVALID" "$OUT"
ok "the page says INVALID" grep -q 'Verdict: INVALID' "$RT"
ok "the payload check failed" grep -q 'Payload manifests</td><td><span class="fail">FAILED' "$RT"
ok "the problem names the file" grep -q '<td class="code">modified</td><td>data/JS_1/IMG_0001.jpg</td>' "$RT"
ok "the item's file check says modified" grep -q 'MODIFIED: differs from its manifest' "$RT"
ok "the tampered report holds no script either" bash -c "! grep -qi '<script' '$RT'"

# --- a folder bundle: no file hash, said so ---------------------------------
"$EVIDENCE" pack --format dir -o "$T/FOLDER" --exhibit JS/1 "$T/in/IMG_0001.jpg" >/dev/null ||
    die "pack --format dir"
expect_exit 0 "$EVIDENCE" report "$T/FOLDER" -o "$T/folder.html"
ok "a folder has no file SHA-256, and the page says why" \
    grep -q 'none: a folder is not one file' "$T/folder.html"
ok "a folder bundle's report says VALID" grep -q 'Verdict: VALID' "$T/folder.html"

# --- a file that is not a bundle: an error and no report ------------------
head -c 3000 /dev/urandom > "$T/junk.zip"
expect_exit 3 "$EVIDENCE" report "$T/junk.zip" -o "$T/junk.html"
ok "an error is printed" test -s "$ERR"
ok "no report is left" test ! -e "$T/junk.html"
ok "no temporary is left" bash -c "! ls -A '$T' | grep -q 'junk.html.partial'"
expect_exit 3 "$EVIDENCE" report "$T/nonexistent.zip" -o "$T/none.html"
ok "no report for a missing bundle" test ! -e "$T/none.html"
# an unusable --ca: no report that would say less than asked
expect_exit 3 "$EVIDENCE" report "$B" -o "$T/badca.html" --ca "$T/nonexistent.pem"
ok "no report with an unusable --ca" test ! -e "$T/badca.html"

# --- signatures in the bundle ---------------------------------------------
BS="$T/CASE-1-signed.zip"
cp "$B" "$BS"
"$EVIDENCE" sign "$BS" --key "$PKI/signer.key" --cert "$PKI/signer.pem" --chain "$PKI/chain.pem" \
    --tsa-url "$TSA/" >/dev/null || die "sign with a timestamp"
"$EVIDENCE" sign "$BS" --key "$PKI/signer-rsa.key" --cert "$PKI/signer-rsa.pem" \
    --chain "$PKI/chain.pem" >/dev/null || die "sign without a timestamp"
expect_exit 0 "$EVIDENCE" report "$BS" -o "$T/signed-noca.html"
ok "without --ca: the signers are said not to be checked" \
    grep -q 'who signed was not checked, because no trust anchors were given (--ca' \
    "$T/signed-noca.html"
ok "without --ca: each signature unverified" \
    test "$(grep -c '<span class="warn">unverified</span>' "$T/signed-noca.html")" -eq 2
expect_exit 0 "$EVIDENCE" report "$BS" -o "$T/signed.html" --ca "$PKI/root-ca.pem" \
    --tsa-ca "$PKI/tsa-root.pem"
ok "with --ca: both signatures valid" \
    test "$(grep -c '<span class="pass">valid</span>' "$T/signed.html")" -eq 2
ok "the signer's certificate subject" grep -q 'CN=Jane Smith' "$T/signed.html"
ok "the second signer's subject" grep -q 'CN=Robert Roe' "$T/signed.html"
ok "the timestamp time and TSA" \
    grep -Eq 'timestamp</th><td>20[0-9-]{8}T[0-9:]{8}Z by .*(the TSA chains to a trusted root)' \
    "$T/signed.html"
ok "the signature without a token is named as not timestamped" \
    grep -q 'Timestamp of signatures/0002-robert-roe.p7s: there is none' "$T/signed.html"
ok "signatures: the events each covers" \
    grep -q 'custody events 1 to 1<.*custody events 1 to 2<' <(tr -d '\n' < "$T/signed.html")

# --- the report signed like a bundle --------------------------------------
RS="$T/signed-report.html"
expect_exit 0 "$EVIDENCE" report "$B" -o "$RS" --key "$PKI/signer.key" --cert "$PKI/signer.pem" \
    --chain "$PKI/chain.pem"
ok "the signature is written beside the report" test -s "$RS.p7s"
expect_exit 0 openssl cms -verify -binary -content "$RS" -in "$RS.p7s" -inform DER \
    -CAfile "$PKI/root-ca.pem" -purpose any -out /dev/null
ok "openssl accepts the report's signature" grep -q "Verification successful" "$ERR"
cp "$RS" "$T/changed.html"
sed -i 's/Verdict: VALID/Verdict: VALLD/' "$T/changed.html"
expect_exit 4 openssl cms -verify -binary -content "$T/changed.html" -in "$RS.p7s" -inform DER \
    -CAfile "$PKI/root-ca.pem" -purpose any -out /dev/null
ok "openssl refuses a changed report" grep -q "Verification failure" "$ERR"
# a bad key: no report and no signature
expect_exit 3 "$EVIDENCE" report "$B" -o "$T/badkey.html" --key "$PKI/signer-rsa.key" \
    --cert "$PKI/signer.pem"
ok "no report with a key that does not match" test ! -e "$T/badkey.html" -a ! -e "$T/badkey.html.p7s"
# a tampered bundle's report can be signed too
expect_exit 1 "$EVIDENCE" report "$BT" -o "$T/tampered-signed.html" --key "$PKI/signer.key" \
    --cert "$PKI/signer.pem" --chain "$PKI/chain.pem"
ok "the tampered report's signature verifies" openssl cms -verify -binary -inform DER \
    -content "$T/tampered-signed.html" -in "$T/tampered-signed.html.p7s" \
    -CAfile "$PKI/root-ca.pem" -purpose any -out /dev/null 2>/dev/null

# --- the check shown in docs/auditing.md, as printed -----------------------
mkdir -p "$T/doc"
expect_exit 0 python3 "$TOOLS/doccmds.py" extract "$EV_SOURCE_DIR" docs/auditing.md \
    tests/cli/report_html.sh "$T/doc"
ok "docs/auditing.md has the report's blocks" test -s "$T/doc/01.sh"
mkdir -p "$T/docwork"
cp "$BS" "$T/docwork/CASE-1.zip"
cp "$PKI/root-ca.pem" "$T/docwork/ca.pem"
cp "$PKI/tsa-root.pem" "$T/docwork/tsa-ca.pem"
cp "$PKI/signer.key" "$T/docwork/signer.key"
cp "$PKI/signer.pem" "$T/docwork/signer.pem"
cp "$PKI/chain.pem" "$T/docwork/chain.pem"
mkdir -p "$T/docbin"
ln -sf "$(cd "$(dirname "$EVIDENCE")" && pwd)/$(basename "$EVIDENCE")" "$T/docbin/evidence"
for blk in "$T"/doc/*.sh; do
    expect_exit 0 env PATH="$T/docbin:$PATH" bash -c "cd '$T/docwork' && bash '$blk'"
done
ok "the documented openssl check succeeds" grep -q "Verification successful" "$ERR"

# --- headless Chromium: screenshots and PDF --------------------------------
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
chrome() {
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-extensions --disable-background-networking --disable-sync \
        --hide-scrollbars --user-data-dir="$T/chrome-profile" "$@"
}
if [ -z "$CHROMIUM" ]; then
    skip_case "chromium is not installed (apt-get install chromium): no screenshots"
elif ! chrome --dump-dom "file://$R" >"$T/dom.txt" 2>"$T/chrome.log" ||
    ! grep -q 'Verdict: VALID' "$T/dom.txt"; then
    skip_case "chromium cannot run here: $(tail -n 3 "$T/chrome.log" | tr '\n' ' ')"
elif ! command -v pdftotext >/dev/null; then
    skip_case "pdftotext missing (apt-get install poppler-utils): no PDF check"
else
    # pixel colours of a screenshot: tests/tools/pngpixels.py
    for kind in valid tampered; do
        html="$T/$kind.html"
        expect_exit 0 chrome --window-size=1100,1400 --screenshot="$T/$kind.png" "file://$html"
        ok "$kind: a screenshot was made" test -s "$T/$kind.png"
        expect_exit 0 chrome --no-pdf-header-footer --print-to-pdf="$T/$kind.pdf" "file://$html"
        ok "$kind: a PDF was printed" test -s "$T/$kind.pdf"
        expect_exit 0 pdftotext -layout "$T/$kind.pdf" "$T/$kind.txt"
    done
    # keep the screenshots where CI can collect them
    if [ -n "${EV_REPORT_SHOTS:-}" ]; then
        mkdir -p "$EV_REPORT_SHOTS" && cp "$T"/valid.png "$T"/tampered.png "$T"/*.pdf \
            "$EV_REPORT_SHOTS/"
    fi
    ok "PDF of the valid bundle says VALID" grep -q 'Verdict: VALID' "$T/valid.txt"
    ok "PDF of the tampered bundle says INVALID" grep -q 'Verdict: INVALID' "$T/tampered.txt"
    ok "PDF of the tampered bundle names the modified file" \
        grep -q 'data/JS_1/IMG_0001.jpg' "$T/tampered.txt"
    ok "PDF: the local time says zone unknown" \
        grep -q '2024-05-01T10:20:30 camera-local time, *zone unknown' <(pdftotext "$T/valid.pdf" - | tr '\n' ' ')
    ok "PDF: the escaped script is shown as text" grep -q '<script>alert(1)</script>' "$T/valid.txt"
    ok "PDF is A4 with more than one page" bash -c "pdfinfo '$T/valid.pdf' | grep -q 'Pages: *[2-9]' &&
        pdfinfo '$T/valid.pdf' | grep -q 'Page size: *59[0-9]'"
    # the verdict box is green on the valid page, red on the tampered one,
    # and neither page is blank
    read -r w h green ink _ < <(python3 "$TOOLS/pngpixels.py" "$T/valid.png" 0a5d1c)
    ok "valid screenshot: 1100x1400 with text on it" test "$w" -eq 1100 -a "$h" -eq 1400 -a "$ink" -gt 20000
    ok "valid screenshot: a green verdict" test "$green" -gt 1500
    read -r w h red ink _ < <(python3 "$TOOLS/pngpixels.py" "$T/valid.png" 9b0d0d)
    ok "valid screenshot: nothing red" test "$red" -lt 50
    read -r w h red ink _ < <(python3 "$TOOLS/pngpixels.py" "$T/tampered.png" 9b0d0d)
    ok "tampered screenshot: a red verdict" test "$red" -gt 1500
fi

finish
