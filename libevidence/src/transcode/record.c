/*
 * record: the derivation record (docs/schema/derivation.schema.json) of a
 * copy: source, output, profile, settings per stream, library versions,
 * metadata read-back and the verification with its thresholds and plan.
 */
#include "transcode/record.h"

#include <stdio.h>
#include <string.h>

#include <libavutil/pixdesc.h>

#include "transcode/transcode_int.h"

static json_t *thresholds_json(const ev_profile *p)
{
    json_t *t = json_object();
    if (!t)
        return NULL;
    if (p->level == EV_LEVEL_QUALITY) {
        json_object_set_new(t, "psnr_min_db", json_real(p->psnr_min));
        json_object_set_new(t, "psnr_mean_min_db", json_real(p->psnr_mean_min));
        json_object_set_new(t, "ssim_min", json_real(p->ssim_min));
        json_object_set_new(t, "ssim_mean_min", json_real(p->ssim_mean_min));
    }
    json_object_set_new(t, "max_timestamp_delta_frames", json_real(p->max_ts_delta_frames));
    return t;
}

static json_t *plan_json(const ev_vplan *vp)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < vp->n; i++) {
        const ev_vstream *v = &vp->s[i];
        json_t *o = json_pack("{s:i, s:i, s:s, s:s, s:b}", "source_stream", v->src,
                              "output_stream", v->out, "type", ev_profile__stype_name(v->type),
                              "level", ev_profile__level_name(v->level), "packet_fallback",
                              v->packet_fallback);
        if (v->cmp_pix_fmt != AV_PIX_FMT_NONE)
            json_object_set_new(o, "source_compared_as",
                                json_string(av_get_pix_fmt_name((enum AVPixelFormat)v->cmp_pix_fmt)));
        if (v->out_cmp_pix_fmt != AV_PIX_FMT_NONE)
            json_object_set_new(o, "output_compared_as",
                                json_string(av_get_pix_fmt_name((enum AVPixelFormat)v->out_cmp_pix_fmt)));
        if (v->orientation > 1)
            json_object_set_new(o, "orientation_applied", json_integer(v->orientation));
        if (v->nal_units)
            json_object_set_new(o, "nal_units", json_true());
        json_array_append_new(a, o);
    }
    return a;
}

int ev_transcode__record(json_t **out, const ev_tc_record_in *in, json_t **streams,
                         ev_errbuf *err)
{
    const ev_profile *p = in->p;
    const char *in_path = in->in_path, *out_path = in->out_path;
    json_t *verification = in->verification, *metadata = in->metadata;
    json_t *versions = NULL;
    ev_common__versions(&versions);
    char srcc[64] = "", outc[64] = "";
    if (in->ic)
        ev_transcode__container_name(srcc, sizeof(srcc), in->ic, in_path);
    json_t *rec = json_object();
    if (!rec) {
        json_decref(versions);
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    }
    json_object_set_new(rec, "format", json_string("evidence.derivation"));
    json_object_set_new(rec, "format_version", json_integer(1));
    json_object_set_new(rec, "created", json_string(in->created));
    json_object_set_new(rec, "action", json_string(p->action));
    json_object_set_new(rec, "profile", json_pack("{s:s, s:s, s:s, s:s}", "name", p->name,
                                                  "sha256", p->sha256, "level",
                                                  ev_profile__level_name(p->level), "kind",
                                                  p->kind == EV_KIND_COPY ? "copy"
                                                  : p->kind == EV_KIND_STILL ? "still" : "av"));
    json_t *src = json_pack("{s:s, s:I, s:s}", "path", in_path, "size", (json_int_t)in->src_size,
                            "sha256", in->src_sha256);
    if (srcc[0])
        json_object_set_new(src, "container", json_string(srcc));
    json_object_set_new(rec, "source", src);
    json_t *outo = json_pack("{s:s, s:I}", "path", out_path, "size", (json_int_t)in->out_size);
    if (in->out_sha256[0])
        json_object_set_new(outo, "sha256", json_string(in->out_sha256));
    else
        json_object_set_new(outo, "sha256_note",
                            json_string("not computed: the copy was not verified (--no-verify)"));
    json_object_set_new(outo, "kept", json_boolean(in->kept));
    snprintf(outc, sizeof(outc), "%s", p->container ? p->container : srcc);
    if (outc[0])
        json_object_set_new(outo, "container", json_string(outc));
    json_object_set_new(rec, "output", outo);
    json_t *settings = json_object();
    if (p->kind == EV_KIND_AV) {
        json_object_set_new(settings, "muxer", json_string(p->container));
        json_object_set(settings, "muxer_options", in->muxer_options);
    } else if (p->kind == EV_KIND_STILL) {
        json_object_set_new(settings, "writer", json_string("png (libavcodec) + eXIf chunk"));
    } else {
        json_object_set_new(settings, "copy", json_string("byte for byte"));
    }
    json_object_set_new(settings, "streams", *streams ? *streams : json_array());
    *streams = NULL;
    json_object_set(settings, "dropped", in->dropped);
    if (json_array_size(in->notes))
        json_object_set(settings, "notes", in->notes);
    json_object_set_new(rec, "settings", settings);
    json_object_set_new(rec, "libraries", versions ? versions : json_object());
    if (metadata)
        json_object_set(rec, "metadata", metadata);
    json_object_set_new(verification, "thresholds", thresholds_json(p));
    json_object_set_new(verification, "plan", plan_json(in->plan));
    json_object_set(rec, "verification", verification);
    *out = rec;
    return EV_OK;
}
