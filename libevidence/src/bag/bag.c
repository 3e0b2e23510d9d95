/*
 * bag: BagIt 1.0 (RFC 8493) rules that do not depend on storage.
 * Section numbers refer to RFC 8493.
 */
#include "bag/bag.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unicase.h>
#include <unistr.h>
#include <uninorm.h>

char *ev_bag__encode_path(const char *path)
{
    ev_buf b = { 0 };
    for (const char *p = path; *p; p++) {
        int rc;
        if (*p == '%')
            rc = ev_buf__puts(&b, "%25");
        else if (*p == '\n')
            rc = ev_buf__puts(&b, "%0A");
        else if (*p == '\r')
            rc = ev_buf__puts(&b, "%0D");
        else
            rc = ev_buf__append(&b, p, 1);
        if (rc) {
            ev_buf__free(&b);
            return NULL;
        }
    }
    if (!b.data)
        return ev__strdup("");
    return b.data;
}

void ev_bag__manifest_name(char *out, size_t cap, bool tag, const char *alg)
{
    snprintf(out, cap, "%s%s.txt", tag ? EV_BAG_TAGMANIFEST_PREFIX : EV_BAG_MANIFEST_PREFIX, alg);
}

int ev_bag__manifest_line(ev_buf *b, const char *hex, const char *path)
{
    char *enc = ev_bag__encode_path(path);
    int rc = !enc || ev_buf__printf(b, "%s  %s\n", hex, enc) ? EV_ENOMEM : EV_OK;
    free(enc);
    return rc;
}

char *ev_bag__decode_path(const char *enc, size_t len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (enc[i] == '%' && i + 2 < len) {
            char a = enc[i + 1], c = (char)toupper((unsigned char)enc[i + 2]);
            if (a == '2' && c == '5') {
                out[o++] = '%';
                i += 2;
                continue;
            }
            if (a == '0' && c == 'A') {
                out[o++] = '\n';
                i += 2;
                continue;
            }
            if (a == '0' && c == 'D') {
                out[o++] = '\r';
                i += 2;
                continue;
            }
        }
        out[o++] = enc[i];
    }
    out[o] = '\0';
    return out;
}

const char *ev_bag__unsafe_reason(const char *path, size_t len)
{
    if (len == 0)
        return "empty name";
    if (memchr(path, '\0', len))
        return "contains a NUL byte";
    if (path[0] == '/')
        return "absolute path";
    if (memchr(path, '\\', len))
        return "contains a backslash";
    if (len >= 2 && isalpha((unsigned char)path[0]) && path[1] == ':')
        return "starts with a drive letter";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
            return "contains a control character";
    }
    /* component checks */
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || path[i] == '/') {
            size_t clen = i - start;
            const char *c = path + start;
            if (clen == 0 && i != len)
                return "contains an empty path component ('//')";
            if (clen == 0 && i == len && len > 0)
                return "ends with '/'";
            if (clen == 1 && c[0] == '.')
                return "contains a '.' component";
            if (clen == 2 && c[0] == '.' && c[1] == '.')
                return "contains a '..' component";
            if (start == 0 && clen >= 1 && c[0] == '~')
                return "starts with '~'";
            start = i + 1;
        }
    }
    return NULL;
}

char *ev_bag__nfc(const char *s)
{
    size_t len = strlen(s);
    if (!ev__utf8_valid(s, len))
        return NULL;
    size_t outlen = 0;
    uint8_t *r = u8_normalize(UNINORM_NFC, (const uint8_t *)s, len, NULL, &outlen);
    if (!r)
        return NULL;
    char *out = ev__strndup((const char *)r, outlen);
    free(r);
    return out;
}

char *ev_bag__fold_key(const char *s)
{
    size_t len = strlen(s), outlen = 0;
    if (!ev__utf8_valid(s, len))
        return ev__strdup(s);
    uint8_t *r = u8_casefold((const uint8_t *)s, len, NULL, UNINORM_NFC, NULL, &outlen);
    if (!r)
        return ev__strdup(s);
    char *out = ev__strndup((const char *)r, outlen);
    free(r);
    return out;
}

void ev_bag__normalize_alg(char *dst, size_t dstlen, const char *src)
{
    size_t o = 0;
    for (; *src && o + 1 < dstlen; src++) {
        if (isalnum((unsigned char)*src))
            dst[o++] = (char)tolower((unsigned char)*src);
    }
    dst[o] = '\0';
}

