/*
 * conform: measure a file and evaluate a profile's conformance rules.
 *
 * Facts come from libavformat/libavcodec (container, codecs, formats), from
 * our own readers where FFmpeg does not expose them (MP4 box order for
 * faststart; the FFV1 configuration record and per-frame slice chains with
 * their CRCs), and from a full decode with CRC checks for decodes_cleanly.
 */
#include "transcode/conform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <libavutil/crc.h>
#include <libavutil/intreadwrite.h>
#include <libavutil/pixdesc.h>
#include <libavutil/time.h>

#include "media/boxes.h"
#include "media/media_int.h"
#include "transcode/transcode_int.h"

/* ------------------------------------------------------------------------ */
/* FFV1 configuration record: range decoder (RFC 9043, section 3.8)          */
/* ------------------------------------------------------------------------ */

typedef struct rac {
    const uint8_t *p, *end;
    uint32_t low, range;
    uint8_t zero[256], one[256];
    int overread;
} rac;

static void rac_states(rac *c, int64_t factor, int max_p)
{
    const int64_t one = 1LL << 32;
    int64_t p;
    int last_p8 = 0, p8;
    memset(c->zero, 0, sizeof(c->zero));
    memset(c->one, 0, sizeof(c->one));
    p = one / 2;
    for (int i = 0; i < 128; i++) {
        p8 = (int)((256 * p + one / 2) >> 32);
        if (p8 <= last_p8)
            p8 = last_p8 + 1;
        if (last_p8 && last_p8 < 256 && p8 <= max_p)
            c->one[last_p8] = (uint8_t)p8;
        p += ((one - p) * factor + one / 2) >> 32;
        last_p8 = p8;
    }
    for (int i = 256 - max_p; i <= max_p; i++) {
        if (c->one[i])
            continue;
        p = ((int64_t)i * one + 128) >> 8;
        p += ((one - p) * factor + one / 2) >> 32;
        p8 = (int)((256 * p + one / 2) >> 32);
        if (p8 <= i)
            p8 = i + 1;
        if (p8 > max_p)
            p8 = max_p;
        c->one[i] = (uint8_t)p8;
    }
    for (int i = 1; i < 255; i++)
        c->zero[i] = (uint8_t)(256 - c->one[256 - i]);
}

static void rac_init(rac *c, const uint8_t *buf, size_t len)
{
    c->p = buf;
    c->end = buf + len;
    c->range = 0xFF00;
    c->low = 0;
    c->overread = 0;
    if (len >= 2) {
        c->low = AV_RB16(buf);
        c->p += 2;
    }
    if (c->low >= 0xFF00) {
        c->low = 0xFF00;
        c->end = c->p;
    }
}

static void rac_refill(rac *c)
{
    if (c->range < 0x100) {
        c->range <<= 8;
        c->low <<= 8;
        if (c->p < c->end)
            c->low += *c->p++;
        else
            c->overread++;
    }
}

static int rac_get(rac *c, uint8_t *state)
{
    uint32_t r1 = (c->range * *state) >> 8;
    c->range -= r1;
    if (c->low < c->range) {
        *state = c->zero[*state];
        rac_refill(c);
        return 0;
    }
    c->low -= c->range;
    *state = c->one[*state];
    c->range = r1;
    rac_refill(c);
    return 1;
}

/* Returns the symbol, or INT32_MIN on a malformed value. */
static int32_t rac_symbol(rac *c, uint8_t *state, bool is_signed)
{
    if (rac_get(c, state))
        return 0;
    int e = 0;
    while (rac_get(c, state + 1 + (e < 9 ? e : 9))) {
        if (++e > 31)
            return INT32_MIN;
    }
    uint32_t a = 1;
    for (int i = e - 1; i >= 0; i--)
        a += a + (uint32_t)rac_get(c, state + 22 + (i < 9 ? i : 9));
    int neg = is_signed && rac_get(c, state + 11 + (e < 10 ? e : 10));
    if (a > INT32_MAX)
        return INT32_MIN;
    return neg ? -(int32_t)a : (int32_t)a;
}

#define FFV1_CONTEXT_SIZE 32

