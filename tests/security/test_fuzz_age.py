"""Fuzzing the age format: real multi-recipient files, edited every way, never decrypt wrongly.

The unit tests flip every byte of one small file and parse random headers. These go further, on
files shaped like the vault's (`keys/vault.age` has one stanza per member; objects span several
STREAM chunks): insertions, deletions, duplicated ranges, overwritten ranges, truncation and
appended bytes, several at once, through all three ways of reading — the header parser, the
streaming decrypter and the seekable reader. Properties:

- the parser accepts exactly one spelling of a header: whatever it accepts re-encodes to the
  very bytes it read;
- an edited file never decrypts, unless the edit changed nothing; a stream stops with
  `AgeError`, having yielded only a true prefix of the plaintext;
- the seekable reader returns the true bytes or raises `AgeError`;
- nothing but `AgeError` ever escapes.
"""

from __future__ import annotations

import hashlib
import io

from hypothesis import given
from hypothesis import strategies as st

from tests.security.mutations import FUZZ, Mutation, edit_lists, mutate
from vault.age import AgeError, ChunkReader, ScryptRecipient, X25519Identity, decrypt_chunks
from vault.age import encrypt as age_encrypt
from vault.age.header import INTRO, encode_stanza, parse_header, read_header
from vault.age.stream import CHUNK_SIZE

MEMBERS = [X25519Identity.generate() for _ in range(4)]
ME = MEMBERS[2]  # not the first stanza: the others must be skipped correctly
SMALL = b"the vault secret, 32 bytes long."
LARGE = hashlib.shake_256(b"object").digest(2 * CHUNK_SIZE + 4321)
FILES = {
    "vault.age": age_encrypt(SMALL, [m.recipient for m in MEMBERS]),
    "object": age_encrypt(LARGE, [ME.recipient]),
    "empty": age_encrypt(b"", [m.recipient for m in MEMBERS[:3]]),
}
PLAIN = {"vault.age": SMALL, "object": LARGE, "empty": b""}
SCRYPT = age_encrypt(SMALL, [ScryptRecipient(b"passphrase", work_factor=2)])
names = st.sampled_from(sorted(FILES))


def _header_bytes(data: bytes) -> bytes:
    header, _ = read_header(io.BytesIO(data))
    return data[: header.size]


@FUZZ
@given(name=names, edits=edit_lists)
def test_the_parser_accepts_one_spelling_only(name: str, edits: list[Mutation]) -> None:
    edited = mutate(_header_bytes(FILES[name]), edits)
    try:
        header = parse_header(edited)
    except AgeError:
        return
    spelled = INTRO + b"\n" + b"".join(encode_stanza(s) for s in header.stanzas) + b"---"
    assert header.mac_input == spelled
    assert header.size == len(edited)


@FUZZ
@given(name=names, edits=edit_lists)
def test_an_edited_file_never_decrypts(name: str, edits: list[Mutation]) -> None:
    original = FILES[name]
    edited = mutate(original, edits)
    out = bytearray()
    try:
        for chunk in decrypt_chunks(io.BytesIO(edited), [ME]):
            out += chunk
            assert PLAIN[name].startswith(out), "a chunk that is not the plaintext came out"
    except AgeError:
        return
    assert edited == original, "an edited file decrypted"
    assert out == PLAIN[name]


@FUZZ
@given(edits=edit_lists, start=st.integers(0, len(LARGE)), size=st.integers(0, 3 * CHUNK_SIZE))
def test_the_seekable_reader_returns_true_bytes_or_refuses(
    edits: list[Mutation], start: int, size: int
) -> None:
    edited = mutate(FILES["object"], edits)
    try:
        with ChunkReader(io.BytesIO(edited), [ME]) as reader:
            reader.seek(start)
            got = reader.read(size)
    except AgeError:
        return
    assert got == LARGE[start : start + size]


@FUZZ
@given(edits=edit_lists)
def test_an_edited_passphrase_file_never_decrypts(edits: list[Mutation]) -> None:
    from vault.age import ScryptIdentity, decrypt

    edited = mutate(SCRYPT, edits)
    try:
        plain = decrypt(edited, [ScryptIdentity(b"passphrase", max_work_factor=4)])
    except AgeError:
        return
    assert edited == SCRYPT
    assert plain == SMALL
