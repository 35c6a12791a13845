"""The policy engine in the vault, in-process with an injected clock (DESIGN §2.4, §8).

One vault is built per module and copied for each test: alice (admin, editor-in-chief), bob
(reporter), carol (legal), dana (editor-in-chief), erin (editor), ivan (intake); collection `leak`
held by alice, bob, erin and ivan, with one document in it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from vault.catalog.governance import EmbargoRow, PolicyVersion
from vault.clock import FixedClock
from vault.errors import IntegrityError, Refused, UsageError
from vault.policy import ClockRolledBack, PolicyDenied, PolicyError, PolicySet, shipped_policy_dir
from vault.policy.policyset import digest_texts
from vault.service import Vault
from vault.service.governance import PolicyUnavailable, record_version

START = datetime(2017, 5, 5, 12, 0, tzinfo=UTC)
SHIPPED = PolicySet.load(shipped_policy_dir())
MEMBERS = {
    "bob": ["reporter"],
    "carol": ["legal"],
    "dana": ["editor-in-chief"],
    "erin": ["editor"],
    "ivan": ["intake"],
}
PASS = {name: f"{name} passphrase".encode() for name in ["alice", *MEMBERS]}


@dataclass
class Governed:
    """A copy of the module's vault and the clock every member opens it with."""

    path: Path
    clock: FixedClock
    doc: str

    def open(self, member: str) -> Vault:
        return Vault.open(self.path, member, PASS[member], clock=self.clock)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("governed")
    path = root / "vault"
    with Vault.init(path, "alice", PASS["alice"], clock=FixedClock(START)) as vault:
        for name, roles in MEMBERS.items():
            vault.add_member(name, roles, PASS[name])
        vault.create_collection("leak", "test material")
        for name in ("bob", "erin", "ivan"):
            vault.grant("leak", name)
        memo = root / "memo.txt"
        memo.write_text("the memo\n")
        receipt = vault.check_in([memo], collection="leak", source="tests")
    oid = receipt.items[0].oid
    assert oid is not None
    return path, oid


@pytest.fixture
def governed(pristine: tuple[Path, str], tmp_path: Path) -> Governed:
    path, oid = pristine
    shutil.copytree(path, tmp_path / "vault")
    return Governed(tmp_path / "vault", FixedClock(START + timedelta(hours=1)), oid)


@pytest.fixture
def as_member(governed: Governed) -> Iterator[Callable[[str], Vault]]:
    opened: dict[str, Vault] = {}

    def get(member: str) -> Vault:
        if member not in opened:
            opened[member] = governed.open(member)
        return opened[member]

    yield get
    for vault in opened.values():
        vault.close()


def _actions(vault: Vault, actor: str) -> list[tuple[str, str]]:
    return [
        (e.action, str(e.details.get("action", "")))
        for e in vault.audit_entries()
        if e.actor == actor
    ]


def test_a_reporter_cannot_grant_export_or_manage_members(
    as_member: Callable[[str], Vault],
) -> None:
    bob = as_member("bob")
    refusals: list[Callable[[], object]] = [
        lambda: bob.grant("leak", "carol"),
        lambda: bob.revoke("leak", "erin"),
        lambda: bob.export_identity("leak"),
        lambda: bob.add_member("mallory", ["admin"], b"x"),
        lambda: bob.remove_member("carol"),
        lambda: bob.apply_policies(shipped_policy_dir()),
        lambda: bob.confirm_time(),
    ]
    for attempt in refusals:
        with pytest.raises(PolicyDenied) as caught:
            attempt()
        assert isinstance(caught.value, Refused)
        assert caught.value.exit_code == 3
        assert "bob (reporter)" in caught.value.message
        assert "no policy permits it" in caught.value.message
    alice = as_member("alice")
    assert [m.name for m in alice.members()] == ["alice", *MEMBERS]
    leak = next(c for c in alice.collections() if c.name == "leak")
    assert "carol" not in leak.members
    assert "erin" in leak.members
    refused = [action for what, action in _actions(alice, "bob") if what == "refused"]
    assert refused == [
        "grant",
        "revoke",
        "export-identity",
        "manage-members",
        "manage-members",
        "change-policy",
        "confirm-time",
    ]


def test_policy_filters_reading_beyond_the_key(as_member: Callable[[str], Vault]) -> None:
    """Intake staff hold the collection key to check in, but the policy does not let them read."""
    ivan = as_member("ivan")
    assert ivan.documents() == [], "ls lists only collections the policy lets you read"
    with pytest.raises(PolicyDenied):
        ivan.documents("leak")
    with pytest.raises(PolicyDenied):
        ivan.show(as_member("alice").documents()[0].oid)
    assert [d.name for d in as_member("bob").documents()] == ["memo.txt"]


