/*
 * bundle (writer): ev_writer_* up to the seal. Files and folders are added
 * as items with safe bag paths under their exhibit's folder; at the seal
 * their MIME types are detected, media is analysed and the working copies
 * of the profiles are made (seal.c then writes the bag).
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <magic.h>
#include <pthread.h>
#include <stdatomic.h>

#include "bag/bag.h"
#include "bundle/bundle_int.h"
#include "bundle/write_int.h"
#include "container/container.h"
#include "base/hash.h"
#include "base/internal.h"
#include "base/spill.h"
#include "media/media.h"
#include "profile/profile.h"
#include "record/record.h"
#include "transcode/transcode.h"
#include "views/views.h"

static char *opt_dup(const char *s) { return s ? ev__strdup(s) : NULL; }

const char *ev_bundle__mime_of(const wr_item *it)
{
    return it->mime ? it->mime : "application/octet-stream";
}

void ev_bundle__item_id(char *out, size_t index)
{
    snprintf(out, EV_BUNDLE_ITEM_ID_MAX, "item-%04zu", index + 1);
}

wr_extra *ev_bundle__extra(wr_item *it)
{
    if (!it->x && (it->x = calloc(1, sizeof(*it->x))) != NULL)
        it->x->source = -1;
    return it->x;
}

static void extra_free(wr_extra *x)
{
    if (!x)
        return;
    json_decref(x->media);
    json_decref(x->capture);
    json_decref(x->content);
    ev_media__files_free(x->meta, x->nmeta);
    free(x->leaf_sha256);
    json_decref(x->derivation);
    free(x);
}

/* ev_writer_options before officer_person (version 1) */
#define WRITER_OPTIONS_V1_SIZE offsetof(ev_writer_options, officer_person)

int ev_writer_options_init(ev_writer_options *opts, unsigned int version)
{
    return ev__options_init(opts,
                            version == EV_WRITER_OPTIONS_VERSION ? sizeof(*opts)
                            : version == 1                       ? WRITER_OPTIONS_V1_SIZE
                                                                 : 0,
                            version);
}

