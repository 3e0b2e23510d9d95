/*
 * Fuzz target: the custody.jsonl reader, which sees hostile bytes from inside
 * a bundle: the chain check with the grammar of each event (time, action,
 * fields), the event list that 'custody show' prints, the cheap event count
 * that guards the limit (it must agree with the check), and the views, which
 * show the log.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "record/record.h"
#include "record/record_check.h"
#include "base/report.h"
#include "views/views.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char record[] =
    "{\"format\":\"evidence-bundle\",\"format_version\":1,"
    "\"bundle_id\":\"urn:uuid:12345678-1234-4123-8123-123456789abc\","
    "\"created\":\"2024-01-02T03:04:05Z\",\"case\":{\"reference\":\"C/1\"},"
    "\"items\":[{\"id\":\"item-0001\",\"exhibit\":\"E\",\"role\":\"master\","
    "\"path\":\"data/E/a.jpg\",\"original_name\":\"a.jpg\",\"size\":3,\"mime\":\"image/jpeg\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1024 * 1024)
        return 0;
    const char *buf = (const char *)data;
    ev_report *r = NULL;
    if (ev_report__new(&r, "evidence.verify") != EV_OK)
        return 0;
    size_t n = 0, bad = 0;
    char last[65];
    json_t *lastev = NULL, *events = NULL;
    ev_custody__check(buf, size, r, &n, last, &lastev, &events, &bad);
    if (n != ev_custody__count(buf, size) || json_array_size(events) != n || bad > n)
        abort();
    for (size_t i = 0; i < r->nproblems; i++)
        (void)strlen(r->problems[i].message);
    json_decref(lastev);
    json_decref(events);
    ev_report_free(r);

    ev_errbuf e;
    char *out = NULL;
    size_t olen = 0;
    if (ev_views__index_html(&out, &olen, record, sizeof(record) - 1, buf, size, &e) == EV_OK)
        free(out);
    out = NULL;
    if (ev_views__case_jsonld(&out, &olen, record, sizeof(record) - 1, buf, size, &e) == EV_OK)
        free(out);
    return 0;
}
