"""DKIM verification against an offline key archive: messages signed here with dkimpy."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dkim
import dns.resolver
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from dkim.canonicalization import CanonicalizationPolicy
from dkim.crypto import parse_pem_private_key

from vault.errors import UsageError
from vault.review.dkim import (
    MAX_MESSAGE_BYTES,
    MAX_SIGNATURES,
    DkimResult,
    KeyArchive,
    parse_key_archive,
    verify,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
STATUSES = {"pass", "fail", "body-altered", "key-missing", "no-signature", "error"}
MESSAGE = (
    b"From: Campaign Treasurer <treasurer@example.com>\r\n"
    b"To: Director <director@example.org>\r\n"
    b"Subject: Offshore transfer\r\n"
    b"Date: Fri, 05 May 2017 10:00:00 +0200\r\n"
    b"Message-ID: <20170505100000.1@example.com>\r\n"
    b"\r\n"
    b"The transfer of 2,000,000 went out this morning.\r\n"
    b"Delete this message.\r\n"
)

# Audit hooks cannot be removed: this one records socket events only while a test is watching.
_socket_events: list[str] = []
_watching: list[bool] = []


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _watching and event.startswith("socket."):
        _socket_events.append(event)
        raise PermissionError(f"network access during DKIM verification: {event}")


sys.addaudithook(_hook)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail any test whose code opens a socket or asks a DNS resolver for anything."""
    asked: list[object] = []

    def resolver(*args: object, **kwargs: object) -> None:
        asked.append(args)
        raise AssertionError("DNS resolver called")

    monkeypatch.setattr(dns.resolver, "resolve", resolver)
    monkeypatch.setattr(dkim.dnsplug, "_get_txt", resolver)
    _socket_events.clear()
    _watching.append(True)
    try:
        yield
    finally:
        _watching.clear()
    assert _socket_events == []
    assert asked == []


@dataclass(frozen=True)
class Key:
    """A signing key as dkimpy takes it and the TXT record a domain would publish for it."""

    private: bytes
    record: str
    algorithm: bytes


@pytest.fixture(scope="module")
def rsa_key() -> Key:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _rsa(key)


def _rsa(key: rsa.RSAPrivateKey) -> Key:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"
    return Key(private, record, b"rsa-sha256")


