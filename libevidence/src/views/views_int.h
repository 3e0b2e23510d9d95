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

/* false only when item i's text certainly holds no member named key (it
 * holds neither "key" nor any escape), without parsing it; true for a
 * record parsed whole. */
bool ev_views__item_may_have(const ev_views__rec *r, size_t i, const char *key);
/* The message for that: jansson's, from the whole text. Returns the code. */
int ev_views__rec_error(const ev_views__rec *r, ev_errbuf *err);

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

/* ---- what index.html and the report both show (views_common.c) ---- */

/* The layouts of index.html (docs/views.md, "Layouts"): verify compares a
 * stored page with the layout it was written in. 1: the pages of 0.1.0
 * written before the page named its layout; 2: exact durations, the full
 * timeline of each video stream, and <meta name="generator"> naming it;
 * 3: the exhibit schedule (a table of the exhibits, and each item's
 * exhibit linked to its row), on a page whose record has exhibits; a page
 * without them is the page of layout 2 and names layout 2. */
#define EV_VIEWS__LAYOUT_FIRST 1
#define EV_VIEWS__LAYOUT 3

/* index.html of r in a given layout (EV_VIEWS__LAYOUT_FIRST ..
 * EV_VIEWS__LAYOUT), appended to out; otherwise as ev_views__write. */
int ev_views__index_render(ev_buf *out, const ev_views__rec *r, const char *custody,
                           size_t custody_len, int layout, ev_errbuf *err);

/* The layouts of case.jsonld (docs/views.md): 1 before the exhibit
 * schedule was shown (its people, places, events and exhibit facts left
 * out), 2 with it. A record without a schedule gives the same bytes in
 * both. */
#define EV_VIEWS__CASE_LAYOUT 2

/* case.jsonld of r in a given layout, appended to out; otherwise as
 * ev_views__write. */
int ev_views__case_render(ev_buf *out, const ev_views__rec *r, const char *custody,
                          size_t custody_len, int layout, ev_errbuf *err);
/* A whole view of r in a layout, into *out (NUL-terminated, caller frees). */
int ev_views__to_memory(char **out, size_t *len, ev_views__view v, const ev_views__rec *r,
                        const char *custody, size_t custody_len, int layout, ev_errbuf *err);

/* A table row <tr><th>k</th><td>v</td></tr>, both escaped; v NULL: none. */
void ev_views__row(ev_views__hbuf *h, const char *k, const char *v);
/* The decimals that show a GPS position as precisely as its source holds
 * it (gps.precision_deg): 6 to 12. */
int ev_views__gps_decimals(const json_t *gps);
/* One custody event as a table row; seq_td is the opening of its first
 * cell ("<td>" or "<td class=\"num\">"). */
void ev_views__custody_row(ev_views__hbuf *h, const json_t *e, const char *seq_td);
/* A number as the shortest decimal text, with at least mindec decimals,
 * that reads back as the same double (so it is exact: "12.5", "0.040"). */
void ev_views__num(ev_views__hbuf *h, double v, int mindec);
/* A duration, exactly and readably: "3600.000 s (1 h 00 min 00 s)",
 * "75.500 s (1 min 15.500 s)", "0.040 s". */
void ev_views__seconds(ev_views__hbuf *h, double s);
/* seconds as HH:MM:SS, with .mmm when there are milliseconds or always */
void ev_views__hms(ev_views__hbuf *h, double s, bool ms_always);
/* The one-line media summary of an item (kind, codecs, sizes, rates,
 * duration; with_capture: capture time, make and model, software, GPS), to
 * be escaped by the caller; layout 1 gives durations to 3 significant
 * digits. NULL when out of memory. */
char *ev_views__media_summary(const json_t *item, int layout, bool with_capture);
/* The timeline of each video stream of item.media (docs/media.md,
 * "Timelines"): its time source (or that it has none), first and last
 * frame, nominal and measured rate, and every gap, discontinuity and
 * picture size change the record holds, each with its frame numbers and
 * times. Nothing for an item without one. */
void ev_views__timelines(ev_views__hbuf *h, const json_t *media);

#endif
