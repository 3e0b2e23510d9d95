/*
 * srcread: the source reader: an AVIOContext whose reads also feed the
 * source's SHA-256 (and, for Matroska, a structure walk and the Cluster
 * CRC-32 checks) on a second thread, so that the source is read once.
 */
#include "transcode/transcode_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libdeflate.h>
#include <libavutil/intreadwrite.h>

#include "base/hash.h"

/* ------------------------------------------------------------------------ */
/* Source reader: the demuxer's reads also feed the source's SHA-256         */
/* ------------------------------------------------------------------------ */

/*
 * The demuxer reads the source through our AVIOContext. Every read that
 * continues the bytes handed on so far is copied into a ring of chunks, which
 * a second thread hashes (and walks, for Matroska), so the source is read from
 * the file once instead of twice. What the demuxer skips or reads out of order
 * (an index at the end, a seek), the thread reads itself at the end: the digest
 * is always over bytes 0..EOF in order, whatever the demuxer did.
 */

#define SR_CHUNK (1u << 20)
#define SR_NCHUNK 8
#define SR_AVIO_BUF (1 << 15)

/* Matroska structure walk over the byte stream (see mkv_feed). */
#define MKV_DEPTH 8
typedef struct mkv_walk {
    bool on, done;           /* walking; stopped (end of segments, or damage) */
    bool bad;
    uint64_t off;            /* offset of the next byte fed */
    uint64_t size;           /* file size at open */
    uint64_t skip;           /* payload bytes still to skip */
    uint8_t hdr[12];
    size_t hl;
    int depth;
    uint32_t id[MKV_DEPTH];
    uint64_t end[MKV_DEPTH]; /* UINT64_MAX = unknown size */
    /* CRC-32 of Clusters that carry one as their first child */
    bool crc_on;             /* check them */
    int crc_state;           /* 0 none, 1 reading the stored value, 2 summing */
    uint64_t crc_first;      /* where the cluster's first child starts */
    uint64_t crc_at, crc_end; /* the Cluster's start and end */
    uint8_t crc_stored[4];
    int crc_got;
    uint32_t crc;
    char msg[400];
} mkv_walk;

struct ev_srcread {
    char *path;
    int fd, hfd;
    uint64_t size;           /* at open */
    int64_t pos;             /* demuxer's position in fd */
    uint64_t fed;            /* bytes [0, fed) were handed to the ring */
    AVIOContext *pb;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool sync_ok;
    uint8_t *buf[SR_NCHUNK];
    size_t len[SR_NCHUNK];
    bool ready[SR_NCHUNK];   /* filled: owned by the hashing thread */
    unsigned w, r;
    bool finish, abort;
    bool dropped;            /* the producer stopped feeding (ring full) */
    pthread_t th;
    bool started, joined;
    /* owned by the hashing thread until joined */
    ev_hasher *h;
    uint64_t hashed;
    uint64_t own_reads;      /* bytes the thread read itself */
    int rc;
    ev_errbuf err;
    mkv_walk mkv;
};

static uint32_t rb32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *mkv_id_name(uint32_t id)
{
    switch (id) {
    case 0x18538067: return "Segment";
    case 0x1F43B675: return "Cluster";
    case 0x114D9B74: return "SeekHead";
    case 0x1549A966: return "Info";
    case 0x1654AE6B: return "Tracks";
    case 0x1C53BB6B: return "Cues";
    case 0x1254C367: return "Tags";
    case 0x1043A770: return "Chapters";
    case 0x1941A469: return "Attachments";
    case 0xA3: return "SimpleBlock";
    case 0xA0: return "BlockGroup";
    case 0xA1: return "Block";
    case 0xE7: return "Timestamp";
    case 0xEC: return "Void";
    case 0xBF: return "CRC-32";
    default: return "element";
    }
}

static bool mkv_level1(uint32_t id)
{
    return id == 0x1F43B675 || id == 0x114D9B74 || id == 0x1549A966 || id == 0x1654AE6B ||
           id == 0x1C53BB6B || id == 0x1254C367 || id == 0x1043A770 || id == 0x1941A469 ||
           id == 0x1B538667; /* SignatureSlot (old files) */
}

