"""`vault demo`: a demo vault holding a small synthetic "campaign leak" it makes itself.

Members alice (admin, editor-in-chief), bob (reporter), carol (legal) and dave (editor) with
fixed demo passphrases; a collection of e-mails (one DKIM-signed, one altered after signing), a
spreadsheet, PDFs and a memo, one document marked as forged, two that check-in flags (a PDF with
script, a script whose name a right-to-left override disguises), under an embargo that lifts two
days after the demo is built (Europe/Paris: the polls close), and dave's release request waiting
for alice's and carol's approval. Everything is generated here: no real correspondence is used.
"""

from __future__ import annotations

import base64
import io
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from vault.clock import Clock, SystemClock
from vault.service import Vault

PASSPHRASES = {
    "alice": "alice-demo-passphrase",
    "bob": "bob-demo-passphrase",
    "carol": "carol-demo-passphrase",
    "dave": "dave-demo-passphrase",
}
ROLES = {
    "alice": ["admin", "editor-in-chief"],
    "bob": ["reporter"],
    "carol": ["legal"],
    "dave": ["editor"],
}
COLLECTION = "campaign-leak"
EMBARGO_ZONE = "Europe/Paris"
EMBARGO_REASON = "polls close; electoral silence law"


@dataclass(frozen=True)
class DemoVault:
    """What the demo made: where, who can log in, and what is inside."""

    path: Path
    members: dict[str, list[str]]
    passphrases: dict[str, str]
    collection: str
    documents: int
    forged: str
    embargo_until: datetime | None = None


def build(path: Path, *, clock: Clock | None = None) -> DemoVault:
    """Create the demo vault at `path` (which must not exist or be empty)."""
    clock = clock or SystemClock()
    vault = Vault.init(path, "alice", PASSPHRASES["alice"].encode(), clock=clock)
    try:
        for name in ("bob", "carol", "dave"):
            vault.add_member(name, ROLES[name], PASSPHRASES[name].encode())
        vault.create_collection(COLLECTION, "Mailbox and accounts dumped 44 hours before the vote")
        for name in ("bob", "carol", "dave"):
            vault.grant(COLLECTION, name)
        with tempfile.TemporaryDirectory(prefix="vault-demo-") as tmp:
            source = Path(tmp) / "dump"
            _write_leak(source)
            vault.import_dkim_keys(_signed_mail(source / "mail"))
            receipt = vault.check_in(
                [source],
                collection=COLLECTION,
                source="message board dump (demo)",
                medium="download",
            )
        forged = next(i.oid for i in receipt.items if i.path.endswith("transfer-order.txt"))
        assert forged is not None
        vault.mark(forged, "in-review", "the amount is implausible")
        vault.mark(forged, "forged", "fonts and dates do not match the genuine orders")
        # Two days from now, on the next whole minute: what the dashboard counts down to.
        lifts = clock.now().replace(second=0, microsecond=0) + timedelta(days=2, minutes=1)
        vault.set_embargo(COLLECTION, lifts, zone=EMBARGO_ZONE, reason=EMBARGO_REASON)
    finally:
        vault.close()
    # The desk editor asks for the release; alice and carol still have to approve it.
    with Vault.open(path, "dave", PASSPHRASES["dave"].encode(), clock=clock) as dave:
        dave.request_release(COLLECTION, reason="publish after the polls close")
    return DemoVault(path, ROLES, PASSPHRASES, COLLECTION, receipt.counts()["new"], forged, lifts)


def _signed_mail(folder: Path) -> str:
    """A DKIM-signed message and a copy altered after signing; returns the key archive line."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    message = EmailMessage()
    message["From"] = "treasurer@campaign.example"
    message["To"] = "candidate@campaign.example"
    message["Subject"] = "Transfer confirmed"
    message["Date"] = "Wed, 03 May 2017 18:02:00 +0200"
    message["Message-ID"] = "<demo-signed@campaign.example>"
    message.set_content("The transfer to the events agency went out today: 182,000 EUR.\n")
    body = message.as_bytes().replace(b"\n", b"\r\n")
    signature = dkim.sign(
        body,
        b"demo",
        b"campaign.example",
        pem,
        include_headers=[b"from", b"to", b"subject", b"date"],
    )
    signed = signature + body
    (folder / "signed.eml").write_bytes(signed)
    (folder / "signed-altered.eml").write_bytes(signed.replace(b"182,000", b"982,000"))
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return (
        f"demo._domainkey.campaign.example v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}\n"
    )


def _write_leak(root: Path) -> None:
    (root / "mail").mkdir(parents=True)
    (root / "accounts").mkdir()
    for index, (sender, subject, body) in enumerate(_MAILS, start=1):
        message = EmailMessage()
        message["From"] = sender
        message["To"] = "treasurer@campaign.example"
        message["Subject"] = subject
        message["Date"] = f"Tue, 0{index} May 2017 09:1{index}:00 +0200"
        message["Message-ID"] = f"<demo-{index}@campaign.example>"
        message.set_content(body)
        if index == 2:
            message.add_attachment(
                _CSV.encode(), maintype="text", subtype="csv", filename="donors.csv"
            )
        (root / "mail" / f"{index:03d}.eml").write_bytes(message.as_bytes())
    (root / "accounts" / "ledger-2017.xlsx").write_bytes(_xlsx())
    (root / "accounts" / "donors.csv").write_text(_CSV)
    (root / "accounts" / "statement.pdf").write_bytes(_pdf("Account statement April 2017"))
    (root / "memo.txt").write_text(
        "Internal memo - not for distribution\n\nThe offshore account must not appear in the "
        "filing. Pay the consultants through the events budget.\n"
    )
    (root / "accounts" / "transfer-order.txt").write_text(
        "TRANSFER ORDER 2017-0412\nAmount: 2,000,000 EUR\nTo: Bahamas holding\nSigned: treasurer\n"
    )
    # What check-in must flag: a PDF that runs script when opened, and a shell script whose
    # name a right-to-left override makes read as "paymentexe.txt".
    (root / "accounts" / "invoice-0513.pdf").write_bytes(_pdf("Invoice 0513", active=True))
    (root / "mail" / "payment\u202etxt.exe").write_text("#!/bin/sh\necho 'opened'\n")


_MAILS = [
    (
        "treasurer@campaign.example",
        "Budget for the last week",
        "The rally budget is approved. Keep receipts for the commission.",
    ),
    ("donations@campaign.example", "Donor list", "Attached is the current donor list."),
    ("press@campaign.example", "Statement draft", "Draft statement for Friday, embargoed."),
]

_CSV = "donor,amount,date\nA. Martin,7500,2017-04-02\nB. Durand,4600,2017-04-11\n"


def _pdf(text: str, *, active: bool = False) -> bytes:
    """A one-page PDF; `active` adds an OpenAction that would run (harmless) JavaScript."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    action = b" /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>" if active else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R%s >>" % action,
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def _xlsx() -> bytes:
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Ledger'
        '</t></is></c><c r="B1"><v>2017</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>'
        'Events</t></is></c><c r="B2"><v>182000</v></c></row></sheetData></worksheet>'
    )
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
        'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="'
        'application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="'
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
        'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="'
        'xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
        'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships"><sheets><sheet name="Ledger" sheetId="1" r:id="rId1"/>'
        "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="'
        'http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(zipfile.ZipInfo(name, (2017, 4, 30, 12, 0, 0)), text)
    return out.getvalue()
