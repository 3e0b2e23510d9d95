#!/usr/bin/env python3
"""An independent, strict BagIt 1.0 (RFC 8493) validator.

Written from the RFC 8493 checklist (section numbers below are the RFC's),
not from libevidence's code, so that the two can check each other.

usage: bagit_validate.py [--json] [--writer] BAG
  BAG       a bag folder, or a ZIP holding exactly one top folder (the bag)
  --json    print {"valid": bool, "complete": bool, "problems": [...]}
  --writer  also check what a WRITER must (and, as warnings, should) do:
            exact bagit.txt bytes, lower-case hex, final newlines, every tag
            file in a tag manifest, SHA-512, short bag-info lines, portable
            names

exit: 0 valid (warnings allowed), 1 not valid, 2 usage error or unreadable

Never fetches anything named in fetch.txt (RFC 8493 5.2). Standard library
only.
"""
import hashlib
import io
import json
import os
import re
import stat
import sys
import unicodedata
import zipfile

CHUNK = 1 << 20

# RFC 8493 2.4: algorithm names as they appear in file names (normalized)
ALGS = {
    "md5": (hashlib.md5, 32),
    "sha1": (hashlib.sha1, 40),
    "sha224": (hashlib.sha224, 56),
    "sha256": (hashlib.sha256, 64),
    "sha384": (hashlib.sha384, 96),
    "sha512": (hashlib.sha512, 128),
}

WINDOWS_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(\..*)?$", re.I)


class Problems:
    def __init__(self):
        self.items = []

    def add(self, severity, code, path, message):
        self.items.append({"severity": severity, "code": code, "path": path,
                           "message": message})

    def error(self, code, path, message):
        self.add("error", code, path, message)

    def warning(self, code, path, message):
        self.add("warning", code, path, message)

    def has_errors(self):
        return any(p["severity"] == "error" for p in self.items)


# ---------------------------------------------------------------------------
# storage: a folder or a ZIP, seen as {bag-relative path: entry}

class FolderBag:
    def __init__(self, root, probs):
        self.root = root
        self.files = {}   # rel path -> size
        self.dirs = set()
        for dirpath, dirnames, filenames in os.walk(root):
            rel_dir = os.path.relpath(dirpath, root)
            rel_dir = "" if rel_dir == "." else rel_dir
            for d in list(dirnames):
                rel = os.path.join(rel_dir, d) if rel_dir else d
                full = os.path.join(dirpath, d)
                if os.path.islink(full):
                    probs.error("symlink", rel, "%s is a symbolic link" % rel)
                    dirnames.remove(d)
                    continue
                self.dirs.add(rel)
            for n in filenames:
                rel = os.path.join(rel_dir, n) if rel_dir else n
                full = os.path.join(dirpath, n)
                st = os.lstat(full)
                if stat.S_ISLNK(st.st_mode):
                    probs.error("symlink", rel, "%s is a symbolic link" % rel)
                    continue
                if not stat.S_ISREG(st.st_mode):
                    probs.error("special-file", rel, "%s is not a regular file" % rel)
                    continue
                self.files[rel] = st.st_size

    def read(self, rel):
        with open(os.path.join(self.root, rel), "rb") as f:
            return f.read()

    def open(self, rel):
        return open(os.path.join(self.root, rel), "rb")


