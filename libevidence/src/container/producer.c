/*
 * producer: the sources of a sink's entries (container/container.h): a
 * buffer, a buffer generated at commit time, an entry of another store, and
 * a disk file hashed while it is read (with a read-ahead thread for big
 * files, so that hashing overlaps the CRC and the writing).
 */
#include "container/container_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct buf_prod {
    char *data;
    size_t len, pos;
    ev_gen_fn gen;
    void *gen_ctx;
} buf_prod;

static int buf_open(void *ctx, uint64_t *size, ev_errbuf *err)
{
    buf_prod *b = ctx;
    if (b->gen && !b->data) {
        int rc = b->gen(b->gen_ctx, &b->data, &b->len, err);
        if (rc != EV_OK)
            return rc;
    }
    b->pos = 0;
    *size = b->len;
    return EV_OK;
}

static int64_t buf_read(void *ctx, void *out, size_t len, ev_errbuf *err)
{
    (void)err;
    buf_prod *b = ctx;
    size_t n = b->len - b->pos < len ? b->len - b->pos : len;
    if (n)
        memcpy(out, b->data + b->pos, n);
    b->pos += n;
    return (int64_t)n;
}

static int buf_close(void *ctx, bool ok, ev_errbuf *err)
{
    (void)ok;
    (void)err;
    (void)ctx;
    return EV_OK;
}

static void buf_free(void *ctx)
{
    buf_prod *b = ctx;
    if (b) {
        free(b->data);
        free(b);
    }
}

int ev_producer__lazy(ev_producer *out, ev_gen_fn gen, void *gen_ctx)
{
    buf_prod *b = calloc(1, sizeof(*b));
    if (!b)
        return EV_ENOMEM;
    b->gen = gen;
    b->gen_ctx = gen_ctx;
    out->size_hint = UINT64_MAX; /* known only once generated */
    out->open = buf_open;
    out->read = buf_read;
    out->close = buf_close;
    out->ctx = b;
    return EV_OK;
}

int ev_producer__buffer(ev_producer *out, const void *data, size_t len)
{
    buf_prod *b = calloc(1, sizeof(*b));
    if (!b)
        return EV_ENOMEM;
    b->data = malloc(len ? len : 1);
    if (!b->data) {
        free(b);
        return EV_ENOMEM;
    }
    if (len)
        memcpy(b->data, data, len);
    b->len = len;
    out->size_hint = len;
    out->open = buf_open;
    out->read = buf_read;
    out->close = buf_close;
    out->ctx = b;
    return EV_OK;
}

/* Copy of an entry from an existing store (used when amending). */
typedef struct entry_prod {
    const ev_store *s;
    size_t i;
    ev_store_cursor *c;
    ev_entry_reader *er;
} entry_prod;

static int entry_open(void *ctx, uint64_t *size, ev_errbuf *err)
{
    entry_prod *p = ctx;
    int rc = ev_store__cursor_new(&p->c, p->s, err);
    if (rc == EV_OK)
        rc = ev_store__entry_open(&p->er, p->c, p->i, err);
    *size = p->s->e[p->i].size;
    return rc;
}

static int64_t entry_read(void *ctx, void *buf, size_t len, ev_errbuf *err)
{
    entry_prod *p = ctx;
    return ev_store__entry_read(p->er, buf, len, err);
}

static int entry_close(void *ctx, bool ok, ev_errbuf *err)
{
    (void)ok;
    (void)err;
    entry_prod *p = ctx;
    ev_store__entry_close(p->er);
    ev_store__cursor_free(p->c);
    p->er = NULL;
    p->c = NULL;
    return EV_OK;
}

int ev_producer__store_entry(ev_producer *out, const ev_store *s, size_t i)
{
    entry_prod *p = calloc(1, sizeof(*p));
    if (!p)
        return EV_ENOMEM;
    p->s = s;
    p->i = i;
    out->size_hint = s->e[i].size; /* a claim: checked while copying */
    out->open = entry_open;
    out->read = entry_read;
    out->close = entry_close;
    out->ctx = p;
    return EV_OK;
}

static void entry_free(void *ctx)
{
    entry_prod *p = ctx;
    if (p) {
        ev_store__entry_close(p->er);
        ev_store__cursor_free(p->c);
        free(p);
    }
}

