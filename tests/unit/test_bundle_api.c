/* Unit tests of the bundle API added so that tools/ needs no JSON of the
 * library's: the entry walk (ev_bundle_entry_next), the verdict values, and
 * verification reports that cover signatures (ev_report_add_signatures,
 * ev_bundle_verify_signed, ev_report_json_ext). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <evidence.h>

#include "testutil.h"

static char *g_dir;
static char *g_src;    /* input folder */
static char *g_zip;    /* a sealed ZIP bundle */
static char *g_bagdir; /* the same as a folder bag */

static int make_bundle(const char *out, ev_bundle_format fmt)
{
    return tu_make_bundle(g_src, out, (int)fmt);
}

static int setup(void **state)
{
    (void)state;
    g_dir = tu_mkdtemp("test_bundle_api");
    if (!g_dir)
        return -1;
    g_src = tu_join(g_dir, "src");
    char *a = tu_join(g_src, "a.txt"), *b = tu_join(g_src, "sub/b.bin");
    int rc = tu_write(a, "alpha\n", 6) | tu_write(b, "0123456789", 10);
    free(a);
    free(b);
    if (rc != 0)
        return -1;
    g_zip = tu_join(g_dir, "b.zip");
    g_bagdir = tu_join(g_dir, "bag");
    if (make_bundle(g_zip, EV_FORMAT_ZIP) != EV_OK || make_bundle(g_bagdir, EV_FORMAT_DIR) != EV_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_dir && !getenv("EV_KEEP_TMP"))
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
        fail_msg("open %s: %s", path, ev_bundle_last_error(b));
    return b;
}

/* Number of times name comes in the walk, and its claimed size. */
static size_t walk_count(ev_bundle *b, const char *name, uint64_t *size, size_t *total)
{
    size_t pos = 0, n = 0;
    const char *p;
    uint64_t sz;
    *total = 0;
    while (ev_bundle_entry_next(&p, &sz, b, &pos)) {
        assert_non_null(p);
        (*total)++;
        if (strcmp(p, name) == 0) {
            n++;
            *size = sz;
        }
    }
    assert_null(p);
    return n;
}

static void check_walk(ev_bundle *b, bool with_sig)
{
    static const char *const tags[] = { "bagit.txt", "bag-info.txt", "manifest-sha256.txt",
                                        "tagmanifest-sha256.txt", "evidence.json",
                                        "custody.jsonl" };
    uint64_t size = 0;
    size_t total = 0;
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
        if (walk_count(b, tags[i], &size, &total) != 1)
            fail_msg("%s: not listed once", tags[i]);
    assert_int_equal(walk_count(b, "data/JS_1/src/a.txt", &size, &total), 1);
    assert_int_equal(size, 6);
    assert_int_equal(walk_count(b, "data/JS_1/src/sub/b.bin", &size, &total), 1);
    assert_int_equal(size, 10);
    /* folders are not entries */
    assert_int_equal(walk_count(b, "data", &size, &total), 0);
    assert_int_equal(walk_count(b, "data/JS_1/src/sub", &size, &total), 0);
    assert_int_equal(walk_count(b, "signatures/0001-x.p7s", &size, &total), with_sig ? 1 : 0);
    /* every entry is a file of the bag: no refused name, no folder */
    size_t pos = 0;
    const char *p;
    while (ev_bundle_entry_next(&p, NULL, b, &pos)) {
        assert_true(p[0] != '/' && strstr(p, "..") == NULL);
        assert_true(strcmp(p, "evil") != 0);
    }
    assert_true(total >= 8 + (with_sig ? 1u : 0u));
}

/* The walk lists each regular file once, with its size, in both forms of a
 * bundle; folders and unsafe entries (a symlink) are left out; misuse gives
 * false, never a crash. */
