/*
 * zip_write: the ZIP writer behind ev_sink__commit for EV_FORMAT_ZIP.
 *
 * The ZIP is written here rather than through libzip, so that each payload
 * byte is read once and several entries are written at once: stored entries
 * whose size is known get their offsets up front and are filled in parallel
 * (each worker: read-ahead thread reading and hashing, worker computing the
 * CRC and writing with pwrite); deflated and generated entries (tag files)
 * follow one by one. The layout is plain PKWARE APPNOTE 6.3: a local header
 * before each entry's data, no data descriptors (headers are written once
 * the CRC is known), a central directory, and ZIP64 records whenever a
 * size, an offset or the entry count needs them. Names are UTF-8 (flag bit
 * 11); times are MS-DOS local time plus the UTC "UT" extra field. The CRC-32
 * comes from libdeflate (carry-less multiply: several times zlib's speed, and
 * the CRC is a fifth of the work of packing otherwise).
 */

#include "container/container_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libdeflate.h>


#define ZW_BUF (1u << 20)
#define ZW_MAX_WORKERS 4
#define ZW_DEFLATE_LEVEL 1
#define ZIP32_MAX 0xFFFFFFFFu

static uint8_t *put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
    p = put16(p, v & 0xFFFFu);
    return put16(p, v >> 16);
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
    p = put32(p, (uint32_t)v);
    return put32(p, (uint32_t)(v >> 32));
}

static void dos_time(int64_t t, uint16_t *dtime, uint16_t *ddate)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!localtime_r(&tt, &tm) || tm.tm_year < 80) {
        *dtime = 0;
        *ddate = (uint16_t)((1 << 5) | 1); /* 1980-01-01 */
        return;
    }
    if (tm.tm_year > 207)
        tm.tm_year = 207; /* the last year MS-DOS dates can hold */
    *dtime = (uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
    *ddate = (uint16_t)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
}

static bool has_ut(const ev_sink_entry *e)
{
    return e->mtime > 0 && e->mtime <= INT32_MAX;
}

static size_t zip_name_len(const ev_sink *s, const ev_sink_entry *e)
{
    size_t n = strlen(s->bag_name) + 1;
    if (*e->path)
        n += strlen(e->path) + (e->is_dir ? 1 : 0);
    return n;
}

static uint8_t *put_name(uint8_t *p, const ev_sink *s, const ev_sink_entry *e)
{
    size_t bl = strlen(s->bag_name);
    memcpy(p, s->bag_name, bl);
    p += bl;
    *p++ = '/';
    if (*e->path) {
        size_t pl = strlen(e->path);
        memcpy(p, e->path, pl);
        p += pl;
        if (e->is_dir)
            *p++ = '/';
    }
    return p;
}

static size_t local_header_len(const ev_sink *s, const ev_sink_entry *e)
{
    return 30 + zip_name_len(s, e) + (e->zip64_local ? 20 : 0) + (has_ut(e) ? 9 : 0);
}

/* The local header of e (its sizes and CRC final) into h; returns its length. */
static size_t local_header(uint8_t *h, const ev_sink *s, const ev_sink_entry *e)
{
    uint16_t dt, dd;
    dos_time(e->mtime, &dt, &dd);
    size_t nl = zip_name_len(s, e);
    uint8_t *p = put32(h, 0x04034b50u);
    p = put16(p, e->zip64_local ? 45 : 20);
    p = put16(p, 0x0800);                        /* names are UTF-8 */
    p = put16(p, e->method);
    p = put16(p, dt);
    p = put16(p, dd);
    p = put32(p, e->crc);
    p = put32(p, e->zip64_local ? ZIP32_MAX : (uint32_t)e->csize);
    p = put32(p, e->zip64_local ? ZIP32_MAX : (uint32_t)e->usize);
    p = put16(p, (uint32_t)nl);
    p = put16(p, (e->zip64_local ? 20u : 0u) + (has_ut(e) ? 9u : 0u));
    p = put_name(p, s, e);
    if (e->zip64_local) {
        p = put16(p, 0x0001);
        p = put16(p, 16);
        p = put64(p, e->usize);
        p = put64(p, e->csize);
    }
    if (has_ut(e)) {
        p = put16(p, 0x5455);
        p = put16(p, 5);
        *p++ = 1;                                  /* modification time */
        p = put32(p, (uint32_t)e->mtime);
    }
    return (size_t)(p - h);
}

