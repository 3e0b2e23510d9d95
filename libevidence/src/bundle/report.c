/*
 * bundle (report): ev_bundle_report_html(), one verification as an HTML
 * page. This file gathers what the page states beyond the verification
 * itself (the bundle file's SHA-256, the record and custody log, the time,
 * the tool and library versions); views/report_html.c renders it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundle/bundle_int.h"
#include "record/record.h"
#include "record/record_check.h"
#include "views/views.h"

int ev_report_html_options_init(ev_report_html_options *opts, unsigned int version)
{
    return ev__options_init(opts, version == EV_REPORT_HTML_OPTIONS_VERSION ? sizeof(*opts) : 0,
                            version);
}

/* SHA-256 of the whole file at path; a sentence in why on failure. */
static int file_sha256(char hex[EV_HASH_HEX_MAX], const char *path, char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whylen, "could not be computed: %s cannot be opened: %s", path,
                 strerror(errno));
        return EV_EIO;
    }
    ev_hasher *h = NULL;
    int rc = ev_hash__new(&h, EV_ALG_SHA256);
    enum { CHUNK = 1 << 20 };
    uint8_t *buf = rc == EV_OK ? malloc(CHUNK) : NULL;
    if (!buf)
        rc = EV_ENOMEM;
    while (rc == EV_OK) {
        ssize_t n = read(fd, buf, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(why, whylen, "could not be computed: reading %s failed: %s", path,
                     strerror(errno));
            rc = EV_EIO;
            break;
        }
        if (n == 0)
            break;
        rc = ev_hash__update(h, buf, (size_t)n);
    }
    ev_digests d;
    if (rc == EV_OK && (rc = ev_hash__final(h, &d)) == EV_OK)
        memcpy(hex, d.hex[EV_HASH_SHA256], EV_HASH_HEX_MAX);
    if (rc == EV_ENOMEM)
        snprintf(why, whylen, "could not be computed: out of memory");
    free(buf);
    ev_hash__free(h);
    close(fd);
    return rc;
}

int ev_bundle_report_html(char **out, size_t *out_len, ev_bundle *b, const ev_report *r,
                          const ev_report_html_options *opts)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!b)
        return EV_EINVAL;
    if (!out || !r)
        return ev_err__set(&b->err, EV_EINVAL, "ev_bundle_report_html: bad arguments");
    if (!b->store)
        return ev_err__set(&b->err, EV_EINVAL, "ev_bundle_report_html: the bundle is not open");
    if (opts && opts->version != EV_REPORT_HTML_OPTIONS_VERSION)
        return ev_err__set(&b->err, EV_EVERSION, "ev_report_html_options version %u is "
                           "unknown (this library has %d)", opts->version,
                           EV_REPORT_HTML_OPTIONS_VERSION);
    if (!r->format || strcmp(r->format, "evidence.verify") != 0)
        return ev_err__set(&b->err, EV_EINVAL, "ev_bundle_report_html: the report is not a "
                           "verification");

    ev_views__report_in in;
    memset(&in, 0, sizeof(in));
    in.r = r;
    in.record = ev_bundle__record(b);
    in.bundle_path = ev_store__path(b->store);
    in.is_zip = ev_store__is_zip(b->store);
    in.has_record = ev_store__find(b->store, EV_RECORD_FILE) >= 0;
    in.has_views = ev_store__find(b->store, EV_VIEW_CASE) >= 0 ||
                   ev_store__find(b->store, EV_VIEW_INDEX) >= 0;
    long ci = ev_store__find(b->store, EV_CUSTODY_FILE);
    in.has_custody = ci >= 0;

    char hex[EV_HASH_HEX_MAX], why[512];
    why[0] = '\0';
    char *custody = NULL, *tool = NULL, *html = NULL;
    size_t clen = 0, hlen = 0;
    json_t *libs = NULL;
    int rc = EV_OK;
    if (in.is_zip) {
        rc = file_sha256(hex, in.bundle_path, why, sizeof(why));
        if (rc == EV_ENOMEM)
            goto done;
        in.bundle_sha256 = rc == EV_OK ? hex : NULL;
        in.bundle_sha256_error = rc == EV_OK ? NULL : why;
        rc = EV_OK;
    }
    /* the custody log as stored, within the bundle's limits (verify has
     * reported a log over them; the page then shows no events) */
    if (ci >= 0) {
        ev_errbuf e;
        size_t max = b->o.max_record_size > SIZE_MAX - 1 ? SIZE_MAX - 1
                                                          : (size_t)b->o.max_record_size;
        if (ev_store__read_all(&custody, &clen, b->store, (size_t)ci, max, &e) != EV_OK) {
            free(custody);
            custody = NULL;
            clen = 0;
        } else if (ev_custody__count(custody, clen) > b->o.max_custody_events) {
            free(custody);
            custody = NULL;
            clen = 0;
        }
    }
    in.custody = custody;
    in.custody_len = clen;

    int64_t when = opts && opts->checked_at ? opts->checked_at : (int64_t)time(NULL);
    char at[64];
    ev__time_rfc3339(at, sizeof(at), when);
    in.checked_at = at;
    tool = ev__asprintf("%s %s", opts && opts->tool_name ? opts->tool_name : "libevidence",
                        opts && opts->tool_version ? opts->tool_version : ev_version_string());
    if (!tool || ev_common__versions(&libs) != EV_OK) {
        rc = EV_ENOMEM;
        goto done;
    }
    in.tool = tool;
    in.libraries = libs;
    rc = ev_views__report_html(&html, &hlen, &in, &b->err);
    if (rc == EV_OK) {
        *out = html;
        if (out_len)
            *out_len = hlen;
    }
done:
    if (rc == EV_ENOMEM)
        ev_err__set(&b->err, rc, "out of memory");
    free(custody);
    free(tool);
    json_decref(libs);
    return rc;
}
