/*
 * bundle (inspect_text): the inspect and custody documents as text lines
 * for a person (ev_bundle_inspect_text(), ev_bundle_custody_text();
 * `evidence inspect BUNDLE`, `evidence custody show`). Reads only keys that
 * the schemas document and decides nothing from them.
 */
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "bundle/inspect.h"

static const char *js(const json_t *o, const char *k)
{
    const char *s = ev__text_str(o, k);
    return s ? s : "-";
}

static long long ji(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* The checksum algorithms a manifest may use, strongest first. */
static const char *const hash_order[] = { "sha512", "sha384", "sha256", "sha224", "sha1", "md5" };

/* A bag without a record (made by another tool): its declaration, its
 * bag-info fields in file order and its items, which are its payload files
 * as the manifests list them. Nothing here was hashed: 'evidence verify'
 * checks them. */
/* The node of list whose id is id, or NULL. */
static const json_t *node(const json_t *sc, const char *list, const char *id)
{
    size_t i;
    const json_t *x;
    if (!id)
        return NULL;
    json_array_foreach(json_object_get(sc, list), i, x) {
        const char *v = json_string_value(json_object_get(x, "id"));
        if (v && !strcmp(v, id))
            return x;
    }
    return NULL;
}

/* "a, b, c" of the string members keys of o that are there. */
static void text_join(ev_text *t, const json_t *o, const char *const *keys, const char *const *labels)
{
    const char *sep = "";
    for (size_t k = 0; keys[k]; k++) {
        const char *v = json_string_value(json_object_get(o, keys[k]));
        if (!v)
            continue;
        ev__text_add(t, "%s%s%s", sep, labels ? labels[k] : "", v);
        sep = ", ";
    }
}

/* The person and place a custody event names, with what the record says
 * of them: "     person person-2: Ali Brown (Staff 5678, Example Police)". */
static void custody_links(ev_text *t, const json_t *entry, const char *indent)
{
    static const char *const keys[2] = { "person", "place" };
    static const char *const head[2] = { "name", "description" };
    static const char *const pk[] = { "identifier", "organisation", NULL };
    static const char *const lk[] = { "address", "postcode", NULL };
    const json_t *ev = json_object_get(entry, "event");
    for (int k = 0; k < 2; k++) {
        const char *id = json_string_value(json_object_get(ev, keys[k]));
        if (!id)
            continue;
        const json_t *n = json_object_get(entry, keys[k]);
        if (!json_is_object(n)) {
            ev__text_add(t, "%s%s %s: not in the record\n", indent, keys[k], id);
            continue;
        }
        const char *h = json_string_value(json_object_get(n, head[k]));
        ev__text_add(t, "%s%s %s: %s", indent, keys[k], id, h ? h : "(no name)");
        const char *const *more = k == 0 ? pk : lk;
        bool any = false;
        for (size_t j = 0; more[j]; j++)
            any = any || json_is_string(json_object_get(n, more[j]));
        if (any) {
            ev__text_add(t, " (");
            text_join(t, n, more, NULL);
            ev__text_add(t, ")");
        }
        ev__text_add(t, "\n");
    }
}

/* The exhibit table: each exhibit of the schedule with its facts. */
static void schedule_text(ev_text *t, const json_t *sc, const json_t *items)
{
    size_t i;
    const json_t *x;
    ev__text_add(t, "\nexhibit table:\n");
    json_array_foreach(json_object_get(sc, "exhibits"), i, x) {
        const char *ref = json_string_value(json_object_get(x, "reference"));
        const char *d = json_string_value(json_object_get(x, "description"));
        ev__text_add(t, "  %s%s%s\n", ref ? ref : "(no reference)", d ? "  " : "", d ? d : "");
        const json_t *ev = node(sc, "events", json_string_value(json_object_get(x, "event")));
        if (ev) {
            const json_t *who = node(sc, "people", json_string_value(json_object_get(ev, "performer")));
            const char *act = json_string_value(json_object_get(ev, "action"));
            const char *role = json_string_value(json_object_get(ev, "performer_role"));
            if (who || act) {
                static const char *const pk[] = { "identifier", "organisation", NULL };
                ev__text_add(t, "      %s", act ? act : "by");
                if (who) {
                    const char *n = json_string_value(json_object_get(who, "name"));
                    ev__text_add(t, "%s%s (", act ? " by " : " ", n ? n : "(no name)");
                    text_join(t, who, pk, NULL);
                    ev__text_add(t, ")");
                }
                if (role)
                    ev__text_add(t, ", %s", role);
                ev__text_add(t, "\n");
            }
            const char *tm = json_string_value(json_object_get(ev, "time"));
            const char *tl = json_string_value(json_object_get(ev, "time_local"));
            if (json_is_true(json_object_get(ev, "time_unknown")))
                ev__text_add(t, "      time not known\n");
            else if (tm)
                ev__text_add(t, "      time %s\n", tm);
            else if (tl)
                ev__text_add(t, "      time %s (zone unknown)\n", tl);
            const char *et = json_string_value(json_object_get(ev, "end_time"));
            const char *etl = json_string_value(json_object_get(ev, "end_time_local"));
            if (et)
                ev__text_add(t, "      until %s\n", et);
            else if (etl)
                ev__text_add(t, "      until %s (zone unknown)\n", etl);
            const json_t *pl = node(sc, "places", json_string_value(json_object_get(ev, "place")));
            if (pl) {
                static const char *const lk[] = { "description", "address", "postcode", NULL };
                ev__text_add(t, "      at ");
                text_join(t, pl, lk, NULL);
                const json_t *la = json_object_get(pl, "latitude"), *lo = json_object_get(pl, "longitude");
                if (json_is_number(la) && json_is_number(lo))
                    ev__text_add(t, " (%.10g, %.10g)", json_number_value(la), json_number_value(lo));
                ev__text_add(t, "\n");
            }
        }
        const json_t *src = json_object_get(x, "source");
        if (json_object_size(src)) {
            static const char *const sk[] = { "make", "model", "serial", "owner", "system", NULL };
            static const char *const sl[] = { "", "", "serial ", "owner ", "system ", NULL };
            ev__text_add(t, "      source ");
            text_join(t, src, sk, sl);
            ev__text_add(t, "\n");
        }
        const json_t *refs = json_object_get(x, "references");
        if (json_object_size(refs)) {
            static const char *const rk[] = { "crime", "urn", "dems_id", NULL };
            static const char *const rl[] = { "crime ", "URN ", "DEMS ", NULL };
            ev__text_add(t, "      references ");
            text_join(t, refs, rk, rl);
            ev__text_add(t, "\n");
        }
        const char *hn = json_string_value(json_object_get(x, "handling_notes"));
        if (hn)
            ev__text_add(t, "      handling %s\n", hn);
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)json_object_get(x, "extra"), key, v)
            ev__text_add(t, "      %s: %s\n", key, json_string_value(v) ? json_string_value(v) : "");
        size_t n = 0, k;
        const json_t *it;
        json_array_foreach(items, k, it) {
            const char *e = json_string_value(json_object_get(it, "exhibit"));
            n += ref && e && !strcmp(e, ref);
        }
        ev__text_add(t, "      %zu item(s)\n", n);
    }
}