int ev_bag__lines(const char *buf, size_t len, ev_bag__line_fn fn, void *ctx)
{
    size_t start = 0, lineno = 1;
    size_t i = 0;
    while (i < len) {
        if (buf[i] == '\n' || buf[i] == '\r') {
            int rc = fn(buf + start, i - start, lineno++, ctx);
            if (rc)
                return rc;
            if (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
                i++;
            start = i + 1;
        }
        i++;
    }
    if (start < len)
        return fn(buf + start, len - start, lineno, ctx);
    return 0;
}

/* The 1-based line of byte off of UTF-8 text. */
static size_t line_at(const char *t, size_t off)
{
    size_t line = 1;
    for (size_t i = 0; i < off; i++)
        if (t[i] == '\n' || (t[i] == '\r' && !(i + 1 < off && t[i + 1] == '\n')))
            line++;
    return line;
}

bool ev_bag__check_text(const char *name, const char *buf, size_t len, ev_report *r)
{
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF) {
        ev_report__add(r, EV_SEVERITY_ERROR, "tag-bom", name,
                       "%s line 1 begins with a byte-order mark; RFC 8493 2.3 forbids a BOM "
                       "in UTF-8 tag files. Remove the first three bytes.", name);
        return false;
    }
    if (memchr(buf, '\0', len) || !ev__utf8_valid(buf, len)) {
        const char *nul = memchr(buf, '\0', len);
        const uint8_t *bad = u8_check((const uint8_t *)buf, len);
        size_t off = nul ? (size_t)(nul - buf) : len;
        if (bad && (size_t)((const char *)bad - buf) < off)
            off = (size_t)((const char *)bad - buf);
        ev_report__add(r, EV_SEVERITY_ERROR, "tag-not-utf8", name,
                       "%s line %zu: byte %zu is not valid UTF-8 text; tag files must use the "
                       "encoding named in bagit.txt (UTF-8). The file is damaged or was "
                       "written by another tool with a different encoding.", name,
                       line_at(buf, off), off + 1);
        return false;
    }
    return true;
}

bool ev_bag__encoding_is_utf8(const char *enc)
{
    return !enc || !*enc || strcasecmp(enc, "UTF-8") == 0 || strcasecmp(enc, "UTF8") == 0;
}

