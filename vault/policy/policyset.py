"""Loading a policy directory: parse, validate against the schema, or refuse.

A policy directory holds `schema.cedarschema` and any number of `*.cedar` files (not recursive:
`policies/examples/` is not loaded). `PolicySet.load` reads them, parses every policy, validates the
whole set against the schema — always: without a schema Cedar silently skips a `forbid` whose
condition errors, which fails open — and checks what the engine relies on (every action declared,
the roles as an enumerated `Role` type, the request context's shape). Any problem refuses the whole
set with a `PolicyError` naming file, line, column and problem. `PolicySet.check` lists every
problem instead, for `vault policy check`. `PolicySet.from_texts` and `PolicySet.check_texts` do the
same for a set held in memory (file name → text), as the vault stores its active versions: nothing
is written to disk to load them.

A loaded set has a stable `digest` (SHA-256 over the canonical list of file names and contents),
which the vault uses to version its active policy set.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import cedarpy

from vault.errors import VaultError
from vault.policy.model import ResourceKind
from vault.policy.schemacheck import SCHEMA_FILE, SchemaFacts, check_schema, parse_schema
from vault.policy.source import (
    Problem,
    Statement,
    Token,
    locate_name,
    locate_syntax_error,
    policy_index,
    statements,
)

POLICY_GLOB = "*.cedar"
#: Policy files are small; a larger one is refused rather than parsed.
MAX_FILE_BYTES = 1 << 20
_DIGEST_DOMAIN = b"embargo-vault policy set v1\n"
_POLICY_ID = re.compile(r"`(policy[0-9]+)`")
_FOR_POLICY = re.compile(r"^for policy `policy[0-9]+`[,:] ?")


class PolicyError(VaultError):
    """The policy directory is invalid; the vault refuses to run on it."""

    def __init__(self, message: str, problems: Sequence[Problem], *, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.problems = tuple(problems)


@dataclass(frozen=True)
class PolicyInfo:
    """One loaded policy: its `@id`, effect, where it is, and its one-line comment."""

    id: str
    effect: str
    file: str
    line: int
    description: str

    def note(self) -> str:
        """`id (file:line): description`, as decisions cite it."""
        where = f"{self.id} ({self.file}:{self.line})"
        return f"{where}: {self.description}" if self.description else where


class PolicySet:
    """A validated set of Cedar policies with its schema. Build one with `PolicySet.load`."""

    def __init__(
        self,
        *,
        directory: Path | None,
        texts: Mapping[str, str],
        policies: Sequence[PolicyInfo],
        roles: Sequence[str],
        applies_to: Mapping[str, frozenset[ResourceKind]],
        cedar_policies: cedarpy.PolicySet,
        cedar_schema: cedarpy.Schema,
    ) -> None:
        self.directory = directory
        self._texts = MappingProxyType(dict(sorted(texts.items())))
        self.policies = tuple(policies)
        self.roles = tuple(roles)
        self.applies_to = MappingProxyType(dict(applies_to))
        self.cedar_policies = cedar_policies
        self.cedar_schema = cedar_schema
        self._by_cedar_id = {f"policy{i}": info for i, info in enumerate(self.policies)}

    @classmethod
    def load(cls, directory: Path) -> PolicySet:
        """Read, parse and validate a policy directory.

        Args:
            directory: holds `schema.cedarschema` and the `*.cedar` files (not recursive).

        Returns:
            The validated policy set.

        Raises:
            PolicyError: any file is missing, unreadable, fails to parse or to validate; the
                message names the first problem as `file:line:column: problem`.
        """
        loaded, problems = _Loader(str(directory)).run_directory(directory)
        return _loaded_or_raise(
            loaded,
            problems,
            str(directory),
            hint=f"run `vault policy check {directory}` to list every problem",
        )

    @classmethod
    def check(cls, directory: Path) -> list[Problem]:
        """Every problem with a policy directory, without raising; empty when it loads."""
        return _Loader(str(directory)).run_directory(directory)[1]

    @classmethod
    def from_texts(
        cls, texts: Mapping[str, str], *, origin: str = "the stored policies"
    ) -> PolicySet:
        """Parse and validate a policy set held in memory, exactly as `load` does a directory.

        Args:
            texts: file name → text: `schema.cedarschema` and `*.cedar` files (bare names).
            origin: what to call the set in messages, e.g. "policy version 3".

        Returns:
            The validated policy set (its `directory` is None).

        Raises:
            PolicyError: a name that is not a policy file, or any problem `load` would report.
        """
        loaded, problems = _Loader(origin).run_texts(texts)
        return _loaded_or_raise(
            loaded, problems, origin, hint="`vault policy check DIR` lists every problem of a set"
        )

    @classmethod
    def check_texts(
        cls, texts: Mapping[str, str], *, origin: str = "the stored policies"
    ) -> list[Problem]:
        """Every problem with a policy set held in memory; empty when it loads."""
        return _Loader(origin).run_texts(texts)[1]

    @property
    def text_by_file(self) -> Mapping[str, str]:
        """File name → text of every file in the set (schema included), sorted by name."""
        return self._texts

    @property
    def digest(self) -> str:
        """SHA-256 (hex) over the sorted file names and contents; stable across machines."""
        return digest_texts(self._texts)

    def info(self, cedar_id: str) -> PolicyInfo | None:
        """The policy Cedar calls `cedar_id` (`policy<n>`), if there is one."""
        return self._by_cedar_id.get(cedar_id)

    def name_policies(self, message: str) -> str:
        """Rewrite Cedar's positional `policy<n>` ids in a message to `@id (file:line)`."""

        def replace(match: re.Match[str]) -> str:
            found = self.info(match.group(1))
            return f"`{found.id}` ({found.file}:{found.line})" if found else match.group(0)

        return _POLICY_ID.sub(replace, message)


