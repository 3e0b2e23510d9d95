/*
 * media_hash: content hashes (docs/content-hashes.md).
 * - packets: SHA-256 over every packet payload of a stream, in demux order,
 *   exactly what `ffmpeg -i F -map 0 -c copy -f streamhash -hash sha256 -`
 *   hashes (with -copyinitialnonkeyframes);
 * - decoded: SHA-256 over every decoded frame: video in its native pixel
 *   format packed with align 1 (as -c:v rawvideo), audio interleaved at its
 *   native depth (as -c:a pcm_s16le / pcm_s24le / pcm_s32le / pcm_f32le ...),
 *   bit-exact decoder flags (+bitexact, idct simple), threads on;
 * - per-frame lists (text) for both; deep verification that names the
 *   frames that differ.
 * Each byte goes to two SHA-256 computations: the whole-stream hash and
 * the hash of its packet or frame (for the lists), both OpenSSL EVP through
 * base/hash.h; decoded frames are hashed on a worker thread while the
 * decoder goes on.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>


#include "base/hash.h"
#include "base/internal.h"
#include "media/media_int.h"

#define MAX_RECEIVE_ERRORS 64
#define MAX_EAGAIN 10000
#define MAX_REPORTED_FRAMES 10000
#define LIST_VERSION_LINE "# evidence-frame-hashes 1\n"

typedef struct sstate {
    ev_media__stream *r;
    AVStream *st;
    ev_media__sha2 *ph; /* whole-stream packet hash */
    ev_media__sha2 *dh; /* whole-stream decoded hash */
    ev_media__sha2 *fh; /* one packet, for the packet list */
    ev_media__sha2 *ffh; /* one frame, for the frame list */
    AVCodecContext *dec;
    uint8_t *scratch;
    size_t scratch_cap;
} sstate;

/* The decoded bytes are hashed by a worker thread, so that the thread that
 * feeds the decoders does not wait for the hashing: frames (references,
 * not copies) go through a short queue, in decoder output order. */
#define HQ 4
#define HASH_CHECK 1 /* check the format, count the bytes, name the format */
#define HASH_FEED 2  /* feed the bytes to the hashers */

typedef struct hjob {
    sstate *s;
    AVFrame *f;     /* NULL: stop */
    uint64_t idx;   /* frame number in the list */
    uint64_t bytes; /* bytes the frame hashes to */
    int raw_bits;   /* the decoder's bits_per_raw_sample */
    bool ok;        /* the format could be hashed */
} hjob;

typedef struct hworker {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t put, get;
    hjob q[HQ];
    unsigned int head, n;
    int err;     /* first error of the worker (EV_ENOMEM, EV_ERROR) */
    bool cancel; /* drop what is queued */
    const ev_media__scan_opts *o;
} hworker;

typedef struct scan_ctx {
    ev_media__src *src;
    const ev_media__scan_opts *o;
    sstate *ss;
    unsigned int n;
    AVFrame *frame;
    ev_media__scan *out;
    hworker *w; /* NULL: the frames are hashed on this thread */
} scan_ctx;

/* ------------------------------------------------------------------------ */
/* SHA-256, two computations over the same bytes                             */
/* ------------------------------------------------------------------------ */

struct ev_media__sha2 {
    ev_hasher *ev;   /* OpenSSL */
};

/* The digests an evidence tool states are OpenSSL's: no SHA-256 of our own
 * (a hand-made path with the x86 SHA instructions, hashing the stream and
 * the frame together, saved about a tenth of the CPU of a decoded hash;
 * docs/content-hashes.md says why it was not kept). */
int ev_media__sha2_new(ev_media__sha2 **out)
{
    ev_media__sha2 *m = ev__calloc(1, sizeof(*m));
    if (!m)
        return EV_ENOMEM;
    int rc = ev_hash__new(&m->ev, EV_ALG_SHA256);
    if (rc) {
        free(m);
        return rc;
    }
    *out = m;
    return EV_OK;
}

void ev_media__sha2_free(ev_media__sha2 *m)
{
    if (!m)
        return;
    ev_hash__free(m->ev);
    free(m);
}

int ev_media__sha2_reset(ev_media__sha2 *m)
{
    return ev_hash__reset(m->ev);
}

/* Feed p[0..n) to a and to b (b may be NULL). */
int ev_media__sha2_update2(ev_media__sha2 *a, ev_media__sha2 *b, const void *data, size_t n)
{
    if (ev_hash__update(a->ev, data, n))
        return EV_ERROR;
    if (b && ev_hash__update(b->ev, data, n))
        return EV_ERROR;
    return EV_OK;
}

int ev_media__sha2_final(ev_media__sha2 *m, char hex[65])
{
    ev_digests dg;
    if (ev_hash__final(m->ev, &dg))
        return EV_ERROR;
    memcpy(hex, dg.hex[EV_HASH_SHA256], 65);
    return ev_hash__reset(m->ev) == EV_OK ? EV_OK : EV_ERROR;
}

static int h_update(ev_media__sha2 *a, ev_media__sha2 *b, const void *p, size_t n)
{
    if (!a)
        return b ? ev_media__sha2_update2(b, NULL, p, n) : EV_OK;
    return ev_media__sha2_update2(a, b, p, n);
}

static void ts_str(char *buf, size_t len, int64_t ts)
{
    if (ts == AV_NOPTS_VALUE)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%" PRId64, ts);
}

static int list_line(ev_media__list *l, const ev_media__limits *lim, const char *line)
{
    if (l->entries >= lim->max_list_entries) {
        l->truncated = true;
        return EV_OK;
    }
    l->entries++;
    return ev_buf__puts(&l->text, line) ? EV_ENOMEM : EV_OK;
}

static int list_header(ev_media__list *l, const ev_media__stream *r, const AVStream *st,
                       const char *kind, const char *columns)
{
    char buf[256];
    snprintf(buf, sizeof(buf),
             LIST_VERSION_LINE "# stream %d %s %s kind %s time_base %d/%d\n# %s\n", r->index,
             av_get_media_type_string((enum AVMediaType)r->type) ? av_get_media_type_string((enum AVMediaType)r->type) : "unknown",
             avcodec_get_name(st->codecpar->codec_id), kind, st->time_base.num,
             st->time_base.den, columns);
    return ev_buf__puts(&l->text, buf) ? EV_ENOMEM : EV_OK;
}