int ev_conform__ffv1_config(ev_ffv1_config *out, const uint8_t *data, size_t len)
{
    memset(out, 0, sizeof(*out));
    if (!data || len < 4 || len > (1u << 20))
        return EV_EFORMAT;
    rac *c = malloc(sizeof(*c));
    if (!c)
        return EV_ENOMEM;
    uint8_t st[FFV1_CONTEXT_SIZE];
    memset(st, 128, sizeof(st));
    rac_init(c, data, len);
    rac_states(c, (int64_t)(0.05 * (double)(1LL << 32)), 256 - 8);
    int rc = EV_EFORMAT;
    int32_t v = rac_symbol(c, st, false);
    if (v < 2 || v > 4)
        goto done;
    out->version = v;
    if (v > 2) {
        c->end -= 4; /* the record's own CRC */
        if (c->end < c->p)
            goto done;
        if ((out->micro_version = rac_symbol(c, st, false)) < 0)
            goto done;
    }
    if ((out->coder = rac_symbol(c, st, false)) < 0 || out->coder > 2)
        goto done;
    if (out->coder == 2)
        for (int i = 1; i < 256; i++)
            if (rac_symbol(c, st, true) == INT32_MIN)
                goto done;
    out->colorspace = rac_symbol(c, st, false);
    out->bits = rac_symbol(c, st, false);
    rac_get(c, st);                         /* chroma planes */
    if (rac_symbol(c, st, false) < 0 || rac_symbol(c, st, false) < 0)
        goto done;                          /* chroma shifts */
    rac_get(c, st);                         /* transparency */
    int32_t h = rac_symbol(c, st, false), w = rac_symbol(c, st, false);
    if (h < 0 || w < 0 || h > 255 || w > 255 || out->colorspace < 0 || out->bits < 0)
        goto done;
    out->h_slices = h + 1;
    out->v_slices = w + 1;
    int32_t qtc = rac_symbol(c, st, false);
    if (qtc <= 0 || qtc > 8)
        goto done;
    int ctx_count[8];
    for (int q = 0; q < qtc; q++) {
        int count = 1;
        for (int t = 0; t < 5; t++) {
            uint8_t qs[FFV1_CONTEXT_SIZE];
            memset(qs, 128, sizeof(qs));
            int i = 0, val = 0;
            for (val = 0; i < 128; val++) {
                int32_t l = rac_symbol(c, qs, false);
                if (l < 0 || l + 1 > 128 - i)
                    goto done;
                i += l + 1;
                if (c->overread > 16)
                    goto done;
            }
            count *= 2 * val - 1;
            if (count > 32768)
                goto done;
        }
        ctx_count[q] = (count + 1) / 2;
    }
    uint8_t st2[FFV1_CONTEXT_SIZE][FFV1_CONTEXT_SIZE];
    memset(st2, 128, sizeof(st2));
    for (int q = 0; q < qtc; q++) {
        if (!rac_get(c, st))
            continue;
        for (int j = 0; j < ctx_count[q]; j++)
            for (int k = 0; k < FFV1_CONTEXT_SIZE; k++) {
                if (rac_symbol(c, st2[k], true) == INT32_MIN || c->overread > 16)
                    goto done;
            }
    }
    if (v > 2) {
        out->ec = rac_symbol(c, st, false);
        if (out->micro_version > 2)
            out->intra = rac_symbol(c, st, false);
        out->crc_ok = av_crc(av_crc_get_table(AV_CRC_32_IEEE), 0, data, len) == 0;
    } else {
        out->crc_ok = true;
    }
    if (out->ec < 0 || out->intra < 0 || c->overread > 16)
        goto done;
    rc = EV_OK;
done:
    free(c);
    return rc;
}

int ev_conform__ffv1_slices(int *slices, int *crc_bad, const uint8_t *pkt, size_t len, bool ec)
{
    *slices = 0;
    *crc_bad = 0;
    size_t trailer = ec ? 8 : 3;
    size_t pos = len;
    const AVCRC *tab = av_crc_get_table(AV_CRC_32_IEEE);
    while (pos > 0) {
        if (pos < trailer || *slices >= 4096)
            return EV_EFORMAT;
        size_t v = AV_RB24(pkt + pos - trailer) + trailer;
        if (v > pos)
            return EV_EFORMAT;
        pos -= v;
        if (ec && av_crc(tab, 0, pkt + pos, v) != 0)
            (*crc_bad)++;
        (*slices)++;
    }
    return *slices > 0 ? EV_OK : EV_EFORMAT;
}

/* ------------------------------------------------------------------------ */
/* MP4 top-level boxes                                                       */
/* ------------------------------------------------------------------------ */

int ev_conform__mp4_top_boxes(int64_t *moov, int64_t *mdat, const char *path, ev_errbuf *err)
{
    *moov = *mdat = -1;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return ev_err__set(err, ev_err__from_errno(e), "cannot open '%s': %s", path,
                           strerror(e));
    }
    int rc = EV_OK;
    if (fseeko(f, 0, SEEK_END) != 0) {
        fclose(f);
        return ev_err__set(err, EV_EIO, "cannot seek in '%s'", path);
    }
    int64_t size = (int64_t)ftello(f), pos = 0;
    ev_media__box_iter it;
    ev_media__box b;
    ev_media__box_iter_io(&it, ev_media__box_read_stdio, f, 0, size > 0 ? (uint64_t)size : 0);
    for (int guard = 0; pos < size && guard < 100000; guard++) {
        if (ev_media__box_next(&b, &it) != EV_MEDIA__BOX_OK) {
            rc = EV_EFORMAT;
            break;
        }
        if (b.type == MKBETAG('m', 'o', 'o', 'v') && *moov < 0)
            *moov = pos;
        if (b.type == MKBETAG('m', 'd', 'a', 't') && *mdat < 0)
            *mdat = pos;
        pos = (int64_t)b.end;
    }
    fclose(f);
    if (rc != EV_OK)
        ev_err__set(err, rc, "'%s': broken MP4 box structure at byte %lld", path,
                    (long long)pos);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Facts                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct sfacts {
    int index;
    int stype;                   /* ev_stype, or -1 for streams we ignore */
    json_t *val[EV_CHECK_COUNT]; /* measured values */
    char note[EV_CHECK_COUNT][320];
    /* packet pass */
    int64_t packets, since_key, gop_max, keyframes;
    bool ffv1;
    ev_ffv1_config cfg;
    bool cfg_ok;
    int min_slices, max_slices;
    int64_t crc_bad_frames, first_crc_bad, chain_broken;
    AVCodecContext *dec;
    int64_t dec_errors;
    char first_error[200];
    /* playable, timed, complete (video) */
    ev_buf list;                 /* packet list for the timeline */
    int64_t untimed, by_duration, not_increasing, first_bad;
    int64_t next_ts;             /* last time + its duration (AV_NOPTS_VALUE = none) */
    int64_t last_dts;
    int64_t frames_dec, size_changes;
    int w, h;
    char first_change[120];
} sfacts;

