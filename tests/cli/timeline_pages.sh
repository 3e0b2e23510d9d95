# The timelines of video streams on the two pages people read: index.html in
# the bundle and the verification report (evidence report). A generated
# 4-hour MPEG-PS export with a 12-minute hole (tiny frames at 1 fps: cheap),
# a DAV file (tests/tools/mkdav.py) with a cut and stamps going back, a raw
# H.264 stream (no time source) and a stream whose picture size changes are
# packed; both pages must state each stream's time source (or that it has
# none), first and last frame, nominal and measured rate, and every gap,
# discontinuity and size change with frame numbers and times. The expected
# events are worked out here from ffprobe -show_frames, not from the record.
# Headless Chromium renders both pages: the text it prints to PDF
# (pdftotext) carries the gap, and its screenshots show it (in red). The
# bundle verifies as valid.
. "$(dirname "$0")/lib.sh"

command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { skip_case "no ffmpeg"; finish; }
ff() { ffmpeg -nostdin -hide_banner -loglevel fatal -y "$@"; }
cd "$T" || die "no scratch folder"

# --- the exports -------------------------------------------------------------------
# (testsrc for the MPEG-PS: its frames are large enough for a PES packet each
# to start with a new frame; grey elsewhere.)
# MPEG-PS at 1 fps, 16x16: 7200 frames, 12 minutes missing, 6481 frames. (The
# muxer puts the first frame of the first part 1.5 s in and that of the second
# at its offset, so the step is 7921.5 - 7200.5 = 721 s: 720 s missing.)
seg() { ff -f lavfi -i "testsrc=s=16x16:r=1:d=$2" -c:v mpeg2video -force_fps -r 1 -g 250 \
            -output_ts_offset "$1" -f vob "$3"; }
seg 0 7200 p1.vob && seg 7921.5 6481 p2.vob || die "no vob"
mkdir -p in && cat p1.vob p2.vob >in/CAM1_4h.vob
# DAV: 25 fps, 250 frames, 60 s cut after frame 100, stamps 30 s back after 200
ff -f lavfi -i color=c=gray:s=64x48:r=25:d=10 -c:v libx264 -preset ultrafast -g 50 -bf 0 \
    -bsf:v h264_metadata=aud=insert -f h264 dav.264 || die "no h264"
python3 "$TOOLS/mkdav.py" dav.264 in/CAM2.dav --fps 25 --start 2026-03-01T10:00:00 \
    --cut 100:60 --back 200:30 || die "mkdav failed"
# raw H.264: no time per frame
ff -f lavfi -i color=c=gray:s=64x48:r=25:d=2 -c:v libx264 -preset ultrafast -f h264 in/CAM3.264 ||
    die "no h264"
# 64x48, then 128x96 from frame 51, in Matroska (timed)
ff -f lavfi -i color=c=gray:s=64x48:r=25:d=2 -c:v libx264 -preset ultrafast -g 25 -bf 0 -f h264 m1.264 &&
    ff -f lavfi -i color=c=gray:s=128x96:r=25:d=2 -c:v libx264 -preset ultrafast -g 25 -bf 0 -f h264 m2.264 &&
    cat m1.264 m2.264 >mixed.264 && ff -r 25 -i mixed.264 -c copy -f matroska in/CAM4.mkv ||
    die "no mixed stream"

# --- what ffprobe -show_frames says (tests/tools/showframes.py) --------------------------
for f in CAM1_4h.vob CAM2.dav CAM4.mkv; do
    python3 "$TOOLS/showframes.py" "in/$f" >"$f.ff" || die "ffprobe -show_frames $f"
done
ok "ffprobe: the 4-hour export has one gap, 720 s after frame 7200" \
    [ "$(grep -c '^gap' CAM1_4h.vob.ff)" = 1 -a "$(grep '^gap' CAM1_4h.vob.ff)" = "gap after frame 7200: 720.000" ]
ok "ffprobe: the DAV gap after frame 100, the step back after frame 200" \
    grep -qx 'discontinuity after frame 200: goes back' CAM2.dav.ff
ok "ffprobe: the size changes from frame 51" grep -qx 'size from frame 51: 64x48 to 128x96' CAM4.mkv.ff

# --- the bundle and its two pages ----------------------------------------------------
# (decoded content hashes: the picture sizes are seen only when frames are decoded)
expect_exit 0 "$EVIDENCE" pack -q -o case.zip --content-hash both --case 'OP/TIMELINE' \
    --exhibit CCTV/1 in/CAM1_4h.vob in/CAM2.dav in/CAM3.264 in/CAM4.mkv
