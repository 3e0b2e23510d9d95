/*
 * bundle (amend): add a custody event and tag files (signatures, notes) to
 * a bundle that verifies, rewriting its tag manifests, seal and views; the
 * payload is copied as stored. One writer at a time (flock).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/publish.h"
#include "base/spill.h"
#include "bundle/bundle_int.h"
#include "record/record.h"
#include "views/views.h"

/* ------------------------------------------------------------------------ */
/* amend                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct am_tag {
    char *path;
    char sha[EV_HASH_COUNT][EV_HASH_HEX_MAX];
} am_tag;

typedef struct amend_state {
    am_tag *t;
    size_t n, cap;
    uint32_t algs;
} amend_state;

static int am_register_digests(amend_state *a, const char *path, const ev_digests *d)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        am_tag *t = ev__reallocarray(a->t, cap, sizeof(*t));
        if (!t)
            return EV_ENOMEM;
        a->t = t;
        a->cap = cap;
    }
    am_tag *t = &a->t[a->n];
    memcpy(t->sha, d->hex, sizeof(t->sha));
    if (!(t->path = ev__strdup(path)))
        return EV_ENOMEM;
    a->n++;
    return EV_OK;
}

static int am_register(amend_state *a, const char *path, const void *data, size_t len)
{
    ev_hasher *h = NULL;
    ev_digests d;
    if (ev_hash__new(&h, a->algs) != EV_OK)
        return EV_ENOMEM;
    ev_hash__update(h, data, len);
    ev_hash__final(h, &d);
    ev_hash__free(h);
    return am_register_digests(a, path, &d);
}

static bool is_generated_tag(const char *name)
{
    bool t;
    char alg[32];
    return (ev_bag__is_manifest_name(name, &t, alg, sizeof(alg)) && t) ||
           strcmp(name, EV_BUNDLE_SEAL) == 0;
}

static int add_buf(ev_sink *sink, const char *path, const void *data, size_t len, bool compress,
                   ev_errbuf *err)
{
    ev_producer p;
    int rc = ev_producer__buffer(&p, data, len);
    if (rc == EV_OK)
        rc = ev_sink__add(sink, path, &p, compress, 0, err);
    return rc;
}

/* A buffer handed to the sink without a copy and freed as soon as it has
 * been written (ev_producer__buffer copies, and its copy lives as long as
 * the sink). The sink does not free this producer: the caller owns the
 * owned_buf and frees data (NULL once written) after the sink. */
typedef struct owned_buf {
    char *data;
    size_t len, pos;
    ev_spill *sp;   /* or the bytes wait in a spill (the views) */
} owned_buf;

static int ob_open(void *ctx, uint64_t *size, ev_errbuf *err)
{
    owned_buf *o = ctx;
    if (!o->data && !o->sp && o->len)
        return ev_err__set(err, EV_ERROR, "a view was read twice");
    o->pos = 0;
    *size = o->len;
    return EV_OK;
}

static int64_t ob_read(void *ctx, void *out, size_t len, ev_errbuf *err)
{
    owned_buf *o = ctx;
    if (o->sp) {
        int64_t r = ev_spill__pread(o->sp, out, len, o->pos);
        if (r < 0)
            return ev_err__set(err, EV_EIO, "cannot read a view back from its temporary file: %s",
                               strerror(errno));
        o->pos += (size_t)r;
        return r;
    }
    size_t n = o->len - o->pos < len ? o->len - o->pos : len;
    if (n)
        memcpy(out, o->data + o->pos, n);
    o->pos += n;
    return (int64_t)n;
}

static int ob_close(void *ctx, bool ok, ev_errbuf *err)
{
    (void)ok;
    (void)err;
    owned_buf *o = ctx;
    free(o->data);
    o->data = NULL;
    if (o->sp) {
        ev_spill__free(o->sp);
        free(o->sp);
        o->sp = NULL;
    }
    return EV_OK;
}

static int add_owned(ev_sink *sink, owned_buf *o, const char *path, char *data, size_t len,
                     ev_errbuf *err)
{
    o->data = data;
    o->len = len;
    o->pos = 0;
    ev_producer p = { ob_open, ob_read, ob_close, o, UINT64_MAX };
    return ev_sink__add(sink, path, &p, true, 0, err);
}

