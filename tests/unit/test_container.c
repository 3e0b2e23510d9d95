/* Unit tests for src/container/: reading a bag from a ZIP or a folder with
 * every name and size treated as hostile, and atomic writing. ZIP fixtures
 * are made with libzip at test time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zip.h>

#include "container/container.h"
#include "base/hash.h"
#include "base/report.h"
#include "testutil.h"

static char *g_dir;

static int setup(void **state)
{
    (void)state;
    g_dir = tu_mkdtemp("test_container");
    return g_dir ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(g_dir);
    free(g_dir);
    return 0;
}

typedef struct zent {
    const char *name;
    const char *data;     /* NULL: a folder entry */
    size_t len;           /* 0: strlen(data) */
    bool deflate;
    unsigned mode;        /* unix mode for the external attributes, 0: default */
} zent;

static char *make_zip(const char *file, const zent *e, size_t n)
{
    char *path = tu_join(g_dir, file);
    unlink(path);
    int err = 0;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    assert_non_null(za);
    for (size_t i = 0; i < n; i++) {
        zip_int64_t idx;
        if (!e[i].data) {
            idx = zip_dir_add(za, e[i].name, ZIP_FL_ENC_UTF_8);
        } else {
            size_t len = e[i].len ? e[i].len : strlen(e[i].data);
            zip_source_t *s = zip_source_buffer(za, e[i].data, len, 0);
            assert_non_null(s);
            idx = zip_file_add(za, e[i].name, s, ZIP_FL_ENC_GUESS);
            if (idx < 0)
                zip_source_free(s);
            else
                zip_set_file_compression(za, (zip_uint64_t)idx,
                                         e[i].deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
        }
        if (idx < 0)
            fail_msg("libzip refused '%s': %s", e[i].name, zip_strerror(za));
        if (e[i].mode)
            zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
                                             (zip_uint32_t)e[i].mode << 16);
    }
    assert_int_equal(zip_close(za), 0);
    return path;
}

static ev_report *new_report(void)
{
    ev_report *r = NULL;
    assert_int_equal(ev_report__new(&r, "evidence.verify"), EV_OK);
    return r;
}

static const ev_store_limits LIM = { 1000000, (uint64_t)1 << 40, 1000 };

static int open_store(ev_store **s, const char *path, const ev_store_limits *lim, ev_report *r,
                      ev_errbuf *err)
{
    err->msg[0] = '\0';
    return ev_store__open(s, path, lim ? lim : &LIM, r, err);
}

static const char BAGIT[] = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

/* ---- reading ----------------------------------------------------------------------- */

static void container_zip_strips_top_folder(void **state)
{
    (void)state;
    static char big[200000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 7);
    const zent e[] = {
        { "bag/", NULL, 0, false, 0 },
        { "bag/bagit.txt", BAGIT, 0, true, 0 },
        { "bag/data/", NULL, 0, false, 0 },
        { "bag/data/a.txt", "hello\n", 0, true, 0 },
        { "bag/data/b.bin", big, sizeof(big), false, 0 },
    };
    char *zp = make_zip("top.zip", e, 5);
    ev_store *s = NULL;
    ev_errbuf err;
    ev_report *r = new_report();
    assert_int_equal(open_store(&s, zp, NULL, r, &err), EV_OK);
    assert_int_equal(r->nproblems, 0);
    assert_true(ev_store__is_zip(s));
    assert_string_equal(ev_store__bag_name(s), "bag");
    long a = ev_store__find(s, "data/a.txt");
    long b = ev_store__find(s, "data/b.bin");
    assert_true(a >= 0 && b >= 0);
    assert_true(ev_store__find(s, "bagit.txt") >= 0);
    assert_int_equal(ev_store__find(s, "bag/bagit.txt"), -1);
    assert_true(ev_store__entry(s, (size_t)a)->deflated);
    assert_false(ev_store__entry(s, (size_t)b)->deflated);
    assert_int_equal(ev_store__entry(s, (size_t)b)->size, sizeof(big));
    assert_null(ev_store__entry(s, ev_store__count(s)));
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(ev_store__read_all(&buf, &len, s, (size_t)a, 100, &err), EV_OK);
    assert_int_equal(len, 6);
    assert_string_equal(buf, "hello\n");
    free(buf);
    /* over the limit: refused, not truncated */
    assert_int_equal(ev_store__read_all(&buf, &len, s, (size_t)b, 1000, &err), EV_EUNSAFE);
    assert_null(buf);
    /* a reader over a stored entry reads and seeks */
    ev_store_cursor *c = NULL;
    ev_entry_reader *er = NULL;
    assert_int_equal(ev_store__cursor_new(&c, s, &err), EV_OK);
    assert_int_equal(ev_store__entry_open(&er, c, (size_t)b, &err), EV_OK);
    char tmp[16];
    assert_int_equal(ev_store__entry_seek(er, 1000, SEEK_SET), 1000);
    assert_int_equal(ev_store__entry_read(er, tmp, sizeof(tmp), &err), (int64_t)sizeof(tmp));
    assert_memory_equal(tmp, big + 1000, sizeof(tmp));
    ev_io io;
    ev_store__entry_io(&io, er);
    assert_int_equal(io.size, sizeof(big));
    assert_non_null(io.seek);
    ev_store__entry_close(er);
    /* deflated entries cannot seek */
    assert_int_equal(ev_store__entry_open(&er, c, (size_t)a, &err), EV_OK);
    assert_true(ev_store__entry_seek(er, 2, SEEK_SET) < 0);
    ev_store__entry_close(er);
    /* folders and unknown indexes are not opened */
    long d = ev_store__find(s, "data");
    assert_true(d >= 0);
    assert_int_equal(ev_store__entry(s, (size_t)d)->type, EV_ENTRY_DIR);
    assert_int_equal(ev_store__entry_open(&er, c, (size_t)d, &err), EV_EINVAL);
    assert_int_equal(ev_store__entry_open(&er, c, 99999, &err), EV_EINVAL);
    ev_store__cursor_free(c);
    ev_store__free(s);
    ev_report_free(r);
    free(zp);
}

