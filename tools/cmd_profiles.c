/*
 * evidence profiles [--json] [--profile-dir DIR]... [NAME]
 * Lists the profiles found on the search path, or shows one.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int show_one(ev_profile_catalog *c, const char *name, bool json)
{
    const ev_profile *p = NULL;
    int rc = ev_profile_catalog_find(&p, c, name);
    if (rc != EV_OK) {
        cli_error("%s", ev_profile_catalog_last_error(c));
        return cli_exit_for_status(rc == EV_EINVAL ? EV_ENOTFOUND : rc);
    }
    char *s = NULL;
    rc = json ? ev_profile_document_json(&s, p) : ev_profile_text(&s, p);
    if (rc != EV_OK) {
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    int code = CLI_EXIT_OK;
    if (cli_write_stdout(s) != 0 || (json && cli_write_stdout("\n") != 0))
        code = CLI_EXIT_INTERNAL;
    ev_free(s);
    return code;
}

int cmd_profiles(int argc, char **argv);

int cmd_profiles(int argc, char **argv)
{
    static const cli_opt opts[] = {
        { "--json", NULL, false },
        { "--profile-dir", NULL, true },
        { NULL, NULL, false },
    };
    cli_parser ps;
    const char *arg;
    bool json = false;
    const char *name = NULL;
    const char **dirs = calloc((size_t)argc + 1, sizeof(char *));
    int n_dirs = 0, k, code = CLI_EXIT_OK;
    if (!dirs) {
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    cli_parser_init(&ps, "profiles", argc, argv);
    while ((k = cli_next(&ps, opts, &arg)) != -2) {
        if (k == -3) {
            free(dirs);
            return CLI_EXIT_USAGE;
        }
        if (k == 0) {
            json = true;
        } else if (k == 1) {
            dirs[n_dirs++] = arg;
        } else if (!name) {
            name = arg;
        } else {
            free(dirs);
            return cli_usage_error("profiles", "too many arguments: '%s'", arg);
        }
    }

    ev_profile_catalog *c = NULL;
    if (ev_profile_catalog_new(&c) != EV_OK || cli_profile_search_path(c, dirs, (size_t)n_dirs) != 0) {
        cli_error("out of memory");
        ev_profile_catalog_free(c);
        free(dirs);
        return CLI_EXIT_INTERNAL;
    }
    free(dirs);
    if (name) {
        code = show_one(c, name, json);
        ev_profile_catalog_free(c);
        return code;
    }
    if (ev_profile_catalog_scan(c) != EV_OK) {
        cli_error("%s", ev_profile_catalog_last_error(c));
        ev_profile_catalog_free(c);
        return CLI_EXIT_INTERNAL;
    }
    size_t n = ev_profile_catalog_count(c), np = ev_profile_catalog_problem_count(c);
    for (size_t i = 0; i < np; i++)
        cli_error("%s", ev_profile_catalog_problem(c, i));
    if (np)
        code = CLI_EXIT_INPUT;
    if (n == 0 && np == 0) {
        if (ev_profile_catalog_dir_count(c) == 0)
            cli_error("no profile folder found; give --profile-dir DIR or set "
                      "EVIDENCE_PROFILE_PATH");
        else
            cli_error("no profiles (*.json) in the profile folders; see 'evidence help "
                      "profiles'");
        code = CLI_EXIT_INPUT;
    }

    char *s = NULL;
    if ((json ? ev_profile_catalog_json(&s, c) : ev_profile_catalog_text(&s, c)) != EV_OK) {
        cli_error("out of memory");
        code = CLI_EXIT_INTERNAL;
    } else if (cli_write_stdout(s) != 0 || (json && cli_write_stdout("\n") != 0)) {
        code = CLI_EXIT_INTERNAL;
    }
    ev_free(s);
    ev_profile_catalog_free(c);
    return code;
}
