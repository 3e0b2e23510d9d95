/*
 * store: a bag stored as a ZIP or as a folder, read through one API
 * (container/container.h). Opening checks every entry name as hostile:
 * absolute paths, "..", backslashes, control characters, symlinks,
 * duplicates and case/normalization collisions; sizes are claims, capped and
 * checked while reading. The ZIP-specific parts are in zip_read.c, the
 * folder's in folder_read.c.
 */
#include "container/container_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bag/bag.h"

static void cursor_destroy(ev_store_cursor *c);

/* Keys used to find entries that collide: exact, NFC, and case-folded NFC.
 * A key either borrows the entry's name (owned false) or is its own copy. */
typedef struct name_key {
    char *key;
    size_t idx;
    bool owned;
} name_key;

static int key_cmp(const void *a, const void *b)
{
    const name_key *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* The key of a name in a pass. An ASCII name is its own NFC form, and its
 * case fold (Unicode full case folding) is its ASCII lower case: computed
 * here without libunistring, which costs far more per name. Other names
 * go through ev_bag__nfc and ev_bag__fold_key as before. */
static int make_key(name_key *k, const char *name, int pass, bool ascii)
{
    k->owned = true;
    if (pass == 0 || (pass == 1 && ascii)) {
        k->key = (char *)name;
        k->owned = false;
        return EV_OK;
    }
    if (ascii) {
        size_t n = strlen(name);
        k->key = malloc(n + 1);
        if (!k->key)
            return EV_ENOMEM;
        for (size_t i = 0; i <= n; i++) {
            char ch = name[i];
            k->key[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
        }
        return EV_OK;
    }
    k->key = pass == 1 ? ev_bag__nfc(name) : ev_bag__fold_key(name);
    if (!k->key)
        k->key = ev__strdup(name);
    return k->key ? EV_OK : EV_ENOMEM;
}

static int check_collisions(ev_store *s, ev_report *r)
{
    name_key *k = ev__reallocarray(NULL, s->n ? s->n : 1, sizeof(*k));
    bool *ascii = calloc(s->n ? s->n : 1, sizeof(*ascii));
    if (!k || !ascii) {
        free(k);
        free(ascii);
        return EV_ENOMEM;
    }
    bool all_ascii = true;
    for (size_t i = 0; i < s->n; i++) {
        ascii[i] = is_ascii(s->e[i].name);
        all_ascii = all_ascii && ascii[i];
    }
    static const char *const codes[3] = { "duplicate-entry", "normalization-collision",
                                          "case-collision" };
    int rc = EV_OK;
    for (int pass = 0; pass < 3 && rc == EV_OK; pass++) {
        /* ASCII names are their own NFC: with no other name, that pass
         * would only find again what the exact pass found */
        if (pass == 1 && all_ascii)
            continue;
        size_t m = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (s->e[i].unsafe)
                continue;
            rc = make_key(&k[m], s->e[i].name, pass, ascii[i]);
            if (rc != EV_OK)
                break;
            k[m].idx = i;
            m++;
        }
        qsort(k, m, sizeof(*k), key_cmp);
        for (size_t i = 1; i < m && rc == EV_OK; i++) {
            if (strcmp(k[i].key, k[i - 1].key) != 0)
                continue;
            ev_store_entry *a = &s->e[k[i - 1].idx], *b = &s->e[k[i].idx];
            if (a->unsafe || b->unsafe)
                continue;
            if (pass > 0 && strcmp(a->name, b->name) == 0)
                continue;
            b->unsafe = true;
            char msg[600];
            if (pass == 0)
                snprintf(msg, sizeof(msg), "appears more than once in the bundle");
            else if (pass == 1)
                snprintf(msg, sizeof(msg),
                         "differs from '%s' only in Unicode normalization (NFC/NFD)", a->name);
            else
                snprintf(msg, sizeof(msg), "differs from '%s' only in letter case", a->name);
            rc = ev_report__add(r, EV_SEVERITY_ERROR, codes[pass], b->name,
                                "'%s' %s; refused, since extracting it could overwrite "
                                "another file. Rename one of them and re-pack.", b->name, msg);
        }
        for (size_t i = 0; i < m; i++)
            if (k[i].owned)
                free(k[i].key);
    }
    free(k);
    free(ascii);
    return rc;
}

/* Lookups by name (ev_store__find) through a hash table instead of a scan,
 * so that verify's per-item lookups stay linear in the number of entries.
 * Open addressing with linear probing; every entry is in it, in entry
 * order, so that the first entry of a name met along its chain is the first
 * in the store. Without memory for it, find scans as before. */
static size_t name_hash(const char *p)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ULL;
    }
    return (size_t)(h ^ (h >> 32));
}

