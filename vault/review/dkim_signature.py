"""One DKIM signature checked against archived keys: what `vault.review.dkim.verify` builds on.

`SignatureChecker` holds one message's header fields and body and judges each of its signatures:

1. The tag list is parsed and validated by dkimpy, without `t=` and `x=` — dkimpy's validator
   compares those with `time.time()` and rejects an expired signature, which the library must not
   do (see `vault.review.dkim.VERIFICATION_TIME_NOTE`). They are checked here, against `now`.
2. The key comes from the archive only: every record under `<s>._domainkey.<d>` is tried, through
   a DNS function (`dnsfunc`) that answers for that one name and nothing else. An empty `p=` is a
   revoked key. A key of the wrong type, or whose `h=`, `s=` or `t=s` forbid the signature, fails
   before any cryptography.
3. The body hash is computed here, with dkimpy's canonicalization (`vault.review.dkim_message`),
   and dkimpy verifies the header signature alone: given tags without `bh=` it skips the body, yet
   the signed DKIM-Signature header it hashes still carries the `bh=` value. dkimpy, checking the
   body first, would only say "body hash mismatch" in an exception; knowing both answers is what
   tells a changed body (the header signature verifies, so `bh=` is the signer's) from a signature
   that is not genuine.
4. A verified signature still fails if the message holds more copies of a signed singleton header
   (Subject, From…) than were signed: the unsigned one may be the one a mail client shows.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

import dkim
from dkim.canonicalization import (
    CanonicalizationPolicy,
    InvalidCanonicalizationPolicyError,
)
from dkim.util import InvalidTagValueList, parse_tag_value

from vault.ingest.names import escape
from vault.review.dkim_keys import KeyArchive, tag_list
from vault.review.dkim_message import Body
from vault.review.dkim_result import DkimResult, DkimStatus

MIN_RSA_BITS: Final = 1024
_MAX_SIGNATURE_BYTES: Final = 4096
_MAX_SIGNATURE_LINES: Final = 64  # dkimpy's b= regex backtracks on long runs of line breaks
_CLOCK_SLOP_SECONDS: Final = 36000  # dkimpy's leeway for signers with wrong clocks
# RFC 5322 allows each of these once: an unsigned second copy is what a mail client may show.
_SINGLETONS: Final = frozenset(
    b"from sender reply-to to cc subject date message-id in-reply-to references".split()
)
_NOT_VERIFIED: Final = (
    "the signature does not verify: a signed header was changed, or the signature is not genuine"
)
_HASHES: Final = {b"rsa-sha256": "sha256", b"rsa-sha1": "sha1", b"ed25519-sha256": "sha256"}

# dkimpy logs what it rejects; the library never prints, so its records go nowhere.
_SILENT = logging.Logger("vault.review.dkim.dkimpy", level=logging.CRITICAL + 1)


def show(value: bytes | None, limit: int = 255) -> str | None:
    """A tag value from a hostile header as text safe to print, at most `limit` characters."""
    if value is None:
        return None
    shown = escape(value.decode("utf-8", "surrogateescape"))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _reason(exc: Exception) -> str:
    """dkimpy's message for a rejection, without Python's bytes notation, escaped and short."""
    text = re.sub(r"""\bb'([^']*)'""", r"\1", str(exc))
    return escape(text if len(text) <= 100 else text[:99] + "…")


def _day(timestamp: int) -> str:
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return f"{timestamp} (out of range)"


class _Invalid(Exception):
    """A signature that cannot be checked: it becomes an `error` result with this message."""