typedef struct facts {
    json_t *file[EV_CHECK_COUNT];
    char note[EV_CHECK_COUNT][200];
    sfacts *s;
    unsigned n;
    bool timeline;               /* timed / complete: keep the packet lists */
} facts;

static const char *chroma_name(const AVPixFmtDescriptor *d)
{
    if (!d)
        return NULL;
    if (!(d->flags & AV_PIX_FMT_FLAG_RGB) && d->nb_components <= 2)
        return "gray";
    if (d->flags & AV_PIX_FMT_FLAG_RGB)
        return "4:4:4";
    int w = d->log2_chroma_w, h = d->log2_chroma_h;
    if (w == 0 && h == 0) return "4:4:4";
    if (w == 1 && h == 0) return "4:2:2";
    if (w == 1 && h == 1) return "4:2:0";
    if (w == 2 && h == 0) return "4:1:1";
    if (w == 2 && h == 2) return "4:1:0";
    if (w == 0 && h == 1) return "4:4:0";
    return "other";
}

static const char *field_order_name(enum AVFieldOrder fo)
{
    switch (fo) {
    case AV_FIELD_PROGRESSIVE: return "progressive";
    case AV_FIELD_TT: return "tt";
    case AV_FIELD_BB: return "bb";
    case AV_FIELD_TB: return "tb";
    case AV_FIELD_BT: return "bt";
    default: return "unknown";
    }
}

static bool needs(const ev_profile *p, ev_check_id id)
{
    for (size_t i = 0; i < p->n_checks; i++)
        if (p->checks[i].id == id)
            return true;
    return false;
}

static void stream_static_facts(sfacts *sf, const AVStream *st)
{
    const AVCodecParameters *cp = st->codecpar;
    const char *prof = avcodec_profile_name(cp->codec_id, cp->profile);
    if (sf->stype == EV_ST_VIDEO) {
        const AVPixFmtDescriptor *d = av_pix_fmt_desc_get((enum AVPixelFormat)cp->format);
        sf->val[EV_CHECK_VIDEO_CODEC] = json_string(avcodec_get_name(cp->codec_id));
        sf->val[EV_CHECK_VIDEO_PROFILE] = prof ? json_string(prof) : json_null();
        sf->val[EV_CHECK_PIX_FMT] = d ? json_string(d->name) : json_null();
        sf->val[EV_CHECK_BIT_DEPTH] = d ? json_integer(d->comp[0].depth) : json_null();
        const char *cs = chroma_name(d);
        sf->val[EV_CHECK_CHROMA_SUBSAMPLING] = cs ? json_string(cs) : json_null();
        sf->val[EV_CHECK_FIELD_ORDER] = json_string(field_order_name(cp->field_order));
        sf->ffv1 = cp->codec_id == AV_CODEC_ID_FFV1;
        if (sf->ffv1) {
            sf->cfg_ok = ev_conform__ffv1_config(&sf->cfg, cp->extradata,
                                                 (size_t)(cp->extradata_size > 0
                                                          ? cp->extradata_size : 0)) == EV_OK;
            if (sf->cfg_ok) {
                sf->val[EV_CHECK_FFV1_VERSION] = json_integer(sf->cfg.version);
                snprintf(sf->note[EV_CHECK_FFV1_VERSION], sizeof(sf->note[0]), "version %d.%d, %s coder, "
                         "slice grid %dx%d, record CRC %s", sf->cfg.version,
                         sf->cfg.micro_version, sf->cfg.coder ? "range" : "Golomb-Rice",
                         sf->cfg.h_slices, sf->cfg.v_slices, sf->cfg.crc_ok ? "ok" : "BAD");
            } else {
                sf->val[EV_CHECK_FFV1_VERSION] = json_null();
                snprintf(sf->note[EV_CHECK_FFV1_VERSION], sizeof(sf->note[0]), "no readable version 2+ "
                         "configuration record (FFV1 version 0/1 keeps it in each frame)");
            }
        } else {
            for (int id = EV_CHECK_FFV1_VERSION; id <= EV_CHECK_FFV1_SLICE_CRC; id++)
                snprintf(sf->note[id], sizeof(sf->note[0]), "not an FFV1 stream");
        }
    } else if (sf->stype == EV_ST_AUDIO) {
        const char *sfmt = av_get_sample_fmt_name((enum AVSampleFormat)cp->format);
        int bits = cp->bits_per_raw_sample;
        if (bits <= 0)
            bits = av_get_bits_per_sample(cp->codec_id);
        if (bits <= 0 && cp->format >= 0)
            bits = 8 * av_get_bytes_per_sample((enum AVSampleFormat)cp->format);
        sf->val[EV_CHECK_AUDIO_CODEC] = json_string(avcodec_get_name(cp->codec_id));
        sf->val[EV_CHECK_AUDIO_PROFILE] = prof ? json_string(prof) : json_null();
        sf->val[EV_CHECK_AUDIO_SAMPLE_RATE] = json_integer(cp->sample_rate);
        sf->val[EV_CHECK_AUDIO_SAMPLE_FORMAT] = sfmt ? json_string(sfmt) : json_null();
        sf->val[EV_CHECK_AUDIO_BIT_DEPTH] = bits > 0 ? json_integer(bits) : json_null();
        sf->val[EV_CHECK_AUDIO_CHANNELS] = json_integer(cp->ch_layout.nb_channels);
    }
}

static void note_decode_error(sfacts *sf, int64_t pkt, double t, const char *what)
{
    if (sf->dec_errors++ == 0)
        snprintf(sf->first_error, sizeof(sf->first_error), "stream #%d packet %lld "
                 "(t=%.3fs): %.120s", sf->index, (long long)pkt, t, what);
}

