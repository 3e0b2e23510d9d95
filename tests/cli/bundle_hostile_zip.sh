# Hostile bundles (tests/tools/hostile_zip.py): unsafe names (absolute,
# "..", backslashes, NUL, drive letters, control characters, "~"), symlink
# and special entries, duplicates and case/normalization collisions, sizes
# that lie, ZIP bombs, encrypted and unknown-method entries, very deep and
# very long names, no top folder or two, truncated and empty ZIPs; and a
# folder bag with a symlink pointing outside. For each: the exact exit code
# of verify and extract, the problem code, no crash (ASan/UBSan), a bounded
# run time, and nothing written outside DEST.
. "$(dirname "$0")/lib.sh"

CANARY="$T/canary"
mkdir -p "$CANARY"

# hostile CASE VERIFY_EXIT EXTRACT_EXIT [CODE PATH]...
hostile() {
    local c=$1 vexit=$2 xexit=$3
    shift 3
    local z="$T/$c.zip" sb="$T/sb/$c"
    python3 "$TOOLS/hostile_zip.py" "$c" "$z" "$CANARY" || {
        fail "hostile_zip.py could not write $c"
        return
    }
    # timeout: a hang guard only (a bomb or a loop would never end), not a
    # measure of speed; this machine is shared, so no wall time is asserted
    expect_exit "$vexit" timeout 120 "$EVIDENCE" verify --json "$z"
    if [ "$vexit" -ne 3 ]; then
        local args=() i=1
        for a in "$@"; do
            args+=("$a")
            [ $((i % 2)) -eq 0 ] && args+=(error)
            i=$((i + 1))
        done
        local verdict=invalid
        [ "$vexit" -eq 0 ] && verdict=valid
        python3 "$TOOLS/evjson.py" check "$OUT" "$verdict" "${args[@]}" >"$T/check.txt" 2>&1 &&
            pass || fail "$c: $(cat "$T/check.txt")"
    else
        # unreadable: said in the JSON (and on stderr when the ZIP cannot be opened)
        python3 "$TOOLS/evjson.py" check "$OUT" unreadable >"$T/check.txt" 2>&1 &&
            pass || fail "$c: $(cat "$T/check.txt")"
    fi
    mkdir -p "$sb/x"
    expect_exit "$xexit" timeout 120 "$EVIDENCE" extract "$z" "$sb/x/dest"
    [ "$xexit" -ne 0 ] && expect_message
    only_dest_in "$sb" "$sb/x/dest"
    # no links, no special files, no bomb output in DEST
    if [ -d "$sb/x/dest" ]; then
        local odd size
        odd=$(find "$sb/x/dest" ! -type f ! -type d | head -3)
        [ -z "$odd" ] && pass || fail "$c: extract made non-regular files: $odd"
        size=$(du -sk "$sb/x/dest" | cut -f1)
        [ "$size" -le 20480 ] && pass || fail "$c: extract wrote $size KiB"
        # a partial file never stays behind
        odd=$(find "$sb/x/dest" -name '*partial*' | head -3)
        [ -z "$odd" ] && pass || fail "$c: temporary files left in DEST: $odd"
        # anything extracted as data/a.txt is the good payload
        if [ -f "$sb/x/dest/data/a.txt" ]; then
            [ "$(cat "$sb/x/dest/data/a.txt")" = "good payload" ] && pass ||
                fail "$c: data/a.txt extracted with the wrong content"
        fi
    fi
    local left
    left=$(find "$CANARY" "$T" -maxdepth 1 -name 'canary-*' | head -3)
    [ -z "$left" ] && pass || fail "$c: wrote outside the destination: $left"
}

hostile valid 0 0
# names
hostile abs-path 1 1 unsafe-path "$CANARY/canary-abs"
hostile dotdot 1 1 unsafe-path "bag/../canary-dotdot" unsafe-path "../canary-dotdot2" \
    unsafe-path "bag/data/../../canary-dotdot3"
