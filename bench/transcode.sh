#!/bin/bash
# Wall-time ratios of `evidence transcode` against the ffmpeg command line
# doing the same work with the same settings and threads (the anchors in
# docs/profiles.md, "Performance"). Prints ratios; never fails on a ratio.
#
#   bench/transcode.sh BUILD_DIR
#
# Environment: BENCH_SECONDS (clip length, default 30), BENCH_REMUX_MB (size
# of the remux input, default 1024), BENCH_REPEAT (runs per command, the
# fastest counts; default 2), BENCH_DIR (work folder, default
# BUILD_DIR/bench-transcode; inputs are kept there and reused),
# BENCH_ONLY (h264|ffv1|remux: run one part), BENCH_IDLE_WAIT (see wait_idle).
# Each line ends with the idle share and load average measured just before
# the fastest run of evidence.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
B=$(cd "$1" && pwd)
E=$B/tools/evidence
SRC=$(cd "$(dirname "$0")/.." && pwd)
W=${BENCH_DIR:-$B/bench-transcode}
DUR=${BENCH_SECONDS:-30}
REMUX_MB=${BENCH_REMUX_MB:-1024}
REPEAT=${BENCH_REPEAT:-2}
ONLY=${BENCH_ONLY:-}
[ -x "$E" ] || { echo "no evidence binary at $E" >&2; exit 2; }
mkdir -p "$W"
export EVIDENCE_PROFILE_PATH=$SRC/profiles
FF="ffmpeg -nostdin -hide_banner -v error -y"

# The machine is shared: before each timed run, wait (up to BENCH_IDLE_WAIT
# seconds, default 300; 0 = never) until both cores were at least 95% idle
# over the last 2 s. The idle share of the fastest run is left in $W/.idle.
IDLE_WAIT=${BENCH_IDLE_WAIT:-300}
idle_now() { # percent idle over the last 2 s
    local a b tot k
    read -r -a a </proc/stat
    sleep 2
    read -r -a b </proc/stat
    tot=0
    for k in 1 2 3 4 5 6 7 8; do tot=$((tot + b[k] - a[k])); done
    echo $(((b[4] - a[4]) * 100 / (tot > 0 ? tot : 1)))
}
wait_idle() {
    local start=$SECONDS idle
    while :; do
        idle=$(idle_now)
        if [ "$idle" -ge 95 ] || [ $((SECONDS - start)) -ge "$IDLE_WAIT" ]; then
            echo "$idle" >"$W/.idle_now"
            return
        fi
    done
}

# fastest wall time (seconds) of REPEAT runs of "$@"; the CPU time (user +
# system, all threads) of that run is left in $W/.cpu
timeit() {
    local best="" i d c
    for ((i = 0; i < REPEAT; i++)); do
        rm -f "$W"/out.* "$W"/out.*.derivation.json
        [ "$IDLE_WAIT" -gt 0 ] && wait_idle
        /usr/bin/time -f '%e %U %S' -o "$W/.time" "$@" >/dev/null
        read -r d u s <"$W/.time"
        c=$(echo "$u + $s" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$d < $best" | bc -l)" = 1 ]; then
            best=$d
            printf '%.2f' "$c" >"$W/.cpu"
            printf '%s%% idle, load %s' "$(cat "$W/.idle_now" 2>/dev/null || echo '?')" \
                "$(cut -d' ' -f1 /proc/loadavg)" >"$W/.idle"
        fi
    done
    printf '%.3f' "$best"
}

ratio() { printf '%.3f' "$(echo "$1 / $2" | bc -l)"; }

report() { # name ours anchor target ours_cpu anchor_cpu
    printf '%-34s evidence %8ss  ffmpeg %8ss  ratio %s  (target <= %s)  cpu %ss / %ss  [%s]\n' \
        "$1" "$2" "$3" "$(ratio "$2" "$3")" "$4" "$5" "$6" "$(cat "$W/.idle")"
}

src1080=$W/src-1080p-${DUR}s.mp4
if [ ! -s "$src1080" ]; then
    echo "generating $src1080 (1920x1080, 30 fps, ${DUR} s, H.264 + AAC)..." >&2
    $FF -f lavfi -i "testsrc2=size=1920x1080:rate=30,noise=alls=6:allf=t" \
        -f lavfi -i "sine=frequency=440:sample_rate=48000" -t "$DUR" \
        -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p -c:a aac -b:a 192k \
        -movflags +faststart "$src1080.tmp.mp4"
    mv "$src1080.tmp.mp4" "$src1080"
fi
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); repeat $REPEAT, fastest run counts; cpu = user+system seconds of that run (evidence / ffmpeg)" >&2

