/* 'evidence inspect FILE' for a single media file. */
#ifndef EVIDENCE_CLI_MEDIA_H
#define EVIDENCE_CLI_MEDIA_H

#include <stdbool.h>

/* Describe one media file (not a bundle); returns the exit code. */
int cli_inspect_media(const char *path, bool json);

#endif
