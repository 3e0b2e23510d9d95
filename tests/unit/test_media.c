/*
 * Unit tests for the media module (src/media*.c, src/exif.c): facts against
 * ffprobe and exiftool, content hashes against `ffmpeg -f streamhash`, deep
 * verification, the public ev_media_* API and the JSON schema.
 * Fixtures come from scripts/gen-test-media.sh into a fresh folder.
 */
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "evidence/bundle.h"
#include "evidence/media.h"
#include "media/media.h"
#include "media/media_int.h"
#include "testutil.h"

static char *g_dir;      /* fixtures */
static char *g_scratch;  /* per-run scratch files */

/* Every audio/video fixture the generator makes (HEIC is optional). */
static const char *const av_files[] = {
    "v_h264.mp4", "v_remux.mkv", "v_remux.mp4", "v_h264_flac.mkv", "v_mjpeg.avi",
    "v_h264.ts", "v_mpeg2.mpg", "v_raw.264", "v_raw.265", "v_ffv1.mkv",
    "v_ffv1_422p10.mkv", "v_interlaced.mp4", "v_vfr.mp4", "v_rot90.mp4", "v_rot180.mp4",
    "v_rot270.mp4", "v_gps.mp4", "v_gps.mov", "a_s16.wav", "a_s24.wav", "a_f32.wav",
    "a_alaw.wav", "a_mulaw.wav", "a.mp3", "a_s24.flac", "a_s16.flac", "i.jpg", "i.png",
    "i.tiff", "i_noexif.jpg", NULL
};

/* ------------------------------------------------------------------------ */
/* helpers                                                                   */
/* ------------------------------------------------------------------------ */

static char *fixture(const char *name)
{
    return tu_join(g_dir, name);
}

/* Run a shell command; returns its stdout (caller frees) or NULL. */
static char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *run(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 4096) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    int st = pclose(p);
    if (!buf)
        return NULL;
    buf[len] = '\0';
    if (st != 0) {
        fprintf(stderr, "command failed (%d): %s\n", st, cmd);
        free(buf);
        return NULL;
    }
    return buf;
}

static json_t *run_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *run_json(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    char *out = run("%s", cmd);
    if (!out)
        return NULL;
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    if (!j)
        fprintf(stderr, "bad JSON from %s: %s\n", cmd, e.text);
    free(out);
    return j;
}

typedef struct result {
    json_t *media;
    json_t *capture;
    json_t *content;
    ev_media__file *meta;
    size_t nmeta;
} result;

static void result_free(result *r)
{
    json_decref(r->media);
    json_decref(r->capture);
    json_decref(r->content);
    ev_media__files_free(r->meta, r->nmeta);
    memset(r, 0, sizeof(*r));
}

/* One analysis (both hashes) of every A/V fixture, shared by the tests
 * that compare with the reference tools. */
static result g_res[64];
static bool g_res_done[64];

static int analyze_path(result *r, const char *path, int mode)
{
    memset(r, 0, sizeof(*r));
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -100;
    struct stat sb;
    fstat(fd, &sb);
    uint64_t state[4];
    ev_io io;
    ev_media__io_from_fd(&io, fd, (uint64_t)sb.st_size, state);
    ev_errbuf err = { { 0 } };
    int rc = ev_media__analyze(&r->media, &r->capture, &r->content, &r->meta, &r->nmeta, &io,
                               path, mode, &err);
    close(fd);
    if (rc)
        fprintf(stderr, "analyze %s: %d %s\n", path, rc, err.msg);
    return rc;
}

