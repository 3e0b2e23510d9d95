/* Helpers shared by the cmocka unit tests. */
#ifndef EV_TESTUTIL_H
#define EV_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* A fresh empty temporary folder under $EV_TEST_TMP (or /tmp); caller frees. */
char *tu_mkdtemp(const char *prefix);
/* rm -rf */
void tu_rmrf(const char *path);
/* Write a file (creating parent folders). Returns 0 or -1. */
int tu_write(const char *path, const void *data, size_t len);
/* Write text (a string) to dir/rel, creating parent folders. 0 or -1. */
int tu_put(const char *dir, const char *rel, const char *text);
/* Read a whole file; caller frees. */
uint8_t *tu_read(const char *path, size_t *len);
/* path join; caller frees. */
char *tu_join(const char *a, const char *b);
/* Pack the folder src as exhibit JS/1 of case CASE/1 (officer Jo Smith,
 * Test Force, no media analysis) into out, as format fmt (an
 * ev_bundle_format). Returns the ev_status of the first failing call. */
int tu_make_bundle(const char *src, const char *out, int fmt);

#endif
