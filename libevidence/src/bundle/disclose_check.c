/*
 * bundle (disclose, check): verify recomputes the Merkle root of a record's
 * items from their entries, salts, payload hashes and the tag files they
 * name, and compares it with the record's "disclosure" member
 * (docs/disclosure.md). Bundles packed before there was a root have none
 * and are not checked.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bundle/bundle_int.h"
#include "bundle/disclose_int.h"
#include "record/record.h"
#include "record/record_disclose.h"
#include "record/record_read.h"
#include "views/views.h"

/* SHA-256 of a tag file. During verify (files not NULL) a file the hashing
 * phase read to its end with SHA-256 is not read again: its digest is the
 * digest of the bytes it read, which the tag manifests were checked
 * against. Any other file (not listed, not hashed with SHA-256, --fast, a
 * read failure) is read here. */
static int tag_sha256(uint8_t out[32], ev_store *s, const vfile *files, const char *path,
                      ev_errbuf *err)
{
    long e = path ? ev_store__find(s, path) : -1;
    if (e < 0)
        return ev_err__set(err, EV_ENOTFOUND, "'%s' is not in the bundle", path ? path : "?");
    if (files) {
        const vfile *f = &files[e];
        if (f->queued && f->status == EV_OK && f->has_sha256) {
            memcpy(out, f->sha256, 32);
            return EV_OK;
        }
    }
    char *buf = NULL;
    size_t len = 0;
    int rc = ev_store__read_all(&buf, &len, s, (size_t)e, TAG_MAX, err);
    if (rc != EV_OK)
        return rc;
    unsigned int ol = 0;
    EVP_Digest(buf, len, out, &ol, EVP_sha256(), NULL);
    free(buf);
    return EV_OK;
}

int ev_bundle__tagfile_sha256(uint8_t out[32], ev_store *s, const char *path, ev_errbuf *err)
{
    return tag_sha256(out, s, NULL, path, err);
}

/* The leaf of an item; files as for tag_sha256(). */
static int item_leaf(uint8_t leaf[32], ev_store *s, const vfile *files, const json_t *it,
                     char *why, size_t whylen)
{
    uint8_t salt[EV_DISCLOSE_SALT_LEN], payload[32];
    if (!ev_record__unhex(salt, jstr(it, "salt"), EV_DISCLOSE_SALT_LEN)) {
        snprintf(why, whylen, "has no salt of 64 lower-case hex digits");
        return EV_EFORMAT;
    }
    if (!ev_record__unhex(payload, jstr(json_object_get(it, "hashes"), "sha256"), 32)) {
        snprintf(why, whylen, "has no hashes.sha256");
        return EV_EFORMAT;
    }
    const char *dr = jstr(json_object_get(it, "derived_from"), "record");
    const json_t *meta = json_object_get(it, "meta");
    size_t nm = json_array_size(meta) + (dr ? 1 : 0);
    if (nm > 4096) {
        snprintf(why, whylen, "names more than 4096 tag files");
        return EV_EFORMAT;
    }
    uint8_t (*mh)[32] = nm ? ev__calloc(nm, 32) : NULL;
    if (nm && !mh)
        return EV_ENOMEM;
    size_t k = 0;
    int rc = EV_OK;
    ev_errbuf e;
    if (dr && (rc = tag_sha256(mh[k++], s, files, dr, &e)) != EV_OK)
        snprintf(why, whylen, "names %s, which cannot be read: %s", dr, e.msg);
    for (size_t i = 0; rc == EV_OK && i < json_array_size(meta); i++) {
        const char *p = json_string_value(json_array_get(meta, i));
        if ((rc = tag_sha256(mh[k++], s, files, p, &e)) != EV_OK)
            snprintf(why, whylen, "names %s, which cannot be read: %s", p ? p : "(not a string)",
                     e.msg);
    }
    if (rc == EV_OK) {
        rc = ev_record__leaf(leaf, it, salt, payload, (const uint8_t (*)[32])mh, nm);
        if (rc == EV_EINVAL)
            snprintf(why, whylen, "cannot be put in canonical form");
    }
    free(mh);
    return rc == EV_ENOMEM ? rc : rc != EV_OK ? EV_EFORMAT : EV_OK;
}

int ev_bundle__item_leaf(uint8_t leaf[32], ev_store *s, const json_t *it, char *why,
                         size_t whylen)
{
    return item_leaf(leaf, s, NULL, it, why, whylen);
}

