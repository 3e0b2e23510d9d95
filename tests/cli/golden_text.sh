#!/bin/bash
# The text that people read, byte for byte: for each case in this file the
# expected stdout, stderr and exit code are in tests/cli/golden/CASE.stdout,
# CASE.stderr and CASE.exit (after the model of zstd's tests/cli-tests).
# Covers what the library renders as text (docs/api/results.md): inspect
# FILE (streams, timelines with gaps, discontinuities and wall-clock stamps,
# capture facts), inspect BUNDLE, custody show (intact and broken), profiles
# (list and one), check (pass, fail, several files, --json), transcode and
# --recheck (summary, problems, a bad record).
#
# What varies from run to run is masked before the comparison: the scratch
# folder (<tmp>), the build folder (<build>), the source tree (<src>),
# today's times (<now>), UUIDs
# (<uuid>), and SHA-256 values of files generated here (<sha256>; the
# committed samples keep theirs).
#
# To accept new output after an intended change:
#   EV_GOLDEN_UPDATE=1 bash tests/cli/golden_text.sh   (then review git diff)
. "$(dirname "$0")/lib.sh"

command -v ffmpeg >/dev/null || { skip_case "no ffmpeg"; finish; }
export EVIDENCE_PROFILE_PATH=$EV_SOURCE_DIR/profiles
G=$EV_SOURCE_DIR/tests/cli/golden
S=$EV_SOURCE_DIR/samples/media
TODAY=$(date -u +%Y-%m-%d)
# the build folder of the binary (the profile search path names it)
B=$(cd "$(dirname "$(command -v "$EVIDENCE")")/.." && pwd) || die "no build folder"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y -fflags +bitexact "$@"; }
cd "$T" || die "no scratch folder"

# mask FILE: the run-dependent parts of FILE, in place
mask() {
    local now
    now=$(date -u +%Y-%m-%d)
    sed -i -E \
        -e "s#$T#<tmp>#g" \
        -e "s#$B/#<build>/#g" \
        -e "s#$EV_SOURCE_DIR#<src>#g" \
        -e "s#($TODAY|$now)T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})#<now>#g" \
        -e 's#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}#<uuid>#g' \
        "$1"
    if [ "${2:-}" = hashes ]; then
        sed -i -E 's#[0-9a-f]{64}#<sha256>#g' "$1"
    fi
    # the installed profiles (/usr/local/share/evidence/profiles), last in
    # the search path only where the quick start has installed them: the
    # output is the same on a machine that never ran it
    perl -0pi -e 's#,\n\s*"/usr/local/share/evidence/profiles"\n#\n#g' "$1"
}

# golden CASE [hashes] -- CMD...: run CMD, compare with the golden files
golden() {
    local name=$1 how=""
    shift
    [ "$1" = hashes ] && { how=hashes; shift; }
    [ "$1" = -- ] && shift
    "$@" >"$T/$name.stdout" 2>"$T/$name.stderr"
    echo $? >"$T/$name.exit"
    if grep -Eq 'Sanitizer|runtime error:' "$T/$name.stderr"; then
        fail "$name: sanitizer report"
        head -20 "$T/$name.stderr" >&2
        return
    fi
    mask "$T/$name.stdout" "$how"
    mask "$T/$name.stderr" "$how"
    local k bad=0
    for k in stdout stderr exit; do
        if [ -n "${EV_GOLDEN_UPDATE:-}" ]; then
            cp "$T/$name.$k" "$G/$name.$k"
        elif [ ! -f "$G/$name.$k" ]; then
            fail "$name: no golden file tests/cli/golden/$name.$k"
            bad=1
        elif ! cmp -s "$G/$name.$k" "$T/$name.$k"; then
            fail "$name: $k differs from tests/cli/golden/$name.$k (- expected, + got):"
            diff -u "$G/$name.$k" "$T/$name.$k" | tail -n +3 | head -40 >&2
            bad=1
        fi
    done
    [ $bad -eq 0 ] && pass
}

# ---- inspect FILE: the committed samples, as they are ----
for f in CLIP_0001.mp4 IMG_0001.jpg INTERVIEW_0001.wav notes.txt; do
    cp "$S/$f" "$T/$f" || die "no sample $f"
    golden "inspect_${f%%.*}" -- "$EVIDENCE" inspect "$f"
done

# ---- inspect FILE: generated inputs (hashes masked) ----
# a raw H.264 stream: no time source
ff -f lavfi -i testsrc=s=64x36:r=25:d=2 -c:v libx264 -preset ultrafast -threads 1 -f h264 raw.264 ||
    die "no h264"
golden inspect_raw264 hashes -- "$EVIDENCE" inspect raw.264
# MPEG-PS with two cut-out spans (gaps) and one with time going back
seg() { ff -f lavfi -i "testsrc=s=64x36:r=12.5:d=$2" -c:v mpeg2video -force_fps -r 12.5 -g 250 \
            -output_ts_offset "$1" -f vob "$3"; }
