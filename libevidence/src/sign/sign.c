/*
 * sign: keys, certificates, CRLs, CMS signatures and certificate chains.
 * Everything works on memory buffers; see sign.h for the layout of the module.
 */
#include "sign/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* ---- small helpers ---------------------------------------------------------- */

int ev_sign__read_file(uint8_t **out, size_t *len, const char *path, size_t max,
                       const char *what, ev_errbuf *e)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        return ev_err__set(e, ev_err__from_errno(err) == EV_ENOTFOUND ? EV_ENOTFOUND : EV_EIO,
                           "cannot open the %s file '%s': %s; check the path", what, path,
                           strerror(err));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ev_err__set(e, EV_EIO, "the %s file '%s' is not a regular file", what, path);
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return ev_err__set(e, EV_EFORMAT,
                           "the %s file '%s' is too big (%lld bytes, limit %zu); is it the "
                           "right file?", what, path, (long long)st.st_size, max);
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return ev_err__set(e, EV_ENOMEM, "out of memory reading '%s'", path);
    }
    for (;;) {
        if (n == cap - 1) { /* the file grew; read at most max */
            if (cap - 1 >= max) {
                free(buf);
                close(fd);
                return ev_err__set(e, EV_EFORMAT, "the %s file '%s' is too big (limit %zu)",
                                   what, path, max);
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                close(fd);
                return ev_err__set(e, EV_ENOMEM, "out of memory reading '%s'", path);
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            free(buf);
            close(fd);
            return ev_err__set(e, EV_EIO, "cannot read the %s file '%s': %s", what, path,
                               strerror(err));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return EV_OK;
}

void ev_sign__append_ossl(ev_errbuf *e)
{
    unsigned long code;
    int shown = 0;
    const char *data = NULL;
    int flags = 0;
    while ((code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        if (!e || shown >= 3)
            continue;
        const char *reason = ERR_reason_error_string(code);
        size_t used = strlen(e->msg);
        if (used + 8 >= sizeof(e->msg))
            continue;
        char extra[160] = "";
        if (data && (flags & ERR_TXT_STRING) && *data)
            snprintf(extra, sizeof(extra), " (%s)", data);
        snprintf(e->msg + used, sizeof(e->msg) - used, "%s%s%s", shown ? "; " : " [OpenSSL: ",
                 reason ? reason : "unknown error", extra);
        shown++;
    }
    if (e && shown) {
        size_t used = strlen(e->msg);
        if (used + 2 < sizeof(e->msg)) {
            e->msg[used] = ']';
            e->msg[used + 1] = '\0';
        }
    }
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

bool ev_sign__asn1_time(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return false;
    int64_t days = days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
                                   (unsigned)tm.tm_mday);
    *out = days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    return true;
}

char *ev_sign__subject(const X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return NULL;
    char *s = NULL;
    if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *p = NULL;
        long n = BIO_get_mem_data(b, &p);
        if (n >= 0)
            s = ev__strndup(p ? p : "", (size_t)n);
    }
    BIO_free(b);
    return s;
}

char *ev_sign__subject_field(const X509 *x, int nid)
{
    const X509_NAME *name = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(name, nid, -1);
    if (i < 0)
        return NULL;
    const ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char *u = NULL;
    int n = ASN1_STRING_to_UTF8(&u, d);
    if (n < 0)
        return NULL;
    char *s = ev__strndup((const char *)u, (size_t)n);
    OPENSSL_free(u);
    return s;
}

void ev_sign__slug(char *out, const char *cn)
{
    size_t n = 0;
    bool dash = false;
    /* The same as: lower-case, every run of other bytes to one '-', trimmed,
     * cut to EV_SIGN__SLUG_MAX bytes, trimmed again (docs/signing.md). */
    for (const char *p = cn ? cn : ""; *p && n < EV_SIGN__SLUG_MAX; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && n > 0) {
                if (n + 1 >= EV_SIGN__SLUG_MAX)
                    break;
                out[n++] = '-';
            }
            dash = false;
            out[n++] = (char)c;
        } else {
            dash = true;
        }
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    out[n] = '\0';
    if (n == 0)
        memcpy(out, "signer", 7);
}

bool ev_sign__parse_name(const char *path, uint64_t *n, char *who, size_t wholen,
                         const char **ext)
{
    static const char dir[] = "signatures/";
    if (strncmp(path, dir, sizeof(dir) - 1) != 0)
        return false;
    const char *p = path + sizeof(dir) - 1;
    const char *digits = p;
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
            return false;
        p++;
    }
    size_t nd = (size_t)(p - digits);
    /* Canonical form only: at least four digits, and no leading zero beyond
     * the padding, so that one N has exactly one spelling. */
    if (nd < 4 || (nd > 4 && digits[0] == '0') || v == 0 || *p != '-')
        return false;
    p++;
    const char *w = p;
    while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')
        p++;
    size_t wl = (size_t)(p - w);
    if (wl == 0 || wl > EV_SIGN__SLUG_MAX || wl >= wholen || w[0] == '-' || w[wl - 1] == '-')
        return false;
    for (size_t i = 1; i < wl; i++)
        if (w[i] == '-' && w[i - 1] == '-')
            return false;
    if (strcmp(p, ".p7s") == 0)
        *ext = "p7s";
    else if (strcmp(p, ".tsr") == 0)
        *ext = "tsr";
    else
        return false;
    memcpy(who, w, wl);
    who[wl] = '\0';
    *n = v;
    return true;
}

