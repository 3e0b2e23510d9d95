/* Unit tests for src/views/: case.jsonld and index.html from a record and
 * a custody log held in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/internal.h"
#include "base/report.h"
#include "views/views.h"
#include "views/views_int.h"
#include "testutil.h"

#define NS "urn:uuid:12345678-1234-4234-8234-123456789abc"
#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define H5 "55555555555555555555555555555555555555555555555555555555555555555555555555555555" \
           "555555555555555555555555555555555555555555555555"

/* a record with a master photo (EXIF, GPS, SHA-256 and SHA-512), a working
 * copy of it, and a text file */
static const char *RECORD =
    "{\"format\":\"evidence-bundle\",\"format_version\":1,\"bundle_id\":\"" NS "\","
    "\"created\":\"2024-05-01T10:00:00Z\","
    "\"tool\":{\"name\":\"evidence\",\"version\":\"0.1.0\",\"libraries\":{\"libzip\":\"1.7.3\"}},"
    "\"case\":{\"reference\":\"23/1234\",\"organisation\":\"Example Police\","
    "\"operation\":\"Op Test\",\"description\":null},"
    "\"exported_by\":{\"name\":\"A. Example\",\"identifier\":\"PC 123\","
    "\"organisation\":\"Example Police\"},\"source_system\":{\"name\":\"DEMS Y\"},"
    "\"items\":["
    "{\"id\":\"item-0001\",\"exhibit\":\"JS/1\",\"role\":\"master\","
    "\"path\":\"data/JS_1/in/IMG 1.jpg\",\"original_name\":\"IMG 1.jpg\",\"size\":100,"
    "\"hashes\":{\"sha256\":\"" H1 "\",\"sha512\":\"" H5 "\"},\"mime\":\"image/jpeg\","
    "\"times\":{\"modified\":\"2024-05-01T09:00:00.5Z\"},"
    "\"media\":{\"kind\":\"image\",\"streams\":[{\"type\":\"video\",\"codec\":\"mjpeg\","
    "\"width\":64,\"height\":48}]},"
    "\"capture\":{\"source\":\"exif\",\"datetime_original\":\"2024-05-01T11:20:30+01:00\","
    "\"make\":\"ExampleCam\",\"model\":\"EC-1\",\"orientation\":6,"
    "\"gps\":{\"latitude\":51.500729,\"longitude\":-0.124625,\"altitude\":12.5}}},"
    "{\"id\":\"item-0002\",\"exhibit\":\"JS/1\",\"role\":\"derivative\","
    "\"path\":\"data/JS_1/derived/still-png/in/IMG 1.png\",\"original_name\":\"IMG 1.png\","
    "\"size\":200,\"hashes\":{\"sha256\":\"" H2 "\"},\"mime\":\"image/png\","
    "\"derived_from\":{\"item\":\"item-0001\",\"profile\":\"still-png\","
    "\"action\":\"transcoded\",\"level\":\"decoded-identical\",\"verdict\":\"pass\","
    "\"settings\":{\"writer\":\"png\",\"streams\":[{\"a\":1}]}}},"
    "{\"id\":\"item-0003\",\"exhibit\":\"JS/2\",\"role\":\"master\","
    "\"path\":\"data/JS_2/notes.txt\",\"original_name\":\"notes.txt\",\"size\":5,"
    "\"hashes\":{\"sha256\":\"" H1 "\"},\"mime\":\"text/plain\"}"
    "]}";

static const char *CUSTODY =
    "{\"seq\":1,\"time\":\"2024-05-01T10:00:00Z\",\"action\":\"created\",\"actor\":\"A. Example\","
    "\"organisation\":\"Example Police\",\"tool\":\"evidence\",\"tool_version\":\"0.1.0\","
    "\"prev_sha256\":null}\n"
    "not json\n"
    "{\"seq\":3,\"time\":\"2024-05-02T10:00:00Z\",\"action\":\"received\",\"actor\":\"B. Lab\","
    "\"organisation\":\"Lab\",\"tool\":\"evidence\",\"tool_version\":\"0.1.0\","
    "\"prev_sha256\":\"x\",\"note\":\"seal intact\"}\n";

static json_t *render_case(const char *rec, const char *cust, char **text)
{
    char *out = NULL;
    size_t len = 0;
    ev_errbuf e;
    e.msg[0] = '\0';
    int rc = ev_views__case_jsonld(&out, &len, rec, strlen(rec), cust, cust ? strlen(cust) : 0, &e);
    assert_int_equal(rc, EV_OK);
    assert_non_null(out);
    assert_int_equal(len, strlen(out));
    json_error_t je;
    json_t *d = json_loads(out, 0, &je);
    assert_non_null(d);
    if (text)
        *text = out;
    else
        free(out);
    return d;
}

static char *render_html(const char *rec, const char *cust)
{
    char *out = NULL;
    size_t len = 0;
    ev_errbuf e;
    e.msg[0] = '\0';
    int rc = ev_views__index_html(&out, &len, rec, strlen(rec), cust, cust ? strlen(cust) : 0, &e);
    assert_int_equal(rc, EV_OK);
    assert_non_null(out);
    assert_int_equal(len, strlen(out));
    return out;
}

/* collect definitions (objects with @id and more) and references ({"@id"}) */
static void walk(const json_t *o, json_t *defs, json_t *refs, json_t *types)
{
    if (json_is_array(o)) {
        size_t i;
        json_t *v;
        json_array_foreach(o, i, v)
            walk(v, defs, refs, types);
        return;
    }
    if (!json_is_object(o))
        return;
    const char *id = json_string_value(json_object_get(o, "@id"));
    if (id && json_object_size(o) == 1) {
        json_array_append_new(refs, json_string(id));
        return;
    }
    if (id) {
        assert_null(json_object_get(defs, id)); /* defined once */
        json_object_set(defs, id, (json_t *)o);
    }
    if (json_object_get(o, "@type"))
        json_array_append(types, json_object_get(o, "@type"));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
        walk(v, defs, refs, types);
}

static const json_t *node_of_type(const json_t *graph, const char *type, size_t nth)
{
    size_t i;
    json_t *n;
    json_array_foreach(graph, i, n) {
        const char *t = json_string_value(json_object_get(n, "@type"));
        if (t && !strcmp(t, type) && nth-- == 0)
            return n;
    }
    return NULL;
}

static size_t count_type(const json_t *graph, const char *type)
{
    size_t c = 0;
    while (node_of_type(graph, type, c))
        c++;
    return c;
}

static void views_case_is_closed_and_prefixed(void **state)
{
    (void)state;
    json_t *d = render_case(RECORD, CUSTODY, NULL);
    const json_t *ctx = json_object_get(d, "@context");
    assert_string_equal(json_string_value(json_object_get(ctx, "kb")), NS "#");
    json_t *defs = json_object(), *refs = json_array(), *types = json_array();
    walk(json_object_get(d, "@graph"), defs, refs, types);
    size_t i;
    json_t *v;
    json_array_foreach(refs, i, v)
        assert_non_null(json_object_get(defs, json_string_value(v)));
    assert_true(json_array_size(types) > 20);
    json_array_foreach(types, i, v) {
        const char *t = json_string_value(v);
        assert_non_null(t);
        const char *colon = strchr(t, ':');
        assert_non_null(colon);
        char pfx[64];
        snprintf(pfx, sizeof(pfx), "%.*s", (int)(colon - t), t);
        assert_non_null(json_object_get(ctx, pfx));
    }
    const char *k;
    json_object_foreach(defs, k, v)
        assert_memory_equal(k, "kb:", 3);
    json_decref(defs);
    json_decref(refs);
    json_decref(types);
    json_decref(d);
}

