/*
 * bundle (disclose): cut a part of a bundle, with proof that its items came
 * unaltered from the signed original (docs/disclosure.md). The part is a
 * new bag written through the sink (nothing at the target until it is
 * complete): the chosen items' payload and tag files copied as stored,
 * their record entries verbatim (salts included), the original's
 * signatures that commit to its disclosure tree, with their tokens, under
 * disclosure/, an inclusion proof per item in evidence.json's
 * "disclosed_from", and a custody log of one "disclosed" event.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "bundle/bundle_int.h"
#include "bundle/disclose_int.h"
#include "bundle/write_int.h"
#include "record/record.h"
#include "record/record_disclose.h"
#include "sign/sign.h"
#include "views/views.h"

int ev_disclose_options_init(ev_disclose_options *opts, unsigned int version)
{
    return ev__options_init(opts, version == EV_DISCLOSE_OPTIONS_VERSION ? sizeof(*opts) : 0,
                            version);
}

typedef struct tagsum {
    char *path;
    char sha[2][EV_HASH_HEX_MAX];
} tagsum;

typedef struct dctx {
    ev_bundle *b;
    const ev_disclose_options *o;
    ev_errbuf *err;
    json_t *items;               /* the source record's items */
    size_t n;                    /* in the source */
    bool *chosen;
    size_t nchosen;
    uint32_t algs;               /* payload manifests of the source */
    ev_sink *sink;
    tagsum *tags;
    size_t ntags, captags;
    json_t *from;                /* the part's disclosed_from */
    json_t *sigs;                /* its "signatures" */
    size_t nsigs;
} dctx;

static int tag_add(dctx *c, const char *path, const void *data, size_t len, bool compress,
                   bool listed)
{
    if (listed) {
        tagsum *t = ev__grow(c->tags, &c->captags, c->ntags, sizeof(*t), 32);
        if (!t)
            return EV_ENOMEM;
        c->tags = t;
        ev_hasher *h = NULL;
        ev_digests d;
        if (ev_hash__new(&h, c->algs) != EV_OK)
            return EV_ENOMEM;
        ev_hash__update(h, data, len);
        ev_hash__final(h, &d);
        ev_hash__free(h);
        tagsum *s = &c->tags[c->ntags];
        memcpy(s->sha[0], d.hex[EV_HASH_SHA256], sizeof(s->sha[0]));
        memcpy(s->sha[1], d.hex[EV_HASH_SHA512], sizeof(s->sha[1]));
        if (!(s->path = ev__strdup(path)))
            return EV_ENOMEM;
        c->ntags++;
    }
    ev_producer p;
    int rc = ev_producer__buffer(&p, data, len);
    return rc == EV_OK ? ev_sink__add(c->sink, path, &p, compress, 0, c->err) : rc;
}

/* A tag file of the source copied into the part (listed in the tag manifests). */
static int copy_tag(dctx *c, const char *path, bool listed)
{
    ev_store *s = c->b->store;
    long e = ev_store__find(s, path);
    if (e < 0)
        return ev_err__set(c->err, EV_EFORMAT, "'%s' is not in the bundle", path);
    char *buf = NULL;
    size_t len = 0;
    int rc = ev_store__read_all(&buf, &len, s, (size_t)e, TAG_MAX, c->err);
    if (rc == EV_OK)
        rc = tag_add(c, path, buf ? buf : "", len, ev_store__entry(s, (size_t)e)->deflated,
                     listed);
    free(buf);
    return rc;
}

static long find_item(const json_t *items, const char *id)
{
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it) {
        const char *x = jstr(it, "id");
        if (x && strcmp(x, id) == 0)
            return (long)i;
    }
    return -1;
}

