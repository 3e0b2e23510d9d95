#!/usr/bin/env python3
"""Hand-made BagIt bags, valid and invalid in one way each, written from
RFC 8493 (not by libevidence), for interoperability tests.

usage:
  mkbag.py VARIANT DIR [OUT.zip [--validate]]
                                write the bag folder DIR (must not exist);
                                with OUT.zip also its ZIP; with --validate
                                also run tests/tools/bagit_validate.py on
                                both and print its two exit codes ("D Z")
  mkbag.py --zip DIR OUT.zip    serialise DIR as a ZIP with one top folder
                                named like DIR (python zipfile; folder
                                entries included, text deflated, rest stored)
  mkbag.py --list               print the variant names

The expected verdicts live with the tests (tests/cli/bundle_rfc_validator.sh).
Standard library only.
"""
import hashlib
import os
import sys
import unicodedata
import zipfile

ALG = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256,
       "sha512": hashlib.sha512}
AUTO = object()
BAGIT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


def enc_path(p, lower=False):
    p = p.replace("%", "%25")
    if lower:
        return p.replace("\n", "%0a").replace("\r", "%0d")
    return p.replace("\n", "%0A").replace("\r", "%0D")


class Bag:
    def __init__(self):
        self.payload = {
            "data/a.txt": b"alpha\n",
            "data/sub/b.bin": bytes(range(256)) * 4,
            "data/empty.dat": b"",
        }
        self.algs = ["sha256", "sha512"]
        self.tag_algs = ["sha256"]
        self.eol = "\n"
        self.sep = "  "
        self.upper = False
        self.lower_pct = False
        self.bagit = BAGIT
        self.baginfo = [("Source-Organization", "Interop Test Org"),
                        ("Contact-Name", "A. Tester"),
                        ("Bagging-Date", "2024-01-02"),
                        ("Payload-Oxum", AUTO)]
        self.extra_tags = {}         # name -> bytes, listed in tag manifests
        self.unlisted_tags = {}      # name -> bytes, in no tag manifest
        self.manifest_name = {}      # payload path -> path written in manifests
        self.omit = {}               # manifest file name -> set of paths left out
        self.extra_lines = {}        # manifest file name -> [raw lines]
        self.fetch = None            # bytes of fetch.txt
        self.post = []               # callables(root) run after writing
        self.manifest_file = {}      # alg -> file name override

    def digest(self, alg, data):
        h = ALG[alg](data).hexdigest()
        return h.upper() if self.upper else h

    def write(self, root):
        os.makedirs(os.path.join(root, "data"))
        files = {}
        for p, data in self.payload.items():
            files[p] = data
        for p, data in files.items():
            full = os.path.join(root, p)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)
        eol = self.eol
        tags = {}
        tags["bagit.txt"] = self.bagit
        for alg in self.algs:
            name = self.manifest_file.get(alg, "manifest-%s.txt" % alg)
            lines = []
            for p in sorted(self.payload):
                if p in self.omit.get(name, set()):
                    continue
                shown = self.manifest_name.get(p, p)
                lines.append("%s%s%s" % (self.digest(alg, self.payload[p]), self.sep,
                                         enc_path(shown, self.lower_pct)))
            lines += self.extra_lines.get(name, [])
            tags[name] = "".join(l + eol for l in lines).encode("utf-8", "surrogateescape")
        if self.baginfo is not None:
            out = []
            for (k, v) in self.baginfo:
                if v is AUTO:
                    v = "%d.%d" % (sum(len(d) for d in self.payload.values()),
                                   len(self.payload))
                out.append("%s: %s" % (k, v) if k is not None else v)
            tags["bag-info.txt"] = "".join(l + eol for l in out).encode("utf-8",
                                                                          "surrogateescape")
        if self.fetch is not None:
            tags["fetch.txt"] = self.fetch
        tags.update(self.extra_tags)
        for name, data in tags.items():
            full = os.path.join(root, name)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)
        for name, data in self.unlisted_tags.items():
            full = os.path.join(root, name)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)
        for alg in self.tag_algs:
            name = "tagmanifest-%s.txt" % alg
            lines = []
            for t in sorted(tags):
                if t in self.omit.get(name, set()):
                    continue
                lines.append("%s%s%s" % (self.digest(alg, tags[t]), self.sep, enc_path(t)))
            lines += self.extra_lines.get(name, [])
            with open(os.path.join(root, name), "wb") as f:
                f.write("".join(l + eol for l in lines).encode("utf-8"))
        for fn in self.post:
            fn(root)


# ---------------------------------------------------------------------------
VARIANTS = {}


def variant(fn):
    VARIANTS[fn.__name__.replace("_", "-")] = fn
    return fn


