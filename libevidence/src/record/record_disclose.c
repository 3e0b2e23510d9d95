/*
 * record (disclose): canonical item entries, salted leaves and the RFC 9162
 * Merkle tree over a record's items (docs/disclosure.md).
 */
#include "record/record_disclose.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

/* ---- RFC 8785 JSON canonicalization ---------------------------------------------- */

static int jcs_string(ev_buf *b, const char *s, size_t n)
{
    /* most strings need no escape: one copy, quotes included */
    size_t q = 0;
    while (q < n && (unsigned char)s[q] >= 0x20 && s[q] != '"' && s[q] != '\\')
        q++;
    if (q == n) {
        size_t need;
        if (__builtin_add_overflow(b->len, n + 3, &need))
            return EV_ENOMEM;
        if (need > b->cap) {
            int rc = ev_buf__append(b, "\"", 1);
            if (rc == EV_OK)
                rc = ev_buf__append(b, s, n);
            return rc == EV_OK ? ev_buf__append(b, "\"", 1) : rc;
        }
        b->data[b->len] = '"';
        if (n)
            memcpy(b->data + b->len + 1, s, n);
        b->data[b->len + 1 + n] = '"';
        b->len += n + 2;
        b->data[b->len] = '\0';
        return EV_OK;
    }
    int rc = ev_buf__append(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n && rc == EV_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(u, sizeof(u), "\\u%04x", c);
                esc = u;
            }
        }
        if (!esc) {
            run++;
            continue;
        }
        rc = ev_buf__append(b, s + i - run, run);
        run = 0;
        if (rc == EV_OK)
            rc = ev_buf__puts(b, esc);
    }
    if (rc == EV_OK)
        rc = ev_buf__append(b, s + n - run, run);
    if (rc == EV_OK)
        rc = ev_buf__append(b, "\"", 1);
    return rc;
}

/* ECMAScript Number.prototype.toString of a finite double (RFC 8785 3.2.2.3). */
static int jcs_number(ev_buf *b, double v)
{
    if (!isfinite(v))
        return EV_EINVAL;
    if (v == 0)
        return ev_buf__puts(b, "0");
    if (v < 0) {
        int rc = ev_buf__puts(b, "-");
        if (rc != EV_OK)
            return rc;
        v = -v;
    }
    /* the shortest digits that read back as v */
    char t[40];
    int p;
    for (p = 1; p <= 17; p++) {
        snprintf(t, sizeof(t), "%.*e", p - 1, v);
        if (strtod(t, NULL) == v)
            break;
    }
    char digits[24];
    size_t k = 0;
    const char *q = t;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9' && k < sizeof(digits) - 1)
            digits[k++] = *q;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    digits[k] = '\0';
    int e = *q == 'e' ? (int)strtol(q + 1, NULL, 10) : 0;
    int n = e + 1; /* position of the decimal point */
    int ki = (int)k;
    if (ki <= n && n <= 21) {
        int rc = ev_buf__append(b, digits, k);
        for (int i = 0; i < n - ki && rc == EV_OK; i++)
            rc = ev_buf__append(b, "0", 1);
        return rc;
    }
    if (0 < n && n <= 21)
        return ev_buf__printf(b, "%.*s.%s", n, digits, digits + n);
    if (-6 < n && n <= 0) {
        int rc = ev_buf__puts(b, "0.");
        for (int i = 0; i < -n && rc == EV_OK; i++)
            rc = ev_buf__append(b, "0", 1);
        return rc == EV_OK ? ev_buf__append(b, digits, k) : rc;
    }
    int rc = ev_buf__append(b, digits, 1);
    if (rc == EV_OK && k > 1)
        rc = ev_buf__printf(b, ".%s", digits + 1);
    return rc == EV_OK ? ev_buf__printf(b, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1)) : rc;
}

/* The next UTF-16 code unit of a UTF-8 string (jansson strings are valid
 * UTF-8); *pend holds a pending low surrogate. */
