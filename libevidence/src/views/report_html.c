/*
 * report_html: the verification report, one self-contained HTML page for
 * auditors and courts (docs/cli/evidence-report.md): what was checked, when,
 * by what, on which file; every check's result; what was not checked and
 * why; every item with its hashes and capture facts as the record states
 * them; the custody log. It holds no script, loads nothing (no URL, no
 * link, no image) and carries a print stylesheet.
 *
 * Everything from the bundle (record, custody log, problem messages, paths,
 * certificate subjects) is hostile and goes through ev_views__esc.
 */
#include "views/views_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/report.h"

typedef ev_views__hbuf hbuf;
#define hput ev_views__hput
#define hprintf ev_views__hprintf
#define esc ev_views__esc

static const char STYLE[] =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:14px;color:#111;margin:2em auto;"
    "max-width:64em;padding:0 1em;line-height:1.35}\n"
    "h1{font-size:1.6em;margin:0 0 .3em}h2{font-size:1.2em;border-bottom:2px solid #444;"
    "margin:1.6em 0 .5em;padding-bottom:.15em}h3{font-size:1.05em;margin:1.2em 0 .3em}\n"
    "table{border-collapse:collapse;width:100%;margin:.3em 0 .8em}\n"
    "th,td{border:1px solid #bbb;padding:.25em .45em;text-align:left;vertical-align:top}\n"
    "th{background:#eee;font-weight:600;width:14em}thead th{width:auto}\n"
    ".checks td:first-child{width:10em;font-weight:600}.checks td:nth-child(2){width:11em}\n"
    ".problems td:first-child{width:5em}.problems td:nth-child(3){width:14em}\n"
    ".code,.src{overflow-wrap:normal;word-break:normal;white-space:nowrap}\n"
    ".code{font-family:'DejaVu Sans Mono',monospace;font-size:.86em}\n"
    ".capture tbody th{width:11em}.capture thead th:nth-child(2){width:auto}\n"
    "td{overflow-wrap:anywhere}\n"
    ".hex{font-family:'DejaVu Sans Mono',monospace;font-size:.86em;overflow-wrap:anywhere}\n"
    ".verdict{font-size:1.5em;font-weight:700;padding:.45em .7em;border:3px solid;"
    "margin:.6em 0}\n"
    ".valid{color:#0a5d1c;border-color:#0a5d1c;background:#e7f5ea}\n"
    ".invalid{color:#9b0d0d;border-color:#9b0d0d;background:#fbe9e9}\n"
    ".unreadable{color:#7a4b00;border-color:#7a4b00;background:#fff3dc}\n"
    ".pass{color:#0a5d1c;font-weight:600}.fail{color:#9b0d0d;font-weight:700}\n"
    ".warn{color:#7a4b00;font-weight:600}.skip{color:#555;font-style:italic}\n"
    ".note{color:#444;font-size:.92em}\n"
    ".item{border:1px solid #999;padding:.2em .7em .4em;margin:.8em 0;break-inside:avoid}\n"
    ".sig{break-inside:avoid}\n"
    ".timeline{margin:.3em 0 .6em}.timeline ol{margin:.2em 0;padding-left:2em}"
    ".timeline strong{color:#9b0d0d}\n"
    "@media print{body{margin:0;max-width:none;font-size:10.5pt}"
    "h2{break-after:avoid}tr,.verdict{break-inside:avoid}"
    ".verdict,.valid,.invalid,.unreadable,th{-webkit-print-color-adjust:exact;"
    "print-color-adjust:exact}"
    "@page{size:A4;margin:15mm}}\n";

/* ---- small pieces -------------------------------------------------------------- */

#define row ev_views__row

static void row_hex(hbuf *b, const char *k, const char *v)
{
    if (!v)
        return;
    hput(b, "<tr><th>");
    esc(b, k);
    hput(b, "</th><td class=\"hex\">");
    esc(b, v);
    hput(b, "</td></tr>\n");
}

static const char *sev_name(ev_severity s)
{
    return s == EV_SEVERITY_ERROR ? "error" : s == EV_SEVERITY_WARNING ? "warning" : "note";
}

static const char *file_status_name(ev_file_status s)
{
    switch (s) {
    case EV_FILE_OK: return "matches its manifests";
    case EV_FILE_MODIFIED: return "MODIFIED: differs from its manifest";
    case EV_FILE_MISSING: return "MISSING";
    case EV_FILE_EXTRA: return "not listed in the manifests";
    case EV_FILE_ERROR: return "UNREADABLE";
    default: return "not hashed";
    }
}

