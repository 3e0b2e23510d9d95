/*
 * bench/magic_options.c: what libmagic's options would change in the
 * content types pack records, and what they cost. For each option, every
 * file of a folder is typed as pack types it (magic_buffer over the first
 * 16 KiB, MAGIC_MIME_TYPE | MAGIC_ERROR) and compared with the result
 * without the option; the calls are timed per group of files (the part of
 * the name before the first '-' or '.').
 *
 *   magic_options DIR [REPS]          every option, a table
 *   magic_options DIR REPS PREFIX N   option N only, over files named
 *                                     PREFIX*, no output (run it under
 *                                     valgrind --tool=callgrind to count
 *                                     instructions per call)
 */
#include <dirent.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HEAD 16384 /* EV_MEDIA__PROBE_HEAD: what pack gives libmagic */

typedef struct opt {
    const char *name;
    int flags;
    int param;
    size_t value;
    size_t head;
} opt;

static const opt opts[] = {
    { "as pack does (baseline)", 0, -1, 0, 0 },
    { "MAGIC_NO_CHECK_SOFT (cost of the rest)", MAGIC_NO_CHECK_SOFT, -1, 0, 0 },
    { "no compress/tar/cdf/elf/apptype/tokens/csv/json",
      MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_CDF | MAGIC_NO_CHECK_ELF |
          MAGIC_NO_CHECK_APPTYPE | MAGIC_NO_CHECK_TOKENS | MAGIC_NO_CHECK_CSV | MAGIC_NO_CHECK_JSON,
      -1, 0, 0 },
    { "no text/encoding", MAGIC_NO_CHECK_TEXT | MAGIC_NO_CHECK_ENCODING, -1, 0, 0 },
    { "MAGIC_PARAM_NAME_MAX 0", 0, MAGIC_PARAM_NAME_MAX, 0, 0 },
    { "MAGIC_PARAM_NAME_MAX 3", 0, MAGIC_PARAM_NAME_MAX, 3, 0 },
    { "MAGIC_PARAM_INDIR_MAX 0", 0, MAGIC_PARAM_INDIR_MAX, 0, 0 },
    { "MAGIC_PARAM_REGEX_MAX 64", 0, MAGIC_PARAM_REGEX_MAX, 64, 0 },
    { "MAGIC_PARAM_BYTES_MAX 1024", 0, MAGIC_PARAM_BYTES_MAX, 1024, 0 },
    { "first 4096 bytes only", 0, -1, 0, 4096 },
    { "first 1024 bytes only", 0, -1, 0, 1024 },
    { "first 256 bytes only", 0, -1, 0, 256 },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

typedef struct file {
    char name[256];
    char group[64];
    unsigned char *head;
    size_t len;
    char *type;
} file;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static magic_t open_opt(const opt *o)
{
    magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | o->flags);
    if (!m || magic_load(m, NULL) != 0) {
        fprintf(stderr, "cannot load the magic database\n");
        exit(2);
    }
    if (o->param >= 0 && magic_setparam(m, o->param, &o->value) != 0) {
        fprintf(stderr, "magic_setparam %s failed\n", o->name);
        exit(2);
    }
    return m;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const file *)a)->name, ((const file *)b)->name);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int reps = argc > 2 ? atoi(argv[2]) : 10;
    static file f[4096];
    size_t nf = 0;
    DIR *d = opendir(argv[1]);
    struct dirent *de;
    while (d && (de = readdir(d)) && nf < 4096) {
        if (de->d_name[0] == '.' || (argc > 4 && strncmp(de->d_name, argv[3], strlen(argv[3]))))
            continue;
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", argv[1], de->d_name);
        FILE *fp = fopen(p, "rb");
        if (!fp)
            continue;
        f[nf].head = malloc(HEAD);
        f[nf].len = fread(f[nf].head, 1, HEAD, fp);
        fclose(fp);
        snprintf(f[nf].name, sizeof(f[nf].name), "%s", de->d_name);
        snprintf(f[nf].group, sizeof(f[nf].group), "%.*s", (int)strcspn(de->d_name, "-."),
                 de->d_name);
        nf++;
    }
    if (d)
        closedir(d);
    qsort(f, nf, sizeof(f[0]), by_name);
    if (argc > 4) { /* one option, for callgrind */
        const opt *o = &opts[atoi(argv[4])];
        magic_t m = open_opt(o);
        for (size_t i = 0; i < nf; i++)
            for (int r = 0; r < reps; r++)
                magic_buffer(m, f[i].head, o->head && f[i].len > o->head ? o->head : f[i].len);
        magic_close(m);
        return 0;
    }
    for (size_t k = 0; k < NOPTS; k++) {
        const opt *o = &opts[k];
        magic_t m = open_opt(o);
        size_t changed = 0, errors = 0;
        double t_rand = 0, t_other = 0;
        size_t n_rand = 0, n_other = 0;
        for (size_t i = 0; i < nf; i++) {
            size_t len = o->head && f[i].len > o->head ? o->head : f[i].len;
            const char *r = NULL;
            double t0 = now();
            for (int j = 0; j < reps; j++)
                r = magic_buffer(m, f[i].head, len);
            double dt = (now() - t0) / reps;
            if (!strcmp(f[i].group, "rand100")) {
                t_rand += dt;
                n_rand++;
            } else {
                t_other += dt;
                n_other++;
            }
            if (k == 0) {
                f[i].type = strdup(r ? r : "(error)");
            } else if (!r) {
                errors++;
            } else if (strcmp(r, f[i].type)) {
                changed++;
                printf("    %s: %s -> %s\n", f[i].name, f[i].type, r);
            }
        }
        printf("%-48s %8.1f us per 100-byte random file, %8.1f us per other file; "
               "%zu of %zu types changed, %zu errors\n",
               o->name, n_rand ? t_rand / (double)n_rand * 1e6 : 0.0,
               n_other ? t_other / (double)n_other * 1e6 : 0.0, changed, nf, errors);
        magic_close(m);
    }
    return 0;
}