if [ -z "$ONLY" ] || [ "$ONLY" = h264 ]; then
    ff=$(timeit $FF -i "$src1080" -map 0:v:0 -map '0:a?' -c:v libx264 -preset medium -crf 18 \
        -profile:v high -pix_fmt yuv420p -c:a copy -fps_mode passthrough -map_metadata 0 \
        -movflags +faststart+use_metadata_tags "$W/out.mp4")
    ffc=$(cat "$W/.cpu")
    ev=$(timeit "$E" transcode --no-verify --profile working-copy-h264 "$src1080" "$W/out.mp4")
    report "working-copy-h264 --no-verify" "$ev" "$ff" 1.05 "$(cat "$W/.cpu")" "$ffc"
    evv=$(timeit "$E" transcode --profile working-copy-h264 "$src1080" "$W/out.mp4")
    printf '%-34s evidence %8ss  verification overhead %ss (%s x the copy)\n' \
        "working-copy-h264 (verified)" "$evv" "$(printf '%.3f' "$(echo "$evv - $ev" | bc -l)")" \
        "$(ratio "$(echo "$evv - $ev" | bc -l)" "$ev")"
fi

if [ -z "$ONLY" ] || [ "$ONLY" = ffv1 ]; then
    ff=$(timeit $FF -i "$src1080" -map 0:v -map '0:a?' -c:v ffv1 -level 3 -g 1 -slices 16 \
        -slicecrc 1 -coder 1 -context 1 -c:a copy -map_metadata 0 "$W/out.mkv")
    ffc=$(cat "$W/.cpu")
    ev=$(timeit "$E" transcode --no-verify --profile archive-ffv1 "$src1080" "$W/out.mkv")
    report "archive-ffv1 --no-verify" "$ev" "$ff" 1.05 "$(cat "$W/.cpu")" "$ffc"
    evv=$(timeit "$E" transcode --profile archive-ffv1 "$src1080" "$W/out.mkv")
    printf '%-34s evidence %8ss  verification overhead %ss (%s x the copy)\n' \
        "archive-ffv1 (verified)" "$evv" "$(printf '%.3f' "$(echo "$evv - $ev" | bc -l)")" \
        "$(ratio "$(echo "$evv - $ev" | bc -l)" "$ev")"
fi

if [ -z "$ONLY" ] || [ "$ONLY" = remux ]; then
    big=$W/src-remux-${REMUX_MB}MB.mkv
    if [ ! -s "$big" ]; then
        echo "generating $big (~${REMUX_MB} MB by looping the 1080p clip)..." >&2
        size=$(stat -c %s "$src1080")
        loops=$(( (REMUX_MB * 1048576 + size - 1) / size ))
        [ "$loops" -ge 1 ] || loops=1
        $FF -stream_loop $((loops - 1)) -i "$src1080" -map 0 -c copy "$big.tmp.mkv"
        mv "$big.tmp.mkv" "$big"
    fi
    cat "$big" >/dev/null # page cache, for both sides alike
    ff=$(timeit $FF -i "$big" -map 0 -c copy -map_metadata 0 \
        -movflags +faststart+use_metadata_tags "$W/out.mp4")
    ffc=$(cat "$W/.cpu")
    # evidence flushes the copy to disk before renaming it (ffmpeg does not):
    # measured with and without that flush (--no-sync).
    ev=$(timeit "$E" transcode --no-verify --profile remux-mp4 "$big" "$W/out.mp4")
    report "remux-mp4 --no-verify ($(($(stat -c %s "$big") / 1048576)) MB)" "$ev" "$ff" 1.2 \
        "$(cat "$W/.cpu")" "$ffc"
    evn=$(timeit "$E" transcode --no-verify --no-sync --profile remux-mp4 "$big" "$W/out.mp4")
    report "remux-mp4 --no-verify --no-sync" "$evn" "$ff" 1.2 "$(cat "$W/.cpu")" "$ffc"
    evv=$(timeit "$E" transcode --profile remux-mp4 "$big" "$W/out.mp4")
    printf '%-34s evidence %8ss  verification overhead %ss\n' "remux-mp4 (verified)" "$evv" \
        "$(printf '%.3f' "$(echo "$evv - $ev" | bc -l)")"
    ff=$(timeit $FF -i "$big" -map 0 -c copy -map_metadata 0 "$W/out.mkv")
    ffc=$(cat "$W/.cpu")
    ev=$(timeit "$E" transcode --no-verify --profile remux-mkv "$big" "$W/out.mkv")
    report "remux-mkv --no-verify" "$ev" "$ff" 1.2 "$(cat "$W/.cpu")" "$ffc"
    evn=$(timeit "$E" transcode --no-verify --no-sync --profile remux-mkv "$big" "$W/out.mkv")
    report "remux-mkv --no-verify --no-sync" "$evn" "$ff" 1.2 "$(cat "$W/.cpu")" "$ffc"
fi
rm -f "$W"/out.*
