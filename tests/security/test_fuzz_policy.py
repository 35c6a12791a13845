"""Fuzzing policy loading: edited policy texts load cleanly or are refused, never half-way.

The vault runs only on a policy set that parses and validates against its schema; Cedar skips a
`forbid` whose condition errors, so a set that slipped past validation could fail open. The
shipped policies and schema are edited at random — characters and bytes (as text), and Cedar's
own tokens: `permit`/`forbid`, `when`/`unless`, `&&`/`||`, `<`/`>=`, role and action names,
whole lines dropped or repeated — and loaded with `PolicySet.from_texts` and checked with
`check_texts`. Properties:

- nothing but `PolicyError` (a `VaultError`) escapes either;
- the two agree: `check_texts` reports no problem exactly when `from_texts` returns a set;
- a set that loads decides random requests without raising anything but `UsageError`, and an
  allowing decision carries no evaluation error;
- the edits that would make a `forbid` fail open (an unguarded optional attribute, a type
  mismatch) are refused by validation, so they never reach the engine.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.security.mutations import FUZZ, Mutation, edit_lists, mutate
from tests.unit.policy.test_properties import requests
from vault.errors import UsageError, VaultError
from vault.policy import Engine, PolicyError, PolicySet, Request, shipped_policy_dir

SHIPPED = {
    path.name: path.read_text()
    for path in sorted(shipped_policy_dir().iterdir())
    if path.suffix in (".cedar", ".cedarschema")
}
POLICY = "newsroom.cedar"
SCHEMA = "schema.cedarschema"
SWAPS = [
    ("permit", "forbid"), ("forbid", "permit"), ("when", "unless"), ("unless", "when"),
    ("&&", "||"), ("||", "&&"), ("<", ">="), (">=", "<"), ("== ", "!= "), ("in ", "== "),
    ('"legal"', '"reporter"'), ('"editor-in-chief"', '"admin"'), ("run-release", "read"),
    ("resource has embargo_until && ", ""), ("context.approvers", "context.approvals"),
    ("datetime", "Long"), ("Long", "String"), ("embargo_until?", "embargo_until"),
    (";", ""), ("(", ""), (")", "))"), ("@id", "@"), ('"', "'"),
]  # fmt: skip


def load(texts: dict[str, str]) -> PolicySet | None:
    """from_texts and check_texts, asserting they agree; the set, or None if refused."""
    problems = PolicySet.check_texts(texts)
    try:
        loaded = PolicySet.from_texts(texts)
    except PolicyError:
        assert problems, "from_texts refused a set check_texts found nothing wrong with"
        return None
    assert not problems, f"from_texts loaded a set with problems: {problems[:3]}"
    return loaded


def decide_all(loaded: PolicySet, asked: list[Request]) -> None:
    engine = Engine(loaded)
    for request in asked:
        try:
            decision = engine.decide(request)
        except UsageError:
            continue  # e.g. a role the edited schema no longer declares
        if decision.allowed:
            assert not decision.errors, decision.explain()


def _edit_tokens(text: str, picks: list[tuple[int, int]]) -> str:
    for which, nth in picks:
        old, new = SWAPS[which % len(SWAPS)]
        count = text.count(old)
        if count:
            index = -1
            for _ in range(nth % count + 1):
                index = text.index(old, index + 1)
            text = text[:index] + new + text[index + len(old) :]
    return text


def _edit_lines(text: str, picks: list[tuple[int, int]]) -> str:
    lines = text.splitlines(keepends=True)
    for op, at in picks:
        if not lines:
            break
        at %= len(lines)
        if op % 3 == 0:
            del lines[at]
        elif op % 3 == 1:
            lines.insert(at, lines[at])
        else:
            lines[at], lines[-1] = lines[-1], lines[at]
    return "".join(lines)


picks = st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 1000)), min_size=1, max_size=5)
files = st.sampled_from([POLICY, SCHEMA])


@FUZZ
@given(file=files, token_edits=picks, line_edits=st.lists(st.tuples(st.integers(0, 2),
       st.integers(0, 500)), max_size=3), asked=st.lists(requests(), max_size=8))  # fmt: skip
def test_token_edits_load_or_are_refused(
    file: str,
    token_edits: list[tuple[int, int]],
    line_edits: list[tuple[int, int]],
    asked: list[Request],
) -> None:
    texts = dict(SHIPPED)
    texts[file] = _edit_lines(_edit_tokens(texts[file], token_edits), line_edits)
    loaded = load(texts)
    if loaded is not None:
        decide_all(loaded, asked)


@FUZZ
@given(file=files, edits=edit_lists, asked=st.lists(requests(), max_size=4))
def test_byte_edits_load_or_are_refused(
    file: str, edits: list[Mutation], asked: list[Request]
) -> None:
    texts = dict(SHIPPED)
    texts[file] = mutate(texts[file].encode(), edits).decode("utf-8", "surrogateescape")
    loaded = load(texts)
    if loaded is not None:
        decide_all(loaded, asked)


@FUZZ
@given(name=st.text(max_size=30), text=st.text(max_size=200))
def test_odd_file_names_and_texts_are_refused_cleanly(name: str, text: str) -> None:
    texts = {**SHIPPED, name: text}
    with contextlib.suppress(VaultError):
        PolicySet.from_texts(texts)
    assert isinstance(PolicySet.check_texts(texts), list)


FAIL_OPEN = {
    "unguarded optional attribute": ("resource has embargo_until && ", ""),
    "approvals compared as text": ('approvals["legal"] >= 1', 'approvals["legal"] >= "1"'),
    "now compared with a number": ("context.now < resource.embargo_until", "context.now < 1"),
    "unknown attribute": ("context.is_requester", "context.is_requestor"),
    "unknown role": ('Role::"legal"', 'Role::"lawyer"'),
}  # fmt: skip


@pytest.mark.parametrize("edit", list(FAIL_OPEN))
def test_edits_that_would_fail_open_are_refused(edit: str) -> None:
    old, new = FAIL_OPEN[edit]
    assert old in SHIPPED[POLICY], old
    texts = {**SHIPPED, POLICY: SHIPPED[POLICY].replace(old, new, 1)}
    with pytest.raises(PolicyError):
        PolicySet.from_texts(texts)
    assert PolicySet.check_texts(texts)
