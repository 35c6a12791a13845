"""Random requests never get more than the table gives their roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault.policy import Engine, Principal, Request, Resource

from .table import KINDS, ROLES, TABLE, ever_allowed

BASE = datetime(2017, 5, 7, 18, 0, tzinfo=UTC)
instants = st.integers(min_value=-(10**7), max_value=10**7).map(
    lambda s: BASE + timedelta(seconds=s)
)
maybe_instants = st.none() | instants
names = st.text(min_size=1, max_size=20)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    action = draw(st.sampled_from(sorted(TABLE)))
    kind = draw(st.sampled_from(KINDS[action]))
    if kind == "Vault":
        resource = Resource.vault(draw(names))
    elif kind == "Collection":
        resource = Resource.for_collection(draw(names), draw(maybe_instants))
    else:
        resource = Resource.for_document(
            draw(names), draw(names), draw(maybe_instants), draw(maybe_instants)
        )
    approvals = draw(st.dictionaries(st.sampled_from(ROLES), st.integers(0, 3)))
    # Between "every approver holds every counted role" and "each holds one".
    least = max(approvals.values(), default=0)
    approvers = draw(st.integers(least, max(least, sum(approvals.values()))))
    return Request(
        principal=Principal(draw(names), frozenset(draw(st.sets(st.sampled_from(ROLES))))),
        action=action,
        resource=resource,
        now=draw(instants),
        approvals=approvals,
        is_requester=draw(st.booleans()),
        approvers=approvers,
    )


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=requests())
def test_never_more_than_the_table(engine: Engine, request: Request) -> None:
    decision = engine.decide(request)
    if decision.allowed:
        assert ever_allowed(request.action, request.principal.roles), decision.explain()
        assert not decision.errors


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=requests())
def test_intake_only_ever_checks_in(engine: Engine, request: Request) -> None:
    intake = Request(
        Principal(request.principal.member, frozenset({"intake"})),
        request.action,
        request.resource,
        request.now,
        request.approvals,
        request.is_requester,
        request.approvers,
    )
    assert engine.decide(intake).allowed is (request.action == "checkin")


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=requests())
def test_no_release_before_the_embargo_or_without_approvals(
    engine: Engine, request: Request
) -> None:
    release = Request(
        request.principal,
        "run-release",
        request.resource if request.resource.kind != "Vault" else Resource.for_collection("c"),
        request.now,
        request.approvals,
        request.is_requester,
        request.approvers,
    )
    if engine.decide(release).allowed:
        embargo = release.resource.effective_embargo
        assert embargo is None or release.now >= embargo
        assert release.approvals.get("editor-in-chief", 0) >= 1
        assert release.approvals.get("legal", 0) >= 1
        assert release.approvers >= 2
