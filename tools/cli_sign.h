/*
 * Signature checks for 'evidence verify' (--ca, --tsa-ca, --crl), and the
 * helpers shared by 'evidence sign' and 'evidence timestamp'.
 */
#ifndef EVIDENCE_CLI_SIGN_H
#define EVIDENCE_CLI_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <evidence.h>

typedef struct cli_trust_args {
    const char *ca;     /* --ca ROOTS.pem, or NULL */
    const char *tsa_ca; /* --tsa-ca TSA_ROOTS.pem, or NULL */
    const char *crl;    /* --crl FILE, or NULL */
} cli_trust_args;

/*
 * Check every signature and timestamp token in an open bundle, and make the
 * verification report r cover them (ev_report_add_signatures: its verdict
 * and its JSON "signatures" section). Human lines go to stdout unless json
 * is set; errors to stderr. When the signatures cannot be checked (a trust
 * file is unusable, or the check cannot run), r is left as it was.
 * Returns an exit code: 0 every signature verified, or none present;
 * CLI_SIGN_UNVERIFIED (0) when signatures are present and their integrity
 * checks pass but no --ca was given; 1 a signature or token failed a check
 * (also a damaged signature file inside the bundle); 3 a --ca/--tsa-ca/--crl
 * file is missing or unreadable; 4 internal error.
 */
#define CLI_SIGN_UNVERIFIED 0
int cli_verify_signatures(ev_report *r, ev_bundle *b, const cli_trust_args *args, bool json);

/* ---- shared by cmd_sign.c and cmd_timestamp.c ---------------------------------- */

/* Where an encrypted key's passphrase comes from: the first line of a file
 * (--passphrase-file), else a prompt on the terminal, never the command line. */
typedef struct cli_passphrase {
    const char *file;   /* --passphrase-file, or NULL */
    bool failed;        /* the file could not be read (message printed) */
    bool no_terminal;   /* asked, but there was no terminal to prompt on */
} cli_passphrase;

/* ev_passphrase_cb for the above (payload: cli_passphrase *). */
int cli_passphrase_cb(char *buf, size_t size, const char *what, void *payload);

/* Read a whole (small) file; prints the error. Returns 0 or an exit code. */
int cli_read_small_file(uint8_t **out, size_t *len, const char *path, size_t max,
                        const char *what);

/* Write a file via a temporary name and rename; prints the error.
 * Returns 0 or an exit code. */
int cli_write_file_atomic(const char *path, const uint8_t *data, size_t len);

/* Parse --tsa-timeout: whole seconds, 1..3600. Returns 0, or prints a usage
 * error and returns CLI_EXIT_USAGE. */
int cli_sign_parse_timeout(const char *cmd, const char *arg, unsigned int *out);

#endif
