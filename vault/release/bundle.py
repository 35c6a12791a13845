"""Release bundles: writing one atomically, and verifying one with only what it contains.

A bundle is a directory:

    files/0001-<name> …        the released documents, under safe names
    request.json               the canonical release request
    request.json.<member>.sig  SSH signatures of the request: the requester's and each approver's
    MANIFEST.json              canonical: the request digest, every file (object id, SHA-256,
                               size, type, status, provenance), approvals, the audit checkpoint
    MANIFEST.json.<member>.sig the SSH signature of whoever ran the release
    roster.json                the public roster: members, roles, keys (its SHA-256 is the
                               fingerprint the newsroom publishes)
    allowed_signers            the same keys for `ssh-keygen -Y verify`

It is written into a hidden temporary directory beside the destination and renamed into place,
so a crash never leaves a partial bundle under the bundle's name. With an age recipient the same
tree is streamed as a tar archive straight into one age file: no plaintext on disk at all.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import shutil
import tarfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vault import age, canonical
from vault.release import sshsig
from vault.store.atomic import create_exclusive, fsync_dir

MANIFEST_FORMAT = "embargo-vault release manifest v1"
ROSTER_FORMAT = "embargo-vault public roster v1"


@dataclass(frozen=True)
class PublicMember:
    """A member as a bundle's roster shows them."""

    name: str
    roles: tuple[str, ...]
    ssh_key: str  # "ssh-ed25519 AAAA…"

    def to_json(self) -> dict[str, Any]:
        """The member's entry in roster.json."""
        return {"name": self.name, "roles": list(self.roles), "ssh_key": self.ssh_key}


@dataclass(frozen=True)
class BundleFile:
    """One released document and a way to stream its verified plaintext."""

    oid: str
    name: str
    size: int
    sha256: str
    mime: str
    status: str
    provenance: str
    chunks: Callable[[], Iterator[bytes]]


@dataclass(frozen=True)
class BundleContents:
    """Everything that goes into a bundle except the files' bytes."""

    vault_id: str
    request: bytes
    request_signatures: Mapping[str, str]  # member -> armored SSH signature
    approvals: tuple[str, ...]
    members: tuple[PublicMember, ...]
    checkpoint: str  # a signed audit checkpoint, as JSON
    released_at: str
    released_by: str
    late: bool
    policy_digest: str


def roster_document(vault_id: str, members: Sequence[PublicMember]) -> bytes:
    """roster.json: canonical, so its SHA-256 is a stable fingerprint."""
    return canonical.dumps(
        {
            "format": ROSTER_FORMAT,
            "vault_id": vault_id,
            "members": [m.to_json() for m in sorted(members, key=lambda m: m.name)],
        }
    )


def fingerprint(roster: bytes) -> str:
    """The roster fingerprint the newsroom publishes."""
    return "SHA256:" + hashlib.sha256(roster).hexdigest()


def allowed_signers(members: Sequence[PublicMember]) -> str:
    """The allowed_signers file for OpenSSH."""
    return "".join(
        f'{m.name} namespaces="{sshsig.NAMESPACE}" {m.ssh_key}\n'
        for m in sorted(members, key=lambda m: m.name)
    )


def safe_file_name(index: int, name: str) -> str:
    """A released file's name inside the bundle: numbered, no separators, no hidden files."""
    cleaned = "".join("_" if c in "/\\\0" or ord(c) < 32 else c for c in name).strip(". ")
    return f"{index:04d}-{(cleaned or 'document')[:180]}"


