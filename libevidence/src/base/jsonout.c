/*
 * jsonout: JSON text of a jansson value, byte for byte what json_dumps()
 * of jansson 2.14 writes with the same flags (JSON_COMPACT, JSON_INDENT(n),
 * JSON_REAL_PRECISION(n); members in their order), appended to an ev_buf
 * (which may stream). jansson's own dump calls its output function for
 * every piece and steps through strings one code point at a time, which
 * made it the largest cost of the views; this copies each run of bytes
 * that needs no escape at once. Values from jansson are valid UTF-8
 * (json_string checks), so bytes of 0x80 and above pass as they are, as
 * jansson writes them without JSON_ENSURE_ASCII. tests/unit/test_base.c
 * compares the two on hostile values.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "base/internal.h"

static int put_string(ev_buf *b, const char *s, size_t n)
{
    int rc = ev_buf__append(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; rc == EV_OK && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (i > run)
            rc = ev_buf__append(b, s + run, i - run);
        char seq[8];
        const char *t = seq;
        size_t tl = 2;
        switch (c) {
        case '\\': t = "\\\\"; break;
        case '"': t = "\\\""; break;
        case '\b': t = "\\b"; break;
        case '\f': t = "\\f"; break;
        case '\n': t = "\\n"; break;
        case '\r': t = "\\r"; break;
        case '\t': t = "\\t"; break;
        default:
            snprintf(seq, sizeof(seq), "\\u%04X", (unsigned int)c);
            tl = 6;
            break;
        }
        if (rc == EV_OK)
            rc = ev_buf__append(b, t, tl);
        run = i + 1;
    }
    if (rc == EV_OK && n > run)
        rc = ev_buf__append(b, s + run, n - run);
    return rc == EV_OK ? ev_buf__append(b, "\"", 1) : rc;
}

/* jansson's jsonp_dtostr */
static int put_real(ev_buf *b, double v, int precision)
{
    char buf[100];
    int n = snprintf(buf, sizeof(buf), "%.*g", precision ? precision : 17, v);
    if (n < 0 || (size_t)n >= sizeof(buf) - 3)
        return EV_EINVAL;
    size_t len = (size_t)n;
    if (!strchr(buf, '.') && !strchr(buf, 'e')) {
        buf[len++] = '.';
        buf[len++] = '0';
        buf[len] = '\0';
    }
    char *start = strchr(buf, 'e');
    if (start) {
        start++;
        char *end = start + 1;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, len - (size_t)(end - buf) + 1);
            len -= (size_t)(end - start);
        }
    }
    return ev_buf__append(b, buf, len);
}

static int put_indent(ev_buf *b, size_t flags, size_t depth, bool space)
{
    size_t ind = (flags & 0x1F);
    if (ind > 0) {
        int rc = ev_buf__append(b, "\n", 1);
        for (size_t k = 0; rc == EV_OK && k < depth * ind; k += 32)
            rc = ev_buf__append(b, "                                ",
                                depth * ind - k < 32 ? depth * ind - k : 32);
        return rc;
    }
    if (space && !(flags & JSON_COMPACT))
        return ev_buf__append(b, " ", 1);
    return EV_OK;
}

static int put_value(ev_buf *b, const json_t *j, size_t flags, size_t depth)
{
    char num[32];
    int rc = EV_OK;
    switch (json_typeof(j)) {
    case JSON_NULL:
        return ev_buf__append(b, "null", 4);
    case JSON_TRUE:
        return ev_buf__append(b, "true", 4);
    case JSON_FALSE:
        return ev_buf__append(b, "false", 5);
    case JSON_INTEGER: {
        int n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        return ev_buf__append(b, num, (size_t)n);
    }
    case JSON_REAL:
        return put_real(b, json_real_value(j), (int)((flags >> 11) & 0x1F));
    case JSON_STRING:
        return put_string(b, json_string_value(j), json_string_length(j));
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        rc = ev_buf__append(b, "[", 1);
        if (rc == EV_OK && n == 0)
            return ev_buf__append(b, "]", 1);
        if (rc == EV_OK)
            rc = put_indent(b, flags, depth + 1, false);
        for (size_t i = 0; rc == EV_OK && i < n; i++) {
            rc = put_value(b, json_array_get(j, i), flags, depth + 1);
            if (rc == EV_OK && i + 1 < n) {
                rc = ev_buf__append(b, ",", 1);
                if (rc == EV_OK)
                    rc = put_indent(b, flags, depth + 1, true);
            } else if (rc == EV_OK) {
                rc = put_indent(b, flags, depth, false);
            }
        }
        return rc == EV_OK ? ev_buf__append(b, "]", 1) : rc;
    }
    case JSON_OBJECT: {
        const char *sep = flags & JSON_COMPACT ? ":" : ": ";
        size_t sl = flags & JSON_COMPACT ? 1 : 2;
        void *it = json_object_iter((json_t *)j);
        rc = ev_buf__append(b, "{", 1);
        if (rc == EV_OK && !it)
            return ev_buf__append(b, "}", 1);
        if (rc == EV_OK)
            rc = put_indent(b, flags, depth + 1, false);
        while (rc == EV_OK && it) {
            rc = put_string(b, json_object_iter_key(it), json_object_iter_key_len(it));
            if (rc == EV_OK)
                rc = ev_buf__append(b, sep, sl);
            if (rc == EV_OK)
                rc = put_value(b, json_object_iter_value(it), flags, depth + 1);
            it = json_object_iter_next((json_t *)j, it);
            if (rc == EV_OK && it) {
                rc = ev_buf__append(b, ",", 1);
                if (rc == EV_OK)
                    rc = put_indent(b, flags, depth + 1, true);
            } else if (rc == EV_OK) {
                rc = put_indent(b, flags, depth, false);
            }
        }
        return rc == EV_OK ? ev_buf__append(b, "}", 1) : rc;
    }
    }
    return EV_EINVAL;
}

int ev__json_write(ev_buf *b, const json_t *j, size_t flags)
{
    return ev__json_write_at(b, j, flags, 0);
}

int ev__json_write_at(ev_buf *b, const json_t *j, size_t flags, size_t depth)
{
    /* what this writer does not do: jansson's own dump then */
    if (!j || (flags & (JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH | JSON_EMBED)))
        return EV_EINVAL;
    if (!(flags & JSON_ENCODE_ANY) && !json_is_object(j) && !json_is_array(j))
        return EV_EINVAL;
    return put_value(b, j, flags, depth);
}
