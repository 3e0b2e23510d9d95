/*
 * Private to the media module: JSON helpers (media_json.c). The bottom
 * layer: media_json.c calls nothing else in media/.
 */
#ifndef EV_MEDIA_JSON_H
#define EV_MEDIA_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libavutil/rational.h>

/* JSON helpers: strings are made valid UTF-8 (bad bytes -> U+FFFD) and cut
 * at max bytes. Return NULL only on ENOMEM. */
json_t *ev_media__jstr(const char *s, size_t max);
/* Set a key to a string if s is non-NULL and non-empty. -1 on ENOMEM. */
int ev_media__set_str(json_t *obj, const char *key, const char *s);
int ev_media__set_int(json_t *obj, const char *key, int64_t v);
int ev_media__set_real(json_t *obj, const char *key, double v);
/* Round a number of seconds to microseconds (keeps JSON output short). */
double ev_media__round_us(double v);

/* A rational as "num/den". -1 on ENOMEM. */
int ev_media__set_rational(json_t *obj, const char *key, AVRational r);
/* A timestamp in seconds (rounded to microseconds); nothing when ts is
 * AV_NOPTS_VALUE or the time base is 0. -1 on ENOMEM. */
int ev_media__set_seconds(json_t *obj, const char *key, int64_t ts, AVRational tb);

#endif
