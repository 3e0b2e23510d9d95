/**
 * @file evidence/bundle.h
 * @brief Create, open, verify, inspect, extract and amend evidence bundles.
 * @defgroup ev_bundle Evidence bundles
 * @{
 *
 * A bundle is a BagIt 1.0 bag (RFC 8493), either serialised as one ZIP file
 * holding a single top folder, or kept as a plain folder. See docs/bundle.md.
 *
 * Thread-safety: a handle (ev_writer, ev_bundle, ev_report) is used by one
 * thread at a time; different handles may be used in parallel.
 */
#ifndef EVIDENCE_BUNDLE_H
#define EVIDENCE_BUNDLE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

/** Output form of a new bundle. */
typedef enum ev_bundle_format {
    EV_FORMAT_ZIP = 0, /**< one ZIP file holding the bag folder (default) */
    EV_FORMAT_DIR = 1  /**< a plain folder bag */
} ev_bundle_format;

/** Digest algorithms (OR-able, passed as uint32_t). */
#define EV_ALG_SHA256 0x1u
#define EV_ALG_SHA512 0x2u
#define EV_ALG_SHA1   0x4u /**< verification of legacy bags only */
#define EV_ALG_MD5    0x8u /**< verification of legacy bags only */

/** What media content hashes are computed (see docs/content-hashes.md). */
typedef enum ev_content_hash_mode {
    EV_CONTENT_HASH_DEFAULT = 0, /**< the writer (pack): packets only, and the
                                      thumbnail from one decoded frame;
                                      ev_media_analyze (inspect FILE): both */
    EV_CONTENT_HASH_NONE = 1,
    EV_CONTENT_HASH_PACKETS = 2,
    EV_CONTENT_HASH_DECODED = 3,
    EV_CONTENT_HASH_BOTH = 4
} ev_content_hash_mode;

/** Writer flags. */
#define EV_WRITER_NO_MEDIA 0x1u /**< skip media analysis entirely */

typedef struct ev_writer ev_writer;

typedef struct ev_writer_options {
    unsigned int version;        /**< EV_WRITER_OPTIONS_VERSION */
    uint32_t flags;              /**< EV_WRITER_* */
    ev_bundle_format format;
    uint32_t algorithms;         /**< EV_ALG_SHA256 | EV_ALG_SHA512; 0 = SHA-256 */
    const char *case_ref;        /**< External-Identifier; may be NULL */
    const char *organisation;    /**< Source-Organization; may be NULL */
    const char *officer;         /**< Contact-Name; may be NULL */
    const char *officer_id;      /**< exported_by.identifier; may be NULL */
    const char *operation;       /**< case.operation; may be NULL */
    const char *description;     /**< External-Description; may be NULL */
    const char *source_system;   /**< source_system.name; may be NULL */
    int content_hash;            /**< ev_content_hash_mode */
    unsigned int threads;        /**< worker threads; 0 = number of cores */
    ev_progress_cb progress_cb;
    void *progress_payload;
    ev_log_cb log_cb;
    void *log_payload;
    /* version 2 */
    const char *officer_person;  /**< a person of the schedule (ev_writer_add_schedule()):
                                      its id ("person-1") or its identifier exactly as
                                      recorded ("PC 1234"). The "created" custody event
                                      names it ("person"); officer, officer_id and
                                      organisation left NULL are taken from it, and given
                                      they must be its. May be NULL */
} ev_writer_options;

/** 2 adds officer_person; version 1 structs are still accepted. */
#define EV_WRITER_OPTIONS_VERSION 2
#define EV_WRITER_OPTIONS_INIT EV_OPTIONS_INIT_(ev_writer_options, EV_WRITER_OPTIONS_VERSION)

/**
 * Initialise options to their defaults.
 * @param opts     Options to fill; must not be NULL.
 * @param version  EV_WRITER_OPTIONS_VERSION.
 * @return EV_OK, EV_EINVAL or EV_EVERSION.
 */
