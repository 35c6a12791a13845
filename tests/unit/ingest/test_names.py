"""Names: escaping, decoding, path normalisation and collisions."""

from __future__ import annotations

import pytest

from vault.ingest.limits import Limits
from vault.ingest.names import Deduplicator, decode_name, escape, link_escapes, safe_member_path


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain.txt", "plain.txt"),
        ("\x1b[2Jclear", "\\x1b[2Jclear"),
        ("bell\x07", "bell\\x07"),
        ("del\x7f", "del\\x7f"),
        ("nel\x85", "nel\\u0085"),
        ("invoice\u202egpj.exe", "invoice\\u202egpj.exe"),
        ("iso\u2066late\u2069", "iso\\u2066late\\u2069"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("bom\ufeff", "bom\\ufeff"),
        ("line\u2028sep", "line\\u2028sep"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("back\\slash", "back\\\\slash"),
        ("caf\udce9", "caf\\xe9"),
        ("日本語 €", "日本語 €"),
    ],
)
def test_escape_shows_what_a_terminal_would_act_on(text: str, shown: str) -> None:
    assert escape(text) == shown


def test_decode_name_prefers_utf8_then_the_hint() -> None:
    utf8 = decode_name("café".encode(), encoding_hint="cp437")
    assert (utf8.display, utf8.encoding, utf8.flags) == ("café", "utf-8", frozenset())
    legacy = decode_name(b"caf\x82", encoding_hint="cp437")
    assert legacy.display == "café"
    assert legacy.flags == {"legacy-encoding"}
    assert legacy.raw == "caf\\x82"
    assert legacy.raw_bytes == b"caf\x82"


def test_decode_name_escapes_invalid_utf8_without_a_hint() -> None:
    name = decode_name(b"bad\xff\xfe.txt", encoding_hint=None)
    assert name.display == "bad\\xff\\xfe.txt"
    assert name.flags == {"invalid-utf8"}


def test_decode_name_flags_controls_bidi_and_format_characters() -> None:
    assert decode_name("a\x1bb", encoding_hint=None).flags == {"control-chars"}
    assert decode_name(b"a\x00b", encoding_hint=None).flags == {"control-chars", "nul-byte"}
    assert decode_name("a\u202eb", encoding_hint=None).flags == {"bidi-override"}
    assert decode_name("a\u200bb", encoding_hint=None).flags == {"format-chars"}


@pytest.mark.parametrize(
    ("raw", "display", "flags"),
    [
        (b"../../evil", "evil", {"path-traversal"}),
        ("/etc/passwd", "etc/passwd", {"absolute-path"}),
        ("C:\\x", "x", {"absolute-path"}),
        ("c:/windows/system32/x.dll", "windows/system32/x.dll", {"absolute-path"}),
        ("..\\..\\x", "x", {"path-traversal"}),
        ("\\\\server\\share\\f.doc", "server/share/f.doc", {"absolute-path"}),
        ("\\\\?\\C:\\x\\y", "x/y", {"absolute-path"}),
        ("a/./b//c", "a/b/c", set()),
        ("a/../b", "b", {"path-traversal"}),
        ("a/.. /b", "a/b", {"path-traversal"}),
        (b"nul\x00.txt", "nul\\x00.txt", {"control-chars", "nul-byte"}),
        # Found by the property tests: a drive that becomes first again, or hides a "..".
        ("C:C:x", "x", {"absolute-path"}),
        ("a/../C:x", "x", {"path-traversal", "absolute-path"}),
        ("C:../x", "x", {"path-traversal", "absolute-path"}),
        ("", "(unnamed)", {"empty-name"}),
        ("../", "(unnamed)", {"path-traversal", "empty-name"}),
    ],
)
def test_safe_member_path_normalises(raw: bytes | str, display: str, flags: set[str]) -> None:
    path = safe_member_path(raw)
    assert path.display == display
    assert path.flags == flags
    assert path.raw_bytes == (raw if isinstance(raw, bytes) else raw.encode())


