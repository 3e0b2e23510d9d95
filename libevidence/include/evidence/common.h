/**
 * @file evidence/common.h
 * @brief Status codes, versions, progress and logging shared by every module.
 * @defgroup ev_common Common definitions
 * @{
 *
 * Thread-safety: everything here is safe to call from any thread.
 */
#ifndef EVIDENCE_COMMON_H
#define EVIDENCE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(EV_BUILDING_LIBRARY) && defined(__GNUC__)
#define EV_EXTERN __attribute__((visibility("default")))
#else
#define EV_EXTERN
#endif

/**
 * The initializer behind every EV_*_OPTIONS_INIT: every field zero (the
 * defaults) and the version set. C gets a designated initializer; C++,
 * which has those only from C++20, a value-initialized copy (C++11).
 * Neither warns under -Wall -Wextra.
 */
#ifdef __cplusplus
#define EV_OPTIONS_INIT_(type, ver) ([] { type ev_o_ = type(); ev_o_.version = (ver); return ev_o_; }())
#else
#define EV_OPTIONS_INIT_(type, ver) { .version = (ver) }
#endif

/** Compile-time version of the headers. */
#define EV_VERSION_MAJOR 0
#define EV_VERSION_MINOR 1
#define EV_VERSION_PATCH 0
#define EV_VERSION_STRING "0.1.0"
#define EV_VERSION_NUMBER \
    (EV_VERSION_MAJOR * 1000000 + EV_VERSION_MINOR * 1000 + EV_VERSION_PATCH)

/**
 * Status codes. Append-only: values never change and are never reused.
 * Negative is failure; 0 is success. See docs/api/errors.md.
 */
typedef enum ev_status {
    EV_OK = 0,
    EV_ERROR = -1,        /**< generic failure; the handle's message says more */
    EV_ENOMEM = -2,       /**< out of memory */
    EV_EINVAL = -3,       /**< invalid argument from the caller */
    EV_ENOTFOUND = -4,    /**< file, entry or item not found */
    EV_EIO = -5,          /**< read or write error from the operating system */
    EV_EFORMAT = -6,      /**< corrupt or unrecognised input */
    EV_EUNSUPPORTED = -7, /**< valid input this build cannot handle */
    EV_ECANCELED = -8,    /**< a callback asked to stop */
    EV_EVERSION = -9,     /**< options struct has an unknown version */
    EV_EUNSAFE = -10,     /**< a name or size inside a bundle was refused as unsafe */
    EV_EEXISTS = -11      /**< the output already exists */
} ev_status;

/**
 * Describe a status code.
 * @param s  Any value; unknown values get a generic text.
 * @return Static text, never NULL.
 */
EV_EXTERN const char *ev_strerror(int s);

/**
 * Symbolic name of a status code, e.g. "EV_EIO".
 * @param s  Any value.
 * @return Static text, never NULL ("EV_UNKNOWN" for unknown values).
 */
EV_EXTERN const char *ev_status_name(int s);

/**
 * Run-time library version, to compare with EV_VERSION_NUMBER.
 * @return EV_VERSION_NUMBER of the library actually loaded.
 */
EV_EXTERN int ev_version_number(void);

/**
 * Run-time library version as text, e.g. "0.1.0".
 * @return Static text, never NULL.
 */
EV_EXTERN const char *ev_version_string(void);

/**
 * Versions of the libraries this build runs with, as one JSON object
 * (e.g. {"libevidence":"0.1.0","libavformat":"59.27.100",...}).
 * @param out  Receives a NUL-terminated string; free it with ev_free().
 * @return EV_OK or EV_ENOMEM.
 */
EV_EXTERN int ev_library_versions_json(char **out);

/**
 * Free memory that the library returned through an out-parameter.
 * @param p  May be NULL.
 */
EV_EXTERN void ev_free(void *p);

/**
 * Write a file the way the library writes its own outputs: under a hidden
 * temporary name ".NAME.partial-XXXXXX" beside path, locked while it is
 * written, flushed to disk, renamed into place, and the folder flushed
 * (docs/architecture.md, "Publishing outputs"). A reader never sees a part
 * of it under path; stale temporaries of path left by killed writers are
 * removed first. Thread-safe.
 * @param path     Target file.
 * @param data     Bytes to write (may be NULL when len is 0).
 * @param len      Their number.
 * @param replace  Nonzero: replace an existing path atomically; zero: leave
 *                 it alone and return EV_EEXISTS.
 * @param errmsg   If not NULL, receives a message on failure (free it with
 *                 ev_free()); set to NULL on success.
 * @return EV_OK, EV_EEXISTS, EV_EIO or EV_ENOMEM.
 */
EV_EXTERN int ev_write_file_atomic(const char *path, const void *data, size_t len, int replace,
                                   char **errmsg);

/** Progress report. bytes_total == 0 means unknown. */
typedef struct ev_progress {
    unsigned int version;    /**< EV_PROGRESS_VERSION */
    const char *stage;       /**< static text: "hashing", "verifying", ... */
    const char *current;     /**< path being processed, or NULL; borrowed */
    uint64_t bytes_done;
    uint64_t bytes_total;
    uint64_t files_done;
    uint64_t files_total;
} ev_progress;
#define EV_PROGRESS_VERSION 1

/**
 * Progress callback. Called on the calling thread, at most about ten times
 * per second plus once at completion. Returning nonzero cancels the operation,
 * which then returns EV_ECANCELED. Must not call back into the same handle.
 */
typedef int (*ev_progress_cb)(const ev_progress *p, void *payload);

/** Log levels for ev_log_cb. */
typedef enum ev_log_level {
    EV_LOG_ERROR = 0,
    EV_LOG_WARNING = 1,
    EV_LOG_INFO = 2,
    EV_LOG_DEBUG = 3
} ev_log_level;

/**
 * Log callback. May be called from worker threads; it must be thread-safe.
 * @param msg  One line of text without a trailing newline; borrowed.
 */
typedef void (*ev_log_cb)(ev_log_level level, const char *msg, void *payload);

/**
 * A readable, optionally seekable byte source supplied by the caller
 * (used to feed data from memory, a network stream or a bundle entry).
 * Plain struct: the caller owns it and everything it points at.
 */
typedef struct ev_io {
    unsigned int version; /**< EV_IO_VERSION */
    void *opaque;         /**< passed to the callbacks */
    /** Read up to len bytes; return bytes read, 0 at end, negative on error. */
    int64_t (*read)(void *opaque, uint8_t *buf, size_t len);
    /** Seek (whence 0=SET, 1=CUR, 2=END); return new position or negative.
     *  May be NULL for a stream that cannot seek. */
    int64_t (*seek)(void *opaque, int64_t offset, int whence);
    uint64_t size;        /**< total size if known, else 0 */
} ev_io;
#define EV_IO_VERSION 1

#ifdef __cplusplus
}
#endif
/** @} */
#endif
