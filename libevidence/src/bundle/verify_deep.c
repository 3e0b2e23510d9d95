/*
 * bundle (verify --deep): recompute the media content hashes of every item,
 * and re-check every working copy against its master.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/bundle_int.h"
#include "media/media.h"
#include "transcode/transcode.h"

/* verify --deep: recompute the media content hashes of every item that has
 * them and name the streams and frames that differ. */
int ev_bundle__deep_check(vctx *c)
{
    ev_bundle *b = c->b;
    ev_report *r = c->r;
    json_t *items = json_object_get(ev_bundle__record(b), "items");
    json_t *out = json_array();
    size_t k;
    json_t *it;
    ev_store_cursor *cur = NULL;
    ev_errbuf err;
    if (!out || ev_store__cursor_new(&cur, b->store, &err) != EV_OK) {
        json_decref(out);
        return ev_report__add(r, EV_SEVERITY_ERROR, "deep-unavailable", NULL,
                              "content hashes could not be checked: %s", err.msg);
    }
    json_array_foreach(items, k, it) {
        json_t *ch = json_object_get(it, "content_hashes");
        const char *path = jstr(it, "path");
        if (!json_is_array(ch) || !json_array_size(ch) || !path)
            continue;
        long e = ev_store__find(b->store, path);
        if (e < 0)
            continue; /* already reported as missing */
        /* meta files listed by the item */
        json_t *metas = json_object_get(it, "meta");
        size_t nm = json_array_size(metas);
        ev_media__file *mf = ev__calloc(nm, sizeof(*mf));
        size_t got = 0;
        for (size_t q = 0; mf && q < nm; q++) {
            const char *mp = json_string_value(json_array_get(metas, q));
            long mi = mp ? ev_store__find(b->store, mp) : -1;
            char *buf = NULL;
            size_t len = 0;
            if (mi < 0 || ev_store__read_all(&buf, &len, b->store, (size_t)mi, TAG_MAX, &err))
                continue;
            const char *slash = strrchr(mp, '/');
            mf[got].name = ev__strdup(slash ? slash + 1 : mp);
            mf[got].data = (uint8_t *)buf;
            mf[got].len = len;
            got++;
        }
        ev_entry_reader *er = NULL;
        json_t *findings = NULL;
        int rc = ev_store__entry_open(&er, cur, (size_t)e, &err);
        if (rc == EV_OK) {
            ev_io io;
            ev_store__entry_io(&io, er);
            rc = ev_media__deep_verify(&findings, it, &io, mf, got, &err);
        }
        ev_store__entry_close(er);
        ev_media__files_free(mf, got);
        if (rc != EV_OK) {
            ev_report__add(r, EV_SEVERITY_ERROR, "content-check-error", path,
                           "content hashes of '%s' could not be recomputed: %s", path, err.msg);
            continue;
        }
        size_t q;
        json_t *f;
        json_array_foreach(findings, q, f) {
            const char *st = jstr(f, "status");
            if (!st || strcmp(st, "ok") == 0)
                continue;
            ev_buf frames = { 0 };
            json_t *fr = json_object_get(f, "frames");
            size_t z;
            json_t *v;
            json_array_foreach(fr, z, v) {
                if (z == 20) {
                    ev_buf__printf(&frames, ", ... (%zu in all)", json_array_size(fr));
                    break;
                }
                ev_buf__printf(&frames, "%s%lld", z ? ", " : "", (long long)json_integer_value(v));
            }
            const char *msg = jstr(f, "message");
            if (strcmp(st, "mismatch") == 0)
                ev_report__add(r, EV_SEVERITY_ERROR, "content-mismatch", path,
                               "'%s' stream %lld: %s content hash differs%s%s%s%s", path,
                               (long long)json_integer_value(json_object_get(f, "stream")),
                               jstr(f, "kind") ? jstr(f, "kind") : "?",
                               frames.len ? "; frames " : "", frames.len ? frames.data : "",
                               msg ? ": " : "", msg ? msg : "");
            else
                ev_report__add(r, EV_SEVERITY_WARNING, "content-check-error", path,
                               "'%s' stream %lld: %s", path,
                               (long long)json_integer_value(json_object_get(f, "stream")),
                               msg ? msg : "could not be checked");
            ev_buf__free(&frames);
        }
        json_array_append_new(out, json_pack("{s:s, s:o, s:o}", "item", jstr(it, "id") ? jstr(it, "id") : "",
                                             "path", ev__json_str(path), "findings",
                                             findings ? findings : json_array()));
    }
    ev_store__cursor_free(cur);
    if (!r->extra)
        r->extra = json_object();
    json_object_set_new(r->extra, "deep", out);
    return EV_OK;
}

