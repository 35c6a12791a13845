"""The permission matrix: every governed command × every role of the shipped policies, at the CLI.

`EXPECTED` is the specification, written by reading `policies/newsroom.cedar` (not by asking the
engine): 0 where a rule permits the role and no `forbid` applies, 3 (refused) everywhere else.
Each cell runs the real `vault` command as a member holding exactly one role, against one vault in
which every role member holds the collections, and asserts the exact exit code.

Commands that change something act on a target of their own per role (a document to mark, one
to embargo, a member to grant and one to remove, a release request to run…), so the cells are
independent of the order they run in. The cells run in this process through the real entry point
(`tests.security.invoke`); `test_cells_agree_through_a_real_subprocess` runs one cell per role
through a real `vault` process to show the two are the same command.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.security.invoke import Outcome, as_member
from tests.security.shared import built_once
from tests.vaults import run_cli
from vault.policy import shipped_policy_dir
from vault.service import Vault

ROLES = ("admin", "editor-in-chief", "editor", "legal", "reporter", "intake")
_A, _C, _E, _L, _R, _I = ROLES

# Who the shipped policies let do what (policies/newsroom.cedar, read by hand):
#   reporter-review, editor-review, editor-in-chief-review: checkin read search mark tag
#   legal-review: read search · intake-checkin: checkin
#   editor-desk, editor-in-chief-desk: set-embargo request-release run-release grant revoke
#   editor-in-chief-lifts-embargo · release-approvers: editor-in-chief, legal
#   admin-members: manage-members · policy-changers, time-confirmers: admin, editor-in-chief
#   editor-in-chief-exports-identity
# Creating a collection is asked as `checkin` on it; a note is asked as `mark`. The release
# requests run here are approved by an editor-in-chief and a legal member (neither the
# requester) and hold no embargo, so no `forbid` applies to them.
REVIEWERS = {_C, _E, _R}
READERS = REVIEWERS | {_L}
CHECKIN = REVIEWERS | {_I}
DESK = {_C, _E}
CHANGERS = {_A, _C}
EXPECTED: dict[str, set[str]] = {
    "member add": {_A},
    "member remove": {_A},
    "collection create": CHECKIN,
    "collection grant": DESK,
    "collection revoke": DESK,
    "collection export-identity": {_C},
    "checkin": CHECKIN,
    "ls": READERS,
    "show": READERS,
    "cat": READERS,
    "embargo show": READERS,
    "search": READERS,
    "mark": REVIEWERS,
    "note": REVIEWERS,
    "tag": REVIEWERS,
    "embargo set": DESK,
    "embargo extend": DESK,
    "embargo lift": {_C},
    "policy apply": CHANGERS,
    "time confirm": CHANGERS,
    "time quorum": CHANGERS,
    "release request": DESK,
    "release approve": {_C, _L},
    "release run": DESK,
}


def member(role: str) -> str:
    """The member holding exactly this one role."""
    return "m-" + role


def target(role: str) -> str:
    """A member whose only purpose is to be granted and revoked by `role`'s cells."""
    return "t-" + role


def removable(role: str) -> str:
    """A member only `role`'s removal cell acts on, so no other cell depends on its order."""
    return "r-" + role


def secret(name: str) -> bytes:
    return f"{name} passphrase".encode()


@dataclass(frozen=True)
class World:
    """The matrix vault (this worker's copy) and the per-role targets in it."""

    root: Path
    docs: dict[str, str]  # document name -> id
    requests: dict[str, str]  # "approve" and "run-<role>" -> release request id

    @property
    def vault(self) -> Path:
        return self.root / "vault"

    def passphrase(self, name: str) -> Path:
        return self.root / "secrets" / f"{name}.pass"

    def doc(self, purpose: str, role: str) -> str:
        return self.docs[f"{purpose}-{role}.txt"]


