"""Loading policy directories: the shipped set validates; broken files are refused with a line."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vault.errors import VaultError
from vault.policy import (
    Engine,
    PolicyError,
    PolicySet,
    Principal,
    Problem,
    Request,
    Resource,
)

from .conftest import SHIPPED


def write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


def refused(directory: Path) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        PolicySet.load(directory)
    return caught.value


def test_shipped_policies_validate(shipped: PolicySet) -> None:
    assert PolicySet.check(SHIPPED) == []
    assert shipped.roles == ("admin", "editor-in-chief", "editor", "legal", "reporter", "intake")
    ids = [p.id for p in shipped.policies]
    assert len(ids) == len(set(ids))
    assert all(p.description for p in shipped.policies), "each policy has a one-line comment"


def test_examples_are_not_loaded_by_default(shipped: PolicySet) -> None:
    assert "electoral-silence-2017" not in {p.id for p in shipped.policies}
    assert set(shipped.text_by_file) == {"schema.cedarschema", "newsroom.cedar"}


def test_copy_loads_with_the_same_digest(policy_copy: Path, shipped: PolicySet) -> None:
    copy = PolicySet.load(policy_copy)
    assert copy.digest == shipped.digest
    assert copy.text_by_file == shipped.text_by_file
    assert len(copy.digest) == 64


def test_digest_changes_with_content_and_names(policy_copy: Path, shipped: PolicySet) -> None:
    newsroom = policy_copy / "newsroom.cedar"
    newsroom.write_text(newsroom.read_text() + "\n// a comment\n")
    edited = PolicySet.load(policy_copy).digest
    assert edited != shipped.digest
    newsroom.rename(policy_copy / "zz-newsroom.cedar")
    assert PolicySet.load(policy_copy).digest not in (edited, shipped.digest)


def test_policy_error_is_a_vault_error_with_a_hint(policy_copy: Path) -> None:
    write(policy_copy, "broken.cedar", "permit (principal, action, resource")
    error = refused(policy_copy)
    assert isinstance(error, VaultError)
    assert error.hint is not None
    assert "vault policy check" in error.hint


def test_syntax_error_names_file_line_and_column(policy_copy: Path) -> None:
    write(
        policy_copy,
        "broken.cedar",
        '// fine\n@id("fine")\npermit (principal, action == Action::"read", resource);\n\n'
        '@id("broken")\npermit (principal, action == Action::"read"\n    resource);\n',
    )
    error = refused(policy_copy)
    assert "broken.cedar:7:5: unexpected token `resource`" in error.message
    assert error.problems == (Problem("broken.cedar", 7, 5, "unexpected token `resource`"),)


def test_missing_semicolon_at_the_end(policy_copy: Path) -> None:
    write(policy_copy, "broken.cedar", '@id("x")\npermit (principal, action, resource)\n')
    [problem] = PolicySet.check(policy_copy)
    assert (problem.file, problem.line) == ("broken.cedar", 2)
    assert "missing `;`" in problem.message


def test_unknown_attribute(policy_copy: Path) -> None:
    write(
        policy_copy,
        "broken.cedar",
        '@id("colour")\npermit (principal, action == Action::"read", resource)\n'
        'when { resource.colour == "red" };\n',
    )
    error = refused(policy_copy)
    assert error.message.startswith(f"invalid policies in {policy_copy}: broken.cedar:3:17: ")
    assert "attribute `colour`" in error.message
    assert {(p.file, p.line) for p in error.problems} == {("broken.cedar", 3)}


def test_unknown_entity_type(policy_copy: Path) -> None:
    write(
        policy_copy,
        "broken.cedar",
        '\n\n@id("group")\npermit (principal in Group::"desk", action, resource);\n',
    )
    problems = PolicySet.check(policy_copy)
    assert (
        Problem("broken.cedar", 4, 22, "policy `group`: unrecognized entity type `Group`")
        in problems
    )


def test_misspelt_role_is_refused(policy_copy: Path) -> None:
    write(
        policy_copy,
        "broken.cedar",
        '@id("r")\npermit (principal in Role::"editr", action, resource);',
    )
    [problem] = PolicySet.check(policy_copy)
    assert (problem.line, problem.column) == (2, 28)
    assert '"editr"' in problem.message


def test_type_error_in_a_forbid_is_refused(policy_copy: Path) -> None:
    # The dangerous case: without validation, this forbid would error at run time and Cedar would
    # skip it, letting the release through.
    write(
        policy_copy,
        "broken.cedar",
        '@id("hold")\nforbid (principal, action == Action::"run-release", resource)\n'
        'when { context.now < "2017-05-07T18:00:00Z" };\n',
    )
    error = refused(policy_copy)
    assert "broken.cedar:3:1: policy `hold`: unexpected type" in error.message


def test_check_lists_every_problem_in_order(policy_copy: Path) -> None:
    write(
        policy_copy,
        "a.cedar",
        '@id("a1")\npermit (principal, action == Action::"reed", resource);\n'
        "permit (principal, action, resource);\n"
        '@id("a1")\npermit (principal in Role::"reporter", action == Action::"read", resource);\n',
    )
    write(policy_copy, "b.cedar", '@id("b1")\nforbid (principal, action, resource) when { 1 + };\n')
    problems = PolicySet.check(policy_copy)
    where = [(p.file, p.line) for p in problems]
    assert where == sorted(where)
    assert ("a.cedar", 2) in where  # unknown action
    assert ("a.cedar", 3) in where  # no @id
    assert ("a.cedar", 4) in where  # duplicate @id
    assert ("b.cedar", 2) in where  # syntax
    messages = "\n".join(str(p) for p in problems)
    assert "a.cedar:3:1: policy has no @id" in messages
    assert "a.cedar:4:1: @id `a1` is already used at a.cedar:1" in messages
    assert "b.cedar:2:49: unexpected token `}`" in messages
    assert len(refused(policy_copy).problems) == len(problems)


def test_duplicate_id_across_files(policy_copy: Path) -> None:
    write(policy_copy, "zz.cedar", '@id("reporter-review")\nforbid (principal, action, resource);')
    [problem] = PolicySet.check(policy_copy)
    assert problem.file == "zz.cedar"
    assert "already used at newsroom.cedar:" in problem.message


def test_templates_are_refused(policy_copy: Path) -> None:
    write(policy_copy, "t.cedar", '@id("t")\npermit (principal == ?principal, action, resource);')
    [problem] = PolicySet.check(policy_copy)
    assert "templates" in problem.message


def test_missing_schema(policy_copy: Path) -> None:
    (policy_copy / "schema.cedarschema").unlink()
    error = refused(policy_copy)
    assert "schema.cedarschema: the schema is missing" in error.message


def test_no_policy_files(tmp_path: Path) -> None:
    shutil.copy(SHIPPED / "schema.cedarschema", tmp_path)
    assert "no *.cedar policy files" in refused(tmp_path).message


def test_not_a_directory(tmp_path: Path) -> None:
    assert "not a directory" in refused(tmp_path / "absent").message


def test_non_utf8_file(policy_copy: Path) -> None:
    (policy_copy / "bad.cedar").write_bytes(b'@id("x")\n// caf\xe9\n')
    [problem] = PolicySet.check(policy_copy)
    assert (problem.file, problem.line, problem.message) == ("bad.cedar", 2, "not UTF-8 text")


def test_schema_syntax_error_has_a_line(policy_copy: Path) -> None:
    schema = policy_copy / "schema.cedarschema"
    schema.write_text(
        schema.read_text().replace("entity Member in [Role];", "entity Member in [Role]")
    )
    [problem] = PolicySet.check(policy_copy)
    assert problem.file == "schema.cedarschema"
    assert problem.message.endswith("unexpected token `entity`")
    lines = schema.read_text().splitlines()
    assert lines[problem.line - 1].startswith("entity Vault")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('"legal": Long,', "", 'needs a count `"legal": Long`'),
        ('action "checkin"', 'action "check-in"', "action `checkin` must be declared"),
        ("now: datetime,", "when: datetime,", "`now: datetime`"),
    ],
)
def test_schema_must_fit_the_engine(policy_copy: Path, old: str, new: str, expected: str) -> None:
    schema = policy_copy / "schema.cedarschema"
    text = schema.read_text()
    assert old in text
    schema.write_text(text.replace(old, new))
    problems = PolicySet.check(policy_copy)
    assert any(p.file == "schema.cedarschema" and expected in p.message for p in problems), problems


def test_schema_attribute_types_are_checked_by_a_request(tmp_path: Path) -> None:
    schema = (SHIPPED / "schema.cedarschema").read_text()
    write(
        tmp_path,
        "schema.cedarschema",
        schema.replace("embargo_until?: datetime", "embargo_until?: Long"),
    )
    write(
        tmp_path, "p.cedar", '@id("p")\npermit (principal in Role::"reporter", action, resource);'
    )
    problems = PolicySet.check(tmp_path)
    assert any("the requests the engine builds do not fit" in p.message for p in problems)


def test_electoral_silence_example(policy_copy: Path) -> None:
    shutil.copy(SHIPPED / "examples" / "electoral-silence.cedar", policy_copy)
    engine = Engine(PolicySet.load(policy_copy))
    start = datetime(2017, 5, 5, 22, 0, tzinfo=UTC)
    end = datetime(2017, 5, 7, 18, 0, tzinfo=UTC)
    second = timedelta(seconds=1)
    chief = Principal("edwy", frozenset({"editor-in-chief"}))
    approved = {"editor-in-chief": 1, "legal": 1}
    collection = Resource.for_collection("macron-leaks")  # no embargo of its own

    def allowed(action: str, now: datetime) -> bool:
        return engine.decide(Request(chief, action, collection, now, approved, approvers=2)).allowed

    for action in ("run-release", "lift-embargo"):
        assert allowed(action, start - second)
        assert not allowed(action, start)
        assert not allowed(action, end - second)
        assert allowed(action, end)
    silenced = engine.decide(
        Request(chief, "run-release", collection, start, approved, approvers=2)
    )
    assert silenced.reasons == ("electoral-silence-2017",)
    # Other actions are untouched: the desk still reads and sets embargoes in the window.
    assert allowed("read", start)
    assert allowed("set-embargo", start)
