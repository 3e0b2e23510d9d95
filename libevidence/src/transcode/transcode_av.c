/*
 * transcode_av: FFmpeg helpers shared by transcoding, verification and
 * conformance checks: safe input opening, decoders with bit-exact settings,
 * container names, audio sample packing, file SHA-256, and the problem-list
 * helpers of the reports. Calls nothing else in transcode/.
 */
#include "transcode/transcode_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libdeflate.h>
#include <libavutil/crc.h>
#include <libavutil/imgutils.h>
#include <libavutil/intreadwrite.h>
#include <libavutil/pixdesc.h>

#include "base/hash.h"
#include "media/media_int.h"

int ev_transcode__averr(ev_errbuf *err, int averr, const char *fmt, ...)
{
    char what[640], eb[AV_ERROR_MAX_STRING_SIZE + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    av_strerror(averr, eb, sizeof(eb));
    int st;
    if (averr == AVERROR(ENOENT) || averr == AVERROR(ENOTDIR))
        st = EV_ENOTFOUND;
    else if (averr == AVERROR(ENOMEM))
        st = EV_ENOMEM;
    else if (averr == AVERROR(EIO) || averr == AVERROR(EACCES) || averr == AVERROR(ENOSPC) ||
             averr == AVERROR(EROFS) || averr == AVERROR(EPERM))
        st = EV_EIO;
    else if (averr == AVERROR_INVALIDDATA || averr == AVERROR_EOF ||
             averr == AVERROR_DEMUXER_NOT_FOUND || averr == AVERROR_STREAM_NOT_FOUND)
        st = EV_EFORMAT;
    else if (averr == AVERROR_DECODER_NOT_FOUND || averr == AVERROR_ENCODER_NOT_FOUND ||
             averr == AVERROR_PATCHWELCOME || averr == AVERROR_MUXER_NOT_FOUND ||
             averr == AVERROR(ENOSYS))
        st = EV_EUNSUPPORTED;
    else if (averr == AVERROR_EXIT)
        st = EV_ECANCELED;
    else
        st = EV_ERROR;
    return ev_err__set(err, st, "%s: %s", what, eb);
}

/* Demuxers that read other files named inside the input (playlists,
 * concatenation lists): refused, so that a file cannot make us read
 * anything but itself. */
static bool denied_demuxer(const char *name)
{
    static const char *const deny[] = { "hls", "dash", "concat", "image2", "ffmetadata",
                                        "tee", "imf", NULL };
    for (size_t i = 0; deny[i]; i++)
        if (strcmp(name, deny[i]) == 0)
            return true;
    return false;
}

bool ev_transcode__untimed_demuxer(const char *name)
{
    static const char *const raw[] = { "h264", "hevc", "m4v", "mpegvideo", "cavsvideo", "vc1",
                                       "avs2", "avs3", "vvc", "dirac", "dnxhd", "h261", "h263",
                                       "mjpeg", "ingenient", "rawvideo", NULL };
    for (size_t i = 0; name && raw[i]; i++)
        if (strcmp(name, raw[i]) == 0)
            return true;
    return false;
}

int ev_transcode__open_input(AVFormatContext **out, const char *path, ev_errbuf *err)
{
    return ev_transcode__open_input_rate(out, path, NULL, NULL, err);
}

int ev_transcode__open_input_pb(AVFormatContext **out, const char *path, AVIOContext *own,
                                ev_errbuf *err)
{
    return ev_transcode__open_input_rate(out, path, own, NULL, err);
}

int ev_transcode__open_input_rate(AVFormatContext **out, const char *path, AVIOContext *own,
                                  const char *rate, ev_errbuf *err)
{
    AVFormatContext *fc = NULL;
    AVIOContext *pb = own;
    const AVInputFormat *fmt = NULL;
    AVDictionary *o = NULL;
    int e, rc;
    *out = NULL;
    if (!own) {
        av_dict_set(&o, "protocol_whitelist", "file", 0);
        e = avio_open2(&pb, path, AVIO_FLAG_READ, NULL, &o);
        av_dict_free(&o);
        if (e < 0)
            return ev_transcode__averr(err, e, "cannot open '%s'", path);
    }
    /* Probe by content only: the name must not choose the demuxer. */
    e = av_probe_input_buffer2(pb, &fmt, NULL, NULL, 0, EV_TC_PROBE_SIZE);
    if (e < 0 || !fmt) {
        rc = ev_err__set(err, EV_EFORMAT, "'%s' is not a media file FFmpeg can read "
                         "(unrecognised content); check that it is complete and not damaged",
                         path);
        goto fail;
    }
    if (denied_demuxer(fmt->name)) {
        rc = ev_err__set(err, EV_EUNSUPPORTED, "'%s' is a '%s' file, which refers to other "
                         "files; give the media file itself", path, fmt->name);
        goto fail;
    }
    if (!(fc = avformat_alloc_context())) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto fail;
    }
    /* The probe's context is closed; the demuxer opens its own (still
     * limited to plain files), so that closing the input closes the file.
     * A caller's context is kept (and stays the caller's). */
    if (own) {
        fc->pb = own;
        fc->flags |= AVFMT_FLAG_CUSTOM_IO;
    } else {
        avio_closep(&pb);
    }
    fc->probesize = EV_TC_PROBE_SIZE;
    av_dict_set(&o, "protocol_whitelist", "file", 0);
    /* the raw demuxers number the frames at this rate (their "framerate") */
    if (rate && ev_transcode__untimed_demuxer(fmt->name))
        av_dict_set(&o, "framerate", rate, 0);
    e = avformat_open_input(&fc, path, fmt, &o); /* frees fc on failure */
    av_dict_free(&o);
    if (e == AVERROR_EOF) {
        rc = ev_err__set(err, EV_EFORMAT, "'%s' ends before any media data (empty or "
                         "truncated %s file)", path, fmt->name);
        fc = NULL;
        goto fail;
    }
    if (e < 0) {
        rc = ev_transcode__averr(err, e, "cannot read '%s' as %s", path, fmt->name);
        if (rc == EV_ERROR || rc == EV_ENOTFOUND)
            rc = EV_EFORMAT;
        fc = NULL;
        goto fail;
    }
    if (fc->nb_streams > EV_TC_MAX_STREAMS) {
        rc = ev_err__set(err, EV_EUNSUPPORTED, "'%s' has %u streams; at most %d are handled",
                         path, fc->nb_streams, EV_TC_MAX_STREAMS);
        goto fail;
    }
    e = avformat_find_stream_info(fc, NULL);
    if (e == AVERROR_EOF) {
        rc = ev_err__set(err, EV_EFORMAT, "'%s' ends before any media data (empty or truncated "
                         "file)", path);
        goto fail;
    }
    if (e < 0) {
        rc = ev_transcode__averr(err, e, "cannot read the streams of '%s'", path);
        if (rc == EV_ERROR)
            rc = EV_EFORMAT;
        goto fail;
    }
    *out = fc;
    return EV_OK;
fail:
    if (fc)
        avformat_close_input(&fc);
    if (!own)
        avio_closep(&pb);
    return rc;
}

