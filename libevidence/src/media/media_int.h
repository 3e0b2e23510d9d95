/*
 * Private to the media module: the scan that computes content hashes
 * (media_hash.c), the timelines, the facts and the capture facts of a
 * container, and the container structures read by media_boxes.c. The
 * bottom layer (media_io.h, media_json.h) is included for those files.
 */
#ifndef EV_MEDIA_INT_H
#define EV_MEDIA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "media/media.h"
#include "media/media_io.h"
#include "media/media_json.h"

/* Per-stream scan results. */
typedef struct ev_media__list {
    ev_buf text;          /* the meta file contents */
    uint64_t entries;
    bool truncated;
} ev_media__list;

/* A picture size change seen in decoding: frame is counted from 1 in the
 * order the decoder gives the frames; pts in the stream's time base
 * (AV_NOPTS_VALUE when unknown). */
typedef struct ev_media__size_change {
    uint64_t frame;
    int64_t pts;
    int from_w, from_h, w, h;
} ev_media__size_change;
#define EV_MEDIA_SIZE_CHANGES 1000 /* kept per stream; all are counted */

typedef struct ev_media__stream {
    int index;
    int type;             /* AVMediaType */
    uint64_t packets;
    uint64_t packet_bytes;
    uint64_t frames;
    uint64_t decoded_bytes;
    uint64_t decode_errors;
    bool have_packets;
    bool have_decoded;
    bool decoder_missing;
    char packets_sha256[65];
    char decoded_sha256[65];
    char decoded_format[32]; /* native pix_fmt / sample_fmt */
    char decoded_as[32];     /* raw codec equivalent: rawvideo, pcm_s24le, ... */
    char decoder[160];       /* decoder name and settings */
    char first_error[256];
    ev_media__list packet_list;
    ev_media__list decoded_list;
    /* video: the size of the last decoded frame, and its changes */
    int size_w, size_h;
    uint64_t size_changes;
    ev_media__size_change *size_change; /* the first EV_MEDIA_SIZE_CHANGES */
    size_t size_change_cap;
} ev_media__stream;

typedef struct ev_media__scan_opts {
    bool packets;
    bool decoded;
    bool lists;
    const ev_media__limits *lim;
    bool thumb;               /* keep a decoded frame for the thumbnail */
} ev_media__scan_opts;

typedef struct ev_media__scan {
    ev_media__stream *streams; /* one per considered stream */
    unsigned int nstreams;
    bool complete;             /* read to the end without a stop */
    /* With opts.thumb: a reference to one decoded frame of the first video
     * stream (not cover art), the last one at or before 10% of its
     * duration (the first one when the duration is unknown). No copy and no
     * extra decoding: it is a frame the content hash decoded anyway. */
    struct AVFrame *thumb;
    int thumb_stream;          /* its stream, or -1 */
    int64_t thumb_target;      /* its target pts, AV_NOPTS_VALUE for the first frame */
    bool thumb_done;           /* a frame past the target was seen */
    char stop_reason[EV_MEDIA_WHY];
} ev_media__scan;

/* Read every packet (and decode when asked). EV_OK unless fatal. */
int ev_media__scan_run(ev_media__scan *out, ev_media__src *s, const ev_media__scan_opts *o);
void ev_media__scan_free(ev_media__scan *sc);

/* SHA-256 as the scan computes it (media_hash.c): the same bytes fed to two
 * computations (ev_media__sha2_update2), OpenSSL EVP. */
typedef struct ev_media__sha2 ev_media__sha2;
int ev_media__sha2_new(ev_media__sha2 **out);
void ev_media__sha2_free(ev_media__sha2 *m);
int ev_media__sha2_reset(ev_media__sha2 *m);
int ev_media__sha2_update2(ev_media__sha2 *a, ev_media__sha2 *b, const void *data, size_t n);
/* Lower-case hex digest; the computation starts over. */
int ev_media__sha2_final(ev_media__sha2 *m, char hex[65]);

/* media.streams[].timeline of each video stream, from the scan's packet
 * lists (media_timeline.c). EV_OK or EV_ENOMEM. */
int ev_media__timelines(json_t *media, const ev_media__scan *sc, const ev_media__src *s);

struct AVStream;

/* The timeline of one video stream from a packet list in the scan's format
 * (lines "index dts pts duration ...", "-" for an unknown time; '#' lines
 * skipped); fmtname is the demuxer's name. For `check` (transcode/conform.c),
 * which reads the packets itself. *out is a new reference. EV_OK, EV_ENOMEM. */
int ev_media__timeline_of_list(json_t **out, const char *list, bool truncated,
                               const struct AVStream *st, const char *fmtname, bool complete);

/* Facts: item.media from an opened source (streams, format, side data). */
int ev_media__facts(json_t **out, const ev_media__src *s, unsigned int max_streams);
/* true for the demuxers of still images (image2, *_pipe) (media_facts.c). */
bool ev_media__is_image_format(const char *name);

/* Capture facts of a container, from its own structures (ev_media__boxes)
 * and libavformat's tags. May add to an existing capture object (*capture
 * may be NULL on entry). */
int ev_media__capture_from_tags(json_t **capture, const ev_media__src *s);

/* Container structures read from the file itself (media_boxes.c), for the
 * values libavformat renders lossily or without saying where they came
 * from. Strings are as stored (cut at the buffer size, up to a NUL). */
enum { EV_MEDIA_BOXES_NONE, EV_MEDIA_BOXES_QUICKTIME, EV_MEDIA_BOXES_RIFF,
       EV_MEDIA_BOXES_MATROSKA };
enum { EV_MEDIA_MDTA_CREATIONDATE, EV_MEDIA_MDTA_ISO6709, EV_MEDIA_MDTA_MAKE,
       EV_MEDIA_MDTA_MODEL, EV_MEDIA_MDTA_SOFTWARE, EV_MEDIA_MDTA_N };
typedef struct ev_media__boxes {
    int kind;
    bool walked;               /* the top-level structure was found */
    /* QuickTime / MP4 */
    bool mvhd;
    uint8_t mvhd_version;
    uint64_t mvhd_created;     /* seconds since 1904-01-01T00:00:00 */
    uint32_t mvhd_timescale;
    uint64_t mvhd_duration;
    bool loci;
    uint8_t loci_role;
    int32_t loci_lat, loci_lon, loci_alt; /* 16.16 fixed point */
    bool has_xyz, has_mak, has_mod, has_swr, has_day;
    char xyz[128], swr[256], day[64];
    bool mdta_have[EV_MEDIA_MDTA_N];
    char mdta[EV_MEDIA_MDTA_N][256];
    /* RIFF */
    bool has_idit, has_icrd, has_isft, has_bext;
    char idit[64], icrd[64], isft[256], bext_date[11], bext_time[9];
    /* Matroska */
    bool has_dateutc;
    int64_t dateutc_ns;        /* since 2001-01-01T00:00:00 UTC */
} ev_media__boxes;
/* Bounded reads through s->io (nothing when it cannot seek); the io
 * position is restored to s->pos. */
void ev_media__boxes_read(ev_media__boxes *o, const ev_media__src *s, int kind);

/* Parse an ISO 6709 string ("+51.5007-000.1246+12.3/"). Returns true when
 * latitude and longitude were found; altitude is set when present. */
bool ev_media__iso6709(const char *s, double *lat, double *lon, double *alt, bool *has_alt);

#endif