static unsigned next_unit(const unsigned char **p, const unsigned char *end, unsigned *pend)
{
    if (*pend) {
        unsigned u = *pend;
        *pend = 0;
        return u;
    }
    const unsigned char *s = *p;
    unsigned cp;
    if (s[0] < 0x80) {
        cp = s[0];
        *p += 1;
    } else if ((s[0] & 0xE0) == 0xC0 && s + 1 < end) {
        cp = ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu);
        *p += 2;
    } else if ((s[0] & 0xF0) == 0xE0 && s + 2 < end) {
        cp = ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
        *p += 3;
    } else if (s + 3 < end) {
        cp = ((s[0] & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) |
             (s[3] & 0x3Fu);
        *p += 4;
    } else {
        cp = s[0];
        *p = end;
    }
    if (cp < 0x10000)
        return cp;
    cp -= 0x10000;
    *pend = 0xDC00 + (cp & 0x3FF);
    return 0xD800 + (cp >> 10);
}

/* Property names are sorted by their UTF-16 code units (RFC 8785 3.2.3). */
static int utf16_cmp(const char *x, const char *y)
{
    const unsigned char *p = (const unsigned char *)x, *pe = p + strlen(x);
    const unsigned char *q = (const unsigned char *)y, *qe = q + strlen(y);
    unsigned pp = 0, qp = 0;
    while ((p < pe || pp) && (q < qe || qp)) {
        unsigned u = next_unit(&p, pe, &pp), v = next_unit(&q, qe, &qp);
        if (u != v)
            return u < v ? -1 : 1;
    }
    bool xa = p < pe || pp, ya = q < qe || qp;
    return xa == ya ? 0 : xa ? 1 : -1;
}

/* A member of an object being written: its name and value. */
typedef struct jcs_member {
    const char *key;
    size_t klen;
    const json_t *val;
} jcs_member;

static int member_cmp(const void *a, const void *b)
{
    const char *x = ((const jcs_member *)a)->key, *y = ((const jcs_member *)b)->key;
    const unsigned char *p = (const unsigned char *)x, *q = (const unsigned char *)y;
    while (*p && *p == *q) {
        p++;
        q++;
    }
    /* up to the first difference the names share their code points; where
     * both bytes there are ASCII (or the end of one name), they are the
     * next UTF-16 units too. Past ASCII the order of UTF-8 bytes and of
     * UTF-16 units may differ (above U+FFFF): compare by units. */
    if (*p < 0x80 && *q < 0x80)
        return (*p > *q) - (*p < *q);
    return utf16_cmp(x, y);
}

static int jcs_integer(ev_buf *b, json_int_t i)
{
    char t[24];
    size_t n = sizeof(t);
    unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;
    do {
        t[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0)
        t[--n] = '-';
    return ev_buf__append(b, t + n, sizeof(t) - n);
}

/* skip: a member name left out of this object (not of nested ones), or NULL */
static int jcs_value(ev_buf *b, const json_t *v, int depth, const char *skip)
{
    if (depth > 256)
        return EV_EINVAL;
    switch (json_typeof(v)) {
    case JSON_NULL:
        return ev_buf__append(b, "null", 4);
    case JSON_TRUE:
        return ev_buf__append(b, "true", 4);
    case JSON_FALSE:
        return ev_buf__append(b, "false", 5);
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        /* beyond 2^53 a JSON number is not exact in I-JSON: print as a
         * double would, like any JCS implementation */
        if (i > ((json_int_t)1 << 53) || i < -((json_int_t)1 << 53))
            return jcs_number(b, (double)i);
        return jcs_integer(b, i);
    }
    case JSON_REAL:
        return jcs_number(b, json_real_value(v));
    case JSON_STRING:
        return jcs_string(b, json_string_value(v), json_string_length(v));
    case JSON_ARRAY: {
        int rc = ev_buf__append(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v) && rc == EV_OK; i++) {
            if (i)
                rc = ev_buf__append(b, ",", 1);
            if (rc == EV_OK)
                rc = jcs_value(b, json_array_get(v, i), depth + 1, NULL);
        }
        return rc == EV_OK ? ev_buf__append(b, "]", 1) : rc;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v);
        jcs_member local[24];
        jcs_member *m = n <= sizeof(local) / sizeof(local[0]) ? local
                        : ev__calloc(n, sizeof(*m));
        if (!m)
            return EV_ENOMEM;
        size_t k = 0;
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val) {
            if (k == n)
                break;
            if (skip && !strcmp(key, skip))
                continue;
            m[k].key = key;
            m[k].klen = strlen(key);
            m[k].val = val;
            k++;
        }
        if (k > 1)
            qsort(m, k, sizeof(*m), member_cmp);
        int rc = ev_buf__append(b, "{", 1);
        for (size_t i = 0; i < k && rc == EV_OK; i++) {
            if (i)
                rc = ev_buf__append(b, ",", 1);
            if (rc == EV_OK)
                rc = jcs_string(b, m[i].key, m[i].klen);
            if (rc == EV_OK)
                rc = ev_buf__append(b, ":", 1);
            if (rc == EV_OK)
                rc = jcs_value(b, m[i].val, depth + 1, NULL);
        }
        if (m != local)
            free(m);
        return rc == EV_OK ? ev_buf__append(b, "}", 1) : rc;
    }
    }
    return EV_EINVAL;
}

