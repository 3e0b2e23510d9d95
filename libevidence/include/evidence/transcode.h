/**
 * @file evidence/transcode.h
 * @brief Make verified copies to a profile; check files against a profile.
 * @defgroup ev_transcode Transcoding and conformance
 * @{
 *
 * ev_transcode_run() makes a copy of a media file according to a profile
 * (see evidence/profile.h) with libavformat/libavcodec, then verifies it
 * against the source at the profile's level (packet-identical,
 * decoded-identical or quality-bounded) and produces a derivation record
 * (JSON, docs/schema/derivation.schema.json). ev_transcode_check() runs a
 * profile's conformance checks on any file. ev_transcode_recheck() repeats
 * the verification of an earlier copy from its derivation record.
 *
 * Thread-safety: a handle is used by one thread at a time; different
 * handles may run in parallel and may share one ev_profile.
 */
#ifndef EVIDENCE_TRANSCODE_H
#define EVIDENCE_TRANSCODE_H

#include "common.h"
#include "profile.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Handle for transcoding, checking and re-checking; holds the last result. */
typedef struct ev_transcode ev_transcode;

/** Skip the verification (the record says "not-run"). */
#define EV_TRANSCODE_NO_VERIFY 0x1u
/** Replace the output file if it exists (default: refuse with EV_EEXISTS). */
#define EV_TRANSCODE_OVERWRITE 0x2u
/** Do not flush the copy to disk before renaming it into place (faster;
 *  after a system crash the output may be incomplete). For scratch copies
 *  that are read back, e.g. into a bundle. */
#define EV_TRANSCODE_NO_SYNC 0x4u
/** Also write the derivation record (the result JSON) to
 *  "<out_path>.derivation.json". The record is published before the copy,
 *  so that a copy at out_path always has its record beside it, even when
 *  the process is killed between the two renames; if the copy cannot then
 *  be published the record is removed again. A record whose copy is absent
 *  (left by a run killed between the two renames) is replaced, and the new
 *  record's "notes" say so; any other existing record makes the run fail
 *  with EV_EEXISTS before any work, unless EV_TRANSCODE_OVERWRITE. */
#define EV_TRANSCODE_WRITE_RECORD 0x8u

/** Options for ev_transcode_new(). Zero values are the defaults. */
typedef struct ev_transcode_options {
    unsigned int version;        /**< EV_TRANSCODE_OPTIONS_VERSION */
    uint32_t flags;              /**< EV_TRANSCODE_* */
    unsigned int threads;        /**< codec threads; 0 = automatic */
    ev_progress_cb progress_cb;  /**< may be NULL */
    void *progress_payload;
    /* version 2 */
    /** A frame rate the user states for a source with no time per frame (a
     *  raw H.264/H.265 elementary stream), as the fraction
     *  assume_fps_num / assume_fps_den (e.g. 25/2 for 12.5 fps); 0/0 = none.
     *  Such a source is refused without it. The derivation record gives it
     *  as an assumption ("timing": {"source": "assumed", ...}), never as a
     *  measured rate; sources that carry their own times ignore it (the
     *  record notes that). Set it with ev_transcode_options_assume_fps(). */
    unsigned int assume_fps_num;
    unsigned int assume_fps_den;  /**< see assume_fps_num */
} ev_transcode_options;

/** Version 2 added assume_fps_num/assume_fps_den; structs of version 1 are
 *  still accepted by ev_transcode_options_init() and ev_transcode_new(). */
#define EV_TRANSCODE_OPTIONS_VERSION 2
#define EV_TRANSCODE_OPTIONS_INIT EV_OPTIONS_INIT_(ev_transcode_options, EV_TRANSCODE_OPTIONS_VERSION)

/** Outcome of the last run, check or recheck. */
typedef enum ev_transcode_verdict {
    EV_TRANSCODE_PASS = 0,         /**< verified (or all checks passed) */
    EV_TRANSCODE_FAIL = 1,         /**< ran; the copy or file does not meet the profile */
    EV_TRANSCODE_NOT_VERIFIED = 2  /**< copy made with EV_TRANSCODE_NO_VERIFY, or no result yet */
} ev_transcode_verdict;

/**
 * Initialise options to their defaults.
 * @param opts     Options to fill; must not be NULL.
 * @param version  EV_TRANSCODE_OPTIONS_VERSION.
 * @return EV_OK, EV_EINVAL or EV_EVERSION.
 */
EV_EXTERN int ev_transcode_options_init(ev_transcode_options *opts, unsigned int version);

/**
 * Set assume_fps_num/assume_fps_den from a rate as a person writes it:
 * "12.5", "25", "30000/1001" (decimal digits, at most 6 after the point, or
 * a fraction of two integers). The value must be above 0 and at most 1000
 * frames per second; the fraction is reduced ("12.5" -> 25/2).
 * @param opts  Options of version 2 or later; must not be NULL.
 * @param rate  The rate; must not be NULL.
 * @return EV_OK, or EV_EINVAL (opts unchanged) for anything else: empty,
 *         0, negative, "nan", "1e3", a zero denominator, over 1000.
 */
EV_EXTERN int ev_transcode_options_assume_fps(ev_transcode_options *opts, const char *rate);

/**
 * Create a handle. CONSTRUCTOR.
 * @param out   Receives the handle; NULL on failure (nothing to free).
 * @param opts  Options, or NULL for defaults; copied.
 * @return EV_OK, EV_EINVAL, EV_EVERSION or EV_ENOMEM.
 */
