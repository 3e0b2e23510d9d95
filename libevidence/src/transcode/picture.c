/*
 * picture: pixel-format and picture helpers shared by the transcode pass,
 * the verification and the still path: the output pixel format choice and
 * lossless repacks, same-layout aliases, conversion with the one set of
 * libswscale settings, packed picture bytes, EXIF orientation, and the
 * PSNR/SSIM metrics. Calls nothing else in transcode/.
 */
#include "transcode/transcode_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/imgutils.h>
#include <libavutil/intreadwrite.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

int ev_transcode__picture_bytes(uint8_t **out, size_t *len, const AVFrame *f)
{
    *out = NULL;
    *len = 0;
    int n = av_image_get_buffer_size((enum AVPixelFormat)f->format, f->width, f->height, 1);
    if (n <= 0)
        return EV_EFORMAT;
    uint8_t *b = malloc((size_t)n);
    if (!b)
        return EV_ENOMEM;
    int e = av_image_copy_to_buffer(b, n, (const uint8_t *const *)f->data, f->linesize,
                                    (enum AVPixelFormat)f->format, f->width, f->height, 1);
    if (e < 0) {
        free(b);
        return EV_EFORMAT;
    }
    *out = b;
    *len = (size_t)n;
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* Pixel formats                                                             */
/* ------------------------------------------------------------------------ */

bool ev_transcode__is_repack(int a, int b)
{
    const AVPixFmtDescriptor *da = av_pix_fmt_desc_get((enum AVPixelFormat)a);
    const AVPixFmtDescriptor *db = av_pix_fmt_desc_get((enum AVPixelFormat)b);
    const uint64_t bad = AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM |
                         AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_FLOAT | AV_PIX_FMT_FLAG_BAYER;
    if (!da || !db || (da->flags & bad) || (db->flags & bad))
        return false;
    if (da->nb_components != db->nb_components || da->log2_chroma_w != db->log2_chroma_w ||
        da->log2_chroma_h != db->log2_chroma_h ||
        (da->flags & AV_PIX_FMT_FLAG_RGB) != (db->flags & AV_PIX_FMT_FLAG_RGB) ||
        (da->flags & AV_PIX_FMT_FLAG_ALPHA) != (db->flags & AV_PIX_FMT_FLAG_ALPHA))
        return false;
    for (int i = 0; i < da->nb_components; i++)
        if (da->comp[i].depth != db->comp[i].depth)
            return false;
    return true;
}

static bool enc_takes(const AVCodec *enc, int f)
{
    if (!enc->pix_fmts)
        return true;
    for (const enum AVPixelFormat *p = enc->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
        if ((int)*p == f)
            return true;
    return false;
}

int ev_transcode__choose_pix_fmt(ev_fmt_choice *c, const AVCodec *enc, int src_fmt,
                                 const ev_profile_rule *r)
{
    memset(c, 0, sizeof(*c));
    c->fmt = AV_PIX_FMT_NONE;
    const char *sn = av_get_pix_fmt_name((enum AVPixelFormat)src_fmt);
    if (!sn) {
        snprintf(c->why, sizeof(c->why), "the source's pixel format is unknown");
        return EV_EUNSUPPORTED;
    }
    if (r->pix_fmt) {
        int f = av_get_pix_fmt(r->pix_fmt);
        if (!enc_takes(enc, f)) {
            snprintf(c->why, sizeof(c->why), "encoder %s cannot take the profile's pix_fmt %s",
                     enc->name, r->pix_fmt);
            return EV_EUNSUPPORTED;
        }
        c->fmt = f;
        c->convert = !ev_transcode__same_layout(f, src_fmt);
        c->repack = c->convert && ev_transcode__is_repack(src_fmt, f);
        c->declared = c->convert;
        return EV_OK;
    }
    if (enc_takes(enc, src_fmt)) {
        c->fmt = src_fmt;
        return EV_OK;
    }
    for (const enum AVPixelFormat *p = enc->pix_fmts; p && *p != AV_PIX_FMT_NONE; p++) {
        if (ev_transcode__same_layout(*p, src_fmt)) {
            c->fmt = *p;
            snprintf(c->why, sizeof(c->why), "%s stored as %s (same samples; full range kept "
                     "as a colour-range flag)", sn, av_get_pix_fmt_name(*p));
            return EV_OK;
        }
    }
    for (const enum AVPixelFormat *p = enc->pix_fmts; p && *p != AV_PIX_FMT_NONE; p++) {
        if (ev_transcode__is_repack(src_fmt, *p)) {
            c->fmt = *p;
            c->convert = c->repack = true;
            snprintf(c->why, sizeof(c->why), "%s rearranged as %s (same samples, lossless)", sn,
                     av_get_pix_fmt_name(*p));
            return EV_OK;
        }
    }
    if (r->fallback_pix_fmt) {
        int f = av_get_pix_fmt(r->fallback_pix_fmt);
        if (!enc_takes(enc, f)) {
            snprintf(c->why, sizeof(c->why), "encoder %s cannot take the profile's "
                     "fallback_pix_fmt %s", enc->name, r->fallback_pix_fmt);
            return EV_EUNSUPPORTED;
        }
        c->fmt = f;
        c->convert = c->declared = true;
        c->repack = ev_transcode__is_repack(src_fmt, f);
        return EV_OK;
    }
    snprintf(c->why, sizeof(c->why), "encoder %s cannot store pixel format %s without "
             "converting it, and the profile keeps the source's format", enc->name, sn);
    return EV_EUNSUPPORTED;
}

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

/* Metric format: the copy's format if it is 8-bit planar YUV or gray,
 * else yuv444p. */
int ev_transcode__metric_fmt(int f)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get((enum AVPixelFormat)f);
    if (d && d->comp[0].depth == 8 && !(d->flags & AV_PIX_FMT_FLAG_RGB) &&
        !(d->flags & AV_PIX_FMT_FLAG_PAL) &&
        ((d->flags & AV_PIX_FMT_FLAG_PLANAR) || d->nb_components == 1))
        return jpeg_alias(f);
    return AV_PIX_FMT_YUV444P;
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
