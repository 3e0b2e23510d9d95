/*
 * zip_read: the ZIP form of a store, read by the library itself (not
 * libzip) and checked as strictly as Info-ZIP's unzip -t (docs/bundle.md,
 * "Limits when reading"): the end record and ZIP64 end record, the central
 * directory, each entry's local header and data descriptor against its
 * central record, no two entries sharing bytes, the expansion limits; then
 * reading stored entries with pread and deflated ones with a strict inflate,
 * the CRC checked at the end of each.
 */
#include "container/container_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libdeflate.h>
#include <unistr.h>

#include "bag/bag.h"

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
/* the general purpose bits this reader knows: encryption (refused when
 * read), the deflate options, the data descriptor, strong encryption
 * (refused when read) and UTF-8 names; any other bit (patched data, an
 * encrypted central directory, reserved bits) changes what the bytes mean */
#define GPBF_KNOWN (GPBF_ENCRYPTED | 0x0002u | 0x0004u | GPBF_DESCRIPTOR | GPBF_STRONG | GPBF_UTF8)
/* the highest "version needed to extract" Info-ZIP's unzip 6.0 accepts
 * (4.6); above it, unzip -t skips the entry as unsupported */
#define ZIP_VERSION_MAX 46
/* version made by: the host systems APPNOTE 6.3 defines (0 MS-DOS .. 19
 * OS X), and its own version, 6.3 */
#define ZIP_HOST_MAX 19
#define ZIP_SPEC_MAX 63
#define ZIP_HOST_UNIX 3
/* how container/zip_write.c writes every entry: made by Unix, APPNOTE 6.3;
 * internal attributes 0; mode 0100644 for files, 040755 (and the MS-DOS
 * folder bit) for folders */
#define OURS_MADE_BY ((ZIP_HOST_UNIX << 8) | ZIP_SPEC_MAX)
#define OURS_ATTR_FILE (0100644u << 16)
#define OURS_ATTR_DIR ((040755u << 16) | 0x10u)
/* extra field ids compared between the local header and the central
 * directory (Info-ZIP's extended timestamp, Unix UID/GID and old Unix) */
#define XID_ZIP64 0x0001u
#define XID_UT 0x5455u
#define XID_UX_NEW 0x7875u
#define XID_UX_OLD 0x5855u

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

/* Extra fields both headers carry and that are defined to say the same in
 * both; the ZIP64 field differs legitimately and is compared on its own.
 * Returns what differs, or NULL. */
static const char *extra_differs(const uint8_t *lx, size_t ll, const uint8_t *cx, size_t cl)
{
    size_t a = 0, b = 0;
    const uint8_t *l = extra_find(lx, ll, XID_UT, &a), *c = extra_find(cx, cl, XID_UT, &b);
    /* UT: the central copy holds the flags byte (the same as the local
     * one) and the modification time only */
    if (!l != !c)
        return "extended timestamp extra field (UT: present in one header only)";
    if (l && (a == 0 || b == 0 || l[0] != c[0]))
        return "extended timestamp extra field (UT: its flags)";
    if (l && (l[0] & 1) && (a < 5 || b < 5 || memcmp(l + 1, c + 1, 4) != 0))
        return "extended timestamp extra field (UT: the modification time)";
    /* ux: Info-ZIP's central copy is empty; when both hold data it is the same */
    l = extra_find(lx, ll, XID_UX_NEW, &a);
    c = extra_find(cx, cl, XID_UX_NEW, &b);
    if (!l != !c)
        return "Unix UID/GID extra field (ux: present in one header only)";
    if (l && a && b && (a != b || memcmp(l, c, a) != 0))
        return "Unix UID/GID extra field (ux)";
    /* UX: access and modification time in both, UID/GID in the local one */
    l = extra_find(lx, ll, XID_UX_OLD, &a);
    c = extra_find(cx, cl, XID_UX_OLD, &b);
    if (l && c && a >= 8 && b >= 8 && memcmp(l, c, 8) != 0)
        return "old Unix extra field (UX: the times)";
    return NULL;
}

/* The central header h of an entry written as container/zip_write.c
 * writes it (the attribute fields only). */
static bool written_like_ours(const uint8_t *h)
{
    size_t nl = rd16(h + 28);
    bool dir = nl > 0 && h[46 + nl - 1] == '/';
    return rd16(h + 4) == OURS_MADE_BY && rd16(h + 36) == 0 &&
           rd32(h + 38) == (dir ? OURS_ATTR_DIR : OURS_ATTR_FILE);
}

