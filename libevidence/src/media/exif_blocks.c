/*
 * exif_blocks: where the EXIF block and the XMP packet of a still image
 * are -- JPEG APP1 segments, PNG eXIf/iTXt chunks, HEIF items (meta/iinf +
 * meta/iloc) -- read through positioned reads over an ev_io. What they say
 * is read by exif.c. Every size and offset in the file is a claim: reads
 * are bounded (EV_EXIF_MAX_BLOCK, segment/chunk/box/item counts) and all
 * arithmetic on them is checked.
 */
#include "media/exif_int.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/internal.h"
#include "media/xmp.h"

const uint8_t ev_exif__hdr[6] = { 'E', 'x', 'i', 'f', 0, 0 };
static const char xmp_sig[] = "http://ns.adobe.com/xap/1.0/"; /* + NUL, JPEG APP1 */
static const char xmp_png_key[] = "XML:com.adobe.xmp";           /* PNG iTXt keyword */

#define MAX_JPEG_SEGMENTS 1024
#define MAX_PNG_CHUNKS 100000
#define MAX_BOXES 256
#define MAX_META_BOX (4u * 1024 * 1024)
#define MAX_ITEMS 65536

/* ------------------------------------------------------------------------ */
/* Positioned reads over an ev_io                                           */
/* ------------------------------------------------------------------------ */

/* Read up to n bytes at off. Returns bytes read (short at end of file), or
 * -1 when the position cannot be reached (no seek) or the io failed (then
 * r->fatal is set). */
int64_t ev_exif__rd_at(ev_exif__rd *r, uint64_t off, void *buf, size_t n)
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
    if (__builtin_add_overflow(n, sizeof(ev_exif__hdr), &total))
        return NULL;
    *block = malloc(total);
    if (!*block)
        return NULL;
    memcpy(*block, ev_exif__hdr, sizeof(ev_exif__hdr));
    return *block + sizeof(ev_exif__hdr);
}