static int analyze(result *r, const char *name, int mode)
{
    char *p = fixture(name);
    int rc = analyze_path(r, p, mode);
    free(p);
    return rc;
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A number from a JSON number or a numeric string (ffprobe prints strings). */
static bool jnum(const json_t *o, const char *k, double *v)
{
    const json_t *x = json_object_get(o, k);
    if (json_is_number(x)) {
        *v = json_number_value(x);
        return true;
    }
    const char *s = json_string_value(x);
    if (!s || !*s || strcmp(s, "N/A") == 0)
        return false;
    char *end;
    *v = strtod(s, &end);
    return *end == '\0';
}

static const json_t *content_for(const json_t *content, int stream)
{
    size_t i;
    const json_t *e;
    json_array_foreach(content, i, e)
    {
        if (json_integer_value(json_object_get(e, "stream")) == stream)
            return e;
    }
    return NULL;
}

static const char *content_hash(const json_t *content, int stream, const char *kind)
{
    const json_t *e = content_for(content, stream);
    return jstr(json_object_get(e, kind), "sha256");
}

static const ev_media__file *meta_named(const result *r, const char *name)
{
    for (size_t i = 0; i < r->nmeta; i++)
        if (strcmp(r->meta[i].name, name) == 0)
            return &r->meta[i];
    return NULL;
}

/* Parse "i,t,SHA256=hex" lines of the streamhash muxer into hex[i]. */
static int parse_streamhash(const char *out, char hex[][65], int max)
{
    int n = 0;
    const char *p = out;
    while (p && *p) {
        int idx;
        char t;
        char h[65];
        if (sscanf(p, "%d,%c,SHA256=%64s", &idx, &t, h) == 3 && idx >= 0 && idx < max) {
            memcpy(hex[idx], h, 65);
            n++;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return n;
}

static bool near(double a, double b, double tol)
{
    return fabs(a - b) <= tol;
}

/* ------------------------------------------------------------------------ */
/* setup                                                                     */
/* ------------------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    g_dir = tu_mkdtemp("media-fixtures");
    g_scratch = tu_mkdtemp("media-scratch");
    const char *src = getenv("EV_SOURCE_DIR");
    if (!g_dir || !g_scratch || !src)
        return -1;
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "bash '%s/scripts/gen-test-media.sh' '%s'", src, g_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "fixture generation failed: %s\n", cmd);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int k = 0; k < 64; k++)
        if (g_res_done[k])
            result_free(&g_res[k]);
    tu_rmrf(g_dir);
    tu_rmrf(g_scratch);
    free(g_dir);
    free(g_scratch);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* facts vs ffprobe                                                          */
/* ------------------------------------------------------------------------ */

/* Compare a number when ffprobe has it (skip_zero: ffprobe's 0 means unknown). */
static void cmp_num(const char *file, const json_t *mine, const char *mk, const json_t *ff,
                    const char *fk, double tol, bool skip_zero)
{
    double a, b;
    if (!jnum(ff, fk, &b) || (skip_zero && b == 0))
        return;
    if (!jnum(mine, mk, &a))
        fail_msg("%s: no %s (ffprobe %s = %g)", file, mk, fk, b);
    if (!near(a, b, tol))
        fail_msg("%s: %s = %.9g, ffprobe %s = %.9g", file, mk, a, fk, b);
}

/* A still has no time: ffprobe's 25 fps, 0.04 s and the bit rate derived
 * from them are FFmpeg's image2 defaults, which the record must not state. */
static bool is_still(const result *r)
{
    return jstr(r->media, "kind") && strcmp(jstr(r->media, "kind"), "image") == 0;
}

static void check_stream_vs_ffprobe(const char *file, const json_t *mine, const json_t *ff,
                                    bool still)
{
    const char *ctype = jstr(ff, "codec_type");
    assert_non_null(ctype);
    assert_string_equal(jstr(mine, "type"), ctype);
    assert_string_equal(jstr(mine, "codec"), jstr(ff, "codec_name"));
    const char *prof = jstr(ff, "profile");
    if (prof && strcmp(prof, "unknown") != 0) {
        if (!jstr(mine, "profile") || strcmp(jstr(mine, "profile"), prof) != 0)
            fail_msg("%s: profile %s vs ffprobe %s", file, jstr(mine, "profile"), prof);
    }
    assert_string_equal(jstr(mine, "time_base"), jstr(ff, "time_base"));
    if (still) {
        assert_null(json_object_get(mine, "start_time"));
        assert_null(json_object_get(mine, "duration"));
    } else {
        cmp_num(file, mine, "start_time", ff, "start_time", 1e-6, false);
        cmp_num(file, mine, "duration", ff, "duration", 1e-6, false);
    }
    cmp_num(file, mine, "nb_frames", ff, "nb_frames", 0, true);
    cmp_num(file, mine, "bit_rate", ff, "bit_rate", 0, true);
    cmp_num(file, mine, "bits_per_raw_sample", ff, "bits_per_raw_sample", 0, true);
    double a, b;
    const json_t *lang = json_object_get(json_object_get(ff, "tags"), "language");
    if (lang)
        assert_string_equal(jstr(mine, "language"), json_string_value(lang));
    const json_t *hn = json_object_get(json_object_get(ff, "tags"), "handler_name");
    if (hn)
        assert_string_equal(jstr(mine, "handler"), json_string_value(hn));
    const json_t *ct = json_object_get(json_object_get(ff, "tags"), "creation_time");
    if (ct)
        assert_string_equal(jstr(mine, "creation_time"), json_string_value(ct));
    if (strcmp(ctype, "video") == 0) {
        assert_int_equal(json_integer_value(json_object_get(mine, "width")),
                         json_integer_value(json_object_get(ff, "width")));
        assert_int_equal(json_integer_value(json_object_get(mine, "height")),
                         json_integer_value(json_object_get(ff, "height")));
        assert_string_equal(jstr(mine, "pix_fmt"), jstr(ff, "pix_fmt"));
        if (still) {
            assert_null(json_object_get(mine, "r_frame_rate"));
            assert_null(json_object_get(mine, "avg_frame_rate"));
        } else {
            assert_string_equal(jstr(mine, "r_frame_rate"), jstr(ff, "r_frame_rate"));
            assert_string_equal(jstr(mine, "avg_frame_rate"), jstr(ff, "avg_frame_rate"));
        }
        const char *sar = jstr(ff, "sample_aspect_ratio");
        if (sar && strcmp(sar, "N/A") != 0 && strcmp(sar, "0:1") != 0) {
            assert_string_equal(jstr(mine, "sample_aspect_ratio"), sar);
            assert_string_equal(jstr(mine, "display_aspect_ratio"),
                                jstr(ff, "display_aspect_ratio"));
        }
        const char *fo = jstr(ff, "field_order");
        if (fo && strcmp(fo, "unknown") != 0)
            assert_string_equal(jstr(mine, "field_order"), fo);
        if (json_object_get(ff, "level") && json_integer_value(json_object_get(ff, "level")) != -99)
            assert_int_equal(json_integer_value(json_object_get(mine, "level")),
                             json_integer_value(json_object_get(ff, "level")));
        /* rotation: ffprobe reports the display matrix angle (counter-clockwise) */
        const json_t *sdl = json_object_get(ff, "side_data_list");
        size_t i;
        const json_t *sd;
        bool had_rot = false;
        json_array_foreach(sdl, i, sd)
        {
            if (jnum(sd, "rotation", &b)) {
                had_rot = true;
                assert_true(jnum(mine, "display_matrix_rotation", &a));
                assert_true(near(a, b, 0.01));
                double cw = fmod(-b + 360.0, 360.0);
                assert_true(jnum(mine, "rotation", &a));
                assert_true(near(a, cw, 0.01));
            }
        }
        if (!had_rot)
            assert_null(json_object_get(mine, "rotation"));
    } else if (strcmp(ctype, "audio") == 0) {
        assert_true(jnum(ff, "sample_rate", &b));
        assert_true(jnum(mine, "sample_rate", &a));
        assert_true(a == b);
        assert_int_equal(json_integer_value(json_object_get(mine, "channels")),
                         json_integer_value(json_object_get(ff, "channels")));
        if (jstr(ff, "channel_layout"))
            assert_string_equal(jstr(mine, "channel_layout"), jstr(ff, "channel_layout"));
        assert_string_equal(jstr(mine, "sample_fmt"), jstr(ff, "sample_fmt"));
        if (jnum(ff, "bits_per_sample", &b) && b > 0) {
            assert_true(jnum(mine, "bits_per_sample", &a));
            assert_true(a == b);
        }
    }
}

static const result *cached(int k)
{
    if (!g_res_done[k]) {
        char *p = fixture(av_files[k]);
        assert_int_equal(analyze_path(&g_res[k], p, EV_CONTENT_HASH_BOTH), EV_OK);
        free(p);
        g_res_done[k] = true;
    }
    return &g_res[k];
}

static void media_facts_match_ffprobe(void **state)
{
    (void)state;
    for (int k = 0; av_files[k]; k++) {
        const char *f = av_files[k];
        char *p = fixture(f);
        const result *rp = cached(k);
        const result r = *rp;
        json_t *ff = run_json("ffprobe -v error -count_packets -count_frames -show_streams "
                              "-show_format -of json '%s'",
                              p);
        assert_non_null(ff);
        const json_t *fmt = json_object_get(ff, "format");
        const char *mine_c = jstr(r.media, "container"), *ff_c = jstr(fmt, "format_name");
        assert_null(json_object_get(r.media, "error"));
        /* ffprobe opens files by name, so stills come out as "image2"; through
         * an io the content-probed *_pipe demuxer may win */
        if (strcmp(mine_c, ff_c) != 0 &&
            !(strcmp(ff_c, "image2") == 0 && strstr(mine_c, "_pipe")))
            fail_msg("%s: container %s vs ffprobe %s", f, mine_c, ff_c);
        double a, b;
        if (is_still(&r)) {
            assert_null(json_object_get(r.media, "duration"));
            assert_null(json_object_get(r.media, "bit_rate"));
        } else if (jnum(fmt, "duration", &b)) {
            assert_true(jnum(r.media, "duration", &a));
            if (!near(a, b, 1e-6))
                fail_msg("%s: duration %f vs %f", f, a, b);
        }
        if (!is_still(&r) && jnum(fmt, "bit_rate", &b) && strcmp(mine_c, ff_c) == 0) {
            assert_true(jnum(r.media, "bit_rate", &a));
            assert_true(a == b);
        }
        assert_int_equal(json_integer_value(json_object_get(r.media, "nb_streams")),
                         json_integer_value(json_object_get(fmt, "nb_streams")));
        const json_t *ffs = json_object_get(ff, "streams");
        const json_t *ms = json_object_get(r.media, "streams");
        assert_int_equal(json_array_size(ms), json_array_size(ffs));
        for (size_t i = 0; i < json_array_size(ffs); i++) {
            const json_t *x = json_array_get(ffs, i), *y = json_array_get(ms, i);
            check_stream_vs_ffprobe(f, y, x, is_still(&r));
            /* packets and frames read, as ffprobe -count_packets -count_frames */
            assert_true(jnum(x, "nb_read_packets", &b));
            assert_true(jnum(y, "packets", &a));
            if (a != b)
                fail_msg("%s stream %zu: %g packets vs ffprobe %g", f, i, a, b);
            assert_true(jnum(x, "nb_read_frames", &b));
            assert_true(jnum(y, "frames", &a));
            if (a != b)
                fail_msg("%s stream %zu: %g frames vs ffprobe %g", f, i, a, b);
        }
        json_decref(ff);
        free(p);
    }
}

/* ------------------------------------------------------------------------ */
/* content hashes vs the streamhash muxer                                    */
/* ------------------------------------------------------------------------ */

static void media_packet_hashes_match_streamhash(void **state)
{
    (void)state;
    for (int k = 0; av_files[k]; k++) {
        char *p = fixture(av_files[k]);
        const result r = *cached(k);
        char *out = run("ffmpeg -nostdin -v error -i '%s' -map 0 -c copy -f streamhash "
                        "-hash sha256 -",
                        p);
        assert_non_null(out);
        char hex[16][65];
        memset(hex, 0, sizeof(hex));
        int n = parse_streamhash(out, hex, 16);
        assert_true(n > 0);
        for (int i = 0; i < n; i++) {
            const char *mine = content_hash(r.content, i, "packets");
            if (!mine || strcmp(mine, hex[i]) != 0)
                fail_msg("%s stream %d: packets %s vs streamhash %s", av_files[k], i,
                         mine ? mine : "(none)", hex[i]);
        }
        free(out);
        free(p);
    }
}

/* The raw codec each fixture's audio must be hashed as (native depth). */
static const char *expected_pcm(const char *file)
{
    static const struct {
        const char *file, *as;
    } t[] = { { "a_s16.wav", "pcm_s16le" },  { "a_s24.wav", "pcm_s24le" },
              { "a_f32.wav", "pcm_f32le" },  { "a_alaw.wav", "pcm_s16le" },
              { "a_mulaw.wav", "pcm_s16le" }, { "a.mp3", "pcm_f32le" },
              { "a_s24.flac", "pcm_s24le" }, { "a_s16.flac", "pcm_s16le" },
              { "v_h264.mp4", "pcm_f32le" }, { "v_h264_flac.mkv", "pcm_s16le" },
              { "v_mjpeg.avi", "pcm_s16le" }, { "v_mpeg2.mpg", "pcm_s16le" } };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(t[i].file, file) == 0)
            return t[i].as;
    return NULL;
}

static void media_decoded_hashes_match_streamhash(void **state)
{
    (void)state;
    for (int k = 0; av_files[k]; k++) {
        char *p = fixture(av_files[k]);
        const result r = *cached(k);
        char codecs[512] = "";
        size_t i;
        const json_t *e;
        json_array_foreach(r.content, i, e)
        {
            const json_t *d = json_object_get(e, "decoded");
            const char *as = jstr(d, "as");
            assert_non_null(as);
            int s = (int)json_integer_value(json_object_get(e, "stream"));
            if (strcmp(jstr(e, "type"), "audio") == 0) {
                const char *want = expected_pcm(av_files[k]);
                if (want && strcmp(want, as) != 0)
                    fail_msg("%s: audio hashed as %s, expected %s", av_files[k], as, want);
            } else {
                assert_string_equal(as, "rawvideo");
            }
            size_t l = strlen(codecs);
            snprintf(codecs + l, sizeof(codecs) - l, " -c:%d %s", s, as);
        }
        char *out = run("ffmpeg -nostdin -v error -flags +bitexact -idct simple -noautorotate "
                        "-i '%s' -map 0%s -fps_mode passthrough -f streamhash -hash sha256 -",
                        p, codecs);
        assert_non_null(out);
        char hex[16][65];
        memset(hex, 0, sizeof(hex));
        int n = parse_streamhash(out, hex, 16);
        assert_true(n > 0);
        for (int s = 0; s < n; s++) {
            const char *mine = content_hash(r.content, s, "decoded");
            if (!mine || strcmp(mine, hex[s]) != 0)
                fail_msg("%s stream %d: decoded %s vs streamhash %s", av_files[k], s,
                         mine ? mine : "(none)", hex[s]);
        }
        free(out);
        free(p);
    }
}

static void media_remux_keeps_packet_hashes(void **state)
{
    (void)state;
    result a, b, c;
    assert_int_equal(analyze(&a, "v_h264.mp4", EV_CONTENT_HASH_BOTH), EV_OK);
    assert_int_equal(analyze(&b, "v_remux.mkv", EV_CONTENT_HASH_BOTH), EV_OK);
    assert_int_equal(analyze(&c, "v_remux.mp4", EV_CONTENT_HASH_BOTH), EV_OK);
    for (int s = 0; s < 2; s++) {
        const char *ha = content_hash(a.content, s, "packets");
        assert_non_null(ha);
        assert_string_equal(ha, content_hash(b.content, s, "packets"));
        assert_string_equal(ha, content_hash(c.content, s, "packets"));
    }
    /* the video decodes to the same frames too */
    assert_string_equal(content_hash(a.content, 0, "decoded"), content_hash(b.content, 0, "decoded"));
    result_free(&a);
    result_free(&b);
    result_free(&c);
}

/* Offset of the "data" chunk payload of a WAV file. */
static long wav_data_offset(const uint8_t *d, size_t n)
{
    size_t off = 12;
    while (off + 8 <= n) {
        uint32_t len = (uint32_t)d[off + 4] | ((uint32_t)d[off + 5] << 8) |
                       ((uint32_t)d[off + 6] << 16) | ((uint32_t)d[off + 7] << 24);
        if (memcmp(d + off, "data", 4) == 0)
            return (long)off + 8;
        off += 8 + len + (len & 1);
    }
    return -1;
}

static void media_24bit_lsb_flip_changes_decoded(void **state)
{
    (void)state;
    char *src = fixture("a_s24.wav");
    size_t n;
    uint8_t *d = tu_read(src, &n);
    assert_non_null(d);
    long off = wav_data_offset(d, n);
    assert_true(off > 0);
    /* lowest byte of sample 1000 (mono, 3 bytes per sample) */
    d[off + 3 * 1000] ^= 0x01;
    char *dst = tu_join(g_scratch, "flip24.wav");
    assert_int_equal(tu_write(dst, d, n), 0);
    result a, b;
    assert_int_equal(analyze_path(&a, src, EV_CONTENT_HASH_BOTH), EV_OK);
    assert_int_equal(analyze_path(&b, dst, EV_CONTENT_HASH_BOTH), EV_OK);
    assert_string_not_equal(content_hash(a.content, 0, "decoded"),
                            content_hash(b.content, 0, "decoded"));
    assert_string_not_equal(content_hash(a.content, 0, "packets"),
                            content_hash(b.content, 0, "packets"));
    /* the pitfall this avoids: the default 16-bit streamhash does not see it */
    char *h1 = run("ffmpeg -nostdin -v error -i '%s' -f streamhash -hash sha256 -", src);
    char *h2 = run("ffmpeg -nostdin -v error -i '%s' -f streamhash -hash sha256 -", dst);
    assert_non_null(h1);
    assert_non_null(h2);
    assert_string_equal(h1, h2);
    free(h1);
    free(h2);
    result_free(&a);
    result_free(&b);
    free(d);
    free(src);
    free(dst);
}

/* ------------------------------------------------------------------------ */
/* deep verify                                                               */
/* ------------------------------------------------------------------------ */

static json_t *make_item(const result *r, const char *name)
{
    json_t *item = json_object();
    json_object_set_new(item, "original_name", json_string(name));
    json_object_set(item, "content_hashes", r->content);
    return item;
}

static int deep_verify_path(json_t **findings, const json_t *item, const char *path,
                            const result *r)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -100;
    struct stat sb;
    fstat(fd, &sb);
    uint64_t state[4];
    ev_io io;
    ev_media__io_from_fd(&io, fd, (uint64_t)sb.st_size, state);
    ev_errbuf err = { { 0 } };
    int rc = ev_media__deep_verify(findings, item, &io, r->meta, r->nmeta, &err);
    close(fd);
    return rc;
}

static const json_t *finding(const json_t *f, int stream, const char *kind)
{
    size_t i;
    const json_t *e;
    json_array_foreach(f, i, e)
    {
        if (json_integer_value(json_object_get(e, "stream")) == stream &&
            strcmp(jstr(e, "kind"), kind) == 0)
            return e;
    }
    return NULL;
}

/* File offset and size of the packet of stream 0 that is frame n in display
 * (pts) order, from ffprobe; *demux receives its demux-order index. */
static void packet_pos(const char *path, int n, long *pos, long *size, int *demux)
{
    json_t *j = run_json("ffprobe -v error -select_streams 0 -show_entries packet=pos,size,pts "
                         "-of json '%s'",
                         path);
    assert_non_null(j);
    const json_t *pk = json_object_get(j, "packets");
    size_t np = json_array_size(pk);
    assert_true((size_t)n < np);
    /* rank of each packet's pts */
    int found = -1;
    for (size_t i = 0; i < np && found < 0; i++) {
        double pi, pj;
        assert_true(jnum(json_array_get(pk, i), "pts", &pi));
        int rank = 0;
        for (size_t k = 0; k < np; k++) {
            assert_true(jnum(json_array_get(pk, k), "pts", &pj));
            if (pj < pi)
                rank++;
        }
        if (rank == n)
            found = (int)i;
    }
    assert_true(found >= 0);
    const json_t *p = json_array_get(pk, (size_t)found);
    double a, b;
    assert_true(jnum(p, "pos", &a));
    assert_true(jnum(p, "size", &b));
    *pos = (long)a;
    *size = (long)b;
    *demux = found;
    json_decref(j);
}

static void deep_verify_case(const char *name, int frame)
{
    char *src = fixture(name);
    result r;
    assert_int_equal(analyze_path(&r, src, EV_CONTENT_HASH_BOTH), EV_OK);
    json_t *item = make_item(&r, name);
    /* unchanged: everything ok */
    json_t *f = NULL;
    assert_int_equal(deep_verify_path(&f, item, src, &r), EV_OK);
    assert_true(json_array_size(f) >= 2);
    size_t i;
    const json_t *e;
    json_array_foreach(f, i, e)
    {
        if (strcmp(jstr(e, "status"), "ok") != 0)
            fail_msg("%s unchanged: %s", name, json_dumps(e, 0));
    }
    json_decref(f);
    /* one byte changed in the middle of packet `frame` of stream 0 */
    long pos, size;
    int demux;
    packet_pos(src, frame, &pos, &size, &demux);
    size_t n;
    uint8_t *d = tu_read(src, &n);
    assert_non_null(d);
    assert_true(pos + size <= (long)n);
    d[pos + size / 2] ^= 0x5A;
    char *dst = tu_join(g_scratch, name);
    assert_int_equal(tu_write(dst, d, n), 0);
    assert_int_equal(deep_verify_path(&f, item, dst, &r), EV_OK);
    const json_t *fp = finding(f, 0, "packets");
    assert_non_null(fp);
    assert_string_equal(jstr(fp, "status"), "mismatch");
    const json_t *frames = json_object_get(fp, "frames");
    if (json_array_size(frames) != 1 ||
        json_integer_value(json_array_get(frames, 0)) != frame)
        fail_msg("%s: packets finding %s, expected frame %d", name, json_dumps(fp, 0), frame);
    assert_int_equal(json_array_size(json_object_get(fp, "time_ranges")), 1);
    const json_t *pkts = json_object_get(fp, "packets");
    assert_int_equal(json_array_size(pkts), 1);
    assert_int_equal(json_integer_value(json_array_get(pkts, 0)), demux);
    const json_t *fd = finding(f, 0, "decoded");
    assert_non_null(fd);
    assert_string_equal(jstr(fd, "status"), "mismatch");
    /* the changed frame is among the decoded frames that differ */
    bool found = false;
    json_array_foreach(json_object_get(fd, "frames"), i, e)
    {
        if (json_integer_value(e) == frame)
            found = true;
    }
    if (!found)
        fail_msg("%s: decoded finding %s lacks frame %d", name, json_dumps(fd, 0), frame);
    /* other streams are untouched */
    const json_t *fa = finding(f, 1, "packets");
    if (fa)
        assert_string_equal(jstr(fa, "status"), "ok");
    json_decref(f);
    json_decref(item);
    result_free(&r);
    free(d);
    free(src);
    free(dst);
}

static void media_deep_verify_names_changed_frame(void **state)
{
    (void)state;
    deep_verify_case("v_ffv1.mkv", 7);  /* intra-only: exactly one decoded frame */
    deep_verify_case("v_h264.mp4", 12); /* inter frames: the packet is named */
    deep_verify_case("v_mjpeg.avi", 3);
}

static void media_deep_verify_without_lists(void **state)
{
    (void)state;
    char *src = fixture("v_ffv1.mkv");
    result r;
    assert_int_equal(analyze_path(&r, src, EV_CONTENT_HASH_PACKETS), EV_OK);
    json_t *item = make_item(&r, "v_ffv1.mkv");
    long pos, size;
    int demux;
    packet_pos(src, 3, &pos, &size, &demux);
    size_t n;
    uint8_t *d = tu_read(src, &n);
    d[pos + size / 2] ^= 0x01;
    char *dst = tu_join(g_scratch, "nolist.mkv");
    assert_int_equal(tu_write(dst, d, n), 0);
    /* no meta files given: mismatch is still found, frames cannot be named */
    int fd = open(dst, O_RDONLY);
    struct stat sb;
    fstat(fd, &sb);
    uint64_t st[4];
    ev_io io;
    ev_media__io_from_fd(&io, fd, (uint64_t)sb.st_size, st);
    json_t *f = NULL;
    ev_errbuf err;
    assert_int_equal(ev_media__deep_verify(&f, item, &io, NULL, 0, &err), EV_OK);
    close(fd);
    const json_t *fp = finding(f, 0, "packets");
    assert_string_equal(jstr(fp, "status"), "mismatch");
    assert_int_equal(json_array_size(json_object_get(fp, "frames")), 0);
    assert_non_null(strstr(jstr(fp, "message"), "not available"));
    assert_null(finding(f, 0, "decoded"));
    json_decref(f);
    /* a truncated copy cannot be read to the end: the hash differs and the
     * missing packets are listed */
    char *tr = tu_join(g_scratch, "trunc.mkv");
    assert_int_equal(tu_write(tr, d, n / 2), 0);
    fd = open(tr, O_RDONLY);
    fstat(fd, &sb);
    ev_media__io_from_fd(&io, fd, (uint64_t)sb.st_size, st);
    assert_int_equal(ev_media__deep_verify(&f, item, &io, r.meta, r.nmeta, &err), EV_OK);
    close(fd);
    fp = finding(f, 0, "packets");
    assert_non_null(fp);
    assert_string_not_equal(jstr(fp, "status"), "ok");
    json_decref(f);
    json_decref(item);
    result_free(&r);
    free(d);
    free(src);
    free(dst);
    free(tr);
}

static void media_frame_list_format(void **state)
{
    (void)state;
    result r;
    assert_int_equal(analyze(&r, "v_h264.mp4", EV_CONTENT_HASH_BOTH), EV_OK);
    const ev_media__file *pl = meta_named(&r, "frames-s0-packets.txt");
    const ev_media__file *dl = meta_named(&r, "frames-s0-decoded.txt");
    assert_non_null(pl);
    assert_non_null(dl);
    assert_memory_equal(pl->data, "# evidence-frame-hashes 1\n", 26);
    /* per-packet lines agree with ffmpeg's framehash of the stream copy */
    char *p = fixture("v_h264.mp4");
    char *fh = run("ffmpeg -nostdin -v error -i '%s' -map 0:0 -c copy -f framehash -hash sha256 - "
                   "| grep -v '^#'",
                   p);
    assert_non_null(fh);
    char *text = strndup((const char *)pl->data, pl->len);
    int lines = 0;
    char *save = NULL;
    for (char *l = strtok_r(fh, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        /* framehash: stream, dts, pts, duration, size, hash */
        char hash[65];
        long long dts, pts, dur, size;
        int strm;
        assert_int_equal(sscanf(l, "%d, %lld, %lld, %lld, %lld, %64s", &strm, &dts, &pts, &dur,
                                &size, hash),
                         6);
        char want[200];
        snprintf(want, sizeof(want), "\n%d %lld %lld %lld %lld ", lines, dts, pts, dur, size);
        char *at = strstr(text, want);
        if (!at)
            fail_msg("packet line '%s' missing", want + 1);
        assert_non_null(strstr(at, hash));
        lines++;
    }
    assert_int_equal(lines, 25);
    free(text);
    free(fh);
    free(p);
    result_free(&r);
}

/* ------------------------------------------------------------------------ */
/* capture facts vs exiftool                                                 */
/* ------------------------------------------------------------------------ */

static void check_capture_vs_exiftool(const char *name)
{
    char *p = fixture(name);
    result r;
    assert_int_equal(analyze_path(&r, p, EV_CONTENT_HASH_NONE), EV_OK);
    json_t *et = run_json("exiftool -j -n '%s'", p);
    assert_non_null(et);
    const json_t *x = json_array_get(et, 0);
    const json_t *c = r.capture;
    assert_non_null(c);
    static const struct {
        const char *et, *mine;
    } s[] = { { "Make", "make" }, { "Model", "model" }, { "SerialNumber", "serial" } };
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        const char *v = jstr(x, s[i].et);
        if (v)
            assert_string_equal(jstr(c, s[i].mine), v);
        else
            assert_null(json_object_get(c, s[i].mine));
    }
    const char *dto = jstr(x, "DateTimeOriginal");
    if (dto) {
        /* "2024:05:01 10:20:30" -> "2024-05-01T10:20:30" */
        char want[64];
        snprintf(want, sizeof(want), "%.4s-%.2s-%.2sT%.8s", dto, dto + 5, dto + 8, dto + 11);
        const char *local = jstr(c, "datetime_original_local");
        assert_non_null(local);
        assert_memory_equal(local, want, 19);
        const char *sub = jstr(x, "SubSecTimeOriginal");
        if (!sub && json_is_integer(json_object_get(x, "SubSecTimeOriginal"))) {
            static char b[32];
            snprintf(b, sizeof(b), "%lld",
                     (long long)json_integer_value(json_object_get(x, "SubSecTimeOriginal")));
            sub = b;
        }
        if (sub) {
            assert_int_equal(local[19], '.');
            assert_memory_equal(local + 20, sub, strlen(sub));
        }
        const char *off = jstr(x, "OffsetTimeOriginal");
        if (off) {
            assert_string_equal(jstr(c, "datetime_original_utc_offset"), off);
            const char *full = jstr(c, "datetime_original");
            assert_non_null(full);
            assert_string_equal(full + strlen(full) - 6, off);
        } else {
            assert_null(json_object_get(c, "datetime_original"));
        }
    }
    double a, b;
    const json_t *g = json_object_get(c, "gps");
    if (jnum(x, "GPSLatitude", &b)) {
        assert_true(jnum(g, "latitude", &a));
        if (!near(a, b, 1e-6))
            fail_msg("%s: latitude %f vs exiftool %f", name, a, b);
        assert_true(jnum(x, "GPSLongitude", &b));
        assert_true(jnum(g, "longitude", &a));
        assert_true(near(a, b, 1e-6));
        assert_non_null(jstr(json_object_get(g, "raw"), "latitude"));
    } else {
        assert_null(g);
    }
    if (jnum(x, "GPSAltitude", &b)) {
        assert_true(jnum(g, "altitude", &a));
        assert_true(near(a, b, 1e-6));
    }
    if (jnum(x, "Orientation", &b)) {
        assert_true(jnum(c, "orientation", &a));
        assert_true(a == b);
    }
    json_decref(et);
    result_free(&r);
    free(p);
}

static void media_capture_exif_matches_exiftool(void **state)
{
    (void)state;
    check_capture_vs_exiftool("i.jpg");
    check_capture_vs_exiftool("i.png");
    check_capture_vs_exiftool("i.tiff");
    char *heic = fixture("i.heic");
    if (access(heic, R_OK) == 0)
        check_capture_vs_exiftool("i.heic");
    else
        fprintf(stderr, "note: no HEIC fixture (heif-enc missing); HEIC EXIF not checked\n");
    free(heic);
    /* GPS date and time stamp in UTC, and the raw EXIF dump */
    result r;
    assert_int_equal(analyze(&r, "i.jpg", EV_CONTENT_HASH_NONE), EV_OK);
    const json_t *g = json_object_get(r.capture, "gps");
    assert_string_equal(jstr(g, "datetime"), "2024-05-01T09:20:30Z");
    assert_string_equal(jstr(r.capture, "datetime_original"), "2024-05-01T10:20:30.25+01:00");
    assert_string_equal(jstr(r.capture, "orientation_text"), "Rotate 90 CW");
    const ev_media__file *ex = meta_named(&r, "exif.bin");
    assert_non_null(ex);
    assert_memory_equal(ex->data, "Exif\0\0", 6);
    result_free(&r);
    /* no EXIF: no capture, no error */
    assert_int_equal(analyze(&r, "i_noexif.jpg", EV_CONTENT_HASH_NONE), EV_OK);
    assert_null(r.capture);
    assert_null(json_object_get(r.media, "error"));
    result_free(&r);
}

static void media_exif_orientations(void **state)
{
    (void)state;
    for (int o = 1; o <= 8; o++) {
        char name[32];
        snprintf(name, sizeof(name), "i_o%d.jpg", o);
        check_capture_vs_exiftool(name);
        result r;
        assert_int_equal(analyze(&r, name, EV_CONTENT_HASH_NONE), EV_OK);
        assert_int_equal(json_integer_value(json_object_get(r.capture, "orientation")), o);
        result_free(&r);
    }
}

static void media_capture_quicktime(void **state)
{
    (void)state;
    result r;
    /* Apple mdta keys written by exiftool: ISO 6709 location, make, model,
     * creation date with offset */
    assert_int_equal(analyze(&r, "v_gps.mp4", EV_CONTENT_HASH_NONE), EV_OK);
    char *p = fixture("v_gps.mp4");
    json_t *et = run_json("exiftool -j -n -ee '%s'", p);
    const json_t *x = json_array_get(et, 0);
    const json_t *g = json_object_get(r.capture, "gps");
    double a, b;
    assert_true(jnum(x, "GPSLatitude", &b));
    assert_true(jnum(g, "latitude", &a));
    assert_true(near(a, b, 1e-6));
    assert_true(jnum(x, "GPSLongitude", &b));
    assert_true(jnum(g, "longitude", &a));
    assert_true(near(a, b, 1e-6));
    assert_true(jnum(x, "GPSAltitude", &b));
    assert_true(jnum(g, "altitude", &a));
    assert_true(near(a, b, 1e-6));
    assert_non_null(jstr(json_object_get(g, "raw"), "iso6709"));
    assert_string_equal(jstr(r.capture, "make"), jstr(x, "Make"));
    assert_string_equal(jstr(r.capture, "model"), jstr(x, "Model"));
    assert_string_equal(jstr(r.capture, "datetime_original"), "2024-05-01T11:20:30+01:00");
    assert_string_equal(jstr(r.capture, "source"), "quicktime");
    json_decref(et);
    free(p);
    result_free(&r);
    /* QuickTime user data (©xyz, ©mak, ©mod) */
    assert_int_equal(analyze(&r, "v_gps.mov", EV_CONTENT_HASH_NONE), EV_OK);
    p = fixture("v_gps.mov");
    et = run_json("exiftool -j -n '%s'", p);
    x = json_array_get(et, 0);
    g = json_object_get(r.capture, "gps");
    assert_true(jnum(x, "GPSLatitude", &b));
    assert_true(jnum(g, "latitude", &a));
    assert_true(near(a, b, 1e-6));
    assert_true(jnum(x, "GPSLongitude", &b));
    assert_true(jnum(g, "longitude", &a));
    assert_true(near(a, b, 1e-6));
    assert_string_equal(jstr(r.capture, "make"), "QtMake");
    assert_string_equal(jstr(r.capture, "model"), "QtModel");
    json_decref(et);
    free(p);
    result_free(&r);
    /* creation_time (UTC) as date/time original */
    assert_int_equal(analyze(&r, "v_h264.mp4", EV_CONTENT_HASH_NONE), EV_OK);
    assert_string_equal(jstr(r.capture, "datetime_original"), "2024-05-01T10:20:30Z");
    assert_string_equal(jstr(r.capture, "datetime_source"), "quicktime:mvhd");
    assert_string_equal(jstr(r.capture, "datetime_original_zone"), "utc-by-format");
    result_free(&r);
}

/* ------------------------------------------------------------------------ */
/* capture facts from container structures, as devices write them           */
/* ------------------------------------------------------------------------ */

static json_t *g_cap_facts; /* what tests/tools/capture_media.py wrote */
static char *g_cap_dir;

static const json_t *cap_of(result *r, const char *name)
{
    char *p = tu_join(g_cap_dir, name);
    assert_int_equal(analyze_path(r, p, EV_CONTENT_HASH_NONE), EV_OK);
    free(p);
    assert_non_null(r->capture);
    return r->capture;
}

static const char *src_of(const json_t *c, const char *field)
{
    return jstr(json_object_get(c, "sources"), field);
}

/* true when some warning contains s */
static bool warned(const json_t *c, const char *s)
{
    size_t i;
    const json_t *w;
    json_array_foreach(json_object_get(c, "warnings"), i, w)
    {
        if (json_string_value(w) && strstr(json_string_value(w), s))
            return true;
    }
    return false;
}

static void cap_setup(void)
{
    if (g_cap_dir)
        return;
    g_cap_dir = tu_join(g_scratch, "capture");
    g_cap_facts = run_json("python3 '%s/tests/tools/capture_media.py' '%s'",
                           getenv("EV_SOURCE_DIR"), g_cap_dir);
    assert_non_null(g_cap_facts);
}

static void media_capture_times_keep_their_zone(void **state)
{
    (void)state;
    cap_setup();
    result r;
    /* AVI IDIT: camera local time, no zone; never stated as UTC */
    const json_t *c = cap_of(&r, "idit.avi");
    assert_null(json_object_get(c, "datetime_original"));
    assert_null(json_object_get(c, "datetime_original_utc_offset"));
    assert_string_equal(jstr(c, "datetime_original_local"), "2012-09-10T20:52:00");
    assert_string_equal(jstr(c, "datetime_original_zone"), "unknown");
    assert_string_equal(src_of(c, "datetime_original"), "riff:IDIT");
    assert_string_equal(jstr(c, "software"), "Lavf59.27.100");
    assert_string_equal(src_of(c, "software"), "riff:INFO:ISFT");
    assert_string_equal(jstr(c, "source"), "riff");
    result_free(&r);
    /* mvhd: UTC by the format */
    c = cap_of(&r, "loci.mp4");
    assert_string_equal(jstr(c, "datetime_original"), "2012-09-10T20:52:00Z");
    assert_string_equal(jstr(c, "datetime_original_zone"), "utc-by-format");
    assert_string_equal(src_of(c, "datetime_original"), "quicktime:mvhd");
    assert_null(json_object_get(c, "datetime_original_local"));
    result_free(&r);
    /* mvhd 0 is 1904-01-01: a placeholder, not a date */
    c = cap_of(&r, "loci0.mp4");
    assert_null(json_object_get(c, "datetime_original"));
    assert_null(json_object_get(c, "datetime_original_local"));
    assert_true(warned(c, "placeholder"));
    result_free(&r);
    /* mvhd counted from 1970 by its writer: libavformat and exiftool both
     * "correct" it to 2012; the format says 1946: neither is stated */
    c = cap_of(&r, "mvhd1970.mp4");
    assert_null(json_object_get(c, "datetime_original"));
    assert_null(json_object_get(c, "datetime_original_local"));
    assert_true(warned(c, "1946-09-10T20:52:00Z"));
    assert_true(warned(c, "2012-09-10T20:52:00Z"));
    result_free(&r);
    /* QuickTime udta ©day with its offset wins over mvhd */
    c = cap_of(&r, "day.mov");
    assert_string_equal(jstr(c, "datetime_original"), "2012-09-10T22:52:00+02:00");
    assert_string_equal(jstr(c, "datetime_original_zone"), "stated");
    assert_string_equal(src_of(c, "datetime_original"), "quicktime:udta:\xC2\xA9" "day");
    result_free(&r);
    /* mvhd version 1: 64-bit seconds */
    c = cap_of(&r, "mvhd64.mp4");
    assert_string_equal(jstr(c, "datetime_original"), "2045-01-02T03:04:05Z");
    result_free(&r);
    /* Broadcast WAVE bext: local, no zone (libavformat shows the time of
     * day alone as creation_time) */
    c = cap_of(&r, "bwf.wav");
    assert_null(json_object_get(c, "datetime_original"));
    assert_string_equal(jstr(c, "datetime_original_local"), "2012-09-10T20:52:00");
    assert_string_equal(jstr(c, "datetime_original_zone"), "unknown");
    assert_string_equal(src_of(c, "datetime_original"), "riff:bext");
    result_free(&r);
    /* Apple creationdate: local time with its offset, stated */
    c = cap_of(&r, "apple.mov");
    assert_string_equal(jstr(c, "datetime_original"), "2012-09-10T22:52:00+02:00");
    assert_string_equal(jstr(c, "datetime_original_local"), "2012-09-10T22:52:00");
    assert_string_equal(jstr(c, "datetime_original_utc_offset"), "+02:00");
    assert_string_equal(jstr(c, "datetime_original_zone"), "stated");
    assert_string_equal(src_of(c, "datetime_original"),
                        "quicktime:mdta:com.apple.quicktime.creationdate");
    result_free(&r);
    /* Matroska DateUTC to the nanosecond (libavformat keeps microseconds) */
    c = cap_of(&r, "dateutc.mkv");
    assert_string_equal(jstr(c, "datetime_original"), "2012-09-10T20:52:00.123456789Z");
    assert_string_equal(jstr(c, "datetime_original_zone"), "utc-by-format");
    assert_string_equal(src_of(c, "datetime_original"), "matroska:DateUTC");
    assert_string_equal(jstr(c, "source"), "matroska");
    result_free(&r);
    /* Matroska DATE_RECORDED: without a zone unknown, with one stated */
    c = cap_of(&r, "recorded.mkv");
    assert_null(json_object_get(c, "datetime_original"));
    assert_string_equal(jstr(c, "datetime_original_local"), "2012-09-10T22:52:00");
    assert_string_equal(jstr(c, "datetime_original_zone"), "unknown");
    assert_string_equal(src_of(c, "datetime_original"), "matroska:tag:DATE_RECORDED");
    result_free(&r);
    c = cap_of(&r, "recorded_tz.mkv");
    assert_string_equal(jstr(c, "datetime_original"), "2012-09-10T22:52:00+02:00");
    assert_string_equal(jstr(c, "datetime_original_zone"), "stated");
    result_free(&r);
    /* an IDIT that is no date: a warning, no value */
    c = cap_of(&r, "bad_idit.avi");
    assert_null(json_object_get(c, "datetime_original_local"));
    assert_true(warned(c, "riff:IDIT"));
    result_free(&r);
}

static void media_capture_gps_exact(void **state)
{
    (void)state;
    cap_setup();
    result r;
    const json_t *f = json_object_get(g_cap_facts, "loci.mp4");
    json_int_t lat = json_integer_value(json_object_get(f, "loci_latitude"));
    json_int_t lon = json_integer_value(json_object_get(f, "loci_longitude"));
    json_int_t alt = json_integer_value(json_object_get(f, "loci_altitude"));
    /* 3GPP loci: the 16.16 value exactly, not libavformat's 4 decimals */
    const json_t *c = cap_of(&r, "loci.mp4");
    const json_t *g = json_object_get(c, "gps"), *raw = json_object_get(g, "raw");
    assert_string_equal(jstr(g, "format"), "3gpp-loci-16.16");
    assert_true(json_real_value(json_object_get(g, "latitude")) == (double)lat / 65536.0);
    assert_true(json_real_value(json_object_get(g, "longitude")) == (double)lon / 65536.0);
    assert_true(json_real_value(json_object_get(g, "altitude")) == (double)alt / 65536.0);
    assert_true(json_real_value(json_object_get(g, "precision_deg")) == 1.0 / 65536.0);
    assert_int_equal(json_integer_value(json_object_get(raw, "loci_latitude")), lat);
    assert_int_equal(json_integer_value(json_object_get(raw, "loci_longitude")), lon);
    assert_int_equal(json_integer_value(json_object_get(raw, "loci_altitude")), alt);
    assert_string_equal(src_of(c, "gps"), "quicktime:udta:loci");
    result_free(&r);
    /* a udta claiming more than moov holds is read up to moov's end */
    c = cap_of(&r, "bad_udta.mp4");
    g = json_object_get(c, "gps");
    assert_true(json_real_value(json_object_get(g, "latitude")) == (double)lat / 65536.0);
    result_free(&r);
    /* out of range: raw kept, no position */
    c = cap_of(&r, "bad_loci.mp4");
    g = json_object_get(c, "gps");
    assert_null(json_object_get(g, "latitude"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(g, "raw"),
                                                        "loci_latitude")), 91 * 65536);
    assert_true(warned(c, "out of range"));
    result_free(&r);
    /* 0,0 is a placeholder */
    c = cap_of(&r, "loci0.mp4");
    g = json_object_get(c, "gps");
    assert_true(json_is_true(json_object_get(g, "placeholder")));
    assert_null(json_object_get(g, "latitude"));
    assert_null(json_object_get(g, "longitude"));
    assert_true(warned(c, "placeholder position"));
    result_free(&r);
    /* ©xyz: the string's own digits and their step */
    c = cap_of(&r, "xyz.mov");
    g = json_object_get(c, "gps");
    assert_string_equal(jstr(g, "format"), "iso6709");
    assert_string_equal(jstr(json_object_get(g, "raw"), "iso6709"), "+52.3692932+004.8936138/");
    assert_true(json_real_value(json_object_get(g, "latitude")) == 52.3692932);
    assert_true(json_real_value(json_object_get(g, "longitude")) == 4.8936138);
    assert_true(near(json_real_value(json_object_get(g, "precision_deg")), 1e-7, 1e-20));
    assert_string_equal(src_of(c, "gps"), "quicktime:udta:\xC2\xA9xyz");
    assert_string_equal(jstr(c, "make"), "Cam");
    assert_string_equal(src_of(c, "make"), "quicktime:udta:\xC2\xA9mak");
    assert_string_equal(src_of(c, "model"), "quicktime:udta:\xC2\xA9mod");
    /* ©swr, which libavformat folds into "encoder" */
    assert_string_equal(jstr(c, "software"), "Lavf59.27.100");
    assert_string_equal(src_of(c, "software"), "quicktime:udta:\xC2\xA9swr");
    result_free(&r);
    /* two positions: the first in the documented order is given, the other
     * is named */
    c = cap_of(&r, "both.mp4");
    assert_string_equal(src_of(c, "gps"), "quicktime:udta:\xC2\xA9xyz");
    assert_true(warned(c, "quicktime:udta:loci holds another position"));
    result_free(&r);
    /* Apple mdta keys */
    c = cap_of(&r, "apple.mov");
    g = json_object_get(c, "gps");
    assert_string_equal(src_of(c, "gps"), "quicktime:mdta:com.apple.quicktime.location.ISO6709");
    assert_true(json_real_value(json_object_get(g, "latitude")) == 52.3692932);
    assert_true(json_real_value(json_object_get(g, "altitude")) == 3.2);
    assert_true(near(json_real_value(json_object_get(g, "altitude_precision_m")), 1e-3, 1e-18));
    assert_string_equal(jstr(c, "model"), "iPhone 12");
    assert_string_equal(src_of(c, "model"), "quicktime:mdta:com.apple.quicktime.model");
    assert_string_equal(jstr(c, "software"), "16.1");
    result_free(&r);
    c = cap_of(&r, "apple0.mov");
    g = json_object_get(c, "gps");
    assert_true(json_is_true(json_object_get(g, "placeholder")));
    assert_null(json_object_get(g, "latitude"));
    assert_true(warned(c, "placeholder position"));
    result_free(&r);
}

