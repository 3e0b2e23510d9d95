/*
 * views: case.jsonld and index.html, two views of the bundle record.
 *
 * Every fact in them comes from evidence.json and custody.jsonl; nothing is
 * looked up anywhere else, so a view can always be rebuilt from the record
 * and compared byte for byte. The record is treated as untrusted input: any
 * field may be missing or of the wrong type, and every string may be
 * hostile (markup, quotes, control characters).
 */
#include "views.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "record.h"

bool ev_views__is_view(const char *path)
{
    return path && (strcmp(path, EV_VIEW_CASE) == 0 || strcmp(path, EV_VIEW_INDEX) == 0);
}

/* ---- reading the record ----------------------------------------------------- */

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* {value: [index, ...]} of it[field] (or it[field][sub]) over the items, so
 * that lookups stay linear in the number of items; jansson keeps keys in
 * insertion order. NULL only when out of memory. */
static json_t *group_by(const json_t *items, const char *field, const char *sub)
{
    json_t *g = json_object();
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        const json_t *v = json_object_get(it, field);
        const char *k = sub ? jstr(v, sub) : json_string_value(v);
        if (!k || !g)
            continue;
        json_t *a = json_object_get(g, k);
        if (!a) {
            a = json_array();
            if (json_object_set_new(g, k, a) != 0)
                continue;
        }
        json_array_append_new(a, json_integer((json_int_t)i));
    }
    return g;
}

static int load(json_t **rec, json_t **events, const char *record, size_t record_len,
                const char *custody, size_t custody_len, ev_errbuf *err)
{
    *rec = NULL;
    *events = NULL;
    json_error_t je;
    json_t *r = json_loadb(record, record_len, 0, &je);
    if (!r || !json_is_object(r)) {
        json_decref(r);
        return ev_err__set(err, EV_EFORMAT, "evidence.json is not a JSON object (line %d: %s)",
                           je.line, je.text);
    }
    /* the custody log's own parser: one entry per line, "event" holds the
     * object (or null for a line that is not JSON) */
    json_t *all = NULL;
    size_t n = 0, bad = 0;
    char last[65];
    ev_custody__check(custody ? custody : "", custody ? custody_len : 0, NULL, &n, last, NULL,
                      &all, &bad);
    json_t *ev = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(all, i, e) {
        json_t *o = json_object_get(e, "event");
        if (json_is_object(o))
            json_array_append(ev, o);
    }
    json_decref(all);
    if (!ev) {
        json_decref(r);
        return EV_ENOMEM;
    }
    *rec = r;
    *events = ev;
    return EV_OK;
}

/* ---- case.jsonld -------------------------------------------------------------- */

typedef struct cctx {
    EVP_MD *sha1;
    unsigned char ns[16];   /* UUIDv5 namespace: the bundle's own UUID */
    json_t *graph;          /* the @graph array */
    json_t *seen;           /* @id -> true */
    json_t *rec;
    const char *tool_id;    /* the tool that wrote the record */
    int rc;
} cctx;

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* "urn:uuid:xxxxxxxx-xxxx-..." -> 16 bytes; false when it is not one */
static bool parse_uuid(unsigned char out[16], const char *s)
{
    if (!s || strncmp(s, "urn:uuid:", 9) != 0 || strlen(s) != 45)
        return false;
    s += 9;
    int k = 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
            continue;
        }
        int a = hexval(s[i]), b = hexval(s[i + 1]);
        if (a < 0 || b < 0)
            return false;
        out[k++] = (unsigned char)(a << 4 | b);
        i++;
    }
    return k == 16;
}

static void uuid_text(char out[37], const unsigned char u[16])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
}

/* RFC 9562 UUID version 5 of name in namespace ns (SHA-1) */
static void uuid5(char out[37], EVP_MD *sha1, const unsigned char ns[16], const char *name,
                  size_t len)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    if (!m || !sha1 || EVP_DigestInit_ex(m, sha1, NULL) != 1 ||
        EVP_DigestUpdate(m, ns, 16) != 1 || EVP_DigestUpdate(m, name, len) != 1 ||
        EVP_DigestFinal_ex(m, d, &dl) != 1 || dl < 16)
        memset(d, 0, sizeof(d));
    EVP_MD_CTX_free(m);
    d[6] = (unsigned char)((d[6] & 0x0f) | 0x50);
    d[8] = (unsigned char)((d[8] & 0x3f) | 0x80);
    uuid_text(out, d);
}

/* "kb:<slug>-<uuid5(bundle, key)>"; key is "<kind>/<name>". Caller frees. */
static char *node_id(cctx *c, const char *slug, const char *key)
{
    char u[37];
    uuid5(u, c->sha1, c->ns, key, strlen(key));
    char *s = ev__asprintf("kb:%s-%s", slug, u);
    if (!s)
        c->rc = EV_ENOMEM;
    return s;
}

/* key from length-prefixed parts, so that no two part lists give one key */
static char *key_of(cctx *c, const char *kind, const char *a, const char *b)
{
    a = a ? a : "";
    b = b ? b : "";
    char *k = ev__asprintf("%s/%zu:%s%zu:%s", kind, strlen(a), a, strlen(b), b);
    if (!k)
        c->rc = EV_ENOMEM;
    return k;
}

static char *id_of(cctx *c, const char *slug, const char *kind, const char *a, const char *b)
{
    char *k = key_of(c, kind, a, b);
    char *id = k ? node_id(c, slug, k) : NULL;
    free(k);
    return id;
}

static json_t *ref(const char *id)
{
    return json_pack("{s:s}", "@id", id ? id : "");
}

static json_t *typed(const char *type, const char *value)
{
    return json_pack("{s:s, s:s}", "@type", type, "@value", value);
}

static json_t *node(const char *id, const char *type)
{
    return json_pack("{s:s, s:s}", "@id", id ? id : "", "@type", type);
}

/* Append a node to the graph unless one with its @id is already there.
 * Takes the reference. Returns true when it was added. */
