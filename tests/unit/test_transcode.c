/*
 * Unit tests for src/transcode*.c and src/conform.c: verified copies,
 * refusals, bad input, metadata carry-over, conformance measurements.
 * Fixtures are made at test time with the ffmpeg and exiftool command lines
 * (Debian packages) into a fresh folder; clips are tiny.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <math.h>
#include <unistd.h>

#include <cmocka.h>

#include <libavformat/avio.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/pixfmt.h>

#include "transcode/avfilter_dl.h"
#include "transcode/conform.h"
#include "media/boxes.h"
#include "profile/profile.h"
#include "testutil.h"
#include "transcode/transcode.h"
#include "transcode/transcode_int.h"

static char *dir;        /* fixtures and outputs */
static char *profiles;   /* the shipped profiles */
static bool have_exiftool;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    char full[4400];
    snprintf(full, sizeof(full), "cd '%s' && %s", dir, cmd);
    return system(full);
}

/* Output of a shell command (first line), or "" */
static void sh_out(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void sh_out(char *buf, size_t n, const char *fmt, ...)
{
    char cmd[4096], full[4400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "cd '%s' && %s", dir, cmd);
    buf[0] = '\0';
    FILE *p = popen(full, "r");
    if (!p)
        return;
    if (fgets(buf, (int)n, p))
        buf[strcspn(buf, "\n")] = '\0';
    pclose(p);
}

static char *P(const char *name)
{
    static char buf[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
    return buf[k];
}

static bool exists(const char *name)
{
    struct stat st;
    return stat(P(name), &st) == 0;
}

/* No ".partial-" temporary left in the folder. */
static bool no_partial(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool ok = true;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".partial-"))
            ok = false;
    if (d)
        closedir(d);
    return ok;
}

static ev_profile *load(const char *name)
{
    ev_errbuf err = { "" };
    ev_profile *p = NULL;
    const char *dirs[] = { profiles };
    if (ev_profile__find(&p, dirs, 1, name, &err) != EV_OK)
        fail_msg("profile %s: %s", name, err.msg);
    return p;
}

static ev_profile *load_text(const char *text)
{
    ev_errbuf err = { "" };
    ev_profile *p = NULL;
    if (ev_profile__load_buffer(&p, text, strlen(text), "test.json", &err) != EV_OK)
        fail_msg("%s", err.msg);
    return p;
}

static const char *verdict(const json_t *rec)
{
    return json_string_value(json_object_get(json_object_get(rec, "verification"), "verdict"));
}

static const json_t *vstream(const json_t *rec, size_t i)
{
    return json_array_get(json_object_get(json_object_get(rec, "verification"), "streams"), i);
}

static bool problems_mention(const json_t *rec, const char *what)
{
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(json_object_get(rec, "verification"), "problems"), i, x)
        if (strstr(json_string_value(x), what))
            return true;
    return false;
}

static int run(json_t **rec, ev_profile *p, const char *in, const char *out, uint32_t flags,
               ev_errbuf *err)
{
    ev_transcode__opts o = { flags, 0, NULL, NULL, 0, 0 };
    unlink(P(out));
    return ev_transcode__run(rec, p, P(in), P(out), &o, err);
}

/* Odd-sized yuv420p frames (FFmpeg's CLI rounds lavfi sizes to even). */
static void write_odd_yuv(const char *name, int w, int h, int frames)
{
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    FILE *f = fopen(P(name), "wb");
    assert_non_null(f);
    for (int n = 0; n < frames; n++) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                fputc((x * 3 + y * 5 + n * 7) & 255, f);
        for (int k = 0; k < 2; k++)
            for (int y = 0; y < ch; y++)
                for (int x = 0; x < cw; x++)
                    fputc((x * 11 + y + k * 50 + n) & 255, f);
    }
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    dir = tu_mkdtemp("transcode");
    const char *src = getenv("EV_SOURCE_DIR");
    profiles = tu_join(src ? src : ".", "profiles");
    if (!dir || !profiles)
        return -1;
    av_log_set_level(AV_LOG_FATAL); /* the library leaves the log alone; keep test output short */
    have_exiftool = system("exiftool -ver >/dev/null 2>&1") == 0;
    const char *ff = "ffmpeg -nostdin -hide_banner -v error -y";
    int rc = 0;
    /* video masters: 8-bit, 10-bit, RGB, gray; H.264+AAC with tags */
    rc |= sh("%s -f lavfi -i testsrc2=size=64x48:rate=25 -f lavfi -i sine=sample_rate=48000 "
             "-t 1 -c:v rawvideo -pix_fmt yuv420p -c:a pcm_s16le y8.mkv", ff);
    rc |= sh("%s -f lavfi -i testsrc2=size=64x48:rate=25 -t 1 -c:v ffv1 -pix_fmt yuv422p10le "
             "y10.mkv", ff);
    rc |= sh("%s -f lavfi -i testsrc2=size=64x48:rate=25 -t 1 -c:v png -pix_fmt rgb24 rgb.mkv", ff);
    rc |= sh("%s -f lavfi -i testsrc2=size=64x48:rate=25 -t 1 -c:v rawvideo -pix_fmt gray "
             "gray.mkv", ff);
    rc |= sh("%s -f lavfi -i testsrc2=size=160x120:rate=25 -f lavfi -i sine=sample_rate=48000 "
             "-t 2 -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 96k "
             "-metadata location=+51.500712-000.124611/ -metadata creation_time=2024-05-01T10:20:30Z "
             "-metadata title=Interview h264.mov", ff);
    rc |= sh("%s -i h264.mov -c copy h264.ts", ff);
    /* audio masters */
    rc |= sh("%s -f lavfi -i sine=frequency=440:sample_rate=44100 -ac 2 -t 1.2 -c:a pcm_s24le "
             "s24.wav", ff);
    rc |= sh("%s -f lavfi -i sine=frequency=440:sample_rate=44100 -ac 2 -t 1.2 -c:a pcm_s16le "
             "s16.wav", ff);
    rc |= sh("%s -f lavfi -i sine=frequency=440:sample_rate=44100 -t 1 -c:a pcm_f32le f32.wav", ff);
    rc |= sh("%s -f lavfi -i sine=frequency=440:sample_rate=44100 -t 1 -c:a pcm_s32le s32.wav", ff);
    /* a photo with EXIF: GPS, time, Orientation 6 */
    rc |= sh("%s -f lavfi -i testsrc2=size=96x64 -frames:v 1 -q:v 2 photo.jpg", ff);
    if (have_exiftool)
        rc |= sh("exiftool -q -overwrite_original -Make=TestCam -Model=T1 "
                 "'-DateTimeOriginal=2024:05:01 10:20:30' -OffsetTimeOriginal=+01:00 "
                 "-GPSLatitude=51.500712 -GPSLatitudeRef=N -GPSLongitude=0.124611 "
                 "-GPSLongitudeRef=W -Orientation#=6 photo.jpg");
    /* odd picture size (4:2:0, 65x49) */
    write_odd_yuv("odd.yuv", 65, 49, 3);
    rc |= sh("%s -f rawvideo -pix_fmt yuv420p -s 65x49 -r 25 -i odd.yuv -c:v ffv1 odd.mkv", ff);
    return rc == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (dir)
        tu_rmrf(dir);
    free(dir);
    free(profiles);
    return 0;
}

/* ------------------------------------------------------------------------ */

/* archive-ffv1: decoded-identical for 8-bit, 10-bit, RGB and gray, checked
 * by us and independently by the ffmpeg CLI (framemd5 of decoded frames). */
static void transcode_archive_ffv1_identical_for_each_format(void **state)
{
    (void)state;
    ev_profile *p = load("archive-ffv1");
    static const char *const in[] = { "y8.mkv", "y10.mkv", "rgb.mkv", "gray.mkv" };
    static const char *const cmp_fmt[] = { "yuv420p", "yuv422p10le", "rgb24", "gray" };
    for (size_t i = 0; i < 4; i++) {
        ev_errbuf err = { "" };
        json_t *rec = NULL;
        char out[64];
        snprintf(out, sizeof(out), "ffv1-%zu.mkv", i);
        int rc = run(&rec, p, in[i], out, 0, &err);
        if (rc != EV_OK)
            fail_msg("%s: %s", in[i], err.msg);
        assert_string_equal(verdict(rec), "pass");
        assert_true(exists(out));
        const json_t *v = vstream(rec, 0);
        assert_string_equal(json_string_value(json_object_get(v, "method")), "decoded-identical");
        assert_string_equal(json_string_value(json_object_get(v, "source_sha256")),
                            json_string_value(json_object_get(v, "output_sha256")));
        assert_int_equal(json_integer_value(json_object_get(v, "frames")), 25);
        /* independent check with the ffmpeg CLI */
        char a[128], b[128];
        sh_out(a, sizeof(a), "ffmpeg -v error -i %s -map 0:v -pix_fmt %s -f framemd5 - | "
               "grep -v '^#' | md5sum", in[i], cmp_fmt[i]);
        sh_out(b, sizeof(b), "ffmpeg -v error -i %s -map 0:v -pix_fmt %s -f framemd5 - | "
               "grep -v '^#' | md5sum", out, cmp_fmt[i]);
        assert_true(strlen(a) > 30);
        assert_string_equal(a, b);
        char codec[64];
        sh_out(codec, sizeof(codec), "ffprobe -v error -select_streams v -show_entries "
               "stream=codec_name -of csv=p=0 %s", out);
        assert_string_equal(codec, "ffv1");
        json_decref(rec);
    }
    /* the PCM audio of y8.mkv became FLAC, decoded-identical */
    char codec[64];
    sh_out(codec, sizeof(codec), "ffprobe -v error -select_streams a -show_entries "
           "stream=codec_name -of csv=p=0 ffv1-0.mkv");
    assert_string_equal(codec, "flac");
    assert_true(no_partial());
    ev_profile__free(p);
}

