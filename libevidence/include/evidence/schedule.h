/**
 * @file evidence/schedule.h
 * @brief Exhibit schedules: an officer's list of exhibits, read from CSV or
 *        JSON, checked, and written back.
 * @defgroup ev_schedule Exhibit schedules
 * @{
 *
 * An exhibit schedule names, for each exhibit, its reference (e.g. "JS/1"),
 * description, the person who produced or seized it, when and where, the
 * device or system it came from, the references other systems use for it,
 * handling notes and its files. docs/exhibit-schedule.md describes the CSV
 * columns; docs/schema/schedule.schema.json the JSON form.
 *
 * Reading a schedule gives one JSON document (format "evidence.schedule",
 * docs/api/results.md): people, places and events become nodes of their own
 * (one person or place named on several rows is one node) and each exhibit
 * refers to them by id. Writing gives CSV or JSON that reads back to the
 * same people, places, events and exhibits.
 *
 * Thread-safety: a handle is used by one thread at a time; different handles
 * may be used in parallel.
 */
#ifndef EVIDENCE_SCHEDULE_H
#define EVIDENCE_SCHEDULE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A schedule reader: the last schedule read, its warnings and problems. */
typedef struct ev_schedule ev_schedule;

/** Syntax of a schedule given as bytes. */
typedef enum ev_schedule_syntax {
    EV_SCHEDULE_AUTO = 0, /**< JSON when the first byte that is not white space is '{', else CSV */
    EV_SCHEDULE_CSV = 1,  /**< RFC 4180 CSV, UTF-8, comma separated, a header row */
    EV_SCHEDULE_JSON = 2  /**< docs/schema/schedule.schema.json */
} ev_schedule_syntax;

/** Do not look for the listed files (nothing on disk is touched). */
#define EV_SCHEDULE_NO_FILE_CHECK (1u << 0)
/** ev_schedule_write_csv(): begin with a UTF-8 byte order mark (for spreadsheets). */
#define EV_SCHEDULE_WRITE_BOM (1u << 0)

/** Options of ev_schedule_new(). Zero is the default for every field. */
typedef struct ev_schedule_options {
    unsigned int version; /**< EV_SCHEDULE_OPTIONS_VERSION */
    uint32_t flags;       /**< EV_SCHEDULE_* */
    /** Folder that relative file paths are taken from; NULL: the folder of
     *  the schedule file (ev_schedule_read_file()) or the current folder
     *  (ev_schedule_read_buffer()). Copied. */
    const char *base_dir;
} ev_schedule_options;
#define EV_SCHEDULE_OPTIONS_VERSION 1
#define EV_SCHEDULE_OPTIONS_INIT EV_OPTIONS_INIT_(ev_schedule_options, EV_SCHEDULE_OPTIONS_VERSION)

/**
 * Initialise options to the defaults of a version.
 * @param opts     Options to fill; must not be NULL.
 * @param version  EV_SCHEDULE_OPTIONS_VERSION.
 * @return EV_OK, EV_EINVAL or EV_EVERSION.
 */
EV_EXTERN int ev_schedule_options_init(ev_schedule_options *opts, unsigned int version);

/**
 * Create a schedule reader. CONSTRUCTOR.
 * @param out   Receives the handle; NULL on failure (nothing to free).
 * @param opts  Options, or NULL for the defaults; copied.
 * @return EV_OK, EV_EINVAL, EV_EVERSION or EV_ENOMEM.
 */
EV_EXTERN int ev_schedule_new(ev_schedule **out, const ev_schedule_options *opts);

/**
 * Free a schedule reader. DESTRUCTOR.
 * @param s  May be NULL.
 */
EV_EXTERN void ev_schedule_free(ev_schedule *s);

/**
 * Message of the last failed call: the first problem (naming the line and
 * column, or the JSON path) and how many more there are.
 * @param s  Handle; may be NULL.
 * @return Text owned by the handle, valid until the next call on it; never NULL.
 */
EV_EXTERN const char *ev_schedule_last_error(const ev_schedule *s);

/**
 * Read and check a schedule file (".json": JSON, else by content as for
 * EV_SCHEDULE_AUTO). Relative file paths in it are taken from the base
 * folder of the options, else from the schedule's own folder.
 * @param s     Handle; must not be NULL.
 * @param path  Schedule file; copied.
 * @return EV_OK; EV_ENOTFOUND or EV_EIO (the file cannot be read);
 *         EV_EFORMAT (the schedule has problems: see
 *         ev_schedule_problem_count(); nothing of it is kept); EV_ENOMEM.
 */
EV_EXTERN int ev_schedule_read_file(ev_schedule *s, const char *path);

/**
 * Read and check a schedule from memory.
 * @param s       Handle; must not be NULL.
 * @param data    The bytes (may hold NUL bytes, which are refused).
 * @param len     Their number.
 * @param syntax  EV_SCHEDULE_CSV, EV_SCHEDULE_JSON or EV_SCHEDULE_AUTO.
 * @param name    Name used in messages (e.g. the file name), or NULL; copied.
 * @return EV_OK, EV_EFORMAT (see ev_schedule_problem_count()), EV_EINVAL or
 *         EV_ENOMEM.
 */