static bool add_node(cctx *c, json_t *n)
{
    const char *id = jstr(n, "@id");
    if (!n || !id) {
        json_decref(n);
        c->rc = EV_ENOMEM;
        return false;
    }
    if (json_object_get(c->seen, id)) {
        json_decref(n);
        return false;
    }
    json_object_set_new(c->seen, id, json_true());
    json_array_append_new(c->graph, n);
    return true;
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

/* xsd:dateTime literal of an RFC 3339 string from the record */
static void set_time(json_t *o, const char *k, const char *v)
{
    if (v && *v)
        json_object_set_new(o, k, typed("xsd:dateTime", v));
}

/* xsd:decimal lexical form (no exponent), trailing zeros trimmed */
static json_t *decimal(double v)
{
    char b[64];
    if (!isfinite(v))
        return NULL;
    snprintf(b, sizeof(b), "%.10f", v);
    char *dot = strchr(b, '.');
    if (dot) {
        char *e = b + strlen(b) - 1;
        while (e > dot + 1 && *e == '0')
            *e-- = '\0';
    }
    if (strcmp(b, "-0.0") == 0)
        snprintf(b, sizeof(b), "0.0");
    return typed("xsd:decimal", b);
}

static const char *org_node(cctx *c, const char *name, char **hold)
{
    *hold = NULL;
    if (!name)
        return NULL;
    char *id = id_of(c, "organization", "organization", name, NULL);
    if (!id)
        return NULL;
    json_t *n = node(id, "uco-identity:Organization");
    set_str(n, "uco-core:name", name);
    add_node(c, n);
    *hold = id;
    return id;
}

/* A person known by name (and organisation); a membership relationship
 * to the organisation. Returns the person's @id (caller frees) or NULL. */
static char *person_node(cctx *c, const char *name, const char *org)
{
    if (!name)
        return NULL;
    char *id = id_of(c, "person", "person", name, org);
    if (!id)
        return NULL;
    json_t *n = node(id, "uco-identity:Person");
    set_str(n, "uco-core:name", name);
    add_node(c, n);
    char *oid = NULL;
    if (org_node(c, org, &oid)) {
        char *rid = id_of(c, "relationship", "member", name, org);
        if (rid) {
            json_t *r = node(rid, "uco-core:Relationship");
            json_object_set_new(r, "uco-core:source", json_pack("[o]", ref(id)));
            json_object_set_new(r, "uco-core:target", ref(oid));
            json_object_set_new(r, "uco-core:kindOfRelationship", json_string("Member_Of"));
            json_object_set_new(r, "uco-core:isDirectional", json_true());
            add_node(c, r);
        }
        free(rid);
    }
    free(oid);
    return id;
}

static char *tool_node(cctx *c, const char *name, const char *version, const json_t *libs)
{
    if (!name)
        return NULL;
    char *id = id_of(c, "tool", "tool", name, version);
    if (!id)
        return NULL;
    json_t *n = node(id, "uco-tool:Tool");
    set_str(n, "uco-core:name", name);
    set_str(n, "uco-tool:version", version);
    if (json_is_object(libs) && json_object_size(libs)) {
        json_t *arr = json_array();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)libs, k, v) {
            if (!json_is_string(v))
                continue;
            char *lid = id_of(c, "library", "library", name, k);
            json_t *l = node(lid, "uco-tool:LibraryType");
            json_object_set_new(l, "uco-tool:libraryName", json_string(k));
            json_object_set_new(l, "uco-tool:libraryVersion", json_incref(v));
            json_array_append_new(arr, l);
            free(lid);
        }
        char *bid = id_of(c, "build-information", "build-information", name, version);
        char *fid = id_of(c, "build-facet", "build-facet", name, version);
        json_t *bi = node(bid, "uco-tool:BuildInformationType");
        json_object_set_new(bi, "uco-tool:libraries", arr);
        json_t *f = node(fid, "uco-tool:BuildFacet");
        json_object_set_new(f, "uco-tool:buildInformation", bi);
        json_object_set_new(n, "uco-core:hasFacet", json_pack("[o]", f));
        free(bid);
        free(fid);
    }
    add_node(c, n);
    return id;
}

static char *file_id(cctx *c, const json_t *item, size_t index)
{
    const char *iid = jstr(item, "id");
    char alt[32];
    if (!iid) {
        snprintf(alt, sizeof(alt), "#%zu", index);
        iid = alt;
    }
    return id_of(c, "file", "item", iid, NULL);
}

static const json_t *first_stream(const json_t *media, const char *type)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(media, "streams"), i, s) {
        const char *t = jstr(s, "type");
        if (t && strcmp(t, type) == 0)
            return s;
    }
    return NULL;
}

static void dict_entry(cctx *c, json_t *entries, const char *fid, const char *k, const char *v)
{
    if (!v)
        return;
    char *eid = id_of(c, "controlled-dictionary-entry", "exif-entry", fid, k);
    json_t *e = node(eid, "uco-types:ControlledDictionaryEntry");
    json_object_set_new(e, "uco-types:key", json_string(k));
    json_object_set_new(e, "uco-types:value", json_string(v));
    json_array_append_new(entries, e);
    free(eid);
}