ev_exif_container ev_exif__sniff(const uint8_t *h, size_t n)
{
    if (n >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF)
        return EV_EXIF_JPEG;
    if (n >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0)
        return EV_EXIF_PNG;
    /* TIFF, BigTIFF, Olympus ORF, Panasonic RW2 (NEF, CR2, ARW, PEF, SRW and
     * DNG are plain TIFF) */
    static const char *const tiffs[] = { "II*\0", "MM\0*", "II+\0", "MM\0+",
                                         "IIRO",  "IIRS",  "MMOR",  "IIU\0" };
    for (size_t i = 0; n >= 4 && i < sizeof(tiffs) / sizeof(tiffs[0]); i++)
        if (memcmp(h, tiffs[i], 4) == 0)
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
/* What a container holds: the EXIF block and the XMP packet                */
/* ------------------------------------------------------------------------ */

void ev_exif__blocks_free(ev_exif__blocks *b)
{
    free(b->exif);
    free(b->xmp);
    b->exif = b->xmp = NULL;
    b->exif_len = b->xmp_len = 0;
}

/* Read n bytes at off into a new buffer (short at end of file). */
static int read_new(uint8_t **out, size_t *out_len, ev_exif__rd *r, uint64_t off, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        return EV_ENOMEM;
    int64_t got = ev_exif__rd_at(r, off, p, n);
    if (got < 0) {
        free(p);
        return r->fatal ? r->fatal : EV_ENOTFOUND;
    }
    *out = p;
    *out_len = (size_t)got;
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* JPEG: APP1 "Exif\0\0" and APP1 XMP before the first SOS                  */
/* ------------------------------------------------------------------------ */

static int extract_jpeg(ev_exif__blocks *b, ev_exif__rd *r, char *why, size_t whylen)
{
    uint64_t off = 2;
    const size_t sig = sizeof(xmp_sig); /* with its NUL */
    for (int seg = 0; seg < MAX_JPEG_SEGMENTS; seg++) {
        uint8_t m[4];
        int64_t got = ev_exif__rd_at(r, off, m, 2);
        if (got < 0)
            return r->fatal ? r->fatal : EV_ENOTFOUND;
        if (got < 2)
            break;
        if (m[0] != 0xFF) {
            snprintf(why, whylen, "JPEG marker expected at byte %llu", (unsigned long long)off);
            return b->exif ? EV_OK : EV_ENOTFOUND;
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
        if (ev_exif__rd_at(r, off + 2, m + 2, 2) != 2)
            return r->fatal ? r->fatal : b->exif ? EV_OK : EV_ENOTFOUND;
        uint16_t seglen = be16(m + 2);
        if (seglen < 2) {
            snprintf(why, whylen, "JPEG segment length %u at byte %llu", seglen,
                     (unsigned long long)off);
            return b->exif ? EV_OK : EV_ENOTFOUND;
        }
        size_t payload = (size_t)seglen - 2;
        if (m[1] == 0xE1 && payload >= sizeof(ev_exif__hdr)) {
            uint8_t head[sizeof(xmp_sig)];
            size_t hn = payload < sig ? payload : sig;
            if (ev_exif__rd_at(r, off + 4, head, hn) != (int64_t)hn)
                return r->fatal ? r->fatal : b->exif ? EV_OK : EV_ENOTFOUND;
            if (!b->exif && memcmp(head, ev_exif__hdr, 6) == 0) {
                int rc = read_new(&b->exif, &b->exif_len, r, off + 4, payload);
                if (rc != EV_OK)
                    return rc; /* a truncated file gives a shorter block */
            } else if (!b->xmp && hn == sig && memcmp(head, xmp_sig, sig) == 0) {
                int rc = read_new(&b->xmp, &b->xmp_len, r, off + 4 + sig, payload - sig);
                if (rc == EV_ENOMEM || rc == EV_EIO || rc == EV_ECANCELED)
                    return rc;
                b->xmp_where = "jpeg-app1-xmp";
            }
        }
        off += 2 + (uint64_t)seglen;
    }
    if (b->exif)
        return EV_OK;
    snprintf(why, whylen, "no EXIF (APP1) segment in the JPEG header");
    return EV_ENOTFOUND;
}

/* ------------------------------------------------------------------------ */
/* PNG: eXIf chunk, iTXt "XML:com.adobe.xmp"                                 */
/* ------------------------------------------------------------------------ */

static void png_xmp(ev_exif__blocks *b, uint8_t *chunk, size_t n)
{
    /* keyword NUL, compression flag, method, language NUL, translated NUL, text */
    size_t k = sizeof(xmp_png_key); /* keyword + NUL */
    if (n < k + 2) {
        free(chunk);
        return;
    }
    if (chunk[k] != 0) {
        snprintf(b->xmp_why, sizeof(b->xmp_why),
                 "XMP (png-itxt): compressed iTXt chunk not read");
        free(chunk);
        return;
    }
    size_t p = k + 2;
    for (int z = 0; z < 2; z++) {
        const uint8_t *e = memchr(chunk + p, 0, n - p);
        if (!e) {
            snprintf(b->xmp_why, sizeof(b->xmp_why), "XMP (png-itxt): malformed iTXt chunk");
            free(chunk);
            return;
        }
        p = (size_t)(e - chunk) + 1;
    }
    memmove(chunk, chunk + p, n - p);
    b->xmp = chunk;
    b->xmp_len = n - p;
    b->xmp_where = "png-itxt";
}

static int extract_png(ev_exif__blocks *b, ev_exif__rd *r, char *why, size_t whylen)
{
    uint64_t off = 8;
    char ewhy[160] = "";
    for (int i = 0; i < MAX_PNG_CHUNKS; i++) {
        uint8_t h[8 + sizeof(xmp_png_key)];
        int64_t got = ev_exif__rd_at(r, off, h, 8);
        if (got < 0)
            return r->fatal ? r->fatal : EV_ENOTFOUND;
        if (got < 8)
            break;
        uint32_t len = be32(h);
        if (len > 0x7FFFFFFFu) {
            snprintf(ewhy, sizeof(ewhy), "PNG chunk length %u at byte %llu is invalid", len,
                     (unsigned long long)off);
            break;
        }
        if (memcmp(h + 4, "eXIf", 4) == 0 && !b->exif && !ewhy[0]) {
            if (len > EV_EXIF_MAX_BLOCK) {
                snprintf(ewhy, sizeof(ewhy),
                         "PNG eXIf chunk of %u bytes is over the %u-byte limit", len,
                         EV_EXIF_MAX_BLOCK);
            } else {
                uint8_t *block = NULL;
                uint8_t *tiff = alloc_block(&block, len);
                if (!tiff)
                    return EV_ENOMEM;
                int64_t n = ev_exif__rd_at(r, off + 8, tiff, len);
                if (n < 0) {
                    free(block);
                    return r->fatal ? r->fatal : EV_ENOTFOUND;
                }
                b->exif = block;
                b->exif_len = sizeof(ev_exif__hdr) + (size_t)n;
            }
        } else if (memcmp(h + 4, "iTXt", 4) == 0 && !b->xmp &&
                   len >= sizeof(xmp_png_key) + 2 &&
                   ev_exif__rd_at(r, off + 8, h + 8, sizeof(xmp_png_key)) ==
                       (int64_t)sizeof(xmp_png_key) &&
                   memcmp(h + 8, xmp_png_key, sizeof(xmp_png_key)) == 0) {
            if (len > EV_XMP_MAX_PACKET + 1024u) {
                snprintf(b->xmp_why, sizeof(b->xmp_why),
                         "XMP (png-itxt): chunk of %u bytes is over the limit", len);
            } else {
                uint8_t *chunk = NULL;
                size_t n = 0;
                int rc = read_new(&chunk, &n, r, off + 8, len);
                if (rc == EV_ENOMEM || rc == EV_EIO || rc == EV_ECANCELED)
                    return rc;
                if (rc == EV_OK)
                    png_xmp(b, chunk, n);
            }
        } else if (r->fatal) {
            return r->fatal;
        }
        if (memcmp(h + 4, "IEND", 4) == 0 || (b->exif && b->xmp))
            break;
        off += 12 + (uint64_t)len;
    }
    if (b->exif)
        return EV_OK;
    snprintf(why, whylen, "%s", ewhy[0] ? ewhy : "no eXIf chunk in the PNG");
    return EV_ENOTFOUND;
}

/* ------------------------------------------------------------------------ */
/* HEIF: items located through meta/iinf + meta/iloc                         */
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

/* The item of type 'Exif' (xmp false) or 'mime' application/rdf+xml (xmp
 * true): its extent. */
static int heif_find_item(const uint8_t *meta, size_t len, bool xmp, uint64_t *ext_off,
                          uint64_t *ext_len, int *method, char *why, size_t whylen)
{
    static const char rdf[] = "application/rdf+xml";
    const char *what = xmp ? "XMP" : "Exif";
    cur c = { meta, len, 4, false }; /* skip FullBox version/flags */
    uint32_t item_id = 0;
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
            for (uint64_t k = 0; k < count && k < MAX_ITEMS && !ic.bad && !have_id; k++) {
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
                        if (!e.bad && e.len - e.pos >= 4) {
                            const uint8_t *t = e.p + e.pos;
                            if (!xmp && memcmp(t, "Exif", 4) == 0) {
                                item_id = id;
                                have_id = true;
                            } else if (xmp && memcmp(t, "mime", 4) == 0) {
                                /* item_name NUL, content_type NUL */
                                size_t p = e.pos + 4;
                                const uint8_t *z = memchr(e.p + p, 0, e.len - p);
                                if (z) {
                                    p = (size_t)(z - e.p) + 1;
                                    if (e.len - p >= sizeof(rdf) &&
                                        memcmp(e.p + p, rdf, sizeof(rdf)) == 0) {
                                        item_id = id;
                                        have_id = true;
                                    }
                                }
                            }
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
        snprintf(why, whylen, "no %s item in the HEIF meta box", what);
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
            if (id == item_id && !l.bad) {
                if (next != 1) {
                    snprintf(why, whylen, "HEIF %s item split into %llu extents (unsupported)",
                             what, (unsigned long long)next);
                    return EV_ENOTFOUND;
                }
                if (__builtin_add_overflow(base, eo, ext_off)) {
                    snprintf(why, whylen, "HEIF %s item offset overflows", what);
                    return EV_ENOTFOUND;
                }
                *ext_len = el;
                *method = cm;
                return EV_OK;
            }
        }
    }
    snprintf(why, whylen, "HEIF %s item %u has no location", what, item_id);
    return EV_ENOTFOUND;
}

/* The payload of an item as found by heif_find_item: out, out_len. */
static int heif_item(uint8_t **out, size_t *out_len, ev_exif__rd *r, const uint8_t *meta,
                     size_t mlen, uint64_t eo, uint64_t el, int method, uint64_t max,
                     const char *what, char *why, size_t whylen)
{
    if (el < 8 || el > max) {
        snprintf(why, whylen, "HEIF %s item of %llu bytes refused", what, (unsigned long long)el);
        return EV_ENOTFOUND;
    }
    if (method == 1) {
        /* construction method 1: offset into the meta box's idat */
        cur c = { meta, mlen, 4, false };
        char type[5];
        size_t body, bend;
        for (int k = 0; k < MAX_BOXES && cur_box(&c, mlen, type, &body, &bend); k++) {
            if (strcmp(type, "idat") == 0) {
                uint64_t end;
                if (__builtin_add_overflow(eo, el, &end) || end > bend - body) {
                    snprintf(why, whylen, "HEIF %s item outside its idat box", what);
                    return EV_ENOTFOUND;
                }
                uint8_t *p = malloc((size_t)el);
                if (!p)
                    return EV_ENOMEM;
                memcpy(p, meta + body + eo, (size_t)el);
                *out = p;
                *out_len = (size_t)el;
                return EV_OK;
            }
            c.pos = bend;
        }
        snprintf(why, whylen, "HEIF %s item in idat, but no idat box", what);
        return EV_ENOTFOUND;
    }
    if (method != 0) {
        snprintf(why, whylen, "HEIF %s item construction method %d unsupported", what, method);
        return EV_ENOTFOUND;
    }
    int rc = read_new(out, out_len, r, eo, (size_t)el);
    if (rc == EV_OK && *out_len < 8) {
        free(*out);
        *out = NULL;
        rc = EV_ENOTFOUND;
    }
    if (rc == EV_ENOTFOUND)
        snprintf(why, whylen, "HEIF %s item at byte %llu is outside the file", what,
                 (unsigned long long)eo);
    return rc;
}

static int extract_heif(ev_exif__blocks *b, ev_exif__rd *r, char *why, size_t whylen)
{
    uint64_t off = 0;
    for (int i = 0; i < MAX_BOXES; i++) {
        uint8_t h[16];
        int64_t got = ev_exif__rd_at(r, off, h, 16);
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
            uint8_t *meta = NULL;
            size_t mlen = 0;
            int rc = read_new(&meta, &mlen, r, off + hdr, (size_t)blen);
            if (rc != EV_OK)
                return rc;
            /* XMP first (a problem with it goes to the capture warnings) */
            uint64_t eo = 0, el = 0;
            int method = 0;
            char xwhy[160] = "";
            if (heif_find_item(meta, mlen, true, &eo, &el, &method, xwhy, sizeof(xwhy)) ==
                EV_OK) {
                rc = heif_item(&b->xmp, &b->xmp_len, r, meta, mlen, eo, el, method,
                               EV_XMP_MAX_PACKET, "XMP", xwhy, sizeof(xwhy));
                if (rc == EV_ENOMEM || rc == EV_EIO || rc == EV_ECANCELED) {
                    free(meta);
                    return rc;
                }
                if (rc == EV_OK)
                    b->xmp_where = "heif-xmp-item";
                else
                    snprintf(b->xmp_why, sizeof(b->xmp_why), "XMP: %.150s", xwhy);
            }
            rc = heif_find_item(meta, mlen, false, &eo, &el, &method, why, whylen);
            uint8_t *item = NULL;
            size_t n = 0;
            if (rc == EV_OK)
                rc = heif_item(&item, &n, r, meta, mlen, eo, el, method, EV_EXIF_MAX_BLOCK,
                               "Exif", why, whylen);
            free(meta);
            if (rc != EV_OK)
                return rc;
            /* 4-byte offset to the TIFF header, usually pointing past "Exif\0\0" */
            uint32_t skip = be32(item);
            if ((uint64_t)skip + 4 >= (uint64_t)n) {
                free(item);
                snprintf(why, whylen, "HEIF Exif item header offset %u is invalid", skip);
                return EV_ENOTFOUND;
            }
            size_t tl = n - 4 - skip;
            uint8_t *block = NULL;
            uint8_t *tiff = alloc_block(&block, tl);
            if (!tiff) {
                free(item);
                return EV_ENOMEM;
            }
            memcpy(tiff, item + 4 + skip, tl);
            free(item);
            b->exif = block;
            b->exif_len = sizeof(ev_exif__hdr) + tl;
            return EV_OK;
        }
        if (__builtin_add_overflow(off, size, &off))
            break;
    }
    snprintf(why, whylen, "no meta box in the HEIF file");
    return EV_ENOTFOUND;
}

int ev_exif__extract_blocks(ev_exif__blocks *b, ev_exif__rd *r, ev_exif_container c, char *why,
                            size_t whylen)
{
    switch (c) {
    case EV_EXIF_JPEG:
        return extract_jpeg(b, r, why, whylen);
    case EV_EXIF_PNG:
        return extract_png(b, r, why, whylen);
    case EV_EXIF_HEIF:
        return extract_heif(b, r, why, whylen);
    case EV_EXIF_TIFF:
        snprintf(why, whylen, "a TIFF file is read in place, not as a block");
        return EV_ENOTFOUND;
    default:
        snprintf(why, whylen, "not a still image format with EXIF");
        return EV_ENOTFOUND;
    }
}

const char *ev_exif__where_of(ev_exif_container c)
{
    switch (c) {
    case EV_EXIF_JPEG:
        return "jpeg-app1";
    case EV_EXIF_PNG:
        return "png-exif";
    case EV_EXIF_TIFF:
        return "tiff";
    case EV_EXIF_HEIF:
        return "heif-exif-item";
    default:
        return NULL;
    }
}

int ev_exif__extract(uint8_t **out, size_t *out_len, const char **where,
                     const ev_io *io, ev_exif_container c, char *why, size_t whylen)
{
    *out = NULL;
    *out_len = 0;
    *where = NULL;
    ev_exif__rd r = { io, UINT64_MAX, 0 };
    if (!io->seek) {
        snprintf(why, whylen, "EXIF not read: the source cannot seek");
        return EV_ENOTFOUND;
    }
    ev_exif__blocks b = { 0 };
    int rc = ev_exif__extract_blocks(&b, &r, c, why, whylen);
    if (rc == EV_OK && !b.exif) {
        rc = EV_ENOTFOUND;
        snprintf(why, whylen, "no EXIF found");
    }
    if (rc == EV_OK) {
        *out = b.exif;
        *out_len = b.exif_len;
        *where = ev_exif__where_of(c);
        b.exif = NULL;
    }
    ev_exif__blocks_free(&b);
    return rc;
}
