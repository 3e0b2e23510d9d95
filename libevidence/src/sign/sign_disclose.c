/*
 * sign (disclose): the commitment document a signature carries for the
 * disclosure tree of a bundle, and the check of one of the original's
 * signatures as a part carries it, without the original's custody log
 * (docs/disclosure.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sign/sign.h"

static bool commit_str_ok(const char *s, size_t max)
{
    if (!s || !*s || strlen(s) > max)
        return false;
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
            return false;
    return true;
}

char *ev_sign__commitment(const char *bundle_id, const char *created, uint64_t n,
                          const char *root_hex)
{
    if (!commit_str_ok(bundle_id, 100) || !commit_str_ok(created, 64) || !root_hex ||
        strlen(root_hex) != 64)
        return NULL;
    for (size_t i = 0; i < 64; i++)
        if (!((root_hex[i] >= '0' && root_hex[i] <= '9') || (root_hex[i] >= 'a' && root_hex[i] <= 'f')))
            return NULL;
    /* the keys in RFC 8785 order; every value is ASCII without escapes */
    return ev__asprintf("{\"bundle_id\":\"%s\",\"created\":\"%s\",\"format\":\"evidence-"
                        "disclosure-commitment\",\"format_version\":1,\"hash\":\"sha256\","
                        "\"items\":%llu,\"root\":\"%s\"}",
                        bundle_id, created, (unsigned long long)n, root_hex);
}

int ev_sign__record_commitment(uint8_t out[32], const uint8_t *rec, size_t len)
{
    json_error_t je;
    json_t *r = json_loadb((const char *)rec, len, JSON_REJECT_DUPLICATES, &je);
    if (!r)
        return EV_EFORMAT;
    const json_t *d = json_object_get(r, "disclosure");
    int rc = EV_ENOTFOUND;
    if (d) {
        const json_t *n = json_object_get(d, "items");
        const char *hash = json_string_value(json_object_get(d, "hash"));
        char *c = json_is_integer(n) && json_integer_value(n) > 0 && hash &&
                          strcmp(hash, "sha256") == 0
                      ? ev_sign__commitment(json_string_value(json_object_get(r, "bundle_id")),
                                            json_string_value(json_object_get(r, "created")),
                                            (uint64_t)json_integer_value(n),
                                            json_string_value(json_object_get(d, "root")))
                      : NULL;
        unsigned int ol = 0;
        rc = c && EVP_Digest(c, strlen(c), out, &ol, EVP_sha256(), NULL) ? EV_OK : EV_EFORMAT;
        free(c);
    }
    json_decref(r);
    return rc;
}

static void tstr(json_t *o, const char *k, int64_t t)
{
    char b[40];
    ev__time_rfc3339(b, sizeof(b), t);
    json_object_set_new(o, k, json_string(b));
}