def test_a_broken_active_policy_set_refuses_rather_than_allows(
    governed: Governed, as_member: Callable[[str], Vault]
) -> None:
    alice = as_member("alice")
    texts = dict(SHIPPED.text_by_file)
    texts["newsroom.cedar"] += (
        '\n// Looks harmless, but compares a datetime with a string.\n@id("broken")\n'
        'forbid (principal, action == Action::"export-identity", resource)\n'
        'when { context.now < "tomorrow" };\n'
    )
    broken_line = texts["newsroom.cedar"].count("\n")
    # Stored as the next version by a member allowed to (bypassing validation, as damage would).
    record_version(alice._ctx, texts, version=2)
    for attempt in (
        lambda: alice.export_identity("leak"),
        lambda: alice.grant("leak", "carol"),
        lambda: as_member("bob").documents(),
        lambda: alice.set_embargo("leak", "2017-05-07 20:00", zone="Europe/Paris", reason="x"),
    ):
        with pytest.raises(PolicyUnavailable) as caught:
            attempt()
        assert caught.value.exit_code == 3
        assert "version 2) is invalid" in caught.value.message
        assert f"newsroom.cedar:{broken_line}" in caught.value.message
    # An admin can still replace it with a valid set (the roster is the root of trust).
    change = alice.apply_policies(shipped_policy_dir())
    assert (change.version, change.recovery) == (3, True)
    assert '-when { context.now < "tomorrow" };' in change.diff
    assert "AGE-SECRET-KEY-1" in alice.export_identity("leak")


def test_a_version_that_does_not_verify_is_refused(
    governed: Governed, as_member: Callable[[str], Vault]
) -> None:
    alice, bob = as_member("alice"), as_member("bob")
    # A member with the vault key rewrites version 1 to let reporters export identities.
    with Session(alice._ctx.db) as session:
        row = session.get(PolicyVersion, 1)
        assert row is not None
        files = json.loads(row.files_json)
        files["newsroom.cedar"] += (
            '\n// Sneaked in.\n@id("sneak")\npermit (principal in Role::"reporter", '
            'action == Action::"export-identity", resource);\n'
        )
        row.files_json = json.dumps(files, sort_keys=True, ensure_ascii=False)
        row.digest = digest_texts(files)
        session.add(row)
        session.commit()
    with pytest.raises(PolicyUnavailable, match="signature does not verify"):
        bob.export_identity("leak")
    with pytest.raises(PolicyUnavailable):
        alice.grant("leak", "carol")


def test_a_version_signed_by_someone_not_allowed_is_refused(
    governed: Governed, as_member: Callable[[str], Vault]
) -> None:
    bob = as_member("bob")
    texts = dict(SHIPPED.text_by_file)
    texts["newsroom.cedar"] = texts["newsroom.cedar"].replace(
        'Role::"editor-in-chief", action == Action::"export-identity"',
        'Role::"reporter", action == Action::"export-identity"',
    )
    record_version(bob._ctx, texts, version=2)  # validly signed, by a reporter
    with pytest.raises(PolicyUnavailable, match="bob, whom neither the roster"):
        bob.export_identity("leak")


def test_apply_shows_a_diff_and_refuses_a_lockout(
    governed: Governed, as_member: Callable[[str], Vault], tmp_path: Path
) -> None:
    dana = as_member("dana")  # editor-in-chief, not an admin
    copy = tmp_path / "policies"
    shutil.copytree(shipped_policy_dir(), copy)
    assert not dana.apply_policies(copy).changed
    newsroom = copy / "newsroom.cedar"
    text = newsroom.read_text()
    newsroom.write_text(text.replace('"release-approvers"', '"approvers"'))
    change = dana.apply_policies(copy)
    assert (change.changed, change.version, change.recovery) == (True, 2, False)
    assert '-@id("release-approvers")\n+@id("approvers")' in change.diff
    shown = as_member("bob").policy()
    assert (shown.version, shown.signer, shown.digest) == (2, "dana", change.digest)
    assert [v.version for v in shown.history] == [1, 2]
    newsroom.write_text(
        text.replace(
            'when { principal in Role::"admin" || principal in Role::'
            '"editor-in-chief" };\n\n// Only',
            "when { false };\n\n// Only",
        )
    )
    with pytest.raises(UsageError, match="no active member could change the policy"):
        dana.apply_policies(copy)
    (copy / "newsroom.cedar").write_text("permit (principal, action, resource)")
    with pytest.raises(PolicyError):
        dana.apply_policies(copy)
    assert as_member("alice").policy().version == 2


