#!/usr/bin/env python3
"""Experiment 5: concurrent custody appends.

usage: parallel.py EVIDENCE WORK [N] [ROUNDS]

ROUNDS times (default 4), N (default 8) `evidence custody add` processes
are started at once on one ZIP bundle and on one folder bundle, each with a
note of its own. Afterwards every add that exited 0 must have its event in
the log exactly once, every add that failed must have none, the chain must
be intact (`custody show`) and the bundle valid (`verify`), and no
temporary output may remain. A failed add is allowed (the lock may make
it give up) but is counted; a lost or doubled event, an invalid bundle or
a leftover is a FAILURE.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import common


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    evidence, work = argv[1], argv[2]
    n = int(argv[3]) if len(argv) > 3 else 8
    rounds = int(argv[4]) if len(argv) > 4 else 4
    env = common.evidence_env()
    root = os.path.join(work, "parallel")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    media = os.path.join(common.SOURCE, "samples", "media")
    rows, failures = [], []
    for fmt in ("zip", "dir"):
        target = os.path.join(root, "b.zip" if fmt == "zip" else "b")
        r = common.run([evidence, "pack", "--format", fmt, "-o", target, "--case", "P/1",
                        "--officer", "O", "--org", "G", "--no-media", media], env=env)
        if r.rc != 0:
            failures.append("%s: pack failed: %s" % (fmt, r.err[:200]))
            continue
        rcs = []
        expected = []
        lost = doubled = ghost = 0
        t0 = time.time()
        for rd in range(rounds):
            procs = []
            for i in range(n):
                note = "parallel %s round %d writer %d" % (fmt, rd, i)
                p = subprocess.Popen(common.NICE + [evidence, "custody", "add", target,
                                                    "--action", "note", "--actor", "W%d" % i,
                                                    "--org", "G", "--note", note],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=env)
                procs.append((note, p))
            for note, p in procs:
                err = p.communicate()[1].decode("utf-8", "replace")
                rcs.append(p.returncode)
                expected.append((note, p.returncode, err.strip()[:200]))
        secs = time.time() - t0
        show = common.run([evidence, "custody", "show", "--json", target], env=env)
        try:
            events = [e["event"] for e in json.loads(show.out)["events"]]
        except (ValueError, KeyError, TypeError):
            events = []
            failures.append("%s: custody show --json gave no events (exit %d)" % (fmt, show.rc))
        notes = [e.get("note") for e in events]
        for note, rc, err in expected:
            k = notes.count(note)
            if rc == 0 and k == 0:
                lost += 1
                failures.append("%s: '%s' exited 0 but its event is missing" % (fmt, note))
            elif k > 1:
                doubled += 1
                failures.append("%s: '%s' appears %d times" % (fmt, note, k))
            elif rc != 0 and k:
                ghost += 1
                failures.append("%s: '%s' failed (exit %d: %s) but its event is there"
                                % (fmt, note, rc, err))
            if rc < 0 or rc >= 128 or common.SANITIZER.search(err):
                failures.append("%s: '%s' crashed (exit %d): %s" % (fmt, note, rc, err))
        v = common.run([evidence, "verify", "--json", target], env=env)
        if v.rc != 0:
            failures.append("%s: the bundle does not verify after the appends (exit %d: %s)"
                            % (fmt, v.rc, ",".join(v.codes("error"))))
        if show.rc != 0:
            failures.append("%s: custody show exits %d" % (fmt, show.rc))
        left = [x for x in os.listdir(root) if ".partial-" in x or ".amend-" in x]
        if left:
            failures.append("%s: temporary outputs left: %s" % (fmt, left[:3]))
        rows.append((fmt, "%d x %d" % (rounds, n), common.count_codes(rcs), len(events) - 1,
                     sum(1 for _, rc, _ in expected if rc == 0), lost, doubled, ghost,
                     v.rc, len(left), "%.1f" % secs))
        for x in os.listdir(root):
            p = os.path.join(root, x)
            shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    common.table("Experiment 5: concurrent custody add on one bundle",
                 ["bundle", "rounds x writers", "exit codes", "events appended",
                  "adds that exited 0", "lost", "doubled", "failed but present",
                  "verify exit", "leftovers", "seconds"], rows,
                 "%d failed." % len(failures))
    if failures:
        print("\nFAILED:")
        for f in failures:
            print("  " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
