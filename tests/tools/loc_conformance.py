#!/usr/bin/env python3
"""The Library of Congress BagIt conformance suite, recreated at test time.

Provenance
----------
The cases are those of https://github.com/LibraryOfCongress/bagit-conformance-suite
(public domain, U.S. Government work): one folder per case,
v0.93 ... v1.0/{valid,invalid,warning,linux-only,windows-only,darwin-only}/NAME.
The suite's files are not copied here. The case list and what each case
holds were taken from what could be read of the suite (its README.md,
test-harness, and these files: v0.93/valid/duplicate-metadata-entries/
package-info.txt and tagmanifest-md5.txt, v0.95/valid/basic-bag-md5/
manifest-md5.txt, v0.97/valid/UTF-16-encoded-tag-files/bagit.txt,
v0.97/valid/local-fetch/{bag-info,fetch}.txt, v0.97/valid/duplicate-metadata-
entries/bag-info.txt, v0.97/invalid/out-of-scope-file-paths-using-dot-
notation/manifest-md5.txt, v0.97/invalid/bagit-with-invalid-whitespace/
bag-info.txt, v0.97/warning/filename-normalization/manifest-sha512.txt,
v0.97/warning/same-filename-listed-twice-with-different-normalization/
{README,manifest-sha512.txt}, v0.97/darwin-only/precomposed-character-in-
filename/manifest-md5.txt) and from a test of another implementation that
names the rest of the cases with the message each must produce
(Archive::BagIt's t/verify_bag.t). Where a case's files could not be read,
the bag is rebuilt from the case's name and that message; each case below
says which, in its "made" line. Only tiny tag-file contents are reused
(the metadata labels, the payload names, the bagit.txt lines); every
manifest and tag manifest is computed here.

The expected outcome is the suite's folder: valid (exit 0), invalid (not
valid: exit 1, or 3 when the bag cannot be checked), warning (valid, and the
named warning code is reported). The harness runs linux-only cases on Linux
only and windows-only/darwin-only cases elsewhere; here the windows-only cases
are run too (evidence refuses those paths on every system). Cases this tool
does not follow on purpose are marked "na" with the reason; they are still
run (no crash, verdict printed) but not scored.

Cases marked "extra" are not from the suite: they cover what the suite's
cases leave open (UTF-16 with a byte-order mark, CR line endings, an
encoding iconv does not know, bytes that are not text in the declared
encoding, 1.0 bags whose tag files are not UTF-8, which RFC 8493 2.1.1
allows: UTF-8 is a SHOULD).

usage: loc_conformance.py OUTDIR [--fetch-port N] [--zip]
  writes OUTDIR/<id>/<bag folder>, one per case (with --zip also <bag folder>.zip,
  serialised by tests/tools/mkbag.py's zip_folder), and prints one JSON object
  per line: {"id", "bag", "expect", "codes", "applicable", "why", "extra"}
  expect: "valid" | "invalid" | "warning"; codes: problem codes the report
  must hold (for a warning case, warnings; for an invalid case, errors).
Standard library only.
"""
import hashlib
import json
import os
import sys
import unicodedata

PORT = 9  # fetch.txt URLs point at a local canary (never fetched)

H = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha224": hashlib.sha224,
     "sha256": hashlib.sha256, "sha512": hashlib.sha512}
# python codec names of the encodings bagit.txt declares
CODEC = {"UTF-8": "utf-8", "UTF-16BE": "utf-16-be", "UTF-16": "utf-16",
         "ISO-8859-1": "iso-8859-1", "UTF-16LE": "utf-16-le"}


def enc_path(p):
    return p.replace("%", "%25").replace("\n", "%0A").replace("\r", "%0D")


