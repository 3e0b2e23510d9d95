/*
 * media_facts: item.media from an opened source -- the format, each
 * stream (codec, geometry, timing, disposition, side data) and their tags,
 * as libavformat reports them.
 */
#include "media/media_int.h"

#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>

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

static int stream_facts(json_t **out, AVFormatContext *fmt, AVStream *st)
{
    /* A still read by an image demuxer has no time: its 1/25 s time base,
     * 25 fps and 0.04 s duration are FFmpeg's defaults, not facts. */
    const bool still = ev_media__is_image_format(fmt->iformat->name);
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
    if (ev_media__set_rational(j, "time_base", st->time_base) ||
        (!still && ev_media__set_seconds(j, "start_time", st->start_time, st->time_base)) ||
        (!still && ev_media__set_seconds(j, "duration", st->duration, st->time_base)))
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
        if (!still && (ev_media__set_rational(j, "r_frame_rate", st->r_frame_rate) ||
                       ev_media__set_rational(j, "avg_frame_rate", st->avg_frame_rate)))
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

bool ev_media__is_image_format(const char *name)
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
    bool image = ev_media__is_image_format(fmt->iformat->name);
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
