"""Document screen, review: preview, DKIM evidence, notes and tags through their dialogs, policy
greying out what a member may not do, and the embargo's lift time."""

from __future__ import annotations

import base64
import shutil
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from textual.widgets import TextArea

from tests.tui.helpers import (
    SIZES,
    drive,
    on_top,
    pilot_test,
    resize,
    screen_text,
    settle,
    type_text,
    unlock,
)
from tests.vaults import TestVault
from tui.app import VaultApp
from tui.screens.document import DocumentScreen
from tui.screens.note import NoteScreen
from tui.screens.tags import TagsScreen, split_tags
from tui.widgets.review_sections import DKIM_MEANING
from vault.clock import FixedClock
from vault.service import DocumentView

REPO = Path(__file__).resolve().parents[2]
NO_REPORTER_TAGS = """
// Reporters keep tags to the desk's list: only editors tag.
@id("reporters-do-not-tag")
forbid (principal in Role::"reporter", action == Action::"tag", resource);
"""


def open_document(app: VaultApp, oid: str) -> DocumentScreen:
    app.open_document(oid)
    screen = app.screen
    assert isinstance(screen, DocumentScreen)
    return screen


def whole(screen: DocumentScreen) -> str:
    """The text of every section, including what is scrolled out of view."""
    return "\n".join(str(section.body.render()) for section in screen.sections)