class Bag:
    """A bag described in memory, written by write()."""

    def __init__(self, version="0.97", algs=("md5",), tag_algs=("md5",)):
        self.version = version
        self.encoding = "UTF-8"
        self.bagit = None                # raw bytes of bagit.txt, or None to compute
        self.no_bagit = False
        self.payload = {"data/bare-filename": b"bare filename\n",
                        "data/text-file.txt": b"a text file\n"}
        self.algs = list(algs)
        self.tag_algs = list(tag_algs)
        self.info_name = "package-info.txt" if version in ("0.93", "0.94", "0.95") else "bag-info.txt"
        self.info = [("Bagging-Date", "2016-02-26"), ("Bag-Software-Agent", "loc_conformance.py")]
        self.info_raw = None             # str: bag-info text as written
        self.manifest_path = {}          # payload path -> path as written in the manifests
        self.sep = "  "
        self.extra_lines = {}            # manifest file -> [str lines]
        self.omit = set()                # payload paths in no manifest
        self.fetch = None                # str
        self.eol = "\n"
        self.after = []                  # (path, bytes): written after the manifests
        self.remove_after = []           # paths removed after the manifests

    def text(self, s):
        return s.replace("\n", self.eol).encode(CODEC[self.encoding])

    def write(self, root):
        os.makedirs(os.path.join(root, "data"), exist_ok=True)
        tags = {}
        if not self.no_bagit:
            tags["bagit.txt"] = self.bagit if self.bagit is not None else (
                "BagIt-Version: %s\nTag-File-Character-Encoding: %s\n"
                % (self.version, self.encoding)).replace("\n", self.eol).encode()
        if self.info_raw is not None:
            tags[self.info_name] = self.text(self.info_raw)
        elif self.info is not None:
            tags[self.info_name] = self.text("".join("%s: %s\n" % kv for kv in self.info))
        for alg in self.algs:
            name = "manifest-%s.txt" % alg
            lines = ["%s%s%s" % (H[alg](data).hexdigest(), self.sep,
                                 enc_path(self.manifest_path.get(p, p)))
                     for p, data in sorted(self.payload.items()) if p not in self.omit]
            lines += self.extra_lines.get(name, [])
            tags[name] = self.text("".join(l + "\n" for l in lines))
        if self.fetch is not None:
            tags["fetch.txt"] = self.text(self.fetch)
        for p, data in self.payload.items():
            full = os.path.join(root, p)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)
        for name, data in tags.items():
            with open(os.path.join(root, name), "wb") as f:
                f.write(data)
        for alg in self.tag_algs:
            lines = ["%s %s" % (H[alg](data).hexdigest(), name)
                     for name, data in sorted(tags.items())]
            lines += self.extra_lines.get("tagmanifest-%s.txt" % alg, [])
            with open(os.path.join(root, "tagmanifest-%s.txt" % alg), "wb") as f:
                f.write(self.text("".join(l + "\n" for l in lines)))
        for p, data in self.after:
            full = os.path.join(root, p)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)
        for p in self.remove_after:
            os.unlink(os.path.join(root, p))


CASES = []


def case(cid, expect, made, checks, codes=(), na=None, extra=False, bagname=None):
    """Register a case: cid 'v0.97/valid/basic-bag'; made: how it is rebuilt;
    checks: what it checks; na: why it is not scored here."""
    def deco(fn):
        CASES.append(dict(id=cid, expect=expect, made=made, checks=checks, codes=list(codes),
                          na=na, extra=extra, fn=fn, bagname=bagname or cid.split("/")[-1]))
        return fn
    return deco


TEST5 = {"data/test1.txt": b"test1", "data/test2.txt": b"test2", "data/dir1/test3.txt": b"test3",
         "data/dir2/test4.txt": b"test4", "data/dir2/dir3/test5.txt": b"test5"}
# v0.93/valid/duplicate-metadata-entries/package-info.txt, labels repeated
DUP_INFO = [("Source-Organization", "Spengler University"),
            ("Source-Organization", "Spengler University2"),
            ("Contact-Name", "Edna Janssen"), ("Contact-Name", "foo Janssen"),
            ("Contact-Email", "ej@spengler.edu"), ("Contact-Email", "foo@spengler.edu"),
            ("Packing-Date", "2009-10-14"), ("Packing-Date", "2016-10-14")]

