/*
 * bundle (verify): the checks of a bag follow RFC 8493 section 3 (complete,
 * valid), section 5 (security) and section 6 (interoperability warnings);
 * then the record (evidence.json) and the custody log are checked against
 * the manifests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle_int.h"
#include "bundle/disclose_int.h"
#include "record/record.h"
#include "record/record_check.h"
#include "views/views.h"

static const char *manifest_slot_name(int slot)
{
    return slot >= 0 ? ev_hash__slot_name(slot) : "unknown";
}

/* A tag manifest that parsed cleanly, lists every tag file, and whose every
 * line matched its file: the seal, not the tag manifest, is then the odd one
 * out. */
static bool tagmanifest_clean(const vctx *c, const char *name)
{
    const ev_bag_name *all = c->all;
    size_t nall = c->bag.nall;
    const ev_manifest *m = NULL;
    for (size_t i = 0; i < c->bag.nmf && !m; i++)
        if (c->bag.mf[i].is_tag && !strcmp(c->bag.mf[i].filename, name))
            m = &c->bag.mf[i];
    if (!m || m->problems)
        return false;
    for (size_t i = 0; i < nall; i++) {
        const char *nm = all[i].name;
        bool t;
        char a2[32];
        if (ev_bag__is_payload(nm) || ev_bag__is_manifest_name(nm, &t, a2, sizeof(a2)) ||
            !strcmp(nm, EV_BUNDLE_SEAL) || !strncmp(nm, EV_BUNDLE_SIGNATURES, strlen(EV_BUNDLE_SIGNATURES)))
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
    if (strcmp(path, EV_BAG_BAGIT_TXT) == 0)
        return bagit_bytes && strcmp(bagit_bytes, EV_BAGIT_TXT) == 0;
    if (!last_event || f->status != EV_OK || !f->has_sha256)
        return false;
    const char *key = strcmp(path, EV_BAG_MANIFEST_SHA256) == 0 ? "manifest_sha256"
                      : strcmp(path, EV_RECORD_FILE) == 0         ? "record_sha256"
                                                               : NULL;
    const char *v = key ? jstr(last_event, key) : NULL;
    char hex[EV_HASH_HEX_MAX];
    return v && ev_hash__hex_equal(v, vfile_hex(f, EV_HASH_SHA256, hex));
}

/* Item ids sorted, each with its place among the objects, the last listed
 * first among equals (a derivation names the last item with its id, as
 * before). */
typedef struct id_ref {
    const char *id;
    size_t i;
} id_ref;

static int id_ref_cmp(const void *a, const void *b)
{
    const id_ref *x = a, *y = b;
    int d = strcmp(x->id, y->id);
    return d ? d : (x->i < y->i) - (x->i > y->i);
}

/* The derivation chain: each working copy names a master whose hash it
 * recorded, and its derivation record agrees with both. */
static int check_derivations(vctx *c)
{
    ev_bundle *b = c->b;
    ev_report *r = c->r;
    const ev_record__slim *sl = b->rec;
    size_t nd = 0;
    for (size_t i = 0; i < sl->n; i++)
        nd += sl->x[i].has_df;
    if (!nd)
        return EV_OK;
    id_ref *ids = ev__reallocarray(NULL, sl->n, sizeof(*ids));
    if (!ids)
        return EV_ENOMEM;
    size_t nids = 0;
    for (size_t i = 0; i < sl->n; i++)
        if (sl->items[i].id)
            ids[nids++] = (id_ref){ sl->items[i].id, i };
    qsort(ids, nids, sizeof(*ids), id_ref_cmp);
    for (size_t i = 0; i < sl->n; i++) {
        const ev_item *it = &sl->items[i];
        const ev_record__vitem *x = &sl->x[i];
        if (!x->has_df)
            continue;
        const char *id = it->id ? it->id : "?";
        const char *path = it->path;
        const char *src_id = it->derived_from;
        const ev_item *src = NULL;
        if (src_id) {
            id_ref key = { src_id, SIZE_MAX };
            /* the first of the equal ids in the sorted order: the last listed */
            size_t lo = 0, hi = nids;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(ids[mid].id, key.id) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo < nids && !strcmp(ids[lo].id, src_id))
                src = &sl->items[ids[lo].i];
        }
        if (!src) {
            ev_report__add(r, EV_SEVERITY_ERROR, "derivation-source-missing", path,
                           "item %s is derived from '%s', which is not in evidence.json", id,
                           src_id ? src_id : "(none)");
            continue;
        }
        const char *want = x->df_source_sha256;
        const char *have = src->sha256;
        if (!want || !have || !ev_hash__hex_equal(want, have))
            ev_report__add(r, EV_SEVERITY_ERROR, "derivation-source-mismatch", path,
                           "item %s was made from %s with SHA-256 %s, but %s now has %s", id,
                           src_id, want ? want : "(none)", src_id, have ? have : "(none)");
        const char *rec = x->df_record;
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
        const char *mine = it->sha256;
        if (!d || !ds || !dout || !have || !mine || !ev_hash__hex_equal(ds, have) ||
            !ev_hash__hex_equal(dout, mine))
            ev_report__add(r, EV_SEVERITY_ERROR, "derivation-record-mismatch", rec,
                           "the derivation record of item %s does not match the hashes of %s "
                           "and of the copy", id, src_id);
        json_decref(d);
    }
    free(ids);
    return EV_OK;
}

