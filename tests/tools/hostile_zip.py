#!/usr/bin/env python3
"""Hostile ZIP files for the bundle reader: each holds a small valid bag plus
one hostile element (a name, an entry type, a lying size, a ZIP bomb...).

usage:
  hostile_zip.py --list
  hostile_zip.py CASE OUT.zip [CANARY_DIR]
      CANARY_DIR: an absolute folder; cases that try to write outside the
      destination aim at files in it (their names start with "canary").

A tiny ZIP writer of its own (not zipfile), so that every byte of every
header can lie. The ZIP bomb (2 GiB of zeros) is built from one deflated
block of 1 MiB of zeros repeated with full flushes, so it takes
milliseconds to make. Standard library only.
"""
import hashlib
import os
import struct
import sys
import unicodedata
import zlib

BAGIT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
GOOD = b"good payload\n"
EVIL = b"EVIL payload\n"
S_IFREG, S_IFDIR, S_IFLNK = 0o100000, 0o040000, 0o120000


class Entry:
    def __init__(self, name, data=b"", method=0, mode=S_IFREG | 0o644, comp=None,
                 size=None, csize=None, crc=None, flags=0, zip64=False, local=None,
                 descriptor=None, lho_ref=None, zip64_off=None, raw=None, need=None,
                 made=None, iattr=0, xattr=None, lextra=b"", cextra=b""):
        self.name = name if isinstance(name, bytes) else name.encode("utf-8")
        self.data = data                       # uncompressed bytes (for crc/size)
        self.method = method
        self.mode = mode
        if comp is None:
            if method == 8:
                c = zlib.compressobj(6, zlib.DEFLATED, -15)
                comp = c.compress(data) + c.flush()
            else:
                comp = data
        self.comp = comp                       # bytes as stored in the file
        self.size = len(data) if size is None else size
        self.csize = len(comp) if csize is None else csize
        self.crc = (zlib.crc32(data) & 0xFFFFFFFF) if crc is None else crc
        self.flags = flags | (0x800 if any(b > 0x7F for b in self.name) else 0)
        self.zip64 = zip64 or self.size >= 0xFFFFFFFF or self.csize >= 0xFFFFFFFF
        self.local = local or {}               # local header fields that lie
        self.descriptor = descriptor           # bytes written after the data
        self.lho_ref = lho_ref                 # share another entry's local header
        self.zip64_off = zip64_off             # offset written in a ZIP64 extra field
        self.raw = raw                         # bytes written instead of header+data
        self.need = need                       # "version needed" in both headers
        self.made = made                       # "version made by" (default Unix, 4.5)
        self.iattr = iattr                     # internal attributes
        self.xattr = xattr                     # external attributes (default mode << 16)
        self.lextra = lextra                   # more extra fields: local header
        self.cextra = cextra                   # more extra fields: central directory


def local_header(e):
    lo = e.local
    extra = b""
    size32, csize32 = e.size, e.csize
    if e.zip64:
        extra = struct.pack("<HHQQ", 1, 16, e.size, e.csize)
        size32 = csize32 = 0xFFFFFFFF
    extra = lo.get("extra", extra + e.lextra)
    name = lo.get("name", e.name)
    need = e.need if e.need is not None else 45 if e.zip64 else 20
    return struct.pack("<IHHHHHIIIHH", lo.get("sig", 0x04034B50), lo.get("need", need),
                       lo.get("flags", e.flags), lo.get("method", e.method),
                       lo.get("time", 0), lo.get("date", 0x21),
                       lo.get("crc", e.crc), lo.get("csize", csize32), lo.get("size", size32),
                       len(name), len(extra)) + name + extra


