"""Verifying a release bundle with nothing but the bundle.

Anyone can run this: it needs no vault and no secret. It checks that the roster is well formed
(and, given the published fingerprint, that it is the newsroom's), that the request is signed by
its requester and approved by distinct other members, that the manifest is signed by whoever ran
the release and names exactly the files present with their hashes and sizes, and that the audit
checkpoint inside is signed by a roster member.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vault import canonical
from vault.audit import Checkpoint
from vault.errors import IntegrityError, VaultError
from vault.release import sshsig
from vault.release.bundle import (
    MANIFEST_FORMAT,
    ROSTER_FORMAT,
    PublicMember,
    allowed_signers,
    fingerprint,
)
from vault.release.request import ReleaseRequest

MAX_METADATA = 16 * 1024 * 1024


@dataclass
class BundleReport:
    """What `vault release verify` prints."""

    fingerprint: str = ""
    requester: str = ""
    approvers: list[str] = field(default_factory=list)
    released_by: str = ""
    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was wrong."""
        return not self.problems


def verify_bundle(path: Path, *, roster_fingerprint: str | None = None) -> BundleReport:
    """Check a bundle directory; every problem found is listed, none is fatal to the check."""
    report = BundleReport()
    try:
        members = _roster(path, report)
        if roster_fingerprint is not None and roster_fingerprint != report.fingerprint:
            report.problems.append(
                f"the roster's fingerprint is {report.fingerprint}, not the published "
                f"{roster_fingerprint}: this bundle was not signed by the newsroom's members"
            )
        request_bytes = _read(path / "request.json")
        request = ReleaseRequest.decode(request_bytes)
        report.requester = request.requester
        _check_request_signatures(path, request, request_bytes, members, report)
        manifest = _manifest(path, request, request_bytes, members, report)
        _check_files(path, manifest, request, report)
        _check_checkpoint(manifest, members, report)
        # Read like every other member: bounded, never through a link (a bundle is hostile
        # input: allowed_signers -> /dev/zero would otherwise never finish), compared as bytes.
        expected = allowed_signers(list(members.values())).encode()
        if _read(path / "allowed_signers") != expected:
            report.problems.append("allowed_signers does not match roster.json")
    except (VaultError, OSError, ValueError, KeyError, TypeError) as exc:
        message = exc.message if isinstance(exc, VaultError) else f"unreadable bundle ({exc})"
        report.problems.append(message)
    return report


def _read(path: Path) -> bytes:
    if not path.is_file() or path.is_symlink():
        raise IntegrityError(f"{path.name} is missing")
    if path.stat().st_size > MAX_METADATA:
        raise IntegrityError(f"{path.name} is implausibly large")
    return path.read_bytes()


def _roster(path: Path, report: BundleReport) -> dict[str, PublicMember]:
    data = _read(path / "roster.json")
    report.fingerprint = fingerprint(data)
    doc = canonical.loads(data, what="roster.json")
    if doc.get("format") != ROSTER_FORMAT or canonical.dumps(doc) != data:
        raise IntegrityError("roster.json is damaged")
    members = {}
    for entry in doc["members"]:
        member = PublicMember(entry["name"], tuple(entry["roles"]), entry["ssh_key"])
        members[member.name] = member
    return members


def _key(member: PublicMember) -> Ed25519PublicKey:
    kind, _, text = member.ssh_key.partition(" ")
    try:
        blob = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise IntegrityError(f"roster.json: {member.name}'s key is damaged") from None
    raw = blob[-32:]
    key = Ed25519PublicKey.from_public_bytes(raw)
    if kind != "ssh-ed25519" or sshsig.public_key_blob(key) != blob:
        raise IntegrityError(f"roster.json: {member.name}'s key is damaged")
    return key


def _check_signature(
    path: Path, data: bytes, signer: str, members: dict[str, PublicMember], what: str
) -> None:
    member = members.get(signer)
    if member is None:
        raise IntegrityError(f"{what} is signed by {signer!r}, who is not in the roster")
    sshsig.verify(data, _read(path).decode(), _key(member))


def _check_request_signatures(
    path: Path,
    request: ReleaseRequest,
    data: bytes,
    members: dict[str, PublicMember],
    report: BundleReport,
) -> None:
    signers = sorted(
        p.name.removeprefix("request.json.").removesuffix(".sig")
        for p in path.glob("request.json.*.sig")
    )
    if request.requester not in signers:
        report.problems.append("the request is not signed by its requester")
    for signer in signers:
        try:
            _check_signature(
                path / f"request.json.{signer}.sig", data, signer, members, "the request"
            )
        except IntegrityError as exc:
            report.problems.append(f"request.json.{signer}.sig: {exc.message}")
            continue
        if signer != request.requester:
            report.approvers.append(signer)


def _manifest(
    path: Path,
    request: ReleaseRequest,
    request_bytes: bytes,
    members: dict[str, PublicMember],
    report: BundleReport,
) -> dict[str, Any]:
    data = _read(path / "MANIFEST.json")
    manifest = canonical.loads(data, what="MANIFEST.json")
    if manifest.get("format") != MANIFEST_FORMAT or canonical.dumps(manifest) != data:
        raise IntegrityError("MANIFEST.json is damaged")
    report.released_by = manifest["released_by"]
    _check_signature(
        path / f"MANIFEST.json.{report.released_by}.sig",
        data,
        report.released_by,
        members,
        "the manifest",
    )
    if manifest["request_sha256"] != hashlib.sha256(request_bytes).hexdigest():
        report.problems.append("the manifest names another request")
    if sorted(manifest["approvals"]) != sorted(report.approvers):
        report.problems.append("the manifest's approvals do not match the approval signatures")
    if manifest["roster_fingerprint"] != report.fingerprint:
        report.problems.append("the manifest was made with another roster")
    if manifest["vault_id"] != request.vault_id:
        report.problems.append("the manifest and the request come from different vaults")
    return manifest


def _check_files(
    path: Path, manifest: dict[str, Any], request: ReleaseRequest, report: BundleReport
) -> None:
    listed = {entry["path"]: entry for entry in manifest["files"]}
    present = (
        {f"files/{p.name}" for p in (path / "files").iterdir()}
        if (path / "files").is_dir()
        else set()
    )
    for extra in sorted(present - set(listed)):
        report.problems.append(f"{extra} is not in the manifest")
    allowed = set(request.documents)
    for relative, entry in sorted(listed.items()):
        file = path / relative
        if relative not in present or file.is_symlink() or not file.is_file():
            report.problems.append(f"{relative} is missing")
            continue
        digest = hashlib.sha256()
        size = 0
        with file.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                digest.update(chunk)
                size += len(chunk)
        if digest.hexdigest() != entry["sha256"] or size != entry["size"]:
            report.problems.append(f"{relative} has been altered")
        if entry["oid"] not in allowed:
            report.problems.append(f"{relative} was not part of the request")
        report.files += 1


def _check_checkpoint(
    manifest: dict[str, Any], members: dict[str, PublicMember], report: BundleReport
) -> None:
    point = Checkpoint.from_json(manifest["checkpoint"])
    signer = members.get(point.signer)
    if signer is None:
        report.problems.append("the audit checkpoint is signed by someone not in the roster")
        return
    point.verify_signature(_key(signer))
