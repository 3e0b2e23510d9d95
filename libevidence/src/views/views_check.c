/*
 * views_check: verify's check that case.jsonld and index.html in a bundle
 * are what evidence.json and custody.jsonl generate (docs/views.md).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/hash.h"
#include "base/spill.h"
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

/* The comparison of a rendering with the stored entry, piece by piece as
 * it is rendered: neither is held whole. */
typedef struct cmp {
    ev_entry_reader *er;
    char *tmp;
    uint64_t pos;   /* bytes compared */
    bool differ;    /* a difference, or the entry could not be read */
} cmp;

#define CMP_CHUNK EV_BUF_FLUSH_AT

static int cmp_flush(void *ctx, const char *data, size_t len)
{
    cmp *c = ctx;
    while (!c->differ && len) {
        size_t want = len < CMP_CHUNK ? len : CMP_CHUNK, got = 0;
        ev_errbuf e;
        while (got < want) {
            int64_t n = ev_store__entry_read(c->er, c->tmp + got, want - got, &e);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        if (got != want || memcmp(c->tmp, data, want) != 0)
            c->differ = true;
        c->pos += want;
        data += want;
        len -= want;
    }
    return EV_OK;
}

/* The rendering hashed and counted as it goes, for a view whose stored
 * digest the caller has */
typedef struct dig {
    ev_hasher *h;
    uint64_t len;
} dig;

static int dig_flush(void *ctx, const char *data, size_t len)
{
    dig *d = ctx;
    d->len += len;
    return ev_hash__update(d->h, data, len);
}

/* Render view v of rec in a layout and compare it with entry i as it goes
 * (or, when dg has the entry's SHA-256, compare the rendering's with it).
 * *same: byte for byte the same. Returns the rendering's code (EV_OK,
 * EV_EFORMAT with the message in e, EV_ENOMEM) or the store's. */
static int render_compare(bool *same, const ev_store *s, size_t i, int v, int layout,
                          const ev_views__rec *rec, const char *cust, size_t clen,
                          const ev_views__digests *dg, ev_errbuf *e)
{
    *same = false;
    cmp c = { 0 };
    ev_store_cursor *cur = NULL;
    int rc = ev_store__cursor_new(&cur, s, e);
    if (rc == EV_OK)
        rc = ev_store__entry_open(&c.er, cur, i, e);
    bool by_digest = rc == EV_OK && dg && dg->will_have(dg->ctx, i);
    if (by_digest) {
        /* the entry opens (else, as below, it is not what the record
         * makes, and nothing is rendered): the caller reads it whole
         * anyway, for its digest */
        ev_store__entry_close(c.er);
        ev_store__cursor_free(cur);
        dig d = { NULL, 0 };
        if (ev_hash__new(&d.h, EV_ALG_SHA256) != EV_OK)
            return EV_ENOMEM;
        ev_buf out = { 0 };
        out.flush = dig_flush;
        out.flush_ctx = &d;
        rc = (v == 0 ? ev_views__case_render : ev_views__index_render)(&out, rec, cust, clen,
                                                                      layout, e);
        if (rc == EV_OK)
            rc = ev_buf__flush(&out);
        out.flush = NULL;
        ev_buf__free(&out);
        ev_digests mine;
        uint8_t stored[32];
        char hex[2 * sizeof(stored) + 1];
        if (rc == EV_OK && ev_hash__final(d.h, &mine) == EV_OK && dg->wait(dg->ctx, i, stored)) {
            ev__hex_encode(hex, stored, sizeof(stored));
            *same = d.len == ev_store__entry(s, i)->size &&
                    strcmp(hex, mine.hex[EV_HASH_SHA256]) == 0;
        }
        ev_hash__free(d.h);
        return rc;
    }
    if (rc == EV_OK && !(c.tmp = malloc(CMP_CHUNK)))
        rc = EV_ENOMEM;
    if (rc != EV_OK) {
        /* an entry that cannot be read cannot be what the record makes */
        bool nomem = rc == EV_ENOMEM;
        ev_store__entry_close(c.er);
        ev_store__cursor_free(cur);
        free(c.tmp);
        return nomem ? EV_ENOMEM : EV_OK;
    }
    ev_buf out = { 0 };
    out.flush = cmp_flush;
    out.flush_ctx = &c;
    rc = (v == 0 ? ev_views__case_render : ev_views__index_render)(&out, rec, cust, clen, layout,
                                                                  e);
    if (rc == EV_OK)
        rc = ev_buf__flush(&out);
    if (rc == EV_OK && !c.differ) {
        /* nothing after the rendering's last byte */
        char one;
        ev_errbuf e2;
        *same = c.pos == ev_store__entry(s, i)->size &&
                ev_store__entry_read(c.er, &one, 1, &e2) == 0;
    }
    out.flush = NULL;
    ev_buf__free(&out);
    ev_store__entry_close(c.er);
    ev_store__cursor_free(cur);
    free(c.tmp);
    return rc;
}

/* the first bytes of entry i (up to its head), for the layout it names */
static int stored_layout(const ev_store *s, size_t i)
{
    char *head = NULL;
    size_t hlen = 0;
    ev_errbuf e;
    ev_store_cursor *cur = NULL;
    ev_entry_reader *er = NULL;
    int layout = 0;
    if (ev_store__cursor_new(&cur, s, &e) == EV_OK && ev_store__entry_open(&er, cur, i, &e) == EV_OK &&
        (head = malloc(4096)) != NULL) {
        while (hlen < 4096) {
            int64_t n = ev_store__entry_read(er, head + hlen, 4096 - hlen, &e);
            if (n <= 0)
                break;
            hlen += (size_t)n;
        }
        layout = page_layout(head, hlen);
    }
    free(head);
    ev_store__entry_close(er);
    ev_store__cursor_free(cur);
    return layout;
}

/* What a view's check found, reported once both views were checked. */
typedef struct view_result {
    bool present;        /* the bundle holds the view */
    int vrc;             /* EV_OK: rendered and compared */
    bool same;
    int layout, current; /* the layout compared last; the one this version writes */
    char msg[sizeof(((ev_errbuf *)0)->msg)];
} view_result;

/* Render view v (0 case.jsonld, 1 index.html) from rec and compare it with
 * the stored one. EV_ENOMEM, or EV_OK with *out filled. */
static int check_one(view_result *out, const ev_store *s, int v, const ev_views__rec *rec,
                     const char *cust, size_t clen, const ev_views__digests *dg)
{
    static const char *const names[2] = { EV_VIEW_CASE, EV_VIEW_INDEX };
    memset(out, 0, sizeof(*out));
    long i = ev_store__find(s, names[v]);
    if (i < 0)
        return EV_OK;
    out->present = true;
    ev_errbuf e;
    e.msg[0] = '\0';
    /* the layout this version writes for this record: an index.html
     * without an exhibit schedule is the same in layouts 2 and 3 and
     * names 2; case.jsonld names no layout, and one written before the
     * exhibit schedule was shown is compared with its layout 1 */
    out->current = v == 0 ? EV_VIEWS__CASE_LAYOUT
                          : json_array_size(json_object_get(rec->root, "exhibits")) > 0
                                ? EV_VIEWS__LAYOUT : 2;
    out->layout = out->current;
    out->vrc = render_compare(&out->same, s, (size_t)i, v, out->current, rec, cust, clen, dg, &e);
    if (out->vrc == EV_ENOMEM)
        return EV_ENOMEM;
    if (out->vrc != EV_OK) {
        snprintf(out->msg, sizeof(out->msg), "%s", e.msg);
        return EV_OK;
    }
    /* index.html is compared in the layout it names: a page of an
     * earlier layout must be byte for byte what that layout makes of
     * the record, so it cannot say anything else either */
    if (!out->same && (out->layout = v == 0 ? 1 : stored_layout(s, (size_t)i)) != out->current &&
        out->layout != 0) {
        if (render_compare(&out->same, s, (size_t)i, v, out->layout, rec, cust, clen, dg, &e) ==
            EV_ENOMEM)
            return EV_ENOMEM;
    }
    return EV_OK;
}

typedef struct index_job {
    view_result res;
    const ev_store *s;
    const ev_views__rec *rec;
    const char *cust;
    size_t clen;
    const ev_views__digests *dg;
    int rc;
} index_job;

static void *index_job_run(void *arg)
{
    index_job *j = arg;
    j->rc = check_one(&j->res, j->s, 1, j->rec, j->cust, j->clen, j->dg);
    return NULL;
}

/* rec2, when not NULL, is a second reader of the same record: index.html
 * is then checked on a thread of its own beside case.jsonld (each reads
 * every item again; for a bundle of many small files they are most of a
 * verify). */
static int check_views(ev_report *r, const ev_store *s, const ev_views__rec *rec,
                       const ev_views__rec *rec2, const char *cust, size_t clen,
                       const char *made_by, const ev_views__digests *dg)
{
    static const char *const names[2] = { EV_VIEW_CASE, EV_VIEW_INDEX };
    /* a view is rebuilt by this version; one written by another version may
     * be laid out differently without being wrong (docs/views.md) */
    bool same_version = made_by && !strcmp(made_by, EV_VERSION_STRING);
    ev_severity sev = same_version ? EV_SEVERITY_ERROR : EV_SEVERITY_WARNING;
    view_result res[2];
    index_job j = { .s = s, .rec = rec2, .cust = cust, .clen = clen, .dg = dg, .rc = EV_OK };
    pthread_t th;
    bool threaded = rec2 && pthread_create(&th, NULL, index_job_run, &j) == 0;
    int rc0 = check_one(&res[0], s, 0, rec, cust, clen, dg);
    int rc1;
    if (threaded) {
        pthread_join(th, NULL);
        res[1] = j.res;
        rc1 = j.rc;
    } else {
        rc1 = rc0 == EV_OK ? check_one(&res[1], s, 1, rec, cust, clen, dg) : EV_OK;
    }
    if (rc0 == EV_ENOMEM || rc1 == EV_ENOMEM)
        return EV_ENOMEM;
    int rc = EV_OK;
    for (int v = 0; v < 2 && rc == EV_OK; v++) {
        const view_result *x = &res[v];
        if (!x->present)
            continue;
        if (x->vrc != EV_OK) {
            rc = ev_report__add(r, sev, "view-mismatch", names[v],
                                "%s cannot be rebuilt from evidence.json (%s), so it cannot be "
                                "what the record generates", names[v], x->msg);
            continue;
        }
        if (!x->same) {
            char lay[64] = "";
            if (v == 1 && x->layout == 0)
                snprintf(lay, sizeof(lay), " (it names a layout this version does not know)");
            else if (v == 1 && x->layout != x->current)
                snprintf(lay, sizeof(lay), " in its layout %d", x->layout);
            rc = ev_report__add(r, sev, "view-mismatch", names[v],
                                "%s is not what evidence.json and custody.jsonl generate%s%s; "
                                "where a view and the record disagree, the record is right "
                                "(docs/views.md)", names[v], lay,
                                same_version ? ""
                                             : " with this version (it was written by another "
                                               "version)");
        }
    }
    return rc;
}

static int64_t spill_read(void *ctx, void *buf, size_t len, uint64_t off)
{
    return ev_spill__pread(ctx, buf, len, off);
}

int ev_views__rec_spill(ev_views__rec *vr, const ev_spill *sp, size_t max_read, ev_errbuf *e)
{
    memset(vr, 0, sizeof(*vr));
    const char *mem = ev_spill__memory(sp);
    if (mem)
        return ev_views__rec_open(vr, mem, (size_t)sp->len, e);
    int rc = ev_views__rec_read(vr, spill_read, (void *)(uintptr_t)sp, sp->len, e);
    if (rc == EV_EFORMAT) {
        /* not read item by item: jansson's message, from the whole text */
        char *all = sp->len < max_read ? malloc((size_t)sp->len + 1) : NULL;
        if (!all)
            return EV_EIO;
        if (ev_spill__pread(sp, all, (size_t)sp->len, 0) != (int64_t)sp->len) {
            free(all);
            return EV_EIO;
        }
        ev_views__rec tmp;
        rc = ev_views__rec_open(&tmp, all, (size_t)sp->len, e);
        /* the whole parse succeeded (a text the scan does not follow): its
         * record is what the views read; it owns no pointer into all */
        if (rc == EV_OK && !tmp.src) {
            *vr = tmp;
        } else {
            ev_views__rec_free(&tmp);
            if (rc == EV_OK)
                rc = EV_EFORMAT;
        }
        free(all);
    }
    return rc;
}

int ev_views__rec_store(ev_views__rec *vr, ev_spill *sp, const ev_store *s, size_t ri,
                        size_t max_read, ev_errbuf *e)
{
    memset(vr, 0, sizeof(*vr));
    int rc = ev_spill__init(sp, P_tmpdir, 0);
    if (rc == EV_OK)
        rc = ev_store__read_spill(sp, s, ri, max_read, e);
    if (rc != EV_OK)
        return rc == EV_ENOMEM ? EV_ENOMEM : EV_EIO;
    return ev_views__rec_spill(vr, sp, max_read, e);
}

int ev_views__check(ev_report *r, const ev_store *s, const json_t *record, const ev_spill *text,
                    size_t max_read, bool parallel, const ev_views__digests *dg)
{
    long ri = ev_store__find(s, "evidence.json");
    long ci = ev_store__find(s, "custody.jsonl");
    if (ri < 0 || ci < 0)
        return EV_OK;
    char *rec = NULL, *cust = NULL;
    size_t rlen = 0, clen = 0;
    ev_errbuf e;
    ev_views__rec vr;
    memset(&vr, 0, sizeof(vr));
    int rc = EV_OK, orc = EV_ERROR;
    /* the record verify parsed is used as it is: a large record is not
     * read and parsed a second time; else its text, read item by item */
    ev_spill sp;
    memset(&sp, 0, sizeof(sp));
    sp.fd = -1;
    if (json_is_object(record)) {
        ev_views__rec_from(&vr, record);
        orc = EV_OK;
    } else if ((orc = text ? ev_views__rec_spill(&vr, text, max_read, &e)
                           : ev_views__rec_store(&vr, &sp, s, (size_t)ri, max_read, &e)) ==
               EV_EIO) {
        /* no temporary file here (or the text is unreadable): as before */
        ev_views__rec_free(&vr);
        orc = EV_ERROR;
        if (ev_store__read_all(&rec, &rlen, s, (size_t)ri, max_read, &e) == EV_OK)
            orc = ev_views__rec_open(&vr, rec, rlen, &e);
    }
    if (orc == EV_ENOMEM) {
        rc = EV_ENOMEM;
    } else if ((orc == EV_OK || orc == EV_EFORMAT) &&
               ev_store__read_all(&cust, &clen, s, (size_t)ci, max_read, &e) == EV_OK) {
        char *made_by = last_tool_version(cust, clen);
        if (orc == EV_OK) {
            /* a second reader of the record's text for index.html, when it
             * is read item by item from the spill (not parsed whole) */
            ev_views__rec vr2;
            memset(&vr2, 0, sizeof(vr2));
            const ev_views__rec *rec2 = NULL;
            if (parallel && vr.src && ev_store__find(s, EV_VIEW_CASE) >= 0 &&
                ev_store__find(s, EV_VIEW_INDEX) >= 0 && ev_views__rec_share(&vr2, &vr) == EV_OK)
                rec2 = &vr2;
            rc = check_views(r, s, &vr, rec2, cust, clen, made_by, dg);
            ev_views__rec_free(&vr2);
        } else {
            /* not a record the views can be made from */
            bool same_version = made_by && !strcmp(made_by, EV_VERSION_STRING);
            for (int v = 0; v < 2 && rc == EV_OK; v++) {
                const char *name = v == 0 ? EV_VIEW_CASE : EV_VIEW_INDEX;
                if (ev_store__find(s, name) >= 0)
                    rc = ev_report__add(r, same_version ? EV_SEVERITY_ERROR : EV_SEVERITY_WARNING,
                                        "view-mismatch", name,
                                        "%s cannot be rebuilt from evidence.json (%s), so it "
                                        "cannot be what the record generates", name, e.msg);
            }
        }
        free(made_by);
    }
    ev_views__rec_free(&vr);
    ev_spill__free(&sp);
    free(rec);
    free(cust);
    return rc == EV_ENOMEM ? EV_ENOMEM : EV_OK;
}
