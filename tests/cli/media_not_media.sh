# What is not media is never described as media, and a still is not given
# a time it does not have:
# - a text statement named .txt is not "video" (FFmpeg's teletype demuxer
#   renders any text as pictures), nor is ANSI art, nor text named .dat
#   (a last-resort guess of the luodat demuxer), nor random bytes named .dat;
# - the record of a pack says the same (kind other, no content hashes);
# - probe_score is the score the probe gave, not 0;
# - a JPEG has no frame rate, duration or bit rate (FFmpeg's 25 fps default);
# - exit codes of inspect as its help says: 0 described (media or not),
#   3 missing, a folder that is not a bag, a damaged ZIP.
. "$(dirname "$0")/lib.sh"

command -v ffmpeg >/dev/null || { skip_case "ffmpeg missing"; finish; }
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

python3 - "$T" <<'EOF' || die "cannot make the text files"
import os, random, sys
t = sys.argv[1]
random.seed(7)
words = "the witness saw a grey van leave the car park at about ten past nine".split()
text = "\n".join(" ".join(random.choice(words) for _ in range(12)) for _ in range(120)) + "\n"
for name in ("statement.txt", "statement.dat", "STATEMENT.TXT", "notes"):
    open(os.path.join(t, name), "w").write(text)
open(os.path.join(t, "art.ans"), "w").write("\x1b[1;31mANSI\x1b[0m art\n" * 40)
open(os.path.join(t, "random.dat"), "wb").write(random.randbytes(6000))
EOF
ff -f lavfi -i testsrc2=size=64x48 -frames:v 1 "$T/photo.jpg" || die "no jpg"
ff -f lavfi -i testsrc2=size=64x48:rate=25 -t 0.4 -c:v mjpeg "$T/clip.avi" || die "no avi"

# media_of FILE: "kind container probe_score has-error" from inspect --json
media_of() {
    python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["media"]
print(m.get("kind"), m.get("container", "-"), m.get("probe_score", "-"), "error" if m.get("error") else "ok")' "$OUT"
}

for f in statement.txt statement.dat STATEMENT.TXT notes art.ans random.dat; do
    expect_exit 0 "$EVIDENCE" inspect --json "$T/$f" || continue
    ok "$f is not media" test "$(media_of)" = "other - - error"
    ok "$f: no content hashes" python3 -c 'import json,sys; sys.exit(bool(json.load(open(sys.argv[1])).get("content_hashes")))' "$OUT"
done
expect_exit 0 "$EVIDENCE" inspect --json "$T/statement.txt"
ok "says the content is text" grep -q "the content is text" "$OUT"
expect_exit 0 "$EVIDENCE" inspect --json "$T/random.dat"
ok "random .dat: only the name or a guess chose the demuxer" \
    grep -Eq "only (the file name|a last-resort guess) suggested|no demuxer" "$OUT"

# the real probe score, not 0
expect_exit 0 "$EVIDENCE" inspect --json "$T/clip.avi"
ok "AVI is video with the probe's score" test "$(media_of)" = "video avi 100 ok"

# a still has no time
expect_exit 0 "$EVIDENCE" inspect --json "$T/photo.jpg"
ok "JPEG is an image" test "$(media_of | cut -d' ' -f1)" = "image"
ok "JPEG: no frame rate, duration, start or bit rate" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["media"]
bad = [k for k in ("duration", "start_time", "bit_rate") if k in m]
for s in m["streams"]:
    bad += ["stream." + k for k in ("r_frame_rate", "avg_frame_rate", "duration", "start_time") if k in s]
print(bad) if bad else None
sys.exit(bool(bad))' "$OUT"
expect_exit 0 "$EVIDENCE" inspect "$T/photo.jpg"
ok "human output shows no fps for a still" sh -c '! grep -q fps "$1"' _ "$OUT"

# the record of a pack says the same
expect_exit 0 "$EVIDENCE" pack -o "$T/b.zip" --exhibit X "$T/statement.txt" "$T/photo.jpg"
unzip -p "$T/b.zip" b/evidence.json >"$T/rec.json"
ok "packed statement: kind other, no content hashes" python3 -c '
import json, sys
it = [i for i in json.load(open(sys.argv[1]))["items"] if i["path"].endswith("statement.txt")][0]
m = it.get("media") or {}
sys.exit(not (m.get("kind") in (None, "other") and not it.get("content_hashes")))' "$T/rec.json"
expect_exit 0 "$EVIDENCE" verify "$T/b.zip"

# exit codes
expect_exit 3 "$EVIDENCE" inspect "$T/missing.txt"
expect_message
mkdir -p "$T/folder"
expect_exit 3 "$EVIDENCE" inspect "$T/folder"
ok "a folder that is not a bag is named as such" grep -q "not a bag" "$ERR"
printf 'PK\003\004 not really a zip' >"$T/damaged.zip"
expect_exit 3 "$EVIDENCE" inspect "$T/damaged.zip"
expect_message
expect_exit 0 "$EVIDENCE" inspect "$T/statement.txt"
ok "human output: not recognised as media" grep -q "not recognised as media" "$OUT"

finish
