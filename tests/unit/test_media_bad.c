/*
 * Robustness tests for the media module: empty, random, truncated, fuzzed
 * and wrongly named files, containers that lie about their sizes, a
 * decompression bomb, failing and unseekable sources, hostile name hints and
 * hostile records given to deep verification. Nothing may crash or hang;
 * media.error must say why.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "evidence/bundle.h"
#include "media/media.h"
#include "media/media_int.h"
#include "testutil.h"

static char *g_dir;
static char *g_hostile;

static const char *const fixtures[] = { "v_h264.mp4", "v_remux.mkv", "v_mjpeg.avi",
                                        "v_h264.ts",  "v_mpeg2.mpg", "v_raw.264",
                                        "v_raw.265",  "v_ffv1.mkv",  "a_s24.wav",
                                        "a_alaw.wav", "a.mp3",       "a_s24.flac",
                                        "i.jpg",      "i.png",       "i.tiff",
                                        NULL };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

typedef struct out {
    json_t *media, *capture, *content;
    ev_media__file *meta;
    size_t nmeta;
    double seconds;
} out;

static void out_free(out *o)
{
    json_decref(o->media);
    json_decref(o->capture);
    json_decref(o->content);
    ev_media__files_free(o->meta, o->nmeta);
    memset(o, 0, sizeof(*o));
}

/* Small limits for the hostile cases: one decoder thread, 20 s. */
static void test_limits(ev_media__limits *l, uint64_t size)
{
    ev_media__limits_default(l, size);
    l->threads = 1;
    l->time_budget_s = 20.0;
}

static int analyze_mem(out *o, const uint8_t *data, size_t len, const char *hint,
                       const ev_media__limits *lim)
{
    memset(o, 0, sizeof(*o));
    uint64_t st[4];
    ev_io io;
    assert_int_equal(ev_media__io_from_mem(&io, data, len, st), EV_OK);
    ev_errbuf err = { { 0 } };
    ev_media__limits l;
    if (!lim) {
        test_limits(&l, len);
        lim = &l;
    }
    double t0 = now();
    int rc = ev_media__analyze_ex(&o->media, &o->capture, &o->content, &o->meta, &o->nmeta, &io,
                                  hint, EV_CONTENT_HASH_BOTH, lim, &err);
    o->seconds = now() - t0;
    if (rc)
        fprintf(stderr, "analyze %s: %d %s\n", hint ? hint : "(mem)", rc, err.msg);
    return rc;
}

static uint8_t *read_fixture(const char *name, size_t *len)
{
    char *p = tu_join(g_dir, name);
    uint8_t *d = tu_read(p, len);
    free(p);
    assert_non_null(d);
    return d;
}

static const char *media_error(const out *o)
{
    return json_string_value(json_object_get(o->media, "error"));
}

/* Every run must give a media object quickly, whatever the input. */
static void expect_sane(const out *o, const char *what)
{
    if (!json_is_object(o->media))
        fail_msg("%s: no media object", what);
    if (!json_is_string(json_object_get(o->media, "kind")))
        fail_msg("%s: no kind", what);
    if (o->seconds > 20.0)
        fail_msg("%s: took %.1f s", what, o->seconds);
    if (json_array_size(json_object_get(o->media, "streams")) > EV_MEDIA_MAX_STREAMS)
        fail_msg("%s: too many streams reported", what);
}

static int group_setup(void **state)
{
    (void)state;
    g_dir = tu_mkdtemp("media-bad");
    g_hostile = tu_mkdtemp("media-hostile");
    const char *src = getenv("EV_SOURCE_DIR");
    if (!g_dir || !g_hostile || !src)
        return -1;
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "bash '%s/scripts/gen-test-media.sh' '%s' && python3 "
             "'%s/scripts/media-hostile.py' '%s'",
             src, g_dir, src, g_hostile);
    if (system(cmd) != 0) {
        fprintf(stderr, "fixture generation failed: %s\n", cmd);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tu_rmrf(g_dir);
    tu_rmrf(g_hostile);
    free(g_dir);
    free(g_hostile);
    return 0;
}

/* ------------------------------------------------------------------------ */