/* A source that cannot seek: nothing is read behind libavformat's back;
 * its renderings are used and labelled as such. */
static void media_capture_without_seek(void **state)
{
    (void)state;
    cap_setup();
    char *in = tu_join(g_cap_dir, "xyz.mov"), *fs = tu_join(g_cap_dir, "xyz_fast.mov");
    char *o = run("ffmpeg -nostdin -v error -y -i '%s' -c copy -movflags +faststart "
                  "-metadata creation_time=2012-09-10T20:52:00Z '%s'", in, fs);
    assert_non_null(o);
    free(o);
    size_t len = 0;
    uint8_t *data = tu_read(fs, &len);
    assert_non_null(data);
    uint64_t st[4];
    ev_io io;
    assert_int_equal(ev_media__io_from_mem(&io, data, len, st), EV_OK);
    io.seek = NULL;
    io.size = 0;
    result r;
    memset(&r, 0, sizeof(r));
    ev_errbuf err = { { 0 } };
    assert_int_equal(ev_media__analyze(&r.media, &r.capture, &r.content, &r.meta, &r.nmeta, &io,
                                       "xyz_fast.mov", EV_CONTENT_HASH_NONE, &err),
                     EV_OK);
    const json_t *c = r.capture;
    assert_non_null(c);
    const json_t *g = json_object_get(c, "gps");
    assert_string_equal(src_of(c, "gps"), "libavformat:location");
    assert_true(json_real_value(json_object_get(g, "latitude")) == 52.3692932);
    assert_true(warned(c, "was not read from the file"));
    /* libavformat's creation_time: its zone basis is not claimed */
    assert_null(json_object_get(c, "datetime_original"));
    assert_string_equal(jstr(c, "datetime_original_local"), "2012-09-10T20:52:00");
    assert_string_equal(jstr(c, "datetime_original_zone"), "unknown");
    assert_string_equal(src_of(c, "datetime_original"), "libavformat:creation_time");
    assert_string_equal(src_of(c, "make"), "libavformat:make");
    result_free(&r);
    free(data);
    free(in);
    free(fs);
}

