/*
 * transcode_av: FFmpeg helpers shared by transcoding, verification and
 * conformance checks: safe input opening, decoders with bit-exact settings,
 * decoded-content packing, EXIF extraction and PNG eXIf insertion.
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

int ev_transcode__open_input(AVFormatContext **out, const char *path, ev_errbuf *err)
{
    return ev_transcode__open_input_pb(out, path, NULL, err);
}

int ev_transcode__open_input_pb(AVFormatContext **out, const char *path, AVIOContext *own,
                                ev_errbuf *err)
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
/* EXIF blocks                                                               */
/* ------------------------------------------------------------------------ */

static bool tiff_header(const uint8_t *p, size_t n)
{
    return n >= 8 && ((memcmp(p, "II*\0", 4) == 0) || (memcmp(p, "MM\0*", 4) == 0));
}

static int read_exact(FILE *f, void *buf, size_t n)
{
    return fread(buf, 1, n, f) == n ? 0 : -1;
}

static int take_block(uint8_t **out, size_t *len, FILE *f, size_t n, size_t skip,
                      const char *path, ev_errbuf *err)
{
    if (n > EV_TC_MAX_EXIF)
        return ev_err__set(err, EV_EFORMAT, "'%s': EXIF block of %zu bytes is larger than the "
                           "%u-byte limit", path, n, EV_TC_MAX_EXIF);
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    if (read_exact(f, b, n) != 0) {
        free(b);
        return ev_err__set(err, EV_EFORMAT, "'%s': truncated EXIF block", path);
    }
    if (skip > n || !tiff_header(b + skip, n - skip)) {
        free(b);
        return EV_OK; /* not TIFF-structured EXIF: treat as absent */
    }
    memmove(b, b + skip, n - skip);
    *out = b;
    *len = n - skip;
    return EV_OK;
}

int ev_transcode__file_exif(uint8_t **out, size_t *len, const char *path, ev_errbuf *err)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return ev_err__set(err, ev_err__from_errno(e), "cannot open '%s': %s", path,
                           strerror(e));
    }
    uint8_t h[12];
    int rc = EV_OK;
    if (read_exact(f, h, 2) != 0)
        goto done;
    if (h[0] == 0xFF && h[1] == 0xD8) { /* JPEG: APP1 "Exif\0\0" */
        for (int guard = 0; guard < 1024; guard++) {
            uint8_t m[4];
            if (read_exact(f, m, 2) != 0 || m[0] != 0xFF)
                break;
            while (m[1] == 0xFF) /* fill bytes */
                if (read_exact(f, m + 1, 1) != 0)
                    goto done;
            if (m[1] == 0xD9 || m[1] == 0xDA) /* EOI, SOS: no more headers */
                break;
            if ((m[1] >= 0xD0 && m[1] <= 0xD7) || m[1] == 0x01)
                continue;
            if (read_exact(f, m + 2, 2) != 0)
                break;
            size_t seg = AV_RB16(m + 2);
            if (seg < 2)
                break;
            seg -= 2;
            if (m[1] == 0xE1 && seg >= 14) {
                uint8_t id[6];
                if (read_exact(f, id, 6) != 0)
                    break;
                if (memcmp(id, "Exif\0\0", 6) == 0) {
                    rc = take_block(out, len, f, seg - 6, 0, path, err);
                    goto done;
                }
                seg -= 6;
            }
            if (fseeko(f, (off_t)seg, SEEK_CUR) != 0)
                break;
        }
    } else if (h[0] == 0x89 && h[1] == 'P') { /* PNG: eXIf chunk */
        uint8_t sig[6];
        if (read_exact(f, sig, 6) != 0 || memcmp(sig, "NG\r\n\x1a\n", 6) != 0)
            goto done;
        for (int guard = 0; guard < 100000; guard++) {
            uint8_t ch[8];
            if (read_exact(f, ch, 8) != 0)
                break;
            uint32_t clen = AV_RB32(ch);
            if (clen > 0x7FFFFFFFu)
                break;
            if (memcmp(ch + 4, "eXIf", 4) == 0) {
                rc = take_block(out, len, f, clen, 0, path, err);
                goto done;
            }
            if (memcmp(ch + 4, "IEND", 4) == 0)
                break;
            if (fseeko(f, (off_t)clen + 4, SEEK_CUR) != 0)
                break;
        }
    } else if (h[0] == 'R' && h[1] == 'I') { /* WebP: RIFF chunk "EXIF" */
        if (read_exact(f, h + 2, 10) != 0 || memcmp(h, "RIFF", 4) != 0 ||
            memcmp(h + 8, "WEBP", 4) != 0)
            goto done;
        for (int guard = 0; guard < 100000; guard++) {
            uint8_t ch[8];
            if (read_exact(f, ch, 8) != 0)
                break;
            uint32_t clen = AV_RL32(ch + 4);
            if (memcmp(ch, "EXIF", 4) == 0) {
                /* some writers keep the "Exif\0\0" prefix */
                rc = take_block(out, len, f, clen, 0, path, err);
                if (rc == EV_OK && !*out) {
                    fseeko(f, -(off_t)clen, SEEK_CUR);
                    rc = take_block(out, len, f, clen, 6, path, err);
                }
                goto done;
            }
            if (fseeko(f, (off_t)clen + (clen & 1), SEEK_CUR) != 0)
                break;
        }
    }
done:
    fclose(f);
    return rc;
}

static uint32_t png_crc(const uint8_t *p, size_t n)
{
    return av_crc(av_crc_get_table(AV_CRC_32_IEEE_LE), 0xFFFFFFFFu, p, n) ^ 0xFFFFFFFFu;
}

