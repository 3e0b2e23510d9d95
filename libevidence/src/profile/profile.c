/*
 * profile: loading and validating profile files.
 *
 * Every field is checked on load; a bad profile gives one message naming the
 * file, the field and what is wrong ("profile 'x.json': verification.level:
 * 'exact' is not a level; use one of ..."). Unknown keys are errors (typos
 * would otherwise be ignored silently), except "comment", "$schema" and keys
 * starting with "x-".
 *
 * Why this file is about 1,300 lines: it has one job, validating every field
 * of a profile file, and the field parsers share one context, one message
 * helper and the FFmpeg name checks; splitting them by field would only
 * spread that state across files. The catalog is catalog.c.
 */
#include "profile/profile.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>

#include "base/hash.h"

/* ------------------------------------------------------------------------ */
/* Names                                                                     */
/* ------------------------------------------------------------------------ */

static const char *const level_names[] = { "byte-identical", "packet-identical",
                                           "decoded-identical", "quality-bounded", "none" };
static const char *const stype_names[EV_ST_COUNT] = { "video", "audio", "subtitle", "data" };

typedef struct check_def {
    const char *name;
    ev_check_type type;
    int stype; /* -1 = file level */
} check_def;

static const check_def check_defs[EV_CHECK_COUNT] = {
    [EV_CHECK_CONTAINER] = { "container", EV_CT_STRING, -1 },
    [EV_CHECK_VIDEO_STREAMS] = { "video_streams", EV_CT_INT, -1 },
    [EV_CHECK_AUDIO_STREAMS] = { "audio_streams", EV_CT_INT, -1 },
    [EV_CHECK_VIDEO_CODEC] = { "video_codec", EV_CT_STRING, EV_ST_VIDEO },
    [EV_CHECK_VIDEO_PROFILE] = { "video_profile", EV_CT_STRING, EV_ST_VIDEO },
    [EV_CHECK_PIX_FMT] = { "pix_fmt", EV_CT_STRING, EV_ST_VIDEO },
    [EV_CHECK_BIT_DEPTH] = { "bit_depth", EV_CT_INT, EV_ST_VIDEO },
    [EV_CHECK_CHROMA_SUBSAMPLING] = { "chroma_subsampling", EV_CT_STRING, EV_ST_VIDEO },
    [EV_CHECK_FIELD_ORDER] = { "field_order", EV_CT_STRING, EV_ST_VIDEO },
    [EV_CHECK_GOP] = { "gop", EV_CT_INT, EV_ST_VIDEO },
    [EV_CHECK_FFV1_VERSION] = { "ffv1_version", EV_CT_INT, EV_ST_VIDEO },
    [EV_CHECK_FFV1_SLICES] = { "ffv1_slices", EV_CT_INT, EV_ST_VIDEO },
    [EV_CHECK_FFV1_SLICE_CRC] = { "ffv1_slice_crc", EV_CT_BOOL, EV_ST_VIDEO },
    [EV_CHECK_FASTSTART] = { "faststart", EV_CT_BOOL, -1 },
    [EV_CHECK_AUDIO_CODEC] = { "audio_codec", EV_CT_STRING, EV_ST_AUDIO },
    [EV_CHECK_AUDIO_PROFILE] = { "audio_profile", EV_CT_STRING, EV_ST_AUDIO },
    [EV_CHECK_AUDIO_SAMPLE_RATE] = { "audio_sample_rate", EV_CT_INT, EV_ST_AUDIO },
    [EV_CHECK_AUDIO_SAMPLE_FORMAT] = { "audio_sample_format", EV_CT_STRING, EV_ST_AUDIO },
    [EV_CHECK_AUDIO_BIT_DEPTH] = { "audio_bit_depth", EV_CT_INT, EV_ST_AUDIO },
    [EV_CHECK_AUDIO_CHANNELS] = { "audio_channels", EV_CT_INT, EV_ST_AUDIO },
    [EV_CHECK_DECODES_CLEANLY] = { "decodes_cleanly", EV_CT_BOOL, -1 },
    [EV_CHECK_EXIF_PRESENT] = { "exif_present", EV_CT_BOOL, -1 },
    [EV_CHECK_PLAYABLE] = { "playable", EV_CT_BOOL, EV_ST_VIDEO },
    [EV_CHECK_TIMED] = { "timed", EV_CT_BOOL, EV_ST_VIDEO },
    [EV_CHECK_COMPLETE] = { "complete", EV_CT_BOOL, EV_ST_VIDEO },
};

const char *ev_profile__level_name(ev_level l)
{
    return (unsigned)l <= EV_LEVEL_NONE ? level_names[l] : "none";
}

const char *ev_profile__stype_name(ev_stype t)
{
    return (unsigned)t < EV_ST_COUNT ? stype_names[t] : "unknown";
}

const char *ev_profile__check_name(ev_check_id id)
{
    return (unsigned)id < EV_CHECK_COUNT ? check_defs[id].name : "unknown";
}

ev_check_type ev_profile__check_type(ev_check_id id)
{
    return (unsigned)id < EV_CHECK_COUNT ? check_defs[id].type : EV_CT_STRING;
}

int ev_profile__check_stype(ev_check_id id)
{
    return (unsigned)id < EV_CHECK_COUNT ? check_defs[id].stype : -1;
}

