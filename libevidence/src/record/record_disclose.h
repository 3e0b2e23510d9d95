/*
 * record (disclose): the salted Merkle tree over a record's items that lets
 * a part of a bundle prove its items against the original's signatures
 * (docs/disclosure.md): the canonical form of an item entry (RFC 8785 JCS),
 * leaf hashes, the RFC 9162 tree head, inclusion proofs and their checks,
 * and the parser of a part's "disclosed_from" object.
 *
 * Thread-safety: no shared state.
 */
#ifndef EV_RECORD_DISCLOSE_H
#define EV_RECORD_DISCLOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/internal.h"

#define EV_DISCLOSE_SALT_LEN 32u
/* Proof paths longer than this cannot belong to a tree of <= 2^63 leaves. */
#define EV_DISCLOSE_MAX_PATH 64u
/* A part may claim an original of at most this many items. */
#define EV_DISCLOSE_MAX_ITEMS ((uint64_t)1 << 32)

/* RFC 8785 (JCS) text of v appended to b. EV_OK or EV_ENOMEM, EV_EINVAL for
 * a value JSON cannot carry (NaN, infinity). */
int ev_record__jcs(ev_buf *b, const json_t *v);

/* A new random salt (OpenSSL RAND_bytes). EV_OK or EV_ERROR. */
int ev_record__salt(uint8_t salt[EV_DISCLOSE_SALT_LEN]);

/* Leaf hash of an item: SHA-256(0x00 || salt || BE64(len(entry)) || entry
 * || payload_sha256 || meta_sha256[0] || ...) where entry is the JCS of the
 * item object without its "salt" member. EV_OK, EV_ENOMEM or EV_EINVAL. */
int ev_record__leaf(uint8_t out[32], const json_t *item, const uint8_t salt[EV_DISCLOSE_SALT_LEN],
                    const uint8_t payload_sha256[32], const uint8_t (*meta_sha256)[32],
                    size_t nmeta);

/* Interior node: SHA-256(0x01 || left || right). */
void ev_record__node(uint8_t out[32], const uint8_t left[32], const uint8_t right[32]);

/* RFC 9162 Merkle tree hash of n leaf hashes (n >= 1). */
void ev_record__tree_root(uint8_t out[32], const uint8_t (*leaves)[32], size_t n);

/* The inclusion proof (audit path, RFC 9162 2.1.3.1) of leaf m of n: at
 * most EV_DISCLOSE_MAX_PATH hashes into path, their number in *len. */
void ev_record__tree_path(uint8_t (*path)[32], size_t *len, const uint8_t (*leaves)[32], size_t n,
                          size_t m);

/* The same for k leaves at once (idx[0..k-1] < n), in O(n + k log n)
 * hashes: the tree is built bottom up once (pairs left to right, an odd
 * last node carried up, which is the RFC 9162 tree). paths[j] and lens[j]
 * receive leaf idx[j]'s path, root the tree's root. EV_OK or EV_ENOMEM. */
int ev_record__tree_paths(uint8_t root[32], uint8_t (*paths)[EV_DISCLOSE_MAX_PATH][32],
                          size_t *lens, const uint8_t (*leaves)[32], size_t n, const size_t *idx,
                          size_t k);

/* Check an inclusion proof (RFC 9162 2.1.3.2): true when leaf at index of a
 * tree of size n, with path, gives root, and the path has exactly the
 * length the position requires. */
bool ev_record__proof_ok(const uint8_t leaf[32], uint64_t index, uint64_t n,
                         const uint8_t (*path)[32], size_t len, const uint8_t root[32]);

/* Parse lower-case hex of exactly 2*n digits into n bytes. */
bool ev_record__unhex(uint8_t *out, const char *hex, size_t n);

/* A part's "disclosed_from" object, parsed and checked for form only. */
typedef struct ev_disclose_proof {
    char *item;                     /* item id */
    uint64_t index;
    size_t len;
    uint8_t path[EV_DISCLOSE_MAX_PATH][32];
} ev_disclose_proof;

typedef struct ev_disclose_sig {
    char *signature;                /* "disclosure/NNNN-<who>.p7s" */
    char *token;                    /* ".tsr" beside it, or NULL */
} ev_disclose_sig;

typedef struct ev_disclose_from {
    char *bundle_id, *created;
    uint64_t items;                 /* n: leaves of the original's tree */
    uint8_t root[32];
    char root_hex[65];
    ev_disclose_proof *proofs;
    size_t nproofs;
    ev_disclose_sig *sigs;
    size_t nsigs;
} ev_disclose_from;

/* Parse o (the "disclosed_from" member of a part's record). On failure
 * returns EV_EFORMAT with a sentence in err (err may be NULL); *out is then
 * empty. */
int ev_record__disclosed_from_parse(ev_disclose_from *out, const json_t *o, ev_errbuf *err);
void ev_record__disclosed_from_clear(ev_disclose_from *d);

#endif