/* ---- keys and certificates --------------------------------------------------- */

typedef struct pass_ctx {
    ev_passphrase_cb cb;
    void *payload;
    const char *where;
    bool asked;
    int got;            /* length, or -1 when none was available */
    char pass[1024];
} pass_ctx;

static int pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    pass_ctx *pc = u;
    if (!pc->asked) {
        pc->asked = true;
        pc->got = -1;
        if (pc->cb) {
            int n = pc->cb(pc->pass, sizeof(pc->pass), pc->where, pc->payload);
            if (n >= 0 && (size_t)n <= sizeof(pc->pass))
                pc->got = n;
        }
    }
    if (pc->got < 0 || size < 0 || pc->got > size)
        return -1;
    memcpy(buf, pc->pass, (size_t)pc->got);
    return pc->got;
}

static bool looks_pem(const uint8_t *buf, size_t len)
{
    static const char tag[] = "-----BEGIN ";
    if (len < sizeof(tag) - 1)
        return false;
    for (size_t i = 0; i + sizeof(tag) - 1 <= len; i++)
        if (memcmp(buf + i, tag, sizeof(tag) - 1) == 0)
            return true;
    return false;
}

int ev_sign__load_key(EVP_PKEY **out, const uint8_t *pem, size_t len, const char *where,
                      ev_passphrase_cb cb, void *payload, ev_errbuf *e)
{
    *out = NULL;
    if (len > INT32_MAX)
        return ev_err__set(e, EV_EFORMAT, "the key file '%s' is too big", where);
    if (!looks_pem(pem, len))
        return ev_err__set(e, EV_EFORMAT,
                           "'%s' is not a PEM private key (no '-----BEGIN' line); give a PEM "
                           "file, e.g. convert with 'openssl pkey -in KEY -out KEY.pem'", where);
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (!b)
        return ev_err__set(e, EV_ENOMEM, "out of memory");
    pass_ctx *pc = calloc(1, sizeof(*pc));
    if (!pc) {
        BIO_free(b);
        return ev_err__set(e, EV_ENOMEM, "out of memory");
    }
    pc->cb = cb;
    pc->payload = payload;
    pc->where = where;
    ERR_clear_error();
    EVP_PKEY *k = PEM_read_bio_PrivateKey_ex(b, NULL, pem_pass_cb, pc, NULL, NULL);
    BIO_free(b);
    int rc = EV_OK;
    if (!k) {
        if (pc->asked && pc->got < 0)
            rc = ev_err__set(e, EV_EFORMAT,
                             "the key '%s' is encrypted and no passphrase was given; give "
                             "its passphrase", where);
        else if (pc->asked)
            rc = ev_err__set(e, EV_EFORMAT,
                             "cannot decrypt the key '%s' (wrong passphrase?); give the "
                             "right passphrase", where);
        else
            rc = ev_err__set(e, EV_EFORMAT,
                             "no readable private key in '%s' (is it a certificate or a "
                             "damaged file?); give the PEM private key", where);
        ev_sign__append_ossl(e);
    }
    OPENSSL_cleanse(pc, sizeof(*pc));
    free(pc);
    ERR_clear_error();
    *out = k;
    return rc;
}