/* A decoded-identical profile that cannot be lossless for the input: refused
 * up front; and with the pre-check disabled, the verifier catches it. */
static void transcode_pixfmt_change_fails_decoded_identical(void **state)
{
    (void)state;
    ev_profile *p = load_text(
        "{\"profile_format\":1,\"name\":\"ffv1-422\",\"kind\":\"av\","
        "\"output\":{\"container\":\"matroska\",\"video\":{\"rules\":[{\"action\":\"encode\","
        "\"encoder\":\"ffv1\",\"pix_fmt\":\"yuv422p\"}]}},"
        "\"verification\":{\"level\":\"decoded-identical\"}}");
    ev_errbuf err = { "" };
    json_t *rec = NULL;
    assert_int_equal(run(&rec, p, "gray.mkv", "f422.mkv", 0, &err), EV_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "cannot be lossless"));
    assert_null(rec);
    assert_false(exists("f422.mkv"));

    int rc = run(&rec, p, "y8.mkv", "f422.mkv", EV_TRANSCODE__NO_PRECHECK, &err);
    if (rc != EV_OK)
        fail_msg("%s", err.msg);
    assert_string_equal(verdict(rec), "fail");
    assert_true(problems_mention(rec, "picture format differs"));
    assert_false(json_is_true(json_object_get(json_object_get(rec, "output"), "kept")));
    assert_false(exists("f422.mkv"));
    assert_true(no_partial());
    json_decref(rec);
    ev_profile__free(p);
}

/* working-copy-h264: verified, conforms to its own checks, decodes with the
 * ffmpeg CLI without errors; GPS verbatim; creation time kept. */
static void transcode_working_copy_h264_conforms(void **state)
{
    (void)state;
    ev_profile *p = load("working-copy-h264");
    ev_errbuf err = { "" };
    json_t *rec = NULL;
    int rc = run(&rec, p, "h264.mov", "wc.mp4", 0, &err);
    if (rc != EV_OK)
        fail_msg("%s", err.msg);
    assert_string_equal(verdict(rec), "pass");
    const json_t *v = vstream(rec, 0);
    assert_string_equal(json_string_value(json_object_get(v, "method")), "quality-bounded");
    assert_int_equal(json_integer_value(json_object_get(v, "frames")), 50);
    assert_int_equal(json_integer_value(json_object_get(v, "output_frames")), 50);
    double ssim = json_number_value(json_object_get(json_object_get(v, "ssim"), "min"));
    double psnr = json_number_value(json_object_get(json_object_get(v, "psnr_db"), "mean"));
    assert_true(ssim > 0.95 && ssim <= 1.0);
    assert_true(psnr > 35 && psnr <= 100);
    /* AAC copied, packet-identical */
    assert_string_equal(json_string_value(json_object_get(vstream(rec, 1), "method")),
                        "packet-identical");
    const json_t *m = json_object_get(rec, "metadata");
    const json_t *loc = json_object_get(m, "location");
    assert_string_equal(json_string_value(json_object_get(loc, "status")), "kept");
    assert_string_equal(json_string_value(json_object_get(loc, "output")),
                        "+51.500712-000.124611/");
    assert_string_equal(json_string_value(json_object_get(json_object_get(m, "creation_time"),
                                                          "status")), "kept");
    json_decref(rec);

    json_t *chk = NULL;
    assert_int_equal(ev_conform__check(&chk, p, P("wc.mp4"), &err), EV_OK);
    if (strcmp(json_string_value(json_object_get(chk, "verdict")), "pass") != 0) {
        char *s = json_dumps(chk, JSON_INDENT(1));
        fail_msg("check failed: %s", s);
    }
    json_decref(chk);
    assert_int_equal(sh("ffmpeg -nostdin -xerror -v error -i wc.mp4 -f null - 2>err.txt && "
                        "test ! -s err.txt"), 0);
    /* exiftool reads the GPS from the copy (not rounded) */
    if (have_exiftool) {
        char gps[128];
        sh_out(gps, sizeof(gps), "exiftool -n -s3 -GPSCoordinates wc.mp4");
        assert_non_null(strstr(gps, "51.500712"));
    }
    ev_profile__free(p);
}

/* Quality-bounded verification catches a dropped frame (and a duplicated one). */
static void transcode_quality_catches_dropped_frame(void **state)
{
    (void)state;
    const char *ff = "ffmpeg -nostdin -v error -y";
    assert_int_equal(sh("%s -i h264.mov -map 0:v -vf \"select='not(eq(n,10))'\" -fps_mode "
                        "passthrough -c:v libx264 -crf 18 dropped.mp4", ff), 0);
    assert_int_equal(sh("%s -i h264.mov -map 0:v -c:v libx264 -crf 18 same.mp4", ff), 0);
    ev_vstream vs = { 0, 0, EV_ST_VIDEO, EV_LEVEL_QUALITY, false, AV_PIX_FMT_NONE,
                      AV_PIX_FMT_NONE, 1 };
    ev_vplan plan = { &vs, 1, 30, 35, 0.95, 0.98, 1, false };
    ev_errbuf err = { "" };
    json_t *v = NULL;
    assert_int_equal(ev_transcode__verify(&v, &plan, EV_LEVEL_QUALITY, P("h264.mov"),
                                          P("same.mp4"), NULL, &err), EV_OK);
    assert_string_equal(json_string_value(json_object_get(v, "verdict")), "pass");
    json_decref(v);
    assert_int_equal(ev_transcode__verify(&v, &plan, EV_LEVEL_QUALITY, P("h264.mov"),
                                          P("dropped.mp4"), NULL, &err), EV_OK);
    assert_string_equal(json_string_value(json_object_get(v, "verdict")), "fail");
    const json_t *s = json_array_get(json_object_get(v, "streams"), 0);
    assert_int_equal(json_integer_value(json_object_get(s, "frames")), 50);
    assert_int_equal(json_integer_value(json_object_get(s, "output_frames")), 49);
    char *txt = json_dumps(v, 0);
    assert_non_null(strstr(txt, "frame count differs"));
    free(txt);
    json_decref(v);
    /* a duplicated frame: frame 10 shown twice */
    assert_int_equal(sh("%s -i h264.mov -map 0:v -vf loop=loop=1:size=1:start=10 -c:v libx264 "
                        "-crf 18 dup.mp4", ff), 0);
    assert_int_equal(ev_transcode__verify(&v, &plan, EV_LEVEL_QUALITY, P("h264.mov"),
                                          P("dup.mp4"), NULL, &err), EV_OK);
    assert_string_equal(json_string_value(json_object_get(v, "verdict")), "fail");
    json_decref(v);
}

/* A lower quality than the profile's minimum fails. */
static void transcode_quality_threshold_enforced(void **state)
{
    (void)state;
    assert_int_equal(sh("ffmpeg -nostdin -v error -y -i h264.mov -map 0:v -c:v libx264 -crf 51 "
                        "bad.mp4"), 0);
    ev_vstream vs = { 0, 0, EV_ST_VIDEO, EV_LEVEL_QUALITY, false, AV_PIX_FMT_NONE,
                      AV_PIX_FMT_NONE, 1 };
    ev_vplan plan = { &vs, 1, 30, 35, 0.95, 0.98, 1, false };
    ev_errbuf err = { "" };
    json_t *v = NULL;
    assert_int_equal(ev_transcode__verify(&v, &plan, EV_LEVEL_QUALITY, P("h264.mov"),
                                          P("bad.mp4"), NULL, &err), EV_OK);
    assert_string_equal(json_string_value(json_object_get(v, "verdict")), "fail");
    char *txt = json_dumps(v, 0);
    assert_non_null(strstr(txt, "below the minimum"));
    free(txt);
    json_decref(v);
}

static void transcode_audio_flac_wav_and_refusals(void **state)
{
    (void)state;
    ev_profile *flac = load("audio-flac"), *wav = load("audio-wav"), *wc = load("working-copy-h264");
    ev_errbuf err = { "" };
    json_t *rec = NULL;
    /* 24-bit stays 24-bit, decoded-identical, and matches the CLI's view */
    assert_int_equal(run(&rec, flac, "s24.wav", "s24.flac", 0, &err), EV_OK);
    assert_string_equal(verdict(rec), "pass");
    assert_int_equal(json_integer_value(json_object_get(vstream(rec, 0), "samples")), 52920);
    json_decref(rec);
    char a[64], b[64];
    sh_out(a, sizeof(a), "ffmpeg -v error -i s24.wav -c:a pcm_s24le -f md5 -");
    sh_out(b, sizeof(b), "ffmpeg -v error -i s24.flac -c:a pcm_s24le -f md5 -");
    assert_string_equal(a, b);
    assert_int_equal(run(&rec, wav, "s24.flac", "back.wav", 0, &err), EV_OK);
    assert_string_equal(verdict(rec), "pass");
    json_decref(rec);
    sh_out(b, sizeof(b), "ffprobe -v error -show_entries stream=codec_name -of csv=p=0 back.wav");
    assert_string_equal(b, "pcm_s24le");
    /* float into FLAC: refused by the profile's rule */
    assert_int_equal(run(&rec, flac, "f32.wav", "f32.flac", 0, &err), EV_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "float"));
    assert_false(exists("f32.flac"));
    /* float into FLAC: refused by the engine even if a profile allows it */
    ev_profile *lax = load_text("{\"profile_format\":1,\"name\":\"lax\",\"kind\":\"av\","
                                "\"output\":{\"container\":\"flac\",\"audio\":{\"rules\":[{"
                                "\"action\":\"encode\",\"encoder\":\"flac\"}]}},"
                                "\"verification\":{\"level\":\"decoded-identical\"}}");
    assert_int_equal(run(&rec, lax, "f32.wav", "f32.flac", 0, &err), EV_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "24-bit integers"));
    /* 32-bit integers do not fit */
    assert_int_equal(run(&rec, lax, "s32.wav", "s32.flac", 0, &err), EV_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "24 bits"));
    /* audio-only into a video profile */
    assert_int_equal(run(&rec, wc, "s16.wav", "a.mp4", 0, &err), EV_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "needs a video stream"));
    /* video into an audio profile */
    assert_int_equal(run(&rec, flac, "h264.mov", "v.flac", 0, &err), EV_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "does not accept video"));
    assert_true(no_partial());
    ev_profile__free(lax);
    ev_profile__free(flac);
    ev_profile__free(wav);
    ev_profile__free(wc);
}

