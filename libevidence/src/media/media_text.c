/*
 * media_text: an "evidence.media" document as text lines for a person
 * (ev_media_result_text(), `evidence inspect FILE`). Reads only keys that
 * docs/schema/media.schema.json documents and decides nothing from them.
 * Reals are shown as the document carries them (15 significant digits,
 * media_api.c), so the text agrees with the JSON.
 */
#include <math.h>
#include <string.h>

#include "base/text.h"
#include "media/media.h"

#define DIGITS 15 /* JSON_REAL_PRECISION of the document (media_api.c) */

static const char *s_(const json_t *o, const char *k)
{
    return ev__text_str(o, k);
}

static double n_(const json_t *o, const char *k)
{
    return ev__text_num(o, k, DIGITS);
}

static long long i_(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* seconds as H:MM:SS.mmm */
static void hms(char *buf, size_t len, double s)
{
    const char *sign = s < 0 ? "-" : "";
    long long ms = llround(fabs(s) * 1000.0);
    snprintf(buf, len, "%s%02lld:%02lld:%02lld.%03lld", sign, ms / 3600000, ms / 60000 % 60,
             ms / 1000 % 60, ms % 1000);
}

/* Picture size changes the decoding saw (timeline.size_changes). */
static void sizes_text(ev_text *o, const json_t *t)
{
    long long n = i_(t, "size_changes_total");
    if (n <= 0)
        return; /* none, or not decoded */
    ev__text_add(o, "  %lld picture size change%s\n", n, n == 1 ? "" : "s");
    size_t k;
    json_t *e;
    json_array_foreach(json_object_get(t, "size_changes"), k, e) {
        ev__text_add(o, "  size change: %lldx%lld -> %lldx%lld from frame %lld",
                     i_(e, "from_width"), i_(e, "from_height"), i_(e, "width"), i_(e, "height"),
                     i_(e, "frame"));
        if (s_(e, "time_wallclock"))
            ev__text_add(o, " (%s)", s_(e, "time_wallclock"));
        else if (json_is_number(json_object_get(e, "time")))
            ev__text_add(o, " (%.6f s)", n_(e, "time"));
        ev__text_add(o, "\n");
    }
    if ((long long)json_array_size(json_object_get(t, "size_changes")) < n)
        ev__text_add(o, "  (only the first %zu size changes are listed)\n",
                     json_array_size(json_object_get(t, "size_changes")));
}

/* Where the times of a video stream come from, its rates, gaps and
 * discontinuities (media.streams[].timeline, docs/media.md "Timelines"). */
static void timeline_text(ev_text *o, size_t i, const json_t *t)
{
    if (!t)
        return;
    const char *src = s_(t, "time_source");
    long long frames = i_(t, "frames");
    if (src && !strcmp(src, "none")) {
        ev__text_add(o, "timeline %zu: time source: none; %lld frames; ", i, frames);
        if (json_is_number(json_object_get(t, "assumed_fps")))
            ev__text_add(o, "FFmpeg assumed %g fps; ", n_(t, "assumed_fps"));
        ev__text_add(o, "no frame rate can be measured\n");
        sizes_text(o, t);
        return;
    }
    bool wall = src && !strcmp(src, "frame-stamps");
    ev__text_add(o, "timeline %zu: time source: %s; %lld frames", i,
                 wall ? "per-frame wall-clock stamps (camera local time, zone unknown)"
                      : "container timestamps",
                 frames);
    if (json_is_integer(json_object_get(t, "frames_untimed")))
        ev__text_add(o, " (%lld without a time of their own: previous frame + its duration)",
                     i_(t, "frames_untimed"));
    ev__text_add(o, "\n");
    char a[32], b[32];
    if (wall)
        ev__text_add(o, "  first %s, last %s\n",
                     s_(t, "first_wallclock") ? s_(t, "first_wallclock") : "?",
                     s_(t, "last_wallclock") ? s_(t, "last_wallclock") : "?");
    else
        ev__text_add(o, "  first %.6f s, last %.6f s\n", n_(t, "first"), n_(t, "last"));
    ev__text_add(o, "  frame rate: nominal ");
    if (json_is_number(json_object_get(t, "nominal_fps")))
        ev__text_add(o, "%g fps", n_(t, "nominal_fps"));
    else
        ev__text_add(o, "unknown");
    if (json_is_number(json_object_get(t, "measured_fps")))
        ev__text_add(o, ", measured %g fps\n", n_(t, "measured_fps"));
    else
        ev__text_add(o, ", none measured\n");
    long long ng = i_(t, "gaps_total");
    long long nd = i_(t, "discontinuities_total");
    hms(a, sizeof(a), n_(t, "missing"));
    ev__text_add(o, "  %lld gap%s (%s missing), %lld discontinuit%s\n", ng, ng == 1 ? "" : "s", a,
                 nd, nd == 1 ? "y" : "ies");
    size_t k;
    json_t *e;
    double first = n_(t, "first");
    json_array_foreach(json_object_get(t, "gaps"), k, e) {
        hms(a, sizeof(a), n_(e, "missing"));
        ev__text_add(o, "  gap: %s missing after frame %lld", a, i_(e, "after_frame"));
        if (s_(e, "from_wallclock")) {
            ev__text_add(o, " (%s -> %s)\n", s_(e, "from_wallclock"),
                         s_(e, "to_wallclock") ? s_(e, "to_wallclock") : "?");
        } else {
            hms(a, sizeof(a), n_(e, "from") - first);
            hms(b, sizeof(b), n_(e, "to") - first);
            ev__text_add(o, " (%s -> %s from the first frame)\n", a, b);
        }
    }
    json_array_foreach(json_object_get(t, "discontinuities"), k, e) {
        hms(a, sizeof(a), n_(e, "step"));
        const char *kind = s_(e, "kind");
        ev__text_add(o, "  discontinuity: time %s (%s) after frame %lld",
                     kind && !strcmp(kind, "repeat") ? "stands still" : "goes backwards", a,
                     i_(e, "after_frame"));
        if (s_(e, "from_wallclock"))
            ev__text_add(o, " (%s -> %s)\n", s_(e, "from_wallclock"),
                         s_(e, "to_wallclock") ? s_(e, "to_wallclock") : "?");
        else
            ev__text_add(o, " (%.6f s -> %.6f s)\n", n_(e, "from"), n_(e, "to"));
    }
    if (json_is_true(json_object_get(t, "events_truncated")))
        ev__text_add(o, "  (only the first 1000 gaps and discontinuities are listed)\n");
    if (json_is_integer(json_object_get(t, "stamp_jitter")))
        ev__text_add(o, "  %lld frame time(s) one or two frames off, taken back by the next "
                     "frames: stamps given to the wrong frame, not gaps\n",
                     i_(t, "stamp_jitter"));
    if (json_is_integer(json_object_get(t, "impossible_stamps")))
        ev__text_add(o, "  %lld frame stamp(s) are impossible dates (before 2000: month or day "
                     "0)\n", i_(t, "impossible_stamps"));
    sizes_text(o, t);
    if (json_is_true(json_object_get(t, "incomplete")))
        ev__text_add(o, "  (the stream was not read to its end: the timeline covers what was "
                     "read)\n");
}

static void stream_text(ev_text *o, size_t i, const json_t *st)
{
    const char *type = s_(st, "type");
    ev__text_add(o, "stream %zu:  %s %s", i, type ? type : "?",
                 s_(st, "codec") ? s_(st, "codec") : "?");
    if (type && strcmp(type, "video") == 0) {
        ev__text_add(o, " %lldx%lld", i_(st, "width"), i_(st, "height"));
        if (s_(st, "pix_fmt"))
            ev__text_add(o, " %s", s_(st, "pix_fmt"));
        if (s_(st, "avg_frame_rate")) {
            const char *src = s_(json_object_get(st, "timeline"), "time_source");
            ev__text_add(o, " %s fps%s", s_(st, "avg_frame_rate"),
                         src && !strcmp(src, "none") ? " (assumed, not measured)" : "");
        }
        const json_t *rot = json_object_get(st, "rotation");
        if (json_is_number(rot) && n_(st, "rotation") != 0)
            ev__text_add(o, " rotation %g", n_(st, "rotation"));
    } else if (type && strcmp(type, "audio") == 0) {
        ev__text_add(o, " %lld Hz %lld ch", i_(st, "sample_rate"), i_(st, "channels"));
        if (s_(st, "sample_fmt"))
            ev__text_add(o, " %s", s_(st, "sample_fmt"));
    }
    const json_t *fr = json_object_get(st, "frames");
    if (json_is_integer(fr))
        ev__text_add(o, ", %lld frames", (long long)json_integer_value(fr));
    ev__text_add(o, "\n");
}

static void capture_text(ev_text *o, const json_t *c)
{
    const json_t *src = json_object_get(c, "sources");
    const char *dsrc = s_(src, "datetime_original") ? s_(src, "datetime_original")
                                                     : s_(c, "datetime_source");
    const char *zone = s_(c, "datetime_original_zone");
    if (s_(c, "datetime_original"))
        ev__text_add(o, "captured:  %s%s%s%s%s\n", s_(c, "datetime_original"),
                     zone && !strcmp(zone, "utc-by-format") ? " (UTC as the format defines it)"
                                                            : "",
                     dsrc ? " [" : "", dsrc ? dsrc : "", dsrc ? "]" : "");
    else if (s_(c, "datetime_original_local"))
        ev__text_add(o, "captured:  %s local time, zone unknown%s%s%s\n",
                     s_(c, "datetime_original_local"), dsrc ? " [" : "", dsrc ? dsrc : "",
                     dsrc ? "]" : "");
    if (s_(c, "make") || s_(c, "model"))
        ev__text_add(o, "camera:    %s %s%s%s\n", s_(c, "make") ? s_(c, "make") : "",
                     s_(c, "model") ? s_(c, "model") : "", s_(c, "serial") ? " serial " : "",
                     s_(c, "serial") ? s_(c, "serial") : "");
    const json_t *g = json_object_get(c, "gps");
    if (json_is_number(json_object_get(g, "latitude")) &&
        json_is_number(json_object_get(g, "longitude"))) {
        /* as many decimals as the source holds (at least 6, at most 12) */
        double prec = n_(g, "precision_deg");
        int dec = 6;
        while (prec > 0 && dec < 12 && prec < 0.5 * pow(10.0, -dec))
            dec++;
        const char *fmt = s_(g, "format");
        ev__text_add(o, "gps:       %.*f, %.*f%s%s%s\n", dec, n_(g, "latitude"), dec,
                     n_(g, "longitude"), fmt ? " (" : "", fmt ? fmt : "", fmt ? ")" : "");
    } else if (json_is_true(json_object_get(g, "placeholder"))) {
        ev__text_add(o, "gps:       placeholder (the source holds no position)\n");
    }
}

char *ev_media__text(const json_t *doc)
{
    ev_text o = { 0 };
    const json_t *f = json_object_get(doc, "file");
    ev__text_add(&o, "file:      %s\n", s_(f, "name") ? s_(f, "name") : "-");
    ev__text_add(&o, "size:      %lld bytes\n", i_(f, "size"));
    if (s_(f, "sha256"))
        ev__text_add(&o, "sha256:    %s\n", s_(f, "sha256"));
    if (s_(f, "mime"))
        ev__text_add(&o, "mime:      %s\n", s_(f, "mime"));
    const json_t *m = json_object_get(doc, "media");
    if (s_(m, "error"))
        ev__text_add(&o, "media:     %s\n", s_(m, "error"));
    if (s_(m, "container"))
        ev__text_add(&o, "container: %s%s%s\n", s_(m, "container"),
                     s_(m, "container_long") ? " - " : "",
                     s_(m, "container_long") ? s_(m, "container_long") : "");
    if (json_is_number(json_object_get(m, "duration")))
        ev__text_add(&o, "duration:  %.3f s\n", n_(m, "duration"));
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(m, "streams"), i, st) stream_text(&o, i, st);
    json_array_foreach(json_object_get(m, "streams"), i, st)
        timeline_text(&o, i, json_object_get(st, "timeline"));
    const json_t *c = json_object_get(doc, "capture");
    if (c)
        capture_text(&o, c);
    json_t *h;
    json_array_foreach(json_object_get(doc, "content_hashes"), i, h) {
        const char *pk = s_(h, "packets_sha256") ? s_(h, "packets_sha256")
                                                 : s_(json_object_get(h, "packets"), "sha256");
        const char *dc = s_(h, "decoded_sha256") ? s_(h, "decoded_sha256")
                                                 : s_(json_object_get(h, "decoded"), "sha256");
        ev__text_add(&o, "stream %lld content: packets %s  decoded %s\n", i_(h, "stream"),
                     pk ? pk : "-", dc ? dc : "-");
    }
    return ev__text_take(&o);
}
