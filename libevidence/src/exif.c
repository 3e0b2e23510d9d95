/*
 * exif: locate the EXIF block of a still image and read capture facts from
 * it with libexif. Every size and offset in the file is treated as a claim:
 * reads are bounded (EV_EXIF_MAX_BLOCK, segment/chunk/box counts) and all
 * arithmetic on them is checked.
 */
#include "exif.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libexif/exif-data.h>
#include <libexif/exif-log.h>
#include <libexif/exif-utils.h>

#include "internal.h"
#include "media_int.h"

static const uint8_t exif_hdr[6] = { 'E', 'x', 'i', 'f', 0, 0 };

#define MAX_JPEG_SEGMENTS 1024
#define MAX_PNG_CHUNKS 100000
#define MAX_BOXES 256
#define MAX_META_BOX (4u * 1024 * 1024)
#define MAX_ITEMS 65536
#define MAX_WARNINGS 16

/* ------------------------------------------------------------------------ */
/* Positioned reads over an ev_io                                           */
/* ------------------------------------------------------------------------ */

typedef struct rd {
    const ev_io *io;
    uint64_t pos;    /* where the io is now */
    int fatal;       /* EV_EIO / EV_ECANCELED once the io failed */
} rd;

/* Read up to n bytes at off. Returns bytes read (short at end of file), or
 * -1 when the position cannot be reached (no seek) or the io failed (then
 * r->fatal is set). */
