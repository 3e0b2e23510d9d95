# RFC 8493 [V] rules: hand-made bags (tests/tools/mkbag.py), each valid or
# invalid in one way, as a folder and as a ZIP made by python's zipfile.
# For each: the exact exit code of `evidence verify`, the problem codes and
# paths in its --json output, and the verdict of the independent validator
# tests/tools/bagit_validate.py. Valid bags are also extracted and compared
# byte for byte with the folder they came from. A TCP canary on 127.0.0.1
# proves that fetch.txt URLs are never fetched.
. "$(dirname "$0")/lib.sh"

# --- fetch canary ----------------------------------------------------------------
"$EV_PYTHON" "$TOOLS/tcp_canary.py" "$T/canary.port" "$T/canary.log" 600 </dev/null >/dev/null 2>&1 &
CANARY=$!
on_exit "kill $CANARY"
for _ in $(seq 100); do [ -s "$T/canary.port" ] && break; sleep 0.05; done
[ -s "$T/canary.port" ] || die "the TCP canary did not start"
MKBAG_FETCH_PORT=$(cat "$T/canary.port")
export MKBAG_FETCH_PORT

# check_bag VARIANT EV_EXIT VALIDATOR_EXIT [CODE PATH SEVERITY]...
#   VALIDATOR_EXIT may be "DIR/ZIP" when the two forms differ; PATH or
#   SEVERITY "" means any.
check_bag() {
    local v=$1 ev=$2 val=$3
    shift 3
    local d="$T/$v" form verdict vals
    mkdir -p "$d"
    [ "$v" = manifest-escape ] && mkfifo "$d/outside-fifo"
    if ! vals=$(python3 "$TOOLS/mkbag.py" "$v" "$d/bag" "$d/bag.zip" --validate); then
        fail "mkbag.py could not write $v"
        return
    fi
    # the independent validator, folder then ZIP
    if [ "$vals" = "${val%/*} ${val#*/}" ]; then
        pass
    else
        fail "independent validator: exits '$vals', expected '${val%/*} ${val#*/}', for $v"
    fi
    case "$ev" in
    0) verdict=valid ;;
    1) verdict=invalid ;;
    *) verdict=unreadable ;;
    esac
    for form in bag bag.zip; do
        expect_exit "$ev" timeout 60 "$EVIDENCE" verify --json "$d/$form"
        cp "$OUT" "$d/$form.json"
        if python3 "$TOOLS/evjson.py" check "$d/$form.json" "$verdict" "$@" >"$d/check.txt" 2>&1; then
            pass
        else
            fail "$v/$form: $(cat "$d/check.txt")"
        fi
    done
    if [ "$ev" -eq 0 ]; then
        # a foreign bag extracts byte for byte
        if expect_exit 0 "$EVIDENCE" extract "$d/bag.zip" "$d/out"; then
            ok "$v: extracted bag equals the original folder" diff -r "$d/bag" "$d/out"
        fi
    fi
}

# --- valid bags (exit 0) -----------------------------------------------------------
check_bag valid-basic 0 0
check_bag valid-crlf 0 0                        # 2.3: CRLF line endings
check_bag valid-cr 0 0                          # 2.3: CR line endings
check_bag valid-tab-sep 0 0                     # 2.1.3: tab between checksum and path
check_bag valid-many-spaces 0 0                 # 2.1.3: several SP/TAB
check_bag valid-upper-hex 0 0                   # 2.1.3: upper-case hex
check_bag valid-pct-names 0 0                   # 2.1.3: %25 %0A %0D, %41/%7E literal
check_bag valid-pct-lower 0 0                   # 7.2: %0a %0d
check_bag valid-spaces 0 0                      # leading/trailing spaces kept
check_bag valid-unicode 0 0
check_bag valid-nfd-manifest 0 0 normalization-mismatch "data/café.txt" warning
check_bag valid-nfd-disk 0 0 normalization-mismatch "$(python3 -c 'import unicodedata;print(unicodedata.normalize("NFD","data/naïve Ångström.txt"))')" warning
check_bag valid-empty-payload 0 0               # 2.1.2: data/ may be empty
check_bag valid-no-baginfo 0 0                  # 2.2.2: bag-info.txt optional
check_bag valid-no-tagmanifest 0 0              # 2.2.1: tag manifest optional
check_bag valid-sha512-only 0 0                 # 2.4: SHA-512 supported
check_bag valid-legacy-algs 0 0                 # 2.4: MD5 / SHA-1 (legacy)
check_bag valid-two-tagmanifests 0 0
check_bag valid-folded-baginfo 0 0              # 2.2.2: folded values, repeated labels
check_bag valid-unlisted-tag-file 0 0 tag-unlisted README info   # 2.2.4
check_bag valid-tag-subdir 0 0
check_bag valid-fetch-complete 0 0 fetch-present fetch.txt warning  # 2.2.3
check_bag valid-legacy-097 0 0 bagit-version-legacy bagit.txt warning
check_bag valid-md5sum-style 0 0 manifest-md5sum-style manifest-sha256.txt warning  # 6.1.3
check_bag valid-long-path 0 0
check_bag valid-no-final-eol 0 0                # 2.3: final EOL is only RECOMMENDED

