/*
 * publish: how the library writes an output so that no reader ever sees a
 * half-written one, and what it promises about the disk (docs/architecture.md,
 * "Publishing outputs").
 *
 * Every output (bundle ZIP or folder, transcoded copy, extracted folder,
 * amended bundle) is written under a temporary name beside its target,
 * ".<name>.partial-XXXXXX", held with flock(2) while it is written, and then
 * published with ev__publish. A writer killed with -9 leaves such a name
 * with no lock holder; the next writer of the same target removes it.
 *
 * Thread-safety: no shared state; calls on different targets may run in
 * parallel, and two writers of one target are kept apart by the file system
 * (RENAME_NOREPLACE) and the locks.
 */
#ifndef EV_PUBLISH_H
#define EV_PUBLISH_H

#include <stdbool.h>

#include "base/internal.h"

/* Temporary output beside final_path, named ".<name>.partial-XXXXXX" (a
 * file, or a folder when dir) and locked (flock) for as long as *fd_out is
 * open. A writer killed with -9 leaves a name whose lock anyone can take:
 * such stale ones of the same target (and those of earlier versions,
 * ".<name>.amend-*") are removed first. */
int ev__tmp_create(char **path_out, int *fd_out, const char *final_path, bool dir,
                   ev_errbuf *err);
/* Remove the stale temporary outputs of final_path (see ev__tmp_create). */
void ev__tmp_clean_stale(const char *final_path);

/* The folder that holds path ("." for a bare name, "/" for "/x"); caller
 * frees; NULL when out of memory. */
char *ev__parent_dir(const char *path);

/* rm -rf without following symlinks. */
int ev__rm_tree(const char *path);

enum {
    /* replace an existing target (atomically for a file; a folder is
     * exchanged with the old one, which is then removed) */
    EV_PUBLISH_REPLACE = 1u << 0,
    /* skip the flushes: for scratch copies that nobody keeps */
    EV_PUBLISH_NOSYNC = 1u << 1,
};

/* Move the finished temporary output tmp (a file or a folder made by
 * ev__tmp_create) to final_path, the one way the library publishes.
 *
 * The guarantee, unless EV_PUBLISH_NOSYNC: before the rename the data of
 * tmp is flushed to stable storage (fsync of the file; for a folder, of the
 * folder itself and of every regular file directly or indirectly in it),
 * and after it the folder that holds final_path is flushed, so that once
 * this returns EV_OK a power cut leaves the complete new output under
 * final_path. At every moment final_path names either nothing or the old
 * output (EV_PUBLISH_REPLACE) or the complete new one, never a part.
 * Without EV_PUBLISH_REPLACE an existing final_path is never replaced
 * (renameat2 RENAME_NOREPLACE, or link(2) on file systems without it):
 * EV_EEXISTS. what names the output in messages ("bundle", "copy"). On
 * failure tmp is left in place for the caller to remove. */
int ev__publish(const char *tmp, const char *final_path, unsigned flags, const char *what,
                ev_errbuf *err);

/* Write len bytes to path through a temporary file and ev__publish
 * (flags as there; the file gets mode 0644). */
int ev__write_file_atomic(const char *path, const void *data, size_t len, unsigned flags,
                          ev_errbuf *err);

#endif
