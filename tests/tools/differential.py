#!/usr/bin/env python3
"""Differential test: every capture/media fact `evidence inspect` states,
compared with exiftool and ffprobe on the corpus of tests/tools/mkcorpus.py.

    differential.py EVIDENCE CORPUSDIR [--json OUT.json] [--verbose]

For each file it runs

    EVIDENCE inspect --json FILE
    exiftool -j -n -G1:4 -a -struct FILE...      (one process for all files)
    ffprobe -v error -of json -show_format -show_streams -count_frames FILE

and compares, per field, what libevidence states with the reference value.
It prints every difference (file, field, ours, reference, why), then a table:
per field, the number of files where both have a value and agree, where they
disagree, where only the reference has a value (a fact we lose: a failure),
where only libevidence has one (a fact the reference does not confirm: also
a failure), and the agreement percentage
    agree / (agree + disagree + only-ref + only-ours + known)
i.e. over the files where at least one side has a value; known differences
count as non-agreement in the percentage.

A difference listed in KNOWN (file, field) -> (outcome, reason) is reported
but does not fail. Anything else fails (exit 1). A KNOWN entry that does not
happen in a run is noted. Exit 2 on usage or tool errors.

exiftool -G1:4 rather than -G1: with -j, exiftool keeps only one of two tags
of the same name in the same family-1 group (Matroska's DateUTC and
DATE_RECORDED are both Matroska:DateTimeOriginal); family 4 adds ':CopyN'
to the duplicates, which this script strips again, keeping every value in
order. The keys are otherwise the -G1 names. Numbers are -n (no print
conversion): GPS in signed decimal degrees at exiftool's full precision,
Orientation and Rotation as integers.

Standard library only.
"""

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

# ---------------------------------------------------------------------------
# Which reference tag gives each field (exiftool family-1 group:tag names).
# The first one present wins. Documented in tests/tools/README.md too.

EXIF_GROUPS = ("ExifIFD", "ExifOffset")   # ExifOffset: exiftool 12.57's name for the ExifIFD of a BigTIFF

DATETIME_SOURCES = [
    # (exiftool key, how the zone is known, source name in libevidence's capture.sources)
    ("ExifIFD:DateTimeOriginal", "exif", "exif:ExifIFD"),          # + ExifIFD:SubSecTimeOriginal, ExifIFD:OffsetTimeOriginal
    ("ExifOffset:DateTimeOriginal", "exif", "exif:ExifIFD"),
    ("XMP-exif:DateTimeOriginal", "iso", "xmp:exif:DateTimeOriginal"),
    ("Keys:CreationDate", "iso", "quicktime:mdta:com.apple.quicktime.creationdate"),
    ("QuickTime:CreateDate", "utc-by-format", "quicktime:mvhd"),   # exiftool prints mvhd time without zone (UTC by spec)
    ("Matroska:DateTimeOriginal", "matroska", "matroska:tag:DATE_RECORDED"),  # or matroska:DateUTC, see ref_datetime
    ("RIFF:DateTimeOriginal", "riff", "riff:IDIT"),    # AVI IDIT; WAV bext OriginationDate/Time is riff:bext
]
MAKE_KEYS = ["IFD0:Make", "XMP-tiff:Make", "Keys:Make", "UserData:Make", "ItemList:Make"]
MODEL_KEYS = ["IFD0:Model", "XMP-tiff:Model", "Keys:Model", "UserData:Model", "ItemList:Model"]
ORIENTATION_KEYS = ["IFD0:Orientation", "XMP-tiff:Orientation"]
# GPS: the signed decimal position and which structure it came from.
GPS_SOURCES = [
    # (latitude key, longitude key, format, exiftool's rendering step in degrees)
    ("GPS:GPSLatitude", "GPS:GPSLongitude", "exif-rational", 0.0),   # sign from GPS:GPSLatitudeRef/GPSLongitudeRef
    ("XMP-exif:GPSLatitude", "XMP-exif:GPSLongitude", "xmp", 0.0),   # already signed with -n
    ("Keys:GPSCoordinates", None, "iso6709", 0.0),                   # "lat lon [alt]"
    ("UserData:GPSCoordinates", None, "iso6709", 0.0),               # udta/©xyz, "lat lon [alt]"
    ("UserData:LocationInformation", None, "3gpp-loci-16.16", 1e-5),  # loci: exiftool prints Lat=%.5f
]
GPS_ALT_KEYS = ["Composite:GPSAltitude"]   # signed (below sea level negative) with -n
FIELDS = ["kind", "datetime_original", "datetime_original_zone", "datetime_source", "gps", "gps_format",
          "gps_altitude", "make", "model",
          "orientation", "size", "duration", "rotation", "display_matrix_rotation", "frames", "nb_frames"]
