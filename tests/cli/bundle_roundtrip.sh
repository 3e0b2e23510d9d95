# Round trip, byte for byte: pack -> verify -> extract, as a ZIP and as a
# folder, compared with diff -r; the ZIP is also opened with Info-ZIP unzip
# and python's zipfile. Names with spaces (also leading and trailing), '%',
# Unicode in NFC and in NFD, CR and LF; 200+ character paths; a 255-byte
# name; empty files; sizes around the reader's 1 MiB buffers.
. "$(dirname "$0")/lib.sh"

SRC="$T/src/evid"     # names every unzip keeps
CTL="$T/src/ctrl"     # names with CR/LF (RFC 8493 allows them; Info-ZIP drops them)
mkdir -p "$SRC" "$CTL"
python3 - "$SRC" "$CTL" <<'EOF' || die "could not make the source tree"
import os, sys, unicodedata
src, ctl = sys.argv[1], sys.argv[2]
def put(root, rel, data):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
nfc = lambda s: unicodedata.normalize("NFC", s)
nfd = lambda s: unicodedata.normalize("NFD", s)
put(src, "with spaces.txt", b"spaces\n")
put(src, " leading space", b"lead\n")
put(src, "trailing space ", b"trail\n")
put(src, "  both  ", b"both\n")
put(src, "100% sure.txt", b"pct\n")
put(src, "%41 is not A", b"pct41\n")
put(src, "%2525", b"double\n")
put(src, nfc("nfc/caf\u00e9 cr\u00e8me.txt"), b"nfc\n")
put(src, nfd("nfd/caf\u00e9 cr\u00e8me.txt"), b"nfd\n")
put(src, "\u65e5\u672c\u8a9e/\u30d5\u30a1\u30a4\u30eb.txt", b"cjk\n")
put(src, "emoji \U0001F4F7.jpg", os.urandom(1000))
long_dir = "/".join(["segment-%02d-%s" % (i, "x" * 20) for i in range(8)])
put(src, long_dir + "/long name " + "y" * 40 + ".bin", os.urandom(5000))
put(src, "deep/" + "/".join("d%d" % i for i in range(40)) + "/leaf", b"leaf\n")
for i in range(3):
    put(src, "empty/e%d" % i, b"")
put(src, "sizes/1MiB-1", os.urandom((1 << 20) - 1))
put(src, "sizes/1MiB", os.urandom(1 << 20))
put(src, "sizes/1MiB+1", os.urandom((1 << 20) + 1))
put(src, "sizes/4MiB+7", os.urandom((4 << 20) + 7))
put(ctl, "line\nfeed", b"lf\n")
put(ctl, "carriage\rreturn", b"cr\n")
put(ctl, "both\r\nends\n", b"crlf\n")
EOF
longest=$(cd "$T/src" && find . -type f -printf '%P\n' | awk '{ if (length($0) > m) m = length($0) } END { print m }')
[ "$longest" -ge 200 ] || die "the longest source path is only $longest characters"
touch -d '2001-02-03 04:05:06' "$SRC/with spaces.txt"

