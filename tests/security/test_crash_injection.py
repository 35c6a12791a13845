"""Crash injection (DESIGN §2.2): `vault` killed with SIGKILL at random points loses nothing.

Check-in, embargo changes (`vault embargo set` and `extend`) and release runs (`vault release
run`) run as real `vault` subprocesses (`tests.security.crashpoint`) and are killed, with their
worker processes, at a point drawn from the seed:

- half the seeds kill at the Nth change the command makes to the file system (an open for
  writing, a rename, an unlink, a mkdir…), N drawn from 1 to two past the number a full run
  makes, so every step of the operation — and a run that completes — is hit;
- the other half kill after a delay drawn from 0 to 1.1 × the operation's measured duration,
  counted from the end of the command's imports: these land inside SQLite commits, fsyncs and
  the writes between the hook's events.

After every kill: `vault check --read-data --json` exits 0 (orphans, leftovers of interrupted
writes, an embargo change logged but not yet in `vault.db`, and a torn audit record cut back
allowed, as warnings that say so), `vault audit verify` passes, every document named in
a receipt the command printed before it died is readable with `vault cat` and has the right
content, an embargo the command reported is in force, and no partial release bundle exists
under a bundle's name (a hidden `.release-….partial-…` folder beside it is allowed). Some seeds
then run the operation again, to show the vault is still writable.

CI runs 50 seeds across the three operations; `VAULT_CRASH_SEEDS=500` runs ten times as many
(see SECURITY.md, "How the claims are tested"). A failing seed is reproduced by running its test
id alone: the crash point depends on the seed and on the operation's measured length only.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.security.invoke import Outcome, as_member
from tests.security.shared import built_once
from tests.vaults import PASSPHRASES, make_vault
from vault.service import Vault, verify_bundle

REPO = Path(__file__).resolve().parents[2]
SEEDS = int(os.environ.get("VAULT_CRASH_SEEDS", "50"))
CHECKIN_SEEDS = max(1, SEEDS * 2 // 5)
EMBARGO_SEEDS = max(1, SEEDS * 3 // 10)
RELEASE_SEEDS = max(1, SEEDS - CHECKIN_SEEDS - EMBARGO_SEEDS)
BOOT = "from tests.security.crashpoint import main; main()"
DAVE = b"dave passphrase"
TIMEOUT = 180
# What a crash may leave, each said as such: orphans and temporary files, a change logged but
# never recorded in its database, and a torn final audit record cut back.
CRASH_WARNINGS = (
    "orphan",
    "interrupted write",
    "the change was interrupted before it was recorded",
    "torn final record",
)


def draw(seed: int, what: str) -> float:
    """A number in [0, 1) fixed by the seed (no `random`: the project bans it)."""
    digest = hashlib.sha256(f"crash seed {seed} {what}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class Base:
    """A vault with material, an embargoed document and an approved, due release request."""

    vault: Path
    passphrase_files: dict[str, Path]
    source: Path  # what the crashing check-ins check in
    known: frozenset[str]  # SHA-256 of every file and archive member in `source`
    embargoed: str  # a document with its own embargo, for `embargo extend`
    request: str  # approved by alice (editor-in-chief) and carol (legal); due now
    released: int  # how many documents the request releases


@dataclass(frozen=True)
class Calibration:
    """What one uninterrupted run of an operation does: file-system changes and seconds."""

    changes: int
    seconds: float


@dataclass(frozen=True)
class Crash:
    """A run that was (or, past the last crash point, was not) killed."""

    killed: bool
    point: str
    result: Outcome


def _material(root: Path) -> tuple[Path, frozenset[str]]:
    source = root / "dump"
    (source / "sub").mkdir(parents=True)
    known = set()
    for index, size in enumerate((0, 700, 9_000, 70_000, 300_000, 1_100_000)):
        data = os.urandom(size) if index % 2 else (b"memo %d\n" % index) * (size // 7 + 1)
        folder = source if index < 4 else source / "sub"
        (folder / f"item{index}.txt").write_bytes(data)
        known.add(hashlib.sha256(data).hexdigest())
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for index in range(4):
            member = os.urandom(3_000 * (index + 1))
            zipped.writestr(f"ledgers/ledger{index}.bin", member)
            known.add(hashlib.sha256(member).hexdigest())
    (source / "ledgers.zip").write_bytes(archive.getvalue())
    known.add(hashlib.sha256(archive.getvalue()).hexdigest())
    mail = EmailMessage()
    mail["From"] = "treasurer@campaign.example"
    mail["To"] = "press@campaign.example"
    mail["Subject"] = "transfers"
    mail.set_content("see the attached list\n")
    attachment = os.urandom(5_000)
    mail.add_attachment(
        attachment, maintype="application", subtype="octet-stream", filename="transfers.bin"
    )
    (source / "sub" / "transfers.eml").write_bytes(bytes(mail))
    known.add(hashlib.sha256(bytes(mail)).hexdigest())
    known.add(hashlib.sha256(attachment).hexdigest())
    return source, frozenset(known)


def _build(root: Path) -> Base:
    root.mkdir()
    test_vault = make_vault(root)
    first = root / "first"
    first.mkdir()
    for index in range(5):
        (first / f"report{index}.txt").write_bytes(os.urandom(2_000 + 30_000 * index))
    with test_vault.open() as alice:
        alice.add_member("dave", ["editor"], DAVE)
        alice.grant("leak", "carol")
        alice.grant("leak", "dave")
        alice.check_in([first], collection="leak", source="first intake")
        docs = sorted(alice.documents("leak"), key=lambda d: d.name)
        embargoed = docs[0].oid
        alice.set_embargo(
            embargoed,
            until=datetime.now(UTC) + timedelta(days=400),
            zone="Europe/Paris",
            reason="court order",
        )
    released = [d.oid for d in docs[1:]]
    with Vault.open(test_vault.path, "dave", DAVE) as dave:
        request = dave.request_release("leak", documents=released, reason="after the vote").id
    for approver in ("alice", "carol"):
        with test_vault.open(approver) as member:
            member.approve_release(request)
    files = {m: test_vault.passphrase_file(m) for m in PASSPHRASES}
    files["dave"] = test_vault.secrets_dir / "dave.pass"
    files["dave"].write_bytes(DAVE)
    source, known = _material(root)
    return Base(test_vault.path, files, source, known, embargoed, request, len(released))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    """Built once per run and shared by the xdist workers (it is only ever copied)."""

    def build(root: Path) -> None:
        (root / "base.json").write_text(json.dumps(_to_json(_build(root / "work"))))

    built = built_once(tmp_path_factory, "crash-injection", build)
    return _from_json(json.loads((built / "base.json").read_text()))


def _to_json(base: Base) -> dict[str, Any]:
    data = asdict(base)
    return {k: sorted(v) if isinstance(v, frozenset) else v for k, v in data.items()} | {
        "vault": str(base.vault),
        "source": str(base.source),
        "passphrase_files": {k: str(v) for k, v in base.passphrase_files.items()},
    }


def _from_json(data: dict[str, Any]) -> Base:
    return Base(
        Path(data["vault"]),
        {k: Path(v) for k, v in data["passphrase_files"].items()},
        Path(data["source"]),
        frozenset(data["known"]),
        data["embargoed"],
        data["request"],
        data["released"],
    )


def _environment(crash: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["VAULT_CRASH"] = crash
    return env


def _command(base: Base, copy: Path, member: str, args: tuple[str, ...]) -> list[str]:
    return [
        sys.executable, "-c", BOOT,
        "--vault", str(copy), "--as", member,
        "--passphrase-file", str(base.passphrase_files[member]),
        *args,
    ]  # fmt: skip


def _copy(base: Base, workdir: Path) -> Path:
    copy = workdir / "vault"
    shutil.copytree(base.vault, copy)
    return copy


def calibrate(base: Base, name: str, member: str, args: tuple[str, ...]) -> Calibration:
    """Run the operation once, uninterrupted, counting its changes and timing it.

    Done once per run (the xdist workers share the result, beside the base vault).
    """
    shared = base.vault.parent.parent  # beside the base vault, shared by the workers
    workdir = shared / f"calibrate-{name}"
    with (shared / "calibrate.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (workdir / "count").exists():
            _measure(base, workdir, member, args)
        changes, seconds, _ = (workdir / "count").read_text().split()
    return Calibration(int(changes), float(seconds))


def _measure(base: Base, workdir: Path, member: str, args: tuple[str, ...]) -> None:
    workdir.mkdir()
    copy = _copy(base, workdir)
    counted = workdir / "count.tmp"
    done = subprocess.run(
        _command(base, copy, member, args),
        capture_output=True,
        env=_environment(f"count:{counted}"),
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    shutil.rmtree(copy)
    counted.rename(workdir / "count")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def crash(
    base: Base,
    copy: Path,
    member: str,
    args: tuple[str, ...],
    seed: int,
    calibration: Calibration,
) -> Crash:
    """Run `vault ARGS` as MEMBER on COPY and SIGKILL it at the seed's crash point."""
    command = _command(base, copy, member, args)
    if draw(seed, "mode") < 0.5:
        at = 1 + int(draw(seed, "point") * (calibration.changes + 2))
        point = f"change {at} of {calibration.changes}"
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_environment(f"event:{at}"),
            start_new_session=True,
        )
    else:
        delay = draw(seed, "point") * calibration.seconds * 1.1
        point = f"{delay:.3f} s of {calibration.seconds:.3f} s"
        ready_read, ready_write = os.pipe()
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_environment(f"ready:{ready_write}"),
            start_new_session=True,
            pass_fds=(ready_write,),
        )
        os.close(ready_write)
        try:
            readable, _, _ = select.select([ready_read], [], [], TIMEOUT)
            if readable and os.read(ready_read, 1):
                time.sleep(delay)
                _kill_group(process)
        finally:
            os.close(ready_read)
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        _kill_group(process)
    killed = process.returncode == -signal.SIGKILL
    result = Outcome(process.returncode, stdout, stderr)
    assert not result.traceback, f"{point}: {result.describe()}"
    if not killed:
        assert result.code == 0, f"{point}: the uninterrupted run failed: {result.describe()}"
    return Crash(killed, point, result)