/* ---- the checks ----------------------------------------------------------------- */

enum {
    CK_CONTAINER,
    CK_STRUCTURE,
    CK_PAYLOAD,
    CK_TAGS,
    CK_CUSTODY,
    CK_RECORD,
    CK_VIEWS,
    CK_DERIVATIONS,
    CK_DEEP,
    CK_OTHER,
    CK_COUNT
};

static const struct {
    const char *name;
    const char *what;
} CHECKS[CK_COUNT] = {
    { "Container", "the ZIP structure and every entry name: no unsafe path, link, duplicate, "
                   "collision, hidden or inconsistent header, no second top folder" },
    { "BagIt structure", "bagit.txt, data/, bag-info.txt and its Payload-Oxum, fetch.txt, "
                         "tag files as UTF-8 (RFC 8493)" },
    { "Payload manifests", "every payload file present, listed in every payload manifest, "
                           "read to its end and matching every checksum" },
    { "Tag manifests and seal", "every tag file (evidence.json, custody.jsonl, bag-info.txt, "
                                "views, meta files) against the tag manifests, and the tag "
                                "manifests against the seal tagseal-sha256.txt" },
    { "Custody chain", "custody.jsonl: each event a JSON object whose seq follows and whose "
                       "prev_sha256 is the SHA-256 of the line before; valid times and "
                       "actions; the last event vouches for the current manifest and record" },
    { "Record", "evidence.json: its schema, one item per payload file with the same size "
                "and SHA-256 as the manifest, agreement with bag-info.txt, MIME types "
                "against the file contents" },
    { "Views", "case.jsonld and index.html are byte for byte what the record and the "
               "custody log generate" },
    { "Derivations", "each working copy names a master in the record whose SHA-256 it "
                     "was made from, and its derivation record agrees with both" },
    { "Deep content checks", "media content hashes recomputed from the decoded streams "
                             "(naming the frames that changed); working copies re-checked "
                             "against their masters" },
    { "Other", "problems of other kinds" },
};

static bool starts(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static bool is(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(s, *set))
            return true;
    return false;
}

/* The check a problem code belongs to (docs/verify-codes.md sections). */
static int check_of(const char *code)
{
    static const char *const container[] = { "unsafe-path", "unsafe-entry-type",
                                             "duplicate-entry", "normalization-collision",
                                             "case-collision", "second-top-folder",
                                             "no-single-top-folder", NULL };
    static const char *const structure[] = { "tag-bom", "tag-not-utf8", "tag-unlisted",
                                             "data-dir-missing", NULL };
    static const char *const payload[] = { "payload-manifest-missing", "missing", "extra",
                                           "not-in-manifest", "normalization-mismatch",
                                           "modified", "unreadable", "tag-unreadable",
                                           "extract-failed", "extract-discarded", NULL };
    if (!code)
        return CK_OTHER;
    if (is(code, container) || starts(code, "zip-"))
        return CK_CONTAINER;
    if (is(code, structure) || starts(code, "bagit-") || starts(code, "baginfo-") ||
        starts(code, "oxum-") || starts(code, "fetch-"))
        return CK_STRUCTURE;
    if (is(code, payload) || starts(code, "manifest-"))
        return CK_PAYLOAD;
    if (!strcmp(code, "tag-modified") || starts(code, "tagmanifest-") || starts(code, "seal-"))
        return CK_TAGS;
    if (starts(code, "custody-") || !strcmp(code, "limit-custody-events"))
        return CK_CUSTODY;
    if (starts(code, "record-") || starts(code, "limit-"))
        return CK_RECORD;
    if (!strcmp(code, "view-mismatch"))
        return CK_VIEWS;
    if (starts(code, "derivation-recheck-") || starts(code, "content-") ||
        starts(code, "deep-"))
        return CK_DEEP;
    if (starts(code, "derivation-"))
        return CK_DERIVATIONS;
    return CK_OTHER;
}

