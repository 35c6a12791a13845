"""The schema file: parsing it with a located error, and checking it fits the engine.

The engine builds every request in one shape (`vault.policy.cedarjson`): a `Member` in its `Role`s,
the resource kinds, and a context with `now`, `approvals` per role, `approvers` and
`is_requester`. A schema
that drifts from that shape would make every request fail at run time (safely, as a refusal, but
mysteriously). So on load the schema is checked up front:

- the roles are read from its `entity Role enum [...]` declaration;
- probe policies, validated against it, show which actions exist, which resource kinds each applies
  to, and that the context has what the engine sends;
- one request per action and resource kind, built exactly as the engine builds them, is checked by
  Cedar against the schema (entity attributes and parents included).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import cedarpy

from vault.policy.cedarjson import short_error, to_cedar
from vault.policy.model import (
    ACTIONS,
    RESOURCE_KINDS,
    Principal,
    Request,
    Resource,
    ResourceKind,
)
from vault.policy.source import (
    Problem,
    Statement,
    locate_name,
    locate_syntax_error,
    policy_index,
    tokenize,
)

SCHEMA_FILE = "schema.cedarschema"
_ROLE_ENUM = re.compile(r"\bentity\s+Role\s+enum\s*\[([^\]]*)\]")


@dataclass(frozen=True)
class SchemaFacts:
    """What the engine needs to know about a schema that fits it."""

    roles: tuple[str, ...]
    applies_to: Mapping[str, frozenset[ResourceKind]]


def parse_schema(text: str) -> tuple[cedarpy.Schema | None, list[Problem]]:
    """Parse schema text; on failure, one problem with the best line and column we can find."""
    try:
        return cedarpy.Schema.from_str(text), []
    except ValueError as exc:
        message = str(exc)
    tokens = tuple(t for t in tokenize(text) if not t.comment)
    where = None
    if tokens and ("unexpected token" in message or message.endswith("invalid token")):
        whole = Statement(SCHEMA_FILE, text[tokens[0].start :], tokens, "", True)
        where = locate_syntax_error(whole, message, _parse_error, closer="")
    elif tokens and message.endswith("unexpected end of input"):
        where = tokens[-1]
    elif tokens and message.endswith("is declared twice"):
        declared = tuple(
            t
            for before, t in itertools.pairwise(tokens)
            if before.text in ("entity", "type", "action")
        )
        where = locate_name(declared, message, last=True)
    elif tokens:
        where = locate_name(tokens, message)
    line, column = (where.line, where.column) if where else (0, 0)
    return None, [Problem(SCHEMA_FILE, line, column, message)]


def _parse_error(text: str) -> str | None:
    try:
        cedarpy.Schema.from_str(text)
    except ValueError as exc:
        return str(exc)
    return None


def check_schema(schema: cedarpy.Schema, text: str) -> tuple[SchemaFacts, list[Problem]]:
    """Check that a parsed schema has what the engine sends, and learn its roles and actions.

    Args:
        schema: the parsed schema.
        text: its source, to point problems at lines.

    Returns:
        The facts the engine needs, and the problems found (empty when it fits).
    """
    problems: list[Problem] = []
    roles = _schema_roles(str(schema))
    if roles is None:
        problems.append(
            Problem(SCHEMA_FILE, 0, 0, 'declare the roles as `entity Role enum ["…", …];`')
        )
        roles = []
    failed = _failed_probes(schema, roles)
    applies: dict[str, frozenset[ResourceKind]] = {}
    for action in sorted(ACTIONS):
        kinds = frozenset(k for k in RESOURCE_KINDS if f"action:{action}:{k}" not in failed)
        if not kinds:
            line, column = _line_of(text, action)
            problems.append(
                Problem(
                    SCHEMA_FILE,
                    line,
                    column,
                    f"action `{action}` must be declared, applying to `Member` principals "
                    f"and at least one of {', '.join(RESOURCE_KINDS)}",
                )
            )
        applies[action] = kinds
    for key, wanted in (
        ("now", "a context attribute `now: datetime` on every action"),
        ("is_requester", "a context attribute `is_requester: Bool` on every action"),
        ("approvers", "a context attribute `approvers: Long` on every action"),
    ):
        if key in failed:
            problems.append(Problem(SCHEMA_FILE, 0, 0, f"the engine needs {wanted}"))
    for role in roles:
        if f"approvals:{role}" in failed:
            problems.append(
                Problem(
                    SCHEMA_FILE,
                    0,
                    0,
                    f'the context record `approvals` needs a count `"{role}": Long` '
                    "for every role, on every action",
                )
            )
    facts = SchemaFacts(tuple(roles), applies)
    if not problems:
        problems.extend(_self_test(schema, facts))
    return facts, problems


def _failed_probes(schema: cedarpy.Schema, roles: list[str]) -> set[str]:
    """Validate one probe policy per fact the engine relies on; return the names that fail."""
    probes: list[tuple[str, str]] = [
        (
            "now",
            "permit (principal, action, resource) when "
            '{ context.now < datetime("2000-01-01T00:00:00Z") };',
        ),
        ("is_requester", "permit (principal, action, resource) when { context.is_requester };"),
        ("approvers", "permit (principal, action, resource) when { context.approvers > 0 };"),
    ]
    for role in roles:
        count = f"context.approvals[{json.dumps(role)}]"
        probes.append(
            (f"approvals:{role}", f"permit (principal, action, resource) when {{ {count} > 0 }};")
        )
    for action in sorted(ACTIONS):
        for kind in RESOURCE_KINDS:
            probes.append(
                (
                    f"action:{action}:{kind}",
                    f"permit (principal is Member, action == Action::{json.dumps(action)}, "
                    f"resource is {kind});",
                )
            )
    result = cedarpy.validate_policies("\n".join(p for _, p in probes), schema)
    failed: set[str] = set()
    for error in result.errors:
        index = policy_index(error.policy_id)
        if index is not None and index < len(probes):
            failed.add(probes[index][0])
    return failed


def _self_test(schema: cedarpy.Schema, facts: SchemaFacts) -> list[Problem]:
    """Build one request per action and resource kind, as the engine will, and let Cedar check
    it against the schema: entity attributes, parents and context must all fit."""
    instant = datetime(2017, 5, 7, 18, 0, tzinfo=UTC)
    resources = {
        "Vault": Resource.vault("probe"),
        "Collection": Resource.for_collection("probe", instant),
        "Document": Resource.for_document("probe", "probe", instant, instant),
    }
    principal = Principal("probe", frozenset(facts.roles))
    empty = cedarpy.PolicySet.from_str("")
    for action in sorted(facts.applies_to):
        for kind in sorted(facts.applies_to[action]):
            request = Request(principal, action, resources[kind], instant)
            cedar_request, entities = to_cedar(request, facts.roles)
            result = cedarpy.is_authorized(cedar_request, empty, entities, schema=schema)
            if result.diagnostics.errors:
                return [
                    Problem(
                        SCHEMA_FILE,
                        0,
                        0,
                        f"the requests the engine builds do not fit: {short_error(e)}",
                    )
                    for e in result.diagnostics.errors
                ]
    return []


def _schema_roles(rendered: str) -> list[str] | None:
    """The `Role` enumeration, read from Cedar's canonical rendering of the schema."""
    match = _ROLE_ENUM.search(rendered)
    if match is None:
        return None
    try:
        roles = json.loads(f"[{match.group(1)}]")
    except json.JSONDecodeError:
        return None
    return [str(r) for r in roles]


def _line_of(text: str, name: str) -> tuple[int, int]:
    """Line and column where the schema mentions `name`, or (0, 0)."""
    token = locate_name(tuple(tokenize(text)), f"`{name}`")
    return (token.line, token.column) if token else (0, 0)
