/*
 * views_common: what the views need -- the record, parsed with jansson,
 * the custody events, and HTML output with escaping.
 */
#include "views/views_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "record/record.h"

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

void ev_views__rec_free(ev_views__rec *r)
{
    json_decref(r->root);
    memset(r, 0, sizeof(*r));
}

int ev_views__rec_open(ev_views__rec *r, const char *buf, size_t len, ev_errbuf *err)
{
    memset(r, 0, sizeof(*r));
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
        i++;
    if (i >= len || buf[i] != '{')
        return rec_fail(err, NULL, "it does not start with '{'");
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
