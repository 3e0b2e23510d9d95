#!/usr/bin/env bash
# Media content-hash benchmark: ratios of libevidence against the ffmpeg
# command line doing the same work. Builds nothing: give it a build folder
# where bench_media exists (cmake --build BUILD --target bench_media; a
# Release build gives the meaningful numbers).
#
# usage: bench/media.sh BUILD_DIR [WORK_DIR] [ROUNDS]
#
# Clip: 30 s of 1080p25 testsrc2, H.264 (libx264 veryfast, yuv420p) with a
# 48 kHz stereo AAC track, made once in WORK_DIR (default BUILD_DIR/bench-media).
# Anchors:
#   packets: ffmpeg -i F -map 0 -c copy -f streamhash -hash sha256 -
#   decoded: ffmpeg -i F -map 0 -f streamhash -hash sha256 -
#   decode alone: ffmpeg -i F -map 0 -f null - (issue 14: decoded hashing
#     should cost at most 1.2 times this; both use FFmpeg's default threads)
# Each anchor run is followed by the matching run of ours, ROUNDS times
# (default 3), and the best time of each is kept, so that both see the same
# machine load. The anchors include ffmpeg's process start (~0.05-0.1 s); ours
# are timed inside bench_media. A ratio is anchor time / our time: >= 1 means
# we are at least as fast. These are measurements, never assertions.
set -euo pipefail

build=${1:?usage: bench/media.sh BUILD_DIR [WORK_DIR] [ROUNDS]}
work=${2:-$build/bench-media}
rounds=${3:-3}
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

secs() { # wall-clock seconds of one run of a command
    local s e
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    e=$(date +%s.%N)
    echo "$e - $s" | bc -l
}
min() { echo "if ($1 < $2) $1 else $2" | bc -l; }
ours() { "$drv" "$clip" 1 "$1" | awk -v k="$1" '$1 == k { print $2 }'; }

a_pkt=999; o_pkt=999; a_dec=999; o_dec=999; a_null=999
for _ in $(seq "$rounds"); do
    a_pkt=$(min "$a_pkt" "$(secs ffmpeg -nostdin -v error -i "$clip" -map 0 -c copy -f streamhash -hash sha256 -)")
    o_pkt=$(min "$o_pkt" "$(ours packets)")
    a_dec=$(min "$a_dec" "$(secs ffmpeg -nostdin -v error -i "$clip" -map 0 -f streamhash -hash sha256 -)")
    o_dec=$(min "$o_dec" "$(ours decoded)")
    a_null=$(min "$a_null" "$(secs ffmpeg -nostdin -v error -i "$clip" -map 0 -f null -)")
done
parts=$("$drv" "$clip" "$rounds" probe both both_nolists demux decode sha256)
get() { echo "$parts" | awk -v k="$1" '$1 == k { print $2 }'; }
probe=$(get probe); both=$(get both); nolists=$(get both_nolists)
demux=$(get demux); decode=$(get decode); sha=$(get sha256)

f3() { printf '%.3f' "$1"; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }
echo "clip: $clip ($(stat -c %s "$clip") bytes; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '\n%-46s %8s\n' "measure (best of $rounds)" "seconds"
printf '%-46s %8s\n' "anchor: ffmpeg -c copy -f streamhash" "$(f3 "$a_pkt")"
printf '%-46s %8s\n' "ours: packets (+ per-packet list)" "$(f3 "$o_pkt")"
printf '%-46s %8s\n' "anchor: ffmpeg -f streamhash (decoded)" "$(f3 "$a_dec")"
printf '%-46s %8s\n' "ours: decoded (+ per-frame list)" "$(f3 "$o_dec")"
printf '%-46s %8s\n' "anchor: ffmpeg -f null (decode, no hashing)" "$(f3 "$a_null")"
printf '%-46s %8s\n' "ours: probe only (content hashes off)" "$probe"
printf '%-46s %8s\n' "ours: both (pack default)" "$both"
printf '%-46s %8s\n' "ours: both, without per-frame lists" "$nolists"
printf '%-46s %8s\n' "parts: open + demux only" "$demux"
printf '%-46s %8s\n' "parts: open + demux + decode, no hashing" "$decode"
printf '%-46s %8s\n' "parts: SHA-256 of the decoded bytes, once" "$sha"
echo
echo "packet hashing speed vs anchor (target >= 0.9): $(ratio "$a_pkt" "$o_pkt")"
echo "decoded hashing speed vs anchor (target >= 1.0): $(ratio "$a_dec" "$o_dec")"
echo "decoded hashing cost / ffmpeg -f null decode (target <= 1.2): $(ratio "$o_dec" "$a_null")"
echo
echo "where the time of 'both' goes (approximate, from the parts):"
echo "  probing (open, stream info, facts): $probe s"
echo "  demuxing the packets:               $(f3 "$(echo "$demux - $probe" | bc -l)") s"
echo "  decoding:                           $(f3 "$(echo "$decode - $demux" | bc -l)") s"
echo "  hashing + lists (the rest):         $(f3 "$(echo "$both - $decode" | bc -l)") s"
