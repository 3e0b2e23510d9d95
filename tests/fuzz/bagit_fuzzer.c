/*
 * Fuzz target: the BagIt tag-file parsers of bag/bag.c, which read hostile
 * text from inside a bundle. The first byte chooses what the rest is fed to:
 *   0  bagit.txt (ev_bag__parse_bagit_txt)
 *   1  bag-info.txt, strict (RFC 8493), then Payload-Oxum as verify reads
 *      it; the elements are written out again (ev_bag__baginfo_format) and
 *      must parse back to the same elements without a problem
 *   2  bag-info.txt, legacy (the looser reading verify uses for bags whose
 *      bagit.txt says BagIt-Version 0.x)
 *   3  a payload manifest (manifest-sha256.txt)
 *   4  a tag manifest (tagmanifest-sha512.txt)
 *   5  the tag seal (tagseal-sha256.txt): bundle/bundle_read.c parses it
 *      with ev_bag__parse_manifest set up as here (name, sha256 slot); the
 *      checks on what it names are covered by zip_fuzzer modes 1 and 2
 *   6  fetch.txt, each path then checked as verify does (unsafe-name check,
 *      payload test)
 *   7  path decoding and encoding: decode(encode(p)) must give p back
 *   8  a name as a ZIP or folder entry gives it (bytes, NUL allowed): the
 *      unsafe-name check, NFC, the collision key, the manifest-name and
 *      algorithm-name rules
 *   9  a Payload-Oxum value; an accepted one, written out again, must
 *      parse to the same numbers
 *  10  the text check (BOM, UTF-8) and the line splitter
 * Other values of the first byte run 0 to 6 and 10 on the rest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bag/bag.h"
#include "base/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ev_report *new_report(void)
{
    ev_report *r = NULL;
    if (ev_report__new(&r, "evidence.verify") != EV_OK)
        return NULL;
    return r;
}

static void touch_report(ev_report *r)
{
    for (size_t i = 0; i < r->nproblems; i++)
        (void)strlen(r->problems[i].message);
    ev_report_free(r);
}

static void fuzz_bagit_txt(const char *d, size_t n)
{
    ev_report *r = new_report();
    if (!r)
        return;
    int major = -1, minor = -1;
    ev_bag__parse_bagit_txt(d, n, &major, &minor, r);
    touch_report(r);
}

static void fuzz_baginfo(const char *d, size_t n, bool legacy)
{
    ev_report *r = new_report();
    if (!r)
        return;
    ev_baginfo bi = { 0 };
    if (ev_bag__check_text("bag-info.txt", d, n, r) &&
        ev_bag__parse_baginfo(&bi, d, n, legacy, r) == EV_OK) {
        size_t nox = ev_bag__baginfo_count(&bi, "Payload-Oxum");
        const char *ox = ev_bag__baginfo_get(&bi, "Payload-Oxum");
        uint64_t bytes = 0, files = 0;
        if ((nox > 0) != (ox != NULL))
            abort();
        if (ox)
            ev_bag__parse_oxum(ox, &bytes, &files);
        (void)ev_bag__baginfo_get(&bi, "Bagging-Date");
        char *text = ev_bag__baginfo_format(&bi);
        if (text && !legacy) {
            /* what the strict parser read, written out, reads back the same */
            ev_report *r2 = new_report();
            ev_baginfo again = { 0 };
            if (r2 && ev_bag__parse_baginfo(&again, text, strlen(text), false, r2) == EV_OK) {
                bool same = again.n == bi.n && r2->nproblems == 0;
                for (size_t i = 0; same && i < bi.n; i++)
                    same = !strcmp(again.e[i].label, bi.e[i].label) &&
                           !strcmp(again.e[i].value, bi.e[i].value);
                if (!same) {
                    fprintf(stderr, "bag-info.txt does not read back as written: %zu elements "
                            "then %zu, %zu problems\n", bi.n, again.n, r2->nproblems);
                    abort();
                }
            }
            ev_bag__baginfo_free(&again);
            if (r2)
                ev_report_free(r2);
        }
        free(text);
    }
    ev_bag__baginfo_free(&bi);
    touch_report(r);
}

static void fuzz_manifest(const char *d, size_t n, const char *filename)
{
    ev_report *r = new_report();
    if (!r)
        return;
    ev_manifest m = { 0 };
    bool is_tag = false;
    char alg[32];
    m.filename = strdup(filename);
    if (ev_bag__is_manifest_name(filename, &is_tag, alg, sizeof(alg))) {
        m.is_tag = is_tag;
        ev_bag__normalize_alg(m.alg, sizeof(m.alg), alg);
        m.slot = ev_hash__slot_from_name(m.alg);
    } else {
        /* the seal, set up as bundle_read.c does */
        m.slot = EV_HASH_SHA256;
        snprintf(m.alg, sizeof(m.alg), "sha256");
    }
    if (m.filename && ev_bag__check_text(filename, d, n, r) &&
        ev_bag__parse_manifest(&m, d, n, r) == EV_OK) {
        for (size_t i = 0; i < m.n; i++) {
            const ev_manifest_entry *e = &m.entries[i];
            if (!e->path || !e->digest || e->line == 0)
                abort();
            const char *why = ev_bag__unsafe_reason(e->path, strlen(e->path));
            (void)why;
            (void)ev_bag__is_payload(e->path);
            char *nfc = ev_bag__nfc(e->path);
            free(nfc);
        }
    }
    ev_bag__manifest_free(&m);
    touch_report(r);
}