/* The chosen items: by id, by exhibit (masters), their working copies. */
static int choose(dctx *c)
{
    const ev_disclose_options *o = c->o;
    for (size_t k = 0; k < o->nitems; k++) {
        long i = o->items[k] ? find_item(c->items, o->items[k]) : -1;
        if (i < 0)
            return ev_err__set(c->err, EV_ENOTFOUND, "the bundle has no item '%s' (see "
                               "'evidence inspect' for its items)",
                               o->items[k] ? o->items[k] : "(null)");
        c->chosen[i] = true;
    }
    for (size_t k = 0; k < o->nexhibits; k++) {
        bool any = false;
        for (size_t i = 0; i < c->n; i++) {
            const json_t *it = json_array_get(c->items, i);
            const char *ex = jstr(it, "exhibit");
            if (ex && o->exhibits[k] && strcmp(ex, o->exhibits[k]) == 0 &&
                !json_object_get(it, "derived_from")) {
                c->chosen[i] = true;
                any = true;
            }
        }
        if (!any)
            return ev_err__set(c->err, EV_ENOTFOUND, "the bundle has no master item of exhibit "
                               "'%s'", o->exhibits[k] ? o->exhibits[k] : "(null)");
    }
    if (o->flags & EV_DISCLOSE_WITH_COPIES)
        for (size_t i = 0; i < c->n; i++) {
            const char *src = jstr(json_object_get(json_array_get(c->items, i), "derived_from"),
                                   "item");
            long m = src ? find_item(c->items, src) : -1;
            if (m >= 0 && c->chosen[m])
                c->chosen[i] = true;
        }
    for (size_t i = 0; i < c->n; i++) {
        if (!c->chosen[i])
            continue;
        const json_t *it = json_array_get(c->items, i);
        const char *src = jstr(json_object_get(it, "derived_from"), "item");
        long m = src ? find_item(c->items, src) : -1;
        if (src && (m < 0 || !c->chosen[m]))
            return ev_err__set(c->err, EV_EINVAL, "%s is a working copy of %s, which would be "
                               "withheld; disclose %s too (--item %s)", jstr(it, "id"), src,
                               src, src);
        c->nchosen++;
    }
    if (!c->nchosen)
        return ev_err__set(c->err, EV_EINVAL, "no item chosen: name items (--item) or exhibits "
                           "(--exhibit)");
    return EV_OK;
}

static json_t *path_json(const uint8_t (*path)[32], size_t len)
{
    json_t *a = json_array();
    for (size_t k = 0; a && k < len; k++) {
        char hex[65];
        ev_hash__to_hex(hex, path[k], 32);
        json_array_append_new(a, json_string(hex));
    }
    return a;
}

/* A signature (and its token) of the source copied under disclosure/. */
static int add_sig(dctx *c, const char *sig, const char *tok, const char *dst_sig,
                   const char *dst_tok)
{
    ev_store *s = c->b->store;
    const char *src[2] = { sig, tok };
    const char *dst[2] = { dst_sig, dst_tok };
    for (int k = 0; k < 2; k++) {
        if (!src[k])
            continue;
        long e = ev_store__find(s, src[k]);
        char *buf = NULL;
        size_t len = 0;
        int rc = e < 0 ? ev_err__set(c->err, EV_EFORMAT, "'%s' is not in the bundle", src[k])
                       : ev_store__read_all(&buf, &len, s, (size_t)e, EV_SIGN__MAX_FILE, c->err);
        if (rc == EV_OK)
            rc = tag_add(c, dst[k], buf ? buf : "", len, false, true);
        free(buf);
        if (rc != EV_OK)
            return rc;
    }
    json_t *o = json_pack("{s:s, s:o}", "signature", dst_sig, "token",
                          dst_tok ? json_string(dst_tok) : json_null());
    if (!o || json_array_append_new(c->sigs, o) != 0)
        return EV_ENOMEM;
    c->nsigs++;
    return EV_OK;
}

/* An original: proofs from the tree of every item, the signatures that
 * commit to its root. */
