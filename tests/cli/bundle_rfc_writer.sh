# RFC 8493 [W] rules: what `evidence pack` writes, checked by the independent
# validator (tests/tools/bagit_validate.py --writer) and by direct reads of
# the bytes: exact bagit.txt, lower-case hex, percent-encoded names, every
# payload file in every manifest, tag manifests, Payload-Oxum, one top folder
# named like the ZIP, media stored (not deflated), safe and unique names.
. "$(dirname "$0")/lib.sh"

# --- inputs -------------------------------------------------------------------------
IN="$T/in"
mkdir -p "$IN/sub" "$IN/names"
printf 'hello\n' >"$IN/notes.txt"
head -c 300000 /dev/urandom >"$IN/sub/blob.bin"
: >"$IN/sub/empty.dat"
if command -v ffmpeg >/dev/null 2>&1; then
    ffmpeg -nostdin -loglevel error -f lavfi -i testsrc=size=64x48:rate=1 -frames:v 1 "$IN/photo.jpg" ||
        die "ffmpeg could not make a JPEG"
    ffmpeg -nostdin -loglevel error -f lavfi -i sine=frequency=440:duration=0.2 "$IN/tone.wav" ||
        die "ffmpeg could not make a WAV"
else
    note "ffmpeg missing: the stored-media checks use the binary blob only"
fi
# names the manifests must percent-encode (RFC 8493 2.1.3) and names that clash
printf '1' >"$IN/names/100% sure.txt"
printf '2' >"$IN/names/$(printf 'line\nfeed')"
printf '3' >"$IN/names/$(printf 'carriage\rreturn')"
printf '4' >"$IN/names/%41 literal"
printf '5' >"$IN/names/Case.txt"
printf '6' >"$IN/names/case.txt"
printf '7' >"$IN/names/$(python3 -c 'import unicodedata;print(unicodedata.normalize("NFC","café"))')"
printf '8' >"$IN/names/$(python3 -c 'import unicodedata;print(unicodedata.normalize("NFD","café"))')"
printf '9' >"$IN/names/back\\slash"
printf 'x' >"$IN/names/ lead and trail "

NFILES=$(find "$IN" -type f -printf x | wc -c)
NBYTES=$(find "$IN" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')

# check_written BUNDLE BAGDIR(extracted or the folder itself) ALGS
check_written() {
    local bundle=$1 bag=$2 algs=$3 val
    # the independent validator, with the writer rules
    run python3 "$TOOLS/bagit_validate.py" --writer --json "$bundle"
    if [ "$RC" -ne 0 ]; then
        fail "independent validator rejects $bundle"
        show_last
    else
        pass
    fi
    # exactly the SHOULD-level notes we expect, nothing else
    val=$(python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
print(" ".join(sorted(set("%s:%s" % (p["code"], p["path"]) for p in d["problems"]))))' "$OUT")
    local want="tag-unlisted:tagseal-sha256.txt"
    case "$algs" in *sha512*) ;; *) want="no-sha512:None $want" ;; esac
    [ "$val" = "$want" ] && pass || fail "writer notes for $bundle: '$val', expected '$want'"

    # bagit.txt: exactly the RFC 8493 2.1.1 bytes
    printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n' >"$T/bagit.want"
    ok "bagit.txt bytes in $bundle" cmp -s "$bag/bagit.txt" "$T/bagit.want"

    python3 - "$bag" "$algs" "$NFILES" "$NBYTES" <<'EOF' >"$T/w.out" 2>&1 && pass || { fail "writer byte checks for $bundle"; sed 's/^/    /' "$T/w.out" >&2; }
import hashlib, os, re, sys, unicodedata
bag, algs, nfiles, nbytes = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4])
bad = []
def lines(name):
    data = open(os.path.join(bag, name), "rb").read()
    if not data.endswith(b"\n"):
        bad.append("%s: last line has no LF" % name)
    if b"\r\n" in data.replace(b"%0D", b""):
        bad.append("%s: CRLF" % name)
    return data.decode("utf-8").split("\n")[:-1]