void ev_transcode__container_name(char *buf, size_t n, const AVFormatContext *fc,
                                  const char *path)
{
    const char *name = fc->iformat ? fc->iformat->name : "unknown";
    if (strncmp(name, "mov,", 4) == 0) {
        const AVDictionaryEntry *t = av_dict_get(fc->metadata, "major_brand", NULL, 0);
        const char *b = t ? t->value : "";
        if (strncmp(b, "qt", 2) == 0)
            snprintf(buf, n, "mov");
        else if (strncmp(b, "3g", 2) == 0)
            snprintf(buf, n, "3gp");
        else if (strncmp(b, "M4A", 3) == 0)
            snprintf(buf, n, "m4a");
        else
            snprintf(buf, n, "mp4");
        return;
    }
    if (strncmp(name, "matroska", 8) == 0) {
        /* DocType element 0x4282 in the EBML header. */
        snprintf(buf, n, "matroska");
        FILE *f = path ? fopen(path, "rb") : NULL;
        if (f) {
            uint8_t h[256];
            size_t got = fread(h, 1, sizeof(h), f);
            fclose(f);
            for (size_t i = 0; i + 7 <= got; i++) {
                if (h[i] == 0x42 && h[i + 1] == 0x82 && h[i + 2] == 0x84 &&
                    memcmp(h + i + 3, "webm", 4) == 0) {
                    snprintf(buf, n, "webm");
                    break;
                }
            }
        }
        return;
    }
    size_t l = strcspn(name, ",");
    if (l > 5 && strncmp(name + l - 5, "_pipe", 5) == 0)
        l -= 5;
    snprintf(buf, n, "%.*s", (int)l, name);
}