bool ev_profile__list_match(const ev_strlist *l, const char *s)
{
    if (l->n == 0)
        return true;
    if (!s)
        return false;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

const char *ev_profile__kv_get(const ev_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Freeing                                                                   */
/* ------------------------------------------------------------------------ */

static void strlist_free(ev_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void kv_free(ev_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

static void rule_free(ev_profile_rule *r)
{
    strlist_free(&r->when_codecs);
    strlist_free(&r->when_sample_fmts);
    strlist_free(&r->when_pix_fmts);
    free(r->encoder);
    kv_free(r->options, r->n_options);
    free(r->pix_fmt);
    free(r->fallback_pix_fmt);
    free(r->sample_fmt);
    free(r->message);
}

void ev_profile__free(ev_profile *p)
{
    if (!p)
        return;
    free(p->path);
    free(p->name);
    free(p->title);
    free(p->description);
    free(p->action);
    free(p->container);
    free(p->extension);
    kv_free(p->muxer_options, p->n_muxer_options);
    for (int t = 0; t < EV_ST_COUNT; t++) {
        for (size_t i = 0; i < p->streams[t].n_rules; i++)
            rule_free(&p->streams[t].rules[i]);
        free(p->streams[t].rules);
    }
    for (size_t i = 0; i < p->n_checks; i++) {
        json_decref(p->checks[i].value);
        free(p->checks[i].description);
    }
    free(p->checks);
    free(p->unavailable);
    json_decref(p->doc);
    free(p);
}

/* ------------------------------------------------------------------------ */
/* Parsing helpers                                                           */
/* ------------------------------------------------------------------------ */

typedef struct pctx {
    ev_errbuf *err;
    const char *origin;
    ev_profile *p;
} pctx;

static int bad(pctx *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(pctx *c, const char *field, const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return ev_err__set(c->err, EV_EFORMAT, "profile '%s': %s: %s", c->origin, field, what);
}

static int nomem(pctx *c)
{
    return ev_err__set(c->err, EV_ENOMEM, "profile '%s': out of memory", c->origin);
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* Every key of obj must be in allowed (NULL-terminated), "comment",
 * "$schema" (top level only matters little) or start with "x-". */
static int check_keys(pctx *c, const json_t *obj, const char *field,
                      const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        bool ok = strcmp(key, "comment") == 0 || strcmp(key, "$schema") == 0 ||
                  strncmp(key, "x-", 2) == 0;
        for (size_t i = 0; !ok && allowed[i]; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok) {
            char list[512] = "";
            size_t len = 0;
            for (size_t i = 0; allowed[i] && len < sizeof(list) - 1; i++) {
                int n = snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
                                 allowed[i]);
                if (n < 0)
                    break;
                len += (size_t)n;
            }
            char f[320];
            snprintf(f, sizeof(f), "%.250s%s%.64s", field, *field ? "." : "", key);
            return bad(c, f, "unknown key; expected one of: %s (or a key starting with x-)",
                       list);
        }
    }
    return EV_OK;
}

/* A string value, or NULL when absent; error when present but not a string. */
static int get_string(pctx *c, const json_t *obj, const char *key, const char *field,
                      bool required, const char **out)
{
    *out = NULL;
    json_t *v = json_object_get(obj, key);
    char f[320];
    snprintf(f, sizeof(f), "%.250s%s%.64s", field, *field ? "." : "", key);
    if (!v) {
        if (required)
            return bad(c, f, "missing; this field is required");
        return EV_OK;
    }
    if (!json_is_string(v))
        return bad(c, f, "must be a string, not %s", json_type_name(v));
    if (json_string_length(v) == 0)
        return bad(c, f, "must not be empty");
    if (strlen(json_string_value(v)) != json_string_length(v))
        return bad(c, f, "contains a NUL character");
    *out = json_string_value(v);
    return EV_OK;
}

static int dup_string(pctx *c, const json_t *obj, const char *key, const char *field,
                      bool required, char **out)
{
    const char *s = NULL;
    int rc = get_string(c, obj, key, field, required, &s);
    *out = NULL;
    if (rc != EV_OK || !s)
        return rc;
    if (!(*out = ev__strdup(s)))
        return nomem(c);
    return EV_OK;
}

/* Choose one of names[] (NULL-terminated); *out = index. Absent -> def. */
static int get_enum(pctx *c, const json_t *obj, const char *key, const char *field,
                    const char *const *names, int def, int *out)
{
    const char *s = NULL;
    int rc = get_string(c, obj, key, field, def < 0, &s);
    if (rc != EV_OK)
        return rc;
    if (!s) {
        *out = def;
        return EV_OK;
    }
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], s) == 0) {
            *out = i;
            return EV_OK;
        }
    }
    char list[512] = "";
    size_t len = 0;
    for (int i = 0; names[i] && len < sizeof(list) - 1; i++) {
        int n = snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", names[i]);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    char f[320];
    snprintf(f, sizeof(f), "%.250s%s%.64s", field, *field ? "." : "", key);
    return bad(c, f, "'%.100s' is not allowed; use one of: %s", s, list);
}

/* Scalar option value as text (strings, integers, numbers, booleans). */
static char *scalar_text(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: return ev__strdup(json_string_value(v));
    case JSON_INTEGER: return ev__asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL: return ev__asprintf("%.17g", json_real_value(v));
    case JSON_TRUE: return ev__strdup("1");
    case JSON_FALSE: return ev__strdup("0");
    default: return NULL;
    }
}

static int get_kv(pctx *c, const json_t *obj, const char *key, const char *field,
                  ev_kv **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    json_t *v = json_object_get(obj, key);
    char f[320];
    snprintf(f, sizeof(f), "%.250s%s%.64s", field, *field ? "." : "", key);
    if (!v)
        return EV_OK;
    if (!json_is_object(v))
        return bad(c, f, "must be an object of option names to values, not %s",
                   json_type_name(v));
    size_t n = json_object_size(v);
    if (n > 64)
        return bad(c, f, "has %zu options; at most 64 are allowed", n);
    ev_kv *kv = ev__calloc(n ? n : 1, sizeof(*kv));
    if (!kv)
        return nomem(c);
    size_t i = 0;
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val) {
        if (!json_is_string(val) && !json_is_integer(val) && !json_is_real(val) &&
            !json_is_boolean(val)) {
            kv_free(kv, i);
            return bad(c, f, "option '%.64s' must be a string, number or boolean, not %s", k,
                       json_type_name(val));
        }
        if (*k == '\0' || strlen(k) > 64) {
            kv_free(kv, i);
            return bad(c, f, "option names must have 1 to 64 characters");
        }
        kv[i].key = ev__strdup(k);
        kv[i].value = scalar_text(val);
        if (!kv[i].key || !kv[i].value) {
            free(kv[i].key);
            free(kv[i].value);
            kv_free(kv, i);
            return nomem(c);
        }
        if (json_is_string(val) && strlen(kv[i].value) != json_string_length(val)) {
            kv_free(kv, i + 1);
            return bad(c, f, "option '%.64s' contains a NUL character", k);
        }
        i++;
    }
    *out = kv;
    *n_out = i;
    return EV_OK;
}

typedef bool (*name_check_fn)(const char *s);

static bool is_codec_name(const char *s)
{
    return avcodec_descriptor_get_by_name(s) != NULL;
}

static bool is_sample_fmt(const char *s)
{
    return av_get_sample_fmt(s) != AV_SAMPLE_FMT_NONE;
}

static bool is_pix_fmt(const char *s)
{
    return av_get_pix_fmt(s) != AV_PIX_FMT_NONE;
}

