# case.jsonld through a SHACL validator (scripts/case-shacl.sh: npm
# rdf-validate-shacl), offline: a bundle packed from samples/ (with a
# transcoded copy, so derivation nodes are there) conforms to
# tests/tools/case-core-shapes.ttl, and breaking it (an exhibit number
# removed, a blank node, a dateTime that is not one) is caught, each named.
# Those shapes are a few rules written for this project, not the CASE/UCO
# shapes, which cannot be had on this machine; set CASE_UCO_SHAPES to a
# Turtle file of the CASE/UCO 1.4 ontology and its shapes to check against
# them too. Skipped (77) when npm cannot install the validator.
. "$(dirname "$0")/lib.sh"

SH="$EV_SOURCE_DIR/scripts/case-shacl.sh"
expect_exit 0 "$EVIDENCE" pack -q -o "$T/s.zip" --case 23/1234 --exhibit JS/1 --officer "A. Example" \
    --officer-id "PC 1" --org "Example Police" --profile working-copy-h264 "$EV_SOURCE_DIR/samples/media"
run bash "$SH" "$T/s.zip"
[ "$RC" -eq 77 ] && skip_case "the SHACL validator cannot be installed (npm)" && finish
ok "the samples bundle's case.jsonld conforms" test "$RC" -eq 0 || show_last
ok "... as a report" test "$(json_get "$OUT" conforms)" = "true"
if [ -n "${CASE_UCO_SHAPES:-}" ]; then
    ok "... including the CASE/UCO shapes in $CASE_UCO_SHAPES" grep -qF "$CASE_UCO_SHAPES" "$OUT"
else
    note "CASE_UCO_SHAPES not set: checked against tests/tools/case-core-shapes.ttl only"
fi

# the exhibit schedule of docs/examples (3 exhibits, 2 people, 2 places,
# 3 events): its nodes conform, and every fact of the record's schedule is
# in the graph as docs/exhibit-schedule.md maps it (a differential check of
# case.jsonld against evidence.json)
W="$T/sched"
example_schedule "$W"
# one stated time written without seconds
sed -i 's/2026-03-14T09:05:00Z/2026-03-14T09:05+01:00/' "$W/schedule.csv"
(cd "$W" && "$EVIDENCE" pack -q -o "$T/x.zip" --case 23/1 --officer-person person-1 \
    --exhibits schedule.csv) >"$OUT" 2>"$ERR"
ok "the example schedule packs" test $? -eq 0 || show_last
# a custody event naming the second person of the schedule, at its first place
expect_exit 0 "$EVIDENCE" custody add "$T/x.zip" --action received --person person-2 --place place-1

run bash "$SH" "$T/x.zip"
ok "the schedule's case.jsonld conforms" test "$RC" -eq 0 || show_last
(cd "$T" && unzip -q x.zip 'x/case.jsonld' 'x/evidence.json' 'x/custody.jsonl') || die "no case.jsonld in x.zip"
run python3 "$TOOLS/case_schedule_facts.py" "$T/x/evidence.json" "$T/x/case.jsonld" "$T/x/custody.jsonl"
ok "every schedule fact of evidence.json is in case.jsonld, as mapped" test "$RC" -eq 0 || show_last
python3 - "$T/x/case.jsonld" "$T/x-bad.jsonld" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for n in d["@graph"]:
    if n.get("@type") == "uco-location:Location":
        n["@type"] = "uco-location:SimpleAddressFacet"
json.dump(d, open(sys.argv[2], "w"))
PY
run bash "$SH" "$T/x-bad.jsonld"
ok "an action whose location is not a Location does not conform" test "$RC" -eq 1 || show_last
ok "... named" grep -q 'uco/action/location' "$OUT"
run python3 "$TOOLS/case_schedule_facts.py" "$T/x/evidence.json" "$T/x-bad.jsonld" "$T/x/custody.jsonl"
ok "... and the fact check sees the place gone" test "$RC" -eq 1

(cd "$T" && unzip -q s.zip s/case.jsonld) || die "no case.jsonld"
python3 - "$T/s/case.jsonld" "$T/bad.jsonld" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for n in d["@graph"]:
    if n.get("@type") == "case-investigation:ProvenanceRecord":
        del n["case-investigation:exhibitNumber"]
    if n.get("@type") == "uco-core:Bundle":
        n["uco-core:objectCreatedTime"] = {"@type": "xsd:dateTime", "@value": "yesterday"}
d["@graph"].append({"@type": "uco-identity:Person", "uco-core:name": "no IRI"})
json.dump(d, open(sys.argv[2], "w"))
PY
run bash "$SH" "$T/bad.jsonld"
ok "a broken case.jsonld does not conform (exit 1)" test "$RC" -eq 1 || show_last
ok "... the missing exhibit number is named" grep -q '"path": "https://ontology.caseontology.org/case/investigation/exhibitNumber"' "$OUT"
ok "... the dateTime that is not one is named" grep -q 'objectCreatedTime' "$OUT"
ok "... the blank node is named" grep -q 'node kind <http://www.w3.org/ns/shacl#IRI>' "$OUT"

finish
