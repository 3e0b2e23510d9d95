/*
 * container: reading and writing a bag as a ZIP (libzip) or as a folder.
 *
 * Reading treats every entry name and size as hostile: names are checked
 * for absolute paths, "..", backslashes, control characters, symlinks,
 * duplicates and case/normalization collisions; sizes are claims, capped
 * and checked while reading.
 *
 * Writing is atomic: a ZIP is written to a hidden temporary file beside the
 * target (see "ZIP writer" below) and renamed into place without replacing
 * anything; a folder bag is written to a temporary folder and renamed. Each
 * payload byte is read once: a reader thread reads ahead and hashes while the
 * writer computes the CRC and writes, and several files are written at once.
 */
#include "container/container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libdeflate.h>
#include <uninorm.h>
#include <unistr.h>
#include <zlib.h>

#include "bag/bag.h"

/* ------------------------------------------------------------------------ */
/* progress                                                                  */
/* ------------------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ev_progress__init(ev_progress_state *st, ev_progress_cb cb, void *payload, const char *stage,
                       uint64_t bytes_total, uint64_t files_total)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_init(&st->mu, NULL);
    st->owner = pthread_self();
    st->cb = cb;
    st->payload = payload;
    st->p.version = EV_PROGRESS_VERSION;
    st->p.stage = stage;
    st->p.bytes_total = bytes_total;
    st->p.files_total = files_total;
}

/* Any thread may count; only the thread that set the state up calls the
 * callback (the API promises the caller's thread). A cancellation is
 * remembered, so that every thread sees it. */
