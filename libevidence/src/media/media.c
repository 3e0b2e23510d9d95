/*
 * media: probing (libavformat) over a caller's ev_io, the facts of
 * item.media, and the ev_media__analyze entry point that ties together the
 * probe, EXIF/QuickTime capture facts and content hashes (media_hash.c).
 *
 * Hostile input: FFmpeg reads through a custom AVIOContext with a read
 * budget and a wall-clock deadline (interrupt callback); it may not open any
 * other file (io_open refuses); streams, packets, list lines and picture
 * sizes are capped. See docs/media.md, "Limits".
 */
#include "media/media.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "evidence/bundle.h"
#include "media/exif.h"
#include "base/internal.h"
#include "media/media_int.h"

#define AVIO_BUF_SIZE (256 * 1024)

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

double ev_media__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double ev_media__round_us(double v)
{
    if (!isfinite(v))
        return 0.0;
    return round(v * 1e6) / 1e6;
}

/* Length of the valid UTF-8 sequence at p (max n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

json_t *ev_media__jstr(const char *s, size_t max)
{
    if (!s)
        s = "";
    size_t n = strnlen(s, max);
    ev_buf b = { 0 };
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t l = utf8_seq(p + i, n - i);
        if (l == 0) {
            if (i + 1 >= n && n == max)
                break; /* a sequence cut by the limit */
            if (ev_buf__append(&b, "\xEF\xBF\xBD", 3)) {
                ev_buf__free(&b);
                return NULL;
            }
            i++;
            continue;
        }
        if (p[i] == 0)
            break;
        if (ev_buf__append(&b, p + i, l)) {
            ev_buf__free(&b);
            return NULL;
        }
        i += l;
    }
    json_t *j = json_stringn(b.data ? b.data : "", b.len);
    ev_buf__free(&b);
    return j;
}

int ev_media__set_str(json_t *obj, const char *key, const char *s)
{
    if (!s || !*s)
        return 0;
    json_t *v = ev_media__jstr(s, EV_MEDIA_MAX_TAG_LEN);
    return (v && json_object_set_new(obj, key, v) == 0) ? 0 : -1;
}

int ev_media__set_int(json_t *obj, const char *key, int64_t v)
{
    return json_object_set_new(obj, key, json_integer(v)) == 0 ? 0 : -1;
}

int ev_media__set_real(json_t *obj, const char *key, double v)
{
    if (!isfinite(v))
        return 0;
    return json_object_set_new(obj, key, json_real(v)) == 0 ? 0 : -1;
}

static int set_rational(json_t *obj, const char *key, AVRational r)
{
    char buf[48];
    snprintf(buf, sizeof(buf), "%d/%d", r.num, r.den);
    return ev_media__set_str(obj, key, buf);
}

