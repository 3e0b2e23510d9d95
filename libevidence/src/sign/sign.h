/*
 * sign: CMS signatures and RFC 3161 timestamps over the custody log
 * (OpenSSL), trust stores, and their verification. The functions here work
 * on memory buffers; sign_bundle.c ties them to ev_bundle.
 *
 *   sign.c         keys, certificates, CRLs, CMS sign/check, chain checks
 *   sign_ts.c      timestamp queries, the HTTP exchange, replies
 *   sign_verify.c  checking a set of signature files against custody bytes
 *   sign_bundle.c  the public ev_signer / ev_trust / ev_sign_verify API
 */
#ifndef EV_SIGN_INT_H
#define EV_SIGN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/cms.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include "evidence/sign.h"
#include "base/internal.h"

/* Refuse larger key, certificate, CRL, signature or token files. */
#define EV_SIGN__MAX_FILE (4u * 1024u * 1024u)
/* At most this many files, and bytes, under signatures/ are read. */
#define EV_SIGN__MAX_FILES 10000u
#define EV_SIGN__MAX_TOTAL (256u * 1024u * 1024u)
/* Largest TSA reply accepted over HTTP. */
#define EV_SIGN__MAX_REPLY (1024u * 1024u)
#define EV_SIGN__DEFAULT_TIMEOUT 10
#define EV_SIGN__SLUG_MAX 40

/* ---- small helpers (sign.c) ------------------------------------------------ */

/* Read a whole file (at most max bytes) for `what` ("key", "certificate"). */
int ev_sign__read_file(uint8_t **out, size_t *len, const char *path, size_t max,
                       const char *what, ev_errbuf *e);
/* Append OpenSSL's queued errors (oldest first, at most a few) to the
 * message in e as ": reason; reason", and clear the queue. */
void ev_sign__append_ossl(ev_errbuf *e);
/* Seconds since the epoch of an ASN1_TIME; false when it cannot be read. */
bool ev_sign__asn1_time(const ASN1_TIME *t, int64_t *out);
/* RFC 2253 one-line subject of a certificate; caller frees. */
char *ev_sign__subject(const X509 *x);
/* A text field (NID_commonName, ...) of a certificate's subject; caller frees. */
char *ev_sign__subject_field(const X509 *x, int nid);
/* Safe file-name slug of a common name: lower-case ASCII letters and digits,
 * other runs become '-', at most EV_SIGN__SLUG_MAX bytes, "signer" if empty.
 * out must hold EV_SIGN__SLUG_MAX + 1 bytes. */
void ev_sign__slug(char *out, const char *cn);
/* Parse "signatures/NNNN-<who>.p7s" (or ".tsr"): N >= 1, who a valid slug.
 * *ext receives "p7s" or "tsr". Returns false when the name does not fit. */
bool ev_sign__parse_name(const char *path, uint64_t *n, char *who, size_t wholen,
                         const char **ext);

/* ---- keys and certificates (sign.c) --------------------------------------- */

/* Decode a PEM private key. `where` names the file in messages. cb may be
 * NULL (an encrypted key then fails with a message asking for one). */
int ev_sign__load_key(EVP_PKEY **out, const uint8_t *pem, size_t len, const char *where,
                      ev_passphrase_cb cb, void *payload, ev_errbuf *e);
/* Decode every certificate of a PEM buffer (or one DER certificate).
 * Fails with EV_EFORMAT when there is none. */
int ev_sign__load_certs(STACK_OF(X509) **out, const uint8_t *buf, size_t len,
                        const char *where, ev_errbuf *e);
/* Decode every CRL of a PEM buffer (or one DER CRL). */
int ev_sign__load_crls(STACK_OF(X509_CRL) **out, const uint8_t *buf, size_t len,
                       const char *where, ev_errbuf *e);
/* Check that a key and certificate can sign now: supported key type, the
 * pair matches, the certificate is valid at `now` and allows signing. */
int ev_sign__check_signer(const X509 *cert, EVP_PKEY *key, int64_t now, const char *cert_where,
                          const char *key_where, ev_errbuf *e);

/* ---- CMS ------------------------------------------------------------------ */

/* Detached CMS SignedData (DER) over data, SHA-256, with signingTime and
 * ESS signingCertificateV2, the signer certificate and the chain. With
 * commit (32 bytes, may be NULL), also the signed attribute
 * EV_SIGN__COMMIT_OID holding it as an OCTET STRING (docs/disclosure.md). */
int ev_sign__cms_sign(uint8_t **der, size_t *der_len, const uint8_t *data, size_t len,
                      X509 *cert, EVP_PKEY *key, STACK_OF(X509) *chain, const uint8_t *commit,
                      ev_errbuf *e);

/* The signed attribute that carries the SHA-256 of a bundle's disclosure
 * commitment (a UUID-based OID, ITU-T X.667: no registration needed). */
