/*
 * Unit tests for src/exif.c: capture facts from EXIF blocks built here byte
 * by byte, and hostile blocks and containers (bad offsets, loops, huge
 * counts, truncation, bit flips) that must neither crash nor hang nor make
 * facts up.
 */
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "media/exif.h"
#include "media/xmp.h"
#include "media/media.h"
#include "media/media_int.h"
#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* a tiny little-endian TIFF/EXIF writer                                     */
/* ------------------------------------------------------------------------ */

enum { T_BYTE = 1, T_ASCII = 2, T_SHORT = 3, T_LONG = 4, T_RATIONAL = 5 };

typedef struct ent {
    uint16_t tag, type;
    uint32_t count;
    uint32_t value; /* inline value or offset */
} ent;

typedef struct blk {
    uint8_t b[16384];
    size_t len; /* bytes used after the 6-byte "Exif\0\0" header */
} blk;

static uint8_t *T(blk *k)
{
    return k->b + 6;
}

static void w16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void w32(uint8_t *p, uint32_t v)
{
    w16(p, v & 0xFFFF);
    w16(p + 2, v >> 16);
}

static void blk_init(blk *k)
{
    memset(k, 0, sizeof(*k));
    memcpy(k->b, "Exif\0\0", 6);
    memcpy(T(k), "II*\0", 4);
    w32(T(k) + 4, 8);
    k->len = 8;
}

/* Append bytes; returns their TIFF offset. */
static uint32_t put(blk *k, const void *d, size_t n)
{
    uint32_t off = (uint32_t)k->len;
    memcpy(T(k) + k->len, d, n);
    k->len += n;
    if (k->len & 1)
        T(k)[k->len++] = 0;
    return off;
}

static uint32_t put_rationals(blk *k, const uint32_t *nd, int n)
{
    uint8_t tmp[64];
    for (int i = 0; i < 2 * n; i++)
        w32(tmp + 4 * i, nd[i]);
    return put(k, tmp, (size_t)(8 * n));
}

/* Write an IFD at the current end; returns its offset. */
static uint32_t put_ifd(blk *k, const ent *e, int n, uint32_t next)
{
    uint32_t off = (uint32_t)k->len;
    uint8_t *p = T(k) + off;
    w16(p, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        uint8_t *q = p + 2 + 12 * i;
        w16(q, e[i].tag);
        w16(q + 2, e[i].type);
        w32(q + 4, e[i].count);
        w32(q + 8, e[i].value);
    }
    w32(p + 2 + 12 * n, next);
    k->len += 2 + 12 * (size_t)n + 4;
    return off;
}