/* A problem for the signature object o; returns false (for `ok = problem()`). */
static bool problem(json_t *o, const char *sev, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool problem(json_t *o, const char *sev, const char *code, const char *fmt, ...)
{
    char msg[EV_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_array_append_new(json_object_get(o, "problems"),
                          json_pack("{s:s, s:s, s:s}", "severity", sev, "code", code,
                                    "message", msg));
    return false;
}

const char *ev_sign__check_commit_sig(json_t *arr, const ev_sign__commit_sig *s,
                                      const uint8_t commit[32], const ev_sign__anchors *a)
{
    json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:s, s:[]}", "path", s->path,
                          "token", s->token_path ? json_string(s->token_path) : json_null(),
                          "signer", json_null(), "signing_time", json_null(), "tsa", json_null(),
                          "tsa_time", json_null(), "tsa_verified", 0, "verdict", "invalid",
                          "problems");
    if (!o || json_array_append_new(arr, o) != 0)
        return NULL;
    bool trusted = a && a->ca && sk_X509_num(a->ca) > 0;
    STACK_OF(X509) *tsa_roots = a ? (a->tsa_ca && sk_X509_num(a->tsa_ca) > 0 ? a->tsa_ca : a->ca)
                                  : NULL;
    ev_errbuf e = { "" };
    ev_sign__cms c;
    memset(&c, 0, sizeof(c));
    ev_sign__ts ts;
    memset(&ts, 0, sizeof(ts));
    bool ok = true, time_trusted = false;
    int64_t at = a ? a->now : 0;
    if (!s->p7s) {
        ok = problem(o, "error", "disclosure-signature-missing",
                     "%s is named by the part but is not in it", s->path);
        goto done;
    }
    if (ev_sign__cms_parse(&c, s->p7s, s->p7s_len, &e) != EV_OK) {
        ok = problem(o, "error", "signature-malformed", "%s cannot be read: %s", s->path, e.msg);
        goto done;
    }
    char *subj = ev_sign__subject(c.signer);
    json_object_set_new(o, "signer", subj ? json_string(subj) : json_null());
    free(subj);
    if (c.has_signing_time)
        tstr(o, "signing_time", c.signing_time);
    if (!c.has_commit) {
        ok = problem(o, "error", "disclosure-commitment-missing",
                     "%s does not commit to a disclosure tree (it was made before bundles "
                     "had one, or by another tool)", s->path);
        goto done;
    }
    if (CRYPTO_memcmp(c.commit, commit, 32) != 0) {
        ok = problem(o, "error", "disclosure-commitment-mismatch",
                     "%s commits to another disclosure tree than the part's disclosed_from "
                     "(bundle id, created, item count or root differ): the proofs do not lead "
                     "to this signature", s->path);
        goto done;
    }
    if (ev_sign__cms_check_attrs(&c, &e) != EV_OK) {
        ok = problem(o, "error", "signature-invalid", "%s does not verify: %s", s->path, e.msg);
        goto done;
    }
    if (s->token_path) {
        if (!s->tsr) {
            ok = problem(o, "error", "disclosure-signature-missing",
                         "%s is named by the part but is not in it", s->token_path);
            goto done;
        }
        if (ev_sign__ts_parse(&ts, s->tsr, s->tsr_len, &e) != EV_OK) {
            ok = problem(o, "error", "token-malformed", "%s cannot be read: %s", s->token_path,
                         e.msg);
            goto done;
        }
        if (ts.status != 0 && ts.status != 1) {
            ok = problem(o, "error", "token-status", "%s is a refusal, not a token (%s)",
                         s->token_path, ts.status_text);
            goto done;
        }
        if (ts.has_time)
            tstr(o, "tsa_time", ts.gen_time);
        if (ts.tsa_cert) {
            char *t = ev_sign__subject(ts.tsa_cert);
            json_object_set_new(o, "tsa", t ? json_string(t) : json_null());
            free(t);
        }
        if (!ev_sign__ts_imprint_matches(&ts, s->p7s, s->p7s_len)) {
            ok = problem(o, "error", "token-imprint",
                         "%s is a token for other data, not for %s", s->token_path, s->path);
            goto done;
        }
        if (ev_sign__ts_check_signature(&ts, &e) != EV_OK) {
            ok = problem(o, "error", "token-invalid", "%s: %s", s->token_path, e.msg);
            goto done;
        }
        if (tsa_roots && sk_X509_num(tsa_roots) > 0) {
            ev_sign__chain ch;
            if (ev_sign__ts_verify(&ch, &ts, tsa_roots) != EV_OK) {
                ok = problem(o, "error", "token-invalid", "%s cannot be checked", s->token_path);
                goto done;
            }
            if (!ch.ok) {
                ok = problem(o, "error", ch.code, "%s: %s", s->token_path, ch.msg);
                goto done;
            }
            json_object_set_new(o, "tsa_verified", json_true());
            time_trusted = true;
            at = ts.gen_time;
        }
    } else {
        problem(o, "note", "token-missing", "%s has no timestamp token: its time is the "
                "signer's claim", s->path);
    }
    if (trusted) {
        ev_sign__chain ch;
        if (ev_sign__verify_chain(&ch, c.signer, c.certs, a->ca, a->crls, at, time_trusted, 0) !=
            EV_OK) {
            ok = problem(o, "error", "signer-chain-invalid", "%s cannot be checked", s->path);
            goto done;
        }
        if (!ch.ok)
            ok = problem(o, "error", ch.code, "%s: %s%s", s->path, ch.msg,
                         time_trusted ? " (at the token time)" : " (now: no verified token)");
        X509 *x = c.signer;
        if (ok && (X509_get_extension_flags(x) & EXFLAG_KUSAGE) &&
            !(X509_get_key_usage(x) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)))
            ok = problem(o, "error", "signer-key-usage",
                         "%s: the signer's certificate does not allow signing", s->path);
    }
done:
    ev_sign__cms_clear(&c);
    ev_sign__ts_clear(&ts);
    const char *v = !ok ? "invalid" : trusted ? "valid" : "unverified";
    json_object_set_new(o, "verdict", json_string(v));
    return v;
}