static void container_zip_refuses_unsafe_names(void **state)
{
    (void)state;
    const zent e[] = {
        { "bag/bagit.txt", BAGIT, 0, false, 0 },
        { "bag/../evil1", "x", 0, false, 0 },
        { "/evil2", "x", 0, false, 0 },
        { "bag/data/a\\b", "x", 0, false, 0 },
        { "C:/evil3", "x", 0, false, 0 },
        { "bag/data/\x1b[31m", "x", 0, false, 0 },
        { "bag/data//x", "x", 0, false, 0 },
        { "bag/./data/y", "x", 0, false, 0 },
        { "~/evil4", "x", 0, false, 0 },
        { "bag/data/ok", "fine", 0, false, 0 },
    };
    char *zp = make_zip("unsafe.zip", e, sizeof(e) / sizeof(e[0]));
    ev_store *s = NULL;
    ev_errbuf err;
    ev_report *r = new_report();
    assert_int_equal(open_store(&s, zp, NULL, r, &err), EV_OK);
    assert_int_equal(ev_report__count_code(r, "unsafe-path"), 8);
    assert_true(ev_store__find(s, "data/ok") >= 0);
    for (size_t i = 0; i < ev_store__count(s); i++) {
        const ev_store_entry *x = ev_store__entry(s, i);
        if (strstr(x->name, "evil") || strchr(x->name, '\\') || strchr(x->name, '\x1b'))
            assert_true(x->unsafe);
    }
    assert_int_equal(ev_store__find(s, "../evil1"), -1);
    ev_store__free(s);
    ev_report_free(r);
    free(zp);
}

static void container_zip_refuses_links_and_collisions(void **state)
{
    (void)state;
    const zent e[] = {
        { "bag/bagit.txt", BAGIT, 0, false, 0 },
        { "bag/data/link", "/etc/passwd", 0, false, 0120777 },
        { "bag/data/fifo", "", 1, false, 0010644 },
        { "bag/data/Case.txt", "1", 0, false, 0 },
        { "bag/data/case.txt", "2", 0, false, 0 },
        { "bag/data/caf\xc3\xa9", "3", 0, false, 0 },
        { "bag/data/cafe\xcc\x81", "4", 0, false, 0 },
    };
    char *zp = make_zip("links.zip", e, sizeof(e) / sizeof(e[0]));
    ev_store *s = NULL;
    ev_errbuf err;
    ev_report *r = new_report();
    assert_int_equal(open_store(&s, zp, NULL, r, &err), EV_OK);
    assert_int_equal(ev_report__count_code(r, "unsafe-entry-type"), 2);
    assert_int_equal(ev_report__count_code(r, "case-collision"), 1);
    assert_int_equal(ev_report__count_code(r, "normalization-collision"), 1);
    assert_int_equal(ev_store__find(s, "data/link"), -1);
    /* exactly one of each colliding pair stays readable */
    assert_true((ev_store__find(s, "data/Case.txt") >= 0) != (ev_store__find(s, "data/case.txt") >= 0));
    assert_true((ev_store__find(s, "data/caf\xc3\xa9") >= 0) !=
                (ev_store__find(s, "data/cafe\xcc\x81") >= 0));
    ev_store__free(s);
    ev_report_free(r);
    free(zp);
}

/* ASCII names take a shorter way to their NFC and case-folded keys; a
 * non-ASCII name must still meet an ASCII one: the KELVIN SIGN (U+212A) is
 * "K" in NFC and "k" folded, and LATIN SMALL LETTER LONG S (U+017F) folds
 * to "s". */
static void container_zip_collisions_ascii_and_not(void **state)
{
    (void)state;
    const zent e[] = {
        { "bag/bagit.txt", BAGIT, 0, false, 0 },
        { "bag/data/K.txt", "1", 0, false, 0 },
        { "bag/data/\xe2\x84\xaa.txt", "2", 0, false, 0 },
        { "bag/data/k2", "3", 0, false, 0 },
        { "bag/data/\xe2\x84\xaa" "2", "4", 0, false, 0 },
        { "bag/data/Ab", "5", 0, false, 0 },
        { "bag/data/aB", "6", 0, false, 0 },
        { "bag/data/s", "7", 0, false, 0 },
        { "bag/data/\xc5\xbf", "8", 0, false, 0 },
        { "bag/data/plain", "9", 0, false, 0 },
    };
    char *zp = make_zip("mixed.zip", e, sizeof(e) / sizeof(e[0]));
    ev_store *s = NULL;
    ev_errbuf err;
    ev_report *r = new_report();
    assert_int_equal(open_store(&s, zp, NULL, r, &err), EV_OK);
    assert_int_equal(ev_report__count_code(r, "normalization-collision"), 1);
    assert_int_equal(ev_report__count_code(r, "case-collision"), 3);
    assert_true((ev_store__find(s, "data/K.txt") >= 0) !=
                (ev_store__find(s, "data/\xe2\x84\xaa.txt") >= 0));
    assert_true((ev_store__find(s, "data/k2") >= 0) !=
                (ev_store__find(s, "data/\xe2\x84\xaa" "2") >= 0));
    assert_true((ev_store__find(s, "data/Ab") >= 0) != (ev_store__find(s, "data/aB") >= 0));
    assert_true((ev_store__find(s, "data/s") >= 0) != (ev_store__find(s, "data/\xc5\xbf") >= 0));
    assert_true(ev_store__find(s, "data/plain") >= 0);
    ev_store__free(s);
    ev_report_free(r);
    free(zp);
}