static uint32_t inl(const char *s)
{
    uint8_t b[4] = { 0 };
    memcpy(b, s, strnlen(s, 4));
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

/* A complete, valid block: IFD0 -> Exif IFD and GPS IFD. The IFD0 is
 * written last; its offset goes into the header. */
static void make_valid(blk *k)
{
    blk_init(k);
    uint32_t dto = put(k, "2024:05:01 10:20:30", 20);
    uint32_t off = put(k, "+01:00", 7);
    uint32_t model = put(k, "Model X-1", 10);
    uint32_t serial = put(k, "SN-0042", 8);
    ent exif[] = { { 0x9003, T_ASCII, 20, dto },
                   { 0x9011, T_ASCII, 7, off },
                   { 0x9291, T_ASCII, 3, inl("12") },
                   { 0xA431, T_ASCII, 8, serial } };
    uint32_t exif_ifd = put_ifd(k, exif, 4, 0);
    uint32_t lat[] = { 51, 1, 30, 1, 249, 100 }, lon[] = { 0, 1, 7, 1, 2856, 100 };
    uint32_t alt[] = { 125, 10 };
    uint32_t ts[] = { 9, 1, 20, 1, 30, 1 };
    uint32_t la = put_rationals(k, lat, 3), lo = put_rationals(k, lon, 3);
    uint32_t al = put_rationals(k, alt, 1), t = put_rationals(k, ts, 3);
    uint32_t ds = put(k, "2024:05:01", 11);
    ent gps[] = { { 0x0001, T_ASCII, 2, inl("N") },    { 0x0002, T_RATIONAL, 3, la },
                  { 0x0003, T_ASCII, 2, inl("W") },    { 0x0004, T_RATIONAL, 3, lo },
                  { 0x0005, T_BYTE, 1, 0 },            { 0x0006, T_RATIONAL, 1, al },
                  { 0x0007, T_RATIONAL, 3, t },        { 0x001D, T_ASCII, 11, ds } };
    uint32_t gps_ifd = put_ifd(k, gps, 8, 0);
    ent ifd0[] = { { 0x010F, T_ASCII, 4, inl("Cam") },
                   { 0x0110, T_ASCII, 10, model },
                   { 0x0112, T_SHORT, 1, 6 },
                   { 0x8769, T_LONG, 1, exif_ifd },
                   { 0x8825, T_LONG, 1, gps_ifd } };
    uint32_t i0 = put_ifd(k, ifd0, 5, 0);
    w32(T(k) + 4, i0);
}

static json_t *capture_of(const uint8_t *d, size_t n)
{
    json_t *c = NULL;
    assert_int_equal(ev_exif__capture(&c, d, n), EV_OK);
    return c;
}

static const char *s_of(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* ------------------------------------------------------------------------ */

static void exif_valid_block(void **state)
{
    (void)state;
    blk k;
    make_valid(&k);
    json_t *c = capture_of(k.b, k.len + 6);
    assert_non_null(c);
    assert_string_equal(s_of(c, "source"), "exif");
    assert_string_equal(s_of(c, "make"), "Cam");
    assert_string_equal(s_of(c, "model"), "Model X-1");
    assert_string_equal(s_of(c, "serial"), "SN-0042");
    assert_string_equal(s_of(c, "datetime_original_local"), "2024-05-01T10:20:30.12");
    assert_string_equal(s_of(c, "datetime_original"), "2024-05-01T10:20:30.12+01:00");
    assert_string_equal(s_of(c, "datetime_original_utc_offset"), "+01:00");
    assert_int_equal(json_integer_value(json_object_get(c, "orientation")), 6);
    const json_t *g = json_object_get(c, "gps");
    double lat = json_real_value(json_object_get(g, "latitude"));
    double lon = json_real_value(json_object_get(g, "longitude"));
    assert_true(lat > 51.500691 && lat < 51.500693);   /* 51 + 30/60 + 2.49/3600 */
    assert_true(lon < -0.1245995 && lon > -0.1246005); /* -(7/60 + 28.56/3600) */
    assert_true(json_real_value(json_object_get(g, "altitude")) == 12.5);
    assert_string_equal(s_of(g, "datetime"), "2024-05-01T09:20:30Z");
    const json_t *raw = json_object_get(g, "raw");
    assert_string_equal(s_of(raw, "latitude"), "51/1 30/1 249/100");
    assert_string_equal(s_of(raw, "longitude_ref"), "W");
    assert_null(json_object_get(c, "warnings"));
    json_decref(c);
    /* the same block without the "Exif\0\0" header (PNG eXIf, TIFF) */
    c = capture_of(k.b + 6, k.len);
    assert_non_null(c);
    assert_string_equal(s_of(c, "make"), "Cam");
    json_decref(c);
}

/* libexif must not "fix" a block by adding mandatory tags (with made-up
 * values such as the current time). */
static void exif_never_makes_facts_up(void **state)
{
    (void)state;
    blk k;
    blk_init(&k);
    ent ifd0[] = { { 0x010F, T_ASCII, 4, inl("Cam") } };
    uint32_t i0 = put_ifd(&k, ifd0, 1, 0);
    w32(T(&k) + 4, i0);
    json_t *c = capture_of(k.b, k.len + 6);
    assert_non_null(c);
    const char *key;
    json_t *v;
    json_object_foreach(c, key, v)
    {
        if (strcmp(key, "source") && strcmp(key, "make") && strcmp(key, "sources"))
            fail_msg("unexpected key %s", key);
    }
    json_decref(c);
    /* nothing at all: no capture */
    blk_init(&k);
    i0 = put_ifd(&k, NULL, 0, 0);
    w32(T(&k) + 4, i0);
    c = capture_of(k.b, k.len + 6);
    assert_null(c);
}

static void exif_malformed_values(void **state)
{
    (void)state;
    static const char *const dates[] = { "0000:00:00 00:00:00", "    :  :     :  :  ",
                                         "2024:13:01 10:00:00", "2024-05-01", "garbage!!!!!!!!!!!!!" };
    for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
        blk k;
        blk_init(&k);
        uint32_t d = put(&k, dates[i], strlen(dates[i]) + 1);
        uint32_t o = put(&k, "+1:00", 6);
        ent exif[] = { { 0x9003, T_ASCII, (uint32_t)strlen(dates[i]) + 1, d },
                       { 0x9011, T_ASCII, 6, o } };
        uint32_t e = put_ifd(&k, exif, 2, 0);
        uint32_t zero[] = { 51, 0, 30, 0, 0, 0 };
        uint32_t la = put_rationals(&k, zero, 3);
        ent gps[] = { { 0x0001, T_ASCII, 2, inl("N") }, { 0x0002, T_RATIONAL, 3, la } };
        uint32_t g = put_ifd(&k, gps, 2, 0);
        ent ifd0[] = { { 0x8769, T_LONG, 1, e }, { 0x8825, T_LONG, 1, g },
                       { 0x0112, T_SHORT, 1, 9 } };
        uint32_t i0 = put_ifd(&k, ifd0, 3, 0);
        w32(T(&k) + 4, i0);
        json_t *c = capture_of(k.b, k.len + 6);
        assert_non_null(c);
        assert_null(json_object_get(c, "datetime_original"));
        if (i < 4)
            assert_null(json_object_get(c, "datetime_original_local"));
        assert_true(json_array_size(json_object_get(c, "warnings")) >= 1);
        const json_t *gj = json_object_get(c, "gps");
        assert_null(json_object_get(gj, "latitude"));
        assert_string_equal(s_of(json_object_get(gj, "raw"), "latitude"), "51/0 30/0 0/0");
        /* orientation 9 is kept as recorded, without a text */
        assert_int_equal(json_integer_value(json_object_get(c, "orientation")), 9);
        assert_null(json_object_get(c, "orientation_text"));
        json_decref(c);
    }
}

/* Hostile structures: each must return quickly without crashing. */
static void exif_hostile_blocks(void **state)
{
    (void)state;
    blk k;
    json_t *c;
    /* IFD0 offset far outside */
    blk_init(&k);
    w32(T(&k) + 4, 0xFFFFFF00u);
    c = capture_of(k.b, k.len + 6);
    json_decref(c);
    /* value offset outside, and a count of 2^32-1 */
    blk_init(&k);
    ent bad[] = { { 0x010F, T_ASCII, 100, 0x7FFFFFF0u },
                  { 0x0110, T_ASCII, 0xFFFFFFFFu, 16 },
                  { 0x0112, T_SHORT, 0xFFFFFFFFu, 8 },
                  { 0x8825, T_LONG, 1, 0xFFFFFFF0u } };
    uint32_t i0 = put_ifd(&k, bad, 4, 0);
    w32(T(&k) + 4, i0);
    c = capture_of(k.b, k.len + 6);
    assert_null(json_object_get(c, "make"));
    json_decref(c);
    /* IFD loops: IFD0 -> next = itself; Exif IFD pointing at IFD0; GPS at itself */
    blk_init(&k);
    uint32_t here = (uint32_t)k.len;
    ent loop[] = { { 0x010F, T_ASCII, 4, inl("Cam") },
                   { 0x8769, T_LONG, 1, here },
                   { 0x8825, T_LONG, 1, here } };
    put_ifd(&k, loop, 3, here);
    w32(T(&k) + 4, here);
    c = capture_of(k.b, k.len + 6);
    json_decref(c);
    /* a GPS IFD that points back into its parent and a huge entry count */
    blk_init(&k);
    uint32_t gps_at = (uint32_t)k.len;
    ent g[] = { { 0x8825, T_LONG, 1, gps_at }, { 0x0002, T_RATIONAL, 0x20000000u, 8 } };
    put_ifd(&k, g, 2, gps_at);
    w16(T(&k) + gps_at, 0xFFFF); /* claim 65535 entries */
    w32(T(&k) + 4, gps_at);
    c = capture_of(k.b, k.len + 6);
    json_decref(c);
    /* big-endian header with a little-endian body */
    make_valid(&k);
    memcpy(T(&k), "MM\0*", 4);
    c = capture_of(k.b, k.len + 6);
    json_decref(c);
    /* not TIFF at all */
    c = capture_of((const uint8_t *)"Exif\0\0hello world, not tiff", 27);
    json_decref(c);
    c = capture_of((const uint8_t *)"\0", 1);
    assert_null(c);
}

static void exif_truncations_and_flips(void **state)
{
    (void)state;
    blk k;
    make_valid(&k);
    size_t n = k.len + 6;
    double t0 = (double)clock() / CLOCKS_PER_SEC;
    for (size_t cut = 0; cut <= n; cut++) {
        uint8_t *d = malloc(cut ? cut : 1); /* exact size so ASan sees overreads */
        memcpy(d, k.b, cut);
        json_t *c = capture_of(d, cut);
        json_decref(c);
        free(d);
    }
    uint64_t x = 0x243F6A8885A308D3ull;
    for (int it = 0; it < 3000; it++) {
        uint8_t *d = malloc(n);
        memcpy(d, k.b, n);
        int flips = 1 + it % 8;
        for (int f = 0; f < flips; f++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            size_t pos = 6 + (size_t)(x % (n - 6));
            d[pos] = (uint8_t)(it & 1 ? d[pos] ^ (1u << (x >> 60 & 7)) : (x >> 32));
        }
        json_t *c = capture_of(d, n);
        json_decref(c);
        free(d);
    }
    double t1 = (double)clock() / CLOCKS_PER_SEC;
    assert_true(t1 - t0 < 30.0);
}

/* ------------------------------------------------------------------------ */
/* locating the block                                                        */
/* ------------------------------------------------------------------------ */

static int extract_mem(const uint8_t *d, size_t n, uint8_t **out, size_t *len, const char **where)
{
    uint64_t st[4];
    ev_io io;
    ev_media__io_from_mem(&io, d, n, st);
    char why[256] = "";
    ev_exif_container c = ev_exif__sniff(d, n);
    int rc = ev_exif__extract(out, len, where, &io, c, why, sizeof(why));
    if (rc == EV_ENOTFOUND)
        assert_true(strlen(why) > 0);
    return rc;
}

static void exif_jpeg_segments(void **state)
{
    (void)state;
    blk k;
    make_valid(&k);
    uint8_t j[40000];
    size_t n = 0;
    memcpy(j, "\xFF\xD8", 2);
    n = 2;
    /* an APP0, then fill bytes, then the APP1 */
    memcpy(j + n, "\xFF\xE0\x00\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0", 18);
    n += 18;
    memset(j + n, 0xFF, 5);
    n += 5;
    j[n++] = 0xFF;
    j[n++] = 0xE1;
    j[n++] = (uint8_t)((k.len + 6 + 2) >> 8);
    j[n++] = (uint8_t)(k.len + 6 + 2);
    memcpy(j + n, k.b, k.len + 6);
    n += k.len + 6;
    memcpy(j + n, "\xFF\xDA\x00\x02", 4);
    n += 4;
    uint8_t *out = NULL;
    size_t len = 0;
    const char *where = NULL;
    assert_int_equal(extract_mem(j, n, &out, &len, &where), EV_OK);
    assert_string_equal(where, "jpeg-app1");
    assert_int_equal(len, k.len + 6);
    assert_memory_equal(out, k.b, len);
    free(out);
    /* APP1 claiming more than the file holds: a short block, no overread */
    j[20 + 5 + 2] = 0xFF;
    j[20 + 5 + 3] = 0xFF;
    assert_int_equal(extract_mem(j, 40 + k.len, &out, &len, &where), EV_OK);
    assert_true(len <= 40 + k.len);
    json_t *c = capture_of(out, len);
    json_decref(c);
    free(out);
    /* segment length 0 and 1 */
    uint8_t z[] = { 0xFF, 0xD8, 0xFF, 0xE2, 0x00, 0x00, 0xFF, 0xE1, 0x00, 0x01 };
    assert_int_equal(extract_mem(z, sizeof(z), &out, &len, &where), EV_ENOTFOUND);
    z[5] = 2;
    assert_int_equal(extract_mem(z, sizeof(z), &out, &len, &where), EV_ENOTFOUND);
    /* thousands of tiny segments: the walk is bounded */
    size_t big = 2 + 4 * 9000;
    uint8_t *m = malloc(big);
    m[0] = 0xFF;
    m[1] = 0xD8;
    for (size_t i = 0; i < 9000; i++)
        memcpy(m + 2 + 4 * i, "\xFF\xE2\x00\x02", 4);
    assert_int_equal(extract_mem(m, big, &out, &len, &where), EV_ENOTFOUND);
    free(m);
    /* only fill bytes */
    uint8_t f[4096];
    memset(f, 0xFF, sizeof(f));
    f[1] = 0xD8;
    assert_int_equal(extract_mem(f, sizeof(f), &out, &len, &where), EV_ENOTFOUND);
}

static uint32_t crc_dummy(void)
{
    return 0; /* CRCs are not checked when looking for eXIf */
}

static size_t png_chunk(uint8_t *p, const char *type, const uint8_t *d, uint32_t n, uint32_t claim)
{
    p[0] = (uint8_t)(claim >> 24);
    p[1] = (uint8_t)(claim >> 16);
    p[2] = (uint8_t)(claim >> 8);
    p[3] = (uint8_t)claim;
    memcpy(p + 4, type, 4);
    if (n)
        memcpy(p + 8, d, n);
    uint32_t crc = crc_dummy();
    memcpy(p + 8 + n, &crc, 4);
    return 12 + n;
}

static void exif_png_chunks(void **state)
{
    (void)state;
    blk k;
    make_valid(&k);
    uint8_t p[20000];
    size_t n = 8;
    memcpy(p, "\x89PNG\r\n\x1a\n", 8);
    uint8_t ihdr[13] = { 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0 };
    n += png_chunk(p + n, "IHDR", ihdr, 13, 13);
    n += png_chunk(p + n, "IDAT", (const uint8_t *)"xx", 2, 2);
    size_t exif_at = n;
    n += png_chunk(p + n, "eXIf", k.b + 6, (uint32_t)k.len, (uint32_t)k.len);
    n += png_chunk(p + n, "IEND", NULL, 0, 0);
    uint8_t *out = NULL;
    size_t len = 0;
    const char *where = NULL;
    assert_int_equal(extract_mem(p, n, &out, &len, &where), EV_OK);
    assert_string_equal(where, "png-exif");
    assert_memory_equal(out, k.b, k.len + 6);
    json_t *c = capture_of(out, len);
    assert_string_equal(s_of(c, "make"), "Cam");
    json_decref(c);
    free(out);
    /* an eXIf over the size limit is refused */
    png_chunk(p + exif_at, "eXIf", NULL, 0, 0x7FFFFFF0u);
    assert_int_equal(extract_mem(p, n, &out, &len, &where), EV_ENOTFOUND);
    /* a chunk length with the top bit set is invalid */
    png_chunk(p + 8, "IHDR", NULL, 0, 0x80000000u);
    assert_int_equal(extract_mem(p, n, &out, &len, &where), EV_ENOTFOUND);
    /* an eXIf claiming more than the file: short read */
    n = 8;
    n += png_chunk(p + n, "eXIf", k.b + 6, 40, 5000);
    assert_int_equal(extract_mem(p, n, &out, &len, &where), EV_OK);
    assert_true(len <= n);
    free(out);
}

/* ISOBMFF helpers */
static size_t bx(uint8_t *p, const char *type, const uint8_t *d, size_t n)
{
    uint32_t s = (uint32_t)(8 + n);
    p[0] = (uint8_t)(s >> 24);
    p[1] = (uint8_t)(s >> 16);
    p[2] = (uint8_t)(s >> 8);
    p[3] = (uint8_t)s;
    memcpy(p + 4, type, 4);
    memmove(p + 8, d, n);
    return 8 + n;
}

static size_t be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 4;
}

