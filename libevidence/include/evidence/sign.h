/**
 * @file evidence/sign.h
 * @brief Signed, timestamped custody logs: CMS signatures (SHA-256) and
 *        RFC 3161 timestamp tokens, and their verification.
 * @defgroup ev_sign Signatures and timestamps
 * @{
 *
 * A signature covers the bytes of custody.jsonl up to and including event N
 * (the first N lines, each with its trailing "\n"). It is stored as
 * `signatures/NNNN-<who>.p7s`: a detached CMS SignedData (DER) made with
 * SHA-256, carrying the signer's certificate and the chain given at signing
 * time. `<who>` is a slug of the signer certificate's common name. An optional
 * RFC 3161 TimeStampResp over the bytes of that .p7s file is stored next to
 * it as `signatures/NNNN-<who>.tsr`. Because each signature covers a prefix
 * of the append-only log, appending custody events never invalidates an
 * earlier signature. Both files can be checked with the stock openssl command
 * line; see docs/auditing.md. The full rules are in docs/signing.md.
 *
 * Signing appends one custody event, action "signed", in the same atomic
 * rewrite that adds the signature: the signature covers events 1..N, the
 * "signed" event is N+1 and names the signature file. A later signature
 * covers it.
 *
 * Thread-safety: a handle (ev_signer, ev_trust, ev_sig_report) is used by one
 * thread at a time; different handles may be used in parallel.
 */
#ifndef EVIDENCE_SIGN_H
#define EVIDENCE_SIGN_H

#include "common.h"
#include "bundle.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Signing and timestamping                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Asked for the passphrase of an encrypted private key. Called only when the
 * key is encrypted, at most once per ev_signer_load().
 * @param buf      Receives the passphrase bytes (no NUL needed).
 * @param size     Capacity of buf.
 * @param what     The key file's path, for a prompt; borrowed.
 * @param payload  The passphrase_payload of the options.
 * @return The passphrase length (0..size), or -1 when none is available.
 */
typedef int (*ev_passphrase_cb)(char *buf, size_t size, const char *what, void *payload);

typedef struct ev_signer ev_signer;

typedef struct ev_signer_options {
    unsigned int version;        /**< EV_SIGNER_OPTIONS_VERSION */
    uint32_t flags;              /**< reserved, 0 */
    const char *tsa_url;         /**< http:// URL of an RFC 3161 TSA, or NULL */
    unsigned int tsa_timeout;    /**< seconds for one whole TSA exchange; 0 = 10 */
    const char *tsa_policy;      /**< TSA policy OID to ask for (dotted), or NULL */
    const char *tsa_proxy;       /**< "host:port" HTTP proxy; NULL = OpenSSL's
                                      default (the http_proxy/no_proxy environment) */
    const char *actor;           /**< actor of the "signed" event; NULL = the
                                      certificate's common name */
    const char *organisation;    /**< its organisation; NULL = the certificate's O */
    ev_passphrase_cb passphrase_cb; /**< for encrypted keys; may be NULL */
    void *passphrase_payload;
} ev_signer_options;

#define EV_SIGNER_OPTIONS_VERSION 1
#define EV_SIGNER_OPTIONS_INIT EV_OPTIONS_INIT_(ev_signer_options, EV_SIGNER_OPTIONS_VERSION)

/**
 * Initialise options to their defaults.
 * @param opts     Options to fill; must not be NULL.
 * @param version  EV_SIGNER_OPTIONS_VERSION.
 * @return EV_OK, EV_EINVAL or EV_EVERSION.
 */
EV_EXTERN int ev_signer_options_init(ev_signer_options *opts, unsigned int version);

/**
 * Create a signer. CONSTRUCTOR. Only allocates and checks the options.
 * @param out   Receives the signer; NULL on failure (nothing to free).
 * @param opts  Options, or NULL for defaults; strings are copied.
 * @return EV_OK, EV_ENOMEM, EV_EINVAL or EV_EVERSION.
 */
