/*
 * Fuzz target: the ZIP reader (container/container.c) and what verify does
 * with a hostile ZIP. The input is written to a file in a private temporary
 * folder (the store reads a path), then the first byte chooses:
 *   0  the store alone, as verify drives it: ev_store__open with verify's
 *      default limits (central directory, end and ZIP64 end records, local
 *      headers against the central directory, data descriptors, overlaps,
 *      expansion limits, names), every entry looked up by name, read to its
 *      end through a cursor in odd-sized pieces (CRC check included), read
 *      again by ev_store__check_entry and ev_store__read_all; stored
 *      entries are also read after a seek
 *   1  the public reader: ev_bundle_open + ev_bundle_verify (full: every
 *      byte hashed, tag seal, record, custody log), then the report as JSON
 *   2  ev_bundle_open + ev_bundle_verify(EV_VERIFY_FAST) + inspect JSON +
 *      custody JSON + ev_bundle_extract into the temporary folder; nothing
 *      may appear in that folder outside the extraction target
 * Other values of the first byte run 0 and 1 on the rest.
 *
 * Invariants (abort() when broken, so libFuzzer reports them):
 *   - ev_store__find(name) names an entry with that name;
 *   - an entry that ev_store__check_entry accepts reads back to exactly its
 *     claimed size through the cursor, and ev_store__read_all agrees;
 *   - extraction writes nothing beside its target.
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
#include "base/publish.h"
#include "fuzz_files.h"
#include "container/container.h"
#include "base/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read entry i to its end in pieces of odd sizes; returns the status of the
 * first failed read (EV_OK when it read to the end) and the bytes read. */
static int read_entry(ev_store_cursor *c, size_t i, uint64_t *total, bool *crc_failed)
{
    static uint8_t buf[8191];
    static const size_t pieces[] = { 1, 7, 4093, 512, 8191 };
    ev_errbuf e;
    ev_entry_reader *er = NULL;
    *total = 0;
    *crc_failed = false;
    int rc = ev_store__entry_open(&er, c, i, &e);
    if (rc != EV_OK)
        return rc;
    for (size_t k = 0;; k++) {
        int64_t n = ev_store__entry_read(er, buf, pieces[k % 5], &e);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        *total += (uint64_t)n;
    }
    *crc_failed = ev_store__entry_crc_failed(er);
    /* a stored entry can seek: read its middle again */
    int64_t mid = ev_store__entry_seek(er, (int64_t)(*total / 2), SEEK_SET);
    if (mid >= 0)
        (void)ev_store__entry_read(er, buf, sizeof(buf), &e);
    ev_store__entry_close(er);
    return rc;
}

static void fuzz_store(const char *path)
{
    /* the limits ev_bundle_new gives verify by default */
    ev_store_limits lim = { 1000000, (uint64_t)1 << 40, 1000 };
    ev_report *r = NULL;
    if (ev_report__new(&r, "evidence.verify") != EV_OK)
        return;
    ev_store *s = NULL;
    ev_errbuf e;
    if (ev_store__open(&s, path, &lim, r, &e) != EV_OK) {
        (void)strlen(e.msg);
        ev_report_free(r);
        return;
    }
    (void)strlen(ev_store__bag_name(s));
    ev_store_cursor *c = NULL;
    if (ev_store__cursor_new(&c, s, &e) != EV_OK) {
        ev_store__free(s);
        ev_report_free(r);
        return;
    }
    for (size_t i = 0; i < ev_store__count(s); i++) {
        const ev_store_entry *en = ev_store__entry(s, i);
        long f = ev_store__find(s, en->name);
        if (f >= 0 && strcmp(ev_store__entry(s, (size_t)f)->name, en->name) != 0)
            abort();
        if (en->unsafe || en->type != EV_ENTRY_FILE)
            continue;
        uint64_t total = 0;
        bool crc1 = false, crc2 = false;
        int rc1 = read_entry(c, i, &total, &crc1);
        int rc2 = ev_store__check_entry(s, i, &crc2, &e);
        if (rc2 == EV_OK && (rc1 != EV_OK || total != en->size || crc1 || crc2)) {
            fprintf(stderr, "'%s': check_entry accepts it, but the cursor read %llu of %llu "
                    "bytes (status %d, crc %d/%d)\n", en->name, (unsigned long long)total,
                    (unsigned long long)en->size, rc1, crc1, crc2);
            abort();
        }
        char *all = NULL;
        size_t alen = 0;
        int rc3 = ev_store__read_all(&all, &alen, s, i, 1u << 20, &e);
        if (rc3 == EV_OK && rc2 == EV_OK && alen != en->size) {
            fprintf(stderr, "'%s': read_all gives %zu bytes, the entry claims %llu\n", en->name,
                    alen, (unsigned long long)en->size);
            abort();
        }
        free(all);
    }
    for (size_t k = 0; k < r->nproblems; k++)
        (void)strlen(r->problems[k].message);
    ev_store__cursor_free(c);
    ev_store__free(s);
    ev_report_free(r);
}