EV_EXTERN int ev_writer_options_init(ev_writer_options *opts, unsigned int version);

/**
 * Create a bundle writer. CONSTRUCTOR.
 * @param out   Receives the writer; NULL on failure (nothing to free).
 * @param opts  Options, or NULL for defaults; strings are copied.
 * @return EV_OK, EV_ENOMEM, EV_EINVAL or EV_EVERSION.
 */
EV_EXTERN int ev_writer_new(ev_writer **out, const ev_writer_options *opts);

/**
 * Add a file, or a folder recursively, as master items of one exhibit.
 * Folders keep their relative structure under data/<exhibit>/. Only the
 * file list and sizes are read now; contents are read once, by seal.
 * The walk of a folder reports to the options' progress callback (stage
 * "finding files", files counted, no total) and stops when it asks to.
 * @param w        Writer; must not be NULL.
 * @param path     File or folder; copied.
 * @param exhibit  Exhibit reference (e.g. "JS/1"); NULL means "1".
 * @return EV_OK, EV_ENOTFOUND, EV_EIO, EV_EINVAL, EV_ECANCELED, or another
 *         negative ev_status; the message is in ev_writer_last_error(w).
 *         After a failure in a folder, the files found before it stay in
 *         the writer: free the writer rather than seal it.
 */
EV_EXTERN int ev_writer_add(ev_writer *w, const char *path, const char *exhibit);

struct ev_profile; /* evidence/profile.h */

/**
 * Ask for a working copy of every master made with a profile (see
 * evidence/profile.h). At seal time each master that the profile accepts is
 * transcoded and verified (evidence/transcode.h); the copy is added as a
 * derivative under data/<exhibit>/derived/<profile>/ with derived_from in
 * the record, its derivation record under meta/<item>/derivation.json and a
 * "transcoded" custody event. Masters the profile does not accept are left
 * without that copy (a warning goes to the log callback). A copy that fails
 * its verification fails the seal: nothing is written.
 * @param w        Writer; must not be NULL.
 * @param profile  Profile; borrowed: it must stay valid until
 *                 ev_writer_seal() returns.
 * @return EV_OK, EV_EINVAL or EV_ENOMEM.
 */
EV_EXTERN int ev_writer_add_profile(ev_writer *w, const struct ev_profile *profile);

struct ev_schedule; /* evidence/schedule.h */

/**
 * Pack an exhibit schedule read with ev_schedule_read_file() or
 * ev_schedule_read_buffer(): each exhibit's files are added as by
 * ev_writer_add() under the exhibit's reference, and the record gets the
 * schedule's people, places and events and an "exhibits" list with each
 * exhibit's facts (docs/exhibit-schedule.md). Files added with
 * ev_writer_add() under a reference the schedule does not have make an
 * exhibit with only its reference. At most one schedule per writer.
 * @param w  Writer; must not be NULL.
 * @param s  A schedule read without problems; its document is copied.
 * @return EV_OK, EV_EINVAL (no schedule read, or a second schedule),
 *         EV_ENOMEM, or an ev_writer_add() status (a listed file that went
 *         away since it was checked); the message is in ev_writer_last_error(w).
 */
EV_EXTERN int ev_writer_add_schedule(ev_writer *w, const struct ev_schedule *s);

/**
 * Write the bundle to out_path: everything is written under a temporary name
 * in the same folder and renamed into place only when complete, so a failure
 * or an interruption never leaves a file at out_path. A writer seals once:
 * a second call, also after a failure once the items were named (an
 * existing out_path, a cancel, a read error), gives EV_EINVAL; make a new
 * writer.
 * @param w         Writer; must not be NULL.
 * @param out_path  ZIP file (or folder for EV_FORMAT_DIR); must not exist.
 * @return EV_OK, EV_EEXISTS, EV_EIO, EV_ECANCELED, EV_EFORMAT (an input
 *         changed while being packed) or another negative ev_status.
 */
EV_EXTERN int ev_writer_seal(ev_writer *w, const char *out_path);

