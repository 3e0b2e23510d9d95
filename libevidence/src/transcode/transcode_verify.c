/*
 * transcode_verify: prove what a copy preserved, stream by stream.
 *
 * - packet-identical: SHA-256 of every packet payload, in order, per stream;
 *   the lists of source and copy are compared packet by packet.
 * - decoded-identical: SHA-256 of every decoded picture (native pixel format,
 *   rows packed with align 1) and of the interleaved native-depth audio
 *   samples (hashed per second of audio, so a difference is located in time);
 *   plus frame counts and timestamps.
 * - quality-bounded: source and copy are decoded in lockstep; per frame PSNR
 *   and SSIM (min and mean), equal frame counts and timestamps within the
 *   tolerance. Lossy audio: equal duration within one codec frame.
 *
 * Source and copy are read in two threads for the hash passes. The
 * quality-bounded pass is in quality.c, the picture helpers (conversion,
 * orientation, PSNR/SSIM) in picture.c.
 */
#include "transcode/transcode.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/imgutils.h>
#include <libavutil/intreadwrite.h>
#include <libavutil/pixdesc.h>
#include <libavutil/time.h>
#include <libswscale/swscale.h>
#include <openssl/evp.h>

#include "base/hash.h"
#include "transcode/transcode_int.h"

/* ------------------------------------------------------------------------ */
/* Hash passes                                                               */
/* ------------------------------------------------------------------------ */

typedef struct dgst {
    /* what */
    int index;
    ev_stype type;
    bool packets;          /* hash packet payloads */
    bool nal;              /* ...as their NAL units (H.264/HEVC) */
    int nal_len;           /* bytes per NAL length prefix; 0 = Annex B start codes */
    EVP_MD_CTX *nalc;
    bool decoded;          /* hash decoded content */
    bool count;            /* decode and count only (lossy audio) */
    int conv_fmt;          /* AV_PIX_FMT_NONE or convert before hashing */
    int orientation;
    /* packets */
    int64_t n_packets;
    uint8_t (*pkt_md)[32];
    size_t pkt_cap;
    EVP_MD_CTX *pkt_all;
    char pkt_hex[65];
    /* decoded */
    AVCodecContext *dec;
    struct SwsContext *sws;
    int64_t n_frames;
    uint8_t (*frm_md)[32];  /* video: per frame; audio: per second */
    size_t frm_cap, n_md;
    double *pts;            /* video: seconds, NAN if unknown */
    EVP_MD_CTX *dec_all, *unit;
    char dec_hex[65];
    int64_t samples;
    /* audio: samples the container asks the decoder to trim (the packets'
     * skip-samples side data: an MP4 edit list's priming, Matroska's codec
     * delay and discard padding); the decoder applies them */
    int64_t trim_start, trim_end;
    size_t unit_bytes, unit_fill, frame_bytes;
    ev_buf abuf;
    char desc[96];          /* decoded format */
    int width, height, fmt, rate, channels;
    bool changed;           /* format changed mid-stream */
    int64_t errors;
    char first_error[200];
    double tb_frame;        /* 1 / frame rate, seconds */
} dgst;

typedef struct pass {
    const char *path;
    dgst *d;
    size_t n;
    const EVP_MD *md;
    ev_progress_cb cb;
    void *payload;
    int rc;
    ev_errbuf err;
    int64_t start_us;
} pass;

/* NAL units of a packet, the way libavformat's MP4 and Matroska muxers
 * turn Annex B into length prefixes (ff_avc_parse_nal_units): a unit runs
 * from after a start code to the next one (a four-byte start code's first
 * zero is not part of it); bytes before the first start code are not a
 * unit. Each unit is hashed as its 32-bit big-endian length and its bytes,
 * so that a copy that only changed the framing hashes the same. */
static const uint8_t *find_startcode(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *q = p;
    while (end - q >= 3 && !(q[0] == 0 && q[1] == 0 && q[2] == 1))
        q++;
    if (end - q < 3)
        return end;
    if (q > p && q[-1] == 0)
        q--;
    return q;
}