class SignatureChecker:
    """Checks the signatures of one message, sharing its parsed headers and canonical bodies."""

    def __init__(
        self, headers: list[list[bytes]], body: Body, archive: KeyArchive, now: int
    ) -> None:
        """Prepare to check the signatures of one message.

        Args:
            headers: the message's header fields, as `split_message` returns them.
            body: its body.
            archive: the keys to verify with.
            now: the verification instant, in seconds since the epoch.
        """
        self._headers = headers
        self._body = body
        self._archive = archive
        self._now = now
        self._dkim = dkim.DKIM(None, logger=_SILENT, minkey=MIN_RSA_BITS)
        self._dkim.headers = headers

    def check(self, signature: list[bytes]) -> DkimResult:
        """Judge one DKIM-Signature header field (`[name, value]`, as found in the headers)."""
        domain: str | None = None
        selector: str | None = None
        try:
            tags = self._tags(signature[1])
            domain, selector = show(tags.get(b"d")), show(tags.get(b"s"))
            self._validate(tags)
            return self._check(signature, tags, domain, selector)
        except _Invalid as exc:
            return DkimResult("error", domain, selector, f"malformed DKIM-Signature: {exc}")

    def _tags(self, value: bytes) -> dict[bytes, bytes]:
        if len(value) > _MAX_SIGNATURE_BYTES or value.count(b"\n") > _MAX_SIGNATURE_LINES:
            raise _Invalid("the header is implausibly long")
        try:
            tags: dict[bytes, bytes] = parse_tag_value(value)
        except InvalidTagValueList:
            raise _Invalid("not a tag=value list") from None
        return tags

    @staticmethod
    def _validate(tags: dict[bytes, bytes]) -> None:
        # dkimpy's validator compares t= and x= with the wall clock: they are checked here instead.
        try:
            dkim.validate_signature_fields({k: v for k, v in tags.items() if k not in (b"t", b"x")})
        except dkim.ValidationError as exc:
            raise _Invalid(_reason(exc)) from None
        except Exception:  # dkimpy's validator indexes into values it has not length-checked
            raise _Invalid("a tag is malformed") from None
        for tag in (b"t", b"x", b"l"):
            if tag in tags and re.fullmatch(rb"\d{1,76}", tags[tag]) is None:
                raise _Invalid(f"{tag.decode()}= is not a decimal number")
        if b"t" in tags and b"x" in tags and int(tags[b"x"]) < int(tags[b"t"]):
            raise _Invalid("it expires before it was made (x= is before t=)")

    def _check(
        self,
        signature: list[bytes],
        tags: dict[bytes, bytes],
        domain: str | None,
        selector: str | None,
    ) -> DkimResult:
        def result(status: DkimStatus, detail: str) -> DkimResult:
            return DkimResult(status, domain, selector, detail)

        try:
            name = (tags[b"s"] + b"._domainkey." + tags[b"d"]).decode("ascii").lower()
        except UnicodeDecodeError:
            raise _Invalid("s= or d= is not ASCII") from None
        records = [(r, tag_list(r)) for r in self._archive.records(name)]
        shown_name = escape(name)
        if not records:
            return result("key-missing", f"no archived key for {shown_name}")
        usable = [(r, t) for r, t in records if re.sub(r"\s+", "", t["p"])]
        if not usable:
            return result(
                "key-missing",
                f"the archived key for {shown_name} is revoked (empty p=): "
                "archive the key published when the mail was sent",
            )
        try:
            policy = CanonicalizationPolicy.from_c_value(tags.get(b"c", b"simple/simple"))
            expected = base64.b64decode(re.sub(rb"\s+", b"", tags[b"bh"]), validate=True)
        except (InvalidCanonicalizationPolicyError, binascii.Error):
            raise _Invalid("c= or bh= is malformed") from None
        algorithm = tags[b"a"]
        body_problem = self._body_problem(policy, algorithm, tags.get(b"l"), expected)

        mismatches: list[str] = []
        failures: list[str] = []
        for record, key_tags in usable:
            mismatch = _key_problem(key_tags, tags, algorithm)
            if mismatch is not None:
                mismatches.append(mismatch)
                continue
            problem = self._header_problem(signature, tags, name, record)
            if problem is None:
                return self._verified(result, tags, body_problem, key_tags)
            failures.append(problem)
        if not failures:
            return result("fail", mismatches[0])
        detail = failures[0]
        if body_problem is not None and detail == _NOT_VERIFIED:
            detail = (
                "neither the signed headers nor the body match the signature: the message was "
                "changed after signing, or the signature is not genuine"
            )
        return result("fail", detail)

    def _body_problem(
        self,
        policy: CanonicalizationPolicy,
        algorithm: bytes,
        length: bytes | None,
        expected: bytes,
    ) -> str | None:
        canonical = self._body.canonical(policy.body_algorithm)
        signed = None if length is None else int(length)
        if signed is not None and signed > len(canonical):
            return f"the body is shorter than the {signed} bytes signed: it was cut after signing"
        if self._body.digest(policy.body_algorithm, _HASHES[algorithm], signed) != expected:
            return "body hash mismatch: the body was changed after signing"
        if signed is not None and signed < len(canonical):
            return (
                f"only the first {signed} bytes of the body are signed: "
                f"{len(canonical) - signed} bytes were added after them"
            )
        return None

    def _header_problem(
        self, signature: list[bytes], tags: dict[bytes, bytes], name: str, record: str
    ) -> str | None:
        wanted = name.encode()

        def lookup(qname: bytes, timeout: int = 5) -> bytes | None:
            return record.encode() if qname.lower().rstrip(b".") == wanted else None

        include = _signed_names(tags)
        without_body = {k: v for k, v in tags.items() if k != b"bh"}
        try:
            verified = self._verify_sig(without_body, include, signature, lookup)
        except dkim.KeyFormatError as exc:
            if self._dkim.keysize and self._dkim.keysize < MIN_RSA_BITS:
                return (
                    f"the key is only {self._dkim.keysize} bits: too weak to prove anything "
                    f"(at least {MIN_RSA_BITS} needed)"
                )
            return f"the archived key cannot be used: {_reason(exc)}"
        except dkim.DKIMException as exc:
            return f"the signature cannot be checked: {_reason(exc)}"
        return None if verified else _NOT_VERIFIED

    def _verify_sig(
        self,
        tags: dict[bytes, bytes],
        include: list[bytes],
        signature: list[bytes],
        lookup: Callable[..., bytes | None],
    ) -> bool:
        verified: bool = self._dkim.verify_sig(tags, include, signature, lookup)
        return verified

    def _verified(
        self,
        result: Callable[[DkimStatus, str], DkimResult],
        tags: dict[bytes, bytes],
        body_problem: str | None,
        key_tags: dict[str, str],
    ) -> DkimResult:
        """The header signature verifies with an archived key: judge the rest."""
        extra = self._unsigned_copies(tags)
        if extra:
            return result(
                "fail",
                f"the message has an unsigned extra {extra} header, added after signing "
                "(the signed one may not be the one shown)",
            )
        if body_problem is not None:
            return result("body-altered", body_problem + " (the signed headers are intact)")
        signed = [escape(h.decode("ascii", "replace")) for h in _signed_names(tags)]
        listed = ", ".join(dict.fromkeys(signed))
        notes = self._notes(tags, key_tags)
        return result(
            "pass",
            f"signature verified: the body and the signed headers ({_short_list(listed)}) are as "
            f"the domain signed them" + "".join(f"; {n}" for n in notes),
        )

    def _unsigned_copies(self, tags: dict[bytes, bytes]) -> str | None:
        include = _signed_names(tags)
        for name in dict.fromkeys(include):
            if name in _SINGLETONS:
                present = sum(1 for h in self._headers if h[0].lower() == name)
                if present > include.count(name):
                    return escape(name.decode("ascii", "replace")).title()
        return None

    def _notes(self, tags: dict[bytes, bytes], key_tags: dict[str, str]) -> list[str]:
        notes: list[str] = []
        if b"t" in tags:
            signed_at = int(tags[b"t"])
            notes.append(f"signed {_day(signed_at)}")
            if signed_at > self._now + _CLOCK_SLOP_SECONDS:
                notes.append("the signing time is after the verification time")
        if b"x" in tags and int(tags[b"x"]) < self._now:
            notes.append(f"expired {_day(int(tags[b'x']))} (expiry is not enforced)")
        if tags[b"a"] == b"rsa-sha1":
            notes.append("rsa-sha1, deprecated by RFC 8301: weaker evidence")
        if "y" in [flag.strip() for flag in key_tags.get("t", "").split(":")]:
            notes.append("the key was published in testing mode (t=y)")
        return notes


