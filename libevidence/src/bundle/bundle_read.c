/*
 * bundle (reader): open, verify, extract, inspect and amend a bag. The
 * checks follow RFC 8493 section 3 (complete, valid), section 5 (security)
 * and section 6 (interoperability warnings); then the record (evidence.json)
 * and the custody log are checked against the manifests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bag/bag.h"
#include "bundle/bundle_int.h"
#include "container/container.h"
#include "base/hash.h"
#include "base/internal.h"
#include "media/media.h"
#include "record/record.h"
#include "record/record_check.h"
#include "transcode/transcode.h"
#include "views/views.h"

#define TAG_MAX ((size_t)512 << 20)
#define SEAL_NAME "tagseal-sha256.txt"
/* ev_bundle_options before the record limits (version 1) */
#define BUNDLE_OPTIONS_V1_SIZE offsetof(ev_bundle_options, max_items)

struct ev_bundle {
    ev_bundle_options o;
    ev_errbuf err;
    ev_store *store;
    ev_report *open_report;   /* entry-level problems found when opening */
    json_t *record;           /* evidence.json when readable */
    ev_item *items;
    size_t nitems;
};

int ev_bundle_options_init(ev_bundle_options *opts, unsigned int version)
{
    if (!opts)
        return EV_EINVAL;
    if (version != EV_BUNDLE_OPTIONS_VERSION && version != 1)
        return EV_EVERSION;
    memset(opts, 0, version == 1 ? BUNDLE_OPTIONS_V1_SIZE : sizeof(*opts));
    opts->version = version;
    return EV_OK;
}

int ev_bundle_new(ev_bundle **out, const ev_bundle_options *opts)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    ev_bundle_options def = EV_BUNDLE_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    if (opts->version != EV_BUNDLE_OPTIONS_VERSION && opts->version != 1)
        return EV_EVERSION;
    ev_bundle *b = calloc(1, sizeof(*b));
    if (!b)
        return EV_ENOMEM;
    memcpy(&b->o, opts, opts->version == 1 ? BUNDLE_OPTIONS_V1_SIZE : sizeof(*opts));
    ev_record__limits_default(&b->o);
    if (!b->o.max_entries)
        b->o.max_entries = 1000000;
    if (!b->o.max_total_size)
        b->o.max_total_size = (uint64_t)1 << 40;
    if (!b->o.max_ratio)
        b->o.max_ratio = 1000;
    if (!b->o.threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        b->o.threads = n > 0 ? (unsigned)(n > 16 ? 16 : n) : 1;
    }
    *out = b;
    return EV_OK;
}

static void close_bundle(ev_bundle *b)
{
    ev_store__free(b->store);
    b->store = NULL;
    ev_report_free(b->open_report);
    b->open_report = NULL;
    json_decref(b->record);
    b->record = NULL;
    free(b->items);
    b->items = NULL;
    b->nitems = 0;
}

void ev_bundle_free(ev_bundle *b)
{
    if (!b)
        return;
    close_bundle(b);
    free(b);
}

const char *ev_bundle_last_error(const ev_bundle *b)
{
    return b ? b->err.msg : "no bundle handle";
}

const char *ev_bundle_name(const ev_bundle *b)
{
    return b && b->store ? ev_store__bag_name(b->store) : NULL;
}

bool ev_bundle_is_zip(const ev_bundle *b)
{
    return b && b->store && ev_store__is_zip(b->store);
}

size_t ev_bundle_item_count(const ev_bundle *b)
{
    return b ? b->nitems : 0;
}

const ev_item *ev_bundle_item(const ev_bundle *b, size_t i)
{
    return b && i < b->nitems ? &b->items[i] : NULL;
}

