#!/bin/bash
# The committed samples are exactly the files described in samples/README.md.
set -euo pipefail
cd "$EV_SOURCE_DIR/samples/media"
mkdir -p "${EV_TEST_TMP:-/tmp}"
sed -n '/^```$/,/^```$/p' ../README.md | grep -E '^[0-9a-f]{64}  ' > "${EV_TEST_TMP:-/tmp}/samples.sha256"
n=$(wc -l < "${EV_TEST_TMP:-/tmp}/samples.sha256")
[ "$n" -eq "$(ls | wc -l)" ] || { echo "samples/README.md lists $n files, samples/media has $(ls | wc -l)"; exit 1; }
sha256sum -c "${EV_TEST_TMP:-/tmp}/samples.sha256"
