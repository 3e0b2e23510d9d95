/*
 * Signature checks for 'evidence verify' (--ca, --tsa-ca, --crl).
 */
#ifndef EVIDENCE_CLI_SIGN_H
#define EVIDENCE_CLI_SIGN_H

#include <stdbool.h>

#include <jansson.h>

#include <evidence.h>

typedef struct cli_trust_args {
    const char *ca;     /* --ca ROOTS.pem, or NULL */
    const char *tsa_ca; /* --tsa-ca TSA_ROOTS.pem, or NULL */
    const char *crl;    /* --crl FILE, or NULL */
} cli_trust_args;

/*
 * Check every signature and timestamp token in an open bundle.
 * out_json receives {"present": n, "verified": bool, "signatures": [...]}
 * (caller decrefs); human lines go to stdout unless json is set.
 * Returns an exit code: 0 all signatures verified (or none present and no
 * --ca), 1 a signature failed, 3 unreadable input, 4 internal error, or
 * CLI_SIGN_UNVERIFIED when signatures are present but no --ca was given.
 */
#define CLI_SIGN_UNVERIFIED 0
int cli_verify_signatures(json_t **out_json, ev_bundle *b, const cli_trust_args *args, bool json);

#endif