static void build_index(ev_store *s)
{
    size_t cap = 16;
    while (cap < 2 * s->n && cap < SIZE_MAX / 4)
        cap *= 2;
    size_t *t = calloc(cap, sizeof(*t));
    if (!t)
        return;
    for (size_t i = 0; i < s->n; i++) {
        size_t h = name_hash(s->e[i].name) & (cap - 1);
        while (t[h])
            h = (h + 1) & (cap - 1);
        t[h] = i + 1;
    }
    s->index = t;
    s->index_mask = cap - 1;
}

int ev_store__open(ev_store **out, const char *path, const ev_store_limits *lim, ev_report *r,
                   ev_errbuf *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return ev_err__set(err, ev_err__from_errno(errno), "'%s': %s", path, strerror(errno));
    ev_store *s = calloc(1, sizeof(*s));
    if (!s)
        return EV_ENOMEM;
    s->path = ev__strdup(path);
    if (!s->path) {
        free(s);
        return EV_ENOMEM;
    }
    int rc;
    if (S_ISDIR(st.st_mode)) {
        rc = ev_store__dir_open(s, lim, r, err);
    } else if (S_ISREG(st.st_mode)) {
        s->is_zip = true;
        rc = ev_store__zip_open(s, lim, r, err);
    } else {
        rc = ev_err__set(err, EV_EUNSUPPORTED, "'%s' is neither a ZIP file nor a folder", path);
    }
    if (rc == EV_OK)
        rc = check_collisions(s, r);
    if (rc == EV_OK)
        build_index(s);
    if (rc == EV_OK && s->is_zip) {
        s->pool = calloc(1, sizeof(*s->pool));
        if (s->pool)
            pthread_mutex_init(&s->pool->mu, NULL); /* without a pool cursors are not reused */
    }
    if (rc != EV_OK) {
        ev_store__free(s);
        return rc;
    }
    *out = s;
    return EV_OK;
}

void ev_store__free(ev_store *s)
{
    if (!s)
        return;
    if (s->pool) {
        for (size_t i = 0; i < s->pool->n; i++)
            cursor_destroy(s->pool->c[i]);
        pthread_mutex_destroy(&s->pool->mu);
        free(s->pool);
    }
    for (size_t i = 0; i < s->n; i++)
        free(s->e[i].name);
    free(s->e);
    free(s->index);
    free(s->path);
    free(s->bag_name);
    free(s->raw);
    free(s);
}

bool ev_store__is_zip(const ev_store *s) { return s->is_zip; }
const char *ev_store__bag_name(const ev_store *s) { return s->bag_name; }
const char *ev_store__path(const ev_store *s) { return s->path; }
size_t ev_store__count(const ev_store *s) { return s->n; }

const ev_store_entry *ev_store__entry(const ev_store *s, size_t i)
{
    return i < s->n ? &s->e[i] : NULL;
}

long ev_store__find(const ev_store *s, const char *name)
{
    if (s->index) {
        for (size_t h = name_hash(name) & s->index_mask; s->index[h];
             h = (h + 1) & s->index_mask) {
            const ev_store_entry *e = &s->e[s->index[h] - 1];
            if (!e->unsafe && strcmp(e->name, name) == 0)
                return (long)(s->index[h] - 1);
        }
        return -1;
    }
    for (size_t i = 0; i < s->n; i++)
        if (!s->e[i].unsafe && strcmp(s->e[i].name, name) == 0)
            return (long)i;
    return -1;
}

int ev_store__cursor_new(ev_store_cursor **out, const ev_store *s, ev_errbuf *err)
{
    (void)err;
    *out = NULL;
    if (s->pool) {
        pthread_mutex_lock(&s->pool->mu);
        ev_store_cursor *c = s->pool->n ? s->pool->c[--s->pool->n] : NULL;
        pthread_mutex_unlock(&s->pool->mu);
        if (c) {
            *out = c;
            return EV_OK;
        }
    }
    ev_store_cursor *c = calloc(1, sizeof(*c));
    if (!c)
        return EV_ENOMEM;
    c->s = s;
    c->fd = -1;
    *out = c;
    return EV_OK;
}