static void drain(sfacts *sf, AVFrame *fr, int64_t pkt, double t)
{
    for (;;) {
        int e = avcodec_receive_frame(sf->dec, fr);
        if (e == AVERROR(EAGAIN) || e == AVERROR_EOF)
            return;
        if (e < 0) {
            char eb[AV_ERROR_MAX_STRING_SIZE];
            av_strerror(e, eb, sizeof(eb));
            note_decode_error(sf, pkt, t, eb);
            return;
        }
        if (fr->decode_error_flags || (fr->flags & AV_FRAME_FLAG_CORRUPT))
            note_decode_error(sf, pkt, t, "damaged frame (concealed by the decoder)");
        if (sf->stype == EV_ST_VIDEO) {
            /* picture size changes inside the stream (in-band parameter sets) */
            if (sf->w && (fr->width != sf->w || fr->height != sf->h) &&
                sf->size_changes++ == 0) {
                /* frames counted from 1, as inspect's timeline counts them; no
                 * time when the frame has none (a raw stream), never 0 */
                int64_t ts = fr->best_effort_timestamp;
                char at[48] = "no time";
                if (ts != AV_NOPTS_VALUE)
                    snprintf(at, sizeof(at), "t=%.3f s",
                             (double)ts * av_q2d(sf->dec->pkt_timebase));
                snprintf(sf->first_change, sizeof(sf->first_change), "at frame %lld (%s): "
                         "%dx%d -> %dx%d", (long long)sf->frames_dec + 1, at, sf->w, sf->h,
                         fr->width, fr->height);
            }
            sf->w = fr->width;
            sf->h = fr->height;
            sf->frames_dec++;
        }
        av_frame_unref(fr);
    }
}

