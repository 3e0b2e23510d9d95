/*
 * transcode: run a profile on one file (libavformat/libavcodec/libavfilter/
 * libswscale), write the copy atomically, verify it against the source and
 * build the derivation record. Also the public ev_transcode_* façade.
 *
 * Order of work for audio/video:
 *   plan (which stream is copied, encoded, dropped; refusals) ->
 *   open encoders and muxer -> one pass: packets copied or decoded, converted
 *   and encoded -> trailer, fsync -> output SHA-256 -> verification ->
 *   metadata read-back -> rename into place (only on success).
 * The source's SHA-256 is computed by a second thread during the pass.
 */
#include "transcode/transcode.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/time.h>
#include <libswscale/swscale.h>

#include "transcode/conform.h"
#include "base/hash.h"
#include "base/publish.h"
#include "transcode/transcode_int.h"

/* ------------------------------------------------------------------------ */
/* Job state                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct ost {
    int in_idx, out_idx;
    ev_stype type;
    ev_action action;
    const ev_profile_rule *rule;
    AVStream *ist, *st;
    AVCodecContext *dec, *enc;
    /* video */
    ev_fmt_choice fmt;
    struct SwsContext *sws;
    int width, height, src_fmt;
    int64_t last_pts;
    int64_t last_mux_dts;    /* copy: last DTS written, output time base */
    int64_t ts_fixed;        /* copy: packets whose DTS had to be raised */
    /* audio */
    AVFilterGraph *graph;
    AVFilterContext *asrc, *asink;
    char filter_desc[320];
    /* counters */
    int64_t frames_in, frames_out, packets_in, packets_out;
    int nal_len;             /* copy: H.264/HEVC length-prefixed NAL units, bytes per
                                length (1..4); 0 = not checked */
    json_t *settings;
} ost;

typedef struct job {
    const ev_profile *p;
    const char *in, *out;
    char *tmp;
    ev_transcode__opts o;
    ev_errbuf *err;
    AVFormatContext *ic, *oc;
    ev_srcread *src;        /* the source, read once for demuxing and hashing */
    ost *os;
    size_t n_os;
    int map[EV_TC_MAX_STREAMS];
    /* MP4/MOV: samples in each stream's sample table (edit lists ignored) and
     * packets the demuxer's index promises (edit lists applied); 0 = unknown */
    int64_t table_pkts[EV_TC_MAX_STREAMS], index_pkts[EV_TC_MAX_STREAMS];
    ev_tc_loc src_loc;      /* the source's location as stored */
    bool has_src_loc;
    json_t *dropped;
    json_t *notes;
    json_t *muxer_options;
    int64_t last_progress;
    AVPacket *pkt, *epkt;
    AVFrame *frame, *ffr;
} job;

static void note(job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(job *j, const char *fmt, ...)
{
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof(b), fmt, ap);
    va_end(ap);
    json_array_append_new(j->notes, json_string(b));
}

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

