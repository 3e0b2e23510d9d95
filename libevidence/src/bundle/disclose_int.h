/*
 * bundle (disclose): shared by disclose_check.c (the root of a full
 * bundle), disclose.c (cutting a part) and disclose_verify.c (checking a
 * part). See docs/disclosure.md.
 */
#ifndef EV_BUNDLE_DISCLOSE_INT_H
#define EV_BUNDLE_DISCLOSE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bundle/bundle_int.h"

/* The folder of a part that holds the original's signatures and tokens. */
#define EV_DISCLOSE_DIR "disclosure/"

/* SHA-256 of a tag file of the bundle (read whole). */
int ev_bundle__tagfile_sha256(uint8_t out[32], ev_store *s, const char *path, ev_errbuf *err);

/* The leaf of a record item (with its "salt"), with the tag files it names
 * read from s. EV_OK; EV_EFORMAT with a phrase in why ("has no salt ...");
 * EV_ENOMEM. */
int ev_bundle__item_leaf(uint8_t leaf[32], ev_store *s, const json_t *it, char *why,
                         size_t whylen);

/* verify: the record's disclosure root against its items. */
int ev_bundle__disclosure_root(vctx *c);

#endif
