/*
 * bundle (writer): ev_writer_seal() writes the bag through the container
 * sink. Payload bytes are read once, hashed while stored; manifests, the
 * record, the custody log, the views and the tag manifests are generated
 * after the payload, inside the same single pass.
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <magic.h>
#include <openssl/evp.h>

#include "bag/bag.h"
#include "bundle/bundle_int.h"
#include "bundle/write_int.h"
#include "container/container.h"
#include "base/hash.h"
#include "base/internal.h"
#include "base/publish.h"
#include "base/spill.h"
#include "media/media.h"
#include "profile/profile.h"
#include "record/record.h"
#include "record/record_disclose.h"
#include "transcode/transcode.h"
#include "views/views.h"

/* ---- sealing --------------------------------------------------------------- */

static int register_digests(ev_writer *w, const char *path, const ev_digests *d)
{
    if (w->ntags == w->captags) {
        size_t cap = w->captags ? w->captags * 2 : 32;
        tag_digest *t = ev__reallocarray(w->tags, cap, sizeof(*t));
        if (!t)
            return EV_ENOMEM;
        w->tags = t;
        w->captags = cap;
    }
    tag_digest *t = &w->tags[w->ntags];
    t->d = *d;
    if (!(t->path = ev__strdup(path)))
        return EV_ENOMEM;
    w->ntags++;
    return EV_OK;
}

static int register_tag(ev_writer *w, const char *path, const char *data, size_t len)
{
    ev_hasher *h = NULL;
    ev_digests d;
    int rc = ev_hash__new(&h, w->o.algorithms);
    if (rc)
        return rc;
    ev_hash__update(h, data, len);
    ev_hash__final(h, &d);
    ev_hash__free(h);
    return register_digests(w, path, &d);
}

static int add_tag_buffer(ev_writer *w, ev_sink *s, const char *path, const char *data,
                          size_t len)
{
    ev_producer p;
    int rc = register_tag(w, path, data, len);
    if (rc == EV_OK)
        rc = ev_producer__buffer(&p, data, len);
    if (rc == EV_OK)
        rc = ev_sink__add(s, path, &p, true, 0, &w->err);
    return rc;
}

/* The tag files generated after the payload has been written. */
typedef enum lazy_kind {
    LAZY_MANIFEST,       /* manifest-<alg>.txt */
    LAZY_RECORD,         /* evidence.json */
    LAZY_CUSTODY,        /* custody.jsonl */
    LAZY_TAGMANIFEST,    /* tagmanifest-<alg>.txt */
    LAZY_SEAL,           /* tagseal-sha256.txt */
    LAZY_VIEW_CASE,      /* case.jsonld */
    LAZY_VIEW_INDEX      /* index.html */
} lazy_kind;

typedef struct lazy_ctx {
    ev_writer *w;
    lazy_kind kind;
    int slot;        /* hash slot for manifests */
    const char *path;
} lazy_ctx;

static int gen_lazy(void *arg, char **data, size_t *len, ev_spill **sp, ev_errbuf *err);

/* The bytes of a tag file for the sink, without a copy: generated when the
 * sink opens the entry (lazy) or handed over, and freed as soon as the sink
 * has read them rather than when the sink is freed, so that the big tag
 * files (record, views, meta files) are not all held until the end. The
 * sink does not free this producer; the writer does, after the sink. */
typedef struct tag_prod {
    struct tag_prod *next;
    lazy_ctx *lazy;          /* generate at open, or NULL */
    char *data;
    ev_spill *sp;            /* or the bytes are here (large generated files) */
    size_t len, pos;
    uint8_t **owner;         /* where data is owned (set to NULL when freed), or NULL */
    bool keep;               /* the writer keeps data (record and custody log) */
    bool generated;
} tag_prod;

static void tag_prod_release(tag_prod *t)
{
    if (t->sp && !t->keep) {
        ev_spill__free(t->sp);
        free(t->sp);
    }
    t->sp = NULL;
    if (!t->keep) {
        free(t->data);
        if (t->owner)
            *t->owner = NULL;
    }
    t->data = NULL;
    t->owner = NULL;
}

