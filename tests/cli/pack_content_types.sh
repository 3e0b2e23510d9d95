# The content type pack records (item.mime) is libmagic's, the same as
# `file --mime-type -b` gives, for a varied set of files: text, CSV, JSON,
# XML, HTML, scripts, UTF-16, PDF, ZIP, gzip, bzip2, xz, tar, SQLite, ELF,
# random bytes, empty files and media made by ffmpeg. Enough files that the
# types are found by several threads (docs/performance.md).
# And which files get a media probe (docs/content-hashes.md, "Which files
# are probed"): random bytes named .bin are not probed (no media in the
# record); raw H.264 (octet-stream to libmagic) is, by its name and, renamed,
# by its content; random bytes under a name a demuxer claims (.dat, .264)
# still are.
. "$(dirname "$0")/lib.sh"

command -v file >/dev/null || { skip_case "file(1) missing"; finish; }
S="$T/src"
mkdir -p "$S"
python3 - "$S" <<'PY' || die "cannot make the files"
import bz2, gzip, io, json, lzma, os, random, sqlite3, sys, tarfile, zipfile
s = sys.argv[1]
random.seed(11)
def w(name, data):
    with open(os.path.join(s, name), "wb") as f:
        f.write(data)
words = "the witness saw a grey van leave the car park at about ten past nine".split()
for k in range(24):  # 24 variants of each kind: several threads' worth
    text = "\n".join(" ".join(random.choice(words) for _ in range(8 + k)) for _ in range(5 + k)) + "\n"
    w("t%02d.txt" % k, text.encode())
    w("t%02d.csv" % k, "".join("%d,%s,%d\n" % (i, random.choice(words), i * k) for i in range(6 + k)).encode())
    w("t%02d.json" % k, json.dumps({"case": k, "items": [random.choice(words) for _ in range(k + 2)]}).encode())
    w("t%02d.xml" % k, ('<?xml version="1.0"?>\n<r n="%d">%s</r>\n' % (k, text)).encode())
    w("t%02d.html" % k, ("<!DOCTYPE html>\n<html><head><title>%d</title></head><body><p>%s</p></body></html>\n" % (k, text)).encode())
    w("t%02d.sh" % k, ("#!/bin/sh\necho %d\n" % k).encode())
    w("t%02d.py" % k, ("#!/usr/bin/env python3\nprint(%d)\n" % k).encode())
    w("u%02d.txt" % k, ("\ufeff" + text).encode("utf-16-le"))
    w("d%02d.pdf" % k, ("%%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%%%EOF\n%d\n" % k).encode())
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("a%d.txt" % k, text)
    w("a%02d.zip" % k, b.getvalue())
    w("a%02d.gz" % k, gzip.compress(text.encode()))
    w("a%02d.bz2" % k, bz2.compress(text.encode()))
    w("a%02d.xz" % k, lzma.compress(text.encode()))
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w") as t:
        ti = tarfile.TarInfo("x%d.txt" % k)
        ti.size = len(text)
        t.addfile(ti, io.BytesIO(text.encode()))
    w("a%02d.tar" % k, b.getvalue())
    w("r%02d.bin" % k, random.randbytes(random.choice([1, 100, 1000, 5000, 16384, 40000])))
    w("r%02d" % k, random.randbytes(100 + k))
    w("e%02d.txt" % k, b"")
for k in range(3):
    p = os.path.join(s, "db%d.sqlite" % k)
    c = sqlite3.connect(p)
    c.execute("create table t (a)")
    c.execute("insert into t values (%d)" % k)
    c.commit()
    c.close()
