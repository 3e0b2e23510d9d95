/*
 * bench_media: time the media analysis of one file, mode by mode, and the
 * parts it is made of. Used by bench/media.sh; prints "key seconds" lines.
 *
 * usage: bench_media FILE [REPEAT [MEASURE...]]
 *   probe      ev_media__analyze, content hashes off (probe + facts + capture)
 *   packets    content hashes: packets (+ per-packet list)
 *   decoded    content hashes: decoded (+ per-frame list)
 *   both       packets and decoded in one pass (the default of pack)
 *   both_nolists  the same without per-frame lists (stream hashes only)
 *   demux      open + read every packet, nothing else
 *   decode     open + read + decode every A/V packet with the same decoder
 *              settings (threads auto, +bitexact, idct simple), no hashing
 *   sha256     OpenSSL EVP SHA-256 of the decoded byte count, from memory
 * The best of REPEAT runs (default 3) is printed for each; with MEASUREs
 * given, only those are run, in that order.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>

#include "evidence/bundle.h"
#include "base/hash.h"
#include "media/media.h"
#include "media/media_int.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct file {
    int fd;
    uint64_t size;
    uint64_t st[4];
    ev_io io;
} file;

static void file_io(file *f)
{
    ev_media__io_from_fd(&f->io, f->fd, f->size, f->st);
}

static double run_mode_ex(file *f, int mode, uint64_t *decoded_bytes, bool lists)
{
    json_t *m = NULL, *c = NULL, *h = NULL;
    ev_media__file *meta = NULL;
    size_t n = 0;
    ev_errbuf err;
    file_io(f);
    double t0 = now();
    ev_media__limits lim;
    ev_media__limits_default(&lim, f->size);
    lim.frame_lists = lists;
    int rc = ev_media__analyze_ex(&m, &c, &h, &meta, &n, &f->io, "bench.mp4", mode, &lim, &err);
    double t = now() - t0;
    if (rc) {
        fprintf(stderr, "analyze failed: %s\n", err.msg);
        exit(1);
    }
    if (json_object_get(m, "error")) {
        fprintf(stderr, "media.error: %s\n", json_string_value(json_object_get(m, "error")));
        exit(1);
    }
    if (decoded_bytes) {
        *decoded_bytes = 0;
        size_t i;
        json_t *e;
        json_array_foreach(h, i, e)
            *decoded_bytes += (uint64_t)json_integer_value(
                json_object_get(json_object_get(e, "decoded"), "bytes"));
    }
    json_decref(m);
    json_decref(c);
    json_decref(h);
    ev_media__files_free(meta, n);
    return t;
}

static double run_mode(file *f, int mode, uint64_t *decoded_bytes)
{
    return run_mode_ex(f, mode, decoded_bytes, true);
}

/* open + read (+ decode) with the module's own input layer */
static double run_raw(file *f, bool decode)
{
    ev_media__limits lim;
    ev_media__limits_default(&lim, f->size);
    ev_media__src src = { 0 };
    src.read_budget = UINT64_MAX;
    char why[EV_MEDIA_WHY];
    file_io(f);
    double t0 = now();
    if (ev_media__src_open(&src, &f->io, "bench.mp4", &lim, why, sizeof(why)) != EV_OK) {
        fprintf(stderr, "open failed: %s\n", why);
        exit(1);
    }
    AVFormatContext *fmt = src.fmt;
    AVCodecContext *dec[64] = { 0 };
    for (unsigned int i = 0; decode && i < fmt->nb_streams && i < 64; i++) {
        const AVCodecParameters *par = fmt->streams[i]->codecpar;
        if (par->codec_type != AVMEDIA_TYPE_VIDEO && par->codec_type != AVMEDIA_TYPE_AUDIO)
            continue;
        const AVCodec *codec = avcodec_find_decoder(par->codec_id);
        if (!codec)
            continue;
        dec[i] = avcodec_alloc_context3(codec);
        avcodec_parameters_to_context(dec[i], par);
        dec[i]->pkt_timebase = fmt->streams[i]->time_base;
        dec[i]->thread_count = 0;
        dec[i]->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
        dec[i]->flags |= AV_CODEC_FLAG_BITEXACT;
        dec[i]->idct_algo = FF_IDCT_SIMPLE;
        if (avcodec_open2(dec[i], codec, NULL) < 0)
            avcodec_free_context(&dec[i]);
    }
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    while (av_read_frame(fmt, pkt) >= 0) {
        int i = pkt->stream_index;
        if (i < 64 && dec[i] && avcodec_send_packet(dec[i], pkt) >= 0)
            while (avcodec_receive_frame(dec[i], fr) >= 0)
                av_frame_unref(fr);
        av_packet_unref(pkt);
    }
    for (int i = 0; i < 64; i++) {
        if (!dec[i])
            continue;
        avcodec_send_packet(dec[i], NULL);
        while (avcodec_receive_frame(dec[i], fr) >= 0)
            av_frame_unref(fr);
        avcodec_free_context(&dec[i]);
    }
    double t = now() - t0;
    av_packet_free(&pkt);
    av_frame_free(&fr);
    ev_media__src_close(&src);
    return t;
}

