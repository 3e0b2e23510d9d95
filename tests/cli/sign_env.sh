# Shared set-up for the signing CLI tests (tests/cli/sign_*.sh): a test PKI
# (scripts/test-pki.sh), a local TSA on 127.0.0.1 (scripts/tsa-server.py,
# stopped at exit), bundles, and checks on the "signatures" part of
# 'evidence verify --json'.
#
# Source it after lib.sh:   . "$(dirname "$0")/lib.sh"; . "$(dirname "$0")/sign_env.sh"
# Run directly (ctest cli_sign_env), it checks the PKI and the TSA themselves.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    . "$(dirname "$0")/lib.sh"
fi

# Never send test traffic through a proxy.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY no_proxy NO_PROXY ALL_PROXY all_proxy

PKI="$T/pki"
TSA=""
TSA_PID=""

# sign_pki: make the test PKI in $PKI.
sign_pki() {
    bash "$EV_SOURCE_DIR/scripts/test-pki.sh" "$PKI" >"$T/pki.log" 2>&1 || {
        cat "$T/pki.log" >&2
        die "scripts/test-pki.sh failed"
    }
}

# tsa_start: start the local TSA; sets $TSA to its base URL
# (paths: / good, /hang, /garbage, /html, /reject, /http500, /otherdata,
# /othernonce, /truncated; see scripts/tsa-server.py).
tsa_start() {
    rm -f "$T/tsa.port"
    python3 "$EV_SOURCE_DIR/scripts/tsa-server.py" --config "$PKI/tsa.cnf" \
        --port-file "$T/tsa.port" 2>"$T/tsa.log" &
    local launcher=$! i
    for i in $(seq 1 100); do
        [ -n "$(sed -n 2p "$T/tsa.port" 2>/dev/null)" ] && break
        sleep 0.1
    done
    if [ -z "$(sed -n 2p "$T/tsa.port" 2>/dev/null)" ]; then
        on_exit "kill $launcher; wait $launcher"
        die "the local TSA did not start: $(cat "$T/tsa.log")"
    fi
    # the server's own pid (python3 may be a wrapper that forks)
    TSA_PID=$(sed -n 2p "$T/tsa.port")
    on_exit "kill $TSA_PID; kill $launcher; wait $launcher"
    TSA="http://127.0.0.1:$(sed -n 1p "$T/tsa.port")"
}

# make_bundle OUT [pack options...]: a small bundle (one file, no media analysis).
make_bundle() {
    local out=$1
    shift
    mkdir -p "$T/in"
    printf 'exhibit bytes for %s\n' "$(basename "$out")" > "$T/in/photo.jpg"
    "$EVIDENCE" pack -o "$out" --case C-1 --exhibit JS/1 --officer "Jane Smith" \
        --org "Test Police" --no-media "$@" "$T/in/photo.jpg" >"$T/pack.log" 2>&1 || {
        cat "$T/pack.log" >&2
        die "evidence pack $out failed"
    }
}

# fingerprint PATH: one SHA-256 over a file, or over every file of a folder.
fingerprint() {
    if [ -d "$1" ]; then
        (cd "$1" && find . -type f | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum)
    else
        sha256sum < "$1"
    fi
}

# expect_unchanged PATH FINGERPRINT WHAT: counted check.
expect_unchanged() {
    if [ "$(fingerprint "$1")" = "$2" ]; then
        pass
    else
        fail "$3: the bundle $1 was changed"
    fi
}

# sig_query JSON MODE PATH-SUFFIX [CODE [TEXT]]
#   MODE verdict: print the verdict of the signature whose path ends so
#   MODE has: exit 0 when it has a problem CODE (whose message holds TEXT)
sig_query() {
    python3 - "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
mode, suffix = sys.argv[2], sys.argv[3]
sigs = (doc.get("signatures") or {}).get("signatures", [])
for s in sigs:
    if not s["path"].endswith(suffix):
        continue
    if mode == "verdict":
        print(s["verdict"])
        sys.exit(0)
    code = sys.argv[4]
    text = sys.argv[5] if len(sys.argv) > 5 else None
    for p in s["problems"]:
        if p["code"] == code and (text is None or text in p["message"]):
            sys.exit(0)
    sys.exit(1)
sys.exit(2)
PY
}

# expect_verdict JSON PATH-SUFFIX VERDICT
expect_verdict() {
    local got
    got=$(sig_query "$1" verdict "$2")
    if [ "$got" = "$3" ]; then
        pass
    else
        fail "signature *$2: verdict '$got', expected '$3'"
        python3 -m json.tool "$1" 2>/dev/null | sed -n '/"signatures": {/,$p' | head -60 >&2
    fi
}

# expect_sig_problem JSON PATH-SUFFIX CODE [TEXT]
expect_sig_problem() {
    if sig_query "$1" has "$2" "$3" "${4:-}"; then
        pass
    else
        fail "signature *$2: no problem '$3'${4:+ with '$4'}"
        python3 -m json.tool "$1" 2>/dev/null | sed -n '/"signatures": {/,$p' | head -60 >&2
    fi
}

# expect_stderr TEXT: the last command's stderr contains TEXT.
expect_stderr() {
    if grep -qF -- "$1" "$ERR"; then
        pass
    else
        fail "stderr lacks '$1'"
        show_last
    fi
}

# ---------------------------------------------------------------------------
# Run directly: the fixtures themselves work.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    sign_pki
    ok "signer chains to the root" openssl verify -CAfile "$PKI/root-ca.pem" \
        -untrusted "$PKI/chain.pem" "$PKI/signer.pem" "$PKI/signer-rsa.pem"
    ok "revoked certificate is in the CRL" bash -c "! openssl verify -CAfile '$PKI/root-ca.pem' \
        -untrusted '$PKI/chain.pem' -crl_check -CRLfile '$PKI/crl.pem' '$PKI/revoked.pem' >/dev/null 2>&1"
    ok "expired certificate is expired" bash -c "! openssl verify -CAfile '$PKI/root-ca.pem' \
        -untrusted '$PKI/chain.pem' '$PKI/expired.pem' >/dev/null 2>&1"
    ok "TSA certificate is for timestamping" openssl verify -CAfile "$PKI/tsa-root.pem" \
        -purpose timestampsign "$PKI/tsa.pem"
    ok "bad TSA certificate is not" bash -c "! openssl verify -CAfile '$PKI/tsa-root.pem' \
        -purpose timestampsign '$PKI/tsa-noeku.pem' >/dev/null 2>&1"
    ok "other signer does not chain to the root" bash -c "! openssl verify -CAfile \
        '$PKI/root-ca.pem' '$PKI/other-signer.pem' >/dev/null 2>&1"
    tsa_start
    printf 'data\n' > "$T/d"
    openssl ts -query -data "$T/d" -sha256 -cert -out "$T/q.tsq" 2>/dev/null
    python3 - "$TSA/" "$T/q.tsq" "$T/r.tsr" <<'PY'
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=open(sys.argv[2], "rb").read(),
                             headers={"Content-Type": "application/timestamp-query"})
open(sys.argv[3], "wb").write(urllib.request.urlopen(req, timeout=10).read())
PY
    ok "local TSA answers with a token that verifies" openssl ts -verify -data "$T/d" \
        -in "$T/r.tsr" -CAfile "$PKI/tsa-root.pem"
    kill "$TSA_PID"
    for i in $(seq 1 50); do
        kill -0 "$TSA_PID" 2>/dev/null || break
        sleep 0.1
    done
    ok "local TSA stops on SIGTERM" bash -c "! kill -0 $TSA_PID 2>/dev/null"
    finish
fi
