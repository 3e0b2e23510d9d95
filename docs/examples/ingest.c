/*
 * ingest: decide what to do with incoming evidence bundles, through the C API.
 *
 *   cc ingest.c $(pkg-config --cflags --libs libevidence) -o ingest
 *   ./ingest [--ca ROOTS.pem [--tsa-ca TSA_ROOTS.pem]] BUNDLE...
 *
 * For each bundle it prints one line, "DECISION bundle: reason", where
 * DECISION is accept, quarantine or reject (docs/ingest.md), then, for an
 * accepted bundle, its items as a receiving system would store them: id,
 * exhibit, role, path, size, SHA-256 and MIME type. Exit code: 0 when every
 * bundle was accepted, 1 when one was quarantined, 3 when one was rejected.
 * Part of libevidence's documentation; CI compiles and runs it
 * (tests/cli/docs_examples.sh).
 */
#include <evidence.h>
#include <stdio.h>
#include <string.h>

typedef enum { ACCEPT = 0, QUARANTINE = 1, REJECT = 3 } decision;

static const char *name(decision d)
{
    return d == ACCEPT ? "accept" : d == QUARANTINE ? "quarantine" : "reject";
}

/* Signatures: a signature that does not match the custody log, or cannot be
 * read, holds the bundle back. With --ca the receiver demands signatures
 * that chain to its trust store: an unsigned bundle is held back too. */
static decision check_signatures(ev_bundle *b, const char *ca, const char *tsa_ca, char *why,
                                 size_t len)
{
    ev_trust *t = NULL;
    ev_sig_report *r = NULL;
    decision d = ACCEPT;
    if (ev_trust_new(&t, NULL) != EV_OK)
        return REJECT;
    if ((ca && ev_trust_add_ca(t, ca) != EV_OK) ||
        (tsa_ca && ev_trust_add_tsa_ca(t, tsa_ca) != EV_OK)) {
        snprintf(why, len, "trust store: %s", ev_trust_last_error(t));
        ev_trust_free(t);
        return REJECT;
    }
    if (ev_sign_verify(&r, t, b) != EV_OK) {
        snprintf(why, len, "signatures could not be checked: %s", ev_trust_last_error(t));
        d = QUARANTINE;
    } else {
        ev_sig_verdict v = ev_sig_report_verdict(r);
        if (v == EV_SIG_INVALID || v == EV_SIG_UNREADABLE) {
            snprintf(why, len, "a signature does not verify (%s)", ev_sig_verdict_name(v));
            d = QUARANTINE;
        } else if (ca && (ev_sig_report_count(r) == 0 || v != EV_SIG_VALID)) {
            snprintf(why, len, "not signed by anyone the trust store knows");
            d = QUARANTINE;
        } else if (ca) {
            snprintf(why, len, "every file, the record, the custody log and %zu signature "
                     "file(s) check out", ev_sig_report_count(r));
        }
    }
    ev_sig_report_free(r);
    ev_trust_free(t);
    return d;
}

static decision ingest(const char *path, const char *ca, const char *tsa_ca)
{
    char why[1024] = "every file, the record and the custody log check out";
    ev_bundle *b = NULL;
    ev_report *rep = NULL;
    decision d = ACCEPT;
    int st = ev_bundle_new(&b, NULL);
    if (st == EV_OK)
        st = ev_bundle_open(b, path);
    if (st == EV_OK) {
        ev_verify_options vo = EV_VERIFY_OPTIONS_INIT;
        st = ev_bundle_verify(&rep, b, &vo);
    }
    if (st != EV_OK) {
        /* cannot be read: ask the sender for a new copy */
        snprintf(why, sizeof(why), "%s", b ? ev_bundle_last_error(b) : ev_strerror(st));
        d = REJECT;
    } else if (ev_report_verdict(rep) == EV_VERDICT_UNREADABLE) {
        snprintf(why, sizeof(why), "could not be checked");
        d = REJECT;
    } else if (ev_report_verdict(rep) == EV_VERDICT_INVALID) {
        /* readable, but something failed: hold it, name what failed */
        const ev_problem *p = NULL;
        for (size_t i = 0; i < ev_report_problem_count(rep) && !p; i++)
            if (ev_report_problem(rep, i)->severity == EV_SEVERITY_ERROR)
                p = ev_report_problem(rep, i);
        snprintf(why, sizeof(why), "[%s] %s", p ? p->code : "?", p ? p->message : "");
        d = QUARANTINE;
    } else {
        d = check_signatures(b, ca, tsa_ca, why, sizeof(why));
    }
    printf("%s %s: %s\n", name(d), path, why);
    if (d == ACCEPT) {
        for (size_t i = 0; i < ev_bundle_item_count(b); i++) {
            const ev_item *it = ev_bundle_item(b, i);
            printf("  %s\t%s\t%s\t%s\t%llu\t%s\t%s\n", it->id, it->exhibit, it->role, it->path,
                   (unsigned long long)it->size, it->sha256 ? it->sha256 : "-",
                   it->mime ? it->mime : "-");
        }
    }
    ev_report_free(rep);
    ev_bundle_free(b);
    return d;
}

int main(int argc, char **argv)
{
    const char *ca = NULL;
    int worst = 0, i = 1;
    if (ev_version_number() != EV_VERSION_NUMBER) {
        fprintf(stderr, "ingest: built for libevidence %s, running with %s\n", EV_VERSION_STRING,
                ev_version_string());
        return 4;
    }
    const char *tsa_ca = NULL;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "--ca") == 0)
            ca = argv[i + 1];
        else if (strcmp(argv[i], "--tsa-ca") == 0)
            tsa_ca = argv[i + 1];
        else
            break;
    }
    if (i >= argc || argv[i][0] == '-') {
        fprintf(stderr, "usage: ingest [--ca ROOTS.pem [--tsa-ca TSA_ROOTS.pem]] BUNDLE...\n");
        return 2;
    }
    for (; i < argc; i++) {
        decision d = ingest(argv[i], ca, tsa_ca);
        if ((int)d > worst)
            worst = (int)d;
    }
    return worst;
}
