/* evidence pack: package files and folders into a bundle. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>


static int parse_algs(const char *s, uint32_t *out)
{
    *out = 0;
    char *dup = strdup(s);
    if (!dup)
        return -1;
    char *save = NULL;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "sha256") == 0)
            *out |= EV_ALG_SHA256;
        else if (strcmp(t, "sha512") == 0)
            *out |= EV_ALG_SHA512;
        else {
            free(dup);
            return -1;
        }
    }
    free(dup);
    return *out ? 0 : -1;
}

/* The totals of the writer's last "packing" progress event: the one it
 * sends at completion counts every item (masters and working copies) and
 * every payload byte, which is what the summary prints; no need to open the
 * finished bundle again for it. */
typedef struct pack_totals {
    bool complete;
    uint64_t files, bytes;
} pack_totals;

static int pack_progress(const ev_progress *p, void *payload)
{
    pack_totals *t = payload;
    if (p->stage && !strcmp(p->stage, "packing")) {
        t->complete = p->files_done == p->files_total && p->bytes_done == p->bytes_total;
        t->files = p->files_total;
        t->bytes = p->bytes_total;
    }
    return cli_progress(p, NULL);
}

/* The bag's name as ev_writer_seal() makes it: the output's file name,
 * without ".zip" for a ZIP (the seal refuses an output name that is not a
 * plain file name). */
/* The default reading limits of ev_bundle_options (docs/bundle.md,
 * "Limits when reading"), which a bundle of very many files passes. */
#define DEFAULT_MAX_ENTRIES 1000000u
#define DEFAULT_MAX_ITEMS 1000000u
#define DEFAULT_MAX_RECORD ((uint64_t)256 << 20)

/* Open the bundle just written, whatever its size (it is ours). */
static ev_bundle *open_own(const char *out)
{
    ev_bundle_options bo;
    ev_bundle_options_init(&bo, EV_BUNDLE_OPTIONS_VERSION);
    bo.max_entries = UINT64_MAX;
    bo.max_items = UINT64_MAX;
    bo.max_record_size = UINT64_MAX;
    ev_bundle *b = NULL;
    if (ev_bundle_new(&b, &bo) != EV_OK)
        return NULL;
    if (ev_bundle_open(b, out) != EV_OK) {
        cli_warning("'%s' was written, but could not be read back: %s", out,
                    ev_bundle_last_error(b));
        ev_bundle_free(b);
        return NULL;
    }
    return b;
}

/* A bundle over the default reading limits is refused by a reader that
 * keeps them: say so, and how evidence verify reads it. A record of
 * small files takes about 570 bytes an item, so below 100,000 items no
 * limit is near and nothing is opened. The walk counts the regular files;
 * the container also counts its folder entries (pack writes data/), so
 * the entries suggested have a margin of 1% and 100. */
static void warn_limits(const char *out, ev_bundle *b)
{
    uint64_t files = 0, record = 0, size = 0;
    const char *path;
    size_t pos = 0;
    while (ev_bundle_entry_next(&path, &size, b, &pos)) {
        files++;
        if (!strcmp(path, "evidence.json"))
            record = size;
    }
    size_t items = ev_bundle_item_count(b);
    if (files < DEFAULT_MAX_ENTRIES && items <= DEFAULT_MAX_ITEMS && record <= DEFAULT_MAX_RECORD)
        return;
    uint64_t entries = files + files / 100 + 100;
    cli_warning("'%s' holds %llu files, %zu items and an evidence.json of %llu bytes: over the "
                "default reading limits (%u entries, %u items, 256 MiB), so a reader that keeps "
                "them refuses it as unreadable. Read it with: evidence verify --max-entries %llu "
                "--max-items %zu --max-record-size %lluM '%s' (docs/bundle.md, \"Limits when "
                "reading\"); or split the export into several bundles",
                out, (unsigned long long)files, items, (unsigned long long)record,
                DEFAULT_MAX_ENTRIES, DEFAULT_MAX_ITEMS, (unsigned long long)entries, items,
                (unsigned long long)((record >> 20) + 1), out);
}

