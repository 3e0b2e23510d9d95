/*
 * sink: writing a bag (container/container.h). Entries are collected with
 * their producers and written at commit: a ZIP by zip_write.c, a folder
 * here. Either is written under a temporary name beside the target and
 * published only when complete (base/publish.h).
 */
#include "container/container_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int sink_open(ev_sink **out, const char *final_path, ev_bundle_format fmt,
                     const char *bag_name, bool replace, ev_errbuf *err)
{
    *out = NULL;
    struct stat st;
    if (!replace && lstat(final_path, &st) == 0)
        return ev_err__set(err, EV_EEXISTS, "'%s' already exists; choose another output name or "
                           "remove it first", final_path);
    char *parent = ev__parent_dir(final_path);
    if (!parent)
        return EV_ENOMEM;
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode)) {
        int rc = ev_err__set(err, EV_EIO, "cannot write '%s': folder '%s' does not exist",
                             final_path, parent);
        free(parent);
        return rc;
    }
    if (access(parent, W_OK | X_OK) != 0) {
        int rc = ev_err__set(err, EV_EIO, "cannot write '%s': folder '%s' is not writable (%s)",
                             final_path, parent, strerror(errno));
        free(parent);
        return rc;
    }
    free(parent);
    ev_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return EV_ENOMEM;
    s->fd = -1;
    s->lockfd = -1;
    s->fmt = fmt;
    s->replace = replace;
    s->final_path = ev__strdup(final_path);
    s->bag_name = ev__strdup(bag_name);
    if (!s->final_path || !s->bag_name) {
        ev_sink__free(s);
        return EV_ENOMEM;
    }
    /* a hidden temporary file (or folder) beside the target, renamed into
     * place only when complete */
    int rc = ev__tmp_create(fmt == EV_FORMAT_ZIP ? &s->tmpzip : &s->tmpdir, &s->lockfd,
                            final_path, fmt != EV_FORMAT_ZIP, err);
    if (rc != EV_OK) {
        ev_sink__free(s);
        return rc;
    }
    if (fmt == EV_FORMAT_ZIP) {
        s->fd = dup(s->lockfd); /* the lock stays with lockfd until the rename */
        if (s->fd < 0) {
            rc = ev_err__set(err, EV_EIO, "cannot write '%s': %s", s->tmpzip, strerror(errno));
            ev_sink__free(s);
            return rc;
        }
        fchmod(s->fd, 0644);
    }
    *out = s;
    return EV_OK;
}

int ev_sink__open(ev_sink **out, const char *final_path, ev_bundle_format fmt,
                  const char *bag_name, ev_errbuf *err)
{
    return sink_open(out, final_path, fmt, bag_name, false, err);
}

int ev_sink__open_replace(ev_sink **out, const char *final_path, ev_bundle_format fmt,
                          const char *bag_name, ev_errbuf *err)
{
    return sink_open(out, final_path, fmt, bag_name, true, err);
}

static int sink_push(ev_sink *s, ev_sink_entry *e, const ev_producer *p)
{
    ev_sink_entry *grown = ev__grow(s->e, &s->cap, s->n, sizeof(*grown), 256);
    if (!grown)
        return EV_ENOMEM;
    s->e = grown;
    ev_producer *pg = ev__grow(s->prod, &s->capprod, s->nprod, sizeof(*pg), 256);
    if (!pg)
        return EV_ENOMEM;
    s->prod = pg;
    if (p)
        s->prod[s->nprod] = *p;
    else
        memset(&s->prod[s->nprod], 0, sizeof(*s->prod));
    s->nprod++;
    s->e[s->n++] = *e;
    return EV_OK;
}

int ev_sink__add_dir(ev_sink *s, const char *path, ev_errbuf *err)
{
    (void)err;
    ev_sink_entry e;
    memset(&e, 0, sizeof(e));
    e.is_dir = true;
    char *copy = ev__strdup(path);
    e.path = copy;
    e.path_owned = true;
    if (!copy || sink_push(s, &e, NULL) != EV_OK) {
        free(copy);
        return EV_ENOMEM;
    }
    return EV_OK;
}

static int sink_add(ev_sink *s, const char *path, bool borrow, const ev_producer *p,
                    bool compress, int64_t mtime)
{
    ev_sink_entry e;
    memset(&e, 0, sizeof(e));
    char *copy = borrow ? NULL : ev__strdup(path);
    e.path = borrow ? path : copy;
    e.path_owned = !borrow;
    e.compress = compress;
    e.mtime = mtime;
    if (!e.path || sink_push(s, &e, p) != EV_OK) {
        free(copy);
        ev_producer__free(p);
        return EV_ENOMEM;
    }
    return EV_OK;
}

int ev_sink__add(ev_sink *s, const char *path, const ev_producer *p, bool compress,
                 int64_t mtime, ev_errbuf *err)
{
    (void)err;
    return sink_add(s, path, false, p, compress, mtime);
}

