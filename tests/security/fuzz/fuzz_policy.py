"""atheris: edited policy texts load cleanly or are refused with `PolicyError`, never half-way.

.venv/bin/python -m tests.security.fuzz.fuzz_policy -max_total_time=600
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests.security.fuzz.harness import atheris, edited, instrumented, run

with instrumented():
    from vault.errors import UsageError
    from vault.policy import (
        ACTIONS,
        Engine,
        PolicyError,
        PolicySet,
        Principal,
        Request,
        Resource,
        shipped_policy_dir,
    )  # fmt: skip

SHIPPED = {p.name: p.read_text() for p in shipped_policy_dir().glob("*.cedar*")}
NAMES = sorted(SHIPPED)
NOW = datetime(2017, 5, 7, 18, tzinfo=UTC)


def test_one_input(data: bytes) -> None:
    """check_texts and from_texts agree; a set that loads never allows with an error."""
    provider = atheris().FuzzedDataProvider(data)
    index, text = edited(provider, [SHIPPED[n].encode() for n in NAMES])
    texts = {**SHIPPED, NAMES[index]: text.decode("utf-8", "surrogateescape")}
    problems = PolicySet.check_texts(texts)
    try:
        loaded = PolicySet.from_texts(texts)
    except PolicyError:
        assert problems, "refused without a problem"
        return
    assert not problems, "loaded with problems"
    engine = Engine(loaded)
    roles = sorted(loaded.roles)
    role = roles[provider.ConsumeIntInRange(0, len(roles) - 1)] if roles else "reporter"
    for action in sorted(ACTIONS):
        for resource in (Resource.vault("v"), Resource.for_collection("c", NOW)):
            request = Request(Principal("m", frozenset({role})), action, resource, NOW)
            try:
                decision = engine.decide(request)
            except UsageError:
                continue
            assert not (decision.allowed and decision.errors), "allowed with an error"


if __name__ == "__main__":
    run(test_one_input)