def test_safe_member_path_keeps_the_raw_form_faithful() -> None:
    path = safe_member_path(b"../\xff\x1b.txt")
    assert path.raw == "../\\xff\\x1b.txt"
    assert path.display == "\\xff\\x1b.txt"
    assert path.flags == {"path-traversal", "invalid-utf8", "control-chars"}


def test_directories_keep_their_trailing_separator_as_a_flag_of_shape() -> None:
    assert safe_member_path("dir/").is_dir
    assert safe_member_path("dir\\").is_dir
    assert not safe_member_path("dir").is_dir


def test_long_names_are_truncated_keeping_the_extension() -> None:
    path = safe_member_path("d/" + "x" * 300 + ".pdf")
    name = path.parts[-1]
    assert len(name.encode()) <= 255
    assert name.endswith("….pdf")
    assert path.parts[0] == "d"
    assert path.flags == {"long-name"}


def test_truncation_never_splits_an_escape() -> None:
    path = safe_member_path("\x1b" * 300)
    name = path.display
    assert len(name.encode()) <= 255
    assert name.removesuffix("…").replace("\\x1b", "") == ""


def test_long_multibyte_names_stay_within_the_byte_limit() -> None:
    path = safe_member_path("語" * 200 + ".txt")
    assert len(path.display.encode()) <= 255
    assert path.display.endswith(".txt")


def test_deep_paths_are_shortened() -> None:
    limits = Limits(max_path_components=8)
    path = safe_member_path("/".join(["a"] * 50) + "/leaf.txt", limits=limits)
    assert "long-path" in path.flags
    assert path.parts[0] == "a"
    assert path.parts[1] == "…"
    assert path.parts[-1] == "leaf.txt"
    assert len(path.parts) <= 8


def test_deduplicator_renames_duplicates_and_case_collisions() -> None:
    names = Deduplicator()
    shown = [
        names.claim(safe_member_path(raw))
        for raw in ["a.txt", "A.TXT", "a.txt", "b/c", "B/C", "noext", "NOEXT"]
    ]
    assert [path.display for path in shown] == [
        "a.txt",
        "A (2).TXT",
        "a (3).txt",
        "b/c",
        "B/C (2)",
        "noext",
        "NOEXT (2)",
    ]
    assert [("name-collision" in path.flags) for path in shown] == [
        False,
        True,
        True,
        False,
        True,
        False,
        True,
    ]


def test_deduplicator_treats_unicode_normalisation_forms_as_one_name() -> None:
    names = Deduplicator()
    names.claim(safe_member_path("caf\u00e9"))
    assert names.claim(safe_member_path("cafe\u0301")).display == "cafe\u0301 (2)"


def test_deduplicator_lets_a_folder_be_listed_twice() -> None:
    names = Deduplicator()
    assert names.claim(safe_member_path("dir/")).display == "dir"
    assert names.claim(safe_member_path("DIR/")).display == "DIR"
    renamed = names.claim(safe_member_path("dir"), is_dir=False)
    assert renamed.display == "dir (2)"
    assert "name-collision" in renamed.flags


def test_deduplicator_stays_fast_on_many_identical_names() -> None:
    names = Deduplicator()
    path = safe_member_path("same.txt")
    last = path
    for _ in range(20_000):
        last = names.claim(path)
    assert last.display == "same (20000).txt"


@pytest.mark.parametrize(
    ("member", "target", "escapes"),
    [
        ("a/link", "/etc/passwd", True),
        ("a/link", "../../x", True),
        ("a/link", "../x", False),
        ("link", "b/../../x", True),
        ("a/link", "C:\\Windows", True),
        ("a/link", "sibling", False),
    ],
)
def test_link_escapes(member: str, target: str, escapes: bool) -> None:
    assert link_escapes(safe_member_path(member), target) is escapes