/* The local headers are read through a window over the file: headers on
 * both sides of its edges, and far past its first fill, are still each
 * compared with the central directory. */
static void container_zip_local_headers_many(void **state)
{
    (void)state;
    enum { N = 6000 };
    static char data[900];
    memset(data, 'x', sizeof(data));
    zent *e = calloc(N + 1, sizeof(*e));
    char (*names)[64] = calloc(N, 64);
    assert_non_null(e);
    assert_non_null(names);
    e[0] = (zent){ "bag/bagit.txt", BAGIT, 0, false, 0 };
    for (int i = 0; i < N; i++) {
        /* names and sizes of several lengths, so headers fall anywhere */
        snprintf(names[i], 64, "bag/data/f%0*d", 4 + i % 7, i);
        e[i + 1] = (zent){ names[i], data, 1 + (size_t)(i * 37) % 17, false, 0 };
    }
    char *zp = make_zip("many.zip", e, N + 1);
    /* change one letter of the local name of a few entries */
    size_t zl = 0;
    uint8_t *z = tu_read(zp, &zl);
    assert_non_null(z);
    static const int bad[] = { 1, 3000, 4321, N - 1 };
    for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
        const char *nm = names[bad[b]];
        size_t nl = strlen(nm);
        uint8_t *hit = NULL;
        for (size_t i = 30; i + nl <= zl && !hit; i++)
            if (z[i - 30] == 'P' && z[i - 29] == 'K' && z[i - 28] == 3 && z[i - 27] == 4 &&
                !memcmp(z + i, nm, nl))
                hit = z + i;
        assert_non_null(hit);
        hit[nl - 1] = (uint8_t)(hit[nl - 1] == '0' ? '1' : '0');
    }
    assert_int_equal(tu_write(zp, z, zl), 0);
    free(z);
    ev_store *s = NULL;
    ev_errbuf err;
    ev_report *r = new_report();
    assert_int_equal(open_store(&s, zp, NULL, r, &err), EV_OK);
    assert_int_equal(ev_report__count_code(r, "zip-local-name-mismatch"), 4);
    for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++)
        assert_int_equal(ev_store__find(s, names[bad[b]] + 4), -1);
    /* and nothing else is wrong: every other entry is read */
    assert_int_equal(r->nproblems, 4);
    for (int i = 0; i < N; i++) {
        bool is_bad = false;
        for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++)
            is_bad = is_bad || bad[b] == i;
        if (!is_bad && ev_store__find(s, names[i] + 4) < 0)
            fail_msg("'%s' is not found", names[i]);
    }
    ev_store__free(s);
    ev_report_free(r);
    free(zp);
    free(names);
    free(e);
}

/* Header fields that change nothing read: a mode that lost its file type
 * among typed ones, a made-by host no system has, extra fields whose local
 * and central copies disagree give warnings; the same ZIP as libzip writes
 * it gives none. */
static size_t warnings_of(const char *zp, const char *code)
{
    ev_store *s = NULL;
    ev_errbuf err;
    ev_report *r = new_report();
    assert_int_equal(open_store(&s, zp, NULL, r, &err), EV_OK);
    size_t n = code ? ev_report__count_code(r, code) : ev_report__count_code(r, "zip-mode-no-type") +
               ev_report__count_code(r, "zip-header-unusual") +
               ev_report__count_code(r, "zip-local-field-mismatch");
    /* nothing here makes an entry unreadable */
    assert_true(ev_store__find(s, "data/a") >= 0);
    ev_store__free(s);
    ev_report_free(r);
    return n;
}

static void container_zip_header_fields(void **state)
{
    (void)state;
    const zent plain[] = {
        { "bag/bagit.txt", BAGIT, 0, false, 0100644 },
        { "bag/data/a", "a", 0, false, 0100644 },
        { "bag/data/b", "b", 0, false, 0100600 },
        { "bag/data/c", "c", 0, true, 0100775 },
    };
    char *zp = make_zip("plain.zip", plain, 4);
    assert_int_equal(warnings_of(zp, NULL), 0);
    free(zp);
    /* the mode of one file lost its type; 0600 without a type (Python's
     * writestr) is not reported */
    const zent notype[] = {
        { "bag/bagit.txt", BAGIT, 0, false, 0100644 },
        { "bag/data/a", "a", 0, false, 0644 },
        { "bag/data/b", "b", 0, false, 0600 },
    };
    zp = make_zip("notype.zip", notype, 3);
    assert_int_equal(warnings_of(zp, "zip-mode-no-type"), 1);
    assert_int_equal(warnings_of(zp, NULL), 1);
    free(zp);
    /* made by a host APPNOTE does not define; extra fields that differ */
    zp = make_zip("fields.zip", plain, 4);
    int zerr = 0;
    zip_t *za = zip_open(zp, 0, &zerr);
    assert_non_null(za);
    zip_int64_t a = zip_name_locate(za, "bag/data/a", 0), b = zip_name_locate(za, "bag/data/b", 0);
    zip_int64_t c = zip_name_locate(za, "bag/data/c", 0);
    assert_true(a >= 0 && b >= 0 && c >= 0);
    assert_int_equal(zip_file_set_external_attributes(za, (zip_uint64_t)a, 0, 42, 0100644u << 16), 0);
    /* a UID/GID field (ux) whose local and central copies differ */
    const zip_uint8_t ux_l[] = { 1, 4, 0xe8, 3, 0, 0, 4, 0xe8, 3, 0, 0 };
    const zip_uint8_t ux_c[] = { 1, 4, 0xe9, 3, 0, 0, 4, 0xe8, 3, 0, 0 };
    assert_int_equal(zip_file_extra_field_set(za, (zip_uint64_t)b, 0x7875, ZIP_EXTRA_FIELD_NEW,
                                              ux_l, sizeof(ux_l), ZIP_FL_LOCAL), 0);
    assert_int_equal(zip_file_extra_field_set(za, (zip_uint64_t)b, 0x7875, ZIP_EXTRA_FIELD_NEW,
                                              ux_c, sizeof(ux_c), ZIP_FL_CENTRAL), 0);
    /* a UT field in the local header only */
    const zip_uint8_t ut[] = { 1, 0, 0xf1, 0x53, 0x65 };
    assert_int_equal(zip_file_extra_field_set(za, (zip_uint64_t)c, 0x5455, ZIP_EXTRA_FIELD_NEW,
                                              ut, sizeof(ut), ZIP_FL_LOCAL), 0);
    assert_int_equal(zip_close(za), 0);
    assert_int_equal(warnings_of(zp, "zip-header-unusual"), 1);
    assert_int_equal(warnings_of(zp, "zip-local-field-mismatch"), 2);
    free(zp);
}

