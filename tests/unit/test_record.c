/* Unit tests for src/record.c: deterministic JSON output and the
 * hash-chained custody log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hash.h"
#include "record.h"
#include "report.h"
#include "testutil.h"

#define M64 "1111111111111111111111111111111111111111111111111111111111111111"
#define R64 "2222222222222222222222222222222222222222222222222222222222222222"

static void record_dump_is_deterministic(void **state)
{
    (void)state;
    json_t *o = json_object();
    json_object_set_new(o, "zeta", json_integer(1));
    json_object_set_new(o, "alpha", json_string("caf\xc3\xa9 \"q\"\n"));
    json_object_set_new(o, "mid", json_null());
    size_t len = 0;
    char *a = ev_record__dump(o, &len);
    char *b = ev_record__dump(o, NULL);
    assert_non_null(a);
    assert_string_equal(a, b);
    assert_int_equal(len, strlen(a));
    assert_int_equal(a[len - 1], '\n');
    /* insertion order, not sorted */
    assert_true(strstr(a, "\"zeta\"") < strstr(a, "\"alpha\""));
    json_error_t je;
    json_t *back = json_loads(a, 0, &je);
    assert_non_null(back);
    assert_true(json_equal(back, o));
    json_decref(back);
    free(a);
    free(b);
    json_decref(o);
}

static char *line(long seq, const char *prev, const char *actor, const char *note)
{
    ev_custody_event e = { EV_CUSTODY_EVENT_VERSION, "received", actor, "Org", note };
    return ev_custody__line(seq, "2024-01-02T03:04:05Z", &e, M64, R64, prev);
}

static void record_custody_line_format(void **state)
{
    (void)state;
    char *l = line(1, NULL, "Jo \"Quote\"\nSmith \xe2\x9c\x93", NULL);
    assert_non_null(l);
    size_t n = strlen(l);
    assert_int_equal(l[n - 1], '\n');
    assert_null(memchr(l, '\n', n - 1)); /* one line, whatever the actor holds */
    json_t *o = json_loadb(l, n, 0, NULL);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "seq")), 1);
    assert_true(json_is_null(json_object_get(o, "prev_sha256")));
    assert_string_equal(json_string_value(json_object_get(o, "actor")), "Jo \"Quote\"\nSmith \xe2\x9c\x93");
    assert_string_equal(json_string_value(json_object_get(o, "manifest_sha256")), M64);
    assert_string_equal(json_string_value(json_object_get(o, "record_sha256")), R64);
    assert_string_equal(json_string_value(json_object_get(o, "action")), "received");
    assert_null(json_object_get(o, "note"));
    /* fixed key order: seq first */
    assert_memory_equal(l, "{\"seq\":1,", 9);
    json_decref(o);
    free(l);
    l = line(2, M64, "A", "a note");
    o = json_loads(l, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "prev_sha256")), M64);
    assert_string_equal(json_string_value(json_object_get(o, "note")), "a note");
    json_decref(o);
    free(l);
}

/* A chain of n lines, each linked to the previous one. Caller frees. */
static char *chain(int n)
{
    char *buf = calloc(1, 1);
    size_t len = 0;
    char prev[65] = "";
    for (int i = 1; i <= n; i++) {
        char actor[32];
        snprintf(actor, sizeof(actor), "actor-%d", i);
        char *l = line(i, i == 1 ? NULL : prev, actor, NULL);
        size_t ll = strlen(l);
        ev_hash__sha256_hex(prev, l, ll - 1);
        buf = realloc(buf, len + ll + 1);
        memcpy(buf + len, l, ll + 1);
        len += ll;
        free(l);
    }
    return buf;
}

