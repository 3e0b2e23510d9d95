/* Status texts, versions and ev_free(): the ev_common public API. */
#include "base/internal.h"

#include <stdlib.h>

#include <jansson.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <openssl/crypto.h>
#include <zip.h>

const char *ev_strerror(int s)
{
    switch (s) {
    case EV_OK: return "success";
    case EV_ERROR: return "operation failed";
    case EV_ENOMEM: return "out of memory";
    case EV_EINVAL: return "invalid argument";
    case EV_ENOTFOUND: return "not found";
    case EV_EIO: return "input/output error";
    case EV_EFORMAT: return "corrupt or unrecognised input";
    case EV_EUNSUPPORTED: return "valid input that this build does not support";
    case EV_ECANCELED: return "canceled by callback";
    case EV_EVERSION: return "options struct has an unknown version";
    case EV_EUNSAFE: return "unsafe name or size refused";
    case EV_EEXISTS: return "output already exists";
    default: return "unknown status code";
    }
}

const char *ev_status_name(int s)
{
    switch (s) {
    case EV_OK: return "EV_OK";
    case EV_ERROR: return "EV_ERROR";
    case EV_ENOMEM: return "EV_ENOMEM";
    case EV_EINVAL: return "EV_EINVAL";
    case EV_ENOTFOUND: return "EV_ENOTFOUND";
    case EV_EIO: return "EV_EIO";
    case EV_EFORMAT: return "EV_EFORMAT";
    case EV_EUNSUPPORTED: return "EV_EUNSUPPORTED";
    case EV_ECANCELED: return "EV_ECANCELED";
    case EV_EVERSION: return "EV_EVERSION";
    case EV_EUNSAFE: return "EV_EUNSAFE";
    case EV_EEXISTS: return "EV_EEXISTS";
    default: return "EV_UNKNOWN";
    }
}

int ev_version_number(void)
{
    return EV_VERSION_NUMBER;
}

const char *ev_version_string(void)
{
    return EV_VERSION_STRING;
}

void ev_free(void *p)
{
    free(p);
}

static void ver3(char *buf, size_t n, unsigned v)
{
    snprintf(buf, n, "%u.%u.%u", AV_VERSION_MAJOR(v), AV_VERSION_MINOR(v), AV_VERSION_MICRO(v));
}

int ev_common__versions(json_t **out)
{
    char a[32], c[32], u[32];
    ver3(a, sizeof(a), avformat_version());
    ver3(c, sizeof(c), avcodec_version());
    ver3(u, sizeof(u), avutil_version());
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                          "libevidence", EV_VERSION_STRING,
                          "libavformat", a, "libavcodec", c, "libavutil", u,
                          "openssl", OpenSSL_version(OPENSSL_VERSION_STRING),
                          "libexif", EV_LIBEXIF_VERSION,
                          "libzip", zip_libzip_version(),
                          "jansson", JANSSON_VERSION);
    *out = o;
    return o ? EV_OK : EV_ENOMEM;
}

int ev_library_versions_json(char **out)
{
    json_t *o = NULL;
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (ev_common__versions(&o) != EV_OK)
        return EV_ENOMEM;
    *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return *out ? EV_OK : EV_ENOMEM;
}