static void foreign_bag_text(ev_text *t, const json_t *o, const json_t *items)
{
    const char *ver = ev__text_str(o, "bagit_version"), *enc = ev__text_str(o, "tag_file_encoding");
    const char *bif = ev__text_str(o, "bag_info_file");
    ev__text_add(t, "record:   none (BagIt %s bag made by another tool: no evidence.json)\n",
                 ver ? ver : "?");
    if (enc && strcmp(enc, "UTF-8") != 0)
        ev__text_add(t, "encoding: %s (tag files read as UTF-8 after conversion)\n", enc);
    const json_t *bi = json_object_get(o, "bag_info");
    const char *k;
    json_t *v;
    size_t i;
    json_t *x;
    if (json_object_size(bi)) {
        if (bif)
            ev__text_add(t, "\n%s (the name of bag-info.txt before BagIt 0.96):\n", bif);
        else
            ev__text_add(t, "\nbag-info.txt:\n");
        json_object_foreach((json_t *)bi, k, v) {
            if (json_is_array(v)) {
                json_array_foreach(v, i, x)
                    ev__text_add(t, "  %s: %s\n", k, json_string_value(x) ? json_string_value(x) : "");
            } else {
                ev__text_add(t, "  %s: %s\n", k, json_string_value(v) ? json_string_value(v) : "");
            }
        }
    }
    ev__text_add(t, "\nitems (no record: the payload files as the bag's manifests list them; "
                    "checksums as written there, not recomputed: run 'evidence verify'):\n");
    size_t i2;
    json_array_foreach(json_object_get(o, "unreadable_manifests"), i2, x)
        ev__text_add(t, "  (%s could not be read: its checksums are missing below; run "
                        "'evidence verify')\n", json_string_value(x) ? json_string_value(x) : "?");
    if (json_array_size(items) > 1000)
        ev__text_add(t, "  (content types for the first 1000 only)\n");
    json_array_foreach(items, i, x) {
        const char *mime = ev__text_str(x, "mime");
        if (json_is_true(json_object_get(x, "missing")))
            ev__text_add(t, "  %s  missing (listed in a manifest, not in the bag)\n", js(x, "path"));
        else if (mime)
            ev__text_add(t, "  %s  %lld bytes, %s (%s)\n", js(x, "path"), ji(x, "size"), mime,
                         js(x, "mime_source"));
        else
            ev__text_add(t, "  %s  %lld bytes\n", js(x, "path"), ji(x, "size"));
        const json_t *h = json_object_get(x, "hashes");
        bool any = false;
        for (size_t q = 0; q < sizeof(hash_order) / sizeof(hash_order[0]); q++) {
            const char *hv = ev__text_str(h, hash_order[q]);
            if (hv) {
                ev__text_add(t, "      %s %s\n", hash_order[q], hv);
                any = true;
            }
        }
        json_object_foreach((json_t *)h, k, v) {
            bool known = false;
            for (size_t q = 0; q < sizeof(hash_order) / sizeof(hash_order[0]); q++)
                known = known || !strcmp(k, hash_order[q]);
            if (!known && json_string_value(v)) {
                ev__text_add(t, "      %s %s\n", k, json_string_value(v));
                any = true;
            }
        }
        if (!any)
            ev__text_add(t, "      in no readable payload manifest\n");
    }
}

