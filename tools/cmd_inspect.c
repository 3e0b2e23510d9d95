/* evidence inspect: what is inside a bundle (or a single media file). */
#include "cli.h"
#include "cli_media.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *js(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "-";
}

static void bagit_path(char *dst, const char *dir)
{
    size_t n = strlen(dir);
    memcpy(dst, dir, n);
    memcpy(dst + n, "/bagit.txt", sizeof("/bagit.txt"));
}

static void print_human(const json_t *o)
{
    printf("bundle:   %s (%s)\n", js(o, "bundle"), js(o, "container"));
    printf("bag:      %s\n", js(o, "bag"));
    const json_t *c = json_object_get(o, "case");
    if (c) {
        printf("case:     %s\n", js(c, "reference"));
        printf("org:      %s\n", js(c, "organisation"));
    }
    const json_t *e = json_object_get(o, "exported_by");
    if (e)
        printf("officer:  %s\n", js(e, "name"));
    printf("created:  %s\n", js(o, "created"));
    const json_t *pl = json_object_get(o, "payload");
    printf("payload:  %lld file(s), %lld bytes\n",
           (long long)json_integer_value(json_object_get(pl, "files")),
           (long long)json_integer_value(json_object_get(pl, "bytes")));
    const json_t *ex = json_object_get(o, "exhibits");
    if (json_is_array(ex)) {
        printf("exhibits:");
        size_t i;
        json_t *x;
        json_array_foreach(ex, i, x) printf(" %s", json_string_value(x));
        printf("\n");
    }
    const json_t *items = json_object_get(o, "items");
    if (json_is_array(items)) {
        printf("\nitems:\n");
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            printf("  %s  %-8s %s\n", js(it, "id"), js(it, "role"), js(it, "path"));
            printf("      exhibit %s, %lld bytes, %s\n", js(it, "exhibit"),
                   (long long)json_integer_value(json_object_get(it, "size")), js(it, "mime"));
            printf("      sha256 %s\n", js(json_object_get(it, "hashes"), "sha256"));
        }
    }
    const json_t *cu = json_object_get(o, "custody");
    if (json_is_array(cu)) {
        printf("\ncustody:\n");
        size_t i;
        json_t *ev;
        json_array_foreach(cu, i, ev) {
            const json_t *x = json_object_get(ev, "event");
            printf("  %lld  %s  %-10s %s (%s)%s\n",
                   (long long)json_integer_value(json_object_get(ev, "line")), js(x, "time"),
                   js(x, "action"), js(x, "actor"), js(x, "organisation"),
                   json_is_true(json_object_get(ev, "link_ok")) ? "" : "  LINK BROKEN");
        }
    }
    const json_t *sg = json_object_get(o, "signatures");
    if (json_array_size(sg)) {
        printf("\nsignatures:\n");
        size_t i;
        json_t *x;
        json_array_foreach(sg, i, x) printf("  %s\n", json_string_value(x));
    }
}

int cmd_inspect(int argc, char **argv)
{
    bool json;
    const char *path;
    int code = cli_parse_json_path("inspect", "evidence inspect [--json] BUNDLE|FILE",
                                   "bundle or file", argc, argv, &json, &path);
    if (code)
        return code;
    struct stat ps;
    if (stat(path, &ps) == 0 && S_ISDIR(ps.st_mode)) {
        /* a folder is described only when it is a bag */
        char *decl = malloc(strlen(path) + sizeof("/bagit.txt"));
        struct stat ds;
        bool bag = decl && (bagit_path(decl, path), stat(decl, &ds) == 0);
        free(decl);
        if (!bag) {
            cli_error("'%s' is a folder but not a bag (it has no bagit.txt): inspect describes "
                      "a bundle (a ZIP or a bag folder) or a single file", path);
            return CLI_EXIT_INPUT;
        }
    }
    ev_bundle *b = NULL;
    int st = ev_bundle_new(&b, NULL);
    if (st == EV_OK)
        st = ev_bundle_open(b, path);
    if (st != EV_OK) {
        struct stat sb;
        size_t pl = strlen(path);
        bool zipname = pl > 4 && strcasecmp(path + pl - 4, ".zip") == 0;
        if (st == EV_EFORMAT && !zipname && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            /* not a bundle: describe it as a media file */
            ev_bundle_free(b);
            return cli_inspect_media(path, json);
        }
        cli_error("%s", b ? ev_bundle_last_error(b) : ev_strerror(st));
        ev_bundle_free(b);
        code = cli_exit_for_status(st);
        return code == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : code;
    }
    char *s = NULL;
    st = ev_bundle_inspect_json(&s, b);
    ev_bundle_free(b);
    if (st != EV_OK) {
        cli_error("cannot describe '%s': %s", path, ev_strerror(st));
        return cli_exit_for_status(st);
    }
    if (json) {
        cli_write_stdout(s);
    } else {
        json_t *o = json_loads(s, 0, NULL);
        if (o)
            print_human(o);
        json_decref(o);
    }
    ev_free(s);
    return CLI_EXIT_OK;
}
