/* record: evidence.json and the hash-chained custody log. */
#include "record/record.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "record/record_check.h"

char *ev_record__dump(const json_t *j, size_t *len)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    if (len)
        *len = n + 1;
    return t;
}

char *ev_custody__line(long seq, const char *time_rfc3339, const ev_custody_event *e,
                       const char *manifest_sha256, const char *record_sha256,
                       const char *prev_sha256)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "seq", json_integer(seq));
    json_object_set_new(o, "time", json_string(time_rfc3339));
    json_object_set_new(o, "action", ev__json_str(e->action));
    json_object_set_new(o, "actor", ev__json_str(e->actor));
    json_object_set_new(o, "organisation", ev__json_str(e->organisation));
    json_object_set_new(o, "tool", json_string("evidence"));
    json_object_set_new(o, "tool_version", json_string(EV_VERSION_STRING));
    json_object_set_new(o, "manifest_sha256", json_string(manifest_sha256));
    json_object_set_new(o, "record_sha256", json_string(record_sha256));
    json_object_set_new(o, "prev_sha256", prev_sha256 ? json_string(prev_sha256) : json_null());
    if (e->note)
        json_object_set_new(o, "note", ev__json_str(e->note));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    return t;
}

/* Problems of one kind beyond this many per log are counted, not listed. */
#define CUSTODY_CAP 100

typedef struct grammar_counts {
    size_t time, action, event;
} grammar_counts;

