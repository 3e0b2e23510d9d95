/* 'evidence inspect FILE' for a single media file (not a bundle). */
#include "cli_media.h"

#include <math.h>
#include <string.h>

#include "cli.h"

static const char *s_(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* seconds as H:MM:SS.mmm */
static void hms(char *buf, size_t len, double s)
{
    const char *sign = s < 0 ? "-" : "";
    long long ms = llround(fabs(s) * 1000.0);
    snprintf(buf, len, "%s%02lld:%02lld:%02lld.%03lld", sign, ms / 3600000, ms / 60000 % 60,
             ms / 1000 % 60, ms % 1000);
}

static double n_(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

/* Where the times of a video stream come from, its rates, gaps and
 * discontinuities (media.streams[].timeline, docs/media.md "Timelines"). */
static void print_timeline(size_t i, const json_t *t)
{
    if (!t)
        return;
    const char *src = s_(t, "time_source");
    long long frames = (long long)json_integer_value(json_object_get(t, "frames"));
    if (src && !strcmp(src, "none")) {
        printf("timeline %zu: time source: none; %lld frames; ", i, frames);
        if (json_is_number(json_object_get(t, "assumed_fps")))
            printf("FFmpeg assumed %g fps; ", n_(t, "assumed_fps"));
        printf("no frame rate can be measured\n");
        return;
    }
    bool wall = src && !strcmp(src, "frame-stamps");
    printf("timeline %zu: time source: %s; %lld frames", i,
           wall ? "per-frame wall-clock stamps (camera local time, zone unknown)"
                : "container timestamps",
           frames);
    if (json_is_integer(json_object_get(t, "frames_untimed")))
        printf(" (%lld without a time of their own: previous frame + its duration)",
               (long long)json_integer_value(json_object_get(t, "frames_untimed")));
    printf("\n");
    char a[32], b[32];
    if (wall)
        printf("  first %s, last %s\n", s_(t, "first_wallclock") ? s_(t, "first_wallclock") : "?",
               s_(t, "last_wallclock") ? s_(t, "last_wallclock") : "?");
    else
        printf("  first %.6f s, last %.6f s\n", n_(t, "first"), n_(t, "last"));
    printf("  frame rate: nominal ");
    if (json_is_number(json_object_get(t, "nominal_fps")))
        printf("%g fps", n_(t, "nominal_fps"));
    else
        printf("unknown");
    if (json_is_number(json_object_get(t, "measured_fps")))
        printf(", measured %g fps\n", n_(t, "measured_fps"));
    else
        printf(", none measured\n");
    long long ng = (long long)json_integer_value(json_object_get(t, "gaps_total"));
    long long nd = (long long)json_integer_value(json_object_get(t, "discontinuities_total"));
    hms(a, sizeof(a), n_(t, "missing"));
    printf("  %lld gap%s (%s missing), %lld discontinuit%s\n", ng, ng == 1 ? "" : "s", a, nd,
           nd == 1 ? "y" : "ies");
    size_t k;
    json_t *e;
    double first = n_(t, "first");
    json_array_foreach(json_object_get(t, "gaps"), k, e) {
        hms(a, sizeof(a), n_(e, "missing"));
        printf("  gap: %s missing after frame %lld", a,
               (long long)json_integer_value(json_object_get(e, "after_frame")));
        if (s_(e, "from_wallclock"))
            printf(" (%s -> %s)\n", s_(e, "from_wallclock"), s_(e, "to_wallclock"));
        else {
            hms(a, sizeof(a), n_(e, "from") - first);
            hms(b, sizeof(b), n_(e, "to") - first);
            printf(" (%s -> %s from the first frame)\n", a, b);
        }
    }
    json_array_foreach(json_object_get(t, "discontinuities"), k, e) {
        hms(a, sizeof(a), n_(e, "step"));
        printf("  discontinuity: time %s (%s) after frame %lld",
               !strcmp(s_(e, "kind") ? s_(e, "kind") : "", "repeat") ? "stands still"
                                                                      : "goes backwards",
               a,
               (long long)json_integer_value(json_object_get(e, "after_frame")));
        if (s_(e, "from_wallclock"))
            printf(" (%s -> %s)\n", s_(e, "from_wallclock"), s_(e, "to_wallclock"));
        else
            printf(" (%.6f s -> %.6f s)\n", n_(e, "from"), n_(e, "to"));
    }
    if (json_is_true(json_object_get(t, "events_truncated")))
        printf("  (only the first 1000 gaps and discontinuities are listed)\n");
    if (json_is_integer(json_object_get(t, "stamp_jitter")))
        printf("  %lld frame time(s) one or two frames off, taken back by the next frames: "
               "stamps given to the wrong frame, not gaps\n",
               (long long)json_integer_value(json_object_get(t, "stamp_jitter")));
    if (json_is_integer(json_object_get(t, "impossible_stamps")))
        printf("  %lld frame stamp(s) are impossible dates (before 2000: month or day 0)\n",
               (long long)json_integer_value(json_object_get(t, "impossible_stamps")));
    if (json_is_true(json_object_get(t, "incomplete")))
        printf("  (the stream was not read to its end: the timeline covers what was read)\n");
}

static void print_human(const json_t *o)
{
    const json_t *f = json_object_get(o, "file");
    printf("file:      %s\n", s_(f, "name") ? s_(f, "name") : "-");
    printf("size:      %lld bytes\n", (long long)json_integer_value(json_object_get(f, "size")));
    if (s_(f, "sha256"))
        printf("sha256:    %s\n", s_(f, "sha256"));
    if (s_(f, "mime"))
        printf("mime:      %s\n", s_(f, "mime"));
    const json_t *m = json_object_get(o, "media");
    if (s_(m, "error"))
        printf("media:     %s\n", s_(m, "error"));
    if (s_(m, "container"))
        printf("container: %s%s%s\n", s_(m, "container"), s_(m, "container_long") ? " - " : "",
               s_(m, "container_long") ? s_(m, "container_long") : "");
    const json_t *d = json_object_get(m, "duration");
    if (json_is_number(d))
        printf("duration:  %.3f s\n", json_number_value(d));
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(m, "streams"), i, st) {
        const char *type = s_(st, "type");
        printf("stream %zu:  %s %s", i, type ? type : "?", s_(st, "codec") ? s_(st, "codec") : "?");
        if (type && strcmp(type, "video") == 0) {
            printf(" %lldx%lld", (long long)json_integer_value(json_object_get(st, "width")),
                   (long long)json_integer_value(json_object_get(st, "height")));
            if (s_(st, "pix_fmt"))
                printf(" %s", s_(st, "pix_fmt"));
            if (s_(st, "avg_frame_rate"))
                printf(" %s fps%s", s_(st, "avg_frame_rate"),
                       s_(json_object_get(st, "timeline"), "time_source") &&
                               !strcmp(s_(json_object_get(st, "timeline"), "time_source"), "none")
                           ? " (assumed, not measured)"
                           : "");
            const json_t *rot = json_object_get(st, "rotation");
            if (json_is_number(rot) && json_number_value(rot) != 0)
                printf(" rotation %g", json_number_value(rot));
        } else if (type && strcmp(type, "audio") == 0) {
            printf(" %lld Hz %lld ch", (long long)json_integer_value(json_object_get(st, "sample_rate")),
                   (long long)json_integer_value(json_object_get(st, "channels")));
            if (s_(st, "sample_fmt"))
                printf(" %s", s_(st, "sample_fmt"));
        }
        const json_t *fr = json_object_get(st, "frames");
        if (json_is_integer(fr))
            printf(", %lld frames", (long long)json_integer_value(fr));
        printf("\n");
    }
    json_array_foreach(json_object_get(m, "streams"), i, st) {
        print_timeline(i, json_object_get(st, "timeline"));
    }
    const json_t *c = json_object_get(o, "capture");
    if (c) {
        const json_t *src = json_object_get(c, "sources");
        const char *dsrc = s_(src, "datetime_original") ? s_(src, "datetime_original")
                                                         : s_(c, "datetime_source");
        const char *zone = s_(c, "datetime_original_zone");
        if (s_(c, "datetime_original"))
            printf("captured:  %s%s%s%s%s\n", s_(c, "datetime_original"),
                   zone && !strcmp(zone, "utc-by-format") ? " (UTC as the format defines it)" : "",
                   dsrc ? " [" : "", dsrc ? dsrc : "", dsrc ? "]" : "");
        else if (s_(c, "datetime_original_local"))
            printf("captured:  %s local time, zone unknown%s%s%s\n",
                   s_(c, "datetime_original_local"), dsrc ? " [" : "", dsrc ? dsrc : "",
                   dsrc ? "]" : "");
        if (s_(c, "make") || s_(c, "model"))
            printf("camera:    %s %s%s%s\n", s_(c, "make") ? s_(c, "make") : "",
                   s_(c, "model") ? s_(c, "model") : "", s_(c, "serial") ? " serial " : "",
                   s_(c, "serial") ? s_(c, "serial") : "");
        const json_t *g = json_object_get(c, "gps");
        const json_t *lat = json_object_get(g, "latitude"), *lon = json_object_get(g, "longitude");
        if (json_is_number(lat) && json_is_number(lon)) {
            /* as many decimals as the source holds (at least 6, at most 12) */
            double prec = json_number_value(json_object_get(g, "precision_deg"));
            int dec = 6;
            while (prec > 0 && dec < 12 && prec < 0.5 * pow(10.0, -dec))
                dec++;
            printf("gps:       %.*f, %.*f%s%s%s\n", dec, json_number_value(lat), dec,
                   json_number_value(lon), s_(g, "format") ? " (" : "",
                   s_(g, "format") ? s_(g, "format") : "", s_(g, "format") ? ")" : "");
        } else if (json_is_true(json_object_get(g, "placeholder"))) {
            printf("gps:       placeholder (the source holds no position)\n");
        }
    }
    json_t *h;
    json_array_foreach(json_object_get(o, "content_hashes"), i, h) {
        const char *pk = s_(h, "packets_sha256") ? s_(h, "packets_sha256") : s_(json_object_get(h, "packets"), "sha256");
        const char *dc = s_(h, "decoded_sha256") ? s_(h, "decoded_sha256") : s_(json_object_get(h, "decoded"), "sha256");
        printf("stream %lld content: packets %s  decoded %s\n",
               (long long)json_integer_value(json_object_get(h, "stream")), pk ? pk : "-", dc ? dc : "-");
    }
}

int cli_inspect_media(const char *path, bool json)
{
    ev_media *m = NULL;
    int st = ev_media_new(&m, NULL);
    char *out = NULL;
    if (st == EV_OK)
        st = ev_media_analyze_file(&out, m, path);
    if (st != EV_OK) {
        cli_error("%s", m ? ev_media_last_error(m) : ev_strerror(st));
        ev_media_free(m);
        int code = cli_exit_for_status(st);
        return code == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : code;
    }
    ev_media_free(m);
    if (json) {
        cli_write_stdout(out);
        if (out[0] && out[strlen(out) - 1] != '\n')
            cli_write_stdout("\n");
    } else {
        json_t *o = json_loads(out, 0, NULL);
        if (o)
            print_human(o);
        json_decref(o);
    }
    ev_free(out);
    return CLI_EXIT_OK;
}