static void transcode_odd_dimensions(void **state)
{
    (void)state;
    ev_profile *wc = load("working-copy-h264"), *ar = load("archive-ffv1");
    ev_errbuf err = { "" };
    json_t *rec = NULL;
    assert_int_equal(run(&rec, wc, "odd.mkv", "odd.mp4", 0, &err), EV_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "65x49"));
    assert_non_null(strstr(err.msg, "without cropping"));
    assert_false(exists("odd.mp4"));
    assert_int_equal(run(&rec, ar, "odd.mkv", "odd2.mkv", 0, &err), EV_OK);
    assert_string_equal(verdict(rec), "pass");
    json_decref(rec);
    /* 1919x1079 4:2:0 into H.264 */
    write_odd_yuv("big.yuv", 1919, 1079, 1);
    assert_int_equal(sh("ffmpeg -nostdin -v error -y -f rawvideo -pix_fmt yuv420p -s 1919x1079 "
                        "-i big.yuv -c:v ffv1 big.mkv && rm -f big.yuv"), 0);
    assert_int_equal(run(&rec, wc, "big.mkv", "big.mp4", 0, &err), EV_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "1919x1079"));
    assert_false(exists("big.mp4"));
    assert_true(no_partial());
    ev_profile__free(wc);
    ev_profile__free(ar);
}

static void transcode_bad_input_leaves_nothing(void **state)
{
    (void)state;
    ev_profile *wc = load("working-copy-h264"), *ar = load("archive-ffv1"),
               *rm = load("remux-mkv"), *st = load("still-png");
    const char *ff = "ffmpeg -nostdin -v error -y";
    assert_int_equal(sh("%s -f lavfi -i testsrc2=size=160x120:rate=25 -t 2 -c:v libx264 "
                        "-preset veryfast -movflags +faststart fs.mp4 && %s -i fs.mp4 -c copy "
                        "fs.mkv", ff, ff), 0);
    assert_int_equal(sh("python3 -c \"\nfor n in ['fs.mp4','fs.mkv']:\n"
                        "  d=bytearray(open(n,'rb').read())\n"
                        "  open('trunc_'+n,'wb').write(d[:len(d)//2])\n"
                        "  for i in range(len(d)//2, len(d)//2+1500): d[i]=0xff if i%%2 else 0\n"
                        "  open('corrupt_'+n,'wb').write(d)\n\""), 0);
    assert_int_equal(sh("%s -f lavfi -i testsrc2=size=64x48 -frames:v 0 -c:v ffv1 zero.mkv", ff), 0);
    assert_int_equal(sh("head -c 700 photo.jpg > trunc.jpg && printf 'not media at all' > "
                        "text.bin && : > empty.mp4"), 0);
    static const struct { const char *in; int want; const char *msg; } cases[] = {
        { "trunc_fs.mp4", EV_EFORMAT, "truncated" },
        { "trunc_fs.mkv", EV_EFORMAT, "truncated" },
        { "corrupt_fs.mp4", EV_EFORMAT, "damaged" },
        { "corrupt_fs.mkv", EV_EFORMAT, "damaged" },
        { "zero.mkv", EV_EFORMAT, "before any media data" },
        { "text.bin", EV_EFORMAT, "not a media file" },
        { "empty.mp4", EV_EFORMAT, "" },
        { "missing.mp4", EV_ENOTFOUND, "missing.mp4" },
    };
    ev_profile *ps[] = { wc, ar, rm };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t k = 0; k < 3; k++) {
            ev_errbuf err = { "" };
            json_t *rec = NULL;
            /* a remux refuses the damage too (NAL unit lengths that do not
             * tile the packet; a Matroska cluster failing its CRC-32) */
            int rc = run(&rec, ps[k], cases[i].in, "bad.out", 0, &err);
            if (rc != cases[i].want || !strstr(err.msg, cases[i].msg))
                fail_msg("%s with %s: rc %d (want %d), message '%s'", cases[i].in, ps[k]->name,
                         rc, cases[i].want, err.msg);
            assert_null(rec);
            assert_false(exists("bad.out"));
            assert_true(no_partial());
        }
    }
    ev_errbuf err = { "" };
    json_t *rec = NULL;
    assert_int_not_equal(run(&rec, st, "trunc.jpg", "bad.png", 0, &err), EV_OK);
    assert_false(exists("bad.png"));
    assert_int_equal(run(&rec, st, "h264.mov", "bad.png", 0, &err), EV_EUNSUPPORTED);
    assert_true(no_partial());
    ev_profile__free(wc);
    ev_profile__free(ar);
    ev_profile__free(rm);
    ev_profile__free(st);
}

/* SHA-256 through the source reader, with the demuxer's reads replaced by a
 * pattern of reads and seeks given as (offset, length) pairs (offset -1 =
 * go on from where the last read stopped). */
static uint64_t last_own_reads; /* bytes the reader's thread read itself */

static int reader_sha(char hex[65], uint64_t *size, const char *name, const int64_t *pat,
                      size_t n, bool crc, ev_errbuf *err)
{
    ev_srcread *s = NULL;
    int rc = ev_transcode__srcread_open(&s, P(name), crc, err);
    if (rc != EV_OK)
        return rc;
    AVIOContext *pb = ev_transcode__srcread_pb(s);
    static uint8_t buf[3 << 20];
    for (size_t i = 0; i + 1 < n; i += 2) {
        if (pat[i] >= 0)
            assert_true(avio_seek(pb, pat[i], SEEK_SET) >= 0);
        int64_t want = pat[i + 1] < 0 ? (int64_t)sizeof(buf) : pat[i + 1];
        while (want > 0) {
            int got = avio_read(pb, buf, (int)(want < (int64_t)sizeof(buf) ? want
                                                                           : (int64_t)sizeof(buf)));
            if (got <= 0)
                break;
            want -= got;
            if (pat[i + 1] < 0)
                want = (int64_t)sizeof(buf); /* to the end */
        }
    }
    rc = ev_transcode__srcread_finish(s, hex, size, err);
    last_own_reads = ev_transcode__srcread_own_reads(s);
    ev_transcode__srcread_free(s);
    return rc;
}

static void transcode_source_reader(void **state)
{
    (void)state;
    /* 5.5 MB of noise: crosses the reader's 1 MiB chunks and its ring */
    assert_int_equal(sh("head -c 5767169 /dev/urandom > noise.bin"), 0);
    char want[65], got[65];
    uint64_t wsize = 0, gsize = 0;
    ev_errbuf err = { "" };
    assert_int_equal(ev_transcode__file_sha256(want, &wsize, P("noise.bin"), &err), EV_OK);
    const int64_t seq[] = { -1, -1 };
    const int64_t none[] = { 0, 0 };
    const int64_t jumpy[] = { 0, 100000, 5000000, 300000, 200000, 3000000, -1, 10,
                              4096, 77, -1, -1 };
    const int64_t index_at_end[] = { 0, 40, 5600000, -1, 40, -1 };
    const int64_t rereads[] = { 0, 2500000, 1000000, 2000000, -1, -1, 0, 10 };
    /* and how much of the file the thread had to read itself: nothing when
     * the demuxer reads it all in order, or jumps to an index at the end and
     * comes back; the rest when the demuxer read nothing */
    const struct { const int64_t *p; size_t n; int64_t own_max; } pats[] = {
        { seq, 2, 0 }, { none, 2, 5767169 }, { jumpy, 12, 5767169 },
        { index_at_end, 6, 0 }, { rereads, 8, 0 },
    };
    for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
        assert_int_equal(reader_sha(got, &gsize, "noise.bin", pats[i].p, pats[i].n, true, &err),
                         EV_OK);
        if (strcmp(got, want) != 0 || gsize != wsize)
            fail_msg("pattern %zu: %s (%llu bytes), want %s (%llu)", i, got,
                     (unsigned long long)gsize, want, (unsigned long long)wsize);
        if (last_own_reads > (uint64_t)pats[i].own_max)
            fail_msg("pattern %zu: the thread read %llu bytes itself (at most %lld expected)", i,
                     (unsigned long long)last_own_reads, (long long)pats[i].own_max);
    }
    /* stopped before finishing (a refusal): the thread ends, nothing leaks */
    ev_srcread *s = NULL;
    assert_int_equal(ev_transcode__srcread_open(&s, P("noise.bin"), false, &err), EV_OK);
    uint8_t b[4096];
    assert_int_equal(avio_read(ev_transcode__srcread_pb(s), b, sizeof(b)), (int)sizeof(b));
    ev_transcode__srcread_free(s);
    assert_int_equal(ev_transcode__srcread_open(&s, P("missing.bin"), false, &err),
                     EV_ENOTFOUND);

    /* Matroska: intact, then the structure walk and the CRC-32 check */
    const char *ff = "ffmpeg -nostdin -v error -y";
    assert_int_equal(sh("%s -f lavfi -i testsrc2=size=160x120:rate=25 -t 2 -c:v libx264 "
                        "-preset veryfast -g 10 walk.mkv", ff), 0);
    assert_int_equal(ev_transcode__file_sha256(want, NULL, P("walk.mkv"), &err), EV_OK);
    assert_int_equal(reader_sha(got, &gsize, "walk.mkv", seq, 2, true, &err), EV_OK);
    assert_string_equal(got, want);
    static const struct { const char *py; bool crc; const char *msg; } bad[] = {
        /* cut short: the segment, then a cluster, claim more than the file */
        { "d = d[:len(d) * 2 // 3]", false, "Matroska Segment claims" },
        /* an element ID zeroed just after the first cluster's header */
        { "i = d.index(bytes([0x1f, 0x43, 0xb6, 0x75])); d[i + 12] = 0", false,
          "Matroska element" },
        /* payload bytes changed near the end: only the CRC-32 sees it */
        { "i = d.rindex(bytes([0x1f, 0x43, 0xb6, 0x75]))\nfor k in range(i + 300, i + 340): "
          "d[k] ^= 0x33", true, "fails its CRC-32 check" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sh("python3 -c \"d = bytearray(open('walk.mkv', 'rb').read())\n%s\n"
                            "open('walk-bad.mkv', 'wb').write(d)\"", bad[i].py), 0);
        err.msg[0] = '\0';
        int rc = reader_sha(got, &gsize, "walk-bad.mkv", seq, 2, bad[i].crc, &err);
        if (rc != EV_EFORMAT || !strstr(err.msg, bad[i].msg) || !strstr(err.msg, "at byte"))
            fail_msg("damage %zu: rc %d, '%s'", i, rc, err.msg);
        /* without the CRC check, payload damage is not seen by the walk */
        if (bad[i].crc)
            assert_int_equal(reader_sha(got, &gsize, "walk-bad.mkv", seq, 2, false, &err),
                             EV_OK);
    }
}