static int check_record(vctx *c)
{
    const ev_bag_name *payload = c->payload;
    size_t npayload = c->bag.npayload;
    ev_bundle *b = c->b;
    ev_report *r = c->r;
    const ev_record__slim *sl = b->rec;
    if (!json_is_array(json_object_get(sl->head, "items"))) {
        return ev_report__add(r, EV_SEVERITY_ERROR, "record-invalid", "evidence.json",
                              "evidence.json has no 'items' array");
    }
    char *seen = calloc(npayload ? npayload : 1, 1);
    if (!seen)
        return EV_ENOMEM;
    /* the items in record order: the objects, and between them the others */
    size_t i = 0, oi = 0;
    while (i < sl->n || oi < sl->nothers) {
        if (oi < sl->nothers && (i >= sl->n || sl->others[oi] < sl->x[i].k)) {
            ev_report__add(r, EV_SEVERITY_ERROR, "record-invalid", "evidence.json",
                           "evidence.json item %zu has no id or path", sl->others[oi]);
            oi++;
            continue;
        }
        const ev_item *it = &sl->items[i];
        const ev_record__vitem *x = &sl->x[i];
        i++;
        const char *path = it->path;
        const char *id = it->id;
        if (!path || !id) {
            ev_report__add(r, EV_SEVERITY_ERROR, "record-invalid", "evidence.json",
                           "evidence.json item %zu has no id or path", x->k);
            continue;
        }
        ev_bag_name key = { path, 0, 0 };
        const ev_bag_name *hit = bsearch(&key, payload, npayload, sizeof(*payload),
                                         ev_bag__name_cmp);
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
        if (!x->size_int || (uint64_t)x->size != se->size) {
            /* the size as written (31.0, "31", null...), not a number made up */
            char num[32];
            if (x->size_int)
                snprintf(num, sizeof(num), "%lld", x->size);
            ev_report__add(r, EV_SEVERITY_ERROR, "record-size-mismatch", path,
                           "evidence.json gives %s a size of %s%s; the file has %llu bytes",
                           id, x->size_int ? num : x->size_text ? x->size_text : "(none)",
                           x->size_int ? " bytes" : "", (unsigned long long)se->size);
        }
        const char *rs = it->sha256;
        const char *ms = f->x->expect[EV_HASH_SHA256];
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
    return check_derivations(c);
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

/* ---- the phases of a verification, in order (see verify_phases[]) ------ */

/* Problems found when the bundle was opened (entry names, ZIP structure). */
static int phase_open_problems(vctx *c)
{
    const ev_report *open = c->b->open_report;
    for (size_t i = 0; i < open->nproblems; i++) {
        const ev_problem *p = &open->problems[i];
        ev_report__add(c->r, p->severity, p->code, p->path, "%s", p->message);
        /* not one bag folder: the ZIP cannot be checked as a bundle */
        if (!strcmp(p->code, "no-single-top-folder"))
            c->r->unreadable = true;
    }
    return EV_OK;
}

/* The safe regular files of the bag, and the payload among them. */
static int phase_index_files(vctx *c)
{
    ev_store *s = c->b->store;
    size_t n = c->n;
    c->files = ev__calloc(n, sizeof(*c->files));
    c->todo = ev__calloc(n, sizeof(*c->todo));
    c->exp = ev__calloc(n, sizeof(*c->exp));
    c->payload = ev__calloc(n, sizeof(*c->payload));
    c->all = ev__calloc(n, sizeof(*c->all));
    if (!c->files || !c->todo || !c->exp || !c->payload || !c->all)
        return EV_ENOMEM;
    size_t nall = 0, npayload = 0;
    uint64_t payload_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const ev_store_entry *e = ev_store__entry(s, i);
        c->files[i].entry = i;
        c->files[i].x = &c->exp[i];
        if (e->unsafe || e->type != EV_ENTRY_FILE)
            continue;
        c->all[nall++] = (ev_bag_name){ e->name, i, e->size };
        if (ev_bag__is_payload(e->name)) {
            c->payload[npayload++] = (ev_bag_name){ e->name, i, e->size };
            payload_bytes += e->size;
        }
    }
    qsort(c->all, nall, sizeof(*c->all), ev_bag__name_cmp);
    qsort(c->payload, npayload, sizeof(*c->payload), ev_bag__name_cmp);
    c->bag.all = c->all;
    c->bag.nall = nall;
    c->bag.payload = c->payload;
    c->bag.npayload = npayload;
    c->bag.payload_bytes = payload_bytes;
    c->bag.exp = c->exp;
    c->bag.nexp = n;
    c->r->payload_files = npayload;
    c->r->payload_bytes = payload_bytes;
    return EV_OK;
}

/* bagit.txt (RFC 8493 2.1.1). */
static int phase_bagit_txt(vctx *c)
{
    ev_store *s = c->b->store;
    long i = ev_store__find(s, EV_BAG_BAGIT_TXT);
    if (i < 0) {
        ev_bag__check_bagit_txt(&c->bag, NULL, 0, NULL);
        return EV_OK;
    }
    ev_errbuf e;
    if (ev_store__read_all(&c->bagit, &c->bagit_len, s, (size_t)i, 4096, &e) != EV_OK)
        ev_bag__check_bagit_txt(&c->bag, NULL, 0, e.msg);
    else
        ev_bag__check_bagit_txt(&c->bag, c->bagit, c->bagit_len, NULL);
    return EV_OK;
}

/* data/ (RFC 8493 2.1.2). */
static int phase_data_dir(vctx *c)
{
    bool has_dir = false;
    for (size_t i = 0; i < c->n && !has_dir && !c->bag.npayload; i++) {
        const ev_store_entry *e = ev_store__entry(c->b->store, i);
        has_dir = !e->unsafe && e->type == EV_ENTRY_DIR && strcmp(e->name, "data") == 0;
    }
    ev_bag__check_data_dir(&c->bag, has_dir);
    return EV_OK;
}

/* The manifests and tag manifests, read and parsed (RFC 8493 2.1.3, 2.2.1). */
static int phase_manifests(vctx *c)
{
    ev_store *s = c->b->store;
    for (size_t i = 0; i < c->bag.nall; i++) {
        bool is_tag;
        char alg[32];
        const char *name = c->all[i].name;
        if (!ev_bag__is_manifest_name(name, &is_tag, alg, sizeof(alg)))
            continue;
        ev_errbuf e;
        char *buf = NULL;
        size_t len = 0;
        if (ev_store__read_all(&buf, &len, s, c->all[i].idx, TAG_MAX, &e) != EV_OK) {
            ev_report__add(c->r, EV_SEVERITY_ERROR, "tag-unreadable", name, "%s", e.msg);
            free(buf);
            continue;
        }
        int rc = ev_bag__check_add_manifest(&c->bag, name, is_tag, alg, buf, len);
        free(buf);
        if (rc != EV_OK)
            return rc;
    }
    ev_bag__check_manifest_set(&c->bag);
    return EV_OK;
}

/* Read a tag file whole and hand it to a check of the bag module. */
static void check_tag_file(vctx *c, const char *name,
                           void (*check)(ev_bag_check *, const char *, size_t))
{
    ev_store *s = c->b->store;
    long i = ev_store__find(s, name);
    if (i < 0)
        return;
    ev_errbuf e;
    char *buf = NULL;
    size_t len = 0;
    if (ev_store__read_all(&buf, &len, s, (size_t)i, TAG_MAX, &e) == EV_OK)
        check(&c->bag, buf, len);
    free(buf);
}

/* fetch.txt (RFC 8493 2.2.3): never fetched, its paths checked. */
static int phase_fetch_txt(vctx *c)
{
    check_tag_file(c, EV_BAG_FETCH_TXT, ev_bag__check_fetch);
    return EV_OK;
}

/* bag-info.txt (RFC 8493 2.2.2) and its Payload-Oxum. */
static int phase_bag_info(vctx *c)
{
    check_tag_file(c, ev_bag__check_info_name(&c->bag), ev_bag__check_baginfo);
    return EV_OK;
}

/* Completeness (RFC 8493 3): manifests against the files present. */
static int phase_completeness(vctx *c)
{
    return ev_bag__check_complete(&c->bag);
}

/* Every file read to its end: the listed ones hashed (and extracted), the
 * others checked against their ZIP CRC. Skipped with --fast, except for
 * extraction. */
/* The record checks (schema, bag-info.txt, libmagic, the views) need only
 * the store and the record, not the digests (but for the views check's
 * own, of the two stored views, which it waits for): they run on threads of
 * their own while the files are hashed, into reports of their own, whose
 * problems phase_record_checks then adds in its turn, so the report is the
 * one a run in order gives. A verification keeps its vctx inside a vrun. */
typedef struct record_job {
    vctx *c;            /* the verification (its bundle, flags and digests) */
    ev_report *r;       /* the open's problems, then those of the checks */
    size_t first;       /* where the checks' own problems start in r */
    int rc;
    bool started, done;
    pthread_t th;
    /* the views check (most of a verify of many small files), on a thread
     * of its own from the start when the record and the custody log allow
     * it (as ev_record__verify would find), into a report of its own whose
     * problems come after the record checks' */
    ev_report *vr;
    int vrc;
    bool views_apart;   /* the views are checked apart from the record checks */
    bool vstarted, vdone;
    pthread_t vth;
} record_job;

typedef struct vrun {
    vctx c;             /* first: the phases get &vrun.c */
    record_job rj;
    /* the disclosure root, computed while the record job still runs (it
     * needs only the hashes, the slim record and the store); its problems
     * are added at its own phase, in the order of the phases */
    ev_report *dr;
    int dr_rc;
} vrun;

/* The hashing has stopped: a views check waiting for a digest gets none if
 * it was not computed. */
static void hashing_stopped(vctx *c)
{
    pthread_mutex_lock(&c->vmu);
    c->hashing_over = true;
    pthread_cond_broadcast(&c->vcv);
    pthread_mutex_unlock(&c->vmu);
}

/* The digests of the stored views, from the hashing (ev_views__digests) */
static bool view_will_have(void *ctx, size_t i)
{
    const vctx *c = ctx;
    return c->files && i < c->n && c->files[i].watched;
}

static bool view_wait(void *ctx, size_t i, uint8_t out[32])
{
    vctx *c = ctx;
    if (!view_will_have(c, i))
        return false;
    pthread_mutex_lock(&c->vmu);
    while (!c->files[i].hashed && !c->hashing_over)
        pthread_cond_wait(&c->vcv, &c->vmu);
    const vfile *f = &c->files[i];
    bool ok = f->hashed && f->has_sha256;
    if (ok)
        memcpy(out, f->sha256, sizeof(f->sha256));
    pthread_mutex_unlock(&c->vmu);
    return ok;
}

static int views_check(ev_report *r, vctx *c)
{
    ev_bundle *b = c->b;
    ev_views__digests dg = { view_will_have, view_wait, c };
    return ev_views__check(r, b->store, NULL, b->rec_text,
                           b->o.max_record_size > SIZE_MAX - 1 ? SIZE_MAX - 1
                                                               : (size_t)b->o.max_record_size,
                           b->o.threads > 1, &dg);
}

/* views: also check the views, when the record allows it */
static int record_checks(ev_report *r, vctx *c, bool views)
{
    ev_bundle *b = c->b;
    bool views_checkable = false;
    int rc = ev_record__verify(r, b->store, b->rec, &b->o, c->flags, &views_checkable);
    if (rc != EV_OK)
        return rc;
    if (views && views_checkable && !(c->flags & EV_VERIFY_FAST))
        rc = views_check(r, c);
    return rc;
}

static void *record_job_run(void *arg)
{
    record_job *j = arg;
    j->rc = record_checks(j->r, j->c, !j->views_apart);
    return NULL;
}

static void *views_job_run(void *arg)
{
    record_job *j = arg;
    j->vrc = views_check(j->vr, j->c);
    return NULL;
}

/* Start the record checks beside the hashing; with b->o.threads 1, or
 * without a thread (or memory), they run later in phase_record_checks, as
 * before. */
static void record_job_start(vrun *v)
{
    record_job *j = &v->rj;
    ev_bundle *b = v->c.b;
    /* one thread asked for: one thread used */
    if (b->o.threads <= 1 || ev_report__new(&j->r, v->c.r->format) != EV_OK)
        return;
    /* ev_record__verify looks for the open's limit problems in its report */
    const ev_report *open = b->open_report;
    for (size_t i = 0; i < open->nproblems; i++) {
        const ev_problem *p = &open->problems[i];
        if (ev_report__add(j->r, p->severity, p->code, p->path, "%s", p->message) != EV_OK) {
            ev_report_free(j->r);
            j->r = NULL;
            return;
        }
    }
    j->first = j->r->nproblems;
    j->c = &v->c;
    /* decided before the record thread starts, which reads it */
    j->views_apart = !(v->c.flags & EV_VERIFY_FAST) && b->rec &&
                     ev_record__custody_within(b->store, &b->o) &&
                     ev_report__new(&j->vr, v->c.r->format) == EV_OK;
    if (pthread_create(&j->th, NULL, record_job_run, j) != 0) {
        /* everything then runs in phase_record_checks */
        ev_report_free(j->vr);
        j->vr = NULL;
        j->views_apart = false;
        ev_report_free(j->r);
        j->r = NULL;
        return;
    }
    j->started = true;
    /* without a thread of their own the views are checked in
     * phase_record_checks, after the hashing */
    if (j->views_apart && pthread_create(&j->vth, NULL, views_job_run, j) == 0)
        j->vstarted = true;
}

static void record_job_join(record_job *j)
{
    if (j->started && !j->done) {
        pthread_join(j->th, NULL);
        j->done = true;
    }
    if (j->vstarted && !j->vdone) {
        pthread_join(j->vth, NULL);
        j->vdone = true;
    }
}

static void record_job_free(record_job *j)
{
    record_job_join(j);
    ev_report_free(j->r);
    j->r = NULL;
    ev_report_free(j->vr);
    j->vr = NULL;
}

static int phase_hash_files(vctx *c)
{
    ev_bundle *b = c->b;
    ev_store *s = b->store;
    ev_report *r = c->r;
    const char *dest = c->dest;
    if ((c->flags & EV_VERIFY_FAST) && !dest)
        return EV_OK;
    uint64_t total = 0;
    for (size_t i = 0; i < c->n; i++) {
        const ev_store_entry *e = ev_store__entry(s, i);
        if (e->unsafe || e->type != EV_ENTRY_FILE)
            continue;
        bool payload_file = ev_bag__is_payload(e->name);
        if (!c->files[i].x->listed && !dest)
            continue;
        if (dest && payload_file && !c->files[i].x->listed)
            continue; /* unlisted payload is never extracted */
        if (!c->files[i].x->listed)
            c->files[i].x->is_tag = true;
        c->files[i].queued = true;
        c->todo[c->ntodo++] = i;
        total += e->size;
    }
    /* the record and the manifest are needed by the custody check */
    long mi = ev_store__find(s, EV_BAG_MANIFEST_SHA256);
    if (mi >= 0)
        c->files[mi].x->algs |= EV_ALG_SHA256;
    long ri = ev_store__find(s, EV_RECORD_FILE);
    if (ri >= 0)
        c->files[ri].x->algs |= EV_ALG_SHA256;
    /* the views check compares its renderings with the stored views by
     * their SHA-256, when it is computed here anyway (a SHA-256 tag
     * manifest lists them), instead of inflating them again; a view only
     * other algorithms list is compared byte for byte, and its results
     * name no SHA-256 that was not asked for */
    static const char *const views[] = { EV_VIEW_CASE, EV_VIEW_INDEX };
    for (size_t k = 0; k < sizeof(views) / sizeof(views[0]); k++) {
        long vi = ev_store__find(s, views[k]);
        if (vi >= 0 && c->files[vi].queued &&
            (!c->files[vi].x->algs || (c->files[vi].x->algs & EV_ALG_SHA256)))
            c->files[vi].watched = true;
    }
    ev_progress__init(&c->progress, b->o.progress_cb, b->o.progress_payload,
                      dest ? "extracting" : "verifying", total, c->ntodo);
    vrun *v = (vrun *)c;
    record_job_start(v);
    int rc = ev_bundle__run_hashing(c);
    hashing_stopped(c);
    if (rc == EV_OK && v->rj.started && ev_report__new(&v->dr, r->format) == EV_OK) {
        /* the record job (the views check: most of a verify of many small
         * files) is still running on one core; the other is free now */
        c->r = v->dr;
        v->dr_rc = ev_bundle__disclosure_root(c);
        c->r = r;
    }
    record_job_join(&v->rj);
    if (rc != EV_OK) {
        ev_err__set(&b->err, rc, "canceled by callback");
        return rc;
    }
    /* Every other entry is read to its end as well (the seal,
     * signatures, unlisted files): a read error or a CRC mismatch
     * anywhere means a byte that matters may not be what was sealed. */
    for (size_t i = 0; i < c->n; i++) {
        const ev_store_entry *e = ev_store__entry(s, i);
        if (e->unsafe || e->type != EV_ENTRY_FILE || c->files[i].queued)
            continue;
        ev_errbuf e2;
        e2.msg[0] = '\0';
        bool crc_bad = false;
        int crc = ev_store__check_entry(s, i, &crc_bad, &e2);
        if (crc == EV_ENOMEM)
            return crc;
        if (crc != EV_OK && crc_bad)
            ev_report__add(r, EV_SEVERITY_ERROR, ev_bag__is_payload(e->name) ? "modified"
                                                                            : "tag-modified",
                           e->name, "'%s' was modified: its bytes no longer match the CRC "
                           "recorded in the ZIP", e->name);
        else if (crc != EV_OK)
            ev_report__add(r, EV_SEVERITY_ERROR, "unreadable", e->name, "'%s' cannot be "
                           "read: %s", e->name, e2.msg[0] ? e2.msg : ev_strerror(crc));
    }
    return EV_OK;
}

/* The custody log's chain (read before blaming tag files: its last event
 * vouches for the manifest and the record). */
static int phase_custody_chain(vctx *c)
{
    ev_bundle *b = c->b;
    ev_store *s = b->store;
    long ci = ev_store__find(s, EV_CUSTODY_FILE);
    if (ci < 0) {
        if (b->rec)
            ev_report__add(c->r, EV_SEVERITY_ERROR, "custody-missing", EV_CUSTODY_FILE,
                           "the bundle has evidence.json but no custody.jsonl");
        return EV_OK;
    }
    ev_errbuf e;
    char *buf = NULL;
    size_t len = 0;
    if (ev_store__read_all(&buf, &len, s, (size_t)ci, (size_t)b->o.max_record_size, &e) ==
            EV_OK && ev_custody__count(buf, len) <= b->o.max_custody_events) {
        size_t nev, bad;
        char last_sha[65];
        ev_custody__check(buf, len, c->r, &nev, last_sha, &c->last_event, NULL, &bad);
        if (nev == 0)
            ev_report__add(c->r, EV_SEVERITY_ERROR, "custody-empty", EV_CUSTODY_FILE,
                           "custody.jsonl holds no events");
    }
    free(buf);
    return EV_OK;
}

/* One result per hashed file: ok, modified (naming the manifest that
 * disagrees, or the tag manifest when another source vouches for the file),
 * unreadable, or not extracted. */
static int phase_file_results(vctx *c)
{
    ev_store *s = c->b->store;
    ev_report *r = c->r;
    const char *dest = c->dest;
    if (ev_report__reserve_files(r, c->ntodo) != EV_OK)
        return EV_ENOMEM;
    for (size_t k = 0; k < c->ntodo; k++) {
        vfile *f = &c->files[c->todo[k]];
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
            char hex[EV_HASH_HEX_MAX];
            for (int sl = 0; sl < EV_HASH_COUNT; sl++) {
                if (!f->x->expect[sl] ||
                    ev_hash__hex_equal(f->x->expect[sl], vfile_hex(f, sl, hex)))
                    continue;
                st = EV_FILE_MODIFIED;
                const char *src = ev_bag__expect_src(&c->bag, f->x, sl);
                if (!src)
                    src = "a manifest"; /* never: a digest comes with its manifest */
                bool tagm = strncmp(src, EV_BAG_TAGMANIFEST_PREFIX,
                                    strlen(EV_BAG_TAGMANIFEST_PREFIX)) == 0;
                for (size_t mi = 0; mi < c->bag.nmf; mi++)
                    if (!strcmp(c->bag.mf[mi].filename, src))
                        c->bag.mf[mi].problems++;
                if (tagm && corroborated(e->name, f, c->last_event, c->bagit)) {
                    ev_report__add(r, EV_SEVERITY_ERROR, "tagmanifest-modified",
                                   src, "%s was modified: its %s checksum for "
                                   "'%s' is wrong, while the custody log vouches for the file",
                                   src, manifest_slot_name(sl), e->name);
                    st = EV_FILE_OK;
                } else {
                    ev_report__add(r, EV_SEVERITY_ERROR, tagm ? "tag-modified" : "modified",
                                   e->name, "'%s' was modified: its %s is %s, but %s says %s",
                                   e->name, manifest_slot_name(sl), vfile_hex(f, sl, hex),
                                   src, f->x->expect[sl]);
                }
            }
        }
        if (dest && !f->extracted && f->status == EV_OK && st == EV_FILE_OK && f->mismatch)
            st = EV_FILE_MODIFIED;
        /* the path and the digest as the manifest gives them, when equal,
         * are already kept with the report: shared, not copied */
        const char *path = f->x->path && !strcmp(f->x->path, e->name)
                               ? f->x->path : ev_report__keep(r, e->name);
        const char *m256 = f->x->expect[EV_HASH_SHA256];
        char hex[EV_HASH_HEX_MAX];
        const char *h256 = vfile_hex(f, EV_HASH_SHA256, hex);
        const char *sha = !f->has_sha256 ? NULL
                          : m256 && !strcmp(m256, h256) ? m256
                          : ev_report__keep(r, h256);
        if (!path || (f->has_sha256 && !sha))
            return EV_ENOMEM;
        long idx = ev_report__add_file_kept(r, path, !ev_bag__is_payload(e->name), st, e->size,
                                            sha);
        if (idx >= 0 && dest && !f->extracted && st == EV_FILE_OK && f->status == EV_OK)
            r->files[idx].status = EV_FILE_ERROR;
    }
    return EV_OK;
}