static size_t be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return 2;
}

/* A HEIF file: ftyp, meta{iinf{infe 'Exif' id 7}, iloc{id 7 -> offset/len}},
 * then the item (4-byte offset + "Exif\0\0" + TIFF) in mdat. */
static size_t make_heif(uint8_t *f, const blk *k, uint32_t claim_off, uint32_t claim_len,
                        uint32_t extents, uint32_t iinf_count)
{
    uint8_t tmp[2048], meta[4096], infe[64], iinf[256], iloc[256];
    size_t n = 0, t;
    n += bx(f, "ftyp", (const uint8_t *)"heic\0\0\0\0mif1heic", 16);
    /* infe v2: version/flags, item_ID(2), protection(2), type(4), name "" */
    t = 0;
    t += be32(tmp + t, 0x02000000);
    t += be16(tmp + t, 7);
    t += be16(tmp + t, 0);
    memcpy(tmp + t, "Exif\0", 5);
    t += 5;
    size_t infe_len = bx(infe, "infe", tmp, t);
    t = 0;
    t += be32(tmp + t, 0);
    t += be16(tmp + t, iinf_count);
    memcpy(tmp + t, infe, infe_len);
    t += infe_len;
    size_t iinf_len = bx(iinf, "iinf", tmp, t);
    /* iloc v0: offset_size 4, length_size 4, base_offset_size 0 */
    t = 0;
    t += be32(tmp + t, 0);
    tmp[t++] = 0x44;
    tmp[t++] = 0x00;
    t += be16(tmp + t, 1);
    t += be16(tmp + t, 7);
    t += be16(tmp + t, 0);
    t += be16(tmp + t, extents);
    size_t ext_at = t;
    t += be32(tmp + t, 0);
    t += be32(tmp + t, 0);
    size_t iloc_len = bx(iloc, "iloc", tmp, t);
    size_t mt = 0;
    mt += be32(meta + mt, 0);
    memcpy(meta + mt, iinf, iinf_len);
    mt += iinf_len;
    memcpy(meta + mt, iloc, iloc_len);
    mt += iloc_len;
    size_t meta_at = n;
    n += bx(f + n, "meta", meta, mt);
    /* item payload inside mdat */
    uint8_t item[12000];
    size_t il = 0;
    il += be32(item, 6);
    memcpy(item + il, k->b, k->len + 6);
    il += k->len + 6;
    size_t mdat_at = n;
    n += bx(f + n, "mdat", item, il);
    uint32_t off = claim_off ? claim_off : (uint32_t)(mdat_at + 8);
    uint32_t len = claim_len ? claim_len : (uint32_t)il;
    /* patch the extent in place: meta box + 8 + 4 (fullbox) + iinf + 8 + ext_at */
    uint8_t *e = f + meta_at + 8 + 4 + iinf_len + 8 + ext_at;
    be32(e, off);
    be32(e + 4, len);
    return n;
}

static void exif_heif_items(void **state)
{
    (void)state;
    blk k;
    make_valid(&k);
    uint8_t f[20000];
    uint8_t *out = NULL;
    size_t len = 0;
    const char *where = NULL;
    size_t n = make_heif(f, &k, 0, 0, 1, 1);
    assert_int_equal(ev_exif__sniff(f, n), EV_EXIF_HEIF);
    assert_int_equal(extract_mem(f, n, &out, &len, &where), EV_OK);
    assert_string_equal(where, "heif-exif-item");
    json_t *c = capture_of(out, len);
    assert_string_equal(s_of(c, "model"), "Model X-1");
    json_decref(c);
    free(out);
    /* the item outside the file, a huge length, two extents, a huge count */
    n = make_heif(f, &k, 0x7FFFFFF0u, 0, 1, 1);
    assert_int_equal(extract_mem(f, n, &out, &len, &where), EV_ENOTFOUND);
    n = make_heif(f, &k, 0, 0xFFFFFFF0u, 1, 1);
    assert_int_equal(extract_mem(f, n, &out, &len, &where), EV_ENOTFOUND);
    n = make_heif(f, &k, 0, 0, 2, 1);
    assert_int_equal(extract_mem(f, n, &out, &len, &where), EV_ENOTFOUND);
    n = make_heif(f, &k, 0, 0, 1, 0xFFFF);
    int rc = extract_mem(f, n, &out, &len, &where);
    assert_true(rc == EV_OK || rc == EV_ENOTFOUND);
    if (rc == EV_OK)
        free(out);
    /* every truncation of the file */
    n = make_heif(f, &k, 0, 0, 1, 1);
    for (size_t cut = 0; cut < n; cut += 3) {
        uint8_t *d = malloc(cut ? cut : 1);
        memcpy(d, f, cut);
        rc = extract_mem(d, cut, &out, &len, &where);
        assert_true(rc == EV_OK || rc == EV_ENOTFOUND);
        if (rc == EV_OK) {
            c = capture_of(out, len);
            json_decref(c);
            free(out);
        }
        free(d);
    }
}

/* ------------------------------------------------------------------------ */
/* TIFF structures as devices write them (any size, either byte order,      */
/* BigTIFF), read in place through an ev_io                                  */
/* ------------------------------------------------------------------------ */

typedef struct tb {
    uint8_t *p;
    size_t len, cap;
    bool be, big;
} tb;

static void tb_grow(tb *b, size_t n)
{
    if (b->len + n > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < b->len + n)
            c *= 2;
        b->p = realloc(b->p, c);
        assert_non_null(b->p);
        memset(b->p + b->cap, 0, c - b->cap);
        b->cap = c;
    }
}