static bool mkv_global(uint32_t id)
{
    return id == 0xEC || id == 0xBF; /* Void, CRC-32 */
}

/* Children that may appear in a Cluster / a BlockGroup (Matroska v4, with the
 * deprecated ones that old files still carry). */
static bool mkv_cluster_child(uint32_t id)
{
    return id == 0xE7 || id == 0x5854 || id == 0xA7 || id == 0xAB || id == 0xA3 ||
           id == 0xA0 || id == 0xAF || mkv_global(id);
}

static bool mkv_blockgroup_child(uint32_t id)
{
    return id == 0xA1 || id == 0xA2 || id == 0x75A1 || id == 0x9B || id == 0xFA ||
           id == 0xFB || id == 0xFD || id == 0xA4 || id == 0x75A2 || id == 0x8E ||
           id == 0xC8 || mkv_global(id);
}

static void mkv_damage(mkv_walk *m, uint64_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void mkv_damage(mkv_walk *m, uint64_t at, const char *fmt, ...)
{
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(m->msg, sizeof(m->msg), "%s at byte %llu", what, (unsigned long long)at);
    m->bad = m->done = true;
}

/* Length of an EBML vint from its first byte (1..8), 0 if invalid. */
static int vint_len(uint8_t b)
{
    for (int l = 1; l <= 8; l++)
        if (b & (0x80 >> (l - 1)))
            return l;
    return 0;
}

/* Where an element with this ID may appear under `parent` (0 = top level):
 * 1 = skip it, 2 = enter it, 0 = not here (damage). */
static int mkv_place(uint32_t parent, uint32_t id)
{
    switch (parent) {
    case 0x18538067: /* Segment */
        return id == 0x1F43B675 ? 2 : mkv_level1(id) || mkv_global(id) ? 1 : 0;
    case 0x1F43B675: /* Cluster */
        return id == 0xA0 ? 2 : mkv_cluster_child(id) ? 1 : 0;
    case 0xA0: /* BlockGroup */
        return mkv_blockgroup_child(id) ? 1 : 0;
    default:
        return 1;
    }
}

/* Close the masters an element starting at `at` with this ID is not inside
 * of: a known-size master ends at its size; an unknown-sized Cluster where a
 * level-1 element starts, an unknown-sized Segment where another top-level
 * element starts. */
static void mkv_close(mkv_walk *m, uint64_t at, uint32_t id)
{
    while (m->depth > 0) {
        uint32_t pid = m->id[m->depth - 1];
        uint64_t pend = m->end[m->depth - 1];
        bool top = id == 0x18538067 || id == 0x1A45DFA3;
        if (pend != UINT64_MAX ? at >= pend
                               : (pid == 0x1F43B675 && (mkv_level1(id) || top)) ||
                                     (pid == 0x18538067 && top))
            m->depth--;
        else
            break;
    }
}

/* One element header has been read (at `at`, header length hl): check it
 * against its parent and the file, and decide to skip or enter it. */
static void mkv_element(mkv_walk *m, uint64_t at, uint32_t id, uint64_t sz, bool unknown,
                        size_t hl)
{
    uint64_t end = unknown ? UINT64_MAX : at + hl + sz;
    mkv_close(m, at, id);
    uint32_t parent = m->depth ? m->id[m->depth - 1] : 0;
    int place;
    if (parent == 0) {
        if (id == 0x18538067) {
            place = 2;
        } else if (id == 0x1A45DFA3 && !unknown) {
            place = 1; /* EBML header */
        } else {
            m->done = true; /* bytes after the last segment: not our concern */
            return;
        }
    } else if (!(place = mkv_place(parent, id))) {
        mkv_damage(m, at, "unexpected Matroska element 0x%X inside a %s (the structure is "
                   "broken)", (unsigned)id, mkv_id_name(parent));
        return;
    }
    if (unknown && id != 0x18538067 && id != 0x1F43B675) {
        mkv_damage(m, at, "Matroska %s (0x%X) without a size (the structure is broken)",
                   mkv_id_name(id), (unsigned)id);
        return;
    }
    if (!unknown && end > m->size) {
        mkv_damage(m, at, "the file is truncated: Matroska %s claims %llu bytes, but the file "
                   "ends %llu bytes after its start", mkv_id_name(id),
                   (unsigned long long)(end - at), (unsigned long long)(m->size - at));
        return;
    }
    if (!unknown && m->depth && m->end[m->depth - 1] != UINT64_MAX &&
        end > m->end[m->depth - 1]) {
        mkv_damage(m, at, "Matroska %s (%llu bytes) runs past the end of its %s (the "
                   "structure is broken)", mkv_id_name(id), (unsigned long long)(end - at),
                   mkv_id_name(parent));
        return;
    }
    if (place == 1) {
        if (m->crc_on && id == 0xBF && sz == 4 && at == m->crc_first) {
            m->crc_state = 1; /* the next 4 bytes are the stored CRC */
            m->crc_got = 0;
            m->crc_end = m->end[m->depth - 1];
            return;
        }
        m->skip = sz;
        return;
    }
    if (id == 0x1F43B675 && !unknown && m->crc_state == 0) {
        m->crc_first = at + hl;
        m->crc_at = at;
    }
    if (m->depth >= MKV_DEPTH) {
        mkv_damage(m, at, "Matroska elements nested too deeply");
        return;
    }
    m->id[m->depth] = id;
    m->end[m->depth] = end;
    m->depth++;
}

/* The end of a cluster whose CRC-32 is being summed: compare. */
static void mkv_crc_end(mkv_walk *m)
{
    m->crc_state = 0;
    m->crc_first = 0;
    uint32_t stored = (uint32_t)m->crc_stored[0] | (uint32_t)m->crc_stored[1] << 8 |
                      (uint32_t)m->crc_stored[2] << 16 | (uint32_t)m->crc_stored[3] << 24;
    if ((uint32_t)m->crc != stored)
        mkv_damage(m, m->crc_at, "a Matroska Cluster fails its CRC-32 check (stored %08X, "
                   "computed %08X: its bytes changed after it was written); the Cluster "
                   "starts", (unsigned)stored, (unsigned)m->crc);
}

/* Feed the next n bytes of the file (in order). */
static void mkv_feed(mkv_walk *m, const uint8_t *p, size_t n)
{
    while (n && !m->done) {
        if (m->crc_state == 2 && m->off >= m->crc_end) {
            mkv_crc_end(m);
            continue;
        }
        if (m->crc_state == 1) {
            m->crc_stored[m->crc_got++] = *p++;
            m->off++;
            n--;
            if (m->crc_got == 4) {
                m->crc_state = 2;
                m->crc = 0;
            }
            continue;
        }
        if (m->skip) {
            uint64_t k = m->skip < n ? m->skip : n;
            if (m->crc_state == 2 && m->off + k > m->crc_end)
                k = m->crc_end - m->off;
            if (m->crc_state == 2)
                m->crc = libdeflate_crc32(m->crc, p, (size_t)k);
            m->skip -= k;
            m->off += k;
            p += k;
            n -= (size_t)k;
            continue;
        }
        if (m->crc_state == 2)
            m->crc = libdeflate_crc32(m->crc, p, 1);
        m->hdr[m->hl++] = *p++;
        m->off++;
        n--;
        int il = vint_len(m->hdr[0]);
        uint64_t at = m->off - m->hl;
        if (il == 0 || il > 4) {
            mkv_damage(m, at, "invalid Matroska element ID (the structure is broken)");
            return;
        }
        if (m->hl <= (size_t)il)
            continue;
        int sl = vint_len(m->hdr[il]);
        if (sl == 0) {
            mkv_damage(m, at, "invalid Matroska element size (the structure is broken)");
            return;
        }
        if (m->hl < (size_t)(il + sl))
            continue;
        uint32_t id = 0;
        for (int i = 0; i < il; i++)
            id = id << 8 | m->hdr[i];
        uint64_t sz = m->hdr[il] & (0xFF >> sl);
        bool ones = sz == (uint64_t)(0xFF >> sl);
        for (int i = 1; i < sl; i++) {
            sz = sz << 8 | m->hdr[il + i];
            ones = ones && m->hdr[il + i] == 0xFF;
        }
        size_t hl = m->hl;
        m->hl = 0;
        mkv_element(m, at, id, sz, ones, hl);
    }
}

/* At the end of the file: an element header cut short is truncation too. */
static void mkv_end(mkv_walk *m)
{
    if (!m->done && m->crc_state == 2 && m->off >= m->crc_end)
        mkv_crc_end(m);
    if (!m->done && m->hl)
        mkv_damage(m, m->off - m->hl, "the file is truncated inside a Matroska element "
                   "header");
}

static void sr_consume(ev_srcread *s, const uint8_t *p, size_t n)
{
    if (s->hashed == 0 && n >= 4 && !s->mkv.on && rb32(p) == 0x1A45DFA3)
        s->mkv.on = true;
    ev_hash__update(s->h, p, n);
    if (s->mkv.on)
        mkv_feed(&s->mkv, p, n);
    s->hashed += n;
}

static void *sr_thread(void *arg)
{
    ev_srcread *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->ready[s->r] && !s->finish && !s->abort && !s->dropped)
            pthread_cond_wait(&s->cv, &s->mu);
        bool have = s->ready[s->r] && !s->abort;
        pthread_mutex_unlock(&s->mu);
        if (!have)
            break;
        sr_consume(s, s->buf[s->r], s->len[s->r]);
        pthread_mutex_lock(&s->mu);
        s->ready[s->r] = false;
        s->len[s->r] = 0;
        s->r = (s->r + 1) % SR_NCHUNK;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_lock(&s->mu);
    bool aborted = s->abort;
    pthread_mutex_unlock(&s->mu);
    if (aborted)
        return NULL;
    /* what the demuxer did not read in order, or was not fed: read it here
     * (the producer no longer touches the ring, so a chunk is free to use) */
    uint8_t *b = s->buf[s->r];
    for (;;) {
        ssize_t got = pread(s->hfd, b, SR_CHUNK, (off_t)s->hashed);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            s->rc = ev_err__set(&s->err, EV_EIO, "read error in '%s': %s", s->path,
                                strerror(errno));
            return NULL;
        }
        if (got == 0)
            break;
        s->own_reads += (uint64_t)got;
        sr_consume(s, b, (size_t)got);
    }
    if (s->mkv.on)
        mkv_end(&s->mkv);
    return NULL;
}

