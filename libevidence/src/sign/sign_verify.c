/*
 * sign_verify: check every file under signatures/ against the custody log
 * bytes, and build the public ev_sig_report.
 *
 * Per signature (signatures/NNNN-<who>.p7s):
 *  1. the name is canonical; the CMS structure parses;
 *  2. its signed digest equals SHA-256 of custody.jsonl lines 1..N. When it
 *     does not, it is compared with every other prefix 1..k: a match means
 *     the file was renamed or swapped; no match means the log changed, and
 *     the damaged line is located from the "seq" fields and the bounds given
 *     by the other signatures;
 *  3. the signature value (and the ESS certificate binding) verifies;
 *  4. <who> is the slug of the signer's common name;
 *  5. the token, if any: parses, granted, imprint = digest of the .p7s
 *     bytes, its signature, and with roots the TSA chain and EKU at the
 *     token time;
 *  6. with roots: the signer chain at the signing time (the token time
 *     when the token verified, else now), CRLs, keyUsage, and the claimed
 *     signingTime within the certificate's validity.
 */
#include "sign/sign.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "base/hash.h"

typedef struct sig_entry {
    ev_sig_result pub;
    ev_sig_problem *problems;
    size_t nprob, capprob;
    /* working state */
    const ev_sign__file *p7s;
    const ev_sign__file *tsr;
    char who[EV_SIGN__SLUG_MAX + 1];
    ev_sign__cms cms;
    bool parsed;
    bool content_ok;        /* digest equals prefix N */
    uint64_t matches_k;     /* digest equals prefix k (k != N), else 0 */
} sig_entry;

struct ev_sig_report {
    sig_entry *e;
    size_t n;
    bool trusted;
};

/* ---- report plumbing ------------------------------------------------------- */

static char *dupt(int64_t t)
{
    char buf[40];
    ev__time_rfc3339(buf, sizeof(buf), t);
    return ev__strdup(buf);
}

__attribute__((format(printf, 4, 5)))
static int add_problem(sig_entry *se, ev_severity sev, const char *code, const char *fmt, ...)
{
    if (se->nprob == se->capprob) {
        size_t cap = se->capprob ? se->capprob * 2 : 4;
        ev_sig_problem *p = ev__reallocarray(se->problems, cap, sizeof(*p));
        if (!p)
            return EV_ENOMEM;
        se->problems = p;
        se->capprob = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return EV_ENOMEM;
    ev_sig_problem *p = &se->problems[se->nprob++];
    p->version = EV_SIG_PROBLEM_VERSION;
    p->severity = sev;
    p->code = code;
    p->message = msg;
    return EV_OK;
}

static bool has_error(const sig_entry *se)
{
    for (size_t i = 0; i < se->nprob; i++)
        if (se->problems[i].severity == EV_SEVERITY_ERROR)
            return true;
    return false;
}

void ev_sig_report_free(ev_sig_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        sig_entry *se = &r->e[i];
        free((char *)se->pub.path);
        free((char *)se->pub.token_path);
        free((char *)se->pub.signer);
        free((char *)se->pub.signing_time);
        free((char *)se->pub.tsa_time);
        free((char *)se->pub.tsa);
        for (size_t k = 0; k < se->nprob; k++)
            free((char *)se->problems[k].message);
        free(se->problems);
        ev_sign__cms_clear(&se->cms);
    }
    free(r->e);
    free(r);
}

ev_sig_verdict ev_sig_report_verdict(const ev_sig_report *r)
{
    static const int rank[] = { [EV_SIG_VALID] = 0, [EV_SIG_UNVERIFIED] = 1,
                                [EV_SIG_INVALID] = 2, [EV_SIG_UNREADABLE] = 3 };
    ev_sig_verdict worst = EV_SIG_VALID;
    for (size_t i = 0; r && i < r->n; i++) {
        ev_sig_verdict v = r->e[i].pub.verdict;
        if (rank[v] > rank[worst])
            worst = v;
    }
    return worst;
}

size_t ev_sig_report_count(const ev_sig_report *r)
{
    return r ? r->n : 0;
}

const ev_sig_result *ev_sig_report_result(const ev_sig_report *r, size_t i)
{
    return r && i < r->n ? &r->e[i].pub : NULL;
}

bool ev_sig_report_trusted(const ev_sig_report *r)
{
    return r && r->trusted;
}

