/* Unit tests for the disclosure tree (src/record/record_disclose.c) and its
 * commitment (src/sign/sign_disclose.c): RFC 8785 canonical JSON, salted
 * leaves, RFC 9162 trees and inclusion proofs, and the proof parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "record/record_disclose.h"
#include "sign/sign.h"
#include "testutil.h"

static char *jcs_of(const char *json)
{
    json_error_t je;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &je);
    assert_non_null(v);
    ev_buf b = { 0 };
    assert_int_equal(ev_record__jcs(&b, v), EV_OK);
    json_decref(v);
    ev_buf__append(&b, "", 1);
    return b.data;
}

static void expect_jcs(const char *in, const char *want)
{
    char *got = jcs_of(in);
    assert_string_equal(got, want);
    free(got);
}

/* RFC 8785 3.2.2.3 and appendix B: numbers as ECMAScript prints them. */
static void jcs_numbers(void **state)
{
    (void)state;
    expect_jcs("[1e30, 4.50, 2e-3, 0.000001, 1e-7, -0.0, 333333333.33333329, 1E21, 1e20]",
               "[1e+30,4.5,0.002,0.000001,1e-7,0,333333333.3333333,1e+21,100000000000000000000]");
    expect_jcs("[0.1, -1.5, 25.0, 123456789012, 5e-324, 1.7976931348623157e308]",
               "[0.1,-1.5,25,123456789012,5e-324,1.7976931348623157e+308]");
}

/* RFC 8785 3.2.2.2: minimal escapes, UTF-8 kept; 3.2.3: keys sorted by
 * UTF-16 code units (so U+1F600 sorts before U+FB33). */
