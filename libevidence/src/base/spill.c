/*
 * spill: generated text streamed to an unnamed temporary file once large.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/spill.h"

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int open_tmp(const char *dir)
{
    const char *d = dir && *dir ? dir : ".";
    int fd = open(d, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != ENOENT))
        return fd;
    /* a file system without O_TMPFILE: a named file, removed at once */
    char *t = ev__asprintf("%s/.evidence-spill-XXXXXX", d);
    if (!t) {
        errno = ENOMEM;
        return -1;
    }
    fd = mkostemp(t, O_CLOEXEC);
    if (fd >= 0)
        unlink(t);
    free(t);
    return fd;
}

static int on_flush(void *ctx, const char *data, size_t len)
{
    ev_spill *s = ctx;
    if (s->h && ev_hash__update(s->h, data, len) != EV_OK)
        return EV_ENOMEM;
    if (s->fd < 0 && (s->fd = open_tmp(s->dir)) < 0) {
        s->err_no = errno;
        return EV_EIO;
    }
    if (write_all(s->fd, data, len) != 0) {
        s->err_no = errno ? errno : EIO;
        return EV_EIO;
    }
    s->flen += len;
    return EV_OK;
}

int ev_spill__init(ev_spill *s, const char *dir, uint32_t algs)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->b.flush = on_flush;
    s->b.flush_ctx = s;
    if (dir && !(s->dir = ev__strdup(dir)))
        return EV_ENOMEM;
    if (algs && ev_hash__new(&s->h, algs) != EV_OK) {
        free(s->dir);
        s->dir = NULL;
        return EV_ENOMEM;
    }
    return EV_OK;
}

int ev_spill__end(ev_spill *s, ev_digests *d, ev_errbuf *err)
{
    int rc = s->b.flush_rc;
    if (rc == EV_OK && s->fd >= 0)
        rc = ev_buf__flush(&s->b);
    else if (rc == EV_OK && s->h && s->b.len && ev_hash__update(s->h, s->b.data, s->b.len))
        rc = EV_ENOMEM;
    if (rc == EV_EIO)
        return ev_err__set(err, EV_EIO, "cannot write a temporary file in '%s': %s",
                           s->dir ? s->dir : ".", strerror(s->err_no));
    if (rc != EV_OK)
        return ev_err__set(err, rc, "out of memory while generating a tag file");
    s->len = s->flen + (s->fd >= 0 ? 0 : s->b.len);
    if (s->fd >= 0)
        ev_buf__free(&s->b);
    if (d && s->h && ev_hash__final(s->h, d) != EV_OK)
        return ev_err__set(err, EV_ENOMEM, "out of memory while generating a tag file");
    s->ended = true;
    return EV_OK;
}

int64_t ev_spill__pread(const ev_spill *s, void *buf, size_t len, uint64_t off)
{
    if (off >= s->len)
        return 0;
    if (len > s->len - off)
        len = (size_t)(s->len - off);
    if (s->fd < 0) {
        memcpy(buf, s->b.data + off, len);
        return (int64_t)len;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(s->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (int64_t)done;
}

const char *ev_spill__memory(const ev_spill *s)
{
    return s->fd < 0 ? (s->b.data ? s->b.data : "") : NULL;
}

void ev_spill__free(ev_spill *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->b.flush = NULL;
    ev_buf__free(&s->b);
    ev_hash__free(s->h);
    free(s->dir);
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}
