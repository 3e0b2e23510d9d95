/*
 * views_common: what the views need -- the record, parsed with jansson,
 * the custody events, and HTML output with escaping.
 */
#include "views/views_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "record/record.h"
#include "record/record_read.h"

bool ev_views__is_view(const char *path)
{
    return path && (strcmp(path, EV_VIEW_CASE) == 0 || strcmp(path, EV_VIEW_INDEX) == 0);
}

/* ---- reading the record ----------------------------------------------------- */

static int rec_fail(ev_errbuf *err, const json_error_t *je, const char *what)
{
    if (je)
        return ev_err__set(err, EV_EFORMAT, "evidence.json is not a JSON object (line %d: %s)",
                           je->line, je->text);
    return ev_err__set(err, EV_EFORMAT, "evidence.json is not a JSON object (%s)", what);
}

/* ---- the record read one item at a time ------------------------------------ */

typedef struct span {
    uint64_t off, len;
} span;

struct ev_views__src {
    ev_views__read_fn read;
    void *ctx;
    const char *mem;       /* the whole text, when it is in memory */
    uint64_t len;
    span *items;
    size_t cap;
    char *scratch;
    size_t scap;
    json_t *cur;           /* the item last read, and its position */
    size_t cur_i;
    int rc;                /* EV_EFORMAT or EV_ENOMEM once an item could not be read */
    bool shared;           /* items is another reader's (ev_views__rec_share) */
};

static int64_t mem_read(void *ctx, void *buf, size_t len, uint64_t off)
{
    const ev_views__src *m = ctx;
    if (off >= m->len)
        return 0;
    if (len > m->len - off)
        len = (size_t)(m->len - off);
    memcpy(buf, m->mem + off, len);
    return (int64_t)len;
}

static void src_free(ev_views__src *x)
{
    if (!x)
        return;
    if (!x->shared)
        free(x->items);
    free(x->scratch);
    json_decref(x->cur);
    free(x);
}

void ev_views__rec_free(ev_views__rec *r)
{
    json_decref(r->root);
    src_free(r->src);
    memset(r, 0, sizeof(*r));
}

/* bytes [off, off+len) of the text into the scratch buffer (NUL-terminated) */
static const char *src_bytes(ev_views__src *x, uint64_t off, uint64_t len)
{
    if (x->mem)
        return x->mem + off;
    if (len >= SIZE_MAX || off > x->len || len > x->len - off)
        return NULL;
    if (len + 1 > x->scap) {
        char *p = realloc(x->scratch, (size_t)len + 1);
        if (!p)
            return NULL;
        x->scratch = p;
        x->scap = (size_t)len + 1;
    }
    if (x->read(x->ctx, x->scratch, (size_t)len, off) != (int64_t)len)
        return NULL;
    x->scratch[len] = '\0';
    return x->scratch;
}

const json_t *ev_views__item(const ev_views__rec *r, size_t i)
{
    if (!r->src)
        return json_array_get(r->items, i);
    ev_views__src *x = r->src;
    if (i >= r->nitems || x->rc != EV_OK)
        return NULL;
    if (x->cur && x->cur_i == i)
        return x->cur;
    json_decref(x->cur);
    x->cur = NULL;
    const char *t = src_bytes(x, x->items[i].off, x->items[i].len);
    json_error_t je;
    /* the usual item by the record's quick reader, anything else by jansson */
    x->cur = t ? ev_record__quick_value(t, (size_t)x->items[i].len) : NULL;
    if (t && !x->cur)
        x->cur = json_loadb(t, (size_t)x->items[i].len, JSON_DECODE_ANY, &je);
    if (!x->cur) {
        x->rc = !t || json_error_code(&je) == json_error_out_of_memory ? EV_ENOMEM : EV_EFORMAT;
        return NULL;
    }
    x->cur_i = i;
    return x->cur;
}

bool ev_views__item_may_have(const ev_views__rec *r, size_t i, const char *key)
{
    ev_views__src *x = r->src;
    if (!x || i >= r->nitems)
        return true;
    /* the key as written, or any escape that could spell it */
    const char *t = src_bytes(x, x->items[i].off, x->items[i].len);
    if (!t)
        return true;
    size_t n = (size_t)x->items[i].len, kl = strlen(key);
    for (const char *p = t; (p = memchr(p, '"', (size_t)(t + n - p))) != NULL; p++) {
        if ((size_t)(t + n - p) > kl + 1 && memcmp(p + 1, key, kl) == 0 && p[kl + 1] == '"')
            return true;
    }
    return memchr(t, '\\', n) != NULL;
}

int ev_views__rec_status(const ev_views__rec *r)
{
    return r->src ? r->src->rc : EV_OK;
}

/* A top-level key that may be "items": its raw text between the quotes,
 * decoded when it holds escapes. */
