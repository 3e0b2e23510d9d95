# Custody events that name the record's people and places (docs/exhibit-schedule.md,
# docs/cli/evidence-custody.md, docs/cli/evidence-pack.md):
# - pack --officer-person P: the "created" event names that person of the
#   schedule, and the officer, identifier and organisation come from it;
#   a person packed by --officer alone is never linked (no matching by name);
# - custody add --person P [--place L]: P is a people id or an identifier
#   exactly as recorded; actor and organisation come from the node;
# - refused (exit 2, the bundle unchanged, the message naming what is
#   wrong and the ids there are): an unknown or ambiguous person, an unknown
#   place, an actor or organisation that is not the person's, and a person
#   named in a bundle that has no people;
# - inspect and custody show (text and JSON) give the node's name and
#   identifier; verify finds an event whose person names no node
#   (record-dangling-reference) or is not a string (custody-event-invalid);
# - the commands of docs/exhibit-schedule.md run as printed;
# - an older bundle (tests/cli/fixtures/views-layout1.zip) still verifies,
#   and still takes events without a person.
. "$(dirname "$0")/lib.sh"

W="$T/work"
mkdir -p "$W/JS1" "$W/JS2"
cp "$EV_SOURCE_DIR/docs/examples/exhibit-schedule.csv" "$W/schedule.csv"
for f in JS1/IMG_0001.jpg JS1/IMG_0002.jpg JS1/IMG_0003.jpg JS1/IMG_0004.jpg JS2/cctv-cam1.mp4 \
         JS2/cctv-cam2.mp4 JS2/cctv-export-log.txt AB1-call.wav AB1-notes.txt AB1-photo.jpg; do
    printf 'content of %s\n' "$f" >"$W/$f"
