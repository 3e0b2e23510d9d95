/*
 * api: the public ev_transcode_* façade (evidence/transcode.h): options,
 * handle, run, check, recheck, verdict and result JSON.
 */
#include "transcode/transcode.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transcode/conform.h"

struct ev_transcode {
    ev_errbuf err;
    ev_transcode_options opts;
    char *result;
    json_t *doc;  /* the result's document, for its text and problems */
    char *text;   /* ev_transcode_result_text() */
    ev_transcode_verdict verdict;
};

/* ev_transcode_options before the assumed frame rate (version 1) */
#define TRANSCODE_OPTIONS_V1_SIZE offsetof(ev_transcode_options, assume_fps_num)

int ev_transcode_options_init(ev_transcode_options *opts, unsigned int version)
{
    return ev__options_init(opts,
                            version == EV_TRANSCODE_OPTIONS_VERSION ? sizeof(*opts)
                            : version == 1                          ? TRANSCODE_OPTIONS_V1_SIZE
                                                                    : 0,
                            version);
}

int ev_transcode_options_assume_fps(ev_transcode_options *opts, const char *rate)
{
    if (!opts || !rate || opts->version < 2)
        return EV_EINVAL;
    uint64_t num = 0, den = 1;
    const char *p = rate;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        num = num * 10 + (uint64_t)(*p++ - '0');
        if (++digits > 9)
            return EV_EINVAL;
    }
    if (!digits)
        return EV_EINVAL;
    if (*p == '.') {
        p++;
        int frac = 0;
        while (*p >= '0' && *p <= '9') {
            num = num * 10 + (uint64_t)(*p++ - '0');
            den *= 10;
            if (++frac > 6)
                return EV_EINVAL;
        }
        if (!frac)
            return EV_EINVAL;
    } else if (*p == '/') {
        p++;
        den = 0;
        int dd = 0;
        while (*p >= '0' && *p <= '9') {
            den = den * 10 + (uint64_t)(*p++ - '0');
            if (++dd > 9)
                return EV_EINVAL;
        }
        if (!dd || !den)
            return EV_EINVAL;
    }
    if (*p || num == 0 || num > 1000 * den)
        return EV_EINVAL;
    uint64_t a = num, b = den;
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    num /= a;
    den /= a;
    if (num > UINT32_MAX / 2 || den > UINT32_MAX / 2)
        return EV_EINVAL;
    opts->assume_fps_num = (unsigned int)num;
    opts->assume_fps_den = (unsigned int)den;
    return EV_OK;
}

int ev_transcode_new(ev_transcode **out, const ev_transcode_options *opts)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (opts && opts->version != EV_TRANSCODE_OPTIONS_VERSION && opts->version != 1)
        return EV_EVERSION;
    if (opts && (opts->flags & ~(EV_TRANSCODE_NO_VERIFY | EV_TRANSCODE_OVERWRITE |
                                  EV_TRANSCODE_NO_SYNC | EV_TRANSCODE_WRITE_RECORD)))
        return EV_EINVAL;
    ev_transcode *t = calloc(1, sizeof(*t));
    if (!t)
        return EV_ENOMEM;
    if (opts)
        memcpy(&t->opts, opts, opts->version == 1 ? TRANSCODE_OPTIONS_V1_SIZE : sizeof(*opts));
    else
        t->opts.version = EV_TRANSCODE_OPTIONS_VERSION;
    if ((t->opts.assume_fps_num == 0) != (t->opts.assume_fps_den == 0) ||
        (t->opts.assume_fps_den && t->opts.assume_fps_num > 1000ull * t->opts.assume_fps_den)) {
        free(t);
        return EV_EINVAL;
    }
    t->verdict = EV_TRANSCODE_NOT_VERIFIED;
    *out = t;
    return EV_OK;
}

void ev_transcode_free(ev_transcode *t)
{
    if (!t)
        return;
    free(t->result);
    free(t->text);
    json_decref(t->doc);
    free(t);
}

const char *ev_transcode_last_error(const ev_transcode *t)
{
    return t ? t->err.msg : "no handle";
}

static void clear_result(ev_transcode *t)
{
    free(t->result);
    free(t->text);
    json_decref(t->doc);
    t->result = NULL;
    t->text = NULL;
    t->doc = NULL;
    t->verdict = EV_TRANSCODE_NOT_VERIFIED;
    t->err.msg[0] = '\0';
}

