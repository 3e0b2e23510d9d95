/*
 * location: the location a file stores, as stored (MP4/MOV boxes: the Apple
 * mdta ISO 6709 key, udta (c)xyz, udta loci; else the demuxer's tag), and the
 * report comparing the copy's with the source's.
 */
#include "transcode/transcode_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/intreadwrite.h>

#include "media/boxes.h"
#include "media/media_int.h"

/* ------------------------------------------------------------------------ */
/* Stored locations                                                          */
/* ------------------------------------------------------------------------ */

void ev_transcode__iso6709_format(char *buf, size_t n, double lat, double lon, bool has_alt,
                                  double alt, int dec)
{
    char a[48], b[48], c[48] = "";
    /* digits, then trailing zeros (and a bare point) dropped */
    snprintf(a, sizeof(a), "%+0*.*f", 4 + dec - (dec == 0), dec, lat);
    snprintf(b, sizeof(b), "%+0*.*f", 5 + dec - (dec == 0), dec, lon);
    if (has_alt)
        snprintf(c, sizeof(c), "%+.*f", dec < 3 ? dec : 3, alt);
    char *parts[3] = { a, b, c };
    for (int i = 0; i < 3; i++) {
        char *p = parts[i];
        if (!strchr(p, '.'))
            continue;
        size_t l = strlen(p);
        while (l > 0 && p[l - 1] == '0')
            p[--l] = '\0';
        if (l > 0 && p[l - 1] == '.')
            p[--l] = '\0';
    }
    snprintf(buf, n, "%s%s%s/", a, b, c);
}

/* Step of an ISO 6709 latitude: 10^-decimals, in degrees (DDMM and DDMMSS
 * forms: of a minute or a second). 0 when it cannot be read. */
static double iso6709_step(const char *s)
{
    while (*s == ' ')
        s++;
    if (*s != '+' && *s != '-')
        return 0;
    s++;
    int intd = 0, dec = 0;
    while (isdigit((unsigned char)*s)) {
        s++;
        intd++;
    }
    if (*s == '.')
        for (s++; isdigit((unsigned char)*s); s++)
            dec++;
    double step = pow(10.0, -dec);
    return intd == 2 ? step : intd == 4 ? step / 60.0 : intd == 6 ? step / 3600.0 : 0;
}

static void loc_from_iso(ev_tc_loc *l, const char *from, const char *v, size_t len)
{
    snprintf(l->from, sizeof(l->from), "%s", from);
    snprintf(l->format, sizeof(l->format), "iso6709");
    size_t k = len < sizeof(l->raw) - 1 ? len : sizeof(l->raw) - 1;
    memcpy(l->raw, v, k);
    l->raw[k] = '\0';
    l->has_num = ev_media__iso6709(l->raw, &l->lat, &l->lon, &l->alt, &l->has_alt);
    l->precision = l->has_num ? iso6709_step(l->raw) : 0;
}

/* 3GPP TS 26.244 'loci': version/flags, language (2), name (NUL-terminated;
 * UTF-16 with a BOM possible), role (1), longitude, latitude, altitude as
 * signed 16.16 fixed point. */
static bool loc_from_loci(ev_tc_loc *l, const uint8_t *p, size_t n)
{
    size_t i = 6;
    if (n < i + 1)
        return false;
    if (n >= i + 2 && p[i] == 0xFE && p[i + 1] == 0xFF) {      /* UTF-16 name */
        for (i += 2; i + 1 < n && (p[i] || p[i + 1]); i += 2)
            ;
        i += 2;
    } else {
        while (i < n && p[i])
            i++;
        i++;
    }
    i++; /* role */
    if (i + 12 > n)
        return false;
    int32_t lon = (int32_t)AV_RB32(p + i), lat = (int32_t)AV_RB32(p + i + 4),
            alt = (int32_t)AV_RB32(p + i + 8);
    snprintf(l->from, sizeof(l->from), "quicktime:udta:loci");
    snprintf(l->format, sizeof(l->format), "3gpp-loci-16.16");
    l->lat = lat / 65536.0;
    l->lon = lon / 65536.0;
    l->alt = alt / 65536.0;
    l->has_alt = alt != 0;
    l->has_num = fabs(l->lat) <= 90.0 && fabs(l->lon) <= 180.0;
    l->precision = 1.0 / 65536.0;
    /* n/65536 has at most 16 decimals: the stored value, exactly */
    ev_transcode__iso6709_format(l->raw, sizeof(l->raw), l->lat, l->lon, l->has_alt, l->alt, 16);
    return true;
}

/* Read a box's body (at most max bytes) at the current position. */
static uint8_t *read_body(FILE *f, uint64_t len, size_t max)
{
    if (len > max)
        return NULL;
    uint8_t *b = malloc(len ? (size_t)len : 1);
    if (b && fread(b, 1, (size_t)len, f) != len) {
        free(b);
        return NULL;
    }
    return b;
}

/* Children of a box held in memory: calls back with type, body and length. */
typedef bool (*box_cb)(void *u, const uint8_t *type, const uint8_t *body, size_t len);

