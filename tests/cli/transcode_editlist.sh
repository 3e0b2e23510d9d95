#!/bin/bash
# An MP4/MOV whose audio edit list leaves the last packets unpresented (as
# iPhone MOVs and iTunes files do) is not truncation: every audio/video
# profile copies it, and the record says how many samples the edit list
# leaves out. A file that really is cut short is still refused: cut in the
# middle, and cut only inside the samples the edit list leaves out (which the
# demuxer never delivers, so only the sample table shows them).
. "$(dirname "$0")/lib.sh"
export EVIDENCE_PROFILE_PATH=$EV_SOURCE_DIR/profiles
FF="ffmpeg -nostdin -hide_banner -v error -y"
cd "$T" || die "no scratch folder"

$FF -f lavfi -i testsrc2=size=160x120:rate=25 -f lavfi -i sine=sample_rate=48000 -t 2 \
    -c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p -c:a aac -b:a 64k \
    -movflags +faststart src.mov || die "fixture"
# The audio track's edit list (ffmpeg writes one for the AAC priming): its
# segment duration cut from 2000 to 1900 ms, so the last packets are left out.
python3 - <<'PY' || die "fixture"
import struct
d = bytearray(open("src.mov", "rb").read())
i = d.find(b"elst")
i = d.find(b"elst", i + 1)                  # the second track: audio
assert i > 0
ver, n, dur = struct.unpack(">III", d[i + 4:i + 16])
assert ver == 0 and n == 1 and dur == 2000, (ver, n, dur)
struct.pack_into(">I", d, i + 12, 1900)
open("trim.mov", "wb").write(d)
PY
ok "fixture: the demuxer delivers fewer audio packets than the sample table lists" \
    test "$(ffprobe -v error -count_packets -select_streams a -show_entries stream=nb_read_packets -of csv=p=0 trim.mov)" \
    -lt "$(ffprobe -v error -ignore_editlist 1 -count_packets -select_streams a -show_entries stream=nb_read_packets -of csv=p=0 trim.mov)"

# --- the edit list is not damage -------------------------------------------
for p in remux-mp4 remux-mkv working-copy-h264; do
    expect_exit 0 "$EVIDENCE" transcode --profile $p trim.mov $p.out
    ok "$p: verified" test "$(json_get $p.out.derivation.json verification.verdict)" = pass
    ok "$p: the record says what the edit list leaves out" \
        grep -q "stream #1: its edit list presents [0-9]* of the [0-9]* samples in its sample table" \
        $p.out.derivation.json
done
expect_exit 0 "$EVIDENCE" transcode --profile remux-mkv src.mov plain.out
ok "no edit-list note when nothing is left out" bash -c '! grep -q "its edit list presents" plain.out.derivation.json'

# an iTunes-like M4A: AAC whose edit list trims the end, into WAV (the float
# samples are decoded-identical, planar in the source, packed in the WAV)
$FF -f lavfi -i sine=sample_rate=44100 -t 1 -c:a aac -b:a 64k it.m4a || die "fixture"
python3 - <<'PY' || die "fixture"
import struct
d = bytearray(open("it.m4a", "rb").read())
i = d.find(b"elst")
ver, n, dur = struct.unpack(">III", d[i + 4:i + 16])
assert ver == 0 and n == 1, (ver, n)
struct.pack_into(">I", d, i + 12, dur * 9 // 10)
open("it-trim.m4a", "wb").write(d)
PY
for f in it.m4a it-trim.m4a; do
    expect_exit 0 "$EVIDENCE" transcode --profile audio-wav $f $f.wav
    ok "$f via audio-wav: verified" test "$(json_get $f.wav.derivation.json verification.verdict)" = pass
done
ok "it-trim.m4a: the edit list's trim is noted" grep -q "its edit list presents" it-trim.m4a.wav.derivation.json

# --- real truncation is still refused --------------------------------------
python3 -c 'd = open("trim.mov", "rb").read(); open("cut.mov", "wb").write(d[: len(d) * 3 // 5])' || die "fixture"
expect_exit 3 "$EVIDENCE" transcode --profile remux-mkv cut.mov cut.out
ok "cut in the middle: refused as truncated" grep -q "'cut.mov' is damaged: the file is truncated" "$ERR"
ok "cut in the middle: no copy" test ! -e cut.out

# mdat "to the end of the file" (size 0), the file cut inside the last
# sample, which is one of the audio samples the edit list leaves out
python3 - <<'PY' || die "fixture"
import struct, subprocess
d = bytearray(open("trim.mov", "rb").read())
pos = 0
while pos < len(d):
    size, kind = struct.unpack(">I4s", d[pos:pos + 8])
    if kind == b"mdat":
        d[pos:pos + 4] = b"\0\0\0\0"
        assert pos + size == len(d), "mdat is not the last box"
        break
    pos += size
out = subprocess.run(["ffprobe", "-v", "error", "-ignore_editlist", "1", "-show_entries",
                      "packet=stream_index,pos,size", "-of", "csv=p=0", "trim.mov"],
                     check=True, capture_output=True, text=True).stdout
pk = [tuple(int(x) for x in l.split(",")[:3]) for l in out.split()]
last = max(pk, key=lambda p: p[2] + p[1])          # (stream, size, pos)
assert last[0] == 1, "the last sample is not audio"
shown = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "packet=pos", "-of",
                        "csv=p=0", "trim.mov"], check=True, capture_output=True, text=True).stdout
assert str(last[2]) not in shown.split(), "the last sample is presented"
open("tail.mov", "wb").write(d[: last[2] + 1])
PY
expect_exit 3 "$EVIDENCE" transcode --profile remux-mkv tail.mov tail.out
ok "cut inside a sample the edit list leaves out: refused" \
    grep -q -E "'tail.mov' is damaged: the file is truncated: stream #1 \(aac\), sample [0-9]+ of [0-9]+ lies at bytes" "$ERR"
ok "cut inside a left-out sample: no copy" test ! -e tail.out
finish