static const char *jstr(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void load_record(ev_bundle *b)
{
    /* within the limits (record_check.c); a refusal goes in the open report */
    b->record = ev_record__load(b->store, &b->o, b->open_report);
    if (!b->record)
        return;
    json_t *items = json_object_get(b->record, "items");
    if (!json_is_array(items))
        return;
    size_t n = json_array_size(items);
    b->items = ev__calloc(n, sizeof(*b->items));
    if (!b->items)
        return;
    for (size_t k = 0; k < n; k++) {
        json_t *it = json_array_get(items, k);
        if (!json_is_object(it))
            continue;
        ev_item *x = &b->items[b->nitems++];
        x->version = EV_ITEM_VERSION;
        x->id = jstr(it, "id");
        x->exhibit = jstr(it, "exhibit");
        x->role = jstr(it, "role");
        x->path = jstr(it, "path");
        x->original_name = jstr(it, "original_name");
        json_t *sz = json_object_get(it, "size");
        x->size = json_is_integer(sz) && json_integer_value(sz) >= 0
                      ? (uint64_t)json_integer_value(sz) : 0;
        x->sha256 = jstr(json_object_get(it, "hashes"), "sha256");
        x->mime = jstr(it, "mime");
        const json_t *df = json_object_get(it, "derived_from");
        x->derived_from = json_is_object(df) ? jstr(df, "item") : NULL;
    }
}

int ev_bundle_open(ev_bundle *b, const char *path)
{
    if (!b || !path)
        return EV_EINVAL;
    close_bundle(b);
    b->err.msg[0] = '\0';
    int rc = ev_report__new(&b->open_report, "evidence.verify");
    if (rc)
        return rc;
    ev_store_limits lim = { b->o.max_entries, b->o.max_total_size, b->o.max_ratio };
    rc = ev_store__open(&b->store, path, &lim, b->open_report, &b->err);
    if (rc != EV_OK) {
        ev_report_free(b->open_report);
        b->open_report = NULL;
        return rc;
    }
    load_record(b);
    return EV_OK;
}

int ev_bundle_read_file(uint8_t **out, size_t *out_len, ev_bundle *b, const char *path,
                        size_t max_len)
{
    if (!out || !out_len || !b || !path || !b->store)
        return EV_EINVAL;
    *out = NULL;
    *out_len = 0;
    long i = ev_store__find(b->store, path);
    if (i < 0)
        return ev_err__set(&b->err, EV_ENOTFOUND, "'%s' is not in the bundle", path);
    char *buf = NULL;
    int rc = ev_store__read_all(&buf, out_len, b->store, (size_t)i,
                                max_len ? max_len : (size_t)64 << 20, &b->err);
    *out = (uint8_t *)buf;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* verification                                                              */
/* ------------------------------------------------------------------------ */

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

static int mkparents_at(int dfd, const char *rel)
{
    char *p = ev__strdup(rel);
    if (!p)
        return -1;
    for (char *q = p; *q; q++) {
        if (*q == '/') {
            *q = '\0';
            if (mkdirat(dfd, p, 0755) != 0 && errno != EEXIST) {
                free(p);
                return -1;
            }
            *q = '/';
        }
    }
    free(p);
    return 0;
}

static void hash_one(vctx *c, ev_store_cursor *cur, vfile *f, uint8_t *buf, size_t buflen)
{
    const ev_store_entry *e = ev_store__entry(c->b->store, f->entry);
    ev_errbuf err;
    err.msg[0] = '\0';
    ev_entry_reader *er = NULL;
    ev_hasher *h = NULL;
    int out = -1;
    char *tmpname = NULL;
    uint32_t algs = f->algs ? f->algs : EV_ALG_SHA256;
    int rc = ev_hash__new(&h, algs);
    if (rc == EV_OK)
        rc = ev_store__entry_open(&er, cur, f->entry, &err);
    if (rc == EV_OK && c->dest) {
        /* a short temporary name beside the target: names may be NAME_MAX long */
        const char *slash = strrchr(e->name, '/');
        tmpname = ev__asprintf("%.*s.evidence-partial-%zu", slash ? (int)(slash - e->name + 1) : 0,
                               e->name, f->entry);
        if (!tmpname || mkparents_at(c->destfd, e->name) != 0) {
            rc = ev_err__set(&err, EV_EIO, "cannot create folders for '%s' in '%s': %s",
                             e->name, c->dest, strerror(errno));
        } else {
            out = openat(c->destfd, tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                         0644);
            if (out < 0)
                rc = ev_err__set(&err, EV_EIO, "cannot create '%s/%s': %s", c->dest, e->name,
                                 strerror(errno));
        }
    }
    uint64_t total = 0;
    while (rc == EV_OK) {
        if (atomic_load(&c->cancel)) {
            rc = EV_ECANCELED;
            break;
        }
        int64_t n = ev_store__entry_read(er, buf, buflen, &err);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        total += (uint64_t)n;
        if (total > e->size && ev_store__is_zip(c->b->store)) {
            rc = ev_err__set(&err, EV_EFORMAT, "'%s' holds more data than its ZIP header "
                             "claims", e->name);
            break;
        }
        ev_hash__update(h, buf, (size_t)n);
        if (out >= 0) {
            const uint8_t *p = buf;
            size_t left = (size_t)n;
            while (left) {
                ssize_t w = write(out, p, left);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0) {
                    rc = ev_err__set(&err, EV_EIO, "cannot write '%s/%s': %s", c->dest, e->name,
                                     strerror(errno));
                    break;
                }
                p += w;
                left -= (size_t)w;
            }
        }
        atomic_fetch_add(&c->bytes, (uint64_t)n);
    }
    if (rc == EV_OK && ev_store__is_zip(c->b->store) && total != e->size)
        rc = ev_err__set(&err, EV_EFORMAT, "'%s' holds %llu bytes but its ZIP header claims %llu",
                         e->name, (unsigned long long)total, (unsigned long long)e->size);
    if (rc == EV_OK)
        ev_hash__final(h, &f->got);
    if (rc != EV_OK && ev_store__entry_crc_failed(er)) {
        /* changed bytes in a stored entry: that is a modification */
        f->crc_mismatch = true;
    }
    f->status = rc;
    if (rc != EV_OK) {
        f->errmsg = ev__strdup(err.msg[0] ? err.msg : ev_strerror(rc));
        f->write_failed = c->dest && out < 0;
    }
    /* compare now, so that extraction can keep or drop the file */
    f->mismatch = false;
    if (rc == EV_OK) {
        for (int s = 0; s < EV_HASH_COUNT; s++)
            if (f->expect[s] && !ev_hash__hex_equal(f->expect[s], f->got.hex[s]))
                f->mismatch = true;
    }
    if (out >= 0) {
        bool keep = rc == EV_OK && !f->mismatch && (f->listed || f->is_tag);
        if (close(out) != 0)
            keep = false;
        if (keep && e->mtime > 0) {
            struct timespec ts[2] = { { (time_t)e->mtime, 0 }, { (time_t)e->mtime, 0 } };
            utimensat(c->destfd, tmpname, ts, AT_SYMLINK_NOFOLLOW);
        }
        if (keep && renameat(c->destfd, tmpname, c->destfd, e->name) == 0) {
            f->extracted = true;
        } else {
            if (keep) {
                f->status = EV_EIO;
                f->write_failed = true;
                free(f->errmsg);
                f->errmsg = ev__asprintf("cannot create '%s/%s': %s", c->dest, e->name,
                                         strerror(errno));
            }
            unlinkat(c->destfd, tmpname, 0);
        }
    }
    free(tmpname);
    ev_store__entry_close(er);
    ev_hash__free(h);
}

typedef struct worker_arg {
    vctx *c;
    bool main_thread;
} worker_arg;

static void *worker(void *arg)
{
    worker_arg *wa = arg;
    vctx *c = wa->c;
    ev_store_cursor *cur = NULL;
    ev_errbuf err;
    size_t buflen = 1u << 20;
    uint8_t *buf = malloc(buflen);
    if (!buf || ev_store__cursor_new(&cur, c->b->store, &err) != EV_OK) {
        free(buf);
        return NULL; /* the remaining files are picked up by other workers */
    }
    uint64_t reported = 0;
    for (;;) {
        size_t k = atomic_fetch_add(&c->next, 1);
        if (k >= c->ntodo)
            break;
        hash_one(c, cur, &c->files[c->todo[k]], buf, buflen);
        if (wa->main_thread) {
            uint64_t now = atomic_load(&c->bytes);
            if (ev_progress__add(&c->progress, now - reported, 1, NULL, false) != EV_OK)
                atomic_store(&c->cancel, 1);
            reported = now;
        }
    }
    ev_store__cursor_free(cur);
    free(buf);
    return NULL;
}

static int run_hashing(vctx *c)
{
    unsigned nth = c->b->o.threads;
    if (nth > c->ntodo)
        nth = c->ntodo ? (unsigned)c->ntodo : 1;
    pthread_t th[16];
    worker_arg wa[16];
    unsigned started = 0;
    for (unsigned i = 1; i < nth && i < 16; i++) {
        wa[i].c = c;
        wa[i].main_thread = false;
        if (pthread_create(&th[i], NULL, worker, &wa[i]) == 0)
            started = i;
        else
            break;
    }
    wa[0].c = c;
    wa[0].main_thread = true;
    worker(&wa[0]);
    for (unsigned i = 1; i <= started; i++)
        pthread_join(th[i], NULL);
    ev_progress__add(&c->progress, 0, 0, NULL, true);
    return atomic_load(&c->cancel) ? EV_ECANCELED : EV_OK;
}

typedef struct name_idx {
    const char *name;
    size_t idx;
} name_idx;

static int ni_cmp(const void *a, const void *b)
{
    return strcmp(((const name_idx *)a)->name, ((const name_idx *)b)->name);
}

static long ni_find(const name_idx *v, size_t n, const char *name)
{
    name_idx key = { name, 0 };
    const name_idx *r = bsearch(&key, v, n, sizeof(*v), ni_cmp);
    return r ? (long)r->idx : -1;
}

static const char *manifest_slot_name(int slot)
{
    return slot >= 0 ? ev_hash__slot_name(slot) : "unknown";
}

/* verify --deep: recompute the media content hashes of every item that has
 * them and name the streams and frames that differ. */
static int deep_check(vctx *c)
{
    ev_bundle *b = c->b;
    ev_report *r = c->r;
    json_t *items = json_object_get(b->record, "items");
    json_t *out = json_array();
    size_t k;
    json_t *it;
    ev_store_cursor *cur = NULL;
    ev_errbuf err;
    if (!out || ev_store__cursor_new(&cur, b->store, &err) != EV_OK) {
        json_decref(out);
        return ev_report__add(r, EV_SEVERITY_ERROR, "deep-unavailable", NULL,
                              "content hashes could not be checked: %s", err.msg);
    }
    json_array_foreach(items, k, it) {
        json_t *ch = json_object_get(it, "content_hashes");
        const char *path = jstr(it, "path");
        if (!json_is_array(ch) || !json_array_size(ch) || !path)
            continue;
        long e = ev_store__find(b->store, path);
        if (e < 0)
            continue; /* already reported as missing */
        /* meta files listed by the item */
        json_t *metas = json_object_get(it, "meta");
        size_t nm = json_array_size(metas);
        ev_media__file *mf = ev__calloc(nm, sizeof(*mf));
        size_t got = 0;
        for (size_t q = 0; mf && q < nm; q++) {
            const char *mp = json_string_value(json_array_get(metas, q));
            long mi = mp ? ev_store__find(b->store, mp) : -1;
            char *buf = NULL;
            size_t len = 0;
            if (mi < 0 || ev_store__read_all(&buf, &len, b->store, (size_t)mi, TAG_MAX, &err))
                continue;
            const char *slash = strrchr(mp, '/');
            mf[got].name = ev__strdup(slash ? slash + 1 : mp);
            mf[got].data = (uint8_t *)buf;
            mf[got].len = len;
            got++;
        }
        ev_entry_reader *er = NULL;
        json_t *findings = NULL;
        int rc = ev_store__entry_open(&er, cur, (size_t)e, &err);
        if (rc == EV_OK) {
            ev_io io;
            ev_store__entry_io(&io, er);
            rc = ev_media__deep_verify(&findings, it, &io, mf, got, &err);
        }
        ev_store__entry_close(er);
        ev_media__files_free(mf, got);
        if (rc != EV_OK) {
            ev_report__add(r, EV_SEVERITY_ERROR, "content-check-error", path,
                           "content hashes of '%s' could not be recomputed: %s", path, err.msg);
            continue;
        }
        size_t q;
        json_t *f;
        json_array_foreach(findings, q, f) {
            const char *st = jstr(f, "status");
            if (!st || strcmp(st, "ok") == 0)
                continue;
            ev_buf frames = { 0 };
            json_t *fr = json_object_get(f, "frames");
            size_t z;
            json_t *v;
            json_array_foreach(fr, z, v) {
                if (z == 20) {
                    ev_buf__printf(&frames, ", ... (%zu in all)", json_array_size(fr));
                    break;
                }
                ev_buf__printf(&frames, "%s%lld", z ? ", " : "", (long long)json_integer_value(v));
            }
            const char *msg = jstr(f, "message");
            if (strcmp(st, "mismatch") == 0)
                ev_report__add(r, EV_SEVERITY_ERROR, "content-mismatch", path,
                               "'%s' stream %lld: %s content hash differs%s%s%s%s", path,
                               (long long)json_integer_value(json_object_get(f, "stream")),
                               jstr(f, "kind") ? jstr(f, "kind") : "?",
                               frames.len ? "; frames " : "", frames.len ? frames.data : "",
                               msg ? ": " : "", msg ? msg : "");
            else
                ev_report__add(r, EV_SEVERITY_WARNING, "content-check-error", path,
                               "'%s' stream %lld: %s", path,
                               (long long)json_integer_value(json_object_get(f, "stream")),
                               msg ? msg : "could not be checked");
            ev_buf__free(&frames);
        }
        json_array_append_new(out, json_pack("{s:s, s:o, s:o}", "item", jstr(it, "id") ? jstr(it, "id") : "",
                                             "path", ev__json_str(path), "findings",
                                             findings ? findings : json_array()));
    }
    ev_store__cursor_free(cur);
    if (!r->extra)
        r->extra = json_object();
    json_object_set_new(r->extra, "deep", out);
    return EV_OK;
}

/* A tag manifest that parsed cleanly, lists every tag file, and whose every
 * line matched its file: the seal, not the tag manifest, is then the odd one
 * out. */
static bool tagmanifest_clean(const vctx *c, const char *name, const name_idx *all, size_t nall)
{
    const ev_manifest *m = NULL;
    for (size_t i = 0; i < c->nmf && !m; i++)
        if (c->mf[i].is_tag && !strcmp(c->mf[i].filename, name))
            m = &c->mf[i];
    if (!m || m->problems)
        return false;
    for (size_t i = 0; i < nall; i++) {
        const char *nm = all[i].name;
        bool t;
        char a2[32];
        if (ev_bag__is_payload(nm) || ev_bag__is_manifest_name(nm, &t, a2, sizeof(a2)) ||
            !strcmp(nm, SEAL_NAME) || !strncmp(nm, "signatures/", 11))
            continue;
        bool listed = false;
        for (size_t k = 0; k < m->n && !listed; k++)
            listed = !strcmp(m->entries[k].path, nm);
        if (!listed)
            return false;
    }
    return true;
}

/* Does another source vouch for a tag file's current bytes? Used to blame a
 * modified tag manifest rather than the file it lists. */
static bool corroborated(const char *path, const vfile *f, const json_t *last_event,
                         const char *bagit_bytes)
{
    if (strcmp(path, "bagit.txt") == 0)
        return bagit_bytes && strcmp(bagit_bytes, EV_BAGIT_TXT) == 0;
    if (!last_event || f->status != EV_OK || !f->got.hex[EV_HASH_SHA256][0])
        return false;
    const char *key = strcmp(path, "manifest-sha256.txt") == 0 ? "manifest_sha256"
                      : strcmp(path, "evidence.json") == 0     ? "record_sha256"
                                                               : NULL;
    const char *v = key ? jstr(last_event, key) : NULL;
    return v && ev_hash__hex_equal(v, f->got.hex[EV_HASH_SHA256]);
}

static int check_record(vctx *c, const name_idx *payload, size_t npayload)
{
    ev_bundle *b = c->b;
    ev_report *r = c->r;
    json_t *items = json_object_get(b->record, "items");
    if (!json_is_array(items)) {
        return ev_report__add(r, EV_SEVERITY_ERROR, "record-invalid", "evidence.json",
                              "evidence.json has no 'items' array");
    }
    char *seen = calloc(npayload ? npayload : 1, 1);
    if (!seen)
        return EV_ENOMEM;
    size_t k;
    json_t *it;
    json_array_foreach(items, k, it) {
        const char *path = jstr(it, "path");
        const char *id = jstr(it, "id");
        if (!path || !id) {
            ev_report__add(r, EV_SEVERITY_ERROR, "record-invalid", "evidence.json",
                           "evidence.json item %zu has no id or path", k);
            continue;
        }
        name_idx key = { path, 0 };
        const name_idx *hit = bsearch(&key, payload, npayload, sizeof(*payload), ni_cmp);
        long e = hit ? (long)hit->idx : -1;
        if (e < 0) {
            ev_report__add(r, EV_SEVERITY_ERROR, "record-item-missing", path,
                           "evidence.json item %s names '%s', which is not a payload file of "
                           "the bag", id, path);
            continue;
        }
        seen[hit - payload] = 1;
        vfile *f = &c->files[e];
        const ev_store_entry *se = ev_store__entry(b->store, (size_t)e);
        json_t *sz = json_object_get(it, "size");
        if (!json_is_integer(sz) || (uint64_t)json_integer_value(sz) != se->size) {
            /* the size as written (31.0, "31", null...), not a number made up */
            char *szt = sz ? json_dumps(sz, JSON_ENCODE_ANY) : NULL;
            ev_report__add(r, EV_SEVERITY_ERROR, "record-size-mismatch", path,
                           "evidence.json gives %s a size of %s%s; the file has %llu bytes",
                           id, szt ? szt : "(none)", json_is_integer(sz) ? " bytes" : "",
                           (unsigned long long)se->size);
            free(szt);
        }
        const char *rs = jstr(json_object_get(it, "hashes"), "sha256");
        const char *ms = f->expect[EV_HASH_SHA256];
        if (!rs)
            ev_report__add(r, EV_SEVERITY_ERROR, "record-hash-missing", path,
                           "evidence.json item %s has no hashes.sha256", id);
        else if (ms && !ev_hash__hex_equal(rs, ms))
            ev_report__add(r, EV_SEVERITY_ERROR, "record-hash-mismatch", path,
                           "evidence.json and manifest-sha256.txt disagree on the SHA-256 of "
                           "'%s' (item %s)", path, id);
    }
    for (size_t q = 0; q < npayload; q++)
        if (!seen[q])
            ev_report__add(r, EV_SEVERITY_ERROR, "record-missing-item", payload[q].name,
                           "payload file '%s' has no item in evidence.json", payload[q].name);
    free(seen);
    /* the derivation chain: each working copy names a master whose hash it
     * recorded, and its derivation record agrees with both */
    json_array_foreach(items, k, it) {
        json_t *df = json_object_get(it, "derived_from");
        if (!df)
            continue;
        const char *id = jstr(it, "id") ? jstr(it, "id") : "?";
        const char *path = jstr(it, "path");
        const char *src_id = jstr(df, "item");
        const json_t *src = NULL;
        size_t q;
        json_t *x;
        json_array_foreach(items, q, x) if (src_id && jstr(x, "id") && !strcmp(jstr(x, "id"), src_id))
            src = x;
        if (!src) {
            ev_report__add(r, EV_SEVERITY_ERROR, "derivation-source-missing", path,
                           "item %s is derived from '%s', which is not in evidence.json", id,
                           src_id ? src_id : "(none)");
            continue;
        }
        const char *want = jstr(df, "source_sha256");
        const char *have = jstr(json_object_get(src, "hashes"), "sha256");
        if (!want || !have || !ev_hash__hex_equal(want, have))
            ev_report__add(r, EV_SEVERITY_ERROR, "derivation-source-mismatch", path,
                           "item %s was made from %s with SHA-256 %s, but %s now has %s", id,
                           src_id, want ? want : "(none)", src_id, have ? have : "(none)");
        const char *rec = jstr(df, "record");
        long ri = rec ? ev_store__find(b->store, rec) : -1;
        if (ri < 0) {
            ev_report__add(r, EV_SEVERITY_ERROR, "derivation-record-missing", path,
                           "item %s has no derivation record (%s)", id, rec ? rec : "none named");
            continue;
        }
        char *buf = NULL;
        size_t len = 0;
        ev_errbuf e;
        json_t *d = NULL;
        if (ev_store__read_all(&buf, &len, b->store, (size_t)ri, TAG_MAX, &e) == EV_OK)
            d = json_loadb(buf, len, 0, NULL);
        free(buf);
        const char *ds = jstr(json_object_get(d, "source"), "sha256");
        const char *dout = jstr(json_object_get(d, "output"), "sha256");
        const char *mine = jstr(json_object_get(it, "hashes"), "sha256");
        if (!d || !ds || !dout || !have || !mine || !ev_hash__hex_equal(ds, have) ||
            !ev_hash__hex_equal(dout, mine))
            ev_report__add(r, EV_SEVERITY_ERROR, "derivation-record-mismatch", rec,
                           "the derivation record of item %s does not match the hashes of %s "
                           "and of the copy", id, src_id);
        json_decref(d);
    }
    return EV_OK;
}

/* Copy one entry to a file (for tools that need a path). */
static int entry_to_file(ev_store *s, size_t i, const char *dst, ev_errbuf *err)
{
    ev_store_cursor *c = NULL;
    ev_entry_reader *er = NULL;
    int fd = -1;
    int rc = ev_store__cursor_new(&c, s, err);
    if (rc == EV_OK)
        rc = ev_store__entry_open(&er, c, i, err);
    if (rc == EV_OK && (fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
        rc = ev_err__set(err, EV_EIO, "cannot create '%s': %s", dst, strerror(errno));
    uint8_t buf[65536];
    while (rc == EV_OK) {
        int64_t n = ev_store__entry_read(er, buf, sizeof(buf), err);
        if (n <= 0) {
            rc = n < 0 ? (int)n : EV_OK;
            break;
        }
        if (write(fd, buf, (size_t)n) != n)
            rc = ev_err__set(err, EV_EIO, "cannot write '%s': %s", dst, strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    ev_store__entry_close(er);
    ev_store__cursor_free(c);
    return rc;
}

/* verify --deep for working copies: repeat each copy's verification
 * against its master from the derivation record. */
static int deep_derivations(vctx *c)
{
    ev_bundle *b = c->b;
    ev_report *r = c->r;
    json_t *items = json_object_get(b->record, "items");
    json_t *out = json_array();
    char *tmpdir = NULL;
    size_t k;
    json_t *it;
    json_array_foreach(items, k, it) {
        json_t *df = json_object_get(it, "derived_from");
        if (!df)
            continue;
        const char *path = jstr(it, "path"), *rec = jstr(df, "record"), *src_id = jstr(df, "item");
        const char *src_path = NULL;
        size_t q;
        json_t *x;
        json_array_foreach(items, q, x) if (src_id && jstr(x, "id") && !strcmp(jstr(x, "id"), src_id))
            src_path = jstr(x, "path");
        long ei = path ? ev_store__find(b->store, path) : -1;
        long mi = src_path ? ev_store__find(b->store, src_path) : -1;
        long ri = rec ? ev_store__find(b->store, rec) : -1;
        if (ei < 0 || mi < 0 || ri < 0)
            continue; /* reported by the record check */
        ev_errbuf e;
        char *dj = NULL;
        size_t dlen = 0;
        if (ev_store__read_all(&dj, &dlen, b->store, (size_t)ri, TAG_MAX, &e) != EV_OK)
            continue;
        json_t *d = json_loadb(dj, dlen, 0, NULL);
        free(dj);
        char *mp = NULL, *cp = NULL;
        int rc = EV_OK;
        if (ev_store__is_zip(b->store)) {
            if (!tmpdir) {
                tmpdir = ev__strdup(P_tmpdir "/evidence-deep-XXXXXX");
                if (!tmpdir || !mkdtemp(tmpdir)) {
                    free(tmpdir);
                    tmpdir = NULL;
                    json_decref(d);
                    ev_report__add(r, EV_SEVERITY_ERROR, "content-check-error", path,
                                   "no temporary folder to re-check working copies");
                    break;
                }
            }
            mp = ev__asprintf("%s/m%zu", tmpdir, k);
            cp = ev__asprintf("%s/c%zu", tmpdir, k);
            rc = (!mp || !cp) ? EV_ENOMEM : entry_to_file(b->store, (size_t)mi, mp, &e);
            if (rc == EV_OK)
                rc = entry_to_file(b->store, (size_t)ei, cp, &e);
        } else {
            mp = ev__asprintf("%s/%s", ev_store__path(b->store), src_path);
            cp = ev__asprintf("%s/%s", ev_store__path(b->store), path);
            rc = (!mp || !cp) ? EV_ENOMEM : EV_OK;
        }
        json_t *res = NULL;
        if (rc == EV_OK)
            rc = ev_transcode__recheck(&res, d, mp, cp, &e);
        if (ev_store__is_zip(b->store)) {
            if (mp)
                unlink(mp);
            if (cp)
                unlink(cp);
        }
        free(mp);
        free(cp);
        json_decref(d);
        if (rc != EV_OK) {
            ev_report__add(r, EV_SEVERITY_ERROR, "derivation-recheck-error", path,
                           "the working copy '%s' could not be re-checked: %s", path, e.msg);
            continue;
        }
        const char *verdict = jstr(res, "verdict");
        if (!verdict || strcmp(verdict, "pass") != 0)
            ev_report__add(r, EV_SEVERITY_ERROR, "derivation-recheck-failed", path,
                           "the working copy '%s' no longer passes its verification against "
                           "%s (%s)", path, src_path, verdict ? verdict : "no verdict");
        json_array_append_new(out, json_pack("{s:o, s:o}", "path", ev__json_str(path), "recheck",
                                             res ? res : json_null()));
    }
    if (tmpdir) {
        ev__rm_tree(tmpdir);
        free(tmpdir);
    }
    if (!r->extra)
        r->extra = json_object();
    json_object_set_new(r->extra, "derivations", out);
    return EV_OK;
}


/* Items ordered by bag path, then by their place in the record (so that of
 * two items naming one path the first listed is found). */
static int item_by_path(const void *a, const void *b)
{
    const ev_item *x = *(const ev_item *const *)a, *y = *(const ev_item *const *)b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x < y ? -1 : x > y);
}

/* The first item (in record order) whose path is p, or NULL. */
static const ev_item *const *find_item_by_path(const ev_item **v, size_t n, const char *p)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(v[mid]->path, p) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strcmp(v[lo]->path, p) == 0 ? &v[lo] : NULL;
}

static int do_verify(ev_report **out, ev_bundle *b, uint32_t flags, const char *dest)
{
    *out = NULL;
    if (!b || !b->store)
        return EV_EINVAL;
    ev_report *r = NULL;
    int rc = ev_report__new(&r, dest ? "evidence.extract" : "evidence.verify");
    if (rc)
        return rc;
    r->bundle_path = ev__strdup(ev_store__path(b->store));
    r->bag_name = ev__strdup(ev_store__bag_name(b->store));
    r->fast = flags & EV_VERIFY_FAST;
    r->deep = flags & EV_VERIFY_DEEP;
    for (size_t i = 0; i < b->open_report->nproblems; i++) {
        const ev_problem *p = &b->open_report->problems[i];
        ev_report__add(r, p->severity, p->code, p->path, "%s", p->message);
        /* not one bag folder: the ZIP cannot be checked as a bundle */
        if (!strcmp(p->code, "no-single-top-folder"))
            r->unreadable = true;
    }
    ev_store *s = b->store;
    size_t n = ev_store__count(s);
    vctx c;
    memset(&c, 0, sizeof(c));
    c.b = b;
    c.r = r;
    c.flags = flags;
    c.dest = dest;
    c.destfd = -1;
    c.files = ev__calloc(n, sizeof(*c.files));
    c.todo = ev__calloc(n, sizeof(*c.todo));
    name_idx *payload = ev__calloc(n, sizeof(*payload));
    name_idx *all = ev__calloc(n, sizeof(*all));
    ev_baginfo bi = { 0 };
    ev_fetch_entry *fetch = NULL;
    size_t nfetch = 0, npayload = 0, nall = 0;
    char *bagit = NULL, *tmp = NULL;
    size_t bagit_len = 0, tmplen = 0;
    json_t *last_event = NULL;
    uint64_t payload_bytes = 0;
    if (!c.files || !c.todo || !payload || !all) {
        rc = EV_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const ev_store_entry *e = ev_store__entry(s, i);
        c.files[i].entry = i;
        if (e->unsafe || e->type != EV_ENTRY_FILE)
            continue;
        all[nall++] = (name_idx){ e->name, i };
        if (ev_bag__is_payload(e->name)) {
            payload[npayload++] = (name_idx){ e->name, i };
            payload_bytes += e->size;
        }
    }
    qsort(all, nall, sizeof(*all), ni_cmp);
    qsort(payload, npayload, sizeof(*payload), ni_cmp);
    r->payload_files = npayload;
    r->payload_bytes = payload_bytes;

    /* extraction target: everything is written into a hidden staging folder
     * beside DEST, renamed to DEST only when the whole bundle verified */
    if (dest) {
        struct stat st;
        int dfd = -1;
        if (stat(dest, &st) == 0) {
            if (!S_ISDIR(st.st_mode)) {
                rc = ev_err__set(&b->err, EV_EEXISTS, "'%s' exists and is not a folder", dest);
                goto done;
            }
            dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd < 0) {
                rc = ev_err__set(&b->err, EV_EIO, "cannot open '%s': %s", dest, strerror(errno));
                goto done;
            }
        }
        int probe = dfd >= 0 ? dup(dfd) : -1;
        DIR *d = probe >= 0 ? fdopendir(probe) : NULL;
        int entries = 0;
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                entries++;
        if (d)
            closedir(d);
        if (dfd >= 0)
            close(dfd);
        if (entries) {
            rc = ev_err__set(&b->err, EV_EEXISTS, "'%s' is not empty; extract into a new or "
                             "empty folder", dest);
            goto done;
        }
        rc = ev__tmp_create(&c.staging, &c.destfd, dest, true, &b->err);
        if (rc != EV_OK)
            goto done;
        for (size_t i = 0; i < n; i++) {
            const ev_store_entry *e = ev_store__entry(s, i);
            if (!e->unsafe && e->type == EV_ENTRY_DIR && e->name[0]) {
                char *p = ev__asprintf("%s/", e->name);
                if (p) {
                    mkparents_at(c.destfd, p);
                    free(p);
                }
            }
        }
    }

    /* bagit.txt */
    long bi_txt = ev_store__find(s, "bagit.txt");
    int vmaj = 1, vmin = 0;
    bool bagit_unsupported = false;
    if (bi_txt < 0) {
        ev_report__add(r, EV_SEVERITY_ERROR, "bagit-txt-missing", "bagit.txt",
                       "bagit.txt is missing: this is not a BagIt bag (or the file was "
                       "removed)");
        r->unreadable = true;
    } else {
        ev_errbuf e;
        if (ev_store__read_all(&bagit, &bagit_len, s, (size_t)bi_txt, 4096, &e) != EV_OK) {
            ev_report__add(r, EV_SEVERITY_ERROR, "bagit-txt-invalid", "bagit.txt", "%s", e.msg);
        } else {
            int prc = ev_bag__parse_bagit_txt(bagit, bagit_len, &vmaj, &vmin, r);
            if (prc == EV_EUNSUPPORTED) {
                /* checked as 1.0 anyway: if a tag manifest shows that
                 * bagit.txt was changed, the bag is damaged, not unsupported */
                bagit_unsupported = true;
                vmaj = 1;
                vmin = 0;
            }
        }
    }
    bool legacy = vmaj < 1;

    /* data/ */
    bool has_data = npayload > 0;
    for (size_t i = 0; i < n && !has_data; i++) {
        const ev_store_entry *e = ev_store__entry(s, i);
        has_data = !e->unsafe && e->type == EV_ENTRY_DIR && strcmp(e->name, "data") == 0;
    }
    if (!has_data)
        ev_report__add(r, EV_SEVERITY_ERROR, "data-dir-missing", "data",
                       "the bag has no data/ folder (RFC 8493 2.1.2)");

    /* manifests */
    c.mf = ev__calloc(n, sizeof(*c.mf));
    if (!c.mf) {
        rc = EV_ENOMEM;
        goto done;
    }
    size_t n_payload_mf = 0;
    for (size_t i = 0; i < nall; i++) {
        bool is_tag;
        char alg[32];
        if (!ev_bag__is_manifest_name(all[i].name, &is_tag, alg, sizeof(alg)))
            continue;
        ev_errbuf e;
        free(tmp);
        tmp = NULL;
        if (ev_store__read_all(&tmp, &tmplen, s, all[i].idx, TAG_MAX, &e) != EV_OK) {
            ev_report__add(r, EV_SEVERITY_ERROR, "tag-unreadable", all[i].name, "%s", e.msg);
            continue;
        }
        if (!ev_bag__check_text(all[i].name, tmp, tmplen, r))
            continue;
        ev_manifest *m = &c.mf[c.nmf++];
        m->filename = ev__strdup(all[i].name);
        m->is_tag = is_tag;
        ev_bag__normalize_alg(m->alg, sizeof(m->alg), alg);
        if (strcmp(m->alg, alg) != 0)
            ev_report__add(r, EV_SEVERITY_ERROR, "manifest-name-not-normalized", all[i].name,
                           "'%s': the algorithm in a manifest name must be written in "
                           "normalized form, '%s' (RFC 8493 2.4); rename the file", all[i].name,
                           m->alg);
        m->slot = ev_hash__slot_from_name(m->alg);
        if (m->slot < 0)
            ev_report__add(r, EV_SEVERITY_WARNING, "manifest-algorithm-unsupported", all[i].name,
                           "'%s' uses algorithm '%s', which this tool cannot compute; its "
                           "file list is checked but not its checksums", all[i].name, m->alg);
        size_t before = r->nproblems;
        if ((rc = ev_bag__parse_manifest(m, tmp, tmplen, r)) != EV_OK)
            goto done;
        m->problems += r->nproblems - before;
        if (!is_tag)
            n_payload_mf++;
    }
    if (n_payload_mf == 0)
        ev_report__add(r, EV_SEVERITY_ERROR, "payload-manifest-missing", NULL,
                       "the bag has no payload manifest (manifest-<algorithm>.txt); it "
                       "cannot be checked");
    else {
        bool usable = false;
        for (size_t mi = 0; mi < c.nmf; mi++)
            usable = usable || (!c.mf[mi].is_tag && c.mf[mi].slot >= 0);
        if (!usable) {
            ev_report__add(r, EV_SEVERITY_ERROR, "manifest-algorithm-unsupported", NULL,
                           "no payload manifest uses an algorithm this tool can compute "
                           "(sha256, sha512, sha1, md5); the payload cannot be checked");
            r->unreadable = true;
        }
    }

    /* fetch.txt */
    long fi = ev_store__find(s, "fetch.txt");
    if (fi >= 0) {
        ev_errbuf e;
        free(tmp);
        tmp = NULL;
        if (ev_store__read_all(&tmp, &tmplen, s, (size_t)fi, TAG_MAX, &e) == EV_OK &&
            ev_bag__check_text("fetch.txt", tmp, tmplen, r)) {
            ev_bag__parse_fetch(&fetch, &nfetch, tmp, tmplen, r);
            ev_report__add(r, EV_SEVERITY_WARNING, "fetch-present", "fetch.txt",
                           "fetch.txt lists %zu file(s) to be fetched from elsewhere; this tool "
                           "never fetches. Files it names that are not in the bag make the bag "
                           "incomplete", nfetch);
            for (size_t k = 0; k < nfetch; k++) {
                const char *why = ev_bag__unsafe_reason(fetch[k].path, strlen(fetch[k].path));
                if (why || !ev_bag__is_payload(fetch[k].path))
                    ev_report__add(r, EV_SEVERITY_ERROR, "fetch-bad-path", "fetch.txt",
                                   "fetch.txt names '%s', %s", fetch[k].path,
                                   why ? why : "which is outside data/");
            }
        }
    }

    /* bag-info.txt */
    long bii = ev_store__find(s, "bag-info.txt");
    if (bii >= 0) {
        ev_errbuf e;
        free(tmp);
        tmp = NULL;
        if (ev_store__read_all(&tmp, &tmplen, s, (size_t)bii, TAG_MAX, &e) == EV_OK &&
            ev_bag__check_text("bag-info.txt", tmp, tmplen, r)) {
            ev_bag__parse_baginfo(&bi, tmp, tmplen, legacy, r);
            size_t nox = ev_bag__baginfo_count(&bi, "Payload-Oxum");
            const char *ox = ev_bag__baginfo_get(&bi, "Payload-Oxum");
            uint64_t ob, of;
            if (nox > 1)
                ev_report__add(r, EV_SEVERITY_ERROR, "oxum-repeated", "bag-info.txt",
                               "Payload-Oxum appears %zu times in bag-info.txt; it must appear "
                               "at most once", nox);
            if (ox && !ev_bag__parse_oxum(ox, &ob, &of))
                ev_report__add(r, EV_SEVERITY_ERROR, "oxum-invalid", "bag-info.txt",
                               "Payload-Oxum '%s' is not 'OctetCount.StreamCount'", ox);
            else if (ox && (ob != payload_bytes || of != npayload))
                ev_report__add(r, EV_SEVERITY_ERROR, "oxum-mismatch", "bag-info.txt",
                               "Payload-Oxum says %llu bytes in %llu files; the payload has "
                               "%llu bytes in %zu files: files were added, removed, truncated "
                               "or extended", (unsigned long long)ob, (unsigned long long)of,
                               (unsigned long long)payload_bytes, npayload);
        }
    }

    /* completeness: every manifest line names a present, safe file */
    uint32_t *in_manifests = ev__calloc(n, sizeof(uint32_t)); /* bit per payload manifest */
    if (!in_manifests) {
        rc = EV_ENOMEM;
        goto done;
    }
    size_t pm_index = 0;
    for (size_t mi = 0; mi < c.nmf; mi++) {
        ev_manifest *m = &c.mf[mi];
        size_t before_m = r->nproblems;
        name_idx *seen = ev__calloc(m->n, sizeof(*seen));
        size_t nseen = 0;
        for (size_t k = 0; k < m->n; k++) {
            ev_manifest_entry *me = &m->entries[k];
            const char *why = ev_bag__unsafe_reason(me->path, strlen(me->path));
            if (why) {
                ev_report__add(r, EV_SEVERITY_ERROR, "manifest-unsafe-path", m->filename,
                               "%s line %zu names '%s': %s; refused (RFC 8493 5.1)",
                               m->filename, me->line, me->path, why);
                continue;
            }
            if (!m->is_tag && !ev_bag__is_payload(me->path)) {
                ev_report__add(r, EV_SEVERITY_ERROR, "manifest-outside-data", m->filename,
                               "%s line %zu names '%s', which is outside data/; a payload "
                               "manifest may only list payload files", m->filename, me->line,
                               me->path);
                continue;
            }
            if (m->is_tag) {
                bool t;
                char a2[32];
                if (ev_bag__is_payload(me->path)) {
                    ev_report__add(r, EV_SEVERITY_ERROR, "tagmanifest-lists-payload",
                                   m->filename, "%s line %zu lists payload file '%s'; tag "
                                   "manifests list tag files only", m->filename, me->line,
                                   me->path);
                    continue;
                }
                if (ev_bag__is_manifest_name(me->path, &t, a2, sizeof(a2)) && t) {
                    ev_report__add(r, EV_SEVERITY_ERROR, "tagmanifest-lists-tagmanifest",
                                   m->filename, "%s lists the tag manifest '%s'; it must not",
                                   m->filename, me->path);
                    continue;
                }
            }
            if (seen) {
                seen[nseen++] = (name_idx){ me->path, k };
            }
            long e = ni_find(all, nall, me->path);
            if (e < 0) {
                /* RFC 8493 6.1.1.3: compare after normalizing both sides */
                char *nfc = ev_bag__nfc(me->path);
                for (size_t q = 0; nfc && q < nall && e < 0; q++) {
                    char *o = ev_bag__nfc(all[q].name);
                    if (o && strcmp(o, nfc) == 0) {
                        e = (long)all[q].idx;
                        ev_report__add(r, EV_SEVERITY_WARNING, "normalization-mismatch",
                                       all[q].name, "%s names '%s' in a different Unicode "
                                       "normalization than the file '%s'; matched, but "
                                       "tools that compare bytes will not find it",
                                       m->filename, me->path, all[q].name);
                    }
                    free(o);
                }
                free(nfc);
            }
            if (e < 0) {
                bool fetched = false;
                for (size_t q = 0; q < nfetch && !fetched; q++)
                    fetched = strcmp(fetch[q].path, me->path) == 0;
                ev_report__add(r, EV_SEVERITY_ERROR, fetched ? "fetch-not-fetched" : "missing",
                               me->path,
                               fetched ? "'%s' is listed in fetch.txt but is not in the bag; "
                                         "fetch it with a trusted tool, then verify again"
                                       : "'%s' is listed in %s but is missing from the bag",
                               me->path, m->filename);
                ev_report__add_file(r, me->path, m->is_tag, EV_FILE_MISSING, 0, NULL);
                continue;
            }
            vfile *f = &c.files[e];
            f->listed = true;
            f->is_tag = m->is_tag;
            if (!m->is_tag && pm_index < 32)
                in_manifests[e] |= 1u << pm_index;
            if (m->slot >= 0) {
                if (f->expect[m->slot] && !ev_hash__hex_equal(f->expect[m->slot], me->digest))
                    ev_report__add(r, EV_SEVERITY_ERROR, "manifest-conflict", me->path,
                                   "'%s' has different %s checksums in %s and %s", me->path,
                                   m->alg, f->expect_src[m->slot], m->filename);
                f->expect[m->slot] = me->digest;
                f->expect_src[m->slot] = m->filename;
                f->algs |= ev_hash__slot_alg(m->slot);
            }
        }
        if (seen) {
            qsort(seen, nseen, sizeof(*seen), ni_cmp);
            for (size_t q = 1; q < nseen; q++)
                if (strcmp(seen[q].name, seen[q - 1].name) == 0)
                    ev_report__add(r, EV_SEVERITY_ERROR, "manifest-duplicate", seen[q].name,
                                   "'%s' is listed more than once in %s (RFC 8493 2.1.3)",
                                   seen[q].name, m->filename);
            free(seen);
        }
        for (size_t q = before_m; q < r->nproblems; q++)
            if (r->problems[q].severity == EV_SEVERITY_ERROR)
                m->problems++;
        if (!m->is_tag)
            pm_index++;
    }
    /* every payload file in every payload manifest */
    for (size_t q = 0; q < npayload; q++) {
        size_t e = payload[q].idx;
        uint32_t want = pm_index >= 32 ? 0xFFFFFFFFu : ((1u << pm_index) - 1);
        if (in_manifests[e] == want)
            continue;
        if (in_manifests[e] == 0) {
            ev_report__add(r, EV_SEVERITY_ERROR, "extra", payload[q].name,
                           "'%s' is in the bag but in no payload manifest: it was added after "
                           "the bag was made", payload[q].name);
            ev_report__add_file(r, payload[q].name, false, EV_FILE_EXTRA,
                                ev_store__entry(s, e)->size, NULL);
        } else {
            size_t pi = 0;
            for (size_t mi = 0; mi < c.nmf; mi++) {
                if (c.mf[mi].is_tag)
                    continue;
                if (!(in_manifests[e] & (1u << pi)))
                    ev_report__add(r, EV_SEVERITY_ERROR, "not-in-manifest", payload[q].name,
                                   "'%s' is not listed in %s; every payload file must be in "
                                   "every payload manifest", payload[q].name,
                                   c.mf[mi].filename);
                pi++;
            }
        }
    }
    free(in_manifests);
    /* every tag manifest lists every payload manifest */
    for (size_t mi = 0; mi < c.nmf; mi++) {
        if (!c.mf[mi].is_tag)
            continue;
        for (size_t mj = 0; mj < c.nmf; mj++) {
            if (c.mf[mj].is_tag)
                continue;
            bool found = false;
            for (size_t k = 0; k < c.mf[mi].n && !found; k++)
                found = strcmp(c.mf[mi].entries[k].path, c.mf[mj].filename) == 0;
            if (!found)
                ev_report__add(r, EV_SEVERITY_ERROR, "tagmanifest-incomplete", c.mf[mi].filename,
                               "%s does not list the payload manifest %s", c.mf[mi].filename,
                               c.mf[mj].filename);
        }
    }

    /* hashing (skipped with --fast, except for extraction) */
    if (!(flags & EV_VERIFY_FAST) || dest) {
        uint64_t total = 0;
        for (size_t i = 0; i < n; i++) {
            const ev_store_entry *e = ev_store__entry(s, i);
            if (e->unsafe || e->type != EV_ENTRY_FILE)
                continue;
            bool payload_file = ev_bag__is_payload(e->name);
            if (!c.files[i].listed && !dest)
                continue;
            if (dest && payload_file && !c.files[i].listed)
                continue; /* unlisted payload is never extracted */
            if (!c.files[i].listed)
                c.files[i].is_tag = true;
            c.files[i].queued = true;
            c.todo[c.ntodo++] = i;
            total += e->size;
        }
        /* the record and the manifest are needed by the custody check */
        long mi = ev_store__find(s, "manifest-sha256.txt");
        if (mi >= 0)
            c.files[mi].algs |= EV_ALG_SHA256;
        long ri = ev_store__find(s, "evidence.json");
        if (ri >= 0)
            c.files[ri].algs |= EV_ALG_SHA256;
        ev_progress__init(&c.progress, b->o.progress_cb, b->o.progress_payload,
                          dest ? "extracting" : "verifying", total, c.ntodo);
        rc = run_hashing(&c);
        if (rc != EV_OK) {
            ev_err__set(&b->err, rc, "canceled by callback");
            goto done;
        }
        /* Every other entry is read to its end as well (the seal,
         * signatures, unlisted files): a read error or a CRC mismatch
         * anywhere means a byte that matters may not be what was sealed. */
        for (size_t i = 0; i < n; i++) {
            const ev_store_entry *e = ev_store__entry(s, i);
            if (e->unsafe || e->type != EV_ENTRY_FILE || c.files[i].queued)
                continue;
            ev_errbuf e2;
            e2.msg[0] = '\0';
            bool crc_bad = false;
            int crc = ev_store__check_entry(s, i, &crc_bad, &e2);
            if (crc == EV_ENOMEM) {
                rc = crc;
                goto done;
            }
            if (crc != EV_OK && crc_bad)
                ev_report__add(r, EV_SEVERITY_ERROR, ev_bag__is_payload(e->name) ? "modified"
                                                                                : "tag-modified",
                               e->name, "'%s' was modified: its bytes no longer match the CRC "
                               "recorded in the ZIP", e->name);
            else if (crc != EV_OK)
                ev_report__add(r, EV_SEVERITY_ERROR, "unreadable", e->name, "'%s' cannot be "
                               "read: %s", e->name, e2.msg[0] ? e2.msg : ev_strerror(crc));
        }
    }

    /* custody log (read before blaming tag files) */
    long ci = ev_store__find(s, "custody.jsonl");
    if (ci >= 0) {
        ev_errbuf e;
        free(tmp);
        tmp = NULL;
        if (ev_store__read_all(&tmp, &tmplen, s, (size_t)ci, (size_t)b->o.max_record_size, &e) ==
                EV_OK && ev_custody__count(tmp, tmplen) <= b->o.max_custody_events) {
            size_t nev, bad;
            char last_sha[65];
            ev_custody__check(tmp, tmplen, r, &nev, last_sha, &last_event, NULL, &bad);
            if (nev == 0)
                ev_report__add(r, EV_SEVERITY_ERROR, "custody-empty", "custody.jsonl",
                               "custody.jsonl holds no events");
        }
    } else if (b->record) {
        ev_report__add(r, EV_SEVERITY_ERROR, "custody-missing", "custody.jsonl",
                       "the bundle has evidence.json but no custody.jsonl");
    }

    /* results per file */
    for (size_t k = 0; k < c.ntodo; k++) {
        vfile *f = &c.files[c.todo[k]];
        const ev_store_entry *e = ev_store__entry(s, f->entry);
        ev_file_status st = EV_FILE_OK;
        if (f->status != EV_OK && f->write_failed) {
            st = EV_FILE_ERROR;
            ev_report__add(r, EV_SEVERITY_ERROR, "extract-failed", e->name, "'%s' was not "
                           "extracted: %s", e->name, f->errmsg ? f->errmsg : "write error");
        } else if (f->status != EV_OK && f->crc_mismatch) {
            st = EV_FILE_MODIFIED;
            ev_report__add(r, EV_SEVERITY_ERROR, ev_bag__is_payload(e->name) ? "modified"
                                                                            : "tag-modified",
                           e->name, "'%s' was modified: its bytes no longer match the CRC "
                           "recorded in the ZIP, so they cannot match its checksums either",
                           e->name);
        } else if (f->status != EV_OK) {
            st = EV_FILE_ERROR;
            ev_report__add(r, EV_SEVERITY_ERROR, "unreadable", e->name, "'%s' cannot be read: "
                           "%s", e->name, f->errmsg ? f->errmsg : "read error");
        } else {
            for (int sl = 0; sl < EV_HASH_COUNT; sl++) {
                if (!f->expect[sl] || ev_hash__hex_equal(f->expect[sl], f->got.hex[sl]))
                    continue;
                st = EV_FILE_MODIFIED;
                bool tagm = strncmp(f->expect_src[sl], "tagmanifest-", 12) == 0;
                for (size_t mi = 0; mi < c.nmf; mi++)
                    if (!strcmp(c.mf[mi].filename, f->expect_src[sl]))
                        c.mf[mi].problems++;
                if (tagm && corroborated(e->name, f, last_event, bagit)) {
                    ev_report__add(r, EV_SEVERITY_ERROR, "tagmanifest-modified",
                                   f->expect_src[sl], "%s was modified: its %s checksum for "
                                   "'%s' is wrong, while the custody log vouches for the file",
                                   f->expect_src[sl], manifest_slot_name(sl), e->name);
                    st = EV_FILE_OK;
                } else {
                    ev_report__add(r, EV_SEVERITY_ERROR, tagm ? "tag-modified" : "modified",
                                   e->name, "'%s' was modified: its %s is %s, but %s says %s",
                                   e->name, manifest_slot_name(sl), f->got.hex[sl],
                                   f->expect_src[sl], f->expect[sl]);
                }
            }
        }
        if (dest && !f->extracted && f->status == EV_OK && st == EV_FILE_OK && f->mismatch)
            st = EV_FILE_MODIFIED;
        long idx = ev_report__add_file(r, e->name, !ev_bag__is_payload(e->name), st, e->size,
                                       f->got.hex[EV_HASH_SHA256][0] ? f->got.hex[EV_HASH_SHA256]
                                                                     : NULL);
        if (idx >= 0 && dest && !f->extracted && st == EV_FILE_OK && f->status == EV_OK)
            r->files[idx].status = EV_FILE_ERROR;
    }

    /* the seal over the tag manifest */
    long si = ev_store__find(s, SEAL_NAME);
    if (si >= 0 && !(flags & EV_VERIFY_FAST)) {
        ev_errbuf e;
        free(tmp);
        tmp = NULL;
        if (ev_store__read_all(&tmp, &tmplen, s, (size_t)si, 4096, &e) == EV_OK) {
            ev_manifest sm = { 0 };
            sm.filename = ev__strdup(SEAL_NAME);
            sm.slot = EV_HASH_SHA256;
            snprintf(sm.alg, sizeof(sm.alg), "sha256");
            ev_report tmpr = { 0 };
            ev_bag__parse_manifest(&sm, tmp, tmplen, &tmpr);
            for (size_t k = 0; k < tmpr.nproblems; k++) {
                free((char *)tmpr.problems[k].code);
                free((char *)tmpr.problems[k].path);
                free((char *)tmpr.problems[k].message);
            }
            free(tmpr.problems);
            bool seal_ok = tmpr.nproblems == 0 && sm.n > 0;
            for (size_t k = 0; k < sm.n && seal_ok; k++) {
                long t = ni_find(all, nall, sm.entries[k].path);
                if (t < 0) {
                    seal_ok = false;
                    break;
                }
                char *tm = NULL;
                size_t tml = 0;
                char sha[65];
                if (ev_store__read_all(&tm, &tml, s, (size_t)t, TAG_MAX, &e) != EV_OK) {
                    seal_ok = false;
                    break;
                }
                ev_hash__sha256_hex(sha, tm, tml);
                free(tm);
                if (!ev_hash__hex_equal(sha, sm.entries[k].digest)) {
                    /* the tag manifest changed, unless it verified every file */
                    bool tm_clean = tagmanifest_clean(&c, sm.entries[k].path, all, nall);
                    if (tm_clean)
                        ev_report__add(r, EV_SEVERITY_ERROR, "seal-modified", SEAL_NAME,
                                       "%s was modified: it does not match %s, which itself "
                                       "verifies every tag file", SEAL_NAME, sm.entries[k].path);
                    else if (ev_report__count_code(r, "tagmanifest-modified") == 0)
                        ev_report__add(r, EV_SEVERITY_ERROR, "tagmanifest-modified",
                                       sm.entries[k].path, "%s was modified: its checksum no "
                                       "longer matches %s", sm.entries[k].path, SEAL_NAME);
                    seal_ok = true; /* reported */
                }
            }
            if (!seal_ok)
                ev_report__add(r, EV_SEVERITY_ERROR, "seal-invalid", SEAL_NAME,
                               "%s is damaged or names a missing tag manifest", SEAL_NAME);
            ev_bag__manifest_free(&sm);
        }
    }

    /* custody log against the current manifest and record */
    if (last_event && !(flags & EV_VERIFY_FAST)) {
        long mi = ev_store__find(s, "manifest-sha256.txt");
        long ri = ev_store__find(s, "evidence.json");
        const char *lm = jstr(last_event, "manifest_sha256");
        const char *lr = jstr(last_event, "record_sha256");
        if (mi >= 0 && c.files[mi].status == EV_OK && c.files[mi].got.hex[0][0] && lm &&
            !ev_hash__hex_equal(lm, c.files[mi].got.hex[EV_HASH_SHA256]))
            ev_report__add(r, EV_SEVERITY_ERROR, "custody-manifest-mismatch", "manifest-sha256.txt",
                           "manifest-sha256.txt differs from the version recorded by the last "
                           "custody event: it was changed without a custody event");
        if (ri >= 0 && c.files[ri].status == EV_OK && c.files[ri].got.hex[0][0] && lr &&
            !ev_hash__hex_equal(lr, c.files[ri].got.hex[EV_HASH_SHA256]))
            ev_report__add(r, EV_SEVERITY_ERROR, "custody-record-mismatch", "evidence.json",
                           "evidence.json differs from the version recorded by the last "
                           "custody event: it was changed without a custody event");
    }

    /* the record against the manifests */
    if (ev_store__find(s, "evidence.json") >= 0) {
        if (!b->record && ev_record__refused(r))
            ; /* the limit or the lie that stopped it was reported */
        else if (!b->record)
            ev_report__add(r, EV_SEVERITY_ERROR, "record-invalid", "evidence.json",
                           "evidence.json is not a valid JSON object (or has duplicate keys)");
        else if ((rc = check_record(&c, payload, npayload)) != EV_OK)
            goto done;
        else if ((flags & EV_VERIFY_DEEP) && (rc = deep_check(&c)) != EV_OK)
            goto done;
        else if ((flags & EV_VERIFY_DEEP) && (rc = deep_derivations(&c)) != EV_OK)
            goto done;
    }

    /* the record against its schema, bag-info.txt, the bytes and its views */
    bool views_checkable = false;
    if ((rc = ev_record__verify(r, s, b->record, &b->o, flags, &views_checkable)) != EV_OK)
        goto done;
    if (views_checkable && !(flags & EV_VERIFY_FAST) &&
        (rc = ev_views__check(r, s, b->o.max_record_size > SIZE_MAX - 1
                                        ? SIZE_MAX - 1
                                        : (size_t)b->o.max_record_size)) != EV_OK)
        goto done;

    if (bagit_unsupported) {
        bool tampered = false;
        for (size_t i = 0; i < r->nproblems && !tampered; i++)
            tampered = r->problems[i].path && !strcmp(r->problems[i].path, "bagit.txt") &&
                       (!strcmp(r->problems[i].code, "tag-modified"));
        if (!tampered)
            r->unreadable = true;
    }

    /* file results carry the record's item id: items sorted by path once,
     * then one binary search per file (linear in files x log items) */
    if (b->record && b->nitems && r->nfiles) {
        const ev_item **byp = ev__reallocarray(NULL, b->nitems, sizeof(*byp));
        size_t nb = 0;
        if (byp) {
            for (size_t k = 0; k < b->nitems; k++)
                if (b->items[k].path && b->items[k].id)
                    byp[nb++] = &b->items[k];
            /* stable for equal paths: the first item listed wins, as before */
            qsort(byp, nb, sizeof(*byp), item_by_path);
            for (size_t i = 0; i < r->nfiles; i++) {
                const ev_item *const *hit = find_item_by_path(byp, nb, r->files[i].path);
                if (hit)
                    r->files[i].item_id = ev__strdup((*hit)->id);
            }
            free(byp);
        }
    }

    /* unlisted tag files: RFC 8493 says to ignore their contents */
    for (size_t i = 0; i < nall; i++) {
        const char *nm = all[i].name;
        bool t;
        char a2[32];
        if (c.files[all[i].idx].listed || ev_bag__is_payload(nm) ||
            ev_bag__is_manifest_name(nm, &t, a2, sizeof(a2)) || strcmp(nm, SEAL_NAME) == 0 ||
            strncmp(nm, "signatures/", 11) == 0 || strcmp(nm, "bagit.txt") == 0)
            continue;
        if (c.nmf && n_payload_mf < c.nmf)
            ev_report__add(r, EV_SEVERITY_INFO, "tag-unlisted", nm,
                           "tag file '%s' is not in any tag manifest; its content is not "
                           "checked", nm);
    }
    rc = EV_OK;
    /* extract: DEST receives the bag only when everything verified */
    if (dest && c.staging) {
        if (ev_report_verdict(r) == EV_VERDICT_VALID) {
            if (rename(c.staging, dest) == 0) {
                free(c.staging);
                c.staging = NULL;
            } else {
                ev_report__add(r, EV_SEVERITY_ERROR, "extract-failed", NULL, "cannot move the "
                               "extracted bag into '%s': %s; nothing was extracted", dest,
                               strerror(errno));
            }
        } else {
            ev_report__add(r, EV_SEVERITY_WARNING, "extract-discarded", NULL, "nothing was "
                           "extracted into '%s': the bundle did not verify, so the files "
                           "written were removed again", dest);
        }
    }
done:
    if (c.destfd >= 0)
        close(c.destfd);
    if (c.staging) {
        ev__rm_tree(c.staging);
        free(c.staging);
    }
    for (size_t i = 0; i < c.nmf; i++)
        ev_bag__manifest_free(&c.mf[i]);
    free(c.mf);
    for (size_t i = 0; c.files && i < n; i++)
        free(c.files[i].errmsg);
    free(c.files);
    free(c.todo);
    free(payload);
    free(all);
    free(bagit);
    free(tmp);
    ev_bag__baginfo_free(&bi);
    ev_bag__fetch_free(fetch, nfetch);
    json_decref(last_event);
    if (rc != EV_OK) {
        ev_report_free(r);
        return rc;
    }
    *out = r;
    return EV_OK;
}

int ev_bundle_verify(ev_report **out, ev_bundle *b, const ev_verify_options *opts)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (opts && opts->version != EV_VERIFY_OPTIONS_VERSION)
        return EV_EVERSION;
    return do_verify(out, b, opts ? opts->flags : 0, NULL);
}

int ev_bundle_extract(ev_report **out, ev_bundle *b, const char *dest)
{
    if (!out || !dest)
        return EV_EINVAL;
    return do_verify(out, b, 0, dest);
}

/* ------------------------------------------------------------------------ */
/* inspect                                                                   */
/* ------------------------------------------------------------------------ */

static json_t *baginfo_json(ev_bundle *b)
{
    json_t *o = json_object();
    long i = ev_store__find(b->store, "bag-info.txt");
    char *buf = NULL;
    size_t len = 0;
    ev_errbuf e;
    if (i < 0 || ev_store__read_all(&buf, &len, b->store, (size_t)i, TAG_MAX, &e) != EV_OK)
        return o;
    ev_baginfo bi = { 0 };
    ev_report *tmp = NULL;
    ev_report__new(&tmp, "tmp");
    if (tmp && ev__utf8_valid(buf, len))
        ev_bag__parse_baginfo(&bi, buf, len, false, tmp);
    ev_report_free(tmp);
    for (size_t k = 0; k < bi.n; k++) {
        json_t *prev = json_object_get(o, bi.e[k].label);
        json_t *v = ev__json_str(bi.e[k].value);
        if (!prev) {
            json_object_set_new(o, bi.e[k].label, v);
        } else if (json_is_array(prev)) {
            json_array_append_new(prev, v);
        } else {
            json_t *a = json_array();
            json_array_append(a, prev);
            json_array_append_new(a, v);
            json_object_set_new(o, bi.e[k].label, a);
        }
    }
    ev_bag__baginfo_free(&bi);
    free(buf);
    return o;
}

int ev_bundle_inspect_json(char **out, ev_bundle *b)
{
    if (!out || !b || !b->store)
        return EV_EINVAL;
    *out = NULL;
    json_t *o = json_object();
    json_object_set_new(o, "format", json_string("evidence.inspect"));
    json_object_set_new(o, "format_version", json_integer(1));
    json_object_set_new(o, "bundle", ev__json_str(ev_store__path(b->store)));
    json_object_set_new(o, "bag", ev__json_str(ev_store__bag_name(b->store)));
    json_object_set_new(o, "container", json_string(ev_store__is_zip(b->store) ? "zip" : "folder"));
    json_object_set_new(o, "bag_info", baginfo_json(b));
    uint64_t bytes = 0, files = 0;
    json_t *sigs = json_array();
    json_t *tags = json_array();
    for (size_t i = 0; i < ev_store__count(b->store); i++) {
        const ev_store_entry *e = ev_store__entry(b->store, i);
        if (e->unsafe || e->type != EV_ENTRY_FILE)
            continue;
        if (ev_bag__is_payload(e->name)) {
            bytes += e->size;
            files++;
        } else if (strncmp(e->name, "signatures/", 11) == 0) {
            json_array_append_new(sigs, ev__json_str(e->name));
        } else {
            json_array_append_new(tags, ev__json_str(e->name));
        }
    }
    json_object_set_new(o, "payload", json_pack("{s:I, s:I}", "files", (json_int_t)files,
                                                "bytes", (json_int_t)bytes));
    if (b->record) {
        json_object_set(o, "bundle_id", json_object_get(b->record, "bundle_id"));
        json_object_set(o, "created", json_object_get(b->record, "created"));
        json_object_set(o, "case", json_object_get(b->record, "case"));
        json_object_set(o, "exported_by", json_object_get(b->record, "exported_by"));
        json_t *ex = json_array();
        json_t *items = json_object_get(b->record, "items");
        size_t k;
        json_t *it;
        json_array_foreach(items, k, it) {
            json_t *e = json_object_get(it, "exhibit");
            bool seen = false;
            size_t q;
            json_t *x;
            json_array_foreach(ex, q, x) seen = seen || json_equal(x, e);
            if (!seen && e)
                json_array_append(ex, e);
        }
        json_object_set_new(o, "exhibits", ex);
        json_object_set(o, "items", items ? items : json_null());
    } else {
        json_object_set_new(o, "items", json_null());
    }
    char *cj = NULL;
    bool ok = false;
    if (ev_bundle_custody_json(&cj, &ok, b) == EV_OK && cj) {
        json_t *cust = json_loads(cj, 0, NULL);
        json_object_set_new(o, "custody", cust ? json_incref(json_object_get(cust, "events"))
                                               : json_null());
        json_decref(cust);
        free(cj);
    }
    json_object_set_new(o, "signatures", sigs);
    json_object_set_new(o, "tag_files", tags);
    char *s = ev_record__dump(o, NULL);
    json_decref(o);
    if (!s)
        return EV_ENOMEM;
    *out = s;
    return EV_OK;
}

int ev_bundle_custody_json(char **out, bool *all_ok, ev_bundle *b)
{
    if (!out || !b || !b->store)
        return EV_EINVAL;
    *out = NULL;
    if (all_ok)
        *all_ok = false;
    long ci = ev_store__find(b->store, "custody.jsonl");
    if (ci < 0)
        return ev_err__set(&b->err, EV_ENOTFOUND, "the bundle has no custody.jsonl");
    char *buf = NULL;
    size_t len = 0;
    int rc = ev_store__read_all(&buf, &len, b->store, (size_t)ci, (size_t)b->o.max_record_size,
                                &b->err);
    if (rc)
        return rc;
    if (ev_custody__count(buf, len) > b->o.max_custody_events) {
        free(buf);
        return ev_err__set(&b->err, EV_EUNSAFE, "custody.jsonl has more events than the limit "
                           "of %llu (ev_bundle_options.max_custody_events)",
                           (unsigned long long)b->o.max_custody_events);
    }
    size_t nev, bad;
    char last_sha[65];
    json_t *events = NULL, *last = NULL;
    ev_custody__check(buf, len, NULL, &nev, last_sha, &last, &events, &bad);
    free(buf);
    /* the last line has nothing after it to vouch for it: compare the whole
     * log with its tag manifest entry too */
    const char *tm_note = NULL;
    long ti = ev_store__find(b->store, "tagmanifest-sha256.txt");
    if (ti >= 0) {
        char *tb = NULL, *cb = NULL;
        size_t tl = 0, cl = 0;
        ev_errbuf e2;
        if (ev_store__read_all(&tb, &tl, b->store, (size_t)ti, TAG_MAX, &e2) == EV_OK &&
            ev_store__read_all(&cb, &cl, b->store, (size_t)ci, TAG_MAX, &e2) == EV_OK &&
            ev__utf8_valid(tb, tl)) {
            ev_manifest m = { 0 };
            m.slot = EV_HASH_SHA256;
            m.filename = ev__strdup("tagmanifest-sha256.txt");
            snprintf(m.alg, sizeof(m.alg), "sha256");
            ev_report *tr = NULL;
            if (ev_report__new(&tr, "tmp") == EV_OK)
                ev_bag__parse_manifest(&m, tb, tl, tr);
            ev_report_free(tr);
            char sha[65];
            ev_hash__sha256_hex(sha, cb, cl);
            for (size_t k = 0; k < m.n; k++)
                if (!strcmp(m.entries[k].path, "custody.jsonl") &&
                    !ev_hash__hex_equal(m.entries[k].digest, sha))
                    tm_note = "custody.jsonl does not match tagmanifest-sha256.txt: a line "
                              "was changed (run 'evidence verify')";
            ev_bag__manifest_free(&m);
        }
        free(tb);
        free(cb);
    }
    if (tm_note)
        bad++;
    json_t *o = json_object();
    json_object_set_new(o, "format", json_string("evidence.custody"));
    json_object_set_new(o, "format_version", json_integer(1));
    json_object_set_new(o, "bundle", ev__json_str(ev_store__path(b->store)));
    json_object_set_new(o, "chain_ok", json_boolean(bad == 0 && nev > 0));
    if (tm_note)
        json_object_set_new(o, "problem", json_string(tm_note));
    json_object_set_new(o, "events", events ? events : json_array());
    json_decref(last);
    char *s = ev_record__dump(o, NULL);
    json_decref(o);
    if (!s)
        return EV_ENOMEM;
    if (all_ok)
        *all_ok = bad == 0 && nev > 0;
    *out = s;
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* amend                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct am_tag {
    char *path;
    char sha[EV_HASH_COUNT][EV_HASH_HEX_MAX];
} am_tag;

typedef struct amend_state {
    am_tag *t;
    size_t n, cap;
    uint32_t algs;
} amend_state;

static int am_register(amend_state *a, const char *path, const void *data, size_t len)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        am_tag *t = ev__reallocarray(a->t, cap, sizeof(*t));
        if (!t)
            return EV_ENOMEM;
        a->t = t;
        a->cap = cap;
    }
    ev_hasher *h = NULL;
    ev_digests d;
    if (ev_hash__new(&h, a->algs) != EV_OK)
        return EV_ENOMEM;
    ev_hash__update(h, data, len);
    ev_hash__final(h, &d);
    ev_hash__free(h);
    am_tag *t = &a->t[a->n];
    memcpy(t->sha, d.hex, sizeof(t->sha));
    if (!(t->path = ev__strdup(path)))
        return EV_ENOMEM;
    a->n++;
    return EV_OK;
}