@pytest.fixture(scope="module")
def other_rsa_key() -> Key:
    return _rsa(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def ed_key() -> Key:
    key = ed25519.Ed25519PrivateKey.generate()
    public = base64.b64encode(key.public_key().public_bytes_raw()).decode()
    return Key(
        base64.b64encode(key.private_bytes_raw()),
        f"v=DKIM1; k=ed25519; p={public}",
        b"ed25519-sha256",
    )


@pytest.fixture(params=["rsa", "ed25519"])
def key(request: pytest.FixtureRequest, rsa_key: Key, ed_key: Key) -> Key:
    return rsa_key if request.param == "rsa" else ed_key


def sign(
    message: bytes,
    key: Key,
    *,
    selector: bytes = b"s2017",
    domain: bytes = b"example.com",
    **options: Any,
) -> bytes:
    """The message with a DKIM-Signature made by dkimpy prepended."""
    header: bytes = dkim.sign(
        message, selector, domain, key.private, signature_algorithm=key.algorithm, **options
    )
    return header + message


def sign_with_tags(message: bytes, key: Key, tags: list[tuple[bytes, bytes]]) -> bytes:
    """Sign with RSA and extra tags (dkimpy's `sign` cannot set x=)."""
    signer = dkim.DKIM(message, signature_algorithm=b"rsa-sha256")
    signer.hasher = hashlib.sha256
    policy = CanonicalizationPolicy.from_c_value(b"relaxed/simple")
    body_hash = base64.b64encode(hashlib.sha256(policy.canonicalize_body(signer.body)).digest())
    include = [b"from", b"to", b"subject", b"date", b"message-id"]
    fields = [
        (b"v", b"1"),
        (b"a", b"rsa-sha256"),
        (b"c", b"relaxed/simple"),
        (b"d", b"example.com"),
        (b"s", b"s2017"),
        *tags,
        (b"h", b":".join(include)),
        (b"bh", body_hash),
        (b"b", b""),
    ]
    value: bytes = signer.gen_header(
        fields, include, policy, b"DKIM-Signature", parse_pem_private_key(key.private)
    )
    return b"DKIM-Signature:" + value + message


def archive_of(*records: tuple[str, Key | str]) -> KeyArchive:
    lines = [f"{name} {k if isinstance(k, str) else k.record}" for name, k in records]
    return parse_key_archive("\n".join(lines))


def check(message: bytes, archive: KeyArchive) -> DkimResult:
    result = verify(message, archive, now=NOW)
    assert result.status in STATUSES
    assert "\x1b" not in result.detail
    return result


def test_a_signed_message_passes(key: Key) -> None:
    result = check(sign(MESSAGE, key), archive_of(("s2017._domainkey.example.com", key)))
    assert (result.status, result.domain, result.selector) == ("pass", "example.com", "s2017")
    assert "from, to, subject, date, message-id" in result.detail


def test_names_match_whatever_their_case(rsa_key: Key) -> None:
    signed = sign(MESSAGE, rsa_key, selector=b"S2017", domain=b"Example.COM")
    result = check(signed, archive_of(("s2017._domainkey.EXAMPLE.com.", rsa_key)))
    assert result.status == "pass"


def test_a_one_byte_body_change_is_body_altered(key: Key) -> None:
    signed = sign(MESSAGE, key).replace(b"2,000,000", b"2,000,001")
    result = check(signed, archive_of(("s2017._domainkey.example.com", key)))
    assert result.status == "body-altered"
    assert "body hash mismatch" in result.detail
    assert "headers are intact" in result.detail


def test_a_changed_signed_header_fails(key: Key) -> None:
    signed = sign(MESSAGE, key).replace(b"Offshore transfer", b"Onshore transfer")
    result = check(signed, archive_of(("s2017._domainkey.example.com", key)))
    assert result.status == "fail"
    assert "signed header was changed" in result.detail


def test_header_and_body_both_changed_fail(rsa_key: Key) -> None:
    signed = sign(MESSAGE, rsa_key).replace(b"Offshore", b"Onshore").replace(b"Delete", b"Keep")
    result = check(signed, archive_of(("s2017._domainkey.example.com", rsa_key)))
    assert result.status == "fail"
    assert "neither the signed headers nor the body" in result.detail


def test_an_unsigned_header_may_change(rsa_key: Key) -> None:
    signed = sign(MESSAGE, rsa_key, include_headers=[b"from", b"subject"])
    changed = signed.replace(b"director@example.org", b"someone@example.net")
    result = check(changed, archive_of(("s2017._domainkey.example.com", rsa_key)))
    assert result.status == "pass"
    assert "(from, subject)" in result.detail


def test_an_added_copy_of_a_signed_singleton_header_fails(rsa_key: Key) -> None:
    signed = sign(MESSAGE, rsa_key, include_headers=[b"from", b"subject", b"date"])
    result = check(
        b"Subject: Lunch menu\r\n" + signed,
        archive_of(("s2017._domainkey.example.com", rsa_key)),
    )
    assert result.status == "fail"
    assert "unsigned extra Subject header" in result.detail


def test_an_unknown_selector_is_key_missing(key: Key) -> None:
    result = check(sign(MESSAGE, key), archive_of(("other._domainkey.example.com", key)))
    assert (result.status, result.selector) == ("key-missing", "s2017")
    assert "s2017._domainkey.example.com" in result.detail


def test_a_revoked_key_is_key_missing(rsa_key: Key) -> None:
    result = check(
        sign(MESSAGE, rsa_key), archive_of(("s2017._domainkey.example.com", "v=DKIM1; p="))
    )
    assert result.status == "key-missing"
    assert "revoked" in result.detail


def test_an_unsigned_message_has_no_signature(rsa_key: Key) -> None:
    result = check(MESSAGE, archive_of(("s2017._domainkey.example.com", rsa_key)))
    assert result == DkimResult("no-signature", None, None, "no DKIM-Signature header")


def test_another_key_under_the_selector_fails(rsa_key: Key, other_rsa_key: Key) -> None:
    result = check(
        sign(MESSAGE, other_rsa_key), archive_of(("s2017._domainkey.example.com", rsa_key))
    )
    assert result.status == "fail"


def test_every_key_a_rotated_selector_had_is_tried(
    rsa_key: Key, other_rsa_key: Key, ed_key: Key
) -> None:
    older = other_rsa_key
    archive = archive_of(
        ("s2017._domainkey.example.com", ed_key),
        ("s2017._domainkey.example.com", rsa_key),
        ("s2017._domainkey.example.com", older),
    )
    assert check(sign(MESSAGE, rsa_key), archive).status == "pass"
    assert check(sign(MESSAGE, older), archive).status == "pass"


def test_a_key_of_the_wrong_type_fails(rsa_key: Key, ed_key: Key) -> None:
    result = check(sign(MESSAGE, rsa_key), archive_of(("s2017._domainkey.example.com", ed_key)))
    assert result.status == "fail"
    assert "the archived key is ed25519" in result.detail


@pytest.mark.parametrize(
    ("key_tags", "reason"),
    [
        ("h=sha1;", "allows only sha1"),
        ("s=tlsrpt;", "not for e-mail"),
        ("t=s;", "t=s"),
    ],
)
def test_restrictions_in_the_key_record_are_enforced(
    rsa_key: Key, key_tags: str, reason: str
) -> None:
    signed = sign(MESSAGE, rsa_key, identity=b"treasurer@mail.example.com")
    record = rsa_key.record.replace("k=rsa;", f"k=rsa; {key_tags}")
    result = check(signed, archive_of(("s2017._domainkey.example.com", record)))
    assert result.status == "fail"
    assert reason in result.detail


def test_a_testing_mode_key_is_noted(rsa_key: Key) -> None:
    record = rsa_key.record.replace("k=rsa;", "k=rsa; t=y;")
    result = check(sign(MESSAGE, rsa_key), archive_of(("s2017._domainkey.example.com", record)))
    assert result.status == "pass"
    assert "testing mode" in result.detail


def test_a_key_below_the_minimum_size_fails(rsa_key: Key, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vault.review.dkim_signature.MIN_RSA_BITS", 4096)
    result = check(sign(MESSAGE, rsa_key), archive_of(("s2017._domainkey.example.com", rsa_key)))
    assert result.status == "fail"
    assert "only 2048 bits" in result.detail


def test_rsa_sha1_passes_as_weaker_evidence(rsa_key: Key) -> None:
    sha1 = Key(rsa_key.private, rsa_key.record, b"rsa-sha1")
    result = check(sign(MESSAGE, sha1), archive_of(("s2017._domainkey.example.com", rsa_key)))
    assert result.status == "pass"
    assert "RFC 8301" in result.detail


def test_content_appended_past_the_signed_length_is_body_altered(rsa_key: Key) -> None:
    archive = archive_of(("s2017._domainkey.example.com", rsa_key))
    signed = sign(MESSAGE, rsa_key, length=True)
    assert check(signed, archive).status == "pass"
    result = check(signed + b"P.S. The money went to the party.\r\n", archive)
    assert result.status == "body-altered"
    assert "were added after them" in result.detail
    cut = check(signed.replace(b"Delete this message.\r\n", b""), archive)
    assert cut.status == "body-altered"


def test_canonicalizations_and_line_ends(rsa_key: Key) -> None:
    archive = archive_of(("s2017._domainkey.example.com", rsa_key))
    for c in [(b"simple", b"simple"), (b"relaxed", b"relaxed"), (b"simple", b"relaxed")]:
        signed = sign(MESSAGE + b"\r\n\r\n", rsa_key, canonicalize=c)
        assert check(signed, archive).status == "pass", c
        assert check(signed.replace(b"\r\n", b"\n"), archive).status == "pass", c
    relaxed = sign(MESSAGE, rsa_key, canonicalize=(b"relaxed", b"relaxed"))
    respaced = relaxed.replace(b"went out", b"went  \t out").replace(
        b"message.\r\n", b"message. \r\n"
    )
    assert check(respaced, archive).status == "pass"


def test_the_first_passing_signature_is_reported(rsa_key: Key, ed_key: Key) -> None:
    twice = sign(sign(MESSAGE, ed_key, domain=b"esp.example.net"), rsa_key)
    result = check(twice, archive_of(("s2017._domainkey.esp.example.net", ed_key)))
    assert (result.status, result.domain) == ("pass", "esp.example.net")
    assert "other signatures: key-missing (example.com)" in result.detail


def test_the_most_informative_failure_is_reported(rsa_key: Key, ed_key: Key) -> None:
    twice = sign(sign(MESSAGE, ed_key, domain=b"esp.example.net"), rsa_key)
    altered = twice.replace(b"2,000,000", b"3,000,000")
    result = check(altered, archive_of(("s2017._domainkey.esp.example.net", ed_key)))
    assert (result.status, result.domain) == ("body-altered", "esp.example.net")


def test_only_so_many_signatures_are_checked(rsa_key: Key) -> None:
    message = MESSAGE
    for n in range(MAX_SIGNATURES + 2):
        message = sign(message, rsa_key, selector=f"s{n}".encode())
    # s0 signed first, so its header is last: past the limit, its key is never tried.
    result = check(message, archive_of(("s0._domainkey.example.com", rsa_key)))
    assert result.status == "key-missing"
    assert f"only the first {MAX_SIGNATURES} of {MAX_SIGNATURES + 2}" in result.detail


def test_an_expired_signature_still_proves_what_was_signed(rsa_key: Key) -> None:
    signed_at, expired_at = 1_493_971_200, 1_494_576_000  # 2017-05-05, a week later
    signed = sign_with_tags(
        MESSAGE, rsa_key, [(b"t", str(signed_at).encode()), (b"x", str(expired_at).encode())]
    )
    archive = archive_of(("s2017._domainkey.example.com", rsa_key))
    # dkimpy alone refuses it, by the wall clock: why this module checks t= and x= itself.
    assert dkim.verify(signed, dnsfunc=lambda name, timeout=5: rsa_key.record.encode()) is False
    result = check(signed, archive)
    assert result.status == "pass"
    assert "signed 2017-05-05 08:00 UTC" in result.detail
    assert "expired 2017-05-12 08:00 UTC (expiry is not enforced)" in result.detail
    before_expiry = verify(signed, archive, now=datetime(2017, 5, 6, tzinfo=UTC))
    assert before_expiry.status == "pass"
    assert "expired" not in before_expiry.detail


def test_a_signing_time_after_the_verification_time_is_noted(rsa_key: Key) -> None:
    signed = sign_with_tags(MESSAGE, rsa_key, [(b"t", b"4102444800")])  # 2100-01-01
    result = check(signed, archive_of(("s2017._domainkey.example.com", rsa_key)))
    assert result.status == "pass"
    assert "the signing time is after the verification time" in result.detail


def test_verification_never_reads_the_wall_clock(
    rsa_key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed = sign(MESSAGE, rsa_key)
    archive = archive_of(("s2017._domainkey.example.com", rsa_key))

    def no_clock() -> float:
        raise AssertionError("the wall clock was read")

    monkeypatch.setattr(time, "time", no_clock)
    assert verify(signed, archive, now=NOW).status == "pass"


def test_a_naive_instant_is_refused(rsa_key: Key) -> None:
    with pytest.raises(UsageError):
        verify(MESSAGE, KeyArchive(), now=datetime(2025, 1, 1))


def _tamper(signed: bytes, old: bytes, new: bytes) -> bytes:
    assert old in signed
    return signed.replace(old, new, 1)


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: b"DKIM-Signature: nonsense\r\n" + MESSAGE,
        lambda m: b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com\r\n" + MESSAGE,
        lambda m: b"DKIM-Signature: ;;;==;\r\n" + MESSAGE,
        lambda m: b"DKIM-Signature: \x1b[31m\r\n" + MESSAGE,
        lambda m: (
            b"DKIM-Signature: v=1; a=rsa-sha256; d=\xff\xfe; s=a; h=from; bh=AA==; b=AA==\r\n"
            + MESSAGE
        ),
        lambda m: (
            b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; i=example.com; s=s2017; "
            b"h=from; bh=AA==; b=AA==\r\n" + MESSAGE
        ),
        lambda m: b"DKIM-Signature: v=1; " + b"x" * 10_000 + b"\r\n" + MESSAGE,
        lambda m: b"DKIM-Signature: v=1; b=" + b"\r\n " * 5000 + b"!\r\n" + MESSAGE,
        lambda m: _tamper(m, b"a=rsa-sha256", b"a=rsa-md5"),
        lambda m: _tamper(m, b"c=relaxed/simple", b"c=relaxed/baroque"),
        lambda m: _tamper(m, b"d=example.com", b"d=exa(mple.com"),
        lambda m: _tamper(m, b"v=1", b"v=2"),
        lambda m: _tamper(m, b"bh=", b"bh=!!"),
        lambda m: _tamper(m, b"t=", b"t=-"),
        lambda m: _tamper(m, b"t=", b"x=1; t="),
        lambda m: _tamper(m, b"t=", b"l=; t="),
        lambda m: _tamper(m, b"t=", b"l=999999999999999999999999; t="),
        lambda m: _tamper(m, b"b=", b"b=QUFB"),
        lambda m: _tamper(m, b"h=", b"h=x-unseen:"),
    ],
)
def test_malformed_signatures_give_a_result_not_an_exception(
    rsa_key: Key, damage: Callable[[bytes], bytes]
) -> None:
    signed = damage(sign(MESSAGE, rsa_key))
    started = time.perf_counter()
    result = check(signed, archive_of(("s2017._domainkey.example.com", rsa_key)))
    assert result.status in {"error", "fail", "body-altered"}
    assert time.perf_counter() - started < 5


def test_malformed_signatures_do_not_hide_a_good_one(rsa_key: Key) -> None:
    bogus = b"DKIM-Signature: nonsense\r\nDKIM-Signature: v=1; a=rsa-sha256; d=x.example\r\n"
    result = check(
        bogus + sign(MESSAGE, rsa_key), archive_of(("s2017._domainkey.example.com", rsa_key))
    )
    assert result.status == "pass"
    assert "other signatures: error (?), error (x.example)" in result.detail


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (b" folded first\r\nFrom: a\r\n\r\nbody", "starts with a folded line"),
        (b"From: a\r\nnot a header\r\n\r\nbody", "header line 2 is not a header field"),
        (b"X-Big: " + b"a" * (1024 * 1024 + 1) + b"\r\n\r\n", "larger than"),
    ],
)
def test_a_malformed_header_section_is_an_error(message: bytes, reason: str) -> None:
    result = check(message, KeyArchive())
    assert result.status == "error"
    assert reason in result.detail