#define EV_SIGN__COMMIT_OID "2.25.44234944599588972979285240164174171480"

/* What a parsed signature claims (nothing here is trusted yet). */
typedef struct ev_sign__cms {
    CMS_ContentInfo *cms;
    X509 *signer;                 /* borrowed from certs */
    STACK_OF(X509) *certs;        /* every certificate in the SignedData (owned) */
    uint8_t digest[EVP_MAX_MD_SIZE]; /* messageDigest attribute */
    size_t digest_len;
    bool has_signing_time;
    int64_t signing_time;
    bool has_commit;              /* the EV_SIGN__COMMIT_OID attribute */
    uint8_t commit[32];
} ev_sign__cms;

/* Parse a DER signature: a detached SignedData with exactly one signer using
 * SHA-256, signed attributes with a messageDigest, and the signer's
 * certificate. EV_EFORMAT with a message otherwise. */
int ev_sign__cms_parse(ev_sign__cms *out, const uint8_t *der, size_t len, ev_errbuf *e);
void ev_sign__cms_clear(ev_sign__cms *c);
/* Check the signature value over the signed attributes and the content
 * digest against data. Returns EV_OK when both hold; EV_EFORMAT with a
 * message otherwise. No certificate checks. */
int ev_sign__cms_check(ev_sign__cms *c, const uint8_t *data, size_t len, ev_errbuf *e);

/* Check the signature value over the signed attributes only, and the ESS
 * certificate binding, without the content (whose digest the attributes
 * hold). For a part, which has the original's signature but not its
 * custody log. EV_OK or EV_EFORMAT with a message. */
int ev_sign__cms_check_attrs(ev_sign__cms *c, ev_errbuf *e);

/* ---- certificate chains ---------------------------------------------------- */

/* Outcome of a chain check; code is a stable problem code or NULL. */
typedef struct ev_sign__chain {
    bool ok;
    const char *code;             /* "signer-untrusted", "signer-expired", ... */
    char msg[EV_ERRMSG_SIZE];
    bool revoked_after;           /* revoked, but after a trusted time */
    int64_t revoked_at;
} ev_sign__chain;

/* Verify leaf against the trusted roots at time `at` (untrusted: extra
 * certificates for the path). With crls (non-empty) the leaf must be covered
 * by a CRL of its issuer. at_trusted: `at` was proven by a timestamp, so a
 * revocation after it does not invalidate. purpose: X509_PURPOSE_* or 0.
 * Returns EV_OK when the check ran (result in *res) or EV_ENOMEM. */
int ev_sign__verify_chain(ev_sign__chain *res, X509 *leaf, STACK_OF(X509) *untrusted,
                          STACK_OF(X509) *roots, STACK_OF(X509_CRL) *crls, int64_t at,
                          bool at_trusted, int purpose);

/* ---- timestamps (sign_ts.c) ------------------------------------------------ */

/* A DER TimeStampReq over SHA-256(data), with a random 64-bit nonce, asking
 * for the TSA certificate; policy (dotted OID) may be NULL. */
int ev_sign__ts_query(uint8_t **tsq, size_t *tsq_len, const uint8_t *data, size_t len,
                      const char *policy, ev_errbuf *e);
/* POST a query to an http:// TSA with OSSL_HTTP_transfer; the whole exchange
 * is bounded by timeout seconds. Returns the reply bytes (not yet checked). */
int ev_sign__ts_http(uint8_t **tsr, size_t *tsr_len, const char *url, const char *proxy,
                     const uint8_t *tsq, size_t tsq_len, int timeout, ev_errbuf *e);

/* What a parsed reply (or bare token) claims. */
typedef struct ev_sign__ts {
    TS_RESP *resp;                /* NULL for a bare token */
    PKCS7 *token;                 /* borrowed from resp, or owned */
    TS_TST_INFO *tst;             /* owned */
    int status;                   /* PKIStatus; 0/1 granted */
    char status_text[256];        /* status, text and failure info for messages */
    int md_nid;                   /* imprint algorithm */
    uint8_t imprint[EVP_MAX_MD_SIZE];
    size_t imprint_len;
    bool has_time;
    int64_t gen_time;
    X509 *tsa_cert;               /* borrowed from the token, or NULL */
} ev_sign__ts;

/* Parse a TimeStampResp (or, failing that, a bare TimeStampToken). A reply
 * that is not granted parses fine: check ->status. EV_EFORMAT otherwise. */
int ev_sign__ts_parse(ev_sign__ts *out, const uint8_t *der, size_t len, ev_errbuf *e);
void ev_sign__ts_clear(ev_sign__ts *t);
/* Does the imprint equal the digest of data (with the token's algorithm)? */
bool ev_sign__ts_imprint_matches(const ev_sign__ts *t, const uint8_t *data, size_t len);
/* Nonce of the token equals the nonce of the query? (true when the query
 * has none). EV_EFORMAT when the query cannot be parsed. */
