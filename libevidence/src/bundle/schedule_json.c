/* Exhibit schedules as JSON (docs/schema/schedule.schema.json): reading a
 * schedule into rows (each exhibit with its event, person and place
 * written out, so that schedule.c checks and joins them the same way as
 * CSV rows), and writing the document back as a schedule file. */
#include "bundle/schedule_int.h"

#include <stdlib.h>
#include <string.h>

/* The more serious of two statuses: out of memory first, then a problem. */
static int worst(int a, int b)
{
    if (a == EV_ENOMEM || b == EV_ENOMEM)
        return EV_ENOMEM;
    return a != EV_OK ? a : b;
}

static bool key_in(const char *k, const char *const *keys)
{
    for (; *keys; keys++)
        if (strcmp(k, *keys) == 0)
            return true;
    return false;
}

/* Every key of o is one of keys; else a problem naming the path. */
static int only_keys(ev_sched_rows *t, const json_t *o, const char *path, const char *const *keys)
{
    const char *k;
    json_t *v;
    int rc = EV_OK;
    json_object_foreach((json_t *)o, k, v)
        if (!key_in(k, keys))
            rc = ev_bundle__sched_problem(t, "%s: unknown key '%s'", path, k);
    return rc;
}

/* Store the string (or, for degrees, number) at o[k] in the row's column. */
static int take(ev_sched_rows *t, ev_sched_row *r, int col, const json_t *o, const char *k,
                const char *path)
{
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v))
        return EV_OK;
    if (col == EV_SC_LATITUDE || col == EV_SC_LONGITUDE) {
        char deg[32];
        if (!json_is_number(v))
            return ev_bundle__sched_problem(t, "%s.%s: must be a number (decimal degrees)", path, k);
        if (!ev_bundle__sched_format_deg(deg, sizeof(deg), json_number_value(v)))
            return ev_bundle__sched_problem(t, "%s.%s: more than 10 decimal places, or out of "
                                               "range",
                                            path, k);
        return (r->cells[col] = ev__strdup(deg)) ? EV_OK : EV_ENOMEM;
    }
    if (!json_is_string(v))
        return ev_bundle__sched_problem(t, "%s.%s: must be a string", path, k);
    if (memchr(json_string_value(v), '\0', json_string_length(v)))
        return ev_bundle__sched_problem(t, "%s.%s: holds a NUL character", path, k);
    /* spaces and tabs around a value are dropped, as from a CSV cell */
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0)
        return EV_OK;
    return (r->cells[col] = ev__strndup(s, n)) ? EV_OK : EV_ENOMEM;
}

/* The node of list whose "id" is the string ref (idx: id -> position),
 * with its position in *pos; problems otherwise. */
static const json_t *lookup(ev_sched_rows *t, const json_t *doc, const char *list,
                            const json_t *idx, const json_t *ref, const char *path, json_t *used,
                            size_t *pos)
{
    if (!ref || json_is_null(ref))
        return NULL;
    if (!json_is_string(ref)) {
        ev_bundle__sched_problem(t, "%s: must be the id (a string) of one of \"%s\"", path, list);
        return NULL;
    }
    json_t *at = json_object_get(idx, json_string_value(ref));
    if (!at) {
        ev_bundle__sched_problem(t, "%s: no entry of \"%s\" has the id '%s'", path, list,
                                 json_string_value(ref));
        return NULL;
    }
    *pos = (size_t)json_integer_value(at);
    json_array_set_new(used, *pos, json_true());
    return json_array_get(json_object_get(doc, list), *pos);
}

/* "time" wins; else "time_local" (zone unknown); else "time_unknown": true. */
static int take_time(ev_sched_rows *t, ev_sched_row *r, int col, const json_t *ev,
                     const char *prefix, const char *path)
{
    char k[32];
    snprintf(k, sizeof(k), "%s", prefix);
    if (json_object_get(ev, k))
        return take(t, r, col, ev, k, path);
    snprintf(k, sizeof(k), "%s_local", prefix);
    if (json_object_get(ev, k))
        return take(t, r, col, ev, k, path);
    snprintf(k, sizeof(k), "%s_unknown", prefix);
    json_t *u = json_object_get(ev, k);
    if (u && !json_is_boolean(u))
        return ev_bundle__sched_problem(t, "%s.%s: must be true or false", path, k);
    if (json_is_true(u))
        return (r->cells[col] = ev__strdup("unknown")) ? EV_OK : EV_ENOMEM;
    return EV_OK;
}

static const char *const top_keys[] = { "$schema", "format", "format_version", "source", "warnings",
                                        "people", "places", "events", "exhibits", NULL };