const char *ev_sig_verdict_name(ev_sig_verdict v)
{
    switch (v) {
    case EV_SIG_VALID: return "valid";
    case EV_SIG_INVALID: return "invalid";
    case EV_SIG_UNVERIFIED: return "unverified";
    case EV_SIG_UNREADABLE: return "unreadable";
    default: return "unknown";
    }
}

/* ---- custody helpers ---------------------------------------------------------- */

size_t ev_sign__count_lines(const uint8_t *buf, size_t len, bool *partial)
{
    size_t n = 0, last = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            n++;
            last = i + 1;
        }
    }
    if (partial)
        *partial = last < len;
    return n;
}

size_t ev_sign__prefix_len(const uint8_t *buf, size_t len, uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t seen = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n' && ++seen == n)
            return i + 1;
    }
    return 0;
}

/* Find k in 1..count whose prefix digest equals want (skipping `skip`).
 * One pass: the running digest is copied at each line end. */
static uint64_t find_prefix(const uint8_t *buf, size_t len, const uint8_t *want, size_t wlen,
                            uint64_t skip)
{
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MD_CTX *run = EVP_MD_CTX_new(), *tmp = EVP_MD_CTX_new();
    uint64_t found = 0, k = 0;
    size_t start = 0;
    if (!md || !run || !tmp || !EVP_DigestInit_ex(run, md, NULL) || wlen != 32)
        goto done;
    for (size_t i = 0; i < len && !found; i++) {
        if (buf[i] != '\n')
            continue;
        k++;
        uint8_t d[EVP_MAX_MD_SIZE];
        unsigned int dl = 0;
        if (!EVP_DigestUpdate(run, buf + start, i + 1 - start) || !EVP_MD_CTX_copy_ex(tmp, run) ||
            !EVP_DigestFinal_ex(tmp, d, &dl))
            break;
        start = i + 1;
        if (k != skip && dl == wlen && CRYPTO_memcmp(d, want, wlen) == 0)
            found = k;
    }
done:
    EVP_MD_CTX_free(tmp);
    EVP_MD_CTX_free(run);
    EVP_MD_free(md);
    return found;
}

bool ev_sign__custody_damage(char *out, size_t outlen, const uint8_t *buf, size_t len,
                             uint64_t upto)
{
    size_t start = 0;
    uint64_t line = 0;
    char prev[65] = "";
    for (size_t i = 0; i < len && line < upto; i++) {
        if (buf[i] != '\n')
            continue;
        line++;
        json_error_t jerr;
        json_t *ev = json_loadb((const char *)buf + start, i - start, 0, &jerr);
        json_t *seq = json_is_object(ev) ? json_object_get(ev, "seq") : NULL;
        json_t *ps = json_is_object(ev) ? json_object_get(ev, "prev_sha256") : NULL;
        char sha[65];
        ev_hash__sha256_hex(sha, buf + start, i - start);
        start = i + 1;
        const char *problem = NULL;
        if (!json_is_object(ev))
            problem = "is not a JSON custody event";
        else if (!json_is_integer(seq))
            problem = "has no \"seq\" number";
        if (problem) {
            json_decref(ev);
            snprintf(out, outlen, "line %llu %s", (unsigned long long)line, problem);
            return true;
        }
        json_int_t s = json_integer_value(seq);
        bool link_ok = line == 1 ? (ps == NULL || json_is_null(ps))
                                 : (json_is_string(ps) && strcmp(json_string_value(ps), prev) == 0);
        json_decref(ev);
        if (s != (json_int_t)line) {
            snprintf(out, outlen,
                     "line %llu holds event seq %lld: an event was deleted, inserted or "
                     "moved there", (unsigned long long)line, (long long)s);
            return true;
        }
        if (!link_ok) {
            snprintf(out, outlen,
                     "line %llu does not link to line %llu (prev_sha256): line %llu was "
                     "altered", (unsigned long long)line, (unsigned long long)line - 1,
                     (unsigned long long)line - 1);
            return true;
        }
        memcpy(prev, sha, sizeof(prev));
    }
    return false;
}

/* ---- per signature ----------------------------------------------------------------- */

static const ev_sign__file *find_file(const ev_sign__file *files, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(files[i].path, path) == 0)
            return &files[i];
    return NULL;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const sig_entry *)a)->pub.path, ((const sig_entry *)b)->pub.path);
}

/* Steps 1-2: parse and compare the signed digest with the log. */
/* Searches that scan the whole log or every file (to name a renamed file or
 * the damaged line) run for at most this many failing items per report, so
 * a hostile bundle with thousands of bad signatures stays linear. */
#define SEARCH_BUDGET 64