bool ev_transcode__is_attached_pic(const AVStream *st)
{
    return (st->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0;
}

int ev_transcode__open_decoder(AVCodecContext **out, const AVStream *st, bool careful,
                               ev_errbuf *err)
{
    *out = NULL;
    const AVCodec *dec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!dec)
        return ev_err__set(err, EV_EUNSUPPORTED, "stream #%d: no decoder for codec '%s' in "
                           "this FFmpeg build", st->index,
                           avcodec_get_name(st->codecpar->codec_id));
    AVCodecContext *c = avcodec_alloc_context3(dec);
    if (!c)
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    int e = avcodec_parameters_to_context(c, st->codecpar);
    if (e < 0) {
        avcodec_free_context(&c);
        return ev_transcode__averr(err, e, "stream #%d: decoder parameters", st->index);
    }
    c->pkt_timebase = st->time_base;
    c->thread_count = 0;
    c->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    c->flags |= AV_CODEC_FLAG_BITEXACT;
    c->idct_algo = FF_IDCT_SIMPLE;
    c->max_pixels = EV_TC_MAX_PIXELS;
    if (careful)
        c->err_recognition |= AV_EF_CRCCHECK | AV_EF_EXPLODE;
    e = avcodec_open2(c, dec, NULL);
    if (e < 0) {
        avcodec_free_context(&c);
        int rc = ev_transcode__averr(err, e, "stream #%d: cannot open the %s decoder",
                                     st->index, dec->name);
        return rc == EV_ERROR ? EV_EFORMAT : rc;
    }
    *out = c;
    return EV_OK;
}

size_t ev_transcode__audio_frame_bytes(const AVFrame *f)
{
    int bps = av_get_bytes_per_sample((enum AVSampleFormat)f->format);
    int ch = f->ch_layout.nb_channels;
    return bps > 0 && ch > 0 ? (size_t)bps * (size_t)ch : 0;
}

int ev_transcode__audio_interleave(ev_buf *buf, const AVFrame *f)
{
    enum AVSampleFormat fmt = (enum AVSampleFormat)f->format;
    int bps = av_get_bytes_per_sample(fmt);
    int ch = f->ch_layout.nb_channels;
    if (bps <= 0 || ch <= 0 || ch > 64 || f->nb_samples < 0)
        return EV_EFORMAT;
    size_t total;
    if (__builtin_mul_overflow((size_t)f->nb_samples, (size_t)bps * (size_t)ch, &total))
        return EV_EFORMAT;
    if (!av_sample_fmt_is_planar(fmt) || ch == 1)
        return ev_buf__append(buf, f->extended_data[0], total);
    size_t need;
    if (__builtin_add_overflow(buf->len, total + 1, &need))
        return EV_ENOMEM;
    if (need > buf->cap) {
        /* grow once, then fill in place */
        int rc = ev_buf__append(buf, "", 0);
        if (rc != EV_OK)
            return rc;
        size_t cap = buf->cap;
        while (cap < need)
            if (__builtin_mul_overflow(cap, 2, &cap))
                return EV_ENOMEM;
        char *p = realloc(buf->data, cap);
        if (!p)
            return EV_ENOMEM;
        buf->data = p;
        buf->cap = cap;
    }
    uint8_t *dst = (uint8_t *)buf->data + buf->len;
    for (int s = 0; s < f->nb_samples; s++)
        for (int c = 0; c < ch; c++) {
            memcpy(dst, f->extended_data[c] + (size_t)s * (size_t)bps, (size_t)bps);
            dst += bps;
        }
    buf->len += total;
    buf->data[buf->len] = '\0';
    return EV_OK;
}

int ev_transcode__file_sha256(char hex[65], uint64_t *size, const char *path, ev_errbuf *err)
{
    hex[0] = '\0';
    if (size)
        *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return ev_err__set(err, ev_err__from_errno(e), "cannot open '%s': %s", path,
                           strerror(e));
    }
    ev_hasher *h = NULL;
    int rc = ev_hash__new(&h, EV_ALG_SHA256);
    size_t cap = 1 << 20;
    uint8_t *buf = rc == EV_OK ? malloc(cap) : NULL;
    uint64_t total = 0;
    if (!buf) {
        rc = ev_err__set(err, rc == EV_OK ? EV_ENOMEM : rc, "cannot start SHA-256");
        goto done;
    }
    for (;;) {
        size_t got = fread(buf, 1, cap, f);
        if (got)
            ev_hash__update(h, buf, got);
        total += got;
        if (got < cap) {
            if (ferror(f))
                rc = ev_err__set(err, EV_EIO, "read error in '%s'", path);
            break;
        }
    }
    if (rc == EV_OK) {
        ev_digests d;
        if (ev_hash__final(h, &d) != EV_OK) {
            rc = ev_err__set(err, EV_ERROR, "SHA-256 failed");
        } else {
            memcpy(hex, d.hex[EV_HASH_SHA256], 65);
            if (size)
                *size = total;
        }
    }
done:
    free(buf);
    ev_hash__free(h);
    fclose(f);
    return rc;
}


void ev_transcode__add_problem(json_t *arr, const char *fmt, ...)
{
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof(b), fmt, ap);
    va_end(ap);
    json_array_append_new(arr, json_string(b));
}

double ev_transcode__round6(double v)
{
    return round(v * 1e6) / 1e6;
}