/* A disk file, hashed while read. Files over SMALL_FILE are read ahead by a
 * thread that also hashes, so hashing overlaps the CRC and the writing done
 * on the calling thread. A sink holds one producer per payload file until
 * it has been written, so what it holds is kept small (file_plan, 64
 * bytes: the path is borrowed); the state of reading (file_prod, and the
 * read-ahead state of a big file) exists only while the file is open. */
#define RING_SLOTS 4
#define RING_CHUNK (512u << 10)
#define SMALL_FILE (1u << 20)

typedef struct file_ring {
    pthread_t th;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *ring[RING_SLOTS];
    size_t ring_len[RING_SLOTS];
    uint64_t produced, consumed;
    size_t cur_pos;
    bool have_slot;
    unsigned slot;
    size_t slot_len;
    bool eof, stop;
    int th_errno;
} file_ring;

typedef struct file_plan {
    const char *path;        /* borrowed: valid until the producer is freed */
    uint64_t expect;
    uint32_t algs;
    bool finished;           /* read to the end and checked */
    ev_filehash_result *res; /* where the digests go, or NULL: to done */
    void (*done)(void *ctx, const ev_digests *d);
    void *done_ctx;
    ev_progress_state *progress;
    struct file_prod *open;  /* while open (from the first open to close) */
} file_plan;

typedef struct file_prod {
    file_plan *plan;
    /* the plan's, copied at open */
    const char *path;
    uint64_t expect;
    uint32_t algs;
    int fd;
    ev_filehash_result *res;
    void (*done)(void *ctx, const ev_digests *d);
    void *done_ctx;
    ev_progress_state *progress;
    ev_hasher *h;
    struct timespec mtime0;  /* at open */
    /* synchronous mode */
    uint8_t *sbuf;
    size_t slen, spos;
    /* threaded mode */
    file_ring *r;
    uint64_t total;          /* bytes read from the file (under r->mu when threaded) */
    uint64_t served;         /* bytes handed to the consumer */
} file_prod;

static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static void *reader_main(void *arg)
{
    file_prod *f = arg;
    file_ring *r = f->r;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (!r->stop && r->produced - r->consumed >= RING_SLOTS)
            pthread_cond_wait(&r->cv, &r->mu);
        bool stop = r->stop;
        unsigned slot = (unsigned)(r->produced % RING_SLOTS);
        pthread_mutex_unlock(&r->mu);
        if (stop)
            break;
        ssize_t n = read_full(f->fd, r->ring[slot], RING_CHUNK);
        int e = n < 0 ? errno : 0;
        if (n > 0) {
            ev_hash__update(f->h, r->ring[slot], (size_t)n);
        }
        pthread_mutex_lock(&r->mu);
        if (n < 0) {
            r->th_errno = e ? e : EIO;
            r->eof = true;
        } else {
            r->ring_len[slot] = (size_t)n;
            f->total += (uint64_t)n;
            if (n > 0)
                r->produced++;
            if ((size_t)n < RING_CHUNK)
                r->eof = true;
        }
        bool done = r->eof;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        if (done)
            break;
    }
    return NULL;
}

static int file_fail_changed(file_prod *f, ev_errbuf *err, const char *how)
{
    return ev_err__set(err, EV_EFORMAT,
                       "'%s' changed while it was being packed (%s); nothing was written. "
                       "Make sure no program is writing to it, then pack again", f->path, how);
}