static int check_parse_and_prefix(sig_entry *se, const uint8_t *custody, size_t clen,
                                  size_t *budget)
{
    ev_errbuf e = { "" };
    if (se->p7s->unreadable)
        return add_problem(se, EV_SEVERITY_ERROR, "signature-malformed",
                           "%s cannot be read from the bundle: %s", se->pub.path,
                           se->p7s->unreadable);
    if (ev_sign__cms_parse(&se->cms, se->p7s->data, se->p7s->len, &e) != EV_OK)
        return add_problem(se, EV_SEVERITY_ERROR, "signature-malformed",
                           "%s cannot be read: %s; the file is damaged or not a signature",
                           se->pub.path, e.msg);
    se->parsed = true;
    se->pub.signer = ev_sign__subject(se->cms.signer);
    if (se->cms.has_signing_time)
        se->pub.signing_time = dupt(se->cms.signing_time);
    if (!custody)
        return EV_OK;
    size_t plen = ev_sign__prefix_len(custody, clen, se->pub.events);
    if (plen) {
        uint8_t d[32];
        unsigned int dl = 0;
        EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
        if (md && EVP_Digest(custody, plen, d, &dl, md, NULL) && dl == se->cms.digest_len &&
            CRYPTO_memcmp(d, se->cms.digest, dl) == 0)
            se->content_ok = true;
        EVP_MD_free(md);
    }
    if (!se->content_ok && *budget > 0) {
        (*budget)--;
        se->matches_k = find_prefix(custody, clen, se->cms.digest, se->cms.digest_len,
                                    se->pub.events);
    }
    return EV_OK;
}

/* Step 2, messages (needs every signature's outcome for the bounds). */
static int report_prefix(sig_entry *se, const sig_entry *all, size_t n, const uint8_t *custody,
                         size_t clen, size_t *budget)
{
    uint64_t N = se->pub.events;
    if (!custody)
        return add_problem(se, EV_SEVERITY_ERROR, "custody-missing",
                           "the bundle has no custody.jsonl, so %s cannot be checked",
                           se->pub.path);
    if (se->content_ok)
        return EV_OK;
    bool partial = false;
    uint64_t count = ev_sign__count_lines(custody, clen, &partial);
    if (se->matches_k)
        return add_problem(se, EV_SEVERITY_ERROR, "signature-misnamed",
                           "%s signs custody events 1-%llu, not 1-%llu as its name says: the "
                           "file was renamed or swapped", se->pub.path,
                           (unsigned long long)se->matches_k, (unsigned long long)N);
    char where[200] = "";
    uint64_t upto = N < count ? N : count;
    /* Links up to line N+1 (when present) show which signed line changed. */
    bool located = false, searched = *budget > 0;
    if (searched) {
        (*budget)--;
        located = ev_sign__custody_damage(where, sizeof(where), custody, clen,
                                          upto < count ? upto + 1 : upto);
    }
    if (!searched) {
        snprintf(where, sizeof(where), "not located (too many failing signatures to search)");
    } else if (!located) {
        /* Bounds from the other signatures: events up to `lo` still match a
         * signature, so the change lies after them. */
        uint64_t lo = 0;
        for (size_t i = 0; i < n; i++)
            if (all[i].content_ok && all[i].pub.events < N && all[i].pub.events > lo)
                lo = all[i].pub.events;
        /* The links of lines 1..N hold, so line N itself differs: had it
         * stayed, its prev_sha256 would pin every line before it. */
        if (N > count)
            snprintf(where, sizeof(where), "events after %llu are missing",
                     (unsigned long long)count);
        else if (lo + 1 >= N)
            snprintf(where, sizeof(where), "line %llu was altered", (unsigned long long)N);
        else
            snprintf(where, sizeof(where),
                     "line %llu was altered (lines %llu-%llu may have been rewritten with it, "
                     "links included)", (unsigned long long)N, (unsigned long long)lo + 1,
                     (unsigned long long)N - 1);
    }
    if (N > count)
        return add_problem(se, EV_SEVERITY_ERROR, "custody-short",
                           "custody.jsonl has %llu events but %s covers %llu: %s; events were "
                           "deleted (restore the log from a good copy)",
                           (unsigned long long)count, se->pub.path, (unsigned long long)N, where);
    return add_problem(se, EV_SEVERITY_ERROR, "custody-mismatch",
                       "custody.jsonl events 1-%llu are not what %s signed: %s; the log was "
                       "changed after signing (restore it from a good copy)",
                       (unsigned long long)N, se->pub.path, where);
}

