/* evidence sign: sign a bundle's custody log (CMS) and timestamp it (RFC 3161). */
#include "cli.h"
#include "cli_sign.h"

#include <stdlib.h>
#include <string.h>

/* Print the library's message plus what the user can do about it. */
static void report_failure(const char *what, const char *msg, int st, const cli_passphrase *pp,
                           bool tsa)
{
    if (pp->failed)
        return; /* the passphrase file problem was printed already */
    cli_error("%s%s", what, msg);
    if (pp->no_terminal)
        fputs("evidence: hint: the key is encrypted: give --passphrase-file FILE (there is no "
              "terminal to ask on)\n", stderr);
    if (tsa && strstr(msg, "TSA"))
        fputs("evidence: hint: the bundle is unchanged; sign without --tsa-url and add a token "
              "later with 'evidence timestamp BUNDLE --tsa-url URL' (or raise --tsa-timeout)\n",
              stderr);
    (void)st;
}

int cmd_sign(int argc, char **argv)
{
    static const cli_opt opts[] = {
        { "--key", NULL, true },          { "--cert", NULL, true },
        { "--chain", NULL, true },        { "--tsa-url", NULL, true },
        { "--tsa-timeout", NULL, true },  { "--tsa-policy", NULL, true },
        { "--tsa-query", NULL, true },    { "--passphrase-file", NULL, true },
        { "--actor", NULL, true },        { "--org", NULL, true },
        { NULL, NULL, false }
    };
    const char *key = NULL, *cert = NULL, *chain = NULL, *query_out = NULL, *bundle = NULL;
    ev_signer_options so;
    ev_signer_options_init(&so, EV_SIGNER_OPTIONS_VERSION);
    cli_passphrase pp = { NULL, false, false };
    cli_parser p;
    cli_parser_init(&p, "sign", argc, argv);
    const char *arg;
    int k;
    while ((k = cli_next(&p, opts, &arg)) != -2) {
        if (k == -3)
            return CLI_EXIT_USAGE;
        if (k == -1) {
            if (bundle)
                return cli_usage_error("sign", "one bundle at a time ('%s' and '%s')", bundle,
                                       arg);
            bundle = arg;
            continue;
        }
        const char *name = opts[k].name;
        if (!strcmp(name, "--key")) key = arg;
        else if (!strcmp(name, "--cert")) cert = arg;
        else if (!strcmp(name, "--chain")) chain = arg;
        else if (!strcmp(name, "--tsa-url")) so.tsa_url = arg;
        else if (!strcmp(name, "--tsa-policy")) so.tsa_policy = arg;
        else if (!strcmp(name, "--tsa-query")) query_out = arg;
        else if (!strcmp(name, "--passphrase-file")) pp.file = arg;
        else if (!strcmp(name, "--actor")) so.actor = arg;
        else if (!strcmp(name, "--org")) so.organisation = arg;
        else if (!strcmp(name, "--tsa-timeout")) {
            int rc = cli_sign_parse_timeout("sign", arg, &so.tsa_timeout);
            if (rc)
                return rc;
        }
    }
    if (!bundle)
        return cli_usage_error("sign", "no bundle given");
    if (!key || !cert)
        return cli_usage_error("sign", "%s required (the signer's %s)",
                               !key && !cert ? "--key KEY.pem and --cert CERT.pem are"
                               : !key      ? "--key KEY.pem is"
                                           : "--cert CERT.pem is",
                               !key && !cert ? "private key and certificate"
                               : !key      ? "private key"
                                           : "certificate");
    if (so.tsa_url && strncmp(so.tsa_url, "http://", 7) != 0 &&
        strncmp(so.tsa_url, "https://", 8) != 0)
        return cli_usage_error("sign", "'%s' is not a TSA URL (http://...)", so.tsa_url);
    if (so.tsa_url && query_out)
        return cli_usage_error("sign", "--tsa-url and --tsa-query cannot be combined (online "
                               "or offline timestamp, not both)");
    so.passphrase_cb = cli_passphrase_cb;
    so.passphrase_payload = &pp;

    ev_signer *s = NULL;
    int st = ev_signer_new(&s, &so);
    if (st != EV_OK) {
        cli_error("cannot sign: %s", ev_strerror(st));
        return cli_exit_for_status(st);
    }
    st = ev_signer_load(s, key, cert, chain);
    if (st != EV_OK) {
        report_failure("", ev_signer_last_error(s), st, &pp, false);
        ev_signer_free(s);
        /* EV_EINVAL here is an unusable key or certificate: an input error */
        return pp.failed || st == EV_EINVAL ? CLI_EXIT_INPUT : cli_exit_for_status(st);
    }
    ev_bundle *b = NULL;
    int code = cli_open_bundle(&b, bundle, true);
    if (code) {
        ev_signer_free(s);
        return code;
    }
    st = ev_signer_sign(s, b, query_out ? EV_SIGN_TSA_QUERY : 0);
    if (st != EV_OK) {
        report_failure("", ev_signer_last_error(s), st, &pp, so.tsa_url != NULL);
        ev_bundle_free(b);
        ev_signer_free(s);
        if (st == EV_EEXISTS)
            return CLI_EXIT_INPUT; /* that signature is there already */
        return cli_interrupted ? CLI_EXIT_INTERRUPTED : cli_exit_for_status(st);
    }
    const ev_sign_info *info = ev_signer_info(s);
    printf("signed custody.jsonl events 1-%llu of %s as %s\n",
           (unsigned long long)info->events, bundle, info->signer);
    printf("  signature: %s\n", info->signature_path);
    if (info->token_path)
        printf("  timestamp: %s (TSA time %s)\n", info->token_path,
               info->tsa_time ? info->tsa_time : "?");
    if (query_out) {
        const uint8_t *q = NULL;
        size_t ql = 0;
        if (ev_signer_tsa_query(s, &q, &ql) == EV_OK)
            code = cli_write_file_atomic(query_out, q, ql);
        else
            code = CLI_EXIT_INTERNAL;
        if (code == 0)
            printf("  timestamp query written to %s: send it to the TSA (Content-Type "
                   "application/timestamp-query), then run 'evidence timestamp %s --tsa-reply "
                   "REPLY.tsr'\n", query_out, bundle);
        else
            fprintf(stderr, "evidence: hint: the signature was added; make the query again "
                    "with 'evidence timestamp %s --tsa-query %s'\n", bundle, query_out);
    } else if (!info->token_path) {
        printf("  no timestamp: add one with 'evidence timestamp %s --tsa-url URL'\n", bundle);
    }
    ev_bundle_free(b);
    ev_signer_free(s);
    return code;
}
