/*
 * container internals: what the files of the container module share and the
 * other modules never see (they use container/container.h).
 *
 *   progress.c     progress bookkeeping (ev_progress__*)
 *   store.c        the store API common to ZIP and folder bags: open, entry
 *                  list, name collisions, cursors, entry readers
 *   zip_read.c     the ZIP reader: end records, central directory, local
 *                  headers, ZIP64, data descriptors, overlap and expansion
 *                  checks, reading stored and deflated entries and their CRC
 *   folder_read.c  the folder store
 *   producer.c     producers: buffers, lazily generated buffers, entries of
 *                  another store, disk files hashed while read
 *   sink.c         sinks: open, add, commit and discard; the folder writer
 *   zip_write.c    the ZIP writer
 *
 * Thread-safety: as container/container.h.
 */
#ifndef EV_CONTAINER_INT_H
#define EV_CONTAINER_INT_H

#include <zlib.h>

#include "container/container.h"

/* ---- reading (store.c, zip_read.c, folder_read.c) ------------------------ */

struct ev_store {
    char *path;
    char *bag_name;
    bool is_zip;
    struct raw_cd *raw;      /* the central directory as we read it, by ZIP
                                index (ZIP only) */
    uint64_t nraw;
    ev_store_entry *e;
    size_t n, cap;
    struct cursor_pool *pool; /* cursors to reuse */
    size_t *index;           /* by name (store.c): entry + 1, 0 = free slot */
    size_t index_mask;
};

#define CURSOR_POOL_MAX 8
struct cursor_pool {
    pthread_mutex_t mu;
    ev_store_cursor *c[CURSOR_POOL_MAX];
    size_t n;
};

/* What the central directory says of an entry, and where its data lies
 * according to its local header (checked against the central directory
 * when the ZIP is opened). Entries are read with pread from data_off. */
struct raw_cd {
    uint64_t lho;            /* local header offset */
    uint64_t csize, usize;
    uint64_t data_off;       /* first byte of the data */
    uint64_t end;            /* end of the data (and of its data descriptor) */
    uint32_t crc;
    uint16_t method;
    uint16_t flags;          /* general purpose bits */
    uint16_t vneed;          /* version needed to extract */
    uint16_t dos_time, dos_date;
    bool placed;             /* data_off/end are known */
    const char *meta_differs; /* a field the local header gives otherwise
                                 (time, date, version needed), or NULL */
};

struct ev_store_cursor {
    const ev_store *s;
    int fd;                  /* the ZIP file; -1 until needed */
};

struct ev_entry_reader {
    const ev_store_entry *entry;
    int fd;                  /* folder bag: the file */
    uint64_t pos;
    uint64_t claimed;
    /* ZIP entries: read with pread; deflated ones are inflated here,
     * strictly (the stream must end exactly at the end of the entry's
     * compressed data), and every entry's CRC is checked at its end */
    bool zip, inflating, z_end;
    bool crc_failed;     /* the data does not match the CRC in its header */
    bool crc_skip;       /* seeked: the CRC covers one pass from the start */
    bool crc_checked;
    z_stream z;
    uint8_t *zin;
    int zfd;             /* borrowed from the cursor */
    uint64_t data_off, csize, cpos;
    uint32_t crc, want_crc;
};

/* Append e to the store's entry list; inline, so that the ZIP and folder
 * readers that fill the list do not call back into store.c, which calls
 * them. */
static inline int ev_store__push_entry(ev_store *s, ev_store_entry *e)
{
    ev_store_entry *grown = ev__grow(s->e, &s->cap, s->n, sizeof(*grown), 256);
    if (!grown)
        return EV_ENOMEM;
    s->e = grown;
    s->e[s->n++] = *e;
    return EV_OK;
}
/* Read the ZIP at s->path into s (zip_read.c). */
int ev_store__zip_open(ev_store *s, const ev_store_limits *lim, ev_report *r, ev_errbuf *err);
/* Walk the folder at s->path into s (folder_read.c). */
int ev_store__dir_open(ev_store *s, const ev_store_limits *lim, ev_report *r, ev_errbuf *err);
/* The ZIP halves of the entry reader (zip_read.c): open (er->entry set; on
 * failure the caller frees er), the CRC check at the end, reads of stored
 * and deflated data, seek. */
int ev_store__zip_entry_open(ev_entry_reader *er, ev_store_cursor *c, ev_errbuf *err);
int ev_store__zip_check_crc(ev_entry_reader *er, ev_errbuf *err);
int64_t ev_store__zip_stored_read(ev_entry_reader *er, void *buf, size_t len, ev_errbuf *err);
int64_t ev_store__zip_inflate_read(ev_entry_reader *er, void *buf, size_t len, ev_errbuf *err);
int64_t ev_store__zip_entry_seek(ev_entry_reader *er, int64_t off, int whence);
/* The folder halves (folder_read.c). */
int ev_store__dir_entry_open(ev_entry_reader *er, const ev_store *s, ev_errbuf *err);
int64_t ev_store__dir_entry_read(ev_entry_reader *er, void *buf, size_t len, ev_errbuf *err);
int64_t ev_store__dir_entry_seek(ev_entry_reader *er, int64_t off, int whence);

/* ---- writing (producer.c, sink.c, zip_write.c) -------------------------- */

/* Free what a producer made by ev_producer__* holds (producer.c). */
void ev_producer__free(const ev_producer *p);
/* The progress state of a file producer, or NULL (producer.c). */
ev_progress_state *ev_producer__progress(const ev_producer *p);

/* An entry of a sink: 56 bytes, kept until the central directory is
 * written; its producer is in the sink's prod array. */
typedef struct ev_sink_entry {
    const char *path;
    int64_t mtime;
    /* ZIP bookkeeping */
    uint64_t lho;        /* offset of the local header */
    uint64_t usize, csize;
    uint32_t crc;
    uint16_t method;
    bool compress;
    bool is_dir;
    bool path_owned;     /* path is the sink's copy (else borrowed) */
    bool zip64_local;    /* the local header carries a ZIP64 extra field */
    bool fixed;          /* stored at an offset fixed before writing */
} ev_sink_entry;

struct ev_sink {
    ev_bundle_format fmt;
    char *final_path;
    char *bag_name;
    char *tmpdir;        /* folder bag being written */
    char *tmpzip;        /* ZIP being written */
    int fd;
    int lockfd;          /* holds the flock on the temporary output until it
                            is renamed into place */
    bool replace;        /* commit replaces the bag at final_path */
    ev_progress_state *progress;
    ev_sink_entry *e;
    size_t n, cap;
    /* the producers: prod[i] is e[i]'s (zeroed for a folder) until the
     * ZIP writer has written the entries at fixed offsets; it then keeps
     * only those of the entries still to write, in their order, so that
     * the spent producers of many payload files are not held while the
     * last tag files are generated. Those not yet freed have a ctx. */
    ev_producer *prod;
    size_t nprod, capprod;
};

/* Write the ZIP and publish it (zip_write.c). */
int ev_sink__commit_zip(ev_sink *s, ev_errbuf *err);

#endif