/* Why a check did not run, or NULL when it ran. */
static const char *not_run(int ck, const ev_views__report_in *in, size_t ncopies)
{
    const ev_report *r = in->r;
    switch (ck) {
    case CK_PAYLOAD:
        return r->fast ? "not hashed: fast mode (--fast) compares only Payload-Oxum and the "
                         "file lists, no file was read"
                       : NULL;
    case CK_TAGS:
        return r->fast ? "not checked: fast mode (--fast) reads no file" : NULL;
    case CK_CUSTODY:
        return in->has_custody ? NULL : "no custody.jsonl in the bag: not an evidence bundle";
    case CK_RECORD:
        return in->has_record ? NULL : "no evidence.json in the bag: not an evidence bundle, "
                                       "only the BagIt checks apply";
    case CK_VIEWS:
        if (!in->has_views)
            return "the bundle holds no views (case.jsonld, index.html)";
        return r->fast ? "not checked: fast mode (--fast)" : NULL;
    case CK_DERIVATIONS:
        return in->has_record && ncopies == 0 ? "no working copies in the record" : NULL;
    case CK_DEEP:
        return r->deep ? NULL : "not asked: media content hashes were not recomputed "
                                "(evidence report --deep, as evidence verify --deep)";
    default:
        return NULL;
    }
}

static void checks_table(hbuf *b, const ev_views__report_in *in, size_t ncopies)
{
    const ev_report *r = in->r;
    size_t nerr[CK_COUNT] = { 0 }, nwarn[CK_COUNT] = { 0 }, nnote[CK_COUNT] = { 0 };
    for (size_t i = 0; i < r->nproblems; i++) {
        int ck = check_of(r->problems[i].code);
        if (r->problems[i].severity == EV_SEVERITY_ERROR)
            nerr[ck]++;
        else if (r->problems[i].severity == EV_SEVERITY_WARNING)
            nwarn[ck]++;
        else
            nnote[ck]++;
    }
    hput(b, "<table class=\"checks\">\n<thead><tr><th>check</th><th>result</th>"
            "<th>what it covers</th></tr></thead>\n<tbody>\n");
    for (int ck = 0; ck < CK_COUNT; ck++) {
        if (ck == CK_OTHER && !nerr[ck] && !nwarn[ck] && !nnote[ck])
            continue;
        const char *why = not_run(ck, in, ncopies);
        hput(b, "<tr><td>");
        esc(b, CHECKS[ck].name);
        hput(b, "</td><td>");
        if (nerr[ck])
            hprintf(b, "<span class=\"fail\">FAILED</span> (%zu error%s%s)", nerr[ck],
                    nerr[ck] == 1 ? "" : "s", nwarn[ck] ? ", and warnings" : "");
        else if (why && ck == CK_DERIVATIONS)
            hput(b, "<span class=\"skip\">nothing to check</span>");
        else if (why)
            hput(b, "<span class=\"skip\">not checked</span>");
        else if (r->unreadable)
            hput(b, "<span class=\"warn\">not completed</span> (the bundle is unreadable)");
        else if (nwarn[ck])
            hprintf(b, "<span class=\"warn\">passed with %zu warning%s</span>", nwarn[ck],
                    nwarn[ck] == 1 ? "" : "s");
        else
            hput(b, "<span class=\"pass\">passed</span>");
        if (nnote[ck])
            hprintf(b, " <span class=\"note\">(%zu note%s)</span>", nnote[ck],
                    nnote[ck] == 1 ? "" : "s");
        hput(b, "</td><td>");
        esc(b, CHECKS[ck].what);
        if (why) {
            hput(b, "<br><span class=\"skip\">");
            esc(b, why);
            hput(b, "</span>");
        }
        hput(b, "</td></tr>\n");
    }
    hput(b, "</tbody></table>\n");
}

/* ---- signatures ---------------------------------------------------------------- */

static bool is_p7s(const char *p)
{
    size_t n = p ? strlen(p) : 0;
    return n > 4 && !strcmp(p + n - 4, ".p7s");
}

/* add a sentence to the "not checked" list */
static void note_not_run(json_t *notrun, const char *s)
{
    if (s)
        json_array_append_new(notrun, ev__json_str(s));
}

