#!/usr/bin/env bash
# Validate media JSON outputs against docs/schema/media.schema.json with a
# real JSON Schema validator (ajv-cli + ajv-formats, draft 2020-12).
#
# usage: scripts/media-validate.sh SCHEMA DIR
#   DIR holds files named media-*.json, capture-*.json, content_hashes-*.json,
#   deep_findings-*.json (validated against the $defs of the same name) and
#   doc-*.json (validated against the top-level evidence.media schema).
# ajv is installed with npm into $EV_AJV_DIR (default: <EV_TEST_TMP>/../npm-ajv,
# i.e. inside the build folder) when missing.
# Exit: 0 valid, 1 invalid or install failed, 77 npm is not available (skip).
set -euo pipefail

schema=${1:?usage: media-validate.sh SCHEMA DIR}
dir=${2:?usage: media-validate.sh SCHEMA DIR}
ajvdir=${EV_AJV_DIR:-${EV_TEST_TMP:-/tmp}/../npm-ajv}

ajv="$ajvdir/node_modules/.bin/ajv"
if [ ! -x "$ajv" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "media-validate: npm is not available; schema validation skipped" >&2
        exit 77
    fi
    mkdir -p "$ajvdir"
    if ! (cd "$ajvdir" && npm install --silent --no-audit --no-fund ajv-cli@5 ajv-formats@2 >&2); then
        echo "media-validate: 'npm install ajv-cli ajv-formats' failed in $ajvdir" >&2
        exit 1
    fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
id=$(sed -n 's/^ *"\$id": *"\([^"]*\)".*/\1/p' "$schema" | head -1)
rc=0
for def in media capture content_hashes deep_findings doc; do
    shopt -s nullglob
    files=("$dir"/"$def"-*.json)
    shopt -u nullglob
    [ ${#files[@]} -gt 0 ] || continue
    if [ "$def" = doc ]; then
        main="$schema"
        refs=()
    else
        main="$work/$def.json"
        printf '{"$schema":"https://json-schema.org/draft/2020-12/schema","$ref":"%s#/$defs/%s"}\n' \
            "$id" "$def" >"$main"
        refs=(-r "$schema")
    fi
    # one validator run per kind: ajv takes a glob and reports every invalid file
    if ! out=$("$ajv" validate --spec=draft2020 --strict=false -c ajv-formats \
               -s "$main" "${refs[@]}" -d "$dir/$def-*.json" 2>&1); then
        echo "media-validate: invalid $def:" >&2
        echo "$out" | grep -v ' valid$' >&2
        rc=1
    fi
done
exit $rc
