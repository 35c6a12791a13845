"""Interoperability with the reference `age` command-line tool, both ways.

The design promises that `age -d` recovers any vault object with no vault software, and that
files `age` writes open in the vault. Passphrase files are not tested against the tool: it reads
passphrases only from a terminal.
"""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from vault.age import X25519Identity, X25519Recipient, decrypt, encrypt

SIZES = [0, 1, 65535, 65536, 65537, 131072, 1024 * 1024 + 1]


def find_tool(name: str) -> str:
    """The path of an age command-line tool; fail under CI, else skip, when it is missing."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"`{name}` is not installed; CI must provide it (Debian package age)")
        pytest.skip(f"`{name}` not found on PATH; install the Debian package age to run this")
    return path


def run(args: list[str], data: bytes = b"") -> bytes:
    done = subprocess.run(args, input=data, capture_output=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


@pytest.fixture(scope="module")
def age() -> str:
    return find_tool("age")


@pytest.fixture(scope="module")
def identity() -> X25519Identity:
    return X25519Identity.generate()


@pytest.fixture
def key_file(tmp_path: Path, identity: X25519Identity) -> Path:
    path = tmp_path / "key.txt"
    path.write_text(f"# a test identity\n{identity}\n")
    return path


def plaintext(size: int) -> bytes:
    return hashlib.shake_256(b"interop" + size.to_bytes(8, "big")).digest(size)


@pytest.mark.parametrize("size", SIZES)
def test_age_decrypts_ours(age: str, key_file: Path, identity: X25519Identity, size: int) -> None:
    data = plaintext(size)
    encrypted = encrypt(data, [identity.recipient])
    assert run([age, "-d", "-i", str(key_file)], encrypted) == data


@pytest.mark.parametrize("size", SIZES)
def test_we_decrypt_age_to_recipient(age: str, identity: X25519Identity, size: int) -> None:
    data = plaintext(size)
    encrypted = run([age, "-r", str(identity.recipient)], data)
    assert decrypt(encrypted, [identity]) == data


@pytest.mark.parametrize("size", SIZES)
def test_we_decrypt_age_to_identity_file(
    age: str, key_file: Path, identity: X25519Identity, size: int
) -> None:
    data = plaintext(size)
    encrypted = run([age, "-e", "-i", str(key_file)], data)
    assert decrypt(encrypted, [identity]) == data


def test_several_recipients_both_ways(age: str, key_file: Path, identity: X25519Identity) -> None:
    other = X25519Identity.generate()
    data = plaintext(1000)
    ours = encrypt(data, [other.recipient, identity.recipient])
    assert run([age, "-d", "-i", str(key_file)], ours) == data
    theirs = run([age, "-r", str(other.recipient), "-r", str(identity.recipient)], data)
    assert decrypt(theirs, [identity]) == data
    assert decrypt(theirs, [other]) == data


def test_age_refuses_our_truncated_file(age: str, key_file: Path, identity: X25519Identity) -> None:
    encrypted = encrypt(plaintext(131072), [identity.recipient])
    done = subprocess.run(
        [age, "-d", "-i", str(key_file)],
        input=encrypted[:-(65536 + 16)],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode != 0


def test_keys_from_age_keygen(tmp_path: Path) -> None:
    keygen = find_tool("age-keygen")
    path = tmp_path / "generated.txt"
    run([keygen, "-o", str(path)])
    secret = next(
        line for line in path.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-1")
    )
    identity = X25519Identity.parse(secret)
    assert str(identity) == secret
    public = run([keygen, "-y", str(path)]).decode().strip()
    assert str(identity.recipient) == public
    assert X25519Recipient.parse(public) == identity.recipient
