/* Unit tests for src/base: publishing outputs (publish.c). */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/internal.h"
#include "base/publish.h"
#include "base/spill.h"

#include <jansson.h>
#include "evidence/bundle.h"
#include "evidence/common.h"
#include "testutil.h"

/* number of names in dir that start with prefix */
static int count_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static void publish_file_no_replace(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("base");
    char *out = tu_join(dir, "out.bin");
    ev_errbuf e;
    char *tmp = NULL;
    int fd = -1;
    assert_int_equal(ev__tmp_create(&tmp, &fd, out, false, &e), EV_OK);
    /* the one pattern: ".NAME.partial-XXXXXX" beside the target */
    char *want = tu_join(dir, ".out.bin.partial-");
    assert_memory_equal(tmp, want, strlen(want));
    assert_int_equal(write(fd, "new", 3), 3);
    assert_int_equal(ev__publish(tmp, out, 0, "file", &e), EV_OK);
    close(fd);
    size_t len = 0;
    uint8_t *got = tu_read(out, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(got, "new", 3);
    free(got);
    assert_int_equal(count_prefix(dir, ".out.bin.partial-"), 0);

    /* a second one does not replace the first: EV_EEXISTS, old bytes kept */
    free(tmp);
    assert_int_equal(ev__tmp_create(&tmp, &fd, out, false, &e), EV_OK);
    assert_int_equal(write(fd, "other", 5), 5);
    assert_int_equal(ev__publish(tmp, out, 0, "file", &e), EV_EEXISTS);
    assert_non_null(strstr(e.msg, out));
    got = tu_read(out, &len);
    assert_int_equal(len, 3);
    free(got);
    /* with EV_PUBLISH_REPLACE it does */
    assert_int_equal(ev__publish(tmp, out, EV_PUBLISH_REPLACE | EV_PUBLISH_NOSYNC, "file", &e),
                     EV_OK);
    close(fd);
    got = tu_read(out, &len);
    assert_int_equal(len, 5);
    free(got);
    free(tmp);
    free(want);
    free(out);
    tu_rmrf(dir);
    free(dir);
}

static void publish_folder_replace(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("base");
    char *out = tu_join(dir, "bag");
    ev_errbuf e;
    char *old = tu_join(out, "old.txt");
    assert_int_equal(tu_write(old, "old", 3), 0);
    char *tmp = NULL;
    int fd = -1;
    assert_int_equal(ev__tmp_create(&tmp, &fd, out, true, &e), EV_OK);
    char *f = tu_join(tmp, "sub/new.txt");
    assert_int_equal(tu_write(f, "new", 3), 0);
    /* without replace the existing folder stays */
    assert_int_equal(ev__publish(tmp, out, 0, "bag", &e), EV_EEXISTS);
    assert_int_equal(access(old, F_OK), 0);
    assert_int_equal(ev__publish(tmp, out, EV_PUBLISH_REPLACE, "bag", &e), EV_OK);
    close(fd);
    char *nf = tu_join(out, "sub/new.txt");
    assert_int_equal(access(nf, F_OK), 0);
    assert_int_not_equal(access(old, F_OK), 0);
    /* the old folder is gone, not left under a temporary name */
    assert_int_equal(count_prefix(dir, ".bag."), 0);
    free(nf);
    free(f);
    free(tmp);
    free(old);
    free(out);
    tu_rmrf(dir);
    free(dir);
}

static void stale_partials_removed_live_kept(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("base");
    char *out = tu_join(dir, "t.zip");
    /* a killed writer's leftover: nobody holds its lock */
    char *stale = tu_join(dir, ".t.zip.partial-AAAAAA");
    assert_int_equal(tu_write(stale, "x", 1), 0);
    /* a live writer's: locked */
    char *live = tu_join(dir, ".t.zip.partial-BBBBBB");
    assert_int_equal(tu_write(live, "y", 1), 0);
    int lfd = open(live, O_RDONLY);
    assert_true(lfd >= 0);
    assert_int_equal(flock(lfd, LOCK_EX), 0);
    /* another target's leftover is not ours to remove */
    char *other = tu_join(dir, ".t.zip2.partial-CCCCCC");
    assert_int_equal(tu_write(other, "z", 1), 0);
    ev__tmp_clean_stale(out);
    assert_int_not_equal(access(stale, F_OK), 0);
    assert_int_equal(access(live, F_OK), 0);
    assert_int_equal(access(other, F_OK), 0);
    close(lfd);
    free(other);
    free(live);
    free(stale);
    free(out);
    tu_rmrf(dir);
    free(dir);
}

static void write_file_atomic_api(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("base");
    char *out = tu_join(dir, "sig.p7s");
    char *msg = (char *)"unset";
    assert_int_equal(ev_write_file_atomic(out, "abc", 3, 0, &msg), EV_OK);
    assert_null(msg);
    assert_int_equal(ev_write_file_atomic(out, "abcd", 4, 0, &msg), EV_EEXISTS);
    assert_non_null(msg);
    ev_free(msg);
    assert_int_equal(ev_write_file_atomic(out, "abcd", 4, 1, NULL), EV_OK);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_size, 4);
    assert_int_equal(st.st_mode & 0777, 0644);
    /* a folder that does not exist: an error with a message, nothing written */
    char *bad = tu_join(dir, "no/such/x");
    assert_int_not_equal(ev_write_file_atomic(bad, "a", 1, 0, &msg), EV_OK);
    assert_non_null(msg);
    ev_free(msg);
    assert_int_equal(ev_write_file_atomic(NULL, "a", 1, 0, NULL), EV_EINVAL);
    assert_int_equal(count_prefix(dir, ".sig.p7s.partial-"), 0);
    free(bad);
    free(out);
    tu_rmrf(dir);
    free(dir);
}