bool ev_bag__decode_text(const char *name, const char *enc, const char *buf, size_t len,
                         char **out, size_t *outlen, ev_report *r)
{
    *out = NULL;
    *outlen = 0;
    if (ev_bag__encoding_is_utf8(enc))
        return ev_bag__check_text(name, buf, len, r);
    iconv_t cd = iconv_open("UTF-8", enc);
    if (cd == (iconv_t)-1) {
        ev_report__add(r, EV_SEVERITY_ERROR, "bagit-encoding-unsupported", name,
                       "%s cannot be read: iconv does not know the encoding '%.60s' that "
                       "bagit.txt declares", name, enc);
        return false;
    }
    /* grown as needed: ISO-8859-x gives up to 3 bytes of UTF-8 per byte,
     * UTF-16 up to 3 per 2; start with twice the input */
    size_t cap = len * 2 + 16;
    char *o = malloc(cap);
    if (!o) {
        iconv_close(cd);
        return false;
    }
    char *in = (char *)buf, *op = o;
    size_t inleft = len, outleft = cap - 1;
    size_t rc;
    int err = 0;
    for (;;) {
        rc = iconv(cd, &in, &inleft, &op, &outleft);
        if (rc != (size_t)-1)
            rc = iconv(cd, NULL, NULL, &op, &outleft); /* flush a shift state */
        err = rc == (size_t)-1 ? errno : 0;
        if (rc != (size_t)-1 || err != E2BIG)
            break;
        size_t used = (size_t)(op - o);
        char *grown = cap < SIZE_MAX / 2 ? realloc(o, cap * 2) : NULL;
        if (!grown) {
            free(o);
            iconv_close(cd);
            return false;
        }
        o = grown;
        cap *= 2;
        op = o + used;
        outleft = cap - 1 - used;
    }
    iconv_close(cd);
    size_t done = (size_t)(op - o);
    o[done] = '\0';
    if (rc == (size_t)-1 || inleft) {
        ev_report__add(r, EV_SEVERITY_ERROR, "tag-encoding-invalid", name,
                       "%s line %zu: byte %zu is not %.60s text (%s), the encoding bagit.txt "
                       "declares; the file is damaged or in another encoding", name,
                       line_at(o, done), len - inleft + 1, enc,
                       err == EILSEQ ? "invalid sequence" : "incomplete character");
        free(o);
        return false;
    }
    /* a byte-order mark is allowed when the encoding needs one (2.3) */
    size_t skip = done >= 3 && memcmp(o, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    if (memchr(o + skip, '\0', done - skip)) {
        ev_report__add(r, EV_SEVERITY_ERROR, "tag-encoding-invalid", name,
                       "%s line %zu holds a NUL character: not text in %.60s", name,
                       line_at(o, (size_t)((char *)memchr(o + skip, '\0', done - skip) - o)),
                       enc);
        free(o);
        return false;
    }
    if (skip)
        memmove(o, o + 3, done - 3 + 1);
    *out = o;
    *outlen = done - skip;
    return true;
}

char *ev_bag__resolve_path(const char *path, bool *changed, bool *escapes)
{
    *changed = false;
    *escapes = false;
    size_t len = strlen(path);
    if (len == 0 || path[0] == '/')
        return NULL; /* left to the safety rules */
    /* the kept components, as (start, length) pairs */
    size_t *st = malloc((len + 2) * sizeof(*st));
    if (!st)
        return NULL;
    size_t depth = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && path[i] != '/')
            continue;
        size_t clen = i - start;
        if (clen == 0) {
            /* "//" or a final "/": left to the safety rules */
            free(st);
            *changed = false;
            return NULL;
        }
        if (clen == 1 && path[start] == '.') {
            *changed = true;
        } else if (clen == 2 && path[start] == '.' && path[start + 1] == '.') {
            *changed = true;
            if (depth == 0) {
                free(st);
                *escapes = true;
                return NULL;
            }
            depth--;
        } else {
            st[2 * depth] = start;
            st[2 * depth + 1] = clen;
            depth++;
        }
        start = i + 1;
    }
    char *out = NULL;
    if (*changed && depth == 0)
        *escapes = true; /* the bag folder itself */
    else if (*changed && (out = malloc(len + 1)) != NULL) {
        size_t o = 0;
        for (size_t d = 0; d < depth; d++) {
            if (d)
                out[o++] = '/';
            memcpy(out + o, path + st[2 * d], st[2 * d + 1]);
            o += st[2 * d + 1];
        }
        out[o] = '\0';
    }
    free(st);
    return out;
}

const char *ev_bag__system_file(const char *path)
{
    static const struct {
        const char *name;
        const char *what;
    } known[] = {
        { ".DS_Store", "macOS Finder folder settings" },
        { "Thumbs.db", "a Windows thumbnail cache" },
        { "ehthumbs.db", "a Windows thumbnail cache" },
        { "desktop.ini", "Windows folder settings" },
        { ".directory", "KDE folder settings" },
        { ".localized", "a macOS folder-name marker" },
    };
    static const char *const dirs[] = { "__MACOSX", ".Spotlight-V100", ".Trashes",
                                        ".fseventsd", ".TemporaryItems", "$RECYCLE.BIN" };
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcasecmp(base, known[i].name) == 0)
            return known[i].what;
    if (base[0] == '.' && base[1] == '_' && base[2])
        return "a macOS AppleDouble resource fork ('._' file)";
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        size_t n = strlen(dirs[i]);
        for (const char *p = path; (p = strstr(p, dirs[i])) != NULL; p += n)
            if ((p == path || p[-1] == '/') && p[n] == '/')
                return "an operating system's hidden folder";
    }
    return NULL;
}

bool ev_bag__is_payload(const char *path)
{
    return strncmp(path, "data/", 5) == 0;
}

bool ev_bag__is_manifest_name(const char *path, bool *is_tag, char *alg, size_t alglen)
{
    const char *rest;
    if (strncmp(path, EV_BAG_MANIFEST_PREFIX, strlen(EV_BAG_MANIFEST_PREFIX)) == 0) {
        *is_tag = false;
        rest = path + strlen(EV_BAG_MANIFEST_PREFIX);
    } else if (strncmp(path, EV_BAG_TAGMANIFEST_PREFIX, strlen(EV_BAG_TAGMANIFEST_PREFIX)) == 0) {
        *is_tag = true;
        rest = path + strlen(EV_BAG_TAGMANIFEST_PREFIX);
    } else {
        return false;
    }
    size_t n = strlen(rest);
    if (n < 5 || strcmp(rest + n - 4, ".txt") != 0 || strchr(rest, '/'))
        return false;
    if (n - 4 + 1 > alglen)
        return false;
    memcpy(alg, rest, n - 4);
    alg[n - 4] = '\0';
    return true;
}