def test_an_oversized_message_is_an_error_not_a_load() -> None:
    result = check(b"x" * (MAX_MESSAGE_BYTES + 1), KeyArchive())
    assert result.status == "error"
    assert "too large" in result.detail


def test_hostile_shapes_are_handled_in_bounded_time(rsa_key: Key) -> None:
    archive = archive_of(("s2017._domainkey.example.com", rsa_key))
    signed = sign(MESSAGE, rsa_key)
    folded_header = b"X-Folded: a\r\n" + b" b\r\n" * 200_000
    empty_lines = signed + b"\r\n" * 2_000_000
    blank_relaxed = sign(MESSAGE, rsa_key, canonicalize=(b"relaxed", b"relaxed")) + (
        b" \r\n" * 1_000_000
    )
    for message in (folded_header + signed, empty_lines, blank_relaxed):
        started = time.perf_counter()
        result = check(message, archive)
        assert time.perf_counter() - started < 5
        assert result.status == "pass"


def test_no_single_byte_change_to_a_simple_signature_passes(rsa_key: Key) -> None:
    signed = sign(MESSAGE, rsa_key, canonicalize=(b"simple", b"simple"))
    archive = archive_of(("s2017._domainkey.example.com", rsa_key))
    assert check(signed, archive).status == "pass"
    # b= is the one part the signature cannot cover; its folding whitespace may change freely.
    b_start, b_end = signed.index(b" b=") + 3, signed.index(b"\r\nFrom:") + 2

    def signature_bytes(message: bytes) -> bytes:
        return base64.b64decode(re.sub(rb"\s", b"", message[b_start:b_end]))

    passed = []
    for i in range(len(signed)):
        tampered = signed[:i] + bytes([signed[i] ^ 0x01]) + signed[i + 1 :]
        if verify(tampered, archive, now=NOW).status == "pass":
            passed.append(i)
            assert b_start <= i < b_end
            assert signature_bytes(tampered) == signature_bytes(signed)
    assert len(passed) < 20


