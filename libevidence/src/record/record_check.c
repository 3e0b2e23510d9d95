/*
 * record_check: the record (evidence.json) against its schema, bag-info.txt,
 * the payload bytes and its views; the limits on what it may make the reader
 * allocate. See record_check.h and docs/verify-codes.md.
 */
#include "record/record_check.h"

#include <magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bag/bag.h"
#include "base/internal.h"
#include "record/record.h"

/* Problems of one code beyond this many are counted, not listed: a record
 * with a million lies must not make a report of a million problems. */
#define CAP_PER_CODE 100
/* libmagic looks at the head of a file; the writer gives it this much */
#define MAGIC_HEAD 16384

enum {
    C_SCHEMA,
    C_DUP,
    C_BAGINFO,
    C_EXHIBIT,
    C_MIME,
    C_DANGLING,
    C_COUNT
};

static const char *const codes[] = {
    "record-schema",         "record-item-duplicate", "record-baginfo-mismatch",
    "record-exhibit-mismatch", "record-mime-mismatch",  "record-dangling-reference",
};

_Static_assert(sizeof(codes) / sizeof(codes[0]) == C_COUNT, "one name per code");

typedef struct cctx {
    ev_report *r;
    size_t count[C_COUNT];
    int rc; /* EV_ENOMEM once a problem could not be added */
} cctx;

static void add(cctx *c, int code, ev_severity sev, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void add(cctx *c, int code, ev_severity sev, const char *path, const char *fmt, ...)
{
    if (++c->count[code] > CAP_PER_CODE)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ev_report__add(c->r, sev, codes[code], path, "%s", msg) != EV_OK)
        c->rc = EV_ENOMEM;
}

static void add_summaries(cctx *c)
{
    for (int k = 0; k < C_COUNT; k++)
        if (c->count[k] > CAP_PER_CODE &&
            ev_report__add(c->r, EV_SEVERITY_ERROR, codes[k],
                           "evidence.json", "%zu more %s problems are not listed",
                           c->count[k] - CAP_PER_CODE, codes[k]) != EV_OK)
            c->rc = EV_ENOMEM;
}

/* ---- limits ----------------------------------------------------------------------- */

void ev_record__limits_default(ev_bundle_options *o)
{
    if (!o->max_items)
        o->max_items = EV_RECORD_MAX_ITEMS_DEFAULT;
    if (!o->max_record_size)
        o->max_record_size = EV_RECORD_MAX_SIZE_DEFAULT;
    if (!o->max_custody_events)
        o->max_custody_events = EV_RECORD_MAX_CUSTODY_EVENTS_DEFAULT;
}

size_t ev_custody__count(const char *buf, size_t len)
{
    size_t n = 0, start = 0;
    while (start < len) {
        const char *nl = memchr(buf + start, '\n', len - start);
        n++;
        if (!nl)
            break;
        start = (size_t)(nl - buf) + 1;
    }
    return n;
}

/* ---- grammar ------------------------------------------------------------------------ */

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool ev_record__utc_time_ok(const char *s)
{
    int y, mo, d, h, mi, se;
    if (!s || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        size_t nd = 0;
        for (p++; *p >= '0' && *p <= '9'; p++)
            nd++;
        if (nd < 1 || nd > 9)
            return false;
    }
    if (p[0] != 'Z' || p[1] != '\0')
        return false;
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 60 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[mo - 1] + (mo == 2 && leap ? 1 : 0);
}

bool ev_record__custody_action_ok(const char *s)
{
    static const char *const actions[] = { "created",  "received", "verified", "transcoded",
                                           "exported", "note",     "signed", "disclosed" };
    for (size_t i = 0; s && i < sizeof(actions) / sizeof(actions[0]); i++)
        if (!strcmp(s, actions[i]))
            return true;
    return false;
}

