#!/bin/bash
# Capture facts of video/audio containers against the stored bytes and the
# reference readers: evidence inspect --json on the structures cameras and
# phones write (tests/tools/capture_media.py: 3GPP loci, QuickTime ©xyz,
# Apple mdta keys, mvhd, AVI IDIT, Matroska DateUTC and DATE_RECORDED, and
# placeholders), compared value by value with `exiftool -j -n -G1 -a` and
# `ffprobe -show_format`. Where a reference reader renders a value
# differently from what is stored, the check names the disagreement and
# holds the record to the stored value.
. "$(dirname "$0")/lib.sh"

command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null && command -v exiftool >/dev/null ||
    { skip_case "ffmpeg, ffprobe or exiftool missing"; finish; }

python3 "$TOOLS/capture_media.py" "$T/m" >"$T/facts.json" || die "cannot make the media"
mkdir -p "$T/docs" "$T/valid"
for f in "$T"/m/*; do
    b=$(basename "$f")
    expect_exit 0 "$EVIDENCE" inspect --json "$f" || continue
    cp "$OUT" "$T/docs/$b.json"
    cp "$OUT" "$T/valid/doc-$b.json"
    exiftool -j -n -G1 -a "$f" >"$T/docs/$b.exiftool" 2>/dev/null || fail "exiftool $b"
    ffprobe -v error -of json -show_format -show_streams "$f" >"$T/docs/$b.ffprobe" ||
        fail "ffprobe $b"
done

# cmp NAME FILE EXPR: EXPR is a python expression over
#   c (our capture), x (exiftool's tags), p (ffprobe's format tags), f (facts)
# that must be true.
cmp() {
    local name=$1 file=$2 expr=$3
    ok "$file: $name" python3 - "$T/docs/$file" "$T/facts.json" "$expr" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1] + ".json"))
c = d.get("capture") or {}
x = json.load(open(sys.argv[1] + ".exiftool"))[0]
p = (json.load(open(sys.argv[1] + ".ffprobe")).get("format") or {}).get("tags") or {}
f = json.load(open(sys.argv[2])).get(sys.argv[1].rsplit("/", 1)[1], {})
g = c.get("gps") or {}
src = c.get("sources") or {}
warn = " | ".join(c.get("warnings") or [])
def iso(v):  # exiftool "2012:09:10 20:52:00[+02:00]" -> RFC 3339 text
    return v[:4] + "-" + v[5:7] + "-" + v[8:10] + "T" + v[11:]
ok = eval(sys.argv[3])
if not ok:
    print("capture:", json.dumps(c), file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}

# --- 3GPP loci (MP4): the stored 16.16 value, not a rendering -------------
# (the JSON writer prints 15 significant digits: the decimal degrees are the
# stored value to 1e-13; raw keeps the integers exactly)
cmp "latitude/longitude are loci/65536" loci.mp4 \
    'abs(g["latitude"] - f["loci_latitude"] / 65536) < 1e-13 and abs(g["longitude"] - f["loci_longitude"] / 65536) < 1e-13'
cmp "altitude is loci/65536" loci.mp4 'g["altitude"] == f["loci_altitude"] / 65536'
cmp "raw keeps the stored integers" loci.mp4 \
    'g["raw"] == {"loci_latitude": f["loci_latitude"], "loci_longitude": f["loci_longitude"], "loci_altitude": f["loci_altitude"]}'
cmp "format, precision 1/65536, source" loci.mp4 \
    'g["format"] == "3gpp-loci-16.16" and g["precision_deg"] == 1/65536 and src["gps"] == "quicktime:udta:loci"'
# disagreement: exiftool prints loci with 5 decimals, ffprobe with 4; both
# are roundings of the stored value
cmp "exiftool's GPSLatitude is the stored value rounded to 5 decimals" loci.mp4 \
    'round(g["latitude"], 5) == x["Composite:GPSLatitude"] and g["latitude"] != x["Composite:GPSLatitude"]'
cmp "ffprobe's location is the stored value rounded to 4 decimals" loci.mp4 \
    'p["location"].startswith("%+.4f%+09.4f" % (g["latitude"], g["longitude"])) and abs(float(p["location"][:8]) - g["latitude"]) > 1e-6'
# mvhd: UTC by the format, the same instant exiftool and ffprobe show
cmp "mvhd creation time, utc-by-format" loci.mp4 \
    'c["datetime_original"] == "2012-09-10T20:52:00Z" and c["datetime_original_zone"] == "utc-by-format" and src["datetime_original"] == "quicktime:mvhd"'
cmp "same as exiftool QuickTime:CreateDate (UTC)" loci.mp4 \
    'iso(x["QuickTime:CreateDate"]) + "Z" == c["datetime_original"]'
cmp "same as ffprobe creation_time" loci.mp4 \
    'p["creation_time"].replace(".000000", "") == c["datetime_original"]'

# --- placeholders ----------------------------------------------------------
# disagreement: exiftool reports 0,0 as a position and 0000:00:00 as a date
cmp "loci 0,0 is a placeholder (exiftool: GPSLatitude 0)" loci0.mp4 \
    'g.get("placeholder") is True and "latitude" not in g and x["Composite:GPSLatitude"] == 0 and "placeholder position" in warn'
cmp "mvhd 0 is no date (exiftool: 0000:00:00, ffprobe: none)" loci0.mp4 \
    '"datetime_original" not in c and "datetime_original_local" not in c and x["QuickTime:CreateDate"].startswith("0000") and "creation_time" not in p'
cmp "ISO 6709 0,0 is a placeholder (exiftool: 0 0)" apple0.mov \
    'g.get("placeholder") is True and "latitude" not in g and x["Composite:GPSLatitude"] == 0 and g["raw"]["iso6709"] == p["com.apple.quicktime.location.ISO6709"]'
# disagreement: mvhd counted from 1970 by its writer; ffprobe and exiftool
# both move it to 2012, the format says 1946; the record states neither
cmp "mvhd below 1970 (1904 count): no date, both readings in a warning" mvhd1970.mp4 \
    '"datetime_original" not in c and "1946-09-10T20:52:00Z" in warn and "2012-09-10T20:52:00Z" in warn and p["creation_time"].startswith("2012-09-10T20:52:00") and x["QuickTime:CreateDate"] == "2012:09:10 20:52:00"'

cmp "mvhd version 1 (64-bit) = exiftool and ffprobe" mvhd64.mp4 \
    'c["datetime_original"] == f["mvhd"] and x["QuickTime:MovieHeaderVersion"] == 1 and iso(x["QuickTime:CreateDate"]) + "Z" == f["mvhd"] and p["creation_time"].replace(".000000", "") == f["mvhd"]'

# --- QuickTime ©xyz / ©mak / ©mod / ©swr -----------------------------------
cmp "©xyz digits as stored, precision 1e-7" xyz.mov \
    'g["raw"]["iso6709"] == p["location"] and g["latitude"] == x["Composite:GPSLatitude"] and g["longitude"] == x["Composite:GPSLongitude"] and abs(g["precision_deg"] - 1e-7) < 1e-20 and g["format"] == "iso6709" and src["gps"] == "quicktime:udta:\u00a9xyz"'
cmp "make/model = exiftool UserData" xyz.mov \
    'c["make"] == x["UserData:Make"] and c["model"] == x["UserData:Model"] and src["make"] == "quicktime:udta:\u00a9mak" and src["model"] == "quicktime:udta:\u00a9mod"'
# ffprobe shows ©swr only folded into "encoder" (with ©too): read from the box
cmp "software = exiftool UserData:SoftwareVersion (©swr)" xyz.mov \
    'c["software"] == x["UserData:SoftwareVersion"] and src["software"] == "quicktime:udta:\u00a9swr" and "software" not in p'

# disagreement: with ©xyz and loci both present exiftool's Composite GPS and
# ffprobe's "location" take loci; the record gives ©xyz (its order, in
# docs/media.md) and names the other position in a warning
cmp "two positions: ©xyz given, loci named in a warning" both.mp4 \
    'src["gps"] == "quicktime:udta:\u00a9xyz" and [g["latitude"], g["longitude"]] == [float(v) for v in x["UserData:GPSCoordinates"].split()] and "quicktime:udta:loci holds another position" in warn and x["Composite:GPSLatitude"] == round(3432079 / 65536, 5) and p["location"].startswith("+52.3694")'

# ffprobe shows ©day as "date" (merged with iTunes' release date ©day)
cmp "©day with its offset = exiftool UserData:ContentCreateDate, before mvhd" day.mov \
    'c["datetime_original"] == iso(x["UserData:ContentCreateDate"]) and c["datetime_original_zone"] == "stated" and src["datetime_original"] == "quicktime:udta:\u00a9day" and p["date"] == "2012-09-10T22:52:00+0200"'

# --- Apple mdta keys -------------------------------------------------------
cmp "ISO6709 key = exiftool Keys:GPSCoordinates" apple.mov \
    '[g["latitude"], g["longitude"], g["altitude"]] == [float(v) for v in x["Keys:GPSCoordinates"].split()] and g["raw"]["iso6709"] == p["com.apple.quicktime.location.ISO6709"] and g["altitude_precision_m"] == 0.001'
cmp "creationdate with its offset = exiftool Keys:CreationDate" apple.mov \
    'c["datetime_original"] == iso(x["Keys:CreationDate"]) and c["datetime_original_zone"] == "stated" and c["datetime_original_utc_offset"] == "+02:00" and src["datetime_original"] == "quicktime:mdta:com.apple.quicktime.creationdate"'
cmp "make/model/software = exiftool Keys" apple.mov \
    'c["make"] == x["Keys:Make"] and c["model"] == x["Keys:Model"] and c["software"] == str(x["Keys:Software"]) and src["software"] == "quicktime:mdta:com.apple.quicktime.software"'

# --- AVI IDIT: camera local time, no zone -----------------------------------
cmp "IDIT local, zone unknown, no invented Z" idit.avi \
    'c["datetime_original_local"] == "2012-09-10T20:52:00" and c["datetime_original_zone"] == "unknown" and "datetime_original" not in c and "datetime_original_utc_offset" not in c and src["datetime_original"] == "riff:IDIT"'
cmp "same clock reading as exiftool RIFF:DateTimeOriginal and ffprobe" idit.avi \
    'iso(x["RIFF:DateTimeOriginal"]) == c["datetime_original_local"] and p["creation_time"].replace(" ", "T") == c["datetime_original_local"]'
cmp "ISFT = exiftool RIFF:Software" idit.avi 'c["software"] == x["RIFF:Software"] and src["software"] == "riff:INFO:ISFT"'
# disagreement: ffprobe shows bext OriginationTime alone as "creation_time"
cmp "BWF bext origination: local, zone unknown = exiftool RIFF:DateTimeOriginal" bwf.wav \
    'c["datetime_original_local"] == iso(x["RIFF:DateTimeOriginal"]) and c["datetime_original_zone"] == "unknown" and "datetime_original" not in c and src["datetime_original"] == "riff:bext" and p["creation_time"] == "20:52:00"'
cmp "an IDIT that is no date: warning, no value" bad_idit.avi \
    '"datetime_original_local" not in c and "riff:IDIT" in warn'

# --- Matroska --------------------------------------------------------------
# disagreement: ffprobe cuts DateUTC to microseconds, exiftool prints a
# float; the record keeps the stored nanoseconds
cmp "DateUTC to the nanosecond, utc-by-format" dateutc.mkv \
    'c["datetime_original"] == "2012-09-10T20:52:00.123456789Z" and f["DateUTC_ns"] % 10**9 == 123456789 and c["datetime_original_zone"] == "utc-by-format" and src["datetime_original"] == "matroska:DateUTC"'
cmp "ffprobe: microseconds only; exiftool: float digits" dateutc.mkv \
    'p["creation_time"] == "2012-09-10T20:52:00.123456Z" and x["Matroska:DateTimeOriginal"] != "2012:09:10 20:52:00.123456789Z"'
cmp "DATE_RECORDED without zone: local, unknown" recorded.mkv \
    'c["datetime_original_local"] == p["DATE_RECORDED"] and c["datetime_original_zone"] == "unknown" and "datetime_original" not in c and src["datetime_original"] == "matroska:tag:DATE_RECORDED"'
cmp "DATE_RECORDED = exiftool Matroska:DateTimeOriginal" recorded.mkv \
    'x["Matroska:DateTimeOriginal"].replace(":", "-", 2) == c["datetime_original_local"]'
cmp "DATE_RECORDED with an offset: stated" recorded_tz.mkv \
    'c["datetime_original"] == p["DATE_RECORDED"] and c["datetime_original_zone"] == "stated"'

# --- hostile structures ------------------------------------------------------
cmp "loci out of range: raw kept, no position" bad_loci.mp4 \
    '"latitude" not in g and g["raw"]["loci_latitude"] == 91 * 65536 and "out of range" in warn'
cmp "udta larger than moov: read up to moov's end (as ffprobe does)" bad_udta.mp4 \
    'abs(g["latitude"] - 3432079 / 65536) < 1e-13 and "location" in p'

run bash "$EV_SOURCE_DIR/scripts/media-validate.sh" "$EV_SOURCE_DIR/docs/schema/media.schema.json" "$T/valid"
if [ "$RC" -eq 77 ]; then
    skip_case "npm not available: schema not checked"
else
    ok "documents match media.schema.json" [ "$RC" -eq 0 ] || show_last
fi
finish
