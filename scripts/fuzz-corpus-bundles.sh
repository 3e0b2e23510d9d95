#!/usr/bin/env bash
# Regenerate the seed corpora of the bundle fuzzers from bundles made by the
# tool itself:
#   tests/fuzz/corpus/zip/     bundles (ZIP bytes) behind a mode byte
#   tests/fuzz/corpus/bagit/   the tag files of those bundles behind a mode byte
#   tests/fuzz/corpus/amend/   bundles as they are (no mode byte)
#   tests/fuzz/corpus/mp4box/  MP4/MOV/AVI/WAV/MKV files behind a mode byte
# The first byte of a zip, bagit or mp4box seed chooses the fuzzer's mode
# (see the comment at the top of tests/fuzz/<target>_fuzzer.c).
#
# Bundles are packed with `evidence pack` from samples/media (notes.txt and
# IMG_0001.jpg: small, and the JPEG makes pack write media facts), amended with
# `evidence custody add` and signed with `evidence sign --tsa-query` (no
# network) with the test PKI of scripts/test-pki.sh. ZIP variants the writer
# never makes itself (ZIP64 records on small entries, data descriptors) are
# the same bundles rewritten entry for entry with python's zipfile; hostile
# ones come from tests/tools/hostile_zip.py. Media seeds are
# tests/fuzz/corpus/probe/ files and tests/tools/mkcorpus.py files (FFmpeg,
# exiftool, python struct). Bundles hold timestamps and UUIDs, so a rerun
# gives other bytes of the same shape. README.md files are not touched.
#
# usage: scripts/fuzz-corpus-bundles.sh [BUILD_DIR]   (default build/dev)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/dev}
EV=$build/tools/evidence
[ -x "$EV" ] || { echo "no $EV: build the dev preset first" >&2; exit 1; }
C=$root/tests/fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# seed MODE SRC DST: DST = one byte MODE, then the bytes of SRC
seed() {
    mkdir -p "$(dirname "$3")"
    { printf "\\$(printf '%03o' "$1")"; cat "$2"; } >"$3"
}

# --- bundles ------------------------------------------------------------------
M=$root/samples/media
mkdir -p "$tmp/in/scene"
cp "$M/notes.txt" "$M/IMG_0001.jpg" "$tmp/in/scene/"
A=(--case 24/0001 --officer "A. Example" --org "Example Police")
# files named one by one (no folder), and a folder with two exhibits
"$EV" pack -o "$tmp/files.zip" "${A[@]}" --content-hash none "$M/notes.txt" "$M/IMG_0001.jpg" >/dev/null
"$EV" pack -o "$tmp/folder.zip" "${A[@]}" --algorithm sha256,sha512 --no-media \
    --exhibit JS/1 "$tmp/in/scene" --exhibit "JS/2" "$M/notes.txt" >/dev/null
# custody events, then a signature (offline: the TSA query is written, not sent)
cp "$tmp/files.zip" "$tmp/signed.zip"
"$EV" custody add "$tmp/signed.zip" --action received --actor "Desk Officer" \
    --org "Property Store" --note "sealed bag 123" >/dev/null
bash "$root/scripts/test-pki.sh" "$tmp/pki" >/dev/null 2>&1
"$EV" sign "$tmp/signed.zip" --key "$tmp/pki/signer.key" --cert "$tmp/pki/signer.pem" \
    --chain "$tmp/pki/chain.pem" --tsa-query "$tmp/q.tsq" >/dev/null

# the same bundles rewritten by python's zipfile: ZIP64 everywhere (extra
# fields, ZIP64 end record and locator), and data descriptors (a stream)
python3 - "$tmp/files.zip" "$tmp/zip64.zip" "$tmp/descriptor.zip" <<'EOF'
import io, sys, zipfile
src, z64, dd = sys.argv[1:4]
entries = []
with zipfile.ZipFile(src) as z:
    for i in z.infolist():
        entries.append((i, z.read(i)))
def rewrite(out):
    for info, data in entries:
        zi = zipfile.ZipInfo(info.filename, info.date_time)
        zi.compress_type = info.compress_type
        zi.external_attr = info.external_attr
        with out.open(zi, "w", force_zip64=True) as f:
            f.write(data)
zipfile.ZIP64_LIMIT = 0            # every size and offset in ZIP64 form
zipfile.ZIP_FILECOUNT_LIMIT = 0    # and a ZIP64 end record
with zipfile.ZipFile(z64, "w") as out:
    rewrite(out)
class Stream(io.RawIOBase):        # not seekable: zipfile writes descriptors
    def __init__(self, f): self.f = f
    def writable(self): return True
    def write(self, b): return self.f.write(b)
zipfile.ZIP64_LIMIT = (1 << 31) - 1
zipfile.ZIP_FILECOUNT_LIMIT = (1 << 16) - 1
with open(dd, "wb") as f, zipfile.ZipFile(Stream(f), "w") as out:
    rewrite(out)
EOF

