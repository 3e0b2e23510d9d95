/*
 * progress: the bookkeeping behind ev_progress callbacks, shared by long
 * operations (container/container.h).
 */
#include "container/container.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ev_progress__init(ev_progress_state *st, ev_progress_cb cb, void *payload, const char *stage,
                       uint64_t bytes_total, uint64_t files_total)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_init(&st->mu, NULL);
    st->owner = pthread_self();
    st->cb = cb;
    st->payload = payload;
    st->p.version = EV_PROGRESS_VERSION;
    st->p.stage = stage;
    st->p.bytes_total = bytes_total;
    st->p.files_total = files_total;
}

/* Any thread may count; only the thread that set the state up calls the
 * callback (the API promises the caller's thread). A cancellation is
 * remembered, so that every thread sees it. */
int ev_progress__add(ev_progress_state *st, uint64_t bytes, uint64_t files, const char *current,
                     bool force)
{
    if (!st)
        return EV_OK;
    pthread_mutex_lock(&st->mu);
    st->p.bytes_done += bytes;
    st->p.files_done += files;
    int rc = st->canceled ? EV_ECANCELED : EV_OK;
    if (rc == EV_OK && st->cb && pthread_equal(pthread_self(), st->owner)) {
        int64_t t = now_ms();
        if (force || t - st->last_ms >= 100) {
            st->last_ms = t;
            st->p.current = current;
            ev_progress snap = st->p;
            pthread_mutex_unlock(&st->mu);
            bool stop = st->cb(&snap, st->payload) != 0;
            pthread_mutex_lock(&st->mu);
            if (stop) {
                st->canceled = true;
                rc = EV_ECANCELED;
            }
        }
    }
    pthread_mutex_unlock(&st->mu);
    return rc;
}
