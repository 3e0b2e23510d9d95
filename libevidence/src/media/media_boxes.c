/*
 * media_boxes: the few container structures whose stored values the capture
 * facts need exactly, read from the file itself rather than from
 * libavformat's rendering of them: QuickTime/MP4 moov/mvhd, moov/udta
 * (©xyz, loci, ©day, ©mak, ©mod, ©swr) and the moov/meta mdta keys; RIFF (AVI,
 * WAV) IDIT, INFO and bext chunks; Matroska Segment/Info/DateUTC.
 *
 * Every read goes through the source's ev_io with bounded, overflow-checked
 * offsets; sizes found in the file are claims checked against their parent.
 * The io position is put back where libavformat left it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/boxes.h"
#include "media/media_int.h"

#define BX_MAX_NODES 4096u               /* boxes/chunks/elements visited */
#define BX_MAX_BYTES (8u * 1024 * 1024)  /* bytes read in all */
#define BX_MAX_PAYLOAD (256u * 1024)     /* largest keys/ilst/loci read whole */

typedef struct rd {
    const ev_io *io;
    uint64_t size;
    unsigned int nodes;
    uint64_t bytes;
    bool stop;
} rd;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

#define FCC(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* Read len bytes at off, all inside the file. False (and no more reads) on
 * a short read, an io error or the byte budget. */
static bool rd_at(rd *r, uint64_t off, void *buf, size_t len)
{
    if (r->stop || len > r->size || off > r->size - len || off > (uint64_t)INT64_MAX)
        return false;
    if (len > BX_MAX_BYTES - r->bytes) {
        r->stop = true;
        return false;
    }
    if (r->io->seek(r->io->opaque, (int64_t)off, 0) != (int64_t)off) {
        r->stop = true;
        return false;
    }
    size_t got = 0;
    while (got < len) {
        int64_t n = r->io->read(r->io->opaque, (uint8_t *)buf + got, len - got);
        if (n <= 0 || (uint64_t)n > len - got) {
            r->stop = true;
            return false;
        }
        got += (size_t)n;
    }
    r->bytes += len;
    return true;
}

static bool visit(rd *r)
{
    if (r->nodes >= BX_MAX_NODES) {
        r->stop = true;
        return false;
    }
    r->nodes++;
    return true;
}

/* Copy text (up to a NUL) into a fixed buffer; *have = true. */
static void keep_text(char *dst, size_t cap, bool *have, const uint8_t *p, size_t n)
{
    const uint8_t *z = memchr(p, 0, n);
    if (z)
        n = (size_t)(z - p);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, p, n);
    dst[n] = '\0';
    *have = true;
}

/* ------------------------------------------------------------------------ */
/* MP4/QuickTime box headers (media/boxes.h)                                  */
/* ------------------------------------------------------------------------ */

void ev_media__box_iter_mem(ev_media__box_iter *it, const uint8_t *p, size_t n)
{
    memset(it, 0, sizeof(*it));
    it->buf = p;
    it->end = n;
}

void ev_media__box_iter_io(ev_media__box_iter *it, ev_media__box_read_fn read, void *ctx,
                           uint64_t start, uint64_t end)
{
    memset(it, 0, sizeof(*it));
    it->read = read;
    it->ctx = ctx;
    it->pos = start;
    it->end = end < start ? start : end;
}

void ev_media__box_iter_children(ev_media__box_iter *child, const ev_media__box_iter *parent,
                                 const ev_media__box *b)
{
    *child = *parent;
    child->pos = b->payload;
    child->end = b->end < b->payload ? b->payload : b->end;
}

/* len bytes at off, which the caller has checked lie inside the range. */
static bool box_bytes(const ev_media__box_iter *it, uint64_t off, uint8_t *buf, size_t len)
{
    if (!it->read) {
        memcpy(buf, it->buf + off, len);
        return true;
    }
    return it->read(it->ctx, off, buf, len);
}