/* The File node of one item, with its facets. */
static void file_node(cctx *c, const json_t *it, const char *fid)
{
    json_t *n = node(fid, "uco-observable:File");
    json_t *facets = json_array();
    const char *name = jstr(it, "original_name");
    json_t *size = json_object_get(it, "size");

    char *ffid = id_of(c, "file-facet", "file-facet", fid, NULL);
    json_t *ff = node(ffid, "uco-observable:FileFacet");
    set_str(ff, "uco-observable:fileName", name);
    set_str(ff, "uco-observable:filePath", jstr(it, "path"));
    const char *dot = name ? strrchr(name, '.') : NULL;
    if (dot && dot != name && dot[1])
        set_str(ff, "uco-observable:extension", dot + 1);
    if (json_is_integer(size))
        json_object_set(ff, "uco-observable:sizeInBytes", size);
    set_time(ff, "uco-observable:modifiedTime", jstr(json_object_get(it, "times"), "modified"));
    json_array_append_new(facets, ff);
    free(ffid);

    char *cdid = id_of(c, "content-data-facet", "content-data-facet", fid, NULL);
    json_t *cd = node(cdid, "uco-observable:ContentDataFacet");
    set_str(cd, "uco-observable:mimeType", jstr(it, "mime"));
    if (json_is_integer(size))
        json_object_set(cd, "uco-observable:sizeInBytes", size);
    json_t *hashes = json_array();
    static const char *const algs[][2] = { { "sha256", "SHA256" }, { "sha512", "SHA512" } };
    for (size_t a = 0; a < 2; a++) {
        const char *hv = jstr(json_object_get(it, "hashes"), algs[a][0]);
        if (!hv)
            continue;
        char *hid = id_of(c, "hash", "hash", fid, algs[a][0]);
        json_t *h = node(hid, "uco-types:Hash");
        json_object_set_new(h, "uco-types:hashMethod", json_string(algs[a][1]));
        json_object_set_new(h, "uco-types:hashValue", typed("xsd:hexBinary", hv));
        json_array_append_new(hashes, h);
        free(hid);
    }
    if (json_array_size(hashes))
        json_object_set_new(cd, "uco-observable:hash", hashes);
    else
        json_decref(hashes);
    json_array_append_new(facets, cd);
    free(cdid);

    const json_t *media = json_object_get(it, "media");
    const char *kind = jstr(media, "kind");
    const json_t *vs = first_stream(media, "video");
    if (kind && strcmp(kind, "image") == 0 && vs && json_is_integer(json_object_get(vs, "width")) &&
        json_is_integer(json_object_get(vs, "height"))) {
        char *rid = id_of(c, "raster-picture-facet", "raster-picture-facet", fid, NULL);
        json_t *rp = node(rid, "uco-observable:RasterPictureFacet");
        json_object_set(rp, "uco-observable:pictureWidth", json_object_get(vs, "width"));
        json_object_set(rp, "uco-observable:pictureHeight", json_object_get(vs, "height"));
        json_array_append_new(facets, rp);
        free(rid);
    }

    const json_t *cap = json_object_get(it, "capture");
    const char *src = jstr(cap, "source");
    if (src && strcmp(src, "exif") == 0) {
        json_t *entries = json_array();
        dict_entry(c, entries, fid, "Make", jstr(cap, "make"));
        dict_entry(c, entries, fid, "Model", jstr(cap, "model"));
        dict_entry(c, entries, fid, "DateTimeOriginal", jstr(cap, "datetime_original_local"));
        json_t *o = json_object_get(cap, "orientation");
        if (json_is_integer(o)) {
            char ob[32];
            snprintf(ob, sizeof(ob), "%lld", (long long)json_integer_value(o));
            dict_entry(c, entries, fid, "Orientation", ob);
        }
        if (json_array_size(entries)) {
            char *eid = id_of(c, "exif-facet", "exif-facet", fid, NULL);
            char *did = id_of(c, "controlled-dictionary", "exif-dictionary", fid, NULL);
            json_t *d = node(did, "uco-types:ControlledDictionary");
            json_object_set_new(d, "uco-types:entry", entries);
            json_t *ef = node(eid, "uco-observable:EXIFFacet");
            json_object_set_new(ef, "uco-observable:exifData", d);
            json_array_append_new(facets, ef);
            free(eid);
            free(did);
        } else {
            json_decref(entries);
        }
    }
    json_object_set_new(n, "uco-core:hasFacet", facets);
    add_node(c, n);
}

/* Capture facts: an action "captured" with the capture time, the place
 * (a Location with a LatLongCoordinatesFacet) and the device. */
static void capture_nodes(cctx *c, const json_t *it, const char *fid)
{
    const json_t *cap = json_object_get(it, "capture");
    if (!json_is_object(cap))
        return;
    const char *when = jstr(cap, "datetime_original");
    if (!when)
        when = jstr(cap, "datetime_original_local");
    const json_t *gps = json_object_get(cap, "gps");
    json_t *lat = json_object_get(gps, "latitude"), *lon = json_object_get(gps, "longitude");
    json_t *alt = json_object_get(gps, "altitude");
    const char *make = jstr(cap, "make"), *model = jstr(cap, "model");
    const char *serial = jstr(cap, "serial");
    char *loc = NULL, *dev = NULL;
    if (json_is_number(lat) && json_is_number(lon)) {
        loc = id_of(c, "location", "location", fid, NULL);
        char *fa = id_of(c, "lat-long-coordinates-facet", "lat-long", fid, NULL);
        json_t *f = node(fa, "uco-location:LatLongCoordinatesFacet");
        json_t *d;
        if ((d = decimal(json_number_value(lat))))
            json_object_set_new(f, "uco-location:latitude", d);
        if ((d = decimal(json_number_value(lon))))
            json_object_set_new(f, "uco-location:longitude", d);
        if (json_is_number(alt) && (d = decimal(json_number_value(alt))))
            json_object_set_new(f, "uco-location:altitude", d);
        json_t *l = node(loc, "uco-location:Location");
        json_object_set_new(l, "uco-core:hasFacet", json_pack("[o]", f));
        add_node(c, l);
        free(fa);
    }
    if (make || model || serial) {
        char *k1 = ev__asprintf("%zu:%s%zu:%s", make ? strlen(make) : 0, make ? make : "",
                                model ? strlen(model) : 0, model ? model : "");
        dev = k1 ? id_of(c, "device", "device", k1, serial) : NULL;
        free(k1);
        if (dev) {
            char *fa = id_of(c, "device-facet", "device-facet", dev, NULL);
            json_t *f = node(fa, "uco-observable:DeviceFacet");
            char *mid = NULL;
            if (org_node(c, make, &mid))
                json_object_set_new(f, "uco-observable:manufacturer", ref(mid));
            free(mid);
            set_str(f, "uco-observable:model", model);
            set_str(f, "uco-observable:serialNumber", serial);
            json_t *d = node(dev, "uco-observable:Device");
            json_object_set_new(d, "uco-core:hasFacet", json_pack("[o]", f));
            add_node(c, d);
            free(fa);
        }
    }
    if (when || loc || dev) {
        char *aid = id_of(c, "action", "capture", fid, NULL);
        json_t *a = node(aid, "uco-action:Action");
        json_object_set_new(a, "uco-core:name", json_string("captured"));
        set_time(a, "uco-action:startTime", when);
        if (loc)
            json_object_set_new(a, "uco-action:location", ref(loc));
        if (dev)
            json_object_set_new(a, "uco-action:instrument", json_pack("[o]", ref(dev)));
        json_object_set_new(a, "uco-action:result", json_pack("[o]", ref(fid)));
        add_node(c, a);
        free(aid);
    }
    free(loc);
    free(dev);
}