# ---- v0.93 - v0.96 -------------------------------------------------------------------
for _v in ("0.93", "0.94", "0.95", "0.96"):
    @case("v%s/valid/duplicate-metadata-entries" % _v, "valid",
          "package-info.txt (bag-info.txt from 0.96) with every label twice, as in the suite's "
          "v0.93 file; md5 manifest and tag manifest; payload test1..5 of basic-bag-md5",
          "a pre-RFC version, the drafts' package-info.txt, repeated metadata labels")
    def _dup(b, v=_v):
        b2 = Bag(v)
        b2.payload = dict(TEST5)
        b2.info = DUP_INFO
        return b2

for _c in ("basic-bag", "basic-bag-md5"):
    @case("v0.95/valid/%s" % _c, "valid",
          "payload data/test1.txt .. data/dir2/dir3/test5.txt holding 'test1' .. 'test5' "
          "(the suite's manifest-md5.txt gives exactly their md5); package-info.txt",
          "a 0.95 bag with nested payload folders")
    def _basic095(b):
        b2 = Bag("0.95")
        b2.payload = dict(TEST5)
        return b2


# ---- v0.97 valid ---------------------------------------------------------------------
@case("v0.97/valid/basic-bag", "valid", "two payload files, md5 manifest and tag manifest",
      "the plain 0.97 bag")
def _b(b):
    return b


for _alg in ("sha1", "sha224", "sha256", "sha512"):
    @case("v0.97/valid/basic-bag-%s" % _alg, "valid",
          "basic-bag with its manifest and tag manifest in %s only" % _alg,
          "each algorithm of the drafts",
          na=("SHA-224 is not an algorithm this tool computes (base/hash: md5, sha1, sha256, "
              "sha512); the bag is reported as not checkable (exit 3), never as valid")
          if _alg == "sha224" else None)
    def _balg(b, a=_alg):
        b.algs = [a]
        b.tag_algs = [a]
        return b


@case("v0.97/valid/UTF-16-encoded-tag-files", "valid",
      "bagit.txt (UTF-8) declares UTF-16BE, as the suite's does; bag-info.txt, the manifest "
      "and the tag manifest written in UTF-16BE without a byte-order mark",
      "tag files decoded from the declared encoding (iconv)")
def _u16(b):
    b.encoding = "UTF-16BE"
    b.info = [("Source-Organization", "Bibliothèque d'essai"), ("Bagging-Date", "2016-02-26")]
    return b


@case("v0.97/valid/ISO-8859-1-encoded-tag-files", "valid",
      "bagit.txt declares ISO-8859-1; bag-info.txt holds Latin-1 bytes (e, grave accent) and "
      "the manifest names data/café.txt in Latin-1 (the file's name on disk is UTF-8)",
      "Latin-1 tag files, and a payload name matched after decoding")
def _latin1(b):
    b.encoding = "ISO-8859-1"
    b.info = [("Source-Organization", "Bibliothèque nationale"), ("Contact-Name", "Zoë")]
    b.payload["data/café.txt"] = b"caf\xc3\xa9\n"
    return b


@case("v0.97/valid/bag-in-a-bag", "valid",
      "a complete bag (bagit.txt, manifest-md5.txt, data/) inside data/ of the outer bag",
      "tag file names inside data/ are payload")
def _bib(b):
    inner = {"bagit.txt": b"BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n",
             "data/inner.txt": b"inner\n"}
    inner["manifest-md5.txt"] = ("%s  data/inner.txt\n" % hashlib.md5(b"inner\n").hexdigest()).encode()
    for k, v in inner.items():
        b.payload["data/bag/" + k] = v
    return b


@case("v0.97/valid/bag-with-encoded-names", "valid",
      "payload names holding '%', LF and CR, written %25, %0A and %0D in the manifest",
      "percent-decoding of manifest paths")
def _encnames(b):
    b.payload["data/100%25 percent%.txt"] = b"percent\n"
    b.payload["data/line\nfeed.txt"] = b"lf\n"
    b.payload["data/carriage\rreturn.txt"] = b"cr\n"
    return b


@case("v0.97/valid/bag-with-escapable-characters", "valid",
      "payload names with shell- and URL-special characters (quotes, &, $, #, parentheses, "
      "brackets, a literal %41)", "names passed through without unescaping")
def _esc(b):
    b.payload["data/it's \"quoted\" & $dollar #hash (1) [2] %41.txt"] = b"escapable\n"
    return b


