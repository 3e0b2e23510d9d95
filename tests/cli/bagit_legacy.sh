#!/bin/bash
# Bags made by other tools whose tag files are not UTF-8 or whose bag-info
# file has its pre-0.96 name, generated here with python (folder and ZIP):
# - BagIt 1.0 bags in ISO-8859-1 and UTF-16 are read (RFC 8493 2.1.1: UTF-8
#   SHOULD be used, another encoding MAY), valid with the warning
#   tag-encoding-not-utf8 naming bagit.txt line 2; problems inside the
#   converted files name the file and the line; an encoding iconv does not
#   know, or bytes that are not text in the declared one, are refused;
# - a 0.95 bag's package-info.txt is shown by inspect as its bag-info file,
#   named as such; its items come from the manifests and invent nothing;
# - the commands docs/bagit.md shows run as written.
# bagit-python is not packaged in Debian 12 (no python3-bagit): when it is
# importable anyway, its verdict on every bag is compared with ours.
. "$(dirname "$0")/lib.sh"

cd "$T" || die "no scratch folder"
python3 - "$T" "$TOOLS" <<'EOF' >bags.tsv || die "could not write the bags"
import hashlib, os, sys
sys.path.insert(0, sys.argv[2])
import mkbag

root = sys.argv[1]


def bag(name, version, enc, payload, info, info_name="bag-info.txt", alg="sha256",
        manifest_extra="", info_raw=None, bom=False, eol="\n", bagit=None):
    """Write a bag: tag files encoded in enc (python codec), manifest paths
    encoded too; print name, folder, zip."""
    d = os.path.join(root, name)
    os.makedirs(os.path.join(d, "data"))
    def text(s):
        b = s.replace("\n", eol).encode(enc)
        return (b"\xff\xfe" if bom else b"") + b
    for p, data in payload.items():
        full = os.path.join(d, p)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        open(full, "wb").write(data)
    tags = {"bagit.txt": bagit or ("BagIt-Version: %s\nTag-File-Character-Encoding: %s\n"
                                   % (version, ENC[enc])).encode()}
    tags[info_name] = info_raw if info_raw is not None else text(
        "".join("%s: %s\n" % kv for kv in info))
    h = getattr(hashlib, alg)
    tags["manifest-%s.txt" % alg] = text("".join(
        "%s  %s\n" % (h(v).hexdigest(), p) for p, v in sorted(payload.items())) + manifest_extra)
    for n, v in tags.items():
        open(os.path.join(d, n), "wb").write(v)
    open(os.path.join(d, "tagmanifest-%s.txt" % alg), "wb").write(text("".join(
        "%s  %s\n" % (h(v).hexdigest(), n) for n, v in sorted(tags.items()))))
    mkbag.zip_folder(d, d + ".zip")
    print("%s\t%s" % (name, d))


ENC = {"iso-8859-1": "ISO-8859-1", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16BE",
       "utf-8": "UTF-8"}
P = {"data/café.txt": "café\n".encode(), "data/notes.txt": b"notes\n"}
oxum = "%d.%d" % (sum(map(len, P.values())), len(P))
# 1.0, ISO-8859-1: the manifest names data/café.txt in Latin-1
bag("v1-latin1", "1.0", "iso-8859-1", P,
    [("Source-Organization", "Bibliothèque nationale"), ("Contact-Name", "Zoë"),
     ("Payload-Oxum", oxum)])
# 1.0, UTF-16 (little-endian with a byte-order mark), CRLF
bag("v1-utf16", "1.0", "utf-16-le", P, [("Contact-Name", "Zoë"), ("Payload-Oxum", oxum)],
    bom=True, eol="\r\n")
# 1.0, ISO-8859-1, bag-info.txt line 3 has no colon; the manifest's line 3 a short digest
bag("v1-latin1-bad", "1.0", "iso-8859-1", P, None,
    info_raw=("Contact-Name: Zoë\nPayload-Oxum: %s\nNo colon on this line\n" % oxum).encode("iso-8859-1"),
    manifest_extra="abc  data/notes.txt\n")
# 1.0, UTF-16BE, bag-info.txt ends with half a character (its line 3)
bag("v1-utf16-odd", "1.0", "utf-16-be", P, None,
    info_raw="Contact-Name: Zoë\nBagging-Date: 2016\n".encode("utf-16-be") + b"\x00")
# 1.0, an encoding iconv does not know
bag("v1-unknown", "1.0", "utf-8", P, [("Contact-Name", "x")],
    bagit=b"BagIt-Version: 1.0\nTag-File-Character-Encoding: X-NO-SUCH-CHARSET\n")
# 0.95, ISO-8859-1, package-info.txt (the name of bag-info.txt before 0.96), md5
bag("old-bag", "0.95", "iso-8859-1", P,
    [("Source-Organization", "Bibliothèque nationale"), ("Contact-Name", "Zoë"),
     ("Contact-Name", "Anaïs"), ("Payload-Oxum", oxum)], info_name="package-info.txt", alg="md5")