REFERENCE = {
    "kind": "exiftool File:MIMEType",
    "datetime_original": "exiftool (DATETIME_SOURCES)",
    "datetime_original_zone": "exiftool (DATETIME_SOURCES)",
    "datetime_source": "source of the DATETIME_SOURCES entry",
    "gps": "exiftool (GPS_SOURCES)",
    "gps_format": "format of the GPS_SOURCES entry",
    "gps_altitude": "exiftool Composite:GPSAltitude",
    "make": "exiftool (MAKE_KEYS)",
    "model": "exiftool (MODEL_KEYS)",
    "orientation": "exiftool IFD0:Orientation",
    "size": "ffprobe width x height, else exiftool Composite:ImageSize",
    "duration": "ffprobe format.duration",
    "rotation": "exiftool Composite:Rotation",
    "display_matrix_rotation": "ffprobe side_data rotation",
    "frames": "ffprobe nb_read_frames (-count_frames)",
    "nb_frames": "ffprobe nb_frames",
}

# ---------------------------------------------------------------------------
# Known, documented differences: (file, field) -> (outcome, reason).
# outcome is one of "disagree", "only-ref", "only-ours". Only real
# differences between correct readers belong here, never a libevidence bug.

KNOWN = {
    ("bigtiff_exif.tif", "gps"): (
        "only-ours",
        "exiftool 12.57 decodes the GPS IFD of a BigTIFF with the EXIF tag table (GPSLatitudeRef shows as "
        "GPSInfo:InteropIndex), so it reports no position; the GPS IFD holds S 33/1 51/1 3540/100, "
        "E 151/1 12/1 4020/100"),
    ("bigtiff_exif.tif", "gps_altitude"): ("only-ours", "same exiftool 12.57 BigTIFF GPS IFD limitation"),
    ("bigtiff_exif.tif", "gps_format"): ("only-ours", "same exiftool 12.57 BigTIFF GPS IFD limitation"),
    ("bigtiff_exif.tif", "size"): (
        "only-ref",
        "FFmpeg 5.1's TIFF decoder refuses BigTIFF ('Invalid TIFF header'), so no picture size is "
        "known; exiftool reads ImageWidth/ImageLength from IFD0 (the capture facts are read, by "
        "libevidence's own IFD walk)"),
    ("heic_like_iphone.heic", "size"): (
        "only-ref",
        "FFmpeg 5.1 has no HEIF demuxer (docs/media.md, HEIC): libevidence reports no streams, exiftool "
        "reads ispe; the corpus HEIC has no real HEVC picture"),
    ("mp4_3gpp_loci.mp4", "gps_altitude"): (
        "only-ref",
        "3GPP loci always has an altitude field; FFmpeg's muxer writes 0 when the ISO 6709 location had "
        "none, so 0 m is a fill value, not a measurement"),
}

# Failures seen on 2026-12-07 against the library of that day, and the
# library change expected to remove each: (file regex, field regex, fix).
# Informational only: they are printed next to the failure and still fail
# the test. When a fix lands, its rows should disappear; delete them then.
PENDING = []


def pending(name, field):
    for fre, fldre, fix in PENDING:
        if re.search(fre, name) and re.search(fldre, field):
            return fix
    return ""