/* A derivative: an action with the master as object, the copy as result,
 * and the evidence tool configured by the profile as instrument. */
static void derivation_nodes(cctx *c, const json_t *it, const char *fid, const char *master_fid,
                             json_t *actions)
{
    const json_t *d = json_object_get(it, "derived_from");
    const char *profile = jstr(d, "profile");
    char *ctid = id_of(c, "configured-tool", "configured-tool", fid, NULL);
    char *cfid = id_of(c, "configuration", "configuration", fid, NULL);
    json_t *entries = json_array();
    int k = 0;
    /* one entry per fact: profile, profile_sha256, level, then each setting */
    const char *keys[] = { "profile", "profile_sha256", "level" };
    for (size_t i = 0; i < 3; i++) {
        const char *v = jstr(d, keys[i]);
        if (!v)
            continue;
        char num[24];
        snprintf(num, sizeof(num), "%d", k++);
        char *eid = id_of(c, "configuration-entry", "configuration-entry", fid, num);
        json_t *e = node(eid, "uco-configuration:ConfigurationEntry");
        json_object_set_new(e, "uco-configuration:itemName", json_string(keys[i]));
        json_object_set_new(e, "uco-configuration:itemValue", json_string(v));
        json_array_append_new(entries, e);
        free(eid);
    }
    const char *sk;
    json_t *sv;
    json_object_foreach(json_object_get(d, "settings"), sk, sv) {
        char *val = json_is_string(sv) ? ev__strdup(json_string_value(sv))
                                       : json_dumps(sv, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                                            JSON_ENCODE_ANY);
        char num[24];
        snprintf(num, sizeof(num), "%d", k++);
        char *eid = id_of(c, "configuration-entry", "configuration-entry", fid, num);
        json_t *e = node(eid, "uco-configuration:ConfigurationEntry");
        char *iname = ev__asprintf("settings.%s", sk);
        set_str(e, "uco-configuration:itemName", iname);
        set_str(e, "uco-configuration:itemValue", val);
        json_array_append_new(entries, e);
        free(iname);
        free(eid);
        free(val);
    }
    json_t *cfg = node(cfid, "uco-configuration:Configuration");
    json_object_set_new(cfg, "uco-configuration:configurationEntry", entries);
    add_node(c, cfg);
    json_t *ct = node(ctid, "uco-tool:ConfiguredTool");
    set_str(ct, "uco-core:name", profile);
    json_object_set_new(ct, "uco-tool:toolType", json_string("evidence profile"));
    json_object_set_new(ct, "uco-configuration:usesConfiguration", ref(cfid));
    add_node(c, ct);

    char *aid = id_of(c, "investigative-action", "derivation", fid, NULL);
    json_t *a = node(aid, "case-investigation:InvestigativeAction");
    set_str(a, "uco-core:name", jstr(d, "action") ? jstr(d, "action") : "transcoded");
    const char *level = jstr(d, "level"), *verdict = jstr(d, "verdict");
    if (verdict) {
        char *desc = ev__asprintf("verification %s: %s", level ? level : "(no level)", verdict);
        set_str(a, "uco-core:description", desc);
        free(desc);
    }
    json_t *instr = json_array();
    if (c->tool_id)
        json_array_append_new(instr, ref(c->tool_id));
    json_array_append_new(instr, ref(ctid));
    json_object_set_new(a, "uco-action:instrument", instr);
    json_object_set_new(a, "uco-action:object", json_pack("[o]", ref(master_fid)));
    json_object_set_new(a, "uco-action:result", json_pack("[o]", ref(fid)));
    add_node(c, a);
    json_array_append_new(actions, ref(aid));
    free(aid);
    free(ctid);
    free(cfid);
}

