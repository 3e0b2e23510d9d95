#!/bin/bash
# Every command shown in docs/content-hashes.md and docs/profiles.md runs on
# generated media and gives what the text says. The ffmpeg commands are taken
# from the documents themselves (the indented blocks), so that a document
# that shows a command FFmpeg 5.1 refuses fails here. Files with subtitle,
# data and attachment streams are among the inputs. Long runs use tiny
# inputs (the benchmarks reuse inputs already in their work folder).
. "$(dirname "$0")/lib.sh"
export EVIDENCE_PROFILE_PATH=$EV_SOURCE_DIR/profiles
: "${EV_BUILD_DIR:=$(cd "$(dirname "$EVIDENCE")/.." && pwd)}"   # run by hand
FF="ffmpeg -nostdin -hide_banner -v error -y"
CH=$EV_SOURCE_DIR/docs/content-hashes.md
PR=$EV_SOURCE_DIR/docs/profiles.md
cd "$T" || die "no scratch folder"

# --- the commands, as the documents show them -------------------------------
# indented code blocks starting with "ffmpeg", continuation lines joined
python3 - "$CH" <<'PY' >cmds.txt || die "cannot read $CH"
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
i = 0
while i < len(lines):
    l = lines[i]
    if l.startswith("    ffmpeg "):
        cmd = l.strip()
        while cmd.endswith("\\"):
            i += 1
            cmd = cmd[:-1].rstrip() + " " + lines[i].strip()
        print(cmd)
    i += 1
PY
PKT_CMD=$(grep -m1 -- " -c copy " cmds.txt)
DEC_CMD=$(grep -m1 -- "rawvideo" cmds.txt)
ok "content-hashes.md shows the packet command" test -n "$PKT_CMD"
ok "content-hashes.md shows the decoded command" test -n "$DEC_CMD"
ok "content-hashes.md shows exactly these two ffmpeg blocks" test "$(wc -l <cmds.txt)" = 2
# the inline framehash command (may be broken over two lines of text)
FH_CMD=$(tr '\n' ' ' <"$CH" | tr -s ' ' | grep -o '`ffmpeg -i F -map 0:N -c copy -f framehash[^`]*`' | tr -d '`')
ok "content-hashes.md shows the framehash command" test -n "$FH_CMD"

# --- media: plain, with a subtitle and an attachment, with a data stream ---
printf '1\n00:00:00,000 --> 00:00:00,500\nhello\n' >s.srt
$FF -f lavfi -i testsrc2=size=160x120:rate=25 -f lavfi -i sine=sample_rate=48000 -t 1 \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -b:a 32k clip.mp4 || die "fixture"
$FF -i clip.mp4 -i s.srt -map 0 -map 1 -c copy -c:s srt -attach s.srt \
    -metadata:s:t mimetype=text/plain sub.mkv || die "fixture"
$FF -i clip.mp4 -map 0 -c copy -timecode 01:00:00:00 tc.mov || die "fixture"
$FF -f lavfi -i sine=sample_rate=48000 -t 0.5 -c:a pcm_s24le tape.wav || die "fixture"
ok "fixture: sub.mkv has a subtitle and an attachment" \
    test "$(ffprobe -v error -show_entries stream=codec_type -of csv=p=0 sub.mkv | tr '\n' ,)" = "video,audio,subtitle,attachment,"
ok "fixture: tc.mov has a data stream" \
    grep -q data <(ffprobe -v error -show_entries stream=codec_type -of csv=p=0 tc.mov)

# hashes.py JSON CMD: run CMD (F, N and the audio codec put in) for every
# content hash of JSON; print "stream kind ours theirs" lines
cat >hashes.py <<'PY'
import json, shlex, subprocess, sys
doc = json.load(open(sys.argv[1]))
path, kind, cmd = sys.argv[2], sys.argv[3], sys.argv[4]
def run(c):
    r = subprocess.run(shlex.split(c), capture_output=True, text=True)
    if r.returncode != 0:
        print("command failed:", c, r.stderr.strip()[:300], file=sys.stderr)
        return {}
    out = {}
    for l in r.stdout.split():
        n, t, h = l.split(",")
        out[int(n)] = h.split("=")[1]
    return out