int ev_transcode__png_add_exif(uint8_t **png, size_t *png_len, const uint8_t *exif,
                               size_t exif_len)
{
    const size_t at = 8 + 8 + 13 + 4; /* signature + IHDR chunk */
    if (*png_len < at || memcmp(*png, "\x89PNG\r\n\x1a\n", 8) != 0 ||
        memcmp(*png + 12, "IHDR", 4) != 0 || AV_RB32(*png + 8) != 13)
        return EV_EFORMAT;
    if (exif_len > EV_TC_MAX_EXIF)
        return EV_EFORMAT;
    size_t add = 12 + exif_len, total;
    if (__builtin_add_overflow(*png_len, add, &total))
        return EV_ENOMEM;
    uint8_t *n = malloc(total);
    if (!n)
        return EV_ENOMEM;
    memcpy(n, *png, at);
    uint8_t *c = n + at;
    AV_WB32(c, (uint32_t)exif_len);
    memcpy(c + 4, "eXIf", 4);
    if (exif_len)
        memcpy(c + 8, exif, exif_len);
    AV_WB32(c + 8 + exif_len, png_crc(c + 4, 4 + exif_len));
    memcpy(n + at + add, *png + at, *png_len - at);
    free(*png);
    *png = n;
    *png_len = total;
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
/* Container completeness                                                    */
/* ------------------------------------------------------------------------ */

/* EBML variable-length integer; returns its length (1..8) or 0. */
static int ebml_vint(const uint8_t *p, size_t n, uint64_t *v, bool keep_marker, bool *unknown)
{
    if (n == 0 || p[0] == 0)
        return 0;
    int len = 1;
    while (len <= 8 && !(p[0] & (0x80 >> (len - 1))))
        len++;
    if (len > 8 || (size_t)len > n)
        return 0;
    uint64_t x = keep_marker ? p[0] : (uint64_t)(p[0] & (0xFF >> len));
    bool ones = (p[0] & (0xFF >> len)) == (0xFF >> len);
    for (int i = 1; i < len; i++) {
        x = (x << 8) | p[i];
        ones = ones && p[i] == 0xFF;
    }
    *v = x;
    if (unknown)
        *unknown = ones;
    return len;
}

/* ------------------------------------------------------------------------ */
/* Stored locations                                                          */
/* ------------------------------------------------------------------------ */

void ev_transcode__iso6709_format(char *buf, size_t n, double lat, double lon, bool has_alt,
                                  double alt, int dec)
{
    char a[48], b[48], c[48] = "";
    /* digits, then trailing zeros (and a bare point) dropped */
    snprintf(a, sizeof(a), "%+0*.*f", 4 + dec - (dec == 0), dec, lat);
    snprintf(b, sizeof(b), "%+0*.*f", 5 + dec - (dec == 0), dec, lon);
    if (has_alt)
        snprintf(c, sizeof(c), "%+.*f", dec < 3 ? dec : 3, alt);
    char *parts[3] = { a, b, c };
    for (int i = 0; i < 3; i++) {
        char *p = parts[i];
        if (!strchr(p, '.'))
            continue;
        size_t l = strlen(p);
        while (l > 0 && p[l - 1] == '0')
            p[--l] = '\0';
        if (l > 0 && p[l - 1] == '.')
            p[--l] = '\0';
    }
    snprintf(buf, n, "%s%s%s/", a, b, c);
}

/* Step of an ISO 6709 latitude: 10^-decimals, in degrees (DDMM and DDMMSS
 * forms: of a minute or a second). 0 when it cannot be read. */
static double iso6709_step(const char *s)
{
    while (*s == ' ')
        s++;
    if (*s != '+' && *s != '-')
        return 0;
    s++;
    int intd = 0, dec = 0;
    while (isdigit((unsigned char)*s)) {
        s++;
        intd++;
    }
    if (*s == '.')
        for (s++; isdigit((unsigned char)*s); s++)
            dec++;
    double step = pow(10.0, -dec);
    return intd == 2 ? step : intd == 4 ? step / 60.0 : intd == 6 ? step / 3600.0 : 0;
}

static void loc_from_iso(ev_tc_loc *l, const char *from, const char *v, size_t len)
{
    snprintf(l->from, sizeof(l->from), "%s", from);
    snprintf(l->format, sizeof(l->format), "iso6709");
    size_t k = len < sizeof(l->raw) - 1 ? len : sizeof(l->raw) - 1;
    memcpy(l->raw, v, k);
    l->raw[k] = '\0';
    l->has_num = ev_media__iso6709(l->raw, &l->lat, &l->lon, &l->alt, &l->has_alt);
    l->precision = l->has_num ? iso6709_step(l->raw) : 0;
}

/* 3GPP TS 26.244 'loci': version/flags, language (2), name (NUL-terminated;
 * UTF-16 with a BOM possible), role (1), longitude, latitude, altitude as
 * signed 16.16 fixed point. */
static bool loc_from_loci(ev_tc_loc *l, const uint8_t *p, size_t n)
{
    size_t i = 6;
    if (n < i + 1)
        return false;
    if (n >= i + 2 && p[i] == 0xFE && p[i + 1] == 0xFF) {      /* UTF-16 name */
        for (i += 2; i + 1 < n && (p[i] || p[i + 1]); i += 2)
            ;
        i += 2;
    } else {
        while (i < n && p[i])
            i++;
        i++;
    }
    i++; /* role */
    if (i + 12 > n)
        return false;
    int32_t lon = (int32_t)AV_RB32(p + i), lat = (int32_t)AV_RB32(p + i + 4),
            alt = (int32_t)AV_RB32(p + i + 8);
    snprintf(l->from, sizeof(l->from), "quicktime:udta:loci");
    snprintf(l->format, sizeof(l->format), "3gpp-loci-16.16");
    l->lat = lat / 65536.0;
    l->lon = lon / 65536.0;
    l->alt = alt / 65536.0;
    l->has_alt = alt != 0;
    l->has_num = fabs(l->lat) <= 90.0 && fabs(l->lon) <= 180.0;
    l->precision = 1.0 / 65536.0;
    /* n/65536 has at most 16 decimals: the stored value, exactly */
    ev_transcode__iso6709_format(l->raw, sizeof(l->raw), l->lat, l->lon, l->has_alt, l->alt, 16);
    return true;
}

/* Read a box's body (at most max bytes) at the current position. */
static uint8_t *read_body(FILE *f, uint64_t len, size_t max)
{
    if (len > max)
        return NULL;
    uint8_t *b = malloc(len ? (size_t)len : 1);
    if (b && fread(b, 1, (size_t)len, f) != len) {
        free(b);
        return NULL;
    }
    return b;
}

/* Children of a box held in memory: calls back with type, body and length. */
typedef bool (*box_cb)(void *u, const uint8_t *type, const uint8_t *body, size_t len);

static void walk_mem(const uint8_t *p, size_t n, box_cb cb, void *u)
{
    size_t pos = 0;
    while (pos + 8 <= n) {
        uint64_t sz = AV_RB32(p + pos), hl = 8;
        if (sz == 1) {
            if (pos + 16 > n)
                return;
            sz = AV_RB64(p + pos + 8);
            hl = 16;
        } else if (sz == 0) {
            sz = n - pos;
        }
        if (sz < hl || sz > n - pos)
            return;
        if (!cb(u, p + pos + 4, p + pos + hl, (size_t)(sz - hl)))
            return;
        pos += (size_t)sz;
    }
}

typedef struct loc_walk {
    ev_tc_loc mdta, xyz, loci;
    bool has_mdta, has_xyz, has_loci;
    uint32_t want;         /* 1-based key index of the location key */
    bool unread;           /* a udta or meta box was too large to read */
} loc_walk;

static void walk_meta(loc_walk *w, const uint8_t *b, size_t n);

static bool on_udta(void *u, const uint8_t *t, const uint8_t *b, size_t n)
{
    loc_walk *w = u;
    if (memcmp(t, "meta", 4) == 0) /* FFmpeg writes its mdta keys here */
        walk_meta(w, b, n);
    else if (memcmp(t, "\xa9xyz", 4) == 0 && n >= 4 && !w->has_xyz) {
        size_t len = AV_RB16(b);
        if (len > n - 4)
            len = n - 4;
        loc_from_iso(&w->xyz, "quicktime:udta:\xc2\xa9xyz", (const char *)b + 4, len);
        w->has_xyz = true;
    } else if (memcmp(t, "loci", 4) == 0 && !w->has_loci) {
        w->has_loci = loc_from_loci(&w->loci, b, n);
    }
    return true;
}

static const char apple_loc_key[] = "com.apple.quicktime.location.ISO6709";

/* keys: version/flags, count, then (size, namespace, name) entries */
static uint32_t key_index(const uint8_t *b, size_t n)
{
    if (n < 8)
        return 0;
    uint32_t cnt = AV_RB32(b + 4);
    size_t pos = 8;
    for (uint32_t i = 1; i <= cnt && pos + 8 <= n; i++) {
        uint32_t sz = AV_RB32(b + pos);
        if (sz < 8 || sz > n - pos)
            return 0;
        size_t kl = sz - 8;
        if (memcmp(b + pos + 4, "mdta", 4) == 0 && kl == sizeof(apple_loc_key) - 1 &&
            memcmp(b + pos + 8, apple_loc_key, kl) == 0)
            return i;
        pos += sz;
    }
    return 0;
}

static bool on_item_data(void *u, const uint8_t *t, const uint8_t *b, size_t n)
{
    loc_walk *w = u;
    /* data: type (4), locale (4), value; type 1 = UTF-8 */
    if (memcmp(t, "data", 4) == 0 && n >= 8 && !w->has_mdta && AV_RB32(b) == 1) {
        loc_from_iso(&w->mdta, "quicktime:mdta:com.apple.quicktime.location.ISO6709",
                     (const char *)b + 8, n - 8);
        w->has_mdta = true;
    }
    return true;
}

static bool on_ilst(void *u, const uint8_t *t, const uint8_t *b, size_t n)
{
    loc_walk *w = u;
    if (w->want && AV_RB32(t) == w->want)
        walk_mem(b, n, on_item_data, w);
    return true;
}

static bool on_meta_keys(void *u, const uint8_t *t, const uint8_t *b, size_t n)
{
    loc_walk *w = u;
    if (memcmp(t, "keys", 4) == 0)
        w->want = key_index(b, n);
    return true;
}

static bool on_meta_ilst(void *u, const uint8_t *t, const uint8_t *b, size_t n)
{
    if (memcmp(t, "ilst", 4) == 0)
        walk_mem(b, n, on_ilst, u);
    return true;
}

static void walk_meta(loc_walk *w, const uint8_t *b, size_t n)
{
    /* ISO's meta is a full box (version/flags, zero); QuickTime's is a plain
     * box, starting with its first child's size */
    if (n >= 4 && AV_RB32(b) == 0) {
        b += 4;
        n -= 4;
    }
    walk_mem(b, n, on_meta_keys, w);
    walk_mem(b, n, on_meta_ilst, w);
}

static bool on_moov(void *u, const uint8_t *t, const uint8_t *b, size_t n)
{
    loc_walk *w = u;
    if (memcmp(t, "udta", 4) == 0)
        walk_mem(b, n, on_udta, w);
    else if (memcmp(t, "meta", 4) == 0)
        walk_meta(w, b, n);
    return true;
}

/* The header of the box at pos inside [pos, end): its type, total size and
 * header length (a 64-bit size, and size 0 "to the end", understood).
 * false when it cannot be read or does not fit. */
static bool file_box(FILE *f, uint64_t pos, uint64_t end, uint8_t type[4], uint64_t *size,
                     uint64_t *hlen)
{
    uint8_t h[16];
    if (pos + 8 > end || fseeko(f, (off_t)pos, SEEK_SET) != 0 || fread(h, 1, 8, f) != 8)
        return false;
    uint64_t sz = AV_RB32(h), hl = 8;
    if (sz == 1) {
        if (fread(h + 8, 1, 8, f) != 8)
            return false;
        sz = AV_RB64(h + 8);
        hl = 16;
    } else if (sz == 0) {
        sz = end - pos;
    }
    if (sz < hl || sz > end - pos)
        return false;
    memcpy(type, h + 4, 4);
    *size = sz;
    *hlen = hl;
    return true;
}

/* The moov box's udta and meta children, read from the file. */
static void mov_walk(loc_walk *w, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    if (fseeko(f, 0, SEEK_END) != 0) {
        fclose(f);
        return;
    }
    uint64_t size = (uint64_t)ftello(f);
    uint64_t moov = 0, moov_end = 0, pos = 0, sz, hl;
    uint8_t type[4];
    for (int guard = 0; guard < 100000 && file_box(f, pos, size, type, &sz, &hl); guard++) {
        if (memcmp(type, "moov", 4) == 0) {
            moov = pos + hl;
            moov_end = pos + sz;
            break;
        }
        pos += sz;
    }
    for (pos = moov; moov && file_box(f, pos, moov_end, type, &sz, &hl); pos += sz) {
        if (memcmp(type, "udta", 4) == 0 || memcmp(type, "meta", 4) == 0) {
            /* cover art can make these large; 64 MiB is far beyond any */
            uint8_t *b = read_body(f, sz - hl, (size_t)64 << 20);
            if (b)
                on_moov(w, type, b, (size_t)(sz - hl));
            else
                w->unread = true;
            free(b);
        }
    }
    fclose(f);
}

bool ev_transcode__stored_location(ev_tc_loc *out, const AVFormatContext *fc, const char *path)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(fc->iformat->name, "mov,", 4) == 0) {
        loc_walk w;
        memset(&w, 0, sizeof(w));
        mov_walk(&w, path);
        /* the same preference as the copy's writer: the Apple key, then
         * (c)xyz, then loci */
        if (w.has_mdta)
            *out = w.mdta;
        else if (w.has_xyz)
            *out = w.xyz;
        else if (w.has_loci)
            *out = w.loci;
        if (w.has_mdta || w.has_xyz || w.has_loci || !w.unread)
            return w.has_mdta || w.has_xyz || w.has_loci;
        /* the boxes could not be read: FFmpeg's tag is all there is (for
         * loci, its 4-decimal rendering; "from" says so) */
    }
    const AVDictionaryEntry *t = av_dict_get(fc->metadata, "location", NULL, 0);
    if (!t)
        t = av_dict_get(fc->metadata, apple_loc_key, NULL, 0);
    if (!t)
        return false;
    const char *from = strncmp(fc->iformat->name, "matroska", 8) == 0 ? "matroska:tag:LOCATION"
                     : strncmp(fc->iformat->name, "mov,", 4) == 0 ? "ffmpeg:location (boxes "
                                                                    "too large to read)"
                     : "tag:location";
    loc_from_iso(out, from, t->value, strlen(t->value));
    return true;
}