static int build_case(json_t **out, const json_t *rec, const json_t *events)
{
    cctx c;
    memset(&c, 0, sizeof(c));
    c.rec = (json_t *)rec;
    c.sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    c.graph = json_array();
    c.seen = json_object();
    json_t *doc = NULL;
    const char *bid = jstr(rec, "bundle_id");
    char buuid[37];
    if (!parse_uuid(c.ns, bid)) {
        /* not a urn:uuid: still stable: a UUIDv5 of the text in the nil namespace */
        unsigned char nil[16] = { 0 };
        const char *t = bid ? bid : "";
        uuid5(buuid, c.sha1, nil, t, strlen(t));
        unsigned char tmp[16];
        char urn[48];
        snprintf(urn, sizeof(urn), "urn:uuid:%s", buuid);
        if (parse_uuid(tmp, urn))
            memcpy(c.ns, tmp, 16);
    }
    uuid_text(buuid, c.ns);
    if (!c.sha1 || !c.graph || !c.seen) {
        c.rc = EV_ENOMEM;
        goto done;
    }
    const json_t *items = json_object_get(rec, "items");
    const json_t *cs = json_object_get(rec, "case");
    const json_t *ex = json_object_get(rec, "exported_by");
    const json_t *tool = json_object_get(rec, "tool");
    const json_t *sys = json_object_get(rec, "source_system");

    char *tool_id = tool_node(&c, jstr(tool, "name"), jstr(tool, "version"),
                              json_object_get(tool, "libraries"));
    c.tool_id = tool_id;
    char *sys_id = NULL;
    if (jstr(sys, "name")) {
        sys_id = id_of(&c, "tool", "source-system", jstr(sys, "name"), jstr(sys, "version"));
        json_t *n = node(sys_id, "uco-tool:Tool");
        set_str(n, "uco-core:name", jstr(sys, "name"));
        json_object_set_new(n, "uco-tool:toolType", json_string("source system"));
        set_str(n, "uco-tool:version", jstr(sys, "version"));
        add_node(&c, n);
    }
    char *exporter = person_node(&c, jstr(ex, "name"), jstr(ex, "organisation"));
    if (exporter && jstr(ex, "identifier")) {
        /* the officer's identifier, as an external reference on the person */
        json_t *p = NULL;
        size_t gi;
        json_t *g;
        json_array_foreach(c.graph, gi, g) {
            if (!strcmp(jstr(g, "@id"), exporter))
                p = g;
        }
        char *xid = id_of(&c, "external-reference", "officer-identifier", exporter, NULL);
        json_t *x = node(xid, "uco-core:ExternalReference");
        set_str(x, "uco-core:externalIdentifier", jstr(ex, "identifier"));
        set_str(x, "uco-core:definingContext", jstr(ex, "organisation"));
        if (p)
            json_object_set_new(p, "uco-core:externalReference", json_pack("[o]", x));
        else
            json_decref(x);
        free(xid);
    }

    /* files, in record order */
    size_t n = json_array_size(items);
    char **fids = calloc(n ? n : 1, sizeof(*fids));
    json_t *files = json_array(), *masters = json_array(), *actions = json_array();
    if (!fids) {
        c.rc = EV_ENOMEM;
        free(tool_id);
        free(sys_id);
        free(exporter);
        json_decref(files);
        json_decref(masters);
        json_decref(actions);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(items, i);
        fids[i] = file_id(&c, it, i);
        if (!fids[i])
            continue;
        file_node(&c, it, fids[i]);
        json_array_append_new(files, ref(fids[i]));
        if (!json_object_get(it, "derived_from"))
            json_array_append_new(masters, ref(fids[i]));
    }
    /* capture facts of masters only: a copy's are the master's, carried over */
    for (size_t i = 0; i < n; i++)
        if (fids[i] && !json_object_get(json_array_get(items, i), "derived_from"))
            capture_nodes(&c, json_array_get(items, i), fids[i]);
    json_t *by_id = group_by(items, "id", NULL);
    json_t *by_exhibit = group_by(items, "exhibit", NULL);
    if (!by_id || !by_exhibit)
        c.rc = EV_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(items, i);
        const char *mid = jstr(json_object_get(it, "derived_from"), "item");
        if (!fids[i] || !mid)
            continue;
        size_t k;
        json_t *jv;
        json_array_foreach(json_object_get(by_id, mid), k, jv) {
            size_t j = (size_t)json_integer_value(jv);
            if (j != i && fids[j]) {
                derivation_nodes(&c, it, fids[i], fids[j], actions);
                break;
            }
        }
    }

    /* the bundle */
    char *bundle_id = ev__asprintf("kb:bundle-%s", buuid);
    json_t *b = node(bundle_id, "uco-core:Bundle");
    set_str(b, "uco-core:name", bid);
    if (jstr(rec, "format")) {
        char *d = json_is_integer(json_object_get(rec, "format_version"))
                      ? ev__asprintf("%s, format version %lld", jstr(rec, "format"),
                                     (long long)json_integer_value(
                                         json_object_get(rec, "format_version")))
                      : ev__strdup(jstr(rec, "format"));
        set_str(b, "uco-core:description", d);
        free(d);
    }
    set_time(b, "uco-core:objectCreatedTime", jstr(rec, "created"));
    if (exporter)
        json_object_set_new(b, "uco-core:createdBy", ref(exporter));
    if (json_array_size(files))
        json_object_set(b, "uco-core:object", files);
    add_node(&c, b);

    /* one provenance record per exhibit, in order of first appearance */
    json_t *prov = json_array();
    for (size_t i = 0; i < n; i++) {
        const char *exh = jstr(json_array_get(items, i), "exhibit");
        if (!exh || !fids[i])
            continue;
        char *pid = id_of(&c, "provenance-record", "exhibit", exh, NULL);
        if (pid && !json_object_get(c.seen, pid)) {
            json_t *p = node(pid, "case-investigation:ProvenanceRecord");
            json_object_set_new(p, "case-investigation:exhibitNumber", json_string(exh));
            json_t *objs = json_array();
            size_t k;
            json_t *jv;
            json_array_foreach(json_object_get(by_exhibit, exh), k, jv) {
                size_t j = (size_t)json_integer_value(jv);
                if (fids[j])
                    json_array_append_new(objs, ref(fids[j]));
            }
            json_object_set_new(p, "uco-core:object", objs);
            add_node(&c, p);
            json_array_append_new(prov, ref(pid));
        }
        free(pid);
    }

    /* custody events */
    size_t ei;
    json_t *e;
    json_array_foreach(events, ei, e) {
        json_t *seq = json_object_get(e, "seq");
        char sn[32];
        snprintf(sn, sizeof(sn), "%lld", json_is_integer(seq) ? (long long)json_integer_value(seq)
                                                              : (long long)ei + 1);
        char *aid = id_of(&c, "investigative-action", "custody", sn, NULL);
        json_t *a = node(aid, "case-investigation:InvestigativeAction");
        const char *act = jstr(e, "action");
        set_str(a, "uco-core:name", act);
        set_str(a, "uco-core:description", jstr(e, "note"));
        set_time(a, "uco-action:startTime", jstr(e, "time"));
        char *who = person_node(&c, jstr(e, "actor"), jstr(e, "organisation"));
        if (who)
            json_object_set_new(a, "uco-action:performer", ref(who));
        char *tid = tool_node(&c, jstr(e, "tool"), jstr(e, "tool_version"), NULL);
        bool created = act && strcmp(act, "created") == 0 && ei == 0;
        json_t *instr = json_array();
        if (tid)
            json_array_append_new(instr, ref(tid));
        if (created && sys_id)
            json_array_append_new(instr, ref(sys_id));
        if (json_array_size(instr))
            json_object_set_new(a, "uco-action:instrument", instr);
        else
            json_decref(instr);
        if (created) {
            if (json_array_size(masters))
                json_object_set(a, "uco-action:object", masters);
            json_t *res = json_pack("[o]", ref(bundle_id));
            json_array_extend(res, prov);
            json_object_set_new(a, "uco-action:result", res);
        } else {
            json_object_set_new(a, "uco-action:object", json_pack("[o]", ref(bundle_id)));
        }
        add_node(&c, a);
        json_array_append_new(actions, ref(aid));
        free(aid);
        free(who);
        free(tid);
    }

    /* the investigation: the case, holding everything above */
    {
        char *iid = id_of(&c, "investigation", "investigation", NULL, NULL);
        json_t *inv = node(iid, "case-investigation:Investigation");
        set_str(inv, "uco-core:name", jstr(cs, "reference"));
        set_str(inv, "uco-core:description", jstr(cs, "description"));
        json_object_set_new(inv, "case-investigation:investigationForm", json_string("case"));
        if (jstr(cs, "operation")) {
            char *t = ev__asprintf("operation: %s", jstr(cs, "operation"));
            if (t)
                json_object_set_new(inv, "uco-core:tag", json_pack("[s]", t));
            free(t);
        }
        json_t *objs = json_pack("[o]", ref(bundle_id));
        json_array_extend(objs, prov);
        json_array_extend(objs, actions);
        json_object_set_new(inv, "uco-core:object", objs);
        add_node(&c, inv);
        char *oid = NULL;
        if (org_node(&c, jstr(cs, "organisation"), &oid)) {
            char *rid = id_of(&c, "relationship", "case-organisation", oid, NULL);
            json_t *r = node(rid, "uco-core:Relationship");
            json_object_set_new(r, "uco-core:source", json_pack("[o]", ref(iid)));
            json_object_set_new(r, "uco-core:target", ref(oid));
            json_object_set_new(r, "uco-core:kindOfRelationship", json_string("Conducted_By"));
            json_object_set_new(r, "uco-core:isDirectional", json_true());
            add_node(&c, r);
            free(rid);
        }
        free(oid);
        free(iid);
    }

    for (size_t i = 0; i < n; i++)
        free(fids[i]);
    free(fids);
    json_decref(by_id);
    json_decref(by_exhibit);
    json_decref(files);
    json_decref(masters);
    json_decref(actions);
    json_decref(prov);
    free(bundle_id);
    free(tool_id);
    free(sys_id);
    free(exporter);

    char *kb = ev__asprintf("urn:uuid:%s#", buuid);
    doc = json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:O}",
                    "@context",
                    "kb", kb ? kb : "",
                    "case-investigation", "https://ontology.caseontology.org/case/investigation/",
                    "uco-action", "https://ontology.unifiedcyberontology.org/uco/action/",
                    "uco-configuration", "https://ontology.unifiedcyberontology.org/uco/configuration/",
                    "uco-core", "https://ontology.unifiedcyberontology.org/uco/core/",
                    "uco-identity", "https://ontology.unifiedcyberontology.org/uco/identity/",
                    "uco-location", "https://ontology.unifiedcyberontology.org/uco/location/",
                    "uco-observable", "https://ontology.unifiedcyberontology.org/uco/observable/",
                    "uco-tool", "https://ontology.unifiedcyberontology.org/uco/tool/",
                    "uco-types", "https://ontology.unifiedcyberontology.org/uco/types/",
                    "xsd", "http://www.w3.org/2001/XMLSchema#",
                    "@graph", c.graph);
    free(kb);
    if (!doc || !kb)
        c.rc = EV_ENOMEM;