static void container_zip_limits(void **state)
{
    (void)state;
    static char zeros[3 << 20];
    const zent e[] = {
        { "bag/bagit.txt", BAGIT, 0, false, 0 },
        { "bag/data/a", "0123456789", 0, false, 0 },
        { "bag/data/zeros", zeros, sizeof(zeros), true, 0 },
    };
    char *zp = make_zip("limits.zip", e, 3);
    ev_store *s = NULL;
    ev_errbuf err;
    ev_report *r = new_report();
    ev_store_limits few = { 2, (uint64_t)1 << 40, 1000 };
    assert_int_equal(open_store(&s, zp, &few, r, &err), EV_EUNSAFE);
    assert_null(s);
    assert_non_null(strstr(err.msg, "limit"));
    ev_store_limits small = { 100, 20, 1000000 };
    assert_int_equal(open_store(&s, zp, &small, r, &err), EV_EUNSAFE);
    assert_null(s);
    ev_report_free(r);
    r = new_report();
    ev_store_limits ratio = { 100, (uint64_t)1 << 40, 10 };
    assert_int_equal(open_store(&s, zp, &ratio, r, &err), EV_OK);
    assert_int_equal(ev_report__count_code(r, "zip-bomb"), 1);
    assert_int_equal(ev_store__find(s, "data/zeros"), -1);
    assert_true(ev_store__find(s, "data/a") >= 0);
    ev_store__free(s);
    ev_report_free(r);
    free(zp);
}

/* Entries of exactly 1 MiB escape the per-entry ratio check; the whole
 * archive may not expand more than max_ratio times either. */
static void container_zip_archive_ratio(void **state)
{
    (void)state;
    static char zeros[1 << 20];
    const zent e[] = {
        { "bag/bagit.txt", BAGIT, 0, false, 0 },
        { "bag/data/z1", zeros, sizeof(zeros), true, 0 },
        { "bag/data/z2", zeros, sizeof(zeros), true, 0 },
        { "bag/data/z3", zeros, sizeof(zeros), true, 0 },
        { "bag/data/z4", zeros, sizeof(zeros), true, 0 },
    };
    char *zp = make_zip("ratio.zip", e, 5);
    ev_store *s = NULL;
    ev_errbuf err;
    ev_report *r = new_report();
    ev_store_limits ratio = { 100, (uint64_t)1 << 40, 100 };
    assert_int_equal(open_store(&s, zp, &ratio, r, &err), EV_EUNSAFE);
    assert_null(s);
    assert_non_null(strstr(err.msg, "ZIP bomb"));
    assert_int_equal(ev_report__count_code(r, "zip-bomb"), 0);
    /* the default limit lets it through */
    assert_int_equal(open_store(&s, zp, NULL, r, &err), EV_OK);
    ev_store__free(s);
    ev_report_free(r);
    free(zp);
}

/* A temporary output whose lock can be taken is stale and removed; one
 * that is held, or belongs to another target, stays. */
static void container_stale_partials(void **state)
{
    (void)state;
    char *target = tu_join(g_dir, "x.zip");
    char *stale = tu_join(g_dir, ".x.zip.partial-AAAAAA");
    char *held = tu_join(g_dir, ".x.zip.partial-BBBBBB");
    char *legacy = tu_join(g_dir, ".x.zip.amend-0123456789ab");
    char *other = tu_join(g_dir, ".y.zip.partial-CCCCCC");
    char *sdir = tu_join(g_dir, ".x.zip.partial-DDDDDD");
    tu_write(stale, "s", 1);
    tu_write(held, "h", 1);
    tu_write(legacy, "l", 1);
    tu_write(other, "o", 1);
    assert_int_equal(mkdir(sdir, 0755), 0);
    char *inner = tu_join(sdir, "f");
    tu_write(inner, "f", 1);
    int hfd = open(held, O_RDONLY);
    assert_true(hfd >= 0);
    assert_int_equal(flock(hfd, LOCK_EX), 0);
    ev__tmp_clean_stale(target);
    struct stat st;
    assert_int_not_equal(stat(stale, &st), 0);
    assert_int_not_equal(stat(legacy, &st), 0);
    assert_int_not_equal(stat(sdir, &st), 0);
    assert_int_equal(stat(held, &st), 0);
    assert_int_equal(stat(other, &st), 0);
    /* a new temporary output is locked while its fd is open */
    char *tmp = NULL;
    int fd = -1;
    ev_errbuf err;
    assert_int_equal(ev__tmp_create(&tmp, &fd, target, false, &err), EV_OK);
    assert_non_null(strstr(tmp, "/.x.zip.partial-"));
    int probe = open(tmp, O_RDONLY);
    assert_true(probe >= 0);
    assert_int_not_equal(flock(probe, LOCK_EX | LOCK_NB), 0);
    close(probe);
    ev__tmp_clean_stale(target);
    assert_int_equal(stat(tmp, &st), 0);
    close(fd);
    ev__tmp_clean_stale(target);
    assert_int_not_equal(stat(tmp, &st), 0);
    close(hfd);
    unlink(held);
    unlink(other);
    free(tmp);
    free(inner);
    free(target);
    free(stale);
    free(held);
    free(legacy);
    free(other);
    free(sdir);
}