/* master_path and copy_path: the files of a recheck (for its text) */
static int keep_result(ev_transcode *t, json_t *doc, const char *verdict, const char *master_path,
                       const char *copy_path)
{
    free(t->result);
    free(t->text);
    json_decref(t->doc);
    t->result = json_dumps(doc, EV_TRANSCODE__JSON_FLAGS);
    t->text = ev_transcode__result_text(doc, master_path, copy_path);
    t->doc = doc;
    if (!t->result || !t->text) {
        clear_result(t);
        return ev_err__set(&t->err, EV_ENOMEM, "out of memory");
    }
    t->verdict = verdict && strcmp(verdict, "pass") == 0 ? EV_TRANSCODE_PASS
               : verdict && strcmp(verdict, "fail") == 0 ? EV_TRANSCODE_FAIL
               : EV_TRANSCODE_NOT_VERIFIED;
    return EV_OK;
}


int ev_transcode_run(ev_transcode *t, const ev_profile *p, const char *in_path,
                     const char *out_path)
{
    if (!t)
        return EV_EINVAL;
    clear_result(t);
    ev_transcode__opts o = { t->opts.flags, t->opts.threads, t->opts.progress_cb,
                             t->opts.progress_payload, t->opts.assume_fps_num,
                             t->opts.assume_fps_den };
    json_t *doc = NULL;
    int rc = ev_transcode__run(&doc, p, in_path, out_path, &o, &t->err);
    if (rc != EV_OK)
        return rc;
    const char *v = json_string_value(json_object_get(json_object_get(doc, "verification"),
                                                      "verdict"));
    char vv[16];
    snprintf(vv, sizeof(vv), "%s", v ? v : "");
    return keep_result(t, doc, vv, NULL, NULL);
}

int ev_transcode_check(ev_transcode *t, const ev_profile *p, const char *path)
{
    if (!t)
        return EV_EINVAL;
    clear_result(t);
    json_t *doc = NULL;
    int rc = ev_conform__check_ex(&doc, p, path, t->opts.progress_cb, t->opts.progress_payload,
                                  t->opts.assume_fps_num, t->opts.assume_fps_den, &t->err);
    if (rc != EV_OK)
        return rc;
    char vv[16];
    snprintf(vv, sizeof(vv), "%s", json_string_value(json_object_get(doc, "verdict")));
    return keep_result(t, doc, vv, NULL, NULL);
}

int ev_transcode_recheck(ev_transcode *t, const char *derivation_json, const char *master_path,
                         const char *copy_path)
{
    if (!t)
        return EV_EINVAL;
    clear_result(t);
    if (!derivation_json)
        return ev_err__set(&t->err, EV_EINVAL, "recheck: no derivation record");
    json_error_t je;
    json_t *d = json_loads(derivation_json, JSON_REJECT_DUPLICATES, &je);
    if (!d)
        return ev_err__set(&t->err, EV_EFORMAT, "derivation record: not valid JSON at line %d, "
                           "column %d: %s; give the OUT.derivation.json written beside "
                           "the copy", je.line, je.column, je.text);
    json_t *doc = NULL;
    ev_transcode__opts o = { t->opts.flags, t->opts.threads, t->opts.progress_cb,
                             t->opts.progress_payload, 0, 0 };
    int rc = ev_transcode__recheck_ex(&doc, d, master_path, copy_path, &o, &t->err);
    json_decref(d);
    if (rc != EV_OK)
        return rc;
    char vv[16];
    snprintf(vv, sizeof(vv), "%s", json_string_value(json_object_get(doc, "verdict")));
    return keep_result(t, doc, vv, master_path, copy_path);
}

ev_transcode_verdict ev_transcode_verdict_get(const ev_transcode *t)
{
    return t ? t->verdict : EV_TRANSCODE_NOT_VERIFIED;
}

const char *ev_transcode_result_json(const ev_transcode *t)
{
    return t ? t->result : NULL;
}

const char *ev_transcode_result_text(const ev_transcode *t)
{
    return t ? t->text : NULL;
}

size_t ev_transcode_problem_count(const ev_transcode *t)
{
    return t ? json_array_size(ev_transcode__result_problems(t->doc)) : 0;
}

const char *ev_transcode_problem(const ev_transcode *t, size_t i)
{
    return t ? json_string_value(json_array_get(ev_transcode__result_problems(t->doc), i)) : NULL;
}
