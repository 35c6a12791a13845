"""Format signatures and small structure checks for the flag rules: PDF, 7z, RAR, tar, programs.

Each function looks at bounded slices of a sample's head or tail and never follows an offset out
of them. Runs only inside a detection worker.
"""

from __future__ import annotations

import itertools
import re
import struct
import zlib

PDF_HEADER = b"%PDF-"
PDF_HEADER_WINDOW = 1024
_PDF_ENCRYPT = re.compile(rb"/Encrypt\s*(?:\d+\s+\d+\s+R|<<)|/EncryptedPayload\b")
# /OpenAction is judged apart: most are a plain "open at page 1" destination.
_PDF_ACTIVE_NAMES = b"JavaScript|JS|AA|Launch|EmbeddedFile|EmbeddedFiles|RichMedia|XFA|GoToE"
_OPEN_ACTION = re.compile(rb"/OpenAction\s*(?:(<<)|(\d+)\s+(\d+)\s+R)")
_GOTO = re.compile(rb"/S\s*/GoTo(?![A-Za-z])")
_OBJECT_STREAM = re.compile(rb"/Type\s*/ObjStm(?![A-Za-z])")
OBJECT_STREAM_BUDGET = 8 * 1024 * 1024
_MAX_OBJECT_STREAMS = 64
_PDF_ACTIVE = re.compile(rb"/(?:" + _PDF_ACTIVE_NAMES + rb")(?=[\s/<>\[\]()%{}]|$)")
_PDF_ESCAPED_NAME = re.compile(rb"/[^\s/<>\[\]()%{}]*#[0-9A-Fa-f]{2}[^\s/<>\[\]()%{}]*")
_PDF_ACTIVE_EXACT = re.compile(rb"/(?:" + _PDF_ACTIVE_NAMES + rb")")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_SEVEN_ZIP = b"7z\xbc\xaf\x27\x1c"
_SEVEN_ZIP_AES = b"\x06\xf1\x07\x01"
_RAR4 = b"Rar!\x1a\x07\x00"
_RAR5 = b"Rar!\x1a\x07\x01\x00"
_MACHO = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
_SHEBANG = re.compile(rb"\A(?:\xef\xbb\xbf)?#![ \t]*/")
_BATCH = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*@echo\s+off\b", re.IGNORECASE)
_HTA = re.compile(rb"<hta:application\b", re.IGNORECASE)
_HTML_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html|head|body|script)\b", re.I
)
HTML_TAG = re.compile(rb"<(?:html|script|body|iframe|svg|object|embed)\b", re.IGNORECASE)


def pdf_header_offset(head: bytes) -> int:
    """Where `%PDF-` starts within the first KiB (readers accept it there), or -1."""
    return head.find(PDF_HEADER, 0, PDF_HEADER_WINDOW + len(PDF_HEADER))


def pdf_encrypted(chunks: list[bytes]) -> bool:
    """Whether a trailer or cross-reference stream names an /Encrypt dictionary."""
    return any(_PDF_ENCRYPT.search(chunk) for chunk in chunks)


def pdf_active(chunks: list[bytes]) -> bool:
    """Whether the PDF names active content, including names hidden with #xx escapes.

    An /OpenAction counts when it is an action other than GoTo, inline or in an object found in
    the chunks; an "open at this page" destination does not.
    """
    for chunk in chunks:
        if _PDF_ACTIVE.search(chunk) or _open_action_active(chunk, chunks):
            return True
        for match in _PDF_ESCAPED_NAME.finditer(chunk):
            plain = _HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(0))
            if _PDF_ACTIVE_EXACT.fullmatch(plain) or plain == b"/OpenAction":
                return True
    return False


def _open_action_active(chunk: bytes, chunks: list[bytes]) -> bool:
    for match in _OPEN_ACTION.finditer(chunk):
        if match.group(1):
            body = chunk[match.end() : chunk.find(b">>", match.end(), match.end() + 4096)]
            if not _GOTO.search(body):
                return True
            continue
        header = re.compile(
            rb"(?<!\d)" + match.group(2) + rb"\s+" + match.group(3) + rb"\s+obj\s*<<([^>]{0,4096})"
        )
        for other in chunks:
            found = header.search(other)
            if found and not _GOTO.search(found.group(1)):
                return True
    return False


def pdf_object_streams(chunks: list[bytes]) -> list[bytes]:
    """The inflated contents of the Flate-compressed object streams in the chunks.

    Modern PDFs keep most dictionaries (actions, annotations, names) in object streams, where a
    byte search cannot see them. At most `OBJECT_STREAM_BUDGET` bytes are inflated in all.
    """
    out: list[bytes] = []
    budget = OBJECT_STREAM_BUDGET
    for chunk in chunks:
        for match in itertools.islice(_OBJECT_STREAM.finditer(chunk), _MAX_OBJECT_STREAMS):
            start = chunk.find(b"stream", match.end(), match.end() + 4096)
            opened = chunk.rfind(b"obj", max(0, match.start() - 4096), match.start())
            if start < 0 or budget <= 0 or b"/FlateDecode" not in chunk[opened:start]:
                continue
            start += len(b"stream")
            start += 2 if chunk[start : start + 2] == b"\r\n" else 1
            end = chunk.find(b"endstream", start)
            try:
                data = zlib.decompressobj().decompress(
                    chunk[start : end if end > 0 else None], budget
                )
            except zlib.error:
                continue
            out.append(data)
            budget -= len(data)
    return out


