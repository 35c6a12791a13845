"""Cedar policies, embargo instants and the clock guard (DESIGN §8).

`PolicySet.load(dir)` parses and validates a policy directory against its schema (or raises
`PolicyError` naming file and line); `Engine(policies).require(request)` refuses with exit code 3
unless the policies cleanly allow the request. `embargo` turns local wall-clock times into UTC
instants (refusing DST gaps and overlaps); `clockguard` refuses to act on a clock that went back.
"""

from vault.policy.clockguard import ClockRolledBack, check_clock
from vault.policy.embargo import Embargo, parse_local
from vault.policy.engine import Engine, PolicyDenied
from vault.policy.model import (
    ACTIONS,
    Decision,
    Principal,
    Request,
    Resource,
    ResourceKind,
    effective_embargo,
)
from vault.policy.policyset import PolicyError, PolicyInfo, PolicySet, shipped_policy_dir
from vault.policy.source import Problem

__all__ = [
    "ACTIONS",
    "ClockRolledBack",
    "Decision",
    "Embargo",
    "Engine",
    "PolicyDenied",
    "PolicyError",
    "PolicyInfo",
    "PolicySet",
    "Principal",
    "Problem",
    "Request",
    "Resource",
    "ResourceKind",
    "check_clock",
    "effective_embargo",
    "parse_local",
    "shipped_policy_dir",
]
