/* Unit tests for src/bag.c: the BagIt 1.0 (RFC 8493) model, independent of
 * storage. Section numbers are RFC 8493's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bag/bag.h"
#include "bag/bag_check.h"
#include "base/report.h"
#include "testutil.h"

static ev_report *new_report(void)
{
    ev_report *r = NULL;
    assert_int_equal(ev_report__new(&r, "evidence.verify"), EV_OK);
    return r;
}

static bool has_code(const ev_report *r, const char *code, ev_severity sev)
{
    for (size_t i = 0; i < r->nproblems; i++)
        if (strcmp(r->problems[i].code, code) == 0 && r->problems[i].severity == sev)
            return true;
    return false;
}

/* ---- path encoding (2.1.3) ------------------------------------------------ */

static void bag_encode_path_only_pct_cr_lf(void **state)
{
    (void)state;
    char *s = ev_bag__encode_path("data/a%b\nc\rd e\t~%7E");
    assert_string_equal(s, "data/a%25b%0Ac%0Dd e\t~%257E");
    free(s);
    s = ev_bag__encode_path("");
    assert_string_equal(s, "");
    free(s);
}

static void bag_decode_path_only_three_escapes(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "data/a%25b", "data/a%b" },     { "data/%0A%0a", "data/\n\n" },
        { "data/%0D%0d", "data/\r\r" },   { "data/%7E", "data/%7E" },
        { "data/%2525", "data/%25" },     { "data/%41", "data/%41" },
        { "data/%", "data/%" },           { "data/%2", "data/%2" },
        { "data/%0", "data/%0" },         { "data/%0G", "data/%0G" },
        { "%25%25%25", "%%%" },           { "", "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *s = ev_bag__decode_path(cases[i].in, strlen(cases[i].in));
        assert_non_null(s);
        assert_string_equal(s, cases[i].out);
        free(s);
    }
    /* the length is honoured: input need not be NUL-terminated */
    char *s = ev_bag__decode_path("data/x%25yyyy", 9);
    assert_string_equal(s, "data/x%");
    free(s);
}

static void bag_encode_decode_round_trip(void **state)
{
    (void)state;
    unsigned seed = 12345;
    for (int n = 0; n < 2000; n++) {
        char in[64];
        size_t len = (size_t)(n % 60);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            static const char alphabet[] = "%\r\n0AaDd25/ x";
            in[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        in[len] = '\0';
        char *enc = ev_bag__encode_path(in);
        assert_non_null(enc);
        assert_null(strchr(enc, '\n'));
        assert_null(strchr(enc, '\r'));
        char *dec = ev_bag__decode_path(enc, strlen(enc));
        assert_string_equal(dec, in);
        free(enc);
        free(dec);
    }
}

/* ---- path safety (5.1) ------------------------------------------------------ */

static void bag_unsafe_reason_refuses_escapes(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "/etc/passwd", "data/../../x", "..", "data/..", "./data/x", "data/./x",
        "data//x", "~/x", "~root/x", "C:/x", "c:x", "data\\x", "data/\x01x",
        "data/x\x1b[2J",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = ev_bag__unsafe_reason(bad[i], strlen(bad[i]));
        if (!why)
            fail_msg("'%s' was accepted as safe", bad[i]);
    }
    /* an embedded NUL is visible through the length */
    assert_non_null(ev_bag__unsafe_reason("data/a\0b", 8));
    static const char *const good[] = {
        "data/x", "data/ lead", "data/trail ", "data/%25", "data/caf\xc3\xa9", "data/a~b",
        "data/line\nfeed", "data/cr\rret", "data/tab\tx", "data/...", "data/.hidden",
        "bagit.txt", "meta/item-0001/x.txt",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const char *why = ev_bag__unsafe_reason(good[i], strlen(good[i]));
        if (why)
            fail_msg("'%s' was refused: %s", good[i], why);
    }
}

/* ---- Unicode and algorithm names (6.1.1.3, 2.4) ------------------------------- */

static void bag_nfc_normalizes_and_rejects_bad_utf8(void **state)
{
    (void)state;
    char *s = ev_bag__nfc("cafe\xcc\x81"); /* e + combining acute */
    assert_string_equal(s, "caf\xc3\xa9");
    free(s);
    s = ev_bag__nfc("caf\xc3\xa9");
    assert_string_equal(s, "caf\xc3\xa9");
    free(s);
    assert_null(ev_bag__nfc("bad\xff"));
    assert_null(ev_bag__nfc("\xc3"));
}

static void bag_normalize_alg_per_rfc(void **state)
{
    (void)state;
    char a[32];
    ev_bag__normalize_alg(a, sizeof(a), "SHA-512");
    assert_string_equal(a, "sha512");
    ev_bag__normalize_alg(a, sizeof(a), "Sha_256");
    assert_string_equal(a, "sha256");
    ev_bag__normalize_alg(a, sizeof(a), "MD5");
    assert_string_equal(a, "md5");
    char tiny[4];
    ev_bag__normalize_alg(tiny, sizeof(tiny), "sha512");
    assert_string_equal(tiny, "sha");
}