EV_EXTERN int ev_signer_new(ev_signer **out, const ev_signer_options *opts);

/** Free a signer. DESTRUCTOR. Does nothing when s is NULL. */
EV_EXTERN void ev_signer_free(ev_signer *s);

/**
 * Message of the last failed call on this signer (what, where, what to do).
 * @return Text owned by the signer, valid until the next call on it.
 */
EV_EXTERN const char *ev_signer_last_error(const ev_signer *s);

/**
 * Load the signing key and certificate. The key is a PEM RSA (2048 bits or
 * more) or EC P-256/P-384 private key, encrypted or not (the passphrase
 * callback is asked when it is encrypted). The certificate must match the
 * key, be valid now, and allow digitalSignature or nonRepudiation when it has
 * a keyUsage extension.
 * @param s           Signer; must not be NULL.
 * @param key_path    PEM private key file.
 * @param cert_path   PEM certificate file (the first certificate is used).
 * @param chain_path  PEM file of intermediate certificates to embed, or NULL.
 * @return EV_OK; EV_ENOTFOUND or EV_EIO (a file cannot be read); EV_EFORMAT
 *         (not PEM, or the key cannot be decrypted: wrong or missing
 *         passphrase); EV_EUNSUPPORTED (key type); EV_EINVAL (key and
 *         certificate do not match, or the certificate is expired, not yet
 *         valid or not for signing). The message is in ev_signer_last_error().
 */
EV_EXTERN int ev_signer_load(ev_signer *s, const char *key_path, const char *cert_path,
                             const char *chain_path);

/** Flags of ev_signer_sign(). */
#define EV_SIGN_TSA_QUERY 0x1u /**< do not contact a TSA: prepare a query for
                                    ev_signer_tsa_query() (offline flow) */

/**
 * Sign a bundle's custody log up to its newest event N, and add the signature
 * (and, with a tsa_url, its timestamp token) with one atomic
 * ev_bundle_amend() that also appends the "signed" custody event N+1.
 * Anything that fails (TSA unreachable, rejected or answering garbage) fails
 * the call before the bundle is touched: the bundle stays unchanged.
 * @param s      Signer after ev_signer_load().
 * @param b      Open bundle; on success it is reopened on the new bundle.
 * @param flags  EV_SIGN_*.
 * @return EV_OK; EV_ENOTFOUND (no custody.jsonl); EV_EFORMAT (custody.jsonl
 *         damaged, or a bad TSA answer); EV_EIO (TSA unreachable or timed
 *         out, or the bundle cannot be rewritten); EV_EEXISTS (that signature
 *         file exists already); EV_ERROR (the TSA refused); or another
 *         negative ev_status. The message is in ev_signer_last_error().
 */
EV_EXTERN int ev_signer_sign(ev_signer *s, ev_bundle *b, uint32_t flags);

/**
 * Sign any bytes, such as a report written beside a bundle
 * (ev_bundle_report_html()), with the loaded key: a detached CMS SignedData
 * (DER), SHA-256, made exactly as a bundle's signatures are (signingTime,
 * ESS signingCertificateV2, the signer certificate and the chain given to
 * ev_signer_load()). `openssl cms -verify -binary -inform DER -content
 * FILE -in FILE.p7s` checks it. No bundle is touched and no custody event
 * is written; ev_signer_info() is not changed.
 *
 * Thread-safety: s is used by one thread at a time.
 * @param out      Receives the DER signature; free with ev_free(). NULL on
 *                 failure.
 * @param out_len  Receives its length.
 * @param s        Signer after ev_signer_load().
 * @param data     The bytes to sign (may be NULL when len is 0).
 * @param len      Their number (at most 2 GiB).
 * @return EV_OK; EV_EINVAL (a NULL argument, no key loaded, too much data);
 *         EV_ENOMEM; EV_ERROR (OpenSSL refused; the message is in
 *         ev_signer_last_error()).
 */
