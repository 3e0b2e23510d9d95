/*
 * bundle (inspect): the bundle described as JSON (bag-info.txt, payload,
 * record summary, custody log, signatures), and the custody log as JSON.
 */
#include <stdlib.h>
#include <string.h>

#include <magic.h>

#include "bundle/bundle_int.h"
#include "bundle/inspect.h"
#include "record/record.h"
#include "record/record_check.h"

/* ------------------------------------------------------------------------ */
/* inspect                                                                   */
/* ------------------------------------------------------------------------ */

/* What bagit.txt declares: version and tag file encoding (UTF-8 when it
 * cannot be read; the verify report says why). */
typedef struct bag_decl {
    int maj, min;
    bool known;
    char enc[64];
} bag_decl;

static void read_decl(ev_bundle *b, bag_decl *d)
{
    memset(d, 0, sizeof(*d));
    d->maj = 1;
    memcpy(d->enc, "UTF-8", 6);
    long i = ev_store__find(b->store, EV_BAG_BAGIT_TXT);
    char *buf = NULL;
    size_t len = 0;
    ev_errbuf e;
    ev_report *tmp = NULL;
    if (i >= 0 && ev_store__read_all(&buf, &len, b->store, (size_t)i, 4096, &e) == EV_OK &&
        ev_report__new(&tmp, "tmp") == EV_OK) {
        int maj = 1, min = 0;
        char enc[64];
        int rc = ev_bag__parse_bagit_txt_enc(buf, len, &maj, &min, enc, sizeof(enc), tmp);
        if (rc == EV_OK) {
            d->maj = maj;
            d->min = min;
            d->known = true;
            if (enc[0])
                memcpy(d->enc, enc, strlen(enc) + 1);
        }
    }
    ev_report_free(tmp);
    free(buf);
}

/* A tag file as UTF-8 text in *text (caller frees), or false. */
static bool read_tag_text(ev_bundle *b, const bag_decl *d, const char *name, char **text,
                          size_t *tlen)
{
    *text = NULL;
    *tlen = 0;
    long i = ev_store__find(b->store, name);
    char *buf = NULL;
    size_t len = 0;
    ev_errbuf e;
    if (i < 0 || ev_store__read_all(&buf, &len, b->store, (size_t)i, TAG_MAX, &e) != EV_OK) {
        free(buf);
        return false;
    }
    ev_report *tmp = NULL;
    char *dec = NULL;
    size_t declen = 0;
    bool ok = ev_report__new(&tmp, "tmp") == EV_OK &&
              ev_bag__decode_text(name, d->enc, buf, len, &dec, &declen, tmp);
    ev_report_free(tmp);
    if (ok && dec) {
        free(buf);
        *text = dec;
        *tlen = declen;
    } else if (ok) {
        *text = buf;
        *tlen = len;
    } else {
        free(buf);
    }
    return ok;
}

/* The bag's bag-info file: bag-info.txt, or package-info.txt in a
 * 0.93-0.95 bag without one (ev_bag__info_name). */
static const char *info_name(ev_bundle *b, const bag_decl *d)
{
    return ev_bag__info_name(d->maj, d->min, ev_store__find(b->store, EV_BAG_INFO_TXT) >= 0,
                             ev_store__find(b->store, EV_BAG_PACKAGE_INFO_TXT) >= 0);
}