static json_t *stored_json(const ev_tc_loc *l)
{
    /* no numbers: the record's JSON rendering would round them; the
     * strings (source, output) are exact */
    json_t *o = json_pack("{s:s, s:s}", "from", l->from, "format", l->format);
    if (o && l->has_num && l->precision > 0)
        json_object_set_new(o, "precision_deg", json_real(l->precision));
    return o;
}

/* Two stored positions hold the same value (to 1e-12 degree and 1e-9 m:
 * far below any stored precision; decimal and binary forms of one value
 * differ only by the parse's rounding). */
static bool same_position(const ev_tc_loc *a, const ev_tc_loc *b)
{
    return a->has_num && b->has_num && fabs(a->lat - b->lat) < 1e-12 &&
           fabs(a->lon - b->lon) < 1e-12 && a->has_alt == b->has_alt &&
           (!a->has_alt || fabs(a->alt - b->alt) < 1e-9);
}

json_t *ev_transcode__location_report(const ev_tc_loc *a, const ev_tc_loc *b, json_t *problems,
                                      bool strict)
{
    const char *status;
    if (!a && !b)
        status = "absent";
    else if (!b)
        status = "dropped";
    else if (!a)
        status = "added";
    else if ((strcmp(a->format, b->format) == 0 && strcmp(a->raw, b->raw) == 0) ||
             same_position(a, b))
        status = "kept";
    else if (a->has_num && b->has_num && b->precision > a->precision &&
             fabs(a->lat - b->lat) <= b->precision + 1e-12 &&
             fabs(a->lon - b->lon) <= b->precision + 1e-12) /* FFmpeg's loci writer truncates */
        status = "rounded";
    else
        status = "changed";
    json_t *o = json_pack("{s:o, s:o, s:s}", "source", a ? json_string(a->raw) : json_null(),
                          "output", b ? json_string(b->raw) : json_null(), "status", status);
    if (!o)
        return NULL;
    if (a)
        json_object_set_new(o, "source_stored", stored_json(a));
    if (b)
        json_object_set_new(o, "output_stored", stored_json(b));
    if (strcmp(status, "rounded") == 0)
        json_object_set_new(o, "precision_deg", json_real(b->precision));
    if (strict && a && b && (strcmp(status, "changed") == 0 || strcmp(status, "rounded") == 0)) {
        char m[400];
        snprintf(m, sizeof(m), "location (GPS) %s: source '%.80s' (%s), copy '%.80s' (%s)",
                 status, a->raw, a->from, b ? b->raw : "", b ? b->from : "none");
        json_array_append_new(problems, json_string(m));
    }
    return o;
}

