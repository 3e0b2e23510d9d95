/*
 * The timeline of a video stream (docs/media.md, "Timelines"): where its
 * times come from, the first and last frame times, the nominal and the
 * measured frame rate, and every gap and discontinuity. Derived from the
 * packet list the content-hash scan already keeps (index dts pts duration
 * per packet): no second read of the file, constant memory per frame.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavformat/avformat.h>

#include "media/media_int.h"

#define TL_REORDER 16     /* at most, frames held to put presentation times in order */
#define TL_PROBE 64       /* steps that fix the reference frame interval */
#define TL_MAX_EVENTS 1000 /* gaps, and discontinuities, stored per stream */
#define TL_JITTER_FRAMES 8 /* frames a short gap waits to be taken back */

/* Demuxers of elementary streams: no time per frame, FFmpeg numbers the
 * frames at a rate (the one the stream states, else 25 fps). */
static bool raw_format(const char *name)
{
    static const char *const raw[] = { "h264", "hevc", "m4v", "mpegvideo", "cavsvideo", "vc1",
                                       "avs2", "avs3", "vvc", "dirac", "dnxhd", "h261", "h263",
                                       "mjpeg", "ingenient", "rawvideo", NULL };
    for (size_t i = 0; name && raw[i]; i++)
        if (!strcmp(name, raw[i]))
            return true;
    return false;
}

typedef struct tl {
    AVRational tb;
    bool wallclock;   /* ticks are ms of a camera-local clock (DAV stamps) */
    uint64_t frames;  /* frames emitted in time order */
    int64_t first, last;
    int64_t ref;      /* reference frame interval in ticks (0 = unknown) */
    /* the first steps, held until the reference interval is known */
    int64_t probe_t[TL_PROBE + 1];
    unsigned nprobe;
    bool probing;
    /* reorder window (sorted ascending) */
    int64_t win[TL_REORDER];
    unsigned nwin, reorder; /* held, and the depth: the codec's reorder delay + 1 */
    uint64_t regular_steps;
    int64_t regular_sum;
    int64_t missing;          /* ticks in gaps */
    uint64_t gaps, discont, impossible, jitter;
    /* a short gap held until the next frames show whether it is jitter */
    bool pend;
    uint64_t pend_k;
    int64_t pend_a, pend_b, pend_dev;
    int64_t pend_steps[TL_JITTER_FRAMES];
    unsigned pend_n;
    json_t *jgaps, *jdisc;
} tl;

static double secs(const tl *t, int64_t ticks)
{
    return ev_media__round_us((double)ticks * av_q2d(t->tb));
}

/* A DAV stamp (ms of camera-local time) as "YYYY-MM-DDTHH:MM:SS.mmm". */
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

static int set_time(json_t *o, const tl *t, const char *key, const char *wkey, int64_t ticks)
{
    if (ev_media__set_real(o, key, secs(t, ticks)))
        return -1;
    if (t->wallclock && wkey) {
        char w[48];
        wallclock_str(w, sizeof(w), ticks);
        if (ev_media__set_str(o, wkey, w))
            return -1;
    }
    return 0;
}

/* One step from frame k-1 (time a) to frame k (time b), k counted from 1. */
static int record_step(tl *t, uint64_t k, int64_t a, int64_t b)
{
    int64_t d = b - a;
    if (d <= 0) {
        t->discont++;
        if (t->discont > TL_MAX_EVENTS)
            return 0;
        json_t *e = json_object();
        if (!e || json_array_append_new(t->jdisc, e) ||
            ev_media__set_str(e, "kind", d < 0 ? "backward" : "repeat") ||
            ev_media__set_int(e, "after_frame", (int64_t)(k - 1)) ||
            set_time(e, t, "from", "from_wallclock", a) || set_time(e, t, "to", "to_wallclock", b) ||
            ev_media__set_real(e, "step", secs(t, d)))
            return -1;
        return 0;
    }
    if (t->ref > 0 && d > t->ref + t->ref / 2) {
        t->gaps++;
        t->missing += d - t->ref;
        if (t->gaps > TL_MAX_EVENTS)
            return 0;
        json_t *e = json_object();
        if (!e || json_array_append_new(t->jgaps, e) ||
            ev_media__set_int(e, "after_frame", (int64_t)(k - 1)) ||
            set_time(e, t, "from", "from_wallclock", a) || set_time(e, t, "to", "to_wallclock", b) ||
            ev_media__set_real(e, "missing", secs(t, d - t->ref)))
            return -1;
        return 0;
    }
    t->regular_steps++;
    t->regular_sum += d;
    return 0;
}

