/*
 * sign_ts: RFC 3161 timestamp queries, the HTTP exchange with a TSA
 * (OpenSSL's own OSSL_HTTP_transfer, plain http only), and replies.
 */
#include "sign/sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/http.h>
#include <openssl/httperr.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

/* ---- queries --------------------------------------------------------------------- */

int ev_sign__ts_query(uint8_t **tsq, size_t *tsq_len, const uint8_t *data, size_t len,
                      const char *policy, ev_errbuf *e)
{
    *tsq = NULL;
    *tsq_len = 0;
    int rc = EV_ENOMEM;
    uint8_t digest[32], nonce_raw[8];
    unsigned int dl = 0;
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
    X509_ALGOR *alg = X509_ALGOR_new();
    ASN1_OBJECT *pol = NULL;
    BIGNUM *bn = NULL;
    ASN1_INTEGER *nonce = NULL;
    unsigned char *der = NULL;
    ERR_clear_error();
    if (!md || !req || !mi || !alg)
        goto fail;
    if (!EVP_Digest(data, len, digest, &dl, md, NULL))
        goto fail;
    X509_ALGOR_set_md(alg, md);
    if (!TS_MSG_IMPRINT_set_algo(mi, alg) || !TS_MSG_IMPRINT_set_msg(mi, digest, (int)dl) ||
        !TS_REQ_set_version(req, 1) || !TS_REQ_set_msg_imprint(req, mi))
        goto fail;
    if (policy) {
        pol = OBJ_txt2obj(policy, 1);
        if (!pol) {
            rc = ev_err__set(e, EV_EINVAL,
                             "the TSA policy '%s' is not a dotted OID (e.g. 1.2.3.4)", policy);
            goto done;
        }
        if (!TS_REQ_set_policy_id(req, pol))
            goto fail;
    }
    if (RAND_bytes(nonce_raw, sizeof(nonce_raw)) != 1) {
        rc = ev_err__set(e, EV_ERROR, "no random bytes for the nonce");
        ev_sign__append_ossl(e);
        goto done;
    }
    nonce_raw[0] &= 0x7f; /* keep it positive and 63 bits, like openssl ts -query */
    bn = BN_bin2bn(nonce_raw, sizeof(nonce_raw), NULL);
    if (!bn || !(nonce = BN_to_ASN1_INTEGER(bn, NULL)) || !TS_REQ_set_nonce(req, nonce) ||
        !TS_REQ_set_cert_req(req, 1))
        goto fail;
    int n = i2d_TS_REQ(req, &der);
    if (n <= 0)
        goto fail;
    if (!(*tsq = malloc((size_t)n)))
        goto fail;
    memcpy(*tsq, der, (size_t)n);
    *tsq_len = (size_t)n;
    rc = EV_OK;
    goto done;
fail:
    rc = ev_err__set(e, EV_ENOMEM, "cannot build the timestamp query");
    ev_sign__append_ossl(e);
done:
    OPENSSL_free(der);
    ASN1_INTEGER_free(nonce);
    BN_free(bn);
    ASN1_OBJECT_free(pol);
    X509_ALGOR_free(alg);
    TS_MSG_IMPRINT_free(mi);
    TS_REQ_free(req);
    EVP_MD_free(md);
    ERR_clear_error();
    return rc;
}

/* ---- HTTP ------------------------------------------------------------------------- */

/* Classify the HTTP client's failure from the error queue and word the
 * message; the queue is emptied. */
