# evidence disclose: a 400-item bundle, signed and timestamped, is cut to 3
# items; the part is a valid bag, reveals nothing of the 397 others, and
# verifies against the test PKI's roots (a local CA and a local TSA). A part
# of the part still leads to the first signature. Refusals: a bundle packed
# before disclosure trees, an unsigned bundle, unknown items, an existing
# output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign_env.sh"

sign_pki
tsa_start

# 400 small files with names, and one more to show a part never names it
mkdir -p "$T/in"
for i in $(seq -w 1 400); do printf 'statement %s of witness W-%s\n' "$i" "$i" > "$T/in/w$i.txt"; done
B="$T/b.zip"
expect_exit 0 "$EVIDENCE" pack -o "$B" --case C-9 --exhibit JS/1 --officer "Jane Smith" \
    --org "Test Police" --no-media "$T/in"
expect_exit 0 "$EVIDENCE" sign "$B" --key "$PKI/signer.key" --cert "$PKI/signer.pem" \
    --chain "$PKI/chain.pem" --tsa-url "$TSA/"
expect_exit 0 "$EVIDENCE" verify "$B" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem"
BID=$(unzip -p "$B" b/evidence.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["bundle_id"])')

# the record holds a salt per item and the root; the signature commits to it
ok "record: 400 salts and a disclosure root" python3 - "$B" <<'PY'
import json, sys, zipfile
r = json.loads(zipfile.ZipFile(sys.argv[1]).read("b/evidence.json"))
assert all(len(i["salt"]) == 64 for i in r["items"]) and len(r["items"]) == 400
assert len({i["salt"] for i in r["items"]}) == 400
d = r["disclosure"]
assert d["hash"] == "sha256" and d["items"] == 400 and len(d["root"]) == 64, d
PY

# Cut 3 items out of 400.
P="$T/part.zip"
expect_exit 0 "$EVIDENCE" disclose "$B" -o "$P" --item item-0003 --item item-0017 \
    --item item-0400 --actor "DC Roe" --org "Test Police" --note "for the prosecutor"
expect_exit 0 "$EVIDENCE" verify "$P" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem"
ok "text: 3 of 400 items, signer and time, 397 withheld, proven" grep -Eq \
    "^disclosure: 3 of 400 items of bundle $BID, signed by CN=Jane Smith,O=Test Police at [0-9T:-]+Z; 397 withheld: proven$" "$OUT"
ok "text: the part is valid" grep -q "part.zip: valid" "$OUT"
ok "text: the part's own (absent) signatures are not called 'no signatures in this bundle'" \
    bash -c '! grep -q "no signatures in this bundle" "$1" && grep -q "^the part has no signature of its own" "$1"' _ "$OUT"
expect_exit 0 "$EVIDENCE" verify --json "$P" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem"
cp "$OUT" "$T/v.json"
ok "json: disclosure section" python3 - "$T/v.json" "$BID" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
d = v["disclosure"]
assert v["verdict"] == "valid", v["verdict"]
assert d["verdict"] == "proven" and d["disclosed"] == 3 and d["items"] == 400, d
assert d["withheld"] == 397 and d["bundle_id"] == sys.argv[2] and d["proven_items"] == 3, d
assert d["signed_by"] == "CN=Jane Smith,O=Test Police" and d["signed_at"].endswith("Z"), d
s = d["signatures"][0]
assert s["verdict"] == "valid" and s["tsa_verified"] is True, s
assert s["path"] == "disclosure/0001-jane-smith.p7s", s
# 3 leaves and their paths: 9 nodes for items 3 and 17, 6 for item 400
# (the last 16 leaves of a tree of 400 form a subtree 2 levels up)
assert d["proof_hashes"] == 3 + 9 + 9 + 6, d["proof_hashes"]
PY