static bool sha256_hex(const json_t *v)
{
    const char *s = json_string_value(v);
    if (!s || strlen(s) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static bool nonempty_str(const json_t *v)
{
    return json_is_string(v) && json_string_length(v) > 0;
}

/* One event against docs/schema/evidence.custody.schema.json: the time is an
 * RFC 3339 UTC time, the action one of the documented set, the other
 * fields of their type. The link fields (seq, prev_sha256) are checked by
 * the chain. */
static void check_grammar(ev_report *r, const json_t *ev, size_t lineno, grammar_counts *g)
{
    const json_t *t = json_object_get(ev, "time");
    if (!json_is_string(t) || !ev_record__utc_time_ok(json_string_value(t))) {
        if (++g->time <= CUSTODY_CAP)
            ev_report__add(r, EV_SEVERITY_ERROR, "custody-time-invalid", "custody.jsonl",
                           "custody.jsonl line %zu: the time %s%.64s%s is not an RFC 3339 UTC "
                           "time (YYYY-MM-DDTHH:MM:SSZ)", lineno, json_is_string(t) ? "'" : "",
                           json_is_string(t) ? json_string_value(t) : t ? "(not a string)"
                                                                         : "(missing)",
                           json_is_string(t) ? "'" : "");
    }
    const json_t *a = json_object_get(ev, "action");
    if (!json_is_string(a) || !ev_record__custody_action_ok(json_string_value(a))) {
        if (++g->action <= CUSTODY_CAP)
            ev_report__add(r, EV_SEVERITY_ERROR, "custody-action-unknown", "custody.jsonl",
                           "custody.jsonl line %zu: the action %s%.64s%s is not one of created, "
                           "received, verified, transcoded, exported, note, signed", lineno,
                           json_is_string(a) ? "'" : "",
                           json_is_string(a) ? json_string_value(a) : a ? "(not a string)"
                                                                         : "(missing)",
                           json_is_string(a) ? "'" : "");
    }
    const char *bad = !nonempty_str(json_object_get(ev, "actor"))          ? "actor"
                      : !nonempty_str(json_object_get(ev, "organisation")) ? "organisation"
                      : !nonempty_str(json_object_get(ev, "tool"))         ? "tool"
                      : !nonempty_str(json_object_get(ev, "tool_version")) ? "tool_version"
                      : !sha256_hex(json_object_get(ev, "manifest_sha256")) ? "manifest_sha256"
                      : !sha256_hex(json_object_get(ev, "record_sha256"))  ? "record_sha256"
                      : (json_object_get(ev, "note") &&
                         !json_is_string(json_object_get(ev, "note")))    ? "note"
                                                                           : NULL;
    if (bad && ++g->event <= CUSTODY_CAP)
        ev_report__add(r, EV_SEVERITY_ERROR, "custody-event-invalid", "custody.jsonl",
                       "custody.jsonl line %zu: '%s' is missing or not of its type (%s)", lineno,
                       bad, strstr(bad, "sha256") ? "64 lower-case hex digits"
                                                  : "a non-empty string");
}

static void grammar_summary(ev_report *r, const grammar_counts *g)
{
    const size_t v[3] = { g->time, g->action, g->event };
    static const char *const codes[3] = { "custody-time-invalid", "custody-action-unknown",
                                          "custody-event-invalid" };
    for (int i = 0; i < 3; i++)
        if (v[i] > CUSTODY_CAP)
            ev_report__add(r, EV_SEVERITY_ERROR, codes[i], "custody.jsonl",
                           "%zu more %s problems are not listed", v[i] - CUSTODY_CAP, codes[i]);
}

int ev_custody__check(const char *buf, size_t len, ev_report *r, size_t *n, char last_sha[65],
                      json_t **last, json_t **events, size_t *bad_links)
{
    *n = 0;
    *bad_links = 0;
    last_sha[0] = '\0';
    if (last)
        *last = NULL;
    if (events)
        *events = json_array();
    char prev[65] = "";
    grammar_counts g = { 0, 0, 0 };
    size_t start = 0, lineno = 0;
    while (start < len) {
        const char *nl = memchr(buf + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - buf) : len;
        size_t l = end - start;
        lineno++;
        char sha[65];
        ev_hash__sha256_hex(sha, buf + start, l);
        json_error_t je;
        json_t *ev = json_loadb(buf + start, l, 0, &je);
        bool ok = true;
        const char *problem = NULL;
        if (!nl) {
            ok = false;
            problem = "the last line has no newline: the log was truncated";
        }
        if (!ev || !json_is_object(ev)) {
            ok = false;
            problem = "the line is not a JSON object";
        } else {
            json_t *seq = json_object_get(ev, "seq");
            json_t *ps = json_object_get(ev, "prev_sha256");
            if (!json_is_integer(seq) || json_integer_value(seq) != (json_int_t)lineno) {
                ok = false;
                problem = "its seq does not follow the previous event (an event was removed, "
                          "inserted or reordered)";
            } else if (lineno == 1 ? !json_is_null(ps)
                                   : (!json_is_string(ps) ||
                                      strcmp(json_string_value(ps), prev) != 0)) {
                ok = false;
                problem = "its prev_sha256 does not match the previous line (a line was "
                          "changed, removed or reordered)";
            }
        }
        if (r && ev && json_is_object(ev))
            check_grammar(r, ev, lineno, &g);
        if (events) {
            json_t *c = json_object();
            json_object_set_new(c, "line", json_integer((json_int_t)lineno));
            json_object_set_new(c, "sha256", json_string(sha));
            json_object_set_new(c, "link_ok", json_boolean(ok));
            if (problem)
                json_object_set_new(c, "problem", json_string(problem));
            json_object_set(c, "event", ev ? ev : json_null());
            json_array_append_new(*events, c);
        }
        if (!ok) {
            (*bad_links)++;
            if (r)
                ev_report__add(r, EV_SEVERITY_ERROR, "custody-chain-broken", "custody.jsonl",
                               "custody.jsonl line %zu: %s", lineno, problem);
        }
        if (last) {
            json_decref(*last);
            *last = ev ? json_incref(ev) : NULL;
        }
        json_decref(ev);
        memcpy(prev, sha, sizeof(prev));
        start = end + 1;
    }
    if (r)
        grammar_summary(r, &g);
    *n = lineno;
    memcpy(last_sha, prev, 65);
    return EV_OK;
}