static int get_strlist(pctx *c, const json_t *obj, const char *key, const char *field,
                       name_check_fn check, const char *what, ev_strlist *out)
{
    out->v = NULL;
    out->n = 0;
    json_t *v = json_object_get(obj, key);
    char f[320];
    snprintf(f, sizeof(f), "%.250s%s%.64s", field, *field ? "." : "", key);
    if (!v)
        return EV_OK;
    if (!json_is_array(v))
        return bad(c, f, "must be an array of strings, not %s", json_type_name(v));
    size_t n = json_array_size(v);
    if (n == 0)
        return bad(c, f, "must not be empty (leave it out to match anything)");
    if (n > 256)
        return bad(c, f, "has %zu entries; at most 256 are allowed", n);
    out->v = ev__calloc(n, sizeof(char *));
    if (!out->v)
        return nomem(c);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e) || json_string_length(e) == 0 ||
            strlen(json_string_value(e)) != json_string_length(e)) {
            strlist_free(out);
            return bad(c, f, "entry %zu must be a non-empty string", i);
        }
        if (check && !check(json_string_value(e))) {
            char msg[200];
            snprintf(msg, sizeof(msg), "%.80s", json_string_value(e));
            strlist_free(out);
            return bad(c, f, "'%s' is not a known %s", msg, what);
        }
        out->v[i] = ev__strdup(json_string_value(e));
        out->n = i + 1;
        if (!out->v[i]) {
            strlist_free(out);
            return nomem(c);
        }
    }
    return EV_OK;
}

static int get_number(pctx *c, const json_t *obj, const char *key, const char *field,
                      double lo, double hi, double def, double *out)
{
    json_t *v = json_object_get(obj, key);
    char f[320];
    snprintf(f, sizeof(f), "%.250s%s%.64s", field, *field ? "." : "", key);
    if (!v) {
        *out = def;
        return EV_OK;
    }
    if (!json_is_number(v))
        return bad(c, f, "must be a number, not %s", json_type_name(v));
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi))
        return bad(c, f, "%g is out of range; use a value from %g to %g", d, lo, hi);
    *out = d;
    return EV_OK;
}

static int stype_mask(pctx *c, const json_t *obj, const char *key, const char *field,
                      uint32_t *out)
{
    *out = 0;
    json_t *v = json_object_get(obj, key);
    char f[320];
    snprintf(f, sizeof(f), "%.250s%s%.64s", field, *field ? "." : "", key);
    if (!v)
        return EV_OK;
    if (!json_is_array(v))
        return bad(c, f, "must be an array of stream types, not %s", json_type_name(v));
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        int t = -1;
        for (int k = 0; k < EV_ST_COUNT && json_is_string(e); k++)
            if (strcmp(json_string_value(e), stype_names[k]) == 0)
                t = k;
        if (t < 0)
            return bad(c, f, "entry %zu must be one of: video, audio, subtitle, data", i);
        *out |= 1u << t;
    }
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* Encoders and options                                                      */
/* ------------------------------------------------------------------------ */

static const char *const lossless_encoders[] = {
    "ffv1", "flac", "png", "pcm", "rawvideo", "huffyuv", "ffvhuff", "utvideo",
    "alac", "tta", "wavpack", "apng", "tiff", "qtrle", NULL
};

static bool encoder_is_lossless(const char *name)
{
    if (strncmp(name, "pcm_", 4) == 0)
        return true;
    for (size_t i = 0; lossless_encoders[i]; i++)
        if (strcmp(lossless_encoders[i], name) == 0)
            return true;
    return false;
}