static void media_iso6709_forms(void **state)
{
    (void)state;
    double lat, lon, alt;
    bool ha;
    assert_true(ev_media__iso6709("+51.5007-000.1246/", &lat, &lon, &alt, &ha));
    assert_true(near(lat, 51.5007, 1e-9) && near(lon, -0.1246, 1e-9) && !ha);
    assert_true(ev_media__iso6709("+40.6892-074.0445+012.500/", &lat, &lon, &alt, &ha));
    assert_true(near(lat, 40.6892, 1e-9) && near(lon, -74.0445, 1e-9) && ha &&
                near(alt, 12.5, 1e-9));
    /* degrees and minutes, degrees minutes seconds */
    assert_true(ev_media__iso6709("+5130.042-00007.476/", &lat, &lon, &alt, &ha));
    assert_true(near(lat, 51.5007, 1e-6) && near(lon, -0.1246, 1e-6));
    assert_true(ev_media__iso6709("+513002.52-0000728.56/", &lat, &lon, &alt, &ha));
    assert_true(near(lat, 51.5007, 1e-6) && near(lon, -0.1246, 1e-6));
    assert_true(ev_media__iso6709("+51.5-000.1CRSWGS_84/", &lat, &lon, &alt, &ha));
    /* bad forms */
    assert_false(ev_media__iso6709("51.5,-0.12", &lat, &lon, &alt, &ha));
    assert_false(ev_media__iso6709("+95.0+000.0/", &lat, &lon, &alt, &ha));
    assert_false(ev_media__iso6709("+51.5/", &lat, &lon, &alt, &ha));
    assert_false(ev_media__iso6709("+5160.0-00000.0/", &lat, &lon, &alt, &ha));
    assert_false(ev_media__iso6709("", &lat, &lon, &alt, &ha));
    assert_false(ev_media__iso6709("+1.0+1.0+", &lat, &lon, &alt, &ha));
}