int ev_progress__add(ev_progress_state *st, uint64_t bytes, uint64_t files, const char *current,
                     bool force)
{
    if (!st)
        return EV_OK;
    pthread_mutex_lock(&st->mu);
    st->p.bytes_done += bytes;
    st->p.files_done += files;
    int rc = st->canceled ? EV_ECANCELED : EV_OK;
    if (rc == EV_OK && st->cb && pthread_equal(pthread_self(), st->owner)) {
        int64_t t = now_ms();
        if (force || t - st->last_ms >= 100) {
            st->last_ms = t;
            st->p.current = current;
            ev_progress snap = st->p;
            pthread_mutex_unlock(&st->mu);
            bool stop = st->cb(&snap, st->payload) != 0;
            pthread_mutex_lock(&st->mu);
            if (stop) {
                st->canceled = true;
                rc = EV_ECANCELED;
            }
        }
    }
    pthread_mutex_unlock(&st->mu);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* reading                                                                   */
/* ------------------------------------------------------------------------ */

struct ev_store {
    char *path;
    char *bag_name;
    bool is_zip;
    struct raw_cd *raw;      /* the central directory as we read it, by ZIP
                                index (ZIP only) */
    uint64_t nraw;
    ev_store_entry *e;
    size_t n, cap;
    struct cursor_pool *pool; /* cursors to reuse */
};

#define CURSOR_POOL_MAX 8
struct cursor_pool {
    pthread_mutex_t mu;
    ev_store_cursor *c[CURSOR_POOL_MAX];
    size_t n;
};

static void cursor_destroy(ev_store_cursor *c);

/* What the central directory says of an entry, and where its data lies
 * according to its local header (checked against the central directory
 * when the ZIP is opened). Entries are read with pread from data_off. */
struct raw_cd {
    uint64_t lho;            /* local header offset */
    uint64_t csize, usize;
    uint64_t data_off;       /* first byte of the data */
    uint64_t end;            /* end of the data (and of its data descriptor) */
    uint32_t crc;
    uint16_t method;
    uint16_t flags;          /* general purpose bits */
    bool placed;             /* data_off/end are known */
};

struct ev_store_cursor {
    const ev_store *s;
    int fd;                  /* the ZIP file; -1 until needed */
};

struct ev_entry_reader {
    const ev_store_entry *entry;
    int fd;                  /* folder bag: the file */
    uint64_t pos;
    uint64_t claimed;
    /* ZIP entries: read with pread; deflated ones are inflated here,
     * strictly (the stream must end exactly at the end of the entry's
     * compressed data), and every entry's CRC is checked at its end */
    bool zip, inflating, z_end;
    bool crc_failed;     /* the data does not match the CRC in its header */
    bool crc_skip;       /* seeked: the CRC covers one pass from the start */
    bool crc_checked;
    z_stream z;
    uint8_t *zin;
    int zfd;             /* borrowed from the cursor */
    uint64_t data_off, csize, cpos;
    uint32_t crc, want_crc;
};

static int push_entry(ev_store *s, ev_store_entry *e)
{
    ev_store_entry *grown = ev__grow(s->e, &s->cap, s->n, sizeof(*grown), 256);
    if (!grown)
        return EV_ENOMEM;
    s->e = grown;
    s->e[s->n++] = *e;
    return EV_OK;
}

/* Keys used to find entries that collide: exact, NFC, and case-folded NFC. */
typedef struct name_key {
    char *key;
    size_t idx;
} name_key;

static int key_cmp(const void *a, const void *b)
{
    const name_key *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}


static int check_collisions(ev_store *s, ev_report *r)
{
    name_key *k = ev__reallocarray(NULL, s->n ? s->n : 1, sizeof(*k));
    if (!k)
        return EV_ENOMEM;
    static const char *const codes[3] = { "duplicate-entry", "normalization-collision",
                                          "case-collision" };
    int rc = EV_OK;
    for (int pass = 0; pass < 3 && rc == EV_OK; pass++) {
        size_t m = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (s->e[i].unsafe)
                continue;
            char *key = pass == 0 ? ev__strdup(s->e[i].name)
                        : pass == 1 ? ev_bag__nfc(s->e[i].name)
                                    : ev_bag__fold_key(s->e[i].name);
            if (!key)
                key = ev__strdup(s->e[i].name);
            if (!key) {
                rc = EV_ENOMEM;
                break;
            }
            k[m].key = key;
            k[m].idx = i;
            m++;
        }
        qsort(k, m, sizeof(*k), key_cmp);
        for (size_t i = 1; i < m && rc == EV_OK; i++) {
            if (strcmp(k[i].key, k[i - 1].key) != 0)
                continue;
            ev_store_entry *a = &s->e[k[i - 1].idx], *b = &s->e[k[i].idx];
            if (a->unsafe || b->unsafe)
                continue;
            if (pass > 0 && strcmp(a->name, b->name) == 0)
                continue;
            b->unsafe = true;
            char msg[600];
            if (pass == 0)
                snprintf(msg, sizeof(msg), "appears more than once in the bundle");
            else if (pass == 1)
                snprintf(msg, sizeof(msg),
                         "differs from '%s' only in Unicode normalization (NFC/NFD)", a->name);
            else
                snprintf(msg, sizeof(msg), "differs from '%s' only in letter case", a->name);
            rc = ev_report__add(r, EV_SEVERITY_ERROR, codes[pass], b->name,
                                "'%s' %s; refused, since extracting it could overwrite "
                                "another file. Rename one of them and re-pack.", b->name, msg);
        }
        for (size_t i = 0; i < m; i++)
            free(k[i].key);
    }
    free(k);
    return rc;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOCATOR 0x07064b50u
#define SIG_DESCRIPTOR 0x08074b50u
#define GPBF_ENCRYPTED 0x0001u
#define GPBF_DESCRIPTOR 0x0008u
#define GPBF_STRONG 0x0040u
#define GPBF_UTF8 0x0800u

/* A name as it can be shown and put in JSON: bytes that are not valid
 * UTF-8, and control characters, become \xHH. */
static char *display_name(const uint8_t *p, size_t len)
{
    char *out = malloc(len * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        ucs4_t uc;
        int l = u8_mbtoucr(&uc, p + i, len - i);
        if (l > 0 && uc >= 0x20 && uc != 0x7F) {
            memcpy(out + o, p + i, (size_t)l);
            o += (size_t)l;
            i += (size_t)l;
        } else {
            o += (size_t)snprintf(out + o, 5, "\\x%02X", p[i]);
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

static int64_t dos_to_unix(uint16_t dtime, uint16_t ddate)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_isdst = -1;
    tm.tm_year = ((ddate >> 9) & 127) + 80;
    tm.tm_mon = ((ddate >> 5) & 15) - 1;
    tm.tm_mday = ddate & 31;
    tm.tm_hour = (dtime >> 11) & 31;
    tm.tm_min = (dtime >> 5) & 63;
    tm.tm_sec = (dtime << 1) & 62;
    time_t t = mktime(&tm);
    return t == (time_t)-1 ? 0 : (int64_t)t;
}

/* Walk an extra field: false when its sub-fields do not fill it exactly. */
static bool extra_well_formed(const uint8_t *x, size_t len)
{
    size_t p = 0;
    while (len - p >= 4) {
        size_t l = rd16(x + p + 2);
        if (len - p - 4 < l)
            return false;
        p += 4 + l;
    }
    return p == len;
}

/* The data of sub-field id, or NULL. */
static const uint8_t *extra_find(const uint8_t *x, size_t len, uint16_t id, size_t *flen)
{
    size_t p = 0;
    while (len - p >= 4) {
        size_t l = rd16(x + p + 2);
        if (len - p - 4 < l)
            return NULL;
        if (rd16(x + p) == id) {
            *flen = l;
            return x + p + 4;
        }
        p += 4 + l;
    }
    return NULL;
}

static int zip_damaged(ev_errbuf *err, const char *path, const char *what)
{
    return ev_err__set(err, EV_EFORMAT, "'%s' is a damaged ZIP file (%s); copy it again from its "
                       "source", path, what);
}

static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, (uint8_t *)buf + got, len - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 1; /* end of file */
        got += (size_t)r;
    }
    return 0;
}

typedef struct zip_end {
    uint64_t eocd;          /* offset of the end record */
    uint64_t tail_end;      /* end of the end record and its comment */
    uint64_t cd_off, cd_size, cd_end, n;
    uint16_t comment_len;
} zip_end;

/* Check one candidate end record at eocd (tail holds the file's last tlen
 * bytes, from offset tail_off). Returns EV_OK, or EV_EFORMAT with why set. */
static int try_end(zip_end *z, int fd, uint64_t fsize, const uint8_t *tail, uint64_t tail_off,
                   uint64_t eocd, const char **why)
{
    const uint8_t *t = tail + (eocd - tail_off);
    memset(z, 0, sizeof(*z));
    z->eocd = eocd;
    z->comment_len = rd16(t + 20);
    z->tail_end = eocd + 22 + z->comment_len;
    uint16_t disk = rd16(t + 4), cd_disk = rd16(t + 6), n_disk = rd16(t + 8), n16 = rd16(t + 10);
    uint32_t size32 = rd32(t + 12), off32 = rd32(t + 16);
    z->n = n16;
    z->cd_size = size32;
    z->cd_off = off32;
    z->cd_end = eocd;
    bool z64 = eocd >= 20 && eocd - 20 >= tail_off && rd32(t - 20) == SIG_LOCATOR;
    if (!z64 && (n16 == 0xFFFF || size32 == 0xFFFFFFFFu || off32 == 0xFFFFFFFFu)) {
        *why = "the ZIP64 end record is missing";
        return EV_EFORMAT;
    }
    if (z64) {
        const uint8_t *loc = t - 20;
        uint64_t z64off = rd64(loc + 8);
        uint8_t rec[56];
        if (rd32(loc + 4) != 0 || rd32(loc + 16) > 1 || z64off > eocd - 20 ||
            eocd - 20 - z64off < 56 || pread_full(fd, rec, sizeof(rec), z64off) != 0 ||
            rd32(rec) != SIG_EOCD64 || rd64(rec + 4) != eocd - 20 - z64off - 12) {
            *why = "the ZIP64 end record is damaged";
            return EV_EFORMAT;
        }
        if (rd32(rec + 16) != 0 || rd32(rec + 20) != 0 || rd64(rec + 24) != rd64(rec + 32)) {
            *why = "it is split over several files, which is not supported";
            return EV_EFORMAT;
        }
        if ((n16 != 0xFFFF && n16 != rd64(rec + 32)) ||
            (size32 != 0xFFFFFFFFu && size32 != rd64(rec + 40)) ||
            (off32 != 0xFFFFFFFFu && off32 != rd64(rec + 48))) {
            *why = "the end record and the ZIP64 end record disagree";
            return EV_EFORMAT;
        }
        z->n = rd64(rec + 32);
        z->cd_size = rd64(rec + 40);
        z->cd_off = rd64(rec + 48);
        z->cd_end = z64off;
    }
    if (disk != 0 || cd_disk != 0 || n_disk != n16) {
        *why = "it is split over several files, which is not supported";
        return EV_EFORMAT;
    }
    if (z->cd_off > z->cd_end || z->cd_size != z->cd_end - z->cd_off) {
        *why = "the central directory is not where the end record says it is (data was "
               "inserted or removed, or the offsets are corrupt)";
        return EV_EFORMAT;
    }
    (void)fsize;
    return EV_OK;
}

static int find_end(zip_end *z, int fd, uint64_t fsize, const char *path, ev_errbuf *err)
{
    size_t tlen = fsize < 65557 + 4096 ? (size_t)fsize : 65557 + 4096;
    uint64_t tail_off = fsize - tlen;
    uint8_t *tail = malloc(tlen ? tlen : 1);
    if (!tail)
        return EV_ENOMEM;
    int pr = tlen < 22 ? 1 : pread_full(fd, tail, tlen, tail_off);
    if (pr < 0) {
        int rc = ev_err__set(err, EV_EIO, "'%s': cannot read: %s", path, strerror(errno));
        free(tail);
        return rc;
    }
    const char *why = NULL;
    int rc = EV_EFORMAT;
    /* the end record that ends the file; failing that, the last one whose
     * comment fits (data appended after it is reported) */
    for (int pass = 0; pass < 2 && rc != EV_OK && pr == 0; pass++) {
        for (size_t i = tlen - 22 + 1; i-- > 0 && rc != EV_OK;) {
            if (rd32(tail + i) != SIG_EOCD)
                continue;
            size_t end = i + 22 + rd16(tail + i + 20);
            if (pass == 0 ? end != tlen : end > tlen)
                continue;
            const char *w = NULL;
            rc = try_end(z, fd, fsize, tail, tail_off, tail_off + i, &w);
            if (rc != EV_OK && !why)
                why = w;
        }
    }
    free(tail);
    if (rc == EV_OK)
        return EV_OK;
    if (!why)
        return ev_err__set(err, EV_EFORMAT,
                           "'%s' is not a ZIP file, or it is truncated (no end of central "
                           "directory record was found); copy it again from its source", path);
    return zip_damaged(err, path, why);
}

typedef struct zrange {
    uint64_t start, end;
    size_t idx;
} zrange;

static int zrange_cmp(const void *a, const void *b)
{
    const zrange *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start ? 1
         : x->end < y->end ? -1 : x->end > y->end;
}

/* Compare an entry's local header (and data descriptor) with its central
 * record, as strictly as Info-ZIP's unzip -t. Returns NULL when they agree,
 * else the problem code, with the details in msg. Sets data_off/end. */
static const char *check_local(int fd, const zip_end *z, struct raw_cd *rc, const uint8_t *cname,
                               size_t cnl, uint8_t *buf, char *msg, size_t msglen)
{
    uint8_t h[30];
    if (rc->lho > z->cd_off || z->cd_off - rc->lho < 30 || pread_full(fd, h, 30, rc->lho) != 0 ||
        rd32(h) != SIG_LOCAL) {
        snprintf(msg, msglen, "there is no local header at offset %llu, where the central "
                 "directory says the entry starts", (unsigned long long)rc->lho);
        return "zip-local-header-missing";
    }
    uint16_t lflags = rd16(h + 6), lmethod = rd16(h + 8);
    uint32_t lcrc = rd32(h + 14);
    uint64_t lcsize = rd32(h + 18), lusize = rd32(h + 22);
    size_t lnl = rd16(h + 26), lel = rd16(h + 28);
    if (z->cd_off - rc->lho - 30 < lnl + lel || pread_full(fd, buf, lnl + lel, rc->lho + 30) != 0) {
        snprintf(msg, msglen, "the local header's name and extra field run into the central "
                 "directory");
        return "zip-local-header-missing";
    }
    rc->data_off = rc->lho + 30 + lnl + lel;
    if (rc->csize > z->cd_off - rc->data_off) {
        /* the data would run into the central directory */
        rc->end = UINT64_MAX;
        rc->placed = true;
        return NULL;
    }
    rc->end = rc->data_off + rc->csize;
    rc->placed = true;
    if (lnl != cnl || memcmp(buf, cname, cnl) != 0) {
        char *ln = display_name(buf, lnl);
        snprintf(msg, msglen, "the local header names it '%s'", ln ? ln : "?");
        free(ln);
        return "zip-local-name-mismatch";
    }
    if (lmethod != rc->method) {
        snprintf(msg, msglen, "the local header gives compression method %u, the central "
                 "directory %u", lmethod, rc->method);
        return "zip-local-method-mismatch";
    }
    const uint16_t bits = GPBF_ENCRYPTED | GPBF_DESCRIPTOR | GPBF_STRONG | GPBF_UTF8;
    if ((lflags ^ rc->flags) & bits) {
        snprintf(msg, msglen, "the local header's flags (0x%04x) disagree with the central "
                 "directory's (0x%04x)", lflags, rc->flags);
        return "zip-local-flags-mismatch";
    }
    const uint8_t *lx = buf + lnl;
    if (!extra_well_formed(lx, lel)) {
        snprintf(msg, msglen, "the local header's extra field is malformed");
        return "zip-local-extra-invalid";
    }
    size_t z64len = 0;
    const uint8_t *z64 = extra_find(lx, lel, 0x0001, &z64len);
    bool lz64 = lusize == 0xFFFFFFFFu || lcsize == 0xFFFFFFFFu;
    if (lz64) {
        if (!z64 || z64len < 16) {
            snprintf(msg, msglen, "the local header's sizes say ZIP64, but it has no complete "
                     "ZIP64 extra field");
            return "zip-local-extra-invalid";
        }
        lusize = rd64(z64);
        lcsize = rd64(z64 + 8);
    } else if (z64 && z64len >= 16 && (rd64(z64) != rc->usize || rd64(z64 + 8) != rc->csize)) {
        snprintf(msg, msglen, "the local header's ZIP64 extra field gives other sizes than the "
                 "central directory");
        return "zip-local-extra-invalid";
    }
    bool desc = rc->flags & GPBF_DESCRIPTOR;
    if (!desc || lcrc != 0) {
        if (lcrc != rc->crc) {
            snprintf(msg, msglen, "the local header gives CRC %08x, the central directory %08x",
                     lcrc, rc->crc);
            return "zip-local-crc-mismatch";
        }
    }
    if (!desc || lcsize != 0 || lusize != 0) {
        if (lcsize != rc->csize || lusize != rc->usize) {
            snprintf(msg, msglen, "the local header gives %llu bytes (%llu compressed), the "
                     "central directory %llu (%llu compressed)", (unsigned long long)lusize,
                     (unsigned long long)lcsize, (unsigned long long)rc->usize,
                     (unsigned long long)rc->csize);
            return "zip-local-size-mismatch";
        }
    }
    if (desc) {
        /* crc, compressed and uncompressed size, optionally after a
         * signature; sizes are 8 bytes each in a ZIP64 entry */
        uint8_t d[24];
        uint64_t room = z->cd_off - rc->end;
        size_t dl = room < sizeof(d) ? (size_t)room : sizeof(d);
        bool ok = false;
        size_t used = 0;
        if (pread_full(fd, d, dl, rc->end) == 0) {
            size_t sig = dl >= 4 && rd32(d) == SIG_DESCRIPTOR ? 4 : 0;
            bool wide = lz64 || rc->usize >= 0xFFFFFFFFu || rc->csize >= 0xFFFFFFFFu;
            size_t need = sig + (wide ? 20 : 12);
            if (dl >= need) {
                const uint8_t *q = d + sig;
                uint64_t dc = wide ? rd64(q + 4) : rd32(q + 4);
                uint64_t du = wide ? rd64(q + 12) : rd32(q + 8);
                ok = rd32(q) == rc->crc && dc == rc->csize && du == rc->usize;
                used = need;
            }
        }
        if (!ok) {
            snprintf(msg, msglen, "its data descriptor disagrees with the central directory "
                     "(CRC or sizes)");
            return "zip-data-descriptor-mismatch";
        }
        rc->end += used;
    }
    return NULL;
}

static int open_zip(ev_store *s, const ev_store_limits *lim, ev_report *r, ev_errbuf *err)
{
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ev_err__set(err, errno == ENOENT ? EV_ENOTFOUND : EV_EIO, "'%s': cannot read: %s",
                           s->path, strerror(errno));
    struct stat fst;
    if (fstat(fd, &fst) != 0) {
        int rc = ev_err__set(err, EV_EIO, "'%s': %s", s->path, strerror(errno));
        close(fd);
        return rc;
    }
    uint64_t fsize = (uint64_t)fst.st_size;
    zip_end z;
    uint8_t *cd = NULL, *lbuf = NULL;
    char *top = NULL;
    zrange *ranges = NULL;
    size_t toplen = 0, nranges = 0;
    bool top_conflict = false;
    int rc = find_end(&z, fd, fsize, s->path, err);
    if (rc != EV_OK)
        goto out;
    if (z.n > lim->max_entries) {
        rc = ev_err__set(err, EV_EUNSAFE, "'%s' has %llu entries, more than the limit of %llu; "
                         "refused", s->path, (unsigned long long)z.n,
                         (unsigned long long)lim->max_entries);
        goto out;
    }
    if (z.cd_size / 46 < z.n) {
        rc = zip_damaged(err, s->path, "the central directory is too small for its entries");
        goto out;
    }
    if (z.cd_size > ((uint64_t)1 << 30)) {
        rc = ev_err__set(err, EV_EUNSAFE, "'%s': the central directory is %llu bytes; refused "
                         "(limit 1 GiB)", s->path, (unsigned long long)z.cd_size);
        goto out;
    }
    cd = malloc(z.cd_size ? (size_t)z.cd_size : 1);
    lbuf = malloc(2 * 65536);
    s->raw = ev__calloc((size_t)(z.n ? z.n : 1), sizeof(*s->raw));
    ranges = ev__calloc((size_t)(z.n ? z.n : 1), sizeof(*ranges));
    if (!cd || !lbuf || !s->raw || !ranges) {
        rc = EV_ENOMEM;
        goto out;
    }
    s->nraw = z.n;
    int pr = pread_full(fd, cd, (size_t)z.cd_size, z.cd_off);
    if (pr != 0) {
        rc = pr < 0 ? ev_err__set(err, EV_EIO, "'%s': cannot read: %s", s->path, strerror(errno))
                    : zip_damaged(err, s->path, "the central directory is cut short");
        goto out;
    }
    uint64_t total = 0, total_all = 0, uncovered_comments = 0;
    size_t pos = 0;
    for (uint64_t i = 0; i < z.n; i++) {
        if (z.cd_size - pos < 46 || rd32(cd + pos) != SIG_CENTRAL) {
            rc = zip_damaged(err, s->path, "the central directory is damaged");
            goto out;
        }
        const uint8_t *h = cd + pos;
        size_t nl = rd16(h + 28), el = rd16(h + 30), cl = rd16(h + 32);
        if (z.cd_size - pos - 46 < nl + el + cl) {
            rc = zip_damaged(err, s->path, "the central directory is damaged");
            goto out;
        }
        struct raw_cd *rw = &s->raw[i];
        rw->flags = rd16(h + 8);
        rw->method = rd16(h + 10);
        rw->crc = rd32(h + 16);
        rw->csize = rd32(h + 20);
        rw->usize = rd32(h + 24);
        rw->lho = rd32(h + 42);
        uint32_t disk = rd16(h + 34);
        const uint8_t *name = h + 46, *x = h + 46 + nl;
        if (!extra_well_formed(x, el)) {
            rc = zip_damaged(err, s->path, "an extra field in the central directory is malformed");
            goto out;
        }
        /* ZIP64: only the fields that overflowed, in order */
        if (rw->usize == 0xFFFFFFFFu || rw->csize == 0xFFFFFFFFu || rw->lho == 0xFFFFFFFFu ||
            disk == 0xFFFF) {
            size_t fl = 0;
            const uint8_t *f = extra_find(x, el, 0x0001, &fl), *fe = f ? f + fl : NULL;
            bool ok = f != NULL;
            if (ok && rw->usize == 0xFFFFFFFFu) {
                ok = fe - f >= 8;
                if (ok) { rw->usize = rd64(f); f += 8; }
            }
            if (ok && rw->csize == 0xFFFFFFFFu) {
                ok = fe - f >= 8;
                if (ok) { rw->csize = rd64(f); f += 8; }
            }
            if (ok && rw->lho == 0xFFFFFFFFu) {
                ok = fe - f >= 8;
                if (ok) { rw->lho = rd64(f); f += 8; }
            }
            if (ok && disk == 0xFFFF) {
                ok = fe - f >= 4;
                if (ok) disk = rd32(f);
            }
            if (!ok) {
                rc = zip_damaged(err, s->path, "an entry's ZIP64 extra field is missing or short");
                goto out;
            }
        }
        if (disk != 0) {
            rc = zip_damaged(err, s->path, "an entry lies on another disk");
            goto out;
        }
        if (cl)
            uncovered_comments += cl;
        ev_store_entry e;
        memset(&e, 0, sizeof(e));
        e.index = i;
        e.size = rw->usize;
        e.comp_size = rw->csize;
        e.deflated = rw->method != 0;
        size_t utl = 0;
        const uint8_t *ut = extra_find(x, el, 0x5455, &utl);
        e.mtime = ut && utl >= 5 && (ut[0] & 1) ? (int64_t)(int32_t)rd32(ut + 1)
                                                  : dos_to_unix(rd16(h + 12), rd16(h + 14));
        bool is_dir_name = nl > 0 && name[nl - 1] == '/';
        e.type = is_dir_name ? EV_ENTRY_DIR : EV_ENTRY_FILE;
        if ((rd16(h + 4) >> 8) == 3) { /* made on Unix: the mode is in the external attributes */
            mode_t mode = (mode_t)(rd32(h + 38) >> 16);
            if (S_ISLNK(mode))
                e.type = EV_ENTRY_SYMLINK;
            else if (mode && !S_ISREG(mode) && !S_ISDIR(mode) && (mode & S_IFMT))
                e.type = EV_ENTRY_OTHER;
        }
        char *raw = ev__strndup((const char *)name, nl); /* stops at a NUL */
        char *shown = display_name(name, nl);
        if (!raw || !shown) {
            free(raw);
            free(shown);
            rc = EV_ENOMEM;
            goto out;
        }
        size_t rlen = strlen(raw);
        const char *why = NULL;
        if (rlen != nl)
            why = "its name contains a NUL byte (shown here as \\x00)";
        else if (u8_check(name, nl) != NULL)
            why = "its name is not valid UTF-8 (the bytes are shown here as \\xHH)";
        else
            why = ev_bag__unsafe_reason(raw, e.type == EV_ENTRY_DIR ? rlen - 1 : rlen);
        if (!why && e.type == EV_ENTRY_DIR && rlen == 1)
            why = "absolute path";
        /* top folder: everything must live under one folder */
        const char *slash = memchr(raw, '/', rlen);
        if (!why && !slash) {
            why = "a file at the top of the ZIP, outside the bag folder";
            top_conflict = true;
        }
        if (!why) {
            size_t tl = (size_t)(slash - raw);
            if (!top) {
                top = ev__strndup(raw, tl);
                toplen = tl;
                if (!top) {
                    free(raw);
                    free(shown);
                    rc = EV_ENOMEM;
                    goto out;
                }
            } else if (tl != toplen || memcmp(raw, top, tl) != 0) {
                top_conflict = true;
                ev_report__add(r, EV_SEVERITY_ERROR, "second-top-folder", shown,
                               "'%s' is outside the bag folder '%s/': a bundle holds exactly "
                               "one top folder", shown, top);
                why = "";
            }
        }
        e.name = ev__strdup(why ? shown : slash + 1);
        free(raw);
        if (!e.name) {
            free(shown);
            rc = EV_ENOMEM;
            goto out;
        }
        if (e.type == EV_ENTRY_DIR && e.name[0]) {
            size_t l = strlen(e.name);
            if (l && e.name[l - 1] == '/')
                e.name[l - 1] = '\0';
        }
        /* an offset outside the entries cannot be read at all */
        if (rw->lho >= z.cd_off || z.cd_off - rw->lho < 30) {
            rc = ev_err__set(err, EV_EFORMAT, "'%s' is a damaged ZIP file (entry '%s' is said "
                             "to start at offset %llu, outside the entries); copy it again "
                             "from its source", s->path, shown, (unsigned long long)rw->lho);
            free(shown);
            free(e.name);
            goto out;
        }
        /* the local header must agree with the central directory */
        char lmsg[400];
        const char *lcode = check_local(fd, &z, rw, name, nl, lbuf, lmsg, sizeof(lmsg));
        if (rw->placed && rw->end != UINT64_MAX)
            ranges[nranges++] = (zrange){ rw->lho, rw->end, (size_t)i };
        else if (rw->placed && rw->csize <= fsize) {
            rc = ev_err__set(err, EV_EUNSAFE, "'%s': the data of entry '%s' runs into the "
                             "central directory; refused (the ZIP is forged or damaged)",
                             s->path, shown);
            free(shown);
            free(e.name);
            goto out;
        }
        if (why && *why) {
            e.unsafe = true;
            ev_report__add(r, EV_SEVERITY_ERROR, "unsafe-path", shown,
                           "ZIP entry '%s' refused: %s. It was not read or extracted; the "
                           "bundle was not made by a conforming tool or has been tampered with",
                           shown, why);
        } else if (why) {
            e.unsafe = true;
        } else if (e.type == EV_ENTRY_SYMLINK || e.type == EV_ENTRY_OTHER) {
            e.unsafe = true;
            ev_report__add(r, EV_SEVERITY_ERROR, "unsafe-entry-type", e.name,
                           "ZIP entry '%s' is a %s; refused: bundles hold only regular files "
                           "and folders", shown,
                           e.type == EV_ENTRY_SYMLINK ? "symbolic link" : "special file");
        } else if (e.type == EV_ENTRY_FILE && !e.deflated && e.size != e.comp_size) {
            e.unsafe = true;
            ev_report__add(r, EV_SEVERITY_ERROR, "zip-size-mismatch", e.name,
                           "stored ZIP entry '%s' claims %llu bytes but holds %llu; the ZIP is "
                           "damaged or forged", e.name, (unsigned long long)e.size,
                           (unsigned long long)e.comp_size);
        } else if (e.type == EV_ENTRY_FILE && e.deflated && e.size > (1u << 20) &&
                   (e.comp_size == 0 || e.size / e.comp_size > lim->max_ratio)) {
            e.unsafe = true;
            ev_report__add(r, EV_SEVERITY_ERROR, "zip-bomb", e.name,
                           "ZIP entry '%s' claims to expand from %llu to %llu bytes (more than "
                           "%llux); refused as a possible ZIP bomb", e.name,
                           (unsigned long long)e.comp_size, (unsigned long long)e.size,
                           (unsigned long long)lim->max_ratio);
        } else if (e.type == EV_ENTRY_FILE && e.comp_size > fsize) {
            e.unsafe = true;
            ev_report__add(r, EV_SEVERITY_ERROR, "zip-size-mismatch", e.name,
                           "ZIP entry '%s' claims %llu compressed bytes, more than the whole "
                           "file (%llu); the ZIP is truncated or forged", e.name,
                           (unsigned long long)e.comp_size, (unsigned long long)fsize);
        } else if (lcode) {
            e.unsafe = true;
            ev_report__add(r, EV_SEVERITY_ERROR, lcode, e.name,
                           "ZIP entry '%s' refused: %s. It was not read or extracted; the "
                           "bundle is damaged or forged (unzip -t rejects it too)", e.name,
                           lmsg);
        } else if (e.type == EV_ENTRY_DIR && (e.size || e.comp_size)) {
            ev_report__add(r, EV_SEVERITY_WARNING, "zip-uncovered-bytes", e.name,
                           "folder entry '%s' carries %llu bytes of data, which no checksum "
                           "covers and which are neither checked nor extracted", e.name,
                           (unsigned long long)e.comp_size);
        }
        free(shown);
        if (e.type == EV_ENTRY_FILE && __builtin_add_overflow(total_all, e.size, &total_all))
            total_all = UINT64_MAX;
        if (!e.unsafe && e.type == EV_ENTRY_FILE) {
            if (__builtin_add_overflow(total, e.size, &total) || total > lim->max_total_size) {
                free(e.name);
                rc = ev_err__set(err, EV_EUNSAFE,
                                 "'%s' claims more than %llu bytes of content in total; "
                                 "refused (limit)", s->path,
                                 (unsigned long long)lim->max_total_size);
                goto out;
            }
        }
        pos += 46 + nl + el + cl;
        /* the top folder's own entry is not part of the bag */
        if (!e.unsafe && e.name[0] == '\0') {
            free(e.name);
            continue;
        }
        if (push_entry(s, &e) != EV_OK) {
            free(e.name);
            rc = EV_ENOMEM;
            goto out;
        }
    }
    if (pos != z.cd_size) {
        rc = zip_damaged(err, s->path, "the central directory holds more than its entries");
        goto out;
    }
    /* No two entries may share bytes, nor run into the central directory:
     * overlapping entries are how small ZIPs declare huge contents. */
    qsort(ranges, nranges, sizeof(*ranges), zrange_cmp);
    uint64_t covered = 0, gaps = 0, first = nranges ? ranges[0].start : z.cd_off;
    for (size_t k = 0; k < nranges; k++) {
        if (k > 0 && ranges[k].start < covered) {
            const ev_store_entry *a = NULL, *b = NULL;
            for (size_t q = 0; q < s->n; q++) {
                if (s->e[q].index == ranges[k - 1].idx)
                    a = &s->e[q];
                if (s->e[q].index == ranges[k].idx)
                    b = &s->e[q];
            }
            rc = ev_err__set(err, EV_EUNSAFE, "'%s': ZIP entries %s%s%s and %s%s%s share bytes "
                             "(overlapping entries, the trick of small ZIPs that expand to "
                             "huge sizes); refused", s->path, a ? "'" : "", a ? a->name : "one",
                             a ? "'" : "", b ? "'" : "", b ? b->name : "another",
                             b ? "'" : "");
            goto out;
        }
        if (k > 0)
            gaps += ranges[k].start - covered;
        covered = ranges[k].end;
    }
    if (nranges)
        gaps += z.cd_off - covered;
    /* the whole archive may expand at most max_ratio times as well */
    if (total > ((uint64_t)1 << 20) && total / (fsize ? fsize : 1) > lim->max_ratio) {
        rc = ev_err__set(err, EV_EUNSAFE, "'%s' claims %llu bytes of content in a %llu-byte "
                         "file (more than %llux); refused as a possible ZIP bomb", s->path,
                         (unsigned long long)total, (unsigned long long)fsize,
                         (unsigned long long)lim->max_ratio);
        goto out;
    }
    (void)total_all;
    if (first > 0)
        ev_report__add(r, EV_SEVERITY_WARNING, "zip-uncovered-bytes", NULL,
                       "%llu bytes come before the first ZIP entry (a prepended stub?); no "
                       "checksum covers them", (unsigned long long)first);
    if (gaps > 0)
        ev_report__add(r, EV_SEVERITY_WARNING, "zip-uncovered-bytes", NULL,
                       "%llu bytes between ZIP entries belong to no entry; no checksum covers "
                       "them", (unsigned long long)gaps);
    if (fsize > z.tail_end)
        ev_report__add(r, EV_SEVERITY_WARNING, "zip-uncovered-bytes", NULL,
                       "%llu bytes follow the end of the ZIP (appended data); no checksum "
                       "covers them", (unsigned long long)(fsize - z.tail_end));
    if (z.comment_len > 0 || uncovered_comments > 0)
        ev_report__add(r, EV_SEVERITY_WARNING, "zip-uncovered-bytes", NULL,
                       "the ZIP carries %llu bytes of comments; no checksum covers them",
                       (unsigned long long)(z.comment_len + uncovered_comments));
    if (!top) {
        rc = ev_err__set(err, EV_EFORMAT,
                         "'%s' holds no bag folder: a bundle ZIP must contain exactly one top "
                         "folder with bagit.txt inside", s->path);
        goto out;
    }
    if (top_conflict) {
        ev_report__add(r, EV_SEVERITY_ERROR, "no-single-top-folder", NULL,
                       "the ZIP does not hold exactly one top folder; only '%s/' was read", top);
    }
    s->bag_name = top;
    top = NULL;
    rc = EV_OK;
out:
    free(top);
    free(cd);
    free(lbuf);
    free(ranges);
    close(fd);
    return rc;
}

static int walk_dir(ev_store *s, int dfd, const char *prefix, int depth, const ev_store_limits *lim,
                    ev_report *r, ev_errbuf *err)
{
    if (depth > 256)
        return ev_err__set(err, EV_EUNSAFE, "'%s': folders nested too deeply under '%s'", s->path,
                           prefix);
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return ev_err__set(err, EV_EIO, "'%s/%s': cannot list folder: %s", s->path, prefix,
                           strerror(errno));
    }
    struct dirent *de;
    int rc = EV_OK;
    while (rc == EV_OK && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *name = *prefix ? ev__asprintf("%s/%s", prefix, de->d_name) : ev__strdup(de->d_name);
        if (!name) {
            rc = EV_ENOMEM;
            break;
        }
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = ev_err__set(err, EV_EIO, "'%s/%s': %s", s->path, name, strerror(errno));
            free(name);
            break;
        }
        ev_store_entry e;
        memset(&e, 0, sizeof(e));
        e.name = name;
        e.size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
        e.comp_size = e.size;
        e.mtime = (int64_t)st.st_mtime;
        e.type = S_ISREG(st.st_mode) ? EV_ENTRY_FILE : S_ISDIR(st.st_mode) ? EV_ENTRY_DIR
                 : S_ISLNK(st.st_mode) ? EV_ENTRY_SYMLINK : EV_ENTRY_OTHER;
        if (e.type == EV_ENTRY_SYMLINK || e.type == EV_ENTRY_OTHER) {
            e.unsafe = true;
            ev_report__add(r, EV_SEVERITY_ERROR, "unsafe-entry-type", name,
                           "'%s' is a %s inside the bag; it is not followed or read", name,
                           e.type == EV_ENTRY_SYMLINK ? "symbolic link" : "special file");
        }
        if (s->n >= lim->max_entries) {
            free(name);
            rc = ev_err__set(err, EV_EUNSAFE, "'%s' holds more than %llu files; refused",
                             s->path, (unsigned long long)lim->max_entries);
            break;
        }
        if (push_entry(s, &e) != EV_OK) {
            free(name);
            rc = EV_ENOMEM;
            break;
        }
        if (e.type == EV_ENTRY_DIR) {
            int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                rc = ev_err__set(err, EV_EIO, "'%s/%s': cannot open folder: %s", s->path,
                                 s->e[s->n - 1].name, strerror(errno));
                break;
            }
            char *sub_prefix = ev__strdup(s->e[s->n - 1].name);
            if (!sub_prefix) {
                close(sub);
                rc = EV_ENOMEM;
                break;
            }
            rc = walk_dir(s, sub, sub_prefix, depth + 1, lim, r, err);
            free(sub_prefix);
        }
    }
    closedir(d);
    return rc;
}