done
PACK=(pack -q --case 23/1234 --no-media)
last_event() { # BUNDLE.zip KEY: that key of the last custody event
    python3 - "$1" "$2" <<'EOF'
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
name = [n for n in z.namelist() if n.endswith("/custody.jsonl") and n.count("/") == 1][0]
ev = json.loads(z.read(name).decode().splitlines()[-1])
print(ev.get(sys.argv[2], "(none)"))
EOF
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

# --- pack --officer-person -------------------------------------------------------------
expect_exit 0 "$EVIDENCE" "${PACK[@]}" -o "$T/a.zip" --exhibits "$W/schedule.csv" \
    --officer-person "PC 1234"
ok "created: names person-1" test "$(last_event "$T/a.zip" person)" = person-1
ok "created: the actor is the person's name" test "$(last_event "$T/a.zip" actor)" = "Jo Smith"
ok "created: the organisation is the person's" \
    test "$(last_event "$T/a.zip" organisation)" = "Example Police"
ok "bag-info: the officer and identifier are the person's" \
    bash -c "unzip -p '$T/a.zip' a/bag-info.txt | grep -q '^Contact-Name: Jo Smith' &&
             unzip -p '$T/a.zip' a/bag-info.txt | grep -q '^Evidence-Officer-Identifier: PC 1234'"
expect_exit 0 "$EVIDENCE" verify "$T/a.zip"

# the same person given as --officer, without --officer-person: no link
expect_exit 0 "$EVIDENCE" "${PACK[@]}" -o "$T/n.zip" --exhibits "$W/schedule.csv" \
    --officer "Jo Smith" --officer-id "PC 1234" --org "Example Police"
ok "no --officer-person: the created event names no person" \
    test "$(last_event "$T/n.zip" person)" = "(none)"

# refusals: nothing written
expect_exit 2 "$EVIDENCE" "${PACK[@]}" -o "$T/r1.zip" --exhibits "$W/schedule.csv" \
    --officer-person person-2 --officer "Bob"
ok "pack: another officer than the person's is refused, naming both" \
    grep -q "the officer 'Bob' is not the name of person-2 in the schedule ('Ali Brown')" "$ERR" ||
    show_last
ok "... nothing written" test ! -e "$T/r1.zip"
expect_exit 2 "$EVIDENCE" "${PACK[@]}" -o "$T/r2.zip" --exhibits "$W/schedule.csv" \
    --officer-person "PC 9"
ok "pack: an unknown person is refused, with the people there are" \
    grep -q "no person 'PC 9' in the schedule.*person-1 (Jo Smith, PC 1234, Example Police), person-2 (Ali Brown, Staff 5678" \
    "$ERR" || show_last
ok "... nothing written" test ! -e "$T/r2.zip"
expect_exit 2 "$EVIDENCE" "${PACK[@]}" -o "$T/r3.zip" --officer-person person-1 --exhibit X "$W/JS1"
ok "pack: --officer-person without --exhibits is a usage error" \
    grep -q -- "--officer-person names a person of an exhibit schedule" "$ERR" || show_last

# --- custody add --person / --place ------------------------------------------------------
expect_exit 0 "$EVIDENCE" custody add "$T/a.zip" --action received --person "Staff 5678" \
    --place place-1 --note "handed to the exhibits officer"
ok "add: the event names person-2 (found by identifier)" test "$(last_event "$T/a.zip" person)" = person-2
ok "add: and place-1" test "$(last_event "$T/a.zip" place)" = place-1
ok "add: the actor is the person's name" test "$(last_event "$T/a.zip" actor)" = "Ali Brown"
expect_exit 0 "$EVIDENCE" verify "$T/a.zip"

before=$(sha "$T/a.zip")
refused() { # WHAT PATTERN ARGS...: custody add must exit 2 with PATTERN and change nothing
    local what=$1 pattern=$2
    shift 2
    expect_exit 2 "$EVIDENCE" custody add "$T/a.zip" --action note "$@"
    ok "add: $what is refused, saying so" grep -q -- "$pattern" "$ERR" || show_last
    ok "add: $what: the bundle is unchanged" test "$(sha "$T/a.zip")" = "$before"
}
refused "an actor that is not the person's" \
    "the actor 'J. Smith' is not the name of person-1 in the record ('Jo Smith')" \
    --person "PC 1234" --actor "J. Smith"
refused "an organisation that is not the person's" \
    "the organisation 'Other Police' is not the organisation of person-1" \
    --person person-1 --org "Other Police"
refused "an unknown person" \
    "no person 'Jo Smith' in the record (by id or identifier): its people are person-1 (Jo Smith, PC 1234" \
    --person "Jo Smith"
refused "an identifier in another letter case" "no person 'pc 1234'" --person "pc 1234"
refused "an unknown place" "no place 'place-9' in the record (by id): its places are place-1 (Front door" \
    --person person-1 --place place-9
refused "no actor and no person" "needs --actor NAME (or --person P)" --org X
refused "two persons" "--person is given twice: an event names one" --person person-1 --person person-2
refused "an empty person" "no person '' in the record" --person ""

# two people with one identifier (in two forces): ambiguous
mkdir -p "$W/amb"
printf 'one\n' >"$W/amb/one.txt"
printf 'two\n' >"$W/amb/two.txt"
printf '%s\n' 'reference,producer_name,producer_identifier,producer_organisation,files' \
    'A/1,Ann One,PC 1,Force One,one.txt' 'A/2,Ben Two,PC 1,Force Two,two.txt' >"$W/amb/schedule.csv"
expect_exit 0 "$EVIDENCE" "${PACK[@]}" -o "$T/amb.zip" --exhibits "$W/amb/schedule.csv"
expect_exit 2 "$EVIDENCE" custody add "$T/amb.zip" --action note --person "PC 1"
ok "add: an identifier two people have is refused, naming both" \
    grep -q "'PC 1' is the identifier of 2 people of the record: person-1 (Ann One, PC 1, Force One), person-2 (Ben Two, PC 1, Force Two); name one by its id" \
    "$ERR" || show_last
expect_exit 0 "$EVIDENCE" custody add "$T/amb.zip" --action note --person person-2
ok "... and taken by its id" test "$(last_event "$T/amb.zip" actor)" = "Ben Two"

# --- inspect and custody show -------------------------------------------------------------
expect_exit 0 "$EVIDENCE" custody show "$T/a.zip"
ok "custody show: the person of the created event" \
    grep -q '^     person person-1: Jo Smith (PC 1234, Example Police)$' "$OUT" || show_last
ok "custody show: the person and place of the received event" \
    bash -c "grep -q '^     person person-2: Ali Brown (Staff 5678, Example Police)$' '$OUT' &&
             grep -q '^     place place-1: Front door of 12 High Street (12 High Street, Exampletown, EX1 2AB)$' '$OUT'" ||
    show_last
expect_exit 0 "$EVIDENCE" inspect "$T/a.zip"
ok "inspect: the person under the event" \
    grep -q '^      person person-2: Ali Brown (Staff 5678, Example Police)$' "$OUT" || show_last
expect_exit 0 "$EVIDENCE" inspect --json "$T/a.zip"
cp "$OUT" "$T/inspect.json"
ok "inspect --json: the entry carries the person node" test \
    "$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["custody"][1]; print(e["event"]["person"], e["person"]["name"], e["person"]["identifier"], e["place"]["id"])' "$T/inspect.json")" \
    = "person-2 Ali Brown Staff 5678 place-1"
expect_exit 0 "$EVIDENCE" custody show --json "$T/a.zip"
cp "$OUT" "$T/custody.json"
S="$EV_SOURCE_DIR/docs/schema"
run bash "$EV_SOURCE_DIR/scripts/ajv.sh" validate --spec=draft2020 --strict=false -c ajv-formats \
    -s "$S/evidence.custody.schema.json" -d "$T/custody.json"
if [ "$RC" -eq 77 ]; then
    note "npm is not available: custody show --json is not checked against its schema with ajv"
else
    ok "custody show --json matches evidence.custody.schema.json (ajv)" test "$RC" -eq 0 || show_last
    python3 - "$T/custody.json" "$T/custody-bad.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["events"][1]["event"]["person"] = ""
json.dump(d, open(sys.argv[2], "w"))
EOF
    run bash "$EV_SOURCE_DIR/scripts/ajv.sh" validate --spec=draft2020 --strict=false -c ajv-formats \
        -s "$S/evidence.custody.schema.json" -d "$T/custody-bad.json"
    ok "... and an empty person does not" test "$RC" -eq 1 || show_last
fi

# --- verify: a person that names no node, a person that is not a string ---------------------
expect_exit 0 "$EVIDENCE" "${PACK[@]}" --format dir -o "$T/d" --exhibits "$W/schedule.csv" \
    --officer-person person-1
sed -i 's#"person":"person-1"#"person":"person-9"#' "$T/d/custody.jsonl"
expect_exit 1 "$EVIDENCE" verify --json "$T/d"
cp "$OUT" "$T/d.json"
expect_problem "$T/d.json" record-dangling-reference custody.jsonl
ok "... saying which event and which id" \
    grep -q "custody.jsonl line 1: the event's person is 'person-9', but no person in /people" "$T/d.json" ||
    show_last
sed -i 's#"person":"person-9"#"person":9#' "$T/d/custody.jsonl"
expect_exit 1 "$EVIDENCE" verify --json "$T/d"
cp "$OUT" "$T/d2.json"
expect_problem "$T/d2.json" custody-event-invalid custody.jsonl

# --- an older bundle, without these fields ---------------------------------------------------
cp "$EV_SOURCE_DIR/tests/cli/fixtures/views-layout1.zip" "$T/old.zip"
expect_exit 0 "$EVIDENCE" verify "$T/old.zip"
expect_exit 2 "$EVIDENCE" custody add "$T/old.zip" --action note --person person-1
ok "an older bundle: a person is refused (it has no people)" \
    grep -q "no person 'person-1': the record has no people" "$ERR" || show_last
expect_exit 0 "$EVIDENCE" custody add "$T/old.zip" --action note --actor "Desk" --org "Store"
expect_exit 0 "$EVIDENCE" verify "$T/old.zip"
ok "an older bundle: the new event names no person" test "$(last_event "$T/old.zip" person)" = "(none)"

# --- the commands of docs/exhibit-schedule.md, as printed ------------------------------------
expect_exit 0 python3 "$TOOLS/doccmds.py" extract "$EV_SOURCE_DIR" docs/exhibit-schedule.md \
    tests/cli/custody_people.sh "$T/blocks"
ok "one block of docs/exhibit-schedule.md is run here" test "$(ls "$T/blocks" | wc -l)" -eq 1
BIN="$T/bin"
mkdir -p "$BIN"
ln -s "$(cd "$(dirname "$EVIDENCE")" && pwd)/$(basename "$EVIDENCE")" "$BIN/evidence"
for b in "$T"/blocks/*.sh; do
    if (cd "$W" && PATH="$BIN:$PATH" bash -e -o pipefail "$b") >"$T/doc.out" 2>&1; then
        pass
    else
        fail "docs/exhibit-schedule.md block $(head -1 "$b" | sed 's/^# //') failed"
        tail -20 "$T/doc.out" >&2
    fi
done
ok "docs: the received event shows its person and place" \
    bash -c "grep -q 'person person-2: Ali Brown (Staff 5678, Example Police)' '$T/doc.out' &&
             grep -q 'place place-1: Front door of 12 High Street' '$T/doc.out'" || tail -20 "$T/doc.out" >&2

finish
