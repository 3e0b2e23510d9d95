/*
 * bundle (open): the ev_bundle handle, opening a bundle (ZIP or folder),
 * loading its record into items, and reading one of its files.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/bundle_int.h"
#include "record/record_check.h"
#include "record/record_read.h"

/* ev_bundle_options before the record limits (version 1) */
#define BUNDLE_OPTIONS_V1_SIZE offsetof(ev_bundle_options, max_items)

int ev_bundle_options_init(ev_bundle_options *opts, unsigned int version)
{
    /* version 1 is the struct before the limits were added */
    return ev__options_init(opts,
                            version == EV_BUNDLE_OPTIONS_VERSION ? sizeof(*opts)
                            : version == 1                       ? BUNDLE_OPTIONS_V1_SIZE
                                                                 : 0,
                            version);
}

int ev_bundle_new(ev_bundle **out, const ev_bundle_options *opts)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    ev_bundle_options def = EV_BUNDLE_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    if (opts->version != EV_BUNDLE_OPTIONS_VERSION && opts->version != 1)
        return EV_EVERSION;
    ev_bundle *b = calloc(1, sizeof(*b));
    if (!b)
        return EV_ENOMEM;
    memcpy(&b->o, opts, opts->version == 1 ? BUNDLE_OPTIONS_V1_SIZE : sizeof(*opts));
    ev_record__limits_default(&b->o);
    if (!b->o.max_entries)
        b->o.max_entries = 1000000;
    if (!b->o.max_total_size)
        b->o.max_total_size = (uint64_t)1 << 40;
    if (!b->o.max_ratio)
        b->o.max_ratio = 1000;
    if (!b->o.threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        b->o.threads = n > 0 ? (unsigned)(n > 16 ? 16 : n) : 1;
    }
    *out = b;
    return EV_OK;
}

static void close_bundle(ev_bundle *b)
{
    ev_store__free(b->store);
    b->store = NULL;
    ev_report_free(b->open_report);
    b->open_report = NULL;
    ev_bundle__drop_record(b);
}

void ev_bundle__drop_record(ev_bundle *b)
{
    json_decref(b->record);
    b->record = NULL;
    ev_record__slim_free(b->rec);
    free(b->rec);
    b->rec = NULL;
    if (b->rec_text) {
        ev_spill__free(b->rec_text);
        free(b->rec_text);
        b->rec_text = NULL;
    }
    b->items = NULL;
    b->nitems = 0;
}

json_t *ev_bundle__record(ev_bundle *b)
{
    if (!b->record && b->rec) {
        /* read again whole; its limits were checked (and reported) at open */
        ev_report *tmp = NULL;
        if (ev_report__new(&tmp, "tmp") == EV_OK)
            b->record = ev_record__load(b->store, &b->o, tmp);
        ev_report_free(tmp);
    }
    return b->record;
}

void ev_bundle_free(ev_bundle *b)
{
    if (!b)
        return;
    close_bundle(b);
    free(b);
}

const char *ev_bundle_last_error(const ev_bundle *b)
{
    return b ? b->err.msg : "no bundle handle";
}

const char *ev_bundle_name(const ev_bundle *b)
{
    return b && b->store ? ev_store__bag_name(b->store) : NULL;
}

bool ev_bundle_is_zip(const ev_bundle *b)
{
    return b && b->store && ev_store__is_zip(b->store);
}

size_t ev_bundle_item_count(const ev_bundle *b)
{
    return b ? b->nitems : 0;
}

const ev_item *ev_bundle_item(const ev_bundle *b, size_t i)
{
    return b && i < b->nitems ? &b->items[i] : NULL;
}

void ev_bundle__load_record(ev_bundle *b)
{
    /* within the limits (record_read.c); a refusal goes in the open report */
    ev_bundle__drop_record(b);
    ev_record__slim *s = malloc(sizeof(*s));
    if (!s || ev_record__slim_init(s) != EV_OK) {
        free(s);
        return;
    }
    s->head = ev_record__load_items(b->store, &b->o, b->open_report, ev_record__slim_item,
                                    ev_record__slim_reset, s, &b->rec_text);
    if (!s->head || s->rc != EV_OK) {
        ev_record__slim_free(s);
        free(s);
        ev_bundle__drop_record(b);
        return;
    }
    ev_record__slim_fit(s);
    b->rec = s;
    b->items = s->items;
    b->nitems = s->n;
}

int ev_bundle_open(ev_bundle *b, const char *path)
{
    if (!b || !path)
        return EV_EINVAL;
    close_bundle(b);
    b->err.msg[0] = '\0';
    int rc = ev_report__new(&b->open_report, "evidence.verify");
    if (rc)
        return rc;
    ev_store_limits lim = { b->o.max_entries, b->o.max_total_size, b->o.max_ratio };
    rc = ev_store__open(&b->store, path, &lim, b->open_report, &b->err);
    if (rc != EV_OK) {
        ev_report_free(b->open_report);
        b->open_report = NULL;
        return rc;
    }
    ev_bundle__load_record(b);
    return EV_OK;
}

int ev_bundle_read_file(uint8_t **out, size_t *out_len, ev_bundle *b, const char *path,
                        size_t max_len)
{
    if (!out || !out_len || !b || !path || !b->store)
        return EV_EINVAL;
    *out = NULL;
    *out_len = 0;
    long i = ev_store__find(b->store, path);
    if (i < 0)
        return ev_err__set(&b->err, EV_ENOTFOUND, "'%s' is not in the bundle", path);
    char *buf = NULL;
    int rc = ev_store__read_all(&buf, out_len, b->store, (size_t)i,
                                max_len ? max_len : (size_t)64 << 20, &b->err);
    *out = (uint8_t *)buf;
    return rc;
}