/* The sub-object name of o (an exhibit's source or references): only
 * keys[], each into column cols[k]. */
static int take_object(ev_sched_rows *t, ev_sched_row *r, const json_t *o, const char *name,
                       const char *path, const char *const *keys, const int *cols)
{
    const json_t *v = json_object_get(o, name);
    if (!v)
        return EV_OK;
    if (!json_is_object(v))
        return ev_bundle__sched_problem(t, "%s.%s: must be an object", path, name);
    char sub[96];
    snprintf(sub, sizeof(sub), "%s.%s", path, name);
    int e = only_keys(t, v, sub, keys);
    for (size_t k = 0; keys[k]; k++)
        e = worst(e, take(t, r, cols[k], v, keys[k], sub));
    return e;
}

static const char *const person_keys[] = { "id", "name", "identifier", "organisation", NULL };
static const char *const place_keys[] = { "id", "description", "address", "postcode", "latitude",
                                          "longitude", NULL };
static const char *const event_keys[] = { "id", "action", "performer", "performer_role", "place",
                                          "time", "time_local", "time_utc_offset", "time_zone",
                                          "time_unknown", "end_time", "end_time_local",
                                          "end_time_utc_offset", "end_time_zone",
                                          "end_time_unknown", NULL };
static const char *const exhibit_keys[] = { "reference", "description", "event", "source",
                                            "references", "handling_notes", "files", "extra", NULL };
static const char *const source_keys[] = { "make", "model", "serial", "owner", "system", NULL };
static const int source_cols[] = { EV_SC_SOURCE_MAKE, EV_SC_SOURCE_MODEL, EV_SC_SOURCE_SERIAL,
                                   EV_SC_SOURCE_OWNER, EV_SC_SOURCE_SYSTEM };
static const char *const refs_keys[] = { "crime", "urn", "dems_id", NULL };
static const int refs_cols[] = { EV_SC_CRIME_REFERENCE, EV_SC_URN, EV_SC_DEMS_ID };

static int check_list(ev_sched_rows *t, const json_t *doc, const char *list,
                      const char *const *keys, json_t *idx)
{
    json_t *a = json_object_get(doc, list);
    if (!a)
        return EV_OK;
    if (!json_is_array(a))
        return ev_bundle__sched_problem(t, "%s: must be a list", list);
    size_t i;
    json_t *n;
    int rc = EV_OK;
    json_array_foreach(a, i, n) {
        char path[64];
        snprintf(path, sizeof(path), "%s[%zu]", list, i);
        if (!json_is_object(n)) {
            rc = ev_bundle__sched_problem(t, "%s: must be an object", path);
            continue;
        }
        if (only_keys(t, n, path, keys) != EV_OK)
            rc = EV_EFORMAT;
        json_t *id = json_object_get(n, "id");
        if (!json_is_string(id) || json_string_length(id) == 0) {
            rc = ev_bundle__sched_problem(t, "%s.id: must be a non-empty string", path);
            continue;
        }
        json_t *prev = json_object_get(idx, json_string_value(id));
        if (prev)
            rc = ev_bundle__sched_problem(t, "%s.id: '%s' is also the id of %s[%lld]", path,
                                          json_string_value(id), list,
                                          (long long)json_integer_value(prev));
        else if (json_object_set_new(idx, json_string_value(id), json_integer((json_int_t)i)) != 0)
            return EV_ENOMEM;
    }
    return rc;
}

static int warn_unused(ev_sched_rows *t, const json_t *doc, const char *list, const json_t *used)
{
    for (size_t i = 0; i < json_array_size(json_object_get(doc, list)); i++)
        if (!json_is_true(json_array_get(used, i)) &&
            ev_bundle__sched_warning(t, "%s[%zu] ('%s'): no exhibit refers to it; left out", list,
                                     i,
                                     json_string_value(json_object_get(
                                         json_array_get(json_object_get(doc, list), i), "id"))) !=
                EV_OK)
            return EV_ENOMEM;
    return EV_OK;
}

static json_t *falses(size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_false()) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

