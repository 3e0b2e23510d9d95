/*
 * profile_text: profiles and a catalog for people and as the documents
 * `evidence profiles` prints: ev_profile_text(), ev_profile_catalog_text(),
 * ev_profile_document_json() ("evidence.profile") and
 * ev_profile_catalog_json() ("evidence.profiles"). Built from the loaded
 * profiles, through the catalog's public accessors.
 */
#include <stdlib.h>

#include "base/text.h"
#include "profile/profile.h"

/* how the documents of `evidence profiles --json` are laid out */
#define DOC_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER)

int ev_profile_text(char **out, const ev_profile *p)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (!p)
        return EV_EINVAL;
    ev_text t = { 0 };
    ev__text_add(&t, "name:     %s\n", ev_profile_name(p));
    ev__text_add(&t, "title:    %s\n", ev_profile_title(p));
    ev__text_add(&t, "level:    %s\n", ev_profile_level(p));
    ev__text_add(&t, "file:     %s\n", ev_profile_path(p));
    ev__text_add(&t, "sha256:   %s\n", ev_profile_sha256(p));
    if (ev_profile_unavailable(p))
        ev__text_add(&t, "status:   unavailable: %s\n", ev_profile_unavailable(p));
    if (p->doc) {
        ev__text_add(&t, "\n");
        ev__text_json(&t, p->doc, DOC_FLAGS, 17);
        ev__text_add(&t, "\n");
    }
    *out = ev__text_take(&t);
    return *out ? EV_OK : EV_ENOMEM;
}

int ev_profile_catalog_text(char **out, const ev_profile_catalog *c)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (!c)
        return EV_EINVAL;
    ev_text t = { 0 };
    for (size_t i = 0; i < ev_profile_catalog_count(c); i++) {
        const ev_profile *p = ev_profile_catalog_at(c, i);
        ev__text_add(&t, "%-20s %-18s %s", ev_profile_name(p), ev_profile_level(p),
                     ev_profile_title(p));
        if (ev_profile_unavailable(p))
            ev__text_add(&t, " [unavailable: %s]", ev_profile_unavailable(p));
        ev__text_add(&t, "\n");
    }
    *out = ev__text_take(&t);
    return *out ? EV_OK : EV_ENOMEM;
}

static int dump(char **out, json_t *doc)
{
    *out = doc ? json_dumps(doc, DOC_FLAGS) : NULL;
    json_decref(doc);
    return *out ? EV_OK : EV_ENOMEM;
}

int ev_profile_document_json(char **out, const ev_profile *p)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (!p)
        return EV_EINVAL;
    json_t *o = ev_profile__object(p);
    json_t *doc = o ? json_pack("{s:s, s:i, s:o}", "format", "evidence.profile",
                                "format_version", 1, "profile", o)
                    : NULL;
    return dump(out, doc);
}

int ev_profile_catalog_json(char **out, const ev_profile_catalog *c)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (!c)
        return EV_EINVAL;
    json_t *doc = json_object(), *path = json_array(), *list = json_array(),
           *probs = json_array();
    bool ok = doc && path && list && probs;
    for (size_t i = 0; ok && i < ev_profile_catalog_dir_count(c); i++)
        ok = json_array_append_new(path, json_string(ev_profile_catalog_dir(c, i))) == 0;
    for (size_t i = 0; ok && i < ev_profile_catalog_count(c); i++) {
        json_t *o = ev_profile__object(ev_profile_catalog_at(c, i));
        ok = o && json_array_append_new(list, o) == 0;
    }
    for (size_t i = 0; ok && i < ev_profile_catalog_problem_count(c); i++)
        ok = json_array_append_new(probs, json_pack("{s:s}", "message",
                                                    ev_profile_catalog_problem(c, i))) == 0;
    ok = ok && json_object_set_new(doc, "format", json_string("evidence.profiles")) == 0 &&
         json_object_set_new(doc, "format_version", json_integer(1)) == 0 &&
         json_object_set(doc, "search_path", path) == 0 &&
         json_object_set(doc, "profiles", list) == 0 &&
         json_object_set(doc, "problems", probs) == 0;
    json_decref(path);
    json_decref(list);
    json_decref(probs);
    if (!ok) {
        json_decref(doc);
        doc = NULL;
    }
    return dump(out, doc);
}