int ev_sink__add_borrowed(ev_sink *s, const char *path, const ev_producer *p, bool compress,
                          int64_t mtime, ev_errbuf *err)
{
    (void)err;
    return sink_add(s, path, true, p, compress, mtime);
}

static int mkdirs_in(const char *root, const char *rel)
{
    char *p = ev__asprintf("%s/%s", root, rel);
    if (!p)
        return EV_ENOMEM;
    size_t rootlen = strlen(root);
    for (char *q = p + rootlen + 1; *q; q++) {
        if (*q == '/') {
            *q = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                free(p);
                return EV_EIO;
            }
            *q = '/';
        }
    }
    free(p);
    return EV_OK;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *b = buf;
    while (len) {
        ssize_t w = write(fd, b, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        b += w;
        len -= (size_t)w;
    }
    return 0;
}

static int commit_dir(ev_sink *s, ev_errbuf *err)
{
    enum { CHUNK = 1 << 20 };
    uint8_t *buf = malloc(CHUNK);
    if (!buf)
        return EV_ENOMEM;
    int rc = EV_OK;
    for (size_t i = 0; i < s->n && rc == EV_OK; i++) {
        ev_sink_entry *e = &s->e[i];
        ev_producer *pr = &s->prod[i];
        char *p = ev__asprintf("%s/%s", s->tmpdir, e->path);
        if (!p) {
            rc = EV_ENOMEM;
            break;
        }
        if (mkdirs_in(s->tmpdir, e->path) != EV_OK) {
            rc = ev_err__set(err, EV_EIO, "cannot create folders for '%s': %s", p, strerror(errno));
            free(p);
            break;
        }
        if (e->is_dir) {
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                rc = ev_err__set(err, EV_EIO, "cannot create '%s': %s", p, strerror(errno));
            free(p);
            continue;
        }
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            rc = ev_err__set(err, EV_EIO, "cannot create '%s': %s", p, strerror(errno));
            free(p);
            break;
        }
        uint64_t size = UINT64_MAX;
        rc = pr->open(pr->ctx, &size, err);
        while (rc == EV_OK) {
            int64_t n = pr->read(pr->ctx, buf, CHUNK, err);
            if (n < 0) {
                rc = (int)n;
                break;
            }
            if (n == 0)
                break;
            if (write_all(fd, buf, (size_t)n) != 0)
                rc = ev_err__set(err, EV_EIO, "cannot write '%s': %s", p, strerror(errno));
        }
        pr->close(pr->ctx, rc == EV_OK, err);
        /* read once: its state goes now, not when the whole bag is written */
        ev_producer__free(pr);
        pr->ctx = NULL;
        if (close(fd) != 0 && rc == EV_OK)
            rc = ev_err__set(err, EV_EIO, "cannot write '%s': %s", p, strerror(errno));
        if (rc == EV_OK && e->mtime > 0) {
            struct timespec ts[2] = { { (time_t)e->mtime, 0 }, { (time_t)e->mtime, 0 } };
            utimensat(AT_FDCWD, p, ts, 0);
        }
        free(p);
    }
    free(buf);
    if (rc == EV_OK)
        rc = ev__publish(s->tmpdir, s->final_path, s->replace ? EV_PUBLISH_REPLACE : 0, "bag",
                         err);
    return rc;
}


static ev_progress_state *producer_progress(const ev_sink *s, size_t i)
{
    if (s->e[i].is_dir)
        return NULL;
    return ev_producer__progress(&s->prod[i]);
}

int ev_sink__commit(ev_sink *s, ev_errbuf *err)
{
    /* progress is reported through the file producers' state */
    for (size_t i = 0; i < s->n && !s->progress; i++)
        s->progress = producer_progress(s, i);
    int rc = s->fmt == EV_FORMAT_ZIP ? ev_sink__commit_zip(s, err) : commit_dir(s, err);
    if (rc == EV_OK) {
        free(s->tmpdir);
        s->tmpdir = NULL;
        if (s->lockfd >= 0)
            close(s->lockfd);
        s->lockfd = -1;
    }
    return rc;
}

void ev_sink__free(ev_sink *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    if (s->tmpzip) {
        unlink(s->tmpzip); /* not committed: nothing stays behind */
        free(s->tmpzip);
    }
    if (s->tmpdir) {
        ev__rm_tree(s->tmpdir);
        free(s->tmpdir);
    }
    if (s->lockfd >= 0)
        close(s->lockfd);
    for (size_t i = 0; i < s->n; i++)
        if (s->e[i].path_owned)
            free((char *)s->e[i].path);
    for (size_t i = 0; i < s->nprod; i++)
        ev_producer__free(&s->prod[i]);
    free(s->prod);
    free(s->e);
    free(s->final_path);
    free(s->bag_name);
    free(s);
}
