/*
 * Unit tests for src/sign*.c: the crypto on memory buffers. A throw-away PKI
 * is made at group setup with scripts/test-pki.sh (openssl command line);
 * timestamp replies are made in-process with OpenSSL's TS_RESP_CTX, and a
 * tiny HTTP server thread on 127.0.0.1 plays good and bad TSAs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include "base/hash.h"
#include "sign/sign.h"
#include "testutil.h"

/* Like assert_int_equal(x, EV_OK), printing the error message on failure. */
#define assert_ok(x, e)                                                                    \
    do {                                                                                   \
        int rc_ = (x);                                                                     \
        if (rc_ != EV_OK)                                                                  \
            fail_msg("%s -> %d: %s", #x, rc_, (e).msg);                                    \
    } while (0)

/* ---- fixtures --------------------------------------------------------------------- */

typedef struct pki {
    char *dir;
    EVP_PKEY *signer_key, *rsa_key, *expired_key, *revoked_key, *other_key, *tsa_key, *noeku_key;
    X509 *signer, *rsa, *expired, *revoked, *other, *tsa, *noeku;
    STACK_OF(X509) *chain, *root, *other_root, *tsa_root;
    STACK_OF(X509_CRL) *crl;
} pki;

static pki P;

static char *pki_path(const char *name)
{
    return tu_join(P.dir, name);
}

static uint8_t *slurp(const char *name, size_t *len)
{
    char *p = pki_path(name);
    uint8_t *b = tu_read(p, len);
    free(p);
    return b;
}

static EVP_PKEY *load_key(const char *name)
{
    size_t len = 0;
    uint8_t *b = slurp(name, &len);
    EVP_PKEY *k = NULL;
    ev_errbuf e = { "" };
    if (b && ev_sign__load_key(&k, b, len, name, NULL, NULL, &e) != EV_OK)
        k = NULL;
    free(b);
    return k;
}

static STACK_OF(X509) *load_certs(const char *name)
{
    size_t len = 0;
    uint8_t *b = slurp(name, &len);
    STACK_OF(X509) *sk = NULL;
    ev_errbuf e = { "" };
    if (b && ev_sign__load_certs(&sk, b, len, name, &e) != EV_OK)
        sk = NULL;
    free(b);
    return sk;
}

static X509 *load_cert(const char *name)
{
    STACK_OF(X509) *sk = load_certs(name);
    X509 *x = sk ? sk_X509_shift(sk) : NULL;
    sk_X509_pop_free(sk, X509_free);
    return x;
}

static int group_setup(void **state)
{
    (void)state;
    const char *src = getenv("EV_SOURCE_DIR");
    char *tmp = tu_mkdtemp("sign");
    if (!src || !tmp)
        return -1;
    P.dir = tu_join(tmp, "pki");
    free(tmp);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "bash '%s/scripts/test-pki.sh' '%s' >/dev/null", src, P.dir);
    if (system(cmd) != 0)
        return -1;
    P.signer_key = load_key("signer.key");
    P.rsa_key = load_key("signer-rsa.key");
    P.expired_key = load_key("expired.key");
    P.revoked_key = load_key("revoked.key");
    P.other_key = load_key("other-signer.key");
    P.tsa_key = load_key("tsa.key");
    P.noeku_key = load_key("tsa-noeku.key");
    P.signer = load_cert("signer.pem");
    P.rsa = load_cert("signer-rsa.pem");
    P.expired = load_cert("expired.pem");
    P.revoked = load_cert("revoked.pem");
    P.other = load_cert("other-signer.pem");
    P.tsa = load_cert("tsa.pem");
    P.noeku = load_cert("tsa-noeku.pem");
    P.chain = load_certs("chain.pem");
    P.root = load_certs("root-ca.pem");
    P.other_root = load_certs("other-ca.pem");
    P.tsa_root = load_certs("tsa-root.pem");
    size_t len = 0;
    uint8_t *b = slurp("crl.pem", &len);
    ev_errbuf e = { "" };
    if (!b || ev_sign__load_crls(&P.crl, b, len, "crl.pem", &e) != EV_OK)
        P.crl = NULL;
    free(b);
    return P.signer_key && P.rsa_key && P.expired_key && P.revoked_key && P.other_key &&
                   P.tsa_key && P.noeku_key && P.signer && P.rsa && P.expired && P.revoked &&
                   P.other && P.tsa && P.noeku && P.chain && P.root && P.other_root &&
                   P.tsa_root && P.crl
               ? 0
               : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY *keys[] = { P.signer_key, P.rsa_key, P.expired_key, P.revoked_key,
                         P.other_key, P.tsa_key, P.noeku_key };
    X509 *certs[] = { P.signer, P.rsa, P.expired, P.revoked, P.other, P.tsa, P.noeku };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        EVP_PKEY_free(keys[i]);
    for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
        X509_free(certs[i]);
    sk_X509_pop_free(P.chain, X509_free);
    sk_X509_pop_free(P.root, X509_free);
    sk_X509_pop_free(P.other_root, X509_free);
    sk_X509_pop_free(P.tsa_root, X509_free);
    sk_X509_CRL_pop_free(P.crl, X509_CRL_free);
    if (P.dir) {
        char *parent = strdup(P.dir);
        char *slash = parent ? strrchr(parent, '/') : NULL;
        if (slash) {
            *slash = '\0';
            tu_rmrf(parent);
        }
        free(parent);
    }
    free(P.dir);
    memset(&P, 0, sizeof(P));
    return 0;
}

/* A custody log of n events in the format of record.c: seq, and the SHA-256
 * of the previous line (without its newline) in prev_sha256. */
static char *make_log(int n, const char *tag)
{
    ev_buf b = { 0 };
    char prev[65] = "";
    for (int i = 1; i <= n; i++) {
        char line[512];
        if (i == 1)
            snprintf(line, sizeof(line),
                     "{\"seq\":1,\"action\":\"exported\",\"actor\":\"%s\",\"prev_sha256\":null}",
                     tag);
        else
            snprintf(line, sizeof(line),
                     "{\"seq\":%d,\"action\":\"note\",\"actor\":\"%s\",\"prev_sha256\":\"%s\"}",
                     i, tag, prev);
        ev_hash__sha256_hex(prev, line, strlen(line));
        ev_buf__puts(&b, line);
        ev_buf__puts(&b, "\n");
    }
    return b.data;
}

static uint8_t *sign_prefix(size_t *len, const char *log, int n, X509 *cert, EVP_PKEY *key)
{
    size_t plen = ev_sign__prefix_len((const uint8_t *)log, strlen(log), (uint64_t)n);
    uint8_t *der = NULL;
    ev_errbuf e = { "" };
    assert_true(plen > 0);
    assert_int_equal(ev_sign__cms_sign(&der, len, (const uint8_t *)log, plen, cert, key, P.chain, NULL, &e),
                     EV_OK);
    return der;
}

typedef struct reply_opts {
    X509 *cert;
    EVP_PKEY *key;
    long when;          /* 0 = now */
} reply_opts;

static int fixed_time(TS_RESP_CTX *ctx, void *data, long *sec, long *usec)
{
    (void)ctx;
    *sec = *(const long *)data;
    *usec = 0;
    return 1;
}

/* A TSA reply made in-process with OpenSSL's responder. */
static uint8_t *make_reply(size_t *len, const uint8_t *tsq, size_t qlen, const reply_opts *o)
{
    TS_RESP_CTX *ctx = TS_RESP_CTX_new();
    ASN1_OBJECT *pol = OBJ_txt2obj("1.3.6.1.4.1.99999.1.1", 1);
    uint8_t *out = NULL;
    *len = 0;
    if (!ctx || !pol || !TS_RESP_CTX_set_signer_cert(ctx, o->cert ? o->cert : P.tsa) ||
        !TS_RESP_CTX_set_signer_key(ctx, o->key ? o->key : P.tsa_key) ||
        !TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256()) || !TS_RESP_CTX_set_def_policy(ctx, pol) ||
        !TS_RESP_CTX_add_md(ctx, EVP_sha256()) ||
        !TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256()))
        goto done;
    if (o->when)
        TS_RESP_CTX_set_time_cb(ctx, fixed_time, (void *)&o->when);
    BIO *in = BIO_new_mem_buf(tsq, (int)qlen);
    TS_RESP *r = TS_RESP_create_response(ctx, in);
    BIO_free(in);
    unsigned char *der = NULL;
    int n = r ? i2d_TS_RESP(r, &der) : -1;
    if (n > 0) {
        out = malloc((size_t)n);
        memcpy(out, der, (size_t)n);
        *len = (size_t)n;
    }
    OPENSSL_free(der);
    TS_RESP_free(r);
