/*
 * report: the verification/extraction report (problems + per-file results),
 * behind the public ev_report_* getters.
 */
#ifndef EV_REPORT_H
#define EV_REPORT_H

#include <jansson.h>

#include "evidence/bundle.h"
#include "base/internal.h"

struct ev_report {
    const char *format;        /* "evidence.verify" / "evidence.extract" (static) */
    char *bundle_path;
    char *bag_name;
    ev_problem *problems;
    size_t nproblems, cap_problems;
    ev_file_result *files;
    size_t nfiles, cap_files;
    bool unreadable;           /* the bundle could not be checked at all */
    bool fast, deep;
    json_t *extra;             /* optional extra sections (object), e.g. "deep" */
    bool signatures_failed;    /* ev_report_add_signatures(): a signature failed */
    uint64_t payload_bytes, payload_files;
    /* the strings of the file results, in blocks (a bundle of a million
     * files has three million of them: one malloc each cost 16 bytes and
     * more apiece) */
    ev_strpool strs;
};

int ev_report__new(ev_report **out, const char *format);
/* Add a problem; code is a stable identifier, copied. Returns EV_OK/EV_ENOMEM. */
int ev_report__add(ev_report *r, ev_severity sev, const char *code, const char *path,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Add a per-file result; returns its index or -1. */
long ev_report__add_file(ev_report *r, const char *path, bool is_tag, ev_file_status st,
                         uint64_t size, const char *sha256);
/* Room for n more file results at once (a bundle's file count is known
 * before its results are added: no array grown by half and left half
 * empty). EV_OK or EV_ENOMEM. */
int ev_report__reserve_files(ev_report *r, size_t n);
/* The same with path and sha256 (or NULL) already kept with r's strings
 * (ev_report__keep, or a manifest parsed into them), shared, not copied. */
long ev_report__add_file_kept(ev_report *r, const char *path, bool is_tag, ev_file_status st,
                              uint64_t size, const char *sha256);
/* A copy of s kept with r's file results (NULL stays NULL; NULL also when
 * out of memory). */
const char *ev_report__keep(ev_report *r, const char *s);
/* true when the report has at least one error-severity problem. */
bool ev_report__has_errors(const ev_report *r);
/* Count problems of a code. */
size_t ev_report__count_code(const ev_report *r, const char *code);

#endif