static void record_custody_chain_checks(void **state)
{
    (void)state;
    char *c = chain(3);
    size_t n = 99, bad = 99;
    char last[65];
    json_t *lastev = NULL, *events = NULL;
    ev_report *r = NULL;
    ev_report__new(&r, "evidence.verify");
    assert_int_equal(ev_custody__check(c, strlen(c), r, &n, last, &lastev, &events, &bad), EV_OK);
    assert_int_equal(n, 3);
    assert_int_equal(bad, 0);
    assert_int_equal(r->nproblems, 0);
    assert_string_equal(json_string_value(json_object_get(lastev, "actor")), "actor-3");
    /* last_sha is the SHA-256 of the last line without its newline */
    const char *l3 = strstr(c, "{\"seq\":3");
    char want[65];
    ev_hash__sha256_hex(want, l3, strlen(l3) - 1);
    assert_string_equal(last, want);
    assert_int_equal(json_array_size(events), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *e = json_array_get(events, i);
        assert_true(json_is_true(json_object_get(e, "link_ok")));
        assert_int_equal(json_integer_value(json_object_get(e, "line")), (json_int_t)i + 1);
    }
    json_decref(lastev);
    json_decref(events);
    ev_report_free(r);
    free(c);
}

static size_t bad_links(const char *text, size_t *nev)
{
    size_t n, bad;
    char last[65];
    ev_report *r = NULL;
    ev_report__new(&r, "evidence.verify");
    ev_custody__check(text, strlen(text), r, &n, last, NULL, NULL, &bad);
    assert_int_equal(ev_report__count_code(r, "custody-chain-broken"), bad);
    ev_report_free(r);
    if (nev)
        *nev = n;
    return bad;
}

static void record_custody_detects_tampering(void **state)
{
    (void)state;
    char *c = chain(3);
    size_t n;
    /* an edit in line 1 breaks the link of line 2 */
    char *e1 = strdup(c);
    memcpy(strstr(e1, "actor-1"), "actor-X", 7);
    assert_int_equal(bad_links(e1, &n), 1);
    assert_int_equal(n, 3);
    free(e1);
    /* a removed middle line: seq and link both break at the next */
    char *l2 = strstr(c, "{\"seq\":2");
    char *l3 = strstr(c, "{\"seq\":3");
    char *rm = malloc(strlen(c) + 1);
    memcpy(rm, c, (size_t)(l2 - c));
    strcpy(rm + (l2 - c), l3);
    assert_true(bad_links(rm, &n) >= 1);
    free(rm);
    /* a truncated log (no final newline) */
    char *tr = strdup(c);
    tr[strlen(tr) - 1] = '\0';
    assert_int_equal(bad_links(tr, NULL), 1);
    free(tr);
    /* a line that is not JSON, a first line with a prev, seq not starting at 1 */
    assert_int_equal(bad_links("not json\n", NULL), 1);
    char *first = line(1, M64, "x", NULL);
    assert_int_equal(bad_links(first, NULL), 1);
    free(first);
    char *two = line(2, NULL, "x", NULL);
    assert_int_equal(bad_links(two, NULL), 1);
    free(two);
    assert_int_equal(bad_links("[1,2,3]\n", NULL), 1);
    /* empty log */
    assert_int_equal(bad_links("", &n), 0);
    assert_int_equal(n, 0);
    free(c);
}

static void record_custody_survives_hostile_lines(void **state)
{
    (void)state;
    /* deep nesting, a huge line, NULs and blank lines: no crash, all counted */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 2);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\n';
    deep[2 * depth + 1] = '\0';
    size_t n;
    assert_int_equal(bad_links(deep, &n), 1);
    free(deep);
    char nul[] = "{\"seq\":1}\0garbage\n\n\n";
    size_t bad;
    char last[65];
    ev_custody__check(nul, sizeof(nul) - 1, NULL, &n, last, NULL, NULL, &bad);
    assert_int_equal(n, 3);
    assert_true(bad >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record_dump_is_deterministic),
        cmocka_unit_test(record_custody_line_format),
        cmocka_unit_test(record_custody_chain_checks),
        cmocka_unit_test(record_custody_detects_tampering),
        cmocka_unit_test(record_custody_survives_hostile_lines),
    };
    return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