static void views_case_files_and_hashes(void **state)
{
    (void)state;
    json_t *d = render_case(RECORD, CUSTODY, NULL);
    const json_t *g = json_object_get(d, "@graph");
    assert_int_equal(count_type(g, "uco-observable:File"), 3);
    const json_t *f = node_of_type(g, "uco-observable:File", 0);
    /* the documented UUIDv5 of "item/9:item-00010:" in the bundle's namespace
     * (python: uuid.uuid5(UUID(bundle), key)) */
    assert_string_equal(json_string_value(json_object_get(f, "@id")),
                        "kb:file-cabed6ef-014a-5454-8311-de0d624a5310");
    const json_t *facets = json_object_get(f, "uco-core:hasFacet");
    const json_t *ff = json_array_get(facets, 0), *cd = json_array_get(facets, 1);
    assert_string_equal(json_string_value(json_object_get(ff, "uco-observable:fileName")),
                        "IMG 1.jpg");
    assert_string_equal(json_string_value(json_object_get(ff, "uco-observable:extension")), "jpg");
    assert_int_equal(json_integer_value(json_object_get(ff, "uco-observable:sizeInBytes")), 100);
    assert_string_equal(json_string_value(json_object_get(cd, "uco-observable:mimeType")),
                        "image/jpeg");
    const json_t *hs = json_object_get(cd, "uco-observable:hash");
    assert_int_equal(json_array_size(hs), 2);
    const json_t *h0 = json_array_get(hs, 0), *h1 = json_array_get(hs, 1);
    assert_string_equal(json_string_value(json_object_get(h0, "uco-types:hashMethod")), "SHA256");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(h0, "uco-types:hashValue"), "@value")), H1);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(h0, "uco-types:hashValue"), "@type")), "xsd:hexBinary");
    assert_string_equal(json_string_value(json_object_get(h1, "uco-types:hashMethod")), "SHA512");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(h1, "uco-types:hashValue"), "@value")), H5);
    /* the copy has SHA-256 only */
    const json_t *f2 = node_of_type(g, "uco-observable:File", 1);
    const json_t *cd2 = json_array_get(json_object_get(f2, "uco-core:hasFacet"), 1);
    assert_int_equal(json_array_size(json_object_get(cd2, "uco-observable:hash")), 1);
    /* one provenance record per exhibit */
    assert_int_equal(count_type(g, "case-investigation:ProvenanceRecord"), 2);
    json_decref(d);
}

static void views_case_capture(void **state)
{
    (void)state;
    json_t *d = render_case(RECORD, NULL, NULL);
    const json_t *g = json_object_get(d, "@graph");
    const json_t *ll = json_array_get(json_object_get(node_of_type(g, "uco-location:Location", 0),
                                                      "uco-core:hasFacet"), 0);
    assert_string_equal(json_string_value(json_object_get(ll, "@type")),
                        "uco-location:LatLongCoordinatesFacet");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(ll, "uco-location:latitude"), "@value")), "51.500729");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(ll, "uco-location:longitude"), "@value")), "-0.124625");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(ll, "uco-location:altitude"), "@value")), "12.5");
    const json_t *dev = json_array_get(json_object_get(node_of_type(g, "uco-observable:Device", 0),
                                                       "uco-core:hasFacet"), 0);
    assert_string_equal(json_string_value(json_object_get(dev, "uco-observable:model")), "EC-1");
    const json_t *cap = node_of_type(g, "uco-action:Action", 0);
    assert_string_equal(json_string_value(json_object_get(cap, "uco-core:name")), "captured");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(cap, "uco-action:startTime"), "@value")),
                        "2024-05-01T11:20:30+01:00");
    /* EXIF entries */
    char *text = NULL;
    json_decref(render_case(RECORD, NULL, &text));
    assert_non_null(strstr(text, "\"uco-observable:EXIFFacet\""));
    assert_non_null(strstr(text, "\"Orientation\""));
    assert_non_null(strstr(text, "\"uco-observable:pictureWidth\":64"));
    free(text);
    json_decref(d);
}

static void views_case_derivation_and_custody(void **state)
{
    (void)state;
    json_t *d = render_case(RECORD, CUSTODY, NULL);
    const json_t *g = json_object_get(d, "@graph");
    const char *master = json_string_value(json_object_get(node_of_type(g, "uco-observable:File", 0), "@id"));
    const char *copy = json_string_value(json_object_get(node_of_type(g, "uco-observable:File", 1), "@id"));
    /* one derivation and two custody events (the line that is not JSON is skipped) */
    assert_int_equal(count_type(g, "case-investigation:InvestigativeAction"), 3);
    const json_t *der = node_of_type(g, "case-investigation:InvestigativeAction", 0);
    assert_string_equal(json_string_value(json_object_get(der, "uco-core:name")), "transcoded");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(der, "uco-action:object"), 0), "@id")), master);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(der, "uco-action:result"), 0), "@id")), copy);
    assert_string_equal(json_string_value(json_object_get(der, "uco-core:description")),
                        "verification decoded-identical: pass");
    assert_int_equal(count_type(g, "uco-tool:ConfiguredTool"), 1);
    const json_t *cfg = node_of_type(g, "uco-configuration:Configuration", 0);
    /* profile, level, writer, streams */
    assert_int_equal(json_array_size(json_object_get(cfg, "uco-configuration:configurationEntry")), 4);
    const json_t *rcv = node_of_type(g, "case-investigation:InvestigativeAction", 2);
    assert_string_equal(json_string_value(json_object_get(rcv, "uco-core:name")), "received");
    assert_string_equal(json_string_value(json_object_get(rcv, "uco-core:description")), "seal intact");
    /* performers: two people, the exporter is the creator */
    assert_int_equal(count_type(g, "uco-identity:Person"), 2);
    const json_t *inv = node_of_type(g, "case-investigation:Investigation", 0);
    assert_string_equal(json_string_value(json_object_get(inv, "uco-core:name")), "23/1234");
    /* bundle + 2 provenance records + 3 actions */
    assert_int_equal(json_array_size(json_object_get(inv, "uco-core:object")), 6);
    json_decref(d);
}

static void views_are_deterministic(void **state)
{
    (void)state;
    char *a = NULL, *b = NULL;
    json_decref(render_case(RECORD, CUSTODY, &a));
    json_decref(render_case(RECORD, CUSTODY, &b));
    assert_string_equal(a, b);
    free(a);
    free(b);
    a = render_html(RECORD, CUSTODY);
    b = render_html(RECORD, CUSTODY);
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* another bundle id gives other ids; a bundle id that is not a UUID
     * still gives stable ones, in the nil namespace */
    char *other = ev__strdup(RECORD);
    char *p = strstr(other, "12345678-1234");
    p[0] = '9';
    json_decref(render_case(other, NULL, &a));
    assert_null(strstr(a, "cabed6ef-014a-5454-8311-de0d624a5310"));
    free(a);
    memcpy(p - 9, "xxx", 3); /* "urn:uuid:" -> "xxx:uuid:": no longer a UUID URN */
    json_t *d = render_case(other, NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "@context"), "kb")),
                        "urn:uuid:dad084fe-cb6a-5f66-a3ef-449ed341b340#");
    json_decref(d);
    free(other);
}