EV_EXTERN int ev_transcode_new(ev_transcode **out, const ev_transcode_options *opts);

/**
 * Free a handle and its last result. DESTRUCTOR.
 * @param t  May be NULL.
 */
EV_EXTERN void ev_transcode_free(ev_transcode *t);

/**
 * Message of the last failed call on this handle.
 * @param t  Handle; may be NULL.
 * @return Text owned by the handle, valid until the next call on it; never NULL.
 */
EV_EXTERN const char *ev_transcode_last_error(const ev_transcode *t);

/**
 * Make a copy of in_path at out_path according to profile p and verify it.
 * The output is written under a temporary name in out_path's folder and
 * renamed only when the copy is complete and verified; on any failure, and
 * when the verification fails, nothing is left at out_path.
 * @param t         Handle; must not be NULL.
 * @param p         Profile (from an ev_profile_catalog); must not be NULL.
 * @param in_path   Source file; copied.
 * @param out_path  Output file; must not exist unless EV_TRANSCODE_OVERWRITE.
 * @return EV_OK when the copy was made and the verification ran or was
 *         skipped (see ev_transcode_verdict(); the record is in
 *         ev_transcode_result_json()); EV_EUNSUPPORTED when the profile
 *         refuses this input; EV_EFORMAT when the input is damaged,
 *         truncated or has no frames (a stream copy refuses the damage it
 *         can see without decoding: docs/profiles.md); EV_ENOTFOUND, EV_EEXISTS, EV_EINVAL, EV_EIO, EV_ECANCELED
 *         or another negative ev_status, with the message in
 *         ev_transcode_last_error(t).
 */
EV_EXTERN int ev_transcode_run(ev_transcode *t, const ev_profile *p, const char *in_path,
                               const char *out_path);

/**
 * Check any file against a profile's conformance rules (container, codecs,
 * pixel format, bit depth, GOP, FFV1 slices and CRCs, MP4 faststart, audio
 * format, clean decoding). The report is in ev_transcode_result_json().
 * @param t     Handle; must not be NULL.
 * @param p     Profile; must not be NULL.
 * @param path  File to check; copied.
 * @return EV_OK when the checks ran (see ev_transcode_verdict()); EV_EFORMAT,
 *         EV_ENOTFOUND, EV_EUNSUPPORTED or EV_EIO when the file cannot be read
 *         as media; EV_ENOMEM.
 */
EV_EXTERN int ev_transcode_check(ev_transcode *t, const ev_profile *p, const char *path);

/**
 * Repeat the verification of an earlier copy from its derivation record:
 * source and output SHA-256, then the per-stream verification.
 * @param t                Handle; must not be NULL.
 * @param derivation_json  The derivation record as JSON text; copied.
 * @param master_path      The source the copy was made from.
 * @param copy_path        The copy.
 * @return EV_OK when the check ran (see ev_transcode_verdict()); EV_EFORMAT
 *         when the record is not a derivation record or a file cannot be
 *         read as media; EV_ENOTFOUND, EV_EIO, EV_ENOMEM.
 */
EV_EXTERN int ev_transcode_recheck(ev_transcode *t, const char *derivation_json,
                                   const char *master_path, const char *copy_path);

/**
 * Verdict of the last successful run, check or recheck.
 * @param t  Handle; must not be NULL.
 * @return The verdict (EV_TRANSCODE_NOT_VERIFIED before any result).
 */
EV_EXTERN ev_transcode_verdict ev_transcode_verdict_get(const ev_transcode *t);

/**
 * Result of the last successful call as JSON text: the derivation record
 * (run), the check report (check) or the recheck report (recheck).
 * @param t  Handle; must not be NULL.
 * @return Borrowed text valid until the next call on t, or NULL when there is
 *         no result.
 */
EV_EXTERN const char *ev_transcode_result_json(const ev_transcode *t);

/**
 * Result of the last successful call as text lines for a person, built from
 * the same document as ev_transcode_result_json(): for a run, "OUT: made
 * with profile P (LEVEL): VERDICT" and a line per stream (what `evidence
 * transcode` prints); for a check, a line per check and "FILE: pass|FAIL
 * against P (counts)" (what `evidence check` prints); for a recheck,
 * "COPY: pass|FAIL against MASTER". The problems are not in the text: see
 * ev_transcode_problem(). The JSON stays the interface for programs; this
 * text may change between versions (docs/api/results.md).
 * @param t  Handle; must not be NULL.
 * @return Borrowed NUL-terminated UTF-8 text ending in a newline, valid
 *         until the next call on t, or NULL when there is no result.
 * Thread-safety: as for the handle (one thread at a time).
 */
EV_EXTERN const char *ev_transcode_result_text(const ev_transcode *t);

/**
 * Number of problems the last result names (a run's verification problems,
 * a recheck's problems; a check has none: its failed checks are in its
 * results).
 * @param t  Handle; may be NULL (then 0).
 * @return The count; 0 when there is no result.
 */
EV_EXTERN size_t ev_transcode_problem_count(const ev_transcode *t);

/**
 * One problem of the last result, as a sentence for a person.
 * @param t  Handle; must not be NULL.
 * @param i  Index below ev_transcode_problem_count(t).
 * @return Borrowed text valid until the next call on t, or NULL when i is
 *         out of range.
 */
EV_EXTERN const char *ev_transcode_problem(const ev_transcode *t, size_t i);

#ifdef __cplusplus
}
#endif
/** @} */
#endif
