/* Unit tests of the public bundle API (evidence/bundle.h): writer, reader,
 * verification reports, extraction, inspection and amendments, including
 * the argument checks, limits and cancellation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <evidence/bundle.h>

#include "base/hash.h"
#include "base/internal.h"
#include "testutil.h"

static char *g_dir;
static char *g_src;     /* input folder */
static char *g_zip;     /* a sealed ZIP bundle */
static char *g_bagdir;  /* the same as a folder */

static const char *const NAMES[] = { "a.txt", "sub/b.bin", "sub/empty", "x y %.dat" };

static int make_bundle(const char *out, ev_bundle_format fmt)
{
    return tu_make_bundle(g_src, out, (int)fmt);
}

static int setup(void **state)
{
    (void)state;
    g_dir = tu_mkdtemp("test_bundle");
    if (!g_dir)
        return -1;
    g_src = tu_join(g_dir, "src");
    static char big[1500000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 31);
    const void *data[] = { "alpha\n", big, "", "pct" };
    size_t lens[] = { 6, sizeof(big), 0, 3 };
    for (size_t i = 0; i < 4; i++) {
        char *p = tu_join(g_src, NAMES[i]);
        if (tu_write(p, data[i], lens[i]) != 0)
            return -1;
        free(p);
    }
    g_zip = tu_join(g_dir, "CASE-1.zip");
    g_bagdir = tu_join(g_dir, "CASE-1-dir");
    if (make_bundle(g_zip, EV_FORMAT_ZIP) != EV_OK || make_bundle(g_bagdir, EV_FORMAT_DIR) != EV_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(g_dir);
    free(g_dir);
    free(g_src);
    free(g_zip);
    free(g_bagdir);
    return 0;
}

static ev_bundle *open_bundle(const char *path)
{
    ev_bundle *b = NULL;
    assert_int_equal(ev_bundle_new(&b, NULL), EV_OK);
    int rc = ev_bundle_open(b, path);
    if (rc != EV_OK)
        fail_msg("open '%s': %s", path, ev_bundle_last_error(b));
    return b;
}

static ev_report *verify(ev_bundle *b, uint32_t flags)
{
    ev_verify_options vo = EV_VERIFY_OPTIONS_INIT;
    vo.flags = flags;
    ev_report *r = NULL;
    assert_int_equal(ev_bundle_verify(&r, b, &vo), EV_OK);
    assert_non_null(r);
    return r;
}

/* Open the bundle at path with that many threads and verify it; the report
 * (the bundle is freed). */
static ev_report *verify_bag(const char *path, unsigned threads)
{
    ev_bundle_options bo;
    ev_bundle_options_init(&bo, EV_BUNDLE_OPTIONS_VERSION);
    bo.threads = threads;
    ev_bundle *b = NULL;
    assert_int_equal(ev_bundle_new(&b, &bo), EV_OK);
    assert_int_equal(ev_bundle_open(b, path), EV_OK);
    ev_report *r = verify(b, 0);
    ev_bundle_free(b);
    return r;
}

static bool report_has(const ev_report *r, const char *code, const char *path)
{
    for (size_t i = 0; i < ev_report_problem_count(r); i++) {
        const ev_problem *p = ev_report_problem(r, i);
        if (strcmp(p->code, code) == 0 && (!path || (p->path && strcmp(p->path, path) == 0)))
            return true;
    }
    return false;
}

static char *copy_tree(const char *from, const char *name)
{
    char *to = tu_join(g_dir, name);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
    assert_int_equal(system(cmd), 0);
    return to;
}

/* ---- options and arguments ----------------------------------------------------------------- */

static void bundle_options_and_arguments(void **state)
{
    (void)state;
    ev_writer_options wo;
    assert_int_equal(ev_writer_options_init(&wo, 99), EV_EVERSION);
    assert_int_equal(ev_writer_options_init(NULL, EV_WRITER_OPTIONS_VERSION), EV_EINVAL);
    ev_bundle_options bo;
    assert_int_equal(ev_bundle_options_init(&bo, 0), EV_EVERSION);
    ev_writer *w = (ev_writer *)1;
    ev_writer_options_init(&wo, EV_WRITER_OPTIONS_VERSION);
    wo.version = EV_WRITER_OPTIONS_VERSION + 1;
    assert_int_equal(ev_writer_new(&w, &wo), EV_EVERSION);
    assert_null(w);
    /* version 1 options (before officer_person) are still taken */
    assert_int_equal(ev_writer_options_init(&wo, 1), EV_OK);
    wo.officer_person = "not read";
    assert_int_equal(ev_writer_new(&w, &wo), EV_OK);
    ev_writer_free(w);
    w = (ev_writer *)1;
    ev_writer_options_init(&wo, EV_WRITER_OPTIONS_VERSION);
    wo.format = (ev_bundle_format)7;
    assert_int_equal(ev_writer_new(&w, &wo), EV_EINVAL);
    ev_writer_options_init(&wo, EV_WRITER_OPTIONS_VERSION);
    wo.algorithms = EV_ALG_MD5;
    assert_int_equal(ev_writer_new(&w, &wo), EV_EINVAL);
    assert_int_equal(ev_writer_new(NULL, NULL), EV_EINVAL);
    ev_bundle *b = (ev_bundle *)1;
    bo.version = 5;
    assert_int_equal(ev_bundle_new(&b, &bo), EV_EVERSION);
    assert_null(b);
    /* NULL-safe destructors and getters */
    ev_writer_free(NULL);
    ev_bundle_free(NULL);
    ev_report_free(NULL);
    assert_int_equal(ev_report_verdict(NULL), EV_VERDICT_UNREADABLE);
    assert_null(ev_report_problem(NULL, 0));
    assert_int_equal(ev_bundle_item_count(NULL), 0);
    assert_non_null(ev_bundle_last_error(NULL));
    /* a handle that opened nothing */
    assert_int_equal(ev_bundle_new(&b, NULL), EV_OK);
    ev_report *r = (ev_report *)1;
    assert_int_equal(ev_bundle_verify(&r, b, NULL), EV_EINVAL);
    assert_null(r);
    char *s = NULL;
    assert_int_equal(ev_bundle_inspect_json(&s, b), EV_EINVAL);
    assert_int_equal(ev_bundle_open(b, NULL), EV_EINVAL);
    ev_verify_options vo = { 3, 0 };
    assert_int_equal(ev_bundle_open(b, g_zip), EV_OK);
    assert_int_equal(ev_bundle_verify(&r, b, &vo), EV_EVERSION);
    ev_bundle_free(b);
}

static void bundle_writer_errors(void **state)
{
    (void)state;
    ev_writer *w = NULL;
    assert_int_equal(ev_writer_new(&w, NULL), EV_OK);
    char *missing = tu_join(g_dir, "no-such-input");
    assert_int_equal(ev_writer_add(w, missing, NULL), EV_ENOTFOUND);
    assert_non_null(strstr(ev_writer_last_error(w), "no-such-input"));
    free(missing);
    assert_int_equal(ev_writer_add(w, g_src, NULL), EV_OK);
    /* an existing output is never replaced */
    assert_int_equal(ev_writer_seal(w, g_zip), EV_EEXISTS);
    /* and the writer is spent: a second try would name every item again,
     * each clashing with its own first name */
    char *retry = tu_join(g_dir, "retry.zip");
    assert_int_equal(ev_writer_seal(w, retry), EV_EINVAL);
    assert_non_null(strstr(ev_writer_last_error(w), "create a new one"));
    struct stat rst;
    assert_int_not_equal(stat(retry, &rst), 0);
    free(retry);
    ev_writer_free(w);
    /* a writer seals once */
    char *out = tu_join(g_dir, "once.zip");
    assert_int_equal(ev_writer_new(&w, NULL), EV_OK);
    assert_int_equal(ev_writer_add(w, g_src, NULL), EV_OK);
    assert_int_equal(ev_writer_seal(w, out), EV_OK);
    char *out2 = tu_join(g_dir, "twice.zip");
    assert_int_not_equal(ev_writer_seal(w, out2), EV_OK);
    struct stat st;
    assert_int_not_equal(stat(out2, &st), 0);
    ev_writer_free(w);
    free(out);
    free(out2);
}

/* Cancels at the first report of ev_writer_seal (the walk of the folder
 * by ev_writer_add reports too: "finding files"). */
static int cancel_first(const ev_progress *p, void *payload)
{
    int *n = payload;
    if (p->stage && !strcmp(p->stage, "finding files"))
        return 0;
    ++*n;
    return 1;
}

static int cancel_any(const ev_progress *p, void *payload)
{
    (void)p;
    ++*(int *)payload;
    return 1;
}

/* The walk of a folder stops at a cancel: ev_writer_add says so. */
static void bundle_writer_cancel_walk(void **state)
{
    (void)state;
    ev_writer_options o;
    ev_writer_options_init(&o, EV_WRITER_OPTIONS_VERSION);
    int n = 0;
    o.progress_cb = cancel_any;
    o.progress_payload = &n;
    ev_writer *w = NULL;
    assert_int_equal(ev_writer_new(&w, &o), EV_OK);
    assert_int_equal(ev_writer_add(w, g_src, NULL), EV_ECANCELED);
    assert_int_equal(n, 1);
    assert_string_equal(ev_writer_last_error(w), "canceled by callback");
    ev_writer_free(w);
}

/* Packs g_src into a folder of its own with the callback cb: the seal is
 * canceled and the folder left empty. The writer's message goes to msg. */
static void seal_canceled(ev_progress_cb cb, int *n, const char *folder, char *msg, size_t cap)
{
    ev_writer_options o;
    ev_writer_options_init(&o, EV_WRITER_OPTIONS_VERSION);
    o.flags = EV_WRITER_NO_MEDIA;
    o.progress_cb = cb;
    o.progress_payload = n;
    char *dir = tu_join(g_dir, folder);
    mkdir(dir, 0755);
    char *out = tu_join(dir, "c.zip");
    ev_writer *w = NULL;
    assert_int_equal(ev_writer_new(&w, &o), EV_OK);
    assert_int_equal(ev_writer_add(w, g_src, NULL), EV_OK);
    assert_int_equal(ev_writer_seal(w, out), EV_ECANCELED);
    snprintf(msg, cap, "%s", ev_writer_last_error(w));
    ev_writer_free(w);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", dir);
    assert_int_equal(system(cmd), 0);
    free(out);
    free(dir);
}

static void bundle_writer_cancel_leaves_nothing(void **state)
{
    (void)state;
    int n = 0;
    char msg[512];
    seal_canceled(cancel_first, &n, "cancel", msg, sizeof(msg));
    assert_true(n >= 1);
    assert_true(msg[0] != '\0');
}

/* Cancels once the payload is in: while the tag files (record, views,
 * manifests) are made. */
static int cancel_after_payload(const ev_progress *p, void *payload)
{
    int *n = payload;
    ++*n;
    return p->stage && !strcmp(p->stage, "packing") && p->files_total &&
           p->files_done == p->files_total && p->bytes_done == p->bytes_total;
}

static void bundle_writer_cancel_in_tag_files(void **state)
{
    (void)state;
    int n = 0;
    char msg[512];
    seal_canceled(cancel_after_payload, &n, "cancel-tags", msg, sizeof(msg));
    assert_string_equal(msg, "canceled by callback");
}

/* ---- reading and verifying ------------------------------------------------------------------------ */

static void bundle_open_items_and_verify(void **state)
{
    (void)state;
    const char *paths[2] = { g_zip, g_bagdir };
    for (int k = 0; k < 2; k++) {
        ev_bundle *b = open_bundle(paths[k]);
        assert_int_equal(ev_bundle_is_zip(b), k == 0);
        assert_string_equal(ev_bundle_name(b), k == 0 ? "CASE-1" : "CASE-1-dir");
        assert_int_equal(ev_bundle_item_count(b), 4);
        assert_null(ev_bundle_item(b, 4));
        for (size_t i = 0; i < 4; i++) {
            const ev_item *it = ev_bundle_item(b, i);
            assert_int_equal(it->version, EV_ITEM_VERSION);
            assert_string_equal(it->exhibit, "JS/1");
            assert_string_equal(it->role, "master");
            assert_memory_equal(it->path, "data/JS_1/src/", 14);
            assert_non_null(it->sha256);
            assert_int_equal(strlen(it->sha256), 64);
            /* the recorded hash is the file's */
            char *src = tu_join(g_src, it->path + 14);
            size_t len = 0;
            uint8_t *data = tu_read(src, &len);
            char want[65];
            ev_hash__sha256_hex(want, data ? (const char *)data : "", len);
            assert_string_equal(it->sha256, want);
            assert_int_equal(it->size, len);
            free(data);
            free(src);
        }
        ev_report *r = verify(b, 0);
        assert_int_equal(ev_report_verdict(r), EV_VERDICT_VALID);
        assert_int_equal(ev_report_problem_count(r), 0);
        size_t payload = 0;
        for (size_t i = 0; i < ev_report_file_count(r); i++) {
            const ev_file_result *f = ev_report_file(r, i);
            assert_int_equal(f->status, EV_FILE_OK);
            if (!f->is_tag)
                payload++;
        }
        assert_int_equal(payload, 4);
        char *js = NULL;
        assert_int_equal(ev_report_json(&js, r), EV_OK);
        json_t *j = json_loads(js, 0, NULL);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "format")), "evidence.verify");
        assert_string_equal(json_string_value(json_object_get(j, "verdict")), "valid");
        json_decref(j);
        ev_free(js);
        ev_report_free(r);
        /* --fast hashes nothing but still checks the lists */
        r = verify(b, EV_VERIFY_FAST);
        assert_int_equal(ev_report_verdict(r), EV_VERDICT_VALID);
        ev_report_free(r);
        /* whole tag files */
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(ev_bundle_read_file(&buf, &len, b, "bagit.txt", 0), EV_OK);
        assert_int_equal(len, 54);
        assert_memory_equal(buf, "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", 54);
        assert_int_equal(buf[len], 0);
        ev_free(buf);
        assert_int_equal(ev_bundle_read_file(&buf, &len, b, "bag-info.txt", 10), EV_EUNSAFE);
        assert_int_equal(ev_bundle_read_file(&buf, &len, b, "nope.txt", 0), EV_ENOTFOUND);
        ev_bundle_free(b);
    }
}

