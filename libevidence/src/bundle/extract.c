/*
 * bundle (extract): a verification that writes every file it reads into a
 * staging folder beside the destination, renamed to the destination only
 * when the whole bundle verified (verify.c runs the phases; these two are
 * the first and the last of an extraction).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle_int.h"

/* Extraction target: everything is written into a hidden staging folder
 * beside DEST, renamed to DEST only when the whole bundle verified. */
int ev_bundle__extract_prepare(vctx *c)
{
    ev_bundle *b = c->b;
    ev_store *s = b->store;
    const char *dest = c->dest;
    if (!dest)
        return EV_OK;
    struct stat st;
    int dfd = -1;
    if (stat(dest, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return ev_err__set(&b->err, EV_EEXISTS, "'%s' exists and is not a folder", dest);
        dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            return ev_err__set(&b->err, EV_EIO, "cannot open '%s': %s", dest, strerror(errno));
    }
    int probe = dfd >= 0 ? dup(dfd) : -1;
    DIR *d = probe >= 0 ? fdopendir(probe) : NULL;
    int entries = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            entries++;
    if (d)
        closedir(d);
    if (dfd >= 0)
        close(dfd);
    if (entries)
        return ev_err__set(&b->err, EV_EEXISTS, "'%s' is not empty; extract into a new or "
                           "empty folder", dest);
    int rc = ev__tmp_create(&c->staging, &c->destfd, dest, true, &b->err);
    if (rc != EV_OK)
        return rc;
    for (size_t i = 0; i < c->n; i++) {
        const ev_store_entry *e = ev_store__entry(s, i);
        if (!e->unsafe && e->type == EV_ENTRY_DIR && e->name[0]) {
            char *p = ev__asprintf("%s/", e->name);
            if (p) {
                ev_bundle__mkparents_at(c->destfd, p);
                free(p);
            }
        }
    }
    return EV_OK;
}

/* Extract: DEST receives the bag only when everything verified. */
int ev_bundle__extract_finish(vctx *c)
{
    ev_report *r = c->r;
    const char *dest = c->dest;
    if (!dest || !c->staging)
        return EV_OK;
    if (ev_report_verdict(r) == EV_VERDICT_VALID) {
        /* an empty DEST made by the caller is removed first (rmdir fails if
         * anything appeared in it meanwhile, and then nothing is replaced);
         * publishing never replaces an existing name */
        ev_errbuf e;
        e.msg[0] = '\0';
        struct stat st;
        int rc = EV_OK;
        if (lstat(dest, &st) == 0 && S_ISDIR(st.st_mode) && rmdir(dest) != 0)
            rc = ev_err__set(&e, EV_EEXISTS, "'%s' is no longer empty: %s", dest,
                             strerror(errno));
        if (rc == EV_OK)
            rc = ev__publish(c->staging, dest, 0, "extracted bag", &e);
        if (rc == EV_OK) {
            free(c->staging);
            c->staging = NULL;
        } else {
            ev_report__add(r, EV_SEVERITY_ERROR, "extract-failed", NULL, "cannot move the "
                           "extracted bag into '%s': %s; nothing was extracted", dest, e.msg);
        }
    } else {
        ev_report__add(r, EV_SEVERITY_WARNING, "extract-discarded", NULL, "nothing was "
                       "extracted into '%s': the bundle did not verify, so the files "
                       "written were removed again", dest);
    }
    return EV_OK;
}