static bool hex_lower(const char *s, size_t n)
{
    if (!s || strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static bool item_id_ok(const char *s)
{
    if (strncmp(s, "item-", 5) != 0)
        return false;
    size_t n = 0;
    for (s += 5; *s >= '0' && *s <= '9'; s++)
        n++;
    return n >= 4 && *s == '\0';
}

static bool uuid_urn_ok(const char *s)
{
    /* urn:uuid:xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx, lower case */
    unsigned char u[16];
    if (!ev__uuid_parse(u, s))
        return false;
    for (const char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            return false;
    return (u[6] >> 4) == 4 && (u[8] & 0xc0) == 0x80;
}

static bool mime_ok(const char *s)
{
    /* ^[a-z0-9.+-]+/[A-Za-z0-9.+-]+$ */
    size_t a = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.+-");
    if (a == 0 || s[a] != '/')
        return false;
    const char *t = s + a + 1;
    size_t b = strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-");
    return b > 0 && t[b] == '\0';
}

static bool meta_ok(const char *s)
{
    /* ^meta/item-[0-9]{4,}/[A-Za-z0-9._-]+$ */
    if (strncmp(s, "meta/item-", 10) != 0)
        return false;
    size_t n = strspn(s + 10, "0123456789");
    if (n < 4 || s[10 + n] != '/')
        return false;
    const char *t = s + 11 + n;
    size_t b = strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
    return b > 0 && t[b] == '\0';
}

/* ---- MIME families ----------------------------------------------------------------- */

static void mime_base(char *out, size_t cap, const char *m)
{
    size_t n = 0;
    for (; m[n] && m[n] != ';' && m[n] != ' ' && n + 1 < cap; n++)
        out[n] = (char)((m[n] >= 'A' && m[n] <= 'Z') ? m[n] - 'A' + 'a' : m[n]);
    out[n] = '\0';
}

static bool in_list(const char *m, const char *const *list)
{
    for (; *list; list++) {
        size_t l = strlen(*list);
        /* "prefix*" entries match a prefix */
        if ((*list)[l - 1] == '*' ? strncmp(m, *list, l - 1) == 0 : strcmp(m, *list) == 0)
            return true;
    }
    return false;
}

const char *ev_record__mime_family(const char *mime)
{
    static const char *const unknown[] = { "application/octet-stream", "application/x-empty",
                                           "inode/x-empty", "application/unknown", NULL };
    static const char *const av[] = { "application/ogg", "application/mp4",
                                      "application/x-matroska", "application/mxf",
                                      "application/vnd.rn-realmedia", NULL };
    static const char *const text[] = { "message/*", "application/json", "application/xml",
                                        "application/javascript", "application/x-javascript",
                                        "application/ecmascript", "application/x-ndjson",
                                        "application/sql", "application/x-subrip",
                                        "application/x-sh", "application/x-shellscript", NULL };
    static const char *const exe[] = { "application/x-dosexec", "application/x-msdownload",
                                       "application/vnd.microsoft.portable-executable",
                                       "application/x-executable", "application/x-pie-executable",
                                       "application/x-sharedlib", "application/x-mach-binary",
                                       "application/x-elf", "application/x-msi",
                                       "application/x-ms-installer", "application/x-object",
                                       "application/java-vm", NULL };
    static const char *const archive[] = {
        "application/zip", "application/x-zip", "application/x-zip-compressed", "application/gzip",
        "application/x-gzip", "application/x-tar", "application/x-7z-compressed",
        "application/x-rar", "application/x-rar-compressed", "application/vnd.rar",
        "application/x-bzip2", "application/x-xz", "application/zstd", "application/x-lzip",
        "application/x-lzma", "application/x-compress", "application/java-archive",
        "application/epub+zip", "application/vnd.android.package-archive",
        "application/vnd.openxmlformats-*", "application/vnd.oasis.opendocument.*",
        "application/x-iso9660-image", "application/vnd.ms-cab-compressed", "application/x-cpio",
        "application/x-archive", NULL };
    static const char *const doc[] = { "application/pdf", "application/postscript",
                                       "application/msword", "application/vnd.ms-excel",
                                       "application/vnd.ms-powerpoint", "application/vnd.ms-outlook",
                                       "application/vnd.ms-office", "application/x-ole-storage",
                                       "application/cdfv2", "application/rtf", NULL };
    if (!mime)
        return "unknown";
    char m[128];
    mime_base(m, sizeof(m), mime);
    if (!m[0] || in_list(m, unknown))
        return "unknown";
    if (!strncmp(m, "image/", 6))
        return "image";
    if (!strncmp(m, "video/", 6) || !strncmp(m, "audio/", 6) || in_list(m, av))
        return "av";
    if (!strncmp(m, "text/", 5) || in_list(m, text))
        return "text";
    size_t l = strlen(m);
    if ((l > 4 && !strcmp(m + l - 4, "+xml")) || (l > 5 && !strcmp(m + l - 5, "+json")))
        return "text";
    if (in_list(m, exe))
        return "executable";
    if (in_list(m, archive))
        return "archive";
    if (in_list(m, doc))
        return "document";
    return "other";
}

bool ev_record__mime_contradicts(const char *record_mime, const char *magic_mime)
{
    const char *a = ev_record__mime_family(record_mime);
    const char *b = ev_record__mime_family(magic_mime);
    if (!strcmp(a, "unknown") || !strcmp(b, "unknown") || !strcmp(a, b))
        return false;
    /* "other" is a type this table does not place; it contradicts only a
     * type of a known family other than text (texts are often typed
     * differently by different libmagic versions) */
    bool a_soft = !strcmp(a, "other") || !strcmp(a, "text");
    bool b_soft = !strcmp(b, "other") || !strcmp(b, "text");
    return !(a_soft && b_soft);
}

/* ---- schema ------------------------------------------------------------------------ */

enum { T_STR = 1, T_NULL = 2, T_INT = 4, T_OBJ = 8, T_ARR = 16, T_NUM = 32, T_TRUE = 64 };

static int jtype(const json_t *v)
{
    return json_is_string(v) ? T_STR : json_is_null(v) ? T_NULL
           : json_is_integer(v) ? T_INT | T_NUM : json_is_real(v) ? T_NUM
           : json_is_object(v) ? T_OBJ : json_is_array(v) ? T_ARR : json_is_true(v) ? T_TRUE : 0;
}

static const char *jtype_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static const char *types_name(int t)
{
    switch (t) {
    case T_STR: return "a string";
    case T_STR | T_NULL: return "a string or null";
    case T_INT: return "an integer";
    case T_OBJ: return "an object";
    case T_ARR: return "an array";
    case T_NUM: return "a number";
    case T_TRUE: return "true";
    default: return "of another type";
    }
}

#define SCH(c, ...) add(c, C_SCHEMA, EV_SEVERITY_ERROR, "evidence.json", __VA_ARGS__)

static const json_t *field(cctx *c, const json_t *o, const char *ptr, const char *key, int types,
                           bool required)
{
    const json_t *v = json_object_get(o, key);
    if (!v) {
        if (required)
            SCH(c, "evidence.json breaks its schema: %s/%s is missing", ptr, key);
        return NULL;
    }
    if (!(jtype(v) & types)) {
        SCH(c, "evidence.json breaks its schema: %s/%s is %s, not %s", ptr, key, jtype_name(v),
            types_name(types));
        return NULL;
    }
    return v;
}

static void str_field(cctx *c, const json_t *o, const char *ptr, const char *key, bool required,
                      bool (*ok)(const char *), const char *what)
{
    const json_t *v = field(c, o, ptr, key, T_STR, required);
    if (v && ok && !ok(json_string_value(v)))
        SCH(c, "evidence.json breaks its schema: %s/%s is not %s", ptr, key, what);
}

static bool nonempty(const char *s)
{
    return s[0] != '\0';
}

static bool sha256_ok(const char *s)
{
    return hex_lower(s, 64);
}

static bool sha512_ok(const char *s)
{
    return hex_lower(s, 128);
}

static bool data_path_ok(const char *s)
{
    return strncmp(s, "data/", 5) == 0;
}

static void nullable_strings(cctx *c, const json_t *o, const char *ptr,
                             const char *const *keys)
{
    for (; *keys; keys++)
        field(c, o, ptr, *keys, T_STR | T_NULL, false);
}

/* "/items/K" into ptr (48 bytes), and PTR/NAME into sub (64 bytes): made for
 * every item, so without printf */
static void item_ptr(char *ptr, size_t k)
{
    char d[24];
    size_t n = sizeof(d);
    do {
        d[--n] = (char)('0' + k % 10);
        k /= 10;
    } while (k);
    memcpy(ptr, "/items/", 7);
    memcpy(ptr + 7, d + n, sizeof(d) - n);
    ptr[7 + sizeof(d) - n] = '\0';
}

static void sub_ptr(char sub[64], const char *ptr, const char *name)
{
    size_t a = strlen(ptr), b = strlen(name);
    if (a + b + 1 >= 64) {
        snprintf(sub, 64, "%s/%s", ptr, name);
        return;
    }
    memcpy(sub, ptr, a);
    sub[a] = '/';
    memcpy(sub + a + 1, name, b + 1);
}

static void schema_item(cctx *c, const json_t *it, size_t k)
{
    char ptr[48];
    item_ptr(ptr, k);
    if (!json_is_object(it)) {
        SCH(c, "evidence.json breaks its schema: %s is %s, not an object", ptr, jtype_name(it));
        return;
    }
    str_field(c, it, ptr, "id", true, item_id_ok, "'item-' and at least four digits");
    str_field(c, it, ptr, "exhibit", true, nonempty, "a non-empty exhibit reference");
    const json_t *role = field(c, it, ptr, "role", T_STR, true);
    if (role && strcmp(json_string_value(role), "master") && strcmp(json_string_value(role),
                                                                     "derivative"))
        SCH(c, "evidence.json breaks its schema: %s/role is '%s', not master or derivative", ptr,
            json_string_value(role));
    str_field(c, it, ptr, "path", true, data_path_ok, "a path under data/");
    str_field(c, it, ptr, "original_name", true, NULL, NULL);
    field(c, it, ptr, "original_path", T_STR | T_NULL, false);
    str_field(c, it, ptr, "name_changed", false, NULL, NULL);
    const json_t *size = field(c, it, ptr, "size", T_INT, true);
    if (size && json_integer_value(size) < 0)
        SCH(c, "evidence.json breaks its schema: %s/size is negative", ptr);
    const json_t *h = field(c, it, ptr, "hashes", T_OBJ, true);
    if (h) {
        char hp[64];
        sub_ptr(hp, ptr, "hashes");
        str_field(c, h, hp, "sha256", true, sha256_ok, "64 lower-case hex digits");
        str_field(c, h, hp, "sha512", false, sha512_ok, "128 lower-case hex digits");
    }
    str_field(c, it, ptr, "mime", true, mime_ok, "a MIME type");
    const json_t *t = field(c, it, ptr, "times", T_OBJ, false);
    if (t) {
        char tp[64];
        sub_ptr(tp, ptr, "times");
        str_field(c, t, tp, "modified", false, ev_record__utc_time_ok, "an RFC 3339 UTC time");
    }
    field(c, it, ptr, "media", T_OBJ, false);
    field(c, it, ptr, "capture", T_OBJ, false);
    field(c, it, ptr, "content_hashes", T_ARR, false);
    const json_t *meta = field(c, it, ptr, "meta", T_ARR, false);
    size_t q;
    const json_t *m;
    json_array_foreach(meta, q, m) {
        if (!json_is_string(m) || !meta_ok(json_string_value(m)))
            SCH(c, "evidence.json breaks its schema: %s/meta/%zu is not a meta/item-NNNN/NAME "
                "path", ptr, q);
    }
    const json_t *df = field(c, it, ptr, "derived_from", T_OBJ, false);
    if (df) {
        char dp[64];
        sub_ptr(dp, ptr, "derived_from");
        str_field(c, df, dp, "item", true, NULL, NULL);
        str_field(c, df, dp, "profile", true, NULL, NULL);
        const json_t *a = field(c, df, dp, "action", T_STR, true);
        if (a && strcmp(json_string_value(a), "transcoded") &&
            strcmp(json_string_value(a), "repackaged"))
            SCH(c, "evidence.json breaks its schema: %s/action is '%s', not transcoded or "
                "repackaged", dp, json_string_value(a));
        str_field(c, df, dp, "source_sha256", false, sha256_ok, "64 lower-case hex digits");
        field(c, df, dp, "verdict", T_STR | T_NULL, false); /* null: not verified */
    }
}

/* ---- the slim record (record_check.h) ----------------------------------------------- */

int ev_record__slim_init(ev_record__slim *s)
{
    memset(s, 0, sizeof(*s));
    return ev_report__new(&s->schema, "schema");
}

static void slim_clear(ev_record__slim *s)
{
    ev_strpool__free(&s->strs);
    free(s->items);
    free(s->x);
    free(s->others);
    json_decref(s->head);
}

void ev_record__slim_free(ev_record__slim *s)
{
    if (!s)
        return;
    slim_clear(s);
    ev_report_free(s->schema);
    memset(s, 0, sizeof(*s));
}

void ev_record__slim_reset(void *ctx)
{
    ev_record__slim *s = ctx;
    ev_report *schema = s->schema;
    slim_clear(s);
    memset(s, 0, sizeof(*s));
    ev_report__new(&s->schema, "schema");
    ev_report_free(schema);
    if (!s->schema)
        s->rc = EV_ENOMEM;
}

/* a copy of str among the slim record's strings (NULL stays NULL) */
static const char *keep(ev_record__slim *s, const char *str)
{
    const char *d = ev_strpool__keep(&s->strs, str);
    if (str && !d)
        s->rc = EV_ENOMEM;
    return d;
}

/* the same as the previous item's value (types, exhibits, roles repeat) */
static const char *keep_same(ev_record__slim *s, const char *str, const char *prev)
{
    return str && prev && !strcmp(str, prev) ? prev : keep(s, str);
}

static const char *str_of(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

int ev_record__slim_item(void *ctx, const json_t *it, size_t k)
{
    ev_record__slim *s = ctx;
    if (s->rc != EV_OK || !s->schema)
        return s->rc ? s->rc : EV_ENOMEM;
    s->nall = k + 1;
    cctx c = { s->schema, { 0 }, EV_OK };
    c.count[C_SCHEMA] = s->nschema;
    schema_item(&c, it, k);
    s->nschema = c.count[C_SCHEMA];
    if (c.rc != EV_OK)
        return s->rc = c.rc;
    if (!json_is_object(it)) {
        if (s->nothers == s->capothers) {
            size_t nc = s->capothers ? s->capothers * 2 : 16;
            size_t *v = ev__reallocarray(s->others, nc, sizeof(*v));
            if (!v)
                return s->rc = EV_ENOMEM;
            s->others = v;
            s->capothers = nc;
        }
        s->others[s->nothers++] = k;
        return EV_OK;
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap + s->cap / 2 : 64;
        ev_item *v = ev__reallocarray(s->items, nc, sizeof(*v));
        if (!v)
            return s->rc = EV_ENOMEM;
        s->items = v;
        ev_record__vitem *x = ev__reallocarray(s->x, nc, sizeof(*x));
        if (!x)
            return s->rc = EV_ENOMEM;
        s->x = x;
        s->cap = nc;
    }
    const ev_item *prev = s->n ? &s->items[s->n - 1] : NULL;
    ev_item *e = &s->items[s->n];
    ev_record__vitem *x = &s->x[s->n];
    memset(e, 0, sizeof(*e));
    memset(x, 0, sizeof(*x));
    e->version = EV_ITEM_VERSION;
    e->id = keep(s, str_of(it, "id"));
    e->exhibit = keep_same(s, str_of(it, "exhibit"), prev ? prev->exhibit : NULL);
    e->role = keep_same(s, str_of(it, "role"), prev ? prev->role : NULL);
    e->path = keep(s, str_of(it, "path"));
    e->original_name = keep(s, str_of(it, "original_name"));
    const json_t *sz = json_object_get(it, "size");
    x->size_int = json_is_integer(sz);
    if (x->size_int) {
        x->size = json_integer_value(sz);
        e->size = x->size >= 0 ? (uint64_t)x->size : 0;
    } else if (sz) {
        /* the size as written (31.0, "31", null...), for the message */
        char *t = json_dumps(sz, JSON_ENCODE_ANY);
        x->size_text = t ? keep(s, t) : NULL;
        if (!t)
            s->rc = EV_ENOMEM;
        free(t);
    }
    e->sha256 = keep(s, str_of(json_object_get(it, "hashes"), "sha256"));
    e->mime = keep_same(s, str_of(it, "mime"), prev ? prev->mime : NULL);
    const json_t *df = json_object_get(it, "derived_from");
    x->has_df = df != NULL;
    if (json_is_object(df)) {
        e->derived_from = keep(s, str_of(df, "item"));
        x->df_source_sha256 = keep(s, str_of(df, "source_sha256"));
        x->df_record = keep(s, str_of(df, "record"));
    }
    x->k = k;
    s->n++;
    return s->rc;
}

void ev_record__slim_fit(ev_record__slim *s)
{
    if (s->n && s->n < s->cap) {
        ev_item *v = ev__reallocarray(s->items, s->n, sizeof(*v));
        if (v)
            s->items = v;
        ev_record__vitem *x = ev__reallocarray(s->x, s->n, sizeof(*x));
        if (x)
            s->x = x;
        if (v && x)
            s->cap = s->n;
    }
}

int ev_record__slim_from(ev_record__slim *s, const json_t *record)
{
    int rc = ev_record__slim_init(s);
    if (rc != EV_OK)
        return rc;
    const json_t *items = json_object_get(record, "items");
    for (size_t k = 0; rc == EV_OK && json_is_array(items) && k < json_array_size(items); k++)
        rc = ev_record__slim_item(s, json_array_get(items, k), k);
    if (rc == EV_OK && !(s->head = json_deep_copy(record)))
        rc = EV_ENOMEM;
    if (rc == EV_OK && json_is_array(json_object_get(s->head, "items")))
        json_array_clear(json_object_get(s->head, "items"));
    return rc;
}

/* The items' schema problems, found as they were read, added to c as if
 * found now (the cap per code counts them in order). */
static void replay_schema(cctx *c, const ev_record__slim *s)
{
    const ev_report *q = s->schema;
    for (size_t i = 0; q && i < q->nproblems; i++) {
        const ev_problem *p = &q->problems[i];
        if (++c->count[C_SCHEMA] <= CAP_PER_CODE &&
            ev_report__add(c->r, p->severity, p->code, p->path, "%s", p->message) != EV_OK)
            c->rc = EV_ENOMEM;
    }
    if (q && s->nschema > q->nproblems)
        c->count[C_SCHEMA] += s->nschema - q->nproblems;
}

/* The parts of an exhibit schedule (docs/exhibit-schedule.md): people,
 * places, events and exhibits, each a list of objects of known keys. */
typedef struct skey {
    const char *key;
    int types;
    bool required;
} skey;

static void schema_keys(cctx *c, const json_t *o, const char *ptr, const skey *keys)
{
    for (; keys->key; keys++) {
        const json_t *v = field(c, o, ptr, keys->key, keys->types, keys->required);
        if (v && json_is_string(v) && !nonempty(json_string_value(v)))
            SCH(c, "evidence.json breaks its schema: %s/%s is empty", ptr, keys->key);
    }
}

static const skey person_keys[] = {
    { "id", T_STR, true }, { "name", T_STR, false }, { "identifier", T_STR, false },
    { "organisation", T_STR, false }, { NULL, 0, false }
};
static const skey place_keys[] = {
    { "id", T_STR, true }, { "description", T_STR, false }, { "address", T_STR, false },
    { "postcode", T_STR, false }, { "latitude", T_NUM, false }, { "longitude", T_NUM, false },
    { NULL, 0, false }
};
static const skey event_keys[] = {
    { "id", T_STR, true }, { "action", T_STR, false }, { "performer", T_STR, false },
    { "performer_role", T_STR, false }, { "place", T_STR, false }, { "time", T_STR, false },
    { "time_local", T_STR, false }, { "time_utc_offset", T_STR, false },
    { "time_zone", T_STR, false }, { "time_unknown", T_TRUE, false },
    { "end_time", T_STR, false }, { "end_time_local", T_STR, false },
    { "end_time_utc_offset", T_STR, false }, { "end_time_zone", T_STR, false },
    { "end_time_unknown", T_TRUE, false }, { NULL, 0, false }
};
static const skey exhibit_keys[] = {
    { "reference", T_STR, true }, { "description", T_STR, false }, { "event", T_STR, false },
    { "source", T_OBJ, false }, { "references", T_OBJ, false },
    { "handling_notes", T_STR, false }, { "extra", T_OBJ, false }, { NULL, 0, false }
};
static const skey source_keys[] = {
    { "make", T_STR, false }, { "model", T_STR, false }, { "serial", T_STR, false },
    { "owner", T_STR, false }, { "system", T_STR, false }, { NULL, 0, false }
};
static const skey references_keys[] = {
    { "crime", T_STR, false }, { "urn", T_STR, false }, { "dems_id", T_STR, false },
    { NULL, 0, false }
};

static void schema_list(cctx *c, const json_t *rec, const char *name, const skey *keys)
{
    const json_t *a = field(c, rec, "", name, T_ARR, false);
    size_t k;
    const json_t *o;
    json_array_foreach(a, k, o) {
        char ptr[64];
        snprintf(ptr, sizeof(ptr), "/%s/%zu", name, k);
        if (!json_is_object(o)) {
            SCH(c, "evidence.json breaks its schema: %s is %s, not an object", ptr,
                jtype_name(o));
            continue;
        }
        schema_keys(c, o, ptr, keys);
        if (keys == exhibit_keys) {
            char sp[80];
            const json_t *src = field(c, o, ptr, "source", T_OBJ, false);
            snprintf(sp, sizeof(sp), "%s/source", ptr);
            if (src)
                schema_keys(c, src, sp, source_keys);
            const json_t *refs = field(c, o, ptr, "references", T_OBJ, false);
            snprintf(sp, sizeof(sp), "%s/references", ptr);
            if (refs)
                schema_keys(c, refs, sp, references_keys);
            const json_t *extra = field(c, o, ptr, "extra", T_OBJ, false);
            const char *key;
            const json_t *v;
            json_object_foreach((json_t *)extra, key, v) {
                if (!json_is_string(v)) {
                    SCH(c, "evidence.json breaks its schema: %s/extra/%.64s is %s, not a "
                        "string", ptr, key, jtype_name(v));
                    break;
                }
            }
        }
    }
}

static void schema_schedule(cctx *c, const json_t *rec)
{
    schema_list(c, rec, "people", person_keys);
    schema_list(c, rec, "places", place_keys);
    schema_list(c, rec, "events", event_keys);
    schema_list(c, rec, "exhibits", exhibit_keys);
}

typedef struct uref {
    const char *s;
    size_t k;
} uref;

static int uref_cmp(const void *a, const void *b)
{
    const uref *x = a, *y = b;
    int d = strcmp(x->s, y->s);
    return d ? d : (x->k > y->k) - (x->k < y->k);
}

static void check_unique(cctx *c, const json_t *rec, const char *list, const char *key)
{
    const json_t *a = json_object_get(rec, list);
    size_t n = json_array_size(a), m = 0;
    if (n < 2)
        return;
    uref *v = ev__calloc(n, sizeof(*v));
    if (!v) {
        c->rc = EV_ENOMEM;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *x = json_string_value(json_object_get(json_array_get(a, i), key));
        if (x)
            v[m++] = (uref){ x, i };
    }
    qsort(v, m, sizeof(*v), uref_cmp);
    for (size_t i = 1; i < m; i++)
        if (strcmp(v[i].s, v[i - 1].s) == 0)
            SCH(c, "evidence.json breaks its schema: /%s/%zu/%s '%.200s' is also "
                "/%s/%zu/%s: each is given once", list, v[i].k, key, v[i].s, list, v[i - 1].k,
                key);
    free(v);
}

static int str_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every reference resolves: an event's performer to a person, its place to
 * a place, an exhibit's event to an event, and (when the record has
 * exhibits) an item's exhibit to an exhibit. */
static void check_refs_one(cctx *c, const json_t *rec, const char *from, const char *key,
                           const char *to, const char *to_key, const char *what)
{
    const json_t *list = json_object_get(rec, from), *target = json_object_get(rec, to);
    size_t nt = json_array_size(target), m = 0;
    const char **v = ev__calloc(nt ? nt : 1, sizeof(*v));
    if (!v) {
        c->rc = EV_ENOMEM;
        return;
    }
    for (size_t i = 0; i < nt; i++) {
        const char *x = json_string_value(json_object_get(json_array_get(target, i), to_key));
        if (x)
            v[m++] = x;
    }
    qsort(v, m, sizeof(*v), str_ptr_cmp);
    size_t k;
    const json_t *o;
    json_array_foreach(list, k, o) {
        const char *x = json_string_value(json_object_get(o, key));
        if (x && !bsearch(&x, v, m, sizeof(*v), str_ptr_cmp))
            add(c, C_DANGLING, EV_SEVERITY_ERROR, "evidence.json",
                "evidence.json: /%s/%zu/%s is '%.200s', but no %s in /%s has that %s", from, k,
                key, x, what, to, to_key);
    }
    free(v);
}

/* Each custody event's person names a person of the record and its place
 * a place (the nodes of docs/exhibit-schedule.md); a value that is not a
 * string is custody-event-invalid (ev_custody__check). */
static void check_custody_refs(cctx *c, const json_t *rec, const char *buf, size_t len)
{
    static const char *const keys[2] = { "person", "place" };
    static const char *const lists[2] = { "people", "places" };
    const char **v[2] = { NULL, NULL };
    size_t m[2] = { 0, 0 };
    for (int t = 0; t < 2; t++) {
        const json_t *target = json_object_get(rec, lists[t]);
        size_t nt = json_array_size(target);
        if (!(v[t] = ev__calloc(nt ? nt : 1, sizeof(*v[t])))) {
            c->rc = EV_ENOMEM;
            free(v[0]);
            return;
        }
        for (size_t i = 0; i < nt; i++) {
            const char *x = json_string_value(json_object_get(json_array_get(target, i), "id"));
            if (x)
                v[t][m[t]++] = x;
        }
        qsort(v[t], m[t], sizeof(*v[t]), str_ptr_cmp);
    }
    size_t start = 0, lineno = 0;
    while (start < len) {
        const char *nl = memchr(buf + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - buf) : len;
        lineno++;
        json_t *ev = json_loadb(buf + start, end - start, 0, NULL);
        for (int t = 0; t < 2; t++) {
            const char *x = json_string_value(json_object_get(ev, keys[t]));
            if (x && !bsearch(&x, v[t], m[t], sizeof(*v[t]), str_ptr_cmp))
                add(c, C_DANGLING, EV_SEVERITY_ERROR, "custody.jsonl",
                    "custody.jsonl line %zu: the event's %s is '%.200s', but no %s in /%s of "
                    "evidence.json has that id", lineno, keys[t], x, keys[t], lists[t]);
        }
        json_decref(ev);
        start = end + 1;
    }
    free(v[0]);
    free(v[1]);
}

/* Each item's exhibit names an exhibit of the record (when it has
 * exhibits): check_refs_one for the items of a slim record. */
static void check_item_exhibits(cctx *c, const ev_record__slim *s)
{
    const json_t *target = json_object_get(s->head, "exhibits");
    size_t nt = json_array_size(target), m = 0;
    const char **v = ev__calloc(nt ? nt : 1, sizeof(*v));
    if (!v) {
        c->rc = EV_ENOMEM;
        return;
    }
    for (size_t i = 0; i < nt; i++) {
        const char *x = json_string_value(json_object_get(json_array_get(target, i), "reference"));
        if (x)
            v[m++] = x;
    }
    qsort(v, m, sizeof(*v), str_ptr_cmp);
    for (size_t i = 0; i < s->n; i++) {
        const char *x = s->items[i].exhibit;
        if (x && !bsearch(&x, v, m, sizeof(*v), str_ptr_cmp))
            add(c, C_DANGLING, EV_SEVERITY_ERROR, "evidence.json",
                "evidence.json: /%s/%zu/%s is '%.200s', but no %s in /%s has that %s", "items",
                s->x[i].k, "exhibit", x, "exhibit", "exhibits", "reference");
    }
    free(v);
}

static void check_refs(cctx *c, const ev_record__slim *s)
{
    const json_t *rec = s->head;
    check_unique(c, rec, "people", "id");
    check_unique(c, rec, "places", "id");
    check_unique(c, rec, "events", "id");
    check_unique(c, rec, "exhibits", "reference");
    check_refs_one(c, rec, "events", "performer", "people", "id", "person");
    check_refs_one(c, rec, "events", "place", "places", "id", "place");
    check_refs_one(c, rec, "exhibits", "event", "events", "id", "event");
    if (json_object_get(rec, "exhibits"))
        check_item_exhibits(c, s);
}

static void schema_record(cctx *c, const ev_record__slim *s)
{
    const json_t *rec = s->head;
    const json_t *f = field(c, rec, "", "format", T_STR, true);
    if (f && strcmp(json_string_value(f), "evidence-bundle"))
        SCH(c, "evidence.json breaks its schema: /format is '%s', not 'evidence-bundle'",
            json_string_value(f));
    const json_t *fv = field(c, rec, "", "format_version", T_INT, true);
    if (fv && json_integer_value(fv) != 1)
        SCH(c, "evidence.json: /format_version is %lld; this version reads format 1 only",
            (long long)json_integer_value(fv));
    str_field(c, rec, "", "bundle_id", true, uuid_urn_ok, "a urn:uuid: (version 4, lower case)");
    str_field(c, rec, "", "created", true, ev_record__utc_time_ok, "an RFC 3339 UTC time");
    const json_t *tool = field(c, rec, "", "tool", T_OBJ, true);
    if (tool) {
        const json_t *n = field(c, tool, "/tool", "name", T_STR, true);
        if (n && strcmp(json_string_value(n), "evidence"))
            SCH(c, "evidence.json breaks its schema: /tool/name is '%s', not 'evidence'",
                json_string_value(n));
        field(c, tool, "/tool", "version", T_STR, true);
        const json_t *libs = field(c, tool, "/tool", "libraries", T_OBJ, true);
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)libs, key, v) {
            if (!json_is_string(v)) {
                SCH(c, "evidence.json breaks its schema: /tool/libraries/%.64s is %s, not a "
                    "string", key, jtype_name(v));
                break;
            }
        }
    }
    static const char *const case_keys[] = { "reference", "organisation", "operation",
                                             "description", NULL };
    static const char *const by_keys[] = { "name", "identifier", "organisation", "role", NULL };
    static const char *const sys_keys[] = { "name", "version", NULL };
    const json_t *cs = field(c, rec, "", "case", T_OBJ, true);
    if (cs)
        nullable_strings(c, cs, "/case", case_keys);
    const json_t *by = field(c, rec, "", "exported_by", T_OBJ, true);
    if (by)
        nullable_strings(c, by, "/exported_by", by_keys);
    const json_t *sys = field(c, rec, "", "source_system", T_OBJ, false);
    if (sys)
        nullable_strings(c, sys, "/source_system", sys_keys);
    if (field(c, rec, "", "items", T_ARR, true))
        replay_schema(c, s);
    schema_schedule(c, rec);
}

/* ---- one item per file, one id per item ----------------------------------------------- */

typedef struct sref {
    const char *s;
    size_t k;
} sref;

static int sref_cmp(const void *a, const void *b)
{
    const sref *x = a, *y = b;
    int d = strcmp(x->s, y->s);
    return d ? d : (x->k < y->k ? -1 : x->k > y->k);
}

static int check_duplicates(cctx *c, const ev_record__slim *sl, bool is_path)
{
    size_t n = sl->n, m = 0;
    sref *v = ev__calloc(n ? n : 1, sizeof(*v));
    if (!v)
        return EV_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *s = is_path ? sl->items[i].path : sl->items[i].id;
        if (s)
            v[m++] = (sref){ s, sl->x[i].k };
    }
    qsort(v, m, sizeof(*v), sref_cmp);
    for (size_t q = 1; q < m; q++) {
        if (strcmp(v[q].s, v[q - 1].s))
            continue;
        size_t first = q - 1;
        while (first > 0 && !strcmp(v[first - 1].s, v[q].s))
            first--;
        add(c, C_DUP, EV_SEVERITY_ERROR, is_path ? v[q].s : "evidence.json",
            is_path ? "items %zu and %zu of evidence.json both describe '%s': one payload file "
                      "has one item"
                    : "items %zu and %zu of evidence.json both have the id '%s': ids are unique",
            v[first].k, v[q].k, v[q].s);
    }
    free(v);
    return EV_OK;
}

