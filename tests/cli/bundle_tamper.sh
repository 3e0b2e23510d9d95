# Tampering is always caught. One byte is flipped (XOR 0x01) at 8 spread
# offsets, first and last byte included, in every payload file and every tag
# file of a folder bundle, and in the stored bytes of every payload entry of
# the same bundle as a ZIP; each flip must make `verify` exit 1 with an
# error naming the flipped file (for a tag manifest, the tag manifest). See
# tests/tools/flip.py. Then a few whole-file tamperings: truncation,
# appended bytes, a removed custody event, and a forger who re-hashes the
# manifests, tag manifest and seal.
. "$(dirname "$0")/lib.sh"

IN="$T/in"
mkdir -p "$IN/sub"
head -c 2000000 /dev/urandom >"$IN/sub/blob.bin"   # > 1 MiB: read ahead by a thread
printf 'Interview notes\nsecond line\n' >"$IN/notes.txt"
printf 'x' >"$IN/one-byte"
if command -v ffmpeg >/dev/null 2>&1; then
    # media gets per-frame hash lists under meta/: more tag files to flip
    ffmpeg -nostdin -loglevel error -f lavfi -i sine=frequency=440:duration=0.1 "$IN/tone.wav" ||
        die "ffmpeg could not make a WAV"
fi
PACK=(--case CASE/1 --exhibit EX1 --officer "Jo Smith" --org "Test Force")

# sweep_result FILE: turn flip.py's lines into counted checks
sweep_result() {
    local line
    while IFS= read -r line; do
        case "$line" in
        ok\ *) pass ;;
        FAIL\ *) fail "flip: ${line#FAIL }" ;;
        NOTE\ *) note "flip: ${line#NOTE }" ;;
        esac
    done <"$1"
    grep -Eq '^[0-9]+ flips, [0-9]+ failed$' "$1" || fail "flip.py did not finish: $(tail -3 "$1")"
}

# --- folder form: every file -------------------------------------------------------
expect_exit 0 "$EVIDENCE" pack --format dir -o "$T/bag" "${PACK[@]}" "$IN" || die "pack failed"
python3 "$TOOLS/flip.py" sweep "$EVIDENCE" "$T/bag" >"$T/sweep-dir.txt" 2>&1
sweep_result "$T/sweep-dir.txt"
nflips=$(grep -Eo '^[0-9]+ flips' "$T/sweep-dir.txt" | cut -d' ' -f1)
[ "${nflips:-0}" -ge 60 ] && pass || fail "only ${nflips:-0} flips in the folder sweep"

# --- ZIP form: every payload entry ----------------------------------------------------
expect_exit 0 "$EVIDENCE" pack -o "$T/bag.zip" "${PACK[@]}" "$IN" || die "pack failed"
python3 "$TOOLS/flip.py" sweep "$EVIDENCE" "$T/bag.zip" --zip-payload >"$T/sweep-zip.txt" 2>&1
sweep_result "$T/sweep-zip.txt"

# --- whole-file tampering --------------------------------------------------------------
fresh() {
    rm -rf "$T/w"
    cp -a "$T/bag" "$T/w"
}
P=data/EX1/in

fresh
truncate -s 1000 "$T/w/$P/sub/blob.bin"
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "truncated payload" python3 "$TOOLS/evjson.py" check "$OUT" invalid \
        modified "$P/sub/blob.bin" error oxum-mismatch bag-info.txt error

fresh
printf 'more' >>"$T/w/$P/notes.txt"
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "appended payload" python3 "$TOOLS/evjson.py" check "$OUT" invalid modified "$P/notes.txt" error

fresh
printf 'Added-Later: yes\n' >>"$T/w/bag-info.txt"
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "appended bag-info.txt" python3 "$TOOLS/evjson.py" check "$OUT" invalid tag-modified bag-info.txt error

fresh
rm "$T/w/$P/one-byte"
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "removed payload file" python3 "$TOOLS/evjson.py" check "$OUT" invalid missing "$P/one-byte" error

fresh
mv "$T/w/$P/notes.txt" "$T/w/$P/sub/notes.txt"
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "moved payload file" python3 "$TOOLS/evjson.py" check "$OUT" invalid \
        missing "$P/notes.txt" error extra "$P/sub/notes.txt" error

# a custody event added by hand, then the tag manifest and seal re-made:
# the chain (prev_sha256) breaks
fresh
printf '%s\n' '{"seq":2,"time":"2030-01-01T00:00:00Z","action":"note","actor":"x","organisation":"y","tool":"evidence","tool_version":"0","manifest_sha256":"","record_sha256":"","prev_sha256":"0000"}' >>"$T/w/custody.jsonl"
python3 - "$T/w" <<'EOF'
import hashlib, os, sys
bag = sys.argv[1]
def sha(p): return hashlib.sha256(open(os.path.join(bag, p), "rb").read()).hexdigest()
tm = os.path.join(bag, "tagmanifest-sha256.txt")
lines = [l.split("  ", 1) for l in open(tm).read().splitlines()]
open(tm, "w").write("".join("%s  %s\n" % (sha(p), p) for _, p in lines))
open(os.path.join(bag, "tagseal-sha256.txt"), "w").write("%s  tagmanifest-sha256.txt\n" % sha("tagmanifest-sha256.txt"))
EOF
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "forged custody event" python3 "$TOOLS/evjson.py" check "$OUT" invalid custody-chain-broken custody.jsonl error

# a forger replaces a payload file and re-hashes everything he can: manifest,
# evidence.json sizes/hashes stay, tag manifest and seal are re-made. The
# record and the custody log (which hold the manifest's SHA-256) catch it.
fresh
head -c 2000000 /dev/urandom >"$T/w/$P/sub/blob.bin"
python3 - "$T/w" "$P/sub/blob.bin" <<'EOF'
import hashlib, os, sys
bag, target = sys.argv[1], sys.argv[2]
def sha(p): return hashlib.sha256(open(os.path.join(bag, p), "rb").read()).hexdigest()
m = os.path.join(bag, "manifest-sha256.txt")
out = []
for l in open(m).read().splitlines():
    h, p = l.split("  ", 1)
    out.append("%s  %s\n" % (sha(target) if p == target else h, p))
open(m, "w").write("".join(out))
tm = os.path.join(bag, "tagmanifest-sha256.txt")
lines = [l.split("  ", 1) for l in open(tm).read().splitlines()]
open(tm, "w").write("".join("%s  %s\n" % (sha(p), p) for _, p in lines))
open(os.path.join(bag, "tagseal-sha256.txt"), "w").write("%s  tagmanifest-sha256.txt\n" % sha("tagmanifest-sha256.txt"))
EOF
expect_exit 1 "$EVIDENCE" verify --json "$T/w" &&
    ok "re-hashed forgery" python3 "$TOOLS/evjson.py" check "$OUT" invalid \
        custody-manifest-mismatch manifest-sha256.txt error record-hash-mismatch "$P/sub/blob.bin" error

# --fast (sizes and lists only) still sees a changed size, and says it did not hash
fresh
truncate -s 10 "$T/w/$P/sub/blob.bin"
expect_exit 1 "$EVIDENCE" verify --fast --json "$T/w" &&
    ok "--fast sees a truncation" python3 "$TOOLS/evjson.py" check "$OUT" invalid oxum-mismatch bag-info.txt error
ok "--fast reports mode fast" test "$(json_get "$OUT" mode)" = fast

finish