static void views_parsed_equals_text(void **state)
{
    (void)state;
    /* from the record verify already parsed: the same bytes as from its text */
    json_t *rec = json_loads(RECORD, 0, NULL);
    assert_non_null(rec);
    for (int v = 0; v < 2; v++) {
        char *a = NULL, *b = NULL;
        size_t al = 0, bl = 0;
        ev_errbuf e;
        assert_int_equal((v ? ev_views__index_html : ev_views__case_jsonld)(
                             &a, &al, RECORD, strlen(RECORD), CUSTODY, strlen(CUSTODY), &e),
                         EV_OK);
        assert_int_equal((v ? ev_views__index_html_parsed : ev_views__case_jsonld_parsed)(
                             &b, &bl, rec, CUSTODY, strlen(CUSTODY), &e),
                         EV_OK);
        assert_int_equal(al, bl);
        assert_memory_equal(a, b, al);
        free(a);
        free(b);
    }
    /* the caller's record is not changed, and still owned by the caller */
    char *again = json_dumps(rec, JSON_SORT_KEYS);
    json_t *fresh = json_loads(RECORD, 0, NULL);
    char *want = json_dumps(fresh, JSON_SORT_KEYS);
    assert_string_equal(again, want);
    free(again);
    free(want);
    json_decref(fresh);
    json_decref(rec);
}

static void views_html_escapes_everything(void **state)
{
    (void)state;
    const char *rec =
        "{\"bundle_id\":\"" NS "\",\"case\":{\"reference\":\"<b>23</b>&\\\"x\\\"\"},"
        "\"exported_by\":{\"name\":\"<img src=x onerror=alert(1)>\",\"organisation\":\"O'Brien & Co\"},"
        "\"items\":[{\"id\":\"a\\\"><script>\",\"exhibit\":\"<i>1</i>\","
        "\"path\":\"data/1/<script>alert(1)</script> & 'q' \\\"d\\\" caf\xc3\xa9 100% #?.txt\","
        "\"original_name\":\"<script>alert(1)</script>\",\"size\":1,\"mime\":\"text/<x>\","
        "\"hashes\":{\"sha256\":\"<h>\"},"
        "\"media\":{\"error\":\"<bad & worse>\"}}]}";
    const char *cust = "{\"seq\":1,\"time\":\"<t>\",\"action\":\"<a>\",\"actor\":\"</td><script>\","
                       "\"organisation\":\"&amp;\",\"tool\":\"<t>\",\"note\":\"l1\\nl2 <u>\"}\n";
    char *h = render_html(rec, cust);
    assert_null(strstr(h, "<script"));
    assert_null(strstr(h, "<img"));
    assert_null(strstr(h, "<b>23"));
    assert_null(strstr(h, "<i>1"));
    assert_null(strstr(h, "<x>"));
    assert_null(strstr(h, "<u>"));
    assert_non_null(strstr(h, "&lt;b&gt;23&lt;/b&gt;&amp;&quot;x&quot;"));
    assert_non_null(strstr(h, "O&#39;Brien &amp; Co"));
    assert_non_null(strstr(h, "&lt;/td&gt;&lt;script&gt;"));
    assert_non_null(strstr(h, "&amp;amp;"));
    assert_non_null(strstr(h, "id=\"a&quot;&gt;&lt;script&gt;\""));
    assert_non_null(strstr(h, "not analysed: &lt;bad &amp; worse&gt;"));
    /* the link: every unsafe byte percent-encoded, UTF-8 byte by byte */
    assert_non_null(strstr(h, "href=\"data/1/%3Cscript%3Ealert%281%29%3C/script%3E%20%26%20%27q%27"
                              "%20%22d%22%20caf%C3%A9%20100%25%20%23%3F.txt\""));
    free(h);
}

/* index.html states only what the record knows: a camera-local time says
 * "zone unknown", a format-defined UTC says so, a still has no duration
 * (older records carry FFmpeg's 0.04 s), the writing software is shown
 * (it reveals editing), a GPS placeholder is not a position, a
 * position keeps the decimals its source has, and a duration is exact. */
static void views_html_states_what_is_known(void **state)
{
    (void)state;
    const char *rec =
        "{\"items\":["
        "{\"id\":\"a\",\"path\":\"data/1/a.jpg\",\"media\":{\"kind\":\"image\",\"duration\":0.04,"
        "\"streams\":[{\"type\":\"video\",\"codec\":\"mjpeg\",\"width\":64,\"height\":48}]},"
        "\"capture\":{\"source\":\"exif\",\"datetime_original_local\":\"2012-09-10T20:52:00\","
        "\"datetime_original_zone\":\"unknown\",\"software\":\"Adobe Photoshop 25.0\","
        "\"gps\":{\"placeholder\":true}}},"
        "{\"id\":\"b\",\"path\":\"data/1/b.mp4\",\"media\":{\"kind\":\"video\",\"duration\":2.5},"
        "\"capture\":{\"source\":\"quicktime\",\"datetime_original\":\"2020-01-02T03:04:05Z\","
        "\"datetime_original_zone\":\"utc-by-format\",\"gps\":{\"latitude\":52.369293212890625,"
        "\"longitude\":4.894515991210938,\"precision_deg\":1.52587890625e-05}}},"
        "{\"id\":\"c\",\"path\":\"data/1/c.vob\",\"media\":{\"kind\":\"video\",\"duration\":3600.0}},"
        "{\"id\":\"d\",\"path\":\"data/1/d.vob\",\"media\":{\"kind\":\"video\",\"duration\":75.25}}]}";
    char *h = render_html(rec, NULL);
    assert_non_null(strstr(h, "captured 2012-09-10T20:52:00 camera-local time, zone unknown"));
    assert_null(strstr(h, "0.04 s"));
    assert_non_null(strstr(h, "software Adobe Photoshop 25.0"));
    assert_non_null(strstr(h, "GPS placeholder (no position recorded)"));
    assert_null(strstr(h, "GPS 0.000000"));
    /* durations exactly and readably, never "3.6e+03 s" */
    assert_non_null(strstr(h, "video; 2.500 s; captured"));
    assert_non_null(strstr(h, "video; 3600.000 s (1 h 00 min 00 s)<"));
    assert_non_null(strstr(h, "video; 75.250 s (1 min 15.250 s)<"));
    assert_null(strstr(h, "e+03"));
    assert_non_null(strstr(h, "captured 2020-01-02T03:04:05Z (UTC as the file format defines it"));
    assert_non_null(strstr(h, "GPS 52.369293, 4.894516")); /* 6 decimals: finer than 1/65536 */
    free(h);
}

static void views_html_links_only_into_data(void **state)
{
    (void)state;
    const char *paths[] = { "../../etc/passwd", "/etc/passwd", "javascript:alert(1)",
                            "data/../../x", "data/./x", "data//x", "data/x/", "meta/x",
                            "http://example.org/x" };
    for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
        char *rec = ev__asprintf("{\"items\":[{\"id\":\"i\",\"path\":\"%s\"}]}", paths[i]);
        char *h = render_html(rec, NULL);
        /* only the two fixed links to the record remain */
        size_t n = 0;
        for (const char *p = h; (p = strstr(p, "href=")); p++)
            n++;
        assert_int_equal(n, 2);
        free(h);
        free(rec);
    }
    char *h = render_html("{\"items\":[{\"id\":\"i\",\"path\":\"data/a b/c\"}]}", NULL);
    assert_non_null(strstr(h, "href=\"data/a%20b/c\""));
    free(h);
}

static void views_html_masters_then_copies(void **state)
{
    (void)state;
    char *h = render_html(RECORD, CUSTODY);
    char *m = strstr(h, "id=\"item-0001\""), *c = strstr(h, "id=\"item-0002\"");
    char *t = strstr(h, "id=\"item-0003\"");
    assert_true(m && c && t && m < c && c < t);
    assert_non_null(strstr(h, "class=\"derived\" id=\"item-0002\""));
    assert_non_null(strstr(h, "by profile <b>still-png</b>"));
    assert_non_null(strstr(h, "href=\"data/JS_1/in/IMG%201.jpg\""));
    assert_non_null(strstr(h, "<td>seal intact</td>"));
    assert_non_null(strstr(h, "<td>Op Test</td>"));
    assert_non_null(strstr(h, "<td>PC 123</td>"));
    assert_non_null(strstr(h, "GPS 51.500729, -0.124625"));
    assert_non_null(strstr(h, "Content-Security-Policy"));
    /* two custody rows: the line that is not JSON is skipped */
    size_t rows = 0;
    for (const char *p = h; (p = strstr(p, "<tr><td class=\"num\">")); p++)
        rows++;
    assert_int_equal(rows, 2);
    free(h);
}

