/*
 * media_io: the FFmpeg input over a caller's ev_io (custom AVIOContext with
 * a read budget and a wall-clock deadline, no other file opened), the ev_io
 * adapters over a file descriptor and over memory, and the default limits.
 * The bottom of the media module: it calls nothing else in media/.
 *
 * Hostile input: see docs/media.md, "Limits".
 */
#include "media/media_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavutil/avutil.h>

#include "base/internal.h"

#define AVIO_BUF_SIZE (256 * 1024)

double ev_media__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------ */
/* ev_io adapters                                                            */
/* ------------------------------------------------------------------------ */

typedef struct fd_state {
    int fd;
    uint64_t size;
    uint64_t pos;
} fd_state;

typedef struct mem_state {
    const uint8_t *p;
    size_t len;
    uint64_t pos; /* may be past the end after a seek: reads then give 0 */
} mem_state;

_Static_assert(sizeof(fd_state) <= 32, "fd_state must fit the documented storage");
_Static_assert(sizeof(mem_state) <= 32, "mem_state must fit the documented storage");

static int64_t fd_read(void *opaque, uint8_t *buf, size_t len)
{
    fd_state *st = opaque;
    if (len > (size_t)INT32_MAX)
        len = (size_t)INT32_MAX;
    for (;;) {
        if (st->pos > (uint64_t)INT64_MAX)
            return 0;
        ssize_t n = pread(st->fd, buf, len, (off_t)st->pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return EV_EIO;
        st->pos += (uint64_t)n;
        return n;
    }
}

static int64_t seek_pos(uint64_t pos, uint64_t size, int64_t offset, int whence)
{
    int64_t base;
    if (whence == 0)
        base = 0;
    else if (whence == 1)
        base = (int64_t)pos;
    else if (whence == 2)
        base = (int64_t)size;
    else
        return -1;
    int64_t np;
    if (__builtin_add_overflow(base, offset, &np) || np < 0)
        return -1;
    return np;
}

static int64_t fd_seek(void *opaque, int64_t offset, int whence)
{
    fd_state *st = opaque;
    int64_t np = seek_pos(st->pos, st->size, offset, whence);
    if (np >= 0)
        st->pos = (uint64_t)np;
    return np;
}

int ev_media__io_from_fd(ev_io *io, int fd, uint64_t size, void *state_storage)
{
    if (!io || fd < 0 || !state_storage)
        return EV_EINVAL;
    fd_state *st = state_storage;
    st->fd = fd;
    st->size = size;
    st->pos = 0;
    memset(io, 0, sizeof(*io));
    io->version = EV_IO_VERSION;
    io->opaque = st;
    io->read = fd_read;
    io->seek = fd_seek;
    io->size = size;
    return EV_OK;
}

static int64_t mem_read(void *opaque, uint8_t *buf, size_t len)
{
    mem_state *st = opaque;
    if (st->pos >= st->len)
        return 0;
    size_t n = st->len - (size_t)st->pos;
    if (n > len)
        n = len;
    memcpy(buf, st->p + st->pos, n);
    st->pos += n;
    return (int64_t)n;
}

static int64_t mem_seek(void *opaque, int64_t offset, int whence)
{
    mem_state *st = opaque;
    int64_t np = seek_pos(st->pos, st->len, offset, whence);
    if (np >= 0)
        st->pos = (uint64_t)np;
    return np;
}

int ev_media__io_from_mem(ev_io *io, const uint8_t *data, size_t len, void *state_storage)
{
    if (!io || (!data && len) || !state_storage)
        return EV_EINVAL;
    mem_state *st = state_storage;
    st->p = data;
    st->len = len;
    st->pos = 0;
    memset(io, 0, sizeof(*io));
    io->version = EV_IO_VERSION;
    io->opaque = st;
    io->read = mem_read;
    io->seek = mem_seek;
    io->size = len;
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* FFmpeg input over an ev_io                                                */
/* ------------------------------------------------------------------------ */

static int avio_read_cb(void *opaque, uint8_t *buf, int size)
{
    ev_media__src *s = opaque;
    if (s->io_status)
        return AVERROR(EIO);
    if (s->bytes_read >= s->read_budget) {
        s->budget_exceeded = true;
        return AVERROR_EXIT;
    }
    if (size <= 0)
        return 0;
    int64_t n = s->io->read(s->io->opaque, buf, (size_t)size);
    if (n < 0) {
        s->io_status = n == EV_ECANCELED ? EV_ECANCELED : EV_EIO;
        return AVERROR(EIO);
    }
    if (n == 0)
        return AVERROR_EOF;
    if (n > size) {
        s->io_status = EV_EIO;
        return AVERROR(EIO);
    }
    s->pos += n;
    s->bytes_read += (uint64_t)n;
    return (int)n;
}

static int64_t avio_seek_cb(void *opaque, int64_t offset, int whence)
{
    ev_media__src *s = opaque;
    const ev_io *io = s->io;
    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE) {
        if (io->size)
            return io->size > (uint64_t)INT64_MAX ? -1 : (int64_t)io->size;
        if (!io->seek)
            return AVERROR(ENOSYS);
        int64_t end = io->seek(io->opaque, 0, 2);
        int64_t back = io->seek(io->opaque, s->pos, 0);
        if (back != s->pos)
            return AVERROR(EIO);
        return end < 0 ? AVERROR(ENOSYS) : end;
    }
    if (!io->seek)
        return AVERROR(ENOSYS);
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
        return AVERROR(EINVAL);
    int64_t p = io->seek(io->opaque, offset, whence == SEEK_SET ? 0 : whence == SEEK_CUR ? 1 : 2);
    if (p < 0)
        return AVERROR(EIO);
    s->pos = p;
    return p;
}

static int interrupt_cb(void *opaque)
{
    ev_media__src *s = opaque;
    if (s->io_status || s->budget_exceeded)
        return 1;
    if (s->deadline > 0 && ev_media__now() > s->deadline) {
        s->timed_out = true;
        return 1;
    }
    return 0;
}

/* Demuxers must never open other files (playlists, image sequences, drefs). */
static int refuse_io_open(struct AVFormatContext *s, AVIOContext **pb, const char *url,
                          int flags, AVDictionary **options)
{
    (void)s;
    (void)pb;
    (void)url;
    (void)flags;
    (void)options;
    return AVERROR(EPERM);
}

int ev_media__src_fatal(const ev_media__src *s, int averr)
{
    /* Only a failing io is fatal. FFmpeg's ENOMEM is not trusted as a real
     * out-of-memory: demuxers also return it for their own limits (more
     * streams than max_streams, absurd claimed sizes), so it becomes
     * media.error like any other parser failure. */
    (void)averr;
    return s->io_status;
}

void ev_media__averr(const ev_media__src *s, int averr, char *buf, size_t len)
{
    if (s && s->timed_out) {
        snprintf(buf, len, "time limit reached");
        return;
    }
    if (s && s->budget_exceeded) {
        snprintf(buf, len, "read limit reached (%llu bytes read)",
                 (unsigned long long)s->bytes_read);
        return;
    }
    char e[AV_ERROR_MAX_STRING_SIZE] = "";
    av_strerror(averr, e, sizeof(e));
    snprintf(buf, len, "%s", e);
}

uint64_t ev_media__io_size(const ev_io *io)
{
    if (io->size || !io->seek)
        return io->size;
    int64_t end = io->seek(io->opaque, 0, 2);
    if (io->seek(io->opaque, 0, 0) != 0 || end < 0)
        return 0;
    return (uint64_t)end;
}

void ev_media__src_budget(ev_media__src *s, const ev_media__limits *lim, uint64_t size)
{
    s->deadline = lim->time_budget_s > 0 ? ev_media__now() + lim->time_budget_s : 0;
    if (size == 0) {
        /* unknown size: only the time limit bounds the reading */
        s->read_budget = UINT64_MAX;
        return;
    }
    double f = lim->read_factor > 0 ? lim->read_factor : EV_MEDIA_READ_FACTOR;
    double rb = (double)size * f + (double)EV_MEDIA_READ_SLACK;
    s->read_budget = rb >= 1.8e19 ? UINT64_MAX : (uint64_t)rb;
}

/* True when the bytes a probe saw look like text: no control characters
 * other than tab, line and page breaks and ESC (ANSI art is text too).
 * Media containers hold binary fields (sizes, NULs) in their first bytes. */
static bool looks_like_text(const uint8_t *p, size_t n)
{
    if (n == 0)
        return false;
    if (n > 4096)
        n = 4096;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r' &&
             c != 0x1B) || c == 0x7F)
            return false;
    }
    return true;
}