EV_EXTERN int ev_signer_sign_data(uint8_t **out, size_t *out_len, ev_signer *s,
                                  const uint8_t *data, size_t len);

/** What the last successful ev_signer_sign() or timestamp call did. */
typedef struct ev_sign_info {
    unsigned int version;       /**< EV_SIGN_INFO_VERSION */
    const char *signature_path; /**< "signatures/0003-jane-smith.p7s" */
    const char *token_path;     /**< its ".tsr" when one was added, else NULL */
    uint64_t events;            /**< N: custody events covered */
    const char *signer;         /**< signer certificate subject (RFC 2253) */
    const char *tsa_time;       /**< token time, RFC 3339 UTC, or NULL */
} ev_sign_info;
#define EV_SIGN_INFO_VERSION 1

/**
 * Result of the last successful signing or timestamping call.
 * @return Borrowed from s, valid until the next call on s; NULL before any.
 */
EV_EXTERN const ev_sign_info *ev_signer_info(const ev_signer *s);

/**
 * After ev_signer_sign() with EV_SIGN_TSA_QUERY: the DER TimeStampReq
 * (application/timestamp-query) to take to a TSA.
 * @param data  Receives a pointer borrowed from s (valid until the next call).
 * @param len   Receives its length.
 * @return EV_OK, or EV_ENOTFOUND when there is no query.
 */
EV_EXTERN int ev_signer_tsa_query(const ev_signer *s, const uint8_t **data, size_t *len);

/**
 * Make a timestamp query (SHA-256 imprint of the .p7s, a random nonce, and a
 * request for the TSA certificate) for a signature already in the bundle.
 * @param out       Receives the DER query; free with ev_free().
 * @param out_len   Receives its length.
 * @param sig_path  "signatures/NNNN-who.p7s", or NULL for the newest
 *                  signature that has no token yet.
 * @return EV_OK, EV_ENOTFOUND (no such signature, or none without a token),
 *         or another negative ev_status.
 */
EV_EXTERN int ev_signer_timestamp_query(uint8_t **out, size_t *out_len, ev_signer *s,
                                        ev_bundle *b, const char *sig_path);

/**
 * Add a TSA's reply (DER TimeStampResp, from a .tsr file) to the signature
 * it was made for, found by its message imprint, with one atomic
 * ev_bundle_amend() (no custody event). The reply is checked first: status
 * granted, imprint equal to the digest of a signature without a token, the
 * token's own signature, and, when the query is given, the same nonce.
 * @param tsr, tsr_len  The reply.
 * @param tsq, tsq_len  The query it answers, or NULL/0 to skip the nonce check.
 * @return EV_OK; EV_EFORMAT (malformed, truncated, or not a reply);
 *         EV_ENOTFOUND (no signature has that imprint); EV_ERROR (the TSA
 *         refused: its status text is in the message); EV_EEXISTS (the
 *         signature already has a token); or another negative ev_status.
 */
EV_EXTERN int ev_signer_timestamp_add(ev_signer *s, ev_bundle *b, const uint8_t *tsr,
                                      size_t tsr_len, const uint8_t *tsq, size_t tsq_len);

/**
 * Ask the TSA of the options (tsa_url) for a token over a signature already
 * in the bundle, check the reply as ev_signer_timestamp_add() does, and add
 * it. Useful when the TSA was unreachable at signing time.
 * @param sig_path  As for ev_signer_timestamp_query().
 * @return As ev_signer_timestamp_add(), plus EV_EIO (TSA unreachable or timed
 *         out) and EV_EINVAL (no tsa_url in the options).
 */
EV_EXTERN int ev_signer_timestamp(ev_signer *s, ev_bundle *b, const char *sig_path);

/* ------------------------------------------------------------------------ */
/* Verification                                                              */
/* ------------------------------------------------------------------------ */

typedef struct ev_trust ev_trust;

