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
