/*
 * profile: loading and validating profile files (the JSON files in profiles/).
 *
 * A profile is parsed once into an immutable ev_profile; after loading it is
 * never modified, so one profile may be shared by several threads.
 * The file format is documented in docs/profiles.md and
 * docs/schema/profile.schema.json.
 */
#ifndef EV_PROFILE_H
#define EV_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "evidence/profile.h"
#include "base/internal.h"

#define EV_PROFILE_FORMAT 1
#define EV_PROFILE_MAX_BYTES (1024 * 1024)

/* Verification levels, strongest first. */
typedef enum ev_level {
    EV_LEVEL_BYTE = 0,
    EV_LEVEL_PACKET = 1,
    EV_LEVEL_DECODED = 2,
    EV_LEVEL_QUALITY = 3,
    EV_LEVEL_NONE = 4
} ev_level;

/* What a profile does. */
typedef enum ev_profile_kind {
    EV_KIND_COPY = 0,  /* byte copy (master) */
    EV_KIND_AV = 1,    /* audio/video streams through libav* */
    EV_KIND_STILL = 2  /* one still image */
} ev_profile_kind;

/* Stream types a profile talks about. */
typedef enum ev_stype {
    EV_ST_VIDEO = 0,
    EV_ST_AUDIO = 1,
    EV_ST_SUBTITLE = 2,
    EV_ST_DATA = 3,
    EV_ST_COUNT = 4
} ev_stype;

typedef enum ev_select {
    EV_SELECT_NONE = 0,  /* such streams are dropped (and recorded as dropped) */
    EV_SELECT_FIRST = 1, /* the first stream of the type only */
    EV_SELECT_ALL = 2
} ev_select;

typedef enum ev_action {
    EV_ACTION_COPY = 0,   /* stream copy */
    EV_ACTION_ENCODE = 1, /* decode and encode */
    EV_ACTION_REFUSE = 2, /* refuse the input with `message` */
    EV_ACTION_DROP = 3    /* leave the stream out (recorded) */
} ev_action;

typedef struct ev_kv {
    char *key;
    char *value;
} ev_kv;

typedef struct ev_strlist {
    char **v;
    size_t n;
} ev_strlist;

/* One stream rule: the first rule whose `when` matches a stream applies. */
typedef struct ev_profile_rule {
    ev_strlist when_codecs;      /* empty = any codec */
    ev_strlist when_sample_fmts; /* empty = any sample format */
    ev_strlist when_pix_fmts;    /* empty = any pixel format */
    ev_action action;
    char *encoder;         /* encode: libavcodec encoder, or "pcm" (native depth) */
    ev_kv *options;        /* encoder options, in file order */
    size_t n_options;
    char *pix_fmt;         /* NULL = the source's */
    char *fallback_pix_fmt;/* used when the source's cannot be stored */
    char *sample_fmt;      /* NULL = the source's */
    int sample_rate;       /* 0 = the source's */
    char *message;         /* refuse: the reason given to the user */
} ev_profile_rule;

typedef struct ev_profile_streams {
    ev_select select;
    ev_profile_rule *rules;
    size_t n_rules;
} ev_profile_streams;

typedef enum ev_meta_policy {
    EV_META_COPY = 0,
    EV_META_DROP = 1,
    EV_META_VERBATIM = 2,       /* location: copy the string exactly */
    EV_META_DISPLAY_MATRIX = 3, /* rotation: keep as display matrix */
    EV_META_APPLY = 4,          /* rotation/orientation: apply to pixels */
    EV_META_KEEP = 5            /* orientation: keep the EXIF tag as is */
} ev_meta_policy;

/* Conformance checks (see conform.c for what each measures). */
typedef enum ev_check_id {
    EV_CHECK_CONTAINER = 0,
    EV_CHECK_VIDEO_STREAMS,
    EV_CHECK_AUDIO_STREAMS,
    EV_CHECK_VIDEO_CODEC,
    EV_CHECK_VIDEO_PROFILE,
    EV_CHECK_PIX_FMT,
    EV_CHECK_BIT_DEPTH,
    EV_CHECK_CHROMA_SUBSAMPLING,
    EV_CHECK_FIELD_ORDER,
    EV_CHECK_GOP,
    EV_CHECK_FFV1_VERSION,
    EV_CHECK_FFV1_SLICES,
    EV_CHECK_FFV1_SLICE_CRC,
    EV_CHECK_FASTSTART,
    EV_CHECK_AUDIO_CODEC,
    EV_CHECK_AUDIO_PROFILE,
    EV_CHECK_AUDIO_SAMPLE_RATE,
    EV_CHECK_AUDIO_SAMPLE_FORMAT,
    EV_CHECK_AUDIO_BIT_DEPTH,
    EV_CHECK_AUDIO_CHANNELS,
    EV_CHECK_DECODES_CLEANLY,
    EV_CHECK_EXIF_PRESENT,
    EV_CHECK_PLAYABLE,
    EV_CHECK_TIMED,
    EV_CHECK_COMPLETE,
    EV_CHECK_COUNT
} ev_check_id;

