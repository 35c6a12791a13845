"""The offline DKIM key archive: its text form, strict parsing, merging and round trips."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from vault.errors import UsageError
from vault.review.dkim import KeyArchive, parse_key_archive
from vault.review.dkim_keys import MAX_LINE_BYTES, check_key_record, normalise_name, tag_list


def _rsa_p(bits: int = 2048) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


RSA_P = _rsa_p()
ED_P = base64.b64encode(ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw())
RSA_RECORD = f"v=DKIM1; k=rsa; p={RSA_P}"
ED_RECORD = f"v=DKIM1; k=ed25519; p={ED_P.decode()}"


def test_records_in_every_shape_a_desk_meets() -> None:
    half = len(RSA_P) // 2
    text = "\n".join(
        [
            "# gathered 2017-05-04 from DNS, before the workstation went offline",
            "",
            f"s1._domainkey.example.com {RSA_RECORD}",
            f'S2._DomainKey.Example.COM. "v=DKIM1; k=rsa; " "p={RSA_P[:half]}" "{RSA_P[half:]}"',
            f'20161025._domainkey.gmail.com. 300 IN TXT "v=DKIM1; k=rsa; p={RSA_P}"',
            f"\tsel.sub._domainkey.mail.example.org\tIN TXT {ED_RECORD}  ",
            'revoked._domainkey.example.com "v=DKIM1; p="',
            "   # an indented comment",
        ]
    )
    archive = parse_key_archive(text)
    assert sorted(archive) == [
        "20161025._domainkey.gmail.com",
        "revoked._domainkey.example.com",
        "s1._domainkey.example.com",
        "s2._domainkey.example.com",
        "sel.sub._domainkey.mail.example.org",
    ]
    assert archive["s2._domainkey.example.com"] == RSA_RECORD
    assert archive["S1._domainkey.example.com."] == RSA_RECORD
    assert archive["sel.sub._domainkey.mail.example.org"] == ED_RECORD
    assert archive["revoked._domainkey.example.com"] == "v=DKIM1; p="
    assert len(archive) == 5
    assert "nothing._domainkey.example.com" not in archive
    not_a_name: object = 42
    assert not_a_name not in archive


def test_zone_file_escapes_are_understood() -> None:
    escaped = f'"v=DKIM1;\\032k=rsa; p=\\{RSA_P[0]}{RSA_P[1:]}"'
    archive = parse_key_archive(f"s._domainkey.example.com {escaped}")
    assert archive["s._domainkey.example.com"] == RSA_RECORD


_MALFORMED = [
    ("s1._domainkey.example.com", "expected <selector>._domainkey.<domain>"),
    (f"example.com {RSA_RECORD}", "<selector>._domainkey.<domain>"),
    (f"_domainkey.example.com {RSA_RECORD}", "<selector>._domainkey.<domain>"),
    (f"s._domainkey._domainkey.example.com {RSA_RECORD}", "<selector>._domainkey"),
    (f"s._domainkey.exa mple.com {RSA_RECORD}", "not a DKIM tag=value list"),
    (f"s._domainkey.exämple.com {RSA_RECORD}", "must be ASCII"),
    (f"s._domainkey.-example.com {RSA_RECORD}", "not a DNS name"),
    (f"s._domainkey.{'a' * 64}.com {RSA_RECORD}", "not a DNS name"),
    ("s._domainkey.example.com v=DKIM1; k=rsa", "no p= tag"),
    ("s._domainkey.example.com k=dsa; p=AAAA", "k=dsa is not a key type"),
    (f"s._domainkey.example.com k=rsa; v=DKIM1; p={RSA_P}", "v= must be the first"),
    (f"s._domainkey.example.com v=DKIM2; p={RSA_P}", "v= must be the first"),
    ("s._domainkey.example.com v=DKIM1; p=not base64!", "p= is not base64"),
    ("s._domainkey.example.com v=DKIM1; p=AAAA", "not an RSA public key"),
    (f"s._domainkey.example.com v=DKIM1; p={ED_P.decode()}", "not an RSA public key"),
    (f"s._domainkey.example.com v=DKIM1; k=ed25519; p={RSA_P}", "32-byte Ed25519"),
    (f"s._domainkey.example.com v=DKIM1; p={RSA_P}; p={RSA_P}", "p= appears twice"),
    (f"s._domainkey.example.com v=DKIM1;; p={RSA_P}", "not a DKIM tag=value list"),
    (f"s._domainkey.example.com v=DKIM1; 1k=rsa; p={RSA_P}", "not a DKIM tag=value list"),
    (f'"s._domainkey.example.com" {RSA_RECORD}', "not a DNS name"),
    (f's._domainkey.example.com "v=DKIM1; p={RSA_P}', "unterminated quote"),
    (f's._domainkey.example.com "v=DKIM1; " p={RSA_P}', "text outside the quoted strings"),
    (f's._domainkey.example.com "v=DKIM1; p={RSA_P}" ; comment', "outside the quoted"),
    (f's._domainkey.example.com "v=DKIM1; n=\\"hi\\"; p={RSA_P}"', "characters no DKIM"),
    (f's._domainkey.example.com "v=DKIM1;\\999 p={RSA_P}"', "\\999 is not a byte"),
    (f's._domainkey.example.com "v=DKIM1;\\027 p={RSA_P}"', "characters no DKIM"),
    (f"s._domainkey.example.com v=DKIM1; n=café; p={RSA_P}", "characters no DKIM"),
]


# Ids by position: some lines hold a key generated at import, different in every process.
@pytest.mark.parametrize(
    ("line", "reason"), _MALFORMED, ids=[f"case{n}" for n in range(len(_MALFORMED))]
)
def test_a_malformed_line_is_refused_with_its_number(line: str, reason: str) -> None:
    text = f"# keys\ns0._domainkey.example.com {RSA_RECORD}\n\n{line}\n"
    with pytest.raises(UsageError) as refused:
        parse_key_archive(text)
    assert refused.value.message.startswith("line 4: ")
    assert reason in refused.value.message
    assert refused.value.exit_code == 2


def test_an_implausible_rsa_exponent_is_refused() -> None:
    big_exponent = rsa.RSAPublicNumbers(e=(1 << 100) + 1, n=(1 << 2047) + 1).public_key()
    der = big_exponent.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError, match="implausible public exponent"):
        check_key_record(f"p={base64.b64encode(der).decode()}")


def test_a_key_larger_than_the_limit_is_refused() -> None:
    huge = rsa.RSAPublicNumbers(e=65537, n=(1 << 8200) + 1).public_key()
    der = huge.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError, match="larger than 8192 bits"):
        check_key_record(f"p={base64.b64encode(der).decode()}")


def test_an_absurd_line_is_refused_before_it_is_read() -> None:
    text = (
        f"s._domainkey.example.com {RSA_RECORD}\ns._domainkey.example.com p={'A' * MAX_LINE_BYTES}"
    )
    with pytest.raises(UsageError, match="line 2: longer than 16 KiB"):
        parse_key_archive(text)


def test_a_pkcs1_rsa_key_is_accepted() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()  # noqa: S505
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    assert check_key_record(f"p={base64.b64encode(der).decode()}")["p"]


def test_one_name_keeps_every_key_it_had() -> None:
    older = f"v=DKIM1; k=rsa; p={_rsa_p(1024)}"
    archive = parse_key_archive(
        f"selector1._domainkey.example.com {older}\n"
        f"selector1._domainkey.example.com {RSA_RECORD}\n"
        f"selector1._domainkey.example.com {older}\n"
    )
    assert archive.records("SELECTOR1._domainkey.example.com.") == (RSA_RECORD, older)
    assert archive["selector1._domainkey.example.com"] == older
    assert (len(archive), archive.record_count) == (1, 2)
    assert archive.records("none._domainkey.example.com") == ()


def test_merge_adds_records_and_counts_the_other_as_later() -> None:
    first = parse_key_archive(
        f"a._domainkey.example.com {RSA_RECORD}\nb._domainkey.example.com {ED_RECORD}"
    )
    second = parse_key_archive(
        f"b._domainkey.example.com {RSA_RECORD}\nc._domainkey.example.com {ED_RECORD}"
    )
    merged = first.merge(second)
    assert sorted(merged) == [f"{s}._domainkey.example.com" for s in "abc"]
    assert merged.records("b._domainkey.example.com") == (ED_RECORD, RSA_RECORD)
    assert merged["b._domainkey.example.com"] == RSA_RECORD
    assert len(first) == 2  # immutable: merging made a new archive
    assert first.merge(first) == first
    assert first.merge(KeyArchive()) == first == KeyArchive().merge(first)


def test_to_text_round_trips() -> None:
    archive = parse_key_archive(
        f'Z._domainkey.example.com. "v=DKIM1; k=rsa; " "p={RSA_P}"\n'
        f"a._domainkey.example.com {ED_RECORD}\n"
        f"a._domainkey.example.com v=DKIM1; p=\n"
    )
    text = archive.to_text()
    assert text.splitlines()[0] == f'a._domainkey.example.com "{ED_RECORD}"'
    again = parse_key_archive(text)
    assert again == archive
    assert hash(again) == hash(archive)
    assert again.records("a._domainkey.example.com") == (ED_RECORD, "v=DKIM1; p=")
    assert KeyArchive().to_text() == ""


def test_the_constructor_checks_what_it_is_given() -> None:
    archive = KeyArchive([("S._domainkey.Example.com.", f" {RSA_RECORD} ")])
    assert archive == parse_key_archive(f"s._domainkey.example.com {RSA_RECORD}")
    with pytest.raises(UsageError):
        KeyArchive([("s._domainkey.example.com", "v=DKIM1")])
    with pytest.raises(UsageError):
        KeyArchive([("example.com", RSA_RECORD)])


def test_archive_is_immutable() -> None:
    archive = KeyArchive()
    with pytest.raises(AttributeError):
        archive.extra = 1  # type: ignore[attr-defined]
    assert not hasattr(archive, "__setitem__")


def test_tag_lists_and_names() -> None:
    assert tag_list(" v = DKIM1 ;k=rsa; p = AB CD ;") == {"v": "DKIM1", "k": "rsa", "p": "AB CD"}
    assert normalise_name("S._DomainKey.Example.COM.") == "s._domainkey.example.com"
    with pytest.raises(ValueError, match="not a DKIM tag=value list"):
        tag_list("p")


_label = st.from_regex(r"[a-z0-9_]([a-z0-9_-]{0,8}[a-z0-9_])?", fullmatch=True)
_names = st.builds(lambda sel, dom, tld: f"{sel}._domainkey.{dom}.{tld}", _label, _label, _label)
_values = st.sampled_from([RSA_RECORD, ED_RECORD, "v=DKIM1; p=", f"p={RSA_P}; n=archived"])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(_names, _values), max_size=12), st.lists(st.tuples(_names, _values)))
def test_any_archive_round_trips_and_merges(
    first: list[tuple[str, str]], second: list[tuple[str, str]]
) -> None:
    a, b = KeyArchive(first), KeyArchive(second)
    assert parse_key_archive(a.to_text()) == a
    merged = a.merge(b)
    assert set(merged) == set(a) | set(b)
    assert merged.record_count <= a.record_count + b.record_count
    for name in b:
        assert merged[name] == b[name]


def test_windows_line_ends_and_hostile_text_in_diagnostics() -> None:
    archive = parse_key_archive(
        f"a._domainkey.example.com {RSA_RECORD}\r\n# note\r\n"
        f"b._domainkey.example.com {ED_RECORD}\r\n"
    )
    assert archive["b._domainkey.example.com"] == ED_RECORD
    with pytest.raises(UsageError) as refused:
        parse_key_archive("s._domainkey.example.com k=\x1b[2J; p=AAAA")
    assert "\x1b" not in refused.value.message
    assert refused.value.message == "line 1: the value holds characters no DKIM key record has"
    with pytest.raises(UsageError) as refused:
        KeyArchive([("\x1b]0;owned\x07._domainkey.example.com", RSA_RECORD)])
    assert "\x1b" not in refused.value.message
