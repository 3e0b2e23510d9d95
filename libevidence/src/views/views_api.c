/*
 * views_api: the views as the rest of the library asks for them, whole in
 * memory or as a stream, from the record's text or from a parsed record.
 */
#include <stdlib.h>
#include <string.h>

#include "views/views_int.h"

/* a whole view into *out from r */
int ev_views__to_memory(char **out, size_t *len, ev_views__view v, const ev_views__rec *r,
                        const char *custody, size_t custody_len, int layout, ev_errbuf *err)
{
    *out = NULL;
    *len = 0;
    ev_buf b = { 0 };
    int rc = (v == EV_VIEWS__CASE_JSONLD ? ev_views__case_render : ev_views__index_render)(
        &b, r, custody, custody_len, layout, err);
    if (rc == EV_OK && !b.data)
        rc = ev_err__set(err, EV_ENOMEM, "out of memory while writing %s",
                         v == EV_VIEWS__CASE_JSONLD ? EV_VIEW_CASE : EV_VIEW_INDEX);
    if (rc != EV_OK) {
        ev_buf__free(&b);
        return rc;
    }
    /* give back what the doubling buffer did not use */
    char *t = realloc(b.data, b.len + 1);
    *out = t ? t : b.data;
    *len = b.len;
    return EV_OK;
}

int ev_views__write(ev_buf *out, ev_views__view v, const ev_views__rec *r, const char *custody,
                    size_t custody_len, ev_errbuf *err)
{
    return v == EV_VIEWS__CASE_JSONLD
               ? ev_views__case_render(out, r, custody, custody_len, EV_VIEWS__CASE_LAYOUT, err)
               : ev_views__index_render(out, r, custody, custody_len, EV_VIEWS__LAYOUT, err);
}

/* a whole view in this version's layout, from the record's text (read
 * item by item) or from the record already parsed */
static int from_text(char **out, size_t *len, ev_views__view v, const char *record,
                     size_t record_len, const char *custody, size_t custody_len, ev_errbuf *err)
{
    *out = NULL;
    *len = 0;
    ev_views__rec r;
    int rc = ev_views__rec_open(&r, record, record_len, err);
    if (rc != EV_OK)
        return rc;
    rc = ev_views__to_memory(out, len, v, &r, custody, custody_len,
                             v == EV_VIEWS__CASE_JSONLD ? EV_VIEWS__CASE_LAYOUT : EV_VIEWS__LAYOUT,
                             err);
    ev_views__rec_free(&r);
    return rc;
}

static int from_parsed(char **out, size_t *len, ev_views__view v, const json_t *record,
                       const char *custody, size_t custody_len, ev_errbuf *err)
{
    ev_views__rec r;
    ev_views__rec_from(&r, record);
    int rc = ev_views__to_memory(out, len, v, &r, custody, custody_len,
                                 v == EV_VIEWS__CASE_JSONLD ? EV_VIEWS__CASE_LAYOUT
                                                            : EV_VIEWS__LAYOUT,
                                 err);
    ev_views__rec_free(&r);
    return rc;
}

int ev_views__case_jsonld(char **out, size_t *len, const char *record, size_t record_len,
                          const char *custody, size_t custody_len, ev_errbuf *err)
{
    return from_text(out, len, EV_VIEWS__CASE_JSONLD, record, record_len, custody, custody_len,
                     err);
}

int ev_views__case_jsonld_parsed(char **out, size_t *len, const json_t *record,
                                 const char *custody, size_t custody_len, ev_errbuf *err)
{
    return from_parsed(out, len, EV_VIEWS__CASE_JSONLD, record, custody, custody_len, err);
}

int ev_views__index_html(char **out, size_t *len, const char *record, size_t record_len,
                         const char *custody, size_t custody_len, ev_errbuf *err)
{
    return from_text(out, len, EV_VIEWS__INDEX_HTML, record, record_len, custody, custody_len,
                     err);
}

int ev_views__index_html_parsed(char **out, size_t *len, const json_t *record,
                                const char *custody, size_t custody_len, ev_errbuf *err)
{
    return from_parsed(out, len, EV_VIEWS__INDEX_HTML, record, custody, custody_len, err);
}