done:
    ASN1_OBJECT_free(pol);
    TS_RESP_CTX_free(ctx);
    ERR_clear_error();
    return out;
}

static uint8_t *stamp(size_t *len, const uint8_t *data, size_t dlen, const reply_opts *o)
{
    uint8_t *q = NULL;
    size_t ql = 0;
    ev_errbuf e = { "" };
    assert_int_equal(ev_sign__ts_query(&q, &ql, data, dlen, NULL, &e), EV_OK);
    uint8_t *r = make_reply(len, q, ql, o);
    free(q);
    assert_non_null(r);
    return r;
}

/* A token signed by a TSA certificate without the timeStamping usage, built
 * by hand (OpenSSL's responder refuses such a certificate): the TSTInfo of
 * a good reply, re-signed with CMS and ESS signingCertificateV2. */
static uint8_t *forge_noeku_reply(size_t *len, const uint8_t *data, size_t dlen)
{
    size_t good_len = 0;
    reply_opts o = { 0 };
    uint8_t *good = stamp(&good_len, data, dlen, &o);
    const unsigned char *p = good;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)good_len);
    assert_non_null(resp);
    unsigned char *tst_der = NULL;
    int tl = i2d_TS_TST_INFO(TS_RESP_get_tst_info(resp), &tst_der);
    assert_true(tl > 0);
    BIO *in = BIO_new_mem_buf(tst_der, tl);
    unsigned int fl = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
    CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, fl);
    assert_non_null(cms);
    assert_int_equal(CMS_set1_eContentType(cms, OBJ_nid2obj(NID_id_smime_ct_TSTInfo)), 1);
    assert_non_null(CMS_add1_signer(cms, P.noeku, P.noeku_key, EVP_sha256(), fl | CMS_CADES));
    assert_int_equal(CMS_final(cms, in, NULL, fl), 1);
    unsigned char *cms_der = NULL;
    int cl = i2d_CMS_ContentInfo(cms, &cms_der);
    const unsigned char *cp = cms_der;
    PKCS7 *tok = d2i_PKCS7(NULL, &cp, cl);
    assert_non_null(tok);
    TS_RESP_set_tst_info(resp, tok, TS_TST_INFO_dup(TS_RESP_get_tst_info(resp)));
    unsigned char *out = NULL;
    int n = i2d_TS_RESP(resp, &out);
    assert_true(n > 0);
    uint8_t *r = malloc((size_t)n);
    memcpy(r, out, (size_t)n);
    *len = (size_t)n;
    OPENSSL_free(out);
    OPENSSL_free(cms_der);
    OPENSSL_free(tst_der);
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    TS_RESP_free(resp);
    free(good);
    ERR_clear_error();
    return r;
}

/* ---- names, slugs, lines ------------------------------------------------------------- */

