/*
 * libavfilter loaded at run time (avfilter_dl.h; docs/dependencies.md).
 *
 * The one piece of process-wide state in the library: the table below is
 * written once, under pthread_once, and only read afterwards, so it is what
 * the dynamic linker would otherwise have done at start (no ev_init, no
 * order of calls for the caller). The library is never dlclose'd: filter
 * graphs of any thread may still point into it.
 */
#include "transcode/avfilter_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/version.h>

int ev_transcode__avfilter_load(const char *soname, ev_avfilter_api *api, char *msg,
                                size_t n)
{
    memset(api, 0, sizeof(*api));
    if (n)
        msg[0] = 0;
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(msg, n, "%s could not be loaded (%s)", soname, why ? why : "no reason given");
        return EV_ERROR;
    }
    /* dlsym gives an object pointer; its bytes are the function's address
     * (POSIX), copied so that no object-to-function cast is needed */
    const char *missing = NULL;
#define EV_AVF_SYM(field, name)                                   \
    do {                                                          \
        void *p_ = dlsym(h, name);                                \
        if (!p_ && !missing)                                      \
            missing = name;                                       \
        memcpy(&api->field, &p_, sizeof(p_));                     \
    } while (0)
    EV_AVF_SYM(version, "avfilter_version");
    EV_AVF_SYM(graph_alloc, "avfilter_graph_alloc");
    EV_AVF_SYM(graph_free, "avfilter_graph_free");
    EV_AVF_SYM(graph_create_filter, "avfilter_graph_create_filter");
    EV_AVF_SYM(graph_config, "avfilter_graph_config");
    EV_AVF_SYM(get_by_name, "avfilter_get_by_name");
    EV_AVF_SYM(link, "avfilter_link");
    EV_AVF_SYM(buffersink_set_frame_size, "av_buffersink_set_frame_size");
    EV_AVF_SYM(buffersink_get_frame, "av_buffersink_get_frame");
    EV_AVF_SYM(buffersrc_add_frame_flags, "av_buffersrc_add_frame_flags");
#undef EV_AVF_SYM
    if (missing) {
        snprintf(msg, n, "%s has no function %s", soname, missing);
        memset(api, 0, sizeof(*api));
        dlclose(h); /* nothing points into it: its ~100 libraries go again */
        return EV_ERROR;
    }
    unsigned v = api->version();
    if (AV_VERSION_MAJOR(v) != LIBAVFILTER_VERSION_MAJOR) {
        snprintf(msg, n, "%s is version %u.%u.%u, but this library was built for major "
                 "version %d", soname, AV_VERSION_MAJOR(v), AV_VERSION_MINOR(v),
                 AV_VERSION_MICRO(v), LIBAVFILTER_VERSION_MAJOR);
        memset(api, 0, sizeof(*api));
        dlclose(h);
        return EV_ERROR;
    }
    return EV_OK;
}

static pthread_once_t avf_once = PTHREAD_ONCE_INIT;
static ev_avfilter_api avf_api;
static int avf_rc = EV_ERROR;
static char avf_msg[512];

static void avf_load_once(void)
{
    avf_rc = ev_transcode__avfilter_load(EV_AVFILTER_SONAME, &avf_api, avf_msg,
                                         sizeof(avf_msg));
}

int ev_transcode__avfilter(const ev_avfilter_api **out, ev_errbuf *err)
{
    *out = NULL;
    if (pthread_once(&avf_once, avf_load_once) != 0)
        return ev_err__set(err, EV_ERROR, "converting audio needs FFmpeg's libavfilter, which "
                           "could not be loaded (pthread_once failed)");
    if (avf_rc != EV_OK)
        return ev_err__set(err, EV_ERROR, "converting audio needs FFmpeg's libavfilter: %s; "
                           "install Debian's libavfilter8 package (apt-get install "
                           "libavfilter8), or use a profile that copies the audio or drops it",
                           avf_msg);
    *out = &avf_api;
    return EV_OK;
}