seg 0 4 a1.vob && seg 10.58 4 a2.vob && seg 18.08 2 a3.vob && seg 2 2 b3.vob || die "no vob"
cat a1.vob a2.vob a3.vob >cut.vob
cat a1.vob a2.vob b3.vob >back.vob
golden inspect_cutvob hashes -- "$EVIDENCE" inspect cut.vob
golden inspect_backvob hashes -- "$EVIDENCE" inspect back.vob
# DAV: per-frame wall-clock stamps with a cut, a step back and a zero date
ff -f lavfi -i testsrc=s=64x48:r=25:d=10 -c:v libx264 -preset ultrafast -threads 1 -g 50 -bf 0 \
    -bsf:v h264_metadata=aud=insert -f h264 dav.264 || die "no h264 for dav"
python3 "$TOOLS/mkdav.py" dav.264 cut.dav --fps 25 --start 2026-03-01T10:00:00 \
    --cut 100:60 --back 200:30 --zero-date 240 || die "mkdav failed"
golden inspect_dav hashes -- "$EVIDENCE" inspect cut.dav
# QuickTime with a creation time and a location, audio and video
ff -f lavfi -i testsrc2=size=160x120:rate=25 -f lavfi -i sine=sample_rate=48000 -t 1 \
    -c:v mjpeg -c:a pcm_s16le -metadata location=+51.500712-000.124611/ \
    -metadata creation_time=2024-05-01T10:20:30Z src.mov || die "no mov"
golden inspect_mov hashes -- "$EVIDENCE" inspect src.mov

# ---- inspect BUNDLE, custody show ----
"$EVIDENCE" pack -q -o b.zip --case OP/1 --officer "PC Smith" --org Met --exhibit JS/1 \
    CLIP_0001.mp4 IMG_0001.jpg --exhibit JS/2 INTERVIEW_0001.wav notes.txt >/dev/null ||
    die "pack failed"
"$EVIDENCE" custody add b.zip --action verified --actor "DC Jones" --org Met \
    --note "seal checked" >/dev/null || die "custody add failed"
golden inspect_bundle -- "$EVIDENCE" inspect b.zip
golden custody_show -- "$EVIDENCE" custody show b.zip
"$EVIDENCE" pack -q --format dir -o bag --officer "Jo Smith" --org Met notes.txt >/dev/null ||
    die "pack --format dir failed"
"$EVIDENCE" custody add bag --action received --actor QA --org Lab >/dev/null ||
    die "custody add failed"
sed -i '1s/"actor":"Jo Smith"/"actor":"Someone"/' bag/custody.jsonl
golden inspect_bundle_broken -- "$EVIDENCE" inspect bag
golden custody_show_broken -- "$EVIDENCE" custody show bag
# a line that is not JSON and a last line without its newline
"$EVIDENCE" pack -q --format dir -o bag2 --officer "Jo Smith" --org Met notes.txt >/dev/null ||
    die "pack --format dir failed"
printf 'not json\n{"seq": 3' >>bag2/custody.jsonl
golden inspect_bundle_garbage -- "$EVIDENCE" inspect bag2
golden custody_show_garbage -- "$EVIDENCE" custody show bag2

# ---- profiles ----
golden profiles_list -- "$EVIDENCE" profiles
golden profiles_one -- "$EVIDENCE" profiles remux-mp4
golden profiles_one_json -- "$EVIDENCE" profiles --json working-copy-h264
golden profiles_list_json -- "$EVIDENCE" profiles --json

# ---- check ----
golden check_pass -- "$EVIDENCE" check --profile remux-mp4 CLIP_0001.mp4
golden check_fail -- "$EVIDENCE" check --profile archive-ffv1 CLIP_0001.mp4
golden check_many -- "$EVIDENCE" check --profile working-copy-h264 CLIP_0001.mp4 notes.txt \
    INTERVIEW_0001.wav
golden check_json -- "$EVIDENCE" check --json --profile working-copy-h264 CLIP_0001.mp4
golden check_many_json -- "$EVIDENCE" check --json --profile remux-mp4 CLIP_0001.mp4 notes.txt

# ---- transcode, --recheck ----
golden transcode_remux -- "$EVIDENCE" transcode --profile remux-mkv CLIP_0001.mp4 remux.mkv
golden transcode_wc -- "$EVIDENCE" transcode --threads 1 --profile working-copy-h264 src.mov wc.mp4
golden transcode_audio -- "$EVIDENCE" transcode --profile audio-flac INTERVIEW_0001.wav i.flac
golden recheck_pass -- "$EVIDENCE" transcode --recheck remux.mkv.derivation.json CLIP_0001.mp4 remux.mkv
cp remux.mkv changed.mkv && printf 'x' >>changed.mkv
golden recheck_fail -- "$EVIDENCE" transcode --recheck remux.mkv.derivation.json CLIP_0001.mp4 changed.mkv
printf '{"format": "evidence.derivation",\n "source": }\n' >bad.json
golden recheck_badjson -- "$EVIDENCE" transcode --recheck bad.json CLIP_0001.mp4 remux.mkv
printf '{"format": "evidence.media"}\n' >notrec.json
golden recheck_notrecord -- "$EVIDENCE" transcode --recheck notrec.json CLIP_0001.mp4 remux.mkv
printf '{"format": "evidence.derivation"}\0' >nul.json
golden recheck_nul -- "$EVIDENCE" transcode --recheck nul.json CLIP_0001.mp4 remux.mkv
golden recheck_missing -- "$EVIDENCE" transcode --recheck none.json CLIP_0001.mp4 remux.mkv

finish