static void signatures(hbuf *b, const json_t *sec, json_t *notrun)
{
    if (!json_is_object(sec)) {
        hput(b, "<p class=\"skip\">Signatures were not checked: the verification did not "
                "include them.</p>\n");
        note_not_run(notrun, "Signatures: not checked (the verification did not include "
                               "them).");
        return;
    }
    bool verified = json_is_true(json_object_get(sec, "verified"));
    json_int_t present = json_integer_value(json_object_get(sec, "present"));
    hput(b, "<table>\n");
    hprintf(b, "<tr><th>signature files</th><td>%lld</td></tr>\n", (long long)present);
    row(b, "verdict of the signatures", present ? jstr(sec, "verdict") : "none to check");
    row(b, "trust anchors", verified ? "given: each signer's certificate chain was checked"
                                     : "none given: integrity only, signers not checked");
    hput(b, "</table>\n");
    if (present == 0)
        note_not_run(notrun, "Signatures: the bundle holds none.");
    else if (!verified)
        note_not_run(notrun, "Signatures: who signed was not checked, because no trust "
                               "anchors were given (--ca ROOTS.pem). Each signature was "
                               "checked against the custody log it covers.");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(sec, "signatures"), i, s) {
        const char *path = jstr(s, "path");
        hput(b, "<div class=\"sig\">\n<h3>");
        esc(b, path ? path : "(no name)");
        hput(b, "</h3>\n<table>\n");
        const char *v = jstr(s, "verdict");
        hput(b, "<tr><th>verdict</th><td>");
        bool good = v && (!strcmp(v, "valid") || !strcmp(v, "unverified"));
        hprintf(b, "<span class=\"%s\">", good ? (!strcmp(v, "valid") ? "pass" : "warn")
                                                : "fail");
        esc(b, v ? v : "?");
        hput(b, "</span>");
        if (v && !strcmp(v, "unverified"))
            hput(b, " (matches the custody log; the signer was not checked: no trust "
                    "anchors)");
        hput(b, "</td></tr>\n");
        if (is_p7s(path))
            hprintf(b, "<tr><th>covers</th><td>custody events 1 to %lld</td></tr>\n",
                    (long long)json_integer_value(json_object_get(s, "events")));
        row(b, "signer (certificate subject)", jstr(s, "signer"));
        if (jstr(s, "signing_time")) {
            hput(b, "<tr><th>signing time</th><td>");
            esc(b, jstr(s, "signing_time"));
            hput(b, " (the signer's own clock: a claim)</td></tr>\n");
        }
        if (jstr(s, "tsa_time")) {
            hput(b, "<tr><th>timestamp</th><td>");
            esc(b, jstr(s, "tsa_time"));
            hput(b, " by ");
            esc(b, jstr(s, "tsa") ? jstr(s, "tsa") : "an unnamed TSA");
            hput(b, json_is_true(json_object_get(s, "tsa_verified"))
                        ? " (the TSA chains to a trusted root)"
                        : " (the TSA was not checked against a trusted root)");
            hput(b, "</td></tr>\n");
            row(b, "token", jstr(s, "token"));
        } else if (is_p7s(path)) {
            hput(b, "<tr><th>timestamp</th><td class=\"skip\">none: no time-stamping authority "
                    "vouches for when this signature was made</td></tr>\n");
            char *m = ev__asprintf("Timestamp of %s: there is none, so only the signer's "
                                   "claimed time says when it was signed.", path);
            if (m)
                note_not_run(notrun, m);
            free(m);
        }
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(s, "problems"), k, p) {
            hput(b, "<tr><th>");
            esc(b, jstr(p, "severity"));
            hput(b, "</th><td><span class=\"code\">");
            esc(b, jstr(p, "code"));
            hput(b, "</span> ");
            esc(b, jstr(p, "message"));
            hput(b, "</td></tr>\n");
        }
        hput(b, "</table>\n</div>\n");
    }
}

/* ---- items ------------------------------------------------------------------------ */

static const char *source_of(const json_t *c, const char *field)
{
    const char *s = jstr(json_object_get(c, "sources"), field);
    return s ? s : jstr(c, "source");
}

/* a capture row: field, value (escaped pieces already written by the
 * caller between open and close), source */
static void cap_open(hbuf *b, const char *label)
{
    hput(b, "<tr><th>");
    esc(b, label);
    hput(b, "</th><td>");
}

static void cap_close(hbuf *b, const json_t *c, const char *field)
{
    hput(b, "</td><td class=\"src\">");
    esc(b, source_of(c, field));
    hput(b, "</td></tr>\n");
}

/* One of datetime_original / _digitized / _modified, exactly as the record
 * states it: a camera-local time with an unknown zone never looks like UTC. */