static int from_original(dctx *c, const json_t *rec, const json_t *disc)
{
    uint8_t (*leaves)[32] = ev__calloc(c->n, 32);
    if (!leaves)
        return EV_ENOMEM;
    int rc = EV_OK;
    for (size_t i = 0; i < c->n && rc == EV_OK; i++) {
        char why[600];
        rc = ev_bundle__item_leaf(leaves[i], c->b->store, json_array_get(c->items, i), why,
                                  sizeof(why));
        if (rc == EV_EFORMAT)
            ev_err__set(c->err, rc, "item %zu %s", i + 1, why);
    }
    /* every chosen item's path from one pass over the tree */
    uint8_t root[32], want[32];
    size_t *idx = ev__calloc(c->nchosen, sizeof(*idx)), *lens = ev__calloc(c->nchosen, sizeof(*lens));
    uint8_t (*paths)[EV_DISCLOSE_MAX_PATH][32] = ev__calloc(c->nchosen, sizeof(*paths));
    if (rc == EV_OK && (!idx || !lens || !paths))
        rc = EV_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < c->n && rc == EV_OK; i++)
        if (c->chosen[i])
            idx[k++] = i;
    if (rc == EV_OK)
        rc = ev_record__tree_paths(root, paths, lens, (const uint8_t (*)[32])leaves, c->n, idx, k);
    if (rc == EV_OK &&
        (!ev_record__unhex(want, jstr(disc, "root"), 32) || memcmp(root, want, 32) != 0))
        rc = ev_err__set(c->err, EV_EFORMAT, "the record's disclosure root does not match its "
                         "items; run 'evidence verify'");
    json_t *proofs = json_array();
    for (size_t j = 0; j < k && rc == EV_OK; j++) {
        json_t *p = json_pack("{s:s, s:I, s:o}", "item",
                              jstr(json_array_get(c->items, idx[j]), "id"), "index",
                              (json_int_t)idx[j], "path",
                              path_json((const uint8_t (*)[32])paths[j], lens[j]));
        if (!p || json_array_append_new(proofs, p) != 0)
            rc = EV_ENOMEM;
    }
    free(idx);
    free(lens);
    free(paths);
    free(leaves);
    char hex[65];
    ev_hash__to_hex(hex, root, 32);
    if (rc == EV_OK)
        rc = json_object_set_new(c->from, "bundle_id", json_string(jstr(rec, "bundle_id"))) ||
                     json_object_set_new(c->from, "created", json_string(jstr(rec, "created"))) ||
                     json_object_set_new(c->from, "hash", json_string("sha256")) ||
                     json_object_set_new(c->from, "items", json_integer((json_int_t)c->n)) ||
                     json_object_set_new(c->from, "root", json_string(hex)) ||
                     json_object_set(c->from, "proofs", proofs)
                 ? EV_ENOMEM
                 : EV_OK;
    json_decref(proofs);
    if (rc != EV_OK)
        return rc;
    /* the signatures that commit to this tree */
    char *cm = ev_sign__commitment(jstr(rec, "bundle_id"), jstr(rec, "created"), c->n, hex);
    uint8_t commit[32];
    unsigned int ol = 0;
    if (!cm || !EVP_Digest(cm, strlen(cm), commit, &ol, EVP_sha256(), NULL)) {
        free(cm);
        return ev_err__set(c->err, EV_EFORMAT, "the record's bundle_id or created cannot be "
                           "committed to");
    }
    free(cm);
    ev_store *s = c->b->store;
    for (size_t i = 0; i < ev_store__count(s) && rc == EV_OK; i++) {
        const ev_store_entry *e = ev_store__entry(s, i);
        size_t nl = strlen(e->name);
        if (e->unsafe || e->type == EV_ENTRY_DIR ||
            strncmp(e->name, EV_BUNDLE_SIGNATURES, strlen(EV_BUNDLE_SIGNATURES)) != 0 ||
            nl < 4 || strcmp(e->name + nl - 4, ".p7s") != 0)
            continue;
        char *buf = NULL;
        size_t len = 0;
        if (ev_store__read_all(&buf, &len, s, i, EV_SIGN__MAX_FILE, c->err) != EV_OK)
            continue;
        ev_sign__cms cms;
        ev_errbuf pe;
        bool parsed = ev_sign__cms_parse(&cms, (const uint8_t *)buf, len, &pe) == EV_OK;
        bool ours = parsed && cms.has_commit && memcmp(cms.commit, commit, 32) == 0;
        if (parsed)
            ev_sign__cms_clear(&cms);
        free(buf);
        if (!ours)
            continue;
        char *tok = ev__strdup(e->name);
        if (!tok)
            return EV_ENOMEM;
        memcpy(tok + nl - 3, "tsr", 3);
        const char *base = e->name + strlen(EV_BUNDLE_SIGNATURES);
        char *ds = ev__asprintf("%s%s", EV_DISCLOSE_DIR, base);
        char *dt = ev__asprintf("%s%s", EV_DISCLOSE_DIR, base);
        if (dt)
            memcpy(dt + strlen(dt) - 3, "tsr", 3);
        bool has_tok = ev_store__find(s, tok) >= 0;
        rc = ds && dt ? add_sig(c, e->name, has_tok ? tok : NULL, ds, has_tok ? dt : NULL)
                      : EV_ENOMEM;
        free(tok);
        free(ds);
        free(dt);
    }
    if (rc == EV_OK && c->nsigs == 0)
        rc = ev_err__set(c->err, EV_EUNSUPPORTED, "no signature of this bundle commits to its "
                         "disclosure tree, so a part could not be proven: sign it first "
                         "('evidence sign'), then cut the part");
    return rc;
}

