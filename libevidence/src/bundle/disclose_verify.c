/*
 * bundle (disclose, verify): check a part against the original's
 * signatures (docs/disclosure.md): each disclosed item's leaf and inclusion
 * proof lead to the root of "disclosed_from", and the original's signatures
 * carried under disclosure/ commit to that root, with their tokens and,
 * with trust anchors, their chains. The part's own bag checks are
 * ev_bundle_verify()'s.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bundle/bundle_int.h"
#include "bundle/disclose_int.h"
#include "record/record.h"
#include "record/record_disclose.h"
#include "sign/sign.h"

static void add_problem(json_t *probs, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_problem(json_t *probs, const char *code, const char *fmt, ...)
{
    char msg[EV_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_array_append_new(probs, json_pack("{s:s, s:s, s:s}", "severity", "error", "code", code,
                                           "message", msg));
}

/* A file of the part, read whole (NULL when absent). */
static uint8_t *read_part_file(ev_bundle *b, const char *path, size_t *len)
{
    uint8_t *d = NULL;
    *len = 0;
    if (!path || ev_bundle_read_file(&d, len, b, path, EV_SIGN__MAX_FILE) != EV_OK)
        return NULL;
    return d;
}

static int finish(char **out, json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!s)
        return EV_ENOMEM;
    *out = s;
    return EV_OK;
}

