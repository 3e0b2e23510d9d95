/*
 * publish: temporary outputs and their publication under the final name
 * (base/publish.h states the guarantee).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/publish.h"

char *ev__parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ev__strdup(".");
    if (slash == path)
        return ev__strdup("/");
    return ev__strndup(path, (size_t)(slash - path));
}

/* ".<base>.partial-" (and ".<base>.amend-", "..<base>.amend-" of earlier
 * versions): a temporary output of the target named base */
static bool is_tmp_of(const char *name, const char *base)
{
    static const char *const pre[3] = { ".", ".", ".." };
    static const char *const suf[3] = { ".partial-", ".amend-", ".amend-" };
    size_t bl = strlen(base);
    for (int k = 0; k < 3; k++) {
        size_t pl = strlen(pre[k]), sl = strlen(suf[k]);
        if (strncmp(name, pre[k], pl) == 0 && strncmp(name + pl, base, bl) == 0 &&
            strncmp(name + pl + bl, suf[k], sl) == 0 && name[pl + bl + sl] != '\0')
            return true;
    }
    return false;
}

/* final_path without trailing slashes ("out/" names the folder "out") */
static char *target_path(const char *final_path)
{
    char *t = ev__strdup(final_path);
    size_t l = t ? strlen(t) : 0;
    while (l > 1 && t[l - 1] == '/')
        t[--l] = '\0';
    return t;
}

void ev__tmp_clean_stale(const char *final_path0)
{
    char *final_path = target_path(final_path0);
    char *parent = final_path ? ev__parent_dir(final_path) : NULL;
    if (!parent) {
        free(final_path);
        return;
    }
    const char *base = strrchr(final_path, '/');
    base = base ? base + 1 : final_path;
    DIR *d = opendir(parent);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (!is_tmp_of(de->d_name, base))
            continue;
        int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat a, b;
        /* a live writer holds the lock; a killed one does not */
        if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &a) == 0 &&
            fstatat(dirfd(d), de->d_name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
            a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            if (S_ISDIR(a.st_mode)) {
                char *p = ev__asprintf("%s/%s", parent, de->d_name);
                if (p)
                    ev__rm_tree(p);
                free(p);
            } else if (S_ISREG(a.st_mode)) {
                unlinkat(dirfd(d), de->d_name, 0);
            }
        }
        close(fd);
    }
    if (d)
        closedir(d);
    free(parent);
    free(final_path);
}

int ev__tmp_create(char **path_out, int *fd_out, const char *final_path0, bool dir,
                   ev_errbuf *err)
{
    *path_out = NULL;
    *fd_out = -1;
    ev__tmp_clean_stale(final_path0);
    char *final_path = target_path(final_path0);
    char *parent = final_path ? ev__parent_dir(final_path) : NULL;
    if (!parent) {
        free(final_path);
        return EV_ENOMEM;
    }
    const char *base = strrchr(final_path, '/');
    base = base ? base + 1 : final_path;
    int rc = EV_OK;
    for (int tries = 0; tries < 20; tries++) {
        char *t = ev__asprintf("%s/.%s.partial-XXXXXX", parent, base);
        if (!t) {
            rc = EV_ENOMEM;
            break;
        }
        int fd = -1;
        if (dir) {
            if (mkdtemp(t))
                fd = open(t, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        } else {
            fd = mkostemp(t, O_CLOEXEC);
        }
        if (fd < 0) {
            rc = ev_err__set(err, EV_EIO, "cannot create a temporary %s in '%s': %s",
                             dir ? "folder" : "file", parent, strerror(errno));
            if (dir)
                rmdir(t);
            free(t);
            break;
        }
        /* Locked for as long as fd is open. Another writer cleaning up may
         * have removed it before the lock was taken: then make another. */
        struct stat st;
        if (flock(fd, LOCK_EX) == 0 && fstat(fd, &st) == 0 && st.st_nlink == 0) {
            close(fd);
            free(t);
            continue;
        }
        *path_out = t;
        *fd_out = fd;
        break;
    }
    if (rc == EV_OK && !*path_out)
        rc = ev_err__set(err, EV_EIO, "cannot create a temporary output in '%s'", parent);
    free(parent);
    free(final_path);
    return rc;
}

/* Remove a tree we wrote. Iterative, one folder open at a time, relative
 * to that folder: trees deeper than PATH_MAX or than the limit of open
 * files are removed as well. */
int ev__rm_tree(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return unlink(path);
    char **stack = NULL;
    size_t depth = 0, cap = 0;
    int rc = 0;
    for (;;) {
        int dd = dup(fd);
        DIR *d = dd >= 0 ? fdopendir(dd) : NULL;
        if (!d) {
            if (dd >= 0)
                close(dd);
            rc = -1;
            break;
        }
        char *sub = NULL;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            struct stat st;
            if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
                sub = ev__strdup(de->d_name);
                break;
            }
            unlinkat(fd, de->d_name, 0);
        }
        closedir(d);
        if (sub) {
            int c = openat(fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            char **grown = c >= 0 ? ev__grow(stack, &cap, depth, sizeof(*stack), 16) : NULL;
            if (!grown) {
                if (c >= 0)
                    close(c);
                free(sub);
                rc = -1;
                break;
            }
            stack = grown;
            stack[depth++] = sub;
            close(fd);
            fd = c;
            continue;
        }
        if (depth == 0)
            break;
        int parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0) {
            rc = -1;
            break;
        }
        close(fd);
        fd = parent;
        char *name = stack[--depth];
        int ur = unlinkat(fd, name, AT_REMOVEDIR);
        free(name);
        if (ur != 0) {
            rc = -1;
            break;
        }
    }
    close(fd);
    while (depth)
        free(stack[--depth]);
    free(stack);
    return rc == 0 ? rmdir(path) : -1;
}

