/* Exhibit schedules as CSV (RFC 4180): reading the bytes into rows, with a
 * message naming the line and column of every problem, and writing the
 * evidence.schedule document back as CSV with formula injection defused.
 * docs/exhibit-schedule.md is the officer's description of the same rules. */
#include "bundle/schedule_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct csv_cell {
    char *text;
    size_t len;
    unsigned long line;
    size_t offset; /* of the cell's first byte in the input */
} csv_cell;

typedef struct csv_rec {
    csv_cell *cells;
    size_t n, cap;
    unsigned long line;
} csv_rec;

static void rec_clear(csv_rec *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->cells[i].text);
    r->n = 0;
}

static int rec_push(csv_rec *r, ev_buf *b, unsigned long line, size_t offset)
{
    csv_cell *c = ev__grow(r->cells, &r->cap, r->n, sizeof(*c), 16);
    if (!c)
        return EV_ENOMEM;
    r->cells = c;
    char *t = ev__strndup(b->data ? b->data : "", b->len);
    if (!t)
        return EV_ENOMEM;
    r->cells[r->n++] = (csv_cell){ t, b->len, line, offset };
    b->len = 0;
    return EV_OK;
}

/* The first byte of s[0..len) that is not UTF-8, or len. */
static size_t first_bad_utf8(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = ev__utf8_char_len(s + i, len - i);
        if (n == 0)
            return i;
        i += n;
    }
    return len;
}

