/* Unit tests for src/record.c: deterministic JSON output and the
 * hash-chained custody log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evidence/bundle.h"
#include "base/hash.h"
#include "record/record.h"
#include "record/record_check.h"
#include "record/record_read.h"
#include "base/internal.h"
#include "base/report.h"
#include "base/spill.h"
#include "container/container.h"
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

/* ---- record_check.c ---------------------------------------------------------------- */

static size_t count_code(const ev_report *r, const char *code)
{
    return ev_report__count_code(r, code);
}

static void record_utc_time_grammar(void **state)
{
    (void)state;
    static const char *const good[] = { "2024-01-02T03:04:05Z", "2024-02-29T23:59:60Z",
                                        "2000-02-29T00:00:00.123456789Z", "1999-12-31T23:59:59.5Z" };
    static const char *const bad[] = { "yesterday", "", "2024-01-02T03:04:05", "2024-01-02 03:04:05Z",
                                       "2024-01-02T03:04:05+00:00", "2023-02-29T00:00:00Z",
                                       "1900-02-29T00:00:00Z", "2024-13-01T00:00:00Z",
                                       "2024-04-31T00:00:00Z", "2024-01-02T24:00:00Z",
                                       "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05.1234567890Z",
                                       "2024-01-02t03:04:05z", "2024-01-02T03:04:05Zx",
                                       "2024-1-02T03:04:05Z", "2024-01-00T03:04:05Z" };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(ev_record__utc_time_ok(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (ev_record__utc_time_ok(bad[i]))
            fail_msg("'%s' accepted as an RFC 3339 UTC time", bad[i]);
    assert_false(ev_record__utc_time_ok(NULL));
    assert_true(ev_record__custody_action_ok("created"));
    assert_true(ev_record__custody_action_ok("signed"));
    assert_false(ev_record__custody_action_ok("teleported"));
    assert_false(ev_record__custody_action_ok("Created"));
    assert_false(ev_record__custody_action_ok(NULL));
}

static void record_mime_families(void **state)
{
    (void)state;
    /* contradictions */
    assert_true(ev_record__mime_contradicts("application/x-msdownload", "image/jpeg"));
    assert_true(ev_record__mime_contradicts("image/jpeg", "text/plain"));
    assert_true(ev_record__mime_contradicts("application/pdf", "image/png"));
    assert_true(ev_record__mime_contradicts("video/mp4", "application/x-dosexec"));
    assert_true(ev_record__mime_contradicts("application/vnd.ms-excel", "image/jpeg"));
    assert_true(ev_record__mime_contradicts("text/plain", "application/zip"));
    /* different names, one family */
    assert_false(ev_record__mime_contradicts("video/mp4", "video/quicktime"));
    assert_false(ev_record__mime_contradicts("audio/x-wav", "audio/wav"));
    assert_false(ev_record__mime_contradicts("audio/mp4", "video/mp4"));
    assert_false(ev_record__mime_contradicts("video/x-matroska", "application/x-matroska"));
    assert_false(ev_record__mime_contradicts("application/zip",
                                             "application/vnd.openxmlformats-officedocument."
                                             "wordprocessingml.document"));
    assert_false(ev_record__mime_contradicts("image/jpeg", "IMAGE/JPEG; charset=binary"));
    assert_false(ev_record__mime_contradicts("application/json", "text/plain"));
    /* no claim, and types nobody can place */
    assert_false(ev_record__mime_contradicts("application/octet-stream", "image/jpeg"));
    assert_false(ev_record__mime_contradicts("image/jpeg", "application/octet-stream"));
    assert_false(ev_record__mime_contradicts("application/x-empty", "text/plain"));
    assert_false(ev_record__mime_contradicts("text/plain", "application/x-wine-extension-ini"));
    assert_false(ev_record__mime_contradicts("application/x-foo", "application/x-bar"));
    assert_string_equal(ev_record__mime_family("application/x-msdownload"), "executable");
    assert_string_equal(ev_record__mime_family(NULL), "unknown");
}

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define GOOD_RECORD                                                                              \
    "{\"format\":\"evidence-bundle\",\"format_version\":1,"                                     \
    "\"bundle_id\":\"urn:uuid:12345678-1234-4123-8123-123456789abc\","                          \
    "\"created\":\"2024-01-02T03:04:05Z\","                                                     \
    "\"tool\":{\"name\":\"evidence\",\"version\":\"0.1.0\",\"libraries\":{\"x\":\"1\"}},"        \
    "\"case\":{\"reference\":\"C/1\",\"organisation\":\"G\",\"operation\":null,"                \
    "\"description\":null},"                                                                    \
    "\"exported_by\":{\"name\":\"O\",\"identifier\":null,\"organisation\":\"G\",\"role\":null}," \
    "\"items\":[{\"id\":\"item-0001\",\"exhibit\":\"JS/1\",\"role\":\"master\","                 \
    "\"path\":\"data/JS_1/a.jpg\",\"original_name\":\"a.jpg\",\"size\":3,"                       \
    "\"hashes\":{\"sha256\":\"" SHA_A "\"},\"mime\":\"image/jpeg\"}]}"
#define GOOD_BAGINFO                                                                             \
    "Source-Organization: G\nContact-Name: O\nExternal-Identifier: C/1\n"                       \
    "Evidence-Bundle-Id: urn:uuid:12345678-1234-4123-8123-123456789abc\n"                       \
    "Evidence-Case-Reference: C/1\nEvidence-Exhibit: JS/1\n"

static ev_report *check_bytes(const char *rec, const char *bi)
{
    ev_report *r = NULL;
    assert_int_equal(ev_report__new(&r, "evidence.verify"), EV_OK);
    assert_int_equal(ev_record__check_bytes(r, rec, strlen(rec), bi, bi ? strlen(bi) : 0), EV_OK);
    return r;
}

static char *replace(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    assert_non_null(p);
    size_t a = (size_t)(p - s), fl = strlen(from), tl = strlen(to), n = strlen(s);
    char *o = malloc(n - fl + tl + 1);
    memcpy(o, s, a);
    memcpy(o + a, to, tl);
    memcpy(o + a + tl, p + fl, n - a - fl + 1);
    return o;
}

static void record_schema_and_baginfo(void **state)
{
    (void)state;
    /* the good record raises nothing */
    ev_report *r = check_bytes(GOOD_RECORD, GOOD_BAGINFO);
    if (r->nproblems)
        fail_msg("good record: %s: %s", r->problems[0].code, r->problems[0].message);
    ev_report_free(r);
    /* wrong types at the top */
    char *t1 = replace(GOOD_RECORD, "\"format\":\"evidence-bundle\"", "\"format\":5");
    char *t2 = replace(t1, "\"created\":\"2024-01-02T03:04:05Z\"", "\"created\":[]");
    r = check_bytes(t2, GOOD_BAGINFO);
    assert_int_equal(count_code(r, "record-schema"), 2);
    ev_report_free(r);
    free(t1);
    free(t2);
    /* an item's fields */
    t1 = replace(GOOD_RECORD, "\"size\":3", "\"size\":-3");
    t2 = replace(t1, "\"mime\":\"image/jpeg\"", "\"mime\":\"not a type\"");
    r = check_bytes(t2, GOOD_BAGINFO);
    assert_int_equal(count_code(r, "record-schema"), 2);
    ev_report_free(r);
    free(t1);
    free(t2);
    /* case and exhibit against bag-info.txt */
    t1 = replace(GOOD_RECORD, "\"reference\":\"C/1\"", "\"reference\":\"C/2\"");
    r = check_bytes(t1, GOOD_BAGINFO);
    assert_int_equal(count_code(r, "record-baginfo-mismatch"), 2); /* two labels say C/1 */
    ev_report_free(r);
    free(t1);
    t1 = replace(GOOD_RECORD, "\"exhibit\":\"JS/1\"", "\"exhibit\":\"JS/2\"");
    r = check_bytes(t1, GOOD_BAGINFO);
    assert_int_equal(count_code(r, "record-exhibit-mismatch"), 2);
    ev_report_free(r);
    free(t1);
    t1 = replace(GOOD_RECORD, "\"operation\":null", "\"operation\":\"Op\"");
    r = check_bytes(t1, GOOD_BAGINFO);
    assert_int_equal(count_code(r, "record-baginfo-mismatch"), 1);
    ev_report_free(r);
    free(t1);
    /* two items for one file, two items with one id */
    t1 = replace(GOOD_RECORD, "}]}",
                 "},{\"id\":\"item-0001\",\"exhibit\":\"JS/1\",\"role\":\"master\","
                 "\"path\":\"data/JS_1/a.jpg\",\"original_name\":\"a.jpg\",\"size\":3,"
                 "\"hashes\":{\"sha256\":\"" SHA_A "\"},\"mime\":\"image/jpeg\"}]}");
    r = check_bytes(t1, GOOD_BAGINFO);
    assert_int_equal(count_code(r, "record-item-duplicate"), 2);
    ev_report_free(r);
    free(t1);
}

static void record_problems_are_capped(void **state)
{
    (void)state;
    /* 5,000 items with a bad size: 100 listed, then one that counts the rest */
    char *many = malloc(5000 * 32 + 64);
    size_t n = (size_t)sprintf(many, "{\"items\":[");
    for (int i = 0; i < 5000; i++)
        n += (size_t)sprintf(many + n, "%s{\"size\":\"x\"}", i ? "," : "");
    sprintf(many + n, "]}");
    ev_report *r = check_bytes(many, NULL);
    assert_true(r->nproblems < 200);
    assert_int_equal(count_code(r, "record-schema"), 101);
    ev_report_free(r);
    free(many);
}

static void record_custody_grammar(void **state)
{
    (void)state;
    char *l1 = line(1, NULL, "Jo", NULL);
    ev_report *r = NULL;
    assert_int_equal(ev_report__new(&r, "evidence.verify"), EV_OK);
    size_t n, bad;
    char last[65];
    ev_custody__check(l1, strlen(l1), r, &n, last, NULL, NULL, &bad);
    assert_int_equal(r->nproblems, 0);
    ev_report_free(r);
    char *t1 = replace(l1, "\"2024-01-02T03:04:05Z\"", "\"yesterday\"");
    char *t2 = replace(t1, "\"received\"", "\"teleported\"");
    char *t3 = replace(t2, "\"actor\":\"Jo\"", "\"actor\":\"\"");
    assert_int_equal(ev_report__new(&r, "evidence.verify"), EV_OK);
    ev_custody__check(t3, strlen(t3), r, &n, last, NULL, NULL, &bad);
    assert_int_equal(bad, 0); /* the chain is fine; the event is not */
    assert_int_equal(count_code(r, "custody-time-invalid"), 1);
    assert_int_equal(count_code(r, "custody-action-unknown"), 1);
    assert_int_equal(count_code(r, "custody-event-invalid"), 1);
    ev_report_free(r);
    free(l1);
    free(t1);
    free(t2);
    free(t3);
}

/* a small folder bundle of three files made through the public API */
static char *make_bundle(char **dir_out)
{
    char *dir = tu_mkdtemp("rec");
    char *src = tu_join(dir, "in");
    char *f;
    f = tu_join(src, "a.txt");
    tu_write(f, "alpha\n", 6);
    free(f);
    f = tu_join(src, "b.txt");
    tu_write(f, "beta\n", 5);
    free(f);
    f = tu_join(src, "c.bin");
    tu_write(f, "\x01\x02\x03", 3);
    free(f);
    ev_writer_options o;
    ev_writer_options_init(&o, EV_WRITER_OPTIONS_VERSION);
    o.flags = EV_WRITER_NO_MEDIA;
    o.format = EV_FORMAT_DIR;
    o.case_ref = "C/1";
    ev_writer *w = NULL;
    assert_int_equal(ev_writer_new(&w, &o), EV_OK);
    assert_int_equal(ev_writer_add(w, src, "EX1"), EV_OK);
    char *out = tu_join(dir, "bag");
    assert_int_equal(ev_writer_seal(w, out), EV_OK);
    ev_writer_free(w);
    free(src);
    *dir_out = dir;
    return out;
}

static ev_report *verify_with(const char *bag, const ev_bundle_options *o)
{
    ev_bundle *b = NULL;
    assert_int_equal(ev_bundle_new(&b, o), EV_OK);
    assert_int_equal(ev_bundle_open(b, bag), EV_OK);
    ev_report *r = NULL;
    assert_int_equal(ev_bundle_verify(&r, b, NULL), EV_OK);
    ev_bundle_free(b);
    return r;
}

static int collect_item(void *ctx, const json_t *item, size_t k)
{
    json_t *seen = ctx;
    assert_int_equal(k, json_array_size(seen));
    return json_array_append(seen, (json_t *)item) == 0 ? EV_OK : EV_ENOMEM;
}

static void collect_reset(void *ctx)
{
    json_array_clear(ctx);
}

/* A record read item by item through a temporary file (one of more than
 * 8 MiB) is handed over with its text, so that verify's other readers (the
 * views check, the disclosure root) need not inflate it again; a small one
 * is not. The text handed over is the stored text, byte for byte. The
 * custody log is within its limits only when it is there, small enough and
 * has few enough events. */
static void load_items_hands_over_text(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("rec");
    char *bag = tu_join(dir, "bag");
    assert_int_equal(tu_put(bag, "data/a.bin", "a"), 0);
    char *recf = tu_join(bag, "evidence.json");
    char *custf = tu_join(bag, "custody.jsonl");
    ev_bundle_options o;
    assert_int_equal(ev_bundle_options_init(&o, EV_BUNDLE_OPTIONS_VERSION), EV_OK);
    ev_record__limits_default(&o);
    ev_store_limits lim = { 1000, (uint64_t)1 << 30, 1000 };
    for (int big = 0; big < 2; big++) {
        size_t pad = big ? (size_t)9 << 20 : 10;
        size_t len = 0;
        char *text = malloc(pad + 256);
        assert_non_null(text);
        len = (size_t)sprintf(text, "{\"items\":[{\"id\":\"a\",\"path\":\"data/a.bin\"}],"
                                    "\"pad\":\"");
        memset(text + len, 'x', pad);
        len += pad;
        len += (size_t)sprintf(text + len, "\"}\n");
        assert_int_equal(tu_write(recf, text, len), 0);
        assert_int_equal(tu_write(custf, "{}\n{}\n", 6), 0);
        ev_report *r = NULL;
        assert_int_equal(ev_report__new(&r, "evidence.verify"), EV_OK);
        ev_store *s = NULL;
        ev_errbuf e;
        assert_int_equal(ev_store__open(&s, bag, &lim, r, &e), EV_OK);
        ev_record__slim sl;
        assert_int_equal(ev_record__slim_init(&sl), EV_OK);
        ev_spill *kept = (ev_spill *)&sl; /* set to NULL when nothing is handed over */
        json_t *head = ev_record__load_items(s, &o, r, ev_record__slim_item, ev_record__slim_reset,
                                             &sl, &kept);
        assert_non_null(head);
        assert_int_equal(sl.n, 1);
        assert_string_equal(sl.items[0].id, "a");
        if (!big) {
            assert_null(kept);
        } else {
            assert_non_null(kept);
            assert_int_equal(kept->len, len);
            char *back = malloc(len);
            assert_non_null(back);
            assert_int_equal(ev_spill__pread(kept, back, len, 0), (int64_t)len);
            assert_memory_equal(back, text, len);
            free(back);
            ev_spill__free(kept);
            free(kept);
        }
        /* two events: within the limits unless the limit is one */
        assert_true(ev_record__custody_within(s, &o));
        o.max_custody_events = 1;
        assert_false(ev_record__custody_within(s, &o));
        o.max_custody_events = 2;
        json_decref(head);
        ev_record__slim_free(&sl);
        ev_store__free(s);
        ev_report_free(r);
        free(text);
    }
    /* no custody log: the views cannot be rebuilt */
    assert_int_equal(remove(custf), 0);
    ev_store *s = NULL;
    ev_errbuf e;
    ev_store_limits lim2 = { 1000, (uint64_t)1 << 30, 1000 };
    ev_report *r = NULL;
    assert_int_equal(ev_report__new(&r, "evidence.verify"), EV_OK);
    assert_int_equal(ev_store__open(&s, bag, &lim2, r, &e), EV_OK);
    assert_false(ev_record__custody_within(s, &o));
    ev_store__free(s);
    ev_report_free(r);
    free(recf);
    free(custf);
    free(bag);
    tu_rmrf(dir);
    free(dir);
}

/* ev_record__parse reads the usual record itself and leaves anything else
 * to jansson: either way the result is what json_loadb gives (refused, or
 * the same values with the same types in the same order). */
static void expect_parse_as_jansson(const char *doc, size_t len)
{
    ev_bundle_options o;
    assert_int_equal(ev_bundle_options_init(&o, EV_BUNDLE_OPTIONS_VERSION), EV_OK);
    o.max_items = 1000; /* 0 means the default only once a bundle is made */
    ev_report *r = NULL;
    assert_int_equal(ev_report__new(&r, "evidence.verify"), EV_OK);
    json_t *got = ev_record__parse(doc, len, SIZE_MAX, &o, r);
    json_error_t je;
    json_t *want = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(want)) {
        json_decref(want);
        want = NULL;
    }
    if (!want != !got)
        fail_msg("'%.*s': jansson %s it, ev_record__parse %s it (%s)", (int)(len < 200 ? len : 200),
                 doc, want ? "takes" : "refuses", got ? "takes" : "refuses", je.text);
    if (want) {
        char *a = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
        char *b = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        assert_non_null(a);
        assert_non_null(b);
        if (strcmp(a, b))
            fail_msg("'%.*s': jansson reads %s, ev_record__parse %s", (int)len, doc, a, b);
        free(a);
        free(b);
    }
    json_decref(got);
    /* with the items given one by one: the same items, in order, once
     * each (the quick reader may give up after some: they are forgotten),
     * and the rest of the record with an empty items array */
    json_t *seen = json_array();
    assert_non_null(seen);
    json_t *head = ev_record__parse_items(doc, len, SIZE_MAX, &o, r, collect_item,
                                          collect_reset, seen);
    if (!want != !head)
        fail_msg("'%.*s': jansson %s it, ev_record__parse_items %s it", (int)(len < 200 ? len : 200),
                 doc, want ? "takes" : "refuses", head ? "takes" : "refuses");
    if (want) {
        json_t *items = json_object_get(want, "items");
        json_t *wi = json_is_array(items) ? json_deep_copy(items) : json_array();
        if (json_is_array(items))
            json_array_clear(items);
        char *a = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
        char *b = json_dumps(head, JSON_COMPACT | JSON_ENCODE_ANY);
        char *c = json_dumps(wi, JSON_COMPACT | JSON_ENCODE_ANY);
        char *d = json_dumps(seen, JSON_COMPACT | JSON_ENCODE_ANY);
        if (strcmp(a, b) || strcmp(c, d))
            fail_msg("'%.*s': jansson reads %s with items %s; ev_record__parse_items %s with "
                     "items %s", (int)len, doc, a, c, b, d);
        free(a);
        free(b);
        free(c);
        free(d);
        json_decref(wi);
    }
    json_decref(head);
    json_decref(seen);
    json_decref(want);
    ev_report_free(r);
    /* one value read quickly (an item, as the views read it): what
     * json_loadb with JSON_DECODE_ANY reads, or NULL (then it decides) */
    json_t *qv = ev_record__quick_value(doc, len);
    if (qv) {
        json_t *jv = json_loadb(doc, len, JSON_DECODE_ANY, &je);
        char *a = jv ? json_dumps(jv, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        char *b = json_dumps(qv, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!a || strcmp(a, b))
            fail_msg("'%.*s': jansson reads %s, ev_record__quick_value %s", (int)len, doc,
                     a ? a : "nothing", b);
        free(a);
        free(b);
        json_decref(jv);
        json_decref(qv);
    }
}

/* The items counted on the text before parsing: strings with escaped
 * quotes and runs of backslashes, brackets and commas inside strings. */
static void record_count_items_on_text(void **state)
{
    (void)state;
    static const struct {
        const char *doc;
        size_t want;
    } t[] = {
        { "{\"items\":[]}", 0 },
        { "{\"items\":[{}]}", 1 },
        { "{\"items\":[{\"a\":\"x\\\"],\"},{\"b\":\"\\\\\"},3]}", 3 },
        { "{\"items\":[\"\\\\\\\\\",\"\\\\\\\"]\",\"[,]\"]}", 3 },
        { "{\"x\":\"\\\"items\\\"\",\"items\":[1,2]}", 2 },
        { "{\"items\":[1,\"a,b\",{\"c\":[4,5]},[6,7]]}", 4 },
        { "{\"items\":[1,2,\"\\", 3 },
        { "{\"items\":[1,2,\"abc", 3 },
        { "{\"a\":\"\\\\\",\"items\":[1,2,3]}", 3 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        size_t got = ev_record__count_items(t[i].doc, strlen(t[i].doc));
        if (got != t[i].want)
            fail_msg("'%s': %zu items counted, not %zu", t[i].doc, got, t[i].want);
    }
}

static void record_parse_agrees_with_jansson(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{}", " {\n\t\"a\" : 1 ,\r\n \"b\":[ ]} \n", "{\"a\":{},\"b\":[{}],\"c\":[[1,2],[3]]}",
        "{\"s\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\",\"e\":\"q\\\"b\\\\s\\/n\\nr\\rt\\tb\\bf\\f\"}",
        "{\"i\":0,\"n\":-0,\"m\":-12,\"big\":999999999999999999,\"neg\":-999999999999999999}",
        "{\"t\":true,\"f\":false,\"z\":null,\"\":\"empty key\"}",
        "{\"r\":1.5}", "{\"r\":1e3}", "{\"r\":-0.0}", "{\"i\":1234567890123456789}",
        "{\"i\":9223372036854775807}", "{\"i\":9223372036854775808}", "{\"i\":-9223372036854775809}",
        "{\"u\":\"\\u00e9\"}", "{\"u\":\"\\ud83d\\ude00\"}", "{\"u\":\"\\ud83d\"}", "{\"u\":\"\\u0000\"}",
        "{\"a\":1,\"a\":2}", "{\"o\":{\"k\":1,\"k\":1}}", "{\"a\":1,\"b\":{\"a\":2}}",
        "{\"a\":01}", "{\"a\":-}", "{\"a\":+1}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":1e}",
        "{\"a\":1,}", "{,}", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "{a:1}", "{\"a\":[1,]}",
        "{\"a\":[,1]}", "{\"a\":nul}", "{\"a\":nullx}", "{\"a\":truex}", "{\"a\":1x}",
        "{\"a\":1}x", "{\"a\":1}{}", "{\"a\":1", "{\"a\":\"x", "{\"a\":\"x\\", "{\"a\":\"\\x\"}",
        "{\"a\":\"tab\there\"}", "{\"a\":\"\x01\"}", "{\"a\":\"\x7f\"}",
        "{\"a\":\"\xc0\x80\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xf5\x80\x80\x80\"}", "{\"a\":\"\xe0\x80\xaf\"}",
        "{\"a\":\"\xf0\x8f\xbf\xbf\"}", "{\"a\":\"\x80\"}", "{\"\xc3\xa9\":1,\"e\xcc\x81\":2}",
        "\xef\xbb\xbf{}", "[]", "[{}]", "\"s\"", "1", "null", "", " ", "{\"a\":[1,2,3]]",
        /* the items, given one by one */
        "{\"items\":[{\"a\":1},2,\"x\",[3],null],\"b\":1}", "{\"items\":[]}",
        "{\"items\":5}", "{\"x\":{\"items\":[1]},\"items\":[{\"items\":[2]}]}",
        "{\"items\":[{\"a\":1},{\"b\":2}],\"u\":\"\\u00e9\"}",
        "{\"items\":[1,2,\"\\u00e9\",4]}", "{\"items\":[1],\"items\":[2]}",
        "{\"items\":[1,{\"a\":1,\"a\":2}]}", "{\"items\":[1,2],\"z\":1.5}",
        "{\"items\":[1,2,]}", "{\"it\\u0065ms\":[1,2]}",
        /* values that are not objects (items, read one by one) */
        "[1,2]", "\"a\\\"b\"", "-12", "true", " null ", "[{\"a\":[]},\"x\"] ", "[1,]", "01",
        "1 2", "[\"\\u00e9\"]", "1.5",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        expect_parse_as_jansson(docs[i], strlen(docs[i]));
    /* a NUL byte inside the text, and nesting past the quick reader's depth */
    expect_parse_as_jansson("{\"a\":\"x\0y\"}", 11);
    expect_parse_as_jansson("{\"a\":1}\0", 8);
    char deep[700];
    size_t n = 0;
    deep[n++] = '{';
    for (int d = 0; d < 90; d++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "\"k\":{");
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "\"z\":1");
    for (int d = 0; d < 91; d++)
        deep[n++] = '}';
    expect_parse_as_jansson(deep, n);
    /* a key long enough for the heap, one with escapes, and a record as
     * the writer makes it */
    char key[300];
    memset(key, 'k', sizeof(key));
    char doc[600];
    n = (size_t)snprintf(doc, sizeof(doc), "{\"%.*s\":1,\"%.*s\":2,\"k\\n\":3,\"k\\n\":4}", 200,
                         key, 201, key);
    expect_parse_as_jansson(doc, n);
    n = (size_t)snprintf(doc, sizeof(doc), "{\"%.*s\":1,\"%.*s\":2}", 200, key, 200, key);
    expect_parse_as_jansson(doc, n);
    char *dir = NULL;
    char *bag = make_bundle(&dir);
    char *rp = tu_join(bag, "evidence.json");
    size_t rl = 0;
    uint8_t *rec = tu_read(rp, &rl);
    assert_non_null(rec);
    expect_parse_as_jansson((const char *)rec, rl);
    free(rec);
    free(rp);
    free(bag);
    tu_rmrf(dir);
    free(dir);
}

static void record_limits(void **state)
{
    (void)state;
    char *dir = NULL;
    char *bag = make_bundle(&dir);
    ev_bundle_options o;
    /* defaults: valid */
    assert_int_equal(ev_bundle_options_init(&o, EV_BUNDLE_OPTIONS_VERSION), EV_OK);
    assert_int_equal(EV_BUNDLE_OPTIONS_VERSION, 2);
    ev_report *r = verify_with(bag, &o);
    if (ev_report_verdict(r) != EV_VERDICT_VALID)
        fail_msg("fresh bundle: %s", r->problems[0].code);
    ev_report_free(r);
    /* a version 1 struct is still accepted, and gets the default limits */
    ev_bundle_options v1;
    memset(&v1, 0xAB, sizeof(v1));
    assert_int_equal(ev_bundle_options_init(&v1, 1), EV_OK);
    assert_int_equal(v1.max_items, 0xABABABABABABABABull); /* not written: not in version 1 */
    v1.max_items = v1.max_record_size = v1.max_custody_events = 1; /* not read either */
    r = verify_with(bag, &v1);
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_VALID);
    ev_report_free(r);
    /* items */
    o.max_items = 2;
    r = verify_with(bag, &o);
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_UNREADABLE);
    assert_int_equal(count_code(r, "limit-items"), 1);
    assert_int_equal(count_code(r, "record-invalid"), 0);
    ev_report_free(r);
    o.max_items = 3;
    r = verify_with(bag, &o);
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_VALID);
    ev_report_free(r);
    /* record size (evidence.json, custody.jsonl) */
    ev_bundle_options_init(&o, EV_BUNDLE_OPTIONS_VERSION);
    o.max_record_size = 600; /* custody.jsonl fits, evidence.json does not */
    r = verify_with(bag, &o);
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_UNREADABLE);
    assert_int_equal(count_code(r, "limit-record-size"), 1);
    assert_string_equal(r->problems[0].path, "evidence.json");
    ev_report_free(r);
    o.max_record_size = 100; /* neither fits */
    r = verify_with(bag, &o);
    assert_int_equal(count_code(r, "limit-record-size"), 2);
    ev_report_free(r);
    /* custody events: one now, two after an amendment */
    ev_bundle_options_init(&o, EV_BUNDLE_OPTIONS_VERSION);
    o.max_custody_events = 1;
    r = verify_with(bag, &o);
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_VALID);
    ev_report_free(r);
    ev_bundle *b = NULL;
    assert_int_equal(ev_bundle_new(&b, NULL), EV_OK);
    assert_int_equal(ev_bundle_open(b, bag), EV_OK);
    ev_custody_event ev = { EV_CUSTODY_EVENT_VERSION, "note", "Jo", "Org", NULL };
    assert_int_equal(ev_bundle_amend(b, &ev, NULL, 0), EV_OK);
    ev_bundle_free(b);
    r = verify_with(bag, &o);
    assert_int_equal(ev_report_verdict(r), EV_VERDICT_UNREADABLE);
    assert_int_equal(count_code(r, "limit-custody-events"), 1);
    ev_report_free(r);
    assert_int_equal(ev_bundle_new(&b, &o), EV_OK);
    assert_int_equal(ev_bundle_open(b, bag), EV_OK);
    char *js = NULL;
    assert_int_equal(ev_bundle_custody_json(&js, NULL, b), EV_EUNSAFE);
    assert_null(js);
    ev_bundle_free(b);
    tu_rmrf(dir);
    free(dir);
    free(bag);
}

