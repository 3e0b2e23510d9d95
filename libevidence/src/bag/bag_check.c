/*
 * bag_check: the completeness and validity rules of a bag (RFC 8493), on
 * the file list and tag file bytes the caller hands over. Moved here from
 * the bundle reader; the problem codes and messages are unchanged.
 */
#include "bag/bag_check.h"

#include <stdlib.h>
#include <string.h>

#include "base/internal.h"

int ev_bag__name_cmp(const void *a, const void *b)
{
    return strcmp(((const ev_bag_name *)a)->name, ((const ev_bag_name *)b)->name);
}

long ev_bag__name_find(const ev_bag_name *v, size_t n, const char *name)
{
    ev_bag_name key = { name, 0, 0 };
    const ev_bag_name *r = bsearch(&key, v, n, sizeof(*v), ev_bag__name_cmp);
    return r ? (long)r->idx : -1;
}

void ev_bag__check_init(ev_bag_check *k, ev_report *r)
{
    memset(k, 0, sizeof(*k));
    k->r = r;
    k->vmaj = 1;
    k->vmin = 0;
    memcpy(k->enc, "UTF-8", 6);
}

void ev_bag__check_free(ev_bag_check *k)
{
    for (size_t i = 0; i < k->nmf; i++)
        ev_bag__manifest_free(&k->mf[i]);
    free(k->mf);
    ev_bag__baginfo_free(&k->bi);
    ev_bag__fetch_free(k->fetch, k->nfetch);
    k->mf = NULL;
    k->fetch = NULL;
    k->nmf = k->nfetch = 0;
}

void ev_bag__check_bagit_txt(ev_bag_check *k, const char *buf, size_t len,
                             const char *read_error)
{
    ev_report *r = k->r;
    if (!buf && !read_error) {
        ev_report__add(r, EV_SEVERITY_ERROR, "bagit-txt-missing", EV_BAG_BAGIT_TXT,
                       "bagit.txt is missing: this is not a BagIt bag (or the file was "
                       "removed)");
        r->unreadable = true;
    } else if (!buf) {
        ev_report__add(r, EV_SEVERITY_ERROR, "bagit-txt-invalid", EV_BAG_BAGIT_TXT, "%s",
                       read_error);
    } else {
        int prc = ev_bag__parse_bagit_txt_enc(buf, len, &k->vmaj, &k->vmin, k->enc,
                                              sizeof(k->enc), r);
        if (!k->enc[0])
            memcpy(k->enc, "UTF-8", 6);
        if (prc == EV_EUNSUPPORTED) {
            /* checked as 1.0 anyway: if a tag manifest shows that
             * bagit.txt was changed, the bag is damaged, not unsupported */
            k->bagit_unsupported = true;
            k->vmaj = 1;
            k->vmin = 0;
        }
    }
}

void ev_bag__check_data_dir(ev_bag_check *k, bool has_dir)
{
    if (k->npayload == 0 && !has_dir)
        ev_report__add(k->r, EV_SEVERITY_ERROR, "data-dir-missing", "data",
                       "the bag has no data/ folder (RFC 8493 2.1.2)");
}

int ev_bag__check_add_manifest(ev_bag_check *k, const char *name, bool is_tag, const char *alg,
                               const char *buf, size_t len)
{
    ev_report *r = k->r;
    char *dec = NULL;
    size_t declen = 0;
    if (!ev_bag__decode_text(name, k->enc, buf, len, &dec, &declen, r))
        return EV_OK;
    if (dec) {
        buf = dec;
        len = declen;
    }
    if (k->nmf == k->capmf) {
        size_t cap = k->capmf ? k->capmf * 2 : 8;
        ev_manifest *mf = ev__reallocarray(k->mf, cap, sizeof(*mf));
        if (!mf) {
            free(dec);
            return EV_ENOMEM;
        }
        memset(mf + k->capmf, 0, (cap - k->capmf) * sizeof(*mf));
        k->mf = mf;
        k->capmf = cap;
    }
    ev_manifest *m = &k->mf[k->nmf++];
    m->pool = &r->strs; /* shared with the file results (ev_bag_expect.path) */
    m->filename = ev__strdup(name);
    m->is_tag = is_tag;
    ev_bag__normalize_alg(m->alg, sizeof(m->alg), alg);
    if (strcmp(m->alg, alg) != 0)
        ev_report__add(r, EV_SEVERITY_ERROR, "manifest-name-not-normalized", name,
                       "'%s': the algorithm in a manifest name must be written in "
                       "normalized form, '%s' (RFC 8493 2.4); rename the file", name,
                       m->alg);
    m->slot = ev_hash__slot_from_name(m->alg);
    if (m->slot < 0)
        ev_report__add(r, EV_SEVERITY_WARNING, "manifest-algorithm-unsupported", name,
                       "'%s' uses algorithm '%s', which this tool cannot compute; its "
                       "file list is checked but not its checksums", name, m->alg);
    size_t before = r->nproblems;
    int rc = ev_bag__parse_manifest(m, buf, len, r);
    free(dec);
    if (rc != EV_OK)
        return rc;
    m->problems += r->nproblems - before;
    if (!is_tag)
        k->n_payload_mf++;
    return EV_OK;
}

