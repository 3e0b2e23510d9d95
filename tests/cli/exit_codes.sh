#!/bin/bash
# Every documented exit code of the bundle commands (docs/cli/exit-codes.md).
set -uo pipefail
mkdir -p "${EV_TEST_TMP:-/tmp}"; T=$(mktemp -d "${EV_TEST_TMP:-/tmp}/ec.XXXXXX"); trap 'rm -rf "$T"' EXIT
E=$EVIDENCE
fails=0
expect() { local want=$1; shift; "$@" >"$T/out" 2>"$T/err"; local got=$?
  if [ "$got" != "$want" ]; then echo "FAIL: '$*' exited $got, expected $want"; cat "$T/err"; fails=$((fails+1)); fi; }
printf 'a\n' > "$T/a.txt"
expect 0 "$E" pack -o "$T/ok.zip" "$T/a.txt"
expect 0 "$E" verify "$T/ok.zip"
expect 2 "$E" verify
expect 2 "$E" nosuchcommand
expect 2 "$E" verify --no-such-option "$T/ok.zip"
expect 2 "$E" pack "$T/a.txt"
expect 3 "$E" verify "$T/does-not-exist.zip"
printf 'not a zip' > "$T/junk.zip"
expect 3 "$E" verify "$T/junk.zip"
# 1: a modified payload file (folder form)
expect 0 "$E" pack --format dir -o "$T/bag" "$T/a.txt"
printf 'b\n' > "$T/bag/data/1/a.txt"
expect 1 "$E" verify "$T/bag"
grep -q "data/1/a.txt" "$T/out" || { echo "FAIL: modified file not named"; fails=$((fails+1)); }
# 4: output folder not writable (as root, a path under a regular file)
expect 4 "$E" pack -o "$T/a.txt/sub/out.zip" "$T/a.txt"
# 0 for --help
expect 0 "$E" help verify
expect 0 "$E" verify --help
[ $fails -eq 0 ] && echo "exit codes: ok"
exit $fails