static void set_unavailable(ev_profile *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_unavailable(ev_profile *p, const char *fmt, ...)
{
    if (p->unavailable)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    p->unavailable = ev__strdup(buf);
}

/* Check an encoder exists with the right media type, and that every option
 * is known to it and accepts its value. */
static int check_encoder(pctx *c, ev_profile_rule *r, ev_stype t, const char *field)
{
    char f[320];
    snprintf(f, sizeof(f), "%s.encoder", field);
    if (strcmp(r->encoder, "pcm") == 0) {
        if (t != EV_ST_AUDIO)
            return bad(c, f, "'pcm' is an audio encoder; use it under output.audio");
        if (r->n_options)
            return bad(c, f, "'pcm' takes no options");
        return EV_OK;
    }
    const AVCodec *enc = avcodec_find_encoder_by_name(r->encoder);
    if (!enc) {
        if (avcodec_descriptor_get_by_name(r->encoder) || strncmp(r->encoder, "lib", 3) == 0) {
            set_unavailable(c->p, "encoder '%s' is not in this FFmpeg build", r->encoder);
            return EV_OK;
        }
        return bad(c, f, "'%.64s' is not an encoder known to FFmpeg; see 'ffmpeg -encoders'",
                   r->encoder);
    }
    enum AVMediaType want = t == EV_ST_VIDEO ? AVMEDIA_TYPE_VIDEO
                          : t == EV_ST_AUDIO ? AVMEDIA_TYPE_AUDIO
                          : t == EV_ST_SUBTITLE ? AVMEDIA_TYPE_SUBTITLE : AVMEDIA_TYPE_DATA;
    if (enc->type != want)
        return bad(c, f, "'%s' is not a %s encoder", r->encoder, stype_names[t]);
    AVCodecContext *ctx = avcodec_alloc_context3(enc);
    if (!ctx)
        return nomem(c);
    int rc = EV_OK;
    for (size_t i = 0; i < r->n_options && rc == EV_OK; i++) {
        const AVOption *o = av_opt_find(ctx, r->options[i].key, NULL, 0,
                                        AV_OPT_SEARCH_CHILDREN);
        if (!o || !(o->flags & AV_OPT_FLAG_ENCODING_PARAM)) {
            rc = bad(c, field, "options.%s: encoder '%s' has no such option; see "
                     "'ffmpeg -h encoder=%s'", r->options[i].key, r->encoder, r->encoder);
            break;
        }
        int e = av_opt_set(ctx, r->options[i].key, r->options[i].value, AV_OPT_SEARCH_CHILDREN);
        if (e < 0) {
            char eb[128];
            av_strerror(e, eb, sizeof(eb));
            rc = bad(c, field, "options.%s: encoder '%s' refuses the value '%.64s' (%s)",
                     r->options[i].key, r->encoder, r->options[i].value, eb);
        }
    }
    avcodec_free_context(&ctx);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                  */
/* ------------------------------------------------------------------------ */

static int parse_rule(pctx *c, const json_t *j, ev_stype t, const char *field,
                      ev_profile_rule *r)
{
    static const char *const keys[] = { "when", "action", "encoder", "options", "pix_fmt",
                                        "fallback_pix_fmt", "sample_fmt", "sample_rate",
                                        "message", NULL };
    static const char *const actions[] = { "copy", "encode", "refuse", "drop", NULL };
    int rc;
    if (!json_is_object(j))
        return bad(c, field, "must be an object, not %s", json_type_name(j));
    if ((rc = check_keys(c, j, field, keys)) != EV_OK)
        return rc;
    json_t *when = json_object_get(j, "when");
    if (when) {
        static const char *const wkeys[] = { "codecs", "sample_formats", "pix_fmts", NULL };
        char wf[320];
        snprintf(wf, sizeof(wf), "%s.when", field);
        if (!json_is_object(when))
            return bad(c, wf, "must be an object, not %s", json_type_name(when));
        if ((rc = check_keys(c, when, wf, wkeys)) != EV_OK)
            return rc;
        if ((rc = get_strlist(c, when, "codecs", wf, is_codec_name, "codec name",
                              &r->when_codecs)) != EV_OK ||
            (rc = get_strlist(c, when, "sample_formats", wf, is_sample_fmt,
                              "sample format", &r->when_sample_fmts)) != EV_OK ||
            (rc = get_strlist(c, when, "pix_fmts", wf, is_pix_fmt, "pixel format",
                              &r->when_pix_fmts)) != EV_OK)
            return rc;
        if (r->when_sample_fmts.n && t != EV_ST_AUDIO)
            return bad(c, wf, "sample_formats applies to audio rules only");
        if (r->when_pix_fmts.n && t != EV_ST_VIDEO)
            return bad(c, wf, "pix_fmts applies to video rules only");
    }
    int a = 0;
    if ((rc = get_enum(c, j, "action", field, actions, -1, &a)) != EV_OK)
        return rc;
    r->action = (ev_action)a;
    if ((rc = dup_string(c, j, "encoder", field, r->action == EV_ACTION_ENCODE,
                         &r->encoder)) != EV_OK)
        return rc;
    if ((rc = get_kv(c, j, "options", field, &r->options, &r->n_options)) != EV_OK)
        return rc;
    if ((rc = dup_string(c, j, "pix_fmt", field, false, &r->pix_fmt)) != EV_OK ||
        (rc = dup_string(c, j, "fallback_pix_fmt", field, false, &r->fallback_pix_fmt)) !=
            EV_OK ||
        (rc = dup_string(c, j, "sample_fmt", field, false, &r->sample_fmt)) != EV_OK ||
        (rc = dup_string(c, j, "message", field, r->action == EV_ACTION_REFUSE,
                         &r->message)) != EV_OK)
        return rc;
    double sr = 0;
    if ((rc = get_number(c, j, "sample_rate", field, 1000, 768000, 0, &sr)) != EV_OK)
        return rc;
    if (sr != (double)(int)sr)
        return bad(c, field, "sample_rate must be a whole number of Hz");
    r->sample_rate = (int)sr;

    char f[320];
    if (r->pix_fmt && strcmp(r->pix_fmt, "source") == 0) {
        free(r->pix_fmt);
        r->pix_fmt = NULL;
    }
    if (r->sample_fmt && strcmp(r->sample_fmt, "source") == 0) {
        free(r->sample_fmt);
        r->sample_fmt = NULL;
    }
    if (r->pix_fmt && !is_pix_fmt(r->pix_fmt)) {
        snprintf(f, sizeof(f), "%s.pix_fmt", field);
        return bad(c, f, "'%.64s' is not a pixel format; see 'ffmpeg -pix_fmts'", r->pix_fmt);
    }
    if (r->fallback_pix_fmt && !is_pix_fmt(r->fallback_pix_fmt)) {
        snprintf(f, sizeof(f), "%s.fallback_pix_fmt", field);
        return bad(c, f, "'%.64s' is not a pixel format; see 'ffmpeg -pix_fmts'",
                   r->fallback_pix_fmt);
    }
    if (r->sample_fmt && !is_sample_fmt(r->sample_fmt)) {
        snprintf(f, sizeof(f), "%s.sample_fmt", field);
        return bad(c, f, "'%.64s' is not a sample format; see 'ffmpeg -sample_fmts'",
                   r->sample_fmt);
    }
    if ((r->pix_fmt || r->fallback_pix_fmt) && t != EV_ST_VIDEO)
        return bad(c, field, "pix_fmt applies to video rules only");
    if ((r->sample_fmt || r->sample_rate) && t != EV_ST_AUDIO)
        return bad(c, field, "sample_fmt and sample_rate apply to audio rules only");
    if (r->action != EV_ACTION_ENCODE &&
        (r->encoder || r->n_options || r->pix_fmt || r->fallback_pix_fmt || r->sample_fmt ||
         r->sample_rate))
        return bad(c, field, "encoder settings are only allowed with \"action\": \"encode\"");
    if (r->action != EV_ACTION_REFUSE && r->action != EV_ACTION_DROP && r->message)
        return bad(c, field, "message is only allowed with \"action\": \"refuse\" or \"drop\" "
                   "(the reason recorded for the dropped stream)");
    if (r->action == EV_ACTION_ENCODE && (t == EV_ST_SUBTITLE || t == EV_ST_DATA))
        return bad(c, field, "%s streams can only be copied, dropped or refused",
                   stype_names[t]);
    if (r->action == EV_ACTION_ENCODE)
        return check_encoder(c, r, t, field);
    return EV_OK;
}

static int parse_streams(pctx *c, const json_t *out, ev_stype t)
{
    static const char *const keys[] = { "select", "rules", NULL };
    static const char *const selects[] = { "none", "first", "all", NULL };
    ev_profile_streams *s = &c->p->streams[t];
    char field[64];
    snprintf(field, sizeof(field), "output.%s", stype_names[t]);
    json_t *j = json_object_get(out, stype_names[t]);
    s->select = EV_SELECT_NONE;
    if (!j)
        return EV_OK;
    int rc;
    if (!json_is_object(j))
        return bad(c, field, "must be an object, not %s", json_type_name(j));
    if ((rc = check_keys(c, j, field, keys)) != EV_OK)
        return rc;
    int sel = 0;
    if ((rc = get_enum(c, j, "select", field, selects, EV_SELECT_ALL, &sel)) != EV_OK)
        return rc;
    s->select = (ev_select)sel;
    json_t *rules = json_object_get(j, "rules");
    if (!rules) {
        if (s->select != EV_SELECT_NONE)
            return bad(c, field, "rules: missing; give at least one rule, or \"select\": \"none\"");
        return EV_OK;
    }
    char rf[96];
    snprintf(rf, sizeof(rf), "%s.rules", field);
    if (!json_is_array(rules))
        return bad(c, rf, "must be an array of rules, not %s", json_type_name(rules));
    size_t n = json_array_size(rules);
    if (n == 0 && s->select != EV_SELECT_NONE)
        return bad(c, rf, "must hold at least one rule");
    if (n > 64)
        return bad(c, rf, "has %zu rules; at most 64 are allowed", n);
    s->rules = ev__calloc(n ? n : 1, sizeof(*s->rules));
    if (!s->rules)
        return nomem(c);
    for (size_t i = 0; i < n; i++) {
        char f[128];
        snprintf(f, sizeof(f), "%s[%zu]", rf, i);
        s->n_rules = i + 1;
        if ((rc = parse_rule(c, json_array_get(rules, i), t, f, &s->rules[i])) != EV_OK)
            return rc;
    }
    return EV_OK;
}

static int parse_output(pctx *c, const json_t *root)
{
    static const char *const keys[] = { "container", "extension", "muxer_options", "video",
                                        "audio", "subtitle", "data", NULL };
    ev_profile *p = c->p;
    json_t *j = json_object_get(root, "output");
    int rc;
    if (p->kind == EV_KIND_COPY) {
        if (j)
            return bad(c, "output", "a \"kind\": \"copy\" profile keeps the native bytes and "
                       "takes no output settings; remove this section");
        return EV_OK;
    }
    if (!j)
        return bad(c, "output", "missing; this section is required");
    if (!json_is_object(j))
        return bad(c, "output", "must be an object, not %s", json_type_name(j));
    if ((rc = check_keys(c, j, "output", keys)) != EV_OK)
        return rc;
    if ((rc = dup_string(c, j, "container", "output", true, &p->container)) != EV_OK ||
        (rc = dup_string(c, j, "extension", "output", false, &p->extension)) != EV_OK ||
        (rc = get_kv(c, j, "muxer_options", "output", &p->muxer_options,
                     &p->n_muxer_options)) != EV_OK)
        return rc;
    if (p->extension && (strchr(p->extension, '/') || strchr(p->extension, '.') ||
                         strlen(p->extension) > 16))
        return bad(c, "output.extension", "must be a short extension without dots or slashes "
                   "(e.g. \"mkv\")");
    if (p->kind == EV_KIND_STILL) {
        if (strcmp(p->container, "png") != 0)
            return bad(c, "output.container", "a still profile writes \"png\" only in this "
                       "version, not '%.64s'", p->container);
        if (p->n_muxer_options)
            return bad(c, "output.muxer_options", "not used by still profiles; remove it");
    } else {
        const AVOutputFormat *of = av_guess_format(p->container, NULL, NULL);
        if (!of || strcmp(of->name, p->container) != 0)
            return bad(c, "output.container", "'%.64s' is not a muxer known to FFmpeg; use a "
                       "name from 'ffmpeg -muxers' such as mp4, matroska, flac or wav",
                       p->container);
        if (!(of->flags & AVFMT_NOFILE) && p->n_muxer_options) {
            AVFormatContext *oc = NULL;
            if (avformat_alloc_output_context2(&oc, of, NULL, NULL) < 0 || !oc)
                return nomem(c);
            for (size_t i = 0; i < p->n_muxer_options && rc == EV_OK; i++) {
                const ev_kv *kv = &p->muxer_options[i];
                const AVOption *o = av_opt_find(oc, kv->key, NULL, 0, AV_OPT_SEARCH_CHILDREN);
                int e = o ? av_opt_set(oc, kv->key, kv->value, AV_OPT_SEARCH_CHILDREN) : -1;
                if (!o)
                    rc = bad(c, "output.muxer_options", "%s: muxer '%s' has no such option; see "
                             "'ffmpeg -h muxer=%s'", kv->key, p->container, p->container);
                else if (e < 0)
                    rc = bad(c, "output.muxer_options", "%s: muxer '%s' refuses the value "
                             "'%.64s'", kv->key, p->container, kv->value);
            }
            avformat_free_context(oc);
            if (rc != EV_OK)
                return rc;
        }
        if (!p->extension && of->extensions) {
            const char *comma = strchr(of->extensions, ',');
            size_t n = comma ? (size_t)(comma - of->extensions) : strlen(of->extensions);
            p->extension = ev__strndup(of->extensions, n);
            if (!p->extension)
                return nomem(c);
        }
    }
    if (!p->extension && !(p->extension = ev__strdup(p->container)))
        return nomem(c);
    for (int t = 0; t < EV_ST_COUNT; t++)
        if ((rc = parse_streams(c, j, (ev_stype)t)) != EV_OK)
            return rc;
    if (p->kind == EV_KIND_STILL) {
        if (p->streams[EV_ST_VIDEO].select == EV_SELECT_NONE)
            return bad(c, "output.video", "a still profile needs a video rule that encodes png");
        for (int t = EV_ST_AUDIO; t < EV_ST_COUNT; t++)
            if (p->streams[t].select != EV_SELECT_NONE)
                return bad(c, "output", "a still profile has no %s streams; remove output.%s",
                           stype_names[t], stype_names[t]);
        for (size_t i = 0; i < p->streams[EV_ST_VIDEO].n_rules; i++) {
            const ev_profile_rule *r = &p->streams[EV_ST_VIDEO].rules[i];
            if (r->action == EV_ACTION_COPY || r->action == EV_ACTION_DROP ||
                (r->action == EV_ACTION_ENCODE && strcmp(r->encoder, "png") != 0))
                return bad(c, "output.video.rules", "a still profile's rules must encode "
                           "with \"png\" or refuse");
        }
    }
    return EV_OK;
}

static int parse_metadata(pctx *c, const json_t *root)
{
    static const char *const keys[] = { "container_tags", "stream_tags", "creation_time",
                                        "location", "rotation", "exif", "orientation", NULL };
    static const char *const copy_drop[] = { "copy", "drop", NULL };
    static const char *const loc[] = { "verbatim", "drop", NULL };
    static const char *const rot[] = { "display-matrix", NULL };
    static const char *const orient[] = { "keep", "apply", NULL };
    ev_profile *p = c->p;
    json_t *j = json_object_get(root, "metadata");
    json_t *empty = NULL;
    int rc, v;
    if (j && !json_is_object(j))
        return bad(c, "metadata", "must be an object, not %s", json_type_name(j));
    if (!j && !(j = empty = json_object()))
        return nomem(c);
    if ((rc = check_keys(c, j, "metadata", keys)) != EV_OK)
        goto done;
    if ((rc = get_enum(c, j, "container_tags", "metadata", copy_drop, 0, &v)) != EV_OK)
        goto done;
    p->meta_container_tags = v == 0 ? EV_META_COPY : EV_META_DROP;
    if ((rc = get_enum(c, j, "stream_tags", "metadata", copy_drop, 0, &v)) != EV_OK)
        goto done;
    p->meta_stream_tags = v == 0 ? EV_META_COPY : EV_META_DROP;
    if ((rc = get_enum(c, j, "creation_time", "metadata", copy_drop, 0, &v)) != EV_OK)
        goto done;
    p->meta_creation_time = v == 0 ? EV_META_COPY : EV_META_DROP;
    if ((rc = get_enum(c, j, "location", "metadata", loc, 0, &v)) != EV_OK)
        goto done;
    p->meta_location = v == 0 ? EV_META_VERBATIM : EV_META_DROP;
    if ((rc = get_enum(c, j, "rotation", "metadata", rot, 0, &v)) != EV_OK)
        goto done;
    p->meta_rotation = EV_META_DISPLAY_MATRIX;
    if ((rc = get_enum(c, j, "exif", "metadata", copy_drop, 0, &v)) != EV_OK)
        goto done;
    p->meta_exif = v == 0 ? EV_META_COPY : EV_META_DROP;
    if ((rc = get_enum(c, j, "orientation", "metadata", orient, 0, &v)) != EV_OK)
        goto done;
    p->meta_orientation = v == 0 ? EV_META_KEEP : EV_META_APPLY;
    if (p->meta_orientation == EV_META_APPLY && p->kind != EV_KIND_STILL) {
        rc = bad(c, "metadata.orientation", "\"apply\" is for still profiles; video keeps "
                 "rotation as a display matrix (metadata.rotation)");
        goto done;
    }
    rc = EV_OK;
done:
    json_decref(empty);
    return rc;
}

static int parse_verification(pctx *c, const json_t *root)
{
    static const char *const keys[] = { "level", "psnr_min_db", "psnr_mean_min_db", "ssim_min",
                                        "ssim_mean_min", "max_timestamp_delta_frames",
                                        "packet_fallback", NULL };
    static const char *const levels[] = { "byte-identical", "packet-identical",
                                          "decoded-identical", "quality-bounded", NULL };
    static const char *const fallbacks[] = { "none", "decoded-identical", NULL };
    ev_profile *p = c->p;
    json_t *j = json_object_get(root, "verification");
    int rc, v;
    if (!j)
        return bad(c, "verification", "missing; every profile declares its verification level");
    if (!json_is_object(j))
        return bad(c, "verification", "must be an object, not %s", json_type_name(j));
    if ((rc = check_keys(c, j, "verification", keys)) != EV_OK)
        return rc;
    if ((rc = get_enum(c, j, "level", "verification", levels, -1, &v)) != EV_OK)
        return rc;
    p->level = (ev_level)v;
    if ((rc = get_number(c, j, "psnr_min_db", "verification", 0, 200, 0, &p->psnr_min)) ||
        (rc = get_number(c, j, "psnr_mean_min_db", "verification", 0, 200, 0,
                         &p->psnr_mean_min)) ||
        (rc = get_number(c, j, "ssim_min", "verification", 0, 1, 0, &p->ssim_min)) ||
        (rc = get_number(c, j, "ssim_mean_min", "verification", 0, 1, 0, &p->ssim_mean_min)) ||
        (rc = get_number(c, j, "max_timestamp_delta_frames", "verification", 0, 100, 1,
                         &p->max_ts_delta_frames)))
        return rc;
    if ((rc = get_enum(c, j, "packet_fallback", "verification", fallbacks, 0, &v)) != EV_OK)
        return rc;
    p->packet_fallback = v == 1 ? EV_LEVEL_DECODED : EV_LEVEL_NONE;

    bool has_quality = json_object_get(j, "psnr_min_db") || json_object_get(j, "ssim_min") ||
                       json_object_get(j, "psnr_mean_min_db") ||
                       json_object_get(j, "ssim_mean_min");
    if (has_quality && p->level != EV_LEVEL_QUALITY)
        return bad(c, "verification", "PSNR/SSIM thresholds apply only to \"level\": "
                   "\"quality-bounded\"");
    if (json_object_get(j, "packet_fallback") && p->level != EV_LEVEL_PACKET)
        return bad(c, "verification.packet_fallback", "applies only to \"level\": "
                   "\"packet-identical\"");
    if ((p->kind == EV_KIND_COPY) != (p->level == EV_LEVEL_BYTE))
        return bad(c, "verification.level", "byte-identical goes with \"kind\": \"copy\" and "
                   "only with it (a transcode or remux changes the bytes)");
    if (p->kind == EV_KIND_STILL && p->level != EV_LEVEL_DECODED &&
        p->level != EV_LEVEL_QUALITY)
        return bad(c, "verification.level", "a still profile is decoded-identical or "
                   "quality-bounded");
    /* Every encoder must be able to keep the claim. */
    for (int t = 0; t < EV_ST_COUNT; t++) {
        const ev_profile_streams *s = &p->streams[t];
        for (size_t i = 0; i < s->n_rules; i++) {
            const ev_profile_rule *r = &s->rules[i];
            char f[96];
            snprintf(f, sizeof(f), "output.%s.rules[%zu]", stype_names[t], i);
            if (r->action != EV_ACTION_ENCODE)
                continue;
            if (p->level == EV_LEVEL_PACKET)
                return bad(c, f, "a packet-identical profile can only copy streams; encoding "
                           "with '%s' changes the packets", r->encoder);
            if (p->level == EV_LEVEL_DECODED && !encoder_is_lossless(r->encoder))
                return bad(c, f, "encoder '%s' is not lossless, so this profile cannot be "
                           "decoded-identical; use a lossless encoder (ffv1, flac, png, pcm) or "
                           "\"level\": \"quality-bounded\"", r->encoder);
        }
    }
    return EV_OK;
}

static const char *const op_names[] = { "equals", "in", "min", "max" };

static int check_value_type(pctx *c, const char *f, ev_check_type t, const json_t *v)
{
    bool ok = t == EV_CT_STRING ? json_is_string(v)
            : t == EV_CT_INT ? json_is_integer(v) : json_is_boolean(v);
    if (!ok)
        return bad(c, f, "must be %s, not %s",
                   t == EV_CT_STRING ? "a string" : t == EV_CT_INT ? "an integer" : "a boolean",
                   json_type_name(v));
    return EV_OK;
}

static int parse_conformance(pctx *c, const json_t *root)
{
    static const char *const keys[] = { "check", "equals", "in", "min", "max", "description",
                                        NULL };
    ev_profile *p = c->p;
    json_t *j = json_object_get(root, "conformance");
    int rc;
    if (!j)
        return EV_OK;
    if (!json_is_array(j))
        return bad(c, "conformance", "must be an array of checks, not %s", json_type_name(j));
    size_t n = json_array_size(j);
    if (n > 128)
        return bad(c, "conformance", "has %zu checks; at most 128 are allowed", n);
    p->checks = ev__calloc(n ? n : 1, sizeof(*p->checks));
    if (!p->checks)
        return nomem(c);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(j, i);
        char f[64];
        snprintf(f, sizeof(f), "conformance[%zu]", i);
        if (!json_is_object(e))
            return bad(c, f, "must be an object, not %s", json_type_name(e));
        if ((rc = check_keys(c, e, f, keys)) != EV_OK)
            return rc;
        ev_check_rule *r = &p->checks[i];
        p->n_checks = i + 1;
        const char *name = NULL;
        if ((rc = get_string(c, e, "check", f, true, &name)) != EV_OK)
            return rc;
        int id = -1;
        for (int k = 0; k < EV_CHECK_COUNT; k++)
            if (strcmp(check_defs[k].name, name) == 0)
                id = k;
        if (id < 0) {
            char list[768] = "";
            size_t len = 0;
            for (int k = 0; k < EV_CHECK_COUNT && len < sizeof(list) - 1; k++) {
                int m = snprintf(list + len, sizeof(list) - len, "%s%s", k ? ", " : "",
                                 check_defs[k].name);
                if (m < 0)
                    break;
                len += (size_t)m;
            }
            char ff[80];
            snprintf(ff, sizeof(ff), "%s.check", f);
            return bad(c, ff, "'%.64s' is not a known check; use one of: %s", name, list);
        }
        r->id = (ev_check_id)id;
        if ((rc = dup_string(c, e, "description", f, false, &r->description)) != EV_OK)
            return rc;
        int found = 0;
        for (int op = 0; op < 4; op++) {
            json_t *v = json_object_get(e, op_names[op]);
            if (!v)
                continue;
            found++;
            r->op = (ev_check_op)op;
            json_decref(r->value);
            r->value = json_incref(v);
        }
        if (found != 1)
            return bad(c, f, "give exactly one of equals, in, min or max (found %d)", found);
        char ff[80];
        snprintf(ff, sizeof(ff), "%s.%s", f, op_names[r->op]);
        ev_check_type t = check_defs[id].type;
        if (r->op == EV_OP_IN) {
            if (!json_is_array(r->value) || json_array_size(r->value) == 0 ||
                json_array_size(r->value) > 64)
                return bad(c, ff, "must be an array of 1 to 64 values");
            size_t k;
            json_t *x;
            json_array_foreach(r->value, k, x) {
                char fx[128];
                snprintf(fx, sizeof(fx), "%s[%zu]", ff, k);
                if ((rc = check_value_type(c, fx, t, x)) != EV_OK)
                    return rc;
            }
        } else if (r->op == EV_OP_MIN || r->op == EV_OP_MAX) {
            if (t != EV_CT_INT)
                return bad(c, ff, "min and max apply to numeric checks only; '%s' is %s", name,
                           t == EV_CT_STRING ? "text (use equals or in)" : "a yes/no check "
                           "(use equals)");
            if ((rc = check_value_type(c, ff, t, r->value)) != EV_OK)
                return rc;
        } else if ((rc = check_value_type(c, ff, t, r->value)) != EV_OK) {
            return rc;
        }
    }
    return EV_OK;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  (i > 0 && (ch == '-' || ch == '_' || ch == '.'));
        if (!ok)
            return false;
    }
    return true;
}