static bool key_is_items(const char *raw, size_t n)
{
    if (n == 5 && memcmp(raw, "items", 5) == 0)
        return true;
    if (!memchr(raw, '\\', n))
        return false;
    char t[80];
    if (n > sizeof(t) - 3)
        return false;
    t[0] = '"';
    memcpy(t + 1, raw, n);
    t[n + 1] = '"';
    json_t *k = json_loadb(t, n + 2, JSON_DECODE_ANY, NULL);
    bool is = json_is_string(k) && json_string_length(k) == 5 &&
              memcmp(json_string_value(k), "items", 5) == 0;
    json_decref(k);
    return is;
}

#define JSON_WS(c) ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')

/* The scan of the text: where the last top-level "items" array is and
 * where each of its elements starts and ends. Only the structure is
 * followed here (strings, nesting, commas); every byte is still parsed by
 * jansson: the head with that array taken out, and each element alone.
 * false when the structure is not that of a JSON object whose items are
 * separated as JSON separates them (the caller then parses the whole text,
 * for jansson's own message). */
typedef struct scan {
    int depth;
    bool in_str, esc;
    bool key_next;        /* at depth 1: a string now is a key */
    bool in_key;
    char key[80];
    size_t keylen;
    bool key_items;       /* the last key read at depth 1 is "items" */
    bool want_value;      /* after that key's ':' */
    bool in_items;        /* inside the items array (depth 2 and below) */
    int64_t el_start;     /* -1: no element begun */
    uint64_t last_nonws;
    bool after_comma;
    bool done;            /* the top-level object closed */
    bool bad;
    span arr;             /* the last items array value: [ to ] inclusive */
    bool have_arr;
    span *el;             /* its elements */
    size_t nel, cap;
    span *cur_el;         /* the array being read */
    size_t cur_n, cur_cap;
} scan;

static bool push_el(scan *s, uint64_t off, uint64_t end)
{
    span *g = ev__grow(s->cur_el, &s->cur_cap, s->cur_n, sizeof(*g), 1024);
    if (!g)
        return false;
    s->cur_el = g;
    s->cur_el[s->cur_n++] = (span){ off, end - off };
    return true;
}

static int scan_bytes(scan *s, const char *p, size_t n, uint64_t base)
{
    for (size_t k = 0; k < n && !s->bad; k++) {
        if (s->in_str && !s->in_key && !s->esc) {
            /* the body of a string (most of a record): nothing in it
             * matters but where it ends or escapes */
            size_t j = k;
            while (j < n && p[j] != '"' && p[j] != '\\')
                j++;
            if (j > k && s->in_items && s->depth >= 2)
                s->last_nonws = base + j - 1;
            if (j == n)
                break;
            k = j;
        }
        char c = p[k];
        uint64_t pos = base + k;
        if (s->done) {
            if (!JSON_WS(c))
                s->bad = true;
            continue;
        }
        if (s->in_str) {
            if (s->in_key) {
                if (s->esc || (c != '"' && c != '\\')) {
                    if (s->keylen < sizeof(s->key))
                        s->key[s->keylen] = c;
                    s->keylen++;
                } else if (c == '\\') {
                    if (s->keylen < sizeof(s->key))
                        s->key[s->keylen] = c;
                    s->keylen++;
                }
            }
            if (s->esc)
                s->esc = false;
            else if (c == '\\')
                s->esc = true;
            else if (c == '"') {
                s->in_str = false;
                if (s->in_key) {
                    s->in_key = false;
                    s->key_items = s->keylen <= sizeof(s->key) && key_is_items(s->key, s->keylen);
                }
            }
            if (s->in_items && s->depth >= 2)
                s->last_nonws = pos;
            continue;
        }
        if (JSON_WS(c))
            continue;
        if (s->depth == 0) {
            if (c != '{')
                s->bad = true;
            s->depth = 1;
            s->key_next = true;
            continue;
        }
        if (s->depth == 1) {
            if (s->key_next) {
                if (c == '"') {
                    s->in_str = s->in_key = true;
                    s->keylen = 0;
                    s->key_next = false;
                } else if (c == '}') {
                    s->depth = 0;
                    s->done = true;
                } else {
                    s->bad = true;
                }
                continue;
            }
            if (c == ':') {
                s->want_value = s->key_items;
                continue;
            }
            if (c == ',') {
                s->key_next = true;
                continue;
            }
            if (c == '}') {
                s->depth = 0;
                s->done = true;
                continue;
            }
            if (s->want_value) {
                s->want_value = false;
                if (c == '[') {
                    s->in_items = true;
                    s->arr.off = pos;
                    s->cur_n = 0;
                    s->el_start = -1;
                    s->after_comma = false;
                    s->depth = 2;
                    continue;
                }
                /* items that is not an array: the views see no items */
                s->have_arr = false;
                s->nel = 0;
            }
            if (c == '"')
                s->in_str = true;
            else if (c == '{' || c == '[')
                s->depth++;
            continue;
        }
        /* depth >= 2 */
        if (s->in_items && s->depth == 2) {
            if (c == ',' || c == ']') {
                if (s->el_start >= 0) {
                    if (!push_el(s, (uint64_t)s->el_start, s->last_nonws + 1))
                        return EV_ENOMEM;
                } else if (c == ',' || s->after_comma) {
                    s->bad = true; /* an empty element */
                    continue;
                }
                s->el_start = -1;
                s->after_comma = c == ',';
                if (c == ']') {
                    s->in_items = false;
                    s->depth = 1;
                    s->arr.len = pos + 1 - s->arr.off;
                    /* this is the items array now (a later one replaces it) */
                    span *t = s->el;
                    size_t tc = s->cap;
                    s->el = s->cur_el;
                    s->nel = s->cur_n;
                    s->cap = s->cur_cap;
                    s->cur_el = t;
                    s->cur_cap = tc;
                    s->cur_n = 0;
                    s->have_arr = true;
                }
                continue;
            }
            if (s->el_start < 0)
                s->el_start = (int64_t)pos;
        }
        if (s->in_items)
            s->last_nonws = pos;
        if (c == '"')
            s->in_str = true;
        else if (c == '{' || c == '[') {
            if (++s->depth > 2000)
                s->bad = true; /* jansson's own limit is near: let it judge */
        } else if (c == '}' || c == ']') {
            s->depth--;
        }
    }
    return EV_OK;
}

