/*
 * media: what each file is (libavformat probe), when and where it was
 * captured (EXIF via libexif, QuickTime/MP4 tags), and content hashes down
 * to the frame (packet and decoded SHA-256 per stream, per-frame lists).
 * Internal API used by the bundle writer and verifier. See docs/media.md
 * and docs/content-hashes.md.
 */
#ifndef EV_MEDIA_H
#define EV_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/internal.h"        /* ev_errbuf */
#include "evidence/common.h" /* ev_io */

/* An extra file produced by the analysis, stored by the bundle writer under
 * meta/<item-id>/<name>. name is relative, safe ASCII ([a-z0-9._-]). */
typedef struct ev_media__file {
    char *name;
    uint8_t *data;
    size_t len;
} ev_media__file;

/*
 * Analyse one file for the record (evidence.json). NEVER fails because the
 * media is bad: parser problems go into media.error ({"error": "..."} plus
 * whatever was learned) and EV_OK is returned.
 * Returns non-OK only for EV_ENOMEM, EV_EIO (the io failed to read),
 * EV_ECANCELED (the io's read returned EV_ECANCELED, see below) or EV_EINVAL
 * (bad arguments).
 * out_media:   object for item.media (always set on EV_OK)
 * out_capture: object for item.capture, or NULL if nothing found
 * out_content: array for item.content_hashes (one entry per audio/video
 *              stream), or NULL
 * out_meta/out_nmeta: extra files (per-frame hash lists, raw EXIF dump) to be
 *              stored under meta/<item-id>/<name>; free with
 *              ev_media__files_free(). May be NULL/0.
 * io:          read + seek source (seek may be NULL: then containers that need
 *              seeking, e.g. MP4 with the index at the end, fail into
 *              media.error). Cancellation: when io->read returns EV_ECANCELED
 *              (-8) the analysis stops and returns EV_ECANCELED.
 * name_hint:   original file name (extension hint only; detection is by
 *              content). May be NULL.
 * content_mode: ev_content_hash_mode from evidence/bundle.h (DEFAULT = both).
 * On failure every out-parameter is NULL/0.
 */
int ev_media__analyze(json_t **out_media, json_t **out_capture, json_t **out_content,
                      ev_media__file **out_meta, size_t *out_nmeta,
                      const ev_io *io, const char *name_hint, int content_mode,
                      ev_errbuf *err);

void ev_media__files_free(ev_media__file *f, size_t n);

/*
 * verify --deep: recompute the content hashes of one item and compare them
 * with its record.
 * item: the item object from evidence.json (with content_hashes); meta: its
 * meta files as read back (names as produced by ev_media__analyze).
 * out_findings: array of {"stream": i, "kind": "packets"|"decoded",
 *   "status": "ok"|"mismatch"|"error", "frames": [0-based frame numbers that
 *   differ], "time_ranges": [[t0,t1],...] (seconds), "message": "..."}.
 * Returns EV_OK when the check ran (mismatches are data, not errors);
 * EV_ENOMEM, EV_EIO, EV_ECANCELED or EV_EINVAL otherwise.
 */
int ev_media__deep_verify(json_t **out_findings, const json_t *item, const ev_io *io,
                          const ev_media__file *meta, size_t nmeta, ev_errbuf *err);

/* Whether a file that libmagic calls application/octet-stream is worth an
 * FFmpeg probe (docs/content-hashes.md, "Which files are probed"): true when
 * a demuxer of this build claims the extension of name_hint (other than the
 * text-art demuxers, tty and bintext, which claim any bytes), or when
 * FFmpeg's content probe of head (the first n bytes of the file, as many as
 * libmagic saw) scores at least AVPROBE_SCORE_RETRY. Costs one pass of the
 * demuxers' probe functions over head, not a read of the file. */
#define EV_MEDIA__PROBE_HEAD 16384
bool ev_media__worth_probing(const void *head, size_t n, const char *name_hint);

/* Convenience: an ev_io over a file descriptor opened by the caller
 * (pread-based, seekable). state_storage must hold >= 32 bytes, be suitably
 * aligned for uint64_t, and outlive the io. The fd is not closed. */
int ev_media__io_from_fd(ev_io *io, int fd, uint64_t size, void *state_storage);

/* ------------------------------------------------------------------------ */
/* Extended entry point: limits and options (defaults documented in          */
/* docs/media.md, "Limits").                                                 */
/* ------------------------------------------------------------------------ */

typedef struct ev_media__limits {
    int64_t probe_size;        /* bytes read by the probe; default 10 MiB */
    int64_t analyze_us;        /* stream-info analysis; default 10 s of media */
    unsigned int max_streams;  /* streams reported/hashed; default 64 */
    uint64_t max_packets;      /* packets read per file; default 2^25 */
    uint64_t max_list_entries; /* lines kept per frame list; default 4 Mi */
    int64_t max_pixels;        /* largest decoded picture; default 2^28 */
    double time_budget_s;      /* wall clock per file; default 300 s + 1 s/MiB */
    double read_factor;        /* bytes read <= size * factor + 256 MiB; default 16 */
    unsigned int threads;      /* decoder threads; 0 = automatic; 1 also hashes the
                                  decoded frames on the calling thread */
    bool frame_lists;          /* produce per-frame lists; default true */
    bool thumbnail;            /* meta file thumb.jpg (longest side 160 px) from a frame
                                  the content hash decodes anyway; default true, but
                                  false in ev_media__analyze() */
} ev_media__limits;

/* Fill limits with the defaults for a file of `size` bytes (0 = unknown). */
void ev_media__limits_default(ev_media__limits *l, uint64_t size);

int ev_media__analyze_ex(json_t **out_media, json_t **out_capture, json_t **out_content,
                         ev_media__file **out_meta, size_t *out_nmeta,
                         const ev_io *io, const char *name_hint, int content_mode,
                         const ev_media__limits *limits, ev_errbuf *err);

/* An ev_io over a memory buffer (used by the fuzzers and the public API).
 * state_storage must hold >= 32 bytes and outlive the io. */
int ev_media__io_from_mem(ev_io *io, const uint8_t *data, size_t len, void *state_storage);

/* The document of an analysis ("evidence.media") as text lines for a person
 * (media_text.c); NULL when out of memory. Free with free(). */
char *ev_media__text(const json_t *doc);

#endif
