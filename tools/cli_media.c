/* 'evidence inspect FILE' for a single media file (not a bundle). */
#include "cli_media.h"

#include <string.h>

#include "cli.h"

int cli_inspect_media(const char *path, bool json)
{
    ev_media *m = NULL;
    int st = ev_media_new(&m, NULL);
    char *out = NULL;
    if (st == EV_OK)
        st = ev_media_analyze_file(&out, m, path);
    if (st != EV_OK) {
        cli_error("%s", m ? ev_media_last_error(m) : ev_strerror(st));
        ev_media_free(m);
        int code = cli_exit_for_status(st);
        return code == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : code;
    }
    int code = CLI_EXIT_OK;
    if (json) {
        if (cli_write_stdout(out) != 0 ||
            (out[0] && out[strlen(out) - 1] != '\n' && cli_write_stdout("\n") != 0))
            code = CLI_EXIT_INTERNAL;
    } else {
        char *text = NULL;
        st = ev_media_result_text(&text, m);
        if (st != EV_OK) {
            cli_error("%s", ev_strerror(st));
            code = CLI_EXIT_INTERNAL;
        } else if (cli_write_stdout(text) != 0) {
            code = CLI_EXIT_INTERNAL;
        }
        ev_free(text);
    }
    ev_media_free(m);
    ev_free(out);
    return code;
}
