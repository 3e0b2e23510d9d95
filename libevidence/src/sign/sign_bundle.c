/*
 * sign_bundle: the public API of evidence/sign.h. Ties the buffer-level
 * crypto of sign.c / sign_ts.c / sign_verify.c to ev_bundle: reads
 * custody.jsonl and signatures/ from the bundle, and adds files with one
 * atomic ev_bundle_amend() only after every check has passed.
 */
#include "sign/sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/hash.h"

struct ev_signer {
    ev_signer_options o;
    ev_errbuf err;
    char *tsa_url, *tsa_policy, *tsa_proxy, *actor, *organisation;
    EVP_PKEY *key;
    X509 *cert;
    STACK_OF(X509) *chain;
    char *subject, *cn, *org;
    ev_sign_info info;
    char *info_sig, *info_tok, *info_tsa_time;
    uint8_t *tsq;
    size_t tsq_len;
};

struct ev_trust {
    ev_errbuf err;
    STACK_OF(X509) *ca;
    STACK_OF(X509) *tsa_ca;
    STACK_OF(X509_CRL) *crls;
};

/* ---- options and lifetime ------------------------------------------------------ */

int ev_signer_options_init(ev_signer_options *opts, unsigned int version)
{
    return ev__options_init(opts, version == EV_SIGNER_OPTIONS_VERSION ? sizeof(*opts) : 0, version);
}

static void signer_reset_result(ev_signer *s)
{
    free(s->info_sig);
    free(s->info_tok);
    free(s->info_tsa_time);
    s->info_sig = s->info_tok = s->info_tsa_time = NULL;
    memset(&s->info, 0, sizeof(s->info));
    free(s->tsq);
    s->tsq = NULL;
    s->tsq_len = 0;
}

static void signer_unload(ev_signer *s)
{
    EVP_PKEY_free(s->key);
    X509_free(s->cert);
    sk_X509_pop_free(s->chain, X509_free);
    free(s->subject);
    free(s->cn);
    free(s->org);
    s->key = NULL;
    s->cert = NULL;
    s->chain = NULL;
    s->subject = s->cn = s->org = NULL;
}

void ev_signer_free(ev_signer *s)
{
    if (!s)
        return;
    signer_unload(s);
    signer_reset_result(s);
    free(s->tsa_url);
    free(s->tsa_policy);
    free(s->tsa_proxy);
    free(s->actor);
    free(s->organisation);
    free(s);
}

static bool dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return true;
    *dst = ev__strdup(src);
    return *dst != NULL;
}

int ev_signer_new(ev_signer **out, const ev_signer_options *opts)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    ev_signer_options def = EV_SIGNER_OPTIONS_INIT;
    if (!opts)
        opts = &def;
    if (opts->version != EV_SIGNER_OPTIONS_VERSION)
        return EV_EVERSION;
    if (opts->flags != 0 || opts->tsa_timeout > 3600)
        return EV_EINVAL;
    ev_signer *s = calloc(1, sizeof(*s));
    if (!s)
        return EV_ENOMEM;
    s->o = *opts;
    if (!dup_opt(&s->tsa_url, opts->tsa_url) || !dup_opt(&s->tsa_policy, opts->tsa_policy) ||
        !dup_opt(&s->tsa_proxy, opts->tsa_proxy) || !dup_opt(&s->actor, opts->actor) ||
        !dup_opt(&s->organisation, opts->organisation)) {
        ev_signer_free(s);
        return EV_ENOMEM;
    }
    s->o.tsa_url = s->tsa_url;
    s->o.tsa_policy = s->tsa_policy;
    s->o.tsa_proxy = s->tsa_proxy;
    s->o.actor = s->actor;
    s->o.organisation = s->organisation;
    if (!s->o.tsa_timeout)
        s->o.tsa_timeout = EV_SIGN__DEFAULT_TIMEOUT;
    *out = s;
    return EV_OK;
}

const char *ev_signer_last_error(const ev_signer *s)
{
    return s ? s->err.msg : "no signer";
}

const ev_sign_info *ev_signer_info(const ev_signer *s)
{
    return s && s->info.version ? &s->info : NULL;
}

int ev_signer_tsa_query(const ev_signer *s, const uint8_t **data, size_t *len)
{
    if (!s || !data || !len)
        return EV_EINVAL;
    *data = s->tsq;
    *len = s->tsq_len;
    return s->tsq ? EV_OK : EV_ENOTFOUND;
}

/* ---- loading --------------------------------------------------------------------- */

