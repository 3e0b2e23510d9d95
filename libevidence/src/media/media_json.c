/*
 * media_json: the JSON setters of the media module (strings made valid
 * UTF-8 and cut to size, numbers that are finite). Calls nothing else in
 * media/.
 */
#include "media/media_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/avutil.h>
#include <libavutil/rational.h>

#include "base/internal.h"
#include "media/media_io.h" /* EV_MEDIA_MAX_TAG_LEN */


double ev_media__round_us(double v)
{
    if (!isfinite(v))
        return 0.0;
    return round(v * 1e6) / 1e6;
}

/* Length of the valid UTF-8 sequence at p (max n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

json_t *ev_media__jstr(const char *s, size_t max)
{
    if (!s)
        s = "";
    size_t n = strnlen(s, max);
    ev_buf b = { 0 };
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t l = utf8_seq(p + i, n - i);
        if (l == 0) {
            if (i + 1 >= n && n == max)
                break; /* a sequence cut by the limit */
            if (ev_buf__append(&b, "\xEF\xBF\xBD", 3)) {
                ev_buf__free(&b);
                return NULL;
            }
            i++;
            continue;
        }
        if (p[i] == 0)
            break;
        if (ev_buf__append(&b, p + i, l)) {
            ev_buf__free(&b);
            return NULL;
        }
        i += l;
    }
    json_t *j = json_stringn(b.data ? b.data : "", b.len);
    ev_buf__free(&b);
    return j;
}

int ev_media__set_str(json_t *obj, const char *key, const char *s)
{
    if (!s || !*s)
        return 0;
    json_t *v = ev_media__jstr(s, EV_MEDIA_MAX_TAG_LEN);
    return (v && json_object_set_new(obj, key, v) == 0) ? 0 : -1;
}

int ev_media__set_int(json_t *obj, const char *key, int64_t v)
{
    return json_object_set_new(obj, key, json_integer(v)) == 0 ? 0 : -1;
}

int ev_media__set_real(json_t *obj, const char *key, double v)
{
    if (!isfinite(v))
        return 0;
    return json_object_set_new(obj, key, json_real(v)) == 0 ? 0 : -1;
}

int ev_media__set_rational(json_t *obj, const char *key, AVRational r)
{
    char buf[48];
    snprintf(buf, sizeof(buf), "%d/%d", r.num, r.den);
    return ev_media__set_str(obj, key, buf);
}

int ev_media__set_seconds(json_t *obj, const char *key, int64_t ts, AVRational tb)
{
    if (ts == AV_NOPTS_VALUE || tb.den == 0)
        return 0;
    return ev_media__set_real(obj, key, ev_media__round_us((double)ts * av_q2d(tb)));
}
