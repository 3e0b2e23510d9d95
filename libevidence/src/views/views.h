/*
 * views: case.jsonld (CASE/UCO 1.4 JSON-LD) and index.html (a human index),
 * the two views of the bundle record. Both are pure functions of the bytes
 * of evidence.json and custody.jsonl: the same inputs always give the same
 * bytes, and nothing else (no clock, no file system, no randomness) is read.
 * docs/views.md describes what they hold.
 *
 * Thread-safety: no shared state; calls may run in parallel.
 */
#ifndef EV_VIEWS_H
#define EV_VIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/internal.h"
#include "base/spill.h"
#include "container/container.h"

#define EV_VIEW_CASE "case.jsonld"
#define EV_VIEW_INDEX "index.html"

/* The record as the views read it, as untrusted input (any member may be
 * missing or of another type). Opened from its text, it is read one item
 * at a time: the head (everything but the items) is parsed, and each item
 * is parsed when asked for and dropped for the next, so memory does not
 * grow with the number of items. */
typedef struct ev_views__src ev_views__src;
typedef struct ev_views__rec {
    json_t *root;        /* the top-level object (opened from text: items is []) */
    const json_t *items; /* its items member when parsed whole and an array */
    size_t nitems;
    ev_views__src *src;  /* the text the items are read from, or NULL */
} ev_views__rec;

/* Reads len bytes at off; returns the bytes read (len unless at the end),
 * or -1. */
typedef int64_t (*ev_views__read_fn)(void *ctx, void *buf, size_t len, uint64_t off);

/* Open the record from its text of len bytes, read through read (which
 * must stay valid until ev_views__rec_free). EV_OK; EV_EFORMAT when the
 * text is not a JSON object whose items can be read one by one (nothing
 * to free; parse it whole for the message); EV_EIO, EV_ENOMEM (message
 * in err). */
int ev_views__rec_read(ev_views__rec *r, ev_views__read_fn read, void *ctx, uint64_t len,
                       ev_errbuf *err);
/* The same from text in memory (buf must outlive r); a text that is not
 * a JSON object gives EV_EFORMAT with jansson's message. */
int ev_views__rec_open(ev_views__rec *r, const char *buf, size_t len, ev_errbuf *err);
/* The record already parsed by the caller (a JSON object; borrowed, a
 * reference is taken until ev_views__rec_free). */
void ev_views__rec_from(ev_views__rec *r, const json_t *root);
void ev_views__rec_free(ev_views__rec *r);
/* A second reader of the text from reads (opened item by item:
 * from->src), for another thread: it borrows from's index of the items
 * (free r before from) and has its own copy of the head, its own buffer
 * and its own current item. The text itself is only read (read must be
 * safe to call from two threads, as pread is). EV_OK, EV_EINVAL (from was
 * not read item by item) or EV_ENOMEM. */
int ev_views__rec_share(ev_views__rec *r, const ev_views__rec *from);
/* An item of the record (borrowed: valid until the next call for this
 * record or ev_views__rec_free); NULL when i is out of range, or when it
 * cannot be read (then ev_views__rec_status says why). */
const json_t *ev_views__item(const ev_views__rec *r, size_t i);
/* EV_OK, or EV_EFORMAT / EV_ENOMEM once an item could not be read. */
int ev_views__rec_status(const ev_views__rec *r);
/* Entry ri of s (evidence.json) opened item by item through sp (an
 * ev_spill, which must outlive r and be freed with ev_spill__free even on
 * failure): past 256 KiB the text is in an unnamed temporary file in
 * P_tmpdir, not in memory, so a record of a million items is read without
 * being held. At most max_read bytes. EV_OK; EV_EFORMAT (not a record the
 * views read; message in e); EV_EIO when the text could not be read or no
 * temporary file made (nothing opened: read it some other way); EV_ENOMEM. */
int ev_views__rec_store(ev_views__rec *r, ev_spill *sp, const ev_store *s, size_t ri,
                        size_t max_read, ev_errbuf *e);
/* The same from a text already in sp (ended; it must outlive r; it is
 * only read, so several readers may share it, on several threads). */
int ev_views__rec_spill(ev_views__rec *r, const ev_spill *sp, size_t max_read, ev_errbuf *e);

/* The two views, as streams */
typedef enum ev_views__view { EV_VIEWS__CASE_JSONLD = 0, EV_VIEWS__INDEX_HTML = 1 } ev_views__view;
/* Render a view of r in this version's layout, appended to out (which may
 * stream: an ev_buf with flush; the caller flushes the rest). custody as
 * for ev_views__case_jsonld. EV_OK, EV_EFORMAT (an item of the record is
 * not JSON; message in err) or EV_ENOMEM. */