int ev_profile__load_buffer(ev_profile **out, const void *data, size_t len,
                            const char *origin, ev_errbuf *err)
{
    static const char *const keys[] = { "profile_format", "name", "title", "description",
                                        "kind", "action", "accepts", "output", "metadata",
                                        "verification", "conformance", NULL };
    static const char *const kinds[] = { "copy", "av", "still", NULL };
    static const char *const actions[] = { "copied", "repackaged", "transcoded", NULL };
    int rc;
    pctx c = { err, origin ? origin : "(memory)", NULL };
    json_error_t je;
    json_t *root = NULL;

    if (!out)
        return ev_err__set(err, EV_EINVAL, "ev_profile__load_buffer: out is NULL");
    *out = NULL;
    if (!data && len)
        return ev_err__set(err, EV_EINVAL, "ev_profile__load_buffer: data is NULL");
    if (len > EV_PROFILE_MAX_BYTES)
        return bad(&c, "(file)", "is %zu bytes; a profile is at most %d bytes", len,
                   EV_PROFILE_MAX_BYTES);
    ev_profile *p = calloc(1, sizeof(*p));
    if (!p)
        return nomem(&c);
    c.p = p;
    if (!(p->path = ev__strdup(c.origin))) {
        rc = nomem(&c);
        goto fail;
    }
    if (ev_hash__sha256_hex(p->sha256, data ? data : "", len) != EV_OK) {
        rc = ev_err__set(err, EV_ERROR, "profile '%s': cannot compute SHA-256", c.origin);
        goto fail;
    }
    root = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        rc = ev_err__set(err, EV_EFORMAT, "profile '%s': not valid JSON at line %d, column %d: "
                         "%s", c.origin, je.line, je.column, je.text);
        goto fail;
    }
    if (!json_is_object(root)) {
        rc = bad(&c, "(top level)", "must be a JSON object, not %s", json_type_name(root));
        goto fail;
    }
    if ((rc = check_keys(&c, root, "", keys)) != EV_OK)
        goto fail;
    json_t *fmt = json_object_get(root, "profile_format");
    if (!fmt) {
        rc = bad(&c, "profile_format", "missing; write \"profile_format\": %d",
                 EV_PROFILE_FORMAT);
        goto fail;
    }
    if (!json_is_integer(fmt)) {
        rc = bad(&c, "profile_format", "must be an integer, not %s", json_type_name(fmt));
        goto fail;
    }
    if (json_integer_value(fmt) != EV_PROFILE_FORMAT) {
        rc = bad(&c, "profile_format", "%" JSON_INTEGER_FORMAT " is not understood by this "
                 "version (it reads format %d)%s", json_integer_value(fmt), EV_PROFILE_FORMAT,
                 json_integer_value(fmt) > EV_PROFILE_FORMAT ? "; upgrade evidence" : "");
        goto fail;
    }
    if ((rc = dup_string(&c, root, "name", "", true, &p->name)) != EV_OK)
        goto fail;
    if (!valid_name(p->name)) {
        rc = bad(&c, "name", "'%.64s' is not a valid profile name; use 1 to 64 lower-case "
                 "letters, digits, '-', '_' or '.', starting with a letter or digit", p->name);
        goto fail;
    }
    if ((rc = dup_string(&c, root, "title", "", false, &p->title)) != EV_OK ||
        (rc = dup_string(&c, root, "description", "", false, &p->description)) != EV_OK)
        goto fail;
    if (!p->title && !(p->title = ev__strdup(""))) {
        rc = nomem(&c);
        goto fail;
    }
    int v = 0;
    if ((rc = get_enum(&c, root, "kind", "", kinds, -1, &v)) != EV_OK)
        goto fail;
    p->kind = (ev_profile_kind)v;
    if ((rc = get_enum(&c, root, "action", "", actions,
                       p->kind == EV_KIND_COPY ? 0 : 2, &v)) != EV_OK)
        goto fail;
    if (!(p->action = ev__strdup(actions[v]))) {
        rc = nomem(&c);
        goto fail;
    }
    if ((p->kind == EV_KIND_COPY) != (v == 0)) {
        rc = bad(&c, "action", "\"copied\" goes with \"kind\": \"copy\" and only with it");
        goto fail;
    }
    json_t *acc = json_object_get(root, "accepts");
    if (acc) {
        static const char *const akeys[] = { "requires", "forbids", NULL };
        if (!json_is_object(acc)) {
            rc = bad(&c, "accepts", "must be an object, not %s", json_type_name(acc));
            goto fail;
        }
        if ((rc = check_keys(&c, acc, "accepts", akeys)) != EV_OK ||
            (rc = stype_mask(&c, acc, "requires", "accepts", &p->requires)) != EV_OK ||
            (rc = stype_mask(&c, acc, "forbids", "accepts", &p->forbids)) != EV_OK)
            goto fail;
        if (p->requires & p->forbids) {
            rc = bad(&c, "accepts", "a stream type cannot be both required and forbidden");
            goto fail;
        }
    }
    if ((rc = parse_output(&c, root)) != EV_OK || (rc = parse_metadata(&c, root)) != EV_OK ||
        (rc = parse_verification(&c, root)) != EV_OK ||
        (rc = parse_conformance(&c, root)) != EV_OK)
        goto fail;
    p->doc = root;
    *out = p;
    return EV_OK;
