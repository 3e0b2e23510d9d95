/*
 * fuzz_files: the scratch folder and file writing that the fuzz targets which
 * need their input as a file share (zip, amend, mp4box). Header-only: each
 * target is its own program.
 *
 * fuzz_workdir(tag) makes "$TMPDIR/ev-<tag>-XXXXXX" (or under /tmp) once per
 * process and removes it, with everything in it, at exit.
 * fuzz_write_file(path, d, n) writes d[0..n) to path (0600), retrying on
 * EINTR; 0 on success, -1 on failure.
 */
#ifndef EV_FUZZ_FILES_H
#define EV_FUZZ_FILES_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/publish.h"

static char fuzz_tmpdir_[256];

static void fuzz_cleanup_tmpdir_(void)
{
    if (fuzz_tmpdir_[0])
        ev__rm_tree(fuzz_tmpdir_);
}

static const char *fuzz_workdir(const char *tag)
{
    if (fuzz_tmpdir_[0])
        return fuzz_tmpdir_;
    const char *base = getenv("TMPDIR");
    snprintf(fuzz_tmpdir_, sizeof(fuzz_tmpdir_), "%s/ev-%s-XXXXXX", base && *base ? base : "/tmp",
             tag);
    if (!mkdtemp(fuzz_tmpdir_)) {
        perror("mkdtemp");
        abort();
    }
    atexit(fuzz_cleanup_tmpdir_);
    return fuzz_tmpdir_;
}

static int fuzz_write_file(const char *path, const uint8_t *d, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, d + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    return close(fd);
}

#endif
