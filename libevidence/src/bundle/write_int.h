/*
 * bundle (writer): the writer's state, shared by write.c (adding files,
 * bag paths, media analysis, working copies) and seal.c (writing the bag).
 */
#ifndef EV_BUNDLE_WRITE_INT_H
#define EV_BUNDLE_WRITE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <magic.h>
#include <pthread.h>

#include "bundle/bundle_int.h"
#include "media/media.h"
#include "profile/profile.h"

/* What only some items have: the media analysis, meta files and, for a
 * working copy, its derivation. Allocated for those items alone, so that
 * the many items of a bundle of small files stay small. */
typedef struct wr_extra {
    json_t *media, *capture, *content;   /* media analysis, or NULL */
    ev_media__file *meta;                /* meta/<id>/... files */
    size_t nmeta;
    uint8_t (*leaf_sha256)[32];          /* SHA-256 of the derivation record and
                                            of each meta file, for the leaf */
    size_t nleaf_sha256;
    /* derivatives */
    long source;                         /* index of the master, or -1 */
    const ev_profile *profile;
    json_t *derivation;                  /* the derivation record */
} wr_extra;

typedef struct wr_item {
    /* One of these per file, all alive until the writer is freed, so kept
     * small (128 bytes): the strings that many items share are the
     * writer's (interned); src and rel are one allocation; the id follows
     * from the index (ev_bundle__item_id) and what only media items and
     * working copies have is in x. */
    char *src;            /* path on disk, followed in the same block by the
                             original path relative to the exhibit root (may
                             be non-UTF-8): ev_bundle__rel() */
    char *bag_path;       /* data/<exhibit-folder>/<safe path> */
    const char *exhibit;  /* exact reference; the writer's (w->exrefs) */
    const char *mime;     /* from the content (libmagic); the writer's (w->mimes) */
    wr_extra *x;          /* or NULL */
    uint64_t size;
    int64_t mtime_sec;
    dev_t dev;            /* identity of the source file, to find a file */
    ino_t ino;            /*   named by two arguments */
    size_t arg;           /* which ev_writer_add() call named it (1-based) */
    /* the payload's digests once written, as bytes (SHA-256; SHA-512 only
     * when asked for): hex for every algorithm was 520 bytes an item */
    uint8_t *sha512;
    uint8_t sha256[32];
    uint32_t mtime_nsec;
    bool no_probe;        /* octet-stream that FFmpeg's head probe does not claim */
    bool hashed;
    bool renamed;         /* the name was changed (EV_BUNDLE_NAME_NOTE says why) */
} wr_item;

/* Why an item's name was changed, for the record's name_note. */
#define EV_BUNDLE_NAME_NOTE "the original name was unsafe or clashed with another item; " \
                            "original_path keeps it"
/* The item's id, "item-0001" for the first (out: 32 bytes). */
#define EV_BUNDLE_ITEM_ID_MAX 32
void ev_bundle__item_id(char *out, size_t index);
/* The original path of it, relative to the exhibit root. */
static inline const char *ev_bundle__rel(const wr_item *it)
{
    return it->src + strlen(it->src) + 1;
}
/* it's extra part, made on first use (NULL: out of memory). */
wr_extra *ev_bundle__extra(wr_item *it);
/* The master of it, or -1. */
static inline long ev_bundle__source(const wr_item *it)
{
    return it->x ? it->x->source : -1;
}

typedef struct tag_digest {
    char *path;
    ev_digests d;
} tag_digest;

struct ev_writer {
    ev_writer_options o;
    ev_errbuf err;
    wr_item *items;
    size_t n, cap;
    tag_digest *tags;
    size_t ntags, captags;
    const ev_profile **profiles;
    size_t nprofiles;
    ev_strset keys;          /* case/normalization-folded bag paths in use */
    size_t nargs;            /* ev_writer_add() calls so far */
    struct exhibit_slot {    /* exhibits in order of first appearance */
        char *ref;           /*   the exact reference */
        char *folder;        /*   its folder under data/, unique per exhibit */
    } *exhibits;
    size_t nexhibits, capexhibits, last_exhibit;
    ev_strset folder_keys;   /* case-folded exhibit folders in use */
    char **exrefs;           /* the exhibit references of the items, once each */
    size_t nexrefs, capexrefs, last_exref;
    char **mimes;            /* the content types of the items, once each; */
    size_t nmimes, capmimes; /*   shared by the type-finding threads under */
    pthread_mutex_t mimes_mu; /*  mimes_mu */
    char *derived_dir;       /* temporary folder for working copies */
    json_t *schedule;        /* people, places, events, exhibits (without files) of
                                ev_writer_add_schedule(), or NULL */
    char *officer_person_id; /* the schedule's person o.officer_person names, or NULL */
    /* seal state */
    char bundle_id[64];
    char created[40];
    char *manifest_sha256;   /* of manifest-sha256.txt as written */
    char *record_sha256;
    struct ev_spill *record;          /* evidence.json as written, for the views */
    char *custody_txt;                /* custody.jsonl as written, for the views */
    size_t custody_len;
    char *spill_dir;                  /* where large generated tag files wait (the output's folder) */
    ev_digests item_digests;          /* the record's item being built: its digests as hex */
    char source_hex[EV_HASH_HEX_MAX]; /*   and its master's SHA-256 */
    char item_id[EV_BUNDLE_ITEM_ID_MAX];   /*   its id */
    char source_id[EV_BUNDLE_ITEM_ID_MAX]; /*   and its master's */
    char tm_sha[2][65];      /* SHA-256 of each tag manifest, for the seal */
    struct tag_prod *prods;  /* producers of tag files, freed after the sink */
    ev_progress_state progress;
    ev_progress_state *walking; /* "finding files", while ev_writer_add walks a folder */
    bool spent;              /* a seal named the items: a second one would rename them all */
};

/* write.c */
const char *ev_bundle__mime_of(const wr_item *it);
/* One path component made safe; *changed tells whether it had to be. */
char *ev_bundle__safe_component(const char *c, bool *changed);
/* Refuse two arguments naming one file. */
int ev_bundle__refuse_duplicates(ev_writer *w);
/* Bag paths for the items from index from on. */
int ev_bundle__assign_paths(ev_writer *w, size_t from);
/* The content type of it; with probe_check, also whether an octet-stream
 * item is worth a media probe (it->no_probe). */
void ev_bundle__detect_mime(ev_writer *w, magic_t mg, wr_item *it, bool probe_check);
/* Whether the media analysis runs for it (content type and no_probe). */
bool ev_bundle__probes(const wr_item *it);
/* The content types of items [from, to), on several threads when there are
 * many; mg is the caller's libmagic handle (NULL: the default types). */
/* Returns EV_ECANCELED (error set) when the progress callback asks to stop. */
int ev_bundle__detect_mimes(ev_writer *w, magic_t mg, size_t from, size_t to);
bool ev_bundle__wants_media(const char *m);
int ev_bundle__analyze_item(ev_writer *w, wr_item *it);
/* The working copies of every profile added, as new items. */
int ev_bundle__make_derivatives(ev_writer *w, const char *out_path, magic_t mg);

/* The record's people, places, events and exhibits of the schedule
 * (write_schedule.c), with an exhibit of its reference only for each
 * exhibit of the items that the schedule does not name; NULL without a
 * schedule (or on ENOMEM). New reference. */
json_t *ev_bundle__schedule_record(const ev_writer *w);

#endif