static void transcode_output_rules(void **state)
{
    (void)state;
    ev_profile *m = load("master");
    ev_errbuf err = { "" };
    json_t *rec = NULL;
    ev_transcode__opts o = { 0, 0, NULL, NULL, 0, 0 };
    assert_int_equal(ev_transcode__run(&rec, m, P("s16.wav"), P("s16.wav"), &o, &err), EV_EINVAL);
    assert_int_equal(run(&rec, m, "s16.wav", "copy.wav", 0, &err), EV_OK);
    assert_string_equal(verdict(rec), "pass");
    json_decref(rec);
    assert_int_equal(ev_transcode__run(&rec, m, P("s16.wav"), P("copy.wav"), &o, &err),
                     EV_EEXISTS);
    o.flags = EV_TRANSCODE__OVERWRITE;
    assert_int_equal(ev_transcode__run(&rec, m, P("s16.wav"), P("copy.wav"), &o, &err), EV_OK);
    json_decref(rec);
    o.flags = 0;
    assert_int_equal(ev_transcode__run(&rec, m, P("s16.wav"), P("no/such/dir/x.wav"), &o, &err),
                     EV_EIO);
    assert_non_null(strstr(err.msg, "cannot create"));
    ev_profile__free(m);
}

static void transcode_remux_packet_identical_and_fallback(void **state)
{
    (void)state;
    ev_profile *mkv = load("remux-mkv"), *mp4 = load("remux-mp4");
    ev_errbuf err = { "" };
    json_t *rec = NULL;
    assert_int_equal(run(&rec, mkv, "h264.mov", "r.mkv", 0, &err), EV_OK);
    assert_string_equal(verdict(rec), "pass");
    assert_string_equal(json_string_value(json_object_get(vstream(rec, 0), "method")),
                        "packet-identical");
    const json_t *loc = json_object_get(json_object_get(rec, "metadata"), "location");
    assert_string_equal(json_string_value(json_object_get(loc, "status")), "kept");
    json_decref(rec);
    /* MPEG-TS (Annex B, ADTS) into MP4: H.264's start codes become length
     * prefixes, its NAL units are compared; ADTS AAC falls back to decoded */
    assert_int_equal(run(&rec, mp4, "h264.ts", "r.mp4", 0, &err), EV_OK);
    assert_string_equal(verdict(rec), "pass");
    assert_string_equal(json_string_value(json_object_get(vstream(rec, 0), "method")),
                        "packet-identical (NAL units)");
    json_decref(rec);
    /* MP4 cannot carry raw video: refused */
    assert_int_equal(run(&rec, mp4, "y8.mkv", "raw.mp4", 0, &err), EV_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "cannot carry"));
    ev_profile__free(mkv);
    ev_profile__free(mp4);
}

/* Packet verification catches a changed packet. */
static void transcode_packet_mismatch_detected(void **state)
{
    (void)state;
    ev_profile *mkv = load("remux-mkv");
    ev_errbuf err = { "" };
    json_t *rec = NULL;
    assert_int_equal(run(&rec, mkv, "h264.mov", "pm.mkv", 0, &err), EV_OK);
    /* re-encode one stream to get different packets with the same timing */
    assert_int_equal(sh("ffmpeg -nostdin -v error -y -i pm.mkv -map 0 -c:v libx264 -crf 30 "
                        "-c:a copy pm2.mkv"), 0);
    ev_vstream vs[2] = { { 0, 0, EV_ST_VIDEO, EV_LEVEL_PACKET, false, AV_PIX_FMT_NONE,
                           AV_PIX_FMT_NONE, 1 },
                         { 1, 1, EV_ST_AUDIO, EV_LEVEL_PACKET, false, AV_PIX_FMT_NONE,
                           AV_PIX_FMT_NONE, 1 } };
    ev_vplan plan = { vs, 2, 0, 0, 0, 0, 1, false };
    json_t *v = NULL;
    assert_int_equal(ev_transcode__verify(&v, &plan, EV_LEVEL_PACKET, P("h264.mov"),
                                          P("pm2.mkv"), NULL, &err), EV_OK);
    assert_string_equal(json_string_value(json_object_get(v, "verdict")), "fail");
    const json_t *s0 = json_array_get(json_object_get(v, "streams"), 0);
    const json_t *s1 = json_array_get(json_object_get(v, "streams"), 1);
    assert_string_equal(json_string_value(json_object_get(s0, "result")), "fail");
    assert_string_equal(json_string_value(json_object_get(s1, "result")), "pass");
    assert_int_equal(json_integer_value(json_object_get(s0, "first_mismatch_packets")), 0);
    json_decref(v);
    json_decref(rec);
    ev_profile__free(mkv);
}

/* Annex B H.264 into MP4 (cctv-playable): NAL units compared; a changed
 * byte inside one frame's slice is found, and only that frame; a stated
 * rate is parsed exactly, and version 1 options are still accepted. */