typedef enum ev_check_op {
    EV_OP_EQUALS = 0,
    EV_OP_IN = 1,
    EV_OP_MIN = 2,
    EV_OP_MAX = 3
} ev_check_op;

typedef enum ev_check_type { EV_CT_STRING, EV_CT_INT, EV_CT_BOOL } ev_check_type;

typedef struct ev_check_rule {
    ev_check_id id;
    ev_check_op op;
    json_t *value;      /* expected: string/int/bool, or an array for `in` */
    char *description;  /* optional human text */
} ev_check_rule;

struct ev_profile {
    char *path;          /* file it came from, or a label for buffers */
    char *name;
    char *title;
    char *description;
    char sha256[65];     /* of the file's bytes */
    ev_profile_kind kind;
    char *action;        /* "transcoded" | "repackaged" | "copied" */

    uint32_t requires;   /* bit (1u << ev_stype) */
    uint32_t forbids;

    char *container;     /* muxer short name ("mp4", "matroska", "flac", "wav", "png") */
    char *extension;
    ev_kv *muxer_options;
    size_t n_muxer_options;
    ev_profile_streams streams[EV_ST_COUNT];

    ev_meta_policy meta_container_tags; /* copy | drop */
    ev_meta_policy meta_stream_tags;    /* copy | drop */
    ev_meta_policy meta_creation_time;  /* copy | drop */
    ev_meta_policy meta_location;       /* verbatim | drop */
    ev_meta_policy meta_rotation;       /* display-matrix | apply */
    ev_meta_policy meta_exif;           /* copy | drop */
    ev_meta_policy meta_orientation;    /* keep | apply */

    ev_level level;
    double psnr_min;         /* dB per frame; 0 = no bound */
    double psnr_mean_min;
    double ssim_min;
    double ssim_mean_min;
    double max_ts_delta_frames;  /* default 1 */
    ev_level packet_fallback;    /* EV_LEVEL_NONE or EV_LEVEL_DECODED */

    ev_check_rule *checks;
    size_t n_checks;

    char *unavailable;   /* NULL, or why this build cannot run it */
    json_t *doc;         /* the parsed file, kept for listings */
};

/* Names of enum values, as written in profile files. */
const char *ev_profile__level_name(ev_level l);
const char *ev_profile__stype_name(ev_stype t);
const char *ev_profile__check_name(ev_check_id id);
ev_check_type ev_profile__check_type(ev_check_id id);
/* The stream type a check applies to, or -1 for file-level checks. */
int ev_profile__check_stype(ev_check_id id);

/*
 * Parse and validate a profile from memory. `origin` names it in messages
 * (a path). On failure *out is NULL and err says which field is wrong.
 * Returns EV_OK, EV_EFORMAT (invalid profile), or EV_ENOMEM.
 */
int ev_profile__load_buffer(ev_profile **out, const void *data, size_t len,
                            const char *origin, ev_errbuf *err);

/* Read a file (at most EV_PROFILE_MAX_BYTES) and parse it. The profile's
 * name must equal the file's name without ".json".
 * Returns EV_OK, EV_ENOTFOUND, EV_EIO, EV_EFORMAT or EV_ENOMEM. */
int ev_profile__load_file(ev_profile **out, const char *path, ev_errbuf *err);

/*
 * Find a profile by name along a search path (first folder holding
 * "<name>.json" wins) and load it. A name containing '/' or ending in
 * ".json" is taken as a path. Returns EV_OK, EV_ENOTFOUND (message lists the
 * folders searched and the profiles found), EV_EINVAL (bad name), or what
 * ev_profile__load_file returns.
 */
int ev_profile__find(ev_profile **out, const char *const *dirs, size_t n_dirs,
                     const char *name, ev_errbuf *err);

void ev_profile__free(ev_profile *p);

/* Summary of a profile as JSON (name, title, path, sha256, level, ...). */
json_t *ev_profile__summary(const ev_profile *p);

/* The summary with the whole profile document under "profile": the object
 * of ev_profile_json(). NULL when out of memory. */
json_t *ev_profile__object(const ev_profile *p);

/* True when the rule lists `s` (or the list is empty). */
bool ev_profile__list_match(const ev_strlist *l, const char *s);

/* Value of an option in a key/value list, or NULL. */
const char *ev_profile__kv_get(const ev_kv *kv, size_t n, const char *key);

#endif
