/*
 * base (text): a sticky text builder and the number rounding shared by the
 * renderers of results as text (media_text.c, inspect_text.c, ...).
 */
#include "base/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ev__text_add(ev_text *t, const char *fmt, ...)
{
    if (t->rc)
        return;
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->rc = EV_ENOMEM;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        t->rc = ev_buf__append(&t->b, small, (size_t)n);
        return;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        t->rc = EV_ENOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->rc = ev_buf__append(&t->b, s, (size_t)n);
    free(s);
}

double ev__text_real(double v, int digits)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.*g", digits, v);
    return strtod(buf, NULL);
}

/* a copy of v with every real rounded to `digits` */
static json_t *rounded(const json_t *v, int digits)
{
    if (json_is_real(v))
        return json_real(ev__text_real(json_real_value(v), digits));
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (!a || json_array_append_new(a, rounded(x, digits)) != 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            if (!o || json_object_set_new(o, k, rounded(x, digits)) != 0) {
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    return json_incref((json_t *)v);
}

void ev__text_json(ev_text *t, const json_t *v, size_t flags, int digits)
{
    if (t->rc)
        return;
    if (!v) {
        ev__text_add(t, "null");
        return;
    }
    json_t *c = rounded(v, digits);
    char *s = c ? json_dumps(c, flags | JSON_ENCODE_ANY) : NULL;
    json_decref(c);
    if (!s) {
        t->rc = EV_ENOMEM;
        return;
    }
    t->rc = ev_buf__puts(&t->b, s);
    free(s);
}

char *ev__text_take(ev_text *t)
{
    char *s = NULL;
    if (!t->rc)
        s = t->b.data ? t->b.data : ev__strdup("");
    else
        ev_buf__free(&t->b);
    t->b.data = NULL;
    t->b.len = t->b.cap = 0;
    t->rc = 0;
    return s;
}

double ev__text_num(const json_t *o, const char *key, int digits)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_real(v))
        return ev__text_real(json_real_value(v), digits);
    return json_number_value(v);
}

const char *ev__text_str(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}
