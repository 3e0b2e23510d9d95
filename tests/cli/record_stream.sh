#!/bin/bash
# docs/bundle.md, "Reading a large record item by item": the jq command
# shown there reads every item of a packed bundle's evidence.json, one per
# line, the same items a whole parse gives, in order.
. "$(dirname "$0")/lib.sh"
cd "$T" || die "no scratch folder"
command -v jq >/dev/null || { note "jq is not installed (scripts/deps.sh installs it)"; exit 77; }
mkdir -p photos/a photos/b
python3 - <<'PY'
import random
r = random.Random(14)
for i in range(300):
    d = "photos/a" if i % 2 else "photos/b"
    # names with characters JSON escapes, and brackets and commas
    name = "%s/f%03d%s.bin" % (d, i, ["", " [x]", ",y", "\"q\""][i % 4])
    with open(name, "wb") as f:
        f.write(bytes(r.randrange(256) for _ in range(50)))
PY
n=$(python3 "$TOOLS/doccmds.py" extract "$EV_SOURCE_DIR" docs/bundle.md tests/cli/record_stream.sh "$T/blocks") ||
    die "no blocks in docs/bundle.md"
ok "docs/bundle.md: one block for this test" [ "$n" = 1 ]
mkdir -p bin && ln -sf "$EVIDENCE" bin/evidence
PATH="$T/bin:$PATH" bash -e "$T/blocks/01.sh" >"$OUT" 2>"$ERR"
ok "docs/bundle.md: the commands run" [ $? = 0 ]
ok "one line per item" [ "$(wc -l <items.jsonl)" = 300 ]
unzip -p case.zip case/evidence.json >rec.json
ok "the lines are the record's items, in order" python3 - rec.json items.jsonl <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["items"]
lines = [json.loads(l) for l in open(sys.argv[2])]
sys.exit(0 if lines == items and len(items) == 300 else 1)
PY
finish
