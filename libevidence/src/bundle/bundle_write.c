/*
 * bundle (writer): ev_writer_* — builds a bag from files and folders and
 * writes it through the container sink. Payload bytes are read once, hashed
 * while stored; manifests, the record, the custody log and the tag manifests
 * are generated after the payload, inside the same single pass.
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <magic.h>

#include "bag/bag.h"
#include "bundle/bundle_int.h"
#include "container/container.h"
#include "base/hash.h"
#include "base/internal.h"
#include "media/media.h"
#include "profile/profile.h"
#include "record/record.h"
#include "transcode/transcode.h"
#include "views/views.h"

typedef struct wr_item {
    char *src;            /* path on disk */
    char *rel;            /* original path relative to the exhibit root (may be non-UTF-8) */
    char *exhibit;        /* exact reference */
    char *bag_path;       /* data/<exhibit-folder>/<safe path> */
    char *name_note;      /* why the name was changed, or NULL */
    uint64_t size;
    struct timespec mtime;
    dev_t dev;            /* identity of the source file, to find a file */
    ino_t ino;            /*   named by two arguments */
    size_t arg;           /* which ev_writer_add() call named it (1-based) */
    char *mime;           /* from the content (libmagic) */
    ev_filehash_result res;
    char id[32];
    json_t *media, *capture, *content;   /* media analysis, or NULL */
    ev_media__file *meta;                /* meta/<id>/... files */
    size_t nmeta;
    /* derivatives */
    long source;                         /* index of the master, or -1 */
    const ev_profile *profile;
    json_t *derivation;                  /* the derivation record */
} wr_item;

typedef struct tag_digest {
    char *path;
    ev_digests d;
} tag_digest;

struct ev_writer {
    ev_writer_options o;
    ev_errbuf err;
    wr_item *items;
    size_t n, cap;
    tag_digest *tags;
    size_t ntags, captags;
    const ev_profile **profiles;
    size_t nprofiles;
    ev_strset keys;          /* case/normalization-folded bag paths in use */
    size_t nargs;            /* ev_writer_add() calls so far */
    struct exhibit_slot {    /* exhibits in order of first appearance */
        char *ref;           /*   the exact reference */
        char *folder;        /*   its folder under data/, unique per exhibit */
    } *exhibits;
    size_t nexhibits, capexhibits, last_exhibit;
    ev_strset folder_keys;   /* case-folded exhibit folders in use */
    char *derived_dir;       /* temporary folder for working copies */
    /* seal state */
    char bundle_id[64];
    char created[40];
    char *manifest_sha256;   /* of manifest-sha256.txt as written */
    char *record_sha256;
    char *record_txt, *custody_txt;   /* as written, for the views */
    size_t record_len, custody_len;
    char tm_sha[2][65];      /* SHA-256 of each tag manifest, for the seal */
    struct tag_prod *prods;  /* producers of tag files, freed after the sink */
    ev_progress_state progress;
};

static char *opt_dup(const char *s) { return s ? ev__strdup(s) : NULL; }

static const char *mime_of(const wr_item *it)
{
    return it->mime ? it->mime : "application/octet-stream";
}

int ev_writer_options_init(ev_writer_options *opts, unsigned int version)
{
    if (!opts)
        return EV_EINVAL;
    if (version != EV_WRITER_OPTIONS_VERSION)
        return EV_EVERSION;
    memset(opts, 0, sizeof(*opts));
    opts->version = version;
    return EV_OK;
}

int ev_writer_new(ev_writer **out, const ev_writer_options *opts)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    ev_writer_options def = EV_WRITER_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    if (opts->version != EV_WRITER_OPTIONS_VERSION)
        return EV_EVERSION;
    if (opts->format != EV_FORMAT_ZIP && opts->format != EV_FORMAT_DIR)
        return EV_EINVAL;
    uint32_t algs = opts->algorithms ? opts->algorithms : EV_ALG_SHA256;
    if (algs & ~(EV_ALG_SHA256 | EV_ALG_SHA512))
        return EV_EINVAL;
    ev_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return EV_ENOMEM;
    w->o = *opts;
    /* SHA-256 is always written: the record and custody log refer to it. */
    w->o.algorithms = algs | EV_ALG_SHA256;
    w->o.case_ref = opt_dup(opts->case_ref);
    w->o.organisation = opt_dup(opts->organisation);
    w->o.officer = opt_dup(opts->officer);
    w->o.officer_id = opt_dup(opts->officer_id);
    w->o.operation = opt_dup(opts->operation);
    w->o.description = opt_dup(opts->description);
    w->o.source_system = opt_dup(opts->source_system);
    *out = w;
    return EV_OK;
}

const char *ev_writer_last_error(const ev_writer *w)
{
    return w ? w->err.msg : "no writer";
}

void ev_writer_free(ev_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++) {
        free(w->items[i].src);
        free(w->items[i].rel);
        free(w->items[i].exhibit);
        free(w->items[i].bag_path);
        free(w->items[i].name_note);
        free(w->items[i].mime);
        json_decref(w->items[i].media);
        json_decref(w->items[i].capture);
        json_decref(w->items[i].content);
        ev_media__files_free(w->items[i].meta, w->items[i].nmeta);
        json_decref(w->items[i].derivation);
    }
    free(w->items);
    ev_strset__free(&w->keys);
    for (size_t i = 0; i < w->nexhibits; i++) {
        free(w->exhibits[i].ref);
        free(w->exhibits[i].folder);
    }
    free(w->exhibits);
    ev_strset__free(&w->folder_keys);
    if (w->derived_dir) {
        ev__rm_tree(w->derived_dir);
        free(w->derived_dir);
    }
    for (size_t i = 0; i < w->ntags; i++)
        free(w->tags[i].path);
    free(w->tags);
    free(w->profiles);
    free((char *)w->o.case_ref);
    free((char *)w->o.organisation);
    free((char *)w->o.officer);
    free((char *)w->o.officer_id);
    free((char *)w->o.operation);
    free((char *)w->o.description);
    free((char *)w->o.source_system);
    free(w->manifest_sha256);
    free(w->record_sha256);
    free(w->record_txt);
    free(w->custody_txt);
    free(w);
}

int ev_writer_add_profile(ev_writer *w, const struct ev_profile *profile)
{
    if (!w || !profile)
        return EV_EINVAL;
    const ev_profile **p = ev__reallocarray(w->profiles, w->nprofiles + 1, sizeof(*p));
    if (!p)
        return EV_ENOMEM;
    w->profiles = p;
    p[w->nprofiles++] = profile;
    return EV_OK;
}

