#!/bin/bash
# The derivation record's location is what the copy really holds: each copy
# is read back independently (exiftool; python struct for a 3GPP loci box)
# and compared with the master's stored value. "kept" must mean the same
# value, and a verbatim profile must keep it. Masters: ISO 6709 in (c)xyz
# (MOV), in the Apple mdta key written by exiftool (moov/meta) and by FFmpeg
# (moov/udta/meta), and a 3GPP loci box in 16.16 fixed point (FFmpeg's MP4
# muxer), through remux-mp4, remux-mkv and working-copy-h264.
. "$(dirname "$0")/lib.sh"
export EVIDENCE_PROFILE_PATH=$EV_SOURCE_DIR/profiles
FF="ffmpeg -nostdin -hide_banner -v error -y"
command -v exiftool >/dev/null || { skip_case "exiftool missing"; finish; }
cd "$T" || die "no scratch folder"

SRC="-f lavfi -i testsrc2=size=160x120:rate=25 -f lavfi -i sine=sample_rate=48000 -t 1 \
     -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -b:a 32k"
$FF $SRC -metadata location="+52.369293+004.894512/" xyz.mov || die "fixture"
cp xyz.mov keys.mov
exiftool -q -q -overwrite_original -Keys:GPSCoordinates="52.369293, 4.894512, 10" keys.mov ||
    die "exiftool"
$FF $SRC -movflags +use_metadata_tags \
    -metadata com.apple.quicktime.location.ISO6709="+52.369293+004.894512+010.000/" mdta.mp4 ||
    die "fixture"
$FF $SRC -metadata location="+52.369293+004.894512/" loci.mp4 || die "fixture"
ok "fixture: loci.mp4 has a loci box" grep -q "LocationInformation" <(exiftool -j -G1 -a loci.mp4)

# position FILE: "lat lon" as the file stores it, read without FFmpeg
cat >pos.py <<'PY'
import json, re, struct, subprocess, sys
f = sys.argv[1]
t = json.loads(subprocess.run(["exiftool", "-j", "-n", "-G1", "-a", f], check=True,
                              capture_output=True, text=True).stdout)[0]
for k in ("Keys:GPSCoordinates", "UserData:GPSCoordinates"):
    if k in t:
        v = str(t[k]).split()
        print(float(v[0]), float(v[1]))
        sys.exit(0)
if "Matroska:Location" in t:
    m = re.match(r"([+-]\d{2}(?:\.\d+)?)([+-]\d{3}(?:\.\d+)?)", t["Matroska:Location"])
    print(float(m.group(1)), float(m.group(2)))
    sys.exit(0)
if "UserData:LocationInformation" in t:
    d = open(f, "rb").read()
    i = d.index(b"loci") + 4
    i += 6                                  # version/flags, language
    i = d.index(b"\0", i) + 1 + 1           # name, role
    lon, lat = struct.unpack(">ii", d[i:i + 8])
    print(lat / 65536.0, lon / 65536.0)
    sys.exit(0)
print("none")
PY
same_pos() { python3 -c "import sys; a=sys.argv[1].split(); b=sys.argv[2].split(); sys.exit(not (len(a)==2 and len(b)==2 and all(abs(float(x)-float(y)) < 1e-9 for x, y in zip(a, b))))" "$1" "$2"; }

for m in xyz.mov keys.mov mdta.mp4 loci.mp4; do
    want=$(python3 pos.py $m)
    ok "$m: the master's position is readable" test "$want" != none
    for p in remux-mp4 remux-mkv working-copy-h264; do
        out=$p-$m.out
        expect_exit 0 "$EVIDENCE" transcode --profile $p $m $out || continue
        rec=$out.derivation.json
        got=$(python3 pos.py $out)
        st=$(json_get $rec metadata.location.status)
        ok "$m via $p: the copy holds the master's position ($want / $got)" same_pos "$want" "$got"
        if same_pos "$want" "$got"; then
            ok "$m via $p: recorded as kept" test "$st" = kept
        else
            ok "$m via $p: a changed position is not recorded as kept ($st)" test "$st" != kept
        fi
        ok "$m via $p: policy verbatim" test "$(json_get $rec metadata.location.policy)" = verbatim
        ok "$m via $p: verified" test "$(json_get $rec verification.verdict)" = pass
    done
done
ok "loci master: the stored form is named" \
    test "$(json_get remux-mkv-loci.mp4.out.derivation.json metadata.location.source_stored.format)" = 3gpp-loci-16.16
ok "loci master: its exact value is written out" \
    test "$(json_get remux-mkv-loci.mp4.out.derivation.json metadata.location.source)" = "+52.3692779541015625+004.894500732421875/"
ok "mdta master: read from the Apple key" \
    test "$(json_get remux-mkv-keys.mov.out.derivation.json metadata.location.source_stored.from)" = \
    quicktime:mdta:com.apple.quicktime.location.ISO6709
finish
