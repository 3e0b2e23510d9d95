/*
 * record (read): evidence.json from a bundle or from bytes, within the
 * limits of ev_bundle_options (a record over a limit, or claiming more
 * items than the bag has payload files, is refused before or right after
 * it is parsed), and its items as ev_item. See record_read.h.
 */
#include "record/record_read.h"

#include <stdlib.h>
#include <string.h>

#include "bag/bag.h"
#include "base/internal.h"
#include "record/record.h"

size_t ev_record__read_cap(const ev_bundle_options *o)
{
    return o->max_record_size > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)o->max_record_size;
}

static const char *const refusal_codes[] = { "limit-record-size", "limit-items",
                                             "record-items-exceed-payload" };

bool ev_record__refused(const ev_report *r)
{
    for (size_t i = 0; i < sizeof(refusal_codes) / sizeof(refusal_codes[0]); i++)
        for (size_t k = 0; r && k < r->nproblems; k++)
            if (!strcmp(r->problems[k].code, refusal_codes[i]) && r->problems[k].path &&
                !strcmp(r->problems[k].path, "evidence.json"))
                return true;
    return false;
}

bool ev_record__over_size(const ev_store *s, long i, const ev_bundle_options *o)
{
    return i >= 0 && ev_store__entry(s, (size_t)i)->size > o->max_record_size;
}

/* Strings and nesting are followed, so commas inside them do not count.
 * For JSON whose keys have no escapes it is exactly json_array_size() of
 * the parsed items; ev_record__load checks the parsed count again, so an
 * escaped key can make it parse, not get past the limits. */
size_t ev_record__count_items(const char *b, size_t n)
{
    size_t depth = 0, count = 0, best = 0;
    const char *last = NULL; /* the last string seen at depth 1: a key before '[' */
    size_t lastlen = 0;
    bool in_items = false, nonempty = false;
    for (size_t i = 0; i < n; i++) {
        char ch = b[i];
        if (ch == '"') {
            size_t st = ++i;
            while (i < n && b[i] != '"')
                i += b[i] == '\\' ? 2 : 1;
            if (i >= n)
                break;
            if (depth == 1) {
                last = b + st;
                lastlen = i - st;
            }
            if (in_items && depth == 2)
                nonempty = true;
            continue;
        }
        switch (ch) {
        case '{':
        case '[':
            if (in_items && depth == 2)
                nonempty = true;
            if (depth == 1 && ch == '[' && last && lastlen == 5 && !memcmp(last, "items", 5)) {
                in_items = true;
                nonempty = false;
                count = 0;
            }
            depth++;
            break;
        case '}':
        case ']':
            if (depth)
                depth--;
            if (in_items && depth == 1) {
                in_items = false;
                count += nonempty;
                best = count > best ? count : best;
            }
            break;
        case ',':
            if (in_items && depth == 2)
                count++;
            break;
        case ' ':
        case '\t':
        case '\n':
        case '\r':
            break;
        default:
            if (in_items && depth == 2)
                nonempty = true;
        }
    }
    if (in_items)
        best = count + nonempty > best ? count + nonempty : best;
    return best;
}

/* Add the problem and return true when n items are too many. */
static bool refuse_items(ev_report *r, size_t n, size_t npayload, const ev_bundle_options *o)
{
    if (n > o->max_items) {
        ev_report__add(r, EV_SEVERITY_ERROR, "limit-items", "evidence.json",
                       "evidence.json lists %zu items, over the limit of %llu "
                       "(ev_bundle_options.max_items): it is not read, and the bundle cannot "
                       "be checked", n, (unsigned long long)o->max_items);
        return true;
    }
    if (n > npayload) {
        /* each item describes a payload file of its own: more items than
         * files is a lie, and checking each would cost what it claims */
        ev_report__add(r, EV_SEVERITY_ERROR, "record-items-exceed-payload", "evidence.json",
                       "evidence.json lists %zu items but the bag has %zu payload files; each "
                       "item describes a file of its own (two items describe one file, or "
                       "items describe files that are not there), so the record is false. "
                       "Its items are not checked one by one", n, npayload);
        return true;
    }
    return false;
}

json_t *ev_record__parse(const char *buf, size_t len, size_t npayload,
                         const ev_bundle_options *o, ev_report *r)
{
    /* the items, counted on the text before the parser builds them */
    json_t *rec = NULL;
    if (!refuse_items(r, ev_record__count_items(buf, len), npayload, o)) {
        json_error_t je;
        rec = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(rec)) {
            json_decref(rec);
            rec = NULL;
        } else if (refuse_items(r, json_array_size(json_object_get(rec, "items")), npayload, o)) {
            /* the text fooled the count (an escaped key): the parse decides */
            json_decref(rec);
            rec = NULL;
        }
    }
    return rec;
}

json_t *ev_record__load(const ev_store *s, const ev_bundle_options *o, ev_report *r)
{
    long i = ev_store__find(s, EV_RECORD_FILE);
    if (i < 0)
        return NULL;
    /* the size the container claims, before a byte is allocated */
    if (ev_record__over_size(s, i, o)) {
        ev_report__add(r, EV_SEVERITY_ERROR, "limit-record-size", "evidence.json",
                       "evidence.json holds %llu bytes, over the limit of %llu "
                       "(ev_bundle_options.max_record_size): it is not read, and the bundle "
                       "cannot be checked",
                       (unsigned long long)ev_store__entry(s, (size_t)i)->size,
                       (unsigned long long)o->max_record_size);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    ev_errbuf e;
    if (ev_store__read_all(&buf, &len, s, (size_t)i, ev_record__read_cap(o), &e) != EV_OK)
        return NULL; /* the file is reported by the hashing (unreadable, modified) */
    size_t npayload = 0;
    for (size_t k = 0; k < ev_store__count(s); k++) {
        const ev_store_entry *se = ev_store__entry(s, k);
        if (!se->unsafe && se->type == EV_ENTRY_FILE && ev_bag__is_payload(se->name))
            npayload++;
    }
    json_t *rec = ev_record__parse(buf, len, npayload, o, r);
    free(buf);
    return rec;
}

static const char *str_of(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int ev_record__items(ev_item **out, size_t *n, const json_t *record)
{
    *out = NULL;
    *n = 0;
    json_t *items = json_object_get(record, "items");
    if (!json_is_array(items))
        return EV_OK;
    size_t cnt = json_array_size(items);
    ev_item *v = ev__calloc(cnt, sizeof(*v));
    if (!v)
        return cnt ? EV_ENOMEM : EV_OK;
    size_t got = 0;
    for (size_t k = 0; k < cnt; k++) {
        json_t *it = json_array_get(items, k);
        if (!json_is_object(it))
            continue;
        ev_item *x = &v[got++];
        x->version = EV_ITEM_VERSION;
        x->id = str_of(it, "id");
        x->exhibit = str_of(it, "exhibit");
        x->role = str_of(it, "role");
        x->path = str_of(it, "path");
        x->original_name = str_of(it, "original_name");
        json_t *sz = json_object_get(it, "size");
        x->size = json_is_integer(sz) && json_integer_value(sz) >= 0
                      ? (uint64_t)json_integer_value(sz) : 0;
        x->sha256 = str_of(json_object_get(it, "hashes"), "sha256");
        x->mime = str_of(it, "mime");
        const json_t *df = json_object_get(it, "derived_from");
        x->derived_from = json_is_object(df) ? str_of(df, "item") : NULL;
    }
    *out = v;
    *n = got;
    return EV_OK;
}