/* The seal (tagseal-sha256.txt) over the tag manifests; a mismatch is
 * blamed on the seal when the tag manifest verified every tag file. */
static int phase_seal(vctx *c)
{
    ev_store *s = c->b->store;
    ev_report *r = c->r;
    char *tmp = NULL;
    size_t tmplen = 0;
    long si = ev_store__find(s, EV_BUNDLE_SEAL);
    if (si >= 0 && !(c->flags & EV_VERIFY_FAST)) {
        ev_errbuf e;
        if (ev_store__read_all(&tmp, &tmplen, s, (size_t)si, 4096, &e) == EV_OK) {
            ev_manifest sm = { 0 };
            sm.filename = ev__strdup(EV_BUNDLE_SEAL);
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
                long t = ev_bag__name_find(c->all, c->bag.nall, sm.entries[k].path);
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
                    bool tm_clean = tagmanifest_clean(c, sm.entries[k].path);
                    if (tm_clean)
                        ev_report__add(r, EV_SEVERITY_ERROR, "seal-modified", EV_BUNDLE_SEAL,
                                       "%s was modified: it does not match %s, which itself "
                                       "verifies every tag file", EV_BUNDLE_SEAL, sm.entries[k].path);
                    else if (ev_report__count_code(r, "tagmanifest-modified") == 0)
                        ev_report__add(r, EV_SEVERITY_ERROR, "tagmanifest-modified",
                                       sm.entries[k].path, "%s was modified: its checksum no "
                                       "longer matches %s", sm.entries[k].path, EV_BUNDLE_SEAL);
                    seal_ok = true; /* reported */
                }
            }
            if (!seal_ok)
                ev_report__add(r, EV_SEVERITY_ERROR, "seal-invalid", EV_BUNDLE_SEAL,
                               "%s is damaged or names a missing tag manifest", EV_BUNDLE_SEAL);
            ev_bag__manifest_free(&sm);
        }
    }
    free(tmp);
    return EV_OK;
}