# ---------------------------------------------------------------------------


def die(msg):
    """A tool failed: exit 2, never 1 (1 means differences were found)."""
    print("differential: " + msg, file=sys.stderr)
    sys.exit(2)


def run(cmd, timeout=120):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    return p, p.stderr.decode("utf-8", "replace")


def exiftool_all(paths):
    """{path: {group:tag: [values...]}} from one exiftool process."""
    cmd = ["exiftool", "-j", "-n", "-G1:4", "-a", "-struct"] + paths
    p, err = run(cmd)
    if p is None or not p.stdout:
        die("exiftool failed: %s" % err)
    out = {}
    for doc in json.loads(p.stdout.decode("utf-8", "replace"),
                          object_pairs_hook=lambda pairs: pairs):
        d = {}
        src = None
        for k, v in doc:
            if k == "SourceFile":
                src = v
                continue
            k = re.sub(r":Copy\d+:", ":", k)
            d.setdefault(k, []).append(v)
        out[os.path.abspath(src)] = d
    return out


def ffprobe(path):
    p, err = run(["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", "-count_frames", path])
    if p is None:
        die("ffprobe failed: %s" % err)
    try:
        return json.loads(p.stdout.decode("utf-8", "replace") or "{}")
    except ValueError:
        return {}


def ours(evidence, path):
    p, err = run([evidence, "inspect", "--json", path])
    if p is None or p.returncode != 0:
        die("%s inspect failed on %s (exit %s): %s" %
            (evidence, path, None if p is None else p.returncode, err[:2000]))
    try:
        return json.loads(p.stdout.decode("utf-8"))
    except ValueError as e:
        die("%s inspect --json %s: not one JSON document: %s" % (evidence, path, e))


# ---------------------------------------------------------------------------
# Date handling.

DT_RE = re.compile(r"^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$")


def norm_offset(o):
    if o is None:
        return None
    if o in ("Z", "+00:00", "-00:00", "+0000"):
        return "+00:00"
    if re.match(r"^[+-]\d{4}$", o):
        return o[:3] + ":" + o[3:]
    return o


def parse_dt(s):
    """(local 'YYYY-MM-DDTHH:MM:SS[.f]', offset or None) or None."""
    if not isinstance(s, str):
        return None
    m = DT_RE.match(s.strip())
    if not m:
        return None
    y, mo, d, h, mi, se, frac, off = m.groups()
    if y == "0000" or mo == "00" or d == "00":
        return None
    local = "%s-%s-%sT%s:%s:%s" % (y, mo, d, h, mi, se)
    return local + norm_frac(frac), off


def norm_frac(frac):
    if not frac:
        return ""
    f = frac.rstrip("0")
    return "" if f == "." else f


def norm_local(s):
    m = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?$", s or "")
    if not m:
        return s
    return m.group(1) + norm_frac(m.group(2))


def first(ex, key):
    v = ex.get(key)
    return v[0] if v else None


def ref_datetime(ex):
    """(local, basis, offset, exiftool key, source name) or None.

    Zone basis: EXIF has one only with ExifIFD:OffsetTimeOriginal (stated);
    XMP, Apple keys, Matroska tags and RIFF dates are stated when the text
    holds an offset, else unknown; QuickTime mvhd (exiftool's
    QuickTime:CreateDate, printed without zone) and Matroska DateUTC
    (printed with Z) are utc-by-format. In Matroska, DATE_RECORDED ("the
    time that the recording began") wins over DateUTC ("the date the
    Segment was created by the muxer")."""
    for key, how, src in DATETIME_SOURCES:
        vals = ex.get(key)
        if not vals:
            continue
        if how == "matroska":
            vals = sorted(vals, key=lambda v: str(v).endswith("Z"))
        for v in vals:
            p = parse_dt(str(v))
            if p is None:
                continue
            local, off = p
            if how == "exif":
                grp = key.split(":")[0]
                sub = first(ex, grp + ":SubSecTimeOriginal")
                if sub is not None and re.match(r"^\d+$", str(sub)) and "." not in local:
                    local += norm_frac("." + str(sub))
                off = first(ex, grp + ":OffsetTimeOriginal")
                off = off if isinstance(off, str) and re.match(r"^[+-]\d{2}:\d{2}$", off) else None
                return local, ("stated" if off else "unknown"), norm_offset(off), key, src
            if how == "utc-by-format":
                return local, "utc-by-format", "+00:00", key, src
            if how == "matroska" and off == "Z":
                return local, "utc-by-format", "+00:00", key + " (DateUTC)", "matroska:DateUTC"
            if how == "riff" and first(ex, "File:FileType") == "WAV":
                src = "riff:bext"
            return local, ("stated" if off else "unknown"), norm_offset(off), key, src
    return None


