"""The policies installed with the package are the project's `policies/`, byte for byte.

`policies/` is the source of truth people read and edit; `vault/policy/shipped/` is the copy that
goes into a wheel as package data, so an installed `vault` finds its policies without a checkout.
"""

from __future__ import annotations

from pathlib import Path

from vault.policy import PolicySet, shipped_policy_dir

REPO = Path(__file__).resolve().parents[3]


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_packaged_policies_are_a_copy_of_policies_dir() -> None:
    source, packaged = _tree(REPO / "policies"), _tree(shipped_policy_dir())
    assert source, "policies/ is missing"
    assert packaged == source, "copy policies/ to vault/policy/shipped/ (cp -r policies/. …)"


def test_texts_load_like_the_directory() -> None:
    loaded = PolicySet.load(shipped_policy_dir())
    again = PolicySet.from_texts(loaded.text_by_file, origin="policy version 1")
    assert again.digest == loaded.digest
    assert [p.id for p in again.policies] == [p.id for p in loaded.policies]
    assert again.directory is None


def test_texts_with_problems_are_listed_with_their_lines() -> None:
    texts = dict(PolicySet.load(shipped_policy_dir()).text_by_file)
    texts["broken.cedar"] = '@id("x")\npermit (principal, action, resource)\nwhen { 1 };\n'
    texts["../escape.cedar"] = "permit (principal, action, resource);"
    texts["notes.txt"] = "hello"
    problems = PolicySet.check_texts(texts)
    where = {(p.file, p.line) for p in problems}
    assert ("../escape.cedar", 0) in where
    assert ("notes.txt", 0) in where
    assert any(p.file == "broken.cedar" and p.line == 3 for p in problems), problems
    del texts["schema.cedarschema"]
    assert any(p.file == "schema.cedarschema" for p in PolicySet.check_texts(texts))
