#!/usr/bin/env python3
"""Build the differential-test corpus: tiny files with the metadata
structures real devices write.

    mkcorpus.py OUTDIR [--only NAME,...]

Made at test time with ffmpeg, exiftool and python's struct only (nothing
is downloaded), a few KB each, the whole corpus in a few seconds. Each file
is named for what it mimics; CORPUS below says, per file, how it is made and
which device structure it copies (tests/tools/README.md has the same list
with the provenance). The pixel and sample content is synthetic (lavfi
testsrc2 / sine); only the containers and metadata structures matter here.

Metadata written by python (EXIF/TIFF/BigTIFF/DNG/HEIF structures, the AVI
IDIT chunk) is built byte by byte below so that the stored values (rationals,
offsets, placements) are exactly those a device writes, not what a writing
tool would choose. Exits 0 when every file was made, 1 otherwise (the
names of the files that could not be made are printed).
"""

import os
import shutil
import struct
import subprocess
import sys

# ---------------------------------------------------------------------------
# TIFF / EXIF writer (classic TIFF and BigTIFF), exact placement of every IFD.

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED, SRATIONAL, LONG8, IFD8 = 1, 2, 3, 4, 5, 7, 10, 16, 18
_SIZE = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, UNDEFINED: 1, SRATIONAL: 8, LONG8: 8, IFD8: 8}


def _encode(typ, vals, e):
    """(count, bytes) of a tag value. vals: str for ASCII, bytes for
    BYTE/UNDEFINED, list of ints or (num, den) pairs otherwise."""
    if typ == ASCII:
        b = vals.encode() + b"\0"
        return len(b), b
    if typ in (BYTE, UNDEFINED):
        return len(vals), bytes(vals)
    fmt = {SHORT: "H", LONG: "I", LONG8: "Q", IFD8: "Q"}
    if typ in fmt:
        return len(vals), struct.pack(e + fmt[typ] * len(vals), *vals)
    f = "I" if typ == RATIONAL else "i"
    out = b"".join(struct.pack(e + f + f, n, d) for n, d in vals)
    return len(vals), out


def ifd_size(entries, big=False):
    """Bytes an IFD with its out-of-line values takes."""
    n = len(entries)
    inline = 8 if big else 4
    size = (8 + 20 * n + 8) if big else (2 + 12 * n + 4)
    for typ_vals in entries:
        _, typ, vals = typ_vals
        _, b = _encode(typ, vals, "<")
        if len(b) > inline:
            size += len(b) + (len(b) & 1)
    return size


def put_ifd(buf, at, entries, next_ifd=0, big=False, e="<"):
    """Write an IFD at offset `at` of bytearray buf (grown as needed), its
    out-of-line values right after it. entries: [(tag, type, values)]."""
    entries = sorted(entries, key=lambda t: t[0])
    n = len(entries)
    inline = 8 if big else 4
    head = (8 + 20 * n + 8) if big else (2 + 12 * n + 4)
    data_at = at + head
    out = bytearray(struct.pack(e + ("Q" if big else "H"), n))
    extra = bytearray()
    for tag, typ, vals in entries:
        count, b = _encode(typ, vals, e)
        if big:
            out += struct.pack(e + "HHQ", tag, typ, count)
        else:
            out += struct.pack(e + "HHI", tag, typ, count)
        if len(b) <= inline:
            out += b + b"\0" * (inline - len(b))
        else:
            off = data_at + len(extra)
            out += struct.pack(e + ("Q" if big else "I"), off)
            extra += b
            if len(b) & 1:
                extra += b"\0"
    out += struct.pack(e + ("Q" if big else "I"), next_ifd)
    blob = out + extra
    if len(buf) < at + len(blob):
        buf.extend(b"\0" * (at + len(blob) - len(buf)))
    buf[at:at + len(blob)] = blob
    return at + len(blob)


def tiff_header(ifd0, big=False, e="<"):
    bo = b"II" if e == "<" else b"MM"
    if big:
        return bytearray(bo + struct.pack(e + "HHHQ", 43, 8, 0, ifd0))
    return bytearray(bo + struct.pack(e + "HI", 42, ifd0))


