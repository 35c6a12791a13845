"""Review through the service: status workflow, notes, tags, safe preview, search, DKIM (§7)."""

from __future__ import annotations

import base64
import unicodedata
from email.message import EmailMessage
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.vaults import TestVault, make_vault
from vault.errors import UsageError
from vault.service import Filter, Receipt


def _check_in(test_vault: TestVault, folder: Path) -> Receipt:
    with test_vault.open() as vault:
        return vault.check_in([folder], collection="leak", source="tests")


def test_status_workflow_history_and_notes_survive_reopening(
    test_vault: TestVault, tmp_path: Path
) -> None:
    (tmp_path / "doc.txt").write_text("a document\n")
    oid = _check_in(test_vault, tmp_path / "doc.txt").items[0].oid
    assert oid is not None
    with test_vault.open() as vault:
        with pytest.raises(UsageError, match="cannot go from unverified to authentic"):
            vault.mark(oid, "authentic")
        vault.mark(oid, "in-review")
        vault.mark(oid, "authentic", "metadata checks out")
        with pytest.raises(UsageError, match="needs a note"):
            vault.mark(oid, "in-review")
        vault.mark(oid, "in-review", "a second source contradicts it")
        vault.mark(oid, "disputed", "two sources disagree")
        vault.add_note(oid, "called the treasurer's office")
        assert vault.tag(oid, ["finance", "callback"]) == ("callback", "finance")
        assert vault.tag(oid, ["callback"], remove=True) == ("finance",)
    with test_vault.open("bob") as vault:
        detail = vault.show(oid)
        assert [d.oid for d in vault.documents(where=Filter(tag="finance"))] == [oid]
        assert vault.documents(where=Filter(status="authentic")) == []
    assert detail.document.status == "disputed"
    assert [(h.old, h.new) for h in detail.history] == [
        ("unverified", "in-review"),
        ("in-review", "authentic"),
        ("authentic", "in-review"),
        ("in-review", "disputed"),
    ]
    assert detail.history[1].note == "metadata checks out"
    assert [(n.member, n.text) for n in detail.notes] == [
        ("alice", "called the treasurer's office")
    ]
    assert detail.document.tags == ("finance",)


@pytest.fixture(scope="module")
def corpus_vault(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> TestVault:
    """Documents, mail and hostile office files from the corpus, checked in once."""
    test_vault = make_vault(tmp_path_factory.mktemp("review"))
    folders = [
        corpus_dir / "documents" / "variations",
        corpus_dir / "email" / "eml",
        corpus_dir / "documents" / "pdf",
        corpus_dir / "hostile" / "office",
        corpus_dir / "hostile" / "xml",
        corpus_dir / "documents" / "text",
    ]
    with test_vault.open() as vault:
        vault.check_in(folders, collection="leak")
    return test_vault


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"Proin lacinia cursus congue"', "lorem-ipsum.txt"),
        ('"Proin lacinia cursus congue"', "lorem-ipsum.docx"),
        ('"Proin lacinia cursus congue"', "lorem-ipsum.pdf"),
        ("GTUBE", "mail-parser-gtube.eml"),
        ('"Привет"', "multilang.pdf"),
    ],
)
def test_search_finds_text_mail_pdf_and_docx(
    corpus_vault: TestVault, query: str, expected: str
) -> None:
    with corpus_vault.open("bob") as vault:
        names = [h.document.name for h in vault.search(query, limit=50)]
    assert expected in names


def test_an_exact_phrase_ranks_first(corpus_vault: TestVault, tmp_path: Path) -> None:
    folder = tmp_path / "ranking"
    folder.mkdir()
    (folder / "scattered.txt").write_text(
        "offshore filing notes. " + "the account was mentioned. " * 20 + "later, offshore again."
    )
    (folder / "exact.txt").write_text("They moved it to the offshore account before the vote.")
    with corpus_vault.open() as vault:
        vault.check_in([folder], collection="leak")
        hits = vault.search('"offshore account"')
        loose = vault.search("offshore account")
    assert [h.document.name for h in hits] == ["exact.txt"]
    assert loose[0].document.name == "exact.txt"
    assert "«offshore account»" in hits[0].snippet


def test_search_refuses_malformed_queries(corpus_vault: TestVault) -> None:
    with corpus_vault.open() as vault, pytest.raises(UsageError, match="cannot understand"):
        vault.search('"unbalanced')


def test_xml_bombs_in_office_files_are_indexed_safely(corpus_vault: TestVault) -> None:
    with corpus_vault.open() as vault:
        docs = {d.name: d for d in vault.documents()}
        detail = vault.show(docs["billion-laughs-54764.xlsx"].oid)
    assert detail.index_error  # refused (a DTD), recorded, not fatal
    assert "lol" not in detail.index_error.lower() or "dtd" in detail.index_error.lower()


def test_every_preview_is_safe(corpus_vault: TestVault) -> None:
    with corpus_vault.open() as vault:
        for doc in vault.documents():
            _, shown = vault.preview(doc.oid)
            for ch in shown.text:
                assert ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"), (doc.name, ch)


def _signed(key: rsa.RSAPrivateKey, body_text: str) -> bytes:
    message = EmailMessage()
    message["From"] = "cfo@example.org"
    message["To"] = "press@example.org"
    message["Subject"] = "Quarterly figures"
    message.set_content(body_text)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    raw = message.as_bytes().replace(b"\n", b"\r\n")
    signature: bytes = dkim.sign(
        raw, b"s2017", b"example.org", pem, include_headers=[b"from", b"to", b"subject"]
    )
    return signature + raw


def test_dkim_evidence_from_check_in_and_re_check(test_vault: TestVault, tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    folder = tmp_path / "mail"
    folder.mkdir()
    signed = _signed(key, "Revenue fell by 12 percent.\n")
    (folder / "genuine.eml").write_bytes(signed)
    (folder / "altered.eml").write_bytes(signed.replace(b"12 percent", b"13 percent"))
    (folder / "other-selector.eml").write_bytes(signed.replace(b"s=s2017", b"s=s2018"))
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    archive = f"s2017._domainkey.example.org v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"
    with test_vault.open() as vault:
        vault.check_in([folder], collection="leak")
        before = {d.name: d.dkim for d in vault.documents()}
        vault.import_dkim_keys(archive + "\n")
        counts = vault.check_mail()
        after = {d.name: d.dkim for d in vault.documents()}
    assert set(before.values()) == {"key-missing"}
    assert after == {
        "genuine.eml": "pass",
        "altered.eml": "body-altered",
        "other-selector.eml": "key-missing",
    }
    assert counts == {"pass": 1, "body-altered": 1, "key-missing": 1}


def test_only_the_policy_may_change_the_dkim_archive(test_vault: TestVault) -> None:
    from vault.errors import Refused

    with test_vault.open("bob") as vault, pytest.raises(Refused):
        vault.import_dkim_keys("s._domainkey.example.org v=DKIM1; k=rsa; p=\n")