/* A step of at most two intervals too many that the next few frames take
 * back (a step that stands still or goes back, with the deviations summing
 * to less than half an interval) is one stamp given to the wrong frame (as
 * FFmpeg's MPEG-PS reading does when a PES time lands on the frame before):
 * counted as stamp_jitter, not as a gap and a discontinuity. */
static int flush_pending(tl *t)
{
    if (!t->pend)
        return 0;
    t->pend = false;
    if (record_step(t, t->pend_k, t->pend_a, t->pend_b))
        return -1;
    for (unsigned i = 0; i < t->pend_n; i++) {
        t->regular_steps++;
        t->regular_sum += t->pend_steps[i];
    }
    return 0;
}

static int step(tl *t, uint64_t k, int64_t a, int64_t b)
{
    int64_t d = b - a;
    if (t->pend) {
        int64_t dev = t->pend_dev + (d - t->ref);
        int64_t adev = dev < 0 ? -dev : dev;
        if (d <= 0 && adev <= t->ref / 2) {
            t->pend = false;
            t->jitter++;
            t->regular_steps += t->pend_n + 2;
            t->regular_sum += (t->pend_b - t->pend_a) + d;
            for (unsigned i = 0; i < t->pend_n; i++)
                t->regular_sum += t->pend_steps[i];
            return 0;
        }
        if (d > 0 && d <= t->ref + t->ref / 2 && t->pend_n < TL_JITTER_FRAMES) {
            t->pend_dev = dev;
            t->pend_steps[t->pend_n++] = d;
            return 0;
        }
        if (flush_pending(t))
            return -1;
    }
    if (t->ref > 0 && d > t->ref + t->ref / 2 && d <= 3 * t->ref) {
        t->pend = true;
        t->pend_k = k;
        t->pend_a = a;
        t->pend_b = b;
        t->pend_dev = d - t->ref;
        t->pend_n = 0;
        return 0;
    }
    return record_step(t, k, a, b);
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* The reference interval: the median of the first positive steps, else the
 * nominal interval. Then the held steps are classified. */
static int end_probe(tl *t, int64_t nominal)
{
    int64_t d[TL_PROBE];
    unsigned n = 0;
    for (unsigned i = 1; i < t->nprobe; i++)
        if (t->probe_t[i] > t->probe_t[i - 1])
            d[n++] = t->probe_t[i] - t->probe_t[i - 1];
    if (n) {
        qsort(d, n, sizeof(d[0]), cmp_i64);
        t->ref = d[n / 2];
    } else {
        t->ref = nominal;
    }
    t->probing = false;
    for (unsigned i = 1; i < t->nprobe; i++)
        if (step(t, i + 1, t->probe_t[i - 1], t->probe_t[i]))
            return -1;
    return 0;
}

static int emit(tl *t, int64_t v, int64_t nominal)
{
    uint64_t k = ++t->frames;
    if (k == 1)
        t->first = v;
    if (t->probing) {
        t->probe_t[t->nprobe++] = v;
        t->last = v;
        return t->nprobe > TL_PROBE ? end_probe(t, nominal) : 0;
    }
    int rc = step(t, k, t->last, v);
    t->last = v;
    return rc;
}

static int push(tl *t, int64_t v, int64_t nominal)
{
    /* far behind every held frame: time went back, not a reordered frame */
    if (t->nwin && nominal > 0 && v < t->win[0] - (int64_t)(TL_REORDER + 1) * nominal) {
        for (unsigned i = 0; i < t->nwin; i++)
            if (emit(t, t->win[i], nominal))
                return -1;
        t->nwin = 0;
    }
    if (t->nwin >= t->reorder) {
        int64_t out = t->win[0];
        memmove(t->win, t->win + 1, (t->nwin - 1) * sizeof(t->win[0]));
        t->nwin--;
        if (emit(t, out, nominal))
            return -1;
    }
    unsigned i = t->nwin;
    while (i > 0 && t->win[i - 1] > v) {
        t->win[i] = t->win[i - 1];
        i--;
    }
    t->win[i] = v;
    t->nwin++;
    return 0;
}

/* "-" or a decimal integer; false on anything else */
static bool field_i64(const char **p, int64_t *v, bool *known)
{
    while (**p == ' ')
        (*p)++;
    if (**p == '-' && ((*p)[1] == ' ' || (*p)[1] == '\n' || !(*p)[1])) {
        (*p)++;
        *known = false;
        return true;
    }
    char *end;
    long long x = strtoll(*p, &end, 10);
    if (end == *p)
        return false;
    *p = end;
    *v = (int64_t)x;
    *known = true;
    return true;
}

static AVRational nominal_rate(const AVStream *st)
{
    if (st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0)
        return st->avg_frame_rate;
    if (st->r_frame_rate.num > 0 && st->r_frame_rate.den > 0)
        return st->r_frame_rate;
    return (AVRational){ 0, 1 };
}

static int set_fps(json_t *o, const char *key, AVRational r)
{
    return ev_media__set_real(o, key, (double)(int64_t)(av_q2d(r) * 1000.0 + 0.5) / 1000.0);
}

static int one_stream(json_t *sj, const char *list, bool list_truncated, const AVStream *st,
                      const char *fmtname, bool complete)
{
    int rc = -1;
    tl t;
    memset(&t, 0, sizeof(t));
    t.tb = st->time_base;
    t.probing = true;
    /* no reordering beyond what the codec declares: a jump back in time is
     * reported where it happens, not sorted away */
    t.reorder = st->codecpar->video_delay > 0 ? (unsigned)st->codecpar->video_delay + 1 : 1;
    if (t.reorder > TL_REORDER)
        t.reorder = TL_REORDER;
    bool raw = raw_format(fmtname);
    bool dav = fmtname && !strcmp(fmtname, "dhav");
    t.wallclock = dav && st->time_base.num == 1 && st->time_base.den == 1000;
    AVRational nom = nominal_rate(st);
    int64_t nominal = nom.num > 0 ? av_rescale_q(1, av_inv_q(nom), st->time_base) : 0;
    json_t *o = json_object();
    t.jgaps = json_array();
    t.jdisc = json_array();
    if (!o || !t.jgaps || !t.jdisc || json_object_set_new(sj, "timeline", o))
        goto out;
    if (ev_media__set_str(o, "time_source", raw ? "none" : dav ? "frame-stamps" : "container"))
        goto out;
    if (dav && ev_media__set_str(o, "wallclock_zone", "unknown"))
        goto out;

    /* walk the packet list: index dts pts duration size flags sha256 */
    const char *p = list ? list : "";
    uint64_t untimed = 0, lines = 0;
    int64_t dur_ticks = 0; /* the last packet duration seen */
    bool have_prev = false, any_time = false;
    int64_t prev = 0, prev_dur = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        const char *next = nl ? nl + 1 : p + strlen(p);
        if (*p != '#') {
            int64_t idx = 0, dts = 0, pts = 0, dur = 0;
            bool ki, kd, kp, ku;
            const char *q = p;
            if (field_i64(&q, &idx, &ki) && field_i64(&q, &dts, &kd) &&
                field_i64(&q, &pts, &kp) && field_i64(&q, &dur, &ku)) {
                lines++;
                if (ku && dur > 0)
                    dur_ticks = dur;
                int64_t v;
                if (kp && t.wallclock && pts < 946684800000LL) {
                    /* a DAV date before 2000-01-01 (month or day 0): impossible,
                     * the frame is timed like a frame without a time */
                    t.impossible++;
                    kp = kd = false;
                }
                if (kp) {
                    v = pts;
                    any_time = true;
                } else if (have_prev && (prev_dur > 0 || nominal > 0)) {
                    v = prev + (prev_dur > 0 ? prev_dur : nominal);
                    untimed++;
                } else if (kd) {
                    v = dts;
                    any_time = true;
                } else {
                    untimed++;
                    p = next;
                    continue;
                }
                prev = v;
                /* dhav gives every packet a duration of 1 (ms): not a frame's */
                prev_dur = ku && dur > 0 && !dav ? dur : 0;
                have_prev = true;
                if (!raw && push(&t, v, nominal))
                    goto out;
            }
        }
        p = next;
    }
    if (raw) {
        /* the times in the list are FFmpeg's numbering, not the stream's */
        AVRational used = dur_ticks > 0 ? av_div_q(av_inv_q(st->time_base),
                                                   (AVRational){ (int)dur_ticks, 1 })
                                        : nom;
        if (ev_media__set_int(o, "frames", (int64_t)lines) ||
            (used.num > 0 && set_fps(o, "assumed_fps", used)) ||
            ev_media__set_str(o, "note", "an elementary stream has no time per frame: FFmpeg "
                                         "numbers the frames at an assumed rate (the one the "
                                         "stream's headers state, else 25 fps); no frame rate "
                                         "can be measured"))
            goto out;
        rc = 0;
        goto out;
    }
    for (unsigned i = 0; i < t.nwin; i++)
        if (emit(&t, t.win[i], nominal))
            goto out;
    if (t.probing && t.frames && end_probe(&t, nominal))
        goto out;
    if (flush_pending(&t))
        goto out;
    if (!any_time) {
        if (ev_media__set_str(o, "time_source", "none") ||
            ev_media__set_int(o, "frames", (int64_t)lines) ||
            ev_media__set_str(o, "note", "no packet carries a time"))
            goto out;
        rc = 0;
        goto out;
    }
    if (ev_media__set_int(o, "frames", (int64_t)t.frames) ||
        (untimed && ev_media__set_int(o, "frames_untimed", (int64_t)untimed)) ||
        set_time(o, &t, "first", "first_wallclock", t.first) ||
        set_time(o, &t, "last", "last_wallclock", t.last) ||
        ev_media__set_int(o, "first_pts", t.first) || ev_media__set_int(o, "last_pts", t.last) ||
        (nom.num > 0 && set_fps(o, "nominal_fps", nom)) ||
        (t.ref > 0 && ev_media__set_real(o, "frame_interval", secs(&t, t.ref))))
        goto out;
    if (t.regular_steps > 0 && t.regular_sum > 0 &&
        ev_media__set_real(o, "measured_fps",
                           (double)(int64_t)((double)t.regular_steps /
                                                 ((double)t.regular_sum * av_q2d(t.tb)) * 1000.0 +
                                             0.5) / 1000.0))
        goto out;
    if (ev_media__set_int(o, "gaps_total", (int64_t)t.gaps) ||
        ev_media__set_real(o, "missing", secs(&t, t.missing)) ||
        json_object_set(o, "gaps", t.jgaps) ||
        ev_media__set_int(o, "discontinuities_total", (int64_t)t.discont) ||
        json_object_set(o, "discontinuities", t.jdisc))
        goto out;
    if ((t.gaps > TL_MAX_EVENTS || t.discont > TL_MAX_EVENTS) &&
        json_object_set_new(o, "events_truncated", json_true()))
        goto out;
    if (t.jitter && ev_media__set_int(o, "stamp_jitter", (int64_t)t.jitter))
        goto out;
    if (t.impossible && ev_media__set_int(o, "impossible_stamps", (int64_t)t.impossible))
        goto out;
    rc = 0;
out:
    if (rc == 0 && (!complete || list_truncated) &&
        json_object_set_new(o, "incomplete", json_true()))
        rc = -1;
    json_decref(t.jgaps);
    json_decref(t.jdisc);
    return rc;
}