static void bag_manifest_names(void **state)
{
    (void)state;
    bool tag = true;
    char alg[32];
    assert_true(ev_bag__is_manifest_name("manifest-sha256.txt", &tag, alg, sizeof(alg)));
    assert_false(tag);
    assert_string_equal(alg, "sha256");
    assert_true(ev_bag__is_manifest_name("tagmanifest-sha512.txt", &tag, alg, sizeof(alg)));
    assert_true(tag);
    assert_string_equal(alg, "sha512");
    assert_false(ev_bag__is_manifest_name("manifest-.txt", &tag, alg, sizeof(alg)));
    assert_false(ev_bag__is_manifest_name("manifest-sha256.txt.bak", &tag, alg, sizeof(alg)));
    assert_false(ev_bag__is_manifest_name("manifest-a/b.txt", &tag, alg, sizeof(alg)));
    assert_false(ev_bag__is_manifest_name("data/manifest-sha256.txt", &tag, alg, sizeof(alg)));
    assert_false(ev_bag__is_manifest_name("manifest-sha256", &tag, alg, sizeof(alg)));
    char small[4];
    assert_false(ev_bag__is_manifest_name("manifest-sha256.txt", &tag, small, sizeof(small)));
    assert_true(ev_bag__is_payload("data/x"));
    assert_false(ev_bag__is_payload("data"));
    assert_false(ev_bag__is_payload("datax/y"));
    assert_false(ev_bag__is_payload("meta/data/x"));
}

/* ---- text tag files (2.3) --------------------------------------------------------- */

typedef struct lines_seen {
    char text[8][32];
    size_t lineno[8];
    size_t n;
} lines_seen;

static int collect_line(const char *line, size_t len, size_t lineno, void *ctx)
{
    lines_seen *s = ctx;
    if (s->n < 8) {
        snprintf(s->text[s->n], sizeof(s->text[0]), "%.*s", (int)len, line);
        s->lineno[s->n] = lineno;
    }
    s->n++;
    return 0;
}

static int stop_at_two(const char *line, size_t len, size_t lineno, void *ctx)
{
    (void)line;
    (void)len;
    (void)ctx;
    return lineno == 2 ? 42 : 0;
}

static void bag_lines_accept_lf_cr_crlf(void **state)
{
    (void)state;
    lines_seen s;
    memset(&s, 0, sizeof(s));
    const char *t = "a\nb\r\nc\rd";
    assert_int_equal(ev_bag__lines(t, strlen(t), collect_line, &s), 0);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.text[0], "a");
    assert_string_equal(s.text[1], "b");
    assert_string_equal(s.text[2], "c");
    assert_string_equal(s.text[3], "d");
    assert_int_equal(s.lineno[3], 4);
    memset(&s, 0, sizeof(s));
    assert_int_equal(ev_bag__lines("", 0, collect_line, &s), 0);
    assert_int_equal(s.n, 0);
    memset(&s, 0, sizeof(s));
    assert_int_equal(ev_bag__lines("x\r\n", 3, collect_line, &s), 0);
    assert_int_equal(s.n, 1);
    memset(&s, 0, sizeof(s));
    assert_int_equal(ev_bag__lines("\n\n", 2, collect_line, &s), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(ev_bag__lines("a\nb\nc\n", 6, stop_at_two, NULL), 42);
}

static void bag_check_text_bom_utf8_nul(void **state)
{
    (void)state;
    ev_report *r = new_report();
    assert_true(ev_bag__check_text("x.txt", "plain caf\xc3\xa9\n", 11, r));
    assert_int_equal(r->nproblems, 0);
    assert_false(ev_bag__check_text("bom.txt", "\xef\xbb\xbfhello", 8, r));
    assert_true(has_code(r, "tag-bom", EV_SEVERITY_ERROR));
    assert_false(ev_bag__check_text("latin1.txt", "Jos\xe9\n", 5, r));
    assert_true(has_code(r, "tag-not-utf8", EV_SEVERITY_ERROR));
    ev_report_free(r);
    r = new_report();
    assert_false(ev_bag__check_text("nul.txt", "a\0b", 3, r));
    assert_true(has_code(r, "tag-not-utf8", EV_SEVERITY_ERROR));
    assert_string_equal(r->problems[0].path, "nul.txt");
    ev_report_free(r);
}

/* ---- bagit.txt (2.1.1) ---------------------------------------------------------------- */

static int parse_bagit(const char *text, int *maj, int *min, ev_report **r)
{
    *r = new_report();
    return ev_bag__parse_bagit_txt(text, strlen(text), maj, min, *r);
}

static void bag_bagit_txt_rules(void **state)
{
    (void)state;
    int maj = -1, min = -1;
    ev_report *r;
    assert_int_equal(parse_bagit(EV_BAGIT_TXT, &maj, &min, &r), EV_OK);
    assert_int_equal(maj, 1);
    assert_int_equal(min, 0);
    assert_int_equal(r->nproblems, 0);
    ev_report_free(r);
    assert_int_equal(parse_bagit("BagIt-Version: 1.0\r\nTag-File-Character-Encoding: UTF-8\r\n",
                                 &maj, &min, &r), EV_OK);
    ev_report_free(r);
    assert_int_equal(parse_bagit("BagIt-Version: 1.0\nTag-File-Character-Encoding: utf-8", &maj,
                                 &min, &r), EV_OK);
    ev_report_free(r);
    assert_int_equal(parse_bagit("BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n", &maj,
                                 &min, &r), EV_OK);
    assert_true(has_code(r, "bagit-version-legacy", EV_SEVERITY_WARNING));
    ev_report_free(r);
    static const char *const invalid[] = {
        "BagIt-Version: .97\nTag-File-Character-Encoding: UTF-8\n",
        "BagIt-Version: 1.0 \nTag-File-Character-Encoding: UTF-8\n",
        "BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "BagIt-Version:1.0\nTag-File-Character-Encoding: UTF-8\n",
        "Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n",
        "BagIt-Version: 1.0\n",
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\nX: y\n",
        "BagIt-Version: 1\nTag-File-Character-Encoding: UTF-8\n",
        "BagIt-Version: 1.\nTag-File-Character-Encoding: UTF-8\n",
        "BagIt-Version: 99999999999999999999.0\nTag-File-Character-Encoding: UTF-8\n",
        "",
    };
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        int rc = parse_bagit(invalid[i], &maj, &min, &r);
        if (rc != EV_EFORMAT)
            fail_msg("bagit.txt %zu: %d, expected EV_EFORMAT", i, rc);
        assert_true(has_code(r, "bagit-txt-invalid", EV_SEVERITY_ERROR));
        ev_report_free(r);
    }
    assert_int_equal(parse_bagit("BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n", &maj,
                                 &min, &r), EV_EUNSUPPORTED);
    assert_true(has_code(r, "bagit-version-unsupported", EV_SEVERITY_ERROR));
    ev_report_free(r);
    /* 2.1.1: UTF-8 SHOULD be used; another encoding is read, with a warning */
    assert_int_equal(parse_bagit("BagIt-Version: 1.0\nTag-File-Character-Encoding: ISO-8859-1\n",
                                 &maj, &min, &r), EV_OK);
    assert_true(has_code(r, "tag-encoding-not-utf8", EV_SEVERITY_WARNING));
    assert_false(has_code(r, "bagit-encoding-unsupported", EV_SEVERITY_ERROR));
    ev_report_free(r);
    assert_int_equal(parse_bagit("\xef\xbb\xbf" EV_BAGIT_TXT, &maj, &min, &r), EV_EFORMAT);
    assert_true(has_code(r, "tag-bom", EV_SEVERITY_ERROR));
    ev_report_free(r);
}

