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

/* The record is read in pieces, so that a view never holds the whole
 * record as a tree: the top-level members other than "items" are parsed
 * into one small object (the head), and the items are parsed one at a time
 * as they are rendered, each freed before the next. The bytes are checked
 * as strictly as json_loadb() would check the whole document. */
typedef struct ev_views__rec {
    const char *buf;
    size_t len;
    json_t *head;        /* every top-level member except an items array */
    size_t items_at;     /* offset of the '[' of the (last) items array, or 0 */
    size_t items_end;    /* offset just after its ']' */
    size_t nitems;       /* its elements, counted while skipping it */
} ev_views__rec;

/* The head of the record: the top-level object without its items.
 * EV_OK, EV_EFORMAT (message in err) or EV_ENOMEM; nothing to free on
 * failure. */
int ev_views__rec_open(ev_views__rec *r, const char *buf, size_t len, ev_errbuf *err);
void ev_views__rec_free(ev_views__rec *r);

/* Items one at a time: *it is a new reference (any JSON type), NULL at the
 * end; *at and *n give its bytes, so that it can be read again. */
typedef struct ev_views__item_iter {
    const ev_views__rec *r;
    size_t pos, index;
} ev_views__item_iter;

void ev_views__items_begin(ev_views__item_iter *x, const ev_views__rec *r);
int ev_views__items_next(ev_views__item_iter *x, json_t **it, size_t *at, size_t *n,
                         ev_errbuf *err);
/* An item read again from its bytes (known to be valid JSON). */
json_t *ev_views__item_again(const ev_views__rec *r, size_t at, size_t n);

/* The custody log's events: one object per line that is a JSON object.
 * EV_OK or EV_ENOMEM. */
int ev_views__load_events(json_t **events, const char *custody, size_t custody_len);

#endif