/* ------------------------------------------------------------------------ */
/* Decoders                                                                  */
/* ------------------------------------------------------------------------ */

static int open_decoder(sstate *s, const ev_media__limits *lim)
{
    const AVCodecParameters *par = s->st->codecpar;
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    if (!codec) {
        s->r->decoder_missing = true;
        snprintf(s->r->first_error, sizeof(s->r->first_error),
                 "no decoder for codec '%s' in this FFmpeg build", avcodec_get_name(par->codec_id));
        return EV_OK;
    }
    s->dec = avcodec_alloc_context3(codec);
    if (!s->dec)
        return EV_ENOMEM;
    /* FFmpeg's ENOMEM here is no proof of a real out-of-memory (huge claimed
     * extradata, decoder limits): the stream is reported as not decodable */
    int ret = avcodec_parameters_to_context(s->dec, par);
    if (ret < 0) {
        char e[AV_ERROR_MAX_STRING_SIZE] = "";
        av_strerror(ret, e, sizeof(e));
        snprintf(s->r->first_error, sizeof(s->r->first_error),
                 "cannot set up decoder '%s': %s", codec->name, e);
        s->r->decoder_missing = true;
        avcodec_free_context(&s->dec);
        return EV_OK;
    }
    s->dec->pkt_timebase = s->st->time_base;
    s->dec->thread_count = (int)lim->threads;
    s->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    s->dec->flags |= AV_CODEC_FLAG_BITEXACT;
    s->dec->idct_algo = FF_IDCT_SIMPLE;
    if (lim->max_pixels > 0)
        s->dec->max_pixels = lim->max_pixels;
    ret = avcodec_open2(s->dec, codec, NULL);
    if (ret < 0) {
        char e[AV_ERROR_MAX_STRING_SIZE] = "";
        av_strerror(ret, e, sizeof(e));
        snprintf(s->r->first_error, sizeof(s->r->first_error),
                 "cannot open decoder '%s': %s", codec->name, e);
        s->r->decoder_missing = true;
        avcodec_free_context(&s->dec);
        return EV_OK;
    }
    snprintf(s->r->decoder, sizeof(s->r->decoder), "%s (libavcodec %s) flags=+bitexact idct=simple",
             codec->name, AV_STRINGIFY(LIBAVCODEC_VERSION));
    return EV_OK;
}

/* Bytes of plane p for a frame packed with align 1, and its row count. */
static int video_frame_hash(sstate *s, const AVFrame *f, uint64_t *bytes, int mode)
{
    bool feed = mode & HASH_FEED;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get((enum AVPixelFormat)f->format);
    if (!d || (d->flags & AV_PIX_FMT_FLAG_HWACCEL) || f->width <= 0 || f->height <= 0)
        return EV_EFORMAT;
    int ls[4];
    if (av_image_fill_linesizes(ls, (enum AVPixelFormat)f->format, f->width) < 0)
        return EV_EFORMAT;
    int nb_planes = 0;
    for (int i = 0; i < d->nb_components; i++)
        if (d->comp[i].plane > nb_planes)
            nb_planes = d->comp[i].plane;
    nb_planes++;
    uint64_t total = 0;
    ev_media__sha2 *fh = s->ffh;
    for (int p = 0; p < nb_planes && p < 4; p++) {
        int shift = (p == 1 || p == 2) ? d->log2_chroma_h : 0;
        int h = (f->height + (1 << shift) - 1) >> shift;
        const uint8_t *row = f->data[p];
        if (!row || ls[p] <= 0)
            return EV_EFORMAT;
        if (!feed) {
            /* counted only */
        } else if (f->linesize[p] == ls[p]) {
            /* rows without padding: one update for the whole plane */
            if (h_update(s->dh, fh, row, (size_t)ls[p] * (size_t)h))
                return EV_ERROR;
        } else {
            for (int y = 0; y < h; y++) {
                if (h_update(s->dh, fh, row, (size_t)ls[p]))
                    return EV_ERROR;
                row += f->linesize[p];
            }
        }
        total += (uint64_t)ls[p] * (uint64_t)h;
    }
    if (d->flags & AV_PIX_FMT_FLAG_PAL) {
        /* av_image_copy_to_buffer: palette at the next 4-byte boundary */
        static const uint8_t zero[4] = { 0 };
        size_t pad = (size_t)((4 - (total & 3)) & 3);
        if (feed && pad && h_update(s->dh, fh, zero, pad))
            return EV_ERROR;
        uint8_t pal[1024];
        for (int i = 0; i < 256; i++) {
            uint32_t v;
            memcpy(&v, f->data[1] + 4 * i, 4);
            pal[4 * i] = (uint8_t)v;
            pal[4 * i + 1] = (uint8_t)(v >> 8);
            pal[4 * i + 2] = (uint8_t)(v >> 16);
            pal[4 * i + 3] = (uint8_t)(v >> 24);
        }
        if (feed && h_update(s->dh, fh, pal, sizeof(pal)))
            return EV_ERROR;
        total += pad + sizeof(pal);
    }
    if ((mode & HASH_CHECK) && !s->r->decoded_format[0]) {
        snprintf(s->r->decoded_format, sizeof(s->r->decoded_format), "%s", d->name);
        snprintf(s->r->decoded_as, sizeof(s->r->decoded_as), "rawvideo");
    }
    *bytes = total;
    return EV_OK;
}

/* The raw PCM codec matching a decoded sample format at its native depth. */
static const char *pcm_name(enum AVSampleFormat fmt, int raw_bits, int *out_bytes, bool *pack24)
{
    *pack24 = false;
    switch (av_get_packed_sample_fmt(fmt)) {
    case AV_SAMPLE_FMT_U8:
        *out_bytes = 1;
        return "pcm_u8";
    case AV_SAMPLE_FMT_S16:
        *out_bytes = 2;
        return "pcm_s16le";
    case AV_SAMPLE_FMT_S32:
        if (raw_bits > 0 && raw_bits <= 24) {
            *pack24 = true;
            *out_bytes = 3;
            return "pcm_s24le";
        }
        *out_bytes = 4;
        return "pcm_s32le";
    case AV_SAMPLE_FMT_FLT:
        *out_bytes = 4;
        return "pcm_f32le";
    case AV_SAMPLE_FMT_DBL:
        *out_bytes = 8;
        return "pcm_f64le";
    case AV_SAMPLE_FMT_S64:
        *out_bytes = 8;
        return "pcm_s64le";
    default:
        return NULL;
    }
}

