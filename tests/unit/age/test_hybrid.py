"""Post-quantum hybrid (ML-KEM-768 + X25519) recipients and identities."""

import pytest

from vault.age import (
    AgeError,
    HeaderError,
    HybridIdentity,
    HybridRecipient,
    NoIdentityMatch,
    Stanza,
    X25519Identity,
    b64,
    decrypt,
    encrypt,
)

# The hybrid identity of the C2SP vectors.
IDENTITY = "AGE-SECRET-KEY-PQ-1HZLGZUPT4ETPKDEV8HSGFDCYZ4E522W0A7PU2LHT8EH9W6YLNC3SW78XKG"
FILE_KEY = bytes(range(16))


def test_key_strings_round_trip() -> None:
    identity = HybridIdentity.parse(IDENTITY)
    assert str(identity) == IDENTITY
    recipient = str(identity.recipient)
    assert recipient.startswith("age1pq1")
    assert recipient.islower()
    assert HybridRecipient.parse(recipient) == identity.recipient
    assert hash(HybridRecipient.parse(recipient)) == hash(identity.recipient)
    assert IDENTITY not in repr(identity)
    generated = HybridIdentity.generate()
    assert HybridIdentity.parse(str(generated)).recipient == generated.recipient


@pytest.mark.parametrize(
    "text", [IDENTITY.lower(), IDENTITY[:-1] + "Q", "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK"]
)
def test_bad_identities_are_refused(text: str) -> None:
    with pytest.raises(AgeError, match="invalid age identity"):
        HybridIdentity.parse(text)


def test_bad_recipients_are_refused() -> None:
    with pytest.raises(AgeError, match="invalid age recipient"):
        HybridRecipient.parse(str(X25519Identity.generate().recipient))
    with pytest.raises(AgeError, match="invalid age recipient"):
        HybridRecipient(bytes(100))


def test_round_trip() -> None:
    a, b = HybridIdentity.generate(), HybridIdentity.generate()
    data = encrypt(b"quantum", [a.recipient, b.recipient])
    assert decrypt(data, [a]) == b"quantum"
    assert decrypt(data, [X25519Identity.generate(), b]) == b"quantum"
    with pytest.raises(NoIdentityMatch):
        decrypt(data, [HybridIdentity.generate()])


def test_cannot_mix_with_classic_recipients() -> None:
    with pytest.raises(ValueError, match="post-quantum"):
        encrypt(b"x", [HybridIdentity.generate().recipient, X25519Identity.generate().recipient])


def test_malformed_stanzas_are_refused() -> None:
    identity = HybridIdentity.generate()
    (stanza,) = identity.recipient.wrap(FILE_KEY)
    assert identity.unwrap([stanza]) == FILE_KEY
    enc = b64.decode(stanza.args[0])
    assert enc is not None
    low_order = b64.encode(enc[:-32] + bytes(32))
    for bad in [
        Stanza(stanza.type, (*stanza.args, "x"), stanza.body),
        Stanza(stanza.type, (stanza.args[0][:-4],), stanza.body),
        Stanza(stanza.type, (low_order,), stanza.body),
        Stanza(stanza.type, stanza.args, stanza.body + b"\x00"),
    ]:
        with pytest.raises(HeaderError):
            identity.unwrap([bad])
    wrong_tag = Stanza(stanza.type, stanza.args, stanza.body[:-1] + bytes([stanza.body[-1] ^ 1]))
    assert identity.unwrap([wrong_tag]) is None
