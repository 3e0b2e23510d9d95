/* evidence exhibits: a bundle's exhibit schedule, written back out from its
 * record (docs/cli/evidence-exhibits.md). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* The schedule document of a record: its people, places, events and
 * exhibits, each exhibit with the bag paths of its master items as files.
 * A record without "exhibits" (packed without a schedule) gives one exhibit
 * of its reference only for each exhibit of the items, in order of first
 * appearance. New reference, or NULL on ENOMEM. */
static json_t *schedule_doc(const json_t *rec)
{
    json_t *doc = json_pack("{s:s, s:i}", "format", "evidence.schedule", "format_version", 1);
    static const char *const keys[] = { "people", "places", "events" };
    for (size_t k = 0; doc && k < sizeof(keys) / sizeof(keys[0]); k++) {
        json_t *v = json_object_get(rec, keys[k]);
        if (json_is_array(v))
            json_object_set_new(doc, keys[k], json_deep_copy(v));
    }
    const json_t *items = json_object_get(rec, "items");
    json_t *xs = json_is_array(json_object_get(rec, "exhibits"))
                     ? json_deep_copy(json_object_get(rec, "exhibits"))
                     : json_array();
    if (!doc || !xs) {
        json_decref(doc);
        json_decref(xs);
        return NULL;
    }
    if (!json_object_get(rec, "exhibits")) {
        size_t i;
        const json_t *it;
        json_array_foreach(items, i, it) {
            const char *ref = json_string_value(json_object_get(it, "exhibit"));
            bool seen = false;
            size_t j;
            json_t *x;
            json_array_foreach(xs, j, x)
                seen = seen || (ref && !strcmp(json_string_value(json_object_get(x, "reference")),
                                               ref));
            if (ref && !seen)
                json_array_append_new(xs, json_pack("{s:s}", "reference", ref));
        }
    }
    size_t j;
    json_t *x;
    json_array_foreach(xs, j, x) {
        json_t *files = json_array();
        const char *ref = json_string_value(json_object_get(x, "reference"));
        size_t i;
        const json_t *it;
        json_array_foreach(items, i, it) {
            const char *role = json_string_value(json_object_get(it, "role"));
            const char *ie = json_string_value(json_object_get(it, "exhibit"));
            const json_t *path = json_object_get(it, "path");
            if (ref && ie && !strcmp(ie, ref) && (!role || strcmp(role, "derivative")) &&
                json_is_string(path))
                json_array_append(files, (json_t *)path);
        }
        json_object_set_new(x, "files", files);
    }
    json_object_set_new(doc, "exhibits", xs);
    return doc;
}

int cmd_exhibits(int argc, char **argv)
{
    static const cli_opt opts[] = {
        { "--csv", NULL, false }, { "--json", NULL, false }, { NULL, NULL, false }
    };
    const char *path = NULL;
    bool json = false;
    cli_parser p;
    cli_parser_init(&p, "exhibits", argc, argv);
    const char *arg;
    int k;
    while ((k = cli_next(&p, opts, &arg)) != -2) {
        if (k == -3)
            return CLI_EXIT_USAGE;
        if (k == -1) {
            if (path)
                return cli_usage_error("exhibits", "one bundle at a time: '%s' and '%s'", path,
                                       arg);
            path = arg;
            continue;
        }
        json = !strcmp(opts[k].name, "--json");
    }
    if (!path)
        return cli_usage_error("exhibits", "no bundle given: evidence exhibits BUNDLE "
                               "[--csv|--json]");
    ev_bundle *b = NULL;
    int st = ev_bundle_new(&b, NULL);
    if (st == EV_OK)
        st = ev_bundle_open(b, path);
    if (st != EV_OK) {
        cli_error("%s", b ? ev_bundle_last_error(b) : ev_strerror(st));
        ev_bundle_free(b);
        int code = cli_exit_for_status(st);
        return code == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : code;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    st = ev_bundle_read_file(&buf, &len, b, "evidence.json", 0);
    ev_bundle_free(b);
    if (st != EV_OK) {
        cli_error("cannot read evidence.json of '%s': %s", path, ev_strerror(st));
        return CLI_EXIT_INPUT;
    }
    json_error_t jerr;
    json_t *rec = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    ev_free(buf);
    if (!json_is_object(rec)) {
        cli_error("evidence.json of '%s' is not a JSON object (line %d: %s)", path, jerr.line,
                  jerr.text);
        json_decref(rec);
        return CLI_EXIT_INPUT;
    }
    json_t *doc = schedule_doc(rec);
    json_decref(rec);
    char *txt = doc ? json_dumps(doc, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(doc);
    if (!txt) {
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    /* the schedule reader checks the document and writes it, as for a
     * schedule given to pack (the files are paths in the bag: not looked for) */
    ev_schedule_options so;
    ev_schedule_options_init(&so, EV_SCHEDULE_OPTIONS_VERSION);
    so.flags = EV_SCHEDULE_NO_FILE_CHECK;
    ev_schedule *s = NULL;
    st = ev_schedule_new(&s, &so);
    if (st == EV_OK)
        st = ev_schedule_read_buffer(s, txt, strlen(txt), EV_SCHEDULE_JSON, "evidence.json");
    free(txt);
    int rc = CLI_EXIT_OK;
    if (st == EV_EFORMAT) {
        for (size_t i = 0; i < ev_schedule_problem_count(s); i++)
            cli_error("%s", ev_schedule_problem(s, i));
        cli_error("the exhibits of '%s' do not make a schedule", path);
        rc = CLI_EXIT_INPUT;
    } else if (st != EV_OK) {
        cli_error("%s", s ? ev_schedule_last_error(s) : ev_strerror(st));
        rc = cli_exit_for_status(st);
    } else {
        for (size_t i = 0; i < ev_schedule_warning_count(s); i++)
            cli_warning("%s", ev_schedule_warning(s, i));
        char *out = NULL;
        size_t olen = 0;
        st = json ? ev_schedule_write_json(&out, s) : ev_schedule_write_csv(&out, &olen, s, 0);
        if (st != EV_OK) {
            cli_error("cannot write the schedule: %s", ev_strerror(st));
            rc = cli_exit_for_status(st);
        } else {
            if (!json && strlen(out) != olen) {
                cli_error("the schedule holds a NUL byte and cannot be written as text");
                rc = CLI_EXIT_INPUT;
            } else {
                rc = cli_write_stdout(out) == 0 ? CLI_EXIT_OK : CLI_EXIT_INTERNAL;
            }
        }
        ev_free(out);
    }
    ev_schedule_free(s);
    return rc;
}