static int set_seconds(json_t *obj, const char *key, int64_t ts, AVRational tb)
{
    if (ts == AV_NOPTS_VALUE || tb.den == 0)
        return 0;
    return ev_media__set_real(obj, key, ev_media__round_us((double)ts * av_q2d(tb)));
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

/* ------------------------------------------------------------------------ */
/* Facts                                                                     */
/* ------------------------------------------------------------------------ */

static int add_tags(json_t *obj, const char *key, const AVDictionary *d)
{
    if (!d || av_dict_count(d) == 0)
        return 0;
    json_t *tags = json_object();
    if (!tags)
        return -1;
    const AVDictionaryEntry *t = NULL;
    int n = 0;
    while ((t = av_dict_get(d, "", t, AV_DICT_IGNORE_SUFFIX)) != NULL) {
        if (n++ >= EV_MEDIA_MAX_TAGS)
            break;
        json_t *k = ev_media__jstr(t->key, 256);
        json_t *v = ev_media__jstr(t->value, EV_MEDIA_MAX_TAG_LEN);
        if (!k || !v || json_object_set_new(tags, json_string_value(k), v)) {
            json_decref(k);
            json_decref(tags);
            return -1;
        }
        json_decref(k);
    }
    return json_object_set_new(obj, key, tags) ? -1 : 0;
}

static const char *field_order_name(enum AVFieldOrder fo)
{
    switch (fo) {
    case AV_FIELD_PROGRESSIVE:
        return "progressive";
    case AV_FIELD_TT:
        return "tt";
    case AV_FIELD_BB:
        return "bb";
    case AV_FIELD_TB:
        return "tb";
    case AV_FIELD_BT:
        return "bt";
    default:
        return NULL;
    }
}

static int add_disposition(json_t *st, int disp)
{
    if (!disp)
        return 0;
    json_t *a = json_array();
    if (!a)
        return -1;
    for (int bit = 0; bit < 31; bit++) {
        if (!(disp & (1 << bit)))
            continue;
        const char *n = av_disposition_to_string(1 << bit);
        if (n && json_array_append_new(a, json_string(n))) {
            json_decref(a);
            return -1;
        }
    }
    return json_object_set_new(st, "disposition", a) ? -1 : 0;
}

static int add_side_data(json_t *sj, const AVStream *st)
{
    if (st->nb_side_data <= 0)
        return 0;
    json_t *a = json_array();
    if (!a)
        return -1;
    for (int i = 0; i < st->nb_side_data && i < 32; i++) {
        const char *n = av_packet_side_data_name(st->side_data[i].type);
        if (n && json_array_append_new(a, json_string(n))) {
            json_decref(a);
            return -1;
        }
    }
    if (json_object_set_new(sj, "side_data", a))
        return -1;
    size_t size = 0;
    const uint8_t *dm = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (dm && size >= 9 * sizeof(int32_t)) {
        int32_t m[9];
        memcpy(m, dm, sizeof(m));
        double theta = av_display_rotation_get(m);
        json_t *mat = json_array();
        if (!mat)
            return -1;
        for (int i = 0; i < 9; i++)
            if (json_array_append_new(mat, json_integer(m[i]))) {
                json_decref(mat);
                return -1;
            }
        if (json_object_set_new(sj, "display_matrix", mat))
            return -1;
        if (isfinite(theta)) {
            /* theta is counter-clockwise (ffprobe's "rotation"); record the
             * clockwise turn needed for display, 0..359 (QuickTime/exiftool). */
            double cw = fmod(-theta, 360.0);
            if (cw < 0)
                cw += 360.0;
            cw = round(cw * 100.0) / 100.0;
            if (cw >= 360.0)
                cw -= 360.0;
            if (ev_media__set_real(sj, "rotation", cw) ||
                ev_media__set_real(sj, "display_matrix_rotation", round(theta * 100.0) / 100.0))
                return -1;
            /* a negative determinant of the 2x2 part means a mirror */
            double det = (double)m[0] * m[4] - (double)m[1] * m[3];
            if (det < 0 && json_object_set_new(sj, "mirrored", json_true()))
                return -1;
        }
    }
    return 0;
}

static bool is_image_format(const char *name);

static int stream_facts(json_t **out, AVFormatContext *fmt, AVStream *st)
{
    /* A still read by an image demuxer has no time: its 1/25 s time base,
     * 25 fps and 0.04 s duration are FFmpeg's defaults, not facts. */
    const bool still = is_image_format(fmt->iformat->name);
    const AVCodecParameters *par = st->codecpar;
    json_t *j = json_object();
    *out = j;
    if (!j)
        return -1;
    const char *type = av_get_media_type_string(par->codec_type);
    const AVCodecDescriptor *cd = avcodec_descriptor_get(par->codec_id);
    if (ev_media__set_int(j, "index", st->index) ||
        ev_media__set_str(j, "type", type ? type : "unknown") ||
        ev_media__set_str(j, "codec", avcodec_get_name(par->codec_id)) ||
        (cd && ev_media__set_str(j, "codec_long", cd->long_name)))
        return -1;
    const char *prof = avcodec_profile_name(par->codec_id, par->profile);
    if (prof && ev_media__set_str(j, "profile", prof))
        return -1;
    if (par->codec_tag) {
        char tag[AV_FOURCC_MAX_STRING_SIZE];
        av_fourcc_make_string(tag, par->codec_tag);
        if (ev_media__set_str(j, "codec_tag", tag))
            return -1;
    }
    if (set_rational(j, "time_base", st->time_base) ||
        (!still && set_seconds(j, "start_time", st->start_time, st->time_base)) ||
        (!still && set_seconds(j, "duration", st->duration, st->time_base)))
        return -1;
    if (par->bit_rate > 0 && ev_media__set_int(j, "bit_rate", par->bit_rate))
        return -1;
    if (st->nb_frames > 0 && ev_media__set_int(j, "nb_frames", st->nb_frames))
        return -1;
    if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
        if (par->level != FF_LEVEL_UNKNOWN && ev_media__set_int(j, "level", par->level))
            return -1;
        if (ev_media__set_int(j, "width", par->width) ||
            ev_media__set_int(j, "height", par->height))
            return -1;
        AVRational sar = av_guess_sample_aspect_ratio(fmt, st, NULL);
        if (sar.num > 0 && sar.den > 0 && par->width > 0 && par->height > 0) {
            AVRational dar;
            av_reduce(&dar.num, &dar.den, (int64_t)par->width * sar.num,
                      (int64_t)par->height * sar.den, 1024 * 1024);
            char b[48];
            snprintf(b, sizeof(b), "%d:%d", sar.num, sar.den);
            if (ev_media__set_str(j, "sample_aspect_ratio", b))
                return -1;
            snprintf(b, sizeof(b), "%d:%d", dar.num, dar.den);
            if (ev_media__set_str(j, "display_aspect_ratio", b))
                return -1;
        }
        if (!still && (set_rational(j, "r_frame_rate", st->r_frame_rate) ||
                       set_rational(j, "avg_frame_rate", st->avg_frame_rate)))
            return -1;
        const AVPixFmtDescriptor *pd = av_pix_fmt_desc_get(par->format);
        if (pd) {
            if (ev_media__set_str(j, "pix_fmt", pd->name) ||
                ev_media__set_int(j, "bit_depth", pd->comp[0].depth))
                return -1;
        }
        if (par->bits_per_raw_sample > 0 &&
            ev_media__set_int(j, "bits_per_raw_sample", par->bits_per_raw_sample))
            return -1;
        const char *fo = field_order_name(par->field_order);
        if (fo && ev_media__set_str(j, "field_order", fo))
            return -1;
        if (par->color_range != AVCOL_RANGE_UNSPECIFIED &&
            ev_media__set_str(j, "color_range", av_color_range_name(par->color_range)))
            return -1;
        if (par->color_space != AVCOL_SPC_UNSPECIFIED &&
            ev_media__set_str(j, "color_space", av_color_space_name(par->color_space)))
            return -1;
        if (par->color_trc != AVCOL_TRC_UNSPECIFIED &&
            ev_media__set_str(j, "color_transfer", av_color_transfer_name(par->color_trc)))
            return -1;
        if (par->color_primaries != AVCOL_PRI_UNSPECIFIED &&
            ev_media__set_str(j, "color_primaries", av_color_primaries_name(par->color_primaries)))
            return -1;
        if (par->chroma_location != AVCHROMA_LOC_UNSPECIFIED &&
            ev_media__set_str(j, "chroma_location",
                              av_chroma_location_name(par->chroma_location)))
            return -1;
    } else if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
        if (ev_media__set_int(j, "sample_rate", par->sample_rate) ||
            ev_media__set_int(j, "channels", par->ch_layout.nb_channels))
            return -1;
        char lay[128] = "";
        if (par->ch_layout.order != AV_CHANNEL_ORDER_UNSPEC &&
            av_channel_layout_describe(&par->ch_layout, lay, sizeof(lay)) > 0 &&
            ev_media__set_str(j, "channel_layout", lay))
            return -1;
        const char *sf = av_get_sample_fmt_name(par->format);
        if (sf && ev_media__set_str(j, "sample_fmt", sf))
            return -1;
        int bps = av_get_bits_per_sample(par->codec_id);
        if (bps > 0 && ev_media__set_int(j, "bits_per_sample", bps))
            return -1;
        if (par->bits_per_raw_sample > 0 &&
            ev_media__set_int(j, "bits_per_raw_sample", par->bits_per_raw_sample))
            return -1;
        int depth = par->bits_per_raw_sample > 0 ? par->bits_per_raw_sample : bps;
        if (depth > 0 && ev_media__set_int(j, "bit_depth", depth))
            return -1;
    }
    if (add_disposition(j, st->disposition) || add_side_data(j, st))
        return -1;
    const AVDictionaryEntry *t;
    if ((t = av_dict_get(st->metadata, "language", NULL, 0)) &&
        ev_media__set_str(j, "language", t->value))
        return -1;
    if ((t = av_dict_get(st->metadata, "creation_time", NULL, 0)) &&
        ev_media__set_str(j, "creation_time", t->value))
        return -1;
    if ((t = av_dict_get(st->metadata, "handler_name", NULL, 0)) &&
        ev_media__set_str(j, "handler", t->value))
        return -1;
    if (add_tags(j, "tags", st->metadata))
        return -1;
    return 0;
}

