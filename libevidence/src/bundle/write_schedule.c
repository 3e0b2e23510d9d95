/*
 * bundle (writer): an exhibit schedule packed. Each exhibit's files are
 * added under its reference; the schedule's people, places, events and
 * exhibit facts are kept for the record (without the files, which the
 * record lists as items). At the seal, ev_bundle__schedule_record() gives
 * them with an exhibit of its reference only for each exhibit of the items
 * that the schedule does not name.
 */
#include <stdlib.h>
#include <string.h>

#include "bundle/write_int.h"
#include "evidence/schedule.h"
#include "record/record.h"

/* The person of the schedule that o.officer_person names: the officer,
 * their identifier and organisation are taken from it when not given, and
 * must be its when given (docs/exhibit-schedule.md). Nothing is matched by
 * name: the link is made only because the caller named the person. */
static int officer_person(ev_writer *w, const json_t *sched)
{
    const json_t *who = ev_record__find_person(sched, "the schedule", w->o.officer_person,
                                                &w->err);
    if (!who)
        return EV_EINVAL;
    static const char *const keys[3] = { "name", "identifier", "organisation" };
    static const char *const what[3] = { "officer", "officer identifier", "organisation" };
    const char **f[3] = { &w->o.officer, &w->o.officer_id, &w->o.organisation };
    const char *use[3];
    for (int k = 0; k < 3; k++)
        if (ev_record__node_value(&use[k], *f[k], who, "the schedule", keys[k], what[k],
                                  &w->err) != EV_OK)
            return EV_EINVAL;
    char *id = ev__strdup(json_string_value(json_object_get(who, "id")));
    char *dup[3] = { NULL, NULL, NULL };
    bool nomem = !id;
    for (int k = 0; k < 3; k++)
        if (!*f[k] && use[k] && !(dup[k] = ev__strdup(use[k])))
            nomem = true;
    if (nomem) {
        free(id);
        for (int k = 0; k < 3; k++)
            free(dup[k]);
        return ev_err__set(&w->err, EV_ENOMEM, "out of memory");
    }
    for (int k = 0; k < 3; k++)
        if (dup[k])
            *f[k] = dup[k];
    free(w->officer_person_id);
    w->officer_person_id = id;
    return EV_OK;
}

int ev_writer_add_schedule(ev_writer *w, const ev_schedule *s)
{
    if (!w || !s)
        return EV_EINVAL;
    if (w->schedule)
        return ev_err__set(&w->err, EV_EINVAL, "a schedule was given already: one schedule "
                           "per bundle");
    char *txt = NULL;
    int rc = ev_schedule_write_json(&txt, s);
    if (rc != EV_OK)
        return ev_err__set(&w->err, rc, "the schedule cannot be packed: %s",
                           rc == EV_EINVAL ? "no schedule was read" : ev_strerror(rc));
    json_t *doc = json_loads(txt, JSON_REJECT_DUPLICATES, NULL);
    ev_free(txt);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return ev_err__set(&w->err, EV_ENOMEM, "the schedule cannot be packed: out of memory");
    }
    json_t *keep = json_object();
    static const char *const keys[] = { "people", "places", "events", "exhibits" };
    for (size_t k = 0; keep && k < sizeof(keys) / sizeof(keys[0]); k++) {
        json_t *v = json_object_get(doc, keys[k]);
        if (json_object_set_new(keep, keys[k], json_is_array(v) ? json_incref(v)
                                                                : json_array()) != 0) {
            json_decref(keep);
            keep = NULL;
        }
    }
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(keep, "exhibits"), i, x) json_object_del(x, "files");
    json_decref(doc);
    if (!keep)
        return ev_err__set(&w->err, EV_ENOMEM, "the schedule cannot be packed: out of memory");
    if (w->o.officer_person && (rc = officer_person(w, keep)) != EV_OK) {
        json_decref(keep);
        return rc;
    }
    w->schedule = keep;
    for (size_t e = 0; e < ev_schedule_exhibit_count(s); e++) {
        const char *ref = ev_schedule_exhibit_reference(s, e);
        for (size_t f = 0; f < ev_schedule_exhibit_file_count(s, e); f++) {
            rc = ev_writer_add(w, ev_schedule_exhibit_file(s, e, f), ref);
            if (rc != EV_OK)
                return rc;
        }
    }
    return EV_OK;
}

json_t *ev_bundle__schedule_record(const ev_writer *w)
{
    if (!w->schedule)
        return NULL;
    json_t *r = json_deep_copy(w->schedule);
    json_t *xs = json_object_get(r, "exhibits");
    if (!json_is_array(xs)) {
        json_decref(r);
        return NULL;
    }
    for (size_t k = 0; k < w->n; k++) {
        const char *ref = w->items[k].exhibit;
        size_t i;
        json_t *x;
        bool found = false;
        json_array_foreach(xs, i, x) {
            const char *xr = json_string_value(json_object_get(x, "reference"));
            if (xr && strcmp(xr, ref) == 0) {
                found = true;
                break;
            }
        }
        if (!found && json_array_append_new(xs, json_pack("{s:s}", "reference", ref)) != 0) {
            json_decref(r);
            return NULL;
        }
    }
    return r;
}