def write_zip(path, entries, prefix=b"", suffix=b"", comment=b"", zip64_eocd_off=None,
              zip64_versions=None):
    """prefix: bytes before the first entry (offsets account for them);
    suffix: bytes after the end record; comment: the end record's comment;
    zip64_versions: (made by, needed) of a ZIP64 end record written where
    its locator says."""
    out = open(path, "wb")
    out.write(prefix)
    central = []
    offs = []
    for e in entries:
        off = out.tell()
        if isinstance(e.lho_ref, tuple):
            off = offs[e.lho_ref[0]] + e.lho_ref[1]
        elif e.lho_ref is not None:
            off = offs[e.lho_ref]
        elif e.raw is not None:
            out.write(e.raw)
        else:
            out.write(local_header(e))
            out.write(e.comp)
            if e.descriptor is not None:
                out.write(e.descriptor)
        offs.append(off)
        central.append((e, off, e.need if e.need is not None else 45 if e.zip64 else 20))
    cd_start = out.tell()
    for e, off, need in central:
        extra = b""
        size32, csize32, off32 = e.size, e.csize, off
        if e.zip64:
            extra = struct.pack("<HHQQ", 1, 16, e.size, e.csize)
            size32 = csize32 = 0xFFFFFFFF
        if e.zip64_off is not None:
            body = (struct.pack("<QQ", e.size, e.csize) if e.zip64 else b"") + \
                struct.pack("<Q", e.zip64_off)
            extra = struct.pack("<HH", 1, len(body)) + body
            off32 = 0xFFFFFFFF
        extra += e.cextra
        made = (3 << 8) | 45 if e.made is None else e.made
        xattr = (e.mode << 16) & 0xFFFFFFFF if e.xattr is None else e.xattr
        out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, made, need, e.flags,
                              e.method, 0, 0x21, e.crc, csize32, size32, len(e.name),
                              len(extra), 0, 0, e.iattr, xattr, off32))
        out.write(e.name)
        out.write(extra)
    cd_size = out.tell() - cd_start
    n = len(entries)
    if zip64_eocd_off is not None:
        # a ZIP64 end record, and a locator that points elsewhere
        out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (3 << 8) | 45, 45, 0, 0, n, n,
                              cd_size, cd_start))
        out.write(struct.pack("<IIQI", 0x07064B50, 0, zip64_eocd_off, 1))
        cd_size = cd_start = 0xFFFFFFFF
    elif zip64_versions is not None:
        z64 = out.tell()
        out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, zip64_versions[0],
                              zip64_versions[1], 0, 0, n, n, cd_size, cd_start))
        out.write(struct.pack("<IIQI", 0x07064B50, 0, z64, 1))
        cd_size = cd_start = 0xFFFFFFFF
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, cd_size, cd_start, len(comment)))
    out.write(comment)
    out.write(suffix)
    out.close()


def bag(top="bag", extra_manifest=(), payload=None):
    """Entries of a small valid bag; extra_manifest: (path, data) to list too."""
    payload = dict(payload or {"data/a.txt": GOOD})
    lines = ["%s  %s\n" % (hashlib.sha256(d).hexdigest(), p) for p, d in sorted(payload.items())]
    lines += ["%s  %s\n" % (hashlib.sha256(d).hexdigest(), p) for p, d in extra_manifest]
    es = [Entry(top + "/"  , mode=S_IFDIR | 0o755),
          Entry(top + "/bagit.txt", BAGIT),
          Entry(top + "/data/", mode=S_IFDIR | 0o755)]
    es += [Entry(top + "/" + p, d) for p, d in sorted(payload.items())]
    es.append(Entry(top + "/manifest-sha256.txt", "".join(lines).encode("utf-8"), method=8))
    return es


def bomb_stream(total):
    """Raw deflate of `total` zero bytes (a multiple of 1 MiB)."""
    chunk = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == again
    tail = c.flush(zlib.Z_FINISH)
    n = total >> 20
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(chunk, crc)
    return block * n + tail, crc & 0xFFFFFFFF


CASES = {}


def case(fn):
    CASES[fn.__name__.replace("_", "-")] = fn
    return fn


@case
def valid(c):
    return bag()


@case
def abs_path(c):
    return bag() + [Entry(c + "/canary-abs", EVIL)]


@case
def dotdot(c):
    return bag() + [Entry("bag/../canary-dotdot", EVIL), Entry("../canary-dotdot2", EVIL),
                    Entry("bag/data/../../canary-dotdot3", EVIL)]


@case
def dotdot_listed(c):
    # the escaping name is also in the manifest
    return bag(extra_manifest=[("data/../../canary-listed", EVIL)]) + \
        [Entry("bag/data/../../canary-listed", EVIL)]


@case
def backslash(c):
    return bag() + [Entry("bag\\..\\..\\canary-bs", EVIL), Entry("bag/data\\..\\..\\canary-bs2", EVIL),
                    Entry("bag/data/x\\y.txt", EVIL)]