fail:
    json_decref(root);
    ev_profile__free(p);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Files and search path                                                     */
/* ------------------------------------------------------------------------ */

static int read_small_file(uint8_t **out, size_t *len, const char *path, ev_errbuf *err)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return ev_err__set(err, ev_err__from_errno(e), "profile '%s': cannot open: %s; check "
                           "the path", path, strerror(e));
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    int rc = EV_OK;
    while (buf) {
        if (n == cap) {
            if (cap > EV_PROFILE_MAX_BYTES) {
                rc = ev_err__set(err, EV_EFORMAT, "profile '%s': larger than %d bytes; a "
                                 "profile is a small JSON file", path, EV_PROFILE_MAX_BYTES);
                break;
            }
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                rc = ev_err__set(err, EV_EIO, "profile '%s': read error: %s", path,
                                 strerror(errno));
            break;
        }
    }
    fclose(f);
    if (!buf)
        return ev_err__set(err, EV_ENOMEM, "profile '%s': out of memory", path);
    if (rc != EV_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return EV_OK;
}

int ev_profile__load_file(ev_profile **out, const char *path, ev_errbuf *err)
{
    if (!out || !path)
        return ev_err__set(err, EV_EINVAL, "ev_profile__load_file: NULL argument");
    *out = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = read_small_file(&data, &len, path, err);
    if (rc != EV_OK)
        return rc;
    ev_profile *p = NULL;
    rc = ev_profile__load_buffer(&p, data, len, path, err);
    free(data);
    if (rc != EV_OK)
        return rc;
    /* The name is what users type; it must match the file so that lookup by
     * name finds exactly this file. */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t bl = strlen(base);
    if (bl > 5 && strcmp(base + bl - 5, ".json") == 0)
        bl -= 5;
    if (strlen(p->name) != bl || strncmp(p->name, base, bl) != 0) {
        rc = ev_err__set(err, EV_EFORMAT, "profile '%s': name: '%s' does not match the file "
                         "name; rename the file to '%s.json' or change the name", path,
                         p->name, p->name);
        ev_profile__free(p);
        return rc;
    }
    *out = p;
    return EV_OK;
}

