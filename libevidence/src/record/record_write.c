/*
 * record (write): evidence.json assembled from what the writer knows of the
 * bundle and of each item. The items are dumped one at a time, so that the
 * whole record is never held as a tree; the bytes are those of
 * ev_record__dump() on the whole document. Moved here from the bundle
 * writer; the output is unchanged.
 */
#include "record/record.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "record/record_disclose.h"

static json_t *item_json(const ev_record_item *it)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(it->id));
    json_object_set_new(o, "exhibit", ev__json_str(it->exhibit));
    json_object_set_new(o, "role", json_string(it->source_id ? "derivative" : "master"));
    json_object_set_new(o, "path", ev__json_str(it->path));
    const char *base = strrchr(it->original_path, '/');
    json_object_set_new(o, "original_name",
                        ev__json_str(base ? base + 1 : it->original_path));
    json_object_set_new(o, "original_path", ev__json_str(it->original_path));
    if (it->name_note)
        json_object_set_new(o, "name_changed", json_string(it->name_note));
    json_object_set_new(o, "size", json_integer((json_int_t)it->size));
    json_t *h = json_object();
    for (int s = 0; s < EV_HASH_COUNT; s++)
        if (it->algorithms & ev_hash__slot_alg(s))
            json_object_set_new(h, ev_hash__slot_name(s), json_string(it->digests->hex[s]));
    json_object_set_new(o, "hashes", h);
    json_object_set_new(o, "mime", json_string(it->mime));
    char t[64];
    ev__time_rfc3339_ns(t, sizeof(t), it->mtime_sec, it->mtime_nsec);
    json_object_set_new(o, "times", json_pack("{s:s}", "modified", t));
    if (it->source_id) {
        json_t *d = json_object();
        json_object_set_new(d, "item", json_string(it->source_id));
        json_object_set_new(d, "profile", ev__json_str(it->profile_name));
        json_object_set_new(d, "profile_sha256", json_string(it->profile_sha256));
        json_object_set_new(d, "action", ev__json_str(it->profile_action ? it->profile_action
                                                                         : "transcoded"));
        json_object_set_new(d, "source_sha256", json_string(it->source_sha256));
        json_t *ver = json_object_get(it->derivation, "verification");
        json_t *vd = json_object_get(ver, "verdict");
        json_t *lv = json_object_get(ver, "level");
        json_object_set_new(d, "level", lv ? json_incref(lv) : json_null());
        json_object_set_new(d, "verdict", vd ? json_incref(vd) : json_null());
        json_object_set(d, "settings", json_object_get(it->derivation, "settings")
                                           ? json_object_get(it->derivation, "settings")
                                           : json_null());
        char *rp = ev__asprintf("meta/%s/derivation.json", it->id);
        json_object_set_new(d, "record", ev__json_str(rp));
        free(rp);
        json_object_set_new(o, "derived_from", d);
    }
    if (it->media)
        json_object_set(o, "media", it->media);
    if (it->capture)
        json_object_set(o, "capture", it->capture);
    if (it->content)
        json_object_set(o, "content_hashes", it->content);
    if (it->nmeta) {
        json_t *m = json_array();
        for (size_t k = 0; k < it->nmeta; k++) {
            char *p = ev__asprintf("meta/%s/%s", it->id, it->meta_names[k]);
            json_array_append_new(m, ev__json_str(p));
            free(p);
        }
        json_object_set_new(o, "meta", m);
    }
    return o;
}

#define RECORD_DUMP_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

static bool has_real(const json_t *j)
{
    if (json_is_real(j))
        return true;
    if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            if (has_real(json_array_get(j, i)))
                return true;
    } else if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) {
            if (has_real(v))
                return true;
        }
    }
    return false;
}

/* The item's leaf (docs/disclosure.md) under a new random salt, which is
 * then added to the item as "salt". */
static int add_salt(json_t *o, const ev_record_item *it, uint8_t leaf[32])
{
    uint8_t salt[EV_DISCLOSE_SALT_LEN], payload[32];
    char hex[2 * EV_DISCLOSE_SALT_LEN + 1];
    if (!it->digests || !ev_record__unhex(payload, it->digests->hex[EV_HASH_SHA256], 32) ||
        it->nleaf_sha256 != it->nmeta + (it->source_id ? 1u : 0u) ||
        (it->nleaf_sha256 && !it->leaf_sha256))
        return EV_EINVAL;
    /* the leaf of the item as a reader will parse it back: reals are
     * written with 15 digits, so hash what was written, not the tree (a
     * tree without reals reads back as it is) */
    json_t *back = NULL;
    if (has_real(o)) {
        ev_buf t = { 0 };
        if (ev__json_write(&t, o, RECORD_DUMP_FLAGS) == EV_OK)
            back = json_loadb(t.data, t.len, JSON_DECODE_ANY, NULL);
        ev_buf__free(&t);
    } else {
        back = json_incref(o);
    }
    if (!back)
        return EV_ENOMEM;
    int rc = ev_record__salt(salt);
    if (rc == EV_OK)
        rc = ev_record__leaf(leaf, back, salt, payload, it->leaf_sha256, it->nleaf_sha256);
    json_decref(back);
    if (rc != EV_OK)
        return rc;
    ev_hash__to_hex(hex, salt, sizeof(salt));
    return json_object_set_new(o, "salt", json_string(hex)) == 0 ? EV_OK : EV_ENOMEM;
}