# ---------------------------------------------------------------------------
# Reference extraction.

def ref_kind(ex):
    mime = first(ex, "File:MIMEType") or ""
    major = mime.split("/")[0]
    return major if major in ("video", "audio", "image") else "other"


def ref_gps(ex):
    """dict(state='pos'|'placeholder'|'invalid', lat, lon, format, step, key) or None."""
    for lat_k, lon_k, fmt, step in GPS_SOURCES:
        if lat_k not in ex:
            continue
        if fmt == "exif-rational":
            lat, lon = first(ex, lat_k), first(ex, lon_k)
            if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
                return dict(state="invalid", key=lat_k, format=fmt, text="%r %r" % (lat, lon))
            if str(first(ex, "GPS:GPSLatitudeRef") or "N").upper().startswith("S"):
                lat = -lat
            if str(first(ex, "GPS:GPSLongitudeRef") or "E").upper().startswith("W"):
                lon = -lon
        elif fmt == "xmp":
            lat, lon = first(ex, lat_k), first(ex, lon_k)
            if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
                return dict(state="invalid", key=lat_k, format=fmt, text="%r %r" % (lat, lon))
        elif fmt == "3gpp-loci-16.16":
            m = re.search(r"Lat=(-?[\d.]+) Lon=(-?[\d.]+)", str(first(ex, lat_k)))
            if not m:
                return dict(state="invalid", key=lat_k, format=fmt, text=str(first(ex, lat_k)))
            lat, lon = float(m.group(1)), float(m.group(2))
        else:
            parts = str(first(ex, lat_k)).replace(",", " ").split()
            try:
                lat, lon = float(parts[0]), float(parts[1])
            except (ValueError, IndexError):
                return dict(state="invalid", key=lat_k, format=fmt, text=str(first(ex, lat_k)))
        state = "placeholder" if lat == 0 and lon == 0 else "pos"
        return dict(state=state, lat=lat, lon=lon, key=lat_k, format=fmt, step=step)
    return None


def ref_altitude(ex):
    for k in GPS_ALT_KEYS:
        v = first(ex, k)
        if isinstance(v, (int, float)):
            step = 0.005 if "UserData:LocationInformation" in ex else 0.0   # loci: exiftool prints Alt=%.2f
            return float(v), k, step
    for k in ("Keys:GPSCoordinates", "UserData:GPSCoordinates"):
        parts = str(first(ex, k) or "").split()
        if len(parts) >= 3:
            return float(parts[2]), k, 0.0
    return None


def first_stream(doc, typ):
    for s in doc.get("streams", []) or []:
        if s.get("type", s.get("codec_type")) == typ:
            return s
    return None


# ---------------------------------------------------------------------------
# The comparison of one file. Each check returns
#   (outcome, ours, ref, note)  outcome: agree|disagree|only-ref|only-ours|none

def cmp_kind(o, ex, fp):
    return _eq(o.get("media", {}).get("kind"), ref_kind(ex))


def _eq(a, b, note=""):
    if a is None and b is None:
        return ("none", None, None, "")
    if a is None:
        return ("only-ref", None, b, note)
    if b is None:
        return ("only-ours", a, None, note)
    return ("agree" if a == b else "disagree", a, b, note)