static void transcode_cctv_nal_units_and_rates(void **state)
{
    (void)state;
    ev_profile *cp = load("cctv-playable");
    ev_errbuf err = { "" };
    json_t *rec = NULL;
    assert_int_equal(sh("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=s=64x48:r=25:d=2 "
                        "-c:v libx264 -preset ultrafast -bf 0 -g 25 -f h264 cctv.264"), 0);
    /* no rate: refused, saying what is missing */
    assert_int_equal(run(&rec, cp, "cctv.264", "cctv.mp4", 0, &err), EV_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "has no timestamps (raw H.264 elementary stream)"));
    ev_transcode__opts o = { 0, 0, NULL, NULL, 25, 2 };
    unlink(P("cctv.mp4"));
    assert_int_equal(ev_transcode__run(&rec, cp, P("cctv.264"), P("cctv.mp4"), &o, &err), EV_OK);
    assert_string_equal(verdict(rec), "pass");
    assert_string_equal(json_string_value(json_object_get(vstream(rec, 0), "method")),
                        "packet-identical (NAL units)");
    const json_t *tm = json_object_get(json_array_get(json_object_get(json_object_get(rec,
                                       "settings"), "streams"), 0), "timing");
    assert_string_equal(json_string_value(json_object_get(tm, "source")), "assumed");
    assert_string_equal(json_string_value(json_object_get(tm, "fps")), "25/2");
    json_decref(rec);
    /* flip one byte in the middle of frame 10's slice, in the copy */
    assert_int_equal(sh("python3 -c \"import subprocess,sys; "
                        "o=subprocess.run(['ffprobe','-v','error','-show_entries','packet=pos,size',"
                        "'-of','csv=p=0','cctv.mp4'],capture_output=True,text=True).stdout.split();"
                        "sz,pos=map(int,o[10].split(',')); d=bytearray(open('cctv.mp4','rb').read());"
                        "d[pos+sz-3]^=0x10; open('bad.mp4','wb').write(d)\""), 0);
    ev_vstream vs = { 0, 0, EV_ST_VIDEO, EV_LEVEL_PACKET, false, AV_PIX_FMT_NONE,
                      AV_PIX_FMT_NONE, 1, true };
    ev_vplan plan = { &vs, 1, 0, 0, 0, 0, 1, false };
    json_t *v = NULL;
    assert_int_equal(ev_transcode__verify(&v, &plan, EV_LEVEL_PACKET, P("cctv.264"),
                                          P("cctv.mp4"), NULL, &err), EV_OK);
    assert_string_equal(json_string_value(json_object_get(v, "verdict")), "pass");
    json_decref(v);
    assert_int_equal(ev_transcode__verify(&v, &plan, EV_LEVEL_PACKET, P("cctv.264"),
                                          P("bad.mp4"), NULL, &err), EV_OK);
    assert_string_equal(json_string_value(json_object_get(v, "verdict")), "fail");
    const json_t *s0 = json_array_get(json_object_get(v, "streams"), 0);
    assert_int_equal(json_integer_value(json_object_get(s0, "mismatched_packets")), 1);
    assert_int_equal(json_integer_value(json_object_get(s0, "first_mismatch_packets")), 10);
    json_decref(v);
    /* without NAL units the packets' framing differs everywhere */
    vs.nal_units = false;
    assert_int_equal(ev_transcode__verify(&v, &plan, EV_LEVEL_PACKET, P("cctv.264"),
                                          P("cctv.mp4"), NULL, &err), EV_OK);
    assert_string_equal(json_string_value(json_object_get(v, "verdict")), "fail");
    json_decref(v);
    ev_profile__free(cp);

    /* rates as people write them */
    ev_transcode_options to;
    assert_int_equal(ev_transcode_options_init(&to, EV_TRANSCODE_OPTIONS_VERSION), EV_OK);
    static const struct { const char *in; unsigned num, den; } good[] = {
        { "12.5", 25, 2 }, { "25", 25, 1 }, { "30000/1001", 30000, 1001 }, { "1000", 1000, 1 },
        { "0.5", 1, 2 }, { "29.97", 2997, 100 }, { "50/2", 25, 1 } };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(ev_transcode_options_assume_fps(&to, good[i].in), EV_OK);
        assert_int_equal(to.assume_fps_num, good[i].num);
        assert_int_equal(to.assume_fps_den, good[i].den);
    }
    static const char *const bad[] = { "0", "-1", "nan", "NaN", "inf", "1001", "1e3", "", ".5",
                                       "5.", "12.5.1", "25/0", "0/1", "1/0", " 25", "25 ",
                                       "2001/2", "1.0000001", "99999999999" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ev_transcode_options_assume_fps(&to, bad[i]), EV_EINVAL);
    assert_int_equal(to.assume_fps_num, 25); /* unchanged by a refusal */
    /* version 1: the struct before the rate; init and new accept it */
    ev_transcode_options v1;
    memset(&v1, 0xAA, sizeof(v1));
    assert_int_equal(ev_transcode_options_init(&v1, 1), EV_OK);
    assert_int_equal(v1.assume_fps_num, 0xAAAAAAAAu); /* not written: not part of version 1 */
    ev_transcode *t = NULL;
    assert_int_equal(ev_transcode_new(&t, &v1), EV_OK);
    ev_transcode_free(t);
    assert_int_equal(ev_transcode_options_assume_fps(&v1, "25"), EV_EINVAL);
    v1.version = 3;
    assert_int_equal(ev_transcode_new(&t, &v1), EV_EVERSION);
    assert_int_equal(ev_transcode_options_init(&v1, 3), EV_EVERSION);
}

static void transcode_still_png_exif(void **state)
{
    (void)state;
    if (!have_exiftool)
        skip();
    ev_profile *st = load("still-png");
    ev_errbuf err = { "" };
    json_t *rec = NULL;
    assert_int_equal(run(&rec, st, "photo.jpg", "photo.png", 0, &err), EV_OK);
    assert_string_equal(verdict(rec), "pass");
    const json_t *ex = json_object_get(json_object_get(rec, "metadata"), "exif");
    assert_true(json_is_true(json_object_get(ex, "identical")));
    json_decref(rec);
    /* the EXIF block in the PNG is the JPEG's, byte for byte */
    uint8_t *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    assert_int_equal(ev_transcode__file_exif(&a, &al, P("photo.jpg"), &err), EV_OK);
    assert_int_equal(ev_transcode__file_exif(&b, &bl, P("photo.png"), &err), EV_OK);
    assert_non_null(a);
    assert_int_equal(al, bl);
    assert_memory_equal(a, b, al);
    free(a);
    free(b);
    char v[128];
    sh_out(v, sizeof(v), "exiftool -s3 -n -GPSLatitude -Orientation photo.png | tr '\\n' ' '");
    assert_string_equal(v, "51.500712 6 ");
    /* Orientation applied: pixels turned, tag reset to 1, only allowed tags change */
    ev_profile *ap = load_text(
        "{\"profile_format\":1,\"name\":\"still-apply\",\"kind\":\"still\","
        "\"output\":{\"container\":\"png\",\"video\":{\"rules\":[{\"action\":\"encode\","
        "\"encoder\":\"png\",\"fallback_pix_fmt\":\"rgb24\"}]}},"
        "\"metadata\":{\"orientation\":\"apply\"},"
        "\"verification\":{\"level\":\"decoded-identical\"}}");
    assert_int_equal(run(&rec, ap, "photo.jpg", "turned.png", 0, &err), EV_OK);
    assert_string_equal(verdict(rec), "pass");
    sh_out(v, sizeof(v), "exiftool -s3 -n -Orientation -ImageWidth -ImageHeight turned.png | "
           "tr '\\n' ' '");
    assert_string_equal(v, "1 64 96 ");
    /* pixels: the unturned copy rotated 90 degrees clockwise by the CLI */
    char x[128], y[128];
    sh_out(x, sizeof(x), "ffmpeg -v error -i photo.png -vf transpose=clock -f framemd5 - | tail -1 "
           "| awk '{print $NF}'");
    sh_out(y, sizeof(y), "ffmpeg -v error -i turned.png -f framemd5 - | tail -1 | awk '{print $NF}'");
    assert_true(strlen(x) == 32);
    assert_string_equal(x, y);
    json_decref(rec);
    ev_profile__free(ap);
    ev_profile__free(st);
}

static void transcode_recheck_detects_changes(void **state)
{
    (void)state;
    ev_profile *ar = load("archive-ffv1");
    ev_errbuf err = { "" };
    json_t *rec = NULL, *r = NULL;
    assert_int_equal(sh("cp y8.mkv master.mkv"), 0);
    assert_int_equal(run(&rec, ar, "master.mkv", "arch.mkv", 0, &err), EV_OK);
    assert_int_equal(ev_transcode__recheck(&r, rec, P("master.mkv"), P("arch.mkv"), &err), EV_OK);
    assert_string_equal(json_string_value(json_object_get(r, "verdict")), "pass");
    json_decref(r);
    /* change one pixel byte of the raw video master: both the hash and the
     * decoded comparison notice */
    assert_int_equal(sh("python3 -c \"\nd=bytearray(open('master.mkv','rb').read())\n"
                        "d[len(d)//2]^=0x01\nopen('master.mkv','wb').write(d)\""), 0);
    int rc = ev_transcode__recheck(&r, rec, P("master.mkv"), P("arch.mkv"), &err);
    if (rc == EV_OK) {
        assert_string_equal(json_string_value(json_object_get(r, "verdict")), "fail");
        assert_false(json_is_true(json_object_get(r, "source_sha256_match")));
        assert_true(json_is_true(json_object_get(r, "output_sha256_match")));
        json_decref(r);
    } else {
        assert_int_equal(rc, EV_EFORMAT); /* the flip hit the container structure */
    }
    json_t *bad = json_pack("{s:s}", "format", "something.else");
    assert_int_equal(ev_transcode__recheck(&r, bad, P("master.mkv"), P("arch.mkv"), &err),
                     EV_EFORMAT);
    json_decref(bad);
    json_decref(rec);
    ev_profile__free(ar);
}

static void transcode_conform_ffv1_crc_damage(void **state)
{
    (void)state;
    ev_profile *ar = load("archive-ffv1");
    ev_errbuf err = { "" };
    json_t *rec = NULL, *c = NULL;
    assert_int_equal(run(&rec, ar, "y8.mkv", "crc.mkv", 0, &err), EV_OK);
    json_decref(rec);
    assert_int_equal(ev_conform__check(&c, ar, P("crc.mkv"), &err), EV_OK);
    assert_string_equal(json_string_value(json_object_get(c, "verdict")), "pass");
    json_decref(c);
    /* flip a byte in the middle of the file: a slice CRC fails */
    assert_int_equal(sh("python3 -c \"\nd=bytearray(open('crc.mkv','rb').read())\n"
                        "d[len(d)//2]^=0x10\nopen('crc_bad.mkv','wb').write(d)\""), 0);
    assert_int_equal(ev_conform__check(&c, ar, P("crc_bad.mkv"), &err), EV_OK);
    assert_string_equal(json_string_value(json_object_get(c, "verdict")), "fail");
    char *txt = json_dumps(c, 0);
    assert_non_null(strstr(txt, "\"check\": \"ffv1_slice_crc\""));
    assert_non_null(strstr(txt, "CRC mismatch"));
    free(txt);
    json_decref(c);
    /* an unreadable file is an error, not a failed check */
    assert_int_equal(ev_conform__check(&c, ar, P("nope.mkv"), &err), EV_ENOTFOUND);
    assert_null(c);
    ev_profile__free(ar);
}