static void fuzz_fetch(const char *d, size_t n)
{
    ev_report *r = new_report();
    if (!r)
        return;
    ev_fetch_entry *f = NULL;
    size_t nf = 0;
    if (ev_bag__check_text("fetch.txt", d, n, r)) {
        ev_bag__parse_fetch(&f, &nf, d, n, r);
        for (size_t i = 0; i < nf; i++) {
            if (!f[i].url || !f[i].length || !f[i].path)
                abort();
            const char *why = ev_bag__unsafe_reason(f[i].path, strlen(f[i].path));
            (void)why;
            (void)ev_bag__is_payload(f[i].path);
        }
        ev_bag__fetch_free(f, nf);
    }
    touch_report(r);
}

static void fuzz_paths(const char *d, size_t n)
{
    /* decoding any bytes, then the encode/decode round trip of the result
     * (and of the input itself, as far as its first NUL) */
    char *dec = ev_bag__decode_path(d, n);
    if (!dec)
        return;
    const char *subjects[2] = { dec, NULL };
    char *raw = malloc(n + 1);
    if (raw) {
        memcpy(raw, d, n);
        raw[n] = '\0';
        subjects[1] = raw;
    }
    for (int k = 0; k < 2 && subjects[k]; k++) {
        char *enc = ev_bag__encode_path(subjects[k]);
        if (!enc)
            continue;
        if (strchr(enc, '\n') || strchr(enc, '\r'))
            abort();
        char *back = ev_bag__decode_path(enc, strlen(enc));
        if (back && strcmp(back, subjects[k]) != 0) {
            fprintf(stderr, "decode(encode(p)) != p\n");
            abort();
        }
        free(back);
        free(enc);
    }
    free(raw);
    free(dec);
}

static void fuzz_name(const char *d, size_t n)
{
    const char *why = ev_bag__unsafe_reason(d, n);
    char *s = malloc(n + 1);
    if (!s)
        return;
    memcpy(s, d, n);
    s[n] = '\0';
    if (!why && strlen(s) != n)
        abort(); /* a NUL inside must be refused */
    char *nfc = ev_bag__nfc(s);
    if (nfc) {
        (void)ev_bag__unsafe_reason(nfc, strlen(nfc));
        free(nfc);
    }
    char *key = ev_bag__fold_key(s);
    free(key);
    bool is_tag = false;
    char alg[32], norm[32];
    if (ev_bag__is_manifest_name(s, &is_tag, alg, sizeof(alg))) {
        ev_bag__normalize_alg(norm, sizeof(norm), alg);
        (void)ev_hash__slot_from_name(norm);
    }
    (void)ev_bag__is_payload(s);
    free(s);
}

static void fuzz_oxum(const char *d, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return;
    memcpy(s, d, n);
    s[n] = '\0';
    uint64_t bytes = 0, files = 0;
    if (ev_bag__parse_oxum(s, &bytes, &files)) {
        char again[64];
        uint64_t b2 = 0, f2 = 0;
        snprintf(again, sizeof(again), "%llu.%llu", (unsigned long long)bytes,
                 (unsigned long long)files);
        if (!ev_bag__parse_oxum(again, &b2, &f2) || b2 != bytes || f2 != files)
            abort();
    }
    free(s);
}

static int count_line(const char *line, size_t len, size_t lineno, void *ctx)
{
    size_t *count = ctx;
    if (memchr(line, '\n', len) || memchr(line, '\r', len) || lineno != *count + 1)
        abort();
    (*count)++;
    return 0;
}

static void fuzz_text(const char *d, size_t n)
{
    ev_report *r = new_report();
    if (!r)
        return;
    ev_bag__check_text("bag-info.txt", d, n, r);
    size_t count = 0;
    ev_bag__lines(d, n, count_line, &count);
    touch_report(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1024 * 1024)
        return 0;
    const char *d = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0]) {
    case 0: fuzz_bagit_txt(d, n); break;
    case 1: fuzz_baginfo(d, n, false); break;
    case 2: fuzz_baginfo(d, n, true); break;
    case 3: fuzz_manifest(d, n, "manifest-sha256.txt"); break;
    case 4: fuzz_manifest(d, n, "tagmanifest-sha512.txt"); break;
    case 5: fuzz_manifest(d, n, "tagseal-sha256.txt"); break;
    case 6: fuzz_fetch(d, n); break;
    case 7: fuzz_paths(d, n); break;
    case 8: fuzz_name(d, n); break;
    case 9: fuzz_oxum(d, n); break;
    case 10: fuzz_text(d, n); break;
    default:
        fuzz_bagit_txt(d, n);
        fuzz_baginfo(d, n, false);
        fuzz_baginfo(d, n, true);
        fuzz_manifest(d, n, "manifest-sha256.txt");
        fuzz_manifest(d, n, "tagmanifest-sha512.txt");
        fuzz_manifest(d, n, "tagseal-sha256.txt");
        fuzz_fetch(d, n);
        fuzz_text(d, n);
        break;
    }
    return 0;
}