/* The exhibit schedule in case.jsonld (docs/exhibit-schedule.md): each
 * exhibit's provenance record carries its description and references; each
 * event is an InvestigativeAction with its performer (and role), place,
 * instruments and result; a time with its offset is an xsd:dateTime (":00"
 * added where it was written without seconds), one without a zone is only
 * described; two people of one name stay two; a custody event naming a
 * person of the schedule has that person as performer. */
static const char *SCHED_RECORD =
    "{\"bundle_id\":\"" NS "\",\"created\":\"2024-05-01T10:00:00Z\","
    "\"people\":[{\"id\":\"person-1\",\"name\":\"Jo Smith\",\"identifier\":\"PC 1\","
    "\"organisation\":\"Example Police\"},{\"id\":\"person-2\",\"name\":\"Jo Smith\"}],"
    "\"places\":[{\"id\":\"place-1\",\"description\":\"Front door\",\"postcode\":\"EX1 2AB\","
    "\"latitude\":51.50735,\"longitude\":-0.12776},{\"id\":\"place-2\",\"latitude\":\"n\"}],"
    "\"events\":[{\"id\":\"event-1\",\"action\":\"seized\",\"performer\":\"person-1\","
    "\"performer_role\":\"Seizing officer\",\"place\":\"place-1\","
    "\"time\":\"2026-03-14T11:20+01:00\",\"time_zone\":\"stated\"},"
    "{\"id\":\"event-2\",\"action\":\"produced\",\"performer\":\"person-2\",\"place\":7,"
    "\"time_local\":\"2026-03-14T11:20\",\"time_zone\":\"unknown\"},"
    "{\"id\":\"event-3\",\"performer\":\"nobody\",\"time_unknown\":true}],"
    "\"exhibits\":[{\"reference\":\"JS/1\",\"description\":\"Photos\",\"event\":\"event-1\","
    "\"source\":{\"make\":\"Canon\",\"model\":\"EOS\",\"serial\":\"42\",\"owner\":\"Shop Ltd\"},"
    "\"references\":{\"crime\":\"CR/1\",\"urn\":\"01XX\",\"dems_id\":\"D-1\"},"
    "\"handling_notes\":\"bagged\"},"
    "{\"reference\":\"JS/2\",\"event\":\"event-2\",\"source\":{\"system\":\"NVR\"}}],"
    "\"items\":[{\"id\":\"item-0001\",\"exhibit\":\"JS/1\",\"path\":\"data/a.jpg\"},"
    "{\"id\":\"item-0002\",\"exhibit\":\"JS/2\",\"path\":\"data/b.mp4\"}]}";

static const json_t *node_named(const json_t *g, const char *type, const char *key, const char *v)
{
    size_t i;
    json_t *n;
    json_array_foreach(g, i, n) {
        const char *t = json_string_value(json_object_get(n, "@type"));
        const char *s = json_string_value(json_object_get(n, key));
        if (t && s && !strcmp(t, type) && !strcmp(s, v))
            return n;
    }
    return NULL;
}

static const char *ref_of(const json_t *o)
{
    return json_string_value(json_object_get(json_is_array(o) ? json_array_get(o, 0) : o, "@id"));
}

static void views_case_schedule(void **state)
{
    (void)state;
    const char *cust = "{\"seq\":1,\"time\":\"2024-05-01T10:00:00Z\",\"action\":\"received\","
                       "\"actor\":\"Jo Smith\",\"person\":\"person-1\",\"place\":\"place-1\"}\n";
    json_t *d = render_case(SCHED_RECORD, cust, NULL);
    const json_t *g = json_object_get(d, "@graph");
    assert_non_null(json_object_get(json_object_get(d, "@context"), "uco-role"));
    json_t *defs = json_object(), *refs = json_array(), *types = json_array();
    walk(g, defs, refs, types);
    size_t i;
    json_t *v;
    json_array_foreach(refs, i, v)
        assert_non_null(json_object_get(defs, json_string_value(v)));

    const json_t *p1 = node_named(g, "case-investigation:ProvenanceRecord",
                                  "case-investigation:exhibitNumber", "JS/1");
    assert_non_null(p1);
    assert_string_equal(json_string_value(json_object_get(p1, "uco-core:description")), "Photos");
    const json_t *xr = json_object_get(p1, "uco-core:externalReference");
    assert_int_equal(json_array_size(xr), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(xr, 1),
                                                          "uco-core:externalIdentifier")), "01XX");
    assert_string_equal(json_string_value(json_object_get(json_array_get(xr, 1),
                                                          "uco-core:definingContext")), "URN");

    /* the stated time, seconds added; the unstated one only described */
    const json_t *a1 = node_named(g, "case-investigation:InvestigativeAction", "uco-core:name",
                                  "seized");
    assert_non_null(a1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a1, "uco-action:startTime"),
                                                          "@value")),
                        "2026-03-14T11:20:00+01:00");
    assert_string_equal(ref_of(json_object_get(a1, "uco-action:result")), json_string_value(
                                                                            json_object_get(p1, "@id")));
    const json_t *a2 = node_named(g, "case-investigation:InvestigativeAction", "uco-core:name",
                                  "produced");
    assert_non_null(a2);
    assert_null(json_object_get(a2, "uco-action:startTime"));
    assert_null(json_object_get(a2, "uco-action:location")); /* place 7 is not a place */
    assert_non_null(strstr(json_string_value(json_object_get(a2, "uco-core:description")),
                           "time as written: 2026-03-14T11:20 (zone not stated)"));
    const char *desc1 = json_string_value(json_object_get(a1, "uco-core:description"));
    assert_non_null(desc1);
    assert_non_null(strstr(desc1, "handling notes (JS/1): bagged"));

    /* two people named Jo Smith stay two; the identifier is on the first */
    const char *w1 = ref_of(json_object_get(a1, "uco-action:performer"));
    const char *w2 = ref_of(json_object_get(a2, "uco-action:performer"));
    assert_non_null(w1);
    assert_non_null(w2);
    assert_string_not_equal(w1, w2);
    const json_t *pn = json_object_get(defs, w1);
    assert_string_equal(json_string_value(json_object_get(pn, "uco-core:name")), "Jo Smith");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(pn, "uco-core:externalReference"), 0),
                            "uco-core:externalIdentifier")),
                        "PC 1");
    assert_non_null(node_named(g, "uco-role:Role", "uco-core:name", "Seizing officer"));

    /* the place, as recorded */
    const json_t *loc = json_object_get(defs, ref_of(json_object_get(a1, "uco-action:location")));
    assert_non_null(loc);
    const json_t *fs = json_object_get(loc, "uco-core:hasFacet");
    assert_int_equal(json_array_size(fs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(fs, 0),
                                                          "uco-location:postalCode")), "EX1 2AB");
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            json_array_get(fs, 1), "uco-location:latitude"), "@value")),
                        "51.50735");

    /* the device and its owner; the system as a tool */
    const json_t *ins = json_object_get(a1, "uco-action:instrument");
    assert_int_equal(json_array_size(ins), 1);
    assert_non_null(node_named(g, "uco-identity:Identity", "uco-core:name", "Shop Ltd"));
    assert_non_null(node_named(g, "uco-core:Relationship", "uco-core:kindOfRelationship", "Owned_By"));
    assert_non_null(node_named(g, "uco-tool:Tool", "uco-core:name", "NVR"));

    /* the custody event names person-1 and place-1 */
    const json_t *rc = node_named(g, "case-investigation:InvestigativeAction", "uco-core:name",
                                  "received");
    assert_non_null(rc);
    assert_string_equal(ref_of(json_object_get(rc, "uco-action:performer")), w1);
    assert_string_equal(ref_of(json_object_get(rc, "uco-action:location")),
                        ref_of(json_object_get(a1, "uco-action:location")));
    json_decref(defs);
    json_decref(refs);
    json_decref(types);
    json_decref(d);

    /* no schedule, no uco-role prefix (the bytes of older bundles' views) */
    d = render_case(RECORD, CUSTODY, NULL);
    assert_null(json_object_get(json_object_get(d, "@context"), "uco-role"));
    json_decref(d);
}

