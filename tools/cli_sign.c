/* Signature checks for 'evidence verify', and helpers for sign / timestamp. */
#include "cli_sign.h"

#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

/* ---- evidence verify --------------------------------------------------------------- */

static const char *severity_name(ev_severity s)
{
    return s == EV_SEVERITY_ERROR ? "error" : s == EV_SEVERITY_WARNING ? "warning" : "note";
}

static bool is_p7s(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && strcmp(path + n - 4, ".p7s") == 0;
}

static void print_result(const ev_sig_result *r)
{
    const char *v = ev_sig_verdict_name(r->verdict);
    if (is_p7s(r->path))
        printf("signature %s (custody events 1-%llu): %s\n", r->path,
               (unsigned long long)r->events,
               r->verdict == EV_SIG_VALID       ? "valid"
               : r->verdict == EV_SIG_UNVERIFIED ? "unverified (matches the log; no --ca given)"
               : r->verdict == EV_SIG_INVALID    ? "INVALID"
                                                 : "UNREADABLE");
    else
        printf("signature file %s: %s\n", r->path,
               r->verdict == EV_SIG_UNVERIFIED ? "ignored" : v);
    if (r->signer)
        printf("    signer:    %s\n", r->signer);
    if (r->signing_time)
        printf("    signed:    %s (claimed by the signer)\n", r->signing_time);
    if (r->tsa_time)
        printf("    timestamp: %s by %s (%s)\n", r->tsa_time, r->tsa ? r->tsa : "?",
               r->tsa_verified ? "verified" : "not verified");
    else if (is_p7s(r->path))
        printf("    timestamp: none\n");
    for (size_t k = 0; k < r->problem_count; k++) {
        const ev_sig_problem *p = &r->problems[k];
        printf("    %s: [%s] %s\n", severity_name(p->severity), p->code, p->message);
    }
}

/* The exit code of a part's proofs: 1 unless proven or unverified. */
static int disclosure_code(const char *dj)
{
    json_t *d = json_loads(dj, 0, NULL);
    const char *v = json_string_value(json_object_get(d, "verdict"));
    int code = v && (!strcmp(v, "proven") || !strcmp(v, "unverified")) ? CLI_EXIT_OK
                                                                       : CLI_EXIT_FAILED;
    json_decref(d);
    return code;
}

/* "disclosure: 3 of 400 items of bundle urn:uuid:..., signed by ... at ...;
 * 397 withheld: proven", then each signature and problem. */
static void print_disclosure(const char *dj)
{
    json_t *d = json_loads(dj, 0, NULL);
    if (!d)
        return;
    const char *v = json_string_value(json_object_get(d, "verdict"));
    const char *by = json_string_value(json_object_get(d, "signed_by"));
    const char *at = json_string_value(json_object_get(d, "signed_at"));
    const char *id = json_string_value(json_object_get(d, "bundle_id"));
    json_int_t k = json_integer_value(json_object_get(d, "disclosed"));
    json_int_t n = json_integer_value(json_object_get(d, "items"));
    json_int_t w = json_integer_value(json_object_get(d, "withheld"));
    if (by)
        printf("disclosure: %lld of %lld items of bundle %s, signed by %s at %s; %lld withheld: "
               "%s\n", (long long)k, (long long)n, id ? id : "?", by, at ? at : "?",
               (long long)w, v ? v : "?");
    else
        printf("disclosure: %lld of %lld items of bundle %s, not proven by any signature; %lld "
               "withheld: %s\n", (long long)k, (long long)n, id ? id : "?", (long long)w,
               v ? v : "?");
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(d, "signatures"), i, x) {
        printf("  original's signature %s: %s\n", json_string_value(json_object_get(x, "path")),
               json_string_value(json_object_get(x, "verdict")));
        size_t j;
        json_t *p;
        json_array_foreach(json_object_get(x, "problems"), j, p)
            printf("    %s: [%s] %s\n", json_string_value(json_object_get(p, "severity")),
                   json_string_value(json_object_get(p, "code")),
                   json_string_value(json_object_get(p, "message")));
    }
    json_array_foreach(json_object_get(d, "problems"), i, x)
        printf("  %s: [%s] %s\n", json_string_value(json_object_get(x, "severity")),
               json_string_value(json_object_get(x, "code")),
               json_string_value(json_object_get(x, "message")));
    if (v && !strcmp(v, "unverified"))
        printf("  the original's signatures were not checked against trust anchors: give --ca "
               "ROOTS.pem (and --tsa-ca TSA_ROOTS.pem)\n");
    json_decref(d);
}

