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

int cmd_transcode(int argc, char **argv);

/* The problems of the last result, each on stderr as "evidence: ..." */
static void print_problems(const ev_transcode *t)
{
    for (size_t i = 0; i < ev_transcode_problem_count(t); i++)
        cli_error("%s", ev_transcode_problem(t, i));
}

/* The bytes of the record file, NUL-terminated; NULL after a message. The
 * library reads them (ev_transcode_recheck); a record is a few KiB. */
static char *read_record(const char *path, int *code)
{
    enum { MAX_RECORD = 64 * 1024 * 1024 };
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("cannot open '%s': %s", path, strerror(errno));
        *code = CLI_EXIT_INPUT;
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    bool nomem = false;
    errno = 0;
    while (n <= MAX_RECORD) {
        if (cap - n < 4096) {
            char *nb = realloc(buf, cap + 65536);
            if (!nb) {
                nomem = true;
                break;
            }
            buf = nb;
            cap += 65536;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int rerr = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (nomem || rerr || n > MAX_RECORD || (buf && memchr(buf, '\0', n))) {
        if (nomem)
            cli_error("out of memory");
        else if (rerr)
            cli_error("cannot read '%s': %s", path, strerror(rerr));
        else
            cli_error("'%s' is not a derivation record: %s; give the OUT.derivation.json "
                      "written beside the copy", path,
                      n > MAX_RECORD ? "it is larger than 64 MiB" : "it holds a NUL byte");
        *code = nomem ? CLI_EXIT_INTERNAL : CLI_EXIT_INPUT;
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static int recheck(const char *record, const char *in, const char *out, bool json)
{
    int code = CLI_EXIT_OK;
    char *text = read_record(record, &code);
    if (!text)
        return code;
    ev_transcode *t = NULL;
    ev_transcode_options to;
    ev_transcode_options_init(&to, EV_TRANSCODE_OPTIONS_VERSION);
    to.progress_cb = cli_progress;
    if (ev_transcode_new(&t, &to) != EV_OK) {
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
        code = ev_transcode_verdict_get(t) == EV_TRANSCODE_PASS ? CLI_EXIT_OK : CLI_EXIT_FAILED;
        if (json) {
            if (cli_write_stdout(ev_transcode_result_json(t)) != 0 ||
                cli_write_stdout("\n") != 0)
                code = CLI_EXIT_INTERNAL;
        } else {
            printf("%s: %s against %s (record %s)\n", out,
                   code == CLI_EXIT_OK ? "pass" : "FAIL", in, record);
            fflush(stdout);
            print_problems(t);
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
    ev_transcode_verdict v = ev_transcode_verdict_get(t);
    code = v == EV_TRANSCODE_FAIL ? CLI_EXIT_FAILED : CLI_EXIT_OK;
    if (json) {
        if (cli_write_stdout(ev_transcode_result_json(t)) != 0 || cli_write_stdout("\n") != 0)
            code = CLI_EXIT_INTERNAL;
        goto done;
    }
    if (cli_write_stdout(ev_transcode_result_text(t)) != 0) {
        code = CLI_EXIT_INTERNAL;
        goto done;
    }
    print_problems(t);
    if (v != EV_TRANSCODE_FAIL)
        printf("  record: %s.derivation.json\n", pos[1]);
    else
        cli_error("verification failed; '%s' was not kept", pos[1]);
    if (fflush(stdout) != 0)
        code = CLI_EXIT_INTERNAL;
done:
    ev_transcode_free(t);
    ev_profile_catalog_free(c);
    return code;
}
