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
 * Source and copy are read in two threads for the hash passes.
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
/* Pictures                                                                  */
/* ------------------------------------------------------------------------ */

static int jpeg_alias(int f)
{
    switch (f) {
    case AV_PIX_FMT_YUVJ420P: return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: return AV_PIX_FMT_YUV411P;
    default: return f;
    }
}

bool ev_transcode__same_layout(int a, int b)
{
    return a == b || jpeg_alias(a) == jpeg_alias(b);
}

static bool is_yuvj(int f)
{
    return jpeg_alias(f) != f;
}

int ev_transcode__convert(AVFrame **out, const AVFrame *in, int pix_fmt,
                          struct SwsContext **cache)
{
    *out = NULL;
    const AVPixFmtDescriptor *dd = av_pix_fmt_desc_get((enum AVPixelFormat)pix_fmt);
    if (!dd || in->width <= 0 || in->height <= 0)
        return EV_EINVAL;
    struct SwsContext *s = sws_getCachedContext(
        *cache, in->width, in->height, (enum AVPixelFormat)in->format, in->width, in->height,
        (enum AVPixelFormat)pix_fmt,
        SWS_BICUBIC | SWS_ACCURATE_RND | SWS_BITEXACT | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
    if (!s)
        return EV_EUNSUPPORTED;
    *cache = s;
    int src_full = in->color_range == AVCOL_RANGE_JPEG || is_yuvj(in->format);
    bool dst_rgb = (dd->flags & AV_PIX_FMT_FLAG_RGB) != 0;
    bool dst_gray = !dst_rgb && dd->nb_components <= 2;
    int dst_full = dst_rgb ? 1 : is_yuvj(pix_fmt) ? 1 : dst_gray ? src_full : src_full;
    int cs = in->colorspace == AVCOL_SPC_UNSPECIFIED || in->colorspace == AVCOL_SPC_RGB
                 ? SWS_CS_DEFAULT : (int)in->colorspace;
    const int *coef = sws_getCoefficients(cs);
    sws_setColorspaceDetails(s, coef, src_full, coef, dst_full, 0, 1 << 16, 1 << 16);
    AVFrame *o = av_frame_alloc();
    if (!o)
        return EV_ENOMEM;
    o->format = pix_fmt;
    o->width = in->width;
    o->height = in->height;
    if (av_frame_get_buffer(o, 0) < 0 || av_frame_copy_props(o, in) < 0) {
        av_frame_free(&o);
        return EV_ENOMEM;
    }
    o->color_range = dst_rgb ? AVCOL_RANGE_JPEG : dst_full ? AVCOL_RANGE_JPEG
                   : in->color_range;
    if (sws_scale(s, (const uint8_t *const *)in->data, in->linesize, 0, in->height, o->data,
                  o->linesize) != in->height) {
        av_frame_free(&o);
        return EV_ERROR;
    }
    *out = o;
    return EV_OK;
}

int ev_transcode__orient(AVFrame **out, const AVFrame *in, int orientation)
{
    *out = NULL;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get((enum AVPixelFormat)in->format);
    if (!d || orientation < 1 || orientation > 8)
        return EV_EINVAL;
    bool pal = (d->flags & AV_PIX_FMT_FLAG_PAL) != 0;
    if ((d->flags & AV_PIX_FMT_FLAG_BITSTREAM) || (!pal && (d->flags & AV_PIX_FMT_FLAG_PLANAR)) ||
        (d->flags & AV_PIX_FMT_FLAG_HWACCEL) || d->log2_chroma_w || d->log2_chroma_h)
        return EV_EUNSUPPORTED;
    int bpp = d->comp[0].step;
    if (bpp <= 0 || bpp > 16)
        return EV_EUNSUPPORTED;
    int W = in->width, H = in->height;
    bool swap = orientation >= 5;
    AVFrame *o = av_frame_alloc();
    if (!o)
        return EV_ENOMEM;
    o->format = in->format;
    o->width = swap ? H : W;
    o->height = swap ? W : H;
    if (av_frame_get_buffer(o, 0) < 0 || av_frame_copy_props(o, in) < 0) {
        av_frame_free(&o);
        return EV_ENOMEM;
    }
    for (int y = 0; y < o->height; y++) {
        uint8_t *dst = o->data[0] + (ptrdiff_t)y * o->linesize[0];
        for (int x = 0; x < o->width; x++) {
            int sx, sy;
            switch (orientation) {
            case 2: sx = W - 1 - x; sy = y; break;
            case 3: sx = W - 1 - x; sy = H - 1 - y; break;
            case 4: sx = x; sy = H - 1 - y; break;
            case 5: sx = y; sy = x; break;
            case 6: sx = y; sy = H - 1 - x; break;
            case 7: sx = W - 1 - y; sy = H - 1 - x; break;
            case 8: sx = W - 1 - y; sy = x; break;
            default: sx = x; sy = y; break;
            }
            memcpy(dst + (size_t)x * (size_t)bpp,
                   in->data[0] + (ptrdiff_t)sy * in->linesize[0] + (ptrdiff_t)sx * bpp,
                   (size_t)bpp);
        }
    }
    if (pal && in->data[1] && o->data[1])
        memcpy(o->data[1], in->data[1], AVPALETTE_SIZE);
    *out = o;
    return EV_OK;
}

/* SSIM on 4x4 block sums, overlapping 8x8 windows (the x264 / FFmpeg vf_ssim
 * method), for one 8-bit plane. Returns NAN for planes under 8x8. */
static double ssim_plane(const uint8_t *a, int as, const uint8_t *b, int bs, int w, int h)
{
    int bw = w / 4, bh = h / 4;
    if (bw < 2 || bh < 2)
        return NAN;
    int64_t(*rows)[4] = calloc((size_t)bw * 2, sizeof(*rows));
    if (!rows)
        return NAN;
    int64_t(*prev)[4] = rows, (*cur)[4] = rows + bw;
    const double c1 = .01 * .01 * 255 * 255 * 64, c2 = .03 * .03 * 255 * 255 * 64 * 63;
    double total = 0;
    for (int by = 0; by < bh; by++) {
        for (int bx = 0; bx < bw; bx++) {
            int64_t s1 = 0, s2 = 0, ss = 0, s12 = 0;
            for (int y = 0; y < 4; y++) {
                const uint8_t *pa = a + (ptrdiff_t)(by * 4 + y) * as + bx * 4;
                const uint8_t *pb = b + (ptrdiff_t)(by * 4 + y) * bs + bx * 4;
                for (int x = 0; x < 4; x++) {
                    int va = pa[x], vb = pb[x];
                    s1 += va;
                    s2 += vb;
                    ss += va * va + vb * vb;
                    s12 += va * vb;
                }
            }
            cur[bx][0] = s1;
            cur[bx][1] = s2;
            cur[bx][2] = ss;
            cur[bx][3] = s12;
        }
        if (by > 0) {
            for (int bx = 0; bx + 1 < bw; bx++) {
                double f1 = 0, f2 = 0, fss = 0, f12 = 0;
                f1 = (double)(prev[bx][0] + prev[bx + 1][0] + cur[bx][0] + cur[bx + 1][0]);
                f2 = (double)(prev[bx][1] + prev[bx + 1][1] + cur[bx][1] + cur[bx + 1][1]);
                fss = (double)(prev[bx][2] + prev[bx + 1][2] + cur[bx][2] + cur[bx + 1][2]);
                f12 = (double)(prev[bx][3] + prev[bx + 1][3] + cur[bx][3] + cur[bx + 1][3]);
                double vars = fss * 64 - f1 * f1 - f2 * f2;
                double covar = f12 * 64 - f1 * f2;
                total += (2 * f1 * f2 + c1) * (2 * covar + c2) /
                         ((f1 * f1 + f2 * f2 + c1) * (vars + c2));
            }
        }
        int64_t(*t)[4] = prev;
        prev = cur;
        cur = t;
    }
    free(rows);
    return total / ((double)(bh - 1) * (double)(bw - 1));
}

int ev_transcode__quality(double *psnr, double *ssim, const AVFrame *a, const AVFrame *b)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get((enum AVPixelFormat)a->format);
    if (!d || !ev_transcode__same_layout(a->format, b->format) || a->width != b->width ||
        a->height != b->height)
        return EV_EINVAL;
    if (d->comp[0].depth != 8 || (d->flags & AV_PIX_FMT_FLAG_RGB) ||
        (!(d->flags & AV_PIX_FMT_FLAG_PLANAR) && d->nb_components > 1))
        return EV_EUNSUPPORTED;
    double se_total = 0, ssim_w = 0, ssim_sum = 0;
    double px_total = 0;
    int planes = av_pix_fmt_count_planes((enum AVPixelFormat)a->format);
    for (int p = 0; p < planes; p++) {
        int w = p == 1 || p == 2 ? AV_CEIL_RSHIFT(a->width, d->log2_chroma_w) : a->width;
        int h = p == 1 || p == 2 ? AV_CEIL_RSHIFT(a->height, d->log2_chroma_h) : a->height;
        double se = 0;
        for (int y = 0; y < h; y++) {
            const uint8_t *pa = a->data[p] + (ptrdiff_t)y * a->linesize[p];
            const uint8_t *pb = b->data[p] + (ptrdiff_t)y * b->linesize[p];
            int64_t row = 0;
            for (int x = 0; x < w; x++) {
                int dlt = pa[x] - pb[x];
                row += dlt * dlt;
            }
            se += (double)row;
        }
        se_total += se;
        px_total += (double)w * h;
        double s = ssim_plane(a->data[p], a->linesize[p], b->data[p], b->linesize[p], w, h);
        if (!isnan(s)) {
            ssim_sum += s * (double)w * h;
            ssim_w += (double)w * h;
        }
    }
    double mse = px_total > 0 ? se_total / px_total : 0;
    *psnr = mse > 0 ? fmin(100.0, 10.0 * log10(255.0 * 255.0 / mse)) : 100.0;
    *ssim = ssim_w > 0 ? ssim_sum / ssim_w : (mse > 0 ? 0.0 : 1.0);
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* Hash passes                                                               */
/* ------------------------------------------------------------------------ */

typedef struct dgst {
    /* what */
    int index;
    ev_stype type;
    bool packets;          /* hash packet payloads */
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
            EVP_Digest(pkt->data ? pkt->data : (const uint8_t *)"", (size_t)pkt->size, md, &mdl,
                       ps->md, NULL);
            EVP_DigestUpdate(d->pkt_all, pkt->data ? pkt->data : (const uint8_t *)"",
                             (size_t)pkt->size);
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
/* Quality pass: decode both in lockstep                                     */
/* ------------------------------------------------------------------------ */

typedef struct freader {
    AVFormatContext *fc;
    AVCodecContext *dec;
    AVPacket *pkt;
    int index;
    bool in_eof, out_eof;
    int64_t frames, errors;
    char first_error[200];
} freader;

static int fr_open(freader *r, const char *path, int index, ev_errbuf *err)
{
    memset(r, 0, sizeof(*r));
    int rc = ev_transcode__open_input(&r->fc, path, err);
    if (rc != EV_OK)
        return rc;
    if (index < 0 || (unsigned)index >= r->fc->nb_streams ||
        r->fc->streams[index]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
        return ev_err__set(err, EV_EFORMAT, "'%s' has no video stream #%d", path, index);
    r->index = index;
    for (unsigned i = 0; i < r->fc->nb_streams; i++)
        if ((int)i != index)
            r->fc->streams[i]->discard = AVDISCARD_ALL;
    if (!(r->pkt = av_packet_alloc()))
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    return ev_transcode__open_decoder(&r->dec, r->fc->streams[index], false, err);
}

static void fr_close(freader *r)
{
    avcodec_free_context(&r->dec);
    av_packet_free(&r->pkt);
    avformat_close_input(&r->fc);
}

static void fr_error(freader *r, const char *what)
{
    if (r->errors++ == 0)
        snprintf(r->first_error, sizeof(r->first_error), "after %lld frames: %s",
                 (long long)r->frames, what);
}

/* Next frame into f; returns 1 with a frame, 0 at the end, <0 on error. */
static int fr_next(freader *r, AVFrame *f)
{
    for (;;) {
        if (r->out_eof)
            return 0;
        int e = avcodec_receive_frame(r->dec, f);
        if (e >= 0) {
            if (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT))
                fr_error(r, "damaged frame (concealed by the decoder)");
            r->frames++;
            return 1;
        }
        if (e == AVERROR_EOF) {
            r->out_eof = true;
            return 0;
        }
        if (e != AVERROR(EAGAIN)) {
            char eb[AV_ERROR_MAX_STRING_SIZE];
            av_strerror(e, eb, sizeof(eb));
            fr_error(r, eb);
        }
        if (r->in_eof) {
            if (e != AVERROR(EAGAIN)) {
                r->out_eof = true;
                return 0;
            }
            continue;
        }
        for (;;) {
            e = av_read_frame(r->fc, r->pkt);
            if (e < 0) {
                if (e != AVERROR_EOF) {
                    char eb[AV_ERROR_MAX_STRING_SIZE];
                    av_strerror(e, eb, sizeof(eb));
                    fr_error(r, eb);
                }
                r->in_eof = true;
                avcodec_send_packet(r->dec, NULL);
                break;
            }
            if (r->pkt->stream_index != r->index) {
                av_packet_unref(r->pkt);
                continue;
            }
            e = avcodec_send_packet(r->dec, r->pkt);
            av_packet_unref(r->pkt);
            if (e < 0 && e != AVERROR(EAGAIN)) {
                char eb[AV_ERROR_MAX_STRING_SIZE];
                av_strerror(e, eb, sizeof(eb));
                fr_error(r, eb);
            }
            break;
        }
    }
}

/* Metric format: the copy's format if it is 8-bit planar YUV or gray,
 * else yuv444p. */
static int metric_fmt(int f)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get((enum AVPixelFormat)f);
    if (d && d->comp[0].depth == 8 && !(d->flags & AV_PIX_FMT_FLAG_RGB) &&
        !(d->flags & AV_PIX_FMT_FLAG_PAL) &&
        ((d->flags & AV_PIX_FMT_FLAG_PLANAR) || d->nb_components == 1))
        return jpeg_alias(f);
    return AV_PIX_FMT_YUV444P;
}

static void add_problem(json_t *arr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_problem(json_t *arr, const char *fmt, ...)
{
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof(b), fmt, ap);
    va_end(ap);
    json_array_append_new(arr, json_string(b));
}

static double round6(double v)
{
    return round(v * 1e6) / 1e6;
}

static int quality_stream(json_t **out, const ev_vstream *vs, const ev_vplan *plan,
                          const char *src_path, const char *out_path,
                          const ev_transcode__opts *opts, ev_errbuf *err)
{
    freader a, b;
    AVFrame *fa = av_frame_alloc(), *fb = av_frame_alloc();
    struct SwsContext *sa = NULL, *sb = NULL;
    json_t *o = json_object(), *probs = json_array();
    int rc = EV_OK;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    if (!fa || !fb || !o || !probs) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = fr_open(&a, src_path, vs->src, err)) != EV_OK ||
        (rc = fr_open(&b, out_path, vs->out, err)) != EV_OK)
        goto done;
    AVStream *sta = a.fc->streams[vs->src], *stb = b.fc->streams[vs->out];
    AVRational rate = av_guess_frame_rate(a.fc, sta, NULL);
    double fdur = rate.num > 0 && rate.den > 0 ? av_q2d(av_inv_q(rate)) : 0.04;
    double tol = plan->max_ts_delta_frames * fdur;
    double psnr_min = INFINITY, ssim_min = INFINITY, psnr_sum = 0, ssim_sum = 0;
    int64_t psnr_at = -1, ssim_at = -1, n = 0, measured = 0, size_mismatch = 0;
    double t0a = NAN, t0b = NAN, max_dt = 0;
    int64_t max_dt_at = -1;
    int cmp = AV_PIX_FMT_NONE;
    int64_t last = av_gettime_relative();
    for (;;) {
        int ga = fr_next(&a, fa);
        int gb = fr_next(&b, fb);
        if (ga <= 0 || gb <= 0) {
            if (ga > 0)
                av_frame_unref(fa);
            if (gb > 0)
                av_frame_unref(fb);
            /* count what is left on either side */
            while (ga > 0 && (ga = fr_next(&a, fa)) > 0)
                av_frame_unref(fa);
            while (gb > 0 && (gb = fr_next(&b, fb)) > 0)
                av_frame_unref(fb);
            break;
        }
        if (cmp == AV_PIX_FMT_NONE)
            cmp = metric_fmt(fb->format);
        double ta = fa->best_effort_timestamp != AV_NOPTS_VALUE
                        ? (double)fa->best_effort_timestamp * av_q2d(sta->time_base) : NAN;
        double tb = fb->best_effort_timestamp != AV_NOPTS_VALUE
                        ? (double)fb->best_effort_timestamp * av_q2d(stb->time_base) : NAN;
        if (n == 0) {
            t0a = ta;
            t0b = tb;
        }
        double dt = fabs((ta - t0a) - (tb - t0b));
        if (!isnan(dt) && dt > max_dt) {
            max_dt = dt;
            max_dt_at = n;
        }
        if (fa->width != fb->width || fa->height != fb->height) {
            if (size_mismatch++ == 0)
                add_problem(probs, "frame %lld: picture size differs (%dx%d in the source, "
                            "%dx%d in the copy)", (long long)n, fa->width, fa->height,
                            fb->width, fb->height);
        } else {
            AVFrame *ca = NULL, *cb = NULL;
            const AVFrame *ua = fa, *ub = fb;
            if (!ev_transcode__same_layout(fa->format, cmp)) {
                if (ev_transcode__convert(&ca, fa, cmp, &sa) == EV_OK)
                    ua = ca;
                else
                    ua = NULL;
            }
            if (!ev_transcode__same_layout(fb->format, cmp)) {
                if (ev_transcode__convert(&cb, fb, cmp, &sb) == EV_OK)
                    ub = cb;
                else
                    ub = NULL;
            }
            double ps = 0, ss = 0;
            if (ua && ub && ev_transcode__quality(&ps, &ss, ua, ub) == EV_OK) {
                measured++;
                psnr_sum += ps;
                ssim_sum += ss;
                if (ps < psnr_min) {
                    psnr_min = ps;
                    psnr_at = n;
                }
                if (ss < ssim_min) {
                    ssim_min = ss;
                    ssim_at = n;
                }
            }
            av_frame_free(&ca);
            av_frame_free(&cb);
        }
        av_frame_unref(fa);
        av_frame_unref(fb);
        n++;
        if (opts && opts->progress_cb) {
            int64_t now = av_gettime_relative();
            if (now - last > 100000) {
                last = now;
                int64_t pos = avio_tell(a.fc->pb), tot = avio_size(a.fc->pb);
                ev_progress pr = { EV_PROGRESS_VERSION, "verifying", src_path,
                                   (uint64_t)(pos > 0 ? pos : 0), (uint64_t)(tot > 0 ? tot : 0),
                                   0, 1 };
                if (opts->progress_cb(&pr, opts->progress_payload)) {
                    rc = ev_err__set(err, EV_ECANCELED, "canceled by callback");
                    goto done;
                }
            }
        }
    }
    json_object_set_new(o, "source_stream", json_integer(vs->src));
    json_object_set_new(o, "output_stream", json_integer(vs->out));
    json_object_set_new(o, "type", json_string("video"));
    json_object_set_new(o, "method", json_string("quality-bounded"));
    json_object_set_new(o, "frames", json_integer(a.frames));
    json_object_set_new(o, "output_frames", json_integer(b.frames));
    if (a.frames != b.frames)
        add_problem(probs, "frame count differs: %lld in the source, %lld in the copy (a frame "
                    "was dropped or duplicated)", (long long)a.frames, (long long)b.frames);
    if (a.frames == 0)
        add_problem(probs, "the source has no decodable frame");
    if (measured) {
        json_object_set_new(o, "psnr_db", json_pack("{s:f, s:f, s:I}", "min", round6(psnr_min),
                                                    "mean", round6(psnr_sum / (double)measured),
                                                    "min_at_frame", (json_int_t)psnr_at));
        json_object_set_new(o, "ssim", json_pack("{s:f, s:f, s:I}", "min", round6(ssim_min),
                                                 "mean", round6(ssim_sum / (double)measured),
                                                 "min_at_frame", (json_int_t)ssim_at));
        double pm = psnr_sum / (double)measured, sm = ssim_sum / (double)measured;
        if (plan->psnr_min > 0 && psnr_min < plan->psnr_min)
            add_problem(probs, "PSNR %.2f dB at frame %lld is below the minimum %.2f dB",
                        psnr_min, (long long)psnr_at, plan->psnr_min);
        if (plan->psnr_mean_min > 0 && pm < plan->psnr_mean_min)
            add_problem(probs, "mean PSNR %.2f dB is below the minimum %.2f dB", pm,
                        plan->psnr_mean_min);
        if (plan->ssim_min > 0 && ssim_min < plan->ssim_min)
            add_problem(probs, "SSIM %.4f at frame %lld is below the minimum %.4f", ssim_min,
                        (long long)ssim_at, plan->ssim_min);
        if (plan->ssim_mean_min > 0 && sm < plan->ssim_mean_min)
            add_problem(probs, "mean SSIM %.4f is below the minimum %.4f", sm,
                        plan->ssim_mean_min);
    } else if (a.frames && b.frames) {
        add_problem(probs, "no frame could be compared");
    }
    json_object_set_new(o, "compared_in", json_string(cmp != AV_PIX_FMT_NONE
                                                      ? av_get_pix_fmt_name((enum AVPixelFormat)cmp)
                                                      : "none"));
    json_object_set_new(o, "frame_duration_s", json_real(round6(fdur)));
    json_object_set_new(o, "max_timestamp_delta_s", json_real(round6(max_dt)));
    json_object_set_new(o, "timestamp_tolerance_s", json_real(round6(tol)));
    if (!isnan(t0a) && !isnan(t0b))
        json_object_set_new(o, "start_offset_s", json_real(round6(t0b - t0a)));
    if (max_dt > tol + 1e-9)
        add_problem(probs, "timestamps drift by %.6f s at frame %lld (more than %.6f s)",
                    max_dt, (long long)max_dt_at, tol);
    if (a.errors)
        add_problem(probs, "source decoding errors: %lld (first %s)", (long long)a.errors,
                    a.first_error);
    if (b.errors)
        add_problem(probs, "copy decoding errors: %lld (first %s)", (long long)b.errors,
                    b.first_error);
    json_object_set_new(o, "result", json_string(json_array_size(probs) ? "fail" : "pass"));
    json_object_set(o, "problems", probs);
    *out = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(probs);
    av_frame_free(&fa);
    av_frame_free(&fb);
    sws_freeContext(sa);
    sws_freeContext(sb);
    fr_close(&a);
    fr_close(&b);
    return rc;
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
            add_problem(probs, "%zu %s differ, the first at %s %zu (t=%.3f s)", bad, what, what,
                        first, (double)first * unit_s);
        else
            add_problem(probs, "%zu %s differ, the first is %s %zu", bad, what, what, first);
    }
    if (na != nb)
        add_problem(probs, "%s count differs: %zu in the source, %zu in the copy", what, na, nb);
}

