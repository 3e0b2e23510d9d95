#!/bin/bash
# evidence transcode --profile cctv-playable and evidence check --profile
# cctv-playable (docs/profiles.md, "CCTV exports"): playable MP4 copies of
# CCTV exports without re-encoding, generated here with ffmpeg (raw H.264 and
# H.265, MPEG-PS with cut-out spans) and tests/tools/mkdav.py (DAV frames
# after FFmpeg 5.1's dhav demuxer). Every copied frame is compared with the
# source by ffmpeg's own packet hashes (framemd5 of -c copy, the copy put
# back into Annex B): size and MD5 of every packet must match. Timing: the
# source's own stamps, a rate the user states (recorded as an assumption),
# or a refusal that says what is missing. Bad inputs each get a clear
# message, and no master is ever changed.
. "$(dirname "$0")/lib.sh"

command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { skip_case "no ffmpeg"; finish; }
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
rec() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
# size and MD5 of every video packet, as ffmpeg copies them (Annex B)
pkts() { ffmpeg -nostdin -v error -i "$1" -map 0:v:0 -c copy ${2:+-bsf:v $2} -f framemd5 - |
             grep -v '^#' | awk -F, '{print $5, $6}'; }
same_packets() { # SOURCE COPY BSF
    pkts "$1" >"$T/a.md5" && pkts "$2" "$3" >"$T/b.md5" && [ -s "$T/a.md5" ] && cmp -s "$T/a.md5" "$T/b.md5"
}
cd "$T" || die "no scratch folder"

# --- inputs ---------------------------------------------------------------
ff -f lavfi -i testsrc=s=64x48:r=25:d=4 -c:v libx264 -preset ultrafast -g 25 -bf 0 -f h264 raw.264 ||
    die "no h264"
ff -f lavfi -i testsrc=s=64x48:r=25:d=4 -c:v libx265 -preset ultrafast \
    -x265-params log-level=error:bframes=0 -f hevc raw.265 || die "no hevc"
ff -f lavfi -i testsrc=s=64x48:r=25:d=4 -c:v libx264 -preset veryfast -bf 2 -f h264 bframes.264 ||
    die "no h264"
# MPEG-PS (H.264), 12.5 fps: 10 s, a cut-out span, 5 s
ff -f lavfi -i testsrc=s=64x48:r=12.5:d=10 -c:v libx264 -preset ultrafast -bf 0 -g 25 -f vob ps1.vob &&
    ff -f lavfi -i testsrc=s=64x48:r=12.5:d=5 -c:v libx264 -preset ultrafast -bf 0 -g 25 \
        -output_ts_offset 20 -f vob ps2.vob || die "no vob"
cat ps1.vob ps2.vob >cut.vob
# DAV, 25 fps, 250 frames
ff -f lavfi -i testsrc=s=64x48:r=25:d=10 -c:v libx264 -preset ultrafast -g 50 -bf 0 \
    -bsf:v h264_metadata=aud=insert -f h264 dav.264 || die "no h264 for dav"
dav() { python3 "$TOOLS/mkdav.py" dav.264 "$1" --fps 25 --start 2026-03-01T10:00:00 "${@:2}" ||
            die "mkdav failed"; }
dav ok.dav
dav cut.dav --cut 100:60
dav back.dav --back 200:30
dav zero.dav --zero-date 240
dav damaged.dav --damage 50
dav badlen.dav --badlen 120
# a mixed-resolution stream: in-band SPS change at frame 50
ff -f lavfi -i testsrc=s=64x48:r=25:d=2 -c:v libx264 -preset ultrafast -g 25 -bf 0 -f h264 m1.264 &&
    ff -f lavfi -i testsrc=s=128x96:r=25:d=2 -c:v libx264 -preset ultrafast -g 25 -bf 0 -f h264 m2.264 ||
    die "no h264"
cat m1.264 m2.264 >mixed.264
# a raw stream without its parameter sets
python3 -c '
import sys
d = open("raw.264", "rb").read()
out = bytearray()
for p in d.split(b"\x00\x00\x00\x01")[1:]:
    if p and (p[0] & 0x1F) in (7, 8):
        continue
    out += b"\x00\x00\x00\x01" + p
