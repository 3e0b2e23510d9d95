/* Unit tests for src/hash.c */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/hash.h"
#include "testutil.h"

static void hash_known_vectors(void **state)
{
    (void)state;
    ev_hasher *h = NULL;
    ev_digests d;
    assert_int_equal(ev_hash__new(&h, EV_ALG_SHA256 | EV_ALG_SHA512 | EV_ALG_SHA1 | EV_ALG_MD5), EV_OK);
    assert_int_equal(ev_hash__update(h, "abc", 3), EV_OK);
    assert_int_equal(ev_hash__final(h, &d), EV_OK);
    assert_string_equal(d.hex[EV_HASH_SHA256],
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_string_equal(d.hex[EV_HASH_SHA1], "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_string_equal(d.hex[EV_HASH_MD5], "900150983cd24fb0d6963f7d28e17f72");
    assert_int_equal(strlen(d.hex[EV_HASH_SHA512]), 128);
    assert_memory_equal(d.hex[EV_HASH_SHA512], "ddaf35a193617aba", 16);
    /* final resets: the empty string next */
    assert_int_equal(ev_hash__final(h, &d), EV_OK);
    assert_string_equal(d.hex[EV_HASH_SHA256],
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ev_hash__free(h);
}

static void hash_streaming_equals_oneshot(void **state)
{
    (void)state;
    static uint8_t buf[100000];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 31 + 7);
    ev_hasher *h = NULL;
    ev_digests d;
    char one[65];
    assert_int_equal(ev_hash__new(&h, EV_ALG_SHA256), EV_OK);
    for (size_t off = 0; off < sizeof(buf); off += 777)
        ev_hash__update(h, buf + off, off + 777 > sizeof(buf) ? sizeof(buf) - off : 777);
    ev_hash__final(h, &d);
    ev_hash__sha256_hex(one, buf, sizeof(buf));
    assert_string_equal(d.hex[EV_HASH_SHA256], one);
    ev_hash__free(h);
}

static void hash_hex_equal_is_case_insensitive(void **state)
{
    (void)state;
    assert_true(ev_hash__hex_equal("abcdef01", "ABCDEF01"));
    assert_false(ev_hash__hex_equal("abcdef01", "abcdef02"));
    assert_false(ev_hash__hex_equal("abcdef0", "abcdef01"));
    assert_false(ev_hash__hex_equal("ab", "a@"));
}

static void hash_names(void **state)
{
    (void)state;
    assert_int_equal(ev_hash__slot_from_name("sha512"), EV_HASH_SHA512);
    assert_int_equal(ev_hash__slot_from_name("sha3"), -1);
    assert_int_equal(ev_hash__hex_len(EV_HASH_MD5), 32);
    ev_hasher *h = (ev_hasher *)1;
    assert_int_equal(ev_hash__new(&h, 0), EV_EINVAL);
    assert_null(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_known_vectors),
        cmocka_unit_test(hash_streaming_equals_oneshot),
        cmocka_unit_test(hash_hex_equal_is_case_insensitive),
        cmocka_unit_test(hash_names),
    };
    return cmocka_run_group_tests_name("hash", tests, NULL, NULL);
}
