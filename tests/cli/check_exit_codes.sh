#!/bin/bash
# evidence check: 0 all pass, 1 some fail, 3 unreadable, 2 usage; --json
# follows the schema; FFV1 slice CRC damage is found.
. "$(dirname "$0")/lib.sh"
export EVIDENCE_PROFILE_PATH=$EV_SOURCE_DIR/profiles
FF="ffmpeg -nostdin -hide_banner -v error -y"
cd "$T" || die "no scratch folder"
$FF -f lavfi -i testsrc2=size=64x48:rate=25 -t 1 -c:v ffv1 -level 3 -g 1 -slices 16 \
    -slicecrc 1 -coder 1 -context 1 good.mkv || die fixture
$FF -f lavfi -i testsrc2=size=64x48:rate=25 -t 1 -c:v ffv1 -level 1 -g 10 plain.mkv || die fixture
python3 -c "
d=bytearray(open('good.mkv','rb').read()); d[len(d)//2]^=0x10
open('crcbad.mkv','wb').write(d)" || die fixture

expect_exit 0 "$EVIDENCE" check --profile archive-ffv1 good.mkv
ok "FFV1 version measured" grep -q 'ffv1_version #0 .*measured 3' "$OUT"
ok "slice CRCs verified" grep -q 'pass  ffv1_slice_crc' "$OUT"

expect_exit 1 "$EVIDENCE" check --profile archive-ffv1 plain.mkv
ok "GOP failure shows the value" grep -q 'fail  gop #0 .*measured 10' "$OUT"
ok "no-CRC failure" grep -q 'fail  ffv1_slice_crc' "$OUT"

expect_exit 1 "$EVIDENCE" check --profile archive-ffv1 crcbad.mkv
ok "CRC damage found" grep -q 'CRC mismatch' "$OUT"

expect_exit 1 "$EVIDENCE" check --profile working-copy-h264 good.mkv
ok "n/a for missing audio" grep -q '^n/a   audio_codec' "$OUT"

printf 'not media' > text.bin
expect_exit 3 "$EVIDENCE" check --profile archive-ffv1 text.bin
expect_message
expect_exit 3 "$EVIDENCE" check --profile archive-ffv1 nothere.mkv
expect_exit 2 "$EVIDENCE" check good.mkv
expect_exit 2 "$EVIDENCE" check --profile archive-ffv1
expect_exit 2 "$EVIDENCE" check --profile nope good.mkv

# several files: the worst result wins, and --json lists each
expect_exit 3 "$EVIDENCE" check --profile archive-ffv1 good.mkv plain.mkv text.bin
expect_exit 1 "$EVIDENCE" check --json --profile archive-ffv1 good.mkv plain.mkv
cp "$OUT" many.json
ok "evidence.checks format" test "$(json_get many.json format)" = evidence.checks
expect_exit 0 "$EVIDENCE" check --json --profile archive-ffv1 good.mkv
cp "$OUT" one.json
ok "evidence.check format" test "$(json_get one.json format)" = evidence.check
ok "verdict pass" test "$(json_get one.json verdict)" = pass
S=$EV_SOURCE_DIR/docs/schema
for f in one:check_report many:checks_report; do
    printf '{"$schema":"https://json-schema.org/draft/2020-12/schema","$ref":"https://evidence.example/schema/derivation.schema.json#/$defs/%s"}\n' "${f#*:}" > wrap.json
    bash "$EV_SOURCE_DIR/scripts/ajv.sh" validate --spec=draft2020 --strict=false -c ajv-formats \
        -s wrap.json -r "$S/derivation.schema.json" -d "${f%%:*}.json" > ajv.txt 2>&1
    case $? in
    0) pass ;;
    77) skip_case "ajv unavailable" ;;
    *) fail "${f%%:*}.json does not match the schema"; cat ajv.txt >&2 ;;
    esac
done
finish