static void tb_w(tb *b, size_t at, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        b->p[at + (size_t)(b->be ? bytes - 1 - i : i)] = (uint8_t)(v >> (8 * i));
}

/* Append (word aligned); returns the offset. */
static size_t tb_put(tb *b, const void *d, size_t n)
{
    if (b->len & 1)
        b->len++;
    tb_grow(b, n + 1);
    size_t at = b->len;
    if (d)
        memcpy(b->p + at, d, n);
    else
        memset(b->p + at, 0xA5, n); /* "image data" */
    b->len += n;
    return at;
}

/* Header: magic as 4 bytes ("II*\0", "IIRO", "IIU\0", ...) or BigTIFF. */
static void tb_init(tb *b, const char *magic, bool big)
{
    memset(b, 0, sizeof(*b));
    b->be = magic[0] == 'M';
    b->big = big;
    tb_put(b, magic, 4);
    if (big) {
        tb_put(b, NULL, 12);
        tb_w(b, 4, 8, 2);
        tb_w(b, 6, 0, 2);
    } else {
        tb_put(b, NULL, 4);
    }
}

static void tb_set_ifd0(tb *b, uint64_t off)
{
    tb_w(b, b->big ? 8 : 4, off, b->big ? 8 : 4);
}

typedef struct tv {
    uint16_t tag, type;
    uint64_t count;
    uint8_t data[64]; /* in file byte order */
    size_t n;
} tv;

static tv v_ascii(uint16_t tag, const char *s)
{
    tv v = { tag, T_ASCII, strlen(s) + 1, { 0 }, strlen(s) + 1 };
    memcpy(v.data, s, v.n);
    return v;
}

static tv v_num(const tb *b, uint16_t tag, uint16_t type, const uint64_t *vals, int n)
{
    int sz = type == T_SHORT ? 2 : type == T_BYTE ? 1 : type >= 16 ? 8 : 4;
    tv v = { tag, type, (uint64_t)n, { 0 }, (size_t)(sz * n) };
    tb tmp = { v.data, 0, sizeof(v.data), b->be, b->big };
    for (int i = 0; i < n; i++)
        tb_w(&tmp, (size_t)(sz * i), vals[i], sz);
    return v;
}

static tv v_short(const tb *b, uint16_t tag, uint64_t x)
{
    return v_num(b, tag, T_SHORT, &x, 1);
}

static tv v_ptr(const tb *b, uint16_t tag, uint64_t off)
{
    return v_num(b, tag, b->big ? 18 : T_LONG, &off, 1);
}

static tv v_rats(const tb *b, uint16_t tag, const uint32_t *nd, int n)
{
    tv v = { tag, T_RATIONAL, (uint64_t)n, { 0 }, (size_t)(8 * n) };
    tb tmp = { v.data, 0, sizeof(v.data), b->be, b->big };
    for (int i = 0; i < 2 * n; i++)
        tb_w(&tmp, (size_t)(4 * i), nd[i], 4);
    return v;
}

/* Out-of-line values first, then the IFD; returns the IFD's offset. */
static uint64_t tb_ifd(tb *b, const tv *v, int n)
{
    size_t inl = b->big ? 8 : 4, esz = b->big ? 20 : 12, csz = b->big ? 8 : 2;
    uint64_t where[32];
    for (int i = 0; i < n; i++)
        where[i] = v[i].n > inl ? tb_put(b, v[i].data, v[i].n) : 0;
    size_t at = tb_put(b, NULL, csz + esz * (size_t)n + csz * 2);
    tb_w(b, at, (uint64_t)n, (int)csz);
    for (int i = 0; i < n; i++) {
        size_t e = at + csz + esz * (size_t)i;
        tb_w(b, e, v[i].tag, 2);
        tb_w(b, e + 2, v[i].type, 2);
        tb_w(b, e + 4, v[i].count, b->big ? 8 : 4);
        size_t vo = e + 4 + inl; /* after tag, type and count */
        if (v[i].n > inl) {
            tb_w(b, vo, where[i], (int)inl);
        } else {
            memset(b->p + vo, 0, inl);
            memcpy(b->p + vo, v[i].data, v[i].n);
        }
    }
    tb_w(b, at + csz + esz * (size_t)n, 0, (int)(b->big ? 8 : 4));
    return at;
}

typedef struct still {
    json_t *cap;
    uint8_t *blk;
    size_t blen;
    char why[256];
} still;

static void still_read(still *s, const uint8_t *d, size_t n)
{
    uint64_t st[4];
    ev_io io;
    ev_media__io_from_mem(&io, d, n, st);
    memset(s, 0, sizeof(*s));
    ev_exif_container c = ev_exif__sniff(d, n);
    assert_int_not_equal(c, EV_EXIF_NONE);
    assert_int_equal(ev_exif__still(&s->cap, &s->blk, &s->blen, &io, c, s->why, sizeof(s->why)),
                     EV_OK);
}

static void still_free(still *s)
{
    json_decref(s->cap);
    free(s->blk);
}

static bool has_warning(const json_t *cap, const char *needle)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(cap, "warnings"), i, w)
    {
        if (strstr(json_string_value(w), needle))
            return true;
    }
    return false;
}

static const char *src_of(const json_t *cap, const char *field)
{
    return json_string_value(json_object_get(json_object_get(cap, "sources"), field));
}

/* A camera TIFF: image data first (pad bytes), then ExifIFD, GPS IFD and
 * IFD0 at the end. */
static void make_camera_tiff(tb *b, const char *magic, bool big, size_t pad)
{
    tb_init(b, magic, big);
    tb_put(b, NULL, pad);
    tv ex[] = { v_ascii(0x9003, "2024:05:01 10:20:30"), v_ascii(0x9291, "25") };
    uint64_t exif = tb_ifd(b, ex, 2);
    uint32_t lat[] = { 51, 1, 30, 1, 249, 100 }, lon[] = { 0, 1, 7, 1, 2856, 100 };
    uint32_t alt[] = { 125, 10 }, ts[] = { 9, 1, 20, 1, 305, 10 };
    uint64_t zero = 0;
    tv gps[] = { v_ascii(1, "N"),  v_rats(b, 2, lat, 3), v_ascii(3, "W"),
                 v_rats(b, 4, lon, 3), v_num(b, 5, T_BYTE, &zero, 1), v_rats(b, 6, alt, 1),
                 v_rats(b, 7, ts, 3), v_ascii(0x1D, "2024:05:01") };
    uint64_t g = tb_ifd(b, gps, 8);
    tv i0[] = { v_ascii(0x010F, "DroneCo"), v_ascii(0x0110, "Survey-9"),
                v_short(b, 0x0112, 1), v_ptr(b, 0x8769, exif), v_ptr(b, 0x8825, g) };
    tb_set_ifd0(b, tb_ifd(b, i0, 5));
}

static void check_camera_facts(const json_t *c)
{
    assert_non_null(c);
    assert_string_equal(s_of(c, "make"), "DroneCo");
    assert_string_equal(s_of(c, "model"), "Survey-9");
    assert_string_equal(s_of(c, "exif_location"), "tiff");
    assert_string_equal(s_of(c, "datetime_original_local"), "2024-05-01T10:20:30.25");
    assert_string_equal(s_of(c, "datetime_original_zone"), "unknown");
    assert_null(json_object_get(c, "datetime_original"));
    assert_null(json_object_get(c, "datetime_original_utc_offset"));
    assert_string_equal(src_of(c, "datetime_original"), "exif:ExifIFD");
    assert_string_equal(src_of(c, "make"), "exif:IFD0");
    assert_string_equal(src_of(c, "gps"), "exif:GPS");
    const json_t *g = json_object_get(c, "gps");
    assert_string_equal(s_of(g, "format"), "exif-rational");
    double lat = json_real_value(json_object_get(g, "latitude"));
    assert_true(fabs(lat - (51.0 + 30.0 / 60 + 2.49 / 3600)) < 1e-12);
    /* finest step: 1/100 of a second of arc */
    assert_true(fabs(json_real_value(json_object_get(g, "precision_deg")) - 1.0 / 360000) < 1e-15);
    assert_string_equal(s_of(g, "datetime"), "2024-05-01T09:20:30.5Z");
    assert_string_equal(s_of(g, "datetime_zone"), "utc-by-format");
}

