/*
 * evidence check --profile P [--json] FILE...
 * Runs a profile's conformance checks on any file, like a MediaConch policy.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

int cmd_check(int argc, char **argv);

static void print_value(const json_t *v)
{
    char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    fputs(s ? s : "null", stdout);
    free(s);
}

static void print_report(const json_t *r)
{
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(r, "results"), i, x) {
        const char *res = json_string_value(json_object_get(x, "result"));
        char check[64];
        const json_t *st = json_object_get(x, "stream");
        if (st)
            snprintf(check, sizeof(check), "%s #%d",
                     json_string_value(json_object_get(x, "check")), (int)json_integer_value(st));
        else
            snprintf(check, sizeof(check), "%s", json_string_value(json_object_get(x, "check")));
        printf("%-4s  %-24s %s ", res, check,
               json_string_value(json_object_get(x, "operator")));
        print_value(json_object_get(x, "expected"));
        fputs("  measured ", stdout);
        print_value(json_object_get(x, "measured"));
        const char *note = json_string_value(json_object_get(x, "note"));
        if (note)
            printf("  (%s)", note);
        putchar('\n');
    }
    printf("%s: %s against %s (%lld passed, %lld failed, %lld not applicable)\n",
           json_string_value(json_object_get(r, "file")),
           strcmp(json_string_value(json_object_get(r, "verdict")), "pass") == 0 ? "pass"
                                                                                  : "FAIL",
           json_string_value(json_object_get(json_object_get(r, "profile"), "name")),
           (long long)json_integer_value(json_object_get(r, "passed")),
           (long long)json_integer_value(json_object_get(r, "failed")),
           (long long)json_integer_value(json_object_get(r, "not_applicable")));
}

int cmd_check(int argc, char **argv)
{
    static const cli_opt opts[] = {
        { "--profile", "-p", true },
        { "--json", NULL, false },
        { "--profile-dir", NULL, true },
        { "--assume-fps", NULL, true },
        { NULL, NULL, false },
    };
    cli_parser ps;
    const char *arg, *profile = NULL, *assume_fps = NULL;
    bool json = false;
    int k, n_dirs = 0, n_files = 0;
    const char **dirs = calloc((size_t)argc + 1, sizeof(char *));
    const char **files = calloc((size_t)argc + 1, sizeof(char *));
    if (!dirs || !files) {
        free(dirs);
        free(files);
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    cli_parser_init(&ps, "check", argc, argv);
    while ((k = cli_next(&ps, opts, &arg)) != -2) {
        if (k == -3) {
            free(dirs);
            free(files);
            return CLI_EXIT_USAGE;
        }
        if (k == 0)
            profile = arg;
        else if (k == 1)
            json = true;
        else if (k == 2)
            dirs[n_dirs++] = arg;
        else if (k == 3) {
            ev_transcode_options fo;
            ev_transcode_options_init(&fo, EV_TRANSCODE_OPTIONS_VERSION);
            if (ev_transcode_options_assume_fps(&fo, arg) != EV_OK) {
                free(dirs);
                free(files);
                return cli_usage_error("check", "--assume-fps needs a frame rate above 0 and at "
                                       "most 1000, e.g. 12.5, 25 or 30000/1001 (not '%s')", arg);
            }
            assume_fps = arg;
        } else
            files[n_files++] = arg;
    }
    if (!profile || n_files == 0) {
        free(dirs);
        free(files);
        return cli_usage_error("check", !profile ? "--profile is required (see 'evidence "
                               "profiles')" : "give a file to check");
    }
    ev_profile_catalog *c = NULL;
    ev_transcode *t = NULL;
    int code = CLI_EXIT_OK;
    ev_transcode_options to;
    ev_transcode_options_init(&to, EV_TRANSCODE_OPTIONS_VERSION);
    to.progress_cb = cli_progress;
    if (assume_fps)
        ev_transcode_options_assume_fps(&to, assume_fps);
    if (ev_profile_catalog_new(&c) != EV_OK || cli_profile_search_path(c, dirs, (size_t)n_dirs) != 0 ||
        ev_transcode_new(&t, &to) != EV_OK) {
        cli_error("out of memory");
        code = CLI_EXIT_INTERNAL;
        goto done;
    }
    const ev_profile *p = NULL;
    int rc = ev_profile_catalog_find(&p, c, profile);
    if (rc != EV_OK) {
        cli_error("%s", ev_profile_catalog_last_error(c));
        code = rc == EV_ENOTFOUND || rc == EV_EINVAL ? CLI_EXIT_USAGE : cli_exit_for_status(rc);
        goto done;
    }
    json_t *reports = json_array();
    for (int i = 0; i < n_files; i++) {
        rc = ev_transcode_check(t, p, files[i]);
        if (rc == EV_ECANCELED) {
            cli_error("interrupted");
            code = CLI_EXIT_INTERRUPTED;
            break;
        }
        if (rc != EV_OK) {
            cli_error("%s", ev_transcode_last_error(t));
            code = cli_worst(code, cli_exit_for_status(rc));
            json_array_append_new(reports, json_pack("{s:s, s:s, s:{s:s, s:s}}", "file",
                                                     files[i], "verdict", "error", "error",
                                                     "code", ev_status_name(rc), "message",
                                                     ev_transcode_last_error(t)));
            continue;
        }
        json_t *r = json_loads(ev_transcode_result_json(t), 0, NULL);
        if (!r) {
            code = cli_worst(code, CLI_EXIT_INTERNAL);
            continue;
        }
        if (ev_transcode_verdict_get(t) != EV_TRANSCODE_PASS)
            code = cli_worst(code, CLI_EXIT_FAILED);
        if (!json)
            print_report(r);
        json_array_append_new(reports, r);
    }
    if (json) {
        json_t *doc = NULL;
        if (n_files == 1 && json_object_get(json_array_get(reports, 0), "results"))
            doc = json_incref(json_array_get(reports, 0));
        else
            doc = json_pack("{s:s, s:i, s:O}", "format", "evidence.checks", "format_version", 1,
                            "files", reports);
        char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (!s || cli_write_stdout(s) != 0 || cli_write_stdout("\n") != 0)
            code = cli_worst(code, CLI_EXIT_INTERNAL);
        free(s);
        json_decref(doc);
    } else if (fflush(stdout) != 0) {
        code = cli_worst(code, CLI_EXIT_INTERNAL);
    }
    json_decref(reports);
done:
    ev_transcode_free(t);
    ev_profile_catalog_free(c);
    free(dirs);
    free(files);
    return code;
}
