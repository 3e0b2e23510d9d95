/*
 * jsonld: case.jsonld, the bundle record as CASE/UCO 1.4 JSON-LD
 * (docs/views.md). Every fact comes from evidence.json and custody.jsonl;
 * the record is untrusted input (see views_common.c).
 */
#include "views/views_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

/* ---- case.jsonld -------------------------------------------------------------- */

typedef struct cctx {
    EVP_MD *sha1;
    EVP_MD_CTX *md;
    unsigned char ns[16];   /* UUIDv5 namespace: the bundle's own UUID */
    ev_buf *out;            /* the document, one graph node per line */
    size_t nodes;           /* nodes written so far */
    ev_strset seen;         /* @ids of the nodes written */
    const char *tool_id;    /* the tool that wrote the record */
    bool schedule;          /* show the exhibit schedule (case.jsonld layout 2) */
    int rc;
} cctx;

/* RFC 9562 UUID version 5 of name in namespace ns (SHA-1) */
static void uuid5(char out[37], EVP_MD *sha1, EVP_MD_CTX *m, const unsigned char ns[16],
                  const char *name, size_t len)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    if (!m || !sha1 || EVP_DigestInit_ex(m, sha1, NULL) != 1 ||
        EVP_DigestUpdate(m, ns, 16) != 1 || EVP_DigestUpdate(m, name, len) != 1 ||
        EVP_DigestFinal_ex(m, d, &dl) != 1 || dl < 16)
        memset(d, 0, sizeof(d));
    d[6] = (unsigned char)((d[6] & 0x0f) | 0x50);
    d[8] = (unsigned char)((d[8] & 0x3f) | 0x80);
    ev__uuid_format(out, d);
}

/* "kb:<slug>-<uuid5(bundle, key)>" where the key is made of length-prefixed
 * parts, "<kind>/<len(a)>:<a><len(b)>:<b>", so that no two part lists give
 * one key. The key is hashed piece by piece. Caller frees. */
/* The 16 bytes of the UUID behind id_of(). */
static void id_uuid(cctx *c, const char *kind, const char *a, const char *b, unsigned char u[16])
{
    a = a ? a : "";
    b = b ? b : "";
    size_t la = strlen(a), lb = strlen(b);
    char na[32], nb[32];
    int nla = snprintf(na, sizeof(na), "/%zu:", la), nlb = snprintf(nb, sizeof(nb), "%zu:", lb);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    EVP_MD_CTX *m = c->md;
    if (!m || !c->sha1 || EVP_DigestInit_ex(m, c->sha1, NULL) != 1 ||
        EVP_DigestUpdate(m, c->ns, 16) != 1 || EVP_DigestUpdate(m, kind, strlen(kind)) != 1 ||
        EVP_DigestUpdate(m, na, (size_t)nla) != 1 || EVP_DigestUpdate(m, a, la) != 1 ||
        EVP_DigestUpdate(m, nb, (size_t)nlb) != 1 || EVP_DigestUpdate(m, b, lb) != 1 ||
        EVP_DigestFinal_ex(m, d, &dl) != 1 || dl < 16)
        memset(d, 0, sizeof(d));
    d[6] = (unsigned char)((d[6] & 0x0f) | 0x50);
    d[8] = (unsigned char)((d[8] & 0x3f) | 0x80);
    memcpy(u, d, 16);
}