static void exif_tiff_ifd_far_away(void **state)
{
    (void)state;
    static const size_t pads[] = { 70000, 1100000, 40u * 1024 * 1024 };
    for (size_t i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
        tb b;
        make_camera_tiff(&b, i == 1 ? "MM\0*" : "II*\0", false, pads[i]);
        still s;
        still_read(&s, b.p, b.len);
        assert_string_equal(s.why, "");
        assert_null(s.blk); /* the TIFF file itself is the structure */
        check_camera_facts(s.cap);
        still_free(&s);
        free(b.p);
    }
}

/* ExifIFD whose value data crosses the 64 KiB mark */
static void exif_tiff_straddles_64k(void **state)
{
    (void)state;
    tb b;
    tb_init(&b, "II*\0", false);
    tb_put(&b, NULL, 65536 - 8 - 6);
    tv ex[] = { v_ascii(0x9003, "2023:12:31 23:59:58"), v_ascii(0x9011, "-05:30") };
    uint64_t exif = tb_ifd(&b, ex, 2);
    assert_memory_equal(b.p + 65536 - 6, "2023:12", 7); /* the date crosses 64 KiB */
    tv i0[] = { v_ptr(&b, 0x8769, exif) };
    tb_set_ifd0(&b, tb_ifd(&b, i0, 1));
    still s;
    still_read(&s, b.p, b.len);
    assert_non_null(s.cap);
    assert_string_equal(s_of(s.cap, "datetime_original"), "2023-12-31T23:59:58-05:30");
    assert_string_equal(s_of(s.cap, "datetime_original_zone"), "stated");
    assert_null(json_object_get(s.cap, "warnings"));
    still_free(&s);
    free(b.p);
}

static void exif_bigtiff_and_raws(void **state)
{
    (void)state;
    static const struct {
        const char *magic;
        bool big;
    } kinds[] = { { "II+\0", true }, { "MM\0+", true }, { "IIRO", false }, { "IIRS", false },
                  { "MMOR", false }, { "IIU\0", false } };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        tb b;
        make_camera_tiff(&b, kinds[i].magic, kinds[i].big, 100000);
        assert_int_equal(ev_exif__sniff(b.p, b.len), EV_EXIF_TIFF);
        still s;
        still_read(&s, b.p, b.len);
        if (!s_of(s.cap, "datetime_original_local"))
            fail_msg("%s: %s", kinds[i].magic, json_dumps(s.cap, 0));
        check_camera_facts(s.cap);
        still_free(&s);
        free(b.p);
    }
}

/* DNG: IFD0 (preview) with SubIFDs (raw); the ExifIFD is found from a
 * SubIFD when IFD0 has none; SubIFD loops are cut. */
static void exif_dng_subifds(void **state)
{
    (void)state;
    tb b;
    tb_init(&b, "II*\0", false);
    tb_put(&b, NULL, 300000);
    tv ex[] = { v_ascii(0x9003, "2022:02:28 08:00:00"), v_ascii(0x9011, "+09:00") };
    uint64_t exif = tb_ifd(&b, ex, 2);
    tv s1[] = { v_short(&b, 0x00FE, 0) };
    uint64_t sub1 = tb_ifd(&b, s1, 1);
    tv s2[] = { v_short(&b, 0x00FE, 0), v_ptr(&b, 0x8769, exif) };
    uint64_t sub2 = tb_ifd(&b, s2, 2);
    uint64_t subs[] = { sub1, sub2, sub2, 0xFFFFFFF0u };
    tv i0[] = { v_ascii(0x010F, "Leica"), v_num(&b, 0x014A, T_LONG, subs, 4),
                v_short(&b, 0x0112, 8) };
    tb_set_ifd0(&b, tb_ifd(&b, i0, 3));
    still s;
    still_read(&s, b.p, b.len);
    assert_non_null(s.cap);
    assert_string_equal(s_of(s.cap, "make"), "Leica");
    assert_string_equal(s_of(s.cap, "datetime_original"), "2022-02-28T08:00:00+09:00");
    assert_string_equal(s_of(s.cap, "orientation_text"), "Rotate 270 CW");
    assert_true(has_warning(s.cap, "IFD loop"));
    assert_true(has_warning(s.cap, "outside the data"));
    still_free(&s);
    free(b.p);
    /* nested: each SubIFD's own pointers are followed, not its sibling's */
    tb_init(&b, "MM\0*", false);
    exif = tb_ifd(&b, ex, 2);
    uint64_t leaf1 = tb_ifd(&b, s1, 1);
    tv l2[] = { v_short(&b, 0x00FE, 0), v_ptr(&b, 0x8769, exif) };
    uint64_t leaf2 = tb_ifd(&b, l2, 2);
    tv n1[] = { v_ptr(&b, 0x014A, leaf1) };
    sub1 = tb_ifd(&b, n1, 1);
    tv n2[] = { v_ptr(&b, 0x014A, leaf2) };
    sub2 = tb_ifd(&b, n2, 1);
    uint64_t two[] = { sub1, sub2 };
    tv j0[] = { v_num(&b, 0x014A, T_LONG, two, 2) };
    tb_set_ifd0(&b, tb_ifd(&b, j0, 1));
    still_read(&s, b.p, b.len);
    assert_string_equal(s_of(s.cap, "datetime_original"), "2022-02-28T08:00:00+09:00");
    assert_null(json_object_get(s.cap, "warnings"));
    still_free(&s);
    free(b.p);
}

/* IFD0 unreachable: a note says why; hostile chains stay bounded. */
static void exif_tiff_hostile(void **state)
{
    (void)state;
    tb b;
    tb_init(&b, "II*\0", false);
    tb_put(&b, NULL, 64);
    tb_set_ifd0(&b, 0x7FFFFFF0u);
    still s;
    still_read(&s, b.p, b.len);
    assert_null(s.cap);
    assert_non_null(strstr(s.why, "IFD0 offset 2147483632 is outside"));
    still_free(&s);
    /* BigTIFF offsets near 2^64, counts of 2^64-1 */
    free(b.p);
    tb_init(&b, "II+\0", true);
    uint64_t huge = UINT64_MAX - 3;
    tv i0[] = { v_ascii(0x010F, "Cam"), v_num(&b, 0x8769, 16, &huge, 1) };
    uint64_t at = tb_ifd(&b, i0, 2);
    tb_w(&b, (size_t)at + 8 + 20 + 4, UINT64_MAX, 8); /* ExifIFD count */
    tb_set_ifd0(&b, at);
    still_read(&s, b.p, b.len);
    assert_string_equal(s_of(s.cap, "make"), "Cam");
    still_free(&s);
    /* an IFD claiming 65535 entries in a short file, and an IFD chain into itself */
    free(b.p);
    tb_init(&b, "MM\0*", false);
    tv e[] = { v_ascii(0x010F, "Cam"), v_ptr(&b, 0x8769, 8), v_ptr(&b, 0x8825, 8),
               v_ptr(&b, 0x014A, 8) };
    at = tb_ifd(&b, e, 4);
    tb_w(&b, (size_t)at + 2 + 12 * 1 + 8, at, 4);
    tb_w(&b, (size_t)at + 2 + 12 * 2 + 8, at, 4);
    tb_w(&b, (size_t)at + 2 + 12 * 3 + 8, at, 4);
    tb_set_ifd0(&b, at);
    still_read(&s, b.p, b.len);
    assert_string_equal(s_of(s.cap, "make"), "Cam");
    assert_true(has_warning(s.cap, "IFD loop"));
    still_free(&s);
    tb_w(&b, (size_t)at, 0xFFFF, 2);
    still_read(&s, b.p, b.len);
    assert_true(has_warning(s.cap, "claims 65535 entries") || has_warning(s.cap, "is cut"));
    still_free(&s);
    /* every truncation of a camera TIFF: no crash, no made-up facts */
    free(b.p);
    make_camera_tiff(&b, "II*\0", false, 0);
    for (size_t cut = 0; cut < b.len; cut++) {
        still_read(&s, b.p, cut < 4 ? 4 : cut);
        const json_t *g = json_object_get(s.cap, "gps");
        if (json_object_get(g, "latitude"))
            assert_true(fabs(json_real_value(json_object_get(g, "latitude")) - 51.500691666) <
                        1e-6);
        still_free(&s);
    }
    free(b.p);
}

static void exif_orientation_out_of_range(void **state)
{
    (void)state;
    tb b;
    tb_init(&b, "II*\0", false);
    tv i0[] = { v_short(&b, 0x0112, 10825) };
    tb_set_ifd0(&b, tb_ifd(&b, i0, 1));
    still s;
    still_read(&s, b.p, b.len);
    assert_non_null(s.cap);
    assert_int_equal(json_integer_value(json_object_get(s.cap, "orientation")), 10825);
    assert_null(json_object_get(s.cap, "orientation_text"));
    assert_true(has_warning(s.cap, "Orientation 10825 is outside 1..8"));
    still_free(&s);
    free(b.p);
    /* a LONG orientation past the schema's range: not reported at all */
    tb_init(&b, "II*\0", false);
    uint64_t big = 70000;
    tv i1[] = { v_num(&b, 0x0112, T_LONG, &big, 1) };
    tb_set_ifd0(&b, tb_ifd(&b, i1, 1));
    still_read(&s, b.p, b.len);
    assert_null(json_object_get(s.cap, "orientation"));
    assert_true(has_warning(s.cap, "out of range"));
    still_free(&s);
    free(b.p);
}