EV_EXTERN int ev_schedule_read_buffer(ev_schedule *s, const void *data, size_t len,
                                      ev_schedule_syntax syntax, const char *name);

/**
 * Number of problems found by the last read (0 after a successful one).
 * @param s  Handle; must not be NULL.
 * @return The count (at most 100 are kept).
 */
EV_EXTERN size_t ev_schedule_problem_count(const ev_schedule *s);

/**
 * A problem of the last read, e.g. "schedule.csv: line 4, column 9 (time):
 * '2026-02-30T25:00' is not a possible time: ...".
 * @param s  Handle; must not be NULL.
 * @param i  Index below ev_schedule_problem_count().
 * @return Borrowed text valid until the next read on s, or NULL.
 */
EV_EXTERN const char *ev_schedule_problem(const ev_schedule *s, size_t i);

/**
 * Number of warnings of the last successful read (an unknown column kept as
 * an extra field, a byte order mark skipped, a node nobody refers to).
 * @param s  Handle; must not be NULL.
 * @return The count.
 */
EV_EXTERN size_t ev_schedule_warning_count(const ev_schedule *s);

/**
 * A warning of the last successful read.
 * @param s  Handle; must not be NULL.
 * @param i  Index below ev_schedule_warning_count().
 * @return Borrowed text valid until the next read on s, or NULL.
 */
EV_EXTERN const char *ev_schedule_warning(const ev_schedule *s, size_t i);

/**
 * Number of exhibits of the last successful read.
 * @param s  Handle; must not be NULL.
 * @return The count (0 when nothing was read).
 */
EV_EXTERN size_t ev_schedule_exhibit_count(const ev_schedule *s);

/**
 * Reference of an exhibit, as written in the schedule (e.g. "JS/1").
 * @param s  Handle; must not be NULL.
 * @param i  Index below ev_schedule_exhibit_count(), in schedule order.
 * @return Borrowed text valid until the next read on s, or NULL.
 */
EV_EXTERN const char *ev_schedule_exhibit_reference(const ev_schedule *s, size_t i);

/**
 * Number of files (or folders) listed for an exhibit.
 * @param s  Handle; must not be NULL.
 * @param i  Exhibit index.
 * @return The count (0 for an exhibit without files or out of range).
 */
EV_EXTERN size_t ev_schedule_exhibit_file_count(const ev_schedule *s, size_t i);

/**
 * A listed file as a path to open: the path as written when absolute, else
 * joined to the base folder.
 * @param s  Handle; must not be NULL.
 * @param i  Exhibit index.
 * @param j  File index below ev_schedule_exhibit_file_count(s, i).
 * @return Borrowed text valid until the next read on s, or NULL.
 */
EV_EXTERN const char *ev_schedule_exhibit_file(const ev_schedule *s, size_t i, size_t j);

/**
 * The last schedule read as one document (format "evidence.schedule",
 * docs/schema/schedule.schema.json): source, warnings, people, places,
 * events and exhibits; keys in a fixed order, indented by two spaces.
 * @param out  Receives NUL-terminated JSON; free with ev_free(). NULL on failure.
 * @param s    Handle; must not be NULL.
 * @return EV_OK, EV_EINVAL (nothing read yet) or EV_ENOMEM.
 */
EV_EXTERN int ev_schedule_json(char **out, const ev_schedule *s);

/**
 * The last schedule read as a JSON schedule file: the document of
 * ev_schedule_json() without "source" and "warnings". Reading it gives the
 * same people, places, events and exhibits.
 * @param out  Receives NUL-terminated JSON ending in a newline; free with ev_free().
 * @param s    Handle; must not be NULL.
 * @return EV_OK, EV_EINVAL (nothing read yet) or EV_ENOMEM.
 */
EV_EXTERN int ev_schedule_write_json(char **out, const ev_schedule *s);

/**
 * The last schedule read as CSV: a header row of every column (then the
 * extra columns, in the order first met), one row per exhibit, CRLF line
 * ends, cells quoted where RFC 4180 needs it. A cell that a spreadsheet
 * would take for a formula (it starts with '=', '+', '-', '@', a tab or a
 * carriage return, after any single quotes) gets one more single quote in
 * front; the reader takes one off again (docs/exhibit-schedule.md).
 * @param out    Receives the bytes (NUL-terminated too); free with ev_free().
 * @param len    Receives their number (without the NUL); may be NULL.
 * @param s      Handle; must not be NULL.
 * @param flags  EV_SCHEDULE_WRITE_BOM or 0.
 * @return EV_OK, EV_EINVAL (nothing read yet) or EV_ENOMEM.
 */
EV_EXTERN int ev_schedule_write_csv(char **out, size_t *len, const ev_schedule *s, uint32_t flags);

#ifdef __cplusplus
}
#endif
/** @} */
#endif
