/*
 * views: case.jsonld and index.html, two views of the bundle record.
 *
 * Every fact in them comes from evidence.json and custody.jsonl; nothing is
 * looked up anywhere else, so a view can always be rebuilt from the record
 * and compared byte for byte. The record is treated as untrusted input: any
 * field may be missing or of the wrong type, and every string may be
 * hostile (markup, quotes, control characters).
 */
#include "views/views.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "record/record.h"

bool ev_views__is_view(const char *path)
{
    return path && (strcmp(path, EV_VIEW_CASE) == 0 || strcmp(path, EV_VIEW_INDEX) == 0);
}

/* ---- reading the record ----------------------------------------------------- */

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The record is read in pieces, so that a view never holds the whole
 * record as a tree: the top-level members other than "items" are parsed
 * into one small object (the head), and the items are parsed one at a time
 * as they are rendered, each freed before the next. The bytes are checked
 * as strictly as json_loadb() would check the whole document. */
typedef struct rec_src {
    const char *buf;
    size_t len;
    json_t *head;        /* every top-level member except an items array */
    size_t items_at;     /* offset of the '[' of the (last) items array, or 0 */
    size_t items_end;    /* offset just after its ']' */
    size_t nitems;       /* its elements, counted while skipping it */
} rec_src;

static size_t skip_ws(const char *b, size_t len, size_t i)
{
    while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
        i++;
    return i;
}

/* Skip one array without building it, counting its elements; *end is just
 * after the ']'. Only the structure is followed here: the elements
 * themselves are checked by json_loadb() when they are read. */
static bool skip_array(const char *b, size_t len, size_t i, size_t *end, size_t *count)
{
    size_t depth = 0, n = 0;
    bool any = false;
    for (; i < len; i++) {
        char ch = b[i];
        if (ch == '"') {
            /* to the closing quote: one not preceded by an odd number of
             * backslashes */
            for (;;) {
                const char *q = i + 1 < len ? memchr(b + i + 1, '"', len - i - 1) : NULL;
                if (!q)
                    return false;
                i = (size_t)(q - b);
                size_t bs = 0;
                while (b[i - 1 - bs] == '\\')
                    bs++;
                if (bs % 2 == 0)
                    break;
            }
            if (depth == 1)
                any = true;
        } else if (ch == '[' || ch == '{') {
            if (depth == 1)
                any = true;
            depth++;
        } else if (ch == ']' || ch == '}') {
            if (depth == 0)
                return false;
            if (--depth == 0) {
                *end = i + 1;
                *count = any ? n + 1 : 0;
                return true;
            }
        } else if (ch == ',' && depth == 1) {
            n++;
        } else if (depth == 1 && ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
            any = true;
        }
    }
    return false;
}

/* one JSON value at *pos (any type); *pos moves past it */
static json_t *value_at(const char *b, size_t len, size_t *pos, json_error_t *je)
{
    json_t *v = json_loadb(b + *pos, len - *pos, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, je);
    if (v)
        *pos += (size_t)je->position;
    return v;
}

static int rec_fail(ev_errbuf *err, const json_error_t *je, const char *what)
{
    if (je)
        return ev_err__set(err, EV_EFORMAT, "evidence.json is not a JSON object (line %d: %s)",
                           je->line, je->text);
    return ev_err__set(err, EV_EFORMAT, "evidence.json is not a JSON object (%s)", what);
}

static void rec_free(rec_src *r)
{
    json_decref(r->head);
    memset(r, 0, sizeof(*r));
}

