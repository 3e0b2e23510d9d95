#!/bin/bash
# A remux of damaged input is refused (exit 3), names the file, what is wrong
# where and what to do, and leaves nothing at OUT; intact files still remux,
# with the source's SHA-256 (now taken from the bytes the demuxer reads) equal
# to sha256sum's, whatever order the demuxer reads the file in.
# Damage: MP4 truncated in the middle (faststart, and index at the end), MP4
# whose mdat runs "to the end of the file" and is cut short, Matroska cut
# short (known and unknown segment size), bytes overwritten in an H.264 NAL
# length, in a Matroska element header, and in a packet's payload inside a
# Matroska Cluster protected by a CRC-32.
. "$(dirname "$0")/lib.sh"
export EVIDENCE_PROFILE_PATH=$EV_SOURCE_DIR/profiles
FF="ffmpeg -nostdin -hide_banner -v error -y"
cd "$T" || die "no scratch folder"

# small pictures: many packets, most of them a few hundred bytes
$FF -f lavfi -i testsrc2=size=160x120:rate=25 -f lavfi -i sine=sample_rate=48000 -t 4 \
    -c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p -c:a aac -b:a 64k \
    -movflags +faststart fs.mp4 || die "fixture"
$FF -i fs.mp4 -map 0 -c copy end.mp4 || die "fixture"          # moov after mdat
$FF -i fs.mp4 -map 0 -c copy src.mkv || die "fixture"          # CRC-32 in every cluster
$FF -i fs.mp4 -map 0 -c copy -f matroska - 2>/dev/null | cat >live.mkv # segment size unknown
[ -s live.mkv ] || die "fixture live.mkv"

nothing_left() {
    ok "no output for $1" test ! -e "$1"
    ok "no record for $1" test ! -e "$1.derivation.json"
    ok "no temporary file for $1" bash -c '! ls -a | grep -q partial'
}

# refused NAME IN OUT PATTERN [transcode options]: exit 3, the message names the
# file, says damaged, matches PATTERN, says what to do; nothing left
refused() {
    local name=$1 in=$2 out=$3 pat=$4
    shift 4
    expect_exit 3 "$EVIDENCE" transcode "$@" "$in" "$out"
    ok "$name: damage named" grep -q "'$in' is damaged" "$ERR"
    ok "$name: what and where ($pat)" grep -q -E "$pat" "$ERR"
    ok "$name: what to do" grep -q "master profile" "$ERR"
    nothing_left "$out"
}

# --- intact files: no false refusal; the source hash is the file's -------
for f in fs.mp4 end.mp4 src.mkv live.mkv; do
    for p in remux-mp4 remux-mkv; do
        for v in "" --no-verify; do
            out=ok-$p$v-$f.out
            expect_exit 0 "$EVIDENCE" transcode $v --profile "$p" "$f" "$out"
            ok "$f via $p $v: source SHA-256" \
                test "$(json_get "$out.derivation.json" source.sha256)" = "$(sha256sum "$f" | cut -d' ' -f1)"
            ok "$f via $p $v: source size" \
                test "$(json_get "$out.derivation.json" source.size)" = "$(stat -c %s "$f")"
        done
    done
done
ok "intact remux verified" test "$(json_get ok-remux-mp4-src.mkv.out.derivation.json verification.verdict)" = pass

