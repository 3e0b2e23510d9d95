#!/usr/bin/env bash
# Media content-hash benchmark: ratios of libevidence against the ffmpeg
# command line doing the same work. Builds nothing: give it a build folder
# where bench_media exists (cmake --build BUILD --target bench_media).
#
# usage: bench/media.sh BUILD_DIR [WORK_DIR]
#
# Clip: 30 s of 1080p25 testsrc2, H.264 (libx264 veryfast, yuv420p) with a
# 48 kHz stereo AAC track, made once in WORK_DIR (default BUILD_DIR/bench-media).
# Anchors (best of 3 wall-clock runs each):
#   packets: ffmpeg -i F -map 0 -c copy -f streamhash -hash sha256 -
#   decoded: ffmpeg -i F -map 0 -f streamhash -hash sha256 -
# A ratio is anchor time / our time: >= 1 means we are at least as fast.
# These are measurements, never assertions.
set -euo pipefail

build=${1:?usage: bench/media.sh BUILD_DIR [WORK_DIR]}
work=${2:-$build/bench-media}
drv=$build/bench/bench_media
[ -x "$drv" ] || { echo "bench_media not found in $build/bench (build it first)" >&2; exit 2; }
mkdir -p "$work"
clip=$work/clip-1080p-30s.mp4
if [ ! -s "$clip" ]; then
    echo "making $clip ..." >&2
    ffmpeg -nostdin -hide_banner -loglevel error -y \
        -f lavfi -i testsrc2=size=1920x1080:rate=25 \
        -f lavfi -i sine=frequency=440:sample_rate=48000 -ac 2 -t 30 \
        -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 128k "$clip"
fi

best() { # best wall-clock seconds of 3 runs of a command
    local b=999999 t s e
    for _ in 1 2 3; do
        s=$(date +%s.%N)
        "$@" >/dev/null 2>&1
        e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc -l)
        b=$(echo "if ($t < $b) $t else $b" | bc -l)
    done
    printf '%.3f' "$b"
}

echo "clip: $clip ($(stat -c %s "$clip") bytes)"
a_pkt=$(best ffmpeg -nostdin -v error -i "$clip" -map 0 -c copy -f streamhash -hash sha256 -)
a_dec=$(best ffmpeg -nostdin -v error -i "$clip" -map 0 -f streamhash -hash sha256 -)
out=$("$drv" "$clip" 3)
get() { echo "$out" | awk -v k="$1" '$1 == k { print $2 }'; }
probe=$(get probe); packets=$(get packets); decoded=$(get decoded); both=$(get both)
demux=$(get demux); decode=$(get decode); sha=$(get sha256)

ratio() { echo "scale=2; $1 / $2" | bc -l; }
printf '\n%-44s %8s\n' "measure" "seconds"
printf '%-44s %8s\n' "anchor: ffmpeg -c copy -f streamhash" "$a_pkt"
printf '%-44s %8s\n' "anchor: ffmpeg -f streamhash (decoded)" "$a_dec"
printf '%-44s %8s\n' "ours: probe only (content hashes off)" "$probe"
printf '%-44s %8s\n' "ours: packets (+ per-packet list)" "$packets"
printf '%-44s %8s\n' "ours: decoded (+ per-frame list)" "$decoded"
printf '%-44s %8s\n' "ours: both (pack default)" "$both"
printf '%-44s %8s\n' "parts: open + demux only" "$demux"
printf '%-44s %8s\n' "parts: open + demux + decode, no hashing" "$decode"
printf '%-44s %8s\n' "parts: SHA-256 of the decoded bytes once" "$sha"
echo
echo "packet hashing speed vs anchor (target >= 0.9): $(ratio "$a_pkt" "$packets")"
echo "decoded hashing speed vs anchor (target >= 1.0): $(ratio "$a_dec" "$decoded")"
echo
echo "where the time of 'both' goes (approximate):"
echo "  probing (open, stream info, facts): $probe s"
echo "  demuxing the packets:               $(echo "$demux - $probe" | bc -l | xargs printf '%.3f') s"
echo "  decoding:                           $(echo "$decode - $demux" | bc -l | xargs printf '%.3f') s"
echo "  hashing + lists (rest):             $(echo "$both - $decode" | bc -l | xargs printf '%.3f') s"
