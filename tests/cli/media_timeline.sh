#!/bin/bash
# evidence inspect: the timeline of video streams (docs/media.md, "Timelines").
# Raw H.264/H.265 have no time source; MPEG-PS exports with cut-out spans
# (segments muxed with a time offset and concatenated) report each gap with
# its frame number and duration, a segment that goes back in time is a
# discontinuity, and the events agree with ffprobe's packet timestamps.
# DAV files written by tests/tools/mkdav.py (after FFmpeg 5.1's dhav
# demuxer) report per-frame wall-clock stamps, a cut, stamps out of order,
# an impossible date, a damaged header and a broken frame length; each in
# bounded time, and pack keeps the master byte for byte. The 1-hour export's
# events also agree with ffprobe -show_frames (tests/tools/showframes.py);
# picture size changes are reported with frame numbers, times and sizes as
# ffprobe -show_frames gives them.
. "$(dirname "$0")/lib.sh"

command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { skip_case "no ffmpeg"; finish; }
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
tlget() { python3 "$TOOLS/tlcheck.py" get "$@"; }
# an MPEG-PS segment: 12.5 fps MPEG-2, 64x36, starting at a time offset
seg() { ff -f lavfi -i "testsrc=s=64x36:r=12.5:d=$2" -c:v mpeg2video -force_fps -r 12.5 -g 250 \
            -output_ts_offset "$1" -f vob "$3"; }

# 1. raw elementary streams: no time source, no measured rate
ff -f lavfi -i testsrc=s=64x36:r=25:d=4 -c:v libx264 -preset ultrafast -f h264 "$T/raw.264" ||
    die "no h264"
ff -f lavfi -i testsrc=s=64x36:r=25:d=4 -c:v libx265 -preset ultrafast -x265-params log-level=error \
    -f hevc "$T/raw.265" || die "no hevc"
for f in raw.264 raw.265; do
    expect_exit 0 "$EVIDENCE" inspect --json "$T/$f" || continue
    cp "$OUT" "$T/$f.json"
    ok "$f: time source none" [ "$(tlget "$T/$f.json" time_source)" = '"none"' ]
    ok "$f: no measured rate" [ "$(tlget "$T/$f.json" measured_fps)" = null ]
    ok "$f: no first time" [ "$(tlget "$T/$f.json" first)" = null ]
    n=$(ffprobe -v error -show_frames "$T/$f" | grep -c '^\[FRAME')
    ok "$f: frames as ffprobe -show_frames ($n)" [ "$(tlget "$T/$f.json" frames)" = "$n" ]
    expect_exit 0 "$EVIDENCE" inspect "$T/$f" || continue
    ok "$f: human says no time source" grep -q 'time source: none; .*FFmpeg assumed 25 fps.*no frame rate can be measured' "$OUT"
    ok "$f: the stream line does not state 25 fps as a fact" grep -q '25/1 fps (assumed, not measured)' "$OUT"
done
# and index.html does not either
expect_exit 0 "$EVIDENCE" pack -q -o "$T/raw.zip" "$T/raw.264"
ok "index.html: a raw stream's rate is marked assumed" bash -c \
    "unzip -p '$T/raw.zip' raw/index.html | grep -q '25/1 fps (assumed, not measured)'"

# 2. MPEG-PS, 12.5 fps, two cut-out spans: 10 s, a hole, 10 s, a hole, 5 s
seg 0 10 "$T/a1.vob" && seg 20.58 10 "$T/a2.vob" && seg 36.08 5 "$T/a3.vob" || die "no vob"
cat "$T/a1.vob" "$T/a2.vob" "$T/a3.vob" >"$T/cut.vob"
expect_exit 0 "$EVIDENCE" inspect --json "$T/cut.vob" && cp "$OUT" "$T/cut.json"
ok "cut.vob: container time" [ "$(tlget "$T/cut.json" time_source)" = '"container"' ]
ok "cut.vob: nominal and measured 12.5 fps" [ "$(tlget "$T/cut.json" nominal_fps)/$(tlget "$T/cut.json" measured_fps)" = "12.5/12.5" ]
python3 "$TOOLS/tlcheck.py" events "$T/cut.json" >"$T/cut.ev"
printf 'gap 125 10.000\ngap 250 5.500\n' >"$T/cut.want"
ok "cut.vob: two gaps, exact frame numbers and durations" diff "$T/cut.want" "$T/cut.ev"
n=$(ffprobe -v error -show_frames "$T/cut.vob" | grep -c '^\[FRAME')
ok "cut.vob: frames as ffprobe -show_frames ($n)" [ "$(tlget "$T/cut.json" frames)" = "$n" ]
p0=$(ffprobe -v error -show_entries packet=pts -of csv=p=0 "$T/cut.vob" | head -1)
ok "cut.vob: first pts as ffprobe ($p0)" [ "$(tlget "$T/cut.json" first_pts)" = "$p0" ]
ok "cut.vob: last pts" [ "$(tlget "$T/cut.json" last_pts)" = "$(( (36080000 + 62 * 80000) * 9 / 100 ))" ]
expect_exit 0 "$EVIDENCE" inspect "$T/cut.vob"
ok "cut.vob: human gap line" grep -q 'gap: 00:00:10.000 missing after frame 125' "$OUT"