static int open_dir(ev_store *s, const ev_store_limits *lim, ev_report *r, ev_errbuf *err)
{
    int fd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ev_err__set(err, ev_err__from_errno(errno), "'%s': cannot open folder: %s",
                           s->path, strerror(errno));
    /* bag name: last component of the path */
    char *p = ev__strdup(s->path);
    if (!p) {
        close(fd);
        return EV_ENOMEM;
    }
    size_t l = strlen(p);
    while (l > 1 && p[l - 1] == '/')
        p[--l] = '\0';
    char *base = strrchr(p, '/');
    s->bag_name = ev__strdup(base ? base + 1 : p);
    free(p);
    if (!s->bag_name) {
        close(fd);
        return EV_ENOMEM;
    }
    return walk_dir(s, fd, "", 0, lim, r, err);
}

int ev_store__open(ev_store **out, const char *path, const ev_store_limits *lim, ev_report *r,
                   ev_errbuf *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return ev_err__set(err, ev_err__from_errno(errno), "'%s': %s", path, strerror(errno));
    ev_store *s = calloc(1, sizeof(*s));
    if (!s)
        return EV_ENOMEM;
    s->path = ev__strdup(path);
    if (!s->path) {
        free(s);
        return EV_ENOMEM;
    }
    int rc;
    if (S_ISDIR(st.st_mode)) {
        rc = open_dir(s, lim, r, err);
    } else if (S_ISREG(st.st_mode)) {
        s->is_zip = true;
        rc = open_zip(s, lim, r, err);
    } else {
        rc = ev_err__set(err, EV_EUNSUPPORTED, "'%s' is neither a ZIP file nor a folder", path);
    }
    if (rc == EV_OK)
        rc = check_collisions(s, r);
    if (rc == EV_OK && s->is_zip) {
        s->pool = calloc(1, sizeof(*s->pool));
        if (s->pool)
            pthread_mutex_init(&s->pool->mu, NULL); /* without a pool cursors are not reused */
    }
    if (rc != EV_OK) {
        ev_store__free(s);
        return rc;
    }
    *out = s;
    return EV_OK;
}

