/*
 * folder_read: the folder form of a store. The tree is walked without
 * following symlinks; symlinks and special files are listed as unsafe and
 * never opened.
 */
#include "container/container_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int walk_dir(ev_store *s, int dfd, const char *prefix, int depth, const ev_store_limits *lim,
                    ev_report *r, ev_errbuf *err)
{
    if (depth > 256)
        return ev_err__set(err, EV_EUNSAFE, "'%s': folders nested too deeply under '%s'", s->path,
                           prefix);
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return ev_err__set(err, EV_EIO, "'%s/%s': cannot list folder: %s", s->path, prefix,
                           strerror(errno));
    }
    struct dirent *de;
    int rc = EV_OK;
    while (rc == EV_OK && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *name = *prefix ? ev__asprintf("%s/%s", prefix, de->d_name) : ev__strdup(de->d_name);
        if (!name) {
            rc = EV_ENOMEM;
            break;
        }
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = ev_err__set(err, EV_EIO, "'%s/%s': %s", s->path, name, strerror(errno));
            free(name);
            break;
        }
        ev_store_entry e;
        memset(&e, 0, sizeof(e));
        e.name = name;
        e.size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
        e.comp_size = e.size;
        e.mtime = (int64_t)st.st_mtime;
        e.type = S_ISREG(st.st_mode) ? EV_ENTRY_FILE : S_ISDIR(st.st_mode) ? EV_ENTRY_DIR
                 : S_ISLNK(st.st_mode) ? EV_ENTRY_SYMLINK : EV_ENTRY_OTHER;
        if (e.type == EV_ENTRY_SYMLINK || e.type == EV_ENTRY_OTHER) {
            e.unsafe = true;
            ev_report__add(r, EV_SEVERITY_ERROR, "unsafe-entry-type", name,
                           "'%s' is a %s inside the bag; it is not followed or read", name,
                           e.type == EV_ENTRY_SYMLINK ? "symbolic link" : "special file");
        }
        if (s->n >= lim->max_entries) {
            free(name);
            rc = ev_err__set(err, EV_EUNSAFE, "'%s' holds more than %llu files; refused "
                             "(ev_bundle_options.max_entries; evidence verify --max-entries "
                             "raises it for a bag you trust to be this large)",
                             s->path, (unsigned long long)lim->max_entries);
            break;
        }
        if (ev_store__push_entry(s, &e) != EV_OK) {
            free(name);
            rc = EV_ENOMEM;
            break;
        }
        if (e.type == EV_ENTRY_DIR) {
            int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                rc = ev_err__set(err, EV_EIO, "'%s/%s': cannot open folder: %s", s->path,
                                 s->e[s->n - 1].name, strerror(errno));
                break;
            }
            char *sub_prefix = ev__strdup(s->e[s->n - 1].name);
            if (!sub_prefix) {
                close(sub);
                rc = EV_ENOMEM;
                break;
            }
            rc = walk_dir(s, sub, sub_prefix, depth + 1, lim, r, err);
            free(sub_prefix);
        }
    }
    closedir(d);
    return rc;
}

int ev_store__dir_open(ev_store *s, const ev_store_limits *lim, ev_report *r, ev_errbuf *err)
{
    int fd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ev_err__set(err, ev_err__from_errno(errno), "'%s': cannot open folder: %s",
                           s->path, strerror(errno));
    /* bag name: last component of the path */
    char *p = ev__strdup(s->path);
    if (!p) {
        close(fd);
        return EV_ENOMEM;
    }
    size_t l = strlen(p);
    while (l > 1 && p[l - 1] == '/')
        p[--l] = '\0';
    char *base = strrchr(p, '/');
    s->bag_name = ev__strdup(base ? base + 1 : p);
    free(p);
    if (!s->bag_name) {
        close(fd);
        return EV_ENOMEM;
    }
    return walk_dir(s, fd, "", 0, lim, r, err);
}

/* The folder half of ev_store__entry_open: the file itself, never through a
 * symlink. On failure the caller frees er. */
int ev_store__dir_entry_open(ev_entry_reader *er, const ev_store *s, ev_errbuf *err)
{
    char *p = ev__asprintf("%s/%s", s->path, er->entry->name);
    if (!p)
        return EV_ENOMEM;
    er->fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (er->fd < 0) {
        int rc = ev_err__set(err, ev_err__from_errno(errno), "'%s': %s", p, strerror(errno));
        free(p);
        return rc;
    }
    free(p);
    posix_fadvise(er->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return EV_OK;
}

int64_t ev_store__dir_entry_read(ev_entry_reader *er, void *buf, size_t len, ev_errbuf *err)
{
    ssize_t r;
    do {
        r = read(er->fd, buf, len);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return ev_err__set(err, EV_EIO, "'%s': read error: %s", er->entry->name,
                           strerror(errno));
    return r;
}

int64_t ev_store__dir_entry_seek(ev_entry_reader *er, int64_t off, int whence)
{
    off_t p = lseek(er->fd, (off_t)off, whence);
    if (p >= 0)
        er->pos = (uint64_t)p;
    return p;
}
