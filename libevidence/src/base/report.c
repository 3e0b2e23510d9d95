/* report: problems and per-file results of a verification or extraction. */
#include "base/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/internal.h"

int ev_report__new(ev_report **out, const char *format)
{
    ev_report *r = calloc(1, sizeof(*r));
    *out = r;
    if (!r)
        return EV_ENOMEM;
    r->format = format;
    return EV_OK;
}

int ev_report__add(ev_report *r, ev_severity sev, const char *code, const char *path,
                   const char *fmt, ...)
{
    if (r->nproblems == r->cap_problems) {
        size_t cap = r->cap_problems ? r->cap_problems * 2 : 16;
        ev_problem *p = ev__reallocarray(r->problems, cap, sizeof(*p));
        if (!p)
            return EV_ENOMEM;
        r->problems = p;
        r->cap_problems = cap;
    }
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ev_problem *p = &r->problems[r->nproblems];
    p->version = EV_PROBLEM_VERSION;
    p->severity = sev;
    p->code = ev__strdup(code);
    p->path = ev__strdup(path);
    p->message = ev__strdup(msg);
    if (!p->code || !p->message || (path && !p->path)) {
        free((char *)p->code);
        free((char *)p->path);
        free((char *)p->message);
        return EV_ENOMEM;
    }
    r->nproblems++;
    return EV_OK;
}

const char *ev_report__keep(ev_report *r, const char *s)
{
    return ev_strpool__keep(&r->strs, s);
}

int ev_report__reserve_files(ev_report *r, size_t n)
{
    if (n <= r->cap_files - r->nfiles)
        return EV_OK;
    if (n > SIZE_MAX / sizeof(ev_file_result) - r->nfiles)
        return EV_ENOMEM;
    ev_file_result *f = ev__reallocarray(r->files, r->nfiles + n, sizeof(*f));
    if (!f)
        return EV_ENOMEM;
    r->files = f;
    r->cap_files = r->nfiles + n;
    return EV_OK;
}

long ev_report__add_file(ev_report *r, const char *path, bool is_tag, ev_file_status st,
                         uint64_t size, const char *sha256)
{
    const char *p = ev_report__keep(r, path), *h = ev_report__keep(r, sha256);
    if (!p || (sha256 && !h))
        return -1;
    return ev_report__add_file_kept(r, p, is_tag, st, size, h);
}

long ev_report__add_file_kept(ev_report *r, const char *path, bool is_tag, ev_file_status st,
                              uint64_t size, const char *sha256)
{
    if (r->nfiles == r->cap_files) {
        size_t cap = r->cap_files ? r->cap_files + r->cap_files / 2 : 64;
        ev_file_result *f = ev__reallocarray(r->files, cap, sizeof(*f));
        if (!f)
            return -1;
        r->files = f;
        r->cap_files = cap;
    }
    ev_file_result *f = &r->files[r->nfiles];
    memset(f, 0, sizeof(*f));
    f->version = EV_FILE_RESULT_VERSION;
    f->path = path;
    f->is_tag = is_tag;
    f->status = st;
    f->size = size;
    f->sha256 = sha256;
    return (long)r->nfiles++;
}

bool ev_report__has_errors(const ev_report *r)
{
    for (size_t i = 0; i < r->nproblems; i++)
        if (r->problems[i].severity == EV_SEVERITY_ERROR)
            return true;
    return false;
}

size_t ev_report__count_code(const ev_report *r, const char *code)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nproblems; i++)
        if (strcmp(r->problems[i].code, code) == 0)
            n++;
    return n;
}

ev_verdict ev_report_verdict(const ev_report *r)
{
    if (!r || r->unreadable)
        return EV_VERDICT_UNREADABLE;
    return ev_report__has_errors(r) || r->signatures_failed ? EV_VERDICT_INVALID
                                                            : EV_VERDICT_VALID;
}

size_t ev_report_problem_count(const ev_report *r)
{
    return r ? r->nproblems : 0;
}

const ev_problem *ev_report_problem(const ev_report *r, size_t i)
{
    return r && i < r->nproblems ? &r->problems[i] : NULL;
}

size_t ev_report_file_count(const ev_report *r)
{
    return r ? r->nfiles : 0;
}

const ev_file_result *ev_report_file(const ev_report *r, size_t i)
{
    return r && i < r->nfiles ? &r->files[i] : NULL;
}