/* ---- custody events that name the record's people and places -------------------------- */

#define PEOPLE_RECORD_PARTS                                                                       \
    "\"people\":[{\"id\":\"person-1\",\"name\":\"Jo Smith\",\"identifier\":\"PC 1234\","          \
    "\"organisation\":\"Example Police\"},{\"id\":\"person-2\",\"name\":\"Al Other\","             \
    "\"identifier\":\"PC 1234\",\"organisation\":\"Other Police\"},{\"id\":\"person-3\","         \
    "\"name\":\"Bo\",\"identifier\":\"S 5\"}],"                                                    \
    "\"places\":[{\"id\":\"place-1\",\"description\":\"Front door\",\"postcode\":\"EX1 2AB\"}],"   \
    "\"items\":"

static json_t *people_record(void)
{
    char *t = replace(GOOD_RECORD, "\"items\":", PEOPLE_RECORD_PARTS);
    json_t *j = json_loads(t, 0, NULL);
    assert_non_null(j);
    free(t);
    return j;
}

static int resolve(ev_custody_event *out, const char *person, const char *place,
                   const char *actor, const char *org, const json_t *rec, ev_errbuf *err)
{
    ev_custody_event e = { EV_CUSTODY_EVENT_VERSION, "received", actor, org, NULL, person, place };
    err->msg[0] = '\0';
    return ev_custody__resolve(out, &e, rec, err);
}

