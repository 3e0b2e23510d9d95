/* evidence disclose: hand over part of a bundle, with proof that it came
 * unaltered from the signed original (docs/disclosure.md). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cmd_disclose(int argc, char **argv)
{
    static const cli_opt opts[] = {
        { "--output", "-o", true }, { "--item", NULL, true },  { "--exhibit", NULL, true },
        { "--with-copies", NULL, false }, { "--actor", NULL, true }, { "--org", NULL, true },
        { "--note", NULL, true },   { "--format", NULL, true }, { NULL, NULL, false }
    };
    ev_disclose_options o;
    ev_disclose_options_init(&o, EV_DISCLOSE_OPTIONS_VERSION);
    const char *path = NULL, *out = NULL;
    const char **items = calloc((size_t)argc + 1, sizeof(*items));
    const char **exhibits = calloc((size_t)argc + 1, sizeof(*exhibits));
    int code = CLI_EXIT_OK;
    if (!items || !exhibits) {
        cli_error("out of memory");
        code = CLI_EXIT_INTERNAL;
        goto done;
    }
    cli_parser p;
    cli_parser_init(&p, "disclose", argc, argv);
    const char *arg;
    int k;
    while ((k = cli_next(&p, opts, &arg)) != -2) {
        if (k == -3) {
            code = CLI_EXIT_USAGE;
            goto done;
        }
        if (k == -1) {
            if (path) {
                code = cli_usage_error("disclose", "disclose takes one bundle");
                goto done;
            }
            path = arg;
        } else if (k == 0) {
            out = arg;
        } else if (k == 1) {
            items[o.nitems++] = arg;
        } else if (k == 2) {
            exhibits[o.nexhibits++] = arg;
        } else if (k == 3) {
            o.flags |= EV_DISCLOSE_WITH_COPIES;
        } else if (k == 4) {
            o.actor = arg;
        } else if (k == 5) {
            o.organisation = arg;
        } else if (k == 6) {
            o.note = arg;
        } else if (!strcmp(arg, "zip")) {
            o.format = EV_FORMAT_ZIP;
        } else if (!strcmp(arg, "dir")) {
            o.format = EV_FORMAT_DIR;
        } else {
            code = cli_usage_error("disclose", "--format must be 'zip' or 'dir', not '%s'", arg);
            goto done;
        }
    }
    const char *missing = !path ? "the bundle (BUNDLE)"
                          : !out ? "-o PART"
                          : !o.nitems && !o.nexhibits ? "--item ID or --exhibit REF"
                          : !o.actor ? "--actor NAME"
                          : !o.organisation ? "--org NAME" : NULL;
    if (missing) {
        code = cli_usage_error("disclose", "disclose needs %s (usage: evidence disclose BUNDLE "
                               "-o PART --item ID... [--exhibit REF]... [--with-copies] --actor "
                               "NAME --org NAME)", missing);
        goto done;
    }
    o.items = items;
    o.exhibits = exhibits;
    ev_bundle *b = NULL;
    code = cli_open_bundle(&b, path, false);
    if (code)
        goto done;
    int st = ev_bundle_disclose(b, out, &o);
    if (st != EV_OK) {
        cli_error("%s", ev_bundle_last_error(b));
        cli_error("no part was written");
        code = st == EV_EFORMAT ? CLI_EXIT_FAILED
               : st == EV_ENOTFOUND ? CLI_EXIT_INPUT : cli_exit_for_status(st);
    } else {
        printf("wrote %s: a part of %s\n", out, path);
    }
    ev_bundle_free(b);
done:
    free(items);
    free(exhibits);
    return code;
}