static void views_hostile_records(void **state)
{
    (void)state;
    ev_errbuf e;
    char *out = NULL;
    size_t len = 7;
    e.msg[0] = '\0';
    assert_int_equal(ev_views__case_jsonld(&out, &len, "not json", 8, NULL, 0, &e), EV_EFORMAT);
    assert_null(out);
    assert_int_equal(len, 0);
    assert_non_null(strstr(e.msg, "evidence.json"));
    assert_int_equal(ev_views__index_html(&out, &len, "[1,2]", 5, NULL, 0, &e), EV_EFORMAT);
    assert_null(out);
    /* wrong types everywhere, a copy whose master is missing, a copy of
     * itself, no bundle id: still a complete, closed document */
    const char *recs[] = {
        "{}",
        "{\"items\":\"x\",\"case\":1,\"tool\":[],\"exported_by\":\"y\"}",
        "{\"items\":[1,null,{\"id\":5,\"path\":7,\"size\":\"big\",\"hashes\":[],"
        "\"capture\":{\"gps\":{\"latitude\":\"n\",\"longitude\":1e308}},\"media\":{\"streams\":3}}]}",
        "{\"items\":[{\"id\":\"c\",\"derived_from\":{\"item\":\"gone\"}},"
        "{\"id\":\"s\",\"derived_from\":{\"item\":\"s\",\"settings\":[1]}}]}",
    };
    for (size_t i = 0; i < sizeof(recs) / sizeof(*recs); i++) {
        json_t *d = render_case(recs[i], "\n\n{\"seq\":\"x\"}\n[]\n", NULL);
        json_t *defs = json_object(), *refs = json_array(), *types = json_array();
        walk(json_object_get(d, "@graph"), defs, refs, types);
        size_t k;
        json_t *v;
        json_array_foreach(refs, k, v)
            assert_non_null(json_object_get(defs, json_string_value(v)));
        json_decref(defs);
        json_decref(refs);
        json_decref(types);
        json_decref(d);
        char *h = render_html(recs[i], "{\"seq\":1}");
        assert_non_null(strstr(h, "</html>\n"));
        free(h);
    }
    assert_true(ev_views__is_view("case.jsonld"));
    assert_true(ev_views__is_view("index.html"));
    assert_false(ev_views__is_view("evidence.json"));
    assert_false(ev_views__is_view(NULL));
}

static char *render_layout(const char *rec, int layout)
{
    json_t *j = json_loads(rec, 0, NULL);
    assert_non_null(j);
    char *out = NULL;
    size_t len = 0;
    ev_errbuf e;
    e.msg[0] = '\0';
    ev_views__rec r;
    ev_views__rec_from(&r, j);
    assert_int_equal(ev_views__to_memory(&out, &len, EV_VIEWS__INDEX_HTML, &r, CUSTODY,
                                         strlen(CUSTODY), layout, &e),
                     EV_OK);
    ev_views__rec_free(&r);
    json_decref(j);
    assert_non_null(out);
    return out;
}

/* Layout 3 shows an exhibit schedule; a record without one gives the
 * layout-2 page byte for byte, naming layout 2 (docs/views.md, "Layouts"). */
static void views_html_exhibit_schedule(void **state)
{
    (void)state;
    char *two = render_layout(RECORD, 2), *three = render_layout(RECORD, 3);
    assert_string_equal(two, three);
    assert_non_null(strstr(three, "content=\"evidence index.html layout 2\""));
    assert_null(strstr(three, "Exhibits</h2>"));
    free(two);
    free(three);
    /* an empty list or another type is no schedule */
    const char *none[] = { "{\"exhibits\":[],\"items\":[]}", "{\"exhibits\":{\"a\":1}}" };
    for (size_t i = 0; i < 2; i++) {
        char *h = render_layout(none[i], 3);
        assert_non_null(strstr(h, "layout 2\""));
        assert_null(strstr(h, "Exhibits</h2>"));
        free(h);
    }
    /* hostile: wrong types, dangling ids, duplicate references, markup */
    const char *rec =
        "{\"exhibits\":[1,null,{\"reference\":\"A<\",\"event\":\"nope\"},"
        "{\"reference\":\"A<\",\"event\":\"e1\"},"
        "{\"reference\":\"B\",\"event\":\"e2\",\"description\":\"<script>&\","
        "\"extra\":{\"<k>\":[1,\"<b>\"]},\"source\":\"s\",\"references\":{\"urn\":\"U&\"}}],"
        "\"events\":[{\"id\":\"e1\",\"performer\":\"zz\",\"place\":7,\"time_local\":\"11:20\","
        "\"time_zone\":\"unknown\"},{\"id\":\"e2\",\"performer\":\"p1\",\"place\":\"l1\","
        "\"action\":\"<i>\",\"time_unknown\":true,\"end_time\":\"2026-01-01T00:00Z\","
        "\"end_time_zone\":\"stated\"},\"junk\"],"
        "\"people\":[{\"id\":\"p1\",\"name\":\"O'B\",\"identifier\":\"<1>\"}],"
        "\"places\":[{\"id\":\"l1\",\"latitude\":1e-30,\"longitude\":\"N<\"}],"
        "\"items\":[{\"id\":\"i<1>\",\"exhibit\":\"B\"},{\"id\":\"i2\",\"exhibit\":\"A<\"},"
        "{\"id\":\"i3\",\"exhibit\":5},{\"exhibit\":\"B\",\"derived_from\":{\"item\":\"i<1>\"}}]}";
    char *h = render_layout(rec, 3);
    assert_non_null(strstr(h, "layout 3\""));
    assert_null(strstr(h, "<script"));
    assert_null(strstr(h, "<i>"));
    assert_non_null(strstr(h, "<tr id=\"exhibit-3\"><td>A&lt;</td><td></td>"
                              "<td>event nope is not in the record</td>"));
    assert_non_null(strstr(h, "by: zz (not in the record)<br>time: <span class=\"t\">11:20"
                              "</span> (zone unknown)"));
    assert_non_null(strstr(h, "(this reference is also exhibit 3, where its files are listed)"));
    assert_non_null(strstr(h, "<td>&lt;script&gt;&amp;</td><td>action: &lt;i&gt;<br>by: O&#39;B "
                              "(&lt;1&gt;)<br>time: not known<br>until: <span class=\"t\">"
                              "2026-01-01T00:00Z</span> (zone stated)</td>"
                              "<td>latitude 1e-30, longitude N&lt;</td><td></td>"
                              "<td>URN: U&amp;</td><td>&lt;k&gt;: [1,&quot;&lt;b&gt;&quot;]</td>"));
    assert_non_null(strstr(h, "2 files (1 working copy)<br><a href=\"#i%3C1%3E\">"));
    /* items: linked to the first exhibit of their reference, with its summary */
    assert_non_null(strstr(h, "<tr id=\"i&lt;1&gt;\"><td><a href=\"#exhibit-5\">B</a><br><small>"
                              "&lt;script&gt;&amp;; &lt;i&gt; time not known</small>"));
    assert_non_null(strstr(h, "<tr id=\"i2\"><td><a href=\"#exhibit-3\">A&lt;</a></td>"));
    assert_non_null(strstr(h, "<tr id=\"i3\"><td></td>"));
    free(h);
}

