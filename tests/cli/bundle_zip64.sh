# label: slow
# A 5 GiB (sparse) file needs ZIP64: pack -> verify -> extract byte for byte;
# unzip -l and python's zipfile read sizes and data past 4 GiB. Also the
# folder form. Needs about 10 GiB of free disk for a moment.
. "$(dirname "$0")/lib.sh"

on_exit "rm -rf '$T/big.zip' '$T/out' '$T/bigdir' '$T/out-dir'"
avail=$(df -Pk "$T" | awk 'NR==2 { print $4 }')
if [ "$avail" -lt $((12 * 1024 * 1024)) ]; then
    skip_case "needs 12 GiB free in $T, has $((avail / 1024)) MiB"
    finish
fi

mkdir -p "$T/src"
BIG="$T/src/big.bin"
truncate -s 5G "$BIG" || die "truncate failed"
# marks at the start, across the 4 GiB line, and at the end
printf 'START' | dd of="$BIG" conv=notrunc status=none
printf 'ACROSS-4GiB' | dd of="$BIG" bs=1 seek=$((4 * 1024 * 1024 * 1024 - 5)) conv=notrunc status=none
printf 'END' | dd of="$BIG" bs=1 seek=$((5 * 1024 * 1024 * 1024 - 3)) conv=notrunc status=none
SIZE=$((5 * 1024 * 1024 * 1024))
[ "$(stat -c %s "$BIG")" -eq "$SIZE" ] || die "the sparse file is not 5 GiB"
echo small >"$T/src/small.txt"

expect_exit 0 "$EVIDENCE" pack -o "$T/big.zip" "$T/src"
expect_exit 0 unzip -l "$T/big.zip"
grep -Eq "^ *$SIZE .*big/data/1/src/big\.bin$" "$OUT" && pass || { fail "unzip -l does not list 5368709120 bytes"; show_last; }
ok "python zipfile reads the ZIP64 sizes and the data past 4 GiB" python3 - "$T/big.zip" "$SIZE" <<'EOF'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
zi = z.getinfo("big/data/1/src/big.bin")
size = int(sys.argv[2])
assert zi.file_size == size, zi.file_size
assert zi.compress_type == zipfile.ZIP_STORED, zi.compress_type
with z.open(zi) as f:
    assert f.read(5) == b"START"
    f.seek(4 * 1024 ** 3 - 5)
    assert f.read(11) == b"ACROSS-4GiB"
    f.seek(size - 3)
    assert f.read() == b"END"
assert z.read("big/data/1/src/small.txt") == b"small\n"
EOF
expect_exit 0 "$EVIDENCE" verify --json "$T/big.zip" &&
    ok "verify: valid, 5 GiB counted" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert d["verdict"]=="valid" and d["summary"]["payload_bytes"]==int(sys.argv[2])+6, d["summary"]
' "$OUT" "$SIZE"
expect_exit 0 "$EVIDENCE" extract "$T/big.zip" "$T/out" &&
    ok "5 GiB file extracted byte for byte" cmp "$BIG" "$T/out/data/1/src/big.bin"
rm -rf "$T/out" "$T/big.zip"

# the folder form
expect_exit 0 "$EVIDENCE" pack --format dir -o "$T/bigdir" "$T/src"
expect_exit 0 "$EVIDENCE" verify "$T/bigdir"
ok "folder form keeps the bytes" cmp "$BIG" "$T/bigdir/data/1/src/big.bin"
grep -q "^Payload-Oxum: $((SIZE + 6))\.2$" "$T/bigdir/bag-info.txt" && pass || fail "Payload-Oxum of the 5 GiB bag"

finish