static void media_rotation_and_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        int cw;
    } t[] = { { "v_rot90.mp4", 90 }, { "v_rot180.mp4", 180 }, { "v_rot270.mp4", 270 } };
    for (size_t i = 0; i < 3; i++) {
        result r;
        assert_int_equal(analyze(&r, t[i].file, EV_CONTENT_HASH_NONE), EV_OK);
        const json_t *v = json_array_get(json_object_get(r.media, "streams"), 0);
        assert_int_equal((int)json_real_value(json_object_get(v, "rotation")), t[i].cw);
        assert_int_equal(json_array_size(json_object_get(v, "display_matrix")), 9);
        result_free(&r);
    }
    static const struct {
        const char *file, *kind;
    } k[] = { { "v_h264.mp4", "video" }, { "a.mp3", "audio" }, { "i.png", "image" },
              { "i.jpg", "image" },      { "v_raw.265", "video" } };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        result r;
        assert_int_equal(analyze(&r, k[i].file, EV_CONTENT_HASH_NONE), EV_OK);
        assert_string_equal(jstr(r.media, "kind"), k[i].kind);
        assert_null(r.content);
        result_free(&r);
    }
    /* interlaced and variable frame rate, as ffprobe says */
    result r;
    assert_int_equal(analyze(&r, "v_interlaced.mp4", EV_CONTENT_HASH_NONE), EV_OK);
    assert_string_equal(jstr(json_array_get(json_object_get(r.media, "streams"), 0), "field_order"),
                        "tt");
    result_free(&r);
    assert_int_equal(analyze(&r, "v_vfr.mp4", EV_CONTENT_HASH_NONE), EV_OK);
    const json_t *v = json_array_get(json_object_get(r.media, "streams"), 0);
    assert_string_not_equal(jstr(v, "r_frame_rate"), jstr(v, "avg_frame_rate"));
    result_free(&r);
}