static void container_open_errors(void **state)
{
    (void)state;
    ev_store *s = (ev_store *)1;
    ev_errbuf err;
    ev_report *r = new_report();
    char *p = tu_join(g_dir, "missing.zip");
    assert_int_equal(open_store(&s, p, NULL, r, &err), EV_ENOTFOUND);
    assert_null(s);
    assert_true(err.msg[0] != '\0');
    free(p);
    p = tu_join(g_dir, "text.zip");
    tu_write(p, "not a zip at all\n", 17);
    assert_int_equal(open_store(&s, p, NULL, r, &err), EV_EFORMAT);
    assert_null(s);
    free(p);
    /* an empty ZIP: just the end record */
    p = tu_join(g_dir, "empty.zip");
    static const char eocd[22] = { 'P', 'K', 5, 6 };
    tu_write(p, eocd, sizeof(eocd));
    assert_int_equal(open_store(&s, p, NULL, r, &err), EV_EFORMAT);
    free(p);
    /* a FIFO is neither a ZIP nor a folder, and is never opened (no hang) */
    p = tu_join(g_dir, "fifo.zip");
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_int_equal(open_store(&s, p, NULL, r, &err), EV_EUNSUPPORTED);
    free(p);
    /* no top folder at all */
    const zent e[] = { { "bagit.txt", BAGIT, 0, false, 0 } };
    p = make_zip("flat.zip", e, 1);
    assert_int_equal(open_store(&s, p, NULL, r, &err), EV_EFORMAT);
    free(p);
    ev_report_free(r);
}

static void container_folder_store(void **state)
{
    (void)state;
    char *bag = tu_join(g_dir, "fbag");
    char *p;
    p = tu_join(bag, "bagit.txt"), tu_write(p, BAGIT, strlen(BAGIT)), free(p);
    p = tu_join(bag, "data/a.txt"), tu_write(p, "aaa", 3), free(p);
    p = tu_join(bag, "data/sub/b.bin"), tu_write(p, "b", 1), free(p);
    p = tu_join(bag, "data/link");
    assert_int_equal(symlink("/etc/hostname", p), 0);
    free(p);
    p = tu_join(bag, "data/fifo");
    assert_int_equal(mkfifo(p, 0600), 0);
    free(p);
    ev_store *s = NULL;
    ev_errbuf err;
    ev_report *r = new_report();
    char *slash = tu_join(bag, "");
    assert_int_equal(open_store(&s, slash, NULL, r, &err), EV_OK);
    assert_false(ev_store__is_zip(s));
    assert_string_equal(ev_store__bag_name(s), "fbag");
    assert_int_equal(ev_report__count_code(r, "unsafe-entry-type"), 2);
    assert_true(ev_store__find(s, "data/sub/b.bin") >= 0);
    assert_int_equal(ev_store__find(s, "data/link"), -1);
    assert_int_equal(ev_store__find(s, "data/fifo"), -1);
    char *buf = NULL;
    size_t len;
    assert_int_equal(ev_store__read_all(&buf, &len, s, (size_t)ev_store__find(s, "data/a.txt"), 10,
                                        &err), EV_OK);
    assert_string_equal(buf, "aaa");
    free(buf);
    ev_store__free(s);
    ev_report_free(r);
    free(slash);
    free(bag);
}

/* ---- writing ------------------------------------------------------------------------ */

static size_t count_dir(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
    FILE *f = popen(cmd, "r");
    size_t n = 0;
    if (f) {
        if (fscanf(f, "%zu", &n) != 1)
            n = 0;
        pclose(f);
    }
    return n;
}

static void add_buf(ev_sink *s, const char *path, const char *data, bool compress)
{
    ev_producer p;
    ev_errbuf err;
    assert_int_equal(ev_producer__buffer(&p, data, strlen(data)), EV_OK);
    assert_int_equal(ev_sink__add(s, path, &p, compress, 946684800, &err), EV_OK);
}

static void container_sink_zip_is_atomic(void **state)
{
    (void)state;
    char *dir = tu_join(g_dir, "sinkzip");
    mkdir(dir, 0755);
    char *out = tu_join(dir, "out.zip");
    ev_sink *s = NULL;
    ev_errbuf err;
    assert_int_equal(ev_sink__open(&s, out, EV_FORMAT_ZIP, "out", &err), EV_OK);
    add_buf(s, "bagit.txt", BAGIT, true);
    assert_int_equal(ev_sink__add_dir(s, "data", &err), EV_OK);
    add_buf(s, "data/a.bin", "stored bytes", false);
    struct stat st;
    assert_int_not_equal(stat(out, &st), 0); /* nothing before commit */
    assert_int_equal(ev_sink__commit(s, &err), EV_OK);
    ev_sink__free(s);
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(count_dir(dir), 1); /* no temporary file left */
    /* read it back */
    ev_store *rs = NULL;
    ev_report *r = new_report();
    assert_int_equal(open_store(&rs, out, NULL, r, &err), EV_OK);
    assert_int_equal(r->nproblems, 0);
    assert_string_equal(ev_store__bag_name(rs), "out");
    long a = ev_store__find(rs, "data/a.bin");
    assert_true(a >= 0);
    assert_false(ev_store__entry(rs, (size_t)a)->deflated);
    assert_true(ev_store__entry(rs, (size_t)ev_store__find(rs, "bagit.txt"))->deflated);
    char *buf = NULL;
    size_t len;
    assert_int_equal(ev_store__read_all(&buf, &len, rs, (size_t)a, 100, &err), EV_OK);
    assert_string_equal(buf, "stored bytes");
    free(buf);
    ev_store__free(rs);
    ev_report_free(r);
    /* an existing output is refused */
    assert_int_equal(ev_sink__open(&s, out, EV_FORMAT_ZIP, "out", &err), EV_EEXISTS);
    assert_null(s);
    char *nodir = tu_join(dir, "missing/out.zip");
    assert_int_equal(ev_sink__open(&s, nodir, EV_FORMAT_ZIP, "out", &err), EV_EIO);
    free(nodir);
    free(out);
    free(dir);
}

