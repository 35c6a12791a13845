"""Hostile and ordinary containers, built in memory (nothing here touches the filesystem)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MiB = 1024 * 1024


# --- zip -----------------------------------------------------------------------------------


@dataclass
class RawEntry:
    """One entry of a zip written by hand, so that names and offsets can be anything."""

    name: bytes
    data: bytes = b""
    method: int = 0  # 0 stored, 8 deflate
    flag_bits: int = 0
    external_attr: int = 0
    create_system: int = 0
    crc: int | None = None
    size: int | None = None
    central_extra: bytes = b""  # extra fields of the central directory record


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _local(name: bytes, method: int, flag_bits: int, crc: int, packed: int, size: int) -> bytes:
    fixed = struct.pack(
        "<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, flag_bits, method, 0, 0, crc, packed, size,
        len(name), 0,
    )  # fmt: skip
    return fixed + name


def _record(entry: RawEntry, crc: int, packed: int, size: int, offset: int) -> bytes:
    fields = (
        b"PK\x01\x02", 20, entry.create_system, 20, 0, entry.flag_bits, entry.method, 0, 0,
        crc, packed, size, len(entry.name), len(entry.central_extra), 0, 0, 0,
        entry.external_attr, offset,
    )  # fmt: skip
    return struct.pack("<4s4B4HL2L5H2L", *fields) + entry.name + entry.central_extra


def _end(count: int, size: int, start: int) -> bytes:
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, start, 0)


def raw_zip(entries: list[RawEntry], *, offsets: list[int] | None = None) -> bytes:
    """A zip of the given entries; `offsets` overrides where the central directory points."""
    out = io.BytesIO()
    records: list[tuple[RawEntry, int, bytes]] = []
    for entry in entries:
        packed = _deflate(entry.data) if entry.method == 8 else entry.data
        crc = entry.crc if entry.crc is not None else zlib.crc32(entry.data)
        size = entry.size if entry.size is not None else len(entry.data)
        offset = out.tell()
        out.write(_local(entry.name, entry.method, entry.flag_bits, crc, len(packed), size))
        out.write(packed)
        records.append((entry, offset, packed))
    return _central(out, records, offsets)


def _central(
    out: io.BytesIO, records: list[tuple[RawEntry, int, bytes]], offsets: list[int] | None
) -> bytes:
    start = out.tell()
    for index, (entry, offset, packed) in enumerate(records):
        crc = entry.crc if entry.crc is not None else zlib.crc32(entry.data)
        size = entry.size if entry.size is not None else len(entry.data)
        where = offsets[index] if offsets else offset
        out.write(_record(entry, crc, len(packed), size, where))
    out.write(_end(len(records), out.tell() - start, start))
    return out.getvalue()


def std_zip(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip written by the standard library."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def overlapping_zip(copies: int, kernel: bytes) -> bytes:
    """A full-overlap zip bomb: `copies` central directory entries share one local entry."""
    packed = _deflate(kernel)
    crc = zlib.crc32(kernel)
    body = _local(b"k", 8, 0, crc, len(packed), len(kernel)) + packed
    records = b"".join(
        _record(RawEntry(name=f"{i:04d}".encode(), method=8), crc, len(packed), len(kernel), 0)
        for i in range(copies)
    )
    return body + records + _end(copies, len(records), len(body))


def quoted_overlap_zip() -> bytes:
    """Fifield's quoted overlap: entry A's stored data is entry B's whole local record."""
    inner = b"\x00" * 4096
    b_packed = _deflate(inner)
    b_local = _local(b"b", 8, 0, zlib.crc32(inner), len(b_packed), len(inner)) + b_packed
    a_local = _local(b"a", 0, 0, zlib.crc32(b_local), len(b_local), len(b_local))
    out = io.BytesIO()
    out.write(a_local + b_local)
    records = [
        (RawEntry(name=b"a", data=b_local), 0, b_local),
        (RawEntry(name=b"b", data=inner, method=8), len(a_local), b_packed),
    ]
    return _central(out, records, None)


def nested_zip_bomb(levels: int, fan_out: int, leaf_bytes: int) -> bytes:
    """A 42.zip-style nest: each level holds `fan_out` copies of the level below."""
    current = std_zip({"leaf.bin": b"\x00" * leaf_bytes})
    for level in range(levels):
        current = std_zip({f"l{level}-{i}.zip": current for i in range(fan_out)})
    return current


# --- tar and compressed files -----------------------------------------------------------------


def tar_of(
    entries: list[tuple[tarfile.TarInfo, bytes | None]], fmt: int = tarfile.PAX_FORMAT
) -> bytes:
    """A tar of the given headers (and data for regular files)."""
    out = io.BytesIO()
    with tarfile.open(
        fileobj=out, mode="w", format=fmt, encoding="utf-8", errors="surrogateescape"
    ) as archive:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            else:
                archive.addfile(info)
    return out.getvalue()


