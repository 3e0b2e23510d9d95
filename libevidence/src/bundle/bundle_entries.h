/* bundle (entries): internal access to an open bundle's container. */
#ifndef EV_BUNDLE_ENTRIES_H
#define EV_BUNDLE_ENTRIES_H

#include "evidence/bundle.h"
#include "container/container.h"

/* The container of an open bundle, or NULL (b NULL or not open). Borrowed:
 * valid until b is reopened, amended or freed. */
const ev_store *ev_bundle__store(const ev_bundle *b);

#endif
