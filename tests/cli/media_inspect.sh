#!/bin/bash
# evidence inspect FILE on single media files: the evidence.media document
# validates against docs/schema/media.schema.json (ajv), its facts and
# content hashes agree with ffprobe, exiftool and ffmpeg's streamhash, media
# that cannot be parsed is shown with media.error (exit 0), and a missing
# file exits 3.
. "$(dirname "$0")/lib.sh"

command -v ffmpeg >/dev/null && command -v exiftool >/dev/null ||
    { skip_case "ffmpeg or exiftool missing"; finish; }
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

ff -f lavfi -i testsrc2=size=160x120:rate=25 -f lavfi -i sine=sample_rate=48000 -t 1 \
   -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -b:a 32k "$T/clip.mp4" ||
    die "cannot make clip.mp4"
exiftool -q -q -overwrite_original -Rotation=90 -Keys:GPSCoordinates="51.5007, -0.1246, 12.5" \
    "$T/clip.mp4" || die "exiftool failed"
ff -f lavfi -i sine=sample_rate=48000 -t 0.5 -c:a pcm_s24le "$T/tape.wav" || die "no wav"
ff -f lavfi -i testsrc2=size=64x48 -frames:v 1 "$T/photo.jpg" || die "no jpg"
exiftool -q -q -overwrite_original -Make=CliMake -DateTimeOriginal="2024:05:01 10:20:30" \
    -OffsetTimeOriginal="+01:00" -Orientation#=8 "$T/photo.jpg" || die "exiftool failed"
printf 'not media at all\n' >"$T/notes.mp4"

mkdir -p "$T/docs"
n=0
for f in clip.mp4 tape.wav photo.jpg notes.mp4; do
    expect_exit 0 "$EVIDENCE" inspect --json "$T/$f" || continue
    ok "$f: one JSON document" python3 "$TOOLS/evjson.py" valid "$OUT"
    cp "$OUT" "$T/docs/doc-$n.json"
    n=$((n + 1))
done

# facts and hashes against the reference tools
expect_exit 0 "$EVIDENCE" inspect --json "$T/clip.mp4"
cp "$OUT" "$T/clip.json"
ok "format" [ "$(json_get "$T/clip.json" format)" = "evidence.media" ]
ok "rotation 90 clockwise" [ "$(json_get "$T/clip.json" media.streams.0.rotation)" = "90.0" ]
ok "ffprobe's rotation" [ "$(json_get "$T/clip.json" media.streams.0.display_matrix_rotation)" = \
    "$(ffprobe -v error -select_streams v:0 -show_entries stream_side_data=rotation -of csv=p=0 "$T/clip.mp4" | grep -m1 .)".0 ]
ok "GPS latitude" python3 -c "import json,sys; d=json.load(open('$T/clip.json')); sys.exit(abs(d['capture']['gps']['latitude']-51.5007)>1e-9)"
ok "file sha256" [ "$(json_get "$T/clip.json" file.sha256)" = "$(sha256sum "$T/clip.mp4" | cut -c1-64)" ]
want=$(ffmpeg -nostdin -v error -i "$T/clip.mp4" -map 0 -c copy -f streamhash -hash sha256 - |
       sed -n 's/^0,v,SHA256=//p')
ok "video packet hash = streamhash" [ "$(json_get "$T/clip.json" content_hashes.0.packets.sha256)" = "$want" ]
want=$(ffmpeg -nostdin -v error -i "$T/tape.wav" -c:a pcm_s24le -f streamhash -hash sha256 - |
       sed -n 's/^0,a,SHA256=//p')
expect_exit 0 "$EVIDENCE" inspect --json "$T/tape.wav"
ok "24-bit audio hashed as pcm_s24le" [ "$(json_get "$OUT" content_hashes.0.decoded.as)" = "pcm_s24le" ]
ok "decoded hash = streamhash pcm_s24le" [ "$(json_get "$OUT" content_hashes.0.decoded.sha256)" = "$want" ]
expect_exit 0 "$EVIDENCE" inspect --json "$T/photo.jpg"
ok "EXIF date with offset" [ "$(json_get "$OUT" capture.datetime_original)" = "2024-05-01T10:20:30+01:00" ]
ok "EXIF orientation 8" [ "$(json_get "$OUT" capture.orientation)" = "8" ]
ok "EXIF make" [ "$(json_get "$OUT" capture.make)" = "CliMake" ]

# not media: shown, with the reason
expect_exit 0 "$EVIDENCE" inspect --json "$T/notes.mp4"
ok "media.error for a text file" json_get "$OUT" media.error
expect_exit 0 "$EVIDENCE" inspect "$T/notes.mp4"
ok "human output says why" grep -q "not recognised as media" "$OUT"
expect_exit 0 "$EVIDENCE" inspect "$T/clip.mp4"
ok "human output shows the rotation" grep -q "rotation 90" "$OUT"

# missing input
expect_exit 3 "$EVIDENCE" inspect --json "$T/missing.mp4"
expect_message

# every document validates against the schema
run bash "$EV_SOURCE_DIR/scripts/media-validate.sh" "$EV_SOURCE_DIR/docs/schema/media.schema.json" "$T/docs"
if [ "$RC" -eq 77 ]; then
    skip_case "npm not available: schema not checked"
else
    ok "documents match media.schema.json" [ "$RC" -eq 0 ] || show_last
fi
finish
