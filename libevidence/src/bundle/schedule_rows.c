/* Exhibit schedules: the row table both readers fill, column names,
 * problems and warnings, and the small text rules both directions share
 * (degrees as text, formula defusing). */
#include "bundle/schedule_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char col_names[EV_SC_COUNT][24] = {
    "reference",        "description",           "action",
    "producer_name",    "producer_identifier",   "producer_role",
    "producer_organisation", "time",             "end_time",
    "place",            "address",               "postcode",
    "latitude",         "longitude",             "source_make",
    "source_model",     "source_serial",         "source_owner",
    "source_system",    "crime_reference",       "urn",
    "dems_id",          "handling_notes",        "files",
};

const char *ev_bundle__sched_col_name(int col)
{
    if (col < 0 || col >= EV_SC_COUNT)
        return "?";
    return col_names[col];
}

int ev_bundle__sched_col_find(const char *header)
{
    char norm[64];
    size_t n = 0;
    const char *p = header;
    while (*p == ' ' || *p == '\t')
        p++;
    for (; *p && n + 1 < sizeof(norm); p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (c == ' ' || c == '-')
            c = '_';
        norm[n++] = c;
    }
    if (*p)
        return -1;
    while (n > 0 && (norm[n - 1] == '_' || norm[n - 1] == '\t'))
        n--;
    norm[n] = '\0';
    /* "organization" as American spreadsheets spell it */
    if (strcmp(norm, "producer_organization") == 0)
        return EV_SC_PRODUCER_ORGANISATION;
    for (int i = 0; i < EV_SC_COUNT; i++)
        if (strcmp(norm, col_names[i]) == 0)
            return i;
    return -1;
}

int ev_bundle__sched_rows_init(ev_sched_rows *t, const char *name)
{
    memset(t, 0, sizeof(*t));
    t->name = name ? name : "schedule";
    t->problems = json_array();
    t->warnings = json_array();
    if (!t->problems || !t->warnings) {
        ev_bundle__sched_rows_free(t);
        return EV_ENOMEM;
    }
    return EV_OK;
}

void ev_bundle__sched_rows_free(ev_sched_rows *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        for (int c = 0; c < EV_SC_COUNT; c++)
            free(t->v[i].cells[c]);
        free(t->v[i].where);
        json_decref(t->v[i].extra);
    }
    free(t->v);
    json_decref(t->problems);
    json_decref(t->warnings);
    memset(t, 0, sizeof(*t));
}

ev_sched_row *ev_bundle__sched_row_add(ev_sched_rows *t, unsigned long line, const char *where)
{
    ev_sched_row *v = ev__grow(t->v, &t->cap, t->n, sizeof(*v), 16);
    if (!v)
        return NULL;
    t->v = v;
    ev_sched_row *r = &v[t->n];
    memset(r, 0, sizeof(*r));
    r->line = line;
    if (where && !(r->where = ev__strdup(where)))
        return NULL;
    t->n++;
    return r;
}

static int add_msg(ev_sched_rows *t, json_t *arr, bool limit, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static int add_msg(ev_sched_rows *t, json_t *arr, bool limit, const char *fmt, va_list ap)
{
    if (limit && json_array_size(arr) >= EV_SCHED_MAX_PROBLEMS) {
        t->truncated = true;
        return EV_OK;
    }
    char body[768];
    vsnprintf(body, sizeof(body), fmt, ap);
    char *msg = ev__asprintf("%s: %s", t->name, body);
    if (!msg)
        return EV_ENOMEM;
    json_t *s = ev__json_str(msg);
    free(msg);
    if (!s || json_array_append_new(arr, s) != 0)
        return EV_ENOMEM;
    return EV_OK;
}

int ev_bundle__sched_problem(ev_sched_rows *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = add_msg(t, t->problems, true, fmt, ap);
    va_end(ap);
    return rc == EV_OK ? EV_EFORMAT : rc;
}

int ev_bundle__sched_warning(ev_sched_rows *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = add_msg(t, t->warnings, true, fmt, ap);
    va_end(ap);
    return rc;
}

/* JSON paths of the known columns (relative to the exhibit, or to the node
 * the exhibit refers to). */
static const char *json_field(int col)
{
    switch (col) {
    case EV_SC_ACTION: return "event.action";
    case EV_SC_PRODUCER_NAME: return "event.performer.name";
    case EV_SC_PRODUCER_IDENTIFIER: return "event.performer.identifier";
    case EV_SC_PRODUCER_ROLE: return "event.performer_role";
    case EV_SC_PRODUCER_ORGANISATION: return "event.performer.organisation";
    case EV_SC_TIME: return "event.time";
    case EV_SC_END_TIME: return "event.end_time";
    case EV_SC_PLACE: return "event.place.description";
    case EV_SC_ADDRESS: return "event.place.address";
    case EV_SC_POSTCODE: return "event.place.postcode";
    case EV_SC_LATITUDE: return "event.place.latitude";
    case EV_SC_LONGITUDE: return "event.place.longitude";
    case EV_SC_SOURCE_MAKE: return "source.make";
    case EV_SC_SOURCE_MODEL: return "source.model";
    case EV_SC_SOURCE_SERIAL: return "source.serial";
    case EV_SC_SOURCE_OWNER: return "source.owner";
    case EV_SC_SOURCE_SYSTEM: return "source.system";
    case EV_SC_CRIME_REFERENCE: return "references.crime";
    case EV_SC_URN: return "references.urn";
    case EV_SC_DEMS_ID: return "references.dems_id";
    default: return ev_bundle__sched_col_name(col);
    }
}

char *ev_bundle__sched_where(const ev_sched_row *r, int col)
{
    if (r->where)
        return col < 0 ? ev__strdup(r->where) : ev__asprintf("%s.%s", r->where, json_field(col));
    if (col < 0 || r->colno[col] == 0)
        return ev__asprintf("line %lu", r->line);
    return ev__asprintf("line %lu, column %u (%s)", r->cline[col] ? r->cline[col] : r->line,
                        r->colno[col], ev_bundle__sched_col_name(col));
}

bool ev_bundle__sched_format_deg(char *buf, size_t len, double v)
{
    if (!isfinite(v) || fabs(v) > 1e6)
        return false;
    double scaled = v * 1e10;
    long long m = llround(scaled);
    if (fabs(scaled - (double)m) > 1e-3)
        return false;
    bool neg = m < 0;
    unsigned long long u = neg ? (unsigned long long)(-m) : (unsigned long long)m;
    unsigned long long ip = u / 10000000000ULL, fp = u % 10000000000ULL;
    char frac[16];
    snprintf(frac, sizeof(frac), "%010llu", fp);
    size_t fl = 10;
    while (fl > 0 && frac[fl - 1] == '0')
        fl--;
    frac[fl] = '\0';
    snprintf(buf, len, "%s%llu%s%s", neg && u ? "-" : "", ip, fl ? "." : "", frac);
    return true;
}

static bool plain_number(const char *s)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (!(*p >= '0' && *p <= '9'))
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

bool ev_bundle__sched_needs_defuse(const char *s)
{
    const char *p = s;
    while (*p == '\'')
        p++;
    if (!(*p == '=' || *p == '+' || *p == '-' || *p == '@' || *p == '\t' || *p == '\r'))
        return false;
    /* "-0.1276" is a number to a spreadsheet, not a formula: left as it is
     * (and a quote in front of one is still taken off when read). */
    return p != s || !plain_number(s);
}