# --- bagit.txt ------------------------------------------------------------------------
check_bag bagit-missing 3 1 bagit-txt-missing bagit.txt error
check_bag bagit-bom 1 1 tag-bom bagit.txt error
check_bag bagit-three-lines 1 1 bagit-txt-invalid bagit.txt error
check_bag bagit-version-dot97 1 1 bagit-txt-invalid bagit.txt error
check_bag bagit-version-trailing-space 1 1 bagit-txt-invalid bagit.txt error
check_bag bagit-space-before-colon 1 1 bagit-txt-invalid bagit.txt error
check_bag bagit-lines-swapped 1 1 bagit-txt-invalid bagit.txt error
check_bag bagit-version-2 3 1 bagit-version-unsupported bagit.txt error
# 2.1.1: UTF-8 SHOULD be used; another encoding MAY (read, with a warning;
# the independent validator reads only UTF-8)
check_bag bagit-encoding-latin1 0 1 tag-encoding-not-utf8 bagit.txt warning

# --- structure, manifests -----------------------------------------------------------------
check_bag data-missing 1 1 data-dir-missing data error
check_bag no-payload-manifest 1 1 payload-manifest-missing "" error
check_bag payload-modified 1 1 modified data/a.txt error
check_bag payload-truncated 1 1 modified data/sub/b.bin error oxum-mismatch bag-info.txt error
check_bag payload-missing 1 1 missing data/a.txt error
check_bag payload-extra 1 1 extra data/new.txt error
check_bag payload-not-in-sha512 1 1 not-in-manifest data/a.txt error
check_bag manifest-duplicate 1 1 manifest-duplicate data/a.txt error
check_bag manifest-outside-data 1 1 manifest-outside-data manifest-sha256.txt error
check_bag manifest-dotdot 1 1 manifest-unsafe-path manifest-sha256.txt error
check_bag manifest-escape 1 1 manifest-unsafe-path manifest-sha256.txt error
check_bag manifest-absolute 1 1 manifest-unsafe-path manifest-sha256.txt error
check_bag manifest-tilde 1 1 manifest-unsafe-path manifest-sha256.txt error
check_bag manifest-bad-line 1 1 manifest-bad-line manifest-sha256.txt error
check_bag manifest-bad-digest 1 1 manifest-bad-digest manifest-sha256.txt error
check_bag manifest-nonhex 1 1 manifest-bad-digest manifest-sha256.txt error
check_bag manifest-lists-folder 1 1
check_bag manifest-not-utf8 1 1 tag-not-utf8 manifest-sha256.txt error
check_bag manifest-bom 1 1 tag-bom manifest-sha256.txt error
# 2.1.3/2.4: the manifest's file name MUST carry the normalized algorithm name
check_bag manifest-name-not-normalized 1 1 manifest-name-not-normalized manifest-SHA256.txt error
# 3: a bag is valid only when every checksum was verified; with no manifest
# in an algorithm this build can compute, nothing was verified
check_bag manifest-only-unknown-alg 3 1

# --- bag-info.txt ------------------------------------------------------------------------
check_bag oxum-mismatch 1 1 oxum-mismatch bag-info.txt error
check_bag oxum-repeated 1 1 oxum-repeated bag-info.txt error
check_bag oxum-invalid 1 1 oxum-invalid bag-info.txt error
# 2.2.2: Payload-Oxum is only an optimisation, the checksums still decide
check_bag oxum-ok-but-modified 1 1 modified data/sub/b.bin error
lacks_problem "$T/oxum-ok-but-modified/bag.json" oxum-mismatch || fail "oxum-mismatch reported for a same-size change"
check_bag baginfo-not-utf8 1 1 tag-not-utf8 bag-info.txt error
check_bag baginfo-bom 1 1 tag-bom bag-info.txt error
check_bag baginfo-label-space 1 1 baginfo-bad-line bag-info.txt error

# --- tag manifests ------------------------------------------------------------------------
check_bag tag-modified 1 1 tag-modified bag-info.txt error
check_bag tagmanifest-incomplete 1 1 tagmanifest-incomplete tagmanifest-sha256.txt error
check_bag tagmanifest-lists-payload 1 1 tagmanifest-lists-payload tagmanifest-sha256.txt error
check_bag tagmanifest-lists-tagmanifest 1 1 tagmanifest-lists-tagmanifest tagmanifest-sha256.txt error
check_bag tagmanifest-missing-file 1 1 missing gone.txt error

# --- fetch.txt: reported, never fetched -----------------------------------------------------
check_bag fetch-not-fetched 1 1 fetch-not-fetched data/remote.bin error fetch-present fetch.txt warning
check_bag fetch-bad-path 1 1 fetch-bad-path fetch.txt error

# --- names that differ only in case or normalization (6.1.1.3; refused by design) ------------
check_bag case-collision 1 0 case-collision "" error
check_bag normalization-collision 1 0 normalization-collision "" error
# 2.1.3 makes '\' an ordinary character; evidence refuses it by design (DESIGN.md
# safety rules). The independent validator accepts the folder, refuses the ZIP.
check_bag backslash-name 1 0/1 manifest-unsafe-path manifest-sha256.txt error

# the text output names the verdict and the problem
expect_exit 0 "$EVIDENCE" verify "$T/valid-basic/bag.zip" && grep -q ': valid (' "$OUT" || fail "text verdict for a valid bag"
expect_exit 1 "$EVIDENCE" verify "$T/payload-modified/bag" &&
    grep -q 'INVALID' "$OUT" && grep -q '\[modified\].*data/a.txt' "$OUT" || fail "text verdict for a modified payload"

# nothing connected to the fetch.txt URLs
sleep 0.2
if [ -s "$T/canary.log" ]; then
    fail "something connected to the fetch.txt URL: $(cat "$T/canary.log")"
else
    pass
fi

finish
