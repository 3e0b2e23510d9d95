#!/bin/bash
# What libmagic's options would change in the content types pack records,
# and what they cost (docs/performance.md, "Pack per file (issue 14)").
# Makes a corpus (random bytes, JPEG, PNG, GIF, TIFF, WebP, BMP, MP4, MOV,
# MKV, AVI, TS, raw H.264, WAV, MP3, FLAC, Ogg, M4A, PDF, ZIP, docx, odt,
# gzip, tar, ELF, text, UTF-8, CSV, JSON, HTML, XML, SVG, scripts), types
# each file with and without each option (bench/magic_options.c), and, when
# valgrind is there, counts libmagic's instructions per call for each group
# of files (load-independent, unlike the times in the table).
#
#   bash bench/magic_options.sh [OUTDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(mktemp -d /tmp/magic_options.XXXXXX)}
mkdir -p "$out/corpus"
c=$out/corpus
python3 - "$c" <<'PY'
import gzip, io, json, os, random, sys, tarfile, zipfile
c = sys.argv[1]
r = random.Random(14)
def w(n, b):
    open(os.path.join(c, n), "wb").write(b)
rb = lambda n: bytes(r.getrandbits(8) for _ in range(n))
for i in range(40): w("rand100-%02d.bin" % i, rb(100))
for i in range(10): w("rand16k-%02d.bin" % i, rb(20000))
w("text-witness.txt", b"Statement of witness\nI saw the car at 10:42.\n" * 20)
w("text-short.txt", b"hello\n")
w("text-utf8.txt", "Zeugenaussage: Strasse, caf\u00e9, na\u00efve\n".encode() * 10)
w("text-data.json", json.dumps({"a": [1, 2, 3], "b": "x"}).encode())
w("text-data.csv", b"a,b,c\n1,2,3\n4,5,6\n7,8,9\n")
w("text-page.html", b"<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>\n")
w("text-doc.xml", b'<?xml version="1.0"?><root><a/></root>\n')
w("text-img.svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>\n')
w("text-script.sh", b"#!/bin/sh\necho hi\n")
w("text-script.py", b"#!/usr/bin/env python3\nprint('hi')\n")
w("doc-min.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
b = io.BytesIO(); z = zipfile.ZipFile(b, "w"); z.writestr("a.txt", "hello"); z.close(); w("doc-a.zip", b.getvalue())
b = io.BytesIO(); z = zipfile.ZipFile(b, "w")
z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"></Types>')
z.writestr("_rels/.rels", "<x/>"); z.writestr("word/document.xml", "<w/>"); z.close(); w("doc-w.docx", b.getvalue())
b = io.BytesIO(); z = zipfile.ZipFile(b, "w"); z.writestr("mimetype", "application/vnd.oasis.opendocument.text"); z.writestr("content.xml", "<x/>"); z.close(); w("doc-o.odt", b.getvalue())
w("doc-a.gz", gzip.compress(b"hello" * 100))
b = io.BytesIO(); t = tarfile.open(fileobj=b, mode="w"); ti = tarfile.TarInfo("x"); ti.size = 5; t.addfile(ti, io.BytesIO(b"hello")); t.close(); w("doc-a.tar", b.getvalue())
w("doc-elf", open("/bin/true", "rb").read())
w("odd-zeros.bin", bytes(5000))
w("odd-ff.bin", b"\xff" * 300)
w("odd-jpghead.bin", b"\xff\xd8\xff" + rb(97))
w("odd-mz.bin", b"MZ" + rb(98))
w("odd-e9.bin", b"\xe9" + rb(99))
w("odd-ascii.bin", bytes(r.randrange(32, 127) for _ in range(200)))
PY
if command -v ffmpeg >/dev/null; then
    f() { ffmpeg -nostdin -v error -y "$@"; }
    for x in jpg png gif bmp tiff webp; do f -f lavfi -i testsrc=size=64x48:rate=1 -frames:v 1 "$c/img-t.$x"; done
    for x in mp4 mov; do f -f lavfi -i testsrc=size=64x48:rate=10 -f lavfi -i sine=d=1 -t 1 -c:v libx264 -c:a aac "$c/clip-t.$x"; done
    for x in mkv ts; do f -f lavfi -i testsrc=size=64x48:rate=10 -t 1 -c:v libx264 "$c/clip-t.$x"; done
    f -f lavfi -i testsrc=size=64x48:rate=10 -t 1 "$c/clip-t.avi"
    f -f lavfi -i testsrc=size=64x48:rate=10 -t 1 -c:v libx264 -f h264 "$c/clip-t.h264"
    for x in wav mp3 flac ogg; do f -f lavfi -i sine=d=1 "$c/snd-t.$x"; done
    f -f lavfi -i sine=d=1 -c:a aac "$c/snd-t.m4a"
fi
cc -O2 -o "$out/magic_options" "$here/magic_options.c" -lmagic
echo "corpus: $(ls "$c" | wc -l) files in $c"
"$out/magic_options" "$c" 5
if command -v valgrind >/dev/null; then
    echo
    echo "instructions per magic_buffer call (callgrind; option: number in the table, from 0)"
    count() {
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$out/magic_options" "$c" "$@" 2>&1 |
            awk '/refs:/ { gsub(",", "", $4); print $4 }'
    }
    base=$(count 1 none- 0)
    for g in rand100 rand16k img clip snd doc text odd; do
        n=$(ls "$c" | grep -c "^$g-" || true)
        [ "$n" -gt 0 ] || continue
        line="$g ($n files):"
        for k in 0 2 3 7 8 9 10 11; do
            i=$(count 2 "$g-" "$k")
            line="$line  [$k] $(( (i - base) / (n * 2) ))"
        done
        echo "$line"
    done
fi