w("random.dat", random.randbytes(3000))
w("random.264", random.randbytes(3000))
PY
cp /bin/true "$S/true.elf" 2>/dev/null || true
if command -v ffmpeg >/dev/null; then
    ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
    ff -f lavfi -i testsrc2=size=64x48 -frames:v 1 "$S/m.jpg"
    ff -f lavfi -i testsrc2=size=64x48 -frames:v 1 "$S/m.png"
    ff -f lavfi -i testsrc2=size=64x48:rate=25 -t 0.4 -c:v libx264 "$S/m.mp4"
    ff -f lavfi -i testsrc2=size=64x48:rate=25 -t 0.4 -c:v mjpeg "$S/m.avi"
    ff -f lavfi -i testsrc2=size=64x48:rate=25 -t 0.4 -c:v libx264 "$S/m.mkv"
    ff -f lavfi -i testsrc2=size=64x48:rate=25 -t 0.4 -c:v libx264 -f mpegts "$S/m.ts"
    ff -f lavfi -i testsrc2=size=64x48:rate=25 -t 0.4 -c:v libx264 -f h264 "$S/m.h264"
    cp "$S/m.h264" "$S/h264-renamed"
    ff -f lavfi -i sine=d=0.3 "$S/m.wav"
    ff -f lavfi -i sine=d=0.3 -c:a libmp3lame "$S/m.mp3"
    ff -f lavfi -i sine=d=0.3 -c:a flac "$S/m.flac"
fi

expect_exit 0 "$EVIDENCE" pack -o "$T/b.zip" "$S"
unzip -p "$T/b.zip" b/evidence.json >"$T/rec.json" || die "no record"
python3 - "$T/rec.json" "$S" >"$T/types" <<'PY' || die "cannot read the record"
import json, os, sys
for it in json.load(open(sys.argv[1]))["items"]:
    name = os.path.basename(it["original_path"])
    m = it.get("media")
    print(name, it["mime"], "none" if m is None else m.get("kind", "?"))
PY
n=0
bad=0
while read -r name mime kind; do
    n=$((n + 1))
    # file(1) over the first 16 KiB, the bytes pack gives libmagic (a guess
    # such as "DOS executable (COM)" for random bytes that start with a jump
    # opcode depends on the size of the whole file)
    want=$(head -c 16384 "$S/$name" | file --mime-type -b -)
    # two known differences, kept: an empty file is application/x-empty in
    # the record (inode/x-empty is not a content type); libmagic tells a PIE
    # executable from a shared library only from a file descriptor (the
    # dynamic section), and pack gives it the first bytes
    [ "$want" = inode/x-empty ] && want=application/x-empty
    [ "$want" = application/x-pie-executable ] && want=application/x-sharedlib
    if [ "$want" != "$mime" ]; then
        bad=$((bad + 1))
        note "$name: recorded $mime, file(1) says $want"
    fi
done <"$T/types"
ok "the record has every file ($n)" test "$n" -ge 400
ok "every recorded type is file(1)'s" test "$bad" = 0
kind_of() { awk -v n="$1" '$1 == n { print $3 }' "$T/types"; }
ok "random bytes named .bin: not probed" test "$(kind_of r03.bin)" = none
ok "random bytes without a name: not probed" test "$(kind_of r05)" = none
ok "random bytes named .dat (a CCTV extension): probed" test "$(kind_of random.dat)" != none
ok "random bytes named .264: probed" test "$(kind_of random.264)" != none
ok "text: not probed" test "$(kind_of t01.txt)" = none
ok "zip: not probed" test "$(kind_of a01.zip)" = none
if [ -f "$S/m.h264" ]; then
    ok "raw H.264 is octet-stream to libmagic" test "$(awk '$1 == "m.h264" { print $2 }' "$T/types")" = application/octet-stream
    ok "raw H.264 named .h264: video" test "$(kind_of m.h264)" = video
    ok "raw H.264 without a known name: video (by its content)" test "$(kind_of h264-renamed)" = video
    ok "MP4: video" test "$(kind_of m.mp4)" = video
    ok "MPEG-TS: video" test "$(kind_of m.ts)" = video
    ok "WAV: audio" test "$(kind_of m.wav)" = audio
    ok "JPEG: image" test "$(kind_of m.jpg)" = image
fi
expect_exit 0 "$EVIDENCE" verify "$T/b.zip"
finish