/* The hex encoder, and the UUID text form (RFC 9562 8-4-4-4-12). */
static void hex_and_uuid(void **state)
{
    (void)state;
    const unsigned char raw[16] = { 0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x10, 0xab,
                                    0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc };
    char hex[33];
    ev__hex_encode(hex, raw, 16);
    assert_string_equal(hex, "00017f80feff10abcdef123456789abc");
    ev__hex_encode(hex, raw, 0);
    assert_string_equal(hex, "");
    char u[37];
    ev__uuid_format(u, raw);
    assert_string_equal(u, "00017f80-feff-10ab-cdef-123456789abc");
    unsigned char back[16];
    char urn[46];
    snprintf(urn, sizeof(urn), "urn:uuid:%s", u);
    assert_true(ev__uuid_parse(back, urn));
    assert_memory_equal(back, raw, 16);
}

/* One UTF-8 character's length, by libunistring's rules. */
static void utf8_char_len(void **state)
{
    (void)state;
    assert_int_equal(ev__utf8_char_len("a", 1), 1);
    assert_int_equal(ev__utf8_char_len("\xc3\xa9x", 3), 2);        /* e acute */
    assert_int_equal(ev__utf8_char_len("\xe2\x82\xac", 3), 3);     /* euro sign */
    assert_int_equal(ev__utf8_char_len("\xf0\x9f\x93\xb7", 4), 4); /* camera */
    assert_int_equal(ev__utf8_char_len("\xe2\x82\xac", 2), 0);     /* cut short */
    assert_int_equal(ev__utf8_char_len("\xc0\xaf", 2), 0);         /* overlong '/' */
    assert_int_equal(ev__utf8_char_len("\xed\xa0\x80", 3), 0);     /* surrogate */
    assert_int_equal(ev__utf8_char_len("\xff", 1), 0);
    assert_int_equal(ev__utf8_char_len("\x80", 1), 0);
    assert_int_equal(ev__utf8_char_len("", 1), 1);
    assert_int_equal(ev__utf8_char_len("a", 0), 0);
}

/* ev__json_write must write exactly what json_dumps writes, for the flags
 * the record and the views use: strings with every control byte, quotes,
 * backslashes, slashes, UTF-8 of 2 to 4 bytes and U+007F; integers at
 * their limits; reals jansson writes with an exponent, ".0" or rounding;
 * empty and nested containers, in several depths. */