static int plan(job *j)
{
    const ev_profile *p = j->p;
    AVFormatContext *ic = j->ic;
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
            drop(j, st, "the profile's rule drops it");
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

static bool strip_tag(const char *k)
{
    static const char *const skip[] = { "encoder", "DURATION", "NUMBER_OF_FRAMES",
                                        "NUMBER_OF_BYTES", "BPS", "major_brand", "minor_version",
                                        "compatible_brands", NULL };
    for (size_t i = 0; skip[i]; i++)
        if (strcasecmp(k, skip[i]) == 0)
            return true;
    return strncmp(k, "_STATISTICS", 11) == 0 || strncasecmp(k, "DURATION-", 9) == 0;
}

static void copy_stream_meta(job *j, ost *o)
{
    if (j->p->meta_stream_tags == EV_META_COPY) {
        const AVDictionaryEntry *t = NULL;
        while ((t = av_dict_get(o->ist->metadata, "", t, AV_DICT_IGNORE_SUFFIX)))
            if (!strip_tag(t->key) &&
                !(j->p->meta_creation_time == EV_META_DROP &&
                  strcasecmp(t->key, "creation_time") == 0))
                av_dict_set(&o->st->metadata, t->key, t->value, 0);
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

static int setup_copy(job *j, ost *o)
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
    copy_stream_meta(j, o);
    o->settings = json_pack("{s:i, s:i, s:s, s:s, s:s}", "source_stream", o->in_idx,
                            "output_stream", o->out_idx, "type",
                            ev_profile__stype_name(o->type), "action", "copy", "codec",
                            avcodec_get_name(cp->codec_id));
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

static int setup_video(job *j, ost *o)
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

static int setup_audio(job *j, ost *o)
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
            note(j, "stream #%d resampled from %d Hz to %d Hz (encoder %s)", o->in_idx, rate,
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
    o->graph = avfilter_graph_alloc();
    if (!o->graph)
        return ev_err__set(j->err, EV_ENOMEM, "out of memory");
    o->graph->nb_threads = 1;
    snprintf(args, sizeof(args), "time_base=1/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s",
             d->sample_rate, d->sample_rate, sample_fmt_name(sf), layout);
    e = avfilter_graph_create_filter(&o->asrc, avfilter_get_by_name("abuffer"), "in", args,
                                     NULL, o->graph);
    if (e >= 0)
        e = avfilter_graph_create_filter(&o->asink, avfilter_get_by_name("abuffersink"), "out",
                                         NULL, NULL, o->graph);
    AVFilterContext *fmt = NULL;
    snprintf(o->filter_desc, sizeof(o->filter_desc),
             "aformat=sample_fmts=%s:sample_rates=%d:channel_layouts=%s", sample_fmt_name(tf),
             rate, out_layout);
    if (e >= 0)
        e = avfilter_graph_create_filter(&fmt, avfilter_get_by_name("aformat"), "fmt",
                                         o->filter_desc + 8, NULL, o->graph);
    if (e >= 0)
        e = avfilter_link(o->asrc, 0, fmt, 0);
    if (e >= 0)
        e = avfilter_link(fmt, 0, o->asink, 0);
    if (e >= 0)
        e = avfilter_graph_config(o->graph, NULL);
    if (e < 0)
        return ev_transcode__averr(j->err, e, "stream #%d: audio filter '%s'", o->in_idx,
                                   o->filter_desc);
    if (!(codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE) && en->frame_size > 0)
        av_buffersink_set_frame_size(o->asink, (unsigned)en->frame_size);

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

static bool is_location_key(const char *k)
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

static int setup_container_meta(job *j, AVDictionary **mux_opts)
{
    const ev_profile *p = j->p;
    if (p->meta_container_tags == EV_META_COPY) {
        const AVDictionaryEntry *t = NULL;
        while ((t = av_dict_get(j->ic->metadata, "", t, AV_DICT_IGNORE_SUFFIX)))
            if (!strip_tag(t->key) && !is_location_key(t->key))
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
                note(j, "movflags +use_metadata_tags added so that the location is written "
                     "verbatim (movflags %s)", v);
                free(v);
            }
        } else {
            av_dict_set(&j->oc->metadata, "location", loc, 0);
        }
    }
    return EV_OK;
}

static double rotation_of(const AVStream *st, bool *has)
{
    size_t size = 0;
    const uint8_t *sd = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    *has = sd && size >= 9 * sizeof(int32_t);
    if (!*has)
        return 0;
    double r = av_display_rotation_get((const int32_t *)sd);
    return isnan(r) ? 0 : r;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *compare_field(const char *a, const char *b, json_t *problems, const char *what,
                             bool strict)
{
    const char *status = !a && !b ? "absent" : a && !b ? "dropped" : !a && b ? "added"
                       : strcmp(a, b) == 0 ? "kept" : "changed";
    if (strict && strcmp(status, "changed") == 0) {
        char m[256];
        snprintf(m, sizeof(m), "%s changed: source '%.80s', copy '%.80s'", what, a, b);
        json_array_append_new(problems, json_string(m));
    }
    return json_pack("{s:o, s:o, s:s}", "source", str_or_null(a), "output", str_or_null(b),
                     "status", status);
}

/* Read the copy back and list what was kept, changed or dropped. */
static json_t *metadata_report(job *j, const char *out_path, json_t *problems)
{
    AVFormatContext *oc = NULL;
    ev_errbuf e2;
    json_t *m = json_object();
    if (!m)
        return NULL;
    if (ev_transcode__open_input(&oc, out_path, &e2) != EV_OK) {
        json_object_set_new(m, "error", json_string(e2.msg));
        json_array_append_new(problems, json_string("the copy cannot be opened to read its "
                                                    "metadata back"));
        return m;
    }
    const AVDictionaryEntry *a = av_dict_get(j->ic->metadata, "creation_time", NULL, 0);
    const AVDictionaryEntry *b = av_dict_get(oc->metadata, "creation_time", NULL, 0);
    json_object_set_new(m, "creation_time", compare_field(a ? a->value : NULL,
                                                          b ? b->value : NULL, problems,
                                                          "creation_time", false));
    ev_tc_loc lo;
    bool has_lo = ev_transcode__stored_location(&lo, oc, out_path);
    json_t *loc = ev_transcode__location_report(j->has_src_loc ? &j->src_loc : NULL,
                                               has_lo ? &lo : NULL, problems,
                                               j->p->meta_location == EV_META_VERBATIM);
    if (j->has_src_loc)
        json_object_set_new(loc, "policy", json_string(j->p->meta_location == EV_META_VERBATIM
                                                       ? "verbatim" : "drop"));
    json_object_set_new(m, "location", loc);
    json_t *rot = json_array();
    for (size_t i = 0; i < j->n_os; i++) {
        ost *o = &j->os[i];
        if (o->type != EV_ST_VIDEO || (unsigned)o->out_idx >= oc->nb_streams)
            continue;
        bool ha, hb;
        double ra = rotation_of(o->ist, &ha), rb = rotation_of(oc->streams[o->out_idx], &hb);
        if (!ha && !hb)
            continue;
        const char *status = ha && hb && fabs(ra - rb) < 0.01 ? "kept" : ha && !hb ? "dropped"
                           : !ha ? "added" : "changed";
        json_t *r = json_pack("{s:i, s:i, s:o, s:o, s:s}", "source_stream", o->in_idx,
                              "output_stream", o->out_idx, "source_degrees",
                              ha ? json_real(ra) : json_null(), "output_degrees",
                              hb ? json_real(rb) : json_null(), "status", status);
        if (strcmp(status, "dropped") == 0)
            json_object_set_new(r, "note", json_string("the output container (as written by "
                               "this FFmpeg version) has no display matrix; the rotation is "
                               "recorded here, pixels are not rotated"));
        json_array_append_new(rot, r);
    }
    json_object_set_new(m, "rotation", rot);
    /* other container tags */
    json_t *kept = json_array(), *changed = json_array(), *dropped = json_array(),
           *added = json_array();
    const AVDictionaryEntry *t = NULL;
    while ((t = av_dict_get(j->ic->metadata, "", t, AV_DICT_IGNORE_SUFFIX))) {
        if (strip_tag(t->key) || is_location_key(t->key) || strcasecmp(t->key, "creation_time") == 0)
            continue;
        const AVDictionaryEntry *u = av_dict_get(oc->metadata, t->key, NULL, 0);
        if (!u)
            json_array_append_new(dropped, json_string(t->key));
        else if (strcmp(u->value, t->value) == 0)
            json_array_append_new(kept, json_string(t->key));
        else
            json_array_append_new(changed, json_pack("{s:s, s:s, s:s}", "key", t->key, "source",
                                                     t->value, "output", u->value));
    }
    t = NULL;
    while ((t = av_dict_get(oc->metadata, "", t, AV_DICT_IGNORE_SUFFIX))) {
        if (strip_tag(t->key) || is_location_key(t->key) || strcasecmp(t->key, "creation_time") == 0)
            continue;
        if (!av_dict_get(j->ic->metadata, t->key, NULL, 0))
            json_array_append_new(added, json_string(t->key));
    }
    json_object_set_new(m, "container_tags", json_pack("{s:o, s:o, s:o, s:o}", "kept", kept,
                                                       "changed", changed, "dropped", dropped,
                                                       "added", added));
    avformat_close_input(&oc);
    return m;
}

/* ------------------------------------------------------------------------ */
/* The pass                                                                  */
/* ------------------------------------------------------------------------ */

static int write_pkt(job *j, ost *o, AVPacket *pkt)
{
    pkt->stream_index = o->out_idx;
    pkt->pos = -1;
    int e = av_interleaved_write_frame(j->oc, pkt);
    if (e < 0) {
        int rc = ev_transcode__averr(j->err, e, "writing packet %lld of output stream #%d "
                                     "failed (damaged or out-of-order timestamps in the "
                                     "source, or a write error)", (long long)o->packets_out,
                                     o->out_idx);
        return rc == EV_ERROR ? EV_EFORMAT : rc;
    }
    o->packets_out++;
    return EV_OK;
}

static int drain_encoder(job *j, ost *o)
{
    for (;;) {
        int e = avcodec_receive_packet(o->enc, j->epkt);
        if (e == AVERROR(EAGAIN) || e == AVERROR_EOF)
            return EV_OK;
        if (e < 0)
            return ev_transcode__averr(j->err, e, "stream #%d: encoder %s failed", o->in_idx,
                                       o->enc->codec->name);
        av_packet_rescale_ts(j->epkt, o->enc->time_base, o->st->time_base);
        int rc = write_pkt(j, o, j->epkt);
        av_packet_unref(j->epkt);
        if (rc != EV_OK)
            return rc;
    }
}

/* Copied packets whose DTS does not increase (a damaged or spliced source)
 * would make the muxer refuse the whole copy. They are kept, with the DTS
 * raised to the smallest value the muxer accepts, as the ffmpeg command line
 * does; the count is recorded. Payloads are never touched. */
static void fix_dts(job *j, ost *o, AVPacket *pkt)
{
    if (pkt->dts != AV_NOPTS_VALUE && pkt->pts != AV_NOPTS_VALUE && pkt->dts > pkt->pts)
        pkt->dts = pkt->pts;
    if (pkt->dts != AV_NOPTS_VALUE && o->last_mux_dts != AV_NOPTS_VALUE) {
        int64_t max = o->last_mux_dts + !(j->oc->oformat->flags & AVFMT_TS_NONSTRICT);
        if (pkt->dts < max) {
            if (pkt->pts != AV_NOPTS_VALUE && pkt->pts >= pkt->dts)
                pkt->pts = FFMAX(pkt->pts, max);
            pkt->dts = max;
            o->ts_fixed++;
        }
    }
    if (pkt->dts != AV_NOPTS_VALUE)
        o->last_mux_dts = pkt->dts;
}

static int encode_frame(job *j, ost *o, AVFrame *f)
{
    int e = avcodec_send_frame(o->enc, f);
    if (e < 0)
        return ev_transcode__averr(j->err, e, "stream #%d: encoder %s refused frame %lld",
                                   o->in_idx, o->enc->codec->name, (long long)o->frames_out);
    if (f)
        o->frames_out++;
    return drain_encoder(j, o);
}

static int pull_audio(job *j, ost *o, bool flush)
{
    for (;;) {
        int e = av_buffersink_get_frame(o->asink, j->ffr);
        if (e == AVERROR(EAGAIN) || e == AVERROR_EOF)
            break;
        if (e < 0)
            return ev_transcode__averr(j->err, e, "stream #%d: audio filter", o->in_idx);
        j->ffr->pict_type = AV_PICTURE_TYPE_NONE;
        int rc = encode_frame(j, o, j->ffr);
        av_frame_unref(j->ffr);
        if (rc != EV_OK)
            return rc;
    }
    if (flush)
        return encode_frame(j, o, NULL);
    return EV_OK;
}

static int damaged(job *j, ost *o, const char *what)
{
    double t = o->last_pts != AV_NOPTS_VALUE ? (double)o->last_pts * av_q2d(o->ist->time_base) : 0;
    return ev_err__set(j->err, EV_EFORMAT, "'%s' is damaged: stream #%d, after %lld decoded "
                       "frames (t=%.3f s): %s; no copy was made, because it would not be "
                       "faithful (check the master with 'evidence check')", j->in, o->in_idx,
                       (long long)o->frames_in, t, what);
}

/* Damaged input into a copy: refused (EV_EFORMAT), naming the file and what
 * is wrong where, and what to do instead. */
static int refuse_damaged(job *j, const char *what)
{
    return ev_err__set(j->err, EV_EFORMAT, "'%s' is damaged: %s; no copy was made, because "
                       "it would not hold what the file claims to hold. Keep the file as it "
                       "is with the master profile, or see the damage with 'evidence check "
                       "--profile archive-ffv1 %s' (rule decodes_cleanly)", j->in, what, j->in);
}

/* A copied packet is passed on as it is, so the demuxer's and the codec
 * packaging's own consistency are all there is to check without decoding:
 * a packet the demuxer marks corrupt (a short read: the file ends inside it),
 * and for length-prefixed H.264/HEVC, NAL unit lengths that must tile the
 * packet exactly, each unit with its forbidden bit clear. */
static int check_copied_packet(job *j, ost *o, const AVPacket *pkt)
{
    char what[400];
    const char *codec = avcodec_get_name(o->ist->codecpar->codec_id);
    if (pkt->flags & AV_PKT_FLAG_CORRUPT) {
        snprintf(what, sizeof(what), "stream #%d (%s), packet %lld at byte %lld is cut short "
                 "or corrupt (the demuxer could not read it whole)", o->in_idx, codec,
                 (long long)o->packets_in, (long long)pkt->pos);
        return refuse_damaged(j, what);
    }
    if (o->nal_len <= 0)
        return EV_OK;
    const uint8_t *p = pkt->data;
    size_t left = (size_t)pkt->size, L = (size_t)o->nal_len;
    int64_t unit = 0;
    while (left >= L) {
        size_t len = 0;
        for (size_t i = 0; i < L; i++)
            len = len << 8 | p[i];
        p += L;
        left -= L;
        if (len > left) {
            snprintf(what, sizeof(what), "stream #%d (%s), packet %lld at byte %lld: NAL unit "
                     "%lld claims %zu bytes, but only %zu are left in the packet", o->in_idx,
                     codec, (long long)o->packets_in, (long long)pkt->pos, (long long)unit,
                     len, left);
            return refuse_damaged(j, what);
        }
        if (len && (p[0] & 0x80)) {
            snprintf(what, sizeof(what), "stream #%d (%s), packet %lld at byte %lld: NAL unit "
                     "%lld has its forbidden bit set", o->in_idx, codec,
                     (long long)o->packets_in, (long long)pkt->pos, (long long)unit);
            return refuse_damaged(j, what);
        }
        p += len;
        left -= len;
        unit++;
    }
    return EV_OK;
}

/* MP4/MOV: every sample the index lists must lie inside the file. The
 * sample table is read with edit lists ignored, so that samples an edit list
 * leaves out (priming, padding, trimmed ends) are checked too, and counted:
 * an edit list is not truncation. */
static int check_index(job *j)
{
    if (strncmp(j->ic->iformat->name, "mov,", 4) != 0)
        return EV_OK;
    unsigned n = j->ic->nb_streams < EV_TC_MAX_STREAMS ? j->ic->nb_streams : EV_TC_MAX_STREAMS;
    for (unsigned i = 0; i < n; i++)
        j->index_pkts[i] = avformat_index_get_entries_count(j->ic->streams[i]);
    ev_errbuf e2;
    int rc = ev_transcode__mov_sample_table(j->table_pkts, n, j->in, &e2);
    if (rc == EV_EFORMAT)
        return refuse_damaged(j, e2.msg);
    if (rc == EV_ENOMEM)
        return ev_err__set(j->err, EV_ENOMEM, "out of memory");
    int64_t size = avio_size(j->ic->pb);
    for (unsigned i = 0; i < n && size > 0; i++) {
        AVStream *st = j->ic->streams[i];
        int cnt = avformat_index_get_entries_count(st);
        for (int k = 0; k < cnt; k++) {
            const AVIndexEntry *e = avformat_index_get_entry(st, k);
            if (e && e->pos >= 0 && e->pos + e->size > size) {
                char what[300];
                snprintf(what, sizeof(what), "the file is truncated: stream #%u (%s), "
                         "sample %d of %d lies at bytes %lld-%lld, but the file ends at byte "
                         "%lld", i, avcodec_get_name(st->codecpar->codec_id), k, cnt,
                         (long long)e->pos, (long long)(e->pos + e->size), (long long)size);
                return refuse_damaged(j, what);
            }
        }
    }
    return EV_OK;
}

static int on_frame(job *j, ost *o, AVFrame *f)
{
    if (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT))
        return damaged(j, o, "the decoder had to conceal errors in a frame");
    int64_t pts = f->best_effort_timestamp;
    if (o->type == EV_ST_VIDEO) {
        if (f->width != o->width || f->height != o->height ||
            !ev_transcode__same_layout(f->format, o->src_fmt))
            return ev_err__set(j->err, EV_EUNSUPPORTED, "stream #%d changes picture size or "
                               "format at frame %lld (%dx%d %s, was %dx%d %s); this is not "
                               "supported", o->in_idx, (long long)o->frames_in, f->width,
                               f->height, av_get_pix_fmt_name((enum AVPixelFormat)f->format),
                               o->width, o->height,
                               av_get_pix_fmt_name((enum AVPixelFormat)o->src_fmt));
        if (pts == AV_NOPTS_VALUE) {
            int64_t step = 1;
            AVRational fr = av_guess_frame_rate(j->ic, o->ist, NULL);
            if (fr.num > 0)
                step = av_rescale_q(1, av_inv_q(fr), o->ist->time_base);
            pts = o->last_pts == AV_NOPTS_VALUE ? 0 : o->last_pts + (step > 0 ? step : 1);
        }
        if (o->last_pts != AV_NOPTS_VALUE && pts <= o->last_pts)
            return damaged(j, o, "timestamps go backwards or repeat");
        o->last_pts = pts;
        o->frames_in++;
        f->pts = pts;
        f->pict_type = AV_PICTURE_TYPE_NONE;
        if (o->fmt.convert) {
            AVFrame *c = NULL;
            int rc = ev_transcode__convert(&c, f, o->fmt.fmt, &o->sws);
            if (rc != EV_OK)
                return ev_err__set(j->err, rc, "stream #%d: pixel format conversion failed",
                                   o->in_idx);
            c->pts = pts;
            c->pict_type = AV_PICTURE_TYPE_NONE;
            rc = encode_frame(j, o, c);
            av_frame_free(&c);
            return rc;
        }
        if (!ev_transcode__same_layout(f->format, o->fmt.fmt) || f->format != o->fmt.fmt) {
            f->format = o->fmt.fmt; /* full-range alias: same bytes */
            f->color_range = AVCOL_RANGE_JPEG;
        }
        return encode_frame(j, o, f);
    }
    /* audio */
    if (pts != AV_NOPTS_VALUE)
        o->last_pts = pts;
    o->frames_in++;
    f->pts = pts == AV_NOPTS_VALUE ? AV_NOPTS_VALUE
           : av_rescale_q(pts, o->ist->time_base, (AVRational){ 1, f->sample_rate });
    int e = av_buffersrc_add_frame_flags(o->asrc, f, AV_BUFFERSRC_FLAG_KEEP_REF);
    if (e < 0)
        return ev_transcode__averr(j->err, e, "stream #%d: audio filter input", o->in_idx);
    return pull_audio(j, o, false);
}

static int drain_decoder(job *j, ost *o)
{
    for (;;) {
        int e = avcodec_receive_frame(o->dec, j->frame);
        if (e == AVERROR(EAGAIN) || e == AVERROR_EOF)
            return EV_OK;
        if (e < 0) {
            char eb[AV_ERROR_MAX_STRING_SIZE];
            av_strerror(e, eb, sizeof(eb));
            return damaged(j, o, eb);
        }
        int rc = on_frame(j, o, j->frame);
        av_frame_unref(j->frame);
        if (rc != EV_OK)
            return rc;
    }
}

static int progress(job *j, bool final)
{
    if (!j->o.progress_cb)
        return EV_OK;
    int64_t now = av_gettime_relative();
    if (!final && now - j->last_progress < 100000)
        return EV_OK;
    j->last_progress = now;
    int64_t pos = avio_tell(j->ic->pb), tot = avio_size(j->ic->pb);
    ev_progress pr = { EV_PROGRESS_VERSION, "transcoding", j->in,
                       (uint64_t)(final ? (tot > 0 ? tot : 0) : (pos > 0 ? pos : 0)),
                       (uint64_t)(tot > 0 ? tot : 0), final ? 1 : 0, 1 };
    if (j->o.progress_cb(&pr, j->o.progress_payload))
        return ev_err__set(j->err, EV_ECANCELED, "canceled by callback");
    return EV_OK;
}

static int run_pass(job *j)
{
    int rc = EV_OK;
    /* streams that appear after the header (MPEG-TS) are not in the plan */
    unsigned n0 = j->ic->nb_streams;
    int64_t *read_pkts = ev__calloc(n0 ? n0 : 1, sizeof(int64_t));
    if (!read_pkts)
        return ev_err__set(j->err, EV_ENOMEM, "out of memory");
    for (;;) {
        int e = av_read_frame(j->ic, j->pkt);
        if (e == AVERROR_EOF)
            break;
        if (e < 0) {
            char eb[AV_ERROR_MAX_STRING_SIZE], what[300];
            av_strerror(e, eb, sizeof(eb));
            snprintf(what, sizeof(what), "it cannot be read to its end (the demuxer stopped "
                     "after byte %lld: %s)", (long long)avio_tell(j->ic->pb), eb);
            rc = e == AVERROR(ENOMEM) ? ev_err__set(j->err, EV_ENOMEM, "out of memory")
               : e == AVERROR(EIO) ? ev_transcode__averr(j->err, e, "read error in '%s'", j->in)
               : refuse_damaged(j, what);
            goto done;
        }
        unsigned si = (unsigned)j->pkt->stream_index;
        int k = si < n0 && si < EV_TC_MAX_STREAMS ? j->map[si] : -1;
        if (si < n0)
            read_pkts[si]++;
        if (k < 0) {
            av_packet_unref(j->pkt);
            continue;
        }
        ost *o = &j->os[k];
        if (o->action == EV_ACTION_COPY && (rc = check_copied_packet(j, o, j->pkt)) != EV_OK) {
            av_packet_unref(j->pkt);
            goto done;
        }
        o->packets_in++;
        if (o->action == EV_ACTION_COPY) {
            if (j->pkt->pts != AV_NOPTS_VALUE)
                o->last_pts = j->pkt->pts;
            av_packet_rescale_ts(j->pkt, o->ist->time_base, o->st->time_base);
            fix_dts(j, o, j->pkt);
            rc = write_pkt(j, o, j->pkt);
            av_packet_unref(j->pkt);
        } else {
            e = avcodec_send_packet(o->dec, j->pkt);
            av_packet_unref(j->pkt);
            if (e < 0 && e != AVERROR(EAGAIN)) {
                char eb[AV_ERROR_MAX_STRING_SIZE];
                av_strerror(e, eb, sizeof(eb));
                rc = damaged(j, o, eb);
                goto done;
            }
            rc = drain_decoder(j, o);
        }
        if (rc != EV_OK)
            goto done;
        if ((rc = progress(j, false)) != EV_OK)
            goto done;
    }
    for (size_t i = 0; i < j->n_os; i++) {
        ost *o = &j->os[i];
        if (o->action != EV_ACTION_ENCODE)
            continue;
        avcodec_send_packet(o->dec, NULL);
        if ((rc = drain_decoder(j, o)) != EV_OK)
            goto done;
        if (o->type == EV_ST_AUDIO) {
            int e = av_buffersrc_add_frame_flags(o->asrc, NULL, 0);
            if (e < 0) {
                rc = ev_transcode__averr(j->err, e, "stream #%d: audio filter flush", o->in_idx);
                goto done;
            }
            if ((rc = pull_audio(j, o, true)) != EV_OK)
                goto done;
        } else if ((rc = encode_frame(j, o, NULL)) != EV_OK) {
            goto done;
        }
    }
    /* completeness: no frames, or fewer packets than the index promises */
    for (size_t i = 0; i < j->n_os; i++) {
        ost *o = &j->os[i];
        if (o->packets_in == 0 || (o->action == EV_ACTION_ENCODE && o->frames_in == 0)) {
            rc = ev_err__set(j->err, EV_EFORMAT, "stream #%d of '%s' has no %s (zero frames); "
                             "there is nothing to copy", o->in_idx, j->in,
                             o->packets_in == 0 ? "packets" : "decodable frames");
            goto done;
        }
        /* The packets the index lists once the edit list is applied; the
         * sample table may hold more (see check_index), which is not damage. */
        bool mov = strncmp(j->ic->iformat->name, "mov,", 4) == 0;
        int64_t idx = o->in_idx < EV_TC_MAX_STREAMS ? j->index_pkts[o->in_idx] : 0;
        if (mov && idx > 0 && read_pkts[o->in_idx] < idx) {
            char what[200];
            snprintf(what, sizeof(what), "the file is truncated: stream #%d has %lld of the "
                     "%lld packets its index lists", o->in_idx,
                     (long long)read_pkts[o->in_idx], (long long)idx);
            rc = refuse_damaged(j, what);
            goto done;
        }
        int64_t tab = o->in_idx < EV_TC_MAX_STREAMS ? j->table_pkts[o->in_idx] : 0;
        if (mov && tab > idx && idx > 0)
            note(j, "stream #%d: its edit list presents %lld of the %lld samples in its sample "
                 "table; the other %lld (encoder priming or padding, or trimmed material) are "
                 "not presented by the source and not in the copy", o->in_idx, (long long)idx,
                 (long long)tab, (long long)(tab - idx));
    }
    if (j->ic->pb && j->ic->pb->error < 0) {
        rc = ev_transcode__averr(j->err, j->ic->pb->error, "read error in '%s'", j->in);
        goto done;
    }
done:
    free(read_pkts);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

static char *temp_name(const char *out)
{
    char rnd[64];
    if (ev__uuid_urn(rnd, sizeof(rnd)) != 0)
        snprintf(rnd, sizeof(rnd), "urn:uuid:%08lx", (unsigned long)time(NULL));
    const char *slash = strrchr(out, '/');
    const char *base = slash ? slash + 1 : out;
    int dl = slash ? (int)(slash - out) : 0;
    return ev__asprintf("%.*s%s.%s.partial-%.8s", dl, out, slash ? "/" : "", base, rnd + 9);
}

static int create_excl(const char *path, ev_errbuf *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
        return ev_err__set(err, ev_err__from_errno(e) == EV_ENOTFOUND ? EV_EIO
                           : ev_err__from_errno(e), "cannot create '%s': %s; check that the "
                           "output folder exists and is writable", path, strerror(e));
    }
    return fd;
}

static int sync_file(const char *path, ev_errbuf *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return ev_err__set(err, EV_EIO, "cannot flush '%s' to disk: %s", path, strerror(e));
    }
    close(fd);
    return EV_OK;
}

typedef struct sync_job {
    const char *path;
    int rc;
    ev_errbuf err;
} sync_job;

static void *sync_thread(void *arg)
{
    sync_job *s = arg;
    s->rc = sync_file(s->path, &s->err);
    return NULL;
}

typedef struct src_hash {
    const char *path;
    char hex[65];
    uint64_t size;
    int rc;
    ev_errbuf err;
} src_hash;

static void *hash_thread(void *arg)
{
    src_hash *h = arg;
    h->rc = ev_transcode__file_sha256(h->hex, &h->size, h->path, &h->err);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Kinds                                                                     */
/* ------------------------------------------------------------------------ */

/* The demuxer a file's first bytes point to, for the container check of a
 * file FFmpeg could not open: "mov," (ISO BMFF box types), "matroska"
 * (EBML), "wav" (RIFF WAVE), else NULL. */
static const char *sniff_demuxer(const char *path)
{
    uint8_t h[12];
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t got = fread(h, 1, sizeof(h), f);
    fclose(f);
    if (got < 12)
        return NULL;
    if (memcmp(h + 4, "ftyp", 4) == 0 || memcmp(h + 4, "moov", 4) == 0 ||
        memcmp(h + 4, "mdat", 4) == 0 || memcmp(h + 4, "free", 4) == 0 ||
        memcmp(h + 4, "wide", 4) == 0)
        return "mov,";
    if (h[0] == 0x1A && h[1] == 0x45 && h[2] == 0xDF && h[3] == 0xA3)
        return "matroska";
    if (memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WAVE", 4) == 0)
        return "wav";
    return NULL;
}

/* The container check's message ("'X' is truncated: ...") as a refusal. */
static int refuse_container(job *j, int rc)
{
    if (rc != EV_EFORMAT)
        return rc;
    char what[EV_ERRMSG_SIZE];
    const char *m = j->err->msg;
    size_t il = strlen(j->in);
    /* "'<path>' is truncated: ..." -> "the file is truncated: ..." */
    if (m[0] == '\'' && strncmp(m + 1, j->in, il) == 0 && m[il + 1] == '\'' && m[il + 2] == ' ')
        snprintf(what, sizeof(what), "the file %s", m + il + 3);
    else
        snprintf(what, sizeof(what), "%s", m);
    return refuse_damaged(j, what);
}

static int do_av(job *j, json_t **streams_json, ev_vplan *vp)
{
    int rc;
    AVDictionary *mo = NULL;
    if ((rc = ev_transcode__srcread_open(&j->src, j->in, true, j->err)) != EV_OK)
        return rc;
    if ((rc = ev_transcode__open_input_pb(&j->ic, j->in, ev_transcode__srcread_pb(j->src),
                                          j->err)) != EV_OK) {
        /* a file cut short before its index (MP4 with the moov box at the
         * end): say so, rather than only that it cannot be read */
        if (rc == EV_EFORMAT) {
            ev_errbuf e2;
            const char *dm = sniff_demuxer(j->in);
            if (dm && ev_transcode__container_complete(j->in, dm, &e2) != EV_OK) {
                ev_err__copy(j->err, &e2, EV_EFORMAT);
                return refuse_container(j, EV_EFORMAT);
            }
            size_t l = strlen(j->err->msg);
            snprintf(j->err->msg + l, sizeof(j->err->msg) - l, "; no copy was made. Keep the "
                     "file as it is with the master profile");
        }
        return rc;
    }
    if ((rc = ev_transcode__container_complete(j->in, j->ic->iformat->name, j->err)) != EV_OK)
        return refuse_container(j, rc);
    if ((rc = check_index(j)) != EV_OK)
        return rc;
    j->has_src_loc = ev_transcode__stored_location(&j->src_loc, j->ic, j->in);
    if ((rc = plan(j)) != EV_OK)
        return rc;
    int e = avformat_alloc_output_context2(&j->oc, NULL, j->p->container, j->tmp);
    if (e < 0 || !j->oc)
        return ev_transcode__averr(j->err, e < 0 ? e : AVERROR(ENOMEM), "cannot create a %s "
                                   "muxer", j->p->container);
    for (size_t i = 0; i < j->p->n_muxer_options; i++)
        av_dict_set(&mo, j->p->muxer_options[i].key, j->p->muxer_options[i].value, 0);
    for (size_t i = 0; i < j->n_os; i++) {
        ost *o = &j->os[i];
        if (o->action == EV_ACTION_COPY)
            rc = setup_copy(j, o);
        else if (o->type == EV_ST_VIDEO)
            rc = setup_video(j, o);
        else if (o->type == EV_ST_AUDIO)
            rc = setup_audio(j, o);
        else
            rc = ev_err__set(j->err, EV_EUNSUPPORTED, "stream #%d cannot be encoded", o->in_idx);
        if (rc != EV_OK)
            goto done;
    }
    if ((rc = setup_container_meta(j, &mo)) != EV_OK)
        goto done;
    const AVDictionaryEntry *t = NULL;
    while ((t = av_dict_get(mo, "", t, AV_DICT_IGNORE_SUFFIX)))
        json_object_set_new(j->muxer_options, t->key, json_string(t->value));
    AVDictionary *po = NULL;
    av_dict_set(&po, "truncate", "0", 0);
    av_dict_set(&po, "protocol_whitelist", "file", 0);
    e = avio_open2(&j->oc->pb, j->tmp, AVIO_FLAG_WRITE, NULL, &po);
    av_dict_free(&po);
    if (e < 0) {
        rc = ev_transcode__averr(j->err, e, "cannot write '%s'", j->tmp);
        rc = rc == EV_ENOTFOUND || rc == EV_EFORMAT || rc == EV_ERROR ? EV_EIO : rc;
        goto done;
    }
    e = avformat_write_header(j->oc, &mo);
    if (e < 0) {
        rc = ev_transcode__averr(j->err, e, "the %s muxer refuses the streams", j->p->container);
        rc = rc == EV_ERROR || rc == EV_EFORMAT ? EV_EUNSUPPORTED : rc;
        goto done;
    }
    if (av_dict_count(mo)) {
        t = av_dict_get(mo, "", NULL, AV_DICT_IGNORE_SUFFIX);
        note(j, "muxer option '%s' was not used by the %s muxer", t ? t->key : "?",
             j->p->container);
    }
    if ((rc = run_pass(j)) != EV_OK)
        goto done;
    e = av_write_trailer(j->oc);
    if (e < 0) {
        rc = ev_transcode__averr(j->err, e, "cannot finish '%s'", j->tmp);
        rc = rc == EV_ERROR || rc == EV_EFORMAT ? EV_EIO : rc;
        goto done;
    }
    e = avio_closep(&j->oc->pb);
    if (e < 0) {
        rc = ev_transcode__averr(j->err, e, "cannot write '%s'", j->tmp);
        goto done;
    }
    if ((rc = progress(j, true)) != EV_OK)
        goto done;
    /* settings and verification plan */
    json_t *arr = json_array();
    vp->s = ev__calloc(j->n_os, sizeof(ev_vstream));
    if (!arr || !vp->s) {
        json_decref(arr);
        rc = ev_err__set(j->err, EV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < j->n_os; i++) {
        ost *o = &j->os[i];
        if (o->ts_fixed) {
            json_object_set_new(o->settings, "timestamps_adjusted", json_integer(o->ts_fixed));
            note(j, "stream #%d: %lld copied packets had a decoding timestamp that did not "
                 "increase; it was raised to the smallest value the muxer accepts (payloads "
                 "unchanged)", o->in_idx, (long long)o->ts_fixed);
        }
        json_object_set_new(o->settings, "packets_in", json_integer(o->packets_in));
        json_object_set_new(o->settings, "packets_out", json_integer(o->packets_out));
        if (o->action == EV_ACTION_ENCODE) {
            json_object_set_new(o->settings, "frames_in", json_integer(o->frames_in));
            json_object_set_new(o->settings, "frames_out", json_integer(o->frames_out));
        }
        json_array_append(arr, o->settings);
        ev_vstream *vs = &vp->s[vp->n++];
        vs->src = o->in_idx;
        vs->out = o->out_idx;
        vs->type = o->type;
        vs->cmp_pix_fmt = AV_PIX_FMT_NONE;
        vs->out_cmp_pix_fmt = AV_PIX_FMT_NONE;
        vs->orientation = 1;
        if (o->action == EV_ACTION_COPY) {
            vs->level = EV_LEVEL_PACKET;
            vs->packet_fallback = j->p->packet_fallback == EV_LEVEL_DECODED;
        } else if (j->p->level == EV_LEVEL_DECODED) {
            vs->level = EV_LEVEL_DECODED;
            /* A lossless repack is compared back in the source's format; a
             * conversion the profile declares as its fallback is compared
             * through the same conversion of the source (and recorded so);
             * anything else is compared natively, and so fails. */
            if (o->type == EV_ST_VIDEO && o->fmt.convert) {
                if (o->fmt.repack)
                    vs->out_cmp_pix_fmt = o->src_fmt;
                else if (o->rule->fallback_pix_fmt && !o->rule->pix_fmt)
                    vs->cmp_pix_fmt = o->fmt.fmt;
            }
        } else {
            vs->level = EV_LEVEL_QUALITY;
        }
        json_object_set_new(o->settings, "verification",
                            json_string(ev_profile__level_name(vs->level)));
    }
    *streams_json = arr;
    rc = EV_OK;
done:
    av_dict_free(&mo);
    return rc;
}

static int do_copy(job *j, int fd, char src_hex[65], uint64_t *size)
{
    FILE *f = fopen(j->in, "rb");
    if (!f) {
        int e = errno;
        return ev_err__set(j->err, ev_err__from_errno(e), "cannot open '%s': %s", j->in,
                           strerror(e));
    }
    ev_hasher *h = NULL;
    int rc = ev_hash__new(&h, EV_ALG_SHA256);
    size_t cap = 1 << 20;
    uint8_t *buf = rc == EV_OK ? malloc(cap) : NULL;
    uint64_t total = 0;
    if (!buf) {
        rc = ev_err__set(j->err, EV_ENOMEM, "out of memory");
        goto done;
    }
    for (;;) {
        size_t got = fread(buf, 1, cap, f);
        if (got) {
            ev_hash__update(h, buf, got);
            const uint8_t *p = buf;
            size_t n = got;
            while (n) {
                ssize_t w = write(fd, p, n);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0) {
                    rc = ev_err__set(j->err, EV_EIO, "cannot write '%s': %s", j->tmp,
                                     strerror(errno));
                    goto done;
                }
                p += w;
                n -= (size_t)w;
            }
            total += got;
        }
        if (got < cap) {
            if (ferror(f)) {
                rc = ev_err__set(j->err, EV_EIO, "read error in '%s'", j->in);
                goto done;
            }
            break;
        }
        if (j->o.progress_cb) {
            ev_progress pr = { EV_PROGRESS_VERSION, "copying", j->in, total, 0, 0, 1 };
            if (j->o.progress_cb(&pr, j->o.progress_payload)) {
                rc = ev_err__set(j->err, EV_ECANCELED, "canceled by callback");
                goto done;
            }
        }
    }
    ev_digests d;
    if (ev_hash__final(h, &d) != EV_OK) {
        rc = ev_err__set(j->err, EV_ERROR, "SHA-256 failed");
        goto done;
    }
    memcpy(src_hex, d.hex[EV_HASH_SHA256], 65);
    *size = total;
done:
    free(buf);
    ev_hash__free(h);
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Record                                                                    */
/* ------------------------------------------------------------------------ */

static json_t *thresholds_json(const ev_profile *p)
{
    json_t *t = json_object();
    if (!t)
        return NULL;
    if (p->level == EV_LEVEL_QUALITY) {
        json_object_set_new(t, "psnr_min_db", json_real(p->psnr_min));
        json_object_set_new(t, "psnr_mean_min_db", json_real(p->psnr_mean_min));
        json_object_set_new(t, "ssim_min", json_real(p->ssim_min));
        json_object_set_new(t, "ssim_mean_min", json_real(p->ssim_mean_min));
    }
    json_object_set_new(t, "max_timestamp_delta_frames", json_real(p->max_ts_delta_frames));
    return t;
}

static json_t *plan_json(const ev_vplan *vp)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < vp->n; i++) {
        const ev_vstream *v = &vp->s[i];
        json_t *o = json_pack("{s:i, s:i, s:s, s:s, s:b}", "source_stream", v->src,
                              "output_stream", v->out, "type", ev_profile__stype_name(v->type),
                              "level", ev_profile__level_name(v->level), "packet_fallback",
                              v->packet_fallback);
        if (v->cmp_pix_fmt != AV_PIX_FMT_NONE)
            json_object_set_new(o, "source_compared_as",
                                json_string(av_get_pix_fmt_name((enum AVPixelFormat)v->cmp_pix_fmt)));
        if (v->out_cmp_pix_fmt != AV_PIX_FMT_NONE)
            json_object_set_new(o, "output_compared_as",
                                json_string(av_get_pix_fmt_name((enum AVPixelFormat)v->out_cmp_pix_fmt)));
        if (v->orientation > 1)
            json_object_set_new(o, "orientation_applied", json_integer(v->orientation));
        json_array_append_new(a, o);
    }
    return a;
}

int ev_transcode__run(json_t **out_derivation, const ev_profile *p, const char *in_path,
                      const char *out_path, const ev_transcode__opts *opts, ev_errbuf *err)
{
    job j;
    memset(&j, 0, sizeof(j));
    src_hash sh;
    memset(&sh, 0, sizeof(sh));
    ev_vplan vp;
    memset(&vp, 0, sizeof(vp));
    ev_still_out still;
    memset(&still, 0, sizeof(still));
    json_t *streams = NULL, *verification = NULL, *metadata = NULL, *exif = NULL;
    pthread_t th, sync_th, oh_th;
    bool th_started = false, sync_started = false, oh_started = false, kept = false;
    src_hash oh;
    memset(&oh, 0, sizeof(oh));
    sync_job sy;
    memset(&sy, 0, sizeof(sy));
    int fd = -1, rc;
    char created[40];
    ev__time_rfc3339(created, sizeof(created), (int64_t)time(NULL));

    if (out_derivation)
        *out_derivation = NULL;
    if (!out_derivation || !p || !in_path || !out_path)
        return ev_err__set(err, EV_EINVAL, "transcode: NULL argument");
    j.p = p;
    j.in = in_path;
    j.out = out_path;
    j.err = err;
    if (opts)
        j.o = *opts;
    for (int i = 0; i < EV_TC_MAX_STREAMS; i++)
        j.map[i] = -1;
    j.dropped = json_array();
    j.notes = json_array();
    j.muxer_options = json_object();
    j.pkt = av_packet_alloc();
    j.epkt = av_packet_alloc();
    j.frame = av_frame_alloc();
    j.ffr = av_frame_alloc();
    if (!j.dropped || !j.notes || !j.muxer_options || !j.pkt || !j.epkt || !j.frame || !j.ffr) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    if (p->unavailable) {
        rc = ev_err__set(err, EV_EUNSUPPORTED, "profile '%s' cannot run in this build: %s",
                         p->name, p->unavailable);
        goto done;
    }
    struct stat si, so;
    if (stat(in_path, &si) != 0) {
        int e = errno;
        rc = ev_err__set(err, ev_err__from_errno(e), "cannot read '%s': %s", in_path,
                         strerror(e));
        goto done;
    }
    if (!S_ISREG(si.st_mode)) {
        rc = ev_err__set(err, EV_EINVAL, "'%s' is not a regular file", in_path);
        goto done;
    }
    if (stat(out_path, &so) == 0) {
        if (so.st_dev == si.st_dev && so.st_ino == si.st_ino) {
            rc = ev_err__set(err, EV_EINVAL, "'%s' is the input itself; give another output "
                             "name", out_path);
            goto done;
        }
        if (!(j.o.flags & EV_TRANSCODE__OVERWRITE)) {
            rc = ev_err__set(err, EV_EEXISTS, "'%s' already exists; remove it or choose another "
                             "name", out_path);
            goto done;
        }
    }
    if (!(j.tmp = temp_name(out_path))) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    if ((fd = create_excl(j.tmp, err)) < 0) {
        rc = fd;
        fd = -1;
        goto done;
    }
    if (p->kind == EV_KIND_STILL) {
        sh.path = in_path;
        th_started = pthread_create(&th, NULL, hash_thread, &sh) == 0;
        if (!th_started)
            hash_thread(&sh);
    }

    if (p->kind == EV_KIND_COPY) {
        rc = do_copy(&j, fd, sh.hex, &sh.size);
        close(fd);
        fd = -1;
    } else if (p->kind == EV_KIND_STILL) {
        rc = ev_transcode__still(&still, p, in_path, fd, j.o.flags, err);
        close(fd);
        fd = -1;
        if (rc == EV_OK) {
            streams = json_array();
            json_array_append(streams, still.settings);
            vp.s = ev__calloc(1, sizeof(ev_vstream));
            if (!vp.s || !streams) {
                rc = ev_err__set(err, EV_ENOMEM, "out of memory");
            } else {
                vp.s[0] = still.vs;
                vp.n = 1;
                vp.still = true;
                json_object_set_new(still.settings, "verification",
                                    json_string("decoded-identical"));
            }
        }
    } else {
        close(fd);
        fd = -1;
        rc = do_av(&j, &streams, &vp);
        /* the source's SHA-256, from the bytes the demuxer read (and the
         * structure walk over them) */
        if (rc == EV_OK) {
            sh.rc = ev_transcode__srcread_finish(j.src, sh.hex, &sh.size, &sh.err);
            if (sh.rc == EV_EFORMAT)
                rc = refuse_damaged(&j, sh.err.msg);
        }
    }
    if (rc != EV_OK)
        goto done;
    vp.psnr_min = p->psnr_min;
    vp.psnr_mean_min = p->psnr_mean_min;
    vp.ssim_min = p->ssim_min;
    vp.ssim_mean_min = p->ssim_mean_min;
    vp.max_ts_delta_frames = p->max_ts_delta_frames;
    /* Flush the copy to disk in the background while it is hashed and
     * verified (from the page cache); joined before it is renamed. */
    sy.path = j.tmp;
    if (!(j.o.flags & EV_TRANSCODE__NO_SYNC)) {
        sync_started = pthread_create(&sync_th, NULL, sync_thread, &sy) == 0;
        if (!sync_started)
            sync_thread(&sy);
    }
    /* The copy's SHA-256: computed by a thread while it is verified; not at
     * all with --no-verify (the record then says so), except for byte copies
     * where it is the verification. */
    oh.path = j.tmp;
    if (p->kind == EV_KIND_COPY) {
        hash_thread(&oh);
    } else if (!(j.o.flags & EV_TRANSCODE__NO_VERIFY)) {
        oh_started = pthread_create(&oh_th, NULL, hash_thread, &oh) == 0;
        if (!oh_started)
            hash_thread(&oh);
    } else {
        struct stat tst;
        if (stat(j.tmp, &tst) == 0)
            oh.size = (uint64_t)tst.st_size;
    }
    if (!oh_started && oh.rc != EV_OK) {
        rc = ev_err__copy(err, &oh.err, oh.rc);
        goto done;
    }

    if (th_started) {
        pthread_join(th, NULL);
        th_started = false;
    }
    if (p->kind != EV_KIND_COPY && sh.rc != EV_OK) {
        rc = ev_err__copy(err, &sh.err, sh.rc);
        goto done;
    }

    /* verification */
    if (j.o.flags & EV_TRANSCODE__NO_VERIFY) {
        verification = json_pack("{s:s, s:s, s:[]}", "level", ev_profile__level_name(p->level),
                                 "verdict", "not-run", "problems");
    } else if (p->kind == EV_KIND_COPY) {
        bool same = strcmp(sh.hex, oh.hex) == 0 && sh.size == oh.size;
        verification = json_pack("{s:s, s:s, s:s, s:s, s:[]}", "level", "byte-identical",
                                 "verdict", same ? "pass" : "fail", "source_sha256", sh.hex,
                                 "output_sha256", oh.hex, "problems");
        if (!same)
            json_array_append_new(json_object_get(verification, "problems"),
                                  json_string("the copy's SHA-256 differs from the source's"));
    } else {
        if ((rc = ev_transcode__verify(&verification, &vp, p->level, in_path, j.tmp, &j.o,
                                       err)) != EV_OK)
            goto done;
    }
    if (!verification) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    json_t *vprobs = json_object_get(verification, "problems");
    /* metadata read-back (always: it is cheap) */
    if (p->kind == EV_KIND_AV) {
        metadata = metadata_report(&j, j.tmp, vprobs);
    } else if (p->kind == EV_KIND_STILL) {
        uint8_t *oe = NULL;
        size_t oel = 0;
        ev_errbuf e2;
        ev_transcode__file_exif(&oe, &oel, j.tmp, &e2);
        json_t *mp = json_array();
        exif = ev_transcode__exif_report(still.src_exif, still.src_exif_len,
                                         p->meta_exif == EV_META_COPY ? oe : NULL,
                                         p->meta_exif == EV_META_COPY ? oel : 0,
                                         still.orientation_applied, mp);
        if (p->meta_exif == EV_META_DROP && oe)
            json_array_append_new(mp, json_string("the copy has EXIF although the profile "
                                                  "drops it"));
        if (p->meta_exif == EV_META_DROP) {
            json_array_clear(mp);
            if (exif)
                json_object_set_new(exif, "policy", json_string("drop"));
        }
        size_t k;
        json_t *x;
        json_array_foreach(mp, k, x)
            json_array_append(vprobs, x);
        json_decref(mp);
        free(oe);
        metadata = json_object();
        if (metadata && exif)
            json_object_set(metadata, "exif", exif);
    }
    if (json_array_size(vprobs) && strcmp(json_string_value(json_object_get(verification,
                                                                            "verdict")),
                                          "pass") == 0)
        json_object_set_new(verification, "verdict", json_string("fail"));
    if (oh_started) {
        pthread_join(oh_th, NULL);
        oh_started = false;
        if (oh.rc != EV_OK) {
            rc = ev_err__copy(err, &oh.err, oh.rc);
            goto done;
        }
    }
    const char *verdict = json_string_value(json_object_get(verification, "verdict"));
    if (sync_started) {
        pthread_join(sync_th, NULL);
        sync_started = false;
    }
    if (sy.rc != EV_OK) {
        rc = ev_err__copy(err, &sy.err, sy.rc);
        goto done;
    }
    if (strcmp(verdict, "fail") != 0) {
        /* the data was flushed by the sync thread while the copy was
         * verified; publish's own flush of the file then finds nothing left */
        unsigned pf = ((j.o.flags & EV_TRANSCODE__OVERWRITE) ? EV_PUBLISH_REPLACE : 0) |
                      ((j.o.flags & EV_TRANSCODE__NO_SYNC) ? EV_PUBLISH_NOSYNC : 0);
        if ((rc = ev__publish(j.tmp, out_path, pf, "copy", err)) != EV_OK)
            goto done;
        kept = true;
    }
    if (!kept) {
        unlink(j.tmp);
    }

    /* the record */
    json_t *versions = NULL;
    ev_common__versions(&versions);
    char srcc[64] = "", outc[64] = "";
    if (j.ic)
        ev_transcode__container_name(srcc, sizeof(srcc), j.ic, in_path);
    json_t *rec = json_object();
    if (!rec) {
        json_decref(versions);
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    json_object_set_new(rec, "format", json_string("evidence.derivation"));
    json_object_set_new(rec, "format_version", json_integer(1));
    json_object_set_new(rec, "created", json_string(created));
    json_object_set_new(rec, "action", json_string(p->action));
    json_object_set_new(rec, "profile", json_pack("{s:s, s:s, s:s, s:s}", "name", p->name,
                                                  "sha256", p->sha256, "level",
                                                  ev_profile__level_name(p->level), "kind",
                                                  p->kind == EV_KIND_COPY ? "copy"
                                                  : p->kind == EV_KIND_STILL ? "still" : "av"));
    json_t *src = json_pack("{s:s, s:I, s:s}", "path", in_path, "size", (json_int_t)sh.size,
                            "sha256", sh.hex);
    if (srcc[0])
        json_object_set_new(src, "container", json_string(srcc));
    json_object_set_new(rec, "source", src);
    json_t *outo = json_pack("{s:s, s:I}", "path", out_path, "size", (json_int_t)oh.size);
    if (oh.hex[0])
        json_object_set_new(outo, "sha256", json_string(oh.hex));
    else
        json_object_set_new(outo, "sha256_note",
                            json_string("not computed: the copy was not verified (--no-verify)"));
    json_object_set_new(outo, "kept", json_boolean(kept));
    snprintf(outc, sizeof(outc), "%s", p->container ? p->container : srcc);
    if (outc[0])
        json_object_set_new(outo, "container", json_string(outc));
    json_object_set_new(rec, "output", outo);
    json_t *settings = json_object();
    if (p->kind == EV_KIND_AV) {
        json_object_set_new(settings, "muxer", json_string(p->container));
        json_object_set(settings, "muxer_options", j.muxer_options);
    } else if (p->kind == EV_KIND_STILL) {
        json_object_set_new(settings, "writer", json_string("png (libavcodec) + eXIf chunk"));
    } else {
        json_object_set_new(settings, "copy", json_string("byte for byte"));
    }
    json_object_set_new(settings, "streams", streams ? streams : json_array());
    streams = NULL;
    json_object_set(settings, "dropped", j.dropped);
    if (json_array_size(j.notes))
        json_object_set(settings, "notes", j.notes);
    json_object_set_new(rec, "settings", settings);
    json_object_set_new(rec, "libraries", versions ? versions : json_object());
    if (metadata)
        json_object_set(rec, "metadata", metadata);
    json_object_set_new(verification, "thresholds", thresholds_json(p));
    json_object_set_new(verification, "plan", plan_json(&vp));
    json_object_set(rec, "verification", verification);
    *out_derivation = rec;
    rc = EV_OK;
done:
    if (th_started)
        pthread_join(th, NULL);
    if (oh_started)
        pthread_join(oh_th, NULL);
    if (sync_started)
        pthread_join(sync_th, NULL);
    if (fd >= 0)
        close(fd);
    if (rc != EV_OK && j.tmp)
        unlink(j.tmp);
    if (j.oc) {
        if (j.oc->pb)
            avio_closep(&j.oc->pb);
        avformat_free_context(j.oc);
    }
    for (size_t i = 0; j.os && i < j.n_os; i++) {
        ost *o = &j.os[i];
        avcodec_free_context(&o->dec);
        avcodec_free_context(&o->enc);
        avfilter_graph_free(&o->graph);
        sws_freeContext(o->sws);
        json_decref(o->settings);
    }
    free(j.os);
    avformat_close_input(&j.ic);
    ev_transcode__srcread_free(j.src);
    av_packet_free(&j.pkt);
    av_packet_free(&j.epkt);
    av_frame_free(&j.frame);
    av_frame_free(&j.ffr);
    json_decref(j.dropped);
    json_decref(j.notes);
    json_decref(j.muxer_options);
    json_decref(streams);
    json_decref(verification);
    json_decref(metadata);
    json_decref(exif);
    ev_transcode__still_free(&still);
    free(vp.s);
    free(j.tmp);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Recheck                                                                   */
/* ------------------------------------------------------------------------ */

static ev_level level_from(const char *s)
{
    for (int l = EV_LEVEL_BYTE; l <= EV_LEVEL_QUALITY; l++)
        if (s && strcmp(s, ev_profile__level_name((ev_level)l)) == 0)
            return (ev_level)l;
    return EV_LEVEL_NONE;
}

static double num_or(const json_t *o, const char *k, double def)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : def;
}

int ev_transcode__recheck(json_t **out, const json_t *d, const char *master_path,
                          const char *copy_path, ev_errbuf *err)
{
    return ev_transcode__recheck_ex(out, d, master_path, copy_path, NULL, err);
}

int ev_transcode__recheck_ex(json_t **out, const json_t *d, const char *master_path,
                             const char *copy_path, const ev_transcode__opts *opts,
                             ev_errbuf *err)
{
    if (!out)
        return ev_err__set(err, EV_EINVAL, "recheck: out is NULL");
    *out = NULL;
    if (!d || !master_path || !copy_path)
        return ev_err__set(err, EV_EINVAL, "recheck: NULL argument");
    const json_t *fmt = json_object_get(d, "format");
    const json_t *ver = json_object_get(d, "verification");
    const json_t *plan = json_object_get(ver, "plan");
    const char *ssha = json_string_value(json_object_get(json_object_get(d, "source"), "sha256"));
    const char *osha = json_string_value(json_object_get(json_object_get(d, "output"), "sha256"));
    ev_level level = level_from(json_string_value(json_object_get(ver, "level")));
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "evidence.derivation") != 0 ||
        !json_is_object(ver) || !ssha || level == EV_LEVEL_NONE)
        return ev_err__set(err, EV_EFORMAT, "not a derivation record (format "
                           "\"evidence.derivation\" with source, output and verification)");
    char mh[65], ch[65];
    int rc;
    if ((rc = ev_transcode__file_sha256(mh, NULL, master_path, err)) != EV_OK ||
        (rc = ev_transcode__file_sha256(ch, NULL, copy_path, err)) != EV_OK)
        return rc;
    json_t *probs = json_array(), *doc = json_object(), *v = NULL;
    if (!probs || !doc) {
        json_decref(probs);
        json_decref(doc);
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    }
    /* a record made with --no-verify has no output hash to compare */
    bool sm = ev_hash__hex_equal(mh, ssha), om = !osha || ev_hash__hex_equal(ch, osha);
    if (!sm)
        json_array_append_new(probs, json_string("the master's SHA-256 differs from the record's "
                                                 "source.sha256: the master changed"));
    if (!om)
        json_array_append_new(probs, json_string("the copy's SHA-256 differs from the record's "
                                                 "output.sha256: the copy changed"));
    if (level == EV_LEVEL_BYTE) {
        v = json_pack("{s:s, s:s, s:s, s:s}", "level", "byte-identical", "verdict",
                      strcmp(mh, ch) == 0 ? "pass" : "fail", "source_sha256", mh,
                      "output_sha256", ch);
        if (strcmp(mh, ch) != 0)
            json_array_append_new(probs, json_string("master and copy differ"));
    } else {
        ev_vplan vp;
        memset(&vp, 0, sizeof(vp));
        const json_t *th = json_object_get(ver, "thresholds");
        vp.psnr_min = num_or(th, "psnr_min_db", 0);
        vp.psnr_mean_min = num_or(th, "psnr_mean_min_db", 0);
        vp.ssim_min = num_or(th, "ssim_min", 0);
        vp.ssim_mean_min = num_or(th, "ssim_mean_min", 0);
        vp.max_ts_delta_frames = num_or(th, "max_timestamp_delta_frames", 1);
        const char *kind = json_string_value(json_object_get(json_object_get(d, "profile"), "kind"));
        vp.still = kind && strcmp(kind, "still") == 0;
        size_t n = json_array_size(plan);
        vp.s = ev__calloc(n ? n : 1, sizeof(ev_vstream));
        if (!vp.s || n == 0 || n > EV_TC_MAX_STREAMS) {
            free(vp.s);
            json_decref(probs);
            json_decref(doc);
            return n == 0 || n > EV_TC_MAX_STREAMS
                       ? ev_err__set(err, EV_EFORMAT, "the derivation record has no usable "
                                     "verification plan")
                       : ev_err__set(err, EV_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            const json_t *e = json_array_get(plan, i);
            ev_vstream *s = &vp.s[vp.n++];
            s->src = (int)json_integer_value(json_object_get(e, "source_stream"));
            s->out = (int)json_integer_value(json_object_get(e, "output_stream"));
            const char *t = json_string_value(json_object_get(e, "type"));
            s->type = t && strcmp(t, "audio") == 0 ? EV_ST_AUDIO
                    : t && strcmp(t, "video") == 0 ? EV_ST_VIDEO
                    : t && strcmp(t, "subtitle") == 0 ? EV_ST_SUBTITLE : EV_ST_DATA;
            s->level = level_from(json_string_value(json_object_get(e, "level")));
            s->packet_fallback = json_is_true(json_object_get(e, "packet_fallback"));
            const char *a = json_string_value(json_object_get(e, "source_compared_as"));
            const char *b = json_string_value(json_object_get(e, "output_compared_as"));
            s->cmp_pix_fmt = a ? av_get_pix_fmt(a) : AV_PIX_FMT_NONE;
            s->out_cmp_pix_fmt = b ? av_get_pix_fmt(b) : AV_PIX_FMT_NONE;
            json_int_t ori = json_integer_value(json_object_get(e, "orientation_applied"));
            s->orientation = ori >= 2 && ori <= 8 ? (int)ori : 1;
            if (s->src < 0 || s->out < 0 || s->src >= EV_TC_MAX_STREAMS ||
                s->out >= EV_TC_MAX_STREAMS || s->level == EV_LEVEL_NONE ||
                s->level == EV_LEVEL_BYTE) {
                free(vp.s);
                json_decref(probs);
                json_decref(doc);
                return ev_err__set(err, EV_EFORMAT, "verification plan entry %zu of the "
                                   "derivation record is invalid", i);
            }
        }
        rc = ev_transcode__verify(&v, &vp, level, master_path, copy_path, opts, err);
        free(vp.s);
        if (rc != EV_OK) {
            json_decref(probs);
            json_decref(doc);
            return rc;
        }
        size_t k;
        json_t *x;
        json_array_foreach(json_object_get(v, "problems"), k, x)
            json_array_append(probs, x);
    }
    json_object_set_new(doc, "format", json_string("evidence.recheck"));
    json_object_set_new(doc, "format_version", json_integer(1));
    json_object_set_new(doc, "verdict", json_string(json_array_size(probs) ? "fail" : "pass"));
    json_object_set_new(doc, "source_sha256_match", json_boolean(sm));
    json_object_set_new(doc, "output_sha256_match", osha ? json_boolean(om) : json_null());
    json_object_set_new(doc, "verification", v ? v : json_null());
    json_object_set_new(doc, "problems", probs);
    *out = doc;
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                */
/* ------------------------------------------------------------------------ */

struct ev_transcode {
    ev_errbuf err;
    ev_transcode_options opts;
    char *result;
    ev_transcode_verdict verdict;
};

int ev_transcode_options_init(ev_transcode_options *opts, unsigned int version)
{
    if (!opts)
        return EV_EINVAL;
    if (version != EV_TRANSCODE_OPTIONS_VERSION)
        return EV_EVERSION;
    memset(opts, 0, sizeof(*opts));
    opts->version = version;
    return EV_OK;
}

int ev_transcode_new(ev_transcode **out, const ev_transcode_options *opts)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (opts && opts->version != EV_TRANSCODE_OPTIONS_VERSION)
        return EV_EVERSION;
    if (opts && (opts->flags & ~(EV_TRANSCODE_NO_VERIFY | EV_TRANSCODE_OVERWRITE |
                                  EV_TRANSCODE_NO_SYNC)))
        return EV_EINVAL;
    ev_transcode *t = calloc(1, sizeof(*t));
    if (!t)
        return EV_ENOMEM;
    if (opts)
        t->opts = *opts;
    else
        t->opts.version = EV_TRANSCODE_OPTIONS_VERSION;
    t->verdict = EV_TRANSCODE_NOT_VERIFIED;
    *out = t;
    return EV_OK;
}

void ev_transcode_free(ev_transcode *t)
{
    if (!t)
        return;
    free(t->result);
    free(t);
}

const char *ev_transcode_last_error(const ev_transcode *t)
{
    return t ? t->err.msg : "no handle";
}

static int keep_result(ev_transcode *t, json_t *doc, const char *verdict)
{
    free(t->result);
    t->result = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (!t->result)
        return ev_err__set(&t->err, EV_ENOMEM, "out of memory");
    t->verdict = verdict && strcmp(verdict, "pass") == 0 ? EV_TRANSCODE_PASS
               : verdict && strcmp(verdict, "fail") == 0 ? EV_TRANSCODE_FAIL
               : EV_TRANSCODE_NOT_VERIFIED;
    return EV_OK;
}

static void clear_result(ev_transcode *t)
{
    free(t->result);
    t->result = NULL;
    t->verdict = EV_TRANSCODE_NOT_VERIFIED;
    t->err.msg[0] = '\0';
}

int ev_transcode_run(ev_transcode *t, const ev_profile *p, const char *in_path,
                     const char *out_path)
{
    if (!t)
        return EV_EINVAL;
    clear_result(t);
    ev_transcode__opts o = { t->opts.flags, t->opts.threads, t->opts.progress_cb,
                             t->opts.progress_payload };
    json_t *doc = NULL;
    int rc = ev_transcode__run(&doc, p, in_path, out_path, &o, &t->err);
    if (rc != EV_OK)
        return rc;
    const char *v = json_string_value(json_object_get(json_object_get(doc, "verification"),
                                                      "verdict"));
    char vv[16];
    snprintf(vv, sizeof(vv), "%s", v ? v : "");
    return keep_result(t, doc, vv);
}

int ev_transcode_check(ev_transcode *t, const ev_profile *p, const char *path)
{
    if (!t)
        return EV_EINVAL;
    clear_result(t);
    json_t *doc = NULL;
    int rc = ev_conform__check_ex(&doc, p, path, t->opts.progress_cb, t->opts.progress_payload,
                                  &t->err);
    if (rc != EV_OK)
        return rc;
    char vv[16];
    snprintf(vv, sizeof(vv), "%s", json_string_value(json_object_get(doc, "verdict")));
    return keep_result(t, doc, vv);
}

int ev_transcode_recheck(ev_transcode *t, const char *derivation_json, const char *master_path,
                         const char *copy_path)
{
    if (!t)
        return EV_EINVAL;
    clear_result(t);
    if (!derivation_json)
        return ev_err__set(&t->err, EV_EINVAL, "recheck: no derivation record");
    json_error_t je;
    json_t *d = json_loads(derivation_json, JSON_REJECT_DUPLICATES, &je);
    if (!d)
        return ev_err__set(&t->err, EV_EFORMAT, "derivation record: not valid JSON at line %d: "
                           "%s", je.line, je.text);
    json_t *doc = NULL;
    ev_transcode__opts o = { t->opts.flags, t->opts.threads, t->opts.progress_cb,
                             t->opts.progress_payload };
    int rc = ev_transcode__recheck_ex(&doc, d, master_path, copy_path, &o, &t->err);
    json_decref(d);
    if (rc != EV_OK)
        return rc;
    char vv[16];
    snprintf(vv, sizeof(vv), "%s", json_string_value(json_object_get(doc, "verdict")));
    return keep_result(t, doc, vv);
}

ev_transcode_verdict ev_transcode_verdict_get(const ev_transcode *t)
{
    return t ? t->verdict : EV_TRANSCODE_NOT_VERIFIED;
}

const char *ev_transcode_result_json(const ev_transcode *t)
{
    return t ? t->result : NULL;
}
