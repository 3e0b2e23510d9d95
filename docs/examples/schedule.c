/*
 * Check an exhibit schedule with libevidence and print it as a document,
 * as CSV or as a JSON schedule (docs/exhibit-schedule.md).
 *
 *   schedule [--doc|--csv|--json] [--base DIR] [--no-file-check] FILE
 *
 * Exit 0: the schedule is good (warnings on stderr); 1: it has problems,
 * one per line on stderr, naming the line and column; 2: usage or a file
 * that cannot be read.
 *
 * Build: cc docs/examples/schedule.c $(pkg-config --cflags --libs libevidence) -o schedule
 */
#include <stdio.h>
#include <string.h>

#include <evidence.h>

int main(int argc, char **argv)
{
    const char *mode = "--doc", *file = NULL;
    ev_schedule_options opts;
    ev_schedule_options_init(&opts, EV_SCHEDULE_OPTIONS_VERSION);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--doc") || !strcmp(argv[i], "--csv") || !strcmp(argv[i], "--json"))
            mode = argv[i];
        else if (!strcmp(argv[i], "--base") && i + 1 < argc)
            opts.base_dir = argv[++i];
        else if (!strcmp(argv[i], "--no-file-check"))
            opts.flags |= EV_SCHEDULE_NO_FILE_CHECK;
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else {
            fprintf(stderr, "usage: schedule [--doc|--csv|--json] [--base DIR] "
                            "[--no-file-check] FILE\n");
            return 2;
        }
    }
    if (!file) {
        fprintf(stderr, "usage: schedule [--doc|--csv|--json] [--base DIR] [--no-file-check] FILE\n");
        return 2;
    }
    ev_schedule *s = NULL;
    if (ev_schedule_new(&s, &opts) != EV_OK)
        return 2;
    int rc = ev_schedule_read_file(s, file);
    if (rc == EV_EFORMAT) {
        for (size_t i = 0; i < ev_schedule_problem_count(s); i++)
            fprintf(stderr, "%s\n", ev_schedule_problem(s, i));
        ev_schedule_free(s);
        return 1;
    }
    if (rc != EV_OK) {
        fprintf(stderr, "%s\n", ev_schedule_last_error(s));
        ev_schedule_free(s);
        return 2;
    }
    for (size_t i = 0; i < ev_schedule_warning_count(s); i++)
        fprintf(stderr, "warning: %s\n", ev_schedule_warning(s, i));
    char *out = NULL;
    size_t len = 0;
    if (!strcmp(mode, "--csv"))
        rc = ev_schedule_write_csv(&out, &len, s, 0);
    else if (!strcmp(mode, "--json"))
        rc = ev_schedule_write_json(&out, s);
    else
        rc = ev_schedule_json(&out, s);
    if (rc == EV_OK) {
        if (!len)
            len = strlen(out);
        fwrite(out, 1, len, stdout);
        if (!strcmp(mode, "--doc"))
            putchar('\n');
    }
    ev_free(out);
    ev_schedule_free(s);
    return rc == EV_OK ? 0 : 2;
}