static void bundle_verify_reports_every_problem(void **state)
{
    (void)state;
    char *bag = copy_tree(g_bagdir, "tampered");
    /* modify one payload file, remove another, add one */
    char *p = tu_join(bag, "data/JS_1/src/a.txt");
    tu_write(p, "ALPHA\n", 6);
    free(p);
    p = tu_join(bag, "data/JS_1/src/sub/empty");
    unlink(p);
    free(p);
    p = tu_join(bag, "data/JS_1/src/new.txt");
    tu_write(p, "new", 3);
    free(p);
    ev_bundle *b = open_bundle(bag);
    ev_report *r = verify(b, 0);
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_INVALID);
    assert_true(report_has(r, "modified", "data/JS_1/src/a.txt"));
    assert_true(report_has(r, "missing", "data/JS_1/src/sub/empty"));
    assert_true(report_has(r, "extra", "data/JS_1/src/new.txt"));
    assert_true(report_has(r, "oxum-mismatch", "bag-info.txt"));
    bool seen_modified = false;
    for (size_t i = 0; i < ev_report_file_count(r); i++) {
        const ev_file_result *f = ev_report_file(r, i);
        if (strcmp(f->path, "data/JS_1/src/a.txt") == 0) {
            assert_int_equal(f->status, EV_FILE_MODIFIED);
            seen_modified = true;
        }
    }
    assert_true(seen_modified);
    for (size_t i = 0; i < ev_report_problem_count(r); i++) {
        const ev_problem *pr = ev_report_problem(r, i);
        assert_int_equal(pr->version, EV_PROBLEM_VERSION);
        assert_true(strlen(pr->message) > 10);
    }
    ev_report_free(r);
    ev_bundle_free(b);
    free(bag);
}