# The part is a plain BagIt bag for another tool, holds exactly 3 payload
# files and nothing about the others.
mkdir -p "$T/x" && (cd "$T/x" && unzip -q "$P")
ok "an independent BagIt validator accepts the part" python3 "$TOOLS/bagit_validate.py" "$T/x/part"
ok "3 payload files" test "$(find "$T/x/part/data" -type f | wc -l)" -eq 3
ok "manifest has 3 lines" test "$(wc -l < "$T/x/part/manifest-sha256.txt")" -eq 3
ok "the custody log is one 'disclosed' event" python3 - "$T/x/part/custody.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
e = json.loads(lines[0])
assert e["action"] == "disclosed" and e["actor"] == "DC Roe" and e["organisation"] == "Test Police", e
assert "3 of 400 items" in e["note"] and "for the prosecutor" in e["note"], e["note"]
PY
# nothing of a withheld item: no name, hash or salt of item-0004 anywhere
W_NAME=w004.txt
W_HASH=$(sha256sum "$T/in/w004.txt" | cut -d' ' -f1)
W_SALT=$(unzip -p "$B" b/evidence.json | python3 -c 'import json,sys; print([i for i in json.load(sys.stdin)["items"] if i["id"]=="item-0004"][0]["salt"])')
ok "no withheld name, hash or salt in the part" bash -c \
    "! grep -rqaF -e '$W_NAME' -e '$W_HASH' -e '$W_SALT' '$T/x/part'"
ok "no original custody line in the part" bash -c \
    "! grep -rqa '\"action\":\"created\"' '$T/x/part'"

# Without trust anchors: unverified, exit 0; with the wrong roots: invalid.
expect_exit 0 "$EVIDENCE" verify "$P"
ok "without --ca: unverified" grep -q "397 withheld: unverified" "$OUT"
expect_exit 1 "$EVIDENCE" verify "$P" --ca "$PKI/other-ca.pem" --tsa-ca "$PKI/tsa-root.pem"
ok "other roots: invalid, signer-untrusted" grep -q "signer-untrusted" "$OUT"

# A part of the part: its proof still leads to the first signature.
PP="$T/pp.zip"
expect_exit 0 "$EVIDENCE" disclose "$P" -o "$PP" --item item-0017 --actor "Clerk" --org "Court"
expect_exit 0 "$EVIDENCE" verify "$PP" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem"
ok "part of part: 1 of 400, proven by the first signature" grep -Eq \
    "^disclosure: 1 of 400 items of bundle $BID, signed by CN=Jane Smith,O=Test Police at .*; 399 withheld: proven$" "$OUT"
# and a part can be signed itself (its own custody); proofs are unchanged
expect_exit 0 "$EVIDENCE" sign "$PP" --key "$PKI/signer-rsa.key" --cert "$PKI/signer-rsa.pem" \
    --chain "$PKI/chain.pem"
expect_exit 0 "$EVIDENCE" verify "$PP" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem"
ok "signed part: still proven" grep -q "399 withheld: proven" "$OUT"

# --exhibit takes the exhibit's masters; a folder part works the same.
D="$T/dirpart"
expect_exit 0 "$EVIDENCE" disclose "$B" -o "$D" --exhibit JS/1 --format dir --actor A --org O
expect_exit 0 "$EVIDENCE" verify "$D" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem"
ok "exhibit: all 400, none withheld" grep -q "400 of 400 items .*; 0 withheld: proven" "$OUT"

# Refusals, each with nothing written.
expect_exit 3 "$EVIDENCE" disclose "$B" -o "$T/r1.zip" --item item-9999 --actor A --org O
ok "unknown item named" grep -q "no item 'item-9999'" "$ERR"
ok "unknown item: nothing written" test ! -e "$T/r1.zip"
expect_exit 4 "$EVIDENCE" disclose "$B" -o "$P" --item item-0001 --actor A --org O
ok "existing output untouched" bash -c "unzip -p '$P' part/custody.jsonl | grep -q 'DC Roe'"
expect_exit 2 "$EVIDENCE" disclose "$B" -o "$T/r2.zip" --item item-0001
ok "no actor: usage" test ! -e "$T/r2.zip"
U="$T/unsigned.zip"
make_bundle "$U"
expect_exit 3 "$EVIDENCE" disclose "$U" -o "$T/r3.zip" --item item-0001 --actor A --org O
ok "unsigned bundle: told to sign first" grep -q "sign it first" "$ERR"
ok "unsigned: nothing written" test ! -e "$T/r3.zip"