int ev_disclosure_verify(char **out, ev_trust *t, ev_bundle *b)
{
    if (!out || !b)
        return EV_EINVAL;
    *out = NULL;
    /* the record whole only for a part of a bundle */
    const json_t *rec = b->rec && json_object_get(b->rec->head, "disclosed_from")
                            ? ev_bundle__record(b) : NULL;
    const json_t *df = json_object_get(rec, "disclosed_from");
    if (!df)
        return ev_err__set(&b->err, EV_ENOTFOUND, "'%s' is not a part of a bundle (its record "
                           "has no disclosed_from)", b->store ? ev_store__path(b->store) : "?");
    json_t *probs = json_array();
    json_t *sigs = json_array();
    json_t *doc = json_object();
    if (!probs || !sigs || !doc) {
        json_decref(probs);
        json_decref(sigs);
        json_decref(doc);
        return EV_ENOMEM;
    }
    ev_disclose_from d;
    ev_errbuf pe;
    const json_t *items = json_object_get(rec, "items");
    size_t k = json_array_size(items);
    uint64_t hashes = 0;
    size_t proven = 0;
    if (ev_record__disclosed_from_parse(&d, df, &pe) != EV_OK) {
        add_problem(probs, "disclosure-malformed", "evidence.json %s", pe.msg);
        json_object_set_new(doc, "disclosed", json_integer((json_int_t)k));
        json_object_set_new(doc, "verdict", json_string("invalid"));
        json_object_set_new(doc, "signatures", sigs);
        json_object_set_new(doc, "problems", probs);
        return finish(out, doc);
    }
    /* every item: its leaf and its proof to the root */
    bool *used = ev__calloc(d.nproofs ? d.nproofs : 1, sizeof(*used));
    if (!used) {
        ev_record__disclosed_from_clear(&d);
        json_decref(probs);
        json_decref(sigs);
        json_decref(doc);
        return EV_ENOMEM;
    }
    if ((uint64_t)k > d.items)
        add_problem(probs, "disclosure-count", "the part holds %zu items but claims an original "
                    "of %llu", k, (unsigned long long)d.items);
    for (size_t i = 0; i < k; i++) {
        const json_t *it = json_array_get(items, i);
        const char *id = jstr(it, "id");
        const ev_disclose_proof *p = NULL;
        for (size_t q = 0; id && q < d.nproofs && !p; q++)
            if (!strcmp(d.proofs[q].item, id)) {
                p = &d.proofs[q];
                used[q] = true;
            }
        if (!p) {
            add_problem(probs, "disclosure-proof-missing", "item %s has no inclusion proof in "
                        "disclosed_from", id ? id : "(no id)");
            continue;
        }
        uint8_t leaf[32];
        char why[600];
        int rc = json_is_object(it) ? ev_bundle__item_leaf(leaf, b->store, it, why, sizeof(why))
                                    : EV_EFORMAT;
        if (rc == EV_ENOMEM) {
            free(used);
            ev_record__disclosed_from_clear(&d);
            json_decref(probs);
            json_decref(sigs);
            json_decref(doc);
            return rc;
        }
        if (rc != EV_OK) {
            add_problem(probs, "disclosure-proof-invalid", "item %s %s, so its leaf cannot be "
                        "computed", id, json_is_object(it) ? why : "is not an object");
            continue;
        }
        hashes += 1 + p->len;
        if (!ev_record__proof_ok(leaf, p->index, d.items, (const uint8_t (*)[32])p->path, p->len,
                                 d.root))
            add_problem(probs, "disclosure-proof-invalid",
                        "item %s does not lead to the root %s at position %llu of %llu (its "
                        "record entry, salt, payload hash or a tag file it names differs from "
                        "what was signed, or the proof is for another position, tree or "
                        "bundle)", id, d.root_hex, (unsigned long long)p->index,
                        (unsigned long long)d.items);
        else
            proven++;
    }
    for (size_t q = 0; q < d.nproofs; q++)
        if (!used[q])
            add_problem(probs, "disclosure-proof-orphan", "disclosed_from has a proof for %s, "
                        "which is not an item of the part", d.proofs[q].item);
    free(used);
    /* the original's signatures */
    char *cm = ev_sign__commitment(d.bundle_id, d.created, d.items, d.root_hex);
    uint8_t commit[32];
    unsigned int ol = 0;
    bool any_bad = false;
    size_t nok = 0;
    const json_t *first = NULL;
    ev_sign__anchors a;
    ev_sign__trust_anchors(&a, t);
    bool trusted = a.ca && sk_X509_num(a.ca) > 0;
    if (!cm || !EVP_Digest(cm, strlen(cm), commit, &ol, EVP_sha256(), NULL)) {
        add_problem(probs, "disclosure-malformed", "disclosed_from's bundle_id or created "
                    "cannot be committed to");
        any_bad = true;
    } else {
        for (size_t i = 0; i < d.nsigs; i++) {
            size_t pl = 0, tl = 0;
            uint8_t *p7s = read_part_file(b, d.sigs[i].signature, &pl);
            uint8_t *tsr = read_part_file(b, d.sigs[i].token, &tl);
            ev_sign__commit_sig cs = { d.sigs[i].signature, p7s, pl, d.sigs[i].token, tsr, tl };
            const char *v = ev_sign__check_commit_sig(sigs, &cs, commit, &a);
            ev_free(p7s);
            ev_free(tsr);
            if (!v) {
                free(cm);
                ev_record__disclosed_from_clear(&d);
                json_decref(probs);
                json_decref(sigs);
                json_decref(doc);
                return EV_ENOMEM;
            }
            if (!strcmp(v, "invalid"))
                any_bad = true;
            else if (nok++ == 0)
                first = json_array_get(sigs, json_array_size(sigs) - 1);
        }
    }
    free(cm);
    const char *verdict = json_array_size(probs) || any_bad ? "invalid"
                          : nok == 0                          ? "unproven"
                          : trusted                           ? "proven"
                                                              : "unverified";
    if (!strcmp(verdict, "unproven"))
        add_problem(probs, "disclosure-unproven",
                    "the part carries no signature of the original, so nothing proves that "
                    "its items came from it; ask for a part that keeps the original's "
                    "signatures");
    json_object_set_new(doc, "disclosed", json_integer((json_int_t)k));
    json_object_set_new(doc, "items", json_integer((json_int_t)d.items));
    json_object_set_new(doc, "withheld",
                        json_integer(d.items >= k ? (json_int_t)(d.items - k) : 0));
    json_object_set_new(doc, "bundle_id", json_string(d.bundle_id));
    json_object_set_new(doc, "created", json_string(d.created));
    json_object_set_new(doc, "root", json_string(d.root_hex));
    json_object_set_new(doc, "proven_items", json_integer((json_int_t)proven));
    json_object_set_new(doc, "proof_hashes", json_integer((json_int_t)hashes));
    json_object_set(doc, "signed_by", first ? json_object_get(first, "signer") : json_null());
    const json_t *at = first ? json_object_get(first, "tsa_time") : NULL;
    if (!json_is_string(at) && first)
        at = json_object_get(first, "signing_time");
    json_object_set(doc, "signed_at", at ? (json_t *)at : json_null());
    json_object_set_new(doc, "verdict", json_string(verdict));
    json_object_set_new(doc, "signatures", sigs);
    json_object_set_new(doc, "problems", probs);
    ev_record__disclosed_from_clear(&d);
    return finish(out, doc);
}
