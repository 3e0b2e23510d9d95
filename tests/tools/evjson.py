#!/usr/bin/env python3
"""Small checks on the --json output of evidence (for the CLI tests).

  evjson.py has-problem FILE CODE [PATH] [SEVERITY]
        exit 0 when a problem with that code (and path, and severity, when
        given; "" means any) is in the document, else 1. CODE may list
        alternatives: "modified|unreadable". Works on a single
        report and on "evidence.verify-many" (problems of every bundle).
  evjson.py problems FILE
        print "severity code path" for every problem (for failure messages)
  evjson.py get FILE KEY[.KEY|.INDEX...]
        print a value (strings bare, everything else as JSON); exit 1 when
        the key is absent
  evjson.py file-status FILE PATH
        print the status of PATH in the report's "files" list
  evjson.py valid FILE
        exit 0 when FILE holds exactly one JSON document (and nothing else)
  evjson.py check FILE VERDICT [CODE PATH SEVERITY]...
        one call for the usual checks: the document parses, its "verdict"
        is VERDICT ("" = any), and each problem triple is present (PATH or
        SEVERITY "" = any); prints what is wrong and exits 1

Standard library only.
"""
import json
import sys


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    return json.loads(data.decode("utf-8"))


def reports(doc):
    if isinstance(doc, dict) and isinstance(doc.get("bundles"), list):
        return [r for r in doc["bundles"] if isinstance(r, dict)]
    return [doc] if isinstance(doc, dict) else []


def problems(doc):
    out = []
    for r in reports(doc):
        for p in r.get("problems") or []:
            if isinstance(p, dict):
                out.append(p)
    return out


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    cmd, path = argv[1], argv[2]
    try:
        doc = load(path)
    except (OSError, ValueError) as e:
        sys.stderr.write("evjson: %s: %s\n" % (path, e))
        return 2
    if cmd == "valid":
        return 0
    if cmd == "check":
        bad = []
        verdict = argv[3]
        got = [r.get("verdict") for r in reports(doc)]
        if verdict and got != [verdict] * len(got) or not got:
            bad.append("verdict %s, expected %s" % (got, verdict))
        rest = argv[4:]
        if len(rest) % 3:
            sys.stderr.write("evjson: check needs CODE PATH SEVERITY triples\n")
            return 2
        for i in range(0, len(rest), 3):
            code, want_path, want_sev = rest[i], rest[i + 1] or None, rest[i + 2] or None
            if not any(p.get("code") in code.split("|") and
                       (want_path is None or p.get("path") == want_path) and
                       (want_sev is None or p.get("severity") == want_sev)
                       for p in problems(doc)):
                bad.append("no problem (%s, %s, %s)" % (code, want_path, want_sev))
        if bad:
            print("%s: %s" % (path, "; ".join(bad)))
            print("  problems: " + "; ".join("%s %s %s" % (p.get("severity"), p.get("code"),
                                                          p.get("path")) for p in problems(doc)))
            return 1
        return 0
    if cmd == "has-problem":
        code = argv[3]
        want_path = argv[4] if len(argv) > 4 and argv[4] != "" else None
        want_sev = argv[5] if len(argv) > 5 and argv[5] != "" else None
        for p in problems(doc):
            if p.get("code") not in code.split("|"):
                continue
            if want_path is not None and p.get("path") != want_path:
                continue
            if want_sev is not None and p.get("severity") != want_sev:
                continue
            return 0
        return 1
    if cmd == "problems":
        for p in problems(doc):
            print("%s %s %s" % (p.get("severity"), p.get("code"), p.get("path")))
        return 0
    if cmd == "get":
        v = doc
        for k in argv[3].split("."):
            if isinstance(v, list):
                try:
                    v = v[int(k)]
                except (ValueError, IndexError):
                    return 1
            elif isinstance(v, dict) and k in v:
                v = v[k]
            else:
                return 1
        print(v if isinstance(v, str) else json.dumps(v))
        return 0
    if cmd == "file-status":
        for r in reports(doc):
            for f in r.get("files") or []:
                if f.get("path") == argv[3]:
                    print(f.get("status"))
                    return 0
        return 1
    sys.stderr.write("evjson: unknown command %r\n" % cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
