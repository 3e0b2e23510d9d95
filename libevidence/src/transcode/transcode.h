/*
 * transcode: run a profile on one file and verify the copy against its
 * source; re-check a derivation later (verify --deep). Internal API used by
 * the bundle writer (pack --profile) and verifier, and by the public
 * ev_transcode_* façade in evidence/transcode.h.
 *
 * Thread-safety: every call is independent (no shared state); a profile may
 * be shared by concurrent calls.
 */
#ifndef EV_TRANSCODE_H
#define EV_TRANSCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libavutil/frame.h>

#include "evidence/transcode.h"
#include "base/internal.h"
#include "profile/profile.h"

/* Flags for ev_transcode__run (same bits as the public EV_TRANSCODE_*). */
#define EV_TRANSCODE__NO_VERIFY EV_TRANSCODE_NO_VERIFY
#define EV_TRANSCODE__OVERWRITE EV_TRANSCODE_OVERWRITE
#define EV_TRANSCODE__NO_SYNC EV_TRANSCODE_NO_SYNC
#define EV_TRANSCODE__WRITE_RECORD EV_TRANSCODE_WRITE_RECORD
/* Tests only: skip the lossless pre-checks so that the verifier itself is
 * exercised with a conversion that cannot be lossless. */
#define EV_TRANSCODE__NO_PRECHECK 0x80000000u

/* How a result or derivation record is serialised (api.c, and the record
 * file of EV_TRANSCODE__WRITE_RECORD). */
#define EV_TRANSCODE__JSON_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

typedef struct ev_transcode__opts {
    uint32_t flags;        /* EV_TRANSCODE__* */
    unsigned int threads;  /* encoder/decoder threads; 0 = automatic */
    ev_progress_cb progress_cb;
    void *progress_payload;
    /* a frame rate the user states for a source with no time per frame
     * (assume_fps_num / assume_fps_den; 0/0 = none) */
    unsigned int assume_fps_num, assume_fps_den;
} ev_transcode__opts;

/*
 * Make a copy of in_path at out_path according to profile p, then verify it
 * against in_path at the profile's level (unless EV_TRANSCODE__NO_VERIFY).
 *
 * The output is written to a temporary name in out_path's folder
 * (".<name>.partial-<random>"), flushed to disk (unless
 * EV_TRANSCODE__NO_SYNC), verified, and renamed to
 * out_path only when everything succeeded; on any failure, and when the
 * verification fails, nothing is left at out_path and the temporary file is
 * removed.
 *
 * out_derivation (always set on EV_OK, NULL otherwise): the derivation record
 * (docs/schema/derivation.schema.json): source and output SHA-256 and size,
 * profile name and SHA-256, action, exact settings per stream (encoder and
 * options, pixel/sample format conversions), library versions, metadata
 * carried over or changed, and "verification": {"level", "verdict":
 * "pass"|"fail"|"not-run", per-stream figures, "problems"}.
 * The record's "output.kept" is true only when out_path now holds the copy.
 * With EV_TRANSCODE__WRITE_RECORD the record is also written, as
 * ev_transcode_result_json() gives it plus a newline, to
 * "<out_path>.derivation.json", published before the copy (see the public
 * flag for the order and for a record left without its copy).
 *
 * Returns:
 *   EV_OK            the copy was made and verification ran or was skipped:
 *                    read the verdict in the record (a failed verification is
 *                    data, not an error; the output is then not kept);
 *   EV_EUNSUPPORTED  the profile refuses this input (message says why: float
 *                    audio into FLAC, no lossless path for this pixel format,
 *                    odd dimensions into 4:2:0, audio-only into a video
 *                    profile, ...), or the profile is unavailable in this build;
 *   EV_EFORMAT       the input is damaged, truncated or has no frames;
 *   EV_ENOTFOUND     in_path does not exist;
 *   EV_EEXISTS       out_path exists, or its derivation record does while
 *                    out_path exists too (and no EV_TRANSCODE__OVERWRITE);
 *   EV_EINVAL        bad arguments (e.g. in_path and out_path are one file);
 *   EV_EIO, EV_ENOMEM, EV_ECANCELED (progress callback), EV_ERROR.
 * err holds the message on failure ("what, where, what to do").
 */
int ev_transcode__run(json_t **out_derivation, const ev_profile *p, const char *in_path,
                      const char *out_path, const ev_transcode__opts *opts, ev_errbuf *err);

