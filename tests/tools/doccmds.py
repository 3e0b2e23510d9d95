#!/usr/bin/env python3
"""The commands shown in the documentation, for tests/cli/docs_commands.sh.

Every command a reader can copy from README.md, docs/**/*.md or the help
pages (docs/cli/evidence-*.md, "Example(s):" sections) must run in CI. A
command block is a fenced block tagged sh, bash, shell or console, an
untagged fenced block whose first command starts with a known program, or
an indented (4-space) block that starts with a known program.

The nearest line above a block's opening fence (over blank lines and other
HTML comments) may say how it is run:

    <!-- docs-test: run by tests/cli/NAME.sh -->   another test runs it (that
                                                   test must name this file)
    <!-- docs-test: skip: REASON -->               not run, and why

Blocks without a marker, in the files this harness runs itself (README.md
and the help pages), are run in order, in one shell, by `script`.

  doccmds.py check ROOT
        list every command block with how it is run; exit 1 when a block in a
        file the harness does not run has no marker, when a marker names a
        test that does not exist or does not mention the file, or when a skip
        gives no reason
  doccmds.py script ROOT FILE
        print a bash script that runs FILE's unmarked blocks in order; each
        block is announced on stderr as "== FILE:LINE" so that a failure
        names its block
  doccmds.py extract ROOT FILE TEST OUTDIR
        write each block of FILE marked "run by TEST" to OUTDIR/NN.sh (NN
        from 01, in order), for a test that runs them one by one as printed

Standard library only.
"""
import glob
import os
import re
import sys

PROGRAMS = ("evidence", "ffmpeg", "ffprobe", "openssl", "unzip", "zip", "sha256sum",
            "exiftool", "cmake", "ctest", "bash", "sh", "sed", "python3", "find", "head",
            "cmp", "when=", "curl", "bagit")
SHELL_TAGS = ("sh", "bash", "shell", "console")
MARK = re.compile(r"^<!--\s*docs-test:\s*(.*?)\s*-->\s*$")
# files whose unmarked blocks this harness runs itself
SELF_RUN = ("README.md", "docs/auditing.md", "docs/officer-guide.md")


def doc_files(root):
    files = [os.path.join(root, "README.md")]
    files += sorted(glob.glob(os.path.join(root, "docs", "**", "*.md"), recursive=True))
    return [f for f in files if os.path.isfile(f)]


def is_help_page(rel):
    return rel.startswith("docs/cli/evidence-") or rel == "docs/cli/evidence.md"


def first_command(lines):
    for l in lines:
        s = l.strip()
        if s and not s.startswith("#"):
            return s
    return ""


def marker_above(lines, start):
    """The marker: the nearest line above, over blank lines and other HTML
    comments (such as "<!-- BEGIN audit.sh -->")."""
    k = start - 1
    while k >= 0:
        t = lines[k].strip()
        mm = MARK.match(t)
        if mm:
            return mm.group(1)
        if t and not (t.startswith("<!--") and t.endswith("-->")):
            return None
        k -= 1
    return None


