/* evidence verify: check bundles (any RFC 8493 bag) and report every problem. */
#include "cli.h"
#include "cli_sign.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *sev(ev_severity s)
{
    return s == EV_SEVERITY_ERROR ? "error" : s == EV_SEVERITY_WARNING ? "warning" : "note";
}

/* One bundle, in two phases: open and verify (the work; several bundles may
 * be at it at once, --jobs), then signatures and output, one bundle at a
 * time under the output lock, so that nothing interleaves. */
typedef struct vjob {
    const char *path;
    ev_bundle *b;
    ev_report *r;
    int st;          /* of open/verify */
    char *msg;       /* the error message when st != EV_OK */
    int code;        /* exit code of this bundle */
    const char *verdict;
} vjob;

/* The --json documents, one text per bundle in the order they finish. */
typedef struct doclist {
    char **v;
    size_t n, cap;
} doclist;

typedef struct vctx {
    uint32_t flags;
    bool json, lines, progress;
    const cli_trust_args *trust;
    uint64_t max_entries, max_items, max_record_size; /* 0: the library's defaults */
    doclist all;     /* --json: the documents, for one document at the end */
    pthread_mutex_t out;
    size_t next, n, done;
    vjob *jobs;
    size_t counts[3]; /* valid, invalid, unreadable */
} vctx;

static void verify_work(vctx *c, vjob *j)
{
    ev_bundle_options bo;
    ev_bundle_options_init(&bo, EV_BUNDLE_OPTIONS_VERSION);
    if (c->progress)
        bo.progress_cb = cli_progress;
    bo.max_entries = c->max_entries;
    bo.max_items = c->max_items;
    bo.max_record_size = c->max_record_size;
    j->st = ev_bundle_new(&j->b, &bo);
    if (j->st == EV_OK)
        j->st = ev_bundle_open(j->b, j->path);
    if (j->st == EV_OK) {
        ev_verify_options vo = EV_VERIFY_OPTIONS_INIT;
        vo.flags = c->flags;
        j->st = ev_bundle_verify(&j->r, j->b, &vo);
    }
    if (j->st == EV_ECANCELED && cli_interrupted) {
        size_t n = strlen(j->path) + 80;
        if ((j->msg = malloc(n)) != NULL)
            snprintf(j->msg, n, "interrupted: '%s' was not checked to the end, so it has no "
                     "verdict", j->path);
    } else if (j->st != EV_OK) {
        j->msg = strdup(j->b ? ev_bundle_last_error(j->b) : ev_strerror(j->st));
    }
}

/* One bundle's document (text ending in a newline; taken over): a line
 * now with --json-lines, else kept for the one document at the end. */
static void emit(vctx *c, char *doc)
{
    if (!doc)
        return;
    if (c->lines) {
        cli_write_stdout(doc);
        free(doc);
        return;
    }
    if (c->all.n == c->all.cap) {
        size_t cap = c->all.cap ? c->all.cap * 2 : 16;
        char **v = realloc(c->all.v, cap * sizeof(*v));
        if (!v) {
            cli_error("out of memory");
            free(doc);
            return;
        }
        c->all.v = v;
        c->all.cap = cap;
    }
    c->all.v[c->all.n++] = doc;
}

/* A document made here (a bundle that could not be opened), laid out as the
 * library lays out its reports (ev_report_json_ext). */
