/*
 * Private to the media module: the FFmpeg input over an ev_io
 * (media_io.c), its read budget and deadline, and the default limits. The
 * bottom layer: media_io.c calls nothing else in media/.
 */
#ifndef EV_MEDIA_IO_H
#define EV_MEDIA_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/media.h"

struct AVFormatContext;
struct AVIOContext;

/* Why-buffer for non-fatal problems that end up in media.error/notes. */
#define EV_MEDIA_WHY 512

/* Default limits (docs/media.md, "Limits"). */
#define EV_MEDIA_PROBE_SIZE (10 * 1024 * 1024)
#define EV_MEDIA_ANALYZE_US (10 * 1000000LL)
#define EV_MEDIA_MAX_STREAMS 64u
#define EV_MEDIA_MAX_STREAMS_OPEN 128
#define EV_MEDIA_MAX_PACKETS (1ull << 25)
#define EV_MEDIA_MAX_LIST (4ull * 1024 * 1024)
#define EV_MEDIA_MAX_PIXELS (1ll << 28)
#define EV_MEDIA_TIME_BASE_S 300.0
#define EV_MEDIA_TIME_PER_MIB_S 1.0
#define EV_MEDIA_READ_FACTOR 16.0
#define EV_MEDIA_READ_SLACK (256ull * 1024 * 1024)
#define EV_MEDIA_MAX_TAGS 128
#define EV_MEDIA_MAX_TAG_LEN 4096

/* An opened FFmpeg input over an ev_io. */
typedef struct ev_media__src {
    const ev_io *io;
    int64_t pos;           /* our idea of the io position */
    uint64_t bytes_read;
    uint64_t read_budget;
    int io_status;         /* EV_EIO / EV_ECANCELED when the io itself failed */
    bool budget_exceeded;
    bool timed_out;
    double deadline;       /* monotonic seconds; 0 = none */
    struct AVIOContext *avio;
    struct AVFormatContext *fmt;
} ev_media__src;

/* Monotonic clock in seconds. */
double ev_media__now(void);

/* Size of the source: io->size, else found by seeking to the end (the
 * position is then back at 0), else 0 (unknown). */
uint64_t ev_media__io_size(const ev_io *io);
/* Deadline and read budget of a source from the limits (unknown size: no
 * read budget, the time limit still applies). */
void ev_media__src_budget(ev_media__src *s, const ev_media__limits *lim, uint64_t size);

/* Open and probe. EV_OK: s->fmt is ready (stream info read). EV_EFORMAT: not
 * readable as media, reason in why. Other negative values are fatal
 * (EV_ENOMEM, EV_EIO, EV_ECANCELED). s is always safe to close. */
int ev_media__src_open(ev_media__src *s, const ev_io *io, const char *name_hint,
                       const ev_media__limits *lim, char *why, size_t whylen);
void ev_media__src_close(ev_media__src *s);
/* Fatal status of the source after an FFmpeg error (EV_OK if not fatal). */
int ev_media__src_fatal(const ev_media__src *s, int averr);
/* Text for an FFmpeg error code, including our own budget/timeouts. */
void ev_media__averr(const ev_media__src *s, int averr, char *buf, size_t len);

#endif