open("nosps.264", "wb").write(out)'
# an MP4-family export with G.711 audio and a private (timecode) data track
ff -f lavfi -i testsrc=s=64x48:r=25:d=2 -f lavfi -i sine=d=2:sample_rate=8000 -c:v libx264 \
    -preset ultrafast -c:a pcm_mulaw -timecode 10:00:00:00 -f mov private.mov || die "no mov"
sha256sum *.264 *.265 *.vob *.dav private.mov >masters.sha256

# --- 1. raw H.264: no timestamps, refused; then at a stated rate -----------
expect_exit 3 "$EVIDENCE" transcode --profile cctv-playable raw.264 raw.mp4
ok "raw.264 without --assume-fps: says what is missing" grep -qF \
    "'raw.264' has no timestamps (raw H.264 elementary stream); give the frame rate with --assume-fps RATE, e.g. the rate the recorder was set to" "$ERR"
ok "raw.264 refused: nothing written" [ ! -e raw.mp4 -a ! -e raw.mp4.derivation.json ]
for bad in 0 -1 nan NaN 1001 1e3 12.5.1 25/0 '' 0/1 abc; do
    expect_exit 2 "$EVIDENCE" transcode --profile cctv-playable --assume-fps "$bad" raw.264 raw.mp4
    ok "--assume-fps '$bad': a usage error naming the value" grep -qF "(not '$bad')" "$ERR"
done
expect_exit 2 "$EVIDENCE" check --profile cctv-playable --assume-fps 0 raw.264
ok "check --assume-fps 0: a usage error" grep -q -- "--assume-fps needs a frame rate above 0" "$ERR"

expect_exit 0 "$EVIDENCE" transcode --profile cctv-playable --assume-fps 12.5 raw.264 raw.mp4
ok "raw.mp4: every frame lasts 80 ms exactly, frame n at n x 80 ms" python3 -c '
import subprocess
out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                      "packet=pts,dts,duration:stream=time_base", "-of", "json", "raw.mp4"],
                     capture_output=True, text=True, check=True).stdout
import json
d = json.loads(out)
num, den = map(int, d["streams"][0]["time_base"].split("/"))
p = d["packets"]
assert len(p) == 100, len(p)
for n, k in enumerate(p):
    assert k["duration"] * 1000 * num == 80 * den, k
    assert k["pts"] * 1000 * num == 80 * n * den and k["dts"] == k["pts"], (n, k)'
ok "raw.mp4: the record says assumed, stated by the user" [ "$(rec raw.mp4.derivation.json \
    'd["settings"]["streams"][0]["timing"]["source"], d["settings"]["streams"][0]["timing"]["fps"], d["settings"]["streams"][0]["timing"]["stated_by"]')" = "('assumed', '25/2', 'user')" ]
ok "raw.mp4: no measured rate claimed" bash -c "! grep -q measured raw.mp4.derivation.json"
ok "raw.mp4: verified packet-identical on NAL units" [ "$(rec raw.mp4.derivation.json \
    'd["verification"]["streams"][0]["method"], d["verification"]["verdict"]')" = "('packet-identical (NAL units)', 'pass')" ]
ok "raw.mp4: every packet as the source's (ffmpeg framemd5)" same_packets raw.264 raw.mp4 h264_mp4toannexb
expect_exit 0 "$EVIDENCE" transcode --recheck raw.mp4.derivation.json raw.264 raw.mp4
expect_exit 0 "$EVIDENCE" check --profile cctv-playable raw.mp4
ok "check raw.mp4: all rules pass" grep -q "raw.mp4: pass against cctv-playable (5 passed" "$OUT"
expect_exit 1 "$EVIDENCE" check --profile cctv-playable raw.264
ok "check raw.264: not timed, says why" grep -q "timed #0 .*measured false  (no timestamps (raw H.264 elementary stream)" "$OUT"
ok "check raw.264: not playable (no container)" grep -q "playable #0 .*measured false" "$OUT"
expect_exit 1 "$EVIDENCE" check --profile cctv-playable --assume-fps 12.5 raw.264
ok "check --assume-fps: timed by the stated rate, named as an assumption" \
    grep -q "timed #0 .*measured true  (no time per frame in the file; timed by the rate the user stated, 25/2 fps (an assumption, not measured))" "$OUT"