/* More than 65,535 entries: the ZIP64 end records must carry the count, and
 * stored and deflated entries (the two write paths) must both read back. */
static void container_sink_zip64_entry_count(void **state)
{
    (void)state;
    enum { N = 70000 };
    char *dir = tu_join(g_dir, "sinkmany");
    mkdir(dir, 0755);
    char *out = tu_join(dir, "many.zip");
    ev_sink *s = NULL;
    ev_errbuf err;
    assert_int_equal(ev_sink__open(&s, out, EV_FORMAT_ZIP, "many", &err), EV_OK);
    for (int i = 0; i < N; i++) {
        char name[64], data[32];
        snprintf(name, sizeof(name), "data/d%02d/f%05d", i / 1000, i);
        snprintf(data, sizeof(data), "entry %d", i);
        add_buf(s, name, data, i % 2 == 1);
    }
    assert_int_equal(ev_sink__commit(s, &err), EV_OK);
    ev_sink__free(s);
    ev_store *rs = NULL;
    ev_report *r = new_report();
    ev_store_limits lim = LIM;
    lim.max_entries = 1000000;
    assert_int_equal(open_store(&rs, out, &lim, r, &err), EV_OK);
    assert_int_equal(r->nproblems, 0);
    assert_int_equal(ev_store__count(rs), N);
    const int probe[] = { 0, 1, 65534, 65535, 65536, N - 1 };
    for (size_t k = 0; k < sizeof(probe) / sizeof(probe[0]); k++) {
        char name[64], want[32];
        snprintf(name, sizeof(name), "data/d%02d/f%05d", probe[k] / 1000, probe[k]);
        snprintf(want, sizeof(want), "entry %d", probe[k]);
        long i = ev_store__find(rs, name);
        assert_true(i >= 0);
        assert_int_equal(ev_store__entry(rs, (size_t)i)->deflated, probe[k] % 2 == 1);
        char *buf = NULL;
        size_t len;
        assert_int_equal(ev_store__read_all(&buf, &len, rs, (size_t)i, 100, &err), EV_OK);
        assert_string_equal(buf, want);
        free(buf);
    }
    ev_store__free(rs);
    ev_report_free(r);
    unlink(out);
    free(out);
    free(dir);
}

static void container_sink_discard_leaves_nothing(void **state)
{
    (void)state;
    for (int fmt = 0; fmt < 2; fmt++) {
        char *dir = tu_join(g_dir, fmt ? "discard-dir" : "discard-zip");
        mkdir(dir, 0755);
        char *out = tu_join(dir, fmt ? "out" : "out.zip");
        ev_sink *s = NULL;
        ev_errbuf err;
        assert_int_equal(ev_sink__open(&s, out, fmt ? EV_FORMAT_DIR : EV_FORMAT_ZIP, "out", &err),
                         EV_OK);
        add_buf(s, "bagit.txt", BAGIT, true);
        add_buf(s, "data/x", "x", false);
        ev_sink__free(s);
        assert_int_equal(count_dir(dir), 0);
        free(out);
        free(dir);
    }
}

typedef struct fail_ctx {
    int calls;
} fail_ctx;

static int fail_open(void *ctx, uint64_t *size, ev_errbuf *err)
{
    (void)ctx;
    (void)err;
    *size = 100;
    return EV_OK;
}

static int64_t fail_read(void *ctx, void *buf, size_t len, ev_errbuf *err)
{
    fail_ctx *c = ctx;
    if (c->calls++ == 0) {
        memset(buf, 'x', len < 10 ? len : 10);
        return len < 10 ? (int64_t)len : 10;
    }
    return ev_err__set(err, EV_EIO, "simulated read error");
}

static int fail_close(void *ctx, bool ok, ev_errbuf *err)
{
    (void)ctx;
    (void)ok;
    (void)err;
    return EV_OK;
}

static void container_sink_producer_failure(void **state)
{
    (void)state;
    for (int fmt = 0; fmt < 2; fmt++) {
        char *dir = tu_join(g_dir, fmt ? "pfail-dir" : "pfail-zip");
        mkdir(dir, 0755);
        char *out = tu_join(dir, fmt ? "out" : "out.zip");
        ev_sink *s = NULL;
        ev_errbuf err;
        assert_int_equal(ev_sink__open(&s, out, fmt ? EV_FORMAT_DIR : EV_FORMAT_ZIP, "out", &err),
                         EV_OK);
        add_buf(s, "bagit.txt", BAGIT, true);
        fail_ctx fc = { 0 };
        /* size unknown (written after the fixed entries) or known (written
         * by the parallel workers): the read error wins either way */
        ev_producer p = { fail_open, fail_read, fail_close, &fc, UINT64_MAX };
        assert_int_equal(ev_sink__add(s, "data/bad", &p, false, 0, &err), EV_OK);
        fail_ctx fc2 = { 0 };
        ev_producer p2 = { fail_open, fail_read, fail_close, &fc2, 100 };
        assert_int_equal(ev_sink__add(s, "data/bad2", &p2, false, 0, &err), EV_OK);
        err.msg[0] = '\0';
        int rc = ev_sink__commit(s, &err);
        assert_int_equal(rc, EV_EIO);
        assert_non_null(strstr(err.msg, "simulated read error"));
        ev_sink__free(s);
        assert_int_equal(count_dir(dir), 0);
        free(out);
        free(dir);
    }
}