static size_t problem_index(const ev_report *r, const char *code)
{
    for (size_t i = 0; i < ev_report_problem_count(r); i++)
        if (strcmp(ev_report_problem(r, i)->code, code) == 0)
            return i;
    fail_msg("no '%s' problem", code);
    return 0;
}

/* The record checks run beside the hashing, yet their problems come in
 * the report where they always did: after the files' results and the
 * disclosure tree, before the checks that follow them. */
static void bundle_record_problems_keep_their_place(void **state)
{
    (void)state;
    char *bag = copy_tree(g_bagdir, "record-and-files");
    char *p = tu_join(bag, "data/JS_1/src/a.txt");
    tu_write(p, "ALPHA\n", 6);
    free(p);
    p = tu_join(bag, "evidence.json");
    size_t n = 0;
    uint8_t *rec = tu_read(p, &n);
    assert_non_null(rec);
    char *t = calloc(1, n + 16);
    assert_non_null(t);
    memcpy(t, rec, n);
    char *role = strstr(t, "\"master\"");
    assert_non_null(role);
    memcpy(role, "\"boss\"  ", 8);
    assert_int_equal(tu_write(p, t, n), 0);
    free(t);
    free(rec);
    free(p);
    for (unsigned threads = 1; threads <= 4; threads *= 4) {
        ev_report *r = verify_bag(bag, threads);
        assert_int_equal(ev_report_verdict(r), EV_VERDICT_INVALID);
        size_t modified = problem_index(r, "modified");
        size_t tag = problem_index(r, "tag-modified");
        size_t disclosure = problem_index(r, "disclosure-root-mismatch");
        size_t schema = problem_index(r, "record-schema");
        assert_true(modified < schema);
        assert_true(tag < schema);
        assert_true(disclosure < schema);
        /* and the record check's problems as one run: nothing between */
        assert_string_equal(ev_report_problem(r, schema)->path, "evidence.json");
        ev_report_free(r);
    }
    free(bag);
}