/* The last custody event against the manifest and the record as they are. */
static int phase_custody_vs_tags(vctx *c)
{
    ev_store *s = c->b->store;
    ev_report *r = c->r;
    if (c->last_event && !(c->flags & EV_VERIFY_FAST)) {
        long mi = ev_store__find(s, EV_BAG_MANIFEST_SHA256);
        long ri = ev_store__find(s, EV_RECORD_FILE);
        const char *lm = jstr(c->last_event, "manifest_sha256");
        const char *lr = jstr(c->last_event, "record_sha256");
        char hex[EV_HASH_HEX_MAX];
        if (mi >= 0 && c->files[mi].status == EV_OK && c->files[mi].has_sha256 && lm &&
            !ev_hash__hex_equal(lm, vfile_hex(&c->files[mi], EV_HASH_SHA256, hex)))
            ev_report__add(r, EV_SEVERITY_ERROR, "custody-manifest-mismatch",
                           EV_BAG_MANIFEST_SHA256,
                           "manifest-sha256.txt differs from the version recorded by the last "
                           "custody event: it was changed without a custody event");
        if (ri >= 0 && c->files[ri].status == EV_OK && c->files[ri].has_sha256 && lr &&
            !ev_hash__hex_equal(lr, vfile_hex(&c->files[ri], EV_HASH_SHA256, hex)))
            ev_report__add(r, EV_SEVERITY_ERROR, "custody-record-mismatch", "evidence.json",
                           "evidence.json differs from the version recorded by the last "
                           "custody event: it was changed without a custody event");
    }
    return EV_OK;
}

