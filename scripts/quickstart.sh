#!/bin/bash
# Quick start: install dependencies, build, install the tool (/usr/local),
# then pack the bundled samples/ into a bundle, verify it and print a short
# summary.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake --preset release -DEVIDENCE_BUILD_TESTS=OFF >/dev/null
cmake --build --preset release -j"$(nproc)" >/dev/null
# Install the tool, its library, headers and profiles under /usr/local, so
# that 'evidence' is on PATH (as root; otherwise use the build's copy).
EVIDENCE=build/release/tools/evidence
if [ "$(id -u)" -eq 0 ]; then
  cmake --install build/release >/dev/null
  ldconfig
  EVIDENCE=$(command -v evidence || echo /usr/local/bin/evidence)
  echo "installed: $EVIDENCE ($("$EVIDENCE" --version | head -1))"
else
  echo "not root: nothing installed; the tool is $PWD/$EVIDENCE"
fi

out=build/quickstart
rm -rf "$out"
mkdir -p "$out"
echo
echo "== pack samples/ into $out/SAMPLE-CASE.zip"
"$EVIDENCE" pack -o "$out/SAMPLE-CASE.zip" --case "SAMPLE/1" --exhibit "QS/1" \
  --officer "Quick Start" --org "Example Constabulary" \
  samples/media
echo
echo "== verify it"
"$EVIDENCE" verify "$out/SAMPLE-CASE.zip"
echo
echo "== what is inside"
"$EVIDENCE" inspect "$out/SAMPLE-CASE.zip"