static int audio_frame_hash(sstate *s, const AVFrame *f, uint64_t *bytes, int mode, int raw_bits)
{
    enum AVSampleFormat fmt = (enum AVSampleFormat)f->format;
    int ch = f->ch_layout.nb_channels;
    int ns = f->nb_samples;
    int in_bytes = av_get_bytes_per_sample(fmt);
    int out_bytes = 0;
    bool pack24;
    const char *as = pcm_name(fmt, raw_bits, &out_bytes, &pack24);
    if (!as || ch <= 0 || ns < 0 || in_bytes <= 0)
        return EV_EFORMAT;
    if ((mode & HASH_CHECK) && !s->r->decoded_format[0]) {
        snprintf(s->r->decoded_format, sizeof(s->r->decoded_format), "%s",
                 av_get_sample_fmt_name(fmt));
        snprintf(s->r->decoded_as, sizeof(s->r->decoded_as), "%s", as);
    }
    ev_media__sha2 *fh = s->ffh;
    size_t total;
    if (__builtin_mul_overflow((size_t)ns, (size_t)ch, &total) ||
        __builtin_mul_overflow(total, (size_t)out_bytes, &total))
        return EV_EFORMAT;
    bool planar = av_sample_fmt_is_planar(fmt) && ch > 1;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    bool native_ok = !pack24;
#else
    bool native_ok = false || (in_bytes == 1 && !pack24);
#endif
    if (!planar && native_ok) {
        if (!f->extended_data[0])
            return EV_EFORMAT;
        if ((mode & HASH_FEED) && h_update(s->dh, fh, f->extended_data[0], total))
            return EV_ERROR;
        *bytes = total;
        return EV_OK;
    }
    if (!(mode & HASH_FEED)) {
        *bytes = total;
        return EV_OK;
    }
    if (total > s->scratch_cap) {
        uint8_t *p = realloc(s->scratch, total);
        if (!p)
            return EV_ENOMEM;
        s->scratch = p;
        s->scratch_cap = total;
    }
    uint8_t *o = s->scratch;
    for (int i = 0; i < ns; i++) {
        for (int c = 0; c < ch; c++) {
            const uint8_t *src = planar ? f->extended_data[c] + (size_t)i * (size_t)in_bytes
                                        : f->extended_data[0] +
                                              ((size_t)i * (size_t)ch + (size_t)c) * (size_t)in_bytes;
            /* little-endian output: value bytes from least significant */
            uint64_t v = 0;
            memcpy(&v, src, (size_t)in_bytes); /* host order into the low bytes */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            v >>= 8 * (8 - in_bytes);
#endif
            if (pack24) {
                uint32_t x = (uint32_t)v >> 8;
                o[0] = (uint8_t)x;
                o[1] = (uint8_t)(x >> 8);
                o[2] = (uint8_t)(x >> 16);
                o += 3;
            } else {
                for (int b = 0; b < out_bytes; b++)
                    *o++ = (uint8_t)(v >> (8 * b));
            }
        }
    }
    if (h_update(s->dh, fh, s->scratch, total))
        return EV_ERROR;
    *bytes = total;
    return EV_OK;
}

/* The thumbnail frame: the last one at or before the target, else the
 * first one after it (a reference, not a copy). */
static int keep_thumb(scan_ctx *c, const sstate *s, const AVFrame *f)
{
    ev_media__scan *sc = c->out;
    if (!sc->thumb || sc->thumb_done || s->r->index != sc->thumb_stream)
        return EV_OK;
    int64_t pts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
    bool have = sc->thumb->buf[0] != NULL;
    bool take = !have || (sc->thumb_target != AV_NOPTS_VALUE && pts != AV_NOPTS_VALUE &&
                          pts <= sc->thumb_target);
    if (have && (sc->thumb_target == AV_NOPTS_VALUE || (pts != AV_NOPTS_VALUE &&
                                                        pts > sc->thumb_target)))
        sc->thumb_done = true;
    if (!take)
        return EV_OK;
    av_frame_unref(sc->thumb);
    return av_frame_ref(sc->thumb, f) == 0 ? EV_OK : EV_ENOMEM;
}

/* A picture of another size than the frame before (in-band parameter sets
 * change mid-stream): counted, the first EV_MEDIA_SIZE_CHANGES kept. */
static int note_size(ev_media__stream *r, const AVFrame *f)
{
    if (r->size_w && (f->width != r->size_w || f->height != r->size_h) &&
        r->size_changes++ < EV_MEDIA_SIZE_CHANGES) {
        ev_media__size_change *g = ev__grow(r->size_change, &r->size_change_cap,
                                            (size_t)(r->size_changes - 1), sizeof(*g), 8);
        if (!g)
            return EV_ENOMEM;
        r->size_change = g;
        g[r->size_changes - 1] = (ev_media__size_change){
            r->frames + 1,
            f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts,
            r->size_w, r->size_h, f->width, f->height };
    }
    r->size_w = f->width;
    r->size_h = f->height;
    return EV_OK;
}

static int frame_hash(sstate *s, const AVFrame *f, uint64_t *bytes, int mode, int raw_bits)
{
    return s->r->type == AVMEDIA_TYPE_VIDEO ? video_frame_hash(s, f, bytes, mode)
                                            : audio_frame_hash(s, f, bytes, mode, raw_bits);
}

/* The frame's line of the list, after its bytes went to s->ffh. */
static int frame_line(sstate *s, const ev_media__scan_opts *o, const AVFrame *f, uint64_t idx,
                      uint64_t bytes, bool ok)
{
    if (!o->lists)
        return EV_OK;
    char hex[65];
    if (!ok && ev_media__sha2_reset(s->ffh)) /* an unusable frame stays visible in the list */
        return EV_ERROR;
    if (ev_media__sha2_final(s->ffh, hex))
        return EV_ERROR;
    char pts[24], dur[24], line[320];
    ts_str(pts, sizeof(pts), f->pts != AV_NOPTS_VALUE ? f->pts : f->best_effort_timestamp);
    ts_str(dur, sizeof(dur), f->pkt_duration > 0 ? f->pkt_duration : AV_NOPTS_VALUE);
    snprintf(line, sizeof(line), "%" PRIu64 " %s %s %" PRIu64 " %s\n", idx, pts, dur, bytes,
             ok ? hex : "-");
    return list_line(&s->r->decoded_list, o->lim, line);
}