int ev_transcode__mov_sample_table(int64_t *counts, unsigned n, const char *path,
                                   ev_errbuf *err)
{
    AVFormatContext *fc = NULL;
    AVDictionary *o = NULL;
    const AVInputFormat *mov = av_find_input_format("mov");
    int rc = EV_OK;
    for (unsigned i = 0; i < n; i++)
        counts[i] = 0;
    if (!mov)
        return ev_err__set(err, EV_ERROR, "no MOV demuxer");
    if (!(fc = avformat_alloc_context()))
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    fc->probesize = EV_TC_PROBE_SIZE;
    av_dict_set(&o, "protocol_whitelist", "file", 0);
    av_dict_set(&o, "ignore_editlist", "1", 0);
    int e = avformat_open_input(&fc, path, mov, &o); /* frees fc on failure */
    av_dict_free(&o);
    if (e < 0) {
        ev_transcode__averr(err, e, "cannot read the sample table of '%s'", path);
        return EV_ERROR;
    }
    int64_t size = avio_size(fc->pb);
    for (unsigned i = 0; i < fc->nb_streams && i < n && rc == EV_OK; i++) {
        const AVStream *st = fc->streams[i];
        int cnt = avformat_index_get_entries_count(st);
        counts[i] = cnt;
        for (int k = 0; k < cnt && size > 0; k++) {
            const AVIndexEntry *ie = avformat_index_get_entry((AVStream *)st, k);
            if (ie && ie->pos >= 0 && ie->pos + ie->size > size) {
                rc = ev_err__set(err, EV_EFORMAT, "the file is truncated: stream #%u (%s), "
                                 "sample %d of %d lies at bytes %lld-%lld, but the file ends "
                                 "at byte %lld", i, avcodec_get_name(st->codecpar->codec_id),
                                 k, cnt, (long long)ie->pos, (long long)(ie->pos + ie->size),
                                 (long long)size);
                break;
            }
        }
    }
    avformat_close_input(&fc);
    return rc;
}