/* ---- manifests ---------------------------------------------------------- */

typedef struct manifest_ctx {
    ev_manifest *m;
    ev_report *r;
    int rc;
    /* lines read leniently, reported once per manifest: count and first line */
    size_t n_star, star_line, n_dot, dot_line, n_rel, rel_line;
} manifest_ctx;

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return n > 0;
}

static int manifest_line(const char *line, size_t len, size_t lineno, void *vctx)
{
    manifest_ctx *c = vctx;
    ev_manifest *m = c->m;
    if (len == 0)
        return 0; /* blank lines (e.g. a final CRLF pair) are tolerated */
    size_t i = 0;
    while (i < len && line[i] != ' ' && line[i] != '\t')
        i++;
    size_t dlen = i;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (dlen == 0 || i == dlen || i >= len) {
        ev_report__add(c->r, EV_SEVERITY_ERROR, "manifest-bad-line", m->filename,
                       "%s line %zu is not '<checksum> <path>': fix or regenerate the manifest",
                       m->filename, lineno);
        return 0;
    }
    const char *p = line + i;
    size_t plen = len - i;
    if (plen > 1 && p[0] == '*') {
        /* md5sum binary-mode style "hash *path" (RFC 8493 6.1.3) */
        if (!c->n_star++)
            c->star_line = lineno;
        p++;
        plen--;
    }
    if (!is_hex(line, dlen) || (m->slot >= 0 && dlen != ev_hash__hex_len(m->slot))) {
        ev_report__add(c->r, EV_SEVERITY_ERROR, "manifest-bad-digest", m->filename,
                       "%s line %zu: '%.*s' is not a %s digest (expected %zu hex digits)",
                       m->filename, lineno, (int)(dlen > 140 ? 140 : dlen), line, m->alg,
                       m->slot >= 0 ? ev_hash__hex_len(m->slot) : (size_t)0);
        return 0;
    }
    ev_manifest_entry *grown = ev__grow(m->entries, &m->cap, m->n, sizeof(*grown), 64);
    if (!grown) {
        c->rc = EV_ENOMEM;
        return 1;
    }
    m->entries = grown;
    ev_manifest_entry *e = &m->entries[m->n];
    char *path = ev_bag__decode_path(p, plen);
    if (!path) {
        c->rc = EV_ENOMEM;
        return 1;
    }
    /* "./data/x" (pre-RFC tools) and "data/a/../b": resolved when the result
     * stays where this manifest's files belong; otherwise the safety rules
     * refuse the line as written (ev_bag__check_complete) */
    bool changed, escapes;
    char *res = ev_bag__resolve_path(path, &changed, &escapes);
    if (res && ev_bag__is_payload(res) == !m->is_tag) {
        const char *q = path;
        while (q[0] == '.' && q[1] == '/')
            q += 2;
        if (strcmp(q, res) == 0) {
            if (!c->n_dot++)
                c->dot_line = lineno;
        } else if (!c->n_rel++) {
            c->rel_line = lineno;
        }
        free(path);
        path = res;
    } else {
        free(res);
    }
    e->line = lineno;
    if (m->pool) {
        e->path = ev_strpool__keep(m->pool, path);
        e->digest = ev_strpool__keepn(m->pool, line, dlen);
        free(path);
    } else {
        e->path = path;
        e->digest = ev__strndup(line, dlen);
    }
    if (!e->path || !e->digest) {
        if (!m->pool) {
            free(path);
            free((char *)e->digest);
        }
        c->rc = EV_ENOMEM;
        return 1;
    }
    m->n++;
    return 0;
}

static void more_lines(char *buf, size_t cap, size_t n)
{
    if (n > 1)
        snprintf(buf, cap, " (and %zu more line%s)", n - 1, n > 2 ? "s" : "");
    else
        buf[0] = '\0';
}