# 3. time going back: the third segment starts before the second ended
seg 5 4 "$T/b3.vob" || die "no vob"
cat "$T/a1.vob" "$T/a2.vob" "$T/b3.vob" >"$T/back.vob"
expect_exit 0 "$EVIDENCE" inspect --json "$T/back.vob" && cp "$OUT" "$T/back.json"
python3 "$TOOLS/tlcheck.py" events "$T/back.json" >"$T/back.ev"
ok "back.vob: a backward discontinuity after frame 250" grep -qx 'disc backward 250' "$T/back.ev"
ffprobe -v error -show_entries packet=pts,dts,duration -of csv=p=0 "$T/back.vob" >"$T/back.csv"
python3 "$TOOLS/tlcheck.py" ffprobe "$T/back.csv" >"$T/back.ff"
ok "back.vob: events agree with ffprobe's packets" diff "$T/back.ff" "$T/back.ev"

# 4. DAV: per-frame wall-clock stamps (25 fps, 250 frames)
ff -f lavfi -i testsrc=s=64x48:r=25:d=10 -c:v libx264 -preset ultrafast -g 50 -bf 0 \
    -bsf:v h264_metadata=aud=insert -f h264 "$T/dav.264" || die "no h264 for dav"
dav() { python3 "$TOOLS/mkdav.py" "$T/dav.264" "$T/$1" --fps 25 --start 2026-03-01T10:00:00 "${@:2}" ||
            die "mkdav failed"; }
dav cut.dav --cut 100:60 --back 200:30 --zero-date 240
timeout 60 "$EVIDENCE" inspect --json "$T/cut.dav" >"$T/dav.json" || fail "cut.dav: inspect failed"
ok "cut.dav: read by the dhav demuxer" python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["media"]["container"] == "dhav"' "$T/dav.json"
ok "cut.dav: frame stamps" [ "$(tlget "$T/dav.json" time_source)" = '"frame-stamps"' ]
ok "cut.dav: zone unknown" [ "$(tlget "$T/dav.json" wallclock_zone)" = '"unknown"' ]
ok "cut.dav: first wall-clock" [ "$(tlget "$T/dav.json" first_wallclock)" = '"2026-03-01T10:00:00.000"' ]
python3 "$TOOLS/tlcheck.py" events "$T/dav.json" >"$T/dav.ev"
ok "cut.dav: a 60 s gap after frame 100" grep -qx 'gap 100 60.000' "$T/dav.ev"
ok "cut.dav: stamps going back after frame 200" grep -qx 'disc backward 200' "$T/dav.ev"
ok "cut.dav: the zero date is impossible" [ "$(tlget "$T/dav.json" impossible_stamps)" = 1 ]
# the impossible frame is timed from its neighbour; FFmpeg restarts the next
# frame's pts at its whole second (after a date change): a step back there
ok "cut.dav: the zero date is no gap" [ "$(grep -c '^gap 24[01]' "$T/dav.ev")" = 0 ]
n=$(ffprobe -v error -show_packets "$T/cut.dav" | grep -c '^\[PACKET')
ok "cut.dav: frames as ffprobe ($n)" [ "$(tlget "$T/dav.json" frames)" = "$n" ]
expect_exit 0 "$EVIDENCE" inspect "$T/cut.dav"
ok "cut.dav: human wall-clock gap" grep -q 'gap: 00:01:00.000 missing after frame 100 (2026-03-01T10:00:03.960 -> 2026-03-01T10:01:04.000)' "$OUT"
ok "cut.dav: human impossible" grep -q 'impossible dates' "$OUT"