int ev_transcode__container_complete(const char *path, const char *demuxer, ev_errbuf *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return ev_err__set(err, ev_err__from_errno(e), "cannot open '%s': %s", path,
                           strerror(e));
    }
    int rc = EV_OK;
    if (fseeko(f, 0, SEEK_END) != 0) {
        fclose(f);
        return EV_OK;
    }
    uint64_t size = (uint64_t)ftello(f);
    uint8_t h[64];
    if (fseeko(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return EV_OK;
    }
    size_t got = fread(h, 1, sizeof(h), f);
    if (strncmp(demuxer, "matroska", 8) == 0 && got >= 8) {
        uint64_t id, sz, hdr_len;
        bool unk = false;
        int a = ebml_vint(h, got, &id, true, NULL);
        int b = a ? ebml_vint(h + a, got - (size_t)a, &sz, false, &unk) : 0;
        if (a && b && id == 0x1A45DFA3 && !unk && sz < 4096) {
            hdr_len = (uint64_t)a + (uint64_t)b + sz;
            uint8_t s[16];
            if (fseeko(f, (off_t)hdr_len, SEEK_SET) == 0 && fread(s, 1, 12, f) == 12) {
                int c = ebml_vint(s, 12, &id, true, NULL);
                int d = c ? ebml_vint(s + c, 12 - (size_t)c, &sz, false, &unk) : 0;
                if (c && d && id == 0x18538067 && !unk) {
                    uint64_t end = hdr_len + (uint64_t)c + (uint64_t)d + sz;
                    if (end > size)
                        rc = ev_err__set(err, EV_EFORMAT, "'%s' is truncated: its Matroska "
                                         "segment ends at byte %llu, the file at byte %llu",
                                         path, (unsigned long long)end,
                                         (unsigned long long)size);
                }
            }
        }
    } else if (strncmp(demuxer, "mov,", 4) == 0) {
        uint64_t pos = 0;
        for (int guard = 0; pos < size && guard < 100000; guard++) {
            uint8_t b[16];
            if (fseeko(f, (off_t)pos, SEEK_SET) != 0 || fread(b, 1, 8, f) != 8) {
                rc = ev_err__set(err, EV_EFORMAT, "'%s' is truncated inside a box header at "
                                 "byte %llu", path, (unsigned long long)pos);
                break;
            }
            uint64_t bs = AV_RB32(b), hl = 8;
            bool printable = true;
            for (int k = 4; k < 8; k++)
                printable = printable && b[k] >= 0x20 && b[k] < 0x7F;
            if (!printable && pos > 0)
                break; /* trailing bytes after the last box: not our concern here */
            if (bs == 1) {
                if (fread(b + 8, 1, 8, f) != 8) {
                    rc = ev_err__set(err, EV_EFORMAT, "'%s' is truncated at byte %llu", path,
                                     (unsigned long long)pos);
                    break;
                }
                bs = AV_RB64(b + 8);
                hl = 16;
            } else if (bs == 0) {
                bs = size - pos;
            }
            if (bs < hl) {
                rc = ev_err__set(err, EV_EFORMAT, "'%s' has a broken box structure at byte %llu",
                                 path, (unsigned long long)pos);
                break;
            }
            if (bs > size - pos) {
                rc = ev_err__set(err, EV_EFORMAT, "'%s' is truncated: box '%.4s' at byte %llu "
                                 "claims %llu bytes, the file ends %llu bytes later", path,
                                 (const char *)b + 4, (unsigned long long)pos,
                                 (unsigned long long)bs, (unsigned long long)(size - pos));
                break;
            }
            pos += bs;
        }
    } else if (strcmp(demuxer, "wav") == 0 && got >= 12 && memcmp(h, "RIFF", 4) == 0) {
        uint64_t riff = AV_RL32(h + 4);
        if (riff != 0 && riff != 0xFFFFFFFFu && riff + 8 > size + 1)
            rc = ev_err__set(err, EV_EFORMAT, "'%s' is truncated: its RIFF header claims %llu "
                             "bytes, the file has %llu", path, (unsigned long long)(riff + 8),
                             (unsigned long long)size);
    }
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Source reader: the demuxer's reads also feed the source's SHA-256         */
/* ------------------------------------------------------------------------ */

/*
 * The demuxer reads the source through our AVIOContext. Every read that
 * continues the bytes handed on so far is copied into a ring of chunks, which
 * a second thread hashes (and walks, for Matroska), so the source is read from
 * the file once instead of twice. What the demuxer skips or reads out of order
 * (an index at the end, a seek), the thread reads itself at the end: the digest
 * is always over bytes 0..EOF in order, whatever the demuxer did.
 */

#define SR_CHUNK (1u << 20)
#define SR_NCHUNK 8
#define SR_AVIO_BUF (1 << 15)

/* Matroska structure walk over the byte stream (see mkv_feed). */
#define MKV_DEPTH 8
typedef struct mkv_walk {
    bool on, done;           /* walking; stopped (end of segments, or damage) */
    bool bad;
    uint64_t off;            /* offset of the next byte fed */
    uint64_t size;           /* file size at open */
    uint64_t skip;           /* payload bytes still to skip */
    uint8_t hdr[12];
    size_t hl;
    int depth;
    uint32_t id[MKV_DEPTH];
    uint64_t end[MKV_DEPTH]; /* UINT64_MAX = unknown size */
    /* CRC-32 of Clusters that carry one as their first child */
    bool crc_on;             /* check them */
    int crc_state;           /* 0 none, 1 reading the stored value, 2 summing */
    uint64_t crc_first;      /* where the cluster's first child starts */
    uint64_t crc_at, crc_end; /* the Cluster's start and end */
    uint8_t crc_stored[4];
    int crc_got;
    uint32_t crc;
    char msg[400];
} mkv_walk;

struct ev_srcread {
    char *path;
    int fd, hfd;
    uint64_t size;           /* at open */
    int64_t pos;             /* demuxer's position in fd */
    uint64_t fed;            /* bytes [0, fed) were handed to the ring */
    AVIOContext *pb;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool sync_ok;
    uint8_t *buf[SR_NCHUNK];
    size_t len[SR_NCHUNK];
    bool ready[SR_NCHUNK];   /* filled: owned by the hashing thread */
    unsigned w, r;
    bool finish, abort;
    bool dropped;            /* the producer stopped feeding (ring full) */
    pthread_t th;
    bool started, joined;
    /* owned by the hashing thread until joined */
    ev_hasher *h;
    uint64_t hashed;
    uint64_t own_reads;      /* bytes the thread read itself */
    int rc;
    ev_errbuf err;
    mkv_walk mkv;
};

static uint32_t rb32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *mkv_id_name(uint32_t id)
{
    switch (id) {
    case 0x18538067: return "Segment";
    case 0x1F43B675: return "Cluster";
    case 0x114D9B74: return "SeekHead";
    case 0x1549A966: return "Info";
    case 0x1654AE6B: return "Tracks";
    case 0x1C53BB6B: return "Cues";
    case 0x1254C367: return "Tags";
    case 0x1043A770: return "Chapters";
    case 0x1941A469: return "Attachments";
    case 0xA3: return "SimpleBlock";
    case 0xA0: return "BlockGroup";
    case 0xA1: return "Block";
    case 0xE7: return "Timestamp";
    case 0xEC: return "Void";
    case 0xBF: return "CRC-32";
    default: return "element";
    }
}

static bool mkv_level1(uint32_t id)
{
    return id == 0x1F43B675 || id == 0x114D9B74 || id == 0x1549A966 || id == 0x1654AE6B ||
           id == 0x1C53BB6B || id == 0x1254C367 || id == 0x1043A770 || id == 0x1941A469 ||
           id == 0x1B538667; /* SignatureSlot (old files) */
}

static bool mkv_global(uint32_t id)
{
    return id == 0xEC || id == 0xBF; /* Void, CRC-32 */
}

/* Children that may appear in a Cluster / a BlockGroup (Matroska v4, with the
 * deprecated ones that old files still carry). */
static bool mkv_cluster_child(uint32_t id)
{
    return id == 0xE7 || id == 0x5854 || id == 0xA7 || id == 0xAB || id == 0xA3 ||
           id == 0xA0 || id == 0xAF || mkv_global(id);
}

static bool mkv_blockgroup_child(uint32_t id)
{
    return id == 0xA1 || id == 0xA2 || id == 0x75A1 || id == 0x9B || id == 0xFA ||
           id == 0xFB || id == 0xFD || id == 0xA4 || id == 0x75A2 || id == 0x8E ||
           id == 0xC8 || mkv_global(id);
}

static void mkv_damage(mkv_walk *m, uint64_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void mkv_damage(mkv_walk *m, uint64_t at, const char *fmt, ...)
{
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(m->msg, sizeof(m->msg), "%s at byte %llu", what, (unsigned long long)at);
    m->bad = m->done = true;
}

/* Length of an EBML vint from its first byte (1..8), 0 if invalid. */
static int vint_len(uint8_t b)
{
    for (int l = 1; l <= 8; l++)
        if (b & (0x80 >> (l - 1)))
            return l;
    return 0;
}

/* Where an element with this ID may appear under `parent` (0 = top level):
 * 1 = skip it, 2 = enter it, 0 = not here (damage). */
static int mkv_place(uint32_t parent, uint32_t id)
{
    switch (parent) {
    case 0x18538067: /* Segment */
        return id == 0x1F43B675 ? 2 : mkv_level1(id) || mkv_global(id) ? 1 : 0;
    case 0x1F43B675: /* Cluster */
        return id == 0xA0 ? 2 : mkv_cluster_child(id) ? 1 : 0;
    case 0xA0: /* BlockGroup */
        return mkv_blockgroup_child(id) ? 1 : 0;
    default:
        return 1;
    }
}

/* Close the masters an element starting at `at` with this ID is not inside
 * of: a known-size master ends at its size; an unknown-sized Cluster where a
 * level-1 element starts, an unknown-sized Segment where another top-level
 * element starts. */
static void mkv_close(mkv_walk *m, uint64_t at, uint32_t id)
{
    while (m->depth > 0) {
        uint32_t pid = m->id[m->depth - 1];
        uint64_t pend = m->end[m->depth - 1];
        bool top = id == 0x18538067 || id == 0x1A45DFA3;
        if (pend != UINT64_MAX ? at >= pend
                               : (pid == 0x1F43B675 && (mkv_level1(id) || top)) ||
                                     (pid == 0x18538067 && top))
            m->depth--;
        else
            break;
    }
}

/* One element header has been read (at `at`, header length hl): check it
 * against its parent and the file, and decide to skip or enter it. */
static void mkv_element(mkv_walk *m, uint64_t at, uint32_t id, uint64_t sz, bool unknown,
                        size_t hl)
{
    uint64_t end = unknown ? UINT64_MAX : at + hl + sz;
    mkv_close(m, at, id);
    uint32_t parent = m->depth ? m->id[m->depth - 1] : 0;
    int place;
    if (parent == 0) {
        if (id == 0x18538067) {
            place = 2;
        } else if (id == 0x1A45DFA3 && !unknown) {
            place = 1; /* EBML header */
        } else {
            m->done = true; /* bytes after the last segment: not our concern */
            return;
        }
    } else if (!(place = mkv_place(parent, id))) {
        mkv_damage(m, at, "unexpected Matroska element 0x%X inside a %s (the structure is "
                   "broken)", (unsigned)id, mkv_id_name(parent));
        return;
    }
    if (unknown && id != 0x18538067 && id != 0x1F43B675) {
        mkv_damage(m, at, "Matroska %s (0x%X) without a size (the structure is broken)",
                   mkv_id_name(id), (unsigned)id);
        return;
    }
    if (!unknown && end > m->size) {
        mkv_damage(m, at, "the file is truncated: Matroska %s claims %llu bytes, but the file "
                   "ends %llu bytes after its start", mkv_id_name(id),
                   (unsigned long long)(end - at), (unsigned long long)(m->size - at));
        return;
    }
    if (!unknown && m->depth && m->end[m->depth - 1] != UINT64_MAX &&
        end > m->end[m->depth - 1]) {
        mkv_damage(m, at, "Matroska %s (%llu bytes) runs past the end of its %s (the "
                   "structure is broken)", mkv_id_name(id), (unsigned long long)(end - at),
                   mkv_id_name(parent));
        return;
    }
    if (place == 1) {
        if (m->crc_on && id == 0xBF && sz == 4 && at == m->crc_first) {
            m->crc_state = 1; /* the next 4 bytes are the stored CRC */
            m->crc_got = 0;
            m->crc_end = m->end[m->depth - 1];
            return;
        }
        m->skip = sz;
        return;
    }
    if (id == 0x1F43B675 && !unknown && m->crc_state == 0) {
        m->crc_first = at + hl;
        m->crc_at = at;
    }
    if (m->depth >= MKV_DEPTH) {
        mkv_damage(m, at, "Matroska elements nested too deeply");
        return;
    }
    m->id[m->depth] = id;
    m->end[m->depth] = end;
    m->depth++;
}

/* The end of a cluster whose CRC-32 is being summed: compare. */
static void mkv_crc_end(mkv_walk *m)
{
    m->crc_state = 0;
    m->crc_first = 0;
    uint32_t stored = (uint32_t)m->crc_stored[0] | (uint32_t)m->crc_stored[1] << 8 |
                      (uint32_t)m->crc_stored[2] << 16 | (uint32_t)m->crc_stored[3] << 24;
    if ((uint32_t)m->crc != stored)
        mkv_damage(m, m->crc_at, "a Matroska Cluster fails its CRC-32 check (stored %08X, "
                   "computed %08X: its bytes changed after it was written); the Cluster "
                   "starts", (unsigned)stored, (unsigned)m->crc);
}

/* Feed the next n bytes of the file (in order). */
static void mkv_feed(mkv_walk *m, const uint8_t *p, size_t n)
{
    while (n && !m->done) {
        if (m->crc_state == 2 && m->off >= m->crc_end) {
            mkv_crc_end(m);
            continue;
        }
        if (m->crc_state == 1) {
            m->crc_stored[m->crc_got++] = *p++;
            m->off++;
            n--;
            if (m->crc_got == 4) {
                m->crc_state = 2;
                m->crc = 0;
            }
            continue;
        }
        if (m->skip) {
            uint64_t k = m->skip < n ? m->skip : n;
            if (m->crc_state == 2 && m->off + k > m->crc_end)
                k = m->crc_end - m->off;
            if (m->crc_state == 2)
                m->crc = libdeflate_crc32(m->crc, p, (size_t)k);
            m->skip -= k;
            m->off += k;
            p += k;
            n -= (size_t)k;
            continue;
        }
        if (m->crc_state == 2)
            m->crc = libdeflate_crc32(m->crc, p, 1);
        m->hdr[m->hl++] = *p++;
        m->off++;
        n--;
        int il = vint_len(m->hdr[0]);
        uint64_t at = m->off - m->hl;
        if (il == 0 || il > 4) {
            mkv_damage(m, at, "invalid Matroska element ID (the structure is broken)");
            return;
        }
        if (m->hl <= (size_t)il)
            continue;
        int sl = vint_len(m->hdr[il]);
        if (sl == 0) {
            mkv_damage(m, at, "invalid Matroska element size (the structure is broken)");
            return;
        }
        if (m->hl < (size_t)(il + sl))
            continue;
        uint32_t id = 0;
        for (int i = 0; i < il; i++)
            id = id << 8 | m->hdr[i];
        uint64_t sz = m->hdr[il] & (0xFF >> sl);
        bool ones = sz == (uint64_t)(0xFF >> sl);
        for (int i = 1; i < sl; i++) {
            sz = sz << 8 | m->hdr[il + i];
            ones = ones && m->hdr[il + i] == 0xFF;
        }
        size_t hl = m->hl;
        m->hl = 0;
        mkv_element(m, at, id, sz, ones, hl);
    }
}

/* At the end of the file: an element header cut short is truncation too. */
static void mkv_end(mkv_walk *m)
{
    if (!m->done && m->crc_state == 2 && m->off >= m->crc_end)
        mkv_crc_end(m);
    if (!m->done && m->hl)
        mkv_damage(m, m->off - m->hl, "the file is truncated inside a Matroska element "
                   "header");
}

static void sr_consume(ev_srcread *s, const uint8_t *p, size_t n)
{
    if (s->hashed == 0 && n >= 4 && !s->mkv.on && rb32(p) == 0x1A45DFA3)
        s->mkv.on = true;
    ev_hash__update(s->h, p, n);
    if (s->mkv.on)
        mkv_feed(&s->mkv, p, n);
    s->hashed += n;
}

static void *sr_thread(void *arg)
{
    ev_srcread *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->ready[s->r] && !s->finish && !s->abort && !s->dropped)
            pthread_cond_wait(&s->cv, &s->mu);
        bool have = s->ready[s->r] && !s->abort;
        pthread_mutex_unlock(&s->mu);
        if (!have)
            break;
        sr_consume(s, s->buf[s->r], s->len[s->r]);
        pthread_mutex_lock(&s->mu);
        s->ready[s->r] = false;
        s->len[s->r] = 0;
        s->r = (s->r + 1) % SR_NCHUNK;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_lock(&s->mu);
    bool aborted = s->abort;
    pthread_mutex_unlock(&s->mu);
    if (aborted)
        return NULL;
    /* what the demuxer did not read in order, or was not fed: read it here
     * (the producer no longer touches the ring, so a chunk is free to use) */
    uint8_t *b = s->buf[s->r];
    for (;;) {
        ssize_t got = pread(s->hfd, b, SR_CHUNK, (off_t)s->hashed);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            s->rc = ev_err__set(&s->err, EV_EIO, "read error in '%s': %s", s->path,
                                strerror(errno));
            return NULL;
        }
        if (got == 0)
            break;
        s->own_reads += (uint64_t)got;
        sr_consume(s, b, (size_t)got);
    }
    if (s->mkv.on)
        mkv_end(&s->mkv);
    return NULL;
}