static void transcode_ffv1_config_parser(void **state)
{
    (void)state;
    ev_ffv1_config cfg;
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    assert_int_not_equal(ev_conform__ffv1_config(&cfg, junk, 3), EV_OK);
    (void)ev_conform__ffv1_config(&cfg, junk, sizeof(junk)); /* must not crash */
    int n, bad;
    assert_int_equal(ev_conform__ffv1_slices(&n, &bad, junk, sizeof(junk), true), EV_EFORMAT);
    /* a hand-made chain of two slices with 3-byte trailers (size of the
     * slice without its trailer, big-endian) */
    uint8_t chain[9] = { 0xAA, 0x00, 0x00, 0x01, 0xBB, 0xCC, 0x00, 0x00, 0x02 };
    assert_int_equal(ev_conform__ffv1_slices(&n, &bad, chain, sizeof(chain), false), EV_OK);
    assert_int_equal(n, 2);
    assert_int_equal(bad, 0);
    /* read as a chain with CRCs, it is one slice whose CRC does not verify */
    assert_int_equal(ev_conform__ffv1_slices(&n, &bad, chain, sizeof(chain), true), EV_OK);
    assert_int_equal(n, 1);
    assert_int_equal(bad, 1);
}

static void transcode_orient_and_quality_helpers(void **state)
{
    (void)state;
    AVFrame *f = av_frame_alloc();
    f->format = AV_PIX_FMT_GRAY8;
    f->width = 3;
    f->height = 2;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    /* 0 1 2 / 3 4 5 */
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++)
            f->data[0][y * f->linesize[0] + x] = (uint8_t)(y * 3 + x);
    static const uint8_t want[9][6] = {
        { 0 }, { 0, 1, 2, 3, 4, 5 }, { 2, 1, 0, 5, 4, 3 }, { 5, 4, 3, 2, 1, 0 },
        { 3, 4, 5, 0, 1, 2 }, { 0, 3, 1, 4, 2, 5 }, { 3, 0, 4, 1, 5, 2 },
        { 5, 2, 4, 1, 3, 0 }, { 2, 5, 1, 4, 0, 3 },
    };
    for (int o = 1; o <= 8; o++) {
        AVFrame *r = NULL;
        assert_int_equal(ev_transcode__orient(&r, f, o), EV_OK);
        int w = o >= 5 ? 2 : 3;
        assert_int_equal(r->width, w);
        for (int i = 0; i < 6; i++)
            if (r->data[0][(i / w) * r->linesize[0] + i % w] != want[o][i])
                fail_msg("orientation %d: pixel %d is %d, want %d", o, i,
                         r->data[0][(i / w) * r->linesize[0] + i % w], want[o][i]);
        av_frame_free(&r);
    }
    av_frame_free(&f);

    AVFrame *a = av_frame_alloc(), *b = av_frame_alloc();
    a->format = b->format = AV_PIX_FMT_YUV420P;
    a->width = b->width = 64;
    a->height = b->height = 48;
    assert_int_equal(av_frame_get_buffer(a, 0), 0);
    assert_int_equal(av_frame_get_buffer(b, 0), 0);
    for (int p = 0; p < 3; p++) {
        int h = p ? 24 : 48, w = p ? 32 : 64;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                a->data[p][y * a->linesize[p] + x] = b->data[p][y * b->linesize[p] + x] =
                    (uint8_t)(x * 4 + y);
    }
    double psnr, ssim;
    assert_int_equal(ev_transcode__quality(&psnr, &ssim, a, b), EV_OK);
    assert_true(psnr == 100.0);
    assert_true(ssim > 0.9999);
    b->data[0][5 * b->linesize[0] + 5] ^= 0x40;
    assert_int_equal(ev_transcode__quality(&psnr, &ssim, a, b), EV_OK);
    assert_true(psnr < 60 && psnr > 30);
    assert_true(ssim < 1.0);
    av_frame_free(&a);
    av_frame_free(&b);
}