static bool is_generated_tag(const char *name)
{
    bool t;
    char alg[32];
    return (ev_bag__is_manifest_name(name, &t, alg, sizeof(alg)) && t) ||
           strcmp(name, SEAL_NAME) == 0;
}

static int add_buf(ev_sink *sink, const char *path, const void *data, size_t len, bool compress,
                   ev_errbuf *err)
{
    ev_producer p;
    int rc = ev_producer__buffer(&p, data, len);
    if (rc == EV_OK)
        rc = ev_sink__add(sink, path, &p, compress, 0, err);
    return rc;
}

/* A buffer handed to the sink without a copy and freed as soon as it has
 * been written (ev_producer__buffer copies, and its copy lives as long as
 * the sink). The sink does not free this producer: the caller owns the
 * owned_buf and frees data (NULL once written) after the sink. */
typedef struct owned_buf {
    char *data;
    size_t len, pos;
} owned_buf;

static int ob_open(void *ctx, uint64_t *size, ev_errbuf *err)
{
    owned_buf *o = ctx;
    if (!o->data && o->len)
        return ev_err__set(err, EV_ERROR, "a view was read twice");
    o->pos = 0;
    *size = o->len;
    return EV_OK;
}

static int64_t ob_read(void *ctx, void *out, size_t len, ev_errbuf *err)
{
    (void)err;
    owned_buf *o = ctx;
    size_t n = o->len - o->pos < len ? o->len - o->pos : len;
    if (n)
        memcpy(out, o->data + o->pos, n);
    o->pos += n;
    return (int64_t)n;
}