/* Did the PEM reader stop because there are no more blocks (not an error)? */
static bool pem_clean_end(void)
{
    unsigned long err = ERR_peek_last_error();
    return err == 0 || (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE);
}

int ev_sign__load_certs(STACK_OF(X509) **out, const uint8_t *buf, size_t len, const char *where,
                        ev_errbuf *e)
{
    *out = NULL;
    if (len > INT32_MAX)
        return ev_err__set(e, EV_EFORMAT, "'%s' is too big", where);
    STACK_OF(X509) *sk = sk_X509_new_null();
    if (!sk)
        return ev_err__set(e, EV_ENOMEM, "out of memory");
    ERR_clear_error();
    if (looks_pem(buf, len)) {
        BIO *b = BIO_new_mem_buf(buf, (int)len);
        X509 *x;
        while (b && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
            if (!sk_X509_push(sk, x)) {
                X509_free(x);
                break;
            }
        }
        BIO_free(b);
        if (!pem_clean_end()) {
            ev_err__set(e, EV_EFORMAT,
                        "'%s' holds a damaged PEM certificate (after %d good ones); give a "
                        "valid PEM file", where, sk_X509_num(sk));
            ev_sign__append_ossl(e);
            sk_X509_pop_free(sk, X509_free);
            return EV_EFORMAT;
        }
    } else {
        const unsigned char *p = buf;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        if (x && p == buf + len)
            sk_X509_push(sk, x);
        else
            X509_free(x);
    }
    ERR_clear_error();
    if (sk_X509_num(sk) == 0) {
        sk_X509_free(sk);
        return ev_err__set(e, EV_EFORMAT,
                           "no certificate in '%s'; give a PEM file with '-----BEGIN "
                           "CERTIFICATE-----' blocks", where);
    }
    *out = sk;
    return EV_OK;
}