static ev_bundle *open_bundle(const char *path)
{
    ev_bundle_options o = EV_BUNDLE_OPTIONS_INIT;
    o.threads = 1;
    ev_bundle *b = NULL;
    if (ev_bundle_new(&b, &o) != EV_OK)
        return NULL;
    if (ev_bundle_open(b, path) != EV_OK) {
        (void)strlen(ev_bundle_last_error(b));
        ev_bundle_free(b);
        return NULL;
    }
    return b;
}

static void fuzz_verify(const char *path)
{
    ev_bundle *b = open_bundle(path);
    if (!b)
        return;
    ev_report *r = NULL;
    if (ev_bundle_verify(&r, b, NULL) == EV_OK) {
        char *j = NULL;
        if (ev_report_json(&j, r) == EV_OK)
            ev_free(j);
        ev_report_verdict(r);
        ev_report_free(r);
    }
    ev_bundle_free(b);
}

/* Nothing but the bundle and the extraction target may be in dir. */
static void check_dir_clean(const char *dir, const char *bundle, const char *target)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            !strcmp(de->d_name, bundle) || !strcmp(de->d_name, target))
            continue;
        fprintf(stderr, "extraction left '%s' beside its target in %s\n", de->d_name, dir);
        abort();
    }
    closedir(d);
}

static void fuzz_fast(const char *dir, const char *path)
{
    ev_bundle *b = open_bundle(path);
    if (!b)
        return;
    ev_report *r = NULL;
    ev_verify_options vo = EV_VERIFY_OPTIONS_INIT;
    vo.flags = EV_VERIFY_FAST;
    if (ev_bundle_verify(&r, b, &vo) == EV_OK)
        ev_report_free(r);
    char *j = NULL;
    if (ev_bundle_inspect_json(&j, b) == EV_OK)
        ev_free(j);
    j = NULL;
    bool ok = false;
    if (ev_bundle_custody_json(&j, &ok, b) == EV_OK)
        ev_free(j);
    uint8_t *t = NULL;
    size_t tl = 0;
    if (ev_bundle_read_file(&t, &tl, b, "bag-info.txt", 0) == EV_OK)
        ev_free(t);
    char out[512];
    snprintf(out, sizeof(out), "%s/out", dir);
    r = NULL;
    if (ev_bundle_extract(&r, b, out) == EV_OK)
        ev_report_free(r);
    ev_bundle_free(b);
    check_dir_clean(dir, "b.zip", "out");
    ev__rm_tree(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4 * 1024 * 1024)
        return 0;
    const char *dir = fuzz_workdir("zipfuzz");
    char path[512];
    snprintf(path, sizeof(path), "%s/b.zip", dir);
    if (fuzz_write_file(path, data + 1, size - 1) != 0)
        abort();
    switch (data[0]) {
    case 0: fuzz_store(path); break;
    case 1: fuzz_verify(path); break;
    case 2: fuzz_fast(dir, path); break;
    default:
        fuzz_store(path);
        fuzz_verify(path);
        break;
    }
    unlink(path);
    return 0;
}