/* Append an item of the record's items array as ev_record__dump() would
 * write it there: its own dump with every line moved 4 spaces in (JSON
 * strings hold no raw newline, so every newline is a line break). */
static int append_nested(ev_buf *b, const json_t *o, const char *sep)
{
    int rc = ev_buf__puts(b, sep);
    if (rc == EV_OK)
        rc = ev_buf__append(b, "    ", 4);
    return rc == EV_OK ? ev__json_write_at(b, o, RECORD_DUMP_FLAGS, 2) : rc;
}

int ev_record__build(ev_buf *out, const ev_record_head *hd, size_t nitems,
                     ev_record__item_fn item, void *ctx)
{
    json_t *r = json_object();
    json_object_set_new(r, "format", json_string(EV_RECORD_FORMAT));
    json_object_set_new(r, "format_version", json_integer(EV_RECORD_FORMAT_VERSION));
    json_object_set_new(r, "bundle_id", json_string(hd->bundle_id));
    json_object_set_new(r, "created", json_string(hd->created));
    json_t *libs = NULL;
    ev_common__versions(&libs);
    json_object_set_new(r, "tool", json_pack("{s:s, s:s, s:o}", "name", "evidence", "version",
                                             EV_VERSION_STRING, "libraries",
                                             libs ? libs : json_object()));
    json_t *c = json_object();
    json_object_set_new(c, "reference", ev__json_str(hd->case_ref));
    json_object_set_new(c, "organisation", ev__json_str(hd->organisation));
    json_object_set_new(c, "operation", ev__json_str(hd->operation));
    json_object_set_new(c, "description", ev__json_str(hd->description));
    json_object_set_new(r, "case", c);
    json_t *e = json_object();
    json_object_set_new(e, "name", ev__json_str(hd->officer));
    json_object_set_new(e, "identifier", ev__json_str(hd->officer_id));
    json_object_set_new(e, "organisation", ev__json_str(hd->organisation));
    json_object_set_new(r, "exported_by", e);
    json_object_set_new(r, "source_system",
                        json_pack("{s:o}", "name", ev__json_str(hd->source_system)));
    if (hd->schedule) {
        static const char *const keys[] = { "people", "places", "events", "exhibits" };
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            json_t *v = json_object_get(hd->schedule, keys[k]);
            json_object_set_new(r, keys[k], v ? json_deep_copy(v) : json_array());
        }
    }
    if (nitems == 0) {
        json_object_set_new(r, "items", json_array());
        size_t len = 0;
        char *s = ev_record__dump(r, &len);
        json_decref(r);
        int rc = s ? ev_buf__append(out, s, len) : EV_ENOMEM;
        free(s);
        return rc;
    }
    /* the items one at a time, each dumped and freed before the next, with
     * the analysis trees they were made from: the same bytes as dumping the
     * whole record at once, without the whole record as a tree */
    char *head = json_dumps(r, RECORD_DUMP_FLAGS);
    json_decref(r);
    size_t hl = head ? strlen(head) : 0;
    ev_buf *b = out;
    int rc = hl >= 2 && strcmp(head + hl - 2, "\n}") == 0 ? EV_OK : EV_ENOMEM;
    if (rc == EV_OK)
        rc = ev_buf__append(b, head, hl - 2);
    free(head);
    if (rc == EV_OK)
        rc = ev_buf__puts(b, ",\n  \"items\": [\n");
    uint8_t (*leaves)[32] = ev__calloc(nitems, sizeof(*leaves));
    if (!leaves)
        rc = EV_ENOMEM;
    for (size_t i = 0; i < nitems && rc == EV_OK; i++) {
        ev_record_item it;
        memset(&it, 0, sizeof(it));
        rc = item(&it, i, false, ctx);
        json_t *o = rc == EV_OK ? item_json(&it) : NULL;
        if (rc == EV_OK)
            rc = o ? add_salt(o, &it, leaves[i]) : EV_ENOMEM;
        if (rc == EV_OK)
            rc = append_nested(b, o, i ? ",\n" : "");
        json_decref(o);
        item(&it, i, true, ctx);
    }
    if (rc == EV_OK) {
        uint8_t root[32];
        char hex[65];
        ev_record__tree_root(root, (const uint8_t (*)[32])leaves, nitems);
        ev_hash__to_hex(hex, root, 32);
        rc = ev_buf__printf(b, "\n  ],\n  \"disclosure\": {\n    \"hash\": \"sha256\",\n"
                                "    \"items\": %zu,\n    \"root\": \"%s\"\n  }\n}\n",
                            nitems, hex);
    }
    free(leaves);
    return rc;
}
