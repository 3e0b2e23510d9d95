/*
 * recheck: re-check a copy against its master from the derivation record
 * alone (verify --deep): both SHA-256 against the record, then the
 * verification again with the record's plan and thresholds.
 */
#include "transcode/transcode.h"

#include <stdlib.h>
#include <string.h>

#include <libavutil/pixdesc.h>

#include "base/hash.h"
#include "transcode/transcode_int.h"

static ev_level level_from(const char *s)
{
    for (int l = EV_LEVEL_BYTE; l <= EV_LEVEL_QUALITY; l++)
        if (s && strcmp(s, ev_profile__level_name((ev_level)l)) == 0)
            return (ev_level)l;
    return EV_LEVEL_NONE;
}

static double num_or(const json_t *o, const char *k, double def)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : def;
}

int ev_transcode__recheck(json_t **out, const json_t *d, const char *master_path,
                          const char *copy_path, ev_errbuf *err)
{
    return ev_transcode__recheck_ex(out, d, master_path, copy_path, NULL, err);
}

int ev_transcode__recheck_ex(json_t **out, const json_t *d, const char *master_path,
                             const char *copy_path, const ev_transcode__opts *opts,
                             ev_errbuf *err)
{
    if (!out)
        return ev_err__set(err, EV_EINVAL, "recheck: out is NULL");
    *out = NULL;
    if (!d || !master_path || !copy_path)
        return ev_err__set(err, EV_EINVAL, "recheck: NULL argument");
    const json_t *fmt = json_object_get(d, "format");
    const json_t *ver = json_object_get(d, "verification");
    const json_t *plan = json_object_get(ver, "plan");
    const char *ssha = json_string_value(json_object_get(json_object_get(d, "source"), "sha256"));
    const char *osha = json_string_value(json_object_get(json_object_get(d, "output"), "sha256"));
    ev_level level = level_from(json_string_value(json_object_get(ver, "level")));
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "evidence.derivation") != 0 ||
        !json_is_object(ver) || !ssha || level == EV_LEVEL_NONE)
        return ev_err__set(err, EV_EFORMAT, "derivation record: this is not one (it "
                           "needs format \"evidence.derivation\", source, output and "
                           "verification); give the OUT.derivation.json written beside the "
                           "copy");
    char mh[65], ch[65];
    int rc;
    if ((rc = ev_transcode__file_sha256(mh, NULL, master_path, err)) != EV_OK ||
        (rc = ev_transcode__file_sha256(ch, NULL, copy_path, err)) != EV_OK)
        return rc;
    json_t *probs = json_array(), *doc = json_object(), *v = NULL;
    if (!probs || !doc) {
        json_decref(probs);
        json_decref(doc);
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    }
    /* a record made with --no-verify has no output hash to compare */
    bool sm = ev_hash__hex_equal(mh, ssha), om = !osha || ev_hash__hex_equal(ch, osha);
    if (!sm)
        json_array_append_new(probs, json_string("the master's SHA-256 differs from the record's "
                                                 "source.sha256: the master changed"));
    if (!om)
        json_array_append_new(probs, json_string("the copy's SHA-256 differs from the record's "
                                                 "output.sha256: the copy changed"));
    if (level == EV_LEVEL_BYTE) {
        v = json_pack("{s:s, s:s, s:s, s:s}", "level", "byte-identical", "verdict",
                      strcmp(mh, ch) == 0 ? "pass" : "fail", "source_sha256", mh,
                      "output_sha256", ch);
        if (strcmp(mh, ch) != 0)
            json_array_append_new(probs, json_string("master and copy differ"));
    } else {
        ev_vplan vp;
        memset(&vp, 0, sizeof(vp));
        const json_t *th = json_object_get(ver, "thresholds");
        vp.psnr_min = num_or(th, "psnr_min_db", 0);
        vp.psnr_mean_min = num_or(th, "psnr_mean_min_db", 0);
        vp.ssim_min = num_or(th, "ssim_min", 0);
        vp.ssim_mean_min = num_or(th, "ssim_mean_min", 0);
        vp.max_ts_delta_frames = num_or(th, "max_timestamp_delta_frames", 1);
        const char *kind = json_string_value(json_object_get(json_object_get(d, "profile"), "kind"));
        vp.still = kind && strcmp(kind, "still") == 0;
        size_t n = json_array_size(plan);
        vp.s = ev__calloc(n ? n : 1, sizeof(ev_vstream));
        if (!vp.s || n == 0 || n > EV_TC_MAX_STREAMS) {
            free(vp.s);
            json_decref(probs);
            json_decref(doc);
            return n == 0 || n > EV_TC_MAX_STREAMS
                       ? ev_err__set(err, EV_EFORMAT, "the derivation record has no usable "
                                     "verification plan")
                       : ev_err__set(err, EV_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            const json_t *e = json_array_get(plan, i);
            ev_vstream *s = &vp.s[vp.n++];
            s->src = (int)json_integer_value(json_object_get(e, "source_stream"));
            s->out = (int)json_integer_value(json_object_get(e, "output_stream"));
            const char *t = json_string_value(json_object_get(e, "type"));
            s->type = t && strcmp(t, "audio") == 0 ? EV_ST_AUDIO
                    : t && strcmp(t, "video") == 0 ? EV_ST_VIDEO
                    : t && strcmp(t, "subtitle") == 0 ? EV_ST_SUBTITLE : EV_ST_DATA;
            s->level = level_from(json_string_value(json_object_get(e, "level")));
            s->packet_fallback = json_is_true(json_object_get(e, "packet_fallback"));
            s->nal_units = json_is_true(json_object_get(e, "nal_units"));
            const char *a = json_string_value(json_object_get(e, "source_compared_as"));
            const char *b = json_string_value(json_object_get(e, "output_compared_as"));
            s->cmp_pix_fmt = a ? av_get_pix_fmt(a) : AV_PIX_FMT_NONE;
            s->out_cmp_pix_fmt = b ? av_get_pix_fmt(b) : AV_PIX_FMT_NONE;
            json_int_t ori = json_integer_value(json_object_get(e, "orientation_applied"));
            s->orientation = ori >= 2 && ori <= 8 ? (int)ori : 1;
            if (s->src < 0 || s->out < 0 || s->src >= EV_TC_MAX_STREAMS ||
                s->out >= EV_TC_MAX_STREAMS || s->level == EV_LEVEL_NONE ||
                s->level == EV_LEVEL_BYTE) {
                free(vp.s);
                json_decref(probs);
                json_decref(doc);
                return ev_err__set(err, EV_EFORMAT, "verification plan entry %zu of the "
                                   "derivation record is invalid", i);
            }
        }
        rc = ev_transcode__verify(&v, &vp, level, master_path, copy_path, opts, err);
        free(vp.s);
        if (rc != EV_OK) {
            json_decref(probs);
            json_decref(doc);
            return rc;
        }
        size_t k;
        json_t *x;
        json_array_foreach(json_object_get(v, "problems"), k, x)
            json_array_append(probs, x);
    }
    json_object_set_new(doc, "format", json_string("evidence.recheck"));
    json_object_set_new(doc, "format_version", json_integer(1));
    json_object_set_new(doc, "verdict", json_string(json_array_size(probs) ? "fail" : "pass"));
    json_object_set_new(doc, "source_sha256_match", json_boolean(sm));
    json_object_set_new(doc, "output_sha256_match", osha ? json_boolean(om) : json_null());
    json_object_set_new(doc, "verification", v ? v : json_null());
    json_object_set_new(doc, "problems", probs);
    *out = doc;
    return EV_OK;
}