/* Append the tag manifests and the seal for the registered tag files. */
int ev_bundle__write_tagmanifests(ev_sink *sink, const am_tag *t, size_t n, uint32_t algs,
                                  ev_errbuf *err);
int ev_bundle__write_tagmanifests(ev_sink *sink, const am_tag *t, size_t n, uint32_t algs,
                                  ev_errbuf *err)
{
    ev_buf seal = { 0 };
    int rc = EV_OK;
    for (int sl = 0; sl < 2 && rc == EV_OK; sl++) {
        if (!(algs & ev_hash__slot_alg(sl)))
            continue;
        ev_buf b = { 0 };
        for (size_t i = 0; i < n && rc == EV_OK; i++)
            rc = ev_bag__manifest_line(&b, t[i].sha[sl], t[i].path);
        char name[64];
        ev_bag__manifest_name(name, sizeof(name), true, ev_hash__slot_name(sl));
        char sha[65];
        ev_hash__sha256_hex(sha, b.data ? b.data : "", b.len);
        if (rc == EV_OK)
            rc = ev_bag__manifest_line(&seal, sha, name);
        if (rc == EV_OK)
            rc = add_buf(sink, name, b.data ? b.data : "", b.len, true, err);
        ev_buf__free(&b);
    }
    if (rc == EV_OK)
        rc = add_buf(sink, EV_BUNDLE_SEAL, seal.data ? seal.data : "", seal.len, true, err);
    ev_buf__free(&seal);
    return rc;
}

static bool amend_path_ok(const char *p)
{
    if (ev_bag__unsafe_reason(p, strlen(p)) || ev_bag__is_payload(p))
        return false;
    bool t;
    char alg[32];
    if (ev_bag__is_manifest_name(p, &t, alg, sizeof(alg)))
        return false;
    return !ev_views__is_view(p) && strcmp(p, EV_BAG_BAGIT_TXT) && strcmp(p, EV_CUSTODY_FILE) &&
           strcmp(p, EV_BUNDLE_SEAL) &&
           strcmp(p, EV_BAG_INFO_TXT) && strcmp(p, EV_RECORD_FILE) && strcmp(p, EV_BAG_FETCH_TXT);
}

#define CUSTODY_EVENT_V1_SIZE offsetof(ev_custody_event, person)

static int amend_locked(ev_bundle *b, const ev_custody_event *event, const ev_tag_file *files,
                        size_t nfiles);
static int amend_write(ev_bundle *b, const ev_custody_event *event,
                               const ev_tag_file *files, size_t nfiles);

