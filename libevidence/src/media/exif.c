/*
 * exif: capture facts from the EXIF block (TIFF structure) and the XMP
 * packet of a still image; exif_blocks.c finds them in JPEG, PNG and HEIF
 * files. The TIFF structure (EXIF blocks, TIFF files and TIFF-based raws)
 * is walked here by IFD offsets, through positioned reads, whatever the
 * file size: no 64 KiB buffer limit. Every size and offset in the file is
 * treated as a claim: reads are bounded (IFD/entry counts), IFD loops are
 * cut and all arithmetic on them is checked.
 *
 * The walk and the reading of the tags stay in one file: they share the
 * tiff state, the tag table and the value readers (tfind, tval, get_*),
 * which would otherwise all become module-wide symbols for one caller.
 */
#include "media/exif.h"
#include "media/exif_int.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/internal.h"
#include "media/media_io.h"
#include "media/media_json.h"
#include "media/xmp.h"

#define MAX_WARNINGS 16

/* ------------------------------------------------------------------------ */
/* The TIFF structure, walked by IFD offsets                                 */
/* ------------------------------------------------------------------------ */

/* Bytes of a TIFF structure: in memory, or the file through the reader. */
typedef struct tsrc {
    const uint8_t *mem;
    ev_exif__rd *r;
    uint64_t size; /* UINT64_MAX when unknown (reads past the end come back short) */
} tsrc;

/* Exactly n bytes at off, or false (outside, short; an io failure is in
 * r->fatal). */
static bool ts_read(const tsrc *s, uint64_t off, void *buf, size_t n)
{
    uint64_t end;
    if (__builtin_add_overflow(off, (uint64_t)n, &end) || end > s->size)
        return false;
    if (s->mem) {
        memcpy(buf, s->mem + off, n);
        return true;
    }
    if (s->r->fatal)
        return false;
    return ev_exif__rd_at(s->r, off, buf, n) == (int64_t)n;
}

enum { K_IFD0, K_EXIF, K_GPS, K_SUB, K_N };
static const char *const kname[K_N] = { "IFD0", "ExifIFD", "GPS IFD", "SubIFD" };
static const char *const ksrc[K_N] = { "exif:IFD0", "exif:ExifIFD", "exif:GPS", "exif:SubIFD" };

#define MAX_IFDS 32
#define MAX_IFD_ENTRIES 4096
#define MAX_TENTS 256
#define MAX_SUBIFDS 8

enum {
    TAG_MAKE = 0x010F, TAG_MODEL = 0x0110, TAG_ORIENTATION = 0x0112, TAG_SOFTWARE = 0x0131,
    TAG_DATETIME = 0x0132, TAG_SUBIFDS = 0x014A, TAG_XMP = 0x02BC, TAG_EXIFIFD = 0x8769,
    TAG_GPSIFD = 0x8825, TAG_DTO = 0x9003, TAG_DTD = 0x9004, TAG_OFF = 0x9010,
    TAG_OFF_O = 0x9011, TAG_OFF_D = 0x9012, TAG_SUB = 0x9290, TAG_SUB_O = 0x9291,
    TAG_SUB_D = 0x9292, TAG_OWNER = 0xA430, TAG_SERIAL = 0xA431, TAG_LENS = 0xA434,
    GPS_LAT_REF = 1, GPS_LAT = 2, GPS_LON_REF = 3, GPS_LON = 4, GPS_ALT_REF = 5, GPS_ALT = 6,
    GPS_TIME = 7, GPS_DATUM = 0x12, GPS_DATE = 0x1D
};

typedef struct tent {
    uint16_t tag, type;
    uint8_t kind;
    uint64_t count;
    uint8_t field[8]; /* the value, or its offset */
} tent;

typedef struct tiff {
    const tsrc *s;
    bool be, big;
    tent e[MAX_TENTS];
    size_t n;
    uint64_t seen[MAX_IFDS];
    int nseen;
    bool walked[K_N]; /* an IFD of this kind was read */
    json_t *warnings;
    int nwarn;
    bool nomem;
} tiff;

static void twarn(tiff *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void twarn(tiff *t, const char *fmt, ...)
{
    if (t->nomem || !t->warnings)
        return;
    if (t->nwarn++ >= MAX_WARNINGS)
        return;
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *s = ev_media__jstr(msg, sizeof(msg));
    if (!s || json_array_append_new(t->warnings, s))
        t->nomem = true;
}

static uint64_t tu(const tiff *t, const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[t->be ? bytes - 1 - i : i] << (8 * i);
    return v;
}

static int type_size(uint16_t type)
{
    switch (type) {
    case 1: case 2: case 6: case 7:
        return 1;
    case 3: case 8:
        return 2;
    case 4: case 9: case 11: case 13:
        return 4;
    case 5: case 10: case 12: case 16: case 17: case 18:
        return 8;
    default:
        return 0;
    }
}

static bool wanted(int kind, uint16_t tag)
{
    switch (kind) {
    case K_IFD0:
        return tag == TAG_MAKE || tag == TAG_MODEL || tag == TAG_ORIENTATION ||
               tag == TAG_SOFTWARE || tag == TAG_DATETIME || tag == TAG_SUBIFDS ||
               tag == TAG_XMP || tag == TAG_EXIFIFD || tag == TAG_GPSIFD;
    case K_SUB:
        return false; /* only its pointers are followed */
    case K_EXIF:
        return tag == TAG_DTO || tag == TAG_DTD || tag == TAG_OFF || tag == TAG_OFF_O ||
               tag == TAG_OFF_D || tag == TAG_SUB || tag == TAG_SUB_O || tag == TAG_SUB_D ||
               tag == TAG_OWNER || tag == TAG_SERIAL || tag == TAG_LENS;
    case K_GPS:
        return tag <= 0x1F;
    default:
        return false;
    }
}

static const tent *tfind(const tiff *t, int kind, uint16_t tag)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].kind == kind && t->e[i].tag == tag)
            return &t->e[i];
    return NULL;
}

/* Up to max bytes of a value into buf; *n bytes read, *whole when all of
 * it. False (with a warning) when the value cannot be read. */