@case("v0.97/valid/bag-with-leading-dot-slash-in-manifest", "valid",
      "every manifest line written './data/...'", "a leading './' read as the bag folder",
      codes=["manifest-dot-slash"])
def _dot(b):
    for p in b.payload:
        b.manifest_path[p] = "./" + p
    return b


@case("v0.97/valid/bag-with-space", "valid",
      "payload names with a space, two spaces, and a leading and a trailing space",
      "only the first whitespace run separates checksum and path")
def _space(b):
    b.payload["data/file with space.txt"] = b"space\n"
    b.payload["data/two  spaces.txt"] = b"two\n"
    b.payload["data/ leading and trailing "] = b"edges\n"
    return b


@case("v0.97/valid/duplicate-metadata-entries", "valid",
      "bag-info.txt with Bagging-Date, Contact-Email and Contact-Name each twice (the suite's "
      "labels and values)", "repeated bag-info labels are valid")
def _dup097(b):
    b.info = [("Bagging-Date", "2016-02-26"), ("Bagging-Date", "2016-03-10"),
              ("Contact-Email", "cadams@loc.gov"), ("Contact-Email", "jsca@loc.gov"),
              ("Contact-Name", "Chris Adams"), ("Contact-Name", "John Scancella")]
    return b


@case("v0.97/valid/holey-bag", "valid",
      "fetch.txt lists two payload files that the manifest lists and the bag lacks",
      "a holey bag (files to be fetched)",
      na=("a bag whose fetch.txt files are absent is not complete (RFC 8493 3); this tool never "
          "fetches and reports it incomplete (fetch-not-fetched, exit 1) on purpose"))
def _holey(b):
    b.payload["data/remote-1.txt"] = b"remote one\n"
    b.payload["data/remote-2.txt"] = b"remote two\n"
    b.fetch = "".join("http://127.0.0.1:%d/%s %d %s\n" % (PORT, p[5:], len(b.payload[p]), p)
                      for p in ("data/remote-1.txt", "data/remote-2.txt"))
    b.remove_after = ["data/remote-1.txt", "data/remote-2.txt"]
    return b


@case("v0.97/valid/local-fetch", "valid",
      "the suite's fetch.txt: a file:/// URL with the path 'sachiel.png' (outside data/, in no "
      "manifest); the suite's bag-info.txt labels", "file:// URLs in fetch.txt",
      na=("fetch.txt names 'sachiel.png', outside data/ and in no manifest: RFC 8493 2.2.3 "
          "requires fetch paths in data/ and in every payload manifest, so this tool reports "
          "fetch-bad-path (exit 1); the suite only checks that a file: URL is not refused"))
def _localfetch(b):
    b.fetch = "file:///nonexistent/loc-conformance/sachiel.png 42000 sachiel.png\n"
    b.info = [("Bag-Software-Agent", "bagit-create 0.1.1"), ("Bagging-Date", "2021-11-18")]
    return b


@case("v0.97/valid/minimal-bag", "valid",
      "bagit.txt, manifest-md5.txt and one payload file; no bag-info.txt, no tag manifest",
      "the least a bag needs")
def _minimal(b):
    b.payload = {"data/test.txt": b"minimal\n"}
    b.info = None
    b.tag_algs = []
    return b


@case("v0.97/valid/uncommon-metadata-separators", "valid",
      "bag-info.txt with 'Label:value' (no space), 'Label :  value', a tab after the colon, "
      "and a folded (continued) line", "the drafts allow any whitespace around ':'")
def _seps(b):
    b.info_raw = ("Source-Organization:Spengler University\n"
                  "Contact-Name :  Edna Janssen\n"
                  "Contact-Phone:\t+1 408-555-1212\n"
                  "External-Description:   a value\n   folded onto a second line\n")
    return b


# ---- v0.97 invalid -------------------------------------------------------------------
@case("v0.97/invalid/baginfo-missing-encoding", "invalid",
      "bagit.txt with the BagIt-Version line only (the other implementation's message: "
      "'Encoding line missed')", "Tag-File-Character-Encoding is required",
      codes=["bagit-txt-invalid"])
def _noenc(b):
    b.bagit = b"BagIt-Version: 0.97\n"
    return b