int ev_views__rec_read(ev_views__rec *r, ev_views__read_fn read, void *ctx, uint64_t len,
                       ev_errbuf *err)
{
    memset(r, 0, sizeof(*r));
    ev_views__src *x = calloc(1, sizeof(*x));
    if (!x)
        return ev_err__set(err, EV_ENOMEM, "out of memory while reading evidence.json");
    x->read = read;
    x->ctx = ctx;
    x->len = len;
    if (read == mem_read)
        x->mem = ((const ev_views__src *)ctx)->mem;
    scan s;
    memset(&s, 0, sizeof(s));
    s.el_start = -1;
    int rc = EV_OK;
    char *chunk = x->mem ? NULL : malloc(65536);
    if (!x->mem && !chunk)
        rc = EV_ENOMEM;
    for (uint64_t off = 0; rc == EV_OK && off < len && !s.bad;) {
        size_t want = len - off < 65536 ? (size_t)(len - off) : 65536;
        if (x->mem) {
            rc = scan_bytes(&s, x->mem + off, want, off);
        } else {
            int64_t got = read(ctx, chunk, want, off);
            if (got != (int64_t)want) {
                rc = ev_err__set(err, EV_EIO, "cannot read evidence.json back");
                break;
            }
            rc = scan_bytes(&s, chunk, want, off);
        }
        off += want;
    }
    free(chunk);
    free(s.cur_el);
    bool whole = rc == EV_OK && (s.bad || !s.done || s.in_str);
    if (rc == EV_OK && !whole) {
        /* the head: the text without the items array (in its place, []) */
        uint64_t cut = s.have_arr ? s.arr.off : len, rest = s.have_arr ? s.arr.off + s.arr.len : len;
        ev_buf h = { 0 };
        const char *a = NULL;
        if (x->mem) {
            rc = ev_buf__append(&h, x->mem, (size_t)cut);
        } else if ((a = src_bytes(x, 0, cut)) != NULL) {
            rc = ev_buf__append(&h, a, (size_t)cut);
        } else {
            rc = EV_ENOMEM;
        }
        if (rc == EV_OK && s.have_arr)
            rc = ev_buf__append(&h, "[]", 2);
        if (rc == EV_OK && rest < len) {
            a = src_bytes(x, rest, len - rest);
            rc = a ? ev_buf__append(&h, a, (size_t)(len - rest)) : EV_ENOMEM;
        }
        json_error_t je;
        if (rc == EV_OK && !(r->root = json_loadb(h.data ? h.data : "", h.len, 0, &je)))
            rc = json_error_code(&je) == json_error_out_of_memory ? EV_ENOMEM : EV_OK;
        ev_buf__free(&h);
        whole = rc == EV_OK && !r->root;
        /* the scratch buffer held the head: give it back */
        free(x->scratch);
        x->scratch = NULL;
        x->scap = 0;
    }
    if (rc != EV_OK || whole) {
        free(s.el);
        src_free(x);
        json_decref(r->root);
        r->root = NULL;
        if (rc != EV_OK)
            return rc == EV_ENOMEM ? ev_err__set(err, rc, "out of memory while reading "
                                                 "evidence.json") : rc;
        return EV_EFORMAT; /* the caller parses the whole text for the message */
    }
    /* the index is kept while the views are made: no room beyond it */
    if (s.nel) {
        span *fit = realloc(s.el, s.nel * sizeof(*fit));
        if (fit)
            s.el = fit;
    }
    x->items = s.el;
    x->cap = s.nel;
    r->src = x;
    json_t *items = json_object_get(r->root, "items");
    if (json_is_array(items) && s.have_arr)
        r->nitems = s.nel;
    return EV_OK;
}