hostile dotdot-listed 1 1 unsafe-path "bag/data/../../canary-listed" manifest-unsafe-path manifest-sha256.txt
hostile backslash 1 1 unsafe-path 'bag/data/x\y.txt'
hostile nul-name 1 1 unsafe-path ""
hostile drive-letter 1 1 unsafe-path "C:/canary-drive"
hostile control-chars 1 1 unsafe-path ""
hostile tilde 1 1 unsafe-path "~/canary-tilde"
# not valid UTF-8: that one entry is refused (shown with \xHH), not the bundle
hostile invalid-utf8-name 1 1 unsafe-path 'bag/data/\xFF\xFE.txt'
# entry types
hostile symlink 1 1 unsafe-entry-type data/link
hostile symlink-listed 1 1 unsafe-entry-type data/link
hostile symlink-escape 1 1 unsafe-entry-type data/d
hostile special-file 1 1 unsafe-entry-type data/fifo
# duplicates and collisions
hostile duplicate 1 1 duplicate-entry data/a.txt
hostile duplicate-first-evil 1 1 duplicate-entry data/a.txt
hostile case-collision 1 1 case-collision data/A.txt
hostile normalization-collision 1 1 normalization-collision ""
# sizes that lie, bombs, unreadable entries
hostile stored-size-lie 1 1 zip-size-mismatch data/a.txt
hostile deflate-longer-than-claimed 1 1 unreadable data/a.txt
hostile deflate-shorter-than-claimed 1 1 unreadable data/a.txt
hostile csize-beyond-file 1 1 zip-size-mismatch data/a.txt
hostile crc-wrong 1 1 "unreadable|modified" data/a.txt
hostile huge-claim 1 1 "zip-size-mismatch|zip-bomb" data/huge.bin
hostile bomb 1 1 zip-bomb data/zeros.bin
hostile bomb-listed 1 1 zip-bomb data/zeros.bin
hostile bomb-lying 1 1 unreadable data/zeros.bin
hostile encrypted 1 1 unreadable data/a.txt
hostile unknown-method 1 1 unreadable data/a.txt
# a valid bag whose names the file system cannot hold: verify is fine,
# extract fails naming the file
hostile deep-path 0 1
hostile long-component 0 1
# local headers that disagree with the central directory (unzip -t rejects
# most of them; a lying data descriptor it lets pass)
hostile local-name 1 1 zip-local-name-mismatch data/a.txt
hostile local-method 1 1 zip-local-method-mismatch data/a.txt
hostile local-crc 1 1 zip-local-crc-mismatch data/a.txt
hostile local-size 1 1 zip-local-size-mismatch data/a.txt
hostile local-flags 1 1 zip-local-flags-mismatch data/a.txt
hostile local-extra 1 1 zip-local-extra-invalid data/a.txt
hostile local-signature 1 1 zip-local-header-missing data/a.txt
# fields that change what the bytes mean, or make unzip -t skip the entry
hostile dir-csize-beyond-file 1 1 zip-size-mismatch data
hostile file-mode-dir 1 1 zip-mode-mismatch data/a.txt
hostile version-needed-high 1 1 zip-version-unsupported data/a.txt
hostile flag-bit5 1 1 zip-flags-unsupported data/a.txt
hostile flag-bit13 1 1 zip-flags-unsupported data/a.txt
# a local header whose time differs: the bytes are right, one header was
# changed: valid, with a warning
hostile local-time 0 0
expect_exit 0 "$EVIDENCE" verify --json "$T/local-time.zip"
expect_problem "$OUT" zip-local-field-mismatch data/a.txt warning
# a file type no system defines: refused like special files
hostile mode-undefined-type 1 1 unsafe-entry-type data/a.txt
# header fields that change nothing read but that were changed: valid, with
# a warning each (the mode lost its file type, version made by or internal
# attributes no writer gives, a mode other than the one evidence writes in a
# ZIP written like evidence writes, local and central extra fields or flags
# that disagree)
warned() {
    local c=$1 code=$2
    hostile "$c" 0 0
    expect_exit 0 "$EVIDENCE" verify --json "$T/$c.zip"
    expect_problem "$OUT" "$code" data/a.txt warning
}
warned mode-no-type zip-mode-no-type
warned made-by-host zip-header-unusual
warned made-by-version zip-header-unusual
warned internal-attr zip-header-unusual
warned ours-perm zip-header-unusual
warned ours-made-by zip-header-unusual
warned local-ut-mtime zip-local-field-mismatch
warned local-ut-flags zip-local-field-mismatch
warned central-ut-missing zip-local-field-mismatch
warned local-ux-differs zip-local-field-mismatch
hostile local-deflate-option 0 0
expect_exit 0 "$EVIDENCE" verify --json "$T/local-deflate-option.zip"
expect_problem "$OUT" zip-local-field-mismatch manifest-sha256.txt warning
hostile zip64-eocd-version 0 0
expect_exit 0 "$EVIDENCE" verify --json "$T/zip64-eocd-version.zip"
expect_problem "$OUT" zip-header-unusual "" warning
# ...and the same fields as ordinary writers give them: no problem at all
# (zip -r: modes as found on disk, the text bit, UT and ux; python's
# writestr: files with no file type; evidence's own writer; a ZIP64 end
# record)
for c in foreign-attrs foreign-untyped ours-valid zip64-eocd-ok; do
    hostile "$c" 0 0
    expect_exit 0 "$EVIDENCE" verify --json "$T/$c.zip"
    probs=$(python3 "$TOOLS/evjson.py" problems "$OUT")
    [ -z "$probs" ] && pass || fail "$c: problems reported for an ordinary ZIP: $probs"