static void exif_gps_placeholder_and_refs(void **state)
{
    (void)state;
    tb b;
    tb_init(&b, "II*\0", false);
    uint32_t z[] = { 0, 1, 0, 1, 0, 1 };
    tv gps[] = { v_ascii(1, "N"), v_rats(&b, 2, z, 3), v_ascii(3, "E"), v_rats(&b, 4, z, 3) };
    uint64_t g = tb_ifd(&b, gps, 4);
    tv i0[] = { v_ptr(&b, 0x8825, g) };
    tb_set_ifd0(&b, tb_ifd(&b, i0, 1));
    still s;
    still_read(&s, b.p, b.len);
    const json_t *j = json_object_get(s.cap, "gps");
    assert_true(json_is_true(json_object_get(j, "placeholder")));
    assert_null(json_object_get(j, "latitude"));
    assert_null(json_object_get(j, "longitude"));
    assert_string_equal(s_of(json_object_get(j, "raw"), "latitude"), "0/1 0/1 0/1");
    assert_true(has_warning(s.cap, "placeholder"));
    still_free(&s);
    free(b.p);
    /* refs outside N/S/E/W, a missing altitude ref: raw only */
    tb_init(&b, "II*\0", false);
    uint32_t la[] = { 10, 1, 0, 1, 0, 1 }, al[] = { 5, 1 };
    tv g2[] = { v_ascii(1, "X"), v_rats(&b, 2, la, 3), v_ascii(3, "E"), v_rats(&b, 4, la, 3),
                v_rats(&b, 6, al, 1) };
    g = tb_ifd(&b, g2, 5);
    tv i1[] = { v_ptr(&b, 0x8825, g) };
    tb_set_ifd0(&b, tb_ifd(&b, i1, 1));
    still_read(&s, b.p, b.len);
    j = json_object_get(s.cap, "gps");
    assert_null(json_object_get(j, "latitude"));
    assert_null(json_object_get(j, "altitude"));
    assert_string_equal(s_of(json_object_get(j, "raw"), "latitude_ref"), "X");
    assert_true(has_warning(s.cap, "GPSLatitudeRef 'X'"));
    assert_true(has_warning(s.cap, "GPSAltitudeRef missing"));
    still_free(&s);
    free(b.p);
}

/* A JPEG with an XMP packet and no EXIF (edited photos, some phones) */
static size_t jpeg_with_app1(uint8_t *j, const void *payload, size_t n)
{
    memcpy(j, "\xFF\xD8\xFF\xE1", 4);
    j[4] = (uint8_t)((n + 2) >> 8);
    j[5] = (uint8_t)(n + 2);
    memcpy(j + 6, payload, n);
    memcpy(j + 6 + n, "\xFF\xDA\x00\x02\xFF\xD9", 6);
    return 12 + n;
}

static void exif_xmp_only(void **state)
{
    (void)state;
    static const char pkt[] =
        "http://ns.adobe.com/xap/1.0/\0"
        "<?xpacket begin='\xEF\xBB\xBF' id='W5M0MpCehiHzreSzNTczkc9d'?>"
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF "
        "xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
        "<rdf:Description rdf:about='' xmlns:e='http://ns.adobe.com/exif/1.0/' "
        "xmlns:t='http://ns.adobe.com/tiff/1.0/' xmlns:xmp='http://ns.adobe.com/xap/1.0/' "
        "e:DateTimeOriginal='2024-05-01T10:20:30.123+02:00' xmp:CreateDate='2024-05-01T10:20:30'>"
        "<t:Orientation>6</t:Orientation><t:Make> Pixel </t:Make>"
        "<xmp:ModifyDate>2024-05-02</xmp:ModifyDate>"
        "</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end='w'?>\0\0";
    uint8_t j[2048];
    size_t n = jpeg_with_app1(j, pkt, sizeof(pkt) - 1);
    still s;
    still_read(&s, j, n);
    assert_non_null(s.cap);
    assert_non_null(strstr(s.why, "no EXIF"));
    assert_null(s.blk);
    assert_string_equal(s_of(s.cap, "source"), "xmp");
    assert_null(json_object_get(s.cap, "exif_location"));
    assert_string_equal(s_of(s.cap, "datetime_original"), "2024-05-01T10:20:30.123+02:00");
    assert_string_equal(s_of(s.cap, "datetime_original_zone"), "stated");
    assert_string_equal(src_of(s.cap, "datetime_original"), "xmp:exif:DateTimeOriginal");
    assert_string_equal(s_of(s.cap, "datetime_digitized_local"), "2024-05-01T10:20:30");
    assert_string_equal(s_of(s.cap, "datetime_digitized_zone"), "unknown");
    assert_null(json_object_get(s.cap, "datetime_digitized"));
    assert_string_equal(src_of(s.cap, "datetime_digitized"), "xmp:xmp:CreateDate");
    assert_int_equal(json_integer_value(json_object_get(s.cap, "orientation")), 6);
    assert_string_equal(src_of(s.cap, "orientation"), "xmp:tiff:Orientation");
    assert_string_equal(s_of(s.cap, "make"), "Pixel");
    assert_null(json_object_get(s.cap, "datetime_modified_local")); /* no time of day */
    assert_true(has_warning(s.cap, "xmp:ModifyDate '2024-05-02' is not a full date"));
    still_free(&s);
    /* EXIF wins; XMP fills only what EXIF left unsaid */
    blk k;
    make_valid(&k);
    uint8_t j2[20000];
    size_t m = 0;
    memcpy(j2, "\xFF\xD8\xFF\xE1", 4);
    j2[4] = (uint8_t)((k.len + 6 + 2) >> 8);
    j2[5] = (uint8_t)(k.len + 6 + 2);
    memcpy(j2 + 6, k.b, k.len + 6);
    m = 6 + k.len + 6;
    m += jpeg_with_app1(j2 + m, pkt, sizeof(pkt) - 1) - 0;
    memmove(j2 + 6 + k.len + 6, j2 + 6 + k.len + 6 + 2, m - (6 + k.len + 6 + 2)); /* drop SOI */
    m -= 2;
    still_read(&s, j2, m);
    assert_string_equal(s_of(s.cap, "source"), "exif");
    assert_string_equal(s_of(s.cap, "datetime_original"), "2024-05-01T10:20:30.12+01:00");
    assert_string_equal(src_of(s.cap, "datetime_original"), "exif:ExifIFD");
    assert_string_equal(s_of(s.cap, "make"), "Cam");
    assert_string_equal(src_of(s.cap, "datetime_digitized"), "xmp:xmp:CreateDate");
    assert_non_null(s.blk);
    still_free(&s);
    /* a DTD is refused; broken XML keeps nothing it had not read */
    static const char dtd[] = "http://ns.adobe.com/xap/1.0/\0<!DOCTYPE x [<!ENTITY a 'b'>]>"
                              "<x xmlns:t='http://ns.adobe.com/tiff/1.0/' t:Make='&a;'/>";
    n = jpeg_with_app1(j, dtd, sizeof(dtd) - 1);
    still_read(&s, j, n);
    assert_null(json_object_get(s.cap, "make"));
    assert_true(has_warning(s.cap, "DTD refused"));
    assert_string_equal(s_of(s.cap, "source"), "xmp"); /* no EXIF at all */
    still_free(&s);
}

