#!/bin/bash
# Re-run the attack trials of the hardening work against an `evidence` binary
# and print one table per experiment (docs/hardening.md explains each).
#
#   bash scripts/trials/run.sh [EVIDENCE [SCRATCH]]
#
# EVIDENCE  the binary (default build/dev/tools/evidence)
# SCRATCH   a folder for the bundles and results (default /tmp/evidence-trials;
#           emptied first; needs about 1 GB free for the big-record case)
#
# Counts (environment):
#   TRIALS_FLIPS=780          experiment 1: single-byte flips (over 3 bundles)
#   TRIALS_BOMB_ENTRIES=5000  experiment 2: entries of the overlapping-entries bomb
#   TRIALS_RECORD_ITEMS=1000000 TRIALS_RECORD_EVENTS=100000
#   TRIALS_RECORD_DEPTH=100000  TRIALS_RECORD_MB=200   experiment 3: sizes
#   TRIALS_RECORD_EVERY=1     experiment 3: run every Nth lie only (short runs)
#   TRIALS_KILLS=132          experiment 4: kill -9 trials
#   TRIALS_WRITERS=8 TRIALS_ROUNDS=4   experiment 5: concurrent custody adds
#   TRIALS_JOBS=2             trials run at once (experiments 1 and 3)
#   TRIALS_SILENT_FAILS=1     a flip of a byte that does not matter passing as
#                             valid with no warning fails experiment 1 (0: listed only)
#   TRIALS_ONLY="1 2 3 4 5"   which experiments to run
#
# Everything runs under `nice -n 10`. Exit status: 0 when nothing passed that
# should not have, no crash, no exit 4 and no temporary output was left;
# 1 otherwise (the FAILED lines say what); 2 on a usage or set-up error.
set -u
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
evidence=${1:-$src/build/dev/tools/evidence}
work=${2:-/tmp/evidence-trials}
case "$evidence" in /*) ;; *) evidence=$(pwd)/$evidence ;; esac
if [ ! -x "$evidence" ]; then
    echo "run.sh: no evidence binary at $evidence (build it: cmake --preset dev && cmake --build --preset dev)" >&2
    exit 2
fi
for tool in python3 unzip openssl /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is needed" >&2; exit 2; }
done
case "$work" in /*) ;; *) work=$(pwd)/$work ;; esac
if [ "$work" = / ] || [ "$work" = "$HOME" ]; then
    echo "run.sh: refusing to empty $work" >&2
    exit 2
fi
rm -rf "$work"
mkdir -p "$work" || exit 2

export LC_ALL=C.UTF-8 PYTHONDONTWRITEBYTECODE=1
export TRIALS_JOBS=${TRIALS_JOBS:-2}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
only=${TRIALS_ONLY:-1 2 3 4 5}
status=0
t_start=$(date +%s)

echo "# Attack trials: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo
echo "evidence: $evidence ($("$evidence" --version 2>&1 | head -1))"
echo "source:   $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$src" status --porcelain 2>/dev/null | grep -q . && echo ' (with local changes)')"
echo "scratch:  $work"

# --- the bundles: one packed from samples/, one signed with a test PKI made now ---------------
bash "$src/scripts/test-pki.sh" "$work/pki" >"$work/pki.log" 2>&1 ||
    { echo "run.sh: scripts/test-pki.sh failed, see $work/pki.log" >&2; exit 2; }
nice -n 10 "$evidence" pack -o "$work/plain.zip" --case "TR/1" --exhibit "JS/1" \
    --officer "Jane Smith" --org "Test Police" "$src/samples/media" >"$work/pack.log" 2>&1 ||
    { echo "run.sh: pack failed, see $work/pack.log" >&2; exit 2; }
cp "$work/plain.zip" "$work/signed.zip"
nice -n 10 "$evidence" sign "$work/signed.zip" --key "$work/pki/signer.key" \
    --cert "$work/pki/signer.pem" --chain "$work/pki/chain.pem" >"$work/sign.log" 2>&1 ||
    { echo "run.sh: sign failed, see $work/sign.log" >&2; exit 2; }

# CPU seconds (user + system) in the files GNU time wrote
cpu() { cat "$@" 2>/dev/null | awk '/^[0-9.]+ [0-9.]+$/ {t += $1 + $2} END {printf "%.0f", t}'; }

step() {
    local n=$1 t0 rc
    shift
    case " $only " in *" $n "*) ;; *) return 0 ;; esac
    t0=$(date +%s)
    /usr/bin/time -f "%U %S" -o "$work/cpu-$n" "$PY" "$@"
    rc=$?
    echo
    echo "(experiment $n: $(($(date +%s) - t0)) s, $(cpu "$work/cpu-$n") s of CPU, exit $rc)"
    [ "$rc" -eq 0 ] || status=1
}

step 1 "$here/flips.py" "$evidence" "$work" "${TRIALS_FLIPS:-780}"
step 2 "$here/crafted.py" "$evidence" "$work" --bomb-entries "${TRIALS_BOMB_ENTRIES:-5000}"
step 3 "$here/records.py" "$evidence" "$work" --items "${TRIALS_RECORD_ITEMS:-1000000}" \
    --events "${TRIALS_RECORD_EVENTS:-100000}" --depth "${TRIALS_RECORD_DEPTH:-100000}" \
    --big-mb "${TRIALS_RECORD_MB:-200}"
step 4 "$here/kills.py" "$evidence" "$work" "${TRIALS_KILLS:-132}"
step 5 "$here/parallel.py" "$evidence" "$work" "${TRIALS_WRITERS:-8}" "${TRIALS_ROUNDS:-4}"

echo
if [ "$status" -eq 0 ]; then
    echo "ALL PASSED ($(($(date +%s) - t_start)) s, $(cpu "$work"/cpu-*) s of CPU)"
else
    echo "SOME TRIALS FAILED ($(($(date +%s) - t_start)) s, $(cpu "$work"/cpu-*) s of CPU): see the FAILED lines above"
fi
exit "$status"
