#!/usr/bin/env python3
"""Make the container structures real cameras and phones write, for the
capture-fact tests: python3 capture_media.py DIR

Starts from small ffmpeg files, adds tags with exiftool where it can, and
writes the rest with struct at known values (printed as JSON on stdout):

  loci.mp4       3GPP 'loci' (language "und", a name, role 0) with exact 16.16
                 values, mvhd creation_time 2012-09-10T20:52:00 (UTC by format)
  loci0.mp4      'loci' at 0,0 and mvhd creation_time 0 (placeholders)
  both.mp4       udta ©xyz and a 'loci' elsewhere
  mvhd1970.mp4   mvhd creation_time counted from 1970 by a careless writer
  mvhd64.mp4     mvhd version 1 (64-bit), creation 2045-01-02T03:04:05Z
  xyz.mov        QuickTime udta ©xyz (7 decimals), ©mak, ©mod, ©swr
  day.mov        QuickTime udta ©day with an offset (exiftool ContentCreateDate)
  apple.mov      Apple mdta keys: location.ISO6709, creationdate with offset,
                 make, model, software (written by exiftool)
  apple0.mov     com.apple.quicktime.location.ISO6709 "+00.0000+000.0000/"
  idit.avi       RIFF IDIT "Mon Sep 10 20:52:00 2012" (camera local time) and
                 INFO ISFT
  bwf.wav        Broadcast WAVE bext OriginationDate/OriginationTime
  dateutc.mkv    Matroska DateUTC with nanoseconds, no DATE_RECORDED
  recorded.mkv   Matroska DATE_RECORDED tag without a zone, and DateUTC
  recorded_tz.mkv  DATE_RECORDED with an offset
  bad_loci.mp4   'loci' latitude 91 degrees; bad_udta.mp4 udta claiming more
                 than moov holds; bad_idit.avi IDIT that is no date
"""
import json
import os
import struct
import subprocess
import sys

D = sys.argv[1]
os.makedirs(D, exist_ok=True)
facts = {}


def ff(*args):
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=5", "-t", "0.4",
                    "-c:v", "mpeg4"] + list(args), check=True)


def et(path, *args):
    subprocess.run(["exiftool", "-q", "-q", "-overwrite_original"] + list(args) + [path],
                   check=True)


def path(n):
    return os.path.join(D, n)


def boxes(data, start, end):
    """(type, header start, payload start, end) of the boxes in [start, end)."""
    off = start
    while off + 8 <= end:
        size, typ = struct.unpack(">I4s", data[off:off + 8])
        hl = 8
        if size == 1:
            size = struct.unpack(">Q", data[off + 8:off + 16])[0]
            hl = 16
        elif size == 0:
            size = end - off
        if size < hl or off + size > end:
            return
        yield typ, off, off + hl, off + size
        off += size


def find(data, chain):
    start, end = 0, len(data)
    hit = None
    for name in chain:
        hit = None
        for typ, h, p, e in boxes(data, start, end):
            if typ == name:
                hit = (h, p, e)
                break
        if not hit:
            return None
        start, end = hit[1], hit[2]
    return hit


def set_mvhd(data, secs):
    h, p, e = find(data, [b"moov", b"mvhd"])
    assert data[p] == 0, "mvhd version 0 expected"
    struct.pack_into(">II", data, p + 4, secs, secs)


def replace_udta(data, children):
    """Replace moov/udta with one holding `children` (bytes); fixes sizes.
    The file must have moov after mdat (ffmpeg's default), so chunk offsets
    do not move."""
    mh, mp, me = find(data, [b"moov"])
    assert me == len(data), "moov is not the last box"
    u = find(data, [b"moov", b"udta"])
    udta = struct.pack(">I4s", 8 + len(children), b"udta") + children
    if u:
        data[u[0]:u[2]] = udta
    else:
        data[me:me] = udta
    struct.pack_into(">I", data, mh, len(data) - mh)


def loci_box(lat, lon, alt, name=b"Home\0"):
    body = struct.pack(">I", 0) + struct.pack(">H", 0x55C4) + name + bytes([0])
    body += struct.pack(">iii", lon, lat, alt) + b"earth\0" + b"\0"
    return struct.pack(">I4s", 8 + len(body), b"loci") + body


def mp4_with(name, udta_children, mvhd):
    p = path(name)
    ff(p)
    data = bytearray(open(p, "rb").read())
    set_mvhd(data, mvhd)
    replace_udta(data, udta_children)
    open(p, "wb").write(data)


# 3GPP loci with exact values (52.36929321..., -4.89360046..., 12.5 m)
LAT, LON, ALT = 3432079, -320707, 819200
mp4_with("loci.mp4", loci_box(LAT, LON, ALT), 2082844800 + 1347310320)
facts["loci.mp4"] = {"loci_latitude": LAT, "loci_longitude": LON, "loci_altitude": ALT,
                     "mvhd": "2012-09-10T20:52:00Z"}
mp4_with("loci0.mp4", loci_box(0, 0, 0), 0)
# two positions that disagree: ©xyz (used) and loci (named in a warning)
XYZ = b"+48.8584+002.2945/"
xyz = struct.pack(">HH", len(XYZ), 0x15C7) + XYZ
mp4_with("both.mp4", struct.pack(">I", 8 + len(xyz)) + b"\xa9xyz" + xyz + loci_box(LAT, LON, ALT),
         2082844800 + 1347310320)