static void walk_mem(const uint8_t *p, size_t n, box_cb cb, void *u)
{
    ev_media__box_iter it;
    ev_media__box b;
    ev_media__box_iter_mem(&it, p, n);
    while (ev_media__box_next(&b, &it) == EV_MEDIA__BOX_OK)
        if (!cb(u, p + b.start + 4, p + b.payload, (size_t)(b.end - b.payload)))
            return;
}

typedef struct loc_walk {
    ev_tc_loc mdta, xyz, loci;
    bool has_mdta, has_xyz, has_loci;
    uint32_t want;         /* 1-based key index of the location key */
    bool unread;           /* a udta or meta box was too large to read */
} loc_walk;

static void walk_meta(loc_walk *w, const uint8_t *b, size_t n);

static bool on_udta(void *u, const uint8_t *t, const uint8_t *b, size_t n)
{
    loc_walk *w = u;
    if (memcmp(t, "meta", 4) == 0) /* FFmpeg writes its mdta keys here */
        walk_meta(w, b, n);
    else if (memcmp(t, "\xa9xyz", 4) == 0 && n >= 4 && !w->has_xyz) {
        size_t len = AV_RB16(b);
        if (len > n - 4)
            len = n - 4;
        loc_from_iso(&w->xyz, "quicktime:udta:\xc2\xa9xyz", (const char *)b + 4, len);
        w->has_xyz = true;
    } else if (memcmp(t, "loci", 4) == 0 && !w->has_loci) {
        w->has_loci = loc_from_loci(&w->loci, b, n);
    }
    return true;
}

static const char apple_loc_key[] = "com.apple.quicktime.location.ISO6709";

/* keys: version/flags, count, then (size, namespace, name) entries */
static uint32_t key_index(const uint8_t *b, size_t n)
{
    if (n < 8)
        return 0;
    uint32_t cnt = AV_RB32(b + 4);
    size_t pos = 8;
    for (uint32_t i = 1; i <= cnt && pos + 8 <= n; i++) {
        uint32_t sz = AV_RB32(b + pos);
        if (sz < 8 || sz > n - pos)
            return 0;
        size_t kl = sz - 8;
        if (memcmp(b + pos + 4, "mdta", 4) == 0 && kl == sizeof(apple_loc_key) - 1 &&
            memcmp(b + pos + 8, apple_loc_key, kl) == 0)
            return i;
        pos += sz;
    }
    return 0;
}

static bool on_item_data(void *u, const uint8_t *t, const uint8_t *b, size_t n)
{
    loc_walk *w = u;
    /* data: type (4), locale (4), value; type 1 = UTF-8 */
    if (memcmp(t, "data", 4) == 0 && n >= 8 && !w->has_mdta && AV_RB32(b) == 1) {
        loc_from_iso(&w->mdta, "quicktime:mdta:com.apple.quicktime.location.ISO6709",
                     (const char *)b + 8, n - 8);
        w->has_mdta = true;
    }
    return true;
}

static bool on_ilst(void *u, const uint8_t *t, const uint8_t *b, size_t n)
{
    loc_walk *w = u;
    if (w->want && AV_RB32(t) == w->want)
        walk_mem(b, n, on_item_data, w);
    return true;
}

static bool on_meta_keys(void *u, const uint8_t *t, const uint8_t *b, size_t n)
{
    loc_walk *w = u;
    if (memcmp(t, "keys", 4) == 0)
        w->want = key_index(b, n);
    return true;
}

static bool on_meta_ilst(void *u, const uint8_t *t, const uint8_t *b, size_t n)
{
    if (memcmp(t, "ilst", 4) == 0)
        walk_mem(b, n, on_ilst, u);
    return true;
}

static void walk_meta(loc_walk *w, const uint8_t *b, size_t n)
{
    /* ISO's meta is a full box (version/flags, zero); QuickTime's is a plain
     * box, starting with its first child's size */
    if (n >= 4 && AV_RB32(b) == 0) {
        b += 4;
        n -= 4;
    }
    walk_mem(b, n, on_meta_keys, w);
    walk_mem(b, n, on_meta_ilst, w);
}

static bool on_moov(void *u, const uint8_t *t, const uint8_t *b, size_t n)
{
    loc_walk *w = u;
    if (memcmp(t, "udta", 4) == 0)
        walk_mem(b, n, on_udta, w);
    else if (memcmp(t, "meta", 4) == 0)
        walk_meta(w, b, n);
    return true;
}

