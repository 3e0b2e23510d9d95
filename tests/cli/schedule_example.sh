# Exhibit schedules through the public API, as docs/exhibit-schedule.md
# shows them: its command blocks marked "run by tests/cli/schedule_example.sh"
# run as printed (tests/tools/doccmds.py extract) with the library installed
# in a fresh prefix for pkg-config, in a folder holding the example schedule
# (docs/examples/exhibit-schedule.csv) and its ten files. Then:
# - the document has 3 exhibits, 2 people, 2 places, 3 events, 10 files and
#   matches docs/schema/schedule.schema.json (ajv, when npm can install it);
# - the CSV and JSON written back read to the same nodes (round trip);
# - the CSV printed on that page is docs/examples/exhibit-schedule.csv;
# - each bad input of the issue is refused (exit 1) with a message naming
#   the line and column, or accepted with a warning where the docs say so.
. "$(dirname "$0")/lib.sh"

B=${EV_BUILD_DIR:?ctest sets EV_BUILD_DIR}
P="$T/prefix"
run cmake --install "$B" --prefix "$P"
[ "$RC" -eq 0 ] || { show_last; die "cmake --install failed"; }
export PKG_CONFIG_PATH="$P/lib/pkgconfig" LD_LIBRARY_PATH="$P/lib"
CC=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$B/CMakeCache.txt")
SAN=$(sed -n 's/^EVIDENCE_SANITIZE:[A-Z]*=//p' "$B/CMakeCache.txt")
[ -n "$SAN" ] && CC="$CC -fsanitize=${SAN//;/,} -fno-omit-frame-pointer"
mkdir -p "$T/bin"
printf '#!/bin/sh\nexec %s -std=c11 -Wall -Wextra -Werror "$@"\n' "$CC" >"$T/bin/cc"
chmod +x "$T/bin/cc"
export PATH="$T/bin:$PATH"

W="$T/work"
example_schedule "$W"
mkdir -p "$W/docs"
ln -s "$EV_SOURCE_DIR/docs/examples" "$W/docs/examples"

D="$T/blocks"
n=$(python3 "$TOOLS/doccmds.py" extract "$EV_SOURCE_DIR" docs/exhibit-schedule.md \
    tests/cli/schedule_example.sh "$D") || die "no blocks in docs/exhibit-schedule.md"
ok "docs/exhibit-schedule.md: 2 blocks run by this test" test "$n" -eq 2
run_block() { (cd "$W" && bash "$1") >"$OUT" 2>"$ERR"; RC=$?; }

# block 1: build the example program, read the schedule
run_block "$D/01.sh"
ok "block 1 ran" test "$RC" -eq 0 || show_last
ok "block 1: schedule.c compiled warning-free" test -x "$W/schedule"
S="$W/schedule"
ok "the document: 3 exhibits, 2 people, 2 places, 3 events, 10 files" test "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(len(d["exhibits"]), len(d["people"]), len(d["places"]), len(d["events"]),
      sum(len(e["files"]) for e in d["exhibits"]))' "$W/schedule.doc.json")" = "3 2 2 3 10"

# block 2: written back as CSV and JSON
run_block "$D/02.sh"
ok "block 2 ran" test "$RC" -eq 0 || show_last
same_nodes() { # A.json B.json: equal but for source and warnings
    python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    d.pop("source", None); d.pop("warnings", None)
sys.exit(a != b)' "$1" "$2"
}
(cd "$W" && ./schedule again.csv) >"$T/again-csv.json" 2>"$ERR"
ok "CSV round trip: the same people, places, events, exhibits" same_nodes "$W/schedule.doc.json" "$T/again-csv.json"
(cd "$W" && ./schedule again.json) >"$T/again-json.json" 2>"$ERR"
ok "JSON round trip: the same" same_nodes "$W/schedule.doc.json" "$T/again-json.json"
(cd "$W" && ./schedule --csv again.csv) >"$T/again2.csv" 2>"$ERR"
ok "CSV written twice: the same bytes" cmp -s "$W/again.csv" "$T/again2.csv"

# the schema
run bash "$EV_SOURCE_DIR/scripts/ajv.sh" validate --spec=draft2020 -c ajv-formats \
    -s "$EV_SOURCE_DIR/docs/schema/schedule.schema.json" -d "$W/schedule.doc.json"
if [ "$RC" -eq 77 ]; then
    note "ajv not available: schema not checked"
else
    ok "the document matches schedule.schema.json" test "$RC" -eq 0 || show_last
    run bash "$EV_SOURCE_DIR/scripts/ajv.sh" validate --spec=draft2020 -c ajv-formats \
        -s "$EV_SOURCE_DIR/docs/schema/schedule.schema.json" -d "$W/again.json"
    ok "the JSON schedule file matches schedule.schema.json" test "$RC" -eq 0 || show_last
fi