static void jcs_strings_and_keys(void **state)
{
    (void)state;
    expect_jcs("\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"/\"",
               "\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"");
    expect_jcs("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew\","
               "\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji\",\"\\u0080\":\"Control\","
               "\"\\u00f6\":\"Latin\"}",
               "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
               "\"\xc3\xb6\":\"Latin\",\"\xe2\x82\xac\":\"Euro Sign\","
               "\"\xf0\x9f\x98\x80\":\"Emoji\",\"\xef\xac\xb3\":\"Hebrew\"}");
    expect_jcs("{\"b\":[true,false,null,{}],\"a\":\"\"}", "{\"a\":\"\",\"b\":[true,false,null,{}]}");
}

static void leaf_of(uint8_t out[32], const char *item_json, uint8_t salt_byte, uint8_t pay_byte,
                    size_t nmeta)
{
    json_t *it = json_loads(item_json, 0, NULL);
    assert_non_null(it);
    uint8_t salt[EV_DISCLOSE_SALT_LEN], pay[32], meta[2][32];
    memset(salt, salt_byte, sizeof(salt));
    memset(pay, pay_byte, sizeof(pay));
    memset(meta, 7, sizeof(meta));
    assert_int_equal(ev_record__leaf(out, it, salt, pay, (const uint8_t (*)[32])meta, nmeta),
                     EV_OK);
    json_decref(it);
}

/* The leaf: 0x00 || salt || BE64(len) || JCS(entry without salt) ||
 * payload || meta..., checked against a computation by hand. */
static void leaf_layout(void **state)
{
    (void)state;
    uint8_t a[32], b[32], want[32];
    leaf_of(a, "{\"id\":\"item-0001\",\"size\":3,\"salt\":\"ignored\"}", 1, 2, 1);
    uint8_t buf[1 + 32 + 8 + 64 + 64];
    const char *ent = "{\"id\":\"item-0001\",\"size\":3}";
    size_t el = strlen(ent), n = 0;
    buf[n++] = 0x00;
    memset(buf + n, 1, 32);
    n += 32;
    for (int i = 0; i < 8; i++)
        buf[n++] = (uint8_t)((uint64_t)el >> (56 - 8 * i));
    memcpy(buf + n, ent, el);
    n += el;
    memset(buf + n, 2, 32);
    n += 32;
    memset(buf + n, 7, 32);
    n += 32;
    unsigned int ol = 0;
    EVP_Digest(buf, n, want, &ol, EVP_sha256(), NULL);
    assert_memory_equal(a, want, 32);
    /* the order of keys does not matter, the salt member is not hashed */
    leaf_of(b, "{\"size\":3,\"id\":\"item-0001\"}", 1, 2, 1);
    assert_memory_equal(a, b, 32);
    /* every input counts: salt, entry, payload, meta */
    leaf_of(b, "{\"id\":\"item-0001\",\"size\":3}", 9, 2, 1);
    assert_memory_not_equal(a, b, 32);
    leaf_of(b, "{\"id\":\"item-0001\",\"size\":4}", 1, 2, 1);
    assert_memory_not_equal(a, b, 32);
    leaf_of(b, "{\"id\":\"item-0001\",\"size\":3}", 1, 3, 1);
    assert_memory_not_equal(a, b, 32);
    leaf_of(b, "{\"id\":\"item-0001\",\"size\":3}", 1, 2, 0);
    assert_memory_not_equal(a, b, 32);
}

/* Objects of many members, names that share a prefix before they differ
 * in or past ASCII, integers of both signs, and a "salt" member below the
 * top of an item (only the item's own salt is left out of its leaf). */
static void jcs_members_and_integers(void **state)
{
    (void)state;
    char in[1024], want[1024];
    size_t a = 0, b = 0;
    a += (size_t)snprintf(in + a, sizeof(in) - a, "{");
    b += (size_t)snprintf(want + b, sizeof(want) - b, "{");
    for (int i = 29; i >= 0; i--)
        a += (size_t)snprintf(in + a, sizeof(in) - a, "%s\"k%02d\":%d", i == 29 ? "" : ",", i,
                              i - 15);
    for (int i = 0; i < 30; i++)
        b += (size_t)snprintf(want + b, sizeof(want) - b, "%s\"k%02d\":%d", i ? "," : "", i,
                              i - 15);
    snprintf(in + a, sizeof(in) - a, "}");
    snprintf(want + b, sizeof(want) - b, "}");
    expect_jcs(in, want);
    /* after "a": U+FB33 (UTF-16 FB33) sorts after U+1F600 (UTF-16 D83D
     * DE00), though its UTF-8 bytes come first; "a" alone and "a~" before
     * both, "ab" before them too */
    expect_jcs("{\"a\xef\xac\xb3\":1,\"a\xf0\x9f\x98\x80\":2,\"a~\":3,\"a\":4,\"ab\":5,"
               "\"a\xc2\x80\":6}",
               "{\"a\":4,\"ab\":5,\"a~\":3,\"a\xc2\x80\":6,\"a\xf0\x9f\x98\x80\":2,"
               "\"a\xef\xac\xb3\":1}");
    expect_jcs("[0,-1,7,-9007199254740992,9007199254740992,-120,1000000]",
               "[0,-1,7,-9007199254740992,9007199254740992,-120,1000000]");
    uint8_t x[32], y[32];
    leaf_of(x, "{\"id\":\"item-0001\",\"m\":{\"salt\":2},\"salt\":\"s\"}", 1, 2, 0);
    leaf_of(y, "{\"m\":{\"salt\":2},\"id\":\"item-0001\"}", 1, 2, 0);
    assert_memory_equal(x, y, 32);
    leaf_of(y, "{\"m\":{},\"id\":\"item-0001\"}", 1, 2, 0);
    assert_memory_not_equal(x, y, 32);
}

static void mk_leaves(uint8_t (*l)[32], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t d[9] = { 0x00 };
        memcpy(d + 1, &i, sizeof(i) < 8 ? sizeof(i) : 8);
        unsigned int ol = 0;
        EVP_Digest(d, sizeof(d), l[i], &ol, EVP_sha256(), NULL);
    }
}

/* RFC 9162: MTH of 1, 2, 3 leaves by hand; every proof of every leaf of
 * trees of 1..33 leaves verifies, and fails at any other index. */