@case("v0.97/invalid/bagit-with-invalid-whitespace", "invalid",
      "bagit.txt 'BagIt-Version : 0.97' (a space before the colon; the suite's v1.0 case of "
      "this name, per the other implementation's message); the suite's bag-info.txt labels",
      "bagit.txt's exact form", codes=["bagit-txt-invalid"])
def _ws097(b):
    b.bagit = b"BagIt-Version : 0.97\nTag-File-Character-Encoding: UTF-8\n"
    b.algs = ["sha256"]
    b.tag_algs = ["sha256"]
    return b


@case("v0.97/invalid/bom-in-bagit.txt", "invalid", "bagit.txt starting with a UTF-8 byte-order mark",
      "bagit.txt must not have a BOM", codes=["tag-bom"])
def _bom(b):
    b.bagit = b"\xef\xbb\xbfBagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n"
    return b


@case("v0.97/invalid/corrupt-data-file", "invalid",
      "data/bare-filename changed after the manifest was written", "payload checksums",
      codes=["modified"])
def _corrupt(b):
    b.after = [("data/bare-filename", b"changed\n")]
    return b


@case("v0.97/invalid/corrupt-tag-file", "invalid",
      "bag-info.txt changed after the tag manifest was written", "tag manifest checksums",
      codes=["tag-modified"])
def _corrupttag(b):
    b.after = [("bag-info.txt", b"Bagging-Date: 2016-02-27\n")]
    return b


@case("v0.97/invalid/extra-file-in-bag", "invalid", "data/bar present, in no manifest",
      "every payload file is listed", codes=["extra"])
def _extra(b):
    b.after = [("data/bar", b"bar\n")]
    return b


@case("v0.97/invalid/invalid-version-number", "invalid", "bagit.txt 'BagIt-Version: .97'",
      "M.N version syntax", codes=["bagit-txt-invalid"])
def _badver(b):
    b.bagit = b"BagIt-Version: .97\nTag-File-Character-Encoding: UTF-8\n"
    return b


@case("v0.97/invalid/missing-baginfo", "invalid",
      "bag-info.txt removed; the tag manifest still lists it", "files a tag manifest lists exist",
      codes=["missing"])
def _missinfo(b):
    b.remove_after = ["bag-info.txt"]
    return b


@case("v0.97/invalid/missing-bagit.txt", "invalid", "no bagit.txt", "bagit.txt is required",
      codes=["bagit-txt-missing"])
def _nobagit(b):
    b.no_bagit = True
    b.tag_algs = []
    return b


@case("v0.97/invalid/out-of-scope-file-paths-using-dot-notation", "invalid",
      "the suite's manifest line '../../../README.md' beside the payload lines",
      "a manifest path outside the bag is refused, never read", codes=["manifest-unsafe-path"])
def _dotdot(b):
    b.extra_lines["manifest-md5.txt"] = ["3e6ffc4a8a1f38a7094e15d2356d7252  ../../../README.md"]
    return b


@case("v0.97/invalid/out-of-scope-file-paths-using-dot-notation-for-fetch", "invalid",
      "fetch.txt line with the path '../../../README.md'",
      "a fetch.txt path outside the bag is refused, never fetched", codes=["fetch-bad-path"])
def _dotdotf(b):
    b.fetch = "http://127.0.0.1:%d/README.md 42 ../../../README.md\n" % PORT
    return b


@case("v0.97/invalid/same-filename-listed-twice-with-different-hashes", "invalid",
      "manifest-md5.txt lists data/bare-filename a second time with another checksum",
      "conflicting duplicate lines", codes=["manifest-duplicate"])
def _twicediff(b):
    b.extra_lines["manifest-md5.txt"] = ["0" * 32 + "  data/bare-filename"]
    return b