# A bundle packed before disclosure trees (its record has no root and no
# salts; made here by removing them and re-sealing as the old writer did).
O="$T/old"
make_bundle "$O" --format dir
python3 - "$O" <<'PY'
import hashlib, json, os, sys
bag = sys.argv[1]
p = os.path.join(bag, "evidence.json")
r = json.load(open(p))
del r["disclosure"]
for i in r["items"]:
    del i["salt"]
open(p, "w").write(json.dumps(r, indent=2) + "\n")
for v in ("case.jsonld", "index.html"):
    os.remove(os.path.join(bag, v))
sha = lambda f: hashlib.sha256(open(os.path.join(bag, f), "rb").read()).hexdigest()
# the custody event vouches for the new record
c = os.path.join(bag, "custody.jsonl")
e = json.loads(open(c).read().splitlines()[0])
e["record_sha256"] = sha("evidence.json")
open(c, "w").write(json.dumps(e, separators=(",", ":")) + "\n")
tags = [l.split("  ", 1)[1] for l in open(os.path.join(bag, "tagmanifest-sha256.txt")).read().splitlines()]
tags = [t for t in tags if os.path.exists(os.path.join(bag, t))]
open(os.path.join(bag, "tagmanifest-sha256.txt"), "w").write("".join(f"{sha(t)}  {t}\n" for t in tags))
open(os.path.join(bag, "tagseal-sha256.txt"), "w").write(f"{sha('tagmanifest-sha256.txt')}  tagmanifest-sha256.txt\n")
PY
expect_exit 0 "$EVIDENCE" verify "$O"
expect_exit 0 "$EVIDENCE" sign "$O" --key "$PKI/signer.key" --cert "$PKI/signer.pem" --chain "$PKI/chain.pem"
expect_exit 3 "$EVIDENCE" disclose "$O" -o "$T/r4.zip" --item item-0001 --actor A --org O
ok "old bundle: the reason is given" grep -q "packed before bundles had a disclosure tree" "$ERR"
ok "old bundle: nothing written" test ! -e "$T/r4.zip"
ok "old bundle: its signature has no commitment attribute" bash -c \
    "! openssl cms -cmsout -print -inform DER -in '$O/signatures/0001-jane-smith.p7s' | grep -q 2.25.44234944599588972979285240164174171480"
ok "new bundle: its signature carries the commitment attribute" bash -c \
    "unzip -p '$B' b/signatures/0001-jane-smith.p7s | openssl cms -cmsout -print -inform DER | grep -q 2.25.44234944599588972979285240164174171480"

# verify recomputes the root of a full bundle: an item entry or a salt
# edited after packing, with every other trace hidden (the custody event,
# tag manifests and seal re-made, views dropped), is disclosure-root-mismatch
# (kept in step with the old-bundle helper above)
for lie in 'r["items"][0]["original_name"] = "other.jpg"' 'r["items"][0]["salt"] = "0" * 64' \
           'r["disclosure"]["items"] = 2'; do
    L="$T/lie"
    rm -rf "$L"
    make_bundle "$L" --format dir
    python3 - "$L" "$lie" <<'PY'
import hashlib, json, os, sys
bag = sys.argv[1]
p = os.path.join(bag, "evidence.json")
r = json.load(open(p))
exec(sys.argv[2])
open(p, "w").write(json.dumps(r, indent=2) + "\n")
for v in ("case.jsonld", "index.html"):
    os.remove(os.path.join(bag, v))
sha = lambda f: hashlib.sha256(open(os.path.join(bag, f), "rb").read()).hexdigest()
c = os.path.join(bag, "custody.jsonl")
e = json.loads(open(c).read().splitlines()[0])
e["record_sha256"] = sha("evidence.json")
open(c, "w").write(json.dumps(e, separators=(",", ":")) + "\n")
tags = [l.split("  ", 1)[1] for l in open(os.path.join(bag, "tagmanifest-sha256.txt")).read().splitlines()]
tags = [t for t in tags if os.path.exists(os.path.join(bag, t))]
open(os.path.join(bag, "tagmanifest-sha256.txt"), "w").write("".join(f"{sha(t)}  {t}\n" for t in tags))
open(os.path.join(bag, "tagseal-sha256.txt"), "w").write(f"{sha('tagmanifest-sha256.txt')}  tagmanifest-sha256.txt\n")
PY
    expect_exit 1 "$EVIDENCE" verify --json "$L"
    cp "$OUT" "$T/lie.json"
    expect_problem "$T/lie.json" disclosure-root-mismatch evidence.json error
    ok "$lie: the only error" python3 -c '