def our_local(cap, key="datetime_original"):
    if cap.get(key + "_local"):
        return norm_local(cap[key + "_local"])
    if cap.get(key):
        p = parse_dt(cap[key])
        return p[0] if p else cap[key]
    return None


def cmp_datetime(o, ex, fp):
    cap = o.get("capture") or {}
    ref = ref_datetime(ex)
    ours_l = our_local(cap)
    if ref is None:
        return _eq(ours_l, None)
    return _eq(ours_l, ref[0], "from " + ref[3])


def cmp_zone(o, ex, fp):
    cap = o.get("capture") or {}
    ref = ref_datetime(ex)
    basis = cap.get("datetime_original_zone")
    off = cap.get("datetime_original_utc_offset")
    if not cap.get("datetime_original") and not cap.get("datetime_original_local"):
        ours_v = None
    else:
        ours_v = "%s %s" % (basis or "(no zone basis)", norm_offset(off) or "-")
    ref_v = None if ref is None else "%s %s" % (ref[1], ref[2] or "-")
    res = _eq(ours_v, ref_v, "" if ref is None else "from " + ref[3])
    # the contract's own rules, whatever the reference says
    problems = []
    if basis == "unknown" and (cap.get("datetime_original") or off):
        problems.append("zone unknown but datetime_original/utc_offset given")
    if basis in ("stated", "utc-by-format"):
        dt = parse_dt(cap.get("datetime_original"))
        if dt is None or not off:
            problems.append("zone %s but no datetime_original/utc_offset" % basis)
        elif dt[0] != our_local(cap) or norm_offset(dt[1]) != norm_offset(off):
            problems.append("datetime_original %s does not match local %s and offset %s" %
                            (cap["datetime_original"], our_local(cap), off))
    if problems and res[0] == "agree":
        return ("disagree", res[1], res[2], "; ".join(problems))
    if problems:
        return (res[0], res[1], res[2], (res[3] + "; " if res[3] else "") + "; ".join(problems))
    return res


def cmp_datetime_source(o, ex, fp):
    cap = o.get("capture") or {}
    ref = ref_datetime(ex)
    v = (cap.get("sources") or {}).get("datetime_original")
    if ref is None:
        if cap.get("datetime_original") or cap.get("datetime_original_local"):
            return _eq(v, None)
        return ("none", None, None, "")
    return _eq(v, ref[4], "capture.sources.datetime_original")


def cmp_gps_format(o, ex, fp):
    g = (o.get("capture") or {}).get("gps") or {}
    ref = ref_gps(ex)
    v = g.get("format")
    if ref is None:
        return _eq(v, None) if ("latitude" in g or g.get("placeholder")) else ("none", None, None, "")
    return _eq(v, ref["format"], "from " + ref["key"])


