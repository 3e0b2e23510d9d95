/*
 * Fuzz target: the container walkers that read box and chunk structures
 * themselves instead of through libavformat (hostile sizes, nesting, loops).
 * The first byte chooses what the rest is fed to:
 *   0  media/media_boxes.c, QuickTime/MP4: moov/mvhd, moov/udta (loci,
 *      (c)xyz, (c)day, (c)mak, (c)mod, (c)swr) and the mdta keys of
 *      moov/meta and moov/udta/meta (ev_media__boxes_read over an in-memory
 *      ev_io, as capture facts read them), then ev_media__iso6709 on the
 *      location strings found
 *   1  the same reader on RIFF (AVI/WAV: IDIT, LIST/INFO, bext)
 *   2  the same reader on Matroska (Segment/Info/DateUTC)
 *   3  transcode/conform.c: the top-level box walk of 'evidence check'
 *      (ev_conform__mp4_top_boxes, on a temporary file)
 *   4  transcode/transcode_av.c: the truncation check of a copy's source
 *      (ev_transcode__container_complete as MP4, Matroska and WAV) and the
 *      stored-location walk over moov (ev_transcode__stored_location with
 *      the mov demuxer named, on a temporary file)
 * Other values of the first byte run 0, 3 and 4 on the rest.
 *
 * Invariant: ev_media__boxes_read leaves the io where libavformat had it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavformat/avformat.h>

#include "base/publish.h"
#include "fuzz_files.h"
#include "media/media_int.h"
#include "transcode/conform.h"
#include "transcode/transcode_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct mem {
    const uint8_t *d;
    size_t n;
    int64_t pos;
} mem;

static int64_t mem_read(void *opaque, uint8_t *buf, size_t len)
{
    mem *m = opaque;
    if (m->pos < 0 || (uint64_t)m->pos >= m->n)
        return 0;
    size_t left = m->n - (size_t)m->pos;
    if (len > left)
        len = left;
    memcpy(buf, m->d + m->pos, len);
    m->pos += (int64_t)len;
    return (int64_t)len;
}

static int64_t mem_seek(void *opaque, int64_t off, int whence)
{
    mem *m = opaque;
    int64_t base = whence == 0 ? 0 : whence == 1 ? m->pos : whence == 2 ? (int64_t)m->n : -1;
    if (base < 0 || off < -base || off > INT64_MAX - base)
        return -1;
    m->pos = base + off;
    return m->pos;
}

static void fuzz_boxes(const uint8_t *d, size_t n, int kind)
{
    mem m = { d, n, 0 };
    ev_io io = { EV_IO_VERSION, &m, mem_read, mem_seek, n };
    ev_media__src s;
    memset(&s, 0, sizeof(s));
    s.io = &io;
    s.pos = (int64_t)(n / 3); /* where libavformat left the io */
    m.pos = s.pos;
    ev_media__boxes o;
    ev_media__boxes_read(&o, &s, kind);
    if (m.pos != s.pos) {
        fprintf(stderr, "boxes_read left the io at %lld, not %lld\n", (long long)m.pos,
                (long long)s.pos);
        abort();
    }
    double lat, lon, alt;
    bool has_alt;
    if (o.has_xyz) {
        o.xyz[sizeof(o.xyz) - 1] = '\0';
        ev_media__iso6709(o.xyz, &lat, &lon, &alt, &has_alt);
    }
    if (o.mdta_have[EV_MEDIA_MDTA_ISO6709]) {
        o.mdta[EV_MEDIA_MDTA_ISO6709][sizeof(o.mdta[0]) - 1] = '\0';
        ev_media__iso6709(o.mdta[EV_MEDIA_MDTA_ISO6709], &lat, &lon, &alt, &has_alt);
    }
}

/* The input as a file in a private folder (removed at exit); NULL on error. */
static const char *as_file(const uint8_t *d, size_t n)
{
    static char path[320];
    if (!path[0])
        snprintf(path, sizeof(path), "%s/in.mov", fuzz_workdir("mp4fuzz"));
    return fuzz_write_file(path, d, n) == 0 ? path : NULL;
}

static void fuzz_conform(const char *path)
{
    int64_t moov = -2, mdat = -2;
    ev_errbuf e;
    if (ev_conform__mp4_top_boxes(&moov, &mdat, path, &e) == EV_OK && (moov < -1 || mdat < -1))
        abort();
}

static void fuzz_transcode(const char *path)
{
    ev_errbuf e;
    ev_transcode__container_complete(path, "mov,mp4,m4a,3gp,3g2,mj2", &e);
    ev_transcode__container_complete(path, "matroska,webm", &e);
    ev_transcode__container_complete(path, "wav", &e);
    /* the location walk needs only the demuxer's name from the context */
    const AVInputFormat *mov = av_find_input_format("mov");
    AVFormatContext *fc = mov ? avformat_alloc_context() : NULL;
    if (!fc)
        return;
    fc->iformat = mov;
    ev_tc_loc loc;
    if (ev_transcode__stored_location(&loc, fc, path)) {
        loc.raw[sizeof(loc.raw) - 1] = '\0';
        (void)strlen(loc.raw);
    }
    fc->iformat = NULL;
    avformat_free_context(fc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4 * 1024 * 1024)
        return 0;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    const char *path;
    switch (data[0]) {
    case 0: fuzz_boxes(d, n, EV_MEDIA_BOXES_QUICKTIME); break;
    case 1: fuzz_boxes(d, n, EV_MEDIA_BOXES_RIFF); break;
    case 2: fuzz_boxes(d, n, EV_MEDIA_BOXES_MATROSKA); break;
    case 3:
        if ((path = as_file(d, n)) != NULL)
            fuzz_conform(path);
        break;
    case 4:
        if ((path = as_file(d, n)) != NULL)
            fuzz_transcode(path);
        break;
    default:
        fuzz_boxes(d, n, EV_MEDIA_BOXES_QUICKTIME);
        if ((path = as_file(d, n)) != NULL) {
            fuzz_conform(path);
            fuzz_transcode(path);
        }
        break;
    }
    return 0;
}