int ev_views__rec_share(ev_views__rec *r, const ev_views__rec *from)
{
    memset(r, 0, sizeof(*r));
    if (!from->src)
        return EV_EINVAL;
    ev_views__src *x = calloc(1, sizeof(*x));
    /* the head is small: a copy of its own, so that no reference count is
     * shared between threads */
    json_t *root = x ? json_deep_copy(from->root) : NULL;
    if (!root) {
        free(x);
        return EV_ENOMEM;
    }
    const ev_views__src *f = from->src;
    x->read = f->read;
    x->ctx = f->ctx;
    x->mem = f->mem;
    x->len = f->len;
    x->items = f->items;
    x->cap = f->cap;
    x->shared = true;
    r->root = root;
    r->nitems = from->nitems;
    r->src = x;
    return EV_OK;
}

int ev_views__rec_open(ev_views__rec *r, const char *buf, size_t len, ev_errbuf *err)
{
    memset(r, 0, sizeof(*r));
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
        i++;
    if (i >= len || buf[i] != '{')
        return rec_fail(err, NULL, "it does not start with '{'");
    ev_views__src m;
    memset(&m, 0, sizeof(m));
    m.mem = buf;
    m.len = len;
    /* one item at a time; only a text whose structure the scan does not
     * follow is parsed whole, which gives jansson's own message */
    int rc = ev_views__rec_read(r, mem_read, &m, len, err);
    if (r->src)
        r->src->ctx = NULL; /* m is gone; the text is read through mem */
    if (rc != EV_EFORMAT)
        return rc;
    /* as strict as the record's own check: no NUL in strings, and of a
     * member given twice (e.g. items) the last one counts */
    json_error_t je;
    r->root = json_loadb(buf, len, 0, &je);
    if (!r->root)
        return json_error_code(&je) == json_error_out_of_memory ? EV_ENOMEM
                                                                : rec_fail(err, &je, NULL);
    json_t *items = json_object_get(r->root, "items");
    if (json_is_array(items)) {
        r->items = items;
        r->nitems = json_array_size(items);
    }
    return EV_OK;
}

void ev_views__rec_from(ev_views__rec *r, const json_t *root)
{
    memset(r, 0, sizeof(*r));
    r->root = json_incref((json_t *)root);
    json_t *items = json_object_get(r->root, "items");
    if (json_is_array(items)) {
        r->items = items;
        r->nitems = json_array_size(items);
    }
}

/* The message for a record whose items could not all be read one at a
 * time: jansson's, from the whole text. */
int ev_views__rec_error(const ev_views__rec *r, ev_errbuf *err)
{
    ev_views__src *x = r->src;
    if (!x || x->rc == EV_OK)
        return EV_OK;
    if (x->rc == EV_ENOMEM)
        return ev_err__set(err, EV_ENOMEM, "out of memory while reading evidence.json");
    json_error_t je;
    json_t *all = NULL;
    if (x->mem) {
        all = json_loadb(x->mem, (size_t)x->len, 0, &je);
    } else if (x->len < SIZE_MAX) {
        char *t = malloc((size_t)x->len + 1);
        if (t && x->read(x->ctx, t, (size_t)x->len, 0) == (int64_t)x->len)
            all = json_loadb(t, (size_t)x->len, 0, &je);
        else
            je.line = 0, snprintf(je.text, sizeof(je.text), "cannot be read back");
        free(t);
    }
    json_decref(all);
    return all ? rec_fail(err, NULL, "an item is not a JSON value")
               : rec_fail(err, &je, NULL);
}

/* The custody log's events: one object per line that is a JSON object. */
int ev_views__load_events(json_t **events, const char *custody, size_t custody_len)
{
    /* the custody log's own parser: one entry per line, "event" holds the
     * object (or null for a line that is not JSON) */
    json_t *all = NULL;
    size_t n = 0, bad = 0;
    char last[65];
    ev_custody__check(custody ? custody : "", custody ? custody_len : 0, NULL, &n, last, NULL,
                      &all, &bad);
    json_t *ev = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(all, i, e) {
        json_t *o = json_object_get(e, "event");
        if (json_is_object(o))
            json_array_append(ev, o);
    }
    json_decref(all);
    *events = ev;
    return ev ? EV_OK : EV_ENOMEM;
}

/* ---- HTML output ------------------------------------------------------------- */

void ev_views__happ(ev_views__hbuf *h, const void *d, size_t n)
{
    if (!h->fail && ev_buf__append(&h->b, d, n) != EV_OK)
        h->fail = true;
}