/* The record against the manifests (items, sizes, hashes, derivations);
 * with --deep, the content hashes and the working copies too. */
static int phase_record_vs_bag(vctx *c)
{
    ev_bundle *b = c->b;
    ev_store *s = b->store;
    ev_report *r = c->r;
    int rc;
    if (ev_store__find(s, EV_RECORD_FILE) >= 0) {
        if (!b->rec && ev_record__refused(r))
            ; /* the limit or the lie that stopped it was reported */
        else if (!b->rec)
            ev_report__add(r, EV_SEVERITY_ERROR, "record-invalid", "evidence.json",
                           "evidence.json is not a valid JSON object (or has duplicate keys)");
        else if ((rc = check_record(c)) != EV_OK)
            return rc;
        else if ((c->flags & EV_VERIFY_DEEP) && (rc = ev_bundle__deep_check(c)) != EV_OK)
            return rc;
        else if ((c->flags & EV_VERIFY_DEEP) && (rc = ev_bundle__deep_derivations(c)) != EV_OK)
            return rc;
    }
    return EV_OK;
}

/* The disclosure tree of the record: its root computed beside the record
 * job (phase_hash_files), or here. */
static int phase_disclosure_root(vctx *c)
{
    vrun *v = (vrun *)c;
    if (!v->dr)
        return ev_bundle__disclosure_root(c);
    int rc = v->dr_rc;
    for (size_t i = 0; i < v->dr->nproblems && rc == EV_OK; i++) {
        const ev_problem *p = &v->dr->problems[i];
        rc = ev_report__add(c->r, p->severity, p->code, p->path, "%s", p->message);
    }
    ev_report_free(v->dr);
    v->dr = NULL;
    return rc;
}