def alice(base: Base, copy: Path, *args: str | Path) -> Outcome:
    """Run a command as alice (admin, editor-in-chief; holds every collection)."""
    return as_member(copy, "alice", base.passphrase_files["alice"], *args)


def assert_consistent(base: Base, copy: Path, point: str) -> None:
    """`vault check --read-data` finds no damage (orphans allowed) and the audit log verifies."""
    checked = alice(base, copy, "check", "--read-data", "--json")
    assert checked.code == 0, f"{point}: {checked.describe()}"
    report = json.loads(checked.stdout)
    assert not report["problems"], f"{point}: {report}"
    assert report["ok"], point
    for warning in report["warnings"]:
        assert any(said in warning for said in CRASH_WARNINGS), f"{point}: {warning}"
    audited = alice(base, copy, "audit", "verify", "--json")
    assert audited.code == 0, f"{point}: {audited.describe()}"
    assert json.loads(audited.stdout)["ok"]


def _printed_json(stdout: bytes) -> Any:
    """What the command printed with --json, or None if it died before printing all of it."""
    try:
        return json.loads(stdout)
    except ValueError:
        return None


def assert_receipt_readable(base: Base, copy: Path, receipt: Any, point: str) -> None:
    """Every document a printed receipt names is in the catalog with its size, and a sample of
    them (the largest, an archive member, a mail part) reads back with the content checked in.

    `vault check --read-data`, run before this, has decrypted every document the catalog names
    and checked its address, so the sample adds `vault cat` itself, not coverage.
    """
    items = [i for i in receipt["items"] if i["oid"] and i["outcome"] in ("new", "duplicate")]
    assert items, f"{point}: the receipt stored nothing"
    listed = as_member(copy, "bob", base.passphrase_files["bob"], "ls", "--json")
    assert listed.code == 0, f"{point}: {listed.describe()}"
    sizes = {d["oid"]: d["size"] for d in json.loads(listed.stdout)}
    for item in items:
        assert sizes.get(item["oid"]) == item["size"], f"{point}: not in the catalog: {item}"
    largest = max(items, key=lambda i: i["size"])
    members = [i for i in items if i["container"]]
    sample = {i["oid"]: i for i in [largest, *members[:1], *members[-1:]]}
    for item in sample.values():
        shown = as_member(copy, "bob", base.passphrase_files["bob"], "cat", item["oid"])
        assert shown.code == 0, f"{point}: {item['path']}: {shown.describe()}"
        assert len(shown.stdout) == item["size"], f"{point}: {item['path']}"
        if hashlib.sha256(shown.stdout).hexdigest() not in base.known:
            # Only the message's text part is not a file of the source, byte for byte.
            assert (item["container"] or "").endswith("transfers.eml"), f"{point}: {item}"


