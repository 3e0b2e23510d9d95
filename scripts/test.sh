#!/bin/bash
# The whole test suite, as CI runs it (.ci/run calls this script):
#   1. dev build (-Werror) and every test, including the slow ones;
#   2. the same tests (less the slow ones) under AddressSanitizer + UBSan;
#   3. the library and the tool built optimised (Release, as the quick start
#      builds them) with warnings as errors: -O2/-O3 see more (truncation,
#      NULL arguments) than the dev build;
#   4. source checks: exported symbols, writable globals, banned calls, docs.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh || exit 1

status=0
step() { echo; echo "=== $*"; }

step "dev build (warnings are errors)"
cmake --preset dev >/dev/null && cmake --build --preset dev -j2 || exit 1

step "tests (dev)"
ctest --preset dev || status=1

step "AddressSanitizer + UndefinedBehaviorSanitizer build"
cmake --preset asan >/dev/null && cmake --build --preset asan -j2 || exit 1

step "tests (asan, without the slow label)"
ctest --preset asan -LE slow || status=1

step "optimised build of the library and the tool (Release, warnings are errors)"
{ cmake -S . -B build/release-werror -DCMAKE_BUILD_TYPE=Release -DEVIDENCE_WERROR=ON >/dev/null &&
  cmake --build build/release-werror -j2 --target evidence_cli; } || status=1

step "source checks"
bash scripts/checks.sh build/dev || status=1

echo
if [ $status -eq 0 ]; then echo "test.sh: all passed"; else echo "test.sh: FAILURES (see above)"; fi
exit $status
