#!/bin/bash
# Quick start: install dependencies, build, then pack the bundled samples/
# into a bundle, verify it and print a short summary.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake --preset release -DEVIDENCE_BUILD_TESTS=OFF >/dev/null
cmake --build --preset release -j"$(nproc)" >/dev/null
EVIDENCE=build/release/tools/evidence

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
