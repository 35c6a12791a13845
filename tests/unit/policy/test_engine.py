"""The engine never fails open, names what decided, and rejects malformed requests loudly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import cedarpy
import pytest

from vault.errors import AccessDenied, Refused, UsageError
from vault.policy import (
    Decision,
    Engine,
    PolicyDenied,
    PolicySet,
    Principal,
    Request,
    Resource,
    effective_embargo,
)
from vault.policy.cedarjson import cedar_datetime, to_cedar

LIFT = datetime(2017, 5, 7, 18, 0, tzinfo=UTC)
REPORTER = Principal("rita", frozenset({"reporter"}))
EDITOR = Principal("carol", frozenset({"editor"}))
APPROVED = {"editor-in-chief": 1, "legal": 1}

# Validates against the schema, but overflows (an evaluation error) when a legal approval exists.
ERRORING_FORBID = """
// Refuses reading once legal has approved anything, by a condition that cannot be evaluated.
@id("overflowing-forbid")
forbid (principal, action == Action::"read", resource)
when { context.approvals["legal"] + 9223372036854775807 < 0 };
"""


def read_request(approvals: dict[str, int]) -> Request:
    target = Resource.for_collection("c")
    return Request(REPORTER, "read", target, LIFT, approvals, approvers=sum(approvals.values()))


def test_an_erroring_forbid_denies(policy_copy: Path) -> None:
    (policy_copy / "zz-erroring.cedar").write_text(ERRORING_FORBID)
    policies = PolicySet.load(policy_copy)  # it validates: the error only shows at run time
    engine = Engine(policies)
    assert engine.decide(read_request({})).allowed  # no overflow: reporters may read

    decision = engine.decide(read_request({"legal": 1}))
    assert not decision.allowed
    assert decision.errors
    assert "overflow" in decision.errors[0]
    assert "`overflowing-forbid` (zz-erroring.cedar:" in decision.errors[0]
    assert "an error always refuses" in decision.explain()

    # Cedar on its own skips the erroring forbid and allows: the hazard the engine closes.
    cedar_request, entities = to_cedar(read_request({"legal": 1}), policies.roles)
    raw = cedarpy.is_authorized(
        cedar_request, policies.cedar_policies, entities, schema=policies.cedar_schema
    )
    assert raw.allowed
    assert raw.diagnostics.errors


class _FakeResult:
    def __init__(self, decision: cedarpy.Decision) -> None:
        self.decision = decision
        self.diagnostics = cedarpy.Diagnostics({"reason": [], "errors": []})


@pytest.mark.parametrize("outcome", ["no decision", "exception"])
def test_no_decision_or_exception_denies(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, outcome: str
) -> None:
    def fake(*args: Any, **kwargs: Any) -> _FakeResult:
        if outcome == "exception":
            raise RuntimeError("engine on fire")
        return _FakeResult(cedarpy.Decision.NoDecision)

    monkeypatch.setattr(cedarpy, "is_authorized", fake)
    decision = engine.decide(read_request({}))
    assert not decision.allowed
    assert decision.errors


def test_decision_reasons_are_policy_ids(engine: Engine) -> None:
    decision = engine.decide(read_request({}))
    assert decision == Decision(
        True,
        reasons=("reporter-review",),
        notes=decision.notes,
        asked="rita (reporter) to read collection c",
        facts=decision.facts,
    )
    assert decision.notes[0].startswith("reporter-review (newsroom.cedar:")
    assert "allowed: rita (reporter) to read collection c" in decision.explain()


def test_default_deny_has_no_reasons(engine: Engine) -> None:
    intake = Principal("ivan", frozenset({"intake"}))
    decision = engine.decide(Request(intake, "read", Resource.for_collection("c"), LIFT))
    assert (decision.allowed, decision.reasons, decision.errors) == (False, (), ())
    assert "no policy permits it" in decision.explain()


def test_require_raises_refused_with_explanation_and_hint(engine: Engine) -> None:
    request = Request(
        EDITOR,
        "run-release",
        Resource.for_collection("c", LIFT),
        LIFT - timedelta(hours=1),
        APPROVED,
        approvers=2,
    )
    with pytest.raises(PolicyDenied) as caught:
        engine.require(request)
    error = caught.value
    assert isinstance(error, AccessDenied)
    assert isinstance(error, Refused)
    assert error.exit_code == 3
    assert error.decision.reasons == ("release-not-before-embargo",)
    assert "forbidden by release-not-before-embargo" in error.message
    assert "embargo until 2017-05-07 18:00:00 UTC" in error.message
    assert (
        error.hint
        == "`vault policy explain run-release --for carol --on c` shows the rules that apply"
    )


def test_require_returns_the_allowing_decision(engine: Engine) -> None:
    request = Request(
        EDITOR, "run-release", Resource.for_collection("c", LIFT), LIFT, APPROVED, approvers=2
    )
    assert engine.require(request).reasons == ("editor-desk",)


def test_unknown_action_is_a_usage_error(engine: Engine) -> None:
    with pytest.raises(UsageError, match="unknown action `publish`"):
        engine.decide(Request(EDITOR, "publish", Resource.for_collection("c"), LIFT))


def test_action_on_the_wrong_kind_of_resource_is_a_usage_error(engine: Engine) -> None:
    with pytest.raises(UsageError, match="`checkin` does not apply to a vault"):
        engine.decide(Request(EDITOR, "checkin", Resource.vault("v"), LIFT))


@pytest.mark.parametrize(
    "request_",
    [
        Request(
            Principal("x", frozenset({"stringer"})), "read", Resource.for_collection("c"), LIFT
        ),
        Request(EDITOR, "run-release", Resource.for_collection("c"), LIFT, {"intern": 1}),
        Request(EDITOR, "run-release", Resource.for_collection("c"), LIFT, {"legal": -1}),
        Request(
            EDITOR, "run-release", Resource.for_collection("c"), LIFT, {"legal": 2}, approvers=1
        ),
        Request(EDITOR, "read", Resource("Document", "d", None), LIFT),
        Request(EDITOR, "search", Resource("Vault", "v", embargo_until=LIFT), LIFT),
    ],
    ids=[
        "unknown role",
        "unknown approving role",
        "negative count",
        "too few approvers",
        "orphan document",
        "vault embargo",
    ],
)
def test_malformed_requests_are_usage_errors(engine: Engine, request_: Request) -> None:
    with pytest.raises(UsageError):
        engine.decide(request_)


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Request(EDITOR, "read", Resource.for_collection("c"), datetime(2017, 5, 7, 18, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        Resource.for_collection("c", datetime(2017, 5, 7, 18, 0))


def test_sub_millisecond_instants_never_lift_early(engine: Engine) -> None:
    # Cedar keeps milliseconds: `now` rounds down and the embargo up, so a microsecond early is
    # early. The price: an embargo set between two milliseconds lifts at the later one.
    lift = LIFT + timedelta(microseconds=1500)
    target = Resource.for_collection("c", lift)
    for now in (lift - timedelta(microseconds=1), lift, LIFT + timedelta(microseconds=1999)):
        assert not engine.decide(
            Request(EDITOR, "run-release", target, now, APPROVED, approvers=2)
        ).allowed
    at_next_millisecond = LIFT + timedelta(milliseconds=2)
    assert engine.decide(
        Request(EDITOR, "run-release", target, at_next_millisecond, APPROVED, approvers=2)
    ).allowed
    assert cedar_datetime(lift)["__extn"]["arg"] == "2017-05-07T18:00:00.001Z"
    assert cedar_datetime(lift, round_up=True)["__extn"]["arg"] == "2017-05-07T18:00:00.002Z"


def test_instants_in_other_offsets_compare_as_utc(engine: Engine) -> None:
    paris = datetime(2017, 5, 7, 20, 0, tzinfo=timezone(timedelta(hours=2)))
    target = Resource.for_collection("c", paris)
    early = Request(
        EDITOR, "run-release", target, LIFT - timedelta(seconds=1), APPROVED, approvers=2
    )
    assert not engine.decide(early).allowed
    assert engine.decide(
        Request(EDITOR, "run-release", target, LIFT, APPROVED, approvers=2)
    ).allowed


def test_effective_embargo() -> None:
    later = LIFT + timedelta(days=1)
    assert effective_embargo(None, None) is None
    assert effective_embargo(LIFT, None) == LIFT
    assert effective_embargo(None, LIFT) == LIFT
    assert effective_embargo(LIFT, later) == later
    assert effective_embargo(later, LIFT) == later
    with pytest.raises(ValueError, match="timezone-aware"):
        effective_embargo(datetime(2017, 5, 7), None)


def test_member_ids_are_data_not_syntax(engine: Engine) -> None:
    odd = Principal('ro"b\n::Role::"editor"', frozenset({"reporter"}))
    assert not engine.decide(
        Request(odd, "set-embargo", Resource.for_collection("c"), LIFT)
    ).allowed
    assert engine.decide(Request(odd, "read", Resource.for_collection('c"\n'), LIFT)).allowed
