#!/bin/bash
# Disclosure benchmark (docs/disclosure.md): bundles of n = 400, 4000 and
# 40000 small items, each signed and timestamped (test PKI, a TSA answered
# offline with `openssl ts -reply`), are cut to 3 items; the part is
# verified with the test CA and TSA roots. Shows that checking the proofs
# costs O(k log n) hashes beyond the disclosed payload: the report's
# proof_hashes (k leaves + their path nodes) against the bound
# k * (1 + ceil(log2 n)), and the part's verify time against verifying the
# whole bundle and against the anchor, sha256sum of the disclosed payload.
# Prints; asserts only the hash bound (this machine is shared and noisy).
# The part's verify time is mostly fixed costs (process start, OpenSSL,
# certificate chains, the part's own bag checks and views), so its ratio to
# the anchor is large and flat; the whole bundle's verify grows with n.
#
#   bash bench/disclose.sh [BUILD_DIR]      (default build/release, else build/dev)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build/release}
[ -x "$B/tools/evidence" ] || B=build/dev
E=$B/tools/evidence
[ -x "$E" ] || { echo "no evidence binary in $B: build first" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/evbench.XXXXXX"); trap 'rm -rf "$W"' EXIT
bash scripts/test-pki.sh "$W/pki" >/dev/null 2>&1
PKI=$W/pki

med() { sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
t5() { for i in 1 2 3 4 5; do "$@"; done | med; }

printf '%7s %7s %7s %13s %13s %13s %9s %9s\n' n proof bound "part verify" "full verify" "sha256sum 3" part/anch full/part
for n in 400 4000 40000; do
    d=$W/in$n
    mkdir -p "$d"
    python3 - "$d" "$n" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(1, n + 1):
    with open(os.path.join(d, "f%06d.txt" % i), "w") as f:
        f.write("item %d %s\n" % (i, os.urandom(24).hex()))
PY
    b=$W/b$n.zip
    "$E" pack -o "$b" --case C-1 --exhibit JS/1 --officer "Jane Smith" --org "Test Police" \
        --no-media "$d" >/dev/null
    "$E" sign "$b" --key "$PKI/signer.key" --cert "$PKI/signer.pem" --chain "$PKI/chain.pem" \
        --tsa-query "$W/q.tsq" >/dev/null
    openssl ts -reply -config "$PKI/tsa.cnf" -queryfile "$W/q.tsq" -out "$W/r.tsr" 2>/dev/null
    "$E" timestamp "$b" --tsa-reply "$W/r.tsr" --query "$W/q.tsq" >/dev/null
    p=$W/p$n.zip
    mid=$(printf 'item-%04d' $((n / 2)))
    last=$(printf 'item-%04d' "$n")
    "$E" disclose "$b" -o "$p" --item item-0003 --item "$mid" --item "$last" --actor "DC Roe" \
        --org "Test Police" >/dev/null
    "$E" verify --json "$p" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem" > "$W/v.json"
    ph=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["disclosure"]; assert d["verdict"]=="proven", d; print(d["proof_hashes"])' "$W/v.json")
    bound=$(python3 -c "import math; print(3 * (1 + math.ceil(math.log2($n))))")
    [ "$ph" -le "$bound" ] || { echo "proof_hashes $ph above the bound $bound" >&2; exit 1; }
    [ "$n" -eq 400 ] && "$E" verify "$p" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem" > "$W/text400"
    mkdir -p "$W/x$n" && unzip -q "$p" -d "$W/x$n"
    files=$(find "$W/x$n" -path '*/data/*' -type f)
    tp=$(t5 t "$E" verify "$p" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem")
    # one run of the whole bundle's verify: it is the slow contrast, not the figure
    tf=$(t "$E" verify "$b" --ca "$PKI/root-ca.pem" --tsa-ca "$PKI/tsa-root.pem")
    ta=$(t5 t sha256sum $files)
    printf '%7d %7d %7d %11.3f s %11.3f s %11.4f s %9.1f %9.1f\n' "$n" "$ph" "$bound" "$tp" "$tf" "$ta" \
        "$(echo "$tp / $ta" | bc -l)" "$(echo "$tf / $tp" | bc -l)"
done
echo
echo "== evidence verify of the 3-item part of the 400-item bundle"
cat "$W/text400"