static void views_html_thumbnails(void **state)
{
    (void)state;
    const char *rec =
        "{\"items\":[{\"id\":\"item-0001\",\"path\":\"data/1/a.jpg\",\"original_name\":\"<a>.jpg\","
        "\"media\":{\"kind\":\"image\",\"thumbnail\":{\"file\":\"thumb.jpg\",\"width\":160,"
        "\"height\":90}},\"meta\":[\"meta/item-0001/frames.txt\",\"meta/item-0001/thumb.jpg\"]},"
        "{\"id\":\"x\",\"path\":\"data/1/b.jpg\",\"media\":{\"thumbnail\":{\"width\":99999,"
        "\"height\":-1}},\"meta\":[\"meta/../etc/thumb.jpg\",\"data/1/thumb.jpg\","
        "\"https://example.org/thumb.jpg\",\"meta/a b#/thumb.jpg\"]},"
        "{\"id\":\"y\",\"meta\":[\"meta//thumb.jpg\",7]}]}";
    char *h = render_html(rec, NULL);
    assert_non_null(strstr(h, "<img src=\"meta/item-0001/thumb.jpg\" alt=\"thumbnail of "
                              "&lt;a&gt;.jpg\" width=\"160\" height=\"90\">"));
    /* a path outside meta/ or with . / .. / empty segments gives no image;
     * a safe one is percent-encoded; sizes out of range are left out */
    assert_non_null(strstr(h, "<img src=\"meta/a%20b%23/thumb.jpg\" alt=\"thumbnail of x\">"));
    size_t n = 0;
    for (const char *p = h; (p = strstr(p, "<img ")); p++)
        n++;
    assert_int_equal(n, 2);
    assert_non_null(strstr(h, "img-src 'self'"));
    free(h);
}

/* The record is read in pieces: members after the items, a second items
 * member (the last one counts, as for json_loadb), copies before their
 * master, and malformed bytes anywhere, including after the items. */
static void views_streamed_record(void **state)
{
    (void)state;
    const char *rec =
        "{\"items\":[{\"id\":\"old\"}],\"items\" : [ "
        "{\"id\":\"c2\",\"derived_from\":{\"item\":\"m2\",\"profile\":\"p\"}} , "
        "{\"id\":\"m1\",\"exhibit\":\"A\"},{\"id\":\"c1\",\"derived_from\":{\"item\":\"m1\"}},"
        "{\"id\":\"m2\",\"exhibit\":\"B\"},{\"id\":\"o\",\"derived_from\":{\"item\":\"gone\"}},"
        "\"s\\\"]}\" ] ,\"case\":{\"reference\":\"after the items\"},\"bundle_id\":\"" NS "\"}";
    char *h = render_html(rec, NULL);
    const char *m1 = strstr(h, "id=\"m1\""), *c1 = strstr(h, "id=\"c1\"");
    const char *m2 = strstr(h, "id=\"m2\""), *c2 = strstr(h, "id=\"c2\"");
    const char *o = strstr(h, "id=\"o\"");
    assert_true(m1 && c1 && m2 && c2 && o && m1 < c1 && c1 < m2 && m2 < c2 && c2 < o);
    assert_null(strstr(h, "id=\"old\""));
    assert_non_null(strstr(h, "<td>after the items</td>"));
    assert_non_null(strstr(h, "<tr><th>Items</th><td>6</td></tr>"));
    assert_non_null(strstr(h, "</table>\n<h2>Custody</h2>"));
    free(h);
    json_t *d = render_case(rec, NULL, NULL);
    const json_t *g = json_object_get(d, "@graph");
    /* c2 and c1 are derived (c2 before its master), o has no master */
    assert_int_equal(count_type(g, "uco-configuration:Configuration"), 2);
    assert_int_equal(count_type(g, "case-investigation:ProvenanceRecord"), 2);
    assert_int_equal(count_type(g, "uco-observable:File"), 6);
    json_decref(d);

    const char *bad[] = {
        "{\"items\":[{\"id\":1}]} x", "{\"items\":[{\"id\":1},]}", "{\"items\":[{\"id\":1}{}]}",
        "{\"items\":[{\"id\":1},{\"id\":}]}", "{\"items\":[\"unterminated]}",
        "{\"a\":1,}", "{\"a\" 1}", "{\"items\":[1]", "", "  ", "{\"items\":[1,2]]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        ev_errbuf e;
        char *out = NULL;
        size_t len = 0;
        e.msg[0] = '\0';
        assert_int_equal(ev_views__case_jsonld(&out, &len, bad[i], strlen(bad[i]), NULL, 0, &e),
                         EV_EFORMAT);
        assert_null(out);
        assert_int_equal(ev_views__index_html(&out, &len, bad[i], strlen(bad[i]), NULL, 0, &e),
                         EV_EFORMAT);
        assert_null(out);
        assert_non_null(strstr(e.msg, "evidence.json"));
    }
}

/* The record read item by item from its text (in memory, or through a read
 * function in 64 KiB pieces, as pack reads it back from its spill file)
 * gives the views byte for byte what the record parsed whole gives:
 * strings holding brackets, commas, quotes and backslashes across the
 * pieces' edges, an escaped "items" key, a later "items" that is not an
 * array, nested arrays as items, copies before and without masters. */
typedef struct memsrc {
    const char *t;
    size_t n;
} memsrc;

static int64_t memsrc_read(void *ctx, void *buf, size_t len, uint64_t off)
{
    const memsrc *m = ctx;
    if (off >= m->n)
        return 0;
    if (len > m->n - off)
        len = m->n - off;
    memcpy(buf, m->t + off, len);
    return (int64_t)len;
}

static char *view_of(ev_views__view v, const ev_views__rec *r)
{
    char *out = NULL;
    size_t len = 0;
    ev_errbuf e;
    e.msg[0] = '\0';
    assert_int_equal(ev_views__to_memory(&out, &len, v, r, CUSTODY, strlen(CUSTODY),
                                         v == EV_VIEWS__CASE_JSONLD ? 2 : 3, &e),
                     EV_OK);
    return out;
}