void ev_store__free(ev_store *s)
{
    if (!s)
        return;
    if (s->pool) {
        for (size_t i = 0; i < s->pool->n; i++)
            cursor_destroy(s->pool->c[i]);
        pthread_mutex_destroy(&s->pool->mu);
        free(s->pool);
    }
    for (size_t i = 0; i < s->n; i++)
        free(s->e[i].name);
    free(s->e);
    free(s->path);
    free(s->bag_name);
    free(s->raw);
    free(s);
}

bool ev_store__is_zip(const ev_store *s) { return s->is_zip; }
const char *ev_store__bag_name(const ev_store *s) { return s->bag_name; }
const char *ev_store__path(const ev_store *s) { return s->path; }
size_t ev_store__count(const ev_store *s) { return s->n; }

const ev_store_entry *ev_store__entry(const ev_store *s, size_t i)
{
    return i < s->n ? &s->e[i] : NULL;
}

long ev_store__find(const ev_store *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (!s->e[i].unsafe && strcmp(s->e[i].name, name) == 0)
            return (long)i;
    return -1;
}

int ev_store__cursor_new(ev_store_cursor **out, const ev_store *s, ev_errbuf *err)
{
    (void)err;
    *out = NULL;
    if (s->pool) {
        pthread_mutex_lock(&s->pool->mu);
        ev_store_cursor *c = s->pool->n ? s->pool->c[--s->pool->n] : NULL;
        pthread_mutex_unlock(&s->pool->mu);
        if (c) {
            *out = c;
            return EV_OK;
        }
    }
    ev_store_cursor *c = calloc(1, sizeof(*c));
    if (!c)
        return EV_ENOMEM;
    c->s = s;
    c->fd = -1;
    *out = c;
    return EV_OK;
}

