/*
 * hash: streaming multi-algorithm digests (OpenSSL EVP), hex, and
 * constant-time comparison.
 */
#ifndef EV_HASH_H
#define EV_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evidence/bundle.h"

/* Algorithm slots, in the fixed order used everywhere (manifest order). */
enum { EV_HASH_SHA256 = 0, EV_HASH_SHA512 = 1, EV_HASH_SHA1 = 2, EV_HASH_MD5 = 3, EV_HASH_COUNT = 4 };

#define EV_HASH_HEX_MAX 129 /* 128 hex digits of SHA-512 + NUL */

typedef struct ev_hasher ev_hasher;

/* Digests of the algorithms in `algs` (EV_ALG_* bits); empty strings for the rest. */
typedef struct ev_digests {
    uint32_t algs;
    char hex[EV_HASH_COUNT][EV_HASH_HEX_MAX];
} ev_digests;

int ev_hash__new(ev_hasher **out, uint32_t algs);
int ev_hash__reset(ev_hasher *h);
int ev_hash__update(ev_hasher *h, const void *data, size_t len);
int ev_hash__final(ev_hasher *h, ev_digests *out);
void ev_hash__free(ev_hasher *h);

/* "sha256" etc. for a slot, or NULL. */
const char *ev_hash__slot_name(int slot);
/* EV_ALG_* bit of a slot. */
uint32_t ev_hash__slot_alg(int slot);
/* Slot of a normalized algorithm name ("sha256"), or -1 when unsupported. */
int ev_hash__slot_from_name(const char *name);
/* Hex length of a slot's digest. */
size_t ev_hash__hex_len(int slot);

/* One-shot SHA-256 of a buffer into lower-case hex (65 bytes). */
int ev_hash__sha256_hex(char out[65], const void *data, size_t len);

/* Constant-time, case-insensitive comparison of two hex digests. */
bool ev_hash__hex_equal(const char *a, const char *b);

/* Lower-case hex of raw bytes; out must hold 2*len+1. */
void ev_hash__to_hex(char *out, const uint8_t *raw, size_t len);

#endif