/**
 * Message of the last failed call on this writer.
 * @return Text owned by the writer, valid until the next call on it.
 */
EV_EXTERN const char *ev_writer_last_error(const ev_writer *w);

/** Free a writer. DESTRUCTOR. Does nothing when w is NULL. */
EV_EXTERN void ev_writer_free(ev_writer *w);

/* ------------------------------------------------------------------------ */
/* Reading                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct ev_bundle ev_bundle;

typedef struct ev_bundle_options {
    unsigned int version;       /**< EV_BUNDLE_OPTIONS_VERSION */
    uint32_t flags;             /**< reserved, 0 */
    uint64_t max_entries;       /**< refuse bundles with more; 0 = 1,000,000 */
    uint64_t max_total_size;    /**< refuse bigger claimed totals; 0 = 1 TiB */
    uint64_t max_ratio;         /**< max expansion of deflated entries over 1 MiB, and of the
                                     whole archive; 0 = 1000 */
    unsigned int threads;       /**< hashing threads; 0 = number of cores (at most 16).
                                     With more than 1, ev_bundle_verify() also runs the
                                     record checks and the check of the two views
                                     (case.jsonld, index.html) on three threads of their
                                     own beside the hashing, so up to threads + 3 run at
                                     once for a while; with 1 everything runs on the
                                     calling thread */
    ev_progress_cb progress_cb;
    void *progress_payload;
    ev_log_cb log_cb;
    void *log_payload;
    /* version 2 */
    uint64_t max_items;          /**< refuse records with more items; 0 = 1,000,000 */
    uint64_t max_record_size;    /**< refuse a bigger evidence.json or custody.jsonl;
                                      0 = 256 MiB */
    uint64_t max_custody_events; /**< refuse custody logs with more events; 0 = 100,000 */
} ev_bundle_options;

/** 2 adds the record limits; version 1 structs are still accepted. */
#define EV_BUNDLE_OPTIONS_VERSION 2
#define EV_BUNDLE_OPTIONS_INIT EV_OPTIONS_INIT_(ev_bundle_options, EV_BUNDLE_OPTIONS_VERSION)

/** Initialise options to their defaults (version 1 or 2; a version 1
 *  struct is written only up to its last field). @return EV_OK or EV_EVERSION. */
EV_EXTERN int ev_bundle_options_init(ev_bundle_options *opts, unsigned int version);

/**
 * Create a bundle reader. CONSTRUCTOR.
 * @param out   Receives the handle; NULL on failure.
 * @param opts  Options or NULL for defaults.
 * @return EV_OK, EV_ENOMEM, EV_EINVAL or EV_EVERSION.
 */
EV_EXTERN int ev_bundle_new(ev_bundle **out, const ev_bundle_options *opts);

/**
 * Open a bundle: a ZIP file or a folder. Reads the entry list and the tag
 * files; treats every name and size inside as hostile. A bag that is
 * damaged but readable opens successfully: its problems are reported by
 * ev_bundle_verify().
 * @param b     Handle from ev_bundle_new().
 * @param path  ZIP file or bag folder; copied.
 * @return EV_OK, EV_ENOTFOUND, EV_EIO, EV_EFORMAT (not a ZIP, no single top
 *         folder), EV_EUNSAFE or EV_EUNSUPPORTED; the message is in
 *         ev_bundle_last_error(b).
 */
EV_EXTERN int ev_bundle_open(ev_bundle *b, const char *path);

/** Message of the last failed call on this handle; owned by the handle. */
EV_EXTERN const char *ev_bundle_last_error(const ev_bundle *b);

/** Free a bundle handle. DESTRUCTOR. Does nothing when b is NULL. */
EV_EXTERN void ev_bundle_free(ev_bundle *b);

/** Name of the bag (the top folder). Borrowed; valid while b is open. */
EV_EXTERN const char *ev_bundle_name(const ev_bundle *b);

