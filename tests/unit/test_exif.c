/*
 * Unit tests for src/exif.c: capture facts from EXIF blocks built here byte
 * by byte, and hostile blocks and containers (bad offsets, loops, huge
 * counts, truncation, bit flips) that must neither crash nor hang nor make
 * facts up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "exif.h"
#include "media.h"
#include "media_int.h"
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
        if (strcmp(key, "source") && strcmp(key, "make"))
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
    };
    return cmocka_run_group_tests_name("exif", tests, NULL, NULL);
}
