"""Policy source text: tokens, statements and where a problem is.

cedarpy reports parse and validation errors without any source position ("unexpected token
`resource`", "for policy `policy3`, attribute `colour` … not found"). A policy author needs a file
and a line, so this module keeps its own view of the text: a small lexer that knows Cedar's
comments and string literals, the split of a file into `;`-terminated statements (one Cedar policy
each, in order, so the n-th statement of the concatenated set is Cedar's `policy<n>`), and the
heuristics that turn a position-free message back into a line and column.

Nothing here decides anything; a wrong guess about a position only makes a message less precise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_OPERATORS = ("::", "==", "!=", "<=", ">=", "&&", "||")
# Identifiers and keywords, template slots (`?principal`) and integer literals.
_WORD = re.compile(r"\??[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_BACKTICKED = re.compile(r"`([^`]+)`")
_TOKEN_ERROR = re.compile(r"^(?:.*: )?unexpected token `(.*)`$", re.DOTALL)
_EOF_ERROR = "unexpected end of input"
# Scanning prefixes costs one parse per token; beyond this a statement is located by name only.
_MAX_PREFIX_SCAN = 4000


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a policy directory, as `file:line:column: message`.

    `line` and `column` count from 1; 0 means the problem concerns the whole file (or directory).
    """

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        if self.line <= 0:
            return f"{self.file}: {self.message}"
        if self.column <= 0:
            return f"{self.file}:{self.line}: {self.message}"
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class Token:
    """A lexical token (or a `//` comment) with its place in the file."""

    text: str
    start: int
    end: int
    line: int
    column: int
    comment: bool = False


@dataclass(frozen=True)
class Statement:
    """One `;`-terminated statement of a `.cedar` file: a policy, if it parses.

    `text` runs from the first token (usually an `@id` annotation) to the `;` inclusive; the
    statement's tokens keep their positions in the whole file. `description` is the block of `//`
    comment lines directly above it, which newsroom policies use as a one-line summary.
    """

    file: str
    text: str
    tokens: tuple[Token, ...]
    description: str
    terminated: bool

    @property
    def line(self) -> int:
        """Line of the statement's first token."""
        return self.tokens[0].line

    @property
    def column(self) -> int:
        """Column of the statement's first token."""
        return self.tokens[0].column


def policy_index(policy_id: str) -> int | None:
    """The position `n` of Cedar's positional policy id `policy<n>`, or None."""
    if policy_id.startswith("policy") and policy_id[6:].isdigit():
        return int(policy_id[6:])
    return None


def tokenize(text: str) -> Iterator[Token]:
    """Split Cedar policy or schema text into tokens and comments.

    The lexer is forgiving: anything it does not recognise becomes a one-character token, and an
    unterminated string runs to the end of its line, so broken input still yields positions.
    """
    pos, line, line_start = 0, 1, 0
    size = len(text)
    while pos < size:
        char = text[pos]
        if char == "\n":
            pos += 1
            line += 1
            line_start = pos
            continue
        if char.isspace():
            pos += 1
            continue
        start, column = pos, pos - line_start + 1
        if text.startswith("//", pos):
            end = text.find("\n", pos)
            pos = size if end < 0 else end
            yield Token(text[start:pos], start, pos, line, column, comment=True)
            continue
        if char == '"':
            pos = _string_end(text, pos)
        elif (match := _WORD.match(text, pos)) is not None:
            pos = match.end()
        elif text.startswith(_OPERATORS, pos):
            pos += 2
        else:
            pos += 1
        yield Token(text[start:pos], start, pos, line, column)


def _string_end(text: str, pos: int) -> int:
    """End offset of the string literal opening at `pos` (its line's end if unterminated)."""
    index = pos + 1
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == '"':
            return index + 1
        if char == "\n":
            return index
        index += 1
    return len(text)


def statements(file: str, text: str) -> list[Statement]:
    """Split a `.cedar` file into its statements, in order.

    A Cedar policy contains no `;` outside string literals and comments, so splitting at each `;`
    token yields exactly one statement per policy in a file that parses. Trailing tokens without a
    `;` form a last, unterminated statement (which then fails to parse, as it should).
    """
    result: list[Statement] = []
    comments: list[Token] = []
    current: list[Token] = []
    previous_end_line = 0
    for token in tokenize(text):
        if token.comment:
            comments.append(token)
            continue
        current.append(token)
        if token.text == ";":
            result.append(_statement(file, text, current, comments, previous_end_line, True))
            previous_end_line = token.line
            current = []
    if current:
        result.append(_statement(file, text, current, comments, previous_end_line, False))
    return result