/* Hand bytes [s->fed, s->fed + n) to the hashing thread. */
static void sr_feed(ev_srcread *s, const uint8_t *p, size_t n)
{
    while (n) {
        unsigned w = s->w;
        size_t k = SR_CHUNK - s->len[w];
        if (k > n)
            k = n;
        memcpy(s->buf[w] + s->len[w], p, k);
        s->len[w] += k;
        s->fed += k;
        p += k;
        n -= k;
        if (s->len[w] == SR_CHUNK) {
            pthread_mutex_lock(&s->mu);
            s->ready[w] = true;
            s->w = (w + 1) % SR_NCHUNK;
            /* The thread is behind (hashing is slower than this demuxer):
             * rather than wait for it, stop feeding; it reads the rest of
             * the file itself, at its own pace. */
            if (s->ready[s->w])
                s->dropped = true;
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            if (s->dropped)
                return;
        }
    }
}

static int sr_read(void *opaque, uint8_t *buf, int size)
{
    ev_srcread *s = opaque;
    ssize_t got;
    do
        got = read(s->fd, buf, (size_t)size);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return AVERROR(errno);
    if (got == 0)
        return AVERROR_EOF;
    /* hand on what continues the bytes fed so far (a read that overlaps
     * them, after a seek back, continues them too) */
    uint64_t a = (uint64_t)s->pos, b = a + (uint64_t)got;
    if (s->started && !s->dropped && a <= s->fed && s->fed < b)
        sr_feed(s, buf + (s->fed - a), (size_t)(b - s->fed));
    s->pos += got;
    return (int)got;
}

