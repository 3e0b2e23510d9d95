/*
 * bundle (verify): the checks of a bag follow RFC 8493 section 3 (complete,
 * valid), section 5 (security) and section 6 (interoperability warnings);
 * then the record (evidence.json) and the custody log are checked against
 * the manifests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle_int.h"
#include "record/record.h"
#include "record/record_check.h"
#include "views/views.h"

/* ------------------------------------------------------------------------ */
/* verification                                                              */
/* ------------------------------------------------------------------------ */

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
                    ev_bundle__mkparents_at(c.destfd, p);
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
        rc = ev_bundle__run_hashing(&c);
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
        else if ((flags & EV_VERIFY_DEEP) && (rc = ev_bundle__deep_check(&c)) != EV_OK)
            goto done;
        else if ((flags & EV_VERIFY_DEEP) && (rc = ev_bundle__deep_derivations(&c)) != EV_OK)
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
    return ev_bundle__verify_run(out, b, opts ? opts->flags : 0, NULL);
}