/** True when the bundle is a ZIP, false for a folder. */
EV_EXTERN bool ev_bundle_is_zip(const ev_bundle *b);

/** One item of the record (evidence.json). Borrowed; valid while b is open. */
typedef struct ev_item {
    unsigned int version;        /**< EV_ITEM_VERSION */
    const char *id;
    const char *exhibit;
    const char *role;            /**< "master" or "derivative" */
    const char *path;            /**< bundle path, "data/..." */
    const char *original_name;
    uint64_t size;
    const char *sha256;          /**< lower-case hex, or NULL */
    const char *mime;
    const char *derived_from;    /**< source item id, or NULL */
} ev_item;
#define EV_ITEM_VERSION 1

/** Number of items in the record; 0 when there is no readable record. */
EV_EXTERN size_t ev_bundle_item_count(const ev_bundle *b);

/** Item i (0-based), or NULL when out of range. Borrowed. */
EV_EXTERN const ev_item *ev_bundle_item(const ev_bundle *b, size_t i);

/**
 * Walk the regular files of an open bundle, one per call, in the order of
 * the container (the ZIP's central directory, or the folder walk): tag
 * files, payload files and signatures/ alike. Folders, and entries refused
 * as unsafe when the bundle was opened (ev_bundle_verify() reports those),
 * are skipped. No entry is read; the cost is linear in the entries.
 *
 *     size_t pos = 0;
 *     const char *path;
 *     while (ev_bundle_entry_next(&path, NULL, b, &pos))
 *         puts(path);
 *
 * Thread-safety: as for every call on b (one thread at a time); each walk
 * keeps its own pos.
 * @param path  Receives the bag-relative path, e.g. "signatures/0002-x.p7s";
 *              NULL at the end. Borrowed from b: valid until b is opened
 *              again (also by ev_bundle_amend() and ev_signer_sign()) or
 *              freed.
 * @param size  Receives the size the container claims for the entry (a
 *              claim, not a fact); may be NULL.
 * @param b     Open bundle.
 * @param pos   Position in the walk: 0 before the first call, then left as
 *              the call sets it.
 * @return true with the next entry; false at the end, or when path or pos
 *         is NULL, or b is NULL or not open.
 */
EV_EXTERN bool ev_bundle_entry_next(const char **path, uint64_t *size, const ev_bundle *b,
                                    size_t *pos);

/**
 * A summary of the bundle as JSON ("format": "evidence.inspect"): bag-info,
 * case, items, custody events, signatures. See docs/schema/.
 * @param out  Receives a string; free with ev_free().
 * @return EV_OK, EV_ENOMEM or EV_ERROR (message in the handle).
 */
EV_EXTERN int ev_bundle_inspect_json(char **out, ev_bundle *b);

/**
 * The same summary as ev_bundle_inspect_json() as text lines for a person
 * (what `evidence inspect BUNDLE` prints): bag-info, case, payload,
 * exhibits, items, custody events with their links, signatures. The JSON
 * stays the interface for programs; this text may change between versions
 * (docs/api/results.md).
 * @param out  Receives NUL-terminated UTF-8 text ending in a newline; free
 *             with ev_free(). NULL on failure.
 * @param b    Open bundle.
 * @return EV_OK, EV_EINVAL (out or b NULL, or b not open) or EV_ENOMEM.
 * Ownership: the text is the caller's. Thread-safety: as for the handle
 * (one thread at a time).
 */
EV_EXTERN int ev_bundle_inspect_text(char **out, ev_bundle *b);

/**
 * Read a whole tag file (any file outside data/) into memory.
 * @param out      Receives the bytes (plus a NUL terminator not counted in
 *                 out_len); free with ev_free().
 * @param out_len  Receives the length.
 * @param path     Path relative to the bag root, e.g. "custody.jsonl".
 * @param max_len  Refuse larger files with EV_EUNSAFE; 0 = 64 MiB.
 * @return EV_OK, EV_ENOTFOUND, EV_EUNSAFE, EV_EIO.
 */
