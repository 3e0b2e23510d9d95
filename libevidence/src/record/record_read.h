/*
 * record_read: evidence.json read back, from a bundle or from bytes.
 *
 * ev_record__parse() is the one parser of the record: duplicate keys are
 * refused, and so is a record over the item limits, counted on the text
 * before the parser builds anything and again on what it built. Readers of
 * the record (the bundle, the views) take the json_t from here rather than
 * scanning the text themselves.
 *
 * Thread-safety: no shared state; calls may run in parallel.
 */
#ifndef EV_RECORD_READ_H
#define EV_RECORD_READ_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "container/container.h"
#include "evidence/bundle.h"
#include "base/internal.h"
#include "base/report.h"
#include "base/spill.h"

/* Parse evidence.json from bytes (buf, len; need not be NUL-terminated).
 * npayload: the payload files of the bag, or SIZE_MAX when not known (then
 * only o->max_items limits the items). A record listing more items than
 * that, or than o->max_items, is refused: NULL, and the reason added to r
 * (not NULL). NULL also when the bytes are not one JSON object, or it
 * has a duplicate key (nothing is added then). New reference. */
json_t *ev_record__parse(const char *buf, size_t len, size_t npayload,
                         const ev_bundle_options *o, ev_report *r);

/* Called with each element of the record's top-level items array (an
 * array), k its place, as it is read; the element is dropped after the
 * call. EV_OK, or an error that stops the parse (the record is then NULL). */
typedef int (*ev_record__each_fn)(void *ctx, const json_t *item, size_t k);

/* ev_record__parse, but the items are not kept: each goes to fn, and the
 * record returned holds an empty items array in place of them (the record
 * whole is never in memory when the text is the usual record; any other
 * text is parsed whole by jansson and its items then given to fn). When a
 * parse gives up part way, reset(ctx) is called before the items are
 * given again from the start. */
json_t *ev_record__parse_items(const char *buf, size_t len, size_t npayload,
                               const ev_bundle_options *o, ev_report *r, ev_record__each_fn fn,
                               void (*reset)(void *ctx), void *ctx);

/* One JSON value of the usual plain form (as the record's items are
 * written) read quickly, exactly as json_loadb with JSON_DECODE_ANY reads
 * it; NULL for anything else (a duplicate key, an escape \u, a fraction,
 * an error): then ask json_loadb. */
json_t *ev_record__quick_value(const char *buf, size_t len);

/* Read and parse evidence.json from s, within the limits of o. A record
 * over a limit, or listing more items than the bag has payload files, is
 * not kept (NULL is returned) and the reason is added to r (the report of
 * the open; it is copied into every verification). NULL also when there is
 * no evidence.json or it is not a JSON object (nothing is added then: the
 * verification says so). New reference. */
json_t *ev_record__load(const ev_store *s, const ev_bundle_options *o, ev_report *r);
/* The same, with the items given to fn as for ev_record__parse_items.
 * text (may be NULL): when the record was read through a temporary file
 * (a large one, read item by item), that file is handed over in *text
 * (free it with ev_spill__free and free) so that other readers need not
 * inflate it again; else *text is NULL. */
json_t *ev_record__load_items(const ev_store *s, const ev_bundle_options *o, ev_report *r,
                              ev_record__each_fn fn, void (*reset)(void *ctx), void *ctx,
                              ev_spill **text);

/* true when r holds a problem that explains why the record was not loaded
 * (a limit, or more items than payload files). */
bool ev_record__refused(const ev_report *r);

/* The number of elements of the top-level "items" array of a record,
 * counted on the text without parsing it (equal to what the parser finds
 * for JSON whose keys are written without escapes). */
size_t ev_record__count_items(const char *buf, size_t len);

/* The most bytes of evidence.json or custody.jsonl read into memory. */
size_t ev_record__read_cap(const ev_bundle_options *o);
/* true when entry i of s (i >= 0) claims more than o->max_record_size. */
bool ev_record__over_size(const ev_store *s, long i, const ev_bundle_options *o);

#endif
