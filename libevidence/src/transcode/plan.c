/*
 * plan: which source streams a profile copies, encodes or drops (and what
 * it refuses), then the setup of each output stream (stream copy, video
 * encoder with its pixel format, audio encoder with its filter graph) and
 * of the container's metadata, by the profile's policy.
 */
#include "transcode/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/time.h>
#include <libswscale/swscale.h>

static const char *stype_of(const AVStream *st)
{
    switch (st->codecpar->codec_type) {
    case AVMEDIA_TYPE_VIDEO: return ev_transcode__is_attached_pic(st) ? "attached picture" : "video";
    case AVMEDIA_TYPE_AUDIO: return "audio";
    case AVMEDIA_TYPE_SUBTITLE: return "subtitle";
    case AVMEDIA_TYPE_DATA: return "data";
    case AVMEDIA_TYPE_ATTACHMENT: return "attachment";
    default: return "unknown";
    }
}

static int stype_idx(const AVStream *st)
{
    switch (st->codecpar->codec_type) {
    case AVMEDIA_TYPE_VIDEO: return ev_transcode__is_attached_pic(st) ? -1 : EV_ST_VIDEO;
    case AVMEDIA_TYPE_AUDIO: return EV_ST_AUDIO;
    case AVMEDIA_TYPE_SUBTITLE: return EV_ST_SUBTITLE;
    case AVMEDIA_TYPE_DATA: return EV_ST_DATA;
    default: return -1;
    }
}

/* Bytes per NAL unit length of length-prefixed H.264 (avcC) or HEVC (hvcC)
 * packets, from the stream's extradata; 0 when the packets are not
 * length-prefixed (Annex B start codes) or the codec is another. */
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

static void drop(job *j, const AVStream *st, const char *why)
{
    json_array_append_new(j->dropped,
                          json_pack("{s:i, s:s, s:s, s:s}", "source_stream", st->index, "type",
                                    stype_of(st), "codec",
                                    avcodec_get_name(st->codecpar->codec_id), "reason", why));
}

/* ------------------------------------------------------------------------ */
/* Plan                                                                      */
/* ------------------------------------------------------------------------ */

static const char *sample_fmt_name(int f)
{
    const char *n = av_get_sample_fmt_name((enum AVSampleFormat)f);
    return n ? n : "unknown";
}

/* A source with no time per frame (an elementary stream) is copied only at
 * a rate the user states: FFmpeg's default of 25 fps would be presented as
 * the recording's rate. */
static int refuse_untimed(job *j)
{
    const char *fmt = j->ic->iformat->name;
    if (!ev_transcode__untimed_demuxer(fmt))
        return EV_OK;
    const char *what = !strcmp(fmt, "h264") ? "H.264" : !strcmp(fmt, "hevc") ? "H.265" : fmt;
    if (j->o.assume_fps_num) {
        /* frames in decoding order are timed one interval apart; with
         * reordered (B-) frames their display times cannot be known */
        for (unsigned i = 0; i < j->ic->nb_streams; i++)
            if (j->ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
                j->ic->streams[i]->codecpar->video_delay > 0)
                return ev_err__set(j->err, EV_EUNSUPPORTED, "'%s' is a raw %s elementary stream "
                                   "with reordered (B-) frames: their display times cannot "
                                   "be derived from a frame rate without decoding; keep it "
                                   "with master, or make a re-encoded copy", j->in, what);
        return EV_OK;
    }
    return ev_err__set(j->err, EV_EUNSUPPORTED, "'%s' has no timestamps (raw %s elementary "
                       "stream); give the frame rate with --assume-fps RATE, e.g. the rate the "
                       "recorder was set to", j->in, what);
}

/* settings.streams[].timing of a video stream: where the copy's times come
 * from. An assumed rate is named as the user's, never as measured. */
static json_t *timing_json(job *j, ost *o)
{
    const char *fmt = j->ic->iformat->name;
    char fps[48] = "";
    if (j->o.assume_fps_num)
        snprintf(fps, sizeof(fps), "%u/%u", j->o.assume_fps_num, j->o.assume_fps_den);
    if (ev_transcode__untimed_demuxer(fmt)) {
        o->assumed = true;
        double d = (double)j->o.assume_fps_den / (double)j->o.assume_fps_num;
        return json_pack("{s:s, s:s, s:s, s:f, s:s}", "source", "assumed", "fps", fps,
                         "stated_by", "user", "frame_duration", ev_transcode__round6(d), "note",
                         "the source has no time per frame; every frame is timed at the rate "
                         "the user stated, which is an assumption, not a measurement");
    }
    json_t *t;
    if (!strcmp(fmt, "dhav") && o->ist->time_base.num == 1 && o->ist->time_base.den == 1000) {
        o->stamps = true;
        o->runs = json_array();
        t = json_pack("{s:s, s:s, s:s}", "source", "frame-stamps", "wallclock_zone", "unknown",
                      "note", "each frame's DAV stamp (camera-local wall clock, zone unknown); "
                      "the copy's times are the stamps less the first one, and frame_times "
                      "maps every frame to its stamp");
        if (!o->runs) {
            json_decref(t);
            return NULL;
        }
    } else {
        t = json_pack("{s:s}", "source", "container");
    }
    if (t && fps[0])
        json_object_set_new(t, "assumed_fps_ignored",
                            json_pack("{s:s, s:s}", "fps", fps, "note", "the source has times "
                                      "of its own; the stated rate was not used"));
    return t;
}