int ev_signer_load(ev_signer *s, const char *key_path, const char *cert_path,
                   const char *chain_path)
{
    if (!s)
        return EV_EINVAL;
    if (!key_path || !cert_path)
        return ev_err__set(&s->err, EV_EINVAL, "a key file and a certificate file are needed");
    signer_unload(s);
    uint8_t *buf = NULL;
    size_t len = 0;
    STACK_OF(X509) *certs = NULL;
    int rc = ev_sign__read_file(&buf, &len, key_path, EV_SIGN__MAX_FILE, "key", &s->err);
    if (rc != EV_OK)
        goto fail;
    rc = ev_sign__load_key(&s->key, buf, len, key_path, s->o.passphrase_cb,
                           s->o.passphrase_payload, &s->err);
    OPENSSL_cleanse(buf, len);
    free(buf);
    buf = NULL;
    if (rc != EV_OK)
        goto fail;
    if ((rc = ev_sign__read_file(&buf, &len, cert_path, EV_SIGN__MAX_FILE, "certificate",
                                 &s->err)) != EV_OK ||
        (rc = ev_sign__load_certs(&certs, buf, len, cert_path, &s->err)) != EV_OK)
        goto fail;
    free(buf);
    buf = NULL;
    /* The first certificate is the signer's; any others are chain. */
    s->cert = sk_X509_shift(certs);
    s->chain = certs;
    certs = NULL;
    if (chain_path) {
        STACK_OF(X509) *more = NULL;
        if ((rc = ev_sign__read_file(&buf, &len, chain_path, EV_SIGN__MAX_FILE, "chain",
                                     &s->err)) != EV_OK ||
            (rc = ev_sign__load_certs(&more, buf, len, chain_path, &s->err)) != EV_OK)
            goto fail;
        while (sk_X509_num(more) > 0) {
            X509 *x = sk_X509_shift(more);
            if (!sk_X509_push(s->chain, x)) {
                X509_free(x);
                sk_X509_pop_free(more, X509_free);
                rc = ev_err__set(&s->err, EV_ENOMEM, "out of memory");
                goto fail;
            }
        }
        sk_X509_free(more);
    }
    if ((rc = ev_sign__check_signer(s->cert, s->key, (int64_t)time(NULL), cert_path, key_path,
                                    &s->err)) != EV_OK)
        goto fail;
    s->subject = ev_sign__subject(s->cert);
    s->cn = ev_sign__subject_field(s->cert, NID_commonName);
    s->org = ev_sign__subject_field(s->cert, NID_organizationName);
    if (!s->subject) {
        rc = ev_err__set(&s->err, EV_ENOMEM, "out of memory");
        goto fail;
    }
    free(buf);
    return EV_OK;
fail:
    free(buf);
    sk_X509_pop_free(certs, X509_free);
    signer_unload(s);
    return rc;
}

/* ---- reading the bundle ----------------------------------------------------------- */

typedef struct sigfiles {
    ev_sign__file *f;
    size_t n;
} sigfiles;

static void sigfiles_free(sigfiles *sf)
{
    for (size_t i = 0; i < sf->n; i++) {
        free((char *)sf->f[i].path);
        free((char *)sf->f[i].unreadable);
        ev_free((uint8_t *)sf->f[i].data);
    }
    free(sf->f);
    sf->f = NULL;
    sf->n = 0;
}

static bool is_sigfile(const char *path)
{
    return strncmp(path, "signatures/", 11) == 0;
}

/* Every regular file under signatures/, read into memory, in the order of
 * the bundle's entry list (ev_bundle_entry_next). */