void ev_report_free(ev_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nproblems; i++) {
        free((char *)r->problems[i].code);
        free((char *)r->problems[i].path);
        free((char *)r->problems[i].message);
    }
    ev_strpool__free(&r->strs);
    free(r->problems);
    free(r->files);
    free(r->bundle_path);
    free(r->bag_name);
    json_decref(r->extra);
    free(r);
}

static const char *sev_name(ev_severity s)
{
    switch (s) {
    case EV_SEVERITY_ERROR: return "error";
    case EV_SEVERITY_WARNING: return "warning";
    default: return "info";
    }
}

static const char *file_status_name(ev_file_status s)
{
    switch (s) {
    case EV_FILE_OK: return "ok";
    case EV_FILE_MODIFIED: return "modified";
    case EV_FILE_MISSING: return "missing";
    case EV_FILE_EXTRA: return "extra";
    case EV_FILE_ERROR: return "error";
    default: return "unchecked";
    }
}

static const char *verdict_name(ev_verdict v)
{
    switch (v) {
    case EV_VERDICT_VALID: return "valid";
    case EV_VERDICT_INVALID: return "invalid";
    default: return "unreadable";
    }
}

int ev_report_json(char **out, const ev_report *r)
{
    return ev_report_json_ext(out, r, 0);
}

int ev_report_json_ext(char **out, const ev_report *r, uint32_t flags)
{
    if (out)
        *out = NULL;
    if (!out || !r || (flags & ~EV_JSON_COMPACT))
        return EV_EINVAL;
    json_t *o = json_object();
    json_t *probs = json_array();
    json_t *files = json_array();
    if (!o || !probs || !files)
        goto oom;
    json_object_set_new(o, "format", json_string(r->format));
    json_object_set_new(o, "format_version", json_integer(1));
    json_object_set_new(o, "bundle", r->bundle_path ? json_string(r->bundle_path) : json_null());
    json_object_set_new(o, "bag", r->bag_name ? json_string(r->bag_name) : json_null());
    ev_verdict v = ev_report_verdict(r);
    json_object_set_new(o, "verdict", json_string(verdict_name(v)));
    json_object_set_new(o, "valid", json_boolean(v == EV_VERDICT_VALID));
    json_object_set_new(o, "mode", json_string(r->fast ? "fast" : r->deep ? "deep" : "full"));
    size_t nerr = 0, nwarn = 0;
    for (size_t i = 0; i < r->nproblems; i++) {
        const ev_problem *p = &r->problems[i];
        if (p->severity == EV_SEVERITY_ERROR)
            nerr++;
        else if (p->severity == EV_SEVERITY_WARNING)
            nwarn++;
        json_t *jp = json_pack("{s:s, s:s, s:o, s:o}", "severity", sev_name(p->severity),
                               "code", p->code, "path",
                               ev__json_str(p->path), "message",
                               ev__json_str(p->message));
        if (!jp || json_array_append_new(probs, jp))
            goto oom;
    }
    json_t *summary = json_pack("{s:I, s:I, s:I, s:I}", "errors", (json_int_t)nerr, "warnings",
                                (json_int_t)nwarn, "payload_files", (json_int_t)r->payload_files,
                                "payload_bytes", (json_int_t)r->payload_bytes);
    json_object_set_new(o, "summary", summary);
    for (size_t i = 0; i < r->nfiles; i++) {
        const ev_file_result *f = &r->files[i];
        json_t *jf = json_pack("{s:o, s:o, s:s, s:s, s:I, s:o}", "path", ev__json_str(f->path), "item_id",
                               f->item_id ? json_string(f->item_id) : json_null(), "kind",
                               f->is_tag ? "tag" : "payload", "status",
                               file_status_name(f->status), "size", (json_int_t)f->size,
                               "sha256", f->sha256 ? json_string(f->sha256) : json_null());
        if (!jf || json_array_append_new(files, jf))
            goto oom;
    }
    json_object_set_new(o, "problems", probs);
    json_object_set_new(o, "files", files);
    probs = files = NULL;
    if (r->extra) {
        const char *k;
        json_t *val;
        json_object_foreach(r->extra, k, val) json_object_set(o, k, val);
    }
    size_t how = (flags & EV_JSON_COMPACT) ? JSON_COMPACT : JSON_INDENT(2);
    char *s = json_dumps(o, how | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(o);
    if (!s)
        return EV_ENOMEM;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return EV_ENOMEM;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    *out = t;
    return EV_OK;
oom:
    json_decref(o);
    json_decref(probs);
    json_decref(files);
    return EV_ENOMEM;
}
