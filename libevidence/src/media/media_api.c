/*
 * media_api: the public ev_media_* façade over ev_media__analyze (used by
 * `evidence inspect FILE`).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <magic.h>

#include "evidence/bundle.h"
#include "evidence/media.h"
#include "base/hash.h"
#include "base/internal.h"
#include "media/media.h"
#include "media/media_int.h"

#define MIME_SNIFF_BYTES (1024 * 1024)

struct ev_media {
    ev_media_options opts;
    ev_errbuf err;
    magic_t magic;
    bool magic_failed;
    ev_media__file *meta;
    size_t nmeta;
    json_t *last; /* the document of the last analysis, for ev_media_result_text() */
};

int ev_media_options_init(ev_media_options *opts, unsigned int version)
{
    return ev__options_init(opts, version == EV_MEDIA_OPTIONS_VERSION ? sizeof(*opts) : 0, version);
}

int ev_media_new(ev_media **out, const ev_media_options *opts)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (opts && opts->version != EV_MEDIA_OPTIONS_VERSION)
        return EV_EVERSION;
    if (opts && (opts->content_hash < EV_CONTENT_HASH_DEFAULT ||
                 opts->content_hash > EV_CONTENT_HASH_BOTH))
        return EV_EINVAL;
    if (opts && (opts->flags & ~(EV_MEDIA_META_FILES | EV_MEDIA_NO_FILE_HASH)))
        return EV_EINVAL;
    ev_media *m = calloc(1, sizeof(*m));
    if (!m)
        return EV_ENOMEM;
    if (opts)
        m->opts = *opts;
    else
        m->opts.version = EV_MEDIA_OPTIONS_VERSION;
    *out = m;
    return EV_OK;
}

void ev_media_free(ev_media *m)
{
    if (!m)
        return;
    if (m->magic)
        magic_close(m->magic);
    ev_media__files_free(m->meta, m->nmeta);
    json_decref(m->last);
    free(m);
}

const char *ev_media_last_error(const ev_media *m)
{
    if (!m)
        return "no media handle";
    return m->err.msg;
}

size_t ev_media_meta_count(const ev_media *m)
{
    return m ? m->nmeta : 0;
}

int ev_media_meta_get(const ev_media *m, size_t i, const char **out_name,
                      const uint8_t **out_data, size_t *out_len)
{
    if (!m || i >= m->nmeta)
        return EV_ENOTFOUND;
    if (out_name)
        *out_name = m->meta[i].name;
    if (out_data)
        *out_data = m->meta[i].data;
    if (out_len)
        *out_len = m->meta[i].len;
    return EV_OK;
}

/* Read from the start: SHA-256 of every byte, size, and the first bytes
 * for the MIME sniff. */
static int whole_file(const ev_io *io, char sha[65], uint64_t *size, uint8_t *head,
                      size_t *head_len, bool want_hash, ev_errbuf *err)
{
    *size = 0;
    *head_len = 0;
    sha[0] = '\0';
    if (io->seek && io->seek(io->opaque, 0, 0) != 0)
        return ev_err__set(err, EV_EIO, "cannot seek to the start of the input");
    ev_hasher *h = NULL;
    if (want_hash && ev_hash__new(&h, EV_ALG_SHA256))
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    uint8_t *buf = malloc(1 << 20);
    if (!buf) {
        ev_hash__free(h);
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    }
    int rc = EV_OK;
    for (;;) {
        int64_t n = io->read(io->opaque, buf, 1 << 20);
        if (n < 0) {
            rc = n == EV_ECANCELED ? EV_ECANCELED : EV_EIO;
            ev_err__set(err, rc, "%s at byte %llu", rc == EV_ECANCELED ? "canceled" : "read error",
                        (unsigned long long)*size);
            break;
        }
        if (n == 0)
            break;
        if (*head_len < MIME_SNIFF_BYTES) {
            size_t k = MIME_SNIFF_BYTES - *head_len;
            if (k > (size_t)n)
                k = (size_t)n;
            memcpy(head + *head_len, buf, k);
            *head_len += k;
        } else if (!want_hash) {
            /* nothing more needed than the size */
            if (io->size) {
                *size = io->size;
                goto out;
            }
        }
        if (h && ev_hash__update(h, buf, (size_t)n)) {
            rc = ev_err__set(err, EV_ERROR, "hashing failed");
            break;
        }
        *size += (uint64_t)n;
    }
    if (rc == EV_OK && h) {
        ev_digests d;
        if (ev_hash__final(h, &d))
            rc = ev_err__set(err, EV_ERROR, "hashing failed");
        else
            memcpy(sha, d.hex[EV_HASH_SHA256], 65);
    }
out:
    free(buf);
    ev_hash__free(h);
    return rc;
}

static const char *mime_of(ev_media *m, const uint8_t *head, size_t n)
{
    if (!m->magic && !m->magic_failed) {
        m->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
        if (!m->magic || magic_load(m->magic, NULL) != 0) {
            if (m->magic)
                magic_close(m->magic);
            m->magic = NULL;
            m->magic_failed = true;
        }
    }
    if (!m->magic)
        return NULL;
    return magic_buffer(m->magic, head, n);
}