int ev_record__jcs(ev_buf *b, const json_t *v)
{
    return v ? jcs_value(b, v, 0, NULL) : EV_EINVAL;
}

/* ---- salts, leaves, nodes ---------------------------------------------------------- */

int ev_record__salt(uint8_t salt[EV_DISCLOSE_SALT_LEN])
{
    return RAND_bytes(salt, (int)EV_DISCLOSE_SALT_LEN) == 1 ? EV_OK : EV_ERROR;
}

int ev_record__leaf(uint8_t out[32], const json_t *item, const uint8_t salt[EV_DISCLOSE_SALT_LEN],
                    const uint8_t payload_sha256[32], const uint8_t (*meta_sha256)[32],
                    size_t nmeta)
{
    if (!json_is_object(item))
        return EV_EINVAL;
    /* the whole leaf input in one buffer: 0x00, the salt, the entry's
     * length (filled in once known), the entry (the item without its
     * "salt", written straight from the item), the digests */
    enum { HEAD = 1 + EV_DISCLOSE_SALT_LEN + 8 };
    ev_buf e = { 0 };
    e.data = malloc(1024);
    if (!e.data)
        return EV_ENOMEM;
    e.cap = 1024;
    uint8_t head[HEAD] = { 0x00 };
    memcpy(head + 1, salt, EV_DISCLOSE_SALT_LEN);
    int rc = ev_buf__append(&e, head, HEAD);
    if (rc == EV_OK)
        rc = jcs_value(&e, item, 0, "salt");
    if (rc != EV_OK) {
        ev_buf__free(&e);
        return rc;
    }
    uint64_t elen = (uint64_t)(e.len - HEAD);
    for (int i = 0; i < 8; i++)
        e.data[1 + EV_DISCLOSE_SALT_LEN + i] = (char)(uint8_t)(elen >> (56 - 8 * i));
    rc = ev_buf__append(&e, payload_sha256, 32);
    for (size_t k = 0; rc == EV_OK && k < nmeta; k++)
        rc = ev_buf__append(&e, meta_sha256[k], 32);
    unsigned int ol = 0;
    bool ok = rc == EV_OK && EVP_Digest(e.data, e.len, out, &ol, EVP_sha256(), NULL) && ol == 32;
    ev_buf__free(&e);
    return ok ? EV_OK : rc != EV_OK ? rc : EV_ENOMEM;
}

void ev_record__node(uint8_t out[32], const uint8_t left[32], const uint8_t right[32])
{
    uint8_t buf[65];
    buf[0] = 0x01;
    memcpy(buf + 1, left, 32);
    memcpy(buf + 33, right, 32);
    unsigned int ol = 0;
    if (!EVP_Digest(buf, sizeof(buf), out, &ol, EVP_sha256(), NULL))
        memset(out, 0, 32);
}

/* The largest power of two smaller than n (n >= 2). */
static size_t split(size_t n)
{
    size_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

void ev_record__tree_root(uint8_t out[32], const uint8_t (*leaves)[32], size_t n)
{
    if (n == 0) {
        unsigned int ol = 0;
        EVP_Digest("", 0, out, &ol, EVP_sha256(), NULL);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[0], 32);
        return;
    }
    size_t k = split(n);
    uint8_t l[32], r[32];
    ev_record__tree_root(l, leaves, k);
    ev_record__tree_root(r, leaves + k, n - k);
    ev_record__node(out, l, r);
}

void ev_record__tree_path(uint8_t (*path)[32], size_t *len, const uint8_t (*leaves)[32], size_t n,
                          size_t m)
{
    /* PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])  for m < k
     *               = PATH(m - k, D[k:n]) : MTH(D[0:k]) otherwise;
     * the sibling nearest the leaf comes first */
    if (n <= 1) {
        *len = 0;
        return;
    }
    size_t k = split(n);
    uint8_t sib[32];
    if (m < k) {
        ev_record__tree_path(path, len, leaves, k, m);
        ev_record__tree_root(sib, leaves + k, n - k);
    } else {
        ev_record__tree_path(path, len, leaves + k, n - k, m - k);
        ev_record__tree_root(sib, leaves, k);
    }
    if (*len < EV_DISCLOSE_MAX_PATH)
        memcpy(path[(*len)++], sib, 32);
}

