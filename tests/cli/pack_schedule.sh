# evidence pack --exhibits SCHEDULE and evidence exhibits BUNDLE
# (docs/exhibit-schedule.md, docs/cli/evidence-exhibits.md):
# - the docs example (3 exhibits, 2 people, 2 places, 10 files) packs and
#   verifies valid; the record has its people, places, events and exhibits,
#   each item under its exhibit's folder and naming its exhibit;
# - `evidence exhibits` writes it back (CSV and JSON); packed again from the
#   extracted bag, the record is the same but for the fields named below
#   (bundle_id, created, items[].times, items[].salt, disclosure.root);
# - a bad schedule (a missing file, a duplicate reference, Latin-1 bytes)
#   ends with exit 3, names the line and column, and writes nothing;
# - a record whose references do not resolve fails verify with
#   record-dangling-reference;
# - a formula-like cell is written back defused.
. "$(dirname "$0")/lib.sh"

W="$T/work"
example_schedule "$W" "content of "
PACK=(pack -q --case 23/1234 --officer "A. Example" --org "Example Police")

# --- the example packs and verifies -------------------------------------------------
expect_exit 0 "$EVIDENCE" "${PACK[@]}" -o "$T/a.zip" --exhibits "$W/schedule.csv"
expect_exit 0 "$EVIDENCE" verify "$T/a.zip"
(cd "$T" && unzip -q -o a.zip a/evidence.json) || die "no evidence.json in a.zip"
run python3 - "$T/a/evidence.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert [len(r[k]) for k in ("people", "places", "events", "exhibits", "items")] == [2, 2, 3, 3, 10], \
    [len(r.get(k, [])) for k in ("people", "places", "events", "exhibits", "items")]
assert [x["reference"] for x in r["exhibits"]] == ["JS/1", "JS/2", "AB/1"]
assert all("files" not in x for x in r["exhibits"])
ev = {e["id"]: e for e in r["events"]}
ppl = {p["id"]: p for p in r["people"]}
x2 = r["exhibits"][1]
e2 = ev[x2["event"]]
assert ppl[e2["performer"]]["name"] == "Jo Smith", e2
assert e2["performer_role"] == "Seizing officer" and e2["time_zone"] == "unknown"
assert "time" not in e2 and e2["time_local"] == "2026-03-14T11:20"
assert ev[r["exhibits"][2]["event"]].get("time_unknown") is True
assert ev[r["exhibits"][0]["event"]]["performer"] == e2["performer"]  # one person, one node
assert x2["source"]["serial"] == "DS7608-2019-0042" and x2["references"]["dems_id"] == "DEMS-000482"
by = {}
for it in r["items"]:
    by.setdefault(it["exhibit"], []).append(it["path"])
assert sorted(by["JS/1"]) == ["data/JS_1/IMG_000%d.jpg" % i for i in (1, 2, 3, 4)], by
assert len(by["JS/2"]) == 3 and len(by["AB/1"]) == 3, by
EOF
ok "the record carries 2 people, 2 places, 3 events, 3 exhibits and 10 items under them" \
    test "$RC" -eq 0 || show_last

run python3 "$TOOLS/data_dictionary_check.py" "$EV_SOURCE_DIR" --record "$T/a/evidence.json"
ok "every field of the record is in the data dictionary" test "$RC" -eq 0 || show_last
S="$EV_SOURCE_DIR/docs/schema"
run bash "$EV_SOURCE_DIR/scripts/ajv.sh" validate --spec=draft2020 --strict=false -c ajv-formats \
    -s "$S/evidence.schema.json" -r "$S/media.schema.json" -r "$S/schedule.schema.json" \
    -d "$T/a/evidence.json"
if [ "$RC" -eq 77 ]; then
    note "npm is not available: the record is not checked against its schema with ajv"
else
    ok "the record matches docs/schema/evidence.schema.json (ajv)" test "$RC" -eq 0 || show_last
fi

# --- inspect shows the exhibit table ------------------------------------------------------
expect_exit 0 "$EVIDENCE" inspect "$T/a.zip"
ok "inspect: the exhibit table" grep -q '^exhibit table:' "$OUT"
ok "inspect: JS/2 seized by Jo Smith, time without zone" \
    grep -q 'seized by Jo Smith (PC 1234, Example Police), Seizing officer' "$OUT"
ok "inspect: the unknown time is said" grep -q 'time 2026-03-14T11:20 (zone unknown)' "$OUT"
expect_exit 0 "$EVIDENCE" inspect --json "$T/a.zip"
ok "inspect --json: schedule with 3 exhibits and 2 people" test \
    "$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["schedule"]; print(len(s["exhibits"]), len(s["people"]))' "$OUT")" = "3 2"