int ev_bag__parse_manifest(ev_manifest *m, const char *buf, size_t len, ev_report *r)
{
    manifest_ctx c = { .m = m, .r = r, .rc = EV_OK };
    ev_bag__lines(buf, len, manifest_line, &c);
    char more[64];
    if (c.rc == EV_OK && c.n_star) {
        more_lines(more, sizeof(more), c.n_star);
        ev_report__add(r, EV_SEVERITY_WARNING, "manifest-md5sum-style", m->filename,
                       "%s line %zu%s: md5sum-style '*path' (binary-mode marker); accepted, "
                       "but the bag fails strict validation (RFC 8493 6.1.3): rewrite the "
                       "lines without '*'", m->filename, c.star_line, more);
    }
    if (c.rc == EV_OK && c.n_dot) {
        more_lines(more, sizeof(more), c.n_dot);
        ev_report__add(r, EV_SEVERITY_WARNING, "manifest-dot-slash", m->filename,
                       "%s line %zu%s: the path begins with './', as some pre-RFC tools "
                       "wrote; read without it, but RFC 8493 paths start at the bag "
                       "folder ('data/...'): rewrite the lines without './'", m->filename,
                       c.dot_line, more);
    }
    if (c.rc == EV_OK && c.n_rel) {
        more_lines(more, sizeof(more), c.n_rel);
        ev_report__add(r, EV_SEVERITY_WARNING, "manifest-path-relative", m->filename,
                       "%s line %zu%s: the path holds '.' or '..' components; resolved "
                       "by name only (it stays inside %s, nothing is followed), but other "
                       "tools may read it differently: rewrite the lines with plain paths",
                       m->filename, c.rel_line, more, m->is_tag ? "the bag" : "data/");
    }
    return c.rc;
}

void ev_bag__manifest_free(ev_manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; !m->pool && i < m->n; i++) {
        free((char *)m->entries[i].path);
        free((char *)m->entries[i].digest);
    }
    free(m->entries);
    free(m->filename);
    memset(m, 0, sizeof(*m));
}

/* ---- bagit.txt ----------------------------------------------------------- */

static bool parse_version(const char *s, size_t n, int *major, int *minor)
{
    /* 1*DIGIT "." 1*DIGIT, nothing else */
    size_t i = 0;
    long a = 0, b = 0;
    while (i < n && isdigit((unsigned char)s[i]) && a < 1000)
        a = a * 10 + (s[i++] - '0');
    if (i == 0 || i >= n || s[i] != '.')
        return false;
    size_t j = ++i;
    while (i < n && isdigit((unsigned char)s[i]) && b < 1000)
        b = b * 10 + (s[i++] - '0');
    if (i == j || i != n)
        return false;
    *major = (int)a;
    *minor = (int)b;
    return true;
}

typedef struct bagit_ctx {
    char *lines[3];
    size_t lens[3];
    size_t n;
} bagit_ctx;

static int bagit_line(const char *line, size_t len, size_t lineno, void *vctx)
{
    bagit_ctx *c = vctx;
    (void)lineno;
    if (c->n < 3) {
        c->lines[c->n] = (char *)line;
        c->lens[c->n] = len;
    }
    c->n++;
    return 0;
}

int ev_bag__parse_bagit_txt(const char *buf, size_t len, int *major, int *minor, ev_report *r)
{
    char enc[64];
    return ev_bag__parse_bagit_txt_enc(buf, len, major, minor, enc, sizeof(enc), r);
}