# the same, its package-info.txt's Payload-Oxum (line 2) one file short
bag("old-oxum", "0.95", "iso-8859-1", P,
    [("Contact-Name", "Zoë"), ("Payload-Oxum", "%d.1" % sum(map(len, P.values())))],
    info_name="package-info.txt", alg="md5")
EOF
declare -A BAG
while IFS=$'\t' read -r n d; do BAG[$n]=$d; done <bags.tsv
[ "${#BAG[@]}" = 7 ] || die "expected 7 bags, got ${#BAG[@]}"

# msg JSON CODE SEVERITY TEXT: a problem of that code and severity whose
# message contains TEXT
msg() {
    if python3 - "$@" <<'EOF'; then pass; else fail "no $2 ($3) with '$4' in $1:"; python3 "$TOOLS/evjson.py" problems "$1" | sed 's/^/    /' >&2; fi
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if any(p["code"] == sys.argv[2] and p["severity"] == sys.argv[3] and sys.argv[4] in p["message"]
                  for p in d.get("problems", [])) else 1)
EOF
}

for form in "" .zip; do
    b=${BAG[v1-latin1]}$form
    if expect_exit 0 "$EVIDENCE" verify --json "$b"; then
        ok "1.0 Latin-1$form: valid" test "$(json_get "$OUT" verdict)" = valid
        msg "$OUT" tag-encoding-not-utf8 warning "bagit.txt line 2: the tag files are in ISO-8859-1"
        ok "1.0 Latin-1$form: no other problem" test "$(python3 "$TOOLS/evjson.py" problems "$OUT" | wc -l)" = 1
    fi
    b=${BAG[v1-utf16]}$form
    if expect_exit 0 "$EVIDENCE" verify --json "$b"; then
        msg "$OUT" tag-encoding-not-utf8 warning "bagit.txt line 2: the tag files are in UTF-16"
    fi
    b=${BAG[v1-latin1-bad]}$form
    if expect_exit 1 "$EVIDENCE" verify --json "$b"; then
        msg "$OUT" baginfo-bad-line error "bag-info.txt line 3 has no ':'"
        msg "$OUT" manifest-bad-digest error "manifest-sha256.txt line 3:"
    fi
    b=${BAG[v1-utf16-odd]}$form
    if expect_exit 1 "$EVIDENCE" verify --json "$b"; then
        msg "$OUT" tag-encoding-invalid error "bag-info.txt line 3: byte 75 is not UTF-16BE text"
    fi
    b=${BAG[v1-unknown]}$form
    if expect_exit 3 "$EVIDENCE" verify --json "$b"; then
        msg "$OUT" bagit-encoding-unsupported error "bagit.txt line 2: tag file encoding 'X-NO-SUCH-CHARSET'"
    fi
    b=${BAG[old-bag]}$form
    if expect_exit 0 "$EVIDENCE" verify --json "$b"; then
        msg "$OUT" bagit-version-legacy warning "bagit.txt line 1: BagIt-Version 0.95"
        msg "$OUT" tag-encoding-converted info "bagit.txt line 2: the tag files are in ISO-8859-1"
        msg "$OUT" baginfo-old-name warning "package-info.txt"
    fi
    # verify reads package-info.txt's fields: its Payload-Oxum is checked
    b=${BAG[old-oxum]}$form
    if expect_exit 1 "$EVIDENCE" verify --json "$b"; then
        ok "0.95 package-info.txt$form: Payload-Oxum mismatch named in package-info.txt" \
            python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any("package-info.txt" in p["message"] and "Oxum" in p["message"] and p["severity"] == "error" for p in d["problems"]) else 1)' "$OUT" ||
            python3 "$TOOLS/evjson.py" problems "$OUT" | sed 's/^/    /' >&2
    fi
    # inspect: the decoded bag-info, package-info.txt named, items from the manifests
    if expect_exit 0 "$EVIDENCE" inspect --json "${BAG[v1-latin1]}$form"; then
        ok "inspect 1.0 Latin-1$form" python3 - "$OUT" <<'EOF'
import hashlib, json, sys
d = json.load(open(sys.argv[1]))
assert d["tag_file_encoding"] == "ISO-8859-1" and d["bagit_version"] == "1.0", d
assert d["bag_info"]["Source-Organization"] == "Bibliothèque nationale", d["bag_info"]
assert "bag_info_file" not in d and "exhibits" not in d, d
its = {i["path"]: i for i in d["items"]}
c = its["data/café.txt"]
assert c == {"path": "data/café.txt", "source": "manifest", "size": 6,
             "manifests": ["manifest-sha256.txt"],
             "hashes": {"sha256": hashlib.sha256("café\n".encode()).hexdigest()},
             "mime": "text/plain", "mime_source": "libmagic"}, c
assert len(its) == 2, its
EOF
    fi
    if expect_exit 0 "$EVIDENCE" inspect --json "${BAG[old-bag]}$form"; then
        ok "inspect 0.95 package-info.txt$form" python3 - "$OUT" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["bag_info_file"] == "package-info.txt", d
