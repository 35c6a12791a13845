"""Names from hostile containers, made safe to show and faithful to record.

A member name is attacker-chosen bytes. This module turns it into two things:

- a faithful record: the bytes as found, and `raw`, an escaped text form that maps back to them
  (valid UTF-8 shows as text, every other byte as `\\xNN`, a backslash as `\\\\`);
- a safe display path: relative, `/`-separated, free of `..`, absolute and drive prefixes, NUL,
  terminal controls and bidi tricks, each component at most `max_name_bytes` long.

`escape` renders C0 and C1 controls, DEL (so every ANSI escape sequence), bidi controls (RLO
U+202E, LRO, the isolates …), zero-width and other format characters, line and paragraph
separators, private-use, unassigned and surrogate code points as visible `\\xNN`, `\\uNNNN` or
`\\UNNNNNNNN` escapes; what it returns is never interpreted by a terminal. Display text is for
showing: it is never parsed again as a path.

Every issue found is reported as a flag: `path-traversal`, `absolute-path`, `control-chars`,
`nul-byte`, `bidi-override`, `format-chars`, `invalid-utf8`, `legacy-encoding`, `long-name`,
`long-path`, `empty-name`, `name-collision`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from vault.ingest.limits import Limits

_DEFAULT_LIMITS = Limits()

# Bidirectional formatting characters: ALM, LRM, RLM, LRE/RLE/PDF/LRO/RLO, LRI/RLI/FSI/PDI.
_BIDI = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
# Categories never shown as themselves: controls, format (zero-width, tags, BOM, soft hyphen),
# surrogates, private use, unassigned (a later Unicode may assign a control there), and the line
# and paragraph separators, which break a line as a newline would.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_DRIVE = re.compile(r"^[A-Za-z]:")
_SEPARATORS = re.compile(r"[/\\]")
_MARKER = "…"  # shows where a name was shortened
_MAX_EXTENSION_BYTES = 32
_UNNAMED = "(unnamed)"


def _escape_char(ch: str) -> str:
    cp = ord(ch)
    if ch == "\\":
        return "\\\\"
    if cp < 0x20 or cp == 0x7F:
        return f"\\x{cp:02x}"
    if 0xDC80 <= cp <= 0xDCFF:
        # A byte that was not valid UTF-8, carried through by the surrogateescape error handler.
        return f"\\x{cp - 0xDC00:02x}"
    if cp < 0x80:
        return ch
    if cp in _BIDI or unicodedata.category(ch) in _ESCAPED_CATEGORIES:
        return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"
    return ch


def escape(text: str) -> str:
    """Make every character that could act on a terminal or mislead a reader visible.

    Args:
        text: any text, including lone surrogates left by the surrogateescape error handler
            (which are shown as the `\\xNN` byte they stand for).

    Returns:
        Text with no C0/C1 control, DEL, bidi control or format character in it. A backslash is
        doubled, so the escaped form is unambiguous.
    """
    if text.isprintable() and "\\" not in text:
        return text  # isprintable() is false for every category escaped here
    return "".join(_escape_char(ch) for ch in text)


def _char_flags(text: str) -> set[str]:
    flags: set[str] = set()
    for ch in text:
        cp = ord(ch)
        if cp < 0x20 or 0x7F <= cp <= 0x9F:
            flags.add("control-chars")
            if cp == 0:
                flags.add("nul-byte")
        elif cp in _BIDI:
            flags.add("bidi-override")
        elif (
            cp > 0x7F
            and not 0xDC80 <= cp <= 0xDCFF
            and unicodedata.category(ch) in _ESCAPED_CATEGORIES
        ):
            flags.add("format-chars")
    return flags


@dataclass(frozen=True)
class RawName:
    """A name as found, and how to show it.

    Attributes:
        raw_bytes: the bytes as found in the container.
        raw: the bytes as escaped text: valid UTF-8 as characters, any other byte as `\\xNN`;
            it maps back to `raw_bytes` exactly. For provenance records.
        display: the decoded name, escaped: safe to print.
        encoding: the encoding `display` was decoded with.
        flags: issues found (`invalid-utf8`, `legacy-encoding`, `control-chars`, `nul-byte`,
            `bidi-override`, `format-chars`).
    """

    raw_bytes: bytes
    raw: str
    display: str
    encoding: str
    flags: frozenset[str]


def _to_bytes(raw: bytes | str) -> bytes:
    if isinstance(raw, bytes):
        return raw
    try:
        return raw.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return raw.encode("utf-8", "surrogatepass")


def _decode(raw: bytes | str, encoding_hint: str | None) -> tuple[bytes, str, str, set[str]]:
    data = _to_bytes(raw)
    try:
        return data, data.decode("utf-8"), "utf-8", set()
    except UnicodeDecodeError:
        pass
    if encoding_hint is not None:
        try:
            return data, data.decode(encoding_hint), encoding_hint, {"legacy-encoding"}
        except (UnicodeDecodeError, LookupError):
            pass
    return data, data.decode("utf-8", "surrogateescape"), "utf-8", {"invalid-utf8"}


def decode_name(raw: bytes | str, *, encoding_hint: str | None) -> RawName:
    """Decode a member name: UTF-8 if it is valid UTF-8, else the hint, else UTF-8 with escapes.

    Args:
        raw: the name's bytes as found (a str is taken as UTF-8, lone surrogates as the bytes
            the surrogateescape handler stands them for).
        encoding_hint: the legacy encoding the format implies (`cp437` for a zip name without
            the UTF-8 flag), tried when the bytes are not valid UTF-8.

    Returns:
        The faithful raw form, the escaped display form and the issues found.
    """
    data, text, encoding, flags = _decode(raw, encoding_hint)
    flags |= _char_flags(text)
    return RawName(
        raw_bytes=data,
        raw=escape(data.decode("utf-8", "surrogateescape")),
        display=escape(text),
        encoding=encoding,
        flags=frozenset(flags),
    )


@dataclass(frozen=True)
class SafePath:
    """A member path made safe to show, with the original kept for the record.

    Attributes:
        display: relative, `/`-separated path whose components are escaped text: no `..`, no
            leading `/`, no drive or UNC prefix, no NUL or control character.
        raw: the path as found, escaped (see `RawName.raw`).
        raw_bytes: the path's bytes as found.
        encoding: the encoding the display form was decoded with.
        flags: the issues found.
        is_dir: the name as found ended with a separator.
    """

    display: str
    raw: str
    raw_bytes: bytes
    encoding: str
    flags: frozenset[str]
    is_dir: bool = False

    @property
    def parts(self) -> tuple[str, ...]:
        """The display path's components."""
        return tuple(self.display.split("/"))

    @property
    def name(self) -> str:
        """The last component of the display path."""
        return self.display.rsplit("/", 1)[-1]


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _truncate(chunks: list[str], max_bytes: int) -> str:
    """Shorten an escaped name (one chunk per original character), keeping its extension."""
    dot = max((i for i, chunk in enumerate(chunks) if chunk == "."), default=0)
    extension = "".join(chunks[dot:]) if dot > 0 else ""
    if _utf8_len(extension) > _MAX_EXTENSION_BYTES:
        extension = ""
    room = max_bytes - _utf8_len(extension) - _utf8_len(_MARKER)
    kept: list[str] = []
    for chunk in chunks:
        room -= _utf8_len(chunk)
        if room < 0:
            break
        kept.append(chunk)
    return "".join(kept) + _MARKER + extension