/* The head of the record: the top-level object without its items. */
static int rec_open(rec_src *r, const char *buf, size_t len, ev_errbuf *err)
{
    memset(r, 0, sizeof(*r));
    r->buf = buf;
    r->len = len;
    json_error_t je;
    size_t i = skip_ws(buf, len, 0);
    if (i >= len || buf[i] != '{')
        return rec_fail(err, NULL, "it does not start with '{'");
    if (!(r->head = json_object()))
        return EV_ENOMEM;
    i = skip_ws(buf, len, i + 1);
    if (i < len && buf[i] == '}') {
        i++;
    } else {
        for (;;) {
            if (i >= len || buf[i] != '"')
                goto bad;
            json_t *k = value_at(buf, len, &i, &je);
            if (!k)
                goto bad_je;
            i = skip_ws(buf, len, i);
            if (i >= len || buf[i] != ':') {
                json_decref(k);
                goto bad;
            }
            i = skip_ws(buf, len, i + 1);
            const char *key = json_string_value(k);
            if (strcmp(key, "items") == 0 && i < len && buf[i] == '[') {
                size_t end = 0, n = 0;
                if (!skip_array(buf, len, i, &end, &n)) {
                    json_decref(k);
                    goto bad;
                }
                json_object_del(r->head, "items");
                r->items_at = i;
                r->items_end = end;
                r->nitems = n;
                i = end;
            } else {
                json_t *v = value_at(buf, len, &i, &je);
                if (!v) {
                    json_decref(k);
                    goto bad_je;
                }
                if (strcmp(key, "items") == 0)
                    r->items_at = r->items_end = r->nitems = 0; /* the last one counts */
                if (json_object_set_new(r->head, key, v) != 0) {
                    json_decref(k);
                    rec_free(r);
                    return EV_ENOMEM;
                }
            }
            json_decref(k);
            i = skip_ws(buf, len, i);
            if (i < len && buf[i] == ',') {
                i = skip_ws(buf, len, i + 1);
                continue;
            }
            if (i < len && buf[i] == '}') {
                i++;
                break;
            }
            goto bad;
        }
    }
    if (skip_ws(buf, len, i) != len)
        goto bad;
    return EV_OK;
bad_je:
    rec_free(r);
    return rec_fail(err, &je, NULL);
bad:
    rec_free(r);
    return rec_fail(err, NULL, "malformed at the top level");
}

/* Items one at a time: *it is a new reference (any JSON type), NULL at the
 * end; *at and *n give its bytes, so that it can be read again. */
typedef struct item_iter {
    const rec_src *r;
    size_t pos, index;
} item_iter;

static void items_begin(item_iter *x, const rec_src *r)
{
    x->r = r;
    x->pos = r->items_at ? r->items_at + 1 : 0;
    x->index = 0;
}

static int items_next(item_iter *x, json_t **it, size_t *at, size_t *n, ev_errbuf *err)
{
    *it = NULL;
    const rec_src *r = x->r;
    if (!r->items_at)
        return EV_OK;
    size_t i = skip_ws(r->buf, r->items_end, x->pos);
    if (i < r->items_end && r->buf[i] == ']' && i + 1 == r->items_end)
        return EV_OK;
    if (x->index) {
        if (i >= r->items_end || r->buf[i] != ',')
            return rec_fail(err, NULL, "malformed items");
        i = skip_ws(r->buf, r->items_end, i + 1);
    }
    json_error_t je;
    size_t start = i;
    json_t *v = i < r->items_end ? value_at(r->buf, r->items_end - 1, &i, &je) : NULL;
    if (!v)
        return i < r->items_end ? rec_fail(err, &je, NULL) : rec_fail(err, NULL, "malformed items");
    x->pos = i;
    x->index++;
    *it = v;
    if (at)
        *at = start;
    if (n)
        *n = i - start;
    return EV_OK;
}

/* An item read again from its bytes (known to be valid JSON). */
static json_t *item_again(const rec_src *r, size_t at, size_t n)
{
    return json_loadb(r->buf + at, n, JSON_DECODE_ANY, NULL);
}

/* The custody log's events: one object per line that is a JSON object. */
static int load_events(json_t **events, const char *custody, size_t custody_len)
{
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
    *events = ev;
    return ev ? EV_OK : EV_ENOMEM;
}

/* ---- case.jsonld -------------------------------------------------------------- */