static bool is_image_format(const char *name)
{
    if (!name)
        return false;
    if (strcmp(name, "image2") == 0)
        return true;
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, "_pipe") == 0;
}

int ev_media__facts(json_t **out, const ev_media__src *s, unsigned int max_streams)
{
    AVFormatContext *fmt = s->fmt;
    json_t *m = json_object(), *streams = json_array();
    *out = NULL;
    if (!m || !streams)
        goto nomem;
    const char *kind = "other";
    bool image = is_image_format(fmt->iformat->name);
    bool video = false, audio = false;
    for (unsigned int i = 0; i < fmt->nb_streams; i++) {
        const AVStream *st = fmt->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            video = true;
        if (st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
            audio = true;
    }
    if (video)
        kind = image ? "image" : "video";
    else if (audio)
        kind = "audio";
    if (ev_media__set_str(m, "kind", kind) ||
        ev_media__set_str(m, "container", fmt->iformat->name) ||
        ev_media__set_str(m, "container_long", fmt->iformat->long_name))
        goto nomem;
    /* a still has no duration, start or bit rate (FFmpeg derives them from
     * its default 25 fps) */
    if (!image && fmt->duration != AV_NOPTS_VALUE && fmt->duration >= 0 &&
        ev_media__set_real(m, "duration", ev_media__round_us((double)fmt->duration / AV_TIME_BASE)))
        goto nomem;
    if (!image && fmt->start_time != AV_NOPTS_VALUE &&
        ev_media__set_real(m, "start_time",
                           ev_media__round_us((double)fmt->start_time / AV_TIME_BASE)))
        goto nomem;
    if (!image && fmt->bit_rate > 0 && ev_media__set_int(m, "bit_rate", fmt->bit_rate))
        goto nomem;
    if (ev_media__set_int(m, "probe_score", fmt->probe_score) ||
        ev_media__set_int(m, "nb_streams", fmt->nb_streams))
        goto nomem;
    for (unsigned int i = 0; i < fmt->nb_streams && i < max_streams; i++) {
        json_t *sj = NULL;
        if (stream_facts(&sj, fmt, fmt->streams[i]) || json_array_append_new(streams, sj)) {
            json_decref(sj);
            goto nomem;
        }
    }
    if (fmt->nb_streams > max_streams &&
        json_object_set_new(m, "streams_truncated", json_true()))
        goto nomem;
    if (json_object_set_new(m, "streams", streams)) {
        streams = NULL;
        goto nomem;
    }
    streams = NULL;
    if (add_tags(m, "tags", fmt->metadata))
        goto nomem;
    *out = m;
    return EV_OK;
nomem:
    json_decref(m);
    json_decref(streams);
    return EV_ENOMEM;
}

/* ------------------------------------------------------------------------ */
/* ev_media__analyze                                                         */
/* ------------------------------------------------------------------------ */

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

void ev_media__files_free(ev_media__file *f, size_t n)
{
    if (!f)
        return;
    for (size_t i = 0; i < n; i++) {
        free(f[i].name);
        free(f[i].data);
    }
    free(f);
}

typedef struct files {
    ev_media__file *v;
    size_t n;
} files;

/* Takes ownership of data (freed on failure). */
static int files_add(files *fs, const char *name, uint8_t *data, size_t len)
{
    ev_media__file *nv = ev__reallocarray(fs->v, fs->n + 1, sizeof(*nv));
    if (!nv) {
        free(data);
        return EV_ENOMEM;
    }
    fs->v = nv;
    char *nm = ev__strdup(name);
    if (!nm) {
        free(data);
        return EV_ENOMEM;
    }
    fs->v[fs->n].name = nm;
    fs->v[fs->n].data = data;
    fs->v[fs->n].len = len;
    fs->n++;
    return EV_OK;
}

static int note(json_t *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int note(json_t *notes, const char *fmt, ...)
{
    char buf[EV_MEDIA_WHY + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    json_t *s = ev_media__jstr(buf, sizeof(buf));
    return (s && json_array_append_new(notes, s) == 0) ? 0 : -1;
}

/* Merge the keys of src into dst without overwriting (dst wins). */
/* The group a capture field belongs to: the fields of one date travel
 * together (value, local value, offset, zone), so that a date is never
 * made of one source's value and another's zone. */
static size_t field_group(const char *k)
{
    static const char *const groups[] = { "datetime_original", "datetime_digitized",
                                          "datetime_modified" };
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        size_t n = strlen(groups[i]);
        if (strncmp(k, groups[i], n) == 0 && (k[n] == '\0' || k[n] == '_'))
            return n;
    }
    return strlen(k);
}

static bool has_group(const json_t *o, const char *k, size_t n)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        if (strncmp(key, k, n) == 0 && (key[n] == '\0' || key[n] == '_'))
            return true;
    }
    return false;
}

/* Container-tag facts fill what the still's own metadata (EXIF, XMP) left
 * empty: whole date groups, never part of one; each fact copied keeps its
 * source in sources; warnings of both are kept. */