def write_bundle(
    destination: Path,
    contents: BundleContents,
    files: Sequence[BundleFile],
    *,
    runner_key: Ed25519PrivateKey,
    recipient: age.X25519Recipient | None = None,
) -> Path:
    """Write a bundle under `destination` and return its path.

    Raises:
        OSError: the destination cannot be written (nothing is left under the bundle's name).
    """
    name = (
        f"release-{contents.released_at[:10]}-{hashlib.sha256(contents.request).hexdigest()[:12]}"
    )
    entries = _entries(contents, files, runner_key)
    destination.mkdir(parents=True, exist_ok=True)
    if recipient is not None:
        return _write_encrypted(destination, name, entries, recipient)
    final = destination / name
    if final.exists():
        raise FileExistsError(f"{final} already exists")
    temp = destination / f".{name}.partial-{secrets.token_hex(4)}"
    temp.mkdir(mode=0o700)
    try:
        for entry in entries:
            path = temp / entry.relative
            path.parent.mkdir(exist_ok=True)
            fd = create_exclusive(path)
            with os.fdopen(fd, "wb") as out:
                for chunk in entry.producer():
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        for folder in {temp / "files", temp}:
            if folder.is_dir():
                fsync_dir(folder)
        os.rename(temp, final)
        fsync_dir(destination)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return final


Producer = Callable[[], Iterator[bytes]]


@dataclass(frozen=True)
class _Entry:
    relative: str
    size: int
    producer: Producer


def _entries(
    contents: BundleContents, files: Sequence[BundleFile], runner_key: Ed25519PrivateKey
) -> list[_Entry]:
    roster = roster_document(contents.vault_id, contents.members)
    listed = []
    entries: list[_Entry] = []
    for index, item in enumerate(files, start=1):
        relative = f"files/{safe_file_name(index, item.name)}"
        listed.append(
            {
                "path": relative,
                "oid": item.oid,
                "name": item.name,
                "size": item.size,
                "sha256": item.sha256,
                "type": item.mime,
                "status": item.status,
                "provenance": item.provenance,
            }
        )
        entries.append(_Entry(relative, item.size, item.chunks))
    manifest = canonical.dumps(
        {
            "format": MANIFEST_FORMAT,
            "vault_id": contents.vault_id,
            "request_sha256": hashlib.sha256(contents.request).hexdigest(),
            "approvals": list(contents.approvals),
            "files": listed,
            "checkpoint": contents.checkpoint,
            "released_at": contents.released_at,
            "released_by": contents.released_by,
            "late": contents.late,
            "policy_digest": contents.policy_digest,
            "roster_fingerprint": fingerprint(roster),
        }
    )
    signature = sshsig.sign(manifest, runner_key)
    entries += [
        _once("request.json", contents.request),
        *(
            _once(f"request.json.{member}.sig", text.encode())
            for member, text in sorted(contents.request_signatures.items())
        ),
        _once("MANIFEST.json", manifest),
        _once(f"MANIFEST.json.{contents.released_by}.sig", signature.encode()),
        _once("roster.json", roster),
        _once("allowed_signers", allowed_signers(contents.members).encode()),
    ]
    return entries


def _once(relative: str, data: bytes) -> _Entry:
    return _Entry(relative, len(data), lambda: iter((data,)))


def _write_encrypted(
    destination: Path, name: str, entries: list[_Entry], recipient: age.X25519Recipient
) -> Path:
    final = destination / f"{name}.tar.age"
    temp = destination / f".{name}.tar.age.partial-{secrets.token_hex(4)}"
    fd = create_exclusive(temp)
    try:
        with os.fdopen(fd, "wb") as out:
            with (
                age.Encryptor(out, [recipient]) as encryptor,
                tarfile.open(
                    fileobj=_Sink(encryptor), mode="w|", format=tarfile.PAX_FORMAT
                ) as archive,
            ):
                for entry in entries:
                    info = tarfile.TarInfo(f"{name}/{entry.relative}")
                    info.size = entry.size
                    info.mode = 0o600
                    archive.addfile(info, _ChunkStream(entry.producer()))
            out.flush()
            os.fsync(out.fileno())
        os.link(temp, final)
        temp.unlink()
        fsync_dir(destination)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return final


class _ChunkStream(io.RawIOBase):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


class _Sink(io.RawIOBase):
    def __init__(self, encryptor: age.Encryptor) -> None:
        self._encryptor = encryptor

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._encryptor.write(chunk)
        return len(chunk)