static void media_bad_empty_and_tiny(void **state)
{
    (void)state;
    out o;
    assert_int_equal(analyze_mem(&o, (const uint8_t *)"", 0, "empty.mp4", NULL), EV_OK);
    expect_sane(&o, "empty");
    assert_non_null(strstr(media_error(&o), "empty"));
    assert_null(o.content);
    out_free(&o);
    static const uint8_t tiny[][4] = { { 0 }, { 0xFF, 0xD8, 0xFF }, { 0x1A, 0x45, 0xDF, 0xA3 } };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(analyze_mem(&o, tiny[i], i + 1, "tiny.bin", NULL), EV_OK);
        expect_sane(&o, "tiny");
        assert_non_null(media_error(&o));
        out_free(&o);
    }
    /* plain text is not media */
    const char *txt = "Statement of witness. I saw the car at 10:20.\n";
    assert_int_equal(analyze_mem(&o, (const uint8_t *)txt, strlen(txt), "statement.mp4", NULL),
                     EV_OK);
    expect_sane(&o, "text");
    assert_non_null(strstr(media_error(&o), "not recognised as media"));
    assert_string_equal(json_string_value(json_object_get(o.media, "kind")), "other");
    out_free(&o);
}

static void media_bad_random_bytes(void **state)
{
    (void)state;
    static const size_t sizes[] = { 16, 188 * 7, 4096, 65536, 1 << 20 };
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint8_t *d = malloc(sizes[k]);
        for (size_t i = 0; i < sizes[k]; i++)
            d[i] = (uint8_t)rng();
        out o;
        assert_int_equal(analyze_mem(&o, d, sizes[k], "random.bin", NULL), EV_OK);
        expect_sane(&o, "random");
        out_free(&o);
        /* random bytes behind real magic numbers */
        static const char *const magic[] = { "\x1a\x45\xdf\xa3", "RIFF\x00\x00\x01\x00WAVEfmt ",
                                             ("\x00\x00\x00\x18" "ftypisom"), "\x47",
                                             "\x00\x00\x00\x01\x67", "fLaC", "ID3\x03" };
        for (size_t m = 0; m < sizeof(magic) / sizeof(magic[0]); m++) {
            size_t ml = strlen(magic[m]) ? strlen(magic[m]) : 1;
            if (m == 2)
                ml = 12;
            if (m == 1)
                ml = 16;
            if (ml > sizes[k])
                continue;
            memcpy(d, magic[m], ml);
            assert_int_equal(analyze_mem(&o, d, sizes[k], "random.bin", NULL), EV_OK);
            expect_sane(&o, magic[m]);
            out_free(&o);
        }
        free(d);
    }
}

static void media_bad_truncated(void **state)
{
    (void)state;
    for (int k = 0; fixtures[k]; k++) {
        size_t len;
        uint8_t *d = read_fixture(fixtures[k], &len);
        const size_t cuts[] = { len / 2, len / 10, 200, 17 };
        for (size_t c = 0; c < 4; c++) {
            if (cuts[c] >= len)
                continue;
            out o;
            char what[96];
            snprintf(what, sizeof(what), "%s cut at %zu", fixtures[k], cuts[c]);
            assert_int_equal(analyze_mem(&o, d, cuts[c], fixtures[k], NULL), EV_OK);
            expect_sane(&o, what);
            out_free(&o);
        }
        free(d);
    }
    /* an MP4 cut before its index: the error says the header is unreadable */
    size_t len;
    uint8_t *d = read_fixture("v_h264.mp4", &len);
    out o;
    assert_int_equal(analyze_mem(&o, d, len / 2, "v_h264.mp4", NULL), EV_OK);
    assert_non_null(media_error(&o));
    assert_non_null(strstr(media_error(&o), "mov,mp4"));
    out_free(&o);
    free(d);
}

static void media_bad_fuzzed(void **state)
{
    (void)state;
    for (int k = 0; fixtures[k]; k++) {
        size_t len;
        uint8_t *orig = read_fixture(fixtures[k], &len);
        uint8_t *d = malloc(len);
        for (int v = 0; v < 6; v++) {
            memcpy(d, orig, len);
            int flips = v < 3 ? 4 : 64;
            for (int f = 0; f < flips; f++)
                d[rng() % len] ^= (uint8_t)(1u << (rng() % 8));
            out o;
            char what[96];
            snprintf(what, sizeof(what), "%s variant %d", fixtures[k], v);
            assert_int_equal(analyze_mem(&o, d, len, fixtures[k], NULL), EV_OK);
            expect_sane(&o, what);
            out_free(&o);
        }
        free(d);
        free(orig);
    }
}