int ev_views__write(ev_buf *out, ev_views__view v, const ev_views__rec *r, const char *custody,
                    size_t custody_len, ev_errbuf *err);

/* Render case.jsonld. record/record_len: the bytes of evidence.json;
 * custody/custody_len: the bytes of custody.jsonl (may be empty; lines that
 * are not JSON objects are skipped). *out (NUL-terminated, caller frees)
 * and *len on success. Returns EV_OK, EV_EFORMAT (the record is not a JSON
 * object; message in err) or EV_ENOMEM. */
int ev_views__case_jsonld(char **out, size_t *len, const char *record, size_t record_len,
                          const char *custody, size_t custody_len, ev_errbuf *err);

/* Render index.html; same arguments and results as ev_views__case_jsonld. */
int ev_views__index_html(char **out, size_t *len, const char *record, size_t record_len,
                         const char *custody, size_t custody_len, ev_errbuf *err);

/* true for the tag files this module generates (case.jsonld, index.html) */
bool ev_views__is_view(const char *path);

/* Verify's check of the views stored in a bundle: case.jsonld and
 * index.html, where present, must be byte for byte what this version
 * renders from the stored evidence.json and custody.jsonl (each read up to
 * max_read bytes); otherwise a "view-mismatch" problem, an error when the
 * last custody event was written by this version and a warning when by
 * another. Call it only when the record and custody log passed their
 * limits. record: evidence.json as verify parsed it, or NULL; then text,
 * when not NULL, is its stored bytes as the open read them (an ended
 * ev_spill, only read), else they are read from s again. parallel:
 * index.html may be checked on a thread of its own beside case.jsonld
 * (false when the caller was asked for one thread). dg (may be NULL):
 * digests of the stored views, see above. Returns EV_OK or EV_ENOMEM. */
/* The SHA-256 of stored entries that the caller computes anyway (verify
 * hashes every listed file): a view whose digest will be known is compared
 * with its rendering by that digest instead of being inflated again. */
typedef struct ev_views__digests {
    /* true when the SHA-256 of entry i is being computed */
    bool (*will_have)(void *ctx, size_t i);
    /* waits until it is: true with the digest of the whole entry in out,
     * false when it could not be read whole */
    bool (*wait)(void *ctx, size_t i, uint8_t out[32]);
    void *ctx;
} ev_views__digests;
int ev_views__check(ev_report *r, const ev_store *s, const json_t *record, const ev_spill *text,
                    size_t max_read, bool parallel, const ev_views__digests *dg);

/* ev_views__case_jsonld and ev_views__index_html from a record the caller
 * has already parsed (a JSON object, not changed): the same bytes as from
 * its text, without a second parse of a record that may be large. */
int ev_views__case_jsonld_parsed(char **out, size_t *len, const json_t *record,
                                 const char *custody, size_t custody_len, ev_errbuf *err);
int ev_views__index_html_parsed(char **out, size_t *len, const json_t *record,
                                const char *custody, size_t custody_len, ev_errbuf *err);

/* The verification report as one HTML page (report_html.c, docs/auditing.md):
 * unlike the two views it describes one verification, so it also says when
 * and by what it was made; it is not a tag file of the bundle. Every string
 * from the bundle is escaped; the page holds no script and loads nothing. */
typedef struct ev_views__report_in {
    const ev_report *r;           /* the verification (signatures added or not) */
    const json_t *record;         /* evidence.json as parsed, or NULL */
    const char *custody;          /* custody.jsonl, or NULL */
    size_t custody_len;
    const char *bundle_path;      /* as the caller named it */
    bool is_zip;
    const char *bundle_sha256;    /* hex SHA-256 of the ZIP file, or NULL */
    const char *bundle_sha256_error; /* why there is none, or NULL */
    bool has_record, has_custody, has_views; /* the bag holds these tag files */
    const char *checked_at;       /* RFC 3339 UTC, or NULL */
    const char *tool;             /* "evidence 0.1.0" */
    const json_t *libraries;      /* {"name": "version", ...}, or NULL */
} ev_views__report_in;

/* Render the report. *out (NUL-terminated, caller frees) and *len on
 * success. Returns EV_OK, EV_EINVAL or EV_ENOMEM (message in err). */
int ev_views__report_html(char **out, size_t *len, const ev_views__report_in *in,
                          ev_errbuf *err);

#endif
