/*
 * transcode_still: one picture (JPEG, PNG, TIFF, BMP, WebP...) to PNG, with
 * the source's EXIF block carried into the PNG eXIf chunk byte for byte, and
 * EXIF Orientation either kept as a tag or applied to the pixels (then reset
 * to 1 with libexif).
 */
#include "transcode/transcode_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/pixdesc.h>
#include <libexif/exif-data.h>
#include <libexif/exif-utils.h>
#include <libswscale/swscale.h>

static const uint8_t exif_hdr[6] = { 'E', 'x', 'i', 'f', 0, 0 };

/* libexif wants the "Exif\0\0" header in front of the TIFF structure. It is
 * loaded without "fixing" anything, so what we read is what the file has. */
static ExifData *exif_load(const uint8_t *tiff, size_t len)
{
    if (!tiff || len == 0 || len > EV_TC_MAX_EXIF)
        return NULL;
    uint8_t *b = malloc(len + 6);
    if (!b)
        return NULL;
    memcpy(b, exif_hdr, 6);
    memcpy(b + 6, tiff, len);
    ExifData *ed = exif_data_new();
    if (ed) {
        exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
        exif_data_unset_option(ed, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
        exif_data_set_option(ed, EXIF_DATA_OPTION_DONT_CHANGE_MAKER_NOTE);
        exif_data_load_data(ed, b, (unsigned int)(len + 6));
    }
    free(b);
    return ed;
}

static int exif_orientation(const uint8_t *tiff, size_t len)
{
    ExifData *ed = exif_load(tiff, len);
    if (!ed)
        return 0;
    int v = 0;
    ExifEntry *e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
    if (e && e->format == EXIF_FORMAT_SHORT && e->components == 1 && e->data && e->size >= 2)
        v = exif_get_short(e->data, exif_data_get_byte_order(ed));
    exif_data_unref(ed);
    return v >= 1 && v <= 8 ? v : 0;
}

/* Orientation reset to 1 (and pixel dimensions swapped when needed);
 * returns a new TIFF block. */
static int exif_reset_orientation(uint8_t **out, size_t *out_len, const uint8_t *tiff,
                                  size_t len, int w, int h)
{
    *out = NULL;
    *out_len = 0;
    ExifData *ed = exif_load(tiff, len);
    if (!ed)
        return EV_EFORMAT;
    ExifByteOrder bo = exif_data_get_byte_order(ed);
    ExifEntry *e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
    if (e && e->format == EXIF_FORMAT_SHORT && e->size >= 2)
        exif_set_short(e->data, bo, 1);
    static const ExifTag dims[2] = { EXIF_TAG_PIXEL_X_DIMENSION, EXIF_TAG_PIXEL_Y_DIMENSION };
    for (int i = 0; i < 2; i++) {
        ExifEntry *d = exif_content_get_entry(ed->ifd[EXIF_IFD_EXIF], dims[i]);
        int v = i == 0 ? w : h;
        if (d && d->format == EXIF_FORMAT_SHORT && d->size >= 2)
            exif_set_short(d->data, bo, (ExifShort)v);
        else if (d && d->format == EXIF_FORMAT_LONG && d->size >= 4)
            exif_set_long(d->data, bo, (ExifLong)v);
    }
    unsigned char *buf = NULL;
    unsigned int bl = 0;
    exif_data_save_data(ed, &buf, &bl);
    exif_data_unref(ed);
    if (!buf || bl <= 6 || memcmp(buf, exif_hdr, 6) != 0) {
        free(buf);
        return EV_ERROR;
    }
    memmove(buf, buf + 6, bl - 6);
    *out = buf;
    *out_len = bl - 6;
    return EV_OK;
}

typedef struct tag_list {
    json_t *arr;
    ExifData *other;
    bool allow_orientation;
    json_t *problems;
    int changed;
} tag_list;

static const char *ifd_label(ExifIfd i)
{
    switch (i) {
    case EXIF_IFD_0: return "IFD0";
    case EXIF_IFD_1: return "IFD1";
    case EXIF_IFD_EXIF: return "EXIF";
    case EXIF_IFD_GPS: return "GPS";
    case EXIF_IFD_INTEROPERABILITY: return "Interop";
    default: return "IFD?";
    }
}

static bool entry_equal(const ExifEntry *a, const ExifEntry *b)
{
    return a && b && a->format == b->format && a->components == b->components &&
           a->size == b->size && (a->size == 0 || memcmp(a->data, b->data, a->size) == 0);
}

static bool allowed_change(ExifTag t, ExifIfd ifd, bool orientation)
{
    if (!orientation)
        return false;
    return (t == EXIF_TAG_ORIENTATION && ifd == EXIF_IFD_0) ||
           ((t == EXIF_TAG_PIXEL_X_DIMENSION || t == EXIF_TAG_PIXEL_Y_DIMENSION) &&
            ifd == EXIF_IFD_EXIF);
}

static void diff_entry(ExifEntry *e, void *user)
{
    tag_list *tl = user;
    ExifIfd ifd = exif_entry_get_ifd(e);
    if (ifd >= EXIF_IFD_COUNT)
        return;
    ExifEntry *o = exif_content_get_entry(tl->other->ifd[ifd], e->tag);
    if (entry_equal(e, o))
        return;
    const char *name = exif_tag_get_name_in_ifd(e->tag, ifd);
    char label[96];
    if (name)
        snprintf(label, sizeof(label), "%s:%s", ifd_label(ifd), name);
    else
        snprintf(label, sizeof(label), "%s:0x%04x", ifd_label(ifd), e->tag);
    json_array_append_new(tl->arr, json_string(label));
    tl->changed++;
    if (!allowed_change(e->tag, ifd, tl->allow_orientation)) {
        char msg[160];
        snprintf(msg, sizeof(msg), "EXIF tag %s %s in the copy", label,
                 o ? "differs" : "is missing");
        json_array_append_new(tl->problems, json_string(msg));
    }
}

static void diff_content(ExifContent *c, void *user)
{
    exif_content_foreach_entry(c, diff_entry, user);
}

static void added_entry(ExifEntry *e, void *user)
{
    tag_list *tl = user;
    ExifIfd ifd = exif_entry_get_ifd(e);
    if (ifd >= EXIF_IFD_COUNT || exif_content_get_entry(tl->other->ifd[ifd], e->tag))
        return;
    const char *name = exif_tag_get_name_in_ifd(e->tag, ifd);
    char label[96];
    if (name)
        snprintf(label, sizeof(label), "%s:%s (added)", ifd_label(ifd), name);
    else
        snprintf(label, sizeof(label), "%s:0x%04x (added)", ifd_label(ifd), e->tag);
    json_array_append_new(tl->arr, json_string(label));
    char msg[160];
    snprintf(msg, sizeof(msg), "EXIF tag %s was added in the copy", label);
    json_array_append_new(tl->problems, json_string(msg));
}

static void added_content(ExifContent *c, void *user)
{
    exif_content_foreach_entry(c, added_entry, user);
}

json_t *ev_transcode__exif_report(const uint8_t *a, size_t al, const uint8_t *b, size_t bl,
                                  bool orientation_reset, json_t *problems)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "source_bytes", json_integer((json_int_t)al));
    json_object_set_new(o, "output_bytes", json_integer((json_int_t)bl));
    bool same = al == bl && (al == 0 || memcmp(a, b, al) == 0);
    json_object_set_new(o, "identical", json_boolean(same));
    if (!a && b) {
        json_array_append_new(problems, json_string("the copy has EXIF the source does not"));
        return o;
    }
    if (a && !b) {
        json_array_append_new(problems, json_string("the source's EXIF is missing from the copy"));
        return o;
    }
    if (same || !a)
        return o;
    ExifData *ea = exif_load(a, al), *eb = exif_load(b, bl);
    json_t *tags = json_array();
    if (ea && eb && tags) {
        tag_list tl = { tags, eb, orientation_reset, problems, 0 };
        exif_data_foreach_content(ea, diff_content, &tl);
        tag_list t2 = { tags, ea, orientation_reset, problems, 0 };
        exif_data_foreach_content(eb, added_content, &t2);
    } else {
        json_array_append_new(problems, json_string("EXIF of the source or the copy cannot be "
                                                    "parsed for comparison"));
    }
    json_object_set_new(o, "changed_tags", tags ? tags : json_array());
    if (orientation_reset)
        json_object_set_new(o, "allowed_changes",
                            json_pack("[s,s,s]", "IFD0:Orientation", "EXIF:PixelXDimension",
                                      "EXIF:PixelYDimension"));
    if (ea)
        exif_data_unref(ea);
    if (eb)
        exif_data_unref(eb);
    return o;
}

