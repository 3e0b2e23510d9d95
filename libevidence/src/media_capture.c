/*
 * media_capture: capture facts (when, where, which device) from container
 * tags: QuickTime/MP4 user data (©xyz, 3GPP loci, ©mak/©mod) and the Apple
 * mdta keys (com.apple.quicktime.*), as exported by libavformat; plus the
 * ISO 6709 location parser.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libavformat/avformat.h>

#include "media_int.h"

/* ------------------------------------------------------------------------ */
/* ISO 6709                                                                  */
/* ------------------------------------------------------------------------ */

/* One signed component: ±D..D[.f] where the count of integer digits tells
 * the form (deg_digits = 2 for latitude, 3 for longitude, 0 for altitude):
 * D, DDMM or DDMMSS. Returns the number of characters consumed, 0 on error. */
static size_t iso_component(const char *s, int deg_digits, double *out)
{
    if (*s != '+' && *s != '-')
        return 0;
    double sign = *s == '-' ? -1.0 : 1.0;
    size_t i = 1, intd = 0;
    while (isdigit((unsigned char)s[i]) && intd < 16) {
        i++;
        intd++;
    }
    if (intd == 0 || isdigit((unsigned char)s[i]))
        return 0;
    size_t frac_start = i, fracd = 0;
    if (s[i] == '.') {
        i++;
        frac_start = i;
        while (isdigit((unsigned char)s[i]) && fracd < 16) {
            i++;
            fracd++;
        }
        if (isdigit((unsigned char)s[i]))
            return 0;
    }
    char ibuf[20], fbuf[20];
    memcpy(ibuf, s + 1, intd);
    ibuf[intd] = '\0';
    memcpy(fbuf, s + frac_start, fracd);
    fbuf[fracd] = '\0';
    double frac = fracd ? strtod(fbuf, NULL) / pow(10.0, (double)fracd) : 0.0;
    double v;
    if (deg_digits == 0 || intd == (size_t)deg_digits) {
        v = strtod(ibuf, NULL) + frac;
    } else if (intd == (size_t)deg_digits + 2) {
        double mm = strtod(ibuf + deg_digits, NULL);
        ibuf[deg_digits] = '\0';
        if (mm >= 60.0)
            return 0;
        v = strtod(ibuf, NULL) + (mm + frac) / 60.0;
    } else if (intd == (size_t)deg_digits + 4) {
        double ss = strtod(ibuf + deg_digits + 2, NULL);
        ibuf[deg_digits + 2] = '\0';
        double mm = strtod(ibuf + deg_digits, NULL);
        ibuf[deg_digits] = '\0';
        if (mm >= 60.0 || ss >= 60.0)
            return 0;
        v = strtod(ibuf, NULL) + mm / 60.0 + (ss + frac) / 3600.0;
    } else {
        return 0;
    }
    *out = sign * v;
    return i;
}

bool ev_media__iso6709(const char *s, double *lat, double *lon, double *alt, bool *has_alt)
{
    *has_alt = false;
    if (!s)
        return false;
    while (*s == ' ')
        s++;
    size_t n = iso_component(s, 2, lat);
    if (!n)
        return false;
    s += n;
    n = iso_component(s, 3, lon);
    if (!n)
        return false;
    s += n;
    if (*s == '+' || *s == '-') {
        n = iso_component(s, 0, alt);
        if (!n)
            return false;
        s += n;
        *has_alt = true;
    }
    /* optional CRS, then the terminating '/' (often missing in the wild) */
    if (*s && *s != '/' && strncmp(s, "CRS", 3) != 0)
        return false;
    return fabs(*lat) <= 90.0 && fabs(*lon) <= 180.0;
}

/* ------------------------------------------------------------------------ */
/* Date/time normalisation                                                   */
/* ------------------------------------------------------------------------ */

/* Accepts "YYYY-MM-DD[T ]HH:MM:SS[.f][Z|±HH[:]MM]". Writes the RFC 3339 form
 * (zero fractions dropped) to out and the offset ("+01:00", "Z") to off.
 * Returns 2 with a zone, 1 without (local time; out then has no zone), 0 if
 * malformed. */