static json_t *packet_result(const ev_vstream *vs, const dgst *s, const dgst *c, json_t *probs)
{
    json_t *o = json_object();
    json_object_set_new(o, "source_stream", json_integer(vs->src));
    json_object_set_new(o, "output_stream", json_integer(vs->out));
    json_object_set_new(o, "type", json_string(ev_profile__stype_name(vs->type)));
    json_object_set_new(o, "method", json_string("packet-identical"));
    json_object_set_new(o, "packets", json_integer(s->n_packets));
    json_object_set_new(o, "output_packets", json_integer(c->n_packets));
    json_object_set_new(o, "source_sha256", json_string(s->pkt_hex));
    json_object_set_new(o, "output_sha256", json_string(c->pkt_hex));
    compare_lists(o, probs, "packets", s->pkt_md, (size_t)s->n_packets, c->pkt_md,
                  (size_t)c->n_packets, 0);
    if (strcmp(s->pkt_hex, c->pkt_hex) != 0 && json_array_size(probs) == 0)
        add_problem(probs, "packet SHA-256 differs");
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
            add_problem(probs, "picture format differs: source %s%s%s, copy %s", s->desc,
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
            json_object_set_new(o, "max_timestamp_delta_s", json_real(round6(max_dt)));
            json_object_set_new(o, "timestamp_tolerance_s", json_real(round6(tol)));
            if (max_dt > tol + 1e-9)
                add_problem(probs, "timestamps drift by %.6f s at frame %lld (more than %.6f s)",
                            max_dt, (long long)at, tol);
        }
        if (s->n_frames == 0)
            add_problem(probs, "the source has no decodable frame");
    } else {
        /* planar and packed hash the same interleaved bytes */
        if (av_get_packed_sample_fmt((enum AVSampleFormat)s->fmt) !=
                av_get_packed_sample_fmt((enum AVSampleFormat)c->fmt) && s->samples && c->samples)
            add_problem(probs, "sample format differs: source %s, copy %s", s->desc, c->desc);
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
            add_problem(probs, "sample count differs: %lld in the source, %lld in the copy; "
                        "the containers trim differently (source: %lld at the start, %lld at "
                        "the end; copy: %lld and %lld), so the decoded samples cannot be "
                        "compared as presented", (long long)s->samples, (long long)c->samples,
                        (long long)s->trim_start, (long long)s->trim_end,
                        (long long)c->trim_start, (long long)c->trim_end);
        else if (s->samples != c->samples)
            add_problem(probs, "sample count differs: %lld in the source, %lld in the copy",
                        (long long)s->samples, (long long)c->samples);
        if (s->samples == 0)
            add_problem(probs, "the source has no decodable sample");
    }
    if (strcmp(s->dec_hex, c->dec_hex) != 0 && json_array_size(probs) == 0)
        add_problem(probs, "decoded SHA-256 differs");
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
    json_object_set_new(o, "duration_s", json_real(round6(ds)));
    json_object_set_new(o, "output_duration_s", json_real(round6(dc)));
    json_object_set_new(o, "note", json_string("lossy audio: duration compared; sample "
                                               "values are not compared"));
    /* one codec frame (AAC: 1024 samples) plus rounding */
    double tol = c->rate > 0 ? 2048.0 / c->rate : 0.05;
    if (fabs(ds - dc) > tol)
        add_problem(probs, "duration differs by %.6f s (more than one codec frame, %.6f s)",
                    fabs(ds - dc), tol);
    if (s->samples == 0)
        add_problem(probs, "the source has no decodable sample");
    return o;
}

static void add_errors(json_t *probs, const char *side, const dgst *d)
{
    if (d->errors)
        add_problem(probs, "%s stream #%d: %lld decoding error%s (first: %s)", side, d->index,
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
            if ((rc = quality_stream(&o, vs, plan, src_path, out_path, opts, err)) != EV_OK)
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
        add_problem(all, "nothing to verify: no stream was mapped");
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