static int pwrite_all(int fd, const uint8_t *d, size_t len, uint64_t pos)
{
    while (len) {
        ssize_t w = pwrite(fd, d, len, (off_t)pos);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno ? errno : EIO;
        }
        d += w;
        pos += (uint64_t)w;
        len -= (size_t)w;
    }
    return 0;
}

static int write_failed(const ev_sink *s, int e, ev_errbuf *err)
{
    return ev_err__set(err, ev_err__from_errno(e), "cannot write '%s': %s%s", s->final_path,
                       strerror(e), e == ENOSPC || e == EDQUOT
                           ? " (the disk is full: free some space and pack again)" : "");
}

/* An entry's producer is read once: its state (for a payload file, its
 * path, buffers and hasher) is freed as soon as it is closed rather than
 * when the whole bag is written, so that a bag of many files does not hold
 * them all while its last entries (the views) are made. ev_producer__free()
 * then skips it. */
static int zw_close(ev_producer *p, bool ok, ev_errbuf *err)
{
    int rc = p->close(p->ctx, ok, err);
    ev_producer__free(p);
    p->ctx = NULL;
    return rc;
}

static int zw_size_changed(const ev_sink_entry *e, ev_errbuf *err)
{
    return ev_err__set(err, EV_EFORMAT, "'%s' changed size while it was being packed; nothing "
                       "was written. Make sure no program is writing to it, then pack again",
                       e->path);
}

/* ---- parallel phase: stored entries at known offsets ---- */

typedef struct zw_shared {
    ev_sink *s;
    size_t *idx;             /* entries of this phase, in file order */
    size_t n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t next;             /* next entry to take */
    unsigned running;        /* workers still running */
    int status;              /* first failure */
    ev_errbuf err;
    atomic_int stop;
} zw_shared;

static void zw_fail(zw_shared *z, int rc, const ev_errbuf *err)
{
    pthread_mutex_lock(&z->mu);
    if (z->status == EV_OK) {
        z->status = rc;
        if (err)
            z->err = *err;
    }
    atomic_store(&z->stop, 1);
    pthread_mutex_unlock(&z->mu);
}

/* Write one stored entry whose offset and size are fixed. */
static int zw_stored(zw_shared *z, ev_sink_entry *e, ev_producer *pr, uint8_t *buf,
                     ev_errbuf *err)
{
    ev_sink *s = z->s;
    size_t hl = local_header_len(s, e);
    if (e->is_dir) {
        size_t n = local_header(buf, s, e);
        int we = pwrite_all(s->fd, buf, n, e->lho);
        return we ? write_failed(s, we, err) : EV_OK;
    }
    uint64_t size = UINT64_MAX;
    int rc = pr->open(pr->ctx, &size, err);
    if (rc == EV_OK && size != UINT64_MAX && size != e->usize)
        rc = zw_size_changed(e, err);
    /* a small entry goes out with its header in one write */
    bool whole = rc == EV_OK && hl + e->usize <= ZW_BUF;
    uint64_t done = 0, pos = e->lho + hl;
    uint32_t crc = 0;
    uint8_t probe;
    while (rc == EV_OK) {
        if (atomic_load(&z->stop)) {
            rc = EV_ECANCELED;
            break;
        }
        uint8_t *dst = buf;
        size_t want = ZW_BUF;
        if (whole) {
            /* read exactly the planned size, then make sure nothing follows */
            dst = done < e->usize ? buf + hl + done : &probe;
            want = done < e->usize ? (size_t)(e->usize - done) : 1;
        }
        int64_t n = pr->read(pr->ctx, dst, want, err);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        if (done + (uint64_t)n > e->usize) {
            rc = zw_size_changed(e, err);
            break;
        }
        crc = libdeflate_crc32(crc, dst, (size_t)n);
        if (!whole) {
            int we = pwrite_all(s->fd, dst, (size_t)n, pos);
            if (we) {
                rc = write_failed(s, we, err);
                break;
            }
            pos += (uint64_t)n;
        }
        done += (uint64_t)n;
    }
    if (rc == EV_OK && done != e->usize)
        rc = zw_size_changed(e, err);
    int crc_rc = zw_close(pr, rc == EV_OK, err);
    if (rc == EV_OK)
        rc = crc_rc;
    if (rc != EV_OK)
        return rc;
    e->crc = crc;
    e->csize = e->usize;
    if (whole) {
        local_header(buf, s, e);
        int we = pwrite_all(s->fd, buf, hl + (size_t)e->usize, e->lho);
        return we ? write_failed(s, we, err) : EV_OK;
    }
    uint8_t *h = malloc(hl);
    if (!h)
        return EV_ENOMEM;
    local_header(h, s, e);
    int we = pwrite_all(s->fd, h, hl, e->lho);
    free(h);
    return we ? write_failed(s, we, err) : EV_OK;
}

