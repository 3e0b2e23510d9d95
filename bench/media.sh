#!/usr/bin/env bash
# Media content-hash benchmark: ratios of libevidence against the ffmpeg
# command line doing the same work. Builds nothing: give it a build folder
# where bench_media and the evidence CLI exist (cmake --build BUILD --target
# bench_media evidence_cli; a Release build gives the meaningful numbers).
#
# usage: bench/media.sh BUILD_DIR [WORK_DIR] [ROUNDS] [SECONDS]
#
# Clip: SECONDS (default 10, as in issue 14) of 1080p25 testsrc2, H.264
# (libx264 veryfast, yuv420p) with a 48 kHz stereo AAC track, made once in
# WORK_DIR (default BUILD_DIR/bench-media).
# Anchors:
#   packets: ffmpeg -i F -map 0 -c copy -f streamhash -hash sha256 -
#   decoded: ffmpeg -i F -map 0 -f streamhash -hash sha256 -
#   decode alone: ffmpeg -i F -map 0 -f null - (issue 14: decoded hashing
#     should cost at most 1.2 times this; both use FFmpeg's default threads:
#     thread_count 0 = automatic, frame and slice threads)
#   the file's bytes: openssl dgst -sha256 F
# Issue 14's two ratios are of whole commands, process start included on
# both sides: evidence pack --content-hash decoded against ffmpeg -f null,
# and evidence pack (default: packet hashes) against openssl dgst, each as
# wall time and as CPU time (user + sys, which a loaded machine distorts
# less). Each anchor run is followed by the matching run of ours, ROUNDS
# times (default 3), and the best time of each is kept, so that both see the
# same machine load. The other measures of ours are timed inside bench_media
# (no process start). These are measurements, never assertions.
set -euo pipefail

build=${1:?usage: bench/media.sh BUILD_DIR [WORK_DIR] [ROUNDS] [SECONDS]}
work=${2:-$build/bench-media}
rounds=${3:-3}
dur=${4:-10}
drv=$build/bench/bench_media
cli=$build/tools/evidence
[ -x "$drv" ] || { echo "bench_media not found in $build/bench (build it first)" >&2; exit 2; }
[ -x "$cli" ] || { echo "evidence not found in $build/tools (build it first)" >&2; exit 2; }
mkdir -p "$work"
clip=$work/clip-1080p-${dur}s.mp4
if [ ! -s "$clip" ]; then
    echo "making $clip ..." >&2
    ffmpeg -nostdin -hide_banner -loglevel error -y \
        -f lavfi -i testsrc2=size=1920x1080:rate=25 \
        -f lavfi -i sine=frequency=440:sample_rate=48000 -ac 2 -t "$dur" \
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
f3() { printf '%.3f' "$1"; }
f2() { printf '%.2f' "$1"; }
ratio() { if [ "$(echo "$2 > 0" | bc -l)" = 1 ]; then echo "scale=2; $1 / $2" | bc -l; else echo "n/a"; fi; }
cpu() { # "wall cpu" seconds of one run of a command (cpu = user + sys)
    local s e f=$work/time.txt
    s=$(date +%s.%N)
    if ! /usr/bin/time -o "$f" -f '%U %S' "$@" >/dev/null 2>&1; then
        echo "failed: $*" >&2
        exit 1
    fi
    e=$(date +%s.%N)
    awk -v w="$(echo "$e - $s" | bc -l)" '{ printf "%.3f %.2f\n", w, $1 + $2 }' "$f"
}
out=$work/pack-out.zip
pack() { rm -f "$out"; cpu "$cli" pack -o "$out" "$@" "$clip"; rm -f "$out"; }
ours() { "$drv" "$clip" 1 "$1" | awk -v k="$1" '$1 == k { print $2 }'; }

# issue 14's ratios: whole commands, alternating, best of ROUNDS
wn=999; cn=999; wd=999; cd=999; wo=999; co=999; wp=999; cp=999
for _ in $(seq "$rounds"); do
    r=$(cpu ffmpeg -nostdin -v error -i "$clip" -map 0 -f null -); read -r w c <<<"$r"
    wn=$(min "$wn" "$w"); cn=$(min "$cn" "$c")
    r=$(pack --content-hash decoded); read -r w c <<<"$r"
    wd=$(min "$wd" "$w"); cd=$(min "$cd" "$c")
    r=$(cpu openssl dgst -sha256 "$clip"); read -r w c <<<"$r"
    wo=$(min "$wo" "$w"); co=$(min "$co" "$c")
    r=$(pack); read -r w c <<<"$r"
    wp=$(min "$wp" "$w"); cp=$(min "$cp" "$c")
done

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

echo "clip: $clip ($(stat -c %s "$clip") bytes; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
printf '%-46s %8s %8s\n' "issue 14, whole commands (best of $rounds)" "wall s" "cpu s"
printf '%-46s %8s %8s\n' "ffmpeg -i F -map 0 -f null -" "$(f3 "$wn")" "$(f2 "$cn")"
printf '%-46s %8s %8s\n' "evidence pack --content-hash decoded F" "$(f3 "$wd")" "$(f2 "$cd")"
printf '%-46s %8s %8s\n' "openssl dgst -sha256 F" "$(f3 "$wo")" "$(f2 "$co")"
printf '%-46s %8s %8s\n' "evidence pack F (default: packet hashes)" "$(f3 "$wp")" "$(f2 "$cp")"
echo "ours decoded / ffmpeg -f null (target <= 1.2): wall $(ratio "$wd" "$wn"), cpu $(ratio "$cd" "$cn")"
echo "ours default / openssl dgst -sha256:           wall $(ratio "$wp" "$wo"), cpu $(ratio "$cp" "$co")"
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