/* "JS/1" -> "JS_1": a folder name that is safe everywhere. */
char *ev_bundle__exhibit_folder(const char *exhibit)
{
    size_t n = strlen(exhibit);
    char *f = malloc(n + 8);
    if (!f)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n && o < 100; i++) {
        unsigned char c = (unsigned char)exhibit[i];
        f[o++] = (char)((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '.' || c == '_'
                            ? c
                            : '_');
    }
    f[o] = '\0';
    if (o == 0 || strcmp(f, ".") == 0 || strcmp(f, "..") == 0)
        snprintf(f, n + 8, "exhibit");
    return f;
}

/* Make one path component safe for a bag: valid UTF-8, no control
 * characters other than CR/LF (percent-encoded in manifests), no '\'. */
static char *safe_component(const char *c, bool *changed)
{
    ev_buf b = { 0 };
    size_t len = strlen(c);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)c[i];
        size_t n = ch < 0x80 ? 1 : (ch & 0xE0) == 0xC0 ? 2 : (ch & 0xF0) == 0xE0 ? 3
                 : (ch & 0xF8) == 0xF0 ? 4 : 0;
        if (n > 1 && i + n <= len && ev__utf8_valid(c + i, n)) {
            ev_buf__append(&b, c + i, n);
            i += n - 1;
            continue;
        }
        /* CR and LF are kept (percent-encoded in manifests); note that
         * Info-ZIP unzip drops them from names (docs/bundle.md) */
        if (n != 1 || ch == '\\' || (ch < 0x20 && ch != '\n' && ch != '\r') || ch == 0x7F) {
            ev_buf__append(&b, "_", 1);
            *changed = true;
            continue;
        }
        ev_buf__append(&b, c + i, 1);
    }
    if (!b.data)
        return ev__strdup("_");
    if (strcmp(b.data, ".") == 0 || strcmp(b.data, "..") == 0) {
        ev_buf__free(&b);
        *changed = true;
        return ev__strdup("_");
    }
    return b.data;
}

static char *safe_rel(const char *rel, bool *changed)
{
    ev_buf b = { 0 };
    const char *p = rel;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        char *comp = ev__strndup(p, n);
        char *s = comp ? safe_component(comp, changed) : NULL;
        free(comp);
        if (!s) {
            ev_buf__free(&b);
            return NULL;
        }
        if (b.len)
            ev_buf__append(&b, "/", 1);
        ev_buf__puts(&b, s);
        free(s);
        p += n;
        if (*p == '/')
            p++;
    }
    if (!b.data)
        return ev__strdup("_");
    /* NFC, so that the same name never appears in two normalizations */
    char *nfc = ev_bag__nfc(b.data);
    if (nfc && strcmp(nfc, b.data) != 0) {
        /* keep the original bytes: NFD names from macOS are preserved as-is;
         * collisions are handled by the caller */
        free(nfc);
        nfc = NULL;
    }
    free(nfc);
    return b.data;
}