@case
def nul_name(c):
    return bag() + [Entry(b"bag/data/evil\x00.txt", EVIL), Entry(b"bag/data/a.txt\x00/../../canary-nul", EVIL)]


@case
def drive_letter(c):
    return bag() + [Entry("C:/canary-drive", EVIL), Entry("C:canary-drive2", EVIL)]


@case
def control_chars(c):
    return bag() + [Entry("bag/data/\x1b[2J\x1b[31mred", EVIL), Entry("bag/data/bell\x07", EVIL)]


@case
def tilde(c):
    return bag() + [Entry("~/canary-tilde", EVIL)]


@case
def symlink(c):
    return bag() + [Entry("bag/data/link", b"/etc/passwd", mode=S_IFLNK | 0o777)]


@case
def symlink_listed(c):
    # a symlink whose target text is listed in the manifest as if it were content
    return bag(extra_manifest=[("data/link", b"/etc/passwd")]) + \
        [Entry("bag/data/link", b"/etc/passwd", mode=S_IFLNK | 0o777)]


@case
def symlink_escape(c):
    # a folder symlink out of the destination, then a file "inside" it
    return bag(extra_manifest=[("data/d/canary-symlink", EVIL)]) + \
        [Entry("bag/data/d", c.encode(), mode=S_IFLNK | 0o777),
         Entry("bag/data/d/canary-symlink", EVIL)]


@case
def special_file(c):
    return bag() + [Entry("bag/data/fifo", b"", mode=0o010644)]


@case
def duplicate(c):
    return bag() + [Entry("bag/data/a.txt", EVIL)]


@case
def duplicate_first_evil(c):
    es = bag()
    i = next(k for k, e in enumerate(es) if e.name == b"bag/data/a.txt")
    return es[:i] + [Entry("bag/data/a.txt", EVIL)] + es[i:]


@case
def case_collision(c):
    return bag(extra_manifest=[("data/A.txt", EVIL)]) + [Entry("bag/data/A.txt", EVIL)]


@case
def normalization_collision(c):
    nfc = unicodedata.normalize("NFC", "data/caf\u00e9")
    nfd = unicodedata.normalize("NFD", "data/caf\u00e9")
    return bag(payload={"data/a.txt": GOOD, nfc: GOOD},
               extra_manifest=[(nfd, EVIL)]) + [Entry("bag/" + nfd, EVIL)]


@case
def stored_size_lie(c):
    # stored entry: claims 1000 bytes, holds 13
    es = bag()
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.size = 1000
    return es


@case
def deflate_longer_than_claimed(c):
    es = bag()
    big = GOOD * 1000
    for i, e in enumerate(es):
        if e.name == b"bag/data/a.txt":
            es[i] = Entry("bag/data/a.txt", big, method=8, size=len(GOOD), crc=zlib.crc32(GOOD))
    return es


@case
def deflate_shorter_than_claimed(c):
    es = bag()
    for i, e in enumerate(es):
        if e.name == b"bag/data/a.txt":
            es[i] = Entry("bag/data/a.txt", GOOD, method=8, size=1000)
    return es


@case
def csize_beyond_file(c):
    es = bag()
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.csize = 10 * 1000 * 1000
            e.size = 10 * 1000 * 1000
    return es


@case
def crc_wrong(c):
    es = bag()
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.crc ^= 0xFFFF
    return es


@case
def bomb(c):
    # 2 GiB of zeros, honest headers: ~2 MB in the file
    comp, crc = bomb_stream(2 << 30)
    return bag() + [Entry("bag/data/zeros.bin", b"", method=8, comp=comp, size=2 << 30, crc=crc)]


@case
def bomb_listed(c):
    # the same, listed in the manifest with the right checksum
    comp, crc = bomb_stream(2 << 30)
    h = hashlib.sha256()
    z = bytes(1 << 20)
    for _ in range(2048):
        h.update(z)
    es = bag()
    for i, e in enumerate(es):
        if e.name == b"bag/manifest-sha256.txt":
            text = e.data + ("%s  data/zeros.bin\n" % h.hexdigest()).encode()
            es[i] = Entry("bag/manifest-sha256.txt", text, method=8)
    return es + [Entry("bag/data/zeros.bin", b"", method=8, comp=comp, size=2 << 30, crc=crc)]


