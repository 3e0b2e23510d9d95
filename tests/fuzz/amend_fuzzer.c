/*
 * Fuzz target: amending a hostile bundle in place, the path behind
 * 'evidence custody add' and 'evidence sign' (ev_bundle_amend). The input
 * is a bundle (ZIP bytes). It is written as b.zip in a private temporary
 * folder, opened with ev_bundle_open, and one custody event is appended
 * with ev_bundle_amend, which locks the file, re-reads and verifies the
 * bundle, and rewrites it under a temporary name renamed over b.zip.
 *
 * Invariants (abort() when broken):
 *   - after an amendment that succeeded, the bundle verifies as valid
 *     (amend refuses bundles that do not verify, and seals what it writes);
 *   - after an amendment that failed, b.zip holds the input bytes unchanged;
 *   - either way nothing else is left in the folder: a ".b.zip.partial-*"
 *     (or any other name) is a temporary output that was not cleaned up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence/bundle.h"
#include "base/internal.h"
#include "base/publish.h"
#include "fuzz_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when the file at path holds exactly d[0..n). */
static bool same_bytes(const char *path, const uint8_t *d, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    uint8_t buf[65536];
    size_t off = 0, got;
    bool same = true;
    while (same && (got = fread(buf, 1, sizeof(buf), f)) > 0) {
        same = off + got <= n && memcmp(buf, d + off, got) == 0;
        off += got;
    }
    fclose(f);
    return same && off == n;
}

/* Nothing but b.zip may be left in dir. */
static void check_clean(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        abort();
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            !strcmp(de->d_name, "b.zip"))
            continue;
        fprintf(stderr, "amend left '%s' in %s\n", de->d_name, dir);
        abort();
    }
    closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * 1024 * 1024)
        return 0;
    const char *dir = fuzz_workdir("amendfuzz");
    char path[512];
    snprintf(path, sizeof(path), "%s/b.zip", dir);
    if (fuzz_write_file(path, data, size) != 0)
        abort();
    ev_bundle_options o = EV_BUNDLE_OPTIONS_INIT;
    o.threads = 1;
    ev_bundle *b = NULL;
    if (ev_bundle_new(&b, &o) != EV_OK)
        abort();
    if (ev_bundle_open(b, path) == EV_OK) {
        ev_custody_event ev = { EV_CUSTODY_EVENT_VERSION, "received", "Fuzz Clerk",
                                "Property Store", "handed over at the desk" };
        int rc = ev_bundle_amend(b, &ev, NULL, 0);
        if (rc == EV_OK) {
            ev_report *r = NULL;
            if (ev_bundle_verify(&r, b, NULL) != EV_OK ||
                ev_report_verdict(r) != EV_VERDICT_VALID) {
                for (size_t i = 0; r && i < ev_report_problem_count(r); i++)
                    fprintf(stderr, "after amend: %s: %s\n", ev_report_problem(r, i)->code,
                            ev_report_problem(r, i)->message);
                abort();
            }
            ev_report_free(r);
        } else if (!same_bytes(path, data, size)) {
            fprintf(stderr, "amend failed (%s) but changed the bundle\n",
                    ev_bundle_last_error(b));
            abort();
        }
    }
    ev_bundle_free(b);
    check_clean(dir);
    unlink(path);
    return 0;
}