static int http_failure(ev_errbuf *e, const char *url, int timeout)
{
    unsigned long code;
    bool timed_out = false, content = false, refused = false, http_error = false;
    char detail[400] = "";
    size_t used = 0;
    int shown = 0;
    const char *data = NULL;
    int flags = 0;
    while ((code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        const char *r = ERR_reason_error_string(code);
        int lib = ERR_GET_LIB(code), reason = ERR_GET_REASON(code);
        if ((r && strstr(r, "timeout")) || (lib == ERR_LIB_HTTP && reason == HTTP_R_RETRY_TIMEOUT))
            timed_out = true;
        if (lib == ERR_LIB_HTTP &&
            (reason == HTTP_R_UNEXPECTED_CONTENT_TYPE || reason == HTTP_R_MISSING_CONTENT_TYPE ||
             reason == HTTP_R_MISSING_ASN1_ENCODING || reason == HTTP_R_MAX_RESP_LEN_EXCEEDED ||
             reason == HTTP_R_ASN1_LEN_EXCEEDS_MAX_RESP_LEN ||
             reason == HTTP_R_ERROR_PARSING_ASN1_LENGTH ||
             reason == HTTP_R_INCONSISTENT_CONTENT_LENGTH ||
             reason == HTTP_R_ERROR_PARSING_CONTENT_LENGTH))
            content = true;
        if (lib == ERR_LIB_HTTP && reason == HTTP_R_RECEIVED_ERROR)
            http_error = true;
        if (lib == ERR_LIB_SYS || (lib == ERR_LIB_HTTP && reason == HTTP_R_CONNECT_FAILURE) ||
            (lib == ERR_LIB_BIO && r && strstr(r, "connect")))
            refused = true;
        if (shown < 3 && used + 4 < sizeof(detail)) {
            int n = snprintf(detail + used, sizeof(detail) - used, "%s%s%s%s%s",
                             shown ? "; " : "", r ? r : "unknown error",
                             data && (flags & ERR_TXT_STRING) && *data ? " (" : "",
                             data && (flags & ERR_TXT_STRING) ? data : "",
                             data && (flags & ERR_TXT_STRING) && *data ? ")" : "");
            if (n > 0)
                used = used + (size_t)n < sizeof(detail) ? used + (size_t)n : sizeof(detail) - 1;
            shown++;
        }
    }
    if (timed_out)
        return ev_err__set(e, EV_EIO,
                           "no answer from the TSA at %s within %d s; check that it is up and "
                           "reachable, or allow a longer timeout [%s]", url, timeout, detail);
    if (content)
        return ev_err__set(e, EV_EFORMAT,
                           "the TSA at %s did not answer with a timestamp reply; check the URL "
                           "[%s]", url, detail);
    if (http_error)
        return ev_err__set(e, EV_EIO,
                           "the TSA at %s answered with an HTTP error; check the URL or try "
                           "later [%s]", url, detail);
    if (refused)
        return ev_err__set(e, EV_EIO,
                           "cannot reach the TSA at %s; check the URL and the network [%s]", url,
                           detail);
    return ev_err__set(e, EV_EIO, "the exchange with the TSA at %s failed; check the URL [%s]",
                       url, detail);
}

int ev_sign__ts_http(uint8_t **tsr, size_t *tsr_len, const char *url, const char *proxy,
                     const uint8_t *tsq, size_t tsq_len, int timeout, ev_errbuf *e)
{
    *tsr = NULL;
    *tsr_len = 0;
    if (timeout <= 0)
        timeout = EV_SIGN__DEFAULT_TIMEOUT;
    if (tsq_len > INT32_MAX)
        return ev_err__set(e, EV_EINVAL, "timestamp query too big");
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL, *full = NULL;
    int use_ssl = 0, rc = EV_OK;
    BIO *req = NULL, *rsp = NULL;
    ERR_clear_error();
    if ((strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) ||
        !OSSL_HTTP_parse_url(url, &use_ssl, NULL, &host, &port, NULL, &path, &query, NULL)) {
        ERR_clear_error();
        return ev_err__set(e, EV_EINVAL,
                           "'%s' is not a TSA URL; give one like http://tsa.example.org/tsr",
                           url);
    }
    if (use_ssl) {
        rc = ev_err__set(e, EV_EUNSUPPORTED,
                         "https TSA URLs are not supported ('%s'); use the TSA's http URL (the "
                         "token is signed, so the transport needs no protection)", url);
        goto done;
    }
    if (query && *query) {
        full = ev__asprintf("%s?%s", path, query);
        if (!full) {
            rc = ev_err__set(e, EV_ENOMEM, "out of memory");
            goto done;
        }
    }
    req = BIO_new_mem_buf(tsq, (int)tsq_len);
    if (!req) {
        rc = ev_err__set(e, EV_ENOMEM, "out of memory");
        goto done;
    }
    rsp = OSSL_HTTP_transfer(NULL, host, port, full ? full : path, 0, proxy, NULL, NULL, NULL,
                             NULL, NULL, 0, NULL, "application/timestamp-query", req,
                             "application/timestamp-reply", 1, EV_SIGN__MAX_REPLY, timeout, 0);
    if (!rsp) {
        rc = http_failure(e, url, timeout);
        goto done;
    }
    char *p = NULL;
    long n = BIO_get_mem_data(rsp, &p);
    if (n <= 0 || !p) {
        /* Not a memory BIO: read it. */
        uint8_t chunk[4096];
        ev_buf b = { 0 };
        int r;
        while ((r = BIO_read(rsp, chunk, sizeof(chunk))) > 0) {
            if (b.len + (size_t)r > EV_SIGN__MAX_REPLY || ev_buf__append(&b, chunk, (size_t)r)) {
                ev_buf__free(&b);
                rc = ev_err__set(e, EV_EFORMAT, "the reply of the TSA at %s is too big", url);
                goto done;
            }
        }
        if (b.len == 0) {
            ev_buf__free(&b);
            rc = ev_err__set(e, EV_EFORMAT, "the TSA at %s sent an empty reply", url);
            goto done;
        }
        *tsr = (uint8_t *)b.data;
        *tsr_len = b.len;
    } else {
        if (!(*tsr = malloc((size_t)n))) {
            rc = ev_err__set(e, EV_ENOMEM, "out of memory");
            goto done;
        }
        memcpy(*tsr, p, (size_t)n);
        *tsr_len = (size_t)n;
    }
done:
    BIO_free_all(rsp);
    BIO_free(req);
    free(full);
    OPENSSL_free(host);
    OPENSSL_free(port);
    OPENSSL_free(path);
    OPENSSL_free(query);
    ERR_clear_error();
    return rc;
}

/* ---- replies --------------------------------------------------------------------------- */

void ev_sign__ts_clear(ev_sign__ts *t)
{
    if (!t)
        return;
    if (t->resp)
        TS_RESP_free(t->resp);
    else
        PKCS7_free(t->token);
    TS_TST_INFO_free(t->tst);
    memset(t, 0, sizeof(*t));
}

static const char *const fail_bits[] = {
    [0] = "badAlg: unsupported digest algorithm", [2] = "badRequest: transaction not permitted",
    [5] = "badDataFormat", [14] = "timeNotAvailable: the TSA's time source is down",
    [15] = "unacceptedPolicy", [16] = "unacceptedExtension",
    [17] = "addInfoNotAvailable", [25] = "systemFailure",
};

static void describe_status(ev_sign__ts *t, const TS_STATUS_INFO *si)
{
    static const char *const names[] = { "granted", "grantedWithMods", "rejection",
                                         "waiting", "revocationWarning", "revocationNotification" };
    int s = t->status;
    size_t used = (size_t)snprintf(t->status_text, sizeof(t->status_text), "status %s",
                                   s >= 0 && s <= 5 ? names[s] : "unknown");
    const STACK_OF(ASN1_UTF8STRING) *txt = TS_STATUS_INFO_get0_text(si);
    for (int i = 0; txt && i < sk_ASN1_UTF8STRING_num(txt) && used < sizeof(t->status_text); i++) {
        const ASN1_UTF8STRING *u = sk_ASN1_UTF8STRING_value(txt, i);
        used += (size_t)snprintf(t->status_text + used, sizeof(t->status_text) - used,
                                 ", \"%.*s\"", ASN1_STRING_length(u) > 80 ? 80 : ASN1_STRING_length(u),
                                 (const char *)ASN1_STRING_get0_data(u));
    }
    const ASN1_BIT_STRING *fi = TS_STATUS_INFO_get0_failure_info(si);
    for (int b = 0; fi && b < (int)(sizeof(fail_bits) / sizeof(fail_bits[0])); b++) {
        if (fail_bits[b] && ASN1_BIT_STRING_get_bit(fi, b) && used < sizeof(t->status_text))
            used += (size_t)snprintf(t->status_text + used, sizeof(t->status_text) - used,
                                     ", failure %s", fail_bits[b]);
    }
}

static int fill_from_token(ev_sign__ts *t, ev_errbuf *e)
{
    if (!t->tst) {
        t->tst = PKCS7_to_TS_TST_INFO(t->token);
        if (!t->tst) {
            ev_err__set(e, EV_EFORMAT, "the timestamp token holds no readable TSTInfo");
            ev_sign__append_ossl(e);
            return EV_EFORMAT;
        }
    }
    TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(t->tst);
    X509_ALGOR *alg = mi ? TS_MSG_IMPRINT_get_algo(mi) : NULL;
    ASN1_OCTET_STRING *msg = mi ? TS_MSG_IMPRINT_get_msg(mi) : NULL;
    const ASN1_OBJECT *obj = NULL;
    if (alg)
        X509_ALGOR_get0(&obj, NULL, NULL, alg);
    if (!obj || !msg || ASN1_STRING_length(msg) <= 0 ||
        (size_t)ASN1_STRING_length(msg) > sizeof(t->imprint))
        return ev_err__set(e, EV_EFORMAT, "the timestamp token has no valid message imprint");
    t->md_nid = OBJ_obj2nid(obj);
    t->imprint_len = (size_t)ASN1_STRING_length(msg);
    memcpy(t->imprint, ASN1_STRING_get0_data(msg), t->imprint_len);
    t->has_time = ev_sign__asn1_time(TS_TST_INFO_get_time(t->tst), &t->gen_time);
    if (!t->has_time)
        return ev_err__set(e, EV_EFORMAT, "the timestamp token has no readable time");
    /* The TSA certificate, when the token carries it. */
    if (PKCS7_type_is_signed(t->token)) {
        STACK_OF(X509) *signers = PKCS7_get0_signers(t->token, NULL, 0);
        if (signers && sk_X509_num(signers) == 1)
            t->tsa_cert = sk_X509_value(signers, 0);
        sk_X509_free(signers);
    }
    ERR_clear_error();
    return EV_OK;
}

int ev_sign__ts_parse(ev_sign__ts *out, const uint8_t *der, size_t len, ev_errbuf *e)
{
    memset(out, 0, sizeof(*out));
    if (len == 0)
        return ev_err__set(e, EV_EFORMAT, "the timestamp reply is empty");
    if (len > EV_SIGN__MAX_FILE)
        return ev_err__set(e, EV_EFORMAT, "the timestamp reply is too big (%zu bytes)", len);
    ERR_clear_error();
    const unsigned char *p = der;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)len);
    if (resp && p == der + len) {
        out->resp = resp;
        const TS_STATUS_INFO *si = TS_RESP_get_status_info(resp);
        const ASN1_INTEGER *st = si ? TS_STATUS_INFO_get0_status(si) : NULL;
        out->status = st ? (int)ASN1_INTEGER_get(st) : -1;
        describe_status(out, si);
        if (out->status != 0 && out->status != 1) {
            ERR_clear_error();
            return EV_OK; /* parsed; the caller looks at the status */
        }
        out->token = TS_RESP_get_token(resp);
        TS_TST_INFO *tst = TS_RESP_get_tst_info(resp);
        if (!out->token || !tst) {
            ev_sign__ts_clear(out);
            ERR_clear_error();
            return ev_err__set(e, EV_EFORMAT, "the TSA granted the request but sent no token");
        }
        out->tst = TS_TST_INFO_dup(tst);
        if (!out->tst) {
            ev_sign__ts_clear(out);
            return ev_err__set(e, EV_ENOMEM, "out of memory");
        }
    } else {
        TS_RESP_free(resp);
        p = der;
        PKCS7 *tok = d2i_PKCS7(NULL, &p, (long)len);
        if (!tok || p != der + len || !PKCS7_type_is_signed(tok)) {
            PKCS7_free(tok);
            ERR_clear_error();
            return ev_err__set(e, EV_EFORMAT,
                               "not a DER timestamp reply (TimeStampResp) or token: it is "
                               "malformed or truncated");
        }
        out->token = tok;
        out->status = 0;
        snprintf(out->status_text, sizeof(out->status_text), "bare token");
    }
    int rc = fill_from_token(out, e);
    if (rc != EV_OK)
        ev_sign__ts_clear(out);
    ERR_clear_error();
    return rc;
}