int ev_bag__parse_bagit_txt_enc(const char *buf, size_t len, int *major, int *minor,
                                char *encout, size_t enccap, ev_report *r)
{
    if (enccap)
        encout[0] = '\0';
    if (!ev_bag__check_text("bagit.txt", buf, len, r))
        return EV_EFORMAT;
    bagit_ctx c = { { 0 }, { 0 }, 0 };
    ev_bag__lines(buf, len, bagit_line, &c);
    static const char k1[] = "BagIt-Version: ";
    static const char k2[] = "Tag-File-Character-Encoding: ";
    if (c.n != 2) {
        ev_report__add(r, EV_SEVERITY_ERROR, "bagit-txt-invalid", "bagit.txt",
                       "bagit.txt line %zu: %s; bagit.txt must have exactly two lines "
                       "(BagIt-Version, then Tag-File-Character-Encoding), it has %zu",
                       c.n < 2 ? c.n + 1 : (size_t)3,
                       c.n < 2 ? "missing" : "one line too many", c.n);
        return EV_EFORMAT;
    }
    if (c.lens[0] < sizeof(k1) - 1 || memcmp(c.lines[0], k1, sizeof(k1) - 1) != 0 ||
        !parse_version(c.lines[0] + sizeof(k1) - 1, c.lens[0] - (sizeof(k1) - 1), major, minor)) {
        ev_report__add(r, EV_SEVERITY_ERROR, "bagit-txt-invalid", "bagit.txt",
                       "bagit.txt line 1 must be 'BagIt-Version: M.N', found '%.*s'",
                       (int)(c.lens[0] > 100 ? 100 : c.lens[0]), c.lines[0]);
        return EV_EFORMAT;
    }
    if (c.lens[1] < sizeof(k2) - 1 || memcmp(c.lines[1], k2, sizeof(k2) - 1) != 0) {
        ev_report__add(r, EV_SEVERITY_ERROR, "bagit-txt-invalid", "bagit.txt",
                       "bagit.txt line 2 must be 'Tag-File-Character-Encoding: ENCODING', "
                       "found '%.*s'", (int)(c.lens[1] > 100 ? 100 : c.lens[1]), c.lines[1]);
        return EV_EFORMAT;
    }
    const char *enc = c.lines[1] + sizeof(k2) - 1;
    size_t enclen = c.lens[1] - (sizeof(k2) - 1);
    bool legacy = *major == 0 && *minor >= 93 && *minor <= 97;
    if (!((enclen == 5 && strncasecmp(enc, "UTF-8", 5) == 0) ||
          (enclen == 4 && strncasecmp(enc, "UTF8", 4) == 0))) {
        char name[64];
        bool fits = enclen > 0 && enclen < sizeof(name) && enclen < enccap;
        if (fits) {
            memcpy(name, enc, enclen);
            name[enclen] = '\0';
        }
        iconv_t cd = fits ? iconv_open("UTF-8", name) : (iconv_t)-1;
        if (cd == (iconv_t)-1) {
            ev_report__add(r, EV_SEVERITY_ERROR, "bagit-encoding-unsupported", "bagit.txt",
                           "bagit.txt line 2: tag file encoding '%.*s' is unknown to iconv "
                           "(glibc), so the tag files cannot be read; 'iconv -l' lists the "
                           "names it knows", (int)(enclen > 60 ? 60 : enclen), enc);
            return EV_EUNSUPPORTED;
        }
        iconv_close(cd);
        memcpy(encout, name, enclen + 1);
        if (legacy)
            ev_report__add(r, EV_SEVERITY_INFO, "tag-encoding-converted", "bagit.txt",
                           "bagit.txt line 2: the tag files are in %s; they are converted to "
                           "UTF-8 (iconv) before they are read", name);
        else
            /* RFC 8493 2.1.1: UTF-8 SHOULD be used, another IANA encoding MAY */
            ev_report__add(r, EV_SEVERITY_WARNING, "tag-encoding-not-utf8", "bagit.txt",
                           "bagit.txt line 2: the tag files are in %s, not UTF-8 as RFC 8493 "
                           "2.1.1 recommends; they are converted to UTF-8 (iconv) before they "
                           "are read, but other tools may not read them", name);
    } else if (enccap > 5) {
        memcpy(encout, "UTF-8", 6);
    }
    if (*major == 1 && *minor == 0)
        return EV_OK;
    if (legacy) {
        ev_report__add(r, EV_SEVERITY_WARNING, "bagit-version-legacy", "bagit.txt",
                       "bagit.txt line 1: BagIt-Version %d.%d is a pre-RFC draft; checked by "
                       "1.0 rules where they are compatible", *major, *minor);
        return EV_OK;
    }
    ev_report__add(r, EV_SEVERITY_ERROR, "bagit-version-unsupported", "bagit.txt",
                   "bagit.txt line 1: BagIt-Version %d.%d is not supported (this tool reads "
                   "1.0 and the 0.93-0.97 drafts)", *major, *minor);
    return EV_EUNSUPPORTED;
}

/* ---- bag-info.txt -------------------------------------------------------- */

typedef struct baginfo_ctx {
    ev_baginfo *bi;
    const char *name;    /* bag-info.txt, or package-info.txt before 0.96 */
    ev_report *r;
    bool legacy;
    int rc;
} baginfo_ctx;

static int baginfo_push(ev_baginfo *bi, char *label, char *value, size_t line)
{
    ev_baginfo_elem *grown = ev__grow(bi->e, &bi->cap, bi->n, sizeof(*grown), 16);
    if (!grown)
        return EV_ENOMEM;
    bi->e = grown;
    bi->e[bi->n].label = label;
    bi->e[bi->n].value = value;
    bi->e[bi->n].line = line;
    bi->n++;
    return EV_OK;
}