static int ob_close(void *ctx, bool ok, ev_errbuf *err)
{
    (void)ok;
    (void)err;
    owned_buf *o = ctx;
    free(o->data);
    o->data = NULL;
    return EV_OK;
}

static int add_owned(ev_sink *sink, owned_buf *o, const char *path, char *data, size_t len,
                     ev_errbuf *err)
{
    o->data = data;
    o->len = len;
    o->pos = 0;
    ev_producer p = { ob_open, ob_read, ob_close, o, UINT64_MAX };
    return ev_sink__add(sink, path, &p, true, 0, err);
}

/* Append the tag manifests and the seal for the registered tag files. */
int ev_bundle__write_tagmanifests(ev_sink *sink, const am_tag *t, size_t n, uint32_t algs,
                                  ev_errbuf *err);
int ev_bundle__write_tagmanifests(ev_sink *sink, const am_tag *t, size_t n, uint32_t algs,
                                  ev_errbuf *err)
{
    ev_buf seal = { 0 };
    int rc = EV_OK;
    for (int sl = 0; sl < 2 && rc == EV_OK; sl++) {
        if (!(algs & ev_hash__slot_alg(sl)))
            continue;
        ev_buf b = { 0 };
        for (size_t i = 0; i < n && rc == EV_OK; i++) {
            char *enc = ev_bag__encode_path(t[i].path);
            if (!enc || ev_buf__printf(&b, "%s  %s\n", t[i].sha[sl], enc))
                rc = EV_ENOMEM;
            free(enc);
        }
        char name[64];
        snprintf(name, sizeof(name), "tagmanifest-%s.txt", ev_hash__slot_name(sl));
        char sha[65];
        ev_hash__sha256_hex(sha, b.data ? b.data : "", b.len);
        if (rc == EV_OK && ev_buf__printf(&seal, "%s  %s\n", sha, name))
            rc = EV_ENOMEM;
        if (rc == EV_OK)
            rc = add_buf(sink, name, b.data ? b.data : "", b.len, true, err);
        ev_buf__free(&b);
    }
    if (rc == EV_OK)
        rc = add_buf(sink, SEAL_NAME, seal.data ? seal.data : "", seal.len, true, err);
    ev_buf__free(&seal);
    return rc;
}