assert d["bag_info"]["Contact-Name"] == ["Zoë", "Anaïs"], d["bag_info"]
assert d["bag_info"]["Payload-Oxum"] == "12.2", d["bag_info"]
assert [i["path"] for i in d["items"]] == ["data/café.txt", "data/notes.txt"], d["items"]
assert all(i["manifests"] == ["manifest-md5.txt"] and list(i["hashes"]) == ["md5"] for i in d["items"])
EOF
    fi
    if expect_exit 0 "$EVIDENCE" inspect "${BAG[old-bag]}$form"; then
        ok "inspect text 0.95$form: package-info.txt named" grep -q "^package-info.txt (the name of bag-info.txt before BagIt 0.96):" "$OUT"
        ok "inspect text 0.95$form: fields decoded" grep -q "^  Contact-Name: Anaïs$" "$OUT"
        ok "inspect text 0.95$form: an item" grep -q "^  data/café.txt  6 bytes, text/plain (libmagic)$" "$OUT"
        ok "inspect text 0.95$form: no creation time invented" test "$(grep -c '^created:' "$OUT")" = 0
    fi
done

# a bag of 1002 files: content types for the first 1000 in name order only
python3 - many <<'EOF' || die "could not write the bag of 1002 files"
import hashlib, os, sys
d = sys.argv[1]
os.makedirs(d + "/data")
with open(d + "/manifest-sha256.txt", "w") as m:
    for i in range(1002):
        b = b"file %d\n" % i
        open("%s/data/f%04d.txt" % (d, i), "wb").write(b)
        m.write("%s  data/f%04d.txt\n" % (hashlib.sha256(b).hexdigest(), i))
open(d + "/bagit.txt", "w").write("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
EOF
if expect_exit 0 "$EVIDENCE" inspect --json many; then
    ok "1002 files: the 1000th has a type" test "$(json_get "$OUT" items.999.mime)" = text/plain
    ok "1002 files: the 1001st has none" test "$(json_get "$OUT" items.1000.mime)" = ""
    ok "1002 files: but its size and checksum" test "$(json_get "$OUT" items.1001.hashes.sha256)" = \
        "$(printf 'file 1001\n' | sha256sum | cut -c1-64)"
fi
if expect_exit 0 "$EVIDENCE" inspect many; then
    ok "1002 files, text: says the types stop" grep -q "^  (content types for the first 1000 only)$" "$OUT"
fi

# a manifest that is not text in the declared encoding: named as unreadable,
# its files not said to be in no manifest
cp -a "${BAG[v1-latin1]}" badmf && printf '\xff\xfe\x00' >>badmf/manifest-sha256.txt &&
    sed -i 's/ISO-8859-1/UTF-8/' badmf/bagit.txt || die "badmf"
if expect_exit 0 "$EVIDENCE" inspect --json badmf; then
    ok "unreadable manifest: named" test "$(json_get "$OUT" unreadable_manifests.0)" = manifest-sha256.txt
    ok "unreadable manifest: no checksum invented" test "$(json_get "$OUT" items.0.hashes)" = "{}"
fi
if expect_exit 0 "$EVIDENCE" inspect badmf; then
    ok "unreadable manifest, text: said" grep -q "^  (manifest-sha256.txt could not be read" "$OUT"
    ok "unreadable manifest, text: not 'in no manifest'" grep -q "in no readable payload manifest" "$OUT"
fi

# the commands docs/bagit.md shows, as written, on old-bag
mkdir -p docrun/bin && ln -s "$(command -v "$EVIDENCE")" docrun/bin/evidence && cp -a "${BAG[old-bag]}" docrun/old-bag ||
    die "docrun"
n=$(python3 "$TOOLS/doccmds.py" extract "$EV_SOURCE_DIR" docs/bagit.md tests/cli/bagit_legacy.sh "$T/blocks") ||
    die "no blocks in docs/bagit.md"
ok "docs/bagit.md: one block for this test" [ "$n" = 1 ]
(cd docrun && PATH="$T/docrun/bin:$PATH" bash -e "$T/blocks/01.sh") >"$OUT" 2>"$ERR"
ok "docs/bagit.md: the commands run" [ $? = 0 ]
ok "docs/bagit.md: verify says valid" grep -q "valid" "$OUT"
ok "docs/bagit.md: inspect names package-info.txt" grep -q "^package-info.txt " "$OUT"
ok "docs/bagit.md: the JSON has the items" test "$(json_get docrun/old-bag.json items.1.path)" = data/notes.txt

# bagit-python, when it is importable, must agree on every verdict
if python3 -c 'import bagit' 2>/dev/null; then
    for n in "${!BAG[@]}"; do
        expect_exit_any=$("$EVIDENCE" verify --json "${BAG[$n]}" >/dev/null 2>&1; echo $?)
        theirs=$(python3 -c 'import bagit,sys
try:
    bagit.Bag(sys.argv[1]).validate(); print(0)
except Exception: print(1)' "${BAG[$n]}")
        ok "bagit-python agrees on $n (ours exit $expect_exit_any)" [ "$(( expect_exit_any == 0 ? 0 : 1 ))" = "$theirs" ]
    done
else
    note "bagit-python is not installed (Debian 12 has no python3-bagit): verdicts not compared with it"
fi

finish