dav damaged.dav --damage 50
timeout 60 "$EVIDENCE" inspect --json "$T/damaged.dav" >"$T/dmg.json" || fail "damaged.dav: inspect failed"
python3 "$TOOLS/tlcheck.py" events "$T/dmg.json" >"$T/dmg.ev"
# FFmpeg restarts a DAV pts at each new second of the date stamp: the frame
# lost at 00:00:02.000 shows as a step at the next second, after frame 74
ok "damaged.dav: the lost frame is a 40 ms gap" grep -qx 'gap 74 0.040' "$T/dmg.ev"
ok "damaged.dav: as ffprobe's packets" [ "$(ffprobe -v error -show_entries packet=pts -of csv=p=0 "$T/damaged.dav" | awk 'NR>1 && $1-p!=40 {print NR-1, $1-p} {p=$1}')" = "74 80" ]
ok "damaged.dav: 249 frames" [ "$(tlget "$T/dmg.json" frames)" = 249 ]

dav badlen.dav --badlen 120
timeout 60 "$EVIDENCE" inspect --json "$T/badlen.dav" >"$T/bl.json" || fail "badlen.dav: inspect failed"
# FFmpeg 5.1 skips the frame with the impossible length and reads on
ok "badlen.dav: the frame is lost, 249 frames" [ "$(tlget "$T/bl.json" frames)" = 249 ]
ok "badlen.dav: its loss is a gap" grep -q '^gap ' <(python3 "$TOOLS/tlcheck.py" events "$T/bl.json")

# more gaps than are stored: 1000 kept, all counted
ff -f lavfi -i testsrc=s=64x48:r=25:d=160 -c:v libx264 -preset ultrafast -g 50 -bf 0 \
    -bsf:v h264_metadata=aud=insert -f h264 "$T/many.264" || die "no h264"
python3 "$TOOLS/mkdav.py" "$T/many.264" "$T/many.dav" --fps 25 --cut-every 3:1 || die "mkdav failed"
timeout 120 "$EVIDENCE" inspect --json "$T/many.dav" >"$T/many.json" || fail "many.dav: inspect failed"
# 1333 cuts; FFmpeg's restart of the pts at each second adds a few more steps
ffprobe -v error -show_entries packet=pts,dts,duration -of csv=p=0 "$T/many.dav" >"$T/many.csv"
n=$(python3 "$TOOLS/tlcheck.py" ffprobe "$T/many.csv" 1000 | grep -c '^gap ')
ok "many.dav: every gap counted, as from ffprobe's packets ($n)" [ "$(tlget "$T/many.json" gaps_total)" = "$n" -a "$n" -gt 1333 ]
ok "many.dav: 1000 stored" python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["media"]["streams"][0]["timeline"]; assert len(t["gaps"]) == 1000 and t["events_truncated"] is True' "$T/many.json"

# a raw stream with no SPS/PPS: said, in bounded time, no timeline claimed
python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
out, i = bytearray(), 0
parts = d.split(b"\x00\x00\x00\x01")
for p in parts[1:]:
    if p and (p[0] & 0x1F) in (7, 8):
        continue
    out += b"\x00\x00\x00\x01" + p
open(sys.argv[2], "wb").write(out)' "$T/raw.264" "$T/nosps.264"
timeout 60 "$EVIDENCE" inspect --json "$T/nosps.264" >"$T/nosps.json" || fail "nosps.264: inspect failed"
ok "nosps.264: not presented as measured" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["media"]
t = (m.get("streams") or [{}])[0].get("timeline")
assert t is None or (t["time_source"] == "none" and "measured_fps" not in t), t
assert m.get("error") or m.get("notes"), m' "$T/nosps.json"

# 5. pack keeps the master byte for byte and records the timeline
expect_exit 0 "$EVIDENCE" pack -o "$T/case.zip" "$T/cut.dav" "$T/cut.vob" || die "pack failed"
mkdir -p "$T/x" && (cd "$T/x" && unzip -q "$T/case.zip") || die "unzip failed"
m=$(find "$T/x" -name cut.dav -path '*data*' | head -1)
ok "pack: the DAV master is kept byte for byte" cmp "$m" "$T/cut.dav"
html=$(find "$T/x" -name index.html | head -1)
ok "index.html: the DAV gap" grep -q 'gap after frame 100: 60.000 s (1 min 00 s) missing, between frame 100 at 2026-03-01T10:00:03.960 and frame 101 at 2026-03-01T10:01:04.000' "$html"
ok "record: the timeline" grep -q '"time_source": *"frame-stamps"' "$(find "$T/x" -name 'evidence.json' | head -1)"
ok "index.html: the PS gaps" bash -c "grep -q '<strong>2 gaps, 15.500 s missing</strong>' '$html' &&
    grep -q 'gap after frame 125: 10.000 s missing, between frame 125' '$html' &&
    grep -q 'gap after frame 250: 5.500 s missing, between frame 250' '$html'"