static void media_bad_wrong_extension(void **state)
{
    (void)state;
    static const struct {
        const char *file, *hint, *container;
    } t[] = { { "v_h264.mp4", "clip.wav", "mov,mp4,m4a,3gp,3g2,mj2" },
              { "a_s16.wav", "audio.264", "wav" },
              { "v_remux.mkv", "x.jpg", "matroska,webm" },
              { "a.mp3", "a.mkv", "mp3" },
              { "i.png", "photo.jpg", "png_pipe" },
              { "v_h264.ts", NULL, "mpegts" } };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        size_t len;
        uint8_t *d = read_fixture(t[i].file, &len);
        out o;
        assert_int_equal(analyze_mem(&o, d, len, t[i].hint, NULL), EV_OK);
        const char *c = json_string_value(json_object_get(o.media, "container"));
        if (!c || strcmp(c, t[i].container) != 0)
            fail_msg("%s as %s: container %s, expected %s", t[i].file, t[i].hint, c,
                     t[i].container);
        assert_null(media_error(&o));
        assert_non_null(o.content);
        out_free(&o);
        free(d);
    }
}

static void media_bad_name_hints(void **state)
{
    (void)state;
    size_t len;
    uint8_t *d = read_fixture("i.jpg", &len);
    char longname[3000];
    memset(longname, 'a', sizeof(longname) - 5);
    memcpy(longname + sizeof(longname) - 5, ".jpg", 5);
    static const char *const hints[] = { "img%03d.jpg", "concat:a.jpg|b.jpg", "../../etc/x.jpg",
                                         "file:///etc/passwd", "x.\xff\xfe", "", "noext",
                                         "a.JPG", "pipe:0", NULL };
    for (int i = 0; hints[i] || i == 0; i++) {
        out o;
        assert_int_equal(analyze_mem(&o, d, len, hints[i], NULL), EV_OK);
        expect_sane(&o, hints[i] ? hints[i] : "(null)");
        assert_null(media_error(&o));
        assert_string_equal(json_string_value(json_object_get(o.media, "kind")), "image");
        out_free(&o);
        if (!hints[i])
            break;
    }
    out o;
    assert_int_equal(analyze_mem(&o, d, len, longname, NULL), EV_OK);
    assert_null(media_error(&o));
    out_free(&o);
    free(d);
}

static void media_bad_hostile_containers(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        const char *error_has; /* NULL: no error expected */
    } t[] = { { "streams_300.mkv", "streams" },  { "streams_300.avi", "streams" },
              { "streams_200.ts", NULL },         { "frames_1e9.mp4", NULL },
              { "frames_1e9.avi", NULL },         { "stsz_1e9.mp4", "header cannot be read" },
              { "deep_atoms.mp4", "header cannot be read" },
              { "deep_ebml.mkv", "no streams" }, { "huge_chunk.avi", NULL } };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char *p = tu_join(g_hostile, t[i].file);
        size_t len;
        uint8_t *d = tu_read(p, &len);
        assert_non_null(d);
        out o;
        assert_int_equal(analyze_mem(&o, d, len, t[i].file, NULL), EV_OK);
        expect_sane(&o, t[i].file);
        assert_true(o.seconds < 5.0);
        const char *e = media_error(&o);
        if (t[i].error_has && (!e || !strstr(e, t[i].error_has)))
            fail_msg("%s: error '%s', expected '%s'", t[i].file, e ? e : "(none)",
                     t[i].error_has);
        /* packets actually read are bounded by the bytes present */
        size_t k;
        const json_t *s;
        json_array_foreach(json_object_get(o.media, "streams"), k, s)
        {
            json_int_t pk = json_integer_value(json_object_get(s, "packets"));
            assert_true(pk >= 0 && (size_t)pk <= len);
        }
        if (strcmp(t[i].file, "streams_200.ts") == 0) {
            assert_true(json_is_true(json_object_get(o.media, "streams_truncated")));
            assert_int_equal(json_array_size(json_object_get(o.media, "streams")),
                             EV_MEDIA_MAX_STREAMS);
        }
        out_free(&o);
        free(d);
        free(p);
    }
}

/* A 1080p H.264 stream whose last P-frame (a dozen bytes, all skip) is
 * repeated thousands of times: each copy decodes to a full picture. */
