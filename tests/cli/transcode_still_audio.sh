#!/bin/bash
# still-png carries the EXIF block into the PNG eXIf chunk (GPS and time
# unchanged, Orientation kept); audio-flac/audio-wav keep every sample at
# native depth (checked independently with ffmpeg's md5 of the PCM).
. "$(dirname "$0")/lib.sh"
export EVIDENCE_PROFILE_PATH=$EV_SOURCE_DIR/profiles
FF="ffmpeg -nostdin -hide_banner -v error -y"
cd "$T" || die "no scratch folder"

$FF -f lavfi -i testsrc2=size=96x64 -frames:v 1 -q:v 2 photo.jpg || die fixture
if command -v exiftool >/dev/null; then
    exiftool -q -overwrite_original -Make=TestCam '-DateTimeOriginal=2024:05:01 10:20:30' \
        -GPSLatitude=51.500712 -GPSLatitudeRef=N -GPSLongitude=0.124611 -GPSLongitudeRef=W \
        -Orientation#=6 photo.jpg || die "exiftool"
    expect_exit 0 "$EVIDENCE" transcode --profile still-png photo.jpg photo.png
    ok "EXIF copied verbatim" test "$(json_get photo.png.derivation.json metadata.exif.identical)" = true
    ok "GPS in the PNG" test "$(exiftool -n -s3 -GPSLatitude photo.png)" = 51.500712
    ok "time in the PNG" test "$(exiftool -s3 -DateTimeOriginal photo.png)" = "2024:05:01 10:20:30"
    ok "Orientation kept" test "$(exiftool -n -s3 -Orientation photo.png)" = 6
    ok "JPEG converted to rgb24, recorded" test "$(json_get photo.png.derivation.json settings.streams.0.conversion.to)" = rgb24
    expect_exit 0 "$EVIDENCE" check --profile still-png photo.png
else
    skip_case "exiftool not installed"
fi
$FF -f lavfi -i testsrc2=size=64x48:rate=25 -t 1 clip.mkv || die fixture
expect_exit 3 "$EVIDENCE" transcode --profile still-png clip.mkv clip.png
ok "a clip is not a still" grep -q 'one still picture' "$ERR"

for fmt in pcm_s16le pcm_s24le; do
    $FF -f lavfi -i "sine=frequency=997:sample_rate=48000" -ac 2 -t 1.5 -c:a $fmt $fmt.wav || die fixture
    expect_exit 0 "$EVIDENCE" transcode --profile audio-flac $fmt.wav $fmt.flac
    a=$(ffmpeg -v error -i $fmt.wav -c:a $fmt -f md5 -)
    b=$(ffmpeg -v error -i $fmt.flac -c:a $fmt -f md5 -)
    ok "$fmt: FLAC decodes to the same PCM ($a)" test -n "$a" -a "$a" = "$b"
    expect_exit 0 "$EVIDENCE" transcode --profile audio-wav $fmt.flac back-$fmt.wav
    ok "$fmt: back to the same WAV codec" test "$(ffprobe -v error -show_entries stream=codec_name -of csv=p=0 back-$fmt.wav)" = $fmt
    expect_exit 0 "$EVIDENCE" check --profile audio-flac $fmt.flac
done
finish