typedef struct ev_trust_options {
    unsigned int version; /**< EV_TRUST_OPTIONS_VERSION */
    uint32_t flags;       /**< reserved, 0 */
} ev_trust_options;
#define EV_TRUST_OPTIONS_VERSION 1
#define EV_TRUST_OPTIONS_INIT EV_OPTIONS_INIT_(ev_trust_options, EV_TRUST_OPTIONS_VERSION)

/**
 * Initialise options to their defaults.
 * @param opts     Options to fill; must not be NULL.
 * @param version  EV_TRUST_OPTIONS_VERSION.
 * @return EV_OK, EV_EINVAL or EV_EVERSION.
 */
EV_EXTERN int ev_trust_options_init(ev_trust_options *opts, unsigned int version);

/**
 * Create an empty set of trust anchors. CONSTRUCTOR. With no CA added,
 * ev_sign_verify() still checks integrity (each signature against the log,
 * each token against its signature) but reports signatures as unverified.
 * @param out   Receives the handle; NULL on failure.
 * @param opts  Options or NULL.
 * @return EV_OK, EV_ENOMEM, EV_EINVAL or EV_EVERSION.
 */
EV_EXTERN int ev_trust_new(ev_trust **out, const ev_trust_options *opts);

/** Free trust anchors. DESTRUCTOR. Does nothing when t is NULL. */
EV_EXTERN void ev_trust_free(ev_trust *t);

/** Message of the last failed call on t; owned by t. */
EV_EXTERN const char *ev_trust_last_error(const ev_trust *t);

/**
 * Add the root certificates that signers must chain to (PEM, one or more).
 * Intermediates come from the signature itself.
 * @return EV_OK, EV_ENOTFOUND, EV_EIO, EV_EFORMAT (no certificate in the file).
 */
EV_EXTERN int ev_trust_add_ca(ev_trust *t, const char *pem_path);

/**
 * Add the root certificates that TSAs must chain to (PEM). When none is
 * added, TSAs must chain to the roots of ev_trust_add_ca().
 * @return As ev_trust_add_ca().
 */
EV_EXTERN int ev_trust_add_tsa_ca(ev_trust *t, const char *pem_path);

/**
 * Add certificate revocation lists (PEM, one or more, or one DER CRL). Once a
 * CRL is added, every signer certificate must be covered by a CRL of its
 * issuer. A signer revoked before the signing time is invalid; one revoked
 * after a timestamp-proven signing time stays valid (with a note).
 * @return As ev_trust_add_ca().
 */
EV_EXTERN int ev_trust_add_crl(ev_trust *t, const char *path);

/** Verdict on one signature. */
typedef enum ev_sig_verdict {
    EV_SIG_VALID = 0,      /**< matches the log; chain, time and token check */
    EV_SIG_INVALID = 1,    /**< at least one check failed */
    EV_SIG_UNVERIFIED = 2, /**< integrity checks pass; no CA given to check trust */
    EV_SIG_UNREADABLE = 3  /**< could not be read or parsed */
} ev_sig_verdict;

/** One finding about a signature. Borrowed from the report. */
typedef struct ev_sig_problem {
    unsigned int version;  /**< EV_SIG_PROBLEM_VERSION */
    ev_severity severity;  /**< EV_SEVERITY_ERROR makes the signature invalid */
    const char *code;      /**< stable identifier, see docs/signing.md */
    const char *message;   /**< what, where, what to do */
} ev_sig_problem;
#define EV_SIG_PROBLEM_VERSION 1