# --- 2. raw H.265 at 30000/1001, raw with B-frames, raw without SPS --------
expect_exit 0 "$EVIDENCE" transcode --profile cctv-playable --assume-fps 30000/1001 raw.265 raw265.mp4
ok "raw265.mp4: 1001/30000 s per frame exactly" python3 -c '
import json, subprocess
d = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_entries",
    "packet=pts,duration:stream=time_base", "-of", "json", "raw265.mp4"], capture_output=True,
    text=True, check=True).stdout)
num, den = map(int, d["streams"][0]["time_base"].split("/"))
for n, k in enumerate(d["packets"]):
    assert k["duration"] * num * 30000 == 1001 * den and k["pts"] * num * 30000 == 1001 * n * den, (n, k)'
# H.265 back in Annex B: hevc_mp4toannexb writes four-byte start codes where
# x265 wrote three, and repeats the parameter sets before the first frame, so
# packet bytes differ by framing; the NAL units of the whole stream are
# compared instead (every slice and SEI in order; the same parameter sets)
ok "raw265.mp4: 100 packets" [ "$(pkts raw265.mp4 hevc_mp4toannexb | wc -l)" = 100 ]
ok "raw265.mp4: the NAL units as the source's" python3 -c '
import subprocess
def units(f, bsf):
    cmd = ["ffmpeg", "-v", "error", "-i", f, "-map", "0:v", "-c", "copy"] + \
          (["-bsf:v", bsf] if bsf else []) + ["-f", "hevc", "-"]
    d = subprocess.run(cmd, capture_output=True, check=True).stdout
    return [u.rstrip(b"\x00") for u in d.split(b"\x00\x00\x01")[1:]]
a, b = units("raw.265", None), units("raw265.mp4", "hevc_mp4toannexb")
ps = lambda u: (u[0] >> 1) & 63 in (32, 33, 34)
assert [u for u in a if not ps(u)] == [u for u in b if not ps(u)]
assert set(u for u in a if ps(u)) == set(u for u in b if ps(u))
assert len([u for u in a if not ps(u)]) > 100'
expect_exit 3 "$EVIDENCE" transcode --profile cctv-playable --assume-fps 25 bframes.264 bf.mp4
ok "bframes.264: refused, reordered frames named" grep -q "with reordered (B-) frames: their display times cannot be derived" "$ERR"
timeout 60 "$EVIDENCE" transcode --profile cctv-playable --assume-fps 25 nosps.264 nosps.mp4 >"$OUT" 2>"$ERR"
ok "nosps.264: refused as unreadable (exit 3)" [ $? = 3 ]
ok "nosps.264: a clear message" grep -q "'nosps.264' is not a media file FFmpeg can read" "$ERR"
ok "nosps.264: nothing written" [ ! -e nosps.mp4 ]

# --- 3. MPEG-PS with a cut-out span ------------------------------------------
expect_exit 0 "$EVIDENCE" transcode --profile cctv-playable cut.vob cut.mp4
ok "cut.mp4: every packet as the source's" same_packets cut.vob cut.mp4 h264_mp4toannexb
ok "cut.mp4: the source's times kept, the 9.5 s hole too" python3 -c '
import subprocess
src = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "packet=pts_time", "-of", "csv=p=0",
                      "cut.vob"], capture_output=True, text=True).stdout.split()
cp = [float(x) for x in subprocess.run(["ffprobe", "-v", "error", "-show_entries", "packet=pts_time",
      "-of", "csv=p=0", "cut.mp4"], capture_output=True, text=True).stdout.split()]
assert len(cp) == 188, len(cp)
steps = [round(b - a, 3) for a, b in zip(cp, cp[1:])]
assert steps.count(0.08) == 186, steps
big = [s for s in steps if s != 0.08]
assert len(big) == 1 and abs(big[0] - 9.58) < 0.001, big
for i, s in enumerate(src):
    if s != "N/A":
        assert abs(float(s) - cp[i]) < 1e-6, (i, s, cp[i])'