def test_clock_rollback_needs_two_permitted_confirmations(
    governed: Governed, as_member: Callable[[str], Vault]
) -> None:
    alice, bob, dana = as_member("alice"), as_member("bob"), as_member("dana")
    clock = governed.clock

    def extend(hours: int) -> None:
        alice.extend_embargo("leak", START + timedelta(days=3, hours=hours), zone="Europe/Paris")

    alice.set_embargo("leak", "2017-05-07 20:00", zone="Europe/Paris", reason="polls close")
    clock.advance(timedelta(hours=2))
    extend(1)
    clock.advance(timedelta(hours=-1))
    with pytest.raises(ClockRolledBack) as caught:
        extend(2)
    assert caught.value.exit_code == 3
    assert "2 more member(s)" in (caught.value.hint or "")
    # Reading still works and is logged with the rolled-back time; that must not hide the
    # entry that is ahead of the clock.
    bob.documents()
    with pytest.raises(ClockRolledBack):
        extend(2)
    assert not alice.confirm_time().clear
    with pytest.raises(ClockRolledBack):
        extend(2)
    with pytest.raises(PolicyDenied):
        bob.confirm_time()
    # Even written straight into the log, a reporter's confirmation does not count.
    bob._ctx.audit("time-confirm", "", {"confirmed": clock.now().isoformat()})
    assert alice.clock_status().confirmed_by == ("alice",)
    with pytest.raises(ClockRolledBack):
        extend(2)
    status = dana.confirm_time()
    assert status.clear
    assert status.confirmed_by == ("alice", "dana")
    extend(2)
    # Back behind the confirmations themselves: the guard trips again.
    clock.advance(timedelta(hours=-1))
    with pytest.raises(ClockRolledBack):
        alice.lift_embargo("leak")
    actions = [e.action for e in alice.audit_entries()]
    assert actions.count("clock-refused") == 5


def test_embargo_rules(governed: Governed, as_member: Callable[[str], Vault]) -> None:
    alice, erin, bob = as_member("alice"), as_member("erin"), as_member("bob")
    doc = governed.doc[:10]
    erin.set_embargo("leak", "2017-05-07 20:00", zone="Europe/Paris", reason="polls close")
    with pytest.raises(UsageError, match="only be stricter than its collection"):
        erin.set_embargo(doc, "2017-05-07 19:00", zone="Europe/Paris", reason="earlier")
    held = erin.set_embargo(doc, "2017-05-08 09:00", zone="America/New_York", reason="source")
    assert (held.kind, held.utc) == ("document", "2017-05-08 13:00 UTC")
    # Moving an embargo earlier is a partial lift: an editor may not, the editor-in-chief may.
    with pytest.raises(PolicyDenied, match="erin \\(editor\\) to lift-embargo"):
        erin.set_embargo("leak", "2017-05-07 19:00", zone="Europe/Paris", reason="earlier")
    with pytest.raises(UsageError, match="extend only moves an embargo later"):
        erin.extend_embargo("leak", "2017-05-07 19:00", zone="Europe/Paris")
    with pytest.raises(PolicyDenied):
        erin.lift_embargo("leak")
    with pytest.raises(PolicyDenied):
        bob.set_embargo("leak", "2017-05-09 20:00", zone="Europe/Paris", reason="x")
    with pytest.raises(UsageError, match="already passed"):
        erin.set_embargo("leak", "2017-05-01 20:00", zone="Europe/Paris", reason="x")
    shown = {v.kind: v for v in bob.embargoes()}
    assert shown["collection"].local == "2017-05-07 20:00 CEST (UTC+02:00) Europe/Paris"
    assert shown["document"].name == "memo.txt"
    assert shown["document"].holds
    lifted = alice.lift_embargo("leak")
    assert lifted.reason == "polls close"
    assert [v.kind for v in bob.embargoes()] == ["document"]
    entries = [(e.action, e.actor) for e in alice.audit_entries() if e.action.startswith("embargo")]
    assert entries == [("embargo-set", "erin"), ("embargo-set", "erin"), ("embargo-lift", "alice")]


def test_a_tampered_embargo_fails_closed(
    governed: Governed, as_member: Callable[[str], Vault]
) -> None:
    alice, bob = as_member("alice"), as_member("bob")
    view = alice.set_embargo("leak", "2017-05-07 20:00", zone="Europe/Paris", reason="polls")
    with Session(alice._ctx.db) as session:
        row = session.get(EmbargoRow, ("collection", view.target_id))
        assert row is not None
        row.until_utc = "2017-05-05T14:00:00+00:00"  # lifted early, behind the desk's back
        session.add(row)
        session.commit()
    with pytest.raises(IntegrityError, match="not signed by the member it names"):
        bob.documents("leak")
    with pytest.raises(IntegrityError):
        alice.lift_embargo("leak")
