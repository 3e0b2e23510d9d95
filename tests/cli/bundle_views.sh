# The two views of the record (docs/views.md): case.jsonld (CASE/UCO 1.4
# JSON-LD) and index.html. pack writes both as tag files listed in every tag
# manifest; custody add rebuilds them with the new event; verify passes. The
# views are checked against the record and the manifests by
# tests/tools/views_check.py (and that checker is shown to fail on broken
# copies); hostile names and details (markup, quotes, '&', '%', '#', '?',
# Unicode, CR/LF) come out exactly as text, never as markup; links are
# percent-encoded relative paths to files of the bag. When npm is there, the
# JSON-LD is also turned into RDF by the jsonld package in safe mode (no
# term may be dropped), installed as scripts/ajv.sh installs ajv.
. "$(dirname "$0")/lib.sh"

V="$TOOLS/views_check.py"
SAMPLES="$EV_SOURCE_DIR/samples/media"
A=(--case 23/1234 --exhibit JS/1 --officer "A. Example" --org "Example Police")

# views_ok WHAT BAG: both checkers pass on BAG
views_ok() {
    local what=$1 bag=$2
    if python3 "$V" case "$bag" >"$T/.vc" 2>&1; then pass; else
        fail "$what: case.jsonld: $(head -5 "$T/.vc")"
    fi
    if python3 "$V" html "$bag" >"$T/.vc" 2>&1; then pass; else
        fail "$what: index.html: $(head -5 "$T/.vc")"
    fi
}

