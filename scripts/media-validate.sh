#!/usr/bin/env bash
# Validate media JSON outputs against docs/schema/media.schema.json with a
# real JSON Schema validator (ajv-cli + ajv-formats, draft 2020-12).
#
# usage: scripts/media-validate.sh SCHEMA DIR
#   DIR holds files named media-*.json, capture-*.json, content_hashes-*.json,
#   deep_findings-*.json (validated against the $defs of the same name) and
#   doc-*.json (validated against the top-level evidence.media schema).
# The validator comes from scripts/ajv.sh (installed with npm on first use
# into $EV_BUILD_DIR/node, or build/node); a lock keeps parallel tests from
# installing it twice at the same time.
# Exit: 0 valid, 1 invalid, 77 npm (or the install) is not available (skip).
set -euo pipefail

schema=${1:?usage: media-validate.sh SCHEMA DIR}
dir=${2:?usage: media-validate.sh SCHEMA DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
nodedir=${EV_BUILD_DIR:-$root/build}/node
mkdir -p "$nodedir"
ajv() {
    (
        flock 9
        bash "$root/scripts/ajv.sh" "$@"
    ) 9>"$nodedir.lock"
}
rc=0
ajv help >/dev/null 2>&1 || rc=$?
if [ "$rc" -eq 77 ]; then
    echo "media-validate: npm or ajv is not available; schema validation skipped" >&2
    exit 77
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
    if ! out=$(ajv validate --spec=draft2020 --strict=false -c ajv-formats \
               -s "$main" "${refs[@]}" -d "$dir/$def-*.json" 2>&1); then
        echo "media-validate: invalid $def:" >&2
        echo "$out" | grep -v ' valid$' >&2
        rc=1
    fi
done
exit $rc
