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

static void item_row(hbuf *b, const json_t *it, bool derived, int layout)
{
    const char *path = jstr(it, "path");
    hprintf(b, "<tr%s id=\"", derived ? " class=\"derived\"" : "");
    esc(b, jstr(it, "id"));
    hput(b, "\"><td>");
    esc(b, jstr(it, "exhibit"));
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

/* The row of a working copy, kept until it is put in under its master. */
typedef struct kid {
    char *row;
    size_t len;
    size_t at;      /* where it goes in the page */
    size_t index;   /* record order, among the copies */
} kid;

static int kid_cmp(const void *a, const void *b)
{
    const kid *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int build_html(hbuf *b, const ev_views__rec *r, const json_t *events, int layout)
{
    const json_t *rec = r->root;
    const json_t *cs = json_object_get(rec, "case");
    const json_t *ex = json_object_get(rec, "exported_by");
    const json_t *tool = json_object_get(rec, "tool");
    hput(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    /* the layout, for verify (views_check.c); pages of layout 1 name none */
    if (layout >= 2)
        hprintf(b, "<meta name=\"generator\" content=\"evidence index.html layout %d\">\n",
                layout);
    hput(b, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                    "style-src 'unsafe-inline'; img-src 'self'\">\n"
                    "<meta name=\"referrer\" content=\"no-referrer\">\n<title>Evidence bundle ");
    esc(b, jstr(cs, "reference") ? jstr(cs, "reference") : jstr(rec, "bundle_id"));
    hprintf(b, "</title>\n<style>%s%s</style>\n</head>\n<body>\n<h1>Evidence bundle ", STYLE,
            layout >= 2 ? STYLE2 : "");
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
    hput(b, "</table>\n");

    hput(b, "<h2>Items</h2>\n<table class=\"items\">\n<tr><th>Exhibit</th><th>Path in "
                    "the bundle</th><th>Original name</th><th>Size (bytes)</th><th>MIME type</th>"
                    "<th>Media</th><th>SHA-256</th></tr>\n");
    /* Masters are written as they come; each copy's row is kept aside and
     * put in under its master at the end (or after the last row when its
     * master is not in the record), moving the bytes in place. */
    kid *kids = NULL;
    size_t nk = 0, capk = 0;
    char **mids = NULL;                 /* each copy's derived_from.item */
    json_t *masters = json_object();    /* id -> where the row of its first master ends */
    int rc = masters ? EV_OK : EV_ENOMEM;
    for (size_t i = 0; rc == EV_OK && !b->fail && i < r->nitems; i++) {
        const json_t *it = json_array_get(r->items, i);
        if (!json_object_get(it, "derived_from")) {
            item_row(b, it, false, layout);
            const char *id = jstr(it, "id");
            if (id && !json_object_get(masters, id) &&
                json_object_set_new(masters, id, json_integer((json_int_t)b->b.len)))
                rc = EV_ENOMEM;
        } else {
            kid *k = ev__grow(kids, &capk, nk, sizeof(*kids), 16);
            char **m = k ? ev__reallocarray(mids, capk, sizeof(*mids)) : NULL;
            if (k)
                kids = k;
            hbuf row = { { 0 }, false };
            if (m) {
                mids = m;
                item_row(&row, it, true, layout);
            }
            const char *mid = jstr(json_object_get(it, "derived_from"), "item");
            if (!k || !m || row.fail || !(mids[nk] = mid ? ev__strdup(mid) : ev__strdup(""))) {
                ev_buf__free(&row.b);
                rc = EV_ENOMEM;
            } else {
                kids[nk] = (kid){ row.b.data, row.b.len, 0, nk };
                nk++;
            }
        }
    }
    if (rc == EV_OK && !b->fail && nk) {
        size_t end = b->b.len, extra = 0;
        for (size_t k = 0; k < nk; k++) {
            json_t *at = *mids[k] ? json_object_get(masters, mids[k]) : NULL;
            kids[k].at = at ? (size_t)json_integer_value(at) : end;
            extra += kids[k].len;
        }
        qsort(kids, nk, sizeof(*kids), kid_cmp);
        /* room for the copies, then from the back: move each stretch of
         * master rows up, then copy the rows that go before it */
        happ(b, "", 0);
        if (!b->fail && b->b.cap < b->b.len + extra + 1) {
            char *g = realloc(b->b.data, b->b.len + extra + 1);
            if (!g)
                b->fail = true;
            else {
                b->b.data = g;
                b->b.cap = b->b.len + extra + 1;
            }
        }
        if (!b->fail) {
            char *d = b->b.data;
            size_t src = end, dst = end + extra;
            for (size_t k = nk; k-- > 0;) {
                size_t seg = src - kids[k].at;
                memmove(d + dst - seg, d + kids[k].at, seg);
                dst -= seg;
                src = kids[k].at;
                dst -= kids[k].len;
                memcpy(d + dst, kids[k].row, kids[k].len);
            }
            b->b.len = end + extra;
            d[b->b.len] = '\0';
        }
    }
    for (size_t k = 0; k < nk; k++) {
        free(kids[k].row);
        free(mids[k]);
    }
    free(kids);
    free(mids);
    json_decref(masters);
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

int ev_views__index_html(char **out, size_t *len, const char *record, size_t record_len,
                         const char *custody, size_t custody_len, ev_errbuf *err)
{
    /* the record's text, parsed here; the rendering is the parsed one's */
    *out = NULL;
    *len = 0;
    ev_views__rec r;
    int rc = ev_views__rec_open(&r, record, record_len, err);
    if (rc != EV_OK)
        return rc;
    rc = ev_views__index_html_parsed(out, len, r.root, custody, custody_len, err);
    ev_views__rec_free(&r);
    return rc;
}

/* As ev_views__index_html, from the record already parsed. */
int ev_views__index_html_parsed(char **out, size_t *len, const json_t *record,
                                const char *custody, size_t custody_len, ev_errbuf *err)
{
    return ev_views__index_html_layout(out, len, record, custody, custody_len, EV_VIEWS__LAYOUT,
                                       err);
}

int ev_views__index_html_layout(char **out, size_t *len, const json_t *record,
                                const char *custody, size_t custody_len, int layout,
                                ev_errbuf *err)
{
    *out = NULL;
    *len = 0;
    ev_views__rec r;
    json_t *events = NULL;
    hbuf b = { { 0 }, false };
    ev_views__rec_from(&r, record);
    int rc = ev_views__load_events(&events, custody, custody_len);
    if (rc == EV_OK)
        rc = build_html(&b, &r, events, layout);
    if (rc == EV_OK && (b.fail || !b.b.data))
        rc = EV_ENOMEM;
    ev_views__rec_free(&r);
    json_decref(events);
    if (rc != EV_OK) {
        ev_buf__free(&b.b);
        if (rc == EV_ENOMEM)
            ev_err__set(err, rc, "out of memory while writing %s", EV_VIEW_INDEX);
        return rc;
    }
    char *t = realloc(b.b.data, b.b.len + 1);
    *out = t ? t : b.b.data;
    *len = b.b.len;
    return EV_OK;
}