static const char *base_name(const char *p)
{
    if (!p)
        return NULL;
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int ev_media_analyze_io(char **out_json, ev_media *m, const ev_io *io, const char *name_hint)
{
    if (out_json)
        *out_json = NULL;
    if (!m)
        return EV_EINVAL;
    json_decref(m->last); /* a failure leaves no result */
    m->last = NULL;
    if (!out_json || !io || !io->read)
        return ev_err__set(&m->err, EV_EINVAL, "ev_media_analyze_io: missing output or io");
    ev_media__files_free(m->meta, m->nmeta);
    m->meta = NULL;
    m->nmeta = 0;

    int rc = EV_ENOMEM;
    json_t *root = NULL, *media = NULL, *capture = NULL, *content = NULL;
    ev_media__file *meta = NULL;
    size_t nmeta = 0;
    uint8_t *head = malloc(MIME_SNIFF_BYTES);
    if (!head)
        return ev_err__set(&m->err, EV_ENOMEM, "out of memory");
    char sha[65];
    uint64_t size = 0;
    size_t head_len = 0;
    rc = whole_file(io, sha, &size, head, &head_len, !(m->opts.flags & EV_MEDIA_NO_FILE_HASH),
                    &m->err);
    if (rc)
        goto done;
    ev_media__limits lim;
    ev_media__limits_default(&lim, io->size ? io->size : size);
    lim.threads = m->opts.threads;
    lim.thumbnail = false; /* a pack-time view; not part of a file's facts */
    if (m->opts.time_limit_s)
        lim.time_budget_s = (double)m->opts.time_limit_s;
    rc = ev_media__analyze_ex(&media, &capture, &content, &meta, &nmeta, io, name_hint,
                              m->opts.content_hash, &lim, &m->err);
    if (rc)
        goto done;
    rc = EV_ENOMEM;
    root = json_object();
    json_t *file = json_object();
    if (!root || !file || json_object_set_new(root, "format", json_string("evidence.media")) ||
        json_object_set_new(root, "format_version", json_integer(1)) ||
        json_object_set_new(root, "file", file)) {
        if (!root)
            json_decref(file);
        goto done;
    }
    const char *mime = mime_of(m, head, head_len);
    if (ev_media__set_str(file, "name", base_name(name_hint)) ||
        ev_media__set_int(file, "size", (int64_t)size) ||
        (sha[0] && ev_media__set_str(file, "sha256", sha)) ||
        (mime && ev_media__set_str(file, "mime", mime)))
        goto done;
    if (json_object_set(root, "media", media) ||
        (capture && json_object_set(root, "capture", capture)) ||
        (content && json_object_set(root, "content_hashes", content)))
        goto done;
    if ((m->opts.flags & EV_MEDIA_META_FILES) && nmeta) {
        json_t *mf = json_array();
        if (!mf || json_object_set_new(root, "meta_files", mf))
            goto done;
        for (size_t i = 0; i < nmeta; i++) {
            char h[65];
            json_t *e = json_object();
            if (!e || json_array_append_new(mf, e) || ev_hash__sha256_hex(h, meta[i].data, meta[i].len) ||
                ev_media__set_str(e, "name", meta[i].name) ||
                ev_media__set_int(e, "size", (int64_t)meta[i].len) || ev_media__set_str(e, "sha256", h))
                goto done;
        }
    }
    char *s = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (!s)
        goto done;
    *out_json = s;
    if (m->opts.flags & EV_MEDIA_META_FILES) {
        m->meta = meta;
        m->nmeta = nmeta;
        meta = NULL;
        nmeta = 0;
    }
    m->last = root;
    root = NULL;
    rc = EV_OK;
done:
    if (rc == EV_ENOMEM)
        ev_err__set(&m->err, rc, "media analysis: out of memory");
    free(head);
    json_decref(root);
    json_decref(media);
    json_decref(capture);
    json_decref(content);
    ev_media__files_free(meta, nmeta);
    return rc;
}

int ev_media_analyze_file(char **out_json, ev_media *m, const char *path)
{
    if (out_json)
        *out_json = NULL;
    if (!m)
        return EV_EINVAL;
    json_decref(m->last); /* a failure leaves no result */
    m->last = NULL;
    if (!out_json || !path)
        return ev_err__set(&m->err, EV_EINVAL, "ev_media_analyze_file: missing output or path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        int st = ev_err__from_errno(e);
        if (st != EV_ENOTFOUND && st != EV_ENOMEM)
            st = EV_EIO;
        return ev_err__set(&m->err, st, "open '%s': %s; check the path and permissions", path,
                           strerror(e));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return ev_err__set(&m->err, EV_EIO, "stat '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return ev_err__set(&m->err, EV_EINVAL, "'%s' is not a regular file; give one media file",
                           path);
    }
    uint64_t state[4];
    ev_io io;
    ev_media__io_from_fd(&io, fd, (uint64_t)sb.st_size, state);
    int rc = ev_media_analyze_io(out_json, m, &io, path);
    close(fd);
    if (rc == EV_EIO) {
        char msg[EV_ERRMSG_SIZE];
        memcpy(msg, m->err.msg, sizeof(msg));
        ev_err__set(&m->err, rc, "'%s': %s", path, msg);
    }
    return rc;
}

int ev_media_result_text(char **out, const ev_media *m)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (!m)
        return EV_EINVAL;
    if (!m->last)
        return EV_ENOTFOUND;
    *out = ev_media__text(m->last);
    return *out ? EV_OK : EV_ENOMEM;
}