int ev_bundle__disclosure_root(vctx *c)
{
    /* only a record that has a disclosure tree */
    const ev_record__slim *sl = c->b->rec;
    const json_t *d = sl ? json_object_get(sl->head, "disclosure") : NULL;
    if (!d)
        return EV_OK;
    ev_report *r = c->r;
    size_t n = json_is_array(json_object_get(sl->head, "items")) ? sl->nall : 0;
    uint8_t root[32];
    const json_t *cnt = json_object_get(d, "items");
    if (!json_is_object(d) || !jstr(d, "hash") || strcmp(jstr(d, "hash"), "sha256") != 0 ||
        !ev_record__unhex(root, jstr(d, "root"), 32) || !json_is_integer(cnt)) {
        ev_report__add(r, EV_SEVERITY_ERROR, "disclosure-malformed", EV_RECORD_FILE,
                       "evidence.json's disclosure member needs hash \"sha256\", a whole "
                       "number of items and a root of 64 lower-case hex digits");
        return EV_OK;
    }
    if (json_integer_value(cnt) < 0 || (uint64_t)json_integer_value(cnt) != n || n == 0) {
        ev_report__add(r, EV_SEVERITY_ERROR, "disclosure-root-mismatch", EV_RECORD_FILE,
                       "evidence.json's disclosure tree claims %lld items; the record has %zu",
                       (long long)json_integer_value(cnt), n);
        return EV_OK;
    }
    /* the items one at a time, from the text (through a temporary file
     * when it is large); the record parsed whole only when that fails */
    ev_views__rec vr;
    ev_spill sp;
    memset(&sp, 0, sizeof(sp));
    sp.fd = -1;
    ev_errbuf e;
    long ri = ev_store__find(c->b->store, EV_RECORD_FILE);
    const ev_spill *text = c->b->rec_text; /* as the open read it */
    int orc = ri < 0  ? EV_EIO
              : text ? ev_views__rec_spill(&vr, text, ev_record__read_cap(&c->b->o), &e)
                     : ev_views__rec_store(&vr, &sp, c->b->store, (size_t)ri,
                                           ev_record__read_cap(&c->b->o), &e);
    if (orc == EV_ENOMEM) {
        ev_spill__free(&sp);
        return orc;
    }
    const json_t *items = NULL;
    if (orc != EV_OK) {
        if (orc == EV_EFORMAT)
            ev_views__rec_free(&vr);
        items = json_object_get(ev_bundle__record(c->b), "items");
        if (!items) {
            ev_spill__free(&sp);
            return EV_ENOMEM;
        }
    }
    uint8_t (*leaves)[32] = ev__calloc(n, 32);
    if (!leaves) {
        if (orc == EV_OK)
            ev_views__rec_free(&vr);
        ev_spill__free(&sp);
        return EV_ENOMEM;
    }
    size_t bad = 0;
    int rc = EV_OK;
    for (size_t i = 0; i < n && rc == EV_OK; i++) {
        const json_t *it = orc == EV_OK ? ev_views__item(&vr, i) : json_array_get(items, i);
        if (!it && orc == EV_OK && ev_views__rec_status(&vr) == EV_ENOMEM) {
            rc = EV_ENOMEM;
            break;
        }
        char why[600];
        int lrc = json_is_object(it) ? item_leaf(leaves[i], c->b->store, c->files, it, why,
                                                 sizeof(why))
                                     : (snprintf(why, sizeof(why), "is not an object"), EV_EFORMAT);
        if (lrc == EV_ENOMEM) {
            rc = lrc;
            break;
        }
        if (lrc != EV_OK && bad++ < 20) {
            const char *id = jstr(it, "id");
            ev_report__add(r, EV_SEVERITY_ERROR, "disclosure-malformed", EV_RECORD_FILE,
                           "evidence.json item %s %s, so its leaf in the disclosure tree "
                           "cannot be computed", id ? id : "(no id)", why);
        }
    }
    if (orc == EV_OK)
        ev_views__rec_free(&vr);
    ev_spill__free(&sp);
    if (rc != EV_OK) {
        free(leaves);
        return rc;
    }
    if (!bad) {
        uint8_t got[32];
        ev_record__tree_root(got, (const uint8_t (*)[32])leaves, n);
        if (memcmp(got, root, 32) != 0) {
            char hex[65];
            ev_hash__to_hex(hex, got, 32);
            ev_report__add(r, EV_SEVERITY_ERROR, "disclosure-root-mismatch", EV_RECORD_FILE,
                           "evidence.json's disclosure root %s does not match its %zu items "
                           "(their tree gives %s): an item entry, salt or tag file it names "
                           "changed after packing", jstr(d, "root"), n, hex);
        }
    }
    free(leaves);
    return EV_OK;
}
