#!/usr/bin/env python3
"""Write a DAV-structured file (Dahua "DHAV" frames) around a raw H.264 stream.

Provenance: the layout follows what FFmpeg 5.1's `dhav` demuxer reads
(libavformat/dhav.c: read_chunk, parse_ext, get_timeinfo, get_pts,
dhav_read_packet). No vendor sample or document was used. One frame:

  "DHAV" type(1) subtype(1) channel(1) frame_subnumber(1)
  frame_number(u32le) frame_length(u32le) date(u32le)
  timestamp(u16le, ms) ext_length(u8) checksum(u8)
  ext: 0x81 0 codec fps (codec 2 = H.264), 0x80 0 width/8 height/8
  payload (one H.264 access unit)
  "dhav" frame_length(u32le)

frame_length counts everything from "DHAV" to the trailer's end. type 0xfd is
a video key frame, 0xfc another video frame. date packs camera-local time:
sec | min<<6 | hour<<12 | day<<17 | month<<22 | (year-2000)<<26. FFmpeg
turns it into pts in ms: the stamp's second, plus the ms counter's steps
within that second.

Usage: mkdav.py IN.h264 OUT.dav --fps 25 --start 2026-03-01T10:00:00
         [--cut FRAME:SECONDS]...   frames from FRAME on are stamped SECONDS later
         [--back FRAME:SECONDS]...  same, SECONDS earlier (stamps out of order)
         [--zero-date FRAME]...     frame FRAME has date 0 (an impossible date)
         [--damage FRAME]...        frame FRAME's "DHAV" magic is broken
         [--badlen FRAME]           frame FRAME's frame_length is 5 (< 24)
         [--cut-every N:SECONDS]    a cut of SECONDS before every N-th frame
"""
import argparse
import datetime
import struct
import sys


def access_units(data):
    """Split an Annex B H.264 stream at access unit delimiters (NAL type 9)."""
    starts = []
    i = 0
    n = len(data)
    while True:
        j = data.find(b"\x00\x00\x01", i)
        if j < 0:
            break
        if j + 3 < n and (data[j + 3] & 0x1F) == 9:
            s = j - 1 if j > 0 and data[j - 1] == 0 else j
            starts.append(s)
        i = j + 3
    if not starts:
        sys.exit("mkdav: no access unit delimiters (encode with -bsf:v h264_metadata=aud=insert)")
    starts.append(n)
    return [data[starts[k]:starts[k + 1]] for k in range(len(starts) - 1)]


def is_key(au):
    i = 0
    while True:
        j = au.find(b"\x00\x00\x01", i)
        if j < 0 or j + 3 >= len(au):
            return False
        if au[j + 3] & 0x1F == 5:
            return True
        i = j + 3


def pack_date(t):
    return (t.second | t.minute << 6 | t.hour << 12 | t.day << 17 | t.month << 22 |
            (t.year - 2000) << 26)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--start", default="2026-03-01T10:00:00")
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--height", type=int, default=48)
    ap.add_argument("--cut", action="append", default=[])
    ap.add_argument("--back", action="append", default=[])
    ap.add_argument("--zero-date", type=int, action="append", default=[])
    ap.add_argument("--damage", type=int, action="append", default=[])
    ap.add_argument("--badlen", type=int, default=-1)
    ap.add_argument("--cut-every", default=None)
    a = ap.parse_args()
    aus = access_units(open(a.inp, "rb").read())
    shifts = {}
    for spec, sign in [(c, 1) for c in a.cut] + [(b, -1) for b in a.back]:
        f, s = spec.split(":")
        shifts[int(f)] = shifts.get(int(f), 0.0) + sign * float(s)
    if a.cut_every:
        n, sec = a.cut_every.split(":")
        for f in range(int(n), len(aus), int(n)):
            shifts[f] = shifts.get(f, 0.0) + float(sec)
    start = datetime.datetime.fromisoformat(a.start)
    offset = 0.0
    out = bytearray()
    for k, au in enumerate(aus):
        offset += shifts.get(k, 0.0)
        ms_total = round(k * 1000.0 / a.fps + offset * 1000.0)
        t = start + datetime.timedelta(milliseconds=ms_total)
        date = 0 if k in a.zero_date else pack_date(t)
        ms = ms_total % 65536
        ext = bytes([0x81, 0, 0x2, int(round(a.fps)) & 0xFF,
                     0x80, 0, a.width // 8, a.height // 8])
        head_len = 24 + len(ext)
        frame_length = head_len + len(au) + 8
        typ = 0xFD if (k == 0 or is_key(au)) else 0xFC
        hdr = b"DHAV" + struct.pack("<BBBBIII", typ, 0, 0, 0, k, frame_length, date)
        hdr += struct.pack("<HBB", ms, len(ext), 0) + ext
        if k in a.damage:
            hdr = b"DXAV" + hdr[4:]
        if k == a.badlen:
            hdr = hdr[:12] + struct.pack("<I", 5) + hdr[16:]
        out += hdr + au + b"dhav" + struct.pack("<I", frame_length)
    open(a.out, "wb").write(out)


if __name__ == "__main__":
    main()