_CMS_ENVELOPED = (
    b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x03",  # envelopedData
    b"\x06\x0b\x2a\x86\x48\x86\xf7\x0d\x01\x09\x10\x01\x17",  # authEnvelopedData
)
_ENCRYPTED_TEXT = re.compile(
    rb"\A(?:age-encryption\.org/v1\n|-----BEGIN AGE ENCRYPTED FILE-----)"
    rb"|-----BEGIN PGP MESSAGE-----"
    rb"|^content-type:[ \t]*multipart/encrypted"
    rb"|smime-type[ \t]*=[ \t]*\"?(?:auth)?enveloped-data",
    re.IGNORECASE | re.MULTILINE,
)

_ENCRYPTED_WORDS = (
    b"age-encryption.org",
    b"AGE ENCRYPTED",
    b"PGP MESSAGE",
    b"ncrypted",
    b"NCRYPTED",
    b"nveloped-data",
    b"NVELOPED-DATA",
)


def message_encrypted(head: bytes) -> bool:
    """Whether the bytes are, or carry as a mail body, an encrypted message: S/MIME or CMS
    enveloped data, an armored OpenPGP message, PGP/MIME, or an age file."""
    if head[:1] == b"\x30" and any(oid in head[:64] for oid in _CMS_ENVELOPED):
        return True
    end = min(len(head), 256 * 1024)
    # A case-insensitive regex walks every byte; a plain search for the words is far cheaper.
    if all(head.find(word, 0, end) < 0 for word in _ENCRYPTED_WORDS):
        return False
    return bool(_ENCRYPTED_TEXT.search(head, 0, end))


def seven_zip_encrypted(head: bytes, tail: bytes, size: int) -> bool:
    """Whether a 7z archive's end header names the AES coder.

    The end header sits at the file's end; when it is stored plainly or encoded with AES (hidden
    names), the AES coder id appears in it. An LZMA-compressed header hides it: not detected.
    """
    if not head.startswith(_SEVEN_ZIP) or len(head) < 32:
        return False
    next_offset, next_size = struct.unpack_from("<QQ", head, 12)
    start = 32 + next_offset
    if next_size == 0 or next_size > 1024 * 1024 or start + next_size > size:
        return False
    whole = head if size <= len(head) else None
    if whole is not None:
        header = whole[start : start + next_size]
    elif start >= size - len(tail):
        begin = start - (size - len(tail))
        header = tail[begin : begin + next_size]
    else:
        return False
    return _SEVEN_ZIP_AES in header


def rar_encrypted(head: bytes) -> bool:
    """Whether a RAR archive's first headers say its headers or first file are encrypted."""
    if head.startswith(_RAR5):
        pos = len(_RAR5) + 4  # after the header CRC
        _, pos = _vint(head, pos)  # header size
        kind, _ = _vint(head, pos)
        return kind == 4  # archive encryption header
    if head.startswith(_RAR4):
        pos = len(_RAR4)
        for _ in range(16):
            if pos + 7 > len(head):
                return False
            _, kind, flags, length = struct.unpack_from("<HBHH", head, pos)
            if kind == 0x73 and flags & 0x0080:  # main header: block headers encrypted
                return True
            if kind == 0x74:  # file header: LHD_PASSWORD
                return bool(flags & 0x0004)
            if length < 7:
                return False
            extra = 0
            if flags & 0x8000:
                if pos + 11 > len(head):
                    return False
                extra = struct.unpack_from("<I", head, pos + 7)[0]
            pos += length + extra
    return False


def _vint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            break
        shift += 7
    return value, pos


def tar_header_valid(head: bytes) -> bool:
    """Whether the first 512 bytes are a tar header with a correct checksum (with or without
    the ustar magic)."""
    if len(head) < 512 or head[0] == 0:
        return False
    field = head[148:156].replace(b"\x00", b" ").strip()
    try:
        stated = int(field, 8)
    except ValueError:
        return False
    header = head[:148] + b" " * 8 + head[156:512]
    return stated == sum(header)


def program_signature(head: bytes) -> str | None:
    """The kind of compiled program the bytes start as, if any."""
    if head.startswith(b"\x7fELF"):
        return "elf"
    if head[:4] in _MACHO:
        return "macho"
    if head.startswith(b"\xca\xfe\xba\xbe"):
        return "java-or-fat-macho"
    if head.startswith(b"\x00asm"):
        return "wasm"
    if head.startswith(b"MZ") and len(head) >= 0x40:
        offset = struct.unpack_from("<I", head, 0x3C)[0]
        if head[offset : offset + 2] in (b"PE", b"NE", b"LE", b"LX"):
            return "pe"
    return None


def script_signature(head: bytes) -> bool:
    """Whether the bytes start as a script: a shebang line, a batch file, an HTML application."""
    return bool(_SHEBANG.match(head) or _BATCH.match(head) or _HTA.search(head, 0, 4096))


def start_format(head: bytes) -> str | None:
    """The strong format signature at offset 0, if any."""
    program = program_signature(head)
    if program is not None:
        return program
    for magic, name in _START_MAGIC:
        if head.startswith(magic):
            return name
    if _SHEBANG.match(head):
        return "script"
    if _HTML_START.match(head):
        return "html"
    return None


_START_MAGIC = (
    (PDF_HEADER, "pdf"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"PK\x07\x08", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (_SEVEN_ZIP, "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"\x1f\x8b", "gzip"),
    (b"{\\rtf", "rtf"),
    (b"MZ", "dos"),
)