/** The checks of one signature file (or of a stray token). Borrowed. */
typedef struct ev_sig_result {
    unsigned int version;       /**< EV_SIG_RESULT_VERSION */
    const char *path;           /**< "signatures/0003-jane-smith.p7s" */
    const char *token_path;     /**< the matching ".tsr", or NULL */
    uint64_t events;            /**< N from the file name (0 if unparsable) */
    const char *signer;         /**< subject of the signing certificate, or NULL */
    const char *signing_time;   /**< claimed signingTime, RFC 3339 UTC, or NULL */
    const char *tsa_time;       /**< token genTime, RFC 3339 UTC, or NULL */
    const char *tsa;            /**< subject of the TSA certificate, or NULL */
    bool tsa_verified;          /**< the token chains to a trusted TSA root */
    ev_sig_verdict verdict;
    size_t problem_count;
    const ev_sig_problem *problems; /**< problem_count entries */
} ev_sig_result;
#define EV_SIG_RESULT_VERSION 1

typedef struct ev_sig_report ev_sig_report;

/**
 * Check every signature and timestamp token of a bundle: each signature
 * against the first N lines of the current custody.jsonl (a deleted,
 * reordered or altered event is named), the signer's chain to the roots of
 * t at the signing time (the token time when the token verifies, else now),
 * the claimed signing time against the certificate's validity, revocation
 * when CRLs were added, the token's imprint, signature, TSA chain and the
 * TSA's critical timeStamping extended key usage. A failed check is data,
 * not an error: the call returns EV_OK and the verdicts are in the report.
 * @param out  Receives the report; free with ev_sig_report_free(). NULL on failure.
 * @param t    Trust anchors (possibly empty); must not be NULL. Failures
 *             leave their message in ev_trust_last_error(t).
 * @param b    Open bundle.
 * @return EV_OK when the checks ran; EV_EUNSAFE (more than 10,000 files or
 *         256 MiB under signatures/), EV_EIO, EV_ENOMEM, or EV_EINVAL (b is
 *         not open) otherwise.
 */
EV_EXTERN int ev_sign_verify(ev_sig_report **out, ev_trust *t, ev_bundle *b);

/** Worst verdict (UNREADABLE > INVALID > UNVERIFIED > VALID); VALID when empty. */
EV_EXTERN ev_sig_verdict ev_sig_report_verdict(const ev_sig_report *r);

/** Number of results (signature files, plus stray tokens). */
EV_EXTERN size_t ev_sig_report_count(const ev_sig_report *r);

/** Result i (0-based, in file name order), or NULL when out of range. Borrowed. */
EV_EXTERN const ev_sig_result *ev_sig_report_result(const ev_sig_report *r, size_t i);

/** True when trust anchors were given (else verdicts are at best UNVERIFIED). */
EV_EXTERN bool ev_sig_report_trusted(const ev_sig_report *r);

/** Free a report. DESTRUCTOR. Does nothing when r is NULL. */
EV_EXTERN void ev_sig_report_free(ev_sig_report *r);

/**
 * Stable text of a verdict: "valid", "invalid", "unverified", "unreadable".
 * @return Static text, never NULL.
 */
EV_EXTERN const char *ev_sig_verdict_name(ev_sig_verdict v);

/* ------------------------------------------------------------------------ */
/* Verification reports that cover signatures                                */
/* ------------------------------------------------------------------------ */

/**
 * Make a verification report cover the signature checks of the same bundle.
 * Afterwards:
 * - ev_report_verdict(r) is EV_VERDICT_INVALID when it was EV_VERDICT_VALID
 *   and ev_sig_report_verdict(s) is EV_SIG_INVALID or EV_SIG_UNREADABLE (a
 *   damaged signature inside the bundle fails it). An EV_SIG_UNVERIFIED
 *   signature (no trust anchors given) passed every check that could be
 *   made and does not fail it. An unreadable report stays unreadable.
 * - ev_report_json(r) carries a "signatures" object after the other
 *   sections: {"present": number of .p7s files, "verified": trust anchors
 *   were given, "verdict": ev_sig_verdict_name() of the worst, "signatures":
 *   one object per result (path, token, events, signer, signing_time,
 *   tsa_time, tsa, tsa_verified, verdict, status "ok"|"mismatch"|"error",
 *   problems)}; see docs/schema/evidence.verify.schema.json.
 * The problems and file results of r do not change. What is needed of s is
 * copied: s may be freed as soon as the call returns. A second call
 * replaces what the first added.
 *
 * Thread-safety: r and s each used by one thread at a time.
 * @param r  Report of ev_bundle_verify() on the bundle s was made from.
 * @param s  Report of ev_sign_verify().
 * @return EV_OK; EV_EINVAL (r or s NULL); EV_ENOMEM (r unchanged).
 */