static void cursor_destroy(ev_store_cursor *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

void ev_store__cursor_free(ev_store_cursor *c)
{
    if (!c)
        return;
    struct cursor_pool *pool = c->s->pool;
    if (pool) {
        pthread_mutex_lock(&pool->mu);
        bool kept = pool->n < CURSOR_POOL_MAX;
        if (kept)
            pool->c[pool->n++] = c;
        pthread_mutex_unlock(&pool->mu);
        if (kept)
            return;
    }
    cursor_destroy(c);
}

/* The end of a ZIP entry: its CRC must match (once, after one pass from
 * the start). */
static int zip_check_crc(ev_entry_reader *er, ev_errbuf *err)
{
    if (er->crc_skip || er->crc_checked)
        return EV_OK;
    er->crc_checked = true;
    if (er->crc != er->want_crc) {
        er->crc_failed = true;
        return ev_err__set(err, EV_EFORMAT, "data of '%s' cannot be read (CRC error); the "
                           "bundle is damaged", er->entry->name);
    }
    return EV_OK;
}

static int64_t zip_pread(ev_entry_reader *er, void *buf, size_t want, uint64_t off,
                         ev_errbuf *err)
{
    ssize_t r;
    do {
        r = pread(er->zfd, buf, want, (off_t)(er->data_off + off));
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return ev_err__set(err, EV_EIO, "'%s': read error: %s", er->entry->name, strerror(errno));
    if (r == 0)
        return ev_err__set(err, EV_EFORMAT, "data of '%s' ends early; the bundle is truncated",
                           er->entry->name);
    return r;
}

static int64_t stored_read(ev_entry_reader *er, void *buf, size_t len, ev_errbuf *err)
{
    uint64_t left = er->claimed - er->pos;
    if (left == 0) {
        int rc = zip_check_crc(er, err);
        return rc == EV_OK ? 0 : rc;
    }
    size_t want = left < len ? (size_t)left : len;
    int64_t r = zip_pread(er, buf, want, er->pos, err);
    if (r > 0)
        er->crc = libdeflate_crc32(er->crc, buf, (size_t)r);
    return r;
}

int ev_store__entry_open(ev_entry_reader **out, ev_store_cursor *c, size_t i, ev_errbuf *err)
{
    *out = NULL;
    const ev_store *s = c->s;
    if (i >= s->n || s->e[i].unsafe || s->e[i].type != EV_ENTRY_FILE)
        return ev_err__set(err, EV_EINVAL, "entry %zu cannot be opened", i);
    const ev_store_entry *e = &s->e[i];
    ev_entry_reader *er = calloc(1, sizeof(*er));
    if (!er)
        return EV_ENOMEM;
    er->entry = e;
    er->claimed = e->size;
    er->fd = -1;
    er->zfd = -1;
    if (s->is_zip) {
        const struct raw_cd *r = e->index < s->nraw ? &s->raw[e->index] : NULL;
        int rc = EV_OK;
        if (!r || !r->placed || r->end == UINT64_MAX)
            rc = ev_err__set(err, EV_EFORMAT, "'%s': the data of '%s' cannot be found",
                             s->path, e->name);
        else if (r->flags & (GPBF_ENCRYPTED | GPBF_STRONG))
            rc = ev_err__set(err, EV_EUNSUPPORTED, "'%s': entry '%s' is encrypted; not "
                             "supported", s->path, e->name);
        else if (r->method != 0 && r->method != 8)
            rc = ev_err__set(err, EV_EUNSUPPORTED, "'%s': entry '%s' uses a compression "
                             "method other than deflate; not supported", s->path, e->name);
        if (rc == EV_OK && c->fd < 0) {
            c->fd = open(s->path, O_RDONLY | O_CLOEXEC);
            if (c->fd < 0)
                rc = ev_err__set(err, EV_EIO, "'%s': cannot open: %s", s->path, strerror(errno));
        }
        if (rc != EV_OK) {
            free(er);
            return rc;
        }
        er->zip = true;
        er->zfd = c->fd;
        er->data_off = r->data_off;
        er->csize = r->csize;
        er->want_crc = r->crc;
        if (r->method == 8) {
            er->zin = malloc(65536);
            if (!er->zin || inflateInit2(&er->z, -MAX_WBITS) != Z_OK) {
                free(er->zin);
                free(er);
                return EV_ENOMEM;
            }
            er->inflating = true;
        }
        *out = er;
        return EV_OK;
    }
    char *p = ev__asprintf("%s/%s", s->path, e->name);
    if (!p) {
        free(er);
        return EV_ENOMEM;
    }
    er->fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (er->fd < 0) {
        int rc = ev_err__set(err, ev_err__from_errno(errno), "'%s': %s", p, strerror(errno));
        free(p);
        free(er);
        return rc;
    }
    free(p);
    posix_fadvise(er->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    *out = er;
    return EV_OK;
}

static int64_t inflate_read(ev_entry_reader *er, void *buf, size_t len, ev_errbuf *err)
{
    if (er->z_end)
        return 0;
    uInt want = (uInt)(len > (1u << 30) ? (1u << 30) : len);
    er->z.next_out = buf;
    er->z.avail_out = want;
    while (er->z.avail_out) {
        if (er->z.avail_in == 0 && er->cpos < er->csize) {
            uint64_t left = er->csize - er->cpos;
            int64_t n = zip_pread(er, er->zin, left < 65536 ? (size_t)left : 65536, er->cpos, err);
            if (n < 0)
                return n;
            er->cpos += (uint64_t)n;
            er->z.next_in = er->zin;
            er->z.avail_in = (uInt)n;
        }
        bool in_eof = er->cpos == er->csize;
        int zr = inflate(&er->z, Z_NO_FLUSH);
        if (zr == Z_STREAM_END) {
            /* nothing may follow the end of the stream */
            if (er->z.avail_in != 0 || !in_eof)
                return ev_err__set(err, EV_EFORMAT, "the compressed data of '%s' continues "
                                   "after its end; the bundle is damaged or tampered with",
                                   er->entry->name);
            er->z_end = true;
            break;
        }
        if (zr != Z_OK && !(zr == Z_BUF_ERROR && er->z.avail_in == 0 && !in_eof))
            return ev_err__set(err, EV_EFORMAT, "the compressed data of '%s' is %s; the "
                               "bundle is damaged or tampered with", er->entry->name,
                               zr == Z_BUF_ERROR ? "cut short (it ends before its stream does)"
                               : er->z.msg ? er->z.msg : "damaged");
        if (er->z.avail_in == 0 && in_eof)
            break;
    }
    size_t got = (size_t)((uint8_t *)er->z.next_out - (uint8_t *)buf);
    if (got == 0 && !er->z_end)
        return ev_err__set(err, EV_EFORMAT, "the compressed data of '%s' ends before its stream "
                           "does; the bundle is damaged or tampered with", er->entry->name);
    er->crc = libdeflate_crc32(er->crc, buf, got);
    return (int64_t)got;
}

int64_t ev_store__entry_read(ev_entry_reader *er, void *buf, size_t len, ev_errbuf *err)
{
    int64_t n;
    if (er->inflating) {
        n = inflate_read(er, buf, len, err);
        if (n < 0)
            return n;
    } else if (er->zip) {
        n = stored_read(er, buf, len, err);
        if (n < 0)
            return n;
    } else {
        ssize_t r;
        do {
            r = read(er->fd, buf, len);
        } while (r < 0 && errno == EINTR);
        if (r < 0)
            return ev_err__set(err, EV_EIO, "'%s': read error: %s", er->entry->name,
                               strerror(errno));
        n = r;
    }
    if ((uint64_t)n > er->claimed - er->pos && er->entry->deflated)
        return ev_err__set(err, EV_EFORMAT, "'%s': data is longer than the %llu bytes its "
                           "header claims; refused", er->entry->name,
                           (unsigned long long)er->claimed);
    er->pos += (uint64_t)n;
    if (er->inflating && er->z_end) {
        if (er->pos != er->claimed)
            return ev_err__set(err, EV_EFORMAT, "'%s' holds %llu bytes but its ZIP header "
                               "claims %llu; the bundle is damaged", er->entry->name,
                               (unsigned long long)er->pos, (unsigned long long)er->claimed);
        int rc = zip_check_crc(er, err);
        if (rc != EV_OK)
            return rc;
    }
    return n;
}

int64_t ev_store__entry_seek(ev_entry_reader *er, int64_t off, int whence)
{
    if (er->zip) {
        if (er->inflating)
            return -1;
        int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)er->pos
                     : whence == SEEK_END ? (int64_t)er->claimed : -1;
        if (base < 0 || off > INT64_MAX - base || base + off < 0 ||
            (uint64_t)(base + off) > er->claimed)
            return -1;
        er->pos = (uint64_t)(base + off);
        er->crc_skip = true; /* the CRC covers one pass from the start */
        return (int64_t)er->pos;
    }
    off_t p = lseek(er->fd, (off_t)off, whence);
    if (p >= 0)
        er->pos = (uint64_t)p;
    return p;
}

bool ev_store__entry_crc_failed(const ev_entry_reader *er)
{
    return er && er->crc_failed;
}

void ev_store__entry_close(ev_entry_reader *er)
{
    if (!er)
        return;
    if (er->inflating)
        inflateEnd(&er->z);
    free(er->zin);
    if (er->fd >= 0)
        close(er->fd);
    free(er);
}

static int64_t io_read(void *opaque, uint8_t *buf, size_t len)
{
    return ev_store__entry_read(opaque, buf, len, NULL);
}

static int64_t io_seek(void *opaque, int64_t off, int whence)
{
    return ev_store__entry_seek(opaque, off, whence);
}

void ev_store__entry_io(ev_io *io, ev_entry_reader *er)
{
    memset(io, 0, sizeof(*io));
    io->version = EV_IO_VERSION;
    io->opaque = er;
    io->read = io_read;
    io->seek = er->entry->deflated ? NULL : io_seek;
    io->size = er->claimed;
}

int ev_store__check_entry(const ev_store *s, size_t i, bool *crc_failed, ev_errbuf *err)
{
    *crc_failed = false;
    const ev_store_entry *e = ev_store__entry(s, i);
    if (!e || e->unsafe || e->type != EV_ENTRY_FILE)
        return EV_OK;
    ev_store_cursor *c = NULL;
    ev_entry_reader *er = NULL;
    int rc = ev_store__cursor_new(&c, s, err);
    if (rc == EV_OK)
        rc = ev_store__entry_open(&er, c, i, err);
    uint8_t *buf = rc == EV_OK ? malloc(1u << 20) : NULL;
    if (rc == EV_OK && !buf)
        rc = EV_ENOMEM;
    uint64_t total = 0;
    while (rc == EV_OK) {
        int64_t n = ev_store__entry_read(er, buf, 1u << 20, err);
        if (n < 0)
            rc = (int)n;
        else if (n == 0)
            break;
        else
            total += (uint64_t)n;
    }
    if (rc == EV_OK && s->is_zip && total != e->size)
        rc = ev_err__set(err, EV_EFORMAT, "'%s' holds %llu bytes but its ZIP header claims %llu",
                         e->name, (unsigned long long)total, (unsigned long long)e->size);
    *crc_failed = ev_store__entry_crc_failed(er);
    free(buf);
    ev_store__entry_close(er);
    ev_store__cursor_free(c);
    return rc;
}

int ev_store__read_all(char **out, size_t *out_len, const ev_store *s, size_t i, size_t max,
                       ev_errbuf *err)
{
    *out = NULL;
    *out_len = 0;
    const ev_store_entry *e = ev_store__entry(s, i);
    if (!e || e->unsafe || e->type != EV_ENTRY_FILE)
        return ev_err__set(err, EV_ENOTFOUND, "entry %zu is not a readable file", i);
    if (e->size > max)
        return ev_err__set(err, EV_EUNSAFE, "'%s' is %llu bytes, more than the %zu allowed for "
                           "a tag file; refused", e->name, (unsigned long long)e->size, max);
    ev_store_cursor *c = NULL;
    ev_entry_reader *er = NULL;
    int rc = ev_store__cursor_new(&c, s, err);
    if (rc == EV_OK)
        rc = ev_store__entry_open(&er, c, i, err);
    char *buf = NULL;
    size_t len = 0;
    if (rc == EV_OK) {
        buf = malloc((size_t)e->size + 1);
        if (!buf)
            rc = EV_ENOMEM;
    }
    while (rc == EV_OK) {
        char tmp[65536];
        int64_t n = ev_store__entry_read(er, tmp, sizeof(tmp), err);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        if (len + (size_t)n > e->size) {
            rc = ev_err__set(err, EV_EFORMAT, "'%s' holds more data than its header claims; the "
                             "bundle is damaged", e->name);
            break;
        }
        memcpy(buf + len, tmp, (size_t)n);
        len += (size_t)n;
    }
    if (rc == EV_OK && len != e->size)
        rc = ev_err__set(err, EV_EFORMAT, "'%s' holds %zu bytes but its header claims %llu; the "
                         "bundle is damaged", e->name, len, (unsigned long long)e->size);
    ev_store__entry_close(er);
    ev_store__cursor_free(c);
    if (rc != EV_OK) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* producers                                                                 */
/* ------------------------------------------------------------------------ */

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
 * on the calling thread. */
#define RING_SLOTS 4
#define RING_CHUNK (512u << 10)
#define SMALL_FILE (1u << 20)

typedef struct file_prod {
    char *path;
    uint64_t expect;
    uint32_t algs;
    ev_filehash_result *res;
    ev_progress_state *progress;
    int fd;
    ev_hasher *h;
    struct stat st0;
    /* synchronous mode */
    uint8_t *sbuf;
    size_t slen, spos;
    /* threaded mode */
    bool threaded, thread_started;
    pthread_t th;
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
    uint64_t total;          /* bytes read from the file */
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
    for (;;) {
        pthread_mutex_lock(&f->mu);
        while (!f->stop && f->produced - f->consumed >= RING_SLOTS)
            pthread_cond_wait(&f->cv, &f->mu);
        bool stop = f->stop;
        unsigned slot = (unsigned)(f->produced % RING_SLOTS);
        pthread_mutex_unlock(&f->mu);
        if (stop)
            break;
        ssize_t n = read_full(f->fd, f->ring[slot], RING_CHUNK);
        int e = n < 0 ? errno : 0;
        if (n > 0) {
            ev_hash__update(f->h, f->ring[slot], (size_t)n);
        }
        pthread_mutex_lock(&f->mu);
        if (n < 0) {
            f->th_errno = e ? e : EIO;
            f->eof = true;
        } else {
            f->ring_len[slot] = (size_t)n;
            f->total += (uint64_t)n;
            if (n > 0)
                f->produced++;
            if ((size_t)n < RING_CHUNK)
                f->eof = true;
        }
        bool done = f->eof;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
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
    file_prod *f = ctx;
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
    if (fstat(f->fd, &f->st0) != 0 || !S_ISREG(f->st0.st_mode))
        return ev_err__set(err, EV_EIO, "'%s' is no longer a regular file", f->path);
    if ((uint64_t)f->st0.st_size != f->expect)
        return file_fail_changed(f, err, "its size changed");
    posix_fadvise(f->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    int rc = ev_hash__new(&f->h, f->algs);
    if (rc != EV_OK)
        return ev_err__set(err, rc, "cannot set up hashing");
    f->threaded = f->expect > SMALL_FILE;
    if (f->threaded) {
        for (int i = 0; i < RING_SLOTS; i++) {
            f->ring[i] = malloc(RING_CHUNK);
            if (!f->ring[i])
                return EV_ENOMEM;
        }
        pthread_mutex_init(&f->mu, NULL);
        pthread_cond_init(&f->cv, NULL);
        if (pthread_create(&f->th, NULL, reader_main, f) != 0) {
            pthread_mutex_destroy(&f->mu);
            pthread_cond_destroy(&f->cv);
            f->threaded = false;
            return ev_err__set(err, EV_ERROR, "cannot start a reader thread");
        }
        f->thread_started = true;
    } else {
        /* small file: read it whole (one byte more, to see growth) */
        f->sbuf = malloc((size_t)f->expect + 1);
        if (!f->sbuf)
            return EV_ENOMEM;
        ssize_t n = read_full(f->fd, f->sbuf, (size_t)f->expect + 1);
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
        st1.st_mtim.tv_sec != f->st0.st_mtim.tv_sec || st1.st_mtim.tv_nsec != f->st0.st_mtim.tv_nsec)
        return file_fail_changed(f, err, "it was modified");
    int rc = ev_hash__final(f->h, &f->res->digests);
    if (rc != EV_OK)
        return ev_err__set(err, rc, "hashing failed for '%s'", f->path);
    f->res->bytes = f->total;
    f->res->done = true;
    return ev_progress__add(f->progress, 0, 1, f->path, false) == EV_OK
               ? EV_OK
               : ev_err__set(err, EV_ECANCELED, "canceled by callback");
}

static int64_t file_read(void *ctx, void *buf, size_t len, ev_errbuf *err)
{
    file_prod *f = ctx;
    if (!f->threaded) {
        size_t n = f->slen - f->spos < len ? f->slen - f->spos : len;
        if (n == 0) {
            int rc = f->res->done ? EV_OK : file_finish(f, err);
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
    if (!f->have_slot) {
        pthread_mutex_lock(&f->mu);
        while (f->produced == f->consumed && !f->eof)
            pthread_cond_wait(&f->cv, &f->mu);
        if (f->th_errno) {
            int e = f->th_errno;
            pthread_mutex_unlock(&f->mu);
            return ev_err__set(err, EV_EIO, "'%s': read error: %s", f->path, strerror(e));
        }
        if (f->produced == f->consumed) {
            /* end of file */
            pthread_mutex_unlock(&f->mu);
            int rc = f->res->done ? EV_OK : file_finish(f, err);
            return rc == EV_OK ? 0 : rc;
        }
        f->slot = (unsigned)(f->consumed % RING_SLOTS);
        f->slot_len = f->ring_len[f->slot];
        pthread_mutex_unlock(&f->mu);
        f->have_slot = true;
        f->cur_pos = 0;
    }
    size_t avail = f->slot_len - f->cur_pos;
    size_t n = avail < len ? avail : len;
    memcpy(buf, f->ring[f->slot] + f->cur_pos, n);
    f->cur_pos += n;
    f->served += n;
    if (f->served > f->expect)
        return file_fail_changed(f, err, "it grew");
    if (f->cur_pos == f->slot_len) {
        pthread_mutex_lock(&f->mu);
        f->consumed++;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        f->have_slot = false;
    }
    if (ev_progress__add(f->progress, n, 0, f->path, false) != EV_OK)
        return ev_err__set(err, EV_ECANCELED, "canceled by callback");
    return (int64_t)n;
}

static void file_stop(file_prod *f)
{
    if (f->thread_started) {
        pthread_mutex_lock(&f->mu);
        f->stop = true;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->th, NULL);
        pthread_mutex_destroy(&f->mu);
        pthread_cond_destroy(&f->cv);
        f->thread_started = false;
    }
    for (int i = 0; i < RING_SLOTS; i++) {
        free(f->ring[i]);
        f->ring[i] = NULL;
    }
    free(f->sbuf);
    f->sbuf = NULL;
    ev_hash__free(f->h);
    f->h = NULL;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

static int file_close(void *ctx, bool ok, ev_errbuf *err)
{
    (void)ok;
    (void)err;
    file_stop(ctx);
    return EV_OK;
}

static void file_free(void *ctx)
{
    file_prod *f = ctx;
    if (!f)
        return;
    file_stop(f);
    free(f->path);
    free(f);
}

int ev_producer__file(ev_producer *out, const char *path, uint64_t expect_size, uint32_t algs,
                      ev_filehash_result *res, ev_progress_state *progress)
{
    file_prod *f = calloc(1, sizeof(*f));
    if (!f)
        return EV_ENOMEM;
    f->path = ev__strdup(path);
    if (!f->path) {
        free(f);
        return EV_ENOMEM;
    }
    f->fd = -1;
    f->expect = expect_size;
    f->algs = algs;
    f->res = res;
    f->progress = progress;
    memset(res, 0, sizeof(*res));
    out->size_hint = expect_size;
    out->open = file_open;
    out->read = file_read;
    out->close = file_close;
    out->ctx = f;
    return EV_OK;
}

static void producer_free(const ev_producer *p)
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

/* ------------------------------------------------------------------------ */
/* sinks                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct sink_entry {
    char *path;
    ev_producer p;
    bool compress;
    bool is_dir;
    int64_t mtime;
    /* ZIP bookkeeping */
    uint64_t lho;        /* offset of the local header */
    uint64_t usize, csize;
    uint32_t crc;
    uint16_t method;
    bool zip64_local;    /* the local header carries a ZIP64 extra field */
} sink_entry;

struct ev_sink {
    ev_bundle_format fmt;
    char *final_path;
    char *bag_name;
    char *tmpdir;        /* folder bag being written */
    char *tmpzip;        /* ZIP being written */
    int fd;
    int lockfd;          /* holds the flock on the temporary output until it
                            is renamed into place */
    bool replace;        /* commit replaces the bag at final_path */
    ev_progress_state *progress;
    sink_entry *e;
    size_t n, cap;
};

static int sink_open(ev_sink **out, const char *final_path, ev_bundle_format fmt,
                     const char *bag_name, bool replace, ev_errbuf *err)
{
    *out = NULL;
    struct stat st;
    if (!replace && lstat(final_path, &st) == 0)
        return ev_err__set(err, EV_EEXISTS, "'%s' already exists; choose another output name or "
                           "remove it first", final_path);
    char *parent = ev__parent_dir(final_path);
    if (!parent)
        return EV_ENOMEM;
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode)) {
        int rc = ev_err__set(err, EV_EIO, "cannot write '%s': folder '%s' does not exist",
                             final_path, parent);
        free(parent);
        return rc;
    }
    if (access(parent, W_OK | X_OK) != 0) {
        int rc = ev_err__set(err, EV_EIO, "cannot write '%s': folder '%s' is not writable (%s)",
                             final_path, parent, strerror(errno));
        free(parent);
        return rc;
    }
    free(parent);
    ev_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return EV_ENOMEM;
    s->fd = -1;
    s->lockfd = -1;
    s->fmt = fmt;
    s->replace = replace;
    s->final_path = ev__strdup(final_path);
    s->bag_name = ev__strdup(bag_name);
    if (!s->final_path || !s->bag_name) {
        ev_sink__free(s);
        return EV_ENOMEM;
    }
    /* a hidden temporary file (or folder) beside the target, renamed into
     * place only when complete */
    int rc = ev__tmp_create(fmt == EV_FORMAT_ZIP ? &s->tmpzip : &s->tmpdir, &s->lockfd,
                            final_path, fmt != EV_FORMAT_ZIP, err);
    if (rc != EV_OK) {
        ev_sink__free(s);
        return rc;
    }
    if (fmt == EV_FORMAT_ZIP) {
        s->fd = dup(s->lockfd); /* the lock stays with lockfd until the rename */
        if (s->fd < 0) {
            rc = ev_err__set(err, EV_EIO, "cannot write '%s': %s", s->tmpzip, strerror(errno));
            ev_sink__free(s);
            return rc;
        }
        fchmod(s->fd, 0644);
    }
    *out = s;
    return EV_OK;
}

int ev_sink__open(ev_sink **out, const char *final_path, ev_bundle_format fmt,
                  const char *bag_name, ev_errbuf *err)
{
    return sink_open(out, final_path, fmt, bag_name, false, err);
}

int ev_sink__open_replace(ev_sink **out, const char *final_path, ev_bundle_format fmt,
                          const char *bag_name, ev_errbuf *err)
{
    return sink_open(out, final_path, fmt, bag_name, true, err);
}

static int sink_push(ev_sink *s, sink_entry *e)
{
    sink_entry *grown = ev__grow(s->e, &s->cap, s->n, sizeof(*grown), 256);
    if (!grown)
        return EV_ENOMEM;
    s->e = grown;
    s->e[s->n++] = *e;
    return EV_OK;
}

int ev_sink__add_dir(ev_sink *s, const char *path, ev_errbuf *err)
{
    (void)err;
    sink_entry e;
    memset(&e, 0, sizeof(e));
    e.is_dir = true;
    e.path = ev__strdup(path);
    if (!e.path || sink_push(s, &e) != EV_OK) {
        free(e.path);
        return EV_ENOMEM;
    }
    return EV_OK;
}

int ev_sink__add(ev_sink *s, const char *path, const ev_producer *p, bool compress,
                 int64_t mtime, ev_errbuf *err)
{
    (void)err;
    sink_entry e;
    memset(&e, 0, sizeof(e));
    e.path = ev__strdup(path);
    e.p = *p;
    e.compress = compress;
    e.mtime = mtime;
    if (!e.path || sink_push(s, &e) != EV_OK) {
        free(e.path);
        producer_free(p);
        return EV_ENOMEM;
    }
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* ZIP writer                                                                */
/* ------------------------------------------------------------------------ */

/*
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

#define ZW_BUF (1u << 20)
#define ZW_MAX_WORKERS 4
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

static bool has_ut(const sink_entry *e)
{
    return e->mtime > 0 && e->mtime <= INT32_MAX;
}

static size_t zip_name_len(const ev_sink *s, const sink_entry *e)
{
    size_t n = strlen(s->bag_name) + 1;
    if (*e->path)
        n += strlen(e->path) + (e->is_dir ? 1 : 0);
    return n;
}

static uint8_t *put_name(uint8_t *p, const ev_sink *s, const sink_entry *e)
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

static size_t local_header_len(const ev_sink *s, const sink_entry *e)
{
    return 30 + zip_name_len(s, e) + (e->zip64_local ? 20 : 0) + (has_ut(e) ? 9 : 0);
}

/* The local header of e (its sizes and CRC final) into h; returns its length. */
static size_t local_header(uint8_t *h, const ev_sink *s, const sink_entry *e)
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

static int zw_size_changed(const sink_entry *e, ev_errbuf *err)
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
static int zw_stored(zw_shared *z, sink_entry *e, uint8_t *buf, ev_errbuf *err)
{
    ev_sink *s = z->s;
    size_t hl = local_header_len(s, e);
    if (e->is_dir) {
        size_t n = local_header(buf, s, e);
        int we = pwrite_all(s->fd, buf, n, e->lho);
        return we ? write_failed(s, we, err) : EV_OK;
    }
    uint64_t size = UINT64_MAX;
    int rc = e->p.open(e->p.ctx, &size, err);
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
        int64_t n = e->p.read(e->p.ctx, dst, want, err);
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
    int crc_rc = e->p.close(e->p.ctx, rc == EV_OK, err);
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
        int rc = zw_stored(z, &z->s->e[z->idx[k]], buf, &err);
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

static int zw_sequential_one(zw_out *o, sink_entry *e, uint8_t *in, ev_errbuf *err)
{
    ev_sink *s = o->s;
    uint64_t size = UINT64_MAX;
    int rc = e->p.open(e->p.ctx, &size, err);
    if (rc != EV_OK) {
        e->p.close(e->p.ctx, false, err);
        return rc;
    }
    e->method = e->compress ? 8 : 0;
    e->zip64_local = size == UINT64_MAX || size >= (e->compress ? ZW_DEFLATE_ZIP64_FROM : ZIP32_MAX);
    size_t hl = local_header_len(s, e);
    if ((rc = zw_flush(o, err)) != EV_OK) {
        e->p.close(e->p.ctx, false, err);
        return rc;
    }
    e->lho = o->pos;
    o->pos += hl; /* the header is written once the sizes are known */
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    bool z_ok = false;
    if (e->compress) {
        if (deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            e->p.close(e->p.ctx, false, err);
            return EV_ENOMEM;
        }
        z_ok = true;
    }
    uint8_t zbuf[65536];
    uint32_t crc = 0;
    uint64_t usize = 0, start = o->pos + o->len;
    for (;;) {
        int64_t n = e->p.read(e->p.ctx, in, ZW_BUF, err);
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
    int crc_rc = e->p.close(e->p.ctx, rc == EV_OK, err);
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
        const sink_entry *e = &s->e[order[k]];
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

static int commit_zip(ev_sink *s, ev_errbuf *err)
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
        sink_entry *e = &s->e[i];
        if (!e->is_dir && (e->compress || e->p.size_hint == UINT64_MAX))
            continue;
        e->method = 0;
        e->usize = e->is_dir ? 0 : e->p.size_hint;
        e->csize = e->usize;
        e->zip64_local = e->usize >= ZIP32_MAX;
        e->lho = off;
        off += local_header_len(s, e) + e->usize;
        order[nfixed++] = i;
    }
    int rc = zw_parallel(s, order, nfixed, err);
    zw_out o;
    memset(&o, 0, sizeof(o));
    o.s = s;
    o.pos = off;
    size_t n = nfixed;
    uint8_t *in = NULL;
    if (rc == EV_OK) {
        o.buf = malloc(ZW_BUF);
        in = malloc(ZW_BUF);
        if (!o.buf || !in)
            rc = EV_ENOMEM;
    }
    for (size_t i = 0; i < s->n && rc == EV_OK; i++) {
        sink_entry *e = &s->e[i];
        if (e->is_dir || (!e->compress && e->p.size_hint != UINT64_MAX))
            continue;
        rc = zw_sequential_one(&o, e, in, err);
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

static int mkdirs_in(const char *root, const char *rel)
{
    char *p = ev__asprintf("%s/%s", root, rel);
    if (!p)
        return EV_ENOMEM;
    size_t rootlen = strlen(root);
    for (char *q = p + rootlen + 1; *q; q++) {
        if (*q == '/') {
            *q = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                free(p);
                return EV_EIO;
            }
            *q = '/';
        }
    }
    free(p);
    return EV_OK;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *b = buf;
    while (len) {
        ssize_t w = write(fd, b, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        b += w;
        len -= (size_t)w;
    }
    return 0;
}

static int commit_dir(ev_sink *s, ev_errbuf *err)
{
    enum { CHUNK = 1 << 20 };
    uint8_t *buf = malloc(CHUNK);
    if (!buf)
        return EV_ENOMEM;
    int rc = EV_OK;
    for (size_t i = 0; i < s->n && rc == EV_OK; i++) {
        sink_entry *e = &s->e[i];
        char *p = ev__asprintf("%s/%s", s->tmpdir, e->path);
        if (!p) {
            rc = EV_ENOMEM;
            break;
        }
        if (mkdirs_in(s->tmpdir, e->path) != EV_OK) {
            rc = ev_err__set(err, EV_EIO, "cannot create folders for '%s': %s", p, strerror(errno));
            free(p);
            break;
        }
        if (e->is_dir) {
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                rc = ev_err__set(err, EV_EIO, "cannot create '%s': %s", p, strerror(errno));
            free(p);
            continue;
        }
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            rc = ev_err__set(err, EV_EIO, "cannot create '%s': %s", p, strerror(errno));
            free(p);
            break;
        }
        uint64_t size = UINT64_MAX;
        rc = e->p.open(e->p.ctx, &size, err);
        while (rc == EV_OK) {
            int64_t n = e->p.read(e->p.ctx, buf, CHUNK, err);
            if (n < 0) {
                rc = (int)n;
                break;
            }
            if (n == 0)
                break;
            if (write_all(fd, buf, (size_t)n) != 0)
                rc = ev_err__set(err, EV_EIO, "cannot write '%s': %s", p, strerror(errno));
        }
        e->p.close(e->p.ctx, rc == EV_OK, err);
        if (close(fd) != 0 && rc == EV_OK)
            rc = ev_err__set(err, EV_EIO, "cannot write '%s': %s", p, strerror(errno));
        if (rc == EV_OK && e->mtime > 0) {
            struct timespec ts[2] = { { (time_t)e->mtime, 0 }, { (time_t)e->mtime, 0 } };
            utimensat(AT_FDCWD, p, ts, 0);
        }
        free(p);
    }
    free(buf);
    if (rc == EV_OK)
        rc = ev__publish(s->tmpdir, s->final_path, s->replace ? EV_PUBLISH_REPLACE : 0, "bag",
                         err);
    return rc;
}

static ev_progress_state *producer_progress(const sink_entry *e)
{
    if (e->is_dir || e->p.open != file_open || !e->p.ctx)
        return NULL;
    return ((file_prod *)e->p.ctx)->progress;
}

int ev_sink__commit(ev_sink *s, ev_errbuf *err)
{
    /* progress is reported through the file producers' state */
    for (size_t i = 0; i < s->n && !s->progress; i++)
        s->progress = producer_progress(&s->e[i]);
    int rc = s->fmt == EV_FORMAT_ZIP ? commit_zip(s, err) : commit_dir(s, err);
    if (rc == EV_OK) {
        free(s->tmpdir);
        s->tmpdir = NULL;
        if (s->lockfd >= 0)
            close(s->lockfd);
        s->lockfd = -1;
    }
    return rc;
}

void ev_sink__free(ev_sink *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    if (s->tmpzip) {
        unlink(s->tmpzip); /* not committed: nothing stays behind */
        free(s->tmpzip);
    }
    if (s->tmpdir) {
        ev__rm_tree(s->tmpdir);
        free(s->tmpdir);
    }
    if (s->lockfd >= 0)
        close(s->lockfd);
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].path);
        if (!s->e[i].is_dir)
            producer_free(&s->e[i].p);
    }
    free(s->e);
    free(s->final_path);
    free(s->bag_name);
    free(s);
}
