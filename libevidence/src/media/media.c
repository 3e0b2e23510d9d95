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

/* ------------------------------------------------------------------------ */
/* ev_media__analyze                                                         */
/* ------------------------------------------------------------------------ */

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
            ev_media__set_rational(e, "time_base", st->time_base))
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
 * is found on its own: seek back to the key frame at or before 10% of the
 * first video stream (a still: to its start) and take the first frame the
 * decoder gives from there: one frame decoded (and the few packets a
 * decoder needs before it gives one), not the frames up to 10%, which for
 * a key frame interval of 10 s is 250 frames of 1080p (about 1 s of CPU
 * per file). EV_OK with *out NULL when no
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
    if (!ev_media__is_image_format(fmt->iformat->name)) {
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
            done_ = true;
            break;
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
                    (pts != AV_NOPTS_VALUE &&
                     ev_media__set_seconds(t, "time",
                                           pts - (st->start_time != AV_NOPTS_VALUE
                                                      ? st->start_time : 0),
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
