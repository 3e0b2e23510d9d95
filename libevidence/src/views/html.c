/*
 * html: index.html, a human index of the bundle record (docs/views.md).
 * Every fact comes from evidence.json and custody.jsonl; every string in
 * them may be hostile (markup, quotes, control characters) and is escaped.
 */
#include "views/views_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* ---- index.html ---------------------------------------------------------------- */

/* the output buffer and the escaping are shared with report_html.c
 * (views_common.c) */
typedef ev_views__hbuf hbuf;
#define happ ev_views__happ
#define hput ev_views__hput
#define hprintf ev_views__hprintf
#define esc ev_views__esc

static void esc_or(hbuf *b, const char *s, const char *dflt)
{
    if (s)
        esc(b, s);
    else
        hput(b, dflt);
}

/* A relative link into the bag: only a plain relative path under data/
 * with no "." or ".." segment gets one; every byte outside
 * A-Z a-z 0-9 - . _ ~ / is percent-encoded (so ':' '?' '#' '%' never act). */
static bool link_ok(const char *p, const char *under)
{
    if (!p || strncmp(p, under, strlen(under)) != 0)
        return false;
    const char *s = p;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        s += n;
        if (*s == '/')
            s++;
    }
    return p[strlen(p) - 1] != '/';
}

static void href(hbuf *b, const char *p)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *s = (const unsigned char *)p; *s; s++) {
        unsigned char ch = *s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '/') {
            happ(b, s, 1);
        } else {
            char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };
            happ(b, e, 3);
        }
    }
}

#define row ev_views__row

/* Layout 1 (docs/views.md, "Layouts"): "timeline: 2 gaps: 00:12:00 missing
 * after frame 9000 (...)" for each video stream with a timeline, at most 10
 * gaps. Kept to check the pages written in it. */
static void num_text(hbuf *t, const json_t *v, const char *unit)
{
    if (json_is_integer(v))
        hprintf(t, "%lld%s", (long long)json_integer_value(v), unit);
    else if (json_is_real(v) && isfinite(json_real_value(v)))
        hprintf(t, "%.3g%s", json_real_value(v), unit);
}

static void timeline_lines_v1(hbuf *b, const json_t *it)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(json_object_get(it, "media"), "streams"), i, s) {
        const json_t *tl = json_object_get(s, "timeline");
        if (!json_is_object(tl))
            continue;
        hbuf t = { { 0 }, false };
        const char *src = jstr(tl, "time_source");
        if (src && !strcmp(src, "none")) {
            hput(&t, "timeline: no time source");
            if (json_is_number(json_object_get(tl, "assumed_fps"))) {
                hput(&t, " (FFmpeg assumed ");
                num_text(&t, json_object_get(tl, "assumed_fps"), " fps");
                hput(&t, "; no frame rate can be measured)");
            }
        } else {
            long long ng = (long long)json_integer_value(json_object_get(tl, "gaps_total"));
            long long nd =
                (long long)json_integer_value(json_object_get(tl, "discontinuities_total"));
            bool wall = src && !strcmp(src, "frame-stamps");
            hprintf(&t, "timeline (%s): ", wall ? "camera clock stamps, zone unknown"
                                               : "container timestamps");
            if (ng == 0)
                hput(&t, "no gaps");
            else
                hprintf(&t, "%lld gap%s: ", ng, ng == 1 ? "" : "s");
            size_t k;
            json_t *g;
            json_array_foreach(json_object_get(tl, "gaps"), k, g) {
                if (k == 10) {
                    hprintf(&t, ", and %lld more", ng - 10);
                    break;
                }
                if (k)
                    hput(&t, ", ");
                ev_views__hms(&t, json_number_value(json_object_get(g, "missing")), false);
                hprintf(&t, " missing after frame %lld",
                        (long long)json_integer_value(json_object_get(g, "after_frame")));
                if (jstr(g, "from_wallclock"))
                    hprintf(&t, " (%s to %s)", jstr(g, "from_wallclock"),
                            jstr(g, "to_wallclock") ? jstr(g, "to_wallclock") : "?");
                else {
                    hput(&t, " (at ");
                    ev_views__hms(&t, json_number_value(json_object_get(g, "from")) -
                                     json_number_value(json_object_get(tl, "first")), false);
                    hput(&t, ")");
                }
            }
            if (nd)
                hprintf(&t, "; %lld discontinuit%s (time going back or repeating)", nd,
                        nd == 1 ? "y" : "ies");
            if (json_is_number(json_object_get(tl, "measured_fps"))) {
                hput(&t, "; measured ");
                num_text(&t, json_object_get(tl, "measured_fps"), " fps");
            }
            if (json_is_true(json_object_get(tl, "incomplete")))
                hput(&t, "; stream not read to its end");
        }
        if (t.fail)
            b->fail = true;
        hput(b, "<br><small>");
        esc(b, t.b.data);
        hput(b, "</small>");
        ev_buf__free(&t.b);
    }
}

