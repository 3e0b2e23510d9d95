# Attacks on a part of a bundle (docs/disclosure.md): each change is made
# the way an attacker would, with every bag-level trace hidden (manifests,
# tag manifests, seal and the custody event re-made, views dropped), so that
# only the proof checks can catch it. Each must be named and the part
# reported invalid (exit 1), or unproven when the signatures are stripped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign_env.sh"

sign_pki
tsa_start
mkdir -p "$T/in"
for i in 1 2 3 4 5 6 7; do printf 'statement %s\n' "$i" > "$T/in/s$i.txt"; done
cp "$EV_SOURCE_DIR/samples/media/IMG_0001.jpg" "$T/in/s8.jpg"
pack_sign() {
    expect_exit 0 "$EVIDENCE" pack -o "$1" --case C-1 --exhibit JS/1 --officer "Jane Smith" \
        --org "Test Police" "$T/in" || die "pack $1"
    expect_exit 0 "$EVIDENCE" sign "$1" --key "$PKI/signer.key" --cert "$PKI/signer.pem" \
        --chain "$PKI/chain.pem" --tsa-url "$TSA/" || die "sign $1"
}
A="$T/a.zip"
B="$T/b.zip"
pack_sign "$A"
pack_sign "$B"
CA=(--ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem")
expect_exit 0 "$EVIDENCE" disclose "$A" -o "$T/pa" --format dir --item item-0002 \
    --item item-0003 --item item-0008 --actor X --org Y
expect_exit 0 "$EVIDENCE" disclose "$B" -o "$T/pb" --format dir --item item-0002 --actor X --org Y
expect_exit 0 "$EVIDENCE" verify "$T/pa" "${CA[@]}"
ok "the untouched part is proven" grep -q "5 withheld: proven" "$OUT"
ok "item-0008 names a meta file" test -n "$(ls "$T/pa/meta/item-0008/")"

# attack NAME PYTHON-BODY: copy the part, apply the change (python, with r =
# the record, part = its folder), hide the traces, verify; sets $V (json).
cat > "$T/reseal.py" <<'PY'
import hashlib, json, os, sys
part, body = sys.argv[1], sys.argv[2]
rp = os.path.join(part, "evidence.json")
r = json.load(open(rp))
other = json.load(open(sys.argv[3])) if len(sys.argv) > 3 else None
exec(body)
open(rp, "w").write(json.dumps(r, indent=2) + "\n")
for v in ("case.jsonld", "index.html"):
    if os.path.exists(os.path.join(part, v)):
        os.remove(os.path.join(part, v))
sha = lambda f: hashlib.sha256(open(os.path.join(part, f), "rb").read()).hexdigest()
items = {i["path"] for i in r["items"]}
ids = {i["id"] for i in r["items"]}
# the files of items taken out of the record go too
for d, _, fs in os.walk(os.path.join(part, "data")):
    for f in fs:
        if os.path.relpath(os.path.join(d, f), part) not in items:
            os.remove(os.path.join(d, f))
import shutil
for m in os.listdir(os.path.join(part, "meta")) if os.path.isdir(os.path.join(part, "meta")) else []:
    if m not in ids:
        shutil.rmtree(os.path.join(part, "meta", m))
sizes = [os.path.getsize(os.path.join(part, p)) for p in items if os.path.exists(os.path.join(part, p))]
bi = os.path.join(part, "bag-info.txt")
lines = [f"Payload-Oxum: {sum(sizes)}.{len(sizes)}" if l.startswith("Payload-Oxum:") else l
         for l in open(bi).read().splitlines()]
open(bi, "w").write("\n".join(lines) + "\n")
open(os.path.join(part, "manifest-sha256.txt"), "w").write(
    "".join(f"{sha(p)}  {p}\n" for p in sorted(items) if os.path.exists(os.path.join(part, p))))
c = os.path.join(part, "custody.jsonl")
e = json.loads(open(c).read().splitlines()[0])
e["manifest_sha256"] = sha("manifest-sha256.txt")
e["record_sha256"] = sha("evidence.json")
open(c, "w").write(json.dumps(e, separators=(",", ":"), ensure_ascii=False) + "\n")
tags = []
for d, _, fs in os.walk(part):
    for f in fs:
        t = os.path.relpath(os.path.join(d, f), part)
        if not t.startswith("data/") and not t.startswith("tagmanifest-") and t != "tagseal-sha256.txt":
            tags.append(t)
open(os.path.join(part, "tagmanifest-sha256.txt"), "w").write("".join(f"{sha(t)}  {t}\n" for t in sorted(tags)))
open(os.path.join(part, "tagseal-sha256.txt"), "w").write(f"{sha('tagmanifest-sha256.txt')}  tagmanifest-sha256.txt\n")
PY
attack() {
    local name=$1 body=$2 want=${3:-1}
    rm -rf "$T/atk"
    cp -r "$T/pa" "$T/atk"
    python3 "$T/reseal.py" "$T/atk" "$body" "$T/pb/evidence.json" || { fail "$name: reseal"; return; }
    expect_exit "$want" "$EVIDENCE" verify --json "$T/atk" "${CA[@]}"
    V="$T/$name.json"
    cp "$OUT" "$V"
    ok "$name: the bag itself is intact (only the proofs can tell)" python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
errs = [p["code"] for p in v["problems"] if p["severity"] == "error"]
assert not errs, errs' "$V"
}
# dverdict JSON VERDICT CODE: the disclosure verdict, and a problem CODE in
# the disclosure or in one of its signatures
dverdict() {
    ok "$(basename "$1" .json): disclosure $2 with $3" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["disclosure"]
codes = [p["code"] for p in d["problems"]] + [p["code"] for s in d["signatures"] for p in s["problems"]]
assert d["verdict"] == sys.argv[2], d["verdict"]
assert sys.argv[3] in codes, codes' "$1" "$2" "$3"
}

# 1. a proof for another bundle (same position, the other bundle's path)
attack other-bundle '
p = [x for x in r["disclosed_from"]["proofs"] if x["item"] == "item-0002"][0]
p["path"] = other["disclosed_from"]["proofs"][0]["path"]'
dverdict "$V" invalid disclosure-proof-invalid
# ... or the other bundle's whole tree (its id, root and proofs)
attack other-tree '
for k in ("bundle_id", "created", "root"):
    r["disclosed_from"][k] = other["disclosed_from"][k]'
dverdict "$V" invalid disclosure-commitment-mismatch

# 2. a swapped salt
attack swapped-salt '
a, b = r["items"][0], r["items"][1]
a["salt"], b["salt"] = b["salt"], a["salt"]'
dverdict "$V" invalid disclosure-proof-invalid

# 3. an item record edited after signing
attack edited-entry 'r["items"][1]["original_name"] = "innocent.txt"'
dverdict "$V" invalid disclosure-proof-invalid
# ... its payload replaced (with hashes made to agree everywhere)
attack edited-payload '
pth = os.path.join(part, r["items"][0]["path"])
open(pth, "w").write("another statement\n")
import hashlib
r["items"][0]["hashes"]["sha256"] = hashlib.sha256(open(pth, "rb").read()).hexdigest()
r["items"][0]["size"] = os.path.getsize(pth)'
dverdict "$V" invalid disclosure-proof-invalid
# ... a tag file it names (the EXIF dump of the photo)
attack edited-meta '
m = [i for i in r["items"] if i["id"] == "item-0008"][0]["meta"][0]
open(os.path.join(part, m), "ab").write(b"x")'
dverdict "$V" invalid disclosure-proof-invalid

# 4. a proof with a wrong position or length
attack wrong-position '
p = r["disclosed_from"]["proofs"][0]; p["index"] = (p["index"] + 2) % 8'
dverdict "$V" invalid disclosure-proof-invalid
attack short-path 'r["disclosed_from"]["proofs"][0]["path"].pop()'
dverdict "$V" invalid disclosure-proof-invalid
attack long-path '
pp = r["disclosed_from"]["proofs"][0]["path"]; pp.append(pp[0])'
dverdict "$V" invalid disclosure-proof-invalid

# 5. a part claiming more items than the tree holds
attack more-items 'r["disclosed_from"]["items"] = 9'
dverdict "$V" invalid disclosure-commitment-mismatch
attack fewer-than-disclosed 'r["disclosed_from"]["items"] = 2'
dverdict "$V" invalid disclosure-malformed
attack fewer-items 'r["disclosed_from"]["items"] = 2; del r["disclosed_from"]["proofs"][1:]'
dverdict "$V" invalid disclosure-count

# 6. a subtree presented as the tree: item-0002 (index 1) with the first 2
# nodes of its path gives the root of leaves 0-3, a node of the real tree;
# claimed as a tree of 4 leaves whose root it is, every proof of it holds,
# but the signature commits to 8 leaves and the real root
attack subtree-as-tree '
import hashlib
df = r["disclosed_from"]
p = [x for x in df["proofs"] if x["item"] == "item-0002"][0]
def salted_leaf():
    return None
# recompute the node of leaves 0-3 from the path: node(node(l0, l1), n23)
item = [i for i in r["items"] if i["id"] == "item-0002"][0]
ent = {k: v for k, v in item.items() if k != "salt"}
enc = json.dumps(ent, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
leaf = hashlib.sha256(b"\0" + bytes.fromhex(item["salt"]) + len(enc).to_bytes(8, "big") + enc
                      + bytes.fromhex(item["hashes"]["sha256"])).digest()
node = lambda a, b: hashlib.sha256(b"\1" + a + b).digest()
n01 = node(bytes.fromhex(p["path"][0]), leaf)
n03 = node(n01, bytes.fromhex(p["path"][1]))
df["items"] = 4
df["root"] = n03.hex()
p["path"] = p["path"][:2]
df["proofs"] = [p]
r["items"] = [item]'
dverdict "$V" invalid disclosure-commitment-mismatch
ok "subtree-as-tree: the proof itself held" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["disclosure"]
assert d["proven_items"] == 1 and d["items"] == 4, d' "$V"

# 7. stripped signatures: unproven, never valid-and-proven
attack stripped '
import shutil
shutil.rmtree(os.path.join(part, "disclosure"))
r["disclosed_from"]["signatures"] = []'
dverdict "$V" unproven disclosure-unproven
ok "stripped: the report is not valid" python3 -c '
import json, sys; assert json.load(open(sys.argv[1]))["verdict"] == "invalid"' "$V"
expect_exit 1 "$EVIDENCE" verify "$T/atk" "${CA[@]}"
ok "stripped: text says unproven" grep -q "not proven by any signature; 5 withheld: unproven" "$OUT"
attack stripped-files '
import shutil
shutil.rmtree(os.path.join(part, "disclosure"))'
dverdict "$V" invalid disclosure-signature-missing
# a signature without its commitment attribute (the signature of another
# bundle, which commits to another tree)
attack foreign-signature '
import shutil
for f in os.listdir(os.path.join(part, "disclosure")):
    shutil.copy(os.path.join(sys.argv[3].rsplit("/", 1)[0], "disclosure", f), os.path.join(part, "disclosure", f))'
dverdict "$V" invalid disclosure-commitment-mismatch
# a proof for an item the part does not hold, an item without a proof
attack orphan-proof 'r["items"].pop()'
dverdict "$V" invalid disclosure-proof-orphan
attack missing-proof 'r["disclosed_from"]["proofs"].pop()'
dverdict "$V" invalid disclosure-proof-missing
# malformed proofs: named, never a crash
attack bad-hex 'r["disclosed_from"]["proofs"][0]["path"][0] = "zz"'
dverdict "$V" invalid disclosure-malformed
attack dup-proof 'r["disclosed_from"]["proofs"].append(r["disclosed_from"]["proofs"][0])'
dverdict "$V" invalid disclosure-malformed

finish