/* ---- manifests (2.1.3, 6.1.3) ----------------------------------------------------------- */

#define H64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define H64U "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"

static void bag_manifest_parses_rfc_lines(void **state)
{
    (void)state;
    ev_manifest m;
    memset(&m, 0, sizeof(m));
    m.filename = strdup("manifest-sha256.txt");
    strcpy(m.alg, "sha256");
    m.slot = EV_HASH_SHA256;
    const char *text = H64 "  data/two spaces\n"
                       H64U "\tdata/tab\r\n"
                       H64 " \t  data/mixed\r"
                       H64 "  data/ lead and trail  \n"
                       H64 "  data/100%25 %0A%0d%7E\n"
                       "\n"
                       H64 " *data/md5sum-style\n";
    ev_report *r = new_report();
    assert_int_equal(ev_bag__parse_manifest(&m, text, strlen(text), r), EV_OK);
    assert_int_equal(m.n, 6);
    assert_string_equal(m.entries[0].path, "data/two spaces");
    assert_string_equal(m.entries[1].path, "data/tab");
    assert_string_equal(m.entries[1].digest, H64U);
    assert_string_equal(m.entries[2].path, "data/mixed");
    assert_string_equal(m.entries[3].path, "data/ lead and trail  ");
    assert_string_equal(m.entries[4].path, "data/100% \n\r%7E");
    assert_string_equal(m.entries[5].path, "data/md5sum-style");
    assert_int_equal(m.entries[5].line, 7);
    assert_true(has_code(r, "manifest-md5sum-style", EV_SEVERITY_WARNING));
    assert_false(has_code(r, "manifest-bad-line", EV_SEVERITY_ERROR));
    ev_report_free(r);
    ev_bag__manifest_free(&m);
}

static void bag_manifest_reports_bad_lines(void **state)
{
    (void)state;
    ev_manifest m;
    memset(&m, 0, sizeof(m));
    m.filename = strdup("manifest-sha256.txt");
    strcpy(m.alg, "sha256");
    m.slot = EV_HASH_SHA256;
    const char *text = H64 "\n"                   /* no path */
                       "abc123  data/short\n"      /* wrong length */
                       "zz" H64 "  data/nonhex\n"  /* not hex, too long */
                       "  data/nodigest\n"
                       H64 "  data/ok\n";
    ev_report *r = new_report();
    assert_int_equal(ev_bag__parse_manifest(&m, text, strlen(text), r), EV_OK);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.entries[0].path, "data/ok");
    assert_int_equal(ev_report__count_code(r, "manifest-bad-line"), 2);
    assert_int_equal(ev_report__count_code(r, "manifest-bad-digest"), 2);
    ev_report_free(r);
    ev_bag__manifest_free(&m);
    /* an unknown algorithm: any hex length is kept (names still checked) */
    memset(&m, 0, sizeof(m));
    m.filename = strdup("manifest-blake3.txt");
    strcpy(m.alg, "blake3");
    m.slot = -1;
    r = new_report();
    assert_int_equal(ev_bag__parse_manifest(&m, "abcd  data/x\n", 13, r), EV_OK);
    assert_int_equal(m.n, 1);
    ev_report_free(r);
    ev_bag__manifest_free(&m);
    ev_bag__manifest_free(NULL);
}

/* ---- bag-info.txt (2.2.2) ------------------------------------------------------------------ */

static void bag_baginfo_parse_rules(void **state)
{
    (void)state;
    ev_baginfo bi = { 0 };
    const char *text = "Source-Organization: Org\n"
                       "External-Description: long text\n"
                       "  folded once\n"
                       "\tand twice\n"
                       "Contact-Name: A\r\n"
                       "contact-name: B\r"
                       "Payload-Oxum: 12.3\n"
                       "Empty:\n"
                       "Colon: a: b\n";
    ev_report *r = new_report();
    assert_int_equal(ev_bag__parse_baginfo(&bi, text, strlen(text), false, r), EV_OK);
    assert_int_equal(r->nproblems, 0);
    assert_string_equal(ev_bag__baginfo_get(&bi, "source-organization"), "Org");
    assert_string_equal(ev_bag__baginfo_get(&bi, "External-Description"),
                        "long text folded once and twice");
    assert_int_equal(ev_bag__baginfo_count(&bi, "CONTACT-NAME"), 2);
    assert_string_equal(ev_bag__baginfo_get(&bi, "Colon"), "a: b");
    assert_string_equal(ev_bag__baginfo_get(&bi, "Empty"), "");
    assert_null(ev_bag__baginfo_get(&bi, "Bag-Size"));
    /* order is kept */
    assert_string_equal(bi.e[0].label, "Source-Organization");
    assert_string_equal(bi.e[3].value, "B");
    ev_bag__baginfo_free(&bi);
    ev_report_free(r);

    r = new_report();
    const char *bad = "  continues nothing\n"
                      "No colon here\n"
                      "Trailing-Space : x\n"
                      ": no label\n"
                      "Label:nospace\n";
    assert_int_equal(ev_bag__parse_baginfo(&bi, bad, strlen(bad), false, r), EV_OK);
    assert_int_equal(ev_report__count_code(r, "baginfo-bad-line"), 4);
    assert_true(has_code(r, "baginfo-no-space", EV_SEVERITY_WARNING));
    ev_bag__baginfo_free(&bi);
    ev_report_free(r);

    /* before 1.0, whitespace around the colon is allowed */
    r = new_report();
    assert_int_equal(ev_bag__parse_baginfo(&bi, "Label  :   value\n", 17, true, r), EV_OK);
    assert_int_equal(r->nproblems, 0);
    assert_string_equal(ev_bag__baginfo_get(&bi, "Label"), "value");
    ev_bag__baginfo_free(&bi);
    ev_report_free(r);
    ev_bag__baginfo_free(NULL);
}