int cli_verify_signatures(ev_report *r, ev_bundle *b, const cli_trust_args *args, bool json)
{
    ev_trust *t = NULL;
    int st = ev_trust_new(&t, NULL);
    if (st != EV_OK) {
        cli_error("cannot check signatures: %s", ev_strerror(st));
        return CLI_EXIT_INTERNAL;
    }
    struct {
        const char *path;
        int (*add)(ev_trust *, const char *);
        const char *opt;
    } files[] = { { args ? args->ca : NULL, ev_trust_add_ca, "--ca" },
                  { args ? args->tsa_ca : NULL, ev_trust_add_tsa_ca, "--tsa-ca" },
                  { args ? args->crl : NULL, ev_trust_add_crl, "--crl" } };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (!files[i].path)
            continue;
        st = files[i].add(t, files[i].path);
        if (st != EV_OK) {
            cli_error("%s: %s", files[i].opt, ev_trust_last_error(t));
            ev_trust_free(t);
            int code = cli_exit_for_status(st);
            return code == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : code;
        }
    }
    ev_sig_report *rep = NULL;
    st = ev_sign_verify(&rep, t, b);
    if (st != EV_OK) {
        cli_error("cannot check the signatures: %s", ev_trust_last_error(t));
        ev_trust_free(t);
        return cli_exit_for_status(st);
    }
    size_t n = ev_sig_report_count(rep), present = 0;
    bool trusted = ev_sig_report_trusted(rep);
    for (size_t i = 0; i < n; i++) {
        const ev_sig_result *res = ev_sig_report_result(rep, i);
        if (is_p7s(res->path))
            present++;
        if (!json)
            print_result(res);
    }
    ev_sig_verdict v = ev_sig_report_verdict(rep);
    int code;
    switch (v) {
    case EV_SIG_VALID:
        code = CLI_EXIT_OK;
        break;
    case EV_SIG_UNVERIFIED:
        code = CLI_SIGN_UNVERIFIED;
        break;
    default: /* a damaged signature inside the bundle fails verification */
        code = CLI_EXIT_FAILED;
        break;
    }
    if (!json && present > 0 && !trusted)
        printf("%zu signature(s) present, not verified: give --ca ROOTS.pem (and --tsa-ca "
               "TSA_ROOTS.pem) to check who signed and when\n", present);
    bool say_none = !json && present == 0 && trusted; /* said below, once we know
                                                        * whether this is a part */
    /* the report's verdict and JSON now cover the signatures */
    st = ev_report_add_signatures(r, rep);
    ev_sig_report_free(rep);
    if (st != EV_OK) {
        ev_trust_free(t);
        cli_error("cannot report the signatures: %s", ev_strerror(st));
        return CLI_EXIT_INTERNAL;
    }
    /* a part of a bundle: its proofs to the original's signatures */
    char *dj = NULL;
    st = ev_disclosure_verify(&dj, t, b);
    ev_trust_free(t);
    if (st == EV_ENOTFOUND) {
        if (say_none)
            printf("no signatures in this bundle (--ca given, nothing to check)\n");
        return code;
    }
    if (say_none && st == EV_OK)
        printf("the part has no signature of its own; the original's are checked below\n");
    if (st == EV_OK)
        st = ev_report_add_disclosure(r, dj);
    if (st == EV_OK && !json)
        print_disclosure(dj);
    int dcode = st != EV_OK ? CLI_EXIT_INTERNAL : disclosure_code(dj);
    ev_free(dj);
    if (st != EV_OK)
        cli_error("cannot check the part's proofs: %s", ev_strerror(st));
    return cli_worst(code, dcode);
}

/* ---- passphrases ------------------------------------------------------------------------ */

static int read_line_from(int fd, char *buf, size_t size)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || c == '\n')
            break;
        if (n < size)
            buf[n++] = c;
        else
            return -1;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    return (int)n;
}

int cli_passphrase_cb(char *buf, size_t size, const char *what, void *payload)
{
    cli_passphrase *pp = payload;
    if (pp->file) {
        int fd = open(pp->file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            cli_error("cannot read the passphrase file '%s': %s", pp->file, strerror(errno));
            pp->failed = true;
            return -1;
        }
        int n = read_line_from(fd, buf, size);
        close(fd);
        if (n < 0) {
            cli_error("the passphrase in '%s' is too long", pp->file);
            pp->failed = true;
        }
        return n;
    }
    /* Only on a terminal, with echo off. */
    int tty = isatty(STDIN_FILENO) ? open("/dev/tty", O_RDWR | O_CLOEXEC) : -1;
    if (tty < 0) {
        pp->no_terminal = true;
        return -1;
    }
    struct termios old, quiet;
    bool restore = tcgetattr(tty, &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(tty, TCSAFLUSH, &quiet);
    }
    dprintf(tty, "Passphrase for %s: ", what ? what : "the key");
    int n = read_line_from(tty, buf, size);
    dprintf(tty, "\n");
    if (restore)
        tcsetattr(tty, TCSAFLUSH, &old);
    close(tty);
    return n;
}

/* Parse --tsa-timeout: whole seconds, 1..3600. */
int cli_sign_parse_timeout(const char *cmd, const char *arg, unsigned int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || !end || *end || end == arg || v < 1 || v > 3600)
        return cli_usage_error(cmd, "--tsa-timeout takes whole seconds from 1 to 3600, not '%s'",
                               arg);
    *out = (unsigned int)v;
    return 0;
}

/* ---- files ---------------------------------------------------------------------------------- */

int cli_read_small_file(uint8_t **out, size_t *len, const char *path, size_t max,
                        const char *what)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("cannot open the %s '%s': %s", what, path, strerror(errno));
        return CLI_EXIT_INPUT;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if (cap > max) {
                cli_error("the %s '%s' is too big (over %zu bytes)", what, path, max);
                free(buf);
                fclose(f);
                return CLI_EXIT_INPUT;
            }
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    bool err = ferror(f);
    fclose(f);
    if (!buf) {
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    if (err || n > max) {
        cli_error(err ? "cannot read the %s '%s'" : "the %s '%s' is too big", what, path);
        free(buf);
        return CLI_EXIT_INPUT;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* the library's one way of writing an output (docs/architecture.md,
 * "Publishing outputs") */
int cli_write_file_atomic(const char *path, const uint8_t *data, size_t len)
{
    char *msg = NULL;
    int rc = ev_write_file_atomic(path, data, len, 1, &msg);
    if (rc != EV_OK) {
        cli_error("%s", msg ? msg : ev_strerror(rc));
        ev_free(msg);
        return CLI_EXIT_INTERNAL;
    }
    return 0;
}