static int merge_missing(json_t *dst, json_t *src)
{
    const char *k;
    json_t *v;
    json_t *dsrc = json_object_get(dst, "sources"), *ssrc = json_object_get(src, "sources");
    json_t *before = json_copy(dst); /* what the still's metadata gave */
    if (!before)
        return -1;
    json_object_foreach(src, k, v) {
        if (!strcmp(k, "sources") || !strcmp(k, "source"))
            continue;
        if (!strcmp(k, "warnings")) {
            json_t *w = json_object_get(dst, "warnings");
            if (!w) {
                if (json_object_set(dst, "warnings", v))
                    goto nomem;
            } else if (json_is_array(w) && json_is_array(v) && json_array_extend(w, v)) {
                goto nomem;
            }
            continue;
        }
        size_t g = field_group(k);
        if (json_object_get(before, k) || (g != strlen(k) && has_group(before, k, g)))
            continue;
        if (json_object_set(dst, k, v))
            goto nomem;
        /* the source of the fact copied: by its own name, or its group's */
        char gname[64];
        snprintf(gname, sizeof(gname), "%.*s", (int)(g < sizeof(gname) ? g : sizeof(gname) - 1),
                 k);
        json_t *sv = json_object_get(ssrc, k) ? json_object_get(ssrc, k)
                                              : json_object_get(ssrc, gname);
        if (sv) {
            if (!dsrc) {
                dsrc = json_object();
                if (!dsrc || json_object_set_new(dst, "sources", dsrc))
                    goto nomem;
            }
            if (!json_object_get(dsrc, json_object_get(ssrc, k) ? k : gname) &&
                json_object_set(dsrc, json_object_get(ssrc, k) ? k : gname, sv))
                goto nomem;
        }
    }
    json_decref(before);
    return 0;
nomem:
    json_decref(before);
    return -1;
}

static int list_entry(json_t *o, const ev_media__list *l, const char *name)
{
    if (!name)
        return 0;
    if (ev_media__set_str(o, "list", name) ||
        ev_media__set_int(o, "list_entries", (int64_t)l->entries))
        return -1;
    if (l->truncated && json_object_set_new(o, "list_truncated", json_true()))
        return -1;
    return 0;
}

/* content_hashes entries + meta files from a scan; also sets per-stream
 * packet/frame counts in media.streams. */
static int scan_to_json(json_t *media, json_t **out_content, files *fs, ev_media__scan *sc,
                        const ev_media__src *s, const ev_media__scan_opts *so)
{
    json_t *content = json_array();
    if (!content)
        return EV_ENOMEM;
    json_t *streams = json_object_get(media, "streams");
    for (unsigned int i = 0; i < sc->nstreams; i++) {
        ev_media__stream *r = &sc->streams[i];
        json_t *sj = json_array_get(streams, (size_t)r->index);
        if (sj && so->packets && ev_media__set_int(sj, "packets", (int64_t)r->packets))
            goto nomem;
        if (sj && so->decoded && r->have_decoded &&
            ev_media__set_int(sj, "frames", (int64_t)r->frames))
            goto nomem;
        if (r->type != AVMEDIA_TYPE_VIDEO && r->type != AVMEDIA_TYPE_AUDIO)
            continue;
        const AVStream *st = s->fmt->streams[r->index];
        json_t *e = json_object();
        if (!e || json_array_append_new(content, e))
            goto nomem;
        if (ev_media__set_int(e, "stream", r->index) ||
            ev_media__set_str(e, "type", av_get_media_type_string((enum AVMediaType)r->type)) ||
            ev_media__set_str(e, "codec", avcodec_get_name(st->codecpar->codec_id)) ||
            set_rational(e, "time_base", st->time_base))
            goto nomem;
        char name[64];
        if (so->packets && r->have_packets) {
            json_t *p = json_object();
            if (!p || json_object_set_new(e, "packets", p))
                goto nomem;
            if (ev_media__set_str(p, "sha256", r->packets_sha256) ||
                ev_media__set_int(p, "count", (int64_t)r->packets) ||
                ev_media__set_int(p, "bytes", (int64_t)r->packet_bytes))
                goto nomem;
            if (so->lists) {
                snprintf(name, sizeof(name), "frames-s%d-packets.txt", r->index);
                if (list_entry(p, &r->packet_list, name))
                    goto nomem;
                size_t len = r->packet_list.text.len;
                uint8_t *data = (uint8_t *)r->packet_list.text.data;
                r->packet_list.text.data = NULL;
                r->packet_list.text.len = r->packet_list.text.cap = 0;
                if (!data && !(data = calloc(1, 1)))
                    goto nomem;
                if (files_add(fs, name, data, len))
                    goto nomem;
            }
        }
        if (so->decoded) {
            json_t *d = json_object();
            if (!d || json_object_set_new(e, "decoded", d))
                goto nomem;
            if (r->decoder_missing || !r->have_decoded) {
                if (ev_media__set_str(d, "error", r->first_error[0] ? r->first_error
                                                                    : "not decoded"))
                    goto nomem;
            } else {
                if (ev_media__set_str(d, "sha256", r->decoded_sha256) ||
                    ev_media__set_int(d, "count", (int64_t)r->frames) ||
                    ev_media__set_int(d, "bytes", (int64_t)r->decoded_bytes) ||
                    ev_media__set_str(d, "format", r->decoded_format) ||
                    ev_media__set_str(d, "as", r->decoded_as) ||
                    ev_media__set_str(d, "decoder", r->decoder) ||
                    ev_media__set_int(d, "errors", (int64_t)r->decode_errors))
                    goto nomem;
                if (r->first_error[0] && ev_media__set_str(d, "first_error", r->first_error))
                    goto nomem;
                if (so->lists) {
                    snprintf(name, sizeof(name), "frames-s%d-decoded.txt", r->index);
                    if (list_entry(d, &r->decoded_list, name))
                        goto nomem;
                    size_t len = r->decoded_list.text.len;
                    uint8_t *data = (uint8_t *)r->decoded_list.text.data;
                    r->decoded_list.text.data = NULL;
                    r->decoded_list.text.len = r->decoded_list.text.cap = 0;
                    if (!data && !(data = calloc(1, 1)))
                        goto nomem;
                    if (files_add(fs, name, data, len))
                        goto nomem;
                }
            }
        }
        if (json_object_set_new(e, "complete", json_boolean(sc->complete)))
            goto nomem;
    }
    if (json_array_size(content) == 0) {
        json_decref(content);
        content = NULL;
    }
    *out_content = content;
    return EV_OK;
nomem:
    json_decref(content);
    return EV_ENOMEM;
}

int ev_media__analyze(json_t **out_media, json_t **out_capture, json_t **out_content,
                      ev_media__file **out_meta, size_t *out_nmeta,
                      const ev_io *io, const char *name_hint, int content_mode,
                      ev_errbuf *err)
{
    ev_media__limits lim;
    ev_media__limits_default(&lim, io ? ev_media__io_size(io) : 0);
    lim.thumbnail = false;
    return ev_media__analyze_ex(out_media, out_capture, out_content, out_meta, out_nmeta, io,
                                name_hint, content_mode, &lim, err);
}