def rewrite(rel, fn):
    def post(root):
        p = os.path.join(root, rel)
        with open(p, "rb") as f:
            data = f.read()
        with open(p, "wb") as f:
            f.write(fn(data))
    return post


# ---- valid ------------------------------------------------------------------
@variant
def valid_basic(b):
    pass


@variant
def valid_crlf(b):
    b.eol = "\r\n"
    b.bagit = BAGIT.replace(b"\n", b"\r\n")


@variant
def valid_cr(b):
    b.eol = "\r"
    b.bagit = BAGIT.replace(b"\n", b"\r")


@variant
def valid_tab_sep(b):
    b.sep = "\t"


@variant
def valid_many_spaces(b):
    b.sep = " \t   \t "


@variant
def valid_upper_hex(b):
    b.upper = True


@variant
def valid_pct_names(b):
    b.payload["data/100%.txt"] = b"percent\n"
    b.payload["data/line\nbreak.txt"] = b"lf\n"
    b.payload["data/carriage\rreturn.txt"] = b"cr\n"
    b.payload["data/%41 is not A.txt"] = b"literal %41\n"
    b.payload["data/%7E stays.txt"] = b"tilde?\n"


@variant
def valid_pct_lower(b):
    b.lower_pct = True
    b.payload["data/line\nbreak.txt"] = b"lf\n"
    b.payload["data/carriage\rreturn.txt"] = b"cr\n"


@variant
def valid_spaces(b):
    b.payload["data/ lead.txt"] = b"1"
    b.payload["data/trail.txt "] = b"2"
    b.payload["data/two  spaces.txt"] = b"3"
    b.payload["data/ both .txt"] = b"4"
    b.payload["data/dir with space/ x "] = b"5"


@variant
def valid_nfd_manifest(b):
    # file on disk NFC, manifest NFD: matched with a warning (RFC 8493 6.1.1.3)
    nfc = unicodedata.normalize("NFC", "data/caf\u00e9.txt")
    b.payload[nfc] = b"coffee\n"
    b.manifest_name[nfc] = unicodedata.normalize("NFD", nfc)


@variant
def valid_nfd_disk(b):
    nfd = unicodedata.normalize("NFD", "data/na\u00efve \u00c5ngstr\u00f6m.txt")
    b.payload[nfd] = b"nfd on disk\n"
    b.manifest_name[nfd] = unicodedata.normalize("NFC", nfd)


@variant
def valid_unicode(b):
    b.payload["data/\u65e5\u672c\u8a9e/\u0444\u0430\u0439\u043b \U0001F600.txt"] = b"utf8\n"


@variant
def valid_empty_payload(b):
    b.payload = {}


@variant
def valid_no_baginfo(b):
    b.baginfo = None


@variant
def valid_no_tagmanifest(b):
    b.tag_algs = []


@variant
def valid_sha512_only(b):
    b.algs = ["sha512"]
    b.tag_algs = ["sha512"]


@variant
def valid_legacy_algs(b):
    b.algs = ["md5", "sha1"]
    b.tag_algs = ["md5"]


@variant
def valid_two_tagmanifests(b):
    b.tag_algs = ["sha256", "sha512"]


@variant
def valid_folded_baginfo(b):
    b.baginfo.insert(0, ("External-Description", "A long description that is folded"))
    b.baginfo.insert(1, (None, "   over a second line"))
    b.baginfo.insert(2, (None, "\tand a third one"))
    b.baginfo.append(("Contact-Name", "Second Contact"))


@variant
def valid_unlisted_tag_file(b):
    # RFC 8493 2.2.4: unknown tag files' contents are ignored, even non-UTF-8
    b.unlisted_tags["notes/blob.bin"] = b"\xff\xfe\x00binary\x80"
    b.unlisted_tags["README"] = b"\xc3\x28 not utf-8\n"


@variant
def valid_tag_subdir(b):
    b.extra_tags["meta/info.txt"] = b"listed tag file in a folder\n"


@variant
def valid_fetch_complete(b):
    port = os.environ.get("MKBAG_FETCH_PORT", "9")
    b.fetch = ("http://127.0.0.1:%s/a.txt 6 data/a.txt\n" % port).encode()


@variant
def valid_legacy_097(b):
    b.bagit = b"BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n"
    b.baginfo = [("Source-Organization  ", "  Old Org"), ("Payload-Oxum", AUTO)]


@variant
def valid_md5sum_style(b):
    b.algs = ["sha256"]
    b.sep = " *"
    b.tag_algs = []


@variant
def valid_long_path(b):
    comp = "d" * 40
    p = "data/" + "/".join([comp] * 6) + "/" + "f" * 60 + ".txt"
    b.payload[p] = b"deep\n"


@variant
def valid_no_final_eol(b):
    # RFC 8493 2.3: the last line SHOULD end with a newline (not MUST)
    b.post.append(rewrite("bag-info.txt", lambda d: d.rstrip(b"\n")))
    b.tag_algs = []