int ev_bundle_amend(ev_bundle *b, const ev_custody_event *event, const ev_tag_file *files,
                    size_t nfiles)
{
    if (!b || !b->store || (nfiles && !files))
        return EV_EINVAL;
    /* a version 1 event has no person or place: read only its fields */
    ev_custody_event ev2 = { 0 };
    if (event && (event->version == 1 || event->version == EV_CUSTODY_EVENT_VERSION)) {
        memcpy(&ev2, event, event->version == 1 ? CUSTODY_EVENT_V1_SIZE : sizeof(ev2));
        ev2.version = EV_CUSTODY_EVENT_VERSION;
    }
    if (event && (!ev2.version || !ev2.action ||
                  (!ev2.person && (!ev2.actor || !ev2.organisation))))
        return ev_err__set(&b->err, EV_EINVAL, "a custody event needs an action, an actor and an "
                           "organisation");
    if (event)
        event = &ev2;
    for (size_t i = 0; i < nfiles; i++)
        if (!files[i].path || !amend_path_ok(files[i].path) || (files[i].len && !files[i].data))
            return ev_err__set(&b->err, EV_EINVAL, "'%s' cannot be added as a tag file",
                               files[i].path ? files[i].path : "(null)");
    /* One writer at a time: lock the bundle (the file, or the bag folder),
     * then make sure the lock is on what the path names now (an earlier
     * writer may have renamed a new bundle into place), and re-read it. */
    int lockfd = -1;
    {
        char *path0 = ev__strdup(ev_store__path(b->store));
        if (!path0)
            return EV_ENOMEM;
        for (int tries = 0;; tries++) {
            lockfd = open(path0, O_RDONLY | O_CLOEXEC);
            int lr = lockfd < 0 ? -1 : flock(lockfd, LOCK_EX | LOCK_NB);
            /* another writer: wait for it, but not for ever (10 s) */
            for (int w = 0; lr != 0 && lockfd >= 0 && errno == EWOULDBLOCK && w < 200; w++) {
                struct timespec ts = { 0, 50 * 1000 * 1000 };
                nanosleep(&ts, NULL);
                lr = flock(lockfd, LOCK_EX | LOCK_NB);
            }
            if (lr != 0) {
                int busy = lockfd >= 0 && errno == EWOULDBLOCK;
                int rc0 = busy ? ev_err__set(&b->err, EV_EIO, "'%s' is being changed by another "
                                             "process; nothing was changed. Try again when it "
                                             "has finished", path0)
                               : ev_err__set(&b->err, EV_EIO, "cannot lock '%s': %s", path0,
                                             strerror(errno));
                if (lockfd >= 0)
                    close(lockfd);
                free(path0);
                return rc0;
            }
            struct stat a, c;
            if (fstat(lockfd, &a) == 0 && stat(path0, &c) == 0 && a.st_ino == c.st_ino &&
                a.st_dev == c.st_dev)
                break;
            close(lockfd);
            lockfd = -1;
            if (tries > 100) {
                int rc0 = ev_err__set(&b->err, EV_EIO, "'%s' keeps changing; try again", path0);
                free(path0);
                return rc0;
            }
        }
        int rc0 = ev_bundle_open(b, path0);
        free(path0);
        if (rc0 != EV_OK) {
            close(lockfd);
            return rc0;
        }
    }
    int rc = amend_locked(b, event, files, nfiles);
    close(lockfd);
    return rc;
}

static int amend_locked(ev_bundle *b, const ev_custody_event *event, const ev_tag_file *files,
                        size_t nfiles)
{
    if (ev_store__find(b->store, EV_CUSTODY_FILE) < 0)
        return ev_err__set(&b->err, EV_EUNSUPPORTED, "'%s' has no custody.jsonl: it is a BagIt "
                           "bag but not an evidence bundle, so it cannot take custody events or "
                           "signatures. Pack its data with 'evidence pack'",
                           ev_store__path(b->store));
    /* never add to a bundle that does not verify */
    int rc = ev_bundle__require_valid(b, "it was not changed");
    if (rc != EV_OK)
        return rc;
    /* the people and places the event names are the record's; the strings
     * are copied, as the record is dropped below */
    ev_custody_event resolved;
    char *keep[4] = { NULL, NULL, NULL, NULL };
    if (event && (event->person || event->place)) {
        if (!b->rec)
            return ev_err__set(&b->err, EV_EINVAL, "the bundle has no readable evidence.json: "
                               "its people and places cannot be named");
        rc = ev_custody__resolve(&resolved, event, b->rec->head, &b->err);
        if (rc != EV_OK)
            return rc;
        const char **f[4] = { &resolved.actor, &resolved.organisation, &resolved.person,
                              &resolved.place };
        for (int k = 0; k < 4; k++) {
            if (*f[k] && !(keep[k] = ev__strdup(*f[k]))) {
                for (int j = 0; j < k; j++)
                    free(keep[j]);
                return EV_ENOMEM;
            }
            *f[k] = keep[k];
        }
        event = &resolved;
    }
    /* The parsed record is not needed to amend, and for a big bundle it is
     * the biggest thing in memory: drop it now; the bundle is opened again
     * at the end (or the record read again if the amendment fails). */
    ev_bundle__drop_record(b);
    rc = amend_write(b, event, files, nfiles);
    for (int k = 0; k < 4; k++)
        free(keep[k]);
    if (rc != EV_OK && !b->rec && b->store)
        ev_bundle__load_record(b);
    return rc;
}