EV_EXTERN int ev_report_add_signatures(ev_report *r, const ev_sig_report *s);

/**
 * Verify a bundle and its signatures in one call: ev_bundle_verify(), then
 * ev_sign_verify() with t, then ev_report_add_signatures(). A failed check
 * is data, not an error: the call returns EV_OK and the verdict (which
 * covers both) is in the report. When either check cannot run, the call
 * fails and there is no report; to keep the bag's report in that case, make
 * the three calls yourself (as `evidence verify` does).
 *
 * Thread-safety: b and t each used by one thread at a time.
 * @param out   Receives the report; free with ev_report_free(). NULL on failure.
 * @param b     Open bundle.
 * @param t     Trust anchors (possibly none added); must not be NULL.
 * @param opts  As for ev_bundle_verify(); NULL for defaults.
 * @return EV_OK when both checks ran; EV_EINVAL (a NULL argument); a status
 *         of ev_bundle_verify() (message in ev_bundle_last_error(b)) or of
 *         ev_sign_verify() (message in ev_trust_last_error(t)); EV_ENOMEM.
 */
EV_EXTERN int ev_bundle_verify_signed(ev_report **out, ev_bundle *b, ev_trust *t,
                                      const ev_verify_options *opts);

/**
 * Check a part of a bundle (made by ev_bundle_disclose()) against the
 * original's signatures: each disclosed item's leaf (its record entry,
 * salt, payload hash and the tag files it names) and inclusion proof lead
 * to the root in "disclosed_from", and each of the original's signatures
 * carried in the part commits to that root, with its token and, with trust
 * anchors, the signer's and the TSA's chains (docs/disclosure.md). The
 * part's own bag checks are ev_bundle_verify()'s.
 *
 * The result is a JSON document: "disclosed" (k), "items" (n), "withheld",
 * "bundle_id" and "created" of the original, "root", "verdict" ("proven":
 * every proof holds and a signature is valid; "unverified": the same
 * without trust anchors; "unproven": the proofs hold but no signature
 * carries them; "invalid": a proof or a signature fails), "proof_hashes"
 * (SHA-256 computations of the proofs), "signed_by" and "signed_at" of the
 * first valid signature, "signatures" and "problems".
 * @param out  Receives the text; free with ev_free().
 * @param t    Trust anchors (possibly none).
 * @param b    Open bundle.
 * A disclosed_from that cannot be parsed gives verdict "invalid" with a
 * "disclosure-malformed" problem.
 * @param t    Trust anchors (possibly none); may be NULL (none).
 * @return EV_OK; EV_ENOTFOUND (not a part: its record has no
 *         disclosed_from; message in ev_bundle_last_error(b));
 *         EV_EINVAL; EV_ENOMEM.
 */
EV_EXTERN int ev_disclosure_verify(char **out, ev_trust *t, ev_bundle *b);

/**
 * Make a verification report cover a part's proofs: the document of
 * ev_disclosure_verify() becomes its "disclosure" section, and a verdict of
 * "invalid" or "unproven" makes the report's verdict invalid.
 * ev_bundle_verify_signed() does this for parts.
 * @return EV_OK, EV_EINVAL (not such a document) or EV_ENOMEM.
 */
EV_EXTERN int ev_report_add_disclosure(ev_report *r, const char *disclosure_json);

#ifdef __cplusplus
}
#endif
/** @} */
#endif