/* Hand bytes [s->fed, s->fed + n) to the hashing thread. */
static void sr_feed(ev_srcread *s, const uint8_t *p, size_t n)
{
    while (n) {
        unsigned w = s->w;
        size_t k = SR_CHUNK - s->len[w];
        if (k > n)
            k = n;
        memcpy(s->buf[w] + s->len[w], p, k);
        s->len[w] += k;
        s->fed += k;
        p += k;
        n -= k;
        if (s->len[w] == SR_CHUNK) {
            pthread_mutex_lock(&s->mu);
            s->ready[w] = true;
            s->w = (w + 1) % SR_NCHUNK;
            /* The thread is behind (hashing is slower than this demuxer):
             * rather than wait for it, stop feeding; it reads the rest of
             * the file itself, at its own pace. */
            if (s->ready[s->w])
                s->dropped = true;
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            if (s->dropped)
                return;
        }
    }
}

static int sr_read(void *opaque, uint8_t *buf, int size)
{
    ev_srcread *s = opaque;
    ssize_t got;
    do
        got = read(s->fd, buf, (size_t)size);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return AVERROR(errno);
    if (got == 0)
        return AVERROR_EOF;
    /* hand on what continues the bytes fed so far (a read that overlaps
     * them, after a seek back, continues them too) */
    uint64_t a = (uint64_t)s->pos, b = a + (uint64_t)got;
    if (s->started && !s->dropped && a <= s->fed && s->fed < b)
        sr_feed(s, buf + (s->fed - a), (size_t)(b - s->fed));
    s->pos += got;
    return (int)got;
}