# bad input: FILE CONTENT EXIT REGEX (on stderr)
bad() {
    printf "$2" >"$W/$1"
    (cd "$W" && ./schedule "$1") >"$OUT" 2>"$ERR"
    RC=$?
    ok "$1: exit $3" test "$RC" -eq "$3" || show_last
    if [ -z "$4" ]; then
        ok "$1: says nothing" test ! -s "$ERR" || show_last
    else
        ok "$1: says '$4'" grep -qE -- "$4" "$ERR" || show_last
    fi
}
H='reference,description,time,latitude,longitude,files\n'
bad bom.csv "\357\273\277${H}JS/1,knife,,,,AB1-call.wav\n" 0 \
    '^warning: bom.csv: line 1: a UTF-8 byte order mark begins the file; it was skipped$'
bad crlf.csv "${H//\\n/\\r\\n}JS/1,\"two\r\nlines\",,,,AB1-call.wav\r\n" 0 ""
bad semicolon.csv 'reference;description;files\nJS/1;knife;AB1-call.wav\n' 1 \
    "^semicolon.csv: line 1: the header row is one cell holding ';' separators"
bad latin1.csv "${H}JS/1,caf\351,,,,AB1-call.wav\n" 1 \
    "^latin1.csv: line 2, column 2 \(description\) \(byte offset [0-9]+\): byte 0xE9 is not UTF-8"
bad dupref.csv "${H}JS/1,a,,,,AB1-call.wav\nJS/1,b,,,,AB1-notes.txt\n" 1 \
    "^dupref.csv: line 3, column 1 \(reference\): 'JS/1' is also the reference on line 2"
bad twice.csv "${H}JS/1,a,,,,AB1-call.wav\nJS/2,b,,,,AB1-call.wav\n" 1 \
    "^twice.csv: line 3, column 6 \(files\): 'AB1-call.wav' is also listed under exhibit 'JS/1' \(line 2\)"
bad missing.csv "${H}JS/1,a,,,,\"AB1-call.wav\nnot-here.jpg\"\n" 1 \
    "^missing.csv: line 2, column 6 \(files\): 'not-here.jpg' does not exist \(looked for '.*/work/not-here.jpg'\)"
bad unknown.csv "reference,Seal number,files\nJS/1,S-1,AB1-call.wav\n" 0 \
    "^warning: unknown.csv: line 1, column 2: 'Seal number' is not a schedule column"
bad time.csv "${H}JS/1,a,2026-02-30T25:00,,,AB1-call.wav\n" 1 \
    "^time.csv: line 2, column 3 \(time\): '2026-02-30T25:00' is not a possible time: day 30 \(February 2026 has 28 days\); hour 25"
bad coords.csv "${H}JS/1,a,,51.5,200,AB1-call.wav\n" 1 \
    "^coords.csv: line 2, column 5 \(longitude\): '200' is out of range \(-180 to 180\)"
bad quote.csv "${H}JS/1,\"open,,,,AB1-call.wav\n" 1 \
    "^quote.csv: line 2, column 2: the quoted cell that begins here never ends"
(cd "$W" && ./schedule crlf.csv) >"$OUT" 2>"$ERR"
ok "crlf.csv: the quoted CRLF is one line break" test "$(json_get "$OUT" exhibits.0.description)" = "two
lines"
(cd "$W" && ./schedule unknown.csv) >"$T/unknown.json" 2>"$ERR"
ok "unknown.csv: kept as an extra field" test "$(json_get "$T/unknown.json" "exhibits.0.extra.Seal number")" = "S-1"

# formula injection: defused on the way out, and back on the way in
printf 'reference,description,handling_notes,files\n"=HYPERLINK(""http://x"",""y"")",@SUM(A1),-2+3,AB1-call.wav\n' >"$W/formula.csv"
(cd "$W" && ./schedule --csv formula.csv) >"$T/formula-out.csv" 2>"$ERR"
ok "formula cells: each gets a quote in front" python3 - "$T/formula-out.csv" <<'PY' || cat "$T/formula-out.csv"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
r = rows[0]
want = {"reference": "'=HYPERLINK(\"http://x\",\"y\")", "description": "'@SUM(A1)", "handling_notes": "'-2+3"}
sys.exit(0 if all(r[k] == v for k, v in want.items()) else 1)
PY
cp "$T/formula-out.csv" "$W/formula-out.csv"
(cd "$W" && ./schedule formula-out.csv) >"$T/f2.json" 2>"$ERR"
(cd "$W" && ./schedule formula.csv) >"$T/f1.json" 2>"$ERR"
ok "formula cells: the quote is taken off when read" same_nodes "$T/f1.json" "$T/f2.json"

# the example printed in docs/exhibit-schedule.md is the example file
python3 - "$EV_SOURCE_DIR/docs/exhibit-schedule.md" "$T/printed.csv" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"^```csv\n(.*?)^```$", text, re.S | re.M)
open(sys.argv[2], "w", encoding="utf-8").write(m.group(1) if m else "")
PY
ok "the CSV printed in docs/exhibit-schedule.md is docs/examples/exhibit-schedule.csv" \
    cmp -s "$T/printed.csv" "$EV_SOURCE_DIR/docs/examples/exhibit-schedule.csv"

finish