int ev_transcode__plan(job *j)
{
    const ev_profile *p = j->p;
    AVFormatContext *ic = j->ic;
    int urc = refuse_untimed(j);
    if (urc != EV_OK)
        return urc;
    uint32_t present = 0;
    char have[256] = "";
    size_t hl = 0;
    for (unsigned i = 0; i < ic->nb_streams; i++) {
        int t = stype_idx(ic->streams[i]);
        if (t >= 0)
            present |= 1u << t;
        int n = snprintf(have + hl, sizeof(have) - hl, "%s#%u %s (%s)", hl ? ", " : "", i,
                         stype_of(ic->streams[i]),
                         avcodec_get_name(ic->streams[i]->codecpar->codec_id));
        if (n > 0 && (size_t)n < sizeof(have) - hl)
            hl += (size_t)n;
    }
    if (!hl)
        snprintf(have, sizeof(have), "no streams");
    for (int t = 0; t < EV_ST_COUNT; t++) {
        if ((p->requires & (1u << t)) && !(present & (1u << t)))
            return ev_err__set(j->err, EV_EUNSUPPORTED, "profile '%s' needs a %s stream; '%s' "
                               "has %s", p->name, ev_profile__stype_name((ev_stype)t), j->in,
                               have);
        if ((p->forbids & (1u << t)) && (present & (1u << t)))
            return ev_err__set(j->err, EV_EUNSUPPORTED, "profile '%s' does not accept %s; '%s' "
                               "has %s", p->name, ev_profile__stype_name((ev_stype)t), j->in,
                               have);
    }
    j->os = ev__calloc(ic->nb_streams ? ic->nb_streams : 1, sizeof(ost));
    if (!j->os)
        return ev_err__set(j->err, EV_ENOMEM, "out of memory");
    bool seen[EV_ST_COUNT] = { false };
    for (unsigned i = 0; i < ic->nb_streams; i++) {
        AVStream *st = ic->streams[i];
        j->map[i] = -1;
        int t = stype_idx(st);
        if (t < 0) {
            drop(j, st, "attachments and cover pictures are not carried by profiles");
            continue;
        }
        const ev_profile_streams *ps = &p->streams[t];
        if (ps->select == EV_SELECT_NONE) {
            char why[96];
            snprintf(why, sizeof(why), "the profile keeps no %s streams (output.%s)",
                     ev_profile__stype_name((ev_stype)t), ev_profile__stype_name((ev_stype)t));
            drop(j, st, why);
            continue;
        }
        if (ps->select == EV_SELECT_FIRST && seen[t]) {
            char why[96];
            snprintf(why, sizeof(why), "the profile keeps the first %s stream only",
                     ev_profile__stype_name((ev_stype)t));
            drop(j, st, why);
            continue;
        }
        seen[t] = true;
        const char *codec = avcodec_get_name(st->codecpar->codec_id);
        const char *sfmt = t == EV_ST_AUDIO ? av_get_sample_fmt_name(st->codecpar->format) : NULL;
        const char *pfmt = t == EV_ST_VIDEO ? av_get_pix_fmt_name(st->codecpar->format) : NULL;
        const ev_profile_rule *rule = NULL;
        for (size_t k = 0; k < ps->n_rules && !rule; k++) {
            const ev_profile_rule *r = &ps->rules[k];
            if (ev_profile__list_match(&r->when_codecs, codec) &&
                ev_profile__list_match(&r->when_sample_fmts, sfmt) &&
                ev_profile__list_match(&r->when_pix_fmts, pfmt))
                rule = r;
        }
        if (!rule)
            return ev_err__set(j->err, EV_EUNSUPPORTED, "profile '%s' has no rule for stream #%u "
                               "(%s %s%s%s); add one to output.%s.rules", p->name, i,
                               stype_of(st), codec, sfmt ? ", " : "", sfmt ? sfmt : "",
                               ev_profile__stype_name((ev_stype)t));
        if (rule->action == EV_ACTION_REFUSE)
            return ev_err__set(j->err, EV_EUNSUPPORTED, "profile '%s' refuses stream #%u of '%s' "
                               "(%s %s%s%s): %s", p->name, i, j->in, stype_of(st), codec,
                               sfmt ? ", " : "", sfmt ? sfmt : "", rule->message);
        if (rule->action == EV_ACTION_DROP) {
            drop(j, st, rule->message ? rule->message : "the profile's rule drops it");
            continue;
        }
        ost *o = &j->os[j->n_os];
        o->in_idx = (int)i;
        o->out_idx = (int)j->n_os;
        o->type = (ev_stype)t;
        o->action = rule->action;
        o->rule = rule;
        o->ist = st;
        o->last_pts = AV_NOPTS_VALUE;
        o->last_mux_dts = AV_NOPTS_VALUE;
        o->ts_offset = AV_NOPTS_VALUE;
        o->next_ts = AV_NOPTS_VALUE;
        o->first_stamp = AV_NOPTS_VALUE;
        o->last_end = -1;
        if (rule->action == EV_ACTION_COPY)
            o->nal_len = nal_length_size(st->codecpar);
        j->map[i] = (int)j->n_os;
        j->n_os++;
    }
    if (j->n_os == 0)
        return ev_err__set(j->err, EV_EUNSUPPORTED, "profile '%s' keeps no stream of '%s' (%s)",
                           p->name, j->in, have);
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* Stream setup                                                              */
/* ------------------------------------------------------------------------ */

bool ev_transcode__strip_tag(const char *k)
{
    static const char *const skip[] = { "encoder", "DURATION", "NUMBER_OF_FRAMES",
                                        "NUMBER_OF_BYTES", "BPS", "major_brand", "minor_version",
                                        "compatible_brands", NULL };
    for (size_t i = 0; skip[i]; i++)
        if (strcasecmp(k, skip[i]) == 0)
            return true;
    return strncmp(k, "_STATISTICS", 11) == 0 || strncasecmp(k, "DURATION-", 9) == 0;
}

/* A data stream (e.g. a QuickTime timecode track) was dropped. */
static bool dropped_data(const job *j)
{
    size_t i;
    json_t *d;
    json_array_foreach(j->dropped, i, d)
        if (!strcmp(json_string_value(json_object_get(d, "type")), "data"))
            return true;
    return false;
}

static void copy_stream_meta(job *j, ost *o)
{
    if (j->p->meta_stream_tags == EV_META_COPY) {
        const AVDictionaryEntry *t = NULL;
        while ((t = av_dict_get(o->ist->metadata, "", t, AV_DICT_IGNORE_SUFFIX))) {
            /* the MP4/MOV muxer turns a "timecode" tag into a timecode track
             * again: not when the data streams were dropped */
            if (!strcmp(t->key, "timecode") && dropped_data(j)) {
                ev_transcode__note(j, "stream #%d: its timecode tag (%s) was not carried: the "
                                   "muxer would write it as a timecode data track, and data "
                                   "streams are dropped", o->in_idx, t->value);
                continue;
            }
            if (!ev_transcode__strip_tag(t->key) &&
                !(j->p->meta_creation_time == EV_META_DROP &&
                  strcasecmp(t->key, "creation_time") == 0))
                av_dict_set(&o->st->metadata, t->key, t->value, 0);
        }
    }
    o->st->disposition = o->ist->disposition;
    /* Side data (display matrix = rotation, stereo 3D, mastering display...). */
    for (int i = 0; i < o->ist->nb_side_data; i++) {
        const AVPacketSideData *sd = &o->ist->side_data[i];
        uint8_t *dst = av_stream_new_side_data(o->st, sd->type, sd->size);
        if (dst)
            memcpy(dst, sd->data, sd->size);
    }
}

int ev_transcode__setup_copy(job *j, ost *o)
{
    AVCodecParameters *cp = o->ist->codecpar;
    if (avformat_query_codec(j->oc->oformat, cp->codec_id, FF_COMPLIANCE_NORMAL) == 0)
        return ev_err__set(j->err, EV_EUNSUPPORTED, "the %s container of profile '%s' cannot "
                           "carry stream #%d (%s %s); choose a profile with another container "
                           "(e.g. remux-mkv)", j->p->container, j->p->name, o->in_idx,
                           stype_of(o->ist), avcodec_get_name(cp->codec_id));
    o->st = avformat_new_stream(j->oc, NULL);
    if (!o->st)
        return ev_err__set(j->err, EV_ENOMEM, "out of memory");
    int e = avcodec_parameters_copy(o->st->codecpar, cp);
    if (e < 0)
        return ev_transcode__averr(j->err, e, "stream #%d: copying parameters", o->in_idx);
    o->st->codecpar->codec_tag = 0;
    o->st->time_base = o->ist->time_base;
    o->st->avg_frame_rate = o->ist->avg_frame_rate;
    o->st->r_frame_rate = o->ist->r_frame_rate;
    o->st->sample_aspect_ratio = o->ist->sample_aspect_ratio;
    if (o->type == EV_ST_VIDEO && ev_transcode__untimed_demuxer(j->ic->iformat->name) &&
        j->o.assume_fps_num) {
        /* one tick per frame at the stated rate (the muxer refines it) */
        AVRational fps = { (int)j->o.assume_fps_num, (int)j->o.assume_fps_den };
        o->st->time_base = av_inv_q(fps);
        o->st->avg_frame_rate = o->st->r_frame_rate = fps;
    }
    copy_stream_meta(j, o);
    o->settings = json_pack("{s:i, s:i, s:s, s:s, s:s}", "source_stream", o->in_idx,
                            "output_stream", o->out_idx, "type",
                            ev_profile__stype_name(o->type), "action", "copy", "codec",
                            avcodec_get_name(cp->codec_id));
    if (o->settings && o->type == EV_ST_VIDEO &&
        json_object_set_new(o->settings, "timing", timing_json(j, o)))
        return ev_err__set(j->err, EV_ENOMEM, "out of memory");
    return o->settings ? EV_OK : ev_err__set(j->err, EV_ENOMEM, "out of memory");
}

static bool crops_odd_sizes(const char *enc)
{
    return strncmp(enc, "libx26", 6) == 0 || strcmp(enc, "libxvid") == 0 ||
           strcmp(enc, "mpeg4") == 0 || strncmp(enc, "h264_", 5) == 0 ||
           strncmp(enc, "hevc_", 5) == 0 || strcmp(enc, "mpeg2video") == 0;
}

static int open_encoder(job *j, ost *o, const AVCodec *codec)
{
    AVDictionary *d = NULL;
    for (size_t i = 0; i < o->rule->n_options; i++)
        av_dict_set(&d, o->rule->options[i].key, o->rule->options[i].value, 0);
    if (j->oc->oformat->flags & AVFMT_GLOBALHEADER)
        o->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    o->enc->thread_count = (int)j->o.threads;
    int e = avcodec_open2(o->enc, codec, &d);
    if (e < 0) {
        av_dict_free(&d);
        int rc = ev_transcode__averr(j->err, e, "stream #%d: the %s encoder refuses the settings "
                                     "of profile '%s'", o->in_idx, codec->name, j->p->name);
        return rc == EV_EFORMAT || rc == EV_ERROR ? EV_EUNSUPPORTED : rc;
    }
    if (av_dict_count(d)) {
        const AVDictionaryEntry *t = av_dict_get(d, "", NULL, AV_DICT_IGNORE_SUFFIX);
        int rc = ev_err__set(j->err, EV_EUNSUPPORTED, "stream #%d: encoder %s did not use the "
                             "option '%s' of profile '%s'", o->in_idx, codec->name,
                             t ? t->key : "?", j->p->name);
        av_dict_free(&d);
        return rc;
    }
    av_dict_free(&d);
    if (avformat_query_codec(j->oc->oformat, codec->id, FF_COMPLIANCE_NORMAL) == 0)
        return ev_err__set(j->err, EV_EUNSUPPORTED, "the %s container cannot carry %s",
                           j->p->container, codec->name);
    o->st = avformat_new_stream(j->oc, NULL);
    if (!o->st)
        return ev_err__set(j->err, EV_ENOMEM, "out of memory");
    e = avcodec_parameters_from_context(o->st->codecpar, o->enc);
    if (e < 0)
        return ev_transcode__averr(j->err, e, "stream #%d: encoder parameters", o->in_idx);
    o->st->time_base = o->enc->time_base;
    copy_stream_meta(j, o);
    return EV_OK;
}

static json_t *options_json(const ev_profile_rule *r)
{
    json_t *eo = json_object();
    for (size_t i = 0; eo && i < r->n_options; i++)
        json_object_set_new(eo, r->options[i].key, json_string(r->options[i].value));
    return eo;
}

int ev_transcode__setup_video(job *j, ost *o)
{
    int rc;
    const ev_profile *p = j->p;
    const AVCodec *codec = avcodec_find_encoder_by_name(o->rule->encoder);
    if (!codec)
        return ev_err__set(j->err, EV_EUNSUPPORTED, "encoder '%s' is not in this FFmpeg build",
                           o->rule->encoder);
    if ((rc = ev_transcode__open_decoder(&o->dec, o->ist, true, j->err)) != EV_OK)
        return rc;
    o->src_fmt = o->dec->pix_fmt;
    o->width = o->dec->width;
    o->height = o->dec->height;
    if (o->src_fmt == AV_PIX_FMT_NONE || o->width <= 0 || o->height <= 0)
        return ev_err__set(j->err, EV_EFORMAT, "stream #%d of '%s': picture size or pixel "
                           "format unknown (no decodable frame found while probing)", o->in_idx,
                           j->in);
    if ((rc = ev_transcode__choose_pix_fmt(&o->fmt, codec, o->src_fmt, o->rule)) != EV_OK)
        return ev_err__set(j->err, rc, "profile '%s' cannot store stream #%d of '%s': %s",
                           p->name, o->in_idx, j->in, o->fmt.why);
    const char *sn = av_get_pix_fmt_name((enum AVPixelFormat)o->src_fmt);
    const char *tn = av_get_pix_fmt_name((enum AVPixelFormat)o->fmt.fmt);
    if (p->level == EV_LEVEL_DECODED && o->fmt.convert && !o->fmt.repack &&
        !(o->rule->fallback_pix_fmt && o->fmt.declared && !o->rule->pix_fmt) &&
        !(j->o.flags & EV_TRANSCODE__NO_PRECHECK))
        return ev_err__set(j->err, EV_EUNSUPPORTED, "profile '%s' claims decoded-identical, but "
                           "stream #%d would be converted from %s to %s, which cannot be "
                           "lossless; use a profile that keeps the source's pixel format",
                           p->name, o->in_idx, sn, tn);
    const AVPixFmtDescriptor *td = av_pix_fmt_desc_get((enum AVPixelFormat)o->fmt.fmt);
    if (td && crops_odd_sizes(codec->name) &&
        ((o->width & ((1 << td->log2_chroma_w) - 1)) || (o->height & ((1 << td->log2_chroma_h) - 1))))
        return ev_err__set(j->err, EV_EUNSUPPORTED, "stream #%d is %dx%d: %s cannot encode "
                           "%s at that size without cropping (%s needs dimensions divisible by "
                           "%d x %d), and profile '%s' does not scale or crop", o->in_idx,
                           o->width, o->height, codec->name, tn, tn, 1 << td->log2_chroma_w,
                           1 << td->log2_chroma_h, p->name);
    o->enc = avcodec_alloc_context3(codec);
    if (!o->enc)
        return ev_err__set(j->err, EV_ENOMEM, "out of memory");
    AVCodecContext *e = o->enc;
    e->width = o->width;
    e->height = o->height;
    e->pix_fmt = (enum AVPixelFormat)o->fmt.fmt;
    e->sample_aspect_ratio = o->ist->sample_aspect_ratio.num ? o->ist->sample_aspect_ratio
                                                             : o->dec->sample_aspect_ratio;
    e->time_base = o->ist->time_base;
    e->framerate = av_guess_frame_rate(j->ic, o->ist, NULL);
    bool full = o->dec->color_range == AVCOL_RANGE_JPEG || o->src_fmt == AV_PIX_FMT_YUVJ420P || o->src_fmt == AV_PIX_FMT_YUVJ422P ||
                o->src_fmt == AV_PIX_FMT_YUVJ444P || o->src_fmt == AV_PIX_FMT_YUVJ440P ||
                o->src_fmt == AV_PIX_FMT_YUVJ411P;
    e->color_range = full ? AVCOL_RANGE_JPEG : o->dec->color_range;
    e->color_primaries = o->dec->color_primaries;
    e->color_trc = o->dec->color_trc;
    e->colorspace = o->dec->colorspace;
    e->chroma_sample_location = o->dec->chroma_sample_location;
    e->field_order = o->dec->field_order;
    if (!o->fmt.convert && o->dec->bits_per_raw_sample > 0)
        e->bits_per_raw_sample = o->dec->bits_per_raw_sample;
    if ((rc = open_encoder(j, o, codec)) != EV_OK)
        return rc;
    o->st->avg_frame_rate = o->ist->avg_frame_rate;
    o->st->r_frame_rate = o->ist->r_frame_rate;
    o->st->sample_aspect_ratio = e->sample_aspect_ratio;

    json_t *s = json_object();
    if (!s)
        return ev_err__set(j->err, EV_ENOMEM, "out of memory");
    json_object_set_new(s, "source_stream", json_integer(o->in_idx));
    json_object_set_new(s, "output_stream", json_integer(o->out_idx));
    json_object_set_new(s, "type", json_string("video"));
    json_object_set_new(s, "action", json_string("encode"));
    json_object_set_new(s, "decoder", json_string(o->dec->codec->name));
    json_object_set_new(s, "decoder_flags", json_string("bitexact, idct simple, threads auto"));
    json_object_set_new(s, "encoder", json_string(codec->name));
    json_object_set_new(s, "encoder_options", options_json(o->rule));
    json_object_set_new(s, "threads", json_integer((json_int_t)j->o.threads));
    json_object_set_new(s, "width", json_integer(o->width));
    json_object_set_new(s, "height", json_integer(o->height));
    json_object_set_new(s, "source_pix_fmt", json_string(sn));
    json_object_set_new(s, "pix_fmt", json_string(tn));
    if (o->fmt.convert)
        json_object_set_new(s, "conversion", json_pack("{s:s, s:s, s:b, s:s}", "from", sn, "to",
                                                       tn, "lossless", o->fmt.repack, "with",
                                                       EV_TRANSCODE__SWS_DESC));
    if (o->fmt.why[0])
        json_object_set_new(s, "note", json_string(o->fmt.why));
    char tb[64], fr[64];
    snprintf(tb, sizeof(tb), "%d/%d", e->time_base.num, e->time_base.den);
    snprintf(fr, sizeof(fr), "%d/%d", e->framerate.num, e->framerate.den);
    json_object_set_new(s, "time_base", json_string(tb));
    json_object_set_new(s, "frame_rate", json_string(fr));
    json_object_set_new(s, "timestamps", json_string("passthrough (source timestamps kept, no "
                                                     "frame dropped or duplicated)"));
    json_object_set_new(s, "scaling", json_string("none"));
    o->settings = s;
    if (json_object_set_new(s, "timing", timing_json(j, o)))
        return ev_err__set(j->err, EV_ENOMEM, "out of memory");
    return EV_OK;
}

static int packed_fmt(int f)
{
    return av_get_packed_sample_fmt((enum AVSampleFormat)f);
}

static bool enc_takes_sfmt(const AVCodec *c, int f)
{
    if (!c->sample_fmts)
        return true;
    for (const enum AVSampleFormat *p = c->sample_fmts; *p != AV_SAMPLE_FMT_NONE; p++)
        if ((int)*p == f)
            return true;
    return false;
}

int ev_transcode__setup_audio(job *j, ost *o)
{
    int rc, e;
    const ev_profile *p = j->p;
    bool lossless = p->level == EV_LEVEL_DECODED;
    bool precheck = !(j->o.flags & EV_TRANSCODE__NO_PRECHECK);
    if ((rc = ev_transcode__open_decoder(&o->dec, o->ist, true, j->err)) != EV_OK)
        return rc;
    AVCodecContext *d = o->dec;
    int sf = d->sample_fmt;
    int bits = d->bits_per_raw_sample;
    if (sf == AV_SAMPLE_FMT_NONE || d->sample_rate <= 0 || d->ch_layout.nb_channels <= 0)
        return ev_err__set(j->err, EV_EFORMAT, "stream #%d of '%s': audio format unknown (no "
                           "decodable frame found while probing)", o->in_idx, j->in);
    const AVCodec *codec = NULL;
    if (strcmp(o->rule->encoder, "pcm") == 0) {
        enum AVCodecID id = AV_CODEC_ID_NONE;
        switch (packed_fmt(sf)) {
        case AV_SAMPLE_FMT_U8: id = AV_CODEC_ID_PCM_U8; break;
        case AV_SAMPLE_FMT_S16: id = AV_CODEC_ID_PCM_S16LE; break;
        case AV_SAMPLE_FMT_S32:
            id = bits > 0 && bits <= 24 ? AV_CODEC_ID_PCM_S24LE : AV_CODEC_ID_PCM_S32LE;
            break;
        case AV_SAMPLE_FMT_FLT: id = AV_CODEC_ID_PCM_F32LE; break;
        case AV_SAMPLE_FMT_DBL: id = AV_CODEC_ID_PCM_F64LE; break;
        case AV_SAMPLE_FMT_S64: id = AV_CODEC_ID_PCM_S64LE; break;
        default: break;
        }
        codec = id != AV_CODEC_ID_NONE ? avcodec_find_encoder(id) : NULL;
        if (!codec)
            return ev_err__set(j->err, EV_EUNSUPPORTED, "no PCM encoder for %s samples",
                               sample_fmt_name(sf));
    } else {
        codec = avcodec_find_encoder_by_name(o->rule->encoder);
        if (!codec)
            return ev_err__set(j->err, EV_EUNSUPPORTED, "encoder '%s' is not in this FFmpeg "
                               "build", o->rule->encoder);
    }
    if (codec->id == AV_CODEC_ID_FLAC && precheck) {
        if (packed_fmt(sf) == AV_SAMPLE_FMT_FLT || packed_fmt(sf) == AV_SAMPLE_FMT_DBL)
            return ev_err__set(j->err, EV_EUNSUPPORTED, "refusing float audio (%s, stream #%d) "
                               "into FLAC: FLAC stores integers and FFmpeg would silently turn "
                               "the samples into 24-bit integers, which is lossy; keep it as WAV "
                               "(profile audio-wav) or copy it", sample_fmt_name(sf), o->in_idx);
        if (packed_fmt(sf) == AV_SAMPLE_FMT_S32 && (bits <= 0 || bits > 24))
            return ev_err__set(j->err, EV_EUNSUPPORTED, "stream #%d has 32-bit integer samples; "
                               "FLAC in this FFmpeg version stores at most 24 bits, so the "
                               "copy would not be lossless; keep it as WAV (audio-wav)",
                               o->in_idx);
    }
    int tf;
    if (o->rule->sample_fmt)
        tf = av_get_sample_fmt(o->rule->sample_fmt);
    else if (enc_takes_sfmt(codec, sf))
        tf = sf;
    else if (enc_takes_sfmt(codec, packed_fmt(sf)))
        tf = packed_fmt(sf);
    else if (enc_takes_sfmt(codec, av_get_planar_sample_fmt((enum AVSampleFormat)sf)))
        tf = av_get_planar_sample_fmt((enum AVSampleFormat)sf);
    else if (lossless && precheck)
        return ev_err__set(j->err, EV_EUNSUPPORTED, "profile '%s' claims decoded-identical, but "
                           "encoder %s cannot store %s samples (stream #%d) without converting "
                           "them", p->name, codec->name, sample_fmt_name(sf), o->in_idx);
    else
        tf = codec->sample_fmts ? codec->sample_fmts[0] : sf;
    if (!enc_takes_sfmt(codec, tf))
        return ev_err__set(j->err, EV_EUNSUPPORTED, "encoder %s cannot take %s samples",
                           codec->name, sample_fmt_name(tf));
    if (lossless && precheck && packed_fmt(tf) != packed_fmt(sf))
        return ev_err__set(j->err, EV_EUNSUPPORTED, "profile '%s' claims decoded-identical, but "
                           "stream #%d would be converted from %s to %s samples", p->name,
                           o->in_idx, sample_fmt_name(sf), sample_fmt_name(tf));
    int rate = o->rule->sample_rate ? o->rule->sample_rate : d->sample_rate;
    if (codec->supported_samplerates) {
        bool ok = false;
        for (const int *r = codec->supported_samplerates; *r; r++)
            ok |= *r == rate;
        if (!ok) {
            if (lossless && precheck)
                return ev_err__set(j->err, EV_EUNSUPPORTED, "encoder %s cannot store %d Hz "
                                   "audio (stream #%d) without resampling", codec->name, rate,
                                   o->in_idx);
            int best = codec->supported_samplerates[0];
            for (const int *r = codec->supported_samplerates; *r; r++)
                if (abs(*r - rate) < abs(best - rate))
                    best = *r;
            ev_transcode__note(j, "stream #%d resampled from %d Hz to %d Hz (encoder %s)", o->in_idx, rate,
                 best, codec->name);
            rate = best;
        }
    }
    if (lossless && precheck && rate != d->sample_rate)
        return ev_err__set(j->err, EV_EUNSUPPORTED, "profile '%s' claims decoded-identical, but "
                           "stream #%d would be resampled", p->name, o->in_idx);
    o->enc = avcodec_alloc_context3(codec);
    if (!o->enc)
        return ev_err__set(j->err, EV_ENOMEM, "out of memory");
    AVCodecContext *en = o->enc;
    en->sample_fmt = (enum AVSampleFormat)tf;
    en->sample_rate = rate;
    if (d->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
        av_channel_layout_default(&en->ch_layout, d->ch_layout.nb_channels);
    else if (av_channel_layout_copy(&en->ch_layout, &d->ch_layout) < 0)
        return ev_err__set(j->err, EV_ENOMEM, "out of memory");
    en->time_base = (AVRational){ 1, rate };
    if (packed_fmt(tf) == packed_fmt(sf) && bits > 0)
        en->bits_per_raw_sample = bits;
    if ((rc = open_encoder(j, o, codec)) != EV_OK)
        return rc;

    /* filter graph: abuffer -> aformat -> abuffersink (frame size for the
     * encoder); a no-op when nothing needs converting */
    char layout[128], args[512];
    AVChannelLayout in_l;
    memset(&in_l, 0, sizeof(in_l));
    if (d->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
        av_channel_layout_default(&in_l, d->ch_layout.nb_channels);
    else
        av_channel_layout_copy(&in_l, &d->ch_layout);
    av_channel_layout_describe(&in_l, layout, sizeof(layout));
    av_channel_layout_uninit(&in_l);
    char out_layout[128];
    av_channel_layout_describe(&en->ch_layout, out_layout, sizeof(out_layout));
    if (!j->avf && (rc = ev_transcode__avfilter(&j->avf, j->err)) != EV_OK)
        return rc;
    const ev_avfilter_api *af = j->avf;
    o->graph = af->graph_alloc();
    if (!o->graph)
        return ev_err__set(j->err, EV_ENOMEM, "out of memory");
    o->graph->nb_threads = 1;
    snprintf(args, sizeof(args), "time_base=1/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s",
             d->sample_rate, d->sample_rate, sample_fmt_name(sf), layout);
    e = af->graph_create_filter(&o->asrc, af->get_by_name("abuffer"), "in", args, NULL,
                                o->graph);
    if (e >= 0)
        e = af->graph_create_filter(&o->asink, af->get_by_name("abuffersink"), "out", NULL,
                                    NULL, o->graph);
    AVFilterContext *fmt = NULL;
    snprintf(o->filter_desc, sizeof(o->filter_desc),
             "aformat=sample_fmts=%s:sample_rates=%d:channel_layouts=%s", sample_fmt_name(tf),
             rate, out_layout);
    if (e >= 0)
        e = af->graph_create_filter(&fmt, af->get_by_name("aformat"), "fmt",
                                    o->filter_desc + 8, NULL, o->graph);
    if (e >= 0)
        e = af->link(o->asrc, 0, fmt, 0);
    if (e >= 0)
        e = af->link(fmt, 0, o->asink, 0);
    if (e >= 0)
        e = af->graph_config(o->graph, NULL);
    if (e < 0)
        return ev_transcode__averr(j->err, e, "stream #%d: audio filter '%s'", o->in_idx,
                                   o->filter_desc);
    if (!(codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE) && en->frame_size > 0)
        af->buffersink_set_frame_size(o->asink, (unsigned)en->frame_size);

    json_t *s = json_object();
    if (!s)
        return ev_err__set(j->err, EV_ENOMEM, "out of memory");
    json_object_set_new(s, "source_stream", json_integer(o->in_idx));
    json_object_set_new(s, "output_stream", json_integer(o->out_idx));
    json_object_set_new(s, "type", json_string("audio"));
    json_object_set_new(s, "action", json_string("encode"));
    json_object_set_new(s, "decoder", json_string(d->codec->name));
    json_object_set_new(s, "encoder", json_string(codec->name));
    json_object_set_new(s, "encoder_options", options_json(o->rule));
    json_object_set_new(s, "source_sample_fmt", json_string(sample_fmt_name(sf)));
    json_object_set_new(s, "sample_fmt", json_string(sample_fmt_name(tf)));
    if (bits > 0)
        json_object_set_new(s, "bits_per_raw_sample", json_integer(bits));
    json_object_set_new(s, "source_sample_rate", json_integer(d->sample_rate));
    json_object_set_new(s, "sample_rate", json_integer(rate));
    json_object_set_new(s, "channel_layout", json_string(out_layout));
    json_object_set_new(s, "filter", json_string(o->filter_desc));
    if (en->frame_size > 0)
        json_object_set_new(s, "frame_size", json_integer(en->frame_size));
    o->settings = s;
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* Container metadata                                                        */
/* ------------------------------------------------------------------------ */

static const char *const apple_loc = "com.apple.quicktime.location.ISO6709";

bool ev_transcode__is_location_key(const char *k)
{
    return strncasecmp(k, "location", 8) == 0 || strcasecmp(k, apple_loc) == 0;
}

/* The source's location string, as stored (no conversion). */
static const char *find_location(const AVDictionary *m)
{
    const AVDictionaryEntry *t = av_dict_get(m, apple_loc, NULL, 0);
    if (!t)
        t = av_dict_get(m, "location", NULL, 0);
    if (!t) {
        const AVDictionaryEntry *x = NULL;
        while ((x = av_dict_get(m, "", x, AV_DICT_IGNORE_SUFFIX)))
            if (strncasecmp(x->key, "location", 8) == 0) {
                t = x;
                break;
            }
    }
    return t ? t->value : NULL;
}

static bool is_mov_muxer(const char *n)
{
    return strcmp(n, "mp4") == 0 || strcmp(n, "mov") == 0 || strcmp(n, "ipod") == 0 ||
           strcmp(n, "3gp") == 0 || strcmp(n, "3g2") == 0 || strcmp(n, "psp") == 0 ||
           strcmp(n, "f4v") == 0 || strcmp(n, "ismv") == 0;
}

int ev_transcode__setup_container_meta(job *j, AVDictionary **mux_opts)
{
    const ev_profile *p = j->p;
    if (p->meta_container_tags == EV_META_COPY) {
        const AVDictionaryEntry *t = NULL;
        while ((t = av_dict_get(j->ic->metadata, "", t, AV_DICT_IGNORE_SUFFIX)))
            if (!ev_transcode__strip_tag(t->key) && !ev_transcode__is_location_key(t->key))
                av_dict_set(&j->oc->metadata, t->key, t->value, 0);
    } else {
        const AVDictionaryEntry *t = av_dict_get(j->ic->metadata, "creation_time", NULL, 0);
        if (t && p->meta_creation_time == EV_META_COPY)
            av_dict_set(&j->oc->metadata, "creation_time", t->value, 0);
    }
    if (p->meta_creation_time == EV_META_DROP)
        av_dict_set(&j->oc->metadata, "creation_time", NULL, 0);
    /* The stored value, not FFmpeg's rendering (4 decimals for loci): a
     * loci position is written out exactly (16.16 fixed point has at most
     * 16 decimals), an ISO 6709 string as it is. */
    const char *loc = j->has_src_loc ? j->src_loc.raw : find_location(j->ic->metadata);
    if (loc && p->meta_location == EV_META_VERBATIM) {
        const char *mux = j->oc->oformat->name;
        if (strcmp(mux, "mov") == 0) {
            av_dict_set(&j->oc->metadata, "location", loc, 0); /* written as (c)xyz, verbatim */
        } else if (is_mov_muxer(mux)) {
            /* The MP4 muxer would write "location" as a 3GPP loci box in
             * 16.16 fixed point (rounded); the Apple ISO 6709 key keeps the
             * string as it is. It needs movflags +use_metadata_tags. */
            av_dict_set(&j->oc->metadata, apple_loc, loc, 0);
            const AVDictionaryEntry *mf = av_dict_get(*mux_opts, "movflags", NULL, 0);
            if (!mf || !strstr(mf->value, "use_metadata_tags")) {
                char *v = ev__asprintf("%s+use_metadata_tags", mf ? mf->value : "");
                if (!v)
                    return ev_err__set(j->err, EV_ENOMEM, "out of memory");
                av_dict_set(mux_opts, "movflags", v, 0);
                ev_transcode__note(j, "movflags +use_metadata_tags added so that the location is written "
                     "verbatim (movflags %s)", v);
                free(v);
            }
        } else {
            av_dict_set(&j->oc->metadata, "location", loc, 0);
        }
    }
    return EV_OK;
}