static void bag_baginfo_write_is_one_line_per_element(void **state)
{
    (void)state;
    ev_baginfo bi = { 0 };
    assert_int_equal(ev_bag__baginfo_add(&bi, "Contact-Name", "Jo\nSmith\rX"), EV_OK);
    assert_int_equal(ev_bag__baginfo_add(&bi, "External-Identifier", NULL), EV_OK);
    char *s = ev_bag__baginfo_format(&bi);
    assert_string_equal(s, "Contact-Name: Jo Smith X\nExternal-Identifier: \n");
    free(s);
    ev_bag__baginfo_free(&bi);
    char *e = ev_bag__baginfo_format(&bi);
    assert_string_equal(e, "");
    free(e);
}

static void bag_oxum_parse_and_overflow(void **state)
{
    (void)state;
    uint64_t b = 1, f = 1;
    assert_true(ev_bag__parse_oxum("0.0", &b, &f));
    assert_true(b == 0 && f == 0);
    assert_true(ev_bag__parse_oxum("5368709126.2", &b, &f));
    assert_true(b == 5368709126ull && f == 2);
    assert_true(ev_bag__parse_oxum("18446744073709551615.1", &b, &f));
    assert_true(b == UINT64_MAX);
    static const char *const bad[] = {
        "18446744073709551616.1", "1.18446744073709551616", "1.", ".1", "1", "1.2.3", "a.b",
        "1.2 ", " 1.2", "-1.2", "1,2", "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (ev_bag__parse_oxum(bad[i], &b, &f))
            fail_msg("Payload-Oxum '%s' was accepted", bad[i]);
}

/* ---- fetch.txt (2.2.3) ------------------------------------------------------------------------ */

static void bag_fetch_parse(void **state)
{
    (void)state;
    ev_fetch_entry *e = NULL;
    size_t n = 0;
    const char *text = "http://127.0.0.1:9/a 12 data/a b\n"
                       "https://127.0.0.1/x\t-\tdata/100%25\r\n"
                       "no-length data/x\n"
                       "\n";
    ev_report *r = new_report();
    assert_int_equal(ev_bag__parse_fetch(&e, &n, text, strlen(text), r), EV_OK);
    assert_int_equal(n, 2);
    assert_string_equal(e[0].url, "http://127.0.0.1:9/a");
    assert_string_equal(e[0].length, "12");
    assert_string_equal(e[0].path, "data/a b");
    assert_string_equal(e[1].length, "-");
    assert_string_equal(e[1].path, "data/100%");
    assert_int_equal(ev_report__count_code(r, "fetch-bad-line"), 1);
    ev_bag__fetch_free(e, n);
    ev_report_free(r);
}

/* ---- hostile input: the parsers never crash --------------------------------------------------- */

static void bag_parsers_survive_random_input(void **state)
{
    (void)state;
    unsigned seed = 99;
    static const char *const pieces[] = { "\n", "\r", "\r\n", ":", " ", "\t", "%", "%0", "%25",
                                       "data/", "..", "/", "\xff", "\xc3", "\xef\xbb\xbf", "0",
                                       H64 "", "*", "BagIt-", "Payload-Oxum", "1.0", "./",
                                       "\xfe\xff", "\xd8", "._", ".DS_Store", "" };
    for (int round = 0; round < 3000; round++) {
        char buf[600];
        size_t len = 0;
        int parts = round % 40;
        for (int k = 0; k < parts; k++) {
            seed = seed * 1103515245u + 12345u;
            const char *p = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
            size_t pl = strlen(p);
            if (len + pl >= sizeof(buf))
                break;
            memcpy(buf + len, p, pl);
            len += pl;
        }
        ev_report *r = new_report();
        int maj, min;
        ev_bag__parse_bagit_txt(buf, len, &maj, &min, r);
        ev_manifest m;
        memset(&m, 0, sizeof(m));
        m.filename = strdup("manifest-sha256.txt");
        strcpy(m.alg, "sha256");
        m.slot = EV_HASH_SHA256;
        ev_bag__parse_manifest(&m, buf, len, r);
        ev_bag__manifest_free(&m);
        ev_baginfo bi = { 0 };
        ev_bag__parse_baginfo(&bi, buf, len, round & 1, r);
        ev_bag__baginfo_free(&bi);
        ev_fetch_entry *fe = NULL;
        size_t fn = 0;
        ev_bag__parse_fetch(&fe, &fn, buf, len, r);
        ev_bag__fetch_free(fe, fn);
        char *d = ev_bag__decode_path(buf, len);
        free(d);
        ev_bag__unsafe_reason(buf, len);
        static const char *const encs[] = { "UTF-16BE", "UTF-16", "ISO-8859-1", "UTF-8" };
        char *t = NULL;
        size_t tl = 0;
        if (ev_bag__decode_text("x.txt", encs[round % 4], buf, len, &t, &tl, r) && t)
            assert_int_equal(strlen(t), tl);
        free(t);
        char z[601];
        memcpy(z, buf, len);
        z[len] = '\0';
        bool ch, esc;
        char *rp = ev_bag__resolve_path(z, &ch, &esc);
        if (rp)
            assert_null(strstr(rp, "/../"));
        free(rp);
        ev_bag__system_file(z);
        ev_report_free(r);
    }
}


/* ---- bags from other tools: encodings, legacy lines, the drafts' rules ---------------------- */

static bool has_message(const ev_report *r, const char *code, const char *part)
{
    for (size_t i = 0; i < r->nproblems; i++)
        if (strcmp(r->problems[i].code, code) == 0 && strstr(r->problems[i].message, part))
            return true;
    return false;
}

static void bag_bagit_txt_legacy_encodings(void **state)
{
    (void)state;
    int maj, min;
    char enc[64];
    ev_report *r = new_report();
    const char *t = "BagIt-Version: 0.97\nTag-File-Character-Encoding: ISO-8859-1\n";
    assert_int_equal(ev_bag__parse_bagit_txt_enc(t, strlen(t), &maj, &min, enc, sizeof(enc), r),
                     EV_OK);
    assert_string_equal(enc, "ISO-8859-1");
    assert_true(has_code(r, "tag-encoding-converted", EV_SEVERITY_INFO));
    assert_false(has_code(r, "bagit-encoding-unsupported", EV_SEVERITY_ERROR));
    ev_report_free(r);
    r = new_report();
    t = "BagIt-Version: 0.96\r\nTag-File-Character-Encoding: UTF-16BE\r\n";
    assert_int_equal(ev_bag__parse_bagit_txt_enc(t, strlen(t), &maj, &min, enc, sizeof(enc), r),
                     EV_OK);
    assert_string_equal(enc, "UTF-16BE");
    ev_report_free(r);
    /* an encoding iconv does not know: named, with the line */
    r = new_report();
    t = "BagIt-Version: 0.97\nTag-File-Character-Encoding: X-NO-SUCH-CHARSET\n";
    assert_int_equal(ev_bag__parse_bagit_txt_enc(t, strlen(t), &maj, &min, enc, sizeof(enc), r),
                     EV_EUNSUPPORTED);
    assert_true(has_message(r, "bagit-encoding-unsupported", "bagit.txt line 2"));
    assert_true(has_message(r, "bagit-encoding-unsupported", "X-NO-SUCH-CHARSET"));
    ev_report_free(r);
    /* a 1.0 bag in another encoding than UTF-8: read, with a warning naming
     * bagit.txt's line 2 (RFC 8493 2.1.1 makes UTF-8 a SHOULD) */
    r = new_report();
    t = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-16\n";
    assert_int_equal(ev_bag__parse_bagit_txt_enc(t, strlen(t), &maj, &min, enc, sizeof(enc), r),
                     EV_OK);
    assert_string_equal(enc, "UTF-16");
    assert_true(has_message(r, "tag-encoding-not-utf8", "bagit.txt line 2"));
    assert_true(has_message(r, "tag-encoding-not-utf8", "UTF-16"));
    assert_false(has_code(r, "tag-encoding-converted", EV_SEVERITY_INFO));
    ev_report_free(r);
    /* ... but not one iconv does not know */
    r = new_report();
    t = "BagIt-Version: 1.0\nTag-File-Character-Encoding: X-NO-SUCH-CHARSET\n";
    assert_int_equal(ev_bag__parse_bagit_txt_enc(t, strlen(t), &maj, &min, enc, sizeof(enc), r),
                     EV_EUNSUPPORTED);
    assert_true(has_message(r, "bagit-encoding-unsupported", "bagit.txt line 2"));
    ev_report_free(r);
    /* a missing encoding line names the line */
    r = new_report();
    t = "BagIt-Version: 0.97\n";
    assert_int_equal(ev_bag__parse_bagit_txt_enc(t, strlen(t), &maj, &min, enc, sizeof(enc), r),
                     EV_EFORMAT);
    assert_true(has_message(r, "bagit-txt-invalid", "bagit.txt line 2: missing"));
    ev_report_free(r);
}

static void bag_decode_text_iconv(void **state)
{
    (void)state;
    char *out = NULL;
    size_t n = 0;
    ev_report *r = new_report();
    /* ISO-8859-1: one byte per character */
    assert_true(ev_bag__decode_text("bag-info.txt", "ISO-8859-1", "Zo\xeb\n", 4, &out, &n, r));
    assert_string_equal(out, "Zo\xc3\xab\n");
    assert_int_equal(n, 5);
    free(out);
    /* UTF-16BE without a BOM, UTF-16BE with one, UTF-16 (LE) with one: same text */
    static const char be[] = "\0a\0\n\0\xe9";
    static const char bebom[] = "\xfe\xff\0a\0\n\0\xe9";
    static const char lebom[] = "\xff\xfe" "a\0\n\0\xe9\0";
    assert_true(ev_bag__decode_text("m.txt", "UTF-16BE", be, 6, &out, &n, r));
    assert_string_equal(out, "a\n\xc3\xa9");
    free(out);
    assert_true(ev_bag__decode_text("m.txt", "UTF-16BE", bebom, 8, &out, &n, r));
    assert_string_equal(out, "a\n\xc3\xa9");
    free(out);
    assert_true(ev_bag__decode_text("m.txt", "UTF-16", lebom, 8, &out, &n, r));
    assert_string_equal(out, "a\n\xc3\xa9");
    free(out);
    assert_int_equal(r->nproblems, 0);
    /* more than twice the input: the output buffer grows (CP1252 0x80 is 3 bytes of UTF-8) */
    char euros[300];
    memset(euros, 0x80, sizeof(euros));
    assert_true(ev_bag__decode_text("bag-info.txt", "CP1252", euros, sizeof(euros), &out, &n, r));
    assert_int_equal(n, 900);
    assert_memory_equal(out + 897, "\xe2\x82\xac", 3);
    free(out);
    /* a lone surrogate on line 2 is an invalid sequence */
    assert_false(ev_bag__decode_text("fetch.txt", "UTF-16BE", "\0a\0\n\xd8\0\0a", 8, &out, &n, r));
    assert_true(has_message(r, "tag-encoding-invalid", "fetch.txt line 2: byte 5"));
    /* half a character on line 2: named with file and line */
    assert_false(ev_bag__decode_text("manifest-md5.txt", "UTF-16BE", be, 5, &out, &n, r));
    assert_null(out);
    assert_true(has_message(r, "tag-encoding-invalid", "manifest-md5.txt line 2"));
    ev_report_free(r);
    /* UTF-8: checked in place, nothing allocated; a bad byte names its line */
    r = new_report();
    assert_true(ev_bag__decode_text("x.txt", "UTF-8", "ok\n", 3, &out, &n, r));
    assert_null(out);
    assert_false(ev_bag__decode_text("x.txt", "utf8", "ok\nok\n\xff\n", 7, &out, &n, r));
    assert_true(has_message(r, "tag-not-utf8", "x.txt line 3"));
    ev_report_free(r);
}

static void bag_resolve_path_by_name(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
        bool changed, escapes;
    } cases[] = {
        { "./data/a", "data/a", true, false },
        { "././data/a", "data/a", true, false },
        { "data/./a", "data/a", true, false },
        { "data/x/../a", "data/a", true, false },
        { "data/../bagit.txt", "bagit.txt", true, false },
        { "data/a", NULL, false, false },
        { "../x", NULL, true, true },
        { "data/../../x", NULL, true, true },
        { "./", NULL, false, false },
        { "data/..", NULL, true, true },
        { "/etc/x", NULL, false, false },
        { "data//a/./b", NULL, false, false },
        { "", NULL, false, false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool changed, escapes;
        char *s = ev_bag__resolve_path(cases[i].in, &changed, &escapes);
        if (cases[i].out) {
            assert_non_null(s);
            assert_string_equal(s, cases[i].out);
        } else if (s) {
            fail_msg("'%s' gave '%s'", cases[i].in, s);
        }
        if (changed != cases[i].changed || escapes != cases[i].escapes)
            fail_msg("'%s': changed %d escapes %d", cases[i].in, changed, escapes);
        free(s);
    }
}

static void bag_manifest_legacy_lines(void **state)
{
    (void)state;
    ev_manifest m;
    memset(&m, 0, sizeof(m));
    m.filename = strdup("manifest-md5.txt");
    strcpy(m.alg, "md5");
    m.slot = EV_HASH_MD5;
#define M32 "d41d8cd98f00b204e9800998ecf8427e"
    const char *text = M32 "  ./data/a\n"
                       M32 "  ./data/b\n"
                       M32 " *data/c\n"
                       M32 "\t*./data/d\n"
                       M32 "  data/x/../e\n"
                       M32 "  data/../bagit.txt\n"
                       M32 "  ../../../README.md\n";
    ev_report *r = new_report();
    assert_int_equal(ev_bag__parse_manifest(&m, text, strlen(text), r), EV_OK);
    assert_int_equal(m.n, 7);
    assert_string_equal(m.entries[0].path, "data/a");
    assert_string_equal(m.entries[1].path, "data/b");
    assert_string_equal(m.entries[2].path, "data/c");
    assert_string_equal(m.entries[3].path, "data/d");
    assert_string_equal(m.entries[4].path, "data/e");
    /* left as written: the safety rules refuse them (outside data/, outside the bag) */
    assert_string_equal(m.entries[5].path, "data/../bagit.txt");
    assert_string_equal(m.entries[6].path, "../../../README.md");
    /* one warning per kind and manifest, naming the first line and the count */
    assert_true(has_message(r, "manifest-dot-slash", "manifest-md5.txt line 1 (and 2 more lines)"));
    assert_true(has_message(r, "manifest-md5sum-style", "manifest-md5.txt line 3 (and 1 more line)"));
    assert_true(has_message(r, "manifest-path-relative", "manifest-md5.txt line 5:"));
    assert_int_equal(r->nproblems, 3);
    ev_report_free(r);
    ev_bag__manifest_free(&m);
    /* a tag manifest: "./bagit.txt" is bagit.txt; "./data/x" stays (not a tag file) */
    memset(&m, 0, sizeof(m));
    m.filename = strdup("tagmanifest-md5.txt");
    strcpy(m.alg, "md5");
    m.slot = EV_HASH_MD5;
    m.is_tag = true;
    text = M32 "  ./bagit.txt\n" M32 "  ./data/x\n";
    r = new_report();
    assert_int_equal(ev_bag__parse_manifest(&m, text, strlen(text), r), EV_OK);
    assert_string_equal(m.entries[0].path, "bagit.txt");
    assert_string_equal(m.entries[1].path, "./data/x");
    ev_report_free(r);
    ev_bag__manifest_free(&m);
}

static void bag_system_files(void **state)
{
    (void)state;
    assert_non_null(ev_bag__system_file("data/.DS_Store"));
    assert_non_null(ev_bag__system_file("data/a/thumbs.db"));
    assert_non_null(ev_bag__system_file("data/Desktop.ini"));
    assert_non_null(ev_bag__system_file("data/._photo.jpg"));
    assert_non_null(ev_bag__system_file("data/__MACOSX/photo.jpg"));
    assert_null(ev_bag__system_file("data/photo.jpg"));
    assert_null(ev_bag__system_file("data/._"));
    assert_null(ev_bag__system_file("data/my__MACOSX/x"));
    assert_null(ev_bag__system_file("data/DS_Store"));
}

/* A bag of one or two payload files, checked by bag_check with the given
 * bagit.txt and manifests (name, text); returns the report. */
static ev_report *check_bag(const char *bagit, const char *const *mf, size_t nmf)
{
    ev_report *r = new_report();
    static const ev_bag_name names[] = { { "data/a", 0, 1 }, { "data/b", 1, 1 } };
    ev_bag_expect exp[2];
    memset(exp, 0, sizeof(exp));
    ev_bag_check k;
    ev_bag__check_init(&k, r);
    k.all = names;
    k.nall = 2;
    k.payload = names;
    k.npayload = 2;
    k.payload_bytes = 2;
    k.exp = exp;
    k.nexp = 2;
    ev_bag__check_bagit_txt(&k, bagit, strlen(bagit), NULL);
    for (size_t i = 0; i < nmf; i += 2) {
        bool is_tag;
        char alg[32];
        assert_true(ev_bag__is_manifest_name(mf[i], &is_tag, alg, sizeof(alg)));
        assert_int_equal(ev_bag__check_add_manifest(&k, mf[i], is_tag, alg, mf[i + 1],
                                                    strlen(mf[i + 1])), EV_OK);
    }
    ev_bag__check_manifest_set(&k);
    assert_int_equal(ev_bag__check_complete(&k), EV_OK);
    ev_bag__check_free(&k);
    return r;
}

#define BAGIT097 "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n"
#define S40 "da39a3ee5e6b4b0d3255bfef95601890afd80709"

static void bag_check_legacy_rules(void **state)
{
    (void)state;
    /* a repeated identical line: a warning before 1.0, an error in 1.0 */
    const char *dup[] = { "manifest-md5.txt", M32 "  data/a\n" M32 "  data/b\n" M32 "  data/a\n" };
    ev_report *r = check_bag(BAGIT097, dup, 2);
    assert_true(has_message(r, "manifest-duplicate", "manifest-md5.txt line 3 repeats line 1"));
    assert_false(has_code(r, "manifest-duplicate", EV_SEVERITY_ERROR));
    ev_report_free(r);
    r = check_bag(EV_BAGIT_TXT, dup, 2);
    assert_true(has_code(r, "manifest-duplicate", EV_SEVERITY_ERROR));
    assert_true(has_message(r, "manifest-duplicate", "manifest-md5.txt line 3"));
    ev_report_free(r);
    /* a different checksum: an error in every version */
    const char *conflict[] = { "manifest-md5.txt",
                               M32 "  data/a\n" M32 "  data/b\n" "00000000000000000000000000000000  data/a\n" };
    r = check_bag(BAGIT097, conflict, 2);
    assert_true(has_code(r, "manifest-duplicate", EV_SEVERITY_ERROR));
    ev_report_free(r);
    /* before 1.0 a file needs one manifest, not every one */
    const char *two[] = { "manifest-md5.txt", M32 "  data/a\n" M32 "  data/b\n",
                          "manifest-sha1.txt", S40 "  data/a\n" };
    r = check_bag(BAGIT097, two, 4);
    assert_false(has_code(r, "not-in-manifest", EV_SEVERITY_ERROR));
    ev_report_free(r);
    r = check_bag(EV_BAGIT_TXT, two, 4);
    assert_true(has_code(r, "not-in-manifest", EV_SEVERITY_ERROR));
    ev_report_free(r);
    /* a UTF-16BE manifest is decoded before it is read; a missing file names its line */
    const char *ascii = M32 "  data/z\n";
    size_t alen = strlen(ascii);
    char u16[128];
    for (size_t i = 0; i < alen; i++) {
        u16[2 * i] = '\0';
        u16[2 * i + 1] = ascii[i];
    }
    ev_report *r2 = new_report();
    static const ev_bag_name names[] = { { "data/a", 0, 1 }, { "data/b", 1, 1 } };
    ev_bag_expect exp[2];
    memset(exp, 0, sizeof(exp));
    ev_bag_check k;
    ev_bag__check_init(&k, r2);
    k.all = names;
    k.nall = 2;
    k.payload = names;
    k.npayload = 2;
    k.exp = exp;
    k.nexp = 2;
    const char *bt = "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-16BE\n";
    ev_bag__check_bagit_txt(&k, bt, strlen(bt), NULL);
    assert_int_equal(ev_bag__check_add_manifest(&k, "manifest-md5.txt", false, "md5", u16,
                                                2 * alen), EV_OK);
    assert_int_equal(k.nmf, 1);
    assert_int_equal(k.mf[0].n, 1);
    assert_string_equal(k.mf[0].entries[0].path, "data/z");
    assert_int_equal(ev_bag__check_complete(&k), EV_OK);
    assert_true(has_message(r2, "missing", "manifest-md5.txt line 1: 'data/z'"));
    ev_bag__check_free(&k);
    ev_report_free(r2);
}

/* bag-info.txt as bag_check reads it: in a 1.0 bag in ISO-8859-1, and as
 * package-info.txt in a 0.93-0.95 bag; every problem names the file that
 * was read and its line. */
static void bag_check_info_file(void **state)
{
    (void)state;
    static const ev_bag_name only_pkg[] = { { "bagit.txt", 0, 1 }, { "data/a", 1, 1 },
                                            { "package-info.txt", 2, 1 } };
    static const ev_bag_name both[] = { { "bag-info.txt", 0, 1 }, { "bagit.txt", 1, 1 },
                                        { "data/a", 2, 1 }, { "package-info.txt", 3, 1 } };
    static const struct {
        const char *bagit;
        const ev_bag_name *all;
        size_t nall;
        const char *want;
    } cases[] = {
        { "BagIt-Version: 0.95\nTag-File-Character-Encoding: UTF-8\n", only_pkg, 3, "package-info.txt" },
        { "BagIt-Version: 0.93\nTag-File-Character-Encoding: UTF-8\n", only_pkg, 3, "package-info.txt" },
        { "BagIt-Version: 0.96\nTag-File-Character-Encoding: UTF-8\n", only_pkg, 3, "bag-info.txt" },
        { EV_BAGIT_TXT, only_pkg, 3, "bag-info.txt" },
        { "BagIt-Version: 0.95\nTag-File-Character-Encoding: UTF-8\n", both, 4, "bag-info.txt" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ev_report *r = new_report();
        ev_bag_check k;
        ev_bag__check_init(&k, r);
        k.all = cases[i].all;
        k.nall = cases[i].nall;
        ev_bag__check_bagit_txt(&k, cases[i].bagit, strlen(cases[i].bagit), NULL);
        assert_string_equal(ev_bag__check_info_name(&k), cases[i].want);
        ev_bag__check_free(&k);
        ev_report_free(r);
    }
    /* package-info.txt of a 0.95 bag: read as bag-info.txt, with a warning
     * naming the old name; its problems name it and the line */
    static const ev_bag_name payload[] = { { "data/a", 1, 1 } };
    ev_report *r = new_report();
    ev_bag_check k;
    ev_bag__check_init(&k, r);
    k.all = only_pkg;
    k.nall = 3;
    k.payload = payload;
    k.npayload = 1;
    k.payload_bytes = 1;
    const char *bt = "BagIt-Version: 0.95\nTag-File-Character-Encoding: UTF-8\n";
    ev_bag__check_bagit_txt(&k, bt, strlen(bt), NULL);
    const char *pi = "Contact-Name: Edna\nno colon here\nPayload-Oxum: 7.3\n";
    ev_bag__check_baginfo(&k, pi, strlen(pi));
    assert_true(has_message(r, "baginfo-old-name", "package-info.txt is what BagIt 0.95 called "
                                                   "bag-info.txt"));
    assert_true(has_code(r, "baginfo-old-name", EV_SEVERITY_WARNING));
    assert_true(has_message(r, "baginfo-bad-line", "package-info.txt line 2"));
    assert_true(has_message(r, "oxum-mismatch", "package-info.txt line 3: Payload-Oxum says 7 "
                                                "bytes in 3 files"));
    assert_string_equal(ev_bag__baginfo_get(&k.bi, "Contact-Name"), "Edna");
    for (size_t i = 0; i < r->nproblems; i++)
        assert_string_equal(r->problems[i].path, i == 0 ? "bagit.txt" : "package-info.txt");
    ev_bag__check_free(&k);
    ev_report_free(r);
    /* bag-info.txt of a 1.0 bag in ISO-8859-1: decoded; no old-name warning */
    r = new_report();
    ev_bag__check_init(&k, r);
    k.all = both;
    k.nall = 4;
    k.payload = payload;
    k.npayload = 1;
    k.payload_bytes = 1;
    bt = "BagIt-Version: 1.0\nTag-File-Character-Encoding: ISO-8859-1\n";
    ev_bag__check_bagit_txt(&k, bt, strlen(bt), NULL);
    assert_true(has_message(r, "tag-encoding-not-utf8", "bagit.txt line 2: the tag files are in "
                                                       "ISO-8859-1"));
    const char *bi = "Contact-Name: Zo\xeb\nSource-Organization:Biblioth\xe8que\n";
    ev_bag__check_baginfo(&k, bi, strlen(bi));
    assert_string_equal(ev_bag__baginfo_get(&k.bi, "Contact-Name"), "Zo\xc3\xab");
    assert_true(has_message(r, "baginfo-no-space", "bag-info.txt line 2"));
    assert_false(has_code(r, "baginfo-old-name", EV_SEVERITY_WARNING));
    ev_bag__check_free(&k);
    ev_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bag_encode_path_only_pct_cr_lf),
        cmocka_unit_test(bag_decode_path_only_three_escapes),
        cmocka_unit_test(bag_encode_decode_round_trip),
        cmocka_unit_test(bag_unsafe_reason_refuses_escapes),
        cmocka_unit_test(bag_nfc_normalizes_and_rejects_bad_utf8),
        cmocka_unit_test(bag_normalize_alg_per_rfc),
        cmocka_unit_test(bag_manifest_names),
        cmocka_unit_test(bag_lines_accept_lf_cr_crlf),
        cmocka_unit_test(bag_check_text_bom_utf8_nul),
        cmocka_unit_test(bag_bagit_txt_rules),
        cmocka_unit_test(bag_manifest_parses_rfc_lines),
        cmocka_unit_test(bag_manifest_reports_bad_lines),
        cmocka_unit_test(bag_baginfo_parse_rules),
        cmocka_unit_test(bag_baginfo_write_is_one_line_per_element),
        cmocka_unit_test(bag_oxum_parse_and_overflow),
        cmocka_unit_test(bag_fetch_parse),
        cmocka_unit_test(bag_parsers_survive_random_input),
        cmocka_unit_test(bag_bagit_txt_legacy_encodings),
        cmocka_unit_test(bag_decode_text_iconv),
        cmocka_unit_test(bag_resolve_path_by_name),
        cmocka_unit_test(bag_manifest_legacy_lines),
        cmocka_unit_test(bag_system_files),
        cmocka_unit_test(bag_check_legacy_rules),
        cmocka_unit_test(bag_check_info_file),
    };
    return cmocka_run_group_tests_name("bag", tests, NULL, NULL);
}