def shipped_policy_dir() -> Path:
    """The shipped policies, as package data: `vault/policy/shipped/`.

    The project's `policies/` directory is the source of truth; `vault/policy/shipped/` is a
    byte-for-byte copy installed with the package (a test keeps the two identical), so an
    installed wheel finds its policies exactly as a source checkout does.
    """
    return Path(__file__).resolve().parent / "shipped"


def _loaded_or_raise(
    loaded: PolicySet | None, problems: list[Problem], origin: str, *, hint: str
) -> PolicySet:
    if loaded is not None and not problems:
        return loaded
    first = problems[0] if problems else Problem(origin, 0, 0, "not loaded")
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    raise PolicyError(f"invalid policies in {origin}: {first}{more}", problems, hint=hint)


def digest_texts(texts: Mapping[str, str]) -> str:
    """Digest of a policy directory's files: each name and content, length-prefixed, by name."""
    h = hashlib.sha256(_DIGEST_DOMAIN)
    for name in sorted(texts):
        for part in (name.encode(), texts[name].encode()):
            h.update(len(part).to_bytes(8, "big"))
            h.update(part)
    return h.hexdigest()


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _parse_error(text: str) -> str | None:
    try:
        cedarpy.PolicySet.from_str(text)
    except ValueError as exc:
        return str(exc)
    return None


