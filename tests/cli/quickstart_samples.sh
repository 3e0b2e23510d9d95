#!/bin/bash
# The quick start's main job on samples/: pack, verify, inspect, extract.
set -euo pipefail
mkdir -p "${EV_TEST_TMP:-/tmp}"; T=$(mktemp -d "${EV_TEST_TMP:-/tmp}/qs.XXXXXX"); trap 'rm -rf "$T"' EXIT
E=$EVIDENCE
"$E" pack -o "$T/CASE.zip" --case "SAMPLE/1" --exhibit "QS/1" --officer "Quick Start" \
  --org "Example Constabulary" "$EV_SOURCE_DIR/samples/media" > "$T/pack.out"
grep -q "packed 4 item(s)" "$T/pack.out"
"$E" verify "$T/CASE.zip" | grep -q "valid (.*0 error(s)"
"$E" inspect --json "$T/CASE.zip" > "$T/inspect.json"
python3 - "$T/inspect.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["format"] == "evidence.inspect", d["format"]
assert d["case"]["reference"] == "SAMPLE/1"
items = {i["original_name"]: i for i in d["items"]}
assert set(items) == {"CLIP_0001.mp4", "IMG_0001.jpg", "INTERVIEW_0001.wav", "notes.txt"}, items.keys()
assert items["IMG_0001.jpg"]["mime"] == "image/jpeg", items["IMG_0001.jpg"]["mime"]
assert items["notes.txt"]["mime"] == "text/plain"
assert items["IMG_0001.jpg"]["path"] == "data/QS_1/media/IMG_0001.jpg"
assert d["custody"][0]["event"]["action"] == "created"
PY
"$E" extract "$T/CASE.zip" "$T/x" > /dev/null
diff -r "$EV_SOURCE_DIR/samples/media" "$T/x/data/QS_1/media"
unzip -q "$T/CASE.zip" -d "$T/u"
(cd "$T/u/CASE" && sha256sum -c --quiet manifest-sha256.txt)
echo "quickstart samples: ok"