static int norm_datetime(const char *s, char *out, size_t outlen, char off[8])
{
    off[0] = '\0';
    if (strlen(s) < 19)
        return 0;
    for (int i = 0; i < 19; i++) {
        char c = s[i];
        bool ok;
        switch (i) {
        case 4:
        case 7:
            ok = c == '-' || c == ':';
            break;
        case 10:
            ok = c == 'T' || c == ' ';
            break;
        case 13:
        case 16:
            ok = c == ':';
            break;
        default:
            ok = isdigit((unsigned char)c);
        }
        if (!ok)
            return 0;
    }
    const char *p = s + 19;
    char frac[16] = "";
    if (*p == '.') {
        size_t k = 0;
        p++;
        while (isdigit((unsigned char)*p)) {
            if (k < 9)
                frac[k++] = *p;
            p++;
        }
        frac[k] = '\0';
        while (k > 0 && frac[k - 1] == '0')
            frac[--k] = '\0';
    }
    int zone = 1;
    if (*p == 'Z' || *p == 'z') {
        snprintf(off, 8, "Z");
        zone = 2;
    } else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
               isdigit((unsigned char)p[2])) {
        const char *m = p[3] == ':' ? p + 4 : p + 3;
        if (!isdigit((unsigned char)m[0]) || !isdigit((unsigned char)m[1]))
            return 0;
        snprintf(off, 8, "%c%c%c:%c%c", p[0], p[1], p[2], m[0], m[1]);
        zone = 2;
    } else if (*p) {
        return 0;
    }
    snprintf(out, outlen, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s%s%s%s", s, s + 5, s + 8, s + 11,
             s + 14, s + 17, frac[0] ? "." : "", frac, zone == 2 ? off : "");
    return zone;
}

/* ------------------------------------------------------------------------ */
/* Tags                                                                      */
/* ------------------------------------------------------------------------ */

static const char *tag(const AVDictionary *d, const char *key)
{
    const AVDictionaryEntry *e = av_dict_get(d, key, NULL, 0); /* case-insensitive */
    return e && e->value && e->value[0] ? e->value : NULL;
}

/* First value of a key anywhere: container, then streams. */
static const char *find_tag(const AVFormatContext *fmt, const char *key)
{
    const char *v = tag(fmt->metadata, key);
    for (unsigned int i = 0; !v && i < fmt->nb_streams && i < EV_MEDIA_MAX_STREAMS; i++)
        v = tag(fmt->streams[i]->metadata, key);
    return v;
}

static bool is_quicktime(const AVFormatContext *fmt)
{
    return strstr(fmt->iformat->name, "mov") != NULL;
}

