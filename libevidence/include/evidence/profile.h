/**
 * @file evidence/profile.h
 * @brief Profiles: the agreed output formats, loaded from JSON files.
 * @defgroup ev_profile Profiles
 * @{
 *
 * A profile is a human-readable JSON file (see docs/profiles.md and
 * docs/schema/profile.schema.json) declaring what it accepts, the output
 * container, codecs and exact encoder settings, the metadata to carry over,
 * the verification level with its thresholds, and the conformance checks an
 * output must pass. Profiles are found by name along a search path held by an
 * ev_profile_catalog.
 *
 * Thread-safety: a catalog is used by one thread at a time. A loaded
 * ev_profile never changes, so it may be shared by several threads (for
 * example several ev_transcode handles) while its catalog lives.
 */
#ifndef EVIDENCE_PROFILE_H
#define EVIDENCE_PROFILE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A loaded, validated profile. Immutable; owned by its catalog. */
typedef struct ev_profile ev_profile;

/** A search path of profile folders and the profiles loaded from it. */
typedef struct ev_profile_catalog ev_profile_catalog;

/**
 * Create an empty catalog (no folders yet). CONSTRUCTOR.
 * @param out  Receives the catalog; NULL on failure (nothing to free).
 * @return EV_OK, EV_EINVAL (out is NULL) or EV_ENOMEM.
 */
EV_EXTERN int ev_profile_catalog_new(ev_profile_catalog **out);

/**
 * Free a catalog and every profile loaded through it. DESTRUCTOR.
 * @param c  May be NULL.
 */
EV_EXTERN void ev_profile_catalog_free(ev_profile_catalog *c);

/**
 * Message of the last failed call on this catalog.
 * @param c  Catalog; may be NULL.
 * @return Text owned by the catalog, valid until the next call on it; never NULL.
 */
EV_EXTERN const char *ev_profile_catalog_last_error(const ev_profile_catalog *c);

/**
 * Append a folder to the search path. Folders are searched in the order they
 * were added; the first folder holding a name wins. Nothing is read yet.
 * @param c    Catalog; must not be NULL.
 * @param dir  Folder path; copied.
 * @return EV_OK, EV_EINVAL or EV_ENOMEM.
 */
EV_EXTERN int ev_profile_catalog_add_dir(ev_profile_catalog *c, const char *dir);

/**
 * Append every folder of a colon-separated list (the format of the
 * EVIDENCE_PROFILE_PATH environment variable, which the caller reads).
 * Empty elements are ignored.
 * @param c     Catalog; must not be NULL.
 * @param list  e.g. "/etc/evidence/profiles:/opt/profiles"; copied.
 * @return EV_OK, EV_EINVAL or EV_ENOMEM.
 */
EV_EXTERN int ev_profile_catalog_add_path_list(ev_profile_catalog *c, const char *list);

/**
 * Append the default folders, those that exist, in this order:
 * relative to the executable `<bindir>/../share/evidence/profiles`, then the
 * source trees of build folders (`<bindir>/../../profiles` and
 * `<bindir>/../../../profiles`), then `install_dir`.
 * @param c            Catalog; must not be NULL.
 * @param exe_path     Path of the running program, or NULL to use
 *                     /proc/self/exe.
 * @param install_dir  The installed profile folder (e.g.
 *                     "/usr/local/share/evidence/profiles"), or NULL.
 * @return EV_OK or EV_ENOMEM. Missing folders are skipped silently.
 */
EV_EXTERN int ev_profile_catalog_add_default_dirs(ev_profile_catalog *c, const char *exe_path,
                                                  const char *install_dir);

/**
 * Number of folders on the search path.
 * @param c  Catalog; must not be NULL.
 * @return The count.
 */
EV_EXTERN size_t ev_profile_catalog_dir_count(const ev_profile_catalog *c);

/**
 * A folder of the search path.
 * @param c  Catalog; must not be NULL.
 * @param i  Index below ev_profile_catalog_dir_count().
 * @return Borrowed path valid while c lives, or NULL when i is out of range.
 */
EV_EXTERN const char *ev_profile_catalog_dir(const ev_profile_catalog *c, size_t i);

/**
 * Load every "*.json" file of every folder on the search path. A profile
 * whose name was already found in an earlier folder is shadowed and skipped.
 * Files that fail to load are recorded as problems (see
 * ev_profile_catalog_problem()); the valid ones stay available.
 * @param c  Catalog; must not be NULL.
 * @return EV_OK when the scan ran (even with problems), EV_ENOMEM, or
 *         EV_EINVAL; the message is in ev_profile_catalog_last_error(c).
 */
EV_EXTERN int ev_profile_catalog_scan(ev_profile_catalog *c);

/**
 * Number of profiles loaded by ev_profile_catalog_scan(), sorted by name.
 * @param c  Catalog; must not be NULL.
 * @return The count.
 */
EV_EXTERN size_t ev_profile_catalog_count(const ev_profile_catalog *c);

/**
 * A profile loaded by ev_profile_catalog_scan().
 * @param c  Catalog; must not be NULL.
 * @param i  Index below ev_profile_catalog_count().
 * @return Borrowed profile valid while c lives, or NULL when out of range.
 */
EV_EXTERN const ev_profile *ev_profile_catalog_at(const ev_profile_catalog *c, size_t i);

/**
 * Number of files that failed to load during the last scan.
 * @param c  Catalog; must not be NULL.
 * @return The count.
 */
EV_EXTERN size_t ev_profile_catalog_problem_count(const ev_profile_catalog *c);

/**
 * Message for a file that failed to load, naming the file, the field and
 * what is wrong.
 * @param c  Catalog; must not be NULL.
 * @param i  Index below ev_profile_catalog_problem_count().
 * @return Borrowed text valid while c lives, or NULL when out of range.
 */