/* XMP in PNG iTXt and in TIFF tag 700 */
static void exif_xmp_png_tiff(void **state)
{
    (void)state;
    static const char x[] =
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF "
        "xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description "
        "xmlns:photoshop='http://ns.adobe.com/photoshop/1.0/'>"
        "<photoshop:DateCreated>2021-07-04T12:00:00Z</photoshop:DateCreated>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>";
    uint8_t p[20000], d[2048];
    size_t n = 8, dl = 0;
    memcpy(p, "\x89PNG\r\n\x1a\n", 8);
    memcpy(d, "XML:com.adobe.xmp\0\0\0\0\0", 22);
    dl = 22;
    memcpy(d + dl, x, sizeof(x) - 1);
    dl += sizeof(x) - 1;
    n += png_chunk(p + n, "iTXt", d, (uint32_t)dl, (uint32_t)dl);
    n += png_chunk(p + n, "IEND", NULL, 0, 0);
    still s;
    still_read(&s, p, n);
    assert_string_equal(s_of(s.cap, "datetime_original"), "2021-07-04T12:00:00Z");
    assert_string_equal(s_of(s.cap, "datetime_original_utc_offset"), "Z");
    assert_string_equal(src_of(s.cap, "datetime_original"), "xmp:photoshop:DateCreated");
    still_free(&s);
    /* an eXIf chunk that starts with the JPEG "Exif\0\0" header (seen in the wild) */
    blk k;
    make_valid(&k);
    n = 8;
    n += png_chunk(p + n, "eXIf", k.b, (uint32_t)(k.len + 6), (uint32_t)(k.len + 6));
    n += png_chunk(p + n, "IEND", NULL, 0, 0);
    still_read(&s, p, n);
    assert_string_equal(s_of(s.cap, "make"), "Cam");
    still_free(&s);
    tb b;
    tb_init(&b, "II*\0", false);
    tb_put(&b, NULL, 200000);
    size_t xo = tb_put(&b, x, sizeof(x) - 1);
    tv i0[] = { v_ascii(0x010F, "Scan"), { 0x02BC, T_BYTE, sizeof(x) - 1, { 0 }, 0 } };
    uint64_t at = tb_ifd(&b, i0, 2);
    tb_w(&b, (size_t)at + 2 + 12 + 8, xo, 4);
    tb_set_ifd0(&b, at);
    still_read(&s, b.p, b.len);
    assert_string_equal(s_of(s.cap, "source"), "exif");
    assert_string_equal(s_of(s.cap, "make"), "Scan");
    assert_string_equal(s_of(s.cap, "datetime_original"), "2021-07-04T12:00:00Z");
    still_free(&s);
    free(b.p);
}

/* EXIF dates: the zone is stated only by OffsetTime*. */
static void exif_date_zones(void **state)
{
    (void)state;
    tb b;
    tb_init(&b, "II*\0", false);
    tv ex[] = { v_ascii(0x9003, "2024:02:29 10:00:00"), v_ascii(0x9004, "2023:02:29 10:00:00"),
                v_ascii(0x9012, "+01:00") };
    uint64_t e = tb_ifd(&b, ex, 3);
    tv i0[] = { v_ascii(0x0132, "2024:03:01 11:00:00"), v_ptr(&b, 0x8769, e) };
    tb_set_ifd0(&b, tb_ifd(&b, i0, 2));
    still s;
    still_read(&s, b.p, b.len);
    assert_string_equal(s_of(s.cap, "datetime_original_local"), "2024-02-29T10:00:00");
    assert_string_equal(s_of(s.cap, "datetime_original_zone"), "unknown");
    assert_null(json_object_get(s.cap, "datetime_original"));
    assert_null(json_object_get(s.cap, "datetime_digitized_local")); /* 2023 is no leap year */
    assert_true(has_warning(s.cap, "DateTimeDigitized"));
    assert_string_equal(s_of(s.cap, "datetime_modified_zone"), "unknown");
    assert_string_equal(src_of(s.cap, "datetime_modified"), "exif:IFD0");
    still_free(&s);
    free(b.p);
}

/* HEIF: the XMP 'mime' item (application/rdf+xml) next to no Exif item */
static void exif_xmp_heif_item(void **state)
{
    (void)state;
    static const char x[] = "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF "
                            "xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
                            "<rdf:Description xmlns:tiff='http://ns.adobe.com/tiff/1.0/' "
                            "tiff:Orientation='3' tiff:Model='Phone 9'/></rdf:RDF></x:xmpmeta>";
    uint8_t f[4096], tmp[1024], infe[128], iinf[256], iloc[128], meta[1024];
    size_t n = 0, t = 0;
    n += bx(f, "ftyp", (const uint8_t *)"heic\0\0\0\0mif1heic", 16);
    t += be32(tmp + t, 0x02000000);
    t += be16(tmp + t, 1);
    t += be16(tmp + t, 0);
    memcpy(tmp + t, "mime\0application/rdf+xml\0", 26);
    t += 26;
    size_t il = bx(infe, "infe", tmp, t);
    t = 0;
    t += be32(tmp + t, 0);
    t += be16(tmp + t, 1);
    memcpy(tmp + t, infe, il);
    t += il;
    size_t iil = bx(iinf, "iinf", tmp, t);
    t = 0;
    t += be32(tmp + t, 0);
    tmp[t++] = 0x44;
    tmp[t++] = 0x00;
    t += be16(tmp + t, 1);
    t += be16(tmp + t, 1);
    t += be16(tmp + t, 0);
    t += be16(tmp + t, 1);
    size_t ext = t;
    t += be32(tmp + t, 0);
    t += be32(tmp + t, (uint32_t)(sizeof(x) - 1));
    size_t ill = bx(iloc, "iloc", tmp, t);
    size_t mt = be32(meta, 0);
    memcpy(meta + mt, iinf, iil);
    mt += iil;
    memcpy(meta + mt, iloc, ill);
    mt += ill;
    size_t meta_at = n;
    n += bx(f + n, "meta", meta, mt);
    size_t mdat_at = n;
    n += bx(f + n, "mdat", (const uint8_t *)x, sizeof(x) - 1);
    be32(f + meta_at + 8 + 4 + iil + 8 + ext, (uint32_t)(mdat_at + 8));
    still s;
    still_read(&s, f, n);
    assert_non_null(strstr(s.why, "no Exif item"));
    assert_non_null(s.cap);
    assert_int_equal(json_integer_value(json_object_get(s.cap, "orientation")), 3);
    assert_string_equal(s_of(s.cap, "model"), "Phone 9");
    assert_string_equal(src_of(s.cap, "model"), "xmp:tiff:Model");
    still_free(&s);
}

/* Random damage to the in-place TIFF walk and to XMP packets: no crash, no
 * hang (ASan sees overreads: the buffers have their exact size). */
static void exif_still_flips(void **state)
{
    (void)state;
    tb b;
    make_camera_tiff(&b, "II*\0", false, 0);
    static const char pkt[] =
        "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF "
        "xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description "
        "xmlns:e='http://ns.adobe.com/exif/1.0/' e:DateTimeOriginal='2024-05-01T10:20:30Z'>"
        "<e:DateTimeDigitized><rdf:Seq><rdf:li>2024-05-01T10:20:30</rdf:li></rdf:Seq>"
        "</e:DateTimeDigitized></rdf:Description></rdf:RDF></x:xmpmeta>";
    uint8_t j[1024];
    size_t jn = jpeg_with_app1(j, pkt, sizeof(pkt) - 1);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    double t0 = (double)clock() / CLOCKS_PER_SEC;
    for (int it = 0; it < 4000; it++) {
        const uint8_t *src = it & 1 ? j : b.p;
        size_t n = it & 1 ? jn : b.len;
        uint8_t *d = malloc(n);
        memcpy(d, src, n);
        for (int f = 0; f < 1 + it % 6; f++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            size_t pos = 4 + (size_t)(x % (n - 4));
            d[pos] = (uint8_t)(it & 2 ? d[pos] ^ (1u << (x >> 61)) : (x >> 40));
        }
        uint64_t st[4];
        ev_io io;
        ev_media__io_from_mem(&io, d, n, st);
        json_t *c = NULL;
        uint8_t *eb = NULL;
        size_t eblen = 0;
        char why[256];
        assert_int_equal(ev_exif__still(&c, &eb, &eblen, &io, ev_exif__sniff(d, n), why,
                                        sizeof(why)),
                         EV_OK);
        json_decref(c);
        free(eb);
        free(d);
    }
    assert_true((double)clock() / CLOCKS_PER_SEC - t0 < 60.0);
    free(b.p);
}