static char *inspect_text(const json_t *o)
{
    ev_text t = { 0 };
    ev__text_add(&t, "bundle:   %s (%s)\n", js(o, "bundle"), js(o, "container"));
    ev__text_add(&t, "bag:      %s\n", js(o, "bag"));
    const json_t *c = json_object_get(o, "case");
    if (c) {
        ev__text_add(&t, "case:     %s\n", js(c, "reference"));
        ev__text_add(&t, "org:      %s\n", js(c, "organisation"));
    }
    const json_t *e = json_object_get(o, "exported_by");
    if (e)
        ev__text_add(&t, "officer:  %s\n", js(e, "name"));
    /* a bag without a record says nothing of when it was made */
    if (json_object_get(o, "exhibits"))
        ev__text_add(&t, "created:  %s\n", js(o, "created"));
    const json_t *pl = json_object_get(o, "payload");
    ev__text_add(&t, "payload:  %lld file(s), %lld bytes\n", ji(pl, "files"), ji(pl, "bytes"));
    size_t i;
    json_t *x;
    const json_t *ex = json_object_get(o, "exhibits");
    if (json_is_array(ex)) {
        ev__text_add(&t, "exhibits:");
        json_array_foreach(ex, i, x) {
            const char *s = json_string_value(x);
            ev__text_add(&t, " %s", s ? s : "(null)");
        }
        ev__text_add(&t, "\n");
    }
    const json_t *items = json_object_get(o, "items");
    if (json_is_object(json_object_get(o, "schedule")))
        schedule_text(&t, json_object_get(o, "schedule"), items);
    /* without a record the items come from the manifests (and there are
     * no exhibits) */
    bool foreign = json_is_array(items) && !json_is_array(ex);
    if (json_is_array(items) && !foreign) {
        ev__text_add(&t, "\nitems:\n");
        json_array_foreach(items, i, x) {
            ev__text_add(&t, "  %s  %-8s %s\n", js(x, "id"), js(x, "role"), js(x, "path"));
            ev__text_add(&t, "      exhibit %s, %lld bytes, %s\n", js(x, "exhibit"),
                         ji(x, "size"), js(x, "mime"));
            ev__text_add(&t, "      sha256 %s\n", js(json_object_get(x, "hashes"), "sha256"));
        }
    }
    if (foreign)
        foreign_bag_text(&t, o, items);
    const json_t *cu = json_object_get(o, "custody");
    if (json_is_array(cu)) {
        ev__text_add(&t, "\ncustody:\n");
        json_array_foreach(cu, i, x) {
            const json_t *ev = json_object_get(x, "event");
            ev__text_add(&t, "  %lld  %s  %-10s %s (%s)%s\n", ji(x, "line"), js(ev, "time"),
                         js(ev, "action"), js(ev, "actor"), js(ev, "organisation"),
                         json_is_true(json_object_get(x, "link_ok")) ? "" : "  LINK BROKEN");
            custody_links(&t, x, "      ");
        }
    }
    const json_t *sg = json_object_get(o, "signatures");
    if (json_array_size(sg)) {
        ev__text_add(&t, "\nsignatures:\n");
        json_array_foreach(sg, i, x) {
            const char *s = json_string_value(x);
            ev__text_add(&t, "  %s\n", s ? s : "-");
        }
    }
    return ev__text_take(&t);
}