import json, sys
errs = [p["code"] for p in json.load(open(sys.argv[1]))["problems"] if p["severity"] == "error"]
assert errs == ["disclosure-root-mismatch"], errs' "$T/lie.json"
done

# The tag files an item names (here the EXIF dump of a photo) are bound
# into its leaf. verify takes their SHA-256 from its hashing of every tag
# file, so it must be the digest of the bytes present, not the one a tag
# manifest claims: an edited meta file is disclosure-root-mismatch whether
# or not the tag manifest was re-made to hide it.
mkdir -p "$T/photo"
cp "$EV_SOURCE_DIR/samples/media/IMG_0001.jpg" "$T/photo/p.jpg"
for reseal in no yes; do
    L="$T/metalie-$reseal"
    rm -rf "$L"
    expect_exit 0 "$EVIDENCE" pack -o "$L" --format dir --case C-1 --exhibit JS/1 \
        --officer "Jane Smith" --org "Test Police" "$T/photo"
    python3 - "$L" "$reseal" <<'PY'
import hashlib, json, os, sys
bag, reseal = sys.argv[1], sys.argv[2] == "yes"
r = json.load(open(os.path.join(bag, "evidence.json")))
m = r["items"][0]["meta"][0]
open(os.path.join(bag, m), "ab").write(b"x")
if reseal:
    sha = lambda f: hashlib.sha256(open(os.path.join(bag, f), "rb").read()).hexdigest()
    tags = [l.split("  ", 1)[1] for l in open(os.path.join(bag, "tagmanifest-sha256.txt")).read().splitlines()]
    open(os.path.join(bag, "tagmanifest-sha256.txt"), "w").write("".join(f"{sha(t)}  {t}\n" for t in tags))
    open(os.path.join(bag, "tagseal-sha256.txt"), "w").write(f"{sha('tagmanifest-sha256.txt')}  tagmanifest-sha256.txt\n")
PY
    expect_exit 1 "$EVIDENCE" verify --json "$L"
    cp "$OUT" "$T/metalie.json"
    expect_problem "$T/metalie.json" disclosure-root-mismatch evidence.json error
    if [ "$reseal" = yes ]; then
        ok "edited meta file, tag manifest re-made: the root is the only error" python3 -c '
import json, sys
errs = [p["code"] for p in json.load(open(sys.argv[1]))["problems"] if p["severity"] == "error"]
assert errs == ["disclosure-root-mismatch"], errs' "$T/metalie.json"
    else
        expect_problem "$T/metalie.json" tag-modified "" error
    fi
done

# Working copies: a copy goes with its master (--with-copies), its
# derivation record is bound into its leaf; a copy alone is refused.
if command -v ffmpeg >/dev/null; then
    C="$T/copies.zip"
    expect_exit 0 "$EVIDENCE" pack -o "$C" --case C-1 --exhibit JS/2 --officer "Jane Smith" \
        --org "Test Police" --profile still-png "$EV_SOURCE_DIR/samples/media/IMG_0001.jpg"
    expect_exit 0 "$EVIDENCE" sign "$C" --key "$PKI/signer.key" --cert "$PKI/signer.pem" \
        --chain "$PKI/chain.pem" --tsa-url "$TSA/"
    expect_exit 0 "$EVIDENCE" disclose "$C" -o "$T/cp.zip" --item item-0001 --with-copies \
        --actor A --org O
    expect_exit 0 "$EVIDENCE" verify "$T/cp.zip" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem"
    ok "with copies: 2 of 2, proven" grep -q "2 of 2 items .*; 0 withheld: proven" "$OUT"
    ok "with copies: the derivation record is in the part" bash -c \
        "unzip -l '$T/cp.zip' | grep -q 'meta/item-0002/derivation.json'"
    expect_exit 2 "$EVIDENCE" disclose "$C" -o "$T/cp2.zip" --item item-0002 --actor A --org O
    ok "a copy without its master is refused" grep -q "working copy of item-0001" "$ERR"
    ok "refused copy: nothing written" test ! -e "$T/cp2.zip"
else
    skip_case "ffmpeg missing: no working copies"
fi

finish