ok "cut.mp4: untimed PS frames are named in the record" grep -q "carry no time of their own (MPEG-PS" cut.mp4.derivation.json
expect_exit 1 "$EVIDENCE" check --profile cctv-playable cut.vob
ok "check cut.vob: timed, the PES rule named" grep -q "timed #0 .*measured true  (every one of 188 packets has a time or follows one by its duration (137 timed as the previous plus its duration" "$OUT"
ok "check cut.vob: not complete, the gap named" grep -q "complete #0 .*measured false  (1 gap (9.500 s missing), 0 discontinuities; first gap after frame 125: 9.500 s missing)" "$OUT"
ok "check cut.vob: not playable (MPEG-PS)" grep -q "playable #0 .*(mpeg: common players do not read this container)" "$OUT"

# --- 4. DAV: frame stamps kept ----------------------------------------------
expect_exit 0 "$EVIDENCE" transcode --profile cctv-playable cut.dav cutdav.mp4
ok "cutdav.mp4: every packet as the source's" same_packets cut.dav cutdav.mp4 h264_mp4toannexb
ok "cutdav.mp4: the copy's times are the stamps less the first" python3 -c '
import subprocess
t = lambda f: [int(x) for x in subprocess.run(["ffprobe", "-v", "error", "-show_entries", "packet=pts",
               "-of", "csv=p=0", f], capture_output=True, text=True).stdout.split()]
s, c = t("cut.dav"), t("cutdav.mp4")
tb = int(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=time_base", "-of", "csv=p=0",
         "cutdav.mp4"], capture_output=True, text=True).stdout.strip().split("/")[1])
assert len(s) == len(c) == 250
for a, b in zip(s, c):
    assert (a - s[0]) * tb == b * 1000, (a, b)'
ok "cutdav.mp4: the record maps frames to wall-clock stamps" [ "$(rec cutdav.mp4.derivation.json \
    '[(r["frame"], r["copy_ms"], r["wallclock"]) for r in d["settings"]["streams"][0]["timing"]["frame_times"]][:2]')" = \
    "[(0, 0, '2026-03-01T10:00:00.000'), (100, 64000, '2026-03-01T10:01:04.000')]" ]
ok "cutdav.mp4: time source frame-stamps, zone unknown" [ "$(rec cutdav.mp4.derivation.json \
    'd["settings"]["streams"][0]["timing"]["source"], d["settings"]["streams"][0]["timing"]["wallclock_zone"]')" = "('frame-stamps', 'unknown')" ]
ok "cutdav.mp4: every frame mapped" python3 -c '
import json
t = json.load(open("cutdav.mp4.derivation.json"))["settings"]["streams"][0]["timing"]
runs = t["frame_times"]
assert sum(r["frames"] for r in runs) == t["frames"] == 250
assert all(a["frame"] + a["frames"] == b["frame"] for a, b in zip(runs, runs[1:]))'
expect_exit 1 "$EVIDENCE" check --profile cctv-playable cut.dav
ok "check cut.dav: timed by DAV stamps" grep -q "timed #0 .*measured true  (every one of 250 packets has a time, increasing (DAV frame stamps))" "$OUT"
ok "check cut.dav: the 60 s gap" grep -q "complete #0 .*measured false  (1 gap (60.000 s missing)" "$OUT"
ok "check cut.dav: DAV is not playable" grep -q "playable #0 .*(dhav: common players do not read this container)" "$OUT"
expect_exit 1 "$EVIDENCE" check --profile cctv-playable --json cutdav.mp4
ok "check cutdav.mp4 (JSON): playable and timed pass, complete fails (the gap is kept)" python3 -c '
import json, sys
r = {x["check"]: x for x in json.load(open(sys.argv[1]))["results"]}
assert r["playable"]["result"] == "pass" and r["timed"]["result"] == "pass", r
assert r["complete"]["result"] == "fail" and "60.000 s missing" in r["complete"]["note"], r' "$OUT"
# a DAV export without gaps: its copy meets every rule
expect_exit 0 "$EVIDENCE" transcode --profile cctv-playable ok.dav ok.mp4 &&
    expect_exit 0 "$EVIDENCE" check --profile cctv-playable ok.mp4
