/*
 * Fuzz target: media analysis of an in-memory file (probe, facts, capture,
 * packet and decoded hashes, frame lists), then deep verification of the
 * same bytes against the record just made, with the input also given as a
 * hostile frame list. Limits are small so that every input finishes fast:
 * one decoder thread, 10 s, 20000 packets.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libavutil/log.h>

#include "evidence/bundle.h"
#include "media/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the harness, not the library, silences FFmpeg's global log */
    av_log_set_level(AV_LOG_QUIET);

    ev_media__limits lim;
    ev_media__limits_default(&lim, size);
    lim.threads = 1;
    lim.time_budget_s = 10.0;
    lim.max_packets = 20000;
    lim.max_list_entries = 20000;
    lim.max_pixels = 4096 * 4096;

    uint64_t st[4];
    ev_io io;
    if (ev_media__io_from_mem(&io, data, size, st) != 0)
        return 0;
    json_t *media = NULL, *capture = NULL, *content = NULL;
    ev_media__file *meta = NULL;
    size_t nmeta = 0;
    ev_errbuf err;
    const char *hint = size && (data[0] & 1) ? "input.mp4" : NULL;
    int rc = ev_media__analyze_ex(&media, &capture, &content, &meta, &nmeta, &io, hint,
                                  EV_CONTENT_HASH_BOTH, &lim, &err);
    if (rc == 0 && content) {
        json_t *item = json_object();
        json_object_set(item, "content_hashes", content);
        json_t *f = NULL;
        ev_media__io_from_mem(&io, data, size, st);
        if (ev_media__deep_verify(&f, item, &io, meta, nmeta, &err) == 0)
            json_decref(f);
        /* the same record with wrong hashes and the input as every frame list */
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(item, "content_hashes"), i, e)
        {
            json_t *p = json_object_get(e, "packets");
            if (p)
                json_object_set_new(p, "sha256", json_string("00"));
        }
        ev_media__file fake[2] = { { (char *)"frames-s0-packets.txt", (uint8_t *)data, size },
                                   { (char *)"frames-s1-packets.txt", (uint8_t *)data, size } };
        ev_media__io_from_mem(&io, data, size, st);
        if (ev_media__deep_verify(&f, item, &io, fake, 2, &err) == 0)
            json_decref(f);
        json_decref(item);
    }
    json_decref(media);
    json_decref(capture);
    json_decref(content);
    ev_media__files_free(meta, nmeta);
    return 0;
}