static char *dump_doc(const vctx *c, json_t *o)
{
    char *s = json_dumps(o, (c->lines ? JSON_COMPACT : JSON_INDENT(2)) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    return t;
}

/* --json with several bundles: {"format": "evidence.verify-many",
 * "format_version": 1, "bundles": [...]}, indented by two spaces like each
 * document. The documents are placed as they are, one level deeper: a raw
 * newline in the text of a JSON document is only ever layout (newlines in
 * strings are escaped), so each becomes a newline plus four spaces. */
static int write_many(const doclist *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -1;
    fputs("{\n  \"format\": \"evidence.verify-many\",\n  \"format_version\": 1,\n"
          "  \"bundles\": [", f);
    for (size_t i = 0; i < d->n; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        for (const char *p = d->v[i]; *p; p++) {
            if (*p != '\n')
                fputc(*p, f);
            else if (p[1])
                fputs("\n    ", f);
        }
    }
    fputs(d->n ? "\n  ]\n}\n" : "]\n}\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return -1;
    }
    int rc = cli_write_stdout(buf);
    free(buf);
    return rc;
}

static const char *verdict_word(ev_verdict v)
{
    return v == EV_VERDICT_VALID ? "valid" : v == EV_VERDICT_INVALID ? "invalid" : "unreadable";
}

/* Phase two; the caller holds c->out. */
static void verify_report(vctx *c, vjob *j)
{
    bool json = c->json || c->lines;
    if (j->st != EV_OK) {
        /* could not be opened or read: one document all the same */
        cli_error("%s", j->msg ? j->msg : ev_strerror(j->st));
        int code = cli_exit_for_status(j->st);
        j->code = code == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : code;
        j->verdict = j->code == CLI_EXIT_INPUT ? "unreadable" : "error";
        if (json) {
            json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:b, s:{s:s, s:s}}", "format",
                                  "evidence.verify", "format_version", (json_int_t)1, "bundle",
                                  j->path, "verdict", j->verdict, "valid", 0, "error", "code",
                                  ev_status_name(j->st), "message",
                                  j->msg ? j->msg : ev_strerror(j->st));
            if (o)
                emit(c, dump_doc(c, o));
        }
        return;
    }
    ev_report *r = j->r;
    /* the bag's own verdict, to tell a failed signature apart in the
     * text summary line */
    ev_verdict v = ev_report_verdict(r);
    if (!json)
        cli_progress_end();
    /* from here on the report's verdict and JSON cover the signatures too */
    int code = cli_verify_signatures(r, j->b, c->trust, json);
    code = cli_worst(cli_exit_for_verdict(ev_report_verdict(r)), code);
    j->verdict = verdict_word(ev_report_verdict(r));
    if (json) {
        char *s = NULL;
        if (ev_report_json_ext(&s, r, c->lines ? EV_JSON_COMPACT : 0) == EV_OK) {
            emit(c, strdup(s));
            ev_free(s);
        }
    } else {
        size_t nerr = 0, nwarn = 0;
        for (size_t i = 0; i < ev_report_problem_count(r); i++) {
            const ev_problem *p = ev_report_problem(r, i);
            if (p->severity == EV_SEVERITY_ERROR)
                nerr++;
            else if (p->severity == EV_SEVERITY_WARNING)
                nwarn++;
            printf("%s: %s: [%s] %s\n", j->path, sev(p->severity), p->code, p->message);
        }
        size_t nfiles = ev_report_file_count(r);
        /* the verdict covers the signatures; when only they failed, say so,
         * so that the line never reads "valid" for a bundle that exits 1 */
        ev_verdict all = ev_report_verdict(r);
        const char *verdict = all == EV_VERDICT_VALID ? "valid" : all == EV_VERDICT_INVALID
                                                                      ? "INVALID" : "UNREADABLE";
        printf("%s: %s (%zu files checked%s, %zu error(s), %zu warning(s)%s)\n", j->path,
               verdict, nfiles, (c->flags & EV_VERIFY_FAST) ? ", fast: sizes and lists only" : "",
               nerr, nwarn,
               v == EV_VERDICT_VALID && all != EV_VERDICT_VALID
                   ? "; the bag itself is intact, but a signature failed" : "");
        fflush(stdout);
    }
    j->code = code;
}

static void finish_job(vctx *c, vjob *j)
{
    verify_report(c, j);
    c->counts[!strcmp(j->verdict, "valid") ? 0 : !strcmp(j->verdict, "invalid") ? 1 : 2]++;
    c->done++;
    ev_report_free(j->r);
    ev_bundle_free(j->b);
    free(j->msg);
    j->r = NULL;
    j->b = NULL;
    j->msg = NULL;
}

static void *worker(void *arg)
{
    vctx *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->out);
        size_t i = c->next < c->n && !cli_interrupted ? c->next++ : c->n;
        pthread_mutex_unlock(&c->out);
        if (i >= c->n)
            return NULL;
        verify_work(c, &c->jobs[i]);
        pthread_mutex_lock(&c->out);
        finish_job(c, &c->jobs[i]);
        pthread_mutex_unlock(&c->out);
    }
}

/* ---- the bundles named: files, bag folders, and folders of bundles ---- */

typedef struct plist {
    char **v;
    size_t n, cap;
} plist;

static int plist_add(plist *l, const char *p)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(p)))
        return -1;
    l->n++;
    return 0;
}