int ev_bundle__sched_json_read(ev_sched_rows *t, const char *data, size_t len)
{
    if (len > EV_SCHED_MAX_BYTES)
        return ev_bundle__sched_problem(t, "%zu bytes: a schedule may have at most %u", len,
                                        EV_SCHED_MAX_BYTES);
    json_error_t jerr;
    json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return ev_bundle__sched_problem(t, "line %d, column %d: not JSON: %s", jerr.line,
                                        jerr.column, jerr.text);
    int rc = EV_OK;
    json_t *used_people = NULL, *used_places = NULL, *used_events = NULL;
    json_t *ix_people = NULL, *ix_places = NULL, *ix_events = NULL;
    if (!json_is_object(doc)) {
        rc = ev_bundle__sched_problem(t, "the document must be a JSON object");
        goto done;
    }
    const char *fmt = json_string_value(json_object_get(doc, "format"));
    if (!fmt || strcmp(fmt, "evidence.schedule") != 0 ||
        json_integer_value(json_object_get(doc, "format_version")) != 1) {
        rc = ev_bundle__sched_problem(t, "format: must be \"evidence.schedule\" with "
                                         "format_version 1 (docs/schema/schedule.schema.json)");
        goto done;
    }
    if (only_keys(t, doc, "the document", top_keys) != EV_OK)
        rc = EV_EFORMAT;
    ix_people = json_object();
    ix_places = json_object();
    ix_events = json_object();
    if (!ix_people || !ix_places || !ix_events) {
        rc = EV_ENOMEM;
        goto done;
    }
    int lr = worst(worst(check_list(t, doc, "people", person_keys, ix_people),
                         check_list(t, doc, "places", place_keys, ix_places)),
                   check_list(t, doc, "events", event_keys, ix_events));
    if (lr != EV_OK)
        rc = lr;
    json_t *exhibits = json_object_get(doc, "exhibits");
    if (!json_is_array(exhibits)) {
        rc = ev_bundle__sched_problem(t, "exhibits: must be a list");
        goto done;
    }
    if (rc != EV_OK)
        goto done;
    if (json_array_size(exhibits) > EV_SCHED_MAX_ROWS) {
        rc = ev_bundle__sched_problem(t, "exhibits: more than %u", EV_SCHED_MAX_ROWS);
        goto done;
    }
    used_people = falses(json_array_size(json_object_get(doc, "people")));
    used_places = falses(json_array_size(json_object_get(doc, "places")));
    used_events = falses(json_array_size(json_object_get(doc, "events")));
    if (!used_people || !used_places || !used_events) {
        rc = EV_ENOMEM;
        goto done;
    }
    size_t i;
    json_t *ex;
    json_array_foreach(exhibits, i, ex) {
        char path[64], sub[96];
        snprintf(path, sizeof(path), "exhibits[%zu]", i);
        if (!json_is_object(ex)) {
            rc = ev_bundle__sched_problem(t, "%s: must be an object", path);
            continue;
        }
        ev_sched_row *r = ev_bundle__sched_row_add(t, 0, path);
        if (!r) {
            rc = EV_ENOMEM;
            goto done;
        }
        int e = only_keys(t, ex, path, exhibit_keys);
        e = worst(e, take(t, r, EV_SC_REFERENCE, ex, "reference", path));
        e = worst(e, take(t, r, EV_SC_DESCRIPTION, ex, "description", path));
        e = worst(e, take(t, r, EV_SC_HANDLING_NOTES, ex, "handling_notes", path));
        e = worst(e, take_object(t, r, ex, "source", path, source_keys, source_cols));
        e = worst(e, take_object(t, r, ex, "references", path, refs_keys, refs_cols));
        snprintf(sub, sizeof(sub), "%s.event", path);
        size_t ei = 0, pi = 0;
        const json_t *ev = lookup(t, doc, "events", ix_events, json_object_get(ex, "event"), sub,
                                  used_events, &ei);
        if (ev) {
            char epath[64];
            snprintf(epath, sizeof(epath), "events[%zu]", ei);
            e = worst(e, take(t, r, EV_SC_ACTION, ev, "action", epath));
            e = worst(e, take(t, r, EV_SC_PRODUCER_ROLE, ev, "performer_role", epath));
            e = worst(e, take_time(t, r, EV_SC_TIME, ev, "time", epath));
            e = worst(e, take_time(t, r, EV_SC_END_TIME, ev, "end_time", epath));
            snprintf(sub, sizeof(sub), "%s.performer", epath);
            const json_t *p = lookup(t, doc, "people", ix_people, json_object_get(ev, "performer"),
                                     sub, used_people, &pi);
            if (p) {
                e = worst(e, take(t, r, EV_SC_PRODUCER_NAME, p, "name", sub));
                e = worst(e, take(t, r, EV_SC_PRODUCER_IDENTIFIER, p, "identifier", sub));
                e = worst(e, take(t, r, EV_SC_PRODUCER_ORGANISATION, p, "organisation", sub));
            }
            snprintf(sub, sizeof(sub), "%s.place", epath);
            const json_t *pl = lookup(t, doc, "places", ix_places, json_object_get(ev, "place"),
                                      sub, used_places, &pi);
            if (pl) {
                e = worst(e, take(t, r, EV_SC_PLACE, pl, "description", sub));
                e = worst(e, take(t, r, EV_SC_ADDRESS, pl, "address", sub));
                e = worst(e, take(t, r, EV_SC_POSTCODE, pl, "postcode", sub));
                e = worst(e, take(t, r, EV_SC_LATITUDE, pl, "latitude", sub));
                e = worst(e, take(t, r, EV_SC_LONGITUDE, pl, "longitude", sub));
            }
        }
        const json_t *files = json_object_get(ex, "files");
        if (files && !json_is_array(files)) {
            e = worst(e, ev_bundle__sched_problem(t, "%s.files: must be a list of paths", path));
        } else if (files) {
            ev_buf b = { 0 };
            size_t fi;
            json_t *f;
            json_array_foreach(files, fi, f) {
                const char *s = json_string_value(f);
                if (!s || json_string_length(f) == 0 || strpbrk(s, "\r\n") ||
                    strlen(s) != json_string_length(f)) {
                    e = worst(e, ev_bundle__sched_problem(t, "%s.files[%zu]: must be a non-empty path "
                                                     "without line breaks",
                                                  path, fi));
                    continue;
                }
                if ((b.len && ev_buf__append(&b, "\n", 1) != EV_OK) ||
                    ev_buf__puts(&b, s) != EV_OK) {
                    ev_buf__free(&b);
                    rc = EV_ENOMEM;
                    goto done;
                }
            }
            r->cells[EV_SC_FILES] = b.data;
        }
        const json_t *extra = json_object_get(ex, "extra");
        if (extra && !json_is_object(extra)) {
            e = worst(e, ev_bundle__sched_problem(t, "%s.extra: must be an object of strings", path));
        } else if (extra) {
            const char *k;
            json_t *v;
            json_object_foreach((json_t *)extra, k, v) {
                if (!json_is_string(v)) {
                    e = worst(e, ev_bundle__sched_problem(t, "%s.extra.%s: must be a string", path, k));
                    continue;
                }
                size_t kl = strlen(k);
                if (kl == 0 || k[0] == ' ' || k[0] == '\t' || k[kl - 1] == ' ' ||
                    k[kl - 1] == '\t') {
                    e = worst(e, ev_bundle__sched_problem(t, "%s.extra: a column name must not be "
                                                             "empty or begin or end with white "
                                                             "space",
                                                          path));
                    continue;
                }
                if (ev_bundle__sched_col_find(k) >= 0) {
                    e = worst(e, ev_bundle__sched_problem(t, "%s.extra.%s: is a schedule field; give it "
                                                     "in its own place",
                                                  path, k));
                    continue;
                }
                if (json_string_length(v) == 0)
                    continue;
                if ((!r->extra && !(r->extra = json_object())) ||
                    json_object_set(r->extra, k, v) != 0) {
                    rc = EV_ENOMEM;
                    goto done;
                }
            }
        }
        if (e == EV_ENOMEM) {
            rc = EV_ENOMEM;
            goto done;
        }
        if (e != EV_OK)
            rc = EV_EFORMAT;
    }
    if (rc == EV_OK && (warn_unused(t, doc, "people", used_people) != EV_OK ||
                        warn_unused(t, doc, "places", used_places) != EV_OK ||
                        warn_unused(t, doc, "events", used_events) != EV_OK))
        rc = EV_ENOMEM;
done:
    json_decref(ix_people);
    json_decref(ix_places);
    json_decref(ix_events);
    json_decref(used_people);
    json_decref(used_places);
    json_decref(used_events);
    json_decref(doc);
    if (rc == EV_OK && json_array_size(t->problems) > 0)
        rc = EV_EFORMAT;
    return rc;
}

int ev_bundle__sched_json_write(char **out, const json_t *doc)
{
    *out = NULL;
    json_t *o = json_object();
    if (!o)
        return EV_ENOMEM;
    const char *keys[] = { "format", "format_version", "people", "places", "events", "exhibits" };
    int rc = EV_OK;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (json_object_set(o, keys[i], json_object_get(doc, keys[i])) != 0)
            rc = EV_ENOMEM;
    if (rc == EV_OK) {
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
        if (!s || !(*out = ev__asprintf("%s\n", s)))
            rc = EV_ENOMEM;
        free(s);
    }
    json_decref(o);
    return rc;
}
