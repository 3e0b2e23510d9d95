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

/* The one hex encoder, and the UUID text form built on it (RFC 9562 8-4-4-4-12). */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(publish_file_no_replace),
        cmocka_unit_test(publish_folder_replace),
        cmocka_unit_test(stale_partials_removed_live_kept),
        cmocka_unit_test(write_file_atomic_api),
        cmocka_unit_test(hex_and_uuid),
        cmocka_unit_test(utf8_char_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
