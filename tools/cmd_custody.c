/* evidence custody add|show: the hash-chained custody log. */
#include "cli.h"

#include <string.h>

static int custody_show(int argc, char **argv)
{
    bool json;
    const char *path;
    int code = cli_parse_json_path("custody", "evidence custody show [--json] BUNDLE", "bundle",
                                   argc, argv, &json, &path);
    if (code)
        return code;
    ev_bundle *b = NULL;
    code = cli_open_bundle(&b, path, false);
    if (code)
        return code;
    char *s = NULL;
    bool ok = false;
    int st = json ? ev_bundle_custody_json(&s, &ok, b) : ev_bundle_custody_text(&s, &ok, b);
    if (st != EV_OK) {
        cli_error("%s", ev_bundle_last_error(b));
        ev_bundle_free(b);
        return CLI_EXIT_INPUT;
    }
    ev_bundle_free(b);
    code = cli_write_stdout(s) == 0 ? (ok ? CLI_EXIT_OK : CLI_EXIT_FAILED) : CLI_EXIT_INTERNAL;
    ev_free(s);
    return code;
}

static int custody_add(int argc, char **argv)
{
    static const cli_opt opts[] = { { "--action", NULL, true }, { "--actor", NULL, true },
                                    { "--org", NULL, true },    { "--note", NULL, true },
                                    { "--person", NULL, true }, { "--place", NULL, true },
                                    { NULL, NULL, false } };
    ev_custody_event e = { EV_CUSTODY_EVENT_VERSION, NULL, NULL, NULL, NULL, NULL, NULL };
    const char *path = NULL;
    cli_parser p;
    cli_parser_init(&p, "custody", argc, argv);
    const char *arg;
    int k;
    while ((k = cli_next(&p, opts, &arg)) != -2) {
        if (k == -3)
            return CLI_EXIT_USAGE;
        if (k == -1) {
            if (path)
                return cli_usage_error("custody", "custody add takes one bundle");
            path = arg;
            continue;
        }
        if (k == 0) e.action = arg;
        else if (k == 1) e.actor = arg;
        else if (k == 2) e.organisation = arg;
        else if (k == 3) e.note = arg;
        else if ((k == 4 && e.person) || (k == 5 && e.place))
            return cli_usage_error("custody", "%s is given twice: an event names one",
                                   opts[k].name);
        else if (k == 4) e.person = arg;
        else e.place = arg;
    }
    static const char *const actions[] = { "received", "verified", "transcoded", "exported",
                                           "note", NULL };
    const char *missing = !path ? "the bundle (BUNDLE)"
                          : !e.action ? "--action ACTION"
                          : !e.actor && !e.person ? "--actor NAME (or --person P)"
                          : !e.organisation && !e.person ? "--org NAME (or --person P)" : NULL;
    if (missing)
        return cli_usage_error("custody", "custody add needs %s (usage: evidence custody add "
                               "BUNDLE --action ACTION (--actor NAME --org NAME | --person P) "
                               "[--place L] [--note TEXT])", missing);
    bool known = false;
    for (int i = 0; actions[i]; i++)
        known = known || strcmp(actions[i], e.action) == 0;
    if (!known)
        return cli_usage_error("custody", "--action must be received, verified, transcoded, "
                               "exported or note, not '%s'", e.action);
    ev_bundle *b = NULL;
    int code = cli_open_bundle(&b, path, false);
    if (code)
        return code;
    int st = ev_bundle_amend(b, &e, NULL, 0);
    if (st != EV_OK) {
        cli_error("%s", ev_bundle_last_error(b));
        cli_error("'%s' was not changed", path);
        ev_bundle_free(b);
        return st == EV_EFORMAT ? CLI_EXIT_FAILED : cli_exit_for_status(st);
    }
    printf("added a '%s' event to %s\n", e.action, path);
    ev_bundle_free(b);
    return CLI_EXIT_OK;
}

int cmd_custody(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("custody", "usage: evidence custody add|show ...");
    if (strcmp(argv[1], "show") == 0)
        return custody_show(argc - 1, argv + 1);
    if (strcmp(argv[1], "add") == 0)
        return custody_add(argc - 1, argv + 1);
    return cli_usage_error("custody", "unknown custody command '%s' (add or show)", argv[1]);
}
