/*
 * job: the notes and refusals of one transcode job (see job.h).
 */
#include "transcode/job.h"

#include <stdarg.h>
#include <stdio.h>

void ev_transcode__note(job *j, const char *fmt, ...)
{
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof(b), fmt, ap);
    va_end(ap);
    json_array_append_new(j->notes, json_string(b));
}

/* Damaged input into a copy: refused (EV_EFORMAT), naming the file and what
 * is wrong where, and what to do instead. */
int ev_transcode__refuse_damaged(job *j, const char *what)
{
    return ev_err__set(j->err, EV_EFORMAT, "'%s' is damaged: %s; no copy was made, because "
                       "it would not hold what the file claims to hold. Keep the file as it "
                       "is with the master profile, or see the damage with 'evidence check "
                       "--profile archive-ffv1 %s' (rule decodes_cleanly)", j->in, what, j->in);
}
