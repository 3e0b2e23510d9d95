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
 * The bytes equal ev_record__dump() of the whole document, appended to
 * out (which may be a stream: ev_buf with flush; the caller ends it).
 * EV_OK, or the error of item, of the output, or EV_ENOMEM. */
int ev_record__build(ev_buf *out, const ev_record_head *head, size_t nitems,
                     ev_record__item_fn item, void *ctx);

/* Build one custody line (JSON + "\n"). prev_sha256 NULL for the first. */
char *ev_custody__line(long seq, const char *time_rfc3339, const ev_custody_event *e,
                       const char *manifest_sha256, const char *record_sha256,
                       const char *prev_sha256);

/* The person a custody event names (docs/exhibit-schedule.md): the node of
 * rec's "people" whose id is p, else the one whose identifier is p exactly
 * as recorded. The place: the node of rec's "places" whose id is p. NULL when there is none
 * or (by identifier) more than one, with the reason in err (EV_EINVAL):
 * which name is unknown or ambiguous, and the nodes the record has, or
 * those that match; where names rec in them ("the record"). Borrowed
 * from rec. */
const json_t *ev_record__find_person(const json_t *rec, const char *where, const char *p,
                                     ev_errbuf *err);
const json_t *ev_record__find_place(const json_t *rec, const char *where, const char *p,
                                    ev_errbuf *err);

/* A new node's value against what a caller gave for it: EV_OK when given is
 * NULL (then *use is the node's value, or NULL when it has none) or equal to
 * the node's (or the node has none: then *use is given); EV_EINVAL with a
 * message naming both ("the actor 'X' is not the name of person-1 ('Y')")
 * when they differ. */
int ev_record__node_value(const char **use, const char *given, const json_t *node,
                          const char *where, const char *key, const char *what, ev_errbuf *err);

/* Resolve the person and place of a custody event against rec: *out is a
 * copy of e (version EV_CUSTODY_EVENT_VERSION) whose person and place are
 * the ids of the nodes they name, and whose actor and organisation, when e
 * leaves them NULL, are the person's name and organisation. e must be of
 * version 2 (callers copy a version 1 event into a version 2 one first).
 * Strings are borrowed from e and rec. EV_OK, or EV_EINVAL with the reason
 * in err (unknown or ambiguous person or place; an actor or organisation
 * that is not the person's; no actor or organisation known). */
int ev_custody__resolve(ev_custody_event *out, const ev_custody_event *e, const json_t *rec,
                        ev_errbuf *err);

/* Check the chain. Adds problems to r (unless r is NULL). Returns the number
 * of events in *n, the SHA-256 of the last line in last_sha (65 bytes), and
 * the last event object (new reference) in *last. bad_links counts failures. */
int ev_custody__check(const char *buf, size_t len, ev_report *r, size_t *n, char last_sha[65],
                      json_t **last, json_t **events, size_t *bad_links);

#endif