payload = []
for dp, dn, fn in os.walk(os.path.join(bag, "data")):
    for f in fn:
        payload.append(os.path.relpath(os.path.join(dp, f), bag))
if len(payload) != nfiles:
    bad.append("%d payload files, expected %d" % (len(payload), nfiles))
for alg in algs:
    name = "manifest-%s.txt" % alg
    seen = {}
    for l in lines(name):
        m = re.fullmatch(r"([0-9a-f]+)  (.+)", l)
        if not m:
            bad.append("%s: line %r is not 'lower-hex, two spaces, path'" % (name, l))
            continue
        p = m.group(2)
        if re.search(r"[\r\n]", p) or re.search(r"%(?!25|0A|0D)", p):
            bad.append("%s: %r has an unencoded %%, CR or LF" % (name, p))
        dec = re.sub(r"%(25|0A|0D)", lambda x: {"25": "%", "0A": "\n", "0D": "\r"}[x.group(1)], p)
        seen[dec] = m.group(1)
        if not dec.startswith("data/"):
            bad.append("%s: %r outside data/" % (name, dec))
    if sorted(seen) != sorted(payload):
        bad.append("%s does not list exactly the payload files" % name)
    for p, h in seen.items():
        if p in payload:
            got = hashlib.new(alg, open(os.path.join(bag, p), "rb").read()).hexdigest()
            if got != h:
                bad.append("%s: wrong digest for %r" % (name, p))
# the encoded forms are really there
m256 = open(os.path.join(bag, "manifest-sha256.txt"), "rb").read()
for enc in (b"100%25 sure.txt", b"line%0Afeed", b"carriage%0Dreturn", b"%2541 literal"):
    if enc not in m256:
        bad.append("manifest-sha256.txt lacks the encoded name %r" % enc)
# tag manifests: every tag file but themselves and the seal; no payload
tagfiles = sorted(os.path.relpath(os.path.join(dp, f), bag)
                  for dp, dn, fn in os.walk(bag) for f in fn
                  if not os.path.relpath(os.path.join(dp, f), bag).startswith("data/"))
for alg in algs:
    name = "tagmanifest-%s.txt" % alg
    listed = {}
    for l in lines(name):
        h, p = l.split("  ", 1)
        listed[p] = h
    want = [t for t in tagfiles if not t.startswith("tagmanifest-") and t != "tagseal-sha256.txt"]
    if sorted(listed) != want:
        bad.append("%s lists %s, expected %s" % (name, sorted(listed), want))
    for p, h in listed.items():
        if hashlib.new(alg, open(os.path.join(bag, p), "rb").read()).hexdigest() != h:
            bad.append("%s: wrong digest for %s" % (name, p))
# the seal: SHA-256 of each tag manifest
seal = {}
for l in lines("tagseal-sha256.txt"):
    h, p = l.split("  ", 1)
    seal[p] = h
if sorted(seal) != sorted("tagmanifest-%s.txt" % a for a in algs):
    bad.append("tagseal-sha256.txt lists %s" % sorted(seal))
for p, h in seal.items():
    if hashlib.sha256(open(os.path.join(bag, p), "rb").read()).hexdigest() != h:
        bad.append("tagseal-sha256.txt: wrong digest for %s" % p)
# bag-info.txt
info = {}
for l in lines("bag-info.txt"):
    k, v = l.split(": ", 1)
    info.setdefault(k, []).append(v)
if info.get("Payload-Oxum") != ["%d.%d" % (nbytes, nfiles)]:
    bad.append("Payload-Oxum %s, expected %d.%d" % (info.get("Payload-Oxum"), nbytes, nfiles))
if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", (info.get("Bagging-Date") or [""])[0]):
    bad.append("Bagging-Date %s" % info.get("Bagging-Date"))
for k, want in (("External-Identifier", "CASE/23/1234"), ("Contact-Name", "Jo Smith"),
                ("Source-Organization", "Test Constabulary"), ("Evidence-Exhibit", "JS/1")):
    if info.get(k) != [want]:
        bad.append("bag-info %s = %s, expected %s" % (k, info.get(k), want))