static void media_bad_decompression_bomb_hits_time_limit(void **state)
{
    (void)state;
    char *src = tu_join(g_dir, "bomb0.264");
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "ffmpeg -nostdin -v error -y -f lavfi -i color=black:s=1920x1080:r=25 -frames:v 3 "
             "-c:v libx264 -preset ultrafast -x264opts keyint=1000:bframes=0 -f h264 '%s'",
             src);
    assert_int_equal(system(cmd), 0);
    size_t len;
    uint8_t *d = tu_read(src, &len);
    assert_non_null(d);
    /* find the last start code: the final P slice */
    size_t last = 0;
    for (size_t i = 0; i + 3 <= len; i++)
        if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1)
            last = i;
    assert_true(last > 0);
    size_t plen = len - last, reps = 20000;
    size_t total = last + plen * reps;
    uint8_t *b = malloc(total);
    memcpy(b, d, last);
    for (size_t r = 0; r < reps; r++)
        memcpy(b + last + r * plen, d + last, plen);
    ev_media__limits l;
    test_limits(&l, total);
    l.time_budget_s = 1.5;
    out o;
    assert_int_equal(analyze_mem(&o, b, total, "bomb.264", &l), EV_OK);
    expect_sane(&o, "bomb");
    assert_true(o.seconds < 6.0);
    const char *e = media_error(&o);
    assert_non_null(e);
    assert_non_null(strstr(e, "time limit"));
    assert_true(json_is_false(json_object_get(json_array_get(o.content, 0), "complete")));
    out_free(&o);
    free(b);
    free(d);
    free(src);
}

static void media_bad_limits(void **state)
{
    (void)state;
    size_t len;
    uint8_t *d = read_fixture("v_h264.mp4", &len);
    ev_media__limits l;
    test_limits(&l, len);
    l.max_packets = 10;
    out o;
    assert_int_equal(analyze_mem(&o, d, len, "v_h264.mp4", &l), EV_OK);
    assert_non_null(strstr(media_error(&o), "packet limit"));
    json_int_t total = 0;
    size_t k;
    const json_t *s;
    json_array_foreach(json_object_get(o.media, "streams"), k, s)
        total += json_integer_value(json_object_get(s, "packets"));
    assert_int_equal(total, 10);
    assert_true(json_is_false(json_object_get(json_array_get(o.content, 0), "complete")));
    out_free(&o);
    /* per-frame lists capped */
    test_limits(&l, len);
    l.max_list_entries = 5;
    assert_int_equal(analyze_mem(&o, d, len, "v_h264.mp4", &l), EV_OK);
    const json_t *p = json_object_get(json_array_get(o.content, 0), "packets");
    assert_int_equal(json_integer_value(json_object_get(p, "list_entries")), 5);
    assert_true(json_is_true(json_object_get(p, "list_truncated")));
    assert_int_equal(json_integer_value(json_object_get(p, "count")), 25);
    out_free(&o);
    /* largest picture: 320x240 refused when max_pixels is 1000 */
    test_limits(&l, len);
    l.max_pixels = 1000;
    assert_int_equal(analyze_mem(&o, d, len, "v_h264.mp4", &l), EV_OK);
    const json_t *dec = json_object_get(json_array_get(o.content, 0), "decoded");
    assert_non_null(json_object_get(dec, "error"));
    out_free(&o);
    /* streams considered */
    test_limits(&l, len);
    l.max_streams = 1;
    assert_int_equal(analyze_mem(&o, d, len, "v_h264.mp4", &l), EV_OK);
    assert_int_equal(json_array_size(json_object_get(o.media, "streams")), 1);
    assert_true(json_is_true(json_object_get(o.media, "streams_truncated")));
    assert_int_equal(json_array_size(o.content), 1);
    out_free(&o);
    free(d);
}

/* ------------------------------------------------------------------------ */
/* failing and unseekable sources                                            */
/* ------------------------------------------------------------------------ */

typedef struct failing {
    const uint8_t *d;
    size_t len, pos, fail_at;
    int code;
    bool seekable;
} failing;

static int64_t f_read(void *opaque, uint8_t *buf, size_t n)
{
    failing *f = opaque;
    if (f->pos >= f->fail_at)
        return f->code;
    if (f->pos >= f->len)
        return 0;
    size_t k = f->len - f->pos;
    if (k > n)
        k = n;
    if (f->pos + k > f->fail_at)
        k = f->fail_at - f->pos;
    memcpy(buf, f->d + f->pos, k);
    f->pos += k;
    return (int64_t)k;
}

static int64_t f_seek(void *opaque, int64_t off, int whence)
{
    failing *f = opaque;
    int64_t base = whence == 0 ? 0 : whence == 1 ? (int64_t)f->pos : (int64_t)f->len;
    if (base + off < 0)
        return -1;
    f->pos = (size_t)(base + off);
    return (int64_t)f->pos;
}