@pytest.fixture(scope="module")
def checkin_calibration(base: Base) -> Calibration:
    return calibrate(base, "checkin", "bob", _checkin_args(base))


def _checkin_args(base: Base) -> tuple[str, ...]:
    return ("checkin", str(base.source), "--collection", "leak", "--source", "crash", "--json")


@pytest.mark.parametrize("seed", range(CHECKIN_SEEDS))
def test_checkin_killed_at_random(
    base: Base, checkin_calibration: Calibration, tmp_path: Path, seed: int
) -> None:
    copy = _copy(base, tmp_path)
    run = crash(base, copy, "bob", _checkin_args(base), seed, checkin_calibration)
    assert_consistent(base, copy, run.point)
    receipt = _printed_json(run.result.stdout)
    if receipt is not None:
        assert_receipt_readable(base, copy, receipt, run.point)
    if seed % 5 == 0:
        again = as_member(copy, "bob", base.passphrase_files["bob"], *_checkin_args(base))
        assert again.code == 0, f"{run.point}: check-in after the crash: {again.describe()}"
        assert_receipt_readable(base, copy, json.loads(again.stdout), run.point)


def _embargo_args(base: Base, seed: int, *, year: int = 2036) -> tuple[str, ...]:
    if seed % 2 == 0:
        until = f"{year}-0{1 + seed % 9}-1{seed % 10} 20:00"
        return ("embargo", "set", "leak", "--until", until, "--tz", "Europe/Paris",
                "--reason", "polls close", "--json")  # fmt: skip
    return ("embargo", "extend", base.embargoed, "--until", f"{year + 4}-05-07 18:00",
            "--tz", "UTC", "--json")  # fmt: skip