static int read_sigfiles(sigfiles *sf, ev_bundle *b, ev_errbuf *e)
{
    memset(sf, 0, sizeof(*sf));
    if (!ev_bundle_name(b))
        return ev_err__set(e, EV_EINVAL, "cannot list the bundle's signatures: %s",
                           "the bundle is not open");
    size_t n = 0, pos = 0;
    const char *name;
    while (ev_bundle_entry_next(&name, NULL, b, &pos))
        n += is_sigfile(name);
    if (n > EV_SIGN__MAX_FILES)
        return ev_err__set(e, EV_EUNSAFE,
                           "the bundle has %zu files under signatures/ (limit %u); it was "
                           "not checked", n, EV_SIGN__MAX_FILES);
    uint64_t total = 0;
    sf->f = ev__calloc(n ? n : 1, sizeof(*sf->f));
    if (!sf->f)
        return ev_err__set(e, EV_ENOMEM, "out of memory");
    pos = 0;
    while (sf->n < n && ev_bundle_entry_next(&name, NULL, b, &pos)) {
        if (!is_sigfile(name))
            continue;
        uint8_t *data = NULL;
        size_t len = 0;
        char *why = NULL;
        int rc = ev_bundle_read_file(&data, &len, b, name, EV_SIGN__MAX_FILE);
        if (rc == EV_EUNSAFE || rc == EV_EFORMAT) {
            /* Too big to be a signature, or its bytes are damaged (CRC):
             * keep it as an empty file, which the checks report as
             * unreadable, beside the bag's own problem for the entry; the
             * other signatures are still checked. */
            data = NULL;
            len = 0;
            why = ev__strdup(ev_bundle_last_error(b));
            if (!why) {
                sigfiles_free(sf);
                return ev_err__set(e, EV_ENOMEM, "out of memory");
            }
        } else if (rc != EV_OK) {
            rc = ev_err__set(e, rc, "cannot read %s from the bundle: %s", name,
                             ev_bundle_last_error(b));
            sigfiles_free(sf);
            return rc;
        }
        total += len;
        if (total > EV_SIGN__MAX_TOTAL) {
            ev_free(data);
            sigfiles_free(sf);
            return ev_err__set(e, EV_EUNSAFE,
                               "the files under signatures/ hold more than %u MiB; they were "
                               "not checked", EV_SIGN__MAX_TOTAL >> 20);
        }
        sf->f[sf->n].path = ev__strdup(name);
        sf->f[sf->n].data = data;
        sf->f[sf->n].len = len;
        sf->f[sf->n].unreadable = why;
        sf->n++;
        if (!sf->f[sf->n - 1].path) {
            sigfiles_free(sf);
            return ev_err__set(e, EV_ENOMEM, "out of memory");
        }
    }
    return EV_OK;
}

/* custody.jsonl; *out NULL (and EV_OK) when the bundle has none. */
static int read_custody(uint8_t **out, size_t *len, ev_bundle *b, ev_errbuf *e)
{
    int rc = ev_bundle_read_file(out, len, b, "custody.jsonl", 0);
    if (rc == EV_ENOTFOUND) {
        *out = NULL;
        *len = 0;
        return EV_OK;
    }
    if (rc != EV_OK)
        return ev_err__set(e, rc, "cannot read custody.jsonl: %s", ev_bundle_last_error(b));
    return EV_OK;
}

static const ev_sign__file *find_sig(const sigfiles *sf, const char *path)
{
    for (size_t i = 0; i < sf->n; i++)
        if (strcmp(sf->f[i].path, path) == 0)
            return &sf->f[i];
    return NULL;
}

static char *twin_path(const char *p7s, const char *ext)
{
    char *t = ev__strdup(p7s);
    size_t n = t ? strlen(t) : 0;
    if (t && n > 3)
        memcpy(t + n - 3, ext, 3);
    return t;
}

/* A signature without a token: the given one, or the newest. */
static int pick_untimestamped(const ev_sign__file **out, const sigfiles *sf, const char *want,
                              ev_errbuf *e)
{
    *out = NULL;
    uint64_t best = 0;
    for (size_t i = 0; i < sf->n; i++) {
        uint64_t n = 0;
        char who[EV_SIGN__SLUG_MAX + 1];
        const char *ext = NULL;
        const ev_sign__file *f = &sf->f[i];
        if (!ev_sign__parse_name(f->path, &n, who, sizeof(who), &ext) || strcmp(ext, "p7s") != 0)
            continue;
        if (want && strcmp(want, f->path) != 0)
            continue;
        char *tw = twin_path(f->path, "tsr");
        if (!tw)
            return ev_err__set(e, EV_ENOMEM, "out of memory");
        bool has = find_sig(sf, tw) != NULL;
        free(tw);
        if (has) {
            if (want)
                return ev_err__set(e, EV_EEXISTS, "%s has a timestamp token already", want);
            continue;
        }
        if (!*out || n > best || (n == best && strcmp(f->path, (*out)->path) > 0)) {
            *out = f;
            best = n;
        }
    }
    if (!*out) {
        if (want)
            return ev_err__set(e, EV_ENOTFOUND,
                               "the bundle has no signature %s; see 'evidence inspect'", want);
        return ev_err__set(e, EV_ENOTFOUND,
                           "every signature in the bundle has a timestamp token already (or "
                           "there is none)");
    }
    return EV_OK;
}

/* ---- signing ------------------------------------------------------------------------ */