/* The record against its schema, bag-info.txt, the bytes and its views. */
static int phase_record_checks(vctx *c)
{
    record_job *j = &((vrun *)c)->rj;
    if (!j->started)
        return record_checks(c->r, c, true);
    record_job_join(j);
    if (j->views_apart && !j->vstarted)
        j->vrc = views_check(j->vr, c); /* no thread for them: here, in order */
    int rc = j->rc;
    if (rc == EV_OK && j->views_apart)
        rc = j->vrc;
    /* their problems, in the order they were found (the views' after the
     * record's, as in a run in order), as if found here */
    for (int k = 0; k < 2; k++) {
        const ev_report *from = k == 0 ? j->r : j->vr;
        for (size_t i = k == 0 ? j->first : 0; from && i < from->nproblems; i++) {
            const ev_problem *p = &from->problems[i];
            if (ev_report__add(c->r, p->severity, p->code, p->path, "%s", p->message) != EV_OK) {
                rc = EV_ENOMEM;
                break;
            }
        }
    }
    if (j->r->unreadable)
        c->r->unreadable = true;
    record_job_free(j);
    return rc;
}

/* A bagit.txt of an unsupported version makes the bag unreadable, unless a
 * tag manifest showed that bagit.txt itself was changed. */
static int phase_bagit_version(vctx *c)
{
    ev_report *r = c->r;
    if (c->bag.bagit_unsupported) {
        bool tampered = false;
        for (size_t i = 0; i < r->nproblems && !tampered; i++)
            tampered = r->problems[i].path && !strcmp(r->problems[i].path, EV_BAG_BAGIT_TXT) &&
                       (!strcmp(r->problems[i].code, "tag-modified"));
        if (!tampered)
            r->unreadable = true;
    }
    return EV_OK;
}