static bool is_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    fclose(f);
    return true;
}

int ev_profile__find(ev_profile **out, const char *const *dirs, size_t n_dirs,
                     const char *name, ev_errbuf *err)
{
    if (!out || !name)
        return ev_err__set(err, EV_EINVAL, "profile lookup: NULL argument");
    *out = NULL;
    size_t nl = strlen(name);
    if (strchr(name, '/') || (nl > 5 && strcmp(name + nl - 5, ".json") == 0))
        return ev_profile__load_file(out, name, err);
    if (!valid_name(name))
        return ev_err__set(err, EV_EINVAL, "profile '%.80s': not a valid profile name; names "
                           "use lower-case letters, digits, '-', '_' and '.'", name);
    for (size_t i = 0; i < n_dirs; i++) {
        char *path = ev__asprintf("%s/%s.json", dirs[i], name);
        if (!path)
            return ev_err__set(err, EV_ENOMEM, "out of memory");
        if (is_file(path)) {
            int rc = ev_profile__load_file(out, path, err);
            free(path);
            return rc;
        }
        free(path);
    }
    ev_buf b = { 0 };
    ev_buf__printf(&b, "profile '%s' not found; searched ", name);
    if (n_dirs == 0)
        ev_buf__puts(&b, "no folders (give --profile-dir or set EVIDENCE_PROFILE_PATH)");
    for (size_t i = 0; i < n_dirs; i++)
        ev_buf__printf(&b, "%s%s", i ? ", " : "", dirs[i]);
    ev_buf__puts(&b, "; 'evidence profiles' lists the profiles available");
    ev_err__set(err, EV_ENOTFOUND, "%s", b.data ? b.data : "profile not found");
    ev_buf__free(&b);
    return EV_ENOTFOUND;
}

