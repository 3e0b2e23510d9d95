/* Exhibit schedules: the public ev_schedule_* API. The readers
 * (schedule_csv.c, schedule_json.c) give rows; this file checks each row
 * (references, people, times, places, files) and joins the people and
 * places named on several rows into single nodes, giving the
 * evidence.schedule document (docs/schema/schedule.schema.json). The rules
 * for who is the same person and which place is the same place are in
 * docs/exhibit-schedule.md. */
#include "bundle/schedule_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence/schedule.h"

struct ev_schedule {
    ev_errbuf err;
    uint32_t flags;
    char *base_dir;  /* from the options, or NULL */
    json_t *doc;     /* the last good read, or NULL */
    json_t *files;   /* per exhibit: the paths to open */
    json_t *problems;
    json_t *warnings;
};

int ev_schedule_options_init(ev_schedule_options *opts, unsigned int version)
{
    return ev__options_init(opts, version == EV_SCHEDULE_OPTIONS_VERSION ? sizeof(*opts) : 0,
                            version);
}

int ev_schedule_new(ev_schedule **out, const ev_schedule_options *opts)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (opts && opts->version != EV_SCHEDULE_OPTIONS_VERSION)
        return EV_EVERSION;
    ev_schedule *s = calloc(1, sizeof(*s));
    if (!s)
        return EV_ENOMEM;
    if (opts) {
        s->flags = opts->flags;
        if (opts->base_dir && !(s->base_dir = ev__strdup(opts->base_dir))) {
            free(s);
            return EV_ENOMEM;
        }
    }
    *out = s;
    return EV_OK;
}

static void reset(ev_schedule *s)
{
    json_decref(s->doc);
    json_decref(s->files);
    json_decref(s->problems);
    json_decref(s->warnings);
    s->doc = s->files = s->problems = s->warnings = NULL;
    s->err.msg[0] = '\0';
}

void ev_schedule_free(ev_schedule *s)
{
    if (!s)
        return;
    reset(s);
    free(s->base_dir);
    free(s);
}

const char *ev_schedule_last_error(const ev_schedule *s)
{
    return s ? s->err.msg : "no schedule handle";
}

/* ---- small text rules ---- */

/* The identity form of a name: ASCII letters in lower case, runs of white
 * space as one space. Caller frees. */
static char *fold(const char *s)
{
    if (!s)
        return ev__strdup("");
    char *o = malloc(strlen(s) + 1), *q = o;
    if (!o)
        return NULL;
    bool space = false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = true;
            continue;
        }
        if (space && q != o)
            *q++ = ' ';
        space = false;
        *q++ = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    *q = '\0';
    return o;
}