/* File results carry the record's item id. */
static int phase_item_ids(vctx *c)
{
    ev_bundle *b = c->b;
    ev_report *r = c->r;
    /* file results carry the record's item id: items sorted by path once,
     * then one binary search per file (linear in files x log items) */
    if (b->rec && b->nitems && r->nfiles) {
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
                    r->files[i].item_id = ev_report__keep(r, (*hit)->id);
            }
            free(byp);
        }
    }

    return EV_OK;
}

/* Not tag files for the unlisted check: the seal and the signatures,
 * which no tag manifest lists by design (docs/bundle.md). */
static bool not_a_listed_tag(const char *name)
{
    return strcmp(name, EV_BUNDLE_SEAL) == 0 || strncmp(name, EV_BUNDLE_SIGNATURES, strlen(EV_BUNDLE_SIGNATURES)) == 0;
}

/* Tag files in no tag manifest: RFC 8493 says to ignore their contents. */
static int phase_unlisted_tags(vctx *c)
{
    ev_bag__check_unlisted(&c->bag, not_a_listed_tag);
    return EV_OK;
}

/* The phases of verify, in the order they run; each adds its problems to
 * the report and returns EV_OK, or a failure that stops the verification
 * (EV_ENOMEM, EV_ECANCELED, or an extraction target that cannot be used). */