static void media_heic_is_kept_with_note(void **state)
{
    (void)state;
    char *p = fixture("i.heic");
    if (access(p, R_OK) != 0) {
        free(p);
        skip();
    }
    result r;
    assert_int_equal(analyze_path(&r, p, EV_CONTENT_HASH_BOTH), EV_OK);
    assert_string_equal(jstr(r.media, "kind"), "image");
    assert_true(json_is_false(json_object_get(r.media, "decodable")));
    const char *n = json_string_value(json_array_get(json_object_get(r.media, "notes"), 0));
    assert_non_null(n);
    assert_non_null(strstr(n, "no decoder in this build"));
    assert_null(r.content);
    assert_string_equal(jstr(r.capture, "make"), "HeicMake");
    result_free(&r);
    free(p);
}

/* ------------------------------------------------------------------------ */
/* modes and public API                                                      */
/* ------------------------------------------------------------------------ */

static void media_content_modes(void **state)
{
    (void)state;
    result r;
    assert_int_equal(analyze(&r, "v_h264.mp4", EV_CONTENT_HASH_NONE), EV_OK);
    assert_null(r.content);
    assert_int_equal(r.nmeta, 0);
    assert_null(json_object_get(json_array_get(json_object_get(r.media, "streams"), 0), "packets"));
    result_free(&r);
    assert_int_equal(analyze(&r, "v_h264.mp4", EV_CONTENT_HASH_DEFAULT), EV_OK);
    assert_non_null(content_hash(r.content, 0, "packets"));
    assert_non_null(content_hash(r.content, 0, "decoded"));
    assert_int_equal(r.nmeta, 4);
    result_free(&r);
    assert_int_equal(analyze(&r, "v_h264.mp4", EV_CONTENT_HASH_PACKETS), EV_OK);
    assert_non_null(content_hash(r.content, 1, "packets"));
    assert_null(json_object_get(content_for(r.content, 1), "decoded"));
    assert_null(json_object_get(json_array_get(json_object_get(r.media, "streams"), 0), "frames"));
    assert_int_equal(r.nmeta, 2);
    result_free(&r);
    assert_int_equal(analyze(&r, "v_h264.mp4", EV_CONTENT_HASH_DECODED), EV_OK);
    assert_non_null(content_hash(r.content, 1, "decoded"));
    assert_null(json_object_get(content_for(r.content, 1), "packets"));
    assert_int_equal(r.nmeta, 2);
    result_free(&r);
    assert_int_equal(analyze(&r, "v_h264.mp4", 99), EV_EINVAL);
    assert_null(r.media);
}

