/*
 * pass: the one pass over the source: packets read once, copied (checked
 * for damage the packaging shows) or decoded, converted and encoded, then
 * the encoders flushed and every stream checked for completeness against
 * the index.
 */
#include "transcode/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/time.h>
#include <libswscale/swscale.h>

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
        int e = j->avf->buffersink_get_frame(o->asink, j->ffr);
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
        return ev_transcode__refuse_damaged(j, what);
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
            return ev_transcode__refuse_damaged(j, what);
        }
        if (len && (p[0] & 0x80)) {
            snprintf(what, sizeof(what), "stream #%d (%s), packet %lld at byte %lld: NAL unit "
                     "%lld has its forbidden bit set", o->in_idx, codec,
                     (long long)o->packets_in, (long long)pkt->pos, (long long)unit);
            return ev_transcode__refuse_damaged(j, what);
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
int ev_transcode__check_index(job *j)
{
    if (strncmp(j->ic->iformat->name, "mov,", 4) != 0)
        return EV_OK;
    unsigned n = j->ic->nb_streams < EV_TC_MAX_STREAMS ? j->ic->nb_streams : EV_TC_MAX_STREAMS;
    for (unsigned i = 0; i < n; i++)
        j->index_pkts[i] = avformat_index_get_entries_count(j->ic->streams[i]);
    ev_errbuf e2;
    int rc = ev_transcode__mov_sample_table(j->table_pkts, n, j->in, &e2);
    if (rc == EV_EFORMAT)
        return ev_transcode__refuse_damaged(j, e2.msg);
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
                return ev_transcode__refuse_damaged(j, what);
            }
        }
    }
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* Frame stamps (DAV)                                                        */
/* ------------------------------------------------------------------------ */

#define EV_TC_MAX_RUNS 100000 /* runs of frame times kept in the record */

/* A stamp (ms of camera-local time) as "YYYY-MM-DDTHH:MM:SS.mmm", as the
 * timeline of evidence inspect gives it (docs/media.md). */
static void wallclock_str(char *buf, size_t len, int64_t ms)
{
    int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int frac = (int)(ms - s * 1000);
    time_t tt = (time_t)s;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(buf, len, "?");
        return;
    }
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

#define EV_TC_DAV_MIN_DATE 946684800000LL /* 2000-01-01: earlier DAV dates are impossible */

static void flush_run(ost *o)
{
    if (!o->run_n)
        return;
    if (json_array_size(o->runs) >= EV_TC_MAX_RUNS) {
        o->runs_truncated = true;
        return;
    }
    char w[48];
    wallclock_str(w, sizeof(w), o->run_first);
    json_t *r = json_pack("{s:I, s:I, s:I, s:s, s:I}", "frame", (json_int_t)o->run_frame,
                          "frames", (json_int_t)o->run_n, "copy_ms", (json_int_t)o->run_out,
                          "wallclock", w, "stamp_ms", (json_int_t)o->run_first);
    if (r && o->run_n > 1)
        json_object_set_new(r, "step_ms", json_integer(o->run_step));
    if (r && o->run_first < EV_TC_DAV_MIN_DATE)
        json_object_set_new(r, "impossible", json_true());
    json_array_append_new(o->runs, r);
}

/* Each frame's stamp joins the run of equal steps it continues, or starts
 * one. The copy's time is the stamp less the first stamp, so that the copy
 * keeps the gaps of the recording; where the stamps go back or stand still
 * (the camera's clock was set back, or frames were written out of order),
 * or a date is impossible (before 2000), the copy goes on one interval
 * after the previous frame instead, because an MP4 cannot hold times that
 * go back. Every run in the record gives the copy's time of its first
 * frame beside the stamp, so that each frame's stamp is always known. */
