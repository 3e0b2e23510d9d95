#!/bin/bash
# Scale in items: pack and verify of many small files against anchors
# measured in the same run on the same files (page cache warm). Prints
# files/s, peak RSS and ratios; asserts nothing (the machine is shared).
#
#   bash bench/scale.sh [BUILD_DIR] [COUNT...]     (default build/release, 10000 100000)
#
# e.g. `bash bench/scale.sh build/release 1000000` for the million (not in CI:
# about 1 GB of small files and several minutes). Environment:
#   SCALE_SIZE    bytes per file (default 100, random)
#   SCALE_REPEAT  runs per timing, the median counts (default 3)
#   SCALE_DIR     work folder (default a temporary folder, removed at the end)
#   EVIDENCE      the evidence binary (default BUILD_DIR/tools/evidence)
#
# Anchors: `zip -q -0 -r` (storing with no hashing) and `sha256sum` over the
# same files (the per-file cost of opening, reading and hashing). A ratio is
# evidence's time / the anchor's time: 1 is as fast as the anchor. Times are
# wall clock; cpu = user + system of the same run. Files live 1,000 to a
# folder, as exports do.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build/release}
shift || true
COUNTS=${*:-10000 100000}
SIZE=${SCALE_SIZE:-100}
REPEAT=${SCALE_REPEAT:-3}
E=${EVIDENCE:-$B/tools/evidence}
[ -x "$E" ] || { echo "no evidence binary at $E (cmake --preset release && cmake --build --preset release)" >&2; exit 2; }
if [ -n "${SCALE_DIR:-}" ]; then W=$SCALE_DIR; mkdir -p "$W"; else
    W=$(mktemp -d "${TMPDIR:-/tmp}/evscale.XXXXXX"); trap 'rm -rf "$W"' EXIT; fi

# one run: wall seconds, cpu seconds and peak RSS (KiB) into $W/.t
run() { /usr/bin/time -f '%e %U %S %M' -o "$W/.t" "$@" >/dev/null 2>"$W/.err" ||
        { echo "failed: $*" >&2; tail -n 5 "$W/.err" >&2; exit 1; }
        read -r e u s m <"$W/.t"; echo "$e $(echo "$u + $s" | bc -l) $m"; }
# median of REPEAT runs, by wall time: "wall cpu rss"; PRE is run before each
med() { local pre=$1; shift; local i
        for ((i = 0; i < REPEAT; i++)); do eval "$pre"; run "$@"; done |
            sort -n | awk '{l[NR]=$0} END{print l[int((NR+1)/2)]}'; }
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
rate() { printf '%.0f' "$(echo "$1 / $2" | bc -l)"; }

echo "machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); $(git log -1 --format=%h 2>/dev/null || echo '?'); $SIZE-byte random files; median of $REPEAT"
for N in $COUNTS; do
    D=$W/in-$N
    if [ ! -d "$D" ]; then
        python3 - "$D" "$N" "$SIZE" <<'PY'
import os, sys
d, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    sub = os.path.join(d, "d%04d" % (i // 1000))
    if i % 1000 == 0:
        os.makedirs(sub)
    with open(os.path.join(sub, "f%07d.bin" % i), "wb") as f:
        f.write(os.urandom(size))
PY
    fi
    find "$D" -type f -print0 | xargs -0 cat >/dev/null
    (cd "$D" && find . -type f -print0 | sort -z >"$W/list")
    read -r zw zc zm <<<"$(med 'rm -f "$W/z.zip"' zip -q -0 -r "$W/z.zip" "$D")"
    read -r hw hc hm <<<"$(med ':' sh -c 'cd "$1" && xargs -0 sha256sum <"$2"' sh "$D" "$W/list")"
    read -r pw pc pm <<<"$(med 'rm -f "$W/p.zip"' "$E" pack -o "$W/p.zip" "$D")"
    read -r nw nc nm <<<"$(med 'rm -f "$W/p.zip"' "$E" pack --no-media -o "$W/p.zip" "$D")"
    read -r vw vc vm <<<"$(med ':' "$E" verify "$W/p.zip")"
    echo
    echo "== $N files of $SIZE bytes (load $(cut -d' ' -f1 /proc/loadavg))"
    printf '%-28s %9s %9s %11s %9s %10s %10s\n' run wall_s cpu_s files/s rss_MiB "/zip -0" "/sha256sum"
    line() { printf '%-28s %9.2f %9.2f %11s %9.1f %10s %10s\n' "$1" "$2" "$3" "$(rate "$N" "$2")" \
                 "$(echo "$4 / 1024" | bc -l)" "$(ratio "$2" "$zw")" "$(ratio "$2" "$hw")"; }
    line "zip -0 -r (anchor)" "$zw" "$zc" "$zm"
    line "sha256sum (anchor)" "$hw" "$hc" "$hm"
    line "evidence pack" "$pw" "$pc" "$pm"
    line "evidence pack --no-media" "$nw" "$nc" "$nm"
    line "evidence verify" "$vw" "$vc" "$vm"
    echo "targets: pack >= 20000 files/s, verify >= 40000 files/s, RSS <= 128 MiB (100,000), <= 256 MiB (1,000,000)"
    rm -f "$W/z.zip" "$W/p.zip"
    [ -n "${SCALE_DIR:-}" ] || rm -rf "$D"
done
