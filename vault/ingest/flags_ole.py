"""Cheap, bounded reading of OLE2 (Compound File) structures seen in a sample's head and tail.

Legacy Office files (.doc, .xls, .ppt), Outlook .msg and encrypted OOXML are OLE2 containers.
Instead of walking the sector chains, this module looks for directory entries by name: an entry is
128 bytes, starts on a 128-byte boundary of the file, and states its own name length and type, so a
named entry can be recognised reliably wherever its directory sector lies in the head or tail.
Streams are only read when they start in the head and are stored contiguously, which is how
Office writes small files ("where cheaply detectable"). Runs only inside a detection worker.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from vault.ingest.flags_zip import regions

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENTRY = 128
_TYPES = (1, 2, 5)  # storage, stream, root
MACRO_ENTRIES = ("_VBA_PROJECT", "_VBA_PROJECT_CUR", "VBA", "Macros")
ENCRYPTION_ENTRIES = (
    "EncryptedPackage",
    "EncryptionInfo",
    "EncryptedSummary",
    "\x09DRMContent",
    "\x09DRMViewerContent",
)
_BIFF_BOF = 0x0809
_BIFF_EOF = 0x000A
_BIFF_FILEPASS = 0x002F
_BIFF_BOUNDSHEET = 0x0085
_BIFF_OBPROJ = 0x00D3
_WORD_IDENT = 0xA5EC
_WORD_ENCRYPTED = 0x0100


@dataclass(frozen=True)
class OleEntry:
    """A directory entry found by name.

    Attributes:
        name: the entry's name.
        start: its first sector.
        size: its stream size in bytes.
    """

    name: str
    start: int
    size: int


def is_ole(head: bytes) -> bool:
    """Whether the bytes start with the OLE2 signature."""
    return head.startswith(OLE_MAGIC)


def find_entries(head: bytes, tail: bytes, size: int, names: tuple[str, ...]) -> list[OleEntry]:
    """Directory entries with one of `names` (exact, case-sensitive) seen in head or tail."""
    found: list[OleEntry] = []
    for name in names:
        needle = name.encode("utf-16-le") + b"\x00\x00"
        for base, data in regions(head, tail, size):
            pos = data.find(needle)
            while pos >= 0 and len(found) < 1000:
                if (base + pos) % _ENTRY == 0 and pos + _ENTRY <= len(data):
                    name_len, kind = struct.unpack_from("<HB", data, pos + 64)
                    if name_len == len(needle) and kind in _TYPES:
                        start, length = struct.unpack_from("<II", data, pos + 116)
                        found.append(OleEntry(name, start, length))
                pos = data.find(needle, pos + 2)
    return found


def stream_offset(head: bytes, entry: OleEntry) -> int | None:
    """Where a stream starts in the head, if it is a regular (not mini) stream that starts there."""
    if len(head) < 0x40 or entry.size < 4096:
        return None
    shift = struct.unpack_from("<H", head, 0x1E)[0]
    if shift not in (9, 12) or entry.start >= 0xFFFFFFFA:
        return None
    offset = (entry.start + 1) << shift
    return offset if offset + 32 <= len(head) else None


def word_encrypted(head: bytes, tail: bytes, size: int) -> bool:
    """Whether a Word 97-2003 document's FIB says it is encrypted (fEncrypted)."""
    for entry in find_entries(head, tail, size, ("WordDocument",)):
        offset = stream_offset(head, entry)
        if offset is not None:
            ident, _, _, _, _, flags = struct.unpack_from("<HHHHHH", head, offset)
            if ident == _WORD_IDENT and flags & _WORD_ENCRYPTED:
                return True
    return False


@dataclass(frozen=True)
class WorkbookFacts:
    """What the globals substream of an Excel 97-2003 workbook says.

    Attributes:
        encrypted: a FILEPASS record follows the BOF record.
        macros: an Excel 4.0 macro sheet (BOUNDSHEET type 1) or a VBA project record (OBPROJ).
    """

    encrypted: bool = False
    macros: bool = False


def workbook_facts(head: bytes, tail: bytes, size: int) -> WorkbookFacts:
    """Walk the first records of a BIFF5/8 workbook stream that starts in the head."""
    for entry in find_entries(head, tail, size, ("Workbook", "Book")):
        offset = stream_offset(head, entry)
        if offset is not None:
            return _walk_biff(head, offset, min(len(head), offset + entry.size))
    return WorkbookFacts()


def _walk_biff(data: bytes, pos: int, end: int) -> WorkbookFacts:
    encrypted = macros = False
    for index in range(4096):
        if pos + 4 > end:
            break
        kind, length = struct.unpack_from("<HH", data, pos)
        if length > 8224 or (index == 0 and kind != _BIFF_BOF) or kind == _BIFF_EOF:
            break
        if kind == _BIFF_FILEPASS:
            encrypted = True
        elif kind == _BIFF_OBPROJ:
            macros = True
        elif kind == _BIFF_BOUNDSHEET and length >= 6 and not encrypted and pos + 10 <= end:
            macros = macros or data[pos + 9] == 0x01
        pos += 4 + length
    return WorkbookFacts(encrypted, macros)
