/*
 * record (read): evidence.json from a bundle or from bytes, within the
 * limits of ev_bundle_options (a record over a limit, or claiming more
 * items than the bag has payload files, is refused before or right after
 * it is parsed), whole or with its items given one by one to a callback
 * (the slim record of verify, record_check.h). See record_read.h.
 */
#include "record/record_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bag/bag.h"
#include "base/internal.h"
#include "record/record.h"

size_t ev_record__read_cap(const ev_bundle_options *o)
{
    return o->max_record_size > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)o->max_record_size;
}

static const char *const refusal_codes[] = { "limit-record-size", "limit-items",
                                             "record-items-exceed-payload" };

bool ev_record__refused(const ev_report *r)
{
    for (size_t i = 0; i < sizeof(refusal_codes) / sizeof(refusal_codes[0]); i++)
        for (size_t k = 0; r && k < r->nproblems; k++)
            if (!strcmp(r->problems[k].code, refusal_codes[i]) && r->problems[k].path &&
                !strcmp(r->problems[k].path, "evidence.json"))
                return true;
    return false;
}

bool ev_record__over_size(const ev_store *s, long i, const ev_bundle_options *o)
{
    return i >= 0 && ev_store__entry(s, (size_t)i)->size > o->max_record_size;
}

/* Strings and nesting are followed, so commas inside them do not count.
 * For JSON whose keys have no escapes it is exactly json_array_size() of
 * the parsed items; ev_record__load checks the parsed count again, so an
 * escaped key can make it parse, not get past the limits. */
/* A record text mapped from a temporary file (a large record is not read
 * into memory): the pages read are given back as the reading moves on, so
 * that reading a record of any size keeps a few MiB of it resident. A page
 * given back is read again from the file when it is needed again (the
 * mapping is shared, so nothing is lost). */
typedef struct rd_map {
    const char *base;
    size_t len, dropped, next;
} rd_map;

#define RD_RELEASE_STEP ((size_t)4 << 20)

static void rd_release(rd_map *m, const char *at)
{
    if (!m || !m->base || at < m->base)
        return;
    size_t pos = (size_t)(at - m->base);
    if (pos < m->next)
        return;
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t done = pos & ~(pg - 1);
    if (done > m->dropped) {
        madvise((void *)(uintptr_t)(m->base + m->dropped), done - m->dropped, MADV_DONTNEED);
        m->dropped = done;
    }
    m->next = pos + RD_RELEASE_STEP;
}

static size_t count_items(const char *b, size_t n, rd_map *m);

size_t ev_record__count_items(const char *b, size_t n)
{
    return count_items(b, n, NULL);
}

static size_t count_items(const char *b, size_t n, rd_map *m)
{
    size_t depth = 0, count = 0, best = 0;
    const char *last = NULL; /* the last string seen at depth 1: a key before '[' */
    size_t lastlen = 0;
    bool in_items = false, nonempty = false;
    for (size_t i = 0; i < n; i++) {
        if (m && i >= m->next)
            rd_release(m, b + i);
        char ch = b[i];
        if (ch == '"') {
            size_t st = ++i;
            /* the next quote not escaped: one after an even run of
             * backslashes (each backslash takes the byte after it) */
            for (;;) {
                const char *dq = i < n ? memchr(b + i, '"', n - i) : NULL;
                if (!dq) {
                    i = n;
                    break;
                }
                size_t at = (size_t)(dq - b), bs = 0;
                while (at - bs > st && b[at - bs - 1] == '\\')
                    bs++;
                i = at;
                if (!(bs & 1))
                    break;
                i++;
            }
            if (i >= n)
                break;
            if (depth == 1) {
                last = b + st;
                lastlen = i - st;
            }
            if (in_items && depth == 2)
                nonempty = true;
            continue;
        }
        switch (ch) {
        case '{':
        case '[':
            if (in_items && depth == 2)
                nonempty = true;
            if (depth == 1 && ch == '[' && last && lastlen == 5 && !memcmp(last, "items", 5)) {
                in_items = true;
                nonempty = false;
                count = 0;
            }
            depth++;
            break;
        case '}':
        case ']':
            if (depth)
                depth--;
            if (in_items && depth == 1) {
                in_items = false;
                count += nonempty;
                best = count > best ? count : best;
            }
            break;
        case ',':
            if (in_items && depth == 2)
                count++;
            break;
        case ' ':
        case '\t':
        case '\n':
        case '\r':
            break;
        default:
            if (in_items && depth == 2)
                nonempty = true;
        }
    }
    if (in_items)
        best = count + nonempty > best ? count + nonempty : best;
    return best;
}