static void record_custody_names_people_and_places(void **state)
{
    (void)state;
    json_t *rec = people_record();
    ev_custody_event o;
    ev_errbuf err;
    /* by id: actor and organisation from the node */
    assert_int_equal(resolve(&o, "person-1", "place-1", NULL, NULL, rec, &err), EV_OK);
    assert_string_equal(o.person, "person-1");
    assert_string_equal(o.place, "place-1");
    assert_string_equal(o.actor, "Jo Smith");
    assert_string_equal(o.organisation, "Example Police");
    /* by identifier, when one person has it; the same values may be given */
    assert_int_equal(resolve(&o, "S 5", NULL, "Bo", "Desk", rec, &err), EV_OK);
    assert_string_equal(o.person, "person-3");
    assert_null(o.place);
    assert_string_equal(o.organisation, "Desk"); /* the node has none: the given one */
    /* the node has no organisation and none is given */
    assert_int_equal(resolve(&o, "person-3", NULL, NULL, NULL, rec, &err), EV_EINVAL);
    assert_non_null(strstr(err.msg, "person-3 has no organisation"));
    /* an identifier two people have: ambiguous, both named */
    assert_int_equal(resolve(&o, "PC 1234", NULL, NULL, NULL, rec, &err), EV_EINVAL);
    assert_non_null(strstr(err.msg, "identifier of 2 people"));
    assert_non_null(strstr(err.msg, "person-1 (Jo Smith"));
    assert_non_null(strstr(err.msg, "person-2 (Al Other"));
    /* identifiers are matched exactly as recorded, names never */
    assert_int_equal(resolve(&o, "pc 1234", NULL, NULL, NULL, rec, &err), EV_EINVAL);
    assert_int_equal(resolve(&o, "Jo Smith", NULL, NULL, NULL, rec, &err), EV_EINVAL);
    assert_non_null(strstr(err.msg, "no person 'Jo Smith' in the record"));
    assert_non_null(strstr(err.msg, "person-3 (Bo, S 5)"));
    /* an actor or organisation that is not the person's */
    assert_int_equal(resolve(&o, "person-1", NULL, "J. Smith", NULL, rec, &err), EV_EINVAL);
    assert_non_null(strstr(err.msg, "the actor 'J. Smith' is not the name of person-1"));
    assert_non_null(strstr(err.msg, "('Jo Smith')"));
    assert_int_equal(resolve(&o, "person-1", NULL, NULL, "Other", rec, &err), EV_EINVAL);
    assert_non_null(strstr(err.msg, "'Other' is not the organisation of person-1"));
    /* an unknown place, listing the places there are */
    assert_int_equal(resolve(&o, NULL, "place-9", "A", "B", rec, &err), EV_EINVAL);
    assert_non_null(strstr(err.msg, "no place 'place-9'"));
    assert_non_null(strstr(err.msg, "place-1 (Front door, EX1 2AB)"));
    /* a record without people */
    json_t *plain = json_loads(GOOD_RECORD, 0, NULL);
    assert_int_equal(resolve(&o, "person-1", NULL, NULL, NULL, plain, &err), EV_EINVAL);
    assert_non_null(strstr(err.msg, "the record has no people"));
    json_decref(plain);
    json_decref(rec);

    /* the line carries the ids after the organisation; a version 1 event has none */
    ev_custody_event e = { EV_CUSTODY_EVENT_VERSION, "received", "Jo Smith", "Example Police",
                           NULL, "person-1", "place-1" };
    char *l = ev_custody__line(1, "2024-01-02T03:04:05Z", &e, M64, R64, NULL);
    assert_non_null(strstr(l, "\"organisation\":\"Example Police\",\"person\":\"person-1\","
                              "\"place\":\"place-1\",\"tool\""));
    free(l);
    e.version = 1;
    l = ev_custody__line(1, "2024-01-02T03:04:05Z", &e, M64, R64, NULL);
    assert_null(strstr(l, "person"));
    free(l);
}