static void tree_and_proofs(void **state)
{
    (void)state;
    uint8_t l[40][32], r[32], w[32], x[32];
    mk_leaves(l, 40);
    ev_record__tree_root(r, (const uint8_t (*)[32])l, 1);
    assert_memory_equal(r, l[0], 32);
    ev_record__tree_root(r, (const uint8_t (*)[32])l, 3);
    ev_record__node(w, l[0], l[1]);
    ev_record__node(x, w, l[2]);
    assert_memory_equal(r, x, 32);
    for (size_t n = 1; n <= 33; n++) {
        uint8_t root[32];
        ev_record__tree_root(root, (const uint8_t (*)[32])l, n);
        for (size_t m = 0; m < n; m++) {
            uint8_t path[EV_DISCLOSE_MAX_PATH][32];
            size_t len = 0;
            ev_record__tree_path(path, &len, (const uint8_t (*)[32])l, n, m);
            const uint8_t (*p)[32] = (const uint8_t (*)[32])path;
            assert_true(ev_record__proof_ok(l[m], m, n, p, len, root));
            /* another position, another leaf, a shorter path. (Another
             * size can have the same shape of path, e.g. index 0 of 5 and
             * of 6 leaves: the size is bound by the signed commitment, and
             * the tree of n + 1 leaves has another root.) */
            if (n > 1)
                assert_false(ev_record__proof_ok(l[m], (m + 1) % n, n, p, len, root));
            uint8_t root1[32];
            ev_record__tree_root(root1, (const uint8_t (*)[32])l, n + 1);
            assert_memory_not_equal(root, root1, 32);
            assert_false(ev_record__proof_ok(l[(m + 1) % 40], m, n, p, len, root));
            if (len)
                assert_false(ev_record__proof_ok(l[m], m, n, p, len - 1, root));
            assert_false(ev_record__proof_ok(l[m], m, n, p, len, l[0]) &&
                         memcmp(root, l[0], 32) != 0);
        }
        assert_false(ev_record__proof_ok(l[0], n, n, NULL, 0, root));
        /* the bottom-up builder gives the same root and paths */
        size_t idx[40], lens[40];
        uint8_t (*paths)[EV_DISCLOSE_MAX_PATH][32] = calloc(n, sizeof(*paths));
        uint8_t root2[32];
        for (size_t m = 0; m < n; m++)
            idx[m] = m;
        assert_int_equal(ev_record__tree_paths(root2, paths, lens, (const uint8_t (*)[32])l, n,
                                               idx, n), EV_OK);
        assert_memory_equal(root, root2, 32);
        for (size_t m = 0; m < n; m++) {
            uint8_t path[EV_DISCLOSE_MAX_PATH][32];
            size_t len = 0;
            ev_record__tree_path(path, &len, (const uint8_t (*)[32])l, n, m);
            assert_int_equal(len, lens[m]);
            assert_memory_equal(path, paths[m], len * 32);
        }
        free(paths);
    }
}

/* A node presented as a leaf: the node over leaves 0 and 1, at index 0 of
 * the tree of 4, with the rest of leaf 0's path, reaches the root; only
 * the path length, which the position and the size fix, rejects it. */
static void node_as_leaf(void **state)
{
    (void)state;
    uint8_t l[4][32], n01[32], n23[32], root[32];
    mk_leaves(l, 4);
    ev_record__node(n01, l[0], l[1]);
    ev_record__node(n23, l[2], l[3]);
    ev_record__tree_root(root, (const uint8_t (*)[32])l, 4);
    const uint8_t path[1][32] = { { 0 } };
    memcpy((void *)path[0], n23, 32);
    assert_false(ev_record__proof_ok(n01, 0, 4, path, 1, root));
    /* and no leaf equals a node: leaves and nodes hash different prefixes */
    uint8_t d[65], h[32];
    d[0] = 0x00;
    memcpy(d + 1, l[0], 32);
    memcpy(d + 33, l[1], 32);
    unsigned int ol = 0;
    EVP_Digest(d, sizeof(d), h, &ol, EVP_sha256(), NULL);
    assert_memory_not_equal(h, n01, 32);
}

static int parse(const char *json, ev_disclose_from *d)
{
    json_t *o = json_loads(json, 0, NULL);
    ev_errbuf e;
    int rc = ev_record__disclosed_from_parse(d, o, &e);
    json_decref(o);
    return rc;
}

#define ROOT "\"root\":\"" \
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\""
#define H64 "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""
#define HEAD "\"bundle_id\":\"urn:uuid:x\",\"created\":\"2024-01-01T00:00:00Z\",\"hash\":\"sha256\","