# ---- v0.97 linux-only and windows-only: paths out of the bag -----------------------------
UNSAFE = {
    "linux-only/out-of-scope-file-paths-using-absolute-path": "/tmp/foo",
    "linux-only/out-of-scope-file-paths-using-shortcut": "~/foo",
    "linux-only/out-of-scope-file-paths-using-shortcut-username": "~root/foo",
    "windows-only/out-of-scope-file-paths-using-absolute-path": "C:\\Windows\\System32\\setx.exe",
    "windows-only/out-of-scope-file-paths-using-shortcut": "%HomeDrive%\\Windows\\System32\\setx.exe",
    "windows-only/out-of-scope-file-paths-using-unc": "\\\\?\\UNC\\server\\Windows\\System32\\setx.exe",
}
for _k, _p in UNSAFE.items():
    @case("v0.97/" + _k, "invalid",
          "manifest-md5.txt line naming %r (the path of the other implementation's message)" % _p,
          "an absolute, home-relative, drive or UNC path is refused, never read",
          codes=["manifest-unsafe-path"])
    def _unsafe(b, p=_p):
        b.extra_lines["manifest-md5.txt"] = ["0" * 32 + "  " + p]
        return b

    @case("v0.97/" + _k + "-for-fetch", "invalid",
          "fetch.txt line naming %r" % _p, "the same path in fetch.txt is refused, never fetched",
          codes=["fetch-bad-path"])
    def _unsafef(b, p=_p):
        b.fetch = "http://127.0.0.1:%d/foo 3 %s\n" % (PORT, p)
        return b


# ---- v0.97 warning -------------------------------------------------------------------
@case("v0.97/warning/duplicate-file-with-different-case", "warning",
      "data/foo.txt and data/FOO.txt, both present and listed", "names differing only in case",
      codes=["case-collision"],
      na=("evidence refuses names that differ only in case by design (case-collision, an "
          "error: such a bag cannot be extracted on Windows or macOS without losing a file)"))
def _case(b):
    b.payload["data/foo.txt"] = b"lower\n"
    b.payload["data/FOO.txt"] = b"upper\n"
    return b


NUNEZ_NFC = unicodedata.normalize("NFC", "data/Núñez")
NUNEZ_NFD = unicodedata.normalize("NFD", "data/Núñez")


@case("v0.97/warning/filename-normalization", "warning",
      "the suite's sha512 manifest line (one space) naming the empty file data/Núñez in NFC; "
      "the file on disk is named in NFD (as macOS writes)",
      "manifest and file names compared after normalization, with a warning",
      codes=["normalization-mismatch"])
def _norm(b):
    b.payload = {NUNEZ_NFD: b""}
    b.manifest_path = {NUNEZ_NFD: NUNEZ_NFC}
    b.algs = ["sha512"]
    b.tag_algs = ["sha512"]
    b.sep = " "
    return b


@case("v0.97/warning/made-with-md5sum-tools", "warning",
      "manifest lines 'md5 *data/hello.txt' (md5sum binary-mode marker, one space)",
      "md5sum-style lines are read with a warning (RFC 8493 6.1.3)",
      codes=["manifest-md5sum-style"])
def _md5sum(b):
    b.payload = {"data/hello.txt": b"hello\n", "data/world.txt": b"world\n"}
    b.sep = " *"
    return b


@case("v0.97/warning/relative-path", "warning",
      "a manifest line 'data/dir/../relative.txt' that resolves inside data/ (rebuilt from the "
      "case's name only)", "'.' and '..' inside the payload resolved by name, with a warning",
      codes=["manifest-path-relative"])
def _rel(b):
    b.payload["data/relative.txt"] = b"relative\n"
    b.manifest_path["data/relative.txt"] = "data/dir/../relative.txt"
    return b


@case("v0.97/warning/same-filename-listed-twice-with-different-normalization", "warning",
      "the suite's sha512 manifest: data/Núñez twice, once NFC and once NFD; one (empty) file "
      "on disk, named NFC", "one file listed twice in two normalizations",
      codes=["normalization-mismatch"])
def _twicenorm(b):
    b.payload = {NUNEZ_NFC: b""}
    b.algs = ["sha512"]
    b.tag_algs = ["sha512"]
    b.extra_lines["manifest-sha512.txt"] = [hashlib.sha512(b"").hexdigest() + "  " + NUNEZ_NFD]
    return b


@case("v0.97/warning/same-filename-listed-twice-with-the-same-hash", "warning",
      "manifest-md5.txt lists data/bare-filename twice with the same checksum",
      "a repeated identical line is accepted before 1.0, with a warning",
      codes=["manifest-duplicate"])