typedef struct cctx {
    EVP_MD *sha1;
    EVP_MD_CTX *md;
    unsigned char ns[16];   /* UUIDv5 namespace: the bundle's own UUID */
    ev_buf *out;            /* the document, one graph node per line */
    size_t nodes;           /* nodes written so far */
    ev_strset seen;         /* @ids of the nodes written */
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
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[u[i] >> 4];
        out[o++] = hex[u[i] & 15];
    }
    out[o] = '\0';
}

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
    uuid_text(out, d);
}

/* "kb:<slug>-<uuid5(bundle, key)>" where the key is made of length-prefixed
 * parts, "<kind>/<len(a)>:<a><len(b)>:<b>", so that no two part lists give
 * one key. The key is hashed piece by piece. Caller frees. */
static char *id_of(cctx *c, const char *slug, const char *kind, const char *a, const char *b)
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
    size_t ls = strlen(slug);
    char *s = malloc(3 + ls + 1 + 36 + 1);
    if (!s) {
        c->rc = EV_ENOMEM;
        return NULL;
    }
    memcpy(s, "kb:", 3);
    memcpy(s + 3, slug, ls);
    s[3 + ls] = '-';
    uuid_text(s + 4 + ls, d);
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

static int dump_cb(const char *buf, size_t size, void *data)
{
    return ev_buf__append(data, buf, size) == EV_OK ? 0 : -1;
}

/* Write a node to the graph, on a line of its own, unless one with its @id
 * was already written. Takes the reference. Returns true when written. */