ev_media__box_status ev_media__box_next(ev_media__box *out, ev_media__box_iter *it)
{
    uint8_t h[16];
    memset(out, 0, sizeof(*out));
    out->start = it->pos;
    if (it->pos >= it->end)
        return EV_MEDIA__BOX_END;
    uint64_t left = it->end - it->pos;
    if (left < 8 || !box_bytes(it, it->pos, h, 8))
        return EV_MEDIA__BOX_CUT;
    uint64_t size = be32(h);
    out->type = be32(h + 4);
    memcpy(out->fourcc, h + 4, 4);
    out->hlen = 8;
    if (size == 1) {
        if (left < 16 || !box_bytes(it, it->pos + 8, h + 8, 8))
            return EV_MEDIA__BOX_CUT;
        size = be64(h + 8);
        out->hlen = 16;
    } else if (size == 0) {
        size = left;
    }
    out->size = size;
    if (size < out->hlen)
        return EV_MEDIA__BOX_SMALL;
    if (size > left) {
        if (!(it->flags & EV_MEDIA__BOX_CLIP))
            return EV_MEDIA__BOX_BEYOND;
        size = left;
    }
    out->payload = it->pos + out->hlen;
    out->end = it->pos + size;
    it->pos = out->end;
    return EV_MEDIA__BOX_OK;
}

bool ev_media__box_read_stdio(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
    FILE *f = ctx;
    return off <= (uint64_t)INT64_MAX && fseeko(f, (off_t)off, SEEK_SET) == 0 &&
           fread(buf, 1, len, f) == len;
}

/* ------------------------------------------------------------------------ */
/* QuickTime / ISO BMFF                                                      */
/* ------------------------------------------------------------------------ */

typedef struct box {
    uint64_t payload, end;
    uint32_t type;
} box;

static bool rd_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
    return rd_at(ctx, off, buf, len);
}

/* The box header at off, inside [off, limit). A box claiming more than its
 * parent holds is cut at the parent's end, as libavformat does. */
static bool box_at(rd *r, uint64_t off, uint64_t limit, box *b)
{
    if (limit <= off || limit - off < 8 || !visit(r))
        return false;
    ev_media__box_iter it;
    ev_media__box x;
    ev_media__box_iter_io(&it, rd_read, r, off, limit);
    it.flags = EV_MEDIA__BOX_CLIP;
    if (ev_media__box_next(&x, &it) != EV_MEDIA__BOX_OK)
        return false;
    b->type = x.type;
    b->payload = x.payload;
    b->end = x.end;
    return true;
}

/* A whole (small) payload; NULL when it is too big or unreadable. */
static uint8_t *payload(rd *r, const box *b, size_t *len)
{
    uint64_t n = b->end - b->payload;
    if (n == 0 || n > BX_MAX_PAYLOAD)
        return NULL;
    uint8_t *p = malloc((size_t)n);
    if (p && !rd_at(r, b->payload, p, (size_t)n)) {
        free(p);
        return NULL;
    }
    *len = (size_t)n;
    return p;
}

/* A QuickTime user-data text item: either the classic form (16-bit length,
 * 16-bit language, text) or an iTunes-style 'data' box. */
static void udta_text(rd *r, const box *b, char *dst, size_t cap, bool *have)
{
    size_t n = 0;
    uint8_t *p = payload(r, b, &n);
    if (!p)
        return;
    if (n >= 16 && be32(p + 4) == FCC('d', 'a', 't', 'a') && be32(p) >= 16 && be32(p) <= n)
        keep_text(dst, cap, have, p + 16, be32(p) - 16);
    else if (n >= 4 && (size_t)(p[0] << 8 | p[1]) <= n - 4)
        keep_text(dst, cap, have, p + 4, (size_t)(p[0] << 8 | p[1]));
    free(p);
}

/* 3GPP TS 26.244 'loci': FullBox, language, name (UTF-8 or UTF-16 with a
 * BOM, NUL-terminated), role, longitude, latitude, altitude (16.16). */
static void read_loci(rd *r, const box *b, ev_media__boxes *o)
{
    size_t n = 0;
    uint8_t *p = payload(r, b, &n);
    if (!p)
        return;
    size_t i = 6;
    if (n >= 8 && p[6] == 0xFE && p[7] == 0xFF) {
        for (i = 8; i + 1 < n && (p[i] || p[i + 1]); i += 2)
            ;
        i += 2;
    } else {
        while (i < n && p[i])
            i++;
        i++;
    }
    if (i <= n && n - i >= 13) {
        o->loci = true;
        o->loci_role = p[i];
        o->loci_lon = (int32_t)be32(p + i + 1);
        o->loci_lat = (int32_t)be32(p + i + 5);
        o->loci_alt = (int32_t)be32(p + i + 9);
    }
    free(p);
}

