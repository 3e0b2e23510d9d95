/*
 * bag: the BagIt 1.0 model (RFC 8493), independent of storage: path encoding
 * and safety, tag file parsing (bagit.txt, manifests, bag-info.txt,
 * fetch.txt), and writing the same files.
 */
#ifndef EV_BAG_H
#define EV_BAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"
#include "base/internal.h"
#include "base/report.h"

/* The names of the tag files of RFC 8493. */
#define EV_BAG_BAGIT_TXT "bagit.txt"
#define EV_BAG_INFO_TXT "bag-info.txt"
/* bag-info.txt's name in the 0.93-0.95 drafts (renamed in 0.96) */
#define EV_BAG_PACKAGE_INFO_TXT "package-info.txt"
#define EV_BAG_FETCH_TXT "fetch.txt"
#define EV_BAG_MANIFEST_PREFIX "manifest-"        /* manifest-<alg>.txt */
#define EV_BAG_TAGMANIFEST_PREFIX "tagmanifest-"  /* tagmanifest-<alg>.txt */
#define EV_BAG_MANIFEST_SHA256 "manifest-sha256.txt"
#define EV_BAG_TAGMANIFEST_SHA256 "tagmanifest-sha256.txt"

/* Exactly what bagit.txt holds in every bag we write. */
#define EV_BAGIT_TXT "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"

/* Percent-encode a path for a manifest line: '%', CR and LF only. Caller frees. */
char *ev_bag__encode_path(const char *path);
/* Decode %25, %0A, %0D (either case); anything else stays literal. Caller frees. */
char *ev_bag__decode_path(const char *enc, size_t len);

/* NULL when a bag-relative path is safe; else a static reason. Refuses
 * absolute paths, "..", ".", empty components, backslashes, NUL (len !=
 * strlen), "~" first components, drive letters, control characters. */
const char *ev_bag__unsafe_reason(const char *path, size_t len);

/* NFC form of a UTF-8 string (caller frees), or NULL when not UTF-8/ENOMEM. */
char *ev_bag__nfc(const char *s);

/* Case-folded NFC key for collision checks (caller frees); the input
 * itself when it is not UTF-8. */
char *ev_bag__fold_key(const char *s);

/* Normalise an algorithm name per RFC 8493 2.4 ("SHA-256" -> "sha256"). */
void ev_bag__normalize_alg(char *dst, size_t dstlen, const char *src);

/* One line of a manifest. */
typedef struct ev_manifest_entry {
    const char *path;    /* decoded, bag-relative */
    const char *digest;  /* as written (hex) */
    size_t line;         /* 1-based */
} ev_manifest_entry;

typedef struct ev_manifest {
    char *filename;      /* "manifest-sha256.txt" */
    char alg[32];        /* "sha256" */
    int slot;            /* EV_HASH_* or -1 when unsupported */
    bool is_tag;         /* a tag manifest */
    ev_manifest_entry *entries;
    size_t n, cap;
    size_t problems;     /* problems found in or through this manifest */
    /* set before parsing: the entries' strings are kept in this pool (and
     * live as long as it), not allocated one by one and freed with the
     * manifest; verify keeps them with the report, whose file results then
     * share a path and a digest instead of copying them (a million files) */
    ev_strpool *pool;
} ev_manifest;

/* "manifest-<alg>.txt" (tag false) or "tagmanifest-<alg>.txt" into out. */
void ev_bag__manifest_name(char *out, size_t cap, bool tag, const char *alg);

/* Append one manifest line, "<hex digest>  <encoded path>\n" (RFC 8493
 * 2.1.3, two spaces, the path percent-encoded). EV_OK or EV_ENOMEM. */
int ev_bag__manifest_line(ev_buf *b, const char *hex, const char *path);

/* Parse a manifest; problems are added to r (code, filename, line). */
int ev_bag__parse_manifest(ev_manifest *m, const char *buf, size_t len, ev_report *r);
void ev_bag__manifest_free(ev_manifest *m);

/* Parse bagit.txt: checks the exact two-line form. Returns EV_OK when
 * usable (version in major.minor), EV_EFORMAT or EV_EUNSUPPORTED with
 * problems added to r. */
int ev_bag__parse_bagit_txt(const char *buf, size_t len, int *major, int *minor, ev_report *r);
/* The same, also giving the declared Tag-File-Character-Encoding in enc
 * (empty when bagit.txt gives none). Any encoding iconv knows is read (RFC
 * 8493 2.1.1: UTF-8 SHOULD be used, another encoding MAY "for backward
 * compatibility"): in a 1.0 bag with a warning (tag-encoding-not-utf8),
 * in a 0.93-0.97 bag with a note (tag-encoding-converted). An encoding
 * iconv does not know is EV_EUNSUPPORTED (bagit-encoding-unsupported). */