static int64_t sr_seek(void *opaque, int64_t off, int whence)
{
    ev_srcread *s = opaque;
    if (whence & AVSEEK_SIZE) {
        struct stat st;
        return fstat(s->fd, &st) == 0 ? (int64_t)st.st_size : AVERROR(errno);
    }
    off_t r = lseek(s->fd, (off_t)off, whence & ~AVSEEK_FORCE);
    if (r < 0)
        return AVERROR(errno);
    s->pos = (int64_t)r;
    return (int64_t)r;
}

int ev_transcode__srcread_open(ev_srcread **out, const char *path, bool check_crc,
                               ev_errbuf *err)
{
    *out = NULL;
    ev_srcread *s = ev__calloc(1, sizeof(*s));
    if (!s)
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    s->fd = s->hfd = -1;
    int rc;
    s->path = ev__strdup(path);
    if (!s->path) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto fail;
    }
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd >= 0)
        s->hfd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0 || s->hfd < 0) {
        int e = errno;
        rc = ev_err__set(err, ev_err__from_errno(e), "cannot open '%s': %s", path,
                         strerror(e));
        goto fail;
    }
    struct stat st;
    if (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = ev_err__set(err, EV_EINVAL, "'%s' is not a regular file", path);
        goto fail;
    }
    s->size = (uint64_t)st.st_size;
    s->mkv.size = s->size;
    s->mkv.crc_on = check_crc;
    if ((rc = ev_hash__new(&s->h, EV_ALG_SHA256)) != EV_OK) {
        rc = ev_err__set(err, rc, "cannot start SHA-256");
        goto fail;
    }
    for (int i = 0; i < SR_NCHUNK; i++) {
        if (!(s->buf[i] = malloc(SR_CHUNK))) {
            rc = ev_err__set(err, EV_ENOMEM, "out of memory");
            goto fail;
        }
    }
    uint8_t *ab = av_malloc(SR_AVIO_BUF);
    if (ab)
        s->pb = avio_alloc_context(ab, SR_AVIO_BUF, 0, s, sr_read, NULL, sr_seek);
    if (!s->pb) {
        av_free(ab);
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto fail;
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        rc = ev_err__set(err, EV_ERROR, "cannot create a mutex");
        goto fail;
    }
    if (pthread_cond_init(&s->cv, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        rc = ev_err__set(err, EV_ERROR, "cannot create a condition variable");
        goto fail;
    }
    s->sync_ok = true;
    /* Without a thread, nothing is fed: the digest is then computed by
     * reading the whole file in ev_transcode__srcread_finish. */
    s->started = pthread_create(&s->th, NULL, sr_thread, s) == 0;
    *out = s;
    return EV_OK;
fail:
    ev_transcode__srcread_free(s);
    return rc;
}

