# The manners of the tool: --help lists every command with its summary;
# --progress=json gives one JSON object per line on stderr (and nothing on
# stdout); --quiet silences warnings but not errors; global options work
# before and after the command; a bad --progress value is a usage error;
# a usage error names the missing option; the build tree has its profiles
# where an install has them (<bindir>/../share/evidence/profiles).
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$EVIDENCE" --help
for c in pack verify inspect extract custody profiles transcode check sign timestamp; do
    ok "--help lists $c with a summary" grep -Eq "^  $c +[a-z]" "$OUT"
done
ok "--help explains --progress" grep -q -- "--progress=MODE" "$OUT"
# evidence(1) (docs/cli/evidence.md) lists the same commands as --help
for c in $(sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' "$OUT"); do
    ok "docs/cli/evidence.md lists $c" grep -Eq "^  $c +[a-z]" "$EV_SOURCE_DIR/docs/cli/evidence.md"
done

# bash completion: commands, a command's options (from its help), profiles
comp() { # words...: what the completion offers for the last word
    bash -c '. "$1/tools/completion/evidence.bash"; shift
             COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _evidence
             printf "%s\n" "${COMPREPLY[@]}"' _ "$EV_SOURCE_DIR" "$EVIDENCE" "$@"
}
ok "completion: 've' gives verify" grep -qx verify <<<"$(comp ve)"
ok "completion: pack options" grep -qx -- --exhibit <<<"$(comp pack --ex)"
ok "completion: custody subcommands" grep -qx add <<<"$(comp custody a)"
ok "completion: profile names" grep -qx working-copy-h264 <<<"$(comp pack --profile work)"

mkdir -p "$T/src"
printf 'one\n' >"$T/src/a.txt"
printf 'two\n' >"$T/src/b.txt"
expect_exit 0 "$EVIDENCE" pack --progress=json --no-media -o "$T/b.zip" "$T/src"
ok "pack: stdout has only the summary" test "$(grep -c . "$OUT")" = 1
ok "pack: progress events on stderr, each a JSON object" python3 -c '
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
ev = [json.loads(l) for l in lines]
assert ev and all(e["event"] == "progress" and "bytes_done" in e and "elapsed_s" in e for e in ev)' "$ERR"

ok "pack: the content types are a stage of their own" grep -q '"stage":"typing content"' "$ERR"
ok "pack: the walk of a folder is a stage" grep -q '"stage":"finding files"' "$ERR"

# SIGTERM while the content types are found (libmagic, minutes for a
# million files) stops pack there: exit 130, nothing written. The signal is
# sent once the stage has reported its first file, so no timing is assumed.
python3 - "$T/many" <<'PY'
import os, sys
for d in range(30):
    os.makedirs(f"{sys.argv[1]}/d{d:02d}")
    for i in range(200):
        with open(f"{sys.argv[1]}/d{d:02d}/f{i:03d}", "wb") as f:
            f.write(os.urandom(100))
PY
# term_at STAGE ERR CMD...: runs CMD with --progress=json on ERR and sends
# SIGTERM once STAGE has reported (no timing assumed); prints the exit
# code, seen/unseen (STAGE reported while CMD ran) and packing/no-packing
# (whether the packing stage reported at all)
term_at() {
    python3 - "$@" <<'PY'
import signal, subprocess, sys, time
stage, err = '"stage":"%s"' % sys.argv[1], open(sys.argv[2], "w+")
p = subprocess.Popen(sys.argv[3:], stdout=subprocess.DEVNULL, stderr=err)
seen = False
while p.poll() is None and not seen:
    err.seek(0)
    seen = stage in err.read()
    time.sleep(0.005)
if seen and p.poll() is None:
    p.send_signal(signal.SIGTERM)
rc = p.wait(timeout=120)
err.seek(0)
print(rc, "seen" if seen else "unseen",
      "packing" if '"stage":"packing"' in err.read() else "no-packing")
PY
}
r=$(term_at "typing content" "$T/m.err" "$EVIDENCE" pack --progress=json --no-media -o "$T/m.zip" "$T/many")
ok "SIGTERM while typing content: exit 130 ($r)" test "${r%% *}" = 130
ok "SIGTERM while typing content: stopped in that stage ($r)" test "${r#* }" = "seen no-packing"
ok "SIGTERM while typing content: nothing written" test ! -e "$T/m.zip"
ok "SIGTERM while typing content: said so" grep -q "interrupted: nothing was written" "$T/m.err"

# SIGTERM once the walk of the folder has reported its first file: exit
# 130, nothing written (the walk stops there, or the next stage does)
r=$(term_at "finding files" "$T/walk.err" "$EVIDENCE" pack --progress=json --no-media -o "$T/walk.zip" "$T/many")
ok "SIGTERM while finding files: exit 130 ($r)" test "${r% *}" = "130 seen"
ok "SIGTERM while finding files: nothing written" test ! -e "$T/walk.zip"

# SIGTERM once verify or extract has reported reading the files: exit 130;
# extract leaves either nothing at its destination or every file (the
# signal may come after the last file was read)
"$EVIDENCE" pack -q --no-media -o "$T/many.zip" "$T/many" >/dev/null 2>&1 ||
    fail "pack of the 6,000 files"
r=$(term_at "verifying" "$T/v.err" "$EVIDENCE" verify --progress=json "$T/many.zip")
ok "SIGTERM while verifying: exit 130 ($r)" test "${r% *}" = "130 seen"
ok "SIGTERM while verifying: said in words a person reads" \
    test "$(grep -c "canceled by callback" "$T/v.err")" = 0
r=$(term_at "extracting" "$T/x.err" "$EVIDENCE" extract --progress=json "$T/many.zip" "$T/x")
ok "SIGTERM while extracting: exit 130 ($r)" test "${r% *}" = "130 seen"
ok "SIGTERM while extracting: said in words a person reads" \
    test "$(grep -c "canceled by callback" "$T/x.err")" = 0
n=$(find "$T/x" -type f 2>/dev/null | wc -l)
ok "SIGTERM while extracting: nothing or everything at the destination ($n files)" \
    test "$n" -eq 0 -o "$n" -ge 6000

expect_exit 0 "$EVIDENCE" --progress=json verify "$T/b.zip"
ok "global option before the command" grep -q '"event":"progress"' "$ERR"
expect_exit 0 "$EVIDENCE" verify --json "$T/b.zip" --progress=json
ok "verify --json: stdout is one document" python3 "$TOOLS/evjson.py" valid "$OUT"
ok "verify --json: progress went to stderr" grep -q '"stage":"verifying"' "$ERR"
expect_exit 0 "$EVIDENCE" verify --progress=none "$T/b.zip"
ok "--progress=none: nothing on stderr" test ! -s "$ERR"

expect_exit 2 "$EVIDENCE" verify --progress=loud "$T/b.zip"
ok "bad --progress named" grep -q "progress must be auto, json or none" "$ERR"

# --quiet: warnings go, errors stay (a symbolic link is skipped with a warning)
ln -s a.txt "$T/src/link"
expect_exit 0 "$EVIDENCE" pack --no-media -o "$T/w.zip" "$T/src"
ok "without --quiet the skipped link is a warning" grep -q "warning: skipped" "$ERR"
expect_exit 0 "$EVIDENCE" pack -q --no-media -o "$T/q.zip" "$T/src"
ok "--quiet: no warning" test ! -s "$ERR"
expect_exit 3 "$EVIDENCE" --quiet verify "$T/missing.zip"
ok "--quiet: errors stay" grep -q "^evidence: " "$ERR"

# a usage error names what is missing
expect_exit 2 "$EVIDENCE" custody add "$T/b.zip" --action received --actor "B. Example"
ok "custody add names --org" grep -q "needs --org NAME" "$ERR"
expect_exit 2 "$EVIDENCE" sign "$T/b.zip" --key "$T/k.pem"
ok "sign names only the missing --cert" grep -q "\-\-cert CERT.pem is required (the signer's certificate)" "$ERR"
expect_exit 2 "$EVIDENCE" sign "$T/b.zip" --cert "$T/c.pem"
ok "sign names only the missing --key" grep -q "\-\-key KEY.pem is required (the signer's private key)" "$ERR"
expect_exit 2 "$EVIDENCE" extract "$T/b.zip"
ok "extract names the missing destination" grep -q "no destination folder given after" "$ERR"
expect_exit 2 "$EVIDENCE" extract
ok "extract names the missing bundle" grep -q "no bundle given" "$ERR"

# a folder given with a trailing slash: its bundles' paths have one slash
mkdir -p "$T/batch"
cp "$T/b.zip" "$T/batch/"
expect_exit 0 "$EVIDENCE" verify --json-lines "$T/batch/"
ok "verify --json-lines DIR/ names DIR/b.zip" grep -qF "\"$T/batch/b.zip\"" "$OUT"

# "--" ends the options: a file named --quiet is a path, not an option
expect_exit 3 "$EVIDENCE" verify -- --quiet
ok "a path named --quiet after --" grep -q -- "--quiet" "$ERR"

# the build tree mirrors the install layout for profiles
if [ -n "${EV_BUILD_DIR:-}" ]; then
    ok "profiles staged at <build>/share/evidence/profiles" \
        test -f "$EV_BUILD_DIR/share/evidence/profiles/working-copy-h264.json"
fi

finish
