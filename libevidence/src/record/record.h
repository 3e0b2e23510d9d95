/*
 * record: evidence.json (the bundle record) and custody.jsonl (the
 * hash-chained custody log).
 */
#ifndef EV_RECORD_H
#define EV_RECORD_H

#include <jansson.h>

#include "evidence/bundle.h"
#include "base/internal.h"
#include "base/report.h"

#define EV_RECORD_FORMAT "evidence-bundle"
#define EV_RECORD_FORMAT_VERSION 1

/* Serialise a JSON value deterministically (keys in insertion order,
 * 2-space indent, trailing newline). Caller frees. */
char *ev_record__dump(const json_t *j, size_t *len);

/* Build one custody line (JSON + "\n"). prev_sha256 NULL for the first. */
char *ev_custody__line(long seq, const char *time_rfc3339, const ev_custody_event *e,
                       const char *manifest_sha256, const char *record_sha256,
                       const char *prev_sha256);

/* Check the chain. Adds problems to r (unless r is NULL). Returns the number
 * of events in *n, the SHA-256 of the last line in last_sha (65 bytes), and
 * the last event object (new reference) in *last. bad_links counts failures. */
int ev_custody__check(const char *buf, size_t len, ev_report *r, size_t *n, char last_sha[65],
                      json_t **last, json_t **events, size_t *bad_links);

#endif