done
hostile descriptor-ok 0 0
hostile descriptor-lie 1 1 zip-data-descriptor-mismatch data/a.txt
# entries no manifest lists (the seal is one) are read to the end as well
hostile unlisted-crc-wrong 1 1 tag-modified notes.txt
hostile unlisted-deflate-broken 1 1 unreadable tagseal-sha256.txt
# entries that share bytes (the "better zip bomb": 250 entries over one
# deflate kernel, 260 MB declared in a 30 KB file), run into the central
# directory, or start outside the file (ZIP64): refused as a whole, exit 3
# (never 4, which says "local failure, retry")
hostile overlap-bomb 3 3
hostile overlap-same-header 3 3
hostile overlap-central 3 3
hostile zip64-offset-lie 3 3
hostile zip64-eocd-lie 3 3
for c in zip64-offset-lie zip64-eocd-lie overlap-bomb; do
    expect_exit 3 "$EVIDENCE" extract --json "$T/$c.zip" "$T/json-x-$c"
    ok "$c: extract --json says unreadable" python3 "$TOOLS/evjson.py" check "$OUT" unreadable
    [ ! -e "$T/json-x-$c" ] && pass || fail "$c: extract created DEST"
done
# bytes that no checksum covers: valid, with a warning naming them
for c in dir-with-data prepended-stub appended-data big-comment; do
    hostile "$c" 0 0
    expect_exit 0 "$EVIDENCE" verify --json "$T/$c.zip"
    expect_problem "$OUT" zip-uncovered-bytes "" warning
done

# not a single top folder (bundle.h: ev_bundle_open gives EV_EFORMAT)
hostile no-top-folder 3 3
hostile two-top-folders 3 3
hostile top-level-file 3 3
hostile empty-zip 3 3

