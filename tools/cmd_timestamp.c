/* evidence timestamp: add an RFC 3161 token to a signature already in a bundle
 * (online, or offline with a query now and the TSA's reply later). */
#include "cli.h"
#include "cli_sign.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TSA_FILE (4u * 1024u * 1024u)

int cmd_timestamp(int argc, char **argv)
{
    static const cli_opt opts[] = {
        { "--tsa-url", NULL, true },   { "--tsa-timeout", NULL, true },
        { "--tsa-policy", NULL, true }, { "--tsa-query", NULL, true },
        { "--tsa-reply", NULL, true },  { "--query", NULL, true },
        { "--signature", NULL, true },  { NULL, NULL, false }
    };
    const char *bundle = NULL, *query_out = NULL, *reply_in = NULL, *query_in = NULL;
    const char *sig = NULL;
    ev_signer_options so;
    ev_signer_options_init(&so, EV_SIGNER_OPTIONS_VERSION);
    cli_parser p;
    cli_parser_init(&p, "timestamp", argc, argv);
    const char *arg;
    int k;
    while ((k = cli_next(&p, opts, &arg)) != -2) {
        if (k == -3)
            return CLI_EXIT_USAGE;
        if (k == -1) {
            if (bundle)
                return cli_usage_error("timestamp", "one bundle at a time ('%s' and '%s')",
                                       bundle, arg);
            bundle = arg;
            continue;
        }
        const char *name = opts[k].name;
        if (!strcmp(name, "--tsa-url")) so.tsa_url = arg;
        else if (!strcmp(name, "--tsa-policy")) so.tsa_policy = arg;
        else if (!strcmp(name, "--tsa-query")) query_out = arg;
        else if (!strcmp(name, "--tsa-reply")) reply_in = arg;
        else if (!strcmp(name, "--query")) query_in = arg;
        else if (!strcmp(name, "--signature")) sig = arg;
        else if (!strcmp(name, "--tsa-timeout")) {
            int rc = cli_sign_parse_timeout("timestamp", arg, &so.tsa_timeout);
            if (rc)
                return rc;
        }
    }
    if (!bundle)
        return cli_usage_error("timestamp", "no bundle given");
    int modes = (so.tsa_url != NULL) + (query_out != NULL) + (reply_in != NULL);
    if (modes != 1)
        return cli_usage_error("timestamp", "give exactly one of --tsa-url URL, --tsa-query "
                               "OUT.tsq or --tsa-reply IN.tsr");
    if (so.tsa_url && strncmp(so.tsa_url, "http://", 7) != 0 &&
        strncmp(so.tsa_url, "https://", 8) != 0)
        return cli_usage_error("timestamp", "'%s' is not a TSA URL (http://...)", so.tsa_url);
    if (query_in && !reply_in)
        return cli_usage_error("timestamp", "--query goes with --tsa-reply");
    if (sig && reply_in)
        return cli_usage_error("timestamp", "--signature is not needed with --tsa-reply (the "
                               "reply names its signature by its imprint)");

    uint8_t *reply = NULL, *query = NULL;
    size_t reply_len = 0, query_len = 0;
    int code = 0;
    if (reply_in &&
        (code = cli_read_small_file(&reply, &reply_len, reply_in, MAX_TSA_FILE, "TSA reply")))
        return code;
    if (query_in &&
        (code = cli_read_small_file(&query, &query_len, query_in, MAX_TSA_FILE, "query"))) {
        free(reply);
        return code;
    }
    ev_signer *s = NULL;
    ev_bundle *b = NULL;
    int st = ev_signer_new(&s, &so);
    if (st != EV_OK) {
        cli_error("cannot timestamp: %s", ev_strerror(st));
        code = cli_exit_for_status(st);
        goto done;
    }
    if ((code = cli_open_bundle(&b, bundle, true)))
        goto done;
    if (query_out) {
        uint8_t *q = NULL;
        size_t ql = 0;
        st = ev_signer_timestamp_query(&q, &ql, s, b, sig);
        if (st == EV_OK) {
            code = cli_write_file_atomic(query_out, q, ql);
            if (code == 0)
                printf("timestamp query for %s written to %s: send it to the TSA (Content-Type "
                       "application/timestamp-query), then run 'evidence timestamp %s "
                       "--tsa-reply REPLY.tsr'\n", ev_signer_info(s)->signature_path,
                       query_out, bundle);
            ev_free(q);
            goto done;
        }
    } else if (reply_in) {
        st = ev_signer_timestamp_add(s, b, reply, reply_len, query, query_len);
    } else {
        st = ev_signer_timestamp(s, b, sig);
    }
    if (st != EV_OK) {
        cli_error("%s", ev_signer_last_error(s));
        /* a signature that has its token already: the input cannot be used */
        code = st == EV_EEXISTS ? CLI_EXIT_INPUT : cli_exit_for_status(st);
        if (cli_interrupted)
            code = CLI_EXIT_INTERRUPTED;
        goto done;
    }
    if (!query_out) {
        const ev_sign_info *info = ev_signer_info(s);
        printf("timestamped %s: %s (TSA time %s)\n", info->signature_path, info->token_path,
               info->tsa_time ? info->tsa_time : "?");
    }
done:
    ev_bundle_free(b);
    ev_signer_free(s);
    free(reply);
    free(query);
    return code;
}
