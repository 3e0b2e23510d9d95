/*
 * bundle (entries): the public listing of a bundle's files,
 * ev_bundle_entry_next(). It walks the container's entry list as opened by
 * ev_bundle_open(), so no entry is read.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/internal.h"
#include "container/container.h"
#include "bundle/bundle_entries.h"

/*
 * TEMPORARY: the layout of struct ev_bundle as bundle_read.c defines it
 * (C11 6.2.7: a struct of the same tag and members in another translation
 * unit is a compatible type), because this file may not yet add its one-line
 * accessor to bundle_read.c. When bundle_read.c (or the header its split
 * puts struct ev_bundle in) defines
 *     const ev_store *ev_bundle__store(const ev_bundle *b)
 *     { return b ? b->store : NULL; }
 * this block goes. Any change to the members above `store` there must be
 * made here too until then; tests/unit/test_bundle_api.c (bundle_api_entries) fails if they drift.
 */
struct ev_bundle {
    ev_bundle_options o;
    ev_errbuf err;
    ev_store *store;
    ev_report *open_report;
    json_t *record;
    ev_item *items;
    size_t nitems;
};

const ev_store *ev_bundle__store(const ev_bundle *b)
{
    return b ? b->store : NULL;
}
/* end of TEMPORARY */

bool ev_bundle_entry_next(const char **path, uint64_t *size, const ev_bundle *b, size_t *pos)
{
    if (path)
        *path = NULL;
    if (size)
        *size = 0;
    const ev_store *s = ev_bundle__store(b);
    if (!path || !pos || !s)
        return false;
    size_t n = ev_store__count(s);
    while (*pos < n) {
        const ev_store_entry *e = ev_store__entry(s, (*pos)++);
        if (!e || e->unsafe || e->type != EV_ENTRY_FILE)
            continue;
        *path = e->name;
        if (size)
            *size = e->size;
        return true;
    }
    return false;
}
