/* Errors, allocation, buffers, times: small helpers used by every module. */
#include "base/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistr.h>
#include <time.h>

#include <openssl/rand.h>

int ev_err__vset(ev_errbuf *e, int status, const char *fmt, va_list ap)
{
    if (e)
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    return status;
}

int ev_err__set(ev_errbuf *e, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ev_err__vset(e, status, fmt, ap);
    va_end(ap);
    return status;
}

int ev_err__copy(ev_errbuf *dst, const ev_errbuf *src, int status)
{
    if (dst && src && dst != src)
        memcpy(dst->msg, src->msg, sizeof(dst->msg));
    return status;
}

int ev_err__from_errno(int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR:
        return EV_ENOTFOUND;
    case ENOMEM:
        return EV_ENOMEM;
    case EEXIST:
        return EV_EEXISTS;
    case EINVAL:
        return EV_EINVAL;
    default:
        return EV_EIO;
    }
}

void *ev__calloc(size_t n, size_t size)
{
    if (n == 0 || size == 0)
        return calloc(1, 1);
    return calloc(n, size);
}

void *ev__reallocarray(void *p, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total))
        return NULL;
    return realloc(p, total ? total : 1);
}

void *ev__grow(void *p, size_t *cap, size_t n, size_t size, size_t first)
{
    if (n < *cap)
        return p;
    size_t ncap = *cap ? *cap * 2 : first;
    if (ncap <= *cap)
        return NULL;
    void *np = ev__reallocarray(p, ncap, size);
    if (np)
        *cap = ncap;
    return np;
}

char *ev__strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

char *ev__strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *ev__asprintf(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = NULL;
    if (n >= 0 && (s = malloc((size_t)n + 1)) != NULL)
        vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

int ev_buf__flush(ev_buf *b)
{
    if (b->flush_rc || !b->flush || !b->len)
        return b->flush_rc;
    b->flush_rc = b->flush(b->flush_ctx, b->data, b->len);
    b->len = 0;
    b->data[0] = '\0';
    return b->flush_rc;
}

int ev_buf__append(ev_buf *b, const void *data, size_t len)
{
    if (b->flush_rc)
        return b->flush_rc;
    if (b->flush && b->len && b->len + len > EV_BUF_FLUSH_AT) {
        int rc = ev_buf__flush(b);
        if (rc)
            return rc;
    }
    size_t need;
    if (__builtin_add_overflow(b->len, len + 1, &need))
        return EV_ENOMEM;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need) {
            if (__builtin_mul_overflow(cap, 2, &cap))
                return EV_ENOMEM;
        }
        char *p = realloc(b->data, cap);
        if (!p)
            return EV_ENOMEM;
        b->data = p;
        b->cap = cap;
    }
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return EV_OK;
}

int ev_buf__puts(ev_buf *b, const char *s)
{
    return ev_buf__append(b, s, strlen(s));
}

int ev_buf__printf(ev_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    int rc = EV_ENOMEM;
    if (n >= 0 && (s = malloc((size_t)n + 1)) != NULL) {
        vsnprintf(s, (size_t)n + 1, fmt, ap2);
        rc = ev_buf__append(b, s, (size_t)n);
        free(s);
    }
    va_end(ap2);
    return rc;
}

void ev_buf__free(ev_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void ev__time_rfc3339(char *buf, size_t len, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(buf, len, "1970-01-01T00:00:00Z");
        return;
    }
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void ev__time_rfc3339_ns(char *buf, size_t len, int64_t sec, long nsec)
{
    if (nsec <= 0 || nsec >= 1000000000L) {
        ev__time_rfc3339(buf, len, sec);
        return;
    }
    time_t tt = (time_t)sec;
    struct tm tm;
    char base[32];
    if (!gmtime_r(&tt, &tm)) {
        snprintf(buf, len, "1970-01-01T00:00:00Z");
        return;
    }
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    /* trim trailing zeros of the fraction */
    char frac[16];
    snprintf(frac, sizeof(frac), "%09ld", nsec);
    for (int i = 8; i > 0 && frac[i] == '0'; i--)
        frac[i] = '\0';
    snprintf(buf, len, "%s.%sZ", base, frac);
}

void ev__hex_encode(char *out, const unsigned char *raw, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * len] = '\0';
}

void ev__uuid_format(char out[37], const unsigned char u[16])
{
    /* 8-4-4-4-12 (called for every node of case.jsonld: no printf) */
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[u[i] >> 4];
        *o++ = hex[u[i] & 15];
    }
    *o = '\0';
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

bool ev__uuid_parse(unsigned char out[16], const char *s)
{
    if (!s || strncmp(s, "urn:uuid:", 9) != 0 || strlen(s) != 45)
        return false;
    s += 9;
    int k = 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
            continue;
        }
        int a = hexval(s[i]), b = hexval(s[i + 1]);
        if (a < 0 || b < 0)
            return false;
        out[k++] = (unsigned char)(a << 4 | b);
        i++;
    }
    return k == 16;
}