/* XMP GPSCoordinate values ("DDD,MM.mmk", "DDD,MM,SSk") where EXIF has none */
static void exif_xmp_gps(void **state)
{
    (void)state;
    static const struct {
        const char *lat, *lon;
        double want_lat, want_lon, step;
        int kind; /* 0 position, 1 placeholder, 2 invalid */
    } cases[] = {
        { "51,30.0415N", "0,7.476W", 51 + 30.0415 / 60, -(7.476 / 60), 0.001 / 60, 0 },
        { "33,51,54.36S", "151,12,35.52E", -(33 + 51 / 60.0 + 54.36 / 3600),
          151 + 12 / 60.0 + 35.52 / 3600, 0.01 / 3600, 0 },
        { "0,0.0000N", "0,0.0000E", 0, 0, 0, 1 },
        { "91,0N", "0,7W", 0, 0, 0, 2 },
        { "51,30.0415E", "0,7.476W", 0, 0, 0, 2 },
        { "51,60N", "0,7.476W", 0, 0, 0, 2 },
        { "51,30.N", "0,7.476W", 0, 0, 0, 2 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char pkt[1024];
        int n = snprintf(pkt, sizeof(pkt),
                         "http://ns.adobe.com/xap/1.0/%c<x:xmpmeta xmlns:x='adobe:ns:meta/'>"
                         "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
                         "<rdf:Description xmlns:exif='http://ns.adobe.com/exif/1.0/'>"
                         "<exif:GPSLatitude>%s</exif:GPSLatitude>"
                         "<exif:GPSLongitude>%s</exif:GPSLongitude>"
                         "</rdf:Description></rdf:RDF></x:xmpmeta>",
                         0, cases[i].lat, cases[i].lon);
        uint8_t j[1200];
        size_t jn = jpeg_with_app1(j, pkt, (size_t)n);
        still s;
        still_read(&s, j, jn);
        const json_t *g = json_object_get(s.cap, "gps");
        assert_non_null(g);
        assert_string_equal(s_of(g, "format"), "xmp");
        assert_string_equal(src_of(s.cap, "gps"), "xmp:exif:GPSLatitude");
        char raw[64];
        snprintf(raw, sizeof(raw), "%s %s", cases[i].lat, cases[i].lon);
        assert_string_equal(s_of(json_object_get(g, "raw"), "xmp"), raw);
        if (cases[i].kind == 0) {
            assert_true(fabs(json_real_value(json_object_get(g, "latitude")) -
                             cases[i].want_lat) < 1e-12);
            assert_true(fabs(json_real_value(json_object_get(g, "longitude")) -
                             cases[i].want_lon) < 1e-12);
            assert_true(fabs(json_real_value(json_object_get(g, "precision_deg")) -
                             cases[i].step) < 1e-15);
            assert_null(json_object_get(s.cap, "warnings"));
        } else {
            assert_null(json_object_get(g, "latitude"));
            assert_null(json_object_get(g, "longitude"));
            assert_true(cases[i].kind == 1 ? json_is_true(json_object_get(g, "placeholder"))
                                           : json_object_get(g, "placeholder") == NULL);
            assert_true(has_warning(s.cap, cases[i].kind == 1 ? "placeholder" : "not valid"));
        }
        still_free(&s);
    }
}

/* Hostile XMP: deep nesting, long values, entity tricks, cut packets */
static void exif_xmp_hostile(void **state)
{
    (void)state;
    const char *head = "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF "
                       "xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
                       "<rdf:Description xmlns:tiff='http://ns.adobe.com/tiff/1.0/'>";
    size_t cap = 4u * 1024 * 1024;
    char *x = malloc(cap);
    /* 200 000 nested elements inside a property */
    size_t n = (size_t)snprintf(x, cap, "%s<tiff:Make>", head);
    for (int i = 0; i < 200000; i++)
        n += (size_t)snprintf(x + n, cap - n, "<a>");
    n += (size_t)snprintf(x + n, cap - n, "deep");
    for (int i = 0; i < 200000; i++)
        n += (size_t)snprintf(x + n, cap - n, "</a>");
    n += (size_t)snprintf(x + n, cap - n, "</tiff:Make><tiff:Model>");
    memset(x + n, 'M', 100000); /* a 100 000-byte value: cut at 1024 */
    n += 100000;
    n += (size_t)snprintf(x + n, cap - n, "</tiff:Model></rdf:Description></rdf:RDF></x:xmpmeta>");
    ev_xmp xm;
    char why[256];
    assert_int_equal(ev_xmp__parse(&xm, (const uint8_t *)x, n, why, sizeof(why)), EV_OK);
    assert_string_equal(why, "");
    assert_null(xm.val[EV_XMP_TIFF_MAKE]); /* not a simple value: no text at its level */
    assert_int_equal(strlen(xm.val[EV_XMP_TIFF_MODEL]), 1024);
    ev_xmp__free(&xm);
    /* billion laughs: refused at the DOCTYPE */
    const char *bl = "<?xml version='1.0'?><!DOCTYPE l [<!ENTITY a 'aaaaaaaaaa'>"
                     "<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
                     "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>]><l>&c;</l>";
    assert_int_equal(ev_xmp__parse(&xm, (const uint8_t *)bl, strlen(bl), why, sizeof(why)),
                     EV_OK);
    assert_non_null(strstr(why, "DTD refused"));
    ev_xmp__free(&xm);
    /* an external entity without a DTD is an error, not a fetch */
    const char *ext = "<x xmlns:t='http://ns.adobe.com/tiff/1.0/' t:Make='&ext;'/>";
    assert_int_equal(ev_xmp__parse(&xm, (const uint8_t *)ext, strlen(ext), why, sizeof(why)),
                     EV_OK);
    assert_non_null(strstr(why, "not well-formed"));
    assert_null(xm.val[EV_XMP_TIFF_MAKE]);
    ev_xmp__free(&xm);
    /* every cut of a good packet: values read before the cut only */
    n = (size_t)snprintf(x, cap, "%s<tiff:Make>Cam</tiff:Make><tiff:Orientation>6"
                                 "</tiff:Orientation></rdf:Description></rdf:RDF></x:xmpmeta>",
                         head);
    for (size_t cut = 0; cut <= n; cut++) {
        assert_int_equal(ev_xmp__parse(&xm, (const uint8_t *)x, cut, why, sizeof(why)), EV_OK);
        if (xm.val[EV_XMP_TIFF_MAKE])
            assert_string_equal(xm.val[EV_XMP_TIFF_MAKE], "Cam");
        if (xm.val[EV_XMP_TIFF_ORIENTATION])
            assert_string_equal(xm.val[EV_XMP_TIFF_ORIENTATION], "6");
        ev_xmp__free(&xm);
    }
    free(x);
}

static void exif_sniff(void **state)
{
    (void)state;
    assert_int_equal(ev_exif__sniff((const uint8_t *)"\xFF\xD8\xFF\xE0", 4), EV_EXIF_JPEG);
    assert_int_equal(ev_exif__sniff((const uint8_t *)"\x89PNG\r\n\x1a\n", 8), EV_EXIF_PNG);
    assert_int_equal(ev_exif__sniff((const uint8_t *)"II*\0\x08\0\0\0", 8), EV_EXIF_TIFF);
    assert_int_equal(ev_exif__sniff((const uint8_t *)"MM\0*\0\0\0\x08", 8), EV_EXIF_TIFF);
    assert_int_equal(ev_exif__sniff((const uint8_t *)"\0\0\0\x18" "ftypmif1\0\0\0\0", 16),
                     EV_EXIF_HEIF);
    assert_int_equal(ev_exif__sniff((const uint8_t *)"\0\0\0\x18" "ftypisom\0\0\0\0", 16),
                     EV_EXIF_NONE);
    assert_int_equal(ev_exif__sniff((const uint8_t *)"\xFF\xD8", 2), EV_EXIF_NONE);
    assert_int_equal(ev_exif__sniff((const uint8_t *)"", 0), EV_EXIF_NONE);
    assert_string_equal(ev_exif__orientation_text(8), "Rotate 270 CW");
    assert_null(ev_exif__orientation_text(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exif_valid_block),
        cmocka_unit_test(exif_never_makes_facts_up),
        cmocka_unit_test(exif_malformed_values),
        cmocka_unit_test(exif_hostile_blocks),
        cmocka_unit_test(exif_truncations_and_flips),
        cmocka_unit_test(exif_jpeg_segments),
        cmocka_unit_test(exif_png_chunks),
        cmocka_unit_test(exif_heif_items),
        cmocka_unit_test(exif_sniff),
        cmocka_unit_test(exif_tiff_ifd_far_away),
        cmocka_unit_test(exif_tiff_straddles_64k),
        cmocka_unit_test(exif_bigtiff_and_raws),
        cmocka_unit_test(exif_dng_subifds),
        cmocka_unit_test(exif_tiff_hostile),
        cmocka_unit_test(exif_orientation_out_of_range),
        cmocka_unit_test(exif_gps_placeholder_and_refs),
        cmocka_unit_test(exif_xmp_only),
        cmocka_unit_test(exif_xmp_png_tiff),
        cmocka_unit_test(exif_date_zones),
        cmocka_unit_test(exif_xmp_heif_item),
        cmocka_unit_test(exif_still_flips),
        cmocka_unit_test(exif_xmp_gps),
        cmocka_unit_test(exif_xmp_hostile),
    };
    return cmocka_run_group_tests_name("exif", tests, NULL, NULL);
}
