/*
 * result_text: the result of a run, a check or a recheck as text lines for
 * a person (ev_transcode_result_text(); `evidence transcode`, `evidence
 * check`), from the document api.c keeps. Reads only keys that
 * docs/schema/derivation.schema.json documents and decides nothing from
 * them. Reals are shown as the document carries them (10 significant
 * digits, EV_TRANSCODE__JSON_FLAGS), so the text agrees with the JSON.
 */
#include <string.h>

#include "base/text.h"
#include "transcode/transcode.h"

#define DIGITS 10 /* JSON_REAL_PRECISION of EV_TRANSCODE__JSON_FLAGS */

static const char *s_(const json_t *o, const char *k)
{
    return ev__text_str(o, k);
}

static const char *q_(const json_t *o, const char *k)
{
    const char *s = ev__text_str(o, k);
    return s ? s : "?";
}

static long long i_(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* "OUT: made with profile P (LEVEL): VERDICT" and a line per stream */
static void derivation_text(ev_text *t, const json_t *rec)
{
    const json_t *v = json_object_get(rec, "verification");
    const char *level = s_(v, "level"), *verdict = s_(v, "verdict");
    ev__text_add(t, "%s: %s with profile %s (%s): %s\n", q_(json_object_get(rec, "output"), "path"),
                 json_is_true(json_object_get(json_object_get(rec, "output"), "kept"))
                     ? "made"
                     : "NOT kept",
                 q_(json_object_get(rec, "profile"), "name"), level ? level : "?",
                 verdict ? verdict : "?");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(v, "streams"), i, s) {
        ev__text_add(t, "  stream %d->%d %s %s: %s", (int)i_(s, "source_stream"),
                     (int)i_(s, "output_stream"), q_(s, "type"), q_(s, "method"), q_(s, "result"));
        const json_t *ps = json_object_get(s, "psnr_db"), *ss = json_object_get(s, "ssim");
        if (ps && ss)
            ev__text_add(t, " (PSNR min %.2f dB mean %.2f dB, SSIM min %.4f mean %.4f, %lld "
                         "frames)",
                         ev__text_num(ps, "min", DIGITS), ev__text_num(ps, "mean", DIGITS),
                         ev__text_num(ss, "min", DIGITS), ev__text_num(ss, "mean", DIGITS),
                         i_(s, "frames"));
        else if (json_object_get(s, "frames"))
            ev__text_add(t, " (%lld frames)", i_(s, "frames"));
        else if (json_object_get(s, "samples"))
            ev__text_add(t, " (%lld samples)", i_(s, "samples"));
        else if (json_object_get(s, "packets"))
            ev__text_add(t, " (%lld packets)", i_(s, "packets"));
        ev__text_add(t, "\n");
    }
}

/* a line per check, then "FILE: pass|FAIL against P (counts)" */
static void check_text(ev_text *t, const json_t *r)
{
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(r, "results"), i, x) {
        char check[64];
        if (json_object_get(x, "stream"))
            snprintf(check, sizeof(check), "%s #%d", q_(x, "check"), (int)i_(x, "stream"));
        else
            snprintf(check, sizeof(check), "%s", q_(x, "check"));
        ev__text_add(t, "%-4s  %-24s %s ", q_(x, "result"), check, q_(x, "operator"));
        ev__text_json(t, json_object_get(x, "expected"), JSON_COMPACT, DIGITS);
        ev__text_add(t, "  measured ");
        ev__text_json(t, json_object_get(x, "measured"), JSON_COMPACT, DIGITS);
        if (s_(x, "note"))
            ev__text_add(t, "  (%s)", s_(x, "note"));
        ev__text_add(t, "\n");
    }
    const char *verdict = s_(r, "verdict");
    ev__text_add(t, "%s: %s against %s (%lld passed, %lld failed, %lld not applicable)\n",
                 q_(r, "file"), verdict && strcmp(verdict, "pass") == 0 ? "pass" : "FAIL",
                 q_(json_object_get(r, "profile"), "name"), i_(r, "passed"), i_(r, "failed"),
                 i_(r, "not_applicable"));
}

char *ev_transcode__result_text(const json_t *doc, const char *master_path,
                                const char *copy_path)
{
    ev_text t = { 0 };
    const char *fmt = s_(doc, "format");
    if (fmt && !strcmp(fmt, "evidence.derivation")) {
        derivation_text(&t, doc);
    } else if (fmt && !strcmp(fmt, "evidence.check")) {
        check_text(&t, doc);
    } else {
        const char *verdict = s_(doc, "verdict");
        ev__text_add(&t, "%s: %s against %s\n", copy_path ? copy_path : "?",
                     verdict && !strcmp(verdict, "pass") ? "pass" : "FAIL",
                     master_path ? master_path : "?");
    }
    return ev__text_take(&t);
}

const json_t *ev_transcode__result_problems(const json_t *doc)
{
    const char *fmt = s_(doc, "format");
    if (fmt && !strcmp(fmt, "evidence.derivation"))
        return json_object_get(json_object_get(doc, "verification"), "problems");
    if (fmt && !strcmp(fmt, "evidence.recheck"))
        return json_object_get(doc, "problems");
    return NULL;
}
