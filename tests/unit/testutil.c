#include "testutil.h"

#include "evidence/bundle.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tu_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

char *tu_mkdtemp(const char *prefix)
{
    const char *base = getenv("EV_TEST_TMP");
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0755);
    size_t n = strlen(base) + strlen(prefix) + 16;
    char *p = malloc(n);
    if (!p)
        return NULL;
    snprintf(p, n, "%s/%s-XXXXXX", base, prefix);
    if (!mkdtemp(p)) {
        free(p);
        return NULL;
    }
    return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

void tu_rmrf(const char *path)
{
    if (path)
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void mkparents(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return;
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    }
    free(p);
}

int tu_write(const char *path, const void *data, size_t len)
{
    mkparents(path);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = len ? fwrite(data, 1, len, f) : 0;
    int rc = fclose(f);
    return (w == len && rc == 0) ? 0 : -1;
}

int tu_put(const char *dir, const char *rel, const char *text)
{
    char *path = tu_join(dir, rel);
    int rc = path ? tu_write(path, text, strlen(text)) : -1;
    free(path);
    return rc;
}

uint8_t *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (b) {
        *len = fread(b, 1, (size_t)n, f);
        b[*len] = 0;
    }
    fclose(f);
    return b;
}

int tu_make_bundle(const char *src, const char *out, int fmt)
{
    ev_writer_options o;
    ev_writer_options_init(&o, EV_WRITER_OPTIONS_VERSION);
    o.format = (ev_bundle_format)fmt;
    o.case_ref = "CASE/1";
    o.officer = "Jo Smith";
    o.organisation = "Test Force";
    o.flags = EV_WRITER_NO_MEDIA;
    ev_writer *w = NULL;
    int rc = ev_writer_new(&w, &o);
    if (rc == EV_OK)
        rc = ev_writer_add(w, src, "JS/1");
    if (rc == EV_OK)
        rc = ev_writer_seal(w, out);
    ev_writer_free(w);
    return rc;
}