/* The picture size changes the decoding saw (ev_media__stream.size_change):
 * size_changes_total and size_changes, each with the frame (counted from 1
 * as the decoder gives them, as ffprobe -show_frames lists them), its time
 * when the stream has a time source, and the sizes before and after. */
static int size_changes(json_t *o, const ev_media__stream *r, const AVStream *st)
{
    const char *src = json_string_value(json_object_get(o, "time_source"));
    bool timed = src && strcmp(src, "none") != 0;
    tl t;
    memset(&t, 0, sizeof(t));
    t.tb = st->time_base;
    t.wallclock = src && !strcmp(src, "frame-stamps");
    json_t *a;
    if (ev_media__set_int(o, "size_changes_total", (int64_t)r->size_changes) ||
        !(a = json_array()) || json_object_set_new(o, "size_changes", a))
        return -1;
    uint64_t n = r->size_changes < EV_MEDIA_SIZE_CHANGES ? r->size_changes
                                                         : EV_MEDIA_SIZE_CHANGES;
    for (uint64_t i = 0; i < n; i++) {
        const ev_media__size_change *c = &r->size_change[i];
        json_t *e = json_object();
        if (!e || json_array_append_new(a, e) ||
            ev_media__set_int(e, "frame", (int64_t)c->frame) ||
            (timed && c->pts != AV_NOPTS_VALUE &&
             set_time(e, &t, "time", "time_wallclock", c->pts)) ||
            ev_media__set_int(e, "from_width", c->from_w) ||
            ev_media__set_int(e, "from_height", c->from_h) ||
            ev_media__set_int(e, "width", c->w) || ev_media__set_int(e, "height", c->h))
            return -1;
    }
    return 0;
}