static json_t *baginfo_json(ev_bundle *b, const bag_decl *d)
{
    json_t *o = json_object();
    const char *name = info_name(b, d);
    char *buf = NULL;
    size_t len = 0;
    if (!read_tag_text(b, d, name, &buf, &len))
        return o;
    ev_baginfo bi = { 0 };
    ev_report *tmp = NULL;
    ev_report__new(&tmp, "tmp");
    if (tmp)
        ev_bag__parse_baginfo_named(&bi, name, buf, len, d->maj < 1, tmp);
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

static int by_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* libmagic reads the head of a file; the writer gives it as much */
#define MAGIC_HEAD 16384
/* files of a bag without a record whose content type is looked up */
#define MAGIC_MAX 1000

/* The content type libmagic gives the head of store entry i, or NULL
 * (unreadable, empty, or nothing recognised: application/octet-stream). */
static const char *magic_of(magic_t mg, ev_store_cursor *cur, uint8_t *head, size_t i)
{
    ev_entry_reader *er = NULL;
    ev_errbuf err;
    if (!mg || !cur || !head || ev_store__entry_open(&er, cur, i, &err) != EV_OK)
        return NULL;
    size_t got = 0;
    while (got < MAGIC_HEAD) {
        int64_t n = ev_store__entry_read(er, head + got, MAGIC_HEAD - got, &err);
        if (n <= 0) {
            if (n < 0)
                got = 0;
            break;
        }
        got += (size_t)n;
    }
    ev_store__entry_close(er);
    const char *m = got ? magic_buffer(mg, head, got) : NULL;
    return m && strcmp(m, "application/octet-stream") != 0 ? m : NULL;
}

/* The file of byp whose name is path in another Unicode normalization
 * (RFC 8493 6.1.1.3; verify matches them the same way, with a warning),
 * or NULL. *nfc maps the NFC form of each name present to its entry; made
 * at the first call. */
static json_t *nfc_match(json_t *byp, json_t **nfc, const char *path)
{
    const char *key;
    json_t *v;
    if (!*nfc) {
        *nfc = json_object();
        json_object_foreach(byp, key, v) {
            char *k = json_object_get(v, "missing") ? NULL : ev_bag__nfc(key);
            if (k && *nfc && !json_object_get(*nfc, k))
                json_object_set(*nfc, k, v);
            free(k);
        }
    }
    char *want = ev_bag__nfc(path);
    json_t *found = want && *nfc ? json_object_get(*nfc, want) : NULL;
    free(want);
    return found;
}

/* A bag without a readable record (made by another tool): its items are
 * its payload files, on disk or in a payload manifest, each marked
 * "source": "manifest" (nothing is known of it beyond the bag itself):
 * its size, the payload manifests that list it and the checksums they give
 * (as written, lower-cased; nothing is hashed here: 'evidence verify'
 * checks them), and the content type libmagic sees in its first bytes. */
static json_t *manifest_items_json(ev_bundle *b, const bag_decl *d, json_t *unread)
{
    json_t *byp = json_object(), *nfc = NULL;
    size_t n = ev_store__count(b->store);
    for (size_t i = 0; i < n; i++) {
        const ev_store_entry *e = ev_store__entry(b->store, i);
        if (e->unsafe || e->type != EV_ENTRY_FILE || !ev_bag__is_payload(e->name))
            continue;
        json_object_set_new(byp, e->name,
                            json_pack("{s:s, s:s, s:I, s:[], s:{}}", "path", e->name, "source",
                                      "manifest", "size", (json_int_t)e->size, "manifests",
                                      "hashes"));
    }
    for (size_t i = 0; i < n; i++) {
        const ev_store_entry *e = ev_store__entry(b->store, i);
        bool is_tag;
        char alg[32];
        if (e->unsafe || e->type != EV_ENTRY_FILE ||
            !ev_bag__is_manifest_name(e->name, &is_tag, alg, sizeof(alg)) || is_tag)
            continue;
        char *text = NULL;
        size_t tlen = 0;
        if (!read_tag_text(b, d, e->name, &text, &tlen)) {
            /* not text in the declared encoding, or unreadable: its files
             * are not "in no manifest"; the document says which */
            json_array_append_new(unread, json_string(e->name));
            continue;
        }
        ev_manifest m = { 0 };
        m.filename = ev__strdup(e->name);
        ev_bag__normalize_alg(m.alg, sizeof(m.alg), alg);
        m.slot = ev_hash__slot_from_name(m.alg);
        ev_report *tmp = NULL;
        if (ev_report__new(&tmp, "tmp") == EV_OK)
            ev_bag__parse_manifest(&m, text, tlen, tmp);
        ev_report_free(tmp);
        for (size_t k = 0; k < m.n; k++) {
            const char *path = m.entries[k].path;
            if (!ev_bag__is_payload(path) || ev_bag__unsafe_reason(path, strlen(path)))
                continue;
            json_t *f = json_object_get(byp, path);
            if (!f)
                f = nfc_match(byp, &nfc, path);
            if (!f) {
                f = json_pack("{s:s, s:s, s:b, s:[], s:{}}", "path", path, "source", "manifest",
                              "missing", 1, "manifests", "hashes");
                json_object_set_new(byp, path, f);
            }
            json_t *h = json_object_get(f, "hashes"), *ms = json_object_get(f, "manifests");
            if (h && !json_object_get(h, m.alg)) {
                /* lower case, as every digest this tool states */
                char *lc = ev__strdup(m.entries[k].digest);
                for (char *c = lc; c && *c; c++)
                    *c = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
                if (lc)
                    json_object_set_new(h, m.alg, json_string(lc));
                free(lc);
            }
            bool listed = false;
            size_t q;
            json_t *x;
            json_array_foreach(ms, q, x) listed = listed || !strcmp(json_string_value(x), e->name);
            if (ms && !listed)
                json_array_append_new(ms, json_string(e->name));
        }
        ev_bag__manifest_free(&m);
        free(text);
    }
    json_decref(nfc);
    /* in name order */
    size_t nk = json_object_size(byp), q = 0;
    const char **keys = ev__calloc(nk ? nk : 1, sizeof(*keys));
    json_t *arr = json_array();
    const char *key;
    json_t *v;
    if (keys) {
        json_object_foreach(byp, key, v) keys[q++] = key;
        qsort(keys, q, sizeof(*keys), by_key);
        for (size_t k = 0; k < q; k++)
            json_array_append(arr, json_object_get(byp, keys[k]));
    }
    /* the content type: libmagic on the first bytes, as the writer does,
     * for the first MAGIC_MAX files in name order (about a millisecond a
     * file: a bag of a million files must not take a quarter of an hour) */
    magic_t mg = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    if (mg && magic_load(mg, NULL) != 0) {
        magic_close(mg);
        mg = NULL;
    }
    ev_store_cursor *cur = NULL;
    ev_errbuf err;
    uint8_t *head = mg ? malloc(MAGIC_HEAD) : NULL;
    if (head && ev_store__cursor_new(&cur, b->store, &err) != EV_OK)
        cur = NULL;
    for (size_t k = 0; cur && k < q && k < MAGIC_MAX; k++) {
        json_t *f = json_object_get(byp, keys[k]);
        long i = json_object_get(f, "missing") ? -1 : ev_store__find(b->store, keys[k]);
        const ev_store_entry *e = i >= 0 ? ev_store__entry(b->store, (size_t)i) : NULL;
        const char *mime = e && e->size ? magic_of(mg, cur, head, (size_t)i) : NULL;
        if (mime) {
            json_object_set_new(f, "mime", json_string(mime));
            json_object_set_new(f, "mime_source", json_string("libmagic"));
        }
    }
    ev_store__cursor_free(cur);
    free(head);
    if (mg)
        magic_close(mg);
    free(keys);
    json_decref(byp);
    return arr;
}

int ev_bundle__inspect_doc(json_t **out, ev_bundle *b)
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
    bag_decl decl;
    read_decl(b, &decl);
    if (decl.known) {
        json_object_set_new(o, "bagit_version", json_sprintf("%d.%d", decl.maj, decl.min));
        json_object_set_new(o, "tag_file_encoding", json_string(decl.enc));
    }
    json_object_set_new(o, "bag_info", baginfo_json(b, &decl));
    if (strcmp(info_name(b, &decl), EV_BAG_INFO_TXT) != 0)
        json_object_set_new(o, "bag_info_file", json_string(info_name(b, &decl)));
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
        } else if (strncmp(e->name, EV_BUNDLE_SIGNATURES, strlen(EV_BUNDLE_SIGNATURES)) == 0) {
            json_array_append_new(sigs, ev__json_str(e->name));
        } else {
            json_array_append_new(tags, ev__json_str(e->name));
        }
    }
    json_object_set_new(o, "payload", json_pack("{s:I, s:I}", "files", (json_int_t)files,
                                                "bytes", (json_int_t)bytes));
    const json_t *rec = ev_bundle__record(b);
    if (rec) {
        json_object_set(o, "bundle_id", json_object_get(rec, "bundle_id"));
        json_object_set(o, "created", json_object_get(rec, "created"));
        json_object_set(o, "case", json_object_get(rec, "case"));
        json_object_set(o, "exported_by", json_object_get(rec, "exported_by"));
        json_t *ex = json_array();
        json_t *items = json_object_get(rec, "items");
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
        if (json_is_array(json_object_get(rec, "exhibits"))) {
            /* the exhibit schedule the bundle was packed with */
            json_t *sc = json_object();
            static const char *const parts[] = { "people", "places", "events", "exhibits" };
            for (size_t q = 0; sc && q < sizeof(parts) / sizeof(parts[0]); q++) {
                json_t *v = json_object_get(rec, parts[q]);
                json_object_set(sc, parts[q], json_is_array(v) ? v : json_array());
            }
            json_object_set_new(o, "schedule", sc);
        }
        json_object_set(o, "items", items ? items : json_null());
    } else {
        /* no record: what the bag itself says, file by file */
        json_t *unread = json_array();
        json_object_set_new(o, "items", manifest_items_json(b, &decl, unread));
        if (json_array_size(unread))
            json_object_set(o, "unreadable_manifests", unread);
        json_decref(unread);
    }
    json_t *cust = NULL;
    if (ev_bundle__custody_doc(&cust, NULL, b) == EV_OK)
        json_object_set(o, "custody", json_object_get(cust, "events"));
    json_decref(cust);
    json_object_set_new(o, "signatures", sigs);
    json_object_set_new(o, "tag_files", tags);
    *out = o;
    return EV_OK;
}