/* The item's thumbnail, when the record lists one among its meta files
 * (meta/<item>/thumb.jpg): a relative image, percent-encoded like links. */
static void thumb(hbuf *b, const json_t *it)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(it, "meta"), i, m) {
        const char *p = json_string_value(m);
        size_t n = p ? strlen(p) : 0;
        if (n < 15 || strcmp(p + n - 10, "/thumb.jpg") != 0 || !link_ok(p, "meta/"))
            continue;
        const json_t *t = json_object_get(json_object_get(it, "media"), "thumbnail");
        json_t *w = json_object_get(t, "width"), *h = json_object_get(t, "height");
        hput(b, "<img src=\"");
        href(b, p);
        hput(b, "\" alt=\"thumbnail of ");
        esc(b, jstr(it, "original_name") ? jstr(it, "original_name") : jstr(it, "id"));
        hput(b, "\"");
        if (json_is_integer(w) && json_is_integer(h) && json_integer_value(w) > 0 &&
            json_integer_value(w) <= 4096 && json_integer_value(h) > 0 &&
            json_integer_value(h) <= 4096)
            hprintf(b, " width=\"%lld\" height=\"%lld\"", (long long)json_integer_value(w),
                    (long long)json_integer_value(h));
        hput(b, "><br>");
        return;
    }
}

/* ---- the exhibit schedule (layout 3; docs/exhibit-schedule.md, "How it is
 * carried in the record") ---- */

/* The record's people, places and events by id, its exhibits by reference
 * (first one wins; the record check reports duplicates), and the items of
 * each exhibit. Built once, so the page stays linear in the record. */
typedef struct exidx {
    json_t *people, *places, *events; /* id -> node (borrowed through a reference) */
    json_t *exhibits;                 /* reference -> position in exhibits */
    json_t *files;                    /* position (as text) -> array of item positions */
    const json_t *list;               /* the record's exhibits */
} exidx;

static void exidx_free(exidx *x)
{
    json_decref(x->people);
    json_decref(x->places);
    json_decref(x->events);
    json_decref(x->exhibits);
    json_decref(x->files);
    memset(x, 0, sizeof(*x));
}

static int by_id(json_t **map, const json_t *list, const char *key)
{
    *map = json_object();
    if (!*map)
        return EV_ENOMEM;
    size_t i;
    json_t *n;
    json_array_foreach(list, i, n) {
        const char *id = jstr(n, key);
        if (!id || json_object_get(*map, id))
            continue;
        if (json_object_set_new(*map, id, !strcmp(key, "reference") ? json_integer((json_int_t)i)
                                                                     : json_incref(n)))
            return EV_ENOMEM;
    }
    return EV_OK;
}