def exif_block(ifd0, exif=None, gps=None, e=">"):
    """A TIFF structure for a JPEG APP1 / HEIF Exif item, laid out as
    cameras do: IFD0, then ExifIFD, then GPS IFD (big-endian like Apple and
    Canon unless e='<')."""
    ifd0 = list(ifd0)
    at0 = 8
    size0 = ifd_size(ifd0 + [(0, LONG, [0])] * ((exif is not None) + (gps is not None)))
    at_exif = at0 + size0
    at_gps = at_exif + (ifd_size(exif) if exif is not None else 0)
    if exif is not None:
        ifd0.append((0x8769, LONG, [at_exif]))
    if gps is not None:
        ifd0.append((0x8825, LONG, [at_gps]))
    buf = tiff_header(at0, e=e)
    put_ifd(buf, at0, ifd0, e=e)
    if exif is not None:
        put_ifd(buf, at_exif, exif, e=e)
    if gps is not None:
        put_ifd(buf, at_gps, gps, e=e)
    return bytes(buf)


def jpeg_with_app1(base_jpeg, tiff):
    """SOI, APP1 Exif (as cameras put it first, no JFIF APP0), then the
    rest of an ffmpeg JPEG without its APP0."""
    j = base_jpeg
    assert j[:2] == b"\xff\xd8"
    rest = j[2:]
    if rest[:2] == b"\xff\xe0":
        ln = struct.unpack(">H", rest[2:4])[0]
        rest = rest[2 + ln:]
    payload = b"Exif\0\0" + tiff
    return b"\xff\xd8\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + rest


def r(n, d=1):
    return (n, d)


# ---------------------------------------------------------------------------
# Helpers around the tools.

