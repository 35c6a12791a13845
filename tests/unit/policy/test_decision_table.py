"""The shipped policies against the hand-written table: every action × role × embargo phase."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from vault.policy import Engine, Principal, Request, Resource

from .table import KINDS, ROLES, TABLE, cell

LIFT = datetime(2017, 5, 7, 18, 0, tzinfo=UTC)  # 20:00 in Paris: the polls close
SECOND = timedelta(seconds=1)
APPROVED: Mapping[str, int] = {"editor-in-chief": 1, "legal": 1}

# phase → (now, is the resource embargoed at that instant)
PHASES: dict[str, tuple[datetime, bool]] = {
    "a day before": (LIFT - timedelta(days=1), True),
    "one second before": (LIFT - SECOND, True),
    "at the lift": (LIFT, False),
    "one second after": (LIFT + SECOND, False),
}


def resource(kind: str, embargo: datetime | None) -> Resource:
    """A resource of `kind` held by `embargo` (a document through its collection)."""
    if kind == "Vault":
        return Resource.vault("newsroom")
    if kind == "Collection":
        return Resource.for_collection("macron-leaks", embargo)
    return Resource.for_document("doc-1", "macron-leaks", collection_embargo_until=embargo)


def ask(
    engine: Engine,
    roles: set[str],
    action: str,
    target: Resource,
    now: datetime,
    approvals: Mapping[str, int] = APPROVED,
    *,
    approvers: int | None = None,
    is_requester: bool = False,
) -> bool:
    """Whether a member with `roles` may; by default each approval is from a different person."""
    distinct = sum(approvals.values()) if approvers is None else approvers
    request = Request(
        Principal("m", frozenset(roles)), action, target, now, approvals, is_requester, distinct
    )
    return engine.decide(request).allowed


CASES = [
    pytest.param(action, role, kind, phase, id=f"{action}-{role}-{kind}-{phase}")
    for action in TABLE
    for role in ROLES
    for kind in KINDS[action]
    for phase in PHASES
]


@pytest.mark.parametrize(("action", "role", "kind", "phase"), CASES)
def test_decision_matches_table(
    engine: Engine, action: str, role: str, kind: str, phase: str
) -> None:
    now, embargoed = PHASES[phase]
    expected = {"Y": True, "-": False, "E": not embargoed}[cell(action, role)]
    target = resource(kind, LIFT if kind != "Vault" else None)
    assert ask(engine, {role}, action, target, now) is expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(TABLE))
def test_no_embargo_means_table_without_time(engine: Engine, action: str, role: str) -> None:
    kind = KINDS[action][0]
    expected = cell(action, role) != "-"
    assert ask(engine, {role}, action, resource(kind, None), LIFT) is expected


def test_table_covers_every_action(engine: Engine) -> None:
    assert set(TABLE) == set(engine.policies.applies_to)
    for action, kinds in KINDS.items():
        assert set(kinds) == set(engine.policies.applies_to[action]), action


# (editor-in-chief approvals, legal approvals) → may an editor run the release after the lift?
APPROVAL_TABLE: dict[tuple[int, int], bool] = {
    (0, 0): False,
    (0, 1): False,
    (0, 2): False,
    (1, 0): False,
    (1, 1): True,
    (1, 2): True,
    (2, 0): False,
    (2, 1): True,
    (2, 2): True,
}


@pytest.mark.parametrize(("chief", "legal"), sorted(APPROVAL_TABLE))
@pytest.mark.parametrize("kind", ["Collection", "Document"])
def test_release_approvals(engine: Engine, kind: str, chief: int, legal: int) -> None:
    approvals = {"editor-in-chief": chief, "legal": legal}
    target = resource(kind, LIFT)
    allowed = ask(engine, {"editor"}, "run-release", target, LIFT + SECOND, approvals)
    assert allowed is APPROVAL_TABLE[(chief, legal)]
    # Before the lift no number of approvals is enough.
    assert not ask(engine, {"editor"}, "run-release", target, LIFT - SECOND, approvals)


def test_one_person_holding_both_roles_is_not_two_approvals(engine: Engine) -> None:
    target = resource("Collection", None)
    assert not ask(engine, {"editor"}, "run-release", target, LIFT, APPROVED, approvers=1)
    assert ask(engine, {"editor"}, "run-release", target, LIFT, APPROVED, approvers=2)
    request = Request(
        Principal("m", frozenset({"editor"})), "run-release", target, LIFT, APPROVED, approvers=1
    )
    assert engine.decide(request).reasons == ("release-needs-two-approvers",)


def test_approvals_from_other_roles_do_not_count(engine: Engine) -> None:
    approvals = {"editor": 5, "admin": 3, "reporter": 9, "legal": 1}
    assert not ask(engine, {"editor"}, "run-release", resource("Collection", None), LIFT, approvals)


def test_release_refusal_names_the_rules(engine: Engine) -> None:
    request = Request(
        Principal("carol", frozenset({"editor"})),
        "run-release",
        resource("Collection", LIFT),
        LIFT - SECOND,
        {"legal": 1},
        approvers=1,
    )
    decision = engine.decide(request)
    assert not decision.allowed
    assert set(decision.reasons) == {
        "release-not-before-embargo",
        "release-needs-approvals",
        "release-needs-two-approvers",
    }


@pytest.mark.parametrize("role", ["editor-in-chief", "legal"])
def test_nobody_approves_their_own_request(engine: Engine, role: str) -> None:
    target = resource("Collection", LIFT)
    assert ask(engine, {role}, "approve-release", target, LIFT - SECOND)
    assert not ask(engine, {role}, "approve-release", target, LIFT - SECOND, is_requester=True)


def test_document_embargo_is_the_later_of_its_own_and_its_collection(engine: Engine) -> None:
    later = LIFT + timedelta(hours=2)
    own_later = Resource.for_document("d", "c", embargo_until=later, collection_embargo_until=LIFT)
    own_earlier = Resource.for_document(
        "d", "c", embargo_until=LIFT, collection_embargo_until=later
    )
    for target in (own_later, own_earlier):
        assert target.effective_embargo == later
        assert not ask(engine, {"editor"}, "run-release", target, later - SECOND)
        assert ask(engine, {"editor"}, "run-release", target, later)


def test_multiple_roles_combine(engine: Engine) -> None:
    target = resource("Collection", None)
    assert not ask(engine, {"intake"}, "read", target, LIFT)
    assert ask(engine, {"intake", "legal"}, "read", target, LIFT)
    assert ask(engine, {"admin", "editor-in-chief"}, "export-identity", target, LIFT)


def test_member_without_roles_gets_nothing(engine: Engine) -> None:
    for action, kinds in KINDS.items():
        for kind in kinds:
            assert not ask(engine, set(), action, resource(kind, None), LIFT), action