if kind == "packets":
    got = run(cmd.replace(" F ", " " + path + " "))
for h in doc["content_hashes"]:
    s = h["stream"]
    if kind == "packets":
        print(s, kind, h["packets"]["sha256"], got.get(s, "none"))
    else:
        c = cmd.replace(" F ", " " + path + " ").replace("0:N", "0:%d" % s)
        if h["decoded"].get("as", "").startswith("pcm"):
            c = c.replace("pcm_s24le", h["decoded"]["as"])
        r = run(c)
        print(s, kind, h["decoded"]["sha256"], r.get(0, "none") if len(r) == 1 else "lines=%d" % len(r))
PY

for f in clip.mp4 sub.mkv tc.mov tape.wav; do
    expect_exit 0 "$EVIDENCE" inspect --json "$f" || continue
    cp "$OUT" "$f.json"
    ok "$f: has content hashes" test "$(python3 -c "import json; print(len(json.load(open('$f.json'))['content_hashes']))")" -gt 0
    for k in packets decoded; do
        [ $k = packets ] && c=$PKT_CMD || c=$DEC_CMD
        python3 hashes.py "$f.json" "$f" $k "$c" >$f.$k.txt 2>$f.$k.err
        ok "$f: the documented $k command runs" test ! -s $f.$k.err
        while read -r s kind ours theirs; do
            ok "$f stream $s: $kind hash = the documented command's" test "$ours" = "$theirs"
        done <$f.$k.txt
    done
done
# "files that start with a key frame give the same hash without the option"
a=$(ffmpeg -nostdin -v error -i clip.mp4 -map 0 -c copy -f streamhash -hash sha256 -)
b=$(ffmpeg -nostdin -v error -i clip.mp4 -map 0 -c copy -copyinkf -f streamhash -hash sha256 -)
ok "a file starting with a key frame: same hash with and without -copyinkf" test "$a" = "$b"

