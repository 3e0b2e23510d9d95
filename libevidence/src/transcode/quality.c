/*
 * quality: the quality-bounded verification of one video stream: source
 * and copy decoded in lockstep, PSNR and SSIM per frame (min and mean),
 * frame counts and timestamps within the tolerance.
 */
#include "transcode/transcode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/pixdesc.h>
#include <libavutil/time.h>
#include <libswscale/swscale.h>

#include "transcode/transcode_int.h"

typedef struct freader {
    AVFormatContext *fc;
    AVCodecContext *dec;
    AVPacket *pkt;
    int index;
    bool in_eof, out_eof;
    int64_t frames, errors;
    char first_error[200];
} freader;

static int fr_open(freader *r, const char *path, int index, ev_errbuf *err)
{
    memset(r, 0, sizeof(*r));
    int rc = ev_transcode__open_input(&r->fc, path, err);
    if (rc != EV_OK)
        return rc;
    if (index < 0 || (unsigned)index >= r->fc->nb_streams ||
        r->fc->streams[index]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
        return ev_err__set(err, EV_EFORMAT, "'%s' has no video stream #%d", path, index);
    r->index = index;
    for (unsigned i = 0; i < r->fc->nb_streams; i++)
        if ((int)i != index)
            r->fc->streams[i]->discard = AVDISCARD_ALL;
    if (!(r->pkt = av_packet_alloc()))
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    return ev_transcode__open_decoder(&r->dec, r->fc->streams[index], false, err);
}

static void fr_close(freader *r)
{
    avcodec_free_context(&r->dec);
    av_packet_free(&r->pkt);
    avformat_close_input(&r->fc);
}

static void fr_error(freader *r, const char *what)
{
    if (r->errors++ == 0)
        snprintf(r->first_error, sizeof(r->first_error), "after %lld frames: %s",
                 (long long)r->frames, what);
}

/* Next frame into f; returns 1 with a frame, 0 at the end, <0 on error. */
static int fr_next(freader *r, AVFrame *f)
{
    for (;;) {
        if (r->out_eof)
            return 0;
        int e = avcodec_receive_frame(r->dec, f);
        if (e >= 0) {
            if (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT))
                fr_error(r, "damaged frame (concealed by the decoder)");
            r->frames++;
            return 1;
        }
        if (e == AVERROR_EOF) {
            r->out_eof = true;
            return 0;
        }
        if (e != AVERROR(EAGAIN)) {
            char eb[AV_ERROR_MAX_STRING_SIZE];
            av_strerror(e, eb, sizeof(eb));
            fr_error(r, eb);
        }
        if (r->in_eof) {
            if (e != AVERROR(EAGAIN)) {
                r->out_eof = true;
                return 0;
            }
            continue;
        }
        for (;;) {
            e = av_read_frame(r->fc, r->pkt);
            if (e < 0) {
                if (e != AVERROR_EOF) {
                    char eb[AV_ERROR_MAX_STRING_SIZE];
                    av_strerror(e, eb, sizeof(eb));
                    fr_error(r, eb);
                }
                r->in_eof = true;
                avcodec_send_packet(r->dec, NULL);
                break;
            }
            if (r->pkt->stream_index != r->index) {
                av_packet_unref(r->pkt);
                continue;
            }
            e = avcodec_send_packet(r->dec, r->pkt);
            av_packet_unref(r->pkt);
            if (e < 0 && e != AVERROR(EAGAIN)) {
                char eb[AV_ERROR_MAX_STRING_SIZE];
                av_strerror(e, eb, sizeof(eb));
                fr_error(r, eb);
            }
            break;
        }
    }
}

