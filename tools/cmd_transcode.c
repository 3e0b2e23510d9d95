/*
 * evidence transcode --profile P [--no-verify] [--json] [--overwrite] IN OUT
 * evidence transcode --recheck RECORD [--json] IN OUT
 * Makes a verified copy of IN to a profile and writes its derivation record.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

int cmd_transcode(int argc, char **argv);

/* Write text and a newline to path the library's way (temporary name,
 * flushed, renamed; docs/architecture.md, "Publishing outputs"). The record
 * is small: it is flushed even with --no-sync, which is about the copy. */
static void print_summary(const char *out, json_t *rec)
{
    json_t *v = json_object_get(rec, "verification");
    const char *verdict = json_string_value(json_object_get(v, "verdict"));
    const char *level = json_string_value(json_object_get(v, "level"));
    printf("%s: %s with profile %s (%s): %s\n", out,
           json_is_true(json_object_get(json_object_get(rec, "output"), "kept")) ? "made"
                                                                                 : "NOT kept",
           json_string_value(json_object_get(json_object_get(rec, "profile"), "name")),
           level ? level : "?", verdict ? verdict : "?");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(v, "streams"), i, s) {
        printf("  stream %d->%d %s %s: %s",
               (int)json_integer_value(json_object_get(s, "source_stream")),
               (int)json_integer_value(json_object_get(s, "output_stream")),
               json_string_value(json_object_get(s, "type")),
               json_string_value(json_object_get(s, "method")),
               json_string_value(json_object_get(s, "result")));
        json_t *ps = json_object_get(s, "psnr_db"), *ss = json_object_get(s, "ssim");
        if (ps && ss)
            printf(" (PSNR min %.2f dB mean %.2f dB, SSIM min %.4f mean %.4f, %lld frames)",
                   json_number_value(json_object_get(ps, "min")),
                   json_number_value(json_object_get(ps, "mean")),
                   json_number_value(json_object_get(ss, "min")),
                   json_number_value(json_object_get(ss, "mean")),
                   (long long)json_integer_value(json_object_get(s, "frames")));
        else if (json_object_get(s, "frames"))
            printf(" (%lld frames)", (long long)json_integer_value(json_object_get(s, "frames")));
        else if (json_object_get(s, "samples"))
            printf(" (%lld samples)", (long long)json_integer_value(json_object_get(s, "samples")));
        else if (json_object_get(s, "packets"))
            printf(" (%lld packets)", (long long)json_integer_value(json_object_get(s, "packets")));
        putchar('\n');
    }
    json_array_foreach(json_object_get(v, "problems"), i, s)
        fprintf(stderr, "evidence: %s\n", json_string_value(s));
}