static int64_t rd_at(rd *r, uint64_t off, void *buf, size_t n)
{
    if (off != r->pos) {
        if (r->io->seek) {
            if (off > INT64_MAX)
                return -1;
            int64_t p = r->io->seek(r->io->opaque, (int64_t)off, 0);
            if (p < 0 || (uint64_t)p != off)
                return -1;
            r->pos = off;
        } else if (off > r->pos) {
            uint8_t skip[4096];
            while (r->pos < off) {
                size_t want = off - r->pos < sizeof(skip) ? (size_t)(off - r->pos) : sizeof(skip);
                int64_t got = r->io->read(r->io->opaque, skip, want);
                if (got < 0) {
                    r->fatal = got == EV_ECANCELED ? EV_ECANCELED : EV_EIO;
                    return -1;
                }
                if (got == 0)
                    return 0;
                r->pos += (uint64_t)got;
            }
        } else {
            return -1;
        }
    }
    size_t done = 0;
    while (done < n) {
        int64_t got = r->io->read(r->io->opaque, (uint8_t *)buf + done, n - done);
        if (got < 0) {
            r->fatal = got == EV_ECANCELED ? EV_ECANCELED : EV_EIO;
            return -1;
        }
        if (got == 0)
            break;
        if ((uint64_t)got > n - done) {
            r->fatal = EV_EIO; /* a broken io claiming more than asked */
            return -1;
        }
        done += (size_t)got;
        r->pos += (uint64_t)got;
    }
    return (int64_t)done;
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/* Allocate "Exif\0\0" + n bytes; returns the pointer to the TIFF part. */
static uint8_t *alloc_block(uint8_t **block, size_t n)
{
    size_t total;
    if (__builtin_add_overflow(n, sizeof(exif_hdr), &total))
        return NULL;
    *block = malloc(total);
    if (!*block)
        return NULL;
    memcpy(*block, exif_hdr, sizeof(exif_hdr));
    return *block + sizeof(exif_hdr);
}

ev_exif_container ev_exif__sniff(const uint8_t *h, size_t n)
{
    if (n >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF)
        return EV_EXIF_JPEG;
    if (n >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0)
        return EV_EXIF_PNG;
    if (n >= 4 && (memcmp(h, "II*\0", 4) == 0 || memcmp(h, "MM\0*", 4) == 0))
        return EV_EXIF_TIFF;
    if (n >= 12 && memcmp(h + 4, "ftyp", 4) == 0) {
        static const char *const brands[] = { "heic", "heix", "heim", "heis", "hevc",
                                              "hevx", "mif1", "msf1", "avif", "avis" };
        /* major brand, then compatible brands within the ftyp box */
        uint32_t size = be32(h);
        size_t end = size < n ? size : n;
        for (size_t off = 8; off + 4 <= end; off += 4) {
            if (off == 12)
                continue; /* minor version */
            for (size_t b = 0; b < sizeof(brands) / sizeof(brands[0]); b++)
                if (memcmp(h + off, brands[b], 4) == 0)
                    return EV_EXIF_HEIF;
        }
    }
    return EV_EXIF_NONE;
}

/* ------------------------------------------------------------------------ */
/* JPEG: APP1 "Exif\0\0" before the first SOS                               */
/* ------------------------------------------------------------------------ */

static int extract_jpeg(uint8_t **out, size_t *out_len, rd *r, char *why, size_t whylen)
{
    uint64_t off = 2;
    for (int seg = 0; seg < MAX_JPEG_SEGMENTS; seg++) {
        uint8_t m[4];
        int64_t got = rd_at(r, off, m, 2);
        if (got < 0)
            return r->fatal ? r->fatal : EV_ENOTFOUND;
        if (got < 2)
            break;
        if (m[0] != 0xFF) {
            snprintf(why, whylen, "JPEG marker expected at byte %llu", (unsigned long long)off);
            return EV_ENOTFOUND;
        }
        if (m[1] == 0xFF) { /* fill byte */
            off += 1;
            continue;
        }
        if (m[1] == 0xD9 || m[1] == 0xDA)
            break; /* EOI / start of scan: no EXIF after this point */
        if ((m[1] >= 0xD0 && m[1] <= 0xD7) || m[1] == 0x01) {
            off += 2;
            continue;
        }
        if (rd_at(r, off + 2, m + 2, 2) != 2)
            return r->fatal ? r->fatal : EV_ENOTFOUND;
        uint16_t seglen = be16(m + 2);
        if (seglen < 2) {
            snprintf(why, whylen, "JPEG segment length %u at byte %llu", seglen,
                     (unsigned long long)off);
            return EV_ENOTFOUND;
        }
        size_t payload = (size_t)seglen - 2;
        if (m[1] == 0xE1 && payload >= sizeof(exif_hdr)) {
            uint8_t head[6];
            if (rd_at(r, off + 4, head, 6) != 6)
                return r->fatal ? r->fatal : EV_ENOTFOUND;
            if (memcmp(head, exif_hdr, 6) == 0) {
                uint8_t *block = malloc(payload);
                if (!block)
                    return EV_ENOMEM;
                int64_t n = rd_at(r, off + 4, block, payload);
                if (n < 0) {
                    free(block);
                    return r->fatal ? r->fatal : EV_ENOTFOUND;
                }
                *out = block;
                *out_len = (size_t)n; /* a truncated file gives a shorter block */
                return EV_OK;
            }
        }
        off += 2 + (uint64_t)seglen;
    }
    snprintf(why, whylen, "no EXIF (APP1) segment in the JPEG header");
    return EV_ENOTFOUND;
}

/* ------------------------------------------------------------------------ */
/* PNG: eXIf chunk                                                           */
/* ------------------------------------------------------------------------ */

static int extract_png(uint8_t **out, size_t *out_len, rd *r, char *why, size_t whylen)
{
    uint64_t off = 8;
    for (int i = 0; i < MAX_PNG_CHUNKS; i++) {
        uint8_t h[8];
        int64_t got = rd_at(r, off, h, 8);
        if (got < 0)
            return r->fatal ? r->fatal : EV_ENOTFOUND;
        if (got < 8)
            break;
        uint32_t len = be32(h);
        if (len > 0x7FFFFFFFu) {
            snprintf(why, whylen, "PNG chunk length %u at byte %llu is invalid", len,
                     (unsigned long long)off);
            return EV_ENOTFOUND;
        }
        if (memcmp(h + 4, "eXIf", 4) == 0) {
            if (len > EV_EXIF_MAX_BLOCK) {
                snprintf(why, whylen, "PNG eXIf chunk of %u bytes is over the %u-byte limit",
                         len, EV_EXIF_MAX_BLOCK);
                return EV_ENOTFOUND;
            }
            uint8_t *block = NULL;
            uint8_t *tiff = alloc_block(&block, len);
            if (!tiff)
                return EV_ENOMEM;
            int64_t n = rd_at(r, off + 8, tiff, len);
            if (n < 0) {
                free(block);
                return r->fatal ? r->fatal : EV_ENOTFOUND;
            }
            *out = block;
            *out_len = sizeof(exif_hdr) + (size_t)n;
            return EV_OK;
        }
        if (memcmp(h + 4, "IEND", 4) == 0)
            break;
        off += 12 + (uint64_t)len;
    }
    snprintf(why, whylen, "no eXIf chunk in the PNG");
    return EV_ENOTFOUND;
}

/* ------------------------------------------------------------------------ */
/* TIFF: the file itself is the EXIF structure                               */
/* ------------------------------------------------------------------------ */

static int extract_tiff(uint8_t **out, size_t *out_len, rd *r, char *why, size_t whylen)
{
    size_t want = EV_EXIF_MAX_BLOCK;
    if (r->io->size && r->io->size < want)
        want = (size_t)r->io->size;
    uint8_t *block = NULL;
    uint8_t *tiff = alloc_block(&block, want);
    if (!tiff)
        return EV_ENOMEM;
    int64_t n = rd_at(r, 0, tiff, want);
    if (n < 8) {
        free(block);
        if (n < 0 && r->fatal)
            return r->fatal;
        snprintf(why, whylen, "TIFF too short");
        return EV_ENOTFOUND;
    }
    *out = block;
    *out_len = sizeof(exif_hdr) + (size_t)n;
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* HEIF: the item of type 'Exif' located through meta/iinf + meta/iloc      */
/* ------------------------------------------------------------------------ */

typedef struct cur {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool bad;
} cur;

static uint64_t cur_u(cur *c, unsigned int bytes)
{
    if (bytes > 8 || c->len - c->pos < bytes || c->pos > c->len) {
        c->bad = true;
        c->pos = c->len;
        return 0;
    }
    uint64_t v = 0;
    for (unsigned int i = 0; i < bytes; i++)
        v = (v << 8) | c->p[c->pos + i];
    c->pos += bytes;
    return v;
}

/* Next child box in [c->pos, end): sets type, payload start and end. */
static bool cur_box(cur *c, size_t end, char type[5], size_t *body, size_t *box_end)
{
    if (end > c->len || c->pos >= end || end - c->pos < 8)
        return false;
    size_t start = c->pos;
    uint64_t size = cur_u(c, 4);
    memcpy(type, c->p + c->pos, 4);
    type[4] = '\0';
    c->pos += 4;
    if (size == 1) {
        if (end - c->pos < 8)
            return false;
        size = cur_u(c, 8);
    } else if (size == 0) {
        size = end - start;
    }
    if (size < c->pos - start || size > end - start)
        return false;
    *body = c->pos;
    *box_end = start + (size_t)size;
    return true;
}

static int heif_find_exif(const uint8_t *meta, size_t len, uint64_t *ext_off,
                          uint64_t *ext_len, int *method, char *why, size_t whylen)
{
    cur c = { meta, len, 4, false }; /* skip FullBox version/flags */
    uint32_t exif_id = 0;
    bool have_id = false;
    size_t iloc_body = 0, iloc_end = 0;
    char type[5];
    size_t body, bend;
    for (int i = 0; i < MAX_BOXES && cur_box(&c, len, type, &body, &bend); i++) {
        if (strcmp(type, "iinf") == 0) {
            cur ic = { meta, bend, body, false };
            unsigned int ver = (unsigned int)cur_u(&ic, 1);
            cur_u(&ic, 3);
            uint64_t count = cur_u(&ic, ver == 0 ? 2 : 4);
            for (uint64_t k = 0; k < count && k < MAX_ITEMS && !ic.bad; k++) {
                char it[5];
                size_t ib, ie;
                if (!cur_box(&ic, bend, it, &ib, &ie))
                    break;
                if (strcmp(it, "infe") == 0) {
                    cur e = { meta, ie, ib, false };
                    unsigned int ev = (unsigned int)cur_u(&e, 1);
                    cur_u(&e, 3);
                    if (ev >= 2) {
                        uint32_t id = (uint32_t)cur_u(&e, ev == 2 ? 2 : 4);
                        cur_u(&e, 2); /* protection index */
                        if (!e.bad && e.len - e.pos >= 4 && memcmp(e.p + e.pos, "Exif", 4) == 0 &&
                            !have_id) {
                            exif_id = id;
                            have_id = true;
                        }
                    }
                }
                ic.pos = ie;
            }
        } else if (strcmp(type, "iloc") == 0) {
            iloc_body = body;
            iloc_end = bend;
        }
        c.pos = bend;
    }
    if (!have_id) {
        snprintf(why, whylen, "no Exif item in the HEIF meta box");
        return EV_ENOTFOUND;
    }
    if (!iloc_end) {
        snprintf(why, whylen, "HEIF meta box has no iloc box");
        return EV_ENOTFOUND;
    }
    cur l = { meta, iloc_end, iloc_body, false };
    unsigned int ver = (unsigned int)cur_u(&l, 1);
    cur_u(&l, 3);
    unsigned int b1 = (unsigned int)cur_u(&l, 1), b2 = (unsigned int)cur_u(&l, 1);
    unsigned int off_size = b1 >> 4, len_size = b1 & 15, base_size = b2 >> 4;
    unsigned int idx_size = (ver == 1 || ver == 2) ? (b2 & 15) : 0;
    uint64_t count = cur_u(&l, ver < 2 ? 2 : 4);
    for (uint64_t k = 0; k < count && k < MAX_ITEMS && !l.bad; k++) {
        uint32_t id = (uint32_t)cur_u(&l, ver < 2 ? 2 : 4);
        int cm = 0;
        if (ver == 1 || ver == 2)
            cm = (int)(cur_u(&l, 2) & 15);
        cur_u(&l, 2); /* data reference index */
        uint64_t base = cur_u(&l, base_size);
        uint64_t next = cur_u(&l, 2);
        for (uint64_t e = 0; e < next && !l.bad; e++) {
            if (idx_size)
                cur_u(&l, idx_size);
            uint64_t eo = cur_u(&l, off_size);
            uint64_t el = cur_u(&l, len_size);
            if (id == exif_id && !l.bad) {
                if (next != 1) {
                    snprintf(why, whylen, "HEIF Exif item split into %llu extents (unsupported)",
                             (unsigned long long)next);
                    return EV_ENOTFOUND;
                }
                if (__builtin_add_overflow(base, eo, ext_off)) {
                    snprintf(why, whylen, "HEIF Exif item offset overflows");
                    return EV_ENOTFOUND;
                }
                *ext_len = el;
                *method = cm;
                return EV_OK;
            }
        }
    }
    snprintf(why, whylen, "HEIF Exif item %u has no location", exif_id);
    return EV_ENOTFOUND;
}

static int extract_heif(uint8_t **out, size_t *out_len, rd *r, char *why, size_t whylen)
{
    uint64_t off = 0;
    for (int i = 0; i < MAX_BOXES; i++) {
        uint8_t h[16];
        int64_t got = rd_at(r, off, h, 16);
        if (got < 0)
            return r->fatal ? r->fatal : EV_ENOTFOUND;
        if (got < 8)
            break;
        uint64_t size = be32(h), hdr = 8;
        if (size == 1) {
            if (got < 16)
                break;
            size = ((uint64_t)be32(h + 8) << 32) | be32(h + 12);
            hdr = 16;
        } else if (size == 0) {
            size = r->io->size > off ? r->io->size - off : 0;
        }
        if (size < hdr)
            break;
        if (memcmp(h + 4, "meta", 4) == 0) {
            uint64_t blen = size - hdr;
            if (blen > MAX_META_BOX || blen < 4) {
                snprintf(why, whylen, "HEIF meta box of %llu bytes refused",
                         (unsigned long long)blen);
                return EV_ENOTFOUND;
            }
            uint8_t *meta = malloc((size_t)blen);
            if (!meta)
                return EV_ENOMEM;
            int64_t n = rd_at(r, off + hdr, meta, (size_t)blen);
            if (n < 0) {
                free(meta);
                return r->fatal ? r->fatal : EV_ENOTFOUND;
            }
            uint64_t eo = 0, el = 0;
            int method = 0;
            int rc = heif_find_exif(meta, (size_t)n, &eo, &el, &method, why, whylen);
            if (rc == EV_OK && method == 1) {
                /* construction method 1: offset into the meta box's idat */
                cur c = { meta, (size_t)n, 4, false };
                char type[5];
                size_t body, bend;
                rc = EV_ENOTFOUND;
                snprintf(why, whylen, "HEIF Exif item in idat, but no idat box");
                for (int k = 0; k < MAX_BOXES && cur_box(&c, (size_t)n, type, &body, &bend); k++) {
                    if (strcmp(type, "idat") == 0) {
                        uint64_t end;
                        if (!__builtin_add_overflow(eo, el, &end) && end <= bend - body &&
                            el >= 8 && el <= EV_EXIF_MAX_BLOCK) {
                            uint8_t *item = meta + body + eo;
                            uint32_t skip = be32(item);
                            if ((uint64_t)skip + 4 < el) {
                                uint8_t *block = NULL;
                                size_t tl = (size_t)(el - 4 - skip);
                                uint8_t *tiff = alloc_block(&block, tl);
                                if (!tiff) {
                                    free(meta);
                                    return EV_ENOMEM;
                                }
                                memcpy(tiff, item + 4 + skip, tl);
                                *out = block;
                                *out_len = sizeof(exif_hdr) + tl;
                                rc = EV_OK;
                            }
                        }
                        if (rc != EV_OK)
                            snprintf(why, whylen, "HEIF Exif item outside its idat box");
                        break;
                    }
                    c.pos = bend;
                }
                free(meta);
                return rc;
            }
            free(meta);
            if (rc != EV_OK)
                return rc;
            if (method != 0) {
                snprintf(why, whylen, "HEIF Exif item construction method %d unsupported", method);
                return EV_ENOTFOUND;
            }
            if (el < 8 || el > EV_EXIF_MAX_BLOCK) {
                snprintf(why, whylen, "HEIF Exif item of %llu bytes refused",
                         (unsigned long long)el);
                return EV_ENOTFOUND;
            }
            uint8_t *item = malloc((size_t)el);
            if (!item)
                return EV_ENOMEM;
            n = rd_at(r, eo, item, (size_t)el);
            if (n < 8) {
                free(item);
                if (n < 0 && r->fatal)
                    return r->fatal;
                snprintf(why, whylen, "HEIF Exif item at byte %llu is outside the file",
                         (unsigned long long)eo);
                return EV_ENOTFOUND;
            }
            /* 4-byte offset to the TIFF header, usually pointing past "Exif\0\0" */
            uint32_t skip = be32(item);
            if ((uint64_t)skip + 4 >= (uint64_t)n) {
                free(item);
                snprintf(why, whylen, "HEIF Exif item header offset %u is invalid", skip);
                return EV_ENOTFOUND;
            }
            size_t tl = (size_t)n - 4 - skip;
            uint8_t *block = NULL;
            uint8_t *tiff = alloc_block(&block, tl);
            if (!tiff) {
                free(item);
                return EV_ENOMEM;
            }
            memcpy(tiff, item + 4 + skip, tl);
            free(item);
            *out = block;
            *out_len = sizeof(exif_hdr) + tl;
            return EV_OK;
        }
        if (__builtin_add_overflow(off, size, &off))
            break;
    }
    snprintf(why, whylen, "no meta box in the HEIF file");
    return EV_ENOTFOUND;
}

int ev_exif__extract(uint8_t **out, size_t *out_len, const char **where,
                     const ev_io *io, ev_exif_container c, char *why, size_t whylen)
{
    *out = NULL;
    *out_len = 0;
    *where = NULL;
    rd r = { io, UINT64_MAX, 0 };
    if (!io->seek) {
        snprintf(why, whylen, "EXIF not read: the source cannot seek");
        return EV_ENOTFOUND;
    }
    int rc;
    switch (c) {
    case EV_EXIF_JPEG:
        rc = extract_jpeg(out, out_len, &r, why, whylen);
        *where = "jpeg-app1";
        break;
    case EV_EXIF_PNG:
        rc = extract_png(out, out_len, &r, why, whylen);
        *where = "png-exif";
        break;
    case EV_EXIF_TIFF:
        rc = extract_tiff(out, out_len, &r, why, whylen);
        *where = "tiff";
        break;
    case EV_EXIF_HEIF:
        rc = extract_heif(out, out_len, &r, why, whylen);
        *where = "heif-exif-item";
        break;
    default:
        snprintf(why, whylen, "not a still image format with EXIF");
        rc = EV_ENOTFOUND;
        break;
    }
    if (rc != EV_OK) {
        free(*out);
        *out = NULL;
        *out_len = 0;
        *where = NULL;
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* libexif -> capture facts                                                  */
/* ------------------------------------------------------------------------ */

typedef struct logctx {
    json_t *warnings;
    int n;
} logctx;

static void exif_log_cb(ExifLog *log, ExifLogCode code, const char *domain,
                        const char *format, va_list args, void *data)
{
    (void)log;
    logctx *lc = data;
    if (code == EXIF_LOG_CODE_DEBUG || !lc->warnings)
        return;
    if (lc->n >= MAX_WARNINGS) {
        lc->n++;
        return;
    }
    char msg[256];
    /* libexif's own format strings (log callback contract) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    vsnprintf(msg, sizeof(msg), format, args);
#pragma GCC diagnostic pop
    char line[320];
    snprintf(line, sizeof(line), "libexif %s: %s", domain ? domain : "", msg);
    json_t *s = ev_media__jstr(line, sizeof(line));
    if (s)
        json_array_append_new(lc->warnings, s);
    lc->n++;
}

/* ASCII value of a tag, trimmed; false when absent or empty. */
static bool get_ascii(ExifData *ed, ExifIfd ifd, ExifTag tag, char *buf, size_t len)
{
    ExifEntry *e = exif_content_get_entry(ed->ifd[ifd], tag);
    if (!e || !e->data || e->size == 0 || len == 0)
        return false;
    if (e->format != EXIF_FORMAT_ASCII && e->format != EXIF_FORMAT_UNDEFINED &&
        e->format != EXIF_FORMAT_BYTE)
        return false;
    size_t n = e->size;
    if (e->components < n)
        n = e->components;
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < len; i++) {
        if (e->data[i] == '\0')
            break;
        buf[k++] = (char)e->data[i];
    }
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

static bool entry_ok(const ExifEntry *e, ExifFormat f1, ExifFormat f2, unsigned long count)
{
    if (!e || !e->data || (e->format != f1 && e->format != f2) || e->components < count)
        return false;
    unsigned long need;
    if (__builtin_mul_overflow(count, (unsigned long)exif_format_get_size(e->format), &need))
        return false;
    return e->size >= need;
}

static bool get_short(ExifData *ed, ExifIfd ifd, ExifTag tag, int *out)
{
    ExifEntry *e = exif_content_get_entry(ed->ifd[ifd], tag);
    if (entry_ok(e, EXIF_FORMAT_SHORT, EXIF_FORMAT_SHORT, 1)) {
        *out = exif_get_short(e->data, exif_data_get_byte_order(ed));
        return true;
    }
    if (entry_ok(e, EXIF_FORMAT_LONG, EXIF_FORMAT_LONG, 1)) {
        ExifLong v = exif_get_long(e->data, exif_data_get_byte_order(ed));
        if (v > INT_MAX)
            return false;
        *out = (int)v;
        return true;
    }
    if (entry_ok(e, EXIF_FORMAT_BYTE, EXIF_FORMAT_UNDEFINED, 1)) {
        *out = e->data[0];
        return true;
    }
    return false;
}

/* Rationals of an entry: values[] as doubles (NAN for x/0) and the raw text
 * "n/d n/d ...". Returns the number read (<= max). */
static int get_rationals(ExifData *ed, const ExifEntry *e, double *vals, int max, char *raw,
                         size_t rawlen)
{
    raw[0] = '\0';
    if (!e || !e->data)
        return 0;
    bool sig = e->format == EXIF_FORMAT_SRATIONAL;
    if (!entry_ok(e, EXIF_FORMAT_RATIONAL, EXIF_FORMAT_SRATIONAL, 1))
        return 0;
    int n = (int)(e->components < (unsigned long)max ? e->components : (unsigned long)max);
    if ((unsigned long)n * 8 > e->size)
        n = (int)(e->size / 8);
    ExifByteOrder o = exif_data_get_byte_order(ed);
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        long long num, den;
        if (sig) {
            ExifSRational r = exif_get_srational(e->data + 8 * i, o);
            num = r.numerator;
            den = r.denominator;
        } else {
            ExifRational r = exif_get_rational(e->data + 8 * i, o);
            num = r.numerator;
            den = r.denominator;
        }
        vals[i] = den ? (double)num / (double)den : NAN;
        int w = snprintf(raw + used, rawlen - used, "%s%lld/%lld", i ? " " : "", num, den);
        if (w > 0 && (size_t)w < rawlen - used)
            used += (size_t)w;
    }
    return n;
}

/* "YYYY:MM:DD HH:MM:SS" -> "YYYY-MM-DDTHH:MM:SS" (false when malformed). */
static bool exif_datetime(const char *s, char out[20])
{
    if (strlen(s) < 19)
        return false;
    for (int i = 0; i < 19; i++) {
        char c = s[i];
        switch (i) {
        case 4:
        case 7:
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
    int mo = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    int h = (s[11] - '0') * 10 + (s[12] - '0');
    int mi = (s[14] - '0') * 10 + (s[15] - '0');
    int se = (s[17] - '0') * 10 + (s[18] - '0');
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    memcpy(out, s, 19);
    out[4] = '-';
    out[7] = '-';
    out[10] = 'T';
    out[19] = '\0';
    return true;
}

/* "+01:00" / "-05:30" / "Z"-less EXIF offsets; false when malformed. */
static bool exif_offset(const char *s, char out[7])
{
    if (strlen(s) < 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
        return false;
    if (s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' || s[4] < '0' || s[4] > '9' ||
        s[5] < '0' || s[5] > '9')
        return false;
    int h = (s[1] - '0') * 10 + (s[2] - '0');
    int m = (s[4] - '0') * 10 + (s[5] - '0');
    if (h > 14 || m > 59)
        return false;
    memcpy(out, s, 6);
    out[6] = '\0';
    return true;
}

/* Digits only, up to 9 (fraction of a second). */
static bool exif_subsec(const char *s, char out[10])
{
    size_t k = 0;
    for (; s[k] && k < 9; k++) {
        if (s[k] < '0' || s[k] > '9')
            return false;
        out[k] = s[k];
    }
    out[k] = '\0';
    return k > 0;
}

/* Add "<prefix>_local", "<prefix>" (RFC 3339 when offset known) and
 * "<prefix>_utc_offset". */
static int add_datetime(json_t *cap, ExifData *ed, ExifIfd ifd, ExifTag dt_tag,
                        ExifTag sub_tag, ExifTag off_tag, const char *key, json_t *warnings)
{
    char raw[64], dt[20], sub[10] = "", off[7] = "", tmp[64];
    if (!get_ascii(ed, ifd, dt_tag, raw, sizeof(raw)))
        return 0;
    if (!exif_datetime(raw, dt)) {
        char w[128];
        snprintf(w, sizeof(w), "%s: malformed EXIF date '%.40s'", key, raw);
        json_t *s = ev_media__jstr(w, sizeof(w));
        if (!s || json_array_append_new(warnings, s))
            return -1;
        return 0;
    }
    if (sub_tag && get_ascii(ed, EXIF_IFD_EXIF, sub_tag, tmp, sizeof(tmp)))
        exif_subsec(tmp, sub);
    bool have_off = off_tag && get_ascii(ed, EXIF_IFD_EXIF, off_tag, tmp, sizeof(tmp)) &&
                    exif_offset(tmp, off);
    char local[40], kbuf[64];
    snprintf(local, sizeof(local), "%s%s%s", dt, sub[0] ? "." : "", sub);
    snprintf(kbuf, sizeof(kbuf), "%s_local", key);
    if (ev_media__set_str(cap, kbuf, local))
        return -1;
    if (have_off) {
        char full[48];
        snprintf(full, sizeof(full), "%s%s", local, off);
        snprintf(kbuf, sizeof(kbuf), "%s_utc_offset", key);
        if (ev_media__set_str(cap, key, full) || ev_media__set_str(cap, kbuf, off))
            return -1;
    }
    return 0;
}

const char *ev_exif__orientation_text(int o)
{
    static const char *const t[] = { "Horizontal (normal)", "Mirror horizontal", "Rotate 180",
                                     "Mirror vertical",
                                     "Mirror horizontal and rotate 270 CW", "Rotate 90 CW",
                                     "Mirror horizontal and rotate 90 CW", "Rotate 270 CW" };
    return o >= 1 && o <= 8 ? t[o - 1] : NULL;
}

static double dms(const double *v, int n)
{
    double d = v[0];
    if (n > 1)
        d += v[1] / 60.0;
    if (n > 2)
        d += v[2] / 3600.0;
    return d;
}

static int add_gps(json_t *cap, ExifData *ed, json_t *warnings)
{
    ExifContent *g = ed->ifd[EXIF_IFD_GPS];
    if (!g || g->count == 0)
        return 0;
    json_t *gps = json_object(), *raw = json_object();
    if (!gps || !raw)
        goto nomem;
    char lat_ref[8] = "", lon_ref[8] = "", buf[160];
    double v[3];
    double lat = NAN, lon = NAN;
    if (get_ascii(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LATITUDE_REF, lat_ref, sizeof(lat_ref)) &&
        ev_media__set_str(raw, "latitude_ref", lat_ref))
        goto nomem;
    if (get_ascii(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LONGITUDE_REF, lon_ref, sizeof(lon_ref)) &&
        ev_media__set_str(raw, "longitude_ref", lon_ref))
        goto nomem;
    int n = get_rationals(ed, exif_content_get_entry(g, EXIF_TAG_GPS_LATITUDE), v, 3, buf,
                          sizeof(buf));
    if (n > 0) {
        if (ev_media__set_str(raw, "latitude", buf))
            goto nomem;
        lat = dms(v, n);
        if (lat_ref[0] == 'S' || lat_ref[0] == 's')
            lat = -lat;
    }
    n = get_rationals(ed, exif_content_get_entry(g, EXIF_TAG_GPS_LONGITUDE), v, 3, buf,
                      sizeof(buf));
    if (n > 0) {
        if (ev_media__set_str(raw, "longitude", buf))
            goto nomem;
        lon = dms(v, n);
        if (lon_ref[0] == 'W' || lon_ref[0] == 'w')
            lon = -lon;
    }
    if (isfinite(lat) && isfinite(lon) && fabs(lat) <= 90.0 && fabs(lon) <= 180.0) {
        if (ev_media__set_real(gps, "latitude", lat) || ev_media__set_real(gps, "longitude", lon))
            goto nomem;
    } else if (n > 0 || json_object_size(raw) > 0) {
        json_t *s = json_string("GPS latitude/longitude present but not valid; raw values kept");
        if (!s || json_array_append_new(warnings, s))
            goto nomem;
    }
    int alt_ref = 0;
    bool has_ref = get_short(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_ALTITUDE_REF, &alt_ref);
    if (has_ref && ev_media__set_int(raw, "altitude_ref", alt_ref))
        goto nomem;
    n = get_rationals(ed, exif_content_get_entry(g, EXIF_TAG_GPS_ALTITUDE), v, 1, buf,
                      sizeof(buf));
    if (n > 0) {
        if (ev_media__set_str(raw, "altitude", buf))
            goto nomem;
        if (isfinite(v[0]) &&
            ev_media__set_real(gps, "altitude", alt_ref == 1 ? -v[0] : v[0]))
            goto nomem;
    }
    char date[32] = "";
    bool has_date = get_ascii(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_DATE_STAMP, date, sizeof(date));
    if (has_date && ev_media__set_str(raw, "datestamp", date))
        goto nomem;
    n = get_rationals(ed, exif_content_get_entry(g, EXIF_TAG_GPS_TIME_STAMP), v, 3, buf,
                      sizeof(buf));
    if (n > 0 && ev_media__set_str(raw, "timestamp", buf))
        goto nomem;
    if (has_date && n == 3 && isfinite(v[0]) && isfinite(v[1]) && isfinite(v[2]) &&
        v[0] >= 0 && v[0] < 24 && v[1] >= 0 && v[1] < 60 && v[2] >= 0 && v[2] < 61) {
        char dt[64], norm[20];
        snprintf(dt, sizeof(dt), "%.10s 00:00:00", date);
        if (exif_datetime(dt, norm)) {
            int h = (int)v[0], m = (int)v[1];
            double s = v[2];
            char t[64];
            if (s == floor(s))
                snprintf(t, sizeof(t), "%.10sT%02d:%02d:%02dZ", norm, h, m, (int)s);
            else
                snprintf(t, sizeof(t), "%.10sT%02d:%02d:%09.6fZ", norm, h, m, s);
            if (ev_media__set_str(gps, "datetime", t))
                goto nomem;
        }
    }
    if (get_ascii(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_MAP_DATUM, buf, sizeof(buf)) &&
        ev_media__set_str(gps, "map_datum", buf))
        goto nomem;
    if (json_object_size(raw) == 0 && json_object_size(gps) == 0) {
        json_decref(gps);
        json_decref(raw);
        return 0;
    }
    if (json_object_set_new(gps, "raw", raw)) {
        raw = NULL;
        goto nomem;
    }
    raw = NULL;
    if (json_object_set_new(cap, "gps", gps))
        return -1;
    return 0;
nomem:
    json_decref(gps);
    json_decref(raw);
    return -1;
}

int ev_exif__capture(json_t **out, const uint8_t *data, size_t len)
{
    *out = NULL;
    if (!data || len < 8)
        return EV_OK;
    /* libexif wants "Exif\0\0" first; add it for a bare TIFF structure. */
    uint8_t *tmp = NULL;
    const uint8_t *buf = data;
    size_t blen = len;
    if (len > EV_EXIF_MAX_BLOCK + sizeof(exif_hdr))
        blen = EV_EXIF_MAX_BLOCK + sizeof(exif_hdr);
    if (memcmp(data, exif_hdr, sizeof(exif_hdr)) != 0) {
        uint8_t *tiff = alloc_block(&tmp, blen);
        if (!tiff)
            return EV_ENOMEM;
        memcpy(tiff, data, blen);
        buf = tmp;
        blen += sizeof(exif_hdr);
    }
    int rc = EV_ENOMEM;
    json_t *cap = json_object(), *warnings = json_array();
    ExifData *ed = exif_data_new();
    ExifLog *log = exif_log_new();
    logctx lc = { warnings, 0 };
    if (!cap || !warnings || !ed || !log)
        goto done;
    /* Never let libexif "fix" the data: FOLLOW_SPECIFICATION would add
     * mandatory tags with made-up values (even the current time). */
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_unset_option(ed, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
    exif_data_set_option(ed, EXIF_DATA_OPTION_DONT_CHANGE_MAKER_NOTE);
    exif_log_set_func(log, exif_log_cb, &lc);
    exif_data_log(ed, log);
    exif_data_load_data(ed, buf, (unsigned int)blen);

    char s[256];
    int v;
    if (ev_media__set_str(cap, "source", "exif"))
        goto done;
    if (add_datetime(cap, ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL,
                     EXIF_TAG_SUB_SEC_TIME_ORIGINAL, EXIF_TAG_OFFSET_TIME_ORIGINAL,
                     "datetime_original", warnings) ||
        add_datetime(cap, ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_DIGITIZED,
                     EXIF_TAG_SUB_SEC_TIME_DIGITIZED, EXIF_TAG_OFFSET_TIME_DIGITIZED,
                     "datetime_digitized", warnings) ||
        add_datetime(cap, ed, EXIF_IFD_0, EXIF_TAG_DATE_TIME, EXIF_TAG_SUB_SEC_TIME,
                     EXIF_TAG_OFFSET_TIME, "datetime_modified", warnings))
        goto done;
    if (get_ascii(ed, EXIF_IFD_0, EXIF_TAG_MAKE, s, sizeof(s)) &&
        ev_media__set_str(cap, "make", s))
        goto done;
    if (get_ascii(ed, EXIF_IFD_0, EXIF_TAG_MODEL, s, sizeof(s)) &&
        ev_media__set_str(cap, "model", s))
        goto done;
    if (get_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_BODY_SERIAL_NUMBER, s, sizeof(s)) &&
        ev_media__set_str(cap, "serial", s))
        goto done;
    if (get_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_LENS_MODEL, s, sizeof(s)) &&
        ev_media__set_str(cap, "lens_model", s))
        goto done;
    if (get_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_CAMERA_OWNER_NAME, s, sizeof(s)) &&
        ev_media__set_str(cap, "owner", s))
        goto done;
    if (get_ascii(ed, EXIF_IFD_0, EXIF_TAG_SOFTWARE, s, sizeof(s)) &&
        ev_media__set_str(cap, "software", s))
        goto done;
    if (get_short(ed, EXIF_IFD_0, EXIF_TAG_ORIENTATION, &v)) {
        if (ev_media__set_int(cap, "orientation", v))
            goto done;
        const char *t = ev_exif__orientation_text(v);
        if (t && ev_media__set_str(cap, "orientation_text", t))
            goto done;
    }
    if (add_gps(cap, ed, warnings))
        goto done;

    if (lc.n > MAX_WARNINGS) {
        char w[96];
        snprintf(w, sizeof(w), "%d more libexif warnings not shown", lc.n - MAX_WARNINGS);
        json_t *ws = json_string(w);
        if (!ws || json_array_append_new(warnings, ws))
            goto done;
    }
    /* Only "source" means nothing was found. */
    if (json_object_size(cap) <= 1 && json_array_size(warnings) == 0) {
        rc = EV_OK;
        goto done;
    }
    if (json_array_size(warnings) > 0) {
        if (json_object_set(cap, "warnings", warnings))
            goto done;
    }
    *out = cap;
    cap = NULL;
    rc = EV_OK;
done:
    if (ed)
        exif_data_unref(ed);
    if (log)
        exif_log_unref(log);
    json_decref(cap);
    json_decref(warnings);
    free(tmp);
    return rc;
}