# ---- invalid: bagit.txt -------------------------------------------------------
@variant
def bagit_missing(b):
    b.post.append(lambda root: os.remove(os.path.join(root, "bagit.txt")))
    b.tag_algs = []


@variant
def bagit_bom(b):
    b.bagit = b"\xef\xbb\xbf" + BAGIT


@variant
def bagit_three_lines(b):
    b.bagit = BAGIT + b"Extra: line\n"


@variant
def bagit_version_dot97(b):
    b.bagit = b"BagIt-Version: .97\nTag-File-Character-Encoding: UTF-8\n"


@variant
def bagit_version_trailing_space(b):
    b.bagit = b"BagIt-Version: 1.0 \nTag-File-Character-Encoding: UTF-8\n"


@variant
def bagit_space_before_colon(b):
    b.bagit = b"BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n"


@variant
def bagit_lines_swapped(b):
    b.bagit = b"Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n"


@variant
def bagit_version_2(b):
    b.bagit = b"BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n"


@variant
def bagit_encoding_latin1(b):
    b.bagit = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: ISO-8859-1\n"


# ---- invalid: structure and manifests ------------------------------------------
@variant
def data_missing(b):
    b.payload = {}
    b.post.append(lambda root: os.rmdir(os.path.join(root, "data")))


@variant
def no_payload_manifest(b):
    b.algs = []


@variant
def payload_modified(b):
    b.post.append(rewrite("data/a.txt", lambda d: b"ALPHA\n"))


@variant
def payload_truncated(b):
    b.post.append(rewrite("data/sub/b.bin", lambda d: d[:100]))


@variant
def payload_missing(b):
    b.post.append(lambda root: os.remove(os.path.join(root, "data/a.txt")))


@variant
def payload_extra(b):
    def post(root):
        with open(os.path.join(root, "data/new.txt"), "wb") as f:
            f.write(b"added later\n")
    b.post.append(post)


@variant
def payload_not_in_sha512(b):
    b.omit["manifest-sha512.txt"] = {"data/a.txt"}


@variant
def manifest_duplicate(b):
    b.extra_lines["manifest-sha256.txt"] = [
        hashlib.sha256(b"alpha\n").hexdigest() + "  data/a.txt"]


@variant
def manifest_outside_data(b):
    b.extra_lines["manifest-sha256.txt"] = [hashlib.sha256(BAGIT).hexdigest() + "  bagit.txt"]


@variant
def manifest_dotdot(b):
    b.extra_lines["manifest-sha256.txt"] = [hashlib.sha256(BAGIT).hexdigest() +
                                            "  data/../bagit.txt"]


@variant
def manifest_escape(b):
    # names a file beside the bag; the test puts a FIFO there, so reading it
    # would hang
    b.extra_lines["manifest-sha256.txt"] = ["0" * 64 + "  data/../../outside-fifo"]


@variant
def manifest_absolute(b):
    b.extra_lines["manifest-sha256.txt"] = ["0" * 64 + "  /etc/hostname"]


@variant
def manifest_tilde(b):
    b.extra_lines["manifest-sha256.txt"] = ["0" * 64 + "  ~/x"]


@variant
def manifest_bad_line(b):
    b.extra_lines["manifest-sha256.txt"] = ["0" * 64]


@variant
def manifest_bad_digest(b):
    b.extra_lines["manifest-sha256.txt"] = ["abc123  data/a.txt"]


@variant
def manifest_nonhex(b):
    b.extra_lines["manifest-sha256.txt"] = ["z" * 64 + "  data/zz"]


@variant
def manifest_lists_folder(b):
    b.extra_lines["manifest-sha256.txt"] = ["0" * 64 + "  data/sub"]
    b.algs = ["sha256"]


@variant
def manifest_name_not_normalized(b):
    b.algs = ["sha256"]
    b.manifest_file["sha256"] = "manifest-SHA256.txt"


@variant
def manifest_only_unknown_alg(b):
    # the only payload manifest uses an algorithm nobody can compute here
    b.algs = ["sha256"]
    b.manifest_file["sha256"] = "manifest-blake3.txt"


@variant
def manifest_not_utf8(b):
    b.extra_lines["manifest-sha256.txt"] = ["0" * 64 + "  data/\udcff.txt"]


@variant
def manifest_bom(b):
    b.post.append(rewrite("manifest-sha256.txt", lambda d: b"\xef\xbb\xbf" + d))
    b.tag_algs = []


# ---- invalid: bag-info.txt ------------------------------------------------------
@variant
def oxum_mismatch(b):
    b.baginfo = [("Payload-Oxum", "1030.2")]


@variant
def oxum_repeated(b):
    b.baginfo.append(("Payload-Oxum", AUTO))


