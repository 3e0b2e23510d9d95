#!/usr/bin/env bash
# Regenerate the seed corpora of the media fuzzers:
#   tests/fuzz/corpus/probe/  tiny media files, one per container/codec family
#   tests/fuzz/corpus/exif/   EXIF blocks and tiny stills carrying EXIF
# Every seed is synthetic (FFmpeg lavfi sources, exiftool tags, the hostile
# generator scripts/media-hostile.py) and a few KB at most. Crashers found by
# fuzzing are added next to them by hand (crash-*), see the README there.
#
# usage: scripts/media-fuzz-corpus.sh [REPO_ROOT]
set -euo pipefail

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
probe=$root/tests/fuzz/corpus/probe
exifc=$root/tests/fuzz/corpus/exif
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$probe" "$exifc"

ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
et() { exiftool -q -q -overwrite_original "$@"; }

V="-f lavfi -i testsrc2=size=32x24:rate=5"
A="-f lavfi -i sine=frequency=440:sample_rate=8000"

# --- probe seeds --------------------------------------------------------------
ff $V $A -t 0.4 -c:v libx264 -preset ultrafast -c:a aac -b:a 8k "$probe/seed.mp4"
ff $V $A -t 0.4 -c:v libx264 -preset ultrafast -c:a flac "$probe/seed.mkv"
ff $V $A -t 0.2 -c:v mjpeg -q:v 20 -c:a pcm_u8 "$probe/seed.avi"
ff $V $A -t 0.4 -c:v mpeg2video -q:v 20 -c:a mp2 -b:a 32k "$probe/seed.ts"
ff $V -t 0.4 -c:v libx264 -preset ultrafast -f h264 "$probe/seed.264"
ff $V -t 0.4 -c:v libx265 -preset ultrafast -x265-params log-level=none -f hevc "$probe/seed.265"
ff $V -t 0.4 -c:v ffv1 "$probe/seed-ffv1.mkv"
ff $A -t 0.1 -c:a pcm_s24le "$probe/seed-s24.wav"
ff $A -t 0.1 -c:a pcm_alaw "$probe/seed-alaw.wav"
ff $A -t 0.1 -c:a flac "$probe/seed.flac"
ff $A -t 0.3 -c:a libmp3lame -b:a 8k "$probe/seed.mp3"
ff -f lavfi -i testsrc2=size=16x16 -frames:v 1 -q:v 20 "$probe/seed.jpg"
ff -f lavfi -i testsrc2=size=16x16 -frames:v 1 "$probe/seed.png"
cp "$probe/seed.mp4" "$probe/seed-rot.mp4"
et -Rotation=90 -Keys:GPSCoordinates="51.5, -0.12" "$probe/seed-rot.mp4"
python3 "$root/scripts/media-hostile.py" "$tmp/h"
for f in frames_1e9.mp4 frames_1e9.avi stsz_1e9.mp4 huge_chunk.avi streams_200.ts; do
    cp "$tmp/h/$f" "$probe/hostile-$f"
done

# --- exif seeds -----------------------------------------------------------------
ff -f lavfi -i testsrc2=size=8x8 -frames:v 1 -q:v 31 "$tmp/e.jpg"
et -Make=M -Model=X -SerialNumber=1 -DateTimeOriginal="2024:05:01 10:20:30" \
   -OffsetTimeOriginal="+01:00" -GPSLatitude=51.5 -GPSLatitudeRef=N -GPSLongitude=0.12 \
   -GPSLongitudeRef=W -GPSAltitude=10 -Orientation#=6 "$tmp/e.jpg"
cp "$tmp/e.jpg" "$exifc/seed.jpg"
# the APP1 payload alone ("Exif\0\0" + TIFF) and the bare TIFF structure
python3 - "$tmp/e.jpg" "$exifc/seed-app1.bin" "$exifc/seed-tiff-le.bin" <<'EOF'
import sys
d = open(sys.argv[1], "rb").read()
i = d.index(b"Exif\x00\x00")
n = (d[i - 2] << 8 | d[i - 1]) - 2
open(sys.argv[2], "wb").write(d[i:i + n])
open(sys.argv[3], "wb").write(d[i + 6:i + n])
EOF
et -ExifByteOrder=Big-endian "$tmp/e.jpg"
python3 - "$tmp/e.jpg" "$exifc/seed-tiff-be.bin" <<'EOF'
import sys
d = open(sys.argv[1], "rb").read()
i = d.index(b"Exif\x00\x00")
n = (d[i - 2] << 8 | d[i - 1]) - 2
open(sys.argv[2], "wb").write(d[i + 6:i + n])
EOF
ff -f lavfi -i testsrc2=size=8x8 -frames:v 1 "$exifc/seed.png"
et -Make=M -DateTimeOriginal="2024:05:01 10:20:30" -GPSLatitude=1 -GPSLatitudeRef=S "$exifc/seed.png"
ff -f lavfi -i testsrc2=size=4x4 -frames:v 1 -pix_fmt gray "$exifc/seed.tiff"
et -Make=M -Orientation#=3 "$exifc/seed.tiff"
if command -v heif-enc >/dev/null 2>&1; then
    ff -f lavfi -i testsrc2=size=64x64 -frames:v 1 "$tmp/h.png"
    heif-enc -q 10 "$tmp/h.png" -o "$exifc/seed.heic" >/dev/null 2>&1 &&
        et -Make=M -DateTimeOriginal="2024:05:01 10:20:30" "$exifc/seed.heic" ||
        rm -f "$exifc/seed.heic"
fi
ls -l "$probe" "$exifc"