# in_tagmanifests BAGDIR: case.jsonld and index.html are in every tag manifest, with their hash
in_tagmanifests() {
    local d=$1 tm f n=0
    for tm in "$d"/tagmanifest-*.txt; do
        n=$((n + 1))
        for f in case.jsonld index.html; do
            local alg=${tm##*tagmanifest-}
            alg=${alg%.txt}
            local want
            want=$(openssl dgst "-$alg" -r "$d/$f" | cut -d' ' -f1)
            grep -qx "$want  $f" "$tm" || return 1
        done
    done
    [ "$n" -ge 1 ]
}

# --- pack: samples, with working copies, as a folder and as a ZIP ------------------------
expect_exit 0 "$EVIDENCE" pack --format dir -o "$T/s" "${A[@]}" --profile still-png \
    --profile audio-flac "$SAMPLES" || die "pack of the samples failed"
ok "folder bag has case.jsonld and index.html" test -s "$T/s/case.jsonld" -a -s "$T/s/index.html"
ok "views are listed with their hash in the tag manifest" in_tagmanifests "$T/s"
expect_exit 0 "$EVIDENCE" verify "$T/s"
views_ok "samples (folder)" "$T/s"
ok "the samples have derivatives" grep -q '"derived_from"' "$T/s/evidence.json"
ok "a derivative row in index.html" grep -q 'class="derived"' "$T/s/index.html"
ok "GPS as LatLongCoordinatesFacet" grep -q '"uco-location:latitude"' "$T/s/case.jsonld"
ok "EXIF make in case.jsonld" grep -q '"ExampleCam"' "$T/s/case.jsonld"
# thumbnails: every master photo and video has meta/<item>/thumb.jpg, a JPEG whose
# longest side is 160 px at most, as big as the record says, listed in the tag manifest
thumbs_ok() {
    python3 - "$1" <<'EOF'
import json, struct, sys
bag = sys.argv[1]
rec = json.load(open(bag + "/evidence.json"))
tm = open(bag + "/tagmanifest-sha256.txt").read()
n = 0
for it in rec["items"]:
    m = it.get("media") or {}
    if m.get("kind") not in ("image", "video") or m.get("error") or it.get("derived_from"):
        continue
    p = "meta/%s/thumb.jpg" % it["id"]
    t = m.get("thumbnail") or {}
    assert p in it.get("meta", []) and t.get("file") == "thumb.jpg", it["id"]
    assert ("  " + p + "\n") in tm, p
    d = open(bag + "/" + p, "rb").read()
    assert d[:2] == b"\xff\xd8", p
    i = 2
    while d[i + 1] not in (0xC0, 0xC1, 0xC2):
        i += 2 + struct.unpack(">H", d[i + 2:i + 4])[0]
    h, w = struct.unpack(">HH", d[i + 5:i + 9])
    assert max(w, h) <= 160 and (w, h) == (t["width"], t["height"]), (p, w, h, t)
    n += 1
assert n >= 2, n
EOF
}
ok "a thumbnail for each master photo and video" thumbs_ok "$T/s"
ok "index.html shows the thumbnails" test "$(grep -o '<img src="meta/item-[0-9]*/thumb.jpg" alt="thumbnail of [^"]*"' "$T/s/index.html" | wc -l)" -ge 2
ok "the EXIF orientation is applied (64x48 stored, shown 48x64)" bash -c "grep -q 'alt=\"thumbnail of IMG_0001.jpg\" width=\"48\" height=\"64\"' '$T/s/index.html'"

expect_exit 0 "$EVIDENCE" pack -o "$T/z.zip" --algorithm sha256,sha512 "${A[@]}" "$SAMPLES" ||
    die "pack of the samples as a ZIP failed"
expect_exit 0 "$EVIDENCE" verify "$T/z.zip"
views_ok "samples (ZIP, sha512)" "$T/z.zip"
ok "SHA512 hashes in case.jsonld" test "$(unzip -p "$T/z.zip" z/case.jsonld | grep -c '"SHA512"')" -eq 4
mkdir -p "$T/zx" && (cd "$T/zx" && unzip -q "$T/z.zip") || fail "unzip failed"
ok "both views in both tag manifests (ZIP)" in_tagmanifests "$T/zx/z"
# after a plain unzip, every link in index.html opens a file of the bag
views_ok "unzipped bag" "$T/zx/z"

# --- the checker fails on broken views -----------------------------------------------------
broken() {
    local what=$1 mode=$2 edit=$3
    rm -rf "$T/b"
    cp -a "$T/s" "$T/b"
    python3 - "$T/b" "$edit" <<'EOF'
import json, sys
bag, edit = sys.argv[1], sys.argv[2]
p = bag + "/case.jsonld"
d = json.load(open(p))
g = d["@graph"]
h = open(bag + "/index.html").read()
if edit == "drop-file":
    d["@graph"] = [n for n in g if n["@type"] != "uco-observable:File"][:] + \
        [n for n in g if n["@type"] == "uco-observable:File"][1:]
elif edit == "bad-hash":
    for n in g:
        for f in n.get("uco-core:hasFacet", []):
            for x in f.get("uco-observable:hash", []):
                x["uco-types:hashValue"]["@value"] = "0" * 64
elif edit == "bad-prefix":
    g[0]["@type"] = "nowhere:Thing"
elif edit == "dangling":
    g[-1]["uco-core:object"] = [{"@id": "kb:missing-1"}]
elif edit == "script":
    h = h.replace("</body>", "<script>alert(1)</script></body>")
elif edit == "external":
    h = h.replace("</body>", "<a href=\"https://example.org/x\">x</a></body>")
elif edit == "bad-link":
    h = h.replace("href=\"data/", "href=\"data/nothing-", 1)
elif edit == "img-external":
    h = h.replace("<img src=\"meta/", "<img src=\"https://example.org/meta/", 1)
elif edit == "img-dropped":
    i = h.index("<img ")
    h = h[:i] + h[h.index(">", i) + 1:]
elif edit == "csp-no-img":
    h = h.replace("; img-src 'self'", "")
elif edit == "lost-event":
    i = h.rindex("<tr><td class=\"num\">")
    h = h[:i] + h[h.index("</tr>", i) + 6:]
json.dump(d, open(p, "w"))
open(bag + "/index.html", "w").write(h)
EOF
    if python3 "$V" "$mode" "$T/b" >/dev/null 2>&1; then
        fail "views_check.py $mode accepts a broken copy ($what)"
    else
        pass
    fi
}
broken "a File node removed" case drop-file
broken "a wrong hash" case bad-hash
broken "a type without a prefix in @context" case bad-prefix
broken "a reference to an undefined node" case dangling
broken "a script" html script
broken "an external link" html external
broken "a link to a missing file" html bad-link
broken "a custody row removed" html lost-event
broken "a thumbnail from elsewhere" html img-external
broken "a thumbnail missing" html img-dropped
broken "images not allowed by the CSP" html csp-no-img

# --- hostile names and details ---------------------------------------------------------------
mkdir -p "$T/h/in"
python3 - "$T/h/in" <<'EOF'
import os, sys
d = sys.argv[1]
for n in ["<script>alert(1)<\u2044script>.txt", "a&b \"q\" 'single'.txt",
          "caf\u00e9 \u2615 \u00fcn\u00efc\u00f6d\u00e9.txt", "cafe\u0301 nfd.txt",
          "100% #1?.txt", "line\nbreak.txt", "javascript:alert(1).txt",
          "&lt;already-escaped&gt;.txt", "..%2F..%2Fetc.txt", " lead and trail .txt"]:
    open(os.path.join(d, n), "w").write(n)
EOF
HCASE='<b>23</b>&"x"'
HOFF='<img src=x onerror=alert(1)>'
HORG="O'Brien & Co"
HACT='</td><script>x</script>'
HNOTE=$'note <b>&amp;</b>\nsecond line \u2028 end'
expect_exit 0 "$EVIDENCE" pack --format dir -o "$T/hb" --case "$HCASE" --exhibit '<i>JS/1</i>' \
    --officer "$HOFF" --org "$HORG" "$T/h/in" || die "pack of hostile names failed"
expect_exit 0 "$EVIDENCE" custody add "$T/hb" --action note --actor "$HACT" --org 'Lab "1"' \
    --note "$HNOTE"
expect_exit 0 "$EVIDENCE" verify "$T/hb"
views_ok "hostile names" "$T/hb"
mapfile -d '' NAMES < <(cd "$T/h/in" && find . -type f -printf '%P\0')
ok "ten hostile names" test "${#NAMES[@]}" -eq 10
if python3 "$V" text "$T/hb" "${NAMES[@]}" "$HCASE" "$HOFF" "$HORG" "$HACT" "$HNOTE" '<i>JS/1</i>' \
    >"$T/.vt" 2>&1; then pass; else fail "hostile strings: $(head -5 "$T/.vt")"; fi
ok "no raw markup from names in index.html" bash -c "! grep -q '<script\|<img\|<b>23\|<i>JS' '$T/hb/index.html'"
ok "a link to a name with % # ? is percent-encoded" grep -q 'href="data/_i_JS_1__i_/in/100%25%20%231%3F.txt"' "$T/hb/index.html"
ok "a link to a name with a newline is percent-encoded" grep -q 'href="data/_i_JS_1__i_/in/line%0Abreak.txt"' "$T/hb/index.html"
ok "a 'javascript:' name is a relative link" grep -q 'href="data/_i_JS_1__i_/in/javascript%3Aalert%281%29.txt"' "$T/hb/index.html"
ok "the views declare no script source (CSP)" grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$T/hb/index.html"

# --- custody add rebuilds the views ---------------------------------------------------------
cp "$T/z.zip" "$T/c.zip"
unzip -p "$T/c.zip" z/index.html >"$T/index-before.html"
expect_exit 0 "$EVIDENCE" custody add "$T/c.zip" --action received --actor "B. Example" --org "Lab" \
    --note "seal 1234 intact"
expect_exit 0 "$EVIDENCE" custody add "$T/c.zip" --action verified --actor "C. Example" --org "Lab"
expect_exit 0 "$EVIDENCE" verify "$T/c.zip"
views_ok "after two custody events" "$T/c.zip"
ok "index.html shows the new events" bash -c "unzip -p '$T/c.zip' z/index.html | grep -q 'seal 1234 intact'"
ok "case.jsonld holds three custody actions" test "$(unzip -p "$T/c.zip" z/case.jsonld | grep -c '"uco-core:name":"\(created\|received\|verified\)"')" -eq 3
ok "index.html changed" bash -c "! unzip -p '$T/c.zip' z/index.html | cmp -s - '$T/index-before.html'"
ok "case.jsonld names the new actor" bash -c "unzip -p '$T/c.zip' z/case.jsonld | grep -q '\"B. Example\"'"
rm -rf "$T/cx" && mkdir -p "$T/cx" && (cd "$T/cx" && unzip -q "$T/c.zip") || fail "unzip failed"
ok "rebuilt views are in both tag manifests" in_tagmanifests "$T/cx/z"

# --- a changed view is caught by verify -------------------------------------------------------
rm -rf "$T/t" && cp -a "$T/s" "$T/t"
sed -i 's/A. Example/A. Forger/' "$T/t/index.html"
expect_exit 1 "$EVIDENCE" verify --json "$T/t" &&
    expect_problem "$OUT" tag-modified index.html error
rm -rf "$T/t" && cp -a "$T/s" "$T/t"
sed -i 's/ExampleCam/OtherCam/' "$T/t/case.jsonld"
expect_exit 1 "$EVIDENCE" verify --json "$T/t" &&
    expect_problem "$OUT" tag-modified case.jsonld error

# --- JSON-LD to RDF with the jsonld package (npm), safe mode --------------------------------------
jsonld_dir=${EV_BUILD_DIR:-$EV_SOURCE_DIR/build}/node
if [ ! -d "$jsonld_dir/node_modules/jsonld" ]; then
    if command -v npm >/dev/null; then
        mkdir -p "$jsonld_dir"
        (
            # one install at a time: tests run in parallel (as scripts/ajv.sh)
            exec 9>"$jsonld_dir/.install.lock"
            flock 9
            if [ ! -d "$jsonld_dir/node_modules/jsonld" ]; then
                cd "$jsonld_dir" && { [ -f package.json ] || echo '{"name":"evidence-test-tools","private":true}' >package.json; } &&
                    npm install --silent --no-audit --no-fund jsonld@8 >/dev/null 2>&1
            fi
        ) || note "npm install jsonld failed"
    fi
fi
if [ -d "$jsonld_dir/node_modules/jsonld" ] && command -v node >/dev/null; then
    cat >"$T/rdf.js" <<'EOF'
const fs = require('fs');
const jsonld = require('jsonld');
(async () => {
  const doc = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const base = doc['@context'].kb;
  // safe mode: any term that would be dropped, or any relative IRI, is an error
  const nq = await jsonld.toRDF(doc, {format: 'application/n-quads', safe: true});
  const lines = nq.split('\n').filter(Boolean);
  let bad = 0;
  for (const l of lines) {
    const m = l.match(/^<([^>]*)> <([^>]*)> /);
    if (!m) { console.log('not a named subject: ' + l); bad++; continue; }
    if (!m[1].startsWith(base)) { console.log('subject outside the bundle: ' + m[1]); bad++; }
    if (!/^https:\/\/ontology\.(unifiedcyberontology|caseontology)\.org\/|^http:\/\/www\.w3\.org\/1999\/02\/22-rdf-syntax-ns#type$/.test(m[2])) {
      console.log('predicate outside CASE/UCO: ' + m[2]); bad++;
    }
  }
  console.log(lines.length + ' quads');
  process.exit(bad ? 1 : (lines.length > 100 ? 0 : 1));
})().catch(e => { console.log('jsonld: ' + (e.message || e)); process.exit(1); });
EOF
    for bag in "$T/s" "$T/hb"; do
        if NODE_PATH="$jsonld_dir/node_modules" node "$T/rdf.js" "$bag/case.jsonld" >"$T/.rdf" 2>&1; then
            pass
        else
            fail "jsonld toRDF (safe) on $bag/case.jsonld: $(head -5 "$T/.rdf")"
        fi
    done
    # and it can fail: a property with an undefined prefix is dropped -> error in safe mode
    python3 - "$T/s/case.jsonld" "$T/broken.jsonld" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["@graph"][0]["unprefixedProperty"] = "x"
json.dump(d, open(sys.argv[2], "w"))
EOF
    if NODE_PATH="$jsonld_dir/node_modules" node "$T/rdf.js" "$T/broken.jsonld" >/dev/null 2>&1; then
        fail "jsonld safe mode accepted a property with an undefined prefix"
    else
        pass
    fi
else
    skip_case "jsonld (npm) not available: JSON-LD not expanded to RDF"
fi

finish
