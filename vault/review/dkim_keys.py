"""An offline archive of DKIM public keys, as `vault dkim import FILE` reads it.

The workstation never asks DNS for a key: a desk collects the `<selector>._domainkey.<domain>` TXT
records it needs beforehand (or finds them in public archives of historical keys) and imports
them. The text form is one record a line:

    # comments and blank lines are ignored
    20161025._domainkey.gmail.com v=DKIM1; k=rsa; p=MIIBIjANBgkqh...
    s1._domainkey.example.org. 300 IN TXT "v=DKIM1; k=rsa; " "p=MIIBIjANBgkqh..."

The value is either the rest of the line or, as zone files and `dig` print it, one or more quoted
strings (joined without separator, `\\"`, `\\\\` and `\\DDD` escapes understood), optionally after
the zone-file columns `[TTL] [IN] TXT`. Parsing is strict: any malformed line is a `UsageError`
naming its line number, and nothing is imported. Names are lowercased without the trailing dot.
Every value must be a usable DKIM key record: `v=DKIM1` first if present, `k=rsa` (the default)
or `k=ed25519`, and `p=` holding a key that both dkimpy and pyca/cryptography parse — RSA keys of
at most `MAX_RSA_BITS` with a sane public exponent, Ed25519 keys of 32 bytes — or empty, which is
how a domain publishes that a key is revoked.

One name may hold several records: domains rotate keys under the same selector (Microsoft 365's
`selector1`/`selector2` are reused that way), so an archive gathered over the years can hold each
key a selector ever had. The mapping shows the record imported last under each name;
`KeyArchive.records` lists them all, and verification tries each.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Final

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from vault.errors import UsageError
from vault.ingest.names import escape

MAX_LINE_BYTES: Final = 16 * 1024
MAX_RSA_BITS: Final = 8192
_MAX_EXPONENT_BITS: Final = 64
_MAX_NAME_CHARS: Final = 253
_ED25519_KEY_BYTES: Final = 32

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_ZONE_COLUMNS = re.compile(r"(?:\d+\s+)?(?:IN\s+)?(?:\d+\s+)?TXT\s+", re.IGNORECASE)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"\s*')
_ESCAPE = re.compile(r"\\(\d{3}|.)")
_VALUE_CHARS = re.compile(r"[\x20-\x7e\t]*")  # printable ASCII: a key record is nothing else
_WHITESPACE = re.compile(r"\s+")


def tag_list(value: str) -> dict[str, str]:
    """Parse a DKIM tag=value list strictly (RFC 6376 §3.2).

    Args:
        value: the text of a key record (or any tag list).

    Returns:
        Tag names to their values, whitespace around both stripped, in order of appearance.

    Raises:
        ValueError: an empty element, a bad tag name, a missing `=` or a repeated tag.
    """
    specs = value.strip().split(";")
    if specs[-1].strip() == "":
        specs.pop()  # a trailing ';' is allowed
    tags: dict[str, str] = {}
    for spec in specs:
        name, equals, tag_value = spec.partition("=")
        name = name.strip()
        if not equals or _TAG_NAME.fullmatch(name) is None:
            raise ValueError("not a DKIM tag=value list")
        if name in tags:
            raise ValueError(f"tag {name}= appears twice")
        tags[name] = tag_value.strip()
    return tags


def normalise_name(name: str) -> str:
    """Lowercase a key's DNS name and strip the trailing dot, checking its shape.

    Args:
        name: `<selector>._domainkey.<domain>`, in any case, with or without the final dot.

    Returns:
        The name in lowercase, without the trailing dot.

    Raises:
        ValueError: the name is not ASCII, not a DNS name, or not `<selector>._domainkey.<domain>`.
    """
    lowered = name.lower().removesuffix(".")
    if not lowered.isascii():
        raise ValueError("the name must be ASCII (write an international domain as xn--…)")
    labels = lowered.split(".")
    if len(lowered) > _MAX_NAME_CHARS or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError("the name is not a DNS name")
    if labels.count("_domainkey") != 1 or labels[0] == "_domainkey" or labels[-1] == "_domainkey":
        raise ValueError("the name must be <selector>._domainkey.<domain>")
    return lowered


def _check_rsa(der: bytes) -> None:
    from dkim.crypto import parse_public_key  # dkimpy loads dnspython: only an RSA key needs it

    try:
        ours = parse_public_key(der)
        theirs = load_der_public_key(der)
    except Exception:  # both parsers meet attacker-supplied bytes; any failure is a bad key
        raise ValueError("p= is not an RSA public key") from None
    if not isinstance(theirs, rsa.RSAPublicKey):
        raise ValueError("p= is not an RSA public key")
    numbers = theirs.public_numbers()
    if (numbers.n, numbers.e) != (ours["modulus"], ours["publicExponent"]):
        raise ValueError("p= is read differently by different parsers")
    if numbers.n.bit_length() > MAX_RSA_BITS:
        raise ValueError(f"the RSA key is larger than {MAX_RSA_BITS} bits")
    if numbers.e < 3 or numbers.e % 2 == 0 or numbers.e.bit_length() > _MAX_EXPONENT_BITS:
        raise ValueError("the RSA key has an implausible public exponent")


def check_key_record(value: str) -> dict[str, str]:
    """Check that a TXT value is a DKIM key record the verifier can use.

    Args:
        value: the TXT record's text, quoted strings already joined.

    Returns:
        The record's tags.

    Raises:
        ValueError: what is wrong with it, in words fit for a diagnostic.
    """
    if _VALUE_CHARS.fullmatch(value) is None or '"' in value or "\\" in value:
        raise ValueError("the value holds characters no DKIM key record has")
    tags = tag_list(value)
    if "v" in tags and (tags["v"] != "DKIM1" or next(iter(tags)) != "v"):
        raise ValueError("v= must be the first tag and say DKIM1")
    if "p" not in tags:
        raise ValueError("no p= tag: not a DKIM key record")
    kind = tags.get("k", "rsa")
    if kind not in ("rsa", "ed25519"):
        raise ValueError(f"k={escape(kind[:20])} is not a key type DKIM verifies (rsa or ed25519)")
    encoded = _WHITESPACE.sub("", tags["p"])
    if not encoded:
        return tags  # an empty p= is a revoked key: kept, since it is what DNS said
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ValueError("p= is not base64") from None
    if kind == "ed25519":
        if len(key) != _ED25519_KEY_BYTES:
            raise ValueError("p= is not a 32-byte Ed25519 public key")
    else:
        _check_rsa(key)
    return tags


def _unquote(rest: str) -> str:
    strings: list[str] = []
    pos = 0
    while pos < len(rest):
        match = _QUOTED.match(rest, pos)
        if match is None:
            raise ValueError("text outside the quoted strings, or an unterminated quote")
        strings.append(_ESCAPE.sub(_unescape, match.group(1)))
        pos = match.end()
    return "".join(strings)


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) == 3:
        if int(code) > 255:
            raise ValueError(f"\\{code} is not a byte")
        return chr(int(code))
    return code


def _parse_line(line: str) -> tuple[str, str]:
    parts = line.split(None, 1)
    if len(parts) != 2:
        raise ValueError("expected <selector>._domainkey.<domain> and a TXT value")
    name = normalise_name(parts[0])
    rest = parts[1]
    zone = _ZONE_COLUMNS.match(rest)
    if zone is not None:
        rest = rest[zone.end() :]
    value = _unquote(rest) if rest.startswith('"') else rest
    check_key_record(value)
    return name, value.strip()


def parse_key_archive(text: str) -> KeyArchive:
    """Read an archive of DKIM key records, one `<name> <TXT value>` a line.

    Args:
        text: the archive file's text.

    Returns:
        The records, names normalised.

    Raises:
        UsageError: a line is malformed, too long or not a usable DKIM key record; the message
            names the line, and nothing from the text is kept.
    """
    records: list[tuple[str, str]] = []
    for number, line in enumerate(text.split("\n"), start=1):  # numbered as an editor shows
        if len(line.encode("utf-8", "surrogatepass")) > MAX_LINE_BYTES:
            raise UsageError(
                f"line {number}: longer than {MAX_LINE_BYTES // 1024} KiB",
                hint="a DKIM key record is a few hundred bytes: is this a key archive?",
            )
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            records.append(_parse_line(stripped))
        except ValueError as exc:
            raise UsageError(
                f"line {number}: {exc}",
                hint="each line is `<selector>._domainkey.<domain> <TXT record value>`",
            ) from None
    return KeyArchive._trusted(records)


class KeyArchive(Mapping[str, str]):
    """An immutable archive of DKIM key records: name → the record imported last under it.

    `records(name)` lists every record a name holds, oldest import first. Equality compares every
    record; `len` counts names.
    """

    __slots__ = ("_records",)

    _records: dict[str, tuple[str, ...]]

    def __init__(self, records: Iterable[tuple[str, str]] = ()) -> None:
        """Build an archive from `(name, TXT value)` pairs, checking each.

        Raises:
            UsageError: a name or value is not a usable DKIM key record.
        """
        checked: list[tuple[str, str]] = []
        for name, value in records:
            try:
                checked.append((normalise_name(name), value.strip()))
                check_key_record(value.strip())
            except ValueError as exc:
                raise UsageError(f"key record for {escape(name[:300])}: {exc}") from None
        self._records = _collect(checked)

    @classmethod
    def _trusted(cls, records: Iterable[tuple[str, str]]) -> KeyArchive:
        archive = cls.__new__(cls)
        archive._records = _collect(records)
        return archive

    def __getitem__(self, name: str) -> str:
        if not isinstance(name, str):
            raise KeyError(name)
        return self._records[name.lower().removesuffix(".")][-1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeyArchive):
            return NotImplemented
        return self._records == other._records

    def __hash__(self) -> int:
        return hash(frozenset(self._records.items()))

    def __repr__(self) -> str:
        return f"KeyArchive({len(self)} names, {self.record_count} records)"

    @property
    def record_count(self) -> int:
        """How many records the archive holds, over all names."""
        return sum(len(values) for values in self._records.values())

    def records(self, name: str) -> tuple[str, ...]:
        """Every record archived under a name, oldest import first; empty if none.

        Args:
            name: `<selector>._domainkey.<domain>`, in any case, with or without the final dot.
        """
        return self._records.get(name.lower().removesuffix("."), ())

    def merge(self, other: KeyArchive) -> KeyArchive:
        """An archive holding the records of both; `other`'s count as imported later.

        A record already held is not repeated.
        """
        return KeyArchive._trusted(
            [*self._pairs(), *other._pairs()],
        )

    def to_text(self) -> str:
        """The archive as text that `parse_key_archive` reads back to an equal archive.

        Names are sorted; each record is one line with its value as a single quoted string.
        """
        return "".join(f'{name} "{value}"\n' for name, value in sorted(self._pairs(), key=_name))

    def _pairs(self) -> Iterator[tuple[str, str]]:
        for name, values in self._records.items():
            for value in values:
                yield name, value


def _name(pair: tuple[str, str]) -> str:
    return pair[0]


def _collect(records: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Group records by name, keeping the order of first appearance and dropping repeats."""
    grouped: dict[str, list[str]] = {}
    for name, value in records:
        values = grouped.setdefault(name, [])
        if value in values:
            values.remove(value)  # imported again: it now counts as the latest
        values.append(value)
    return {name: tuple(values) for name, values in grouped.items()}
