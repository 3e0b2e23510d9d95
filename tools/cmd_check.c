/*
 * evidence check --profile P [--json] FILE...
 * Runs a profile's conformance checks on any file, like a MediaConch policy.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

int cmd_check(int argc, char **argv);

/* The documents of --json, one per file: the library's check reports, and
 * the error documents made here for files that could not be checked. */
typedef struct doclist {
    char **v;
    size_t n;
} doclist;

static int add_doc(doclist *d, char *doc)
{
    char **v = doc ? realloc(d->v, (d->n + 1) * sizeof(*v)) : NULL;
    if (!v) {
        free(doc);
        return -1;
    }
    d->v = v;
    d->v[d->n++] = doc;
    return 0;
}

/* A document made here, laid out as the library lays out its results. */
static char *error_doc(const char *file, int rc, const char *message)
{
    json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s}}", "file", file, "verdict", "error", "error",
                          "code", ev_status_name(rc), "message", message);
    char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}

/* --json: one report as it is, or {"format": "evidence.checks",
 * "format_version": 1, "files": [...]} with the documents placed as they
 * are, one level deeper (as 'evidence verify' does for several bundles: a
 * raw newline in a JSON text is only ever layout, so each becomes a newline
 * plus four spaces). */
static int write_json(const doclist *d, bool one)
{
    if (one) {
        if (cli_write_stdout(d->v[0]) != 0 || cli_write_stdout("\n") != 0)
            return -1;
        return 0;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -1;
    fputs("{\n  \"format\": \"evidence.checks\",\n  \"format_version\": 1,\n  \"files\": [", f);
    for (size_t i = 0; i < d->n; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        for (const char *p = d->v[i]; *p; p++) {
            if (*p != '\n')
                fputc(*p, f);
            else if (p[1])
                fputs("\n    ", f);
        }
    }
    fputs(d->n ? "\n  ]\n}\n" : "]\n}\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return -1;
    }
    int rc = cli_write_stdout(buf);
    free(buf);
    return rc;
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
    doclist docs = { NULL, 0 };
    bool one_report = false;
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
            if (json && add_doc(&docs, error_doc(files[i], rc, ev_transcode_last_error(t))) != 0)
                code = cli_worst(code, CLI_EXIT_INTERNAL);
            continue;
        }
        if (ev_transcode_verdict_get(t) != EV_TRANSCODE_PASS)
            code = cli_worst(code, CLI_EXIT_FAILED);
        if (json) {
            if (add_doc(&docs, strdup(ev_transcode_result_json(t))) != 0)
                code = cli_worst(code, CLI_EXIT_INTERNAL);
            else
                one_report = n_files == 1;
        } else if (cli_write_stdout(ev_transcode_result_text(t)) != 0) {
            code = cli_worst(code, CLI_EXIT_INTERNAL);
        }
    }
    if (json && write_json(&docs, one_report) != 0)
        code = cli_worst(code, CLI_EXIT_INTERNAL);
    for (size_t i = 0; i < docs.n; i++)
        free(docs.v[i]);
    free(docs.v);
done:
    ev_transcode_free(t);
    ev_profile_catalog_free(c);
    free(dirs);
    free(files);
    return code;
}