# 6. done when: a 1-hour 12.5 fps MPEG-PS export with two gaps (12:00, 01:20)
seg 0 720 "$T/h1.vob" && seg 1440.58 1440 "$T/h2.vob" && seg 2960.58 640 "$T/h3.vob" || die "no vob"
cat "$T/h1.vob" "$T/h2.vob" "$T/h3.vob" >"$T/hour.vob"
expect_exit 0 "$EVIDENCE" inspect --json "$T/hour.vob" && cp "$OUT" "$T/hour.json"
python3 "$TOOLS/tlcheck.py" events "$T/hour.json" >"$T/hour.ev"
ok "hour.vob: 12:00 missing after frame 9000" grep -qx 'gap 9000 720.000' "$T/hour.ev"
ok "hour.vob: 01:20 missing after frame 27000" grep -qx 'gap 27000 80.000' "$T/hour.ev"
ok "hour.vob: 35000 frames" [ "$(tlget "$T/hour.json" frames)" = 35000 ]
ok "hour.vob: last frame at 3600.5 s" [ "$(tlget "$T/hour.json" last)" = 3600.5 ]
ok "hour.vob: exactly two gaps, no discontinuity" [ "$(wc -l <"$T/hour.ev")" = 2 ]
# FFmpeg's MPEG-PS reading gives a few frames the next frame's PES time (a
# one-frame step then a repeat): counted as jitter; the same events follow
# from ffprobe's packets
ok "hour.vob: stamp jitter counted" [ "$(tlget "$T/hour.json" stamp_jitter)" = 3 ]
ffprobe -v error -show_entries packet=pts,dts,duration -of csv=p=0 "$T/hour.vob" >"$T/hour.csv"
python3 "$TOOLS/tlcheck.py" ffprobe "$T/hour.csv" >"$T/hour.ff"
ok "hour.vob: every event agrees with ffprobe's packets" diff "$T/hour.ff" "$T/hour.ev"
# and as ffprobe -show_frames gives them (tests/tools/showframes.py: each
# frame's own pts): the same two gaps, the same stamp jitter, every frame
python3 "$TOOLS/showframes.py" "$T/hour.vob" >"$T/hour.frames" || die "showframes"
printf 'gap after frame 9000: 720.000\ngap after frame 27000: 80.000\njitter 3\nframes 35000\n' >"$T/hour.fwant"
ok "hour.vob: ffprobe -show_frames gives the two gaps, 3 jitters, 35000 frames" diff "$T/hour.fwant" "$T/hour.frames"
ok "hour.vob: the gaps as ffprobe -show_frames" diff <(grep '^gap' "$T/hour.frames" | sed 's/^gap after frame \([0-9]*\): /gap \1 /') "$T/hour.ev"
ok "hour.vob: the jitter as ffprobe -show_frames" [ "jitter $(tlget "$T/hour.json" stamp_jitter)" = "$(grep '^jitter' "$T/hour.frames")" ]
expect_exit 0 "$EVIDENCE" inspect "$T/hour.vob"
ok "hour.vob: the text names both gaps" bash -c "grep -q 'gap: 00:12:00.000 missing after frame 9000 (00:11:59.920 -> 00:24:00.000 from the first frame)' '$OUT' &&
    grep -q 'gap: 00:01:20.000 missing after frame 27000 (00:47:59.920 -> 00:49:20.000 from the first frame)' '$OUT' &&
    grep -q '  first 0.580000 s, last 3600.500000 s' '$OUT' && grep -q 'frame rate: nominal 12.5 fps, measured 12.5 fps' '$OUT'"

# 7. picture size changes: 64x48, 128x96 from frame 51, 64x48 from frame 101,
# as a raw stream (no time) and in Matroska (timed); frames, times and sizes as
# ffprobe -show_frames gives them
ff -f lavfi -i testsrc=s=64x48:r=25:d=2 -c:v libx264 -preset ultrafast -g 25 -bf 0 -f h264 "$T/m1.264" &&
    ff -f lavfi -i testsrc=s=128x96:r=25:d=2 -c:v libx264 -preset ultrafast -g 25 -bf 0 -f h264 "$T/m2.264" &&
    cat "$T/m1.264" "$T/m2.264" "$T/m1.264" >"$T/mixed.264" &&
    ff -r 25 -i "$T/mixed.264" -c copy -f matroska "$T/mixed.mkv" || die "no mixed stream"