int ev_bundle_inspect_json(char **out, ev_bundle *b)
{
    json_t *o = NULL;
    int rc = ev_bundle__inspect_doc(&o, b);
    if (rc != EV_OK)
        return rc;
    char *s = ev_record__dump(o, NULL);
    json_decref(o);
    if (!s)
        return EV_ENOMEM;
    *out = s;
    return EV_OK;
}

/* The node of the record's list whose id is id, or NULL. */
static const json_t *record_node(const json_t *rec, const char *list, const char *id)
{
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(rec, list), i, x) {
        const char *v = json_string_value(json_object_get(x, "id"));
        if (v && id && !strcmp(v, id))
            return x;
    }
    return NULL;
}

/* Each entry whose event names a person or place of the record gets a copy
 * of that node beside the event ("person", "place"), so that a reader sees
 * the name and identifier, not only the id. A name that resolves to no node
 * gets nothing here (verify reports it: record-dangling-reference). */
static void custody_nodes(json_t *events, const json_t *rec)
{
    static const char *const keys[2] = { "person", "place" };
    static const char *const lists[2] = { "people", "places" };
    size_t i;
    json_t *e;
    if (!rec)
        return;
    json_array_foreach(events, i, e) {
        const json_t *ev = json_object_get(e, "event");
        for (int k = 0; k < 2; k++) {
            const json_t *n = record_node(rec, lists[k],
                                          json_string_value(json_object_get(ev, keys[k])));
            if (json_is_object(n))
                json_object_set_new(e, keys[k], json_deep_copy(n));
        }
    }
}

