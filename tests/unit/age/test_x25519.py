"""X25519 recipients and identities: key strings, wrapping, and refusal of bad stanzas."""

from collections.abc import Callable

import pytest

from vault.age import (
    AgeError,
    HeaderError,
    NoIdentityMatch,
    Stanza,
    X25519Identity,
    X25519Recipient,
    b64,
    decrypt,
    encrypt,
)

# A known pair: the identity of the C2SP vectors and its recipient as `age-keygen -y` prints it.
IDENTITY = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"
RECIPIENT = "age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef"
FILE_KEY = bytes(range(16))


def test_known_key_pair() -> None:
    identity = X25519Identity.parse(IDENTITY)
    assert str(identity) == IDENTITY
    assert str(identity.recipient) == RECIPIENT
    assert X25519Recipient.parse(RECIPIENT) == identity.recipient


def test_generated_keys_round_trip() -> None:
    identity = X25519Identity.generate()
    text = str(identity)
    assert text.startswith("AGE-SECRET-KEY-1")
    assert text.isupper()
    assert X25519Identity.parse(text).secret_bytes() == identity.secret_bytes()
    assert X25519Identity.from_secret(identity.secret_bytes()).recipient == identity.recipient
    recipient = str(identity.recipient)
    assert recipient.startswith("age1")
    assert recipient.islower()
    assert X25519Recipient.parse(recipient).public_bytes() == identity.recipient.public_bytes()
    assert X25519Identity.generate().recipient != identity.recipient


def test_equality_and_hash_follow_key_bytes() -> None:
    a = X25519Recipient.parse(RECIPIENT)
    b = X25519Recipient(a.public_bytes())
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b, X25519Identity.generate().recipient}) == 2
    assert a != RECIPIENT


def test_repr_never_shows_the_secret() -> None:
    identity = X25519Identity.parse(IDENTITY)
    assert IDENTITY not in repr(identity)
    assert IDENTITY[16:] not in repr(identity)
    assert RECIPIENT in repr(identity)


@pytest.mark.parametrize(
    "text",
    [
        IDENTITY.lower(),  # identities are uppercase
        IDENTITY[:-1] + "A",  # bad checksum
        RECIPIENT,  # a recipient is not an identity
        "AGE-SECRET-KEY-PQ-1HZLGZUPT4ETPKDEV8HSGFDCYZ4E522W0A7PU2LHT8EH9W6YLNC3SW78XKG",
        "",
    ],
)
def test_bad_identities_are_refused(text: str) -> None:
    with pytest.raises(AgeError, match="invalid age identity") as raised:
        X25519Identity.parse(text)
    assert "SECRET" not in str(raised.value)


@pytest.mark.parametrize(
    "text",
    [RECIPIENT.upper(), RECIPIENT[:-1] + "q", IDENTITY, "age1", "age1qqqqqqqqqqqqqqqqqqqqqqqq"],
)
def test_bad_recipients_are_refused(text: str) -> None:
    with pytest.raises(AgeError, match="invalid age recipient"):
        X25519Recipient.parse(text)


def test_wrong_secret_length_is_refused() -> None:
    with pytest.raises(AgeError):
        X25519Identity.from_secret(bytes(31))


def test_wrap_and_unwrap() -> None:
    identity = X25519Identity.generate()
    (stanza,) = identity.recipient.wrap(FILE_KEY)
    assert stanza.type == "X25519"
    assert len(stanza.body) == 32
    assert identity.unwrap([stanza]) == FILE_KEY
    # Other types (grease) are skipped; other keys' stanzas are not ours.
    grease = Stanza("grease", ("x",), b"junk")
    other = X25519Identity.generate().recipient.wrap(FILE_KEY)[0]
    assert identity.unwrap([grease, other, stanza]) == FILE_KEY
    assert identity.unwrap([grease, other]) is None


def test_each_wrap_uses_a_fresh_ephemeral_key() -> None:
    recipient = X25519Identity.generate().recipient
    assert recipient.wrap(FILE_KEY)[0].args != recipient.wrap(FILE_KEY)[0].args


def _valid_stanza(identity: X25519Identity) -> Stanza:
    return identity.recipient.wrap(FILE_KEY)[0]


@pytest.mark.parametrize(
    "change",
    [
        lambda s: Stanza(s.type, (*s.args, "extra"), s.body),
        lambda s: Stanza(s.type, (), s.body),
        lambda s: Stanza(s.type, (s.args[0] + "A",), s.body),  # 33-byte share
        lambda s: Stanza(s.type, (b64.encode(bytes(32)),), s.body),  # all-zero shared secret
        lambda s: Stanza(s.type, (s.args[0] + "=",), s.body),
        lambda s: Stanza(s.type, s.args, s.body + b"\x00"),  # long file key
        lambda s: Stanza(s.type, s.args, s.body[:-1]),
    ],
)
def test_malformed_x25519_stanzas_are_refused(change: Callable[[Stanza], Stanza]) -> None:
    identity = X25519Identity.generate()
    with pytest.raises(HeaderError):
        identity.unwrap([change(_valid_stanza(identity))])


def test_wrong_tag_is_not_a_match() -> None:
    identity = X25519Identity.generate()
    stanza = _valid_stanza(identity)
    tampered = Stanza(stanza.type, stanza.args, stanza.body[:-1] + bytes([stanza.body[-1] ^ 1]))
    assert identity.unwrap([tampered]) is None


def test_low_order_recipient_cannot_be_encrypted_to() -> None:
    with pytest.raises(AgeError):
        X25519Recipient(bytes(32)).wrap(FILE_KEY)


def test_file_round_trip_with_several_recipients() -> None:
    a, b = X25519Identity.generate(), X25519Identity.generate()
    data = encrypt(b"hello", [a.recipient, b.recipient])
    assert decrypt(data, [a]) == b"hello"
    assert decrypt(data, [b]) == b"hello"
    with pytest.raises(NoIdentityMatch):
        decrypt(data, [X25519Identity.generate()])