static int baginfo_line(const char *line, size_t len, size_t lineno, void *vctx)
{
    baginfo_ctx *c = vctx;
    if (len == 0)
        return 0;
    if (line[0] == ' ' || line[0] == '\t') {
        /* continuation of the previous value */
        if (c->bi->n == 0) {
            ev_report__add(c->r, EV_SEVERITY_ERROR, "baginfo-bad-line", c->name,
                           "%s line %zu starts with whitespace but continues no element",
                           c->name, lineno);
            return 0;
        }
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        char **v = &c->bi->e[c->bi->n - 1].value;
        char *nv = ev__asprintf("%s %.*s", *v, (int)(len - i), line + i);
        if (!nv) {
            c->rc = EV_ENOMEM;
            return 1;
        }
        free(*v);
        *v = nv;
        return 0;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon) {
        ev_report__add(c->r, EV_SEVERITY_ERROR, "baginfo-bad-line", c->name,
                       "%s line %zu has no ':' separating label and value", c->name, lineno);
        return 0;
    }
    size_t llen = (size_t)(colon - line);
    const char *val = colon + 1;
    size_t vlen = len - llen - 1;
    if (c->legacy) {
        while (llen > 0 && (line[llen - 1] == ' ' || line[llen - 1] == '\t'))
            llen--;
        while (vlen > 0 && (*val == ' ' || *val == '\t')) {
            val++;
            vlen--;
        }
    } else {
        if (llen == 0 || line[0] == ' ' || line[llen - 1] == ' ' || line[llen - 1] == '\t') {
            ev_report__add(c->r, EV_SEVERITY_ERROR, "baginfo-bad-line", c->name,
                           "%s line %zu: a label must not be empty or start or end with "
                           "whitespace (RFC 8493 2.2.2)", c->name, lineno);
            return 0;
        }
        if (vlen > 0 && (*val == ' ' || *val == '\t')) {
            val++;
            vlen--;
        } else if (vlen > 0) {
            ev_report__add(c->r, EV_SEVERITY_WARNING, "baginfo-no-space", c->name,
                           "%s line %zu: expected one space after ':'", c->name, lineno);
        }
    }
    char *l = ev__strndup(line, llen);
    char *v = ev__strndup(val, vlen);
    if (!l || !v || baginfo_push(c->bi, l, v, lineno)) {
        free(l);
        free(v);
        c->rc = EV_ENOMEM;
        return 1;
    }
    return 0;
}

int ev_bag__parse_baginfo(ev_baginfo *bi, const char *buf, size_t len, bool legacy, ev_report *r)
{
    return ev_bag__parse_baginfo_named(bi, EV_BAG_INFO_TXT, buf, len, legacy, r);
}

int ev_bag__parse_baginfo_named(ev_baginfo *bi, const char *name, const char *buf, size_t len,
                                bool legacy, ev_report *r)
{
    baginfo_ctx c = { bi, name, r, legacy, EV_OK };
    ev_bag__lines(buf, len, baginfo_line, &c);
    return c.rc;
}

const char *ev_bag__info_name(int major, int minor, bool has_bag_info, bool has_package_info)
{
    /* before 0.96 the file was package-info.txt (bagit-python reads that
     * name in these bags too); a bag-info.txt, when there is one, wins */
    if (!has_bag_info && has_package_info && major == 0 && minor < 96)
        return EV_BAG_PACKAGE_INFO_TXT;
    return EV_BAG_INFO_TXT;
}

const ev_baginfo_elem *ev_bag__baginfo_find(const ev_baginfo *bi, const char *label)
{
    for (size_t i = 0; i < bi->n; i++)
        if (strcasecmp(bi->e[i].label, label) == 0)
            return &bi->e[i];
    return NULL;
}

const char *ev_bag__baginfo_get(const ev_baginfo *bi, const char *label)
{
    for (size_t i = 0; i < bi->n; i++)
        if (strcasecmp(bi->e[i].label, label) == 0)
            return bi->e[i].value;
    return NULL;
}

size_t ev_bag__baginfo_count(const ev_baginfo *bi, const char *label)
{
    size_t n = 0;
    for (size_t i = 0; i < bi->n; i++)
        if (strcasecmp(bi->e[i].label, label) == 0)
            n++;
    return n;
}

