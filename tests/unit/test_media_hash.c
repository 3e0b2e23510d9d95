/*
 * Unit tests for the SHA-256 of the media scan (media_hash.c): the paired
 * computation (stream hash + per-frame hash) against one OpenSSL EVP digest
 * for every way of splitting the input, and the decoded stream hash and
 * per-frame list against `ffmpeg -f streamhash` and `-f framehash` on clips
 * whose frame sizes are not multiples of the 64-byte SHA-256 block, with the
 * frames hashed on the worker thread and on the calling thread.
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
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/hash.h"
#include "evidence/bundle.h"
#include "media/media.h"
#include "media/media_int.h"
#include "testutil.h"

static char *g_dir;

/* xorshift: the same bytes on every run */
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 32);
}

static void openssl_hex(char out[65], const uint8_t *p, size_t n)
{
    assert_int_equal(ev_hash__sha256_hex(out, p, n), EV_OK);
}

/* Feed buf to a (whole-stream) and b (segments ending at random points,
 * each compared with OpenSSL) in chunks of the given size pattern. */
static void pair_run(const uint8_t *buf, size_t len, int pattern)
{
    ev_media__sha2 *a = NULL, *b = NULL;
    assert_int_equal(ev_media__sha2_new(&a), EV_OK);
    assert_int_equal(ev_media__sha2_new(&b), EV_OK);
    size_t pos = 0, seg = 0;
    char got[65], want[65];
    while (pos < len) {
        size_t k;
        switch (pattern) {
        case 0: k = rnd() % 200; break;             /* small, odd */
        case 1: k = 64 * (1 + rnd() % 4); break;    /* whole blocks */
        case 2: k = 1 + rnd() % 5000; break;        /* large */
        case 3: k = 1; break;                       /* byte by byte */
        default: k = (rnd() % 3) * 64 + rnd() % 3; break; /* near block sizes, with 0 */
        }
        if (k > len - pos)
            k = len - pos;
        assert_int_equal(ev_media__sha2_update2(a, b, buf + pos, k), EV_OK);
        pos += k;
        /* end the segment sometimes, as at the end of a frame */
        if (rnd() % 4 == 0 || pos == len) {
            assert_int_equal(ev_media__sha2_final(b, got), EV_OK);
            openssl_hex(want, buf + seg, pos - seg);
            if (strcmp(got, want) != 0)
                fail_msg("pattern %d: segment [%zu, %zu) %s, OpenSSL %s", pattern, seg, pos, got,
                         want);
            seg = pos;
        }
    }
    assert_int_equal(ev_media__sha2_final(a, got), EV_OK);
    openssl_hex(want, buf, len);
    if (strcmp(got, want) != 0)
        fail_msg("pattern %d: whole %zu bytes %s, OpenSSL %s", pattern, len, got, want);
    /* the final started a over: the empty message */
    assert_int_equal(ev_media__sha2_final(a, got), EV_OK);
    assert_string_equal(got, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* one computation alone (b NULL), and a NULL first computation */
    assert_int_equal(ev_media__sha2_update2(a, NULL, buf, len / 3), EV_OK);
    assert_int_equal(ev_media__sha2_update2(a, NULL, buf + len / 3, len - len / 3), EV_OK);
    assert_int_equal(ev_media__sha2_final(a, got), EV_OK);
    assert_string_equal(got, want);
    ev_media__sha2_free(a);
    ev_media__sha2_free(b);
}

static void sha2_pair_matches_openssl(void **state)
{
    (void)state;
    size_t len = 20000;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rnd();
    /* lengths around the padding boundary (55, 56, 63, 64 ...) */
    for (size_t n = 0; n < 200; n++)
        for (int p = 0; p < 5; p++)
            pair_run(buf, n, p);
    for (int p = 0; p < 5; p++)
        for (int r = 0; r < 20; r++)
            pair_run(buf + rnd() % 64, len - 64 - rnd() % 1000, p);
    free(buf);
}

/* ------------------------------------------------------------------------ */
/* decoded hashes vs ffmpeg                                                  */
/* ------------------------------------------------------------------------ */

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
    size_t cap = 1 << 20, len = 0, n;
    char *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 4096) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
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

typedef struct clip {
    const char *name;
    const char *make; /* ffmpeg arguments that write it */
} clip;

/* Frame sizes, none a multiple of 64: 322x242 yuv420p 116886 bytes, 98x36
 * pal8 (PNG) 3528 + 1024 palette, 101x51 bgr0 20604; audio frames of 1152
 * stereo floats (MP3), 3-channel 24-bit WAV frames. */
static const clip clips[] = {
    { "odd.mkv", "-f lavfi -i testsrc2=size=322x242:rate=25 -f lavfi -i "
                 "sine=frequency=300:sample_rate=44100 -t 2 -c:v libx264 -preset veryfast "
                 "-pix_fmt yuv420p -c:a libmp3lame" },
    { "pal.mkv", "-f lavfi -i testsrc2=size=98x36:rate=10 -t 2 -pix_fmt pal8 -c:v png" },
    { "rgb.mkv", "-f lavfi -i testsrc2=size=101x51:rate=10 -t 2 -c:v ffv1 -pix_fmt bgr0" },
    { "s24.wav", "-f lavfi -i sine=frequency=500:sample_rate=22050 -ac 3 -t 1.3 -c:a pcm_s24le" },
};