static void cursor_destroy(ev_store_cursor *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

void ev_store__cursor_free(ev_store_cursor *c)
{
    if (!c)
        return;
    struct cursor_pool *pool = c->s->pool;
    if (pool) {
        pthread_mutex_lock(&pool->mu);
        bool kept = pool->n < CURSOR_POOL_MAX;
        if (kept)
            pool->c[pool->n++] = c;
        pthread_mutex_unlock(&pool->mu);
        if (kept)
            return;
    }
    cursor_destroy(c);
}

int ev_store__entry_open(ev_entry_reader **out, ev_store_cursor *c, size_t i, ev_errbuf *err)
{
    *out = NULL;
    const ev_store *s = c->s;
    if (i >= s->n || s->e[i].unsafe || s->e[i].type != EV_ENTRY_FILE)
        return ev_err__set(err, EV_EINVAL, "entry %zu cannot be opened", i);
    const ev_store_entry *e = &s->e[i];
    ev_entry_reader *er = calloc(1, sizeof(*er));
    if (!er)
        return EV_ENOMEM;
    er->entry = e;
    er->claimed = e->size;
    er->fd = -1;
    er->zfd = -1;
    int rc = s->is_zip ? ev_store__zip_entry_open(er, c, err)
                       : ev_store__dir_entry_open(er, s, err);
    if (rc != EV_OK) {
        free(er);
        return rc;
    }
    *out = er;
    return EV_OK;
}

int64_t ev_store__entry_read(ev_entry_reader *er, void *buf, size_t len, ev_errbuf *err)
{
    int64_t n;
    if (er->inflating) {
        n = ev_store__zip_inflate_read(er, buf, len, err);
        if (n < 0)
            return n;
    } else if (er->zip) {
        n = ev_store__zip_stored_read(er, buf, len, err);
        if (n < 0)
            return n;
    } else {
        n = ev_store__dir_entry_read(er, buf, len, err);
        if (n < 0)
            return n;
    }
    if ((uint64_t)n > er->claimed - er->pos && er->entry->deflated)
        return ev_err__set(err, EV_EFORMAT, "'%s': data is longer than the %llu bytes its "
                           "header claims; refused", er->entry->name,
                           (unsigned long long)er->claimed);
    er->pos += (uint64_t)n;
    if (er->inflating && er->z_end) {
        if (er->pos != er->claimed)
            return ev_err__set(err, EV_EFORMAT, "'%s' holds %llu bytes but its ZIP header "
                               "claims %llu; the bundle is damaged", er->entry->name,
                               (unsigned long long)er->pos, (unsigned long long)er->claimed);
        int rc = ev_store__zip_check_crc(er, err);
        if (rc != EV_OK)
            return rc;
    }
    return n;
}

int64_t ev_store__entry_seek(ev_entry_reader *er, int64_t off, int whence)
{
    return er->zip ? ev_store__zip_entry_seek(er, off, whence)
                   : ev_store__dir_entry_seek(er, off, whence);
}

bool ev_store__entry_crc_failed(const ev_entry_reader *er)
{
    return er && er->crc_failed;
}

void ev_store__entry_close(ev_entry_reader *er)
{
    if (!er)
        return;
    if (er->inflating)
        inflateEnd(&er->z);
    free(er->zin);
    if (er->fd >= 0)
        close(er->fd);
    free(er);
}

static int64_t io_read(void *opaque, uint8_t *buf, size_t len)
{
    return ev_store__entry_read(opaque, buf, len, NULL);
}

static int64_t io_seek(void *opaque, int64_t off, int whence)
{
    return ev_store__entry_seek(opaque, off, whence);
}

void ev_store__entry_io(ev_io *io, ev_entry_reader *er)
{
    memset(io, 0, sizeof(*io));
    io->version = EV_IO_VERSION;
    io->opaque = er;
    io->read = io_read;
    io->seek = er->entry->deflated ? NULL : io_seek;
    io->size = er->claimed;
}

int ev_store__check_entry(const ev_store *s, size_t i, bool *crc_failed, ev_errbuf *err)
{
    *crc_failed = false;
    const ev_store_entry *e = ev_store__entry(s, i);
    if (!e || e->unsafe || e->type != EV_ENTRY_FILE)
        return EV_OK;
    ev_store_cursor *c = NULL;
    ev_entry_reader *er = NULL;
    int rc = ev_store__cursor_new(&c, s, err);
    if (rc == EV_OK)
        rc = ev_store__entry_open(&er, c, i, err);
    uint8_t *buf = rc == EV_OK ? malloc(1u << 20) : NULL;
    if (rc == EV_OK && !buf)
        rc = EV_ENOMEM;
    uint64_t total = 0;
    while (rc == EV_OK) {
        int64_t n = ev_store__entry_read(er, buf, 1u << 20, err);
        if (n < 0)
            rc = (int)n;
        else if (n == 0)
            break;
        else
            total += (uint64_t)n;
    }
    if (rc == EV_OK && s->is_zip && total != e->size)
        rc = ev_err__set(err, EV_EFORMAT, "'%s' holds %llu bytes but its ZIP header claims %llu",
                         e->name, (unsigned long long)total, (unsigned long long)e->size);
    *crc_failed = ev_store__entry_crc_failed(er);
    free(buf);
    ev_store__entry_close(er);
    ev_store__cursor_free(c);
    return rc;
}

int ev_store__read_all(char **out, size_t *out_len, const ev_store *s, size_t i, size_t max,
                       ev_errbuf *err)
{
    *out = NULL;
    *out_len = 0;
    const ev_store_entry *e = ev_store__entry(s, i);
    if (!e || e->unsafe || e->type != EV_ENTRY_FILE)
        return ev_err__set(err, EV_ENOTFOUND, "entry %zu is not a readable file", i);
    if (e->size > max)
        return ev_err__set(err, EV_EUNSAFE, "'%s' is %llu bytes, more than the %zu allowed for "
                           "a tag file; refused", e->name, (unsigned long long)e->size, max);
    ev_store_cursor *c = NULL;
    ev_entry_reader *er = NULL;
    int rc = ev_store__cursor_new(&c, s, err);
    if (rc == EV_OK)
        rc = ev_store__entry_open(&er, c, i, err);
    char *buf = NULL;
    size_t len = 0;
    if (rc == EV_OK) {
        buf = malloc((size_t)e->size + 1);
        if (!buf)
            rc = EV_ENOMEM;
    }
    while (rc == EV_OK) {
        char tmp[65536];
        int64_t n = ev_store__entry_read(er, tmp, sizeof(tmp), err);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        if (len + (size_t)n > e->size) {
            rc = ev_err__set(err, EV_EFORMAT, "'%s' holds more data than its header claims; the "
                             "bundle is damaged", e->name);
            break;
        }
        memcpy(buf + len, tmp, (size_t)n);
        len += (size_t)n;
    }
    if (rc == EV_OK && len != e->size)
        rc = ev_err__set(err, EV_EFORMAT, "'%s' holds %zu bytes but its header claims %llu; the "
                         "bundle is damaged", e->name, len, (unsigned long long)e->size);
    ev_store__entry_close(er);
    ev_store__cursor_free(c);
    if (rc != EV_OK) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return EV_OK;
}

int ev_store__read_spill(ev_spill *sp, const ev_store *s, size_t i, size_t max, ev_errbuf *err)
{
    const ev_store_entry *e = ev_store__entry(s, i);
    if (!e || e->unsafe || e->type != EV_ENTRY_FILE)
        return ev_err__set(err, EV_ENOTFOUND, "entry %zu is not a readable file", i);
    if (e->size > max)
        return ev_err__set(err, EV_EUNSAFE, "'%s' is %llu bytes, more than the %zu allowed for "
                           "a tag file; refused", e->name, (unsigned long long)e->size, max);
    ev_store_cursor *c = NULL;
    ev_entry_reader *er = NULL;
    int rc = ev_store__cursor_new(&c, s, err);
    if (rc == EV_OK)
        rc = ev_store__entry_open(&er, c, i, err);
    char *tmp = rc == EV_OK ? malloc(65536) : NULL;
    if (rc == EV_OK && !tmp)
        rc = EV_ENOMEM;
    uint64_t len = 0;
    while (rc == EV_OK) {
        int64_t n = ev_store__entry_read(er, tmp, 65536, err);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        if (len + (uint64_t)n > e->size) {
            rc = ev_err__set(err, EV_EFORMAT, "'%s' holds more data than its header claims; the "
                             "bundle is damaged", e->name);
            break;
        }
        len += (uint64_t)n;
        rc = ev_buf__append(&sp->b, tmp, (size_t)n);
    }
    free(tmp);
    if (rc == EV_OK && len != e->size)
        rc = ev_err__set(err, EV_EFORMAT, "'%s' holds %llu bytes but its header claims %llu; the "
                         "bundle is damaged", e->name, (unsigned long long)len,
                         (unsigned long long)e->size);
    ev_store__entry_close(er);
    ev_store__cursor_free(c);
    if (rc == EV_OK)
        rc = ev_spill__end(sp, NULL, err);
    return rc;
}