static int cancel_now(const ev_progress *p, void *payload)
{
    (void)p;
    (void)payload;
    return 1;
}

static void bundle_limits_and_cancel(void **state)
{
    (void)state;
    ev_bundle_options bo;
    ev_bundle_options_init(&bo, EV_BUNDLE_OPTIONS_VERSION);
    bo.max_entries = 3;
    ev_bundle *b = NULL;
    assert_int_equal(ev_bundle_new(&b, &bo), EV_OK);
    assert_int_equal(ev_bundle_open(b, g_zip), EV_EUNSAFE);
    assert_true(ev_bundle_last_error(b)[0] != '\0');
    assert_int_equal(ev_bundle_item_count(b), 0);
    ev_bundle_free(b);
    ev_bundle_options_init(&bo, EV_BUNDLE_OPTIONS_VERSION);
    bo.max_total_size = 1000;
    assert_int_equal(ev_bundle_new(&b, &bo), EV_OK);
    assert_int_equal(ev_bundle_open(b, g_zip), EV_EUNSAFE);
    ev_bundle_free(b);
    /* a progress callback that asks to stop; with more than one thread
     * the views check, which waits for the views' digests from the
     * hashing, is released when the hashing stops, and the result is the
     * same */
    ev_report *r = (ev_report *)1;
    for (unsigned t = 1; t <= 4; t *= 4) {
        ev_bundle_options_init(&bo, EV_BUNDLE_OPTIONS_VERSION);
        bo.progress_cb = cancel_now;
        bo.threads = t;
        assert_int_equal(ev_bundle_new(&b, &bo), EV_OK);
        assert_int_equal(ev_bundle_open(b, g_zip), EV_OK);
        r = (ev_report *)1;
        assert_int_equal(ev_bundle_verify(&r, b, NULL), EV_ECANCELED);
        assert_null(r);
        ev_bundle_free(b);
    }
    /* threads: one and many give the same result */
    for (unsigned t = 1; t <= 8; t *= 8) {
        ev_bundle_options_init(&bo, EV_BUNDLE_OPTIONS_VERSION);
        bo.threads = t;
        assert_int_equal(ev_bundle_new(&b, &bo), EV_OK);
        assert_int_equal(ev_bundle_open(b, g_zip), EV_OK);
        r = verify(b, 0);
        assert_int_equal(ev_report_verdict(r), EV_VERDICT_VALID);
        ev_report_free(r);
        ev_bundle_free(b);
    }
}

