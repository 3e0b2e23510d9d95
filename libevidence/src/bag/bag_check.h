/*
 * bag_check: the completeness and validity rules of a BagIt bag (RFC 8493
 * section 3, with the security rules of section 5 and the warnings of
 * section 6): bagit.txt, the data/ folder, the manifests and tag manifests
 * (every payload file in every payload manifest, every manifest line naming
 * a present, safe file), fetch.txt and Payload-Oxum. Independent of
 * storage: the caller lists the files and hands over the bytes of the tag
 * files; what the manifests expect of each file is filled in for the
 * caller to hash. docs/verify-codes.md lists the problem codes.
 *
 * Thread-safety: no shared state; one ev_bag_check per thread.
 */
#ifndef EV_BAG_CHECK_H
#define EV_BAG_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bag/bag.h"
#include "base/hash.h"
#include "base/report.h"

/* One safe regular file of the bag. */
typedef struct ev_bag_name {
    const char *name;    /* bag-relative (borrowed) */
    size_t idx;          /* the caller's index of the file */
    uint64_t size;
} ev_bag_name;

/* Order by name (qsort, bsearch). */
int ev_bag__name_cmp(const void *a, const void *b);
/* The idx of name in v (sorted by ev_bag__name_cmp), or -1. */
long ev_bag__name_find(const ev_bag_name *v, size_t n, const char *name);

/* What the manifests say of one file. */
typedef struct ev_bag_expect {
    uint32_t algs;                        /* what to compute */
    const char *expect[EV_HASH_COUNT];    /* expected digests (borrowed from the manifests) */
    uint32_t expect_mf[EV_HASH_COUNT];    /* the manifest that says so: its place in
                                             ev_bag_check.mf, plus 1 (0: none); see
                                             ev_bag__expect_src */
    const char *path;                     /* as a manifest lists it, kept with the
                                             report's strings (ev_report__add_file_kept) */
    bool is_tag, listed;
} ev_bag_expect;

typedef struct ev_bag_check {
    ev_report *r;                  /* problems go here */
    /* set by the caller */
    const ev_bag_name *all;        /* every safe regular file, sorted */
    size_t nall;
    const ev_bag_name *payload;    /* those under data/, sorted */
    size_t npayload;
    uint64_t payload_bytes;
    ev_bag_expect *exp;            /* indexed by ev_bag_name.idx, zeroed */
    size_t nexp;                   /* its length */
    /* filled by the checks */
    int vmaj, vmin;                /* bagit.txt version (1.0 when unknown) */
    bool bagit_unsupported;        /* checked as 1.0 although it says otherwise */
    char enc[64];                  /* Tag-File-Character-Encoding ("UTF-8" when unknown) */
    ev_manifest *mf;               /* manifests and tag manifests, in name order */
    size_t nmf, capmf, n_payload_mf;
    ev_fetch_entry *fetch;
    size_t nfetch;
    ev_baginfo bi;
} ev_bag_check;

/* The file name of the manifest that gives f's digest in slot (EV_HASH_*),
 * or NULL when none does. */
static inline const char *ev_bag__expect_src(const ev_bag_check *bc, const ev_bag_expect *f,
                                             int slot)
{
    uint32_t k = f->expect_mf[slot];
    return k && k <= bc->nmf ? bc->mf[k - 1].filename : NULL;
}

/* Start the checks; the caller sets all, payload and exp afterwards. */
void ev_bag__check_init(ev_bag_check *k, ev_report *r);
void ev_bag__check_free(ev_bag_check *k);

/* bagit.txt: buf NULL and read_error NULL when the bag has none, buf NULL
 * and read_error set when it could not be read. */
void ev_bag__check_bagit_txt(ev_bag_check *k, const char *buf, size_t len,
                             const char *read_error);
/* data/: has_dir tells whether the bag has a data folder entry. */
void ev_bag__check_data_dir(ev_bag_check *k, bool has_dir);
/* One manifest or tag manifest (name, is_tag, alg from
 * ev_bag__is_manifest_name), in name order. EV_OK or EV_ENOMEM. */
int ev_bag__check_add_manifest(ev_bag_check *k, const char *name, bool is_tag, const char *alg,
                               const char *buf, size_t len);
/* After the last manifest: a payload manifest exists and is usable. */
void ev_bag__check_manifest_set(ev_bag_check *k);
/* fetch.txt, when the bag has one. */
void ev_bag__check_fetch(ev_bag_check *k, const char *buf, size_t len);
/* The name of the bag's bag-info file, after ev_bag__check_bagit_txt with
 * all set: package-info.txt in a 0.93-0.95 bag that has it and no
 * bag-info.txt (ev_bag__info_name), else bag-info.txt. */
const char *ev_bag__check_info_name(const ev_bag_check *k);
/* The file ev_bag__check_info_name() names, when the bag has it: parsed,
 * and its Payload-Oxum against the payload; package-info.txt is read as
 * bag-info.txt, with a warning (baginfo-old-name). */
void ev_bag__check_baginfo(ev_bag_check *k, const char *buf, size_t len);
/* Completeness: every manifest line names a present, safe file (filling
 * k->exp), every payload file is in every payload manifest, every tag
 * manifest lists every payload manifest. EV_OK or EV_ENOMEM. */
int ev_bag__check_complete(ev_bag_check *k);
/* Tag files in no tag manifest (when there is one): RFC 8493 says their
 * content is ignored. skip (may be NULL) names files that are not tag
 * files for this purpose. */
void ev_bag__check_unlisted(ev_bag_check *k, bool (*skip)(const char *name));

#endif
