# evidence verify --max-entries N, --max-items N, --max-record-size SIZE:
# they set the reading limits (ev_bundle_options) of every bundle of the
# run, both ways: below the bundle it is refused (exit 3, the limit named),
# above it it verifies (exit 0). Bad values are usage errors (exit 2) that
# name the option and the value. The example of docs/bundle.md ("Limits
# when reading") runs as printed.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/in"
for i in $(seq 1 30); do
    printf 'statement %s\n' "$i" >"$T/in/s$i.txt"
done
"$EVIDENCE" pack -q --no-media -o "$T/b.zip" "$T/in" >/dev/null || die "pack"
"$EVIDENCE" pack -q --no-media --format dir -o "$T/bag" "$T/in" >/dev/null || die "pack dir"
expect_exit 0 "$EVIDENCE" verify "$T/b.zip"

# --max-entries: 30 files and the tag files are more than 10 entries
for b in "$T/b.zip" "$T/bag"; do
    expect_exit 3 "$EVIDENCE" verify --max-entries 10 "$b"
    ok "--max-entries 10 ($b): the message names the limit of 10" \
        grep -Eq '^evidence: .*(limit|more than).* 10\b' "$ERR"
    expect_exit 3 "$EVIDENCE" verify --json --max-entries 10 "$b"
    ok "--max-entries 10 ($b): unreadable in --json" test "$(json_get "$OUT" verdict)" = unreadable
    expect_exit 0 "$EVIDENCE" verify --max-entries 1000 "$b"
    expect_exit 0 "$EVIDENCE" verify --max-entries=1000 "$b"
done

# --max-items: the record lists 30 items
expect_exit 3 "$EVIDENCE" verify --json --max-items 5 "$T/b.zip"
expect_problem "$OUT" limit-items evidence.json error
ok "--max-items 5: the message names the limit of 5" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert any(p["code"] == "limit-items" and " 5" in p["message"] for p in d["problems"])' "$OUT"
expect_exit 3 "$EVIDENCE" verify --max-items 5 "$T/b.zip"
ok "--max-items 5: text output names limit-items" grep -q '\[limit-items\]' "$OUT"
expect_exit 0 "$EVIDENCE" verify --max-items 30 "$T/b.zip"
expect_exit 3 "$EVIDENCE" verify --max-items 29 "$T/b.zip"

# --max-record-size: evidence.json of 30 items is well over 1 KiB
size=$(unzip -Z -l "$T/b.zip" b/evidence.json | awk 'NR == 1 {print $4}')
[ -n "$size" ] && [ "$size" -gt 2048 ] || die "evidence.json of $size bytes"
expect_exit 3 "$EVIDENCE" verify --json --max-record-size 1K "$T/b.zip"
expect_problem "$OUT" limit-record-size evidence.json error
ok "--max-record-size 1K: the message names the limit of 1024 bytes" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert any(p["code"] == "limit-record-size" and "1024" in p["message"] for p in d["problems"])' "$OUT"
expect_exit 3 "$EVIDENCE" verify --max-record-size 1k "$T/b.zip"
expect_exit 3 "$EVIDENCE" verify --max-record-size $((size - 1)) "$T/b.zip"
expect_exit 0 "$EVIDENCE" verify --max-record-size "$size" "$T/b.zip"
expect_exit 0 "$EVIDENCE" verify --max-record-size 64M "$T/b.zip"
expect_exit 0 "$EVIDENCE" verify --max-record-size 1G "$T/b.zip"
expect_exit 0 "$EVIDENCE" verify --max-record-size 1T "$T/b.zip"

# every bundle of a run gets the limits, also with --jobs
mkdir -p "$T/batch"
cp "$T/b.zip" "$T/batch/one.zip"
cp "$T/b.zip" "$T/batch/two.zip"
expect_exit 3 "$EVIDENCE" verify --jobs 2 --json-lines --max-items 5 "$T/batch"
ok "--max-items 5 --jobs 2: both bundles unreadable" \
    test "$(grep -c '"verdict":"unreadable"' "$OUT")" = 2
expect_exit 0 "$EVIDENCE" verify --jobs 2 --max-entries 100 --max-items 100 \
    --max-record-size 1M "$T/batch"

# bad values: usage errors naming the option and the value
bad() { # OPTION VALUE
    expect_exit 2 "$EVIDENCE" verify "$1" "$2" "$T/b.zip" || return
    if grep -qF -- "$1" "$ERR" && grep -qF -- "'$2'" "$ERR" && ! grep -q valid "$OUT"; then
        pass
    else
        fail "$1 '$2': the usage error does not name the option and the value"
        show_last
    fi
}
for v in 0 -5 abc 99999999999999999999999 18446744073709551616 "" " 5" 5x +5 0x10 1.5 10K; do
    bad --max-entries "$v"
    bad --max-items "$v"
done
for v in 0 0K -1 abc 12Q 1KB K 1KK 99999999999999999999999 16777216T 18446744073709551616 \
    " 1M" 1.5M; do
    bad --max-record-size "$v"
done
expect_exit 2 "$EVIDENCE" verify --max-items
expect_exit 0 "$EVIDENCE" verify --max-entries 18446744073709551615 \
    --max-record-size 16777215T "$T/b.zip"

# the example of docs/bundle.md, as printed, on a small bundle named as there
mkdir -p "$T/docrun/bin"
ln -s "$(cd "$(dirname "$EVIDENCE")" && pwd)/$(basename "$EVIDENCE")" "$T/docrun/bin/evidence"
cp "$T/b.zip" "$T/docrun/big.zip"
n=$(python3 "$TOOLS/doccmds.py" extract "$EV_SOURCE_DIR" docs/bundle.md tests/cli/verify_limits.sh \
    "$T/blocks") || die "no blocks in docs/bundle.md"
ok "docs/bundle.md: one block for this test" [ "$n" = 1 ]
(cd "$T/docrun" && PATH="$T/docrun/bin:$PATH" bash -e "$T/blocks/01.sh") >"$OUT" 2>"$ERR"
ok "docs/bundle.md: the example runs (exit 0)" [ $? = 0 ]
ok "docs/bundle.md: the example says valid" grep -q "^big.zip: valid" "$OUT"

finish