/* fsync path (a file or a folder); for a folder, first every regular file
 * and folder in it. Iterative over folders, one open at a time. */
static int sync_path(const char *path, ev_errbuf *err);

static int sync_tree(const char *path, ev_errbuf *err)
{
    DIR *d = opendir(path);
    if (!d)
        return ev_err__set(err, EV_EIO, "cannot flush '%s' to disk: %s", path, strerror(errno));
    int rc = EV_OK;
    struct dirent *de;
    while (rc == EV_OK && (de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
            continue;
        char *p = ev__asprintf("%s/%s", path, de->d_name);
        if (!p) {
            rc = EV_ENOMEM;
            break;
        }
        rc = S_ISDIR(st.st_mode) ? sync_tree(p, err) : sync_path(p, err);
        free(p);
    }
    closedir(d);
    return rc == EV_OK ? sync_path(path, err) : rc;
}

static int sync_path(const char *path, ev_errbuf *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return ev_err__set(err, EV_EIO, "cannot flush '%s' to disk: %s; the output was not "
                           "published", path, strerror(e));
    }
    close(fd);
    return EV_OK;
}

int ev__publish(const char *tmp, const char *final_path, unsigned flags, const char *what,
                ev_errbuf *err)
{
    bool sync = !(flags & EV_PUBLISH_NOSYNC);
    struct stat st;
    if (lstat(tmp, &st) != 0)
        return ev_err__set(err, EV_EIO, "the finished %s '%s' is gone: %s", what, tmp,
                           strerror(errno));
    bool dir = S_ISDIR(st.st_mode);
    int rc;
    if (sync && (rc = dir ? sync_tree(tmp, err) : sync_path(tmp, err)) != EV_OK)
        return rc;
    int r;
    if (flags & EV_PUBLISH_REPLACE) {
        if (!dir) {
            r = rename(tmp, final_path);
        } else if ((r = renameat2(AT_FDCWD, tmp, AT_FDCWD, final_path, RENAME_EXCHANGE)) == 0) {
            /* the old folder is now under the temporary name */
            ev__rm_tree(tmp);
        } else if (errno == ENOENT) {
            r = rename(tmp, final_path);
        } else if (errno == EINVAL || errno == ENOSYS) {
            /* no RENAME_EXCHANGE: move the old one aside under a name that
             * is never taken for stale, then the new one in */
            const char *dash = strrchr(tmp, '-');
            char *parent = ev__parent_dir(final_path);
            const char *base = strrchr(final_path, '/');
            base = base ? base + 1 : final_path;
            char *old = parent && dash ? ev__asprintf("%s/.%s.old-%s", parent, base, dash + 1)
                                       : NULL;
            free(parent);
            if (!old)
                return EV_ENOMEM;
            if ((r = rename(final_path, old)) == 0) {
                if ((r = rename(tmp, final_path)) != 0) {
                    int e = errno;
                    rename(old, final_path);
                    errno = e;
                } else {
                    ev__rm_tree(old);
                }
            }
            free(old);
        }
    } else {
        r = renameat2(AT_FDCWD, tmp, AT_FDCWD, final_path, RENAME_NOREPLACE);
        if (r != 0 && (errno == EINVAL || errno == ENOSYS) && !dir) {
            /* file system without RENAME_NOREPLACE: link fails if the target exists */
            if ((r = link(tmp, final_path)) == 0)
                unlink(tmp);
        } else if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
            /* a folder: rename(2) refuses a non-empty target; an empty one
             * is checked for first */
            r = lstat(final_path, &st) == 0 ? (errno = EEXIST, -1) : rename(tmp, final_path);
        }
    }
    if (r != 0) {
        int e = errno;
        return ev_err__set(err, e == EEXIST || e == ENOTEMPTY ? EV_EEXISTS : EV_EIO,
                           "cannot move the finished %s to '%s': %s", what, final_path,
                           strerror(e));
    }
    if (sync) {
        char *parent = ev__parent_dir(final_path);
        if (!parent)
            return EV_ENOMEM;
        rc = sync_path(parent, err);
        free(parent);
        if (rc != EV_OK)
            return ev_err__set(err, EV_EIO, "'%s' is in place, but its folder could not be "
                               "flushed to disk: %s", final_path, err ? err->msg : "");
    }
    return EV_OK;
}

int ev__write_file_atomic(const char *path, const void *data, size_t len, unsigned flags,
                          ev_errbuf *err)
{
    char *tmp = NULL;
    int fd = -1;
    int rc = ev__tmp_create(&tmp, &fd, path, false, err);
    if (rc != EV_OK)
        return rc;
    const char *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    if (done != len || fchmod(fd, 0644) != 0)
        rc = ev_err__set(err, EV_EIO, "cannot write '%s': %s", tmp, strerror(errno));
    if (rc == EV_OK)
        rc = ev__publish(tmp, path, flags, "file", err);
    if (rc != EV_OK)
        unlink(tmp);
    close(fd); /* the lock is held until the name is published */
    free(tmp);
    return rc;
}

int ev_write_file_atomic(const char *path, const void *data, size_t len, int replace,
                         char **errmsg)
{
    if (errmsg)
        *errmsg = NULL;
    if (!path || (!data && len))
        return EV_EINVAL;
    ev_errbuf e;
    e.msg[0] = '\0';
    int rc = ev__write_file_atomic(path, data, len, replace ? EV_PUBLISH_REPLACE : 0, &e);
    if (rc != EV_OK && errmsg)
        *errmsg = ev__strdup(e.msg[0] ? e.msg : ev_strerror(rc));
    return rc;
}