/* Step 3 and 4. */
static int check_value_and_name(sig_entry *se, const uint8_t *custody, size_t clen)
{
    int rc = EV_OK;
    uint64_t k = se->content_ok ? se->pub.events : se->matches_k;
    if (k && custody) {
        ev_errbuf e = { "" };
        size_t plen = ev_sign__prefix_len(custody, clen, k);
        if (ev_sign__cms_check(&se->cms, custody, plen, &e) != EV_OK)
            rc = add_problem(se, EV_SEVERITY_ERROR, "signature-invalid",
                             "%s does not verify: %s; the signature file was altered",
                             se->pub.path, e.msg);
    }
    char *cn = ev_sign__subject_field(se->cms.signer, NID_commonName);
    char slug[EV_SIGN__SLUG_MAX + 1];
    ev_sign__slug(slug, cn);
    if (rc == EV_OK && strcmp(slug, se->who) != 0)
        rc = add_problem(se, EV_SEVERITY_ERROR, "signer-mismatch",
                         "%s is named for '%s' but was signed by '%s' (file name part '%s'): "
                         "the file was renamed or swapped", se->pub.path, se->who,
                         se->pub.signer ? se->pub.signer : "?", slug);
    free(cn);
    return rc;
}

/* Step 5. Sets *trusted_time when the token chains to a TSA root. */
static int check_token(sig_entry *se, const ev_sign__file *files, size_t nfiles, size_t *budget,
                       STACK_OF(X509) *tsa_roots, bool *trusted_time, int64_t *tsa_time)
{
    *trusted_time = false;
    ev_errbuf e = { "" };
    ev_sign__ts ts;
    if (se->tsr->unreadable)
        return add_problem(se, EV_SEVERITY_ERROR, "token-malformed",
                           "%s cannot be read from the bundle: %s", se->pub.token_path,
                           se->tsr->unreadable);
    if (ev_sign__ts_parse(&ts, se->tsr->data, se->tsr->len, &e) != EV_OK)
        return add_problem(se, EV_SEVERITY_ERROR, "token-malformed",
                           "%s cannot be read: %s", se->pub.token_path, e.msg);
    int rc = EV_OK;
    if (ts.status != 0 && ts.status != 1) {
        rc = add_problem(se, EV_SEVERITY_ERROR, "token-status",
                         "%s is a refusal, not a token (%s)", se->pub.token_path,
                         ts.status_text);
        goto done;
    }
    if (ts.has_time)
        se->pub.tsa_time = dupt(ts.gen_time);
    if (ts.tsa_cert)
        se->pub.tsa = ev_sign__subject(ts.tsa_cert);
    if (!ev_sign__ts_imprint_matches(&ts, se->p7s->data, se->p7s->len)) {
        const char *other = NULL;
        size_t limit = *budget > 0 ? nfiles : 0;
        if (*budget > 0)
            (*budget)--;
        for (size_t i = 0; i < limit && !other; i++) {
            size_t pl = strlen(files[i].path);
            if (files[i].data != se->p7s->data && pl > 4 &&
                strcmp(files[i].path + pl - 4, ".p7s") == 0 &&
                ev_sign__ts_imprint_matches(&ts, files[i].data, files[i].len))
                other = files[i].path;
        }
        if (other)
            rc = add_problem(se, EV_SEVERITY_ERROR, "token-imprint",
                             "%s is a token for %s, not for %s: the token was swapped",
                             se->pub.token_path, other, se->pub.path);
        else
            rc = add_problem(se, EV_SEVERITY_ERROR, "token-imprint",
                             "%s is a token for other data, not for %s (message imprint "
                             "differs): the token or the signature was replaced",
                             se->pub.token_path, se->pub.path);
        goto done;
    }
    if (ev_sign__ts_check_signature(&ts, &e) != EV_OK) {
        rc = add_problem(se, EV_SEVERITY_ERROR, "token-invalid", "%s: %s; the token was altered",
                         se->pub.token_path, e.msg);
        goto done;
    }
    if (se->cms.has_signing_time && ts.gen_time + 300 < se->cms.signing_time) {
        char a[40], b[40];
        ev__time_rfc3339(a, sizeof(a), se->cms.signing_time);
        ev__time_rfc3339(b, sizeof(b), ts.gen_time);
        rc = add_problem(se, EV_SEVERITY_WARNING, "signing-time-late",
                         "%s claims to be signed at %s, after its token time %s: the signer's "
                         "clock was wrong", se->pub.path, a, b);
        if (rc)
            goto done;
    }
    if (tsa_roots && sk_X509_num(tsa_roots) > 0) {
        ev_sign__chain ch;
        if ((rc = ev_sign__ts_verify(&ch, &ts, tsa_roots)) != EV_OK)
            goto done;
        if (!ch.ok) {
            rc = add_problem(se, EV_SEVERITY_ERROR, ch.code, "%s: %s%s", se->pub.token_path,
                             ch.msg,
                             strcmp(ch.code, "tsa-untrusted") == 0
                                 ? "; give the TSA's root certificate as a TSA trust anchor"
                                 : "");
            goto done;
        }
        se->pub.tsa_verified = true;
        *trusted_time = true;
        *tsa_time = ts.gen_time;
    }
done:
    ev_sign__ts_clear(&ts);
    return rc;
}