EV_EXTERN const char *ev_profile_catalog_problem(const ev_profile_catalog *c, size_t i);

/**
 * Find a profile by name along the search path and load it. A value that
 * contains '/' or ends in ".json" is loaded as a file path instead.
 * @param out   Receives a borrowed profile, valid while c lives; NULL on failure.
 * @param c     Catalog; must not be NULL.
 * @param name  Profile name (e.g. "archive-ffv1") or path.
 * @return EV_OK; EV_ENOTFOUND (no such profile: the message lists the
 *         folders searched and the names available); EV_EFORMAT (the file is
 *         not a valid profile: the message names the file, the field and what
 *         is wrong); or another negative ev_status. The message is in
 *         ev_profile_catalog_last_error(c).
 */
EV_EXTERN int ev_profile_catalog_find(const ev_profile **out, ev_profile_catalog *c,
                                      const char *name);

/**
 * Profile name, e.g. "working-copy-h264".
 * @param p  Profile; must not be NULL.
 * @return Borrowed text valid while the profile lives.
 */
EV_EXTERN const char *ev_profile_name(const ev_profile *p);

/**
 * One-line title of a profile.
 * @param p  Profile; must not be NULL.
 * @return Borrowed text valid while the profile lives (may be empty).
 */
EV_EXTERN const char *ev_profile_title(const ev_profile *p);

/**
 * File the profile was loaded from.
 * @param p  Profile; must not be NULL.
 * @return Borrowed text valid while the profile lives.
 */
EV_EXTERN const char *ev_profile_path(const ev_profile *p);

/**
 * SHA-256 of the profile file's bytes, as 64 lower-case hex digits.
 * @param p  Profile; must not be NULL.
 * @return Borrowed text valid while the profile lives.
 */
EV_EXTERN const char *ev_profile_sha256(const ev_profile *p);

/**
 * Verification level the profile promises: "byte-identical",
 * "packet-identical", "decoded-identical" or "quality-bounded".
 * @param p  Profile; must not be NULL.
 * @return Static text.
 */
EV_EXTERN const char *ev_profile_level(const ev_profile *p);

/**
 * Why this build cannot run the profile (e.g. a missing encoder).
 * @param p  Profile; must not be NULL.
 * @return NULL when the profile is usable, else borrowed text.
 */
EV_EXTERN const char *ev_profile_unavailable(const ev_profile *p);

/**
 * Summary of a profile as one JSON object: name, title, description, path,
 * sha256, kind, action, level, container, extension, available, and the
 * whole profile document under "profile".
 * @param out  Receives NUL-terminated JSON; free with ev_free(). NULL on failure.
 * @param p    Profile; must not be NULL.
 * @return EV_OK, EV_EINVAL or EV_ENOMEM.
 */
EV_EXTERN int ev_profile_json(char **out, const ev_profile *p);

/**
 * A profile as one document, {"format": "evidence.profile",
 * "format_version": 1, "profile": <the object of ev_profile_json()>},
 * indented by two spaces (what `evidence profiles --json NAME` prints).
 * @param out  Receives NUL-terminated JSON without a final newline; free
 *             with ev_free(). NULL on failure.
 * @param p    Profile; must not be NULL.
 * @return EV_OK, EV_EINVAL or EV_ENOMEM.
 * Thread-safety: p may be shared (it never changes).
 */
EV_EXTERN int ev_profile_document_json(char **out, const ev_profile *p);

/**
 * A profile as text lines for a person (what `evidence profiles NAME`
 * prints): name, title, level, file, sha256, why it is unavailable, then the
 * profile document itself. The JSON (ev_profile_document_json()) stays the
 * interface for programs; this text may change between versions
 * (docs/api/results.md).
 * @param out  Receives NUL-terminated UTF-8 text ending in a newline; free
 *             with ev_free(). NULL on failure.
 * @param p    Profile; must not be NULL.
 * @return EV_OK, EV_EINVAL or EV_ENOMEM.
 * Thread-safety: p may be shared (it never changes).
 */
EV_EXTERN int ev_profile_text(char **out, const ev_profile *p);

/**
 * The search path, the profiles found by the last ev_profile_catalog_scan()
 * and the files that failed to load, as one document
 * ("format": "evidence.profiles": "search_path", "profiles" (the objects of
 * ev_profile_json()), "problems" ([{"message"}])), indented by two spaces
 * (what `evidence profiles --json` prints).
 * @param out  Receives NUL-terminated JSON without a final newline; free
 *             with ev_free(). NULL on failure.
 * @param c    Catalog; must not be NULL.
 * @return EV_OK, EV_EINVAL or EV_ENOMEM.
 * Thread-safety: as for the catalog (one thread at a time).
 */
EV_EXTERN int ev_profile_catalog_json(char **out, const ev_profile_catalog *c);

/**
 * The profiles found by the last ev_profile_catalog_scan() as text, one line
 * each: name, level, title, and why it is unavailable (what `evidence
 * profiles` prints; the problems are not in it, see
 * ev_profile_catalog_problem()). The text may change between versions;
 * programs use ev_profile_catalog_json() or the accessors.
 * @param out  Receives NUL-terminated UTF-8 text ("" when there are no
 *             profiles); free with ev_free(). NULL on failure.
 * @param c    Catalog; must not be NULL.
 * @return EV_OK, EV_EINVAL or EV_ENOMEM.
 * Thread-safety: as for the catalog (one thread at a time).
 */
EV_EXTERN int ev_profile_catalog_text(char **out, const ev_profile_catalog *c);

#ifdef __cplusplus
}
#endif
/** @} */
#endif
