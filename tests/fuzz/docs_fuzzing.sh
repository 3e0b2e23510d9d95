#!/usr/bin/env bash
# Runs the command blocks of docs/fuzzing.md marked
# "run by tests/fuzz/docs_fuzzing.sh", as printed, in order, in a folder that
# looks like the source tree (build/dev is the build folder under test,
# scripts/, samples/ and tests/tools/ are the sources, tests/fuzz/corpus/ is a
# copy, so that regenerating seeds does not touch the sources). Then replays
# the regenerated corpora once more with every new target's driver.
#
# usage: docs_fuzzing.sh SOURCE_DIR BUILD_DIR      (exit 77: tools missing)
set -uo pipefail
src=$1
build=$2
for t in python3 ffmpeg exiftool openssl unzip; do
    command -v "$t" >/dev/null || { echo "skip: $t missing"; exit 77; }
done
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
mkdir -p "$w/build" "$w/tests/fuzz"
ln -s "$build" "$w/build/dev"
ln -s "$src/scripts" "$w/scripts"
ln -s "$src/samples" "$w/samples"
ln -s "$src/tests/tools" "$w/tests/tools"
cp -r "$src/tests/fuzz/corpus" "$w/tests/fuzz/corpus"
n=$(python3 "$src/tests/tools/doccmds.py" extract "$src" docs/fuzzing.md \
    tests/fuzz/docs_fuzzing.sh "$w/blocks") || { echo "no block of docs/fuzzing.md is run here"; exit 1; }
fail=0
for b in "$w"/blocks/*.sh; do
    where=$(head -1 "$b" | sed 's/^# //')
    if (cd "$w" && bash -e -o pipefail "$b") >"$w/out" 2>&1; then
        echo "ok   $where"
    else
        echo "FAIL $where"
        sed 's/^/     /' "$w/out" | tail -20
        fail=1
    fi
done
echo "$n block(s) of docs/fuzzing.md run"
for t in zip bagit amend mp4box; do
    if "$build/tests/fuzz/${t}_fuzzer_replay" "$w/tests/fuzz/corpus/$t" >"$w/out" 2>&1; then
        echo "ok   regenerated $t corpus replays: $(tail -1 "$w/out")"
    else
        echo "FAIL regenerated $t corpus does not replay"
        tail -20 "$w/out"
        fail=1
    fi
done
exit $fail
