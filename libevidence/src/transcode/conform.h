/*
 * conform: conformance checks of any file against a profile's rules, in the
 * way a MediaConch policy checks a file: for each rule, pass or fail with
 * the value measured. See docs/profiles.md ("Conformance checks").
 */
#ifndef EV_CONFORM_H
#define EV_CONFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/internal.h"
#include "profile/profile.h"

/*
 * Measure `path` and evaluate every conformance rule of `p`.
 * out: {"format": "evidence.check", "format_version": 1, "file", "size",
 *       "profile": {"name", "sha256"}, "verdict": "pass"|"fail",
 *       "passed", "failed", "not_applicable",
 *       "results": [{"check", "stream"?, "operator", "expected", "measured",
 *                    "result": "pass"|"fail"|"n/a", "description"?, "note"?}]}
 * A rule about a stream type is evaluated once per stream of that type
 * (n/a when the file has none).
 * Returns EV_OK when the checks ran (failures are in the verdict), or
 * EV_ENOTFOUND / EV_EIO / EV_EFORMAT / EV_EUNSUPPORTED when the file cannot
 * be read as media (err says why), EV_ENOMEM.
 */
int ev_conform__check(json_t **out, const ev_profile *p, const char *path, ev_errbuf *err);

/* Same, with a progress callback (stage "checking"; returning nonzero
 * cancels with EV_ECANCELED; may be NULL) and a frame rate the user states
 * for a source with no time per frame (fps_num/fps_den, 0/0 = none: the
 * `timed` rule then names it as an assumption). */
int ev_conform__check_ex(json_t **out, const ev_profile *p, const char *path,
                         ev_progress_cb progress_cb, void *payload, unsigned int fps_num,
                         unsigned int fps_den, ev_errbuf *err);

/* FFV1 configuration record (extradata, version >= 2), as far as needed. */
typedef struct ev_ffv1_config {
    int version;
    int micro_version;
    int coder;          /* 0 Golomb-Rice, 1 range default, 2 range custom */
    int colorspace;
    int bits;
    int h_slices;
    int v_slices;
    int ec;             /* slice CRCs present */
    int intra;
    bool crc_ok;        /* CRC of the record itself */
} ev_ffv1_config;

/* Parse an FFV1 configuration record. Returns EV_OK or EV_EFORMAT. */
int ev_conform__ffv1_config(ev_ffv1_config *out, const uint8_t *data, size_t len);

/* Walk the slices of one FFV1 version-3 frame from its end.
 * `ec` = slice CRCs present. *slices = number found; *crc_bad = slices whose
 * CRC does not verify. Returns EV_OK, or EV_EFORMAT if the chain is broken. */
int ev_conform__ffv1_slices(int *slices, int *crc_bad, const uint8_t *pkt, size_t len, bool ec);

/* MP4/MOV: offsets of the first top-level moov and mdat boxes (-1 if absent).
 * Returns EV_OK, EV_EIO, or EV_EFORMAT on a broken box structure. */
int ev_conform__mp4_top_boxes(int64_t *moov, int64_t *mdat, const char *path, ev_errbuf *err);

#endif