/* "input.<ext>" with a safe extension from the hint (probe scoring only). */
static void hint_url(char *url, size_t len, const char *hint)
{
    const char *dot = hint ? strrchr(hint, '.') : NULL;
    char ext[12] = "";
    size_t k = 0;
    if (dot) {
        for (const char *p = dot + 1; *p && k < sizeof(ext) - 1; p++) {
            char c = *p;
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
                k = 0;
                break;
            }
            ext[k++] = c;
        }
        if (dot[1] && strlen(dot + 1) >= sizeof(ext))
            k = 0;
    }
    ext[k] = '\0';
    snprintf(url, len, "input%s%s", k ? "." : "", ext);
}

void ev_media__src_close(ev_media__src *s)
{
    if (!s)
        return;
    avformat_close_input(&s->fmt);
    if (s->avio) {
        av_freep(&s->avio->buffer);
        avio_context_free(&s->avio);
    }
}

/* the demuxers that turn any bytes into pictures of text: their
 * extensions (.txt, .bin, ...) say nothing about media */
static bool renders_any_bytes(const AVInputFormat *f)
{
    static const char *const names[] = { "tty", "bin", "adf", "idf", "xbin" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(f->name, names[i]))
            return true;
    return false;
}

bool ev_media__worth_probing(const void *head, size_t n, const char *name_hint)
{
    char url[32];
    hint_url(url, sizeof(url), name_hint);
    if (strchr(url, '.')) {
        void *it = NULL;
        const AVInputFormat *f;
        while ((f = av_demuxer_iterate(&it)) != NULL)
            if (f->extensions && !renders_any_bytes(f) && av_match_ext(url, f->extensions))
                return true;
    }
    if (n > EV_MEDIA__PROBE_HEAD)
        n = EV_MEDIA__PROBE_HEAD;
    uint8_t *buf = av_mallocz(n + AVPROBE_PADDING_SIZE);
    if (!buf)
        return true; /* cannot tell: probe, as before */
    if (n)
        memcpy(buf, head, n);
    /* the content alone: the extension was looked at above */
    AVProbeData pd = { "", buf, (int)n, NULL };
    int score = 0;
    const AVInputFormat *f = av_probe_input_format3(&pd, 1, &score);
    av_free(buf);
    return f && score >= AVPROBE_SCORE_RETRY;
}

