# The data dictionary (docs/data-dictionary.json, .md) is in step with the
# record and the schedule:
# - every field of docs/schema/evidence.schema.json (with media.schema.json)
#   and schedule.schema.json, and of a custody event
#   (evidence.custody.schema.json, $defs/event), has one entry, and no entry names a field that
#   no schema has (tests/tools/data_dictionary_check.py);
# - docs/data-dictionary.md is what scripts/data_dictionary.py makes of the JSON;
# - a record made by `evidence pack` from samples/ (with a transcoded copy, so
#   that derived_from is there) has no field the dictionary lacks;
# - and each check fails when it should: a field added to a schema, an entry
#   dropped, an entry for no field, a record field the dictionary lacks.
. "$(dirname "$0")/lib.sh"

CHECK="$TOOLS/data_dictionary_check.py"
R="$EV_SOURCE_DIR"

run python3 "$CHECK" "$R"
ok "the dictionary is in step with the schemas" test "$RC" -eq 0 || show_last
run python3 "$R/scripts/data_dictionary.py" --check
ok "docs/data-dictionary.md is generated from the JSON" test "$RC" -eq 0 || show_last
ok "every entry has a row in the page" test "$(grep -c '^| `' "$R/docs/data-dictionary.md")" -eq \
    "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["fields"]))' "$R/docs/data-dictionary.json")"

# a real record: samples/ packed with a working copy of the clip
expect_exit 0 "$EVIDENCE" pack -q -o "$T/s.zip" --case 23/1234 --exhibit JS/1 --officer "A. Example" \
    --officer-id "PC 1" --org "Example Police" --profile working-copy-h264 "$R/samples/media"
(cd "$T" && unzip -q s.zip s/evidence.json) || die "no evidence.json in the bundle"
ok "the sample record has derived_from (a transcoded copy)" grep -q '"derived_from"' "$T/s/evidence.json"
run python3 "$CHECK" "$R" --record "$T/s/evidence.json"
ok "every field of the sample record is in the dictionary" test "$RC" -eq 0 || show_last

# --- the checks fail when they should ---------------------------------------
F="$T/root"
mkdir -p "$F/docs/schema"
cp "$R"/docs/schema/evidence.schema.json "$R"/docs/schema/media.schema.json \
   "$R"/docs/schema/schedule.schema.json "$R"/docs/schema/evidence.custody.schema.json \
   "$F/docs/schema/"
cp "$R/docs/data-dictionary.json" "$F/docs/"
# 1. a field added to the record's schema
python3 - "$F/docs/schema/evidence.schema.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["$defs"]["item"]["properties"]["colour"] = {"type": "string"}
json.dump(s, open(sys.argv[1], "w"))
EOF
run python3 "$CHECK" "$F"
ok "a schema field not in the dictionary: fails" test "$RC" -eq 1
ok "... naming it" grep -q "record field 'items\[\].colour' is in the schema but not in the dictionary" "$OUT" ||
    show_last
cp "$R/docs/schema/evidence.schema.json" "$F/docs/schema/"
# 2. an entry dropped, 3. an entry for no field, 4. a wrong required
python3 - "$F/docs/data-dictionary.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["fields"] = [f for f in d["fields"] if f["path"] != "items[].hashes.sha256"]
d["fields"].append(dict(d["fields"][0], path="items[].flavour"))
for f in d["fields"]:
    if f["source"] == "schedule" and f["path"] == "exhibits[].reference":
        f["required"] = False
json.dump(d, open(sys.argv[1], "w"))
EOF
run python3 "$CHECK" "$F"
ok "a dropped entry: fails" test "$RC" -eq 1
ok "... naming it" grep -q "record field 'items\[\].hashes.sha256' is in the schema but not in the dictionary" "$OUT"
ok "an entry for no field: named" grep -q "(record items\[\].flavour): in the dictionary but in no schema" "$OUT"
ok "a wrong 'required': named" grep -q "(schedule exhibits\[\].reference): required False, the schema says True" "$OUT"
# 6. a custody event's field dropped from the dictionary (custody.jsonl)
cp "$R/docs/data-dictionary.json" "$F/docs/"
python3 - "$F/docs/data-dictionary.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["fields"] = [f for f in d["fields"] if (f["source"], f["path"]) != ("custody", "person")]
json.dump(d, open(sys.argv[1], "w"))
EOF
run python3 "$CHECK" "$F"
ok "a custody field not in the dictionary: fails" test "$RC" -eq 1
ok "... naming it" grep -q "custody field 'person' is in the schema but not in the dictionary" "$OUT" ||
    show_last
# 5. a record field the dictionary lacks
python3 - "$T/s/evidence.json" "$T/odd.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
r["items"][0]["colour"] = "red"
r["case"]["court"] = "Example Crown Court"
json.dump(r, open(sys.argv[2], "w"))
EOF
run python3 "$CHECK" "$R" --record "$T/odd.json"
ok "a record field not in the dictionary: fails" test "$RC" -eq 1
ok "... naming each" grep -q "field 'items\[\].colour'" "$OUT" && grep -q "field 'case.court'" "$OUT"

finish
