/*
 * bundle: internal declarations shared by the files of the bundle module
 * (open, verify, extract, inspect, amend and the writer).
 */
#ifndef EV_BUNDLE_INT_H
#define EV_BUNDLE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "evidence/bundle.h"
#include "bag/bag.h"
#include "bag/bag_check.h"
#include "base/hash.h"
#include "base/internal.h"
#include "base/report.h"
#include "container/container.h"
#include "record/record_check.h"

/* The most a tag file read whole into memory may hold. */
#define TAG_MAX ((size_t)512 << 20)
/* The seal: the SHA-256 of each tag manifest (docs/bundle.md). */
#define EV_BUNDLE_SEAL "tagseal-sha256.txt"
/* The folder of the signatures, which no tag manifest lists. */
#define EV_BUNDLE_SIGNATURES "signatures/"

struct ev_bundle {
    ev_bundle_options o;
    ev_errbuf err;
    ev_store *store;
    ev_report *open_report;   /* entry-level problems found when opening */
    /* evidence.json when readable, as verify keeps it: its head, and of
     * each item what the checks across items need (items point into it) */
    ev_record__slim *rec;
    ev_item *items;
    size_t nitems;
    json_t *record;           /* the record parsed whole, once asked for */
    /* evidence.json's text as the open inflated it, when that went through
     * a temporary file (a large record): the views check and the
     * disclosure root read it there instead of inflating it again */
    ev_spill *rec_text;
};

/* The record parsed whole (borrowed; NULL when there is no readable
 * record, or no memory for it). Costs about 2 KB an item: only the readers
 * that need every member of every item ask for it (inspect, disclose, the
 * report, custody add, verify --deep). */
json_t *ev_bundle__record(ev_bundle *b);
/* Forget the record (both forms), as when it is about to be rewritten. */
void ev_bundle__drop_record(ev_bundle *b);

/* A string member of a JSON object, or NULL. */
static inline const char *jstr(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* "JS/1" -> "JS_1" (caller frees). */
char *ev_bundle__exhibit_folder(const char *exhibit);

/* open.c: read evidence.json into b->rec and b->items (within the limits;
 * a refusal goes in b->open_report). */
void ev_bundle__load_record(ev_bundle *b);

/* ---- verification (verify.c, verify_hash.c, verify_deep.c, extract.c) ---- */

typedef struct vfile {
    size_t entry;
    ev_bag_expect *x;                     /* what the manifests say of it */
    ev_digests *more;                     /* the other digests, when any was computed */
    char *errmsg;                         /* on failure; freed with the context */
    int status;                           /* EV_OK or a read failure */
    uint8_t sha256[32];                   /* SHA-256 of the bytes read, when has_sha256 */
    bool has_sha256;
    bool extracted;
    bool mismatch;
    bool write_failed;                    /* extraction could not write it */
    bool crc_mismatch;                    /* stored ZIP data no longer matches its CRC */
    bool queued;                          /* read by the hashing workers */
    bool watched;                         /* a view: the views check waits for its digest */
    bool hashed;                          /* watched and hashed (under vctx.vmu) */
} vfile;

/* The hex digest of slot (EV_HASH_*) of the bytes read, "" when it was not
 * computed; buf holds it when needed. One bundle can hold millions of
 * files: only the SHA-256 is kept in place, in binary, the other digests
 * (rare) on the side. */
static inline const char *vfile_hex(const vfile *f, int slot, char buf[EV_HASH_HEX_MAX])
{
    if (slot == EV_HASH_SHA256) {
        if (!f->has_sha256)
            return "";
        ev__hex_encode(buf, f->sha256, sizeof(f->sha256));
        return buf;
    }
    return f->more ? f->more->hex[slot] : "";
}

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
    size_t n;                             /* store entries */
    ev_bag_expect *exp;                   /* per store entry, from the manifests */
    ev_bag_name *all, *payload;           /* safe regular files, and payload, sorted */
    ev_bag_check bag;                     /* the BagIt checks and their results */
    char *bagit;                          /* bagit.txt as read, or NULL */
    size_t bagit_len;
    json_t *last_event;                   /* the last custody event, or NULL */
    /* the views check (on its own thread) waits for the digests of the
     * stored views (vfile.watched) here; hashing_over once the hashing has
     * stopped, whatever happened */
    pthread_mutex_t vmu;
    pthread_cond_t vcv;
    bool hashing_over;
} vctx;

/* verify.c: verify b before changing it or cutting from it: EV_OK when it
 * is valid; else EV_EFORMAT with "the bundle fails verification (<its first
 * error>); <outcome>. Run 'evidence verify' for every problem" in b->err
 * (outcome says what was not done: "it was not changed"), or the status of
 * a verification that could not run. */
int ev_bundle__require_valid(ev_bundle *b, const char *outcome);

/* verify.c: verify b, or extract it into dest when dest is not NULL. */
int ev_bundle__verify_run(ev_report **out, ev_bundle *b, uint32_t flags, const char *dest);

/* verify_hash.c: create the folders of rel under dfd (the last component
 * is a file name unless rel ends with '/'). 0 or -1 (errno). */
int ev_bundle__mkparents_at(int dfd, const char *rel);
/* verify_hash.c: read, hash (and extract) every file in c->todo on up to
 * b->o.threads threads. EV_OK or EV_ECANCELED. */
int ev_bundle__run_hashing(vctx *c);

/* extract.c: the phases of an extraction at either end of a verification:
 * an empty (or new) destination and a staging folder beside it, and the
 * staging folder renamed to the destination when the bundle verified.
 * They do nothing when c->dest is NULL. */
int ev_bundle__extract_prepare(vctx *c);
int ev_bundle__extract_finish(vctx *c);

/* verify_deep.c: verify --deep, content hashes and working copies. */
int ev_bundle__deep_check(vctx *c);
int ev_bundle__deep_derivations(vctx *c);

#endif