int ev_sign__load_crls(STACK_OF(X509_CRL) **out, const uint8_t *buf, size_t len,
                       const char *where, ev_errbuf *e)
{
    *out = NULL;
    if (len > INT32_MAX)
        return ev_err__set(e, EV_EFORMAT, "'%s' is too big", where);
    STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();
    if (!sk)
        return ev_err__set(e, EV_ENOMEM, "out of memory");
    ERR_clear_error();
    if (looks_pem(buf, len)) {
        BIO *b = BIO_new_mem_buf(buf, (int)len);
        X509_CRL *c;
        while (b && (c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
            if (!sk_X509_CRL_push(sk, c)) {
                X509_CRL_free(c);
                break;
            }
        }
        BIO_free(b);
        if (!pem_clean_end()) {
            ev_err__set(e, EV_EFORMAT, "'%s' holds a damaged PEM CRL; give a valid CRL file",
                        where);
            ev_sign__append_ossl(e);
            sk_X509_CRL_pop_free(sk, X509_CRL_free);
            return EV_EFORMAT;
        }
    } else {
        const unsigned char *p = buf;
        X509_CRL *c = d2i_X509_CRL(NULL, &p, (long)len);
        if (c && p == buf + len)
            sk_X509_CRL_push(sk, c);
        else
            X509_CRL_free(c);
    }
    ERR_clear_error();
    if (sk_X509_CRL_num(sk) == 0) {
        sk_X509_CRL_free(sk);
        return ev_err__set(e, EV_EFORMAT,
                           "no CRL in '%s'; give a PEM ('-----BEGIN X509 CRL-----') or DER "
                           "certificate revocation list", where);
    }
    *out = sk;
    return EV_OK;
}

static void fmt_time(char *buf, size_t len, int64_t t)
{
    ev__time_rfc3339(buf, len, t);
}

int ev_sign__check_signer(const X509 *cert, EVP_PKEY *key, int64_t now, const char *cert_where,
                          const char *key_where, ev_errbuf *e)
{
    int id = EVP_PKEY_get_base_id(key);
    if (id == EVP_PKEY_RSA) {
        if (EVP_PKEY_get_bits(key) < 2048)
            return ev_err__set(e, EV_EUNSUPPORTED,
                               "the RSA key '%s' has %d bits; use at least 2048", key_where,
                               EVP_PKEY_get_bits(key));
    } else if (id == EVP_PKEY_EC) {
        char group[64] = "";
        size_t gl = 0;
        if (!EVP_PKEY_get_group_name(key, group, sizeof(group), &gl) ||
            (strcmp(group, "prime256v1") != 0 && strcmp(group, "secp384r1") != 0 &&
             strcmp(group, "P-256") != 0 && strcmp(group, "P-384") != 0)) {
            ERR_clear_error();
            return ev_err__set(e, EV_EUNSUPPORTED,
                               "the EC key '%s' uses curve '%s'; use P-256 or P-384", key_where,
                               group[0] ? group : "?");
        }
    } else {
        return ev_err__set(e, EV_EUNSUPPORTED,
                           "the key '%s' is of type %s; use an RSA (2048 bits or more) or EC "
                           "P-256 key", key_where, OBJ_nid2sn(id));
    }
    if (X509_check_private_key(cert, key) != 1) {
        ERR_clear_error();
        return ev_err__set(e, EV_EINVAL,
                           "the key '%s' does not belong to the certificate '%s' (their public "
                           "keys differ); give the matching key and certificate", key_where,
                           cert_where);
    }
    int64_t nb = 0, na = 0;
    char t1[40], t2[40];
    if (!ev_sign__asn1_time(X509_get0_notBefore(cert), &nb) ||
        !ev_sign__asn1_time(X509_get0_notAfter(cert), &na))
        return ev_err__set(e, EV_EFORMAT, "the certificate '%s' has unreadable validity dates",
                           cert_where);
    if (now < nb) {
        fmt_time(t1, sizeof(t1), nb);
        return ev_err__set(e, EV_EINVAL,
                           "the certificate '%s' is not valid before %s; check the clock or "
                           "use a current certificate", cert_where, t1);
    }
    if (now > na) {
        fmt_time(t2, sizeof(t2), na);
        return ev_err__set(e, EV_EINVAL,
                           "the certificate '%s' expired on %s; sign with a current "
                           "certificate", cert_where, t2);
    }
    X509 *mc = (X509 *)cert; /* X509_get_key_usage() caches extension data */
    if ((X509_get_extension_flags(mc) & EXFLAG_KUSAGE) &&
        !(X509_get_key_usage(mc) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)))
        return ev_err__set(e, EV_EINVAL,
                           "the certificate '%s' does not allow signing (keyUsage lacks "
                           "digitalSignature and nonRepudiation); use a signing certificate",
                           cert_where);
    return EV_OK;
}

/* ---- CMS ------------------------------------------------------------------------ */