# roundtrip FORMAT OUT
roundtrip() {
    local fmt=$1 out=$2 dest=$3
    expect_exit 0 "$EVIDENCE" pack --format "$fmt" -o "$out" "$SRC" "$CTL" || return
    expect_exit 0 "$EVIDENCE" verify "$out"
    expect_exit 0 "$EVIDENCE" verify --json "$out" &&
        ok "verify --json of $out" python3 "$TOOLS/evjson.py" check "$OUT" valid
    expect_exit 0 "$EVIDENCE" extract --json "$out" "$dest" || return
    ok "extract --json says valid" python3 "$TOOLS/evjson.py" check "$OUT" valid
    ok "$fmt: extracted payload equals the source (evid)" diff -r "$SRC" "$dest/data/1/evid"
    ok "$fmt: extracted payload equals the source (ctrl)" diff -r "$CTL" "$dest/data/1/ctrl"
    # nothing else in data/
    local n
    n=$(find "$dest/data" -type f -printf x | wc -c)
    [ "$n" -eq "$(find "$T/src" -type f -printf x | wc -c)" ] && pass || fail "$fmt: $n payload files extracted"
    # the extracted folder is itself a valid bag, for us and for the independent validator
    expect_exit 0 "$EVIDENCE" verify "$dest"
    expect_exit 0 python3 "$TOOLS/bagit_validate.py" "$dest"
    # the file time comes back (ZIP keeps it to 2 s)
    local a b
    a=$(stat -c %Y "$SRC/with spaces.txt")
    b=$(stat -c %Y "$dest/data/1/evid/with spaces.txt")
    [ $((a - b)) -le 2 ] && [ $((b - a)) -le 2 ] && pass || fail "$fmt: mtime $b after extract, source $a"
}

roundtrip zip "$T/rt.zip" "$T/x-zip"
roundtrip dir "$T/rt-dir" "$T/x-dir"

# the ZIP opens with Info-ZIP unzip and python's zipfile and gives the same bytes
mkdir -p "$T/unzip" "$T/pyzip"
expect_exit 0 unzip -q "$T/rt.zip" -d "$T/unzip"
ok "unzip: payload equals the source" diff -r "$SRC" "$T/unzip/rt/data/1/evid"
python3 -c 'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; z.extractall(sys.argv[2])' "$T/rt.zip" "$T/pyzip" &&
    pass || fail "python zipfile cannot read rt.zip"
ok "python zipfile: payload equals the source" diff -r "$SRC" "$T/pyzip/rt/data/1/evid"
ok "python zipfile: CR/LF names kept" diff -r "$CTL" "$T/pyzip/rt/data/1/ctrl"
ok "unzip and extract agree on the tag files" diff "$T/unzip/rt/manifest-sha256.txt" "$T/x-zip/manifest-sha256.txt"

# a second extraction of the same ZIP is identical (deterministic output)
expect_exit 0 "$EVIDENCE" extract "$T/rt.zip" "$T/x-zip2"
ok "two extractions are identical" diff -r "$T/x-zip" "$T/x-zip2"

# NFD names are kept as they were (not silently normalised)
ok "NFD name kept in the bag" test -e "$T/x-zip/data/1/evid/nfd/$(python3 -c 'import unicodedata;print(unicodedata.normalize("NFD","café crème.txt"))')"
ok "NFC name kept in the bag" test -e "$T/x-zip/data/1/evid/nfc/$(python3 -c 'import unicodedata;print(unicodedata.normalize("NFC","café crème.txt"))')"

# a name of 255 bytes (NAME_MAX) packs, verifies and extracts
mkdir -p "$T/nm"
NM="$T/nm/$(printf 'n%.0s' $(seq 251)).txt"
echo "NAME_MAX" >"$NM"
expect_exit 0 "$EVIDENCE" pack -o "$T/nm.zip" "$NM"
expect_exit 0 "$EVIDENCE" verify "$T/nm.zip"
expect_exit 0 "$EVIDENCE" extract "$T/nm.zip" "$T/nm-out" &&
    ok "255-byte name extracted" cmp "$NM" "$T/nm-out/data/1/$(basename "$NM")"

# extract refuses a DEST that is not empty, and changes nothing in it
mkdir -p "$T/busy"
echo keep >"$T/busy/mine.txt"
expect_exit 4 "$EVIDENCE" extract "$T/rt.zip" "$T/busy"
expect_message
ok "a non-empty DEST is left as it was" test "$(ls -A "$T/busy")" = mine.txt
# an empty existing DEST is fine
mkdir -p "$T/empty-dest"
expect_exit 0 "$EVIDENCE" extract "$T/rt.zip" "$T/empty-dest"

finish