static void *hash_main(void *arg)
{
    hworker *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->n)
            pthread_cond_wait(&w->get, &w->mu);
        hjob j = w->q[w->head];
        w->head = (w->head + 1) % HQ;
        w->n--;
        bool skip = w->err || w->cancel;
        pthread_cond_signal(&w->put);
        pthread_mutex_unlock(&w->mu);
        if (!j.f)
            return NULL;
        int rc = EV_OK;
        if (!skip) {
            uint64_t bytes = 0;
            rc = frame_hash(j.s, j.f, &bytes, HASH_FEED, j.raw_bits);
            if (rc == EV_EFORMAT && !j.ok)
                rc = EV_OK; /* as the check found */
            if (rc == EV_OK)
                rc = frame_line(j.s, w->o, j.f, j.idx, j.bytes, j.ok);
        }
        av_frame_free(&j.f);
        if (rc) {
            pthread_mutex_lock(&w->mu);
            if (!w->err)
                w->err = rc == EV_ENOMEM ? EV_ENOMEM : EV_ERROR;
            pthread_mutex_unlock(&w->mu);
        }
    }
}

/* Queue a job (f NULL: stop); the worker's first error, else EV_OK. */
static int hash_put(hworker *w, const hjob *j)
{
    pthread_mutex_lock(&w->mu);
    while (w->n == HQ)
        pthread_cond_wait(&w->put, &w->mu);
    w->q[(w->head + w->n) % HQ] = *j;
    w->n++;
    int err = w->err;
    pthread_cond_signal(&w->get);
    pthread_mutex_unlock(&w->mu);
    return err;
}

static int hash_start(scan_ctx *c)
{
    hworker *w = ev__calloc(1, sizeof(*w));
    if (!w)
        return EV_ENOMEM;
    w->o = c->o;
    if (pthread_mutex_init(&w->mu, NULL)) {
        free(w);
        return EV_OK; /* hashed on this thread */
    }
    if (pthread_cond_init(&w->put, NULL)) {
        pthread_mutex_destroy(&w->mu);
        free(w);
        return EV_OK;
    }
    if (pthread_cond_init(&w->get, NULL)) {
        pthread_cond_destroy(&w->put);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return EV_OK;
    }
    if (pthread_create(&w->th, NULL, hash_main, w)) {
        pthread_cond_destroy(&w->get);
        pthread_cond_destroy(&w->put);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return EV_OK;
    }
    c->w = w;
    return EV_OK;
}

/* Stop the worker after the queued frames (dropped when cancel); its first
 * error, else EV_OK. */
static int hash_stop(scan_ctx *c, bool cancel)
{
    hworker *w = c->w;
    if (!w)
        return EV_OK;
    pthread_mutex_lock(&w->mu);
    w->cancel = cancel;
    pthread_mutex_unlock(&w->mu);
    hjob stop = { 0 };
    hash_put(w, &stop);
    pthread_join(w->th, NULL);
    int err = w->err;
    pthread_cond_destroy(&w->get);
    pthread_cond_destroy(&w->put);
    pthread_mutex_destroy(&w->mu);
    free(w);
    c->w = NULL;
    return err;
}

static int on_frame(scan_ctx *c, sstate *s, const AVFrame *f)
{
    if (s->r->type == AVMEDIA_TYPE_VIDEO &&
        (keep_thumb(c, s, f) != EV_OK || note_size(s->r, f) != EV_OK))
        return EV_ENOMEM;
    uint64_t bytes = 0;
    int raw_bits = s->dec->bits_per_raw_sample;
    int rc = frame_hash(s, f, &bytes, c->w ? HASH_CHECK : HASH_CHECK | HASH_FEED, raw_bits);
    if (rc == EV_ENOMEM || rc == EV_ERROR)
        return rc;
    if (rc != EV_OK) {
        s->r->decode_errors++;
        if (!s->r->first_error[0])
            snprintf(s->r->first_error, sizeof(s->r->first_error),
                     "frame %" PRIu64 " has an unusable format", s->r->frames);
    }
    uint64_t idx = s->r->frames++;
    s->r->decoded_bytes += bytes;
    if (!c->w)
        return frame_line(s, c->o, f, idx, bytes, rc == EV_OK);
    hjob j = { s, av_frame_clone(f), idx, bytes, raw_bits, rc == EV_OK };
    if (!j.f)
        return EV_ENOMEM;
    return hash_put(c->w, &j);
}

static void decode_error(sstate *s, int ret, const char *what)
{
    s->r->decode_errors++;
    if (!s->r->first_error[0]) {
        char e[AV_ERROR_MAX_STRING_SIZE] = "";
        av_strerror(ret, e, sizeof(e));
        snprintf(s->r->first_error, sizeof(s->r->first_error), "%s after packet %" PRIu64 ": %s",
                 what, s->r->packets, e);
    }
}