int ev_sign__cms_sign(uint8_t **der, size_t *der_len, const uint8_t *data, size_t len,
                      X509 *cert, EVP_PKEY *key, STACK_OF(X509) *chain, const uint8_t *commit,
                      ev_errbuf *e)
{
    *der = NULL;
    *der_len = 0;
    if (len > INT32_MAX)
        return ev_err__set(e, EV_EINVAL, "the data to sign is too big (%zu bytes)", len);
    int rc = EV_ERROR;
    const unsigned int flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    BIO *in = BIO_new_mem_buf(data, (int)len);
    CMS_ContentInfo *cms = NULL;
    unsigned char *buf = NULL;
    ERR_clear_error();
    if (!md || !in) {
        rc = ev_err__set(e, EV_ENOMEM, "out of memory");
        goto done;
    }
    cms = CMS_sign(NULL, NULL, chain, NULL, flags);
    CMS_SignerInfo *si = cms ? CMS_add1_signer(cms, cert, key, md, flags | CMS_CADES) : NULL;
    ASN1_OBJECT *oid = commit ? OBJ_txt2obj(EV_SIGN__COMMIT_OID, 1) : NULL;
    bool attr_ok = !commit || (oid && CMS_signed_add1_attr_by_OBJ(si, oid, V_ASN1_OCTET_STRING,
                                                                   commit, 32) == 1);
    ASN1_OBJECT_free(oid);
    if (!si || !attr_ok || CMS_final(cms, in, NULL, flags) != 1) {
        rc = ev_err__set(e, EV_ERROR, "cannot create the CMS signature");
        ev_sign__append_ossl(e);
        goto done;
    }
    int n = i2d_CMS_ContentInfo(cms, &buf);
    if (n <= 0) {
        rc = ev_err__set(e, EV_ERROR, "cannot encode the CMS signature");
        ev_sign__append_ossl(e);
        goto done;
    }
    *der = malloc((size_t)n);
    if (!*der) {
        rc = ev_err__set(e, EV_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(*der, buf, (size_t)n);
    *der_len = (size_t)n;
    rc = EV_OK;
done:
    OPENSSL_free(buf);
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    EVP_MD_free(md);
    ERR_clear_error();
    return rc;
}

void ev_sign__cms_clear(ev_sign__cms *c)
{
    if (!c)
        return;
    CMS_ContentInfo_free(c->cms);
    sk_X509_pop_free(c->certs, X509_free);
    memset(c, 0, sizeof(*c));
}

static const ASN1_TYPE *signed_attr(CMS_SignerInfo *si, int nid)
{
    int i = CMS_signed_get_attr_by_NID(si, nid, -1);
    if (i < 0)
        return NULL;
    X509_ATTRIBUTE *a = CMS_signed_get_attr(si, i);
    if (!a || X509_ATTRIBUTE_count(a) != 1)
        return NULL;
    return X509_ATTRIBUTE_get0_type(a, 0);
}

int ev_sign__cms_parse(ev_sign__cms *out, const uint8_t *der, size_t len, ev_errbuf *e)
{
    memset(out, 0, sizeof(*out));
    if (len == 0)
        return ev_err__set(e, EV_EFORMAT, "the signature file is empty");
    if (len > EV_SIGN__MAX_FILE)
        return ev_err__set(e, EV_EFORMAT, "the signature file is too big (%zu bytes)", len);
    ERR_clear_error();
    const unsigned char *p = der;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
    if (!cms) {
        ev_err__set(e, EV_EFORMAT, "not a DER CMS signature (cannot be decoded)");
        ev_sign__append_ossl(e);
        return EV_EFORMAT;
    }
    out->cms = cms;
    int rc = EV_EFORMAT;
    if (p != der + len) {
        ev_err__set(e, rc, "%zu stray bytes follow the CMS signature", (size_t)(der + len - p));
        goto fail;
    }
    if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
        ev_err__set(e, rc, "the CMS structure is not SignedData");
        goto fail;
    }
    if (CMS_is_detached(cms) != 1) {
        ev_err__set(e, rc, "the signature embeds its content; a detached signature is expected");
        goto fail;
    }
    if (OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data) {
        ev_err__set(e, rc, "the signature is not over plain data (eContentType)");
        goto fail;
    }
    STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
    if (!sis || sk_CMS_SignerInfo_num(sis) != 1) {
        ev_err__set(e, rc, "the signature has %d signers; exactly one is expected",
                    sis ? sk_CMS_SignerInfo_num(sis) : 0);
        goto fail;
    }
    CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);
    X509_ALGOR *dig = NULL, *sig = NULL;
    CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sig);
    const ASN1_OBJECT *dobj = NULL;
    if (dig)
        X509_ALGOR_get0(&dobj, NULL, NULL, dig);
    if (!dobj || OBJ_obj2nid(dobj) != NID_sha256) {
        ev_err__set(e, EV_EUNSUPPORTED, "the signature uses digest %s; SHA-256 is required",
                    dobj ? OBJ_nid2sn(OBJ_obj2nid(dobj)) : "?");
        rc = EV_EUNSUPPORTED;
        goto fail;
    }
    const ASN1_TYPE *md = signed_attr(si, NID_pkcs9_messageDigest);
    if (!md || md->type != V_ASN1_OCTET_STRING ||
        ASN1_STRING_length(md->value.octet_string) != 32) {
        ev_err__set(e, rc, "the signature has no SHA-256 messageDigest signed attribute");
        goto fail;
    }
    memcpy(out->digest, ASN1_STRING_get0_data(md->value.octet_string), 32);
    out->digest_len = 32;
    const ASN1_TYPE *st = signed_attr(si, NID_pkcs9_signingTime);
    if (st && (st->type == V_ASN1_UTCTIME || st->type == V_ASN1_GENERALIZEDTIME))
        out->has_signing_time = ev_sign__asn1_time((const ASN1_TIME *)st->value.asn1_string,
                                                   &out->signing_time);
    ASN1_OBJECT *coid = OBJ_txt2obj(EV_SIGN__COMMIT_OID, 1);
    int ci = coid ? CMS_signed_get_attr_by_OBJ(si, coid, -1) : -1;
    ASN1_OBJECT_free(coid);
    if (ci >= 0) {
        X509_ATTRIBUTE *ca = CMS_signed_get_attr(si, ci);
        const ASN1_TYPE *cv = ca && X509_ATTRIBUTE_count(ca) == 1 ? X509_ATTRIBUTE_get0_type(ca, 0)
                                                                  : NULL;
        if (!cv || cv->type != V_ASN1_OCTET_STRING ||
            ASN1_STRING_length(cv->value.octet_string) != 32) {
            ev_err__set(e, rc, "the disclosure commitment attribute is not one OCTET STRING of "
                               "32 bytes");
            goto fail;
        }
        memcpy(out->commit, ASN1_STRING_get0_data(cv->value.octet_string), 32);
        out->has_commit = true;
    }
    out->certs = CMS_get1_certs(cms);
    for (int i = 0; out->certs && i < sk_X509_num(out->certs); i++) {
        X509 *x = sk_X509_value(out->certs, i);
        if (CMS_SignerInfo_cert_cmp(si, x) == 0) {
            out->signer = x;
            break;
        }
    }
    if (!out->signer) {
        ev_err__set(e, rc, "the signer's certificate is not in the signature");
        goto fail;
    }
    ERR_clear_error();
    return EV_OK;
