"""The content rules that raise risk flags, from libmagic's verdict plus a sample's head and tail.

`compute_flags` is pure and bounded: it reads only the bytes it is given, inflates at most
`INFLATE_BUDGET` bytes of zip members, and never raises on malformed input (a rule that meets
bytes it cannot make sense of simply does not fire). Because it parses hostile bytes it runs only
inside a sandboxed detection worker, after libmagic. Each rule is "where cheaply detectable":
structures outside the first MiB and last 64 KiB of an item are not seen.
"""

from __future__ import annotations

import codecs
import functools
import re
import struct

from vault.ingest import flags_formats as fmt
from vault.ingest import flags_ole as ole
from vault.ingest import flags_types as types
from vault.ingest import flags_zip as zips
from vault.ingest.flags import (
    ENCRYPTED,
    EXECUTABLE,
    EXTENSION_MISMATCH,
    MACROS,
    OFFICE_EXTERNAL,
    PDF_ACTIVE,
    POLYGLOT,
)

INFLATE_BUDGET = 8 * 1024 * 1024
MEMBER_CAP = 2 * 1024 * 1024
MAX_INFLATED_MEMBERS = 64
_INSPECTED = re.compile(
    r"(?:^|/)_rels/[^/]*\.rels$|^\[Content_Types\]\.xml$|^word/document\.xml$"
    r"|^META-INF/manifest\.xml$"
)
# Only libmagic's own words count: the type (before the first comma), and the OLE2 summary's
# Security field, which it prints last. Titles and authors it quotes come in between.
_ENCRYPTED_TYPE = re.compile(r"(?<!not )\bencrypted\b|\benc'd\b", re.IGNORECASE)
_CDF_SECURITY = re.compile(r", Security: (\d+)$")
# .xlsb's ordinary main part is "sheet.binary.macroEnabled": it says nothing about macros.
_MACRO_CONTENT_TYPE = re.compile(
    rb"vnd\.ms-(?:word|excel|powerpoint)\.(?!sheet\.binary)[a-z]+\.macroEnabled"
    rb"|vnd\.ms-office\.vbaProject",
    re.IGNORECASE,
)
_APPENDED_ZIP_SLACK = 1024
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>", re.IGNORECASE)
_EXTERNAL_MODE = re.compile(rb"TargetMode\s*=\s*[\"']External[\"']", re.IGNORECASE)
_HYPERLINK_TYPE = re.compile(rb"Type\s*=\s*[\"'][^\"']*/hyperlink[\"']", re.IGNORECASE)
_FIELD_TEXT = re.compile(rb"<w:instrText\b[^>]*>([^<]*)<|\bw:instr\s*=\s*\"([^\"]*)\"")
_EXTERNAL_FIELD = re.compile(rb"\b(?:DDE|DDEAUTO|INCLUDETEXT|INCLUDEPICTURE|IMPORT|LINK)\b", re.I)
_RTF_EXTERNAL = re.compile(
    rb"\\objautlink|\\objlink|\\\*\\template\b|\\fldinst[^}]{0,200}?\b(?:DDE|DDEAUTO|INCLUDETEXT"
    rb"|INCLUDEPICTURE|IMPORT)\b",
    re.IGNORECASE,
)
_DDEAUTO_BINARY = (b"DDEAUTO", "DDEAUTO".encode("utf-16-le"))
_ODF_MACRO = re.compile(
    r"^(?:Basic/[^/]+/(?!script-lb\.xml$|dialog-lb\.xml$)[^/]+\.xml"
    r"|Scripts/(?:python|javascript|beanshell|java)/.+)$"
)
_PROGRAM_TEXT = re.compile(r"\b(?:script|executable)\b", re.IGNORECASE)
_TEXTUAL_START = frozenset({"html", "script", "rtf"})


def compute_flags(
    name: str, head: bytes, tail: bytes, size: int, mime: str, description: str
) -> frozenset[str]:
    """Every risk flag the sample raises.

    Args:
        name: the item's display name (for its extension).
        head: the first bytes of the item (up to 1 MiB).
        tail: the last bytes (up to 64 KiB; may overlap head).
        size: the item's true size.
        mime: libmagic's MIME type for the head.
        description: libmagic's description for the head.

    Returns:
        A set of names from `vault.ingest.flags.FLAGS` (never `type-unknown`).
    """
    facts = _Facts(name, head, tail, size, mime)
    flags: set[str] = set()
    if _executable(facts, description):
        flags.add(EXECUTABLE)
    if _macros(facts):
        flags.add(MACROS)
    if _encrypted(facts, description):
        flags.add(ENCRYPTED)
    if facts.is_pdf and fmt.pdf_active(facts.chunks + fmt.pdf_object_streams(facts.chunks)):
        flags.add(PDF_ACTIVE)
    if _polyglot(facts):
        flags.add(POLYGLOT)
    if _office_external(facts):
        flags.add(OFFICE_EXTERNAL)
    if _extension_mismatch(facts, ENCRYPTED in flags):
        flags.add(EXTENSION_MISMATCH)
    return frozenset(flags)