static void transcode_png_exif_chunk(void **state)
{
    (void)state;
    assert_int_equal(sh("ffmpeg -nostdin -v error -y -f lavfi -i color=red:size=8x8 -frames:v 1 "
                        "plain.png"), 0);
    size_t n = 0;
    uint8_t *png = tu_read(P("plain.png"), &n);
    assert_non_null(png);
    static const uint8_t exif[] = { 'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    assert_int_equal(ev_transcode__png_add_exif(&png, &n, exif, sizeof(exif)), EV_OK);
    assert_int_equal(tu_write(P("withexif.png"), png, n), 0);
    free(png);
    uint8_t *got = NULL;
    size_t gl = 0;
    ev_errbuf err;
    assert_int_equal(ev_transcode__file_exif(&got, &gl, P("withexif.png"), &err), EV_OK);
    assert_int_equal(gl, sizeof(exif));
    assert_memory_equal(got, exif, gl);
    free(got);
    /* the PNG still decodes (CRC of the new chunk is right) */
    assert_int_equal(sh("ffmpeg -nostdin -v error -xerror -i withexif.png -f null - 2>e.txt && "
                        "test ! -s e.txt && pngcheck -q withexif.png 2>/dev/null; true"), 0);
    uint8_t notpng[40] = { 0 };
    uint8_t *np = malloc(sizeof(notpng));
    memcpy(np, notpng, sizeof(notpng));
    size_t nl = sizeof(notpng);
    assert_int_equal(ev_transcode__png_add_exif(&np, &nl, exif, sizeof(exif)), EV_EFORMAT);
    free(np);
}

/* Stored locations are read from the boxes, not FFmpeg's rendering, and
 * compared by value: kept, rounded (with the step), changed. */
static bool load_loc(ev_tc_loc *l, const char *name)
{
    AVFormatContext *fc = NULL;
    ev_errbuf err;
    assert_int_equal(ev_transcode__open_input(&fc, P(name), &err), EV_OK);
    bool found = ev_transcode__stored_location(l, fc, P(name));
    avformat_close_input(&fc);
    return found;
}

static const char *loc_status(const ev_tc_loc *a, const ev_tc_loc *b, json_t *probs,
                              double *prec)
{
    static char st[32];
    json_t *r = ev_transcode__location_report(a, b, probs, true);
    assert_non_null(r);
    snprintf(st, sizeof(st), "%s", json_string_value(json_object_get(r, "status")));
    *prec = json_real_value(json_object_get(r, "precision_deg"));
    json_decref(r);
    return st;
}

static void transcode_stored_location(void **state)
{
    (void)state;
    const char *v = "-f lavfi -i testsrc2=size=32x32:rate=5 -t 0.4 -c:v libx264 -preset ultrafast "
                    "-pix_fmt yuv420p";
    assert_int_equal(sh("ffmpeg -nostdin -v error -y %s -metadata location=+52.369293+004.894512/ "
                        "loc-xyz.mov && "
                        "ffmpeg -nostdin -v error -y %s -metadata location=+52.369293+004.894512/ "
                        "loc-loci.mp4 && "
                        "ffmpeg -nostdin -v error -y %s -metadata location=+52.3693+004.8945/ "
                        "loc-4dec.mkv && "
                        "ffmpeg -nostdin -v error -y %s -metadata location=+48.858370+002.294481/ "
                        "loc-other.mkv && "
                        "ffmpeg -nostdin -v error -y %s -movflags +use_metadata_tags -metadata "
                        "com.apple.quicktime.location.ISO6709=+52.369293+004.894512+010.000/ "
                        "loc-mdta.mp4 && "
                        "ffmpeg -nostdin -v error -y %s loc-none.mp4", v, v, v, v, v, v), 0);
    ev_tc_loc xyz, loci, dec4, other, mdta, none;
    assert_true(load_loc(&xyz, "loc-xyz.mov"));
    assert_true(load_loc(&loci, "loc-loci.mp4"));
    assert_true(load_loc(&dec4, "loc-4dec.mkv"));
    assert_true(load_loc(&other, "loc-other.mkv"));
    assert_true(load_loc(&mdta, "loc-mdta.mp4"));
    assert_false(load_loc(&none, "loc-none.mp4"));
    assert_string_equal(xyz.from, "quicktime:udta:\xc2\xa9xyz");
    assert_string_equal(xyz.raw, "+52.369293+004.894512/");
    assert_string_equal(loci.format, "3gpp-loci-16.16");
    /* 3432073/65536 and 320766/65536 exactly (FFmpeg's muxer truncates 52.369293 *
     * 65536; its demuxer shows +52.3693+004.8945) */
    assert_string_equal(loci.raw, "+52.3692779541015625+004.894500732421875/");
    assert_string_equal(mdta.from, "quicktime:mdta:com.apple.quicktime.location.ISO6709");
    assert_string_equal(mdta.raw, "+52.369293+004.894512+010.000/");
    assert_string_equal(dec4.from, "matroska:tag:LOCATION");

    json_t *probs = json_array();
    double prec = 0;
    assert_string_equal(loc_status(&xyz, &xyz, probs, &prec), "kept");
    assert_string_equal(loc_status(&xyz, &loci, probs, &prec), "rounded");
    assert_true(prec == 1.0 / 65536.0);
    assert_string_equal(loc_status(&loci, &dec4, probs, &prec), "rounded");
    assert_true(fabs(prec - 1e-4) < 1e-15);
    assert_string_equal(loc_status(&xyz, &other, probs, &prec), "changed");
    assert_int_equal(json_array_size(probs), 3); /* a verbatim profile fails on each */
    /* the same value in another stored form is kept */
    ev_tc_loc as_iso = loci;
    snprintf(as_iso.format, sizeof(as_iso.format), "iso6709");
    assert_string_equal(loc_status(&loci, &as_iso, probs, &prec), "kept");
    assert_string_equal(loc_status(&xyz, NULL, probs, &prec), "dropped");
    assert_string_equal(loc_status(NULL, &xyz, probs, &prec), "added");
    assert_string_equal(loc_status(NULL, NULL, probs, &prec), "absent");
    assert_int_equal(json_array_size(probs), 3);
    json_decref(probs);

    char buf[96];
    ev_transcode__iso6709_format(buf, sizeof(buf), -0.5, -120.25, true, 12.5, 6);
    assert_string_equal(buf, "-00.5-120.25+12.5/");
    ev_transcode__iso6709_format(buf, sizeof(buf), 1, 2, false, 0, 4);
    assert_string_equal(buf, "+01+002/");
}

static void transcode_public_api(void **state)
{
    (void)state;
    ev_transcode *t = NULL;
    ev_transcode_options o;
    assert_int_equal(ev_transcode_options_init(&o, 99), EV_EVERSION);
    assert_int_equal(ev_transcode_options_init(&o, EV_TRANSCODE_OPTIONS_VERSION), EV_OK);
    o.version = 7;
    assert_int_equal(ev_transcode_new(&t, &o), EV_EVERSION);
    assert_null(t);
    o.version = EV_TRANSCODE_OPTIONS_VERSION;
    o.flags = 0x100;
    assert_int_equal(ev_transcode_new(&t, &o), EV_EINVAL);
    o.flags = EV_TRANSCODE_NO_VERIFY;
    assert_int_equal(ev_transcode_new(&t, &o), EV_OK);
    ev_profile_catalog *c = NULL;
    assert_int_equal(ev_profile_catalog_new(&c), EV_OK);
    assert_int_equal(ev_profile_catalog_add_dir(c, profiles), EV_OK);
    const ev_profile *p = NULL;
    assert_int_equal(ev_profile_catalog_find(&p, c, "audio-wav"), EV_OK);
    unlink(P("api.wav"));
    assert_int_equal(ev_transcode_run(t, p, P("s16.wav"), P("api.wav")), EV_OK);
    assert_int_equal(ev_transcode_verdict_get(t), EV_TRANSCODE_NOT_VERIFIED);
    assert_non_null(strstr(ev_transcode_result_json(t), "\"not-run\""));
    assert_int_equal(ev_transcode_run(t, p, P("nothing.wav"), P("api2.wav")), EV_ENOTFOUND);
    assert_null(ev_transcode_result_json(t));
    assert_non_null(strstr(ev_transcode_last_error(t), "nothing.wav"));
    assert_int_equal(ev_transcode_check(t, p, P("api.wav")), EV_OK);
    assert_int_equal(ev_transcode_verdict_get(t), EV_TRANSCODE_PASS);
    assert_int_equal(ev_transcode_recheck(t, "{not json", P("s16.wav"), P("api.wav")),
                     EV_EFORMAT);
    ev_transcode_free(t);
    ev_transcode_free(NULL);
    ev_profile_catalog_free(c);
}

/* ev_transcode_result_text() and ev_transcode_problem*(): the text of a
 * run, a check and a recheck, and the problems of a failed recheck. */
static void transcode_result_text(void **state)
{
    (void)state;
    ev_transcode *t = NULL;
    assert_int_equal(ev_transcode_new(&t, NULL), EV_OK);
    assert_null(ev_transcode_result_text(t));
    assert_int_equal(ev_transcode_problem_count(t), 0);
    assert_null(ev_transcode_problem(t, 0));
    assert_int_equal(ev_transcode_problem_count(NULL), 0);
    ev_profile_catalog *c = NULL;
    assert_int_equal(ev_profile_catalog_new(&c), EV_OK);
    assert_int_equal(ev_profile_catalog_add_dir(c, profiles), EV_OK);
    const ev_profile *p = NULL;
    assert_int_equal(ev_profile_catalog_find(&p, c, "audio-wav"), EV_OK);
    char out[1100], want[2400];
    snprintf(out, sizeof(out), "%s", P("text.wav"));
    unlink(out);
    assert_int_equal(ev_transcode_run(t, p, P("s16.wav"), out), EV_OK);
    snprintf(want, sizeof(want), "%s: made with profile audio-wav (decoded-identical): pass\n"
             "  stream 0->0 audio ", out);
    const char *txt = ev_transcode_result_text(t);
    assert_non_null(txt);
    assert_true(strncmp(txt, want, strlen(want)) == 0);
    assert_int_equal(txt[strlen(txt) - 1], '\n');
    assert_int_equal(ev_transcode_problem_count(t), 0);
    char *record = strdup(ev_transcode_result_json(t));
    assert_non_null(record);

    assert_int_equal(ev_transcode_check(t, p, out), EV_OK);
    txt = ev_transcode_result_text(t);
    snprintf(want, sizeof(want), "\n%s: pass against audio-wav (", out);
    assert_non_null(strstr(txt, want));
    assert_true(strncmp(txt, "pass  container ", 16) == 0);

    /* the copy changed: the recheck fails and says why */
    char copy[1100];
    snprintf(copy, sizeof(copy), "%s", P("text-changed.wav"));
    assert_int_equal(sh("cp text.wav text-changed.wav && printf x >>text-changed.wav"), 0);
    assert_int_equal(ev_transcode_recheck(t, record, P("s16.wav"), copy), EV_OK);
    assert_int_equal(ev_transcode_verdict_get(t), EV_TRANSCODE_FAIL);
    snprintf(want, sizeof(want), "%s: FAIL against %s\n", copy, P("s16.wav"));
    assert_string_equal(ev_transcode_result_text(t), want);
    assert_true(ev_transcode_problem_count(t) >= 1);
    assert_non_null(strstr(ev_transcode_problem(t, 0), "the copy changed"));
    assert_null(ev_transcode_problem(t, ev_transcode_problem_count(t)));

    /* a bad record: what, where, what to do; no result left */
    assert_int_equal(ev_transcode_recheck(t, "{\"format\": }", P("s16.wav"), out), EV_EFORMAT);
    assert_non_null(strstr(ev_transcode_last_error(t), "derivation record: not valid JSON at "
                                                       "line 1, column"));
    assert_non_null(strstr(ev_transcode_last_error(t), "OUT.derivation.json"));
    assert_null(ev_transcode_result_text(t));
    assert_int_equal(ev_transcode_problem_count(t), 0);
    assert_int_equal(ev_transcode_recheck(t, "{\"format\": \"x\"}", P("s16.wav"), out),
                     EV_EFORMAT);
    assert_non_null(strstr(ev_transcode_last_error(t), "derivation record: this is not one"));
    free(record);
    ev_transcode_free(t);
    ev_profile_catalog_free(c);
}

/* The renderer on documents made here: reals as the JSON carries them (10
 * significant digits): a PSNR of 40.004999999999 is written 40.005 and
 * shown 40.01 (not 40.00); a measured value of 1/3 is written 0.3333333333
 * and shown as jansson prints that number (17 digits), as `evidence check`
 * has always shown its values. */
static void transcode_text_renderer(void **state)
{
    (void)state;
    json_t *d = json_loads(
        "{\"format\":\"evidence.derivation\",\"profile\":{\"name\":\"wc\"},"
        "\"output\":{\"path\":\"o.mp4\",\"kept\":false},"
        "\"verification\":{\"level\":\"quality-bounded\",\"verdict\":\"fail\","
        "\"streams\":[{\"source_stream\":0,\"output_stream\":1,\"type\":\"video\","
        "\"method\":\"quality-bounded\",\"result\":\"fail\",\"frames\":3,"
        "\"psnr_db\":{\"min\":40.004999999999,\"mean\":41},\"ssim\":{\"min\":0.5,\"mean\":0.75}}],"
        "\"problems\":[\"p1\",\"p2\"]}}",
        0, NULL);
    assert_non_null(d);
    char *txt = ev_transcode__result_text(d, NULL, NULL);
    assert_string_equal(txt, "o.mp4: NOT kept with profile wc (quality-bounded): fail\n"
                             "  stream 0->1 video quality-bounded: fail (PSNR min 40.01 dB mean "
                             "41.00 dB, SSIM min 0.5000 mean 0.7500, 3 frames)\n");
    free(txt);
    assert_int_equal(json_array_size(ev_transcode__result_problems(d)), 2);
    json_decref(d);
    d = json_loads("{\"format\":\"evidence.check\",\"file\":\"f\",\"verdict\":\"fail\","
                   "\"profile\":{\"name\":\"x\"},\"passed\":0,\"failed\":1,\"not_applicable\":0,"
                   "\"results\":[{\"check\":\"gop\",\"stream\":2,\"operator\":\"max\","
                   "\"expected\":1,\"measured\":[0.333333333333333315,null],\"result\":\"fail\","
                   "\"note\":\"n\"}]}",
                   0, NULL);
    assert_non_null(d);
    txt = ev_transcode__result_text(d, NULL, NULL);
    assert_string_equal(txt, "fail  gop #2                   max 1  measured [0.33333333329999998,null]  "
                             "(n)\nf: FAIL against x (0 passed, 1 failed, 0 not applicable)\n");
    free(txt);
    assert_null(ev_transcode__result_problems(d));
    json_decref(d);
}

/* The one MP4 box-header reader (media/boxes.h): 32-bit sizes, a 64-bit
 * largesize, size 0 running to the end of the range, a header cut short,
 * a size smaller than its header, and a box claiming more than its parent
 * (refused, or cut at the parent's end with EV_MEDIA__BOX_CLIP). */
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void transcode_box_reader(void **state)
{
    (void)state;
    uint8_t m[128];
    memset(m, 0, sizeof(m));
    /* moov (32-bit, 24 bytes) holding udta (16); then mdat with a largesize
     * of 24 bytes; then free with size 0 (to the end: 128 - 48 = 80) */
    put32(m, 24);
    memcpy(m + 4, "moov", 4);
    put32(m + 8, 16);
    memcpy(m + 12, "udta", 4);
    put32(m + 24, 1);
    memcpy(m + 28, "mdat", 4);
    put32(m + 36, 24);
    put32(m + 48, 0);
    memcpy(m + 52, "free", 4);
    ev_media__box_iter it, kids;
    ev_media__box b, c;
    ev_media__box_iter_mem(&it, m, sizeof(m));
    assert_int_equal(ev_media__box_next(&b, &it), EV_MEDIA__BOX_OK);
    assert_memory_equal(b.fourcc, "moov", 4);
    assert_int_equal(b.start, 0);
    assert_int_equal(b.payload, 8);
    assert_int_equal(b.end, 24);
    ev_media__box_iter_children(&kids, &it, &b);
    assert_int_equal(ev_media__box_next(&c, &kids), EV_MEDIA__BOX_OK);
    assert_int_equal(c.type, ('u' << 24 | 'd' << 16 | 't' << 8 | 'a'));
    assert_int_equal(c.end, 24);
    assert_int_equal(ev_media__box_next(&c, &kids), EV_MEDIA__BOX_END);
    assert_int_equal(ev_media__box_next(&b, &it), EV_MEDIA__BOX_OK);
    assert_memory_equal(b.fourcc, "mdat", 4);
    assert_int_equal(b.hlen, 16);
    assert_int_equal(b.payload, 40);
    assert_int_equal(b.end, 48);
    assert_int_equal(ev_media__box_next(&b, &it), EV_MEDIA__BOX_OK);
    assert_memory_equal(b.fourcc, "free", 4);
    assert_int_equal(b.size, 80);
    assert_int_equal(b.end, 128);
    assert_int_equal(ev_media__box_next(&b, &it), EV_MEDIA__BOX_END);

    /* a child claiming more than its parent: refused, the iterator stays */
    put32(m + 8, 17);
    ev_media__box_iter_mem(&it, m, sizeof(m));
    assert_int_equal(ev_media__box_next(&b, &it), EV_MEDIA__BOX_OK);
    ev_media__box_iter_children(&kids, &it, &b);
    assert_int_equal(ev_media__box_next(&c, &kids), EV_MEDIA__BOX_BEYOND);
    assert_int_equal(c.size, 17);
    assert_memory_equal(c.fourcc, "udta", 4);
    assert_int_equal(kids.pos, 8);
    /* ... or cut at the parent's end */
    kids.flags = EV_MEDIA__BOX_CLIP;
    assert_int_equal(ev_media__box_next(&c, &kids), EV_MEDIA__BOX_OK);
    assert_int_equal(c.end, 24);
    /* a size below the header, a header cut short, a largesize cut short */
    put32(m + 8, 7);
    ev_media__box_iter_children(&kids, &it, &b);
    assert_int_equal(ev_media__box_next(&c, &kids), EV_MEDIA__BOX_SMALL);
    ev_media__box_iter_mem(&it, m, 5);
    assert_int_equal(ev_media__box_next(&b, &it), EV_MEDIA__BOX_CUT);
    assert_int_equal(b.hlen, 0);
    ev_media__box_iter_mem(&it, m + 24, 12);
    assert_int_equal(ev_media__box_next(&b, &it), EV_MEDIA__BOX_CUT);
    assert_int_equal(b.hlen, 8);
    assert_memory_equal(b.fourcc, "mdat", 4);
    /* a largesize beyond 4 GiB, read from a file range */
    char path[4096];
    snprintf(path, sizeof(path), "%s/boxes.bin", dir);
    uint8_t big[16] = { 0, 0, 0, 1, 'm', 'd', 'a', 't', 0, 0, 0, 1, 0, 0, 0, 16 };
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(big, 1, sizeof(big), f), sizeof(big));
    fclose(f);
    f = fopen(path, "rb");
    assert_non_null(f);
    ev_media__box_iter_io(&it, ev_media__box_read_stdio, f, 0, sizeof(big));
    assert_int_equal(ev_media__box_next(&b, &it), EV_MEDIA__BOX_BEYOND);
    assert_int_equal(b.size, (1ull << 32) + 16);
    ev_media__box_iter_io(&it, ev_media__box_read_stdio, f, 0, (1ull << 32) + 16);
    assert_int_equal(ev_media__box_next(&b, &it), EV_MEDIA__BOX_OK);
    assert_int_equal(b.end, (1ull << 32) + 16);
    fclose(f);
}