done:
    EVP_MD_free(c.sha1);
    json_decref(c.graph);
    json_decref(c.seen);
    if (c.rc) {
        json_decref(doc);
        doc = NULL;
    }
    *out = doc;
    return c.rc ? c.rc : (doc ? EV_OK : EV_ENOMEM);
}

int ev_views__case_jsonld(char **out, size_t *len, const char *record, size_t record_len,
                          const char *custody, size_t custody_len, ev_errbuf *err)
{
    *out = NULL;
    *len = 0;
    json_t *rec = NULL, *events = NULL, *doc = NULL;
    int rc = load(&rec, &events, record, record_len, custody, custody_len, err);
    if (rc == EV_OK)
        rc = build_case(&doc, rec, events);
    if (rc == EV_OK && !(*out = ev_record__dump(doc, len)))
        rc = EV_ENOMEM;
    json_decref(doc);
    json_decref(rec);
    json_decref(events);
    if (rc == EV_ENOMEM)
        ev_err__set(err, rc, "out of memory while writing %s", EV_VIEW_CASE);
    return rc;
}

/* ---- index.html ---------------------------------------------------------------- */

/* An output buffer that remembers a failed allocation, so that one check at
 * the end covers every append. */
typedef struct hbuf {
    ev_buf b;
    bool fail;
} hbuf;

static void happ(hbuf *h, const void *d, size_t n)
{
    if (!h->fail && ev_buf__append(&h->b, d, n) != EV_OK)
        h->fail = true;
}

static void hput(hbuf *h, const char *s)
{
    happ(h, s, strlen(s));
}

static void hprintf(hbuf *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hprintf(hbuf *h, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) {
        h->fail = true;
    } else if ((size_t)n < sizeof(tmp)) {
        happ(h, tmp, (size_t)n);
    } else {
        char *big = malloc((size_t)n + 1);
        if (!big) {
            h->fail = true;
            return;
        }
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        happ(h, big, (size_t)n);
        free(big);
    }
}

/* HTML text or attribute value: & < > " ' escaped; NULL -> nothing */
static void esc(hbuf *b, const char *s)
{
    if (!s)
        return;
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': hput(b, "&amp;"); break;
        case '<': hput(b, "&lt;"); break;
        case '>': hput(b, "&gt;"); break;
        case '"': hput(b, "&quot;"); break;
        case '\'': hput(b, "&#39;"); break;
        default: happ(b, p, 1); break;
        }
    }
}

static void esc_or(hbuf *b, const char *s, const char *dflt)
{
    if (s)
        esc(b, s);
    else
        hput(b, dflt);
}

/* A relative link into the bag: only a plain relative path under data/
 * with no "." or ".." segment gets one; every byte outside
 * A-Z a-z 0-9 - . _ ~ / is percent-encoded (so ':' '?' '#' '%' never act). */
static bool link_ok(const char *p)
{
    if (!p || strncmp(p, "data/", 5) != 0)
        return false;
    const char *s = p;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        s += n;
        if (*s == '/')
            s++;
    }
    return p[strlen(p) - 1] != '/';
}