for f in mixed.264 mixed.mkv; do
    expect_exit 0 "$EVIDENCE" inspect --json "$T/$f" || continue
    cp "$OUT" "$T/$f.json"
    python3 "$TOOLS/showframes.py" "$T/$f" | sed -n 's/^size from frame \([0-9]*\): \([0-9]*\)x\([0-9]*\) to \([0-9]*\)x\([0-9]*\)$/\1 \2 \3 \4 \5/p' >"$T/$f.ffsizes"
    ok "$f: ffprobe -show_frames sees two size changes" [ "$(wc -l <"$T/$f.ffsizes")" = 2 ]
    ok "$f: the size changes as ffprobe -show_frames (frame, old and new size)" diff "$T/$f.ffsizes" <(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["media"]["streams"][0]["timeline"]
assert t["size_changes_total"] == len(t["size_changes"])
for c in t["size_changes"]:
    print(c["frame"], c["from_width"], c["from_height"], c["width"], c["height"])' "$T/$f.json")
done
ok "mixed.264: no time given to a size change (no time source)" python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["media"]["streams"][0]["timeline"]
assert t["time_source"] == "none" and all("time" not in c for c in t["size_changes"]), t' "$T/mixed.264.json"
ok "mixed.mkv: each size change at the time of its frame (ffprobe pts_time)" python3 -c '
import json, subprocess, sys
t = json.load(open(sys.argv[1]))["media"]["streams"][0]["timeline"]
fr = json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
     "frame=pts_time", "-of", "json", sys.argv[2]], capture_output=True, text=True, check=True).stdout)["frames"]
assert [c["time"] for c in t["size_changes"]] == [float(fr[c["frame"] - 1]["pts_time"]) for c in t["size_changes"]] == [2.0, 4.0], t' \
    "$T/mixed.mkv.json" "$T/mixed.mkv"
expect_exit 0 "$EVIDENCE" inspect "$T/mixed.mkv"
ok "mixed.mkv: the text lists both" bash -c "grep -qx '  2 picture size changes' '$OUT' &&
    grep -qx '  size change: 64x48 -> 128x96 from frame 51 (2.000000 s)' '$OUT' &&
    grep -qx '  size change: 128x96 -> 64x48 from frame 101 (4.000000 s)' '$OUT'"
expect_exit 0 "$EVIDENCE" inspect "$T/mixed.264"
ok "mixed.264: the text lists both, without a time" grep -qx '  size change: 64x48 -> 128x96 from frame 51' "$OUT"
ok "a stream of one size: no size change" [ "$(tlget "$T/cut.json" size_changes_total)" = 0 ]

# 8. a DAV file whose first frame header is damaged: FFmpeg no longer sees a
# DAV file (it probes as raw H.264): the timeline says there is no time
# source, nothing is presented as measured, in bounded time; pack keeps it
python3 "$TOOLS/mkdav.py" "$T/dav.264" "$T/head.dav" --fps 25 --damage 0 || die "mkdav failed"
timeout 60 "$EVIDENCE" inspect --json "$T/head.dav" >"$T/head.json" || fail "head.dav: inspect failed or took too long"
ok "head.dav: no time source claimed, no rate measured" python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["media"]["streams"][0]["timeline"]
assert t["time_source"] == "none" and "measured_fps" not in t and "first" not in t, t' "$T/head.json"
expect_exit 0 "$EVIDENCE" pack -q -o "$T/head.zip" "$T/head.dav"
ok "head.dav: the master kept byte for byte" cmp <(unzip -p "$T/head.zip" 'head/data/*/head.dav') "$T/head.dav"
# every document matches the schema
mkdir -p "$T/docs"
for j in "$T"/*.json; do cp "$j" "$T/docs/doc-$(basename "$j")"; done
run bash "$EV_SOURCE_DIR/scripts/media-validate.sh" "$EV_SOURCE_DIR/docs/schema/media.schema.json" "$T/docs"
if [ "$RC" -eq 77 ]; then
    skip_case "npm not available: schema not checked"
else
    ok "documents match media.schema.json" [ "$RC" -eq 0 ] || show_last
fi
finish
