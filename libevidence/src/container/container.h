/*
 * container: a bag stored as a ZIP (read and written by the library itself,
 * zip_read.c and zip_write.c, not by libzip) or as a folder. Reading treats
 * every name and size as hostile; writing is atomic (temporary name, then
 * rename) and reads each payload byte once. The files of the module and
 * what they share: container_int.h.
 */
#ifndef EV_CONTAINER_H
#define EV_CONTAINER_H

#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>

#include "evidence/bundle.h"
#include "base/hash.h"
#include "base/internal.h"
#include "base/publish.h"
#include "base/report.h"
#include "base/spill.h"

/* ---- reading -------------------------------------------------------------- */

typedef enum ev_entry_type {
    EV_ENTRY_FILE = 0,
    EV_ENTRY_DIR = 1,
    EV_ENTRY_SYMLINK = 2,
    EV_ENTRY_OTHER = 3
} ev_entry_type;

typedef struct ev_store_entry {
    char *name;           /* bag-relative path (top folder removed); for dirs no trailing '/' */
    uint64_t size;        /* claimed uncompressed size */
    uint64_t comp_size;
    uint64_t index;       /* ZIP index */
    ev_entry_type type;
    bool deflated;        /* not stored */
    bool unsafe;          /* refused: never opened */
    int64_t mtime;
} ev_store_entry;

typedef struct ev_store_limits {
    uint64_t max_entries;
    uint64_t max_total_size;
    uint64_t max_ratio;
} ev_store_limits;

typedef struct ev_store ev_store;

/* Open a ZIP or a folder. Problems with individual entries (unsafe names,
 * duplicates, symlinks, lying sizes) are added to r and the entry is marked
 * unsafe; fatal problems (not a ZIP, truncated, no single top folder, over
 * the limits) return EV_EFORMAT/EV_EUNSAFE with the message in err. */
int ev_store__open(ev_store **out, const char *path, const ev_store_limits *lim, ev_report *r,
                   ev_errbuf *err);
void ev_store__free(ev_store *s);
bool ev_store__is_zip(const ev_store *s);
const char *ev_store__bag_name(const ev_store *s);
const char *ev_store__path(const ev_store *s);
size_t ev_store__count(const ev_store *s);
const ev_store_entry *ev_store__entry(const ev_store *s, size_t i);
/* Index of a (safe) entry by exact bag-relative name, or -1. */
long ev_store__find(const ev_store *s, const char *name);

/* A reader for one entry. Each thread uses its own ev_store_cursor. */
typedef struct ev_store_cursor ev_store_cursor;
int ev_store__cursor_new(ev_store_cursor **out, const ev_store *s, ev_errbuf *err);
void ev_store__cursor_free(ev_store_cursor *c);

typedef struct ev_entry_reader ev_entry_reader;
int ev_store__entry_open(ev_entry_reader **out, ev_store_cursor *c, size_t i, ev_errbuf *err);
/* Returns bytes read (0 at end) or a negative ev_status (message in err).
 * Fails with EV_EFORMAT when the data runs past the claimed size. */
int64_t ev_store__entry_read(ev_entry_reader *er, void *buf, size_t len, ev_errbuf *err);
/* After a failed read: true when a stored entry's data did not match the CRC
 * in its header, i.e. its bytes were changed. */
bool ev_store__entry_crc_failed(const ev_entry_reader *er);
/* Seek within the entry (stored ZIP entries and files only). */
int64_t ev_store__entry_seek(ev_entry_reader *er, int64_t off, int whence);
void ev_store__entry_close(ev_entry_reader *er);
/* An ev_io over an open entry reader. */
void ev_store__entry_io(ev_io *io, ev_entry_reader *er);

/* Read a whole entry to its end, discarding the bytes: EV_OK when it reads
 * completely, holds the claimed size and matches its CRC; *crc_failed tells
 * a CRC mismatch (changed bytes) from other damage. */
int ev_store__check_entry(const ev_store *s, size_t i, bool *crc_failed, ev_errbuf *err);

/* Read a whole entry into memory (NUL-terminated), refusing > max bytes. */
int ev_store__read_all(char **out, size_t *out_len, const ev_store *s, size_t i, size_t max,
                       ev_errbuf *err);
/* The same into sp (made with ev_spill__init, ended here): past 256 KiB
 * the bytes go to its temporary file, not memory. EV_OK; EV_EIO when the
 * temporary file could not be written (message in err); else as
 * ev_store__read_all. */
int ev_store__read_spill(ev_spill *sp, const ev_store *s, size_t i, size_t max, ev_errbuf *err);

/* ---- writing -------------------------------------------------------------- */