static void *zw_worker(void *arg)
{
    zw_shared *z = arg;
    uint8_t *buf = malloc(ZW_BUF);
    ev_errbuf err;
    err.msg[0] = '\0';
    if (!buf)
        zw_fail(z, EV_ENOMEM, NULL);
    while (buf && !atomic_load(&z->stop)) {
        pthread_mutex_lock(&z->mu);
        size_t k = z->next < z->n ? z->next++ : SIZE_MAX;
        pthread_mutex_unlock(&z->mu);
        if (k == SIZE_MAX)
            break;
        size_t i = z->idx[k];
        int rc = zw_stored(z, &z->s->e[i], &z->s->prod[i], buf, &err);
        if (rc != EV_OK && rc != EV_ECANCELED)
            zw_fail(z, rc, &err);
        else if (rc == EV_ECANCELED && z->status == EV_OK)
            zw_fail(z, rc, &err);
    }
    free(buf);
    pthread_mutex_lock(&z->mu);
    z->running--;
    pthread_cond_broadcast(&z->cv);
    pthread_mutex_unlock(&z->mu);
    return NULL;
}

static unsigned zw_workers(size_t n)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned w = cpus > 1 ? (unsigned)(cpus < ZW_MAX_WORKERS ? cpus : ZW_MAX_WORKERS) : 1;
    return n < w ? (unsigned)(n ? n : 1) : w;
}

static int zw_parallel(ev_sink *s, size_t *idx, size_t n, ev_errbuf *err)
{
    if (n == 0)
        return EV_OK;
    zw_shared z;
    memset(&z, 0, sizeof(z));
    z.s = s;
    z.idx = idx;
    z.n = n;
    atomic_init(&z.stop, 0);
    pthread_mutex_init(&z.mu, NULL);
    pthread_cond_init(&z.cv, NULL);
    unsigned want = zw_workers(n);
    pthread_t th[ZW_MAX_WORKERS];
    unsigned started = 0;
    pthread_mutex_lock(&z.mu);
    for (unsigned i = 0; i < want; i++) {
        if (pthread_create(&th[i], NULL, zw_worker, &z) != 0)
            break;
        started++;
        z.running++;
    }
    pthread_mutex_unlock(&z.mu);
    if (started == 0) {
        /* no threads: do the work here */
        z.running = 1;
        zw_worker(&z);
    }
    /* This thread reports progress (the callback runs on the caller's
     * thread) and passes a cancellation on to the workers. */
    pthread_mutex_lock(&z.mu);
    while (z.running > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&z.cv, &z.mu, &ts);
        if (z.running == 0)
            break;
        pthread_mutex_unlock(&z.mu);
        if (ev_progress__add(s->progress, 0, 0, NULL, false) != EV_OK) {
            ev_errbuf ce;
            ev_err__set(&ce, EV_ECANCELED, "canceled by callback");
            zw_fail(&z, EV_ECANCELED, &ce);
        }
        pthread_mutex_lock(&z.mu);
    }
    pthread_mutex_unlock(&z.mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&z.mu);
    pthread_cond_destroy(&z.cv);
    if (z.status != EV_OK)
        return ev_err__copy(err, &z.err, z.status);
    return EV_OK;
}

/* ---- sequential phase: deflated and generated entries ---- */

