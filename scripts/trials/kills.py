#!/usr/bin/env python3
"""Experiment 4: kill -9 at a random moment.

usage: kills.py EVIDENCE WORK TRIALS [SEED]

TRIALS runs (shared between `pack`, `custody add`, `sign` and `transcode`,
which gets a tenth) of a command that is sent SIGKILL after a random delay:
in every other trial uniform between 0 and 1.2 times the command's own
duration (measured first), in the others between 0.6 and 1.1 times it,
where the output is being written (the commands read and hash their input
before they create any output). The input is a
folder of 20 MB of random bytes and samples/media; custody add and sign work
on a fresh copy of a bundle of it each time.

After each kill: the target must be absent (pack, transcode) or the old
complete file, byte for byte (custody add, sign), or, when the command
finished before the kill, a complete new bundle that verifies. The
temporary outputs (`.NAME.partial-*`, `.NAME.amend-*`) left beside the
target are counted. Then the same command is run again, to the end: it must
succeed, and the stale temporary outputs of its target must be gone
(docs/bundle.md, "Atomic output"). A trial FAILS when the target is
anything else, the re-run fails, or any temporary output survives the
re-run.
"""
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import common


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest() if os.path.isfile(path) else None


def hidden_left(folder, name):
    """Temporary outputs: .NAME.partial-*, .NAME.amend-*, and for transcode
    also .NAME.derivation.json.partial-* (its record's temporary name)."""
    return [n for n in os.listdir(folder) if n.startswith("." + name) or
            n.startswith(".." + name) or ".partial-" in n or ".amend-" in n or ".tmp-" in n]


def timed(cmd, env):
    t0 = time.time()
    p = subprocess.run(common.NICE + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       env=env)
    return p.returncode, time.time() - t0, p.stderr.decode("utf-8", "replace")