EV_EXTERN int ev_bundle_read_file(uint8_t **out, size_t *out_len, ev_bundle *b,
                                  const char *path, size_t max_len);

/* ------------------------------------------------------------------------ */
/* Verification reports                                                      */
/* ------------------------------------------------------------------------ */

typedef enum ev_severity {
    EV_SEVERITY_ERROR = 0,   /**< the bag is not valid */
    EV_SEVERITY_WARNING = 1, /**< valid, but worth a look */
    EV_SEVERITY_INFO = 2
} ev_severity;

/** One problem found. Borrowed from the report. */
typedef struct ev_problem {
    unsigned int version;   /**< EV_PROBLEM_VERSION */
    ev_severity severity;
    const char *code;       /**< stable identifier, see docs/verify-codes.md */
    const char *path;       /**< file concerned (bag-relative), or NULL */
    const char *message;    /**< human text: what, where, what to do */
} ev_problem;
#define EV_PROBLEM_VERSION 1

/** Per-file result of a verification or extraction. Borrowed. */
typedef enum ev_file_status {
    EV_FILE_OK = 0,
    EV_FILE_MODIFIED = 1,   /**< content differs from a manifest */
    EV_FILE_MISSING = 2,    /**< listed but absent */
    EV_FILE_EXTRA = 3,      /**< present but not listed */
    EV_FILE_ERROR = 4,      /**< could not be read */
    EV_FILE_UNCHECKED = 5   /**< not hashed (e.g. --fast) */
} ev_file_status;

typedef struct ev_file_result {
    unsigned int version;   /**< EV_FILE_RESULT_VERSION */
    const char *path;       /**< bag-relative path */
    const char *item_id;    /**< record item id, or NULL */
    bool is_tag;            /**< tag file (outside data/) */
    ev_file_status status;
    uint64_t size;
    const char *sha256;     /**< computed digest (hex) or NULL */
} ev_file_result;
#define EV_FILE_RESULT_VERSION 1

typedef struct ev_report ev_report;

/**
 * Overall verdict. The values are the library's own (0..2), not the exit
 * codes of the evidence CLI: the CLI maps a verdict to its exit code itself
 * (docs/cli/exit-codes.md). In 0.1.0, EV_VERDICT_UNREADABLE was 3.
 */
typedef enum ev_verdict {
    EV_VERDICT_VALID = 0,      /**< complete and valid */
    EV_VERDICT_INVALID = 1,    /**< ran; at least one check failed */
    EV_VERDICT_UNREADABLE = 2  /**< could not be checked (input error) */
} ev_verdict;

/**
 * Overall verdict of a report.
 * @param r  Report; NULL gives EV_VERDICT_UNREADABLE.
 * @return EV_VERDICT_VALID, EV_VERDICT_INVALID or EV_VERDICT_UNREADABLE.
 */
EV_EXTERN ev_verdict ev_report_verdict(const ev_report *r);

/** Number of problems in the report (errors, warnings and notes). */
EV_EXTERN size_t ev_report_problem_count(const ev_report *r);

/** Problem i, or NULL when out of range. Borrowed from r. */
EV_EXTERN const ev_problem *ev_report_problem(const ev_report *r, size_t i);

/** Number of per-file results in the report. */
EV_EXTERN size_t ev_report_file_count(const ev_report *r);
/** File result i, or NULL when out of range. Borrowed from r. */
EV_EXTERN const ev_file_result *ev_report_file(const ev_report *r, size_t i);

/**
 * The report as one JSON document ("format": "evidence.verify" or
 * "evidence.extract"), as described in docs/schema/, indented by two spaces.
 * The same as ev_report_json_ext(out, r, 0).
 * @param out  Receives the text with a trailing newline; free with ev_free().
 * @return EV_OK, EV_EINVAL or EV_ENOMEM.
 */
EV_EXTERN int ev_report_json(char **out, const ev_report *r);

