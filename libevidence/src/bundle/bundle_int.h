/*
 * bundle: internal declarations shared by the files of the bundle module
 * (open, verify, extract, inspect, amend and the writer).
 */
#ifndef EV_BUNDLE_INT_H
#define EV_BUNDLE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "evidence/bundle.h"
#include "bag/bag.h"
#include "base/hash.h"
#include "base/internal.h"
#include "base/report.h"
#include "container/container.h"

/* The most a tag file read whole into memory may hold. */
#define TAG_MAX ((size_t)512 << 20)
#define SEAL_NAME "tagseal-sha256.txt"

struct ev_bundle {
    ev_bundle_options o;
    ev_errbuf err;
    ev_store *store;
    ev_report *open_report;   /* entry-level problems found when opening */
    json_t *record;           /* evidence.json when readable */
    ev_item *items;
    size_t nitems;
};

/* A string member of a JSON object, or NULL. */
static inline const char *jstr(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* "JS/1" -> "JS_1" (caller frees). */
char *ev_bundle__exhibit_folder(const char *exhibit);

/* open.c: parse evidence.json into b->record and b->items (within the
 * limits; a refusal goes in b->open_report). */
void ev_bundle__load_record(ev_bundle *b);

/* ---- verification (verify.c, verify_hash.c, verify_deep.c, extract.c) ---- */

typedef struct vfile {
    size_t entry;
    uint32_t algs;                        /* what to compute */
    const char *expect[EV_HASH_COUNT];    /* expected digests (borrowed) */
    const char *expect_src[EV_HASH_COUNT];/* manifest that says so */
    bool is_tag, listed;
    ev_digests got;
    int status;                           /* EV_OK or a read failure */
    char *errmsg;                         /* on failure; freed with the context */
    bool extracted;
    bool mismatch;
    bool write_failed;                    /* extraction could not write it */
    bool crc_mismatch;                    /* stored ZIP data no longer matches its CRC */
    bool queued;                          /* read by the hashing workers */
} vfile;

typedef struct vctx {
    ev_bundle *b;
    ev_report *r;
    uint32_t flags;
    const char *dest;                     /* extract: destination root */
    char *staging;                        /* extract: written here, renamed to dest */
    int destfd;
    vfile *files;                         /* indexed like store entries */
    size_t *todo;
    size_t ntodo;
    atomic_size_t next;
    atomic_uint_fast64_t bytes;
    atomic_int cancel;
    ev_progress_state progress;
    ev_manifest *mf;
    size_t nmf;
} vctx;

/* verify.c: verify b, or extract it into dest when dest is not NULL. */
int ev_bundle__verify_run(ev_report **out, ev_bundle *b, uint32_t flags, const char *dest);

/* verify_hash.c: create the folders of rel under dfd (the last component
 * is a file name unless rel ends with '/'). 0 or -1 (errno). */
int ev_bundle__mkparents_at(int dfd, const char *rel);
/* verify_hash.c: read, hash (and extract) every file in c->todo on up to
 * b->o.threads threads. EV_OK or EV_ECANCELED. */
int ev_bundle__run_hashing(vctx *c);

/* verify_deep.c: verify --deep, content hashes and working copies. */
int ev_bundle__deep_check(vctx *c);
int ev_bundle__deep_derivations(vctx *c);

#endif
