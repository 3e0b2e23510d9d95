/*
 * Private to the views module (views_common.c, jsonld.c, html.c): the
 * record as the views read it, and the custody events.
 */
#ifndef EV_VIEWS_INT_H
#define EV_VIEWS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "views/views.h"

static inline const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The record, parsed whole by jansson; the views read it as untrusted input
 * (any member may be missing or of another type). */
typedef struct ev_views__rec {
    json_t *root;        /* the top-level object */
    const json_t *items; /* its items member when that is an array, else NULL */
    size_t nitems;       /* json_array_size(items) */
} ev_views__rec;

/* Parse the record. EV_OK, EV_EFORMAT (not a JSON object; message in err)
 * or EV_ENOMEM; nothing to free on failure. */
int ev_views__rec_open(ev_views__rec *r, const char *buf, size_t len, ev_errbuf *err);
void ev_views__rec_free(ev_views__rec *r);
/* The record already parsed by the caller (a JSON object; borrowed, a
 * reference is taken until ev_views__rec_free). */
void ev_views__rec_from(ev_views__rec *r, const json_t *root);

/* The custody log's events: one object per line that is a JSON object.
 * EV_OK or EV_ENOMEM. */
int ev_views__load_events(json_t **events, const char *custody, size_t custody_len);

/* An HTML output buffer that remembers a failed allocation, so that one
 * check at the end covers every append (html.c, report_html.c). */
typedef struct ev_views__hbuf {
    ev_buf b;
    bool fail;
} ev_views__hbuf;

void ev_views__happ(ev_views__hbuf *h, const void *d, size_t n);
void ev_views__hput(ev_views__hbuf *h, const char *s);
void ev_views__hprintf(ev_views__hbuf *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* HTML text or attribute value: & < > " ' escaped; NULL -> nothing. Every
 * string from a bundle goes through it. */
void ev_views__esc(ev_views__hbuf *h, const char *s);

#endif