static void cap_time(hbuf *b, const json_t *c, const char *field, const char *label)
{
    char k[64];
    snprintf(k, sizeof(k), "%s_local", field);
    const char *local = jstr(c, k);
    snprintf(k, sizeof(k), "%s_zone", field);
    const char *zone = jstr(c, k);
    snprintf(k, sizeof(k), "%s_utc_offset", field);
    const char *off = jstr(c, k);
    const char *when = jstr(c, field);
    if (!when && !local)
        return;
    cap_open(b, label);
    if (when) {
        esc(b, when);
        if (zone && !strcmp(zone, "stated")) {
            hput(b, " <span class=\"note\">(zone stated by the source");
            if (off) {
                hput(b, ": UTC");
                esc(b, off);
            }
            hput(b, ")</span>");
        } else if (zone && !strcmp(zone, "utc-by-format")) {
            hput(b, " <span class=\"note\">(UTC because the file format defines it so; "
                    "nothing confirms that the device clock was set to UTC)</span>");
        } else {
            hput(b, " <span class=\"note\">(zone basis: ");
            esc(b, zone ? zone : "not recorded");
            hput(b, ")</span>");
        }
        if (local) {
            hput(b, "<br><span class=\"note\">as written by the device: ");
            esc(b, local);
            hput(b, "</span>");
        }
    } else {
        esc(b, local);
        hput(b, " <strong>camera-local time, zone unknown</strong> <span class=\"note\">(not "
                "UTC; the source gives no zone or offset)</span>");
    }
    cap_close(b, c, field);
}

static void cap_text(hbuf *b, const json_t *c, const char *field, const char *label)
{
    if (!jstr(c, field))
        return;
    cap_open(b, label);
    esc(b, jstr(c, field));
    cap_close(b, c, field);
}

static void cap_gps(hbuf *b, const json_t *c)
{
    const json_t *g = json_object_get(c, "gps");
    if (!json_is_object(g))
        return;
    cap_open(b, "GPS position");
    json_t *la = json_object_get(g, "latitude"), *lo = json_object_get(g, "longitude");
    if (json_is_number(la) && json_is_number(lo) && isfinite(json_number_value(la)) &&
        isfinite(json_number_value(lo))) {
        /* as many decimals as the source holds (6 to 12) */
        int dec = ev_views__gps_decimals(g);
        hprintf(b, "latitude %.*f, longitude %.*f", dec, json_number_value(la), dec,
                json_number_value(lo));
        json_t *alt = json_object_get(g, "altitude");
        if (json_is_number(alt) && isfinite(json_number_value(alt)))
            hprintf(b, ", altitude %.2f m", json_number_value(alt));
    } else if (json_is_true(json_object_get(g, "placeholder"))) {
        hput(b, "placeholder only: no position was recorded");
    } else {
        hput(b, "no position");
    }
    if (jstr(g, "format")) {
        hput(b, "<br><span class=\"note\">stored as ");
        esc(b, jstr(g, "format"));
        hput(b, "</span>");
    }
    json_t *pd = json_object_get(g, "precision_deg");
    if (json_is_number(pd) && isfinite(json_number_value(pd)))
        hprintf(b, "<br><span class=\"note\">precision: %.3g degree</span>",
                json_number_value(pd));
    if (jstr(g, "map_datum")) {
        hput(b, "<br><span class=\"note\">map datum ");
        esc(b, jstr(g, "map_datum"));
        hput(b, "</span>");
    }
    const json_t *raw = json_object_get(g, "raw");
    if (json_is_object(raw) && json_object_size(raw)) {
        hput(b, "<br><span class=\"note\">as stored:");
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)raw, k, v) {
            hput(b, " ");
            esc(b, k);
            hput(b, "=");
            if (json_is_string(v))
                esc(b, json_string_value(v));
            else if (json_is_integer(v))
                hprintf(b, "%lld", (long long)json_integer_value(v));
        }
        hput(b, "</span>");
    }
    if (jstr(g, "datetime")) {
        hput(b, "<br><span class=\"note\">GPS time ");
        esc(b, jstr(g, "datetime"));
        if (jstr(g, "datetime_zone")) {
            hput(b, " (zone basis: ");
            esc(b, jstr(g, "datetime_zone"));
            hput(b, ")");
        }
        hput(b, "</span>");
    }
    cap_close(b, c, "gps");
}