class Corpus:
    def __init__(self, out):
        self.out = out
        self.tmp = os.path.join(out, ".work")
        os.makedirs(self.tmp, exist_ok=True)
        self._cache = {}
        self.exif_jobs = []

    def p(self, name):
        return os.path.join(self.out, name)

    def t(self, name):
        return os.path.join(self.tmp, name)

    def ff(self, *args):
        subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"] + list(args),
                       check=True)

    def exiftool(self, path, *args):
        """Queue an exiftool write; run_exiftool() does them all in one
        process (perl starts once: seconds saved on a busy machine)."""
        self.exif_jobs.append((path, list(args)))

    def run_exiftool(self):
        if not self.exif_jobs:
            return
        argfile = self.t("exiftool.args")
        with open(argfile, "w", encoding="utf-8") as f:
            for i, (path, args) in enumerate(self.exif_jobs):
                if i:
                    f.write("-execute\n")
                for a in args + [path]:
                    f.write(a + "\n")
        p = subprocess.run(["exiftool", "-@", argfile, "-common_args", "-overwrite_original"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = p.stdout.decode("utf-8", "replace")
        updated = out.count("1 image files updated")
        if p.returncode != 0 or updated != len(self.exif_jobs):
            raise RuntimeError("exiftool updated %d of %d files (exit %d): %s %s" % (
                updated, len(self.exif_jobs), p.returncode, out, p.stderr.decode("utf-8", "replace")))

    def base_jpeg(self):
        if "jpg" not in self._cache:
            self.ff("-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1", "-q:v", "6",
                    "-fflags", "+bitexact", "-flags", "+bitexact", self.t("base.jpg"))
            self._cache["jpg"] = open(self.t("base.jpg"), "rb").read()
        return self._cache["jpg"]

    def copy_base_jpeg(self, name):
        open(self.p(name), "wb").write(self.base_jpeg())

    def base_av(self, ext):
        """A 0.5 s 64x48 30 fps clip, h264 + aac as phones record (encoded
        once; the makers remux it with -c copy)."""
        if "av" not in self._cache:
            path = self.t("base.mp4")
            self.ff("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30", "-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=44100", "-t", "0.5", "-c:v", "libx264", "-preset",
                    "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "32k", path)
            self._cache["av"] = path
        return self._cache["av"]


# ---------------------------------------------------------------------------
# The corpus. Each maker writes one file; its docstring is its provenance.

def jpeg_iphone_exif_full(c, name):
    """Python struct EXIF in APP1, laid out as an iPhone 12-15 writes it
    (big-endian 'MM', IFD0 Make/Model/Orientation/Software/DateTime,
    ExifIFD with DateTimeOriginal + SubSecTimeOriginal + OffsetTime*,
    GPS IFD with degrees/minutes as n/1 and seconds as n/100, altitude as
    n/d with GPSAltitudeRef 0, GPSTimeStamp/GPSDateStamp in UTC)."""
    ifd0 = [(0x010F, ASCII, "Apple"), (0x0110, ASCII, "iPhone 13"), (0x0112, SHORT, [1]),
            (0x0131, ASCII, "17.1.2"), (0x0132, ASCII, "2024:03:10 14:05:09")]
    exif = [(0x9000, UNDEFINED, b"0232"), (0x9003, ASCII, "2024:03:10 14:05:09"),
            (0x9004, ASCII, "2024:03:10 14:05:09"), (0x9010, ASCII, "+01:00"),
            (0x9011, ASCII, "+01:00"), (0x9012, ASCII, "+01:00"),
            (0x9291, ASCII, "123"), (0x9292, ASCII, "123")]
    gps = [(0x0001, ASCII, "N"), (0x0002, RATIONAL, [r(51), r(30), r(2493, 100)]),
           (0x0003, ASCII, "W"), (0x0004, RATIONAL, [r(0), r(7), r(3512, 100)]),
           (0x0005, BYTE, b"\0"), (0x0006, RATIONAL, [r(2734, 100)]),
           (0x0007, RATIONAL, [r(13), r(5), r(9)]), (0x001D, ASCII, "2024:03:10")]
    open(c.p(name), "wb").write(jpeg_with_app1(c.base_jpeg(), exif_block(ifd0, exif, gps)))


def jpeg_camera_exif_no_offset(c, name):
    """exiftool on an ffmpeg JPEG: what a DSLR of the EXIF 2.2/2.3 era
    (e.g. Canon EOS 5D Mark IV) writes: Make/Model, DateTimeOriginal and
    SubSecTimeOriginal, no OffsetTime* and no GPS. The zone is unknown."""
    c.copy_base_jpeg(name)
    c.exiftool(c.p(name), "-Make=Canon", "-Model=Canon EOS 5D Mark IV",
               "-DateTimeOriginal=2023:11:04 09:15:42", "-SubSecTimeOriginal=57",
               "-CreateDate=2023:11:04 09:15:42", "-ModifyDate=2023:11:04 09:15:42")


def jpeg_xmp_only_edited(c, name):
    """exiftool writes only an XMP packet (APP1 http://ns.adobe.com/xap/1.0/),
    as an editor's export that dropped EXIF: XMP-exif:DateTimeOriginal with
    an offset, XMP-tiff:Make/Model, XMP-exif GPS in the XMP 'DD,MM.mmmmN'
    form."""
    c.copy_base_jpeg(name)
    c.exiftool(c.p(name), "-XMP-exif:DateTimeOriginal=2022:08:19 18:30:12.250+02:00",
               "-XMP-tiff:Make=NIKON CORPORATION", "-XMP-tiff:Model=NIKON Z 6",
               "-XMP-exif:GPSLatitude=48.858370", "-XMP-exif:GPSLatitudeRef=N",
               "-XMP-exif:GPSLongitude=2.294481", "-XMP-exif:GPSLongitudeRef=E")


def jpeg_orientation_6(c, name):
    """exiftool: a phone held upright (Samsung Galaxy style IFD0 with
    Orientation 6 = rotate 90 CW), DateTimeOriginal with OffsetTimeOriginal."""
    c.copy_base_jpeg(name)
    c.exiftool(c.p(name), "-Make=samsung", "-Model=SM-G991B", "-Orientation#=6",
               "-DateTimeOriginal=2024:07:21 12:00:01", "-OffsetTimeOriginal=-05:00")


def jpeg_orientation_out_of_range(c, name):
    """Python struct EXIF with Orientation 10825 (0x2A49), a value seen in
    files from broken firmware / byte-swapped writers; defined values are
    1..8."""
    ifd0 = [(0x010F, ASCII, "Generic"), (0x0110, ASCII, "Cam"), (0x0112, SHORT, [10825])]
    exif = [(0x9000, UNDEFINED, b"0230"), (0x9003, ASCII, "2021:01:01 00:00:01")]
    open(c.p(name), "wb").write(jpeg_with_app1(c.base_jpeg(), exif_block(ifd0, exif, e="<")))


def jpeg_gps_placeholder_zero(c, name):
    """Python struct EXIF, little-endian: a phone without a fix that still
    writes the GPS IFD with 0/1 0/1 0/1 for both coordinates (placeholder
    position 0,0 in the Gulf of Guinea)."""
    ifd0 = [(0x010F, ASCII, "HUAWEI"), (0x0110, ASCII, "VOG-L29")]
    exif = [(0x9003, ASCII, "2020:02:02 20:02:02")]
    gps = [(0x0000, BYTE, b"\2\2\0\0"), (0x0001, ASCII, "N"), (0x0002, RATIONAL, [r(0), r(0), r(0)]),
           (0x0003, ASCII, "E"), (0x0004, RATIONAL, [r(0), r(0), r(0)])]
    open(c.p(name), "wb").write(jpeg_with_app1(c.base_jpeg(), exif_block(ifd0, exif, gps, e="<")))


def jpeg_gps_placeholder_0over0(c, name):
    """Python struct EXIF: a dashcam-style GPS IFD whose rationals are all
    0/0 (no fix, denominators left zero)."""
    ifd0 = [(0x010F, ASCII, "Dashcam"), (0x0110, ASCII, "DC-1")]
    exif = [(0x9003, ASCII, "2020:02:02 20:02:02")]
    gps = [(0x0001, ASCII, "N"), (0x0002, RATIONAL, [r(0, 0), r(0, 0), r(0, 0)]),
           (0x0003, ASCII, "E"), (0x0004, RATIONAL, [r(0, 0), r(0, 0), r(0, 0)])]
    open(c.p(name), "wb").write(jpeg_with_app1(c.base_jpeg(), exif_block(ifd0, exif, gps, e="<")))


def _rgb(w, h):
    return bytes(((x * 4) & 255, (y * 4) & 255, 128) [k] for y in range(h) for x in range(w) for k in range(3))


def _img_tags(w, h, strip_at, big=False):
    t = LONG8 if big else LONG
    return [(0x0100, SHORT, [w]), (0x0101, SHORT, [h]), (0x0102, SHORT, [8, 8, 8]),
            (0x0103, SHORT, [1]), (0x0106, SHORT, [2]), (0x0111, t, [strip_at]),
            (0x0115, SHORT, [3]), (0x0116, SHORT, [h]), (0x0117, t, [w * h * 3])]


def tiff_data_first_ifd0_past_64k(c, name):
    """Python struct, little-endian TIFF laid out as libtiff writes it
    (TIFFWriteDirectory after the strips): 8-byte header, 67,200 bytes of
    RGB strip data, then IFD0 at offset 67,208 (past 64 KiB) with Make,
    Model, DateTime and an ExifIFD after it (DateTimeOriginal +
    OffsetTimeOriginal), as scanners and GIMP/ImageMagick exports do."""
    w, h = 160, 140
    pix = _rgb(w, h)
    at0 = 8 + len(pix)
    ifd0 = _img_tags(w, h, 8) + [(0x010F, ASCII, "EPSON"), (0x0110, ASCII, "Perfection V600"),
                                  (0x0132, ASCII, "2019:05:06 07:08:09"), (0x8769, LONG, [0])]
    at_exif = at0 + ifd_size(ifd0)
    ifd0[-1] = (0x8769, LONG, [at_exif])
    buf = tiff_header(at0)
    buf += pix
    put_ifd(buf, at0, ifd0)
    put_ifd(buf, at_exif, [(0x9003, ASCII, "2019:05:06 07:08:09"), (0x9011, ASCII, "+02:00")])
    open(c.p(name), "wb").write(bytes(buf))


def tiff_exififd_straddles_64k(c, name):
    """Python struct, little-endian TIFF: IFD0 first, strip data next, and
    the ExifIFD at offset 65,508 so that its entries cross the 64 KiB
    boundary (a reader that maps only the first 64 KiB loses it)."""
    w, h = 150, 145
    pix = _rgb(w, h)
    strip_at = 256
    at_exif = 65508
    ifd0 = _img_tags(w, h, strip_at) + [(0x010F, ASCII, "NIKON CORPORATION"), (0x0110, ASCII, "NIKON D850"),
                                        (0x0112, SHORT, [1]), (0x8769, LONG, [at_exif])]
    buf = tiff_header(8)
    put_ifd(buf, 8, ifd0)
    assert 8 + ifd_size(ifd0) <= strip_at
    buf.extend(b"\0" * (strip_at - len(buf)))
    buf[strip_at:strip_at + len(pix)] = pix
    assert strip_at + len(pix) <= at_exif
    exif = [(0x9000, UNDEFINED, b"0231"), (0x9003, ASCII, "2018:12:24 23:59:58"),
            (0x9004, ASCII, "2018:12:24 23:59:58"), (0x9010, ASCII, "+09:00"),
            (0x9011, ASCII, "+09:00"), (0x9291, ASCII, "40")]
    end = put_ifd(buf, at_exif, exif)
    assert at_exif < 65536 < at_exif + 2 + 12 * len(exif) <= end
    open(c.p(name), "wb").write(bytes(buf))


def bigtiff_exif(c, name):
    """Python struct BigTIFF (version 43, 8-byte offsets, 20-byte entries,
    LONG8 strip offsets, IFD8 ExifIFD pointer) as libtiff writes with mode
    'w8' (large scans, aerial/drone orthomosaics): Make/Model/Orientation,
    ExifIFD with DateTimeOriginal + OffsetTimeOriginal, GPS IFD."""
    w, h = 32, 24
    pix = _rgb(w, h)
    ifd0 = _img_tags(w, h, 0, big=True) + [(0x010F, ASCII, "DJI"), (0x0110, ASCII, "FC6310"),
                                            (0x0112, SHORT, [1]), (0x8769, IFD8, [0]), (0x8825, IFD8, [0])]
    exif = [(0x9003, ASCII, "2022:04:05 06:07:08"), (0x9011, ASCII, "+08:00")]
    gps = [(0x0001, ASCII, "S"), (0x0002, RATIONAL, [r(33), r(51), r(3540, 100)]),
           (0x0003, ASCII, "E"), (0x0004, RATIONAL, [r(151), r(12), r(4020, 100)]),
           (0x0005, BYTE, b"\0"), (0x0006, RATIONAL, [r(58123, 1000)])]
    at0 = 16
    at_exif = at0 + ifd_size(ifd0, big=True)
    at_gps = at_exif + ifd_size(exif, big=True)
    strip_at = at_gps + ifd_size(gps, big=True)
    ifd0 = [e for e in ifd0 if e[0] not in (0x0111, 0x8769, 0x8825)] + [
        (0x0111, LONG8, [strip_at]), (0x8769, IFD8, [at_exif]), (0x8825, IFD8, [at_gps])]
    buf = tiff_header(at0, big=True)
    put_ifd(buf, at0, ifd0, big=True)
    put_ifd(buf, at_exif, exif, big=True)
    put_ifd(buf, at_gps, gps, big=True)
    assert len(buf) == strip_at
    buf += pix
    open(c.p(name), "wb").write(bytes(buf))


def dng_like_subifds(c, name):
    """Python struct TIFF shaped like a camera DNG (Adobe DNG 1.4 layout used
    by phone RAW and DNG converters): IFD0 is a small RGB preview
    (NewSubfileType 1) with DNGVersion, UniqueCameraModel, Make/Model,
    Orientation, a SubIFDs (330) pointer to the full-size 16-bit CFA raw
    IFD (NewSubfileType 0), and an ExifIFD (DateTimeOriginal,
    OffsetTimeOriginal, SubSecTimeOriginal)."""
    pw, ph = 32, 24
    rw, rh = 64, 48
    prev = _rgb(pw, ph)
    raw = bytes((x * 7 + y * 3) & 255 for y in range(rh) for x in range(rw * 2))
    ifd0 = [(0x00FE, LONG, [1])] + _img_tags(pw, ph, 0) + [
        (0x010F, ASCII, "Google"), (0x0110, ASCII, "Pixel 7"), (0x0112, SHORT, [1]),
        (0xC612, BYTE, b"\1\4\0\0"), (0xC614, ASCII, "Google Pixel 7"), (0x014A, LONG, [0]), (0x8769, LONG, [0])]
    sub = [(0x00FE, LONG, [0]), (0x0100, SHORT, [rw]), (0x0101, SHORT, [rh]), (0x0102, SHORT, [16]),
           (0x0103, SHORT, [1]), (0x0106, SHORT, [32803]), (0x0111, LONG, [0]), (0x0115, SHORT, [1]),
           (0x0116, SHORT, [rh]), (0x0117, LONG, [len(raw)]), (0x828D, SHORT, [2, 2]),
           (0x828E, BYTE, b"\0\1\1\2")]
    exif = [(0x9000, UNDEFINED, b"0232"), (0x9003, ASCII, "2023:09:30 16:45:00"),
            (0x9011, ASCII, "-07:00"), (0x9291, ASCII, "512")]
    at0 = 8
    at_sub = at0 + ifd_size(ifd0)
    at_exif = at_sub + ifd_size(sub)
    at_prev = at_exif + ifd_size(exif)
    at_raw = at_prev + len(prev)

    def fix(lst, tag, val):
        return [(t, ty, [val]) if t == tag else (t, ty, v) for t, ty, v in lst]
    ifd0 = fix(fix(fix(ifd0, 0x0111, at_prev), 0x014A, at_sub), 0x8769, at_exif)
    sub = fix(sub, 0x0111, at_raw)
    buf = tiff_header(at0)
    put_ifd(buf, at0, ifd0)
    put_ifd(buf, at_sub, sub)
    put_ifd(buf, at_exif, exif)
    assert len(buf) == at_prev
    buf += prev + raw
    open(c.p(name), "wb").write(bytes(buf))


def _box(typ, payload):
    return struct.pack(">I", 8 + len(payload)) + typ + payload


def _fbox(typ, ver, flags, payload):
    return _box(typ, struct.pack(">I", (ver << 24) | flags) + payload)


def heic_like_iphone(c, name):
    """Python struct ISO BMFF/HEIF box structure as an iPhone HEIC carries its
    metadata: ftyp heic (mif1 compatible), meta with hdlr 'pict', pitm,
    iinf (infe v2 item 1 'hvc1', item 2 'Exif'), iref cdsc 2->1, iprp/ipco
    ispe 64x48 + ipma, iloc (v1, 4-byte offsets and lengths) into mdat.
    The Exif item is a 4-byte tiff-header offset (6), 'Exif\\0\\0' and a
    big-endian TIFF (Make/Model, DateTimeOriginal + OffsetTimeOriginal,
    GPS). The 'hvc1' item payload is NOT a real HEVC picture (no HEVC
    encoder output is wrapped; FFmpeg 5.1 cannot decode HEIF items anyway):
    only the metadata structure is real."""
    tiff = exif_block(
        [(0x010F, ASCII, "Apple"), (0x0110, ASCII, "iPhone 14 Pro"), (0x0112, SHORT, [6])],
        [(0x9003, ASCII, "2024:06:01 08:09:10"), (0x9011, ASCII, "+02:00"), (0x9291, ASCII, "456")],
        [(0x0001, ASCII, "N"), (0x0002, RATIONAL, [r(45), r(26), r(1234, 100)]),
         (0x0003, ASCII, "E"), (0x0004, RATIONAL, [r(12), r(20), r(1, 100)]),
         (0x0005, BYTE, b"\0"), (0x0006, RATIONAL, [r(3, 1)])])
    exif_item = struct.pack(">I", 6) + b"Exif\0\0" + tiff
    img_item = b"\0\0\0\x10" + b"\x26\x01" + b"\xaf" * 14   # stand-in NAL bytes, not decodable
    ftyp = _box(b"ftyp", b"heic" + struct.pack(">I", 0) + b"mif1heic")
    hdlr = _fbox(b"hdlr", 0, 0, b"\0\0\0\0pict" + b"\0" * 12 + b"\0")
    pitm = _fbox(b"pitm", 0, 0, struct.pack(">H", 1))
    infe1 = _fbox(b"infe", 2, 0, struct.pack(">HH", 1, 0) + b"hvc1" + b"\0")
    infe2 = _fbox(b"infe", 2, 0, struct.pack(">HH", 2, 0) + b"Exif" + b"\0")
    iinf = _fbox(b"iinf", 0, 0, struct.pack(">H", 2) + infe1 + infe2)
    iref = _fbox(b"iref", 0, 0, _box(b"cdsc", struct.pack(">HHH", 2, 1, 1)))
    ispe = _fbox(b"ispe", 0, 0, struct.pack(">II", 64, 48))
    ipco = _box(b"ipco", ispe)
    ipma = _fbox(b"ipma", 0, 0, struct.pack(">IHB", 1, 1, 1) + b"\x81")
    iprp = _box(b"iprp", ipco + ipma)

    def iloc(off1, off2):
        body = struct.pack(">BBH", 0x44, 0x00, 2)
        body += struct.pack(">HHHH", 1, 0, 0, 1) + struct.pack(">II", off1, len(img_item))
        body += struct.pack(">HHHH", 2, 0, 0, 1) + struct.pack(">II", off2, len(exif_item))
        return _fbox(b"iloc", 1, 0, body)
    meta = lambda il: _fbox(b"meta", 0, 0, hdlr + pitm + il + iinf + iref + iprp)
    head_len = len(ftyp) + len(meta(iloc(0, 0))) + 8
    off1 = head_len
    off2 = off1 + len(img_item)
    data = ftyp + meta(iloc(off1, off2)) + _box(b"mdat", img_item + exif_item)
    open(c.p(name), "wb").write(data)


def mov_iphone_audio_editlist(c, name):
    """ffmpeg -f mov, h264 + aac: the AAC priming makes the audio trak carry an
    edit list (elst with a media_time of 1024), as iPhone and most phone MOVs
    do; mvhd creation_time set (UTC by the QuickTime format), no Apple keys:
    the zone of the capture time is UTC-by-format."""
    c.ff("-i", c.base_av("mov"), "-c", "copy", "-metadata", "creation_time=2024-03-10T13:05:09Z",
         "-f", "mov", c.p(name))


def mov_apple_mdta_keys(c, name):
    """exiftool on an ffmpeg MOV: the Apple 'mdta' Keys/ItemList metadata an
    iPhone writes into moov/meta: com.apple.quicktime.creationdate with an
    offset, make, model, software and location.ISO6709 (with altitude); mvhd
    creation_time in UTC as iPhones do."""
    c.ff("-i", c.base_av("mov"), "-c", "copy", "-metadata", "creation_time=2024-03-10T13:05:09Z",
         "-f", "mov", c.p(name))
    c.exiftool(c.p(name), "-Keys:CreationDate=2024:03:10 14:05:09+01:00", "-Keys:Make=Apple",
               "-Keys:Model=iPhone 13", "-Keys:Software=17.1.2",
               "-Keys:GPSCoordinates=51.507351, -0.127758, 35.2")


def mov_mdta_gps_placeholder(c, name):
    """ffmpeg -movflags use_metadata_tags: Apple mdta keys written by FFmpeg
    itself, with location.ISO6709 '+00.0000+000.0000/' (the placeholder some
    apps write without a fix) and a creationdate with a Z offset."""
    c.ff("-i", c.base_av("mov"), "-c", "copy", "-movflags", "use_metadata_tags",
         "-metadata", "com.apple.quicktime.location.ISO6709=+00.0000+000.0000/",
         "-metadata", "com.apple.quicktime.creationdate=2024-01-01T00:00:00Z",
         "-metadata", "com.apple.quicktime.make=Apple", "-f", "mov", c.p(name))


def mp4_udta_xyz(c, name):
    """exiftool -UserData:GPSCoordinates on an ffmpeg MP4: an Android-style
    MP4 (MediaMuxer writes the position as an ISO 6709 string in
    moov/udta/©xyz, no make/model) with mvhd creation_time in UTC."""
    c.ff("-i", c.base_av("mp4"), "-c", "copy", "-metadata", "creation_time=2023-05-06T07:08:09Z",
         "-f", "mp4", c.p(name))
    c.exiftool(c.p(name), "-UserData:GPSCoordinates=-33.8568, 151.2153")


def mp4_udta_xyz_placeholder(c, name):
    """ffmpeg -f mov writes the 'location' tag as moov/udta/©xyz; here the
    placeholder '+00.0000+000.0000/' written by apps without a fix."""
    c.ff("-i", c.base_av("mp4"), "-c", "copy", "-metadata", "location=+00.0000+000.0000/",
         "-f", "mov", c.p(name))


def mp4_3gpp_loci(c, name):
    """ffmpeg -f mp4 with -metadata location: FFmpeg's MP4 muxer writes
    3GPP 'loci' (16.16 fixed-point lat/lon/alt), as 3GPP phones and
    FFmpeg-based recorders do; exiftool reads it as UserData:LocationInformation."""
    c.ff("-i", c.base_av("mp4"), "-c", "copy", "-metadata", "location=+52.369293+004.894512/",
         "-metadata", "creation_time=2021-07-08T09:10:11Z", "-f", "mp4", c.p(name))


def mp4_rotation_90(c, name):
    """exiftool -Rotation=90 on an ffmpeg MP4: tkhd display matrix
    (0,1,0,-1,0,0,...) as a phone recording in portrait writes it."""
    c.ff("-i", c.base_av("mp4"), "-c", "copy", "-f", "mp4", c.p(name))
    c.exiftool(c.p(name), "-Rotation=90")


def avi_idit(c, name):
    """ffmpeg -f avi MJPEG (as digital still cameras record AVI), then python
    replaces the JUNK chunk in hdrl with an IDIT chunk 'MON MAR 11 10:20:30
    2024\\n\\0' (the ctime-style date Canon/Nikon/Fujifilm cameras write in
    hdrl), keeping every offset; ffmpeg's INFO/ICRD date is also there."""
    tmp = c.t("idit.avi")
    c.ff("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30", "-t", "0.3", "-c:v", "mjpeg", "-q:v", "8",
         "-fflags", "+bitexact", "-metadata", "date=2024-03-11", "-f", "avi", tmp)
    d = bytearray(open(tmp, "rb").read())
    assert d[12:16] == b"LIST" and d[20:24] == b"hdrl"
    end = 20 + struct.unpack("<I", d[16:20])[0] + 0
    off = 24
    while off + 8 <= end:
        cid = bytes(d[off:off + 4])
        sz = struct.unpack("<I", d[off + 4:off + 8])[0]
        if cid == b"JUNK":
            break
        off += 8 + sz + (sz & 1)
    else:
        raise RuntimeError("no JUNK chunk in hdrl")
    idit = b"MON MAR 11 10:20:30 2024\n\0"
    rest = sz - 8 - len(idit)
    assert rest >= 0
    d[off:off + 8 + sz] = (b"IDIT" + struct.pack("<I", len(idit)) + idit + b"JUNK" +
                           struct.pack("<I", rest) + b"\0" * rest)
    open(c.p(name), "wb").write(bytes(d))


def mkv_dateutc_tags(c, name):
    """ffmpeg -f matroska: Segment/Info/DateUTC from creation_time (UTC by the
    Matroska format) and a global tag DATE_RECORDED (local time, no zone) as
    camcorder and OBS-style recorders write; h264 + aac."""
    c.ff("-i", c.base_av("mp4"), "-c", "copy", "-metadata", "creation_time=2022-10-11T12:13:14Z",
         "-metadata", "DATE_RECORDED=2022-10-11 14:13:14", "-f", "matroska", c.p(name))


def wav_bwf_bext(c, name):
    """ffmpeg -write_bext 1: a Broadcast Wave file with a bext chunk
    (OriginationDate 2024-02-29, OriginationTime 23:59:30, local time of the
    recorder, no zone; Originator) as field recorders (Zoom, Tascam, Sound
    Devices) and police interview recorders write; 16-bit PCM."""
    c.ff("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "0.5", "-c:a", "pcm_s16le",
         "-write_bext", "1", "-metadata", "originator=ZOOM H5", "-metadata", "origination_date=2024-02-29",
         "-metadata", "origination_time=23:59:30", "-metadata", "time_reference=0",
         "-fflags", "+bitexact", "-f", "wav", c.p(name))


def statement_txt(c, name):
    """A 3 KB UTF-8 text file (a typed witness statement): must not be
    called media (kind other). FFmpeg's tty demuxer claims any .txt file
    of some size as "ANSI art" video, so ffprobe calls it video."""
    lines = ["Witness statement", ""]
    lines += ["%d. On 10 March 2024 at about 14:05 I saw a blue car turn into the street." % i
              for i in range(1, 41)]
    lines += ["", "Signed: J. Doe", ""]
    open(c.p(name), "w", encoding="utf-8").write("\n".join(lines))


CORPUS = [
    ("jpeg_iphone_exif_full.jpg", jpeg_iphone_exif_full),
    ("jpeg_camera_exif_no_offset.jpg", jpeg_camera_exif_no_offset),
    ("jpeg_xmp_only_edited.jpg", jpeg_xmp_only_edited),
    ("jpeg_orientation_6.jpg", jpeg_orientation_6),
    ("jpeg_orientation_out_of_range.jpg", jpeg_orientation_out_of_range),
    ("jpeg_gps_placeholder_zero.jpg", jpeg_gps_placeholder_zero),
    ("jpeg_gps_placeholder_0over0.jpg", jpeg_gps_placeholder_0over0),
    ("tiff_data_first_ifd0_past_64k.tif", tiff_data_first_ifd0_past_64k),
    ("tiff_exififd_straddles_64k.tif", tiff_exififd_straddles_64k),
    ("bigtiff_exif.tif", bigtiff_exif),
    ("dng_like_subifds.dng", dng_like_subifds),
    ("heic_like_iphone.heic", heic_like_iphone),
    ("mov_iphone_audio_editlist.mov", mov_iphone_audio_editlist),
    ("mov_apple_mdta_keys.mov", mov_apple_mdta_keys),
    ("mov_mdta_gps_placeholder.mov", mov_mdta_gps_placeholder),
    ("mp4_udta_xyz.mp4", mp4_udta_xyz),
    ("mp4_udta_xyz_placeholder.mov", mp4_udta_xyz_placeholder),
    ("mp4_3gpp_loci.mp4", mp4_3gpp_loci),
    ("mp4_rotation_90.mp4", mp4_rotation_90),
    ("avi_idit.avi", avi_idit),
    ("mkv_dateutc_tags.mkv", mkv_dateutc_tags),
    ("wav_bwf_bext.wav", wav_bwf_bext),
    ("statement.txt", statement_txt),
]


def main(argv):
    if len(argv) < 2 or argv[1].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    only = None
    if len(argv) >= 4 and argv[2] == "--only":
        only = set(argv[3].split(","))
    os.makedirs(out, exist_ok=True)
    c = Corpus(out)
    bad = []
    for name, fn in CORPUS:
        if only and name not in only:
            continue
        try:
            fn(c, name)
        except (subprocess.CalledProcessError, OSError, AssertionError, RuntimeError) as e:
            bad.append(name)
            print("mkcorpus: cannot make %s: %s" % (name, e), file=sys.stderr)
    try:
        c.run_exiftool()
    except (OSError, RuntimeError) as e:
        bad.append("exiftool writes")
        print("mkcorpus: %s" % e, file=sys.stderr)
    shutil.rmtree(c.tmp, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