ok "check ok.mp4: all five rules pass" grep -q "ok.mp4: pass against cctv-playable (5 passed, 0 failed" "$OUT"

# stamps out of order: the copy goes on, the record keeps every stamp
expect_exit 0 "$EVIDENCE" transcode --profile cctv-playable back.dav back.mp4
ok "back.mp4: every packet as the source's" same_packets back.dav back.mp4 h264_mp4toannexb
ok "back.mp4: times increase, one interval at the step back" python3 -c '
import subprocess
c = [float(x) for x in subprocess.run(["ffprobe", "-v", "error", "-show_entries", "packet=pts_time",
     "-of", "csv=p=0", "back.mp4"], capture_output=True, text=True).stdout.split()]
assert all(round(b - a, 3) == 0.04 for a, b in zip(c, c[1:])), c'
ok "back.mp4: the stamp after the step back is kept in the record" [ "$(rec back.mp4.derivation.json \
    '[(r["frame"], r["copy_ms"], r["wallclock"]) for r in d["settings"]["streams"][0]["timing"]["frame_times"]]')" = \
    "[(0, 0, '2026-03-01T10:00:00.000'), (200, 8000, '2026-03-01T09:59:38.000')]" ]
ok "back.mp4: a note says so" grep -q "the DAV stamps go back or stand still 1 time(s)" back.mp4.derivation.json
expect_exit 1 "$EVIDENCE" check --profile cctv-playable back.dav
ok "check back.dav: not timed (times go back)" grep -q "timed #0 .*measured false  (0 packets without a time, 1 whose time does not increase; the first at packet 200)" "$OUT"
ok "check back.dav: a discontinuity" grep -q "complete #0 .*1 discontinuity; the first after frame 200: time goes back" "$OUT"

# an impossible date
expect_exit 0 "$EVIDENCE" transcode --profile cctv-playable zero.dav zero.mp4
ok "zero.mp4: the impossible date is counted and marked" [ "$(rec zero.mp4.derivation.json \
    'd["settings"]["streams"][0]["timing"]["impossible_stamps"], [r["frame"] for r in d["settings"]["streams"][0]["timing"]["frame_times"] if r.get("impossible")]')" = "(1, [240])" ]
ok "zero.mp4: every packet as the source's" same_packets zero.dav zero.mp4 h264_mp4toannexb

# damaged frame header, impossible frame length: refused as damage
for f in damaged badlen; do
    expect_exit 3 "$EVIDENCE" transcode --profile cctv-playable $f.dav $f.mp4
    ok "$f.dav: refused as damaged, the skipped bytes named" grep -q "'$f.dav' is damaged: stream #0: [0-9]* bytes after frame [0-9]* (counted from 0; bytes [0-9]*-[0-9]*) are not part of any frame the dhav demuxer could read" "$ERR"
    ok "$f.dav: nothing written" [ ! -e $f.mp4 -a ! -e $f.mp4.derivation.json ]
done
ok "badlen.dav: the frame after 119 is the lost one" grep -q "bytes after frame 119 " "$ERR"

# --- 5. mixed resolution: kept, FFmpeg 5.1 decodes both sizes ----------------
expect_exit 0 "$EVIDENCE" transcode --profile cctv-playable --assume-fps 25 mixed.264 mixed.mp4
ok "mixed.mp4: every packet as the source's" same_packets mixed.264 mixed.mp4 h264_mp4toannexb
ok "mixed.mp4: ffmpeg decodes 50 frames at 64x48, then 50 at 128x96" [ \
    "$(ffprobe -v error -show_entries frame=width,height -of csv=p=0 mixed.mp4 | grep -v '^$' | sed 's/,$//' | uniq -c | awk '{print $1, $2}' | tr '\n' ' ')" = "50 64,48 50 128,96 " ]
expect_exit 0 "$EVIDENCE" check --profile cctv-playable mixed.mp4
ok "check mixed.mp4: the size change named" grep -q "picture size changes 1 time, first at frame 51 (t=2.000 s): 64x48 -> 128x96" "$OUT"