static void capture(hbuf *b, const json_t *c)
{
    if (!json_is_object(c)) {
        hput(b, "<p class=\"note\">No capture facts in the record.</p>\n");
        return;
    }
    hput(b, "<table class=\"capture\">\n<thead><tr><th>capture fact</th><th>as the record "
            "states it</th><th>source</th></tr></thead>\n<tbody>\n");
    cap_time(b, c, "datetime_original", "taken");
    cap_time(b, c, "datetime_digitized", "digitized");
    cap_time(b, c, "datetime_modified", "modified (by the device or software)");
    cap_text(b, c, "make", "make");
    cap_text(b, c, "model", "model");
    cap_text(b, c, "serial", "serial number");
    cap_text(b, c, "lens_model", "lens");
    cap_text(b, c, "owner", "owner");
    cap_text(b, c, "software", "software");
    json_t *o = json_object_get(c, "orientation");
    if (json_is_integer(o)) {
        cap_open(b, "orientation");
        hprintf(b, "%lld", (long long)json_integer_value(o));
        if (jstr(c, "orientation_text")) {
            hput(b, " (");
            esc(b, jstr(c, "orientation_text"));
            hput(b, ")");
        }
        cap_close(b, c, "orientation");
    }
    cap_gps(b, c);
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(c, "warnings"), i, w) {
        if (!json_is_string(w))
            continue;
        hput(b, "<tr><th>warning</th><td colspan=\"2\">");
        esc(b, json_string_value(w));
        hput(b, "</td></tr>\n");
    }
    hput(b, "</tbody></table>\n");
}

static void item_block(hbuf *b, const json_t *it, const ev_report *r, const json_t *byname)
{
    hput(b, "<div class=\"item\">\n<h3>");
    esc(b, jstr(it, "id") ? jstr(it, "id") : "(item without id)");
    if (jstr(it, "original_name")) {
        hput(b, ": ");
        esc(b, jstr(it, "original_name"));
    }
    hput(b, "</h3>\n<table>\n");
    row(b, "exhibit", jstr(it, "exhibit"));
    row(b, "role", jstr(it, "role"));
    row(b, "path in the bundle", jstr(it, "path"));
    row(b, "original name", jstr(it, "original_name"));
    json_t *sz = json_object_get(it, "size");
    if (json_is_integer(sz))
        hprintf(b, "<tr><th>size</th><td>%lld bytes</td></tr>\n",
                (long long)json_integer_value(sz));
    row(b, "MIME type", jstr(it, "mime"));
    row_hex(b, "SHA-256 (record)", jstr(json_object_get(it, "hashes"), "sha256"));
    row_hex(b, "SHA-512 (record)", jstr(json_object_get(it, "hashes"), "sha512"));
    json_t *fi = jstr(it, "path") ? json_object_get(byname, jstr(it, "path")) : NULL;
    if (json_is_integer(fi)) {
        const ev_file_result *f = &r->files[json_integer_value(fi)];
        row(b, "file check", file_status_name(f->status));
        if (f->sha256 && f->status != EV_FILE_OK)
            row_hex(b, "SHA-256 (computed now)", f->sha256);
    } else {
        row(b, "file check", r->fast ? "not hashed (fast mode)" : "no result for this path");
    }
    const json_t *df = json_object_get(it, "derived_from");
    if (json_is_object(df)) {
        hput(b, "<tr><th>derived from</th><td>");
        esc(b, jstr(df, "item"));
        if (jstr(df, "profile")) {
            hput(b, " with profile ");
            esc(b, jstr(df, "profile"));
        }
        if (jstr(df, "level")) {
            hput(b, "; level ");
            esc(b, jstr(df, "level"));
        }
        if (jstr(df, "verdict")) {
            hput(b, "; verdict when made: ");
            esc(b, jstr(df, "verdict"));
        }
        hput(b, "</td></tr>\n");
    }
    const json_t *m = json_object_get(it, "media");
    if (jstr(m, "error")) {
        row(b, "media analysis", jstr(m, "error"));
    } else if (json_is_object(m)) {
        /* as index.html shows it (views_common.c) */
        char *ms = ev_views__media_summary(it, EV_VIEWS__LAYOUT, false);
        if (!ms)
            b->fail = true;
        row(b, "media", ms);
        free(ms);
    }
    hput(b, "</table>\n");
    ev_views__timelines(b, m);
    capture(b, json_object_get(it, "capture"));
    hput(b, "</div>\n");
}

/* ---- the page ------------------------------------------------------------------- */

