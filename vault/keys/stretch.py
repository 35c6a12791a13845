"""Argon2id passphrase stretching, in a short-lived child process.

Argon2id's working memory (64 MiB at the floor DESIGN §5 sets) is the largest allocation a
vault command makes. Made in the long-running process, it sets that process's peak memory for
good, on top of everything the process has imported, however small the rest of the work. A
child that imports only `argon2` derives the key and exits, and its memory with it; the
passphrase and the key cross a pipe, never the command line, the environment or a file.

Where no child can be started (no Python executable to run), the key is derived here: the
result is the same, only the memory differs.
"""

from __future__ import annotations

import struct
import subprocess
import sys

from vault.errors import VaultError

KEY_BYTES = 32
_REQUEST = struct.Struct(">IIIH")  # memory KiB, passes, lanes, salt length

# Runs with `python -I`: no PYTHONPATH, user site or startup file reaches it.
_CHILD = f"""\
import struct, sys
from argon2.low_level import Type, hash_secret_raw
data = sys.stdin.buffer.read()
request = struct.Struct({_REQUEST.format!r})
m, t, p, n = request.unpack_from(data)
salt, secret = data[request.size:request.size + n], data[request.size + n:]
key = hash_secret_raw(secret, salt, time_cost=t, memory_cost=m, parallelism=p,
                      hash_len={KEY_BYTES}, type=Type.ID)
sys.stdout.buffer.write(key)
"""


class StretchFailed(VaultError):
    """The child process deriving the key failed (out of memory, killed)."""


def stretch(passphrase: bytes, salt: bytes, *, memory_kib: int, passes: int, lanes: int) -> bytes:
    """The 32-byte Argon2id key of `passphrase` under `salt` (RFC 9106; memory in KiB).

    Raises:
        StretchFailed: the child started but gave no key.
    """
    request = _REQUEST.pack(memory_kib, passes, lanes, len(salt))
    try:
        child = subprocess.run(  # our own interpreter, fixed code, no shell
            [sys.executable, "-I", "-c", _CHILD],
            input=request + salt + passphrase,
            capture_output=True,
            check=False,
        )
    except OSError:
        # Only here: every command would otherwise load argon2 (15 ms) for a path it never takes.
        from argon2.low_level import Type, hash_secret_raw

        return hash_secret_raw(
            passphrase,
            salt,
            time_cost=passes,
            memory_cost=memory_kib,
            parallelism=lanes,
            hash_len=KEY_BYTES,
            type=Type.ID,
        )
    if child.returncode != 0 or len(child.stdout) != KEY_BYTES:
        # Its stderr is not passed on: a traceback is no message for a member.
        raise StretchFailed(f"key derivation failed (exit status {child.returncode})")
    return child.stdout