static int tag_open(void *ctx, uint64_t *size, ev_errbuf *err)
{
    tag_prod *t = ctx;
    if (t->lazy && !t->generated) {
        int rc = gen_lazy(t->lazy, &t->data, &t->len, &t->sp, err);
        if (rc != EV_OK)
            return rc;
        t->generated = true;
        t->keep = t->lazy->kind == LAZY_RECORD || t->lazy->kind == LAZY_CUSTODY;
    }
    if (t->sp) {
        t->pos = 0;
        *size = t->sp->len;
        return EV_OK;
    }
    if (!t->data && t->len)
        return ev_err__set(err, EV_ERROR, "'%s' was read twice", t->lazy ? t->lazy->path : "a tag file");
    t->pos = 0;
    *size = t->len;
    return EV_OK;
}

static int64_t tag_read(void *ctx, void *out, size_t len, ev_errbuf *err)
{
    tag_prod *t = ctx;
    if (t->sp) {
        int64_t n = ev_spill__pread(t->sp, out, len, t->pos);
        if (n < 0)
            return ev_err__set(err, EV_EIO, "cannot read a generated tag file back from its "
                               "temporary file: %s", strerror(errno));
        t->pos += (size_t)n;
        return n;
    }
    size_t n = t->len - t->pos < len ? t->len - t->pos : len;
    if (n)
        memcpy(out, t->data + t->pos, n);
    t->pos += n;
    return (int64_t)n;
}

static int tag_close(void *ctx, bool ok, ev_errbuf *err)
{
    (void)ok;
    (void)err;
    tag_prod_release(ctx);
    return EV_OK;
}

static void tag_prods_free(ev_writer *w)
{
    while (w->prods) {
        tag_prod *t = w->prods;
        w->prods = t->next;
        tag_prod_release(t);
        free(t);
    }
}

/* Add a tag file whose bytes are handed over (owner: where they are owned,
 * or NULL when data itself was malloc'd for this) or generated later (lazy). */
static int add_tag_prod(ev_writer *w, ev_sink *s, const char *path, char *data, size_t len,
                        uint8_t **owner, lazy_ctx *lazy)
{
    tag_prod *t = calloc(1, sizeof(*t));
    if (!t) {
        if (!owner)
            free(data);
        return EV_ENOMEM;
    }
    t->data = data;
    t->len = len;
    t->owner = owner;
    t->lazy = lazy;
    t->next = w->prods;
    w->prods = t;
    int rc = lazy ? EV_OK : register_tag(w, path, data, len);
    ev_producer p = { tag_open, tag_read, tag_close, t, lazy ? UINT64_MAX : (uint64_t)len };
    if (rc == EV_OK)
        rc = ev_sink__add(s, path, &p, true, 0, &w->err);
    return rc;
}

/* An item's digest for a hash slot as hex (out: EV_HASH_HEX_MAX); "" when
 * the item was not hashed with it. */
static const char *item_hex(char *out, const wr_item *it, int slot)
{
    out[0] = '\0';
    if (it->hashed && slot == EV_HASH_SHA256)
        ev_hash__to_hex(out, it->sha256, sizeof(it->sha256));
    else if (it->hashed && slot == EV_HASH_SHA512 && it->sha512)
        ev_hash__to_hex(out, it->sha512, 64);
    return out;
}

/* the file producer's report: the digests of a payload file as written */
static void item_hashed(void *ctx, const ev_digests *d)
{
    wr_item *it = ctx;
    uint8_t raw[64];
    if (ev_record__unhex(raw, d->hex[EV_HASH_SHA256], 32))
        memcpy(it->sha256, raw, 32);
    /* it->sha512 was made for this when SHA-512 was asked for */
    if (it->sha512 && ev_record__unhex(raw, d->hex[EV_HASH_SHA512], 64))
        memcpy(it->sha512, raw, 64);
    it->hashed = true;
}

static int gen_manifest(ev_writer *w, int slot, ev_buf *b)
{
    char hex[EV_HASH_HEX_MAX];
    for (size_t i = 0; i < w->n; i++) {
        int rc = ev_bag__manifest_line(b, item_hex(hex, &w->items[i], slot), w->items[i].bag_path);
        if (rc)
            return rc;
    }
    return EV_OK;
}