static void proof_parser(void **state)
{
    (void)state;
    ev_disclose_from d;
    assert_int_equal(parse("{" HEAD "\"items\":4," ROOT ",\"proofs\":[{\"item\":\"item-0002\","
                           "\"index\":1,\"path\":[" H64 "," H64 "]}],\"signatures\":[{"
                           "\"signature\":\"disclosure/0001-jane.p7s\",\"token\":"
                           "\"disclosure/0001-jane.tsr\"}]}", &d),
                     EV_OK);
    assert_int_equal(d.items, 4);
    assert_int_equal(d.nproofs, 1);
    assert_int_equal(d.proofs[0].index, 1);
    assert_int_equal(d.proofs[0].len, 2);
    assert_int_equal(d.nsigs, 1);
    assert_string_equal(d.sigs[0].token, "disclosure/0001-jane.tsr");
    ev_record__disclosed_from_clear(&d);
    static const char *const bad[] = {
        "[]",
        "{" HEAD "\"items\":0," ROOT ",\"proofs\":[{\"item\":\"a\",\"index\":0,\"path\":[]}]}",
        "{" HEAD "\"items\":4," ROOT ",\"proofs\":[]}",
        "{" HEAD "\"items\":4," ROOT ",\"proofs\":[{\"item\":\"a\",\"index\":4,\"path\":[]}]}",
        "{" HEAD "\"items\":4," ROOT ",\"proofs\":[{\"item\":\"a\",\"index\":-1,\"path\":[]}]}",
        "{" HEAD "\"items\":4," ROOT ",\"proofs\":[{\"item\":\"a\",\"index\":0,\"path\":[\"A\"]}]}",
        "{" HEAD "\"items\":1," ROOT ",\"proofs\":[{\"item\":\"a\",\"index\":0,\"path\":[]},"
        "{\"item\":\"b\",\"index\":0,\"path\":[]}]}",
        "{" HEAD "\"items\":4," ROOT ",\"proofs\":[{\"item\":\"a\",\"index\":0,\"path\":[]},"
        "{\"item\":\"a\",\"index\":1,\"path\":[]}]}",
        "{" HEAD "\"items\":4," ROOT ",\"proofs\":[{\"item\":\"a\",\"index\":0,\"path\":[]}],"
        "\"signatures\":[{\"signature\":\"signatures/0001-x.p7s\"}]}",
        "{" HEAD "\"items\":4," ROOT ",\"proofs\":[{\"item\":\"a\",\"index\":0,\"path\":[]}],"
        "\"signatures\":[{\"signature\":\"disclosure/../x.p7s\"}]}",
        "{\"bundle_id\":\"urn:uuid:x\",\"created\":\"t\",\"hash\":\"md5\",\"items\":4," ROOT
        ",\"proofs\":[{\"item\":\"a\",\"index\":0,\"path\":[]}]}",
        "{" HEAD "\"items\":4,\"root\":\"00\",\"proofs\":[{\"item\":\"a\",\"index\":0,\"path\":[]}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(bad[i], &d), EV_EFORMAT);
        assert_null(d.proofs);
    }
}

/* The commitment's exact bytes (docs/disclosure.md). */
static void commitment_bytes(void **state)
{
    (void)state;
    char *c = ev_sign__commitment("urn:uuid:1", "2024-05-01T10:20:30Z", 400,
                                  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    assert_non_null(c);
    assert_string_equal(c, "{\"bundle_id\":\"urn:uuid:1\",\"created\":\"2024-05-01T10:20:30Z\","
                           "\"format\":\"evidence-disclosure-commitment\",\"format_version\":1,"
                           "\"hash\":\"sha256\",\"items\":400,\"root\":"
                           "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}");
    free(c);
    assert_null(ev_sign__commitment("urn:\"x", "t", 1, "00"));
    assert_null(ev_sign__commitment("u", "t", 1, "00112233445566778899aabbccddeeff0011223344556677"
                                                 "8899aabbccddeeFF"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jcs_numbers),      cmocka_unit_test(jcs_strings_and_keys),
        cmocka_unit_test(jcs_members_and_integers),
        cmocka_unit_test(leaf_layout),      cmocka_unit_test(tree_and_proofs),
        cmocka_unit_test(node_as_leaf),     cmocka_unit_test(proof_parser),
        cmocka_unit_test(commitment_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