static int packet_pass(facts *fx, AVFormatContext *fc, bool decode, ev_progress_cb cb,
                       void *payload, ev_errbuf *err)
{
    int64_t last = av_gettime_relative(), total = avio_size(fc->pb);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    int rc = EV_OK;
    char demux_error[200] = "";
    if (!pkt || !fr) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    if (decode) {
        for (unsigned i = 0; i < fx->n; i++) {
            sfacts *sf = &fx->s[i];
            if (sf->stype != EV_ST_VIDEO && sf->stype != EV_ST_AUDIO)
                continue;
            ev_errbuf e2;
            if (ev_transcode__open_decoder(&sf->dec, fc->streams[i], true, &e2) != EV_OK)
                note_decode_error(sf, 0, 0, e2.msg);
        }
    }
    for (;;) {
        int e = av_read_frame(fc, pkt);
        if (e == AVERROR_EOF)
            break;
        if (e < 0) {
            char eb[AV_ERROR_MAX_STRING_SIZE];
            av_strerror(e, eb, sizeof(eb));
            snprintf(demux_error, sizeof(demux_error), "the file cannot be read to its end "
                     "(%s after byte %lld)", eb, (long long)avio_tell(fc->pb));
            break;
        }
        if ((unsigned)pkt->stream_index >= fx->n) {
            av_packet_unref(pkt);
            continue;
        }
        sfacts *sf = &fx->s[pkt->stream_index];
        AVStream *st = fc->streams[pkt->stream_index];
        double t = pkt->pts != AV_NOPTS_VALUE ? (double)pkt->pts * av_q2d(st->time_base) : 0;
        if (sf->stype == EV_ST_VIDEO) {
            if (pkt->flags & AV_PKT_FLAG_KEY) {
                sf->keyframes++;
                sf->since_key = 0;
            }
            sf->since_key++;
            if (sf->since_key > sf->gop_max)
                sf->gop_max = sf->since_key;
            if (sf->ffv1 && sf->cfg_ok && sf->cfg.version >= 3) {
                int n = 0, bad = 0;
                if (ev_conform__ffv1_slices(&n, &bad, pkt->data, (size_t)pkt->size,
                                            sf->cfg.ec != 0) != EV_OK) {
                    sf->chain_broken++;
                } else {
                    if (sf->min_slices == 0 || n < sf->min_slices)
                        sf->min_slices = n;
                    if (n > sf->max_slices)
                        sf->max_slices = n;
                }
                if (bad && sf->crc_bad_frames++ == 0)
                    sf->first_crc_bad = sf->packets;
            }
        }
        if (sf->stype == EV_ST_VIDEO && fx->timeline) {
            /* as the media scan's packet list: index dts pts duration */
            char a[24] = "-", b[24] = "-", c[24] = "-";
            if (pkt->dts != AV_NOPTS_VALUE)
                snprintf(a, sizeof(a), "%lld", (long long)pkt->dts);
            if (pkt->pts != AV_NOPTS_VALUE)
                snprintf(b, sizeof(b), "%lld", (long long)pkt->pts);
            if (pkt->duration > 0)
                snprintf(c, sizeof(c), "%lld", (long long)pkt->duration);
            if (ev_buf__printf(&sf->list, "%lld %s %s %s\n", (long long)sf->packets, a, b, c)) {
                rc = ev_err__set(err, EV_ENOMEM, "out of memory");
                av_packet_unref(pkt);
                goto done;
            }
            int64_t ts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
            if (ts == AV_NOPTS_VALUE && sf->next_ts != AV_NOPTS_VALUE && pkt->duration > 0) {
                /* MPEG-PS: a time only on the first frame of each PES packet;
                 * the others follow it by their durations */
                sf->by_duration++;
                sf->next_ts += pkt->duration;
            } else if (ts == AV_NOPTS_VALUE) {
                if (sf->untimed++ == 0 && !sf->not_increasing)
                    sf->first_bad = sf->packets;
                sf->next_ts = AV_NOPTS_VALUE;
            } else {
                sf->next_ts = pkt->duration > 0 ? ts + pkt->duration : AV_NOPTS_VALUE;
                if (sf->packets && sf->last_dts != AV_NOPTS_VALUE && ts <= sf->last_dts &&
                    sf->not_increasing++ == 0 && !sf->untimed)
                    sf->first_bad = sf->packets;
                sf->last_dts = ts;
            }
        }
        if (sf->dec) {
            e = avcodec_send_packet(sf->dec, pkt);
            if (e < 0 && e != AVERROR(EAGAIN)) {
                char eb[AV_ERROR_MAX_STRING_SIZE];
                av_strerror(e, eb, sizeof(eb));
                note_decode_error(sf, sf->packets, t, eb);
            }
            drain(sf, fr, sf->packets, t);
        }
        sf->packets++;
        av_packet_unref(pkt);
        if (cb && av_gettime_relative() - last > 100000) {
            last = av_gettime_relative();
            int64_t pos = avio_tell(fc->pb);
            ev_progress pr = { EV_PROGRESS_VERSION, "checking", fc->url,
                               (uint64_t)(pos > 0 ? pos : 0), (uint64_t)(total > 0 ? total : 0),
                               0, 1 };
            if (cb(&pr, payload)) {
                rc = ev_err__set(err, EV_ECANCELED, "canceled by callback");
                goto done;
            }
        }
    }
    for (unsigned i = 0; i < fx->n; i++) {
        sfacts *sf = &fx->s[i];
        if (sf->dec) {
            avcodec_send_packet(sf->dec, NULL);
            drain(sf, fr, sf->packets, 0);
        }
    }
    /* GOP and FFV1 results */
    for (unsigned i = 0; i < fx->n; i++) {
        sfacts *sf = &fx->s[i];
        if (sf->stype != EV_ST_VIDEO)
            continue;
        sf->val[EV_CHECK_GOP] = sf->packets ? json_integer(sf->gop_max) : json_null();
        snprintf(sf->note[EV_CHECK_GOP], sizeof(sf->note[0]), "%lld packets, %lld key frames; largest "
                 "distance between key frames %lld", (long long)sf->packets,
                 (long long)sf->keyframes, (long long)sf->gop_max);
        if (!sf->ffv1 || !sf->cfg_ok || sf->cfg.version < 3)
            continue;
        if (sf->chain_broken || sf->min_slices == 0) {
            sf->val[EV_CHECK_FFV1_SLICES] = json_null();
            sf->val[EV_CHECK_FFV1_SLICE_CRC] = json_false();
            snprintf(sf->note[EV_CHECK_FFV1_SLICES], sizeof(sf->note[0]), "slice chain broken in %lld of "
                     "%lld frames (damaged data)", (long long)sf->chain_broken,
                     (long long)sf->packets);
            snprintf(sf->note[EV_CHECK_FFV1_SLICE_CRC], sizeof(sf->note[0]), "%s", sf->note[EV_CHECK_FFV1_SLICES]);
            continue;
        }
        sf->val[EV_CHECK_FFV1_SLICES] = json_integer(sf->min_slices);
        snprintf(sf->note[EV_CHECK_FFV1_SLICES], sizeof(sf->note[0]), "%d to %d slices per frame (grid %dx%d)",
                 sf->min_slices, sf->max_slices, sf->cfg.h_slices, sf->cfg.v_slices);
        bool ok = sf->cfg.ec && sf->crc_bad_frames == 0;
        sf->val[EV_CHECK_FFV1_SLICE_CRC] = json_boolean(ok);
        if (!sf->cfg.ec)
            snprintf(sf->note[EV_CHECK_FFV1_SLICE_CRC], sizeof(sf->note[0]), "slices carry no CRC (ec=0)");
        else if (sf->crc_bad_frames)
            snprintf(sf->note[EV_CHECK_FFV1_SLICE_CRC], sizeof(sf->note[0]), "CRC mismatch in %lld frames, "
                     "first at frame %lld", (long long)sf->crc_bad_frames,
                     (long long)sf->first_crc_bad);
        else
            snprintf(sf->note[EV_CHECK_FFV1_SLICE_CRC], sizeof(sf->note[0]), "every slice CRC verified (%lld "
                     "frames)", (long long)sf->packets);
    }
    if (decode) {
        int64_t errors = 0;
        const char *first = NULL;
        for (unsigned i = 0; i < fx->n; i++) {
            errors += fx->s[i].dec_errors;
            if (!first && fx->s[i].dec_errors)
                first = fx->s[i].first_error;
        }
        ev_errbuf e3;
        if (!demux_error[0] && fc->iformat &&
            ev_transcode__container_complete(fc->url, fc->iformat->name, &e3) != EV_OK)
            snprintf(demux_error, sizeof(demux_error), "%.190s", e3.msg);
        if (demux_error[0])
            errors++;
        fx->file[EV_CHECK_DECODES_CLEANLY] = json_boolean(errors == 0);
        if (errors)
            snprintf(fx->note[EV_CHECK_DECODES_CLEANLY], 200, "%lld error%s; first: %.150s",
                     (long long)errors, errors == 1 ? "" : "s",
                     first ? first : demux_error);
        else
            snprintf(fx->note[EV_CHECK_DECODES_CLEANLY], 200, "every packet of every audio "
                     "and video stream decoded without error");
    }
done:
    av_packet_free(&pkt);
    av_frame_free(&fr);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* playable, timed, complete (CCTV exports)                                  */
/* ------------------------------------------------------------------------ */

/* Containers and codecs that common players (browsers, VLC, Windows and
 * macOS players, ffplay) read. */
static bool common_container(const char *c)
{
    return !strcmp(c, "mp4") || !strcmp(c, "mov") || !strcmp(c, "matroska");
}

static bool common_codec(enum AVCodecID id)
{
    return id == AV_CODEC_ID_H264 || id == AV_CODEC_ID_HEVC;
}

static const char *raw_name(const char *fmt)
{
    return !strcmp(fmt, "h264") ? "H.264" : !strcmp(fmt, "hevc") ? "H.265" : fmt;
}

static int cctv_rules(facts *fx, AVFormatContext *fc, const char *cname, bool decoded,
                      unsigned fps_num, unsigned fps_den, ev_errbuf *err)
{
    const char *fmt = fc->iformat->name;
    bool raw = ev_transcode__untimed_demuxer(fmt);
    for (unsigned i = 0; i < fx->n; i++) {
        sfacts *sf = &fx->s[i];
        if (sf->stype != EV_ST_VIDEO)
            continue;
        const AVStream *st = fc->streams[i];
        const char *codec = avcodec_get_name(st->codecpar->codec_id);
        /* playable */
        if (decoded) {
            bool cok = common_container(cname), kok = common_codec(st->codecpar->codec_id);
            bool dok = sf->dec_errors == 0 && sf->frames_dec > 0;
            sf->val[EV_CHECK_PLAYABLE] = json_boolean(cok && kok && dok);
            char sizes[150] = "";
            if (sf->size_changes)
                snprintf(sizes, sizeof(sizes), "; picture size changes %lld time%s, first %.100s",
                         (long long)sf->size_changes, sf->size_changes == 1 ? "" : "s",
                         sf->first_change);
            if (!cok)
                snprintf(sf->note[EV_CHECK_PLAYABLE], sizeof(sf->note[0]), "%s: common players do not read "
                         "this container%s", raw ? "a raw elementary stream" : cname,
                         raw ? " (no container)" : "");
            else if (!kok)
                snprintf(sf->note[EV_CHECK_PLAYABLE], sizeof(sf->note[0]), "%s video: common players do not "
                         "decode it", codec);
            else if (!dok)
                snprintf(sf->note[EV_CHECK_PLAYABLE], sizeof(sf->note[0]), "%.150s", sf->dec_errors
                         ? sf->first_error : "no frame decodes");
            else
                snprintf(sf->note[EV_CHECK_PLAYABLE], sizeof(sf->note[0]), "%s in %s; every one of %lld "
                         "frames decoded%.100s", codec, cname, (long long)sf->frames_dec, sizes);
        }
        if (!fx->timeline)
            continue;
        json_t *tl = NULL;
        if (ev_media__timeline_of_list(&tl, sf->list.data, false, st, fmt, true) != EV_OK)
            return ev_err__set(err, EV_ENOMEM, "out of memory");
        const char *src = json_string_value(json_object_get(tl, "time_source"));
        bool none = raw || (src && !strcmp(src, "none"));
        /* timed */
        if (none && fps_num) {
            sf->val[EV_CHECK_TIMED] = json_true();
            snprintf(sf->note[EV_CHECK_TIMED], sizeof(sf->note[0]), "no time per frame in the file; timed "
                     "by the rate the user stated, %u/%u fps (an assumption, not measured)",
                     fps_num, fps_den);
        } else if (none) {
            sf->val[EV_CHECK_TIMED] = json_false();
            snprintf(sf->note[EV_CHECK_TIMED], sizeof(sf->note[0]), "no timestamps (%s%s%s); a copy needs the "
                     "frame rate stated (--assume-fps)", raw ? "raw " : "",
                     raw ? raw_name(fmt) : "no packet carries a time",
                     raw ? " elementary stream" : "");
        } else if (sf->untimed || sf->not_increasing) {
            sf->val[EV_CHECK_TIMED] = json_false();
            snprintf(sf->note[EV_CHECK_TIMED], sizeof(sf->note[0]), "%lld packets without a time, %lld whose "
                     "time does not increase; the first at packet %lld",
                     (long long)sf->untimed, (long long)sf->not_increasing,
                     (long long)sf->first_bad);
        } else if (sf->by_duration) {
            sf->val[EV_CHECK_TIMED] = json_true();
            snprintf(sf->note[EV_CHECK_TIMED], sizeof(sf->note[0]), "every one of %lld packets has a time or "
                     "follows one by its duration (%lld timed as the previous plus its "
                     "duration), increasing", (long long)sf->packets,
                     (long long)sf->by_duration);
        } else {
            sf->val[EV_CHECK_TIMED] = json_true();
            snprintf(sf->note[EV_CHECK_TIMED], sizeof(sf->note[0]), "every one of %lld packets has a time, "
                     "increasing (%s)", (long long)sf->packets,
                     src && !strcmp(src, "frame-stamps") ? "DAV frame stamps" : "container");
        }
        /* complete */
        if (none) {
            sf->val[EV_CHECK_COMPLETE] = json_false();
            snprintf(sf->note[EV_CHECK_COMPLETE], sizeof(sf->note[0]), "no time per frame: missing frames "
                     "cannot be seen%s", fps_num ? " (an assumed rate says nothing about "
                     "gaps)" : "");
        } else {
            json_int_t g = json_integer_value(json_object_get(tl, "gaps_total"));
            json_int_t d = json_integer_value(json_object_get(tl, "discontinuities_total"));
            sf->val[EV_CHECK_COMPLETE] = json_boolean(g == 0 && d == 0);
            json_t *g0 = json_array_get(json_object_get(tl, "gaps"), 0);
            json_t *d0 = json_array_get(json_object_get(tl, "discontinuities"), 0);
            if (g)
                snprintf(sf->note[EV_CHECK_COMPLETE], sizeof(sf->note[0]), "%lld gap%s (%.3f s missing), %lld "
                         "discontinuit%s; first gap after frame %lld: %.3f s missing",
                         (long long)g, g == 1 ? "" : "s",
                         json_number_value(json_object_get(tl, "missing")), (long long)d,
                         d == 1 ? "y" : "ies",
                         (long long)json_integer_value(json_object_get(g0, "after_frame")),
                         json_number_value(json_object_get(g0, "missing")));
            else if (d)
                snprintf(sf->note[EV_CHECK_COMPLETE], sizeof(sf->note[0]), "%lld discontinuit%s; the first "
                         "after frame %lld: time %s by %.3f s", (long long)d,
                         d == 1 ? "y" : "ies",
                         (long long)json_integer_value(json_object_get(d0, "after_frame")),
                         json_number_value(json_object_get(d0, "step")) < 0 ? "goes back"
                                                                              : "stands still",
                         fabs(json_number_value(json_object_get(d0, "step"))));
            else
                snprintf(sf->note[EV_CHECK_COMPLETE], sizeof(sf->note[0]), "%lld frames, no gap and no "
                         "discontinuity in the timeline", (long long)json_integer_value(
                                                              json_object_get(tl, "frames")));
        }
        json_decref(tl);
    }
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* Rules                                                                     */
/* ------------------------------------------------------------------------ */

static const char *const op_names[] = { "equals", "in", "min", "max" };

static bool eval(const ev_check_rule *r, const json_t *m)
{
    if (!m || json_is_null(m))
        return false;
    switch (r->op) {
    case EV_OP_EQUALS:
        return json_equal((json_t *)m, r->value);
    case EV_OP_IN: {
        size_t i;
        json_t *x;
        json_array_foreach(r->value, i, x)
            if (json_equal((json_t *)m, x))
                return true;
        return false;
    }
    case EV_OP_MIN:
        return json_is_integer(m) && json_integer_value(m) >= json_integer_value(r->value);
    case EV_OP_MAX:
        return json_is_integer(m) && json_integer_value(m) <= json_integer_value(r->value);
    }
    return false;
}

static json_t *result_obj(const ev_check_rule *r, int stream, const json_t *m, const char *res,
                          const char *note)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "check", json_string(ev_profile__check_name(r->id)));
    if (stream >= 0)
        json_object_set_new(o, "stream", json_integer(stream));
    json_object_set_new(o, "operator", json_string(op_names[r->op]));
    json_object_set(o, "expected", r->value);
    json_object_set(o, "measured", m ? (json_t *)m : json_null());
    json_object_set_new(o, "result", json_string(res));
    if (r->description)
        json_object_set_new(o, "description", json_string(r->description));
    if (note && *note)
        json_object_set_new(o, "note", json_string(note));
    return o;
}