class _Loader:
    """One pass over a directory (or a mapping of texts), collecting every problem on the way."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.directory: Path | None = None
        self.problems: list[Problem] = []
        self.texts: dict[str, str] = {}

    def run_directory(self, directory: Path) -> tuple[PolicySet | None, list[Problem]]:
        self.directory = directory
        if not directory.is_dir():
            return None, [Problem(str(directory), 0, 0, "not a directory")]
        schema_text = self._read(directory / SCHEMA_FILE, missing="the schema is missing")
        paths = sorted(p for p in directory.glob(POLICY_GLOB) if p.is_file())
        files = [(path.name, text) for path in paths if (text := self._read(path)) is not None]
        return self._run(schema_text, files, any_policy_file=bool(paths))

    def run_texts(self, texts: Mapping[str, str]) -> tuple[PolicySet | None, list[Problem]]:
        files: list[tuple[str, str]] = []
        schema_text: str | None = None
        for name in sorted(texts):
            text = texts[name]
            if "/" in name or "\\" in name or name.startswith("."):
                self._problem(name, 0, 0, "not a bare file name")
            elif not _encodable(text):
                self._problem(name, 0, 0, "not UTF-8 text")
            elif len(text.encode()) > MAX_FILE_BYTES:
                self._problem(name, 0, 0, f"larger than {MAX_FILE_BYTES} bytes")
            elif name == SCHEMA_FILE:
                schema_text = text
                self.texts[name] = text
            elif Path(name).match(POLICY_GLOB):
                files.append((name, text))
                self.texts[name] = text
            else:
                self._problem(name, 0, 0, f"neither {SCHEMA_FILE} nor a {POLICY_GLOB} file")
        if schema_text is None and SCHEMA_FILE not in texts:
            self._problem(SCHEMA_FILE, 0, 0, "the schema is missing")
        return self._run(schema_text, files, any_policy_file=bool(files))

    def _run(
        self, schema_text: str | None, files: list[tuple[str, str]], *, any_policy_file: bool
    ) -> tuple[PolicySet | None, list[Problem]]:
        if not any_policy_file:
            self._problem(self.origin, 0, 0, f"no {POLICY_GLOB} policy files")
        schema = None
        if schema_text is not None:
            schema, problems = parse_schema(schema_text)
            self.problems.extend(problems)
        good: list[Statement] = []
        for name, text in files:
            good.extend(self._parse_file(name, text))
        infos = self._infos(good)
        facts = SchemaFacts((), {})
        if schema is not None:
            if good:
                self._validate(good, infos, schema)
            facts, problems = check_schema(schema, schema_text or "")
            self.problems.extend(problems)
        self.problems.sort(
            key=lambda p: (p.file != SCHEMA_FILE, p.file, p.line, p.column, p.message)
        )
        if self.problems or schema is None:
            return None, self.problems
        combined = "\n".join(s.text for s in good)
        try:
            cedar_policies = cedarpy.PolicySet.from_str(combined)
        except ValueError as exc:  # every statement parsed alone, so this is not expected
            self._problem(self.origin, 0, 0, f"the policies do not parse together: {exc}")
            return None, self.problems
        if len(cedar_policies) != len(good):
            self._problem(self.origin, 0, 0, "could not map policies to their lines")
            return None, self.problems
        loaded = PolicySet(
            directory=self.directory,
            texts=self.texts,
            policies=infos,
            roles=facts.roles,
            applies_to=facts.applies_to,
            cedar_policies=cedar_policies,
            cedar_schema=schema,
        )
        return loaded, self.problems

    def _problem(self, file: str, line: int, column: int, message: str) -> None:
        problem = Problem(file, line, column, message)
        if problem not in self.problems:
            self.problems.append(problem)

    def _read(self, path: Path, *, missing: str | None = None) -> str | None:
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            self._problem(path.name, 0, 0, missing or "missing")
            return None
        except OSError as exc:
            self._problem(path.name, 0, 0, f"cannot read: {exc.strerror or exc}")
            return None
        if len(data) > MAX_FILE_BYTES:
            self._problem(path.name, 0, 0, f"larger than {MAX_FILE_BYTES} bytes")
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            self._problem(path.name, line, 0, "not UTF-8 text")
            return None
        self.texts[path.name] = text
        return text

    def _parse_file(self, name: str, text: str) -> list[Statement]:
        parsed: list[Statement] = []
        for statement in statements(name, text):
            message = _parse_error(statement.text)
            if message is None:
                parsed.append(statement)
                continue
            token = locate_syntax_error(statement, message, _parse_error)
            if not statement.terminated and message.endswith("unexpected end of input"):
                message += " (missing `;` at the end?)"
            self._problem(name, token.line, token.column, message)
        return parsed

    def _infos(self, good: list[Statement]) -> list[PolicyInfo]:
        infos: list[PolicyInfo] = []
        seen: dict[str, PolicyInfo] = {}
        for statement in good:
            est = json.loads(cedarpy.policies_to_json_str(statement.text))
            if est.get("templates"):
                self._problem(
                    statement.file,
                    statement.line,
                    statement.column,
                    "templates (`?principal`, `?resource`) are not supported; name the entities",
                )
            found = [*est.get("staticPolicies", {}).values(), *est.get("templates", {}).values()]
            policy: dict[str, Any] = found[0] if found else {}
            annotations = policy.get("annotations") or {}
            policy_id = str(annotations.get("id") or "")
            info = PolicyInfo(
                id=policy_id or f"{statement.file}:{statement.line}",
                effect=str(policy.get("effect", "")),
                file=statement.file,
                line=statement.line,
                description=statement.description,
            )
            if not policy_id:
                self._problem(
                    statement.file,
                    statement.line,
                    statement.column,
                    'policy has no @id("…") annotation; decisions cite policies by it',
                )
            elif policy_id in seen:
                first = seen[policy_id]
                self._problem(
                    statement.file,
                    statement.line,
                    statement.column,
                    f"@id `{policy_id}` is already used at {first.file}:{first.line}",
                )
            else:
                seen[policy_id] = info
            infos.append(info)
        return infos

    def _validate(
        self, good: list[Statement], infos: list[PolicyInfo], schema: cedarpy.Schema
    ) -> None:
        result = cedarpy.validate_policies("\n".join(s.text for s in good), schema)
        for error in result.errors:
            index = policy_index(error.policy_id)
            if index is None or index >= len(good):
                self._problem(SCHEMA_FILE, 0, 0, error.error)
                continue
            statement, info = good[index], infos[index]
            message = f"policy `{info.id}`: " + _FOR_POLICY.sub("", error.error)
            token = locate_name(_body(statement), _FOR_POLICY.sub("", error.error))
            if token is None and "type" in error.error:
                # Type errors live in conditions, not in the scope: point at the first one.
                token = next((t for t in statement.tokens if t.text in ("when", "unless")), None)
            where = token or statement.tokens[0]
            self._problem(statement.file, where.line, where.column, message)


def _body(statement: Statement) -> tuple[Token, ...]:
    """The statement's tokens from its effect on: names in `@id("…")` are not what errors mean."""
    for index, token in enumerate(statement.tokens):
        if token.text in ("permit", "forbid"):
            return statement.tokens[index:]
    return statement.tokens