def _component(text: str, limits: Limits, flags: set[str]) -> str:
    chunks = [_escape_char(ch) for ch in text]
    name = "".join(chunks)
    if _utf8_len(name) > limits.max_name_bytes:
        flags.add("long-name")
        return _truncate(chunks, limits.max_name_bytes)
    return name


def _split(text: str, flags: set[str]) -> list[str]:
    """Split a path on both separators and strip what would anchor it outside the container."""
    segments = _SEPARATORS.split(text)
    if text[:1] in ("/", "\\"):
        flags.add("absolute-path")
        # \\?\C:\x and \\.\device: the Windows device namespaces.
        if len(segments) > 3 and segments[:2] == ["", ""] and segments[2] in ("?", "."):
            del segments[2]
    return [s for s in segments if s != ""]


def _resolve(pending: list[str], flags: set[str]) -> list[str]:
    """Resolve `.`, `..` and drive prefixes lexically, never climbing above the root."""
    pending.reverse()  # a stack: the next segment is at the end
    segments: list[str] = []
    while pending:
        segment = pending.pop()
        if not segments and _DRIVE.match(segment):
            # A drive anchors only the first component; "a/../C:x" and "C:C:x" make it first
            # again, and what follows it ("C:..") is judged afresh.
            flags.add("absolute-path")
            if segment[2:]:
                pending.append(segment[2:])
            continue
        if segment in ("", "."):
            continue
        if segment.count(".") >= 2 and segment.strip(" .") == "":
            # "..", and "...", ".. " which some Windows APIs also resolve to the parent.
            flags.add("path-traversal")
            if segment == ".." and segments:
                segments.pop()
            continue
        segments.append(segment)
    return segments