AVIOContext *ev_transcode__srcread_pb(ev_srcread *s)
{
    return s ? s->pb : NULL;
}

int ev_transcode__srcread_finish(ev_srcread *s, char hex[65], uint64_t *size, ev_errbuf *err)
{
    hex[0] = '\0';
    *size = 0;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        if (s->len[s->w] && !s->ready[s->w]) {
            s->ready[s->w] = true;
            s->w = (s->w + 1) % SR_NCHUNK;
        }
        s->finish = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->th, NULL);
        s->joined = true;
    } else {
        s->finish = true;
        sr_thread(s); /* nothing was fed: reads the whole file */
    }
    if (s->rc != EV_OK)
        return ev_err__copy(err, &s->err, s->rc);
    if (s->mkv.bad)
        return ev_err__set(err, EV_EFORMAT, "%s", s->mkv.msg);
    ev_digests d;
    if (ev_hash__final(s->h, &d) != EV_OK)
        return ev_err__set(err, EV_ERROR, "SHA-256 failed");
    memcpy(hex, d.hex[EV_HASH_SHA256], 65);
    *size = s->hashed;
    return EV_OK;
}

uint64_t ev_transcode__srcread_own_reads(const ev_srcread *s)
{
    return s ? s->own_reads : 0;
}

void ev_transcode__srcread_free(ev_srcread *s)
{
    if (!s)
        return;
    if (s->started && !s->joined) {
        pthread_mutex_lock(&s->mu);
        s->abort = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->th, NULL);
    }
    if (s->sync_ok) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
    }
    if (s->pb) {
        av_freep(&s->pb->buffer);
        avio_context_free(&s->pb);
    }
    for (int i = 0; i < SR_NCHUNK; i++)
        free(s->buf[i]);
    ev_hash__free(s->h);
    if (s->fd >= 0)
        close(s->fd);
    if (s->hfd >= 0)
        close(s->hfd);
    free(s->path);
    free(s);
}