@variant
def oxum_invalid(b):
    b.baginfo = [("Payload-Oxum", "1030 bytes")]


@variant
def oxum_ok_but_modified(b):
    # same size, other bytes: Payload-Oxum must never be trusted alone
    b.post.append(rewrite("data/sub/b.bin", lambda d: d[:-1] + b"\x00"))


@variant
def baginfo_not_utf8(b):
    b.baginfo.append(("Contact-Name", "Jos\udce9"))


@variant
def baginfo_bom(b):
    b.post.append(rewrite("bag-info.txt", lambda d: b"\xef\xbb\xbf" + d))
    b.tag_algs = []


@variant
def baginfo_label_space(b):
    b.baginfo.append(("Contact-Name ", "trailing space in label"))


# ---- invalid: tag manifests -----------------------------------------------------
@variant
def tag_modified(b):
    b.post.append(rewrite("bag-info.txt", lambda d: d + b"Added-Later: yes\n"))


@variant
def tagmanifest_incomplete(b):
    b.omit["tagmanifest-sha256.txt"] = {"manifest-sha512.txt"}


@variant
def tagmanifest_lists_payload(b):
    b.extra_lines["tagmanifest-sha256.txt"] = [
        hashlib.sha256(b"alpha\n").hexdigest() + "  data/a.txt"]


@variant
def tagmanifest_lists_tagmanifest(b):
    b.extra_lines["tagmanifest-sha256.txt"] = ["0" * 64 + "  tagmanifest-sha512.txt"]
    b.tag_algs = ["sha512", "sha256"]


@variant
def tagmanifest_missing_file(b):
    b.extra_lines["tagmanifest-sha256.txt"] = ["0" * 64 + "  gone.txt"]


# ---- invalid: fetch.txt ------------------------------------------------------------
@variant
def fetch_not_fetched(b):
    data = b"remote bytes\n"
    b.payload["data/remote.bin"] = data
    port = os.environ.get("MKBAG_FETCH_PORT", "9")
    b.fetch = ("http://127.0.0.1:%s/remote.bin %d data/remote.bin\n"
               % (port, len(data))).encode()
    b.post.append(lambda root: os.remove(os.path.join(root, "data/remote.bin")))


@variant
def fetch_bad_path(b):
    b.fetch = b"http://127.0.0.1:9/x - data/../../etc/x\n"


# ---- names that differ only in case or normalization ---------------------------------
@variant
def case_collision(b):
    b.payload["data/Readme.txt"] = b"one\n"
    b.payload["data/README.txt"] = b"two\n"


@variant
def normalization_collision(b):
    b.payload[unicodedata.normalize("NFC", "data/caf\u00e9.txt")] = b"nfc\n"
    b.payload[unicodedata.normalize("NFD", "data/caf\u00e9.txt")] = b"nfd\n"


@variant
def backslash_name(b):
    b.payload["data/back\\slash.txt"] = b"a backslash is an ordinary character in RFC 8493\n"


# ---------------------------------------------------------------------------
def zip_folder(src, out):
    src = src.rstrip("/")
    top = os.path.basename(src)
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(zipfile.ZipInfo(top + "/"), b"")
        for dirpath, dirnames, filenames in os.walk(src):
            dirnames.sort()
            rel = os.path.relpath(dirpath, src)
            base = top if rel == "." else top + "/" + rel
            for d in dirnames:
                zi = zipfile.ZipInfo(base + "/" + d + "/")
                zi.external_attr = (0o40755 << 16) | 0x10
                zf.writestr(zi, b"")
            for n in sorted(filenames):
                full = os.path.join(dirpath, n)
                with open(full, "rb") as f:
                    data = f.read()
                zi = zipfile.ZipInfo(base + "/" + n)
                zi.external_attr = 0o100644 << 16
                zi.compress_type = zipfile.ZIP_DEFLATED if n.endswith(".txt") \
                    else zipfile.ZIP_STORED
                zf.writestr(zi, data)


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        print("\n".join(sorted(VARIANTS)))
        return 0
    if len(argv) == 4 and argv[1] == "--zip":
        zip_folder(argv[2], argv[3])
        return 0
    if len(argv) not in (3, 4, 5) or argv[1] not in VARIANTS or \
            (len(argv) == 5 and argv[4] != "--validate"):
        sys.stderr.write(__doc__)
        return 2
    b = Bag()
    VARIANTS[argv[1]](b)
    b.write(argv[2])
    if len(argv) >= 4:
        zip_folder(argv[2], argv[3])
    if len(argv) == 5:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import contextlib
        import io
        import bagit_validate
        codes = []
        for target in (argv[2], argv[3]):
            with contextlib.redirect_stdout(io.StringIO()):
                codes.append(bagit_validate.main(["bagit_validate.py", target]))
        print("%d %d" % tuple(codes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
