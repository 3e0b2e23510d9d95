/*
 * Fuzz target for exhibit schedules (src/bundle/schedule*.c): any bytes are
 * read as a schedule (CSV, or JSON when the first byte that is not white
 * space is '{'), without looking for the listed files. A schedule that reads
 * must also round-trip: written as CSV (with and without a byte order mark)
 * and as JSON, each must read again to the same people, places, events and
 * exhibits, and writing that gives the same bytes. A broken invariant
 * aborts with a line on stderr saying which.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const ev_schedule *s)
{
    fprintf(stderr, "schedule_fuzzer: %s: %s\n", what, s ? ev_schedule_last_error(s) : "");
    abort();
}

static json_t *nodes(const ev_schedule *s)
{
    char *j = NULL;
    if (ev_schedule_json(&j, s) != EV_OK)
        die("no document after a good read", s);
    json_t *d = json_loads(j, 0, NULL);
    ev_free(j);
    if (!d)
        die("the document is not JSON", NULL);
    json_object_del(d, "source");
    json_object_del(d, "warnings");
    return d;
}

static ev_schedule *fresh(void)
{
    ev_schedule_options o = EV_SCHEDULE_OPTIONS_INIT;
    o.flags = EV_SCHEDULE_NO_FILE_CHECK;
    ev_schedule *s = NULL;
    if (ev_schedule_new(&s, &o) != EV_OK)
        abort();
    return s;
}

/* Write s one way (0 CSV, 1 CSV with BOM, 2 JSON), read it back, compare. */
static void round_trip(const ev_schedule *s, const json_t *want, int how)
{
    char *out = NULL;
    size_t len = 0;
    int rc = how < 2 ? ev_schedule_write_csv(&out, &len, s, how ? EV_SCHEDULE_WRITE_BOM : 0)
                     : ev_schedule_write_json(&out, s);
    if (rc != EV_OK)
        die("write failed", s);
    if (how == 2)
        len = strlen(out);
    ev_schedule *s2 = fresh();
    if (ev_schedule_read_buffer(s2, out, len, how < 2 ? EV_SCHEDULE_CSV : EV_SCHEDULE_JSON,
                                "again") != EV_OK) {
        fprintf(stderr, "%.*s\n", (int)(len > 4000 ? 4000 : len), out);
        die(how < 2 ? "the written CSV does not read" : "the written JSON does not read", s2);
    }
    json_t *got = nodes(s2);
    if (!json_equal(got, want)) {
        char *a = json_dumps(want, JSON_COMPACT | JSON_PRESERVE_ORDER);
        char *b = json_dumps(got, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fprintf(stderr, "want %s\ngot  %s\n", a, b);
        die(how < 2 ? "CSV round trip changed the schedule" : "JSON round trip changed it", NULL);
    }
    char *again = NULL;
    size_t againlen = 0;
    rc = how < 2 ? ev_schedule_write_csv(&again, &againlen, s2, how ? EV_SCHEDULE_WRITE_BOM : 0)
                 : ev_schedule_write_json(&again, s2);
    if (rc != EV_OK)
        die("second write failed", s2);
    if (how == 2)
        againlen = strlen(again);
    if (againlen != len || memcmp(again, out, len) != 0)
        die("writing the re-read schedule gives other bytes", NULL);
    ev_free(again);
    json_decref(got);
    ev_free(out);
    ev_schedule_free(s2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ev_schedule *s = fresh();
    int rc = ev_schedule_read_buffer(s, data, size, EV_SCHEDULE_AUTO, "fuzz");
    if (rc == EV_OK) {
        if (ev_schedule_problem_count(s) != 0 || ev_schedule_exhibit_count(s) == 0)
            die("a good read with problems or without exhibits", s);
        json_t *want = nodes(s);
        for (int how = 0; how < 3; how++)
            round_trip(s, want, how);
        json_decref(want);
    } else if (rc == EV_EFORMAT) {
        if (ev_schedule_problem_count(s) == 0 || !*ev_schedule_last_error(s))
            die("refused without a problem", s);
        char *j = NULL;
        if (ev_schedule_json(&j, s) != EV_EINVAL)
            die("a refused schedule left a document", s);
    } else if (rc != EV_ENOMEM) {
        die("unexpected status", s);
    }
    ev_schedule_free(s);
    return 0;
}
