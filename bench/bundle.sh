#!/bin/bash
# Bundle benchmarks: pack and verify against their anchors, measured in the
# same run on the same files (page cache warm). Prints ratios; asserts
# nothing (this machine is shared and noisy).
#
#   bash bench/bundle.sh [BUILD_DIR]      (default build/release)
#
# Anchors: `openssl dgst -sha256` on the same files (the hashing limit, one
# core), `sha256sum`, and `zip -0` (storing with no hashing).
# Each timing is the median of 5 runs (3 for the slow anchors), because the
# machine is shared and single runs vary by 20% or more.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build/release}
E=$B/tools/evidence
[ -x "$E" ] || { cmake --preset release >/dev/null && cmake --build --preset release -j2 >/dev/null; E=build/release/tools/evidence; }
W=$(mktemp -d "${TMPDIR:-/tmp}/evbench.XXXXXX"); trap 'rm -rf "$W"' EXIT

med() { sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }   # median
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
t3() { for i in 1 2 3; do "$@"; done | med; }
t5() { for i in 1 2 3 4 5; do "$@"; done | med; }
ratio() { echo "scale=3; $1 / $2" | bc -l; }

echo "== 1 GiB in 10 files (random data), page cache warm"
mkdir -p "$W/big"
head -c $((1 << 30)) /dev/urandom > "$W/one"
for i in $(seq 0 9); do dd if="$W/one" of="$W/big/f$i.bin" bs=1M skip=$((i * 102)) count=102 status=none; done
rm -f "$W/one"
cat "$W"/big/* > /dev/null
# Let the kernel finish writing the freshly made inputs (and, before each
# timed run, the previous run's output) so that no run pays for writeback
# it did not cause.
sync
bytes=$(du -cb "$W"/big/* | tail -n1 | cut -f1)

o_dgst=$(t5 t openssl dgst -sha256 "$W"/big/f*.bin)
o_sum=$(t3 t sha256sum "$W"/big/f*.bin)
packrun() { rm -f "$W/p.zip"; sync; t "$E" pack --no-media -o "$W/p.zip" "$W/big"; }
o_pack=$(t5 packrun)
packmedia() { rm -f "$W/p.zip"; sync; t "$E" pack -o "$W/p.zip" "$W/big"; }
o_packm=$(t3 packmedia)
zip0() { rm -f "$W/z.zip"; sync; t zip -q -0 -r "$W/z.zip" "$W/big"; }
o_zip=$(t3 zip0)
o_ver=$(t5 t "$E" verify "$W/p.zip")
o_fast=$(t3 t "$E" verify --fast "$W/p.zip")
printf '%-44s %8.3f s  %6.2f GB/s\n' "openssl dgst -sha256 (anchor)" "$o_dgst" "$(echo "$bytes/$o_dgst/1000000000" | bc -l)"
printf '%-44s %8.3f s\n' "sha256sum" "$o_sum"
printf '%-44s %8.3f s\n' "zip -0 (no hashing)" "$o_zip"
printf '%-44s %8.3f s  ratio to openssl: %s (target <= 1.3)\n' "evidence pack --no-media" "$o_pack" "$(ratio "$o_pack" "$o_dgst")"
printf '%-44s %8.3f s  ratio to openssl: %s\n' "evidence pack (with media probing)" "$o_packm" "$(ratio "$o_packm" "$o_dgst")"
printf '%-44s %8.3f s  ratio to openssl: %s (target <= 0.75)\n' "evidence verify" "$o_ver" "$(ratio "$o_ver" "$o_dgst")"
printf '%-44s %8.3f s\n' "evidence verify --fast" "$o_fast"
rm -rf "$W/big" "$W/p.zip" "$W/z.zip"

echo
echo "== 10,000 files of 1 KiB"
mkdir -p "$W/small"
python3 -c "
import os
d='$W/small'
for i in range(10000):
    open(os.path.join(d,'f%05d.bin'%i),'wb').write(os.urandom(1024))"
sp() { rm -f "$W/s.zip"; t "$E" pack -o "$W/s.zip" "$W/small"; }
o_sp=$(t3 sp)
o_sv=$(t3 t "$E" verify "$W/s.zip")
printf '%-44s %8.3f s  %7.0f files/s (target >= 2000)\n' "evidence pack" "$o_sp" "$(echo "10000/$o_sp" | bc -l)"
printf '%-44s %8.3f s  %7.0f files/s (target >= 2000)\n' "evidence verify" "$o_sv" "$(echo "10000/$o_sv" | bc -l)"
o_sa=$(t "$E" custody add "$W/s.zip" --action received --actor Bench --org Bench)
printf '%-44s %8.3f s  (rewrites the whole bundle, atomically)\n' "evidence custody add" "$o_sa"
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n1; }
rm -f "$W/s.zip"
echo "peak RSS pack 10,000 files:   $(rss "$E" pack -o "$W/s.zip" "$W/small") KiB"
echo "peak RSS verify 10,000 files: $(rss "$E" verify "$W/s.zip") KiB"
rm -rf "$W/small" "$W/s.zip"

echo
echo "== memory with a 5 GiB (sparse) file"
mkdir -p "$W/huge" && truncate -s 5G "$W/huge/sparse.bin"
echo "peak RSS pack 5 GiB:   $(rss "$E" pack --no-media -o "$W/h.zip" "$W/huge") KiB (target <= 65536)"
echo "peak RSS verify 5 GiB: $(rss "$E" verify "$W/h.zip") KiB (target <= 65536)"