static int recheck(const char *record, const char *in, const char *out, bool json)
{
    FILE *f = fopen(record, "rb");
    if (!f) {
        cli_error("cannot open '%s': %s", record, strerror(errno));
        return CLI_EXIT_INPUT;
    }
    json_error_t je;
    json_t *d = json_loadf(f, 0, &je);
    fclose(f);
    if (!d) {
        cli_error("'%s': not valid JSON at line %d: %s", record, je.line, je.text);
        return CLI_EXIT_INPUT;
    }
    char *text = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    ev_transcode *t = NULL;
    ev_transcode_options to;
    ev_transcode_options_init(&to, EV_TRANSCODE_OPTIONS_VERSION);
    to.progress_cb = cli_progress;
    int code;
    if (!text || ev_transcode_new(&t, &to) != EV_OK) {
        free(text);
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    int rc = ev_transcode_recheck(t, text, in, out);
    free(text);
    if (rc != EV_OK) {
        cli_error("%s", rc == EV_ECANCELED ? "interrupted" : ev_transcode_last_error(t));
        code = cli_exit_for_status(rc);
    } else {
        const char *res = ev_transcode_result_json(t);
        code = ev_transcode_verdict_get(t) == EV_TRANSCODE_PASS ? CLI_EXIT_OK : CLI_EXIT_FAILED;
        if (json) {
            if (cli_write_stdout(res) != 0 || cli_write_stdout("\n") != 0)
                code = CLI_EXIT_INTERNAL;
        } else {
            json_t *r = json_loads(res, 0, NULL);
            printf("%s: %s against %s (record %s)\n", out,
                   code == CLI_EXIT_OK ? "pass" : "FAIL", in, record);
            size_t i;
            json_t *s;
            json_array_foreach(json_object_get(r, "problems"), i, s)
                fprintf(stderr, "evidence: %s\n", json_string_value(s));
            json_decref(r);
        }
    }
    ev_transcode_free(t);
    return code;
}

int cmd_transcode(int argc, char **argv)
{
    static const cli_opt opts[] = {
        { "--profile", "-p", true },
        { "--no-verify", NULL, false },
        { "--json", NULL, false },
        { "--overwrite", NULL, false },
        { "--profile-dir", NULL, true },
        { "--threads", NULL, true },
        { "--recheck", NULL, true },
        { "--no-sync", NULL, false },
        { "--assume-fps", NULL, true },
        { NULL, NULL, false },
    };
    cli_parser ps;
    const char *arg, *profile = NULL, *record = NULL, *pos[3] = { NULL, NULL, NULL };
    const char *assume_fps = NULL;
    bool json = false, no_verify = false, overwrite = false, no_sync = false;
    unsigned threads = 0;
    int n_pos = 0, k, n_dirs = 0;
    const char **dirs = calloc((size_t)argc + 1, sizeof(char *));
    if (!dirs) {
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    cli_parser_init(&ps, "transcode", argc, argv);
    while ((k = cli_next(&ps, opts, &arg)) != -2) {
        switch (k) {
        case -3:
            free(dirs);
            return CLI_EXIT_USAGE;
        case 0: profile = arg; break;
        case 1: no_verify = true; break;
        case 2: json = true; break;
        case 3: overwrite = true; break;
        case 4: dirs[n_dirs++] = arg; break;
        case 5: {
            char *end = NULL;
            long v = strtol(arg, &end, 10);
            if (!end || *end || v < 0 || v > 256) {
                free(dirs);
                return cli_usage_error("transcode", "--threads needs a number from 0 to 256");
            }
            threads = (unsigned)v;
            break;
        }
        case 6: record = arg; break;
        case 7: no_sync = true; break;
        case 8: {
            ev_transcode_options fo;
            ev_transcode_options_init(&fo, EV_TRANSCODE_OPTIONS_VERSION);
            if (ev_transcode_options_assume_fps(&fo, arg) != EV_OK) {
                free(dirs);
                return cli_usage_error("transcode", "--assume-fps needs a frame rate above 0 "
                                       "and at most 1000, e.g. 12.5, 25 or 30000/1001 (not "
                                       "'%s')", arg);
            }
            assume_fps = arg;
            break;
        }
        default:
            if (n_pos >= 2) {
                free(dirs);
                return cli_usage_error("transcode", "too many arguments: '%s'", arg);
            }
            pos[n_pos++] = arg;
        }
    }
    if (n_pos != 2) {
        free(dirs);
        return cli_usage_error("transcode", "give an input and an output file");
    }
    if (record) {
        free(dirs);
        if (profile || no_verify)
            return cli_usage_error("transcode", "--recheck takes no --profile or --no-verify");
        return recheck(record, pos[0], pos[1], json);
    }
    if (!profile) {
        free(dirs);
        return cli_usage_error("transcode", "--profile is required (see 'evidence profiles')");
    }

    ev_profile_catalog *c = NULL;
    ev_transcode *t = NULL;
    int code = CLI_EXIT_OK;
    if (ev_profile_catalog_new(&c) != EV_OK || cli_profile_search_path(c, dirs, (size_t)n_dirs) != 0) {
        free(dirs);
        ev_profile_catalog_free(c);
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    free(dirs);
    const ev_profile *p = NULL;
    int rc = ev_profile_catalog_find(&p, c, profile);
    if (rc != EV_OK) {
        cli_error("%s", ev_profile_catalog_last_error(c));
        ev_profile_catalog_free(c);
        return rc == EV_ENOTFOUND || rc == EV_EINVAL ? CLI_EXIT_USAGE : cli_exit_for_status(rc);
    }
    ev_transcode_options to;
    ev_transcode_options_init(&to, EV_TRANSCODE_OPTIONS_VERSION);
    to.flags = (no_verify ? EV_TRANSCODE_NO_VERIFY : 0) | (overwrite ? EV_TRANSCODE_OVERWRITE : 0) |
               (no_sync ? EV_TRANSCODE_NO_SYNC : 0) |
               /* the library publishes the record before the copy, so that
                * a copy is never left without it (--json prints it instead) */
               (json ? 0 : EV_TRANSCODE_WRITE_RECORD);
    to.threads = threads;
    to.progress_cb = cli_progress;
    if (assume_fps)
        ev_transcode_options_assume_fps(&to, assume_fps);
    if (ev_transcode_new(&t, &to) != EV_OK) {
        ev_profile_catalog_free(c);
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    rc = ev_transcode_run(t, p, pos[0], pos[1]);
    if (rc == EV_ECANCELED) {
        cli_error("interrupted; '%s' was not written", pos[1]);
        code = CLI_EXIT_INTERRUPTED;
        goto done;
    }
    if (rc != EV_OK) {
        cli_error("%s", ev_transcode_last_error(t));
        code = cli_exit_for_status(rc);
        goto done;
    }
    const char *res = ev_transcode_result_json(t);
    ev_transcode_verdict v = ev_transcode_verdict_get(t);
    code = v == EV_TRANSCODE_FAIL ? CLI_EXIT_FAILED : CLI_EXIT_OK;
    if (json) {
        if (cli_write_stdout(res) != 0 || cli_write_stdout("\n") != 0)
            code = CLI_EXIT_INTERNAL;
        goto done;
    }
    json_t *rec = json_loads(res, 0, NULL);
    if (!rec) {
        cli_error("out of memory");
        code = CLI_EXIT_INTERNAL;
        goto done;
    }
    print_summary(pos[1], rec);
    if (v != EV_TRANSCODE_FAIL)
        printf("  record: %s.derivation.json\n", pos[1]);
    else
        cli_error("verification failed; '%s' was not kept", pos[1]);
    if (fflush(stdout) != 0)
        code = CLI_EXIT_INTERNAL;
    json_decref(rec);
done:
    ev_transcode_free(t);
    ev_profile_catalog_free(c);
    return code;
}
