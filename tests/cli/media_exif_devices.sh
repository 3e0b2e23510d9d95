#!/bin/bash
# EXIF and XMP capture facts on the structures real devices write, made here
# with python struct, ffmpeg and exiftool, compared one to one with
# `exiftool -j -n -G1 -a`: a TIFF whose IFDs lie past 64 KiB and 1 MiB (image
# data first), an ExifIFD whose values straddle 64 KiB, BigTIFF, a DNG-like
# TIFF with SubIFDs, ORF and RW2 headers, JPEGs with XMP only (dates and
# orientation; GPS), orientation 10825 and a 0/0 GPS placeholder. The
# documents must validate against docs/schema/media.schema.json.
. "$(dirname "$0")/lib.sh"

command -v ffmpeg >/dev/null && command -v exiftool >/dev/null ||
    { skip_case "ffmpeg or exiftool missing"; finish; }

python3 - "$T" <<'PY' || die "cannot make the TIFF files"
import struct, sys
T = sys.argv[1]

def tiff(path, magic, pad, order="<", big=False, subifds=False, straddle=False):
    """Image data first, then ExifIFD, GPS IFD, (SubIFDs,) IFD0 last."""
    b = bytearray(magic)
    b += struct.pack(order + "HHQ", 8, 0, 0) if big else struct.pack(order + "I", 0)
    inl = 8 if big else 4
    def put(data):
        if len(b) & 1:
            b.append(0)
        at = len(b)
        b.extend(data)
        return at
    def ifd(entries):  # (tag, type, count, bytes)
        vals = []
        for tag, typ, cnt, data in entries:
            vals.append(put(data) if len(data) > inl else None)
        if len(b) & 1:
            b.append(0)
        at = len(b)
        b.extend(struct.pack(order + ("Q" if big else "H"), len(entries)))
        for (tag, typ, cnt, data), off in zip(entries, vals):
            b.extend(struct.pack(order + ("HHQ" if big else "HHI"), tag, typ, cnt))
            field = struct.pack(order + ("Q" if big else "I"), off) if off is not None \
                else data.ljust(inl, b"\0")
            b.extend(field)
        b.extend(b"\0" * inl)
        return at
    asc = lambda s: (s.encode() + b"\0")
    A = lambda tag, s: (tag, 2, len(asc(s)), asc(s))
    R = lambda tag, *nd: (tag, 5, len(nd) // 2, struct.pack(order + "%dI" % len(nd), *nd))
    S = lambda tag, v: (tag, 3, 1, struct.pack(order + "H", v))
    P = lambda tag, *offs: (tag, 18 if big else 4, len(offs),
                            struct.pack(order + ("%dQ" if big else "%dI") % len(offs), *offs))
    put(b"\xa5" * pad)
    if straddle:  # the date string crosses the 64 KiB mark
        put(b"\xa5" * (65536 - 6 - len(b)))
    exif = ifd([A(0x9003, "2024:05:01 10:20:30"), A(0x9291, "25"), A(0x9011, "+02:00")])
    gps = ifd([A(1, "N"), R(2, 51, 1, 30, 1, 249, 100), A(3, "W"), R(4, 0, 1, 7, 1, 2856, 100),
               (5, 1, 1, b"\0"), R(6, 125, 10), R(7, 9, 1, 20, 1, 30, 1), A(0x1D, "2024:05:01")])
    ent = [A(0x010F, "DevCam"), A(0x0110, "Model " + path), S(0x0112, 6)]
    if subifds:
        s1 = ifd([(0x00FE, 4, 1, struct.pack(order + "I", 0))])
        s2 = ifd([(0x00FE, 4, 1, struct.pack(order + "I", 0))])
        ent.append(P(0x014A, s1, s2))
    ent += [P(0x8769, exif), P(0x8825, gps)]
    ent.sort()
    i0 = ifd(ent)
    if big:
        struct.pack_into(order + "Q", b, 8, i0)
    else:
        struct.pack_into(order + "I", b, 4, i0)
    open(T + "/" + path, "wb").write(b)

tiff("far64k.tif", b"II*\0", 70000)
tiff("far1m.tif", b"MM\0*", 1100000, order=">")
tiff("straddle.tif", b"II*\0", 0, straddle=True)
tiff("big.tif", b"II+\0", 200000, big=True)
tiff("dng.dng", b"II*\0", 300000, subifds=True)
tiff("olympus.orf", b"IIRO", 100000)
tiff("panasonic.rw2", b"IIU\0", 100000)
PY

ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
ff -f lavfi -i testsrc2=size=64x48 -frames:v 1 "$T/base.jpg" || die "no jpg"
cp "$T/base.jpg" "$T/xmponly.jpg"
exiftool -q -q -overwrite_original -XMP-exif:DateTimeOriginal="2024:05:01 10:20:30.5+02:00" \
    -XMP-tiff:Orientation#=6 -XMP-xmp:CreateDate="2024:05:01 10:20:30" "$T/xmponly.jpg" ||
    die "exiftool failed (xmp)"
cp "$T/base.jpg" "$T/xmpgps.jpg"
exiftool -q -q -overwrite_original -XMP-exif:GPSLatitude="33 51 54.36 S" \
    -XMP-exif:GPSLongitude="151 12 35.52 E" "$T/xmpgps.jpg" || die "exiftool failed (xmp gps)"
cp "$T/base.jpg" "$T/o10825.jpg"
exiftool -q -q -overwrite_original -Orientation#=10825 -DateTimeOriginal="2024:05:01 10:20:30" \
    "$T/o10825.jpg" || die "exiftool failed (orientation)"
cp "$T/base.jpg" "$T/gps00.jpg"
exiftool -q -q -overwrite_original -GPSLatitude=0 -GPSLatitudeRef=N -GPSLongitude=0 \
    -GPSLongitudeRef=E "$T/gps00.jpg" || die "exiftool failed (gps)"

mkdir -p "$T/docs"
for f in far64k.tif far1m.tif straddle.tif big.tif dng.dng olympus.orf panasonic.rw2 \
         xmponly.jpg xmpgps.jpg o10825.jpg gps00.jpg; do
    expect_exit 0 "$EVIDENCE" inspect --json "$T/$f" || continue
    cp "$OUT" "$T/docs/doc-$f.json"
    exiftool -j -n -G1 -a "$T/$f" >"$T/$f.et.json" 2>/dev/null
    ok "$f: facts agree with exiftool" python3 - "$T/docs/doc-$f.json" "$T/$f.et.json" "$f" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
et = json.load(open(sys.argv[2]))[0]
name = sys.argv[3]
c = doc.get("capture") or {}
src = c.get("sources", {})
bad = []
def want(cond, msg):
    if not cond:
        bad.append(msg)
def tag(*names):
    for n in names:
        for k, v in et.items():
            if k.split(":", 1)[-1] == n and not k.startswith("Composite:"):
                return v
    return None
def comp(n):
    return et.get("Composite:" + n)
def exif_local(v):  # "2024:05:01 10:20:30" -> "2024-05-01T10:20:30"
    return v[:4] + "-" + v[5:7] + "-" + v[8:10] + "T" + v[11:19]
if name.endswith((".tif", ".dng", ".orf", ".rw2")):
    want(c.get("make") == tag("Make") == "DevCam", "make %r / %r" % (c.get("make"), tag("Make")))
    want(c.get("model") == tag("Model"), "model")
    want(c.get("orientation") == tag("Orientation") == 6, "orientation")
    dto = tag("DateTimeOriginal")
    want(dto and c.get("datetime_original_local", "")[:19] == exif_local(dto), "dto %r" % dto)
    want(c.get("datetime_original") == "2024-05-01T10:20:30.25+02:00", "rfc3339")
    want(c.get("datetime_original_zone") == "stated", "zone")
    want(src.get("datetime_original") == "exif:ExifIFD", "source")
    g = c.get("gps", {})
    expect = {"GPSLatitude": 51 + 30 / 60 + 2.49 / 3600, "GPSLongitude": -(7 / 60 + 28.56 / 3600),
              "GPSAltitude": 12.5}
    if name == "big.tif":
        # exiftool 12.57 decodes the GPS IFD of a BigTIFF with its Interop
        # table: it shows the latitude as "InteropVersion"; compare that text
        want(et.get("GPSInfo:InteropVersion") == "51 30 2.49", "exiftool's BigTIFF GPS")
    for k in ("GPSLatitude", "GPSLongitude", "GPSAltitude"):
        ref = expect[k] if name == "big.tif" else comp(k)
        mine = g.get(k[3:].lower())
        want(ref is not None and mine is not None and abs(ref - mine) < 1e-9,
             "%s %r / exiftool %r" % (k, mine, ref))
    want(g.get("format") == "exif-rational" and abs(g.get("precision_deg", 0) - 1 / 360000) < 1e-15,
         "gps format/precision")
    want(g.get("datetime") == "2024-05-01T09:20:30Z" and g.get("datetime_zone") == "utc-by-format",
         "gps time")
    want(c.get("exif_location") == "tiff", "exif_location")
    want(not c.get("warnings"), "warnings %r" % c.get("warnings"))
elif name == "xmponly.jpg":
    want(tag("DateTimeOriginal") == "2024:05:01 10:20:30.5+02:00", "exiftool wrote the XMP")
    want(c.get("source") == "xmp", "source")
    want(c.get("datetime_original") == "2024-05-01T10:20:30.5+02:00", "dto %r" % c.get("datetime_original"))
    want(src.get("datetime_original") == "xmp:exif:DateTimeOriginal", "dto source")
    want(c.get("datetime_digitized_local") == "2024-05-01T10:20:30"
         and c.get("datetime_digitized_zone") == "unknown"
         and "datetime_digitized" not in c, "xmp:CreateDate without zone")
    want(c.get("orientation") == tag("Orientation") == 6, "orientation")
    want(src.get("orientation") == "xmp:tiff:Orientation", "orientation source")
elif name == "xmpgps.jpg":
    g = c.get("gps", {})
    for k in ("GPSLatitude", "GPSLongitude"):
        ref = et.get("XMP-exif:" + k)
        mine = g.get(k[3:].lower())
        want(ref is not None and mine is not None and abs(ref - mine) < 1e-9,
             "%s %r / exiftool %r" % (k, mine, ref))
    want(g.get("format") == "xmp" and src.get("gps") == "xmp:exif:GPSLatitude", "format/source")
    want(g.get("raw", {}).get("xmp"), "raw text")
elif name == "o10825.jpg":
    want(tag("Orientation") == 10825, "exiftool reads 10825")
    want(c.get("orientation") == 10825 and "orientation_text" not in c, "no interpretation")
    want(any("10825" in w for w in c.get("warnings", [])), "warning")
    want(c.get("datetime_original_zone") == "unknown" and "datetime_original" not in c,
         "no OffsetTimeOriginal: zone unknown")
elif name == "gps00.jpg":
    want(comp("GPSLatitude") == 0 and comp("GPSLongitude") == 0, "exiftool reads 0,0")
    g = c.get("gps", {})
    want(g.get("placeholder") is True and "latitude" not in g and "longitude" not in g,
         "placeholder %r" % g)
    want(any("placeholder" in w for w in c.get("warnings", [])), "warning")
if bad:
    print(name, bad, json.dumps(c, indent=1), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
done

# every document validates against the schema
run bash "$EV_SOURCE_DIR/scripts/media-validate.sh" "$EV_SOURCE_DIR/docs/schema/media.schema.json" "$T/docs"
if [ "$RC" -eq 77 ]; then
    note "npm not available: schema not checked"
else
    ok "documents match media.schema.json" [ "$RC" -eq 0 ] || show_last
fi
finish