/* ---- the record against bag-info.txt ---------------------------------------------------- */

/* bag-info.txt keeps a value on one line (CR and LF become spaces) and a
 * reader may trim it: compare that way */
static char *norm(const char *s)
{
    char *d = ev__strdup(s);
    if (!d)
        return NULL;
    for (char *p = d; *p; p++)
        if (*p == '\r' || *p == '\n' || *p == '\t')
            *p = ' ';
    char *b = d;
    while (*b == ' ')
        b++;
    size_t l = strlen(b);
    while (l && b[l - 1] == ' ')
        l--;
    memmove(d, b, l);
    d[l] = '\0';
    return d;
}

static bool same_value(const char *a, const char *b)
{
    char *x = norm(a), *y = norm(b);
    bool eq = x && y && !strcmp(x, y);
    free(x);
    free(y);
    return eq;
}

static void check_baginfo_field(cctx *c, const ev_baginfo *bi, const char *label,
                                const json_t *rec_obj, const char *key, const char *where)
{
    const json_t *v = json_object_get(rec_obj, key);
    if (v && !json_is_string(v) && !json_is_null(v))
        return; /* a schema problem, already reported */
    const char *rv = json_string_value(v);
    size_t nb = ev_bag__baginfo_count(bi, label);
    if (rv && !nb) {
        add(c, C_BAGINFO, EV_SEVERITY_ERROR, "evidence.json", "evidence.json gives %s '%.200s' "
            "but bag-info.txt has no %s", where, rv, label);
        return;
    }
    if (!rv && nb) {
        add(c, C_BAGINFO, EV_SEVERITY_ERROR, "evidence.json", "bag-info.txt gives %s '%.200s' "
            "but evidence.json has no %s", label, ev_bag__baginfo_get(bi, label), where);
        return;
    }
    for (size_t k = 0; rv && k < bi->n; k++)
        if (!strcasecmp(bi->e[k].label, label) && !same_value(bi->e[k].value, rv))
            add(c, C_BAGINFO, EV_SEVERITY_ERROR, "evidence.json", "evidence.json gives %s "
                "'%.200s' but bag-info.txt gives %s '%.200s'", where, rv, label, bi->e[k].value);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool sorted_has(char *const *v, size_t n, const char *s)
{
    return n && bsearch(&s, v, n, sizeof(*v), str_cmp) != NULL;
}

static int check_exhibits(cctx *c, const ev_baginfo *bi, const ev_record__slim *s)
{
    size_t ni = s->n, nb = 0, nr = 0;
    char **bv = ev__calloc(bi->n ? bi->n : 1, sizeof(*bv));
    char **rv = ev__calloc(ni ? ni : 1, sizeof(*rv));
    int rc = (bv && rv) ? EV_OK : EV_ENOMEM;
    for (size_t k = 0; rc == EV_OK && k < bi->n; k++)
        if (!strcasecmp(bi->e[k].label, "Evidence-Exhibit") && !(bv[nb++] = norm(bi->e[k].value)))
            rc = EV_ENOMEM;
    for (size_t k = 0; rc == EV_OK && k < ni; k++) {
        const char *e = s->items[k].exhibit;
        if (e && !(rv[nr++] = norm(e)))
            rc = EV_ENOMEM;
    }
    if (rc == EV_OK) {
        qsort(bv, nb, sizeof(*bv), str_cmp);
        qsort(rv, nr, sizeof(*rv), str_cmp);
        for (size_t k = 0; k < nr; k++)
            if ((k == 0 || strcmp(rv[k], rv[k - 1])) && !sorted_has(bv, nb, rv[k]))
                add(c, C_EXHIBIT, EV_SEVERITY_ERROR, "evidence.json", "evidence.json has items "
                    "of exhibit '%.200s', which bag-info.txt does not list (Evidence-Exhibit)",
                    rv[k]);
        for (size_t k = 0; k < nb; k++)
            if ((k == 0 || strcmp(bv[k], bv[k - 1])) && !sorted_has(rv, nr, bv[k]))
                add(c, C_EXHIBIT, EV_SEVERITY_ERROR, "bag-info.txt", "bag-info.txt lists "
                    "exhibit '%.200s' (Evidence-Exhibit), which no item of evidence.json has",
                    bv[k]);
    }
    for (size_t k = 0; bv && k < nb; k++)
        free(bv[k]);
    for (size_t k = 0; rv && k < nr; k++)
        free(rv[k]);
    free(bv);
    free(rv);
    return rc;
}

static int check_baginfo(cctx *c, const ev_record__slim *s, const char *buf, size_t len)
{
    const json_t *rec = s->head;
    if (!buf || !ev__utf8_valid(buf, len))
        return EV_OK; /* reported as a tag file problem */
    ev_baginfo bi = { 0 };
    ev_report *tmp = NULL;
    if (ev_report__new(&tmp, "tmp") != EV_OK)
        return EV_ENOMEM;
    ev_bag__parse_baginfo(&bi, buf, len, false, tmp);
    ev_report_free(tmp);
    const json_t *cs = json_object_get(rec, "case");
    if (json_is_object(cs)) {
        check_baginfo_field(c, &bi, "Evidence-Case-Reference", cs, "reference", "case.reference");
        check_baginfo_field(c, &bi, "External-Identifier", cs, "reference", "case.reference");
        check_baginfo_field(c, &bi, "Source-Organization", cs, "organisation",
                            "case.organisation");
        check_baginfo_field(c, &bi, "Evidence-Operation", cs, "operation", "case.operation");
        check_baginfo_field(c, &bi, "External-Description", cs, "description",
                            "case.description");
    }
    if (json_is_string(json_object_get(rec, "bundle_id")) ||
        ev_bag__baginfo_count(&bi, "Evidence-Bundle-Id"))
        check_baginfo_field(c, &bi, "Evidence-Bundle-Id", rec, "bundle_id", "bundle_id");
    int rc = check_exhibits(c, &bi, s);
    ev_bag__baginfo_free(&bi);
    return rc;
}

static void check_json(cctx *c, const ev_record__slim *s, const char *baginfo, size_t blen)
{
    schema_record(c, s);
    check_refs(c, s);
    if (json_is_array(json_object_get(s->head, "items"))) {
        if (check_duplicates(c, s, true) != EV_OK || check_duplicates(c, s, false) != EV_OK)
            c->rc = EV_ENOMEM;
    }
    if (check_baginfo(c, s, baginfo, blen) != EV_OK)
        c->rc = EV_ENOMEM;
}

int ev_record__check_custody_refs(ev_report *r, const char *rec, size_t rlen,
                                  const char *custody, size_t clen)
{
    json_t *j = json_loadb(rec, rlen, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return EV_EFORMAT;
    }
    cctx c = { r, { 0 }, EV_OK };
    check_custody_refs(&c, j, custody, clen);
    add_summaries(&c);
    json_decref(j);
    return c.rc;
}

int ev_record__check_bytes(ev_report *r, const char *rec, size_t rlen, const char *baginfo,
                           size_t blen)
{
    json_t *j = json_loadb(rec, rlen, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return EV_EFORMAT;
    }
    ev_record__slim sl;
    cctx c = { r, { 0 }, ev_record__slim_from(&sl, j) };
    json_decref(j);
    if (c.rc == EV_OK) {
        check_json(&c, &sl, baginfo, blen);
        add_summaries(&c);
    }
    ev_record__slim_free(&sl);
    return c.rc;
}

/* ---- the record against the bytes ----------------------------------------------------- */

static int check_mime(cctx *c, const ev_store *s, const ev_record__slim *sl)
{
    magic_t mg = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    if (mg && magic_load(mg, NULL) != 0) {
        magic_close(mg);
        mg = NULL;
    }
    if (!mg)
        return EV_OK; /* no libmagic database: nothing to compare with */
    ev_store_cursor *cur = NULL;
    ev_errbuf err;
    uint8_t *head = malloc(MAGIC_HEAD);
    int rc = head ? ev_store__cursor_new(&cur, s, &err) : EV_ENOMEM;
    for (size_t k = 0; k < sl->n; k++) {
        if (rc != EV_OK)
            break;
        const char *path = sl->items[k].path;
        const char *mime = sl->items[k].mime;
        const char *id = sl->items[k].id;
        if (!path || !mime || !strcmp(ev_record__mime_family(mime), "unknown"))
            continue;
        long e = ev_store__find(s, path);
        if (e < 0 || !ev_bag__is_payload(path))
            continue; /* reported by the record check */
        const ev_store_entry *se = ev_store__entry(s, (size_t)e);
        if (se->unsafe || se->type != EV_ENTRY_FILE || se->size == 0)
            continue;
        ev_entry_reader *er = NULL;
        if (ev_store__entry_open(&er, cur, (size_t)e, &err) != EV_OK)
            continue; /* reported by the hashing */
        size_t got = 0;
        while (got < MAGIC_HEAD) {
            int64_t n = ev_store__entry_read(er, head + got, MAGIC_HEAD - got, &err);
            if (n <= 0) {
                if (n < 0)
                    got = 0;
                break;
            }
            got += (size_t)n;
        }
        ev_store__entry_close(er);
        if (!got)
            continue;
        const char *m = magic_buffer(mg, head, got);
        if (m && ev_record__mime_contradicts(mime, m))
            add(c, C_MIME, EV_SEVERITY_ERROR, path, "evidence.json gives '%s' (item %s) the "
                "type %s, but its bytes are %s (%s, not %s)", path, id ? id : "?", mime, m,
                ev_record__mime_family(m), ev_record__mime_family(mime));
    }
    ev_store__cursor_free(cur);
    free(head);
    magic_close(mg);
    return rc;
}

/* ---- verify ------------------------------------------------------------------------- */

bool ev_record__custody_within(const ev_store *s, const ev_bundle_options *o)
{
    long ci = ev_store__find(s, EV_CUSTODY_FILE);
    char *cust = NULL;
    size_t clen = 0;
    ev_errbuf e;
    if (ci < 0 || ev_record__over_size(s, ci, o) ||
        ev_store__read_all(&cust, &clen, s, (size_t)ci, ev_record__read_cap(o), &e) != EV_OK)
        return false;
    bool ok = ev_custody__count(cust, clen) <= o->max_custody_events;
    free(cust);
    return ok;
}

int ev_record__verify(ev_report *r, const ev_store *s, const ev_record__slim *record,
                      const ev_bundle_options *o, uint32_t flags, bool *views_checkable)
{
    cctx c = { r, { 0 }, EV_OK };
    ev_errbuf e;
    /* the record refused at open: the bundle could not be checked */
    for (size_t k = 0; k < r->nproblems; k++)
        if (!strcmp(r->problems[k].code, "limit-record-size") ||
            !strcmp(r->problems[k].code, "limit-items"))
            r->unreadable = true;
    /* the custody log: its size before reading, its events before parsing */
    char *cust = NULL;
    size_t clen = 0;
    long ci = ev_store__find(s, EV_CUSTODY_FILE);
    bool custody_ok = ci >= 0;
    if (ev_record__over_size(s, ci, o)) {
        ev_report__add(r, EV_SEVERITY_ERROR, "limit-record-size", "custody.jsonl",
                       "custody.jsonl holds %llu bytes, over the limit of %llu "
                       "(ev_bundle_options.max_record_size; evidence verify --max-record-size): "
                       "it is not read, and the bundle "
                       "cannot be checked",
                       (unsigned long long)ev_store__entry(s, (size_t)ci)->size,
                       (unsigned long long)o->max_record_size);
        r->unreadable = true;
        custody_ok = false;
    } else if (ci >= 0 && ev_store__read_all(&cust, &clen, s, (size_t)ci, ev_record__read_cap(o), &e) == EV_OK) {
        size_t nev = ev_custody__count(cust, clen);
        if (nev > o->max_custody_events) {
            ev_report__add(r, EV_SEVERITY_ERROR, "limit-custody-events", "custody.jsonl",
                           "custody.jsonl holds %zu events, over the limit of %llu "
                           "(ev_bundle_options.max_custody_events): the bundle cannot be "
                           "checked", nev, (unsigned long long)o->max_custody_events);
            r->unreadable = true;
            custody_ok = false;
        }
    } else {
        custody_ok = false;
    }
    if (record) {
        char *bi = NULL;
        size_t blen = 0;
        long bii = ev_store__find(s, EV_BAG_INFO_TXT);
        if (bii >= 0 && !ev_record__over_size(s, bii, o))
            ev_store__read_all(&bi, &blen, s, (size_t)bii, ev_record__read_cap(o), &e);
        check_json(&c, record, bi, blen);
        free(bi);
        if (custody_ok && cust)
            check_custody_refs(&c, record->head, cust, clen);
        if (!(flags & EV_VERIFY_FAST) && json_is_array(json_object_get(record->head, "items")) &&
            check_mime(&c, s, record) != EV_OK)
            c.rc = EV_ENOMEM;
    }
    if (views_checkable)
        *views_checkable = record && custody_ok;
    free(cust);
    add_summaries(&c);
    return c.rc;
}