static void read_udta(rd *r, const box *u, ev_media__boxes *o)
{
    box b;
    for (uint64_t off = u->payload; !r->stop && box_at(r, off, u->end, &b); off = b.end) {
        switch (b.type) {
        case FCC(0xA9, 'x', 'y', 'z'):
            if (!o->has_xyz)
                udta_text(r, &b, o->xyz, sizeof(o->xyz), &o->has_xyz);
            break;
        case FCC(0xA9, 'd', 'a', 'y'):
            if (!o->has_day)
                udta_text(r, &b, o->day, sizeof(o->day), &o->has_day);
            break;
        case FCC(0xA9, 'm', 'a', 'k'):
            o->has_mak = true;
            break;
        case FCC(0xA9, 'm', 'o', 'd'):
            o->has_mod = true;
            break;
        case FCC(0xA9, 's', 'w', 'r'):
            if (!o->has_swr)
                udta_text(r, &b, o->swr, sizeof(o->swr), &o->has_swr);
            break;
        case FCC('l', 'o', 'c', 'i'):
            if (!o->loci)
                read_loci(r, &b, o);
            break;
        default:
            break;
        }
    }
}

/* The Apple keys we read, by name; their values when UTF-8. */
static const char *const mdta_names[EV_MEDIA_MDTA_N] = {
    "com.apple.quicktime.creationdate", "com.apple.quicktime.location.ISO6709",
    "com.apple.quicktime.make", "com.apple.quicktime.model", "com.apple.quicktime.software",
};

static void read_mdta(rd *r, const box *m, ev_media__boxes *o)
{
    uint8_t h[12];
    /* QuickTime 'meta' has no version/flags, the ISO one has */
    uint64_t first = m->payload;
    if (m->end - m->payload < 8 || !rd_at(r, m->payload, h, 8))
        return;
    if (be32(h + 4) != FCC('h', 'd', 'l', 'r'))
        first += 4;
    box b, keys = { 0, 0, 0 }, ilst = { 0, 0, 0 };
    bool mdta = false;
    for (uint64_t off = first; !r->stop && box_at(r, off, m->end, &b); off = b.end) {
        if (b.type == FCC('h', 'd', 'l', 'r') && b.end - b.payload >= 12 &&
            rd_at(r, b.payload, h, 12))
            mdta = be32(h + 8) == FCC('m', 'd', 't', 'a');
        else if (b.type == FCC('k', 'e', 'y', 's'))
            keys = b;
        else if (b.type == FCC('i', 'l', 's', 't'))
            ilst = b;
    }
    if (!mdta || !keys.end || !ilst.end)
        return;
    size_t n = 0;
    uint8_t *p = payload(r, &keys, &n);
    if (!p)
        return;
    uint32_t index[EV_MEDIA_MDTA_N] = { 0 };
    uint32_t count = n >= 8 ? be32(p + 4) : 0;
    size_t i = 8;
    for (uint32_t k = 1; k <= count && k < 100000 && n - i >= 8; k++) {
        uint32_t ks = be32(p + i);
        if (ks < 8 || ks > n - i)
            break;
        for (int w = 0; w < EV_MEDIA_MDTA_N; w++)
            if (!index[w] && ks - 8 == strlen(mdta_names[w]) &&
                !memcmp(p + i + 8, mdta_names[w], ks - 8))
                index[w] = k;
        i += ks;
    }
    free(p);
    for (uint64_t off = ilst.payload; !r->stop && box_at(r, off, ilst.end, &b); off = b.end) {
        for (int w = 0; w < EV_MEDIA_MDTA_N; w++) {
            if (!index[w] || b.type != index[w] || o->mdta_have[w])
                continue;
            box d;
            /* the first 'data' child: type indicator (0 = well-known set,
             * 1 = UTF-8), locale, value */
            if (!box_at(r, b.payload, b.end, &d) || d.type != FCC('d', 'a', 't', 'a'))
                continue;
            uint8_t *v = payload(r, &d, &n);
            if (v && n >= 8 && be32(v) == 1)
                keep_text(o->mdta[w], sizeof(o->mdta[w]), &o->mdta_have[w], v + 8, n - 8);
            free(v);
        }
    }
}