static void bundle_api_entries(void **state)
{
    (void)state;
    ev_bundle *b = open_bundle(g_zip);
    check_walk(b, false);
    /* the position is the caller's: two walks at once do not disturb each other */
    size_t p1 = 0, p2 = 0;
    const char *n1, *n2;
    assert_true(ev_bundle_entry_next(&n1, NULL, b, &p1));
    assert_true(ev_bundle_entry_next(&n2, NULL, b, &p2));
    assert_string_equal(n1, n2);
    ev_bundle_free(b);

    /* a folder bag, with a signature file and a symlink added */
    char *sigs = tu_join(g_bagdir, "signatures/0001-x.p7s");
    char *evil = tu_join(g_bagdir, "evil");
    assert_int_equal(tu_write(sigs, "not a signature", 15), 0);
    assert_int_equal(symlink("/etc/passwd", evil), 0);
    b = open_bundle(g_bagdir);
    check_walk(b, true);
    ev_bundle_free(b);
    unlink(sigs);
    unlink(evil);
    char *sigdir = tu_join(g_bagdir, "signatures");
    rmdir(sigdir);
    free(sigdir);
    free(sigs);
    free(evil);

    /* misuse */
    size_t pos = 0;
    const char *p = "x";
    uint64_t sz = 7;
    assert_false(ev_bundle_entry_next(&p, &sz, NULL, &pos));
    assert_null(p);
    assert_int_equal(sz, 0);
    ev_bundle *closed = NULL;
    assert_int_equal(ev_bundle_new(&closed, NULL), EV_OK);
    assert_false(ev_bundle_entry_next(&p, NULL, closed, &pos));
    b = open_bundle(g_zip);
    assert_false(ev_bundle_entry_next(NULL, NULL, b, &pos));
    assert_false(ev_bundle_entry_next(&p, NULL, b, NULL));
    pos = (size_t)-1;
    assert_false(ev_bundle_entry_next(&p, NULL, b, &pos));
    ev_bundle_free(b);
    ev_bundle_free(closed);
}

/* ev_verdict has values of its own, 0..2, not the CLI's exit codes. */
static void bundle_api_verdict_values(void **state)
{
    (void)state;
    assert_int_equal(EV_VERDICT_VALID, 0);
    assert_int_equal(EV_VERDICT_INVALID, 1);
    assert_int_equal(EV_VERDICT_UNREADABLE, 2);
    assert_int_equal(ev_report_verdict(NULL), 2);
}

/* ---- verification reports that cover signatures ---------------------------- */

static json_t *report_doc(const ev_report *r, uint32_t flags)
{
    char *s = NULL;
    assert_int_equal(ev_report_json_ext(&s, r, flags), EV_OK);
    assert_non_null(s);
    size_t n = strlen(s);
    assert_true(n > 0 && s[n - 1] == '\n');
    if (flags & EV_JSON_COMPACT)
        assert_true(strchr(s, '\n') == s + n - 1); /* the only newline is the last */
    json_error_t e;
    json_t *o = json_loads(s, 0, &e);
    if (!o)
        fail_msg("not JSON: %s", e.text);
    ev_free(s);
    return o;
}

