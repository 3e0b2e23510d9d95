#!/bin/bash
# Build a throw-away test PKI with the openssl command line, for the signing
# tests and for trying out 'evidence sign' / 'evidence verify --ca' by hand.
#
#   scripts/test-pki.sh DIR
#
# DIR is created (it must not exist or be empty). Everything in it is for
# tests only: the keys are not protected and the certificates are not
# trustworthy. Files written:
#
#   root-ca.pem root-ca.key         "Test Root CA" (trust anchor for --ca)
#   issuing-ca.pem issuing-ca.key   "Test Issuing CA", issued by the root
#   chain.pem                       the issuing CA (for --chain)
#   signer.pem signer.key           "Jane Smith" (EC P-256)
#   signer-rsa.pem signer-rsa.key   "Robert Roe" (RSA 2048)
#   signer-enc.key                  signer.key encrypted (AES-256) with the
#   passphrase.txt                  passphrase in this file
#   expired.pem expired.key         "Old Signer": valid 2020-01-01 to 2021-01-01
#   revoked.pem revoked.key         "Revoked Signer": revoked on creation
#   crl.pem                         CRL of the issuing CA listing revoked.pem
#   other-ca.pem other-ca.key       "Unrelated CA", self-signed
#   other-signer.pem other-signer.key  "Mallory", issued by the unrelated CA
#   tsa-root.pem tsa-root.key       "Test TSA Root" (trust anchor for --tsa-ca)
#   tsa.pem tsa.key                 "Test TSA": extendedKeyUsage critical,timeStamping
#   tsa-noeku.pem tsa-noeku.key     "Bad TSA": no timeStamping usage (must be refused)
#   tsa.cnf                         config for 'openssl ts -reply' (section tsa_config1)
#
# Every certificate is valid from 2020-01-01 until two years from now, except
# expired.pem, so that times in the past can be checked. The CAs are
# 'openssl ca' databases (ca-*/ and ca-*.cnf), which is what allows the
# back-dating, the revocation and the CRL.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
    echo "$0: $dir exists and is not empty" >&2
    exit 2
fi
mkdir -p "$dir"
cd "$dir"
dir=$(pwd)

ossl() {
    local out
    if ! out=$(openssl "$@" 2>&1); then
        echo "$0: openssl $1 failed:" >&2
        echo "$out" >&2
        exit 1
    fi
}

cat > ext.cnf <<'END'
[req]
distinguished_name = req_dn
[req_dn]

[ca_ext]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[signer_ext]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[tsa_ext]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[noeku_ext]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
END

start=20200101000000Z
end=$(date -u -d '+2 years' +%Y%m%d%H%M%SZ)

mkca() { # name cert key
    mkdir -p "ca-$1"
    : > "ca-$1/index.txt"
    echo 1000 > "ca-$1/serial"
    echo 1000 > "ca-$1/crlnumber"
    cat > "ca-$1.cnf" <<END
[ca]
default_ca = this
[this]
dir = $dir/ca-$1
database = \$dir/index.txt
serial = \$dir/serial
crlnumber = \$dir/crlnumber
new_certs_dir = \$dir
certificate = $dir/$2
private_key = $dir/$3
default_md = sha256
default_days = 825
default_crl_days = 30
policy = any
unique_subject = no
copy_extensions = none
[any]
organizationName = optional
commonName = supplied
END
}

newkey() { # key [rsa]
    if [ "${2:-ec}" = rsa ]; then
        ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"
    else
        ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
    fi
}

root() { # name cert key cn
    mkca "$1" "$2" "$3"
    newkey "$3"
    ossl req -new -key "$3" -out "$2.csr" -subj "/O=Evidence Test PKI/CN=$4" -config ext.cnf
    ossl ca -batch -selfsign -config "ca-$1.cnf" -notext -in "$2.csr" -out "$2" \
        -startdate "$start" -enddate "$end" -extfile ext.cnf -extensions ca_ext
    rm -f "$2.csr"
}

issue() { # ca cert key extensions subject [ec|rsa [startdate enddate]]
    newkey "$3" "${6:-ec}"
    ossl req -new -key "$3" -out "$2.csr" -subj "$5" -config ext.cnf
    ossl ca -batch -config "ca-$1.cnf" -notext -in "$2.csr" -out "$2" \
        -startdate "${7:-$start}" -enddate "${8:-$end}" -extfile ext.cnf -extensions "$4"
    rm -f "$2.csr"
}

root root root-ca.pem root-ca.key "Test Root CA"
root other other-ca.pem other-ca.key "Unrelated CA"
root tsaroot tsa-root.pem tsa-root.key "Test TSA Root"
issue root issuing-ca.pem issuing-ca.key ca_ext "/O=Evidence Test PKI/CN=Test Issuing CA"
mkca issuing issuing-ca.pem issuing-ca.key
cp issuing-ca.pem chain.pem

issue other other-signer.pem other-signer.key signer_ext "/O=Elsewhere/CN=Mallory"
issue tsaroot tsa.pem tsa.key tsa_ext "/O=Evidence Test PKI/CN=Test TSA"
issue tsaroot tsa-noeku.pem tsa-noeku.key noeku_ext "/O=Evidence Test PKI/CN=Bad TSA"
issue issuing signer.pem signer.key signer_ext "/O=Test Police/CN=Jane Smith"
issue issuing signer-rsa.pem signer-rsa.key signer_ext "/O=Test Police/CN=Robert Roe" rsa
issue issuing expired.pem expired.key signer_ext "/O=Test Police/CN=Old Signer" ec \
    20200101000000Z 20210101000000Z
issue issuing revoked.pem revoked.key signer_ext "/O=Test Police/CN=Revoked Signer"
ossl ca -batch -config ca-issuing.cnf -revoke revoked.pem -crl_reason keyCompromise
ossl ca -batch -config ca-issuing.cnf -gencrl -out crl.pem

printf 'correct horse battery staple\n' > passphrase.txt
ossl pkey -in signer.key -out signer-enc.key -aes256 -passout file:passphrase.txt

# Config for 'openssl ts -reply'.
cat > tsa.cnf <<END
[tsa]
default_tsa = tsa_config1
[tsa_config1]
dir = $dir
serial = $dir/tsa.serial
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1.1
other_policies = 1.3.6.1.4.1.99999.1.2
digests = sha256, sha384, sha512
accuracy = secs:1
clock_precision_digits = 0
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
END
echo 01 > tsa.serial

echo "test PKI written to $dir"