/* Step 6. */
static int check_trust(sig_entry *se, const ev_sign__anchors *a, bool time_trusted, int64_t at)
{
    int rc = EV_OK;
    ev_sign__chain ch;
    if ((rc = ev_sign__verify_chain(&ch, se->cms.signer, se->cms.certs, a->ca, a->crls, at,
                                    time_trusted, 0)) != EV_OK)
        return rc;
    char when[40];
    if (!ch.ok) {
        const char *hint = "";
        if (strcmp(ch.code, "signer-untrusted") == 0)
            hint = "; the signer does not chain to the given roots";
        else if (strcmp(ch.code, "crl-problem") == 0)
            hint = "; give a current CRL of the issuing CA";
        rc = add_problem(se, EV_SEVERITY_ERROR, ch.code, "%s: %s%s%s", se->pub.path, ch.msg,
                         time_trusted ? " (the token time)" : " (now: no verified token)", hint);
        if (rc)
            return rc;
    } else if (ch.revoked_after) {
        ev__time_rfc3339(when, sizeof(when), ch.revoked_at);
        rc = add_problem(se, EV_SEVERITY_INFO, "signer-revoked-later",
                         "the signer's certificate was revoked on %s, after the timestamped "
                         "signing time; the signature stays valid", when);
        if (rc)
            return rc;
    }
    X509 *x = se->cms.signer;
    if ((X509_get_extension_flags(x) & EXFLAG_KUSAGE) &&
        !(X509_get_key_usage(x) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {
        rc = add_problem(se, EV_SEVERITY_ERROR, "signer-key-usage",
                         "%s: the signer's certificate does not allow signing (keyUsage)",
                         se->pub.path);
        if (rc)
            return rc;
    }
    int64_t nb = 0, na = 0;
    if (se->cms.has_signing_time && ev_sign__asn1_time(X509_get0_notBefore(x), &nb) &&
        ev_sign__asn1_time(X509_get0_notAfter(x), &na) &&
        (se->cms.signing_time < nb || se->cms.signing_time > na)) {
        char b1[40], b2[40];
        ev__time_rfc3339(when, sizeof(when), se->cms.signing_time);
        ev__time_rfc3339(b1, sizeof(b1), nb);
        ev__time_rfc3339(b2, sizeof(b2), na);
        rc = add_problem(se, EV_SEVERITY_ERROR, "signing-time-invalid",
                         "%s claims signing time %s, outside its certificate's validity %s to "
                         "%s", se->pub.path, when, b1, b2);
    }
    return rc;
}

/* ---- the set ------------------------------------------------------------------------- */

int ev_sign__verify_set(ev_sig_report **out, const uint8_t *custody, size_t custody_len,
                        const ev_sign__file *files, size_t nfiles, const ev_sign__anchors *a,
                        ev_errbuf *err)
{
    *out = NULL;
    ev_sig_report *r = calloc(1, sizeof(*r));
    if (!r || !(r->e = ev__calloc(nfiles ? nfiles : 1, sizeof(sig_entry)))) {
        free(r);
        return ev_err__set(err, EV_ENOMEM, "out of memory");
    }
    r->trusted = a && a->ca && sk_X509_num(a->ca) > 0;
    STACK_OF(X509) *tsa_roots = NULL;
    if (a)
        tsa_roots = a->tsa_ca && sk_X509_num(a->tsa_ca) > 0 ? a->tsa_ca : a->ca;
    int rc = EV_OK;
    size_t budget = SEARCH_BUDGET;

    /* Entries: every .p7s, every .tsr without its .p7s, every other file. */
    for (size_t i = 0; i < nfiles; i++) {
        const ev_sign__file *f = &files[i];
        uint64_t n = 0;
        char who[EV_SIGN__SLUG_MAX + 1];
        const char *ext = NULL;
        bool named = ev_sign__parse_name(f->path, &n, who, sizeof(who), &ext);
        char *twin = NULL;
        if (named) {
            twin = ev__strdup(f->path);
            if (!twin)
                goto oom;
            memcpy(twin + strlen(twin) - 3, strcmp(ext, "p7s") == 0 ? "tsr" : "p7s", 3);
            if (strcmp(ext, "tsr") == 0 && find_file(files, nfiles, twin)) {
                free(twin);
                continue; /* handled with its signature */
            }
        }
        sig_entry *se = &r->e[r->n++];
        se->pub.version = EV_SIG_RESULT_VERSION;
        se->pub.path = ev__strdup(f->path);
        if (!se->pub.path) {
            free(twin);
            goto oom;
        }
        if (!named) {
            free(twin);
            se->pub.verdict = EV_SIG_UNVERIFIED;
            if (add_problem(se, EV_SEVERITY_WARNING, "signature-name",
                            "%s is not a signature file (names are signatures/NNNN-<who>.p7s "
                            "and .tsr); ignored", f->path))
                goto oom;
            continue;
        }
        se->pub.events = n;
        memcpy(se->who, who, sizeof(who));
        if (strcmp(ext, "tsr") == 0) {
            free(twin);
            se->pub.verdict = EV_SIG_INVALID;
            se->pub.token_path = ev__strdup(f->path);
            if (add_problem(se, EV_SEVERITY_ERROR, "token-orphan",
                            "%s has no signature %.*sp7s: the signature was deleted or renamed",
                            f->path, (int)strlen(f->path) - 3, f->path))
                goto oom;
            continue;
        }
        se->p7s = f;
        se->tsr = find_file(files, nfiles, twin);
        if (se->tsr)
            se->pub.token_path = twin;
        else
            free(twin);
        if (se->tsr && !se->pub.token_path)
            goto oom;
    }
    qsort(r->e, r->n, sizeof(sig_entry), cmp_entry);

    for (size_t i = 0; i < r->n; i++)
        if (r->e[i].p7s &&
            (rc = check_parse_and_prefix(&r->e[i], custody, custody_len, &budget)) != EV_OK)
            goto oom;

    for (size_t i = 0; i < r->n; i++) {
        sig_entry *se = &r->e[i];
        if (!se->p7s)
            continue;
        if (!se->parsed) {
            se->pub.verdict = EV_SIG_UNREADABLE;
            continue;
        }
        if ((rc = report_prefix(se, r->e, r->n, custody, custody_len, &budget)) != EV_OK ||
            (rc = check_value_and_name(se, custody, custody_len)) != EV_OK)
            goto oom;
        if (a && a->commit && se->cms.has_commit &&
            CRYPTO_memcmp(se->cms.commit, a->commit, 32) != 0 &&
            add_problem(se, EV_SEVERITY_ERROR, "disclosure-commitment-mismatch",
                        "%s commits to another disclosure tree than evidence.json's "
                        "(its bundle id, creation time, item count or root differ): the "
                        "signer signed a commitment this bundle does not hold",
                        se->pub.path))
            goto oom;
        bool time_trusted = false;
        int64_t at = a ? a->now : 0;
        if (se->tsr &&
            (rc = check_token(se, files, nfiles, &budget, tsa_roots, &time_trusted, &at)) != EV_OK)
            goto oom;
        if (r->trusted) {
            if ((rc = check_trust(se, a, time_trusted, time_trusted ? at : a->now)) != EV_OK)
                goto oom;
            if (!se->tsr && add_problem(se, EV_SEVERITY_INFO, "token-missing",
                                        "%s has no timestamp token: the certificate was "
                                        "checked at the current time", se->pub.path))
                goto oom;
        }
        se->pub.verdict = has_error(se) ? EV_SIG_INVALID
                          : r->trusted  ? EV_SIG_VALID
                                        : EV_SIG_UNVERIFIED;
    }
    for (size_t i = 0; i < r->n; i++) {
        r->e[i].pub.problem_count = r->e[i].nprob;
        r->e[i].pub.problems = r->e[i].problems;
        ev_sign__cms_clear(&r->e[i].cms);
    }
    *out = r;
    return EV_OK;
oom:
    ev_sig_report_free(r);
    return ev_err__set(err, EV_ENOMEM, "out of memory checking signatures");
}