/* Add the problem and return true when n items are too many. */
static bool refuse_items(ev_report *r, size_t n, size_t npayload, const ev_bundle_options *o)
{
    if (n > o->max_items) {
        ev_report__add(r, EV_SEVERITY_ERROR, "limit-items", "evidence.json",
                       "evidence.json lists %zu items, over the limit of %llu "
                       "(ev_bundle_options.max_items; evidence verify --max-items): it is not "
                       "read, and the bundle cannot "
                       "be checked", n, (unsigned long long)o->max_items);
        return true;
    }
    if (n > npayload) {
        /* each item describes a payload file of its own: more items than
         * files is a lie, and checking each would cost what it claims */
        ev_report__add(r, EV_SEVERITY_ERROR, "record-items-exceed-payload", "evidence.json",
                       "evidence.json lists %zu items but the bag has %zu payload files; each "
                       "item describes a file of its own (two items describe one file, or "
                       "items describe files that are not there), so the record is false. "
                       "Its items are not checked one by one", n, npayload);
        return true;
    }
    return false;
}

/* ---- a quicker parse of the usual record ------------------------------------------
 *
 * jansson's parser costs several times what building the values does. The
 * record the writer makes is plain JSON: objects, arrays, strings with few
 * escapes, integers, true, false, null. quick_read reads exactly that and
 * builds the same values in the same order, and gives up (QP_OTHER) on
 * anything else: \u escapes, numbers with a fraction or exponent, integers
 * jansson would not take, a duplicate key, deep nesting, any byte out of
 * place. Then json_loadb decides, as before, so what is accepted or
 * refused, and every value read, stays jansson's. */

#define QP_MAX_DEPTH 64
/* a record larger than this is read through a mapped temporary file */
#define RECORD_MAP_FROM ((uint64_t)8 << 20)

typedef struct qp {
    const unsigned char *p, *end;
    char *tmp; /* unescaped strings */
    size_t tmpcap;
    /* the top-level items given one by one to fn and not kept (NULL: kept) */
    ev_record__each_fn fn;
    void *ctx;
    size_t nitems;
    bool fn_failed; /* fn returned an error: the parse stops */
    rd_map *map;    /* the text is mapped: its pages read are given back */
} qp;

static void qp_ws(qp *q)
{
    while (q->p < q->end && (*q->p == ' ' || *q->p == '\n' || *q->p == '\r' || *q->p == '\t'))
        q->p++;
}

/* The length of a valid UTF-8 sequence at p (RFC 3629: no overlong form, no
 * surrogate, nothing past U+10FFFF), or 0. */
