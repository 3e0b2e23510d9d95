#!/bin/bash
# pack --profile adds verified working copies; verify checks the derivation
# chain and --deep re-runs the verification; a swapped copy is caught.
set -uo pipefail
mkdir -p "${EV_TEST_TMP:-/tmp}"; T=$(mktemp -d "${EV_TEST_TMP:-/tmp}/pp.XXXXXX"); trap 'rm -rf "$T"' EXIT
E=$EVIDENCE
fail() { echo "FAIL: $*"; exit 1; }
export EVIDENCE_PROFILE_PATH=$EV_SOURCE_DIR/profiles
"$E" pack --format dir -o "$T/b" --exhibit JS/1 --profile remux-mkv --profile working-copy-h264 \
  "$EV_SOURCE_DIR/samples/media/CLIP_0001.mp4" "$EV_SOURCE_DIR/samples/media/IMG_0001.jpg" \
  2> "$T/err" > "$T/out" || { cat "$T/err"; fail "pack --profile"; }
grep -q "packed 4 item(s)" "$T/out" || { cat "$T/out"; fail "expected 2 masters + 2 copies"; }
[ -f "$T/b/data/JS_1/derived/remux-mkv/CLIP_0001.mkv" ] || fail "no remux copy"
[ -f "$T/b/data/JS_1/derived/working-copy-h264/CLIP_0001.mp4" ] || fail "no working copy"
python3 - "$T/b/evidence.json" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
der = [i for i in d["items"] if i["role"] == "derivative"]
assert len(der) == 2, der
for i in der:
    f = i["derived_from"]
    assert f["item"] == "item-0001" and f["verdict"] == "pass", f
    assert f["record"].startswith("meta/") and f["record"].endswith("/derivation.json")
PY
[ "$(grep -c '"action":"transcoded"' "$T/b/custody.jsonl")" = 2 ] || fail "expected two transcoded custody events"
"$E" verify --deep "$T/b" > "$T/v" || { cat "$T/v"; fail "verify --deep of a good bundle"; }
# replace the working copy by another valid video: hashes, record and chain must catch it
cp "$EV_SOURCE_DIR/samples/media/CLIP_0001.mp4" "$T/b/data/JS_1/derived/working-copy-h264/CLIP_0001.mp4"
"$E" verify "$T/b" > "$T/v2"; rc=$?
[ $rc -eq 1 ] || fail "swapped copy: exit $rc"
grep -q "derived/working-copy-h264/CLIP_0001.mp4" "$T/v2" || fail "swapped copy not named"
echo "pack --profile: ok"