static int set_info(ev_signer *s, const char *sig, const char *tok, uint64_t n, bool has_time,
                    int64_t t)
{
    signer_reset_result(s);
    s->info_sig = ev__strdup(sig);
    s->info_tok = tok ? ev__strdup(tok) : NULL;
    if (has_time) {
        char buf[40];
        ev__time_rfc3339(buf, sizeof(buf), t);
        s->info_tsa_time = ev__strdup(buf);
    }
    if (!s->info_sig || (tok && !s->info_tok) || (has_time && !s->info_tsa_time))
        return EV_ENOMEM;
    s->info.version = EV_SIGN_INFO_VERSION;
    s->info.signature_path = s->info_sig;
    s->info.token_path = s->info_tok;
    s->info.events = n;
    s->info.signer = s->subject;
    s->info.tsa_time = s->info_tsa_time;
    return EV_OK;
}

/* Ask the TSA of the options for a reply over data and check it. */
static int fetch_token(ev_signer *s, ev_sign__ts *ts, uint8_t **tsr, size_t *tsr_len,
                       const uint8_t *data, size_t len)
{
    uint8_t *tsq = NULL;
    size_t tsq_len = 0;
    *tsr = NULL;
    *tsr_len = 0;
    memset(ts, 0, sizeof(*ts));
    int rc = ev_sign__ts_query(&tsq, &tsq_len, data, len, s->o.tsa_policy, &s->err);
    if (rc != EV_OK)
        return rc;
    rc = ev_sign__ts_http(tsr, tsr_len, s->o.tsa_url, s->o.tsa_proxy, tsq, tsq_len,
                          (int)s->o.tsa_timeout, &s->err);
    if (rc == EV_OK) {
        ev_errbuf pe = { "" };
        rc = ev_sign__ts_parse(ts, *tsr, *tsr_len, &pe);
        if (rc != EV_OK)
            ev_err__set(&s->err, rc, "the TSA at %s answered something else than a timestamp "
                        "reply: %s; check the URL", s->o.tsa_url, pe.msg);
    }
    if (rc == EV_OK) {
        ev_errbuf ce = { "" };
        rc = ev_sign__ts_check_reply(ts, data, len, tsq, tsq_len, &ce);
        if (rc != EV_OK)
            ev_err__set(&s->err, rc, "TSA at %s: %s", s->o.tsa_url, ce.msg);
    }
    free(tsq);
    if (rc != EV_OK) {
        ev_sign__ts_clear(ts);
        free(*tsr);
        *tsr = NULL;
        *tsr_len = 0;
    }
    return rc;
}