static int add_item(ev_writer *w, const char *src, const char *rel, const char *exhibit,
                    const struct stat *st)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        wr_item *it = ev__reallocarray(w->items, cap, sizeof(*it));
        if (!it)
            return EV_ENOMEM;
        w->items = it;
        w->cap = cap;
    }
    wr_item *it = &w->items[w->n];
    memset(it, 0, sizeof(*it));
    it->src = ev__strdup(src);
    it->rel = ev__strdup(rel);
    it->exhibit = ev__strdup(exhibit);
    it->size = (uint64_t)st->st_size;
    it->mtime = st->st_mtim;
    it->dev = st->st_dev;
    it->ino = st->st_ino;
    it->arg = w->nargs;
    it->source = -1;
    if (!it->src || !it->rel || !it->exhibit) {
        free(it->src);
        free(it->rel);
        free(it->exhibit);
        return EV_ENOMEM;
    }
    w->n++;
    return EV_OK;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(ev_writer *w, const char *dir, const char *rel, const char *exhibit, int depth)
{
    if (depth > 128)
        return ev_err__set(&w->err, EV_EINVAL, "'%s': folders nested too deeply", dir);
    DIR *d = opendir(dir);
    if (!d)
        return ev_err__set(&w->err, ev_err__from_errno(errno), "cannot read folder '%s': %s",
                           dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int rc = EV_OK;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = ev__reallocarray(names, cap, sizeof(*nn));
            if (!nn) {
                rc = EV_ENOMEM;
                break;
            }
            names = nn;
        }
        if (!(names[n] = ev__strdup(de->d_name))) {
            rc = EV_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == EV_OK)
        qsort(names, n, sizeof(*names), name_cmp);
    for (size_t i = 0; i < n && rc == EV_OK; i++) {
        char *p = ev__asprintf("%s/%s", dir, names[i]);
        char *r = ev__asprintf("%s/%s", rel, names[i]);
        struct stat st;
        if (!p || !r) {
            rc = EV_ENOMEM;
        } else if (lstat(p, &st) != 0) {
            rc = ev_err__set(&w->err, ev_err__from_errno(errno), "'%s': %s", p, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk(w, p, r, exhibit, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            rc = add_item(w, p, r, exhibit, &st);
        } else if (w->o.log_cb) {
            char msg[600];
            snprintf(msg, sizeof(msg), "skipped '%s': %s, not a regular file", p,
                     S_ISLNK(st.st_mode) ? "a symbolic link" : "a special file");
            w->o.log_cb(EV_LOG_WARNING, msg, w->o.log_payload);
        }
        free(p);
        free(r);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int ev_writer_add(ev_writer *w, const char *path, const char *exhibit)
{
    if (!w || !path)
        return EV_EINVAL;
    if (!exhibit || !*exhibit)
        exhibit = "1";
    w->nargs++;
    struct stat st;
    if (stat(path, &st) != 0)
        return ev_err__set(&w->err, ev_err__from_errno(errno), "cannot read '%s': %s", path,
                           strerror(errno));
    /* base name of the argument, without trailing slashes */
    char *tmp = ev__strdup(path);
    if (!tmp)
        return EV_ENOMEM;
    size_t l = strlen(tmp);
    while (l > 1 && tmp[l - 1] == '/')
        tmp[--l] = '\0';
    const char *base = strrchr(tmp, '/');
    base = base ? base + 1 : tmp;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        base = "files";
    int rc;
    if (S_ISDIR(st.st_mode))
        rc = walk(w, path, base, exhibit, 0);
    else if (S_ISREG(st.st_mode))
        rc = add_item(w, path, base, exhibit, &st);
    else
        rc = ev_err__set(&w->err, EV_EUNSUPPORTED, "'%s' is not a regular file or folder (a "
                         "device, pipe or socket cannot be packed)", path);
    free(tmp);
    return rc;
}

/* ---- sealing --------------------------------------------------------------- */

static int register_tag(ev_writer *w, const char *path, const char *data, size_t len)
{
    if (w->ntags == w->captags) {
        size_t cap = w->captags ? w->captags * 2 : 32;
        tag_digest *t = ev__reallocarray(w->tags, cap, sizeof(*t));
        if (!t)
            return EV_ENOMEM;
        w->tags = t;
        w->captags = cap;
    }
    ev_hasher *h = NULL;
    int rc = ev_hash__new(&h, w->o.algorithms);
    if (rc)
        return rc;
    tag_digest *t = &w->tags[w->ntags];
    ev_hash__update(h, data, len);
    ev_hash__final(h, &t->d);
    ev_hash__free(h);
    if (!(t->path = ev__strdup(path)))
        return EV_ENOMEM;
    w->ntags++;
    return EV_OK;
}

static int add_tag_buffer(ev_writer *w, ev_sink *s, const char *path, const char *data,
                          size_t len)
{
    ev_producer p;
    int rc = register_tag(w, path, data, len);
    if (rc == EV_OK)
        rc = ev_producer__buffer(&p, data, len);
    if (rc == EV_OK)
        rc = ev_sink__add(s, path, &p, true, 0, &w->err);
    return rc;
}

typedef struct lazy_ctx {
    ev_writer *w;
    int kind;        /* 0 manifest, 1 record, 2 custody, 3 tagmanifest, 4 seal,
                        5 case.jsonld, 6 index.html */
    int slot;        /* hash slot for manifests */
    const char *path;
} lazy_ctx;

static int gen_lazy(void *arg, char **data, size_t *len, ev_errbuf *err);

/* The bytes of a tag file for the sink, without a copy: generated when the
 * sink opens the entry (lazy) or handed over, and freed as soon as the sink
 * has read them rather than when the sink is freed, so that the big tag
 * files (record, views, meta files) are not all held until the end. The
 * sink does not free this producer; the writer does, after the sink. */
typedef struct tag_prod {
    struct tag_prod *next;
    lazy_ctx *lazy;          /* generate at open, or NULL */
    char *data;
    size_t len, pos;
    uint8_t **owner;         /* where data is owned (set to NULL when freed), or NULL */
    bool keep;               /* the writer keeps data (record and custody log) */
    bool generated;
} tag_prod;

static void tag_prod_release(tag_prod *t)
{
    if (!t->keep) {
        free(t->data);
        if (t->owner)
            *t->owner = NULL;
    }
    t->data = NULL;
    t->owner = NULL;
}

static int tag_open(void *ctx, uint64_t *size, ev_errbuf *err)
{
    tag_prod *t = ctx;
    if (t->lazy && !t->generated) {
        int rc = gen_lazy(t->lazy, &t->data, &t->len, err);
        if (rc != EV_OK)
            return rc;
        t->generated = true;
        t->keep = t->lazy->kind == 1 || t->lazy->kind == 2;
    }
    if (!t->data && t->len)
        return ev_err__set(err, EV_ERROR, "'%s' was read twice", t->lazy ? t->lazy->path : "a tag file");
    t->pos = 0;
    *size = t->len;
    return EV_OK;
}

static int64_t tag_read(void *ctx, void *out, size_t len, ev_errbuf *err)
{
    (void)err;
    tag_prod *t = ctx;
    size_t n = t->len - t->pos < len ? t->len - t->pos : len;
    if (n)
        memcpy(out, t->data + t->pos, n);
    t->pos += n;
    return (int64_t)n;
}

static int tag_close(void *ctx, bool ok, ev_errbuf *err)
{
    (void)ok;
    (void)err;
    tag_prod_release(ctx);
    return EV_OK;
}

static void tag_prods_free(ev_writer *w)
{
    while (w->prods) {
        tag_prod *t = w->prods;
        w->prods = t->next;
        tag_prod_release(t);
        free(t);
    }
}

/* Add a tag file whose bytes are handed over (owner: where they are owned,
 * or NULL when data itself was malloc'd for this) or generated later (lazy). */
static int add_tag_prod(ev_writer *w, ev_sink *s, const char *path, char *data, size_t len,
                        uint8_t **owner, lazy_ctx *lazy)
{
    tag_prod *t = calloc(1, sizeof(*t));
    if (!t) {
        if (!owner)
            free(data);
        return EV_ENOMEM;
    }
    t->data = data;
    t->len = len;
    t->owner = owner;
    t->lazy = lazy;
    t->next = w->prods;
    w->prods = t;
    int rc = lazy ? EV_OK : register_tag(w, path, data, len);
    ev_producer p = { tag_open, tag_read, tag_close, t, lazy ? UINT64_MAX : (uint64_t)len };
    if (rc == EV_OK)
        rc = ev_sink__add(s, path, &p, true, 0, &w->err);
    return rc;
}

static char *gen_manifest(ev_writer *w, int slot, size_t *len)
{
    ev_buf b = { 0 };
    for (size_t i = 0; i < w->n; i++) {
        char *enc = ev_bag__encode_path(w->items[i].bag_path);
        if (!enc || ev_buf__printf(&b, "%s  %s\n", w->items[i].res.digests.hex[slot], enc)) {
            free(enc);
            ev_buf__free(&b);
            return NULL;
        }
        free(enc);
    }
    *len = b.len;
    return b.data ? b.data : ev__strdup("");
}

static char *gen_tagmanifest(ev_writer *w, int slot, size_t *len)
{
    ev_buf b = { 0 };
    for (size_t i = 0; i < w->ntags; i++) {
        char *enc = ev_bag__encode_path(w->tags[i].path);
        if (!enc || ev_buf__printf(&b, "%s  %s\n", w->tags[i].d.hex[slot], enc)) {
            free(enc);
            ev_buf__free(&b);
            return NULL;
        }
        free(enc);
    }
    *len = b.len;
    return b.data ? b.data : ev__strdup("");
}

static json_t *item_json(const ev_writer *w, const wr_item *it)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(it->id));
    json_object_set_new(o, "exhibit", ev__json_str(it->exhibit));
    json_object_set_new(o, "role", json_string(it->source >= 0 ? "derivative" : "master"));
    json_object_set_new(o, "path", ev__json_str(it->bag_path));
    const char *base = strrchr(it->rel, '/');
    json_object_set_new(o, "original_name", ev__json_str(base ? base + 1 : it->rel));
    json_object_set_new(o, "original_path", ev__json_str(it->rel));
    if (it->name_note)
        json_object_set_new(o, "name_changed", json_string(it->name_note));
    json_object_set_new(o, "size", json_integer((json_int_t)it->size));
    json_t *h = json_object();
    for (int s = 0; s < EV_HASH_COUNT; s++)
        if (w->o.algorithms & ev_hash__slot_alg(s))
            json_object_set_new(h, ev_hash__slot_name(s), json_string(it->res.digests.hex[s]));
    json_object_set_new(o, "hashes", h);
    json_object_set_new(o, "mime", json_string(mime_of(it)));
    char t[64];
    ev__time_rfc3339_ns(t, sizeof(t), (int64_t)it->mtime.tv_sec, it->mtime.tv_nsec);
    json_object_set_new(o, "times", json_pack("{s:s}", "modified", t));
    if (it->source >= 0) {
        const wr_item *src = &w->items[it->source];
        json_t *d = json_object();
        json_object_set_new(d, "item", json_string(src->id));
        json_object_set_new(d, "profile", ev__json_str(it->profile->name));
        json_object_set_new(d, "profile_sha256", json_string(it->profile->sha256));
        json_object_set_new(d, "action", ev__json_str(it->profile->action ? it->profile->action
                                                                          : "transcoded"));
        json_object_set_new(d, "source_sha256", json_string(src->res.digests.hex[EV_HASH_SHA256]));
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
            char *p = ev__asprintf("meta/%s/%s", it->id, it->meta[k].name);
            json_array_append_new(m, ev__json_str(p));
            free(p);
        }
        json_object_set_new(o, "meta", m);
    }
    return o;
}

#define RECORD_DUMP_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* Append an item of the record's items array as ev_record__dump() would
 * write it there: its own dump with every line moved 4 spaces in (JSON
 * strings hold no raw newline, so every newline is a line break). */
static int append_nested(ev_buf *b, const json_t *o, const char *sep)
{
    char *t = json_dumps(o, RECORD_DUMP_FLAGS);
    if (!t)
        return EV_ENOMEM;
    int rc = ev_buf__puts(b, sep);
    const char *p = t;
    while (rc == EV_OK && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
        rc = ev_buf__append(b, "    ", 4);
        if (rc == EV_OK)
            rc = ev_buf__append(b, p, n);
        p += n;
    }
    free(t);
    return rc;
}

static char *gen_record(ev_writer *w, size_t *len)
{
    json_t *r = json_object();
    json_object_set_new(r, "format", json_string(EV_RECORD_FORMAT));
    json_object_set_new(r, "format_version", json_integer(EV_RECORD_FORMAT_VERSION));
    json_object_set_new(r, "bundle_id", json_string(w->bundle_id));
    json_object_set_new(r, "created", json_string(w->created));
    json_t *libs = NULL;
    ev_common__versions(&libs);
    json_object_set_new(r, "tool", json_pack("{s:s, s:s, s:o}", "name", "evidence", "version",
                                             EV_VERSION_STRING, "libraries",
                                             libs ? libs : json_object()));
    json_t *c = json_object();
    json_object_set_new(c, "reference", ev__json_str(w->o.case_ref));
    json_object_set_new(c, "organisation", ev__json_str(w->o.organisation));
    json_object_set_new(c, "operation", ev__json_str(w->o.operation));
    json_object_set_new(c, "description", ev__json_str(w->o.description));
    json_object_set_new(r, "case", c);
    json_t *e = json_object();
    json_object_set_new(e, "name", ev__json_str(w->o.officer));
    json_object_set_new(e, "identifier", ev__json_str(w->o.officer_id));
    json_object_set_new(e, "organisation", ev__json_str(w->o.organisation));
    json_object_set_new(r, "exported_by", e);
    json_object_set_new(r, "source_system",
                        json_pack("{s:o}", "name", ev__json_str(w->o.source_system)));
    if (w->n == 0) {
        json_object_set_new(r, "items", json_array());
        char *s = ev_record__dump(r, len);
        json_decref(r);
        return s;
    }
    /* the items one at a time, each dumped and freed before the next, with
     * the analysis trees they were made from: the same bytes as dumping the
     * whole record at once, without the whole record as a tree */
    char *head = json_dumps(r, RECORD_DUMP_FLAGS);
    json_decref(r);
    size_t hl = head ? strlen(head) : 0;
    ev_buf b = { 0 };
    int rc = hl >= 2 && strcmp(head + hl - 2, "\n}") == 0 ? EV_OK : EV_ENOMEM;
    if (rc == EV_OK)
        rc = ev_buf__append(&b, head, hl - 2);
    free(head);
    if (rc == EV_OK)
        rc = ev_buf__puts(&b, ",\n  \"items\": [\n");
    for (size_t i = 0; i < w->n && rc == EV_OK; i++) {
        wr_item *it = &w->items[i];
        json_t *o = item_json(w, it);
        rc = o ? append_nested(&b, o, i ? ",\n" : "") : EV_ENOMEM;
        json_decref(o);
        json_decref(it->media);
        json_decref(it->capture);
        json_decref(it->content);
        it->media = it->capture = it->content = NULL;
    }
    if (rc == EV_OK)
        rc = ev_buf__puts(&b, "\n  ]\n}\n");
    if (rc != EV_OK) {
        ev_buf__free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data;
}

static int gen_lazy(void *arg, char **data, size_t *len, ev_errbuf *err)
{
    lazy_ctx *c = arg;
    ev_writer *w = c->w;
    char *s = NULL;
    *len = 0;
    switch (c->kind) {
    case 0:
        s = gen_manifest(w, c->slot, len);
        break;
    case 1:
        s = gen_record(w, len);
        break;
    case 2: {
        ev_custody_event e = { EV_CUSTODY_EVENT_VERSION, "created",
                               w->o.officer ? w->o.officer : "unknown",
                               w->o.organisation ? w->o.organisation : "unknown", NULL };
        s = ev_custody__line(1, w->created, &e, w->manifest_sha256, w->record_sha256, NULL);
        long seq = 2;
        for (size_t i = 0; s && i < w->n; i++) {
            const wr_item *it = &w->items[i];
            if (it->source < 0)
                continue;
            char prev[65], *note = NULL, *line = NULL;
            const char *last = strrchr(s, '\n');
            const char *start = s;
            for (const char *q = s; q < last; q++)
                if (*q == '\n')
                    start = q + 1;
            ev_hash__sha256_hex(prev, start, (size_t)(last - start));
            note = ev__asprintf("%s made from %s by profile %s", it->id,
                                w->items[it->source].id, it->profile->name);
            ev_custody_event te = e;
            te.action = "transcoded";
            te.note = note;
            line = note ? ev_custody__line(seq++, w->created, &te, w->manifest_sha256,
                                           w->record_sha256, prev) : NULL;
            char *joined = line ? ev__asprintf("%s%s", s, line) : NULL;
            free(note);
            free(line);
            free(s);
            s = joined;
        }
        if (s)
            *len = strlen(s);
        break;
    }
    case 5:
    case 6: {
        /* the views, from the record and custody log just written */
        int rc = (c->kind == 5 ? ev_views__case_jsonld : ev_views__index_html)(
            &s, len, w->record_txt ? w->record_txt : "", w->record_len, w->custody_txt,
            w->custody_len, err);
        if (rc != EV_OK)
            return rc;
        break;
    }
    case 3:
        s = gen_tagmanifest(w, c->slot, len);
        if (s)
            ev_hash__sha256_hex(w->tm_sha[c->slot], s, *len);
        break;
    default: {
        ev_buf b = { 0 };
        for (int sl = 0; sl < 2; sl++)
            if (w->o.algorithms & ev_hash__slot_alg(sl))
                ev_buf__printf(&b, "%s  tagmanifest-%s.txt\n", w->tm_sha[sl],
                               ev_hash__slot_name(sl));
        s = b.data;
        *len = b.len;
        break;
    }
    }
    if (!s)
        return ev_err__set(err, EV_ENOMEM, "out of memory while writing %s", c->path);
    if (c->kind < 3 || c->kind >= 5) {
        int rc = register_tag(w, c->path, s, *len);
        if (rc) {
            free(s);
            return rc;
        }
        char sha[65];
        ev_hash__sha256_hex(sha, s, *len);
        if (c->kind == 0 && c->slot == EV_HASH_SHA256)
            w->manifest_sha256 = ev__strdup(sha);
        else if (c->kind == 1)
            w->record_sha256 = ev__strdup(sha);
        if (c->kind == 1 || c->kind == 2) {
            /* kept by the writer for the views (its producer does not free it) */
            free(c->kind == 1 ? w->record_txt : w->custody_txt);
            *(c->kind == 1 ? &w->record_txt : &w->custody_txt) = s;
            *(c->kind == 1 ? &w->record_len : &w->custody_len) = *len;
        }
    }
    *data = s;
    return EV_OK;
}

static int add_lazy(ev_writer *w, ev_sink *s, lazy_ctx *c)
{
    return add_tag_prod(w, s, c->path, NULL, 0, NULL, c);
}

/* The folder of an exhibit under data/, made once per exhibit in order of
 * first appearance: "JS/1" -> "JS_1". Exhibits whose safe names coincide
 * ("JS/1" and "JS_1", "a" and "A") get different folders ("JS_1",
 * "JS_1-2"), so that no folder ever holds files of two exhibits. */
static int exhibit_folder(ev_writer *w, const char *ref, const char **out)
{
    size_t i = w->last_exhibit;
    if (i >= w->nexhibits || strcmp(w->exhibits[i].ref, ref) != 0)
        for (i = 0; i < w->nexhibits && strcmp(w->exhibits[i].ref, ref) != 0; i++)
            ;
    if (i == w->nexhibits) {
        struct exhibit_slot *x = ev__grow(w->exhibits, &w->capexhibits, w->nexhibits,
                                          sizeof(*x), 8);
        if (!x)
            return EV_ENOMEM;
        w->exhibits = x;
        char *base = ev_bundle__exhibit_folder(ref);
        char *f = base ? ev__strdup(base) : NULL;
        for (int k = 2; f; k++) {
            char *key = ev_bag__fold_key(f);
            bool clash = false;
            int rc = key ? ev_strset__add(&w->folder_keys, key, &clash) : EV_ENOMEM;
            free(key);
            if (rc != EV_OK) {
                free(f);
                f = NULL;
                break;
            }
            if (!clash)
                break;
            free(f);
            f = ev__asprintf("%s-%d", base, k);
        }
        free(base);
        char *r = f ? ev__strdup(ref) : NULL;
        if (!r) {
            free(f);
            return EV_ENOMEM;
        }
        x[i].ref = r;
        x[i].folder = f;
        w->nexhibits++;
    }
    w->last_exhibit = i;
    *out = w->exhibits[i].folder;
    return EV_OK;
}

static int by_file_identity(const void *a, const void *b)
{
    const wr_item *x = *(const wr_item *const *)a, *y = *(const wr_item *const *)b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return x->arg < y->arg ? -1 : x->arg > y->arg;
}

/* A file named by two arguments (given twice, or once alone and once inside
 * a folder) would be packed twice, perhaps under two exhibits: refuse, and
 * name both. Hard links met inside one folder are distinct names and are
 * kept. O(n log n). */
static int refuse_duplicates(ev_writer *w)
{
    if (w->n < 2)
        return EV_OK;
    const wr_item **v = ev__reallocarray(NULL, w->n, sizeof(*v));
    if (!v)
        return EV_ENOMEM;
    for (size_t i = 0; i < w->n; i++)
        v[i] = &w->items[i];
    qsort(v, w->n, sizeof(*v), by_file_identity);
    int rc = EV_OK;
    for (size_t i = 1; i < w->n && rc == EV_OK; i++) {
        const wr_item *a = v[i - 1], *b = v[i];
        if (a->dev != b->dev || a->ino != b->ino || a->arg == b->arg)
            continue;
        if (strcmp(a->exhibit, b->exhibit) != 0)
            rc = ev_err__set(&w->err, EV_EINVAL,
                             "'%s' is listed under two exhibits, '%s' and '%s' (also as '%s'): "
                             "name each file once, after the --exhibit it belongs to",
                             a->src, a->exhibit, b->exhibit, b->src);
        else
            rc = ev_err__set(&w->err, EV_EINVAL,
                             "'%s' is given twice for exhibit '%s' (also as '%s'): name each "
                             "file once", a->src, a->exhibit, b->src);
    }
    free(v);
    return rc;
}

/* Give every item a unique, safe bag path; record why a name changed. */
static int assign_paths(ev_writer *w, size_t from)
{
    ev_strset keys = w->keys;
    for (size_t i = from; i < w->n; i++) {
        wr_item *it = &w->items[i];
        snprintf(it->id, sizeof(it->id), "item-%04zu", i + 1);
        const char *folder = NULL;
        bool changed = false;
        int frc = exhibit_folder(w, it->exhibit, &folder);
        char *rel = frc == EV_OK ? safe_rel(it->rel, &changed) : NULL;
        if (!rel) {
            w->keys = keys;
            return EV_ENOMEM;
        }
        char *p = ev__asprintf("data/%s/%s", folder, rel);
        if (!p) {
            free(rel);
            w->keys = keys;
            return EV_ENOMEM;
        }
        /* unique, also ignoring case and Unicode normalization */
        for (int k = 2;; k++) {
            char *key = ev_bag__fold_key(p);
            bool clash = false;
            if (!key || ev_strset__add(&keys, key, &clash) != EV_OK) {
                free(key);
                free(rel);
                free(p);
                w->keys = keys;
                return EV_ENOMEM;
            }
            free(key);
            if (!clash)
                break;
            free(p);
            const char *dot = strrchr(rel, '.');
            const char *slash = strrchr(rel, '/');
            if (dot && (!slash || dot > slash) && dot != rel && dot[-1] != '/')
                p = ev__asprintf("data/%s/%.*s (%d)%s", folder, (int)(dot - rel), rel, k, dot);
            else
                p = ev__asprintf("data/%s/%s (%d)", folder, rel, k);
            if (!p) {
                free(rel);
                w->keys = keys;
                return EV_ENOMEM;
            }
            changed = true;
        }
        if (changed && !it->name_note)
            it->name_note = ev__strdup("the original name was unsafe or clashed with another "
                                       "item; original_path keeps it");
        it->bag_path = p;
        free(rel);
    }
    w->keys = keys;
    return EV_OK;
}

static void set_mime(wr_item *it, const char *m)
{
    char *d = ev__strdup(m);
    if (d) {
        free(it->mime);
        it->mime = d;
    }
}

static void detect_mime(magic_t mg, wr_item *it)
{
    set_mime(it, it->size == 0 ? "application/x-empty" : "application/octet-stream");
    if (it->size == 0 || !mg)
        return;
    int fd = open(it->src, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char head[16384];
    ssize_t n = read(fd, head, sizeof(head));
    close(fd);
    if (n <= 0)
        return;
    const char *m = magic_buffer(mg, head, (size_t)n);
    if (m && *m)
        set_mime(it, m);
}

/* Media analysis for items whose content type can be media. Never fails
 * because of bad media: the analyser records media.error instead. */
static bool wants_media(const char *m)
{
    return strncmp(m, "image/", 6) == 0 || strncmp(m, "video/", 6) == 0 ||
           strncmp(m, "audio/", 6) == 0 || strcmp(m, "application/octet-stream") == 0 ||
           strcmp(m, "application/ogg") == 0 || strstr(m, "matroska") || strstr(m, "mp4") ||
           strstr(m, "mpeg") || strstr(m, "riff");
}

static int analyze_item(ev_writer *w, wr_item *it)
{
    int fd = open(it->src, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ev_err__set(&w->err, ev_err__from_errno(errno),
                           "'%s' vanished while it was being packed: %s", it->src,
                           strerror(errno));
    ev_io io;
    uint64_t state[8];
    int rc = ev_media__io_from_fd(&io, fd, it->size, state);
    ev_errbuf e;
    e.msg[0] = '\0';
    /* with a thumbnail (meta/<id>/thumb.jpg) for index.html */
    ev_media__limits lim;
    ev_media__limits_default(&lim, it->size);
    if (rc == EV_OK)
        rc = ev_media__analyze_ex(&it->media, &it->capture, &it->content, &it->meta,
                                  &it->nmeta, &io, it->rel,
                                  /* pack does not decode unless asked: packet hashes
                                   * survive a remux and cost a read of the file */
                                  w->o.content_hash == EV_CONTENT_HASH_DEFAULT
                                      ? EV_CONTENT_HASH_PACKETS : w->o.content_hash,
                                  &lim, &e);
    close(fd);
    if (rc != EV_OK)
        return ev_err__set(&w->err, rc, "media analysis of '%s' failed: %s", it->src, e.msg);
    return EV_OK;
}

static void wlog(ev_writer *w, ev_log_level lv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void wlog(ev_writer *w, ev_log_level lv, const char *fmt, ...)
{
    if (!w->o.log_cb)
        return;
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    w->o.log_cb(lv, msg, w->o.log_payload);
}

/* Working copies: run every requested profile over every master it accepts,
 * into a temporary folder beside the output; each verified copy becomes a
 * derivative item. */
static int make_derivatives(ev_writer *w, const char *out_path, magic_t mg)
{
    size_t nmasters = w->n;
    char *parent = NULL;
    {
        const char *slash = strrchr(out_path, '/');
        parent = slash ? ev__strndup(out_path, (size_t)(slash - out_path + (slash == out_path))) : ev__strdup(".");
        const char *base = slash ? slash + 1 : out_path;
        w->derived_dir = parent ? ev__asprintf("%s/.%s.derived-XXXXXX", parent, base) : NULL;
        free(parent);
        if (!w->derived_dir)
            return EV_ENOMEM;
        if (!mkdtemp(w->derived_dir)) {
            int rc = ev_err__set(&w->err, EV_EIO, "cannot create a folder for working copies "
                                 "beside '%s': %s", out_path, strerror(errno));
            free(w->derived_dir);
            w->derived_dir = NULL;
            return rc;
        }
    }
    for (size_t pi = 0; pi < w->nprofiles; pi++) {
        const ev_profile *p = w->profiles[pi];
        if (p->kind == EV_KIND_COPY || !strcmp(p->name, "master"))
            continue; /* the master itself is already in the bundle */
        for (size_t i = 0; i < nmasters; i++) {
            wr_item *m = &w->items[i];
            if (!wants_media(mime_of(m)) || !m->media || json_object_get(m->media, "error"))
                continue;
            /* a photo gets no video working copy, and a clip no still */
            const char *kind = json_string_value(json_object_get(m->media, "kind"));
            bool is_image = kind && !strcmp(kind, "image");
            if ((p->kind == EV_KIND_AV && is_image) || (p->kind == EV_KIND_STILL && !is_image))
                continue;
            const char *ext = p->extension ? p->extension : "bin";
            char *out = ev__asprintf("%s/%s-%zu.%s", w->derived_dir, m->id, pi, ext);
            if (!out)
                return EV_ENOMEM;
            json_t *der = NULL;
            ev_errbuf e;
            e.msg[0] = '\0';
            ev_transcode__opts to;
            memset(&to, 0, sizeof(to));
            to.threads = w->o.threads;
            /* the copy is a scratch file: it is read back into the bundle,
             * whose own commit is what must be durable */
            to.flags = EV_TRANSCODE__NO_SYNC;
            int rc = ev_transcode__run(&der, p, m->src, out, &to, &e);
            if (rc == EV_EUNSUPPORTED) {
                wlog(w, EV_LOG_WARNING, "no '%s' copy of '%s': %s", p->name, m->src, e.msg);
                free(out);
                continue;
            }
            if (rc != EV_OK) {
                free(out);
                return ev_err__set(&w->err, rc, "working copy '%s' of '%s' failed: %s", p->name,
                                   m->src, e.msg);
            }
            const char *verdict = json_string_value(
                json_object_get(json_object_get(der, "verification"), "verdict"));
            struct stat st;
            if (!verdict || strcmp(verdict, "pass") != 0 || stat(out, &st) != 0) {
                json_decref(der);
                free(out);
                return ev_err__set(&w->err, EV_EFORMAT,
                                   "the '%s' copy of '%s' failed its verification (%s); nothing "
                                   "was written. 'evidence transcode --profile %s' shows the "
                                   "figures", p->name, m->src, verdict ? verdict : "no verdict",
                                   p->name);
            }
            /* derived/<profile>/<original path with the profile's extension> */
            const char *rel = m->rel;
            const char *slash = strrchr(rel, '/');
            const char *dot = strrchr(rel, '.');
            int stem = (int)(dot && (!slash || dot > slash + 1) ? dot - rel : (long)strlen(rel));
            char *drel = ev__asprintf("derived/%s/%.*s.%s", p->name, stem, rel, ext);
            if (!drel || add_item(w, out, drel, m->exhibit, &st) != EV_OK) {
                free(drel);
                free(out);
                json_decref(der);
                return EV_ENOMEM;
            }
            free(drel);
            free(out);
            m = &w->items[i]; /* add_item may move the array */
            wr_item *d = &w->items[w->n - 1];
            d->source = (long)i;
            d->profile = p;
            d->derivation = der;
        }
    }
    int rc = assign_paths(w, nmasters);
    for (size_t i = nmasters; rc == EV_OK && i < w->n; i++) {
        detect_mime(mg, &w->items[i]);
        if (!(w->o.flags & EV_WRITER_NO_MEDIA) && wants_media(mime_of(&w->items[i])))
            rc = analyze_item(w, &w->items[i]);
    }
    return rc;
}

static bool is_text_mime(const char *m)
{
    return strncmp(m, "text/", 5) == 0 || strcmp(m, "application/json") == 0 ||
           strcmp(m, "application/xml") == 0 || strcmp(m, "application/csv") == 0;
}

static void human_size(char *buf, size_t len, uint64_t b)
{
    const char *u[] = { "bytes", "KB", "MB", "GB", "TB", "PB" };
    double v = (double)b;
    int i = 0;
    while (v >= 1000.0 && i < 5) {
        v /= 1000.0;
        i++;
    }
    if (i == 0)
        snprintf(buf, len, "%llu bytes", (unsigned long long)b);
    else
        snprintf(buf, len, "%.1f %s", v, u[i]);
}

int ev_writer_seal(ev_writer *w, const char *out_path)
{
    if (!w || !out_path)
        return EV_EINVAL;
    int rc = EV_OK;
    ev_sink *sink = NULL;
    magic_t mg = NULL;
    lazy_ctx *lazy = NULL;
    ev_baginfo bi = { 0 };
    char *bi_txt = NULL;
    char *bag_name = NULL;

    if (w->ntags) {
        return ev_err__set(&w->err, EV_EINVAL, "this writer was already sealed; create a new one");
    }
    /* bag name: the output's file name without .zip */
    {
        const char *base = strrchr(out_path, '/');
        base = base ? base + 1 : out_path;
        size_t bl = strlen(base);
        if (w->o.format == EV_FORMAT_ZIP && bl > 4 && strcasecmp(base + bl - 4, ".zip") == 0)
            bl -= 4;
        bag_name = ev__strndup(base, bl);
        if (!bag_name)
            return EV_ENOMEM;
        bool ch = false;
        char *safe = safe_component(bag_name, &ch);
        if (!safe || ch || !*bag_name) {
            free(safe);
            free(bag_name);
            return ev_err__set(&w->err, EV_EINVAL,
                               "'%s': the output name must be a plain, printable UTF-8 file "
                               "name", out_path);
        }
        free(safe);
    }
    if (ev__uuid_urn(w->bundle_id, sizeof(w->bundle_id)) != 0) {
        rc = ev_err__set(&w->err, EV_ERROR, "no random numbers for the bundle id");
        goto done;
    }
    ev__time_rfc3339(w->created, sizeof(w->created), (int64_t)time(NULL));
    if ((rc = refuse_duplicates(w)) != EV_OK || (rc = assign_paths(w, 0)) != EV_OK)
        goto done;

    mg = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    if (mg && magic_load(mg, NULL) != 0) {
        magic_close(mg);
        mg = NULL;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < w->n; i++) {
        detect_mime(mg, &w->items[i]);
        total += w->items[i].size;
    }
    if (!(w->o.flags & EV_WRITER_NO_MEDIA)) {
        ev_progress_state ap;
        ev_progress__init(&ap, w->o.progress_cb, w->o.progress_payload, "analysing media", 0, w->n);
        for (size_t i = 0; i < w->n; i++) {
            if (!wants_media(mime_of(&w->items[i])))
                continue;
            if ((rc = analyze_item(w, &w->items[i])) != EV_OK)
                goto done;
            if (ev_progress__add(&ap, 0, 1, w->items[i].src, false) != EV_OK) {
                rc = ev_err__set(&w->err, EV_ECANCELED, "canceled by callback");
                goto done;
            }
        }
    }
    if (w->nprofiles && (rc = make_derivatives(w, out_path, mg)) != EV_OK)
        goto done;
    total = 0;
    for (size_t i = 0; i < w->n; i++)
        total += w->items[i].size;
    ev_progress__init(&w->progress, w->o.progress_cb, w->o.progress_payload, "packing", total,
                      w->n);

    rc = ev_sink__open(&sink, out_path, w->o.format, bag_name, &w->err);
    if (rc != EV_OK)
        goto done;

    /* bagit.txt and bag-info.txt first, so streaming readers see them early */
    if ((rc = add_tag_buffer(w, sink, "bagit.txt", EV_BAGIT_TXT, strlen(EV_BAGIT_TXT))))
        goto done;
    {
        char date[16], oxum[64], size[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof(date), "%Y-%m-%d", &tm);
        snprintf(oxum, sizeof(oxum), "%llu.%zu", (unsigned long long)total, w->n);
        human_size(size, sizeof(size), total);
        char agent[64];
        snprintf(agent, sizeof(agent), "evidence %s (libevidence)", EV_VERSION_STRING);
        if (w->o.organisation)
            ev_bag__baginfo_add(&bi, "Source-Organization", w->o.organisation);
        if (w->o.officer)
            ev_bag__baginfo_add(&bi, "Contact-Name", w->o.officer);
        if (w->o.case_ref)
            ev_bag__baginfo_add(&bi, "External-Identifier", w->o.case_ref);
        if (w->o.description)
            ev_bag__baginfo_add(&bi, "External-Description", w->o.description);
        ev_bag__baginfo_add(&bi, "Bagging-Date", date);
        ev_bag__baginfo_add(&bi, "Bag-Size", size);
        ev_bag__baginfo_add(&bi, "Payload-Oxum", oxum);
        ev_bag__baginfo_add(&bi, "Bag-Software-Agent", agent);
        ev_bag__baginfo_add(&bi, "Evidence-Bundle-Id", w->bundle_id);
        ev_bag__baginfo_add(&bi, "Evidence-Format-Version", "1");
        if (w->o.case_ref)
            ev_bag__baginfo_add(&bi, "Evidence-Case-Reference", w->o.case_ref);
        if (w->o.operation)
            ev_bag__baginfo_add(&bi, "Evidence-Operation", w->o.operation);
        if (w->o.officer_id)
            ev_bag__baginfo_add(&bi, "Evidence-Officer-Identifier", w->o.officer_id);
        /* exhibits, in order of first appearance */
        for (size_t i = 0; i < w->nexhibits; i++)
            ev_bag__baginfo_add(&bi, "Evidence-Exhibit", w->exhibits[i].ref);
        ev_bag__baginfo_add(&bi, "Evidence-Record", "evidence.json");
        ev_bag__baginfo_add(&bi, "Evidence-Custody-Log", "custody.jsonl");
        bi_txt = ev_bag__baginfo_format(&bi);
        if (!bi_txt) {
            rc = EV_ENOMEM;
            goto done;
        }
        if ((rc = add_tag_buffer(w, sink, "bag-info.txt", bi_txt, strlen(bi_txt))))
            goto done;
    }
    if ((rc = ev_sink__add_dir(sink, "data", &w->err)))
        goto done;
    for (size_t i = 0; i < w->n; i++) {
        wr_item *it = &w->items[i];
        ev_producer p;
        rc = ev_producer__file(&p, it->src, it->size, w->o.algorithms, &it->res, &w->progress);
        if (rc == EV_OK)
            rc = ev_sink__add(sink, it->bag_path, &p, is_text_mime(mime_of(it)),
                              (int64_t)it->mtime.tv_sec, &w->err);
        if (rc != EV_OK)
            goto done;
    }
    /* per-item extras from the media analysis, and derivation records */
    for (size_t i = 0; i < w->n; i++) {
        wr_item *it = &w->items[i];
        if (it->derivation) {
            size_t dl = 0;
            char *dj = ev_record__dump(it->derivation, &dl);
            char *p = ev__asprintf("meta/%s/derivation.json", it->id);
            rc = (dj && p) ? add_tag_prod(w, sink, p, dj, dl, NULL, NULL) : EV_ENOMEM;
            if (!p)
                free(dj);
            free(p);
            if (rc)
                goto done;
        }
        /* handed over: each is freed once it has been written */
        for (size_t k = 0; k < it->nmeta; k++) {
            char *p = ev__asprintf("meta/%s/%s", it->id, it->meta[k].name);
            if (!p) {
                rc = EV_ENOMEM;
                goto done;
            }
            rc = add_tag_prod(w, sink, p, (char *)it->meta[k].data, it->meta[k].len,
                              &it->meta[k].data, NULL);
            free(p);
            if (rc)
                goto done;
        }
    }
    /* lazy tag files, computed after the payload has been written */
    lazy = calloc(2 * EV_HASH_COUNT + 6, sizeof(*lazy));
    if (!lazy) {
        rc = EV_ENOMEM;
        goto done;
    }
    size_t nl = 0;
    static const char *const mnames[EV_HASH_COUNT] = { "manifest-sha256.txt",
                                                       "manifest-sha512.txt", NULL, NULL };
    static const char *const tnames[EV_HASH_COUNT] = { "tagmanifest-sha256.txt",
                                                       "tagmanifest-sha512.txt", NULL, NULL };
    for (int sl = 0; sl < 2; sl++) {
        if (!(w->o.algorithms & ev_hash__slot_alg(sl)))
            continue;
        lazy[nl] = (lazy_ctx){ w, 0, sl, mnames[sl] };
        if ((rc = add_lazy(w, sink, &lazy[nl++])))
            goto done;
    }
    lazy[nl] = (lazy_ctx){ w, 1, 0, "evidence.json" };
    if ((rc = add_lazy(w, sink, &lazy[nl++])))
        goto done;
    lazy[nl] = (lazy_ctx){ w, 2, 0, "custody.jsonl" };
    if ((rc = add_lazy(w, sink, &lazy[nl++])))
        goto done;
    /* the two views of the record (docs/views.md) */
    lazy[nl] = (lazy_ctx){ w, 5, 0, EV_VIEW_CASE };
    if ((rc = add_lazy(w, sink, &lazy[nl++])))
        goto done;
    lazy[nl] = (lazy_ctx){ w, 6, 0, EV_VIEW_INDEX };
    if ((rc = add_lazy(w, sink, &lazy[nl++])))
        goto done;
    for (int sl = 0; sl < 2; sl++) {
        if (!(w->o.algorithms & ev_hash__slot_alg(sl)))
            continue;
        lazy[nl] = (lazy_ctx){ w, 3, sl, tnames[sl] };
        if ((rc = add_lazy(w, sink, &lazy[nl++])))
            goto done;
    }
    /* the seal: SHA-256 of each tag manifest (docs/bundle.md) */
    lazy[nl] = (lazy_ctx){ w, 4, 0, "tagseal-sha256.txt" };
    if ((rc = add_lazy(w, sink, &lazy[nl++])))
        goto done;
    rc = ev_sink__commit(sink, &w->err);
    if (rc == EV_OK)
        ev_progress__add(&w->progress, 0, 0, NULL, true);
done:
    ev_sink__free(sink);
    tag_prods_free(w);
    free(lazy);
    if (mg)
        magic_close(mg);
    ev_bag__baginfo_free(&bi);
    free(bi_txt);
    free(bag_name);
    if (rc == EV_ENOMEM && !w->err.msg[0])
        ev_err__set(&w->err, rc, "out of memory");
    return rc;
}