/* Every problem of a damaged bundle, "severity code path message" a line,
 * in the order of the report. Caller frees. */
static char *problem_lines(const char *bag, unsigned threads)
{
    ev_report *r = verify_bag(bag, threads);
    ev_buf out = { 0 };
    for (size_t i = 0; i < ev_report_problem_count(r); i++) {
        const ev_problem *p = ev_report_problem(r, i);
        assert_int_equal(ev_buf__printf(&out, "%d %s %s %s\n", (int)p->severity, p->code,
                                        p->path ? p->path : "-", p->message),
                         EV_OK);
    }
    assert_int_equal(ev_buf__append(&out, "", 1), EV_OK);
    ev_report_free(r);
    return out.data;
}

/* With more than one thread, the record checks, case.jsonld, index.html
 * and the hashing run beside one another: the report is still the one a
 * single thread gives, problem for problem, in the same order (the record
 * checks' problems before the views'). */
static void bundle_verify_same_report_any_threads(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("thr");
    char *src = tu_join(dir, "in");
    assert_int_equal(tu_put(src, "a.txt", "some words\n"), 0);
    assert_int_equal(tu_put(src, "b.txt", "more words\n"), 0);
    char *bag = tu_join(dir, "bag");
    assert_int_equal(tu_make_bundle(src, bag, EV_FORMAT_DIR), EV_OK);
    /* the record says a text file is a JPEG (a record check) and so no
     * longer makes the stored views (the views check); index.html is
     * changed as well */
    char *rec = tu_join(bag, "evidence.json");
    size_t n = 0;
    char *t = (char *)tu_read(rec, &n);
    assert_non_null(t);
    char *m = strstr(t, "\"text/plain\"");
    assert_non_null(m);
    memcpy(m, "\"image/jpeg\"", 12);
    assert_int_equal(tu_write(rec, t, n), 0);
    free(t);
    char *idx = tu_join(bag, "index.html");
    t = (char *)tu_read(idx, &n);
    assert_non_null(t);
    t[n / 2] = t[n / 2] == 'x' ? 'y' : 'x';
    assert_int_equal(tu_write(idx, t, n), 0);
    free(t);
    char *one = problem_lines(bag, 1), *four = problem_lines(bag, 4);
    assert_non_null(strstr(one, "record-mime-mismatch"));
    assert_non_null(strstr(one, "view-mismatch case.jsonld"));
    assert_non_null(strstr(one, "view-mismatch index.html"));
    assert_true(strstr(one, "record-mime-mismatch") < strstr(one, "view-mismatch"));
    assert_string_equal(one, four);
    free(one);
    free(four);
    free(rec);
    free(idx);
    free(bag);
    free(src);
    tu_rmrf(dir);
    free(dir);
}