int ev_writer_new(ev_writer **out, const ev_writer_options *opts)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    ev_writer_options def = EV_WRITER_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    if (opts->version != EV_WRITER_OPTIONS_VERSION && opts->version != 1)
        return EV_EVERSION;
    if (opts->format != EV_FORMAT_ZIP && opts->format != EV_FORMAT_DIR)
        return EV_EINVAL;
    uint32_t algs = opts->algorithms ? opts->algorithms : EV_ALG_SHA256;
    if (algs & ~(EV_ALG_SHA256 | EV_ALG_SHA512))
        return EV_EINVAL;
    ev_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return EV_ENOMEM;
    if (pthread_mutex_init(&w->mimes_mu, NULL) != 0) {
        free(w);
        return EV_ENOMEM;
    }
    memcpy(&w->o, opts, opts->version == 1 ? WRITER_OPTIONS_V1_SIZE : sizeof(*opts));
    w->o.version = EV_WRITER_OPTIONS_VERSION;
    /* SHA-256 is always written: the record and custody log refer to it. */
    w->o.algorithms = algs | EV_ALG_SHA256;
    w->o.case_ref = opt_dup(opts->case_ref);
    w->o.organisation = opt_dup(opts->organisation);
    w->o.officer = opt_dup(opts->officer);
    w->o.officer_id = opt_dup(opts->officer_id);
    w->o.operation = opt_dup(opts->operation);
    w->o.description = opt_dup(opts->description);
    w->o.source_system = opt_dup(opts->source_system);
    w->o.officer_person = opts->version == 1 ? NULL : opt_dup(opts->officer_person);
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
        free(w->items[i].src); /* and rel, in the same block */
        free(w->items[i].bag_path);
        extra_free(w->items[i].x);
        free(w->items[i].sha512);
    }
    free(w->items);
    for (size_t i = 0; i < w->nexrefs; i++)
        free(w->exrefs[i]);
    free(w->exrefs);
    for (size_t i = 0; i < w->nmimes; i++)
        free(w->mimes[i]);
    free(w->mimes);
    pthread_mutex_destroy(&w->mimes_mu);
    ev_strset__free(&w->keys);
    for (size_t i = 0; i < w->nexhibits; i++) {
        free(w->exhibits[i].ref);
        free(w->exhibits[i].folder);
    }
    free(w->exhibits);
    ev_strset__free(&w->folder_keys);
    json_decref(w->schedule);
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
    free((char *)w->o.officer_person);
    free(w->officer_person_id);
    free(w->manifest_sha256);
    free(w->record_sha256);
    if (w->record)
        ev_spill__free(w->record);
    free(w->record);
    free(w->spill_dir);
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
char *ev_bundle__safe_component(const char *c, bool *changed)
{
    ev_buf b = { 0 };
    size_t len = strlen(c);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)c[i];
        size_t n = ev__utf8_char_len(c + i, len - i);
        if (n > 1) {
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
        char *s = comp ? ev_bundle__safe_component(comp, changed) : NULL;
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

/* The writer's copy of an exhibit reference, made once per exhibit: items
 * point to it. The last one found is tried first (the items of one
 * argument share it). */
static const char *intern_exhibit(ev_writer *w, const char *ref)
{
    size_t i = w->last_exref;
    if (i >= w->nexrefs || strcmp(w->exrefs[i], ref) != 0)
        for (i = 0; i < w->nexrefs && strcmp(w->exrefs[i], ref) != 0; i++)
            ;
    if (i == w->nexrefs) {
        char **x = ev__grow(w->exrefs, &w->capexrefs, w->nexrefs, sizeof(*x), 8);
        if (!x)
            return NULL;
        w->exrefs = x;
        if (!(x[i] = ev__strdup(ref)))
            return NULL;
        w->nexrefs++;
    }
    w->last_exref = i;
    return w->exrefs[i];
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
    const char *ex = intern_exhibit(w, exhibit);
    /* src and rel in one block */
    size_t ls = strlen(src), lr = strlen(rel);
    char *block = ex ? malloc(ls + lr + 2) : NULL;
    if (!block)
        return EV_ENOMEM;
    memcpy(block, src, ls + 1);
    memcpy(block + ls + 1, rel, lr + 1);
    wr_item *it = &w->items[w->n];
    memset(it, 0, sizeof(*it));
    it->src = block;
    it->exhibit = ex;
    it->size = (uint64_t)st->st_size;
    it->mtime_sec = (int64_t)st->st_mtim.tv_sec;
    it->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
    it->dev = st->st_dev;
    it->ino = st->st_ino;
    it->arg = w->nargs;
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
            /* a folder of a million files takes a while: shown, and
             * stopped by a cancel (SIGTERM in the CLI) */
            if (rc == EV_OK && ev_progress__add(w->walking, 0, 1, p, false) != EV_OK)
                rc = ev_err__set(&w->err, EV_ECANCELED, "canceled by callback");
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
    if (S_ISDIR(st.st_mode)) {
        ev_progress_state wp;
        ev_progress__init(&wp, w->o.progress_cb, w->o.progress_payload, "finding files", 0, 0);
        w->walking = &wp;
        rc = walk(w, path, base, exhibit, 0);
        if (rc == EV_OK && ev_progress__add(&wp, 0, 0, NULL, true) != EV_OK)
            rc = ev_err__set(&w->err, EV_ECANCELED, "canceled by callback");
        w->walking = NULL;
        pthread_mutex_destroy(&wp.mu);
    } else if (S_ISREG(st.st_mode))
        rc = add_item(w, path, base, exhibit, &st);
    else
        rc = ev_err__set(&w->err, EV_EUNSUPPORTED, "'%s' is not a regular file or folder (a "
                         "device, pipe or socket cannot be packed)", path);
    free(tmp);
    return rc;
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
int ev_bundle__refuse_duplicates(ev_writer *w)
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
int ev_bundle__assign_paths(ev_writer *w, size_t from)
{
    ev_strset keys = w->keys;
    for (size_t i = from; i < w->n; i++) {
        wr_item *it = &w->items[i];
        const char *folder = NULL;
        bool changed = false;
        int frc = exhibit_folder(w, it->exhibit, &folder);
        char *rel = frc == EV_OK ? safe_rel(ev_bundle__rel(it), &changed) : NULL;
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
        if (changed)
            it->renamed = true;
        it->bag_path = p;
        free(rel);
    }
    w->keys = keys;
    return EV_OK;
}

/* The writer's copy of a content type: a bundle has few distinct ones, so
 * the items point to one copy each. Called by the type-finding threads. */
static const char *intern_mime(ev_writer *w, const char *m)
{
    const char *found = NULL;
    pthread_mutex_lock(&w->mimes_mu);
    for (size_t i = 0; i < w->nmimes && !found; i++)
        if (strcmp(w->mimes[i], m) == 0)
            found = w->mimes[i];
    if (!found) {
        char **x = ev__grow(w->mimes, &w->capmimes, w->nmimes, sizeof(*x), 16);
        char *d = x ? ev__strdup(m) : NULL;
        if (x)
            w->mimes = x;
        if (d) {
            x[w->nmimes++] = d;
            found = d;
        }
    }
    pthread_mutex_unlock(&w->mimes_mu);
    return found;
}

static void set_mime(ev_writer *w, wr_item *it, const char *m)
{
    const char *d = intern_mime(w, m);
    if (d)
        it->mime = d;
}

void ev_bundle__detect_mime(ev_writer *w, magic_t mg, wr_item *it, bool probe_check)
{
    set_mime(w, it, it->size == 0 ? "application/x-empty" : "application/octet-stream");
    it->no_probe = false;
    if (it->size == 0 || !mg)
        return;
    int fd = open(it->src, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char head[EV_MEDIA__PROBE_HEAD];
    ssize_t n = read(fd, head, sizeof(head));
    close(fd);
    if (n <= 0)
        return;
    const char *m = magic_buffer(mg, head, (size_t)n);
    if (m && *m)
        set_mime(w, it, m);
    /* libmagic does not know raw streams (H.264, DAV, ...): an octet-stream
     * file is probed when FFmpeg could read it by its head or its name */
    if (probe_check && !strcmp(ev_bundle__mime_of(it), "application/octet-stream"))
        it->no_probe = !ev_media__worth_probing(head, (size_t)n, ev_bundle__rel(it));
}

/* Content types of items [from, to): libmagic walks its whole database for
 * a file it does not recognise (about 0.5 ms of CPU for 100 random bytes),
 * so the items are shared among threads, one libmagic handle each (a handle
 * is not thread-safe; separate handles are). mg, the caller's handle, is
 * used by the calling thread, which always takes part; a thread whose own
 * handle cannot be loaded leaves its share to the others. Without mg every
 * item gets the default type, as before. */
#define MIME_MAX_THREADS 8
#define MIME_MIN_PER_THREAD 64

typedef struct mime_job {
    ev_writer *w;
    atomic_size_t next;
    size_t end;
    bool probe_check;
    ev_progress_state progress; /* "typing content": counted by every thread */
    atomic_bool stop;           /* the caller's callback asked to stop */
} mime_job;

static void mime_share(mime_job *j, magic_t mg)
{
    while (!atomic_load(&j->stop)) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->end)
            break;
        ev_bundle__detect_mime(j->w, mg, &j->w->items[i], j->probe_check);
        /* a worker's count is shown by the calling thread's next report;
         * a cancellation (SIGTERM in the CLI) stops every thread within
         * one file each */
        if (ev_progress__add(&j->progress, 0, 1, j->w->items[i].src, false) != EV_OK)
            atomic_store(&j->stop, true);
    }
}

static void *mime_thread(void *arg)
{
    mime_job *j = arg;
    magic_t mg = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    if (mg && magic_load(mg, NULL) == 0)
        mime_share(j, mg);
    if (mg)
        magic_close(mg);
    return NULL;
}

int ev_bundle__detect_mimes(ev_writer *w, magic_t mg, size_t from, size_t to)
{
    bool probe_check = !(w->o.flags & EV_WRITER_NO_MEDIA);
    if (!mg || to <= from) {
        for (size_t i = from; i < to; i++)
            ev_bundle__detect_mime(w, mg, &w->items[i], probe_check);
        return EV_OK;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t want = cpus > 1 ? (size_t)cpus : 1;
    if (w->o.threads && w->o.threads < want)
        want = w->o.threads;
    if (want > MIME_MAX_THREADS)
        want = MIME_MAX_THREADS;
    if (want > (to - from) / MIME_MIN_PER_THREAD)
        want = (to - from) / MIME_MIN_PER_THREAD;
    mime_job j;
    j.w = w;
    atomic_init(&j.next, from);
    j.end = to;
    j.probe_check = probe_check;
    atomic_init(&j.stop, false);
    ev_progress__init(&j.progress, w->o.progress_cb, w->o.progress_payload, "typing content", 0,
                      to - from);
    pthread_t th[MIME_MAX_THREADS];
    size_t started = 0;
    for (size_t k = 1; k < want; k++) {
        if (pthread_create(&th[started], NULL, mime_thread, &j) != 0)
            break;
        started++;
    }
    mime_share(&j, mg);
    for (size_t k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    bool canceled = atomic_load(&j.stop);
    if (!canceled)
        canceled = ev_progress__add(&j.progress, 0, 0, NULL, true) != EV_OK;
    pthread_mutex_destroy(&j.progress.mu);
    if (canceled)
        return ev_err__set(&w->err, EV_ECANCELED, "canceled by callback");
    return EV_OK;
}

/* Media analysis for items whose content type can be media. Never fails
 * because of bad media: the analyser records media.error instead. */
bool ev_bundle__wants_media(const char *m)
{
    return strncmp(m, "image/", 6) == 0 || strncmp(m, "video/", 6) == 0 ||
           strncmp(m, "audio/", 6) == 0 || strcmp(m, "application/octet-stream") == 0 ||
           strcmp(m, "application/ogg") == 0 || strstr(m, "matroska") || strstr(m, "mp4") ||
           strstr(m, "mpeg") || strstr(m, "riff");
}

bool ev_bundle__probes(const wr_item *it)
{
    return ev_bundle__wants_media(ev_bundle__mime_of(it)) && !it->no_probe;
}

int ev_bundle__analyze_item(ev_writer *w, wr_item *it)
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
    wr_extra *x = NULL;
    if (rc == EV_OK && !(x = ev_bundle__extra(it)))
        rc = EV_ENOMEM;
    if (rc == EV_OK)
        rc = ev_media__analyze_ex(&x->media, &x->capture, &x->content, &x->meta,
                                  &x->nmeta, &io, ev_bundle__rel(it),
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
int ev_bundle__make_derivatives(ev_writer *w, const char *out_path, magic_t mg)
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
            const json_t *mmedia = m->x ? m->x->media : NULL;
            if (!ev_bundle__wants_media(ev_bundle__mime_of(m)) || !mmedia || json_object_get(mmedia, "error"))
                continue;
            /* a photo gets no video working copy, and a clip no still */
            const char *kind = json_string_value(json_object_get(mmedia, "kind"));
            bool is_image = kind && !strcmp(kind, "image");
            if ((p->kind == EV_KIND_AV && is_image) || (p->kind == EV_KIND_STILL && !is_image))
                continue;
            const char *ext = p->extension ? p->extension : "bin";
            char mid[EV_BUNDLE_ITEM_ID_MAX];
            ev_bundle__item_id(mid, i);
            char *out = ev__asprintf("%s/%s-%zu.%s", w->derived_dir, mid, pi, ext);
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
            const char *rel = ev_bundle__rel(m);
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
            wr_extra *dx = ev_bundle__extra(d);
            if (!dx) {
                json_decref(der);
                return EV_ENOMEM;
            }
            dx->source = (long)i;
            dx->profile = p;
            dx->derivation = der;
        }
    }
    int rc = ev_bundle__assign_paths(w, nmasters);
    if (rc == EV_OK)
        rc = ev_bundle__detect_mimes(w, mg, nmasters, w->n);
    for (size_t i = nmasters; rc == EV_OK && i < w->n; i++) {
        if (!(w->o.flags & EV_WRITER_NO_MEDIA) && ev_bundle__probes(&w->items[i]))
            rc = ev_bundle__analyze_item(w, &w->items[i]);
    }
    return rc;
}
