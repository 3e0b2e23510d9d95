/*
 * views_check: verify's check that case.jsonld and index.html in a bundle
 * are what evidence.json and custody.jsonl generate (docs/views.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "container/container.h"
#include "views/views_int.h"

/* the tool_version of the last custody event: the version that wrote the
 * views last */
static char *last_tool_version(const char *cust, size_t clen)
{
    size_t end = clen;
    while (end && cust[end - 1] == '\n')
        end--;
    size_t start = end;
    while (start && cust[start - 1] != '\n')
        start--;
    json_t *ev = json_loadb(cust + start, end - start, 0, NULL);
    char *v = ev__strdup(json_string_value(json_object_get(ev, "tool_version")));
    json_decref(ev);
    return v;
}

/* The layout a stored index.html names in its head (<meta name="generator"
 * content="evidence index.html layout N">), 1 when it names none (the pages
 * written before layouts were named), 0 when it names one this version
 * does not know. */
static int page_layout(const char *page, size_t len)
{
    static const char tag[] = "<meta name=\"generator\" content=\"evidence index.html layout ";
    const char *end = memmem(page, len < 4096 ? len : 4096, "</head>", 7);
    const char *p = end ? memmem(page, (size_t)(end - page), tag, sizeof(tag) - 1) : NULL;
    if (!p)
        return EV_VIEWS__LAYOUT_FIRST;
    p += sizeof(tag) - 1;
    int n = 0;
    while (p < end && *p >= '0' && *p <= '9' && n < 1000)
        n = n * 10 + (*p++ - '0');
    if (p + 3 > end || memcmp(p, "\">\n", 3) != 0 || n < EV_VIEWS__LAYOUT_FIRST ||
        n > EV_VIEWS__LAYOUT)
        return 0;
    return n;
}

/* Render view v (0 case.jsonld, 1 index.html) in a layout. */
static int render(char **want, size_t *wlen, int v, int layout, const json_t *parsed,
                  const char *rec, size_t rlen, const char *cust, size_t clen, ev_errbuf *e)
{
    int (*fn)(char **, size_t *, const json_t *, const char *, size_t, int, ev_errbuf *) =
        v == 0 ? ev_views__case_jsonld_layout : ev_views__index_html_layout;
    if (parsed)
        return fn(want, wlen, parsed, cust, clen, layout, e);
    ev_views__rec r;
    int rc = ev_views__rec_open(&r, rec, rlen, e);
    if (rc == EV_OK)
        rc = fn(want, wlen, r.root, cust, clen, layout, e);
    ev_views__rec_free(&r);
    return rc;
}

static int check_views(ev_report *r, const ev_store *s, const json_t *parsed, const char *rec,
                       size_t rlen, const char *cust, size_t clen, const char *made_by,
                       size_t max_read)
{
    static const char *const names[2] = { EV_VIEW_CASE, EV_VIEW_INDEX };
    /* a view is rebuilt by this version; one written by another version may
     * be laid out differently without being wrong (docs/views.md) */
    bool same_version = made_by && !strcmp(made_by, EV_VERSION_STRING);
    ev_severity sev = same_version ? EV_SEVERITY_ERROR : EV_SEVERITY_WARNING;
    int rc = EV_OK;
    for (int v = 0; v < 2 && rc == EV_OK; v++) {
        long i = ev_store__find(s, names[v]);
        if (i < 0)
            continue;
        char *want = NULL, *have = NULL;
        size_t wlen = 0, hlen = 0;
        ev_errbuf e;
        e.msg[0] = '\0';
        int current = v == 0 ? EV_VIEWS__CASE_LAYOUT : EV_VIEWS__LAYOUT;
        int vrc = render(&want, &wlen, v, current, parsed, rec, rlen, cust, clen, &e);
        if (vrc == EV_ENOMEM)
            return EV_ENOMEM;
        if (vrc != EV_OK) {
            rc = ev_report__add(r, sev, "view-mismatch", names[v],
                                "%s cannot be rebuilt from evidence.json (%s), so it cannot be "
                                "what the record generates", names[v], e.msg);
            free(want);
            continue;
        }
        /* index.html is compared in the layout it names: a page of an
         * earlier layout must be byte for byte what that layout makes of
         * the record, so it cannot say anything else either */
        bool same = ev_store__entry(s, (size_t)i)->size == wlen &&
                    ev_store__read_all(&have, &hlen, s, (size_t)i, wlen, &e) == EV_OK &&
                    hlen == wlen && memcmp(have, want, wlen) == 0;
        /* the layout this version writes for this record: an index.html
         * without an exhibit schedule is the same in layouts 2 and 3 and
         * names 2; case.jsonld names no layout, and one written before the
         * exhibit schedule was shown is compared with its layout 1 */
        if (v == 1)
            current = page_layout(want, wlen);
        int layout = current;
        if (!same && (have || ev_store__read_all(&have, &hlen, s, (size_t)i, max_read,
                                                 &e) == EV_OK) &&
            (layout = v == 0 ? 1 : page_layout(have, hlen)) != current && layout != 0) {
            free(want);
            want = NULL;
            if (render(&want, &wlen, v, layout, parsed, rec, rlen, cust, clen, &e) == EV_ENOMEM) {
                free(have);
                return EV_ENOMEM;
            }
            same = want && hlen == wlen && memcmp(have, want, wlen) == 0;
        }
        if (!same) {
            char lay[64] = "";
            if (v == 1 && layout == 0)
                snprintf(lay, sizeof(lay), " (it names a layout this version does not know)");
            else if (v == 1 && layout != current)
                snprintf(lay, sizeof(lay), " in its layout %d", layout);
            rc = ev_report__add(r, sev, "view-mismatch", names[v],
                                "%s is not what evidence.json and custody.jsonl generate%s%s; "
                                "where a view and the record disagree, the record is right "
                                "(docs/views.md)", names[v], lay,
                                same_version ? ""
                                             : " with this version (it was written by another "
                                               "version)");
        }
        free(want);
        free(have);
    }
    return rc;
}

int ev_views__check(ev_report *r, const ev_store *s, const json_t *record, size_t max_read)
{
    long ri = ev_store__find(s, "evidence.json");
    long ci = ev_store__find(s, "custody.jsonl");
    if (ri < 0 || ci < 0)
        return EV_OK;
    char *rec = NULL, *cust = NULL;
    size_t rlen = 0, clen = 0;
    ev_errbuf e;
    int rc = EV_OK;
    /* the record verify parsed is used as it is: a large record is not
     * read and parsed a second time */
    if (json_is_object(record) ||
        ev_store__read_all(&rec, &rlen, s, (size_t)ri, max_read, &e) == EV_OK) {
        if (ev_store__read_all(&cust, &clen, s, (size_t)ci, max_read, &e) == EV_OK) {
            char *made_by = last_tool_version(cust, clen);
            rc = check_views(r, s, json_is_object(record) ? record : NULL, rec, rlen, cust, clen,
                             made_by, max_read);
            free(made_by);
        }
    }
    free(rec);
    free(cust);
    return rc == EV_ENOMEM ? EV_ENOMEM : EV_OK;
}