@case
def bomb_lying(c):
    # 2 GiB of zeros whose headers claim 1000 bytes
    comp, crc = bomb_stream(2 << 30)
    return bag(extra_manifest=[("data/zeros.bin", bytes(1000))]) + \
        [Entry("bag/data/zeros.bin", b"", method=8, comp=comp, size=1000, crc=zlib.crc32(bytes(1000)))]


@case
def huge_claim(c):
    # ZIP64 sizes claiming 1 PiB
    return bag() + [Entry("bag/data/huge.bin", b"x", size=1 << 50, csize=1, zip64=True)]


@case
def encrypted(c):
    es = bag()
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.flags |= 1
    return es


@case
def unknown_method(c):
    es = bag()
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.method = 97
    return es


@case
def deep_path(c):
    name = "data/" + "d/" * 2100 + "leaf"
    return bag(payload={"data/a.txt": GOOD, name: GOOD})


@case
def long_component(c):
    name = "data/" + "L" * 300
    return bag(payload={"data/a.txt": GOOD, name: GOOD})


@case
def invalid_utf8_name(c):
    return bag() + [Entry(b"bag/data/\xff\xfe.txt", EVIL, flags=0x800)]


@case
def no_top_folder(c):
    return [Entry("bagit.txt", BAGIT), Entry("data/a.txt", GOOD),
            Entry("manifest-sha256.txt", ("%s  data/a.txt\n" % hashlib.sha256(GOOD).hexdigest()).encode())]


@case
def two_top_folders(c):
    return bag("bagA") + bag("bagB")


@case
def top_level_file(c):
    return bag() + [Entry("README.txt", b"outside the bag\n")]


@case
def empty_zip(c):
    return []


# --- local headers that disagree with the central directory ----------------
def with_local(**lo):
    es = bag()
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.local = lo
    return es


@case
def local_name(c):
    return with_local(name=b"bag/data/b.txt")


@case
def local_method(c):
    return with_local(method=8)


@case
def local_crc(c):
    return with_local(crc=zlib.crc32(EVIL))


@case
def local_size(c):
    return with_local(size=len(GOOD) + 1, csize=len(GOOD) + 1)


@case
def local_flags(c):
    return with_local(flags=0x0800 | 0x0008)


@case
def local_extra(c):
    # a sub-field that claims more bytes than the extra field holds
    return with_local(extra=struct.pack("<HH", 0x5455, 9) + b"\x01\x00\x00")


@case
def local_signature(c):
    return with_local(sig=0x04034B51)


@case
def descriptor_ok(c):
    # sizes and CRC in a data descriptor after the data (valid)
    es = bag()
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.flags |= 8
            e.local = {"crc": 0, "size": 0, "csize": 0}
            e.descriptor = struct.pack("<IIII", 0x08074B50, e.crc, e.csize, e.size)
    return es


@case
def descriptor_lie(c):
    es = descriptor_ok(c)
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.descriptor = struct.pack("<IIII", 0x08074B50, e.crc ^ 1, e.csize, e.size)
    return es


# --- unread bytes must still be intact -------------------------------------
@case
def unlisted_crc_wrong(c):
    # a tag file that no manifest lists (like the seal) with a wrong CRC
    return bag() + [Entry("bag/notes.txt", b"an unlisted tag file\n" * 4,
                          method=8, crc=12345)]