static json_t *json_zoo(unsigned seed)
{
    json_t *o = json_object();
    char ctl[40];
    for (int i = 0; i < 32; i++)
        ctl[i] = (char)(i + 1 == 32 ? 0x7f : i + 1);
    ctl[32] = '\0';
    json_object_set_new(o, "controls", json_stringn(ctl, 32));
    json_object_set_new(o, "quote\"back\\slash/", json_string("a\"b\\c/d</script>"));
    json_object_set_new(o, "utf8", json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb7 \xef\xbf\xbf"));
    json_object_set_new(o, "nul", json_stringn("a\0b", 3));
    json_object_set_new(o, "", json_string(""));
    json_object_set_new(o, "big", json_integer(INT64_MAX));
    json_object_set_new(o, "small", json_integer(INT64_MIN));
    static const double reals[] = { 0.0, -0.0, 1.0, 0.1, 1e21, 1e-7, 123456789012345678.0,
                                    1.5e300, -2.5e-300, 51.50735, -0.12776, 1e15, 1e16,
                                    3.0000000000000004, 1.0 / 3.0, 4.9e-324 };
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
        json_array_append_new(a, json_real(reals[i] * (seed % 3 ? 1 : -1)));
    json_object_set_new(o, "reals", a);
    json_object_set_new(o, "empty_array", json_array());
    json_object_set_new(o, "empty_object", json_object());
    json_object_set_new(o, "flags", json_pack("[b,b,n]", 1, 0));
    json_t *deep = json_pack("{s:[{s:[[],{}]},[1,[2,[3]]]]}", "x", "y");
    json_object_set_new(o, "deep", deep);
    /* pseudo-random printable and control bytes */
    char rnd[64];
    unsigned x = seed * 2654435761u + 1;
    for (size_t i = 0; i < sizeof(rnd) - 1; i++) {
        x = x * 1103515245u + 12345u;
        rnd[i] = (char)(1 + (x >> 16) % 127);
    }
    rnd[sizeof(rnd) - 1] = '\0';
    json_object_set_new(o, rnd, json_string(rnd));
    return o;
}

static void json_write_as_jansson(void **state)
{
    (void)state;
    static const size_t flags[] = {
        JSON_COMPACT, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15),
        JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15), JSON_INDENT(4), 0,
        JSON_REAL_PRECISION(3), JSON_INDENT(31) | JSON_COMPACT,
    };
    for (unsigned seed = 0; seed < 20; seed++) {
        json_t *o = json_zoo(seed);
        for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
            char *want = json_dumps(o, flags[f]);
            ev_buf b = { 0 };
            assert_int_equal(ev__json_write(&b, o, flags[f]), EV_OK);
            assert_non_null(want);
            assert_string_equal(b.data, want);
            free(want);
            ev_buf__free(&b);
        }
        /* a value nested two deep, as the record's items are */
        json_t *outer = json_pack("{s:[O]}", "items", o);
        char *whole = json_dumps(outer, JSON_INDENT(2));
        ev_buf b = { 0 };
        assert_int_equal(ev_buf__puts(&b, "{\n  \"items\": [\n    "), EV_OK);
        assert_int_equal(ev__json_write_at(&b, o, JSON_INDENT(2), 2), EV_OK);
        assert_int_equal(ev_buf__puts(&b, "\n  ]\n}"), EV_OK);
        assert_string_equal(b.data, whole);
        free(whole);
        ev_buf__free(&b);
        json_decref(outer);
        json_decref(o);
    }
    /* a bare value only when asked; flags it does not do are refused */
    json_t *s = json_string("x");
    ev_buf b = { 0 };
    assert_int_equal(ev__json_write(&b, s, JSON_COMPACT), EV_EINVAL);
    assert_int_equal(ev__json_write(&b, s, JSON_ENCODE_ANY), EV_OK);
    assert_string_equal(b.data, "\"x\"");
    assert_int_equal(ev__json_write(&b, s, JSON_ENCODE_ANY | JSON_SORT_KEYS), EV_EINVAL);
    ev_buf__free(&b);
    json_decref(s);
}

/* An ev_buf with flush hands over everything in order, never holding
 * more than EV_BUF_FLUSH_AT plus one append; a spill keeps short text in
 * memory and long text in an unnamed file, with the digests of every byte. */
static int collect(void *ctx, const char *d, size_t n)
{
    return ev_buf__append(ctx, d, n);
}