static char *gen_tagmanifest(ev_writer *w, int slot, size_t *len)
{
    ev_buf b = { 0 };
    for (size_t i = 0; i < w->ntags; i++) {
        if (ev_bag__manifest_line(&b, w->tags[i].d.hex[slot], w->tags[i].path)) {
            ev_buf__free(&b);
            return NULL;
        }
    }
    *len = b.len;
    return b.data ? b.data : ev__strdup("");
}

/* One item for the record (record_write.c); released after it was dumped,
 * with the analysis trees it was made from. */
static int record_item(ev_record_item *x, size_t i, bool release, void *ctx)
{
    ev_writer *w = ctx;
    wr_item *it = &w->items[i];
    wr_extra *ix = it->x;
    if (release) {
        free((void *)x->meta_names);
        if (ix) {
            json_decref(ix->media);
            json_decref(ix->capture);
            json_decref(ix->content);
            ix->media = ix->capture = ix->content = NULL;
        }
        return EV_OK;
    }
    /* the record of a million items takes many seconds: a cancellation
     * (SIGTERM in the CLI) is looked at every 4096 items */
    if (i % 4096 == 4095 && ev_progress__add(&w->progress, 0, 0, NULL, false) != EV_OK)
        return EV_ECANCELED;
    ev_bundle__item_id(w->item_id, i);
    x->id = w->item_id;
    x->exhibit = it->exhibit;
    x->path = it->bag_path;
    x->original_path = ev_bundle__rel(it);
    x->name_note = it->renamed ? EV_BUNDLE_NAME_NOTE : NULL;
    x->size = it->size;
    x->algorithms = w->o.algorithms;
    /* the digests as hex, for this item only (released with it) */
    memset(&w->item_digests, 0, sizeof(w->item_digests));
    w->item_digests.algs = w->o.algorithms;
    for (int sl = 0; sl < EV_HASH_COUNT; sl++)
        if (w->o.algorithms & ev_hash__slot_alg(sl))
            item_hex(w->item_digests.hex[sl], it, sl);
    x->digests = &w->item_digests;
    x->mime = ev_bundle__mime_of(it);
    x->mtime_sec = it->mtime_sec;
    x->mtime_nsec = (long)it->mtime_nsec;
    if (!ix)
        return EV_OK;
    if (ix->source >= 0) {
        const wr_item *src = &w->items[ix->source];
        ev_bundle__item_id(w->source_id, (size_t)ix->source);
        x->source_id = w->source_id;
        x->source_sha256 = item_hex(w->source_hex, src, EV_HASH_SHA256);
        x->profile_name = ix->profile->name;
        x->profile_sha256 = ix->profile->sha256;
        x->profile_action = ix->profile->action;
        x->derivation = ix->derivation;
    }
    x->leaf_sha256 = (const uint8_t (*)[32])ix->leaf_sha256;
    x->nleaf_sha256 = ix->nleaf_sha256;
    x->media = ix->media;
    x->capture = ix->capture;
    x->content = ix->content;
    if (ix->nmeta) {
        const char **names = ev__calloc(ix->nmeta, sizeof(*names));
        if (!names)
            return EV_ENOMEM;
        for (size_t k = 0; k < ix->nmeta; k++)
            names[k] = ix->meta[k].name;
        x->meta_names = names;
        x->nmeta = ix->nmeta;
    }
    return EV_OK;
}

static int gen_record(ev_writer *w, ev_buf *b)
{
    json_t *sched = ev_bundle__schedule_record(w);
    if (w->schedule && !sched)
        return EV_ENOMEM;
    const ev_record_head head = { w->bundle_id, w->created, w->o.case_ref, w->o.organisation,
                                  w->o.operation, w->o.description, w->o.officer,
                                  w->o.officer_id, w->o.source_system, sched };
    int rc = ev_record__build(b, &head, w->n, record_item, w);
    json_decref(sched);
    return rc;
}

