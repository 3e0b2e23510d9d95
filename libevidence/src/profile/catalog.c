/*
 * profile (catalog): the public ev_profile_catalog_* functions (the folders
 * searched for profiles, the scan, find by name) and the public accessors
 * of a loaded profile. Loading and validating one file is profile.c.
 */
#include "profile/profile.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

/* ------------------------------------------------------------------------ */
/* Public API: catalog                                                       */
/* ------------------------------------------------------------------------ */

struct ev_profile_catalog {
    ev_errbuf err;
    char **dirs;
    size_t n_dirs;
    ev_profile **scanned; /* sorted by name */
    size_t n_scanned;
    ev_profile **found;   /* loaded by find */
    size_t n_found;
    char **problems;
    size_t n_problems;
};

int ev_profile_catalog_new(ev_profile_catalog **out)
{
    if (!out)
        return EV_EINVAL;
    *out = calloc(1, sizeof(**out));
    return *out ? EV_OK : EV_ENOMEM;
}

static void clear_scan(ev_profile_catalog *c)
{
    for (size_t i = 0; i < c->n_scanned; i++)
        ev_profile__free(c->scanned[i]);
    free(c->scanned);
    c->scanned = NULL;
    c->n_scanned = 0;
    for (size_t i = 0; i < c->n_problems; i++)
        free(c->problems[i]);
    free(c->problems);
    c->problems = NULL;
    c->n_problems = 0;
}

void ev_profile_catalog_free(ev_profile_catalog *c)
{
    if (!c)
        return;
    clear_scan(c);
    for (size_t i = 0; i < c->n_found; i++)
        ev_profile__free(c->found[i]);
    free(c->found);
    for (size_t i = 0; i < c->n_dirs; i++)
        free(c->dirs[i]);
    free(c->dirs);
    free(c);
}

const char *ev_profile_catalog_last_error(const ev_profile_catalog *c)
{
    return c ? c->err.msg : "no catalog";
}

static int push_str(char ***v, size_t *n, char *s)
{
    if (!s)
        return EV_ENOMEM;
    char **nv = ev__reallocarray(*v, *n + 1, sizeof(char *));
    if (!nv) {
        free(s);
        return EV_ENOMEM;
    }
    nv[(*n)++] = s;
    *v = nv;
    return EV_OK;
}

int ev_profile_catalog_add_dir(ev_profile_catalog *c, const char *dir)
{
    if (!c || !dir)
        return c ? ev_err__set(&c->err, EV_EINVAL, "add_dir: dir is NULL") : EV_EINVAL;
    if (!*dir)
        return ev_err__set(&c->err, EV_EINVAL, "add_dir: empty folder name");
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    char *d = ev__strndup(dir, n);
    for (size_t i = 0; d && i < c->n_dirs; i++) {
        if (strcmp(c->dirs[i], d) == 0) {
            free(d);
            return EV_OK;
        }
    }
    if (push_str(&c->dirs, &c->n_dirs, d) != EV_OK)
        return ev_err__set(&c->err, EV_ENOMEM, "out of memory");
    return EV_OK;
}

int ev_profile_catalog_add_path_list(ev_profile_catalog *c, const char *list)
{
    if (!c || !list)
        return c ? ev_err__set(&c->err, EV_EINVAL, "add_path_list: list is NULL") : EV_EINVAL;
    const char *s = list;
    while (*s) {
        const char *e = strchr(s, ':');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n) {
            char *d = ev__strndup(s, n);
            if (!d)
                return ev_err__set(&c->err, EV_ENOMEM, "out of memory");
            int rc = ev_profile_catalog_add_dir(c, d);
            free(d);
            if (rc != EV_OK)
                return rc;
        }
        if (!e)
            break;
        s = e + 1;
    }
    return EV_OK;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int ev_profile_catalog_add_default_dirs(ev_profile_catalog *c, const char *exe_path,
                                        const char *install_dir)
{
    if (!c)
        return EV_EINVAL;
    char exe[4096];
    if (exe_path) {
        snprintf(exe, sizeof(exe), "%s", exe_path);
    } else {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        exe[n > 0 ? n : 0] = '\0';
    }
    char *slash = strrchr(exe, '/');
    if (slash && exe[0]) {
        *slash = '\0';
        static const char *const rel[] = { "../share/evidence/profiles", "../../profiles",
                                           "../../../profiles" };
        for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
            char *d = ev__asprintf("%s/%s", exe, rel[i]);
            if (!d)
                return ev_err__set(&c->err, EV_ENOMEM, "out of memory");
            char real[4096];
            int rc = EV_OK;
            if (is_dir(d) && realpath(d, real))
                rc = ev_profile_catalog_add_dir(c, real);
            free(d);
            if (rc != EV_OK)
                return rc;
        }
    }
    if (install_dir && is_dir(install_dir))
        return ev_profile_catalog_add_dir(c, install_dir);
    return EV_OK;
}

size_t ev_profile_catalog_dir_count(const ev_profile_catalog *c)
{
    return c ? c->n_dirs : 0;
}

const char *ev_profile_catalog_dir(const ev_profile_catalog *c, size_t i)
{
    return c && i < c->n_dirs ? c->dirs[i] : NULL;
}