int ev_media__capture_from_tags(json_t **capture, const ev_media__src *s)
{
    *capture = NULL;
    const AVFormatContext *fmt = s->fmt;
    if (!fmt)
        return 0;
    json_t *cap = json_object();
    if (!cap)
        return -1;
    const char *v;
    char buf[96], off[8];

    /* When: Apple's local time with offset first, then the UTC creation time. */
    if ((v = find_tag(fmt, "com.apple.quicktime.creationdate"))) {
        int z = norm_datetime(v, buf, sizeof(buf), off);
        if (z == 2) {
            char local[96];
            snprintf(local, sizeof(local), "%.19s", buf);
            const char *frac = strchr(buf + 19, '.');
            if (frac) {
                size_t fl = strcspn(frac, "Z+-");
                snprintf(local + 19, sizeof(local) - 19, "%.*s", (int)fl, frac);
            }
            if (ev_media__set_str(cap, "datetime_original", buf) ||
                ev_media__set_str(cap, "datetime_original_local", local) ||
                ev_media__set_str(cap, "datetime_original_utc_offset", off) ||
                ev_media__set_str(cap, "datetime_source", "com.apple.quicktime.creationdate"))
                goto nomem;
        } else if (z == 1) {
            if (ev_media__set_str(cap, "datetime_original_local", buf) ||
                ev_media__set_str(cap, "datetime_source", "com.apple.quicktime.creationdate"))
                goto nomem;
        }
    }
    if (!json_object_get(cap, "datetime_original") &&
        !json_object_get(cap, "datetime_original_local") &&
        (v = find_tag(fmt, "creation_time"))) {
        int z = norm_datetime(v, buf, sizeof(buf), off);
        /* libavformat reports QuickTime/MP4/Matroska creation times in UTC */
        if (z >= 1) {
            if (z == 1)
                snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "Z");
            if (ev_media__set_str(cap, "datetime_original", buf) ||
                ev_media__set_str(cap, "datetime_original_utc_offset", z == 2 ? off : "Z") ||
                ev_media__set_str(cap, "datetime_source", "creation_time"))
                goto nomem;
        }
    }

    /* Which device. */
    static const char *const make_keys[] = { "com.apple.quicktime.make", "make", NULL };
    static const char *const model_keys[] = { "com.apple.quicktime.model", "model", NULL };
    static const char *const sw_keys[] = { "com.apple.quicktime.software", "software", NULL };
    for (int i = 0; make_keys[i]; i++)
        if ((v = find_tag(fmt, make_keys[i]))) {
            if (ev_media__set_str(cap, "make", v))
                goto nomem;
            break;
        }
    for (int i = 0; model_keys[i]; i++)
        if ((v = find_tag(fmt, model_keys[i]))) {
            if (ev_media__set_str(cap, "model", v))
                goto nomem;
            break;
        }
    for (int i = 0; sw_keys[i]; i++)
        if ((v = find_tag(fmt, sw_keys[i]))) {
            if (ev_media__set_str(cap, "software", v))
                goto nomem;
            break;
        }
    {
        const AVDictionaryEntry *e = NULL;
        int n = 0;
        while ((e = av_dict_get(fmt->metadata, "", e, AV_DICT_IGNORE_SUFFIX)) && n++ < 256) {
            if (strcasestr(e->key, "serial") && e->value && e->value[0]) {
                if (ev_media__set_str(cap, "serial", e->value))
                    goto nomem;
                break;
            }
        }
    }

    /* Where: ISO 6709 strings. */
    static const char *const loc_keys[] = { "com.apple.quicktime.location.ISO6709", "location",
                                            "location-eng", NULL };
    for (int i = 0; loc_keys[i]; i++) {
        if (!(v = find_tag(fmt, loc_keys[i])))
            continue;
        double lat, lon, alt;
        bool has_alt;
        json_t *gps = json_object(), *raw = json_object();
        if (!gps || !raw || json_object_set_new(gps, "raw", raw)) {
            json_decref(gps);
            json_decref(raw);
            goto nomem;
        }
        if (json_object_set_new(cap, "gps", gps) || ev_media__set_str(raw, "iso6709", v) ||
            ev_media__set_str(raw, "key", loc_keys[i]))
            goto nomem;
        if (ev_media__iso6709(v, &lat, &lon, &alt, &has_alt)) {
            if (ev_media__set_real(gps, "latitude", lat) ||
                ev_media__set_real(gps, "longitude", lon) ||
                (has_alt && ev_media__set_real(gps, "altitude", alt)))
                goto nomem;
        } else {
            json_t *w = json_array();
            if (!w || json_object_set_new(cap, "warnings", w) ||
                json_array_append_new(w, json_string("location tag is not valid ISO 6709; "
                                                     "raw value kept")))
                goto nomem;
        }
        break;
    }
    if (json_object_size(cap) == 0) {
        json_decref(cap);
        return 0;
    }
    if (ev_media__set_str(cap, "source", is_quicktime(fmt) ? "quicktime" : "container-tags"))
        goto nomem;
    *capture = cap;
    return 0;
nomem:
    json_decref(cap);
    return -1;
}