def info(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    """A tar header."""
    header = tarfile.TarInfo(name)
    header.type = kind
    header.linkname = linkname
    header.mode = 0o644
    return header


def files_tar(files: dict[str, bytes]) -> bytes:
    """A tar of regular files."""
    return tar_of([(info(name), data) for name, data in files.items()])


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda data: gzip.compress(data, mtime=0),
    "bzip2": bz2.compress,
    "xz": lambda data: lzma.compress(data, format=lzma.FORMAT_XZ),
}


def gzip_named(data: bytes, fname: bytes) -> bytes:
    """A gzip member whose header carries FNAME."""
    header = b"\x1f\x8b\x08\x08" + b"\x00" * 4 + b"\x02\xff" + fname + b"\x00"
    trailer = struct.pack("<LL", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return header + _deflate(data) + trailer


# --- every on-the-fly case at once, for the sentinel test --------------------------------------


def email_with_attachments() -> bytes:
    """A message with a text and an HTML body, an inline image and three attachments."""
    from email.message import EmailMessage
    from email.policy import SMTP

    mail = EmailMessage()
    mail["From"] = "Source <source@example.org>"
    mail["To"] = "desk@example.net"
    mail["Subject"] = "Documents \u202egpj.exe"
    mail["Message-ID"] = "<1@example.org>"
    mail.set_content("Plain body text.\n")
    mail.add_alternative('<p>HTML body <img src="cid:logo"></p>', subtype="html")
    parts = mail.get_payload()
    assert isinstance(parts, list)
    html = parts[1]
    assert isinstance(html, EmailMessage)
    html.add_related(PNG, maintype="image", subtype="png", cid="<logo>")
    mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="budget.pdf")
    mail.add_attachment(b"col1,col2\n", maintype="text", subtype="csv", filename="données.csv")
    mail.add_attachment(
        b"MZ", maintype="application", subtype="octet-stream", filename="../../\x1b[2Jrun.exe"
    )
    return mail.as_bytes(policy=SMTP)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% evidence\n"


def mbox_of_three() -> bytes:
    """An mbox of three messages, with a quoted >From line in each body."""
    messages = []
    for number in range(1, 4):
        messages.append(
            b"From sender%d@example.org Mon Jan  %d 10:00:00 2024\n" % (number, number)
            + b"From: sender%d@example.org\nSubject: Message %d/3\n\nBody %d\n" % ((number,) * 3)
            + b">From the archive, quoted\n"
        )
    return b"\n".join(messages)


def seven_zip(files: dict[str, bytes], **options: Any) -> bytes:
    """A 7z archive written by py7zr, in memory (options: password, filters …)."""
    import py7zr

    out = io.BytesIO()
    with py7zr.SevenZipFile(out, "w", **options) as archive:
        for name, data in files.items():
            archive.writestr(data, name)
    return out.getvalue()


def scenarios() -> dict[str, bytes]:
    """Every hostile and ordinary container the tests build, by name."""
    slip = ["../../evil", "/etc/passwd", "C:\\x", "..\\..\\x"]
    hostile_names = [b"\x1b[2J.txt", "r\u202efdp.exe".encode(), b"nul\x00.txt", b"\xff\xfe.bin"]
    hostile_names += [b"n" * 300 + b".txt", b"a.txt", b"A.TXT", b"a.txt"]
    tar_links = tar_of([(info("link", tarfile.SYMTYPE, "/tmp"), None), (info("link/pwned"), b"x")])
    plain = b"a plain file\n" * 100
    tarred = files_tar({"a.txt": b"a" * 1000, "b/c.txt": b"c" * 1000})
    out = {
        "42.zip": nested_zip_bomb(levels=3, fan_out=8, leaf_bytes=4 * MiB),
        "overlap.zip": overlapping_zip(copies=200, kernel=b"\x00" * MiB),
        "quoted-overlap.zip": quoted_overlap_zip(),
        "zeros.zip": std_zip({"zeros.bin": b"\x00" * (16 * MiB)}),
        "slip.zip": raw_zip([RawEntry(name=name.encode(), data=b"x") for name in slip]),
        "slip.tar": tar_of([(info(name), b"x") for name in slip]),
        "links.tar": tar_links,
        "names.zip": raw_zip([RawEntry(name=name, data=b"x") for name in hostile_names]),
        "mail.eml": email_with_attachments(),
        "three.mbox": mbox_of_three(),
        "nested.tar.gz": COMPRESSORS["gzip"](files_tar({"in/archive.zip": std_zip({"x": plain})})),
        "files.7z": seven_zip({"a.txt": plain, "b/c.bin": bytes(range(256))}),
    }
    for method, compress in COMPRESSORS.items():
        out[f"file.{method}"] = compress(plain)
        out[f"tar.{method}"] = compress(tarred)
    return out
