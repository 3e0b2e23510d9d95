/*
 * bundle (verify, hashing): reads every queued file of a bag to its end on
 * several threads, each with its own reader, computing its digests and
 * comparing them with the manifests; when extracting, writes each file
 * beside its final name and keeps it only when it matched.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle/bundle_int.h"
#include "record/record_disclose.h"

int ev_bundle__mkparents_at(int dfd, const char *rel)
{
    char *p = ev__strdup(rel);
    if (!p)
        return -1;
    for (char *q = p; *q; q++) {
        if (*q == '/') {
            *q = '\0';
            if (mkdirat(dfd, p, 0755) != 0 && errno != EEXIST) {
                free(p);
                return -1;
            }
            *q = '/';
        }
    }
    free(p);
    return 0;
}

/* A worker's hasher, kept from one file to the next while the algorithms
 * are the same (fetching the digests and making their contexts costs more
 * than hashing a small file). */
typedef struct whasher {
    ev_hasher *h;
    uint32_t algs;
    char *lastdir;      /* extract: the folder made last (its files follow) */
    size_t lastlen;
} whasher;

/* The folders of name under dfd, unless they are those of the worker's
 * last file (files come folder by folder: one mkdirat per level and file
 * was most of the system calls of an extraction of small files). */
static int mkparents_cached(whasher *wh, int dfd, const char *name)
{
    const char *slash = strrchr(name, '/');
    size_t len = slash ? (size_t)(slash - name) : 0;
    if (!len)
        return 0;
    if (wh->lastdir && wh->lastlen == len && !memcmp(wh->lastdir, name, len))
        return 0;
    if (ev_bundle__mkparents_at(dfd, name) != 0)
        return -1;
    char *d = realloc(wh->lastdir, len + 1);
    if (d) {
        memcpy(d, name, len);
        d[len] = '\0';
        wh->lastdir = d;
        wh->lastlen = len;
    }
    return 0;
}

static void hash_one(vctx *c, ev_store_cursor *cur, vfile *f, uint8_t *buf, size_t buflen,
                     whasher *wh)
{
    const ev_store_entry *e = ev_store__entry(c->b->store, f->entry);
    ev_errbuf err;
    err.msg[0] = '\0';
    ev_entry_reader *er = NULL;
    int out = -1;
    char *tmpname = NULL;
    uint32_t algs = f->x->algs ? f->x->algs : EV_ALG_SHA256;
    int rc = EV_OK;
    if (wh->h && wh->algs != algs) {
        ev_hash__free(wh->h);
        wh->h = NULL;
    }
    if (!wh->h && (rc = ev_hash__new(&wh->h, algs)) == EV_OK)
        wh->algs = algs;
    else if (wh->h)
        rc = ev_hash__reset(wh->h);
    ev_hasher *h = wh->h;
    if (rc == EV_OK)
        rc = ev_store__entry_open(&er, cur, f->entry, &err);
    if (rc == EV_OK && c->dest) {
        /* a short temporary name beside the target: names may be NAME_MAX long */
        const char *slash = strrchr(e->name, '/');
        tmpname = ev__asprintf("%.*s.evidence-partial-%zu", slash ? (int)(slash - e->name + 1) : 0,
                               e->name, f->entry);
        if (!tmpname || mkparents_cached(wh, c->destfd, e->name) != 0) {
            rc = ev_err__set(&err, EV_EIO, "cannot create folders for '%s' in '%s': %s",
                             e->name, c->dest, strerror(errno));
        } else {
            out = openat(c->destfd, tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                         0644);
            if (out < 0)
                rc = ev_err__set(&err, EV_EIO, "cannot create '%s/%s': %s", c->dest, e->name,
                                 strerror(errno));
        }
    }
    uint64_t total = 0;
    while (rc == EV_OK) {
        if (atomic_load(&c->cancel)) {
            rc = EV_ECANCELED;
            break;
        }
        int64_t n = ev_store__entry_read(er, buf, buflen, &err);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        total += (uint64_t)n;
        if (total > e->size && ev_store__is_zip(c->b->store)) {
            rc = ev_err__set(&err, EV_EFORMAT, "'%s' holds more data than its ZIP header "
                             "claims", e->name);
            break;
        }
        ev_hash__update(h, buf, (size_t)n);
        if (out >= 0) {
            const uint8_t *p = buf;
            size_t left = (size_t)n;
            while (left) {
                ssize_t w = write(out, p, left);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0) {
                    rc = ev_err__set(&err, EV_EIO, "cannot write '%s/%s': %s", c->dest, e->name,
                                     strerror(errno));
                    break;
                }
                p += w;
                left -= (size_t)w;
            }
        }
        atomic_fetch_add(&c->bytes, (uint64_t)n);
    }
    if (rc == EV_OK && ev_store__is_zip(c->b->store) && total != e->size)
        rc = ev_err__set(&err, EV_EFORMAT, "'%s' holds %llu bytes but its ZIP header claims %llu",
                         e->name, (unsigned long long)total, (unsigned long long)e->size);
    if (rc == EV_OK) {
        ev_digests d;
        memset(&d, 0, sizeof(d));
        ev_hash__final(h, &d);
        f->has_sha256 = ev_record__unhex(f->sha256, d.hex[EV_HASH_SHA256], sizeof(f->sha256));
        if ((algs & ~(uint32_t)EV_ALG_SHA256) && (f->more = malloc(sizeof(*f->more))))
            memcpy(f->more, &d, sizeof(d));
        else if (algs & ~(uint32_t)EV_ALG_SHA256)
            rc = ev_err__set(&err, EV_ENOMEM, "out of memory");
    }
    if (rc != EV_OK && ev_store__entry_crc_failed(er)) {
        /* changed bytes in a stored entry: that is a modification */
        f->crc_mismatch = true;
    }
    f->status = rc;
    if (rc != EV_OK) {
        f->errmsg = ev__strdup(err.msg[0] ? err.msg : ev_strerror(rc));
        f->write_failed = c->dest && out < 0;
    }
    /* compare now, so that extraction can keep or drop the file */
    f->mismatch = false;
    if (rc == EV_OK) {
        char hex[EV_HASH_HEX_MAX];
        for (int s = 0; s < EV_HASH_COUNT; s++)
            if (f->x->expect[s] && !ev_hash__hex_equal(f->x->expect[s], vfile_hex(f, s, hex)))
                f->mismatch = true;
    }
    if (out >= 0) {
        bool keep = rc == EV_OK && !f->mismatch && (f->x->listed || f->x->is_tag);
        if (close(out) != 0)
            keep = false;
        if (keep && e->mtime > 0) {
            struct timespec ts[2] = { { (time_t)e->mtime, 0 }, { (time_t)e->mtime, 0 } };
            utimensat(c->destfd, tmpname, ts, AT_SYMLINK_NOFOLLOW);
        }
        if (keep && renameat(c->destfd, tmpname, c->destfd, e->name) == 0) {
            f->extracted = true;
        } else {
            if (keep) {
                f->status = EV_EIO;
                f->write_failed = true;
                free(f->errmsg);
                f->errmsg = ev__asprintf("cannot create '%s/%s': %s", c->dest, e->name,
                                         strerror(errno));
            }
            unlinkat(c->destfd, tmpname, 0);
        }
    }
    free(tmpname);
    ev_store__entry_close(er);
    if (f->watched) {
        pthread_mutex_lock(&c->vmu);
        f->hashed = true;
        pthread_cond_broadcast(&c->vcv);
        pthread_mutex_unlock(&c->vmu);
    }
}