/* A value the event lacks reads "-". */
static const char *jn(const json_t *o, const char *k)
{
    const char *s = ev__text_str(o, k);
    return s ? s : "-";
}

static char *custody_text(const json_t *o, bool ok)
{
    ev_text t = { 0 };
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(o, "events"), i, e) {
        const json_t *x = json_object_get(e, "event");
        const char *prob = ev__text_str(e, "problem");
        if (!json_is_object(x)) /* the line is not a JSON object: no event to show */
            ev__text_add(&t, "%3lld  (no event)  %s\n", ji(e, "line"), prob ? prob : "-");
        else
            ev__text_add(&t, "%3lld  %s  %-10s %s (%s)  %s\n", ji(e, "line"), jn(x, "time"),
                         jn(x, "action"), jn(x, "actor"), jn(x, "organisation"),
                         prob ? prob : "link ok");
        custody_links(&t, e, "     ");
        const char *note = ev__text_str(x, "note");
        if (note)
            ev__text_add(&t, "     note: %s\n", note);
    }
    const char *prob = ev__text_str(o, "problem");
    if (prob)
        ev__text_add(&t, "problem: %s\n", prob);
    ev__text_add(&t, "chain: %s\n", ok ? "intact" : "BROKEN");
    return ev__text_take(&t);
}

int ev_bundle_inspect_text(char **out, ev_bundle *b)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    json_t *o = NULL;
    int rc = ev_bundle__inspect_doc(&o, b);
    if (rc != EV_OK)
        return rc;
    *out = inspect_text(o);
    json_decref(o);
    return *out ? EV_OK : EV_ENOMEM;
}

int ev_bundle_custody_text(char **out, bool *all_ok, ev_bundle *b)
{
    if (all_ok)
        *all_ok = false;
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    json_t *o = NULL;
    bool ok = false;
    int rc = ev_bundle__custody_doc(&o, &ok, b);
    if (rc != EV_OK)
        return rc;
    *out = custody_text(o, ok);
    json_decref(o);
    if (!*out)
        return EV_ENOMEM;
    if (all_ok)
        *all_ok = ok;
    return EV_OK;
}