void ev_bag__baginfo_free(ev_baginfo *bi)
{
    if (!bi)
        return;
    for (size_t i = 0; i < bi->n; i++) {
        free(bi->e[i].label);
        free(bi->e[i].value);
    }
    free(bi->e);
    memset(bi, 0, sizeof(*bi));
}

int ev_bag__baginfo_add(ev_baginfo *bi, const char *label, const char *value)
{
    char *l = ev__strdup(label);
    char *v = ev__strdup(value ? value : "");
    if (!l || !v) {
        free(l);
        free(v);
        return EV_ENOMEM;
    }
    for (char *p = v; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    int rc = baginfo_push(bi, l, v, 0);
    if (rc) {
        free(l);
        free(v);
    }
    return rc;
}

char *ev_bag__baginfo_format(const ev_baginfo *bi)
{
    ev_buf b = { 0 };
    for (size_t i = 0; i < bi->n; i++) {
        if (ev_buf__printf(&b, "%s: %s\n", bi->e[i].label, bi->e[i].value)) {
            ev_buf__free(&b);
            return NULL;
        }
    }
    return b.data ? b.data : ev__strdup("");
}

bool ev_bag__parse_oxum(const char *s, uint64_t *bytes, uint64_t *files)
{
    uint64_t a = 0, b = 0;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p)) {
        if (__builtin_mul_overflow(a, 10, &a) || __builtin_add_overflow(a, (uint64_t)(*p - '0'), &a))
            return false;
        p++;
    }
    if (*p++ != '.' || !isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p)) {
        if (__builtin_mul_overflow(b, 10, &b) || __builtin_add_overflow(b, (uint64_t)(*p - '0'), &b))
            return false;
        p++;
    }
    if (*p)
        return false;
    *bytes = a;
    *files = b;
    return true;
}

/* ---- fetch.txt ----------------------------------------------------------- */

typedef struct fetch_ctx {
    ev_fetch_entry *e;
    size_t n, cap;
    ev_report *r;
    int rc;
} fetch_ctx;

static int fetch_line(const char *line, size_t len, size_t lineno, void *vctx)
{
    fetch_ctx *c = vctx;
    if (len == 0)
        return 0;
    size_t a = 0;
    while (a < len && line[a] != ' ' && line[a] != '\t')
        a++;
    size_t b = a;
    while (b < len && (line[b] == ' ' || line[b] == '\t'))
        b++;
    size_t b2 = b;
    while (b2 < len && line[b2] != ' ' && line[b2] != '\t')
        b2++;
    size_t p = b2;
    while (p < len && (line[p] == ' ' || line[p] == '\t'))
        p++;
    if (a == 0 || b == a || b2 == b || p == b2 || p >= len) {
        ev_report__add(c->r, EV_SEVERITY_ERROR, "fetch-bad-line", "fetch.txt",
                       "fetch.txt line %zu is not '<url> <length> <path>'", lineno);
        return 0;
    }
    ev_fetch_entry *grown = ev__grow(c->e, &c->cap, c->n, sizeof(*grown), 16);
    if (!grown) {
        c->rc = EV_ENOMEM;
        return 1;
    }
    c->e = grown;
    ev_fetch_entry *e = &c->e[c->n];
    e->url = ev__strndup(line, a);
    e->length = ev__strndup(line + b, b2 - b);
    e->path = ev_bag__decode_path(line + p, len - p);
    e->line = lineno;
    if (e->path && (e->path[0] == '.' && e->path[1] == '/')) {
        /* "./data/x", as in pre-RFC manifests */
        bool changed, escapes;
        char *res = ev_bag__resolve_path(e->path, &changed, &escapes);
        if (res && ev_bag__is_payload(res)) {
            free(e->path);
            e->path = res;
        } else {
            free(res);
        }
    }
    if (!e->url || !e->length || !e->path) {
        free(e->url);
        free(e->length);
        free(e->path);
        c->rc = EV_ENOMEM;
        return 1;
    }
    c->n++;
    return 0;
}

int ev_bag__parse_fetch(ev_fetch_entry **out, size_t *n, const char *buf, size_t len, ev_report *r)
{
    fetch_ctx c = { NULL, 0, 0, r, EV_OK };
    ev_bag__lines(buf, len, fetch_line, &c);
    *out = c.e;
    *n = c.n;
    return c.rc;
}

void ev_bag__fetch_free(ev_fetch_entry *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(f[i].url);
        free(f[i].length);
        free(f[i].path);
    }
    free(f);
}