static bool amend_path_ok(const char *p)
{
    if (ev_bag__unsafe_reason(p, strlen(p)) || ev_bag__is_payload(p))
        return false;
    bool t;
    char alg[32];
    if (ev_bag__is_manifest_name(p, &t, alg, sizeof(alg)))
        return false;
    return !ev_views__is_view(p) && strcmp(p, "bagit.txt") && strcmp(p, "custody.jsonl") &&
           strcmp(p, SEAL_NAME) &&
           strcmp(p, "bag-info.txt") && strcmp(p, "evidence.json") && strcmp(p, "fetch.txt");
}

static int amend_locked(ev_bundle *b, const ev_custody_event *event, const ev_tag_file *files,
                        size_t nfiles);
static int amend_write(ev_bundle *b, const ev_custody_event *event,
                               const ev_tag_file *files, size_t nfiles);

int ev_bundle_amend(ev_bundle *b, const ev_custody_event *event, const ev_tag_file *files,
                    size_t nfiles)
{
    if (!b || !b->store || (nfiles && !files))
        return EV_EINVAL;
    if (event && (event->version != EV_CUSTODY_EVENT_VERSION || !event->action || !event->actor ||
                  !event->organisation))
        return ev_err__set(&b->err, EV_EINVAL, "a custody event needs an action, an actor and an "
                           "organisation");
    for (size_t i = 0; i < nfiles; i++)
        if (!files[i].path || !amend_path_ok(files[i].path) || (files[i].len && !files[i].data))
            return ev_err__set(&b->err, EV_EINVAL, "'%s' cannot be added as a tag file",
                               files[i].path ? files[i].path : "(null)");
    /* One writer at a time: lock the bundle (the file, or the bag folder),
     * then make sure the lock is on what the path names now (an earlier
     * writer may have renamed a new bundle into place), and re-read it. */
    int lockfd = -1;
    {
        char *path0 = ev__strdup(ev_store__path(b->store));
        if (!path0)
            return EV_ENOMEM;
        for (int tries = 0;; tries++) {
            lockfd = open(path0, O_RDONLY | O_CLOEXEC);
            int lr = lockfd < 0 ? -1 : flock(lockfd, LOCK_EX | LOCK_NB);
            /* another writer: wait for it, but not for ever (10 s) */
            for (int w = 0; lr != 0 && lockfd >= 0 && errno == EWOULDBLOCK && w < 200; w++) {
                struct timespec ts = { 0, 50 * 1000 * 1000 };
                nanosleep(&ts, NULL);
                lr = flock(lockfd, LOCK_EX | LOCK_NB);
            }
            if (lr != 0) {
                int busy = lockfd >= 0 && errno == EWOULDBLOCK;
                int rc0 = busy ? ev_err__set(&b->err, EV_EIO, "'%s' is being changed by another "
                                             "process; nothing was changed. Try again when it "
                                             "has finished", path0)
                               : ev_err__set(&b->err, EV_EIO, "cannot lock '%s': %s", path0,
                                             strerror(errno));
                if (lockfd >= 0)
                    close(lockfd);
                free(path0);
                return rc0;
            }
            struct stat a, c;
            if (fstat(lockfd, &a) == 0 && stat(path0, &c) == 0 && a.st_ino == c.st_ino &&
                a.st_dev == c.st_dev)
                break;
            close(lockfd);
            lockfd = -1;
            if (tries > 100) {
                int rc0 = ev_err__set(&b->err, EV_EIO, "'%s' keeps changing; try again", path0);
                free(path0);
                return rc0;
            }
        }
        int rc0 = ev_bundle_open(b, path0);
        free(path0);
        if (rc0 != EV_OK) {
            close(lockfd);
            return rc0;
        }
    }
    int rc = amend_locked(b, event, files, nfiles);
    close(lockfd);
    return rc;
}