static void problems_table(hbuf *b, const ev_report *r)
{
    if (r->nproblems == 0) {
        hput(b, "<p>No problems were found.</p>\n");
        return;
    }
    hput(b, "<table class=\"problems\">\n<thead><tr><th>severity</th><th>code</th>"
            "<th>file</th><th>what was found</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < r->nproblems; i++) {
        const ev_problem *p = &r->problems[i];
        hprintf(b, "<tr><td class=\"%s\">%s</td><td class=\"code\">",
                p->severity == EV_SEVERITY_ERROR ? "fail"
                : p->severity == EV_SEVERITY_WARNING ? "warn" : "note",
                sev_name(p->severity));
        esc(b, p->code);
        hput(b, "</td><td>");
        esc(b, p->path ? p->path : "(the bundle)");
        hput(b, "</td><td>");
        esc(b, p->message);
        hput(b, "</td></tr>\n");
    }
    hput(b, "</tbody></table>\n");
}

static void custody_table(hbuf *b, const json_t *events)
{
    if (json_array_size(events) == 0) {
        hput(b, "<p class=\"note\">No custody events could be read.</p>\n");
        return;
    }
    hput(b, "<table>\n<thead><tr><th>#</th><th>time (UTC)</th><th>action</th><th>actor</th>"
            "<th>organisation</th><th>tool</th><th>note</th></tr></thead>\n<tbody>\n");
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
        ev_views__custody_row(b, e, "<td>");
    hput(b, "</tbody></table>\n");
}