static void frame_stamp(ost *o, AVPacket *pkt)
{
    int64_t t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    if (t == AV_NOPTS_VALUE)
        return;
    int64_t k = o->frames_stamped++;
    bool possible = t >= EV_TC_DAV_MIN_DATE;
    if (!possible)
        o->impossible++;
    AVRational fr = o->ist->avg_frame_rate;
    int64_t step = o->run_n > 1 && o->run_step > 0 ? o->run_step
                 : fr.num > 0 && fr.den > 0 ? av_rescale(1000, fr.den, fr.num) : 40;
    if (step <= 0)
        step = 1;
    int64_t out;
    bool rebase = false;
    if (k == 0) {
        out = 0;
    } else if (!possible || o->ts_offset == AV_NOPTS_VALUE) {
        out = o->last_out + step;
    } else {
        out = t - o->ts_offset;
        if (out <= o->last_out) {
            out = o->last_out + step;
            rebase = true;
            o->rebased++;
        }
    }
    if (possible && (o->ts_offset == AV_NOPTS_VALUE || rebase))
        o->ts_offset = t - out;
    if (possible && o->first_stamp == AV_NOPTS_VALUE)
        o->first_stamp = t;
    if (o->run_n == 1 && t - o->run_last == out - o->last_out && out > o->last_out) {
        o->run_step = t - o->run_last;
        o->run_n++;
    } else if (o->run_n > 1 && t - o->run_last == o->run_step &&
               out - o->last_out == o->run_step) {
        o->run_n++;
    } else {
        flush_run(o);
        o->run_frame = k;
        o->run_first = t;
        o->run_out = out;
        o->run_n = 1;
    }
    o->run_last = t;
    o->last_out = out;
    int64_t d = pkt->dts != AV_NOPTS_VALUE && pkt->pts != AV_NOPTS_VALUE ? pkt->pts - pkt->dts : 0;
    pkt->pts = out;
    pkt->dts = out - d;
}

/* DAV: the bytes between two frames the demuxer read are the first frame's
 * trailer (8) and the next one's header (24 + at most 255 of extensions);
 * more means the demuxer skipped bytes it could not read as a frame (a
 * damaged header or frame length): damage, refused like other damage. */
#define EV_TC_DAV_MAX_OVERHEAD (8 + 24 + 255)

static int check_dav_frame(job *j, ost *o, const AVPacket *pkt)
{
    if (pkt->pos < 0)
        return EV_OK;
    int64_t from = o->last_end >= 0 ? o->last_end : 0;
    if (pkt->pos - from > EV_TC_DAV_MAX_OVERHEAD) {
        char what[400];
        snprintf(what, sizeof(what), "stream #%d: %lld bytes after frame %lld (counted "
                 "from 0; bytes %lld-%lld) are not part of any frame the dhav demuxer could read (a "
                 "damaged frame header or frame length); the frames in them would be "
                 "missing from the copy", o->in_idx, (long long)(pkt->pos - from),
                 (long long)o->packets_in - 2, (long long)from, (long long)pkt->pos);
        return ev_transcode__refuse_damaged(j, what);
    }
    o->last_end = pkt->pos + pkt->size;
    return EV_OK;
}

/* A copied packet with no time at all is timed as the previous packet plus
 * its duration (as the ffmpeg command line does, and as evidence inspect's
 * timeline counts it: frames_untimed); the count is recorded. */
static void time_untimed(ost *o, AVPacket *pkt)
{
    if (pkt->pts == AV_NOPTS_VALUE && pkt->dts == AV_NOPTS_VALUE && o->next_ts != AV_NOPTS_VALUE) {
        pkt->pts = pkt->dts = o->next_ts;
        o->untimed++;
    }
    int64_t t = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
    if (pkt->duration > 0)
        o->last_dur = pkt->duration;
    if (t != AV_NOPTS_VALUE && o->last_dur > 0)
        o->next_ts = t + o->last_dur;
}

