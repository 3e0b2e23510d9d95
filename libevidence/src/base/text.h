/*
 * base (text): building the text renderings of results, the *_text
 * functions of the public API (docs/api/results.md: JSON is the machine
 * interface, the text is for people). Not part of the API.
 */
#ifndef EV_BASE_TEXT_H
#define EV_BASE_TEXT_H

#include "base/internal.h"

/* A text being built line by line. The first failure sticks: later
 * additions do nothing and ev__text_take() gives NULL. Zero-initialise. */
typedef struct ev_text {
    ev_buf b;
    int rc;
} ev_text;

/* Append printf-formatted text. */
void ev__text_add(ev_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append a JSON value as jansson writes it with `flags` (JSON_ENCODE_ANY
 * is added), its reals first rounded as by ev__text_real(v, digits);
 * "null" for NULL. */
void ev__text_json(ev_text *t, const json_t *v, size_t flags, int digits);

/* The text, NUL-terminated ("" when nothing was added), to free(); NULL
 * after a failure. t is emptied either way. */
char *ev__text_take(ev_text *t);

/* v as it reads back from a JSON document that writes reals with `digits`
 * significant digits (JSON_REAL_PRECISION): the text shows the values the
 * document carries, not more precise ones. */
double ev__text_real(double v, int digits);

/* Number and string members of an object, for renderers: the number
 * rounded as by ev__text_real (0 when absent), the string or NULL. */
double ev__text_num(const json_t *o, const char *key, int digits);
const char *ev__text_str(const json_t *o, const char *key);

#endif