expect_exit 0 "$EVIDENCE" verify case.zip
ok "the bundle is valid" grep -q 'case.zip: valid' "$OUT"
unzip -p case.zip case/index.html >index.html || die "no index.html"
expect_exit 0 "$EVIDENCE" report case.zip -o report.html
# the text of a page, as a browser lays it out in words (tags dropped, entities
# decoded, white space folded): one line per item for index.html (its table
# rows), one line per timeline block
cat >text.py <<'EOF'
import html.parser, re, sys
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.skip = [], 0
    def handle_starttag(self, tag, a):
        if tag in ("style", "title"): self.skip += 1
        if tag in ("tr", "div", "li", "h3", "br", "p"): self.out.append("\n")
        if tag in ("td", "th"): self.out.append(" ")
    def handle_endtag(self, tag):
        if tag in ("style", "title"): self.skip -= 1
    def handle_data(self, d):
        if not self.skip: self.out.append(d)
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
for line in "".join(p.out).split("\n"):
    line = re.sub(r"\s+", " ", line).strip()
    if line: print(line)
EOF
python3 text.py index.html >index.txt && python3 text.py report.html >report.txt || die "page text"

for page in index report; do
    P=$page.txt
    # the 4-hour export
    ok "$page: the MPEG-PS time source" grep -qF "Timeline of stream 0: time source: the container's timestamps" $P
    ok "$page: its frames, first and last frame" grep -qxF "$(sed -n 's/^frames //p' CAM1_4h.vob.ff) frames (10930 without a time of their own, timed as the frame before plus its duration); first frame at 1.500 s [+00:00:00.000], last frame at 14401.500 s [+04:00:00.000]; from the first to the last frame 14400.000 s (4 h 00 min 00 s)" $P
    ok "$page: nominal and measured rate" grep -qxF "frame rate: nominal 1 fps, measured 1 fps" $P
    ok "$page: the 12-minute hole stated" grep -qxF "1 gap, 720.000 s (12 min 00 s) missing; no discontinuity" $P
    ok "$page: the gap with its frames and times" grep -qxF "gap after frame 7200: 720.000 s (12 min 00 s) missing, between frame 7200 at 7200.500 s [+01:59:59.000] and frame 7201 at 7921.500 s [+02:12:00.000]" $P
    # every gap ffprobe sees is on the page, and no other
    n=$(cat CAM1_4h.vob.ff CAM2.dav.ff CAM4.mkv.ff | grep -c '^gap')
    ok "$page: as many gaps as ffprobe -show_frames gives ($n)" [ "$(grep -c '^gap after frame' $P)" = "$n" ]
    for f in CAM1_4h.vob CAM2.dav; do
        while read -r _ _ _ k secs; do
            ok "$page: $f: the gap after frame ${k%:} ($secs s) as ffprobe" grep -q "^gap after frame ${k%:}: $secs s" $P
        done < <(grep '^gap' $f.ff)
    done
    # the DAV export: camera clock stamps, wall-clock times on every event
    ok "$page: the DAV time source" grep -qF "time source: per-frame wall-clock stamps of the camera (local time, zone unknown)" $P
    ok "$page: DAV first and last frame on the camera clock" grep -qF "first frame at 2026-03-01T10:00:00.000, last frame at 2026-03-01T10:00:39.960" $P
    ok "$page: the DAV gap in wall-clock time" grep -qxF "gap after frame 100: 60.000 s (1 min 00 s) missing, between frame 100 at 2026-03-01T10:00:03.960 and frame 101 at 2026-03-01T10:01:04.000" $P
    ok "$page: the DAV step back" grep -qxF "discontinuity after frame 200: time goes back by 29.960 s, between frame 200 at 2026-03-01T10:01:07.960 and frame 201 at 2026-03-01T10:00:38.000" $P
    ok "$page: the MPEG-PS stamp jitter as ffprobe's ($(sed -n 's/^jitter //p' CAM1_4h.vob.ff))" \
        grep -qx "$(sed -n 's/^jitter //p' CAM1_4h.vob.ff) frame times one or two frames off and taken back by the next frames (a stamp given to the wrong frame, not a gap)" $P
    ok "$page: the DAV discontinuity counted" grep -qF "; 1 discontinuity (time going back or standing still)" $P
    # the raw stream
    ok "$page: the raw stream has no time source, said plainly" grep -qF "Timeline of stream 0: no time source: an elementary stream has no time per frame" $P
    ok "$page: the assumed rate is not measured" grep -qxF "50 frames, numbered by FFmpeg at an assumed 25 fps (not measured); no first or last time, no measured frame rate, and missing frames cannot be seen" $P
    # the size change
    ok "$page: the size change counted" grep -qF "picture size changes 1 time" $P
    ok "$page: the size change with frame and time" grep -qxF "from frame 51 at 2.000 s [+00:00:02.000]: 64x48 to 128x96" $P