void ev_transcode__still_free(ev_still_out *o)
{
    if (!o)
        return;
    json_decref(o->settings);
    free(o->src_exif);
    memset(o, 0, sizeof(*o));
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int ev_transcode__still(ev_still_out *o, const ev_profile *p, const char *in_path, int fd,
                        uint32_t flags, ev_errbuf *err)
{
    AVFormatContext *fc = NULL;
    AVCodecContext *dec = NULL, *enc = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc(), *first = NULL, *conv = NULL, *rot = NULL;
    struct SwsContext *sws = NULL;
    uint8_t *png = NULL, *exif_out = NULL;
    size_t png_len = 0, exif_out_len = 0;
    int rc;
    memset(o, 0, sizeof(*o));
    (void)flags;
    if (!pkt || !fr) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = ev_transcode__open_input(&fc, in_path, err)) != EV_OK)
        goto done;
    int vi = -1;
    for (unsigned i = 0; i < fc->nb_streams; i++) {
        enum AVMediaType t = fc->streams[i]->codecpar->codec_type;
        if (t == AVMEDIA_TYPE_AUDIO && (p->forbids & (1u << EV_ST_AUDIO))) {
            rc = ev_err__set(err, EV_EUNSUPPORTED, "profile '%s' takes one still picture; "
                             "'%s' has an audio stream (#%u), so it is not a photo", p->name,
                             in_path, i);
            goto done;
        }
        if (t == AVMEDIA_TYPE_VIDEO && vi < 0)
            vi = (int)i;
    }
    if (vi < 0) {
        rc = ev_err__set(err, EV_EUNSUPPORTED, "profile '%s' needs a picture; '%s' has none",
                         p->name, in_path);
        goto done;
    }
    AVStream *st = fc->streams[vi];
    if (st->nb_frames > 1) {
        rc = ev_err__set(err, EV_EUNSUPPORTED, "profile '%s' takes one still picture; '%s' has "
                         "%lld frames (use a video profile)", p->name, in_path,
                         (long long)st->nb_frames);
        goto done;
    }
    const ev_profile_rule *rule = NULL;
    const char *codec = avcodec_get_name(st->codecpar->codec_id);
    const char *pfn = av_get_pix_fmt_name((enum AVPixelFormat)st->codecpar->format);
    for (size_t i = 0; i < p->streams[EV_ST_VIDEO].n_rules && !rule; i++) {
        const ev_profile_rule *r = &p->streams[EV_ST_VIDEO].rules[i];
        if (ev_profile__list_match(&r->when_codecs, codec) &&
            ev_profile__list_match(&r->when_pix_fmts, pfn))
            rule = r;
    }
    if (!rule) {
        rc = ev_err__set(err, EV_EUNSUPPORTED, "profile '%s' has no rule for a %s picture",
                         p->name, codec);
        goto done;
    }
    if (rule->action == EV_ACTION_REFUSE) {
        rc = ev_err__set(err, EV_EUNSUPPORTED, "profile '%s' refuses '%s': %s", p->name, in_path,
                         rule->message);
        goto done;
    }
    if ((rc = ev_transcode__open_decoder(&dec, st, true, err)) != EV_OK)
        goto done;
    /* decode every packet: exactly one picture is expected */
    int frames = 0;
    for (;;) {
        int e = av_read_frame(fc, pkt);
        if (e == AVERROR_EOF)
            break;
        if (e < 0) {
            rc = ev_transcode__averr(err, e, "'%s' cannot be read to its end", in_path);
            if (rc == EV_ERROR)
                rc = EV_EFORMAT;
            goto done;
        }
        if (pkt->stream_index != vi) {
            av_packet_unref(pkt);
            continue;
        }
        e = avcodec_send_packet(dec, pkt);
        av_packet_unref(pkt);
        if (e < 0) {
            rc = ev_transcode__averr(err, e, "'%s' is damaged: the picture cannot be decoded",
                                     in_path);
            rc = rc == EV_ENOMEM ? rc : EV_EFORMAT;
            goto done;
        }
        while ((e = avcodec_receive_frame(dec, fr)) >= 0) {
            if (fr->decode_error_flags || (fr->flags & AV_FRAME_FLAG_CORRUPT)) {
                rc = ev_err__set(err, EV_EFORMAT, "'%s' is damaged: the decoder had to conceal "
                                 "errors in the picture", in_path);
                goto done;
            }
            if (++frames > 1) {
                rc = ev_err__set(err, EV_EUNSUPPORTED, "profile '%s' takes one still picture; "
                                 "'%s' has more than one frame", p->name, in_path);
                goto done;
            }
            first = av_frame_clone(fr);
            av_frame_unref(fr);
        }
    }
    avcodec_send_packet(dec, NULL);
    int e;
    while ((e = avcodec_receive_frame(dec, fr)) >= 0) {
        if (++frames > 1) {
            rc = ev_err__set(err, EV_EUNSUPPORTED, "profile '%s' takes one still picture; '%s' "
                             "has more than one frame", p->name, in_path);
            goto done;
        }
        first = av_frame_clone(fr);
        av_frame_unref(fr);
    }
    if (!first) {
        rc = ev_err__set(err, EV_EFORMAT, "'%s' holds no decodable picture (empty or damaged)",
                         in_path);
        goto done;
    }
    if (first->decode_error_flags || (first->flags & AV_FRAME_FLAG_CORRUPT)) {
        rc = ev_err__set(err, EV_EFORMAT, "'%s' is damaged: the decoder had to conceal errors",
                         in_path);
        goto done;
    }

    const AVCodec *pngc = avcodec_find_encoder_by_name(rule->encoder);
    if (!pngc) {
        rc = ev_err__set(err, EV_EUNSUPPORTED, "encoder '%s' is not in this build", rule->encoder);
        goto done;
    }
    ev_fmt_choice ch;
    if ((rc = ev_transcode__choose_pix_fmt(&ch, pngc, first->format, rule)) != EV_OK) {
        ev_err__set(err, rc, "profile '%s' cannot store '%s': %s", p->name, in_path, ch.why);
        goto done;
    }
    const AVFrame *pic = first;
    if (ch.convert) {
        if ((rc = ev_transcode__convert(&conv, first, ch.fmt, &sws)) != EV_OK) {
            ev_err__set(err, rc, "cannot convert %s to %s",
                        av_get_pix_fmt_name((enum AVPixelFormat)first->format),
                        av_get_pix_fmt_name((enum AVPixelFormat)ch.fmt));
            goto done;
        }
        pic = conv;
    }
    /* EXIF and orientation */
    if ((rc = ev_transcode__file_exif(&o->src_exif, &o->src_exif_len, in_path, err)) != EV_OK)
        goto done;
    o->orientation = exif_orientation(o->src_exif, o->src_exif_len);
    const uint8_t *exif_use = o->src_exif;
    size_t exif_use_len = o->src_exif_len;
    if (p->meta_orientation == EV_META_APPLY && o->orientation > 1) {
        if ((rc = ev_transcode__orient(&rot, pic, o->orientation)) != EV_OK) {
            ev_err__set(err, EV_EUNSUPPORTED, "cannot apply EXIF orientation %d to a %s picture",
                        o->orientation, av_get_pix_fmt_name((enum AVPixelFormat)pic->format));
            goto done;
        }
        pic = rot;
        o->orientation_applied = true;
        if (p->meta_exif == EV_META_COPY &&
            exif_reset_orientation(&exif_out, &exif_out_len, o->src_exif, o->src_exif_len,
                                   pic->width, pic->height) == EV_OK) {
            exif_use = exif_out;
            exif_use_len = exif_out_len;
        }
    }
    if (p->meta_exif != EV_META_COPY) {
        exif_use = NULL;
        exif_use_len = 0;
    }
    /* encode */
    enc = avcodec_alloc_context3(pngc);
    if (!enc) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    enc->width = pic->width;
    enc->height = pic->height;
    enc->pix_fmt = (enum AVPixelFormat)pic->format;
    enc->time_base = (AVRational){ 1, 25 };
    enc->sample_aspect_ratio = first->sample_aspect_ratio;
    enc->color_range = pic->color_range;
    enc->flags |= AV_CODEC_FLAG_BITEXACT;
    AVDictionary *d = NULL;
    for (size_t i = 0; i < rule->n_options; i++)
        av_dict_set(&d, rule->options[i].key, rule->options[i].value, 0);
    e = avcodec_open2(enc, pngc, &d);
    av_dict_free(&d);
    if (e < 0) {
        rc = ev_transcode__averr(err, e, "cannot open the %s encoder", pngc->name);
        goto done;
    }
    AVFrame *tosend = av_frame_clone(pic);
    if (!tosend) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    tosend->pts = 0;
    e = avcodec_send_frame(enc, tosend);
    av_frame_free(&tosend);
    if (e >= 0)
        e = avcodec_send_frame(enc, NULL);
    if (e >= 0)
        e = avcodec_receive_packet(enc, pkt);
    if (e < 0) {
        rc = ev_transcode__averr(err, e, "PNG encoding failed");
        goto done;
    }
    png = malloc((size_t)pkt->size);
    if (!png) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(png, pkt->data, (size_t)pkt->size);
    png_len = (size_t)pkt->size;
    av_packet_unref(pkt);
    if (exif_use && (rc = ev_transcode__png_add_exif(&png, &png_len, exif_use, exif_use_len)) !=
                        EV_OK) {
        ev_err__set(err, rc, "cannot add the eXIf chunk to the PNG");
        goto done;
    }
    if (write_all(fd, png, png_len) != 0) {
        rc = ev_err__set(err, EV_EIO, "cannot write the PNG: %s", strerror(errno));
        goto done;
    }

    /* what was done, and how to verify it */
    o->vs.src = vi;
    o->vs.out = 0;
    o->vs.type = EV_ST_VIDEO;
    o->vs.level = EV_LEVEL_DECODED;
    o->vs.cmp_pix_fmt = ch.convert && !ch.repack ? ch.fmt : AV_PIX_FMT_NONE;
    o->vs.out_cmp_pix_fmt = ch.convert && ch.repack ? first->format : AV_PIX_FMT_NONE;
    o->vs.orientation = o->orientation_applied ? o->orientation : 1;
    if (o->vs.orientation > 1 && o->vs.out_cmp_pix_fmt != AV_PIX_FMT_NONE) {
        /* orientation + repack: compare in the copy's format instead */
        o->vs.cmp_pix_fmt = ch.fmt;
        o->vs.out_cmp_pix_fmt = AV_PIX_FMT_NONE;
    }
    json_t *s = json_object();
    if (!s) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    json_object_set_new(s, "source_stream", json_integer(vi));
    json_object_set_new(s, "output_stream", json_integer(0));
    json_object_set_new(s, "type", json_string("video"));
    json_object_set_new(s, "action", json_string("encode"));
    json_object_set_new(s, "decoder", json_string(dec->codec->name));
    json_object_set_new(s, "decoder_flags", json_string("bitexact, idct simple"));
    json_object_set_new(s, "encoder", json_string(pngc->name));
    json_t *eo = json_object();
    for (size_t i = 0; i < rule->n_options; i++)
        json_object_set_new(eo, rule->options[i].key, json_string(rule->options[i].value));
    json_object_set_new(s, "encoder_options", eo);
    json_object_set_new(s, "width", json_integer(pic->width));
    json_object_set_new(s, "height", json_integer(pic->height));
    json_object_set_new(s, "source_pix_fmt",
                        json_string(av_get_pix_fmt_name((enum AVPixelFormat)first->format)));
    json_object_set_new(s, "pix_fmt", json_string(av_get_pix_fmt_name((enum AVPixelFormat)ch.fmt)));
    if (ch.convert)
        json_object_set_new(s, "conversion", json_pack("{s:s, s:s, s:b, s:s}", "from",
                            av_get_pix_fmt_name((enum AVPixelFormat)first->format), "to",
                            av_get_pix_fmt_name((enum AVPixelFormat)ch.fmt), "lossless",
                            ch.repack, "with", EV_TRANSCODE__SWS_DESC));
    if (ch.why[0])
        json_object_set_new(s, "note", json_string(ch.why));
    json_object_set_new(s, "exif", json_string(exif_use ? (exif_out ? "copied, Orientation "
                                                           "reset to 1" : "copied verbatim")
                                               : o->src_exif ? "dropped" : "none in source"));
    json_object_set_new(s, "orientation", o->orientation
                        ? json_pack("{s:i, s:s}", "source", o->orientation, "handling",
                                    o->orientation_applied ? "applied to the pixels"
                                                           : "kept as the EXIF tag")
                        : json_null());
    o->settings = s;
    rc = EV_OK;
done:
    if (rc != EV_OK) {
        free(o->src_exif);
        o->src_exif = NULL;
    }
    free(png);
    free(exif_out);
    av_packet_free(&pkt);
    av_frame_free(&fr);
    av_frame_free(&first);
    av_frame_free(&conv);
    av_frame_free(&rot);
    sws_freeContext(sws);
    avcodec_free_context(&dec);
    avcodec_free_context(&enc);
    avformat_close_input(&fc);
    return rc;
}
