#!/bin/bash
# The line pack prints when it is done ("packed N item(s), B bytes, into OUT
# (bag 'NAME')") gives the bundle's own figures: N the items of its record,
# B its Payload-Oxum bytes, NAME its bag folder. Pack prints it from what
# the writer counted, without opening the bundle again; this checks the
# figures against the bundle itself, for a ZIP (also one named .ZIP), a
# folder bag, empty files and a name with spaces.
. "$(dirname "$0")/lib.sh"

S="$T/src"
mkdir -p "$S/sub/deeper" "$S/other"
python3 - "$S" <<'PY' || die "cannot make the files"
import os, random, sys
s = sys.argv[1]
r = random.Random(14)
for i, size in enumerate([0, 1, 100, 4096, 70000, 0, 33]):
    d = ["", "sub", "sub/deeper", "other"][i % 4]
    with open(os.path.join(s, d, "f %d.bin" % i), "wb") as f:
        f.write(r.randbytes(size))
PY

# summary OUT LOG FORMAT: check the printed line against the bundle
summary() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, os, re, sys, zipfile
out, log, fmt = sys.argv[1:4]
line = [l for l in open(log, encoding="utf-8").read().splitlines() if l.startswith("packed ")]
assert len(line) == 1, "no single summary line: %r" % line
if fmt == "zip":
    z = zipfile.ZipFile(out)
    top = {n.split("/")[0] for n in z.namelist()}
    assert len(top) == 1, top
    bag = top.pop()
    read = lambda p: z.read(bag + "/" + p).decode()
else:
    bag = os.path.basename(out)
    read = lambda p: open(os.path.join(out, p), encoding="utf-8").read()
info = read("bag-info.txt")
b, n = re.search(r"^Payload-Oxum: (\d+)\.(\d+)$", info, re.M).groups()
items = json.loads(read("evidence.json"))["items"]
assert int(n) == len(items), (n, len(items))
want = "packed %d item(s), %s bytes, into %s (bag '%s')" % (len(items), b, out, bag)
assert line[0] == want, "printed %r\nbundle  %r" % (line[0], want)
PY
}

expect_exit 0 "$EVIDENCE" pack -o "$T/one.zip" "$S" && ok "summary line" summary "$T/one.zip" "$OUT" zip
expect_exit 0 "$EVIDENCE" pack --no-media -o "$T/Two Words.ZIP" --exhibit A/1 "$S/sub" --exhibit B/2 "$S/other" "$S/f 0.bin" \
    && ok "summary line" summary "$T/Two Words.ZIP" "$OUT" zip
expect_exit 0 "$EVIDENCE" pack --format dir -o "$T/three" "$S" \
    && ok "summary line" summary "$T/three" "$OUT" dir
# only empty files: 0 bytes
mkdir -p "$T/empty"
: > "$T/empty/a"
: > "$T/empty/b"
expect_exit 0 "$EVIDENCE" pack -o "$T/four.zip" "$T/empty" \
    && ok "summary line" summary "$T/four.zip" "$OUT" zip
# --json still prints the inspection of the finished bundle
expect_exit 0 "$EVIDENCE" pack --json --no-media -o "$T/five.zip" "$S" \
    && ok "--json inspection" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["items"]) == 7, d.keys()' "$OUT"
finish
