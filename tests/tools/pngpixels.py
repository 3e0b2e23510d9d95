#!/usr/bin/env python3
"""Colours of a screenshot, for the tests of the HTML pages.

    pngpixels.py PNG RRGGBB

Prints "WIDTH HEIGHT NEAR INK LAST": the pixels near the colour RRGGBB (the
sum of the differences of R, G and B under 40), those that are not white
(R+G+B under 600), and the last pixel row with such ink (-1 when none). Reads 8-bit RGB or RGBA PNGs without interlacing, as headless
Chromium writes them. Standard library only.
"""
import struct, sys, zlib
def pixels(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, "unsupported PNG"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, prev, out = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(line)
        prev = line
    return w, h, bpp, out
w, h, bpp, rows = pixels(sys.argv[1])
want = tuple(int(sys.argv[2][i:i + 2], 16) for i in (0, 2, 4))
near = ink = 0
last = -1
for y, line in enumerate(rows):
    for x in range(0, w * bpp, bpp):
        r, g, b = line[x], line[x + 1], line[x + 2]
        if abs(r - want[0]) + abs(g - want[1]) + abs(b - want[2]) < 40: near += 1
        if r + g + b < 600:
            ink += 1
            last = y
print(w, h, near, ink, last)