static int run_failing(failing *f, out *o, const char *hint)
{
    ev_io io = { EV_IO_VERSION, f, f_read, f->seekable ? f_seek : NULL, f->len };
    ev_errbuf err = { { 0 } };
    memset(o, 0, sizeof(*o));
    ev_media__limits l;
    test_limits(&l, f->len);
    int rc = ev_media__analyze_ex(&o->media, &o->capture, &o->content, &o->meta, &o->nmeta, &io,
                                  hint, EV_CONTENT_HASH_BOTH, &l, &err);
    if (rc) {
        assert_true(strlen(err.msg) > 0);
        assert_null(o->media);
        assert_null(o->capture);
        assert_null(o->content);
        assert_null(o->meta);
        assert_int_equal(o->nmeta, 0);
    }
    return rc;
}

static void media_bad_io_errors(void **state)
{
    (void)state;
    static const char *const files[] = { "v_h264.mp4", "v_remux.mkv", "i.jpg", "a_s24.wav" };
    for (size_t i = 0; i < 4; i++) {
        size_t len;
        uint8_t *d = read_fixture(files[i], &len);
        const size_t at[] = { 0, 10, 1000, len / 2, len - 1 };
        for (size_t a = 0; a < 5; a++) {
            failing f = { d, len, 0, at[a], EV_EIO, true };
            out o;
            assert_int_equal(run_failing(&f, &o, files[i]), EV_EIO);
            f = (failing){ d, len, 0, at[a], EV_ECANCELED, true };
            assert_int_equal(run_failing(&f, &o, files[i]), EV_ECANCELED);
            f = (failing){ d, len, 0, at[a], -77, true };
            assert_int_equal(run_failing(&f, &o, files[i]), EV_EIO);
        }
        free(d);
    }
}

static void media_bad_unseekable(void **state)
{
    (void)state;
    size_t len;
    uint8_t *d = read_fixture("v_remux.mkv", &len);
    failing f = { d, len, 0, SIZE_MAX, EV_EIO, false };
    out o;
    assert_int_equal(run_failing(&f, &o, "v_remux.mkv"), EV_OK);
    assert_null(media_error(&o));
    assert_int_equal(json_array_size(o.content), 2);
    /* the same hashes as through a seekable source */
    out o2;
    assert_int_equal(analyze_mem(&o2, d, len, "v_remux.mkv", NULL), EV_OK);
    assert_true(json_equal(o.content, o2.content));
    out_free(&o);
    out_free(&o2);
    free(d);
    /* a seekable source that does not say its size: found by seeking */
    {
        size_t l2;
        uint8_t *d2 = read_fixture("v_h264.mp4", &l2);
        failing f2 = { d2, l2, 0, SIZE_MAX, EV_EIO, true };
        ev_io io = { EV_IO_VERSION, &f2, f_read, f_seek, 0 };
        ev_errbuf err;
        memset(&o, 0, sizeof(o));
        assert_int_equal(ev_media__analyze_ex(&o.media, &o.capture, &o.content, &o.meta,
                                              &o.nmeta, &io, "v_h264.mp4",
                                              EV_CONTENT_HASH_BOTH, NULL, &err),
                         EV_OK);
        assert_null(media_error(&o));
        assert_int_equal(analyze_mem(&o2, d2, l2, "v_h264.mp4", NULL), EV_OK);
        assert_true(json_equal(o.content, o2.content));
        out_free(&o);
        out_free(&o2);
        free(d2);
    }
    /* a JPEG: no EXIF without seeking, and a note saying so */
    d = read_fixture("i.jpg", &len);
    f = (failing){ d, len, 0, SIZE_MAX, EV_EIO, false };
    assert_int_equal(run_failing(&f, &o, "i.jpg"), EV_OK);
    assert_null(o.capture);
    out_free(&o);
    free(d);
}

/* ------------------------------------------------------------------------ */
/* hostile records for deep verification                                     */
/* ------------------------------------------------------------------------ */