static bool digits(const char *p, int n)
{
    for (int i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

static int num(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

static int days_in_month(int y, int m)
{
    static const unsigned char d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

static const char month_names[12][10] = { "January", "February", "March",     "April",
                                          "May",     "June",     "July",      "August",
                                          "September", "October", "November", "December" };

typedef struct sched_time {
    bool unknown;          /* "unknown" */
    char local[40];        /* YYYY-MM-DDTHH:MM[:SS[.f]] */
    char offset[8];        /* "Z", "+01:00", or "" when the zone is unknown */
    long long minutes_utc; /* for ordering; valid when offset[0] */
    long long minutes_local;
} sched_time;

static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Parse a schedule time. 0: parsed; -1: not in the format (why says so). */
static int parse_time(sched_time *t, const char *s, char *why, size_t whylen)
{
    memset(t, 0, sizeof(*t));
    if (strcasecmp(s, "unknown") == 0) {
        t->unknown = true;
        return 0;
    }
    size_t n = strlen(s);
    const char *fmt_hint = "write YYYY-MM-DDTHH:MM[:SS] with the offset from UTC (Z or +01:00), "
                           "the same without an offset when the zone is not known, or 'unknown'";
    if (n < 16 || n > 35 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2)) {
        snprintf(why, whylen, "'%s' is not a time: %s", s, fmt_hint);
        return -1;
    }
    size_t i = 16;
    int sec = 0;
    if (i < n && s[i] == ':') {
        if (i + 3 > n || !digits(s + i + 1, 2)) {
            snprintf(why, whylen, "'%s' is not a time: %s", s, fmt_hint);
            return -1;
        }
        sec = num(s + i + 1, 2);
        i += 3;
        if (i < n && s[i] == '.') {
            size_t f = i + 1;
            while (f < n && s[f] >= '0' && s[f] <= '9')
                f++;
            if (f == i + 1 || f - i - 1 > 9) {
                snprintf(why, whylen, "'%s' is not a time: a fraction of a second has 1 to 9 "
                                      "digits",
                         s);
                return -1;
            }
            i = f;
        }
    }
    memcpy(t->local, s, i);
    t->local[i] = '\0';
    t->local[10] = 'T';
    int oh = 0, om = 0, osign = 0;
    if (i < n) {
        if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
            strcpy(t->offset, "Z"); /* checksrc: allow (constant fits) */
        } else if ((s[i] == '+' || s[i] == '-') && i + 6 == n && digits(s + i + 1, 2) &&
                   s[i + 3] == ':' && digits(s + i + 4, 2)) {
            memcpy(t->offset, s + i, 6);
            t->offset[6] = '\0';
            osign = s[i] == '-' ? -1 : 1;
            oh = num(s + i + 1, 2);
            om = num(s + i + 4, 2);
        } else {
            snprintf(why, whylen, "'%s' is not a time: the offset from UTC is written Z or "
                                  "+HH:MM",
                     s);
            return -1;
        }
    }
    int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2), h = num(s + 11, 2),
        mi = num(s + 14, 2);
    char bad[256] = "";
    size_t bl = 0;
#define BAD(...) bl += (size_t)snprintf(bad + bl, bl < sizeof(bad) ? sizeof(bad) - bl : 0, __VA_ARGS__)
    if (mo < 1 || mo > 12)
        BAD("%smonth %d (1 to 12)", bl ? "; " : "", mo);
    else if (d < 1 || d > days_in_month(y, mo))
        BAD("%sday %d (%s %d has %d days)", bl ? "; " : "", d, month_names[mo - 1], y,
            days_in_month(y, mo));
    if (h > 23)
        BAD("%shour %d (0 to 23)", bl ? "; " : "", h);
    if (mi > 59)
        BAD("%sminute %d (0 to 59)", bl ? "; " : "", mi);
    if (sec > 60)
        BAD("%ssecond %d (0 to 60)", bl ? "; " : "", sec);
    if (oh > 23 || om > 59)
        BAD("%soffset %s (at most 23:59)", bl ? "; " : "", t->offset);
#undef BAD
    if (bl) {
        snprintf(why, whylen, "'%s' is not a possible time: %s", s, bad);
        return -1;
    }
    t->minutes_local = days_from_civil(y, mo, d) * 1440 + h * 60 + mi;
    t->minutes_utc = t->minutes_local - osign * (oh * 60 + om);
    return 0;
}

/* Decimal degrees: [+-]digits[.digits], at most 10 decimals. */
static int parse_deg(double *out, const char *s, double limit, char *why, size_t whylen)
{
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    long long m = 0;
    int ints = 0, decs = 0;
    while (*p >= '0' && *p <= '9' && ints < 4) {
        m = m * 10 + (*p++ - '0');
        ints++;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9' && decs < 11) {
            m = m * 10 + (*p++ - '0');
            decs++;
        }
    }
    if (ints == 0 || *p != '\0' || decs > 10) {
        snprintf(why, whylen, "'%s' is not decimal degrees: write e.g. 51.50735 or -0.12776 "
                              "(a point before the decimals, at most 10 of them, no N/S/E/W)",
                 s);
        return -1;
    }
    double v = (double)m;
    for (int i = 0; i < decs; i++)
        v /= 10.0;
    if (neg)
        v = -v;
    if (v < -limit || v > limit) {
        snprintf(why, whylen, "'%s' is out of range (-%g to %g)", s, limit, limit);
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- building the document ---- */

typedef struct person {
    char *key;    /* "id|<identifier>|<org>" or "name|<name>|<org>", folded */
    char *namekey; /* "<name>|<org>" folded, or NULL without a name */
    const char *name, *identifier, *org; /* borrowed from the first row */
    size_t row;   /* row that named it first */
    int out;      /* index in "people", or -1 */
} person;

typedef struct place {
    char *key;
    size_t row;
    int out;
} place;

typedef struct build {
    ev_sched_rows *t;
    uint32_t flags;
    const char *base;
    person *people;
    size_t np, cap_p;
    place *places;
    size_t npl, cap_pl;
    int *row_person; /* per row: index in people, or -1 */
    int *row_place;
    json_t *files;   /* per row: array of resolved paths */
    json_t *file_keys; /* object: key -> "row index" for duplicate checks */
} build;

static int problem_at(build *b, size_t row, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int problem_at(build *b, size_t row, int col, const char *fmt, ...)
{
    char body[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    char *w = ev_bundle__sched_where(&b->t->v[row], col);
    if (!w)
        return EV_ENOMEM;
    int rc = ev_bundle__sched_problem(b->t, "%s: %s", w, body);
    free(w);
    return rc;
}

static int add_person(build *b, size_t row, char *key, char *namekey)
{
    person *p = ev__grow(b->people, &b->cap_p, b->np, sizeof(*p), 8);
    if (!p) {
        free(key);
        free(namekey);
        return -1;
    }
    b->people = p;
    const ev_sched_row *r = &b->t->v[row];
    b->people[b->np] = (person){ key, namekey, r->cells[EV_SC_PRODUCER_NAME],
                                 r->cells[EV_SC_PRODUCER_IDENTIFIER],
                                 r->cells[EV_SC_PRODUCER_ORGANISATION], row, -1 };
    return (int)b->np++;
}

/* People: those with an identifier first (the identifier and organisation
 * are who they are), then those with only a name, who are one of the
 * former when exactly one of them has the same name and organisation. */
static int join_people(build *b)
{
    ev_sched_rows *t = b->t;
    int rc = EV_OK;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < t->n; i++) {
            ev_sched_row *r = &t->v[i];
            const char *name = r->cells[EV_SC_PRODUCER_NAME];
            const char *ident = r->cells[EV_SC_PRODUCER_IDENTIFIER];
            const char *org = r->cells[EV_SC_PRODUCER_ORGANISATION];
            if (pass == 0 && !name && !ident && (org || r->cells[EV_SC_PRODUCER_ROLE])) {
                rc = problem_at(b, i, org ? EV_SC_PRODUCER_ORGANISATION : EV_SC_PRODUCER_ROLE,
                                "a producer's %s without a name or identifier",
                                org ? "organisation" : "role");
                continue;
            }
            if ((pass == 0) != (ident != NULL) || (!name && !ident))
                continue;
            char *fo = fold(org), *fn = name ? fold(name) : NULL;
            char *fi = ident ? fold(ident) : NULL;
            const char *kv = ident ? fi : fn; /* NULL only when out of memory */
            char *key = kv && fo ? ev__asprintf("%s|%s|%s", ident ? "id" : "name", kv, fo) : NULL;
            char *namekey = fn && fo ? ev__asprintf("%s|%s", fn, fo) : NULL;
            free(fo);
            free(fn);
            free(fi);
            if (!key || (name && !namekey)) {
                free(key);
                free(namekey);
                return EV_ENOMEM;
            }
            int found = -1, count = 0;
            for (size_t k = 0; k < b->np; k++) {
                if (strcmp(b->people[k].key, key) == 0)
                    found = (int)k;
            }
            if (pass == 1 && found < 0) {
                /* a name alone: one identified person of that name and organisation? */
                for (size_t k = 0; k < b->np; k++)
                    if (b->people[k].identifier && b->people[k].namekey &&
                        strcmp(b->people[k].namekey, namekey) == 0) {
                        if (count++ == 0)
                            found = (int)k;
                    }
                if (count > 1) {
                    rc = problem_at(b, i, EV_SC_PRODUCER_NAME,
                                    "'%s' could be any of %d people with identifiers (e.g. "
                                    "'%s' and another): give the identifier",
                                    name, count, b->people[found].identifier);
                    free(key);
                    free(namekey);
                    continue;
                }
            }
            if (found >= 0) {
                person *p = &b->people[found];
                if (pass == 0 && name && p->namekey) {
                    char *a = fold(name), *c = fold(p->name);
                    if (!a || !c) {
                        free(a);
                        free(c);
                        free(key);
                        free(namekey);
                        return EV_ENOMEM;
                    }
                    if (strcmp(a, c) != 0) {
                        char *w = ev_bundle__sched_where(&t->v[p->row], -1);
                        rc = problem_at(b, i, EV_SC_PRODUCER_NAME,
                                        "'%s' has the identifier '%s'%s%s, which is '%s' on %s: "
                                        "one identifier, one person",
                                        name, ident, org ? " of " : "", org ? org : "", p->name,
                                        w ? w : "another row");
                        free(w);
                    }
                    free(a);
                    free(c);
                } else if (pass == 0 && name && !p->name) {
                    p->name = name; /* the first row gave only the identifier */
                    free(p->namekey);
                    p->namekey = namekey;
                    namekey = NULL;
                }
                free(key);
                free(namekey);
                b->row_person[i] = found;
            } else {
                int k = add_person(b, i, key, namekey);
                if (k < 0)
                    return EV_ENOMEM;
                b->row_person[i] = k;
            }
        }
    }
    return rc;
}

static int join_place(build *b, size_t i, const char *deg_lat, const char *deg_lon)
{
    const ev_sched_row *r = &b->t->v[i];
    const char *d = r->cells[EV_SC_PLACE], *a = r->cells[EV_SC_ADDRESS],
               *pc = r->cells[EV_SC_POSTCODE];
    if (!d && !a && !pc && !deg_lat)
        return EV_OK;
    char *fd = fold(d), *fa = fold(a), *fp = fold(pc);
    char *key = (fd && fa && fp) ? ev__asprintf("%s|%s|%s|%s|%s", fd, fa, fp,
                                                deg_lat ? deg_lat : "", deg_lon ? deg_lon : "")
                                 : NULL;
    free(fd);
    free(fa);
    free(fp);
    if (!key)
        return EV_ENOMEM;
    for (size_t k = 0; k < b->npl; k++)
        if (strcmp(b->places[k].key, key) == 0) {
            free(key);
            b->row_place[i] = (int)k;
            return EV_OK;
        }
    place *p = ev__grow(b->places, &b->cap_pl, b->npl, sizeof(*p), 8);
    if (!p) {
        free(key);
        return EV_ENOMEM;
    }
    b->places = p;
    b->places[b->npl] = (place){ key, i, -1 };
    b->row_place[i] = (int)b->npl++;
    return EV_OK;
}

static int set_str(json_t *o, const char *k, const char *v)
{
    if (!v)
        return EV_OK;
    return json_object_set_new(o, k, json_string(v)) == 0 ? EV_OK : EV_ENOMEM;
}

static int set_time(json_t *o, const char *prefix, const sched_time *t)
{
    char k[40];
    int rc = EV_OK;
    if (t->unknown) {
        snprintf(k, sizeof(k), "%s_unknown", prefix);
        return json_object_set_new(o, k, json_true()) == 0 ? EV_OK : EV_ENOMEM;
    }
    if (t->offset[0]) {
        char *full = ev__asprintf("%s%s", t->local, t->offset);
        if (!full)
            return EV_ENOMEM;
        rc |= json_object_set_new(o, prefix, json_string(full));
        free(full);
    }
    snprintf(k, sizeof(k), "%s_local", prefix);
    rc |= json_object_set_new(o, k, json_string(t->local));
    if (t->offset[0]) {
        snprintf(k, sizeof(k), "%s_utc_offset", prefix);
        rc |= json_object_set_new(o, k, json_string(t->offset));
    }
    snprintf(k, sizeof(k), "%s_zone", prefix);
    rc |= json_object_set_new(o, k, json_string(t->offset[0] ? "stated" : "unknown"));
    return rc == 0 ? EV_OK : EV_ENOMEM;
}

/* Check a row's files and record them; duplicates and overlaps across
 * exhibits are problems. */
static int take_files(build *b, size_t i, json_t *names, json_t *paths)
{
    ev_sched_row *r = &b->t->v[i];
    const char *cell = r->cells[EV_SC_FILES];
    if (!cell)
        return EV_OK;
    int rc = EV_OK;
    const char *p = cell;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char *name = ev__strndup(p, len);
        p = e ? e + 1 : p + len;
        if (!name)
            return EV_ENOMEM;
        size_t nl = strlen(name);
        char *s = name;
        while (*s == ' ' || *s == '\t' || *s == '\r')
            s++, nl--;
        while (nl > 0 && (s[nl - 1] == ' ' || s[nl - 1] == '\t' || s[nl - 1] == '\r'))
            s[--nl] = '\0';
        if (nl == 0) {
            free(name);
            continue;
        }
        bool ctl = false;
        for (const char *c = s; *c; c++)
            if ((unsigned char)*c < 0x20)
                ctl = true;
        if (ctl) {
            rc = problem_at(b, i, EV_SC_FILES, "a path holds a control character");
            free(name);
            continue;
        }
        if (json_object_size(b->file_keys) >= EV_SCHED_MAX_FILES) {
            rc = problem_at(b, i, EV_SC_FILES, "more than %u files", EV_SCHED_MAX_FILES);
            free(name);
            break;
        }
        char *path = s[0] == '/' ? ev__strdup(s) : ev__asprintf("%s/%s", b->base, s);
        if (!path) {
            free(name);
            return EV_ENOMEM;
        }
        char *key = NULL;
        bool is_dir = false;
        if (!(b->flags & EV_SCHEDULE_NO_FILE_CHECK)) {
            struct stat st;
            if (stat(path, &st) != 0) {
                rc = problem_at(b, i, EV_SC_FILES, "'%s' does not exist (looked for '%s')", s,
                                path);
                free(path);
                free(name);
                continue;
            }
            is_dir = S_ISDIR(st.st_mode);
            key = realpath(path, NULL);
        }
        if (!key)
            key = ev__strdup(path);
        if (!key) {
            free(path);
            free(name);
            return EV_ENOMEM;
        }
        /* the same file twice, or a folder holding a file listed elsewhere:
         * the key itself, then each folder above it, by hash; a folder is
         * compared with every key listed before it */
        size_t kl = strlen(key);
        const json_t *hit = json_object_get(b->file_keys, key);
        bool same = hit != NULL;
        for (size_t cut = kl; !hit && cut > 1; cut--) {
            if (key[cut - 1] != '/' || cut - 1 == 0)
                continue;
            key[cut - 1] = '\0';
            hit = json_object_get(b->file_keys, key);
            key[cut - 1] = '/';
        }
        if (!hit && is_dir) {
            const char *k;
            json_t *v;
            json_object_foreach(b->file_keys, k, v) {
                if (strlen(k) > kl && strncmp(k, key, kl) == 0 && k[kl] == '/') {
                    hit = v;
                    break;
                }
            }
        }
        if (hit) {
            size_t other = (size_t)json_integer_value(json_array_get(hit, 0));
            char *w = ev_bundle__sched_where(&b->t->v[other], -1);
            const char *oref = b->t->v[other].cells[EV_SC_REFERENCE];
            rc = problem_at(b, i, EV_SC_FILES, "'%s' %s listed under exhibit '%s' (%s): a file "
                                               "belongs to one exhibit",
                            s, same ? "is also" : "overlaps what is", oref ? oref : "?",
                            w ? w : "?");
            free(w);
        }
        json_t *entry = json_pack("[I]", (json_int_t)i);
        if (!entry || json_object_set_new(b->file_keys, key, entry) != 0 ||
            json_array_append_new(names, json_string(s)) != 0 ||
            json_array_append_new(paths, json_string(path)) != 0) {
            free(key);
            free(path);
            free(name);
            return EV_ENOMEM;
        }
        free(key);
        free(path);
        free(name);
    }
    return rc;
}

static int build_doc(ev_sched_rows *t, uint32_t flags, const char *base, const char *syntax,
                     json_t **doc_out, json_t **files_out)
{
    *doc_out = *files_out = NULL;
    build b = { .t = t, .flags = flags, .base = base };
    int rc = EV_OK;
    json_t *people = json_array(), *places = json_array(), *events = json_array(),
           *exhibits = json_array(), *doc = NULL;
    b.files = json_array();
    b.file_keys = json_object();
    b.row_person = malloc((t->n + 1) * sizeof(int));
    b.row_place = malloc((t->n + 1) * sizeof(int));
    char (*lat)[32] = calloc(t->n + 1, sizeof(*lat));
    char (*lon)[32] = calloc(t->n + 1, sizeof(*lon));
    char **refkey = calloc(t->n + 1, sizeof(char *)); /* folded references */
    json_t *refs_seen = json_object();                 /* folded reference -> first row */
    if (!people || !places || !events || !exhibits || !b.files || !b.file_keys || !b.row_person ||
        !b.row_place || !lat || !lon || !refkey || !refs_seen) {
        rc = EV_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < t->n; i++)
        b.row_person[i] = b.row_place[i] = -1;
    int jr = join_people(&b);
    if (jr == EV_ENOMEM) {
        rc = jr;
        goto done;
    }
    char why[512];
    for (size_t i = 0; i < t->n; i++) {
        ev_sched_row *r = &t->v[i];
        const char *ref = r->cells[EV_SC_REFERENCE];
        json_t *names = json_array(), *paths = json_array();
        if (!names || !paths || json_array_append_new(b.files, paths) != 0) {
            json_decref(names);
            rc = EV_ENOMEM;
            goto done;
        }
        /* reference: present and unique */
        if (!ref) {
            problem_at(&b, i, EV_SC_REFERENCE, "no exhibit reference (e.g. JS/1)");
        } else {
            if (!(refkey[i] = fold(ref))) {
                json_decref(names);
                rc = EV_ENOMEM;
                goto done;
            }
            json_t *seen = json_object_get(refs_seen, refkey[i]);
            if (!seen && json_object_set_new(refs_seen, refkey[i], json_integer((json_int_t)i))) {
                json_decref(names);
                rc = EV_ENOMEM;
                goto done;
            }
            if (seen) {
                char *w = ev_bundle__sched_where(&t->v[json_integer_value(seen)], -1);
                problem_at(&b, i, EV_SC_REFERENCE, "'%s' is also the reference on %s: each "
                                                   "exhibit is listed once",
                           ref, w ? w : "another row");
                free(w);
            }
        }
        /* place coordinates */
        const char *la = r->cells[EV_SC_LATITUDE], *lo = r->cells[EV_SC_LONGITUDE];
        double dla = 0, dlo = 0;
        bool coords_ok = true;
        if ((la != NULL) != (lo != NULL)) {
            problem_at(&b, i, la ? EV_SC_LONGITUDE : EV_SC_LATITUDE,
                       "a %s without a %s: give both or neither", la ? "latitude" : "longitude",
                       la ? "longitude" : "latitude");
            coords_ok = false;
        } else if (la) {
            if (parse_deg(&dla, la, 90, why, sizeof(why)) != 0) {
                problem_at(&b, i, EV_SC_LATITUDE, "%s", why);
                coords_ok = false;
            }
            if (parse_deg(&dlo, lo, 180, why, sizeof(why)) != 0) {
                problem_at(&b, i, EV_SC_LONGITUDE, "%s", why);
                coords_ok = false;
            }
            if (coords_ok) {
                ev_bundle__sched_format_deg(lat[i], sizeof(lat[i]), dla);
                ev_bundle__sched_format_deg(lon[i], sizeof(lon[i]), dlo);
            }
        }
        if (join_place(&b, i, coords_ok && la ? lat[i] : NULL, coords_ok && la ? lon[i] : NULL) !=
            EV_OK) {
            json_decref(names);
            rc = EV_ENOMEM;
            goto done;
        }
        /* times */
        sched_time tm[2];
        bool have_t[2] = { false, false };
        const int tcol[2] = { EV_SC_TIME, EV_SC_END_TIME };
        for (int k = 0; k < 2; k++) {
            if (!r->cells[tcol[k]])
                continue;
            if (parse_time(&tm[k], r->cells[tcol[k]], why, sizeof(why)) != 0)
                problem_at(&b, i, tcol[k], "%s", why);
            else
                have_t[k] = true;
        }
        if (have_t[0] && have_t[1] && !tm[0].unknown && !tm[1].unknown) {
            bool both_z = tm[0].offset[0] && tm[1].offset[0];
            bool neither = !tm[0].offset[0] && !tm[1].offset[0];
            if ((both_z && tm[1].minutes_utc < tm[0].minutes_utc) ||
                (neither && strcmp(tm[1].local, tm[0].local) < 0))
                problem_at(&b, i, EV_SC_END_TIME, "ends (%s) before it begins (%s)",
                           r->cells[EV_SC_END_TIME], r->cells[EV_SC_TIME]);
        }
        int fr = take_files(&b, i, names, paths);
        if (fr == EV_ENOMEM) {
            json_decref(names);
            rc = EV_ENOMEM;
            goto done;
        }
        /* the exhibit and its event */
        json_t *ex = json_object();
        if (!ex || json_array_append_new(exhibits, ex) != 0) {
            json_decref(names);
            rc = EV_ENOMEM;
            goto done;
        }
        int e = set_str(ex, "reference", ref);
        e |= set_str(ex, "description", r->cells[EV_SC_DESCRIPTION]);
        bool has_event = r->cells[EV_SC_ACTION] || b.row_person[i] >= 0 ||
                         r->cells[EV_SC_PRODUCER_ROLE] || b.row_place[i] >= 0 || have_t[0] ||
                         have_t[1];
        if (has_event) {
            json_t *ev = json_object();
            char id[32];
            snprintf(id, sizeof(id), "event-%zu", json_array_size(events) + 1);
            if (!ev || json_array_append_new(events, ev) != 0) {
                json_decref(names);
                rc = EV_ENOMEM;
                goto done;
            }
            e |= set_str(ev, "id", id);
            e |= set_str(ev, "action", r->cells[EV_SC_ACTION]);
            if (b.row_person[i] >= 0) {
                person *p = &b.people[b.row_person[i]];
                if (p->out < 0) {
                    p->out = (int)json_array_size(people);
                    json_t *pj = json_object();
                    char pid[32];
                    snprintf(pid, sizeof(pid), "person-%d", p->out + 1);
                    e |= pj ? json_array_append_new(people, pj) : EV_ENOMEM;
                    if (pj) {
                        e |= set_str(pj, "id", pid);
                        e |= set_str(pj, "name", p->name);
                        e |= set_str(pj, "identifier", p->identifier);
                        e |= set_str(pj, "organisation", p->org);
                    }
                }
                char pid[32];
                snprintf(pid, sizeof(pid), "person-%d", p->out + 1);
                e |= set_str(ev, "performer", pid);
            }
            e |= set_str(ev, "performer_role", r->cells[EV_SC_PRODUCER_ROLE]);
            if (b.row_place[i] >= 0) {
                place *p = &b.places[b.row_place[i]];
                if (p->out < 0) {
                    p->out = (int)json_array_size(places);
                    const ev_sched_row *pr = &t->v[p->row];
                    json_t *pj = json_object();
                    char pid[32];
                    snprintf(pid, sizeof(pid), "place-%d", p->out + 1);
                    e |= pj ? json_array_append_new(places, pj) : EV_ENOMEM;
                    if (pj) {
                        e |= set_str(pj, "id", pid);
                        e |= set_str(pj, "description", pr->cells[EV_SC_PLACE]);
                        e |= set_str(pj, "address", pr->cells[EV_SC_ADDRESS]);
                        e |= set_str(pj, "postcode", pr->cells[EV_SC_POSTCODE]);
                        if (lat[p->row][0]) {
                            double v1 = 0, v2 = 0;
                            parse_deg(&v1, lat[p->row], 90, why, sizeof(why));
                            parse_deg(&v2, lon[p->row], 180, why, sizeof(why));
                            e |= json_object_set_new(pj, "latitude", json_real(v1));
                            e |= json_object_set_new(pj, "longitude", json_real(v2));
                        }
                    }
                }
                char pid[32];
                snprintf(pid, sizeof(pid), "place-%d", p->out + 1);
                e |= set_str(ev, "place", pid);
            }
            if (have_t[0])
                e |= set_time(ev, "time", &tm[0]);
            if (have_t[1])
                e |= set_time(ev, "end_time", &tm[1]);
            e |= set_str(ex, "event", id);
        }
        const char *sk[5] = { "make", "model", "serial", "owner", "system" };
        const char *rk[3] = { "crime", "urn", "dems_id" };
        json_t *src = json_object(), *refs = json_object();
        if (!src || !refs) {
            json_decref(src);
            json_decref(refs);
            json_decref(names);
            rc = EV_ENOMEM;
            goto done;
        }
        for (int k = 0; k < 5; k++)
            e |= set_str(src, sk[k], r->cells[EV_SC_SOURCE_MAKE + k]);
        for (int k = 0; k < 3; k++)
            e |= set_str(refs, rk[k], r->cells[EV_SC_CRIME_REFERENCE + k]);
        e |= json_object_size(src) ? json_object_set(ex, "source", src) : 0;
        e |= json_object_size(refs) ? json_object_set(ex, "references", refs) : 0;
        json_decref(src);
        json_decref(refs);
        e |= set_str(ex, "handling_notes", r->cells[EV_SC_HANDLING_NOTES]);
        e |= json_object_set(ex, "files", names);
        json_decref(names);
        if (r->extra && json_object_size(r->extra))
            e |= json_object_set(ex, "extra", r->extra);
        if (e != 0) {
            rc = EV_ENOMEM;
            goto done;
        }
    }
    if (json_array_size(t->problems) > 0) {
        rc = EV_EFORMAT;
        goto done;
    }
    doc = json_object();
    json_t *source = json_object();
    if (!doc || !source) {
        json_decref(source);
        rc = EV_ENOMEM;
        goto done;
    }
    int e = json_object_set_new(doc, "format", json_string("evidence.schedule"));
    e |= json_object_set_new(doc, "format_version", json_integer(1));
    e |= json_object_set_new(source, "name", ev__json_str(t->name));
    e |= json_object_set_new(source, "syntax", json_string(syntax));
    if (t->bom)
        e |= json_object_set_new(source, "byte_order_mark", json_true());
    e |= json_object_set_new(source, "base_dir", ev__json_str(base));
    e |= json_object_set_new(doc, "source", source);
    e |= json_object_set(doc, "warnings", t->warnings);
    e |= json_object_set(doc, "people", people);
    e |= json_object_set(doc, "places", places);
    e |= json_object_set(doc, "events", events);
    e |= json_object_set(doc, "exhibits", exhibits);
    if (e != 0) {
        rc = EV_ENOMEM;
        goto done;
    }
    *doc_out = doc;
    *files_out = json_incref(b.files);
    doc = NULL;
done:
    json_decref(doc);
    json_decref(people);
    json_decref(places);
    json_decref(events);
    json_decref(exhibits);
    json_decref(b.files);
    json_decref(b.file_keys);
    for (size_t i = 0; i < b.np; i++) {
        free(b.people[i].key);
        free(b.people[i].namekey);
    }
    free(b.people);
    for (size_t i = 0; i < b.npl; i++)
        free(b.places[i].key);
    free(b.places);
    free(b.row_person);
    free(b.row_place);
    free(lat);
    free(lon);
    for (size_t i = 0; refkey && i < t->n; i++)
        free(refkey[i]);
    free(refkey);
    json_decref(refs_seen);
    return rc;
}

/* ---- reading ---- */

static int finish(ev_schedule *s, ev_sched_rows *t, int rc)
{
    s->problems = json_incref(t->problems);
    s->warnings = json_incref(t->warnings);
    if (rc == EV_ENOMEM)
        return ev_err__set(&s->err, rc, "%s: out of memory", t->name);
    size_t n = json_array_size(t->problems);
    if (n > 0) {
        rc = EV_EFORMAT;
        const char *first = json_string_value(json_array_get(t->problems, 0));
        if (n == 1 && !t->truncated)
            ev_err__set(&s->err, rc, "%s", first);
        else
            ev_err__set(&s->err, rc, "%s (and %s%zu more problem%s)", first,
                        t->truncated ? "at least " : "", n - 1, n > 2 ? "s" : "");
        json_decref(s->doc);
        json_decref(s->files);
        s->doc = s->files = NULL;
    }
    return rc;
}

static int read_buffer(ev_schedule *s, const char *data, size_t len, ev_schedule_syntax syntax,
                       const char *name, const char *base)
{
    reset(s);
    ev_sched_rows t;
    if (ev_bundle__sched_rows_init(&t, name) != EV_OK)
        return ev_err__set(&s->err, EV_ENOMEM, "out of memory");
    if (syntax == EV_SCHEDULE_AUTO) {
        size_t i = (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) ? 3 : 0;
        while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
            i++;
        syntax = (i < len && data[i] == '{') ? EV_SCHEDULE_JSON : EV_SCHEDULE_CSV;
    }
    int rc = syntax == EV_SCHEDULE_JSON ? ev_bundle__sched_json_read(&t, data, len)
                                        : ev_bundle__sched_csv_read(&t, data, len);
    if (rc != EV_ENOMEM && (rc == EV_OK || t.n > 0)) {
        int r2 = build_doc(&t, s->flags, base, syntax == EV_SCHEDULE_JSON ? "json" : "csv",
                           &s->doc, &s->files);
        if (r2 != EV_OK)
            rc = r2;
    }
    if (rc == EV_OK && json_array_size(json_object_get(s->doc, "exhibits")) == 0) {
        ev_bundle__sched_problem(&t, "no exhibits: the schedule lists none");
        rc = EV_EFORMAT;
    }
    rc = finish(s, &t, rc);
    ev_bundle__sched_rows_free(&t);
    return rc;
}

int ev_schedule_read_buffer(ev_schedule *s, const void *data, size_t len,
                            ev_schedule_syntax syntax, const char *name)
{
    if (!s || (!data && len))
        return s ? ev_err__set(&s->err, EV_EINVAL, "no data") : EV_EINVAL;
    if (syntax != EV_SCHEDULE_AUTO && syntax != EV_SCHEDULE_CSV && syntax != EV_SCHEDULE_JSON)
        return ev_err__set(&s->err, EV_EINVAL, "unknown schedule syntax %d", (int)syntax);
    return read_buffer(s, data ? data : "", len, syntax, name ? name : "schedule",
                       s->base_dir ? s->base_dir : ".");
}

int ev_schedule_read_file(ev_schedule *s, const char *path)
{
    if (!s || !path)
        return s ? ev_err__set(&s->err, EV_EINVAL, "no path") : EV_EINVAL;
    reset(s);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ev_err__set(&s->err, ev_err__from_errno(errno), "open '%s': %s", path,
                           strerror(errno));
    ev_buf b = { 0 };
    char chunk[65536];
    int rc = EV_OK;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ev_err__set(&s->err, EV_EIO, "read '%s': %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > EV_SCHED_MAX_BYTES) {
            rc = ev_err__set(&s->err, EV_EFORMAT, "%s: larger than %u bytes: not a schedule",
                             path, EV_SCHED_MAX_BYTES);
            break;
        }
        if (ev_buf__append(&b, chunk, (size_t)n) != EV_OK) {
            rc = ev_err__set(&s->err, EV_ENOMEM, "out of memory");
            break;
        }
    }
    close(fd);
    if (rc == EV_OK) {
        char *base = NULL;
        if (s->base_dir) {
            base = ev__strdup(s->base_dir);
        } else {
            const char *slash = strrchr(path, '/');
            base = slash ? ev__strndup(path, slash == path ? 1 : (size_t)(slash - path))
                         : ev__strdup(".");
        }
        /* an absolute base: messages and ev_schedule_exhibit_file() then name
         * the files wherever the caller's working folder is */
        char *abs = base ? realpath(base, NULL) : NULL;
        if (abs) {
            free(base);
            base = abs;
        }
        size_t pl = strlen(path);
        ev_schedule_syntax syn = EV_SCHEDULE_AUTO;
        if (pl >= 5 && strcasecmp(path + pl - 5, ".json") == 0)
            syn = EV_SCHEDULE_JSON;
        else if (pl >= 4 && strcasecmp(path + pl - 4, ".csv") == 0)
            syn = EV_SCHEDULE_CSV;
        const char *slash = strrchr(path, '/');
        rc = base ? read_buffer(s, b.data ? b.data : "", b.len, syn, slash ? slash + 1 : path, base)
                  : ev_err__set(&s->err, EV_ENOMEM, "out of memory");
        free(base);
    }
    ev_buf__free(&b);
    return rc;
}

