# label: slow
# 16,000 files through pack -> verify -> extract (byte for byte), their
# evidence.json over 8 MiB so that verify reads it through a mapped
# temporary file (record_read.c, RECORD_MAP_FROM); and a
# hand-made bag ZIP with 70,000 entries, more than a plain ZIP can count, so
# its central directory needs the ZIP64 end records.
. "$(dirname "$0")/lib.sh"

SRC="$T/src/many"
python3 - "$SRC" <<'EOF' || die "could not make 16,000 files"
import os, sys
root = sys.argv[1]
for i in range(16000):
    d = os.path.join(root, "d%03d" % (i // 100))
    if i % 100 == 0:
        os.makedirs(d)
    with open(os.path.join(d, "f%05d.txt" % i), "w") as f:
        f.write("file %d\n" % i * (i % 7))
EOF

expect_exit 0 "$EVIDENCE" pack -o "$T/many.zip" "$SRC"
expect_exit 0 "$EVIDENCE" verify --json "$T/many.zip" &&
    ok "verify --json: valid, 16,000 payload files, each with its item" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert d["verdict"]=="valid", d["verdict"]
assert d["summary"]["payload_files"]==16000, d["summary"]
pay=[f for f in d["files"] if f["kind"]=="payload"]
assert sum(1 for f in pay if f["status"]=="ok")==16000
ids=sorted(f.get("item_id") or "" for f in pay)
assert ids==sorted("item-%04d" % (i + 1) for i in range(16000)), ids[:3]
' "$OUT"
expect_exit 0 unzip -l "$T/many.zip"
n=$(grep -c ' many/data/1/many/d[0-9]*/f[0-9]*\.txt$' "$OUT")
[ "$n" -eq 16000 ] && pass || fail "unzip -l lists $n payload files, expected 16000"
rs=$(awk '$4 == "many/evidence.json" {print $1}' "$OUT")
[ "${rs:-0}" -gt 8388608 ] && pass || fail "evidence.json is ${rs:-?} bytes, not over 8 MiB"
# a record changed inside the mapped text is still found: one item's size
unzip -q "$T/many.zip" -d "$T/unz" || die "unzip failed"
python3 - "$T/unz/many/evidence.json" <<'EOF' || die "could not edit the record"
import sys
p = sys.argv[1]
t = open(p).read()
k = t.index('"id": "item-15000"')
s = t.index('"size": ', k)
e = t.index(",", s)
open(p, "w").write(t[:s] + '"size": 31.0' + t[e:])
EOF
expect_exit 1 "$EVIDENCE" verify --json "$T/unz/many" &&
    expect_problem "$OUT" record-size-mismatch "" error &&
    ok "the size as written, of item-15000" grep -q 'gives item-15000 a size of 31.0' "$OUT"
expect_exit 0 "$EVIDENCE" extract "$T/many.zip" "$T/out"
ok "16,000 files extracted byte for byte" diff -r "$SRC" "$T/out/data/1/many"

# a hand-made bag with 70,000 payload files in a ZIP64 archive
python3 - "$T/big/b70k" "$T/b70k.zip" <<'EOF' || die "could not make the 70,000-entry ZIP"
import hashlib, sys, zipfile
top, out = sys.argv[1].rsplit("/", 1)[1], sys.argv[2]
man = []
with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
    z.writestr(top + "/bagit.txt", b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    for i in range(70000):
        data = b"%d\n" % i
        name = "data/%02d/%05d" % (i // 1000, i)
        z.writestr(top + "/" + name, data)
        man.append("%s  %s\n" % (hashlib.sha256(data).hexdigest(), name))
    z.writestr(top + "/manifest-sha256.txt", "".join(man), zipfile.ZIP_DEFLATED)
with open(out, "rb") as f:
    f.seek(-200, 2)
    tail = f.read()
assert b"PK\x06\x06" in tail, "python did not write a ZIP64 end record"
EOF
expect_exit 0 "$EVIDENCE" verify --json "$T/b70k.zip" &&
    ok "70,000 entries: valid" python3 "$TOOLS/evjson.py" check "$OUT" valid
# one changed entry among 70,000 is found and named
python3 - "$T/b70k.zip" <<'EOF' || die "could not damage the ZIP"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
zi = z.getinfo("b70k/data/69/69999")
with open(sys.argv[1], "r+b") as f:
    f.seek(zi.header_offset + 30 + len(zi.filename.encode()) + len(zi.extra))
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0x01]))
EOF
# (libzip checks the CRC of stored entries, so this may be reported as
# unreadable rather than modified; either is an error naming the file)
expect_exit 1 "$EVIDENCE" verify --json "$T/b70k.zip" &&
    expect_problem "$OUT" "modified|unreadable" data/69/69999 error

finish
