#!/bin/bash
# Run the ajv JSON Schema validator (npm: ajv-cli + ajv-formats), installing
# it on first use into $EV_BUILD_DIR/node (or build/node).
#   scripts/ajv.sh validate --spec=draft2020 -c ajv-formats -s SCHEMA [-r REF]... -d DATA
# Exit 77 when npm is not available (callers treat that as "skipped").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${EV_BUILD_DIR:-$root/build}/node
bin=$dir/node_modules/.bin/ajv
if [ ! -x "$bin" ]; then
  command -v npm >/dev/null || { echo "ajv: npm is not available" >&2; exit 77; }
  mkdir -p "$dir"
  # one install at a time: tests run in parallel
  exec 9>"$dir/.install.lock"
  flock 9
  if [ ! -x "$bin" ]; then
    (cd "$dir" && { [ -f package.json ] || echo '{"name":"evidence-test-tools","private":true}' > package.json; } &&
     npm install --silent --no-audit --no-fund ajv-cli@5 ajv-formats@2 >/dev/null 2>&1) ||
      { echo "ajv: npm install ajv-cli failed" >&2; exit 77; }
  fi
  flock -u 9
  exec 9>&-
fi
exec "$bin" "$@"
