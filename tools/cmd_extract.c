/* evidence extract: write the bag into DEST, checking every byte. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cmd_extract(int argc, char **argv)
{
    static const cli_opt opts[] = { { "--json", NULL, false }, { NULL, NULL, false } };
    bool json = false;
    const char *pos[3] = { NULL, NULL, NULL };
    int npos = 0;
    cli_parser p;
    cli_parser_init(&p, "extract", argc, argv);
    const char *arg;
    int k;
    while ((k = cli_next(&p, opts, &arg)) != -2) {
        if (k == -3)
            return CLI_EXIT_USAGE;
        if (k == -1) {
            if (npos >= 2)
                return cli_usage_error("extract", "too many arguments: extract BUNDLE DEST");
            pos[npos++] = arg;
        } else {
            json = true;
        }
    }
    if (npos == 0)
        return cli_usage_error("extract", "no bundle given: evidence extract [--json] BUNDLE DEST");
    if (npos == 1)
        return cli_usage_error("extract", "no destination folder given after '%s': evidence "
                               "extract [--json] BUNDLE DEST (DEST must not exist yet)", pos[0]);
    ev_bundle_options bo;
    ev_bundle_options_init(&bo, EV_BUNDLE_OPTIONS_VERSION);
    bo.progress_cb = cli_progress;
    ev_bundle *b = NULL;
    int st0 = ev_bundle_new(&b, &bo);
    if (st0 == EV_OK)
        st0 = ev_bundle_open(b, pos[0]);
    if (st0 != EV_OK) {
        /* the same short document as verify --json */
        cli_error("%s", b ? ev_bundle_last_error(b) : ev_strerror(st0));
        if (json) {
            json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:b, s:{s:s, s:s}}", "format",
                                  "evidence.extract", "format_version", (json_int_t)1, "bundle",
                                  pos[0], "verdict", "unreadable", "valid", 0, "error", "code",
                                  ev_status_name(st0), "message",
                                  b ? ev_bundle_last_error(b) : ev_strerror(st0));
            char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
            if (s) {
                cli_write_stdout(s);
                cli_write_stdout("\n");
            }
            free(s);
            json_decref(o);
        }
        ev_bundle_free(b);
        int c0 = cli_exit_for_status(st0);
        return c0 == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : c0;
    }
    ev_report *r = NULL;
    int st = ev_bundle_extract(&r, b, pos[1]);
    if (st != EV_OK) {
        if (st == EV_ECANCELED && cli_interrupted)
            cli_error("interrupted: nothing was extracted to '%s'", pos[1]);
        else
            cli_error("%s", ev_bundle_last_error(b));
        ev_bundle_free(b);
        return cli_interrupted ? CLI_EXIT_INTERRUPTED : cli_exit_for_status(st);
    }
    ev_verdict v = ev_report_verdict(r);
    int code = cli_exit_for_verdict(v);
    if (json) {
        char *s = NULL;
        if (ev_report_json(&s, r) == EV_OK) {
            cli_write_stdout(s);
            ev_free(s);
        }
    } else {
        size_t written = 0;
        for (size_t i = 0; i < ev_report_file_count(r); i++) {
            const ev_file_result *f = ev_report_file(r, i);
            if (f->status == EV_FILE_OK)
                written++;
            else if (f->status == EV_FILE_MODIFIED || f->status == EV_FILE_ERROR)
                cli_error("'%s' failed its check and was not extracted", f->path);
        }
        cli_progress_end();
        for (size_t i = 0; i < ev_report_problem_count(r); i++) {
            const ev_problem *pr = ev_report_problem(r, i);
            if (pr->severity != EV_SEVERITY_INFO)
                fprintf(stderr, "evidence: %s: [%s] %s\n",
                        pr->severity == EV_SEVERITY_ERROR ? "error" : "warning", pr->code,
                        pr->message);
        }
        if (code == CLI_EXIT_OK)
            printf("extracted %zu file(s) into %s: all checked\n", written, pos[1]);
        else
            printf("nothing was extracted into %s: the bundle did not verify (see above)\n",
                   pos[1]);
    }
    ev_report_free(r);
    ev_bundle_free(b);
    return code;
}
