# label: slow
# An export of 10^6 tiny frames (docs/media.md, "Timelines"): a DAV file of
# 16x16 H.264 at 25 fps (40 000 s) written by tests/tools/mkdav.py, with a
# 12-minute cut after frame 500 000. evidence inspect must read it in bounded
# time and memory (it decodes every frame for the content hash and keeps the
# packet list for the timeline) and report all 10^6 frames, the one gap with
# its frame number and wall-clock times, and the measured rate. The time and
# peak memory are printed (note lines). Generating the file takes about a
# minute of ffmpeg; the whole case a few minutes on a loaded 2-core machine.
. "$(dirname "$0")/lib.sh"

command -v ffmpeg >/dev/null || { skip_case "no ffmpeg"; finish; }
on_exit "rm -f '$T/million.264' '$T/million.dav'"
cd "$T" || die "no scratch folder"

ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "color=c=gray:s=16x16:r=25,format=yuv420p" \
    -frames:v 1000000 -c:v libx264 -preset ultrafast -g 250 -bf 0 -bsf:v h264_metadata=aud=insert \
    -f h264 million.264 || die "no h264"
python3 "$TOOLS/mkdav.py" million.264 million.dav --fps 25 --width 16 --height 16 \
    --start 2026-03-01T10:00:00 --cut 500000:720 ||
    die "mkdav failed"
rm -f million.264

# bounded: 15 minutes at the most (measured: 2 min 18 s wall, 53 s user and
# 22 s system CPU, 246 MiB peak, load average about 10)
start=$(date +%s)
if command -v /usr/bin/time >/dev/null; then
    timeout 900 /usr/bin/time -f '%e s wall, %U s user, %S s system, %M KiB peak' -o time.txt \
        "$EVIDENCE" inspect --json million.dav >million.json 2>inspect.err
else
    timeout 900 "$EVIDENCE" inspect --json million.dav >million.json 2>inspect.err
fi
rc=$?
ok "inspect of 10^6 frames ends within 15 minutes, exit 0 (exit $rc)" [ "$rc" = 0 ]
note "inspect of 10^6 frames: $(cat time.txt 2>/dev/null || echo "$(( $(date +%s) - start )) s")"
if [ -s time.txt ]; then
    kib=$(sed -n 's/.* \([0-9]*\) KiB peak.*/\1/p' time.txt)
    ok "peak memory under 1 GiB ($kib KiB)" [ "${kib:-0}" -gt 0 -a "${kib:-0}" -lt 1048576 ]
fi
ok "10^6 frames, one 720 s gap after frame 500000, 25 fps measured" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["media"]
s = m["streams"][0]
t = s["timeline"]
assert t["time_source"] == "frame-stamps" and t["frames"] == 1000000, t["frames"]
assert t["gaps_total"] == 1 and t["discontinuities_total"] == 0, t
g = t["gaps"][0]
assert (g["after_frame"], g["missing"]) == (500000, 720.0), g
assert (g["from_wallclock"], g["to_wallclock"]) == ("2026-03-01T15:33:19.960",
                                                   "2026-03-01T15:45:20.000"), g
assert (t["first_wallclock"], t["last_wallclock"]) == ("2026-03-01T10:00:00.000",
                                                     "2026-03-01T21:18:39.960"), t
assert t["nominal_fps"] == 25 and t["measured_fps"] == 25, t
assert t["size_changes_total"] == 0 and s["frames"] == 1000000, s
assert "incomplete" not in t' million.json

finish