/* ---- thumbnails ------------------------------------------------------- */

#define EV_THUMB_SIDE 160

/* EXIF orientation (1-8) that shows a picture stored with this display
 * matrix upright (rotation only; a mirrored matrix is shown as stored). */
static int orientation_of_matrix(const AVStream *st)
{
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (!m)
        return 1;
    double r = -av_display_rotation_get((const int32_t *)m);
    if (isnan(r))
        return 1;
    long q = lround(r / 90.0) % 4;
    if (q < 0)
        q += 4;
    static const int o[4] = { 1, 6, 3, 8 };
    return o[q];
}

/* Source pixel of display pixel (x, y) for an EXIF orientation, the stored
 * picture being w x h. */
static void oriented_src(int o, int x, int y, int w, int h, int *sx, int *sy)
{
    switch (o) {
    case 2: *sx = w - 1 - x; *sy = y; break;
    case 3: *sx = w - 1 - x; *sy = h - 1 - y; break;
    case 4: *sx = x; *sy = h - 1 - y; break;
    case 5: *sx = y; *sy = x; break;
    case 6: *sx = y; *sy = h - 1 - x; break;
    case 7: *sx = w - 1 - y; *sy = h - 1 - x; break;
    case 8: *sx = w - 1 - y; *sy = x; break;
    default: *sx = x; *sy = y; break;
    }
}

/* A JPEG of frame f, longest side at most EV_THUMB_SIDE (never enlarged),
 * in its display aspect (sample aspect ratio applied) and upright
 * (orientation 1-8). On failure returns a status and says why. */
static int make_thumb(uint8_t **out, size_t *out_len, int *tw, int *th, const AVFrame *f,
                      AVRational sar, int orientation, char *why, size_t whylen)
{
    *out = NULL;
    *out_len = 0;
    int rc = EV_EUNSUPPORTED;
    struct SwsContext *sws = NULL;
    AVFrame *rgb = NULL, *rot = NULL, *yuv = NULL;
    AVCodecContext *enc = NULL;
    AVPacket *pkt = NULL;
    if (f->width <= 0 || f->height <= 0 || f->format < 0 ||
        !sws_isSupportedInput((enum AVPixelFormat)f->format)) {
        snprintf(why, whylen, "the decoded pixel format %s cannot be scaled",
                 av_get_pix_fmt_name((enum AVPixelFormat)f->format) ? av_get_pix_fmt_name(
                     (enum AVPixelFormat)f->format) : "(none)");
        return rc;
    }
    double dw = (double)f->width, dh = (double)f->height;
    if (sar.num > 0 && sar.den > 0)
        dw = dw * sar.num / sar.den;
    double side = dw > dh ? dw : dh;
    double k = side > EV_THUMB_SIDE ? EV_THUMB_SIDE / side : 1.0;
    int sw = (int)lround(dw * k), sh = (int)lround(dh * k);
    sw = sw < 1 ? 1 : sw > EV_THUMB_SIDE ? EV_THUMB_SIDE : sw;
    sh = sh < 1 ? 1 : sh > EV_THUMB_SIDE ? EV_THUMB_SIDE : sh;
    bool swap = orientation >= 5 && orientation <= 8;
    int ow = swap ? sh : sw, oh = swap ? sw : sh;
    rc = EV_ENOMEM;
    rgb = av_frame_alloc();
    rot = av_frame_alloc();
    yuv = av_frame_alloc();
    pkt = av_packet_alloc();
    if (!rgb || !rot || !yuv || !pkt)
        goto done;
    rgb->format = rot->format = AV_PIX_FMT_RGB24;
    rgb->width = sw;
    rgb->height = sh;
    rot->width = ow;
    rot->height = oh;
    yuv->format = AV_PIX_FMT_YUVJ420P;
    yuv->width = ow;
    yuv->height = oh;
    if (av_frame_get_buffer(rgb, 0) < 0 || av_frame_get_buffer(rot, 0) < 0 ||
        av_frame_get_buffer(yuv, 0) < 0)
        goto done;
    sws = sws_getContext(f->width, f->height, (enum AVPixelFormat)f->format, sw, sh,
                         AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL, NULL);
    if (!sws || sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height,
                          rgb->data, rgb->linesize) != sh) {
        rc = EV_EUNSUPPORTED;
        snprintf(why, whylen, "the frame could not be scaled");
        goto done;
    }
    sws_freeContext(sws);
    for (int y = 0; y < oh; y++) {
        uint8_t *d = rot->data[0] + (size_t)y * (size_t)rot->linesize[0];
        for (int x = 0; x < ow; x++) {
            int sx, sy;
            oriented_src(orientation, x, y, sw, sh, &sx, &sy);
            const uint8_t *p = rgb->data[0] + (size_t)sy * (size_t)rgb->linesize[0] + 3 * (size_t)sx;
            memcpy(d + 3 * x, p, 3);
        }
    }
    sws = sws_getContext(ow, oh, AV_PIX_FMT_RGB24, ow, oh, AV_PIX_FMT_YUVJ420P, SWS_POINT,
                         NULL, NULL, NULL);
    if (!sws || sws_scale(sws, (const uint8_t *const *)rot->data, rot->linesize, 0, oh,
                          yuv->data, yuv->linesize) != oh) {
        rc = EV_EUNSUPPORTED;
        snprintf(why, whylen, "the frame could not be converted for JPEG");
        goto done;
    }
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!codec) {
        rc = EV_EUNSUPPORTED;
        snprintf(why, whylen, "no JPEG encoder in this build of libavcodec");
        goto done;
    }
    if (!(enc = avcodec_alloc_context3(codec)))
        goto done;
    enc->width = ow;
    enc->height = oh;
    enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
    enc->time_base = (AVRational){ 1, 25 };
    enc->thread_count = 1;
    enc->flags |= AV_CODEC_FLAG_QSCALE | AV_CODEC_FLAG_BITEXACT;
    enc->global_quality = FF_QP2LAMBDA * 4;
    yuv->quality = enc->global_quality;
    yuv->pts = 0;
    if (avcodec_open2(enc, codec, NULL) < 0 || avcodec_send_frame(enc, yuv) < 0 ||
        avcodec_send_frame(enc, NULL) < 0 || avcodec_receive_packet(enc, pkt) < 0 ||
        pkt->size <= 0) {
        rc = EV_EUNSUPPORTED;
        snprintf(why, whylen, "the JPEG encoder failed");
        goto done;
    }
    if (!(*out = malloc((size_t)pkt->size)))
        goto done;
    memcpy(*out, pkt->data, (size_t)pkt->size);
    *out_len = (size_t)pkt->size;
    *tw = ow;
    *th = oh;
    rc = EV_OK;
