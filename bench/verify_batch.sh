#!/bin/bash
# Batch ingest: bundles per second for many small bundles, verified with one
# `evidence verify --jobs 2 --json-lines FOLDER` against its anchor, a shell
# loop of single `evidence verify --json` calls (what an integrator writes
# first), in the same run. Prints figures and ratios; asserts nothing.
#
#   bash bench/verify_batch.sh [BUILD_DIR] [COUNT]   (default build/release, 1000)
#   bash bench/verify_batch.sh COUNT                  (a number alone is the count)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} =~ ^[0-9]+$ ]] && [ $# -eq 1 ]; then set -- build/release "$1"; fi
B=${1:-build/release}
N=${2:-1000}
E=$B/tools/evidence
[ -x "$E" ] || { cmake --preset release >/dev/null && cmake --build --preset release -j2 >/dev/null; E=build/release/tools/evidence; }
W=$(mktemp -d "${TMPDIR:-/tmp}/evbatch.XXXXXX"); trap 'rm -rf "$W"' EXIT

mkdir -p "$W/in" "$W/bundles"
for i in 1 2 3; do head -c 2048 /dev/urandom > "$W/in/f$i.bin"; done
"$E" pack -q --no-media -o "$W/one.zip" "$W/in" >/dev/null
# N copies of one small bundle (3 payload files): the cost is per bundle
for i in $(seq -w 1 "$N"); do cp "$W/one.zip" "$W/bundles/b$i.zip"; done
cat "$W"/bundles/* >/dev/null

now() { date +%s.%N; }
s=$(now); "$E" verify --jobs 2 --json-lines "$W/bundles" >"$W/batch.jsonl" 2>/dev/null || true; e=$(now)
t_batch=$(echo "$e - $s" | bc -l)
s=$(now); "$E" verify --jobs 1 --json-lines "$W/bundles" >"$W/batch1.jsonl" 2>/dev/null || true; e=$(now)
t_batch1=$(echo "$e - $s" | bc -l)
s=$(now)
for f in "$W"/bundles/*.zip; do "$E" verify --json "$f" >/dev/null 2>&1 || true; done
e=$(now)
t_loop=$(echo "$e - $s" | bc -l)
[ "$(wc -l <"$W/batch.jsonl")" -eq "$N" ] || echo "WARNING: $(wc -l <"$W/batch.jsonl") lines for $N bundles"
printf '%-52s %8.3f s  %7.0f bundles/s\n' "shell loop of single 'verify --json' (anchor)" "$t_loop" "$(echo "$N/$t_loop" | bc -l)"
printf '%-52s %8.3f s  %7.0f bundles/s\n' "verify --jobs 1 --json-lines FOLDER" "$t_batch1" "$(echo "$N/$t_batch1" | bc -l)"
printf '%-52s %8.3f s  %7.0f bundles/s  %.2fx the loop\n' "verify --jobs 2 --json-lines FOLDER" "$t_batch" \
    "$(echo "$N/$t_batch" | bc -l)" "$(echo "$t_loop/$t_batch" | bc -l)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