static int amend_write(ev_bundle *b, const ev_custody_event *event,
                               const ev_tag_file *files, size_t nfiles)
{
    int rc = EV_OK;
    ev_store *s = b->store;
    const char *path = ev_store__path(s);
    char *custody = NULL, *line = NULL, *rec = NULL;
    size_t clen = 0, rlen = 0;
    owned_buf vp[2] = { { NULL, 0, 0, NULL }, { NULL, 0, 0, NULL } };
    char *dir = NULL;
    bool views[2] = { false, false }; /* case.jsonld, index.html: rebuilt after the event */
    ev_sink *sink = NULL;
    amend_state a = { NULL, 0, 0, EV_ALG_SHA256 };
    for (size_t i = 0; i < ev_store__count(s); i++) {
        bool t;
        char alg[32];
        const ev_store_entry *e = ev_store__entry(s, i);
        if (!e->unsafe && ev_bag__is_manifest_name(e->name, &t, alg, sizeof(alg)) && t &&
            strcmp(alg, "sha512") == 0)
            a.algs |= EV_ALG_SHA512;
    }
    /* written beside the bundle and renamed over it (see ev_sink__open_replace) */
    rc = ev_sink__open_replace(&sink, path, ev_store__is_zip(s) ? EV_FORMAT_ZIP : EV_FORMAT_DIR,
                       ev_store__bag_name(s), &b->err);
    if (rc != EV_OK)
        goto done;
    for (size_t i = 0; i < ev_store__count(s) && rc == EV_OK; i++) {
        const ev_store_entry *e = ev_store__entry(s, i);
        if (e->unsafe || !e->name[0])
            continue;
        if (e->type == EV_ENTRY_DIR) {
            rc = ev_sink__add_dir(sink, e->name, &b->err);
            continue;
        }
        if (ev_bag__is_payload(e->name)) {
            ev_producer p;
            rc = ev_producer__store_entry(&p, s, i);
            if (rc == EV_OK)
                rc = ev_sink__add(sink, e->name, &p, e->deflated, e->mtime, &b->err);
            continue;
        }
        if (is_generated_tag(e->name))
            continue;
        if (ev_views__is_view(e->name)) {
            views[strcmp(e->name, EV_VIEW_CASE) == 0 ? 0 : 1] = true;
            continue;
        }
        bool replaced = false;
        for (size_t k = 0; k < nfiles && !replaced; k++)
            replaced = strcmp(files[k].path, e->name) == 0;
        if (replaced)
            continue;
        char *buf = NULL;
        size_t len = 0;
        rc = ev_store__read_all(&buf, &len, s, i, TAG_MAX, &b->err);
        if (rc != EV_OK)
            break;
        if (strcmp(e->name, EV_CUSTODY_FILE) == 0) {
            custody = buf;
            clen = len;
            continue; /* written last, after the new event */
        }
        if (strncmp(e->name, EV_BUNDLE_SIGNATURES, strlen(EV_BUNDLE_SIGNATURES)) != 0)
            rc = am_register(&a, e->name, buf, len);
        if (rc == EV_OK)
            rc = add_buf(sink, e->name, buf, len, !e->deflated ? false : true, &b->err);
        free(buf);
    }
    for (size_t k = 0; k < nfiles && rc == EV_OK; k++) {
        if (strncmp(files[k].path, EV_BUNDLE_SIGNATURES, strlen(EV_BUNDLE_SIGNATURES)) != 0)
            rc = am_register(&a, files[k].path, files[k].data, files[k].len);
        if (rc == EV_OK)
            rc = add_buf(sink, files[k].path, files[k].data, files[k].len,
                         strncmp(files[k].path, EV_BUNDLE_SIGNATURES, strlen(EV_BUNDLE_SIGNATURES)) != 0, &b->err);
    }
    if (rc != EV_OK)
        goto done;
    if (!custody) {
        rc = ev_err__set(&b->err, EV_EFORMAT, "the bundle has no custody.jsonl; it cannot be "
                         "amended");
        goto done;
    }
    if (event) {
        size_t nev, bad;
        char last_sha[65];
        json_t *last = NULL;
        ev_custody__check(custody, clen, NULL, &nev, last_sha, &last, NULL, &bad);
        json_decref(last);
        char msha[65] = "", rsha[65] = "";
        char *buf = NULL;
        size_t len = 0;
        long mi = ev_store__find(s, EV_BAG_MANIFEST_SHA256);
        long ri = ev_store__find(s, EV_RECORD_FILE);
        if (mi >= 0 && ev_store__read_all(&buf, &len, s, (size_t)mi, TAG_MAX, &b->err) == EV_OK)
            ev_hash__sha256_hex(msha, buf, len);
        free(buf);
        buf = NULL;
        /* kept for the views below */
        if (ri >= 0 && ev_store__read_all(&rec, &rlen, s, (size_t)ri, TAG_MAX, &b->err) == EV_OK)
            ev_hash__sha256_hex(rsha, rec, rlen);
        char now[40];
        ev__time_rfc3339(now, sizeof(now), (int64_t)time(NULL));
        line = ev_custody__line((long)nev + 1, now, event, msha, rsha, nev ? last_sha : NULL);
        if (!line) {
            rc = EV_ENOMEM;
            goto done;
        }
        size_t ll = strlen(line);
        char *nc = realloc(custody, clen + ll + 1);
        if (!nc) {
            rc = EV_ENOMEM;
            goto done;
        }
        custody = nc;
        memcpy(custody + clen, line, ll + 1);
        clen += ll;
    }
    rc = am_register(&a, EV_CUSTODY_FILE, custody, clen);
    if (rc == EV_OK)
        rc = add_buf(sink, EV_CUSTODY_FILE, custody, clen, true, &b->err);
    /* the views show the custody log, so the ones the bundle has are built
     * again from the record and the new log (docs/views.md) */
    if (rc == EV_OK && (views[0] || views[1])) {
        long ri = ev_store__find(s, EV_RECORD_FILE);
        if (ri < 0)
            rc = ev_err__set(&b->err, EV_EFORMAT, "the bundle has %s but no evidence.json to "
                             "build it from", views[0] ? EV_VIEW_CASE : EV_VIEW_INDEX);
        else if (!rec)
            rc = ev_store__read_all(&rec, &rlen, s, (size_t)ri, TAG_MAX, &b->err);
        ev_views__rec vr;
        memset(&vr, 0, sizeof(vr));
        if (rc == EV_OK)
            rc = ev_views__rec_open(&vr, rec, rlen, &b->err);
        if (rc == EV_OK && !(dir = ev__parent_dir(path)))
            rc = EV_ENOMEM;
        for (int v = 0; v < 2 && rc == EV_OK; v++) {
            if (!views[v])
                continue;
            const char *name = v == 0 ? EV_VIEW_CASE : EV_VIEW_INDEX;
            /* written through a spill, as pack writes them: not held whole
             * in memory, hashed as written; freed once the sink has it */
            ev_spill *sp = calloc(1, sizeof(*sp));
            if (!sp || ev_spill__init(sp, dir, a.algs) != EV_OK) {
                free(sp);
                rc = EV_ENOMEM;
                break;
            }
            ev_digests d;
            rc = ev_views__write(&sp->b, v == 0 ? EV_VIEWS__CASE_JSONLD : EV_VIEWS__INDEX_HTML,
                                 &vr, custody, clen, &b->err);
            if (rc == EV_OK)
                rc = ev_spill__end(sp, &d, &b->err);
            if (rc == EV_OK)
                rc = am_register_digests(&a, name, &d);
            if (rc != EV_OK) {
                ev_spill__free(sp);
                free(sp);
                break;
            }
            vp[v].sp = sp;
            rc = add_owned(sink, &vp[v], name, NULL, (size_t)sp->len, &b->err);
        }
        ev_views__rec_free(&vr);
    }
    free(rec);
    rec = NULL;
    if (rc == EV_OK)
        rc = ev_bundle__write_tagmanifests(sink, a.t, a.n, a.algs, &b->err);
    if (rc == EV_OK)
        rc = ev_sink__commit(sink, &b->err);
    if (rc != EV_OK)
        goto done;
    {
        char *p = ev__strdup(path);
        if (!p) {
            rc = EV_ENOMEM;
            goto done;
        }
        ev_sink__free(sink);
        sink = NULL;
        rc = ev_bundle_open(b, p);
        free(p);
    }
done:
    ev_sink__free(sink);
    for (int v = 0; v < 2; v++) {
        free(vp[v].data);
        if (vp[v].sp) {
            ev_spill__free(vp[v].sp);
            free(vp[v].sp);
        }
    }
    free(dir);
    free(rec);
    for (size_t i = 0; i < a.n; i++)
        free(a.t[i].path);
    free(a.t);
    free(custody);
    free(line);
    return rc;
}