@case
def unlisted_deflate_broken(c):
    # an unlisted tag file whose deflate stream is cut
    data = b"".join(b"line %d\n" % i for i in range(2000))
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    comp = comp.compress(data) + comp.flush()
    return bag() + [Entry("bag/tagseal-sha256.txt", data, method=8, comp=comp[:len(comp) // 2])]


# --- overlapping entries ("better zip bomb") ---------------------------------
def overlap_bomb_entries(n, kernel_mib):
    """n unlisted tag files whose data all end in one shared deflate kernel:
    entry i's data quotes the local headers of entries i+1.. in stored
    deflate blocks, then the kernel (D. Fifield's construction)."""
    zeros = bytes(kernel_mib << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    kernel = c.compress(zeros) + c.flush()
    names = [("bag/bomb%04d.txt" % i).encode() for i in range(n)]
    # sizes, from the last entry back
    hdr_len = [30 + len(nm) for nm in names]
    sizes, csizes, crcs = [0] * n, [0] * n, [0] * n
    kcrc = zlib.crc32(zeros)
    quoted = [b""] * n       # uncompressed prefix of entry i (quoted headers)
    for i in reversed(range(n)):
        if i == n - 1:
            csizes[i] = len(kernel)
            sizes[i] = len(zeros)
            crcs[i] = kcrc
            continue
        nxt = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crcs[i + 1],
                          csizes[i + 1], sizes[i + 1], len(names[i + 1]), 0) + names[i + 1]
        quoted[i] = nxt + quoted[i + 1]
        csizes[i] = 5 + len(nxt) + csizes[i + 1]
        sizes[i] = len(nxt) + sizes[i + 1]
        crcs[i] = zlib.crc32(zeros, zlib.crc32(quoted[i])) & 0xFFFFFFFF
    # build the byte stream: H0 [q1] H1 [q2] H2 ... H(n-1) kernel, where [qk]
    # is the 5-byte stored-block header that quotes Hk
    stream = b""
    offs = []
    for i in range(n):
        h = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crcs[i], csizes[i],
                        sizes[i], len(names[i]), 0) + names[i]
        offs.append(len(stream))
        stream += h
        if i < n - 1:
            stream += struct.pack("<BHH", 0, hdr_len[i + 1], hdr_len[i + 1] ^ 0xFFFF)
    stream += kernel
    return stream, offs, names, sizes, csizes, crcs


@case
def overlap_bomb(c):
    stream, offs, names, sizes, csizes, crcs = overlap_bomb_entries(250, 1)
    es = bag()
    k = len(es)
    for i in range(len(names)):
        e = Entry(names[i], method=8, comp=b"", size=sizes[i], csize=csizes[i], crc=crcs[i])
        if i == 0:
            e.raw = stream
        else:
            e.lho_ref = (k, offs[i])
        es.append(e)
    return es


@case
def overlap_same_header(c):
    # a second central entry pointing at the first one's local header
    es = bag()
    idx = [i for i, e in enumerate(es) if e.name == b"bag/data/a.txt"][0]
    return es + [Entry("bag/data/a.txt", GOOD, lho_ref=idx)]


@case
def overlap_central(c):
    # an entry whose data runs into the central directory
    es = bag()
    es[-1].csize += 40
    es[-1].local = {"csize": es[-1].csize}
    return es


# --- ZIP64 fields that lie ----------------------------------------------------
@case
def zip64_offset_lie(c):
    es = bag()
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.zip64_off = 1 << 63
    return es


@case
def zip64_eocd_lie(c):
    return bag(), {"zip64_eocd_off": 1 << 63}


# --- header fields that change what the bytes mean, or that disagree -----------
def with_entry(**kw):
    es = bag()
    for e in es:
        if e.name == b"bag/data/a.txt":
            for k, v in kw.items():
                setattr(e, k, v)
    return es


@case
def dir_csize_beyond_file(c):
    # a folder entry whose central record claims more data than the file holds
    es = bag()
    es[2] = Entry("bag/data/", b"", mode=S_IFDIR | 0o755, csize=65536, local={"csize": 0})
    return es


@case
def file_mode_dir(c):
    return with_entry(mode=S_IFDIR | 0o755)


@case
def version_needed_high(c):
    return with_entry(need=153)


@case
def flag_bit5(c):
    return with_entry(flags=0x0020)


@case
def flag_bit13(c):
    return with_entry(flags=0x2000)


@case
def local_time(c):
    return with_local(time=0x1234)


# --- modes and header fields that change nothing read --------------------------
@case
def mode_no_type(c):
    # a file mode without its type bits, where the other files give theirs
    return with_entry(mode=0o644)


@case
def mode_undefined_type(c):
    # file type 03 (no system defines it)
    return with_entry(mode=0o030644)


@case
def made_by_host(c):
    # version made by: host 42, which APPNOTE does not define
    return with_entry(made=(42 << 8) | 45)


@case
def made_by_version(c):
    # version made by: Unix, APPNOTE 6.4 (there is none)
    return with_entry(made=(3 << 8) | 64)


@case
def internal_attr(c):
    # internal attributes: bit 1 set (only bit 0, text, is defined)
    return with_entry(iattr=0x0002)


def ours(es):
    """Entries with the fields evidence's ZIP writer gives every entry."""
    for e in es:
        e.made = (3 << 8) | 63
        e.xattr = (0o40755 << 16) | 0x10 if e.name.endswith(b"/") else 0o100644 << 16
    return es


@case
def ours_valid(c):
    return ours(bag())


@case
def ours_perm(c):
    # written like evidence writes, but one file has mode 0600
    es = ours(bag())
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.xattr = 0o100600 << 16
    return es


@case
def ours_made_by(c):
    # written like evidence writes, but one entry made by MS-DOS
    es = ours(bag())
    for e in es:
        if e.name == b"bag/data/a.txt":
            e.made = 63
    return es


def ut(mtime, atime=None, central=False):
    flags = 1 | (2 if atime is not None else 0)
    body = struct.pack("<BI", flags, mtime)
    if atime is not None and not central:
        body += struct.pack("<I", atime)
    return struct.pack("<HH", 0x5455, len(body)) + body


def ux(uid, gid):
    body = struct.pack("<BBIBI", 1, 4, uid, 4, gid)
    return struct.pack("<HH", 0x7875, len(body)) + body


@case
def local_ut_mtime(c):
    return with_entry(lextra=ut(1700000000), cextra=ut(1700000001))


@case
def local_ut_flags(c):
    return with_entry(lextra=ut(1700000000, 1700000000), cextra=ut(1700000000))


@case
def central_ut_missing(c):
    return with_entry(lextra=ut(1700000000))


@case
def local_ux_differs(c):
    return with_entry(lextra=ux(1000, 1000), cextra=ux(1001, 1000))


@case
def local_deflate_option(c):
    # the local header sets flag bit 1 (a deflate option), the central not
    es = bag()
    for e in es:
        if e.name == b"bag/manifest-sha256.txt":
            e.local = {"flags": e.flags | 2}
    return es


@case
def foreign_attrs(c):
    # how Info-ZIP's zip -r writes on Unix: made by 3.0, modes as found on
    # disk (0600, 0664, 0775 ...), the text bit, UT with the access time in
    # the local header only, ux with UID/GID in both
    payload = {"data/a.txt": GOOD, "data/b.txt": GOOD, "data/c.sh": GOOD}
    modes = {b"bag/data/a.txt": 0o100600, b"bag/data/b.txt": 0o100664,
             b"bag/data/c.sh": 0o100775, b"bag/data/": 0o40775}
    es = bag(payload=payload)
    for e in es:
        e.made = (3 << 8) | 30
        if e.name in modes:
            e.mode = modes[e.name]
        if e.name.endswith(b".txt"):
            e.iattr = 1
        e.lextra = ut(1700000000, 1700000100) + ux(1000, 1000)
        e.cextra = ut(1700000000, 1700000100, central=True) + ux(1000, 1000)
    return es


@case
def foreign_untyped(c):
    # how python's ZipFile.writestr(name, data) writes: files with mode 0600
    # and no file type, folders typed
    es = bag()
    for e in es:
        e.made = (3 << 8) | 20
        if not e.name.endswith(b"/"):
            e.mode = 0o600
    return es


@case
def zip64_eocd_ok(c):
    # a ZIP64 end record as zip and python write it
    return bag(), {"zip64_versions": ((3 << 8) | 45, 45)}


@case
def zip64_eocd_version(c):
    # a ZIP64 end record saying version 2.0 is needed (ZIP64 needs 4.5)
    return bag(), {"zip64_versions": ((3 << 8) | 45, 20)}


# --- bytes no checksum covers (valid, with warnings) ---------------------------
@case
def dir_with_data(c):
    es = bag()
    es[2] = Entry("bag/data/", b"hidden bytes\n", mode=S_IFDIR | 0o755)
    return es


@case
def prepended_stub(c):
    return bag(), {"prefix": b"#!/bin/sh\necho stub\nexit 0\n"}


@case
def appended_data(c):
    return bag(), {"suffix": b"appended after the end record\n"}


@case
def big_comment(c):
    return bag(), {"comment": b"C" * 65535}


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        print("\n".join(sorted(CASES)))
        return 0
    if len(argv) not in (3, 4) or argv[1] not in CASES:
        sys.stderr.write(__doc__)
        return 2
    canary = os.path.abspath(argv[3]) if len(argv) == 4 else "/nonexistent-canary-dir"
    es = CASES[argv[1]](canary)
    if isinstance(es, tuple):
        write_zip(argv[2], es[0], **es[1])
    else:
        write_zip(argv[2], es)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