# unique names, also ignoring case and normalization (RFC 8493 6.1.1.3)
keys = {}
for p in payload:
    k = unicodedata.normalize("NFC", p).casefold()
    if k in keys:
        bad.append("%r and %r differ only in case or normalization" % (keys[k], p))
    keys[k] = p
    if "\\" in p:
        bad.append("%r keeps a backslash" % p)
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}

# --- ZIP form -------------------------------------------------------------------------
expect_exit 0 "$EVIDENCE" pack -o "$T/CASE-23-1234_JS-1.zip" --case CASE/23/1234 --exhibit JS/1 \
    --officer "Jo Smith" --org "Test Constabulary" "$IN"
Z="$T/CASE-23-1234_JS-1.zip"
# one top folder named like the file (the de-facto BagIt serialization rule)
python3 - "$Z" <<'EOF' >"$T/z.out" 2>&1 && pass || { fail "ZIP layout"; cat "$T/z.out" >&2; }
import sys, zipfile, json
zf = zipfile.ZipFile(sys.argv[1])
bad = []
if zf.testzip() is not None:
    bad.append("CRC error in %s" % zf.testzip())
tops = {i.filename.split("/")[0] for i in zf.infolist()}
if tops != {"CASE-23-1234_JS-1"}:
    bad.append("top folders %s" % tops)
names = [i.filename for i in zf.infolist()]
if len(names) != len(set(names)):
    bad.append("duplicate entries")
rec = json.loads(zf.read("CASE-23-1234_JS-1/evidence.json"))
mime = {it["path"]: it.get("mime", "") for it in rec["items"]}
for i in zf.infolist():
    rel = i.filename.split("/", 1)[1]
    if rel.startswith("data/") and not i.is_dir():
        m = mime.get(rel)
        if m is None:
            bad.append("%s has no item in evidence.json" % rel)
        elif not (m.startswith("text/") or m in ("application/json", "application/xml")) \
                and i.compress_type != zipfile.ZIP_STORED:
            bad.append("%s (%s) is deflated; media must be stored" % (rel, m))
    if (i.external_attr >> 16) & 0o170000 == 0o120000:
        bad.append("%s is a symlink" % i.filename)
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
expect_exit 0 unzip -tq "$Z"
mkdir "$T/unz" "$T/pyz"
expect_exit 0 unzip -q "$Z" -d "$T/unz"
# (Info-ZIP unzip drops CR and LF from names, so the byte checks read a copy
# extracted by python's zipfile, which keeps every name as written.)
python3 -c 'import sys,zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$Z" "$T/pyz"
check_written "$Z" "$T/pyz/CASE-23-1234_JS-1" sha256
expect_exit 0 "$EVIDENCE" verify "$Z"

# --- folder form, two algorithms ------------------------------------------------------------
expect_exit 0 "$EVIDENCE" pack -o "$T/dirbag" --format dir --algorithm sha256,sha512 \
    --case CASE/23/1234 --exhibit JS/1 --officer "Jo Smith" --org "Test Constabulary" "$IN"
check_written "$T/dirbag" "$T/dirbag" sha256,sha512
expect_exit 0 "$EVIDENCE" verify "$T/dirbag"

# SHA-256 is always written, also when only SHA-512 is asked for (the record
# and custody log refer to it)
expect_exit 0 "$EVIDENCE" pack -o "$T/only512.zip" --algorithm sha512 "$IN/notes.txt"
expect_exit 0 unzip -l "$T/only512.zip"
grep -q 'only512/manifest-sha512.txt' "$OUT" && grep -q 'only512/manifest-sha256.txt' "$OUT" &&
    pass || fail "--algorithm sha512: expected manifest-sha256.txt and manifest-sha512.txt"

# the exact exhibit reference is kept; the folder name is made safe
unzip -p "$Z" CASE-23-1234_JS-1/evidence.json >"$T/rec.json"
ok "exhibit reference kept in the record" python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))
assert all(i["exhibit"]=="JS/1" and i["path"].startswith("data/JS_1/") for i in r["items"]), r["items"]
orig = {i["original_path"] for i in r["items"]}
assert "in/names/back\\slash" in orig and "in/names/case.txt" in orig, orig
' "$T/rec.json"

finish