static void build(hbuf *b, const ev_views__report_in *in, const json_t *events)
{
    const ev_report *r = in->r;
    const json_t *rec = in->record;
    const json_t *items = json_object_get(rec, "items");
    ev_verdict v = ev_report_verdict(r);
    const char *vword = v == EV_VERDICT_VALID ? "valid" : v == EV_VERDICT_INVALID ? "invalid"
                                                                                   : "unreadable";
    size_t ncopies = 0, i;
    json_t *it;
    json_array_foreach(items, i, it) ncopies += json_is_object(json_object_get(it, "derived_from"));

    hput(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>Verification report: ");
    esc(b, r->bag_name ? r->bag_name : r->bundle_path);
    hprintf(b, ": %s</title>\n<style>\n%s</style>\n</head>\n<body>\n", vword, STYLE);
    hput(b, "<h1>Verification report</h1>\n<p>Bundle <strong>");
    esc(b, r->bag_name ? r->bag_name : "(no bag)");
    hput(b, "</strong>");
    const json_t *cs = json_object_get(rec, "case");
    if (jstr(cs, "reference")) {
        hput(b, ", case ");
        esc(b, jstr(cs, "reference"));
    }
    hput(b, "</p>\n");
    hprintf(b, "<div class=\"verdict %s\" id=\"verdict\">Verdict: %s</div>\n", vword,
            v == EV_VERDICT_VALID ? "VALID" : v == EV_VERDICT_INVALID ? "INVALID"
                                                                       : "UNREADABLE");
    hput(b, "<p>");
    if (v == EV_VERDICT_VALID)
        hput(b, "Every check that ran passed. The bundle is complete and no file, tag file, "
                "custody event or signature checked differs from what was sealed and "
                "signed. The section <em>Not checked</em> lists what this verification did "
                "not cover.");
    else if (v == EV_VERDICT_INVALID)
        hput(b, "At least one check failed: the bundle is not as it was sealed or signed. "
                "The failed checks and every problem are listed below.");
    else
        hput(b, "The bundle could not be checked completely (it is not a readable bag, or "
                "it is over a limit). What was found is listed below.");
    hput(b, "</p>\n");

    /* what, when, by what, on which file */
    hput(b, "<h2>What was checked</h2>\n<table>\n");
    row(b, "bundle", in->bundle_path);
    row(b, "form", in->is_zip ? "one ZIP file holding a BagIt bag" : "a BagIt bag folder");
    if (in->is_zip && in->bundle_sha256)
        row_hex(b, "SHA-256 of the bundle file", in->bundle_sha256);
    else if (in->is_zip)
        row(b, "SHA-256 of the bundle file", in->bundle_sha256_error
                                                 ? in->bundle_sha256_error
                                                 : "could not be computed");
    else
        row(b, "SHA-256 of the bundle file", "none: a folder is not one file (the seal and the "
                                              "manifests cover its files)");
    row(b, "bag", r->bag_name);
    row(b, "bundle id", jstr(rec, "bundle_id"));
    row(b, "created", jstr(rec, "created"));
    row(b, "case", jstr(cs, "reference"));
    row(b, "organisation", jstr(cs, "organisation"));
    if (in->checked_at) {
        hput(b, "<tr><th>checked at</th><td>");
        esc(b, in->checked_at);
        hput(b, " <span class=\"note\">(UTC, the clock of the computer that ran the "
                "check)</span></td></tr>\n");
    }
    row(b, "checked by", in->tool);
    if (json_is_object(in->libraries)) {
        hput(b, "<tr><th>libraries</th><td>");
        const char *k;
        json_t *lv;
        bool first = true;
        json_object_foreach((json_t *)in->libraries, k, lv) {
            if (!json_is_string(lv))
                continue;
            if (!first)
                hput(b, ", ");
            first = false;
            esc(b, k);
            hput(b, " ");
            esc(b, json_string_value(lv));
        }
        hput(b, "</td></tr>\n");
    }
    row(b, "mode", r->fast ? "fast: sizes and file lists only, no file hashed"
                   : r->deep ? "deep: every file hashed, and media content hashes recomputed"
                             : "full: every file read and hashed");
    hprintf(b, "<tr><th>payload</th><td>%llu file%s, %llu bytes</td></tr>\n",
            (unsigned long long)r->payload_files, r->payload_files == 1 ? "" : "s",
            (unsigned long long)r->payload_bytes);
    hprintf(b, "<tr><th>files checked</th><td>%zu</td></tr>\n", r->nfiles);
    hput(b, "</table>\n");

    /* every check */
    hput(b, "<h2>Results of the checks</h2>\n");
    checks_table(b, in, ncopies);
    hput(b, "<h2>Problems</h2>\n");
    problems_table(b, r);

    /* signatures, collecting what they leave unchecked */
    json_t *notrun = json_array();
    hput(b, "<h2>Signatures and timestamps</h2>\n");
    signatures(b, json_object_get(r->extra, "signatures"), notrun);

    /* what was not checked, and why */
    hput(b, "<h2>Not checked</h2>\n<ul>\n");
    for (int ck = 0; ck < CK_COUNT; ck++) {
        const char *why = not_run(ck, in, ncopies);
        if (!why || ck == CK_DERIVATIONS) /* nothing to check is not a gap */
            continue;
        hput(b, "<li>");
        esc(b, CHECKS[ck].name);
        hput(b, ": ");
        esc(b, why);
        hput(b, ".</li>\n");
    }
    json_t *nr;
    json_array_foreach(notrun, i, nr) {
        hput(b, "<li>");
        esc(b, json_string_value(nr));
        hput(b, "</li>\n");
    }
    hput(b, "<li>The capture facts (times, places, devices) are what the files and the record "
            "say; no check can prove that a device's clock or position was right.</li>\n");
    hput(b, "</ul>\n");
    json_decref(notrun);

    /* the items */
    hprintf(b, "<h2>Items (%zu)</h2>\n", json_array_size(items));
    if (!json_is_array(items))
        hput(b, "<p class=\"note\">No readable record: no items to show.</p>\n");
    json_t *byname = json_object();
    for (size_t k = 0; byname && k < r->nfiles; k++)
        if (r->files[k].path && !r->files[k].is_tag)
            json_object_set_new(byname, r->files[k].path, json_integer((json_int_t)k));
    json_array_foreach(items, i, it) {
        if (json_is_object(it))
            item_block(b, it, r, byname);
    }
    json_decref(byname);

    hput(b, "<h2>Custody log</h2>\n");
    custody_table(b, events);

    hput(b, "<hr>\n<p class=\"note\">This report describes one verification. It holds no "
            "script and loads nothing. The record and the custody log inside the bundle are "
            "the evidence; where this page and they disagree, they are right. A detached "
            "signature of this page, when one was made, is the file of the same name with "
            "<code>.p7s</code> added (check it with <code>openssl cms -verify</code>, "
            "docs/auditing.md).</p>\n</body>\n</html>\n");
}

int ev_views__report_html(char **out, size_t *len, const ev_views__report_in *in, ev_errbuf *err)
{
    *out = NULL;
    *len = 0;
    if (!in || !in->r)
        return ev_err__set(err, EV_EINVAL, "no verification report to render");
    json_t *events = NULL;
    if (ev_views__load_events(&events, in->custody, in->custody ? in->custody_len : 0) != EV_OK)
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    hbuf b = { { 0 }, false };
    build(&b, in, events);
    json_decref(events);
    if (b.fail) {
        ev_buf__free(&b.b);
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    }
    *out = b.b.data;
    *len = b.b.len;
    return EV_OK;
}
