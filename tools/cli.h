/*
 * Shared helpers for the evidence subcommands. The CLI uses only the public
 * API in <evidence/...>.
 */
#ifndef EVIDENCE_CLI_H
#define EVIDENCE_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include <evidence.h>

/* int cmd_<name>(int argc, char **argv) for every tools/cmd_<name>.c */
#define EV_CLI_COMMAND(n) int cmd_##n(int argc, char **argv);
#include "cli_commands.inc"
#undef EV_CLI_COMMAND

/* Exit codes: stable forever, see docs/cli/exit-codes.md. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILED 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_INPUT 3
#define CLI_EXIT_INTERNAL 4
#define CLI_EXIT_INTERRUPTED 130

/* Set by the SIGINT/SIGTERM handler; progress callbacks return nonzero. */
extern volatile sig_atomic_t cli_interrupted;
/* Global options (evidence.c): --quiet silences progress and warnings;
 * --progress=auto|json|none says how progress is shown on stderr (auto: a
 * line on a terminal, nothing otherwise; json: one JSON object per line). */
typedef enum cli_progress_mode {
    CLI_PROGRESS_AUTO,
    CLI_PROGRESS_JSON,
    CLI_PROGRESS_NONE
} cli_progress_mode;
extern bool cli_quiet;
extern cli_progress_mode cli_progress_how;
/* Erase a progress line left on the terminal (before printing a result). */
void cli_progress_end(void);

/* "evidence: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One usage line plus a hint, on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print the help text of a command (from docs/cli/evidence-<cmd>.md) on
 * stdout; returns CLI_EXIT_OK. */
/* The one-line summary of a command (first line of its help, after " - "),
 * not NUL-terminated: *len bytes. */
const char *cli_summary(const char *cmd, size_t *len);
int cli_help(const char *cmd);

/* Arguments of the form "[--json] PATH" (exactly one PATH). Returns 0 with
 * *json and *path set, or the exit code after printing the usage error.
 * what: the kind of PATH for the message ("bundle", "bundle or file"). */
int cli_parse_json_path(const char *cmd, const char *usage, const char *what, int argc,
                        char **argv, bool *json, const char **path);

/* The value of a limit option (opt, e.g. "--max-entries"): a whole number
 * from 1 to 2^64-1, digits only; with sizes, optionally followed by one of
 * K, M, G, T (or k, m, g, t): KiB, MiB, GiB, TiB. Returns 0 with *out set,
 * or CLI_EXIT_USAGE after a usage error that names the option and the value
 * (0, a sign, garbage, an unknown suffix, more than 2^64-1). */
int cli_parse_limit(const char *cmd, const char *opt, const char *arg, bool sizes,
                    uint64_t *out);

/* Map an ev_status to the exit code. */
int cli_exit_for_status(int status);

/* The profile search path, one for every command that takes --profile-dir
 * (pack, transcode, check, profiles): the --profile-dir folders in order,
 * then the folders in EVIDENCE_PROFILE_PATH, then the folders relative to
 * this binary, then the install prefix. Returns an ev_status. */
int cli_profile_search_path(ev_profile_catalog *c, const char *const *dirs, size_t n_dirs);

/* Map a report's verdict to the exit code: the one place where the
 * library's verdicts become exit codes (docs/cli/exit-codes.md). */
int cli_exit_for_verdict(ev_verdict v);

/* Worst of two exit codes by precedence 4 > 3 > 1 > 0 (130 wins). */
int cli_worst(int a, int b);

/* Progress callback printing to stderr, only when it is a terminal; also
 * returns nonzero when interrupted. payload is unused. */
int cli_progress(const ev_progress *p, void *payload);

/* Log callback: warnings and errors to stderr with the evidence: prefix. */
void cli_log(ev_log_level level, const char *msg, void *payload);

/* Simple long-option parser. Options are recognised anywhere before "--".
 * Returns the option index in opts, -1 for a positional argument (in *arg),
 * -2 at the end, -3 on an error (message already printed, exit 2). */
typedef struct cli_opt {
    const char *name;  /* "--output" */
    const char *alias; /* "-o" or NULL */
    bool takes_value;
} cli_opt;

typedef struct cli_parser {
    int argc;
    char **argv;
    int i;
    bool only_positional;
    const char *cmd;
} cli_parser;

void cli_parser_init(cli_parser *p, const char *cmd, int argc, char **argv);
int cli_next(cli_parser *p, const cli_opt *opts, const char **arg);

/* Open a bundle (ZIP or folder); on failure print the reason and return
 * the exit code (3 for bad input, 4 for internal), with *out NULL. With
 * progress, the handle reports progress on a terminal. */
int cli_open_bundle(ev_bundle **out, const char *path, bool progress);

/* Write a string to stdout, checking for errors. Returns 0 or -1. */
int cli_write_stdout(const char *s);

#endif