class _Facts:
    """What several rules share, computed once per sample."""

    def __init__(self, name: str, head: bytes, tail: bytes, size: int, mime: str) -> None:
        self.ext = types.extension_of(name)
        self.head, self.tail, self.size = head, tail, size
        self.mime = mime.lower()
        self.chunks = [data for _, data in zips.regions(head, tail, size)]
        self.start = fmt.start_format(head)
        self.pdf_offset = fmt.pdf_header_offset(head)
        self.is_pdf = self.pdf_offset >= 0 or self.mime == "application/pdf"
        self.is_ole = ole.is_ole(head)
        zip_like = head.startswith(b"PK") or types.fits(self.mime, types.ZIP_BASED)
        eocd = zips.find_eocd(head, tail, size)
        self.zip = zips.scan(head, tail, size, eocd) if zip_like or eocd is not None else None
        self.members = self._inflate() if self.zip is not None else {}

    def _inflate(self) -> dict[str, bytes]:
        assert self.zip is not None
        out: dict[str, bytes] = {}
        budget = INFLATE_BUDGET
        for entry in zips.local_members(self.zip):
            if len(out) >= MAX_INFLATED_MEMBERS or budget <= 0:
                break
            if entry.name in out or not _INSPECTED.search(entry.name):
                continue
            data = zips.read_member(self.head, entry, min(MEMBER_CAP, budget))
            if data is not None:
                out[entry.name] = data
                budget -= len(data)
        return out

    @functools.cached_property
    def workbook(self) -> ole.WorkbookFacts:
        return ole.workbook_facts(self.head, self.tail, self.size)

    def has_name(self, pattern: re.Pattern[str]) -> bool:
        return self.zip is not None and any(pattern.search(n) for n in self.zip.names)

    def ole_has(self, names: tuple[str, ...]) -> bool:
        return self.is_ole and bool(ole.find_entries(self.head, self.tail, self.size, names))


def _executable(f: _Facts, description: str) -> bool:
    if f.ext in types.EXECUTABLE_EXTENSIONS or f.mime in types.EXECUTABLE_MIMES:
        return True
    # libmagic's word for a script, whatever MIME type it gave (only for text: a binary
    # type's description can quote what it found inside, e.g. in a JPEG's Exif block)
    if f.mime.startswith(("text/", "message/")) and _PROGRAM_TEXT.search(description):
        return True
    return fmt.program_signature(f.head) is not None or fmt.script_signature(f.head)


_VBA_NAME = re.compile(r"(?:^|/)vbaProject\.bin$|(?:^|/)macrosheets/", re.IGNORECASE)


def _macros(f: _Facts) -> bool:
    if f.is_ole:
        return f.ole_has(ole.MACRO_ENTRIES) or f.workbook.macros
    if f.zip is None:
        return False
    if f.has_name(_VBA_NAME) or f.has_name(_ODF_MACRO):
        return True
    types_xml = f.members.get("[Content_Types].xml", b"")
    if _MACRO_CONTENT_TYPE.search(types_xml) or _MACRO_CONTENT_TYPE.search(f.mime.encode()):
        return True
    return f.ext in types.MACRO_ENABLED_EXTENSIONS and bool(f.zip.names)


def _encrypted(f: _Facts, description: str) -> bool:
    if _ENCRYPTED_TYPE.search(description.split(",", 1)[0]):
        return True
    security = _CDF_SECURITY.search(description)
    if security and int(security.group(1)) & 1:
        return True
    if f.is_pdf:
        return fmt.pdf_encrypted(f.chunks)
    if f.is_ole:
        if f.ole_has(ole.ENCRYPTION_ENTRIES) or ole.word_encrypted(f.head, f.tail, f.size):
            return True
        return f.workbook.encrypted
    if f.zip is not None:
        if any(e.encrypted for e in f.zip.entries):
            return True
        return b"encryption-data" in f.members.get("META-INF/manifest.xml", b"")
    if fmt.seven_zip_encrypted(f.head, f.tail, f.size) or fmt.rar_encrypted(f.head):
        return True
    return fmt.message_encrypted(f.head)