/** Flags of ev_report_json_ext(). */
#define EV_JSON_COMPACT 0x1u /**< the document on one line, without spaces
                                  between tokens (one JSON Lines record) */

/**
 * The report as one JSON document, as ev_report_json(), laid out as asked.
 * Keys come in a fixed order, so the text is reproducible.
 * @param out    Receives the text with a trailing newline (the only newline
 *               with EV_JSON_COMPACT); free with ev_free(). NULL on failure.
 * @param r      Report; must not be NULL.
 * @param flags  0 (indented) or EV_JSON_COMPACT.
 * @return EV_OK, EV_EINVAL (NULL argument or unknown flag) or EV_ENOMEM.
 */
EV_EXTERN int ev_report_json_ext(char **out, const ev_report *r, uint32_t flags);

/** Free a report. DESTRUCTOR. Does nothing when r is NULL. */
EV_EXTERN void ev_report_free(ev_report *r);

/** Verify flags. */
#define EV_VERIFY_FAST 0x1u /**< Payload-Oxum and file lists only, no hashing */
#define EV_VERIFY_DEEP 0x2u /**< also recompute media content hashes */

typedef struct ev_verify_options {
    unsigned int version; /**< EV_VERIFY_OPTIONS_VERSION */
    uint32_t flags;       /**< EV_VERIFY_* */
} ev_verify_options;
#define EV_VERIFY_OPTIONS_VERSION 1
#define EV_VERIFY_OPTIONS_INIT EV_OPTIONS_INIT_(ev_verify_options, EV_VERIFY_OPTIONS_VERSION)

/**
 * Check completeness and validity (RFC 8493 section 3), path safety, and that
 * the record agrees with the manifests. Reports every problem, not the first.
 * A mismatch is data, not an error: the call returns EV_OK and the verdict
 * is in the report.
 * @param out   Receives the report (also on EV_OK with problems); free with
 *              ev_report_free(). NULL on failure.
 * @return EV_OK when the checks ran, else a negative ev_status.
 */
EV_EXTERN int ev_bundle_verify(ev_report **out, ev_bundle *b, const ev_verify_options *opts);

/**
 * Extract the bag into dest (created if needed; must be empty if it exists).
 * Every byte is checked against the manifests as it is written, into a
 * hidden staging folder beside dest that becomes dest only when the report's
 * verdict is valid; otherwise it is removed and dest is left as it was.
 * Nothing is written outside dest and its staging folder.
 * @return EV_OK when extraction ran (see the report's verdict), else a
 *         negative ev_status.
 */
EV_EXTERN int ev_bundle_extract(ev_report **out, ev_bundle *b, const char *dest);

/* ------------------------------------------------------------------------ */
/* The verification report as an HTML page                                   */
/* ------------------------------------------------------------------------ */

typedef struct ev_report_html_options {
    unsigned int version;     /**< EV_REPORT_HTML_OPTIONS_VERSION */
    uint32_t flags;           /**< reserved, 0 */
    int64_t checked_at;       /**< Unix time the verification started; 0 = now */
    const char *tool_name;    /**< the program that ran it, e.g. "evidence";
                                   NULL = "libevidence" */
    const char *tool_version; /**< its version; NULL = ev_version_string() */
} ev_report_html_options;
#define EV_REPORT_HTML_OPTIONS_VERSION 1
#define EV_REPORT_HTML_OPTIONS_INIT \
    EV_OPTIONS_INIT_(ev_report_html_options, EV_REPORT_HTML_OPTIONS_VERSION)

/** Initialise options to their defaults. @return EV_OK, EV_EINVAL or EV_EVERSION. */
EV_EXTERN int ev_report_html_options_init(ev_report_html_options *opts, unsigned int version);

