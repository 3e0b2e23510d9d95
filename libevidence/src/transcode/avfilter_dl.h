/*
 * libavfilter, loaded at run time (dlopen) the first time a transcode job
 * needs an audio filter graph, instead of being linked: libavfilter's own
 * dependencies (flite voices, libplacebo, vulkan, rubberband, lapack,
 * pocketsphinx, ...) cost every process about 11 MB of resident pages and
 * some 100 shared libraries at start, and only the audio path of transcode
 * uses it (docs/dependencies.md). Not part of any API.
 *
 * The table's pointers have the types of the real prototypes (the headers
 * are still those of the libavfilter the library was built against); the
 * library loaded is libavfilter.so.<LIBAVFILTER_VERSION_MAJOR> and its
 * avfilter_version() must have the same major number. Loaded once per
 * process (thread-safe) and never unloaded.
 */
#ifndef EV_TRANSCODE_AVFILTER_DL_H
#define EV_TRANSCODE_AVFILTER_DL_H

#include <stddef.h>

#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>

#include "base/internal.h"

/* "libavfilter.so.8" for FFmpeg 5.1 */
#define EV_AVFILTER_STR2(x) #x
#define EV_AVFILTER_STR(x) EV_AVFILTER_STR2(x)
#define EV_AVFILTER_SONAME "libavfilter.so." EV_AVFILTER_STR(LIBAVFILTER_VERSION_MAJOR)

typedef struct ev_avfilter_api {
    __typeof__(avfilter_version) *version;
    __typeof__(avfilter_graph_alloc) *graph_alloc;
    __typeof__(avfilter_graph_free) *graph_free;
    __typeof__(avfilter_graph_create_filter) *graph_create_filter;
    __typeof__(avfilter_graph_config) *graph_config;
    __typeof__(avfilter_get_by_name) *get_by_name;
    __typeof__(avfilter_link) *link;
    __typeof__(av_buffersink_set_frame_size) *buffersink_set_frame_size;
    __typeof__(av_buffersink_get_frame) *buffersink_get_frame;
    __typeof__(av_buffersrc_add_frame_flags) *buffersrc_add_frame_flags;
} ev_avfilter_api;

/* The process's libavfilter (EV_AVFILTER_SONAME), loaded on the first call.
 * EV_OK with *out set; or EV_ERROR (an environment error: exit code 4 of
 * the CLI) with *out NULL and err saying that converting audio needs it,
 * why it failed (dlerror(), a missing function or another major version)
 * and what to do (install Debian's libavfilter8). A failed load is not
 * retried within the process. */
int ev_transcode__avfilter(const ev_avfilter_api **out, ev_errbuf *err);

/* Load `soname` into *api (no caching; never unloaded). EV_OK, or
 * EV_ERROR with the reason in msg (msg[0] = 0 on success) and *api zeroed. For the
 * process-wide loader above, and for tests (a bogus name). */
int ev_transcode__avfilter_load(const char *soname, ev_avfilter_api *api, char *msg,
                                size_t n);

#endif