static void media_bad_deep_verify_hostile_record(void **state)
{
    (void)state;
    size_t len;
    uint8_t *d = read_fixture("v_ffv1.mkv", &len);
    out o;
    assert_int_equal(analyze_mem(&o, d, len, "v_ffv1.mkv", NULL), EV_OK);
    uint64_t st[4];
    ev_io io;
    ev_errbuf err;
    json_t *f = NULL;
    /* 1. record shapes that are wrong in every way */
    static const char *const items[] = {
        "{}",
        "{\"content_hashes\": 5}",
        "{\"content_hashes\": [1, \"x\", null, {}]}",
        "{\"content_hashes\": [{\"stream\": -1, \"packets\": {\"sha256\": \"00\"}}]}",
        "{\"content_hashes\": [{\"stream\": 99999999999, \"packets\": {\"sha256\": \"zz\"}}]}",
        "{\"content_hashes\": [{\"stream\": 0, \"time_base\": \"0/0\", \"packets\": "
        "{\"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\", "
        "\"list\": \"../../etc/passwd\"}}]}",
        "{\"content_hashes\": [{\"stream\": 0, \"time_base\": \"-1/-5\", \"decoded\": "
        "{\"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\", "
        "\"list\": \"frames-s0-decoded.txt\"}}]}",
        NULL
    };
    for (int i = 0; items[i]; i++) {
        json_t *item = json_loads(items[i], 0, NULL);
        assert_non_null(item);
        ev_media__io_from_mem(&io, d, len, st);
        assert_int_equal(ev_media__deep_verify(&f, item, &io, o.meta, o.nmeta, &err), EV_OK);
        assert_true(json_is_array(f));
        json_decref(f);
        json_decref(item);
    }
    /* 2. the real record with garbage frame lists */
    json_t *item = json_object();
    json_object_set(item, "content_hashes", o.content);
    json_array_foreach(o.content, len, f)
    {
        json_t *pk = json_object_get(f, "packets");
        json_object_set_new(pk, "sha256", json_string("1111111111111111111111111111111111111111111111111111111111111111"));
    }
    size_t dlen;
    uint8_t *dd = read_fixture("v_ffv1.mkv", &dlen);
    static const char *const lists[] = {
        "",
        "# only a comment\n",
        "0 0 0 1 5 K " "aaaa\n",
        "5 0 0 1 5 K 1111111111111111111111111111111111111111111111111111111111111111\n",
        "0 99999999999999999999999 0 1 5 K 1111111111111111111111111111111111111111111111111111111111111111\n",
        "0 - - - -5 K 1111111111111111111111111111111111111111111111111111111111111111\n",
        "0 1 2 3 4 5 6 7 8 9 10\n\n\n\n",
        "\xff\xfe\x00\x01 binary \x00\x00\n0",
        NULL
    };
    for (int i = 0; lists[i]; i++) {
        ev_media__file mf = { (char *)"frames-s0-packets.txt", (uint8_t *)lists[i], strlen(lists[i]) };
        ev_media__io_from_mem(&io, dd, dlen, st);
        assert_int_equal(ev_media__deep_verify(&f, item, &io, &mf, 1, &err), EV_OK);
        const json_t *e = json_array_get(f, 0);
        assert_string_equal(json_string_value(json_object_get(e, "status")), "mismatch");
        assert_non_null(json_object_get(e, "message"));
        json_decref(f);
    }
    /* 3. a random-byte "media" file against the real record */
    uint8_t junk[4096];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)rng();
    ev_media__io_from_mem(&io, junk, sizeof(junk), st);
    assert_int_equal(ev_media__deep_verify(&f, item, &io, o.meta, o.nmeta, &err), EV_OK);
    assert_string_not_equal(json_string_value(json_object_get(json_array_get(f, 0), "status")), "ok");
    json_decref(f);
    /* 4. bad arguments */
    assert_int_equal(ev_media__deep_verify(&f, NULL, &io, NULL, 0, &err), EV_EINVAL);
    assert_int_equal(ev_media__deep_verify(&f, item, NULL, NULL, 0, &err), EV_EINVAL);
    json_decref(item);
    out_free(&o);
    free(dd);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(media_bad_empty_and_tiny),
        cmocka_unit_test(media_bad_random_bytes),
        cmocka_unit_test(media_bad_truncated),
        cmocka_unit_test(media_bad_fuzzed),
        cmocka_unit_test(media_bad_wrong_extension),
        cmocka_unit_test(media_bad_name_hints),
        cmocka_unit_test(media_bad_hostile_containers),
        cmocka_unit_test(media_bad_decompression_bomb_hits_time_limit),
        cmocka_unit_test(media_bad_limits),
        cmocka_unit_test(media_bad_io_errors),
        cmocka_unit_test(media_bad_unseekable),
        cmocka_unit_test(media_bad_deep_verify_hostile_record),
    };
    return cmocka_run_group_tests_name("media_bad", tests, group_setup, group_teardown);
}