/*
 * Re-check a copy against its master using a derivation record made by
 * ev_transcode__run (verify --deep). Needs no profile: the record carries the
 * stream map, the verification level per stream and the thresholds.
 * Checks: SHA-256 of master == record.source.sha256; SHA-256 of copy ==
 * record.output.sha256; then the verification again (packet, decoded or
 * quality-bounded per stream).
 * out: {"format": "evidence.recheck", "format_version": 1, "verdict":
 *       "pass"|"fail", "source_sha256_match", "output_sha256_match",
 *       "verification": {...same shape as in the record...}, "problems": [..]}
 * Returns EV_OK when the check ran (mismatch is in the verdict), EV_EFORMAT
 * when the record is not a derivation record, EV_ENOTFOUND/EV_EIO/EV_EFORMAT
 * when a file cannot be read, EV_ENOMEM.
 */
int ev_transcode__recheck(json_t **out, const json_t *derivation, const char *master_path,
                          const char *copy_path, ev_errbuf *err);

/* Same, with options (progress_cb and its payload are used; returning
 * nonzero from the callback cancels with EV_ECANCELED). opts may be NULL. */
int ev_transcode__recheck_ex(json_t **out, const json_t *derivation, const char *master_path,
                             const char *copy_path, const ev_transcode__opts *opts,
                             ev_errbuf *err);

/* ------------------------------------------------------------------------ */
/* Verification (transcode_verify.c; picture helpers below: picture.c)      */
/* ------------------------------------------------------------------------ */

typedef struct ev_vstream {
    int src;               /* source stream index */
    int out;               /* output stream index */
    ev_stype type;
    ev_level level;        /* EV_LEVEL_PACKET, _DECODED or _QUALITY */
    bool packet_fallback;  /* packet mismatch -> try decoded-identical */
    int cmp_pix_fmt;       /* video: convert source frames to this before comparing
                              (AV_PIX_FMT_NONE = compare native formats) */
    int out_cmp_pix_fmt;   /* video: convert the copy's frames to this (a lossless
                              repack back to the source's format), or AV_PIX_FMT_NONE */
    int orientation;       /* stills: EXIF orientation applied to the source (1 = none) */
    bool nal_units;        /* H.264/HEVC: compare the NAL units of each packet (length and
                              bytes), whether framed by start codes or length prefixes */
} ev_vstream;

typedef struct ev_vplan {
    ev_vstream *s;
    size_t n;
    double psnr_min, psnr_mean_min, ssim_min, ssim_mean_min;
    double max_ts_delta_frames;
    bool still;            /* single pictures: timestamps are not compared */
} ev_vplan;

/*
 * Verify out_path against src_path stream by stream.
 * out: {"level", "verdict": "pass"|"fail", "streams": [...], "problems": [...]}.
 * Returns EV_OK when verification ran (the verdict says pass or fail), or an
 * error when a file cannot be read (EV_EFORMAT, EV_ENOTFOUND, EV_EIO),
 * EV_ECANCELED, EV_ENOMEM.
 */
int ev_transcode__verify(json_t **out, const ev_vplan *plan, ev_level level,
                         const char *src_path, const char *out_path,
                         const ev_transcode__opts *opts, ev_errbuf *err);

/* Apply EXIF orientation (2..8) to a packed picture (tests and stills). */
int ev_transcode__orient(AVFrame **out, const AVFrame *in, int orientation);

/* PSNR (dB, 100 for identical) and SSIM of two pictures of the same size
 * and 8-bit planar format. */
int ev_transcode__quality(double *psnr, double *ssim, const AVFrame *a, const AVFrame *b);

/* Convert a picture's pixel format with the settings every conversion in this
 * module uses (no scaling; bicubic, accurate rounding, bit-exact, full chroma
 * interpolation; source range from the frame). *out is a new frame; *cache
 * keeps the scaler between calls (free with sws_freeContext). */
struct SwsContext;
int ev_transcode__convert(AVFrame **out, const AVFrame *in, int pix_fmt,
                          struct SwsContext **cache);

/* True when two pixel formats have the same memory layout (equal, or a
 * full-range "yuvj" alias of the other). */
bool ev_transcode__same_layout(int a, int b);

/* Text naming the conversion settings, for records. */
#define EV_TRANSCODE__SWS_DESC "libswscale, no scaling, flags bicubic+accurate_rnd+bitexact+full_chroma_int"

/* The result document of a run ("evidence.derivation"), check or recheck as
 * text lines for a person (result_text.c); master_path and copy_path name
 * the files of a recheck, whose document does not. NULL when out of
 * memory; free with free(). */
char *ev_transcode__result_text(const json_t *doc, const char *master_path,
                                const char *copy_path);
/* The array of problem messages of a result document (a run's
 * verification.problems, a recheck's problems), or NULL (a check). */
const json_t *ev_transcode__result_problems(const json_t *doc);

#endif
