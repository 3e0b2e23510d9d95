/*
 * Fuzz target: the signature and timestamp readers, which see hostile bytes
 * from inside a bundle. The first byte chooses what the rest is fed to:
 *   0  a CMS signature (ev_sign__cms_parse, then ev_sign__cms_check)
 *   1  a TSA reply or token (ev_sign__ts_parse and every check on it)
 *   2  a custody log (line counting, prefixes, damage location)
 *   3  a whole signatures/ set: custody bytes, a 0 byte, then one file
 *      used as a .p7s and as its .tsr (ev_sign__verify_set, no trust)
 *   4  a signatures/ file name (ev_sign__parse_name, ev_sign__slug)
 *   5  PEM or DER keys, certificates and CRLs
 * Other values of the first byte run 0 to 3 on the rest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "sign/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_cms(const uint8_t *d, size_t n)
{
    ev_errbuf e;
    ev_sign__cms c;
    if (ev_sign__cms_parse(&c, d, n, &e) == EV_OK) {
        static const uint8_t content[] = "{\"seq\":1}\n";
        ev_sign__cms_check(&c, content, sizeof(content) - 1, &e);
        ev_sign__cms_check(&c, d, n, &e);
        char *s = ev_sign__subject(c.signer);
        free(s);
        s = ev_sign__subject_field(c.signer, NID_commonName);
        char slug[EV_SIGN__SLUG_MAX + 1];
        ev_sign__slug(slug, s);
        free(s);
        ev_sign__cms_clear(&c);
    }
}

static void fuzz_ts(const uint8_t *d, size_t n)
{
    ev_errbuf e;
    ev_sign__ts t;
    if (ev_sign__ts_parse(&t, d, n, &e) != EV_OK)
        return;
    ev_sign__ts_imprint_matches(&t, d, n);
    ev_sign__ts_check_signature(&t, &e);
    bool match = false;
    ev_sign__ts_nonce_matches(&t, d, n, &match, &e);
    ev_sign__ts_check_reply(&t, d, n, NULL, 0, &e);
    ev_sign__chain ch;
    STACK_OF(X509) *roots = sk_X509_new_null();
    if (roots) {
        ev_sign__ts_verify(&ch, &t, roots);
        sk_X509_free(roots);
    }
    ev_sign__ts_clear(&t);
}

static void fuzz_custody(const uint8_t *d, size_t n)
{
    bool partial = false;
    size_t lines = ev_sign__count_lines(d, n, &partial);
    ev_sign__prefix_len(d, n, lines);
    ev_sign__prefix_len(d, n, lines / 2 + 1);
    char where[200];
    ev_sign__custody_damage(where, sizeof(where), d, n, lines + 1);
}

static void fuzz_set(const uint8_t *d, size_t n)
{
    const uint8_t *nul = memchr(d, 0, n);
    size_t clen = nul ? (size_t)(nul - d) : n / 2;
    const uint8_t *f = d + clen + (nul ? 1 : 0);
    size_t flen = n - (size_t)(f - d);
    ev_sign__file files[3] = {
        { "signatures/0001-a.p7s", f, flen },
        { "signatures/0001-a.tsr", f, flen },
        { "signatures/0002-b.tsr", d, clen },
    };
    ev_sign__anchors a = { NULL, NULL, NULL, 1700000000 };
    ev_sig_report *r = NULL;
    ev_errbuf e;
    if (ev_sign__verify_set(&r, d, clen, files, 3, &a, &e) == EV_OK) {
        for (size_t i = 0; i < ev_sig_report_count(r); i++) {
            const ev_sig_result *res = ev_sig_report_result(r, i);
            for (size_t k = 0; k < res->problem_count; k++)
                (void)strlen(res->problems[k].message);
        }
        ev_sig_report_verdict(r);
        ev_sig_report_free(r);
    }
}

static void fuzz_name(const uint8_t *d, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return;
    memcpy(s, d, n);
    s[n] = '\0';
    uint64_t num = 0;
    char who[EV_SIGN__SLUG_MAX + 1];
    const char *ext = NULL;
    ev_sign__parse_name(s, &num, who, sizeof(who), &ext);
    char slug[EV_SIGN__SLUG_MAX + 1];
    ev_sign__slug(slug, s);
    free(s);
}

static void fuzz_pem(const uint8_t *d, size_t n)
{
    ev_errbuf e;
    EVP_PKEY *k = NULL;
    if (ev_sign__load_key(&k, d, n, "fuzz", NULL, NULL, &e) == EV_OK)
        EVP_PKEY_free(k);
    STACK_OF(X509) *certs = NULL;
    if (ev_sign__load_certs(&certs, d, n, "fuzz", &e) == EV_OK)
        sk_X509_pop_free(certs, X509_free);
    STACK_OF(X509_CRL) *crls = NULL;
    if (ev_sign__load_crls(&crls, d, n, "fuzz", &e) == EV_OK)
        sk_X509_CRL_pop_free(crls, X509_CRL_free);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 256 * 1024)
        return 0;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    switch (data[0]) {
    case 0: fuzz_cms(d, n); break;
    case 1: fuzz_ts(d, n); break;
    case 2: fuzz_custody(d, n); break;
    case 3: fuzz_set(d, n); break;
    case 4: fuzz_name(d, n); break;
    case 5: fuzz_pem(d, n); break;
    default:
        fuzz_cms(d, n);
        fuzz_ts(d, n);
        fuzz_custody(d, n);
        fuzz_set(d, n);
        break;
    }
    ERR_clear_error();
    return 0;
}