int ev_conform__check(json_t **out, const ev_profile *p, const char *path, ev_errbuf *err)
{
    return ev_conform__check_ex(out, p, path, NULL, NULL, 0, 0, err);
}

int ev_conform__check_ex(json_t **out, const ev_profile *p, const char *path,
                         ev_progress_cb progress_cb, void *payload, unsigned int fps_num,
                         unsigned int fps_den, ev_errbuf *err)
{
    AVFormatContext *fc = NULL;
    facts fx;
    memset(&fx, 0, sizeof(fx));
    json_t *doc = NULL, *results = NULL;
    int rc;
    *out = NULL;
    if (!p || !path)
        return ev_err__set(err, EV_EINVAL, "check: NULL argument");
    if ((rc = ev_transcode__open_input(&fc, path, err)) != EV_OK)
        return rc;
    fx.n = fc->nb_streams;
    fx.s = ev__calloc(fx.n ? fx.n : 1, sizeof(*fx.s));
    if (!fx.s) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    int nv = 0, na = 0;
    for (unsigned i = 0; i < fx.n; i++) {
        AVStream *st = fc->streams[i];
        sfacts *sf = &fx.s[i];
        sf->index = (int)i;
        sf->last_dts = AV_NOPTS_VALUE;
        sf->next_ts = AV_NOPTS_VALUE;
        enum AVMediaType t = st->codecpar->codec_type;
        sf->stype = t == AVMEDIA_TYPE_VIDEO && !ev_transcode__is_attached_pic(st) ? EV_ST_VIDEO
                  : t == AVMEDIA_TYPE_AUDIO ? EV_ST_AUDIO
                  : t == AVMEDIA_TYPE_SUBTITLE ? EV_ST_SUBTITLE
                  : t == AVMEDIA_TYPE_DATA ? EV_ST_DATA : -1;
        nv += sf->stype == EV_ST_VIDEO;
        na += sf->stype == EV_ST_AUDIO;
        stream_static_facts(sf, st);
    }
    char cname[64];
    ev_transcode__container_name(cname, sizeof(cname), fc, path);
    fx.file[EV_CHECK_CONTAINER] = json_string(cname);
    snprintf(fx.note[EV_CHECK_CONTAINER], 200, "demuxer %s", fc->iformat->name);
    fx.file[EV_CHECK_VIDEO_STREAMS] = json_integer(nv);
    fx.file[EV_CHECK_AUDIO_STREAMS] = json_integer(na);
    if (needs(p, EV_CHECK_FASTSTART)) {
        if (strncmp(fc->iformat->name, "mov,", 4) == 0) {
            int64_t moov, mdat;
            ev_errbuf e2;
            if (ev_conform__mp4_top_boxes(&moov, &mdat, path, &e2) == EV_OK && moov >= 0) {
                fx.file[EV_CHECK_FASTSTART] = json_boolean(mdat < 0 || moov < mdat);
                snprintf(fx.note[EV_CHECK_FASTSTART], 200, "moov at byte %lld, mdat at byte "
                         "%lld", (long long)moov, (long long)mdat);
            } else {
                fx.file[EV_CHECK_FASTSTART] = json_false();
                snprintf(fx.note[EV_CHECK_FASTSTART], 200, "no moov box found at the top "
                         "level (damaged or fragmented file)");
            }
        } else {
            fx.file[EV_CHECK_FASTSTART] = json_null();
            snprintf(fx.note[EV_CHECK_FASTSTART], 200, "not an MP4/MOV file");
        }
    }
    if (needs(p, EV_CHECK_EXIF_PRESENT)) {
        uint8_t *ex = NULL;
        size_t exl = 0;
        ev_errbuf e2;
        if (ev_transcode__file_exif(&ex, &exl, path, &e2) == EV_OK) {
            fx.file[EV_CHECK_EXIF_PRESENT] = json_boolean(ex != NULL);
            if (ex)
                snprintf(fx.note[EV_CHECK_EXIF_PRESENT], 200, "%zu bytes of EXIF", exl);
        } else {
            fx.file[EV_CHECK_EXIF_PRESENT] = json_false();
            snprintf(fx.note[EV_CHECK_EXIF_PRESENT], 200, "%.190s", e2.msg);
        }
        free(ex);
    }
    bool decode = needs(p, EV_CHECK_DECODES_CLEANLY) || needs(p, EV_CHECK_PLAYABLE);
    fx.timeline = needs(p, EV_CHECK_TIMED) || needs(p, EV_CHECK_COMPLETE);
    if (decode || fx.timeline || needs(p, EV_CHECK_GOP) || needs(p, EV_CHECK_FFV1_SLICES) ||
        needs(p, EV_CHECK_FFV1_SLICE_CRC)) {
        if ((rc = packet_pass(&fx, fc, decode, progress_cb, payload, err)) != EV_OK)
            goto done;
    }
    if ((rc = cctv_rules(&fx, fc, cname, decode, fps_num, fps_den, err)) != EV_OK)
        goto done;

    results = json_array();
    doc = json_object();
    if (!results || !doc) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    int64_t passed = 0, failed = 0, na_count = 0;
    for (size_t i = 0; i < p->n_checks; i++) {
        const ev_check_rule *r = &p->checks[i];
        int stype = ev_profile__check_stype(r->id);
        if (stype < 0) {
            const json_t *m = fx.file[r->id];
            bool ok = eval(r, m);
            const char *note = fx.note[r->id];
            if (!m || json_is_null(m))
                note = *note ? note : "could not be measured";
            json_array_append_new(results, result_obj(r, -1, m, ok ? "pass" : "fail", note));
            ok ? passed++ : failed++;
            continue;
        }
        bool any = false;
        for (unsigned s = 0; s < fx.n; s++) {
            if (fx.s[s].stype != stype)
                continue;
            any = true;
            const json_t *m = fx.s[s].val[r->id];
            bool ok = eval(r, m);
            const char *note = fx.s[s].note[r->id];
            if ((!m || json_is_null(m)) && !*note)
                note = "could not be measured";
            json_array_append_new(results, result_obj(r, (int)s, m, ok ? "pass" : "fail", note));
            ok ? passed++ : failed++;
        }
        if (!any) {
            char note[64];
            snprintf(note, sizeof(note), "the file has no %s stream",
                     ev_profile__stype_name((ev_stype)stype));
            json_array_append_new(results, result_obj(r, -1, NULL, "n/a", note));
            na_count++;
        }
    }
    char hex[65];
    uint64_t size = 0;
    if (ev_transcode__file_sha256(hex, &size, path, err) != EV_OK)
        hex[0] = '\0';
    json_object_set_new(doc, "format", json_string("evidence.check"));
    json_object_set_new(doc, "format_version", json_integer(1));
    json_object_set_new(doc, "file", json_string(path));
    json_object_set_new(doc, "size", json_integer((json_int_t)size));
    if (hex[0])
        json_object_set_new(doc, "sha256", json_string(hex));
    json_object_set_new(doc, "profile", json_pack("{s:s, s:s}", "name", p->name, "sha256",
                                                  p->sha256));
    json_object_set_new(doc, "verdict", json_string(failed ? "fail" : "pass"));
    json_object_set_new(doc, "passed", json_integer(passed));
    json_object_set_new(doc, "failed", json_integer(failed));
    json_object_set_new(doc, "not_applicable", json_integer(na_count));
    json_object_set(doc, "results", results);
    *out = doc;
    doc = NULL;
    rc = EV_OK;
done:
    json_decref(results);
    json_decref(doc);
    for (unsigned i = 0; fx.s && i < fx.n; i++) {
        for (int k = 0; k < EV_CHECK_COUNT; k++)
            json_decref(fx.s[i].val[k]);
        avcodec_free_context(&fx.s[i].dec);
        ev_buf__free(&fx.s[i].list);
    }
    for (int k = 0; k < EV_CHECK_COUNT; k++)
        json_decref(fx.file[k]);
    free(fx.s);
    avformat_close_input(&fc);
    return rc;
}