static void container_sink_folder(void **state)
{
    (void)state;
    char *out = tu_join(g_dir, "folder-out");
    ev_sink *s = NULL;
    ev_errbuf err;
    assert_int_equal(ev_sink__open(&s, out, EV_FORMAT_DIR, "folder-out", &err), EV_OK);
    add_buf(s, "bagit.txt", BAGIT, true);
    assert_int_equal(ev_sink__add_dir(s, "data", &err), EV_OK);
    add_buf(s, "data/deep/er/x.txt", "x", false);
    struct stat st;
    assert_int_not_equal(stat(out, &st), 0);
    assert_int_equal(ev_sink__commit(s, &err), EV_OK);
    ev_sink__free(s);
    char *x = tu_join(out, "data/deep/er/x.txt");
    assert_int_equal(stat(x, &st), 0);
    assert_int_equal(st.st_size, 1);
    assert_int_equal(st.st_mtime, 946684800);
    free(x);
    free(out);
}

/* ---- the file producer --------------------------------------------------------------------- */

static void read_producer(ev_producer *p, uint64_t *total, int *rc)
{
    ev_errbuf err;
    uint64_t size = UINT64_MAX;
    *total = 0;
    *rc = p->open(p->ctx, &size, &err);
    static char buf[300000];
    while (*rc == EV_OK) {
        int64_t n = p->read(p->ctx, buf, sizeof(buf), &err);
        if (n < 0) {
            *rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        *total += (uint64_t)n;
    }
    p->close(p->ctx, *rc == EV_OK, &err);
}

static void container_file_producer_hashes_once(void **state)
{
    (void)state;
    size_t sizes[] = { 0, 1, 4096, (1u << 20), (1u << 20) + 1, (3u << 20) + 17 };
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k];
        uint8_t *data = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            data[i] = (uint8_t)(i * 13 + k);
        char *path = tu_join(g_dir, "prod.bin");
        assert_int_equal(tu_write(path, data, n), 0);
        ev_filehash_result res;
        ev_producer p;
        assert_int_equal(ev_producer__file(&p, path, n, EV_ALG_SHA256 | EV_ALG_SHA512, &res, NULL),
                         EV_OK);
        uint64_t total;
        int rc;
        read_producer(&p, &total, &rc);
        assert_int_equal(rc, EV_OK);
        assert_int_equal(total, n);
        assert_true(res.done);
        char want[65];
        ev_hash__sha256_hex(want, data, n);
        assert_string_equal(res.digests.hex[EV_HASH_SHA256], want);
        assert_int_equal(strlen(res.digests.hex[EV_HASH_SHA512]), 128);
        assert_int_equal(res.bytes, n);
        /* a producer is freed by its sink; here, through a discarded sink */
        ev_sink *s = NULL;
        ev_errbuf err;
        char *out = tu_join(g_dir, "prod-sink.zip");
        assert_int_equal(ev_sink__open(&s, out, EV_FORMAT_ZIP, "x", &err), EV_OK);
        assert_int_equal(ev_sink__add(s, "data/x", &p, false, 0, &err), EV_OK);
        ev_sink__free(s);
        free(out);
        free(path);
        free(data);
    }
}

/* A small file is read whole at open (exactly its listed size, without a
 * read past the end); one that grows or changes after that is still
 * refused, by the check of its size and time when it has been read. An
 * empty file is read one byte further. */
static void discard_producer(ev_producer *p)
{
    /* a producer is freed by its sink; here, through a discarded sink */
    ev_sink *s = NULL;
    ev_errbuf err;
    char *out = tu_join(g_dir, "discard.zip");
    assert_int_equal(ev_sink__open(&s, out, EV_FORMAT_ZIP, "x", &err), EV_OK);
    assert_int_equal(ev_sink__add(s, "data/x", p, false, 0, &err), EV_OK);
    ev_sink__free(s);
    free(out);
}

static void container_file_producer_small_file_changes_after_open(void **state)
{
    (void)state;
    char *path = tu_join(g_dir, "small-grows.bin");
    const char data[100] = { 1, 2, 3 };
    for (int grow = 0; grow < 3; grow++) {
        assert_int_equal(tu_write(path, data, sizeof(data)), 0);
        ev_filehash_result res;
        ev_producer p;
        ev_errbuf err;
        uint64_t size = 0;
        assert_int_equal(ev_producer__file(&p, path, sizeof(data), EV_ALG_SHA256, &res, NULL),
                         EV_OK);
        assert_int_equal(p.open(p.ctx, &size, &err), EV_OK);
        assert_int_equal(size, sizeof(data));
        if (grow < 2) {
            /* appended to (grow 0) or rewritten with a new time (grow 1) */
            FILE *fp = fopen(path, grow == 0 ? "ab" : "r+b");
            assert_non_null(fp);
            fputc('x', fp);
            fclose(fp);
            if (grow == 1) {
                struct timespec ts[2] = { { 0, UTIME_OMIT }, { 946684800, 0 } };
                assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
            }
        }
        static char buf[256];
        int64_t n, total = 0;
        while ((n = p.read(p.ctx, buf, sizeof(buf), &err)) > 0)
            total += n;
        if (grow < 2) {
            assert_int_equal(n, EV_EFORMAT);
            assert_non_null(strstr(err.msg, "changed while it was being packed"));
        } else {
            assert_int_equal(n, 0);
            assert_int_equal(total, (int64_t)sizeof(data));
            assert_true(res.done);
        }
        p.close(p.ctx, n == 0, &err);
        discard_producer(&p);
    }
    /* an empty file listed as empty that holds bytes when read */
    assert_int_equal(tu_write(path, "abc", 3), 0);
    ev_filehash_result res;
    ev_producer p;
    uint64_t total;
    int rc;
    assert_int_equal(ev_producer__file(&p, path, 0, EV_ALG_SHA256, &res, NULL), EV_OK);
    read_producer(&p, &total, &rc);
    assert_int_equal(rc, EV_EFORMAT);
    discard_producer(&p);
    free(path);
}