# --- zip ----------------------------------------------------------------------
Z=$C/zip
rm -f "$Z"/seed-* "$Z"/hostile-*
seed 0 "$tmp/files.zip" "$Z/seed-store-files"
seed 0 "$tmp/zip64.zip" "$Z/seed-store-zip64"
seed 0 "$tmp/descriptor.zip" "$Z/seed-store-descriptor"
seed 1 "$tmp/folder.zip" "$Z/seed-verify-folder"
seed 1 "$tmp/signed.zip" "$Z/seed-verify-signed"
seed 1 "$tmp/zip64.zip" "$Z/seed-verify-zip64"
seed 2 "$tmp/files.zip" "$Z/seed-extract-files"
for c in descriptor-lie zip64-offset-lie zip64-eocd-lie overlap-same-header overlap-central \
         local-extra prepended-stub duplicate dotdot-listed; do
    python3 "$root/tests/tools/hostile_zip.py" "$c" "$tmp/h.zip" "$tmp"
    seed 0 "$tmp/h.zip" "$Z/hostile-$c"
done

# --- amend --------------------------------------------------------------------
D=$C/amend
rm -f "$D"/seed-*
mkdir -p "$D"
cp "$tmp/files.zip" "$D/seed-files"
cp "$tmp/signed.zip" "$D/seed-signed"
cp "$tmp/zip64.zip" "$D/seed-zip64"

# --- bagit --------------------------------------------------------------------
B=$C/bagit
rm -f "$B"/seed-*
mkdir -p "$tmp/x"
(cd "$tmp/x" && unzip -q "$tmp/signed.zip" && unzip -q -o "$tmp/folder.zip")
s=$tmp/x/files   # signed.zip is a copy of files.zip: its top folder is files/
f=$tmp/x/folder
seed 0 "$s/bagit.txt" "$B/seed-bagit-txt"
seed 1 "$s/bag-info.txt" "$B/seed-baginfo"
seed 2 "$f/bag-info.txt" "$B/seed-baginfo-legacy"
seed 3 "$f/manifest-sha512.txt" "$B/seed-manifest"
seed 4 "$s/tagmanifest-sha256.txt" "$B/seed-tagmanifest"
seed 5 "$s/tagseal-sha256.txt" "$B/seed-tagseal"
# fetch.txt: no bag of ours has one; made from the payload manifest's paths
awk '{ $1 = ""; sub(/^ +/, ""); print "https://example.org/" NR " - " $0 }' \
    "$s/manifest-sha256.txt" >"$tmp/fetch.txt"
printf 'https://example.org/x 13 data/1/a%%0Ab%%25c.txt\n' >>"$tmp/fetch.txt"
seed 6 "$tmp/fetch.txt" "$B/seed-fetch"
printf 'data/1/line%%0Abreak%%0d%%25.txt' >"$tmp/p"
seed 7 "$tmp/p" "$B/seed-path"
printf 'data/1/Caf\xc3\xa9/../x\\y' >"$tmp/p"
seed 8 "$tmp/p" "$B/seed-name"
sed -n 's/^Payload-Oxum: //p' "$s/bag-info.txt" | tr -d '\n' >"$tmp/p"
seed 9 "$tmp/p" "$B/seed-oxum"
sed 's/$/\r/' "$s/bag-info.txt" >"$tmp/p"
seed 10 "$tmp/p" "$B/seed-text-crlf"

# --- mp4box -------------------------------------------------------------------
X=$C/mp4box
rm -f "$X"/seed-*
mkdir -p "$X"
python3 "$root/tests/tools/mkcorpus.py" "$tmp/mk" --only \
    mov_apple_mdta_keys.mov,mp4_udta_xyz.mp4,mp4_3gpp_loci.mp4,avi_idit.avi,mkv_dateutc_tags.mkv,wav_bwf_bext.wav \
    >/dev/null
seed 0 "$C/probe/seed-rot.mp4" "$X/seed-boxes-rot.mp4"
seed 0 "$tmp/mk/mov_apple_mdta_keys.mov" "$X/seed-boxes-mdta.mov"
seed 0 "$tmp/mk/mp4_udta_xyz.mp4" "$X/seed-boxes-xyz.mp4"
seed 0 "$tmp/mk/mp4_3gpp_loci.mp4" "$X/seed-boxes-loci.mp4"
seed 1 "$tmp/mk/avi_idit.avi" "$X/seed-riff-idit.avi"
seed 1 "$tmp/mk/wav_bwf_bext.wav" "$X/seed-riff-bext.wav"
seed 2 "$tmp/mk/mkv_dateutc_tags.mkv" "$X/seed-mkv-dateutc.mkv"
seed 3 "$C/probe/seed.mp4" "$X/seed-conform.mp4"
seed 4 "$tmp/mk/mov_apple_mdta_keys.mov" "$X/seed-transcode-mdta.mov"
seed 4 "$tmp/mk/mp4_3gpp_loci.mp4" "$X/seed-transcode-loci.mp4"

du -sh "$Z" "$D" "$B" "$X"