static const struct verify_phase {
    const char *name;
    int (*run)(vctx *c);
} verify_phases[] = {
    { "problems found when opening", phase_open_problems },
    { "index the files", phase_index_files },
    { "extraction target", ev_bundle__extract_prepare },
    { "bagit.txt", phase_bagit_txt },
    { "data/", phase_data_dir },
    { "manifests", phase_manifests },
    { "fetch.txt", phase_fetch_txt },
    { "bag-info.txt and Payload-Oxum", phase_bag_info },
    { "completeness", phase_completeness },
    { "hash every file", phase_hash_files },
    { "custody chain", phase_custody_chain },
    { "results per file", phase_file_results },
    { "seal", phase_seal },
    { "custody against manifest and record", phase_custody_vs_tags },
    { "record against the bag", phase_record_vs_bag },
    { "disclosure tree of the record", phase_disclosure_root },
    { "record schema, bag-info.txt, views", phase_record_checks },
    { "bagit.txt version", phase_bagit_version },
    { "item ids of the file results", phase_item_ids },
    { "unlisted tag files", phase_unlisted_tags },
    { "extraction: move into place", ev_bundle__extract_finish },
};

static void vctx_free(vctx *c)
{
    if (c->destfd >= 0)
        close(c->destfd);
    if (c->staging) {
        ev__rm_tree(c->staging);
        free(c->staging);
    }
    ev_bag__check_free(&c->bag);
    for (size_t i = 0; c->files && i < c->n; i++) {
        free(c->files[i].errmsg);
        free(c->files[i].more);
    }
    free(c->files);
    free(c->todo);
    free(c->exp);
    free(c->payload);
    free(c->all);
    free(c->bagit);
    json_decref(c->last_event);
    pthread_cond_destroy(&c->vcv);
    pthread_mutex_destroy(&c->vmu);
}

int ev_bundle__verify_run(ev_report **out, ev_bundle *b, uint32_t flags, const char *dest)
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
    vrun run;
    memset(&run, 0, sizeof(run));
    vctx *c = &run.c;
    c->b = b;
    c->r = r;
    c->flags = flags;
    c->dest = dest;
    c->destfd = -1;
    c->n = ev_store__count(b->store);
    pthread_mutex_init(&c->vmu, NULL);
    pthread_cond_init(&c->vcv, NULL);
    ev_bag__check_init(&c->bag, r);
    for (size_t i = 0; i < sizeof(verify_phases) / sizeof(verify_phases[0]) && rc == EV_OK; i++)
        rc = verify_phases[i].run(&run.c);
    record_job_free(&run.rj); /* a run stopped before the record checks */
    ev_report_free(run.dr);
    vctx_free(&run.c);
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
    return ev_bundle__verify_run(out, b, opts ? opts->flags : 0, NULL);
}

int ev_bundle__require_valid(ev_bundle *b, const char *outcome)
{
    ev_report *vr = NULL;
    int rc = ev_bundle_verify(&vr, b, NULL);
    if (rc != EV_OK)
        return rc;
    if (ev_report_verdict(vr) != EV_VERDICT_VALID) {
        const ev_problem *p = NULL;
        for (size_t i = 0; i < vr->nproblems && !p; i++)
            if (vr->problems[i].severity == EV_SEVERITY_ERROR)
                p = &vr->problems[i];
        rc = ev_err__set(&b->err, EV_EFORMAT, "the bundle fails verification (%s); %s. Run "
                         "'evidence verify' for every problem", p ? p->message : "unreadable",
                         outcome);
    }
    ev_report_free(vr);
    return rc;
}

/* extract is a verify run with a target: extract.c holds its two phases */
int ev_bundle_extract(ev_report **out, ev_bundle *b, const char *dest)
{
    if (!out || !dest)
        return EV_EINVAL;
    return ev_bundle__verify_run(out, b, 0, dest);
}