def blocks(path, rel):
    """(line, kind, marker, text) for each command block of one file."""
    out = []
    lines = open(path, encoding="utf-8").read().split("\n")
    if is_help_page(rel):
        # help text: the indented lines after "Example:" / "Examples:"
        i = 0
        while i < len(lines):
            if re.match(r"^Examples?:\s*$", lines[i]):
                j = i + 1
                while j < len(lines) and (lines[j].startswith("  ") or not lines[j].strip()):
                    if lines[j].strip():
                        out.append((j + 1, "help", None, lines[j].strip()))
                    j += 1
                i = j
            else:
                i += 1
        # join continuation lines ("... \")
        joined = []
        for ln, kind, mk, t in out:
            if joined and joined[-1][3].endswith("\\"):
                p = joined[-1]
                joined[-1] = (p[0], kind, mk, p[3] + "\n" + t)
            else:
                joined.append((ln, kind, mk, t))
        return joined
    i = 0
    prog = re.compile(r"^(%s)(\s|$)" % "|".join(map(re.escape, PROGRAMS)))
    while i < len(lines):
        m = re.match(r"^```\s*([A-Za-z0-9_-]*)\s*$", lines[i])
        # an indented code block (4 spaces, after a blank line) of commands
        if not m and lines[i].startswith("    ") and (i == 0 or not lines[i - 1].strip()) \
                and prog.match(lines[i].strip()):
            start = i
            body = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                body.append(lines[i][4:])
                i += 1
            while body and not body[-1].strip():
                body.pop()
            out.append((start + 1, "indented", marker_above(lines, start), "\n".join(body)))
            continue
        if not m:
            i += 1
            continue
        tag = m.group(1).lower()
        start = i
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        body = lines[i + 1:j]
        i = j + 1
        first = first_command(body)
        is_cmd = tag in SHELL_TAGS or (
            tag == "" and first and re.match(r"^(%s)(\s|$)" % "|".join(map(re.escape, PROGRAMS)), first))
        if not is_cmd:
            continue
        marker = marker_above(lines, start)
        out.append((start + 1, tag or "untagged", marker, "\n".join(body)))
    return out


def check(root):
    bad = 0
    for f in doc_files(root):
        rel = os.path.relpath(f, root)
        for line, kind, marker, _ in blocks(f, rel):
            where = "%s:%d" % (rel, line)
            if marker is None:
                if rel in SELF_RUN or is_help_page(rel):
                    print("run here      %s" % where)
                else:
                    print("NOT RUN       %s (%s block): mark it 'run by tests/cli/X.sh' or "
                          "'skip: reason'" % (where, kind))
                    bad += 1
            elif marker.startswith("run by "):
                test = marker[len("run by "):].strip()
                tp = os.path.join(root, test)
                if not os.path.isfile(tp):
                    print("BAD MARKER    %s: %s does not exist" % (where, test))
                    bad += 1
                elif os.path.basename(rel) not in open(tp, encoding="utf-8").read():
                    print("BAD MARKER    %s: %s does not mention %s" % (where, test,
                                                                     os.path.basename(rel)))
                    bad += 1
                else:
                    print("run by        %s -> %s" % (where, test))
            elif marker.startswith("skip:") and marker[5:].strip():
                print("skipped       %s: %s" % (where, marker[5:].strip()))
            else:
                print("BAD MARKER    %s: '%s' (use 'run by tests/cli/X.sh' or 'skip: reason')"
                      % (where, marker))
                bad += 1
    return 1 if bad else 0


def script(root, rel):
    path = os.path.join(root, rel)
    out = ["set -e -o pipefail"]
    n = 0
    for line, kind, marker, text in blocks(path, rel):
        if marker is not None:
            continue
        n += 1
        out.append("echo '== %s:%d' >&2" % (rel, line))
        out.append(text)
    if n == 0:
        out.append("echo 'no command block in %s' >&2; exit 1" % rel)
    print("\n".join(out))
    return 0


def extract(root, rel, test, outdir):
    os.makedirs(outdir, exist_ok=True)
    n = 0
    for line, kind, marker, text in blocks(os.path.join(root, rel), rel):
        if marker and marker.startswith("run by ") and marker[7:].strip() == test:
            n += 1
            with open(os.path.join(outdir, "%02d.sh" % n), "w") as f:
                f.write("# %s:%d\n%s\n" % (rel, line, text))
    print(n)
    return 0 if n else 1


def main(argv):
    if len(argv) >= 6 and argv[1] == "extract":
        return extract(argv[2], argv[3], argv[4], argv[5])
    if len(argv) >= 3 and argv[1] == "check":
        return check(argv[2])
    if len(argv) >= 4 and argv[1] == "script":
        return script(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