/* A part: the proofs of the chosen items and every signature, as they are. */
static int from_part(dctx *c, const json_t *df)
{
    ev_disclose_from d;
    int rc = ev_record__disclosed_from_parse(&d, df, c->err);
    if (rc != EV_OK)
        return rc;
    json_t *proofs = json_array();
    const json_t *src = json_object_get(df, "proofs");
    for (size_t i = 0; i < c->n && rc == EV_OK; i++) {
        if (!c->chosen[i])
            continue;
        const char *id = jstr(json_array_get(c->items, i), "id");
        const json_t *hit = NULL;
        for (size_t k = 0; k < json_array_size(src) && !hit; k++)
            if (id && d.proofs[k].item && strcmp(d.proofs[k].item, id) == 0)
                hit = json_array_get(src, k);
        if (!hit)
            rc = ev_err__set(c->err, EV_EFORMAT, "the part has no proof for %s", id ? id : "?");
        else if (json_array_append(proofs, (json_t *)hit) != 0)
            rc = EV_ENOMEM;
    }
    static const char *const keep[] = { "bundle_id", "created", "hash", "items", "root" };
    for (size_t k = 0; k < 5 && rc == EV_OK; k++)
        if (json_object_set(c->from, keep[k], json_object_get(df, keep[k])) != 0)
            rc = EV_ENOMEM;
    if (rc == EV_OK && json_object_set(c->from, "proofs", proofs) != 0)
        rc = EV_ENOMEM;
    json_decref(proofs);
    for (size_t k = 0; k < d.nsigs && rc == EV_OK; k++)
        rc = add_sig(c, d.sigs[k].signature, d.sigs[k].token, d.sigs[k].signature, d.sigs[k].token);
    if (rc == EV_OK && c->nsigs == 0)
        rc = ev_err__set(c->err, EV_EUNSUPPORTED, "this part carries no signature of the "
                         "original, so a part of it could not be proven");
    ev_record__disclosed_from_clear(&d);
    return rc;
}