void ev_views__hput(ev_views__hbuf *h, const char *s)
{
    ev_views__happ(h, s, strlen(s));
}

void ev_views__hprintf(ev_views__hbuf *h, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) {
        h->fail = true;
    } else if ((size_t)n < sizeof(tmp)) {
        ev_views__happ(h, tmp, (size_t)n);
    } else {
        char *big = malloc((size_t)n + 1);
        if (!big) {
            h->fail = true;
            return;
        }
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        ev_views__happ(h, big, (size_t)n);
        free(big);
    }
}

void ev_views__esc(ev_views__hbuf *h, const char *s)
{
    if (!s)
        return;
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': ev_views__hput(h, "&amp;"); break;
        case '<': ev_views__hput(h, "&lt;"); break;
        case '>': ev_views__hput(h, "&gt;"); break;
        case '"': ev_views__hput(h, "&quot;"); break;
        case '\'': ev_views__hput(h, "&#39;"); break;
        default: ev_views__happ(h, p, 1); break;
        }
    }
}

/* ---- what index.html and the report both show ---------------------------------- */

typedef ev_views__hbuf hbuf;
#define hput ev_views__hput
#define hprintf ev_views__hprintf
#define esc ev_views__esc

void ev_views__row(hbuf *b, const char *k, const char *v)
{
    if (!v)
        return;
    hput(b, "<tr><th>");
    esc(b, k);
    hput(b, "</th><td>");
    esc(b, v);
    hput(b, "</td></tr>\n");
}

int ev_views__gps_decimals(const json_t *g)
{
    double prec = json_number_value(json_object_get(g, "precision_deg"));
    int dec = 6;
    while (prec > 0 && dec < 12 && prec < 0.5 * pow(10.0, -dec))
        dec++;
    return dec;
}

void ev_views__custody_row(hbuf *b, const json_t *e, const char *seq_td)
{
    hput(b, "<tr>");
    hput(b, seq_td);
    if (json_is_integer(json_object_get(e, "seq")))
        hprintf(b, "%lld", (long long)json_integer_value(json_object_get(e, "seq")));
    hput(b, "</td><td>");
    esc(b, jstr(e, "time"));
    hput(b, "</td><td>");
    esc(b, jstr(e, "action"));
    hput(b, "</td><td>");
    esc(b, jstr(e, "actor"));
    hput(b, "</td><td>");
    esc(b, jstr(e, "organisation"));
    hput(b, "</td><td>");
    esc(b, jstr(e, "tool"));
    if (jstr(e, "tool_version")) {
        hput(b, " ");
        esc(b, jstr(e, "tool_version"));
    }
    hput(b, "</td><td>");
    esc(b, jstr(e, "note"));
    hput(b, "</td></tr>\n");
}

/* the text of ev_views__num in buf (at least 32 bytes) */
static void num_str(char *buf, size_t len, double v, int mindec)
{
    if (!isfinite(v)) {
        snprintf(buf, len, "?");
        return;
    }
    if (fabs(v) < 1e15) {
        for (int d = mindec; d <= 9; d++) {
            snprintf(buf, len, "%.*f", d, v);
            if (strtod(buf, NULL) == v)
                return;
        }
    }
    snprintf(buf, len, "%.17g", v);
}

void ev_views__num(hbuf *b, double v, int mindec)
{
    char buf[64];
    num_str(buf, sizeof(buf), v, mindec);
    hput(b, buf);
}

void ev_views__seconds(hbuf *b, double s)
{
    char buf[64];
    num_str(buf, sizeof(buf), s, 3);
    hput(b, buf);
    hput(b, " s");
    /* hours, minutes and seconds from the same digits: the whole seconds
     * and the decimals as written */
    const char *dot = strchr(buf, '.');
    if (!isfinite(s) || s < 60 || s >= 1e15 || !dot || strchr(buf, 'e'))
        return;
    long long whole = strtoll(buf, NULL, 10);
    const char *frac = dot;
    bool zero = true;
    for (const char *p = dot + 1; *p; p++)
        zero = zero && *p == '0';
    if (whole >= 3600)
        hprintf(b, " (%lld h %02lld min %02lld%s s)", whole / 3600, whole / 60 % 60, whole % 60,
                zero ? "" : frac);
    else
        hprintf(b, " (%lld min %02lld%s s)", whole / 60, whole % 60, zero ? "" : frac);
}

