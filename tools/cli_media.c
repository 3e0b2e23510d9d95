/* 'evidence inspect FILE' for a single media file. */
#include "cli_media.h"

#include "cli.h"

int cli_inspect_media(const char *path, bool json)
{
    (void)json;
    cli_error("'%s' is not a bundle (not a ZIP file or bag folder)", path);
    return CLI_EXIT_INPUT;
}