/* Trim spaces and tabs at both ends, in place. */
static void trim(char *s, size_t *len)
{
    size_t a = 0, b = *len;
    while (a < b && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
        b--;
    memmove(s, s + a, b - a);
    s[b - a] = '\0';
    *len = b - a;
}

/* Take back one single quote put in front of a formula-like cell. */
static void undefuse(char *s, size_t *len)
{
    if (*len >= 2 && s[0] == '\'') {
        const char *p = s;
        while (*p == '\'')
            p++;
        if (*p == '=' || *p == '+' || *p == '-' || *p == '@' || *p == '\t' || *p == '\r') {
            memmove(s, s + 1, *len);
            (*len)--;
        }
    }
}

/* Map each header cell to a known column (>= 0), an extra column
 * (EV_SC_COUNT + k) or nothing (-1, an empty header). */
typedef struct header {
    int *map;
    char **extra_names; /* by k */
    size_t n, n_extra;
} header;

static void header_free(header *h)
{
    for (size_t i = 0; i < h->n_extra; i++)
        free(h->extra_names[i]);
    free(h->extra_names);
    free(h->map);
}

static int read_header(ev_sched_rows *t, header *h, csv_rec *rec)
{
    h->n = rec->n;
    h->map = calloc(rec->n, sizeof(int));
    h->extra_names = calloc(rec->n, sizeof(char *));
    if (!h->map || !h->extra_names)
        return EV_ENOMEM;
    if (rec->n == 1 && (memchr(rec->cells[0].text, ';', rec->cells[0].len) ||
                        memchr(rec->cells[0].text, '\t', rec->cells[0].len)))
        return ev_bundle__sched_problem(
            t, "line %lu: the header row is one cell holding '%s' separators: a schedule is "
               "separated by commas; save it as 'CSV UTF-8 (Comma delimited)', or set the list "
               "separator to ',' (a spreadsheet in a language that writes decimal commas "
               "uses ';')",
            rec->line, memchr(rec->cells[0].text, ';', rec->cells[0].len) ? ";" : "TAB");
    bool seen[EV_SC_COUNT] = { false };
    int rc = EV_OK;
    for (size_t i = 0; i < rec->n; i++) {
        csv_cell *c = &rec->cells[i];
        trim(c->text, &c->len);
        undefuse(c->text, &c->len); /* the writer defuses header cells too */
        if (c->len == 0) {
            h->map[i] = -1;
            continue;
        }
        /* white space the trim above left inside a leading quote: refused,
         * as the JSON form refuses it, so that a schedule reads the same
         * in both */
        if (c->text[0] == ' ' || c->text[0] == '\t' || c->text[c->len - 1] == ' ' ||
            c->text[c->len - 1] == '\t') {
            rc = ev_bundle__sched_problem(t, "line %lu, column %zu: a column name must not begin "
                                             "or end with white space (here after its leading "
                                             "quote); remove it",
                                          rec->line, i + 1);
            h->map[i] = -1;
            continue;
        }
        int col = ev_bundle__sched_col_find(c->text);
        if (col >= 0) {
            if (seen[col]) {
                rc = ev_bundle__sched_problem(t, "line %lu, column %zu: column '%s' is named twice",
                                              rec->line, i + 1, ev_bundle__sched_col_name(col));
                continue;
            }
            seen[col] = true;
            h->map[i] = col;
            continue;
        }
        for (size_t k = 0; k < h->n_extra; k++)
            if (strcmp(h->extra_names[k], c->text) == 0) {
                rc = ev_bundle__sched_problem(t, "line %lu, column %zu: column '%s' is named twice",
                                              rec->line, i + 1, c->text);
                goto next;
            }
        if (!(h->extra_names[h->n_extra] = ev__strdup(c->text)))
            return EV_ENOMEM;
        h->map[i] = (int)(EV_SC_COUNT + h->n_extra++);
        if (ev_bundle__sched_warning(
                t, "line %lu, column %zu: '%s' is not a schedule column: its cells are kept as "
                   "an extra field of each exhibit (docs/exhibit-schedule.md lists the columns)",
                rec->line, i + 1, c->text) != EV_OK)
            return EV_ENOMEM;
    next:;
    }
    if (!seen[EV_SC_REFERENCE])
        rc = ev_bundle__sched_problem(t, "line %lu: the header row has no 'reference' column",
                                      rec->line);
    return rc;
}

static bool all_empty(const csv_rec *rec)
{
    for (size_t i = 0; i < rec->n; i++)
        for (size_t j = 0; j < rec->cells[i].len; j++)
            if (rec->cells[i].text[j] != ' ' && rec->cells[i].text[j] != '\t')
                return false;
    return true;
}

static int take_row(ev_sched_rows *t, const header *h, csv_rec *rec)
{
    if (all_empty(rec))
        return EV_OK;
    if (rec->n != h->n)
        return ev_bundle__sched_problem(t, "line %lu: %zu cells, but the header row has %zu",
                                        rec->line, rec->n, h->n);
    if (t->n >= EV_SCHED_MAX_ROWS)
        return ev_bundle__sched_problem(t, "line %lu: more than %u exhibits", rec->line,
                                        EV_SCHED_MAX_ROWS);
    ev_sched_row *r = ev_bundle__sched_row_add(t, rec->line, NULL);
    if (!r)
        return EV_ENOMEM;
    int rc = EV_OK;
    for (size_t i = 0; i < rec->n; i++) {
        csv_cell *c = &rec->cells[i];
        trim(c->text, &c->len);
        undefuse(c->text, &c->len);
        if (c->len == 0)
            continue;
        int col = h->map[i];
        if (col < 0) {
            rc = ev_bundle__sched_problem(t, "line %lu, column %zu: a value under a header cell "
                                             "that is empty: name the column",
                                          c->line, i + 1);
        } else if (col < EV_SC_COUNT) {
            r->cells[col] = c->text;
            r->colno[col] = (unsigned int)(i + 1);
            r->cline[col] = c->line;
            c->text = NULL;
        } else {
            if (!r->extra && !(r->extra = json_object()))
                return EV_ENOMEM;
            if (json_object_set_new(r->extra, h->extra_names[col - EV_SC_COUNT],
                                    json_stringn(c->text, c->len)) != 0)
                return EV_ENOMEM;
        }
    }
    return rc;
}

/* Check one finished cell: its UTF-8, and that it holds no NUL. */
static int check_cell(ev_sched_rows *t, const csv_rec *rec, const header *h, bool in_header)
{
    const csv_cell *c = &rec->cells[rec->n - 1];
    size_t bad = first_bad_utf8(c->text, c->len);
    const char *nul = memchr(c->text, '\0', c->len);
    if (nul && (size_t)(nul - c->text) < bad)
        bad = (size_t)(nul - c->text);
    const char *cname = "";
    if (!in_header && h && rec->n <= h->n && h->map[rec->n - 1] >= 0 &&
        h->map[rec->n - 1] < EV_SC_COUNT)
        cname = ev_bundle__sched_col_name(h->map[rec->n - 1]);
    if (bad < c->len) {
        unsigned char byte = (unsigned char)c->text[bad];
        if (byte == 0)
            return ev_bundle__sched_problem(t, "line %lu, column %zu%s%s%s (byte offset %zu): a "
                                               "NUL byte: this is not a text file",
                                            c->line, rec->n, *cname ? " (" : "", cname,
                                            *cname ? ")" : "", c->offset + bad);
        return ev_bundle__sched_problem(
            t, "line %lu, column %zu%s%s%s (byte offset %zu): byte 0x%02X is not UTF-8 (the file "
               "looks like Latin-1 or Windows-1252): save the schedule as UTF-8 (in a "
               "spreadsheet: 'CSV UTF-8 (Comma delimited)')",
            c->line, rec->n, *cname ? " (" : "", cname, *cname ? ")" : "", c->offset + bad, byte);
    }
    if (c->len > EV_SCHED_MAX_CELL)
        return ev_bundle__sched_problem(t, "line %lu, column %zu: a cell of %zu bytes (at most %u)",
                                        c->line, rec->n, c->len, EV_SCHED_MAX_CELL);
    return EV_OK;
}

int ev_bundle__sched_csv_read(ev_sched_rows *t, const char *data, size_t len)
{
    size_t i = 0;
    unsigned long line = 1;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        i = 3;
        t->bom = true;
        if (ev_bundle__sched_warning(t, "line 1: a UTF-8 byte order mark begins the file; it "
                                        "was skipped") != EV_OK)
            return EV_ENOMEM;
    }
    if (len > EV_SCHED_MAX_BYTES)
        return ev_bundle__sched_problem(t, "%zu bytes: a schedule may have at most %u", len,
                                        EV_SCHED_MAX_BYTES);
    csv_rec rec = { 0 };
    header h = { 0 };
    bool have_header = false;
    ev_buf b = { 0 };
    int rc = EV_OK;
    while (i <= len && rc == EV_OK) {
        /* one record */
        rec_clear(&rec);
        rec.line = line;
        bool at_end = false;
        while (!at_end) {
            /* one cell */
            unsigned long cline = line;
            size_t coff = i;
            b.len = 0;
            if (i < len && data[i] == '"') {
                i++;
                for (;;) {
                    if (i >= len) {
                        rc = ev_bundle__sched_problem(t, "line %lu, column %zu: the quoted cell "
                                                         "that begins here never ends (a '\"' "
                                                         "is missing)",
                                                      cline, rec.n + 1);
                        goto done;
                    }
                    char ch = data[i];
                    if (ch == '"') {
                        if (i + 1 < len && data[i + 1] == '"') {
                            if (ev_buf__append(&b, "\"", 1) != EV_OK)
                                goto nomem;
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    if (ch == '\r' && i + 1 < len && data[i + 1] == '\n') {
                        i++; /* CRLF inside a cell is kept as LF */
                        continue;
                    }
                    if (ch == '\n' || ch == '\r')
                        line++;
                    if (ev_buf__append(&b, &data[i], 1) != EV_OK)
                        goto nomem;
                    i++;
                }
                /* after the closing quote: spaces, then a separator or the end */
                while (i < len && (data[i] == ' ' || data[i] == '\t'))
                    i++;
                if (i < len && data[i] != ',' && data[i] != '\n' && data[i] != '\r') {
                    rc = ev_bundle__sched_problem(t, "line %lu, column %zu: text after the "
                                                     "closing '\"' of a quoted cell (a quote "
                                                     "inside a quoted cell is written \"\")",
                                                  line, rec.n + 1);
                    goto done;
                }
            } else {
                while (i < len && data[i] != ',' && data[i] != '\n' && data[i] != '\r') {
                    if (data[i] == '"') {
                        rc = ev_bundle__sched_problem(
                            t, "line %lu, column %zu: a '\"' inside a cell that does not begin "
                               "with one: put the whole cell in quotes and write the quote as \"\"",
                            line, rec.n + 1);
                        goto done;
                    }
                    i++;
                }
                if (ev_buf__append(&b, data + coff, i - coff) != EV_OK)
                    goto nomem;
            }
            if (rec.n >= EV_SCHED_MAX_COLUMNS) {
                rc = ev_bundle__sched_problem(t, "line %lu: more than %u columns", line,
                                              EV_SCHED_MAX_COLUMNS);
                goto done;
            }
            if (rec_push(&rec, &b, cline, coff) != EV_OK)
                goto nomem;
            if ((rc = check_cell(t, &rec, have_header ? &h : NULL, !have_header)) != EV_OK)
                goto done;
            if (i < len && data[i] == ',') {
                i++;
                continue;
            }
            /* end of record: CRLF, LF, a lone CR, or the end of the data */
            if (i < len && data[i] == '\r')
                i++;
            if (i < len && data[i] == '\n')
                i++;
            if (i >= len)
                i = len + 1;
            line++;
            at_end = true;
        }
        if (!have_header) {
            if (all_empty(&rec))
                continue;
            have_header = true;
            rc = read_header(t, &h, &rec);
        } else {
            int r2 = take_row(t, &h, &rec);
            if (r2 == EV_ENOMEM)
                rc = r2;
            /* other row problems are collected; reading goes on */
        }
    }
    if (rc == EV_OK && !have_header)
        rc = ev_bundle__sched_problem(t, "the file is empty: a schedule begins with a header "
                                         "row naming its columns");
    goto done;
nomem:
    rc = EV_ENOMEM;
done:
    rec_clear(&rec);
    free(rec.cells);
    header_free(&h);
    ev_buf__free(&b);
    if (rc == EV_OK && json_array_size(t->problems) > 0)
        rc = EV_EFORMAT;
    return rc;
}

/* ---- writing ---- */

static int put_cell(ev_buf *out, const char *s)
{
    if (!s)
        return EV_OK;
    bool defuse = ev_bundle__sched_needs_defuse(s);
    bool quote = strpbrk(s, ",\"\r\n") != NULL || s[0] == ' ' || s[0] == '\t' ||
                 (s[0] && (s[strlen(s) - 1] == ' ' || s[strlen(s) - 1] == '\t'));
    int rc = EV_OK;
    if (quote)
        rc |= ev_buf__append(out, "\"", 1);
    if (defuse)
        rc |= ev_buf__append(out, "'", 1);
    for (const char *p = s; *p && rc == EV_OK; p++) {
        if (*p == '"')
            rc |= ev_buf__append(out, "\"\"", 2);
        else if (*p == '\n')
            rc |= ev_buf__append(out, "\r\n", 2);
        else
            rc |= ev_buf__append(out, p, 1);
    }
    if (quote)
        rc |= ev_buf__append(out, "\"", 1);
    return rc == EV_OK ? EV_OK : EV_ENOMEM;
}

/* id -> node of one list of the document (NULL on ENOMEM). */
static json_t *index_nodes(const json_t *doc, const char *list)
{
    json_t *idx = json_object();
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(doc, list), i, n) {
        const char *id = json_string_value(json_object_get(n, "id"));
        if (idx && id && !json_object_get(idx, id) && json_object_set(idx, id, n) != 0) {
            json_decref(idx);
            return NULL;
        }
    }
    return idx;
}

static json_t *find_node(const json_t *idx, const json_t *id)
{
    return json_is_string(id) ? json_object_get(idx, json_string_value(id)) : NULL;
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int time_cell(const json_t *ev, const char *prefix, char **out)
{
    char k1[32], k2[32], k3[32];
    snprintf(k1, sizeof(k1), "%s", prefix);
    snprintf(k2, sizeof(k2), "%s_local", prefix);
    snprintf(k3, sizeof(k3), "%s_unknown", prefix);
    const char *v = str(ev, k1);
    if (!v)
        v = str(ev, k2);
    if (!v && json_is_true(json_object_get(ev, k3)))
        v = "unknown";
    *out = v ? ev__strdup(v) : NULL;
    return (v && !*out) ? EV_ENOMEM : EV_OK;
}

int ev_bundle__sched_csv_write(ev_buf *out, const json_t *doc, bool bom)
{
    int rc = EV_OK;
    json_t *extra_cols = json_array(), *extra_seen = json_object();
    json_t *events = index_nodes(doc, "events"), *people = index_nodes(doc, "people"),
           *places = index_nodes(doc, "places");
    if (!extra_cols || !extra_seen || !events || !people || !places) {
        rc = EV_ENOMEM;
        goto done;
    }
    size_t i;
    json_t *ex;
    json_array_foreach(json_object_get(doc, "exhibits"), i, ex) {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(ex, "extra"), k, v) {
            if (json_object_get(extra_seen, k))
                continue;
            if (json_object_set_new(extra_seen, k, json_true()) != 0 ||
                json_array_append_new(extra_cols, json_string(k)) != 0) {
                rc = EV_ENOMEM;
                goto done;
            }
        }
    }
    if (bom)
        rc |= ev_buf__append(out, "\xEF\xBB\xBF", 3);
    for (int c = 0; c < EV_SC_COUNT; c++) {
        if (c)
            rc |= ev_buf__append(out, ",", 1);
        rc |= put_cell(out, ev_bundle__sched_col_name(c));
    }
    size_t j;
    json_t *n;
    json_array_foreach(extra_cols, j, n) {
        rc |= ev_buf__append(out, ",", 1);
        rc |= put_cell(out, json_string_value(n));
    }
    rc |= ev_buf__append(out, "\r\n", 2);
    if (rc != EV_OK) {
        rc = EV_ENOMEM;
        goto done;
    }
    json_array_foreach(json_object_get(doc, "exhibits"), i, ex) {
        char *cells[EV_SC_COUNT] = { NULL };
        const json_t *event = find_node(events, json_object_get(ex, "event"));
        const json_t *person = find_node(people, json_object_get(event, "performer"));
        const json_t *place = find_node(places, json_object_get(event, "place"));
        const json_t *src = json_object_get(ex, "source");
        const json_t *refs = json_object_get(ex, "references");
        const char *plain[EV_SC_COUNT] = { NULL };
        plain[EV_SC_REFERENCE] = str(ex, "reference");
        plain[EV_SC_DESCRIPTION] = str(ex, "description");
        plain[EV_SC_ACTION] = str(event, "action");
        plain[EV_SC_PRODUCER_NAME] = str(person, "name");
        plain[EV_SC_PRODUCER_IDENTIFIER] = str(person, "identifier");
        plain[EV_SC_PRODUCER_ROLE] = str(event, "performer_role");
        plain[EV_SC_PRODUCER_ORGANISATION] = str(person, "organisation");
        plain[EV_SC_PLACE] = str(place, "description");
        plain[EV_SC_ADDRESS] = str(place, "address");
        plain[EV_SC_POSTCODE] = str(place, "postcode");
        plain[EV_SC_SOURCE_MAKE] = str(src, "make");
        plain[EV_SC_SOURCE_MODEL] = str(src, "model");
        plain[EV_SC_SOURCE_SERIAL] = str(src, "serial");
        plain[EV_SC_SOURCE_OWNER] = str(src, "owner");
        plain[EV_SC_SOURCE_SYSTEM] = str(src, "system");
        plain[EV_SC_CRIME_REFERENCE] = str(refs, "crime");
        plain[EV_SC_URN] = str(refs, "urn");
        plain[EV_SC_DEMS_ID] = str(refs, "dems_id");
        plain[EV_SC_HANDLING_NOTES] = str(ex, "handling_notes");
        for (int c = 0; c < EV_SC_COUNT; c++)
            if (plain[c] && !(cells[c] = ev__strdup(plain[c])))
                rc = EV_ENOMEM;
        if (event) {
            rc |= time_cell(event, "time", &cells[EV_SC_TIME]);
            rc |= time_cell(event, "end_time", &cells[EV_SC_END_TIME]);
        }
        char deg[32];
        const char *ck[2] = { "latitude", "longitude" };
        for (int c = 0; c < 2; c++) {
            json_t *v = json_object_get(place, ck[c]);
            if (json_is_number(v) && ev_bundle__sched_format_deg(deg, sizeof(deg), json_number_value(v)) &&
                !(cells[c ? EV_SC_LONGITUDE : EV_SC_LATITUDE] = ev__strdup(deg)))
                rc = EV_ENOMEM;
        }
        ev_buf files = { 0 };
        size_t fi;
        json_t *f;
        json_array_foreach(json_object_get(ex, "files"), fi, f) {
            if (fi)
                rc |= ev_buf__append(&files, "\n", 1);
            rc |= ev_buf__puts(&files, json_string_value(f) ? json_string_value(f) : "");
        }
        if (files.len) {
            cells[EV_SC_FILES] = files.data; /* ev_buf keeps a NUL at the end */
        } else {
            ev_buf__free(&files);
        }
        for (int c = 0; c < EV_SC_COUNT; c++) {
            if (c)
                rc |= ev_buf__append(out, ",", 1);
            rc |= put_cell(out, cells[c]);
            free(cells[c]);
        }
        json_array_foreach(extra_cols, j, n) {
            rc |= ev_buf__append(out, ",", 1);
            rc |= put_cell(out, str(json_object_get(ex, "extra"), json_string_value(n)));
        }
        rc |= ev_buf__append(out, "\r\n", 2);
        if (rc != EV_OK) {
            rc = EV_ENOMEM;
            goto done;
        }
    }
done:
    json_decref(extra_cols);
    json_decref(extra_seen);
    json_decref(events);
    json_decref(people);
    json_decref(places);
    return rc;
}