static int file_open(void *ctx, uint64_t *size, ev_errbuf *err)
{
    file_plan *pl = ctx;
    if (!pl->open) {
        file_prod *n = calloc(1, sizeof(*n));
        if (!n)
            return EV_ENOMEM;
        n->plan = pl;
        n->path = pl->path;
        n->expect = pl->expect;
        n->algs = pl->algs;
        n->res = pl->res;
        n->done = pl->done;
        n->done_ctx = pl->done_ctx;
        n->progress = pl->progress;
        n->fd = -1;
        pl->open = n;
    }
    file_prod *f = pl->open;
    if (f->fd >= 0) {
        *size = f->expect;
        return EV_OK;
    }
    f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        if (errno == ENOENT)
            return ev_err__set(err, EV_ENOTFOUND,
                               "'%s' vanished while it was being packed; nothing was written. "
                               "Check the source and pack again", f->path);
        return ev_err__set(err, ev_err__from_errno(errno), "'%s': cannot open: %s", f->path,
                           strerror(errno));
    }
    struct stat st0;
    if (fstat(f->fd, &st0) != 0 || !S_ISREG(st0.st_mode))
        return ev_err__set(err, EV_EIO, "'%s' is no longer a regular file", f->path);
    if ((uint64_t)st0.st_size != f->expect)
        return file_fail_changed(f, err, "its size changed");
    f->mtime0 = st0.st_mtim;
    int rc = ev_hash__new(&f->h, f->algs);
    if (rc != EV_OK)
        return ev_err__set(err, rc, "cannot set up hashing");
    if (f->expect > SMALL_FILE) {
        posix_fadvise(f->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        file_ring *r = calloc(1, sizeof(*r));
        if (!r)
            return EV_ENOMEM;
        f->r = r;
        for (int i = 0; i < RING_SLOTS; i++) {
            r->ring[i] = malloc(RING_CHUNK);
            if (!r->ring[i])
                return EV_ENOMEM;
        }
        pthread_mutex_init(&r->mu, NULL);
        pthread_cond_init(&r->cv, NULL);
        if (pthread_create(&r->th, NULL, reader_main, f) != 0) {
            pthread_mutex_destroy(&r->mu);
            pthread_cond_destroy(&r->cv);
            return ev_err__set(err, EV_ERROR, "cannot start a reader thread");
        }
        r->thread_started = true;
    } else {
        /* small file: read it whole. An empty file is read one byte
         * further, to see content its size does not show (a file of
         * /proc); for the others, a file that grew after the fstat
         * above is seen by the fstat at the end (file_finish). */
        size_t want = f->expect ? (size_t)f->expect : 1;
        f->sbuf = malloc(want);
        if (!f->sbuf)
            return EV_ENOMEM;
        ssize_t n = read_full(f->fd, f->sbuf, want);
        if (n < 0)
            return ev_err__set(err, EV_EIO, "'%s': read error: %s", f->path, strerror(errno));
        if ((uint64_t)n != f->expect)
            return file_fail_changed(f, err, "its size changed");
        f->slen = (size_t)n;
        f->total = (uint64_t)n;
        ev_hash__update(f->h, f->sbuf, f->slen);
    }
    *size = f->expect;
    return EV_OK;
}

static int file_finish(file_prod *f, ev_errbuf *err)
{
    if (f->total != f->expect)
        return file_fail_changed(f, err, "its size changed");
    struct stat st1;
    if (fstat(f->fd, &st1) != 0 || (uint64_t)st1.st_size != f->expect ||
        st1.st_mtim.tv_sec != f->mtime0.tv_sec || st1.st_mtim.tv_nsec != f->mtime0.tv_nsec)
        return file_fail_changed(f, err, "it was modified");
    int rc;
    if (f->res) {
        rc = ev_hash__final(f->h, &f->res->digests);
    } else {
        ev_digests d;
        rc = ev_hash__final(f->h, &d);
        if (rc == EV_OK)
            f->done(f->done_ctx, &d);
    }
    if (rc != EV_OK)
        return ev_err__set(err, rc, "hashing failed for '%s'", f->path);
    if (f->res) {
        f->res->bytes = f->total;
        f->res->done = true;
    }
    f->plan->finished = true;
    return ev_progress__add(f->progress, 0, 1, f->path, false) == EV_OK
               ? EV_OK
               : ev_err__set(err, EV_ECANCELED, "canceled by callback");
}