int ev_signer_sign(ev_signer *s, ev_bundle *b, uint32_t flags)
{
    if (!s)
        return EV_EINVAL;
    if (!b || (flags & ~EV_SIGN_TSA_QUERY))
        return ev_err__set(&s->err, EV_EINVAL, "ev_signer_sign: bad arguments");
    if (!s->key)
        return ev_err__set(&s->err, EV_EINVAL, "no key loaded: call ev_signer_load() first");
    signer_reset_result(s);
    uint8_t *custody = NULL, *sig = NULL, *tsr = NULL, *existing = NULL;
    size_t clen = 0, siglen = 0, tsr_len = 0, elen = 0;
    char *sig_path = NULL, *tsr_path = NULL, *note = NULL;
    ev_sign__ts ts;
    memset(&ts, 0, sizeof(ts));
    int rc = read_custody(&custody, &clen, b, &s->err);
    if (rc != EV_OK)
        goto done;
    if (!custody) {
        rc = ev_err__set(&s->err, EV_ENOTFOUND,
                         "the bundle has no custody.jsonl, so there is nothing to sign");
        goto done;
    }
    bool partial = false;
    uint64_t n = ev_sign__count_lines(custody, clen, &partial);
    char damage[200];
    if (partial || n == 0) {
        rc = ev_err__set(&s->err, EV_EFORMAT,
                         "custody.jsonl %s; it was not signed. Run 'evidence verify'",
                         n == 0 ? "is empty" : "does not end with a newline (truncated?)");
        goto done;
    }
    if (ev_sign__custody_damage(damage, sizeof(damage), custody, clen, n)) {
        rc = ev_err__set(&s->err, EV_EFORMAT,
                         "custody.jsonl is damaged (%s); it was not signed. Run 'evidence "
                         "verify'", damage);
        goto done;
    }
    char slug[EV_SIGN__SLUG_MAX + 1];
    ev_sign__slug(slug, s->cn);
    sig_path = ev__asprintf("signatures/%04llu-%s.p7s", (unsigned long long)n, slug);
    tsr_path = sig_path ? twin_path(sig_path, "tsr") : NULL;
    if (!sig_path || !tsr_path) {
        rc = ev_err__set(&s->err, EV_ENOMEM, "out of memory");
        goto done;
    }
    rc = ev_bundle_read_file(&existing, &elen, b, sig_path, EV_SIGN__MAX_FILE);
    if (rc != EV_ENOTFOUND) {
        if (rc == EV_OK || rc == EV_EUNSAFE)
            rc = ev_err__set(&s->err, EV_EEXISTS,
                             "%s exists already: this signer has signed the log as it stands",
                             sig_path);
        else
            ev_err__set(&s->err, rc, "cannot read the bundle: %s", ev_bundle_last_error(b));
        goto done;
    }
    /* a record with a disclosure tree: the signature also commits to its
     * root, so that a part can be proven against it (docs/disclosure.md) */
    uint8_t commit[32];
    bool has_commit = false;
    {
        uint8_t *rec = NULL;
        size_t rlen = 0;
        int rr = ev_bundle_read_file(&rec, &rlen, b, "evidence.json", 0);
        if (rr == EV_OK) {
            rr = ev_sign__record_commitment(commit, rec, rlen);
            has_commit = rr == EV_OK;
        }
        ev_free(rec);
        if (rr != EV_OK && rr != EV_ENOTFOUND) {
            rc = ev_err__set(&s->err, EV_EFORMAT, "evidence.json's disclosure member cannot be "
                             "read; it was not signed. Run 'evidence verify'");
            goto done;
        }
    }
    if ((rc = ev_sign__cms_sign(&sig, &siglen, custody, clen, s->cert, s->key, s->chain,
                                has_commit ? commit : NULL, &s->err)) != EV_OK)
        goto done;
    if (flags & EV_SIGN_TSA_QUERY) {
        if ((rc = ev_sign__ts_query(&s->tsq, &s->tsq_len, sig, siglen, s->o.tsa_policy,
                                    &s->err)) != EV_OK)
            goto done;
    } else if (s->o.tsa_url) {
        if ((rc = fetch_token(s, &ts, &tsr, &tsr_len, sig, siglen)) != EV_OK)
            goto done;
    }
    char digest[65];
    ev_hash__sha256_hex(digest, custody, clen);
    char when[40] = "";
    if (tsr)
        ev__time_rfc3339(when, sizeof(when), ts.gen_time);
    note = tsr ? ev__asprintf("%s: CMS signature over custody.jsonl events 1-%llu (SHA-256 of "
                              "those lines %s); RFC 3161 token %s, time %s",
                              sig_path, (unsigned long long)n, digest, tsr_path, when)
               : ev__asprintf("%s: CMS signature over custody.jsonl events 1-%llu (SHA-256 of "
                              "those lines %s); no timestamp token yet",
                              sig_path, (unsigned long long)n, digest);
    if (!note) {
        rc = ev_err__set(&s->err, EV_ENOMEM, "out of memory");
        goto done;
    }
    ev_custody_event ev = { EV_CUSTODY_EVENT_VERSION, "signed",
                            s->o.actor ? s->o.actor : (s->cn ? s->cn : s->subject),
                            s->o.organisation ? s->o.organisation : (s->org ? s->org : ""),
                            note };
    ev_tag_file files[2] = { { sig_path, sig, siglen }, { tsr_path, tsr, tsr_len } };
    rc = ev_bundle_amend(b, &ev, files, tsr ? 2 : 1);
    if (rc != EV_OK) {
        ev_err__set(&s->err, rc, "cannot add the signature to the bundle (it is unchanged): %s",
                    ev_bundle_last_error(b));
        goto done;
    }
    /* keep the query across set_info */
    uint8_t *q = s->tsq;
    size_t ql = s->tsq_len;
    s->tsq = NULL;
    rc = set_info(s, sig_path, tsr ? tsr_path : NULL, n, tsr != NULL, ts.gen_time);
    s->tsq = q;
    s->tsq_len = ql;
    if (rc != EV_OK)
        ev_err__set(&s->err, rc, "out of memory");
done:
    if (rc != EV_OK) {
        free(s->tsq);
        s->tsq = NULL;
        s->tsq_len = 0;
    }
    ev_sign__ts_clear(&ts);
    ev_free(existing);
    ev_free(custody);
    free(sig);
    free(tsr);
    free(sig_path);
    free(tsr_path);
    free(note);
    return rc;
}

