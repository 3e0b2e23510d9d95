#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t cli_interrupted = 0;
bool cli_quiet = false;
cli_progress_mode cli_progress_how = CLI_PROGRESS_AUTO;

/* the progress line drawn on the terminal, not yet ended */
static bool progress_open = false;
static struct timespec progress_t0;

void cli_progress_end(void)
{
    if (progress_open) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        progress_open = false;
    }
}

static void vmsg(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
    cli_progress_end();
    fputs("evidence: ", stderr);
    if (prefix)
        fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(NULL, fmt, ap);
    va_end(ap);
}

void cli_warning(const char *fmt, ...)
{
    if (cli_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vmsg("warning: ", fmt, ap);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(NULL, fmt, ap);
    va_end(ap);
    fprintf(stderr, "See 'evidence help %s'.\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_parse_limit(const char *cmd, const char *opt, const char *arg, bool sizes,
                    uint64_t *out)
{
    uint64_t v = 0;
    const char *q = arg;
    bool big = false;
    for (; *q >= '0' && *q <= '9'; q++) {
        unsigned d = (unsigned)(*q - '0');
        if (v > (UINT64_MAX - d) / 10)
            big = true;
        else
            v = v * 10 + d;
    }
    unsigned shift = 0;
    if (sizes && q > arg && *q && !q[1]) {
        static const char units[] = "KMGTkmgt";
        const char *u = strchr(units, *q);
        if (u) {
            shift = 10u * (unsigned)((u - units) % 4 + 1);
            q++;
        }
    }
    if (q == arg || *q || v == 0 || big || (shift && v > UINT64_MAX >> shift)) {
        if (sizes)
            return cli_usage_error(cmd, "%s takes a size in bytes from 1 to %llu, or with K, M, "
                                   "G or T (KiB, MiB, GiB, TiB), not '%s'", opt,
                                   (unsigned long long)UINT64_MAX, arg);
        return cli_usage_error(cmd, "%s takes a whole number from 1 to %llu, not '%s'", opt,
                               (unsigned long long)UINT64_MAX, arg);
    }
    *out = v << shift;
    return 0;
}

int cli_exit_for_status(int status)
{
    switch (status) {
    case EV_OK:
        return CLI_EXIT_OK;
    case EV_EINVAL:
        return CLI_EXIT_USAGE;
    case EV_ENOTFOUND:
    case EV_EFORMAT:
    case EV_EUNSUPPORTED:
    case EV_EUNSAFE:
        return CLI_EXIT_INPUT;
    case EV_ECANCELED:
        return CLI_EXIT_INTERRUPTED;
    case EV_EIO:
    case EV_EEXISTS:
    case EV_ENOMEM:
    default:
        return CLI_EXIT_INTERNAL;
    }
}

#ifndef EV_INSTALL_DATADIR
#define EV_INSTALL_DATADIR "/usr/local/share"
#endif

int cli_profile_search_path(ev_profile_catalog *c, const char *const *dirs, size_t n_dirs)
{
    for (size_t i = 0; i < n_dirs; i++) {
        int st = ev_profile_catalog_add_dir(c, dirs[i]);
        if (st != EV_OK)
            return st;
    }
    const char *env = getenv("EVIDENCE_PROFILE_PATH");
    if (env && *env) {
        int st = ev_profile_catalog_add_path_list(c, env);
        if (st != EV_OK)
            return st;
    }
    return ev_profile_catalog_add_default_dirs(c, NULL, EV_INSTALL_DATADIR "/evidence/profiles");
}

int cli_exit_for_verdict(ev_verdict v)
{
    switch (v) {
    case EV_VERDICT_VALID:
        return CLI_EXIT_OK;
    case EV_VERDICT_INVALID:
        return CLI_EXIT_FAILED;
    case EV_VERDICT_UNREADABLE:
    default:
        return CLI_EXIT_INPUT;
    }
}

static int rank(int code)
{
    switch (code) {
    case CLI_EXIT_INTERRUPTED: return 5;
    case CLI_EXIT_INTERNAL: return 4;
    case CLI_EXIT_INPUT: return 3;
    case CLI_EXIT_USAGE: return 2;
    case CLI_EXIT_FAILED: return 1;
    default: return 0;
    }
}

int cli_worst(int a, int b)
{
    return rank(a) >= rank(b) ? a : b;
}

static double since_start(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (progress_t0.tv_sec == 0 && progress_t0.tv_nsec == 0)
        progress_t0 = now;
    return (double)(now.tv_sec - progress_t0.tv_sec) +
           (double)(now.tv_nsec - progress_t0.tv_nsec) / 1e9;
}

static void human_bytes(char *out, size_t len, double b)
{
    static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
    int u = 0;
    while (b >= 1000.0 && u < 4) {
        b /= 1000.0;
        u++;
    }
    snprintf(out, len, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

static void human_secs(char *out, size_t len, double s)
{
    if (s < 60)
        snprintf(out, len, "%.0f s", s);
    else if (s < 3600)
        snprintf(out, len, "%d min %02d s", (int)(s / 60), (int)s % 60);
    else
        snprintf(out, len, "%d h %02d min", (int)(s / 3600), (int)(s / 60) % 60);
}

int cli_progress(const ev_progress *p, void *payload)
{
    (void)payload;
    if (cli_interrupted)
        return 1;
    double t = since_start();
    if (cli_progress_how == CLI_PROGRESS_JSON) {
        /* one JSON object per line on stderr, for a calling program */
        fprintf(stderr,
                "{\"event\":\"progress\",\"stage\":\"%s\",\"files_done\":%llu,"
                "\"files_total\":%llu,\"bytes_done\":%llu,\"bytes_total\":%llu,"
                "\"elapsed_s\":%.3f}\n",
                p->stage ? p->stage : "", (unsigned long long)p->files_done,
                (unsigned long long)p->files_total, (unsigned long long)p->bytes_done,
                (unsigned long long)p->bytes_total, t);
        fflush(stderr);
        return 0;
    }
    if (cli_quiet || cli_progress_how == CLI_PROGRESS_NONE || !isatty(STDERR_FILENO))
        return 0;
    char rate[32] = "", el[32], eta[48] = "";
    human_secs(el, sizeof(el), t);
    /* rates and time left are of the current stage: a stage that follows
     * a long one must not be measured from the start of the command */
    static char stage[64];
    static double stage_t0;
    if (p->stage && strncmp(stage, p->stage, sizeof(stage) - 1) != 0) {
        snprintf(stage, sizeof(stage), "%s", p->stage);
        stage_t0 = t;
    }
    double st = t - stage_t0;
    if (st > 0.5 && p->bytes_done) {
        double r = (double)p->bytes_done / st;
        human_bytes(rate, sizeof(rate), r);
        snprintf(rate + strlen(rate), sizeof(rate) - strlen(rate), "/s, ");
        if (p->bytes_total > p->bytes_done) {
            char left[32];
            human_secs(left, sizeof(left), (double)(p->bytes_total - p->bytes_done) / r);
            snprintf(eta, sizeof(eta), ", about %s left", left);
        }
    }
    if (p->bytes_total)
        fprintf(stderr, "\r%s: %3.0f%% (%llu/%llu files), %s%s elapsed%s\033[K", p->stage,
                100.0 * (double)p->bytes_done / (double)p->bytes_total,
                (unsigned long long)p->files_done, (unsigned long long)p->files_total, rate,
                el, eta);
    else if (p->files_total) {
        /* a stage that counts files only (content types, media analysis):
         * the rate and the time left in files */
        if (st > 0.5 && p->files_done) {
            double r = (double)p->files_done / st;
            snprintf(rate, sizeof(rate), "%.0f files/s, ", r);
            if (p->files_total > p->files_done) {
                char left[32];
                human_secs(left, sizeof(left), (double)(p->files_total - p->files_done) / r);
                snprintf(eta, sizeof(eta), ", about %s left", left);
            }
        }
        fprintf(stderr, "\r%s: %3.0f%% (%llu/%llu files), %s%s elapsed%s\033[K", p->stage,
                100.0 * (double)p->files_done / (double)p->files_total,
                (unsigned long long)p->files_done, (unsigned long long)p->files_total, rate, el,
                eta);
    } else
        fprintf(stderr, "\r%s: %llu files, %s elapsed\033[K", p->stage,
                (unsigned long long)p->files_done, el);
    fflush(stderr);
    progress_open = true;
    /* the line is erased when done, or before anything else is printed */
    if (p->bytes_total && p->bytes_done >= p->bytes_total && p->files_done >= p->files_total)
        cli_progress_end();
    return 0;
}

void cli_log(ev_log_level level, const char *msg, void *payload)
{
    (void)payload;
    if (level == EV_LOG_ERROR)
        cli_error("%s", msg);
    else if (level == EV_LOG_WARNING)
        cli_warning("%s", msg);
}

void cli_parser_init(cli_parser *p, const char *cmd, int argc, char **argv)
{
    p->argc = argc;
    p->argv = argv;
    p->i = 1;
    p->only_positional = false;
    p->cmd = cmd;
}

int cli_next(cli_parser *p, const cli_opt *opts, const char **arg)
{
    *arg = NULL;
    while (p->i < p->argc) {
        char *a = p->argv[p->i++];
        if (p->only_positional || a[0] != '-' || a[1] == '\0') {
            *arg = a;
            return -1;
        }
        if (strcmp(a, "--") == 0) {
            p->only_positional = true;
            continue;
        }
        const char *eq = NULL;
        size_t nlen = strlen(a);
        if (a[1] == '-' && (eq = strchr(a, '=')) != NULL)
            nlen = (size_t)(eq - a);
        for (int k = 0; opts[k].name; k++) {
            bool match = (strlen(opts[k].name) == nlen && strncmp(opts[k].name, a, nlen) == 0) ||
                         (opts[k].alias && !eq && strcmp(opts[k].alias, a) == 0);
            if (!match)
                continue;
            if (opts[k].takes_value) {
                if (eq) {
                    *arg = eq + 1;
                } else if (p->i < p->argc) {
                    *arg = p->argv[p->i++];
                } else {
                    cli_usage_error(p->cmd, "option '%s' needs a value", opts[k].name);
                    return -3;
                }
            } else if (eq) {
                cli_usage_error(p->cmd, "option '%.*s' takes no value", (int)nlen, a);
                return -3;
            }
            return k;
        }
        cli_usage_error(p->cmd, "unknown option '%s' for '%s'", a, p->cmd);
        return -3;
    }
    return -2;
}

int cli_parse_json_path(const char *cmd, const char *usage, const char *what, int argc,
                        char **argv, bool *json, const char **path)
{
    static const cli_opt opts[] = { { "--json", NULL, false }, { NULL, NULL, false } };
    *json = false;
    *path = NULL;
    cli_parser p;
    cli_parser_init(&p, cmd, argc, argv);
    const char *arg;
    int k;
    while ((k = cli_next(&p, opts, &arg)) != -2) {
        if (k == -3)
            return CLI_EXIT_USAGE;
        if (k == -1) {
            if (*path)
                return cli_usage_error(cmd, "one %s at a time ('%s' and '%s'); usage: %s", what,
                                       *path, arg, usage);
            *path = arg;
        } else {
            *json = true;
        }
    }
    if (!*path)
        return cli_usage_error(cmd, "usage: %s", usage);
    return 0;
}

int cli_open_bundle(ev_bundle **out, const char *path, bool progress)
{
    ev_bundle_options bo;
    ev_bundle_options_init(&bo, EV_BUNDLE_OPTIONS_VERSION);
    if (progress)
        bo.progress_cb = cli_progress;
    ev_bundle *b = NULL;
    int st = ev_bundle_new(&b, &bo);
    if (st == EV_OK)
        st = ev_bundle_open(b, path);
    if (st == EV_OK) {
        *out = b;
        return CLI_EXIT_OK;
    }
    cli_error("%s", b ? ev_bundle_last_error(b) : ev_strerror(st));
    ev_bundle_free(b);
    *out = NULL;
    int code = cli_exit_for_status(st);
    return code == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : code;
}

int cli_write_stdout(const char *s)
{
    cli_progress_end();
    if (fputs(s, stdout) == EOF || fflush(stdout) == EOF) {
        cli_error("cannot write to standard output");
        return -1;
    }
    return 0;
}

typedef struct cli_help_entry {
    const char *name;
    const char *text;
} cli_help_entry;

static const cli_help_entry help_texts[] = {
#include "cli_help.inc"
    { NULL, NULL }
};

const char *cli_summary(const char *cmd, size_t *len)
{
    for (const cli_help_entry *h = help_texts; h->name; h++) {
        if (strcmp(h->name, cmd) != 0)
            continue;
        /* first line: "evidence <cmd> - <summary>" */
        const char *dash = strstr(h->text, " - ");
        const char *nl = strchr(h->text, '\n');
        if (!dash || (nl && dash > nl))
            break;
        *len = nl ? (size_t)(nl - dash - 3) : strlen(dash + 3);
        return dash + 3;
    }
    *len = 0;
    return "";
}

int cli_help(const char *cmd)
{
    for (const cli_help_entry *h = help_texts; h->name; h++) {
        if (strcmp(h->name, cmd) == 0) {
            fputs(h->text, stdout);
            return CLI_EXIT_OK;
        }
    }
    printf("evidence %s: no help text (docs/cli/evidence-%s.md is missing)\n", cmd, cmd);
    return CLI_EXIT_OK;
}