def _polyglot(f: _Facts) -> bool:
    """Two strong format signatures: one at offset 0, another where a reader would accept it."""
    formats: set[str] = set()
    if f.start is not None:
        formats.add(f.start)
    elif f.mime.startswith("text/"):
        formats.add("text")
    tail_chunk = f.chunks[-1]
    if f.pdf_offset > 0 and b"%%EOF" in tail_chunk:
        formats.add("pdf")
    # Legacy Office files embed OOXML parts (themes) as zip data: not a second format.
    gap = f.zip.eocd_gap if f.zip is not None and not f.is_ole else None
    if gap is not None and gap <= _APPENDED_ZIP_SLACK:
        formats.add("zip")
    binary_start = f.start is not None and f.start not in _TEXTUAL_START
    if binary_start and fmt.HTML_TAG.search(f.head, 0, 512):
        formats.add("html")
    return len(formats) >= 2


def _office_external(f: _Facts) -> bool:
    if f.start == "rtf":
        return any(_RTF_EXTERNAL.search(chunk) for chunk in f.chunks)
    if f.is_ole:
        return any(needle in chunk for needle in _DDEAUTO_BINARY for chunk in f.chunks)
    if f.zip is None:
        return False
    if any(n.startswith(("xl/externalLinks/", "xl/connections.xml")) for n in f.zip.names):
        return True
    for member, data in f.members.items():
        if member.endswith(".rels"):
            for rel in _RELATIONSHIP.finditer(data):
                tag = rel.group(0)
                if _EXTERNAL_MODE.search(tag) and not _HYPERLINK_TYPE.search(tag):
                    return True
    document = f.members.get("word/document.xml", b"")
    fields = b"".join(a or b for a, b in _FIELD_TEXT.findall(document))
    return bool(_EXTERNAL_FIELD.search(fields))


def _extension_mismatch(f: _Facts, encrypted: bool) -> bool:
    family = types.EXTENSION_FAMILIES.get(f.ext)
    if family is None or f.size == 0:
        return False
    if f.ext in types.OOXML_EXTENSIONS:
        if f.is_ole:  # encrypted OOXML is an OLE2 container holding the encrypted package
            return not encrypted
        # libmagic names an OOXML package by its first members; the package's own index is surer
        return f.zip is None or "[Content_Types].xml" not in f.zip.names
    if family is types.ZIP_BASED and f.zip is not None and (f.zip.at_start or f.zip.entries):
        return False
    if f.ext == "tar" and fmt.tar_header_valid(f.head):
        return False
    return not types.fits(f.mime, family)


_CODECS = ("ascii", "latin-1", "cp437", "utf-8", "utf-16-le", "utf-16-be")


def warm_up() -> None:
    """Import every codec and module the rules need, by running them once on made-up samples.

    A worker calls this before it locks itself down: afterwards it can open no file, so an
    import first needed while reading a sample would fail.
    """
    for name in _CODECS:
        codecs.lookup(name)
    member = "\u00e9/vbaProject.bin".encode("cp437", "replace")
    deflated = codecs.encode(b"<Relationship TargetMode='External'/>", "zlib")[2:-4]
    local = (
        struct.pack(
            "<4sHHHHHIIIHH", zips.LOCAL_SIG, 20, 0, 8, 0, 0, 0, len(deflated), 0, len(member), 0
        )
        + member
        + deflated
    )
    central = (
        struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            zips.CENTRAL_SIG,
            20,
            20,
            1,
            8,
            0,
            0,
            0,
            0,
            0,
            len(member),
            0,
            0,
            0,
            0,
            0,
            0,
        )
        + member
    )
    eocd = struct.pack("<4sHHHHIIH", zips.EOCD_SIG, 0, 0, 1, 1, len(central), len(local), 0)
    ole_head = ole.OLE_MAGIC + bytes(512 - len(ole.OLE_MAGIC))
    samples = [
        ("a.docx", local + central + eocd, "application/zip"),
        ("a.xls", ole_head + "Workbook".encode("utf-16-le"), "application/vnd.ms-excel"),
        ("a.pdf", b"%PDF-1.7 /J#61vaScript /Encrypt 1 0 R <html> %%EOF", "application/pdf"),
        ("a.rtf", b"{\\rtf1 \\objautlink}", "text/rtf"),
        ("a.7z", b"7z\xbc\xaf\x27\x1c" + bytes(40), "application/x-7z-compressed"),
        ("a.rar", b"Rar!\x1a\x07\x01\x00" + bytes(16), "application/x-rar"),
        ("a.tar", b"x" * 600, "application/x-tar"),
        ("a.exe", b"MZ" + bytes(100), "application/x-dosexec"),
    ]
    for sample_name, data, mime in samples:
        compute_flags(sample_name, data, data, len(data), mime, "Security: 1 encrypted")
