#!/bin/bash
# evidence profiles: lists the shipped profiles; every shipped profile
# validates against docs/schema/profile.schema.json; the search path
# (--profile-dir, EVIDENCE_PROFILE_PATH) overrides; bad files are named.
. "$(dirname "$0")/lib.sh"
S=$EV_SOURCE_DIR/docs/schema
cd "$T" || die "no scratch folder"
unset EVIDENCE_PROFILE_PATH

# found relative to the binary (build tree) without any setting
expect_exit 0 "$EVIDENCE" profiles
for p in master working-copy-h264 archive-ffv1 remux-mkv remux-mp4 still-png audio-flac audio-wav; do
    ok "lists $p" grep -q "^$p " "$OUT"
done

expect_exit 0 "$EVIDENCE" profiles --json
cp "$OUT" list.json
ok "evidence.profiles format" test "$(json_get list.json format)" = evidence.profiles
printf '{"$schema":"https://json-schema.org/draft/2020-12/schema","$ref":"https://evidence.example/schema/derivation.schema.json#/$defs/profiles_list"}\n' > wrap.json
bash "$EV_SOURCE_DIR/scripts/ajv.sh" validate --spec=draft2020 --strict=false -c ajv-formats \
    -s wrap.json -r "$S/derivation.schema.json" -d list.json > ajv.txt 2>&1
rc=$?
if [ $rc -eq 77 ]; then
    skip_case "ajv unavailable"
else
    ok "profiles --json matches the schema" test $rc -eq 0 || cat ajv.txt >&2
    for f in "$EV_SOURCE_DIR"/profiles/*.json; do
        bash "$EV_SOURCE_DIR/scripts/ajv.sh" validate --spec=draft2020 --strict=false \
            -c ajv-formats -s "$S/profile.schema.json" -d "$f" > ajv.txt 2>&1
        ok "$(basename "$f") matches profile.schema.json" test $? -eq 0 || cat ajv.txt >&2
    done
    # the schema rejects what the loader rejects (the test can fail)
    printf '{"profile_format":1,"name":"x","kind":"av","verification":{"level":"exact"}}' > bad.json
    ! bash "$EV_SOURCE_DIR/scripts/ajv.sh" validate --spec=draft2020 --strict=false \
        -c ajv-formats -s "$S/profile.schema.json" -d bad.json >/dev/null 2>&1
    ok "schema rejects a bad level" test $? -eq 0
fi

expect_exit 0 "$EVIDENCE" profiles archive-ffv1
ok "one profile shown with its hash" grep -q "^sha256:   $(sha256sum "$EV_SOURCE_DIR/profiles/archive-ffv1.json" | cut -d' ' -f1)" "$OUT"
expect_exit 3 "$EVIDENCE" profiles no-such-profile
expect_message

# a folder of our own first: it shadows the shipped profile of the same name
mkdir mine
python3 - "$EV_SOURCE_DIR/profiles/master.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); p["title"] = "Local master"
json.dump(p, open("mine/master.json", "w"))
PY
expect_exit 0 "$EVIDENCE" profiles --profile-dir mine
ok "--profile-dir shadows" grep -q '^master .*Local master' "$OUT"
EVIDENCE_PROFILE_PATH=$T/mine expect_exit 0 "$EVIDENCE" profiles
ok "EVIDENCE_PROFILE_PATH shadows" grep -q '^master .*Local master' "$OUT"

# a bad file: the others are listed, the bad one named with its field, exit 3
printf '{"profile_format":1,"name":"oops","kind":"av","output":{"container":"mp4","video":{"rules":[{"action":"encode","encoder":"libx264","options":{"crf":"eighteen"}}]}},"verification":{"level":"quality-bounded"}}' > mine/oops.json
expect_exit 3 "$EVIDENCE" profiles --profile-dir mine
ok "bad file named" grep -q "mine/oops.json" "$ERR"
ok "bad field named" grep -q "options.crf" "$ERR"
ok "good ones still listed" grep -q '^archive-ffv1 ' "$OUT"
expect_exit 2 "$EVIDENCE" profiles --frobnicate
finish