static void record_custody_references_resolve(void **state)
{
    (void)state;
    char *rec = replace(GOOD_RECORD, "\"items\":", PEOPLE_RECORD_PARTS);
    ev_custody_event e = { EV_CUSTODY_EVENT_VERSION, "received", "Jo Smith", "Example Police",
                           NULL, "person-1", "place-1" };
    char *l1 = ev_custody__line(1, "2024-01-02T03:04:05Z", &e, M64, R64, NULL);
    e.person = "person-9";
    e.place = "place-7";
    char *l2 = ev_custody__line(2, "2024-01-02T03:04:05Z", &e, M64, R64, M64);
    e.version = 1; /* an older event without them */
    char *l3 = ev_custody__line(3, "2024-01-02T03:04:05Z", &e, M64, R64, M64);
    char *all = malloc(strlen(l1) + strlen(l2) + strlen(l3) + 1);
    sprintf(all, "%s%s%s", l1, l2, l3);
    ev_report *r = NULL;
    /* the good line and the older one resolve */
    char *good = malloc(strlen(l1) + strlen(l3) + 1);
    sprintf(good, "%s%s", l1, l3);
    assert_int_equal(ev_report__new(&r, "evidence.verify"), EV_OK);
    assert_int_equal(ev_record__check_custody_refs(r, rec, strlen(rec), good, strlen(good)),
                     EV_OK);
    assert_int_equal(r->nproblems, 0);
    ev_report_free(r);
    /* a person and a place of no node */
    assert_int_equal(ev_report__new(&r, "evidence.verify"), EV_OK);
    assert_int_equal(ev_record__check_custody_refs(r, rec, strlen(rec), all, strlen(all)), EV_OK);
    assert_int_equal(count_code(r, "record-dangling-reference"), 2);
    assert_non_null(strstr(r->problems[0].message, "custody.jsonl line 2: the event's person is "
                                                   "'person-9', but no person in /people"));
    assert_string_equal(r->problems[0].path, "custody.jsonl");
    ev_report_free(r);
    /* the same log against a record without people: the ids dangle */
    assert_int_equal(ev_report__new(&r, "evidence.verify"), EV_OK);
    assert_int_equal(ev_record__check_custody_refs(r, GOOD_RECORD, strlen(GOOD_RECORD), good,
                                                   strlen(good)), EV_OK);
    assert_int_equal(count_code(r, "record-dangling-reference"), 2);
    ev_report_free(r);
    /* a person or place that is not a non-empty string breaks the event's grammar */
    char *t1 = replace(l1, "\"person\":\"person-1\"", "\"person\":5");
    char *t2 = replace(l1, "\"place\":\"place-1\"", "\"place\":\"\"");
    for (int k = 0; k < 2; k++) {
        const char *t = k ? t2 : t1;
        size_t n, bad;
        char last[65];
        assert_int_equal(ev_report__new(&r, "evidence.verify"), EV_OK);
        ev_custody__check(t, strlen(t), r, &n, last, NULL, NULL, &bad);
        assert_int_equal(count_code(r, "custody-event-invalid"), 1);
        assert_non_null(strstr(r->problems[0].message, k ? "'place'" : "'person'"));
        ev_report_free(r);
    }
    free(t1);
    free(t2);
    free(good);
    free(all);
    free(l1);
    free(l2);
    free(l3);
    free(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record_dump_is_deterministic),
        cmocka_unit_test(record_custody_line_format),
        cmocka_unit_test(record_custody_chain_checks),
        cmocka_unit_test(record_custody_detects_tampering),
        cmocka_unit_test(record_custody_survives_hostile_lines),
        cmocka_unit_test(record_utc_time_grammar),
        cmocka_unit_test(record_mime_families),
        cmocka_unit_test(record_schema_and_baginfo),
        cmocka_unit_test(record_problems_are_capped),
        cmocka_unit_test(record_custody_grammar),
        cmocka_unit_test(record_count_items_on_text),
        cmocka_unit_test(record_parse_agrees_with_jansson),
        cmocka_unit_test(record_limits),
        cmocka_unit_test(record_custody_names_people_and_places),
        cmocka_unit_test(record_custody_references_resolve),
        cmocka_unit_test(load_items_hands_over_text),
    };
    return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
