#!/usr/bin/env python3
"""Make a bag's tag manifests and tag seal agree with its files as they are,
so that a test's edit of a tag file can be seen only by the check it aims
at (the views check, the record checks), not by the tag manifests.

    retag.py BAG_FOLDER

Each tagmanifest-<alg>.txt line is re-hashed with <alg>; a line whose file
is gone is dropped. tagseal-sha256.txt, when the bag has one, is rewritten
over the tag manifests. Used by tests/cli/views_layouts.sh,
tests/cli/views_case_layout.sh, tests/cli/index_exhibits.sh and
tests/tools/record_lie.py.
"""
import hashlib
import os
import sys


def sha(path, alg="sha256"):
    with open(path, "rb") as f:
        return hashlib.new(alg, f.read()).hexdigest()


def retag(bag):
    seal = []
    for name in sorted(os.listdir(bag)):
        if not (name.startswith("tagmanifest-") and name.endswith(".txt")):
            continue
        alg = name[len("tagmanifest-"):-4]
        out = []
        with open(os.path.join(bag, name), encoding="utf-8") as f:
            for line in f.read().splitlines():
                _, p = line.split("  ", 1)
                if os.path.exists(os.path.join(bag, p)):
                    out.append("%s  %s\n" % (sha(os.path.join(bag, p), alg), p))
        with open(os.path.join(bag, name), "w", encoding="utf-8") as f:
            f.write("".join(out))
        seal.append("%s  %s\n" % (sha(os.path.join(bag, name)), name))
    if os.path.exists(os.path.join(bag, "tagseal-sha256.txt")):
        with open(os.path.join(bag, "tagseal-sha256.txt"), "w") as f:
            f.write("".join(seal))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: retag.py BAG_FOLDER")
    retag(sys.argv[1])