typedef struct zw_out {
    ev_sink *s;
    uint8_t *buf;
    size_t len;
    uint64_t pos;            /* file offset of buf[0] */
} zw_out;

static int zw_flush(zw_out *o, ev_errbuf *err)
{
    if (!o->len)
        return EV_OK;
    int we = pwrite_all(o->s->fd, o->buf, o->len, o->pos);
    if (we)
        return write_failed(o->s, we, err);
    o->pos += o->len;
    o->len = 0;
    return EV_OK;
}

static int zw_put(zw_out *o, const void *d, size_t n, ev_errbuf *err)
{
    const uint8_t *p = d;
    while (n) {
        size_t k = ZW_BUF - o->len < n ? ZW_BUF - o->len : n;
        memcpy(o->buf + o->len, p, k);
        o->len += k;
        p += k;
        n -= k;
        if (o->len == ZW_BUF) {
            int rc = zw_flush(o, err);
            if (rc != EV_OK)
                return rc;
        }
    }
    return EV_OK;
}

/* Deflate worst case for n bytes is n + n/1000 + a little; above this the
 * local header reserves a ZIP64 field. */
#define ZW_DEFLATE_ZIP64_FROM 0xF0000000u

static int zw_sequential_one(zw_out *o, ev_sink_entry *e, ev_producer *pr, uint8_t *in,
                             ev_errbuf *err)
{
    ev_sink *s = o->s;
    uint64_t size = UINT64_MAX;
    int rc = pr->open(pr->ctx, &size, err);
    if (rc != EV_OK) {
        zw_close(pr, false, err);
        return rc;
    }
    e->method = e->compress ? 8 : 0;
    e->zip64_local = size == UINT64_MAX || size >= (e->compress ? ZW_DEFLATE_ZIP64_FROM : ZIP32_MAX);
    size_t hl = local_header_len(s, e);
    if ((rc = zw_flush(o, err)) != EV_OK) {
        zw_close(pr, false, err);
        return rc;
    }
    e->lho = o->pos;
    o->pos += hl; /* the header is written once the sizes are known */
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    bool z_ok = false;
    if (e->compress) {
        /* level 1: the deflated entries are the text files (record,
         * views, manifests, text payload); for them level 6 spends more
         * than twice the CPU for about a tenth less size (measured in
         * docs/performance.md, "Pack per file (issue 14)") */
        if (deflateInit2(&zs, ZW_DEFLATE_LEVEL, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            zw_close(pr, false, err);
            return EV_ENOMEM;
        }
        z_ok = true;
    }
    uint8_t zbuf[65536];
    uint32_t crc = 0;
    uint64_t usize = 0, start = o->pos + o->len;
    for (;;) {
        int64_t n = pr->read(pr->ctx, in, ZW_BUF, err);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        crc = libdeflate_crc32(crc, in, (size_t)n);
        usize += (uint64_t)n;
        if (!e->compress) {
            if (n == 0)
                break;
            if ((rc = zw_put(o, in, (size_t)n, err)) != EV_OK)
                break;
            continue;
        }
        zs.next_in = in;
        zs.avail_in = (uInt)n;
        int flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
        int zr;
        do {
            zs.next_out = zbuf;
            zs.avail_out = sizeof(zbuf);
            zr = deflate(&zs, flush);
            if (zr == Z_STREAM_ERROR) {
                rc = ev_err__set(err, EV_ERROR, "compression failed for '%s'", e->path);
                break;
            }
            if ((rc = zw_put(o, zbuf, sizeof(zbuf) - zs.avail_out, err)) != EV_OK)
                break;
        } while (zs.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
        if (rc != EV_OK || n == 0)
            break;
    }
    if (z_ok)
        deflateEnd(&zs);
    int crc_rc = zw_close(pr, rc == EV_OK, err);
    if (rc == EV_OK)
        rc = crc_rc;
    if (rc == EV_OK && size != UINT64_MAX && usize != size)
        rc = zw_size_changed(e, err);
    if (rc != EV_OK)
        return rc;
    e->crc = crc;
    e->usize = usize;
    e->csize = o->pos + o->len - start;
    if (!e->zip64_local && (e->usize >= ZIP32_MAX || e->csize >= ZIP32_MAX))
        return ev_err__set(err, EV_ERROR, "'%s' grew past 4 GiB while being packed", e->path);
    uint8_t h[30 + 4096 + 32];
    uint8_t *hp = hl <= sizeof(h) ? h : malloc(hl);
    if (!hp)
        return EV_ENOMEM;
    local_header(hp, s, e);
    int we = pwrite_all(s->fd, hp, hl, e->lho);
    if (hp != h)
        free(hp);
    return we ? write_failed(s, we, err) : EV_OK;
}

/* ---- central directory ---- */

static int zw_central(zw_out *o, const size_t *order, size_t n, ev_errbuf *err)
{
    ev_sink *s = o->s;
    int rc = zw_flush(o, err);
    if (rc != EV_OK)
        return rc;
    uint64_t cd_start = o->pos;
    for (size_t k = 0; k < n && rc == EV_OK; k++) {
        const ev_sink_entry *e = &s->e[order[k]];
        size_t nl = zip_name_len(s, e);
        bool zu = e->usize >= ZIP32_MAX, zc = e->csize >= ZIP32_MAX, zo = e->lho >= ZIP32_MAX;
        size_t z64 = (zu ? 8u : 0u) + (zc ? 8u : 0u) + (zo ? 8u : 0u);
        size_t xl = (z64 ? 4 + z64 : 0) + (has_ut(e) ? 9 : 0);
        uint8_t *h = malloc(46 + nl + xl);
        if (!h)
            return EV_ENOMEM;
        uint16_t dt, dd;
        dos_time(e->mtime, &dt, &dd);
        bool v45 = z64 || e->zip64_local;
        uint8_t *p = put32(h, 0x02014b50u);
        p = put16(p, (3u << 8) | 63u);              /* made by: Unix, APPNOTE 6.3 */
        p = put16(p, v45 ? 45 : 20);
        p = put16(p, 0x0800);
        p = put16(p, e->method);
        p = put16(p, dt);
        p = put16(p, dd);
        p = put32(p, e->crc);
        p = put32(p, zc ? ZIP32_MAX : (uint32_t)e->csize);
        p = put32(p, zu ? ZIP32_MAX : (uint32_t)e->usize);
        p = put16(p, (uint32_t)nl);
        p = put16(p, (uint32_t)xl);
        p = put16(p, 0);                            /* comment */
        p = put16(p, 0);                            /* disk */
        p = put16(p, 0);                            /* internal attributes */
        p = put32(p, e->is_dir ? (040755u << 16) | 0x10u : (0100644u << 16));
        p = put32(p, zo ? ZIP32_MAX : (uint32_t)e->lho);
        p = put_name(p, s, e);
        if (z64) {
            p = put16(p, 0x0001);
            p = put16(p, (uint32_t)z64);
            if (zu)
                p = put64(p, e->usize);
            if (zc)
                p = put64(p, e->csize);
            if (zo)
                p = put64(p, e->lho);
        }
        if (has_ut(e)) {
            p = put16(p, 0x5455);
            p = put16(p, 5);
            *p++ = 1;
            p = put32(p, (uint32_t)e->mtime);
        }
        rc = zw_put(o, h, (size_t)(p - h), err);
        free(h);
    }
    if (rc != EV_OK)
        return rc;
    uint64_t cd_size = o->pos + o->len - cd_start;
    uint8_t t[56 + 20 + 22], *p = t;
    bool z64 = n >= 0xFFFFu || cd_size >= ZIP32_MAX || cd_start >= ZIP32_MAX;
    if (z64) {
        uint64_t eocd64 = o->pos + o->len;
        p = put32(p, 0x06064b50u);
        p = put64(p, 44);
        p = put16(p, (3u << 8) | 63u);
        p = put16(p, 45);
        p = put32(p, 0);
        p = put32(p, 0);
        p = put64(p, n);
        p = put64(p, n);
        p = put64(p, cd_size);
        p = put64(p, cd_start);
        p = put32(p, 0x07064b50u);                  /* locator */
        p = put32(p, 0);
        p = put64(p, eocd64);
        p = put32(p, 1);
    }
    p = put32(p, 0x06054b50u);
    p = put16(p, 0);
    p = put16(p, 0);
    p = put16(p, n >= 0xFFFFu ? 0xFFFFu : (uint32_t)n);
    p = put16(p, n >= 0xFFFFu ? 0xFFFFu : (uint32_t)n);
    p = put32(p, cd_size >= ZIP32_MAX ? ZIP32_MAX : (uint32_t)cd_size);
    p = put32(p, cd_start >= ZIP32_MAX ? ZIP32_MAX : (uint32_t)cd_start);
    p = put16(p, 0);
    if ((rc = zw_put(o, t, (size_t)(p - t), err)) != EV_OK)
        return rc;
    return zw_flush(o, err);
}

/* After the entries at fixed offsets: keep the producers of the others
 * only (s->prod then follows their order), and free the array that held
 * one for every payload file. */
static int zw_keep_unwritten(ev_sink *s)
{
    size_t left = 0;
    for (size_t i = 0; i < s->n; i++)
        left += !s->e[i].fixed;
    ev_producer *keep = ev__reallocarray(NULL, left ? left : 1, sizeof(*keep));
    if (!keep)
        return EV_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!s->e[i].fixed)
            keep[k++] = s->prod[i];
    /* the others were freed when written (zw_close) */
    free(s->prod);
    s->prod = keep;
    s->nprod = s->capprod = left;
    return EV_OK;
}

int ev_sink__commit_zip(ev_sink *s, ev_errbuf *err)
{
    /* Entries without a time of their own (tag files, folders) get the time
     * of the commit, once, so that local and central headers agree. */
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < s->n; i++)
        if (s->e[i].mtime <= 0)
            s->e[i].mtime = now;
    size_t *order = ev__reallocarray(NULL, s->n ? s->n : 1, sizeof(*order));
    if (!order)
        return EV_ENOMEM;
    /* Folders and stored entries whose size is known come first, at offsets
     * fixed now; the rest follow in the order they were added. */
    size_t nfixed = 0;
    uint64_t off = 0;
    for (size_t i = 0; i < s->n; i++) {
        ev_sink_entry *e = &s->e[i];
        uint64_t hint = s->prod[i].size_hint;
        if (!e->is_dir && (e->compress || hint == UINT64_MAX))
            continue;
        e->fixed = true;
        e->method = 0;
        e->usize = e->is_dir ? 0 : hint;
        e->csize = e->usize;
        e->zip64_local = e->usize >= ZIP32_MAX;
        e->lho = off;
        off += local_header_len(s, e) + e->usize;
        order[nfixed++] = i;
    }
    int rc = zw_parallel(s, order, nfixed, err);
    if (rc == EV_OK)
        rc = zw_keep_unwritten(s);
    zw_out o;
    memset(&o, 0, sizeof(o));
    o.s = s;
    o.pos = off;
    size_t n = nfixed, k = 0;
    uint8_t *in = NULL;
    if (rc == EV_OK) {
        o.buf = malloc(ZW_BUF);
        in = malloc(ZW_BUF);
        if (!o.buf || !in)
            rc = EV_ENOMEM;
    }
    for (size_t i = 0; i < s->n && rc == EV_OK; i++) {
        ev_sink_entry *e = &s->e[i];
        if (e->fixed)
            continue;
        rc = zw_sequential_one(&o, e, &s->prod[k++], in, err);
        order[n++] = i;
        if (rc == EV_OK && ev_progress__add(s->progress, 0, 0, NULL, false) != EV_OK)
            rc = ev_err__set(err, EV_ECANCELED, "canceled by callback");
    }
    if (rc == EV_OK)
        rc = zw_central(&o, order, n, err);
    free(in);
    free(o.buf);
    free(order);
    if (rc != EV_OK)
        return rc;
    if (close(s->fd) != 0) {
        int e = errno;
        s->fd = -1;
        return write_failed(s, e, err);
    }
    s->fd = -1;
    int prc = ev__publish(s->tmpzip, s->final_path, s->replace ? EV_PUBLISH_REPLACE : 0,
                          "bundle", err);
    if (prc != EV_OK)
        return prc;
    free(s->tmpzip);
    s->tmpzip = NULL;
    return EV_OK;
}