def _build(root: Path) -> None:
    secrets_dir = root / "secrets"
    secrets_dir.mkdir()
    founder = "founder"
    names = [
        founder,
        *(member(r) for r in ROLES),
        *(target(r) for r in ROLES),
        *(removable(r) for r in ROLES),
    ]
    for name in names:
        (secrets_dir / f"{name}.pass").write_bytes(secret(name))
    material = root / "material"
    material.mkdir()
    for purpose in ("read", "mark", "note", "tag", "set", "extend", "lift", "release"):
        for role in ROLES:
            (material / f"{purpose}-{role}.txt").write_text(f"{purpose} by {role}\n")
    checkins = root / "checkins"
    checkins.mkdir()
    for role in ROLES:
        (checkins / f"checkin-{role}.txt").write_text(f"checked in by {role}\n")
    for role in ROLES:
        policies = root / f"policies-{role}"
        shutil.copytree(shipped_policy_dir(), policies)
        with (policies / "newsroom.cedar").open("a") as extra:
            extra.write(f"\n// Applied by {role}: same rules, a new version.\n")
    until = datetime.now(UTC) + timedelta(days=365)
    with Vault.init(root / "vault", founder, secret(founder)) as vault:
        for role in ROLES:
            vault.add_member(member(role), [role], secret(member(role)))
            vault.add_member(target(role), ["reporter"], secret(target(role)))
            vault.add_member(removable(role), ["reporter"], secret(removable(role)))
        vault.create_collection("leak", "the matrix")
        vault.create_collection("pool", "granted and revoked by the cells")
        for role in ROLES:
            vault.grant("leak", member(role))
            vault.grant("pool", member(role))
            vault.grant("pool", target(role))
        vault.check_in([material], collection="leak", source="matrix")
        docs = {d.name: d.oid for d in vault.documents("leak")}
        for role in ROLES:
            for purpose in ("extend", "lift"):
                vault.set_embargo(
                    docs[f"{purpose}-{role}.txt"], until=until, zone="UTC", reason="held"
                )
        requests = {"approve": vault.request_release("leak", reason="to approve").id}
        for role in ROLES:
            requests[f"run-{role}"] = vault.request_release(
                "leak", documents=[docs[f"release-{role}.txt"]], reason=f"run by {role}"
            ).id
    for approver in (member(_C), member(_L)):
        with Vault.open(root / "vault", approver, secret(approver)) as approving:
            for role in ROLES:
                approving.approve_release(requests[f"run-{role}"])
    lines = [f"doc {name} {oid}" for name, oid in docs.items()]
    lines += [f"request {key} {ident}" for key, ident in requests.items()]
    (root / "world.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """This worker's own copy of the matrix vault (two workers must not write one vault)."""
    built = built_once(tmp_path_factory, "permission-matrix", _build)
    root = tmp_path_factory.mktemp("matrix")
    for part in ("vault", "secrets", "checkins"):
        shutil.copytree(built / part, root / part)
    for role in ROLES:
        shutil.copytree(built / f"policies-{role}", root / f"policies-{role}")
    docs: dict[str, str] = {}
    requests: dict[str, str] = {}
    for line in (built / "world.txt").read_text().splitlines():
        kind, key, value = line.split(" ")
        (docs if kind == "doc" else requests)[key] = value
    return World(root, docs, requests)


UNTIL = ("--tz", "UTC")
Command = Callable[[World, str], tuple[str, ...]]
COMMANDS: dict[str, Command] = {
    "member add": lambda w, r: (
        "member", "add", f"new-{r}", "--role", "reporter",
        "--new-passphrase-file", str(w.passphrase("founder")),
    ),
    "member remove": lambda w, r: ("member", "remove", removable(r)),
    "collection create": lambda w, r: ("collection", "create", f"made-by-{r}"),
    "collection grant": lambda w, r: ("collection", "grant", "leak", target(r)),
    "collection revoke": lambda w, r: ("collection", "revoke", "pool", target(r)),
    "collection export-identity": lambda w, r: ("collection", "export-identity", "leak"),
    "checkin": lambda w, r: (
        "checkin", str(w.root / "checkins" / f"checkin-{r}.txt"), "--collection", "leak",
    ),
    "ls": lambda w, r: ("ls", "--collection", "leak"),
    "show": lambda w, r: ("show", w.doc("read", r)),
    "cat": lambda w, r: ("cat", w.doc("read", r)),
    "embargo show": lambda w, r: ("embargo", "show", "leak"),
    "search": lambda w, r: ("search", "read", "--collection", "leak"),
    "mark": lambda w, r: ("mark", w.doc("mark", r), "--status", "in-review"),
    "note": lambda w, r: ("note", w.doc("note", r), "seen in a second source"),
    "tag": lambda w, r: ("tag", w.doc("tag", r), "ledger"),
    "embargo set": lambda w, r: (
        "embargo", "set", w.doc("set", r), "--until", "2040-01-01 12:00", *UNTIL,
        "--reason", "court order",
    ),
    "embargo extend": lambda w, r: (
        "embargo", "extend", w.doc("extend", r), "--until", "2041-01-01 12:00", *UNTIL,
    ),
    "embargo lift": lambda w, r: ("embargo", "lift", w.doc("lift", r)),
    "policy apply": lambda w, r: ("policy", "apply", str(w.root / f"policies-{r}")),
    "time confirm": lambda w, r: ("time", "confirm"),
    "time quorum": lambda w, r: ("time", "quorum", "2"),
    "release request": lambda w, r: (
        "release", "request", "--collection", "leak", "--doc", w.doc("release", r),
        "--reason", f"asked by {r}",
    ),
    "release approve": lambda w, r: ("release", "approve", w.requests["approve"], "--yes"),
    "release run": lambda w, r: (
        "release", "run", w.requests[f"run-{r}"], "--to", str(w.root / f"out-{r}"),
    ),
}  # fmt: skip


def test_the_table_covers_every_command_and_role() -> None:
    assert set(COMMANDS) == set(EXPECTED)
    for allowed in EXPECTED.values():
        assert allowed <= set(ROLES)


def cell(world: World, action: str, role: str) -> Outcome:
    name = member(role)
    return as_member(world.vault, name, world.passphrase(name), *COMMANDS[action](world, role))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(EXPECTED))
def test_cell(world: World, action: str, role: str) -> None:
    expected = 0 if role in EXPECTED[action] else 3
    result = cell(world, action, role)
    assert not result.traceback, result.describe()
    assert result.code == expected, f"{role} {action}: {result.describe()}"
    if expected == 3:
        assert b"vault: error: " in result.stderr, result.describe()


@pytest.mark.parametrize("role", ROLES)
def test_cells_agree_through_a_real_subprocess(world: World, role: str) -> None:
    """The in-process runs are the real command: one read cell per role in a fresh process."""
    name = member(role)
    env = {"VAULT_DIR": str(world.vault), "VAULT_MEMBER": name}
    env["VAULT_PASSPHRASE_FILE"] = str(world.passphrase(name))
    result = run_cli("ls", "--collection", "leak", env=env)
    assert b"Traceback" not in result.stderr
    assert result.returncode == (0 if role in EXPECTED["ls"] else 3), result.stderr
