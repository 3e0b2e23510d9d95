/*
 * Exhibit schedules inside the library: the table of rows that both readers
 * (schedule_csv.c, schedule_json.c) fill and that schedule.c checks and turns
 * into the evidence.schedule document. Calls go one way:
 * schedule.c -> schedule_csv.c, schedule_json.c -> schedule_rows.c.
 */
#ifndef EV_BUNDLE_SCHEDULE_INT_H
#define EV_BUNDLE_SCHEDULE_INT_H

#include "base/internal.h"

/* The known columns, in the order the CSV writer writes them. */
typedef enum ev_sched_col {
    EV_SC_REFERENCE,
    EV_SC_DESCRIPTION,
    EV_SC_ACTION,
    EV_SC_PRODUCER_NAME,
    EV_SC_PRODUCER_IDENTIFIER,
    EV_SC_PRODUCER_ROLE,
    EV_SC_PRODUCER_ORGANISATION,
    EV_SC_TIME,
    EV_SC_END_TIME,
    EV_SC_PLACE,
    EV_SC_ADDRESS,
    EV_SC_POSTCODE,
    EV_SC_LATITUDE,
    EV_SC_LONGITUDE,
    EV_SC_SOURCE_MAKE,
    EV_SC_SOURCE_MODEL,
    EV_SC_SOURCE_SERIAL,
    EV_SC_SOURCE_OWNER,
    EV_SC_SOURCE_SYSTEM,
    EV_SC_CRIME_REFERENCE,
    EV_SC_URN,
    EV_SC_DEMS_ID,
    EV_SC_HANDLING_NOTES,
    EV_SC_FILES,
    EV_SC_COUNT
} ev_sched_col;

/* Limits: a schedule is a list typed by people, not a data dump. */
#define EV_SCHED_MAX_BYTES (16u << 20)
#define EV_SCHED_MAX_ROWS 10000u
#define EV_SCHED_MAX_CELL (64u << 10)
#define EV_SCHED_MAX_COLUMNS 256u
#define EV_SCHED_MAX_FILES 100000u
#define EV_SCHED_MAX_PROBLEMS 100u

/* One exhibit as read: each known column's text (NULL when empty), where it
 * came from, and the cells of unknown columns. */
typedef struct ev_sched_row {
    unsigned long line;          /* CSV: line the row starts on; JSON: 0 */
    char *where;                 /* JSON: "exhibits[2]"; CSV: NULL */
    char *cells[EV_SC_COUNT];
    unsigned int colno[EV_SC_COUNT]; /* CSV: 1-based column of each cell */
    unsigned long cline[EV_SC_COUNT]; /* CSV: line each cell begins on (after a
                                       * quoted line break, not the row's) */
    json_t *extra;               /* object: column name -> string, or NULL */
} ev_sched_row;

typedef struct ev_sched_rows {
    ev_sched_row *v;
    size_t n, cap;
    json_t *problems; /* array of strings */
    json_t *warnings; /* array of strings */
    const char *name; /* borrowed: the schedule's name for messages */
    bool bom;
    bool truncated;   /* more problems than EV_SCHED_MAX_PROBLEMS */
} ev_sched_rows;

/* schedule_rows.c */
int ev_bundle__sched_rows_init(ev_sched_rows *t, const char *name);
void ev_bundle__sched_rows_free(ev_sched_rows *t);
/* A new empty row at the end (NULL on ENOMEM). */
ev_sched_row *ev_bundle__sched_row_add(ev_sched_rows *t, unsigned long line, const char *where);
/* Name of a known column ("producer_name"). */
const char *ev_bundle__sched_col_name(int col);
/* The column a header names (trimmed, case and ' '/'-' vs '_' ignored), or -1. */
int ev_bundle__sched_col_find(const char *header);
/* Add a problem / warning "NAME: <where>: text". Returns EV_EFORMAT / EV_OK
 * (EV_ENOMEM when out of memory). */
int ev_bundle__sched_problem(ev_sched_rows *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ev_bundle__sched_warning(ev_sched_rows *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "line 4, column 9 (time)" or "exhibits[2].time" for a cell; caller frees. */
char *ev_bundle__sched_where(const ev_sched_row *r, int col);
/* Decimal degrees with at most 10 decimals as text, without a locale
 * ("-0.1276"); false when v has more decimals than that. buf >= 32. */
bool ev_bundle__sched_format_deg(char *buf, size_t len, double v);
/* A cell that a spreadsheet would run as a formula: starts with = + - @ TAB
 * CR after any number of single quotes, and is not a plain number. */
bool ev_bundle__sched_needs_defuse(const char *s);

/* schedule_csv.c: CSV bytes -> rows (syntax problems stop the read and are
 * in t->problems), and the document -> CSV. */
int ev_bundle__sched_csv_read(ev_sched_rows *t, const char *data, size_t len);
int ev_bundle__sched_csv_write(ev_buf *out, const json_t *doc, bool bom);

/* schedule_json.c: a JSON schedule -> rows, and the document -> a JSON
 * schedule file. */
int ev_bundle__sched_json_read(ev_sched_rows *t, const char *data, size_t len);
int ev_bundle__sched_json_write(char **out, const json_t *doc);

#endif