/**
 * One verification as a self-contained HTML page for people (auditors,
 * courts), printable to PDF: the verdict; what was checked, when, by which
 * tool and library versions, on which file (the SHA-256 of a ZIP bundle,
 * read now); the result of every check (container, BagIt structure,
 * manifests, tag manifests and seal, custody chain, record, views,
 * derivations, deep content checks); every signature with its signer,
 * claimed signing time and timestamp; what was not checked and why; every
 * problem; every item with its hashes, file check and capture facts as the
 * record states them (each with its source; a camera-local time of unknown
 * zone is shown as such, never as UTC); the custody log. The page holds no
 * script and loads nothing (inline CSS only, a Content-Security-Policy that
 * forbids everything else); every string from the bundle is escaped.
 *
 * The page shows the verification as it is: its verdict is
 * ev_report_verdict(r), and signatures appear only when r covers them
 * (ev_report_add_signatures() or ev_bundle_verify_signed()). The record and
 * custody log shown are read from b now. Nothing is written: publish the
 * text with ev_write_file_atomic(), and sign it, if wanted, with
 * ev_signer_sign_data() (evidence/sign.h).
 *
 * Thread-safety: b is used by one thread at a time; r is only read.
 * @param out      Receives the page (UTF-8, NUL-terminated); free with
 *                 ev_free(). NULL on failure.
 * @param out_len  Receives its length; may be NULL.
 * @param b        The open bundle that r verified.
 * @param r        Report of ev_bundle_verify() or ev_bundle_verify_signed()
 *                 on b (not of an extraction).
 * @param opts     Options, or NULL for defaults.
 * @return EV_OK; EV_EINVAL (a NULL argument, b not open, r not a
 *         verification); EV_EVERSION; EV_ENOMEM; the message is in
 *         ev_bundle_last_error(b).
 */
EV_EXTERN int ev_bundle_report_html(char **out, size_t *out_len, ev_bundle *b,
                                    const ev_report *r, const ev_report_html_options *opts);

/* ------------------------------------------------------------------------ */
/* Amending: custody events and extra tag files                              */
/* ------------------------------------------------------------------------ */

typedef struct ev_custody_event {
    unsigned int version;       /**< EV_CUSTODY_EVENT_VERSION */
    const char *action;         /**< received|verified|transcoded|exported|note|signed */
    const char *actor;          /**< may be NULL when person is given (version 2) */
    const char *organisation;   /**< may be NULL when person is given (version 2) */
    const char *note;           /**< may be NULL */
    /* version 2 */
    const char *person;         /**< a person of the record: its id ("person-2") or its
                                     identifier exactly as recorded ("PC 1234"); the event
                                     gets "person" (the id). actor and organisation left
                                     NULL are taken from that person; given, they must be
                                     the person's. May be NULL */
    const char *place;          /**< a place of the record, by its id ("place-1"); the
                                     event gets "place". May be NULL */
} ev_custody_event;
/** 2 adds person and place; version 1 events are still accepted. */
#define EV_CUSTODY_EVENT_VERSION 2

/** A tag file to add or replace (outside data/ and not a manifest). */
typedef struct ev_tag_file {
    const char *path;           /**< bag-relative, e.g. "signatures/0002-x.p7s" */
    const uint8_t *data;
    size_t len;
} ev_tag_file;

/**
 * Rewrite the bundle atomically with an optional new custody event appended
 * and tag files added or replaced, then re-seal the tag manifests. Payload
 * bytes are copied, never re-encoded. On success b is reopened on the new
 * bundle; on failure the bundle on disk is unchanged.
 * The people and places an event names are looked up in the bundle's record
 * (docs/exhibit-schedule.md): an unknown, ambiguous or contradicted person or
 * place is EV_EINVAL, with a message naming it and the ids the record has.
 * @param event   Event to append, or NULL.
 * @param files   Tag files to add or replace; may be NULL when nfiles is 0.
 * @return EV_OK, EV_EINVAL, EV_EIO, or another negative ev_status.
 */
EV_EXTERN int ev_bundle_amend(ev_bundle *b, const ev_custody_event *event,
                              const ev_tag_file *files, size_t nfiles);