int ev_sign__ts_nonce_matches(const ev_sign__ts *t, const uint8_t *tsq, size_t tsq_len,
                              bool *match, ev_errbuf *e);
/* The token's own signature (no trust): EV_OK or EV_EFORMAT with a message. */
int ev_sign__ts_check_signature(const ev_sign__ts *t, ev_errbuf *e);
/* Check a reply for data before storing it: granted, imprint, signature,
 * nonce (when tsq is given). EV_ERROR when the TSA refused, EV_EFORMAT for
 * anything else, with a message. */
int ev_sign__ts_check_reply(const ev_sign__ts *t, const uint8_t *data, size_t len,
                            const uint8_t *tsq, size_t tsq_len, ev_errbuf *e);
/* Full trust check of a token against TSA roots at the token's time:
 * signature, ESS signing certificate, chain, critical timeStamping EKU.
 * code/msg describe the first failure. */
int ev_sign__ts_verify(ev_sign__chain *res, const ev_sign__ts *t, STACK_OF(X509) *roots);

/* ---- verification of a signature set (sign_verify.c) ----------------------- */

typedef struct ev_sign__file {
    const char *path;             /* "signatures/..." */
    const uint8_t *data;
    size_t len;
    const char *unreadable;       /* why the entry could not be read (then
                                     data is NULL and len 0), or NULL */
} ev_sign__file;

typedef struct ev_sign__anchors {
    STACK_OF(X509) *ca;           /* may be NULL/empty: unverified */
    STACK_OF(X509) *tsa_ca;       /* NULL/empty: use ca */
    STACK_OF(X509_CRL) *crls;     /* may be NULL */
    int64_t now;
    /* SHA-256 of the record's disclosure commitment (ev_sign__record_commitment),
     * or NULL when the record has no disclosure root: a signature carrying the
     * commitment attribute must then commit to exactly this. */
    const uint8_t *commit;
} ev_sign__anchors;

/* Check every file under signatures/ against the custody bytes (custody may
 * be NULL when the bundle has none). Builds the public report. */
int ev_sign__verify_set(ev_sig_report **out, const uint8_t *custody, size_t custody_len,
                        const ev_sign__file *files, size_t nfiles, const ev_sign__anchors *a,
                        ev_errbuf *e);

/* Custody log helpers. Number of complete lines ("\n"-terminated); *partial
 * is set when bytes follow the last "\n". */
size_t ev_sign__count_lines(const uint8_t *buf, size_t len, bool *partial);
/* Check lines 1..upto of a custody log: each a JSON object whose "seq" is
 * its line number and whose "prev_sha256" is the SHA-256 (hex) of the line
 * before (without its "\n"; null on line 1). On the first failure, writes a
 * sentence naming the line into out and returns true. */
bool ev_sign__custody_damage(char *out, size_t outlen, const uint8_t *buf, size_t len,
                             uint64_t upto);
/* Length of the first n lines (including their "\n"); 0 when there are
 * fewer than n complete lines. */
size_t ev_sign__prefix_len(const uint8_t *buf, size_t len, uint64_t n);

/* ---- disclosure (sign_disclose.c) -------------------------------------------------- */

/* The commitment document (docs/disclosure.md): the RFC 8785 text of
 * {"bundle_id","created","format","format_version","hash","items","root"}.
 * NULL when a string is not printable ASCII without '"' and '\\', or the
 * root is not 64 lower-case hex digits. Caller frees. */
char *ev_sign__commitment(const char *bundle_id, const char *created, uint64_t n,
                          const char *root_hex);

/* SHA-256 of the commitment of a record (evidence.json bytes) that has a
 * "disclosure" member. EV_OK, EV_ENOTFOUND (no disclosure member: packed
 * before it existed, or a part), EV_EFORMAT. */
int ev_sign__record_commitment(uint8_t out[32], const uint8_t *rec, size_t len);

/* One of the original's signatures as a part carries it. */
typedef struct ev_sign__commit_sig {
    const char *path;             /* the .p7s in the part */
    const uint8_t *p7s;
    size_t p7s_len;
    const char *token_path;       /* or NULL */
    const uint8_t *tsr;
    size_t tsr_len;
} ev_sign__commit_sig;

/* Check one signature of the original against the SHA-256 of the
 * commitment: the attribute, the signature value over the attributes, the
 * token over the .p7s, and with anchors the TSA's and the signer's chains.
 * Appends one object to arr: path, token, signer, signing_time, tsa,
 * tsa_time, tsa_verified, verdict (valid | invalid | unverified), problems.
 * Returns the verdict's name or NULL on ENOMEM. */
const char *ev_sign__check_commit_sig(json_t *arr, const ev_sign__commit_sig *s,
                                      const uint8_t commit[32], const ev_sign__anchors *a);

/* The trust anchors of a handle. */
void ev_sign__trust_anchors(ev_sign__anchors *out, const ev_trust *t);

#endif