def _signed_names(tags: dict[bytes, bytes]) -> list[bytes]:
    """The h= list, lowercased, as dkimpy reads it (a fresh list: dkimpy appends to it)."""
    return [h.lower() for h in re.split(rb"\s*:\s*", tags[b"h"].strip())]


def _short_list(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _key_problem(key: dict[str, str], tags: dict[bytes, bytes], algorithm: bytes) -> str | None:
    """Why an archived key cannot have made this signature, before any cryptography."""
    kind = key.get("k", "rsa")
    if not algorithm.decode("ascii").startswith(kind + "-"):
        return f"the archived key is {kind} but the signature is {escape(algorithm.decode())}"
    allowed = [h.strip() for h in key.get("h", "").split(":") if h.strip()]
    if allowed and _HASHES[algorithm] not in allowed:
        return f"the archived key allows only {escape(':'.join(allowed))} signatures"
    services = [s.strip() for s in key.get("s", "*").split(":")]
    if "*" not in services and "email" not in services:
        return "the archived key is not for e-mail (s=)"
    flags = [f.strip() for f in key.get("t", "").split(":")]
    identity = tags.get(b"i", b"@" + tags[b"d"]).rpartition(b"@")[2].lower()
    if "s" in flags and identity != tags[b"d"].lower():
        return "the archived key requires i= to be in the signing domain itself (t=s)"
    return None