static bool add_node(cctx *c, json_t *n)
{
    const char *id = jstr(n, "@id");
    bool existed = false;
    if (!n || !id || ev_strset__add(&c->seen, id, &existed) != EV_OK) {
        json_decref(n);
        c->rc = EV_ENOMEM;
        return false;
    }
    if (existed) {
        json_decref(n);
        return false;
    }
    if (ev_buf__puts(c->out, c->nodes++ ? ",\n    " : "    ") != EV_OK ||
        json_dump_callback(n, dump_cb, c->out, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                                   JSON_REAL_PRECISION(15)) != 0)
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

/* A person known by name (and organisation); a membership relationship
 * to the organisation. Returns the person's @id (caller frees) or NULL. */
static char *person_node(cctx *c, const char *name, const char *org, const char *identifier)
{
    char *id;
    json_t *n = named_node(c, "person", "uco-identity:Person", name, org, &id);
    if (!n)
        return NULL;
    if (identifier) {
        /* the officer's identifier, as an external reference on the person */
        char *xid = id_of(c, "external-reference", "officer-identifier", id, NULL);
        json_t *x = node(xid, "uco-core:ExternalReference");
        set_str(x, "uco-core:externalIdentifier", identifier);
        set_str(x, "uco-core:definingContext", org);
        json_object_set_new(n, "uco-core:externalReference", json_pack("[o]", x));
        free(xid);
    }
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

/* What case.jsonld keeps of each item once the item itself is freed. */
typedef struct citem {
    char *fid;     /* the File's @id */
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
    "    \"uco-tool\": \"https://ontology.unifiedcyberontology.org/uco/tool/\",\n"
    "    \"uco-types\": \"https://ontology.unifiedcyberontology.org/uco/types/\",\n"
    "    \"xsd\": \"http://www.w3.org/2001/XMLSchema#\"\n"
    "  },\n";

/* Is there an item other than the one with id own whose id is mid? */
static bool master_known(const ev_strset *ids, const ev_strset *dups, const char *mid,
                         const char *own)
{
    return own && strcmp(own, mid) == 0 ? ev_strset__has(dups, mid) : ev_strset__has(ids, mid);
}

/* The graph is written node by node while the items are read one at a time:
 * what later nodes need of an item (its File id, exhibit, role) is kept,
 * the item itself is not. */
static int build_case(cctx *c, const rec_src *r, const json_t *events, ev_errbuf *err)
{
    const json_t *rec = r->head;
    const char *bid = jstr(rec, "bundle_id");
    char buuid[37];
    if (!parse_uuid(c->ns, bid)) {
        /* not a urn:uuid: still stable: a UUIDv5 of the text in the nil namespace */
        unsigned char nil[16] = { 0 };
        const char *t = bid ? bid : "";
        uuid5(buuid, c->sha1, c->md, nil, t, strlen(t));
        unsigned char tmp[16];
        char urn[48];
        snprintf(urn, sizeof(urn), "urn:uuid:%s", buuid);
        if (parse_uuid(tmp, urn))
            memcpy(c->ns, tmp, 16);
    }
    uuid_text(buuid, c->ns);
    if (ev_buf__puts(c->out, "{\n") != EV_OK || ev_buf__printf(c->out, CONTEXT, buuid) != EV_OK ||
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
    size_t *deferred = NULL, ndef = 0, capdef = 0;  /* copies before their master: where */
    json_t *actions = json_array();
    json_t *it = NULL;
    size_t at = 0, ilen = 0;
    item_iter x;
    items_begin(&x, r);
    int rc = exhibits && actions ? EV_OK : EV_ENOMEM;
    while (rc == EV_OK && c->rc == EV_OK && (rc = items_next(&x, &it, &at, &ilen, err)) == EV_OK &&
           it) {
        citem *grown = ev__grow(ci, &cap, n, sizeof(*ci), 64);
        if (!grown) {
            rc = EV_ENOMEM;
            break;
        }
        ci = grown;
        citem *e = &ci[n];
        memset(e, 0, sizeof(*e));
        e->ex = e->next = -1;
        e->fid = file_id(c, it, n);
        e->master = !json_object_get(it, "derived_from");
        const char *own = jstr(it, "id");
        if (own) {
            bool had = false;
            if (ev_strset__add(&ids, own, &had) != EV_OK || (had && ev_strset__add(&dups, own, NULL)))
                rc = EV_ENOMEM;
        }
        if (e->fid) {
            file_node(c, it, e->fid);
            if (e->master)
                capture_nodes(c, it, e->fid);
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
                    derivation_nodes(c, it, e->fid, mfid, actions);
                free(mfid);
            } else if (mid) {
                size_t *d = ev__grow(deferred, &capdef, ndef, 3 * sizeof(*d), 16);
                if (!d) {
                    rc = EV_ENOMEM;
                } else {
                    deferred = d;
                    deferred[3 * ndef] = at;
                    deferred[3 * ndef + 1] = ilen;
                    deferred[3 * ndef + 2] = n;
                    ndef++;
                }
            }
        }
        n++;
        json_decref(it);
        it = NULL;
    }
    json_decref(it);
    /* copies listed before their master */
    for (size_t k = 0; k < ndef && rc == EV_OK && c->rc == EV_OK; k++) {
        json_t *d = item_again(r, deferred[3 * k], deferred[3 * k + 1]);
        const char *mid = jstr(json_object_get(d, "derived_from"), "item");
        const char *fid = ci[deferred[3 * k + 2]].fid;
        if (mid && master_known(&ids, &dups, mid, jstr(d, "id"))) {
            char *mfid = id_of(c, "file", "item", mid, NULL);
            if (mfid)
                derivation_nodes(c, d, fid, mfid, actions);
            free(mfid);
        }
        json_decref(d);
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
    {
        json_t *files = json_array();
        for (size_t i = 0; i < n; i++)
            if (ci[i].fid)
                json_array_append_new(files, ref(ci[i].fid));
        if (json_array_size(files))
            json_object_set_new(b, "uco-core:object", files);
        else
            json_decref(files);
    }
    add_node(c, b);

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
                json_t *objs = json_array();
                for (long j = ex_first[e]; j >= 0; j = ci[j].next)
                    json_array_append_new(objs, ref(ci[j].fid));
                json_object_set_new(p, "uco-core:object", objs);
                add_node(c, p);
                json_array_append_new(prov, ref(pid));
            }
            free(pid);
        }
    }

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
        char *who = person_node(c, jstr(e, "actor"), jstr(e, "organisation"), NULL);
        if (who)
            json_object_set_new(a, "uco-action:performer", ref(who));
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
        if (created) {
            json_t *masters = json_array();
            for (size_t i = 0; i < n; i++)
                if (ci[i].fid && ci[i].master)
                    json_array_append_new(masters, ref(ci[i].fid));
            if (json_array_size(masters))
                json_object_set_new(a, "uco-action:object", masters);
            else
                json_decref(masters);
            json_t *res = json_pack("[o]", ref(bundle_id));
            json_array_extend(res, prov);
            json_object_set_new(a, "uco-action:result", res);
        } else {
            json_object_set_new(a, "uco-action:object", json_pack("[o]", ref(bundle_id)));
        }
        add_node(c, a);
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
        if (org_node(c, jstr(cs, "organisation"), &oid)) {
            char *rid = id_of(c, "relationship", "case-organisation", oid, NULL);
            json_t *rl = node(rid, "uco-core:Relationship");
            json_object_set_new(rl, "uco-core:source", json_pack("[o]", ref(iid)));
            json_object_set_new(rl, "uco-core:target", ref(oid));
            json_object_set_new(rl, "uco-core:kindOfRelationship", json_string("Conducted_By"));
            json_object_set_new(rl, "uco-core:isDirectional", json_true());
            add_node(c, rl);
            free(rid);
        }
        free(oid);
        free(iid);
    }
    if (ev_buf__puts(c->out, c->nodes ? "\n  ]\n}\n" : "  ]\n}\n") != EV_OK)
        c->rc = EV_ENOMEM;

done:
    for (size_t i = 0; i < n; i++)
        free(ci[i].fid);
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

int ev_views__case_jsonld(char **out, size_t *len, const char *record, size_t record_len,
                          const char *custody, size_t custody_len, ev_errbuf *err)
{
    *out = NULL;
    *len = 0;
    rec_src r;
    json_t *events = NULL;
    ev_buf b = { 0 };
    cctx c;
    memset(&c, 0, sizeof(c));
    c.out = &b;
    int rc = rec_open(&r, record, record_len, err);
    if (rc != EV_OK)
        return rc;
    rc = load_events(&events, custody, custody_len);
    if (rc == EV_OK) {
        c.sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
        c.md = EVP_MD_CTX_new();
        rc = c.sha1 && c.md ? build_case(&c, &r, events, err) : EV_ENOMEM;
    }
    EVP_MD_free(c.sha1);
    EVP_MD_CTX_free(c.md);
    ev_strset__free(&c.seen);
    json_decref(events);
    rec_free(&r);
    if (rc == EV_OK && !b.data)
        rc = EV_ENOMEM;
    if (rc != EV_OK) {
        ev_buf__free(&b);
        if (rc == EV_ENOMEM)
            ev_err__set(err, rc, "out of memory while writing %s", EV_VIEW_CASE);
        return rc;
    }
    /* give back what the doubling buffer did not use */
    char *t = realloc(b.data, b.len + 1);
    *out = t ? t : b.data;
    *len = b.len;
    return EV_OK;
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
static bool link_ok(const char *p, const char *under)
{
    if (!p || strncmp(p, under, strlen(under)) != 0)
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
                /* a stream with no time source: the rate is FFmpeg's assumption */
                hprintf(&t, " %s fps%s", jstr(s, "avg_frame_rate"),
                        jstr(json_object_get(s, "timeline"), "time_source") &&
                                !strcmp(jstr(json_object_get(s, "timeline"), "time_source"),
                                        "none")
                            ? " (assumed, not measured)"
                            : "");
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
        /* a still has no duration (older records carry FFmpeg's 0.04 s) */
        if (json_is_number(json_object_get(m, "duration")) &&
            strcmp(jstr(m, "kind") ? jstr(m, "kind") : "", "image") != 0) {
            hput(&t, "; ");
            num_text(&t, json_object_get(m, "duration"), " s");
        }
    }
    const json_t *c = json_object_get(it, "capture");
    if (json_is_object(c)) {
        /* a time is shown with what is known of its zone */
        const char *when = jstr(c, "datetime_original");
        const char *zone = jstr(c, "datetime_original_zone");
        if (when)
            hprintf(&t, "%scaptured %s%s", t.b.len ? "; " : "", when,
                    zone && !strcmp(zone, "utc-by-format")
                        ? " (UTC as the file format defines it; the device may have written "
                          "local time)"
                        : "");
        else if ((when = jstr(c, "datetime_original_local")))
            hprintf(&t, "%scaptured %s camera-local time, zone unknown", t.b.len ? "; " : "",
                    when);
        if (jstr(c, "make") || jstr(c, "model"))
            hprintf(&t, "%s%s%s%s", t.b.len ? "; " : "", jstr(c, "make") ? jstr(c, "make") : "",
                           jstr(c, "make") && jstr(c, "model") ? " " : "",
                           jstr(c, "model") ? jstr(c, "model") : "");
        /* the software that last wrote the file: shows editing */
        if (jstr(c, "software"))
            hprintf(&t, "%ssoftware %s", t.b.len ? "; " : "", jstr(c, "software"));
        const json_t *g = json_object_get(c, "gps");
        json_t *la = json_object_get(g, "latitude"), *lo = json_object_get(g, "longitude");
        if (json_is_number(la) && json_is_number(lo) && isfinite(json_number_value(la)) &&
            isfinite(json_number_value(lo))) {
            /* as many decimals as the source holds (6 to 12) */
            double prec = json_number_value(json_object_get(g, "precision_deg"));
            int dec = 6;
            while (prec > 0 && dec < 12 && prec < 0.5 * pow(10.0, -dec))
                dec++;
            hprintf(&t, "%sGPS %.*f, %.*f", t.b.len ? "; " : "", dec, json_number_value(la),
                    dec, json_number_value(lo));
        } else if (json_is_true(json_object_get(g, "placeholder"))) {
            hprintf(&t, "%sGPS placeholder (no position recorded)", t.b.len ? "; " : "");
        }
    }
    if (t.fail) {
        ev_buf__free(&t.b);
        return NULL;
    }
    return t.b.data ? t.b.data : ev__strdup("");
}

/* seconds as HH:MM:SS, with milliseconds when there are any */
static void hms_text(hbuf *t, double s)
{
    if (!isfinite(s) || s < 0 || s > 1e12)
        return;
    long long ms = llround(s * 1000.0);
    hprintf(t, "%02lld:%02lld:%02lld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60);
    if (ms % 1000)
        hprintf(t, ".%03lld", ms % 1000);
}

/* "timeline: 2 gaps: 00:12:00 missing after frame 9000 (...)" for each video
 * stream with a timeline (media.streams[].timeline, docs/media.md). */
static void timeline_lines(hbuf *b, const json_t *it)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(json_object_get(it, "media"), "streams"), i, s) {
        const json_t *tl = json_object_get(s, "timeline");
        if (!json_is_object(tl))
            continue;
        hbuf t = { { 0 }, false };
        const char *src = jstr(tl, "time_source");
        if (src && !strcmp(src, "none")) {
            hput(&t, "timeline: no time source");
            if (json_is_number(json_object_get(tl, "assumed_fps"))) {
                hput(&t, " (FFmpeg assumed ");
                num_text(&t, json_object_get(tl, "assumed_fps"), " fps");
                hput(&t, "; no frame rate can be measured)");
            }
        } else {
            long long ng = (long long)json_integer_value(json_object_get(tl, "gaps_total"));
            long long nd =
                (long long)json_integer_value(json_object_get(tl, "discontinuities_total"));
            bool wall = src && !strcmp(src, "frame-stamps");
            hprintf(&t, "timeline (%s): ", wall ? "camera clock stamps, zone unknown"
                                               : "container timestamps");
            if (ng == 0)
                hput(&t, "no gaps");
            else
                hprintf(&t, "%lld gap%s: ", ng, ng == 1 ? "" : "s");
            size_t k;
            json_t *g;
            json_array_foreach(json_object_get(tl, "gaps"), k, g) {
                if (k == 10) {
                    hprintf(&t, ", and %lld more", ng - 10);
                    break;
                }
                if (k)
                    hput(&t, ", ");
                hms_text(&t, json_number_value(json_object_get(g, "missing")));
                hprintf(&t, " missing after frame %lld",
                        (long long)json_integer_value(json_object_get(g, "after_frame")));
                if (jstr(g, "from_wallclock"))
                    hprintf(&t, " (%s to %s)", jstr(g, "from_wallclock"),
                            jstr(g, "to_wallclock") ? jstr(g, "to_wallclock") : "?");
                else {
                    hput(&t, " (at ");
                    hms_text(&t, json_number_value(json_object_get(g, "from")) -
                                     json_number_value(json_object_get(tl, "first")));
                    hput(&t, ")");
                }
            }
            if (nd)
                hprintf(&t, "; %lld discontinuit%s (time going back or repeating)", nd,
                        nd == 1 ? "y" : "ies");
            if (json_is_number(json_object_get(tl, "measured_fps"))) {
                hput(&t, "; measured ");
                num_text(&t, json_object_get(tl, "measured_fps"), " fps");
            }
            if (json_is_true(json_object_get(tl, "incomplete")))
                hput(&t, "; stream not read to its end");
        }
        if (t.fail)
            b->fail = true;
        hput(b, "<br><small>");
        esc(b, t.b.data);
        hput(b, "</small>");
        ev_buf__free(&t.b);
    }
}