int ev_bag__parse_bagit_txt_enc(const char *buf, size_t len, int *major, int *minor,
                                char *enc, size_t enccap, ev_report *r);

/* True when enc names UTF-8 ("UTF-8", "utf8", or empty). */
bool ev_bag__encoding_is_utf8(const char *enc);

/* A tag file in the bag's declared encoding, as UTF-8 text. For UTF-8 the
 * bytes are checked as ev_bag__check_text does and *out is NULL (use buf
 * itself); for another encoding they are converted with iconv into a new
 * buffer (*out, caller frees; a leading byte-order mark is dropped, since
 * UTF-16 and UTF-32 may carry one). False, with a problem naming the file
 * and the line, when the bytes are not text in that encoding. */
bool ev_bag__decode_text(const char *name, const char *enc, const char *buf, size_t len,
                         char **out, size_t *outlen, ev_report *r);

/* Lexically resolve "." and ".." components and a leading "./" of a
 * bag-relative path (caller frees). NULL when it would leave the bag
 * ("..", "data/../.."), on ENOMEM, or when nothing needed resolving
 * (*changed false). Nothing is ever opened by this path. */
char *ev_bag__resolve_path(const char *path, bool *changed, bool *escapes);

/* Operating-system litter in a payload path (.DS_Store, Thumbs.db,
 * desktop.ini, AppleDouble "._x", __MACOSX/, ...): a static description,
 * or NULL. */
const char *ev_bag__system_file(const char *path);

/* bag-info.txt elements, in order. */
typedef struct ev_baginfo_elem {
    char *label;
    char *value;
    size_t line;         /* 1-based line of its label; 0 when made by ev_bag__baginfo_add */
} ev_baginfo_elem;

typedef struct ev_baginfo {
    ev_baginfo_elem *e;
    size_t n, cap;
} ev_baginfo;

int ev_bag__parse_baginfo(ev_baginfo *bi, const char *buf, size_t len, bool legacy, ev_report *r);
/* The same for a file of another name (package-info.txt): the problems name it. */
int ev_bag__parse_baginfo_named(ev_baginfo *bi, const char *name, const char *buf, size_t len,
                                bool legacy, ev_report *r);
/* The name of the bag-info file of a bag of this version: package-info.txt
 * (its name before 0.96) in a 0.93-0.95 bag that has it and no
 * bag-info.txt, else bag-info.txt. */
const char *ev_bag__info_name(int major, int minor, bool has_bag_info, bool has_package_info);
/* The element of the first value of a label (case-insensitive), or NULL. */
const ev_baginfo_elem *ev_bag__baginfo_find(const ev_baginfo *bi, const char *label);
/* First value of a label (case-insensitive), or NULL. */
const char *ev_bag__baginfo_get(const ev_baginfo *bi, const char *label);
size_t ev_bag__baginfo_count(const ev_baginfo *bi, const char *label);
void ev_bag__baginfo_free(ev_baginfo *bi);
/* Append an element when writing (value folded/cleaned of CR/LF). */
int ev_bag__baginfo_add(ev_baginfo *bi, const char *label, const char *value);
/* Serialise to text (LF line endings). Caller frees. */
char *ev_bag__baginfo_format(const ev_baginfo *bi);

/* Parse "OctetCount.StreamCount". */
bool ev_bag__parse_oxum(const char *s, uint64_t *bytes, uint64_t *files);

/* fetch.txt lines. */
typedef struct ev_fetch_entry {
    char *url;
    char *length;        /* "-" or digits, as written */
    char *path;          /* decoded */
    size_t line;         /* 1-based */
} ev_fetch_entry;

int ev_bag__parse_fetch(ev_fetch_entry **out, size_t *n, const char *buf, size_t len, ev_report *r);
void ev_bag__fetch_free(ev_fetch_entry *f, size_t n);

/* Split text into lines accepting LF, CR and CRLF. Calls fn for each line
 * (without its terminator). Returns fn's first nonzero result or 0. */
typedef int (*ev_bag__line_fn)(const char *line, size_t len, size_t lineno, void *ctx);
int ev_bag__lines(const char *buf, size_t len, ev_bag__line_fn fn, void *ctx);

/* Check that a tag file is UTF-8 without a BOM; adds a problem when not. */
bool ev_bag__check_text(const char *name, const char *buf, size_t len, ev_report *r);

/* Bag-relative path classification. */
bool ev_bag__is_payload(const char *path);          /* under data/ */
bool ev_bag__is_manifest_name(const char *path, bool *is_tag, char *alg, size_t alglen);

#endif
