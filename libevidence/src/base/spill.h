/*
 * spill: a generated text that may be larger than memory should hold (the
 * record, the manifests and the views of a bundle of a million items). It
 * is written through an ev_buf; past EV_BUF_FLUSH_AT bytes it goes to an
 * unnamed temporary file beside the output (O_TMPFILE: nothing is left on
 * disk whatever happens to the process) and is read back from there.
 * Short texts never touch the disk. Optionally every byte is hashed as it
 * is written, so the digests cost no second pass.
 */
#ifndef EV_SPILL_H
#define EV_SPILL_H

#include <stdint.h>

#include "base/hash.h"
#include "base/internal.h"

typedef struct ev_spill {
    ev_buf b;          /* write here (ev_buf__append, _puts, _printf) */
    int fd;            /* the temporary file, -1 while everything is in b */
    uint64_t len;      /* bytes written in all, once ended */
    uint64_t flen;     /* bytes in the file */
    ev_hasher *h;      /* every byte, when algorithms were asked for */
    char *dir;         /* where the file goes */
    int err_no;        /* errno of a failed write, for the message */
    bool ended;
} ev_spill;

/* dir: a folder on the file system of the output (NULL: $TMPDIR or /tmp
 * are not used; the current folder). algs: EV_HASH_* to hash, or 0. */
int ev_spill__init(ev_spill *s, const char *dir, uint32_t algs);
/* After the last write: the rest goes to the file (when there is one) and
 * the digests are made (d may be NULL). EV_OK, EV_EIO (message in err) or
 * EV_ENOMEM. */
int ev_spill__end(ev_spill *s, ev_digests *d, ev_errbuf *err);
/* Read len bytes at off of an ended spill; the bytes read, < len only at
 * the end, -1 on an error (errno). */
int64_t ev_spill__pread(const ev_spill *s, void *buf, size_t len, uint64_t off);
/* The whole text when it is in memory (never spilled), else NULL. */
const char *ev_spill__memory(const ev_spill *s);
void ev_spill__free(ev_spill *s);

#endif
