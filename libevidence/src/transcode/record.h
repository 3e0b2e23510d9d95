/*
 * The derivation record of a copy (record.c). Not part of any API.
 */
#ifndef EV_TRANSCODE_RECORD_H
#define EV_TRANSCODE_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <libavformat/avformat.h>

#include "transcode/transcode.h"

/* What the record is made of. The JSON values are borrowed (the record takes
 * its own references); verification gets "thresholds" and "plan" added. */
typedef struct ev_tc_record_in {
    const ev_profile *p;
    const char *in_path, *out_path;
    const char *created;            /* RFC 3339 time of the run */
    const AVFormatContext *ic;      /* the source as opened (container name), or NULL */
    const char *src_sha256;         /* hex */
    uint64_t src_size;
    const char *out_sha256;         /* hex, "" when not computed (no verification) */
    uint64_t out_size;
    bool kept;                      /* out_path now holds the copy */
    json_t *muxer_options, *dropped, *notes;
    json_t *metadata;               /* or NULL */
    json_t *verification;
    const ev_vplan *plan;
} ev_tc_record_in;

/* Build the derivation record. *streams (the settings per stream, may be
 * NULL) is taken over and set to NULL. EV_OK or EV_ENOMEM (*out NULL). */
int ev_transcode__record(json_t **out, const ev_tc_record_in *in, json_t **streams,
                         ev_errbuf *err);

#endif
