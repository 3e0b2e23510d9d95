#!/bin/bash
# verify --deep names the frame that changed: pack an intra-only video (FFV1)
# and a 24-bit WAV as a folder bundle, change one byte inside frame 7 of the
# video and one bit of one audio sample, and check that the report names
# frame 7 (packets and decoded) and the audio stream, with the time of the
# change; the untouched bundle verifies clean with --deep.
. "$(dirname "$0")/lib.sh"

command -v ffmpeg >/dev/null || { skip_case "ffmpeg missing"; finish; }
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
mkdir -p "$T/in"
ff -f lavfi -i testsrc2=size=160x120:rate=25 -t 1 -c:v ffv1 -g 1 "$T/in/cam.mkv" || die "no mkv"
ff -f lavfi -i sine=sample_rate=48000 -t 1 -c:a pcm_s24le "$T/in/tape.wav" || die "no wav"

expect_exit 0 "$EVIDENCE" pack -o "$T/b" --format dir --case C/1 --content-hash both "$T/in" ||
    die "pack failed"
expect_exit 0 "$EVIDENCE" verify --deep --json "$T/b"

cam=$(find "$T/b/data" -name cam.mkv) && [ -n "$cam" ] || die "cam.mkv not in the bag"
tape=$(find "$T/b/data" -name tape.wav) && [ -n "$tape" ] || die "tape.wav not in the bag"

# one byte in the middle of the packet of frame 7
read -r pos size < <(ffprobe -v error -select_streams 0 -show_entries packet=pos,size -of json \
    "$cam" | python3 -c 'import json,sys; p=json.load(sys.stdin)["packets"][7]; print(p["pos"], p["size"])')
[ -n "${pos:-}" ] || die "no packet 7"
python3 - "$cam" $((pos + size / 2)) <<'EOF'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[off] ^= 0x5A
open(p, "wb").write(bytes(b))
EOF
# the lowest bit of one 24-bit sample (byte 3000 of the data chunk)
python3 - "$tape" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = b.index(b"data") + 8
b[i + 3000] ^= 0x01
open(p, "wb").write(bytes(b))
EOF

expect_exit 1 "$EVIDENCE" verify --deep --json "$T/b"
cp "$OUT" "$T/report.json"
ok "report names the changed master" has_problem "$T/report.json" content-mismatch
python3 - "$T/report.json" <<'EOF' || fail "deep findings do not name frame 7 and the audio stream"
import json, sys
d = json.load(open(sys.argv[1]))
deep = d.get("deep") or d.get("extra", {}).get("deep")
assert deep, "no deep section"
seen = {}
for item in deep:
    for f in item["findings"]:
        seen[(item["path"].rsplit("/", 1)[-1], f["kind"])] = f
v = seen[("cam.mkv", "packets")]
assert v["status"] == "mismatch" and v["frames"] == [7], v
assert abs(v["time_ranges"][0][0] - 0.28) < 1e-6, v
d = seen[("cam.mkv", "decoded")]
assert d["status"] == "mismatch" and d["frames"] == [7], d
a = seen[("tape.wav", "decoded")]
assert a["status"] == "mismatch" and len(a["frames"]) == 1, a
print("deep findings ok")
EOF
pass
finish