static void media_public_api(void **state)
{
    (void)state;
    ev_media *m = NULL;
    ev_media_options o;
    assert_int_equal(ev_media_options_init(&o, 99), EV_EVERSION);
    assert_int_equal(ev_media_options_init(&o, EV_MEDIA_OPTIONS_VERSION), EV_OK);
    o.version = 2;
    assert_int_equal(ev_media_new(&m, &o), EV_EVERSION);
    assert_null(m);
    o.version = EV_MEDIA_OPTIONS_VERSION;
    o.content_hash = 42;
    assert_int_equal(ev_media_new(&m, &o), EV_EINVAL);
    o.content_hash = EV_CONTENT_HASH_BOTH;
    o.flags = EV_MEDIA_META_FILES;
    assert_int_equal(ev_media_new(&m, &o), EV_OK);
    char *p = fixture("v_h264.mp4");
    char *js = NULL;
    assert_int_equal(ev_media_analyze_file(&js, m, p), EV_OK);
    json_t *j = json_loads(js, 0, NULL);
    assert_non_null(j);
    assert_string_equal(jstr(j, "format"), "evidence.media");
    assert_int_equal(json_integer_value(json_object_get(j, "format_version")), 1);
    const json_t *file = json_object_get(j, "file");
    assert_string_equal(jstr(file, "name"), "v_h264.mp4");
    assert_string_equal(jstr(file, "mime"), "video/mp4");
    char *sum = run("sha256sum '%s' | cut -c1-64", p);
    assert_non_null(sum);
    assert_memory_equal(jstr(file, "sha256"), sum, 64);
    free(sum);
    assert_non_null(json_object_get(j, "media"));
    assert_non_null(json_object_get(j, "capture"));
    assert_int_equal(json_array_size(json_object_get(j, "content_hashes")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "meta_files")), 4);
    assert_int_equal(ev_media_meta_count(m), 4);
    const char *name;
    const uint8_t *data;
    size_t len;
    assert_int_equal(ev_media_meta_get(m, 0, &name, &data, &len), EV_OK);
    assert_string_equal(name, "frames-s0-packets.txt");
    assert_true(len > 100);
    assert_int_equal(ev_media_meta_get(m, 4, &name, &data, &len), EV_ENOTFOUND);
    json_decref(j);
    ev_free(js);
    /* not found, not a file */
    assert_int_equal(ev_media_analyze_file(&js, m, "/nonexistent/x.mp4"), EV_ENOTFOUND);
    assert_null(js);
    assert_non_null(strstr(ev_media_last_error(m), "/nonexistent/x.mp4"));
    assert_int_equal(ev_media_analyze_file(&js, m, g_dir), EV_EINVAL);
    /* bad media is not an error */
    char *junk = tu_join(g_scratch, "junk.bin");
    assert_int_equal(tu_write(junk, "hello, this is not media at all\n", 32), 0);
    assert_int_equal(ev_media_analyze_file(&js, m, junk), EV_OK);
    j = json_loads(js, 0, NULL);
    assert_non_null(jstr(json_object_get(j, "media"), "error"));
    json_decref(j);
    ev_free(js);
    ev_media_free(m);
    ev_media_free(NULL);
    free(p);
    free(junk);
}

/* ------------------------------------------------------------------------ */
/* schema                                                                    */
/* ------------------------------------------------------------------------ */