typedef struct worker_arg {
    vctx *c;
    bool main_thread;
} worker_arg;

static void *worker(void *arg)
{
    worker_arg *wa = arg;
    vctx *c = wa->c;
    ev_store_cursor *cur = NULL;
    ev_errbuf err;
    size_t buflen = 1u << 20;
    uint8_t *buf = malloc(buflen);
    if (!buf || ev_store__cursor_new(&cur, c->b->store, &err) != EV_OK) {
        free(buf);
        return NULL; /* the remaining files are picked up by other workers */
    }
    uint64_t reported = 0;
    whasher wh = { NULL, 0, NULL, 0 };
    for (;;) {
        size_t k = atomic_fetch_add(&c->next, 1);
        if (k >= c->ntodo)
            break;
        hash_one(c, cur, &c->files[c->todo[k]], buf, buflen, &wh);
        if (wa->main_thread) {
            uint64_t now = atomic_load(&c->bytes);
            if (ev_progress__add(&c->progress, now - reported, 1, NULL, false) != EV_OK)
                atomic_store(&c->cancel, 1);
            reported = now;
        }
    }
    ev_hash__free(wh.h);
    free(wh.lastdir);
    ev_store__cursor_free(cur);
    free(buf);
    return NULL;
}

int ev_bundle__run_hashing(vctx *c)
{
    unsigned nth = c->b->o.threads;
    if (nth > c->ntodo)
        nth = c->ntodo ? (unsigned)c->ntodo : 1;
    pthread_t th[16];
    worker_arg wa[16];
    unsigned started = 0;
    for (unsigned i = 1; i < nth && i < 16; i++) {
        wa[i].c = c;
        wa[i].main_thread = false;
        if (pthread_create(&th[i], NULL, worker, &wa[i]) == 0)
            started = i;
        else
            break;
    }
    wa[0].c = c;
    wa[0].main_thread = true;
    worker(&wa[0]);
    for (unsigned i = 1; i <= started; i++)
        pthread_join(th[i], NULL);
    /* the last report: a stop asked for there counts too (with several
     * threads the calling thread may have read no file, and so made no
     * report before it) */
    if (ev_progress__add(&c->progress, 0, 0, NULL, true) != EV_OK)
        atomic_store(&c->cancel, 1);
    return atomic_load(&c->cancel) ? EV_ECANCELED : EV_OK;
}
