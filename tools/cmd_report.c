/* evidence report: verify one bundle and write the verification as an HTML
 * page for auditors and courts, optionally with a detached CMS signature. */
#include "cli.h"
#include "cli_sign.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static const char *verdict_text(ev_verdict v)
{
    return v == EV_VERDICT_VALID ? "valid" : v == EV_VERDICT_INVALID ? "INVALID" : "UNREADABLE";
}

/* the library's one way of writing an output; replace: --force */
static int publish(const char *path, const void *data, size_t len, bool replace)
{
    char *msg = NULL;
    int rc = ev_write_file_atomic(path, data, len, replace, &msg);
    if (rc == EV_OK)
        return 0;
    cli_error("%s", msg ? msg : ev_strerror(rc));
    ev_free(msg);
    return rc == EV_EEXISTS ? CLI_EXIT_INPUT : CLI_EXIT_INTERNAL;
}

int cmd_report(int argc, char **argv)
{
    static const cli_opt opts[] = {
        { "--output", "-o", true },   { "--force", NULL, false },
        { "--fast", NULL, false },    { "--deep", NULL, false },
        { "--json", NULL, false },    { "--ca", NULL, true },
        { "--tsa-ca", NULL, true },   { "--crl", NULL, true },
        { "--key", NULL, true },      { "--cert", NULL, true },
        { "--chain", NULL, true },    { "--passphrase-file", NULL, true },
        { NULL, NULL, false }
    };
    const char *bundle = NULL, *output = NULL, *key = NULL, *cert = NULL, *chain = NULL;
    bool force = false, json = false;
    uint32_t flags = 0;
    cli_trust_args trust = { NULL, NULL, NULL };
    cli_passphrase pp = { NULL, false, false };
    cli_parser p;
    cli_parser_init(&p, "report", argc, argv);
    const char *arg;
    int k;
    while ((k = cli_next(&p, opts, &arg)) != -2) {
        if (k == -3)
            return CLI_EXIT_USAGE;
        if (k == -1) {
            if (bundle)
                return cli_usage_error("report", "one bundle at a time ('%s' and '%s')",
                                       bundle, arg);
            bundle = arg;
            continue;
        }
        const char *name = opts[k].name;
        if (!strcmp(name, "--output")) output = arg;
        else if (!strcmp(name, "--force")) force = true;
        else if (!strcmp(name, "--fast")) flags |= EV_VERIFY_FAST;
        else if (!strcmp(name, "--deep")) flags |= EV_VERIFY_DEEP;
        else if (!strcmp(name, "--json")) json = true;
        else if (!strcmp(name, "--ca")) trust.ca = arg;
        else if (!strcmp(name, "--tsa-ca")) trust.tsa_ca = arg;
        else if (!strcmp(name, "--crl")) trust.crl = arg;
        else if (!strcmp(name, "--key")) key = arg;
        else if (!strcmp(name, "--cert")) cert = arg;
        else if (!strcmp(name, "--chain")) chain = arg;
        else if (!strcmp(name, "--passphrase-file")) pp.file = arg;
    }
    if (!bundle)
        return cli_usage_error("report", "no bundle given");
    if (!output)
        return cli_usage_error("report", "no output given: -o REPORT.html");
    if ((flags & EV_VERIFY_FAST) && (flags & EV_VERIFY_DEEP))
        return cli_usage_error("report", "--fast and --deep cannot be combined");
    if ((key || cert || chain || pp.file) && !(key && cert))
        return cli_usage_error("report", "to sign the report give both --key KEY.pem and "
                               "--cert CERT.pem");
    char *sigpath = NULL;
    if (key && asprintf(&sigpath, "%s.p7s", output) < 0)
        return CLI_EXIT_INTERNAL;
    /* refuse early what would be refused at the end, before a long check */
    if (!force && (exists(output) || (sigpath && exists(sigpath)))) {
        cli_error("'%s' exists already; give --force to replace it, or another name",
                  exists(output) ? output : sigpath);
        free(sigpath);
        return CLI_EXIT_INPUT;
    }

    int code = CLI_EXIT_OK;
    ev_signer *s = NULL;
    ev_bundle *b = NULL;
    ev_report *r = NULL;
    char *html = NULL;
    uint8_t *sig = NULL;
    size_t hlen = 0, siglen = 0;
    if (key) {
        ev_signer_options so;
        ev_signer_options_init(&so, EV_SIGNER_OPTIONS_VERSION);
        so.passphrase_cb = cli_passphrase_cb;
        so.passphrase_payload = &pp;
        int st = ev_signer_new(&s, &so);
        if (st == EV_OK)
            st = ev_signer_load(s, key, cert, chain);
        if (st != EV_OK) {
            if (!pp.failed)
                cli_error("%s", s ? ev_signer_last_error(s) : ev_strerror(st));
            if (pp.no_terminal)
                fputs("evidence: hint: the key is encrypted: give --passphrase-file FILE "
                      "(there is no terminal to ask on)\n", stderr);
            code = pp.failed || st == EV_EINVAL ? CLI_EXIT_INPUT : cli_exit_for_status(st);
            goto done;
        }
    }

    int64_t started = (int64_t)time(NULL);
    code = cli_open_bundle(&b, bundle, !json);
    if (code)
        goto done;
    ev_verify_options vo = EV_VERIFY_OPTIONS_INIT;
    vo.flags = flags;
    int st = ev_bundle_verify(&r, b, &vo);
    if (st != EV_OK) {
        cli_error("%s", ev_bundle_last_error(b));
        code = cli_interrupted ? CLI_EXIT_INTERRUPTED : cli_exit_for_status(st);
        if (code == CLI_EXIT_USAGE)
            code = CLI_EXIT_INPUT;
        goto done;
    }
    cli_progress_end();
    /* the report's verdict and its pages now cover the signatures */
    int sigcode = cli_verify_signatures(r, b, &trust, true);
    if (sigcode == CLI_EXIT_INPUT || sigcode == CLI_EXIT_INTERNAL) {
        /* a trust file is unusable: no report that would say less than asked */
        code = sigcode;
        goto done;
    }
    ev_report_html_options ro;
    ev_report_html_options_init(&ro, EV_REPORT_HTML_OPTIONS_VERSION);
    ro.checked_at = started;
    ro.tool_name = "evidence";
    ro.tool_version = EV_VERSION_STRING;
    st = ev_bundle_report_html(&html, &hlen, b, r, &ro);
    if (st != EV_OK) {
        cli_error("cannot make the report: %s", ev_bundle_last_error(b));
        code = cli_exit_for_status(st);
        goto done;
    }
    if (s && (st = ev_signer_sign_data(&sig, &siglen, s, (const uint8_t *)html, hlen)) != EV_OK) {
        cli_error("cannot sign the report: %s", ev_signer_last_error(s));
        code = cli_exit_for_status(st);
        goto done;
    }
    if ((code = publish(output, html, hlen, force)) != 0)
        goto done;
    if (sig && (code = publish(sigpath, sig, siglen, force)) != 0) {
        /* never a signed-looking report without its signature */
        unlink(output);
        fprintf(stderr, "evidence: the report was removed again, as its signature could not "
                "be written\n");
        goto done;
    }
    ev_verdict v = ev_report_verdict(r);
    code = cli_worst(cli_exit_for_verdict(v), sigcode);
    if (json) {
        char *doc = NULL;
        if (ev_report_json(&doc, r) == EV_OK) {
            if (cli_write_stdout(doc) != 0)
                code = cli_worst(code, CLI_EXIT_INTERNAL);
            ev_free(doc);
        } else {
            code = cli_worst(code, CLI_EXIT_INTERNAL);
        }
    } else if (!cli_quiet) {
        printf("%s: report of %s: %s\n", output, bundle, verdict_text(v));
        if (sig)
            printf("%s: detached CMS signature of the report\n", sigpath);
    }
done:
    ev_free(sig);
    ev_free(html);
    ev_report_free(r);
    ev_bundle_free(b);
    ev_signer_free(s);
    free(sigpath);
    if (cli_interrupted)
        return CLI_EXIT_INTERRUPTED;
    return code;
}
