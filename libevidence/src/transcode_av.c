/*
 * transcode_av: FFmpeg helpers shared by transcoding, verification and
 * conformance checks: safe input opening, decoders with bit-exact settings,
 * decoded-content packing, EXIF extraction and PNG eXIf insertion.
 */
#include "transcode_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/crc.h>
#include <libavutil/imgutils.h>
#include <libavutil/intreadwrite.h>
#include <libavutil/pixdesc.h>

#include "hash.h"

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
    AVFormatContext *fc = NULL;
    AVIOContext *pb = NULL;
    const AVInputFormat *fmt = NULL;
    AVDictionary *o = NULL;
    int e, rc;
    *out = NULL;
    av_dict_set(&o, "protocol_whitelist", "file", 0);
    e = avio_open2(&pb, path, AVIO_FLAG_READ, NULL, &o);
    av_dict_free(&o);
    if (e < 0)
        return ev_transcode__averr(err, e, "cannot open '%s'", path);
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
     * limited to plain files), so that closing the input closes the file. */
    avio_closep(&pb);
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