/* ---- any bytes: a detached signature beside them ------------------------------------ */

int ev_signer_sign_data(uint8_t **out, size_t *out_len, ev_signer *s, const uint8_t *data,
                        size_t len)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!s)
        return EV_EINVAL;
    if (!out || !out_len || (!data && len))
        return ev_err__set(&s->err, EV_EINVAL, "ev_signer_sign_data: bad arguments");
    if (!s->key)
        return ev_err__set(&s->err, EV_EINVAL, "no key loaded: call ev_signer_load() first");
    static const uint8_t none[1] = { 0 };
    return ev_sign__cms_sign(out, out_len, data ? data : none, len, s->cert, s->key, s->chain, NULL,
                             &s->err);
}

/* ---- timestamps for signatures already in the bundle ------------------------------ */

int ev_signer_timestamp_query(uint8_t **out, size_t *out_len, ev_signer *s, ev_bundle *b,
                              const char *sig_path)
{
    if (!s)
        return EV_EINVAL;
    if (!out || !out_len || !b)
        return ev_err__set(&s->err, EV_EINVAL, "ev_signer_timestamp_query: bad arguments");
    *out = NULL;
    *out_len = 0;
    sigfiles sf;
    int rc = read_sigfiles(&sf, b, &s->err);
    if (rc != EV_OK)
        return rc;
    const ev_sign__file *f = NULL;
    if ((rc = pick_untimestamped(&f, &sf, sig_path, &s->err)) == EV_OK)
        rc = ev_sign__ts_query(out, out_len, f->data, f->len, s->o.tsa_policy, &s->err);
    if (rc == EV_OK && set_info(s, f->path, NULL, 0, false, 0) != EV_OK)
        rc = ev_err__set(&s->err, EV_ENOMEM, "out of memory");
    if (rc == EV_OK) {
        uint64_t n = 0;
        char who[EV_SIGN__SLUG_MAX + 1];
        const char *ext = NULL;
        if (ev_sign__parse_name(f->path, &n, who, sizeof(who), &ext))
            s->info.events = n;
    }
    sigfiles_free(&sf);
    return rc;
}

/* Add a checked reply to the signature whose bytes it stamps. */
static int add_reply(ev_signer *s, ev_bundle *b, const sigfiles *sf, const ev_sign__ts *ts,
                     const uint8_t *tsr, size_t tsr_len, const uint8_t *tsq, size_t tsq_len,
                     const char *want)
{
    if (ts->status != 0 && ts->status != 1)
        return ev_err__set(&s->err, EV_ERROR,
                           "the TSA refused the request (%s); nothing was added", ts->status_text);
    const ev_sign__file *target = NULL;
    bool target_has_token = false;
    for (size_t i = 0; i < sf->n && !target; i++) {
        uint64_t n = 0;
        char who[EV_SIGN__SLUG_MAX + 1];
        const char *ext = NULL;
        const ev_sign__file *f = &sf->f[i];
        if (!ev_sign__parse_name(f->path, &n, who, sizeof(who), &ext) || strcmp(ext, "p7s") != 0)
            continue;
        if (want && strcmp(want, f->path) != 0)
            continue;
        if (!ev_sign__ts_imprint_matches(ts, f->data, f->len))
            continue;
        char *tw = twin_path(f->path, "tsr");
        if (!tw)
            return ev_err__set(&s->err, EV_ENOMEM, "out of memory");
        target_has_token = find_sig(sf, tw) != NULL;
        free(tw);
        target = f;
    }
    if (!target)
        return ev_err__set(&s->err, EV_ENOTFOUND,
                           "the timestamp reply is for none of the signatures in the bundle (its "
                           "message imprint matches no .p7s file); give the reply to a query "
                           "made for this bundle");
    if (target_has_token)
        return ev_err__set(&s->err, EV_EEXISTS, "%s has a timestamp token already",
                           target->path);
    ev_errbuf ce = { "" };
    int rc = ev_sign__ts_check_reply(ts, target->data, target->len, tsq, tsq_len, &ce);
    if (rc != EV_OK)
        return ev_err__set(&s->err, rc, "%s; nothing was added", ce.msg);
    char *tsr_path = twin_path(target->path, "tsr");
    if (!tsr_path)
        return ev_err__set(&s->err, EV_ENOMEM, "out of memory");
    ev_tag_file tf = { tsr_path, tsr, tsr_len };
    rc = ev_bundle_amend(b, NULL, &tf, 1);
    if (rc != EV_OK) {
        ev_err__set(&s->err, rc, "cannot add the token to the bundle (it is unchanged): %s",
                    ev_bundle_last_error(b));
    } else {
        uint64_t n = 0;
        char who[EV_SIGN__SLUG_MAX + 1];
        const char *ext = NULL;
        ev_sign__parse_name(target->path, &n, who, sizeof(who), &ext);
        if (set_info(s, target->path, tsr_path, n, ts->has_time, ts->gen_time) != EV_OK)
            rc = ev_err__set(&s->err, EV_ENOMEM, "out of memory");
    }
    free(tsr_path);
    return rc;
}