void ev_views__hms(hbuf *t, double s, bool ms_always)
{
    if (!isfinite(s) || s < 0 || s > 1e12)
        return;
    long long ms = llround(s * 1000.0);
    hprintf(t, "%02lld:%02lld:%02lld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60);
    if (ms % 1000 || ms_always)
        hprintf(t, ".%03lld", ms % 1000);
}

static void num_text(hbuf *t, const json_t *v, const char *unit)
{
    if (json_is_integer(v))
        hprintf(t, "%lld%s", (long long)json_integer_value(v), unit);
    else if (json_is_real(v) && isfinite(json_real_value(v)))
        hprintf(t, "%.3g%s", json_real_value(v), unit);
}

char *ev_views__media_summary(const json_t *it, int layout, bool with_capture)
{
    hbuf t = { { 0 }, false };
    const json_t *m = json_object_get(it, "media");
    if (jstr(m, "error")) {
        hprintf(&t, "not analysed: %s", jstr(m, "error"));
    } else if (json_is_object(m)) {
        hput(&t, jstr(m, "kind") ? jstr(m, "kind") : "media");
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(m, "streams"), i, s) {
            const char *ty = jstr(s, "type");
            if (!ty || (strcmp(ty, "video") && strcmp(ty, "audio")))
                continue;
            hprintf(&t, "; %s", jstr(s, "codec") ? jstr(s, "codec") : ty);
            if (!strcmp(ty, "video") && json_is_integer(json_object_get(s, "width")) &&
                json_is_integer(json_object_get(s, "height")))
                hprintf(&t, " %lldx%lld",
                               (long long)json_integer_value(json_object_get(s, "width")),
                               (long long)json_integer_value(json_object_get(s, "height")));
            if (!strcmp(ty, "video") && jstr(s, "avg_frame_rate") &&
                strcmp(jstr(m, "kind") ? jstr(m, "kind") : "", "image"))
                /* a stream with no time source: the rate is FFmpeg's assumption */
                hprintf(&t, " %s fps%s", jstr(s, "avg_frame_rate"),
                        jstr(json_object_get(s, "timeline"), "time_source") &&
                                !strcmp(jstr(json_object_get(s, "timeline"), "time_source"),
                                        "none")
                            ? " (assumed, not measured)"
                            : "");
            if (!strcmp(ty, "audio")) {
                if (json_is_integer(json_object_get(s, "sample_rate"))) {
                    hput(&t, " ");
                    num_text(&t, json_object_get(s, "sample_rate"), " Hz");
                }
                if (json_is_integer(json_object_get(s, "channels"))) {
                    hput(&t, " ");
                    num_text(&t, json_object_get(s, "channels"), " ch");
                }
            }
        }
        /* a still has no duration (older records carry FFmpeg's 0.04 s) */
        const json_t *d = json_object_get(m, "duration");
        if (json_is_number(d) && strcmp(jstr(m, "kind") ? jstr(m, "kind") : "", "image") != 0) {
            hput(&t, "; ");
            if (layout < 2)
                num_text(&t, d, " s");
            else if (isfinite(json_number_value(d)))
                ev_views__seconds(&t, json_number_value(d));
        }
    }
    const json_t *c = with_capture ? json_object_get(it, "capture") : NULL;
    if (json_is_object(c)) {
        /* a time is shown with what is known of its zone */
        const char *when = jstr(c, "datetime_original");
        const char *zone = jstr(c, "datetime_original_zone");
        if (when)
            hprintf(&t, "%scaptured %s%s", t.b.len ? "; " : "", when,
                    zone && !strcmp(zone, "utc-by-format")
                        ? " (UTC as the file format defines it; the device may have written "
                          "local time)"
                        : "");
        else if ((when = jstr(c, "datetime_original_local")))
            hprintf(&t, "%scaptured %s camera-local time, zone unknown", t.b.len ? "; " : "",
                    when);
        if (jstr(c, "make") || jstr(c, "model"))
            hprintf(&t, "%s%s%s%s", t.b.len ? "; " : "", jstr(c, "make") ? jstr(c, "make") : "",
                           jstr(c, "make") && jstr(c, "model") ? " " : "",
                           jstr(c, "model") ? jstr(c, "model") : "");
        /* the software that last wrote the file: shows editing */
        if (jstr(c, "software"))
            hprintf(&t, "%ssoftware %s", t.b.len ? "; " : "", jstr(c, "software"));
        const json_t *g = json_object_get(c, "gps");
        json_t *la = json_object_get(g, "latitude"), *lo = json_object_get(g, "longitude");
        if (json_is_number(la) && json_is_number(lo) && isfinite(json_number_value(la)) &&
            isfinite(json_number_value(lo))) {
            /* as many decimals as the source holds (6 to 12) */
            int dec = ev_views__gps_decimals(g);
            hprintf(&t, "%sGPS %.*f, %.*f", t.b.len ? "; " : "", dec, json_number_value(la),
                    dec, json_number_value(lo));
        } else if (json_is_true(json_object_get(g, "placeholder"))) {
            hprintf(&t, "%sGPS placeholder (no position recorded)", t.b.len ? "; " : "");
        }
    }
    if (t.fail) {
        ev_buf__free(&t.b);
        return NULL;
    }
    return t.b.data ? t.b.data : ev__strdup("");
}