/* The item's thumbnail, when the record lists one among its meta files
 * (meta/<item>/thumb.jpg): a relative image, percent-encoded like links. */
static void thumb(hbuf *b, const json_t *it)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(it, "meta"), i, m) {
        const char *p = json_string_value(m);
        size_t n = p ? strlen(p) : 0;
        if (n < 15 || strcmp(p + n - 10, "/thumb.jpg") != 0 || !link_ok(p, "meta/"))
            continue;
        const json_t *t = json_object_get(json_object_get(it, "media"), "thumbnail");
        json_t *w = json_object_get(t, "width"), *h = json_object_get(t, "height");
        hput(b, "<img src=\"");
        href(b, p);
        hput(b, "\" alt=\"thumbnail of ");
        esc(b, jstr(it, "original_name") ? jstr(it, "original_name") : jstr(it, "id"));
        hput(b, "\"");
        if (json_is_integer(w) && json_is_integer(h) && json_integer_value(w) > 0 &&
            json_integer_value(w) <= 4096 && json_integer_value(h) > 0 &&
            json_integer_value(h) <= 4096)
            hprintf(b, " width=\"%lld\" height=\"%lld\"", (long long)json_integer_value(w),
                    (long long)json_integer_value(h));
        hput(b, "><br>");
        return;
    }
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
    if (link_ok(path, "data/")) {
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
    thumb(b, it);
    char *ms = media_summary(it);
    if (!ms)
        b->fail = true;
    esc(b, ms);
    free(ms);
    timeline_lines(b, it);
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

/* The row of a working copy, kept until it is put in under its master. */
typedef struct kid {
    char *row;
    size_t len;
    size_t at;      /* where it goes in the page */
    size_t index;   /* record order, among the copies */
} kid;

static int kid_cmp(const void *a, const void *b)
{
    const kid *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int build_html(hbuf *b, const rec_src *r, const json_t *events, ev_errbuf *err)
{
    const json_t *rec = r->head;
    const json_t *cs = json_object_get(rec, "case");
    const json_t *ex = json_object_get(rec, "exported_by");
    const json_t *tool = json_object_get(rec, "tool");
    hput(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                    "style-src 'unsafe-inline'; img-src 'self'\">\n"
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
    snprintf(cnt, sizeof(cnt), "%zu", r->nitems);
    row(b, "Items", cnt);
    hput(b, "</table>\n");

    hput(b, "<h2>Items</h2>\n<table class=\"items\">\n<tr><th>Exhibit</th><th>Path in "
                    "the bundle</th><th>Original name</th><th>Size (bytes)</th><th>MIME type</th>"
                    "<th>Media</th><th>SHA-256</th></tr>\n");
    /* Masters are written as they come; each copy's row is kept aside and
     * put in under its master at the end (or after the last row when its
     * master is not in the record), moving the bytes in place. */
    kid *kids = NULL;
    size_t nk = 0, capk = 0, nitems = 0;
    char **mids = NULL;                 /* each copy's derived_from.item */
    json_t *masters = json_object();    /* id -> where the row of its first master ends */
    json_t *it = NULL;
    item_iter x;
    items_begin(&x, r);
    int rc = masters ? EV_OK : EV_ENOMEM;
    while (rc == EV_OK && !b->fail && (rc = items_next(&x, &it, NULL, NULL, err)) == EV_OK &&
           it) {
        nitems++;
        if (!json_object_get(it, "derived_from")) {
            item_row(b, it, false);
            const char *id = jstr(it, "id");
            if (id && !json_object_get(masters, id) &&
                json_object_set_new(masters, id, json_integer((json_int_t)b->b.len)))
                rc = EV_ENOMEM;
        } else {
            kid *k = ev__grow(kids, &capk, nk, sizeof(*kids), 16);
            char **m = k ? ev__reallocarray(mids, capk, sizeof(*mids)) : NULL;
            if (k)
                kids = k;
            hbuf row = { { 0 }, false };
            if (m) {
                mids = m;
                item_row(&row, it, true);
            }
            const char *mid = jstr(json_object_get(it, "derived_from"), "item");
            if (!k || !m || row.fail || !(mids[nk] = mid ? ev__strdup(mid) : ev__strdup(""))) {
                ev_buf__free(&row.b);
                rc = EV_ENOMEM;
            } else {
                kids[nk] = (kid){ row.b.data, row.b.len, 0, nk };
                nk++;
            }
        }
        json_decref(it);
        it = NULL;
    }
    json_decref(it);
    if (rc == EV_OK && !b->fail && nk) {
        size_t end = b->b.len, extra = 0;
        for (size_t k = 0; k < nk; k++) {
            json_t *at = *mids[k] ? json_object_get(masters, mids[k]) : NULL;
            kids[k].at = at ? (size_t)json_integer_value(at) : end;
            extra += kids[k].len;
        }
        qsort(kids, nk, sizeof(*kids), kid_cmp);
        /* room for the copies, then from the back: move each stretch of
         * master rows up, then copy the rows that go before it */
        happ(b, "", 0);
        if (!b->fail && b->b.cap < b->b.len + extra + 1) {
            char *g = realloc(b->b.data, b->b.len + extra + 1);
            if (!g)
                b->fail = true;
            else {
                b->b.data = g;
                b->b.cap = b->b.len + extra + 1;
            }
        }
        if (!b->fail) {
            char *d = b->b.data;
            size_t src = end, dst = end + extra;
            for (size_t k = nk; k-- > 0;) {
                size_t seg = src - kids[k].at;
                memmove(d + dst - seg, d + kids[k].at, seg);
                dst -= seg;
                src = kids[k].at;
                dst -= kids[k].len;
                memcpy(d + dst, kids[k].row, kids[k].len);
            }
            b->b.len = end + extra;
            d[b->b.len] = '\0';
        }
    }
    for (size_t k = 0; k < nk; k++) {
        free(kids[k].row);
        free(mids[k]);
    }
    free(kids);
    free(mids);
    json_decref(masters);
    if (rc != EV_OK)
        return rc;
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
    rec_src r;
    json_t *events = NULL;
    hbuf b = { { 0 }, false };
    int rc = rec_open(&r, record, record_len, err);
    if (rc != EV_OK)
        return rc;
    rc = load_events(&events, custody, custody_len);
    if (rc == EV_OK)
        rc = build_html(&b, &r, events, err);
    if (rc == EV_OK && (b.fail || !b.b.data))
        rc = EV_ENOMEM;
    rec_free(&r);
    json_decref(events);
    if (rc != EV_OK) {
        ev_buf__free(&b.b);
        if (rc == EV_ENOMEM)
            ev_err__set(err, rc, "out of memory while writing %s", EV_VIEW_INDEX);
        return rc;
    }
    char *t = realloc(b.b.data, b.b.len + 1);
    *out = t ? t : b.b.data;
    *len = b.b.len;
    return EV_OK;
}