int ev_media__timelines(json_t *media, const ev_media__scan *sc, const ev_media__src *s)
{
    const char *kind = json_string_value(json_object_get(media, "kind"));
    if (!kind || strcmp(kind, "video"))
        return EV_OK;
    json_t *streams = json_object_get(media, "streams");
    for (unsigned int i = 0; i < sc->nstreams; i++) {
        const ev_media__stream *r = &sc->streams[i];
        const AVStream *st = s->fmt->streams[r->index];
        json_t *sj = json_array_get(streams, (size_t)r->index);
        if (!sj || r->type != AVMEDIA_TYPE_VIDEO || !r->have_packets || !r->packet_list.text.data ||
            (st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            continue;
        if (one_stream(sj, r->packet_list.text.data, r->packet_list.truncated, st,
                       s->fmt->iformat->name, sc->complete) ||
            (r->have_decoded && size_changes(json_object_get(sj, "timeline"), r, st)))
            return EV_ENOMEM;
    }
    return EV_OK;
}

int ev_media__timeline_of_list(json_t **out, const char *list, bool truncated,
                               const struct AVStream *st, const char *fmtname, bool complete)
{
    *out = NULL;
    json_t *holder = json_object();
    if (!holder || one_stream(holder, list, truncated, st, fmtname, complete)) {
        json_decref(holder);
        return EV_ENOMEM;
    }
    *out = json_incref(json_object_get(holder, "timeline"));
    json_decref(holder);
    return *out ? EV_OK : EV_ENOMEM;
}