void ev_bag__check_manifest_set(ev_bag_check *k)
{
    ev_report *r = k->r;
    if (k->n_payload_mf == 0)
        ev_report__add(r, EV_SEVERITY_ERROR, "payload-manifest-missing", NULL,
                       "the bag has no payload manifest (manifest-<algorithm>.txt); it "
                       "cannot be checked");
    else {
        bool usable = false;
        for (size_t mi = 0; mi < k->nmf; mi++)
            usable = usable || (!k->mf[mi].is_tag && k->mf[mi].slot >= 0);
        if (!usable) {
            ev_report__add(r, EV_SEVERITY_ERROR, "manifest-algorithm-unsupported", NULL,
                           "no payload manifest uses an algorithm this tool can compute "
                           "(sha256, sha512, sha1, md5); the payload cannot be checked");
            r->unreadable = true;
        }
    }
}

void ev_bag__check_fetch(ev_bag_check *k, const char *buf, size_t len)
{
    ev_report *r = k->r;
    char *dec = NULL;
    size_t declen = 0;
    if (!ev_bag__decode_text(EV_BAG_FETCH_TXT, k->enc, buf, len, &dec, &declen, r))
        return;
    ev_bag__parse_fetch(&k->fetch, &k->nfetch, dec ? dec : buf, dec ? declen : len, r);
    free(dec);
    ev_report__add(r, EV_SEVERITY_WARNING, "fetch-present", EV_BAG_FETCH_TXT,
                   "fetch.txt lists %zu file(s) to be fetched from elsewhere; this tool "
                   "never fetches. Files it names that are not in the bag make the bag "
                   "incomplete", k->nfetch);
    for (size_t q = 0; q < k->nfetch; q++) {
        const char *why = ev_bag__unsafe_reason(k->fetch[q].path, strlen(k->fetch[q].path));
        if (why || !ev_bag__is_payload(k->fetch[q].path))
            ev_report__add(r, EV_SEVERITY_ERROR, "fetch-bad-path", EV_BAG_FETCH_TXT,
                           "fetch.txt line %zu names '%s', %s; never fetched (RFC 8493 "
                           "2.2.3, 5.1)", k->fetch[q].line, k->fetch[q].path,
                           why ? why : "which is outside data/");
    }
}

const char *ev_bag__check_info_name(const ev_bag_check *k)
{
    if (!k->all || !k->nall)
        return EV_BAG_INFO_TXT;
    return ev_bag__info_name(k->vmaj, k->vmin,
                             ev_bag__name_find(k->all, k->nall, EV_BAG_INFO_TXT) >= 0,
                             ev_bag__name_find(k->all, k->nall, EV_BAG_PACKAGE_INFO_TXT) >= 0);
}

void ev_bag__check_baginfo(ev_bag_check *k, const char *buf, size_t len)
{
    ev_report *r = k->r;
    const char *name = ev_bag__check_info_name(k);
    char *dec = NULL;
    size_t declen = 0;
    if (strcmp(name, EV_BAG_INFO_TXT) != 0)
        ev_report__add(r, EV_SEVERITY_WARNING, "baginfo-old-name", name,
                       "%s is what BagIt %d.%d called bag-info.txt (renamed in 0.96); read "
                       "as bag-info.txt, but tools that follow RFC 8493 ignore it", name,
                       k->vmaj, k->vmin);
    if (!ev_bag__decode_text(name, k->enc, buf, len, &dec, &declen, r))
        return;
    ev_bag__parse_baginfo_named(&k->bi, name, dec ? dec : buf, dec ? declen : len, k->vmaj < 1, r);
    free(dec);
    size_t nox = ev_bag__baginfo_count(&k->bi, "Payload-Oxum");
    const ev_baginfo_elem *oe = ev_bag__baginfo_find(&k->bi, "Payload-Oxum");
    const char *ox = oe ? oe->value : NULL;
    uint64_t ob, of;
    if (nox > 1)
        ev_report__add(r, EV_SEVERITY_ERROR, "oxum-repeated", name,
                       "%s line %zu: Payload-Oxum appears %zu times in %s; it must appear "
                       "at most once", name, oe->line, nox, name);
    if (ox && !ev_bag__parse_oxum(ox, &ob, &of))
        ev_report__add(r, EV_SEVERITY_ERROR, "oxum-invalid", name,
                       "%s line %zu: Payload-Oxum '%s' is not 'OctetCount.StreamCount'", name,
                       oe->line, ox);
    else if (ox && (ob != k->payload_bytes || of != k->npayload))
        ev_report__add(r, EV_SEVERITY_ERROR, "oxum-mismatch", name,
                       "%s line %zu: Payload-Oxum says %llu bytes in %llu files; the "
                       "payload has %llu bytes in %zu files: files were added, removed, "
                       "truncated or extended", name, oe->line, (unsigned long long)ob,
                       (unsigned long long)of, (unsigned long long)k->payload_bytes,
                       k->npayload);
}

