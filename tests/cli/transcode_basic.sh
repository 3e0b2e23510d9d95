#!/bin/bash
# evidence transcode: working-copy-h264 and remux copies are made, verified
# and recorded; the record and --json output follow the schema; the copy
# passes 'evidence check' and decodes with Debian's ffmpeg without errors.
. "$(dirname "$0")/lib.sh"
export EVIDENCE_PROFILE_PATH=$EV_SOURCE_DIR/profiles
S=$EV_SOURCE_DIR/docs/schema
FF="ffmpeg -nostdin -hide_banner -v error -y"

# validate FILE DEF: FILE against derivation.schema.json (DEF "" = the
# record itself, else one of its $defs) with ajv; 77 = ajv unavailable
validate() {
    local ref="https://evidence.example/schema/derivation.schema.json"
    [ -n "$2" ] && ref="$ref#/\$defs/$2"
    printf '{"$schema":"https://json-schema.org/draft/2020-12/schema","$ref":"%s"}\n' "$ref" >"$T/wrap.json"
    bash "$EV_SOURCE_DIR/scripts/ajv.sh" validate --spec=draft2020 --strict=false -c ajv-formats \
        -s "$T/wrap.json" -r "$S/derivation.schema.json" -d "$1" >"$T/ajv.txt" 2>&1
}
schema_ok() {
    validate "$1" "$2"
    case $? in
    0) pass ;;
    77) skip_case "ajv unavailable (no npm): $1 not validated" ;;
    *) fail "$1 does not match the schema ($2)"; head -20 "$T/ajv.txt" >&2 ;;
    esac
}

cd "$T" || die "no scratch folder"
$FF -f lavfi -i testsrc2=size=160x120:rate=25 -f lavfi -i sine=sample_rate=48000 -t 2 \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 96k \
    -metadata location=+51.500712-000.124611/ -metadata creation_time=2024-05-01T10:20:30Z \
    src.mov || die "cannot make the source clip"

expect_exit 0 "$EVIDENCE" transcode --profile working-copy-h264 src.mov wc.mp4
ok "copy made" test -s wc.mp4
ok "record written beside the copy" test -s wc.mp4.derivation.json
ok "summary on stdout" grep -q 'wc.mp4: made with profile working-copy-h264 (quality-bounded): pass' "$OUT"
ok "no temporary file left" bash -c '! ls -a | grep -q partial'
ok "verdict pass" test "$(json_get wc.mp4.derivation.json verification.verdict)" = pass
ok "source hash recorded" test "$(json_get wc.mp4.derivation.json source.sha256)" = "$(sha256sum src.mov | cut -d' ' -f1)"
ok "output hash recorded" test "$(json_get wc.mp4.derivation.json output.sha256)" = "$(sha256sum wc.mp4 | cut -d' ' -f1)"
ok "profile hash recorded" test "$(json_get wc.mp4.derivation.json profile.sha256)" = "$(sha256sum "$EV_SOURCE_DIR/profiles/working-copy-h264.json" | cut -d' ' -f1)"
ok "x264 settings recorded" test "$(json_get wc.mp4.derivation.json settings.streams.0.encoder_options.crf)" = 18
ok "PSNR reported" json_get wc.mp4.derivation.json verification.streams.0.psnr_db.min
ok "GPS kept verbatim" test "$(json_get wc.mp4.derivation.json metadata.location.output)" = "+51.500712-000.124611/"
schema_ok wc.mp4.derivation.json ""

expect_exit 0 "$EVIDENCE" check --profile working-copy-h264 wc.mp4
ok "check says pass" grep -q 'wc.mp4: pass against working-copy-h264' "$OUT"
run ffmpeg -nostdin -xerror -v error -i wc.mp4 -f null -
ok "ffmpeg decodes the copy without errors" test "$RC" -eq 0 -a ! -s "$ERR"
if command -v exiftool >/dev/null; then
    ok "exiftool reads the GPS unrounded" bash -c "exiftool -n -s3 -GPSCoordinates wc.mp4 | grep -q 51.500712"
fi

# the output exists: refused, nothing changed
before=$(sha256sum wc.mp4)
expect_exit 4 "$EVIDENCE" transcode --profile working-copy-h264 src.mov wc.mp4
expect_message
ok "existing output untouched" test "$(sha256sum wc.mp4)" = "$before"

