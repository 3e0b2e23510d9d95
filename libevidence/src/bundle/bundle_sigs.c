/*
 * bundle (signatures in verification reports): ev_report_add_signatures()
 * and ev_bundle_verify_signed(). The bag's checks (bundle_read.c) and the
 * signature checks (sign/) stay separate; this file joins their results so
 * that one report, one verdict and one JSON document cover both
 * (docs/schema/evidence.verify.schema.json, $defs/signatures).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/internal.h"
#include "base/report.h"
#include "evidence/sign.h"

static const char *severity_name(ev_severity s)
{
    return s == EV_SEVERITY_ERROR ? "error" : s == EV_SEVERITY_WARNING ? "warning" : "note";
}

/* "status" of one signature in the document: "ok" when it holds (an
 * unverified one too: its integrity checks passed). */
static const char *status_of(ev_sig_verdict v)
{
    switch (v) {
    case EV_SIG_VALID:
    case EV_SIG_UNVERIFIED:
        return "ok";
    case EV_SIG_INVALID:
        return "mismatch";
    default:
        return "error";
    }
}

static json_t *jstr_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static bool is_p7s(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return n > 4 && strcmp(path + n - 4, ".p7s") == 0;
}

/* json_object_set_new that reports failure (the value is freed either way). */
static bool put(json_t *o, const char *k, json_t *v)
{
    return v && json_object_set_new(o, k, v) == 0;
}

static json_t *result_json(const ev_sig_result *r)
{
    json_t *o = json_object();
    json_t *probs = json_array();
    if (!o || !probs)
        goto fail;
    bool ok = put(o, "path", jstr_or_null(r->path)) &&
              put(o, "token", jstr_or_null(r->token_path)) &&
              put(o, "events", json_integer((json_int_t)r->events)) &&
              put(o, "signer", jstr_or_null(r->signer)) &&
              put(o, "signing_time", jstr_or_null(r->signing_time)) &&
              put(o, "tsa_time", jstr_or_null(r->tsa_time)) &&
              put(o, "tsa", jstr_or_null(r->tsa)) &&
              put(o, "tsa_verified", json_boolean(r->tsa_verified)) &&
              put(o, "verdict", json_string(ev_sig_verdict_name(r->verdict))) &&
              put(o, "status", json_string(status_of(r->verdict)));
    for (size_t k = 0; ok && k < r->problem_count; k++) {
        const ev_sig_problem *p = &r->problems[k];
        json_t *jp = json_pack("{s:s, s:s, s:s}", "severity", severity_name(p->severity),
                               "code", p->code ? p->code : "", "message",
                               p->message ? p->message : "");
        ok = jp && json_array_append_new(probs, jp) == 0;
    }
    if (!ok)
        goto fail;
    if (json_object_set_new(o, "problems", probs) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
fail:
    json_decref(o);
    json_decref(probs);
    return NULL;
}

/* The "signatures" section: {"present", "verified", "verdict", "signatures"}. */
static json_t *section_json(const ev_sig_report *s)
{
    size_t n = ev_sig_report_count(s), present = 0;
    json_t *list = json_array();
    if (!list)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const ev_sig_result *r = ev_sig_report_result(s, i);
        if (!r)
            continue;
        present += is_p7s(r->path);
        json_t *o = result_json(r);
        if (!o || json_array_append_new(list, o) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return json_pack("{s:I, s:b, s:s, s:o}", "present", (json_int_t)present, "verified",
                     ev_sig_report_trusted(s), "verdict",
                     ev_sig_verdict_name(ev_sig_report_verdict(s)), "signatures", list);
}

int ev_report_add_signatures(ev_report *r, const ev_sig_report *s)
{
    if (!r || !s)
        return EV_EINVAL;
    json_t *sec = section_json(s);
    if (!sec)
        return EV_ENOMEM;
    json_t *extra = r->extra ? r->extra : json_object();
    if (!extra || json_object_set_new(extra, "signatures", sec) != 0) {
        if (extra != r->extra)
            json_decref(extra);
        return EV_ENOMEM;
    }
    r->extra = extra;
    ev_sig_verdict v = ev_sig_report_verdict(s);
    /* An unverified signature (no trust anchors given) passed every check
     * that could be made: it does not fail the bundle. */
    r->signatures_failed = v == EV_SIG_INVALID || v == EV_SIG_UNREADABLE;
    return EV_OK;
}

int ev_report_add_disclosure(ev_report *r, const char *disclosure_json)
{
    if (!r || !disclosure_json)
        return EV_EINVAL;
    json_t *sec = json_loads(disclosure_json, 0, NULL);
    if (!json_is_object(sec)) {
        json_decref(sec);
        return EV_EINVAL;
    }
    const char *v = json_string_value(json_object_get(sec, "verdict"));
    json_t *extra = r->extra ? r->extra : json_object();
    if (!extra || json_object_set_new(extra, "disclosure", sec) != 0) {
        if (extra != r->extra)
            json_decref(extra);
        return EV_ENOMEM;
    }
    r->extra = extra;
    /* a proof that fails, or a part that proves nothing, fails the bundle */
    if (!v || !strcmp(v, "invalid") || !strcmp(v, "unproven"))
        r->signatures_failed = true;
    return EV_OK;
}

int ev_bundle_verify_signed(ev_report **out, ev_bundle *b, ev_trust *t,
                            const ev_verify_options *opts)
{
    if (out)
        *out = NULL;
    if (!out || !b || !t)
        return EV_EINVAL;
    ev_report *r = NULL;
    int rc = ev_bundle_verify(&r, b, opts);
    if (rc != EV_OK)
        return rc;
    ev_sig_report *s = NULL;
    rc = ev_sign_verify(&s, t, b);
    if (rc == EV_OK)
        rc = ev_report_add_signatures(r, s);
    ev_sig_report_free(s);
    /* a part: its proofs to the original's signatures too */
    char *dj = NULL;
    int dr = rc == EV_OK ? ev_disclosure_verify(&dj, t, b) : EV_ENOTFOUND;
    if (dr == EV_OK)
        rc = ev_report_add_disclosure(r, dj);
    else if (dr != EV_ENOTFOUND)
        rc = dr;
    ev_free(dj);
    if (rc != EV_OK) {
        ev_report_free(r);
        return rc;
    }
    *out = r;
    return EV_OK;
}