int ev_signer_timestamp_add(ev_signer *s, ev_bundle *b, const uint8_t *tsr, size_t tsr_len,
                            const uint8_t *tsq, size_t tsq_len)
{
    if (!s)
        return EV_EINVAL;
    if (!b || !tsr || (tsq_len && !tsq))
        return ev_err__set(&s->err, EV_EINVAL, "ev_signer_timestamp_add: bad arguments");
    signer_reset_result(s);
    ev_sign__ts ts;
    ev_errbuf pe = { "" };
    int rc = ev_sign__ts_parse(&ts, tsr, tsr_len, &pe);
    if (rc != EV_OK)
        return ev_err__set(&s->err, rc, "the timestamp reply cannot be read: %s", pe.msg);
    if (!ts.resp) {
        ev_sign__ts_clear(&ts);
        return ev_err__set(&s->err, EV_EFORMAT,
                           "this is a bare timestamp token, not a TSA reply (TimeStampResp); "
                           "give the TSA's whole reply (.tsr)");
    }
    sigfiles sf;
    rc = read_sigfiles(&sf, b, &s->err);
    if (rc == EV_OK) {
        rc = add_reply(s, b, &sf, &ts, tsr, tsr_len, tsq, tsq_len, NULL);
        sigfiles_free(&sf);
    }
    ev_sign__ts_clear(&ts);
    return rc;
}

int ev_signer_timestamp(ev_signer *s, ev_bundle *b, const char *sig_path)
{
    if (!s)
        return EV_EINVAL;
    if (!b)
        return ev_err__set(&s->err, EV_EINVAL, "ev_signer_timestamp: bad arguments");
    if (!s->o.tsa_url)
        return ev_err__set(&s->err, EV_EINVAL, "no TSA URL was given");
    signer_reset_result(s);
    sigfiles sf;
    int rc = read_sigfiles(&sf, b, &s->err);
    if (rc != EV_OK)
        return rc;
    const ev_sign__file *f = NULL;
    uint8_t *tsr = NULL;
    size_t tsr_len = 0;
    ev_sign__ts ts;
    memset(&ts, 0, sizeof(ts));
    if ((rc = pick_untimestamped(&f, &sf, sig_path, &s->err)) == EV_OK &&
        (rc = fetch_token(s, &ts, &tsr, &tsr_len, f->data, f->len)) == EV_OK)
        rc = add_reply(s, b, &sf, &ts, tsr, tsr_len, NULL, 0, f->path);
    ev_sign__ts_clear(&ts);
    free(tsr);
    sigfiles_free(&sf);
    return rc;
}

/* ---- trust and verification -------------------------------------------------------- */

int ev_trust_options_init(ev_trust_options *opts, unsigned int version)
{
    return ev__options_init(opts, version == EV_TRUST_OPTIONS_VERSION ? sizeof(*opts) : 0, version);
}

int ev_trust_new(ev_trust **out, const ev_trust_options *opts)
{
    if (!out)
        return EV_EINVAL;
    *out = NULL;
    if (opts && opts->version != EV_TRUST_OPTIONS_VERSION)
        return EV_EVERSION;
    if (opts && opts->flags)
        return EV_EINVAL;
    ev_trust *t = calloc(1, sizeof(*t));
    if (!t)
        return EV_ENOMEM;
    *out = t;
    return EV_OK;
}

void ev_trust_free(ev_trust *t)
{
    if (!t)
        return;
    sk_X509_pop_free(t->ca, X509_free);
    sk_X509_pop_free(t->tsa_ca, X509_free);
    sk_X509_CRL_pop_free(t->crls, X509_CRL_free);
    free(t);
}

const char *ev_trust_last_error(const ev_trust *t)
{
    return t ? t->err.msg : "no trust handle";
}

