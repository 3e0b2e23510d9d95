/*
 * bundle (inspect): the documents behind ev_bundle_inspect_json() and
 * ev_bundle_custody_json(), for their text renderings (inspect_text.c).
 */
#ifndef EV_BUNDLE_INSPECT_H
#define EV_BUNDLE_INSPECT_H

#include <stdbool.h>

#include <jansson.h>

#include "evidence/bundle.h"

/* The "evidence.inspect" document of an open bundle; *out is the caller's. */
int ev_bundle__inspect_doc(json_t **out, ev_bundle *b);

/* The "evidence.custody" document; *all_ok (may be NULL) as for
 * ev_bundle_custody_json(). *out is the caller's. */
int ev_bundle__custody_doc(json_t **out, bool *all_ok, ev_bundle *b);

#endif