/* ---- timelines ------------------------------------------------------------------ */

static bool has_num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) && isfinite(json_number_value(v));
}

static long long int_of(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* a new line in a timeline block: none is needed right after a list */
static void tl_line(hbuf *b)
{
    if (!(b->b.len >= 5 && !memcmp(b->b.data + b->b.len - 5, "</ol>", 5)))
        hput(b, "<br>");
}

/* a frame's time: the camera's wall-clock stamp when the record holds one,
 * else seconds on the stream clock with the time since the first frame */
static void tl_time(hbuf *b, const json_t *tl, const json_t *e, const char *key,
                    const char *wkey)
{
    if (jstr(e, wkey)) {
        esc(b, jstr(e, wkey));
        return;
    }
    if (!has_num(e, key)) {
        hput(b, "an unknown time");
        return;
    }
    double v = json_number_value(json_object_get(e, key));
    ev_views__num(b, v, 3);
    hput(b, " s");
    if (has_num(tl, "first") && v >= json_number_value(json_object_get(tl, "first"))) {
        hput(b, " [+");
        ev_views__hms(b, v - json_number_value(json_object_get(tl, "first")), true);
        hput(b, "]");
    }
}

/* "frame 9000 at 720.420 s [+00:12:00.420] and frame 9001 at ..." */
static void tl_between(hbuf *b, const json_t *tl, const json_t *e)
{
    long long k = int_of(e, "after_frame");
    hprintf(b, "frame %lld at ", k);
    tl_time(b, tl, e, "from", "from_wallclock");
    hprintf(b, " and frame %lld at ", k + 1);
    tl_time(b, tl, e, "to", "to_wallclock");
}

static void tl_fps(hbuf *b, const json_t *tl, const char *k)
{
    if (has_num(tl, k)) {
        ev_views__num(b, json_number_value(json_object_get(tl, k)), 0);
        hput(b, " fps");
    } else {
        hput(b, "unknown");
    }
}

static void tl_events(hbuf *b, const json_t *tl)
{
    long long ng = int_of(tl, "gaps_total"), nd = int_of(tl, "discontinuities_total");
    const json_t *gaps = json_object_get(tl, "gaps"), *disc = json_object_get(tl, "discontinuities");
    if (ng > 0) {
        hprintf(b, "<br><strong>%lld gap%s", ng, ng == 1 ? "" : "s");
        if (has_num(tl, "missing")) {
            hput(b, ", ");
            ev_views__seconds(b, json_number_value(json_object_get(tl, "missing")));
            hput(b, " missing");
        }
        hput(b, "</strong>");
    } else {
        hput(b, "<br>no gap");
    }
    if (nd > 0)
        hprintf(b, "; <strong>%lld discontinuit%s</strong> (time going back or standing still)",
                nd, nd == 1 ? "y" : "ies");
    else
        hput(b, "; no discontinuity");
    size_t i;
    json_t *e;
    if (json_array_size(gaps)) {
        hput(b, "\n<ol class=\"gaps\">\n");
        json_array_foreach(gaps, i, e) {
            hprintf(b, "<li>gap after frame %lld: ", int_of(e, "after_frame"));
            if (has_num(e, "missing"))
                ev_views__seconds(b, json_number_value(json_object_get(e, "missing")));
            hput(b, " missing, between ");
            tl_between(b, tl, e);
            hput(b, "</li>\n");
        }
        hput(b, "</ol>");
    }
    if (json_array_size(disc)) {
        hput(b, "\n<ol class=\"discontinuities\">\n");
        json_array_foreach(disc, i, e) {
            const char *kind = jstr(e, "kind");
            hprintf(b, "<li>discontinuity after frame %lld: time %s", int_of(e, "after_frame"),
                    kind && !strcmp(kind, "repeat") ? "stands still" : "goes back");
            if (has_num(e, "step") && json_number_value(json_object_get(e, "step")) < 0) {
                hput(b, " by ");
                ev_views__seconds(b, -json_number_value(json_object_get(e, "step")));
            }
            hput(b, ", between ");
            tl_between(b, tl, e);
            hput(b, "</li>\n");
        }
        hput(b, "</ol>");
    }
    if ((long long)json_array_size(gaps) < ng) {
        tl_line(b);
        hprintf(b, "The record lists only the first %zu of the %lld gaps.",
                json_array_size(gaps), ng);
    }
    if ((long long)json_array_size(disc) < nd) {
        tl_line(b);
        hprintf(b, "The record lists only the first %zu of the %lld discontinuities.",
                json_array_size(disc), nd);
    }
}

static void tl_sizes(hbuf *b, const json_t *tl)
{
    const json_t *sc = json_object_get(tl, "size_changes");
    long long n = int_of(tl, "size_changes_total");
    if (!json_is_integer(json_object_get(tl, "size_changes_total"))) {
        tl_line(b);
        hput(b, "picture size changes: not looked for (the frames were not decoded)");
        return;
    }
    if (n <= 0)
        return;
    tl_line(b);
    hprintf(b, "<strong>picture size changes %lld time%s</strong>", n, n == 1 ? "" : "s");
    hput(b, "\n<ol class=\"size-changes\">\n");
    size_t i;
    json_t *e;
    json_array_foreach(sc, i, e) {
        hprintf(b, "<li>from frame %lld", int_of(e, "frame"));
        if (has_num(e, "time")) {
            hput(b, " at ");
            tl_time(b, tl, e, "time", "time_wallclock");
        }
        hprintf(b, ": %lldx%lld to %lldx%lld</li>\n", int_of(e, "from_width"),
                int_of(e, "from_height"), int_of(e, "width"), int_of(e, "height"));
    }
    hput(b, "</ol>");
    if ((long long)json_array_size(sc) < n) {
        tl_line(b);
        hprintf(b, "The record lists only the first %zu of them.", json_array_size(sc));
    }
}

static void one_timeline(hbuf *b, long long index, const json_t *tl)
{
    const char *src = jstr(tl, "time_source");
    bool none = src && !strcmp(src, "none");
    bool wall = src && !strcmp(src, "frame-stamps");
    hprintf(b, "<div class=\"timeline\"><b>Timeline of stream %lld</b>: ", index);
    if (none || !src) {
        hput(b, "<strong>no time source</strong>: ");
        esc(b, jstr(tl, "note") ? jstr(tl, "note") : "no frame carries a time");
        hprintf(b, ".<br>%lld frames", int_of(tl, "frames"));
        if (has_num(tl, "assumed_fps")) {
            hput(b, ", numbered by FFmpeg at an assumed ");
            tl_fps(b, tl, "assumed_fps");
            hput(b, " (not measured)");
        }
        hput(b, "; no first or last time, no measured frame rate, and missing frames cannot "
                "be seen");
        tl_sizes(b, tl);
        hput(b, "</div>\n");
        return;
    }
    hput(b, wall ? "time source: per-frame wall-clock stamps of the camera (local time, zone "
                   "unknown)"
                 : "time source: the container's timestamps (seconds on the stream clock; "
                   "[+] is the time since the first frame)");
    hprintf(b, "<br>%lld frames", int_of(tl, "frames"));
    if (json_is_integer(json_object_get(tl, "frames_untimed")))
        hprintf(b, " (%lld without a time of their own, timed as the frame before plus its "
                "duration)", int_of(tl, "frames_untimed"));
    hput(b, "; first frame at ");
    tl_time(b, tl, tl, "first", "first_wallclock");
    hput(b, ", last frame at ");
    tl_time(b, tl, tl, "last", "last_wallclock");
    if (has_num(tl, "first") && has_num(tl, "last") &&
        json_number_value(json_object_get(tl, "last")) >=
            json_number_value(json_object_get(tl, "first"))) {
        /* the record's times are to the microsecond: so is their difference */
        hput(b, "; from the first to the last frame ");
        ev_views__seconds(b, round((json_number_value(json_object_get(tl, "last")) -
                                    json_number_value(json_object_get(tl, "first"))) * 1e6) /
                                 1e6);
    }
    hput(b, "<br>frame rate: nominal ");
    tl_fps(b, tl, "nominal_fps");
    hput(b, ", measured ");
    tl_fps(b, tl, "measured_fps");
    tl_events(b, tl);
    if (json_is_integer(json_object_get(tl, "stamp_jitter"))) {
        tl_line(b);
        hprintf(b, "%lld frame time%s one or two frames off and taken back by the next "
                "frames (a stamp given to the wrong frame, not a gap)",
                int_of(tl, "stamp_jitter"), int_of(tl, "stamp_jitter") == 1 ? "" : "s");
    }
    if (json_is_integer(json_object_get(tl, "impossible_stamps"))) {
        tl_line(b);
        hprintf(b, "%lld frame stamp%s with an impossible date (before 2000), timed from "
                "the frame before", int_of(tl, "impossible_stamps"),
                int_of(tl, "impossible_stamps") == 1 ? "" : "s");
    }
    tl_sizes(b, tl);
    if (json_is_true(json_object_get(tl, "incomplete"))) {
        tl_line(b);
        hput(b, "<strong>The stream was not read to its end</strong>: the timeline covers "
                "what was read");
    }
    hput(b, "</div>\n");
}

void ev_views__timelines(hbuf *b, const json_t *media)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(media, "streams"), i, s) {
        const json_t *tl = json_object_get(s, "timeline");
        if (json_is_object(tl))
            one_timeline(b, json_is_integer(json_object_get(s, "index"))
                                ? (long long)json_integer_value(json_object_get(s, "index"))
                                : (long long)i,
                         tl);
    }
}
