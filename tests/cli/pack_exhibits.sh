# Several exhibits in one pack: every file lands under the exhibit whose
# --exhibit precedes it, in the folder and in evidence.json; exhibits whose
# folder names coincide get folders of their own; a file named twice (or
# once alone and once inside a named folder) is refused and nothing is
# written; an --exhibit that no path follows, or a path before the first
# --exhibit, is a usage error. The bundle still verifies.
. "$(dirname "$0")/lib.sh"

S="$T/src"
mkdir -p "$S/phone/DCIM" "$S/other"
printf 'photo\n' >"$S/phone/DCIM/a.jpg"
printf 'note\n' >"$S/phone/note.txt"
printf 'statement\n' >"$S/b.txt"
printf 'same name, other exhibit\n' >"$S/other/note.txt"
printf 'A\n' >"$S/a.txt"

# exhibit_of BUNDLE DATA-PATH-SUFFIX: the exhibit evidence.json gives the
# item whose path ends with the suffix, and the folder it is filed in
exhibit_of() {
    unzip -p "$1" "$(basename "$1" .zip)/evidence.json" | python3 -c '
import json, sys
rec = json.load(sys.stdin)
hits = [i for i in rec["items"] if i["path"].endswith(sys.argv[1])]
print("%d %s" % (len(hits), " ".join("%s=%s" % (i["exhibit"], i["path"]) for i in hits)))' "$2"
}

# the issue's own example: two exhibits, one file each
expect_exit 0 "$EVIDENCE" pack --no-media -o "$T/two.zip" --exhibit A "$S/a.txt" --exhibit B "$S/b.txt"
ok "a.txt is filed under A" test "$(exhibit_of "$T/two.zip" /a.txt)" = "1 A=data/A/a.txt"
ok "b.txt is filed under B" test "$(exhibit_of "$T/two.zip" /b.txt)" = "1 B=data/B/b.txt"
expect_exit 0 "$EVIDENCE" verify "$T/two.zip"

# folders and files mixed over three exhibits, the same name under two
expect_exit 0 "$EVIDENCE" pack --no-media -o "$T/mix.zip" --exhibit JS/1 "$S/phone" \
    --exhibit JS/2 "$S/b.txt" "$S/a.txt" --exhibit JS/3 "$S/other"
ok "folder files under JS/1" test "$(exhibit_of "$T/mix.zip" DCIM/a.jpg)" = "1 JS/1=data/JS_1/phone/DCIM/a.jpg"
ok "both files after --exhibit JS/2 are filed under it" \
    test "$(exhibit_of "$T/mix.zip" /a.txt)" = "1 JS/2=data/JS_2/a.txt"
ok "the same name under two exhibits stays apart" \
    test "$(exhibit_of "$T/mix.zip" /note.txt)" = "2 JS/1=data/JS_1/phone/note.txt JS/3=data/JS_3/other/note.txt"
unzip -p "$T/mix.zip" mix/bag-info.txt | grep '^Evidence-Exhibit:' >"$T/exh"
ok "bag-info lists each exhibit once, in order" \
    test "$(tr '\n' ' ' <"$T/exh")" = "Evidence-Exhibit: JS/1 Evidence-Exhibit: JS/2 Evidence-Exhibit: JS/3 "
expect_exit 0 "$EVIDENCE" verify "$T/mix.zip"

# references whose folder names coincide never share a folder
expect_exit 0 "$EVIDENCE" pack --no-media -o "$T/clash.zip" --exhibit JS/1 "$S/a.txt" \
    --exhibit JS_1 "$S/b.txt" --exhibit js_1 "$S/phone/note.txt"
ok "JS/1 keeps JS_1" test "$(exhibit_of "$T/clash.zip" /a.txt)" = "1 JS/1=data/JS_1/a.txt"
ok "JS_1 gets JS_1-2" test "$(exhibit_of "$T/clash.zip" /b.txt)" = "1 JS_1=data/JS_1-2/b.txt"
ok "js_1 gets js_1-3 (case-insensitive file systems)" \
    test "$(exhibit_of "$T/clash.zip" /note.txt)" = "1 js_1=data/js_1-3/note.txt"
expect_exit 0 "$EVIDENCE" verify "$T/clash.zip"

# without --exhibit everything is exhibit "1", as before
expect_exit 0 "$EVIDENCE" pack --no-media -o "$T/plain.zip" "$S/a.txt" "$S/b.txt"
ok "no --exhibit: exhibit 1" test "$(exhibit_of "$T/plain.zip" /b.txt)" = "1 1=data/1/b.txt"

# refusals: nothing is written, the message names the file and what to do
refused() { # exit-code what args...
    local code=$1 what=$2
    shift 2
    rm -f "$T/no.zip"
    expect_exit "$code" "$EVIDENCE" pack --no-media -o "$T/no.zip" "$@"
    ok "$what: an evidence: message" grep -q "^evidence: " "$ERR"
    ok "$what: nothing written" test ! -e "$T/no.zip"
    ok "$what: no temporary file left" test -z "$(find "$T" -maxdepth 1 -name '.no.zip*')"
}
refused 2 "same file under two exhibits" --exhibit A "$S/a.txt" --exhibit B "$S/a.txt"
ok "names both exhibits" grep -q "listed under two exhibits, 'A' and 'B'" "$ERR"
refused 2 "same file twice, one exhibit" --exhibit A "$S/a.txt" "$S/./a.txt"
ok "says given twice" grep -q "given twice for exhibit 'A'" "$ERR"
refused 2 "a file and its folder" --exhibit A "$S/phone" --exhibit B "$S/phone/note.txt"
ok "names the file" grep -q "note.txt' is listed under two exhibits" "$ERR"
refused 2 "trailing --exhibit" "$S/a.txt" --exhibit A
ok "says what --exhibit applies to" grep -q "followed by no file or folder" "$ERR"
refused 2 "--exhibit with no path before the next" --exhibit A --exhibit B "$S/a.txt"
ok "names both references" grep -q "'A' is followed by no file or folder before --exhibit 'B'" "$ERR"
refused 2 "path before the first --exhibit" "$S/a.txt" --exhibit A "$S/b.txt"
ok "names the path" grep -q "a.txt' comes before any --exhibit" "$ERR"

finish