static int finish_stamps(job *j, ost *o)
{
    flush_run(o);
    json_t *t = json_object_get(o->settings, "timing");
    if (!t || o->ts_offset == AV_NOPTS_VALUE)
        return EV_OK;
    char w[48];
    if (o->first_stamp != AV_NOPTS_VALUE) {
        wallclock_str(w, sizeof(w), o->first_stamp);
        json_object_set_new(t, "first_wallclock", json_string(w));
    }
    if (json_object_set_new(t, "frames", json_integer(o->frames_stamped)) ||
        json_object_set(t, "frame_times", o->runs))
        return ev_err__set(j->err, EV_ENOMEM, "out of memory");
    if (o->runs_truncated)
        json_object_set_new(t, "frame_times_truncated", json_true());
    if (o->rebased) {
        json_object_set_new(t, "stamps_back", json_integer(o->rebased));
        ev_transcode__note(j, "stream #%d: the DAV stamps go back or stand still %lld "
                           "time(s); there the copy goes on one frame interval after the "
                           "previous frame (an MP4 cannot hold times that go back), and "
                           "timing.frame_times gives each frame's stamp", o->in_idx,
                           (long long)o->rebased);
    }
    if (o->impossible) {
        json_object_set_new(t, "impossible_stamps", json_integer(o->impossible));
        ev_transcode__note(j, "stream #%d: %lld frames have an impossible DAV date (before "
                           "2000-01-01); the copy times them one frame interval after the "
                           "previous frame", o->in_idx, (long long)o->impossible);
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
    int e = j->avf->buffersrc_add_frame_flags(o->asrc, f, AV_BUFFERSRC_FLAG_KEEP_REF);
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

int ev_transcode__progress(job *j, bool final)
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

int ev_transcode__run_pass(job *j)
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
               : ev_transcode__refuse_damaged(j, what);
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
        if (o->stamps) {
            if ((rc = check_dav_frame(j, o, j->pkt)) != EV_OK) {
                av_packet_unref(j->pkt);
                goto done;
            }
            frame_stamp(o, j->pkt);
        }
        if (o->assumed) {
            /* frame n at n / the stated rate, computed for each frame (no
             * rounding carried from one frame to the next) */
            AVRational ftb = { (int)j->o.assume_fps_den, (int)j->o.assume_fps_num };
            AVRational tb = o->action == EV_ACTION_COPY ? o->st->time_base : o->ist->time_base;
            int64_t n = o->packets_in - 1;
            j->pkt->pts = j->pkt->dts = av_rescale_q(n, ftb, tb);
            j->pkt->duration = av_rescale_q(n + 1, ftb, tb) - j->pkt->pts;
        }
        if (o->action == EV_ACTION_COPY && !o->assumed && !o->stamps)
            time_untimed(o, j->pkt);
        if (o->action == EV_ACTION_COPY) {
            if (j->pkt->pts != AV_NOPTS_VALUE)
                o->last_pts = j->pkt->pts;
            if (!o->assumed)
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
        if ((rc = ev_transcode__progress(j, false)) != EV_OK)
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
            int e = j->avf->buffersrc_add_frame_flags(o->asrc, NULL, 0);
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
    for (size_t i = 0; i < j->n_os; i++) {
        ost *o = &j->os[i];
        if (o->stamps && (rc = finish_stamps(j, o)) != EV_OK)
            goto done;
        json_t *t = json_object_get(o->settings, "timing");
        if (o->untimed && t) {
            json_object_set_new(t, "frames_untimed", json_integer(o->untimed));
            ev_transcode__note(j, "stream #%d: %lld copied packets carry no time of their own "
                               "(MPEG-PS times only the first frame of each PES packet); each "
                               "is timed as the previous packet plus its duration", o->in_idx,
                               (long long)o->untimed);
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
            rc = ev_transcode__refuse_damaged(j, what);
            goto done;
        }
        int64_t tab = o->in_idx < EV_TC_MAX_STREAMS ? j->table_pkts[o->in_idx] : 0;
        if (mov && tab > idx && idx > 0)
            ev_transcode__note(j, "stream #%d: its edit list presents %lld of the %lld samples in its sample "
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