/**
 * The custody log with the check of each link, as JSON
 * ("format": "evidence.custody").
 * @param out       Receives the text; free with ev_free().
 * @param all_ok    Receives true when every link checks; may be NULL.
 */
EV_EXTERN int ev_bundle_custody_json(char **out, bool *all_ok, ev_bundle *b);

/**
 * The custody log of ev_bundle_custody_json() as text lines for a person
 * (what `evidence custody show` prints): one line per event with the check
 * of its link, its note, the log's problem, then "chain: intact" or
 * "chain: BROKEN". The JSON stays the interface for programs; this text
 * may change between versions (docs/api/results.md).
 * @param out     Receives NUL-terminated UTF-8 text ending in a newline;
 *                free with ev_free(). NULL on failure.
 * @param all_ok  Receives true when every link checks; may be NULL.
 * @param b       Open bundle.
 * @return As ev_bundle_custody_json(): EV_OK, EV_EINVAL, EV_ENOTFOUND (no
 *         custody.jsonl), EV_EUNSAFE (over max_custody_events), EV_EIO or
 *         EV_ENOMEM; the message is in ev_bundle_last_error(b).
 * Ownership: the text is the caller's. Thread-safety: as for the handle.
 */
EV_EXTERN int ev_bundle_custody_text(char **out, bool *all_ok, ev_bundle *b);

/* ------------------------------------------------------------------------ */
/* Disclosure: a part of a bundle (docs/disclosure.md)                       */
/* ------------------------------------------------------------------------ */

/** Disclose flags. */
#define EV_DISCLOSE_WITH_COPIES 0x1u /**< also the working copies of the chosen masters */

typedef struct ev_disclose_options {
    unsigned int version;          /**< EV_DISCLOSE_OPTIONS_VERSION */
    uint32_t flags;                /**< EV_DISCLOSE_* */
    ev_bundle_format format;       /**< of the part */
    const char *const *items;      /**< item ids to disclose ("item-0003") */
    size_t nitems;
    const char *const *exhibits;   /**< exhibit references: their masters are disclosed */
    size_t nexhibits;
    const char *actor;             /**< of the "disclosed" custody event; required */
    const char *organisation;      /**< of the "disclosed" custody event; required */
    const char *note;              /**< added to the event's note; may be NULL */
} ev_disclose_options;

#define EV_DISCLOSE_OPTIONS_VERSION 1
#define EV_DISCLOSE_OPTIONS_INIT EV_OPTIONS_INIT_(ev_disclose_options, EV_DISCLOSE_OPTIONS_VERSION)

/**
 * Initialise options to their defaults.
 * @return EV_OK, EV_EINVAL or EV_EVERSION.
 */
EV_EXTERN int ev_disclose_options_init(ev_disclose_options *opts, unsigned int version);

/**
 * Write a part of a bundle: a new bundle holding only the chosen items
 * (their payload, the tag files they name and their record entries, with
 * their salts), the original's signatures that commit to its disclosure
 * tree, with their tokens, an inclusion proof per item, and a custody log
 * whose one event is "disclosed". A part of a part keeps the proofs to the
 * first original. The bundle must verify first; nothing appears at
 * out_path unless everything was written (docs/disclosure.md).
 * @param b         Open bundle (an original, or a part).
 * @param out_path  ZIP file (or folder); must not exist.
 * @param opts      Items, actor and organisation; must not be NULL.
 * @return EV_OK; EV_EINVAL (no items, no actor, a working copy chosen
 *         without its master); EV_ENOTFOUND (an unknown item or exhibit);
 *         EV_EUNSUPPORTED (no disclosure root: packed before this existed;
 *         or no signature commits to it); EV_EFORMAT (the bundle does not
 *         verify); EV_EEXISTS, EV_EIO, EV_ENOMEM. The message is in
 *         ev_bundle_last_error(b).
 */
EV_EXTERN int ev_bundle_disclose(ev_bundle *b, const char *out_path,
                                 const ev_disclose_options *opts);

#ifdef __cplusplus
}
#endif
/** @} */
#endif
