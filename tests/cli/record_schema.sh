#!/bin/bash
# evidence.json written by pack validates against docs/schema/evidence.schema.json
# (with media.schema.json for the media sections), using ajv, a real validator.
set -uo pipefail
mkdir -p "${EV_TEST_TMP:-/tmp}"; T=$(mktemp -d "${EV_TEST_TMP:-/tmp}/rs.XXXXXX"); trap 'rm -rf "$T"' EXIT
S=$EV_SOURCE_DIR/docs/schema
"$EVIDENCE" pack -o "$T/b.zip" --case C/1 --exhibit "JS/1" --officer O --org G \
  --algorithm sha256,sha512 "$EV_SOURCE_DIR/samples/media" >/dev/null || { echo "pack failed"; exit 1; }
unzip -p "$T/b.zip" b/evidence.json > "$T/evidence.json" || exit 1
refs=()
[ -f "$S/media.schema.json" ] && refs=(-r "$S/media.schema.json" -r "$S/schedule.schema.json")
bash "$EV_SOURCE_DIR/scripts/ajv.sh" validate --spec=draft2020 --strict=false -c ajv-formats \
  -s "$S/evidence.schema.json" "${refs[@]}" -d "$T/evidence.json"
rc=$?
[ $rc -eq 77 ] && { echo "SKIPPED: npm is not available, cannot install ajv"; exit 77; }
[ $rc -eq 0 ] || exit 1
# and a record that breaks the schema is caught (the test can fail)
python3 -c "
import json,sys
d=json.load(open('$T/evidence.json')); d['items'][0]['hashes']['sha256']='XYZ'
json.dump(d,open('$T/bad.json','w'))"
if bash "$EV_SOURCE_DIR/scripts/ajv.sh" validate --spec=draft2020 --strict=false -c ajv-formats \
  -s "$S/evidence.schema.json" "${refs[@]}" -d "$T/bad.json" >/dev/null 2>&1; then
  echo "FAIL: a record with a bad digest passed the schema"; exit 1
fi
echo "record schema: ok"
