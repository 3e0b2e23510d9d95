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
#include "bundle/bundle_int.h"

const ev_store *ev_bundle__store(const ev_bundle *b)
{
    return b ? b->store : NULL;
}

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