static void nal_unit(dgst *d, const uint8_t *p, size_t n)
{
    uint8_t l[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
    EVP_DigestUpdate(d->nalc, l, 4);
    EVP_DigestUpdate(d->nalc, p, n);
    EVP_DigestUpdate(d->pkt_all, l, 4);
    EVP_DigestUpdate(d->pkt_all, p, n);
}

static void nal_digest(dgst *d, const AVPacket *pkt, const EVP_MD *md, uint8_t out[32])
{
    const uint8_t *p = pkt->data ? pkt->data : (const uint8_t *)"";
    const uint8_t *end = p + pkt->size;
    EVP_DigestInit_ex(d->nalc, md, NULL);
    if (d->nal_len == 0) {
        const uint8_t *s = find_startcode(p, end);
        for (;;) {
            while (s < end && !*(s++))
                ;
            if (s == end)
                break;
            const uint8_t *e = find_startcode(s, end);
            nal_unit(d, s, (size_t)(e - s));
            s = e;
        }
    } else {
        size_t left = (size_t)pkt->size, L = (size_t)d->nal_len;
        while (left >= L) {
            size_t len = 0;
            for (size_t i = 0; i < L; i++)
                len = len << 8 | p[i];
            p += L;
            left -= L;
            if (len > left)
                break; /* damaged: the rest is hashed as it is, below */
            nal_unit(d, p, len);
            p += len;
            left -= len;
        }
        if (left)
            nal_unit(d, p, left);
    }
    unsigned mdl;
    EVP_DigestFinal_ex(d->nalc, out, &mdl);
}

/* Bytes per NAL length of length-prefixed H.264 (avcC) or HEVC (hvcC); 0 for
 * Annex B (no configuration record, or one in start-code form). */
static int nal_length_size(const AVCodecParameters *cp)
{
    const uint8_t *x = cp->extradata;
    int n = cp->extradata_size;
    if (cp->codec_id == AV_CODEC_ID_H264 && x && n >= 7 && x[0] == 1)
        return (x[4] & 3) + 1;
    if (cp->codec_id == AV_CODEC_ID_HEVC && x && n >= 23 && x[0] == 1)
        return (x[21] & 3) + 1;
    return 0;
}

static int push_md(uint8_t (**list)[32], size_t *cap, size_t n, const uint8_t md[32])
{
    if (n >= *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        void *p = ev__reallocarray(*list, nc, 32);
        if (!p)
            return EV_ENOMEM;
        *list = p;
        *cap = nc;
    }
    memcpy((*list)[n], md, 32);
    return EV_OK;
}

static void dg_error(dgst *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void dg_error(dgst *d, const char *fmt, ...)
{
    if (d->errors++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->first_error, sizeof(d->first_error), fmt, ap);
        va_end(ap);
    }
}

static void hash_picture(dgst *d, const AVFrame *f)
{
    enum AVPixelFormat fmt = (enum AVPixelFormat)f->format;
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(fmt);
    int planes = av_pix_fmt_count_planes(fmt);
    for (int p = 0; p < planes; p++) {
        int lw = av_image_get_linesize(fmt, f->width, p);
        int h = (p == 1 || p == 2) && desc && !(desc->flags & AV_PIX_FMT_FLAG_PAL)
                    ? AV_CEIL_RSHIFT(f->height, desc->log2_chroma_h) : f->height;
        if (desc && (desc->flags & AV_PIX_FMT_FLAG_PAL) && p == 1) {
            EVP_DigestUpdate(d->unit, f->data[1], AVPALETTE_SIZE);
            EVP_DigestUpdate(d->dec_all, f->data[1], AVPALETTE_SIZE);
            continue;
        }
        if (lw <= 0)
            continue;
        for (int y = 0; y < h; y++) {
            const uint8_t *row = f->data[p] + (ptrdiff_t)y * f->linesize[p];
            EVP_DigestUpdate(d->unit, row, (size_t)lw);
            EVP_DigestUpdate(d->dec_all, row, (size_t)lw);
        }
    }
}

static int on_video_frame(dgst *d, pass *ps, AVFrame *f, const AVStream *st)
{
    AVFrame *c = NULL, *o = NULL;
    const AVFrame *use = f;
    int rc = EV_OK;
    if (d->n_frames == 0) {
        d->width = f->width;
        d->height = f->height;
        d->fmt = f->format;
        const char *fn = av_get_pix_fmt_name((enum AVPixelFormat)f->format);
        snprintf(d->desc, sizeof(d->desc), "%s %dx%d", fn ? fn : "?", f->width, f->height);
    } else if (f->width != d->width || f->height != d->height ||
               !ev_transcode__same_layout(f->format, d->fmt)) {
        if (!d->changed)
            dg_error(d, "picture format changed at frame %lld", (long long)d->n_frames);
        d->changed = true;
    }
    double t = f->best_effort_timestamp != AV_NOPTS_VALUE
                   ? (double)f->best_effort_timestamp * av_q2d(st->time_base) : NAN;
    if (d->conv_fmt != AV_PIX_FMT_NONE && !ev_transcode__same_layout(f->format, d->conv_fmt)) {
        if ((rc = ev_transcode__convert(&c, f, d->conv_fmt, &d->sws)) != EV_OK) {
            dg_error(d, "frame %lld: cannot convert %s to %s", (long long)d->n_frames,
                     av_get_pix_fmt_name((enum AVPixelFormat)f->format),
                     av_get_pix_fmt_name((enum AVPixelFormat)d->conv_fmt));
            return rc == EV_ENOMEM ? rc : EV_OK;
        }
        use = c;
    }
    if (d->orientation > 1) {
        if ((rc = ev_transcode__orient(&o, use, d->orientation)) != EV_OK) {
            av_frame_free(&c);
            dg_error(d, "cannot apply orientation %d to %s", d->orientation,
                     av_get_pix_fmt_name((enum AVPixelFormat)use->format));
            return rc == EV_ENOMEM ? rc : EV_OK;
        }
        use = o;
    }
    uint8_t md[32];
    unsigned mdl = 0;
    EVP_DigestInit_ex(d->unit, ps->md, NULL);
    hash_picture(d, use);
    EVP_DigestFinal_ex(d->unit, md, &mdl);
    av_frame_free(&c);
    av_frame_free(&o);
    if (push_md(&d->frm_md, &d->frm_cap, d->n_md, md) != EV_OK)
        return EV_ENOMEM;
    double *np = ev__reallocarray(d->pts, d->frm_cap, sizeof(double));
    if (!np)
        return EV_ENOMEM;
    d->pts = np;
    d->pts[d->n_md] = t;
    d->n_md++;
    d->n_frames++;
    return EV_OK;
}

static int audio_bytes(dgst *d, pass *ps, const uint8_t *p, size_t n)
{
    while (n) {
        if (d->unit_fill == 0)
            EVP_DigestInit_ex(d->unit, ps->md, NULL);
        size_t take = d->unit_bytes - d->unit_fill;
        if (take > n)
            take = n;
        EVP_DigestUpdate(d->unit, p, take);
        EVP_DigestUpdate(d->dec_all, p, take);
        d->unit_fill += take;
        p += take;
        n -= take;
        if (d->unit_fill == d->unit_bytes) {
            uint8_t md[32];
            unsigned mdl;
            EVP_DigestFinal_ex(d->unit, md, &mdl);
            if (push_md(&d->frm_md, &d->frm_cap, d->n_md++, md) != EV_OK)
                return EV_ENOMEM;
            d->unit_fill = 0;
        }
    }
    return EV_OK;
}

static int on_audio_frame(dgst *d, pass *ps, AVFrame *f)
{
    if (d->n_frames == 0) {
        d->fmt = f->format;
        d->rate = f->sample_rate;
        d->channels = f->ch_layout.nb_channels;
        d->frame_bytes = ev_transcode__audio_frame_bytes(f);
        const char *fn = av_get_sample_fmt_name((enum AVSampleFormat)f->format);
        snprintf(d->desc, sizeof(d->desc), "%s %dch %dHz", fn ? fn : "?", d->channels,
                 d->rate);
        d->unit_bytes = d->frame_bytes * (size_t)(d->rate > 0 ? d->rate : 48000);
        if (d->unit_bytes == 0)
            d->unit_bytes = 1 << 20;
    } else if (f->format != d->fmt || f->sample_rate != d->rate ||
               f->ch_layout.nb_channels != d->channels) {
        if (!d->changed)
            dg_error(d, "audio format changed at frame %lld", (long long)d->n_frames);
        d->changed = true;
    }
    d->n_frames++;
    d->samples += f->nb_samples;
    if (d->count)
        return EV_OK;
    d->abuf.len = 0;
    int rc = ev_transcode__audio_interleave(&d->abuf, f);
    if (rc != EV_OK) {
        dg_error(d, "cannot read audio frame %lld", (long long)d->n_frames);
        return rc == EV_ENOMEM ? rc : EV_OK;
    }
    return audio_bytes(d, ps, (const uint8_t *)d->abuf.data, d->abuf.len);
}

static int drain_dg(dgst *d, pass *ps, AVFrame *f, const AVStream *st)
{
    for (;;) {
        int e = avcodec_receive_frame(d->dec, f);
        if (e == AVERROR(EAGAIN) || e == AVERROR_EOF)
            return EV_OK;
        if (e < 0) {
            char eb[AV_ERROR_MAX_STRING_SIZE];
            av_strerror(e, eb, sizeof(eb));
            dg_error(d, "decoding failed after %lld frames: %s", (long long)d->n_frames, eb);
            return EV_OK;
        }
        if (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT))
            dg_error(d, "frame %lld is damaged (concealed by the decoder)",
                     (long long)d->n_frames);
        int rc = d->type == EV_ST_VIDEO ? on_video_frame(d, ps, f, st) : on_audio_frame(d, ps, f);
        av_frame_unref(f);
        if (rc != EV_OK)
            return rc;
    }
}

