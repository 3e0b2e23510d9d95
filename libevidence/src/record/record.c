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
    if (e->version >= 2 && e->person)
        json_object_set_new(o, "person", ev__json_str(e->person));
    if (e->version >= 2 && e->place)
        json_object_set_new(o, "place", ev__json_str(e->place));
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

/* ---- the people and places a custody event names ---------------------------------- */

/* At most this many nodes are named in a message. */
#define NODES_LISTED 12

/* "person-1 (Jo Smith, PC 1234), person-2 (...)" of the nodes of list for
 * which pick() is true (all when pick is NULL). */
static void list_nodes(ev_buf *b, const json_t *list, const char *p,
                       bool (*pick)(const json_t *, const char *))
{
    static const char *const keys[] = { "name", "identifier", "organisation", "description",
                                        "address", "postcode", NULL };
    size_t i, n = 0, more = 0;
    const json_t *x;
    json_array_foreach(list, i, x) {
        if (pick && !pick(x, p))
            continue;
        if (n == NODES_LISTED) {
            more++;
            continue;
        }
        const char *id = json_string_value(json_object_get(x, "id"));
        ev_buf__printf(b, "%s%.64s", n ? ", " : "", id ? id : "(no id)");
        const char *sep = " (";
        for (size_t k = 0; keys[k]; k++) {
            const char *v = json_string_value(json_object_get(x, keys[k]));
            if (v) {
                ev_buf__printf(b, "%s%.64s", sep, v);
                sep = ", ";
            }
        }
        if (sep[0] == ',')
            ev_buf__puts(b, ")");
        n++;
    }
    if (more)
        ev_buf__printf(b, " and %zu more", more);
}

/* A node with an id whose identifier is p (a node without an id cannot be
 * named by an event). */
static bool same_identifier(const json_t *x, const char *p)
{
    const char *v = json_string_value(json_object_get(x, "identifier"));
    return v && strcmp(v, p) == 0 && json_is_string(json_object_get(x, "id"));
}

static const json_t *find_node(const json_t *rec, const char *where, const char *list_name,
                               const char *what, const char *p, bool by_identifier,
                               ev_errbuf *err)
{
    const json_t *list = json_object_get(rec, list_name);
    size_t i, n = 0;
    const json_t *x, *hit = NULL;
    json_array_foreach(list, i, x) {
        const char *id = json_string_value(json_object_get(x, "id"));
        if (id && strcmp(id, p) == 0)
            return x;
    }
    if (by_identifier)
        json_array_foreach(list, i, x) {
            if (same_identifier(x, p)) {
                hit = x;
                n++;
            }
        }
    if (n == 1)
        return hit;
    ev_buf b = { 0 };
    if (n > 1) {
        list_nodes(&b, list, p, same_identifier);
        ev_err__set(err, EV_EINVAL, "'%.200s' is the identifier of %zu people of %s: "
                    "%s; name one by its id", p, n, where, b.data ? b.data : "");
    } else if (!json_array_size(list)) {
        ev_err__set(err, EV_EINVAL, "no %s '%.200s': %s has no %s (they come from the "
                    "exhibit schedule the bundle was packed with, 'evidence pack --exhibits')",
                    what, p, where, list_name);
    } else {
        list_nodes(&b, list, p, NULL);
        ev_err__set(err, EV_EINVAL, "no %s '%.200s' in %s (%s): its %s are %s", what, p, where,
                    by_identifier ? "by id or identifier" : "by id", list_name,
                    b.data ? b.data : "");
    }
    ev_buf__free(&b);
    return NULL;
}

const json_t *ev_record__find_person(const json_t *rec, const char *where, const char *p,
                                     ev_errbuf *err)
{
    return find_node(rec, where, "people", "person", p, true, err);
}

const json_t *ev_record__find_place(const json_t *rec, const char *where, const char *p,
                                    ev_errbuf *err)
{
    return find_node(rec, where, "places", "place", p, false, err);
}

int ev_record__node_value(const char **use, const char *given, const json_t *node,
                          const char *where, const char *key, const char *what, ev_errbuf *err)
{
    const char *v = json_string_value(json_object_get(node, key));
    if (given && v && strcmp(given, v) != 0) {
        const char *id = json_string_value(json_object_get(node, "id"));
        return ev_err__set(err, EV_EINVAL, "the %s '%.200s' is not the %s of %s in %s "
                           "('%.200s'): leave it out to take it from there", what, given, key,
                           id ? id : "the person", where, v);
    }
    *use = given ? given : v;
    return EV_OK;
}

int ev_custody__resolve(ev_custody_event *out, const ev_custody_event *e, const json_t *rec,
                        ev_errbuf *err)
{
    *out = *e;
    out->version = EV_CUSTODY_EVENT_VERSION;
    if (e->place) {
        const json_t *pl = ev_record__find_place(rec, "the record", e->place, err);
        if (!pl)
            return EV_EINVAL;
        out->place = json_string_value(json_object_get(pl, "id"));
    }
    if (e->person) {
        const json_t *who = ev_record__find_person(rec, "the record", e->person, err);
        if (!who)
            return EV_EINVAL;
        out->person = json_string_value(json_object_get(who, "id"));
        int rc = ev_record__node_value(&out->actor, e->actor, who, "the record", "name",
                                       "actor", err);
        if (rc == EV_OK)
            rc = ev_record__node_value(&out->organisation, e->organisation, who,
                                       "the record", "organisation", "organisation", err);
        if (rc != EV_OK)
            return rc;
        if (!out->actor || !out->organisation)
            return ev_err__set(err, EV_EINVAL, "%s has no %s in the record: give the %s",
                               out->person, out->actor ? "organisation" : "name",
                               out->actor ? "organisation" : "actor");
    }
    if (!out->actor || !out->organisation || !out->actor[0] || !out->organisation[0])
        return ev_err__set(err, EV_EINVAL, "a custody event needs an action, an actor and an "
                           "organisation");
    return EV_OK;
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
                      : (json_object_get(ev, "person") &&
                         !nonempty_str(json_object_get(ev, "person")))    ? "person"
                      : (json_object_get(ev, "place") &&
                         !nonempty_str(json_object_get(ev, "place")))     ? "place"
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