def signed_mail(folder: Path) -> str:
    """A DKIM-signed message and a copy altered after signing; returns the key archive line."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = EmailMessage()
    message["From"] = "cfo@example.org"
    message["To"] = "press@example.org"
    message["Subject"] = "Quarterly figures"
    message.set_content("Revenue fell by 12 percent.\n")
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    raw = message.as_bytes().replace(b"\n", b"\r\n")
    signature: bytes = dkim.sign(
        raw, b"s2017", b"example.org", pem, include_headers=[b"from", b"to", b"subject"]
    )
    folder.mkdir()
    (folder / "genuine.eml").write_bytes(signature + raw)
    (folder / "altered.eml").write_bytes((signature + raw).replace(b"12 percent", b"13 percent"))
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"s2017._domainkey.example.org v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}\n"


def test_tags_split_on_commas_else_on_spaces() -> None:
    assert split_tags("finance  source-a finance") == ("finance", "source-a")
    assert split_tags("source a, finance,, ") == ("source a", "finance")
    assert split_tags("   ") == ()


@pilot_test
async def test_preview_of_mail_and_text_and_dkim_evidence(
    tv: TestVault, clock: FixedClock, stored: dict[str, DocumentView]
) -> None:
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        await unlock(app, pilot)
        open_document(app, stored["budget.eml"].oid)
        await settle(app, pilot)
        await pilot.press("end")
        await settle(app, pilot)
        text = screen_text(app)
        await pilot.press("home")
        await settle(app, pilot)
        text += screen_text(app)
        for line in ("From: treasurer@campaign.example", "Subject: Budget"):
            assert line in text  # the headers
        assert "The rally budget is approved." in text  # and the text part
        assert "e-mail message" in text  # the preview's note
        assert "DKIM evidence" in text
        assert "no-signature" in text
        assert DKIM_MEANING["no-signature"][:40] in text

        await pilot.press("escape")
        await settle(app, pilot)
        open_document(app, stored["memo.txt"].oid)
        await settle(app, pilot)
        text = screen_text(app)
        await pilot.press("end")
        await settle(app, pilot)
        text += screen_text(app)
        assert "Internal memo: not for distribution." in text
        assert "decoded as" in text
        assert "DKIM evidence" not in text  # no mail, no DKIM section


@pilot_test
async def test_dkim_evidence_of_a_signed_mail_and_its_altered_copy(
    tv: TestVault, clock: FixedClock, tmp_path: Path
) -> None:
    with tv.open() as vault:
        vault.import_dkim_keys(signed_mail(tmp_path / "signed"))
        vault.check_in([tmp_path / "signed"], collection="leak", source="second drop")
        oids = {d.name: d.oid for d in vault.documents("leak") if d.dkim}
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        await unlock(app, pilot)
        for name, result in (("genuine.eml", "pass"), ("altered.eml", "body-altered")):
            screen = open_document(app, oids[name])
            await settle(app, pilot)
            [section] = [s for s in screen.sections if s.border_title == "DKIM evidence"]
            assert section.display
            screen.query_one("#document").scroll_to_widget(section, animate=False, top=True)
            await settle(app, pilot)
            text = screen_text(app)
            assert f"result  {result}" in text
            assert DKIM_MEANING[result][:40] in text
            await pilot.press("escape")
            await settle(app, pilot)


@pilot_test
async def test_add_a_note_and_change_tags_through_the_dialogs(
    tv: TestVault, clock: FixedClock, stored: dict[str, DocumentView]
) -> None:
    memo = stored["memo.txt"]
    app = VaultApp(tv.path, "bob", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        await unlock(app, pilot, "bob")
        screen = open_document(app, memo.oid)
        await settle(app, pilot)
        assert app.session is not None
        changes = app.session.changes
        assert "no notes and no status changes yet" in screen_text(app) + whole(screen)

        await pilot.press("n")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, NoteScreen)
        assert dialog.query_one(TextArea).has_focus
        await type_text(pilot, "called the treasurer")
        await pilot.press("enter")  # a new line, not the end of the note
        await type_text(pilot, "she confirmed")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert on_top(app, screen)

        await pilot.press("t")
        await settle(app, pilot)
        assert isinstance(app.screen, TagsScreen)
        await type_text(pilot, "finance source-a")
        await pilot.press("enter")  # on to the remove box
        await settle(app, pilot)
        await pilot.press("enter")  # save
        await settle(app, pilot)
        assert on_top(app, screen)
        assert screen.bundle is not None
        assert screen.bundle.detail.document.tags == ("finance", "source-a")

        await pilot.press("t")
        await settle(app, pilot)
        tags = app.screen
        assert isinstance(tags, TagsScreen)
        assert tags.tags == ("finance", "source-a")
        await pilot.press("enter")  # nothing to add
        await settle(app, pilot)
        await type_text(pilot, "finance")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.session.changes == changes + 3  # the browser will list again

        shown = whole(screen)
        assert "tags  source-a" in shown
        assert "bob: called the treasurer" in shown
        assert "she confirmed" in shown
    with tv.open() as vault:
        detail = vault.show(memo.oid)
    assert [(n.member, n.text) for n in detail.notes] == [
        ("bob", "called the treasurer\nshe confirmed")
    ]
    assert detail.document.tags == ("source-a",)


@pilot_test
async def test_escape_leaves_notes_and_tags_as_they_were(
    tv: TestVault, clock: FixedClock, stored: dict[str, DocumentView]
) -> None:
    memo = stored["memo.txt"]
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, (80, 24)) as pilot:
        await unlock(app, pilot)
        screen = open_document(app, memo.oid)
        await settle(app, pilot)
        for key in ("n", "t"):
            await pilot.press(key)
            await settle(app, pilot)
            await type_text(pilot, "dropped")
            await pilot.press("escape")
            await settle(app, pilot)
            assert on_top(app, screen)
    with tv.open() as vault:
        detail = vault.show(memo.oid)
    assert (detail.notes, detail.document.tags) == ((), ())


@pilot_test
async def test_legal_sees_mark_notes_and_tags_greyed_out_with_the_reason(
    tv: TestVault, clock: FixedClock, stored: dict[str, DocumentView]
) -> None:
    memo = stored["memo.txt"]
    with tv.open() as vault:
        vault.grant("leak", "carol")  # legal reads, but may not mark, note or tag
    app = VaultApp(tv.path, "carol", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        await unlock(app, pilot, "carol")
        screen = open_document(app, memo.oid)
        await settle(app, pilot)
        for action in ("mark", "note", "tags"):
            assert screen.check_action(action, ()) is None
        text = screen_text(app)
        assert "you may not mark this document, add notes or tag it: no policy permits it" in text
        for key in ("m", "n", "t"):
            await pilot.press(key)
            await settle(app, pilot)
            assert on_top(app, screen)  # no dialog


@pilot_test
async def test_a_reporter_forbidden_to_tag_still_marks_and_writes_notes(
    tv: TestVault, clock: FixedClock, stored: dict[str, DocumentView], tmp_path: Path
) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(REPO / "policies", policies, ignore=shutil.ignore_patterns("examples"))
    (policies / "no-reporter-tags.cedar").write_text(NO_REPORTER_TAGS)
    with tv.open() as vault:
        vault.apply_policies(policies)
    app = VaultApp(tv.path, "bob", clock=clock, cursor_blink=False)
    async with drive(app, (100, 30)) as pilot:
        await unlock(app, pilot, "bob")
        screen = open_document(app, stored["memo.txt"].oid)
        await settle(app, pilot)
        assert screen.check_action("tags", ()) is None
        assert screen.check_action("mark", ()) is True
        assert screen.check_action("note", ()) is True
        text = screen_text(app)
        assert "you may not tag this document: forbidden by reporters-do-not-tag" in text
        assert "you may not mark" not in text


@pilot_test
async def test_embargo_lift_time_in_its_zone(
    tv: TestVault, clock: FixedClock, stored: dict[str, DocumentView]
) -> None:
    memo, ledger = stored["memo.txt"], stored["ledger.csv"]
    with tv.open() as vault:
        until = clock.now() + timedelta(days=2, hours=3, minutes=30)
        vault.set_embargo("leak", until, zone="Europe/Paris", reason="polls close Sunday")
        vault.set_embargo(memo.oid, until + timedelta(days=1), zone="UTC", reason="source safety")
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False, idle_timeout=0)
    async with drive(app, SIZES[1]) as pilot:
        await unlock(app, pilot)
        open_document(app, ledger.oid)
        await settle(app, pilot)
        text = screen_text(app)
        assert "embargoed until" in text
        assert "(UTC+01:00) Europe/Paris" in text or "(UTC+02:00) Europe/Paris" in text
        assert "lifts in 2 d 3 h 30 min" in text
        assert "the collection's embargo, set by alice" in text
        assert "polls close Sunday" in text

        await pilot.press("escape")
        await settle(app, pilot)
        open_document(app, memo.oid)
        await settle(app, pilot)
        text = screen_text(app)
        assert "lifts in 3 d 3 h 30 min" in text  # its own, stricter embargo holds it
        assert "its own embargo" in text
        assert "source safety" in text

        clock.advance(timedelta(days=4))  # past both lift times
        await pilot.press("r")
        await settle(app, pilot)
        text = screen_text(app)
        assert "embargo lifted at" in text
        assert "lifted 20 h 30 min ago" in text


@pilot_test
async def test_document_fits_with_every_binding_in_the_footer(
    tv: TestVault, clock: FixedClock, stored: dict[str, DocumentView]
) -> None:
    app = VaultApp(tv.path, "alice", clock=clock, cursor_blink=False)
    async with drive(app, SIZES[0]) as pilot:
        await unlock(app, pilot)
        open_document(app, stored["budget.eml"].oid)
        await settle(app, pilot)
        for size in SIZES:
            await resize(pilot, size)
            lines = screen_text(app).splitlines()
            assert len(lines) == size[1]
            assert "not embargoed" in "\n".join(lines)
            for binding in ("Back", "Mark status", "Note", "Tags", "Reload", "Lock", "Quit"):
                assert binding in lines[-1], (binding, lines[-1])