static int64_t record_read(void *ctx, void *buf, size_t len, uint64_t off)
{
    return ev_spill__pread(ctx, buf, len, off);
}

/* The large generated tag files (manifests, record, views) are written
 * through a spill: past a few hundred KB they wait in a temporary file
 * beside the output rather than in memory, hashed as they are written. */
static int gen_spilled(lazy_ctx *c, ev_spill **out, ev_errbuf *err)
{
    ev_writer *w = c->w;
    ev_spill *sp = calloc(1, sizeof(*sp));
    if (!sp || ev_spill__init(sp, w->spill_dir, w->o.algorithms) != EV_OK) {
        free(sp);
        return ev_err__set(err, EV_ENOMEM, "out of memory while writing %s", c->path);
    }
    int rc = EV_OK;
    if (c->kind == LAZY_MANIFEST) {
        rc = gen_manifest(w, c->slot, &sp->b);
    } else if (c->kind == LAZY_RECORD) {
        rc = gen_record(w, &sp->b);
    } else {
        /* the views, from the record and custody log just written */
        ev_views__rec r;
        rc = w->record ? ev_views__rec_read(&r, record_read, w->record, w->record->len, err)
                       : ev_err__set(err, EV_ERROR, "the record was not written before %s",
                                     c->path);
        if (rc == EV_OK) {
            rc = ev_views__write(&sp->b, c->kind == LAZY_VIEW_CASE ? EV_VIEWS__CASE_JSONLD
                                                                   : EV_VIEWS__INDEX_HTML,
                                 &r, w->custody_txt, w->custody_len, err);
            ev_views__rec_free(&r);
        }
    }
    ev_digests d;
    if (rc == EV_OK)
        rc = ev_spill__end(sp, &d, err);
    else if (rc == EV_ENOMEM || rc == EV_EIO)
        ev_err__set(err, rc, rc == EV_ENOMEM ? "out of memory while writing %s"
                                             : "cannot write %s to a temporary file", c->path);
    else if (rc == EV_ECANCELED)
        ev_err__set(err, rc, "canceled by callback");
    if (rc == EV_OK)
        rc = register_digests(w, c->path, &d);
    if (rc == EV_OK && c->kind == LAZY_MANIFEST && c->slot == EV_HASH_SHA256 &&
        !(w->manifest_sha256 = ev__strdup(d.hex[EV_HASH_SHA256])))
        rc = EV_ENOMEM;
    if (rc == EV_OK && c->kind == LAZY_RECORD &&
        !(w->record_sha256 = ev__strdup(d.hex[EV_HASH_SHA256])))
        rc = EV_ENOMEM;
    if (rc != EV_OK) {
        ev_spill__free(sp);
        free(sp);
        return rc;
    }
    if (c->kind == LAZY_RECORD) {
        /* kept by the writer for the views (its producer does not free it) */
        if (w->record) {
            ev_spill__free(w->record);
            free(w->record);
        }
        w->record = sp;
    }
    *out = sp;
    return EV_OK;
}

