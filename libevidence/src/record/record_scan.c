/*
 * record (scan): evidence.json read in pieces, for readers that must not
 * hold the whole record as a tree (the views): the top-level members other
 * than "items" parsed into one small object, and the items parsed one at a
 * time. The bytes are checked as strictly as json_loadb() would check the
 * whole document. The same code as the views' own reader (views/views.c),
 * moved here so that the record module owns reading evidence.json; see
 * record_read.h.
 */
#include "record/record_read.h"

#include <stdlib.h>
#include <string.h>

#include "base/internal.h"

/* The record is read in pieces, so that a view never holds the whole
 * record as a tree: the top-level members other than "items" are parsed
 * into one small object (the head), and the items are parsed one at a time
 * as they are rendered, each freed before the next. The bytes are checked
 * as strictly as json_loadb() would check the whole document. */

static size_t skip_ws(const char *b, size_t len, size_t i)
{
    while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
        i++;
    return i;
}

/* Skip one array without building it, counting its elements; *end is just
 * after the ']'. Only the structure is followed here: the elements
 * themselves are checked by json_loadb() when they are read. */
static bool skip_array(const char *b, size_t len, size_t i, size_t *end, size_t *count)
{
    size_t depth = 0, n = 0;
    bool any = false;
    for (; i < len; i++) {
        char ch = b[i];
        if (ch == '"') {
            /* to the closing quote: one not preceded by an odd number of
             * backslashes */
            for (;;) {
                const char *q = i + 1 < len ? memchr(b + i + 1, '"', len - i - 1) : NULL;
                if (!q)
                    return false;
                i = (size_t)(q - b);
                size_t bs = 0;
                while (b[i - 1 - bs] == '\\')
                    bs++;
                if (bs % 2 == 0)
                    break;
            }
            if (depth == 1)
                any = true;
        } else if (ch == '[' || ch == '{') {
            if (depth == 1)
                any = true;
            depth++;
        } else if (ch == ']' || ch == '}') {
            if (depth == 0)
                return false;
            if (--depth == 0) {
                *end = i + 1;
                *count = any ? n + 1 : 0;
                return true;
            }
        } else if (ch == ',' && depth == 1) {
            n++;
        } else if (depth == 1 && ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
            any = true;
        }
    }
    return false;
}

/* one JSON value at *pos (any type); *pos moves past it */
static json_t *value_at(const char *b, size_t len, size_t *pos, json_error_t *je)
{
    json_t *v = json_loadb(b + *pos, len - *pos, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, je);
    if (v)
        *pos += (size_t)je->position;
    return v;
}

static int rec_fail(ev_errbuf *err, const json_error_t *je, const char *what)
{
    if (je)
        return ev_err__set(err, EV_EFORMAT, "evidence.json is not a JSON object (line %d: %s)",
                           je->line, je->text);
    return ev_err__set(err, EV_EFORMAT, "evidence.json is not a JSON object (%s)", what);
}

void ev_record__src_free(ev_record_src *r)
{
    json_decref(r->head);
    memset(r, 0, sizeof(*r));
}

/* The head of the record: the top-level object without its items. */
int ev_record__src_open(ev_record_src *r, const char *buf, size_t len, ev_errbuf *err)
{
    memset(r, 0, sizeof(*r));
    r->buf = buf;
    r->len = len;
    json_error_t je;
    size_t i = skip_ws(buf, len, 0);
    if (i >= len || buf[i] != '{')
        return rec_fail(err, NULL, "it does not start with '{'");
    if (!(r->head = json_object()))
        return EV_ENOMEM;
    i = skip_ws(buf, len, i + 1);
    if (i < len && buf[i] == '}') {
        i++;
    } else {
        for (;;) {
            if (i >= len || buf[i] != '"')
                goto bad;
            json_t *k = value_at(buf, len, &i, &je);
            if (!k)
                goto bad_je;
            i = skip_ws(buf, len, i);
            if (i >= len || buf[i] != ':') {
                json_decref(k);
                goto bad;
            }
            i = skip_ws(buf, len, i + 1);
            const char *key = json_string_value(k);
            if (strcmp(key, "items") == 0 && i < len && buf[i] == '[') {
                size_t end = 0, n = 0;
                if (!skip_array(buf, len, i, &end, &n)) {
                    json_decref(k);
                    goto bad;
                }
                json_object_del(r->head, "items");
                r->items_at = i;
                r->items_end = end;
                r->nitems = n;
                i = end;
            } else {
                json_t *v = value_at(buf, len, &i, &je);
                if (!v) {
                    json_decref(k);
                    goto bad_je;
                }
                if (strcmp(key, "items") == 0)
                    r->items_at = r->items_end = r->nitems = 0; /* the last one counts */
                if (json_object_set_new(r->head, key, v) != 0) {
                    json_decref(k);
                    ev_record__src_free(r);
                    return EV_ENOMEM;
                }
            }
            json_decref(k);
            i = skip_ws(buf, len, i);
            if (i < len && buf[i] == ',') {
                i = skip_ws(buf, len, i + 1);
                continue;
            }
            if (i < len && buf[i] == '}') {
                i++;
                break;
            }
            goto bad;
        }
    }
    if (skip_ws(buf, len, i) != len)
        goto bad;
    return EV_OK;
bad_je:
    ev_record__src_free(r);
    return rec_fail(err, &je, NULL);
bad:
    ev_record__src_free(r);
    return rec_fail(err, NULL, "malformed at the top level");
}

/* Items one at a time: *it is a new reference (any JSON type), NULL at the
 * end; *at and *n give its bytes, so that it can be read again. */

void ev_record__items_begin(ev_record_iter *x, const ev_record_src *r)
{
    x->r = r;
    x->pos = r->items_at ? r->items_at + 1 : 0;
    x->index = 0;
}

int ev_record__items_next(ev_record_iter *x, json_t **it, size_t *at, size_t *n, ev_errbuf *err)
{
    *it = NULL;
    const ev_record_src *r = x->r;
    if (!r->items_at)
        return EV_OK;
    size_t i = skip_ws(r->buf, r->items_end, x->pos);
    if (i < r->items_end && r->buf[i] == ']' && i + 1 == r->items_end)
        return EV_OK;
    if (x->index) {
        if (i >= r->items_end || r->buf[i] != ',')
            return rec_fail(err, NULL, "malformed items");
        i = skip_ws(r->buf, r->items_end, i + 1);
    }
    json_error_t je;
    size_t start = i;
    json_t *v = i < r->items_end ? value_at(r->buf, r->items_end - 1, &i, &je) : NULL;
    if (!v)
        return i < r->items_end ? rec_fail(err, &je, NULL) : rec_fail(err, NULL, "malformed items");
    x->pos = i;
    x->index++;
    *it = v;
    if (at)
        *at = start;
    if (n)
        *n = i - start;
    return EV_OK;
}

/* An item read again from its bytes (known to be valid JSON). */
json_t *ev_record__item_again(const ev_record_src *r, size_t at, size_t n)
{
    return json_loadb(r->buf + at, n, JSON_DECODE_ANY, NULL);
}