static bool tval(tiff *t, const tent *e, uint8_t *buf, size_t max, size_t *n, bool *whole)
{
    int sz = type_size(e->type);
    uint64_t total;
    if (!sz || __builtin_mul_overflow(e->count, (uint64_t)sz, &total)) {
        twarn(t, "%s tag 0x%04X: type %u / count %llu not readable", kname[e->kind], e->tag,
              e->type, (unsigned long long)e->count);
        return false;
    }
    size_t want = total < max ? (size_t)total : max;
    *whole = total <= max;
    *n = want;
    if (total <= (t->big ? 8u : 4u)) {
        memcpy(buf, e->field, want);
        return true;
    }
    uint64_t off = tu(t, e->field, t->big ? 8 : 4);
    if (!ts_read(t->s, off, buf, want)) {
        if (!(t->s->r && t->s->r->fatal))
            twarn(t, "%s tag 0x%04X: %llu bytes at byte %llu are outside the data",
                  kname[e->kind], e->tag, (unsigned long long)total, (unsigned long long)off);
        return false;
    }
    return true;
}

/* An IFD offset held by a pointer tag (LONG/IFD, or LONG8/IFD8 in BigTIFF). */
static bool ifd_ptr(tiff *t, const tent *e, size_t i, uint64_t *off)
{
    int sz = e->type == 4 || e->type == 13 ? 4 : (e->type == 16 || e->type == 18) ? 8 : 0;
    if (!sz || i >= e->count) {
        if (!sz)
            twarn(t, "%s tag 0x%04X: type %u is not an IFD offset", kname[e->kind], e->tag,
                  e->type);
        return false;
    }
    uint8_t buf[8 * MAX_SUBIFDS];
    size_t n;
    bool whole;
    if (!tval(t, e, buf, sizeof(buf), &n, &whole) || (i + 1) * (size_t)sz > n)
        return false;
    *off = tu(t, buf + i * (size_t)sz, sz);
    return true;
}

static bool walk_ifd(tiff *t, uint64_t off, int kind, int depth);

/* Read one IFD and the IFDs it points to. False when the IFD itself could
 * not be read. */
static bool walk_ifd(tiff *t, uint64_t off, int kind, int depth)
{
    if (t->nomem)
        return false;
    for (int i = 0; i < t->nseen; i++)
        if (t->seen[i] == off) {
            twarn(t, "%s at byte %llu was already read (IFD loop); not read again", kname[kind],
                  (unsigned long long)off);
            return false;
        }
    if (t->nseen == MAX_IFDS) {
        twarn(t, "more than %d IFDs; %s at byte %llu not read", MAX_IFDS, kname[kind],
              (unsigned long long)off);
        return false;
    }
    t->seen[t->nseen++] = off;
    size_t csz = t->big ? 8 : 2, esz = t->big ? 20 : 12;
    uint8_t cb[8];
    if (!ts_read(t->s, off, cb, csz)) {
        if (!(t->s->r && t->s->r->fatal))
            twarn(t, "%s offset %llu is outside the data (%llu bytes)", kname[kind],
                  (unsigned long long)off, (unsigned long long)t->s->size);
        return false;
    }
    uint64_t count = tu(t, cb, (int)csz);
    t->walked[kind] = true;
    if (count > MAX_IFD_ENTRIES) {
        twarn(t, "%s at byte %llu claims %llu entries; the first %d are read", kname[kind],
              (unsigned long long)off, (unsigned long long)count, MAX_IFD_ENTRIES);
        count = MAX_IFD_ENTRIES;
    }
    /* the pointers of this IFD (not the first of its kind) */
    tent ptr[3];
    bool has[3] = { false, false, false };
    static const uint16_t ptags[3] = { TAG_EXIFIFD, TAG_GPSIFD, TAG_SUBIFDS };
    for (uint64_t i = 0; i < count; i++) {
        uint8_t eb[20];
        if (!ts_read(t->s, off + csz + i * esz, eb, esz)) {
            if (!(t->s->r && t->s->r->fatal))
                twarn(t, "%s at byte %llu is cut after %llu of %llu entries", kname[kind],
                      (unsigned long long)off, (unsigned long long)i,
                      (unsigned long long)count);
            break;
        }
        tent e;
        e.tag = (uint16_t)tu(t, eb, 2);
        e.type = (uint16_t)tu(t, eb + 2, 2);
        e.kind = (uint8_t)kind;
        e.count = tu(t, eb + 4, t->big ? 8 : 4);
        memset(e.field, 0, sizeof(e.field));
        memcpy(e.field, eb + (t->big ? 12 : 8), t->big ? 8 : 4);
        for (int k = 0; k < 3; k++)
            if ((kind == K_IFD0 || kind == K_SUB) && e.tag == ptags[k] && !has[k]) {
                ptr[k] = e;
                has[k] = true;
            }
        if (!wanted(kind, e.tag) || tfind(t, kind, e.tag) || t->n == MAX_TENTS)
            continue;
        t->e[t->n++] = e;
    }
    /* one ExifIFD and one GPS IFD: IFD0's, else the first SubIFD's */
    uint64_t to;
    if (has[0] && !t->walked[K_EXIF] && ifd_ptr(t, &ptr[0], 0, &to))
        walk_ifd(t, to, K_EXIF, depth + 1);
    if (has[1] && !t->walked[K_GPS] && ifd_ptr(t, &ptr[1], 0, &to))
        walk_ifd(t, to, K_GPS, depth + 1);
    if (has[2] && depth < 2) {
        if (ptr[2].count > MAX_SUBIFDS)
            twarn(t, "%llu SubIFDs; the first %d are read", (unsigned long long)ptr[2].count,
                  MAX_SUBIFDS);
        for (size_t i = 0; i < MAX_SUBIFDS && i < ptr[2].count; i++)
            if (ifd_ptr(t, &ptr[2], i, &to))
                walk_ifd(t, to, K_SUB, depth + 1);
    }
    return true;
}