done
# the duration as FFmpeg gives it (ffprobe's format duration, in microseconds)
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 in/CAM1_4h.vob | python3 -c '
import sys
us = round(float(sys.stdin.read()) * 1e6)
s, f = divmod(us, 1000000)
frac = ("%06d" % f).rstrip("0").ljust(3, "0")
hm = "%d h %02d min %02d" % (s // 3600, s // 60 % 60, s % 60) if s >= 3600 else "%d min %02d" % (s // 60, s % 60)
print("%d.%s s (%s%s s)" % (s, frac, hm, "" if f == 0 else "." + frac))')
ok "index.html: the hours-long duration exactly and readably ($dur)" grep -qF "video; mpeg2video 16x16 1/1 fps; $dur" index.txt
ok "index.html: no duration in exponent form" bash -c "! grep -qE '[0-9]e\\+[0-9]+ s' index.txt"
ok "report: the media summary" grep -qxF "media video; mpeg2video 16x16 1/1 fps; $dur" report.txt
# without decoding (pack's default content hash) the sizes are not known, and
# the page says so rather than nothing
expect_exit 0 "$EVIDENCE" pack -q -o nodecode.zip in/CAM4.mkv
unzip -p nodecode.zip nodecode/index.html >nodecode.html && python3 text.py nodecode.html >nodecode.txt
ok "not decoded: size changes said not looked for" grep -qxF "picture size changes: not looked for (the frames were not decoded)" nodecode.txt
# the checks of index.html that do not depend on its layout still hold
ok "index.html: the views checker finds nothing wrong" python3 "$TOOLS/views_check.py" html case.zip

# --- headless Chromium: PDF text and screenshots ----------------------------------------
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
chrome() {
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-extensions --disable-background-networking --disable-sync \
        --hide-scrollbars --user-data-dir="$T/chrome-profile" "$@"
}
mkdir -p bag && (cd bag && unzip -q ../case.zip) || die "unzip"
if [ -z "$CHROMIUM" ]; then
    skip_case "chromium is not installed (apt-get install chromium): no screenshots"
elif ! chrome --dump-dom "file://$T/bag/case/index.html" >dom.txt 2>chrome.log ||
    ! grep -q 'Evidence bundle OP/TIMELINE' dom.txt; then
    skip_case "chromium cannot run here: $(tail -n 3 chrome.log | tr '\n' ' ')"
elif ! command -v pdftotext >/dev/null; then
    skip_case "pdftotext missing (apt-get install poppler-utils): no PDF check"
else
    cp report.html bag/report.html
    flat() { printf '%s' "$1" | tr -d ' \n-'; }
    for page in index report; do
        html="$T/bag/case/index.html"
        [ $page = report ] && html="$T/bag/report.html"
        expect_exit 0 chrome --window-size=1400,2400 --screenshot="$T/$page.png" "file://$html"
        ok "$page: a screenshot was made" test -s "$page.png"
        expect_exit 0 chrome --no-pdf-header-footer --print-to-pdf="$T/$page.pdf" "file://$html"
        expect_exit 0 pdftotext "$page.pdf" "$page.pdf.txt"
        # white space and hyphens dropped: pdftotext breaks lines (and joins
        # a hyphenated break), the words stay in order
        tr -d ' \n-' <"$page.pdf.txt" >"$page.pdf.flat"
        ok "$page PDF: the 12-minute hole" grep -qF "$(flat "1 gap, 720.000 s (12 min 00 s) missing")" "$page.pdf.flat"
        ok "$page PDF: the gap's frames and times" grep -qF "$(flat "gap after frame 7200: 720.000 s (12 min 00 s) missing, between frame 7200 at 7200.500 s [+01:59:59.000] and frame 7201 at 7921.500 s [+02:12:00.000]")" "$page.pdf.flat"
        ok "$page PDF: the DAV gap in wall-clock time" grep -qF "$(flat "frame 101 at 2026-03-01T10:01:04.000")" "$page.pdf.flat"
        ok "$page PDF: no time source, said plainly" grep -qF "$(flat "no time source: an elementary stream has no time per frame")" "$page.pdf.flat"
        ok "$page PDF: the size change" grep -qF "$(flat "from frame 51 at 2.000 s [+00:00:02.000]: 64x48 to 128x96")" "$page.pdf.flat"
    done
    if [ -n "${EV_REPORT_SHOTS:-}" ]; then
        mkdir -p "$EV_REPORT_SHOTS" && cp index.png report.png index.pdf report.pdf "$EV_REPORT_SHOTS/"
    fi
    # the gap summaries are red (#9b0d0d) and nothing else on these pages is
    # (pixels near that colour): the screenshots show them; a page with a
    # gapless video shows none
    for page in index report; do
        read -r w h red ink _ < <(python3 "$TOOLS/pngpixels.py" $page.png 9b0d0d)
        ok "$page screenshot: 1400x2400 with text" test "$w" -eq 1400 -a "$h" -eq 2400 -a "$ink" -gt 20000
        ok "$page screenshot: the gaps and the discontinuity shown in red ($red pixels)" test "$red" -gt 500
    done
    # the same page for a bundle of the gapless first part only: no red
    expect_exit 0 "$EVIDENCE" pack -q -o clean.zip p1.vob
    mkdir -p cbag && (cd cbag && unzip -q ../clean.zip) || die "unzip"
    expect_exit 0 chrome --window-size=1400,2400 --screenshot="$T/clean.png" "file://$T/cbag/clean/index.html"
    read -r w h red ink _ < <(python3 "$TOOLS/pngpixels.py" clean.png 9b0d0d)
    ok "a page without gaps: no red in its screenshot ($red pixels)" test "$red" -lt 50
fi

finish
