/*
 * record: evidence.json (the bundle record) and custody.jsonl (the
 * hash-chained custody log).
 */
#ifndef EV_RECORD_H
#define EV_RECORD_H

#include <jansson.h>

#include "evidence/bundle.h"
#include "base/hash.h"
#include "base/internal.h"
#include "base/report.h"

/* The names of the record and of the custody log in a bundle. */
#define EV_RECORD_FILE "evidence.json"
#define EV_CUSTODY_FILE "custody.jsonl"

#define EV_RECORD_FORMAT "evidence-bundle"
#define EV_RECORD_FORMAT_VERSION 1

/* Serialise a JSON value deterministically (keys in insertion order,
 * 2-space indent, trailing newline). Caller frees. */
char *ev_record__dump(const json_t *j, size_t *len);

/* The head of a record: everything but its items (strings may be NULL). */
typedef struct ev_record_head {
    const char *bundle_id, *created;
    const char *case_ref, *organisation, *operation, *description;
    const char *officer, *officer_id, *source_system;
    const json_t *schedule; /* "people", "places", "events" and "exhibits" of an
                               exhibit schedule (docs/exhibit-schedule.md), or NULL */
} ev_record_head;

/* One item of a record as its writer knows it (borrowed; NULL when
 * absent). source_id is set for a working copy, with the profile and the
 * derivation record that made it. */
typedef struct ev_record_item {
    const char *id, *exhibit;
    const char *path;                    /* in the bag */
    const char *original_path;           /* relative to the exhibit root, as found */
    const char *name_note;               /* why the name was changed, or NULL */
    uint64_t size;
    uint32_t algorithms;                 /* EV_ALG_* listed in "hashes" */
    const ev_digests *digests;
    const char *mime;
    int64_t mtime_sec;
    long mtime_nsec;
    const char *source_id, *source_sha256;
    const char *profile_name, *profile_sha256, *profile_action;
    const json_t *derivation;            /* "verification" and "settings" are used */
    json_t *media, *capture, *content;   /* the analysis, or NULL */
    const char *const *meta_names;       /* files under meta/<id>/ */
    size_t nmeta;
    const uint8_t (*leaf_sha256)[32];    /* for the leaf (docs/disclosure.md):
                                            SHA-256 of the derivation record
                                            (when derived), then of each meta
                                            file, in order */
    size_t nleaf_sha256;
} ev_record_item;

/* Fill *it for item i (release false), or release what was filled for it
 * (release true; called after each item, also after a failure). */
typedef int (*ev_record__item_fn)(ev_record_item *it, size_t i, bool release, void *ctx);

/* evidence.json for a head and nitems items, fetched one at a time from
 * item (each item is dumped and released before the next is fetched).
 * Each item gets a random "salt" and the record a "disclosure" member with
 * the root of the Merkle tree of the items' leaves (docs/disclosure.md).
 * The bytes equal ev_record__dump() of the whole document. NULL on ENOMEM.
 * Caller frees. */
char *ev_record__build(const ev_record_head *head, size_t nitems, ev_record__item_fn item,
                       void *ctx, size_t *len);

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