/* Header and IFD0. False (why set) when there is no readable IFD0. */
static bool tiff_open(tiff *t, const tsrc *s, json_t *warnings, char *why, size_t whylen)
{
    memset(t, 0, sizeof(*t));
    t->s = s;
    t->warnings = warnings;
    uint8_t h[16];
    if (!ts_read(s, 0, h, 8)) {
        snprintf(why, whylen, "TIFF header cut short");
        return false;
    }
    if (memcmp(h, "II", 2) == 0)
        t->be = false;
    else if (memcmp(h, "MM", 2) == 0)
        t->be = true;
    else {
        snprintf(why, whylen, "no TIFF byte order mark (II/MM)");
        return false;
    }
    uint16_t magic = (uint16_t)tu(t, h + 2, 2);
    uint64_t ifd0;
    if (magic == 43) { /* BigTIFF: offset size 8, reserved 0, 8-byte offset */
        if (!ts_read(s, 0, h, 16) || tu(t, h + 4, 2) != 8 || tu(t, h + 6, 2) != 0) {
            snprintf(why, whylen, "BigTIFF header invalid");
            return false;
        }
        t->big = true;
        ifd0 = tu(t, h + 8, 8);
    } else if (magic == 42 || magic == 0x4F52 || magic == 0x5352 || magic == 0x55) {
        /* TIFF, Olympus ORF ("IIRO", "IIRS", "MMOR"), Panasonic RW2 ("IIU\0") */
        ifd0 = tu(t, h + 4, 4);
    } else {
        snprintf(why, whylen, "TIFF magic number %u unknown", magic);
        return false;
    }
    json_t *keep = t->warnings;
    t->warnings = NULL; /* the failure of IFD0 goes to why */
    bool ok = ifd0 != 0;
    if (ok) {
        uint8_t cb[8];
        ok = ts_read(s, ifd0, cb, t->big ? 8 : 2);
    }
    t->warnings = keep;
    if (!ok) {
        if (s->r && s->r->fatal)
            return false;
        if (s->size != UINT64_MAX)
            snprintf(why, whylen, "TIFF IFD0 offset %llu is outside the data (%llu bytes)",
                     (unsigned long long)ifd0, (unsigned long long)s->size);
        else
            snprintf(why, whylen, "TIFF IFD0 offset %llu could not be read",
                     (unsigned long long)ifd0);
        return false;
    }
    walk_ifd(t, ifd0, K_IFD0, 0);
    return !t->nomem;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

/* ASCII value, trimmed; false when absent or empty. */
static bool get_ascii(tiff *t, int kind, uint16_t tag, char *buf, size_t len)
{
    const tent *e = tfind(t, kind, tag);
    buf[0] = '\0';
    if (!e || len < 2)
        return false;
    if (e->type != 2 && e->type != 7 && e->type != 1) {
        twarn(t, "%s tag 0x%04X: type %u where ASCII is expected; not read", kname[kind], tag,
              e->type);
        return false;
    }
    size_t n;
    bool whole;
    if (!tval(t, e, (uint8_t *)buf, len - 1, &n, &whole))
        return false;
    buf[n] = '\0';
    size_t k = strlen(buf);
    while (k > 0 && (buf[k - 1] == ' ' || buf[k - 1] == '\t'))
        k--;
    buf[k] = '\0';
    size_t lead = 0;
    while (buf[lead] == ' ')
        lead++;
    if (lead)
        memmove(buf, buf + lead, k - lead + 1);
    return buf[0] != '\0';
}

/* First value of an integer tag (BYTE, SHORT, LONG): 1 found, 0 absent,
 * -1 unreadable or of another type (warned). */
static int get_uint(tiff *t, int kind, uint16_t tag, uint32_t *v)
{
    const tent *e = tfind(t, kind, tag);
    if (!e)
        return 0;
    int sz = e->type == 1 || e->type == 7 ? 1 : e->type == 3 ? 2 : e->type == 4 ? 4 : 0;
    if (!sz || e->count < 1) {
        twarn(t, "%s tag 0x%04X: type %u / count %llu where an integer is expected; not read",
              kname[kind], tag, e->type, (unsigned long long)e->count);
        return -1;
    }
    uint8_t b[4];
    size_t n;
    bool whole;
    if (!tval(t, e, b, (size_t)sz, &n, &whole) || n < (size_t)sz)
        return -1;
    *v = (uint32_t)tu(t, b, sz);
    return 1;
}

/* Up to max RATIONAL/SRATIONAL values; their count, or 0 (absent), -1
 * (unreadable or of another type). raw gets "n/d n/d ...". */
static int get_rats(tiff *t, int kind, uint16_t tag, int64_t *num, int64_t *den, int max,
                    char *raw, size_t rawlen)
{
    raw[0] = '\0';
    const tent *e = tfind(t, kind, tag);
    if (!e)
        return 0;
    if ((e->type != 5 && e->type != 10) || e->count < 1) {
        twarn(t, "%s tag 0x%04X: type %u / count %llu where rationals are expected; not read",
              kname[kind], tag, e->type, (unsigned long long)e->count);
        return -1;
    }
    uint8_t b[8 * 4];
    size_t n;
    bool whole;
    int want = max > 4 ? 4 : max;
    if (!tval(t, e, b, (size_t)want * 8, &n, &whole))
        return -1;
    int k = (int)(n / 8);
    size_t used = 0;
    for (int i = 0; i < k; i++) {
        uint32_t a = (uint32_t)tu(t, b + 8 * i, 4), d = (uint32_t)tu(t, b + 8 * i + 4, 4);
        num[i] = e->type == 10 ? (int64_t)(int32_t)a : (int64_t)a;
        den[i] = e->type == 10 ? (int64_t)(int32_t)d : (int64_t)d;
        int w = snprintf(raw + used, rawlen - used, "%s%lld/%lld", i ? " " : "",
                         (long long)num[i], (long long)den[i]);
        if (w > 0 && (size_t)w < rawlen - used)
            used += (size_t)w;
    }
    return k;
}

/* ------------------------------------------------------------------------ */
/* Dates                                                                     */
/* ------------------------------------------------------------------------ */

static int two(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool date_ok(int y, int mo, int d, int h, int mi, int se)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(mo == 2 && d == 29 && !leap);
}

/* "YYYY:MM:DD HH:MM:SS" -> "YYYY-MM-DDTHH:MM:SS" (false when malformed or
 * not in the calendar; nothing may follow the seconds). */
static bool exif_datetime(const char *s, char out[20])
{
    if (strlen(s) < 19)
        return false;
    for (int i = 0; i < 19; i++) {
        char c = s[i];
        switch (i) {
        case 4:
        case 7: /* ':' by the standard; '-' written by some software */
            if (c != ':' && c != '-')
                return false;
            break;
        case 10:
            if (c != ' ' && c != 'T')
                return false;
            break;
        case 13:
        case 16:
            if (c != ':')
                return false;
            break;
        default:
            if (c < '0' || c > '9')
                return false;
        }
    }
    if (s[19] != '\0')
        return false;
    if (!date_ok(two(s) * 100 + two(s + 2), two(s + 5), two(s + 8), two(s + 11), two(s + 14),
                 two(s + 17)))
        return false;
    memcpy(out, s, 19);
    out[4] = '-';
    out[7] = '-';
    out[10] = 'T';
    out[19] = '\0';
    return true;
}

/* "+01:00" / "-05:30"; false when malformed. */
static bool exif_offset(const char *s, char out[7])
{
    if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
        return false;
    if (s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' || s[4] < '0' || s[4] > '9' ||
        s[5] < '0' || s[5] > '9')
        return false;
    if (two(s + 1) > 14 || two(s + 4) > 59)
        return false;
    memcpy(out, s, 6);
    out[6] = '\0';
    return true;
}

/* Digits only, 1..9 of them (fraction of a second). */
static bool exif_subsec(const char *s, char out[10])
{
    size_t k = 0;
    for (; s[k]; k++) {
        if (s[k] < '0' || s[k] > '9' || k >= 9)
            return false;
        out[k] = s[k];
    }
    out[k] = '\0';
    return k > 0;
}

static int jwarn(json_t *warnings, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int jwarn(json_t *warnings, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *s = ev_media__jstr(msg, sizeof(msg));
    return s && json_array_append_new(warnings, s) == 0 ? 0 : -1;
}

/* The fields of one date: <key>_local, <key>_zone, and with a known offset
 * <key> (RFC 3339) and <key>_utc_offset; sources[key] = src. */
static int set_date(json_t *cap, json_t *sources, const char *key, const char *local,
                    const char *off, const char *src)
{
    char kbuf[64], full[64];
    snprintf(kbuf, sizeof(kbuf), "%s_local", key);
    if (ev_media__set_str(cap, kbuf, local))
        return -1;
    snprintf(kbuf, sizeof(kbuf), "%s_zone", key);
    if (ev_media__set_str(cap, kbuf, off ? "stated" : "unknown"))
        return -1;
    if (off) {
        snprintf(full, sizeof(full), "%s%s", local, off);
        snprintf(kbuf, sizeof(kbuf), "%s_utc_offset", key);
        if (ev_media__set_str(cap, key, full) || ev_media__set_str(cap, kbuf, off))
            return -1;
    }
    return ev_media__set_str(sources, key, src);
}

static bool has_date(const json_t *cap, const char *key)
{
    char kbuf[64];
    snprintf(kbuf, sizeof(kbuf), "%s_local", key);
    return json_object_get(cap, kbuf) != NULL;
}

static int exif_date(json_t *cap, json_t *sources, tiff *t, int kind, uint16_t dt_tag,
                     uint16_t sub_tag, uint16_t off_tag, const char *key, const char *tagname,
                     json_t *warnings)
{
    char raw[64], dt[20], sub[10] = "", off[7] = "", tmp[64];
    if (!get_ascii(t, kind, dt_tag, raw, sizeof(raw)))
        return 0;
    if (!exif_datetime(raw, dt))
        return jwarn(warnings, "EXIF %s '%.40s' is not a valid date and time: not reported",
                     tagname, raw);
    if (get_ascii(t, K_EXIF, sub_tag, tmp, sizeof(tmp)) && !exif_subsec(tmp, sub) &&
        jwarn(warnings, "EXIF SubSecTime of %s '%.20s' is not digits: not used", tagname, tmp))
        return -1;
    bool have_off = false;
    if (get_ascii(t, K_EXIF, off_tag, tmp, sizeof(tmp))) {
        have_off = exif_offset(tmp, off);
        if (!have_off && jwarn(warnings, "EXIF OffsetTime of %s '%.20s' is not +HH:MM: the "
                                         "zone is unknown", tagname, tmp))
            return -1;
    }
    char local[40];
    snprintf(local, sizeof(local), "%s%s%s", dt, sub[0] ? "." : "", sub);
    return set_date(cap, sources, key, local, have_off ? off : NULL, ksrc[kind]);
}

/* An ISO 8601 / XMP date: YYYY-MM-DDThh:mm:ss[.f][Z|+hh:mm|-hh:mm]. */
static int xmp_date(json_t *cap, json_t *sources, const ev_xmp *x, ev_xmp_prop p,
                    const char *key, json_t *warnings)
{
    const char *s = x->val[p];
    if (!s)
        return 0;
    char src[64];
    snprintf(src, sizeof(src), "xmp:%s", ev_xmp__name(p));
    size_t n = strlen(s), i = 0;
    bool ok = n >= 19;
    for (; ok && i < 19; i++) {
        char c = s[i];
        char want = i == 4 || i == 7 ? '-' : i == 10 ? 'T' : i == 13 || i == 16 ? ':' : 0;
        ok = want ? c == want : (c >= '0' && c <= '9');
    }
    char local[40], off[7] = "";
    if (ok) {
        ok = date_ok(two(s) * 100 + two(s + 2), two(s + 5), two(s + 8), two(s + 11),
                     two(s + 14), two(s + 17));
        memcpy(local, s, 19);
        size_t k = 19;
        if (ok && s[i] == '.') {
            local[k++] = '.';
            i++;
            size_t d = 0;
            while (s[i] >= '0' && s[i] <= '9' && d < 9) {
                local[k++] = s[i++];
                d++;
            }
            ok = d > 0 && !(s[i] >= '0' && s[i] <= '9');
        }
        local[k] = '\0';
        if (ok && s[i] == 'Z' && s[i + 1] == '\0')
            snprintf(off, sizeof(off), "Z");
        else if (ok && s[i] != '\0')
            ok = exif_offset(s + i, off);
    }
    if (!ok)
        return jwarn(warnings, "XMP %s '%.40s' is not a full date and time "
                               "(YYYY-MM-DDThh:mm:ss[.f][zone]): not reported",
                     ev_xmp__name(p), s);
    return set_date(cap, sources, key, local, off[0] ? off : NULL, src);
}

/* ------------------------------------------------------------------------ */
/* GPS                                                                       */
/* ------------------------------------------------------------------------ */

/* Degrees from 1..3 rationals d/m/s: the value and its step (the finest
 * step among the parts: 1/den of degrees, 1/(60 den) of minutes,
 * 1/(3600 den) of seconds). False when a part is x/0 or negative. */
static bool dms(const int64_t *num, const int64_t *den, int n, double *deg, double *step)
{
    static const double scale[] = { 1.0, 60.0, 3600.0 };
    long double v = 0;
    double st = INFINITY;
    for (int i = 0; i < n && i < 3; i++) {
        if (den[i] <= 0 || num[i] < 0)
            return false;
        v += (long double)num[i] / (long double)den[i] / (long double)scale[i];
        double s = 1.0 / ((double)den[i] * scale[i]);
        if (s < st)
            st = s;
    }
    *deg = (double)v;
    *step = st;
    return n > 0;
}

static bool all_zero(const int64_t *num, int n)
{
    for (int i = 0; i < n; i++)
        if (num[i] != 0)
            return false;
    return n > 0;
}

static int add_gps(json_t *cap, json_t *sources, tiff *t, json_t *warnings)
{
    bool any = false;
    for (size_t i = 0; i < t->n; i++)
        any = any || t->e[i].kind == K_GPS;
    if (!any)
        return 0;
    json_t *gps = json_object(), *raw = json_object();
    if (!gps || !raw)
        goto nomem;
    char lat_ref[8] = "", lon_ref[8] = "", lat_raw[200], lon_raw[200], buf[200];
    int64_t lan[3], lad[3], lon_n[3], lon_d[3], an[1], ad[1], tn[3], td[3];
    if (get_ascii(t, K_GPS, GPS_LAT_REF, lat_ref, sizeof(lat_ref)) &&
        ev_media__set_str(raw, "latitude_ref", lat_ref))
        goto nomem;
    if (get_ascii(t, K_GPS, GPS_LON_REF, lon_ref, sizeof(lon_ref)) &&
        ev_media__set_str(raw, "longitude_ref", lon_ref))
        goto nomem;
    int nla = get_rats(t, K_GPS, GPS_LAT, lan, lad, 3, lat_raw, sizeof(lat_raw));
    int nlo = get_rats(t, K_GPS, GPS_LON, lon_n, lon_d, 3, lon_raw, sizeof(lon_raw));
    if ((nla > 0 && ev_media__set_str(raw, "latitude", lat_raw)) ||
        (nlo > 0 && ev_media__set_str(raw, "longitude", lon_raw)))
        goto nomem;
    if (nla > 0 || nlo > 0) {
        double lat, lon, sla, slo;
        if (nla > 0 && nlo > 0 && all_zero(lan, nla) && all_zero(lon_n, nlo)) {
            if (json_object_set_new(gps, "placeholder", json_true()) ||
                jwarn(warnings, "EXIF GPS position is 0,0 (%s / %s): a placeholder, no "
                                "position reported", lat_raw, lon_raw))
                goto nomem;
        } else if (nla < 3 || nlo < 3) {
            if (jwarn(warnings, "EXIF GPSLatitude/GPSLongitude need 3 rationals each (%d, %d "
                                "read): no position reported", nla, nlo))
                goto nomem;
        } else if (!dms(lan, lad, nla, &lat, &sla) || !dms(lon_n, lon_d, nlo, &lon, &slo) ||
                   lat > 90.0 || lon > 180.0) {
            if (jwarn(warnings, "EXIF GPS position not valid (%s / %s): no position reported",
                      lat_raw, lon_raw))
                goto nomem;
        } else if (strcmp(lat_ref, "N") && strcmp(lat_ref, "S")) {
            if (jwarn(warnings, "EXIF GPSLatitudeRef '%s' is not N or S: no position reported",
                      lat_ref))
                goto nomem;
        } else if (strcmp(lon_ref, "E") && strcmp(lon_ref, "W")) {
            if (jwarn(warnings, "EXIF GPSLongitudeRef '%s' is not E or W: no position reported",
                      lon_ref))
                goto nomem;
        } else {
            if (lat_ref[0] == 'S')
                lat = -lat;
            if (lon_ref[0] == 'W')
                lon = -lon;
            if (ev_media__set_real(gps, "latitude", lat) ||
                ev_media__set_real(gps, "longitude", lon) ||
                ev_media__set_real(gps, "precision_deg", sla > slo ? sla : slo))
                goto nomem;
        }
    }
    uint32_t alt_ref = 0;
    int has_ref = get_uint(t, K_GPS, GPS_ALT_REF, &alt_ref);
    if (has_ref > 0 && ev_media__set_int(raw, "altitude_ref", alt_ref))
        goto nomem;
    int na = get_rats(t, K_GPS, GPS_ALT, an, ad, 1, buf, sizeof(buf));
    if (na > 0) {
        if (ev_media__set_str(raw, "altitude", buf))
            goto nomem;
        if (ad[0] <= 0 || an[0] < 0) {
            if (jwarn(warnings, "EXIF GPSAltitude %s is not valid: not reported", buf))
                goto nomem;
        } else if (has_ref <= 0 || alt_ref > 1) {
            if (jwarn(warnings, "EXIF GPSAltitudeRef %s: altitude %s not reported",
                      has_ref <= 0 ? "missing" : "not 0 or 1", buf))
                goto nomem;
        } else {
            double a = (double)an[0] / (double)ad[0];
            if (ev_media__set_real(gps, "altitude", alt_ref == 1 ? -a : a) ||
                ev_media__set_real(gps, "altitude_precision_m", 1.0 / (double)ad[0]))
                goto nomem;
        }
    }
    char date[32] = "";
    bool has_dt = get_ascii(t, K_GPS, GPS_DATE, date, sizeof(date));
    if (has_dt && ev_media__set_str(raw, "datestamp", date))
        goto nomem;
    int nt = get_rats(t, K_GPS, GPS_TIME, tn, td, 3, buf, sizeof(buf));
    if (nt > 0 && ev_media__set_str(raw, "timestamp", buf))
        goto nomem;
    if (has_dt && nt > 0) {
        char dt[64], norm[20];
        snprintf(dt, sizeof(dt), "%.10s 00:00:00", date);
        bool ok = strlen(date) == 10 && exif_datetime(dt, norm) && nt == 3;
        for (int i = 0; ok && i < 3; i++)
            ok = td[i] > 0 && tn[i] >= 0;
        /* hours and minutes whole; seconds may have a fraction */
        ok = ok && tn[0] % td[0] == 0 && tn[1] % td[1] == 0 && tn[0] / td[0] < 24 &&
             tn[1] / td[1] < 60 && tn[2] / td[2] < 60;
        if (!ok) {
            if (jwarn(warnings, "EXIF GPSDateStamp/GPSTimeStamp '%s' %s not valid: no GPS "
                                "time reported", date, buf))
                goto nomem;
        } else {
            char tbuf[64], frac[24] = "";
            int64_t whole = tn[2] / td[2], rem = tn[2] % td[2];
            for (int d = 0; rem && d < 9; d++) { /* exact decimal digits, up to 9 */
                rem *= 10;
                size_t l = strlen(frac);
                if (l == 0)
                    frac[l++] = '.';
                frac[l] = (char)('0' + rem / td[2]);
                frac[l + 1] = '\0';
                rem %= td[2];
            }
            snprintf(tbuf, sizeof(tbuf), "%.10sT%02d:%02d:%02d%sZ", norm, (int)(tn[0] / td[0]),
                     (int)(tn[1] / td[1]), (int)whole, frac);
            if (ev_media__set_str(gps, "datetime", tbuf) ||
                ev_media__set_str(gps, "datetime_zone", "utc-by-format"))
                goto nomem;
        }
    }
    if (get_ascii(t, K_GPS, GPS_DATUM, buf, sizeof(buf)) &&
        ev_media__set_str(gps, "map_datum", buf))
        goto nomem;
    if (json_object_size(raw) == 0 && json_object_size(gps) == 0) {
        json_decref(gps);
        json_decref(raw);
        return 0;
    }
    if (ev_media__set_str(gps, "format", "exif-rational") ||
        json_object_set_new(gps, "raw", raw)) {
        raw = NULL;
        goto nomem;
    }
    raw = NULL;
    if (json_object_set_new(cap, "gps", gps) || ev_media__set_str(sources, "gps", "exif:GPS"))
        return -1;
    return 0;
nomem:
    json_decref(gps);
    json_decref(raw);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Capture facts                                                             */
/* ------------------------------------------------------------------------ */

const char *ev_exif__orientation_text(int o)
{
    static const char *const t[] = { "Horizontal (normal)", "Mirror horizontal", "Rotate 180",
                                     "Mirror vertical",
                                     "Mirror horizontal and rotate 270 CW", "Rotate 90 CW",
                                     "Mirror horizontal and rotate 90 CW", "Rotate 270 CW" };
    return o >= 1 && o <= 8 ? t[o - 1] : NULL;
}

static int set_orientation(json_t *cap, json_t *sources, uint64_t v, const char *src,
                           json_t *warnings)
{
    if (v > 65535)
        return jwarn(warnings, "%s Orientation %llu is out of range: not reported", src,
                     (unsigned long long)v);
    if (ev_media__set_int(cap, "orientation", (int64_t)v) ||
        ev_media__set_str(sources, "orientation", src))
        return -1;
    const char *text = ev_exif__orientation_text((int)v);
    if (!text)
        return jwarn(warnings, "%s Orientation %llu is outside 1..8: kept as recorded, not "
                               "interpreted", src, (unsigned long long)v);
    return ev_media__set_str(cap, "orientation_text", text);
}

static int exif_str(json_t *cap, json_t *sources, tiff *t, int kind, uint16_t tag,
                    const char *key)
{
    char s[256];
    if (!get_ascii(t, kind, tag, s, sizeof(s)))
        return 0;
    return ev_media__set_str(cap, key, s) || ev_media__set_str(sources, key, ksrc[kind]) ? -1 : 0;
}

static int from_exif(json_t *cap, json_t *sources, tiff *t, json_t *warnings)
{
    if (exif_date(cap, sources, t, K_EXIF, TAG_DTO, TAG_SUB_O, TAG_OFF_O, "datetime_original",
                  "DateTimeOriginal", warnings) ||
        exif_date(cap, sources, t, K_EXIF, TAG_DTD, TAG_SUB_D, TAG_OFF_D,
                  "datetime_digitized", "DateTimeDigitized", warnings) ||
        exif_date(cap, sources, t, K_IFD0, TAG_DATETIME, TAG_SUB, TAG_OFF, "datetime_modified",
                  "DateTime", warnings))
        return -1;
    if (exif_str(cap, sources, t, K_IFD0, TAG_MAKE, "make") ||
        exif_str(cap, sources, t, K_IFD0, TAG_MODEL, "model") ||
        exif_str(cap, sources, t, K_EXIF, TAG_SERIAL, "serial") ||
        exif_str(cap, sources, t, K_EXIF, TAG_LENS, "lens_model") ||
        exif_str(cap, sources, t, K_EXIF, TAG_OWNER, "owner") ||
        exif_str(cap, sources, t, K_IFD0, TAG_SOFTWARE, "software"))
        return -1;
    uint32_t v;
    if (get_uint(t, K_IFD0, TAG_ORIENTATION, &v) > 0 &&
        set_orientation(cap, sources, v, "exif:IFD0", warnings))
        return -1;
    return add_gps(cap, sources, t, warnings);
}

/* An XMP GPSCoordinate "DDD,MM,SSk" or "DDD,MM.mmk" (k: N/S or E/W as
 * axis says): degrees, and the step of the last part. */
static bool xmp_coord(const char *s, char axis, double *deg, double *step)
{
    double part[3] = { 0, 0, 0 }, st = 1.0;
    int np = 0;
    const char *p = s;
    while (np < 3) {
        if (*p < '0' || *p > '9')
            return false;
        uint64_t m = 0, scale = 1;
        int nd = 0;
        while (*p >= '0' && *p <= '9') {
            if (++nd > 18)
                return false;
            m = m * 10 + (uint64_t)(*p++ - '0');
        }
        double unit = np == 0 ? 1.0 : np == 1 ? 60.0 : 3600.0;
        st = 1.0 / unit;
        if (*p == '.' && np > 0) {
            p++;
            int fd = 0;
            while (*p >= '0' && *p <= '9') {
                if (++nd > 18)
                    return false;
                m = m * 10 + (uint64_t)(*p++ - '0');
                scale *= 10;
                fd++;
            }
            if (fd == 0)
                return false;
            st = 1.0 / (double)scale / unit;
            part[np++] = (double)m / (double)scale; /* one rounding */
            break; /* a fraction ends the value */
        }
        double v = (double)m;
        part[np++] = v;
        if (*p != ',')
            break;
        p++;
    }
    if (np < 2 || part[1] >= 60 || part[2] >= 60)
        return false;
    char k = *p++;
    bool neg;
    if (axis == 'N' && (k == 'N' || k == 'S'))
        neg = k == 'S';
    else if (axis == 'E' && (k == 'E' || k == 'W'))
        neg = k == 'W';
    else
        return false;
    if (*p != '\0')
        return false;
    double d = part[0] + part[1] / 60.0 + part[2] / 3600.0;
    if (d > (axis == 'N' ? 90.0 : 180.0))
        return false;
    *deg = neg ? -d : d;
    *step = st;
    return true;
}

static int xmp_gps(json_t *cap, json_t *sources, const ev_xmp *x, json_t *warnings)
{
    const char *la = x->val[EV_XMP_EXIF_GPSLATITUDE], *lo = x->val[EV_XMP_EXIF_GPSLONGITUDE];
    if ((!la && !lo) || json_object_get(cap, "gps"))
        return 0;
    json_t *gps = json_object(), *raw = json_object();
    char text[2 * 1024 + 2];
    snprintf(text, sizeof(text), "%s %s", la ? la : "", lo ? lo : "");
    double lat, lon, sla, slo;
    int rc = -1;
    if (!gps || !raw || ev_media__set_str(gps, "format", "xmp") ||
        ev_media__set_str(raw, "xmp", text) || json_object_set(gps, "raw", raw))
        goto done;
    if (!la || !lo || !xmp_coord(la, 'N', &lat, &sla) || !xmp_coord(lo, 'E', &lon, &slo)) {
        if (jwarn(warnings, "XMP exif:GPSLatitude/GPSLongitude '%.60s' not valid: no position "
                            "reported", text))
            goto done;
    } else if (lat == 0 && lon == 0) {
        if (json_object_set_new(gps, "placeholder", json_true()) ||
            jwarn(warnings, "XMP GPS position is 0,0 (%.60s): a placeholder, no position "
                            "reported", text))
            goto done;
    } else if (ev_media__set_real(gps, "latitude", lat) ||
               ev_media__set_real(gps, "longitude", lon) ||
               ev_media__set_real(gps, "precision_deg", sla > slo ? sla : slo)) {
        goto done;
    }
    if (json_object_set(cap, "gps", gps) ||
        ev_media__set_str(sources, "gps", "xmp:exif:GPSLatitude"))
        goto done;
    rc = 0;
done:
    json_decref(gps);
    json_decref(raw);
    return rc;
}

/* XMP fills what EXIF left unsaid, property by property. */
static int from_xmp(json_t *cap, json_t *sources, const ev_xmp *x, json_t *warnings)
{
    static const struct {
        const char *key;
        ev_xmp_prop p[2];
    } dates[] = {
        { "datetime_original", { EV_XMP_EXIF_DATETIMEORIGINAL, EV_XMP_PHOTOSHOP_DATECREATED } },
        { "datetime_digitized", { EV_XMP_EXIF_DATETIMEDIGITIZED, EV_XMP_XMP_CREATEDATE } },
        { "datetime_modified", { EV_XMP_XMP_MODIFYDATE, EV_XMP_TIFF_DATETIME } },
    };
    for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++)
        for (int k = 0; k < 2 && !has_date(cap, dates[i].key); k++)
            if (xmp_date(cap, sources, x, dates[i].p[k], dates[i].key, warnings))
                return -1;
    char src[64];
    static const struct {
        const char *key;
        ev_xmp_prop p;
    } strs[] = { { "make", EV_XMP_TIFF_MAKE }, { "model", EV_XMP_TIFF_MODEL } };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        const char *v = x->val[strs[i].p];
        if (!v || json_object_get(cap, strs[i].key))
            continue;
        snprintf(src, sizeof(src), "xmp:%s", ev_xmp__name(strs[i].p));
        if (ev_media__set_str(cap, strs[i].key, v) ||
            ev_media__set_str(sources, strs[i].key, src))
            return -1;
    }
    const char *o = x->val[EV_XMP_TIFF_ORIENTATION];
    if (o && !json_object_get(cap, "orientation")) {
        snprintf(src, sizeof(src), "xmp:%s", ev_xmp__name(EV_XMP_TIFF_ORIENTATION));
        size_t n = strlen(o);
        bool digits = n > 0 && n <= 9 && strspn(o, "0123456789") == n;
        if (!digits)
            return jwarn(warnings, "%s '%.20s' is not an integer: not reported", src, o);
        if (set_orientation(cap, sources, strtoull(o, NULL, 10), src, warnings))
            return -1;
    }
    return xmp_gps(cap, sources, x, warnings);
}

/* The capture object from a TIFF structure (t may be NULL) and an XMP
 * packet (may be NULL). *out is NULL when nothing was found. */
static int build(json_t **out, tiff *t, const uint8_t *xmp, size_t xlen, const char *xwhere,
                 const char *xwhy, json_t *warnings)
{
    *out = NULL;
    int rc = EV_ENOMEM;
    json_t *cap = json_object(), *sources = json_object();
    uint8_t *tagxmp = NULL;
    ev_xmp x = { { 0 } };
    if (!cap || !sources)
        goto done;
    if (t) {
        if (from_exif(cap, sources, t, warnings) || t->nomem)
            goto done;
        /* the XMP of a TIFF is its tag 700 */
        const tent *e = xmp ? NULL : tfind(t, K_IFD0, TAG_XMP);
        if (e) {
            size_t n;
            bool whole;
            if (e->type != 1 && e->type != 7 && e->type != 2) {
                twarn(t, "IFD0 XMP tag type %u not read", e->type);
            } else if (e->count > EV_XMP_MAX_PACKET) {
                twarn(t, "XMP (tiff-tag-700) of %llu bytes is over the %u-byte limit: not read",
                      (unsigned long long)e->count, EV_XMP_MAX_PACKET);
            } else {
                tagxmp = malloc(e->count ? (size_t)e->count : 1);
                if (!tagxmp)
                    goto done;
                if (tval(t, e, tagxmp, (size_t)e->count, &n, &whole)) {
                    xmp = tagxmp;
                    xlen = n;
                    xwhere = "tiff-tag-700";
                }
            }
            if (t->nomem)
                goto done;
        }
    }
    if (xwhy && xwhy[0] && jwarn(warnings, "%s", xwhy))
        goto done;
    size_t before = json_object_size(sources);
    if (xmp) {
        char why[200] = "";
        if (ev_xmp__parse(&x, xmp, xlen, why, sizeof(why)) != EV_OK)
            goto done;
        if (why[0] && jwarn(warnings, "XMP (%s): %s", xwhere ? xwhere : "?", why))
            goto done;
        if (from_xmp(cap, sources, &x, warnings))
            goto done;
    }
    bool from_x = json_object_size(sources) > before;
    if (json_object_size(sources) == 0 && json_array_size(warnings) == 0) {
        rc = EV_OK;
        goto done;
    }
    if (t && t->nwarn > MAX_WARNINGS &&
        jwarn(warnings, "%d more warnings not shown", t->nwarn - MAX_WARNINGS))
        goto done;
    /* exif when EXIF gave a fact, or was read and XMP gave none */
    bool is_exif = before > 0 || (t && !from_x) || !xmp;
    if (ev_media__set_str(cap, "source", is_exif ? "exif" : "xmp"))
        goto done;
    if (json_object_size(sources) && json_object_set(cap, "sources", sources))
        goto done;
    if (json_array_size(warnings) && json_object_set(cap, "warnings", warnings))
        goto done;
    *out = cap;
    cap = NULL;
    rc = EV_OK;
done:
    ev_xmp__free(&x);
    free(tagxmp);
    json_decref(cap);
    json_decref(sources);
    return rc;
}

int ev_exif__capture(json_t **out, const uint8_t *data, size_t len)
{
    *out = NULL;
    if (!data || len < 8)
        return EV_OK;
    if (len >= sizeof(ev_exif__hdr) && memcmp(data, ev_exif__hdr, sizeof(ev_exif__hdr)) == 0) {
        data += sizeof(ev_exif__hdr);
        len -= sizeof(ev_exif__hdr);
    }
    json_t *warnings = json_array();
    if (!warnings)
        return EV_ENOMEM;
    tsrc s = { data, NULL, len };
    tiff *t = malloc(sizeof(*t));
    int rc = EV_ENOMEM;
    if (!t)
        goto done;
    char why[200] = "";
    if (!tiff_open(t, &s, warnings, why, sizeof(why))) {
        if (t->nomem)
            goto done;
        if (jwarn(warnings, "EXIF block: %s", why))
            goto done;
        rc = build(out, NULL, NULL, 0, NULL, NULL, warnings);
    } else {
        rc = build(out, t, NULL, 0, NULL, NULL, warnings);
    }
done:
    free(t);
    json_decref(warnings);
    return rc;
}

int ev_exif__still(json_t **capture, uint8_t **exif_blk, size_t *exif_len, const ev_io *io,
                   ev_exif_container c, char *why, size_t whylen)
{
    *capture = NULL;
    *exif_blk = NULL;
    *exif_len = 0;
    why[0] = '\0';
    if (!io->seek) {
        snprintf(why, whylen, "EXIF not read: the source cannot seek");
        return EV_OK;
    }
    ev_exif__rd r = { io, UINT64_MAX, 0 };
    ev_exif__blocks b = { 0 };
    json_t *warnings = json_array();
    tiff *t = malloc(sizeof(*t));
    int rc = EV_ENOMEM;
    if (!warnings || !t)
        goto done;
    tsrc s = { NULL, &r, UINT64_MAX };
    bool have_tiff = false;
    if (c == EV_EXIF_TIFF) {
        uint64_t size = ev_media__io_size(io);
        s.size = size ? size : UINT64_MAX;
        have_tiff = tiff_open(t, &s, warnings, why, whylen);
        if (r.fatal) {
            rc = r.fatal;
            goto done;
        }
        if (t->nomem)
            goto done;
    } else {
        rc = ev_exif__extract_blocks(&b, &r, c, why, whylen);
        if (rc == EV_ENOMEM || rc == EV_EIO || rc == EV_ECANCELED)
            goto done;
        if (b.exif) {
            why[0] = '\0';
            s.mem = b.exif + sizeof(ev_exif__hdr);
            s.size = b.exif_len - sizeof(ev_exif__hdr);
            if (s.size >= sizeof(ev_exif__hdr) &&
                memcmp(s.mem, ev_exif__hdr, sizeof(ev_exif__hdr)) == 0) {
                s.mem += sizeof(ev_exif__hdr); /* a PNG eXIf or HEIF item with the JPEG header */
                s.size -= sizeof(ev_exif__hdr);
            }
            char twhy[200] = "";
            have_tiff = tiff_open(t, &s, warnings, twhy, sizeof(twhy));
            if (t->nomem)
                goto done;
            if (!have_tiff && jwarn(warnings, "EXIF block: %s", twhy))
                goto done;
        }
    }
    rc = build(capture, have_tiff ? t : NULL, b.xmp, b.xmp_len, b.xmp_where, b.xmp_why,
               warnings);
    if (rc == EV_OK && r.fatal) {
        json_decref(*capture);
        *capture = NULL;
        rc = r.fatal;
    }
    if (rc != EV_OK)
        goto done;
    if (*capture && (b.exif || have_tiff) &&
        ev_media__set_str(*capture, "exif_location", ev_exif__where_of(c))) {
        json_decref(*capture);
        *capture = NULL;
        rc = EV_ENOMEM;
        goto done;
    }
    *exif_blk = b.exif;
    *exif_len = b.exif_len;
    b.exif = NULL;
done:
    ev_exif__blocks_free(&b);
    free(t);
    json_decref(warnings);
    return rc;
}