static int exidx_build(exidx *x, const ev_views__rec *r)
{
    const json_t *rec = r->root;
    memset(x, 0, sizeof(*x));
    x->list = json_object_get(rec, "exhibits");
    if (by_id(&x->people, json_object_get(rec, "people"), "id") ||
        by_id(&x->places, json_object_get(rec, "places"), "id") ||
        by_id(&x->events, json_object_get(rec, "events"), "id") ||
        by_id(&x->exhibits, json_object_get(rec, "exhibits"), "reference") ||
        !(x->files = json_object()))
        return EV_ENOMEM;
    for (size_t i = 0; i < r->nitems; i++) {
        const char *ref = jstr(ev_views__item(r, i), "exhibit");
        const json_t *k = ref ? json_object_get(x->exhibits, ref) : NULL;
        if (!k)
            continue;
        char key[32];
        snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(k));
        json_t *a = json_object_get(x->files, key);
        if (!a && (!(a = json_array()) || json_object_set_new(x->files, key, a)))
            return EV_ENOMEM;
        if (json_array_append_new(a, json_integer((json_int_t)i)))
            return EV_ENOMEM;
    }
    return EV_OK;
}

/* A coordinate as recorded: a number with the fewest decimals that read
 * back as it (up to 17; beyond, or from 1e15, the fewest significant
 * digits), a string as it is. */
static void coord(hbuf *b, const json_t *v)
{
    if (json_is_string(v)) {
        esc(b, json_string_value(v));
    } else if (json_is_integer(v)) {
        hprintf(b, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v) && isfinite(json_real_value(v))) {
        double x = json_real_value(v);
        char t[64];
        bool found = false;
        for (int d = 0; !found && fabs(x) < 1e15 && d <= 17; d++) {
            snprintf(t, sizeof(t), "%.*f", d, x);
            found = strtod(t, NULL) == x;
        }
        for (int d = 1; !found && d <= 17; d++) {
            snprintf(t, sizeof(t), "%.*g", d, x);
            found = strtod(t, NULL) == x;
        }
        hput(b, t);
    }
}

/* An event's time as the record has it (pre "" or "end_"): the time with
 * its offset, or the clock time as written, each with the record's zone
 * state; not_known when it says the time is not known; nothing when it
 * says nothing.
 * Returns whether anything was written. */
static bool ev_time(hbuf *b, const json_t *ev, const char *pre, const char *not_known)
{
    char k[32];
    snprintf(k, sizeof(k), "%stime", pre);
    const char *t = jstr(ev, k);
    snprintf(k, sizeof(k), "%stime_local", pre);
    const char *loc = jstr(ev, k);
    snprintf(k, sizeof(k), "%stime_zone", pre);
    const char *zone = jstr(ev, k);
    snprintf(k, sizeof(k), "%stime_unknown", pre);
    bool unknown = json_is_true(json_object_get(ev, k));
    if (t || loc) {
        hput(b, "<span class=\"t\">");
        esc(b, t ? t : loc);
        hput(b, "</span> (zone ");
        esc_or(b, zone, "not recorded");
        hput(b, ")");
        if (unknown)
            hput(b, "; also marked not known");
        return true;
    }
    if (unknown) {
        hput(b, not_known);
        return true;
    }
    return false;
}

/* a line "<label>: value" of a cell, the value escaped; nothing for NULL */
static void line(hbuf *b, bool *first, const char *label, const char *v)
{
    if (!v)
        return;
    if (!*first)
        hput(b, "<br>");
    *first = false;
    hput(b, label);
    esc(b, v);
}

static const json_t *ref_node(const json_t *map, const json_t *from, const char *key)
{
    const char *id = jstr(from, key);
    return id ? json_object_get(map, id) : NULL;
}

/* "<action> <time>" of an exhibit's event, for the item rows */
static void event_brief(hbuf *b, const exidx *x, const json_t *ex)
{
    const json_t *ev = ref_node(x->events, ex, "event");
    if (!ev)
        return;
    bool any = false;
    if (jstr(ev, "action")) {
        esc(b, jstr(ev, "action"));
        any = true;
    }
    hbuf t = { { 0 }, false };
    if (ev_time(&t, ev, "", "time not known") && t.b.len) {
        hput(b, any ? " " : "");
        happ(b, t.b.data, t.b.len);
    }
    if (t.fail)
        b->fail = true;
    ev_buf__free(&t.b);
}

