#!/usr/bin/env python3
"""Interfere with a running command at a precise moment: when a file whose
name matches a pattern appears in a folder (e.g. the temporary output of
`evidence pack`), either stop the command, run a shell command, and let it
go on; or send it a signal.

usage:
  pack_race.py DIR PATTERN stop "SHELL-COMMAND" OUT ERR -- CMD [ARG...]
  pack_race.py DIR PATTERN signal INT|TERM|KILL OUT ERR -- CMD [ARG...]

  DIR, PATTERN  watch DIR (recursively) for a path, relative to DIR,
                matching the fnmatch PATTERN ("*" also matches "/" and dot
                files); "PATTERN@N" also waits until that file holds at
                least N bytes
  OUT, ERR      files for the command's stdout and stderr
Prints the command's exit status (128+N when killed by signal N) on stdout;
exits 0, or 3 when the file never appeared before the command ended (the
race was lost: the test cannot conclude), 2 on a usage error.
Standard library only.
"""
import fnmatch
import os
import signal
import subprocess
import sys
import time


def main(argv):
    try:
        sep = argv.index("--")
    except ValueError:
        sep = -1
    if sep != 7 or len(argv) <= 8 or argv[3] not in ("stop", "signal"):
        sys.stderr.write(__doc__)
        return 2
    folder, pattern, mode, what, out, err = argv[1:7]
    cmd = argv[8:]
    with open(out, "wb") as fo, open(err, "wb") as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL)
        seen = False
        deadline = time.time() + 120
        glob, _, minsize = pattern.partition("@")
        minsize = int(minsize or 0)
        while p.poll() is None and time.time() < deadline:
            for dp, dn, fn in os.walk(folder):
                for n in fn + dn:
                    full = os.path.join(dp, n)
                    if not fnmatch.fnmatch(os.path.relpath(full, folder), glob):
                        continue
                    try:
                        if minsize and os.stat(full).st_size < minsize:
                            continue
                    except OSError:
                        continue
                    seen = True
                    break
                if seen:
                    break
            if seen:
                break
            time.sleep(0.0005)
        if seen:
            if mode == "stop":
                os.kill(p.pid, signal.SIGSTOP)
                try:
                    subprocess.run(["bash", "-c", what], check=False)
                finally:
                    os.kill(p.pid, signal.SIGCONT)
            else:
                os.kill(p.pid, getattr(signal, "SIG" + what))
        try:
            rc = p.wait(timeout=300)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
    print(128 - rc if rc < 0 else rc)
    return 0 if seen else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv))