static void read_moov(rd *r, const box *mv, ev_media__boxes *o)
{
    box b;
    for (uint64_t off = mv->payload; !r->stop && box_at(r, off, mv->end, &b); off = b.end) {
        if (b.type == FCC('m', 'v', 'h', 'd') && !o->mvhd) {
            uint8_t h[32];
            uint64_t n = b.end - b.payload;
            if (n >= 20 && rd_at(r, b.payload, h, 20) && h[0] == 0) {
                o->mvhd = true;
                o->mvhd_version = 0;
                o->mvhd_created = be32(h + 4);
                o->mvhd_timescale = be32(h + 12);
                o->mvhd_duration = be32(h + 16);
            } else if (n >= 32 && rd_at(r, b.payload, h, 32) && h[0] == 1) {
                o->mvhd = true;
                o->mvhd_version = 1;
                o->mvhd_created = be64(h + 4);
                o->mvhd_timescale = be32(h + 20);
                o->mvhd_duration = be64(h + 24);
            }
        } else if (b.type == FCC('u', 'd', 't', 'a')) {
            read_udta(r, &b, o);
        } else if (b.type == FCC('m', 'e', 't', 'a')) {
            read_mdta(r, &b, o);
        }
    }
}

static void read_quicktime(rd *r, ev_media__boxes *o)
{
    box b;
    for (uint64_t off = 0; !r->stop && box_at(r, off, r->size, &b); off = b.end) {
        if (b.type == FCC('m', 'o', 'o', 'v')) {
            o->walked = true;
            read_moov(r, &b, o);
            return;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* RIFF                                                                      */
/* ------------------------------------------------------------------------ */

static void read_riff_list(rd *r, uint64_t off, uint64_t end, int depth, ev_media__boxes *o)
{
    uint8_t h[12];
    while (!r->stop && end - off >= 8 && visit(r) && rd_at(r, off, h, 8)) {
        uint32_t id = be32(h), size = le32(h + 4);
        uint64_t data = off + 8;
        if (size > end - data)
            return;
        if (id == FCC('L', 'I', 'S', 'T') && size >= 4 && depth < 3 &&
            rd_at(r, data, h + 8, 4)) {
            uint32_t lt = be32(h + 8);
            if (lt != FCC('m', 'o', 'v', 'i') && lt != FCC('r', 'e', 'c', ' '))
                read_riff_list(r, data + 4, data + size, depth + 1, o);
        } else if (id == FCC('b', 'e', 'x', 't') && depth == 0 && !o->has_bext && size >= 338) {
            /* EBU Tech 3285: Description[256], Originator[32],
             * OriginatorReference[32], OriginationDate[10], OriginationTime[8] */
            uint8_t t[18];
            if (rd_at(r, data + 320, t, 18)) {
                keep_text(o->bext_date, sizeof(o->bext_date), &o->has_bext, t, 10);
                keep_text(o->bext_time, sizeof(o->bext_time), &o->has_bext, t + 10, 8);
            }
        } else if ((id == FCC('I', 'D', 'I', 'T') && !o->has_idit) ||
                   (id == FCC('I', 'C', 'R', 'D') && !o->has_icrd) ||
                   (id == FCC('I', 'S', 'F', 'T') && !o->has_isft)) {
            uint8_t t[256];
            size_t n = size < sizeof(t) ? size : sizeof(t);
            if (n && rd_at(r, data, t, n)) {
                if (id == FCC('I', 'D', 'I', 'T'))
                    keep_text(o->idit, sizeof(o->idit), &o->has_idit, t, n);
                else if (id == FCC('I', 'C', 'R', 'D'))
                    keep_text(o->icrd, sizeof(o->icrd), &o->has_icrd, t, n);
                else
                    keep_text(o->isft, sizeof(o->isft), &o->has_isft, t, n);
            }
        }
        uint64_t next = data + size + (size & 1u);
        if (next > end)
            return;
        off = next;
    }
}

static void read_riff(rd *r, ev_media__boxes *o)
{
    uint8_t h[12];
    if (!rd_at(r, 0, h, 12) || be32(h) != FCC('R', 'I', 'F', 'F'))
        return;
    uint64_t end = 8 + (uint64_t)le32(h + 4);
    if (end > r->size)
        end = r->size; /* a truncated recording: read what is there */
    o->walked = true;
    read_riff_list(r, 12, end, 0, o);
}

/* ------------------------------------------------------------------------ */
/* Matroska (EBML)                                                           */
/* ------------------------------------------------------------------------ */

#define EBML_UNKNOWN UINT64_MAX

/* An EBML variable-length integer at off: the element ID (marker kept) or
 * a size (marker removed; all ones = unknown). */
static bool ebml_vint(rd *r, uint64_t off, uint64_t end, bool id, uint64_t *v, unsigned *len)
{
    uint8_t b[8];
    if (off >= end || !rd_at(r, off, b, 1) || b[0] == 0)
        return false;
    unsigned n = 1;
    while (!(b[0] & (0x80u >> (n - 1))))
        n++;
    if ((id && n > 4) || end - off < n || (n > 1 && !rd_at(r, off + 1, b + 1, n - 1)))
        return false;
    uint64_t x = id ? b[0] : (b[0] & (0xFFu >> n));
    bool ones = x == (uint64_t)(0xFFu >> n);
    for (unsigned i = 1; i < n; i++) {
        x = x << 8 | b[i];
        ones = ones && b[i] == 0xFF;
    }
    *v = !id && ones ? EBML_UNKNOWN : x;
    *len = n;
    return true;
}

typedef struct elem {
    uint64_t id, data, end; /* end = EBML_UNKNOWN for an unknown size */
} elem;

static bool elem_at(rd *r, uint64_t off, uint64_t end, elem *e)
{
    unsigned a, b;
    uint64_t size;
    if (!visit(r) || !ebml_vint(r, off, end, true, &e->id, &a) ||
        !ebml_vint(r, off + a, end, false, &size, &b))
        return false;
    e->data = off + a + b;
    if (size == EBML_UNKNOWN) {
        e->end = EBML_UNKNOWN;
        return true;
    }
    if (e->data > end || size > end - e->data)
        return false;
    e->end = e->data + size;
    return true;
}

static void read_matroska(rd *r, ev_media__boxes *o)
{
    elem e;
    if (!elem_at(r, 0, r->size, &e) || e.id != 0x1A45DFA3 || e.end == EBML_UNKNOWN ||
        !elem_at(r, e.end, r->size, &e) || e.id != 0x18538067)
        return;
    uint64_t end = e.end == EBML_UNKNOWN ? r->size : e.end;
    o->walked = true;
    for (uint64_t off = e.data; !r->stop && elem_at(r, off, end, &e); off = e.end) {
        if (e.end == EBML_UNKNOWN || e.id == 0x1F43B675) /* a Cluster: Info comes before */
            return;
        if (e.id != 0x1549A966)
            continue;
        elem c;
        for (uint64_t p = e.data; !r->stop && elem_at(r, p, e.end, &c) && c.end != EBML_UNKNOWN;
             p = c.end) {
            uint8_t v[8];
            if (c.id == 0x4461 && c.end - c.data == 8 && rd_at(r, c.data, v, 8)) {
                o->has_dateutc = true;
                o->dateutc_ns = (int64_t)be64(v);
            }
        }
        return;
    }
}

/* ------------------------------------------------------------------------ */

void ev_media__boxes_read(ev_media__boxes *o, const ev_media__src *s, int kind)
{
    memset(o, 0, sizeof(*o));
    o->kind = kind;
    if (!s || !s->io || !s->io->seek || !s->io->read || kind == EV_MEDIA_BOXES_NONE)
        return;
    rd r = { s->io, ev_media__io_size(s->io), 0, 0, false };
    if (r.size >= 8) {
        if (kind == EV_MEDIA_BOXES_QUICKTIME)
            read_quicktime(&r, o);
        else if (kind == EV_MEDIA_BOXES_RIFF)
            read_riff(&r, o);
        else if (kind == EV_MEDIA_BOXES_MATROSKA)
            read_matroska(&r, o);
    }
    /* put the position back where libavformat's io layer expects it */
    s->io->seek(s->io->opaque, s->pos, 0);
}