/* ---- extraction ---------------------------------------------------------------------------------- */

static void bundle_extract_checks_every_byte(void **state)
{
    (void)state;
    ev_bundle *b = open_bundle(g_zip);
    char *dest = tu_join(g_dir, "x1");
    ev_report *r = NULL;
    assert_int_equal(ev_bundle_extract(&r, b, dest), EV_OK);
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_VALID);
    ev_report_free(r);
    for (size_t i = 0; i < 4; i++) {
        char *a = tu_join(g_src, NAMES[i]);
        char *rel = tu_join("data/JS_1/src", NAMES[i]);
        char *x = tu_join(dest, rel);
        size_t la = 0, lx = 0;
        uint8_t *da = tu_read(a, &la), *dx = tu_read(x, &lx);
        assert_non_null(dx);
        assert_int_equal(la, lx);
        if (la)
            assert_memory_equal(da, dx, la);
        free(da);
        free(dx);
        free(a);
        free(rel);
        free(x);
    }
    /* DEST must be new or empty */
    assert_int_equal(ev_bundle_extract(&r, b, dest), EV_EEXISTS);
    assert_null(r);
    char *file = tu_join(g_dir, "a-file");
    tu_write(file, "x", 1);
    assert_int_equal(ev_bundle_extract(&r, b, file), EV_EEXISTS);
    assert_int_equal(ev_bundle_extract(NULL, b, file), EV_EINVAL);
    free(file);
    ev_bundle_free(b);
    free(dest);

    /* a modified file is reported, and nothing at all is left in DEST: the
     * staging folder beside it is removed, DEST never appears */
    char *bag = copy_tree(g_bagdir, "x-tampered");
    char *p = tu_join(bag, "data/JS_1/src/sub/b.bin");
    tu_write(p, "changed", 7);
    free(p);
    b = open_bundle(bag);
    dest = tu_join(g_dir, "x2");
    assert_int_equal(ev_bundle_extract(&r, b, dest), EV_OK);
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_INVALID);
    assert_true(report_has(r, "modified", "data/JS_1/src/sub/b.bin"));
    char *x = tu_join(dest, "data/JS_1/src/sub/b.bin");
    struct stat st;
    assert_int_not_equal(stat(x, &st), 0);
    free(x);
    x = tu_join(dest, "data/JS_1/src/a.txt");
    assert_int_not_equal(stat(x, &st), 0);
    free(x);
    assert_int_not_equal(stat(dest, &st), 0);
    assert_true(report_has(r, "extract-discarded", NULL));
    {
        DIR *d = opendir(g_dir);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL)
            assert_null(strstr(de->d_name, ".x2.partial-"));
        if (d)
            closedir(d);
    }
    char *js = NULL;
    assert_int_equal(ev_report_json(&js, r), EV_OK);
    assert_non_null(strstr(js, "\"evidence.extract\""));
    ev_free(js);
    ev_report_free(r);
    ev_bundle_free(b);
    free(dest);
    free(bag);
}