static void exhibit_event(hbuf *b, const exidx *x, const json_t *ex)
{
    const char *eid = jstr(ex, "event");
    const json_t *ev = ref_node(x->events, ex, "event");
    if (!ev) {
        if (eid) {
            hput(b, "event ");
            esc(b, eid);
            hput(b, " is not in the record");
        }
        return;
    }
    bool first = true;
    line(b, &first, "action: ", jstr(ev, "action"));
    const char *pid = jstr(ev, "performer");
    const json_t *p = ref_node(x->people, ev, "performer");
    if (pid) {
        hput(b, first ? "by: " : "<br>by: ");
        first = false;
        if (!p) {
            esc(b, pid);
            hput(b, " (not in the record)");
        } else {
            esc_or(b, jstr(p, "name"), "(no name)");
            if (jstr(p, "identifier")) {
                hput(b, " (");
                esc(b, jstr(p, "identifier"));
                hput(b, ")");
            }
            if (jstr(p, "organisation")) {
                hput(b, ", ");
                esc(b, jstr(p, "organisation"));
            }
        }
    }
    line(b, &first, "role: ", jstr(ev, "performer_role"));
    hbuf t = { { 0 }, false };
    if (ev_time(&t, ev, "", "not known") && t.b.len) {
        hput(b, first ? "time: " : "<br>time: ");
        first = false;
        happ(b, t.b.data, t.b.len);
    }
    t.b.len = 0;
    if (ev_time(&t, ev, "end_", "not known") && t.b.len) {
        hput(b, first ? "until: " : "<br>until: ");
        happ(b, t.b.data, t.b.len);
    }
    if (t.fail)
        b->fail = true;
    ev_buf__free(&t.b);
}

static void exhibit_place(hbuf *b, const exidx *x, const json_t *ex)
{
    const json_t *ev = ref_node(x->events, ex, "event");
    const char *plid = jstr(ev, "place");
    const json_t *pl = ref_node(x->places, ev, "place");
    if (!pl) {
        if (plid) {
            hput(b, "place ");
            esc(b, plid);
            hput(b, " is not in the record");
        }
        return;
    }
    bool first = true;
    line(b, &first, "", jstr(pl, "description"));
    line(b, &first, "", jstr(pl, "address"));
    line(b, &first, "", jstr(pl, "postcode"));
    const json_t *la = json_object_get(pl, "latitude"), *lo = json_object_get(pl, "longitude");
    if (la || lo) {
        hput(b, first ? "" : "<br>");
        hput(b, "latitude ");
        coord(b, la);
        hput(b, ", longitude ");
        coord(b, lo);
    }
}

