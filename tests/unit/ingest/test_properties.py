"""Properties that must hold for any input: escaping, path safety, and readers on damaged bytes."""

from __future__ import annotations

import contextlib
import io
import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault.ingest.containers import ContainerError, ContainerKind, members
from vault.ingest.limits import Budget, LimitExceeded, Limits
from vault.ingest.names import decode_name, escape, safe_member_path

from .builders import COMPRESSORS, email_with_attachments, files_tar, seven_zip, std_zip
from .walker import read_member

BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
TRICKY = ["/", "\\", ".", ":", "C", "\x00", "\x1b", "\u202e", "\u200b", " ", "?", "\udcff"]
texts = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=()),
        st.characters(categories=["Cs", "Cc", "Cf", "Zl", "Zp"]),
        st.sampled_from(TRICKY),
    ),
    max_size=80,
)
SEGMENTS = ["..", "C:", "\\\\", "\\\\?\\", "//", "/../", "..\\", "...", ". .", "\\\\.\\"]
paths = st.lists(st.one_of(st.sampled_from(SEGMENTS), texts), max_size=12).map("".join)
DRIVE = re.compile(r"^[A-Za-z]:")
_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def _unsafe(ch: str) -> bool:
    cp = ord(ch)
    category = unicodedata.category(ch)
    return cp < 0x20 or 0x7F <= cp <= 0x9F or cp in BIDI or category in {"Cf", "Cs", "Zl", "Zp"}


@given(texts)
def test_escape_never_lets_a_control_through(text: str) -> None:
    shown = escape(text)
    assert not any(_unsafe(ch) for ch in shown)


def _unescape(shown: str) -> bytes:
    """Undo `RawName.raw`: escapes of bytes >= 0x80 are raw bytes, others are characters."""
    out = bytearray()
    position = 0
    for match in _ESCAPE.finditer(shown):
        out += shown[position : match.start()].encode()
        token = match.group(1)
        if token == "\\":
            out += b"\\"
        elif token[0] == "x" and int(token[1:], 16) >= 0x80:
            out.append(int(token[1:], 16))
        else:
            out += chr(int(token[1:], 16)).encode("utf-8", "surrogatepass")
        position = match.end()
    return bytes(out + shown[position:].encode())


@given(st.binary(max_size=200))
def test_the_raw_form_maps_back_to_the_bytes(raw: bytes) -> None:
    name = decode_name(raw, encoding_hint="cp437")
    assert _unescape(name.raw) == raw
    assert not any(_unsafe(ch) for ch in name.raw + name.display)


def _check_safe(raw: bytes | str) -> None:
    limits = Limits()
    path = safe_member_path(raw, limits=limits)
    parts = path.display.split("/")
    assert "\x00" not in path.display
    assert not path.display.startswith("/")
    assert not DRIVE.match(path.display)
    # A backslash survives only as the start of an escape, never as a separator.
    assert "\\" not in _ESCAPE.sub("", path.display)
    for part in parts:
        assert part not in ("", ".", "..")
        assert part.strip(" .") != "" or part.count(".") < 2
        assert len(part.encode("utf-8", "surrogatepass")) <= limits.max_name_bytes
    assert not any(_unsafe(ch) for ch in path.display)


@given(paths)
def test_safe_member_path_never_leaves_the_container_from_text(raw: str) -> None:
    _check_safe(raw)


@given(st.binary(max_size=300))
def test_safe_member_path_never_leaves_the_container_from_bytes(raw: bytes) -> None:
    _check_safe(raw)


# --- readers on damaged input ----------------------------------------------------------------

LIMITS = Limits(max_total_bytes=16 * 1024 * 1024, max_members=1000, max_message_bytes=1 << 20)
VALID = {
    ContainerKind.ZIP: std_zip({"a.txt": b"alpha " * 300, "dir/b.bin": bytes(range(256))}),
    ContainerKind.TAR: files_tar({"a.txt": b"alpha " * 300, "dir/b.bin": bytes(range(256))}),
    ContainerKind.TAR_GZIP: COMPRESSORS["gzip"](files_tar({"a.txt": b"alpha " * 300})),
    ContainerKind.GZIP: COMPRESSORS["gzip"](b"alpha " * 300),
    ContainerKind.XZ: COMPRESSORS["xz"](b"alpha " * 300),
    ContainerKind.SEVEN_ZIP: seven_zip({"a.txt": b"alpha " * 300, "b.bin": bytes(range(256))}),
    ContainerKind.EMAIL: email_with_attachments(),
}
READERS_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _exercise(kind: ContainerKind, data: bytes) -> None:
    """List every member and read every stream; only the two expected errors may escape."""
    try:
        for member in members(
            kind, io.BytesIO(data), name="fuzz", limits=LIMITS, budget=Budget(LIMITS), depth=0
        ):
            if member.kind == "file":
                with contextlib.suppress(ContainerError, LimitExceeded):
                    read_member(member, keep=False)
    except (ContainerError, LimitExceeded):
        pass


kinds = st.sampled_from(sorted(VALID, key=str))


@READERS_SETTINGS
@given(kind=kinds, data=st.data())
def test_random_bytes_after_a_valid_header(kind: ContainerKind, data: st.DataObject) -> None:
    valid = VALID[kind]
    cut = data.draw(st.integers(min_value=0, max_value=len(valid)), label="cut")
    tail = data.draw(st.binary(max_size=600), label="tail")
    _exercise(kind, valid[:cut] + tail)


@READERS_SETTINGS
@given(kind=kinds, data=st.data())
def test_random_damage_to_a_valid_container(kind: ContainerKind, data: st.DataObject) -> None:
    damaged = bytearray(VALID[kind])
    patches = data.draw(
        st.lists(
            st.tuples(st.integers(min_value=0, max_value=len(damaged) - 1), st.integers(0, 255)),
            min_size=1,
            max_size=8,
        ),
        label="patches",
    )
    for position, value in patches:
        damaged[position] = value
    _exercise(kind, bytes(damaged))


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_behind_zip_and_tar_magic(noise: bytes) -> None:
    _exercise(ContainerKind.ZIP, b"PK\x03\x04" + noise)
    _exercise(ContainerKind.TAR, (b"x" * 257 + b"ustar\x0000" + noise)[:2048])
