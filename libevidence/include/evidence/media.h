/**
 * @file evidence/media.h
 * @brief Analyse one media file: what it is, when and where it was captured,
 *        and its content hashes (used by `evidence inspect FILE`).
 * @defgroup ev_media Media analysis
 * @{
 *
 * The result is one JSON document (format "evidence.media", version 1) with
 * the same `media`, `capture` and `content_hashes` values that a bundle
 * records for an item; see docs/media.md, docs/content-hashes.md and
 * docs/schema/media.schema.json. Media that cannot be parsed is not an
 * error: the document then carries `media.error`.
 *
 * Thread-safety: a handle is used by one thread at a time; different handles
 * may be used in parallel.
 */
#ifndef EVIDENCE_MEDIA_H
#define EVIDENCE_MEDIA_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Keep the extra files (per-frame hash lists, raw EXIF) for
 *  ev_media_meta_get(), and list them in the document as "meta_files". */
#define EV_MEDIA_META_FILES 0x1u
/** Do not compute the SHA-256 of the whole file (file.sha256 is omitted). */
#define EV_MEDIA_NO_FILE_HASH 0x2u

typedef struct ev_media ev_media;

/** Options for ev_media_new(). A zero value is the default for every field. */
typedef struct ev_media_options {
    unsigned int version;    /**< EV_MEDIA_OPTIONS_VERSION */
    uint32_t flags;          /**< EV_MEDIA_* */
    int content_hash;        /**< an ev_content_hash_mode value (evidence/bundle.h):
                                  0 = packets and decoded */
    unsigned int threads;    /**< decoder threads; 0 = automatic */
    uint32_t time_limit_s;   /**< wall-clock limit per file in seconds;
                                  0 = 300 s plus 1 s per MiB */
} ev_media_options;

#define EV_MEDIA_OPTIONS_VERSION 1
#define EV_MEDIA_OPTIONS_INIT EV_OPTIONS_INIT_(ev_media_options, EV_MEDIA_OPTIONS_VERSION)

/**
 * Initialise options to their defaults.
 * @param opts     Options to fill; must not be NULL.
 * @param version  EV_MEDIA_OPTIONS_VERSION.
 * @return EV_OK, EV_EINVAL or EV_EVERSION.
 */
EV_EXTERN int ev_media_options_init(ev_media_options *opts, unsigned int version);

/**
 * Create a media analyser. CONSTRUCTOR.
 * @param out   Receives the handle; NULL on failure (nothing to free).
 * @param opts  Options, or NULL for defaults; copied.
 * @return EV_OK, EV_ENOMEM, EV_EINVAL (unknown content_hash value) or
 *         EV_EVERSION.
 */
EV_EXTERN int ev_media_new(ev_media **out, const ev_media_options *opts);

/**
 * Analyse one file and describe it as one JSON object:
 * {"format":"evidence.media","format_version":1,
 *  "file":{"name","size","sha256","mime"},"media":{...},"capture":{...},
 *  "content_hashes":[...]} ("capture" and "content_hashes" only when found).
 * Unreadable media is not a failure: the object then has "media.error".
 * @param out_json  Receives a NUL-terminated UTF-8 string; free with
 *                  ev_free(). NULL on failure.
 * @param m         Handle from ev_media_new(); must not be NULL.
 * @param path      File to read; copied.
 * @return EV_OK, EV_ENOTFOUND (no such file), EV_EIO (cannot read),
 *         EV_EINVAL (not a regular file), EV_ENOMEM; the message is in
 *         ev_media_last_error(m).
 * Ownership: extra files of this call stay readable with ev_media_meta_get()
 * until the next analysis on m or ev_media_free(m).
 */
EV_EXTERN int ev_media_analyze_file(char **out_json, ev_media *m, const char *path);

/**
 * Same as ev_media_analyze_file() over a caller's byte source (for example
 * an entry inside a bundle).
 * @param out_json   Receives the JSON text; free with ev_free().
 * @param m          Handle; must not be NULL.
 * @param io         Source; read (and seek when possible) during the call
 *                   only. Returning EV_ECANCELED from io->read cancels.
 * @param name_hint  Original file name for "file.name" and as an extension
 *                   hint only (detection is by content); may be NULL.
 * @return EV_OK, EV_EIO, EV_ECANCELED, EV_EINVAL or EV_ENOMEM.
 */
EV_EXTERN int ev_media_analyze_io(char **out_json, ev_media *m, const ev_io *io,
                                  const char *name_hint);

/**
 * The document of the last successful analysis on m as text lines for a
 * person (what `evidence inspect FILE` prints): file, container, streams,
 * timelines, capture facts, content hashes. Built from the same values as
 * the JSON, which stays the interface for programs: the text may change
 * between versions (docs/api/results.md).
 * @param out  Receives NUL-terminated UTF-8 text ending in a newline; free
 *             with ev_free(). NULL on failure.
 * @param m    Handle; must not be NULL.
 * @return EV_OK, EV_EINVAL, EV_ENOTFOUND (no analysis yet, or the last one
 *         failed) or EV_ENOMEM.
 * Ownership: the text is the caller's; m keeps the last document until the
 * next analysis on m or ev_media_free(m). Thread-safety: as for the handle.
 */
EV_EXTERN int ev_media_result_text(char **out, const ev_media *m);

/**
 * Number of extra files kept by the last analysis (EV_MEDIA_META_FILES).
 * @param m  Handle; may be NULL (then 0).
 */
EV_EXTERN size_t ev_media_meta_count(const ev_media *m);

/**
 * One extra file of the last analysis (per-frame hash list or raw EXIF).
 * @param m         Handle; must not be NULL.
 * @param i         0-based index below ev_media_meta_count(m).
 * @param out_name  Receives the file name (relative, safe ASCII); borrowed.
 * @param out_data  Receives the bytes; borrowed.
 * @param out_len   Receives the length in bytes.
 * @return EV_OK or EV_ENOTFOUND (index out of range).
 * Ownership: valid until the next analysis on m or ev_media_free(m).
 */
EV_EXTERN int ev_media_meta_get(const ev_media *m, size_t i, const char **out_name,
                                const uint8_t **out_data, size_t *out_len);

/**
 * Message of the last failed call on this handle.
 * @return Text owned by the handle, valid until the next call on it; never
 *         NULL.
 */
EV_EXTERN const char *ev_media_last_error(const ev_media *m);

/** Free a media analyser. DESTRUCTOR. Does nothing when m is NULL. */
EV_EXTERN void ev_media_free(ev_media *m);

#ifdef __cplusplus
}
#endif
/** @} */
#endif