static void media_outputs_match_schema(void **state)
{
    (void)state;
    const char *src = getenv("EV_SOURCE_DIR");
    char *outdir = tu_join(g_scratch, "schema");
    mkdir(outdir, 0755);
    int n = 0;
    for (int k = 0; av_files[k]; k++) {
        for (int pass = 0; pass < 2; pass++) {
            const result r = *cached(k);
            const char *what = pass == 0 ? "media" : "capture";
            json_t *v = pass == 0 ? r.media : r.capture;
            if (v) {
                char name[128];
                snprintf(name, sizeof(name), "%s/%s-%d.json", outdir, what, n++);
                assert_int_equal(json_dump_file(v, name, 0), 0);
            }
            if (pass == 0 && r.content) {
                char name[128];
                snprintf(name, sizeof(name), "%s/content_hashes-%d.json", outdir, n++);
                assert_int_equal(json_dump_file(r.content, name, 0), 0);
            }
        }
    }
    /* whole documents of the public API, with meta_files */
    ev_media_options o = EV_MEDIA_OPTIONS_INIT;
    o.flags = EV_MEDIA_META_FILES;
    ev_media *m = NULL;
    assert_int_equal(ev_media_new(&m, &o), EV_OK);
    static const char *const docs[] = { "v_gps.mp4", "i.jpg", "a_s24.flac", "i.heic" };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        char *p = fixture(docs[i]);
        char *js = NULL;
        if (access(p, R_OK) == 0) {
            assert_int_equal(ev_media_analyze_file(&js, m, p), EV_OK);
            char name[128];
            snprintf(name, sizeof(name), "%s/doc-%d.json", outdir, n++);
            assert_int_equal(tu_write(name, js, strlen(js)), 0);
            ev_free(js);
        }
        free(p);
    }
    ev_media_free(m);
    /* deep verification findings, ok and mismatch */
    {
        char *p = fixture("v_mjpeg.avi");
        result r0;
        assert_int_equal(analyze_path(&r0, p, EV_CONTENT_HASH_BOTH), EV_OK);
        json_t *item = make_item(&r0, "v_mjpeg.avi");
        size_t len;
        uint8_t *d = tu_read(p, &len);
        d[len / 2] ^= 0xFF;
        char *q = tu_join(g_scratch, "schema.avi");
        assert_int_equal(tu_write(q, d, len), 0);
        const char *paths[2] = { p, q };
        for (int i = 0; i < 2; i++) {
            json_t *f = NULL;
            assert_int_equal(deep_verify_path(&f, item, paths[i], &r0), EV_OK);
            char name[128];
            snprintf(name, sizeof(name), "%s/deep_findings-%d.json", outdir, n++);
            assert_int_equal(json_dump_file(f, name, 0), 0);
            json_decref(f);
        }
        json_decref(item);
        result_free(&r0);
        free(d);
        free(p);
        free(q);
    }
    /* bad media too */
    char *junk = tu_join(g_scratch, "junk2.bin");
    assert_int_equal(tu_write(junk, "\x00\x01\x02garbage", 10), 0);
    result r;
    assert_int_equal(analyze_path(&r, junk, EV_CONTENT_HASH_BOTH), EV_OK);
    char name[128];
    snprintf(name, sizeof(name), "%s/media-%d.json", outdir, n++);
    assert_int_equal(json_dump_file(r.media, name, 0), 0);
    result_free(&r);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "bash '%s/scripts/media-validate.sh' '%s/docs/schema/media.schema.json' '%s'",
             src, src, outdir);
    int st = system(cmd);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) == 77) {
        free(outdir);
        free(junk);
        skip(); /* no npm: the script said why */
    }
    assert_int_equal(WEXITSTATUS(st), 0);
    free(outdir);
    free(junk);
}

/* ev_media_result_text(): the text of the last analysis, built from the
 * handle's document; nothing before an analysis or after a failed one. */
static void media_result_text(void **state)
{
    (void)state;
    ev_media *m = NULL;
    assert_int_equal(ev_media_new(&m, NULL), EV_OK);
    char *txt = (char *)"x";
    assert_int_equal(ev_media_result_text(&txt, m), EV_ENOTFOUND);
    assert_null(txt);
    assert_int_equal(ev_media_result_text(NULL, m), EV_EINVAL);
    assert_int_equal(ev_media_result_text(&txt, NULL), EV_EINVAL);
    char *p = fixture("v_h264.mp4");
    char *js = NULL;
    assert_int_equal(ev_media_analyze_file(&js, m, p), EV_OK);
    assert_int_equal(ev_media_result_text(&txt, m), EV_OK);
    assert_non_null(txt);
    assert_true(strncmp(txt, "file:      v_h264.mp4\nsize:      ", 31) == 0);
    assert_non_null(strstr(txt, "\nmime:      video/mp4\n"));
    assert_non_null(strstr(txt, "\nstream 0:  video h264 "));
    assert_non_null(strstr(txt, "\ntimeline 0: time source: container timestamps; "));
    assert_int_equal(txt[strlen(txt) - 1], '\n');
    ev_free(txt);
    ev_free(js);
    /* a failed analysis leaves no text behind */
    assert_int_equal(ev_media_analyze_file(&js, m, "/nonexistent/x.mp4"), EV_ENOTFOUND);
    assert_int_equal(ev_media_result_text(&txt, m), EV_ENOTFOUND);
    ev_media_free(m);
    free(p);
}

/* The renderer on a document made here: a wall-clock timeline with a gap, a
 * frame time standing still, the event cap, a placeholder position and a
 * capture time whose zone is unknown; and reals as the JSON carries them
 * (15 significant digits): 0.0004999999999999999 s is written "0.0005",
 * so the text says 0.001 s, not 0.000 s. */
static void media_text_renderer(void **state)
{
    (void)state;
    json_t *doc = json_loads(
        "{\"format\":\"evidence.media\",\"format_version\":1,"
        "\"file\":{\"name\":\"c.dav\",\"size\":10},"
        "\"media\":{\"container\":\"dhav\",\"duration\":0.0004999999999999999,"
        "\"streams\":[{\"type\":\"video\",\"codec\":\"h264\",\"width\":64,\"height\":48,"
        "\"rotation\":90,\"timeline\":{\"time_source\":\"frame-stamps\",\"frames\":3,"
        "\"first_wallclock\":\"2026-03-01T10:00:00.000\",\"last_wallclock\":\"2026-03-01T10:01:00.000\","
        "\"nominal_fps\":25,\"gaps_total\":1,\"discontinuities_total\":1,\"missing\":59.92,"
        "\"gaps\":[{\"after_frame\":1,\"missing\":59.92,\"from_wallclock\":\"a\",\"to_wallclock\":\"b\"}],"
        "\"discontinuities\":[{\"after_frame\":2,\"kind\":\"repeat\",\"step\":0,\"from\":1,\"to\":1}],"
        "\"events_truncated\":true}}]},"
        "\"capture\":{\"datetime_original_local\":\"2026-03-01T10:00:00\","
        "\"datetime_original_zone\":\"unknown\",\"sources\":{\"datetime_original\":\"riff:IDIT\"},"
        "\"gps\":{\"placeholder\":true}}}",
        0, NULL);
    assert_non_null(doc);
    char *t = ev_media__text(doc);
    assert_non_null(t);
    assert_string_equal(t,
        "file:      c.dav\n"
        "size:      10 bytes\n"
        "container: dhav\n"
        "duration:  0.001 s\n"
        "stream 0:  video h264 64x48 rotation 90\n"
        "timeline 0: time source: per-frame wall-clock stamps (camera local time, zone "
        "unknown); 3 frames\n"
        "  first 2026-03-01T10:00:00.000, last 2026-03-01T10:01:00.000\n"
        "  frame rate: nominal 25 fps, none measured\n"
        "  1 gap (00:00:59.920 missing), 1 discontinuity\n"
        "  gap: 00:00:59.920 missing after frame 1 (a -> b)\n"
        "  discontinuity: time stands still (00:00:00.000) after frame 2 (1.000000 s -> "
        "1.000000 s)\n"
        "  (only the first 1000 gaps and discontinuities are listed)\n"
        "captured:  2026-03-01T10:00:00 local time, zone unknown [riff:IDIT]\n"
        "gps:       placeholder (the source holds no position)\n");
    free(t);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(media_facts_match_ffprobe),
        cmocka_unit_test(media_packet_hashes_match_streamhash),
        cmocka_unit_test(media_decoded_hashes_match_streamhash),
        cmocka_unit_test(media_remux_keeps_packet_hashes),
        cmocka_unit_test(media_24bit_lsb_flip_changes_decoded),
        cmocka_unit_test(media_deep_verify_names_changed_frame),
        cmocka_unit_test(media_deep_verify_without_lists),
        cmocka_unit_test(media_frame_list_format),
        cmocka_unit_test(media_capture_exif_matches_exiftool),
        cmocka_unit_test(media_exif_orientations),
        cmocka_unit_test(media_capture_quicktime),
        cmocka_unit_test(media_capture_times_keep_their_zone),
        cmocka_unit_test(media_capture_gps_exact),
        cmocka_unit_test(media_capture_without_seek),
        cmocka_unit_test(media_iso6709_forms),
        cmocka_unit_test(media_rotation_and_kinds),
        cmocka_unit_test(media_heic_is_kept_with_note),
        cmocka_unit_test(media_content_modes),
        cmocka_unit_test(media_public_api),
        cmocka_unit_test(media_result_text),
        cmocka_unit_test(media_text_renderer),
        cmocka_unit_test(media_outputs_match_schema),
    };
    return cmocka_run_group_tests_name("media", tests, group_setup, group_teardown);
}