static void sign_slug_and_names(void **state)
{
    (void)state;
    char s[EV_SIGN__SLUG_MAX + 1], who[64];
    uint64_t n = 0;
    const char *ext = NULL;
    ev_sign__slug(s, "Jane Smith");
    assert_string_equal(s, "jane-smith");
    ev_sign__slug(s, "  D.C. 1234 O'Brien -- (Met) ");
    assert_string_equal(s, "d-c-1234-o-brien-met");
    ev_sign__slug(s, "\xc3\x89lodie \xe2\x80\x94 ./../etc");
    assert_string_equal(s, "lodie-etc");
    ev_sign__slug(s, "");
    assert_string_equal(s, "signer");
    ev_sign__slug(s, NULL);
    assert_string_equal(s, "signer");
    ev_sign__slug(s, "***");
    assert_string_equal(s, "signer");
    ev_sign__slug(s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbb");
    assert_true(strlen(s) <= EV_SIGN__SLUG_MAX);
    assert_true(s[strlen(s) - 1] != '-');

    assert_true(ev_sign__parse_name("signatures/0003-jane-smith.p7s", &n, who, sizeof(who), &ext));
    assert_int_equal(n, 3);
    assert_string_equal(who, "jane-smith");
    assert_string_equal(ext, "p7s");
    assert_true(ev_sign__parse_name("signatures/12345-x.tsr", &n, who, sizeof(who), &ext));
    assert_int_equal(n, 12345);
    assert_string_equal(ext, "tsr");
    static const char *const bad[] = {
        "signatures/3-jane.p7s", "signatures/00003-jane.p7s", "signatures/0000-jane.p7s",
        "signatures/0003-Jane.p7s", "signatures/0003-jane.txt", "signatures/0003-.p7s",
        "signatures/0003-jane-.p7s", "signatures/0003--jane.p7s", "signatures/0003-a--b.p7s",
        "signatures/0003-../x.p7s", "signatures/0003jane.p7s", "sig/0003-jane.p7s",
        "signatures/0003-jane.p7s.bak", "signatures/99999999999999999999999-a.p7s",
        "signatures/0003-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.p7s", "signatures/x/0003-a.p7s",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(ev_sign__parse_name(bad[i], &n, who, sizeof(who), &ext));
}

static void sign_custody_lines(void **state)
{
    (void)state;
    const uint8_t *log = (const uint8_t *)"a\nbb\nccc\n";
    bool partial = true;
    assert_int_equal(ev_sign__count_lines(log, 9, &partial), 3);
    assert_false(partial);
    assert_int_equal(ev_sign__count_lines(log, 8, &partial), 2);
    assert_true(partial);
    assert_int_equal(ev_sign__prefix_len(log, 9, 1), 2);
    assert_int_equal(ev_sign__prefix_len(log, 9, 3), 9);
    assert_int_equal(ev_sign__prefix_len(log, 9, 4), 0);
    assert_int_equal(ev_sign__prefix_len(log, 9, 0), 0);

    char *good = make_log(5, "x");
    char where[200];
    assert_false(ev_sign__custody_damage(where, sizeof(where), (uint8_t *)good, strlen(good), 5));
    /* alter line 2: line 3 no longer links to it */
    char *bad = strdup(good);
    char *l2 = strstr(bad, "\"seq\":2");
    l2 = strstr(l2, "note");
    l2[0] = 'N';
    assert_true(ev_sign__custody_damage(where, sizeof(where), (uint8_t *)bad, strlen(bad), 5));
    assert_non_null(strstr(where, "line 2 was altered"));
    /* delete line 3 */
    free(bad);
    bad = strdup(good);
    char *a = strstr(bad, "{\"seq\":3");
    char *b = strstr(bad, "{\"seq\":4");
    memmove(a, b, strlen(b) + 1);
    assert_true(ev_sign__custody_damage(where, sizeof(where), (uint8_t *)bad, strlen(bad), 4));
    assert_non_null(strstr(where, "line 3 holds event seq 4"));
    free(bad);
    /* not JSON */
    assert_true(ev_sign__custody_damage(where, sizeof(where), (const uint8_t *)"{\n", 2, 1));
    assert_non_null(strstr(where, "line 1 is not"));
    free(good);
}

/* ---- keys and certificates ----------------------------------------------------------- */

static int pass_ok(char *buf, size_t size, const char *what, void *payload)
{
    (void)what;
    const char *p = payload;
    size_t n = strlen(p);
    if (n > size)
        return -1;
    memcpy(buf, p, n);
    return (int)n;
}

static int pass_none(char *buf, size_t size, const char *what, void *payload)
{
    (void)buf;
    (void)size;
    (void)what;
    (void)payload;
    return -1;
}

static void sign_key_loading(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *enc = slurp("signer-enc.key", &len);
    EVP_PKEY *k = NULL;
    ev_errbuf e = { "" };
    assert_int_equal(ev_sign__load_key(&k, enc, len, "signer-enc.key", pass_ok,
                                       "correct horse battery staple", &e), EV_OK);
    assert_non_null(k);
    assert_int_equal(X509_check_private_key(P.signer, k), 1);
    EVP_PKEY_free(k);
    assert_int_equal(ev_sign__load_key(&k, enc, len, "signer-enc.key", pass_ok, "wrong", &e),
                     EV_EFORMAT);
    assert_null(k);
    assert_non_null(strstr(e.msg, "wrong passphrase"));
    assert_non_null(strstr(e.msg, "signer-enc.key"));
    assert_int_equal(ev_sign__load_key(&k, enc, len, "signer-enc.key", pass_none, NULL, &e),
                     EV_EFORMAT);
    assert_non_null(strstr(e.msg, "encrypted and no passphrase"));
    assert_int_equal(ev_sign__load_key(&k, enc, len, "signer-enc.key", NULL, NULL, &e),
                     EV_EFORMAT);
    assert_non_null(strstr(e.msg, "encrypted"));
    free(enc);

    /* a certificate is not a key; DER and garbage are not PEM */
    uint8_t *cert = slurp("signer.pem", &len);
    assert_int_equal(ev_sign__load_key(&k, cert, len, "signer.pem", NULL, NULL, &e), EV_EFORMAT);
    assert_non_null(strstr(e.msg, "no readable private key"));
    free(cert);
    assert_int_equal(ev_sign__load_key(&k, (const uint8_t *)"\x30\x82\x01", 3, "k.der", NULL,
                                       NULL, &e), EV_EFORMAT);
    assert_non_null(strstr(e.msg, "not a PEM"));
    const char *trunc = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n";
    assert_int_equal(ev_sign__load_key(&k, (const uint8_t *)trunc, strlen(trunc), "t.pem", NULL,
                                       NULL, &e), EV_EFORMAT);

    /* certificates: PEM bundle, damaged PEM, none */
    STACK_OF(X509) *sk = NULL;
    const char *nocert = "hello\n";
    assert_int_equal(ev_sign__load_certs(&sk, (const uint8_t *)nocert, strlen(nocert), "x", &e),
                     EV_EFORMAT);
    assert_non_null(strstr(e.msg, "no certificate"));
    uint8_t *pem = slurp("signer.pem", &len);
    pem[len / 2] = '#';
    assert_int_equal(ev_sign__load_certs(&sk, pem, len, "signer.pem", &e), EV_EFORMAT);
    assert_non_null(strstr(e.msg, "damaged"));
    free(pem);
    STACK_OF(X509_CRL) *crls = NULL;
    assert_int_equal(ev_sign__load_crls(&crls, (const uint8_t *)nocert, strlen(nocert), "x", &e),
                     EV_EFORMAT);
}

static void sign_signer_checks(void **state)
{
    (void)state;
    ev_errbuf e = { "" };
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(ev_sign__check_signer(P.signer, P.signer_key, now, "c", "k", &e), EV_OK);
    assert_int_equal(ev_sign__check_signer(P.rsa, P.rsa_key, now, "c", "k", &e), EV_OK);
    assert_int_equal(ev_sign__check_signer(P.signer, P.rsa_key, now, "c.pem", "k.pem", &e),
                     EV_EINVAL);
    assert_non_null(strstr(e.msg, "does not belong"));
    assert_int_equal(ev_sign__check_signer(P.expired, P.expired_key, now, "old.pem", "k", &e),
                     EV_EINVAL);
    assert_non_null(strstr(e.msg, "expired on 2021-01-01"));
    assert_int_equal(ev_sign__check_signer(P.expired, P.expired_key, 1580000000, "c", "k", &e),
                     EV_OK);
    assert_int_equal(ev_sign__check_signer(P.signer, P.signer_key, 946684800, "c", "k", &e),
                     EV_EINVAL);
    assert_non_null(strstr(e.msg, "not valid before"));
    /* a TSA certificate (keyUsage fine) is accepted, a CA-only one is not */
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(ed);
    assert_int_equal(ev_sign__check_signer(P.signer, ed, now, "c", "ed.pem", &e), EV_EUNSUPPORTED);
    EVP_PKEY_free(ed);
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    assert_non_null(small);
    assert_int_equal(ev_sign__check_signer(P.signer, small, now, "c", "small.pem", &e),
                     EV_EUNSUPPORTED);
    assert_non_null(strstr(e.msg, "2048"));
    EVP_PKEY_free(small);
    EVP_PKEY *k384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp521r1");
    assert_non_null(k384);
    assert_int_equal(ev_sign__check_signer(P.signer, k384, now, "c", "p521.pem", &e),
                     EV_EUNSUPPORTED);
    EVP_PKEY_free(k384);
}

/* ---- CMS ----------------------------------------------------------------------------------- */

static void sign_cms_roundtrip(void **state)
{
    (void)state;
    char *log = make_log(4, "cms");
    ev_errbuf e = { "" };
    X509 *certs[] = { P.signer, P.rsa };
    EVP_PKEY *keys[] = { P.signer_key, P.rsa_key };
    for (int k = 0; k < 2; k++) {
        size_t len = 0;
        uint8_t *der = sign_prefix(&len, log, 4, certs[k], keys[k]);
        ev_sign__cms c;
        assert_int_equal(ev_sign__cms_parse(&c, der, len, &e), EV_OK);
        assert_true(c.has_signing_time);
        assert_true(llabs((long long)(c.signing_time - (int64_t)time(NULL))) < 300);
        assert_int_equal(X509_cmp(c.signer, certs[k]), 0);
        assert_int_equal(sk_X509_num(c.certs), 2); /* signer + issuing CA */
        assert_ok(ev_sign__cms_check(&c, (const uint8_t *)log, strlen(log), &e), e);
        char *bad = strdup(log);
        bad[5] ^= 1;
        assert_int_equal(ev_sign__cms_check(&c, (const uint8_t *)bad, strlen(bad), &e),
                         EV_EFORMAT);
        assert_non_null(strstr(e.msg, "digest differs"));
        free(bad);
        ev_sign__cms_clear(&c);

        /* a flipped bit in the signature value */
        der[len - 5] ^= 0x01;
        if (ev_sign__cms_parse(&c, der, len, &e) == EV_OK) {
            assert_int_equal(ev_sign__cms_check(&c, (const uint8_t *)log, strlen(log), &e),
                             EV_EFORMAT);
            ev_sign__cms_clear(&c);
        }
        free(der);
    }
    free(log);
}

static void sign_cms_malformed(void **state)
{
    (void)state;
    char *log = make_log(2, "m");
    size_t len = 0;
    uint8_t *der = sign_prefix(&len, log, 2, P.signer, P.signer_key);
    ev_sign__cms c;
    ev_errbuf e = { "" };
    /* every truncation, and trailing garbage, are refused cleanly */
    for (size_t cut = 0; cut < len; cut += (cut < 64 ? 1 : 37)) {
        assert_int_not_equal(ev_sign__cms_parse(&c, der, cut, &e), EV_OK);
    }
    uint8_t *longer = malloc(len + 3);
    memcpy(longer, der, len);
    memcpy(longer + len, "abc", 3);
    assert_int_equal(ev_sign__cms_parse(&c, longer, len + 3, &e), EV_EFORMAT);
    assert_non_null(strstr(e.msg, "stray bytes"));
    free(longer);
    assert_int_equal(ev_sign__cms_parse(&c, (const uint8_t *)"garbage", 7, &e), EV_EFORMAT);
    assert_non_null(strstr(e.msg, "not a DER CMS"));

    /* an attached (non-detached) signature is refused */
    BIO *in = BIO_new_mem_buf(log, (int)strlen(log));
    CMS_ContentInfo *att = CMS_sign(P.signer, P.signer_key, NULL, in, CMS_BINARY);
    unsigned char *ad = NULL;
    int al = i2d_CMS_ContentInfo(att, &ad);
    assert_int_equal(ev_sign__cms_parse(&c, ad, (size_t)al, &e), EV_EFORMAT);
    assert_non_null(strstr(e.msg, "detached"));
    OPENSSL_free(ad);
    CMS_ContentInfo_free(att);
    BIO_free(in);
    /* a SHA-1 signature is refused */
    in = BIO_new_mem_buf(log, (int)strlen(log));
    unsigned int fl = CMS_BINARY | CMS_DETACHED | CMS_PARTIAL;
    CMS_ContentInfo *s1 = CMS_sign(NULL, NULL, NULL, NULL, fl);
    CMS_add1_signer(s1, P.signer, P.signer_key, EVP_sha1(), fl);
    CMS_final(s1, in, NULL, fl);
    ad = NULL;
    al = i2d_CMS_ContentInfo(s1, &ad);
    assert_int_equal(ev_sign__cms_parse(&c, ad, (size_t)al, &e), EV_EUNSUPPORTED);
    assert_non_null(strstr(e.msg, "SHA-256"));
    OPENSSL_free(ad);
    CMS_ContentInfo_free(s1);
    BIO_free(in);
    ERR_clear_error();
    free(der);
    free(log);
}

/* ---- chains -------------------------------------------------------------------------------- */

static void sign_chain_checks(void **state)
{
    (void)state;
    ev_sign__chain ch;
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(ev_sign__verify_chain(&ch, P.signer, P.chain, P.root, NULL, now, false, 0),
                     EV_OK);
    assert_true(ch.ok);
    /* the issuing CA is needed: without it the signer does not chain */
    ev_sign__verify_chain(&ch, P.signer, NULL, P.root, NULL, now, false, 0);
    assert_false(ch.ok);
    assert_string_equal(ch.code, "signer-untrusted");
    ev_sign__verify_chain(&ch, P.signer, P.chain, P.other_root, NULL, now, false, 0);
    assert_false(ch.ok);
    assert_string_equal(ch.code, "signer-untrusted");
    ev_sign__verify_chain(&ch, P.other, NULL, P.root, NULL, now, false, 0);
    assert_false(ch.ok);
    assert_string_equal(ch.code, "signer-untrusted");
    assert_non_null(strstr(ch.msg, "Mallory"));
    /* expired now, valid in 2020 */
    ev_sign__verify_chain(&ch, P.expired, P.chain, P.root, NULL, now, false, 0);
    assert_false(ch.ok);
    assert_string_equal(ch.code, "signer-expired");
    assert_non_null(strstr(ch.msg, "Old Signer"));
    /* revoked (CRL) */
    ev_sign__verify_chain(&ch, P.signer, P.chain, P.root, P.crl, now, false, 0);
    assert_true(ch.ok);
    ev_sign__verify_chain(&ch, P.revoked, P.chain, P.root, P.crl, now, false, 0);
    assert_false(ch.ok);
    assert_string_equal(ch.code, "signer-revoked");
    /* revoked later than a timestamp-proven time: still good, with a note */
    ev_sign__verify_chain(&ch, P.revoked, P.chain, P.root, P.crl, now - 3600, true, 0);
    if (!ch.ok)
        fail_msg("%s: %s", ch.code, ch.msg);
    assert_true(ch.revoked_after);
    /* but not when that time is only claimed */
    ev_sign__verify_chain(&ch, P.revoked, P.chain, P.root, P.crl, now - 3600, false, 0);
    assert_false(ch.ok);
    /* a CRL that does not cover the issuer */
    ev_sign__verify_chain(&ch, P.other, NULL, P.other_root, P.crl, now, false, 0);
    assert_false(ch.ok);
    assert_string_equal(ch.code, "crl-problem");
    /* a TSA chain is checked for the timestamping purpose */
    ev_sign__verify_chain(&ch, P.tsa, NULL, P.tsa_root, NULL, now, false, X509_PURPOSE_TIMESTAMP_SIGN);
    assert_true(ch.ok);
    ev_sign__verify_chain(&ch, P.noeku, NULL, P.tsa_root, NULL, now, false, X509_PURPOSE_TIMESTAMP_SIGN);
    assert_false(ch.ok);
    assert_string_equal(ch.code, "tsa-eku");
}

/* ---- timestamps ----------------------------------------------------------------------------- */

static void sign_ts_query_reply(void **state)
{
    (void)state;
    const uint8_t data[] = "the bytes of a signature";
    ev_errbuf e = { "" };
    uint8_t *q = NULL;
    size_t ql = 0, rl = 0;
    assert_int_equal(ev_sign__ts_query(&q, &ql, data, sizeof(data), "1.3.6.1.4.1.99999.1.1", &e),
                     EV_OK);
    free(q);
    assert_int_equal(ev_sign__ts_query(&q, &ql, data, sizeof(data), "not an oid", &e), EV_EINVAL);
    assert_null(q);
    assert_int_equal(ev_sign__ts_query(&q, &ql, data, sizeof(data), NULL, &e), EV_OK);
    reply_opts o = { NULL, NULL, 1700000000 };
    uint8_t *r = make_reply(&rl, q, ql, &o);
    assert_non_null(r);
    ev_sign__ts t;
    assert_int_equal(ev_sign__ts_parse(&t, r, rl, &e), EV_OK);
    assert_int_equal(t.status, 0);
    assert_true(t.has_time);
    assert_int_equal(t.gen_time, 1700000000);
    assert_non_null(t.tsa_cert);
    assert_true(ev_sign__ts_imprint_matches(&t, data, sizeof(data)));
    assert_false(ev_sign__ts_imprint_matches(&t, data, sizeof(data) - 1));
    bool match = false;
    assert_int_equal(ev_sign__ts_nonce_matches(&t, q, ql, &match, &e), EV_OK);
    assert_true(match);
    assert_int_equal(ev_sign__ts_check_reply(&t, data, sizeof(data), q, ql, &e), EV_OK);
    assert_int_equal(ev_sign__ts_check_reply(&t, data, 3, q, ql, &e), EV_EFORMAT);
    assert_non_null(strstr(e.msg, "other data"));

    /* the reply to another query for the same data: nonce mismatch */
    uint8_t *q2 = NULL;
    size_t ql2 = 0;
    assert_int_equal(ev_sign__ts_query(&q2, &ql2, data, sizeof(data), NULL, &e), EV_OK);
    assert_int_equal(ev_sign__ts_check_reply(&t, data, sizeof(data), q2, ql2, &e), EV_EFORMAT);
    assert_non_null(strstr(e.msg, "nonce"));
    free(q2);

    /* trust: the TSA root, not the signer root; at the token time (2023) */
    ev_sign__chain ch;
    assert_int_equal(ev_sign__ts_verify(&ch, &t, P.tsa_root), EV_OK);
    if (!ch.ok)
        fail_msg("%s: %s", ch.code, ch.msg);
    ev_sign__ts_clear(&t);
    free(r);
    /* a token dated 2017, before the TSA certificate's validity (2020) */
    o.when = 1500000000;
    r = make_reply(&rl, q, ql, &o);
    assert_int_equal(ev_sign__ts_parse(&t, r, rl, &e), EV_OK);
    assert_int_equal(ev_sign__ts_verify(&ch, &t, P.tsa_root), EV_OK);
    assert_false(ch.ok);
    assert_string_equal(ch.code, "tsa-not-yet-valid");
    ev_sign__ts_clear(&t);
    free(r);

    o.when = 0;
    r = make_reply(&rl, q, ql, &o);
    assert_int_equal(ev_sign__ts_parse(&t, r, rl, &e), EV_OK);
    assert_int_equal(ev_sign__ts_verify(&ch, &t, P.tsa_root), EV_OK);
    assert_true(ch.ok);
    assert_int_equal(ev_sign__ts_verify(&ch, &t, P.root), EV_OK);
    assert_false(ch.ok);
    assert_string_equal(ch.code, "tsa-untrusted");
    ev_sign__ts_clear(&t);

    /* truncated and garbage replies */
    for (size_t cut = 0; cut < rl; cut += (cut < 64 ? 1 : 29)) {
        if (ev_sign__ts_parse(&t, r, cut, &e) == EV_OK)
            fail_msg("truncated reply of %zu bytes parsed", cut);
    }
    assert_int_equal(ev_sign__ts_parse(&t, (const uint8_t *)"\x30\x03\x02\x01", 4, &e), EV_EFORMAT);
    assert_non_null(strstr(e.msg, "malformed or truncated"));
    free(r);
    free(q);

    /* a refusal parses and says why */
    static const uint8_t reject[] = { 0x30, 0x09, 0x30, 0x07, 0x02, 0x01, 0x02, 0x03,
                                      0x02, 0x07, 0x80 };
    assert_int_equal(ev_sign__ts_parse(&t, reject, 11, &e), EV_OK);
    assert_int_equal(t.status, 2);
    assert_int_equal(ev_sign__ts_check_reply(&t, data, sizeof(data), NULL, 0, &e), EV_ERROR);
    assert_non_null(strstr(e.msg, "rejection"));
    assert_non_null(strstr(e.msg, "badAlg"));
    ev_sign__ts_clear(&t);
}

static void sign_ts_eku_required(void **state)
{
    (void)state;
    const uint8_t data[] = "signature bytes";
    size_t rl = 0;
    uint8_t *r = forge_noeku_reply(&rl, data, sizeof(data));
    ev_sign__ts t;
    ev_errbuf e = { "" };
    assert_int_equal(ev_sign__ts_parse(&t, r, rl, &e), EV_OK);
    assert_true(ev_sign__ts_imprint_matches(&t, data, sizeof(data)));
    assert_int_equal(ev_sign__ts_check_signature(&t, &e), EV_OK);
    ev_sign__chain ch;
    assert_int_equal(ev_sign__ts_verify(&ch, &t, P.tsa_root), EV_OK);
    assert_false(ch.ok);
    assert_string_equal(ch.code, "tsa-eku");
    assert_non_null(strstr(ch.msg, "Bad TSA"));
    ev_sign__ts_clear(&t);
    free(r);
}

/* ---- HTTP against a local server thread ------------------------------------------------------ */

typedef struct srv {
    int fd, port;
    const char *mode;
    volatile int stop;
    pthread_t th;
} srv;

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

static void respond(int fd, int code, const char *ctype, const void *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.0 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n", code,
                     ctype, len);
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

static void *srv_main(void *arg)
{
    srv *s = arg;
    struct pollfd pf = { s->fd, POLLIN, 0 };
    while (!s->stop && poll(&pf, 1, 100) <= 0) {
    }
    if (s->stop)
        return NULL;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    /* read the request: headers, then Content-Length bytes */
    char buf[16384];
    size_t got = 0, need = 0;
    char *body = NULL;
    while (got < sizeof(buf)) {
        ssize_t r = recv(c, buf + got, sizeof(buf) - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
        char *end = memmem(buf, got, "\r\n\r\n", 4);
        if (end && !body) {
            body = end + 4;
            char *cl = strcasestr(buf, "content-length:");
            need = cl ? strtoul(cl + 15, NULL, 10) : 0;
        }
        if (body && (size_t)(buf + got - body) >= need)
            break;
    }
    if (strcmp(s->mode, "hang") == 0) {
        while (!s->stop)
            usleep(20000);
    } else if (strcmp(s->mode, "garbage") == 0) {
        respond(c, 200, "application/timestamp-reply", "\x30\x82\xff\xff garbage", 12);
    } else if (strcmp(s->mode, "html") == 0) {
        respond(c, 200, "text/html", "<html></html>", 13);
    } else if (strcmp(s->mode, "500") == 0) {
        respond(c, 500, "text/plain", "oops", 4);
    } else if (strcmp(s->mode, "good") == 0 && body) {
        size_t rl = 0;
        reply_opts o = { 0 };
        uint8_t *r = make_reply(&rl, (const uint8_t *)body, need, &o);
        respond(c, 200, "application/timestamp-reply", r, rl);
        free(r);
    }
    close(c);
    return NULL;
}

static void srv_start(srv *s, const char *mode)
{
    memset(s, 0, sizeof(*s));
    s->mode = mode;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 4), 0);
    socklen_t al = sizeof(a);
    getsockname(s->fd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(srv *s)
{
    s->stop = 1;
    pthread_join(s->th, NULL);
    close(s->fd);
}

static int http_try(const char *mode, int timeout, uint8_t **r, size_t *rl, ev_errbuf *e,
                    double *secs)
{
    srv s;
    srv_start(&s, mode);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/tsa", s.port);
    uint8_t *q = NULL;
    size_t ql = 0;
    assert_int_equal(ev_sign__ts_query(&q, &ql, (const uint8_t *)"x", 1, NULL, e), EV_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = ev_sign__ts_http(r, rl, url, "", q, ql, timeout, e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    srv_stop(&s);
    free(q);
    return rc;
}

static void sign_http_tsa(void **state)
{
    (void)state;
    ev_errbuf e = { "" };
    uint8_t *r = NULL;
    size_t rl = 0;
    double secs = 0;
    assert_int_equal(http_try("good", 5, &r, &rl, &e, &secs), EV_OK);
    ev_sign__ts t;
    assert_int_equal(ev_sign__ts_parse(&t, r, rl, &e), EV_OK);
    assert_true(ev_sign__ts_imprint_matches(&t, (const uint8_t *)"x", 1));
    ev_sign__ts_clear(&t);
    free(r);

    assert_int_equal(http_try("hang", 1, &r, &rl, &e, &secs), EV_EIO);
    assert_null(r);
    assert_non_null(strstr(e.msg, "within 1 s"));
    assert_true(secs < 4.0);

    assert_int_equal(http_try("html", 5, &r, &rl, &e, &secs), EV_EFORMAT);
    assert_non_null(strstr(e.msg, "did not answer with a timestamp reply"));
    assert_int_equal(http_try("500", 5, &r, &rl, &e, &secs), EV_EIO);
    assert_non_null(strstr(e.msg, "HTTP error"));
    /* garbage with the right type: the transfer may fail or deliver bytes
     * that do not parse; either way no reply is accepted */
    int rc = http_try("garbage", 2, &r, &rl, &e, &secs);
    if (rc == EV_OK) {
        assert_int_equal(ev_sign__ts_parse(&t, r, rl, &e), EV_EFORMAT);
        free(r);
    }

    /* nobody listening */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    socklen_t al = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(a.sin_port));
    assert_int_equal(ev_sign__ts_http(&r, &rl, url, "", (const uint8_t *)"\x30\x00", 2, 2, &e),
                     EV_EIO);
    assert_int_equal(ev_sign__ts_http(&r, &rl, "https://127.0.0.1:1/", "", (const uint8_t *)"0", 1,
                                      2, &e), EV_EUNSUPPORTED);
    assert_int_equal(ev_sign__ts_http(&r, &rl, "not a url", "", (const uint8_t *)"0", 1, 2, &e),
                     EV_EINVAL);
}

/* ---- verifying a set of signature files ------------------------------------------------------ */

typedef struct fileset {
    ev_sign__file f[8];
    uint8_t *own[8];
    size_t n;
} fileset;

static void fs_add(fileset *fs, const char *path, uint8_t *data, size_t len)
{
    fs->f[fs->n].path = path;
    fs->f[fs->n].data = data;
    fs->f[fs->n].len = len;
    fs->own[fs->n] = data;
    fs->n++;
}

static void fs_free(fileset *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        free(fs->own[i]);
    fs->n = 0;
}

static const ev_sig_result *run_set(ev_sig_report **rep, const char *log, fileset *fs,
                                    const ev_sign__anchors *a, size_t want)
{
    ev_errbuf e = { "" };
    assert_int_equal(ev_sign__verify_set(rep, (const uint8_t *)log, log ? strlen(log) : 0, fs->f,
                                         fs->n, a, &e), EV_OK);
    return ev_sig_report_result(*rep, want);
}

static bool has_code(const ev_sig_result *r, const char *code)
{
    for (size_t i = 0; i < r->problem_count; i++)
        if (strcmp(r->problems[i].code, code) == 0)
            return true;
    return false;
}

static const char *msg_of(const ev_sig_result *r, const char *code)
{
    for (size_t i = 0; i < r->problem_count; i++)
        if (strcmp(r->problems[i].code, code) == 0)
            return r->problems[i].message;
    return "";
}

static void sign_verify_valid_and_unverified(void **state)
{
    (void)state;
    char *log = make_log(5, "v");
    fileset fs = { 0 };
    size_t l3 = 0, t3 = 0;
    uint8_t *s3 = sign_prefix(&l3, log, 3, P.signer, P.signer_key);
    reply_opts o = { 0 };
    uint8_t *tok = stamp(&t3, s3, l3, &o);
    fs_add(&fs, "signatures/0003-jane-smith.p7s", s3, l3);
    fs_add(&fs, "signatures/0003-jane-smith.tsr", tok, t3);
    size_t l5 = 0;
    uint8_t *s5 = sign_prefix(&l5, log, 5, P.rsa, P.rsa_key);
    fs_add(&fs, "signatures/0005-robert-roe.p7s", s5, l5);

    ev_sign__anchors a = { P.root, P.tsa_root, P.crl, (int64_t)time(NULL) };
    ev_sig_report *rep = NULL;
    const ev_sig_result *r = run_set(&rep, log, &fs, &a, 0);
    assert_int_equal(ev_sig_report_count(rep), 2); /* the token belongs to the first */
    assert_true(ev_sig_report_trusted(rep));
    assert_string_equal(r->path, "signatures/0003-jane-smith.p7s");
    assert_string_equal(r->token_path, "signatures/0003-jane-smith.tsr");
    assert_int_equal(r->events, 3);
    assert_int_equal(r->verdict, EV_SIG_VALID);
    assert_true(r->tsa_verified);
    assert_non_null(strstr(r->signer, "CN=Jane Smith"));
    assert_non_null(strstr(r->tsa, "CN=Test TSA"));
    assert_non_null(r->signing_time);
    assert_non_null(r->tsa_time);
    for (size_t i = 0; i < r->problem_count; i++)
        assert_int_not_equal(r->problems[i].severity, EV_SEVERITY_ERROR);
    r = ev_sig_report_result(rep, 1);
    assert_int_equal(r->verdict, EV_SIG_VALID);
    assert_null(r->token_path);
    assert_true(has_code(r, "token-missing"));
    assert_int_equal(ev_sig_report_verdict(rep), EV_SIG_VALID);
    ev_sig_report_free(rep);

    /* no trust anchors: integrity only, "unverified" */
    ev_sign__anchors none = { NULL, NULL, NULL, (int64_t)time(NULL) };
    r = run_set(&rep, log, &fs, &none, 0);
    assert_int_equal(r->verdict, EV_SIG_UNVERIFIED);
    assert_false(r->tsa_verified);
    assert_false(ev_sig_report_trusted(rep));
    assert_int_equal(ev_sig_report_verdict(rep), EV_SIG_UNVERIFIED);
    ev_sig_report_free(rep);

    /* the log grew after signing: still valid */
    char *longer = make_log(7, "v");
    r = run_set(&rep, longer, &fs, &a, 0);
    assert_int_equal(r->verdict, EV_SIG_VALID);
    ev_sig_report_free(rep);
    free(longer);

    /* wrong TSA root */
    ev_sign__anchors wrong_tsa = { P.root, P.other_root, NULL, (int64_t)time(NULL) };
    r = run_set(&rep, log, &fs, &wrong_tsa, 0);
    assert_int_equal(r->verdict, EV_SIG_INVALID);
    assert_true(has_code(r, "tsa-untrusted"));
    assert_false(r->tsa_verified);
    ev_sig_report_free(rep);

    /* untrusted CA */
    ev_sign__anchors other = { P.other_root, P.tsa_root, NULL, (int64_t)time(NULL) };
    r = run_set(&rep, log, &fs, &other, 0);
    assert_int_equal(r->verdict, EV_SIG_INVALID);
    assert_true(has_code(r, "signer-untrusted"));
    ev_sig_report_free(rep);
    fs_free(&fs);
    free(log);
}

static void sign_verify_custody_tampering(void **state)
{
    (void)state;
    char *log = make_log(6, "t");
    fileset fs = { 0 };
    size_t l2 = 0, l5 = 0;
    fs_add(&fs, "signatures/0002-jane-smith.p7s", sign_prefix(&l2, log, 2, P.signer, P.signer_key), l2);
    fs.f[0].len = l2;
    fs_add(&fs, "signatures/0005-jane-smith.p7s", sign_prefix(&l5, log, 5, P.signer, P.signer_key), l5);
    fs.f[1].len = l5;
    ev_sign__anchors a = { P.root, NULL, NULL, (int64_t)time(NULL) };
    ev_sig_report *rep = NULL;

    /* an altered line 4: the second signature fails, naming line 4 */
    char *bad = strdup(log);
    char *p = strstr(strstr(bad, "\"seq\":4"), "note");
    p[0] = 'n';
    p[1] = 'O';
    const ev_sig_result *r = run_set(&rep, bad, &fs, &a, 1);
    assert_int_equal(ev_sig_report_result(rep, 0)->verdict, EV_SIG_VALID);
    assert_int_equal(r->verdict, EV_SIG_INVALID);
    assert_true(has_code(r, "custody-mismatch"));
    assert_non_null(strstr(msg_of(r, "custody-mismatch"), "line 4 was altered"));
    ev_sig_report_free(rep);
    free(bad);

    /* the last signed line altered, with no later line to link to it */
    char *five = make_log(5, "t");
    p = strstr(strstr(five, "\"seq\":5"), "note");
    p[0] = 'N';
    r = run_set(&rep, five, &fs, &a, 1);
    assert_true(has_code(r, "custody-mismatch"));
    assert_non_null(strstr(msg_of(r, "custody-mismatch"), "line 5 was altered"));
    ev_sig_report_free(rep);
    free(five);

    /* line 2 deleted: both fail; line 2 now holds seq 3 */
    bad = strdup(log);
    char *a2 = strstr(bad, "{\"seq\":2");
    char *a3 = strstr(bad, "{\"seq\":3");
    memmove(a2, a3, strlen(a3) + 1);
    r = run_set(&rep, bad, &fs, &a, 0);
    assert_true(has_code(r, "custody-mismatch"));
    assert_non_null(strstr(msg_of(r, "custody-mismatch"), "line 2 holds event seq 3"));
    r = ev_sig_report_result(rep, 1);
    assert_true(has_code(r, "custody-mismatch"));
    ev_sig_report_free(rep);
    free(bad);

    /* lines 3 and 4 swapped */
    bad = strdup(log);
    a3 = strstr(bad, "{\"seq\":3");
    char *a4 = strstr(bad, "{\"seq\":4");
    char *a5 = strstr(bad, "{\"seq\":5");
    size_t n3 = (size_t)(a4 - a3), n4 = (size_t)(a5 - a4);
    char *tmp = malloc(n3 + n4);
    memcpy(tmp, a4, n4);
    memcpy(tmp + n4, a3, n3);
    memcpy(a3, tmp, n3 + n4);
    free(tmp);
    r = run_set(&rep, bad, &fs, &a, 1);
    assert_int_equal(ev_sig_report_result(rep, 0)->verdict, EV_SIG_VALID);
    assert_non_null(strstr(msg_of(r, "custody-mismatch"), "line 3 holds event seq 4"));
    ev_sig_report_free(rep);
    free(bad);

    /* the log cut back to 3 events */
    char *three = make_log(3, "t");
    r = run_set(&rep, three, &fs, &a, 1);
    assert_true(has_code(r, "custody-short"));
    assert_non_null(strstr(msg_of(r, "custody-short"), "has 3 events"));
    ev_sig_report_free(rep);
    free(three);

    /* no log at all */
    r = run_set(&rep, NULL, &fs, &a, 0);
    assert_true(has_code(r, "custody-missing"));
    assert_int_equal(r->verdict, EV_SIG_INVALID);
    ev_sig_report_free(rep);
    fs_free(&fs);
    free(log);
}

static void sign_verify_swaps_and_bad_files(void **state)
{
    (void)state;
    char *log = make_log(5, "s");
    ev_sign__anchors a = { P.root, P.tsa_root, P.crl, (int64_t)time(NULL) };
    ev_sig_report *rep = NULL;
    size_t l2 = 0, l4 = 0, t2 = 0, t4 = 0;
    uint8_t *s2 = sign_prefix(&l2, log, 2, P.signer, P.signer_key);
    uint8_t *s4 = sign_prefix(&l4, log, 4, P.rsa, P.rsa_key);
    reply_opts o = { 0 };
    uint8_t *k2 = stamp(&t2, s2, l2, &o);
    uint8_t *k4 = stamp(&t4, s4, l4, &o);

    /* the 0002 signature renamed to 0004 */
    fileset fs = { 0 };
    fs_add(&fs, "signatures/0004-jane-smith.p7s", s2, l2);
    const ev_sig_result *r = run_set(&rep, log, &fs, &a, 0);
    assert_true(has_code(r, "signature-misnamed"));
    assert_non_null(strstr(msg_of(r, "signature-misnamed"), "events 1-2, not 1-4"));
    ev_sig_report_free(rep);

    /* Robert's signature put under Jane's name */
    fs.n = 0;
    fs_add(&fs, "signatures/0004-jane-smith.p7s", s4, l4);
    r = run_set(&rep, log, &fs, &a, 0);
    assert_true(has_code(r, "signer-mismatch"));
    assert_non_null(strstr(msg_of(r, "signer-mismatch"), "Robert Roe"));
    ev_sig_report_free(rep);

    /* tokens swapped between two signatures */
    fs.n = 0;
    fs_add(&fs, "signatures/0002-jane-smith.p7s", s2, l2);
    fs_add(&fs, "signatures/0002-jane-smith.tsr", k4, t4);
    fs_add(&fs, "signatures/0004-robert-roe.p7s", s4, l4);
    fs_add(&fs, "signatures/0004-robert-roe.tsr", k2, t2);
    r = run_set(&rep, log, &fs, &a, 0);
    assert_int_equal(ev_sig_report_count(rep), 2);
    assert_true(has_code(r, "token-imprint"));
    assert_non_null(strstr(msg_of(r, "token-imprint"), "token for signatures/0004-robert-roe.p7s"));
    assert_true(has_code(ev_sig_report_result(rep, 1), "token-imprint"));
    ev_sig_report_free(rep);

    /* a token for other data, a stray token, an odd file, a damaged signature */
    fs.n = 0;
    size_t to = 0;
    uint8_t *other = stamp(&to, (const uint8_t *)"other", 5, &o);
    uint8_t junk[] = "\x30\x82\x05\x00 not DER";
    fs_add(&fs, "signatures/0002-jane-smith.p7s", s2, l2);
    fs_add(&fs, "signatures/0002-jane-smith.tsr", other, to);
    fs_add(&fs, "signatures/0003-nobody.tsr", k2, t2);
    fs_add(&fs, "signatures/README.txt", (uint8_t *)"hello", 5);
    fs_add(&fs, "signatures/0004-robert-roe.p7s", junk, sizeof(junk));
    ev_errbuf e = { "" };
    assert_int_equal(ev_sign__verify_set(&rep, (const uint8_t *)log, strlen(log), fs.f, fs.n, &a,
                                         &e), EV_OK);
    assert_int_equal(ev_sig_report_count(rep), 4);
    r = ev_sig_report_result(rep, 0);
    assert_string_equal(r->path, "signatures/0002-jane-smith.p7s");
    assert_true(has_code(r, "token-imprint"));
    assert_non_null(strstr(msg_of(r, "token-imprint"), "other data"));
    r = ev_sig_report_result(rep, 1);
    assert_string_equal(r->path, "signatures/0003-nobody.tsr");
    assert_true(has_code(r, "token-orphan"));
    assert_int_equal(r->verdict, EV_SIG_INVALID);
    r = ev_sig_report_result(rep, 2);
    assert_true(has_code(r, "signature-malformed"));
    assert_int_equal(r->verdict, EV_SIG_UNREADABLE);
    r = ev_sig_report_result(rep, 3);
    assert_string_equal(r->path, "signatures/README.txt");
    assert_true(has_code(r, "signature-name"));
    assert_int_equal(r->verdict, EV_SIG_UNVERIFIED);
    assert_int_equal(ev_sig_report_verdict(rep), EV_SIG_UNREADABLE);
    ev_sig_report_free(rep);

    /* a truncated token */
    fs.n = 0;
    fs_add(&fs, "signatures/0002-jane-smith.p7s", s2, l2);
    fs_add(&fs, "signatures/0002-jane-smith.tsr", k2, t2 / 2);
    assert_int_equal(ev_sign__verify_set(&rep, (const uint8_t *)log, strlen(log), fs.f, fs.n, &a,
                                         &e), EV_OK);
    r = ev_sig_report_result(rep, 0);
    assert_true(has_code(r, "token-malformed"));
    assert_int_equal(r->verdict, EV_SIG_INVALID);
    ev_sig_report_free(rep);
    free(s2);
    free(s4);
    free(k2);
    free(k4);
    free(other);
    free(log);
}

/* A signature of a bundle with a disclosure root carries the SHA-256 of the
 * root's commitment as a signed attribute; a full verify compares it with the
 * record's (anchors.commit). One that commits to another tree is an error;
 * one with no attribute (signed by another tool) and a record without a root
 * are not. */
static void sign_verify_disclosure_commitment(void **state)
{
    (void)state;
    char *log = make_log(2, "c");
    size_t plen = ev_sign__prefix_len((const uint8_t *)log, strlen(log), 2);
    uint8_t mine[32], other[32];
    memset(mine, 0x11, sizeof(mine));
    memset(other, 0x22, sizeof(other));
    ev_errbuf e = { "" };
    uint8_t *sig = NULL, *plain = NULL;
    size_t sl = 0, pl = 0;
    assert_int_equal(ev_sign__cms_sign(&sig, &sl, (const uint8_t *)log, plen, P.signer,
                                       P.signer_key, P.chain, mine, &e), EV_OK);
    assert_int_equal(ev_sign__cms_sign(&plain, &pl, (const uint8_t *)log, plen, P.signer,
                                       P.signer_key, P.chain, NULL, &e), EV_OK);
    fileset fs = { 0 };
    fs_add(&fs, "signatures/0002-jane-smith.p7s", sig, sl);
    ev_sig_report *rep = NULL;
    ev_sign__anchors a = { P.root, P.tsa_root, P.crl, (int64_t)time(NULL), mine };
    const ev_sig_result *r = run_set(&rep, log, &fs, &a, 0);
    assert_false(has_code(r, "disclosure-commitment-mismatch"));
    assert_int_equal(r->verdict, EV_SIG_VALID);
    ev_sig_report_free(rep);

    a.commit = other;
    r = run_set(&rep, log, &fs, &a, 0);
    assert_true(has_code(r, "disclosure-commitment-mismatch"));
    assert_non_null(strstr(msg_of(r, "disclosure-commitment-mismatch"), "0002-jane-smith.p7s"));
    assert_int_equal(r->verdict, EV_SIG_INVALID);
    ev_sig_report_free(rep);

    a.commit = NULL; /* a record without a root */
    r = run_set(&rep, log, &fs, &a, 0);
    assert_int_equal(r->verdict, EV_SIG_VALID);
    ev_sig_report_free(rep);

    fs.n = 0;
    free(sig);
    fs_add(&fs, "signatures/0002-jane-smith.p7s", plain, pl);
    a.commit = other; /* no attribute: nothing to compare */
    r = run_set(&rep, log, &fs, &a, 0);
    assert_false(has_code(r, "disclosure-commitment-mismatch"));
    assert_int_equal(r->verdict, EV_SIG_VALID);
    ev_sig_report_free(rep);
    fs_free(&fs);
    free(log);
}

static void sign_verify_expired_and_revoked(void **state)
{
    (void)state;
    char *log = make_log(3, "x");
    ev_sign__anchors a = { P.root, P.tsa_root, P.crl, (int64_t)time(NULL) };
    ev_sig_report *rep = NULL;
    fileset fs = { 0 };
    size_t l = 0, tl = 0;
    /* signed now with a certificate that expired in 2021 */
    uint8_t *s = sign_prefix(&l, log, 3, P.expired, P.expired_key);
    fs_add(&fs, "signatures/0003-old-signer.p7s", s, l);
    const ev_sig_result *r = run_set(&rep, log, &fs, &a, 0);
    assert_int_equal(r->verdict, EV_SIG_INVALID);
    assert_true(has_code(r, "signer-expired"));
    assert_true(has_code(r, "signing-time-invalid"));
    ev_sig_report_free(rep);
    fs_free(&fs);

    /* a revoked signer, even with a good token (revoked before signing) */
    s = sign_prefix(&l, log, 3, P.revoked, P.revoked_key);
    reply_opts o = { 0 };
    uint8_t *t = stamp(&tl, s, l, &o);
    fs_add(&fs, "signatures/0003-revoked-signer.p7s", s, l);
    fs_add(&fs, "signatures/0003-revoked-signer.tsr", t, tl);
    r = run_set(&rep, log, &fs, &a, 0);
    assert_int_equal(r->verdict, EV_SIG_INVALID);
    assert_true(has_code(r, "signer-revoked"));
    assert_true(r->tsa_verified);
    ev_sig_report_free(rep);
    /* without the CRL the revocation is not known */
    ev_sign__anchors nocrl = { P.root, P.tsa_root, NULL, (int64_t)time(NULL) };
    r = run_set(&rep, log, &fs, &nocrl, 0);
    assert_int_equal(r->verdict, EV_SIG_VALID);
    ev_sig_report_free(rep);
    fs_free(&fs);
    free(log);
}


/* Many failing signatures over a long log: the whole-log searches stop after
 * a budget, so the check stays fast; later ones say "not located". */
static void sign_verify_many_bad_signatures(void **state)
{
    (void)state;
    char *log = make_log(3000, "many");
    size_t l = 0;
    uint8_t *s5 = sign_prefix(&l, log, 5, P.signer, P.signer_key);
    enum { NSIG = 150 };
    ev_sign__file *files = calloc(NSIG, sizeof(*files));
    char (*names)[64] = calloc(NSIG, 64);
    for (int i = 0; i < NSIG; i++) {
        snprintf(names[i], 64, "signatures/%04d-jane-smith.p7s", 1000 + i);
        files[i].path = names[i];
        files[i].data = s5;
        files[i].len = l;
    }
    ev_sign__anchors a = { NULL, NULL, NULL, (int64_t)time(NULL) };
    ev_sig_report *rep = NULL;
    ev_errbuf e = { "" };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(ev_sign__verify_set(&rep, (const uint8_t *)log, strlen(log), files, NSIG, &a, &e),
                     EV_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs < 20.0);
    assert_int_equal(ev_sig_report_count(rep), NSIG);
    const ev_sig_result *first = ev_sig_report_result(rep, 0);
    assert_true(has_code(first, "signature-misnamed"));
    const ev_sig_result *last = ev_sig_report_result(rep, NSIG - 1);
    assert_int_equal(last->verdict, EV_SIG_INVALID);
    assert_non_null(strstr(msg_of(last, "custody-mismatch"), "not located"));
    ev_sig_report_free(rep);
    free(names);
    free(files);
    free(s5);
    free(log);
}

/* The public handles: options, versions, loading from files, misuse. */
static void sign_public_api_basics(void **state)
{
    (void)state;
    ev_signer_options so;
    assert_int_equal(ev_signer_options_init(&so, 99), EV_EVERSION);
    assert_int_equal(ev_signer_options_init(NULL, EV_SIGNER_OPTIONS_VERSION), EV_EINVAL);
    assert_int_equal(ev_signer_options_init(&so, EV_SIGNER_OPTIONS_VERSION), EV_OK);
    ev_signer *s = NULL;
    so.version = 7;
    assert_int_equal(ev_signer_new(&s, &so), EV_EVERSION);
    assert_null(s);
    assert_int_equal(ev_signer_new(NULL, NULL), EV_EINVAL);
    so.version = EV_SIGNER_OPTIONS_VERSION;
    so.tsa_timeout = 100000;
    assert_int_equal(ev_signer_new(&s, &so), EV_EINVAL);
    so.tsa_timeout = 0;
    so.passphrase_cb = pass_ok;
    so.passphrase_payload = "correct horse battery staple";
    assert_int_equal(ev_signer_new(&s, &so), EV_OK);
    assert_null(ev_signer_info(s));
    const uint8_t *q = NULL;
    size_t ql = 0;
    assert_int_equal(ev_signer_tsa_query(s, &q, &ql), EV_ENOTFOUND);

    char *key = pki_path("signer-enc.key"), *cert = pki_path("signer.pem");
    char *chain = pki_path("chain.pem"), *rsa = pki_path("signer-rsa.key");
    char *none = pki_path("no-such-file.pem");
    assert_int_equal(ev_signer_load(s, none, cert, NULL), EV_ENOTFOUND);
    assert_non_null(strstr(ev_signer_last_error(s), "no-such-file.pem"));
    assert_int_equal(ev_signer_load(s, rsa, cert, chain), EV_EINVAL);
    assert_non_null(strstr(ev_signer_last_error(s), "does not belong"));
    assert_int_equal(ev_signer_load(s, key, cert, none), EV_ENOTFOUND);
    assert_int_equal(ev_signer_load(s, key, cert, chain), EV_OK);
    assert_int_equal(ev_signer_load(s, NULL, cert, chain), EV_EINVAL);
    ev_signer_free(s);
    ev_signer_free(NULL);

    ev_trust *t = NULL;
    ev_trust_options to;
    assert_int_equal(ev_trust_options_init(&to, EV_TRUST_OPTIONS_VERSION), EV_OK);
    to.version = 3;
    assert_int_equal(ev_trust_new(&t, &to), EV_EVERSION);
    assert_int_equal(ev_trust_new(&t, NULL), EV_OK);
    assert_int_equal(ev_trust_add_ca(t, none), EV_ENOTFOUND);
    assert_int_equal(ev_trust_add_ca(t, key), EV_EFORMAT);
    assert_int_equal(ev_trust_add_crl(t, cert), EV_EFORMAT);
    assert_non_null(strstr(ev_trust_last_error(t), "no CRL"));
    assert_int_equal(ev_trust_add_ca(t, chain), EV_OK);
    assert_int_equal(ev_trust_add_ca(t, chain), EV_OK); /* twice: appended */
    assert_int_equal(ev_sign_verify(NULL, t, NULL), EV_EINVAL);
    ev_trust_free(t);
    ev_trust_free(NULL);
    ev_sig_report_free(NULL);
    assert_int_equal(ev_sig_report_count(NULL), 0);
    assert_null(ev_sig_report_result(NULL, 0));
    assert_string_equal(ev_sig_verdict_name(EV_SIG_UNVERIFIED), "unverified");
    assert_string_equal(ev_sig_verdict_name((ev_sig_verdict)42), "unknown");
    free(key);
    free(cert);
    free(chain);
    free(rsa);
    free(none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sign_slug_and_names),
        cmocka_unit_test(sign_custody_lines),
        cmocka_unit_test(sign_key_loading),
        cmocka_unit_test(sign_signer_checks),
        cmocka_unit_test(sign_cms_roundtrip),
        cmocka_unit_test(sign_cms_malformed),
        cmocka_unit_test(sign_chain_checks),
        cmocka_unit_test(sign_ts_query_reply),
        cmocka_unit_test(sign_ts_eku_required),
        cmocka_unit_test(sign_http_tsa),
        cmocka_unit_test(sign_verify_valid_and_unverified),
        cmocka_unit_test(sign_verify_custody_tampering),
        cmocka_unit_test(sign_verify_swaps_and_bad_files),
        cmocka_unit_test(sign_verify_expired_and_revoked),
        cmocka_unit_test(sign_verify_disclosure_commitment),
        cmocka_unit_test(sign_verify_many_bad_signatures),
        cmocka_unit_test(sign_public_api_basics),
    };
    return cmocka_run_group_tests_name("sign", tests, group_setup, group_teardown);
}