json_t *ev_profile__summary(const ev_profile *p)
{
    static const char *const kinds[] = { "copy", "av", "still" };
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad_set = 0;
    bad_set |= json_object_set_new(o, "name", json_string(p->name));
    bad_set |= json_object_set_new(o, "title", json_string(p->title ? p->title : ""));
    if (p->description)
        bad_set |= json_object_set_new(o, "description", json_string(p->description));
    bad_set |= json_object_set_new(o, "path", json_string(p->path));
    bad_set |= json_object_set_new(o, "sha256", json_string(p->sha256));
    bad_set |= json_object_set_new(o, "kind", json_string(kinds[p->kind]));
    bad_set |= json_object_set_new(o, "action", json_string(p->action));
    bad_set |= json_object_set_new(o, "level", json_string(ev_profile__level_name(p->level)));
    if (p->container)
        bad_set |= json_object_set_new(o, "container", json_string(p->container));
    if (p->extension)
        bad_set |= json_object_set_new(o, "extension", json_string(p->extension));
    bad_set |= json_object_set_new(o, "available", json_boolean(p->unavailable == NULL));
    if (p->unavailable)
        bad_set |= json_object_set_new(o, "unavailable", json_string(p->unavailable));
    if (bad_set) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *ev_profile__object(const ev_profile *p)
{
    json_t *o = ev_profile__summary(p);
    if (o && p->doc && json_object_set(o, "profile", p->doc) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}