done:
    if (rc == EV_ENOMEM)
        snprintf(why, whylen, "out of memory");
    sws_freeContext(sws);
    av_frame_free(&rgb);
    av_frame_free(&rot);
    av_frame_free(&yuv);
    av_packet_free(&pkt);
    avcodec_free_context(&enc);
    return rc;
}

/* When frames were not decoded (packet hashes only), the thumbnail's frame
 * is found on its own: seek to 10% of the first video stream (a still: to
 * its start) and decode until the last frame at or before that point, then
 * stop. A few packets, not the whole file. EV_OK with *out NULL when no
 * frame could be had (why says it); EV_ENOMEM, EV_EIO, EV_ECANCELED fatal. */
static int grab_thumb(AVFrame **out, int *out_stream, ev_media__src *src,
                      const ev_media__limits *lim, char *why, size_t whylen)
{
    *out = NULL;
    *out_stream = -1;
    AVFormatContext *fmt = src->fmt;
    int si = -1;
    for (unsigned int i = 0; i < fmt->nb_streams && i < EV_MEDIA_MAX_STREAMS; i++) {
        const AVStream *st = fmt->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
            si = (int)i;
            break;
        }
    }
    if (si < 0) {
        snprintf(why, whylen, "no video stream");
        return EV_OK;
    }
    AVStream *st = fmt->streams[si];
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec) {
        snprintf(why, whylen, "no decoder for '%s'", avcodec_get_name(st->codecpar->codec_id));
        return EV_OK;
    }
    int rc = EV_OK, ret;
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc(), *keep = av_frame_alloc();
    if (!dec || !pkt || !f || !keep) {
        rc = EV_ENOMEM;
        goto done;
    }
    if (avcodec_parameters_to_context(dec, st->codecpar) < 0) {
        snprintf(why, whylen, "cannot set up the '%s' decoder", codec->name);
        goto done;
    }
    dec->pkt_timebase = st->time_base;
    dec->thread_count = 1; /* one frame: no pipeline to fill */
    if (lim->max_pixels > 0)
        dec->max_pixels = lim->max_pixels;
    if (avcodec_open2(dec, codec, NULL) < 0) {
        snprintf(why, whylen, "cannot open the '%s' decoder", codec->name);
        goto done;
    }
    for (unsigned int i = 0; i < fmt->nb_streams; i++)
        fmt->streams[i]->discard = (int)i == si ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    int64_t start = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
    int64_t target = AV_NOPTS_VALUE;
    if (!is_image_format(fmt->iformat->name)) {
        if (st->duration > 0 && st->duration != AV_NOPTS_VALUE)
            target = start + st->duration / 10;
        else if (fmt->duration > 0 && fmt->duration != AV_NOPTS_VALUE)
            target = start + av_rescale_q(fmt->duration / 10, AV_TIME_BASE_Q, st->time_base);
    }
    /* back to a key frame at or before the target, else to the start */
    ret = target != AV_NOPTS_VALUE ? av_seek_frame(fmt, si, target, AVSEEK_FLAG_BACKWARD) : -1;
    if (ret < 0)
        ret = av_seek_frame(fmt, -1, 0, AVSEEK_FLAG_BYTE);
    if (ret < 0 && target != AV_NOPTS_VALUE)
        ret = av_seek_frame(fmt, si, start, AVSEEK_FLAG_BACKWARD);
    if (ret < 0) {
        int fatal = ev_media__src_fatal(src, ret);
        if (fatal) {
            rc = fatal;
            goto done;
        }
        snprintf(why, whylen, "the file cannot be read again from a key frame");
        goto done;
    }
    bool have = false, done_ = false, draining = false;
    /* bounded: a key frame interval is rarely over a few hundred packets */
    for (unsigned int npk = 0; !done_ && npk < 4096;) {
        if (!draining) {
            ret = av_read_frame(fmt, pkt);
            if (ret < 0) {
                int fatal = ev_media__src_fatal(src, ret);
                if (fatal) {
                    rc = fatal;
                    goto done;
                }
                draining = true;
                ret = avcodec_send_packet(dec, NULL);
            } else {
                npk++;
                if (pkt->stream_index == si)
                    ret = avcodec_send_packet(dec, pkt);
                av_packet_unref(pkt);
            }
        }
        for (;;) {
            ret = avcodec_receive_frame(dec, f);
            if (ret == AVERROR(EAGAIN))
                break;
            if (ret < 0) {
                done_ = draining || ret == AVERROR_EOF;
                break;
            }
            int64_t pts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp
                                                                   : f->pts;
            bool before = target == AV_NOPTS_VALUE || pts == AV_NOPTS_VALUE || pts <= target;
            if (!have || before) {
                av_frame_unref(keep);
                if (av_frame_ref(keep, f) < 0) {
                    rc = EV_ENOMEM;
                    goto done;
                }
                have = true;
            }
            av_frame_unref(f);
            if (!before || target == AV_NOPTS_VALUE) {
                done_ = true;
                break;
            }
        }
        if (draining && !done_)
            done_ = true;
    }
    if (have) {
        *out = keep;
        keep = NULL;
        *out_stream = si;
    } else {
        snprintf(why, whylen, "no frame could be decoded near 10%% of the video");
    }
done:
    av_frame_free(&keep);
    av_frame_free(&f);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    return rc;
}

