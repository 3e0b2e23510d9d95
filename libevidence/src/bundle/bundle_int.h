/* bundle: internal declarations shared by bundle_write.c and bundle_read.c. */
#ifndef EV_BUNDLE_INT_H
#define EV_BUNDLE_INT_H

#include "evidence/bundle.h"

/* "JS/1" -> "JS_1" (caller frees). */
char *ev_bundle__exhibit_folder(const char *exhibit);

#endif