def cmp_gps(o, ex, fp):
    g = (o.get("capture") or {}).get("gps") or {}
    ref = ref_gps(ex)
    has_pos = "latitude" in g or "longitude" in g
    ours_v = None
    if has_pos:
        ours_v = "%r %r" % (g.get("latitude"), g.get("longitude"))
    elif g.get("placeholder"):
        ours_v = "placeholder"
    if ref is None:
        return _eq(ours_v, None)
    if ref["state"] == "invalid":
        # undefined rationals (0/0) or unreadable: no position may be stated
        rv = "no valid position (%s)" % ref["text"]
        if has_pos:
            return ("disagree", ours_v, rv, "ours states a position the source does not hold")
        return ("agree", ours_v or "(none)", rv, "")
    if ref["state"] == "placeholder":
        rv = "placeholder 0,0 (%s)" % ref["key"]
        if g.get("placeholder") and not has_pos:
            return ("agree", "placeholder", rv, "")
        if ours_v is None:
            return ("only-ref", None, rv, "placeholder not reported")
        return ("disagree", ours_v, rv, "a 0,0 placeholder must be placeholder=true without latitude/longitude")
    rv = "%r %r" % (ref["lat"], ref["lon"])
    if not has_pos:
        return ("only-ref" if ours_v is None else "disagree", ours_v, rv, "from " + ref["key"])
    lat, lon = g.get("latitude"), g.get("longitude")
    if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
        return ("disagree", ours_v, rv, "latitude/longitude not both numbers")
    prec = g.get("precision_deg")
    tol = 1e-9
    note = "from %s (%s)" % (ref["key"], ref["format"])
    if isinstance(prec, (int, float)) and prec > 0:
        tol = max(tol, prec / 2)
        if ref["format"] == "3gpp-loci-16.16" and prec > 1 / 65536 * 1.0001:
            return ("disagree", ours_v, rv, note + "; precision_deg %g coarser than the 1/65536 loci stores" % prec)
    tol = max(tol, ref["step"] / 2 + 1e-12)
    dlat, dlon = abs(lat - ref["lat"]), abs(lon - ref["lon"])
    if dlat > tol or dlon > tol:
        return ("disagree", ours_v, rv, note + "; off by %.3g/%.3g deg, tolerance %.3g" % (dlat, dlon, tol))
    return ("agree", ours_v, rv, note)


def cmp_altitude(o, ex, fp):
    g = (o.get("capture") or {}).get("gps") or {}
    ref = ref_altitude(ex)
    gr = ref_gps(ex)
    if gr is not None and gr["state"] != "pos":
        ref = None      # no altitude to compare when there is no position
    a = g.get("altitude")
    if ref is None:
        return _eq(a, None)
    if a is None:
        return ("only-ref", None, ref[0], "from " + ref[1])
    tol = max(1e-6, ref[2] + 1e-9)
    p = g.get("altitude_precision_m")
    if isinstance(p, (int, float)) and p > 0:
        tol = max(tol, p / 2)
    ok = abs(a - ref[0]) <= tol
    return ("agree" if ok else "disagree", a, ref[0], "from " + ref[1])


def _first_key(ex, keys):
    for k in keys:
        v = first(ex, k)
        if v is not None and v != "":
            return v, k
    return None, None


def cmp_make(o, ex, fp):
    v, k = _first_key(ex, MAKE_KEYS)
    return _eq((o.get("capture") or {}).get("make"), None if v is None else str(v), "from %s" % k if k else "")


def cmp_model(o, ex, fp):
    v, k = _first_key(ex, MODEL_KEYS)
    return _eq((o.get("capture") or {}).get("model"), None if v is None else str(v), "from %s" % k if k else "")


def cmp_orientation(o, ex, fp):
    cap = o.get("capture") or {}
    v, k = _first_key(ex, ORIENTATION_KEYS)
    ours_v = cap.get("orientation")
    if v is None:
        return _eq(ours_v, None)
    if isinstance(v, int) and 1 <= v <= 8:
        return _eq(ours_v, v, "from " + k)
    # out of range: a warning and no interpretation
    warned = any("rientation" in w for w in cap.get("warnings", []) or [])
    shown = "%s%s%s" % (ours_v, " text=%r" % cap["orientation_text"] if "orientation_text" in cap else "",
                        " +warning" if warned else " (no warning)")
    if warned and "orientation_text" not in cap and ours_v in (None, v):
        return ("agree", shown, v, "out of range 1..8")
    return ("disagree", shown, v, "out of range 1..8: needs a warning and no interpretation")


def cmp_size(o, ex, fp):
    if ref_kind(ex) not in ("video", "image"):
        return ("none", None, None, "")
    s = first_stream(o.get("media", {}), "video") or {}
    ours_v = "%sx%s" % (s["width"], s["height"]) if s.get("width") and s.get("height") else None
    fs = first_stream(fp, "video") or {}
    if fs.get("width") and fs.get("height"):
        return _eq(ours_v, "%sx%s" % (fs["width"], fs["height"]), "ffprobe")
    v = first(ex, "Composite:ImageSize")
    if v:
        return _eq(ours_v, "x".join(str(v).replace("x", " ").split()), "exiftool Composite:ImageSize")
    return _eq(ours_v, None)