def test_every_corpus_message_gives_a_result(corpus_dir: Path) -> None:
    messages = sorted((corpus_dir / "email").rglob("*.eml"))
    assert messages
    statuses = {check(path.read_bytes(), KeyArchive()).status for path in messages}
    assert statuses <= STATUSES
    assert "key-missing" in statuses  # the corpus holds DKIM-signed mail


def test_importing_and_verifying_opens_no_socket() -> None:
    script = """
import sys
events = []
sys.addaudithook(lambda event, args: events.append(event) if event.startswith("socket.") else None)
import base64
from datetime import UTC, datetime
import dkim
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import rsa
from vault.review.dkim import parse_key_archive, verify
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.private_bytes(s.Encoding.PEM, s.PrivateFormat.TraditionalOpenSSL, s.NoEncryption())
der = key.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)
message = b"From: a@example.com\\r\\nSubject: x\\r\\n\\r\\nbody\\r\\n"
signed = dkim.sign(message, b"s", b"example.com", pem) + message
archive = parse_key_archive("s._domainkey.example.com p=" + base64.b64encode(der).decode())
results = [verify(m, archive, now=datetime.now(UTC)).status for m in (signed, message)]
print(results, events)
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert done.stdout.strip() == "['pass', 'no-signature'] []"


# RFC 6376 Appendix C: the public key of the example signature in Appendix A.
RFC6376_KEY = (
    "v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYt"
    "IxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhi"
    "tdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB"
)


def test_the_rfc6376_example_verifies_with_its_published_key(corpus_dir: Path) -> None:
    raw = (corpus_dir / "email" / "eml" / "tika-testRFC822_dkim.eml").read_bytes()
    archive = parse_key_archive(f"brisbane._domainkey.example.com {RFC6376_KEY}")
    result = check(raw, archive)
    assert (result.status, result.domain, result.selector) == ("pass", "example.com", "brisbane")
    assert "(received, from, to, subject, date, message-id)" in result.detail
    assert check(raw.replace(b"hungry", b"Hungry"), archive).status == "body-altered"
    assert check(raw.replace(b"dinner", b"lunch"), archive).status == "fail"
    assert check(raw, KeyArchive()).status == "key-missing"
