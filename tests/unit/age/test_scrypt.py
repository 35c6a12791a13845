"""Passphrase recipients: round trip, work-factor limits and the "scrypt alone" rule.

Work factors stay tiny here (2**2) so the suite is fast; only the limit checks use large ones,
and those are refused before any scrypt work is done.
"""

import pytest

from vault.age import (
    HeaderError,
    NoIdentityMatch,
    ScryptIdentity,
    ScryptRecipient,
    Stanza,
    X25519Identity,
    decrypt,
    encrypt,
)
from vault.age.header import encode_header

FAST = 2
FILE_KEY = bytes(range(16))


def test_round_trip() -> None:
    data = encrypt(b"embargoed", [ScryptRecipient(b"correct horse", work_factor=FAST)])
    assert decrypt(data, [ScryptIdentity(b"correct horse")]) == b"embargoed"
    with pytest.raises(NoIdentityMatch):
        decrypt(data, [ScryptIdentity(b"wrong horse")])


def test_stanza_shape() -> None:
    (stanza,) = ScryptRecipient(b"pw", work_factor=FAST).wrap(FILE_KEY)
    assert stanza.type == "scrypt"
    assert len(stanza.args) == 2
    assert stanza.args[1] == "2"
    assert len(stanza.body) == 32


def _stanza(work_factor: str, salt: str = "A" * 22) -> Stanza:
    return Stanza("scrypt", (salt, work_factor), bytes(32))


@pytest.mark.parametrize(
    "stanza",
    [
        _stanza("23"),  # above the default limit of 22: refused before any work
        _stanza("99999999999999999999999"),
        _stanza("018"),  # leading zero
        _stanza("0"),
        _stanza("-1"),
        _stanza("+2"),
        _stanza("0x10"),
        _stanza("2 "),
        _stanza("2", salt="A" * 21),  # 15-byte salt is not canonical base64 of 16 bytes
        _stanza("2", salt="A" * 24),
        Stanza("scrypt", ("A" * 22,), bytes(32)),
        Stanza("scrypt", ("A" * 22, "2", "x"), bytes(32)),
        Stanza("scrypt", ("A" * 22, "2"), bytes(33)),
    ],
)
def test_malformed_stanzas_are_refused(stanza: Stanza) -> None:
    with pytest.raises(HeaderError):
        ScryptIdentity(b"pw").unwrap([stanza])


def test_work_factor_limit_is_configurable() -> None:
    (stanza,) = ScryptRecipient(b"pw", work_factor=3).wrap(FILE_KEY)
    with pytest.raises(HeaderError, match="work factor"):
        ScryptIdentity(b"pw", max_work_factor=2).unwrap([stanza])
    assert ScryptIdentity(b"pw", max_work_factor=3).unwrap([stanza]) == FILE_KEY


def test_scrypt_must_be_alone_when_encrypting() -> None:
    other = X25519Identity.generate().recipient
    with pytest.raises(ValueError, match="only recipient"):
        encrypt(b"x", [ScryptRecipient(b"pw", work_factor=FAST), other])
    with pytest.raises(ValueError, match="only recipient"):
        encrypt(b"x", [ScryptRecipient(b"a", FAST), ScryptRecipient(b"b", FAST)])


def test_scrypt_must_be_alone_when_decrypting() -> None:
    # A header with an X25519 stanza beside an scrypt one is refused even by the X25519
    # identity that could open it: otherwise the scrypt stanza could have been swapped.
    identity = X25519Identity.generate()
    stanzas = [*identity.recipient.wrap(FILE_KEY), *ScryptRecipient(b"pw", FAST).wrap(FILE_KEY)]
    data = encode_header(stanzas, FILE_KEY) + bytes(16) + bytes(16)
    with pytest.raises(HeaderError):
        decrypt(data, [identity])
    with pytest.raises(HeaderError):
        ScryptIdentity(b"pw").unwrap(stanzas)


def test_no_scrypt_stanza_is_no_match() -> None:
    assert ScryptIdentity(b"pw").unwrap([Stanza("X25519", ("x",), b"")]) is None


@pytest.mark.parametrize("work_factor", [0, 31, -1])
def test_recipient_refuses_bad_work_factor(work_factor: int) -> None:
    with pytest.raises(ValueError, match="work factor"):
        ScryptRecipient(b"pw", work_factor=work_factor)


def test_recipient_refuses_empty_passphrase() -> None:
    with pytest.raises(ValueError, match="empty"):
        ScryptRecipient(b"")


def test_repr_never_shows_the_passphrase() -> None:
    assert "hunter2" not in repr(ScryptRecipient(b"hunter2", FAST))
    assert "hunter2" not in repr(ScryptIdentity(b"hunter2"))