/* What the whole central directory says about modes, read before the
 * entries one by one: how many files and folders made on Unix give their
 * type in the mode, and whether the ZIP was written the way evidence
 * writes (more than half of its entries, and at least two, carry exactly
 * the fields container/zip_write.c gives). A malformed directory ends the
 * survey early; the walk over the entries reports it. */
typedef struct zip_survey {
    uint64_t typed_files, typed_dirs, ours, seen;
} zip_survey;

static void survey_cd(zip_survey *sv, const uint8_t *cd, uint64_t cd_size, uint64_t n)
{
    memset(sv, 0, sizeof(*sv));
    size_t pos = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (cd_size - pos < 46 || rd32(cd + pos) != SIG_CENTRAL)
            return;
        const uint8_t *h = cd + pos;
        size_t nl = rd16(h + 28), el = rd16(h + 30), cl = rd16(h + 32);
        if (cd_size - pos - 46 < nl + el + cl)
            return;
        bool dir = nl > 0 && h[46 + nl - 1] == '/';
        if ((rd16(h + 4) >> 8) == ZIP_HOST_UNIX) {
            mode_t type = (mode_t)(rd32(h + 38) >> 16) & S_IFMT;
            if (!dir && type == S_IFREG)
                sv->typed_files++;
            else if (dir && type == S_IFDIR)
                sv->typed_dirs++;
        }
        if (written_like_ours(h))
            sv->ours++;
        sv->seen++;
        pos += 46 + nl + el + cl;
    }
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

/* The local headers, read through a window: in a ZIP as writers make it
 * they follow one another, so one read serves many of them instead of two
 * reads for each. After a window that served few, the next one is small,
 * so entries in a scattered order cost a page each, not a window each. */
#define LWIN_CAP (256u * 1024u)
#define LWIN_SMALL 4096u

typedef struct lwin {
    int fd;
    uint8_t *buf; /* NULL: every read goes to the file */
    uint64_t off;
    size_t len;
    unsigned hits;
} lwin;