static void views_item_reader_same_bytes(void **state)
{
    (void)state;
    ev_buf big = { 0 };
    assert_int_equal(ev_buf__puts(&big, "{\"bundle_id\":\"" NS "\",\"case\":{\"reference\":"
                                        "\"x\\\"]}\"},\"items\":[\n"), EV_OK);
    for (int i = 0; i < 3000; i++)
        assert_int_equal(
            ev_buf__printf(&big,
                           "%s{\"id\":\"i%d\",\"path\":\"data/a\\\"],[{\\\\%d.bin\",\"exhibit\":"
                           "\"E%d\",\"mime\":\"text/plain\",\"size\":%d,\"hashes\":{\"sha256\":"
                           "\"%064d\"},\"note\":[\"]\",\"[\",\"{\",\"}\",\",\",[[%d]]]%s}",
                           i ? " ,\n  " : "", i, i, i % 7, i, i, i,
                           i % 5 == 1 ? ",\"derived_from\":{\"item\":\"i" "0\"}" : ""),
            EV_OK);
    assert_int_equal(ev_buf__puts(&big, "\n] , \"exported_by\":{\"name\":\"after\"}}"), EV_OK);
    const char *small[] = {
        "{\"it\\u0065ms\":[{\"id\":\"a\"},{\"id\":\"b\",\"derived_from\":{\"item\":\"a\"}}],"
        "\"bundle_id\":\"" NS "\"}",
        "{\"items\":[{\"id\":\"a\"}],\"items\":{\"id\":\"not an array\"},\"bundle_id\":\"" NS "\"}",
        "{\"items\":[[1,[2]],{\"id\":\"x\"},\"s\",3,null],\"bundle_id\":\"" NS "\"}",
        "{\"items\":[],\"bundle_id\":\"" NS "\"}",
        "  {\"items\" : [ {\"id\":\"c\",\"derived_from\":{\"item\":\"m\"}} , {\"id\":\"m\"} ] }\n",
    };
    for (size_t k = 0; k < sizeof(small) / sizeof(*small) + 1; k++) {
        const char *t = k < sizeof(small) / sizeof(*small) ? small[k] : big.data;
        size_t n = strlen(t);
        json_t *whole = json_loadb(t, n, 0, NULL);
        assert_non_null(whole);
        ev_views__rec parsed, text, piece;
        ev_views__rec_from(&parsed, whole);
        ev_errbuf e;
        assert_int_equal(ev_views__rec_open(&text, t, n, &e), EV_OK);
        memsrc m = { t, n };
        assert_int_equal(ev_views__rec_read(&piece, memsrc_read, &m, n, &e), EV_OK);
        assert_non_null(text.src);
        assert_non_null(piece.src);
        assert_int_equal(text.nitems, parsed.nitems);
        assert_int_equal(piece.nitems, parsed.nitems);
        /* a second reader sharing piece's index of the items (verify
         * renders index.html with one on its own thread) */
        ev_views__rec shared;
        assert_int_equal(ev_views__rec_share(&shared, &piece), EV_OK);
        assert_int_equal(shared.nitems, piece.nitems);
        assert_ptr_not_equal(shared.root, piece.root);
        for (int v = 0; v < 2; v++) {
            char *a = view_of((ev_views__view)v, &parsed), *b = view_of((ev_views__view)v, &text);
            char *c = view_of((ev_views__view)v, &piece);
            char *d = view_of((ev_views__view)v, &shared);
            assert_string_equal(a, b);
            assert_string_equal(a, c);
            assert_string_equal(a, d);
            free(a);
            free(b);
            free(c);
            free(d);
        }
        /* each reader has its own current item: reading one does not move
         * the other */
        if (piece.nitems > 1) {
            const json_t *x = ev_views__item(&piece, 0);
            assert_non_null(x);
            json_t *keep = json_deep_copy(x);
            assert_non_null(ev_views__item(&shared, 1));
            assert_true(json_equal(keep, ev_views__item(&piece, 0)));
            assert_true(json_equal(json_array_get(parsed.items, 1), ev_views__item(&shared, 1)));
            json_decref(keep);
        }
        ev_views__rec_free(&shared); /* before piece, whose index it borrows */
        ev_views__rec_free(&parsed);
        ev_views__rec_free(&text);
        ev_views__rec_free(&piece);
        json_decref(whole);
    }
    /* only a reader of the items one by one can be shared */
    json_t *obj = json_loads("{\"items\":[]}", 0, NULL);
    ev_views__rec whole, none;
    ev_views__rec_from(&whole, obj);
    assert_int_equal(ev_views__rec_share(&none, &whole), EV_EINVAL);
    assert_null(none.src);
    ev_views__rec_free(&whole);
    json_decref(obj);

    /* an item that is not JSON, found only when read: an error, not a view */
    const char *bad = "{\"items\":[{\"id\":\"a\"},{\"id\":tru}],\"bundle_id\":\"x\"}";
    ev_views__rec r;
    ev_errbuf e;
    memsrc m = { bad, strlen(bad) };
    assert_int_equal(ev_views__rec_read(&r, memsrc_read, &m, m.n, &e), EV_OK);
    ev_buf out = { 0 };
    e.msg[0] = '\0';
    assert_int_equal(ev_views__write(&out, EV_VIEWS__INDEX_HTML, &r, NULL, 0, &e), EV_EFORMAT);
    assert_non_null(strstr(e.msg, "evidence.json"));
    ev_buf__free(&out);
    ev_views__rec_free(&r);
    ev_buf__free(&big);
}

/* ---- the verification report (report_html.c) ---------------------------------- */

static const char *HOSTILE_RECORD =
    "{\"bundle_id\":\"urn:uuid:x\",\"case\":{\"reference\":\"<script>alert(1)</script>\"},"
    "\"items\":[{\"id\":\"item-0001\",\"exhibit\":\"J'S\\\"1\",\"role\":\"master\","
    "\"path\":\"data/a<b>.jpg\",\"original_name\":\"<img src=x onerror=alert(2)>\","
    "\"size\":3,\"hashes\":{\"sha256\":\"" H1 "\"},\"mime\":\"image/jpeg\","
    "\"capture\":{\"source\":\"exif\",\"sources\":{\"datetime_original\":\"exif:ExifIFD\","
    "\"make\":\"exif:<IFD0>\"},"
    "\"datetime_original_local\":\"2024-05-01T10:20:30\",\"datetime_original_zone\":\"unknown\","
    "\"datetime_digitized\":\"2024-05-01T09:20:30Z\",\"datetime_digitized_zone\":\"utc-by-format\","
    "\"datetime_modified\":\"2024-05-01T11:20:30+01:00\",\"datetime_modified_zone\":\"stated\","
    "\"datetime_modified_utc_offset\":\"+01:00\","
    "\"make\":\"<script src=//evil.example/x.js></script>\",\"model\":\"M&M's\","
    "\"gps\":{\"placeholder\":true,\"raw\":{\"iso6709\":\"+00.0000+000.0000/\"}}}}]}";

static const char *HOSTILE_CUSTODY =
    "{\"seq\":1,\"time\":\"2024-05-01T10:00:00Z\",\"action\":\"created\","
    "\"actor\":\"<iframe src=http://x>\",\"organisation\":\"O'Brien & Co\",\"tool\":\"evidence\","
    "\"tool_version\":\"0.1.0\",\"prev_sha256\":null}\n";

static char *render_report(ev_report *r, const char *record, const char *custody)
{
    json_t *rec = record ? json_loads(record, 0, NULL) : NULL;
    if (record)
        assert_non_null(rec);
    json_t *libs = json_pack("{s:s, s:s}", "libevidence", "0.1.0", "<b>lib</b>", "\"1\"");
    ev_views__report_in in;
    memset(&in, 0, sizeof(in));
    in.r = r;
    in.record = rec;
    in.custody = custody;
    in.custody_len = custody ? strlen(custody) : 0;
    in.bundle_path = "/cases/<x>.zip";
    in.is_zip = true;
    in.bundle_sha256 = H2;
    in.has_record = rec != NULL;
    in.has_custody = custody != NULL;
    in.checked_at = "2024-05-02T00:00:00Z";
    in.tool = "evidence 0.1.0";
    in.libraries = libs;
    char *out = NULL;
    size_t len = 0;
    ev_errbuf e;
    assert_int_equal(ev_views__report_html(&out, &len, &in, &e), EV_OK);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);
    json_decref(rec);
    json_decref(libs);
    return out;
}

/* The page holds no markup from the bundle, no script and no URL: every
 * '<' opens one of the page's own elements, and inside the tags there are
 * only the page's own attributes (text may hold anything, escaped). */