# --- the frame lists against framehash (a folder bundle holds them) --------
expect_exit 0 "$EVIDENCE" pack --format dir -o bag clip.mp4
lst=$(ls bag/meta/*/frames-s0-packets.txt 2>/dev/null | head -1)
ok "the bundle has a packet list" test -n "$lst"
if [ -n "$lst" ]; then
    c=${FH_CMD/ F / clip.mp4 }
    c=${c/0:N/0:0}
    $c >fh.out 2>fh.err
    ok "the framehash command runs" test $? = 0
    grep -v '^#' fh.out | awk -F', *' '{print $5, $6}' >fh.txt
    grep -v '^#' "$lst" | awk '{print $5, $7}' >ours.txt
    ok "framehash printed packets" test -s fh.txt
    ok "packet list: size and hash columns = framehash" cmp -s fh.txt ours.txt
fi

# --- decoded audio across a remux: what the text says about the trim -------
$FF -i clip.mp4 -map 0 -c copy clip.mkv || die "fixture"
$FF -i clip.mp4 -map 0 -c copy clip.ts || die "fixture"
for f in clip.mkv clip.ts; do
    expect_exit 0 "$EVIDENCE" inspect --json $f && cp "$OUT" $f.json
done
aud() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print([h for h in d['content_hashes'] if h['type']=='audio'][0][sys.argv[2]]['sha256'])" "$@"; }
ok "AAC: MP4 and Matroska packet hashes are equal" test "$(aud clip.mp4.json packets)" = "$(aud clip.mkv.json packets)"
ok "AAC: MP4 and Matroska decoded hashes differ (the edit list's trim)" \
    test "$(aud clip.mp4.json decoded)" != "$(aud clip.mkv.json decoded)"
for f in clip.mp4 clip.mkv clip.ts; do
    ffmpeg -nostdin -v error -i $f -map 0:a -c:a pcm_f32le -f f32le $f.pcm || die "decode $f"
done
ok "the Matroska remux decodes to the MP4's samples with one 1024-sample frame in front" \
    python3 -c "a=open('clip.mp4.pcm','rb').read(); b=open('clip.mkv.pcm','rb').read(); exit(not (len(b)==len(a)+4096 and b[4096:]==a))"
ok "the MPEG-TS remux decodes like the Matroska one" cmp -s clip.mkv.pcm clip.ts.pcm
ok "the MP4's first audio packet asks to skip 1024 samples" \
    grep -q "skip_samples=1024" <(ffprobe -v error -select_streams a -show_packets -show_entries packet=side_data_list -of compact clip.mp4 | head -3)

# "An edit list that trims the end of a stream ... leave whole packets out:
# those are in neither hash"
python3 - <<'PY' || die "fixture"
import struct
d = bytearray(open("clip.mp4", "rb").read())
i = d.find(b"elst")
i = d.find(b"elst", i + 1)                  # audio
ver, n, dur = struct.unpack(">III", d[i + 4:i + 16])
assert ver == 0 and n == 1, (ver, n)
struct.pack_into(">I", d, i + 12, dur * 8 // 10)
open("endtrim.mp4", "wb").write(d)
PY
expect_exit 0 "$EVIDENCE" inspect --json endtrim.mp4 && cp "$OUT" endtrim.json
shown=$(ffprobe -v error -count_packets -select_streams a -show_entries stream=nb_read_packets -of csv=p=0 endtrim.mp4)
stored=$(ffprobe -v error -ignore_editlist 1 -count_packets -select_streams a -show_entries stream=nb_read_packets -of csv=p=0 endtrim.mp4)
ok "end trim: the packet hash covers the $shown packets the edit list presents, not all $stored" \
    python3 -c "
import json, sys
d = json.load(open('endtrim.json'))
a = [h for h in d['content_hashes'] if h['type'] == 'audio'][0]
sys.exit(not (a['packets']['count'] == $shown and $shown < $stored))"

# A derivation record that compares decoded audio across the two containers
# (the remux's plan turned into decoded-identical) says why they cannot be
# compared, and names no differing seconds
expect_exit 0 "$EVIDENCE" transcode --profile remux-mkv clip.mp4 trim.mkv
python3 - <<'PY' || die "record"
import json
d = json.load(open("trim.mkv.derivation.json"))
for p in d["verification"]["plan"]:
    p["level"] = "decoded-identical"
    p["packet_fallback"] = False
json.dump(d, open("trim-decoded.json", "w"))
PY
expect_exit 1 "$EVIDENCE" transcode --json --recheck trim-decoded.json clip.mp4 trim.mkv
cp "$OUT" recheck.json
ok "recheck: the containers' trims are named" grep -q "the containers trim differently (source: 1024 at the start, 0 at the end; copy: 0 and 0)" recheck.json
ok "recheck: no differing seconds are claimed" bash -c "! grep -q 'seconds differ' recheck.json"
ok "recheck: source_trim recorded" python3 -c "
import json, sys
d = json.load(open('recheck.json'))
a = [s for s in d['verification']['streams'] if s['type'] == 'audio'][0]
sys.exit(not (a['source_trim'] == {'start': 1024, 'end': 0} and a['output_trim'] == {'start': 0, 'end': 0}))"

# --- docs/profiles.md: the command synopsis ---------------------------------
for l in "evidence profiles [--json] [NAME]" "evidence transcode --profile P [--no-verify] IN OUT" \
    "evidence check --profile P FILE..." "evidence transcode --recheck OUT.derivation.json IN OUT"; do
    ok "profiles.md shows '$l'" grep -qF "$l" "$PR"
done
expect_exit 0 "$EVIDENCE" profiles
ok "profiles lists remux-mkv" grep -q remux-mkv "$OUT"
expect_exit 0 "$EVIDENCE" profiles --json
ok "profiles --json is JSON" python3 -c "import json; json.load(open('$OUT'))"
expect_exit 0 "$EVIDENCE" profiles remux-mkv
expect_exit 0 "$EVIDENCE" transcode --profile remux-mkv clip.mp4 copy.mkv
expect_exit 0 "$EVIDENCE" transcode --profile remux-mkv --no-verify clip.mp4 copy2.mkv
ok "transcode: verified" test "$(json_get copy.mkv.derivation.json verification.verdict)" = pass
expect_exit 0 "$EVIDENCE" check --profile remux-mkv copy.mkv
expect_exit 0 "$EVIDENCE" transcode --recheck copy.mkv.derivation.json clip.mp4 copy.mkv
ok "recheck passes" grep -q "pass" "$OUT"

# the refusal message's advice ("see the damage with 'evidence check ...'")
$FF -i clip.mp4 -map 0 -c copy -movflags +faststart fs.mp4 || die "fixture"
python3 - <<'PY' || die "fixture"
import subprocess
out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                      "packet=pos,size", "-of", "csv=p=0", "fs.mp4"], check=True,
                     capture_output=True, text=True).stdout.split()
size, pos = (int(x) for x in out[len(out) // 2].split(",")[:2])   # ffprobe's order
d = bytearray(open("fs.mp4", "rb").read())
d[pos:pos + 4] = b"\xff\xff\xff\xff"
open("nal.mp4", "wb").write(d)
PY
expect_exit 3 "$EVIDENCE" transcode --profile remux-mkv nal.mp4 nal.mkv
advice=$(grep -o "'evidence check [^']*'" "$ERR" | tr -d "'")
ok "the refusal gives a command" test -n "$advice"
if [ -n "$advice" ]; then
    expect_exit 1 ${advice/evidence/$EVIDENCE}
    ok "the advised check names decodes_cleanly as failed" grep -q "decodes_cleanly" "$OUT"
fi

# "a profile that should keep lossy video as it is can add a first rule ..."
rule=$(tr '\n' ' ' <"$PR" | tr -s ' ' | grep -o '{ "when": { "codecs": \["h264", "hevc"\] }, "action": "copy" }')
ok "profiles.md shows the copy rule" test -n "$rule"
mkdir -p pdir
python3 - "$EV_SOURCE_DIR/profiles/archive-ffv1.json" "$rule" <<'PY' || die "profile"
import json, sys
p = json.load(open(sys.argv[1]))
p["name"] = "archive-keep-h264"
p["output"]["video"]["rules"].insert(0, json.loads(sys.argv[2]))
json.dump(p, open("pdir/archive-keep-h264.json", "w"))
PY
expect_exit 0 "$EVIDENCE" transcode --profile-dir pdir --profile archive-keep-h264 clip.mp4 keep.mkv
ok "the rule keeps H.264 as it is" test "$(ffprobe -v error -select_streams v -show_entries stream=codec_name -of csv=p=0 keep.mkv)" = h264

# --- the benchmarks, on tiny inputs ----------------------------------------
# bench/transcode.sh reuses the inputs in BENCH_DIR: a 64x48 clip stands in
# for the 1080p one, a copy of it for the remux input
mkdir -p bt
$FF -f lavfi -i testsrc2=size=64x48:rate=30 -f lavfi -i sine=sample_rate=48000 -t 1 \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -movflags +faststart \
    bt/src-1080p-1s.mp4 || die "fixture"
$FF -i bt/src-1080p-1s.mp4 -map 0 -c copy bt/src-remux-1MB.mkv || die "fixture"
BENCH_SECONDS=1 BENCH_REMUX_MB=1 BENCH_REPEAT=1 BENCH_IDLE_WAIT=0 BENCH_DIR=$T/bt \
    expect_exit 0 bash "$EV_SOURCE_DIR/bench/transcode.sh" "$EV_BUILD_DIR"
for r in "working-copy-h264 --no-verify" "archive-ffv1 --no-verify" "remux-mp4 --no-verify" "remux-mkv --no-verify"; do
    ok "bench/transcode.sh prints '$r ... ratio'" grep -q -- "^$r .*ratio" "$OUT"
done
if [ -x "$EV_BUILD_DIR/bench/bench_media" ]; then
    mkdir -p bm
    cp bt/src-1080p-1s.mp4 bm/clip-1080p-30s.mp4
    expect_exit 0 bash "$EV_SOURCE_DIR/bench/media.sh" "$EV_BUILD_DIR" bm 1
    ok "bench/media.sh prints its measures" grep -q -i "packets" "$OUT"
else
    skip_case "bench_media not built"
fi
finish
