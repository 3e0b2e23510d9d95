/* hash: streaming multi-algorithm digests with OpenSSL EVP. */
#include "base/hash.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/internal.h"

struct ev_hasher {
    uint32_t algs;
    EVP_MD *md[EV_HASH_COUNT];
    EVP_MD_CTX *ctx[EV_HASH_COUNT];
};

static const char *const slot_names[EV_HASH_COUNT] = { "sha256", "sha512", "sha1", "md5" };
static const char *const slot_evp[EV_HASH_COUNT] = { "SHA256", "SHA512", "SHA1", "MD5" };
static const size_t slot_hex[EV_HASH_COUNT] = { 64, 128, 40, 32 };

const char *ev_hash__slot_name(int slot)
{
    return slot >= 0 && slot < EV_HASH_COUNT ? slot_names[slot] : NULL;
}

uint32_t ev_hash__slot_alg(int slot)
{
    return slot >= 0 && slot < EV_HASH_COUNT ? (1u << slot) : 0;
}

int ev_hash__slot_from_name(const char *name)
{
    for (int i = 0; i < EV_HASH_COUNT; i++)
        if (strcmp(name, slot_names[i]) == 0)
            return i;
    return -1;
}

size_t ev_hash__hex_len(int slot)
{
    return slot >= 0 && slot < EV_HASH_COUNT ? slot_hex[slot] : 0;
}

void ev_hash__free(ev_hasher *h)
{
    if (!h)
        return;
    for (int i = 0; i < EV_HASH_COUNT; i++) {
        EVP_MD_CTX_free(h->ctx[i]);
        EVP_MD_free(h->md[i]);
    }
    free(h);
}

int ev_hash__reset(ev_hasher *h)
{
    for (int i = 0; i < EV_HASH_COUNT; i++) {
        if (h->ctx[i] && EVP_DigestInit_ex(h->ctx[i], h->md[i], NULL) != 1)
            return EV_ERROR;
    }
    return EV_OK;
}

int ev_hash__new(ev_hasher **out, uint32_t algs)
{
    *out = NULL;
    if (algs == 0 || (algs & ~0xFu))
        return EV_EINVAL;
    ev_hasher *h = calloc(1, sizeof(*h));
    if (!h)
        return EV_ENOMEM;
    h->algs = algs;
    for (int i = 0; i < EV_HASH_COUNT; i++) {
        if (!(algs & (1u << i)))
            continue;
        h->md[i] = EVP_MD_fetch(NULL, slot_evp[i], NULL);
        h->ctx[i] = EVP_MD_CTX_new();
        if (!h->md[i] || !h->ctx[i]) {
            ev_hash__free(h);
            return EV_EUNSUPPORTED;
        }
    }
    if (ev_hash__reset(h) != EV_OK) {
        ev_hash__free(h);
        return EV_ERROR;
    }
    *out = h;
    return EV_OK;
}

int ev_hash__update(ev_hasher *h, const void *data, size_t len)
{
    if (len == 0)
        return EV_OK;
    for (int i = 0; i < EV_HASH_COUNT; i++) {
        if (h->ctx[i] && EVP_DigestUpdate(h->ctx[i], data, len) != 1)
            return EV_ERROR;
    }
    return EV_OK;
}

void ev_hash__to_hex(char *out, const uint8_t *raw, size_t len)
{
    ev__hex_encode(out, raw, len);
}

int ev_hash__final(ev_hasher *h, ev_digests *out)
{
    memset(out, 0, sizeof(*out));
    out->algs = h->algs;
    for (int i = 0; i < EV_HASH_COUNT; i++) {
        if (!h->ctx[i])
            continue;
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        if (EVP_DigestFinal_ex(h->ctx[i], md, &n) != 1)
            return EV_ERROR;
        ev_hash__to_hex(out->hex[i], md, n);
    }
    return ev_hash__reset(h);
}

int ev_hash__sha256_hex(char out[65], const void *data, size_t len)
{
    uint8_t md[32];
    unsigned int n = 0;
    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return EV_ERROR;
    ev_hash__to_hex(out, md, 32);
    return EV_OK;
}

static unsigned char lower(unsigned char c)
{
    /* branch-free ASCII lower-casing of A-F (hex digits only) */
    unsigned char is_upper = (unsigned char)(((unsigned)(c - 'A') < 26u) ? 0x20 : 0);
    return (unsigned char)(c | is_upper);
}

bool ev_hash__hex_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < la; i++)
        diff |= (unsigned char)(lower((unsigned char)a[i]) ^ lower((unsigned char)b[i]));
    return diff == 0;
}
