/*
 * record_check: what `verify` checks about the record beyond the manifests.
 * evidence.json against its schema (docs/schema/evidence.schema.json), against
 * bag-info.txt (case and exhibits), against the payload (one item per file,
 * MIME type against the bytes) and against the views it generates; and the
 * limits on what the record may make the reader allocate (items, bytes of
 * evidence.json and custody.jsonl, custody events). docs/verify-codes.md
 * lists the codes.
 *
 * Thread-safety: no shared state; calls may run in parallel.
 */
#ifndef EV_RECORD_CHECK_H
#define EV_RECORD_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "container/container.h"
#include "evidence/bundle.h"
#include "base/report.h"
#include "record/record_read.h"

/* Defaults of the record limits (docs/bundle.md, "Limits when reading"). */
#define EV_RECORD_MAX_ITEMS_DEFAULT 1000000u
#define EV_RECORD_MAX_SIZE_DEFAULT ((uint64_t)256 << 20)
#define EV_RECORD_MAX_CUSTODY_EVENTS_DEFAULT 100000u

/* Fill the record limits left at 0 in o with their defaults. */
void ev_record__limits_default(ev_bundle_options *o);

/* Count the events (lines) of a custody log without parsing it. */
size_t ev_custody__count(const char *buf, size_t len);

/* ---- the record as verify keeps it --------------------------------------------------
 *
 * A parsed record costs about 2 KB an item; verify keeps its head (every
 * member but the items) and, of each item, only what the checks across
 * items need, copied out while the record is read (ev_record__load_items
 * with ev_record__slim_item). Each item is checked against its schema as
 * it is read; the problems wait in `schema` for ev_record__verify. */

/* What the checks across items need of one item that is an object, beside
 * its ev_item (whose strings are the slim record's). */
typedef struct ev_record__vitem {
    size_t k;                     /* its place among the record's items */
    const char *df_source_sha256; /* of derived_from, when that is an object */
    const char *df_record;
    const char *size_text;        /* size as written when not an integer; NULL: none */
    long long size;               /* size when an integer */
    bool size_int;
    bool has_df;                  /* it has a derived_from member, of any type */
} ev_record__vitem;

typedef struct ev_record__slim {
    json_t *head;       /* the record without its items (an empty array in their place) */
    ev_item *items;     /* the items that are objects, in record order */
    ev_record__vitem *x; /* beside each of items */
    size_t n, cap;
    size_t nall;        /* items of any type */
    size_t *others;     /* places of the items that are not objects */
    size_t nothers, capothers;
    ev_report *schema;  /* the items' schema problems, as found (at most the cap) */
    size_t nschema;     /* how many were found */
    ev_strpool strs;    /* the strings */
    int rc;             /* EV_ENOMEM once something could not be kept */
} ev_record__slim;

/* ev_record__item_fn and its reset for a slim record (ctx: ev_record__slim
 * made with ev_record__slim_init). */
int ev_record__slim_init(ev_record__slim *s);
int ev_record__slim_item(void *ctx, const json_t *item, size_t k);
void ev_record__slim_reset(void *ctx);
void ev_record__slim_free(ev_record__slim *s);
/* Give back the room the arrays grew into beyond the items read. */
void ev_record__slim_fit(ev_record__slim *s);
/* The slim record of a record parsed whole (borrowed; its items are read,
 * not changed; s->head is a new reference to a copy without them). */
int ev_record__slim_from(ev_record__slim *s, const json_t *record);

/* The checks of verify on the record: schema, bag-info.txt, duplicate
 * items, MIME types against the bytes, and the custody limits. record (its
 * head and items, see above) may be NULL (only the custody log is looked at). flags: EV_VERIFY_*; with
 * EV_VERIFY_FAST the checks that read payload bytes are skipped. Sets
 * r->unreadable when a limit is exceeded. *views_checkable (may be NULL)
 * tells whether the record and custody log were read within their limits,
 * so that the views can be rebuilt from them (ev_views__check). Returns
 * EV_OK or EV_ENOMEM. */
int ev_record__verify(ev_report *r, const ev_store *s, const ev_record__slim *record,
                      const ev_bundle_options *o, uint32_t flags, bool *views_checkable);
/* true when the custody log is there and within its limits (size and
 * events), as ev_record__verify finds it: with a record, the views can be
 * rebuilt (its *views_checkable), so they may be checked beside it. */
bool ev_record__custody_within(const ev_store *s, const ev_bundle_options *o);

/* The checks on the record alone, from bytes: parse evidence.json (rec,
 * rlen) and check it against its schema, for duplicate items and against
 * bag-info.txt (baginfo, blen; may be NULL). For tests and fuzzing.
 * Returns EV_OK, EV_EFORMAT (not a JSON object) or EV_ENOMEM. */
int ev_record__check_bytes(ev_report *r, const char *rec, size_t rlen, const char *baginfo,
                           size_t blen);

/* The references of the custody log (custody, clen) to the record (rec,
 * rlen): each event's person and place must be the id of a node of the
 * record's people and places (record-dangling-reference). verify makes
 * this check; this entry is for tests. Returns EV_OK, EV_EFORMAT (the
 * record is not a JSON object) or EV_ENOMEM. */
int ev_record__check_custody_refs(ev_report *r, const char *rec, size_t rlen,
                                  const char *custody, size_t clen);

/* RFC 3339 date-time in UTC as the bundle writes it:
 * YYYY-MM-DDTHH:MM:SS[.fraction]Z with a real calendar date. */
bool ev_record__utc_time_ok(const char *s);

/* true for the documented custody actions (docs/bundle.md). */
bool ev_record__custody_action_ok(const char *s);

/* The family of a MIME type for comparing the record's claim with what
 * libmagic says of the bytes: "image", "av" (audio and video, and the
 * containers that hold either), "text", "executable", "archive" (ZIP and
 * the formats built on it, and other compressed archives), "document"
 * (PDF, PostScript, OLE office files), "unknown" (no claim:
 * application/octet-stream, empty) or "other". */
const char *ev_record__mime_family(const char *mime);

/* true when a record's MIME type and libmagic's answer contradict each
 * other (docs/verify-codes.md, record-mime-mismatch). */
bool ev_record__mime_contradicts(const char *record_mime, const char *magic_mime);

#endif