bool ev_sign__ts_imprint_matches(const ev_sign__ts *t, const uint8_t *data, size_t len)
{
    if (!t->tst || !t->imprint_len)
        return false;
    EVP_MD *md = EVP_MD_fetch(NULL, OBJ_nid2sn(t->md_nid), NULL);
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    bool ok = md && EVP_Digest(data, len, d, &dl, md, NULL) && dl == t->imprint_len &&
              CRYPTO_memcmp(d, t->imprint, dl) == 0;
    EVP_MD_free(md);
    ERR_clear_error();
    return ok;
}

int ev_sign__ts_nonce_matches(const ev_sign__ts *t, const uint8_t *tsq, size_t tsq_len,
                              bool *match, ev_errbuf *e)
{
    *match = false;
    const unsigned char *p = tsq;
    TS_REQ *req = tsq_len <= EV_SIGN__MAX_FILE ? d2i_TS_REQ(NULL, &p, (long)tsq_len) : NULL;
    if (!req || p != tsq + tsq_len) {
        TS_REQ_free(req);
        ERR_clear_error();
        return ev_err__set(e, EV_EFORMAT, "the timestamp query is not a DER TimeStampReq");
    }
    const ASN1_INTEGER *qn = TS_REQ_get_nonce(req);
    const ASN1_INTEGER *tn = t->tst ? TS_TST_INFO_get_nonce(t->tst) : NULL;
    *match = !qn || (tn && ASN1_INTEGER_cmp(qn, tn) == 0);
    TS_REQ_free(req);
    return EV_OK;
}