static void print_summary(const char *out, bool zip, const pack_totals *t)
{
    const char *base = strrchr(out, '/');
    base = base ? base + 1 : out;
    size_t bl = strlen(base);
    if (zip && bl > 4 && strcasecmp(base + bl - 4, ".zip") == 0)
        bl -= 4;
    printf("packed %llu item(s), %llu bytes, into %s (bag '%.*s')\n",
           (unsigned long long)t->files, (unsigned long long)t->bytes, out, (int)bl, base);
}

int cmd_pack(int argc, char **argv)
{
    static const cli_opt opts[] = {
        { "--output", "-o", true },   { "--format", NULL, true },  { "--case", NULL, true },
        { "--exhibit", NULL, true },  { "--officer", NULL, true }, { "--org", NULL, true },
        { "--algorithm", NULL, true }, { "--json", NULL, false },  { "--officer-id", NULL, true },
        { "--operation", NULL, true }, { "--description", NULL, true },
        { "--content-hash", NULL, true }, { "--no-media", NULL, false },
        { "--profile", NULL, true },  { "--source-system", NULL, true },
        { "--profile-dir", NULL, true }, { "--exhibits", NULL, true },
        { "--officer-person", NULL, true },
        { NULL, NULL, false }
    };
    ev_writer_options o;
    ev_writer_options_init(&o, EV_WRITER_OPTIONS_VERSION);
    const char *out = NULL, *exhibit = NULL, *schedule_path = NULL;
    ev_schedule *sched = NULL;
    const char **paths = calloc((size_t)argc, sizeof(*paths));
    const char **exhibits = calloc((size_t)argc, sizeof(*exhibits)); /* of each path */
    const char *unused_exhibit = NULL; /* an --exhibit no path has followed yet */
    size_t nexhibit_opts = 0;
    const char **profiles = calloc((size_t)argc, sizeof(*profiles));
    const char **pdirs = calloc((size_t)argc, sizeof(*pdirs));
    size_t npaths = 0, nprof = 0, npdirs = 0;
    ev_profile_catalog *cat = NULL;
    bool json = false;
    int rc = CLI_EXIT_OK;
    if (!paths || !exhibits || !profiles || !pdirs) {
        cli_error("out of memory");
        free(paths);
        free(exhibits);
        free(profiles);
        free(pdirs);
        return CLI_EXIT_INTERNAL;
    }
    cli_parser p;
    cli_parser_init(&p, "pack", argc, argv);
    const char *arg;
    int k;
    while ((k = cli_next(&p, opts, &arg)) != -2) {
        if (k == -3) {
            rc = CLI_EXIT_USAGE;
            goto done;
        }
        if (k == -1) {
            /* each path belongs to the --exhibit that precedes it */
            exhibits[npaths] = exhibit;
            paths[npaths++] = arg;
            unused_exhibit = NULL;
            continue;
        }
        const char *name = opts[k].name;
        if (!strcmp(name, "--output")) out = arg;
        else if (!strcmp(name, "--format")) {
            if (!strcmp(arg, "zip")) o.format = EV_FORMAT_ZIP;
            else if (!strcmp(arg, "dir")) o.format = EV_FORMAT_DIR;
            else { rc = cli_usage_error("pack", "--format must be 'zip' or 'dir', not '%s'", arg); goto done; }
        } else if (!strcmp(name, "--case")) o.case_ref = arg;
        else if (!strcmp(name, "--exhibit")) {
            if (unused_exhibit) {
                rc = cli_usage_error("pack", "--exhibit '%s' is followed by no file or folder "
                                     "before --exhibit '%s': name the files of each exhibit "
                                     "after it", unused_exhibit, arg);
                goto done;
            }
            exhibit = unused_exhibit = arg;
            nexhibit_opts++;
        }
        else if (!strcmp(name, "--officer")) o.officer = arg;
        else if (!strcmp(name, "--officer-id")) o.officer_id = arg;
        else if (!strcmp(name, "--officer-person")) o.officer_person = arg;
        else if (!strcmp(name, "--org")) o.organisation = arg;
        else if (!strcmp(name, "--operation")) o.operation = arg;
        else if (!strcmp(name, "--description")) o.description = arg;
        else if (!strcmp(name, "--source-system")) o.source_system = arg;
        else if (!strcmp(name, "--json")) json = true;
        else if (!strcmp(name, "--no-media")) o.flags |= EV_WRITER_NO_MEDIA;
        else if (!strcmp(name, "--profile")) profiles[nprof++] = arg;
        else if (!strcmp(name, "--profile-dir")) pdirs[npdirs++] = arg;
        else if (!strcmp(name, "--exhibits")) {
            if (schedule_path) {
                rc = cli_usage_error("pack", "--exhibits is given twice: one schedule per bundle");
                goto done;
            }
            schedule_path = arg;
        }
        else if (!strcmp(name, "--algorithm")) {
            if (parse_algs(arg, &o.algorithms) != 0) {
                rc = cli_usage_error("pack", "--algorithm takes sha256, sha512 or sha256,sha512, not '%s'", arg);
                goto done;
            }
        } else if (!strcmp(name, "--content-hash")) {
            if (!strcmp(arg, "none")) o.content_hash = EV_CONTENT_HASH_NONE;
            else if (!strcmp(arg, "packets")) o.content_hash = EV_CONTENT_HASH_PACKETS;
            else if (!strcmp(arg, "decoded")) o.content_hash = EV_CONTENT_HASH_DECODED;
            else if (!strcmp(arg, "both")) o.content_hash = EV_CONTENT_HASH_BOTH;
            else { rc = cli_usage_error("pack", "--content-hash must be none, packets, decoded or both"); goto done; }
        }
    }
    if (!out) {
        rc = cli_usage_error("pack", "no output given: use -o OUT.zip");
        goto done;
    }
    if (npaths == 0 && !schedule_path) {
        rc = cli_usage_error("pack", "nothing to pack: name at least one file or folder, or "
                             "give a schedule with --exhibits");
        goto done;
    }
    if (unused_exhibit) {
        rc = cli_usage_error("pack", "--exhibit '%s' is followed by no file or folder: "
                             "--exhibit applies to the paths after it", unused_exhibit);
        goto done;
    }
    if (o.officer_person && !schedule_path) {
        rc = cli_usage_error("pack", "--officer-person names a person of an exhibit schedule: "
                             "give the schedule with --exhibits");
        goto done;
    }
    if (schedule_path && npaths && !exhibits[0]) {
        rc = cli_usage_error("pack", "'%s' comes before any --exhibit: with --exhibits, name "
                             "the exhibit of each further file with --exhibit REF before it",
                             paths[0]);
        goto done;
    }
    if (nexhibit_opts && npaths && !exhibits[0]) {
        rc = cli_usage_error("pack", "'%s' comes before any --exhibit: with --exhibit, name "
                             "each exhibit before its files", paths[0]);
        goto done;
    }
    if (schedule_path) {
        /* the whole schedule is checked before anything is packed: every
         * problem is printed, and nothing is written */
        int sst = ev_schedule_new(&sched, NULL);
        if (sst == EV_OK)
            sst = ev_schedule_read_file(sched, schedule_path);
        if (sst == EV_EFORMAT) {
            for (size_t i = 0; i < ev_schedule_problem_count(sched); i++)
                cli_error("%s", ev_schedule_problem(sched, i));
            cli_error("the schedule '%s' has %zu problem(s): nothing was written to '%s'",
                      schedule_path, ev_schedule_problem_count(sched), out);
            rc = CLI_EXIT_INPUT;
            goto done;
        }
        if (sst != EV_OK) {
            cli_error("%s", sched ? ev_schedule_last_error(sched) : ev_strerror(sst));
            cli_error("nothing was written to '%s'", out);
            rc = sst == EV_ENOMEM ? CLI_EXIT_INTERNAL : CLI_EXIT_INPUT;
            goto done;
        }
        for (size_t i = 0; i < ev_schedule_warning_count(sched); i++)
            cli_warning("%s", ev_schedule_warning(sched, i));
    }
    pack_totals totals = { false, 0, 0 };
    o.progress_cb = pack_progress;
    o.progress_payload = &totals;
    o.log_cb = cli_log;
    ev_writer *w = NULL;
    int st = ev_writer_new(&w, &o);
    if (st != EV_OK) {
        cli_error("cannot start packing: %s", ev_strerror(st));
        rc = cli_exit_for_status(st);
        goto done;
    }
    if (nprof) {
        st = ev_profile_catalog_new(&cat);
        if (st == EV_OK)
            st = cli_profile_search_path(cat, pdirs, npdirs);
        for (size_t i = 0; i < nprof && st == EV_OK; i++) {
            const ev_profile *pr = NULL;
            st = ev_profile_catalog_find(&pr, cat, profiles[i]);
            if (st != EV_OK) {
                cli_error("%s", ev_profile_catalog_last_error(cat));
                ev_writer_free(w);
                rc = st == EV_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_INPUT;
                goto done;
            }
            st = ev_writer_add_profile(w, pr);
        }
    }
    if (sched && st == EV_OK)
        st = ev_writer_add_schedule(w, sched);
    for (size_t i = 0; i < npaths && st == EV_OK; i++)
        st = ev_writer_add(w, paths[i], exhibits[i]);
    if (st == EV_OK)
        st = ev_writer_seal(w, out);
    if (st != EV_OK) {
        if (!(st == EV_ECANCELED && cli_interrupted))
            cli_error("%s", ev_writer_last_error(w));
        if (st == EV_ECANCELED || cli_interrupted)
            cli_error("interrupted: nothing was written to '%s'", out);
        else if (st != EV_EEXISTS)
            cli_error("nothing was written to '%s'", out);
        rc = cli_interrupted ? CLI_EXIT_INTERRUPTED
             : (st == EV_ENOTFOUND || st == EV_EFORMAT) ? CLI_EXIT_INPUT
             : cli_exit_for_status(st);
        ev_writer_free(w);
        goto done;
    }
    ev_writer_free(w);
    if (!json && totals.complete) {
        /* the summary from what the writer counted */
        cli_progress_end();
        print_summary(out, o.format == EV_FORMAT_ZIP, &totals);
        if (totals.files >= 100000) {
            ev_bundle *big = open_own(out);
            if (big)
                warn_limits(out, big);
            ev_bundle_free(big);
        }
        goto done;
    }
    /* the inspection document (--json), or a summary from the finished
     * bundle when the writer sent no complete count */
    ev_bundle *b = open_own(out);
    if (b && ev_bundle_item_count(b) >= 100000)
        warn_limits(out, b);
    if (b) {
        if (json) {
            char *s = NULL;
            if (ev_bundle_inspect_json(&s, b) == EV_OK) {
                cli_write_stdout(s);
                ev_free(s);
            }
        } else {
            cli_progress_end();
            uint64_t bytes = 0;
            for (size_t i = 0; i < ev_bundle_item_count(b); i++)
                bytes += ev_bundle_item(b, i)->size;
            printf("packed %zu item(s), %llu bytes, into %s (bag '%s')\n",
                   ev_bundle_item_count(b), (unsigned long long)bytes, out, ev_bundle_name(b));
        }
    }
    ev_bundle_free(b);
done:
    ev_schedule_free(sched);
    ev_profile_catalog_free(cat);
    free(paths);
    free(exhibits);
    free(profiles);
    free(pdirs);
    return rc;
}