def _media_ok(ex):
    return ref_kind(ex) in ("video", "audio")


def cmp_duration(o, ex, fp):
    if not _media_ok(ex):
        return ("none", None, None, "")
    d = o.get("media", {}).get("duration")
    r = (fp.get("format") or {}).get("duration")
    r = float(r) if r is not None else None
    if d is None or r is None:
        return _eq(d, r)
    return ("agree" if abs(d - r) <= 0.0005 else "disagree", d, r, "")


def cmp_rotation(o, ex, fp):
    if ref_kind(ex) != "video":
        return ("none", None, None, "")
    s = first_stream(o.get("media", {}), "video") or {}
    r = first(ex, "Composite:Rotation")
    v = s.get("rotation")
    if r == 0 and v is None:
        return ("agree", "(none)", 0, "no turn")
    return _eq(None if v is None else float(v), None if r is None else float(r))


def cmp_dm_rotation(o, ex, fp):
    if ref_kind(ex) != "video":
        return ("none", None, None, "")
    s = first_stream(o.get("media", {}), "video") or {}
    fs = first_stream(fp, "video") or {}
    r = None
    for sd in fs.get("side_data_list", []) or []:
        if "rotation" in sd:
            r = float(sd["rotation"])
    v = s.get("display_matrix_rotation")
    return _eq(None if v is None else float(v), r)


def _per_stream(o, fp, ours_key, ref_key, zero_is_none=False):
    oss = o.get("media", {}).get("streams", []) or []
    fss = fp.get("streams", []) or []
    ov = [s.get(ours_key) for s in oss]
    rv = []
    for s in fss:
        x = s.get(ref_key)
        rv.append(int(x) if x not in (None, "N/A") else None)
    if zero_is_none:    # a stream of which no frame could be decoded: ffprobe omits the count, we say 0
        ov = [None if x == 0 else x for x in ov]
        rv = [None if x == 0 else x for x in rv]
    ov = None if all(x is None for x in ov) else ov
    rv = None if all(x is None for x in rv) else rv
    return _eq(ov, rv, "per stream")


def cmp_frames(o, ex, fp):
    if not _media_ok(ex) and ref_kind(ex) != "image":
        return ("none", None, None, "")
    return _per_stream(o, fp, "frames", "nb_read_frames", zero_is_none=True)


def cmp_nb_frames(o, ex, fp):
    if not _media_ok(ex):
        return ("none", None, None, "")
    return _per_stream(o, fp, "nb_frames", "nb_frames")