# a record whose copy exists too: refused before any work, both untouched
printf '{}\n' > k.mkv.derivation.json
cp src.mov k.mkv
expect_exit 4 "$EVIDENCE" transcode --profile remux-mkv src.mov k.mkv
ok "an existing copy and record: the copy is untouched" cmp -s src.mov k.mkv
ok "an existing copy and record: the record is untouched" test "$(cat k.mkv.derivation.json)" = '{}'
rm -f k.mkv
# a record left without its copy (a run killed between the two renames,
# record first): replaced, and the new record says so
expect_exit 0 "$EVIDENCE" transcode --profile remux-mkv src.mov k.mkv
ok "an orphan record is replaced by the new one" \
    test "$(json_get k.mkv.derivation.json output.sha256)" = "$(sha256sum k.mkv | cut -d' ' -f1)"
ok "the new record notes the replacement" grep -q 'left without its copy' k.mkv.derivation.json
# a record that exists beside a copy that is not published (verification
# fails or the copy cannot be renamed) is removed again: shown by the
# refusal above leaving no partial record
ok "no temporary record left" bash -c '! ls -a | grep -q "derivation.json.partial"'

# --json: the record on stdout, nothing beside the copy; a killed earlier
# run's temporary copy (".r.mkv.partial-*", no lock holder) is removed
printf 'stale' > .r.mkv.partial-AbC123
expect_exit 0 "$EVIDENCE" transcode --profile remux-mkv --json src.mov r.mkv
ok "a stale temporary copy of the target is removed" test ! -e .r.mkv.partial-AbC123
cp "$OUT" r.json
ok "--json prints one JSON document" python3 "$TOOLS/evjson.py" valid r.json
ok "--json writes no record file" test ! -e r.mkv.derivation.json
ok "remux is packet-identical" test "$(json_get r.json verification.streams.0.method)" = packet-identical
schema_ok r.json ""

# --no-verify
expect_exit 0 "$EVIDENCE" transcode --profile remux-mp4 --no-verify --json src.mov nv.mp4
cp "$OUT" nv.json
ok "--no-verify says not-run" test "$(json_get nv.json verification.verdict)" = not-run
ok "--no-verify: the copy is not hashed, and the record says so" json_get nv.json output.sha256_note
schema_ok nv.json ""
# a record made without verification can be re-checked later
expect_exit 0 "$EVIDENCE" transcode --recheck nv.json --json src.mov nv.mp4
cp "$OUT" nvr.json
ok "recheck of a --no-verify copy passes" test "$(json_get nvr.json verdict)" = pass
ok "no output hash to compare" test "$(json_get nvr.json output_sha256_match)" = null

# --recheck: pass, then the copy is changed and the recheck fails (exit 1)
expect_exit 0 "$EVIDENCE" transcode --recheck wc.mp4.derivation.json src.mov wc.mp4
expect_exit 0 "$EVIDENCE" transcode --recheck wc.mp4.derivation.json --json src.mov wc.mp4
cp "$OUT" rc.json
schema_ok rc.json recheck
cp wc.mp4 wc2.mp4
printf '\x00' | dd of=wc2.mp4 bs=1 seek=$(( $(stat -c %s wc2.mp4) / 2 )) conv=notrunc status=none
run "$EVIDENCE" transcode --recheck wc.mp4.derivation.json src.mov wc2.mp4
ok "recheck of a changed copy does not pass (exit 1 or 3)" test "$RC" -eq 1 -o "$RC" -eq 3
ok "recheck says why" grep -q -i -E 'differs|damaged|changed' "$ERR"

# usage errors
expect_exit 2 "$EVIDENCE" transcode src.mov
expect_exit 2 "$EVIDENCE" transcode --profile working-copy-h264 src.mov
expect_exit 2 "$EVIDENCE" transcode --profile no-such-profile src.mov x.mp4
ok "unknown profile is named" grep -q "no-such-profile" "$ERR"
expect_exit 2 "$EVIDENCE" transcode --bogus --profile master src.mov x.mp4
expect_exit 0 "$EVIDENCE" transcode --help
ok "help text" grep -q -- '--no-verify' "$OUT"
finish