/* ---- inspect, custody, amend ------------------------------------------------------------------------ */

static void bundle_inspect_and_custody_json(void **state)
{
    (void)state;
    ev_bundle *b = open_bundle(g_zip);
    char *s = NULL;
    assert_int_equal(ev_bundle_inspect_json(&s, b), EV_OK);
    json_t *j = json_loads(s, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "format")), "evidence.inspect");
    assert_string_equal(json_string_value(json_object_get(j, "container")), "zip");
    assert_int_equal(json_array_size(json_object_get(j, "items")), 4);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "case"), "reference")),
                        "CASE/1");
    json_decref(j);
    ev_free(s);
    bool ok = false;
    assert_int_equal(ev_bundle_custody_json(&s, &ok, b), EV_OK);
    assert_true(ok);
    j = json_loads(s, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "events")), 1);
    json_decref(j);
    ev_free(s);
    ev_bundle_free(b);
}

static void bundle_amend_appends_and_reseals(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        char *path = k == 0 ? tu_join(g_dir, "amend.zip") : tu_join(g_dir, "amend-dir");
        char cmd[2048];
        snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", k == 0 ? g_zip : g_bagdir, path);
        assert_int_equal(system(cmd), 0);
        ev_bundle *b = open_bundle(path);
        ev_custody_event e = { EV_CUSTODY_EVENT_VERSION, "received", "Desk", "Store", "seal ok" };
        static const uint8_t sig[] = "not really a signature";
        ev_tag_file files[] = {
            { "notes/extra.txt", (const uint8_t *)"extra tag file\n", 15 },
            { "signatures/0002-desk.p7s", sig, sizeof(sig) },
        };
        assert_int_equal(ev_bundle_amend(b, &e, files, 2), EV_OK);
        /* b is reopened on the new bundle */
        ev_report *r = verify(b, 0);
        assert_int_equal(ev_report_verdict(r), EV_VERDICT_VALID);
        ev_report_free(r);
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(ev_bundle_read_file(&buf, &len, b, "notes/extra.txt", 0), EV_OK);
        assert_int_equal(len, 15);
        ev_free(buf);
        bool ok = false;
        char *s = NULL;
        assert_int_equal(ev_bundle_custody_json(&s, &ok, b), EV_OK);
        assert_true(ok);
        json_t *j = json_loads(s, 0, NULL);
        json_t *evs = json_object_get(j, "events");
        assert_int_equal(json_array_size(evs), 2);
        json_t *ev2 = json_object_get(json_array_get(evs, 1), "event");
        assert_string_equal(json_string_value(json_object_get(ev2, "action")), "received");
        assert_string_equal(json_string_value(json_object_get(ev2, "note")), "seal ok");
        json_decref(j);
        ev_free(s);
        /* refused: unsafe or reserved tag paths, incomplete events */
        static const char *const bad[] = { "data/x", "../x", "/abs", "manifest-sha256.txt",
                                           "tagmanifest-sha256.txt", "bagit.txt",
                                           "custody.jsonl", "evidence.json", "a\\b",
                                           "tagseal-sha256.txt" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            ev_tag_file f = { bad[i], (const uint8_t *)"x", 1 };
            if (ev_bundle_amend(b, NULL, &f, 1) != EV_EINVAL)
                fail_msg("amend accepted the tag path '%s'", bad[i]);
        }
        ev_custody_event noactor = { EV_CUSTODY_EVENT_VERSION, "note", NULL, "Org", NULL };
        assert_int_equal(ev_bundle_amend(b, &noactor, NULL, 0), EV_EINVAL);
        ev_custody_event badver = { 99, "note", "A", "Org", NULL };
        assert_int_equal(ev_bundle_amend(b, &badver, NULL, 0), EV_EINVAL);
        /* a person the record does not have (it has no people): refused, named */
        ev_custody_event who = { EV_CUSTODY_EVENT_VERSION, "note", NULL, NULL, NULL, "PC 1",
                                 NULL };
        assert_int_equal(ev_bundle_amend(b, &who, NULL, 0), EV_EINVAL);
        assert_non_null(strstr(ev_bundle_last_error(b), "no person 'PC 1'"));
        /* a version 1 event: what follows its fields is not read */
        ev_custody_event v1 = { 1, "note", "A", "Org", NULL, "not read", "not read" };
        assert_int_equal(ev_bundle_amend(b, &v1, NULL, 0), EV_OK);
        assert_int_equal(ev_bundle_custody_json(&s, &ok, b), EV_OK);
        assert_true(ok);
        assert_null(strstr(s, "not read"));
        ev_free(s);
        assert_int_equal(ev_bundle_amend(b, NULL, NULL, 1), EV_EINVAL);
        ev_bundle_free(b);
        free(path);
    }
}