class ZipBag:
    def __init__(self, path, probs):
        self.zf = zipfile.ZipFile(path)
        self.files = {}
        self.info = {}
        self.dirs = set()
        tops = set()
        seen = set()
        for zi in self.zf.infolist():
            name = zi.filename
            if name in seen:
                probs.error("zip-duplicate", name, "ZIP entry %r appears twice" % name)
                continue
            seen.add(name)
            if name.startswith("/") or "\\" in name or "\x00" in name or \
                    any(c in ("..", ".") for c in name.rstrip("/").split("/")) or \
                    re.match(r"^[A-Za-z]:", name):
                probs.error("zip-unsafe-name", name, "unsafe ZIP entry name %r" % name)
                continue
            mode = (zi.external_attr >> 16) & 0xFFFF
            if zi.create_system == 3 and stat.S_ISLNK(mode):
                probs.error("symlink", name, "ZIP entry %r is a symbolic link" % name)
                continue
            parts = name.split("/")
            if len(parts) < 2:
                probs.error("zip-top-level-file", name,
                            "%r is at the top of the ZIP, outside the bag folder" % name)
                continue
            tops.add(parts[0])
            rel = "/".join(parts[1:])
            if name.endswith("/"):
                if rel.rstrip("/"):
                    self.dirs.add(rel.rstrip("/"))
                continue
            self.files[rel] = zi.file_size
            self.info[rel] = zi
            # implied folders
            for i in range(1, len(parts) - 1):
                self.dirs.add("/".join(parts[1:i + 1]))
        if len(tops) != 1:
            probs.error("zip-top-folder", None,
                        "the ZIP must hold exactly one top folder; it holds %d" % len(tops))
        self.top = sorted(tops)[0] if tops else None

    def read(self, rel):
        return self.zf.read(self.info[rel])

    def open(self, rel):
        return self.zf.open(self.info[rel])


# ---------------------------------------------------------------------------
# text helpers (RFC 8493 2.3)

def split_lines(text):
    """Lines ended by LF, CR or CRLF; returns (lines, ends_with_eol)."""
    if text == "":
        return [], True
    parts = re.split(r"\r\n|\r|\n", text)
    if parts[-1] == "":
        return parts[:-1], True
    return parts, False


def decode_text(bag, rel, probs, what="tag file"):
    data = bag.read(rel)
    if data.startswith(b"\xef\xbb\xbf"):
        probs.error("bom", rel, "%s begins with a byte-order mark (RFC 8493 2.3)" % rel)
        data = data[3:]
    try:
        return data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        probs.error("not-utf8", rel, "%s %s is not UTF-8 (%s)" % (what, rel, e))
        return None


PCT = re.compile(r"%(25|0[aA]|0[dD])")


def decode_path(p):
    # RFC 8493 2.1.3: only %25, %0A, %0D are decoded (either case)
    return PCT.sub(lambda m: {"25": "%", "0a": "\n", "0d": "\r"}[m.group(1).lower()], p)


def unsafe(path):
    if path == "":
        return "empty path"
    if path.startswith("/"):
        return "absolute path"
    if re.match(r"^[A-Za-z]:", path):
        return "drive letter"
    parts = path.split("/")
    if parts[0].startswith("~"):
        return "starts with ~"
    for c in parts:
        if c == "":
            return "empty path component"
        if c in (".", ".."):
            return "'%s' component" % c
    if "\x00" in path:
        return "NUL byte"
    return None


def nfc(s):
    return unicodedata.normalize("NFC", s)


# ---------------------------------------------------------------------------

def parse_manifest(bag, rel, alg, probs, writer):
    """Returns list of (line_no, digest, path) or None when unreadable."""
    text = decode_text(bag, rel, probs, "manifest")
    if text is None:
        return None
    lines, eol = split_lines(text)
    if not eol:
        (probs.error if writer else probs.warning)(
            "no-final-eol", rel, "%s: the last line has no line ending (RFC 8493 2.3)" % rel)
    if writer and ("\r" in text):
        probs.warning("crlf", rel, "%s uses CR line endings" % rel)
    out = []
    hexlen = ALGS[alg][1] if alg in ALGS else None
    for i, line in enumerate(lines, 1):
        if line == "":
            probs.warning("blank-line", rel, "%s line %d is empty" % (rel, i))
            continue
        m = re.match(r"^([^ \t]+)[ \t]+(.+)$", line, re.S)
        if not m:
            probs.error("manifest-line", rel, "%s line %d is not 'checksum path'" % (rel, i))
            continue
        digest, path = m.group(1), m.group(2)
        if path.startswith("*") and " " in line and line[len(digest)] == " " \
                and line[len(digest) + 1:].startswith("*"):
            # RFC 8493 6.1.3: md5sum binary style; MAY accept, MUST warn
            probs.warning("md5sum-style", rel,
                          "%s line %d uses '*path' (md5sum style): fails strict validation"
                          % (rel, i))
            path = path[1:]
        if not re.fullmatch(r"[0-9A-Fa-f]+", digest) or (hexlen and len(digest) != hexlen):
            probs.error("manifest-digest", rel, "%s line %d: %r is not a %s digest"
                        % (rel, i, digest[:80], alg))
            continue
        if writer and digest != digest.lower():
            probs.error("upper-hex", rel, "%s line %d: writers must use lower-case hex" % (rel, i))
        out.append((i, digest.lower(), decode_path(path)))
    return out


