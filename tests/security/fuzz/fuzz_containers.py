"""atheris: edited archives and mailboxes, opened as check-in does, fail only with their errors.

.venv/bin/python -m tests.security.fuzz.fuzz_containers -max_total_time=600
"""

from __future__ import annotations

from tests.security.fuzz.harness import atheris, edited, instrumented, run

with instrumented():
    from tests.unit.ingest.builders import scenarios
    from tests.unit.ingest.walker import walk
    from vault.ingest.limits import Limits

SEEDS = [
    data for name, data in sorted(scenarios().items()) if name not in ("42.zip", "overlap.zip")
]
LIMITS = Limits(max_total_bytes=8 * 1024 * 1024, max_members=2_000, max_message_bytes=1 << 20)


def test_one_input(data: bytes) -> None:
    """Any exception but ContainerError and LimitExceeded escapes the walker: a crash."""
    _, candidate = edited(atheris().FuzzedDataProvider(data), SEEDS)
    walked = walk(candidate, "fuzzed", limits=LIMITS, keep_data=False)
    assert walked.read_bytes <= LIMITS.max_total_bytes
    for seen in walked.seen:
        assert not seen.display.startswith("/")
        assert ".." not in seen.display.split("/")


if __name__ == "__main__":
    run(test_one_input)
