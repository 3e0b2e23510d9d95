/*
 * Fuzz target: the proof parser of a part of a bundle (the "disclosed_from"
 * member of its evidence.json, docs/disclosure.md), which sees hostile bytes
 * from a part made by anyone. The input is that member as JSON: parsed; when
 * it parses, every proof is checked against the root (with a leaf made from
 * its item id), the commitment is built, and the canonical form (RFC 8785)
 * of the input is checked to be stable under a reparse.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "record/record_disclose.h"
#include "sign/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1024 * 1024)
        return 0;
    json_t *o = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!o)
        return 0;
    ev_disclose_from d;
    ev_errbuf e;
    if (ev_record__disclosed_from_parse(&d, o, &e) == EV_OK) {
        if (d.nproofs == 0 || d.nproofs > d.items || strlen(d.root_hex) != 64)
            abort();
        for (size_t i = 0; i < d.nproofs; i++) {
            uint8_t leaf[32];
            unsigned int ol = 0;
            EVP_Digest(d.proofs[i].item, strlen(d.proofs[i].item), leaf, &ol, EVP_sha256(), NULL);
            if (d.proofs[i].index >= d.items || d.proofs[i].len > EV_DISCLOSE_MAX_PATH)
                abort();
            (void)ev_record__proof_ok(leaf, d.proofs[i].index, d.items,
                                      (const uint8_t (*)[32])d.proofs[i].path, d.proofs[i].len,
                                      d.root);
        }
        char *c = ev_sign__commitment(d.bundle_id, d.created, d.items, d.root_hex);
        free(c);
        ev_record__disclosed_from_clear(&d);
    } else if (d.proofs || d.sigs || d.bundle_id) {
        abort(); /* a refusal leaves nothing behind */
    }
    ev_buf a = { 0 }, b = { 0 };
    if (ev_record__jcs(&a, o) == EV_OK) {
        json_t *back = json_loadb(a.data ? a.data : "", a.len, JSON_DECODE_ANY, NULL);
        if (back && ev_record__jcs(&b, back) == EV_OK &&
            (a.len != b.len || memcmp(a.data, b.data, a.len) != 0))
            abort();
        json_decref(back);
    }
    ev_buf__free(&a);
    ev_buf__free(&b);
    json_decref(o);
    return 0;
}