def hash_file(bag, rel, algs):
    hs = {a: ALGS[a][0]() for a in algs}
    with bag.open(rel) as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            for h in hs.values():
                h.update(b)
    return {a: h.hexdigest() for a, h in hs.items()}


def validate(bag, probs, writer):
    files = bag.files
    # --- bagit.txt (2.1.1) ---------------------------------------------------
    if "bagit.txt" not in files:
        probs.error("bagit-missing", "bagit.txt", "bagit.txt is missing (RFC 8493 2.1.1)")
        return False
    raw = bag.read("bagit.txt")
    if writer and raw != b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n":
        probs.error("bagit-bytes", "bagit.txt", "bagit.txt is not exactly the RFC 8493 "
                    "2.1.1 text for version 1.0: %r" % raw[:120])
    text = decode_text(bag, "bagit.txt", probs)
    version = None
    if text is not None:
        lines, eol = split_lines(text)
        if len(lines) != 2:
            probs.error("bagit-invalid", "bagit.txt",
                        "bagit.txt must have exactly two lines, it has %d" % len(lines))
        else:
            m1 = re.fullmatch(r"BagIt-Version: ([0-9]+)\.([0-9]+)", lines[0])
            m2 = re.fullmatch(r"Tag-File-Character-Encoding: (\S+)", lines[1])
            if not m1:
                probs.error("bagit-invalid", "bagit.txt", "bad first line %r" % lines[0][:80])
            else:
                version = (int(m1.group(1)), int(m1.group(2)))
                if (0, 93) <= version <= (0, 97):
                    probs.warning("bagit-version", "bagit.txt",
                                  "BagIt-Version %d.%d is a pre-RFC draft; checked by 1.0 "
                                  "rules" % version)
                elif version != (1, 0):
                    probs.error("bagit-version-unsupported", "bagit.txt",
                                "BagIt-Version %d.%d: this validator knows 1.0 (and the "
                                "0.93-0.97 drafts) only" % version)
                    return False
            if not m2:
                probs.error("bagit-invalid", "bagit.txt", "bad second line %r" % lines[1][:80])
            elif m2.group(1).upper().replace("_", "-") not in ("UTF-8", "UTF8"):
                probs.error("encoding-unsupported", "bagit.txt",
                            "tag file encoding %s is not supported by this validator"
                            % m2.group(1))
                return False
    # --- data/ (2.1.2) --------------------------------------------------------
    payload = {p: s for p, s in files.items() if p.startswith("data/")}
    if "data" not in bag.dirs and not payload:
        probs.error("data-missing", "data", "the bag has no data/ folder (RFC 8493 2.1.2)")
    tagfiles = {p: s for p, s in files.items() if not p.startswith("data/")}
    # --- manifests (2.1.3, 2.2.1) ----------------------------------------------
    payload_mf, tag_mf = {}, {}
    for p in sorted(tagfiles):
        m = re.fullmatch(r"(tag)?manifest-([^/]+)\.txt", p)
        if not m:
            continue
        alg = m.group(2)
        norm = re.sub(r"[^a-z0-9]", "", alg.lower())
        if norm != alg:
            probs.error("manifest-name", p, "algorithm in %s is not normalized (%s) "
                        "(RFC 8493 2.4)" % (p, norm))
        if norm not in ALGS:
            probs.warning("algorithm-unknown", p, "cannot compute %s; %s is not checked"
                          % (alg, p))
        entries = parse_manifest(bag, p, norm, probs, writer)
        if entries is None:
            continue
        (tag_mf if m.group(1) else payload_mf)[p] = (norm, entries)
    if not payload_mf:
        probs.error("no-payload-manifest", None,
                    "the bag has no payload manifest (RFC 8493 2.1.3)")
    elif not any(a in ALGS for a, _ in payload_mf.values()):
        # RFC 8493 3: valid means every checksum was verified
        probs.error("no-checkable-manifest", None,
                    "no payload manifest uses an algorithm this validator can compute, so "
                    "no checksum can be verified")

    expected = {}   # rel -> {alg: digest}
    listed_in = {}  # payload rel -> set(manifest names)
    file_nfc = {}
    for f in files:
        file_nfc.setdefault(nfc(f), []).append(f)

    def resolve(path, mname):
        if path in files:
            return path
        cands = file_nfc.get(nfc(path), [])
        if len(cands) == 1:
            probs.warning("normalization", cands[0], "%s names %r, which matches the file "
                          "%r only after Unicode normalization (RFC 8493 6.1.1.3)"
                          % (mname, path, cands[0]))
            return cands[0]
        return None

    fetch_paths = set()
    # fetch.txt first (2.2.3): its files may be absent
    if "fetch.txt" in files:
        text = decode_text(bag, "fetch.txt", probs)
        if text is not None:
            lines, _ = split_lines(text)
            probs.warning("fetch-present", "fetch.txt",
                          "fetch.txt lists %d file(s); this validator never fetches" % len(lines))
            for i, line in enumerate(lines, 1):
                m = re.fullmatch(r"(\S+)[ \t]+(\d+|-)[ \t]+(.+)", line, re.S)
                if not m:
                    probs.error("fetch-line", "fetch.txt", "fetch.txt line %d is malformed" % i)
                    continue
                url, _, path = m.groups()
                if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url):
                    probs.error("fetch-url", "fetch.txt", "line %d: %r is not an absolute "
                                "URI" % (i, url))
                path = decode_path(path)
                why = unsafe(path)
                if why or not path.startswith("data/"):
                    probs.error("fetch-path", "fetch.txt", "line %d: %r: %s"
                                % (i, path, why or "not under data/"))
                    continue
                fetch_paths.add(path)

    for mname, (alg, entries) in sorted(payload_mf.items()):
        seen = {}
        for (ln, digest, path) in entries:
            why = unsafe(path)
            if why:
                probs.error("manifest-unsafe", mname, "%s line %d: %r: %s (RFC 8493 5.1)"
                            % (mname, ln, path, why))
                continue
            if not path.startswith("data/"):
                probs.error("manifest-outside-data", mname, "%s line %d: %r is outside data/"
                            % (mname, ln, path))
                continue
            if path in seen:
                probs.error("manifest-duplicate", path, "%s lists %r twice" % (mname, path))
                continue
            seen[path] = True
            if path in bag.dirs:
                probs.error("manifest-directory", path, "%s lists the folder %r" % (mname, path))
                continue
            real = resolve(path, mname)
            if real is None:
                if path in fetch_paths:
                    probs.error("fetch-incomplete", path, "%r is in fetch.txt but not in the "
                                "bag: the bag is not complete" % path)
                else:
                    probs.error("missing", path, "%r is listed in %s but absent" % (path, mname))
                continue
            expected.setdefault(real, {})
            if alg in ALGS:
                expected[real][alg] = digest
            listed_in.setdefault(real, set()).add(mname)
        # names that differ only in case or normalization (6.1.1.3)
        keys = {}
        for p in seen:
            k = nfc(p).casefold()
            if k in keys and keys[k] != p:
                probs.warning("name-collision", p, "%s lists %r and %r, which differ only in "
                              "case or Unicode normalization" % (mname, keys[k], p))
            keys[k] = p
    for p in fetch_paths:
        for mname in payload_mf:
            if p not in [e[2] for e in payload_mf[mname][1]]:
                probs.error("fetch-not-in-manifest", p, "fetch.txt names %r, which %s does "
                            "not list" % (p, mname))
    # completeness (3): every payload file in every payload manifest
    for p in sorted(payload):
        got = listed_in.get(p, set())
        for mname in payload_mf:
            if mname not in got:
                probs.error("not-in-manifest", p, "%r is not listed in %s" % (p, mname))
    # tag manifests (2.2.1)
    for mname, (alg, entries) in sorted(tag_mf.items()):
        names = set()
        for (ln, digest, path) in entries:
            why = unsafe(path)
            if why:
                probs.error("manifest-unsafe", mname, "%s line %d: %r: %s" % (mname, ln, path, why))
                continue
            if path.startswith("data/"):
                probs.error("tagmanifest-payload", mname, "%s lists payload file %r"
                            % (mname, path))
                continue
            if re.fullmatch(r"tagmanifest-[^/]+\.txt", path):
                probs.error("tagmanifest-lists-tagmanifest", mname, "%s lists %r"
                            % (mname, path))
                continue
            if path in names:
                probs.error("manifest-duplicate", path, "%s lists %r twice" % (mname, path))
                continue
            names.add(path)
            real = resolve(path, mname)
            if real is None:
                probs.error("missing", path, "%r is listed in %s but absent" % (path, mname))
                continue
            expected.setdefault(real, {})
            if alg in ALGS:
                if alg in expected[real] and expected[real][alg] != digest:
                    probs.error("manifest-conflict", real, "%s disagrees about %r" % (mname, real))
                expected[real][alg] = digest
        for pm in payload_mf:
            if pm not in names:
                probs.error("tagmanifest-incomplete", mname, "%s does not list %s (RFC 8493 "
                            "2.2.1)" % (mname, pm))
        if writer:
            for t in sorted(tagfiles):
                if t not in names and not re.fullmatch(r"tagmanifest-[^/]+\.txt", t):
                    probs.warning("tag-unlisted", t, "%s does not list the tag file %r "
                                  "(RFC 8493 2.2.1 SHOULD)" % (mname, t))
    if writer:
        if not tag_mf:
            probs.warning("no-tagmanifest", None, "no tag manifest (RFC 8493 2.2.1 OPTIONAL)")
        if "sha512" not in [a for a, _ in payload_mf.values()]:
            probs.warning("no-sha512", None, "no SHA-512 manifest (RFC 8493 2.4 SHOULD "
                          "enable SHA-512 by default)")
        palgs = sorted(a for a, _ in payload_mf.values())
        talgs = sorted(a for a, _ in tag_mf.values())
        if tag_mf and palgs != talgs:
            probs.warning("tagmanifest-algorithms", None, "tag manifests use %s, payload "
                          "manifests %s (RFC 8493 2.2.1 SHOULD match)" % (talgs, palgs))
    # --- bag-info.txt (2.2.2) ----------------------------------------------------
    if "bag-info.txt" in files:
        text = decode_text(bag, "bag-info.txt", probs)
        if text is not None:
            lines, eol = split_lines(text)
            if not eol:
                (probs.error if writer else probs.warning)(
                    "no-final-eol", "bag-info.txt", "bag-info.txt: last line has no line ending")
            elems = []
            for i, line in enumerate(lines, 1):
                if writer and len(line) > 79:
                    probs.warning("long-line", "bag-info.txt", "bag-info.txt line %d is %d "
                                  "characters (RECOMMENDED <= 79)" % (i, len(line)))
                if line[:1] in (" ", "\t"):
                    if not elems:
                        probs.error("baginfo-line", "bag-info.txt", "line %d continues nothing"
                                    % i)
                    else:
                        elems[-1][1] += " " + line.lstrip(" \t")
                    continue
                if ":" not in line:
                    probs.error("baginfo-line", "bag-info.txt", "line %d has no ':'" % i)
                    continue
                label, value = line.split(":", 1)
                legacy = version is not None and version < (1, 0)
                if legacy:
                    label, value = label.strip(" \t"), value.lstrip(" \t")
                else:
                    if label == "" or label != label.strip(" \t"):
                        probs.error("baginfo-label", "bag-info.txt", "line %d: label %r starts "
                                    "or ends with whitespace" % (i, label))
                        continue
                    if value[:1] in (" ", "\t"):
                        value = value[1:]
                    elif value != "":
                        probs.error("baginfo-line", "bag-info.txt", "line %d: no whitespace "
                                    "after ':'" % i)
                elems.append([label, value])
            oxums = [v for (l, v) in elems if l.lower() == "payload-oxum"]
            if len(oxums) > 1:
                probs.error("oxum-repeated", "bag-info.txt", "Payload-Oxum appears %d times"
                            % len(oxums))
            if oxums:
                m = re.fullmatch(r"([0-9]+)\.([0-9]+)", oxums[0])
                if not m:
                    probs.error("oxum-invalid", "bag-info.txt", "Payload-Oxum %r is malformed"
                                % oxums[0])
                else:
                    ob, of = int(m.group(1)), int(m.group(2))
                    tb, tf = sum(payload.values()), len(payload)
                    if (ob, of) != (tb, tf):
                        probs.error("oxum-mismatch", "bag-info.txt", "Payload-Oxum says %d.%d, "
                                    "the payload is %d.%d" % (ob, of, tb, tf))
            if writer:
                for l in ("bagging-date", "bag-size", "payload-oxum", "bag-group-identifier",
                          "bag-count"):
                    if sum(1 for (x, _) in elems if x.lower() == l) > 1:
                        probs.warning("baginfo-repeated", "bag-info.txt", "%s repeated" % l)
                for (x, v) in elems:
                    if x.lower() == "bagging-date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
                        probs.error("bagging-date", "bag-info.txt", "Bagging-Date %r is not "
                                    "YYYY-MM-DD" % v)
    # --- portable names (6.1) ----------------------------------------------------
    if writer:
        keys = {}
        for p in payload:
            k = nfc(p).casefold()
            if k in keys:
                probs.error("name-collision", p, "%r and %r differ only in case or "
                            "normalization (RFC 8493 6.1.1.3)" % (keys[k], p))
            keys[k] = p
            for comp in p.split("/"):
                if re.search(r'[<>:"\\|?*]', comp) or WINDOWS_RESERVED.match(comp) or \
                        len(comp.encode("utf-8")) > 255:
                    probs.warning("windows-hostile", p, "%r is not portable to Windows "
                                  "(RFC 8493 6.1.2)" % p)
                    break
    # --- validity (3): every checksum -------------------------------------------
    for rel in sorted(expected):
        algs = [a for a in expected[rel] if a in ALGS]
        if not algs:
            continue
        try:
            got = hash_file(bag, rel, algs)
        except (OSError, zipfile.BadZipFile, EOFError) as e:
            probs.error("unreadable", rel, "%s cannot be read: %s" % (rel, e))
            continue
        for a in algs:
            if got[a] != expected[rel][a]:
                probs.error("checksum", rel, "%s: %s is %s, the manifest says %s"
                            % (rel, a, got[a], expected[rel][a]))
    return True


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    opts = [a for a in argv[1:] if a.startswith("--")]
    if len(args) != 1 or any(o not in ("--json", "--writer") for o in opts):
        sys.stderr.write(__doc__)
        return 2
    path = args[0]
    writer = "--writer" in opts
    probs = Problems()
    try:
        if os.path.isdir(path):
            bag = FolderBag(path, probs)
        else:
            bag = ZipBag(path, probs)
    except (OSError, zipfile.BadZipFile) as e:
        sys.stderr.write("bagit_validate: %s: cannot open: %s\n" % (path, e))
        return 2
    try:
        validate(bag, probs, writer)
    except (OSError, zipfile.BadZipFile) as e:
        probs.error("unreadable", None, str(e))
    valid = not probs.has_errors()
    if "--json" in opts:
        print(json.dumps({"valid": valid, "problems": probs.items}, indent=1))
    else:
        for p in probs.items:
            print("%s %s %s: %s" % (p["severity"], p["code"], p["path"], p["message"]))
        print("%s: %s" % (path, "valid" if valid else "INVALID"))
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
