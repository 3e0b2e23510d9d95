/*
 * media_capture: capture facts (when, where, which device) of video and
 * audio containers. The values are taken from the file's own structures
 * (media_boxes.c: QuickTime mvhd/udta/mdta keys, RIFF IDIT/INFO/bext,
 * Matroska DateUTC) where libavformat's rendering loses precision or the
 * source; libavformat's tags fill in, labelled as such. Every fact names its
 * source in capture.sources and every date its zone basis (docs/media.md,
 * "Container sources"). Also the ISO 6709 location parser.
 */
#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libavformat/avformat.h>

#include "media/media_int.h"

/* ------------------------------------------------------------------------ */
/* ISO 6709                                                                  */
/* ------------------------------------------------------------------------ */

/* One signed component: ±D..D[.f] where the count of integer digits tells
 * the form (deg_digits = 2 for latitude, 3 for longitude, 0 for altitude):
 * D, DDMM or DDMMSS. Returns the number of characters consumed, 0 on error. */
static size_t iso_component(const char *s, int deg_digits, double *out, double *step)
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
    double v, unit = pow(10.0, -(double)fracd);
    if (deg_digits == 0 || intd == (size_t)deg_digits) {
        /* one strtod of the digits as written: the nearest double */
        char whole[40];
        snprintf(whole, sizeof(whole), "%s.%s", ibuf, fbuf);
        v = strtod(whole, NULL);
        *step = unit;
    } else if (intd == (size_t)deg_digits + 2) {
        double mm = strtod(ibuf + deg_digits, NULL);
        ibuf[deg_digits] = '\0';
        if (mm >= 60.0)
            return 0;
        v = strtod(ibuf, NULL) + (mm + frac) / 60.0;
        *step = unit / 60.0;
    } else if (intd == (size_t)deg_digits + 4) {
        double ss = strtod(ibuf + deg_digits + 2, NULL);
        ibuf[deg_digits + 2] = '\0';
        double mm = strtod(ibuf + deg_digits, NULL);
        ibuf[deg_digits] = '\0';
        if (mm >= 60.0 || ss >= 60.0)
            return 0;
        v = strtod(ibuf, NULL) + mm / 60.0 + (ss + frac) / 3600.0;
        *step = unit / 3600.0;
    } else {
        return 0;
    }
    *out = sign * v;
    return i;
}

/* The ISO 6709 parser, with the step of the stored latitude/longitude (the
 * coarser of the two, in degrees) and of the altitude (metres). */