static const char *jget(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Copy the folder bag to name, optionally with a signature file. */
static char *bag_copy(const char *name, const char *sig_name, const void *sig, size_t len)
{
    char *dst = tu_join(g_dir, name);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -R '%s' '%s'", dst, g_bagdir, dst);
    assert_int_equal(system(cmd), 0);
    if (sig_name) {
        char *p = tu_join(dst, sig_name);
        assert_int_equal(tu_write(p, sig, len), 0);
        free(p);
    }
    return dst;
}

/* An unsigned bundle: the report stays valid and says "no signatures". A
 * damaged signature file: the bag's checks pass, the signature does not, and
 * the report (verdict, "valid", JSON section) says invalid. */
static void bundle_api_report_signatures(void **state)
{
    (void)state;
    ev_trust *t = NULL;
    assert_int_equal(ev_trust_new(&t, NULL), EV_OK);

    ev_bundle *b = open_bundle(g_zip);
    ev_report *r = NULL;
    assert_int_equal(ev_bundle_verify_signed(&r, b, t, NULL), EV_OK);
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_VALID);
    json_t *o = report_doc(r, 0);
    json_t *sg = json_object_get(o, "signatures");
    assert_non_null(sg);
    assert_int_equal(json_integer_value(json_object_get(sg, "present")), 0);
    assert_true(json_is_false(json_object_get(sg, "verified")));
    assert_string_equal(jget(sg, "verdict"), "valid");
    assert_int_equal(json_array_size(json_object_get(sg, "signatures")), 0);
    assert_true(json_is_true(json_object_get(o, "valid")));
    json_decref(o);
    ev_report_free(r);
    ev_bundle_free(b);

    char *bad = bag_copy("badsig", "signatures/0001-x.p7s", "\x30\x82\x7f\xff", 4);
    b = open_bundle(bad);
    /* the bag alone is valid: signatures/ is outside the tag manifest */
    assert_int_equal(ev_bundle_verify(&r, b, NULL), EV_OK);
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_VALID);
    o = report_doc(r, 0);
    assert_null(json_object_get(o, "signatures"));
    json_decref(o);
    size_t nprob = ev_report_problem_count(r);
    /* the three calls by hand */
    ev_sig_report *s = NULL;
    assert_int_equal(ev_sign_verify(&s, t, b), EV_OK);
    assert_int_equal(ev_sig_report_verdict(s), EV_SIG_UNREADABLE);
    assert_int_equal(ev_report_add_signatures(r, s), EV_OK);
    ev_sig_report_free(s); /* copied: the report does not need it */
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_INVALID);
    assert_int_equal(ev_report_problem_count(r), nprob); /* the bag's problems unchanged */
    o = report_doc(r, 0);
    assert_string_equal(jget(o, "verdict"), "invalid");
    assert_true(json_is_false(json_object_get(o, "valid")));
    sg = json_object_get(o, "signatures");
    assert_int_equal(json_integer_value(json_object_get(sg, "present")), 1);
    assert_string_equal(jget(sg, "verdict"), "unreadable");
    json_t *one = json_array_get(json_object_get(sg, "signatures"), 0);
    assert_string_equal(jget(one, "path"), "signatures/0001-x.p7s");
    assert_string_equal(jget(one, "status"), "error");
    assert_true(json_array_size(json_object_get(one, "problems")) > 0);
    /* the section comes last, after the bag's sections */
    const char *last = NULL, *k;
    json_t *v;
    json_object_foreach(o, k, v) last = k;
    assert_string_equal(last, "signatures");
    json_decref(o);
    /* compact: the same document on one line */
    json_t *c = report_doc(r, EV_JSON_COMPACT);
    o = report_doc(r, 0);
    assert_true(json_equal(c, o));
    json_decref(c);
    json_decref(o);
    ev_report_free(r);

    /* the one call gives the same verdict */
    assert_int_equal(ev_bundle_verify_signed(&r, b, t, NULL), EV_OK);
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_INVALID);
    ev_report_free(r);

    /* misuse */
    char *txt = (char *)"x";
    assert_int_equal(ev_report_json_ext(&txt, NULL, 0), EV_EINVAL);
    assert_null(txt);
    assert_int_equal(ev_bundle_verify(&r, b, NULL), EV_OK);
    assert_int_equal(ev_report_json_ext(&txt, r, 0x80), EV_EINVAL);
    assert_int_equal(ev_report_json_ext(NULL, r, 0), EV_EINVAL);
    assert_int_equal(ev_report_add_signatures(r, NULL), EV_EINVAL);
    assert_int_equal(ev_report_add_signatures(NULL, NULL), EV_EINVAL);
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_VALID);
    ev_report_free(r);
    r = (ev_report *)1;
    assert_int_equal(ev_bundle_verify_signed(&r, b, NULL, NULL), EV_EINVAL);
    assert_null(r);
    assert_int_equal(ev_bundle_verify_signed(NULL, b, t, NULL), EV_EINVAL);
    ev_verify_options vo = EV_VERIFY_OPTIONS_INIT;
    vo.version = 99;
    assert_int_equal(ev_bundle_verify_signed(&r, b, t, &vo), EV_EVERSION);
    assert_null(r);
    ev_bundle_free(b);
    /* a bundle that is not open: the bag check cannot run, so no report */
    ev_bundle *closed = NULL;
    assert_int_equal(ev_bundle_new(&closed, NULL), EV_OK);
    assert_true(ev_bundle_verify_signed(&r, closed, t, NULL) < 0);
    assert_null(r);
    ev_bundle_free(closed);
    ev_trust_free(t);
    tu_rmrf(bad);
    free(bad);
}

/* A good signature checked without trust anchors is "unverified": it does
 * not fail the bundle. With the wrong roots it is invalid, and so is the
 * report. */
static void bundle_api_report_unverified_signature(void **state)
{
    (void)state;
    const char *src = getenv("EV_SOURCE_DIR");
    if (!src)
        skip();
    char *pki = tu_join(g_dir, "pki");
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "bash '%s/scripts/test-pki.sh' '%s' >/dev/null 2>&1", src, pki);
    assert_int_equal(system(cmd), 0);
    char *key = tu_join(pki, "signer.key"), *cert = tu_join(pki, "signer.pem");
    char *chain = tu_join(pki, "chain.pem"), *other = tu_join(pki, "other-ca.pem");
    char *bag = bag_copy("signed", NULL, NULL, 0);

    ev_signer *sg = NULL;
    assert_int_equal(ev_signer_new(&sg, NULL), EV_OK);
    if (ev_signer_load(sg, key, cert, chain) != EV_OK)
        fail_msg("load: %s", ev_signer_last_error(sg));
    ev_bundle *b = open_bundle(bag);
    if (ev_signer_sign(sg, b, 0) != EV_OK)
        fail_msg("sign: %s", ev_signer_last_error(sg));
    ev_signer_free(sg);

    ev_trust *t = NULL;
    assert_int_equal(ev_trust_new(&t, NULL), EV_OK);
    ev_report *r = NULL;
    assert_int_equal(ev_bundle_verify_signed(&r, b, t, NULL), EV_OK);
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_VALID);
    json_t *o = report_doc(r, EV_JSON_COMPACT);
    json_t *sec = json_object_get(o, "signatures");
    assert_string_equal(jget(sec, "verdict"), "unverified");
    assert_int_equal(json_integer_value(json_object_get(sec, "present")), 1);
    assert_string_equal(jget(json_array_get(json_object_get(sec, "signatures"), 0), "status"),
                        "ok");
    json_decref(o);
    ev_report_free(r);
    ev_trust_free(t);

    assert_int_equal(ev_trust_new(&t, NULL), EV_OK);
    assert_int_equal(ev_trust_add_ca(t, other), EV_OK);
    assert_int_equal(ev_bundle_verify_signed(&r, b, t, NULL), EV_OK);
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_INVALID);
    o = report_doc(r, 0);
    assert_true(json_is_true(json_object_get(json_object_get(o, "signatures"), "verified")));
    assert_string_equal(jget(json_object_get(o, "signatures"), "verdict"), "invalid");
    json_decref(o);
    ev_report_free(r);
    ev_trust_free(t);
    ev_bundle_free(b);
    tu_rmrf(bag);
    free(bag);
    free(key);
    free(cert);
    free(chain);
    free(other);
    free(pki);
}