static char *id_of(cctx *c, const char *slug, const char *kind, const char *a, const char *b)
{
    unsigned char d[16];
    id_uuid(c, kind, a, b, d);
    size_t ls = strlen(slug);
    char *s = malloc(3 + ls + 1 + 36 + 1);
    if (!s) {
        c->rc = EV_ENOMEM;
        return NULL;
    }
    memcpy(s, "kb:", 3);
    memcpy(s + 3, slug, ls);
    s[3 + ls] = '-';
    ev__uuid_format(s + 4 + ls, d);
    return s;
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

/* Write a node to the graph, on a line of its own, unless one with its @id
 * was already written. Takes the reference. Returns true when written. */
/* Whether node n is new to the graph (its @id not written yet); when not,
 * n is released. */
static bool node_is_new(cctx *c, json_t *n)
{
    const char *id = jstr(n, "@id");
    bool existed = false;
    if (!n || !id || ev_strset__add(&c->seen, id, &existed) != EV_OK) {
        json_decref(n);
        c->rc = EV_ENOMEM;
        return false;
    }
    if (existed)
        json_decref(n);
    return !existed;
}

static bool add_node(cctx *c, json_t *n)
{
    if (!node_is_new(c, n))
        return false;
    if (ev_buf__puts(c->out, c->nodes++ ? ",\n    " : "    ") != EV_OK ||
        ev__json_write(c->out, n, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)) !=
            EV_OK)
        c->rc = EV_ENOMEM;
    json_decref(n);
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

/* A node known by its name (ids from slug, name and qualifier): sets *id
 * (caller frees) and returns the node with its name, or NULL when there is
 * no name. */
static json_t *named_node(cctx *c, const char *slug, const char *type, const char *name,
                          const char *qualifier, char **id)
{
    *id = name ? id_of(c, slug, slug, name, qualifier) : NULL;
    if (!*id)
        return NULL;
    json_t *n = node(*id, type);
    if (!n) {
        c->rc = EV_ENOMEM;
        free(*id);
        *id = NULL;
        return NULL;
    }
    set_str(n, "uco-core:name", name);
    return n;
}

/* A directional relationship of a kind from node src to node dst; its @id
 * from key, a and b. */
static void relation(cctx *c, const char *key, const char *a, const char *b, const char *src,
                     const char *dst, const char *kind)
{
    char *rid = id_of(c, "relationship", key, a, b);
    if (!rid)
        return;
    json_t *r = node(rid, "uco-core:Relationship");
    json_object_set_new(r, "uco-core:source", json_pack("[o]", ref(src)));
    json_object_set_new(r, "uco-core:target", ref(dst));
    json_object_set_new(r, "uco-core:kindOfRelationship", json_string(kind));
    json_object_set_new(r, "uco-core:isDirectional", json_true());
    add_node(c, r);
    free(rid);
}

static const char *org_node(cctx *c, const char *name, char **hold)
{
    *hold = NULL;
    char *id;
    json_t *n = named_node(c, "organization", "uco-identity:Organization", name, NULL, &id);
    if (!n)
        return NULL;
    add_node(c, n);
    *hold = id;
    return id;
}

/* Write Person n (@id id): its identifier as an external reference
 * (@id from xkind) whose context is the organisation, and membership of
 * the organisation (relationship @id from mkey and ma). */
static void person_write(cctx *c, json_t *n, const char *id, const char *org,
                         const char *identifier, const char *xkind, const char *mkey,
                         const char *ma)
{
    if (identifier) {
        char *xid = id_of(c, "external-reference", xkind, id, NULL);
        json_t *x = node(xid, "uco-core:ExternalReference");
        set_str(x, "uco-core:externalIdentifier", identifier);
        set_str(x, "uco-core:definingContext", org);
        json_object_set_new(n, "uco-core:externalReference", json_pack("[o]", x));
        free(xid);
    }
    add_node(c, n);
    char *oid = NULL;
    if (org_node(c, org, &oid))
        relation(c, mkey, ma, org, id, oid, "Member_Of");
    free(oid);
}

/* A person known by name (and organisation); a membership relationship
 * to the organisation. Returns the person's @id (caller frees) or NULL. */
static char *person_node(cctx *c, const char *name, const char *org, const char *identifier)
{
    char *id;
    json_t *n = named_node(c, "person", "uco-identity:Person", name, org, &id);
    if (n)
        person_write(c, n, id, org, identifier, "officer-identifier", "member", name);
    return id;
}

static char *tool_node(cctx *c, const char *name, const char *version, const json_t *libs)
{
    char *id;
    json_t *n = named_node(c, "tool", "uco-tool:Tool", name, version, &id);
    if (!n)
        return NULL;
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

/* The UUID of an item's File node ("kb:file-<uuid>", FILE_ID_LEN chars). */
static void file_uuid(cctx *c, const json_t *item, size_t index, unsigned char u[16])
{
    const char *iid = jstr(item, "id");
    char alt[32];
    if (!iid) {
        snprintf(alt, sizeof(alt), "#%zu", index);
        iid = alt;
    }
    id_uuid(c, "item", iid, NULL, u);
}

#define FILE_ID_LEN (8 + 36)
static void file_id_format(char out[FILE_ID_LEN + 1], const unsigned char u[16])
{
    memcpy(out, "kb:file-", 8);
    ev__uuid_format(out + 8, u);
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
        /* only a date EXIF itself gave (not XMP or a container tag) */
        const char *dsrc = jstr(json_object_get(cap, "sources"), "datetime_original");
        if (!dsrc || strncmp(dsrc, "exif:", 5) == 0)
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

/* A device by make, model and serial: a Device with a DeviceFacet (the
 * manufacturer an Organization). One @id for one make, model and serial,
 * whether a capture or a schedule names it. Returns the @id (caller
 * frees) or NULL. */
static char *device_node(cctx *c, const char *make, const char *model, const char *serial)
{
    char *k1 = ev__asprintf("%zu:%s%zu:%s", make ? strlen(make) : 0, make ? make : "",
                            model ? strlen(model) : 0, model ? model : "");
    char *dev = k1 ? id_of(c, "device", "device", k1, serial) : NULL;
    free(k1);
    if (!dev || ev_strset__has(&c->seen, dev))
        return dev;
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
    return dev;
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
    if (make || model || serial)
        dev = device_node(c, make, model, serial);
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

/* ---- the exhibit schedule (docs/exhibit-schedule.md, "case.jsonld") ---- */

/* The record's list k when it is an array, else NULL. */
static const json_t *jlist(const json_t *rec, const char *k)
{
    const json_t *a = json_object_get(rec, k);
    return json_is_array(a) ? a : NULL;
}

/* The object of list k of the record whose key is v, or NULL. */
static const json_t *find_by(const json_t *rec, const char *list, const char *key, const char *v)
{
    size_t i;
    json_t *o;
    if (!v)
        return NULL;
    json_array_foreach(jlist(rec, list), i, o) {
        const char *s = jstr(o, key);
        if (s && strcmp(s, v) == 0)
            return o;
    }
    return NULL;
}

/* An xsd:dateTime lexical form of an RFC 3339 time from the record, with
 * ":00" seconds added where the time was written without them (11:20Z);
 * NULL when v is not of that form. Caller frees. */
static char *xsd_time(const char *v)
{
    size_t n = v ? strlen(v) : 0;
    /* YYYY-MM-DDTHH:MM then seconds or a zone */
    if (n < 17 || v[4] != '-' || v[7] != '-' || (v[10] != 'T' && v[10] != 't') || v[13] != ':')
        return NULL;
    for (size_t i = 0; i < 16; i++)
        if (i != 4 && i != 7 && i != 10 && i != 13 && (v[i] < '0' || v[i] > '9'))
            return NULL;
    const char *z = v + 16;
    if (*z == ':')
        return ev__strdup(v);
    if (*z != 'Z' && *z != 'z' && *z != '+' && *z != '-')
        return NULL;
    return ev__asprintf("%.16s:00%s", v, z);
}

/* A person of the schedule (record "people"): a Person named as recorded,
 * the identifier as an external reference whose context is the
 * organisation, and membership of the organisation. Returns its @id
 * (caller frees) or NULL. Ids come from the record's own person id, so two
 * people of one name stay two. */
static char *sched_person(cctx *c, const json_t *p)
{
    const char *pid = jstr(p, "id"), *name = jstr(p, "name"), *org = jstr(p, "organisation");
    const char *ident = jstr(p, "identifier");
    char *id = pid ? id_of(c, "person", "schedule-person", pid, NULL) : NULL;
    if (!id)
        return NULL;
    if (ev_strset__has(&c->seen, id))
        return id;
    json_t *n = node(id, "uco-identity:Person");
    set_str(n, "uco-core:name", name);
    person_write(c, n, id, org, ident, "person-identifier", "schedule-member", pid);
    return id;
}

/* A place of the schedule: a Location with its description, its address
 * and postcode (SimpleAddressFacet) and its coordinates as recorded
 * (LatLongCoordinatesFacet). Returns its @id (caller frees) or NULL. */
static char *sched_place(cctx *c, const json_t *p)
{
    const char *lid = jstr(p, "id");
    char *id = lid ? id_of(c, "location", "schedule-place", lid, NULL) : NULL;
    if (!id || ev_strset__has(&c->seen, id))
        return id;
    json_t *n = node(id, "uco-location:Location");
    set_str(n, "uco-core:description", jstr(p, "description"));
    json_t *facets = json_array();
    const char *addr = jstr(p, "address"), *pc = jstr(p, "postcode");
    if (addr || pc) {
        char *fid = id_of(c, "simple-address-facet", "schedule-place", lid, NULL);
        json_t *f = node(fid, "uco-location:SimpleAddressFacet");
        set_str(f, "uco-location:street", addr);
        set_str(f, "uco-location:postalCode", pc);
        json_array_append_new(facets, f);
        free(fid);
    }
    json_t *lat = json_object_get(p, "latitude"), *lon = json_object_get(p, "longitude");
    if (json_is_number(lat) && json_is_number(lon)) {
        char *fid = id_of(c, "lat-long-coordinates-facet", "schedule-place", lid, NULL);
        json_t *f = node(fid, "uco-location:LatLongCoordinatesFacet");
        json_t *d;
        if ((d = decimal(json_number_value(lat))))
            json_object_set_new(f, "uco-location:latitude", d);
        if ((d = decimal(json_number_value(lon))))
            json_object_set_new(f, "uco-location:longitude", d);
        json_array_append_new(facets, f);
        free(fid);
    }
    if (json_array_size(facets))
        json_object_set_new(n, "uco-core:hasFacet", facets);
    else
        json_decref(facets);
    add_node(c, n);
    return id;
}

/* An exhibit's source: the device (make, model, serial; the same @id as a
 * capture device of that make, model and serial), the system it was
 * exported from (a Tool) and the owner (an Identity, Owned_By). Appends
 * the instruments to instr. */
static void sched_source(cctx *c, const json_t *exh, json_t *instr)
{
    const json_t *s = json_object_get(exh, "source");
    const char *make = jstr(s, "make"), *model = jstr(s, "model"), *serial = jstr(s, "serial");
    const char *sys = jstr(s, "system"), *owner = jstr(s, "owner");
    const char *eref = jstr(exh, "reference");
    char *dev = NULL, *tool = NULL;
    if (make || model || serial || (owner && !sys)) {
        if (make || model || serial) {
            dev = device_node(c, make, model, serial);
        } else {
            /* only an owner: the device is not described */
            dev = id_of(c, "device", "schedule-source", eref, NULL);
            if (dev && !ev_strset__has(&c->seen, dev))
                add_node(c, node(dev, "uco-observable:Device"));
        }
    }
    if (sys) {
        tool = id_of(c, "tool", "source-system", sys, NULL);
        if (tool && !ev_strset__has(&c->seen, tool)) {
            json_t *t = node(tool, "uco-tool:Tool");
            set_str(t, "uco-core:name", sys);
            json_object_set_new(t, "uco-tool:toolType", json_string("source system"));
            add_node(c, t);
        }
    }
    if (owner && (dev || tool)) {
        char *iid = id_of(c, "identity", "owner", owner, NULL);
        if (iid && !ev_strset__has(&c->seen, iid)) {
            json_t *o = node(iid, "uco-identity:Identity");
            set_str(o, "uco-core:name", owner);
            add_node(c, o);
        }
        const char *what = dev ? dev : tool;
        if (iid)
            relation(c, "owned-by", what, owner, what, iid, "Owned_By");
        free(iid);
    }
    if (dev)
        json_array_append_new(instr, ref(dev));
    if (tool)
        json_array_append_new(instr, ref(tool));
    free(dev);
    free(tool);
}

/* The role a person had in an event: a Role named as written, and a
 * Has_Role relationship from the person. */
static void sched_role(cctx *c, const char *person, const char *role)
{
    char *rid = id_of(c, "role", "role", role, NULL);
    if (!rid)
        return;
    if (!ev_strset__has(&c->seen, rid)) {
        json_t *r = node(rid, "uco-role:Role");
        set_str(r, "uco-core:name", role);
        add_node(c, r);
    }
    relation(c, "has-role", person, role, person, rid, "Has_Role");
    free(rid);
}

/* Does the record's schedule name any role? (The context then holds the
 * uco-role prefix; a record without a schedule keeps its bytes.) */
static bool sched_has_roles(const json_t *rec)
{
    size_t i;
    json_t *e;
    json_array_foreach(jlist(rec, "events"), i, e)
        if (jstr(e, "performer_role"))
            return true;
    return false;
}

/* Each event of the schedule as an InvestigativeAction: the action as
 * named, its performer (with the role), the place, the start and end
 * times (only a time with its offset; one written without a zone, or not
 * known, is said in the description), the sources of its exhibits as
 * instruments, and their provenance records as results. */
static void sched_events(cctx *c, const json_t *rec, json_t *actions)
{
    size_t i;
    json_t *ev;
    json_array_foreach(jlist(rec, "events"), i, ev) {
        const char *eid = jstr(ev, "id");
        char *aid = eid ? id_of(c, "investigative-action", "schedule-event", eid, NULL) : NULL;
        if (!aid || ev_strset__has(&c->seen, aid)) {
            free(aid);
            continue;
        }
        json_t *a = node(aid, "case-investigation:InvestigativeAction");
        set_str(a, "uco-core:name", jstr(ev, "action"));
        ev_buf desc = { 0 };
        const char *t = jstr(ev, "time"), *te = jstr(ev, "end_time");
        char *xt = xsd_time(t), *xe = xsd_time(te);
        if (xt)
            set_time(a, "uco-action:startTime", xt);
        else if (t)
            ev_buf__printf(&desc, "%stime as written: %s", desc.len ? "\n" : "", t);
        else if (jstr(ev, "time_local"))
            ev_buf__printf(&desc, "%stime as written: %s (zone not stated)", desc.len ? "\n" : "",
                           jstr(ev, "time_local"));
        else if (json_is_true(json_object_get(ev, "time_unknown")))
            ev_buf__printf(&desc, "%stime not known", desc.len ? "\n" : "");
        if (xe)
            set_time(a, "uco-action:endTime", xe);
        else if (te)
            ev_buf__printf(&desc, "%send time as written: %s", desc.len ? "\n" : "", te);
        else if (jstr(ev, "end_time_local"))
            ev_buf__printf(&desc, "%send time as written: %s (zone not stated)",
                           desc.len ? "\n" : "", jstr(ev, "end_time_local"));
        free(xt);
        free(xe);
        const json_t *pp = find_by(rec, "people", "id", jstr(ev, "performer"));
        char *who = pp ? sched_person(c, pp) : NULL;
        if (who) {
            json_object_set_new(a, "uco-action:performer", ref(who));
            if (jstr(ev, "performer_role"))
                sched_role(c, who, jstr(ev, "performer_role"));
        }
        const json_t *pl = find_by(rec, "places", "id", jstr(ev, "place"));
        char *where = pl ? sched_place(c, pl) : NULL;
        if (where)
            json_object_set_new(a, "uco-action:location", json_pack("[o]", ref(where)));
        json_t *instr = json_array(), *res = json_array();
        size_t k;
        json_t *ex;
        json_array_foreach(jlist(rec, "exhibits"), k, ex) {
            const char *er = jstr(ex, "reference"), *ee = jstr(ex, "event");
            if (!er || !ee || strcmp(ee, eid) != 0)
                continue;
            sched_source(c, ex, instr);
            char *pid = id_of(c, "provenance-record", "exhibit", er, NULL);
            if (pid && ev_strset__has(&c->seen, pid))
                json_array_append_new(res, ref(pid));
            free(pid);
            if (jstr(ex, "handling_notes"))
                ev_buf__printf(&desc, "%shandling notes (%s): %s", desc.len ? "\n" : "", er,
                               jstr(ex, "handling_notes"));
        }
        if (json_array_size(instr))
            json_object_set_new(a, "uco-action:instrument", instr);
        else
            json_decref(instr);
        if (json_array_size(res))
            json_object_set_new(a, "uco-action:result", res);
        else
            json_decref(res);
        if (desc.data)
            set_str(a, "uco-core:description", desc.data);
        ev_buf__free(&desc);
        add_node(c, a);
        json_array_append_new(actions, ref(aid));
        free(who);
        free(where);
        free(aid);
    }
}

/* The facts of the schedule on an exhibit's provenance record: its
 * description and the references other systems use for it. */
static void sched_exhibit(cctx *c, json_t *p, const json_t *rec, const char *exh, const char *pid)
{
    const json_t *x = find_by(rec, "exhibits", "reference", exh);
    if (!x)
        return;
    set_str(p, "uco-core:description", jstr(x, "description"));
    static const char *const refs[][2] = {
        { "crime", "crime reference" }, { "urn", "URN" }, { "dems_id", "DEMS" }
    };
    const json_t *r = json_object_get(x, "references");
    json_t *arr = json_array();
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        const char *v = jstr(r, refs[i][0]);
        if (!v)
            continue;
        char *xid = id_of(c, "external-reference", "exhibit-reference", pid, refs[i][0]);
        json_t *e = node(xid, "uco-core:ExternalReference");
        set_str(e, "uco-core:externalIdentifier", v);
        set_str(e, "uco-core:definingContext", refs[i][1]);
        json_array_append_new(arr, e);
        free(xid);
    }
    if (json_array_size(arr))
        json_object_set_new(p, "uco-core:externalReference", arr);
    else
        json_decref(arr);
}

/* What case.jsonld keeps of each item once the item itself is freed. */
typedef struct citem {
    unsigned char fid[16]; /* the UUID of the File's @id (file_id_format()) */
    long ex;       /* index of its exhibit, or -1 */
    long next;     /* next item of the same exhibit, or -1 */
    bool master;
} citem;

static const char CONTEXT[] =
    "  \"@context\": {\n"
    "    \"kb\": \"urn:uuid:%s#\",\n"
    "    \"case-investigation\": \"https://ontology.caseontology.org/case/investigation/\",\n"
    "    \"uco-action\": \"https://ontology.unifiedcyberontology.org/uco/action/\",\n"
    "    \"uco-configuration\": \"https://ontology.unifiedcyberontology.org/uco/configuration/\",\n"
    "    \"uco-core\": \"https://ontology.unifiedcyberontology.org/uco/core/\",\n"
    "    \"uco-identity\": \"https://ontology.unifiedcyberontology.org/uco/identity/\",\n"
    "    \"uco-location\": \"https://ontology.unifiedcyberontology.org/uco/location/\",\n"
    "    \"uco-observable\": \"https://ontology.unifiedcyberontology.org/uco/observable/\",\n"
    "%s"
    "    \"uco-tool\": \"https://ontology.unifiedcyberontology.org/uco/tool/\",\n"
    "    \"uco-types\": \"https://ontology.unifiedcyberontology.org/uco/types/\",\n"
    "    \"xsd\": \"http://www.w3.org/2001/XMLSchema#\"\n"
    "  },\n";

/* Is there an item other than the one with id own whose id is mid? */
/* The lists of every File in a node (the bundle's objects, an exhibit's,
 * the masters a custody event acted on) are not built as JSON: the node
 * holds a mark where its list goes, and the list is written from the
 * items' ids as the node is written. */
#define FL_MARK "\x01"
enum { FL_ALL, FL_EXHIBIT, FL_MASTERS };
typedef struct flist {
    const citem *ci;
    size_t n;
    int kind;
    long first;   /* FL_EXHIBIT: its first item */
} flist;

/* the next item of the list after i (i < 0: the first), or -1 */
static long flist_next(const flist *l, long i)
{
    if (l->kind == FL_EXHIBIT)
        return i < 0 ? l->first : l->ci[i].next;
    for (size_t k = (size_t)(i + 1); k < l->n; k++)
        if (l->kind == FL_ALL || l->ci[k].master)
            return (long)k;
    return -1;
}

static bool flist_any(const flist *l)
{
    return flist_next(l, -1) >= 0;
}

/* add_node for a node whose member key may hold FL_MARK: the node is
 * written with the list in its place. */
static bool add_node_list(cctx *c, json_t *n, const char *key, const flist *l)
{
    if (!l || !n || json_string_value(json_object_get(n, key)) == NULL ||
        strcmp(json_string_value(json_object_get(n, key)), FL_MARK) != 0)
        return add_node(c, n);
    if (!node_is_new(c, n))
        return false;
    ev_buf t = { 0 };
    char *mark = ev__asprintf("\"%s\":\"\\u0001\"", key);
    int rc = mark ? ev__json_write(&t, n, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                                JSON_REAL_PRECISION(15))
                  : EV_ENOMEM;
    json_decref(n);
    /* the mark with its key, outside any string: a quote in a string is
     * always escaped, so "key":"\u0001" can only be the member itself */
    const char *at = rc == EV_OK ? strstr(t.data, mark) : NULL;
    if (rc == EV_OK && !at)
        rc = EV_ERROR;
    if (rc == EV_OK)
        rc = ev_buf__puts(c->out, c->nodes++ ? ",\n    " : "    ");
    if (rc == EV_OK)
        rc = ev_buf__append(c->out, t.data, (size_t)(at - t.data) + strlen(key) + 3);
    if (rc == EV_OK)
        rc = ev_buf__append(c->out, "[", 1);
    for (long i = flist_next(l, -1), k = 0; rc == EV_OK && i >= 0; i = flist_next(l, i), k++) {
        char fid[FILE_ID_LEN + 1];
        file_id_format(fid, l->ci[i].fid);
        rc = ev_buf__printf(c->out, "%s{\"@id\":\"%s\"}", k ? "," : "", fid);
    }
    if (rc == EV_OK)
        rc = ev_buf__append(c->out, "]", 1);
    if (rc == EV_OK)
        rc = ev_buf__puts(c->out, at + strlen(mark));
    ev_buf__free(&t);
    free(mark);
    if (rc != EV_OK)
        c->rc = rc == EV_ERROR ? EV_ERROR : EV_ENOMEM;
    return rc == EV_OK;
}

static bool master_known(const ev_strset *ids, const ev_strset *dups, const char *mid,
                         const char *own)
{
    return own && strcmp(own, mid) == 0 ? ev_strset__has(dups, mid) : ev_strset__has(ids, mid);
}

/* The graph is written node by node, item by item: what later nodes need
 * of an item (its File id, exhibit, role) is kept aside. */
static int build_case(cctx *c, const ev_views__rec *r, const json_t *events)
{
    const json_t *rec = r->root;
    const char *bid = jstr(rec, "bundle_id");
    char buuid[37];
    if (!ev__uuid_parse(c->ns, bid)) {
        /* not a urn:uuid: still stable: a UUIDv5 of the text in the nil namespace */
        unsigned char nil[16] = { 0 };
        const char *t = bid ? bid : "";
        uuid5(buuid, c->sha1, c->md, nil, t, strlen(t));
        unsigned char tmp[16];
        char urn[48];
        snprintf(urn, sizeof(urn), "urn:uuid:%s", buuid);
        if (ev__uuid_parse(tmp, urn))
            memcpy(c->ns, tmp, 16);
    }
    ev__uuid_format(buuid, c->ns);
    if (ev_buf__puts(c->out, "{\n") != EV_OK || ev_buf__printf(c->out, CONTEXT, buuid,
                       c->schedule && sched_has_roles(rec) ? "    \"uco-role\": "
                                              "\"https://ontology.unifiedcyberontology.org/uco/role/\",\n"
                                            : "") != EV_OK ||
        ev_buf__puts(c->out, "  \"@graph\": [\n") != EV_OK)
        return EV_ENOMEM;

    const json_t *cs = json_object_get(rec, "case");
    const json_t *ex = json_object_get(rec, "exported_by");
    const json_t *tool = json_object_get(rec, "tool");
    const json_t *sys = json_object_get(rec, "source_system");

    char *tool_id = tool_node(c, jstr(tool, "name"), jstr(tool, "version"),
                              json_object_get(tool, "libraries"));
    c->tool_id = tool_id;
    char *sys_id = NULL;
    if (jstr(sys, "name")) {
        sys_id = id_of(c, "tool", "source-system", jstr(sys, "name"), jstr(sys, "version"));
        json_t *n = node(sys_id, "uco-tool:Tool");
        set_str(n, "uco-core:name", jstr(sys, "name"));
        json_object_set_new(n, "uco-tool:toolType", json_string("source system"));
        set_str(n, "uco-tool:version", jstr(sys, "version"));
        add_node(c, n);
    }
    char *exporter = person_node(c, jstr(ex, "name"), jstr(ex, "organisation"),
                                 jstr(ex, "identifier"));

    /* files, in record order, each with its capture facts (masters only: a
     * copy's are the master's, carried over) and, once its master is
     * known, its derivation */
    citem *ci = NULL;
    size_t n = 0, cap = 0;
    ev_strset ids = { 0 }, dups = { 0 };
    json_t *exhibits = json_object();   /* exhibit -> index, in order of first appearance */
    long *ex_first = NULL, *ex_last = NULL;
    size_t nex = 0, capex = 0;
    size_t *deferred = NULL, ndef = 0, capdef = 0;  /* copies before their master: which */
    json_t *actions = json_array();
    int rc = exhibits && actions ? EV_OK : EV_ENOMEM;
    for (; rc == EV_OK && c->rc == EV_OK && n < r->nitems; n++) {
        const json_t *it = ev_views__item(r, n);
        citem *grown = ev__grow(ci, &cap, n, sizeof(*ci), 64);
        if (!grown) {
            rc = EV_ENOMEM;
            break;
        }
        ci = grown;
        citem *e = &ci[n];
        memset(e, 0, sizeof(*e));
        e->ex = e->next = -1;
        file_uuid(c, it, n, e->fid);
        char fid[FILE_ID_LEN + 1];
        file_id_format(fid, e->fid);
        e->master = !json_object_get(it, "derived_from");
        const char *own = jstr(it, "id");
        if (own) {
            bool had = false;
            if (ev_strset__add(&ids, own, &had) != EV_OK || (had && ev_strset__add(&dups, own, NULL)))
                rc = EV_ENOMEM;
        }
        {
            file_node(c, it, fid);
            if (e->master)
                capture_nodes(c, it, fid);
            const char *exh = jstr(it, "exhibit");
            if (exh) {
                json_t *k = json_object_get(exhibits, exh);
                if (!k) {
                    long *f = ev__grow(ex_first, &capex, nex, sizeof(*f), 16);
                    long *l = f ? ev__reallocarray(ex_last, capex, sizeof(*l)) : NULL;
                    if (f)
                        ex_first = f;
                    if (!f || !l ||
                        json_object_set_new(exhibits, exh, json_integer((json_int_t)nex))) {
                        rc = EV_ENOMEM;
                    } else {
                        ex_last = l;
                        ex_first[nex] = ex_last[nex] = (long)n;
                        e->ex = (long)nex++;
                    }
                } else {
                    e->ex = (long)json_integer_value(k);
                    ci[ex_last[e->ex]].next = (long)n;
                    ex_last[e->ex] = (long)n;
                }
            }
            const char *mid = jstr(json_object_get(it, "derived_from"), "item");
            if (mid && master_known(&ids, &dups, mid, own)) {
                char *mfid = id_of(c, "file", "item", mid, NULL);
                if (mfid)
                    derivation_nodes(c, it, fid, mfid, actions);
                free(mfid);
            } else if (mid) {
                size_t *d = ev__grow(deferred, &capdef, ndef, sizeof(*d), 16);
                if (!d) {
                    rc = EV_ENOMEM;
                } else {
                    deferred = d;
                    deferred[ndef++] = n;
                }
            }
        }
    }
    /* copies listed before their master */
    for (size_t k = 0; k < ndef && rc == EV_OK && c->rc == EV_OK; k++) {
        const json_t *d = ev_views__item(r, deferred[k]);
        const char *mid = jstr(json_object_get(d, "derived_from"), "item");
        char fid[FILE_ID_LEN + 1];
        file_id_format(fid, ci[deferred[k]].fid);
        if (mid && master_known(&ids, &dups, mid, jstr(d, "id"))) {
            char *mfid = id_of(c, "file", "item", mid, NULL);
            if (mfid)
                derivation_nodes(c, d, fid, mfid, actions);
            free(mfid);
        }
    }
    free(deferred);
    ev_strset__free(&ids);
    ev_strset__free(&dups);

    char *bundle_id = NULL;
    json_t *prov = json_array();
    if (rc != EV_OK || c->rc != EV_OK || !prov)
        goto done;

    /* the bundle */
    bundle_id = ev__asprintf("kb:bundle-%s", buuid);
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
    flist all = { ci, n, FL_ALL, -1 };
    if (flist_any(&all))
        json_object_set_new(b, "uco-core:object", json_string(FL_MARK));
    add_node_list(c, b, "uco-core:object", &all);

    /* one provenance record per exhibit, in order of first appearance */
    {
        const char *exh;
        json_t *v;
        json_object_foreach(exhibits, exh, v) {
            size_t e = (size_t)json_integer_value(v);
            char *pid = id_of(c, "provenance-record", "exhibit", exh, NULL);
            if (pid && !ev_strset__has(&c->seen, pid)) {
                json_t *p = node(pid, "case-investigation:ProvenanceRecord");
                json_object_set_new(p, "case-investigation:exhibitNumber", json_string(exh));
                if (c->schedule)
                    sched_exhibit(c, p, rec, exh, pid);
                flist exl = { ci, n, FL_EXHIBIT, ex_first[e] };
                json_object_set_new(p, "uco-core:object",
                                    flist_any(&exl) ? json_string(FL_MARK) : json_array());
                add_node_list(c, p, "uco-core:object", &exl);
                json_array_append_new(prov, ref(pid));
            }
            free(pid);
        }
    }

    /* the exhibit schedule's events, with their people and places */
    if (c->schedule)
        sched_events(c, rec, actions);

    /* custody events */
    size_t ei;
    json_t *e;
    json_array_foreach(events, ei, e) {
        json_t *seq = json_object_get(e, "seq");
        char sn[32];
        snprintf(sn, sizeof(sn), "%lld", json_is_integer(seq) ? (long long)json_integer_value(seq)
                                                              : (long long)ei + 1);
        char *aid = id_of(c, "investigative-action", "custody", sn, NULL);
        json_t *a = node(aid, "case-investigation:InvestigativeAction");
        const char *act = jstr(e, "action");
        set_str(a, "uco-core:name", act);
        set_str(a, "uco-core:description", jstr(e, "note"));
        set_time(a, "uco-action:startTime", jstr(e, "time"));
        /* a custody event that names a person or place of the schedule */
        const json_t *pp = c->schedule ? find_by(rec, "people", "id", jstr(e, "person")) : NULL;
        const json_t *pl = c->schedule ? find_by(rec, "places", "id", jstr(e, "place")) : NULL;
        char *who = pp ? sched_person(c, pp)
                       : person_node(c, jstr(e, "actor"), jstr(e, "organisation"), NULL);
        if (who)
            json_object_set_new(a, "uco-action:performer", ref(who));
        char *where = pl ? sched_place(c, pl) : NULL;
        if (where)
            json_object_set_new(a, "uco-action:location", json_pack("[o]", ref(where)));
        free(where);
        char *tid = tool_node(c, jstr(e, "tool"), jstr(e, "tool_version"), NULL);
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
        flist masters = { ci, n, FL_MASTERS, -1 };
        if (created) {
            if (flist_any(&masters))
                json_object_set_new(a, "uco-action:object", json_string(FL_MARK));
            json_t *res = json_pack("[o]", ref(bundle_id));
            json_array_extend(res, prov);
            json_object_set_new(a, "uco-action:result", res);
        } else {
            json_object_set_new(a, "uco-action:object", json_pack("[o]", ref(bundle_id)));
        }
        add_node_list(c, a, "uco-action:object", created ? &masters : NULL);
        json_array_append_new(actions, ref(aid));
        free(aid);
        free(who);
        free(tid);
    }

    /* the investigation: the case, holding everything above */
    {
        char *iid = id_of(c, "investigation", "investigation", NULL, NULL);
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
        add_node(c, inv);
        char *oid = NULL;
        if (org_node(c, jstr(cs, "organisation"), &oid))
            relation(c, "case-organisation", oid, NULL, iid, oid, "Conducted_By");
        free(oid);
        free(iid);
    }
    if (ev_buf__puts(c->out, c->nodes ? "\n  ]\n}\n" : "  ]\n}\n") != EV_OK)
        c->rc = EV_ENOMEM;

done:
    free(ci);
    free(ex_first);
    free(ex_last);
    json_decref(exhibits);
    json_decref(actions);
    json_decref(prov);
    free(bundle_id);
    free(tool_id);
    free(sys_id);
    free(exporter);
    return rc != EV_OK ? rc : c->rc;
}

/* case.jsonld of r in a layout, appended to out */
int ev_views__case_render(ev_buf *out, const ev_views__rec *r, const char *custody,
                          size_t custody_len, int layout, ev_errbuf *err)
{
    json_t *events = NULL;
    cctx c;
    memset(&c, 0, sizeof(c));
    c.out = out;
    c.schedule = layout >= 2;
    int rc = ev_views__load_events(&events, custody, custody_len);
    if (rc == EV_OK) {
        c.sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
        c.md = EVP_MD_CTX_new();
        rc = c.sha1 && c.md ? build_case(&c, r, events) : EV_ENOMEM;
    }
    EVP_MD_free(c.sha1);
    EVP_MD_CTX_free(c.md);
    ev_strset__free(&c.seen);
    json_decref(events);
    if (ev_views__rec_status(r) != EV_OK)
        return ev_views__rec_error(r, err);
    if (rc == EV_OK && out->flush_rc)
        rc = out->flush_rc;
    if (rc == EV_ENOMEM)
        ev_err__set(err, rc, "out of memory while writing %s", EV_VIEW_CASE);
    else if (rc == EV_EIO)
        ev_err__set(err, rc, "cannot write %s to a temporary file", EV_VIEW_CASE);
    return rc;
}