static void href(hbuf *b, const char *p)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *s = (const unsigned char *)p; *s; s++) {
        unsigned char ch = *s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '/') {
            happ(b, s, 1);
        } else {
            char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };
            happ(b, e, 3);
        }
    }
}

static void row(hbuf *b, const char *k, const char *v)
{
    if (!v)
        return;
    hput(b, "<tr><th>");
    esc(b, k);
    hput(b, "</th><td>");
    esc(b, v);
    hput(b, "</td></tr>\n");
}

static void num_text(hbuf *t, const json_t *v, const char *unit)
{
    if (json_is_integer(v))
        hprintf(t, "%lld%s", (long long)json_integer_value(v), unit);
    else if (json_is_real(v) && isfinite(json_real_value(v)))
        hprintf(t, "%.3g%s", json_real_value(v), unit);
}

/* One-line media summary: kind, codecs, dimensions, rate, duration, capture. */
static char *media_summary(const json_t *it)
{
    hbuf t = { { 0 }, false };
    const json_t *m = json_object_get(it, "media");
    if (jstr(m, "error")) {
        hprintf(&t, "not analysed: %s", jstr(m, "error"));
    } else if (json_is_object(m)) {
        hput(&t, jstr(m, "kind") ? jstr(m, "kind") : "media");
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(m, "streams"), i, s) {
            const char *ty = jstr(s, "type");
            if (!ty || (strcmp(ty, "video") && strcmp(ty, "audio")))
                continue;
            hprintf(&t, "; %s", jstr(s, "codec") ? jstr(s, "codec") : ty);
            if (!strcmp(ty, "video") && json_is_integer(json_object_get(s, "width")) &&
                json_is_integer(json_object_get(s, "height")))
                hprintf(&t, " %lldx%lld",
                               (long long)json_integer_value(json_object_get(s, "width")),
                               (long long)json_integer_value(json_object_get(s, "height")));
            if (!strcmp(ty, "video") && jstr(s, "avg_frame_rate") &&
                strcmp(jstr(m, "kind") ? jstr(m, "kind") : "", "image"))
                hprintf(&t, " %s fps", jstr(s, "avg_frame_rate"));
            if (!strcmp(ty, "audio")) {
                if (json_is_integer(json_object_get(s, "sample_rate"))) {
                    hput(&t, " ");
                    num_text(&t, json_object_get(s, "sample_rate"), " Hz");
                }
                if (json_is_integer(json_object_get(s, "channels"))) {
                    hput(&t, " ");
                    num_text(&t, json_object_get(s, "channels"), " ch");
                }
            }
        }
        if (json_is_number(json_object_get(m, "duration"))) {
            hput(&t, "; ");
            num_text(&t, json_object_get(m, "duration"), " s");
        }
    }
    const json_t *c = json_object_get(it, "capture");
    if (json_is_object(c)) {
        const char *when = jstr(c, "datetime_original");
        if (!when)
            when = jstr(c, "datetime_original_local");
        if (when)
            hprintf(&t, "%scaptured %s", t.b.len ? "; " : "", when);
        if (jstr(c, "make") || jstr(c, "model"))
            hprintf(&t, "%s%s%s%s", t.b.len ? "; " : "", jstr(c, "make") ? jstr(c, "make") : "",
                           jstr(c, "make") && jstr(c, "model") ? " " : "",
                           jstr(c, "model") ? jstr(c, "model") : "");
        const json_t *g = json_object_get(c, "gps");
        json_t *la = json_object_get(g, "latitude"), *lo = json_object_get(g, "longitude");
        if (json_is_number(la) && json_is_number(lo) && isfinite(json_number_value(la)) &&
            isfinite(json_number_value(lo)))
            hprintf(&t, "%sGPS %.6f, %.6f", t.b.len ? "; " : "", json_number_value(la),
                           json_number_value(lo));
    }
    if (t.fail) {
        ev_buf__free(&t.b);
        return NULL;
    }
    return t.b.data ? t.b.data : ev__strdup("");
}

static void item_row(hbuf *b, const json_t *it, bool derived)
{
    const char *path = jstr(it, "path");
    hprintf(b, "<tr%s id=\"", derived ? " class=\"derived\"" : "");
    esc(b, jstr(it, "id"));
    hput(b, "\"><td>");
    esc(b, jstr(it, "exhibit"));
    hput(b, "</td><td class=\"path\">");
    if (derived)
        hput(b, "<span class=\"arrow\">&#8627;</span> ");
    if (link_ok(path)) {
        hput(b, "<a href=\"");
        href(b, path);
        hput(b, "\">");
        esc(b, path);
        hput(b, "</a>");
    } else {
        esc(b, path);
    }
    if (jstr(it, "name_changed")) {
        hput(b, "<br><small>name changed: ");
        esc(b, jstr(it, "name_changed"));
        hput(b, "</small>");
    }
    if (derived) {
        const json_t *d = json_object_get(it, "derived_from");
        hput(b, "<br><small>working copy of ");
        esc_or(b, jstr(d, "item"), "?");
        hput(b, " by profile <b>");
        esc_or(b, jstr(d, "profile"), "?");
        hput(b, "</b> (");
        esc_or(b, jstr(d, "action"), "?");
        hput(b, "); verification ");
        esc_or(b, jstr(d, "level"), "?");
        hput(b, ": <b>");
        esc_or(b, jstr(d, "verdict"), "none");
        hput(b, "</b></small>");
    }
    hput(b, "</td><td>");
    esc(b, jstr(it, "original_name"));
    hput(b, "</td><td class=\"num\">");
    if (json_is_integer(json_object_get(it, "size")))
        hprintf(b, "%lld", (long long)json_integer_value(json_object_get(it, "size")));
    hput(b, "</td><td>");
    esc(b, jstr(it, "mime"));
    hput(b, "</td><td>");
    char *ms = media_summary(it);
    if (!ms)
        b->fail = true;
    esc(b, ms);
    free(ms);
    hput(b, "</td><td class=\"hash\"><code>");
    esc(b, jstr(json_object_get(it, "hashes"), "sha256"));
    hput(b, "</code></td></tr>\n");
}