int ev_transcode__quality_stream(json_t **out, const ev_vstream *vs, const ev_vplan *plan,
                                const char *src_path, const char *out_path,
                                const ev_transcode__opts *opts, ev_errbuf *err)
{
    freader a, b;
    AVFrame *fa = av_frame_alloc(), *fb = av_frame_alloc();
    struct SwsContext *sa = NULL, *sb = NULL;
    json_t *o = json_object(), *probs = json_array();
    int rc = EV_OK;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    if (!fa || !fb || !o || !probs) {
        rc = ev_err__set(err, EV_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = fr_open(&a, src_path, vs->src, err)) != EV_OK ||
        (rc = fr_open(&b, out_path, vs->out, err)) != EV_OK)
        goto done;
    AVStream *sta = a.fc->streams[vs->src], *stb = b.fc->streams[vs->out];
    AVRational rate = av_guess_frame_rate(a.fc, sta, NULL);
    double fdur = rate.num > 0 && rate.den > 0 ? av_q2d(av_inv_q(rate)) : 0.04;
    double tol = plan->max_ts_delta_frames * fdur;
    double psnr_min = INFINITY, ssim_min = INFINITY, psnr_sum = 0, ssim_sum = 0;
    int64_t psnr_at = -1, ssim_at = -1, n = 0, measured = 0, size_mismatch = 0;
    double t0a = NAN, t0b = NAN, max_dt = 0;
    int64_t max_dt_at = -1;
    int cmp = AV_PIX_FMT_NONE;
    int64_t last = av_gettime_relative();
    for (;;) {
        int ga = fr_next(&a, fa);
        int gb = fr_next(&b, fb);
        if (ga <= 0 || gb <= 0) {
            if (ga > 0)
                av_frame_unref(fa);
            if (gb > 0)
                av_frame_unref(fb);
            /* count what is left on either side */
            while (ga > 0 && (ga = fr_next(&a, fa)) > 0)
                av_frame_unref(fa);
            while (gb > 0 && (gb = fr_next(&b, fb)) > 0)
                av_frame_unref(fb);
            break;
        }
        if (cmp == AV_PIX_FMT_NONE)
            cmp = ev_transcode__metric_fmt(fb->format);
        double ta = fa->best_effort_timestamp != AV_NOPTS_VALUE
                        ? (double)fa->best_effort_timestamp * av_q2d(sta->time_base) : NAN;
        double tb = fb->best_effort_timestamp != AV_NOPTS_VALUE
                        ? (double)fb->best_effort_timestamp * av_q2d(stb->time_base) : NAN;
        if (n == 0) {
            t0a = ta;
            t0b = tb;
        }
        double dt = fabs((ta - t0a) - (tb - t0b));
        if (!isnan(dt) && dt > max_dt) {
            max_dt = dt;
            max_dt_at = n;
        }
        if (fa->width != fb->width || fa->height != fb->height) {
            if (size_mismatch++ == 0)
                ev_transcode__add_problem(probs, "frame %lld: picture size differs (%dx%d in the source, "
                            "%dx%d in the copy)", (long long)n, fa->width, fa->height,
                            fb->width, fb->height);
        } else {
            AVFrame *ca = NULL, *cb = NULL;
            const AVFrame *ua = fa, *ub = fb;
            if (!ev_transcode__same_layout(fa->format, cmp)) {
                if (ev_transcode__convert(&ca, fa, cmp, &sa) == EV_OK)
                    ua = ca;
                else
                    ua = NULL;
            }
            if (!ev_transcode__same_layout(fb->format, cmp)) {
                if (ev_transcode__convert(&cb, fb, cmp, &sb) == EV_OK)
                    ub = cb;
                else
                    ub = NULL;
            }
            double ps = 0, ss = 0;
            if (ua && ub && ev_transcode__quality(&ps, &ss, ua, ub) == EV_OK) {
                measured++;
                psnr_sum += ps;
                ssim_sum += ss;
                if (ps < psnr_min) {
                    psnr_min = ps;
                    psnr_at = n;
                }
                if (ss < ssim_min) {
                    ssim_min = ss;
                    ssim_at = n;
                }
            }
            av_frame_free(&ca);
            av_frame_free(&cb);
        }
        av_frame_unref(fa);
        av_frame_unref(fb);
        n++;
        if (opts && opts->progress_cb) {
            int64_t now = av_gettime_relative();
            if (now - last > 100000) {
                last = now;
                int64_t pos = avio_tell(a.fc->pb), tot = avio_size(a.fc->pb);
                ev_progress pr = { EV_PROGRESS_VERSION, "verifying", src_path,
                                   (uint64_t)(pos > 0 ? pos : 0), (uint64_t)(tot > 0 ? tot : 0),
                                   0, 1 };
                if (opts->progress_cb(&pr, opts->progress_payload)) {
                    rc = ev_err__set(err, EV_ECANCELED, "canceled by callback");
                    goto done;
                }
            }
        }
    }
    json_object_set_new(o, "source_stream", json_integer(vs->src));
    json_object_set_new(o, "output_stream", json_integer(vs->out));
    json_object_set_new(o, "type", json_string("video"));
    json_object_set_new(o, "method", json_string("quality-bounded"));
    json_object_set_new(o, "frames", json_integer(a.frames));
    json_object_set_new(o, "output_frames", json_integer(b.frames));
    if (a.frames != b.frames)
        ev_transcode__add_problem(probs, "frame count differs: %lld in the source, %lld in the copy (a frame "
                    "was dropped or duplicated)", (long long)a.frames, (long long)b.frames);
    if (a.frames == 0)
        ev_transcode__add_problem(probs, "the source has no decodable frame");
    if (measured) {
        json_object_set_new(o, "psnr_db", json_pack("{s:f, s:f, s:I}", "min", ev_transcode__round6(psnr_min),
                                                    "mean", ev_transcode__round6(psnr_sum / (double)measured),
                                                    "min_at_frame", (json_int_t)psnr_at));
        json_object_set_new(o, "ssim", json_pack("{s:f, s:f, s:I}", "min", ev_transcode__round6(ssim_min),
                                                 "mean", ev_transcode__round6(ssim_sum / (double)measured),
                                                 "min_at_frame", (json_int_t)ssim_at));
        double pm = psnr_sum / (double)measured, sm = ssim_sum / (double)measured;
        if (plan->psnr_min > 0 && psnr_min < plan->psnr_min)
            ev_transcode__add_problem(probs, "PSNR %.2f dB at frame %lld is below the minimum %.2f dB",
                        psnr_min, (long long)psnr_at, plan->psnr_min);
        if (plan->psnr_mean_min > 0 && pm < plan->psnr_mean_min)
            ev_transcode__add_problem(probs, "mean PSNR %.2f dB is below the minimum %.2f dB", pm,
                        plan->psnr_mean_min);
        if (plan->ssim_min > 0 && ssim_min < plan->ssim_min)
            ev_transcode__add_problem(probs, "SSIM %.4f at frame %lld is below the minimum %.4f", ssim_min,
                        (long long)ssim_at, plan->ssim_min);
        if (plan->ssim_mean_min > 0 && sm < plan->ssim_mean_min)
            ev_transcode__add_problem(probs, "mean SSIM %.4f is below the minimum %.4f", sm,
                        plan->ssim_mean_min);
    } else if (a.frames && b.frames) {
        ev_transcode__add_problem(probs, "no frame could be compared");
    }
    json_object_set_new(o, "compared_in", json_string(cmp != AV_PIX_FMT_NONE
                                                      ? av_get_pix_fmt_name((enum AVPixelFormat)cmp)
                                                      : "none"));
    json_object_set_new(o, "frame_duration_s", json_real(ev_transcode__round6(fdur)));
    json_object_set_new(o, "max_timestamp_delta_s", json_real(ev_transcode__round6(max_dt)));
    json_object_set_new(o, "timestamp_tolerance_s", json_real(ev_transcode__round6(tol)));
    if (!isnan(t0a) && !isnan(t0b))
        json_object_set_new(o, "start_offset_s", json_real(ev_transcode__round6(t0b - t0a)));
    if (max_dt > tol + 1e-9)
        ev_transcode__add_problem(probs, "timestamps drift by %.6f s at frame %lld (more than %.6f s)",
                    max_dt, (long long)max_dt_at, tol);
    if (a.errors)
        ev_transcode__add_problem(probs, "source decoding errors: %lld (first %s)", (long long)a.errors,
                    a.first_error);
    if (b.errors)
        ev_transcode__add_problem(probs, "copy decoding errors: %lld (first %s)", (long long)b.errors,
                    b.first_error);
    json_object_set_new(o, "result", json_string(json_array_size(probs) ? "fail" : "pass"));
    json_object_set(o, "problems", probs);
    *out = o;
    o = NULL;
done:
    json_decref(o);
    json_decref(probs);
    av_frame_free(&fa);
    av_frame_free(&fb);
    sws_freeContext(sa);
    sws_freeContext(sb);
    fr_close(&a);
    fr_close(&b);
    return rc;
}