/* Produces an entry's bytes at commit time, in the order entries were added. */
typedef struct ev_producer {
    /* Called once before reading; may compute the content now. Set *size
     * when known (else leave UINT64_MAX). Return EV_OK or a negative status. */
    int (*open)(void *ctx, uint64_t *size, ev_errbuf *err);
    /* Bytes read (0 at end) or a negative ev_status. */
    int64_t (*read)(void *ctx, void *buf, size_t len, ev_errbuf *err);
    /* Called after the last read (also after a failure); returns a status
     * (e.g. size changed while reading). */
    int (*close)(void *ctx, bool ok, ev_errbuf *err);
    void *ctx;
    /* The size the entry will have, when known before open (UINT64_MAX
     * otherwise). A stored ZIP entry with a known size is written in
     * parallel with others at an offset fixed in advance; a producer that
     * then yields a different size fails the commit. */
    uint64_t size_hint;
} ev_producer;

typedef struct ev_sink ev_sink;

/* ev__tmp_create, ev__tmp_clean_stale: base/publish.h */

/* Start writing a bag whose final location is final_path (a .zip file or a
 * folder). Nothing appears at final_path before ev_sink__commit succeeds. */
int ev_sink__open(ev_sink **out, const char *final_path, ev_bundle_format fmt,
                  const char *bag_name, ev_errbuf *err);
/* The same, for a bag that replaces the one at final_path when committed
 * (a ZIP is renamed over it; a folder is exchanged with it). */
int ev_sink__open_replace(ev_sink **out, const char *final_path, ev_bundle_format fmt,
                          const char *bag_name, ev_errbuf *err);
/* Add an entry (bag-relative path). compress: deflate in a ZIP. mtime may be 0. */
int ev_sink__add(ev_sink *s, const char *path, const ev_producer *p, bool compress,
                 int64_t mtime, ev_errbuf *err);
/* The same with path borrowed, not copied: it must stay valid and unchanged
 * until the sink is freed (the payload paths a writer holds anyway). */
int ev_sink__add_borrowed(ev_sink *s, const char *path, const ev_producer *p, bool compress,
                          int64_t mtime, ev_errbuf *err);
int ev_sink__add_dir(ev_sink *s, const char *path, ev_errbuf *err);
/* Write everything and move it into place. */
int ev_sink__commit(ev_sink *s, ev_errbuf *err);
/* Discard (removes temporary output). Safe after commit. */
void ev_sink__free(ev_sink *s);

/* A producer that serves a memory buffer produced lazily by gen() at open
 * time. gen returns malloc'd bytes in *data (freed by the producer). */
typedef int (*ev_gen_fn)(void *gen_ctx, char **data, size_t *len, ev_errbuf *err);
int ev_producer__lazy(ev_producer *out, ev_gen_fn gen, void *gen_ctx);
/* A producer over a copy of a buffer. */
int ev_producer__buffer(ev_producer *out, const void *data, size_t len);
/* A producer over an entry of an existing store, copied as-is. */
int ev_producer__store_entry(ev_producer *out, const ev_store *s, size_t i);

/* A producer over a disk file that hashes while it is read (reader thread
 * with read-ahead for big files). Results are in *res after close. path,
 * res and progress are borrowed: they must stay valid until the producer
 * is freed (by its sink). */
typedef struct ev_file_result_internal {
    ev_digests digests;
    uint64_t bytes;
    bool done;
} ev_filehash_result;

/* Progress bookkeeping shared by long operations (calls the callback at
 * most ~10 times a second, on the thread that called ev_progress__init;
 * other threads only count). */
typedef struct ev_progress_state {
    ev_progress_cb cb;
    void *payload;
    ev_progress p;
    int64_t last_ms;
    pthread_mutex_t mu;      /* counts may come from worker threads */
    pthread_t owner;         /* the only thread that calls cb */
    bool canceled;
} ev_progress_state;

void ev_progress__init(ev_progress_state *st, ev_progress_cb cb, void *payload, const char *stage,
                       uint64_t bytes_total, uint64_t files_total);
/* Returns EV_ECANCELED when the callback asks to stop. */
int ev_progress__add(ev_progress_state *st, uint64_t bytes, uint64_t files, const char *current,
                     bool force);

int ev_producer__file(ev_producer *out, const char *path, uint64_t expect_size, uint32_t algs,
                      ev_filehash_result *res, ev_progress_state *progress);
/* The same, with the digests handed to done(done_ctx, digests) once the
 * whole file was read and found unchanged, instead of kept in a result
 * the caller holds for every file until the end (called once, on the
 * thread that wrote the entry). */
int ev_producer__file_cb(ev_producer *out, const char *path, uint64_t expect_size,
                         uint32_t algs, void (*done)(void *ctx, const ev_digests *d),
                         void *done_ctx, ev_progress_state *progress);

#endif