static int64_t sr_seek(void *opaque, int64_t off, int whence)
{
    ev_srcread *s = opaque;
    if (whence & AVSEEK_SIZE) {
        struct stat st;
        return fstat(s->fd, &st) == 0 ? (int64_t)st.st_size : AVERROR(errno);
    }
    off_t r = lseek(s->fd, (off_t)off, whence & ~AVSEEK_FORCE);
    if (r < 0)
        return AVERROR(errno);
    s->pos = (int64_t)r;
    return (int64_t)r;
}

int ev_transcode__srcread_open(ev_srcread **out, const char *path, bool check_crc,
                               ev_errbuf *err)
{
    *out = NULL;
    ev_srcread *s = ev__calloc(1, sizeof(*s));
    if (!s)
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    s->fd = s->hfd = -1;
    int rc;
    s->path = ev__strdup(path);
    if (!s->path) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto fail;
    }
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd >= 0)
        s->hfd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0 || s->hfd < 0) {
        int e = errno;
        rc = ev_err__set(err, ev_err__from_errno(e), "cannot open '%s': %s", path,
                         strerror(e));
        goto fail;
    }
    struct stat st;
    if (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = ev_err__set(err, EV_EINVAL, "'%s' is not a regular file", path);
        goto fail;
    }
    s->size = (uint64_t)st.st_size;
    s->mkv.size = s->size;
    s->mkv.crc_on = check_crc;
    if ((rc = ev_hash__new(&s->h, EV_ALG_SHA256)) != EV_OK) {
        rc = ev_err__set(err, rc, "cannot start SHA-256");
        goto fail;
    }
    for (int i = 0; i < SR_NCHUNK; i++) {
        if (!(s->buf[i] = malloc(SR_CHUNK))) {
            rc = ev_err__set(err, EV_ENOMEM, "out of memory");
            goto fail;
        }
    }
    uint8_t *ab = av_malloc(SR_AVIO_BUF);
    if (ab)
        s->pb = avio_alloc_context(ab, SR_AVIO_BUF, 0, s, sr_read, NULL, sr_seek);
    if (!s->pb) {
        av_free(ab);
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto fail;
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        rc = ev_err__set(err, EV_ERROR, "cannot create a mutex");
        goto fail;
    }
    if (pthread_cond_init(&s->cv, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        rc = ev_err__set(err, EV_ERROR, "cannot create a condition variable");
        goto fail;
    }
    s->sync_ok = true;
    /* Without a thread, nothing is fed: the digest is then computed by
     * reading the whole file in ev_transcode__srcread_finish. */
    s->started = pthread_create(&s->th, NULL, sr_thread, s) == 0;
    *out = s;
    return EV_OK;
fail:
    ev_transcode__srcread_free(s);
    return rc;
}