/* bag-info.txt of the part: the source's description, this part's sizes. */
static char *part_baginfo(dctx *c, const char *bundle_id, uint64_t bytes)
{
    char *src = NULL;
    size_t slen = 0;
    long e = ev_store__find(c->b->store, EV_BAG_INFO_TXT);
    ev_baginfo in = { 0 }, out = { 0 };
    ev_report *scratch = NULL;
    if (e >= 0 && ev_report__new(&scratch, "scratch") == EV_OK &&
        ev_store__read_all(&src, &slen, c->b->store, (size_t)e, TAG_MAX, c->err) == EV_OK)
        ev_bag__parse_baginfo(&in, src, slen, false, scratch);
    ev_report_free(scratch);
    free(src);
    static const char *const copied[] = { "Source-Organization", "Contact-Name",
                                          "External-Identifier", "External-Description" };
    for (size_t k = 0; k < 4; k++)
        if (ev_bag__baginfo_get(&in, copied[k]))
            ev_bag__baginfo_add(&out, copied[k], ev_bag__baginfo_get(&in, copied[k]));
    char date[16], oxum[64], size[32], agent[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%Y-%m-%d", &tm);
    snprintf(oxum, sizeof(oxum), "%llu.%zu", (unsigned long long)bytes, c->nchosen);
    if (bytes < 1024)
        snprintf(size, sizeof(size), "%llu bytes", (unsigned long long)bytes);
    else if (bytes < 1024 * 1024)
        snprintf(size, sizeof(size), "%.1f KB", (double)bytes / 1024.0);
    else if (bytes < (uint64_t)1024 * 1024 * 1024)
        snprintf(size, sizeof(size), "%.1f MB", (double)bytes / (1024.0 * 1024.0));
    else
        snprintf(size, sizeof(size), "%.1f GB", (double)bytes / (1024.0 * 1024.0 * 1024.0));
    snprintf(agent, sizeof(agent), "evidence %s (libevidence)", EV_VERSION_STRING);
    ev_bag__baginfo_add(&out, "Bagging-Date", date);
    ev_bag__baginfo_add(&out, "Bag-Size", size);
    ev_bag__baginfo_add(&out, "Payload-Oxum", oxum);
    ev_bag__baginfo_add(&out, "Bag-Software-Agent", agent);
    ev_bag__baginfo_add(&out, "Evidence-Bundle-Id", bundle_id);
    ev_bag__baginfo_add(&out, "Evidence-Format-Version", "1");
    static const char *const copied2[] = { "Evidence-Case-Reference", "Evidence-Operation",
                                           "Evidence-Officer-Identifier" };
    for (size_t k = 0; k < 3; k++)
        if (ev_bag__baginfo_get(&in, copied2[k]))
            ev_bag__baginfo_add(&out, copied2[k], ev_bag__baginfo_get(&in, copied2[k]));
    /* the exhibits of the disclosed items, in the source's order */
    for (size_t i = 0; i < c->n; i++) {
        const char *ex = c->chosen[i] ? jstr(json_array_get(c->items, i), "exhibit") : NULL;
        bool seen = false;
        for (size_t j = 0; ex && j < i && !seen; j++)
            seen = c->chosen[j] && jstr(json_array_get(c->items, j), "exhibit") &&
                   strcmp(jstr(json_array_get(c->items, j), "exhibit"), ex) == 0;
        if (ex && !seen)
            ev_bag__baginfo_add(&out, "Evidence-Exhibit", ex);
    }
    ev_bag__baginfo_add(&out, "Evidence-Record", EV_RECORD_FILE);
    ev_bag__baginfo_add(&out, "Evidence-Custody-Log", EV_CUSTODY_FILE);
    char *txt = ev_bag__baginfo_format(&out);
    ev_bag__baginfo_free(&in);
    ev_bag__baginfo_free(&out);
    return txt;
}

static int write_part(dctx *c, const json_t *rec, const char *out_path)
{
    ev_bundle *b = c->b;
    ev_store *s = b->store;
    int rc = EV_OK;
    char *bag_name = NULL, *bi = NULL, *rtxt = NULL, *custody = NULL, *views[2] = { NULL, NULL };
    json_t *part = NULL;
    ev_buf man[2] = { { 0 }, { 0 } };
    size_t rlen = 0, vlen[2] = { 0, 0 };
    char bundle_id[64], now[40];
    {
        const char *base = strrchr(out_path, '/');
        base = base ? base + 1 : out_path;
        size_t bl = strlen(base);
        if (c->o->format == EV_FORMAT_ZIP && bl > 4 && strcasecmp(base + bl - 4, ".zip") == 0)
            bl -= 4;
        bag_name = ev__strndup(base, bl);
        bool ch = false;
        char *safe = bag_name ? ev_bundle__safe_component(bag_name, &ch) : NULL;
        bool ok = safe && !ch && *bag_name;
        free(safe);
        if (!ok) {
            free(bag_name);
            return ev_err__set(c->err, EV_EINVAL, "'%s': the output name must be a plain, "
                               "printable UTF-8 file name", out_path);
        }
    }
    if (ev__uuid_urn(bundle_id, sizeof(bundle_id)) != 0) {
        rc = ev_err__set(c->err, EV_ERROR, "no random numbers for the bundle id");
        goto done;
    }
    ev__time_rfc3339(now, sizeof(now), (int64_t)time(NULL));
    if ((rc = ev_sink__open(&c->sink, out_path, c->o->format, bag_name, c->err)) != EV_OK)
        goto done;
    /* the original's signatures and the proofs first: they decide whether
     * there is a part to write at all */
    c->from = json_object();
    c->sigs = json_array();
    if (!c->from || !c->sigs) {
        rc = EV_ENOMEM;
        goto done;
    }
    const json_t *disc = json_object_get(rec, "disclosure");
    const json_t *df = json_object_get(rec, "disclosed_from");
    rc = disc ? from_original(c, rec, disc) : from_part(c, df);
    if (rc != EV_OK)
        goto done;
    if (json_object_set(c->from, "signatures", c->sigs) != 0) {
        rc = EV_ENOMEM;
        goto done;
    }
    /* payload, copied as stored; its manifests from the record's hashes */
    uint64_t bytes = 0;
    if ((rc = ev_sink__add_dir(c->sink, "data", c->err)) != EV_OK)
        goto done;
    for (size_t i = 0; i < c->n && rc == EV_OK; i++) {
        if (!c->chosen[i])
            continue;
        const json_t *it = json_array_get(c->items, i);
        const char *p = jstr(it, "path");
        long e = p ? ev_store__find(s, p) : -1;
        if (e < 0) {
            rc = ev_err__set(c->err, EV_EFORMAT, "the payload of %s is not in the bundle",
                             jstr(it, "id"));
            break;
        }
        const ev_store_entry *se = ev_store__entry(s, (size_t)e);
        bytes += se->size;
        ev_producer pr;
        rc = ev_producer__store_entry(&pr, s, (size_t)e);
        if (rc == EV_OK)
            rc = ev_sink__add(c->sink, p, &pr, se->deflated, se->mtime, c->err);
        for (int sl = 0; sl < 2 && rc == EV_OK; sl++) {
            if (!(c->algs & ev_hash__slot_alg(sl)))
                continue;
            const char *h = jstr(json_object_get(it, "hashes"), ev_hash__slot_name(sl));
            rc = h ? ev_bag__manifest_line(&man[sl], h, p)
                   : ev_err__set(c->err, EV_EFORMAT, "item %s has no %s hash", jstr(it, "id"),
                                 ev_hash__slot_name(sl));
        }
    }
    if (rc != EV_OK)
        goto done;
    if ((rc = tag_add(c, EV_BAG_BAGIT_TXT, EV_BAGIT_TXT, strlen(EV_BAGIT_TXT), true, true)))
        goto done;
    if (!(bi = part_baginfo(c, bundle_id, bytes))) {
        rc = EV_ENOMEM;
        goto done;
    }
    if ((rc = tag_add(c, EV_BAG_INFO_TXT, bi, strlen(bi), true, true)))
        goto done;
    /* the tag files the items name */
    for (size_t i = 0; i < c->n && rc == EV_OK; i++) {
        if (!c->chosen[i])
            continue;
        const json_t *it = json_array_get(c->items, i);
        const char *dr = jstr(json_object_get(it, "derived_from"), "record");
        if (dr)
            rc = copy_tag(c, dr, true);
        const json_t *meta = json_object_get(it, "meta");
        for (size_t k = 0; k < json_array_size(meta) && rc == EV_OK; k++)
            rc = copy_tag(c, json_string_value(json_array_get(meta, k)), true);
    }
    char msha[65] = "", rsha[65] = "";
    for (int sl = 0; sl < 2 && rc == EV_OK; sl++) {
        if (!(c->algs & ev_hash__slot_alg(sl)))
            continue;
        char name[64];
        ev_bag__manifest_name(name, sizeof(name), false, ev_hash__slot_name(sl));
        if (sl == 0)
            ev_hash__sha256_hex(msha, man[sl].data ? man[sl].data : "", man[sl].len);
        rc = tag_add(c, name, man[sl].data ? man[sl].data : "", man[sl].len, true, true);
    }
    if (rc != EV_OK)
        goto done;
    /* the record: the source's head, the chosen entries verbatim */
    part = json_object();
    static const char *const head[] = { "format", "format_version" };
    for (size_t k = 0; k < 2; k++)
        json_object_set(part, head[k], json_object_get(rec, head[k]));
    json_object_set_new(part, "bundle_id", json_string(bundle_id));
    json_object_set_new(part, "created", json_string(now));
    json_t *libs = NULL;
    ev_common__versions(&libs);
    json_object_set_new(part, "tool", json_pack("{s:s, s:s, s:o}", "name", "evidence", "version",
                                                EV_VERSION_STRING, "libraries",
                                                libs ? libs : json_object()));
    static const char *const more[] = { "case", "exported_by", "source_system" };
    for (size_t k = 0; k < 3; k++)
        if (json_object_get(rec, more[k]))
            json_object_set(part, more[k], json_object_get(rec, more[k]));
    json_t *arr = json_array();
    for (size_t i = 0; i < c->n; i++)
        if (c->chosen[i])
            json_array_append(arr, json_array_get(c->items, i));
    json_object_set_new(part, "items", arr);
    json_object_set(part, "disclosed_from", c->from);
    if (!(rtxt = ev_record__dump(part, &rlen))) {
        rc = EV_ENOMEM;
        goto done;
    }
    ev_hash__sha256_hex(rsha, rtxt, rlen);
    if ((rc = tag_add(c, EV_RECORD_FILE, rtxt, rlen, true, true)))
        goto done;
    /* the custody log: one event */
    {
        ev_buf note = { 0 };
        ev_buf__printf(&note, "%zu of %zu items of bundle %s (", c->nchosen,
                       (size_t)json_integer_value(json_object_get(c->from, "items")),
                       jstr(c->from, "bundle_id"));
        size_t k = 0;
        for (size_t i = 0; i < c->n; i++)
            if (c->chosen[i])
                ev_buf__printf(&note, "%s%s", k++ ? ", " : "", jstr(json_array_get(c->items, i), "id"));
        ev_buf__printf(&note, "), with proofs to %zu of its signatures%s%s", c->nsigs,
                       c->o->note ? ": " : "", c->o->note ? c->o->note : "");
        if (!note.data) {
            rc = EV_ENOMEM;
            goto done;
        }
        ev_custody_event ev = { EV_CUSTODY_EVENT_VERSION, "disclosed", c->o->actor,
                                c->o->organisation, note.data };
        custody = ev_custody__line(1, now, &ev, msha, rsha, NULL);
        ev_buf__free(&note);
        if (!custody) {
            rc = EV_ENOMEM;
            goto done;
        }
    }
    if ((rc = tag_add(c, EV_CUSTODY_FILE, custody, strlen(custody), true, true)))
        goto done;
    /* the views, from the part's record and log */
    if ((rc = ev_views__case_jsonld(&views[0], &vlen[0], rtxt, rlen, custody, strlen(custody),
                                    c->err)) ||
        (rc = tag_add(c, EV_VIEW_CASE, views[0], vlen[0], true, true)) ||
        (rc = ev_views__index_html(&views[1], &vlen[1], rtxt, rlen, custody, strlen(custody),
                                   c->err)) ||
        (rc = tag_add(c, EV_VIEW_INDEX, views[1], vlen[1], true, true)))
        goto done;
    /* tag manifests and the seal */
    {
        ev_buf seal = { 0 };
        for (int sl = 0; sl < 2 && rc == EV_OK; sl++) {
            if (!(c->algs & ev_hash__slot_alg(sl)))
                continue;
            ev_buf tm = { 0 };
            for (size_t i = 0; i < c->ntags && rc == EV_OK; i++)
                rc = ev_bag__manifest_line(&tm, c->tags[i].sha[sl], c->tags[i].path);
            char name[64], sha[65];
            ev_bag__manifest_name(name, sizeof(name), true, ev_hash__slot_name(sl));
            ev_hash__sha256_hex(sha, tm.data ? tm.data : "", tm.len);
            if (rc == EV_OK)
                rc = ev_bag__manifest_line(&seal, sha, name);
            if (rc == EV_OK)
                rc = tag_add(c, name, tm.data ? tm.data : "", tm.len, true, false);
            ev_buf__free(&tm);
        }
        if (rc == EV_OK)
            rc = tag_add(c, EV_BUNDLE_SEAL, seal.data ? seal.data : "", seal.len, true, false);
        ev_buf__free(&seal);
    }
    if (rc == EV_OK)
        rc = ev_sink__commit(c->sink, c->err);
done:
    ev_sink__free(c->sink);
    c->sink = NULL;
    json_decref(part);
    free(bag_name);
    free(bi);
    free(rtxt);
    free(custody);
    free(views[0]);
    free(views[1]);
    ev_buf__free(&man[0]);
    ev_buf__free(&man[1]);
    return rc;
}

int ev_bundle_disclose(ev_bundle *b, const char *out_path, const ev_disclose_options *o)
{
    if (!b)
        return EV_EINVAL;
    if (!b->store || !out_path || !o || o->version != EV_DISCLOSE_OPTIONS_VERSION ||
        (o->nitems && !o->items) || (o->nexhibits && !o->exhibits) ||
        (o->flags & ~EV_DISCLOSE_WITH_COPIES))
        return ev_err__set(&b->err, EV_EINVAL, "ev_bundle_disclose: bad arguments");
    if (!o->actor || !*o->actor || !o->organisation || !*o->organisation)
        return ev_err__set(&b->err, EV_EINVAL, "the \"disclosed\" custody event needs an actor "
                           "and an organisation");
    /* never cut a part from a bundle that does not verify */
    int rc = ev_bundle__require_valid(b, "no part was written");
    if (rc != EV_OK)
        return rc;
    const json_t *rec = ev_bundle__record(b);
    if (!rec || !json_is_array(json_object_get(rec, "items")))
        return ev_err__set(&b->err, EV_EUNSUPPORTED, "'%s' has no evidence.json: it is a BagIt "
                           "bag but not an evidence bundle", ev_store__path(b->store));
    if (!json_object_get(rec, "disclosure") && !json_object_get(rec, "disclosed_from"))
        return ev_err__set(&b->err, EV_EUNSUPPORTED,
                           "'%s' was packed before bundles had a disclosure tree (its "
                           "evidence.json has no \"disclosure\" root), so its signatures cover "
                           "every item's name, hash and metadata together: a part of it cannot "
                           "be proven without revealing them all. Hand over the whole bundle, "
                           "or pack the items again with this version and sign that",
                           ev_store__path(b->store));
    dctx c;
    memset(&c, 0, sizeof(c));
    c.b = b;
    c.o = o;
    c.err = &b->err;
    c.items = json_object_get(rec, "items");
    c.n = json_array_size(c.items);
    c.algs = EV_ALG_SHA256;
    for (size_t i = 0; i < ev_store__count(b->store); i++) {
        bool t;
        char alg[32];
        const ev_store_entry *e = ev_store__entry(b->store, i);
        if (!e->unsafe && ev_bag__is_manifest_name(e->name, &t, alg, sizeof(alg)) && !t &&
            strcmp(alg, "sha512") == 0)
            c.algs |= EV_ALG_SHA512;
    }
    if (!(c.chosen = ev__calloc(c.n ? c.n : 1, sizeof(*c.chosen))))
        return EV_ENOMEM;
    rc = choose(&c);
    if (rc == EV_OK)
        rc = write_part(&c, rec, out_path);
    free(c.chosen);
    for (size_t i = 0; i < c.ntags; i++)
        free(c.tags[i].path);
    free(c.tags);
    json_decref(c.from);
    json_decref(c.sigs);
    return rc;
}