static bool iso6709_steps(const char *s, double *lat, double *lon, double *alt, bool *has_alt,
                          double *step_deg, double *step_alt)
{
    double s1 = 0, s2 = 0;
    *has_alt = false;
    if (!s)
        return false;
    while (*s == ' ')
        s++;
    size_t n = iso_component(s, 2, lat, &s1);
    if (!n)
        return false;
    s += n;
    n = iso_component(s, 3, lon, &s2);
    if (!n)
        return false;
    *step_deg = s1 > s2 ? s1 : s2;
    s += n;
    if (*s == '+' || *s == '-') {
        n = iso_component(s, 0, alt, step_alt);
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

bool ev_media__iso6709(const char *s, double *lat, double *lon, double *alt, bool *has_alt)
{
    double sd, sa;
    return iso6709_steps(s, lat, lon, alt, has_alt, &sd, &sa);
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


/* Year..second of a normalised date are in range (month 1..12, day 1..31,
 * 23:59:60 at most). */
static bool date_in_range(const char *n)
{
    int y, mo, d, h, mi, se;
    if (sscanf(n, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6)
        return false;
    return y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && se <= 60;
}

/* The epoch zero of a format or of a clock never set: not a date. */
static bool date_placeholder(const char *n)
{
    return !strncmp(n, "0000-", 5) || !strncmp(n, "1904-01-01T00:00:00", 19) ||
           !strncmp(n, "1970-01-01T00:00:00", 19) || !strncmp(n, "2001-01-01T00:00:00", 19);
}

/* Proleptic Gregorian date of a count of days since 1970-01-01. */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DDTHH:MM:SS[.fffffffff]" (no zone) of Unix seconds + ns. */
static void unix_text(char *out, size_t len, int64_t secs, uint32_t ns)
{
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400, y;
    unsigned m, d;
    civil(days, &y, &m, &d);
    int n = snprintf(out, len, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", (long long)y, m, d,
                     (long long)(sod / 3600), (long long)(sod / 60 % 60), (long long)(sod % 60));
    if (ns && n > 0 && (size_t)n < len) {
        char f[16];
        snprintf(f, sizeof(f), "%09u", ns);
        for (size_t k = strlen(f); k > 0 && f[k - 1] == '0'; k--)
            f[k - 1] = '\0';
        snprintf(out + n, len - (size_t)n, ".%s", f);
    }
}

/* ------------------------------------------------------------------------ */
/* Tags and boxes                                                            */
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

static bool fmt_is(const AVFormatContext *fmt, const char *name)
{
    return strstr(fmt->iformat->name, name) != NULL;
}

typedef struct capctx {
    json_t *cap;
    const AVFormatContext *fmt;
    const ev_media__boxes *bx;
} capctx;

static int warn(capctx *c, const char *f, ...) __attribute__((format(printf, 2, 3)));
static int warn(capctx *c, const char *f, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof(buf), f, ap);
    va_end(ap);
    json_t *w = json_object_get(c->cap, "warnings");
    if (!w && (!(w = json_array()) || json_object_set_new(c->cap, "warnings", w)))
        return -1;
    json_t *s = ev_media__jstr(buf, sizeof(buf));
    return s && json_array_append_new(w, s) == 0 ? 0 : -1;
}

static int set_source(capctx *c, const char *field, const char *src)
{
    json_t *o = json_object_get(c->cap, "sources");
    if (!o && (!(o = json_object()) || json_object_set_new(c->cap, "sources", o)))
        return -1;
    return ev_media__set_str(o, field, src);
}

/* ------------------------------------------------------------------------ */
/* When                                                                      */
/* ------------------------------------------------------------------------ */

/* Offer one date. basis: "stated" for a text that may hold its own offset,
 * "utc-by-format" for a value the format defines as UTC. Returns 1 when it
 * was taken, 0 when not (a warning says why), -1 on ENOMEM. */
static int offer_date(capctx *c, const char *text, const char *basis, const char *source)
{
    char buf[96], off[8];
    int z = norm_datetime(text, buf, sizeof(buf), off);
    if (z == 0 || !date_in_range(buf))
        return warn(c, "%s: '%s' is not a date and time; not used", source, text) ? -1 : 0;
    if (date_placeholder(buf))
        return warn(c, "%s: '%s' is a placeholder (an epoch or zero date), not a date; "
                       "not used", source, text) ? -1 : 0;
    if (json_object_get(c->cap, "datetime_original_zone"))
        return 0; /* an earlier source won */
    char local[96];
    snprintf(local, sizeof(local), "%s", buf);
    if (z == 2)
        local[strlen(buf) - strlen(off)] = '\0';
    int e;
    if (z == 2)
        e = ev_media__set_str(c->cap, "datetime_original", buf) ||
            (strcmp(basis, "stated") == 0 &&
             ev_media__set_str(c->cap, "datetime_original_local", local)) ||
            ev_media__set_str(c->cap, "datetime_original_utc_offset", off) ||
            ev_media__set_str(c->cap, "datetime_original_zone", basis);
    else
        e = ev_media__set_str(c->cap, "datetime_original_local", local) ||
            ev_media__set_str(c->cap, "datetime_original_zone", "unknown");
    if (e || ev_media__set_str(c->cap, "datetime_source", source) ||
        set_source(c, "datetime_original", source))
        return -1;
    return 1;
}

/* RIFF IDIT: "Mon Sep 10 20:52:00 2012" (ctime, the common form) or
 * "2012:09:10 20:52:00"; no zone either way. */
static int offer_idit(capctx *c, const char *v)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char wd[4], mon[4], norm[64];
    int d, h, mi, se, y;
    const char *mp;
    int nf = sscanf(v, "%3s %3s %d %d:%d:%d %d", wd, mon, &d, &h, &mi, &se, &y);
    /* cameras write the names in either case ("MON MAR 11 ..." too) */
    if (nf == 7 && strlen(mon) == 3) {
        mon[0] = (char)toupper((unsigned char)mon[0]);
        mon[1] = (char)tolower((unsigned char)mon[1]);
        mon[2] = (char)tolower((unsigned char)mon[2]);
    }
    if (nf == 7 &&
        strlen(mon) == 3 && (mp = strstr(months, mon)) && (mp - months) % 3 == 0 &&
        y >= 0 && y <= 9999 && d >= 0 && d <= 99 && h >= 0 && h <= 99 && mi >= 0 &&
        mi <= 99 && se >= 0 && se <= 99) {
        snprintf(norm, sizeof(norm), "%04d-%02d-%02dT%02d:%02d:%02d", y,
                 (int)((mp - months) / 3 + 1), d, h, mi, se);
    } else {
        snprintf(norm, sizeof(norm), "%s", v);
        if (strlen(norm) >= 10 && norm[4] == '/' && norm[7] == '/')
            norm[4] = norm[7] = '-';
    }
    size_t n = strlen(norm);
    while (n > 0 && (norm[n - 1] == '\n' || norm[n - 1] == '\r' || norm[n - 1] == ' '))
        norm[--n] = '\0';
    char off[8], tmp[96];
    if (norm_datetime(norm, tmp, sizeof(tmp), off) != 1)
        return warn(c, "riff:IDIT: '%s' is not a date and time in a known form; not used", v)
                   ? -1 : 0;
    return offer_date(c, norm, "stated", "riff:IDIT");
}

static int capture_when(capctx *c)
{
    const AVFormatContext *fmt = c->fmt;
    const ev_media__boxes *bx = c->bx;
    const char *v;
    char buf[96];
    int r;
    bool qt = bx->kind == EV_MEDIA_BOXES_QUICKTIME, mkv = bx->kind == EV_MEDIA_BOXES_MATROSKA,
         riff = bx->kind == EV_MEDIA_BOXES_RIFF;

    /* 1. Apple's creation date: local time, usually with its offset */
    v = bx->mdta_have[EV_MEDIA_MDTA_CREATIONDATE] ? bx->mdta[EV_MEDIA_MDTA_CREATIONDATE]
                                                   : find_tag(fmt, "com.apple.quicktime.creationdate");
    if (v && (r = offer_date(c, v, "stated", "quicktime:mdta:com.apple.quicktime.creationdate")) < 0)
        return -1;
    /* 1b. QuickTime user data ©day (content creation date, text) */
    if (qt && bx->has_day && offer_date(c, bx->day, "stated", "quicktime:udta:\xC2\xA9" "day") < 0)
        return -1;
    /* 2. Matroska DATE_RECORDED tag (text, an offset only when written) */
    if (mkv && (v = find_tag(fmt, "DATE_RECORDED")) &&
        offer_date(c, v, "stated", "matroska:tag:DATE_RECORDED") < 0)
        return -1;
    /* 3. QuickTime mvhd creation_time, seconds since 1904 in UTC by the format */
    if (qt && bx->mvhd) {
        uint64_t t = bx->mvhd_created;
        if (t == 0) {
            if (warn(c, "quicktime:mvhd: creation_time is 0 (1904-01-01T00:00:00Z), a "
                        "placeholder, not a date; not used"))
                return -1;
        } else if (t < 2082844800u) {
            /* before 1970 when counted from 1904 as the format says; some
             * writers count from 1970: say both, state neither */
            char as1904[40], as1970[40];
            unix_text(as1904, sizeof(as1904), (int64_t)t - 2082844800, 0);
            unix_text(as1970, sizeof(as1970), (int64_t)t, 0);
            if (warn(c, "quicktime:mvhd: creation_time %llu is %sZ counted from 1904 as the "
                        "format defines, %sZ if the writer counted from 1970; not used",
                     (unsigned long long)t, as1904, as1970))
                return -1;
        } else if (t - 2082844800u > 253402300799u) {
            if (warn(c, "quicktime:mvhd: creation_time %llu is after the year 9999; not used",
                     (unsigned long long)t))
                return -1;
        } else {
            unix_text(buf, sizeof(buf), (int64_t)(t - 2082844800u), 0);
            snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "Z");
            if (offer_date(c, buf, "utc-by-format", "quicktime:mvhd") < 0)
                return -1;
        }
    }
    /* 4. Matroska DateUTC, nanoseconds since 2001-01-01 in UTC by the format */
    if (mkv && bx->has_dateutc) {
        int64_t ns = bx->dateutc_ns;
        int64_t secs = ns / 1000000000, rem = ns % 1000000000;
        if (rem < 0) {
            rem += 1000000000;
            secs--;
        }
        unix_text(buf, sizeof(buf), secs + 978307200, (uint32_t)rem);
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "Z");
        if (offer_date(c, buf, "utc-by-format", "matroska:DateUTC") < 0)
            return -1;
    }
    /* 5. RIFF: IDIT (camera local time), then INFO ICRD */
    if (riff && bx->has_idit && offer_idit(c, bx->idit) < 0)
        return -1;
    if (riff && bx->has_icrd) {
        char off[8];
        if (norm_datetime(bx->icrd, buf, sizeof(buf), off) == 0) {
            if (!json_object_get(c->cap, "datetime_original_zone") &&
                warn(c, "riff:INFO:ICRD: '%s' is not a date and time; not used", bx->icrd))
                return -1;
        } else if (offer_date(c, bx->icrd, "stated", "riff:INFO:ICRD") < 0) {
            return -1;
        }
    }
    /* 6. Broadcast WAVE bext: OriginationDate + OriginationTime, local time
     * without a zone (EBU Tech 3285 allows any separator) */
    if (riff && bx->has_bext && (bx->bext_date[0] || bx->bext_time[0])) {
        char t[32];
        snprintf(t, sizeof(t), "%.10s %.8s", bx->bext_date, bx->bext_time);
        static const int seps[] = { 4, 7, 13, 16 };
        for (size_t k = 0; k < sizeof(seps) / sizeof(seps[0]); k++)
            if (t[seps[k]] && strchr("-_:. /", t[seps[k]]))
                t[seps[k]] = k < 2 ? '-' : ':';
        if (strlen(t) != 19 || norm_datetime(t, buf, sizeof(buf), (char[8]){ 0 }) != 1) {
            if (warn(c, "riff:bext: OriginationDate '%s' OriginationTime '%s' are not a date "
                        "and time; not used", bx->bext_date, bx->bext_time))
                return -1;
        } else if (offer_date(c, t, "stated", "riff:bext") < 0) {
            return -1;
        }
    }
    /* 7. Nothing read from the file itself: libavformat's creation_time, whose
     * zone basis cannot be told from here (it writes Z on values it formats
     * itself) */
    if (!json_object_get(c->cap, "datetime_original_zone") &&
        !(bx->walked && (qt || mkv)) && !(riff && (bx->has_idit || bx->has_bext)) &&
        (v = find_tag(fmt, "creation_time"))) {
        char off[8];
        int z = norm_datetime(v, buf, sizeof(buf), off);
        if (z == 2)
            buf[strlen(buf) - strlen(off)] = '\0';
        if (z && warn(c, "libavformat:creation_time: '%s' is given without a zone: libavformat "
                         "renders times it formats itself with Z, whether or not the %s source "
                         "holds a zone",
                      v, fmt->iformat->name))
            return -1;
        if (offer_date(c, z ? buf : v, "stated", "libavformat:creation_time") < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Where                                                                     */
/* ------------------------------------------------------------------------ */

static json_t *new_gps(capctx *c, json_t **raw, const char *source)
{
    json_t *gps = json_object();
    *raw = json_object();
    if (!gps || !*raw || json_object_set_new(gps, "raw", *raw)) {
        json_decref(gps);
        json_decref(*raw);
        return NULL;
    }
    if (json_object_set_new(c->cap, "gps", gps) || set_source(c, "gps", source))
        return NULL;
    return gps;
}

/* An ISO 6709 string (Apple key, ©xyz, or libavformat's location tag). */
static int gps_iso6709(capctx *c, const char *v, const char *key, const char *source)
{
    json_t *raw, *gps = new_gps(c, &raw, source);
    if (!gps || ev_media__set_str(gps, "format", "iso6709") ||
        ev_media__set_str(raw, "iso6709", v) || ev_media__set_str(raw, "key", key))
        return -1;
    double lat, lon, alt, sd = 0, sa = 0;
    bool has_alt;
    if (!iso6709_steps(v, &lat, &lon, &alt, &has_alt, &sd, &sa))
        return warn(c, "%s: '%s' is not valid ISO 6709; raw value kept", source, v);
    if (lat == 0.0 && lon == 0.0)
        return json_object_set_new(gps, "placeholder", json_true()) ||
               warn(c, "%s: '%s' is the placeholder position 0,0; no position given", source, v);
    if (ev_media__set_real(gps, "latitude", lat) || ev_media__set_real(gps, "longitude", lon) ||
        ev_media__set_real(gps, "precision_deg", sd) ||
        (has_alt && (ev_media__set_real(gps, "altitude", alt) ||
                     ev_media__set_real(gps, "altitude_precision_m", sa))))
        return -1;
    return 0;
}

/* 3GPP loci: 16.16 fixed point, longitude/latitude in degrees, altitude in
 * metres; exact as stored. */
static int gps_loci(capctx *c)
{
    const ev_media__boxes *bx = c->bx;
    json_t *raw, *gps = new_gps(c, &raw, "quicktime:udta:loci");
    if (!gps || ev_media__set_str(gps, "format", "3gpp-loci-16.16") ||
        ev_media__set_int(raw, "loci_latitude", bx->loci_lat) ||
        ev_media__set_int(raw, "loci_longitude", bx->loci_lon) ||
        ev_media__set_int(raw, "loci_altitude", bx->loci_alt))
        return -1;
    double lat = bx->loci_lat / 65536.0, lon = bx->loci_lon / 65536.0;
    if (bx->loci_lat == 0 && bx->loci_lon == 0)
        return json_object_set_new(gps, "placeholder", json_true()) ||
               warn(c, "quicktime:udta:loci: the placeholder position 0,0; no position given");
    if (fabs(lat) > 90.0 || fabs(lon) > 180.0)
        return warn(c, "quicktime:udta:loci: latitude %.6f / longitude %.6f out of range; "
                       "raw values kept", lat, lon);
    if (ev_media__set_real(gps, "latitude", lat) || ev_media__set_real(gps, "longitude", lon) ||
        ev_media__set_real(gps, "altitude", bx->loci_alt / 65536.0) ||
        ev_media__set_real(gps, "precision_deg", 1.0 / 65536.0) ||
        ev_media__set_real(gps, "altitude_precision_m", 1.0 / 65536.0))
        return -1;
    return 0;
}

/* The other positions in the file: one that differs from the stated one by
 * more than the coarser precision of the two gets a warning naming it. */
static int gps_cross_check(capctx *c, int used)
{
    const ev_media__boxes *bx = c->bx;
    const json_t *g = json_object_get(c->cap, "gps");
    const json_t *jl = json_object_get(g, "latitude"), *jo = json_object_get(g, "longitude");
    if (!json_is_number(jl) || !json_is_number(jo))
        return 0;
    double lat0 = json_number_value(jl), lon0 = json_number_value(jo);
    double p0 = json_number_value(json_object_get(g, "precision_deg"));
    for (int k = used + 1; k < 3; k++) {
        double lat, lon, alt, p = 0, pa;
        bool ha;
        const char *name, *text = NULL;
        if (k == 1 && bx->has_xyz) {
            name = "quicktime:udta:\xC2\xA9xyz";
            text = bx->xyz;
            if (!iso6709_steps(text, &lat, &lon, &alt, &ha, &p, &pa))
                continue;
        } else if (k == 2 && bx->loci) {
            name = "quicktime:udta:loci";
            lat = bx->loci_lat / 65536.0;
            lon = bx->loci_lon / 65536.0;
            p = 1.0 / 65536.0;
        } else {
            continue;
        }
        if (lat == 0.0 && lon == 0.0)
            continue;
        double tol = (p > p0 ? p : p0) * (1.0 + 1e-9);
        if (fabs(lat - lat0) > tol || fabs(lon - lon0) > tol)
            if (warn(c, "%s holds another position (%.9g, %.9g) than the one given (%.9g, %.9g), "
                        "more than the precision of either apart", name, lat, lon, lat0, lon0))
                return -1;
    }
    return 0;
}

static int capture_where(capctx *c)
{
    const ev_media__boxes *bx = c->bx;
    const char *v;
    if (bx->mdta_have[EV_MEDIA_MDTA_ISO6709])
        return gps_iso6709(c, bx->mdta[EV_MEDIA_MDTA_ISO6709],
                           "com.apple.quicktime.location.ISO6709",
                           "quicktime:mdta:com.apple.quicktime.location.ISO6709") ||
               gps_cross_check(c, 0);
    if (bx->has_xyz)
        return gps_iso6709(c, bx->xyz, "\xC2\xA9xyz", "quicktime:udta:\xC2\xA9xyz") ||
               gps_cross_check(c, 1);
    if (bx->loci)
        return gps_loci(c);
    if ((v = find_tag(c->fmt, "com.apple.quicktime.location.ISO6709")))
        return gps_iso6709(c, v, "com.apple.quicktime.location.ISO6709",
                           "quicktime:mdta:com.apple.quicktime.location.ISO6709");
    static const char *const keys[] = { "location", "location-eng", NULL };
    for (int i = 0; keys[i]; i++) {
        if (!(v = find_tag(c->fmt, keys[i])))
            continue;
        /* not found in the file's own structures: libavformat's rendering,
         * which may be rounded (it prints 3GPP loci with 4 decimals) */
        if (warn(c, "gps from libavformat's '%s' tag: the stored value was not read from the "
                    "file and may have been rounded", keys[i]))
            return -1;
        return gps_iso6709(c, v, keys[i], "libavformat:location");
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Which device                                                              */
/* ------------------------------------------------------------------------ */

/* make/model: the Apple key, then the user-data item (libavformat decodes
 * its Mac or UTF-8 text faithfully), then any other container tag. */
static int device_field(capctx *c, const char *field, int mdta, bool has_udta, const char *udta)
{
    const ev_media__boxes *bx = c->bx;
    const char *v;
    char src[96];
    if (bx->mdta_have[mdta] && bx->mdta[mdta][0]) {
        snprintf(src, sizeof(src), "quicktime:mdta:com.apple.quicktime.%s", field);
        return ev_media__set_str(c->cap, field, bx->mdta[mdta]) || set_source(c, field, src);
    }
    snprintf(src, sizeof(src), "com.apple.quicktime.%s", field);
    if ((v = find_tag(c->fmt, src))) {
        snprintf(src, sizeof(src), "quicktime:mdta:com.apple.quicktime.%s", field);
        return ev_media__set_str(c->cap, field, v) || set_source(c, field, src);
    }
    if (!(v = find_tag(c->fmt, field)))
        return 0;
    if (bx->kind == EV_MEDIA_BOXES_QUICKTIME && has_udta)
        snprintf(src, sizeof(src), "quicktime:udta:%s", udta);
    else if (bx->kind == EV_MEDIA_BOXES_MATROSKA)
        snprintf(src, sizeof(src), "matroska:tag:%s", field);
    else
        snprintf(src, sizeof(src), "libavformat:%s", field);
    return ev_media__set_str(c->cap, field, v) || set_source(c, field, src);
}

static int capture_device(capctx *c)
{
    const ev_media__boxes *bx = c->bx;
    if (device_field(c, "make", EV_MEDIA_MDTA_MAKE, bx->has_mak, "\xC2\xA9mak") ||
        device_field(c, "model", EV_MEDIA_MDTA_MODEL, bx->has_mod, "\xC2\xA9mod"))
        return -1;
    /* software: the Apple key, QuickTime ©swr (libavformat merges it with
     * the iTunes ©too encoder tag, so it is read from the box), RIFF ISFT */
    const char *v = NULL, *src = NULL;
    if (bx->mdta_have[EV_MEDIA_MDTA_SOFTWARE] && bx->mdta[EV_MEDIA_MDTA_SOFTWARE][0]) {
        v = bx->mdta[EV_MEDIA_MDTA_SOFTWARE];
        src = "quicktime:mdta:com.apple.quicktime.software";
    } else if ((v = find_tag(c->fmt, "com.apple.quicktime.software"))) {
        src = "quicktime:mdta:com.apple.quicktime.software";
    } else if (bx->has_swr && bx->swr[0]) {
        v = bx->swr;
        src = "quicktime:udta:\xC2\xA9swr";
    } else if (bx->has_isft && bx->isft[0]) {
        v = bx->isft;
        src = "riff:INFO:ISFT";
    } else if (bx->kind != EV_MEDIA_BOXES_QUICKTIME && (v = find_tag(c->fmt, "software"))) {
        src = "libavformat:software";
    }
    if (v && (ev_media__set_str(c->cap, "software", v) || set_source(c, "software", src)))
        return -1;
    const AVDictionaryEntry *e = NULL;
    int n = 0;
    while ((e = av_dict_get(c->fmt->metadata, "", e, AV_DICT_IGNORE_SUFFIX)) && n++ < 256) {
        if (strcasestr(e->key, "serial") && e->value && e->value[0]) {
            char src2[160];
            snprintf(src2, sizeof(src2), "libavformat:%s", e->key);
            if (ev_media__set_str(c->cap, "serial", e->value) || set_source(c, "serial", src2))
                return -1;
            break;
        }
    }
    return 0;
}

int ev_media__capture_from_tags(json_t **capture, const ev_media__src *s)
{
    *capture = NULL;
    const AVFormatContext *fmt = s->fmt;
    if (!fmt)
        return 0;
    int kind = fmt_is(fmt, "mov")        ? EV_MEDIA_BOXES_QUICKTIME
               : fmt_is(fmt, "matroska") ? EV_MEDIA_BOXES_MATROSKA
               : (fmt_is(fmt, "avi") || fmt_is(fmt, "wav")) ? EV_MEDIA_BOXES_RIFF
                                                             : EV_MEDIA_BOXES_NONE;
    ev_media__boxes *bx = malloc(sizeof(*bx));
    capctx c = { json_object(), fmt, bx };
    if (!c.cap || !bx)
        goto nomem;
    ev_media__boxes_read(bx, s, kind);
    if (capture_when(&c) || capture_where(&c) || capture_device(&c))
        goto nomem;
    free(bx);
    if (json_object_size(c.cap) == 0) {
        json_decref(c.cap);
        return 0;
    }
    static const char *const primary[] = { "container-tags", "quicktime", "riff", "matroska" };
    if (ev_media__set_str(c.cap, "source", primary[kind]))
        goto nomem2;
    *capture = c.cap;
    return 0;
nomem:
    free(bx);
nomem2:
    json_decref(c.cap);
    return -1;
}