int ev_media__analyze_ex(json_t **out_media, json_t **out_capture, json_t **out_content,
                         ev_media__file **out_meta, size_t *out_nmeta,
                         const ev_io *io, const char *name_hint, int content_mode,
                         const ev_media__limits *limits, ev_errbuf *err)
{
    if (out_media)
        *out_media = NULL;
    if (out_capture)
        *out_capture = NULL;
    if (out_content)
        *out_content = NULL;
    if (out_meta)
        *out_meta = NULL;
    if (out_nmeta)
        *out_nmeta = 0;
    if (!out_media || !io || !io->read)
        return ev_err__set(err, EV_EINVAL, "media analysis: no output or no readable io given");
    bool want_packets, want_decoded;
    switch (content_mode) {
    case EV_CONTENT_HASH_DEFAULT:
    case EV_CONTENT_HASH_BOTH:
        want_packets = want_decoded = true;
        break;
    case EV_CONTENT_HASH_NONE:
        want_packets = want_decoded = false;
        break;
    case EV_CONTENT_HASH_PACKETS:
        want_packets = true;
        want_decoded = false;
        break;
    case EV_CONTENT_HASH_DECODED:
        want_packets = false;
        want_decoded = true;
        break;
    default:
        return ev_err__set(err, EV_EINVAL, "media analysis: unknown content hash mode %d",
                           content_mode);
    }
    uint64_t size = ev_media__io_size(io);
    ev_media__limits lim;
    if (limits)
        lim = *limits;
    else
        ev_media__limits_default(&lim, size);

    int rc = EV_ENOMEM;
    json_t *media = NULL, *capture = NULL, *content = NULL, *notes = json_array();
    files fs = { NULL, 0 };
    ev_media__src src = { 0 };
    ev_media__scan sc = { 0 };
    char why[EV_MEDIA_WHY] = "";
    char error[EV_MEDIA_WHY + 64] = "";
    if (!notes)
        goto done;
    ev_media__src_budget(&src, &lim, size);

    /* 1. What is it (first bytes), and EXIF for stills. */
    ev_exif_container still = EV_EXIF_NONE;
    if (io->seek) {
        uint8_t head[64];
        size_t got = 0;
        if (io->seek(io->opaque, 0, 0) == 0) {
            while (got < sizeof(head)) {
                int64_t n = io->read(io->opaque, head + got, sizeof(head) - got);
                if (n < 0) {
                    rc = n == EV_ECANCELED ? EV_ECANCELED : EV_EIO;
                    ev_err__set(err, rc, "media analysis: %s while reading the first bytes",
                                rc == EV_ECANCELED ? "canceled" : "read error");
                    goto done;
                }
                if (n == 0)
                    break;
                got += (size_t)n;
            }
        }
        if (got == 0) {
            if (!(media = json_object()) || ev_media__set_str(media, "kind", "other") ||
                ev_media__set_str(media, "error", "empty file: nothing to analyse"))
                goto done;
            rc = EV_OK;
            goto finish;
        }
        still = ev_exif__sniff(head, got);
    }
    if (still != EV_EXIF_NONE) {
        uint8_t *blk = NULL;
        size_t blen = 0;
        char ewhy[EV_MEDIA_WHY] = "";
        int erc = ev_exif__still(&capture, &blk, &blen, io, still, ewhy, sizeof(ewhy));
        if (erc != EV_OK) {
            rc = erc;
            ev_err__set(err, rc, "media analysis: %s while looking for EXIF",
                        rc == EV_ENOMEM ? "out of memory" : rc == EV_EIO ? "read error" : "canceled");
            goto done;
        }
        if (blk && capture && json_object_set_new(capture, "exif_file", json_string("exif.bin"))) {
            free(blk);
            goto done;
        }
        if (blk && files_add(&fs, "exif.bin", blk, blen))
            goto done;
        if (ewhy[0] && note(notes, "EXIF: %s", ewhy))
            goto done;
    }

    /* 2. Probe with libavformat. */
    int orc = ev_media__src_open(&src, io, name_hint, &lim, why, sizeof(why));
    if (orc == EV_ENOMEM || orc == EV_EIO || orc == EV_ECANCELED) {
        rc = orc;
        ev_err__set(err, rc, "media analysis: %s while probing",
                    rc == EV_ENOMEM ? "out of memory" : rc == EV_EIO ? "read error" : "canceled");
        goto done;
    }
    if (orc != EV_OK) {
        if (!(media = json_object()))
            goto done;
        if (still == EV_EXIF_HEIF) {
            if (ev_media__set_str(media, "kind", "image") ||
                ev_media__set_str(media, "container", "heif") ||
                json_object_set_new(media, "decodable", json_false()) ||
                note(notes, "HEIF/HEIC: no decoder in this build (FFmpeg 5.1 cannot read "
                            "HEIF items); the file is packed and hashed as a master, "
                            "bit for bit, without content hashes"))
                goto done;
        } else {
            if (ev_media__set_str(media, "kind", still != EV_EXIF_NONE ? "image" : "other") ||
                ev_media__set_str(media, "error", why))
                goto done;
        }
        rc = EV_OK;
        goto finish;
    }
    if (why[0])
        snprintf(error, sizeof(error), "%s", why);
    else if (src.fmt->nb_streams == 0)
        snprintf(error, sizeof(error), "%s: the container holds no streams", src.fmt->iformat->name);
    if (ev_media__facts(&media, &src, lim.max_streams))
        goto done;

    for (unsigned int i = 0; i < src.fmt->nb_streams && i < lim.max_streams; i++) {
        const AVCodecParameters *par = src.fmt->streams[i]->codecpar;
        bool unknown = (par->codec_type == AVMEDIA_TYPE_VIDEO &&
                        (par->width <= 0 || par->height <= 0 || par->format < 0)) ||
                       (par->codec_type == AVMEDIA_TYPE_AUDIO &&
                        (par->sample_rate <= 0 || par->ch_layout.nb_channels <= 0));
        if (unknown && note(notes, "stream %u (%s): codec parameters unknown (size, pixel or "
                                   "sample format, rate or channels missing)",
                            i, avcodec_get_name(par->codec_id)))
            goto done;
    }

    /* 3. Content hashes (one pass over every packet). */
    if (want_packets || want_decoded) {
        ev_media__scan_opts so = { want_packets, want_decoded, lim.frame_lists, &lim,
                                   lim.thumbnail };
        int src_rc = ev_media__scan_run(&sc, &src, &so);
        if (src_rc != EV_OK) {
            rc = src_rc;
            ev_err__set(err, rc, "media analysis: %s while reading packets",
                        rc == EV_ENOMEM   ? "out of memory"
                        : rc == EV_EIO    ? "read error"
                        : rc == EV_ECANCELED ? "canceled"
                                             : "failure");
            goto done;
        }
        if (!sc.complete && sc.stop_reason[0] && !error[0])
            snprintf(error, sizeof(error), "reading stopped early: %s", sc.stop_reason);
        uint64_t total = 0;
        for (unsigned int i = 0; i < sc.nstreams; i++)
            total += sc.streams[i].packets;
        if (total == 0 && sc.nstreams > 0 && !error[0])
            snprintf(error, sizeof(error), "%s: no packet could be read from any stream",
                     src.fmt->iformat->name);
        for (unsigned int i = 0; want_decoded && !error[0] && i < sc.nstreams; i++) {
            const ev_media__stream *r = &sc.streams[i];
            if ((r->type == AVMEDIA_TYPE_VIDEO || r->type == AVMEDIA_TYPE_AUDIO) &&
                r->packets > 0 && r->frames == 0 && !r->decoder_missing)
                snprintf(error, sizeof(error),
                         "stream %d (%s): none of its %llu packets could be decoded%s%s",
                         r->index, avcodec_get_name(src.fmt->streams[i]->codecpar->codec_id),
                         (unsigned long long)r->packets, r->first_error[0] ? ": " : "",
                         r->first_error);
        }
        for (unsigned int i = 0; i < sc.nstreams; i++) {
            ev_media__stream *r = &sc.streams[i];
            if (r->decode_errors &&
                note(notes, "stream %d: %llu decode error(s), first: %s", r->index,
                     (unsigned long long)r->decode_errors, r->first_error))
                goto done;
        }
        if (so.lists && ev_media__timelines(media, &sc, &src))
            goto done;
        if (scan_to_json(media, &content, &fs, &sc, &src, &so))
            goto done;
    }

    /* 4. Capture facts from container tags (EXIF facts win). */
    {
        json_t *tagcap = NULL;
        if (ev_media__capture_from_tags(&tagcap, &src))
            goto done;
        if (tagcap) {
            if (!capture) {
                capture = tagcap;
            } else {
                int m = merge_missing(capture, tagcap);
                json_decref(tagcap);
                if (m)
                    goto done;
            }
        }
    }
    /* 5. The thumbnail, from the frame the scan kept (never a failure of
     * the analysis: a note says why there is none) */
    if (lim.thumbnail && !error[0]) {
        const char *kind = json_string_value(json_object_get(media, "kind"));
        bool visual = kind && (!strcmp(kind, "image") || !strcmp(kind, "video"));
        char twhy[EV_MEDIA_WHY] = "";
        if (visual && !want_decoded && !(sc.thumb && sc.thumb->buf[0])) {
            /* packet hashes only: seek and decode the one frame needed */
            AVFrame *g = NULL;
            int gs = -1;
            int grc = grab_thumb(&g, &gs, &src, &lim, twhy, sizeof(twhy));
            if (grc != EV_OK) {
                rc = grc;
                if (rc != EV_ENOMEM)
                    ev_err__set(err, rc, "media analysis: the source failed while the "
                                "thumbnail frame was read");
                goto done;
            }
            if (g) {
                av_frame_free(&sc.thumb);
                sc.thumb = g;
                sc.thumb_stream = gs;
            }
        }
        if (sc.thumb && sc.thumb->buf[0]) {
            const AVStream *st = src.fmt->streams[sc.thumb_stream];
            json_t *o = json_object_get(capture, "orientation");
            int orient = json_is_integer(o) && json_integer_value(o) >= 1 &&
                                 json_integer_value(o) <= 8
                             ? (int)json_integer_value(o)
                             : orientation_of_matrix(st);
            AVRational sar = sc.thumb->sample_aspect_ratio.num > 0
                                 ? sc.thumb->sample_aspect_ratio
                                 : st->sample_aspect_ratio;
            uint8_t *jpg = NULL;
            size_t jlen = 0;
            int tw = 0, th = 0;
            int trc = make_thumb(&jpg, &jlen, &tw, &th, sc.thumb, sar, orient, twhy,
                                 sizeof(twhy));
            if (trc == EV_ENOMEM)
                goto done;
            if (trc == EV_OK) {
                int64_t pts = sc.thumb->best_effort_timestamp != AV_NOPTS_VALUE
                                  ? sc.thumb->best_effort_timestamp : sc.thumb->pts;
                json_t *t = json_object();
                if (!t || json_object_set_new(media, "thumbnail", t) ||
                    ev_media__set_str(t, "file", "thumb.jpg") ||
                    ev_media__set_int(t, "width", tw) || ev_media__set_int(t, "height", th) ||
                    ev_media__set_int(t, "stream", sc.thumb_stream) ||
                    (pts != AV_NOPTS_VALUE && set_seconds(t, "time", pts - (st->start_time !=
                                                                             AV_NOPTS_VALUE
                                                                             ? st->start_time
                                                                             : 0),
                                                          st->time_base)) ||
                    (orient != 1 && ev_media__set_int(t, "orientation", orient))) {
                    free(jpg);
                    goto done;
                }
                if (files_add(&fs, "thumb.jpg", jpg, jlen))
                    goto done;
            }
        } else if (visual && !twhy[0]) {
            snprintf(twhy, sizeof(twhy), "no video frame was decoded");
        }
        if (twhy[0] && note(notes, "thumbnail: none, %s", twhy))
            goto done;
    }
    if (error[0] && ev_media__set_str(media, "error", error))
        goto done;
    rc = EV_OK;

finish:
    if (json_array_size(notes) > 0 && json_object_set(media, "notes", notes)) {
        rc = EV_ENOMEM;
        goto done;
    }
    *out_media = media;
    media = NULL;
    if (out_capture) {
        *out_capture = capture;
        capture = NULL;
    }
    if (out_content) {
        *out_content = content;
        content = NULL;
    }
    if (out_meta && out_nmeta) {
        *out_meta = fs.v;
        *out_nmeta = fs.n;
        fs.v = NULL;
        fs.n = 0;
    }
done:
    if (rc == EV_ENOMEM)
        ev_err__set(err, rc, "media analysis: out of memory");
    ev_media__scan_free(&sc);
    ev_media__src_close(&src);
    json_decref(media);
    json_decref(capture);
    json_decref(content);
    json_decref(notes);
    ev_media__files_free(fs.v, fs.n);
    return rc;
}