/* ev_bundle_inspect_text() and ev_bundle_custody_text(): the text of the
 * documents of ev_bundle_inspect_json() and ev_bundle_custody_json(). */
static void bundle_api_text(void **state)
{
    (void)state;
    ev_bundle *b = open_bundle(g_zip);
    char *t = NULL;
    assert_int_equal(ev_bundle_inspect_text(&t, b), EV_OK);
    assert_non_null(t);
    char want[4096];
    snprintf(want, sizeof(want), "bundle:   %s (zip)\nbag:      b\ncase:     CASE/1\n"
             "org:      Test Force\nofficer:  Jo Smith\ncreated:  ", g_zip);
    assert_true(strncmp(t, want, strlen(want)) == 0);
    assert_non_null(strstr(t, "\npayload:  2 file(s), 16 bytes\nexhibits: JS/1\n\nitems:\n"));
    assert_non_null(strstr(t, "      exhibit JS/1, 6 bytes, text/plain\n"));
    assert_non_null(strstr(t, "\n\ncustody:\n  1  "));
    assert_null(strstr(t, "LINK BROKEN"));
    ev_free(t);
    bool ok = false;
    assert_int_equal(ev_bundle_custody_text(&t, &ok, b), EV_OK);
    assert_true(ok);
    assert_non_null(strstr(t, "  created    Jo Smith (Test Force)  link ok\n"));
    assert_non_null(strstr(t, "\nchain: intact\n"));
    ev_free(t);
    assert_int_equal(ev_bundle_custody_text(NULL, &ok, b), EV_EINVAL);
    assert_false(ok);
    assert_int_equal(ev_bundle_inspect_text(NULL, b), EV_EINVAL);
    ev_bundle_free(b);
    /* a bundle that is not open */
    assert_int_equal(ev_bundle_new(&b, NULL), EV_OK);
    t = (char *)"x";
    assert_int_equal(ev_bundle_inspect_text(&t, b), EV_EINVAL);
    assert_null(t);
    assert_int_equal(ev_bundle_custody_text(&t, NULL, b), EV_EINVAL);
    ev_bundle_free(b);

    /* a changed line: the link and the chain are broken, in the text too */
    char *bag = tu_join(g_dir, "textbag");
    assert_int_equal(make_bundle(bag, EV_FORMAT_DIR), EV_OK);
    char *log = tu_join(bag, "custody.jsonl");
    size_t len = 0;
    uint8_t *data = tu_read(log, &len);
    assert_non_null(data);
    char *hit = memmem(data, len, "Jo Smith", 8);
    assert_non_null(hit);
    memcpy(hit, "Jo Smyth", 8);
    assert_int_equal(tu_write(log, data, len), 0);
    b = open_bundle(bag);
    ok = true;
    assert_int_equal(ev_bundle_custody_text(&t, &ok, b), EV_OK);
    assert_false(ok);
    assert_non_null(strstr(t, "\nchain: BROKEN\n"));
    assert_non_null(strstr(t, "problem: custody.jsonl does not match tagmanifest-sha256.txt"));
    ev_free(t);
    assert_int_equal(ev_bundle_inspect_text(&t, b), EV_OK);
    assert_non_null(strstr(t, "  created    Jo Smyth (Test Force)\n"));
    ev_free(t);
    ev_bundle_free(b);
    free(data);
    free(log);
    free(bag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bundle_api_entries),
        cmocka_unit_test(bundle_api_verdict_values),
        cmocka_unit_test(bundle_api_report_signatures),
        cmocka_unit_test(bundle_api_report_unverified_signature),
        cmocka_unit_test(bundle_api_text),
    };
    return cmocka_run_group_tests_name("bundle_api", tests, setup, teardown);
}