# --- truncated in the middle ------------------------------------------------
python3 - <<'PY' || die "fixture"
for n in ["fs.mp4", "end.mp4", "src.mkv", "live.mkv"]:
    d = open(n, "rb").read()
    open("cut-" + n, "wb").write(d[: len(d) // 2])
PY
for p in remux-mp4 remux-mkv; do
    refused "faststart MP4 cut ($p)" cut-fs.mp4 o1.out "truncated: box 'mdat' at byte [0-9]+" --profile $p
    refused "moov-at-end MP4 cut ($p)" cut-end.mp4 o2.out "truncated: box 'mdat' at byte [0-9]+" --profile $p
    refused "Matroska cut ($p)" cut-src.mkv o3.out "truncated: its Matroska segment ends at byte [0-9]+" --profile $p
    refused "Matroska, no segment size, cut ($p)" cut-live.mkv o4.out \
        "truncated: Matroska (Cluster|SimpleBlock|BlockGroup) claims [0-9]+ bytes.* at byte [0-9]+" --profile $p --no-verify
done

# --- an index that points past the end: mdat "to the end of the file", cut --
python3 - <<'PY' || die "fixture"
import struct
d = bytearray(open("fs.mp4", "rb").read())
pos = 0
while pos < len(d):
    size, kind = struct.unpack(">I4s", d[pos:pos + 8])
    if kind == b"mdat":
        d[pos:pos + 4] = b"\0\0\0\0"      # size 0: the box extends to the end of the file
        break
    pos += size
else:
    raise SystemExit("no mdat")
open("open-mdat.mp4", "wb").write(d)      # still intact
open("cut-open-mdat.mp4", "wb").write(d[: pos + (len(d) - pos) // 2])
PY
expect_exit 0 "$EVIDENCE" transcode --profile remux-mkv open-mdat.mp4 open-ok.mkv
refused "mdat to EOF, cut" cut-open-mdat.mp4 o5.out \
    "stream #[01] \((h264|aac)\), sample [0-9]+ of [0-9]+ lies at bytes [0-9]+-[0-9]+, but the file ends at byte [0-9]+" \
    --profile remux-mkv

# --- corrupted bytes ----------------------------------------------------------
# packets from ffprobe (its CSV order: stream, size, pos)
ffprobe -v error -show_entries packet=stream_index,pos,size -of csv=p=0 fs.mp4 >fs.pkts || die "ffprobe"
ffprobe -v error -show_entries packet=stream_index,pos,size -of csv=p=0 src.mkv >mkv.pkts || die "ffprobe"
python3 - <<'PY' || die "fixture"
def pkts(name):
    out = []
    for l in open(name):
        if l.strip():
            s, size, pos = (int(x) for x in l.split(",")[:3])
            out.append((s, pos, size))
    return out
# MP4: the length of the first NAL unit of a video packet in the middle
v = [p for p in pkts("fs.pkts") if p[0] == 0]
s, pos, size = v[len(v) // 2]
d = bytearray(open("fs.mp4", "rb").read())
d[pos:pos + 4] = b"\xff\xff\xff\xff"
open("nal.mp4", "wb").write(d)
open("nal.pos", "w").write(str(pos))
# Matroska: a packet's element header zeroed (the bytes just before its data)
v = [p for p in pkts("mkv.pkts") if p[0] == 0]
s, pos, size = v[len(v) // 2]
d = bytearray(open("src.mkv", "rb").read())
d[pos - 8:pos] = bytes(8)
open("hdr.mkv", "wb").write(d)
# Matroska: payload bytes inside the largest video packet of the second half
# (the structure stays intact; the cluster's CRC-32 no longer matches)
s, pos, size = max(v[len(v) // 2:], key=lambda p: p[2])
d = bytearray(open("src.mkv", "rb").read())
for i in range(pos + size // 3, pos + size // 3 + 64):
    d[i] ^= 0x5A
open("payload.mkv", "wb").write(d)
PY
for p in remux-mp4 remux-mkv; do
    refused "NAL length overwritten ($p)" nal.mp4 o6.out \
        "stream #0 \(h264\), packet [0-9]+ at byte $(cat nal.pos): NAL unit 0 claims 4294967295 bytes" --profile $p
    refused "Matroska element header zeroed ($p)" hdr.mkv o7.out \
        "(invalid Matroska element ID|unexpected Matroska element).* at byte [0-9]+" --profile $p --no-verify
    nv=""; [ $p = remux-mp4 ] && nv=--no-verify # checked with and without verification
    refused "Matroska payload changed ($p $nv)" payload.mkv o8.out \
        "Matroska Cluster fails its CRC-32 check.*starts at byte [0-9]+" --profile $p $nv
done

# the master profile keeps a damaged file as it is (what the message advises)
expect_exit 0 "$EVIDENCE" transcode --profile master cut-src.mkv kept.mkv
ok "master keeps the damaged bytes" cmp -s cut-src.mkv kept.mkv
finish