int ev_sign__ts_check_signature(const ev_sign__ts *t, ev_errbuf *e)
{
    if (!t->token || !PKCS7_type_is_signed(t->token))
        return ev_err__set(e, EV_EFORMAT, "the timestamp token is not signed data");
    ERR_clear_error();
    BIO *out = BIO_new(BIO_s_null());
    int ok = out ? PKCS7_verify(t->token, NULL, NULL, NULL, out, PKCS7_NOVERIFY | PKCS7_BINARY)
                 : 0;
    BIO_free(out);
    if (ok != 1) {
        ev_err__set(e, EV_EFORMAT, "the timestamp token's signature does not verify");
        ev_sign__append_ossl(e);
        return EV_EFORMAT;
    }
    ERR_clear_error();
    return EV_OK;
}

int ev_sign__ts_check_reply(const ev_sign__ts *t, const uint8_t *data, size_t len,
                            const uint8_t *tsq, size_t tsq_len, ev_errbuf *e)
{
    if (t->status != 0 && t->status != 1)
        return ev_err__set(e, EV_ERROR, "the TSA refused the request (%s)", t->status_text);
    if (!ev_sign__ts_imprint_matches(t, data, len))
        return ev_err__set(e, EV_EFORMAT,
                           "the timestamp token is for other data (its message imprint does "
                           "not match the signature); ask the TSA again");
    int rc = ev_sign__ts_check_signature(t, e);
    if (rc != EV_OK)
        return rc;
    if (tsq) {
        bool match = false;
        if ((rc = ev_sign__ts_nonce_matches(t, tsq, tsq_len, &match, e)) != EV_OK)
            return rc;
        if (!match)
            return ev_err__set(e, EV_EFORMAT,
                               "the timestamp reply answers another query (nonce mismatch): "
                               "a stale or misdirected reply; ask the TSA again");
    }
    return EV_OK;
}