def _twicesame(b):
    b.extra_lines["manifest-md5.txt"] = [hashlib.md5(b"bare filename\n").hexdigest() +
                                         "  data/bare-filename"]
    return b


@case("v0.97/warning/special-system-files", "warning",
      "payload holding data/.DS_Store, data/Thumbs.db and data/sub/desktop.ini, all listed",
      "operating-system litter in the payload is valid but noted",
      codes=["payload-system-file"])
def _sysfiles(b):
    b.payload["data/.DS_Store"] = b"\x00\x00\x00\x01Bud1"
    b.payload["data/Thumbs.db"] = b"\xd0\xcf\x11\xe0"
    b.payload["data/sub/desktop.ini"] = b"[.ShellClassInfo]\r\n"
    return b


@case("v0.97/darwin-only/precomposed-character-in-filename", "valid",
      "the suite's manifest line naming data/contrôle.txt (precomposed), the file written with "
      "the same bytes", "that macOS's file system, which decomposes names, still finds the file",
      na="darwin-only: it needs a file system that normalizes names; on Linux the names are "
         "the same bytes and nothing is tested (the harness skips it too)")
def _darwin(b):
    b.payload = {"data/contrôle.txt": b"test2"}
    b.sep = " "
    return b


# ---- v1.0 ----------------------------------------------------------------------------
def v1(b):
    b2 = Bag("1.0", algs=("sha512",), tag_algs=("sha512",))
    b2.info = [("Bag-Software-Agent", "bagit.py v1.6.1"), ("Bagging-Date", "2017-11-03"),
               ("Payload-Oxum", "")]
    return b2


def oxum(b):
    n = sum(len(v) for v in b.payload.values())
    b.info = [kv if kv[0] != "Payload-Oxum" else ("Payload-Oxum", "%d.%d" % (n, len(b.payload)))
              for kv in b.info]
    return b


@case("v1.0/valid/basicBag", "valid", "a bagit.py-style 1.0 bag, sha512, with Payload-Oxum",
      "the plain 1.0 bag")
def _v1basic(b):
    return oxum(v1(b))


@case("v1.0/invalid/bagit-with-invalid-whitespace", "invalid",
      "bagit.txt 'BagIt-Version : 1.0' (the other implementation's message)",
      "bagit.txt's exact form (RFC 8493 2.1.1)", codes=["bagit-txt-invalid"])
def _v1ws(b):
    b2 = oxum(v1(b))
    b2.bagit = b"BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n"
    return b2


@case("v1.0/invalid/missing-from-manifest", "invalid",
      "data/missingFromManifest.txt present but in no manifest", "every payload file is listed",
      codes=["extra"])
def _v1missing(b):
    b2 = v1(b)
    b2.info = b2.info[:2]
    b2.payload["data/missingFromManifest.txt"] = b"missing\n"
    b2.omit = {"data/missingFromManifest.txt"}
    return b2


@case("v1.0/invalid/same-filename-listed-twice-with-different-hashes", "invalid",
      "manifest-sha512.txt lists data/bare-filename twice with different checksums",
      "each file once (RFC 8493 2.1.3)", codes=["manifest-duplicate"])
def _v1twice(b):
    b2 = oxum(v1(b))
    b2.extra_lines["manifest-sha512.txt"] = ["0" * 128 + "  data/bare-filename"]
    return b2


# ---- extra (not from the suite) ------------------------------------------------------------
@case("extra/utf16-with-bom", "valid",
      "bagit.txt declares UTF-16; the tag files are UTF-16 with a byte-order mark (python's "
      "'utf-16' codec, little-endian here), CRLF line endings", "BOM and CRLF in UTF-16",
      extra=True)
def _x16(b):
    b.encoding = "UTF-16"
    b.eol = "\r\n"
    b.info = [("Source-Organization", "Bibliothèque"), ("Contact-Name", "Zoë")]
    return b


@case("extra/cr-line-endings", "valid", "0.97 bag whose tag files end lines with CR only",
      "CR line endings (RFC 8493 2.3)", extra=True)
