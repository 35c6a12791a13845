"""atheris: edited age files never decrypt, and only `AgeError` escapes the readers.

.venv/bin/python -m tests.security.fuzz.fuzz_age -max_total_time=600
"""

from __future__ import annotations

import hashlib
import io

from tests.security.fuzz.harness import atheris, edited, instrumented, run

with instrumented():
    from vault.age import AgeError, ChunkReader, X25519Identity, decrypt_chunks, encrypt
    from vault.age.header import INTRO, encode_stanza, parse_header

MEMBERS = [X25519Identity.generate() for _ in range(3)]
ME = MEMBERS[1]
PLAIN = [b"the vault secret, 32 bytes long.", hashlib.shake_256(b"x").digest(70_000), b""]
SEEDS = [encrypt(PLAIN[0], [m.recipient for m in MEMBERS]), encrypt(PLAIN[1], [ME.recipient]),
         encrypt(PLAIN[2], [ME.recipient, MEMBERS[0].recipient])]  # fmt: skip


def test_one_input(data: bytes) -> None:
    """One edited file through the header parser, the stream and the seekable reader."""
    index, candidate = edited(atheris().FuzzedDataProvider(data), SEEDS)
    try:
        header = parse_header(candidate[: candidate.find(b"\n---") + 48])
        spelled = INTRO + b"\n" + b"".join(encode_stanza(s) for s in header.stanzas) + b"---"
        assert header.mac_input == spelled, "a second spelling of a header was accepted"
    except AgeError:
        pass
    out = b""
    try:
        for chunk in decrypt_chunks(io.BytesIO(candidate), [ME]):
            out += chunk
            assert PLAIN[index].startswith(out), "bytes that are not the plaintext came out"
        assert candidate == SEEDS[index], "an edited file decrypted"
    except AgeError:
        pass
    try:
        with ChunkReader(io.BytesIO(candidate), [ME]) as reader:
            reader.seek(len(PLAIN[index]) // 3)
            assert reader.read(40_000) == PLAIN[index][len(PLAIN[index]) // 3 :][:40_000]
    except AgeError:
        pass


if __name__ == "__main__":
    run(test_one_input)