static void buf_flush_and_spill(void **state)
{
    (void)state;
    ev_buf all = { 0 }, st = { 0 };
    st.flush = collect;
    st.flush_ctx = &all;
    char piece[1000];
    for (size_t k = 0; k < 2000; k++) {
        snprintf(piece, sizeof(piece), "%zu:", k);
        assert_int_equal(ev_buf__puts(&st, piece), EV_OK);
        assert_true(st.len <= EV_BUF_FLUSH_AT + sizeof(piece));
    }
    memset(piece, 'x', sizeof(piece));
    for (size_t k = 0; k < 600; k++)
        assert_int_equal(ev_buf__append(&st, piece, sizeof(piece)), EV_OK);
    assert_true(all.len > 0);
    assert_int_equal(ev_buf__flush(&st), EV_OK);
    assert_int_equal(st.len, 0);
    size_t digits = 0;
    for (size_t k = 0; k < 2000; k++) {
        snprintf(piece, sizeof(piece), "%zu:", k);
        digits += strlen(piece);
    }
    assert_int_equal(all.len, digits + 600 * 1000);
    assert_memory_equal(all.data, "0:1:2:3:", 8);
    st.flush = NULL;
    ev_buf__free(&st);

    char dir[] = "/tmp/evspill-XXXXXX";
    assert_non_null(mkdtemp(dir));
    for (int big = 0; big < 2; big++) {
        ev_spill sp;
        assert_int_equal(ev_spill__init(&sp, dir, EV_ALG_SHA256), EV_OK);
        size_t n = big ? all.len : 1000;
        for (size_t off = 0; off < n; off += 777)
            assert_int_equal(ev_buf__append(&sp.b, all.data + off, n - off < 777 ? n - off : 777),
                             EV_OK);
        ev_digests d;
        ev_errbuf e;
        assert_int_equal(ev_spill__end(&sp, &d, &e), EV_OK);
        assert_int_equal(sp.len, n);
        assert_true(big ? ev_spill__memory(&sp) == NULL : ev_spill__memory(&sp) != NULL);
        char want[65];
        ev_hash__sha256_hex(want, all.data, n);
        assert_string_equal(d.hex[EV_HASH_SHA256], want);
        char *back = malloc(n);
        assert_int_equal(ev_spill__pread(&sp, back, n, 0), (int64_t)n);
        assert_memory_equal(back, all.data, n);
        assert_int_equal(ev_spill__pread(&sp, back, 10, n - 3), 3);
        free(back);
        ev_spill__free(&sp);
    }
    /* nothing was left in the folder */
    DIR *dd = opendir(dir);
    struct dirent *de;
    int entries = 0;
    while ((de = readdir(dd)) != NULL)
        entries += de->d_name[0] != '.';
    closedir(dd);
    assert_int_equal(entries, 0);
    rmdir(dir);
    ev_buf__free(&all);
}

/* The string pool: copies (also of n bytes of a longer text, NUL added),
 * long strings alone, all valid until freed; a set keeps its keys in one. */
static void strpool_and_strset(void **state)
{
    (void)state;
    ev_strpool p = { 0 };
    const char *a = ev_strpool__keep(&p, "alpha");
    const char *b = ev_strpool__keepn(&p, "betamax", 4);
    char big[70000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    const char *c = ev_strpool__keep(&p, big);
    const char *d = ev_strpool__keepn(&p, "delta", 5);
    assert_non_null(a);
    assert_string_equal(a, "alpha");
    assert_string_equal(b, "beta");
    assert_int_equal(strlen(c), sizeof(big) - 1);
    assert_string_equal(d, "delta");
    assert_string_equal(a, "alpha"); /* unchanged by what came after */
    assert_null(ev_strpool__keep(&p, NULL));
    ev_strpool__free(&p);

    ev_strset set = { 0 };
    char key[32];
    bool had = true;
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(ev_strset__add(&set, key, &had), EV_OK);
        assert_false(had);
    }
    assert_int_equal(ev_strset__add(&set, "key-4999", &had), EV_OK);
    assert_true(had);
    assert_true(ev_strset__has(&set, "key-0"));
    assert_false(ev_strset__has(&set, "key-5000"));
    assert_int_equal(set.n, 5000);
    ev_strset__free(&set);
    assert_false(ev_strset__has(&set, "key-0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(publish_file_no_replace),
        cmocka_unit_test(publish_folder_replace),
        cmocka_unit_test(stale_partials_removed_live_kept),
        cmocka_unit_test(write_file_atomic_api),
        cmocka_unit_test(hex_and_uuid),
        cmocka_unit_test(utf8_char_len),
        cmocka_unit_test(json_write_as_jansson),
        cmocka_unit_test(buf_flush_and_spill),
        cmocka_unit_test(strpool_and_strset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