static int add_certs(ev_trust *t, STACK_OF(X509) **dst, const char *path, const char *what)
{
    if (!t)
        return EV_EINVAL;
    if (!path)
        return ev_err__set(&t->err, EV_EINVAL, "no %s file given", what);
    uint8_t *buf = NULL;
    size_t len = 0;
    STACK_OF(X509) *sk = NULL;
    int rc = ev_sign__read_file(&buf, &len, path, EV_SIGN__MAX_FILE, what, &t->err);
    if (rc == EV_OK)
        rc = ev_sign__load_certs(&sk, buf, len, path, &t->err);
    free(buf);
    if (rc != EV_OK)
        return rc;
    if (!*dst) {
        *dst = sk;
        return EV_OK;
    }
    while (sk_X509_num(sk) > 0) {
        X509 *x = sk_X509_shift(sk);
        if (!sk_X509_push(*dst, x)) {
            X509_free(x);
            sk_X509_pop_free(sk, X509_free);
            return ev_err__set(&t->err, EV_ENOMEM, "out of memory");
        }
    }
    sk_X509_free(sk);
    return EV_OK;
}

int ev_trust_add_ca(ev_trust *t, const char *pem_path)
{
    return add_certs(t, t ? &t->ca : NULL, pem_path, "CA certificate");
}

int ev_trust_add_tsa_ca(ev_trust *t, const char *pem_path)
{
    return add_certs(t, t ? &t->tsa_ca : NULL, pem_path, "TSA CA certificate");
}

int ev_trust_add_crl(ev_trust *t, const char *path)
{
    if (!t)
        return EV_EINVAL;
    if (!path)
        return ev_err__set(&t->err, EV_EINVAL, "no CRL file given");
    uint8_t *buf = NULL;
    size_t len = 0;
    STACK_OF(X509_CRL) *sk = NULL;
    int rc = ev_sign__read_file(&buf, &len, path, EV_SIGN__MAX_FILE, "CRL", &t->err);
    if (rc == EV_OK)
        rc = ev_sign__load_crls(&sk, buf, len, path, &t->err);
    free(buf);
    if (rc != EV_OK)
        return rc;
    if (!t->crls) {
        t->crls = sk;
        return EV_OK;
    }
    while (sk_X509_CRL_num(sk) > 0) {
        X509_CRL *c = sk_X509_CRL_shift(sk);
        if (!sk_X509_CRL_push(t->crls, c)) {
            X509_CRL_free(c);
            sk_X509_CRL_pop_free(sk, X509_CRL_free);
            return ev_err__set(&t->err, EV_ENOMEM, "out of memory");
        }
    }
    sk_X509_CRL_free(sk);
    return EV_OK;
}

void ev_sign__trust_anchors(ev_sign__anchors *out, const ev_trust *t)
{
    out->ca = t ? t->ca : NULL;
    out->tsa_ca = t ? t->tsa_ca : NULL;
    out->crls = t ? t->crls : NULL;
    out->now = (int64_t)time(NULL);
    out->commit = NULL;
}

int ev_sign_verify(ev_sig_report **out, ev_trust *t, ev_bundle *b)
{
    if (!t)
        return EV_EINVAL;
    if (!out || !b)
        return ev_err__set(&t->err, EV_EINVAL, "ev_sign_verify: bad arguments");
    *out = NULL;
    sigfiles sf;
    uint8_t *custody = NULL;
    size_t clen = 0;
    int rc = read_sigfiles(&sf, b, &t->err);
    if (rc != EV_OK)
        return rc;
    if (sf.n > 0 && (rc = read_custody(&custody, &clen, b, &t->err)) != EV_OK) {
        sigfiles_free(&sf);
        return rc;
    }
    ev_sign__anchors a = { t->ca, t->tsa_ca, t->crls, (int64_t)time(NULL), NULL };
    /* A signature of a bundle with a disclosure root commits to the root in a
     * signed attribute (docs/disclosure.md); check that it is this record's,
     * so that a full verify catches what a part's verify would. A record that
     * cannot be read is the record check's to report. */
    uint8_t commit[32];
    if (sf.n > 0) {
        uint8_t *rec = NULL;
        size_t rlen = 0;
        if (ev_bundle_read_file(&rec, &rlen, b, "evidence.json", 0) == EV_OK &&
            ev_sign__record_commitment(commit, rec, rlen) == EV_OK)
            a.commit = commit;
        ev_free(rec);
    }
    rc = ev_sign__verify_set(out, custody, clen, sf.f, sf.n, &a, &t->err);
    ev_free(custody);
    sigfiles_free(&sf);
    return rc;
}