/* Copy one entry to a file (for tools that need a path). */
static int entry_to_file(ev_store *s, size_t i, const char *dst, ev_errbuf *err)
{
    ev_store_cursor *c = NULL;
    ev_entry_reader *er = NULL;
    int fd = -1;
    int rc = ev_store__cursor_new(&c, s, err);
    if (rc == EV_OK)
        rc = ev_store__entry_open(&er, c, i, err);
    if (rc == EV_OK && (fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
        rc = ev_err__set(err, EV_EIO, "cannot create '%s': %s", dst, strerror(errno));
    uint8_t buf[65536];
    while (rc == EV_OK) {
        int64_t n = ev_store__entry_read(er, buf, sizeof(buf), err);
        if (n <= 0) {
            rc = n < 0 ? (int)n : EV_OK;
            break;
        }
        if (write(fd, buf, (size_t)n) != n)
            rc = ev_err__set(err, EV_EIO, "cannot write '%s': %s", dst, strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    ev_store__entry_close(er);
    ev_store__cursor_free(c);
    return rc;
}

/* verify --deep for working copies: repeat each copy's verification
 * against its master from the derivation record. */
int ev_bundle__deep_derivations(vctx *c)
{
    ev_bundle *b = c->b;
    ev_report *r = c->r;
    json_t *items = json_object_get(ev_bundle__record(b), "items");
    json_t *out = json_array();
    char *tmpdir = NULL;
    size_t k;
    json_t *it;
    json_array_foreach(items, k, it) {
        json_t *df = json_object_get(it, "derived_from");
        if (!df)
            continue;
        const char *path = jstr(it, "path"), *rec = jstr(df, "record"), *src_id = jstr(df, "item");
        const char *src_path = NULL;
        size_t q;
        json_t *x;
        json_array_foreach(items, q, x) if (src_id && jstr(x, "id") && !strcmp(jstr(x, "id"), src_id))
            src_path = jstr(x, "path");
        long ei = path ? ev_store__find(b->store, path) : -1;
        long mi = src_path ? ev_store__find(b->store, src_path) : -1;
        long ri = rec ? ev_store__find(b->store, rec) : -1;
        if (ei < 0 || mi < 0 || ri < 0)
            continue; /* reported by the record check */
        ev_errbuf e;
        char *dj = NULL;
        size_t dlen = 0;
        if (ev_store__read_all(&dj, &dlen, b->store, (size_t)ri, TAG_MAX, &e) != EV_OK)
            continue;
        json_t *d = json_loadb(dj, dlen, 0, NULL);
        free(dj);
        char *mp = NULL, *cp = NULL;
        int rc = EV_OK;
        if (ev_store__is_zip(b->store)) {
            if (!tmpdir) {
                tmpdir = ev__strdup(P_tmpdir "/evidence-deep-XXXXXX");
                if (!tmpdir || !mkdtemp(tmpdir)) {
                    free(tmpdir);
                    tmpdir = NULL;
                    json_decref(d);
                    ev_report__add(r, EV_SEVERITY_ERROR, "content-check-error", path,
                                   "no temporary folder to re-check working copies");
                    break;
                }
            }
            mp = ev__asprintf("%s/m%zu", tmpdir, k);
            cp = ev__asprintf("%s/c%zu", tmpdir, k);
            rc = (!mp || !cp) ? EV_ENOMEM : entry_to_file(b->store, (size_t)mi, mp, &e);
            if (rc == EV_OK)
                rc = entry_to_file(b->store, (size_t)ei, cp, &e);
        } else {
            mp = ev__asprintf("%s/%s", ev_store__path(b->store), src_path);
            cp = ev__asprintf("%s/%s", ev_store__path(b->store), path);
            rc = (!mp || !cp) ? EV_ENOMEM : EV_OK;
        }
        json_t *res = NULL;
        if (rc == EV_OK)
            rc = ev_transcode__recheck(&res, d, mp, cp, &e);
        if (ev_store__is_zip(b->store)) {
            if (mp)
                unlink(mp);
            if (cp)
                unlink(cp);
        }
        free(mp);
        free(cp);
        json_decref(d);
        if (rc != EV_OK) {
            ev_report__add(r, EV_SEVERITY_ERROR, "derivation-recheck-error", path,
                           "the working copy '%s' could not be re-checked: %s", path, e.msg);
            continue;
        }
        const char *verdict = jstr(res, "verdict");
        if (!verdict || strcmp(verdict, "pass") != 0)
            ev_report__add(r, EV_SEVERITY_ERROR, "derivation-recheck-failed", path,
                           "the working copy '%s' no longer passes its verification against "
                           "%s (%s)", path, src_path, verdict ? verdict : "no verdict");
        json_array_append_new(out, json_pack("{s:o, s:o}", "path", ev__json_str(path), "recheck",
                                             res ? res : json_null()));
    }
    if (tmpdir) {
        ev__rm_tree(tmpdir);
        free(tmpdir);
    }
    if (!r->extra)
        r->extra = json_object();
    json_object_set_new(r->extra, "derivations", out);
    return EV_OK;
}