static void assert_inert(const char *html)
{
    static const char *const tags[] = { "!DOCTYPE", "html", "head", "meta", "title", "style",
                                        "body", "h1", "h2", "h3", "p", "div", "table", "thead",
                                        "tbody", "tr", "th", "td", "span", "strong", "em", "br",
                                        "ul", "li", "hr", "code" };
    static const char *const attrs[] = { "lang", "charset", "http-equiv", "content", "name",
                                         "class", "id", "colspan" };
    for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
        const char *q = p + 1 + (p[1] == '/');
        size_t n = strcspn(q, " >");
        bool known = false;
        for (size_t i = 0; i < sizeof(tags) / sizeof(*tags) && !known; i++)
            known = strlen(tags[i]) == n && strncmp(q, tags[i], n) == 0;
        if (!known)
            fail_msg("the report holds an element <%.*s", (int)n, q);
        const char *end = strchr(q, '>');
        assert_non_null(end);
        /* attributes: name="value" pairs; a value never holds '"' or '>' */
        for (const char *a = q + n; a < end;) {
            while (a < end && *a == ' ')
                a++;
            if (a >= end)
                break;
            size_t an = strcspn(a, "= >");
            bool ok = false;
            for (size_t i = 0; i < sizeof(attrs) / sizeof(*attrs) && !ok; i++)
                ok = strlen(attrs[i]) == an && strncmp(a, attrs[i], an) == 0;
            if (!ok && !(n == 8 && an == 4 && !strncmp(a, "html", 4)))
                fail_msg("the report holds an attribute %.*s", (int)an, a);
            a += an;
            if (*a == '=') {
                assert_true(a[1] == '"');
                const char *v = strchr(a + 2, '"');
                assert_true(v && v < end);
                a = v + 1;
            }
        }
    }
    assert_null(strcasestr(html, "<script"));
}

static void views_report_html_escapes_and_states(void **state)
{
    (void)state;
    ev_report *r = NULL;
    assert_int_equal(ev_report__new(&r, "evidence.verify"), EV_OK);
    r->bag_name = strdup("<bag onload=x>");
    r->bundle_path = strdup("/cases/<x>.zip");
    ev_report__add(r, EV_SEVERITY_ERROR, "modified", "data/a<b>.jpg",
                   "'data/a<b>.jpg' was modified: <script>alert(3)</script>");
    ev_report__add(r, EV_SEVERITY_WARNING, "zip-local-field-mismatch", "x\"y", "w & 'v'");
    ev_report__add_file(r, "data/a<b>.jpg", false, EV_FILE_MODIFIED, 3, H2);
    char *html = render_report(r, HOSTILE_RECORD, HOSTILE_CUSTODY);
    assert_inert(html);
    /* every hostile string is there, escaped */
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "&lt;img src=x onerror=alert(2)&gt;"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(3)&lt;/script&gt;"));
    assert_non_null(strstr(html, "&lt;script src=//evil.example/x.js&gt;&lt;/script&gt;"));
    assert_non_null(strstr(html, "J&#39;S&quot;1"));
    assert_non_null(strstr(html, "M&amp;M&#39;s"));
    assert_non_null(strstr(html, "O&#39;Brien &amp; Co"));
    assert_non_null(strstr(html, "&lt;iframe src=http"));
    assert_non_null(strstr(html, "exif:&lt;IFD0&gt;"));
    assert_non_null(strstr(html, "&lt;bag onload=x&gt;"));
    assert_non_null(strstr(html, "&lt;b&gt;lib&lt;/b&gt; &quot;1&quot;"));
    assert_non_null(strstr(html, "w &amp; &#39;v&#39;"));
    /* the verdict, the failed check, the modified file */
    assert_non_null(strstr(html, "Verdict: INVALID"));
    assert_non_null(strstr(html, "Payload manifests</td><td><span class=\"fail\">FAILED"));
    assert_non_null(strstr(html, "Container</td><td><span class=\"warn\">passed with 1 warning"));
    assert_non_null(strstr(html, "MODIFIED: differs from its manifest"));
    /* times exactly as the record states them, each with its source */
    assert_non_null(strstr(html, "2024-05-01T10:20:30 <strong>camera-local time, zone "
                                 "unknown</strong>"));
    assert_null(strstr(html, "2024-05-01T10:20:30Z"));
    assert_null(strstr(html, "2024-05-01T10:20:30+"));
    assert_non_null(strstr(html, "zone unknown</strong> <span class=\"note\">(not UTC; the "
                                 "source gives no zone or offset)</span></td><td "
                                 "class=\"src\">exif:ExifIFD</td>"));
    assert_non_null(strstr(html, "2024-05-01T09:20:30Z <span class=\"note\">(UTC because the "
                                 "file format defines it so"));
    assert_non_null(strstr(html, "2024-05-01T11:20:30+01:00 <span class=\"note\">(zone stated "
                                 "by the source: UTC+01:00)"));
    /* a fact without a source of its own names the primary source */
    assert_non_null(strstr(html, "M&amp;M&#39;s</td><td class=\"src\">exif</td>"));
    assert_non_null(strstr(html, "placeholder only: no position was recorded"));
    /* what was not checked */
    assert_non_null(strstr(html, "Deep content checks: not asked"));
    assert_non_null(strstr(html, "Signatures: not checked"));
    assert_non_null(strstr(html, "Views: the bundle holds no views"));
    free(html);

    /* unreadable; fast mode leaves the hashes unchecked */
    r->unreadable = true;
    r->fast = true;
    html = render_report(r, NULL, NULL);
    assert_inert(html);
    assert_non_null(strstr(html, "Verdict: UNREADABLE"));
    assert_non_null(strstr(html, "Payload manifests: not hashed: fast mode"));
    assert_non_null(strstr(html, "Record: no evidence.json in the bag"));
    free(html);
    ev_report_free(r);

    /* valid, deep, with signatures: no "not checked" for them */
    assert_int_equal(ev_report__new(&r, "evidence.verify"), EV_OK);
    r->deep = true;
    r->extra = json_pack("{s:{s:I, s:b, s:s, s:[{s:s, s:n, s:I, s:s, s:s, s:s, s:s, s:b, "
                         "s:s, s:s, s:[]}]}}", "signatures", "present", (json_int_t)1,
                         "verified", 1, "verdict", "valid", "signatures", "path",
                         "signatures/0001-<x>.p7s", "token", "events", (json_int_t)1,
                         "signer", "CN=<Jane>", "signing_time", "2024-05-01T10:20:30Z",
                         "tsa_time", "2024-05-01T10:20:31Z", "tsa", "CN=TSA", "tsa_verified",
                         1, "verdict", "valid", "status", "ok", "problems");
    assert_non_null(r->extra);
    html = render_report(r, HOSTILE_RECORD, HOSTILE_CUSTODY);
    assert_inert(html);
    assert_non_null(strstr(html, "Verdict: VALID"));
    assert_non_null(strstr(html, "CN=&lt;Jane&gt;"));
    assert_non_null(strstr(html, "2024-05-01T10:20:31Z by CN=TSA (the TSA chains to a trusted "
                                 "root)"));
    assert_non_null(strstr(html, "signatures/0001-&lt;x&gt;.p7s"));
    assert_null(strstr(html, "Deep content checks: not asked"));
    assert_null(strstr(html, "Signatures: "));
    free(html);
    ev_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(views_case_is_closed_and_prefixed),
        cmocka_unit_test(views_case_files_and_hashes),
        cmocka_unit_test(views_case_capture),
        cmocka_unit_test(views_case_derivation_and_custody),
        cmocka_unit_test(views_are_deterministic),
        cmocka_unit_test(views_parsed_equals_text),
        cmocka_unit_test(views_html_escapes_everything),
        cmocka_unit_test(views_html_links_only_into_data),
        cmocka_unit_test(views_html_states_what_is_known),
        cmocka_unit_test(views_html_masters_then_copies),
        cmocka_unit_test(views_hostile_records),
        cmocka_unit_test(views_case_schedule),
        cmocka_unit_test(views_html_thumbnails),
        cmocka_unit_test(views_html_exhibit_schedule),
        cmocka_unit_test(views_streamed_record),
        cmocka_unit_test(views_item_reader_same_bytes),
        cmocka_unit_test(views_report_html_escapes_and_states),
    };
    return cmocka_run_group_tests_name("views", tests, NULL, NULL);
}