def _xcr(b):
    b.eol = "\r"
    return b


@case("extra/unknown-encoding", "invalid",
      "bagit.txt declares 'X-NO-SUCH-CHARSET'", "an encoding iconv does not know is named",
      codes=["bagit-encoding-unsupported"], extra=True)
def _xunk(b):
    b.bagit = b"BagIt-Version: 0.97\nTag-File-Character-Encoding: X-NO-SUCH-CHARSET\n"
    b.tag_algs = []
    return b


@case("extra/utf16-odd-bytes", "invalid",
      "UTF-16BE declared; bag-info.txt ends with half a character",
      "bytes that are not text in the declared encoding are named with their line",
      codes=["tag-encoding-invalid"], extra=True)
def _xodd(b):
    b.encoding = "UTF-16BE"
    b.tag_algs = []
    b.after = [("bag-info.txt", "Contact-Name: Zoë\nBagging-Date: 2016\n".encode("utf-16-be") + b"\x00")]
    return b


@case("extra/v1.0-ISO-8859-1-tag-files", "warning",
      "a 1.0 bag whose bagit.txt declares ISO-8859-1: Latin-1 bag-info.txt, and the manifest "
      "naming data/café.txt in Latin-1 (the file's name on disk is UTF-8)",
      "RFC 8493 2.1.1: another encoding than UTF-8 MAY be used; read, with a warning",
      codes=["tag-encoding-not-utf8"], extra=True)
def _x1latin1(b):
    b2 = v1(b)
    b2.encoding = "ISO-8859-1"
    b2.info = [("Source-Organization", "Bibliothèque nationale"), ("Contact-Name", "Zoë")]
    b2.payload["data/café.txt"] = b"caf\xc3\xa9\n"
    return b2


@case("extra/v1.0-UTF-16-tag-files", "warning",
      "a 1.0 bag whose bagit.txt declares UTF-16; tag files UTF-16 with a byte-order mark, "
      "CRLF line endings, Payload-Oxum right",
      "RFC 8493 2.1.1: another encoding than UTF-8 MAY be used; read, with a warning",
      codes=["tag-encoding-not-utf8"], extra=True)
def _x1u16(b):
    b2 = v1(b)
    b2.encoding = "UTF-16"
    b2.eol = "\r\n"
    b2.info.append(("Contact-Name", "Zoë"))
    return oxum(b2)


@case("extra/v1.0-ISO-8859-1-oxum-mismatch", "invalid",
      "a 1.0 bag in ISO-8859-1 whose bag-info.txt gives a wrong Payload-Oxum on line 2",
      "a problem in a converted tag file names the file and the line", codes=["oxum-mismatch"],
      extra=True)
def _x1latin1oxum(b):
    b2 = v1(b)
    b2.encoding = "ISO-8859-1"
    b2.info = [("Contact-Name", "Zoë"), ("Payload-Oxum", "1.1")]
    return b2


@case("extra/holey-bag-fetched", "valid",
      "the holey bag with its fetch.txt files present (fetched before verifying)",
      "a bag with fetch.txt whose files are all present is complete", codes=["fetch-present"],
      extra=True)
def _xholey(b):
    b.payload["data/remote-1.txt"] = b"remote one\n"
    b.fetch = "http://127.0.0.1:%d/remote-1.txt 11 data/remote-1.txt\n" % PORT
    return b


def main(argv):
    global PORT
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    out = argv[1]
    if "--fetch-port" in argv:
        PORT = int(argv[argv.index("--fetch-port") + 1])
    os.makedirs(out, exist_ok=True)
    for i, c in enumerate(CASES):
        d = os.path.join(out, "%02d" % i, c["bagname"])
        b = c["fn"](Bag(c["id"].split("/")[0][1:] if c["id"].startswith("v") else "0.97"))
        b.write(d)
        if "--zip" in argv:
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            import mkbag
            mkbag.zip_folder(d, d + ".zip")
        print(json.dumps({"id": c["id"], "bag": d, "expect": c["expect"], "codes": c["codes"],
                          "applicable": c["na"] is None, "why": c["na"] or "",
                          "extra": c["extra"], "checks": c["checks"]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
