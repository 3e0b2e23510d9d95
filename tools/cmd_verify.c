/* evidence verify: check bundles (any RFC 8493 bag) and report every problem. */
#include "cli.h"
#include "cli_sign.h"

#include <stdlib.h>
#include <string.h>

static const char *sev(ev_severity s)
{
    return s == EV_SEVERITY_ERROR ? "error" : s == EV_SEVERITY_WARNING ? "warning" : "note";
}

static int verify_one(const char *path, uint32_t flags, bool json, const cli_trust_args *trust,
                      json_t *all)
{
    ev_bundle_options bo;
    ev_bundle_options_init(&bo, EV_BUNDLE_OPTIONS_VERSION);
    bo.progress_cb = cli_progress;
    ev_bundle *b = NULL;
    int st = ev_bundle_new(&b, &bo);
    if (st == EV_OK)
        st = ev_bundle_open(b, path);
    if (st != EV_OK) {
        cli_error("%s", b ? ev_bundle_last_error(b) : ev_strerror(st));
        if (json) {
            json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:b, s:{s:s, s:s}}", "format",
                                  "evidence.verify", "format_version", (json_int_t)1, "bundle",
                                  path, "verdict", "unreadable", "valid", 0, "error", "code",
                                  ev_status_name(st), "message",
                                  b ? ev_bundle_last_error(b) : ev_strerror(st));
            json_array_append_new(all, o);
        }
        ev_bundle_free(b);
        int code = cli_exit_for_status(st);
        return code == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : code;
    }
    ev_verify_options vo = EV_VERIFY_OPTIONS_INIT;
    vo.flags = flags;
    ev_report *r = NULL;
    st = ev_bundle_verify(&r, b, &vo);
    if (st != EV_OK) {
        cli_error("%s: %s", path, ev_bundle_last_error(b));
        ev_bundle_free(b);
        return cli_exit_for_status(st);
    }
    int code = CLI_EXIT_OK;
    ev_verdict v = ev_report_verdict(r);
    if (v == EV_VERDICT_INVALID)
        code = CLI_EXIT_FAILED;
    else if (v == EV_VERDICT_UNREADABLE)
        code = CLI_EXIT_INPUT;
    json_t *sig = NULL;
    int sc = cli_verify_signatures(&sig, b, trust, json);
    code = cli_worst(code, sc);
    if (json) {
        char *s = NULL;
        if (ev_report_json(&s, r) == EV_OK) {
            json_t *o = json_loads(s, 0, NULL);
            if (o && sig)
                json_object_set(o, "signatures", sig);
            /* the verdict covers the signatures too */
            if (o && sc == CLI_EXIT_FAILED && v == EV_VERDICT_VALID) {
                json_object_set_new(o, "verdict", json_string("invalid"));
                json_object_set_new(o, "valid", json_false());
            }
            if (o)
                json_array_append_new(all, o);
            ev_free(s);
        }
    } else {
        cli_progress_end();
        size_t nerr = 0, nwarn = 0;
        for (size_t i = 0; i < ev_report_problem_count(r); i++) {
            const ev_problem *p = ev_report_problem(r, i);
            if (p->severity == EV_SEVERITY_ERROR)
                nerr++;
            else if (p->severity == EV_SEVERITY_WARNING)
                nwarn++;
            printf("%s: %s: [%s] %s\n", path, sev(p->severity), p->code, p->message);
        }
        size_t nfiles = ev_report_file_count(r);
        const char *verdict = v == EV_VERDICT_VALID ? "valid" : v == EV_VERDICT_INVALID
                                                                    ? "INVALID" : "UNREADABLE";
        printf("%s: %s (%zu files checked%s, %zu error(s), %zu warning(s))\n", path, verdict,
               nfiles, (flags & EV_VERIFY_FAST) ? ", fast: sizes and lists only" : "", nerr,
               nwarn);
    }
    json_decref(sig);
    ev_report_free(r);
    ev_bundle_free(b);
    return code;
}

int cmd_verify(int argc, char **argv)
{
    static const cli_opt opts[] = {
        { "--fast", NULL, false }, { "--deep", NULL, false }, { "--json", NULL, false },
        { "--ca", NULL, true },    { "--tsa-ca", NULL, true }, { "--crl", NULL, true },
        { NULL, NULL, false }
    };
    uint32_t flags = 0;
    bool json = false;
    cli_trust_args trust = { NULL, NULL, NULL };
    const char **paths = calloc((size_t)argc, sizeof(*paths));
    size_t n = 0;
    if (!paths)
        return CLI_EXIT_INTERNAL;
    cli_parser p;
    cli_parser_init(&p, "verify", argc, argv);
    const char *arg;
    int k;
    while ((k = cli_next(&p, opts, &arg)) != -2) {
        if (k == -3) {
            free(paths);
            return CLI_EXIT_USAGE;
        }
        if (k == -1) {
            paths[n++] = arg;
            continue;
        }
        const char *name = opts[k].name;
        if (!strcmp(name, "--fast")) flags |= EV_VERIFY_FAST;
        else if (!strcmp(name, "--deep")) flags |= EV_VERIFY_DEEP;
        else if (!strcmp(name, "--json")) json = true;
        else if (!strcmp(name, "--ca")) trust.ca = arg;
        else if (!strcmp(name, "--tsa-ca")) trust.tsa_ca = arg;
        else if (!strcmp(name, "--crl")) trust.crl = arg;
    }
    if (n == 0) {
        free(paths);
        return cli_usage_error("verify", "no bundle given");
    }
    if ((flags & EV_VERIFY_FAST) && (flags & EV_VERIFY_DEEP)) {
        free(paths);
        return cli_usage_error("verify", "--fast and --deep cannot be combined");
    }
    json_t *all = json_array();
    int code = CLI_EXIT_OK;
    for (size_t i = 0; i < n; i++)
        code = cli_worst(code, verify_one(paths[i], flags, json, &trust, all));
    if (json) {
        json_t *doc;
        if (n == 1 && json_array_size(all) == 1) {
            doc = json_incref(json_array_get(all, 0));
        } else {
            doc = json_pack("{s:s, s:I, s:O}", "format", "evidence.verify-many",
                            "format_version", (json_int_t)1, "bundles", all);
        }
        char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s) {
            cli_write_stdout(s);
            cli_write_stdout("\n");
            free(s);
        }
        json_decref(doc);
    }
    json_decref(all);
    free(paths);
    if (cli_interrupted)
        return CLI_EXIT_INTERRUPTED;
    return code;
}