int ev_bag__check_complete(ev_bag_check *bc)
{
    ev_report *r = bc->r;
    const ev_bag_name *all = bc->all, *payload = bc->payload;
    size_t nall = bc->nall, npayload = bc->npayload;
    const ev_fetch_entry *fetch = bc->fetch;
    size_t nfetch = bc->nfetch;
    /* completeness: every manifest line names a present, safe file */
    uint32_t *in_manifests = ev__calloc(bc->nexp, sizeof(uint32_t)); /* bit per payload manifest */
    if (!in_manifests)
        return EV_ENOMEM;
    size_t pm_index = 0, n_system = 0;
    for (size_t mi = 0; mi < bc->nmf; mi++) {
        ev_manifest *m = &bc->mf[mi];
        size_t before_m = r->nproblems;
        ev_bag_name *seen = ev__calloc(m->n, sizeof(*seen));
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
                                   m->filename, "%s line %zu lists the tag manifest '%s'; it "
                                   "must not", m->filename, me->line, me->path);
                    continue;
                }
            }
            if (seen) {
                seen[nseen++] = (ev_bag_name){ me->path, k, 0 };
            }
            if (!m->is_tag && pm_index == 0 && ev_bag__system_file(me->path) &&
                n_system++ < 100)
                ev_report__add(r, EV_SEVERITY_WARNING, "payload-system-file", me->path,
                               "%s line %zu: '%s' is %s, left by an operating system "
                               "rather than put in on purpose; it is checked like any "
                               "file, but is probably not part of the evidence",
                               m->filename, me->line, me->path,
                               ev_bag__system_file(me->path));
            long e = ev_bag__name_find(all, nall, me->path);
            if (e < 0) {
                /* RFC 8493 6.1.1.3: compare after normalizing both sides */
                char *nfc = ev_bag__nfc(me->path);
                for (size_t q = 0; nfc && q < nall && e < 0; q++) {
                    char *o = ev_bag__nfc(all[q].name);
                    if (o && strcmp(o, nfc) == 0) {
                        e = (long)all[q].idx;
                        ev_report__add(r, EV_SEVERITY_WARNING, "normalization-mismatch",
                                       all[q].name, "%s line %zu names '%s' in a different "
                                       "Unicode normalization than the file '%s'; matched, "
                                       "but tools that compare bytes will not find it",
                                       m->filename, me->line, me->path, all[q].name);
                    }
                    free(o);
                }
                free(nfc);
            }
            if (e < 0) {
                size_t fq = nfetch;
                for (size_t q = 0; q < nfetch && fq == nfetch; q++)
                    if (strcmp(fetch[q].path, me->path) == 0)
                        fq = q;
                if (fq < nfetch)
                    ev_report__add(r, EV_SEVERITY_ERROR, "fetch-not-fetched", me->path,
                                   "%s line %zu: '%s' is listed in fetch.txt (line %zu) but "
                                   "is not in the bag, so the bag is incomplete (RFC 8493 "
                                   "3); this tool never fetches: fetch it with a trusted "
                                   "tool, then verify again", m->filename, me->line,
                                   me->path, fetch[fq].line);
                else
                    ev_report__add(r, EV_SEVERITY_ERROR, "missing", me->path,
                                   "%s line %zu: '%s' is listed but is missing from the bag",
                                   m->filename, me->line, me->path);
                ev_report__add_file(r, me->path, m->is_tag, EV_FILE_MISSING, 0, NULL);
                continue;
            }
            ev_bag_expect *f = &bc->exp[e];
            f->listed = true;
            f->path = me->path;
            f->is_tag = m->is_tag;
            if (!m->is_tag && pm_index < 32)
                in_manifests[e] |= 1u << pm_index;
            if (m->slot >= 0) {
                if (f->expect[m->slot] && !ev_hash__hex_equal(f->expect[m->slot], me->digest))
                    ev_report__add(r, EV_SEVERITY_ERROR, "manifest-conflict", me->path,
                                   "%s line %zu: '%s' has a different %s checksum than %s "
                                   "gives", m->filename, me->line, me->path, m->alg,
                                   ev_bag__expect_src(bc, f, m->slot));
                f->expect[m->slot] = me->digest;
                f->expect_mf[m->slot] = (uint32_t)mi + 1;
                f->algs |= ev_hash__slot_alg(m->slot);
            }
        }
        if (seen) {
            qsort(seen, nseen, sizeof(*seen), ev_bag__name_cmp);
            for (size_t q = 1; q < nseen; q++) {
                if (strcmp(seen[q].name, seen[q - 1].name) != 0)
                    continue;
                const ev_manifest_entry *a = &m->entries[seen[q - 1].idx];
                const ev_manifest_entry *b2 = &m->entries[seen[q].idx];
                const ev_manifest_entry *first = a->line < b2->line ? a : b2;
                const ev_manifest_entry *later = a->line < b2->line ? b2 : a;
                /* the drafts did not forbid a repeated line; 1.0 does */
                bool same = ev_hash__hex_equal(a->digest, b2->digest);
                if (same && bc->vmaj < 1)
                    ev_report__add(r, EV_SEVERITY_WARNING, "manifest-duplicate", seen[q].name,
                                   "%s line %zu repeats line %zu ('%s', the same checksum); "
                                   "accepted in a BagIt %d.%d bag, but RFC 8493 2.1.3 lists "
                                   "each file once", m->filename, later->line, first->line,
                                   seen[q].name, bc->vmaj, bc->vmin);
                else
                    ev_report__add(r, EV_SEVERITY_ERROR, "manifest-duplicate", seen[q].name,
                                   "%s line %zu lists '%s' again (first on line %zu%s); each "
                                   "file must be listed once (RFC 8493 2.1.3)", m->filename,
                                   later->line, seen[q].name, first->line,
                                   same ? "" : ", with a different checksum");
            }
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
        /* before 1.0 a payload file had to be in at least one manifest */
        if (in_manifests[e] != 0 && bc->vmaj < 1)
            continue;
        if (in_manifests[e] == 0) {
            ev_report__add(r, EV_SEVERITY_ERROR, "extra", payload[q].name,
                           "'%s' is in the bag but in no payload manifest: it was added after "
                           "the bag was made", payload[q].name);
            ev_report__add_file(r, payload[q].name, false, EV_FILE_EXTRA,
                                payload[q].size, NULL);
        } else {
            size_t pi = 0;
            for (size_t mi = 0; mi < bc->nmf; mi++) {
                if (bc->mf[mi].is_tag)
                    continue;
                if (!(in_manifests[e] & (1u << pi)))
                    ev_report__add(r, EV_SEVERITY_ERROR, "not-in-manifest", payload[q].name,
                                   "'%s' is not listed in %s; every payload file must be in "
                                   "every payload manifest", payload[q].name,
                                   bc->mf[mi].filename);
                pi++;
            }
        }
    }
    free(in_manifests);
    /* every tag manifest lists every payload manifest */
    for (size_t mi = 0; mi < bc->nmf; mi++) {
        if (!bc->mf[mi].is_tag)
            continue;
        for (size_t mj = 0; mj < bc->nmf; mj++) {
            if (bc->mf[mj].is_tag)
                continue;
            bool found = false;
            for (size_t k = 0; k < bc->mf[mi].n && !found; k++)
                found = strcmp(bc->mf[mi].entries[k].path, bc->mf[mj].filename) == 0;
            if (!found)
                ev_report__add(r, EV_SEVERITY_ERROR, "tagmanifest-incomplete", bc->mf[mi].filename,
                               "%s does not list the payload manifest %s", bc->mf[mi].filename,
                               bc->mf[mj].filename);
        }
    }
    return EV_OK;
}

void ev_bag__check_unlisted(ev_bag_check *k, bool (*skip)(const char *name))
{
    for (size_t i = 0; i < k->nall; i++) {
        const char *nm = k->all[i].name;
        bool t;
        char a2[32];
        if (k->exp[k->all[i].idx].listed || ev_bag__is_payload(nm) ||
            ev_bag__is_manifest_name(nm, &t, a2, sizeof(a2)) || (skip && skip(nm)) ||
            strcmp(nm, EV_BAG_BAGIT_TXT) == 0)
            continue;
        if (k->nmf && k->n_payload_mf < k->nmf)
            ev_report__add(k->r, EV_SEVERITY_INFO, "tag-unlisted", nm,
                           "tag file '%s' is not in any tag manifest; its content is not "
                           "checked", nm);
    }
}