static void exhibit_row(hbuf *b, const exidx *x, const ev_views__rec *r, const json_t *ex,
                        size_t k)
{
    hprintf(b, "<tr id=\"exhibit-%zu\"><td>", k + 1);
    esc(b, jstr(ex, "reference"));
    hput(b, "</td><td>");
    esc(b, jstr(ex, "description"));
    hput(b, "</td><td>");
    exhibit_event(b, x, ex);
    hput(b, "</td><td>");
    exhibit_place(b, x, ex);
    hput(b, "</td><td>");
    const json_t *s = json_object_get(ex, "source");
    bool first = true;
    line(b, &first, "make: ", jstr(s, "make"));
    line(b, &first, "model: ", jstr(s, "model"));
    line(b, &first, "serial: ", jstr(s, "serial"));
    line(b, &first, "owner: ", jstr(s, "owner"));
    line(b, &first, "system: ", jstr(s, "system"));
    hput(b, "</td><td>");
    const json_t *rf = json_object_get(ex, "references");
    first = true;
    line(b, &first, "crime: ", jstr(rf, "crime"));
    line(b, &first, "URN: ", jstr(rf, "urn"));
    line(b, &first, "DEMS id: ", jstr(rf, "dems_id"));
    hput(b, "</td><td>");
    first = true;
    line(b, &first, "", jstr(ex, "handling_notes"));
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(ex, "extra"), key, v) {
        hput(b, first ? "" : "<br>");
        first = false;
        esc(b, key);
        hput(b, ": ");
        if (json_is_string(v)) {
            esc(b, json_string_value(v));
        } else {
            char *j = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            if (!j)
                b->fail = true;
            esc(b, j);
            free(j);
        }
    }
    hput(b, "</td><td class=\"files\">");
    char kk[32];
    snprintf(kk, sizeof(kk), "%zu", k);
    /* the items of the first exhibit of this reference; a later duplicate
     * has none */
    const char *ref = jstr(ex, "reference");
    const json_t *first_k = ref ? json_object_get(x->exhibits, ref) : NULL;
    const json_t *fl = first_k && (size_t)json_integer_value(first_k) == k
                           ? json_object_get(x->files, kk) : NULL;
    size_t n = json_array_size(fl), copies = 0, i;
    json_t *ix;
    json_array_foreach(fl, i, ix) {
        if (json_object_get(ev_views__item(r, (size_t)json_integer_value(ix)),
                            "derived_from"))
            copies++;
    }
    hprintf(b, "%zu file%s", n, n == 1 ? "" : "s");
    if (copies)
        hprintf(b, " (%zu working cop%s)", copies, copies == 1 ? "y" : "ies");
    if (first_k && (size_t)json_integer_value(first_k) != k)
        hprintf(b, " (this reference is also exhibit %lld, where its files are listed)",
                (long long)json_integer_value(first_k) + 1);
    json_array_foreach(fl, i, ix) {
        const json_t *it = ev_views__item(r, (size_t)json_integer_value(ix));
        const char *id = jstr(it, "id");
        hput(b, "<br>");
        if (id) {
            hput(b, "<a href=\"#");
            href(b, id);
            hput(b, "\">");
        }
        esc_or(b, jstr(it, "path"), id ? id : "?");
        if (id)
            hput(b, "</a>");
    }
    hput(b, "</td></tr>\n");
}

static void exhibit_table(hbuf *b, const exidx *x, const ev_views__rec *r)
{
    hput(b, "<h2>Exhibits</h2>\n<p class=\"note\">From the exhibit schedule in evidence.json "
            "(<code>exhibits</code>, <code>events</code>, <code>people</code>, "
            "<code>places</code>); times as recorded, with their zone as the record states "
            "it.</p>\n<table class=\"exhibits\">\n<tr><th>Reference</th><th>Description</th>"
            "<th>Event</th><th>Place</th><th>Source</th><th>References</th>"
            "<th>Handling notes and other fields</th><th>Files</th></tr>\n");
    size_t k;
    json_t *ex;
    json_array_foreach(json_object_get(r->root, "exhibits"), k, ex)
        exhibit_row(b, x, r, ex, k);
    hput(b, "</table>\n");
}

/* An item's exhibit cell: the reference, linked to its exhibit's row when
 * the record's exhibits hold it, with the exhibit's description and its
 * event's action and time. */
static void item_exhibit(hbuf *b, const json_t *it, const exidx *x)
{
    const char *ref = jstr(it, "exhibit");
    const json_t *k = x && ref ? json_object_get(x->exhibits, ref) : NULL;
    if (!k) {
        esc(b, ref);
        return;
    }
    size_t pos = (size_t)json_integer_value(k);
    const json_t *ex = json_array_get(x->list, pos);
    hprintf(b, "<a href=\"#exhibit-%zu\">", pos + 1);
    esc(b, ref);
    hput(b, "</a>");
    const char *desc = jstr(ex, "description");
    hbuf t = { { 0 }, false };
    event_brief(&t, x, ex);
    if (desc || t.b.len) {
        hput(b, "<br><small>");
        esc(b, desc);
        if (desc && t.b.len)
            hput(b, "; ");
        if (t.b.len)
            happ(b, t.b.data, t.b.len);
        hput(b, "</small>");
    }
    if (t.fail)
        b->fail = true;
    ev_buf__free(&t.b);
}