static int amend_locked(ev_bundle *b, const ev_custody_event *event, const ev_tag_file *files,
                        size_t nfiles)
{
    if (ev_store__find(b->store, "custody.jsonl") < 0)
        return ev_err__set(&b->err, EV_EUNSUPPORTED, "'%s' has no custody.jsonl: it is a BagIt "
                           "bag but not an evidence bundle, so it cannot take custody events or "
                           "signatures. Pack its data with 'evidence pack'",
                           ev_store__path(b->store));
    /* never add to a bundle that does not verify */
    ev_report *vr = NULL;
    int rc = ev_bundle_verify(&vr, b, NULL);
    if (rc != EV_OK)
        return rc;
    if (ev_report_verdict(vr) != EV_VERDICT_VALID) {
        const ev_problem *p = NULL;
        for (size_t i = 0; i < vr->nproblems && !p; i++)
            if (vr->problems[i].severity == EV_SEVERITY_ERROR)
                p = &vr->problems[i];
        rc = ev_err__set(&b->err, EV_EFORMAT, "the bundle fails verification (%s); it was not "
                         "changed. Run 'evidence verify' for every problem",
                         p ? p->message : "unreadable");
        ev_report_free(vr);
        return rc;
    }
    ev_report_free(vr);
    /* The parsed record is not needed to amend, and for a big bundle it is
     * the biggest thing in memory: drop it now; the bundle is opened again
     * at the end (or the record read again if the amendment fails). */
    json_decref(b->record);
    b->record = NULL;
    free(b->items);
    b->items = NULL;
    b->nitems = 0;
    rc = amend_write(b, event, files, nfiles);
    if (rc != EV_OK && !b->record && b->store)
        load_record(b);
    return rc;
}