@pytest.fixture(scope="module")
def embargo_calibration(base: Base) -> Calibration:
    return calibrate(base, "embargo", "alice", _embargo_args(base, 0))


@pytest.mark.parametrize("seed", range(EMBARGO_SEEDS))
def test_embargo_change_killed_at_random(
    base: Base, embargo_calibration: Calibration, tmp_path: Path, seed: int
) -> None:
    copy = _copy(base, tmp_path)
    args = _embargo_args(base, seed)
    run = crash(base, copy, "alice", args, seed, embargo_calibration)
    assert_consistent(base, copy, run.point)
    target = args[2]
    printed = _printed_json(run.result.stdout)
    if printed is not None:
        shown = alice(base, copy, "embargo", "show", target, "--json")
        assert shown.code == 0, f"{run.point}: {shown.describe()}"
        held = [e for e in json.loads(shown.stdout) if e["target_id"] == printed["target_id"]]
        assert [e["until_utc"] for e in held] == [printed["until_utc"]], run.point
    again = alice(base, copy, *_embargo_args(base, seed, year=2041))
    assert again.code == 0, f"{run.point}: the change after the crash: {again.describe()}"


@pytest.fixture(scope="module")
def release_calibration(base: Base) -> Calibration:
    out = base.vault.parent.parent / "calibrate-release-out"  # beside the base vault
    return calibrate(base, "release", "dave", _release_args(base, out))


def _release_args(base: Base, out: Path) -> tuple[str, ...]:
    return ("release", "run", base.request, "--to", str(out))


def _assert_no_partial_bundle(base: Base, out: Path, point: str) -> list[Path]:
    """Only complete, verifying bundles under bundle names; returns them."""
    bundles = []
    for entry in sorted(out.iterdir()) if out.is_dir() else []:
        if entry.name.startswith(".release-") and ".partial-" in entry.name:
            continue  # the hidden temporary folder a crash leaves beside the bundle
        report = verify_bundle(entry)
        assert report.ok, f"{point}: {entry.name} is not a complete bundle: {report.problems}"
        assert report.files == base.released, point
        bundles.append(entry)
    return bundles


@pytest.mark.parametrize("seed", range(RELEASE_SEEDS))
def test_release_run_killed_at_random(
    base: Base, release_calibration: Calibration, tmp_path: Path, seed: int
) -> None:
    copy = _copy(base, tmp_path)
    out = tmp_path / "out"
    run = crash(base, copy, "dave", _release_args(base, out), seed, release_calibration)
    assert_consistent(base, copy, run.point)
    bundles = _assert_no_partial_bundle(base, out, run.point)
    printed = re.search(rb"^released \S+: (.+)$", run.result.stdout, re.MULTILINE)
    if printed is not None:
        assert [b.name for b in bundles] == [Path(printed.group(1).decode()).name], run.point
    listed = as_member(copy, "dave", base.passphrase_files["dave"], "release", "list", "--json")
    assert listed.code == 0, f"{run.point}: {listed.describe()}"
    (status,) = [r["status"] for r in json.loads(listed.stdout) if r["id"] == base.request]
    if status == "released":
        assert bundles, f"{run.point}: recorded as released, but no bundle"
    elif status == "due":
        # Killed before the release began: nothing left, and it can simply run again.
        assert not bundles, f"{run.point}: a bundle exists, but the request is still due"
        again = as_member(copy, "dave", base.passphrase_files["dave"], *_release_args(base, out))
        assert again.code == 0, f"{run.point}: the release after the crash: {again.describe()}"
        assert len(_assert_no_partial_bundle(base, out, run.point)) == 1
    else:
        # Killed while it ran: it never runs twice; whatever bundle it finished is complete.
        assert status == "interrupted", f"{run.point}: {status}"
