/* evidence inspect: what is inside a bundle (or a single media file). */
#include "cli.h"
#include "cli_media.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static void bagit_path(char *dst, const char *dir)
{
    size_t n = strlen(dir);
    memcpy(dst, dir, n);
    memcpy(dst + n, "/bagit.txt", sizeof("/bagit.txt"));
}

int cmd_inspect(int argc, char **argv)
{
    bool json;
    const char *path;
    int code = cli_parse_json_path("inspect", "evidence inspect [--json] BUNDLE|FILE",
                                   "bundle or file", argc, argv, &json, &path);
    if (code)
        return code;
    struct stat ps;
    if (stat(path, &ps) == 0 && S_ISDIR(ps.st_mode)) {
        /* a folder is described only when it is a bag */
        char *decl = malloc(strlen(path) + sizeof("/bagit.txt"));
        struct stat ds;
        bool bag = decl && (bagit_path(decl, path), stat(decl, &ds) == 0);
        free(decl);
        if (!bag) {
            cli_error("'%s' is a folder but not a bag (it has no bagit.txt): inspect describes "
                      "a bundle (a ZIP or a bag folder) or a single file", path);
            return CLI_EXIT_INPUT;
        }
    }
    ev_bundle *b = NULL;
    int st = ev_bundle_new(&b, NULL);
    if (st == EV_OK)
        st = ev_bundle_open(b, path);
    if (st != EV_OK) {
        struct stat sb;
        size_t pl = strlen(path);
        bool zipname = pl > 4 && strcasecmp(path + pl - 4, ".zip") == 0;
        if (st == EV_EFORMAT && !zipname && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            /* not a bundle: describe it as a media file */
            ev_bundle_free(b);
            return cli_inspect_media(path, json);
        }
        cli_error("%s", b ? ev_bundle_last_error(b) : ev_strerror(st));
        ev_bundle_free(b);
        code = cli_exit_for_status(st);
        return code == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : code;
    }
    char *s = NULL;
    st = json ? ev_bundle_inspect_json(&s, b) : ev_bundle_inspect_text(&s, b);
    ev_bundle_free(b);
    if (st != EV_OK) {
        cli_error("cannot describe '%s': %s", path, ev_strerror(st));
        return cli_exit_for_status(st);
    }
    code = cli_write_stdout(s) == 0 ? CLI_EXIT_OK : CLI_EXIT_INTERNAL;
    ev_free(s);
    return code;
}