/* A bag folder, or what is left of one: bagit.txt, or a data/ folder, or
 * a manifest or bag-info.txt (a bag that lost its bagit.txt is verified as
 * a bag, and says so; it is not searched for bundles). */
static bool is_bag_dir(const char *d)
{
    static const char *const marks[] = { "bagit.txt", "data", "bag-info.txt",
                                         "manifest-sha256.txt", "manifest-sha512.txt",
                                         "manifest-md5.txt", "manifest-sha1.txt" };
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
        char p[4200];
        struct stat st;
        int n = snprintf(p, sizeof(p), "%s/%s", d, marks[i]);
        if (n > 0 && (size_t)n < sizeof(p) && stat(p, &st) == 0)
            return true;
    }
    return false;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A folder that is not a bag: every *.zip and every bag folder below it, in
 * name order (bags are not entered). */
static int collect_dir(plist *out, const char *dir, int depth)
{
    if (depth > 32)
        return 0;
    DIR *d = opendir(dir);
    if (!d) {
        cli_error("cannot read folder '%s': %s", dir, strerror(errno));
        return -1;
    }
    plist names = { 0 };
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue; /* ., .., and hidden files such as .NAME.partial-* */
        if (plist_add(&names, de->d_name) != 0) {
            rc = -1;
            break;
        }
    }
    closedir(d);
    if (names.n)
        qsort(names.v, names.n, sizeof(*names.v), name_cmp);
    for (size_t i = 0; i < names.n && rc == 0; i++) {
        char p[4200];
        struct stat st;
        size_t dl = strlen(dir);
        while (dl > 0 && dir[dl - 1] == '/')
            dl--; /* 'batch/' gives batch/b.zip, not batch//b.zip */
        int pn = snprintf(p, sizeof(p), "%.*s/%s", (int)dl, dir, names.v[i]);
        if (pn <= 0 || (size_t)pn >= sizeof(p) || stat(p, &st) != 0)
            continue;
        size_t l = strlen(names.v[i]);
        if (S_ISDIR(st.st_mode))
            rc = is_bag_dir(p) ? plist_add(out, p) : collect_dir(out, p, depth + 1);
        else if (S_ISREG(st.st_mode) && l > 4 && strcasecmp(names.v[i] + l - 4, ".zip") == 0)
            rc = plist_add(out, p);
    }
    for (size_t i = 0; i < names.n; i++)
        free(names.v[i]);
    free(names.v);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    static const cli_opt opts[] = {
        { "--fast", NULL, false }, { "--deep", NULL, false }, { "--json", NULL, false },
        { "--ca", NULL, true },    { "--tsa-ca", NULL, true }, { "--crl", NULL, true },
        { "--jobs", "-j", true },  { "--json-lines", NULL, false },
        { "--max-entries", NULL, true }, { "--max-items", NULL, true },
        { "--max-record-size", NULL, true },
        { NULL, NULL, false }
    };
    vctx c;
    memset(&c, 0, sizeof(c));
    cli_trust_args trust = { NULL, NULL, NULL };
    c.trust = &trust;
    long jobs = 1;
    const char **args = calloc((size_t)argc, sizeof(*args));
    size_t nargs = 0;
    plist paths = { 0 };
    int code = CLI_EXIT_OK;
    if (!args)
        return CLI_EXIT_INTERNAL;
    cli_parser p;
    cli_parser_init(&p, "verify", argc, argv);
    const char *arg;
    int k;
    while ((k = cli_next(&p, opts, &arg)) != -2) {
        if (k == -3) {
            free(args);
            return CLI_EXIT_USAGE;
        }
        if (k == -1) {
            args[nargs++] = arg;
            continue;
        }
        const char *name = opts[k].name;
        if (!strcmp(name, "--fast")) c.flags |= EV_VERIFY_FAST;
        else if (!strcmp(name, "--deep")) c.flags |= EV_VERIFY_DEEP;
        else if (!strcmp(name, "--json")) c.json = true;
        else if (!strcmp(name, "--json-lines")) c.lines = true;
        else if (!strcmp(name, "--ca")) trust.ca = arg;
        else if (!strcmp(name, "--tsa-ca")) trust.tsa_ca = arg;
        else if (!strcmp(name, "--crl")) trust.crl = arg;
        else if (!strcmp(name, "--max-entries") || !strcmp(name, "--max-items") ||
                 !strcmp(name, "--max-record-size")) {
            bool size = !strcmp(name, "--max-record-size");
            uint64_t *to = size ? &c.max_record_size
                                : !strcmp(name, "--max-entries") ? &c.max_entries : &c.max_items;
            if (cli_parse_limit("verify", name, arg, size, to) != 0) {
                free(args);
                return CLI_EXIT_USAGE;
            }
        } else if (!strcmp(name, "--jobs")) {
            char *end = NULL;
            errno = 0;
            jobs = strtol(arg, &end, 10);
            if (errno || !end || *end || jobs < 1 || jobs > 256) {
                free(args);
                return cli_usage_error("verify", "--jobs takes a number from 1 to 256, not '%s'",
                                       arg);
            }
        }
    }
    if (nargs == 0) {
        free(args);
        return cli_usage_error("verify", "no bundle given");
    }
    if ((c.flags & EV_VERIFY_FAST) && (c.flags & EV_VERIFY_DEEP)) {
        free(args);
        return cli_usage_error("verify", "--fast and --deep cannot be combined");
    }
    if (c.json && c.lines) {
        free(args);
        return cli_usage_error("verify", "--json and --json-lines cannot be combined: --json "
                               "gives one document, --json-lines one line per bundle");
    }
    /* the bundles: each argument, or the bundles in a folder that is not a bag */
    for (size_t i = 0; i < nargs; i++) {
        struct stat st;
        if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode) && !is_bag_dir(args[i])) {
            size_t before = paths.n;
            if (collect_dir(&paths, args[i], 0) != 0) {
                code = cli_worst(code, CLI_EXIT_INPUT);
                continue;
            }
            /* no bundle in it: verify it as a bag, which says what it lacks */
            if (paths.n == before && plist_add(&paths, args[i]) != 0) {
                code = CLI_EXIT_INTERNAL;
                break;
            }
        } else if (plist_add(&paths, args[i]) != 0) {
            code = CLI_EXIT_INTERNAL;
            break;
        }
    }
    free(args);
    c.n = paths.n;
    c.jobs = calloc(c.n ? c.n : 1, sizeof(*c.jobs));
    if (!c.jobs || code == CLI_EXIT_INTERNAL) {
        code = CLI_EXIT_INTERNAL;
        goto done;
    }
    for (size_t i = 0; i < c.n; i++)
        c.jobs[i].path = paths.v[i];
    if ((size_t)jobs > c.n)
        jobs = c.n ? (long)c.n : 1;
    /* a progress line only for one bundle at a time */
    c.progress = jobs == 1;
    pthread_mutex_init(&c.out, NULL);
    if (jobs == 1) {
        worker(&c);
    } else {
        pthread_t *th = calloc((size_t)jobs, sizeof(*th));
        long started = 0;
        for (long i = 0; th && i < jobs; i++, started++)
            if (pthread_create(&th[i], NULL, worker, &c) != 0)
                break;
        if (started == 0)
            worker(&c); /* no thread could start: do the work here */
        for (long i = 0; i < started; i++)
            pthread_join(th[i], NULL);
        free(th);
    }
    pthread_mutex_destroy(&c.out);
    for (size_t i = 0; i < c.n; i++)
        code = cli_worst(code, c.jobs[i].verdict ? c.jobs[i].code : CLI_EXIT_INTERRUPTED);
    if (c.json) {
        if (c.n == 1 && c.all.n == 1)
            cli_write_stdout(c.all.v[0]);
        else if (write_many(&c.all) != 0)
            code = cli_worst(code, CLI_EXIT_INTERNAL);
    }
    if (c.n > 1 && !cli_quiet) {
        /* the summary: with JSON on stdout it goes to stderr */
        FILE *f = c.json || c.lines ? stderr : stdout;
        fprintf(f, "%s%zu bundle(s): %zu valid, %zu invalid, %zu unreadable or not checked\n",
                f == stderr ? "evidence: " : "", c.done, c.counts[0], c.counts[1], c.counts[2]);
    }
done:
    for (size_t i = 0; i < c.all.n; i++)
        free(c.all.v[i]);
    free(c.all.v);
    free(c.jobs);
    for (size_t i = 0; i < paths.n; i++)
        free(paths.v[i]);
    free(paths.v);
    if (cli_interrupted)
        return CLI_EXIT_INTERRUPTED;
    return code;
}