# --- 6. private streams dropped, and why ---------------------------------------
expect_exit 0 "$EVIDENCE" transcode --profile cctv-playable private.mov private.mp4
ok "private.mp4: G.711 audio and the data track dropped with reasons" [ "$(rec private.mp4.derivation.json \
    '[(x["source_stream"], x["type"], x["reason"][:30]) for x in d["settings"]["dropped"]]')" = \
    "[(1, 'audio', 'audio other than AAC or MP3 (e'), (2, 'data', 'a private data stream (e.g. a ')]" ]
ok "private.mp4: one stream, video" [ "$(ffprobe -v error -show_entries stream=codec_type -of csv=p=0 private.mp4)" = video ]

# --- 7. 10^5 tiny frames, bounded time ----------------------------------------
ff -f lavfi -i "color=c=gray:s=16x16:r=25,format=yuv420p" -frames:v 100000 -c:v libx264 -preset ultrafast \
    -g 250 -bf 0 -bsf:v h264_metadata=aud=insert -f h264 many.264 || die "no h264"
python3 "$TOOLS/mkdav.py" many.264 many.dav --fps 25 --width 16 --height 16 || die "mkdav"
sha256sum many.dav >>masters.sha256
start=$(date +%s)
timeout 600 "$EVIDENCE" transcode --profile cctv-playable many.dav many.mp4 >"$OUT" 2>"$ERR"
ok "many.dav: copied in bounded time" [ $? = 0 ]
ok "many.dav: 10^5 frames verified" [ "$(rec many.mp4.derivation.json 'd["verification"]["streams"][0]["packets"]')" = 100000 ]
note "many.dav: transcode took $(( $(date +%s) - start )) s"
ok "many.mp4: all 10^5 frames mapped to stamps" [ "$(rec many.mp4.derivation.json \
    'sum(r["frames"] for r in d["settings"]["streams"][0]["timing"]["frame_times"])')" = 100000 ]

# --- 8. the commands docs/profiles.md shows ("CCTV exports"), as written ---------
mkdir -p docrun/bin && ln -s "$(command -v "$EVIDENCE")" docrun/bin/evidence && cp cut.dav docrun/export.dav &&
    cp raw.264 docrun/camera3.264 || die "docrun"
n=$(python3 "$TOOLS/doccmds.py" extract "$EV_SOURCE_DIR" docs/profiles.md tests/cli/cctv_playable.sh \
    "$T/blocks") || die "no blocks in docs/profiles.md"
ok "docs/profiles.md: two blocks for this test" [ "$n" = 2 ]
(cd docrun && PATH="$T/docrun/bin:$PATH" bash "$T/blocks/01.sh") >"$OUT" 2>"$ERR"
ok "docs/profiles.md block 1: both copies made" [ $? = 0 -a -s docrun/export.mp4 -a -s docrun/camera3.mp4 ]
(cd docrun && PATH="$T/docrun/bin:$PATH" bash "$T/blocks/02.sh") >"$OUT" 2>"$ERR"
ok "docs/profiles.md block 2: check exits 1 (rules fail)" [ $? = 1 ]
python3 - "$EV_SOURCE_DIR/docs/profiles.md" >want.txt <<'PY'
import sys
t = open(sys.argv[1]).read()
k = "evidence check --profile cctv-playable export.dav\n```\n\n```\n"
a = t.index(k) + len(k)
print(t[a:t.index("```", a)], end="")
PY
ok "docs/profiles.md: the check output shown is what check prints" diff want.txt "$OUT"

# --- 9. the records match docs/schema/derivation.schema.json --------------------
for r in raw raw265 cut cutdav back zero mixed private; do
    bash "$EV_SOURCE_DIR/scripts/ajv.sh" validate --spec=draft2020 --strict=false -c ajv-formats \
        -s "$EV_SOURCE_DIR/docs/schema/derivation.schema.json" -d $r.mp4.derivation.json >ajv.txt 2>&1
    case $? in
    0) pass ;;
    77) skip_case "ajv unavailable" ;;
    *) fail "$r.mp4.derivation.json does not match the schema"; cat ajv.txt >&2 ;;
    esac
done

# --- 10. the masters are unchanged ----------------------------------------------
ok "every master byte for byte unchanged" sha256sum -c --quiet masters.sha256

finish