static int lwin_read(lwin *w, void *dst, size_t len, uint64_t off)
{
    if (w->buf && off >= w->off && off - w->off <= w->len && len <= w->len - (off - w->off)) {
        memcpy(dst, w->buf + (off - w->off), len);
        w->hits++;
        return 0;
    }
    if (!w->buf || len > LWIN_CAP / 2)
        return pread_full(w->fd, dst, len, off);
    size_t want = w->hits >= 4 ? LWIN_CAP : LWIN_SMALL;
    if (want < len)
        want = len;
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(w->fd, w->buf + got, want - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    w->off = off;
    w->len = got;
    w->hits = 0;
    if (len <= got) {
        memcpy(dst, w->buf, len);
        w->hits++;
        return 0;
    }
    return pread_full(w->fd, dst, len, off); /* end of file or an error, said as before */
}

typedef struct zip_end {
    uint64_t eocd;          /* offset of the end record */
    uint64_t tail_end;      /* end of the end record and its comment */
    uint64_t cd_off, cd_size, cd_end, n;
    uint16_t comment_len;
    bool z64;               /* a ZIP64 end record was read */
    uint16_t z64_made, z64_need; /* its version made by and version needed */
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
        z->z64 = true;
        z->z64_made = rd16(rec + 12);
        z->z64_need = rd16(rec + 14);
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
static const char *check_local(lwin *fd, const zip_end *z, struct raw_cd *rc, const uint8_t *cname,
                               size_t cnl, const uint8_t *cx, size_t cel, uint8_t *buf,
                               char *msg, size_t msglen)
{
    uint8_t h[30];
    if (rc->lho > z->cd_off || z->cd_off - rc->lho < 30 || lwin_read(fd, h, 30, rc->lho) != 0 ||
        rd32(h) != SIG_LOCAL) {
        snprintf(msg, msglen, "there is no local header at offset %llu, where the central "
                 "directory says the entry starts", (unsigned long long)rc->lho);
        return "zip-local-header-missing";
    }
    uint16_t lvneed = rd16(h + 4), lflags = rd16(h + 6), lmethod = rd16(h + 8);
    uint16_t ltime = rd16(h + 10), ldate = rd16(h + 12);
    uint32_t lcrc = rd32(h + 14);
    uint64_t lcsize = rd32(h + 18), lusize = rd32(h + 22);
    size_t lnl = rd16(h + 26), lel = rd16(h + 28);
    if (z->cd_off - rc->lho - 30 < lnl + lel || lwin_read(fd, buf, lnl + lel, rc->lho + 30) != 0) {
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
    const uint16_t bits = GPBF_ENCRYPTED | GPBF_DESCRIPTOR | GPBF_STRONG | GPBF_UTF8 |
                          (uint16_t)~GPBF_KNOWN;
    if ((lflags ^ rc->flags) & bits) {
        snprintf(msg, msglen, "the local header's flags (0x%04x) disagree with the central "
                 "directory's (0x%04x)", lflags, rc->flags);
        return "zip-local-flags-mismatch";
    }
    if ((lvneed & 0xff) > ZIP_VERSION_MAX) {
        snprintf(msg, msglen, "the local header says version %u.%u is needed to extract it; "
                 "stock unzip reads up to %d.%d", (lvneed & 0xff) / 10, (lvneed & 0xff) % 10,
                 ZIP_VERSION_MAX / 10, ZIP_VERSION_MAX % 10);
        return "zip-version-unsupported";
    }
    /* fields that do not change the bytes read, but that the two copies
     * must still agree on: a difference is a warning */
    rc->meta_differs = lvneed != rc->vneed ? "version needed to extract"
                       : ltime != rc->dos_time ? "modification time"
                       : ldate != rc->dos_date ? "modification date"
                       : lflags != rc->flags ? "general purpose flags (deflate options)"
                                             : NULL;
    const uint8_t *lx = buf + lnl;
    if (!extra_well_formed(lx, lel)) {
        snprintf(msg, msglen, "the local header's extra field is malformed");
        return "zip-local-extra-invalid";
    }
    if (!rc->meta_differs)
        rc->meta_differs = extra_differs(lx, lel, cx, cel);
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
        if (lwin_read(fd, d, dl, rc->end) == 0) {
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

int ev_store__zip_open(ev_store *s, const ev_store_limits *lim, ev_report *r, ev_errbuf *err)
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
    lwin lw = { fd, NULL, 0, 0, 4 };
    int rc = find_end(&z, fd, fsize, s->path, err);
    if (rc != EV_OK)
        goto out;
    if (z.n > lim->max_entries) {
        rc = ev_err__set(err, EV_EUNSAFE, "'%s' has %llu entries, more than the limit of %llu; "
                         "refused (ev_bundle_options.max_entries; evidence verify "
                         "--max-entries raises it for a bundle you trust to be this large)",
                         s->path, (unsigned long long)z.n,
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
    lw.buf = malloc(LWIN_CAP); /* without it, each header is read on its own */
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
    zip_survey sv;
    survey_cd(&sv, cd, z.cd_size, z.n);
    bool ours = sv.ours >= 2 && sv.ours > z.n / 2;
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
        rw->vneed = rd16(h + 6);
        rw->flags = rd16(h + 8);
        rw->method = rd16(h + 10);
        rw->dos_time = rd16(h + 12);
        rw->dos_date = rd16(h + 14);
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
        const uint8_t *ut = extra_find(x, el, XID_UT, &utl);
        e.mtime = ut && utl >= 5 && (ut[0] & 1) ? (int64_t)(int32_t)rd32(ut + 1)
                                                  : dos_to_unix(rd16(h + 12), rd16(h + 14));
        bool is_dir_name = nl > 0 && name[nl - 1] == '/';
        e.type = is_dir_name ? EV_ENTRY_DIR : EV_ENTRY_FILE;
        const char *mode_says = NULL; /* the Unix mode contradicts the name */
        const char *type_says = NULL; /* what a link or special file is */
        bool no_type = false;         /* a mode without a file type */
        uint16_t made_by = rd16(h + 4), iattr = rd16(h + 36);
        uint32_t xattr = rd32(h + 38);
        mode_t mode = (mode_t)(xattr >> 16);
        if ((made_by >> 8) == ZIP_HOST_UNIX) { /* the mode is in the external attributes */
            mode_t type = mode & S_IFMT;
            if (type == S_IFLNK) {
                e.type = EV_ENTRY_SYMLINK;
                type_says = "symbolic link";
            } else if (type == S_IFIFO || type == S_IFCHR || type == S_IFBLK ||
                       type == S_IFSOCK) {
                e.type = EV_ENTRY_OTHER;
                type_says = "special file";
            } else if (type != 0 && type != S_IFREG && type != S_IFDIR) {
                e.type = EV_ENTRY_OTHER;
                type_says = "file of a type no system defines";
            } else if (type == S_IFDIR && !is_dir_name) {
                mode_says = "a folder, but its name does not end in '/' as a folder's does";
            } else if (type == S_IFREG && is_dir_name) {
                mode_says = "a regular file, but its name ends in '/' as a folder's does";
            } else if (type == 0 && mode != 0 && mode != 0600) {
                /* extractors make a regular file (or a folder, by the
                 * name) of it: harmless, unless the other entries of the
                 * ZIP do give their type, and this one lost it. 0600
                 * without a type is what Python's ZipFile.writestr gives
                 * whatever it writes from bytes, beside typed entries
                 * that ZipFile.write copies from disk */
                no_type = is_dir_name ? sv.typed_dirs > 0 : sv.typed_files > 0;
            }
        }
        /* header fields that change nothing read, but that no writer
         * gives, or that differ from the other entries of a ZIP written
         * the way evidence writes */
        char unusual[640];
        size_t ul = 0;
        unusual[0] = '\0';
        if ((made_by >> 8) > ZIP_HOST_MAX || (made_by & 0xff) > ZIP_SPEC_MAX)
            ul += (size_t)snprintf(unusual + ul, sizeof(unusual) - ul, "%sversion made by "
                                   "0x%04x (host %u, version %u.%u: %s)", ul ? "; " : "",
                                   made_by, made_by >> 8, (made_by & 0xff) / 10,
                                   (made_by & 0xff) % 10, (made_by >> 8) > ZIP_HOST_MAX
                                   ? "a host system APPNOTE does not define"
                                   : "newer than APPNOTE 6.3");
        if (iattr & ~1u && ul < sizeof(unusual))
            ul += (size_t)snprintf(unusual + ul, sizeof(unusual) - ul, "%sinternal "
                                   "attributes 0x%04x (only bit 0, text, is defined)",
                                   ul ? "; " : "", iattr);
        if (ours && !written_like_ours(h) && ul < sizeof(unusual))
            snprintf(unusual + ul, sizeof(unusual) - ul, "%sversion made by 0x%04x, internal "
                     "attributes 0x%04x, external attributes 0x%08x (Unix mode 0%06o), while "
                     "the other entries, as evidence writes them, give 0x%04x, 0 and 0x%08x",
                     ul ? "; " : "", made_by, iattr, xattr, (unsigned)mode, OURS_MADE_BY,
                     is_dir_name ? OURS_ATTR_DIR : OURS_ATTR_FILE);
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
        const char *lcode = check_local(&lw, &z, rw, name, nl, x, el, lbuf, lmsg, sizeof(lmsg));
        if (rw->placed && rw->end != UINT64_MAX)
            ranges[nranges++] = (zrange){ rw->lho, rw->end, (size_t)i };
        else if (rw->placed && rw->csize <= fsize) {
            rc = ev_err__set(err, EV_EUNSAFE, "'%s': the data of entry '%s' runs into the "
                             "central directory; refused (the ZIP is forged or damaged)",
                             s->path, shown);
            free(shown);
            free(e.name);
            goto out;
        } else if (rw->placed) {
            /* it claims more than the file (refused below): its header
             * still covers its own bytes */
            ranges[nranges++] = (zrange){ rw->lho, rw->data_off, (size_t)i };
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
                           "ZIP entry '%s' is a %s (Unix mode 0%06o); refused: bundles hold "
                           "only regular files and folders", shown, type_says, (unsigned)mode);
        } else if (rw->flags & ~GPBF_KNOWN) {
            e.unsafe = true;
            ev_report__add(r, EV_SEVERITY_ERROR, "zip-flags-unsupported", e.name,
                           "ZIP entry '%s' sets general purpose flags 0x%04x, which this "
                           "reader does not know (they change what the bytes mean); refused",
                           e.name, (unsigned)(rw->flags & ~GPBF_KNOWN));
        } else if ((rw->vneed & 0xff) > ZIP_VERSION_MAX) {
            e.unsafe = true;
            ev_report__add(r, EV_SEVERITY_ERROR, "zip-version-unsupported", e.name,
                           "ZIP entry '%s' says version %u.%u is needed to extract it; stock "
                           "unzip reads up to %d.%d and skips it, so it was refused",
                           e.name, (rw->vneed & 0xff) / 10, (rw->vneed & 0xff) % 10,
                           ZIP_VERSION_MAX / 10, ZIP_VERSION_MAX % 10);
        } else if (mode_says) {
            e.unsafe = true;
            ev_report__add(r, EV_SEVERITY_ERROR, "zip-mode-mismatch", e.name,
                           "ZIP entry '%s' has a Unix mode that says it is %s; refused: the "
                           "entry's type is ambiguous", e.name, mode_says);
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
        } else if (e.comp_size > fsize) {
            /* folders too: a folder's data span is checked like a file's */
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
        if (!e.unsafe && !lcode && rw->meta_differs)
            ev_report__add(r, EV_SEVERITY_WARNING, "zip-local-field-mismatch", e.name,
                           "ZIP entry '%s': the local header gives another %s than the "
                           "central directory; the bytes are not affected, but one of the "
                           "two headers was changed", e.name, rw->meta_differs);
        if (!e.unsafe && !lcode && no_type)
            ev_report__add(r, EV_SEVERITY_WARNING, "zip-mode-no-type", e.name,
                           "ZIP entry '%s' has a Unix mode without a file type (0%06o), "
                           "while the other %s of this ZIP give theirs; it is read as a "
                           "%s by its name, but its header was changed", e.name,
                           (unsigned)mode, is_dir_name ? "folders" : "files",
                           is_dir_name ? "folder" : "regular file");
        if (!e.unsafe && !lcode && unusual[0])
            ev_report__add(r, EV_SEVERITY_WARNING, "zip-header-unusual", e.name,
                           "ZIP entry '%s': %s. Nothing read is affected, but the central "
                           "header was probably changed", e.name, unusual);
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
        if (ev_store__push_entry(s, &e) != EV_OK) {
            free(e.name);
            rc = EV_ENOMEM;
            goto out;
        }
    }
    if (pos != z.cd_size) {
        rc = zip_damaged(err, s->path, "the central directory holds more than its entries");
        goto out;
    }
    /* the list is kept for as long as the bundle is open: give back what
     * its last doubling left unused (a quarter of it, on average) */
    if (s->n && s->cap > s->n) {
        ev_store_entry *fit = realloc(s->e, s->n * sizeof(*fit));
        if (fit) {
            s->e = fit;
            s->cap = s->n;
        }
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
    /* the ZIP64 end record's versions: ZIP64 needs 4.5, and APPNOTE
     * defines nothing above 6.3 nor hosts above 19 */
    if (z.z64 && ((z.z64_made >> 8) > ZIP_HOST_MAX || (z.z64_made & 0xff) > ZIP_SPEC_MAX ||
                  z.z64_need < 45 || z.z64_need > ZIP_SPEC_MAX))
        ev_report__add(r, EV_SEVERITY_WARNING, "zip-header-unusual", NULL,
                       "the ZIP64 end record gives version made by 0x%04x and version needed "
                       "%u.%u, which no writer gives (ZIP64 needs 4.5; APPNOTE defines no "
                       "version above 6.3 and no host above 19); nothing read is affected",
                       z.z64_made, z.z64_need / 10, z.z64_need % 10);
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
    free(lw.buf);
    free(ranges);
    close(fd);
    return rc;
}

/* The end of a ZIP entry: its CRC must match (once, after one pass from
 * the start). */
int ev_store__zip_check_crc(ev_entry_reader *er, ev_errbuf *err)
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

int64_t ev_store__zip_stored_read(ev_entry_reader *er, void *buf, size_t len, ev_errbuf *err)
{
    uint64_t left = er->claimed - er->pos;
    if (left == 0) {
        int rc = ev_store__zip_check_crc(er, err);
        return rc == EV_OK ? 0 : rc;
    }
    size_t want = left < len ? (size_t)left : len;
    int64_t r = zip_pread(er, buf, want, er->pos, err);
    if (r > 0)
        er->crc = libdeflate_crc32(er->crc, buf, (size_t)r);
    return r;
}

int64_t ev_store__zip_inflate_read(ev_entry_reader *er, void *buf, size_t len, ev_errbuf *err)
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

/* The ZIP half of ev_store__entry_open: where the data of er->entry lies,
 * and an inflater when it is deflated. On failure the caller frees er. */
int ev_store__zip_entry_open(ev_entry_reader *er, ev_store_cursor *c, ev_errbuf *err)
{
    const ev_store *s = c->s;
    const ev_store_entry *e = er->entry;
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
    if (rc != EV_OK)
        return rc;
    er->zip = true;
    er->zfd = c->fd;
    er->data_off = r->data_off;
    er->csize = r->csize;
    er->want_crc = r->crc;
    if (r->method == 8) {
        er->zin = malloc(65536);
        if (!er->zin || inflateInit2(&er->z, -MAX_WBITS) != Z_OK) {
            free(er->zin);
            er->zin = NULL;
            return EV_ENOMEM;
        }
        er->inflating = true;
    }
    return EV_OK;
}

/* A stored entry seeks within its claimed size; a deflated one cannot. */
int64_t ev_store__zip_entry_seek(ev_entry_reader *er, int64_t off, int whence)
{
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