static const char STYLE[] =
    "body{font:14px/1.4 sans-serif;margin:1.5em;color:#111;background:#fff}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}"
    "th{background:#eee}table.facts th{width:14em}"
    "td.num{text-align:right;white-space:nowrap}"
    "td.hash code{font-size:.85em;word-break:break-all}"
    "td.path{word-break:break-all}"
    "tr.derived td{background:#f6f9ff}"
    "small{color:#444}p.note{color:#444;font-size:.9em}";

static int build_html(hbuf *b, const json_t *rec, const json_t *events)
{
    const json_t *cs = json_object_get(rec, "case");
    const json_t *ex = json_object_get(rec, "exported_by");
    const json_t *tool = json_object_get(rec, "tool");
    const json_t *items = json_object_get(rec, "items");
    hput(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                    "style-src 'unsafe-inline'\">\n"
                    "<meta name=\"referrer\" content=\"no-referrer\">\n<title>Evidence bundle ");
    esc(b, jstr(cs, "reference") ? jstr(cs, "reference") : jstr(rec, "bundle_id"));
    hprintf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>Evidence bundle ", STYLE);
    esc(b, jstr(cs, "reference") ? jstr(cs, "reference") : jstr(rec, "bundle_id"));
    hput(b, "</h1>\n<p class=\"note\">A view of <a href=\"evidence.json\">evidence.json</a> "
                    "and <a href=\"custody.jsonl\">custody.jsonl</a>, which are the record. "
                    "Check the bundle with <code>evidence verify</code>, or with "
                    "<code>sha256sum -c manifest-sha256.txt</code> in this folder.</p>\n");

    hput(b, "<h2>Case and bundle</h2>\n<table class=\"facts\">\n");
    row(b, "Case reference", jstr(cs, "reference"));
    row(b, "Operation", jstr(cs, "operation"));
    row(b, "Description", jstr(cs, "description"));
    row(b, "Organisation", jstr(cs, "organisation"));
    row(b, "Exported by", jstr(ex, "name"));
    row(b, "Officer identifier", jstr(ex, "identifier"));
    row(b, "Officer organisation", jstr(ex, "organisation"));
    row(b, "Source system", jstr(json_object_get(rec, "source_system"), "name"));
    row(b, "Bundle id", jstr(rec, "bundle_id"));
    row(b, "Created", jstr(rec, "created"));
    if (jstr(tool, "name")) {
        char *t = ev__asprintf("%s %s", jstr(tool, "name"),
                               jstr(tool, "version") ? jstr(tool, "version") : "");
        row(b, "Packed with", t);
        free(t);
    }
    char cnt[32];
    snprintf(cnt, sizeof(cnt), "%zu", json_array_size(items));
    row(b, "Items", cnt);
    hput(b, "</table>\n");

    hput(b, "<h2>Items</h2>\n<table class=\"items\">\n<tr><th>Exhibit</th><th>Path in "
                    "the bundle</th><th>Original name</th><th>Size (bytes)</th><th>MIME type</th>"
                    "<th>Media</th><th>SHA-256</th></tr>\n");
    size_t n = json_array_size(items);
    bool *shown = calloc(n ? n : 1, sizeof(*shown));
    json_t *kids = group_by(items, "derived_from", "item");
    if (!shown || !kids) {
        free(shown);
        json_decref(kids);
        return EV_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(items, i);
        if (json_object_get(it, "derived_from"))
            continue;
        item_row(b, it, false);
        shown[i] = true;
        const char *id = jstr(it, "id");
        size_t k;
        json_t *jv;
        json_array_foreach(id ? json_object_get(kids, id) : NULL, k, jv) {
            size_t j = (size_t)json_integer_value(jv);
            if (!shown[j]) {
                item_row(b, json_array_get(items, j), true);
                shown[j] = true;
            }
        }
    }
    /* copies whose master is not in the record */
    for (size_t i = 0; i < n; i++)
        if (!shown[i])
            item_row(b, json_array_get(items, i), true);
    free(shown);
    json_decref(kids);
    hput(b, "</table>\n");

    hput(b, "<h2>Custody</h2>\n<table class=\"custody\">\n<tr><th>#</th><th>Time (UTC)"
                    "</th><th>Action</th><th>Actor</th><th>Organisation</th><th>Tool</th>"
                    "<th>Note</th></tr>\n");
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e) {
        hput(b, "<tr><td class=\"num\">");
        if (json_is_integer(json_object_get(e, "seq")))
            hprintf(b, "%lld", (long long)json_integer_value(json_object_get(e, "seq")));
        hput(b, "</td><td>");
        esc(b, jstr(e, "time"));
        hput(b, "</td><td>");
        esc(b, jstr(e, "action"));
        hput(b, "</td><td>");
        esc(b, jstr(e, "actor"));
        hput(b, "</td><td>");
        esc(b, jstr(e, "organisation"));
        hput(b, "</td><td>");
        esc(b, jstr(e, "tool"));
        if (jstr(e, "tool_version")) {
            hput(b, " ");
            esc(b, jstr(e, "tool_version"));
        }
        hput(b, "</td><td>");
        esc(b, jstr(e, "note"));
        hput(b, "</td></tr>\n");
    }
    hput(b, "</table>\n</body>\n</html>\n");
    return EV_OK;
}

int ev_views__index_html(char **out, size_t *len, const char *record, size_t record_len,
                         const char *custody, size_t custody_len, ev_errbuf *err)
{
    *out = NULL;
    *len = 0;
    json_t *rec = NULL, *events = NULL;
    hbuf b = { { 0 }, false };
    int rc = load(&rec, &events, record, record_len, custody, custody_len, err);
    if (rc == EV_OK)
        rc = build_html(&b, rec, events);
    if (rc == EV_OK && (b.fail || !b.b.data))
        rc = EV_ENOMEM;
    json_decref(rec);
    json_decref(events);
    if (rc != EV_OK) {
        ev_buf__free(&b.b);
        if (rc == EV_ENOMEM)
            ev_err__set(err, rc, "out of memory while writing %s", EV_VIEW_INDEX);
        return rc;
    }
    *out = b.b.data;
    *len = b.b.len;
    return EV_OK;
}
