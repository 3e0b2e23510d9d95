/*
 * Fuzz target: the evidence.json reader, which sees hostile bytes from inside
 * a bundle. The input is the record, optionally followed by a 0 byte and the
 * bytes of bag-info.txt. It goes through the item count taken on the text
 * (which must agree with the parser on JSON it accepts), the schema,
 * duplicate and bag-info.txt checks of record_check.c, and both views
 * (which verify rebuilds from the record): read from the text item by item
 * they must be byte for byte the views of the record parsed whole.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "record/record_check.h"
#include "base/report.h"
#include "views/views.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char custody[] =
    "{\"seq\":1,\"time\":\"2024-01-02T03:04:05Z\",\"action\":\"created\",\"actor\":\"A\","
    "\"organisation\":\"O\",\"tool\":\"evidence\",\"tool_version\":\"0.1.0\","
    "\"manifest_sha256\":\"1111111111111111111111111111111111111111111111111111111111111111\","
    "\"record_sha256\":\"2222222222222222222222222222222222222222222222222222222222222222\","
    "\"prev_sha256\":null}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1024 * 1024)
        return 0;
    const char *rec = (const char *)data;
    const char *nul = memchr(data, 0, size);
    size_t rlen = nul ? (size_t)(nul - rec) : size;
    const char *bi = nul ? nul + 1 : NULL;
    size_t blen = nul ? size - rlen - 1 : 0;

    /* the count on the text agrees with the parser (escaped keys aside) */
    size_t counted = ev_record__count_items(rec, rlen);
    json_t *j = json_loadb(rec, rlen, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(j) && !memchr(rec, '\\', rlen) &&
        counted != json_array_size(json_object_get(j, "items")))
        abort();
    json_decref(j);

    ev_report *r = NULL;
    if (ev_report__new(&r, "evidence.verify") != EV_OK)
        return 0;
    ev_record__check_bytes(r, rec, rlen, bi, blen);
    for (size_t i = 0; i < r->nproblems; i++)
        (void)strlen(r->problems[i].message);
    ev_report_free(r);

    /* the views from the text (read item by item) must be the views of the
     * record parsed whole, and exist exactly when it is a JSON object */
    ev_errbuf e;
    json_t *whole = json_loadb(rec, rlen, 0, NULL);
    for (int v = 0; v < 2; v++) {
        char *out = NULL, *ref = NULL;
        size_t olen = 0, rl = 0;
        int rc = (v == 0 ? ev_views__case_jsonld : ev_views__index_html)(
            &out, &olen, rec, rlen, custody, sizeof(custody) - 1, &e);
        if (json_is_object(whole)) {
            int prc = (v == 0 ? ev_views__case_jsonld_parsed : ev_views__index_html_parsed)(
                &ref, &rl, whole, custody, sizeof(custody) - 1, &e);
            if (rc == EV_OK && prc == EV_OK && (olen != rl || memcmp(out, ref, olen) != 0))
                abort();
            if ((rc == EV_OK) != (prc == EV_OK) && rc != EV_ENOMEM && prc != EV_ENOMEM)
                abort();
        } else if (rc == EV_OK) {
            abort();
        }
        free(out);
        free(ref);
    }
    json_decref(whole);
    return 0;
}