int ev_record__tree_paths(uint8_t root[32], uint8_t (*paths)[EV_DISCLOSE_MAX_PATH][32],
                          size_t *lens, const uint8_t (*leaves)[32], size_t n, const size_t *idx,
                          size_t k)
{
    if (n == 0) {
        ev_record__tree_root(root, leaves, 0);
        return EV_OK;
    }
    uint8_t (*cur)[32] = ev__calloc(n, 32);
    size_t *pos = k ? ev__calloc(k, sizeof(*pos)) : NULL;
    if (!cur || (k && !pos)) {
        free(cur);
        free(pos);
        return EV_ENOMEM;
    }
    memcpy(cur, leaves, n * 32);
    for (size_t j = 0; j < k; j++) {
        pos[j] = idx[j];
        lens[j] = 0;
    }
    size_t len = n;
    while (len > 1) {
        for (size_t j = 0; j < k; j++) {
            size_t sib = pos[j] ^ 1;
            if (sib < len && lens[j] < EV_DISCLOSE_MAX_PATH)
                memcpy(paths[j][lens[j]++], cur[sib], 32);
            pos[j] >>= 1;
        }
        size_t next = 0;
        for (size_t i = 0; i + 1 < len; i += 2)
            ev_record__node(cur[next++], cur[i], cur[i + 1]);
        if (len & 1)
            memmove(cur[next++], cur[len - 1], 32);
        len = next;
    }
    memcpy(root, cur[0], 32);
    free(cur);
    free(pos);
    return EV_OK;
}

