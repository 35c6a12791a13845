"""DKIM verification of leaked e-mail against an offline archive of DKIM public keys.

A valid DKIM signature proves that the body and the signed header fields left the signing domain
unchanged — the way newsrooms authenticated leaked mail in practice — provided the domain's key
*at the time* is known. The workstation is offline, so keys come only from a `KeyArchive`
(`vault.review.dkim_keys`): verification never opens a socket or asks a resolver, and a key the
archive lacks is reported `key-missing`, never looked up.

`verify` checks every DKIM-Signature (up to `MAX_SIGNATURES`) with dkimpy and reports the first
that passes, else the most informative failure, as a `DkimResult`:

- `pass`: the signed header fields and the body are as the domain signed them;
- `body-altered`: the header signature verifies, so the body hash it carries is the signer's, and
  the body does not match it — or content was appended past the signed length (`l=`);
- `fail`: the header signature does not verify (a signed header was changed, or the signature is
  not genuine), the key is too weak to prove anything, the key forbids the signature's algorithm,
  or an unsigned copy of a signed singleton header (a second Subject) was added;
- `key-missing`: the archive holds no key (or only a revoked one) for the selector;
- `no-signature`: the message has no DKIM-Signature;
- `error`: the signature or message is malformed, or too large to check.

How each signature is judged — and how dkimpy's wall-clock checks and its body-hash report are
worked around — is described in `vault.review.dkim_signature`. Time: see `VERIFICATION_TIME_NOTE`.

Every result's `detail`, `domain` and `selector` are escaped (`vault.ingest.names.escape`): they
come from attacker-controlled headers but are safe to print. `verify` never raises on any message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from vault.errors import UsageError
from vault.review.dkim_keys import KeyArchive, parse_key_archive
from vault.review.dkim_result import DkimResult, DkimStatus

__all__ = [
    "MAX_MESSAGE_BYTES",
    "MAX_SIGNATURES",
    "VERIFICATION_TIME_NOTE",
    "DkimResult",
    "DkimStatus",
    "KeyArchive",
    "parse_key_archive",
    "verify",
]

MAX_MESSAGE_BYTES: Final = 64 * 1024 * 1024
MAX_SIGNATURES: Final = 8
_MAX_DETAIL: Final = 400
_RANK: Final[dict[str, int]] = {
    "pass": 5,
    "body-altered": 4,
    "fail": 3,
    "key-missing": 2,
    "error": 1,
    "no-signature": 0,
}

VERIFICATION_TIME_NOTE: Final = (
    "DKIM signature expiry (x=) is not enforced: leaked mail is verified years after it was "
    "sent, and an expired signature still proves what the domain signed. Expiry and a signing "
    "time (t=) later than the verification time are reported in the detail, measured against "
    "the `now` the caller passes; dkimpy's own checks against the wall clock are bypassed."
)


def verify(message: bytes, archive: KeyArchive, *, now: datetime) -> DkimResult:
    """Verify a message's DKIM signatures against archived keys only.

    Args:
        message: the raw message as received (CRLF or LF line ends), at most `MAX_MESSAGE_BYTES`.
        archive: the keys to verify with; nothing else is consulted.
        now: the verification instant, timezone-aware (from the caller's `Clock`); used only to
            describe expired or future-dated signatures, see `VERIFICATION_TIME_NOTE`.

    Returns:
        The first passing signature's result, else the most informative failure. Never raises
        because of the message's content.

    Raises:
        UsageError: `now` is naive.
    """
    if now.tzinfo is None:
        raise UsageError("DKIM verification needs a timezone-aware instant")
    try:
        return _verify(message, archive, now)
    except Exception as exc:  # hostile input must never escape as an exception
        return DkimResult("error", None, None, f"verification failed: {type(exc).__name__}")


def _verify(message: bytes, archive: KeyArchive, now: datetime) -> DkimResult:
    if len(message) > MAX_MESSAGE_BYTES:
        return DkimResult(
            "error", None, None, f"message too large to verify ({len(message)} bytes; limit 64 MiB)"
        )
    # dkimpy, and the dnspython it loads, only once a message is verified: not at every import.
    from vault.review.dkim_message import Body, MalformedMessage, split_message
    from vault.review.dkim_signature import SignatureChecker

    try:
        headers, raw_body = split_message(message)
    except MalformedMessage as exc:
        return DkimResult("error", None, None, f"malformed header section: {exc}")
    signatures = [h for h in headers if h[0].lower() == b"dkim-signature"]
    if not signatures:
        return DkimResult("no-signature", None, None, "no DKIM-Signature header")
    checker = SignatureChecker(headers, Body(raw_body), archive, int(now.timestamp()))
    results: list[DkimResult] = []
    for signature in signatures[:MAX_SIGNATURES]:
        result = checker.check(signature)
        results.append(result)
        if result.status == "pass":
            break
    best = max(results, key=lambda r: _RANK[r.status])  # max keeps the first of equals
    others = [r for r in results if r is not best]
    suffix = ""
    if others:
        shown = ", ".join(f"{r.status} ({r.domain or '?'})" for r in others[:3])
        suffix = f"; other signatures: {shown}" + (", …" if len(others) > 3 else "")
    if len(signatures) > MAX_SIGNATURES and best.status != "pass":
        suffix += f"; only the first {MAX_SIGNATURES} of {len(signatures)} signatures were checked"
    return DkimResult(best.status, best.domain, best.selector, _short(best.detail + suffix))


def _short(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"