/* The moov box's udta and meta children, read from the file. */
static void mov_walk(loc_walk *w, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    if (fseeko(f, 0, SEEK_END) != 0) {
        fclose(f);
        return;
    }
    uint64_t size = (uint64_t)ftello(f);
    ev_media__box_iter top, kids;
    ev_media__box moov, b;
    bool found = false;
    ev_media__box_iter_io(&top, ev_media__box_read_stdio, f, 0, size);
    for (int guard = 0; guard < 100000 && ev_media__box_next(&moov, &top) == EV_MEDIA__BOX_OK;
         guard++) {
        if (moov.type == MKBETAG('m', 'o', 'o', 'v')) {
            found = true;
            break;
        }
    }
    if (found)
        ev_media__box_iter_children(&kids, &top, &moov);
    while (found && ev_media__box_next(&b, &kids) == EV_MEDIA__BOX_OK) {
        if (b.type == MKBETAG('u', 'd', 't', 'a') || b.type == MKBETAG('m', 'e', 't', 'a')) {
            /* cover art can make these large; 64 MiB is far beyond any */
            uint64_t len = b.end - b.payload;
            uint8_t *body = fseeko(f, (off_t)b.payload, SEEK_SET) == 0
                                ? read_body(f, len, (size_t)64 << 20) : NULL;
            if (body)
                on_moov(w, b.fourcc, body, (size_t)len);
            else
                w->unread = true;
            free(body);
        }
    }
    fclose(f);
}

bool ev_transcode__stored_location(ev_tc_loc *out, const AVFormatContext *fc, const char *path)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(fc->iformat->name, "mov,", 4) == 0) {
        loc_walk w;
        memset(&w, 0, sizeof(w));
        mov_walk(&w, path);
        /* the same preference as the copy's writer: the Apple key, then
         * (c)xyz, then loci */
        if (w.has_mdta)
            *out = w.mdta;
        else if (w.has_xyz)
            *out = w.xyz;
        else if (w.has_loci)
            *out = w.loci;
        if (w.has_mdta || w.has_xyz || w.has_loci || !w.unread)
            return w.has_mdta || w.has_xyz || w.has_loci;
        /* the boxes could not be read: FFmpeg's tag is all there is (for
         * loci, its 4-decimal rendering; "from" says so) */
    }
    const AVDictionaryEntry *t = av_dict_get(fc->metadata, "location", NULL, 0);
    if (!t)
        t = av_dict_get(fc->metadata, apple_loc_key, NULL, 0);
    if (!t)
        return false;
    const char *from = strncmp(fc->iformat->name, "matroska", 8) == 0 ? "matroska:tag:LOCATION"
                     : strncmp(fc->iformat->name, "mov,", 4) == 0 ? "ffmpeg:location (boxes "
                                                                    "too large to read)"
                     : "tag:location";
    loc_from_iso(out, from, t->value, strlen(t->value));
    return true;
}

static json_t *stored_json(const ev_tc_loc *l)
{
    /* no numbers: the record's JSON rendering would round them; the
     * strings (source, output) are exact */
    json_t *o = json_pack("{s:s, s:s}", "from", l->from, "format", l->format);
    if (o && l->has_num && l->precision > 0)
        json_object_set_new(o, "precision_deg", json_real(l->precision));
    return o;
}

/* Two stored positions hold the same value (to 1e-12 degree and 1e-9 m:
 * far below any stored precision; decimal and binary forms of one value
 * differ only by the parse's rounding). */
static bool same_position(const ev_tc_loc *a, const ev_tc_loc *b)
{
    return a->has_num && b->has_num && fabs(a->lat - b->lat) < 1e-12 &&
           fabs(a->lon - b->lon) < 1e-12 && a->has_alt == b->has_alt &&
           (!a->has_alt || fabs(a->alt - b->alt) < 1e-9);
}

json_t *ev_transcode__location_report(const ev_tc_loc *a, const ev_tc_loc *b, json_t *problems,
                                      bool strict)
{
    const char *status;
    if (!a && !b)
        status = "absent";
    else if (!b)
        status = "dropped";
    else if (!a)
        status = "added";
    else if ((strcmp(a->format, b->format) == 0 && strcmp(a->raw, b->raw) == 0) ||
             same_position(a, b))
        status = "kept";
    else if (a->has_num && b->has_num && b->precision > a->precision &&
             fabs(a->lat - b->lat) <= b->precision + 1e-12 &&
             fabs(a->lon - b->lon) <= b->precision + 1e-12) /* FFmpeg's loci writer truncates */
        status = "rounded";
    else
        status = "changed";
    json_t *o = json_pack("{s:o, s:o, s:s}", "source", a ? json_string(a->raw) : json_null(),
                          "output", b ? json_string(b->raw) : json_null(), "status", status);
    if (!o)
        return NULL;
    if (a)
        json_object_set_new(o, "source_stored", stored_json(a));
    if (b)
        json_object_set_new(o, "output_stored", stored_json(b));
    if (strcmp(status, "rounded") == 0)
        json_object_set_new(o, "precision_deg", json_real(b->precision));
    if (strict && a && b && (strcmp(status, "changed") == 0 || strcmp(status, "rounded") == 0)) {
        char m[400];
        snprintf(m, sizeof(m), "location (GPS) %s: source '%.80s' (%s), copy '%.80s' (%s)",
                 status, a->raw, a->from, b ? b->raw : "", b ? b->from : "none");
        json_array_append_new(problems, json_string(m));
    }
    return o;
}