/* x: the exhibit schedule, for a page that shows it (layout 3), or NULL */
static void item_row(hbuf *b, const json_t *it, bool derived, int layout, const exidx *x)
{
    const char *path = jstr(it, "path");
    hprintf(b, "<tr%s id=\"", derived ? " class=\"derived\"" : "");
    esc(b, jstr(it, "id"));
    hput(b, "\"><td>");
    item_exhibit(b, it, x);
    hput(b, "</td><td class=\"path\">");
    if (derived)
        hput(b, "<span class=\"arrow\">&#8627;</span> ");
    if (link_ok(path, "data/")) {
        hput(b, "<a href=\"");
        href(b, path);
        hput(b, "\">");
        esc(b, path);
        hput(b, "</a>");
    } else {
        esc(b, path);
    }
    if (jstr(it, "name_changed")) {
        hput(b, "<br><small>name changed: ");
        esc(b, jstr(it, "name_changed"));
        hput(b, "</small>");
    }
    if (derived) {
        const json_t *d = json_object_get(it, "derived_from");
        hput(b, "<br><small>working copy of ");
        esc_or(b, jstr(d, "item"), "?");
        hput(b, " by profile <b>");
        esc_or(b, jstr(d, "profile"), "?");
        hput(b, "</b> (");
        esc_or(b, jstr(d, "action"), "?");
        hput(b, "); verification ");
        esc_or(b, jstr(d, "level"), "?");
        hput(b, ": <b>");
        esc_or(b, jstr(d, "verdict"), "none");
        hput(b, "</b></small>");
    }
    hput(b, "</td><td>");
    esc(b, jstr(it, "original_name"));
    hput(b, "</td><td class=\"num\">");
    if (json_is_integer(json_object_get(it, "size")))
        hprintf(b, "%lld", (long long)json_integer_value(json_object_get(it, "size")));
    hput(b, "</td><td>");
    esc(b, jstr(it, "mime"));
    hput(b, "</td><td>");
    thumb(b, it);
    char *ms = ev_views__media_summary(it, layout, true);
    if (!ms)
        b->fail = true;
    esc(b, ms);
    free(ms);
    if (layout < 2)
        timeline_lines_v1(b, it);
    else
        ev_views__timelines(b, json_object_get(it, "media"));
    hput(b, "</td><td class=\"hash\"><code>");
    esc(b, jstr(json_object_get(it, "hashes"), "sha256"));
    hput(b, "</code></td></tr>\n");
}

static const char STYLE[] =
    "body{font:14px/1.4 sans-serif;margin:1.5em;color:#111;background:#fff}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}"
    "th{background:#eee}table.facts th{width:14em}"
    "td.num{text-align:right;white-space:nowrap}"
    "td.hash code{font-size:.85em;word-break:break-all}"
    "td.path{word-break:break-all}"
    "tr.derived td{background:#f6f9ff}"
    "small{color:#444}p.note{color:#444;font-size:.9em}";
/* added in layout 2 */
static const char STYLE2[] =
    "div.timeline{margin-top:.4em;font-size:.92em}div.timeline ol{margin:.2em 0;"
    "padding-left:2em}div.timeline strong{color:#9b0d0d}";
/* added in layout 3, on a page with an exhibit schedule */
static const char STYLE3[] =
    "table.exhibits td{max-width:22em;overflow-wrap:break-word}td.files{word-break:break-all}"
    "span.t{white-space:nowrap}tr:target td{background:#fff6d5}";

/* A working copy: its row goes under the first master row of the item it
 * was made from, or after the last row when the record has no such master. */
typedef struct kid {
    size_t index;   /* its position in the record */
    size_t at;      /* the position of that master, or SIZE_MAX */
} kid;

static int kid_cmp(const void *a, const void *b)
{
    const kid *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Where each copy's row goes: a first pass over the items (each read on its
 * own); *out sorted by place, then by record order. */
