/*
 * record (read): evidence.json from a bundle or from bytes, within the
 * limits of ev_bundle_options (a record over a limit, or claiming more
 * items than the bag has payload files, is refused before or right after
 * it is parsed), and its items as ev_item. See record_read.h.
 */
#include "record/record_read.h"

#include <stdlib.h>
#include <string.h>

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
size_t ev_record__count_items(const char *b, size_t n)
{
    size_t depth = 0, count = 0, best = 0;
    const char *last = NULL; /* the last string seen at depth 1: a key before '[' */
    size_t lastlen = 0;
    bool in_items = false, nonempty = false;
    for (size_t i = 0; i < n; i++) {
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
                       "(ev_bundle_options.max_items): it is not read, and the bundle cannot "
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
 * escapes, integers, true, false, null. quick_parse reads exactly that and
 * builds the same values in the same order, and gives up (QP_OTHER) on
 * anything else: \u escapes, numbers with a fraction or exponent, integers
 * jansson would not take, a duplicate key, deep nesting, any byte out of
 * place. Then json_loadb decides, as before, so what is accepted or
 * refused, and every value read, stays jansson's. */

#define QP_MAX_DEPTH 64

typedef struct qp {
    const unsigned char *p, *end;
    char *tmp; /* unescaped strings */
    size_t tmpcap;
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
                    json_t *v = qp_value(q, depth + 1);
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

/* The record as jansson would read it, or NULL: then json_loadb decides. */
static json_t *quick_parse(const char *buf, size_t len)
{
    qp q = { (const unsigned char *)buf, (const unsigned char *)buf + len, NULL, 0 };
    qp_ws(&q);
    json_t *v = q.p < q.end && *q.p == '{' ? qp_value(&q, 1) : NULL;
    free(q.tmp);
    if (v) {
        qp_ws(&q);
        /* after a literal or number, jansson's token would go on ("nullx",
         * "1x"): only whitespace may follow the object here, and within it
         * every value ended at ',', '}' or ']' */
        if (q.p != q.end) {
            json_decref(v);
            v = NULL;
        }
    }
    return v;
}

json_t *ev_record__parse(const char *buf, size_t len, size_t npayload,
                         const ev_bundle_options *o, ev_report *r)
{
    /* the items, counted on the text before the parser builds them */
    json_t *rec = NULL;
    if (!refuse_items(r, ev_record__count_items(buf, len), npayload, o)) {
        json_error_t je;
        rec = quick_parse(buf, len);
        if (!rec)
            rec = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(rec)) {
            json_decref(rec);
            rec = NULL;
        } else if (refuse_items(r, json_array_size(json_object_get(rec, "items")), npayload, o)) {
            /* the text fooled the count (an escaped key): the parse decides */
            json_decref(rec);
            rec = NULL;
        }
    }
    return rec;
}

json_t *ev_record__load(const ev_store *s, const ev_bundle_options *o, ev_report *r)
{
    long i = ev_store__find(s, EV_RECORD_FILE);
    if (i < 0)
        return NULL;
    /* the size the container claims, before a byte is allocated */
    if (ev_record__over_size(s, i, o)) {
        ev_report__add(r, EV_SEVERITY_ERROR, "limit-record-size", "evidence.json",
                       "evidence.json holds %llu bytes, over the limit of %llu "
                       "(ev_bundle_options.max_record_size): it is not read, and the bundle "
                       "cannot be checked",
                       (unsigned long long)ev_store__entry(s, (size_t)i)->size,
                       (unsigned long long)o->max_record_size);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    ev_errbuf e;
    if (ev_store__read_all(&buf, &len, s, (size_t)i, ev_record__read_cap(o), &e) != EV_OK)
        return NULL; /* the file is reported by the hashing (unreadable, modified) */
    size_t npayload = 0;
    for (size_t k = 0; k < ev_store__count(s); k++) {
        const ev_store_entry *se = ev_store__entry(s, k);
        if (!se->unsafe && se->type == EV_ENTRY_FILE && ev_bag__is_payload(se->name))
            npayload++;
    }
    json_t *rec = ev_record__parse(buf, len, npayload, o, r);
    free(buf);
    return rec;
}

static const char *str_of(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int ev_record__items(ev_item **out, size_t *n, const json_t *record)
{
    *out = NULL;
    *n = 0;
    json_t *items = json_object_get(record, "items");
    if (!json_is_array(items))
        return EV_OK;
    size_t cnt = json_array_size(items);
    ev_item *v = ev__calloc(cnt, sizeof(*v));
    if (!v)
        return cnt ? EV_ENOMEM : EV_OK;
    size_t got = 0;
    for (size_t k = 0; k < cnt; k++) {
        json_t *it = json_array_get(items, k);
        if (!json_is_object(it))
            continue;
        ev_item *x = &v[got++];
        x->version = EV_ITEM_VERSION;
        x->id = str_of(it, "id");
        x->exhibit = str_of(it, "exhibit");
        x->role = str_of(it, "role");
        x->path = str_of(it, "path");
        x->original_name = str_of(it, "original_name");
        json_t *sz = json_object_get(it, "size");
        x->size = json_is_integer(sz) && json_integer_value(sz) >= 0
                      ? (uint64_t)json_integer_value(sz) : 0;
        x->sha256 = str_of(json_object_get(it, "hashes"), "sha256");
        x->mime = str_of(it, "mime");
        const json_t *df = json_object_get(it, "derived_from");
        x->derived_from = json_is_object(df) ? str_of(df, "item") : NULL;
    }
    *out = v;
    *n = got;
    return EV_OK;
}