mp4_with("mvhd1970.mp4", b"", 1347310320)
# mvhd version 1 (64-bit times), as writers must use after 2040-02-06
p = path("mvhd64.mp4")
ff(p)
data = bytearray(open(p, "rb").read())
h, p_, e = find(data, [b"moov", b"mvhd"])
v0 = data[p_:e]
created = 2082844800 + 2366939045  # 2045-01-02T03:04:05Z
ts, dur = struct.unpack(">II", v0[12:20])
v1 = struct.pack(">I", 1 << 24) + struct.pack(">QQIQ", created, created, ts, dur) + v0[20:]
data[h:e] = struct.pack(">I4s", 8 + len(v1), b"mvhd") + v1
mh = find(data, [b"moov"])[0]
struct.pack_into(">I", data, mh, len(data) - mh)
open(p, "wb").write(data)
facts["mvhd64.mp4"] = {"mvhd": "2045-01-02T03:04:05Z"}

# QuickTime user data as Apple's and other cameras' MOVs carry it
p = path("xyz.mov")
ff("-f", "mov", "-metadata", "location=+52.3692932+004.8936138/", "-metadata", "make=Cam",
   "-metadata", "model=X1", "-metadata", "creation_time=2012-09-10T20:52:00Z", p)

p = path("day.mov")
ff("-f", "mov", "-metadata", "creation_time=2012-09-10T20:52:00Z", p)
et(p, "-UserData:ContentCreateDate=2012:09:10 22:52:00+02:00")

# Apple mdta keys
p = path("apple.mov")
ff("-f", "mov", "-metadata", "creation_time=2012-09-10T20:52:05Z", p)
et(p, "-Keys:GPSCoordinates=52.3692932, 4.8936138, 3.2",
   "-Keys:CreationDate=2012:09:10 22:52:00+02:00", "-Keys:Make=Apple",
   "-Keys:Model=iPhone 12", "-Keys:Software=16.1")
p = path("apple0.mov")
ff("-f", "mov", p)
et(p, "-Keys:GPSCoordinates=0, 0", "-Keys:Make=Apple")

# AVI with IDIT where cameras put it, directly in LIST hdrl: the chunk takes
# the start of the JUNK chunk ffmpeg leaves there, so no offset moves
p = path("idit.avi")
ff("-f", "avi", p)
data = bytearray(open(p, "rb").read())
assert data[0:4] == b"RIFF" and data[12:16] == b"LIST" and data[20:24] == b"hdrl"
off, end, j = 24, 20 + struct.unpack("<I", data[16:20])[0], None
while off + 8 <= end:
    cid, size = data[off:off + 4], struct.unpack("<I", data[off + 4:off + 8])[0]
    if cid == b"JUNK":
        j = off
        break
    off += 8 + size + (size & 1)
assert j is not None, "no JUNK chunk in hdrl"
jsize = struct.unpack("<I", data[j + 4:j + 8])[0]
idit = b"Mon Sep 10 20:52:00 2012\n\0"
chunk = b"IDIT" + struct.pack("<I", len(idit)) + idit
rest = jsize - len(chunk)
assert rest >= 0 and len(idit) % 2 == 0
data[j:j + 8 + jsize] = chunk + b"JUNK" + struct.pack("<I", rest) + bytes(rest)
open(p, "wb").write(data)

# Broadcast WAVE: bext OriginationDate/OriginationTime (local, no zone)
ff_a = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
        "-i", "sine=sample_rate=8000", "-t", "0.2", "-write_bext", "1"]
subprocess.run(ff_a + ["-metadata", "origination_date=2012-09-10", "-metadata",
                       "origination_time=20:52:00", path("bwf.wav")], check=True)

# Matroska DateUTC with nanoseconds (ffmpeg writes whole microseconds)
p = path("dateutc.mkv")
ff("-metadata", "creation_time=2012-09-10T20:52:00Z", p)
data = bytearray(open(p, "rb").read())
k = data.find(b"\x44\x61\x88")
assert k > 0
ns = (1347310320 - 978307200) * 1000000000 + 123456789
struct.pack_into(">q", data, k + 3, ns)
open(p, "wb").write(data)
facts["dateutc.mkv"] = {"DateUTC_ns": ns}
ff("-metadata", "creation_time=2012-09-10T20:52:00Z", "-metadata",
   "DATE_RECORDED=2012-09-10T22:52:00", path("recorded.mkv"))
ff("-metadata", "DATE_RECORDED=2012-09-10T22:52:00+02:00", path("recorded_tz.mkv"))

# Hostile variants: a position out of range, a size that lies, text that is
# no date (all still opened by libavformat, so the capture facts are made)
mp4_with("bad_loci.mp4", loci_box(91 * 65536, LON, ALT), 0)  # latitude out of range
mp4_with("bad_udta.mp4", loci_box(LAT, LON, ALT), 2082844800 + 1347310320)
data = bytearray(open(path("bad_udta.mp4"), "rb").read())
h, p_, e = find(data, [b"moov", b"udta"])
struct.pack_into(">I", data, h, 0xFFFFFFF0)  # claims more than moov holds
open(path("bad_udta.mp4"), "wb").write(data)
data = bytearray(open(path("idit.avi"), "rb").read())
k = data.find(b"Mon Sep 10 20:52:00 2012")
data[k:k + 24] = b"Xyz Foo 99 99:99:99 0000"
open(path("bad_idit.avi"), "wb").write(data)

json.dump(facts, sys.stdout)