int ev_bundle__custody_doc(json_t **out, bool *all_ok, ev_bundle *b)
{
    if (!out || !b || !b->store)
        return EV_EINVAL;
    *out = NULL;
    if (all_ok)
        *all_ok = false;
    long ci = ev_store__find(b->store, EV_CUSTODY_FILE);
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
    long ti = ev_store__find(b->store, EV_BAG_TAGMANIFEST_SHA256);
    if (ti >= 0) {
        char *tb = NULL, *cb = NULL;
        size_t tl = 0, cl = 0;
        ev_errbuf e2;
        if (ev_store__read_all(&tb, &tl, b->store, (size_t)ti, TAG_MAX, &e2) == EV_OK &&
            ev_store__read_all(&cb, &cl, b->store, (size_t)ci, TAG_MAX, &e2) == EV_OK &&
            ev__utf8_valid(tb, tl)) {
            ev_manifest m = { 0 };
            m.slot = EV_HASH_SHA256;
            m.filename = ev__strdup(EV_BAG_TAGMANIFEST_SHA256);
            snprintf(m.alg, sizeof(m.alg), "sha256");
            ev_report *tr = NULL;
            if (ev_report__new(&tr, "tmp") == EV_OK)
                ev_bag__parse_manifest(&m, tb, tl, tr);
            ev_report_free(tr);
            char sha[65];
            ev_hash__sha256_hex(sha, cb, cl);
            for (size_t k = 0; k < m.n; k++)
                if (!strcmp(m.entries[k].path, EV_CUSTODY_FILE) &&
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
    custody_nodes(events, b->rec ? b->rec->head : NULL);
    json_t *o = json_object();
    json_object_set_new(o, "format", json_string("evidence.custody"));
    json_object_set_new(o, "format_version", json_integer(1));
    json_object_set_new(o, "bundle", ev__json_str(ev_store__path(b->store)));
    json_object_set_new(o, "chain_ok", json_boolean(bad == 0 && nev > 0));
    if (tm_note)
        json_object_set_new(o, "problem", json_string(tm_note));
    json_object_set_new(o, "events", events ? events : json_array());
    json_decref(last);
    if (all_ok)
        *all_ok = bad == 0 && nev > 0;
    *out = o;
    return EV_OK;
}

int ev_bundle_custody_json(char **out, bool *all_ok, ev_bundle *b)
{
    if (out)
        *out = NULL;
    if (all_ok)
        *all_ok = false;
    json_t *o = NULL;
    bool ok = false;
    int rc = out ? ev_bundle__custody_doc(&o, &ok, b) : EV_EINVAL;
    if (rc != EV_OK)
        return rc;
    char *s = ev_record__dump(o, NULL);
    json_decref(o);
    if (!s)
        return EV_ENOMEM;
    if (all_ok)
        *all_ok = ok;
    *out = s;
    return EV_OK;
}