static int place_copies(kid **out, size_t *n, const ev_views__rec *r)
{
    kid *k = NULL;
    size_t nk = 0, cap = 0;
    json_t *want = json_object(); /* master id -> its first position, for the copies' ids */
    int rc = want ? EV_OK : EV_ENOMEM;
    for (size_t i = 0; rc == EV_OK && i < r->nitems; i++) {
        if (!ev_views__item_may_have(r, i, "derived_from"))
            continue;
        const json_t *it = ev_views__item(r, i);
        const json_t *d = json_object_get(it, "derived_from");
        if (!d)
            continue;
        kid *g = ev__grow(k, &cap, nk, sizeof(*k), 16);
        if (!g) {
            rc = EV_ENOMEM;
            break;
        }
        k = g;
        k[nk++] = (kid){ i, SIZE_MAX };
        const char *mid = jstr(d, "item");
        if (mid && *mid && !json_object_get(want, mid) &&
            json_object_set_new(want, mid, json_integer(-1)))
            rc = EV_ENOMEM;
    }
    for (size_t i = 0; rc == EV_OK && nk && i < r->nitems; i++) {
        const json_t *it = ev_views__item(r, i);
        const char *id = jstr(it, "id");
        json_t *w = id && !json_object_get(it, "derived_from") ? json_object_get(want, id) : NULL;
        if (w && json_integer_value(w) < 0)
            json_integer_set(w, (json_int_t)i);
    }
    for (size_t j = 0; rc == EV_OK && j < nk; j++) {
        const char *mid = jstr(json_object_get(ev_views__item(r, k[j].index), "derived_from"),
                               "item");
        json_t *w = mid && *mid ? json_object_get(want, mid) : NULL;
        if (w && json_integer_value(w) >= 0)
            k[j].at = (size_t)json_integer_value(w);
    }
    json_decref(want);
    if (rc == EV_OK && ev_views__rec_status(r) != EV_OK)
        rc = ev_views__rec_status(r);
    if (rc != EV_OK) {
        free(k);
        return rc;
    }
    if (nk > 1)
        qsort(k, nk, sizeof(*k), kid_cmp);
    *out = k;
    *n = nk;
    return EV_OK;
}

