#!/bin/bash
# Clear refusals and bad input: each gives exit 3 with a message, and leaves
# nothing at OUT (no partial file either).
. "$(dirname "$0")/lib.sh"
export EVIDENCE_PROFILE_PATH=$EV_SOURCE_DIR/profiles
FF="ffmpeg -nostdin -hide_banner -v error -y"
cd "$T" || die "no scratch folder"

$FF -f lavfi -i sine=sample_rate=44100 -t 1 -c:a pcm_f32le float.wav || die "fixture"
$FF -f lavfi -i sine=sample_rate=44100 -t 1 -c:a pcm_s16le s16.wav || die "fixture"
$FF -f lavfi -i testsrc2=size=160x120:rate=25 -t 2 -c:v libx264 -preset veryfast \
    -movflags +faststart clip.mp4 || die "fixture"
python3 - <<'PY' || die "fixture"
w, h = 65, 49
with open("odd.yuv", "wb") as f:
    for n in range(2):
        f.write(bytes((x + y + n) & 255 for y in range(h) for x in range(w)))
        f.write(bytes(128 for _ in range(2 * ((w + 1) // 2) * ((h + 1) // 2))))
d = bytearray(open("clip.mp4", "rb").read())
open("trunc.mp4", "wb").write(d[: len(d) // 2])
for i in range(len(d) // 2, len(d) // 2 + 1500):
    d[i] = 0xFF if i % 2 else 0
open("corrupt.mp4", "wb").write(d)
PY
$FF -f rawvideo -pix_fmt yuv420p -s 65x49 -i odd.yuv -c:v ffv1 odd.mkv || die "fixture"

nothing_left() {
    ok "no output for $1" test ! -e "$1"
    ok "no temporary file for $1" bash -c '! ls -a | grep -q partial'
}

expect_exit 3 "$EVIDENCE" transcode --profile audio-flac float.wav out.flac
ok "float refusal explains" grep -q -i 'float' "$ERR"
nothing_left out.flac

expect_exit 3 "$EVIDENCE" transcode --profile working-copy-h264 s16.wav out.mp4
ok "audio-only refusal explains" grep -q 'needs a video stream' "$ERR"
nothing_left out.mp4

expect_exit 3 "$EVIDENCE" transcode --profile working-copy-h264 odd.mkv odd.mp4
ok "odd size refusal explains" grep -q '65x49' "$ERR"
nothing_left odd.mp4
expect_exit 0 "$EVIDENCE" transcode --profile archive-ffv1 odd.mkv odd-archive.mkv

expect_exit 3 "$EVIDENCE" transcode --profile archive-ffv1 trunc.mp4 t.mkv
ok "truncation named" grep -q 'truncated' "$ERR"
nothing_left t.mkv

expect_exit 3 "$EVIDENCE" transcode --profile working-copy-h264 corrupt.mp4 c.mp4
ok "damage named" grep -q 'damaged' "$ERR"
nothing_left c.mp4

expect_exit 3 "$EVIDENCE" transcode --profile master missing.wav m.wav
nothing_left m.wav

# a profile that claims lossless where it cannot be: refused up front
python3 - "$EV_SOURCE_DIR/profiles/archive-ffv1.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["name"] = "ffv1-422"
p["output"]["video"]["rules"][0]["pix_fmt"] = "yuv422p"
json.dump(p, open("ffv1-422.json", "w"))
PY
$FF -f lavfi -i testsrc2=size=64x48:rate=25 -t 1 -c:v ffv1 -pix_fmt yuv420p y420.mkv || die "fixture"
expect_exit 3 "$EVIDENCE" transcode --profile ./ffv1-422.json y420.mkv f.mkv
ok "lossless claim refusal explains" grep -q 'cannot be lossless' "$ERR"
nothing_left f.mkv

# malformed profiles: exit 3, the file and the field are named
printf '{"profile_format":1,"name":"broken","kind":"av","output":{"container":"matroska","video":{"rules":[{"action":"copy"}]}},"verification":{"level":"exact"}}' > broken.json
expect_exit 3 "$EVIDENCE" transcode --profile ./broken.json y420.mkv b.mkv
ok "bad profile: file named" grep -q "broken.json" "$ERR"
ok "bad profile: field named" grep -q "verification.level" "$ERR"
printf '{"profile_format":1,' > trunc.json
expect_exit 3 "$EVIDENCE" transcode --profile ./trunc.json y420.mkv b.mkv
ok "bad JSON: line and column" grep -q "line 1, column" "$ERR"
head -c 3000 /dev/urandom > fuzz.json
expect_exit 3 "$EVIDENCE" transcode --profile ./fuzz.json y420.mkv b.mkv
nothing_left b.mkv
finish