def _statement(
    file: str,
    text: str,
    tokens: list[Token],
    comments: list[Token],
    previous_end_line: int,
    terminated: bool,
) -> Statement:
    first = tokens[0]
    by_line = {c.line: c for c in comments if c.column == _line_indent(text, c.start) + 1}
    lines: list[str] = []
    line = first.line - 1
    while line > previous_end_line and line in by_line:
        lines.append(by_line[line].text[2:].strip())
        line -= 1
    description = " ".join(reversed([item for item in lines if item]))
    return Statement(
        file=file,
        text=text[first.start : tokens[-1].end],
        tokens=tuple(tokens),
        description=description,
        terminated=terminated,
    )


def _line_indent(text: str, offset: int) -> int:
    """Number of whitespace characters before `offset` on its line (0 if anything else is there)."""
    line_start = text.rfind("\n", 0, offset) + 1
    prefix = text[line_start:offset]
    return len(prefix) if prefix.strip() == "" else -1


def locate_syntax_error(
    statement: Statement,
    message: str,
    parse: Callable[[str], str | None],
    *,
    closer: str = " ;",
) -> Token:
    """Find the token a position-free parse error is about.

    For "unexpected token `X`" and "invalid token" the statement is re-parsed one token longer at a
    time, followed by `closer`: the first prefix that fails *at its last token* holds the culprit.
    (Cedar's policy parser reports a truncated policy as "unexpected end of input" even when an
    earlier token is wrong, hence the `;` closer; its schema parser needs none.) Other messages are
    located by the first name they quote; failing that, the statement start.

    Args:
        statement: the statement that failed to parse.
        message: cedarpy's error message for it.
        parse: returns the parse error message for a text, or None if it parses.
        closer: appended to each prefix before parsing it.
    """
    tokens = statement.tokens
    base = tokens[0].start
    token_error = _TOKEN_ERROR.match(message)
    if (token_error or message.endswith("invalid token")) and len(tokens) <= _MAX_PREFIX_SCAN:
        for token in tokens:
            probe = parse(statement.text[: token.end - base] + closer)
            if probe is None:
                continue
            probe_match = _TOKEN_ERROR.match(probe)
            if probe_match is not None and probe_match.group(1) == token.text:
                return token
            if not token_error and probe.endswith("invalid token"):
                return token
    if message.endswith(_EOF_ERROR):
        return tokens[-1]
    return locate_name(statement.tokens, message) or tokens[0]


def locate_name(tokens: tuple[Token, ...], message: str, *, last: bool = False) -> Token | None:
    """The token a message names (in backticks, or after its last `: `), if there is one.

    `Action::"reed"` is also looked for as `"reed"`, and `approvals.bogus` as `bogus`. An exact
    token match wins over a token merely containing the name (such as a string literal).
    """
    names = _BACKTICKED.findall(message)
    if not names and ": " in message:
        names = [message.rsplit(": ", 1)[1].strip()]
    for name in names:
        for candidate in _name_variants(name):
            found = _find(tokens, candidate, last=last)
            if found is not None:
                return found
    return None


def _name_variants(name: str) -> list[str]:
    variants = [name]
    if "::" in name:
        variants.append(name.rsplit("::", 1)[1])
    if "." in name and not name.startswith('"'):
        variants.append(name.rsplit(".", 1)[1])
    return [v for v in variants if v and not re.fullmatch(r"policy[0-9]+", v)]


def _find(tokens: tuple[Token, ...], name: str, *, last: bool) -> Token | None:
    ordered = [t for t in (reversed(tokens) if last else tokens) if not t.comment]
    quoted = f'"{name}"'
    tests: tuple[Callable[[str], bool], ...] = (
        lambda text: text == name,
        lambda text: text == quoted,
        lambda text: text.startswith('"') and name in text,
    )
    for test in tests:
        for token in ordered:
            if test(token.text):
                return token
    return None