int ev_sign__ts_verify(ev_sign__chain *res, const ev_sign__ts *t, STACK_OF(X509) *roots)
{
    memset(res, 0, sizeof(*res));
    if (!t->tsa_cert) {
        res->code = "tsa-untrusted";
        snprintf(res->msg, sizeof(res->msg),
                 "the token does not carry the TSA certificate, so it cannot be checked; "
                 "request tokens with the certificate (cert_req)");
        return EV_OK;
    }
    /* RFC 3161 2.3: the TSA certificate has exactly one extended key usage,
     * timeStamping, and it is critical. */
    X509 *tc = t->tsa_cert;
    int crit = -1;
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(tc, NID_ext_key_usage, &crit, NULL);
    bool eku_ok = eku && crit == 1 && sk_ASN1_OBJECT_num(eku) == 1 &&
                  OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)) == NID_time_stamp;
    EXTENDED_KEY_USAGE_free(eku);
    ERR_clear_error();
    if (!eku_ok) {
        char *s = ev_sign__subject(tc);
        res->code = "tsa-eku";
        snprintf(res->msg, sizeof(res->msg),
                 "the TSA certificate '%s' is not for timestamping (it needs the one critical "
                 "extended key usage timeStamping)", s ? s : "?");
        free(s);
        return EV_OK;
    }
    STACK_OF(X509) *certs = t->token->d.sign ? t->token->d.sign->cert : NULL;
    int rc = ev_sign__verify_chain(res, tc, certs, roots, NULL, t->gen_time, false,
                                   X509_PURPOSE_TIMESTAMP_SIGN);
    if (rc != EV_OK || !res->ok)
        return rc;
    /* The token's signature and its ESS signing-certificate binding, by
     * OpenSSL's own TS verifier, against the same roots. */
    TS_VERIFY_CTX *v = TS_VERIFY_CTX_new();
    X509_STORE *st = X509_STORE_new();
    if (!v || !st) {
        TS_VERIFY_CTX_free(v);
        X509_STORE_free(st);
        return EV_ENOMEM;
    }
    for (int i = 0; i < sk_X509_num(roots); i++)
        X509_STORE_add_cert(st, sk_X509_value(roots, i));
    X509_VERIFY_PARAM *vp = X509_VERIFY_PARAM_new();
    if (vp) {
        X509_VERIFY_PARAM_set_time(vp, (time_t)t->gen_time);
        X509_STORE_set1_param(st, vp);
        X509_VERIFY_PARAM_free(vp);
    }
    TS_VERIFY_CTX_set_flags(v, TS_VFY_VERSION | TS_VFY_SIGNATURE);
    TS_VERIFY_CTX_set_store(v, st); /* OpenSSL 3.0: the context takes the store */
    ERR_clear_error();
    int ok = TS_RESP_verify_token(v, t->token);
    TS_VERIFY_CTX_free(v);
    if (ok != 1) {
        ev_errbuf tmp;
        snprintf(tmp.msg, sizeof(tmp.msg), "the timestamp token does not verify");
        ev_sign__append_ossl(&tmp);
        res->ok = false;
        res->code = "token-invalid";
        snprintf(res->msg, sizeof(res->msg), "%s", tmp.msg);
    }
    ERR_clear_error();
    return EV_OK;
}