static double run_sha(uint64_t bytes)
{
    size_t chunk = 1920 * 1080 * 3 / 2;
    uint8_t *b = malloc(chunk);
    memset(b, 0x5A, chunk);
    ev_hasher *h = NULL;
    ev_hash__new(&h, EV_ALG_SHA256);
    double t0 = now();
    for (uint64_t done = 0; done < bytes; done += chunk)
        ev_hash__update(h, b, bytes - done < chunk ? (size_t)(bytes - done) : chunk);
    ev_digests d;
    ev_hash__final(h, &d);
    double t = now() - t0;
    ev_hash__free(h);
    free(b);
    return t;
}

#define BEST(var, expr)                                                                            \
    do {                                                                                           \
        var = 1e30;                                                                                \
        for (int r_ = 0; r_ < repeat; r_++) {                                                      \
            double t_ = (expr);                                                                    \
            if (t_ < var)                                                                          \
                var = t_;                                                                          \
        }                                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_media FILE [REPEAT]\n");
        return 2;
    }
    int repeat = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3;
    if (repeat < 1)
        repeat = 1;
    av_log_set_level(AV_LOG_ERROR);
    file f;
    f.fd = open(argv[1], O_RDONLY);
    struct stat sb;
    if (f.fd < 0 || fstat(f.fd, &sb) != 0) {
        perror(argv[1]);
        return 1;
    }
    f.size = (uint64_t)sb.st_size;
    uint64_t decoded_bytes = 0;
    static const char *const all[] = { "probe", "packets", "decoded", "both", "both_nolists",
                                       "demux", "decode", "sha256", NULL };
    const char *const *keys = argc > 3 ? (const char *const *)(argv + 3) : all;
    printf("file_bytes %llu\n", (unsigned long long)f.size);
    for (int k = 0; keys[k]; k++) {
        const char *key = keys[k];
        double t;
        if (strcmp(key, "probe") == 0)
            BEST(t, run_mode(&f, EV_CONTENT_HASH_NONE, NULL));
        else if (strcmp(key, "packets") == 0)
            BEST(t, run_mode(&f, EV_CONTENT_HASH_PACKETS, NULL));
        else if (strcmp(key, "decoded") == 0)
            BEST(t, run_mode(&f, EV_CONTENT_HASH_DECODED, &decoded_bytes));
        else if (strcmp(key, "both") == 0)
            BEST(t, run_mode(&f, EV_CONTENT_HASH_BOTH, &decoded_bytes));
        else if (strcmp(key, "both_nolists") == 0)
            BEST(t, run_mode_ex(&f, EV_CONTENT_HASH_BOTH, NULL, false));
        else if (strcmp(key, "demux") == 0)
            BEST(t, run_raw(&f, false));
        else if (strcmp(key, "decode") == 0)
            BEST(t, run_raw(&f, true));
        else if (strcmp(key, "sha256") == 0) {
            if (!decoded_bytes)
                run_mode(&f, EV_CONTENT_HASH_DECODED, &decoded_bytes);
            BEST(t, run_sha(decoded_bytes));
        } else {
            fprintf(stderr, "unknown measure '%s'\n", key);
            return 2;
        }
        printf("%s %.3f\n", key, t);
        fflush(stdout);
    }
    if (decoded_bytes)
        printf("decoded_bytes %llu\n", (unsigned long long)decoded_bytes);
    close(f.fd);
    return 0;
}