static int build_html(hbuf *b, const ev_views__rec *r, const json_t *events, int layout,
                      const exidx *x)
{
    const json_t *rec = r->root;
    const json_t *cs = json_object_get(rec, "case");
    const json_t *ex = json_object_get(rec, "exported_by");
    const json_t *tool = json_object_get(rec, "tool");
    hput(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    /* the layout, for verify (views_check.c); pages of layout 1 name none.
     * Layout 3 adds only the exhibit schedule, so a page without one is the
     * same page as in layout 2, and names layout 2 */
    if (layout >= 2)
        hprintf(b, "<meta name=\"generator\" content=\"evidence index.html layout %d\">\n",
                x ? layout : 2);
    hput(b, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                    "style-src 'unsafe-inline'; img-src 'self'\">\n"
                    "<meta name=\"referrer\" content=\"no-referrer\">\n<title>Evidence bundle ");
    esc(b, jstr(cs, "reference") ? jstr(cs, "reference") : jstr(rec, "bundle_id"));
    hprintf(b, "</title>\n<style>%s%s%s</style>\n</head>\n<body>\n<h1>Evidence bundle ", STYLE,
            layout >= 2 ? STYLE2 : "", x ? STYLE3 : "");
    esc(b, jstr(cs, "reference") ? jstr(cs, "reference") : jstr(rec, "bundle_id"));
    hput(b, "</h1>\n<p class=\"note\">A view of <a href=\"evidence.json\">evidence.json</a> "
                    "and <a href=\"custody.jsonl\">custody.jsonl</a>, which are the record. "
                    "Check the bundle with <code>evidence verify</code>, or with "
                    "<code>sha256sum -c manifest-sha256.txt</code> in this folder.</p>\n");

    hput(b, "<h2>Case and bundle</h2>\n<table class=\"facts\">\n");
    row(b, "Case reference", jstr(cs, "reference"));
    row(b, "Operation", jstr(cs, "operation"));
    row(b, "Description", jstr(cs, "description"));
    row(b, "Organisation", jstr(cs, "organisation"));
    row(b, "Exported by", jstr(ex, "name"));
    row(b, "Officer identifier", jstr(ex, "identifier"));
    row(b, "Officer organisation", jstr(ex, "organisation"));
    row(b, "Source system", jstr(json_object_get(rec, "source_system"), "name"));
    row(b, "Bundle id", jstr(rec, "bundle_id"));
    row(b, "Created", jstr(rec, "created"));
    if (jstr(tool, "name")) {
        char *t = ev__asprintf("%s %s", jstr(tool, "name"),
                               jstr(tool, "version") ? jstr(tool, "version") : "");
        row(b, "Packed with", t);
        free(t);
    }
    char cnt[32];
    snprintf(cnt, sizeof(cnt), "%zu", r->nitems);
    row(b, "Items", cnt);
    if (x) {
        snprintf(cnt, sizeof(cnt), "%zu", json_array_size(x->list));
        row(b, "Exhibits", cnt);
    }
    hput(b, "</table>\n");
    if (x)
        exhibit_table(b, x, r);

    hput(b, "<h2>Items</h2>\n<table class=\"items\">\n<tr><th>Exhibit</th><th>Path in "
                    "the bundle</th><th>Original name</th><th>Size (bytes)</th><th>MIME type</th>"
                    "<th>Media</th><th>SHA-256</th></tr>\n");
    /* Masters in record order, each followed by the copies made from it
     * (in record order); copies of an item the record has no master of
     * after the last row. */
    kid *kids = NULL;
    size_t nk = 0, next = 0;
    int rc = place_copies(&kids, &nk, r);
    for (size_t i = 0; rc == EV_OK && !b->fail && i < r->nitems; i++) {
        const json_t *it = ev_views__item(r, i);
        if (json_object_get(it, "derived_from"))
            continue;
        item_row(b, it, false, layout, x);
        for (; next < nk && kids[next].at == i; next++)
            item_row(b, ev_views__item(r, kids[next].index), true, layout, x);
    }
    for (; rc == EV_OK && !b->fail && next < nk; next++)
        item_row(b, ev_views__item(r, kids[next].index), true, layout, x);
    free(kids);
    if (rc == EV_OK && ev_views__rec_status(r) != EV_OK)
        rc = ev_views__rec_status(r);
    if (rc != EV_OK)
        return rc;
    hput(b, "</table>\n");

    hput(b, "<h2>Custody</h2>\n<table class=\"custody\">\n<tr><th>#</th><th>Time (UTC)"
                    "</th><th>Action</th><th>Actor</th><th>Organisation</th><th>Tool</th>"
                    "<th>Note</th></tr>\n");
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
        ev_views__custody_row(b, e, "<td class=\"num\">");
    hput(b, "</table>\n</body>\n</html>\n");
    return EV_OK;
}

int ev_views__index_render(ev_buf *out, const ev_views__rec *r, const char *custody,
                           size_t custody_len, int layout, ev_errbuf *err)
{
    json_t *events = NULL;
    /* the output is the caller's buffer: its failures are remembered there */
    hbuf b = { *out, false };
    exidx x = { 0 };
    /* layout 3 shows the exhibit schedule of a record that has one */
    bool sched = layout >= 3 && json_array_size(json_object_get(r->root, "exhibits")) > 0;
    int rc = ev_views__load_events(&events, custody, custody_len);
    if (rc == EV_OK && sched)
        rc = exidx_build(&x, r);
    if (rc == EV_OK)
        rc = build_html(&b, r, events, layout, sched ? &x : NULL);
    exidx_free(&x);
    json_decref(events);
    *out = b.b;
    if (ev_views__rec_status(r) != EV_OK)
        return ev_views__rec_error(r, err);
    if (rc == EV_OK && out->flush_rc)
        rc = out->flush_rc;
    if (rc == EV_OK && b.fail)
        rc = EV_ENOMEM;
    if (rc == EV_ENOMEM)
        ev_err__set(err, rc, "out of memory while writing %s", EV_VIEW_INDEX);
    else if (rc == EV_EIO)
        ev_err__set(err, rc, "cannot write %s to a temporary file", EV_VIEW_INDEX);
    return rc;
}