AVIOContext *ev_transcode__srcread_pb(ev_srcread *s)
{
    return s ? s->pb : NULL;
}

int ev_transcode__srcread_finish(ev_srcread *s, char hex[65], uint64_t *size, ev_errbuf *err)
{
    hex[0] = '\0';
    *size = 0;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        if (s->len[s->w] && !s->ready[s->w]) {
            s->ready[s->w] = true;
            s->w = (s->w + 1) % SR_NCHUNK;
        }
        s->finish = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->th, NULL);
        s->joined = true;
    } else {
        s->finish = true;
        sr_thread(s); /* nothing was fed: reads the whole file */
    }
    if (s->rc != EV_OK)
        return ev_err__copy(err, &s->err, s->rc);
    if (s->mkv.bad)
        return ev_err__set(err, EV_EFORMAT, "%s", s->mkv.msg);
    ev_digests d;
    if (ev_hash__final(s->h, &d) != EV_OK)
        return ev_err__set(err, EV_ERROR, "SHA-256 failed");
    memcpy(hex, d.hex[EV_HASH_SHA256], 65);
    *size = s->hashed;
    return EV_OK;
}

uint64_t ev_transcode__srcread_own_reads(const ev_srcread *s)
{
    return s ? s->own_reads : 0;
}

void ev_transcode__srcread_free(ev_srcread *s)
{
    if (!s)
        return;
    if (s->started && !s->joined) {
        pthread_mutex_lock(&s->mu);
        s->abort = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->th, NULL);
    }
    if (s->sync_ok) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
    }
    if (s->pb) {
        av_freep(&s->pb->buffer);
        avio_context_free(&s->pb);
    }
    for (int i = 0; i < SR_NCHUNK; i++)
        free(s->buf[i]);
    ev_hash__free(s->h);
    if (s->fd >= 0)
        close(s->fd);
    if (s->hfd >= 0)
        close(s->hfd);
    free(s->path);
    free(s);
}