CHECKS = {
    "kind": cmp_kind, "datetime_original": cmp_datetime, "datetime_original_zone": cmp_zone,
    "datetime_source": cmp_datetime_source, "gps_format": cmp_gps_format,
    "gps": cmp_gps, "gps_altitude": cmp_altitude, "make": cmp_make, "model": cmp_model,
    "orientation": cmp_orientation, "size": cmp_size, "duration": cmp_duration,
    "rotation": cmp_rotation, "display_matrix_rotation": cmp_dm_rotation,
    "frames": cmp_frames, "nb_frames": cmp_nb_frames,
}


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    opts = [a for a in argv[1:] if a.startswith("--")]
    json_out = None
    if "--json" in argv:
        i = argv.index("--json")
        json_out = argv[i + 1]
        args = [a for a in args if a != json_out]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    evidence, corpus = args
    verbose = "--verbose" in opts
    files = sorted(os.path.join(corpus, f) for f in os.listdir(corpus)
                   if not f.startswith(".") and os.path.isfile(os.path.join(corpus, f)))
    if not files:
        print("differential: empty corpus %s" % corpus, file=sys.stderr)
        return 2
    files = [os.path.abspath(f) for f in files]
    p, _ = run(["exiftool", "-ver"])
    exver = p.stdout.decode().strip() if p else "?"
    p, _ = run(["ffprobe", "-v", "error", "-version"])
    ffver = p.stdout.decode().split("\n")[0] if p else "?"
    print("reference: exiftool %s; %s" % (exver, ffver))

    with ThreadPoolExecutor(max_workers=2) as pool:
        ex_f = pool.submit(exiftool_all, files)
        fps = list(pool.map(ffprobe, files))
        ods = list(pool.map(lambda f: ours(evidence, f), files))
        exs = ex_f.result()

    counts = {f: {"agree": 0, "disagree": 0, "only-ref": 0, "only-ours": 0, "known": 0} for f in FIELDS}
    rows = []
    seen_known = set()
    failures = 0
    for path, fp, od in zip(files, fps, ods):
        name = os.path.basename(path)
        ex = exs.get(path, {})
        for field in FIELDS:
            outcome, ov, rv, note = CHECKS[field](od, ex, fp)
            if outcome == "none":
                continue
            known = KNOWN.get((name, field))
            if outcome != "agree" and known and known[0] == outcome:
                counts[field]["known"] += 1
                seen_known.add((name, field))
                rows.append(("KNOWN", name, field, outcome, ov, rv, known[1]))
                continue
            counts[field][outcome] += 1
            if outcome != "agree":
                failures += 1
                fix = pending(name, field)
                rows.append(("FAIL", name, field, outcome, ov, rv,
                             note + (" [expected until: %s]" % fix if fix else "")))
            elif verbose:
                rows.append(("ok", name, field, outcome, ov, rv, note))

    print("\n%-5s %-36s %-24s %-10s %-40s %-40s %s" % ("", "file", "field", "outcome", "libevidence", "reference", "note"))
    for st, name, field, outcome, ov, rv, note in rows:
        print("%-5s %-36s %-24s %-10s %-40s %-40s %s" % (st, name, field, outcome, _s(ov), _s(rv), note))
    stale = sorted(set(KNOWN) - seen_known)
    for k in stale:
        print("note: known difference not seen in this run: %s %s" % k)

    print("\n%-24s %6s %8s %8s %9s %6s %7s  %s" % ("field", "agree", "disagree", "only-ref", "only-ours", "known",
                                                   "agree%", "reference"))
    summary = {}
    for f in FIELDS:
        c = counts[f]
        tot = sum(c.values())
        pct = 100.0 * c["agree"] / tot if tot else None
        summary[f] = dict(c, percent=pct)
        print("%-24s %6d %8d %8d %9d %6d %7s  %s" % (f, c["agree"], c["disagree"], c["only-ref"], c["only-ours"],
                                                    c["known"], "-" if pct is None else "%.1f" % pct, REFERENCE[f]))
    tot_a = sum(c["agree"] for c in counts.values())
    tot = sum(sum(c.values()) for c in counts.values())
    print("%-24s %6d %8d %8d %9d %6d %7.1f" % (
        "all", tot_a, sum(c["disagree"] for c in counts.values()), sum(c["only-ref"] for c in counts.values()),
        sum(c["only-ours"] for c in counts.values()), sum(c["known"] for c in counts.values()),
        100.0 * tot_a / tot if tot else 0))
    print("\n%d file(s), %d unexplained difference(s), %d known" % (
        len(files), failures, sum(c["known"] for c in counts.values())))
    if json_out:
        with open(json_out, "w") as f:
            json.dump({"exiftool": exver, "ffprobe": ffver, "fields": summary,
                       "differences": [dict(zip(("status", "file", "field", "outcome", "ours", "ref", "note"), r))
                                       for r in rows]}, f, indent=1, default=str)
    return 1 if failures else 0


def _s(v):
    s = "-" if v is None else (v if isinstance(v, str) else json.dumps(v))
    return s if len(s) <= 40 else s[:37] + "..."


if __name__ == "__main__":
    sys.exit(main(sys.argv))