fail:
    ERR_clear_error();
    ev_sign__cms_clear(out);
    return rc;
}

static int ess_check(CMS_SignerInfo *si, X509 *signer, ev_errbuf *e)
{
    const ASN1_TYPE *a1 = signed_attr(si, NID_id_smime_aa_signingCertificate);
    const ASN1_TYPE *a2 = signed_attr(si, NID_id_smime_aa_signingCertificateV2);
    if (!a1 && !a2)
        return EV_OK;
    ESS_SIGNING_CERT *ss = NULL;
    ESS_SIGNING_CERT_V2 *ss2 = NULL;
    bool bad = false;
    if (a1) {
        const unsigned char *p = a1->type == V_ASN1_SEQUENCE ? a1->value.sequence->data : NULL;
        ss = p ? d2i_ESS_SIGNING_CERT(NULL, &p, a1->value.sequence->length) : NULL;
        bad = bad || !ss;
    }
    if (a2) {
        const unsigned char *p = a2->type == V_ASN1_SEQUENCE ? a2->value.sequence->data : NULL;
        ss2 = p ? d2i_ESS_SIGNING_CERT_V2(NULL, &p, a2->value.sequence->length) : NULL;
        bad = bad || !ss2;
    }
    STACK_OF(X509) *chain = sk_X509_new_null();
    int rc = EV_OK;
    if (bad) {
        rc = ev_err__set(e, EV_EFORMAT, "the signing-certificate attribute cannot be read");
    } else if (!chain || !sk_X509_push(chain, signer)) {
        rc = ev_err__set(e, EV_ENOMEM, "out of memory");
    } else if (OSSL_ESS_check_signing_certs(ss, ss2, chain, 1) <= 0) {
        rc = ev_err__set(e, EV_EFORMAT,
                         "the signing-certificate attribute names another certificate than "
                         "the one in the signature (certificate substituted)");
        ev_sign__append_ossl(e);
    }
    sk_X509_free(chain);
    ESS_SIGNING_CERT_free(ss);
    ESS_SIGNING_CERT_V2_free(ss2);
    ERR_clear_error();
    return rc;
}