/* ---- results ---- */

size_t ev_schedule_problem_count(const ev_schedule *s)
{
    return s ? json_array_size(s->problems) : 0;
}

const char *ev_schedule_problem(const ev_schedule *s, size_t i)
{
    return s ? json_string_value(json_array_get(s->problems, i)) : NULL;
}

size_t ev_schedule_warning_count(const ev_schedule *s)
{
    return s ? json_array_size(s->warnings) : 0;
}

const char *ev_schedule_warning(const ev_schedule *s, size_t i)
{
    return s ? json_string_value(json_array_get(s->warnings, i)) : NULL;
}

size_t ev_schedule_exhibit_count(const ev_schedule *s)
{
    return s && s->doc ? json_array_size(json_object_get(s->doc, "exhibits")) : 0;
}

const char *ev_schedule_exhibit_reference(const ev_schedule *s, size_t i)
{
    if (!s || !s->doc)
        return NULL;
    return json_string_value(
        json_object_get(json_array_get(json_object_get(s->doc, "exhibits"), i), "reference"));
}

size_t ev_schedule_exhibit_file_count(const ev_schedule *s, size_t i)
{
    return s && s->files ? json_array_size(json_array_get(s->files, i)) : 0;
}

const char *ev_schedule_exhibit_file(const ev_schedule *s, size_t i, size_t j)
{
    return s && s->files ? json_string_value(json_array_get(json_array_get(s->files, i), j))
                         : NULL;
}

int ev_schedule_json(char **out, const ev_schedule *s)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (!s || !s->doc)
        return EV_EINVAL;
    *out = json_dumps(s->doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    return *out ? EV_OK : EV_ENOMEM;
}

int ev_schedule_write_json(char **out, const ev_schedule *s)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (!s || !s->doc)
        return EV_EINVAL;
    return ev_bundle__sched_json_write(out, s->doc);
}

int ev_schedule_write_csv(char **out, size_t *len, const ev_schedule *s, uint32_t flags)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (len)
        *len = 0;
    if (!s || !s->doc)
        return EV_EINVAL;
    ev_buf b = { 0 };
    int rc = ev_bundle__sched_csv_write(&b, s->doc, (flags & EV_SCHEDULE_WRITE_BOM) != 0);
    if (rc != EV_OK) {
        ev_buf__free(&b);
        return rc;
    }
    if (!b.data && ev_buf__append(&b, "", 0) != EV_OK)
        return EV_ENOMEM;
    *out = b.data;
    if (len)
        *len = b.len;
    return EV_OK;
}