static int gen_lazy(void *arg, char **data, size_t *len, ev_spill **sp, ev_errbuf *err)
{
    lazy_ctx *c = arg;
    ev_writer *w = c->w;
    char *s = NULL;
    *len = 0;
    /* the tag files are made once the payload is in; a cancellation is
     * looked at before each (and while the record is built) */
    if (ev_progress__add(&w->progress, 0, 0, NULL, true) != EV_OK)
        return ev_err__set(err, EV_ECANCELED, "canceled by callback");
    switch (c->kind) {
    case LAZY_MANIFEST:
    case LAZY_RECORD:
    case LAZY_VIEW_CASE:
    case LAZY_VIEW_INDEX:
        return gen_spilled(c, sp, err);
    case LAZY_CUSTODY: {
        ev_custody_event e = { EV_CUSTODY_EVENT_VERSION, "created",
                               w->o.officer ? w->o.officer : "unknown",
                               w->o.organisation ? w->o.organisation : "unknown", NULL,
                               w->officer_person_id, NULL };
        s = ev_custody__line(1, w->created, &e, w->manifest_sha256, w->record_sha256, NULL);
        long seq = 2;
        for (size_t i = 0; s && i < w->n; i++) {
            const wr_item *it = &w->items[i];
            long source = ev_bundle__source(it);
            if (source < 0)
                continue;
            char prev[65], *note = NULL, *line = NULL;
            const char *last = strrchr(s, '\n');
            const char *start = s;
            for (const char *q = s; q < last; q++)
                if (*q == '\n')
                    start = q + 1;
            ev_hash__sha256_hex(prev, start, (size_t)(last - start));
            char id[EV_BUNDLE_ITEM_ID_MAX], sid[EV_BUNDLE_ITEM_ID_MAX];
            ev_bundle__item_id(id, i);
            ev_bundle__item_id(sid, (size_t)source);
            note = ev__asprintf("%s made from %s by profile %s", id, sid, it->x->profile->name);
            ev_custody_event te = e;
            te.action = "transcoded";
            te.note = note;
            line = note ? ev_custody__line(seq++, w->created, &te, w->manifest_sha256,
                                           w->record_sha256, prev) : NULL;
            char *joined = line ? ev__asprintf("%s%s", s, line) : NULL;
            free(note);
            free(line);
            free(s);
            s = joined;
        }
        if (s)
            *len = strlen(s);
        break;
    }
    case LAZY_TAGMANIFEST:
        s = gen_tagmanifest(w, c->slot, len);
        if (s)
            ev_hash__sha256_hex(w->tm_sha[c->slot], s, *len);
        break;
    case LAZY_SEAL: {
        ev_buf b = { 0 };
        for (int sl = 0; sl < 2; sl++) {
            if (!(w->o.algorithms & ev_hash__slot_alg(sl)))
                continue;
            char name[64];
            ev_bag__manifest_name(name, sizeof(name), true, ev_hash__slot_name(sl));
            ev_bag__manifest_line(&b, w->tm_sha[sl], name);
        }
        s = b.data;
        *len = b.len;
        break;
    }
    }
    if (!s)
        return ev_err__set(err, EV_ENOMEM, "out of memory while writing %s", c->path);
    if (c->kind != LAZY_TAGMANIFEST && c->kind != LAZY_SEAL) {
        int rc = register_tag(w, c->path, s, *len);
        if (rc) {
            free(s);
            return rc;
        }
        if (c->kind == LAZY_CUSTODY) {
            /* kept by the writer for the views (its producer does not free it) */
            free(w->custody_txt);
            w->custody_txt = s;
            w->custody_len = *len;
        }
    }
    *data = s;
    return EV_OK;
}

static int add_lazy(ev_writer *w, ev_sink *s, lazy_ctx *c)
{
    return add_tag_prod(w, s, c->path, NULL, 0, NULL, c);
}

static bool is_text_mime(const char *m)
{
    return strncmp(m, "text/", 5) == 0 || strcmp(m, "application/json") == 0 ||
           strcmp(m, "application/xml") == 0 || strcmp(m, "application/csv") == 0;
}

static void human_size(char *buf, size_t len, uint64_t b)
{
    const char *u[] = { "bytes", "KB", "MB", "GB", "TB", "PB" };
    double v = (double)b;
    int i = 0;
    while (v >= 1000.0 && i < 5) {
        v /= 1000.0;
        i++;
    }
    if (i == 0)
        snprintf(buf, len, "%llu bytes", (unsigned long long)b);
    else
        snprintf(buf, len, "%.1f %s", v, u[i]);
}

