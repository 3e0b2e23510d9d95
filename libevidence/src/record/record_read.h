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

/* Parse evidence.json from bytes (buf, len; need not be NUL-terminated).
 * npayload: the payload files of the bag, or SIZE_MAX when not known (then
 * only o->max_items limits the items). A record listing more items than
 * that, or than o->max_items, is refused: NULL, and the reason added to r
 * (not NULL). NULL also when the bytes are not one JSON object, or it
 * has a duplicate key (nothing is added then). New reference. */
json_t *ev_record__parse(const char *buf, size_t len, size_t npayload,
                         const ev_bundle_options *o, ev_report *r);

/* Read and parse evidence.json from s, within the limits of o. A record
 * over a limit, or listing more items than the bag has payload files, is
 * not kept (NULL is returned) and the reason is added to r (the report of
 * the open; it is copied into every verification). NULL also when there is
 * no evidence.json or it is not a JSON object (nothing is added then: the
 * verification says so). New reference. */
json_t *ev_record__load(const ev_store *s, const ev_bundle_options *o, ev_report *r);

/* The items of a record as ev_item (strings borrowed from record, which
 * must outlive them); members that are not objects are skipped. *out is
 * freed by the caller. EV_OK or EV_ENOMEM. */
int ev_record__items(ev_item **out, size_t *n, const json_t *record);

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