static void bundle_amend_refuses_invalid_bundle(void **state)
{
    (void)state;
    char *bag = copy_tree(g_bagdir, "amend-bad");
    char *p = tu_join(bag, "data/JS_1/src/a.txt");
    tu_write(p, "ALPHA\n", 6);
    free(p);
    ev_bundle *b = open_bundle(bag);
    ev_custody_event e = { EV_CUSTODY_EVENT_VERSION, "note", "A", "B", NULL };
    assert_int_equal(ev_bundle_amend(b, &e, NULL, 0), EV_EFORMAT);
    /* the first error, and what was not done */
    const char *m = ev_bundle_last_error(b);
    static const char tail[] = "; it was not changed. Run 'evidence verify' for every problem";
    assert_memory_equal(m, "the bundle fails verification (", 31);
    assert_true(strlen(m) > sizeof(tail) + 31);
    assert_string_equal(m + strlen(m) - (sizeof(tail) - 1), tail);
    ev_bundle_free(b);
    /* the custody log is unchanged */
    char *c1 = tu_join(bag, "custody.jsonl");
    char *c0 = tu_join(g_bagdir, "custody.jsonl");
    size_t l1, l0;
    uint8_t *d1 = tu_read(c1, &l1), *d0 = tu_read(c0, &l0);
    assert_int_equal(l1, l0);
    assert_memory_equal(d1, d0, l0);
    free(d1);
    free(d0);
    free(c1);
    free(c0);
    free(bag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bundle_options_and_arguments),
        cmocka_unit_test(bundle_verify_same_report_any_threads),
        cmocka_unit_test(bundle_writer_errors),
        cmocka_unit_test(bundle_writer_cancel_leaves_nothing),
        cmocka_unit_test(bundle_writer_cancel_walk),
        cmocka_unit_test(bundle_writer_cancel_in_tag_files),
        cmocka_unit_test(bundle_open_items_and_verify),
        cmocka_unit_test(bundle_verify_reports_every_problem),
        cmocka_unit_test(bundle_record_problems_keep_their_place),
        cmocka_unit_test(bundle_limits_and_cancel),
        cmocka_unit_test(bundle_extract_checks_every_byte),
        cmocka_unit_test(bundle_inspect_and_custody_json),
        cmocka_unit_test(bundle_amend_appends_and_reseals),
        cmocka_unit_test(bundle_amend_refuses_invalid_bundle),
    };
    return cmocka_run_group_tests_name("bundle", tests, setup, teardown);
}