int ev_writer_seal(ev_writer *w, const char *out_path)
{
    if (!w || !out_path)
        return EV_EINVAL;
    int rc = EV_OK;
    ev_sink *sink = NULL;
    magic_t mg = NULL;
    lazy_ctx *lazy = NULL;
    ev_baginfo bi = { 0 };
    char *bi_txt = NULL;
    char *bag_name = NULL;

    if (w->ntags || w->spent) {
        return ev_err__set(&w->err, EV_EINVAL, "this writer was already sealed, or its seal "
                           "failed after the items were named; create a new one");
    }
    if (w->o.officer_person && !w->officer_person_id)
        return ev_err__set(&w->err, EV_EINVAL, "the officer's person '%.200s' is a person of an "
                           "exhibit schedule, but no schedule was given "
                           "(ev_writer_add_schedule())", w->o.officer_person);
    /* bag name: the output's file name without .zip */
    {
        const char *base = strrchr(out_path, '/');
        base = base ? base + 1 : out_path;
        size_t bl = strlen(base);
        if (w->o.format == EV_FORMAT_ZIP && bl > 4 && strcasecmp(base + bl - 4, ".zip") == 0)
            bl -= 4;
        bag_name = ev__strndup(base, bl);
        if (!bag_name)
            return EV_ENOMEM;
        bool ch = false;
        char *safe = ev_bundle__safe_component(bag_name, &ch);
        if (!safe || ch || !*bag_name) {
            free(safe);
            free(bag_name);
            return ev_err__set(&w->err, EV_EINVAL,
                               "'%s': the output name must be a plain, printable UTF-8 file "
                               "name", out_path);
        }
        free(safe);
    }
    if (ev__uuid_urn(w->bundle_id, sizeof(w->bundle_id)) != 0) {
        rc = ev_err__set(&w->err, EV_ERROR, "no random numbers for the bundle id");
        goto done;
    }
    ev__time_rfc3339(w->created, sizeof(w->created), (int64_t)time(NULL));
    w->spent = true;
    if ((rc = ev_bundle__refuse_duplicates(w)) != EV_OK || (rc = ev_bundle__assign_paths(w, 0)) != EV_OK)
        goto done;

    mg = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    if (mg && magic_load(mg, NULL) != 0) {
        magic_close(mg);
        mg = NULL;
    }
    if ((rc = ev_bundle__detect_mimes(w, mg, 0, w->n)) != EV_OK)
        goto done;
    uint64_t total = 0;
    if (!(w->o.flags & EV_WRITER_NO_MEDIA)) {
        ev_progress_state ap;
        ev_progress__init(&ap, w->o.progress_cb, w->o.progress_payload, "analysing media", 0, w->n);
        for (size_t i = 0; i < w->n; i++) {
            if (!ev_bundle__probes(&w->items[i]))
                continue;
            if ((rc = ev_bundle__analyze_item(w, &w->items[i])) != EV_OK)
                goto done;
            if (ev_progress__add(&ap, 0, 1, w->items[i].src, false) != EV_OK) {
                rc = ev_err__set(&w->err, EV_ECANCELED, "canceled by callback");
                goto done;
            }
        }
    }
    if (w->nprofiles && (rc = ev_bundle__make_derivatives(w, out_path, mg)) != EV_OK)
        goto done;
    /* every item has its type and final bag path now: the type database
     * (8 MB) and the folded paths that kept the bag paths unique are not
     * needed while the bag is written */
    if (mg)
        magic_close(mg);
    mg = NULL;
    ev_strset__free(&w->keys);
    total = 0;
    for (size_t i = 0; i < w->n; i++)
        total += w->items[i].size;
    ev_progress__init(&w->progress, w->o.progress_cb, w->o.progress_payload, "packing", total,
                      w->n);

    free(w->spill_dir);
    if (!(w->spill_dir = ev__parent_dir(out_path))) {
        rc = EV_ENOMEM;
        goto done;
    }
    rc = ev_sink__open(&sink, out_path, w->o.format, bag_name, &w->err);
    if (rc != EV_OK)
        goto done;

    /* bagit.txt and bag-info.txt first, so streaming readers see them early */
    if ((rc = add_tag_buffer(w, sink, EV_BAG_BAGIT_TXT, EV_BAGIT_TXT, strlen(EV_BAGIT_TXT))))
        goto done;
    {
        char date[16], oxum[64], size[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof(date), "%Y-%m-%d", &tm);
        snprintf(oxum, sizeof(oxum), "%llu.%zu", (unsigned long long)total, w->n);
        human_size(size, sizeof(size), total);
        char agent[64];
        snprintf(agent, sizeof(agent), "evidence %s (libevidence)", EV_VERSION_STRING);
        if (w->o.organisation)
            ev_bag__baginfo_add(&bi, "Source-Organization", w->o.organisation);
        if (w->o.officer)
            ev_bag__baginfo_add(&bi, "Contact-Name", w->o.officer);
        if (w->o.case_ref)
            ev_bag__baginfo_add(&bi, "External-Identifier", w->o.case_ref);
        if (w->o.description)
            ev_bag__baginfo_add(&bi, "External-Description", w->o.description);
        ev_bag__baginfo_add(&bi, "Bagging-Date", date);
        ev_bag__baginfo_add(&bi, "Bag-Size", size);
        ev_bag__baginfo_add(&bi, "Payload-Oxum", oxum);
        ev_bag__baginfo_add(&bi, "Bag-Software-Agent", agent);
        ev_bag__baginfo_add(&bi, "Evidence-Bundle-Id", w->bundle_id);
        ev_bag__baginfo_add(&bi, "Evidence-Format-Version", "1");
        if (w->o.case_ref)
            ev_bag__baginfo_add(&bi, "Evidence-Case-Reference", w->o.case_ref);
        if (w->o.operation)
            ev_bag__baginfo_add(&bi, "Evidence-Operation", w->o.operation);
        if (w->o.officer_id)
            ev_bag__baginfo_add(&bi, "Evidence-Officer-Identifier", w->o.officer_id);
        /* exhibits, in order of first appearance */
        for (size_t i = 0; i < w->nexhibits; i++)
            ev_bag__baginfo_add(&bi, "Evidence-Exhibit", w->exhibits[i].ref);
        ev_bag__baginfo_add(&bi, "Evidence-Record", EV_RECORD_FILE);
        ev_bag__baginfo_add(&bi, "Evidence-Custody-Log", EV_CUSTODY_FILE);
        bi_txt = ev_bag__baginfo_format(&bi);
        if (!bi_txt) {
            rc = EV_ENOMEM;
            goto done;
        }
        if ((rc = add_tag_buffer(w, sink, EV_BAG_INFO_TXT, bi_txt, strlen(bi_txt))))
            goto done;
    }
    if ((rc = ev_sink__add_dir(sink, "data", &w->err)))
        goto done;
    for (size_t i = 0; i < w->n; i++) {
        wr_item *it = &w->items[i];
        ev_producer p;
        free(it->sha512);
        it->sha512 = NULL;
        it->hashed = false;
        if ((w->o.algorithms & EV_ALG_SHA512) && !(it->sha512 = calloc(1, 64)))
            rc = EV_ENOMEM;
        else
            rc = ev_producer__file_cb(&p, it->src, it->size, w->o.algorithms, item_hashed, it,
                                      &w->progress);
        if (rc == EV_OK)
            /* the writer keeps the bag path until it is freed, after the sink */
            rc = ev_sink__add_borrowed(sink, it->bag_path, &p,
                                       is_text_mime(ev_bundle__mime_of(it)), it->mtime_sec,
                                       &w->err);
        if (rc != EV_OK)
            goto done;
    }
    /* per-item extras from the media analysis, and derivation records */
    for (size_t i = 0; i < w->n; i++) {
        wr_extra *it = w->items[i].x;
        /* only media items and working copies name tag files */
        if (!it || (!it->nmeta && !it->derivation))
            continue;
        char id[EV_BUNDLE_ITEM_ID_MAX];
        ev_bundle__item_id(id, i);
        /* the SHA-256 of the tag files the item names, for its leaf in the
         * record (docs/disclosure.md), while their bytes are at hand */
        free(it->leaf_sha256);
        it->nleaf_sha256 = 0;
        it->leaf_sha256 = ev__calloc(it->nmeta + 1, 32);
        if (!it->leaf_sha256) {
            rc = EV_ENOMEM;
            goto done;
        }
        if (it->derivation) {
            size_t dl = 0;
            char *dj = ev_record__dump(it->derivation, &dl);
            unsigned int ml = 0;
            if (dj)
                EVP_Digest(dj, dl, it->leaf_sha256[it->nleaf_sha256++], &ml, EVP_sha256(), NULL);
            char *p = ev__asprintf("meta/%s/derivation.json", id);
            rc = (dj && p) ? add_tag_prod(w, sink, p, dj, dl, NULL, NULL) : EV_ENOMEM;
            if (!p)
                free(dj);
            free(p);
            if (rc)
                goto done;
        }
        /* handed over: each is freed once it has been written */
        for (size_t k = 0; k < it->nmeta; k++) {
            char *p = ev__asprintf("meta/%s/%s", id, it->meta[k].name);
            if (!p) {
                rc = EV_ENOMEM;
                goto done;
            }
            unsigned int ml = 0;
            EVP_Digest(it->meta[k].data, it->meta[k].len, it->leaf_sha256[it->nleaf_sha256++],
                       &ml, EVP_sha256(), NULL);
            rc = add_tag_prod(w, sink, p, (char *)it->meta[k].data, it->meta[k].len,
                              &it->meta[k].data, NULL);
            free(p);
            if (rc)
                goto done;
        }
    }
    /* lazy tag files, computed after the payload has been written */
    lazy = calloc(2 * EV_HASH_COUNT + 6, sizeof(*lazy));
    if (!lazy) {
        rc = EV_ENOMEM;
        goto done;
    }
    size_t nl = 0;
    char mnames[EV_HASH_COUNT][32], tnames[EV_HASH_COUNT][32];
    for (int sl = 0; sl < EV_HASH_COUNT; sl++) {
        ev_bag__manifest_name(mnames[sl], sizeof(mnames[sl]), false, ev_hash__slot_name(sl));
        ev_bag__manifest_name(tnames[sl], sizeof(tnames[sl]), true, ev_hash__slot_name(sl));
    }
    for (int sl = 0; sl < 2; sl++) {
        if (!(w->o.algorithms & ev_hash__slot_alg(sl)))
            continue;
        lazy[nl] = (lazy_ctx){ w, LAZY_MANIFEST, sl, mnames[sl] };
        if ((rc = add_lazy(w, sink, &lazy[nl++])))
            goto done;
    }
    lazy[nl] = (lazy_ctx){ w, LAZY_RECORD, 0, EV_RECORD_FILE };
    if ((rc = add_lazy(w, sink, &lazy[nl++])))
        goto done;
    lazy[nl] = (lazy_ctx){ w, LAZY_CUSTODY, 0, EV_CUSTODY_FILE };
    if ((rc = add_lazy(w, sink, &lazy[nl++])))
        goto done;
    /* the two views of the record (docs/views.md) */
    lazy[nl] = (lazy_ctx){ w, LAZY_VIEW_CASE, 0, EV_VIEW_CASE };
    if ((rc = add_lazy(w, sink, &lazy[nl++])))
        goto done;
    lazy[nl] = (lazy_ctx){ w, LAZY_VIEW_INDEX, 0, EV_VIEW_INDEX };
    if ((rc = add_lazy(w, sink, &lazy[nl++])))
        goto done;
    for (int sl = 0; sl < 2; sl++) {
        if (!(w->o.algorithms & ev_hash__slot_alg(sl)))
            continue;
        lazy[nl] = (lazy_ctx){ w, LAZY_TAGMANIFEST, sl, tnames[sl] };
        if ((rc = add_lazy(w, sink, &lazy[nl++])))
            goto done;
    }
    /* the seal: SHA-256 of each tag manifest (docs/bundle.md) */
    lazy[nl] = (lazy_ctx){ w, LAZY_SEAL, 0, EV_BUNDLE_SEAL };
    if ((rc = add_lazy(w, sink, &lazy[nl++])))
        goto done;
    rc = ev_sink__commit(sink, &w->err);
    if (rc == EV_OK)
        ev_progress__add(&w->progress, 0, 0, NULL, true);
done:
    ev_sink__free(sink);
    tag_prods_free(w);
    free(lazy);
    if (mg)
        magic_close(mg);
    ev_bag__baginfo_free(&bi);
    free(bi_txt);
    free(bag_name);
    if (rc == EV_ENOMEM && !w->err.msg[0])
        ev_err__set(&w->err, rc, "out of memory");
    return rc;
}