# --- truncated, damaged and non-ZIP files --------------------------------------------
mkdir -p "$T/src"
head -c 100000 /dev/urandom >"$T/src/blob.bin"
echo text >"$T/src/t.txt"
expect_exit 0 "$EVIDENCE" pack -o "$T/good.zip" "$T/src" || die "pack failed"
size=$(stat -c %s "$T/good.zip")
n=0
for cut in 0 100 $((size / 2)) $((size - 200)) $((size - 22)) $((size - 1)); do
    n=$((n + 1))
    head -c "$cut" "$T/good.zip" >"$T/cut$n.zip"
    expect_exit 3 timeout 60 "$EVIDENCE" verify "$T/cut$n.zip" && expect_message
    expect_exit 3 timeout 60 "$EVIDENCE" extract "$T/cut$n.zip" "$T/cutx$n"
    # inspect of a damaged .zip says so (exit 3), not a description of a media file
    expect_exit 3 timeout 60 "$EVIDENCE" inspect --json "$T/cut$n.zip" &&
        ok "inspect of a damaged ZIP names the damage" grep -q "truncated" "$ERR"
done
# the end record claims a central directory beyond the file
python3 - "$T/good.zip" "$T/cd-lie.zip" <<'EOF'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
i = d.rfind(b"PK\x05\x06")
d[i + 16:i + 20] = (len(d) * 4).to_bytes(4, "little")
open(sys.argv[2], "wb").write(d)
EOF
expect_exit 3 timeout 60 "$EVIDENCE" verify "$T/cd-lie.zip" && expect_message
printf 'this is not a zip\n' >"$T/text.zip"
expect_exit 3 "$EVIDENCE" verify "$T/text.zip" && expect_message
expect_exit 3 "$EVIDENCE" verify "$T/does-not-exist.zip" && expect_message
mkfifo "$T/fifo.zip"
expect_exit 3 timeout 60 "$EVIDENCE" verify "$T/fifo.zip" && expect_message

# --- a size written as 31.0 in evidence.json is quoted as written (not "-1") ----------
mkdir -p "$T/s31"
printf '0123456789012345678901234567890' >"$T/s31/f.txt"
expect_exit 0 "$EVIDENCE" pack --format dir -o "$T/s31bag" "$T/s31" || die "pack failed"
python3 - "$T/s31bag/evidence.json" <<'EOF'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
for it in d["items"]:
    if it.get("size") == 31:
        it["size"] = 31.0
open(p, "w").write(json.dumps(d))
EOF
expect_exit 1 "$EVIDENCE" verify --json "$T/s31bag"
expect_problem "$OUT" record-size-mismatch "" error
ok "a size of 31.0 is quoted as written" grep -q 'a size of 31.0' "$OUT"
ok "no size is made up as -1" bash -c "! grep -q -- '-1 bytes' '$OUT'"

# --- a folder bag with a symlink out of the bag --------------------------------------
python3 "$TOOLS/mkbag.py" valid-basic "$T/fbag" || die "mkbag failed"
mkfifo "$T/outside-fifo"
ln -s "$T/outside-fifo" "$T/fbag/data/link"
# listed in the manifest as if it were a file
printf '%s  data/link\n' "$(printf '' | sha256sum | cut -d' ' -f1)" >>"$T/fbag/manifest-sha256.txt"
expect_exit 1 timeout 60 "$EVIDENCE" verify --json "$T/fbag" &&
    ok "symlink in a folder bag" python3 "$TOOLS/evjson.py" check "$OUT" invalid unsafe-entry-type data/link error
mkdir -p "$T/sb2/x"
expect_exit 1 timeout 60 "$EVIDENCE" extract "$T/fbag" "$T/sb2/x/dest"
only_dest_in "$T/sb2" "$T/sb2/x/dest"
[ -z "$(find "$T/sb2/x/dest" -type l)" ] && pass || fail "extract copied a symlink"
# a symlinked folder inside the bag is not followed either
rm "$T/fbag/data/link"
mkdir -p "$T/elsewhere"
echo secret >"$T/elsewhere/secret.txt"
ln -s "$T/elsewhere" "$T/fbag/data/linkdir"
expect_exit 1 timeout 60 "$EVIDENCE" verify --json "$T/fbag" &&
    ok "folder symlink in a folder bag" python3 "$TOOLS/evjson.py" check "$OUT" invalid unsafe-entry-type data/linkdir error
lacks_problem "$OUT" "" data/linkdir/secret.txt || fail "verify looked inside a symlinked folder"

finish