int ev_sign__cms_check(ev_sign__cms *c, const uint8_t *data, size_t len, ev_errbuf *e)
{
    uint8_t d[32];
    unsigned int dl = 0;
    if (len > INT32_MAX)
        return ev_err__set(e, EV_EINVAL, "content too big");
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!md || !EVP_Digest(data, len, d, &dl, md, NULL)) {
        EVP_MD_free(md);
        return ev_err__set(e, EV_ENOMEM, "cannot compute SHA-256");
    }
    EVP_MD_free(md);
    if (c->digest_len != dl || CRYPTO_memcmp(d, c->digest, dl) != 0)
        return ev_err__set(e, EV_EFORMAT, "the signed digest differs from the content");
    CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(c->cms), 0);
    const unsigned int flags = CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY;
    /* The ESS signing-certificate binding, when the signer added one
     * (signatures made with stock 'openssl cms -sign' have none). CMS_CADES
     * on CMS_verify() would also demand a trusted chain, so check it here. */
    int rc = ess_check(si, c->signer, e);
    if (rc != EV_OK)
        return rc;
    /* The content goes in behind a buffering filter, not as a bare memory
     * BIO: given a memory BIO, OpenSSL 3.0's CMS_verify() makes its own
     * read-only copy of it and leaks that copy (272 bytes) when
     * CMS_dataInit() fails, which hostile SignerInfos reach (for example an
     * unknown digest algorithm). With any other BIO type it uses ours, and
     * ours is always freed here. */
    BIO *mem = BIO_new_mem_buf(data, (int)len);
    BIO *buf = mem ? BIO_new(BIO_f_buffer()) : NULL;
    if (!buf) {
        BIO_free(mem);
        return ev_err__set(e, EV_ENOMEM, "out of memory");
    }
    BIO *dc = BIO_push(buf, mem);
    ERR_clear_error();
    int ok = CMS_verify(c->cms, NULL, NULL, dc, NULL, flags);
    BIO_free_all(dc);
    if (ok != 1) {
        ev_err__set(e, EV_EFORMAT, "the signature value does not verify with the signer's key");
        ev_sign__append_ossl(e);
        return EV_EFORMAT;
    }
    ERR_clear_error();
    return EV_OK;
}

int ev_sign__cms_check_attrs(ev_sign__cms *c, ev_errbuf *e)
{
    CMS_SignerInfo *si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(c->cms), 0);
    if (!si || CMS_signed_get_attr_count(si) <= 0)
        return ev_err__set(e, EV_EFORMAT, "the signature has no signed attributes");
    int rc = ess_check(si, c->signer, e);
    if (rc != EV_OK)
        return rc;
    ERR_clear_error();
    CMS_SignerInfo_set1_signer_cert(si, c->signer);
    int ok = CMS_SignerInfo_verify(si);
    if (ok != 1) {
        ev_err__set(e, EV_EFORMAT, "the signature value does not verify with the signer's key");
        ev_sign__append_ossl(e);
        return EV_EFORMAT;
    }
    ERR_clear_error();
    return EV_OK;
}

/* ---- certificate chains ------------------------------------------------------------ */

typedef struct chain_state {
    STACK_OF(X509_CRL) *crls;
    int64_t at;
    bool at_trusted;
    bool revoked_after;
    int64_t revoked_at;
} chain_state;