static int group_setup(void **state)
{
    (void)state;
    g_dir = tu_mkdtemp("media-hash");
    if (!g_dir)
        return -1;
    for (size_t i = 0; i < sizeof(clips) / sizeof(clips[0]); i++) {
        char *out = tu_join(g_dir, clips[i].name);
        char *r = run("ffmpeg -nostdin -hide_banner -loglevel error -y %s '%s'", clips[i].make,
                      out);
        free(out);
        if (!r)
            return -1;
        free(r);
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    tu_rmrf(g_dir);
    free(g_dir);
    return 0;
}

typedef struct result {
    json_t *media, *capture, *content;
    ev_media__file *meta;
    size_t nmeta;
} result;

/* threads: limits.threads (0: automatic, the frames hashed on a worker
 * thread; 1: on the calling thread) */
static void analyze(result *r, const char *path, unsigned int threads)
{
    memset(r, 0, sizeof(*r));
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    uint64_t st[4];
    ev_io io;
    ev_media__io_from_fd(&io, fd, (uint64_t)sb.st_size, st);
    ev_errbuf err = { { 0 } };
    ev_media__limits lim;
    ev_media__limits_default(&lim, (uint64_t)sb.st_size);
    lim.threads = threads;
    int rc = ev_media__analyze_ex(&r->media, &r->capture, &r->content, &r->meta, &r->nmeta, &io,
                                  path, EV_CONTENT_HASH_DECODED, &lim, &err);
    close(fd);
    if (rc)
        fail_msg("analyze %s: %d %s", path, rc, err.msg);
}

static void result_free(result *r)
{
    json_decref(r->media);
    json_decref(r->capture);
    json_decref(r->content);
    ev_media__files_free(r->meta, r->nmeta);
}

/* "size sha256" of every line of a frame list, or of ffmpeg's framehash. */
static char *sizes_and_hashes(const char *text, size_t len, bool framehash)
{
    size_t cap = len + 1, o = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char line[512];
        if (ll && p[0] != '#' && ll < sizeof(line)) {
            memcpy(line, p, ll);
            line[ll] = '\0';
            long long a, b, c, d, size;
            char h[65];
            int k = framehash ? sscanf(line, "%lld, %lld, %lld, %lld, %lld, %64s", &a, &b, &c, &d,
                                       &size, h)
                              : sscanf(line, "%lld %lld %lld %lld %64s", &a, &b, &c, &size, h);
            if (k != 6 - !framehash)
                fail_msg("unexpected line: %s", line);
            o += (size_t)snprintf(out + o, cap - o, "%lld %s\n", size, h);
        }
        p += ll + 1;
    }
    out[o] = '\0';
    return out;
}

static void check_clip(const char *name)
{
    char *path = tu_join(g_dir, name);
    result r, one;
    analyze(&r, path, 0);
    /* hashed on the calling thread: the same content hashes and lists */
    analyze(&one, path, 1);
    char *ja = json_dumps(r.content, JSON_SORT_KEYS), *jb = json_dumps(one.content, JSON_SORT_KEYS);
    assert_non_null(ja);
    assert_non_null(jb);
    assert_string_equal(ja, jb);
    free(ja);
    free(jb);
    assert_int_equal(r.nmeta, one.nmeta);
    for (size_t k = 0; k < r.nmeta; k++) {
        assert_string_equal(r.meta[k].name, one.meta[k].name);
        assert_int_equal(r.meta[k].len, one.meta[k].len);
        assert_memory_equal(r.meta[k].data, one.meta[k].data, r.meta[k].len);
    }
    result_free(&one);
    size_t i;
    const json_t *e;
    int checked = 0;
    json_array_foreach(r.content, i, e)
    {
        int s = (int)json_integer_value(json_object_get(e, "stream"));
        const json_t *d = json_object_get(e, "decoded");
        const char *as = json_string_value(json_object_get(d, "as"));
        const char *mine = json_string_value(json_object_get(d, "sha256"));
        assert_non_null(as);
        assert_non_null(mine);
        const char *args = "-flags +bitexact -idct simple -noautorotate";
        char *sh = run("ffmpeg -nostdin -v error %s -i '%s' -map 0:%d -c:v rawvideo -c:a %s "
                       "-fps_mode passthrough -f streamhash -hash sha256 -",
                       args, path, s, as);
        assert_non_null(sh);
        const char *eq = strstr(sh, "SHA256=");
        assert_non_null(eq);
        if (strncmp(eq + 7, mine, 64) != 0)
            fail_msg("%s stream %d: decoded %s, streamhash %.64s", name, s, mine, eq + 7);
        char *fh = run("ffmpeg -nostdin -v error %s -i '%s' -map 0:%d -c:v rawvideo -c:a %s "
                       "-fps_mode passthrough -f framehash -hash sha256 -",
                       args, path, s, as);
        assert_non_null(fh);
        char lname[64];
        snprintf(lname, sizeof(lname), "frames-s%d-decoded.txt", s);
        const ev_media__file *l = NULL;
        for (size_t k = 0; k < r.nmeta; k++)
            if (strcmp(r.meta[k].name, lname) == 0)
                l = &r.meta[k];
        assert_non_null(l);
        char *a = sizes_and_hashes((const char *)l->data, l->len, false);
        char *b = sizes_and_hashes(fh, strlen(fh), true);
        assert_true(strlen(a) > 0);
        if (strcmp(a, b) != 0)
            fail_msg("%s stream %d: frame list differs from framehash:\n%.300s\nvs\n%.300s", name,
                     s, a, b);
        free(a);
        free(b);
        free(fh);
        free(sh);
        checked++;
    }
    assert_true(checked > 0);
    result_free(&r);
    free(path);
}

static void decoded_lists_match_framehash(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(clips) / sizeof(clips[0]); i++)
        check_clip(clips[i].name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha2_pair_matches_openssl),
        cmocka_unit_test(decoded_lists_match_framehash),
    };
    return cmocka_run_group_tests_name("media_hash", tests, group_setup, group_teardown);
}