static int cmp_profile(const void *a, const void *b)
{
    const ev_profile *pa = *(ev_profile *const *)a;
    const ev_profile *pb = *(ev_profile *const *)b;
    return strcmp(pa->name, pb->name);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ev_profile_catalog_scan(ev_profile_catalog *c)
{
    if (!c)
        return EV_EINVAL;
    clear_scan(c);
    for (size_t d = 0; d < c->n_dirs; d++) {
        DIR *dh = opendir(c->dirs[d]);
        if (!dh) {
            if (errno != ENOENT &&
                push_str(&c->problems, &c->n_problems,
                         ev__asprintf("profile folder '%s': cannot read: %s", c->dirs[d],
                                      strerror(errno))) != EV_OK)
                return ev_err__set(&c->err, EV_ENOMEM, "out of memory");
            continue;
        }
        char **names = NULL;
        size_t n_names = 0;
        struct dirent *e;
        int rc = EV_OK;
        while (rc == EV_OK && (e = readdir(dh)) != NULL) {
            size_t l = strlen(e->d_name);
            if (e->d_name[0] == '.' || l <= 5 || strcmp(e->d_name + l - 5, ".json") != 0)
                continue;
            rc = push_str(&names, &n_names, ev__strdup(e->d_name));
        }
        closedir(dh);
        if (rc == EV_OK && n_names)
            qsort(names, n_names, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n_names; i++) {
            char *path = rc == EV_OK ? ev__asprintf("%s/%s", c->dirs[d], names[i]) : NULL;
            size_t l = strlen(names[i]) - 5;
            bool shadowed = false;
            for (size_t k = 0; path && k < c->n_scanned; k++)
                if (strlen(c->scanned[k]->name) == l &&
                    strncmp(c->scanned[k]->name, names[i], l) == 0)
                    shadowed = true;
            if (!path) {
                rc = EV_ENOMEM;
            } else if (!shadowed) {
                ev_errbuf eb;
                ev_profile *p = NULL;
                if (ev_profile__load_file(&p, path, &eb) == EV_OK) {
                    ev_profile **nv = ev__reallocarray(c->scanned, c->n_scanned + 1,
                                                       sizeof(*nv));
                    if (!nv) {
                        ev_profile__free(p);
                        rc = EV_ENOMEM;
                    } else {
                        nv[c->n_scanned++] = p;
                        c->scanned = nv;
                    }
                } else {
                    rc = push_str(&c->problems, &c->n_problems, ev__strdup(eb.msg));
                }
            }
            free(path);
            free(names[i]);
        }
        free(names);
        if (rc != EV_OK)
            return ev_err__set(&c->err, EV_ENOMEM, "out of memory");
    }
    if (c->n_scanned)
        qsort(c->scanned, c->n_scanned, sizeof(*c->scanned), cmp_profile);
    return EV_OK;
}

size_t ev_profile_catalog_count(const ev_profile_catalog *c)
{
    return c ? c->n_scanned : 0;
}

const ev_profile *ev_profile_catalog_at(const ev_profile_catalog *c, size_t i)
{
    return c && i < c->n_scanned ? c->scanned[i] : NULL;
}

size_t ev_profile_catalog_problem_count(const ev_profile_catalog *c)
{
    return c ? c->n_problems : 0;
}

const char *ev_profile_catalog_problem(const ev_profile_catalog *c, size_t i)
{
    return c && i < c->n_problems ? c->problems[i] : NULL;
}

int ev_profile_catalog_find(const ev_profile **out, ev_profile_catalog *c, const char *name)
{
    if (out)
        *out = NULL;
    if (!c)
        return EV_EINVAL;
    if (!out || !name)
        return ev_err__set(&c->err, EV_EINVAL, "find: NULL argument");
    ev_profile *p = NULL;
    int rc = ev_profile__find(&p, (const char *const *)c->dirs, c->n_dirs, name, &c->err);
    if (rc != EV_OK)
        return rc;
    ev_profile **nv = ev__reallocarray(c->found, c->n_found + 1, sizeof(*nv));
    if (!nv) {
        ev_profile__free(p);
        return ev_err__set(&c->err, EV_ENOMEM, "out of memory");
    }
    nv[c->n_found++] = p;
    c->found = nv;
    *out = p;
    return EV_OK;
}

/* ------------------------------------------------------------------------ */
/* Public API: profile getters                                               */
/* ------------------------------------------------------------------------ */

const char *ev_profile_name(const ev_profile *p)
{
    return p ? p->name : "";
}

const char *ev_profile_title(const ev_profile *p)
{
    return p && p->title ? p->title : "";
}

const char *ev_profile_path(const ev_profile *p)
{
    return p ? p->path : "";
}

const char *ev_profile_sha256(const ev_profile *p)
{
    return p ? p->sha256 : "";
}

const char *ev_profile_level(const ev_profile *p)
{
    return p ? ev_profile__level_name(p->level) : "none";
}

const char *ev_profile_unavailable(const ev_profile *p)
{
    return p ? p->unavailable : "no profile";
}

int ev_profile_json(char **out, const ev_profile *p)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (!p)
        return EV_EINVAL;
    json_t *o = ev_profile__object(p);
    if (!o)
        return EV_ENOMEM;
    *out = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(o);
    return *out ? EV_OK : EV_ENOMEM;
}