static void container_file_producer_sees_changes(void **state)
{
    (void)state;
    char *path = tu_join(g_dir, "changing.bin");
    static char data[(2 << 20) + 5];
    assert_int_equal(tu_write(path, data, sizeof(data)), 0);
    ev_filehash_result res;
    ev_producer p;
    uint64_t total;
    int rc;
    ev_errbuf err;
    /* the size differs from what was listed: refused at open */
    size_t wrong[] = { sizeof(data) - 1, sizeof(data) + 1, 10 };
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(ev_producer__file(&p, path, wrong[k], EV_ALG_SHA256, &res, NULL), EV_OK);
        read_producer(&p, &total, &rc);
        assert_int_equal(rc, EV_EFORMAT);
        ev_sink *s = NULL;
        char *out = tu_join(g_dir, "chg.zip");
        assert_int_equal(ev_sink__open(&s, out, EV_FORMAT_ZIP, "x", &err), EV_OK);
        assert_int_equal(ev_sink__add(s, "data/x", &p, false, 0, &err), EV_OK);
        ev_sink__free(s);
        free(out);
    }
    /* a file that vanished */
    char *gone = tu_join(g_dir, "gone.bin");
    assert_int_equal(ev_producer__file(&p, gone, 5, EV_ALG_SHA256, &res, NULL), EV_OK);
    read_producer(&p, &total, &rc);
    assert_int_equal(rc, EV_ENOTFOUND);
    ev_sink *s = NULL;
    char *out = tu_join(g_dir, "gone.zip");
    assert_int_equal(ev_sink__open(&s, out, EV_FORMAT_ZIP, "x", &err), EV_OK);
    assert_int_equal(ev_sink__add(s, "data/x", &p, false, 0, &err), EV_OK);
    ev_sink__free(s);
    free(out);
    free(gone);
    free(path);
}

/* ---- progress ---------------------------------------------------------------------------------- */

static int calls;

static int stop_cb(const ev_progress *p, void *payload)
{
    (void)payload;
    assert_int_equal(p->version, EV_PROGRESS_VERSION);
    calls++;
    return 1;
}

static int count_cb(const ev_progress *p, void *payload)
{
    (void)p;
    (void)payload;
    calls++;
    return 0;
}

static void *add_from_thread(void *arg)
{
    for (int i = 0; i < 1000; i++)
        ev_progress__add(arg, 1, 1, NULL, true);
    return NULL;
}

static void container_progress_cancel_and_throttle(void **state)
{
    (void)state;
    ev_progress_state st;
    ev_progress__init(&st, stop_cb, NULL, "testing", 100, 2);
    calls = 0;
    assert_int_equal(ev_progress__add(&st, 10, 0, "x", true), EV_ECANCELED);
    assert_int_equal(calls, 1);
    /* a cancellation sticks, and the callback is not asked again */
    assert_int_equal(ev_progress__add(&st, 10, 1, "x", true), EV_ECANCELED);
    assert_int_equal(calls, 1);
    assert_int_equal(st.p.bytes_done, 20);
    assert_int_equal(st.p.files_done, 1);
    assert_int_equal(ev_progress__add(NULL, 1, 1, NULL, true), EV_OK);

    /* within 100 ms and not forced: the callback is not called */
    ev_progress__init(&st, count_cb, NULL, "testing", 100, 2);
    calls = 0;
    assert_int_equal(ev_progress__add(&st, 1, 0, "x", true), EV_OK);
    assert_int_equal(ev_progress__add(&st, 1, 0, "x", false), EV_OK);
    assert_int_equal(calls, 1);
    /* other threads only count: the callback runs on the owner's thread */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, add_from_thread, &st), 0);
    pthread_join(th, NULL);
    assert_int_equal(calls, 1);
    assert_int_equal(st.p.bytes_done, 2 + 1000);
    assert_int_equal(st.p.files_done, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(container_zip_strips_top_folder),
        cmocka_unit_test(container_zip_refuses_unsafe_names),
        cmocka_unit_test(container_zip_refuses_links_and_collisions),
        cmocka_unit_test(container_zip_collisions_ascii_and_not),
        cmocka_unit_test(container_zip_local_headers_many),
        cmocka_unit_test(container_zip_header_fields),
        cmocka_unit_test(container_zip_limits),
        cmocka_unit_test(container_zip_archive_ratio),
        cmocka_unit_test(container_stale_partials),
        cmocka_unit_test(container_open_errors),
        cmocka_unit_test(container_folder_store),
        cmocka_unit_test(container_sink_zip_is_atomic),
        cmocka_unit_test(container_sink_discard_leaves_nothing),
        cmocka_unit_test(container_sink_zip64_entry_count),
        cmocka_unit_test(container_sink_producer_failure),
        cmocka_unit_test(container_sink_folder),
        cmocka_unit_test(container_file_producer_hashes_once),
        cmocka_unit_test(container_file_producer_sees_changes),
        cmocka_unit_test(container_file_producer_small_file_changes_after_open),
        cmocka_unit_test(container_progress_cancel_and_throttle),
    };
    return cmocka_run_group_tests_name("container", tests, setup, teardown);
}