static void *run_pass(void *arg)
{
    pass *ps = arg;
    AVFormatContext *fc = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    int rc = EV_OK;
    if (!pkt || !fr) {
        rc = ev_err__set(&ps->err, EV_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = ev_transcode__open_input(&fc, ps->path, &ps->err)) != EV_OK)
        goto done;
    int map[EV_TC_MAX_STREAMS];
    for (unsigned i = 0; i < EV_TC_MAX_STREAMS; i++)
        map[i] = -1;
    for (size_t i = 0; i < ps->n; i++) {
        dgst *d = &ps->d[i];
        if (d->index < 0 || (unsigned)d->index >= fc->nb_streams) {
            rc = ev_err__set(&ps->err, EV_EFORMAT, "'%s' has no stream #%d", ps->path, d->index);
            goto done;
        }
        AVStream *st = fc->streams[d->index];
        map[d->index] = (int)i;
        AVRational fr_rate = av_guess_frame_rate(fc, st, NULL);
        d->tb_frame = fr_rate.num > 0 ? av_q2d(av_inv_q(fr_rate)) : 0;
        if (d->packets && !(d->pkt_all = EVP_MD_CTX_new())) {
            rc = ev_err__set(&ps->err, EV_ENOMEM, "out of memory");
            goto done;
        }
        if (d->pkt_all)
            EVP_DigestInit_ex(d->pkt_all, ps->md, NULL);
        if (d->packets && d->nal) {
            if (!(d->nalc = EVP_MD_CTX_new())) {
                rc = ev_err__set(&ps->err, EV_ENOMEM, "out of memory");
                goto done;
            }
            d->nal_len = nal_length_size(st->codecpar);
        }
        if (d->decoded || d->count) {
            if (!(d->dec_all = EVP_MD_CTX_new()) || !(d->unit = EVP_MD_CTX_new())) {
                rc = ev_err__set(&ps->err, EV_ENOMEM, "out of memory");
                goto done;
            }
            EVP_DigestInit_ex(d->dec_all, ps->md, NULL);
            if ((rc = ev_transcode__open_decoder(&d->dec, st, false, &ps->err)) != EV_OK)
                goto done;
        }
    }
    int64_t last = av_gettime_relative();
    int64_t total = avio_size(fc->pb);
    for (;;) {
        int e = av_read_frame(fc, pkt);
        if (e == AVERROR_EOF)
            break;
        if (e < 0) {
            rc = ev_transcode__averr(&ps->err, e, "'%s' cannot be read to its end (after byte "
                                     "%lld)", ps->path, (long long)avio_tell(fc->pb));
            if (rc == EV_ERROR)
                rc = EV_EFORMAT;
            goto done;
        }
        int k = (unsigned)pkt->stream_index < EV_TC_MAX_STREAMS ? map[pkt->stream_index] : -1;
        if (k < 0) {
            av_packet_unref(pkt);
            continue;
        }
        dgst *d = &ps->d[k];
        if (d->type == EV_ST_AUDIO) {
            size_t sl = 0;
            const uint8_t *sd = av_packet_get_side_data(pkt, AV_PKT_DATA_SKIP_SAMPLES, &sl);
            if (sd && sl >= 8) {
                d->trim_start += AV_RL32(sd);
                d->trim_end += AV_RL32(sd + 4);
            }
        }
        if (d->packets) {
            uint8_t md[32];
            unsigned mdl;
            if (d->nal) {
                nal_digest(d, pkt, ps->md, md);
            } else {
                EVP_Digest(pkt->data ? pkt->data : (const uint8_t *)"", (size_t)pkt->size, md,
                           &mdl, ps->md, NULL);
                EVP_DigestUpdate(d->pkt_all, pkt->data ? pkt->data : (const uint8_t *)"",
                                 (size_t)pkt->size);
            }
            if (push_md(&d->pkt_md, &d->pkt_cap, (size_t)d->n_packets, md) != EV_OK) {
                rc = ev_err__set(&ps->err, EV_ENOMEM, "out of memory");
                goto done;
            }
            d->n_packets++;
        }
        if (d->dec) {
            e = avcodec_send_packet(d->dec, pkt);
            if (e < 0 && e != AVERROR(EAGAIN)) {
                char eb[AV_ERROR_MAX_STRING_SIZE];
                av_strerror(e, eb, sizeof(eb));
                dg_error(d, "decoding failed after %lld frames: %s", (long long)d->n_frames, eb);
            }
            if ((rc = drain_dg(d, ps, fr, fc->streams[d->index])) != EV_OK) {
                ev_err__set(&ps->err, rc, "out of memory");
                goto done;
            }
        }
        av_packet_unref(pkt);
        if (ps->cb) {
            int64_t now = av_gettime_relative();
            if (now - last > 100000) {
                last = now;
                ev_progress pr = { EV_PROGRESS_VERSION, "verifying", ps->path,
                                   (uint64_t)(avio_tell(fc->pb) > 0 ? avio_tell(fc->pb) : 0),
                                   (uint64_t)(total > 0 ? total : 0), 0, 1 };
                if (ps->cb(&pr, ps->payload)) {
                    rc = ev_err__set(&ps->err, EV_ECANCELED, "canceled by callback");
                    goto done;
                }
            }
        }
    }
    for (size_t i = 0; i < ps->n; i++) {
        dgst *d = &ps->d[i];
        if (!d->dec)
            continue;
        avcodec_send_packet(d->dec, NULL);
        if ((rc = drain_dg(d, ps, fr, fc->streams[d->index])) != EV_OK) {
            ev_err__set(&ps->err, rc, "out of memory");
            goto done;
        }
        if (d->type == EV_ST_AUDIO && d->unit_fill) {
            uint8_t md[32];
            unsigned mdl;
            EVP_DigestFinal_ex(d->unit, md, &mdl);
            if (push_md(&d->frm_md, &d->frm_cap, d->n_md++, md) != EV_OK) {
                rc = ev_err__set(&ps->err, EV_ENOMEM, "out of memory");
                goto done;
            }
            d->unit_fill = 0;
        }
    }
    for (size_t i = 0; i < ps->n; i++) {
        dgst *d = &ps->d[i];
        uint8_t md[32];
        unsigned mdl;
        if (d->pkt_all) {
            EVP_DigestFinal_ex(d->pkt_all, md, &mdl);
            ev_hash__to_hex(d->pkt_hex, md, 32);
        }
        if (d->dec_all) {
            EVP_DigestFinal_ex(d->dec_all, md, &mdl);
            ev_hash__to_hex(d->dec_hex, md, 32);
        }
    }
done:
    av_packet_free(&pkt);
    av_frame_free(&fr);
    avformat_close_input(&fc);
    ps->rc = rc;
    return NULL;
}