/* libavfilter is loaded at run time (avfilter_dl.c): the installed one
 * loads with every function and the headers' major version; a library that
 * cannot be loaded, or that is not libavfilter, gives a message naming it
 * and the reason, and no function pointers. */
static void transcode_avfilter_loader(void **state)
{
    (void)state;
    ev_avfilter_api api;
    char msg[512];
    assert_string_equal(EV_AVFILTER_SONAME, "libavfilter.so." AV_STRINGIFY(LIBAVFILTER_VERSION_MAJOR));
    assert_int_equal(ev_transcode__avfilter_load(EV_AVFILTER_SONAME, &api, msg, sizeof(msg)), EV_OK);
    assert_string_equal(msg, "");
    assert_non_null(api.version);
    assert_non_null(api.graph_alloc);
    assert_non_null(api.graph_free);
    assert_non_null(api.graph_create_filter);
    assert_non_null(api.graph_config);
    assert_non_null(api.get_by_name);
    assert_non_null(api.link);
    assert_non_null(api.buffersink_set_frame_size);
    assert_non_null(api.buffersink_get_frame);
    assert_non_null(api.buffersrc_add_frame_flags);
    assert_int_equal(AV_VERSION_MAJOR(api.version()), LIBAVFILTER_VERSION_MAJOR);
    /* the pointers work: the three filters of the audio graph exist */
    assert_non_null(api.get_by_name("abuffer"));
    assert_non_null(api.get_by_name("aformat"));
    assert_non_null(api.get_by_name("abuffersink"));
    AVFilterGraph *g = api.graph_alloc();
    assert_non_null(g);
    api.graph_free(&g);
    assert_null(g);

    /* a name that does not exist: the name and dlerror()'s reason */
    memset(&api, 0x55, sizeof(api));
    assert_int_equal(ev_transcode__avfilter_load("libavfilter-missing.so.8", &api, msg,
                                                 sizeof(msg)), EV_ERROR);
    assert_non_null(strstr(msg, "libavfilter-missing.so.8 could not be loaded ("));
    assert_non_null(strstr(msg, "cannot open shared object file"));
    assert_null(api.version);
    assert_null(api.graph_alloc);
    /* a library that loads but is not libavfilter */
    assert_int_equal(ev_transcode__avfilter_load("libavutil.so." AV_STRINGIFY(LIBAVUTIL_VERSION_MAJOR),
                                                 &api, msg, sizeof(msg)), EV_ERROR);
    assert_non_null(strstr(msg, "has no function avfilter_version"));
    assert_null(api.version);
    /* a file that is not a library at all */
    char path[4096];
    snprintf(path, sizeof(path), "%s/libavfilter.so.8", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("not a library\n", f);
    fclose(f);
    assert_int_equal(ev_transcode__avfilter_load(path, &api, msg, sizeof(msg)), EV_ERROR);
    assert_non_null(strstr(msg, "could not be loaded"));
    assert_null(api.version);
    /* a message buffer that is too small is cut, not overrun */
    char tiny[8];
    memset(tiny, 'x', sizeof(tiny));
    assert_int_equal(ev_transcode__avfilter_load("libavfilter-missing.so.8", &api, tiny,
                                                 sizeof(tiny)), EV_ERROR);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);

    /* the process-wide table: loaded once, the same table every time */
    ev_errbuf err;
    memset(&err, 0, sizeof(err));
    const ev_avfilter_api *a = NULL, *b = NULL;
    assert_int_equal(ev_transcode__avfilter(&a, &err), EV_OK);
    assert_non_null(a);
    assert_int_equal(ev_transcode__avfilter(&b, &err), EV_OK);
    assert_ptr_equal(b, a);
    assert_string_equal(err.msg, "");
    assert_int_equal(AV_VERSION_MAJOR(a->version()), LIBAVFILTER_VERSION_MAJOR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(transcode_archive_ffv1_identical_for_each_format),
        cmocka_unit_test(transcode_pixfmt_change_fails_decoded_identical),
        cmocka_unit_test(transcode_working_copy_h264_conforms),
        cmocka_unit_test(transcode_quality_catches_dropped_frame),
        cmocka_unit_test(transcode_quality_threshold_enforced),
        cmocka_unit_test(transcode_audio_flac_wav_and_refusals),
        cmocka_unit_test(transcode_odd_dimensions),
        cmocka_unit_test(transcode_bad_input_leaves_nothing),
        cmocka_unit_test(transcode_source_reader),
        cmocka_unit_test(transcode_output_rules),
        cmocka_unit_test(transcode_remux_packet_identical_and_fallback),
        cmocka_unit_test(transcode_packet_mismatch_detected),
        cmocka_unit_test(transcode_cctv_nal_units_and_rates),
        cmocka_unit_test(transcode_still_png_exif),
        cmocka_unit_test(transcode_recheck_detects_changes),
        cmocka_unit_test(transcode_conform_ffv1_crc_damage),
        cmocka_unit_test(transcode_ffv1_config_parser),
        cmocka_unit_test(transcode_orient_and_quality_helpers),
        cmocka_unit_test(transcode_png_exif_chunk),
        cmocka_unit_test(transcode_public_api),
        cmocka_unit_test(transcode_result_text),
        cmocka_unit_test(transcode_text_renderer),
        cmocka_unit_test(transcode_stored_location),
        cmocka_unit_test(transcode_box_reader),
        cmocka_unit_test(transcode_avfilter_loader),
    };
    return cmocka_run_group_tests_name("transcode", tests, setup, teardown);
}