bool ev_record__proof_ok(const uint8_t leaf[32], uint64_t index, uint64_t n,
                         const uint8_t (*path)[32], size_t len, const uint8_t root[32])
{
    /* RFC 9162 2.1.3.2 */
    if (n == 0 || index >= n || len > EV_DISCLOSE_MAX_PATH)
        return false;
    uint64_t fn = index, sn = n - 1;
    uint8_t r[32];
    memcpy(r, leaf, 32);
    for (size_t i = 0; i < len; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            ev_record__node(r, path[i], r);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            ev_record__node(r, r, path[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && CRYPTO_memcmp(r, root, 32) == 0;
}

bool ev_record__unhex(uint8_t *out, const char *hex, size_t n)
{
    if (!hex || strlen(hex) != 2 * n)
        return false;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = hex[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return false;
        if (i & 1)
            out[i / 2] = (uint8_t)(out[i / 2] | v);
        else
            out[i / 2] = (uint8_t)(v << 4);
    }
    return true;
}

/* ---- a part's "disclosed_from" -------------------------------------------------------- */

void ev_record__disclosed_from_clear(ev_disclose_from *d)
{
    if (!d)
        return;
    free(d->bundle_id);
    free(d->created);
    for (size_t i = 0; i < d->nproofs; i++)
        free(d->proofs[i].item);
    free(d->proofs);
    for (size_t i = 0; i < d->nsigs; i++) {
        free(d->sigs[i].signature);
        free(d->sigs[i].token);
    }
    free(d->sigs);
    memset(d, 0, sizeof(*d));
}

static int bad(ev_disclose_from *d, ev_errbuf *err, const char *what)
{
    ev_record__disclosed_from_clear(d);
    if (err)
        ev_err__set(err, EV_EFORMAT, "disclosed_from: %s", what);
    return EV_EFORMAT;
}

static bool printable(const char *s, size_t max)
{
    if (!s || !*s || strlen(s) > max)
        return false;
    for (; *s; s++)
        if (*s < 0x21 || *s > 0x7e || *s == '"' || *s == '\\')
            return false;
    return true;
}

/* "disclosure/NNNN-<who>.p7s" (or .tsr): a tag path of the part. */
static bool sig_path_ok(const char *p, const char *ext)
{
    size_t n = p ? strlen(p) : 0;
    if (!printable(p, 200) || strncmp(p, "disclosure/", 11) != 0 || n < 11 + 5 ||
        strcmp(p + n - 4, ext) != 0)
        return false;
    for (const char *q = p + 11; q < p + n - 4; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '-'))
            return false;
    return true;
}

int ev_record__disclosed_from_parse(ev_disclose_from *out, const json_t *o, ev_errbuf *err)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(o))
        return bad(out, err, "not an object");
    const char *bid = json_string_value(json_object_get(o, "bundle_id"));
    const char *cr = json_string_value(json_object_get(o, "created"));
    const char *alg = json_string_value(json_object_get(o, "hash"));
    const char *root = json_string_value(json_object_get(o, "root"));
    const json_t *items = json_object_get(o, "items");
    if (!printable(bid, 100) || !printable(cr, 64))
        return bad(out, err, "bundle_id and created must be short printable ASCII strings");
    if (!alg || strcmp(alg, "sha256") != 0)
        return bad(out, err, "hash must be \"sha256\"");
    if (!ev_record__unhex(out->root, root, 32))
        return bad(out, err, "root must be 64 lower-case hex digits");
    memcpy(out->root_hex, root, 65);
    if (!json_is_integer(items) || json_integer_value(items) < 1 ||
        (uint64_t)json_integer_value(items) > EV_DISCLOSE_MAX_ITEMS)
        return bad(out, err, "items must be a whole number from 1 to 2^32");
    out->items = (uint64_t)json_integer_value(items);
    if (!(out->bundle_id = ev__strdup(bid)) || !(out->created = ev__strdup(cr)))
        return bad(out, err, "out of memory");
    const json_t *proofs = json_object_get(o, "proofs");
    if (!json_is_array(proofs) || json_array_size(proofs) == 0)
        return bad(out, err, "proofs must be a non-empty array");
    size_t np = json_array_size(proofs);
    if (np > out->items)
        return bad(out, err, "more proofs than the original has items");
    if (!(out->proofs = ev__calloc(np, sizeof(*out->proofs))))
        return bad(out, err, "out of memory");
    for (size_t i = 0; i < np; i++) {
        const json_t *p = json_array_get(proofs, i);
        const char *id = json_string_value(json_object_get(p, "item"));
        const json_t *ix = json_object_get(p, "index");
        const json_t *path = json_object_get(p, "path");
        if (!json_is_object(p) || !printable(id, 64) || !json_is_integer(ix) ||
            json_integer_value(ix) < 0 || (uint64_t)json_integer_value(ix) >= out->items ||
            !json_is_array(path) || json_array_size(path) > EV_DISCLOSE_MAX_PATH)
            return bad(out, err, "each proof needs an item id, an index below items and a path "
                                 "of at most 64 hashes");
        ev_disclose_proof *q = &out->proofs[out->nproofs++];
        q->index = (uint64_t)json_integer_value(ix);
        for (size_t k = 0; k < json_array_size(path); k++)
            if (!ev_record__unhex(q->path[k], json_string_value(json_array_get(path, k)), 32))
                return bad(out, err, "a proof path holds something other than 64 hex digits");
        q->len = json_array_size(path);
        if (!(q->item = ev__strdup(id)))
            return bad(out, err, "out of memory");
        for (size_t k = 0; k + 1 < out->nproofs; k++)
            if (out->proofs[k].index == q->index || !strcmp(out->proofs[k].item, q->item))
                return bad(out, err, "two proofs for one item or one position");
    }
    const json_t *sigs = json_object_get(o, "signatures");
    if (sigs && !json_is_array(sigs))
        return bad(out, err, "signatures must be an array");
    size_t ns = json_array_size(sigs);
    if (ns > 1000)
        return bad(out, err, "more than 1000 signatures");
    if (ns && !(out->sigs = ev__calloc(ns, sizeof(*out->sigs))))
        return bad(out, err, "out of memory");
    for (size_t i = 0; i < ns; i++) {
        const json_t *s = json_array_get(sigs, i);
        const char *sp = json_string_value(json_object_get(s, "signature"));
        const json_t *tk = json_object_get(s, "token");
        const char *tp = json_string_value(tk);
        if (!sig_path_ok(sp, ".p7s") || (tk && !json_is_null(tk) && !sig_path_ok(tp, ".tsr")))
            return bad(out, err, "a signature entry needs disclosure/NNNN-<who>.p7s and an "
                                 "optional .tsr token path");
        ev_disclose_sig *g = &out->sigs[out->nsigs++];
        if (!(g->signature = ev__strdup(sp)) || (tp && !(g->token = ev__strdup(tp))))
            return bad(out, err, "out of memory");
    }
    return EV_OK;
}
