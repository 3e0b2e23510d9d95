#!/usr/bin/env python3
"""Write small hostile media files for the media robustness tests.

usage: scripts/media-hostile.py OUTDIR

Every file is built byte by byte here (python3 standard library only) and
each one lies about its size in a different way:
  streams_300.mkv   Matroska with 300 audio tracks
  streams_300.avi   AVI with 300 stream headers, avih claiming 10^9 streams
  streams_200.ts    MPEG-TS whose PMT lists 200 elementary streams
  frames_1e9.mp4    MP4 whose sample table claims 10^9 samples in one chunk
  frames_1e9.avi    AVI whose header claims 10^9 frames and whose idx1
                    claims 10^8 entries
  stsz_1e9.mp4      MP4 whose stsz box claims 10^9 sample sizes
  deep_atoms.mp4    MP4 with atoms nested 2000 deep
  deep_ebml.mkv     Matroska with elements nested 2000 deep (unknown sizes)
  huge_chunk.avi    AVI with a 4 GiB chunk size in a 1 KiB file
"""
import os
import struct
import sys
import zlib

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


# --- Matroska ----------------------------------------------------------------

def vint_size(n):
    for length in range(1, 9):
        if n < (1 << (7 * length)) - 1:
            return bytes([(1 << (8 - length)) | (n >> (8 * (length - 1)))]) + \
                n.to_bytes(length, "big")[1:] if length > 1 else bytes([0x80 | n])
    raise ValueError(n)


def ebml(eid, payload):
    return bytes.fromhex(eid) + vint_size(len(payload)) + payload