static size_t qp_utf8(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1Fu;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0Fu;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07u;
        min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* A string at q->p (just past its '"'): its bytes in *out, *outlen. They
 * point into the text when there is no escape, else into q->tmp. */
static bool qp_string(qp *q, const char **out, size_t *outlen)
{
    const unsigned char *st = q->p, *p = q->p;
    bool esc = false;
    while (p < q->end && *p != '"') {
        if (*p == '\\') {
            if (q->end - p < 2)
                return false;
            esc = true;
            p += 2;
        } else if (*p < 0x20) {
            return false;
        } else if (*p < 0x80) {
            p++;
        } else {
            size_t n = qp_utf8(p, q->end);
            if (!n)
                return false;
            p += n;
        }
    }
    if (p >= q->end)
        return false;
    q->p = p + 1;
    if (!esc) {
        *out = (const char *)st;
        *outlen = (size_t)(p - st);
        return true;
    }
    size_t need = (size_t)(p - st) + 1;
    if (need > q->tmpcap) {
        char *t = realloc(q->tmp, need);
        if (!t)
            return false;
        q->tmp = t;
        q->tmpcap = need;
    }
    size_t o = 0;
    for (const unsigned char *r = st; r < p; r++) {
        if (*r != '\\') {
            q->tmp[o++] = (char)*r;
            continue;
        }
        r++;
        switch (*r) {
        case '"': q->tmp[o++] = '"'; break;
        case '\\': q->tmp[o++] = '\\'; break;
        case '/': q->tmp[o++] = '/'; break;
        case 'b': q->tmp[o++] = '\b'; break;
        case 'f': q->tmp[o++] = '\f'; break;
        case 'n': q->tmp[o++] = '\n'; break;
        case 'r': q->tmp[o++] = '\r'; break;
        case 't': q->tmp[o++] = '\t'; break;
        default: return false; /* \u and anything else: jansson's */
        }
    }
    *out = q->tmp;
    *outlen = o;
    return true;
}

static json_t *qp_value(qp *q, int depth);
static json_t *qp_items(qp *q, int depth);

static json_t *qp_number(qp *q)
{
    const unsigned char *p = q->p;
    bool neg = p < q->end && *p == '-';
    if (neg)
        p++;
    if (p >= q->end || *p < '0' || *p > '9')
        return NULL;
    if (*p == '0' && p + 1 < q->end && p[1] >= '0' && p[1] <= '9')
        return NULL;
    uint64_t v = 0;
    size_t digits = 0;
    for (; p < q->end && *p >= '0' && *p <= '9'; p++, digits++)
        v = v * 10 + (uint64_t)(*p - '0');
    /* a fraction or exponent, or more digits than certainly fit: jansson's */
    if (digits > 18 || (p < q->end && (*p == '.' || *p == 'e' || *p == 'E')))
        return NULL;
    q->p = p;
    return json_integer(neg ? -(json_int_t)v : (json_int_t)v);
}

static json_t *qp_value(qp *q, int depth)
{
    qp_ws(q);
    if (q->p >= q->end || depth > QP_MAX_DEPTH)
        return NULL;
    unsigned char c = *q->p;
    if (c == '{') {
        q->p++;
        json_t *o = json_object();
        if (!o)
            return NULL;
        qp_ws(q);
        if (q->p < q->end && *q->p == '}') {
            q->p++;
            return o;
        }
        for (;;) {
            qp_ws(q);
            const char *k;
            size_t kl;
            if (q->p >= q->end || *q->p != '"')
                break;
            q->p++;
            if (!qp_string(q, &k, &kl))
                break;
            /* a key of its own (the escape buffer is reused by the value) */
            char kb[64];
            char *key = kl < sizeof(kb) ? kb : malloc(kl + 1);
            if (!key)
                break;
            memcpy(key, k, kl);
            key[kl] = '\0';
            bool ok = !memchr(key, '\0', kl);
            if (ok) {
                qp_ws(q);
                ok = q->p < q->end && *q->p == ':';
                if (ok) {
                    q->p++;
                    /* a key met before replaces its value and leaves the
                     * size as it was: a duplicate, refused by jansson */
                    size_t had = json_object_size(o);
                    json_t *v = depth == 1 && q->fn && kl == 5 && !memcmp(key, "items", 5)
                                    ? qp_items(q, depth + 1)
                                    : qp_value(q, depth + 1);
                    ok = v && json_object_setn_new_nocheck(o, key, kl, v) == 0 &&
                         json_object_size(o) == had + 1;
                }
            }
            if (key != kb)
                free(key);
            if (!ok)
                break;
            qp_ws(q);
            if (q->p < q->end && *q->p == ',') {
                q->p++;
                continue;
            }
            if (q->p < q->end && *q->p == '}') {
                q->p++;
                return o;
            }
            break;
        }
        json_decref(o);
        return NULL;
    }
    if (c == '[') {
        q->p++;
        json_t *a = json_array();
        if (!a)
            return NULL;
        qp_ws(q);
        if (q->p < q->end && *q->p == ']') {
            q->p++;
            return a;
        }
        for (;;) {
            json_t *v = qp_value(q, depth + 1);
            if (!v || json_array_append_new(a, v) != 0)
                break;
            qp_ws(q);
            if (q->p < q->end && *q->p == ',') {
                q->p++;
                continue;
            }
            if (q->p < q->end && *q->p == ']') {
                q->p++;
                return a;
            }
            break;
        }
        json_decref(a);
        return NULL;
    }
    if (c == '"') {
        q->p++;
        const char *v;
        size_t vl;
        if (!qp_string(q, &v, &vl) || memchr(v, '\0', vl))
            return NULL;
        return json_stringn_nocheck(v, vl);
    }
    size_t left = (size_t)(q->end - q->p);
    if (left >= 4 && !memcmp(q->p, "null", 4)) {
        q->p += 4;
        return json_null();
    }
    if (left >= 4 && !memcmp(q->p, "true", 4)) {
        q->p += 4;
        return json_true();
    }
    if (left >= 5 && !memcmp(q->p, "false", 5)) {
        q->p += 5;
        return json_false();
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return qp_number(q);
    return NULL;
}

/* The top-level items member: an array whose elements go to q->fn one by
 * one (and are dropped), read as an empty array; anything else is read as
 * it is. */
static json_t *qp_items(qp *q, int depth)
{
    qp_ws(q);
    if (q->p >= q->end || *q->p != '[')
        return qp_value(q, depth);
    q->p++;
    json_t *a = json_array();
    if (!a)
        return NULL;
    qp_ws(q);
    if (q->p < q->end && *q->p == ']') {
        q->p++;
        return a;
    }
    for (;;) {
        json_t *v = qp_value(q, depth + 1);
        if (!v)
            break;
        int rc = q->fn(q->ctx, v, q->nitems++);
        json_decref(v);
        rd_release(q->map, (const char *)q->p);
        if (rc != EV_OK) {
            q->fn_failed = true;
            break;
        }
        qp_ws(q);
        if (q->p < q->end && *q->p == ',') {
            q->p++;
            continue;
        }
        if (q->p < q->end && *q->p == ']') {
            q->p++;
            return a;
        }
        break;
    }
    json_decref(a);
    return NULL;
}

/* One value of buf read by q (whose fn, ctx and map are set), or NULL:
 * then json_loadb decides. object_only: the value must be an object. */
static json_t *quick_read(qp *q, const char *buf, size_t len, bool object_only)
{
    q->p = (const unsigned char *)buf;
    q->end = q->p + len;
    qp_ws(q);
    json_t *v = q->p < q->end && (!object_only || *q->p == '{') ? qp_value(q, 1) : NULL;
    free(q->tmp);
    q->tmp = NULL;
    if (v) {
        qp_ws(q);
        /* after a literal or number, jansson's token would go on ("nullx",
         * "1x"): only whitespace may follow the value here, and within it
         * every value ended at ',', '}' or ']' */
        if (q->p != q->end) {
            json_decref(v);
            v = NULL;
        }
    }
    return v;
}

json_t *ev_record__quick_value(const char *buf, size_t len)
{
    qp q;
    memset(&q, 0, sizeof(q));
    return quick_read(&q, buf, len, false);
}

static json_t *parse_items(const char *buf, size_t len, size_t npayload,
                           const ev_bundle_options *o, ev_report *r, ev_record__each_fn fn,
                           void (*reset)(void *ctx), void *ctx, rd_map *map)
{
    /* the items, counted on the text before the parser builds them */
    json_t *rec = NULL;
    if (refuse_items(r, count_items(buf, len, map), npayload, o))
        return NULL;
    if (map)
        map->dropped = map->next = 0;
    qp q;
    memset(&q, 0, sizeof(q));
    q.fn = fn;
    q.ctx = ctx;
    q.map = fn ? map : NULL;
    rec = quick_read(&q, buf, len, true);
    if (q.fn_failed) {
        json_decref(rec);
        return NULL;
    }
    size_t nitems = q.nitems;
    if (!rec) {
        /* jansson decides; the items met so far are forgotten, and those
         * of its parse are given one by one as before */
        if (fn && q.nitems)
            reset(ctx);
        json_error_t je;
        rec = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
        json_t *items = json_object_get(rec, "items");
        nitems = json_array_size(items);
        if (fn && json_is_object(rec) && json_is_array(items)) {
            if (refuse_items(r, nitems, npayload, o)) {
                json_decref(rec);
                return NULL;
            }
            for (size_t k = 0; k < nitems; k++) {
                if (fn(ctx, json_array_get(items, k), k) != EV_OK) {
                    json_decref(rec);
                    return NULL;
                }
            }
            json_array_clear(items);
            return rec;
        }
    } else if (!fn) {
        nitems = json_array_size(json_object_get(rec, "items"));
    }
    if (!json_is_object(rec)) {
        json_decref(rec);
        rec = NULL;
    } else if (refuse_items(r, nitems, npayload, o)) {
        /* the text fooled the count (an escaped key): the parse decides */
        json_decref(rec);
        rec = NULL;
    }
    return rec;
}

json_t *ev_record__parse_items(const char *buf, size_t len, size_t npayload,
                               const ev_bundle_options *o, ev_report *r, ev_record__each_fn fn,
                               void (*reset)(void *ctx), void *ctx)
{
    return parse_items(buf, len, npayload, o, r, fn, reset, ctx, NULL);
}

json_t *ev_record__parse(const char *buf, size_t len, size_t npayload,
                         const ev_bundle_options *o, ev_report *r)
{
    return ev_record__parse_items(buf, len, npayload, o, r, NULL, NULL, NULL);
}

json_t *ev_record__load(const ev_store *s, const ev_bundle_options *o, ev_report *r)
{
    return ev_record__load_items(s, o, r, NULL, NULL, NULL, NULL);
}

json_t *ev_record__load_items(const ev_store *s, const ev_bundle_options *o, ev_report *r,
                              ev_record__each_fn fn, void (*reset)(void *ctx), void *ctx,
                              ev_spill **text)
{
    if (text)
        *text = NULL;
    long i = ev_store__find(s, EV_RECORD_FILE);
    if (i < 0)
        return NULL;
    /* the size the container claims, before a byte is allocated */
    if (ev_record__over_size(s, i, o)) {
        ev_report__add(r, EV_SEVERITY_ERROR, "limit-record-size", "evidence.json",
                       "evidence.json holds %llu bytes, over the limit of %llu "
                       "(ev_bundle_options.max_record_size; evidence verify --max-record-size): "
                       "it is not read, and the bundle "
                       "cannot be checked",
                       (unsigned long long)ev_store__entry(s, (size_t)i)->size,
                       (unsigned long long)o->max_record_size);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    ev_errbuf e;
    /* a large record through a temporary file, mapped (see rd_map); in
     * memory when that cannot be done */
    rd_map map = { NULL, 0, 0, 0 };
    ev_spill sp;
    memset(&sp, 0, sizeof(sp));
    sp.fd = -1;
    if (fn && ev_store__entry(s, (size_t)i)->size > RECORD_MAP_FROM &&
        ev_spill__init(&sp, P_tmpdir, 0) == EV_OK &&
        ev_store__read_spill(&sp, s, (size_t)i, ev_record__read_cap(o), &e) == EV_OK &&
        sp.fd >= 0 && sp.len > 0 && sp.len <= SIZE_MAX) {
        void *p = mmap(NULL, (size_t)sp.len, PROT_READ, MAP_SHARED, sp.fd, 0);
        if (p != MAP_FAILED) {
            map.base = p;
            map.len = (size_t)sp.len;
        }
    }
    if (!map.base) {
        ev_spill__free(&sp);
        if (ev_store__read_all(&buf, &len, s, (size_t)i, ev_record__read_cap(o), &e) != EV_OK)
            return NULL; /* the file is reported by the hashing (unreadable, modified) */
    }
    size_t npayload = 0;
    for (size_t k = 0; k < ev_store__count(s); k++) {
        const ev_store_entry *se = ev_store__entry(s, k);
        if (!se->unsafe && se->type == EV_ENTRY_FILE && ev_bag__is_payload(se->name))
            npayload++;
    }
    json_t *rec = map.base ? parse_items(map.base, map.len, npayload, o, r, fn, reset, ctx, &map)
                           : parse_items(buf, len, npayload, o, r, fn, reset, ctx, NULL);
    if (map.base)
        munmap((void *)(uintptr_t)map.base, map.len);
    /* the text on its temporary file, for the caller's other readers */
    ev_spill *kept = rec && text && map.base ? malloc(sizeof(*kept)) : NULL;
    if (kept) {
        *kept = sp;
        *text = kept;
    } else {
        ev_spill__free(&sp);
    }
    free(buf);
    return rec;
}
