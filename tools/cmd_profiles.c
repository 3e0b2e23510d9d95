/*
 * evidence profiles [--json] [--profile-dir DIR]... [NAME]
 * Lists the profiles found on the search path, or shows one.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static json_t *profile_object(const ev_profile *p)
{
    char *s = NULL;
    if (ev_profile_json(&s, p) != EV_OK)
        return NULL;
    json_t *o = json_loads(s, 0, NULL);
    ev_free(s);
    return o;
}

static int show_one(ev_profile_catalog *c, const char *name, bool json)
{
    const ev_profile *p = NULL;
    int rc = ev_profile_catalog_find(&p, c, name);
    if (rc != EV_OK) {
        cli_error("%s", ev_profile_catalog_last_error(c));
        return cli_exit_for_status(rc == EV_EINVAL ? EV_ENOTFOUND : rc);
    }
    json_t *o = profile_object(p);
    if (!o) {
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    int code = CLI_EXIT_OK;
    if (json) {
        json_t *doc = json_pack("{s:s, s:i, s:O}", "format", "evidence.profile",
                                "format_version", 1, "profile", o);
        char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (!s || cli_write_stdout(s) != 0 || cli_write_stdout("\n") != 0)
            code = CLI_EXIT_INTERNAL;
        free(s);
        json_decref(doc);
    } else {
        printf("name:     %s\n", ev_profile_name(p));
        printf("title:    %s\n", ev_profile_title(p));
        printf("level:    %s\n", ev_profile_level(p));
        printf("file:     %s\n", ev_profile_path(p));
        printf("sha256:   %s\n", ev_profile_sha256(p));
        if (ev_profile_unavailable(p))
            printf("status:   unavailable: %s\n", ev_profile_unavailable(p));
        char *s = json_dumps(json_object_get(o, "profile"), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s) {
            printf("\n%s\n", s);
            free(s);
        }
        if (fflush(stdout) != 0)
            code = CLI_EXIT_INTERNAL;
    }
    json_decref(o);
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

    if (json) {
        json_t *doc = json_object();
        json_t *path = json_array(), *list = json_array(), *probs = json_array();
        bool ok = doc && path && list && probs;
        for (size_t i = 0; ok && i < ev_profile_catalog_dir_count(c); i++)
            ok = json_array_append_new(path, json_string(ev_profile_catalog_dir(c, i))) == 0;
        for (size_t i = 0; ok && i < n; i++) {
            json_t *o = profile_object(ev_profile_catalog_at(c, i));
            ok = o && json_array_append_new(list, o) == 0;
        }
        for (size_t i = 0; ok && i < np; i++)
            ok = json_array_append_new(probs, json_pack("{s:s}", "message",
                                                        ev_profile_catalog_problem(c, i))) == 0;
        ok = ok && json_object_set_new(doc, "format", json_string("evidence.profiles")) == 0 &&
             json_object_set_new(doc, "format_version", json_integer(1)) == 0 &&
             json_object_set(doc, "search_path", path) == 0 &&
             json_object_set(doc, "profiles", list) == 0 &&
             json_object_set(doc, "problems", probs) == 0;
        char *s = ok ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (!s || cli_write_stdout(s) != 0 || cli_write_stdout("\n") != 0) {
            if (!s)
                cli_error("out of memory");
            code = CLI_EXIT_INTERNAL;
        }
        free(s);
        json_decref(path);
        json_decref(list);
        json_decref(probs);
        json_decref(doc);
    } else {
        for (size_t i = 0; i < n; i++) {
            const ev_profile *p = ev_profile_catalog_at(c, i);
            printf("%-20s %-18s %s", ev_profile_name(p), ev_profile_level(p),
                   ev_profile_title(p));
            if (ev_profile_unavailable(p))
                printf(" [unavailable: %s]", ev_profile_unavailable(p));
            putchar('\n');
        }
        if (fflush(stdout) != 0)
            code = CLI_EXIT_INTERNAL;
    }
    ev_profile_catalog_free(c);
    return code;
}