def kill_after(cmd, delay, env):
    p = subprocess.Popen(common.NICE + cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env)
    time.sleep(delay)
    try:
        os.kill(p.pid, signal.SIGKILL)      # nice execs the command: this is its pid
    except ProcessLookupError:
        pass
    return p.wait()


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    evidence, work, trials = argv[1], argv[2], int(argv[3])
    rng = random.Random(int(argv[4]) if len(argv) > 4 else 4)
    env = common.evidence_env()
    root = os.path.join(work, "kills")
    shutil.rmtree(root, ignore_errors=True)
    inp = os.path.join(root, "in")
    os.makedirs(os.path.join(inp, "big"))
    with open(os.path.join(inp, "big", "random.bin"), "wb") as f:
        f.write(rng.randbytes(20 * 1000 * 1000))
    shutil.copytree(os.path.join(common.SOURCE, "samples", "media"), os.path.join(inp, "media"))
    base = os.path.join(root, "base.zip")
    rc, _, err = timed([evidence, "pack", "-o", base, "--case", "K/1", "--officer", "O",
                        "--org", "G", os.path.join(inp, "big"), os.path.join(inp, "media")],
                       env)
    if rc != 0:
        print("FAILED: pack of the base bundle: " + err)
        return 1
    pki = os.path.join(work, "pki")
    clip = os.path.join(common.SOURCE, "samples", "media", "CLIP_0001.mp4")

    def cmd_for(kind, target):
        if kind == "pack":
            return [evidence, "pack", "-o", target, "--case", "K/1", "--officer", "O", "--org",
                    "G", os.path.join(inp, "big"), os.path.join(inp, "media")]
        if kind == "custody add":
            return [evidence, "custody", "add", target, "--action", "note", "--actor", "K",
                    "--org", "G", "--note", "kill trial"]
        if kind == "sign":
            return [evidence, "sign", target, "--key", os.path.join(pki, "signer.key"),
                    "--cert", os.path.join(pki, "signer.pem"), "--chain",
                    os.path.join(pki, "chain.pem")]
        return [evidence, "transcode", "--profile", "remux-mkv", clip, target]

    kinds = ["pack", "custody add", "sign", "transcode"]
    n_tc = max(1, trials // 10)
    counts = {"transcode": n_tc}
    rest = trials - n_tc
    for i, k in enumerate(kinds[:3]):
        counts[k] = rest // 3 + (1 if i < rest % 3 else 0)
    rows, failures = [], []
    for kind in kinds:
        # the command's duration, to spread the kills over it
        d = os.path.join(root, "time-" + kind.replace(" ", "-"))
        os.makedirs(d)
        target = os.path.join(d, "t.mkv" if kind == "transcode" else "t.zip")
        if kind in ("custody add", "sign"):
            shutil.copyfile(base, target)
        durs = []
        for _ in range(2):
            for x in (target, target + ".derivation.json"):
                if kind in ("pack", "transcode") and os.path.exists(x):
                    os.remove(x)
            rc, secs, err = timed(cmd_for(kind, target), env)
            if rc != 0:
                failures.append("%s: the command fails without a kill: %s" % (kind, err[:300]))
            durs.append(secs)
        dur = sorted(durs)[0]
        st = {"n": 0, "killed": 0, "finished": 0, "absent": 0, "old": 0, "new": 0, "bad": 0,
              "left": 0, "no_record": 0, "left_trials": 0, "left_valid": 0, "rerun_rc": [], "left_after": 0}
        for t in range(counts[kind]):
            d = os.path.join(root, "%s-%03d" % (kind.replace(" ", "-"), t))
            os.makedirs(d)
            name = "t.mkv" if kind == "transcode" else "t.zip"
            target = os.path.join(d, name)
            old = None
            if kind in ("custody add", "sign"):
                shutil.copyfile(base, target)
                old = sha(target)
            # half over the whole run, half over its end, where the output is written
            delay = rng.uniform(0, 1.2 * dur) if t % 2 else rng.uniform(0.6 * dur, 1.1 * dur)
            rc = kill_after(cmd_for(kind, target), delay, env)
            st["n"] += 1
            if rc == -signal.SIGKILL:
                st["killed"] += 1
            else:
                st["finished"] += 1
            why = []
            now = sha(target)
            if now is None and not os.path.exists(target):
                if old is not None:
                    why.append("the target is gone")
                st["absent"] += 1
            elif old is not None and now == old:
                st["old"] += 1
            else:
                if kind == "transcode":
                    ok = rc == 0 or os.path.exists(target + ".derivation.json")
                    if not ok:
                        st["no_record"] += 1
                else:
                    v = common.run([evidence, "verify", "--json", target], env=env)
                    ok = v.rc == 0 and (rc == 0 or v.doc.get("valid") is True)
                if ok and rc == 0:
                    st["new"] += 1
                elif ok:
                    # renamed into place just before the kill: complete and valid
                    st["new"] += 1
                else:
                    st["bad"] += 1
                    if kind == "transcode":
                        why.append("the copy is in place at OUT without its "
                                   "OUT.derivation.json (command exit %d)" % rc)
                    else:
                        why.append("the target is neither absent, old nor a valid new bundle "
                                   "(command exit %d)" % rc)
            left = [n for n in hidden_left(d, name)]
            st["left"] += len(left)
            if left:
                st["left_trials"] += 1
                for n in left:
                    p = os.path.join(d, n)
                    if os.path.isfile(p) and kind != "transcode":
                        v = common.run([evidence, "verify", p], env=env)
                        if v.rc == 0:
                            st["left_valid"] += 1
            # the same command again, to its end
            if kind in ("pack", "transcode") and os.path.exists(target):
                os.remove(target)
                if os.path.exists(target + ".derivation.json"):
                    os.remove(target + ".derivation.json")
            rc2, _, err2 = timed(cmd_for(kind, target), env)
            st["rerun_rc"].append(rc2)
            if rc2 != 0:
                why.append("the re-run exits %d: %s" % (rc2, err2.strip()[:200]))
            after = hidden_left(d, name)
            st["left_after"] += len(after)
            if after:
                why.append("temporary outputs survive the re-run: %s" % after[:3])
            if kind != "transcode" and rc2 == 0:
                v = common.run([evidence, "verify", target], env=env)
                if v.rc != 0:
                    why.append("the re-run's bundle does not verify (exit %d)" % v.rc)
            if why:
                failures.append("%s trial %d (kill after %.3f s): %s" % (kind, t, delay,
                                                                        "; ".join(why)))
            shutil.rmtree(d)
        rows.append((kind, "%.2f" % dur, st["n"], st["killed"], st["finished"], st["absent"],
                     st["old"], st["new"], st["bad"], "%d in %d trials" % (st["left"],
                                                                           st["left_trials"]),
                     st["left_valid"], common.count_codes(st["rerun_rc"]), st["left_after"]))
    common.table("Experiment 4: kill -9 at a random moment",
                 ["command", "run time s", "trials", "killed", "finished first",
                  "target absent", "target old", "target new, valid", "target other (FAIL)",
                  "leftovers after kill", "leftovers that verify", "re-run exit codes",
                  "leftovers after re-run"], rows,
                 "%d trials; %d failed." % (sum(r[2] for r in rows), len(failures)))
    if failures:
        print("\nFAILED:")
        for f in failures:
            print("  " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