int ev__uuid_urn(char *buf, size_t len)
{
    unsigned char u[16];
    char t[37];
    if (RAND_bytes(u, sizeof(u)) != 1)
        return -1;
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    ev__uuid_format(t, u);
    snprintf(buf, len, "urn:uuid:%s", t);
    return 0;
}

bool ev__utf8_valid(const char *s, size_t len)
{
    /* libunistring's check: no overlong forms, surrogates or code points
     * above U+10FFFF */
    return u8_check((const uint8_t *)s, len) == NULL;
}

size_t ev__utf8_char_len(const char *s, size_t avail)
{
    if (avail == 0)
        return 0;
    if (s[0] == '\0')
        return 1;
    int n = u8_mblen((const uint8_t *)s, avail);
    return n > 0 ? (size_t)n : 0;
}

json_t *ev__json_str(const char *s)
{
    if (!s)
        return json_null();
    size_t len = strlen(s);
    if (ev__utf8_valid(s, len))
        return json_stringn(s, len);
    ev_buf b = { 0 };
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        /* keep valid sequences, escape the rest */
        size_t n = ev__utf8_char_len(s + i, len - i);
        if (n) {
            ev_buf__append(&b, s + i, n);
            i += n - 1;
        } else {
            ev_buf__printf(&b, "\\x%02X", c);
        }
    }
    json_t *j = b.data ? json_stringn(b.data, b.len) : json_string("");
    ev_buf__free(&b);
    return j;
}

/* ---- string set (open addressing, FNV-1a) -------------------------------- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

int ev_strset__add(ev_strset *set, const char *s, bool *existed)
{
    if (existed)
        *existed = false;
    if ((set->n + 1) * 2 > set->cap) {
        size_t ncap = set->cap ? set->cap * 2 : 64;
        const char **nk = calloc(ncap, sizeof(*nk));
        if (!nk)
            return EV_ENOMEM;
        for (size_t i = 0; i < set->cap; i++) {
            if (!set->keys[i])
                continue;
            size_t j = (size_t)(fnv1a(set->keys[i]) & (ncap - 1));
            while (nk[j])
                j = (j + 1) & (ncap - 1);
            nk[j] = set->keys[i];
        }
        free(set->keys);
        set->keys = nk;
        set->cap = ncap;
    }
    size_t j = (size_t)(fnv1a(s) & (set->cap - 1));
    while (set->keys[j]) {
        if (strcmp(set->keys[j], s) == 0) {
            if (existed)
                *existed = true;
            return EV_OK;
        }
        j = (j + 1) & (set->cap - 1);
    }
    if (!(set->keys[j] = ev_strpool__keep(&set->pool, s)))
        return EV_ENOMEM;
    set->n++;
    return EV_OK;
}

bool ev_strset__has(const ev_strset *set, const char *s)
{
    if (!set->cap)
        return false;
    size_t j = (size_t)(fnv1a(s) & (set->cap - 1));
    while (set->keys[j]) {
        if (strcmp(set->keys[j], s) == 0)
            return true;
        j = (j + 1) & (set->cap - 1);
    }
    return false;
}

void ev_strset__free(ev_strset *set)
{
    free(set->keys);
    ev_strpool__free(&set->pool);
    memset(set, 0, sizeof(*set));
}

int ev__options_init(void *opts, size_t size, unsigned int version)
{
    if (!opts)
        return EV_EINVAL;
    if (!size)
        return EV_EVERSION;
    memset(opts, 0, size);
    *(unsigned int *)opts = version;
    return EV_OK;
}

#define STRPOOL_BLOCK 65536

struct ev_strpool_block {
    ev_strpool_block *next;
    size_t cap;
    char data[];
};

const char *ev_strpool__keep(ev_strpool *p, const char *s)
{
    return s ? ev_strpool__keepn(p, s, strlen(s)) : NULL;
}

const char *ev_strpool__keepn(ev_strpool *p, const char *s, size_t len)
{
    if (!s)
        return NULL;
    size_t n = len + 1;
    ev_strpool_block *b = p->head;
    if (!b || b->cap - p->used < n) {
        size_t cap = n > STRPOOL_BLOCK / 4 ? n : STRPOOL_BLOCK;
        ev_strpool_block *nb = malloc(sizeof(*nb) + cap);
        if (!nb)
            return NULL;
        nb->cap = cap;
        if (cap == n && b) {
            /* a long string alone, behind the block being filled */
            nb->next = b->next;
            b->next = nb;
            memcpy(nb->data, s, len);
            nb->data[len] = '\0';
            return nb->data;
        }
        nb->next = b;
        p->head = nb;
        p->used = 0;
        b = nb;
    }
    char *d = b->data + p->used;
    memcpy(d, s, len);
    d[len] = '\0';
    p->used += n;
    return d;
}

void ev_strpool__free(ev_strpool *p)
{
    for (ev_strpool_block *b = p->head, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    p->head = NULL;
    p->used = 0;
}