static int amend_write(ev_bundle *b, const ev_custody_event *event,
                               const ev_tag_file *files, size_t nfiles)
{
    int rc = EV_OK;
    ev_store *s = b->store;
    const char *path = ev_store__path(s);
    char *custody = NULL, *line = NULL, *rec = NULL;
    size_t clen = 0, rlen = 0;
    owned_buf vp[2] = { { NULL, 0, 0 }, { NULL, 0, 0 } };
    bool views[2] = { false, false }; /* case.jsonld, index.html: rebuilt after the event */
    ev_sink *sink = NULL;
    amend_state a = { NULL, 0, 0, EV_ALG_SHA256 };
    for (size_t i = 0; i < ev_store__count(s); i++) {
        bool t;
        char alg[32];
        const ev_store_entry *e = ev_store__entry(s, i);
        if (!e->unsafe && ev_bag__is_manifest_name(e->name, &t, alg, sizeof(alg)) && t &&
            strcmp(alg, "sha512") == 0)
            a.algs |= EV_ALG_SHA512;
    }
    /* written beside the bundle and renamed over it (see ev_sink__open_replace) */
    rc = ev_sink__open_replace(&sink, path, ev_store__is_zip(s) ? EV_FORMAT_ZIP : EV_FORMAT_DIR,
                       ev_store__bag_name(s), &b->err);
    if (rc != EV_OK)
        goto done;
    for (size_t i = 0; i < ev_store__count(s) && rc == EV_OK; i++) {
        const ev_store_entry *e = ev_store__entry(s, i);
        if (e->unsafe || !e->name[0])
            continue;
        if (e->type == EV_ENTRY_DIR) {
            rc = ev_sink__add_dir(sink, e->name, &b->err);
            continue;
        }
        if (ev_bag__is_payload(e->name)) {
            ev_producer p;
            rc = ev_producer__store_entry(&p, s, i);
            if (rc == EV_OK)
                rc = ev_sink__add(sink, e->name, &p, e->deflated, e->mtime, &b->err);
            continue;
        }
        if (is_generated_tag(e->name))
            continue;
        if (ev_views__is_view(e->name)) {
            views[strcmp(e->name, EV_VIEW_CASE) == 0 ? 0 : 1] = true;
            continue;
        }
        bool replaced = false;
        for (size_t k = 0; k < nfiles && !replaced; k++)
            replaced = strcmp(files[k].path, e->name) == 0;
        if (replaced)
            continue;
        char *buf = NULL;
        size_t len = 0;
        rc = ev_store__read_all(&buf, &len, s, i, TAG_MAX, &b->err);
        if (rc != EV_OK)
            break;
        if (strcmp(e->name, "custody.jsonl") == 0) {
            custody = buf;
            clen = len;
            continue; /* written last, after the new event */
        }
        if (strncmp(e->name, "signatures/", 11) != 0)
            rc = am_register(&a, e->name, buf, len);
        if (rc == EV_OK)
            rc = add_buf(sink, e->name, buf, len, !e->deflated ? false : true, &b->err);
        free(buf);
    }
    for (size_t k = 0; k < nfiles && rc == EV_OK; k++) {
        if (strncmp(files[k].path, "signatures/", 11) != 0)
            rc = am_register(&a, files[k].path, files[k].data, files[k].len);
        if (rc == EV_OK)
            rc = add_buf(sink, files[k].path, files[k].data, files[k].len,
                         strncmp(files[k].path, "signatures/", 11) != 0, &b->err);
    }
    if (rc != EV_OK)
        goto done;
    if (!custody) {
        rc = ev_err__set(&b->err, EV_EFORMAT, "the bundle has no custody.jsonl; it cannot be "
                         "amended");
        goto done;
    }
    if (event) {
        size_t nev, bad;
        char last_sha[65];
        json_t *last = NULL;
        ev_custody__check(custody, clen, NULL, &nev, last_sha, &last, NULL, &bad);
        json_decref(last);
        char msha[65] = "", rsha[65] = "";
        char *buf = NULL;
        size_t len = 0;
        long mi = ev_store__find(s, "manifest-sha256.txt");
        long ri = ev_store__find(s, "evidence.json");
        if (mi >= 0 && ev_store__read_all(&buf, &len, s, (size_t)mi, TAG_MAX, &b->err) == EV_OK)
            ev_hash__sha256_hex(msha, buf, len);
        free(buf);
        buf = NULL;
        /* kept for the views below */
        if (ri >= 0 && ev_store__read_all(&rec, &rlen, s, (size_t)ri, TAG_MAX, &b->err) == EV_OK)
            ev_hash__sha256_hex(rsha, rec, rlen);
        char now[40];
        ev__time_rfc3339(now, sizeof(now), (int64_t)time(NULL));
        line = ev_custody__line((long)nev + 1, now, event, msha, rsha, nev ? last_sha : NULL);
        if (!line) {
            rc = EV_ENOMEM;
            goto done;
        }
        size_t ll = strlen(line);
        char *nc = realloc(custody, clen + ll + 1);
        if (!nc) {
            rc = EV_ENOMEM;
            goto done;
        }
        custody = nc;
        memcpy(custody + clen, line, ll + 1);
        clen += ll;
    }
    rc = am_register(&a, "custody.jsonl", custody, clen);
    if (rc == EV_OK)
        rc = add_buf(sink, "custody.jsonl", custody, clen, true, &b->err);
    /* the views show the custody log, so the ones the bundle has are built
     * again from the record and the new log (docs/views.md) */
    if (rc == EV_OK && (views[0] || views[1])) {
        long ri = ev_store__find(s, "evidence.json");
        if (ri < 0)
            rc = ev_err__set(&b->err, EV_EFORMAT, "the bundle has %s but no evidence.json to "
                             "build it from", views[0] ? EV_VIEW_CASE : EV_VIEW_INDEX);
        else if (!rec)
            rc = ev_store__read_all(&rec, &rlen, s, (size_t)ri, TAG_MAX, &b->err);
        for (int v = 0; v < 2 && rc == EV_OK; v++) {
            if (!views[v])
                continue;
            const char *name = v == 0 ? EV_VIEW_CASE : EV_VIEW_INDEX;
            char *out = NULL;
            size_t olen = 0;
            rc = (v == 0 ? ev_views__case_jsonld : ev_views__index_html)(&out, &olen, rec, rlen,
                                                                        custody, clen, &b->err);
            if (rc == EV_OK)
                rc = am_register(&a, name, out, olen);
            /* handed to the sink without a copy, freed once written */
            if (rc == EV_OK)
                rc = add_owned(sink, &vp[v], name, out, olen, &b->err);
            else
                free(out);
        }
    }
    free(rec);
    rec = NULL;
    if (rc == EV_OK)
        rc = ev_bundle__write_tagmanifests(sink, a.t, a.n, a.algs, &b->err);
    if (rc == EV_OK)
        rc = ev_sink__commit(sink, &b->err);
    if (rc != EV_OK)
        goto done;
    {
        char *p = ev__strdup(path);
        if (!p) {
            rc = EV_ENOMEM;
            goto done;
        }
        ev_sink__free(sink);
        sink = NULL;
        rc = ev_bundle_open(b, p);
        free(p);
    }
done:
    ev_sink__free(sink);
    free(vp[0].data);
    free(vp[1].data);
    free(rec);
    for (size_t i = 0; i < a.n; i++)
        free(a.t[i].path);
    free(a.t);
    free(custody);
    free(line);
    return rc;
}
