/*
 * metadata: read the copy back and report, against the source, what was
 * kept, changed, dropped or added: creation time, location (as stored),
 * rotation (display matrix) and the other container tags.
 */
#include "transcode/job.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libavutil/display.h>

static double rotation_of(const AVStream *st, bool *has)
{
    size_t size = 0;
    const uint8_t *sd = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    *has = sd && size >= 9 * sizeof(int32_t);
    if (!*has)
        return 0;
    double r = av_display_rotation_get((const int32_t *)sd);
    return isnan(r) ? 0 : r;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *compare_field(const char *a, const char *b, json_t *problems, const char *what,
                             bool strict)
{
    const char *status = !a && !b ? "absent" : a && !b ? "dropped" : !a && b ? "added"
                       : strcmp(a, b) == 0 ? "kept" : "changed";
    if (strict && strcmp(status, "changed") == 0) {
        char m[256];
        snprintf(m, sizeof(m), "%s changed: source '%.80s', copy '%.80s'", what, a, b);
        json_array_append_new(problems, json_string(m));
    }
    return json_pack("{s:o, s:o, s:s}", "source", str_or_null(a), "output", str_or_null(b),
                     "status", status);
}

/* Read the copy back and list what was kept, changed or dropped. */
json_t *ev_transcode__metadata_report(job *j, const char *out_path, json_t *problems)
{
    AVFormatContext *oc = NULL;
    ev_errbuf e2;
    json_t *m = json_object();
    if (!m)
        return NULL;
    if (ev_transcode__open_input(&oc, out_path, &e2) != EV_OK) {
        json_object_set_new(m, "error", json_string(e2.msg));
        json_array_append_new(problems, json_string("the copy cannot be opened to read its "
                                                    "metadata back"));
        return m;
    }
    const AVDictionaryEntry *a = av_dict_get(j->ic->metadata, "creation_time", NULL, 0);
    const AVDictionaryEntry *b = av_dict_get(oc->metadata, "creation_time", NULL, 0);
    json_object_set_new(m, "creation_time", compare_field(a ? a->value : NULL,
                                                          b ? b->value : NULL, problems,
                                                          "creation_time", false));
    ev_tc_loc lo;
    bool has_lo = ev_transcode__stored_location(&lo, oc, out_path);
    json_t *loc = ev_transcode__location_report(j->has_src_loc ? &j->src_loc : NULL,
                                               has_lo ? &lo : NULL, problems,
                                               j->p->meta_location == EV_META_VERBATIM);
    if (j->has_src_loc)
        json_object_set_new(loc, "policy", json_string(j->p->meta_location == EV_META_VERBATIM
                                                       ? "verbatim" : "drop"));
    json_object_set_new(m, "location", loc);
    json_t *rot = json_array();
    for (size_t i = 0; i < j->n_os; i++) {
        ost *o = &j->os[i];
        if (o->type != EV_ST_VIDEO || (unsigned)o->out_idx >= oc->nb_streams)
            continue;
        bool ha, hb;
        double ra = rotation_of(o->ist, &ha), rb = rotation_of(oc->streams[o->out_idx], &hb);
        if (!ha && !hb)
            continue;
        const char *status = ha && hb && fabs(ra - rb) < 0.01 ? "kept" : ha && !hb ? "dropped"
                           : !ha ? "added" : "changed";
        json_t *r = json_pack("{s:i, s:i, s:o, s:o, s:s}", "source_stream", o->in_idx,
                              "output_stream", o->out_idx, "source_degrees",
                              ha ? json_real(ra) : json_null(), "output_degrees",
                              hb ? json_real(rb) : json_null(), "status", status);
        if (strcmp(status, "dropped") == 0)
            json_object_set_new(r, "note", json_string("the output container (as written by "
                               "this FFmpeg version) has no display matrix; the rotation is "
                               "recorded here, pixels are not rotated"));
        json_array_append_new(rot, r);
    }
    json_object_set_new(m, "rotation", rot);
    /* other container tags */
    json_t *kept = json_array(), *changed = json_array(), *dropped = json_array(),
           *added = json_array();
    const AVDictionaryEntry *t = NULL;
    while ((t = av_dict_get(j->ic->metadata, "", t, AV_DICT_IGNORE_SUFFIX))) {
        if (ev_transcode__strip_tag(t->key) || ev_transcode__is_location_key(t->key) || strcasecmp(t->key, "creation_time") == 0)
            continue;
        const AVDictionaryEntry *u = av_dict_get(oc->metadata, t->key, NULL, 0);
        if (!u)
            json_array_append_new(dropped, json_string(t->key));
        else if (strcmp(u->value, t->value) == 0)
            json_array_append_new(kept, json_string(t->key));
        else
            json_array_append_new(changed, json_pack("{s:s, s:s, s:s}", "key", t->key, "source",
                                                     t->value, "output", u->value));
    }
    t = NULL;
    while ((t = av_dict_get(oc->metadata, "", t, AV_DICT_IGNORE_SUFFIX))) {
        if (ev_transcode__strip_tag(t->key) || ev_transcode__is_location_key(t->key) || strcasecmp(t->key, "creation_time") == 0)
            continue;
        if (!av_dict_get(j->ic->metadata, t->key, NULL, 0))
            json_array_append_new(added, json_string(t->key));
    }
    json_object_set_new(m, "container_tags", json_pack("{s:o, s:o, s:o, s:o}", "kept", kept,
                                                       "changed", changed, "dropped", dropped,
                                                       "added", added));
    avformat_close_input(&oc);
    return m;
}