int ev_media__src_open(ev_media__src *s, const ev_io *io, const char *name_hint,
                       const ev_media__limits *lim, char *why, size_t whylen)
{
    int rc = EV_EFORMAT;
    char e[256];
    AVDictionary *opts = NULL;
    s->io = io;
    s->pos = 0;
    if (io->seek) {
        if (io->seek(io->opaque, 0, 0) != 0) {
            snprintf(why, whylen, "cannot seek to the start of the input");
            return EV_EFORMAT;
        }
    }
    uint8_t *buf = av_malloc(AVIO_BUF_SIZE);
    if (!buf)
        return EV_ENOMEM;
    s->avio = avio_alloc_context(buf, AVIO_BUF_SIZE, 0, s, avio_read_cb, NULL,
                                 io->seek || io->size ? avio_seek_cb : NULL);
    if (!s->avio) {
        av_free(buf);
        return EV_ENOMEM;
    }
    s->avio->seekable = io->seek ? AVIO_SEEKABLE_NORMAL : 0;
    s->fmt = avformat_alloc_context();
    if (!s->fmt)
        return EV_ENOMEM;
    s->fmt->pb = s->avio;
    s->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    s->fmt->probesize = lim->probe_size;
    s->fmt->max_analyze_duration = lim->analyze_us;
    s->fmt->max_streams = EV_MEDIA_MAX_STREAMS_OPEN;
    s->fmt->interrupt_callback.callback = interrupt_cb;
    s->fmt->interrupt_callback.opaque = s;
    s->fmt->io_open = refuse_io_open;
    char url[32];
    hint_url(url, sizeof(url), name_hint);
    /* Seeking on I/O errors and external references stay off (defaults),
     * said explicitly for the formats that have the options. */
    av_dict_set(&opts, "enable_drefs", "0", 0);
    /* as ffmpeg/ffprobe do: find every program of an MPEG-TS */
    av_dict_set(&opts, "scan_all_pmts", "1", 0);
    /* Probe first, so that a header failure can be told apart from "not
     * media" in the message. The probe rewinds the AVIOContext. */
    const AVInputFormat *ifmt = NULL;
    int ret = av_probe_input_buffer2(s->avio, &ifmt, url, s->fmt, 0, 0);
    if (ret < 0 || !ifmt) {
        avformat_free_context(s->fmt);
        s->fmt = NULL;
        av_dict_free(&opts);
        int f = ev_media__src_fatal(s, ret);
        if (f)
            return f;
        ev_media__averr(s, ret < 0 ? ret : AVERROR_INVALIDDATA, e, sizeof(e));
        snprintf(why, whylen,
                 "not recognised as media: %s (no demuxer of this FFmpeg build "
                 "accepted the first %llu bytes); the file is kept as bytes only",
                 e, (unsigned long long)s->bytes_read);
        return EV_EFORMAT;
    }
    int score = ret;
    /* A demuxer that took the file on its name alone, or as the last guess
     * (score at most AVPROBE_SCORE_EXTENSION), does not make text into
     * media: the teletype demuxer turns any .txt into "video". The probe
     * left the bytes it looked at in the AVIOContext's buffer. */
    bool tty = strcmp(ifmt->name, "tty") == 0; /* renders any text as pictures */
    if ((tty || score <= AVPROBE_SCORE_EXTENSION) && s->avio->buf_ptr &&
        looks_like_text(s->avio->buf_ptr, (size_t)(s->avio->buf_end - s->avio->buf_ptr))) {
        avformat_free_context(s->fmt);
        s->fmt = NULL;
        av_dict_free(&opts);
        if (tty)
            snprintf(why, whylen,
                     "not recognised as media: the content is text (FFmpeg's teletype "
                     "demuxer would render it as video); the file is kept as bytes only");
        else
            snprintf(why, whylen,
                     "not recognised as media: the content is text (only %s %s, with probe "
                     "score %d of 100); the file is kept as bytes only",
                     score >= AVPROBE_SCORE_EXTENSION ? "the file name suggested"
                                                      : "a last-resort guess suggested",
                     ifmt->name, score);
        return EV_EFORMAT;
    }
    ret = avformat_open_input(&s->fmt, url, ifmt, &opts);
    av_dict_free(&opts);
    if (ret < 0) {
        /* avformat_open_input freed fmt; our AVIOContext is still ours */
        int f = ev_media__src_fatal(s, ret);
        if (f)
            return f;
        ev_media__averr(s, ret, e, sizeof(e));
        if (ret == AVERROR(ENOMEM) && !s->timed_out && !s->budget_exceeded)
            snprintf(e + strlen(e), sizeof(e) - strlen(e),
                     " (libavformat says this when a file declares more than %d streams "
                     "or impossible sizes)",
                     EV_MEDIA_MAX_STREAMS_OPEN);
        if (score <= AVPROBE_SCORE_EXTENSION)
            snprintf(why, whylen,
                     "not recognised as media: only the file name suggested %s, and its "
                     "header cannot be read: %s; the file is kept as bytes only",
                     ifmt->name, e);
        else
            snprintf(why, whylen,
                     "%s (%s): the header cannot be read: %s; the file is kept as bytes only",
                     ifmt->name, ifmt->long_name ? ifmt->long_name : "", e);
        return EV_EFORMAT;
    }
    /* avformat_open_input() with a given format leaves probe_score at 0:
     * keep the score the probe gave, which is what the record states */
    s->fmt->probe_score = score;
    ret = avformat_find_stream_info(s->fmt, NULL);
    if (score <= AVPROBE_SCORE_EXTENSION && s->fmt->nb_streams == 0) {
        /* the name (or a last guess) chose the demuxer and it found nothing */
        ev_media__averr(s, ret < 0 ? ret : AVERROR_INVALIDDATA, e, sizeof(e));
        snprintf(why, whylen,
                 "not recognised as media: only %s %s (probe score %d of 100) and no stream "
                 "could be read: %s; the file is kept as bytes only",
                 score >= AVPROBE_SCORE_EXTENSION ? "the file name suggested"
                                                  : "a last-resort guess suggested",
                 s->fmt->iformat->name, score, e);
        avformat_close_input(&s->fmt);
        return EV_EFORMAT;
    }
    if (ret < 0) {
        int f = ev_media__src_fatal(s, ret);
        if (f)
            return f;
        ev_media__averr(s, ret, e, sizeof(e));
        snprintf(why, whylen, "stream information incomplete: %s", e);
        /* the container was recognised: keep going with what is known */
        rc = EV_OK;
        return rc;
    }
    why[0] = '\0';
    return EV_OK;
}

void ev_media__limits_default(ev_media__limits *l, uint64_t size)
{
    memset(l, 0, sizeof(*l));
    l->probe_size = EV_MEDIA_PROBE_SIZE;
    l->analyze_us = EV_MEDIA_ANALYZE_US;
    l->max_streams = EV_MEDIA_MAX_STREAMS;
    l->max_packets = EV_MEDIA_MAX_PACKETS;
    l->max_list_entries = EV_MEDIA_MAX_LIST;
    l->max_pixels = EV_MEDIA_MAX_PIXELS;
    l->time_budget_s = EV_MEDIA_TIME_BASE_S + EV_MEDIA_TIME_PER_MIB_S * ((double)size / 1048576.0);
    l->read_factor = EV_MEDIA_READ_FACTOR;
    l->threads = 0;
    l->frame_lists = true;
    l->thumbnail = true;
}