def safe_member_path(
    raw: bytes | str, *, encoding_hint: str | None = None, limits: Limits | None = None
) -> SafePath:
    """Normalise a member path from a container into a safe relative display path.

    `..` components are resolved lexically and never climb above the container's root; `/`, `\\`,
    drive (`C:`) and UNC (`\\\\server\\share`) prefixes are stripped; both `/` and `\\` separate
    components; control, bidi and format characters and NUL are escaped; components longer than
    `limits.max_name_bytes` are truncated keeping the extension and marked with `…`.

    Args:
        raw: the path's bytes as found (or text, see `decode_name`).
        encoding_hint: see `decode_name`.
        limits: where `max_name_bytes`, `max_path_bytes` and `max_path_components` come from.

    Returns:
        The safe path, the faithful raw form and the issues found as flags.
    """
    limits = limits if limits is not None else _DEFAULT_LIMITS
    data, text, encoding, flags = _decode(raw, encoding_hint)
    flags |= _char_flags(text)
    is_dir = text.endswith(("/", "\\"))
    segments = _resolve(_split(text, flags), flags)
    parts = [_component(segment, limits, flags) for segment in segments]
    if not parts:
        flags.add("empty-name")
        parts = [_UNNAMED]
    display = "/".join(parts)
    if len(parts) > limits.max_path_components or _utf8_len(display) > limits.max_path_bytes:
        flags.add("long-path")
        display = _shorten_path(parts, limits)
    return SafePath(
        display=display,
        raw=escape(data.decode("utf-8", "surrogateescape")),
        raw_bytes=data,
        encoding=encoding,
        flags=frozenset(flags),
        is_dir=is_dir,
    )


def _shorten_path(parts: list[str], limits: Limits) -> str:
    """Keep the first component and as many of the last ones as fit, with `…` between."""
    head = parts[0]
    room = limits.max_path_bytes - _utf8_len(head) - _utf8_len(_MARKER) - 2
    tail: list[str] = []
    for part in reversed(parts[1:]):
        cost = _utf8_len(part) + 1
        if room - cost < 0 or len(tail) + 2 >= limits.max_path_components:
            break
        room -= cost
        tail.append(part)
    if not tail:
        tail.append(parts[-1])
    return "/".join([head, _MARKER, *reversed(tail)])


def link_escapes(member: SafePath, target: bytes | str) -> bool:
    """Whether a link target is absolute or climbs out of the container from the link's folder.

    Args:
        member: the link member's safe path.
        target: the link target as found.
    """
    text = _decode(target, None)[1]
    if text[:1] in ("/", "\\") or _DRIVE.match(text):
        return True
    depth = len(member.parts) - 1
    for segment in _SEPARATORS.split(text):
        if segment == "..":
            depth -= 1
            if depth < 0:
                return True
        elif segment not in ("", "."):
            depth += 1
    return False


def _collision_key(display: str) -> str:
    return unicodedata.normalize("NFC", display).casefold()


class Deduplicator:
    """Gives each member of one container a display path no other member has.

    Names that differ only by case or Unicode normalisation collide too (`a.txt`, `A.TXT`), as
    they would on a case-insensitive filesystem: the later one is shown as `A (2).TXT` and flagged
    `name-collision`. A folder listed twice is not a collision.
    """

    def __init__(self) -> None:
        self._seen: dict[str, bool] = {}  # collision key -> is a folder
        self._next: dict[str, int] = {}  # collision key -> next number to try for it

    def claim(self, path: SafePath, *, is_dir: bool | None = None) -> SafePath:
        """Record a member's path, renaming it if an earlier member took the name.

        Args:
            path: the member's safe path.
            is_dir: whether the member is a folder (defaults to `path.is_dir`).

        Returns:
            `path`, or a renamed copy flagged `name-collision`.
        """
        folder = path.is_dir if is_dir is None else is_dir
        key = _collision_key(path.display)
        earlier = self._seen.get(key)
        if earlier is None:
            self._seen[key] = folder
            return path
        if earlier and folder:
            return path
        parent, _, name = path.display.rpartition("/")
        dot = name.rfind(".")
        stem, extension = (name[:dot], name[dot:]) if dot > 0 else (name, "")
        number = self._next.get(key, 2)
        while True:
            candidate = f"{stem} ({number}){extension}"
            display = f"{parent}/{candidate}" if parent else candidate
            number += 1
            if _collision_key(display) not in self._seen:
                break
        self._next[key] = number
        self._seen[_collision_key(display)] = folder
        return replace(path, display=display, flags=path.flags | {"name-collision"})