# --- written back, packed again: the same record -------------------------------------
expect_exit 0 "$EVIDENCE" extract "$T/a.zip" "$T/x"
expect_exit 0 "$EVIDENCE" exhibits "$T/a.zip"
cp "$OUT" "$T/x/schedule.csv"
ok "the CSV has a header and one row per exhibit" grep -q '^reference,description,' "$T/x/schedule.csv"
ok "the files are bag paths" grep -q 'data/JS_1/IMG_0001.jpg' "$T/x/schedule.csv"
expect_exit 0 "$EVIDENCE" exhibits --json "$T/a.zip"
cp "$OUT" "$T/x/schedule.json"
ok "the JSON is an evidence.schedule" grep -q '"format": "evidence.schedule"' "$T/x/schedule.json"

same_record() { # A.json B.json: equal but for the named fields
    python3 - "$1" "$2" <<'EOF'
import json, sys
def norm(r):
    r.pop("bundle_id"); r.pop("created"); r["disclosure"].pop("root")
    for it in r["items"]:
        it.pop("times", None); it.pop("salt", None)
    return r
a, b = (norm(json.load(open(p))) for p in sys.argv[1:3])
if a != b:
    for k in a:
        if a.get(k) != b.get(k):
            print("differs:", k, json.dumps(a.get(k))[:300], json.dumps(b.get(k))[:300])
    sys.exit(1)
EOF
}
for form in csv json; do
    expect_exit 0 "$EVIDENCE" "${PACK[@]}" -o "$T/b-$form.zip" --exhibits "$T/x/schedule.$form"
    expect_exit 0 "$EVIDENCE" verify "$T/b-$form.zip"
    (cd "$T" && unzip -q -o "b-$form.zip" "b-$form/evidence.json") || die "no evidence.json"
    run same_record "$T/a/evidence.json" "$T/b-$form/evidence.json"
    ok "re-packed from the $form export: the same record but for ids and times" \
        test "$RC" -eq 0 || show_last
done

# --- bad schedules: exit 3, line and column named, nothing written --------------------
bad() { # NAME WHAT PATTERN: pack $W/NAME.csv must fail
    local name=$1 what=$2 pattern=$3
    expect_exit 3 "$EVIDENCE" "${PACK[@]}" -o "$T/$name.zip" --exhibits "$W/$name.csv"
    ok "$what: the message names line and column" grep -q "$pattern" "$ERR" || show_last
    ok "$what: nothing written" test ! -e "$T/$name.zip"
    ok "$what: no temporary file left" test -z "$(find "$T" -maxdepth 1 -name ".$name.zip*")"
}
sed 's#JS1/IMG_0003.jpg#JS1/IMG_0009.jpg#' "$W/schedule.csv" >"$W/missing.csv"
bad missing "a listed file that does not exist" "line 2, column 24 (files).*IMG_0009.jpg"
sed 's#^AB/1,#js/1,#' "$W/schedule.csv" >"$W/duplicate.csv"
bad duplicate "a duplicate reference" "line [0-9]*, column 1 (reference).*also the reference"
sed 's#call handler#call h\xe9ndler#' "$W/schedule.csv" >"$W/latin1.csv"
bad latin1 "Latin-1 bytes" "line [0-9]*, column 2 (description).*0xE9"
# every problem is printed, not only the first
sed 's#JS1/IMG_0003.jpg#JS1/IMG_0009.jpg#; s#^AB/1,#js/1,#' "$W/schedule.csv" >"$W/two.csv"
bad two "two problems" "IMG_0009.jpg"
ok "... both printed" grep -q "also the reference" "$ERR"

# --- a reference that does not resolve --------------------------------------------------
expect_exit 0 "$EVIDENCE" "${PACK[@]}" --format dir -o "$T/d" --exhibits "$W/schedule.csv"
sed -i 's#"performer": "person-2"#"performer": "person-9"#' "$T/d/evidence.json"
expect_exit 1 "$EVIDENCE" verify --json "$T/d"
cp "$OUT" "$T/d.json"
expect_problem "$T/d.json" record-dangling-reference

# --- a cell a spreadsheet would run is written back defused ------------------------------
mkdir -p "$W/f"
printf 'x\n' >"$W/f/one.txt"
printf 'reference,description,files\nF/1,"=HYPERLINK(""http://example.invalid"")",one.txt\n' \
    >"$W/f/schedule.csv"
expect_exit 0 "$EVIDENCE" "${PACK[@]}" -o "$T/f.zip" --exhibits "$W/f/schedule.csv"
expect_exit 0 "$EVIDENCE" exhibits --csv "$T/f.zip"
ok "a formula cell is written with a quote in front" grep -q "^F/1,\"'=HYPERLINK" "$OUT" || show_last

# --- usage -------------------------------------------------------------------------------
expect_exit 2 "$EVIDENCE" exhibits
expect_exit 3 "$EVIDENCE" exhibits "$T/no-such.zip"

finish