static int64_t file_read(void *ctx, void *buf, size_t len, ev_errbuf *err)
{
    file_plan *pl = ctx;
    file_prod *f = pl->open;
    if (!f)
        return ev_err__set(err, EV_ERROR, "'%s' was read before it was opened", pl->path);
    file_ring *r = f->r;
    if (!r) {
        size_t n = f->slen - f->spos < len ? f->slen - f->spos : len;
        if (n == 0) {
            int rc = f->plan->finished ? EV_OK : file_finish(f, err);
            return rc == EV_OK ? 0 : rc;
        }
        memcpy(buf, f->sbuf + f->spos, n);
        f->spos += n;
        f->served += n;
        if (ev_progress__add(f->progress, n, 0, f->path, false) != EV_OK)
            return ev_err__set(err, EV_ECANCELED, "canceled by callback");
        return (int64_t)n;
    }
    /* The lock is taken only at slot boundaries: within a slot the data is
     * ours until we release it. */
    if (!r->have_slot) {
        pthread_mutex_lock(&r->mu);
        while (r->produced == r->consumed && !r->eof)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->th_errno) {
            int e = r->th_errno;
            pthread_mutex_unlock(&r->mu);
            return ev_err__set(err, EV_EIO, "'%s': read error: %s", f->path, strerror(e));
        }
        if (r->produced == r->consumed) {
            /* end of file */
            pthread_mutex_unlock(&r->mu);
            int rc = f->plan->finished ? EV_OK : file_finish(f, err);
            return rc == EV_OK ? 0 : rc;
        }
        r->slot = (unsigned)(r->consumed % RING_SLOTS);
        r->slot_len = r->ring_len[r->slot];
        pthread_mutex_unlock(&r->mu);
        r->have_slot = true;
        r->cur_pos = 0;
    }
    size_t avail = r->slot_len - r->cur_pos;
    size_t n = avail < len ? avail : len;
    memcpy(buf, r->ring[r->slot] + r->cur_pos, n);
    r->cur_pos += n;
    f->served += n;
    if (f->served > f->expect)
        return file_fail_changed(f, err, "it grew");
    if (r->cur_pos == r->slot_len) {
        pthread_mutex_lock(&r->mu);
        r->consumed++;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        r->have_slot = false;
    }
    if (ev_progress__add(f->progress, n, 0, f->path, false) != EV_OK)
        return ev_err__set(err, EV_ECANCELED, "canceled by callback");
    return (int64_t)n;
}

static void file_stop(file_prod *f)
{
    file_ring *r = f->r;
    if (r) {
        if (r->thread_started) {
            pthread_mutex_lock(&r->mu);
            r->stop = true;
            pthread_cond_broadcast(&r->cv);
            pthread_mutex_unlock(&r->mu);
            pthread_join(r->th, NULL);
            pthread_mutex_destroy(&r->mu);
            pthread_cond_destroy(&r->cv);
        }
        for (int i = 0; i < RING_SLOTS; i++)
            free(r->ring[i]);
        free(r);
        f->r = NULL;
    }
    free(f->sbuf);
    f->sbuf = NULL;
    ev_hash__free(f->h);
    f->h = NULL;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

/* The state of reading goes at close: the plan alone stays. */
static void file_release(file_plan *pl)
{
    if (pl->open) {
        file_stop(pl->open);
        free(pl->open);
        pl->open = NULL;
    }
}

static int file_close(void *ctx, bool ok, ev_errbuf *err)
{
    (void)ok;
    (void)err;
    file_release(ctx);
    return EV_OK;
}

static void file_free(void *ctx)
{
    file_plan *pl = ctx;
    if (!pl)
        return;
    file_release(pl);
    free(pl);
}

int ev_producer__file(ev_producer *out, const char *path, uint64_t expect_size, uint32_t algs,
                      ev_filehash_result *res, ev_progress_state *progress)
{
    file_plan *f = calloc(1, sizeof(*f));
    if (!f)
        return EV_ENOMEM;
    f->path = path;
    f->expect = expect_size;
    f->algs = algs;
    f->res = res;
    f->progress = progress;
    if (res)
        memset(res, 0, sizeof(*res));
    out->size_hint = expect_size;
    out->open = file_open;
    out->read = file_read;
    out->close = file_close;
    out->ctx = f;
    return EV_OK;
}

void ev_producer__free(const ev_producer *p)
{
    if (!p->ctx)
        return;
    if (p->open == buf_open)
        buf_free(p->ctx);
    else if (p->open == file_open)
        file_free(p->ctx);
    else if (p->open == entry_open)
        entry_free(p->ctx);
}

int ev_producer__file_cb(ev_producer *out, const char *path, uint64_t expect_size,
                         uint32_t algs, void (*done)(void *ctx, const ev_digests *d),
                         void *done_ctx, ev_progress_state *progress)
{
    int rc = ev_producer__file(out, path, expect_size, algs, NULL, progress);
    if (rc == EV_OK) {
        file_plan *f = out->ctx;
        f->done = done;
        f->done_ctx = done_ctx;
    }
    return rc;
}

ev_progress_state *ev_producer__progress(const ev_producer *p)
{
    if (p->open != file_open || !p->ctx)
        return NULL;
    return ((file_plan *)p->ctx)->progress;
}