static void dgst_free(dgst *d, size_t n)
{
    for (size_t i = 0; d && i < n; i++) {
        free(d[i].pkt_md);
        free(d[i].frm_md);
        free(d[i].pts);
        EVP_MD_CTX_free(d[i].pkt_all);
        EVP_MD_CTX_free(d[i].nalc);
        EVP_MD_CTX_free(d[i].dec_all);
        EVP_MD_CTX_free(d[i].unit);
        avcodec_free_context(&d[i].dec);
        sws_freeContext(d[i].sws);
        ev_buf__free(&d[i].abuf);
    }
    free(d);
}

/* Run the source and output passes in parallel. */
static int run_two(pass *a, pass *b, ev_errbuf *err)
{
    pthread_t th;
    bool threaded = pthread_create(&th, NULL, run_pass, b) == 0;
    run_pass(a);
    if (threaded)
        pthread_join(th, NULL);
    else
        run_pass(b);
    if (a->rc != EV_OK)
        return ev_err__copy(err, &a->err, a->rc);
    if (b->rc != EV_OK)
        return ev_err__copy(err, &b->err, b->rc);
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* Comparing hash passes                                                     */
/* ------------------------------------------------------------------------ */

static void compare_lists(json_t *o, json_t *probs, const char *what, uint8_t (*a)[32],
                          size_t na, uint8_t (*b)[32], size_t nb, double unit_s)
{
    size_t n = na < nb ? na : nb, bad = 0, first = 0;
    for (size_t i = 0; i < n; i++) {
        if (memcmp(a[i], b[i], 32) != 0) {
            if (bad++ == 0)
                first = i;
        }
    }
    char key[64];
    snprintf(key, sizeof(key), "mismatched_%s", what);
    json_object_set_new(o, key, json_integer((json_int_t)bad));
    if (bad) {
        snprintf(key, sizeof(key), "first_mismatch_%s", what);
        json_object_set_new(o, key, json_integer((json_int_t)first));
        if (unit_s > 0)
            ev_transcode__add_problem(probs, "%zu %s differ, the first at %s %zu (t=%.3f s)", bad, what, what,
                        first, (double)first * unit_s);
        else
            ev_transcode__add_problem(probs, "%zu %s differ, the first is %s %zu", bad, what, what, first);
    }
    if (na != nb)
        ev_transcode__add_problem(probs, "%s count differs: %zu in the source, %zu in the copy", what, na, nb);
}

static json_t *packet_result(const ev_vstream *vs, const dgst *s, const dgst *c, json_t *probs)
{
    json_t *o = json_object();
    json_object_set_new(o, "source_stream", json_integer(vs->src));
    json_object_set_new(o, "output_stream", json_integer(vs->out));
    json_object_set_new(o, "type", json_string(ev_profile__stype_name(vs->type)));
    json_object_set_new(o, "method", json_string(vs->nal_units ? "packet-identical (NAL units)"
                                                                : "packet-identical"));
    if (vs->nal_units)
        json_object_set_new(o, "nal_note", json_string(
            "the packets' NAL units (each as its length and bytes) are compared, whatever "
            "their framing: the source's start codes become length prefixes in the copy"));
    json_object_set_new(o, "packets", json_integer(s->n_packets));
    json_object_set_new(o, "output_packets", json_integer(c->n_packets));
    json_object_set_new(o, "source_sha256", json_string(s->pkt_hex));
    json_object_set_new(o, "output_sha256", json_string(c->pkt_hex));
    compare_lists(o, probs, "packets", s->pkt_md, (size_t)s->n_packets, c->pkt_md,
                  (size_t)c->n_packets, 0);
    if (strcmp(s->pkt_hex, c->pkt_hex) != 0 && json_array_size(probs) == 0)
        ev_transcode__add_problem(probs, "packet SHA-256 differs");
    return o;
}

static json_t *decoded_result(const ev_vstream *vs, const dgst *s, const dgst *c,
                              const ev_vplan *plan, json_t *probs)
{
    json_t *o = json_object();
    json_object_set_new(o, "source_stream", json_integer(vs->src));
    json_object_set_new(o, "output_stream", json_integer(vs->out));
    json_object_set_new(o, "type", json_string(ev_profile__stype_name(vs->type)));
    json_object_set_new(o, "method", json_string("decoded-identical"));
    json_object_set_new(o, "source_format", json_string(s->desc));
    json_object_set_new(o, "output_format", json_string(c->desc));
    if (vs->cmp_pix_fmt != AV_PIX_FMT_NONE)
        json_object_set_new(o, "source_converted_to",
                            json_string(av_get_pix_fmt_name((enum AVPixelFormat)vs->cmp_pix_fmt)));
    if (vs->out_cmp_pix_fmt != AV_PIX_FMT_NONE)
        json_object_set_new(o, "output_repacked_to",
                            json_string(av_get_pix_fmt_name((enum AVPixelFormat)vs->out_cmp_pix_fmt)));
    if (vs->orientation > 1)
        json_object_set_new(o, "source_orientation_applied", json_integer(vs->orientation));
    if (vs->type == EV_ST_VIDEO) {
        json_object_set_new(o, "frames", json_integer(s->n_frames));
        json_object_set_new(o, "output_frames", json_integer(c->n_frames));
    } else {
        json_object_set_new(o, "samples", json_integer(s->samples));
        json_object_set_new(o, "output_samples", json_integer(c->samples));
    }
    json_object_set_new(o, "source_sha256", json_string(s->dec_hex));
    json_object_set_new(o, "output_sha256", json_string(c->dec_hex));
    if (vs->type == EV_ST_VIDEO) {
        int want = vs->cmp_pix_fmt != AV_PIX_FMT_NONE ? vs->cmp_pix_fmt : s->fmt;
        int got = vs->out_cmp_pix_fmt != AV_PIX_FMT_NONE ? vs->out_cmp_pix_fmt : c->fmt;
        bool swap = vs->orientation >= 5;
        int ww = swap ? s->height : s->width, wh = swap ? s->width : s->height;
        if (s->n_frames > 0 && c->n_frames > 0 &&
            (ww != c->width || wh != c->height || !ev_transcode__same_layout(want, got)))
            ev_transcode__add_problem(probs, "picture format differs: source %s%s%s, copy %s", s->desc,
                        vs->cmp_pix_fmt != AV_PIX_FMT_NONE ? " compared as " : "",
                        vs->cmp_pix_fmt != AV_PIX_FMT_NONE
                            ? av_get_pix_fmt_name((enum AVPixelFormat)vs->cmp_pix_fmt) : "",
                        c->desc);
        compare_lists(o, probs, "frames", s->frm_md, s->n_md, c->frm_md, c->n_md, s->tb_frame);
        if (!plan->still) {
            double tol = plan->max_ts_delta_frames * (s->tb_frame > 0 ? s->tb_frame : 0.04);
            double max_dt = 0;
            int64_t at = -1;
            size_t n = s->n_md < c->n_md ? s->n_md : c->n_md;
            for (size_t i = 0; i < n && s->pts && c->pts; i++) {
                double dt = fabs((s->pts[i] - s->pts[0]) - (c->pts[i] - c->pts[0]));
                if (!isnan(dt) && dt > max_dt) {
                    max_dt = dt;
                    at = (int64_t)i;
                }
            }
            json_object_set_new(o, "max_timestamp_delta_s", json_real(ev_transcode__round6(max_dt)));
            json_object_set_new(o, "timestamp_tolerance_s", json_real(ev_transcode__round6(tol)));
            if (max_dt > tol + 1e-9)
                ev_transcode__add_problem(probs, "timestamps drift by %.6f s at frame %lld (more than %.6f s)",
                            max_dt, (long long)at, tol);
        }
        if (s->n_frames == 0)
            ev_transcode__add_problem(probs, "the source has no decodable frame");
    } else {
        /* planar and packed hash the same interleaved bytes */
        if (av_get_packed_sample_fmt((enum AVSampleFormat)s->fmt) !=
                av_get_packed_sample_fmt((enum AVSampleFormat)c->fmt) && s->samples && c->samples)
            ev_transcode__add_problem(probs, "sample format differs: source %s, copy %s", s->desc, c->desc);
        json_object_set_new(o, "source_trim", json_pack("{s:I, s:I}", "start",
                            (json_int_t)s->trim_start, "end", (json_int_t)s->trim_end));
        json_object_set_new(o, "output_trim", json_pack("{s:I, s:I}", "start",
                            (json_int_t)c->trim_start, "end", (json_int_t)c->trim_end));
        bool trims = s->trim_start != c->trim_start || s->trim_end != c->trim_end;
        /* per-second hashes of differently trimmed streams are out of step:
         * their differences locate nothing */
        json_t *scratch = trims ? json_array() : NULL;
        compare_lists(o, trims ? scratch : probs, "seconds", s->frm_md, s->n_md, c->frm_md,
                      c->n_md, 1.0);
        json_decref(scratch);
        if (trims && json_object_get(o, "mismatched_seconds"))
            json_object_set_new(o, "seconds_note", json_string("per-second hashes compared out "
                                "of step: the containers trim differently"));
        if (s->samples != c->samples && trims)
            /* The same coded samples decode to different sample counts when
             * the containers ask for different trims (AAC priming: an MP4
             * edit list trims it, Matroska and MPEG-TS as written by FFmpeg
             * 5.1 do not): say so; neither equality nor a content change
             * follows from the decoded comparison then. */
            ev_transcode__add_problem(probs, "sample count differs: %lld in the source, %lld in the copy; "
                        "the containers trim differently (source: %lld at the start, %lld at "
                        "the end; copy: %lld and %lld), so the decoded samples cannot be "
                        "compared as presented", (long long)s->samples, (long long)c->samples,
                        (long long)s->trim_start, (long long)s->trim_end,
                        (long long)c->trim_start, (long long)c->trim_end);
        else if (s->samples != c->samples)
            ev_transcode__add_problem(probs, "sample count differs: %lld in the source, %lld in the copy",
                        (long long)s->samples, (long long)c->samples);
        if (s->samples == 0)
            ev_transcode__add_problem(probs, "the source has no decodable sample");
    }
    if (strcmp(s->dec_hex, c->dec_hex) != 0 && json_array_size(probs) == 0)
        ev_transcode__add_problem(probs, "decoded SHA-256 differs");
    return o;
}

static json_t *count_result(const ev_vstream *vs, const dgst *s, const dgst *c, json_t *probs)
{
    json_t *o = json_object();
    json_object_set_new(o, "source_stream", json_integer(vs->src));
    json_object_set_new(o, "output_stream", json_integer(vs->out));
    json_object_set_new(o, "type", json_string(ev_profile__stype_name(vs->type)));
    json_object_set_new(o, "method", json_string("quality-bounded"));
    json_object_set_new(o, "samples", json_integer(s->samples));
    json_object_set_new(o, "output_samples", json_integer(c->samples));
    double ds = s->rate > 0 ? (double)s->samples / s->rate : 0;
    double dc = c->rate > 0 ? (double)c->samples / c->rate : 0;
    json_object_set_new(o, "duration_s", json_real(ev_transcode__round6(ds)));
    json_object_set_new(o, "output_duration_s", json_real(ev_transcode__round6(dc)));
    json_object_set_new(o, "note", json_string("lossy audio: duration compared; sample "
                                               "values are not compared"));
    /* one codec frame (AAC: 1024 samples) plus rounding */
    double tol = c->rate > 0 ? 2048.0 / c->rate : 0.05;
    if (fabs(ds - dc) > tol)
        ev_transcode__add_problem(probs, "duration differs by %.6f s (more than one codec frame, %.6f s)",
                    fabs(ds - dc), tol);
    if (s->samples == 0)
        ev_transcode__add_problem(probs, "the source has no decodable sample");
    return o;
}

static void add_errors(json_t *probs, const char *side, const dgst *d)
{
    if (d->errors)
        ev_transcode__add_problem(probs, "%s stream #%d: %lld decoding error%s (first: %s)", side, d->index,
                    (long long)d->errors, d->errors == 1 ? "" : "s", d->first_error);
}

int ev_transcode__verify(json_t **out, const ev_vplan *plan, ev_level level,
                         const char *src_path, const char *out_path,
                         const ev_transcode__opts *opts, ev_errbuf *err)
{
    *out = NULL;
    json_t *doc = json_object(), *streams = json_array(), *all = json_array();
    dgst *ds = ev__calloc(plan->n ? plan->n : 1, sizeof(dgst));
    dgst *dc = ev__calloc(plan->n ? plan->n : 1, sizeof(dgst));
    int rc = EV_OK;
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!doc || !streams || !all || !ds || !dc || !md) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    bool any_hash = false;
    for (size_t i = 0; i < plan->n; i++) {
        const ev_vstream *vs = &plan->s[i];
        dgst *s = &ds[i], *c = &dc[i];
        s->index = vs->src;
        c->index = vs->out;
        s->type = c->type = vs->type;
        s->conv_fmt = vs->cmp_pix_fmt;
        c->conv_fmt = vs->out_cmp_pix_fmt;
        s->orientation = vs->orientation;
        c->orientation = 1;
        s->index = vs->src;
        if (vs->level == EV_LEVEL_PACKET) {
            s->packets = c->packets = true;
            s->nal = c->nal = vs->nal_units;
            any_hash = true;
        } else if (vs->level == EV_LEVEL_DECODED) {
            s->decoded = c->decoded = true;
            any_hash = true;
        } else if (vs->level == EV_LEVEL_QUALITY && vs->type == EV_ST_AUDIO) {
            s->count = c->count = true;
            any_hash = true;
        } else {
            s->index = c->index = -2; /* handled by the lockstep pass */
        }
    }
    /* compact the hash pass lists */
    size_t nh = 0;
    dgst *hs = ev__calloc(plan->n ? plan->n : 1, sizeof(dgst));
    dgst *hc = ev__calloc(plan->n ? plan->n : 1, sizeof(dgst));
    size_t *slot = ev__calloc(plan->n ? plan->n : 1, sizeof(size_t));
    if (!hs || !hc || !slot) {
        free(hs);
        free(hc);
        free(slot);
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < plan->n; i++) {
        if (ds[i].index == -2)
            continue;
        hs[nh] = ds[i];
        hc[nh] = dc[i];
        slot[i] = nh++;
    }
    free(ds);
    free(dc);
    ds = hs;
    dc = hc;
    if (any_hash) {
        pass pa = { src_path, ds, nh, md, opts ? opts->progress_cb : NULL,
                    opts ? opts->progress_payload : NULL, 0, { "" }, 0 };
        pass pb = { out_path, dc, nh, md, NULL, NULL, 0, { "" }, 0 };
        if ((rc = run_two(&pa, &pb, err)) != EV_OK)
            goto done_slot;
    }
    /* packet mismatches that may fall back to a decoded comparison */
    size_t nf = 0;
    dgst *fs = ev__calloc(plan->n ? plan->n : 1, sizeof(dgst));
    dgst *fc2 = ev__calloc(plan->n ? plan->n : 1, sizeof(dgst));
    size_t *fslot = ev__calloc(plan->n ? plan->n : 1, sizeof(size_t));
    if (!fs || !fc2 || !fslot) {
        free(fs);
        free(fc2);
        free(fslot);
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done_slot;
    }
    for (size_t i = 0; i < plan->n; i++) {
        const ev_vstream *vs = &plan->s[i];
        if (vs->level != EV_LEVEL_PACKET || !vs->packet_fallback)
            continue;
        dgst *s = &ds[slot[i]], *c = &dc[slot[i]];
        if (strcmp(s->pkt_hex, c->pkt_hex) == 0 && s->n_packets == c->n_packets)
            continue;
        if (vs->type != EV_ST_VIDEO && vs->type != EV_ST_AUDIO)
            continue;
        fs[nf].index = vs->src;
        fc2[nf].index = vs->out;
        fs[nf].type = fc2[nf].type = vs->type;
        fs[nf].decoded = fc2[nf].decoded = true;
        fs[nf].conv_fmt = fc2[nf].conv_fmt = AV_PIX_FMT_NONE;
        fs[nf].orientation = fc2[nf].orientation = 1;
        fslot[i] = nf + 1;
        nf++;
    }
    if (nf) {
        pass pa = { src_path, fs, nf, md, opts ? opts->progress_cb : NULL,
                    opts ? opts->progress_payload : NULL, 0, { "" }, 0 };
        pass pb = { out_path, fc2, nf, md, NULL, NULL, 0, { "" }, 0 };
        if ((rc = run_two(&pa, &pb, err)) != EV_OK)
            goto done_fallback;
    }
    for (size_t i = 0; i < plan->n; i++) {
        const ev_vstream *vs = &plan->s[i];
        json_t *probs = json_array(), *o = NULL;
        if (!probs) {
            rc = ev_err__set(err, EV_ENOMEM, "out of memory");
            goto done_fallback;
        }
        if (vs->level == EV_LEVEL_QUALITY && vs->type == EV_ST_VIDEO) {
            json_decref(probs);
            if ((rc = ev_transcode__quality_stream(&o, vs, plan, src_path, out_path, opts, err)) != EV_OK)
                goto done_fallback;
            probs = json_incref(json_object_get(o, "problems"));
        } else {
            dgst *s = &ds[slot[i]], *c = &dc[slot[i]];
            if (vs->level == EV_LEVEL_PACKET) {
                o = packet_result(vs, s, c, probs);
                if (fslot[i] && json_array_size(probs)) {
                    json_t *p2 = json_array();
                    dgst *s2 = &fs[fslot[i] - 1], *c2 = &fc2[fslot[i] - 1];
                    json_t *d2 = decoded_result(vs, s2, c2, plan, p2);
                    add_errors(p2, "source", s2);
                    add_errors(p2, "copy", c2);
                    json_object_set_new(d2, "result",
                                        json_string(json_array_size(p2) ? "fail" : "pass"));
                    json_object_set(d2, "problems", p2);
                    json_object_set_new(o, "packet_note",
                                        json_string("packets differ: the container changed how "
                                                    "the codec is packaged, or data changed; "
                                                    "decoded content compared instead"));
                    json_object_set_new(o, "fallback", d2);
                    /* the stream passes on the fallback's verdict */
                    json_object_set_new(o, "method",
                                        json_string("decoded-identical (packet fallback)"));
                    json_array_clear(probs);
                    size_t k;
                    json_t *x;
                    json_array_foreach(p2, k, x)
                        json_array_append(probs, x);
                    json_decref(p2);
                }
            } else if (vs->level == EV_LEVEL_DECODED) {
                o = decoded_result(vs, s, c, plan, probs);
                add_errors(probs, "source", s);
                add_errors(probs, "copy", c);
            } else {
                o = count_result(vs, s, c, probs);
                add_errors(probs, "source", s);
                add_errors(probs, "copy", c);
            }
            json_object_set_new(o, "result", json_string(json_array_size(probs) ? "fail" : "pass"));
            json_object_set(o, "problems", probs);
        }
        size_t k;
        json_t *x;
        json_array_foreach(probs, k, x) {
            char b[640];
            snprintf(b, sizeof(b), "stream %d->%d: %s", vs->src, vs->out, json_string_value(x));
            json_array_append_new(all, json_string(b));
        }
        json_decref(probs);
        json_array_append_new(streams, o);
    }
    if (plan->n == 0)
        ev_transcode__add_problem(all, "nothing to verify: no stream was mapped");
    json_object_set_new(doc, "level", json_string(ev_profile__level_name(level)));
    json_object_set_new(doc, "verdict", json_string(json_array_size(all) ? "fail" : "pass"));
    json_object_set(doc, "streams", streams);
    json_object_set(doc, "problems", all);
    *out = doc;
    doc = NULL;
done_fallback:
    dgst_free(fs, nf);
    dgst_free(fc2, nf);
    free(fslot);
done_slot:
    free(slot);
    dgst_free(ds, nh);
    dgst_free(dc, nh);
    ds = dc = NULL;
done:
    if (ds) {
        free(ds);
        free(dc);
    }
    EVP_MD_free(md);
    json_decref(doc);
    json_decref(streams);
    json_decref(all);
    return rc;
}