static int chain_cb(int ok, X509_STORE_CTX *ctx)
{
    if (ok)
        return 1;
    chain_state *s = X509_STORE_CTX_get_app_data(ctx);
    int err = X509_STORE_CTX_get_error(ctx);
    if (!s || !s->at_trusted)
        return 0;
    /* Checking at a timestamp-proven time in the past: a CRL issued after it
     * is the normal case and still lists what was revoked before. */
    if (err == X509_V_ERR_CRL_NOT_YET_VALID)
        return 1;
    if (err == X509_V_ERR_CERT_REVOKED) {
        /* OpenSSL does not weigh the revocation date; look it up (the
         * earliest, over every CRL of that issuer listing the certificate). */
        X509 *x = X509_STORE_CTX_get_current_cert(ctx);
        int64_t first = INT64_MAX;
        for (int i = 0; x && i < sk_X509_CRL_num(s->crls); i++) {
            X509_CRL *crl = sk_X509_CRL_value(s->crls, i);
            X509_REVOKED *rev = NULL;
            int64_t when = 0;
            if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(x)) == 0 &&
                X509_CRL_get0_by_cert(crl, &rev, x) == 1 && rev &&
                ev_sign__asn1_time(X509_REVOKED_get0_revocationDate(rev), &when) && when < first)
                first = when;
        }
        if (first != INT64_MAX && first > s->at) {
            s->revoked_after = true;
            s->revoked_at = first;
            return 1;
        }
    }
    return 0;
}

static const char *chain_code(int err, bool tsa)
{
    switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return tsa ? "tsa-expired" : "signer-expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return tsa ? "tsa-not-yet-valid" : "signer-not-yet-valid";
    case X509_V_ERR_CERT_REVOKED:
        return tsa ? "tsa-revoked" : "signer-revoked";
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
        return "crl-problem";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
        return tsa ? "tsa-untrusted" : "signer-untrusted";
    case X509_V_ERR_INVALID_PURPOSE:
        return tsa ? "tsa-eku" : "signer-purpose";
    default:
        return tsa ? "tsa-chain-invalid" : "signer-chain-invalid";
    }
}

int ev_sign__verify_chain(ev_sign__chain *res, X509 *leaf, STACK_OF(X509) *untrusted,
                          STACK_OF(X509) *roots, STACK_OF(X509_CRL) *crls, int64_t at,
                          bool at_trusted, int purpose)
{
    memset(res, 0, sizeof(*res));
    bool tsa = purpose == X509_PURPOSE_TIMESTAMP_SIGN;
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = EV_OK;
    if (!st || !ctx) {
        rc = EV_ENOMEM;
        goto done;
    }
    for (int i = 0; roots && i < sk_X509_num(roots); i++)
        X509_STORE_add_cert(st, sk_X509_value(roots, i));
    if (!X509_STORE_CTX_init(ctx, st, leaf, untrusted)) {
        rc = EV_ENOMEM;
        goto done;
    }
    chain_state cs = { crls, at, at_trusted, false, 0 };
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(vp, (time_t)at);
    if (purpose)
        X509_STORE_CTX_set_purpose(ctx, purpose);
    if (crls && sk_X509_CRL_num(crls) > 0) {
        X509_STORE_CTX_set0_crls(ctx, crls);
        X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_CRL_CHECK);
    }
    X509_STORE_CTX_set_app_data(ctx, &cs);
    X509_STORE_CTX_set_verify_cb(ctx, chain_cb);
    int ok = X509_verify_cert(ctx);
    if (ok == 1) {
        res->ok = true;
        res->revoked_after = cs.revoked_after;
        res->revoked_at = cs.revoked_at;
    } else {
        int err = X509_STORE_CTX_get_error(ctx);
        int depth = X509_STORE_CTX_get_error_depth(ctx);
        X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
        char *subj = cur ? ev_sign__subject(cur) : NULL;
        char when[40];
        ev__time_rfc3339(when, sizeof(when), at);
        res->code = chain_code(err, tsa);
        snprintf(res->msg, sizeof(res->msg), "%s certificate '%s'%s: %s (checked at %s)",
                 depth == 0 ? (tsa ? "TSA" : "signer") : "issuing", subj ? subj : "?",
                 depth == 0 ? "" : " in the chain", X509_verify_cert_error_string(err), when);
        free(subj);
    }
done:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    ERR_clear_error();
    return rc;
}
