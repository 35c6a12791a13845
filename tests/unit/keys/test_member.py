"""Member keys and their sealed key file: derivation, sealing, and refusal of every tampering.

Sealing and unsealing run Argon2id at 64 MiB (a few tenths of a second each), so one sealed
file is made per module and only a handful of tests unseal.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from vault import canonical
from vault.errors import BadCredentials, IntegrityError, UsageError
from vault.keys import member
from vault.keys.member import (
    FORMAT,
    KdfParams,
    KeyFile,
    MemberKeys,
    check_member_name,
    key_file_path,
    read_key_file,
    write_key_file,
)

PASSPHRASE = b"correct horse battery staple"
ANCHOR = bytes(range(32))


@pytest.fixture(scope="module")
def vault_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vault")


@pytest.fixture(scope="module")
def alice() -> MemberKeys:
    return MemberKeys.generate("alice", ANCHOR)


@pytest.fixture(scope="module")
def sealed(vault_dir: Path, alice: MemberKeys) -> bytes:
    """Alice's key file, sealed once with the default parameters."""
    write_key_file(vault_dir, alice, PASSPHRASE, KdfParams())
    return key_file_path(vault_dir, "alice").read_bytes()


@pytest.fixture
def no_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any Argon2 call fail the test: what is refused must be refused before the work."""

    def forbidden(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("Argon2 ran on parameters that should have been refused first")

    monkeypatch.setattr(member, "stretch", forbidden)


def _edit(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    doc = json.loads(data)
    change(doc)
    return canonical.dumps(doc)


def _set_kdf(**values: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc["kdf"].update(values)

    return change


def _flip_b64(field: str, index: int = 3) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        holder = doc["kdf"] if field == "salt" else doc
        raw = bytearray(canonical.unb64(holder[field], what=field))
        raw[index] ^= 0x01
        holder[field] = canonical.b64(bytes(raw))

    return change


# --- derivation ------------------------------------------------------------------------------


def test_keys_derive_deterministically_from_the_seed() -> None:
    seed = os.urandom(32)
    a, b = MemberKeys("a", seed, ANCHOR), MemberKeys("a", seed, ANCHOR)
    other = MemberKeys("a", os.urandom(32), ANCHOR)
    assert str(a.identity) == str(b.identity)
    assert a.verify_key.public_bytes_raw() == b.verify_key.public_bytes_raw()
    assert str(a.identity) != str(other.identity)
    assert a.verify_key.public_bytes_raw() != other.verify_key.public_bytes_raw()
    # The two keys come from separate HKDF purposes, not from the seed itself or each other.
    ed_secret = a.signing_key.private_bytes_raw()
    assert len({seed, a.identity.secret_bytes(), ed_secret}) == 3


@pytest.mark.parametrize(("seed", "anchor"), [(31, 32), (33, 32), (32, 0), (32, 31)])
def test_keys_need_32_byte_seed_and_anchor(seed: int, anchor: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        MemberKeys("a", bytes(seed), bytes(anchor))


def test_repr_shows_no_secret(alice: MemberKeys) -> None:
    text = repr(alice)
    assert text == "MemberKeys('alice')"
    assert str(alice.identity) not in text


# --- sealing -----------------------------------------------------------------------------------


def test_seal_unseal_round_trip(sealed: bytes, alice: MemberKeys) -> None:
    opened = KeyFile.parse(sealed).unseal(PASSPHRASE)
    assert opened.name == "alice"
    assert opened.anchor == ANCHOR
    assert str(opened.identity) == str(alice.identity)
    assert opened.verify_key.public_bytes_raw() == alice.verify_key.public_bytes_raw()
    alice.verify_key.verify(opened.signing_key.sign(b"approve"), b"approve")


def test_wrong_passphrase_is_bad_credentials(sealed: bytes) -> None:
    with pytest.raises(BadCredentials) as caught:
        KeyFile.parse(sealed).unseal(b"correct horse battery stapl")
    assert caught.value.exit_code == 5
    assert "staple" not in str(caught.value)


def test_key_file_is_written_privately_where_it_belongs(vault_dir: Path, sealed: bytes) -> None:
    path = vault_dir / "keys" / "members" / "alice.key"
    assert key_file_path(vault_dir, "alice") == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_key_file(vault_dir, "alice") == KeyFile.parse(sealed)


def test_default_parameters_meet_the_design_floor(sealed: bytes) -> None:
    defaults = KdfParams()
    assert (defaults.memory_kib, defaults.passes, defaults.lanes) == (65536, 3, 4)
    doc = json.loads(sealed)
    kdf = doc["kdf"]
    assert kdf["alg"] == "argon2id"
    assert kdf["v"] == 19
    assert kdf["m"] >= 65536
    assert kdf["t"] >= 3
    assert kdf["p"] >= 4
    parsed = KeyFile.parse(sealed)
    assert parsed.params == defaults
    assert len(parsed.salt) == 16
    assert len(parsed.nonce) == 12
    assert len(parsed.sealed) == 32 + 32 + 16  # seed ‖ anchor, plus the Poly1305 tag


def test_key_file_is_canonical_and_reveals_no_secret(sealed: bytes, alice: MemberKeys) -> None:
    doc = json.loads(sealed)
    assert set(doc) == {"format", "member", "kdf", "nonce", "sealed", "signature"}
    assert doc["format"] == FORMAT
    assert doc["member"] == "alice"
    assert canonical.dumps(doc) == sealed
    secrets = [
        alice.identity.secret_bytes(),
        alice.signing_key.private_bytes_raw(),
        ANCHOR,
        PASSPHRASE,
    ]
    for secret in secrets:
        assert secret not in sealed
        assert canonical.b64(secret).encode()[:20] not in sealed
    assert str(alice.identity).encode() not in sealed


def test_verify_signature_accepts_the_genuine_file(sealed: bytes, alice: MemberKeys) -> None:
    KeyFile.parse(sealed).verify_signature(alice.verify_key)


def test_verify_signature_refuses_another_members_key(sealed: bytes) -> None:
    other = MemberKeys.generate("alice", ANCHOR)
    with pytest.raises(IntegrityError, match="altered"):
        KeyFile.parse(sealed).verify_signature(other.verify_key)


# --- tampering -------------------------------------------------------------------------------


def _outcome(data: bytes, key: Ed25519PublicKey) -> str:
    """What a damaged key file does to parse + verify: must end in a refusal."""
    try:
        key_file = KeyFile.parse(data)
    except IntegrityError:
        return "parse"
    try:
        key_file.verify_signature(key)
    except IntegrityError:
        return "signature"
    return "accepted"


def test_every_bit_flip_is_refused_without_the_passphrase(sealed: bytes, alice: MemberKeys) -> None:
    outcomes: dict[str, list[tuple[int, int]]] = {"parse": [], "signature": [], "accepted": []}
    for position in range(len(sealed)):
        for bit in range(8):
            damaged = bytearray(sealed)
            damaged[position] ^= 1 << bit
            try:
                outcomes[_outcome(bytes(damaged), alice.verify_key)].append((position, bit))
            except Exception as error:  # any other exception is the failure
                pytest.fail(f"flip at byte {position}, bit {bit} raised {error!r}")
    assert outcomes["accepted"] == []
    assert outcomes["parse"]
    assert outcomes["signature"]


def _parseable_flips(sealed: bytes) -> dict[str, bytes]:
    """One damaged file per key-file field that a single bit flip can change and still parse."""
    original = KeyFile.parse(sealed)
    found: dict[str, bytes] = {}
    for position in range(len(sealed)):
        for bit in range(8):
            damaged = bytearray(sealed)
            damaged[position] ^= 1 << bit
            try:
                parsed = KeyFile.parse(bytes(damaged))
            except IntegrityError:
                continue
            for field in ("member", "params", "salt", "nonce", "sealed"):
                if getattr(parsed, field) != getattr(original, field):
                    found.setdefault(field, bytes(damaged))
                    break
    return found


def test_flipped_files_that_still_parse_do_not_unseal(sealed: bytes) -> None:
    # Parsing survives some flips (a digit of a parameter, a base64 character, a letter of the
    # name); each such file, one per field, must still be refused by the AEAD or the bounds.
    flips = _parseable_flips(sealed)
    assert set(flips) == {"member", "params", "salt", "nonce", "sealed"}
    for damaged in flips.values():
        with pytest.raises((BadCredentials, IntegrityError)):
            KeyFile.parse(damaged).unseal(PASSPHRASE)


@pytest.mark.parametrize(
    "change",
    [
        _set_kdf(t=4),
        _set_kdf(p=2),
        _flip_b64("sealed", index=-1),  # the tag
    ],
    ids=["passes", "lanes", "tag"],
)
def test_changed_header_or_ciphertext_breaks_the_seal(
    sealed: bytes, alice: MemberKeys, change: Callable[[dict[str, Any]], None]
) -> None:
    # The header (including the Argon2 parameters) is the AEAD's associated data: swapping
    # parameters, even for valid ones, must fail exactly like a wrong passphrase.
    damaged = _edit(sealed, change)
    key_file = KeyFile.parse(damaged)
    with pytest.raises(BadCredentials):
        key_file.unseal(PASSPHRASE)
    with pytest.raises(IntegrityError):
        key_file.verify_signature(alice.verify_key)


@pytest.mark.parametrize(
    ("m", "t", "p"),
    [
        (65535, 3, 4),  # just below 64 MiB
        (1024, 3, 4),
        (8, 1, 1),
        (0, 3, 4),
        (-65536, 3, 4),
        (65536, 2, 4),  # below t=3
        (65536, 0, 4),
        (65536, -3, 4),
        (65536, 3, 0),
        (65536, 3, -4),
        (4 * 1024 * 1024 + 1, 3, 4),  # above the ceiling
        (1 << 40, 3, 4),  # a petabyte
        (65536, 65, 4),
        (65536, 10**9, 4),
        (65536, 3, 17),
        (65536, 3, 1 << 24),
        (2**64, 2**64, 2**64),
    ],
)
def test_out_of_range_parameters_are_refused_before_any_argon2_work(
    sealed: bytes, no_argon2: None, m: int, t: int, p: int
) -> None:
    damaged = KeyFile.parse(_edit(sealed, _set_kdf(m=m, t=t, p=p)))
    start = time.monotonic()
    with pytest.raises(IntegrityError, match="out-of-range"):
        damaged.unseal(PASSPHRASE)
    assert time.monotonic() - start < 0.1  # a 64 MiB Argon2 alone takes several times that
    with pytest.raises(IntegrityError, match="out-of-range"):
        MemberKeys.generate("bob", ANCHOR).seal(PASSPHRASE, KdfParams(m, t, p))


@pytest.mark.parametrize(
    "params",
    [KdfParams(65536, 3, 1), KdfParams(4 * 1024 * 1024, 64, 16), KdfParams()],
)
def test_parameters_at_the_bounds_are_allowed(params: KdfParams) -> None:
    params.check()


@pytest.mark.parametrize(
    "change",
    [_set_kdf(salt=canonical.b64(bytes(8))), _set_kdf(salt=canonical.b64(bytes(65)))],
    ids=["short", "long"],
)
def test_bad_salt_length_is_refused_before_any_argon2_work(
    sealed: bytes, no_argon2: None, change: Callable[[dict[str, Any]], None]
) -> None:
    with pytest.raises(IntegrityError):
        KeyFile.parse(_edit(sealed, change)).unseal(PASSPHRASE)


@pytest.mark.parametrize("length", [0, 11, 13, 24])
def test_bad_nonce_length_is_refused_before_any_argon2_work(
    sealed: bytes, no_argon2: None, length: int
) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["nonce"] = canonical.b64(bytes(length))

    with pytest.raises(IntegrityError):
        KeyFile.parse(_edit(sealed, change)).unseal(PASSPHRASE)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        del doc[key]

    return change


def _put(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc[key] = value

    return change


@pytest.mark.parametrize(
    "change",
    [
        _drop("format"),
        _drop("member"),
        _drop("kdf"),
        _drop("nonce"),
        _drop("sealed"),
        _drop("signature"),
        _put("extra", 1),
        _put("format", "embargo-vault member key v2"),
        _put("member", 7),
        _put("kdf", "argon2id"),
        _put("nonce", 12),
        _put("sealed", "not base64!"),
        _put("signature", "AAAA="),
        _set_kdf(alg="argon2i"),
        _set_kdf(alg="scrypt"),
        _set_kdf(v=16),
        _set_kdf(m=65536.0),
        _set_kdf(m="65536"),
        _set_kdf(t=True),
        _set_kdf(p=None),
        _set_kdf(salt=None),
        _set_kdf(salt="AAAAAAAAAAAAAAAAAAAAAB=="),  # non-canonical: stray trailing bits
    ],
)
def test_malformed_key_files_are_refused_at_parse(
    sealed: bytes, change: Callable[[dict[str, Any]], None]
) -> None:
    with pytest.raises(IntegrityError):
        KeyFile.parse(_edit(sealed, change))


@pytest.mark.parametrize(
    "data",
    [b"", b"{", b"[]", b"null", b'"key"', b"\xff\xfe", b"{}", b"{" * 100_000],
)
def test_non_key_files_are_refused_at_parse(data: bytes) -> None:
    with pytest.raises(IntegrityError):
        KeyFile.parse(data)


# --- reading key files by member name ---------------------------------------------------------


def test_unknown_member_is_bad_credentials(vault_dir: Path, sealed: bytes) -> None:
    with pytest.raises(BadCredentials):
        read_key_file(vault_dir, "zoe")


def test_key_file_naming_another_member_is_refused(
    tmp_path: Path, sealed: bytes, no_argon2: None
) -> None:
    # Copying alice's file over bob's must not let anyone unlock "as bob" with alice's keys.
    path = key_file_path(tmp_path, "bob")
    path.parent.mkdir(parents=True)
    path.write_bytes(sealed)
    with pytest.raises(IntegrityError, match="another member"):
        read_key_file(tmp_path, "bob")


@pytest.mark.parametrize("name", ["../alice", "Alice", "", "a/../../etc/passwd"])
def test_read_key_file_refuses_path_like_names(vault_dir: Path, name: str) -> None:
    with pytest.raises(UsageError):
        read_key_file(vault_dir, name)


# --- member names ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "alice", "bob-2", "c_d", "z9", "a" * 32, "x-_-1"])
def test_valid_member_names(name: str) -> None:
    check_member_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "../x",
        "..",
        "a/b",
        "Alice",
        "ALICE",
        "aLice",
        "a" * 33,
        "1abc",
        "-abc",
        "_abc",
        "a b",
        "a.b",
        "alice\n",
        "alice\x00",
        "é",
        "alicé",
        "\u0430lice",  # Cyrillic a
        "ﬁle",  # ligature: lowercase to str.islower, not ASCII
        "a٣",  # Arabic-Indic digit: a digit to str.isdigit, not ASCII
    ],
)
def test_invalid_member_names(name: str) -> None:
    with pytest.raises(UsageError):
        check_member_name(name)


_VALID_NAME = r"[a-z][a-z0-9_-]{0,31}"


@given(st.one_of(st.text(max_size=40), st.from_regex(_VALID_NAME, fullmatch=True)))
def test_member_names_are_exactly_short_lowercase_slugs(name: str) -> None:
    import re

    if re.fullmatch(_VALID_NAME, name, flags=re.ASCII):
        check_member_name(name)
    else:
        with pytest.raises(UsageError):
            check_member_name(name)