static int receive_all(scan_ctx *c, sstate *s)
{
    int errors = 0;
    for (;;) {
        int ret = avcodec_receive_frame(s->dec, c->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return EV_OK;
        if (ret < 0) {
            decode_error(s, ret, "decoding");
            if (++errors >= MAX_RECEIVE_ERRORS)
                return EV_OK;
            continue;
        }
        int rc = on_frame(c, s, c->frame);
        av_frame_unref(c->frame);
        if (rc)
            return rc;
    }
}

static int decode_packet(scan_ctx *c, sstate *s, const AVPacket *pkt)
{
    int ret = avcodec_send_packet(s->dec, pkt);
    if (ret == AVERROR(EAGAIN)) {
        int rc = receive_all(c, s);
        if (rc)
            return rc;
        ret = avcodec_send_packet(s->dec, pkt);
    }
    if (ret < 0 && ret != AVERROR_EOF)
        decode_error(s, ret, "sending");
    return receive_all(c, s);
}

/* ------------------------------------------------------------------------ */
/* The scan                                                                  */
/* ------------------------------------------------------------------------ */

void ev_media__scan_free(ev_media__scan *sc)
{
    if (!sc)
        return;
    for (unsigned int i = 0; i < sc->nstreams; i++) {
        ev_buf__free(&sc->streams[i].packet_list.text);
        ev_buf__free(&sc->streams[i].decoded_list.text);
        free(sc->streams[i].size_change);
    }
    free(sc->streams);
    av_frame_free(&sc->thumb);
    memset(sc, 0, sizeof(*sc));
}

static int on_packet(scan_ctx *c, sstate *s, const AVPacket *pkt)
{
    ev_media__stream *r = s->r;
    uint64_t idx = r->packets++;
    r->packet_bytes += (uint64_t)(pkt->size > 0 ? pkt->size : 0);
    if (c->o->packets) {
        if (pkt->size > 0 && h_update(s->ph, c->o->lists ? s->fh : NULL, pkt->data, (size_t)pkt->size))
            return EV_ERROR;
        if (c->o->lists) {
            char hex[65];
            if (ev_media__sha2_final(s->fh, hex))
                return EV_ERROR;
            char dts[24], pts[24], dur[24], flags[8], line[320];
            int k = 0;
            if (pkt->flags & AV_PKT_FLAG_KEY)
                flags[k++] = 'K';
            if (pkt->flags & AV_PKT_FLAG_DISCARD)
                flags[k++] = 'D';
            if (pkt->flags & AV_PKT_FLAG_CORRUPT)
                flags[k++] = 'C';
            if (!k)
                flags[k++] = '_';
            flags[k] = '\0';
            ts_str(dts, sizeof(dts), pkt->dts);
            ts_str(pts, sizeof(pts), pkt->pts);
            ts_str(dur, sizeof(dur), pkt->duration > 0 ? pkt->duration : AV_NOPTS_VALUE);
            snprintf(line, sizeof(line), "%" PRIu64 " %s %s %s %d %s %s\n", idx, dts, pts, dur,
                     pkt->size, flags, hex);
            if (list_line(&r->packet_list, c->o->lim, line))
                return EV_ENOMEM;
        }
    }
    if (c->o->decoded && s->dec)
        return decode_packet(c, s, pkt);
    return EV_OK;
}

int ev_media__scan_run(ev_media__scan *out, ev_media__src *src, const ev_media__scan_opts *o)
{
    memset(out, 0, sizeof(*out));
    AVFormatContext *fmt = src->fmt;
    const ev_media__limits *lim = o->lim;
    unsigned int n = fmt->nb_streams < lim->max_streams ? fmt->nb_streams : lim->max_streams;
    int rc = EV_ENOMEM;
    scan_ctx c = { src, o, NULL, n, NULL, out, NULL };
    AVPacket *pkt = av_packet_alloc();
    c.frame = av_frame_alloc();
    out->streams = ev__calloc(n ? n : 1, sizeof(*out->streams));
    c.ss = ev__calloc(n ? n : 1, sizeof(*c.ss));
    if (!pkt || !c.frame || !out->streams || !c.ss)
        goto done;
    out->nstreams = n;
    for (unsigned int i = 0; i < n; i++) {
        sstate *s = &c.ss[i];
        s->r = &out->streams[i];
        s->st = fmt->streams[i];
        s->r->index = (int)i;
        s->r->type = s->st->codecpar->codec_type;
        bool av = s->r->type == AVMEDIA_TYPE_VIDEO || s->r->type == AVMEDIA_TYPE_AUDIO;
        if (!av) {
            s->st->discard = AVDISCARD_ALL; /* subtitles/data: not hashed, not read */
            continue;
        }
        if (o->packets) {
            if ((rc = ev_media__sha2_new(&s->ph)))
                goto done;
            s->r->have_packets = true;
        }
        if (o->lists && (rc = ev_media__sha2_new(&s->fh)))
            goto done;
        if (o->lists && o->packets &&
            (rc = list_header(&s->r->packet_list, s->r, s->st, "packets",
                              "index dts pts duration size flags sha256")))
            goto done;
        if (o->decoded) {
            if ((rc = open_decoder(s, lim)))
                goto done;
            if (s->dec) {
                if ((rc = ev_media__sha2_new(&s->dh)))
                    goto done;
                if (o->lists && (rc = ev_media__sha2_new(&s->ffh)))
                    goto done;
                if (o->lists && (rc = list_header(&s->r->decoded_list, s->r, s->st, "decoded",
                                                  "index pts duration size sha256")))
                    goto done;
            }
        }
    }
    for (unsigned int i = n; i < fmt->nb_streams; i++)
        fmt->streams[i]->discard = AVDISCARD_ALL;
    out->thumb_stream = -1;
    for (unsigned int i = 0; o->thumb && o->decoded && i < n && out->thumb_stream < 0; i++) {
        const AVStream *st = c.ss[i].st;
        if (c.ss[i].r->type != AVMEDIA_TYPE_VIDEO || !c.ss[i].dec ||
            (st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            continue;
        if (!(out->thumb = av_frame_alloc()))
            goto done;
        out->thumb_stream = (int)i;
        /* 10% into the stream (its own duration, else the container's) */
        int64_t start = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
        out->thumb_target = AV_NOPTS_VALUE;
        if (st->duration > 0 && st->duration != AV_NOPTS_VALUE)
            out->thumb_target = start + st->duration / 10;
        else if (fmt->duration > 0 && fmt->duration != AV_NOPTS_VALUE)
            out->thumb_target = start + av_rescale_q(fmt->duration / 10, AV_TIME_BASE_Q,
                                                     st->time_base);
    }

    bool any_dec = false;
    for (unsigned int i = 0; i < n; i++)
        any_dec = any_dec || c.ss[i].dec;
    if (any_dec && lim->threads != 1 && (rc = hash_start(&c)))
        goto done;
    uint64_t total = 0;
    unsigned int eagain = 0;
    out->complete = false;
    for (;;) {
        if (total >= lim->max_packets) {
            snprintf(out->stop_reason, sizeof(out->stop_reason),
                     "packet limit (%" PRIu64 ") reached", lim->max_packets);
            break;
        }
        if (src->deadline > 0 && ev_media__now() > src->deadline) {
            src->timed_out = true;
            snprintf(out->stop_reason, sizeof(out->stop_reason), "time limit reached after %" PRIu64
                     " packets", total);
            break;
        }
        int ret = av_read_frame(fmt, pkt);
        if (ret == AVERROR(EAGAIN)) {
            if (++eagain > MAX_EAGAIN) {
                snprintf(out->stop_reason, sizeof(out->stop_reason), "demuxer made no progress");
                break;
            }
            continue;
        }
        eagain = 0;
        if (ret < 0) {
            int f = ev_media__src_fatal(src, ret);
            if (f) {
                rc = f;
                goto done;
            }
            if (ret == AVERROR_EOF && !src->timed_out && !src->budget_exceeded) {
                out->complete = true;
            } else {
                char e[256];
                ev_media__averr(src, ret, e, sizeof(e));
                snprintf(out->stop_reason, sizeof(out->stop_reason),
                         "%s after %" PRIu64 " packets (byte %" PRId64 ")", e, total,
                         (int64_t)src->pos);
            }
            break;
        }
        total++;
        if (pkt->stream_index >= 0 && (unsigned int)pkt->stream_index < n) {
            sstate *s = &c.ss[pkt->stream_index];
            if (s->ph || s->dec || s->r->type == AVMEDIA_TYPE_VIDEO ||
                s->r->type == AVMEDIA_TYPE_AUDIO) {
                rc = on_packet(&c, s, pkt);
                if (rc) {
                    av_packet_unref(pkt);
                    goto done;
                }
            }
        }
        av_packet_unref(pkt);
    }
    /* flush the decoders */
    for (unsigned int i = 0; i < n; i++) {
        sstate *s = &c.ss[i];
        if (!s->dec)
            continue;
        int ret = avcodec_send_packet(s->dec, NULL);
        if (ret < 0 && ret != AVERROR_EOF)
            decode_error(s, ret, "flushing");
        if ((rc = receive_all(&c, s)))
            goto done;
    }
    if ((rc = hash_stop(&c, false)))
        goto done;
    for (unsigned int i = 0; i < n; i++) {
        sstate *s = &c.ss[i];
        if (s->ph) {
            if (ev_media__sha2_final(s->ph, s->r->packets_sha256)) {
                rc = EV_ERROR;
                goto done;
            }
        }
        if (s->dh) {
            if (ev_media__sha2_final(s->dh, s->r->decoded_sha256)) {
                rc = EV_ERROR;
                goto done;
            }
            s->r->have_decoded = true;
            if (!s->r->decoded_format[0])
                snprintf(s->r->decoded_format, sizeof(s->r->decoded_format), "none");
            if (!s->r->decoded_as[0])
                snprintf(s->r->decoded_as, sizeof(s->r->decoded_as), "%s",
                         s->r->type == AVMEDIA_TYPE_VIDEO ? "rawvideo" : "pcm");
        }
    }
    rc = EV_OK;
done:
    hash_stop(&c, true);
    if (c.ss) {
        for (unsigned int i = 0; i < n; i++) {
            ev_media__sha2_free(c.ss[i].ph);
            ev_media__sha2_free(c.ss[i].dh);
            ev_media__sha2_free(c.ss[i].fh);
            ev_media__sha2_free(c.ss[i].ffh);
            avcodec_free_context(&c.ss[i].dec);
            free(c.ss[i].scratch);
        }
        free(c.ss);
    }
    av_packet_free(&pkt);
    av_frame_free(&c.frame);
    if (rc != EV_OK)
        ev_media__scan_free(out);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Frame lists: parse and compare (verify --deep)                            */
/* ------------------------------------------------------------------------ */

typedef struct lentry {
    int64_t pts; /* AV_NOPTS_VALUE when unknown */
    int64_t dur;
    uint64_t size;
    char sha[65]; /* "" when the frame could not be hashed */
} lentry;

typedef struct plist {
    lentry *v;
    size_t n;
    size_t cap;
    bool malformed;
} plist;

static bool parse_i64(const char *t, size_t len, int64_t *out)
{
    if (len == 1 && t[0] == '-') {
        *out = AV_NOPTS_VALUE;
        return true;
    }
    if (len == 0 || len > 20)
        return false;
    char buf[24];
    memcpy(buf, t, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end || end == buf)
        return false;
    *out = v;
    return true;
}

/* Parse a list made by this module. Lines that do not fit stop the parse
 * (p->malformed); what was read before stays usable. */
static int list_parse(plist *p, const uint8_t *text, size_t len, bool packets, uint64_t max)
{
    memset(p, 0, sizeof(*p));
    size_t pos = 0;
    const size_t want = packets ? 7 : 5;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        const char *line = (const char *)text + pos;
        size_t ll = end - pos;
        pos = end + 1;
        if (ll == 0 || line[0] == '#')
            continue;
        const char *tok[8];
        size_t tl[8], nt = 0;
        size_t i = 0;
        while (i < ll && nt < 8) {
            while (i < ll && line[i] == ' ')
                i++;
            if (i >= ll)
                break;
            tok[nt] = line + i;
            while (i < ll && line[i] != ' ')
                i++;
            tl[nt] = (size_t)(line + i - tok[nt]);
            nt++;
        }
        int64_t idx, pts, dur, size;
        if (nt != want || !parse_i64(tok[0], tl[0], &idx) || idx < 0 || (uint64_t)idx != p->n) {
            p->malformed = true;
            break;
        }
        const char *tp = packets ? tok[2] : tok[1];
        size_t lp = packets ? tl[2] : tl[1];
        if (!parse_i64(tp, lp, &pts) || !parse_i64(tok[packets ? 3 : 2], tl[packets ? 3 : 2], &dur) ||
            !parse_i64(tok[packets ? 4 : 3], tl[packets ? 4 : 3], &size) || size < 0) {
            p->malformed = true;
            break;
        }
        const char *h = tok[want - 1];
        size_t hl = tl[want - 1];
        if (!(hl == 64 || (hl == 1 && h[0] == '-'))) {
            p->malformed = true;
            break;
        }
        if (p->n >= max) {
            p->malformed = true;
            break;
        }
        if (p->n == p->cap) {
            size_t nc = p->cap ? p->cap * 2 : 256;
            lentry *nv = ev__reallocarray(p->v, nc, sizeof(*nv));
            if (!nv)
                return EV_ENOMEM;
            p->v = nv;
            p->cap = nc;
        }
        lentry *e = &p->v[p->n++];
        e->pts = pts;
        e->dur = dur;
        e->size = (uint64_t)size;
        if (hl == 64)
            memcpy(e->sha, h, 64);
        e->sha[hl == 64 ? 64 : 0] = '\0';
    }
    return EV_OK;
}

static bool same_entry(const lentry *a, const lentry *b)
{
    return a->size == b->size && a->sha[0] && strcmp(a->sha, b->sha) == 0;
}

static const ev_media__file *find_meta(const ev_media__file *meta, size_t n, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (meta[i].name && strcmp(meta[i].name, name) == 0)
            return &meta[i];
    return NULL;
}

static AVRational parse_tb(const char *s)
{
    AVRational r = { 0, 1 };
    int num, den;
    if (s && sscanf(s, "%d/%d", &num, &den) == 2 && num > 0 && den > 0) {
        r.num = num;
        r.den = den;
    }
    return r;
}

typedef struct span {
    double t0, t1;
} span;

static int cmp_span(const void *x, const void *y)
{
    const span *a = x, *b = y;
    return a->t0 < b->t0 ? -1 : a->t0 > b->t0 ? 1 : 0;
}

typedef struct rank_ent {
    int64_t pts;
    size_t idx;
} rank_ent;

static int cmp_rank(const void *x, const void *y)
{
    const rank_ent *a = x, *b = y;
    if (a->pts != b->pts)
        return a->pts < b->pts ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx ? 1 : 0;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b ? 1 : 0;
}

/* Display-order number of every entry (rank of its pts), or NULL when a pts
 * is unknown (then demux order is used). */
static size_t *display_ranks(const plist *p)
{
    if (p->n == 0)
        return NULL;
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].pts == AV_NOPTS_VALUE)
            return NULL;
    rank_ent *r = ev__reallocarray(NULL, p->n, sizeof(*r));
    size_t *out = ev__reallocarray(NULL, p->n, sizeof(*out));
    if (!r || !out) {
        free(r);
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < p->n; i++) {
        r[i].pts = p->v[i].pts;
        r[i].idx = i;
    }
    qsort(r, p->n, sizeof(*r), cmp_rank);
    for (size_t i = 0; i < p->n; i++)
        out[r[i].idx] = i;
    free(r);
    return out;
}

/* Fill frames/time_ranges/message of a mismatch finding from the lists.
 * Frame numbers are 0-based in display (pts) order; for packet lists the
 * 0-based demux-order indexes go to "packets" as well. */
static int diff_lists(json_t *finding, const ev_media__file *old_file, const ev_buf *new_text,
                      bool packets, AVRational tb, const char *unit)
{
    json_t *frames = json_object_get(finding, "frames");
    json_t *ranges = json_object_get(finding, "time_ranges");
    char msg[512];
    if (!old_file) {
        snprintf(msg, sizeof(msg), "%s hash differs; the recorded %s list is not available, "
                 "so the changed %ss cannot be named", unit, unit, unit);
        return ev_media__set_str(finding, "message", msg) ? EV_ENOMEM : EV_OK;
    }
    plist a, b;
    int rc = list_parse(&a, old_file->data, old_file->len, packets, EV_MEDIA_MAX_LIST);
    if (rc)
        return rc;
    rc = list_parse(&b, (const uint8_t *)new_text->data, new_text->len, packets, EV_MEDIA_MAX_LIST);
    if (rc) {
        free(a.v);
        return rc;
    }
    rc = EV_ENOMEM;
    size_t *ra = display_ranks(&a), *rb = display_ranks(&b);
    int64_t *nums = NULL;
    span *spans = NULL;
    json_t *pk = NULL;
    size_t common = a.n < b.n ? a.n : b.n, maxn = a.n > b.n ? a.n : b.n;
    uint64_t ndiff = 0;
    size_t nn = 0, ns = 0;
    if (maxn) {
        nums = ev__reallocarray(NULL, maxn, sizeof(*nums));
        spans = ev__reallocarray(NULL, maxn, sizeof(*spans));
        if (!nums || !spans)
            goto done;
    }
    if (packets && !(pk = json_array()))
        goto done;
    double q = av_q2d(tb);
    for (size_t i = 0; i < maxn; i++) {
        if (i < common && same_entry(&a.v[i], &b.v[i]))
            continue;
        ndiff++;
        const plist *src = i < a.n ? &a : &b;
        const size_t *rk = i < a.n ? ra : rb;
        nums[nn++] = (int64_t)(rk ? rk[i] : i);
        if (pk && json_array_size(pk) < MAX_REPORTED_FRAMES &&
            json_array_append_new(pk, json_integer((json_int_t)i)))
            goto done;
        const lentry *e = &src->v[i];
        if (tb.num && e->pts != AV_NOPTS_VALUE) {
            int64_t end = e->pts;
            if (e->dur != AV_NOPTS_VALUE && e->dur > 0 && end <= INT64_MAX - e->dur)
                end += e->dur;
            spans[ns].t0 = (double)e->pts * q;
            spans[ns].t1 = (double)end * q;
            ns++;
        }
    }
    if (nn > 1)
        qsort(nums, nn, sizeof(*nums), cmp_i64);
    for (size_t i = 0; i < nn && i < MAX_REPORTED_FRAMES; i++)
        if (json_array_append_new(frames, json_integer((json_int_t)nums[i])))
            goto done;
    if (nn > MAX_REPORTED_FRAMES && json_object_set_new(finding, "frames_truncated", json_true()))
        goto done;
    /* merge touching or overlapping spans (1 µs slack for rounding) */
    if (ns > 1)
        qsort(spans, ns, sizeof(*spans), cmp_span);
    for (size_t i = 0; i < ns;) {
        double t0 = spans[i].t0, t1 = spans[i].t1;
        size_t j = i + 1;
        while (j < ns && spans[j].t0 <= t1 + 1e-6) {
            if (spans[j].t1 > t1)
                t1 = spans[j].t1;
            j++;
        }
        if (json_array_size(ranges) < MAX_REPORTED_FRAMES) {
            json_t *r = json_pack("[ff]", ev_media__round_us(t0), ev_media__round_us(t1));
            if (!r || json_array_append_new(ranges, r))
                goto done;
        }
        i = j;
    }
    if (pk) {
        if (json_object_set(finding, "packets", pk))
            goto done;
    }
    int k = snprintf(msg, sizeof(msg), "%" PRIu64 " of %zu recorded %ss differ", ndiff, a.n, unit);
    if (a.n != b.n && k > 0 && (size_t)k < sizeof(msg))
        k += snprintf(msg + k, sizeof(msg) - (size_t)k, "; recorded %zu %ss, found %zu", a.n, unit,
                      b.n);
    if ((a.malformed || b.malformed) && k > 0 && (size_t)k < sizeof(msg))
        snprintf(msg + k, sizeof(msg) - (size_t)k, "; the %s list is malformed after entry %zu",
                 a.malformed ? "recorded" : "new", a.malformed ? a.n : b.n);
    if (ndiff == 0 && !a.malformed && !b.malformed)
        snprintf(msg, sizeof(msg), "%s hash differs but every listed %s matches (the list may "
                 "be truncated)", unit, unit);
    if (ev_media__set_str(finding, "message", msg))
        goto done;
    rc = EV_OK;
done:
    json_decref(pk);
    free(nums);
    free(spans);
    free(ra);
    free(rb);
    free(a.v);
    free(b.v);
    return rc;
}

static json_t *new_finding(int stream, const char *kind, const char *status)
{
    return json_pack("{s:i, s:s, s:s, s:[], s:[]}", "stream", stream, "kind", kind, "status",
                     status, "frames", "time_ranges");
}

int ev_media__deep_verify(json_t **out_findings, const json_t *item, const ev_io *io,
                          const ev_media__file *meta, size_t nmeta, ev_errbuf *err)
{
    if (out_findings)
        *out_findings = NULL;
    if (!out_findings || !item || !io || !io->read)
        return ev_err__set(err, EV_EINVAL, "deep verification: missing item, io or output");
    json_t *findings = json_array();
    if (!findings)
        return ev_err__set(err, EV_ENOMEM, "deep verification: out of memory");
    const json_t *ch = json_object_get(item, "content_hashes");
    bool want_p = false, want_d = false;
    size_t i;
    const json_t *e;
    json_array_foreach(ch, i, e)
    {
        if (json_is_string(json_object_get(json_object_get(e, "packets"), "sha256")))
            want_p = true;
        if (json_is_string(json_object_get(json_object_get(e, "decoded"), "sha256")))
            want_d = true;
    }
    if (!want_p && !want_d) {
        *out_findings = findings;
        return EV_OK;
    }
    int rc = EV_ENOMEM;
    uint64_t size = ev_media__io_size(io);
    ev_media__limits lim;
    ev_media__limits_default(&lim, size);
    ev_media__src src = { 0 };
    ev_media__scan sc = { 0 };
    char why[EV_MEDIA_WHY] = "";
    ev_media__src_budget(&src, &lim, size);
    const char *hint = json_string_value(json_object_get(item, "original_name"));
    if (!hint)
        hint = json_string_value(json_object_get(item, "path"));
    int orc = ev_media__src_open(&src, io, hint, &lim, why, sizeof(why));
    bool opened = orc == EV_OK;
    if (orc == EV_ENOMEM || orc == EV_EIO || orc == EV_ECANCELED) {
        rc = orc;
        goto done;
    }
    if (opened) {
        ev_media__scan_opts so = { want_p, want_d, true, &lim };
        rc = ev_media__scan_run(&sc, &src, &so);
        if (rc)
            goto done;
        rc = EV_ENOMEM;
    }
    json_array_foreach(ch, i, e)
    {
        json_int_t stream = json_integer_value(json_object_get(e, "stream"));
        AVRational tb = parse_tb(json_string_value(json_object_get(e, "time_base")));
        for (int k = 0; k < 2; k++) {
            const char *kind = k == 0 ? "packets" : "decoded";
            const json_t *rec = json_object_get(e, kind);
            const char *want = json_string_value(json_object_get(rec, "sha256"));
            if (!want)
                continue;
            const ev_media__stream *r =
                opened && stream >= 0 && (json_int_t)sc.nstreams > stream ? &sc.streams[stream] : NULL;
            const char *got = NULL;
            if (r)
                got = k == 0 ? (r->have_packets ? r->packets_sha256 : NULL)
                             : (r->have_decoded ? r->decoded_sha256 : NULL);
            json_t *f = NULL;
            char msg[EV_MEDIA_WHY + 128];
            if (!opened) {
                f = new_finding((int)stream, kind, "error");
                snprintf(msg, sizeof(msg), "cannot read the media any more: %s", why);
            } else if (!got) {
                f = new_finding((int)stream, kind, "error");
                snprintf(msg, sizeof(msg), "stream %lld: no %s hash could be computed%s%s",
                         (long long)stream, kind, r && r->first_error[0] ? ": " : "",
                         r && r->first_error[0] ? r->first_error : "");
            } else if (ev_hash__hex_equal(want, got)) {
                f = new_finding((int)stream, kind, "ok");
                snprintf(msg, sizeof(msg), "%s hash matches (%" PRIu64 " %s)", kind,
                         k == 0 ? r->packets : r->frames, k == 0 ? "packets" : "frames");
            } else {
                f = new_finding((int)stream, kind, "mismatch");
                msg[0] = '\0';
            }
            if (!f || json_array_append_new(findings, f))
                goto done;
            if (msg[0]) {
                if (!sc.complete && opened && sc.stop_reason[0]) {
                    size_t l = strlen(msg);
                    snprintf(msg + l, sizeof(msg) - l, " (reading stopped early: %s)",
                             sc.stop_reason);
                }
                if (ev_media__set_str(f, "message", msg))
                    goto done;
                continue;
            }
            const ev_media__file *old =
                find_meta(meta, nmeta, json_string_value(json_object_get(rec, "list")));
            int drc = diff_lists(f, old, k == 0 ? &r->packet_list.text : &r->decoded_list.text,
                                 k == 0, tb, k == 0 ? "packet" : "frame");
            if (drc) {
                rc = drc;
                goto done;
            }
        }
    }
    *out_findings = findings;
    findings = NULL;
    rc = EV_OK;
done:
    if (rc != EV_OK)
        ev_err__set(err, rc, "deep verification: %s",
                    rc == EV_ENOMEM ? "out of memory" : rc == EV_EIO ? "read error" : "canceled");
    json_decref(findings);
    ev_media__scan_free(&sc);
    ev_media__src_close(&src);
    return rc;
}