def uint(eid, v):
    return ebml(eid, v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big"))


def ebml_header():
    return ebml("1A45DFA3", uint("4286", 1) + uint("42F7", 1) + uint("42F2", 4) +
                uint("42F3", 8) + ebml("4282", b"matroska") + uint("4287", 4) +
                uint("4285", 2))


def mkv_streams():
    tracks = b""
    for n in range(1, 301):
        audio = ebml("E1", ebml("B5", struct.pack(">d", 8000.0)) + uint("9F", 1) +
                     uint("6264", 16))
        tracks += ebml("AE", uint("D7", n) + uint("73C5", n) + uint("83", 2) +
                       ebml("86", b"A_PCM/INT/LIT") + audio)
    info = ebml("1549A966", uint("2AD7B1", 1000000))
    block = ebml("A3", b"\x81\x00\x00\x80" + b"\x00\x01" * 80)
    cluster = ebml("1F43B675", uint("E7", 0) + block)
    seg = ebml("18538067", info + ebml("1654AE6B", tracks) + cluster)
    write("streams_300.mkv", ebml_header() + seg)


def mkv_deep():
    # unknown-size elements (size 0x01FFFFFFFFFFFFFF) nested deeply
    unknown = b"\x01\xff\xff\xff\xff\xff\xff\xff"
    body = bytes.fromhex("18538067") + unknown
    body += (bytes.fromhex("1F43B675") + unknown) * 2000
    write("deep_ebml.mkv", ebml_header() + body)


# --- AVI ------------------------------------------------------------------------

def chunk(fourcc, payload):
    pad = b"\x00" if len(payload) & 1 else b""
    return fourcc + struct.pack("<I", len(payload)) + payload + pad


def riff_list(kind, payload):
    return chunk(b"LIST", kind + payload)


def avih(total_frames, streams):
    return chunk(b"avih", struct.pack("<10I4I", 40000, 0, 0, 0x10, total_frames, 0, streams,
                                      0, 64, 48, 0, 0, 0, 0))


def strl_audio():
    strh = chunk(b"strh", b"auds" + struct.pack("<II2H8I4h", 0, 0, 0, 0, 0, 1, 8000, 0, 8000,
                                                 0, 0xFFFFFFFF, 2, 0, 0, 0, 0))
    strf = chunk(b"strf", struct.pack("<HHIIHHH", 1, 1, 8000, 16000, 2, 16, 0))
    return riff_list(b"strl", strh + strf)


def avi_streams():
    hdrl = riff_list(b"hdrl", avih(8000, 10**9) + strl_audio() * 300)
    movi = riff_list(b"movi", chunk(b"00wb", b"\x00\x01" * 100))
    write("streams_300.avi", chunk(b"RIFF", b"AVI " + hdrl + movi))


def avi_frames():
    hdrl = riff_list(b"hdrl", avih(10**9, 1) + strl_audio())
    movi = riff_list(b"movi", chunk(b"00wb", b"\x00\x01" * 100))
    # an idx1 that claims 10^8 entries (16 bytes each) but holds two
    entries = struct.pack("<4sIII", b"00wb", 0x10, 4, 200) * 2
    idx1 = b"idx1" + struct.pack("<I", 16 * 10**8) + entries
    write("frames_1e9.avi", chunk(b"RIFF", b"AVI " + hdrl + movi) + idx1)


def avi_huge_chunk():
    hdrl = riff_list(b"hdrl", avih(10, 1) + strl_audio())
    movi = b"LIST" + struct.pack("<I", 0xFFFFFFF0) + b"movi" + b"00wb" + \
        struct.pack("<I", 0xFFFFFFF0) + b"\x00" * 900
    write("huge_chunk.avi", chunk(b"RIFF", b"AVI " + hdrl) + movi)


# --- MPEG-TS --------------------------------------------------------------------

def crc32_mpeg(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else (crc << 1)
            crc &= 0xFFFFFFFF
    return crc


def section(table_id, ext, body):
    length = 5 + len(body) + 4
    head = bytes([table_id, 0xB0 | (length >> 8), length & 0xFF]) + \
        struct.pack(">H", ext) + b"\xC1\x00\x00"
    sec = head + body
    return sec + struct.pack(">I", crc32_mpeg(sec))


def ts_packet(pid, payload, start, cc):
    head = bytes([0x47, (0x40 if start else 0) | (pid >> 8), pid & 0xFF, 0x10 | (cc & 15)])
    data = (b"\x00" + payload) if start else payload
    return head + data + b"\xFF" * (184 - len(data))


def ts_streams():
    pat = section(0, 1, struct.pack(">HH", 1, 0xE000 | 0x1000))
    es = b""
    for i in range(200):
        es += bytes([0x03]) + struct.pack(">HH", 0xE000 | (0x100 + i), 0xF000)
    pmt = section(2, 1, struct.pack(">HH", 0xE000 | 0x100, 0xF000) + es)
    data = b""
    cc = 0
    for _ in range(3):
        data += ts_packet(0, pat, True, cc)
        # the PMT is longer than one packet: split
        p1, p2 = pmt[:183], pmt[183:]
        data += ts_packet(0x1000, p1, True, cc)
        rest = p2
        k = 1
        while rest:
            data += ts_packet(0x1000, rest[:184], False, cc + k)
            rest = rest[184:]
            k += 1
        cc = (cc + k) & 15
    write("streams_200.ts", data)


# --- MP4 --------------------------------------------------------------------------

def box(kind, payload):
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def fullbox(kind, payload, version=0, flags=0):
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def mp4_sound(stsz, samples_per_chunk, stts_count):
    mvhd = fullbox(b"mvhd", struct.pack(">IIII", 0, 0, 8000, stts_count) +
                   b"\x00\x01\x00\x00\x01\x00" + b"\x00" * 10 +
                   struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000) +
                   b"\x00" * 24 + struct.pack(">I", 2))
    tkhd = fullbox(b"tkhd", struct.pack(">IIIII", 0, 0, 1, 0, stts_count) + b"\x00" * 8 +
                   struct.pack(">hhhh", 0, 0, 0x100, 0) +
                   struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000) +
                   struct.pack(">II", 0, 0), flags=3)
    mdhd = fullbox(b"mdhd", struct.pack(">IIII", 0, 0, 8000, stts_count) + b"\x55\xc4\x00\x00")
    hdlr = fullbox(b"hdlr", b"\x00" * 4 + b"soun" + b"\x00" * 12 + b"snd\x00")
    entry = struct.pack(">I", 0) + b"\x00\x00\x00\x00\x00\x00" + struct.pack(">H", 1) + \
        b"\x00" * 8 + struct.pack(">HHHH", 1, 16, 0, 0) + struct.pack(">I", 8000 << 16)
    stsd = fullbox(b"stsd", struct.pack(">I", 1) + box(b"sowt", entry[4:]))
    stts = fullbox(b"stts", struct.pack(">III", 1, stts_count, 1))
    stsc = fullbox(b"stsc", struct.pack(">IIII", 1, 1, samples_per_chunk, 1))
    stco = fullbox(b"stco", struct.pack(">II", 1, 0))  # patched below
    stbl = box(b"stbl", stsd + stts + stsc + stsz + stco)
    dinf = box(b"dinf", fullbox(b"dref", struct.pack(">I", 1) + fullbox(b"url ", b"", flags=1)))
    minf = box(b"minf", fullbox(b"smhd", b"\x00" * 4) + dinf + stbl)
    moov = box(b"moov", mvhd + box(b"trak", tkhd + box(b"mdia", mdhd + hdlr + minf)))
    ftyp = box(b"ftyp", b"isom\x00\x00\x02\x00isommp41")
    mdat = box(b"mdat", b"\x00\x01" * 200)
    head = ftyp + moov
    off = len(head) + 8
    moov = moov.replace(b"stco" + b"\x00" * 4 + struct.pack(">II", 1, 0),
                        b"stco" + b"\x00" * 4 + struct.pack(">II", 1, off))
    return ftyp + moov + mdat


def mp4_files():
    # constant-size samples: 10^9 of them claimed in one chunk
    stsz = fullbox(b"stsz", struct.pack(">II", 2, 10**9))
    write("frames_1e9.mp4", mp4_sound(stsz, 10**9, 10**9))
    # variable sizes: a table of 10^9 sizes that is not there
    stsz = fullbox(b"stsz", struct.pack(">II", 0, 10**9) + b"\x00\x00\x00\x02" * 4)
    write("stsz_1e9.mp4", mp4_sound(stsz, 4, 4))
    # deep nesting
    inner = b""
    for _ in range(2000):
        inner = box(b"moov", inner) if len(inner) < 2**31 - 16 else inner
    write("deep_atoms.mp4", box(b"ftyp", b"isom\x00\x00\x02\x00isom") + inner)


mkv_streams()
mkv_deep()
avi_streams()
avi_frames()
avi_huge_chunk()
ts_streams()
mp4_files()
