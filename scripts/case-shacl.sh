#!/bin/bash
# Check a bundle's case.jsonld with a SHACL validator (npm: rdf-validate-shacl,
# jsonld, n3), offline, installing them on first use into
# $EV_BUILD_DIR/node-shacl (or build/node-shacl).
#   scripts/case-shacl.sh BUNDLE.zip|case.jsonld [SHAPES.ttl...]
# Shapes: those given, else tests/tools/case-core-shapes.ttl (a few rules
# written for this project, not the CASE/UCO shapes) and, when the
# CASE_UCO_SHAPES environment variable names a Turtle file (e.g. the
# CASE/UCO 1.4 monolithic ontology with its shapes), that file too.
# Prints the validation report (JSON). Exit 0 conforms, 1 does not, 2 error,
# 77 when npm is not available (callers treat that as "skipped").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: scripts/case-shacl.sh BUNDLE.zip|case.jsonld [SHAPES.ttl...]" >&2; exit 2; }
in=$1; shift
dir=${EV_BUILD_DIR:-$root/build}/node-shacl
if [ ! -d "$dir/node_modules/rdf-validate-shacl" ] || [ ! -d "$dir/node_modules/@zazuko/env-node" ]; then
  command -v npm >/dev/null || { echo "case-shacl: npm is not available" >&2; exit 77; }
  mkdir -p "$dir"
  exec 9>"$dir/.install.lock"
  flock 9
  if [ ! -d "$dir/node_modules/@zazuko/env-node" ]; then
    (cd "$dir" && { [ -f package.json ] || echo '{"name":"evidence-shacl","private":true,"type":"module"}' > package.json; } &&
     npm install --silent --no-audit --no-fund rdf-validate-shacl@0.6 jsonld@9 n3@1 @zazuko/env-node@3 >/dev/null 2>&1) ||
      { echo "case-shacl: npm install of the validator failed" >&2; exit 77; }
  fi
  flock -u 9
  exec 9>&-
fi
cp "$root/tests/tools/case_shacl.mjs" "$dir/case_shacl.mjs"
data=$in
case "$in" in
  *.zip)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    entry=$(unzip -Z1 "$in" | grep -E '^[^/]+/case\.jsonld$' | head -n1) ||
      { echo "case-shacl: no case.jsonld in $in" >&2; exit 2; }
    unzip -p "$in" "$entry" >"$tmp/case.jsonld"
    data=$tmp/case.jsonld ;;
esac
if [ $# -eq 0 ]; then
  set -- "$root/tests/tools/case-core-shapes.ttl"
  if [ -n "${CASE_UCO_SHAPES:-}" ]; then
    set -- "$@" "$CASE_UCO_SHAPES"
  fi
fi
node "$dir/case_shacl.mjs" "$data" "$@"
