/*
 * Internal helpers shared by the library modules. Not part of the API.
 * Symbols shared between files are named ev_<module>__<name>.
 */
#ifndef EV_INTERNAL_H
#define EV_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "evidence/common.h"

#define EV_ERRMSG_SIZE 1024

/* Per-handle error message buffer. */
typedef struct ev_errbuf {
    char msg[EV_ERRMSG_SIZE];
} ev_errbuf;

/* Format a message into the buffer and return status (for `return ev_fail(...)`). */
int ev_err__set(ev_errbuf *e, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ev_err__vset(ev_errbuf *e, int status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Copy the buffer's message into another buffer (keeps the status). */
int ev_err__copy(ev_errbuf *dst, const ev_errbuf *src, int status);
/* Map errno to an ev_status. */
int ev_err__from_errno(int err);

/* Allocation helpers: NULL-safe, overflow-checked. */
void *ev__calloc(size_t n, size_t size);
void *ev__reallocarray(void *p, size_t n, size_t size);
/* Room for one more element in an array p of *cap elements, n in use:
 * returns p itself when there is room, else p grown (capacity doubled, or
 * first when empty, *cap updated), or NULL on failure (p still valid). */
void *ev__grow(void *p, size_t *cap, size_t n, size_t size, size_t first);
char *ev__strdup(const char *s);      /* NULL -> NULL */
char *ev__strndup(const char *s, size_t n);
char *ev__asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable byte buffer. With flush set it is a stream: once it holds
 * EV_BUF_FLUSH_AT bytes they are handed to flush and it starts again
 * empty, so it never holds the whole text (only append to such a buffer;
 * ev_buf__flush hands over the rest at the end). A failed flush's code is
 * kept and returned by every later append. */
#define EV_BUF_FLUSH_AT (256u * 1024u)
typedef struct ev_buf {
    char *data;
    size_t len;
    size_t cap;
    int (*flush)(void *ctx, const char *data, size_t len);
    void *flush_ctx;
    int flush_rc;
} ev_buf;
int ev_buf__append(ev_buf *b, const void *data, size_t len);
int ev_buf__flush(ev_buf *b);
int ev_buf__puts(ev_buf *b, const char *s);
int ev_buf__printf(ev_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ev_buf__free(ev_buf *b);

/* RFC 3339 UTC time ("2024-05-01T10:20:30Z") of a Unix time; buf >= 32. */
void ev__time_rfc3339(char *buf, size_t len, int64_t t);
/* Same with nanoseconds where non-zero ("...:30.123456789Z"). */
void ev__time_rfc3339_ns(char *buf, size_t len, int64_t sec, long nsec);
/* "urn:uuid:" + 36 characters (either case) -> its 16 bytes; false when
 * s is not one. */
bool ev__uuid_parse(unsigned char out[16], const char *s);
/* 16 bytes -> "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lower case. */
void ev__uuid_format(char out[37], const unsigned char u[16]);
/* Lower-case hex of raw[0..len) into out (2 * len + 1 bytes, NUL-terminated):
 * the one hex encoder (hashes, UUIDs). */
void ev__hex_encode(char *out, const unsigned char *raw, size_t len);
/* A random urn:uuid: (version 4). buf >= 46. Returns 0 or -1. */
int ev__uuid_urn(char *buf, size_t len);

/* A JSON string of s; invalid UTF-8 bytes are written as \xNN text.
 * NULL -> JSON null. Never returns NULL except on ENOMEM. */
json_t *ev__json_str(const char *s);
/* Append the JSON text of j: byte for byte json_dumps(j, flags) of jansson
 * 2.14, for JSON_COMPACT, JSON_INDENT(n), JSON_REAL_PRECISION(n) and
 * JSON_ENCODE_ANY (members in their order), several times faster
 * (base/jsonout.c). EV_EINVAL for other flags. */
int ev__json_write(ev_buf *b, const json_t *j, size_t flags);
/* The same as a value nested depth levels deep (with JSON_INDENT(n), every
 * line after the first moved depth * n spaces in). */
int ev__json_write_at(ev_buf *b, const json_t *j, size_t flags, size_t depth);
/* true when s is valid UTF-8 */
bool ev__utf8_valid(const char *s, size_t len);
/* Length in bytes (1 to 4) of the valid UTF-8 character at s (at most avail
 * bytes read), or 0 when the bytes there are not one (libunistring's
 * u8_mblen rules, those of ev__utf8_valid); a NUL byte is 1. */
size_t ev__utf8_char_len(const char *s, size_t avail);

/* A set of strings (copied). */
/* Strings copied into blocks of 64 KiB and freed all at once: for the
 * millions of short strings of a big bundle (one malloc each costs 16
 * bytes and more apiece). A zeroed ev_strpool is empty. */
typedef struct ev_strpool_block ev_strpool_block;
typedef struct ev_strpool {
    ev_strpool_block *head;
    size_t used;
} ev_strpool;
/* A copy of s in the pool; NULL for NULL, or when out of memory. */
const char *ev_strpool__keep(ev_strpool *p, const char *s);
/* A copy of the n bytes at s, with a NUL after them. */
const char *ev_strpool__keepn(ev_strpool *p, const char *s, size_t n);
void ev_strpool__free(ev_strpool *p);

/* A set of strings (open addressing); the keys are kept in a pool, not
 * allocated one by one (the views of a million items hold two million).
 * A zeroed ev_strset is empty. */
typedef struct ev_strset {
    const char **keys;
    size_t n, cap;
    ev_strpool pool;
} ev_strset;
int ev_strset__add(ev_strset *set, const char *s, bool *existed);
bool ev_strset__has(const ev_strset *set, const char *s);
void ev_strset__free(ev_strset *set);

/* The body of every ev_*_options_init: size is the size of the options
 * struct of that version (0 for a version this build does not know); the
 * struct's first member is its unsigned int version. EV_OK, EV_EINVAL or
 * EV_EVERSION. */
int ev__options_init(void *opts, size_t size, unsigned int version);

/* {"libevidence": ..., "libavformat": ...}: versions of the libraries in use. */
int ev_common__versions(json_t **out);

#endif
